//! `config.yaml`: the port range, the dev TLD, where backups go. Every key is
//! optional; unknown keys are ignored so older tools read newer files.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Deserializer};

use crate::paths::Paths;

/// An inclusive range of host ports, written `A-B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn iter(self) -> RangeInclusive<u16> {
        self.start..=self.end
    }
}

impl Default for PortRange {
    fn default() -> Self {
        Self {
            start: 5000,
            end: 5999,
        }
    }
}

impl FromStr for PortRange {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let (a, b) = s
            .split_once('-')
            .with_context(|| format!("invalid port range '{s}': expected A-B, e.g. 5000-5999"))?;
        let parse = |p: &str| -> anyhow::Result<u16> {
            match p.trim().parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
                _ => bail!("invalid port range '{s}': '{p}' is not a port (1-65535)"),
            }
        };
        let (start, end) = (parse(a)?, parse(b)?);
        if start > end {
            bail!("invalid port range '{s}': start is above end");
        }
        Ok(Self { start, end })
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: anyhow::Error| serde::de::Error::custom(e))
    }
}

/// The user's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where HTTP ports are allocated from.
    pub port_range: PortRange,
    /// The development top-level domain.
    pub tld: String,
    /// Where backups go; relative paths are taken inside each project.
    pub backup_dir: PathBuf,
    /// A folder of the user's own templates (stacks, CI).
    pub templates: Option<PathBuf>,
    /// Names besides the reserved TLDs that are private here (a company's
    /// internal domain): certgen's CA may sign for them without --allow-public-tld.
    pub reserved_tlds: Vec<String>,
    /// Image references replaced by others in what berth generates
    /// (`python:3.12-slim: mirror.local/python:3.12-slim`): a mirror, an
    /// offline copy, the test bed's own images.
    pub images: BTreeMap<String, String>,
    /// The container engine: `docker`, `podman` or `auto` (the default:
    /// whichever socket is found). `BERTH_ENGINE` overrides it.
    pub engine: crate::runtime::Choice,
    /// Where generated secrets live: `store` (berth's encrypted secrets
    /// store, the default) or `plain` (values in each project's `.env`, as
    /// berth kept them before the store).
    pub secrets: SecretsMode,
    /// The shared services (`shared`): which servers and versions run.
    pub shared: crate::shared::SharedConfig,
}

/// `secrets:` in config.yaml.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretsMode {
    /// In the encrypted store; `.env` holds the names only.
    #[default]
    Store,
    /// In `.env`, in plain text (0600): nothing is moved into the store.
    Plain,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port_range: PortRange::default(),
            tld: "test".into(),
            backup_dir: PathBuf::from(".berth/backups"),
            templates: None,
            reserved_tlds: Vec::new(),
            images: BTreeMap::new(),
            secrets: SecretsMode::Store,
            engine: crate::runtime::Choice::Auto,
            shared: crate::shared::SharedConfig::default(),
        }
    }
}

/// Check an image reference (`name[:tag][@digest]`): not empty, no spaces or
/// control characters, no leading `-` (it reaches docker's argv and files).
pub fn check_image_ref(what: &str, reference: &str) -> anyhow::Result<()> {
    if reference.is_empty()
        || reference.len() > 255
        || reference.starts_with('-')
        || reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '\'' | '$'))
    {
        bail!(
            "invalid {what} '{}': expected an image reference such as python:3.12-slim",
            reference.escape_debug()
        );
    }
    Ok(())
}

impl Config {
    /// The image to use for `reference`: its `images:` mapping, or itself.
    pub fn image<'a>(&'a self, reference: &'a str) -> &'a str {
        self.images.get(reference).map_or(reference, String::as_str)
    }

    /// Check every `images:` entry, naming the config file on error.
    pub fn check_images(&self, paths: &Paths) -> anyhow::Result<()> {
        for (from, to) in &self.images {
            check_image_ref("image in `images:`", from)
                .and_then(|()| check_image_ref(&format!("image for '{from}' in `images:`"), to))
                .with_context(|| format!("invalid config {}", paths.config_file().display()))?;
        }
        Ok(())
    }
}

impl Config {
    /// Read `config.yaml`; a missing file gives the defaults, a broken one an error naming it.
    pub fn load(paths: &Paths) -> anyhow::Result<Self> {
        let file = paths.config_file();
        let Some(crate::fsread::Text { text, .. }) =
            crate::fsread::read_text(&file, None, crate::fsread::TEXT_LIMIT)?
        else {
            return Ok(Self::default());
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let config: Self = yaml_serde::from_str(&text)
            .with_context(|| format!("invalid config {}", file.display()))?;
        crate::names::validate_label("dev TLD in config", &config.tld)
            .with_context(|| file.display().to_string())?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            "6000-6010".parse::<PortRange>().unwrap(),
            PortRange {
                start: 6000,
                end: 6010
            }
        );
        for bad in ["6000", "0-10", "10-5", "1-70000", "a-b"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn config_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.yaml"),
            "port_range: 7000-7099\ntld: dev\nnew_key: 1\n",
        )
        .unwrap();
        let c = Config::load(&Paths::in_folder(dir.path())).unwrap();
        assert_eq!(
            c.port_range,
            PortRange {
                start: 7000,
                end: 7099
            }
        );
        assert_eq!(c.tld, "dev");
        assert_eq!(c.secrets, SecretsMode::Store);
        std::fs::write(dir.path().join("config.yaml"), "secrets: plain\n").unwrap();
        let c = Config::load(&Paths::in_folder(dir.path())).unwrap();
        assert_eq!(c.secrets, SecretsMode::Plain);
        std::fs::write(dir.path().join("config.yaml"), "secrets: vault\n").unwrap();
        assert!(Config::load(&Paths::in_folder(dir.path())).is_err());
        assert_eq!(c.engine, crate::runtime::Choice::Auto);
        std::fs::write(dir.path().join("config.yaml"), "engine: podman\n").unwrap();
        let c = Config::load(&Paths::in_folder(dir.path())).unwrap();
        assert_eq!(c.engine, crate::runtime::Choice::Podman);
        std::fs::write(dir.path().join("config.yaml"), "engine: lxc\n").unwrap();
        let err = format!(
            "{:#}",
            Config::load(&Paths::in_folder(dir.path())).unwrap_err()
        );
        assert!(err.contains("config.yaml") && err.contains("lxc"), "{err}");
        std::fs::write(dir.path().join("config.yaml"), "port_range: [1\n").unwrap();
        let err = format!(
            "{:#}",
            Config::load(&Paths::in_folder(dir.path())).unwrap_err()
        );
        assert!(err.contains("config.yaml"), "{err}");
        std::fs::remove_file(dir.path().join("config.yaml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("config.yaml")).unwrap();
        let err = format!(
            "{:#}",
            Config::load(&Paths::in_folder(dir.path())).unwrap_err()
        );
        assert!(err.contains("a device"), "{err}");
    }

    #[test]
    fn images_map_references_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_folder(dir.path());
        std::fs::write(
            dir.path().join("config.yaml"),
            "images:\n  python:3.12-slim: mirror.local/python:3.12-slim\n  redis:7: mirror.local/redis:7\n",
        )
        .unwrap();
        let c = Config::load(&paths).unwrap();
        c.check_images(&paths).unwrap();
        assert_eq!(c.image("python:3.12-slim"), "mirror.local/python:3.12-slim");
        assert_eq!(c.image("redis:7"), "mirror.local/redis:7");
        assert_eq!(c.image("postgres:16"), "postgres:16");
        for bad in ["", "-x", "a b", "x$y", "a\nb"] {
            assert!(check_image_ref("image", bad).is_err(), "{bad:?}");
        }
        std::fs::write(
            dir.path().join("config.yaml"),
            "images:\n  redis:7: \"a b\"\n",
        )
        .unwrap();
        let err = format!(
            "{:#}",
            Config::load(&paths)
                .unwrap()
                .check_images(&paths)
                .unwrap_err()
        );
        assert!(
            err.contains("config.yaml") && err.contains("'a b'"),
            "{err}"
        );
    }
}
