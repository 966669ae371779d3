//! `up`, `down`, `status`, `logs`: the shared servers as one compose
//! project, driven the way stackctl drives a project's stack.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use berth::Project;
use berth::cli::{Outcome, error_with_hint};
use berth::config::Config;
use berth::docker::ContainerInfo;
use berth::duration;
use berth::io::{OutputArgs, Row};
use berth::paths::Paths;
use berth::registry::Registry;
use berth::shared::Resolved;
use berth_stackctl::stack::Stack;
use berth_stackgen::SharedServer;
use serde::{Deserialize, Serialize};

use crate::compose;

/// Start shared servers: the named ones, or every configured one.
///
/// compose.yaml is generated in $BERTH_HOME/shared from the catalog (the
/// configured and recorded servers, and the named ones, which are recorded
/// from now on), the administrators' passwords are generated into the
/// secrets store on first use, the network berth-shared is created when
/// missing, and `up` waits until each server runs and passes its
/// healthcheck. A container of that name under another compose project, a
/// host port another program holds, an unknown service or version: exit 2,
/// nothing started.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Shared servers by instance name (a configured one, or a catalog
    /// service: postgres, mariadb, mysql, redis, valkey, memcached, mailpit,
    /// minio). None: every configured and recorded one.
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
    /// How long to wait for the servers to run and pass their healthchecks (e.g. 2m, 90s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration::parse)]
    timeout: Duration,
    /// Show progress on stderr even when it is not a terminal.
    #[arg(long)]
    progress: bool,
}

/// Stop and remove the shared servers' containers; their data stays.
///
/// Refused (exit 1, naming them) while running projects use the shared
/// servers, unless --yes. `stackctl stop` of a project never stops them.
#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Stop them even while running projects use them.
    #[arg(short, long)]
    yes: bool,
    /// How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::parse)]
    timeout: Duration,
}

/// Each shared server: its image, state, health, host port and the projects using it.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    output: OutputArgs,
}

/// The shared servers' logs (all, or one server's).
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// A shared server by instance name.
    #[arg(value_name = "SERVICE")]
    service: Option<String>,
    /// Keep printing new lines until interrupted.
    #[arg(short, long)]
    follow: bool,
    /// Only the last N lines of each.
    #[arg(short = 'n', long, value_name = "N")]
    tail: Option<usize>,
}

/// What `up` has started besides the configured servers.
const RECORD: &str = "instances.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Recorded {
    name: String,
    service: String,
    #[serde(default)]
    version: Option<String>,
}

/// The shared stack of this installation.
pub struct Shared {
    pub paths: Paths,
    pub config: Config,
    pub dir: PathBuf,
    /// The compose project, network and container prefix (`berth-shared`).
    pub name: String,
}

impl Shared {
    pub fn open() -> anyhow::Result<Self> {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        config.check_images(&paths)?;
        let dir = paths.data.join("shared");
        let name = config.shared.name()?.to_owned();
        Ok(Self {
            paths,
            config,
            dir,
            name,
        })
    }

    fn compose_file(&self) -> PathBuf {
        self.dir.join("compose.yaml")
    }

    /// The stack as compose sees it.
    pub fn project(&self) -> Project {
        Project {
            name: self.name.clone(),
            path: self.dir.clone(),
            compose_files: vec![self.compose_file()],
            ..Project::default()
        }
    }

    fn recorded(&self) -> anyhow::Result<Vec<Recorded>> {
        let file = self.dir.join(RECORD);
        let Some(text) = berth::fsread::read_text(&file, None, berth::fsread::TEXT_LIMIT)? else {
            return Ok(Vec::new());
        };
        let list: Vec<Recorded> = serde_json::from_str(&text.text)
            .with_context(|| format!("invalid {}", file.display()))?;
        for r in &list {
            berth::names::validate_label("shared service name", &r.name)
                .with_context(|| file.display().to_string())?;
        }
        Ok(list)
    }

    /// Every known server: configured (config wins), recorded, and `extra`.
    pub fn known(&self, extra: &[Resolved]) -> anyhow::Result<Vec<Resolved>> {
        let mut out: BTreeMap<String, Resolved> = BTreeMap::new();
        for r in self.recorded()? {
            out.insert(
                r.name.clone(),
                Resolved {
                    prefix: self.name.clone(),
                    name: r.name,
                    service: r.service,
                    version: r.version,
                    port: None,
                },
            );
        }
        for e in extra {
            out.insert(e.name.clone(), e.clone());
        }
        for c in self.config.shared.instances()? {
            out.insert(c.name.clone(), c);
        }
        Ok(out.into_values().collect())
    }

    /// A server by instance name: configured, recorded, or the catalog's.
    pub fn instance(&self, name: &str) -> anyhow::Result<Resolved> {
        let known = self.known(&[])?;
        match known.into_iter().find(|i| i.name == name) {
            Some(i) => Ok(i),
            None => self.config.shared.instance(name),
        }
    }

    /// Render each server from the catalog (errors name the server).
    pub fn render(&self, instances: &[Resolved]) -> anyhow::Result<Vec<(Resolved, SharedServer)>> {
        instances
            .iter()
            .map(|i| {
                let server = berth_stackgen::shared_server(&self.paths, &self.config, i)
                    .with_context(|| format!("shared service {}", i.name))?;
                Ok((i.clone(), server))
            })
            .collect()
    }

    /// Write compose.yaml and the record (atomically, 0600 for the folder).
    fn write(&self, servers: &[(Resolved, SharedServer)]) -> anyhow::Result<()> {
        berth_stackctl::create_private_dir(&self.dir)?;
        let text = compose::render(&self.name, servers)?;
        berth::atomic::write(&self.compose_file(), text.as_bytes(), 0o600)?;
        let configured: BTreeSet<String> = self
            .config
            .shared
            .instances()?
            .into_iter()
            .map(|i| i.name)
            .collect();
        let record: Vec<Recorded> = servers
            .iter()
            .filter(|(i, _)| !configured.contains(&i.name))
            .map(|(i, _)| Recorded {
                name: i.name.clone(),
                service: i.service.clone(),
                version: i.version.clone(),
            })
            .collect();
        let mut json = serde_json::to_vec_pretty(&record)?;
        json.push(b'\n');
        berth::atomic::write(&self.dir.join(RECORD), &json, 0o600)?;
        Ok(())
    }

    /// The administrators' passwords, generated into the store when missing.
    fn ensure_secrets(&self, servers: &[(Resolved, SharedServer)]) -> anyhow::Result<()> {
        let kinds: BTreeMap<String, String> = servers
            .iter()
            .flat_map(|(_, s)| s.secrets.clone())
            .collect();
        if kinds.is_empty() {
            return Ok(());
        }
        let store = berth::secrets::Store::open()?;
        let have = store.load(&self.name)?;
        let missing: BTreeMap<String, String> = kinds
            .into_iter()
            .filter(|(k, _)| have.get(k).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let values = berth::secrets::generate_all(&missing)?;
        store.update(&self.name, |s| {
            for (k, v) in values {
                if s.get(&k).is_none() {
                    let kind = missing.get(&k).map_or("alnum32", String::as_str);
                    s.set(&k, v, kind);
                }
            }
            Ok(())
        })
    }

    pub fn stack(&self) -> anyhow::Result<Stack> {
        Stack::new(self.project(), vec![self.compose_file()])
    }
}

/// Containers that are not the shared stack's but hold a shared server's name.
fn name_clashes(
    project: &str,
    all: &[ContainerInfo],
    servers: &[(Resolved, SharedServer)],
) -> Vec<String> {
    servers
        .iter()
        .filter_map(|(i, _)| {
            let name = i.container();
            all.iter()
                .find(|c| c.name == name && c.project != project)
                .map(|c| {
                    format!(
                        "container {name} belongs to the compose project '{}'",
                        c.project
                    )
                })
        })
        .collect()
}

/// Host ports configured for servers that something else listens on.
fn port_clashes(
    mine: &[ContainerInfo],
    servers: &[(Resolved, SharedServer)],
    registry: &[Project],
) -> Vec<String> {
    let ours: BTreeSet<u16> = mine
        .iter()
        .filter(|c| c.state == "running")
        .flat_map(|c| c.ports.iter().filter_map(|b| b.published))
        .collect();
    let listening = berth::netstat::listeners().unwrap_or_default();
    let mut out = Vec::new();
    for (i, _) in servers {
        let Some(port) = i.port else { continue };
        if ours.contains(&port) {
            continue;
        }
        if let Some(p) = registry
            .iter()
            .find(|p| p.port == Some(port) || p.exposed_ports.contains(&port))
        {
            out.push(format!(
                "port {port} of shared service {} is claimed by project {}",
                i.name, p.name
            ));
        } else if listening
            .iter()
            .any(|l| l.port == port && l.protocol == berth::Protocol::Tcp)
        {
            out.push(format!(
                "port {port} of shared service {} is taken by a program listening on this machine",
                i.name
            ));
        }
    }
    out
}

pub fn up(a: &UpArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    let named: Vec<Resolved> = a
        .services
        .iter()
        .map(|n| shared.instance(n))
        .collect::<anyhow::Result<_>>()?;
    let before = shared.known(&[])?;
    let all = shared.known(&named)?;
    if all.is_empty() {
        return Err(error_with_hint(
            "no shared services are configured",
            "name them (shared up postgres redis), or list them under shared.services in config.yaml",
        ));
    }
    // Everything checked before anything is written or started.
    let servers = shared.render(&all)?;
    let stack = shared.stack()?;
    let containers = stack.containers_of(&[])?;
    let mine: Vec<ContainerInfo> = containers
        .iter()
        .filter(|c| c.project == shared.name)
        .cloned()
        .collect();
    let registry = Registry::open(&shared.paths).load()?;
    let clashes: Vec<String> = name_clashes(&shared.name, &containers, &servers)
        .into_iter()
        .chain(port_clashes(&mine, &servers, &registry))
        .collect();
    if !clashes.is_empty() {
        return Err(error_with_hint(
            format!("cannot start the shared services: {}", clashes.join("; ")),
            "remove or rename that container, or choose another port under shared.services in config.yaml",
        ));
    }
    shared.ensure_secrets(&servers)?;
    shared.write(&servers)?;
    {
        let (rt, docker) = stack.engine();
        if rt.block_on(berth::docker::ensure_network(docker, &shared.name))? {
            berth::info!("created the network {}", shared.name);
        }
    }
    let wanted: Vec<String> = if a.services.is_empty() {
        Vec::new()
    } else {
        named.iter().map(Resolved::container).collect()
    };
    berth::info!(
        "{}: starting {} with {}",
        shared.name,
        if a.services.is_empty() {
            all.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            a.services.join(", ")
        },
        stack.driver_name()
    );
    let states = match stack.up(&wanted, a.timeout, a.progress) {
        Ok(states) => states,
        Err(e) => {
            // A server named for the first time that did not come up is
            // not kept: later runs do not try it again.
            if before != all {
                shared.write(&shared.render(&before)?)?;
            }
            return Err(e.context("the shared services did not come up"));
        }
    };
    let list: Vec<String> = states
        .iter()
        .map(|s| match &s.health {
            Some(h) => format!("{} ({h})", s.container),
            None => s.container.clone(),
        })
        .collect();
    berth::info!("{}: running: {}", shared.name, list.join(", "));
    rejoin(&stack, &registry, &shared)?;
    Ok(Outcome::Clean)
}

/// Join the servers again to the networks of the running projects that
/// take them: a server made anew (after `down`) is on none of them.
fn rejoin(stack: &Stack, registry: &[Project], shared: &Shared) -> anyhow::Result<()> {
    let containers = stack.containers_of(&[])?;
    let (rt, docker) = stack.engine();
    for p in registry.iter().filter(|p| !p.shared.is_empty()) {
        let running = containers
            .iter()
            .any(|c| c.project == p.name && c.state == "running");
        if !running {
            continue;
        }
        let servers: Vec<String> = p
            .shared
            .iter()
            .map(|i| shared.config.shared.container(i))
            .collect();
        rt.block_on(berth::docker::connect_to_project(docker, &p.name, &servers))
            .with_context(|| format!("cannot join the shared servers to {}", p.name))?;
    }
    Ok(())
}

/// The registered projects that take shared servers and have a container running.
fn running_users(registry: &[Project], containers: &[ContainerInfo]) -> Vec<String> {
    let running: BTreeSet<&str> = containers
        .iter()
        .filter(|c| c.state == "running")
        .map(|c| c.project.as_str())
        .collect();
    registry
        .iter()
        .filter(|p| !p.shared.is_empty() && running.contains(p.name.as_str()))
        .map(|p| p.name.clone())
        .collect()
}

pub fn down(a: &DownArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    if !shared.compose_file().is_file() {
        berth::info!("{}: nothing to stop (never started)", shared.name);
        return Ok(Outcome::Clean);
    }
    let stack = shared.stack()?;
    let registry = Registry::open(&shared.paths).load()?;
    let users = running_users(&registry, &stack.containers_of(&[])?);
    if !users.is_empty() {
        if !a.yes {
            eprintln!(
                "{}: not stopping the shared services: running projects use them: {}",
                crate::TOOL,
                users.join(", ")
            );
            eprintln!(
                "hint: stop them first (stackctl stop {}), or pass --yes to stop the shared services anyway",
                users.join(" ")
            );
            return Ok(Outcome::Found);
        }
        berth::cli::warn(
            crate::TOOL,
            format!(
                "stopping the shared services under running projects (--yes): {}",
                users.join(", ")
            ),
        );
    }
    stack
        .down(a.timeout)
        .context("cannot stop the shared services")?;
    berth::info!("{}: stopped (data kept in its volumes)", shared.name);
    Ok(Outcome::Clean)
}

/// One shared server as `status` shows it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ServerState {
    /// Its instance name (`postgres`, `pg15`).
    pub name: String,
    /// The catalog service.
    pub service: String,
    pub container: String,
    pub image: String,
    /// `running`, `exited`, ... or `absent` (configured, never started).
    pub state: String,
    pub health: Option<String>,
    /// Its host port on 127.0.0.1, when configured.
    pub port: Option<u16>,
    /// The registered projects that take it.
    pub projects: Vec<String>,
}

impl Row for ServerState {
    fn headers() -> &'static [&'static str] {
        &["NAME", "SERVICE", "IMAGE", "STATE", "PORT", "PROJECTS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.service.clone(),
            self.image.clone(),
            match &self.health {
                Some(h) => format!("{} ({h})", self.state),
                None => self.state.clone(),
            },
            self.port
                .map_or_else(|| "-".into(), |p| format!("127.0.0.1:{p}")),
            if self.projects.is_empty() {
                "-".into()
            } else {
                self.projects.join(",")
            },
        ]
    }
}

pub fn status(a: &StatusArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    let known = shared.known(&[])?;
    let servers = shared.render(&known)?;
    let stack = shared.stack()?;
    let containers = stack.containers()?;
    let registry = Registry::open(&shared.paths).load()?;
    let rows: Vec<ServerState> = servers
        .iter()
        .map(|(i, s)| {
            let name = i.container();
            let c = containers.iter().find(|c| c.name == name);
            ServerState {
                name: i.name.clone(),
                service: i.service.clone(),
                container: name,
                image: c.map_or_else(|| s.image.clone(), |c| c.image.clone()),
                state: c.map_or_else(|| "absent".into(), |c| c.state.clone()),
                health: c.and_then(|c| c.health.clone()),
                port: i.port,
                projects: registry
                    .iter()
                    .filter(|p| p.shared.contains(&i.name))
                    .map(|p| p.name.clone())
                    .collect(),
            }
        })
        .collect();
    berth::io::write_list(a.output.format(), &rows)?;
    Ok(Outcome::Clean)
}

pub fn logs(a: &LogsArgs) -> anyhow::Result<Outcome> {
    let shared = Shared::open()?;
    if !shared.compose_file().is_file() {
        return Err(error_with_hint(
            "the shared services were never started",
            "start them: shared up",
        ));
    }
    let services = match &a.service {
        Some(n) => {
            let known = shared.known(&[])?;
            let Some(i) = known.iter().find(|i| &i.name == n) else {
                berth::names::validate_label("shared service name", n)?;
                return Err(error_with_hint(
                    format!("no shared service named '{n}'"),
                    format!(
                        "the shared services: {}",
                        known
                            .iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            vec![i.container()]
        }
        None => Vec::new(),
    };
    let stack = shared.stack()?;
    let mut out = std::io::stdout().lock();
    stack.logs(&services, a.follow, a.tail, &mut |line| {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    })?;
    Ok(Outcome::Clean)
}
