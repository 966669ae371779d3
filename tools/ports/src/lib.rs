//! `ports`: host ports of local projects: scan compose files, find ports
//! claimed twice, allocate free ones, say who holds a port.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint};
use berth::config::{Config, PortRange};
use berth::io::{self, Format, JsonArgs, OutputArgs, Row};
use berth::paths::Paths;
use berth::registry::{self, Registry};
use berth::{
    Claim, ClaimSource, Conflict, PortBinding, Project, ProjectPorts, Protocol, Status, claims,
    compose, names, netstat, table,
};
use clap::{Parser, Subcommand};
use serde::Serialize;

const TOOL: &str = "ports";

/// Host ports of local projects: scan, check, allocate, probe.
///
/// `ports` reads what projects publish (from compose files, or Project JSON
/// from `registry list --json`) and reports every host port claimed twice:
/// same protocol, overlapping address (0.0.0.0 and :: overlap everything,
/// 127.0.0.1 and 127.0.0.2 do not).
#[derive(Debug, Parser)]
#[command(
    name = "ports",
    version,
    after_long_help = "\
Examples:
  registry list --json | ports check       conflicts among registered projects
  ports check --running --probe            what would stop a start right now
  ports scan ~/code/shop                   what a compose setup publishes
  ports alloc --count 3                    three free ports from the range
  ports free 5432 || ports who 5432        who holds a port

Exit status:
  0 success, nothing found (no conflict; the port is free);
  1 something found (a conflict; the port is taken);
  2 an error (bad usage, bad input, I/O)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Scan(ScanArgs),
    Check(CheckArgs),
    Alloc(AllocArgs),
    Free(FreeArgs),
    Usage(UsageArgs),
    Who(WhoArgs),
}

/// Show the ports compose files or project folders publish.
#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// Compose files or project folders (default: the current folder).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Report every host port claimed more than once.
///
/// Reads Projects from stdin (or FILE, or `-`), from the registry with
/// --registry (the default when no INPUT is given and stdin is a terminal
/// or carries nothing), or scans compose files and project folders given as
/// paths. An input without a project is an error (exit 2) unless
/// --allow-empty: a check of nothing is not a pass.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Project JSON (`-` for stdin), compose files or project folders.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Check the registered projects.
    #[arg(long, conflicts_with = "inputs")]
    registry: bool,
    /// Only projects whose status is running (the rule for startup).
    #[arg(long)]
    running: bool,
    /// Also report ports something on this machine listens on now.
    #[arg(long)]
    probe: bool,
    #[command(flatten)]
    empty: io::EmptyArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Print free ports from a range: claimed by no project, unused on this machine.
#[derive(Debug, clap::Args)]
struct AllocArgs {
    /// The range, A-B (default: `port_range` from config.yaml, else 5000-5999).
    #[arg(long, value_name = "A-B")]
    range: Option<PortRange>,
    /// How many ports.
    #[arg(long, short_alias = 'n', default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    count: u16,
    /// Reserve the ports for project NAME (not registered yet) in the same
    /// step, under the registry's lock: no other allocation hands them out
    /// until `registry add` registers NAME, or for 10 minutes.
    #[arg(long, value_name = "NAME")]
    claim: Option<String>,
    #[command(flatten)]
    output: JsonArgs,
}

/// Exit 0 when PORT is free, 1 when a project claims it or something listens on it.
#[derive(Debug, clap::Args)]
struct FreeArgs {
    #[arg(value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    #[arg(long, default_value = "tcp")]
    protocol: Protocol,
    #[command(flatten)]
    output: JsonArgs,
}

/// List every claimed host port with its projects.
#[derive(Debug, clap::Args)]
struct UsageArgs {
    #[command(flatten)]
    output: OutputArgs,
}

/// Show which projects, services and processes claim PORT.
#[derive(Debug, clap::Args)]
struct WhoArgs {
    #[arg(value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    #[command(flatten)]
    output: OutputArgs,
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(a) => scan(&a),
        Command::Check(a) => check(&a),
        Command::Alloc(a) => alloc(&a),
        Command::Free(a) => free(&a),
        Command::Usage(a) => usage(&a),
        Command::Who(a) => who(&a),
    }
}

/// The registered projects' port fields.
fn registry_projects() -> anyhow::Result<Vec<ProjectPorts>> {
    Registry::open(&Paths::from_env()?).load_ports()
}

/// A port a scan found, with the project (folder) it belongs to.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Scanned {
    project: String,
    #[serde(flatten)]
    binding: PortBinding,
}

impl Row for Scanned {
    fn headers() -> &'static [&'static str] {
        &[
            "project",
            "service",
            "host_ip",
            "published",
            "target",
            "protocol",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let b = &self.binding;
        vec![
            self.project.clone(),
            b.service.clone(),
            b.host_ip.to_string(),
            b.published.map_or_else(|| "*".into(), |p| p.to_string()),
            b.target.to_string(),
            b.protocol.to_string(),
        ]
    }
}

/// Read a compose file or project folder into a Project: lib's one reading
/// of a folder, the one `registry add` makes. A folder without a compose
/// file is an error here: it publishes nothing to scan or check.
fn project_from_path(path: &Path) -> anyhow::Result<Project> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    let scanned = if path.is_dir() {
        let s = registry::scan_folder(path, None)?;
        if s.project.compose_files.is_empty() {
            return Err(error_with_hint(
                format!("no compose file in {}", s.project.path.display()),
                format!(
                    "looked for {} or COMPOSE_FILE",
                    compose::CANDIDATES.join(", ")
                ),
            ));
        }
        s
    } else {
        registry::scan_compose_file(path, None)?
    };
    scanned.notes.print(TOOL);
    Ok(scanned.project)
}

fn scan(a: &ScanArgs) -> anyhow::Result<Outcome> {
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths.clone()
    };
    let mut rows = Vec::new();
    for path in &paths {
        let p = project_from_path(path)?;
        rows.extend(p.service_ports.into_iter().map(|binding| Scanned {
            project: p.name.clone(),
            binding,
        }));
    }
    io::write_list(a.output.format(), &rows)?;
    Ok(Outcome::Clean)
}

fn check_input(a: &CheckArgs) -> anyhow::Result<Vec<ProjectPorts>> {
    let allow_empty = a.empty.allow_empty;
    if a.registry {
        let reg = Registry::open(&Paths::from_env()?);
        let projects = reg.load_valid()?;
        let origin = io::Origin::Registry(reg.path().to_path_buf());
        io::require_some(&origin, projects.len(), allow_empty)?;
        return Ok(projects);
    }
    if a.inputs.is_empty() {
        return Ok(io::read_projects(None, allow_empty)?.1);
    }
    let mut projects = Vec::new();
    for input in &a.inputs {
        let is_json = input.as_os_str() == "-"
            || input
                .extension()
                .is_some_and(|e| e == "json" || e == "ndjson");
        if is_json {
            // Each JSON input must hold projects: one empty file among
            // several is as much a mistake as one alone.
            projects.extend(io::read_projects::<ProjectPorts>(Some(input), allow_empty)?.1);
        } else {
            projects.push(ProjectPorts::from(&project_from_path(input)?));
        }
    }
    Ok(projects)
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Serialize)]
#[serde(transparent)]
struct ConflictRow(Conflict);

fn show_claim(c: &Claim) -> String {
    let ip = c.host_ip.map(|ip| format!(" ({ip})")).unwrap_or_default();
    match c.source {
        ClaimSource::Registry => format!("{}/{}{ip}", c.project, c.service),
        ClaimSource::System => {
            let pid = c.pid.map(|p| format!("[{p}]")).unwrap_or_default();
            format!("system: {}{pid}{ip}", c.service)
        }
    }
}

impl Row for ConflictRow {
    fn headers() -> &'static [&'static str] {
        &["port", "protocol", "host_ip", "claims"]
    }
    fn cells(&self) -> Vec<String> {
        let c = &self.0;
        vec![
            c.port.to_string(),
            c.protocol.to_string(),
            c.host_ip.to_string(),
            c.claims
                .iter()
                .map(show_claim)
                .collect::<Vec<_>>()
                .join(", "),
        ]
    }
}

fn check(a: &CheckArgs) -> anyhow::Result<Outcome> {
    let projects = check_input(a)?;
    for p in &projects {
        names::validate_label("project name", &p.name)?;
    }
    let system = if a.probe {
        Some(netstat::listeners().context(
            "cannot read the ports in use on this machine (sock_diag netlink, /proc/net)",
        )?)
    } else {
        None
    };
    let conflicts = claims::find_conflicts(
        &projects,
        claims::CheckOptions {
            running_only: a.running,
        },
        system.as_deref(),
    );
    let format = a.output.format();
    if conflicts.is_empty() && format == Format::Table {
        berth::info!("no conflicts among {} project(s)", projects.len());
    } else {
        let rows: Vec<ConflictRow> = conflicts.iter().cloned().map(ConflictRow).collect();
        io::write_list(format, &rows)?;
    }
    // Ten thousand projects take longer to free than the process to exit.
    std::mem::forget(projects);
    Ok(if conflicts.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

fn alloc(a: &AllocArgs) -> anyhow::Result<Outcome> {
    let paths = Paths::from_env()?;
    let range = match a.range {
        Some(r) => r,
        None => Config::load(&paths)?.port_range,
    };
    let reg = Registry::open(&paths);
    let system = netstat::listeners();
    let name = a.claim.as_deref().unwrap_or_default();
    // Nothing is reserved unless every port asked for is found.
    let pick = |projects: &[ProjectPorts], held: &[berth::registry::Reservation]| {
        if a.claim.is_some() && projects.iter().any(|p| p.name == name) {
            return Err(error_with_hint(
                format!("--claim {name}: project '{name}' is registered already"),
                "a claim holds ports for a project about to be registered",
            ));
        }
        let reserved: Vec<u16> = berth::registry::held_by_others(held, name)
            .map(|(_, p)| p)
            .collect();
        let ports = claims::allocate(
            range,
            usize::from(a.count),
            projects,
            &reserved,
            system.as_deref(),
        );
        if ports.len() < usize::from(a.count) {
            return Err(error_with_hint(
                format!(
                    "only {} free port(s) in {}-{}, {} asked for",
                    ports.len(),
                    range.start,
                    range.end,
                    a.count
                ),
                "pass a wider --range",
            ));
        }
        Ok(ports)
    };
    let ports = if a.claim.is_some() {
        reg.reserve(name, pick)?
    } else {
        pick(&reg.load_ports()?, &reg.reservations()?)?
    };
    if a.output.is_json() {
        io::write_json(&ports)?;
    } else {
        let text: Vec<String> = ports.iter().map(ToString::to_string).collect();
        io::write_text(&(text.join("\n") + "\n"))?;
    }
    Ok(Outcome::Clean)
}

/// One claim on a port, as `usage` and `who` list them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Use {
    port: u16,
    protocol: Protocol,
    host_ip: IpAddr,
    project: String,
    service: String,
    source: ClaimSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
}

impl Row for Use {
    fn headers() -> &'static [&'static str] {
        &[
            "port", "protocol", "host_ip", "project", "service", "source", "status",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let service = match self.pid {
            Some(pid) => format!("{}[{pid}]", self.service),
            None => self.service.clone(),
        };
        vec![
            self.port.to_string(),
            self.protocol.to_string(),
            self.host_ip.to_string(),
            self.project.clone(),
            service,
            match self.source {
                ClaimSource::Registry => "registry".into(),
                ClaimSource::System => "system".into(),
            },
            self.status
                .map(|s| table::paint_status(s.as_str()))
                .unwrap_or_default(),
        ]
    }
}

fn registry_uses(projects: &[ProjectPorts], port: Option<u16>) -> Vec<Use> {
    let mut uses: Vec<Use> = projects
        .iter()
        .flat_map(|p| {
            claims::project_claims(p).map(|c| Use {
                port: c.port,
                protocol: c.protocol,
                host_ip: c.host_ip,
                project: c.project.to_owned(),
                service: c.service.to_owned(),
                source: ClaimSource::Registry,
                status: Some(p.status),
                pid: None,
            })
        })
        .filter(|u| port.is_none_or(|p| u.port == p))
        .collect();
    uses.sort_by(|a, b| (a.port, a.protocol, &a.project).cmp(&(b.port, b.protocol, &b.project)));
    uses
}

fn system_uses(port: u16, protocol: Option<Protocol>) -> Vec<Use> {
    let Some(table) = netstat::listeners() else {
        return Vec::new();
    };
    let hits: Vec<&netstat::Listener> = table
        .iter()
        .filter(|l| l.port == port && protocol.is_none_or(|p| p == l.protocol))
        .collect();
    let owners = netstat::owners(&hits);
    hits.iter()
        .map(|l| {
            let owner = owners.get(&l.inode());
            Use {
                port,
                protocol: l.protocol,
                host_ip: l.ip,
                project: String::new(),
                service: owner.map_or_else(|| "(unknown process)".into(), |o| o.name.clone()),
                source: ClaimSource::System,
                status: None,
                pid: owner.map(|o| o.pid),
            }
        })
        .collect()
}

/// The answer of `ports free --json`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Serialize)]
struct Answer<'a> {
    port: u16,
    protocol: Protocol,
    free: bool,
    claims: &'a [Use],
}

fn free(a: &FreeArgs) -> anyhow::Result<Outcome> {
    let projects = registry_projects()?;
    let mut uses: Vec<Use> = registry_uses(&projects, Some(a.port))
        .into_iter()
        .filter(|u| u.protocol == a.protocol)
        .collect();
    uses.extend(system_uses(a.port, Some(a.protocol)));
    let answer = Answer {
        port: a.port,
        protocol: a.protocol,
        free: uses.is_empty(),
        claims: &uses,
    };
    if a.output.is_json() {
        io::write_json(&answer)?;
    } else if uses.is_empty() {
        io::write_text(&format!("{}/{} is free\n", a.port, a.protocol))?;
    } else {
        let who: Vec<String> = uses
            .iter()
            .map(|u| match u.source {
                ClaimSource::Registry => format!("{}/{}", u.project, u.service),
                ClaimSource::System => format!("{} (listening now)", u.service),
            })
            .collect();
        io::write_text(&format!(
            "{}/{} is taken: {}\n",
            a.port,
            a.protocol,
            who.join(", ")
        ))?;
    }
    Ok(if uses.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

fn usage(a: &UsageArgs) -> anyhow::Result<Outcome> {
    let projects = registry_projects()?;
    io::write_list(a.output.format(), &registry_uses(&projects, None))?;
    Ok(Outcome::Clean)
}

fn who(a: &WhoArgs) -> anyhow::Result<Outcome> {
    let projects = registry_projects()?;
    let mut uses = registry_uses(&projects, Some(a.port));
    uses.extend(system_uses(a.port, None));
    if uses.is_empty() && a.output.format() == Format::Table {
        berth::info!("nothing claims port {}", a.port);
        return Ok(Outcome::Clean);
    }
    io::write_list(a.output.format(), &uses)?;
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("port-scan", berth::schema::of::<Scanned>()),
        ("port-alloc", berth::schema::of::<Vec<u16>>()),
        ("port-free", berth::schema::of::<Answer<'static>>()),
        ("port-use", berth::schema::of::<Use>()),
    ]
}
