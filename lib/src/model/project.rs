//! Project: one registry entry, the unit every tool works on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PortBinding;

/// What the registry last knew of a project's stack.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Stopped,
    Error,
    #[default]
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Error => "error",
            Status::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(Status::Running),
            "stopped" => Ok(Status::Stopped),
            "error" => Ok(Status::Error),
            "unknown" => Ok(Status::Unknown),
            other => Err(format!(
                "unknown status '{other}' (expected running, stopped, error or unknown)"
            )),
        }
    }
}

/// A registered local project.
///
/// Every field but `name` has a default, so partial objects (what `stackgen
/// new --json` emits) deserialize; unknown fields are ignored.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Project {
    pub name: String,
    #[serde(default)]
    pub path: PathBuf,
    /// Name plus dev TLD, e.g. `shop.test`.
    #[serde(default)]
    pub domain: String,
    /// The allocated HTTP port.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub stack: Option<String>,
    #[serde(default)]
    pub compose_files: Vec<PathBuf>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub service_ports: Vec<PortBinding>,
    /// Every host port the project publishes, the HTTP port included.
    #[serde(default)]
    pub exposed_ports: Vec<u16>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The shared services (`shared`) it takes its databases, cache or mail
    /// from, by instance name (`postgres`, `redis`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<String>,
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub registered_at: Option<Timestamp>,
    #[serde(default)]
    pub last_started: Option<Timestamp>,
    #[serde(default)]
    pub last_updated: Option<Timestamp>,
}

/// The fields of a Project that port checks need. Parsing into it skips the
/// rest, which makes reading ten thousand projects several times cheaper.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectPorts {
    pub name: String,
    #[serde(default)]
    pub path: PathBuf,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub service_ports: Vec<PortBinding>,
    #[serde(default)]
    pub exposed_ports: Vec<u16>,
    #[serde(default)]
    pub status: Status,
}

impl From<&Project> for ProjectPorts {
    fn from(p: &Project) -> Self {
        Self {
            name: p.name.clone(),
            path: p.path.clone(),
            port: p.port,
            service_ports: p.service_ports.clone(),
            exposed_ports: p.exposed_ports.clone(),
            status: p.status,
        }
    }
}

impl Project {
    /// Recompute `exposed_ports` from the HTTP port and the published service ports.
    pub fn refresh_exposed_ports(&mut self) {
        let mut ports: Vec<u16> = self
            .service_ports
            .iter()
            .filter_map(|b| b.published)
            .chain(self.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        self.exposed_ports = ports;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_object_with_unknown_fields_deserializes() {
        let p: Project =
            serde_json::from_str(r#"{"name":"shop","future_field":{"x":1},"status":"running"}"#)
                .unwrap();
        assert_eq!(p.name, "shop");
        assert_eq!(p.status, Status::Running);
        assert!(p.service_ports.is_empty());
    }

    #[test]
    fn serializes_every_contract_field() {
        let v = serde_json::to_value(Project {
            name: "a".into(),
            ..Project::default()
        })
        .unwrap();
        for key in [
            "name",
            "path",
            "domain",
            "port",
            "stack",
            "compose_files",
            "services",
            "service_ports",
            "exposed_ports",
            "environment",
            "status",
            "registered_at",
            "last_started",
            "last_updated",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
    }
}
