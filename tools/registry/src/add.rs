//! `registry add`: register a folder, or Project JSON from stdin.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint, warn};
use berth::config::Config;
use berth::io::{self, OutputArgs};
use berth::paths::Paths;
use berth::registry::{self, ProjectSummary, Registered, Registry};
use berth::{Project, ProjectPorts, claims, names, netstat};

use crate::{TOOL, view};

/// Register a project folder, or Project JSON with `-`.
///
/// The name defaults to the folder's name made into a DNS label. berth reads
/// the folder's compose files (with override files, `COMPOSE_FILE` and .env)
/// and records the services and the ports they publish. The HTTP port is the
/// port the web service publishes (a service named web, app, nginx, ...,
/// else one whose container port serves HTTP: 80, 8080, 8000, 3000, ...;
/// --web-service S to choose); only when none publishes one is a port
/// allocated from the configured range that no registered project claims,
/// none is reserved for another project, and nothing on this machine
/// listens on. Every field is checked before anything is written.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder, or `-` for Project JSON on stdin (an object, an array or NDJSON).
    #[arg(default_value = ".", value_name = "PATH")]
    path: PathBuf,
    /// The project's name (a DNS label: a-z, 0-9, '-').
    #[arg(long, short_alias = 'n')]
    name: Option<String>,
    /// Use this HTTP port instead of allocating one.
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// The stack the project was generated from (django, laravel, ...).
    #[arg(long, short_alias = 's')]
    stack: Option<String>,
    /// The compose service whose published port is the project's HTTP port.
    #[arg(long, value_name = "SERVICE", conflicts_with = "port")]
    web_service: Option<String>,
    #[command(flatten)]
    empty: io::EmptyArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Where a project's HTTP port came from, for messages and hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortFrom {
    /// `--port`.
    Flag,
    /// The `"port"` field of piped Project JSON.
    Json,
    /// Not given: the web service's published port, else allocated.
    Unset,
}

pub fn run(paths: &Paths, reg: &Registry, a: Args) -> anyhow::Result<Outcome> {
    let config = Config::load(paths)?;
    let mut incoming: Vec<(Project, PortFrom)> = if a.path.as_os_str() == "-" {
        let (_, mut list) = io::read_projects::<Project>(Some(&a.path), a.empty.allow_empty)?;
        if list.len() > 1 && (a.name.is_some() || a.port.is_some() || a.web_service.is_some()) {
            bail!(
                "--name, --port and --web-service apply to one project, and stdin holds {}",
                list.len()
            );
        }
        let mut out = Vec::with_capacity(list.len());
        for mut p in list.drain(..) {
            let from = if a.port.is_some() {
                PortFrom::Flag
            } else if p.port.is_some() {
                PortFrom::Json
            } else {
                PortFrom::Unset
            };
            override_fields(&mut p, &a);
            from_json(&mut p, &config)?;
            out.push((p, from));
        }
        out
    } else {
        let mut p = from_folder(&a.path, a.name.as_deref(), &config)?;
        override_fields(&mut p, &a);
        let from = if a.port.is_some() {
            PortFrom::Flag
        } else {
            PortFrom::Unset
        };
        vec![(p, from)]
    };
    for (p, from) in &mut incoming {
        if *from == PortFrom::Unset
            && let Some((service, port)) = web_port(p, a.web_service.as_deref())?
        {
            berth::info!(
                "HTTP port {port}, published by service '{service}'{}",
                if a.web_service.is_some() {
                    ""
                } else {
                    " (--web-service SERVICE picks another)"
                }
            );
            p.port = Some(port);
        }
        // Every field, as it will be stored.
        p.refresh_exposed_ports();
        p.validate(Some(&config.tld)).with_context(|| {
            if a.path.as_os_str() == "-" {
                "invalid Project JSON on stdin".to_owned()
            } else {
                format!("cannot register {}", a.path.display())
            }
        })?;
    }
    // Ports in use on this machine, read from the kernel: binding candidate
    // ports to test them would be faster, but for that instant it would hold
    // a port that a server starting elsewhere (or another add) needs.
    let system = netstat::listeners();
    let added = reg.add_with(|registered| {
        let mut batch: Vec<ProjectPorts> = Vec::new();
        let mut added = Vec::new();
        let mut warnings = Vec::new();
        for (mut p, from) in incoming {
            admit(registered, &batch, &mut p, from, &config, system.as_deref())?;
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
        berth::info!(
            "registered {} at {} (port {})",
            p.name,
            p.domain,
            p.port.unwrap_or_default()
        );
    }
    write_added(&a.output, &added)?;
    Ok(Outcome::Clean)
}

/// Nothing on stdout unless a format is asked for; JSON of one project is
/// one object (what `stackgen new --json | registry add -` pipes on).
fn write_added(output: &OutputArgs, added: &[Project]) -> anyhow::Result<()> {
    match (output.json || output.format.is_some(), added) {
        (false, _) => Ok(()),
        (true, [one]) if output.format() == io::Format::Json => {
            view::write_project(io::Format::Json, one)
        }
        (true, many) => view::write_projects(output.format(), many),
    }
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

/// Build a project from a folder and its compose files (lib's one reading
/// of a folder, which `ports scan` shares).
fn from_folder(path: &Path, name: Option<&str>, config: &Config) -> anyhow::Result<Project> {
    let scanned = registry::scan_folder(path, name)?;
    let mut p = scanned.project;
    report(&p, &scanned.notes);
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
                p.path.display().to_string().escape_debug()
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
    let notes = registry::scan_into(p)?;
    report(p, &notes);
    Ok(())
}

/// Say what the scan of a folder noticed.
fn report(p: &Project, notes: &registry::Notes) {
    if p.compose_files.is_empty() {
        warn(
            TOOL,
            format!(
                "no compose file in {}; registering the folder alone",
                p.path.display()
            ),
        );
    }
    notes.print(TOOL);
}

/// Check a new project against the registry (under its lock), the ports
/// reserved for other projects and the projects added before it in the
/// same call, and allocate its port.
fn admit(
    reg: &Registered<'_>,
    batch: &[ProjectPorts],
    p: &mut Project,
    from: PortFrom,
    config: &Config,
    system: Option<&[netstat::Listener]>,
) -> anyhow::Result<()> {
    let registered: &[ProjectSummary<'_>] = &reg.summaries;
    let reserved: Vec<(&str, u16)> = registry::held_by_others(&reg.reservations, &p.name).collect();
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
        let hint = match from {
            PortFrom::Flag => "leave out --port to get a free one".to_owned(),
            PortFrom::Json => {
                format!("the Project JSON sets \"port\": {port}; drop that field to get a free one")
            }
            // The web service's own published port: shared, and warned about below.
            PortFrom::Unset => String::new(),
        };
        if from != PortFrom::Unset {
            if let Some(owner) = owner {
                return Err(error_with_hint(
                    format!("port {port} is already claimed by project '{owner}'"),
                    hint,
                ));
            }
            if let Some((holder, _)) = reserved.iter().find(|(_, r)| *r == port) {
                return Err(error_with_hint(
                    format!(
                        "port {port} is reserved for project '{holder}', which is being created (for at most {} minutes)",
                        registry::RESERVATION_TTL.as_mins()
                    ),
                    hint,
                ));
            }
        }
    } else {
        // Ports of this batch, ports reserved for other projects and the
        // project's own published ports are not free either.
        let mut also: Vec<u16> = batch.iter().flat_map(claims::project_ports).collect();
        also.extend(reserved.iter().map(|(_, port)| *port));
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

/// Services whose names say they serve the app over HTTP, best first.
const WEB_NAMES: &[&str] = &[
    "web", "app", "nginx", "caddy", "httpd", "apache", "frontend", "server", "proxy", "http",
];

/// Container ports that serve HTTP, best first.
const HTTP_TARGETS: &[u16] = &[
    80, 8080, 8000, 3000, 5000, 4000, 8888, 5173, 4200, 443, 8443,
];

/// The service whose published TCP port is the project's HTTP port, and
/// that port: `chosen` (an error when it publishes none), else a service
/// named like a web server, else one whose container port serves HTTP.
/// Web tools (adminer, mailpit) have their own hostnames and never count.
/// `None` when no service fits.
fn web_port(p: &Project, chosen: Option<&str>) -> anyhow::Result<Option<(String, u16)>> {
    let published = |service: &str| -> Vec<&berth::PortBinding> {
        p.service_ports
            .iter()
            .filter(|b| {
                b.service == service && b.protocol == berth::Protocol::Tcp && b.published.is_some()
            })
            .collect()
    };
    let best = |service: &str| -> Option<u16> {
        let ports = published(service);
        HTTP_TARGETS
            .iter()
            .find_map(|t| ports.iter().find(|b| b.target == *t))
            .or(ports.first())
            .and_then(|b| b.published)
    };
    if let Some(s) = chosen {
        if !p.services.iter().any(|x| x == s) && published(s).is_empty() {
            return Err(error_with_hint(
                format!("--web-service {s}: the project has no service '{s}'"),
                format!("services: {}", p.services.join(", ")),
            ));
        }
        return match best(s) {
            Some(port) => Ok(Some((s.to_owned(), port))),
            None => Err(error_with_hint(
                format!("--web-service {s}: service '{s}' publishes no TCP port"),
                "publish its port in the compose file, or leave out --web-service",
            )),
        };
    }
    let mut services: Vec<&str> = Vec::new();
    for b in &p.service_ports {
        if !services.contains(&b.service.as_str())
            && !berth::sites::WEB_TOOLS
                .iter()
                .any(|t| t.service == b.service)
        {
            services.push(&b.service);
        }
    }
    let by_name = WEB_NAMES
        .iter()
        .find_map(|n| services.iter().find(|s| **s == *n && best(s).is_some()));
    let by_target = || {
        services.iter().find(|s| {
            published(s)
                .iter()
                .any(|b| HTTP_TARGETS.contains(&b.target))
        })
    };
    Ok(by_name
        .or_else(by_target)
        .and_then(|s| best(s).map(|port| ((*s).to_owned(), port))))
}
