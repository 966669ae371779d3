//! The registry of projects: one JSON file in the data folder, read freely,
//! changed under the store's lock.

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::model::Project;
use crate::paths::Paths;
use crate::store::JsonFile;

/// Version of the registry file format.
pub const FORMAT_VERSION: u32 = 1;

/// What the registry file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RegistryFile {
    #[serde(default)]
    pub version: u32,
    #[serde(default)]
    pub projects: Vec<Project>,
}

/// Access to the registry of one berth installation.
#[derive(Debug, Clone)]
pub struct Registry {
    file: JsonFile,
}

impl Registry {
    pub fn open(paths: &Paths) -> Self {
        Self { file: JsonFile::new(paths.registry()) }
    }

    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// Every project, sorted by name.
    pub fn load(&self) -> anyhow::Result<Vec<Project>> {
        let file: RegistryFile = self.file.read()?.unwrap_or_default();
        check_version(&file, self)?;
        Ok(file.projects)
    }

    /// Change the projects under the lock; `change` returns `(write, result)`.
    /// Projects are kept sorted by name.
    pub fn update<R>(&self, change: impl FnOnce(&mut Vec<Project>) -> anyhow::Result<(bool, R)>) -> anyhow::Result<R> {
        self.file.update(|file: &mut RegistryFile| {
            check_version(file, self)?;
            let (write, r) = change(&mut file.projects)?;
            if write {
                file.version = FORMAT_VERSION;
                file.projects.sort_by(|a, b| a.name.cmp(&b.name));
            }
            Ok((write, r))
        })
    }
}

fn check_version(file: &RegistryFile, reg: &Registry) -> anyhow::Result<()> {
    if file.version > FORMAT_VERSION {
        bail!(
            "{} has format version {}, newer than this berth understands ({FORMAT_VERSION}); upgrade berth",
            reg.path().display(),
            file.version
        );
    }
    Ok(())
}

/// Find a project by name, with an error that names it and a hint.
pub fn find<'a>(projects: &'a [Project], name: &str) -> anyhow::Result<&'a Project> {
    projects.iter().find(|p| p.name == name).ok_or_else(|| not_found(name))
}

/// Mutable variant of [`find`].
pub fn find_mut<'a>(projects: &'a mut [Project], name: &str) -> anyhow::Result<&'a mut Project> {
    projects.iter_mut().find(|p| p.name == name).ok_or_else(|| not_found(name))
}

fn not_found(name: &str) -> anyhow::Error {
    crate::cli::error_with_hint(format!("no project named '{name}' in the registry"), "see `registry list` for the names")
}
