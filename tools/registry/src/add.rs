//! `registry add`: register a folder, or Project JSON from stdin.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint, warn};
use berth::config::Config;
use berth::io::{self, OutputArgs};
use berth::paths::Paths;
use berth::registry::{ProjectSummary, Registry};
use berth::{Project, ProjectPorts, claims, compose, names, netstat};

use crate::{TOOL, view};

/// Register a project folder, or Project JSON with `-`.
///
/// The name defaults to the folder's name made into a DNS label. berth reads
/// the folder's compose files (with override files, `COMPOSE_FILE` and .env),
/// records the services and the ports they publish, and allocates an HTTP
/// port from the configured range that no registered project claims and
/// nothing on this machine listens on.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder, or `-` for Project JSON on stdin (an object, an array or NDJSON).
    #[arg(default_value = ".", value_name = "PATH")]
    path: PathBuf,
    /// The project's name (a DNS label: a-z, 0-9, '-').
    #[arg(long, short)]
    name: Option<String>,
    /// Use this HTTP port instead of allocating one.
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// The stack the project was generated from (django, laravel, ...).
    #[arg(long, short)]
    stack: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(paths: &Paths, reg: &Registry, a: Args) -> anyhow::Result<Outcome> {
    let config = Config::load(paths)?;
    let incoming = if a.path.as_os_str() == "-" {
        let mut list: Vec<Project> = io::read_records(Some(&a.path))?.unwrap_or_default();
        if list.is_empty() {
            bail!("no Project JSON on stdin");
        }
        if list.len() > 1 && (a.name.is_some() || a.port.is_some()) {
            bail!(
                "--name and --port apply to one project, and stdin holds {}",
                list.len()
            );
        }
        for p in &mut list {
            override_fields(p, &a);
            from_json(p, &config)?;
        }
        list
    } else {
        let mut p = from_folder(&a.path, a.name.as_deref(), &config)?;
        override_fields(&mut p, &a);
        vec![p]
    };
    for p in &incoming {
        names::validate_label("project name", &p.name)?;
        if let Some(stack) = &p.stack {
            names::validate_label("stack name", stack)?;
        }
    }
    // Ports in use on this machine, read from the kernel: binding candidate
    // ports to test them would be faster, but for that instant it would hold
    // a port that a server starting elsewhere (or another add) needs.
    let system = netstat::listeners();
    let added = reg.add_with(|registered| {
        let mut batch: Vec<ProjectPorts> = Vec::new();
        let mut added = Vec::new();
        let mut warnings = Vec::new();
        for mut p in incoming {
            admit(
                &registered.summaries,
                &batch,
                &mut p,
                &config,
                system.as_deref(),
            )?;
            // Full port lists only of the projects that share a port with this one.
            let mine: Vec<u16> = claims::project_claims(&p).map(|c| c.port).collect();
            let sharing: Vec<ProjectPorts> = registered
                .summaries
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    s.port
                        .iter()
                        .chain(&s.exposed_ports)
                        .any(|port| mine.contains(port))
                })
                .map(|(i, _)| registered.ports_of(i))
                .collect::<anyhow::Result<_>>()?;
            warnings.extend(shared_ports(&sharing, &p));
            batch.push(ProjectPorts::from(&p));
            added.push(p);
        }
        Ok((added.clone(), (added, warnings)))
    })?;
    let (added, warnings) = added;
    for w in warnings {
        warn(TOOL, w);
    }
    for p in &added {
        eprintln!(
            "registered {} at {} (port {})",
            p.name,
            p.domain,
            p.port.unwrap_or_default()
        );
    }
    if a.output.is_json() && added.len() == 1 {
        view::write_project(a.output.format(), &added[0])?;
    } else if a.output.is_json() {
        view::write_projects(a.output.format(), &added)?;
    }
    Ok(Outcome::Clean)
}

fn override_fields(p: &mut Project, a: &Args) {
    if let Some(n) = &a.name {
        p.name.clone_from(n);
    }
    if a.port.is_some() {
        p.port = a.port;
    }
    if a.stack.is_some() {
        p.stack.clone_from(&a.stack);
    }
}

/// Build a project from a folder and its compose files.
fn from_folder(path: &Path, name: Option<&str>, config: &Config) -> anyhow::Result<Project> {
    let dir = std::fs::canonicalize(path)
        .with_context(|| format!("project folder {} does not exist", path.display()))?;
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
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
                "pass --name NAME",
            )
        })?
    };
    names::validate_label("project name", &name)?;
    let mut p = Project {
        name,
        path: dir,
        ..Project::default()
    };
    apply_scan(&mut p)?;
    p.domain = crate::domain(config, &p.name);
    Ok(p)
}

/// Fill in a project read from JSON: path made absolute, compose scanned when
/// the JSON names no services, domain from the TLD.
fn from_json(p: &mut Project, config: &Config) -> anyhow::Result<()> {
    names::validate_label("project name", &p.name)?;
    if !p.path.as_os_str().is_empty() {
        p.path = std::fs::canonicalize(&p.path).with_context(|| {
            format!(
                "project '{}': folder {} does not exist",
                p.name,
                p.path.display()
            )
        })?;
        if p.services.is_empty() {
            apply_scan(p)?;
        }
    }
    if p.domain.is_empty() {
        p.domain = crate::domain(config, &p.name);
    }
    Ok(())
}

/// Read the project folder's compose files into the project.
pub fn apply_scan(p: &mut Project) -> anyhow::Result<()> {
    let scan = compose::scan_dir(&p.path)
        .with_context(|| format!("cannot read the compose files of '{}'", p.name))?;
    if scan.compose_files.is_empty() {
        warn(
            TOOL,
            format!(
                "no compose file in {}; registering the folder alone",
                p.path.display()
            ),
        );
    }
    for w in &scan.warnings {
        warn(TOOL, w);
    }
    for s in &scan.inactive {
        eprintln!("note: service '{s}' is behind an inactive profile and not counted");
    }
    p.compose_files = scan.compose_files;
    p.services = scan.services;
    p.service_ports = scan.service_ports;
    Ok(())
}

/// Check a new project against the registry (under its lock) and the
/// projects added before it in the same call, and allocate its port.
fn admit(
    registered: &[ProjectSummary<'_>],
    batch: &[ProjectPorts],
    p: &mut Project,
    config: &Config,
    system: Option<&[netstat::Listener]>,
) -> anyhow::Result<()> {
    let names_paths = || {
        registered
            .iter()
            .map(|s| (s.name.as_ref(), Path::new(s.path.as_ref())))
            .chain(batch.iter().map(|b| (b.name.as_str(), b.path.as_path())))
    };
    if let Some((_, path)) = names_paths().find(|(n, _)| *n == p.name) {
        return Err(error_with_hint(
            format!(
                "project '{}' is already registered (folder {})",
                p.name,
                path.display()
            ),
            format!(
                "pick another --name, or `registry update {}` to rescan it",
                p.name
            ),
        ));
    }
    if !p.path.as_os_str().is_empty()
        && let Some((name, _)) =
            names_paths().find(|(_, path)| path.as_os_str() == p.path.as_os_str())
    {
        return Err(error_with_hint(
            format!(
                "folder {} is already registered as '{name}'",
                p.path.display()
            ),
            format!("`registry update {name}` rescans it"),
        ));
    }
    if let Some(port) = p.port {
        let owner = registered
            .iter()
            .find(|o| claims::project_ports(*o).any(|p| p == port))
            .map(|o| o.name.to_string())
            .or_else(|| {
                batch
                    .iter()
                    .find(|o| claims::project_ports(*o).any(|p| p == port))
                    .map(|o| o.name.clone())
            });
        if let Some(owner) = owner {
            return Err(error_with_hint(
                format!("port {port} is already claimed by project '{owner}'"),
                "leave out --port to get a free one",
            ));
        }
    } else {
        // Ports of this batch and the project's own published ports are not free either.
        let mut also: Vec<u16> = batch.iter().flat_map(claims::project_ports).collect();
        also.extend(p.service_ports.iter().filter_map(|b| b.published));
        let port = claims::allocate(config.port_range, 1, registered, &also, system)
            .first()
            .copied();
        p.port = Some(port.ok_or_else(|| {
            error_with_hint(
                format!(
                    "no free port left in {}-{}",
                    config.port_range.start, config.port_range.end
                ),
                "widen port_range in config.yaml",
            )
        })?);
    }
    p.refresh_exposed_ports();
    p.registered_at = Some(berth::Timestamp::now());
    p.last_updated = p.registered_at;
    Ok(())
}

/// Ports the project shares with registered projects: each as a warning line.
pub fn shared_ports(projects: &[ProjectPorts], p: &Project) -> Vec<String> {
    let mine: std::collections::HashSet<u16> = claims::project_claims(p).map(|c| c.port).collect();
    let mut set: Vec<ProjectPorts> = projects
        .iter()
        .filter(|o| o.name != p.name && claims::project_claims(*o).any(|c| mine.contains(&c.port)))
        .cloned()
        .collect();
    set.push(ProjectPorts::from(p));
    claims::find_conflicts(&set, claims::CheckOptions::default(), None)
        .into_iter()
        .filter(|c| c.claims.iter().any(|c| c.project == p.name))
        .map(|c| {
            let others: Vec<String> = c
                .claims
                .iter()
                .filter(|o| o.project != p.name)
                .map(|o| format!("{}/{}", o.project, o.service))
                .collect();
            format!(
                "port {}/{} is also claimed by {}; they cannot run at once",
                c.port,
                c.protocol,
                others.join(", ")
            )
        })
        .collect()
}
