//! Where berth keeps things: state in `$XDG_DATA_HOME/berth`, config in
//! `$XDG_CONFIG_HOME/berth/config.yaml`; `BERTH_HOME` overrides both.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use etcetera::BaseStrategy as _;

/// The folders of one berth installation.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Shared state: the registry, the CA, caches.
    pub data: PathBuf,
    /// User configuration.
    pub config: PathBuf,
}

impl Paths {
    /// Resolve from the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        if let Some(home) = std::env::var_os("BERTH_HOME").filter(|v| !v.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Self {
                data: home.clone(),
                config: home,
            });
        }
        let xdg = etcetera::base_strategy::Xdg::new()
            .context("cannot find the home folder (set HOME or BERTH_HOME)")?;
        Ok(Self {
            data: xdg.data_dir().join("berth"),
            config: xdg.config_dir().join("berth"),
        })
    }

    /// Paths rooted in one folder, as `BERTH_HOME` gives.
    pub fn in_folder(home: &Path) -> Self {
        Self {
            data: home.to_path_buf(),
            config: home.to_path_buf(),
        }
    }

    pub fn registry(&self) -> PathBuf {
        self.data.join("registry.json")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.yaml")
    }
}
