//! `registry export` to a file and `registry import`: the whole catalog as JSON.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use berth::Project;
use berth::cli::{Outcome, confirm};
use berth::io;
use berth::names;
use berth::paths::Paths;
use berth::registry::Registry;
use berth::store::JsonFile;

/// Load projects from JSON (what `registry export` writes).
///
/// Every project is checked before anything is written: names, duplicates,
/// ports. With --merge (the default) imported projects are added and replace
/// registered ones of the same name; with --replace the registry becomes the
/// file's contents.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The JSON file, or `-` for stdin.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Add the projects, replacing those of the same name (default).
    #[arg(long, conflicts_with = "replace")]
    merge: bool,
    /// Replace the whole registry with the file's projects.
    #[arg(long)]
    replace: bool,
    /// Do not ask before --replace (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
    /// Check the file and show what would change, write nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(_paths: &Paths, reg: &Registry, a: Args) -> anyhow::Result<Outcome> {
    let incoming: Vec<Project> = io::read_records(Some(&a.file))?.unwrap_or_default();
    let mut seen = HashSet::new();
    for p in &incoming {
        names::validate_label("project name", &p.name)
            .with_context(|| format!("in {}", a.file.display()))?;
        if !seen.insert(p.name.as_str()) {
            bail!("{}: project '{}' appears twice", a.file.display(), p.name);
        }
    }
    let current = reg.load()?;
    let replaced = incoming
        .iter()
        .filter(|p| current.iter().any(|c| c.name == p.name))
        .count();
    let summary = if a.replace {
        format!(
            "replace {} registered project(s) with {} from {}",
            current.len(),
            incoming.len(),
            a.file.display()
        )
    } else {
        format!(
            "import {} project(s), {replaced} replacing registered ones",
            incoming.len()
        )
    };
    if a.dry_run {
        eprintln!("would {summary}");
        return Ok(Outcome::Clean);
    }
    if a.replace && !current.is_empty() && !confirm(&format!("{summary}?"), a.yes)? {
        eprintln!("nothing imported");
        return Ok(Outcome::Clean);
    }
    reg.update(|projects| {
        if a.replace {
            projects.clear();
        }
        for mut p in incoming {
            // `registry add` reads exposed_ports to allocate: keep it true.
            p.refresh_exposed_ports();
            projects.retain(|c| c.name != p.name);
            projects.push(p);
        }
        Ok((true, ()))
    })?;
    eprintln!("{summary}: done");
    Ok(Outcome::Clean)
}

/// Write projects to a file atomically.
pub fn write_file(path: &Path, projects: &[Project]) -> anyhow::Result<()> {
    let file = JsonFile::new(path);
    let list = projects.to_vec();
    file.update(move |v: &mut Vec<Project>| {
        *v = list;
        Ok((true, ()))
    })
    .or_else(|_| {
        // An existing file that is not a project list: replace it all the same.
        std::fs::write(path, serde_json::to_vec_pretty(projects)?)
            .with_context(|| format!("cannot write {}", path.display()))
    })
}
