//! The registry of projects: one JSON file in the data folder, read freely,
//! changed under the store's lock.

use std::io::Write;

use anyhow::bail;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::model::{Project, ProjectPorts};
use crate::paths::Paths;
use crate::store::JsonFile;

/// Version of the registry file format.
pub const FORMAT_VERSION: u32 = 1;

/// What the registry file holds: `{"version": 1, "projects": [...]}`, the
/// projects sorted by name.
#[derive(Debug, Serialize, Deserialize)]
pub struct RegistryFile<P = Project> {
    #[serde(default)]
    pub version: u32,
    #[serde(default = "Vec::new")]
    pub projects: Vec<P>,
}

impl<P> Default for RegistryFile<P> {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            projects: Vec::new(),
        }
    }
}

/// The registry file with each project left as its raw JSON text.
type RawFile<'a> = RegistryFile<&'a RawValue>;

/// Access to the registry of one berth installation.
#[derive(Debug, Clone)]
pub struct Registry {
    file: JsonFile,
}

impl Registry {
    pub fn open(paths: &Paths) -> Self {
        Self {
            file: JsonFile::new(paths.registry()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// Every project, sorted by name.
    pub fn load(&self) -> anyhow::Result<Vec<Project>> {
        let file: RegistryFile = self.file.read()?.unwrap_or_default();
        check_version(file.version, self)?;
        Ok(file.projects)
    }

    /// Every project's port fields only: several times cheaper than [`Registry::load`].
    pub fn load_ports(&self) -> anyhow::Result<Vec<ProjectPorts>> {
        let file: RegistryFile<ProjectPorts> = self.file.read()?.unwrap_or_default();
        check_version(file.version, self)?;
        Ok(file.projects)
    }

    /// Write every project as a JSON array (or NDJSON) straight from the
    /// file's bytes, checked but not decoded into models.
    pub fn write_raw(&self, out: &mut impl Write, ndjson: bool) -> anyhow::Result<()> {
        let bytes = self.file.read_bytes()?.unwrap_or_default();
        let file: RawFile<'_> = if bytes.is_empty() {
            RawFile::default()
        } else {
            self.file.parse(&bytes)?
        };
        check_version(file.version, self)?;
        if ndjson {
            for p in &file.projects {
                out.write_all(p.get().as_bytes())?;
                out.write_all(b"\n")?;
            }
            return Ok(());
        }
        out.write_all(b"[")?;
        for (i, p) in file.projects.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(p.get().as_bytes())?;
        }
        out.write_all(b"]\n")?;
        Ok(())
    }

    /// Add projects without decoding the registered ones into full models:
    /// `admit` sees their port fields and returns the projects to insert. The
    /// registered projects' JSON is copied through unchanged.
    pub fn add_with<R>(
        &self,
        admit: impl FnOnce(&[ProjectPorts]) -> anyhow::Result<(Vec<Project>, R)>,
    ) -> anyhow::Result<R> {
        self.file.update_bytes(|bytes| {
            let file: RawFile<'_> = match bytes {
                Some(b) => self.file.parse(b)?,
                None => RawFile::default(),
            };
            check_version(file.version, self)?;
            let views = file
                .projects
                .iter()
                .map(|raw| self.file.parse::<ProjectPorts>(raw.get().as_bytes()))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (mut added, result) = admit(&views)?;
            added.sort_by(|a, b| a.name.cmp(&b.name));
            let new: Vec<(String, String)> = added
                .iter()
                .map(|p| Ok((p.name.clone(), serde_json::to_string(p)?)))
                .collect::<anyhow::Result<_>>()?;
            let mut out = Vec::with_capacity(
                bytes.map_or(0, <[u8]>::len)
                    + new.iter().map(|(_, j)| j.len() + 1).sum::<usize>()
                    + 64,
            );
            write!(out, "{{\"version\":{FORMAT_VERSION},\"projects\":[")?;
            let mut first = true;
            let mut put = |out: &mut Vec<u8>, json: &str| {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(json.as_bytes());
            };
            let mut pending = new.iter().peekable();
            for (view, raw) in views.iter().zip(&file.projects) {
                while let Some((name, json)) =
                    pending.next_if(|(n, _)| n.as_str() < view.name.as_str())
                {
                    debug_assert_ne!(name, &view.name);
                    put(&mut out, json);
                }
                put(&mut out, raw.get());
            }
            for (_, json) in pending {
                put(&mut out, json);
            }
            out.extend_from_slice(b"]}\n");
            Ok((Some(out), result))
        })
    }

    /// Change the projects under the lock; `change` returns `(write, result)`.
    /// Projects are kept sorted by name.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut Vec<Project>) -> anyhow::Result<(bool, R)>,
    ) -> anyhow::Result<R> {
        self.file.update(|file: &mut RegistryFile| {
            check_version(file.version, self)?;
            let (write, r) = change(&mut file.projects)?;
            if write {
                file.version = FORMAT_VERSION;
                file.projects.sort_by(|a, b| a.name.cmp(&b.name));
            }
            Ok((write, r))
        })
    }
}

fn check_version(version: u32, reg: &Registry) -> anyhow::Result<()> {
    if version > FORMAT_VERSION {
        bail!(
            "{} has format version {version}, newer than this berth understands ({FORMAT_VERSION}); upgrade berth",
            reg.path().display(),
        );
    }
    Ok(())
}

/// Find a project by name, with an error that names it and a hint.
pub fn find<'a>(projects: &'a [Project], name: &str) -> anyhow::Result<&'a Project> {
    projects
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| not_found(name))
}

/// Mutable variant of [`find`].
pub fn find_mut<'a>(projects: &'a mut [Project], name: &str) -> anyhow::Result<&'a mut Project> {
    projects
        .iter_mut()
        .find(|p| p.name == name)
        .ok_or_else(|| not_found(name))
}

fn not_found(name: &str) -> anyhow::Error {
    crate::cli::error_with_hint(
        format!("no project named '{name}' in the registry"),
        "see `registry list` for the names",
    )
}
