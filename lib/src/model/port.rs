//! `PortBinding`: one host port a service publishes (or asks the engine to pick).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Transport protocol of a port.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            other => Err(format!("unknown protocol '{other}' (expected tcp or udp)")),
        }
    }
}

/// The unbound host address: what a port without an IP binds to.
pub const UNSPECIFIED: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

fn unspecified() -> IpAddr {
    UNSPECIFIED
}

/// One published (or engine-assigned) port of a service.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortBinding {
    pub service: String,
    /// `0.0.0.0` when the port is not bound to an address.
    #[serde(default = "unspecified")]
    pub host_ip: IpAddr,
    /// Host port; `None` when the engine picks one.
    #[serde(default)]
    pub published: Option<u16>,
    /// Container port.
    pub target: u16,
    #[serde(default)]
    pub protocol: Protocol,
}

impl PortBinding {
    /// Whether two host addresses can collide on the same port: equal, or either unspecified.
    pub fn ips_overlap(a: IpAddr, b: IpAddr) -> bool {
        a == b || a.is_unspecified() || b.is_unspecified()
    }
}
