//! Conflict: one host port claimed more than once.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Protocol;

/// Where a claim on a port comes from.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimSource {
    /// A registered project publishes the port.
    Registry,
    /// Something on this machine listens on it right now.
    System,
}

/// One claim on a host port.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The project's name; for a system claim, the process when known, else `""`.
    pub project: String,
    /// The service; for a system claim, the process name when known.
    pub service: String,
    pub source: ClaimSource,
    /// The host address of this claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<IpAddr>,
    /// For a system claim, the process id when it can be known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

/// A host port claimed by more than one project, service or process.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub port: u16,
    pub protocol: Protocol,
    /// The widest address among the claims (`0.0.0.0` when any claim is unbound).
    pub host_ip: IpAddr,
    pub claims: Vec<Claim>,
}
