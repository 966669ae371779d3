//! A Project built from a project folder (or one compose file in it): the one
//! reading of a folder that `registry add`/`update` and `ports scan`/`check`
//! share, so the same folder gives the same project in every tool.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::{error_with_hint, warn};
use crate::compose;
use crate::model::Project;
use crate::names;

/// A project read from a folder, and what the reading has to say about it.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    /// Name, canonical path, compose files, services and published ports;
    /// the fields the registry fills in (domain, port, times) are left empty.
    pub project: Project,
    pub notes: Notes,
}

/// What a scan of compose files noticed, for the tool to print.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    /// Things compose would warn about (unset variables).
    pub warnings: Vec<String>,
    /// Services behind a profile that is not active: noted, not counted.
    pub inactive: Vec<String>,
}

impl Notes {
    /// Print the warnings and notes on stderr in the tool's voice.
    pub fn print(&self, tool: &str) {
        for w in &self.warnings {
            warn(tool, w);
        }
        for s in &self.inactive {
            crate::info!("note: service '{s}' is behind an inactive profile and not counted");
        }
    }
}

/// The project in folder `path`: named `name`, else the folder's name made
/// into a DNS label; its compose files (with override files, `COMPOSE_FILE`
/// and `.env`), services and published ports. A folder without a compose
/// file gives a project without services (`project.compose_files` empty).
pub fn scan_folder(path: &Path, name: Option<&str>) -> anyhow::Result<Scanned> {
    let dir = canonical_folder(path)?;
    let mut project = Project {
        name: project_name(&dir, name)?,
        path: dir,
        ..Project::default()
    };
    let notes = scan_into(&mut project)?;
    Ok(Scanned { project, notes })
}

/// The project of one compose file: its folder is the project folder (named
/// as in [`scan_folder`]) and `.env` there interpolates the file.
pub fn scan_compose_file(file: &Path, name: Option<&str>) -> anyhow::Result<Scanned> {
    if !file.exists() {
        bail!("{} does not exist", file.display());
    }
    let parent = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = canonical_folder(parent)?;
    // The file in the canonical folder, as a folder scan names it.
    let file = file
        .file_name()
        .map_or_else(|| file.to_path_buf(), |n| dir.join(n));
    let env = compose::Env::for_dir(&dir)?;
    let c = compose::load_files(&[file], &env)?;
    let project = Project {
        name: project_name(&dir, name)?,
        compose_files: c.files.iter().map(|f| lexical(f)).collect(),
        services: c.services.iter().map(|s| s.name.clone()).collect(),
        service_ports: c.ports().cloned().collect(),
        path: dir,
        ..Project::default()
    };
    let notes = Notes {
        warnings: c.warnings,
        inactive: c.inactive,
    };
    Ok(Scanned { project, notes })
}

/// Read the compose files of `p.path` (a folder) into the project's
/// `compose_files`, `services` and `service_ports`.
pub fn scan_into(p: &mut Project) -> anyhow::Result<Notes> {
    let scan = compose::scan_dir(&p.path)
        .with_context(|| format!("cannot read the compose files of '{}'", p.name))?;
    // `COMPOSE_FILE=./compose.yaml:../shared.yaml` names files as paths
    // relative to the folder: stored without `.` and `..`.
    p.compose_files = scan.compose_files.iter().map(|f| lexical(f)).collect();
    p.services = scan.services;
    p.service_ports = scan.service_ports;
    Ok(Notes {
        warnings: scan.warnings,
        inactive: scan.inactive,
    })
}

fn canonical_folder(path: &Path) -> anyhow::Result<PathBuf> {
    let dir = std::fs::canonicalize(path)
        .with_context(|| format!("project folder {} does not exist", path.display()))?;
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    Ok(dir)
}

/// `name` checked, else the folder's name made into a DNS label.
fn project_name(dir: &Path, name: Option<&str>) -> anyhow::Result<String> {
    let name = if let Some(n) = name {
        n.to_owned()
    } else {
        let base = dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        names::to_label(&base).ok_or_else(|| {
            error_with_hint(
                format!("cannot make a project name from folder '{base}'"),
                "rename the folder, or name the project: registry add PATH --name NAME",
            )
        })?
    };
    names::validate_label("project name", &name)?;
    Ok(name)
}

/// A path with `.` and `..` taken out by their meaning as text (no
/// symbolic link is followed).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(compose: &str) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("compose.yaml"), compose).unwrap();
        root
    }

    #[test]
    fn a_folder_and_its_compose_file_give_one_project() {
        let root = folder(
            "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n  db:\n    image: postgres\n",
        );
        let by_folder = scan_folder(root.path(), Some("shop")).unwrap().project;
        let by_file = scan_compose_file(&root.path().join("compose.yaml"), Some("shop"))
            .unwrap()
            .project;
        assert_eq!(by_folder.name, "shop");
        assert_eq!(by_folder.path, std::fs::canonicalize(root.path()).unwrap());
        assert_eq!(by_folder.services, ["web", "db"]);
        assert_eq!(by_folder.service_ports.len(), 1);
        assert_eq!(by_folder.service_ports[0].published, Some(8080));
        assert_eq!(
            serde_json::to_value(&by_folder).unwrap(),
            serde_json::to_value(&by_file).unwrap()
        );
    }

    #[test]
    fn a_folder_without_compose_is_a_project_without_services() {
        let root = tempfile::tempdir().unwrap();
        let p = scan_folder(root.path(), Some("empty")).unwrap().project;
        assert!(p.compose_files.is_empty() && p.services.is_empty());
    }

    #[test]
    fn names_come_from_the_folder_or_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let shop = root.path().join("My_Shop.v2");
        let bad = root.path().join("___");
        std::fs::create_dir(&shop).unwrap();
        std::fs::create_dir(&bad).unwrap();
        assert_eq!(scan_folder(&shop, None).unwrap().project.name, "my-shop-v2");
        let e = scan_folder(&bad, None).unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot make a project name"),
            "{e:#}"
        );
        assert!(scan_folder(&shop, Some("Not A Label")).is_err());
        let missing = scan_folder(&root.path().join("nope"), None).unwrap_err();
        assert!(
            format!("{missing:#}").contains("does not exist"),
            "{missing:#}"
        );
    }

    #[test]
    fn lexical_takes_dots_out() {
        assert_eq!(lexical(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
