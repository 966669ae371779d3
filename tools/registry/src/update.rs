//! `registry update`: rescan a project's folder, show what changed, apply it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth::cli::{Outcome, confirm, error_with_hint, warn};
use berth::io::{self, JsonArgs};
use berth::paths::Paths;
use berth::registry::{self, Registry};
use berth::{PortBinding, Project, Protocol, Status};
use serde::Serialize;

use crate::TOOL;

/// Rescan a project's folder and apply what changed.
///
/// Shows services added and removed, ports added, removed and changed, and
/// compose files gone or new; warns when the project is running and when a
/// new port collides with a running project; then asks before applying
/// (`--yes` when not on a terminal) and sets `last_updated`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project's name.
    name: String,
    /// Show what changed, apply nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
    #[command(flatten)]
    output: JsonArgs,
}

/// One difference between the registry and the folder.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "change", rename_all = "kebab-case")]
enum Change {
    ComposeFileGone { file: PathBuf },
    ComposeFileAdded { file: PathBuf },
    ServiceAdded { service: String },
    ServiceRemoved { service: String },
    PortAdded { binding: PortBinding },
    PortRemoved { binding: PortBinding },
    PortChanged { from: PortBinding, to: PortBinding },
}

fn show_binding(b: &PortBinding) -> String {
    let published = b.published.map_or_else(|| "*".into(), |p| p.to_string());
    format!(
        "{} {}:{}->{}/{}",
        b.service, b.host_ip, published, b.target, b.protocol
    )
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::ComposeFileGone { file } => {
                write!(f, "- compose file {} (gone)", file.display())
            }
            Change::ComposeFileAdded { file } => write!(f, "+ compose file {}", file.display()),
            Change::ServiceAdded { service } => write!(f, "+ service {service}"),
            Change::ServiceRemoved { service } => write!(f, "- service {service}"),
            Change::PortAdded { binding } => write!(f, "+ port {}", show_binding(binding)),
            Change::PortRemoved { binding } => write!(f, "- port {}", show_binding(binding)),
            Change::PortChanged { from, to } => write!(
                f,
                "~ port {} (was {})",
                show_binding(to),
                show_binding(from)
            ),
        }
    }
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Serialize)]
struct Report<'a> {
    project: &'a str,
    changes: &'a [Change],
    applied: bool,
}

type PortKey = (String, u16, Protocol);

fn by_key(ports: &[PortBinding]) -> BTreeMap<PortKey, &PortBinding> {
    ports
        .iter()
        .map(|b| ((b.service.clone(), b.target, b.protocol), b))
        .collect()
}

fn diff(old: &Project, new: &Project) -> Vec<Change> {
    let mut out = Vec::new();
    for f in old
        .compose_files
        .iter()
        .filter(|f| !new.compose_files.contains(f))
    {
        out.push(Change::ComposeFileGone { file: f.clone() });
    }
    for f in new
        .compose_files
        .iter()
        .filter(|f| !old.compose_files.contains(f))
    {
        out.push(Change::ComposeFileAdded { file: f.clone() });
    }
    for s in new.services.iter().filter(|s| !old.services.contains(s)) {
        out.push(Change::ServiceAdded { service: s.clone() });
    }
    for s in old.services.iter().filter(|s| !new.services.contains(s)) {
        out.push(Change::ServiceRemoved { service: s.clone() });
    }
    let (before, after) = (by_key(&old.service_ports), by_key(&new.service_ports));
    for (k, b) in &after {
        match before.get(k) {
            None => out.push(Change::PortAdded {
                binding: (*b).clone(),
            }),
            Some(a) if a != b => out.push(Change::PortChanged {
                from: (*a).clone(),
                to: (*b).clone(),
            }),
            Some(_) => {}
        }
    }
    for (k, b) in &before {
        if !after.contains_key(k) {
            out.push(Change::PortRemoved {
                binding: (*b).clone(),
            });
        }
    }
    out
}

pub fn run(_paths: &Paths, reg: &Registry, a: Args) -> anyhow::Result<Outcome> {
    let projects = reg.load()?;
    let old = registry::find(&projects, &a.name)?;
    if !old.path.is_dir() {
        return Err(error_with_hint(
            format!(
                "cannot rescan '{}': its folder {} is gone",
                old.name,
                old.path.display()
            ),
            format!("move the folder back, or `registry remove {}`", old.name),
        ));
    }
    let mut new = old.clone();
    crate::add::apply_scan(&mut new)?;
    new.refresh_exposed_ports();
    let changes = diff(old, &new);
    let json = a.output.is_json();
    if changes.is_empty() {
        if json {
            io::write_json(&Report {
                project: &old.name,
                changes: &changes,
                applied: false,
            })?;
        } else {
            berth::info!("{}: up to date", old.name);
        }
        return Ok(Outcome::Clean);
    }
    if !json {
        let lines: Vec<String> = changes.iter().map(|c| format!("  {c}\n")).collect();
        io::write_text(&format!("{}:\n{}", old.name, lines.concat()))?;
    }
    if old.status == Status::Running {
        warn(
            TOOL,
            format!(
                "'{}' is running; the changes take effect when it restarts",
                old.name
            ),
        );
    }
    let running: Vec<berth::ProjectPorts> = projects
        .iter()
        .filter(|p| p.status == Status::Running && p.name != old.name)
        .map(berth::ProjectPorts::from)
        .collect();
    for w in crate::add::shared_ports(&running, &new) {
        warn(TOOL, format!("{w} (running now)"));
    }
    let applied = !a.dry_run && confirm(&format!("apply these changes to '{}'?", old.name), a.yes)?;
    if applied {
        reg.update_project(&a.name, |cur| {
            if cur != old {
                return Err(error_with_hint(
                    format!(
                        "'{}' changed in the registry while it was rescanned",
                        a.name
                    ),
                    "run the update again",
                ));
            }
            cur.compose_files.clone_from(&new.compose_files);
            cur.services.clone_from(&new.services);
            cur.service_ports.clone_from(&new.service_ports);
            cur.refresh_exposed_ports();
            cur.last_updated = Some(berth::Timestamp::now());
            Ok((true, ()))
        })?;
    }
    if json {
        io::write_json(&Report {
            project: &old.name,
            changes: &changes,
            applied,
        })?;
    } else if applied {
        berth::info!("{}: {} change(s) applied", old.name, changes.len());
    } else if !a.dry_run {
        berth::info!("nothing applied");
    }
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("registry-update", berth::schema::of::<Report<'static>>())]
}
