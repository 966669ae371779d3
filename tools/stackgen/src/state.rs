//! `.berth/stackgen.json`: what stackgen generated in a project (stack,
//! services, published ports, the `.env` lines it appended), so later
//! commands regenerate berth's own files and take back exactly what they added.
//! It holds no secret values.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::envfile::Appended;

pub const STATE_FILE: &str = ".berth/stackgen.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub name: String,
    pub stack: String,
    #[serde(default)]
    pub tld: String,
    pub app_port: u16,
    #[serde(default)]
    pub services: Vec<String>,
    /// The catalog service of each instance that is not its service's
    /// default (`analytics-db` -> `postgres`); the others are their service.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instances: BTreeMap<String, String>,
    /// Published ports per service: (host port on 127.0.0.1, container port).
    #[serde(default)]
    pub published: BTreeMap<String, Vec<(u16, u16)>>,
    /// What was appended to `.env` per service.
    #[serde(default)]
    pub env: BTreeMap<String, Appended>,
    /// The secrets stackgen generated: name -> kind (values are in the
    /// secrets store, or in `.env` under `secrets: plain`). Tools read the
    /// names to tell which `.env` variables are secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
    /// The app's base image given to `new --base-image` (none: the stack's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
}

impl State {
    /// Take the names of removed services' secrets (`gone`) out of the
    /// state, except those still needed (`kept`). Their values stay in the
    /// store: a kept data volume still needs its password.
    pub fn forget_secrets(
        &mut self,
        gone: &std::collections::BTreeSet<String>,
        kept: &BTreeMap<String, String>,
    ) {
        self.secrets
            .retain(|k, _| kept.contains_key(k) || !gone.contains(k));
    }

    pub fn to_text(&self) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    /// Read a project's state; a folder without one is not a stackgen project.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(berth::cli::error_with_hint(
                    format!(
                        "{} is not a stackgen project: {STATE_FILE} does not exist",
                        dir.display()
                    ),
                    "run `stackgen new STACK NAME --mode existing --dir DIR` first, or pass --dir",
                ));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_str(&text)
            .with_context(|| format!("invalid state file {}", path.display()))
    }
}
