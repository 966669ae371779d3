//! `stackctl status`: the real state of projects from one engine query, with
//! stale registry statuses corrected.

use std::collections::BTreeMap;

use berth::cli::Outcome;
use berth::io::{Format, OutputArgs, Row};
use berth::registry::Registry;
use berth::{Project, Status, table};
use serde::Serialize;

use crate::engine::{self, ServiceState};
use crate::{registry, select};

/// Show what runs: per project its status, per service state, health, ports.
///
/// One engine query answers for every project (containers found by their
/// compose and berth labels). Where the registry's status is stale (a
/// container died behind berth's back, a stack was started by hand) it is
/// corrected. Containers that stopped while the project was meant to run
/// show as `error`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these projects (default: every registered project).
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// Do not correct the registry.
    #[arg(long)]
    no_update: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// One project's state.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ProjectState {
    pub name: String,
    pub status: Status,
    /// What the registry said before this look.
    pub recorded: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub services: Vec<ServiceState>,
    /// The shared servers it takes (`shared`), as the engine shows them
    /// (state `absent`: not started).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<ServiceState>,
}

/// One table row per service (or per project without containers).
#[derive(Serialize)]
struct Line {
    project: String,
    status: Status,
    service: String,
    state: String,
    health: String,
    ports: String,
}

impl Line {
    fn new(p: &ProjectState, s: Option<&ServiceState>) -> Self {
        let ports = s.map_or_else(String::new, |s| {
            s.ports
                .iter()
                .map(|b| match b.published {
                    Some(pb) => format!("{}:{pb}->{}/{}", b.host_ip, b.target, b.protocol),
                    None => format!("{}/{}", b.target, b.protocol),
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        Self {
            project: p.name.clone(),
            status: p.status,
            service: s.map(|s| s.service.clone()).unwrap_or_default(),
            state: s.map_or_else(
                || "-".into(),
                |s| match s.exit_code {
                    Some(code) => format!("{} ({code})", s.state),
                    None => s.state.clone(),
                },
            ),
            health: s.and_then(|s| s.health.clone()).unwrap_or_default(),
            ports,
        }
    }
}

impl Row for Line {
    fn headers() -> &'static [&'static str] {
        &["project", "status", "service", "state", "health", "ports"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.project.clone(),
            table::paint_status(self.status.as_str()),
            self.service.clone(),
            self.state.clone(),
            self.health.clone(),
            self.ports.clone(),
        ]
    }
}

/// The states of `projects` from one engine query.
pub fn states(projects: &[Project]) -> anyhow::Result<Vec<ProjectState>> {
    let shared = shared_name();
    let mut names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
    if projects.iter().any(|p| !p.shared.is_empty()) {
        names.push(&shared);
    }
    let containers = if names.is_empty() {
        Vec::new()
    } else {
        engine::containers(&names)?
    };
    Ok(states_from(projects, &containers))
}

/// The shared services' name from config.yaml (`berth-shared` when it
/// cannot be read: status still shows the project's own services).
fn shared_name() -> String {
    berth::paths::Paths::from_env()
        .and_then(|p| berth::config::Config::load(&p))
        .map_or_else(
            |_| berth::shared::DEFAULT_NAME.to_owned(),
            |c| c.shared.name,
        )
}

pub fn states_from(
    projects: &[Project],
    containers: &[berth::docker::ContainerInfo],
) -> Vec<ProjectState> {
    let prefix = if projects.iter().any(|p| !p.shared.is_empty()) {
        shared_name()
    } else {
        String::new()
    };
    projects
        .iter()
        .map(|p| {
            let services = engine::services_of(containers, &p.name);
            let (status, reason) = engine::summarize(p.status, &services);
            let shared = p
                .shared
                .iter()
                .map(|inst| {
                    let container = format!("{prefix}-{inst}");
                    containers.iter().find(|c| c.name == container).map_or_else(
                        || ServiceState {
                            service: inst.clone(),
                            container: container.clone(),
                            state: "absent".into(),
                            health: None,
                            exit_code: None,
                            ports: Vec::new(),
                        },
                        |c| ServiceState {
                            service: inst.clone(),
                            ..ServiceState::from(c)
                        },
                    )
                })
                .collect();
            ProjectState {
                name: p.name.clone(),
                status,
                recorded: p.status,
                reason,
                services,
                shared,
            }
        })
        .collect()
}

/// Write the statuses that changed. A project whose status changed since it
/// was read (another stackctl recorded it meanwhile), or that was removed,
/// is left alone.
pub fn correct(reg: &Registry, states: &[ProjectState]) -> anyhow::Result<usize> {
    let stale: BTreeMap<&str, (Status, Status)> = states
        .iter()
        .filter(|s| s.status != s.recorded)
        .map(|s| (s.name.as_str(), (s.recorded, s.status)))
        .collect();
    if stale.is_empty() {
        return Ok(0);
    }
    reg.update(|projects| {
        let mut n = 0;
        for p in projects.iter_mut() {
            if let Some((was, now)) = stale.get(p.name.as_str())
                && p.status == *was
            {
                p.status = *now;
                n += 1;
            }
        }
        Ok((n > 0, n))
    })
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    let all = reg.load()?;
    let projects = if a.names.is_empty() {
        all
    } else {
        select(&all, &a.names)?
    };
    let states = states(&projects)?;
    if !a.no_update {
        correct(&reg, &states)?;
    }
    for s in &states {
        if let Some(why) = &s.reason {
            eprintln!("{}: {}: {why}", s.name, s.status);
        }
    }
    if states.is_empty() && a.output.format() == Format::Table {
        berth::info!("no registered projects (registry add PATH)");
        return Ok(Outcome::Clean);
    }
    // One record a project; the table has one row a service.
    berth::io::write_records(a.output.format(), &states, || {
        let rows = states
            .iter()
            .flat_map(|p| {
                let mut lines: Vec<Line> = if p.services.is_empty() {
                    vec![Line::new(p, None)]
                } else {
                    p.services.iter().map(|s| Line::new(p, Some(s))).collect()
                };
                lines.extend(p.shared.iter().map(|s| {
                    let mut l = Line::new(p, Some(s));
                    l.service = format!("{} (shared)", s.service);
                    l
                }));
                lines
            })
            .map(|l| l.cells())
            .collect();
        table::render(Line::headers(), rows)
    })?;
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("stack-status", berth::schema::of::<ProjectState>())]
}
