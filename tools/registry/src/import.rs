//! `registry export` to a file and `registry import`: the whole catalog as JSON.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use berth::Project;
use berth::cli::{Outcome, confirm};
use berth::config::Config;
use berth::io;
use berth::names;
use berth::paths::Paths;
use berth::registry::Registry;

/// Load projects from JSON (what `registry export` writes).
///
/// Every project is checked before anything is written: every field (as
/// `registry add` checks it), duplicates. A file without a project is an
/// error unless --allow-empty (with --replace it would empty the registry). With --merge (the default) imported projects are added and replace
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
    #[command(flatten)]
    empty: io::EmptyArgs,
}

pub fn run(paths: &Paths, reg: &Registry, a: Args) -> anyhow::Result<Outcome> {
    let config = Config::load(paths)?;
    let (origin, mut incoming) = io::read_projects::<Project>(Some(&a.file), a.empty.allow_empty)?;
    let mut seen = HashSet::with_capacity(incoming.len());
    for p in &mut incoming {
        if p.domain.is_empty() && names::validate_label("project name", &p.name).is_ok() {
            p.domain = crate::domain(&config, &p.name);
        }
        // `registry add` reads exposed_ports to allocate: keep it true.
        p.refresh_exposed_ports();
        p.validate(Some(&config.tld))
            .with_context(|| format!("invalid project in {origin}"))?;
        if !seen.insert(p.name.clone()) {
            bail!("{origin}: project '{}' appears twice", p.name);
        }
    }
    let current = reg.load()?;
    let replaced = current.iter().filter(|c| seen.contains(&c.name)).count();
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
        io::write_text(&format!("would {summary}\n"))?;
        return Ok(Outcome::Clean);
    }
    if a.replace && !current.is_empty() && !confirm(&format!("{summary}?"), a.yes)? {
        berth::info!("nothing imported");
        return Ok(Outcome::Clean);
    }
    reg.update(|projects| {
        if a.replace {
            projects.clear();
        } else {
            // One pass, not one per imported project.
            projects.retain(|c| !seen.contains(&c.name));
        }
        projects.extend(incoming);
        Ok((true, ()))
    })?;
    berth::info!("{summary}: done");
    Ok(Outcome::Clean)
}
