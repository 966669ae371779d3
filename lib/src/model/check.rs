//! The one validator of registry entries: every field of a Project, checked
//! the same way on every way in (`registry add`, `add -`, `import`) and when
//! the registry's files are read back (a bad entry is reported, not served).

use std::path::{Component, Path};

use anyhow::{Context as _, bail};

use super::{PortBinding, Project, ProjectPorts};
use crate::names::validate_label;
use crate::sites::validate_hostname;

/// Longest path the registry stores.
const MAX_PATH: usize = 4096;

/// A registry entry that can be checked: [`Project`] whole, or the port
/// fields of one ([`ProjectPorts`]) for readers that parse no more.
pub trait Checked {
    /// The entry's name, as stored (for messages; escape before showing).
    fn entry_name(&self) -> &str;
    /// Check every field this type holds.
    fn check(&self) -> anyhow::Result<()>;
}

impl Checked for Project {
    fn entry_name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> anyhow::Result<()> {
        self.validate(None)
    }
}

impl Checked for ProjectPorts {
    fn entry_name(&self) -> &str {
        &self.name
    }
    fn check(&self) -> anyhow::Result<()> {
        let what = || format!("project '{}'", self.name.escape_debug());
        validate_label("project name", &self.name)?;
        check_path("path", &self.path, false).with_context(what)?;
        check_ports(self.port, &self.service_ports, &self.exposed_ports).with_context(what)
    }
}

impl Project {
    /// Check every field. With `tld`, the domain must lie under `.TLD` (what
    /// berth writes); without, it must be a hostname (for files read back,
    /// whose TLD the configuration may since have changed).
    pub fn validate(&self, tld: Option<&str>) -> anyhow::Result<()> {
        validate_label("project name", &self.name)?;
        self.validate_fields(tld)
            .with_context(|| format!("project '{}'", self.name))
    }

    fn validate_fields(&self, tld: Option<&str>) -> anyhow::Result<()> {
        if self.domain.is_empty() {
            bail!("domain is empty");
        }
        validate_hostname("domain", &self.domain)?;
        if !self.domain.contains('.') {
            bail!(
                "domain '{}' has no TLD (expected NAME.TLD)",
                self.domain.escape_debug()
            );
        }
        if let Some(tld) = tld
            && !self
                .domain
                .strip_suffix(tld)
                .is_some_and(|rest| rest.ends_with('.'))
        {
            bail!(
                "domain '{}' is outside the dev TLD '.{tld}'",
                self.domain.escape_debug()
            );
        }
        if let Some(stack) = &self.stack {
            validate_label("stack name", stack)?;
        }
        check_path("path", &self.path, false)?;
        for f in &self.compose_files {
            check_path("compose file", f, true)?;
        }
        for s in &self.services {
            check_service(s)?;
        }
        check_ports(self.port, &self.service_ports, &self.exposed_ports)?;
        for (k, v) in &self.environment {
            check_env_key(k)?;
            if let Some(c) = v.chars().find(|c| c.is_control() && *c != '\t') {
                bail!("environment variable {k}: value holds control character {c:?}");
            }
        }
        Ok(())
    }
}

/// A path the registry stores: absolute, without `.` or `..` components,
/// without control characters. Empty is allowed unless `required`.
fn check_path(what: &str, path: &Path, required: bool) -> anyhow::Result<()> {
    let raw = path.as_os_str();
    if raw.is_empty() {
        if required {
            bail!("{what} is empty");
        }
        return Ok(());
    }
    let shown = path.to_string_lossy();
    let shown = shown.escape_debug();
    if raw.len() > MAX_PATH {
        bail!("{what} is longer than {MAX_PATH} bytes");
    }
    let Some(text) = path.to_str() else {
        bail!("{what} '{shown}' is not UTF-8");
    };
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        bail!("{what} '{shown}' holds control character {c:?}");
    }
    if !path.is_absolute() {
        bail!("{what} '{shown}' is not absolute");
    }
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        || text.split('/').any(|part| part == "." || part == "..")
    {
        bail!("{what} '{shown}' holds '.' or '..'");
    }
    Ok(())
}

/// A compose service name: `[a-zA-Z0-9._-]`, 1 to 63, starting with a letter or digit.
fn check_service(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        bail!(
            "invalid service name '{}': use a-z, A-Z, 0-9, '.', '_' and '-', 1 to 63, starting with a letter or digit",
            name.escape_debug()
        );
    }
    Ok(())
}

/// An environment variable name: letters, digits and '_', not starting with a digit.
pub fn check_env_key(key: &str) -> anyhow::Result<()> {
    let mut chars = key.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if !ok {
        bail!(
            "invalid variable name '{}': use letters, digits and '_', not starting with a digit",
            key.escape_debug()
        );
    }
    Ok(())
}

/// Ports: none is 0, and every service port names a valid service.
fn check_ports(port: Option<u16>, bindings: &[PortBinding], exposed: &[u16]) -> anyhow::Result<()> {
    if port == Some(0) {
        bail!("port 0 is not a port (1 to 65535, or leave the field out)");
    }
    for b in bindings {
        check_service(&b.service)?;
        if b.published == Some(0) || b.target == 0 {
            bail!(
                "service '{}': port 0 is not a port (published {:?}, target {})",
                b.service,
                b.published,
                b.target
            );
        }
    }
    if exposed.contains(&0) {
        bail!("exposed_ports holds 0, which is not a port");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Project {
        Project {
            name: "shop".into(),
            domain: "shop.test".into(),
            path: "/home/u/shop".into(),
            port: Some(5000),
            ..Project::default()
        }
    }

    #[test]
    #[allow(clippy::too_many_lines)] // a table of cases
    fn a_good_project_passes_and_every_bad_field_is_named() {
        good().validate(Some("test")).unwrap();
        Project {
            domain: "api.shop.test".into(),
            ..good()
        }
        .validate(Some("test"))
        .unwrap();
        let cases: Vec<(Project, &str)> = vec![
            (
                Project {
                    domain: "example.com".into(),
                    ..good()
                },
                "outside the dev TLD",
            ),
            (
                Project {
                    domain: "*.test".into(),
                    ..good()
                },
                "character '*'",
            ),
            (
                Project {
                    domain: "a.test\nb.test".into(),
                    ..good()
                },
                "character '\\n'",
            ),
            (
                Project {
                    domain: "{x}.test".into(),
                    ..good()
                },
                "character '{'",
            ),
            (
                Project {
                    domain: "\u{1b}]0;pwned\u{7}.test".into(),
                    ..good()
                },
                "character '\\u{1b}'",
            ),
            (
                Project {
                    domain: "shop".into(),
                    ..good()
                },
                "no TLD",
            ),
            (
                Project {
                    domain: String::new(),
                    ..good()
                },
                "domain is empty",
            ),
            (
                Project {
                    port: Some(0),
                    ..good()
                },
                "port 0",
            ),
            (
                Project {
                    path: "/a/../etc".into(),
                    ..good()
                },
                "'..'",
            ),
            (
                Project {
                    path: "/a/b\nc".into(),
                    ..good()
                },
                "control character",
            ),
            (
                Project {
                    path: "rel/x".into(),
                    ..good()
                },
                "not absolute",
            ),
            (
                Project {
                    compose_files: vec!["/a/./c.yaml".into()],
                    ..good()
                },
                "'.' or '..'",
            ),
            (
                Project {
                    services: vec!["we b".into()],
                    ..good()
                },
                "invalid service name",
            ),
            (
                Project {
                    exposed_ports: vec![0],
                    ..good()
                },
                "exposed_ports",
            ),
            (
                Project {
                    stack: Some("Dj".into()),
                    ..good()
                },
                "stack name",
            ),
            (
                Project {
                    environment: [("1X".into(), "v".into())].into(),
                    ..good()
                },
                "variable name",
            ),
            (
                Project {
                    environment: [("X".into(), "a\u{1b}[2J".into())].into(),
                    ..good()
                },
                "control character",
            ),
            (
                Project {
                    name: "a\u{1b}b".into(),
                    ..good()
                },
                "project name",
            ),
        ];
        let mut failures = Vec::new();
        for (p, why) in &cases {
            match p.validate(Some("test")) {
                Ok(()) => failures.push(format!("{p:?}: accepted")),
                Err(e) if !format!("{e:#}").contains(why) => {
                    failures.push(format!("{p:?}: {e:#} lacks {why:?}"));
                }
                Err(_) => {}
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Without a TLD (files read back) only the hostname is checked.
        Project {
            domain: "shop.dev".into(),
            ..good()
        }
        .validate(None)
        .unwrap();
        assert!(
            Project {
                domain: "*.test".into(),
                ..good()
            }
            .validate(None)
            .is_err()
        );
    }
}
