//! `shared router`: one Caddy for every project. The container
//! `<name>-router` (image `caddy:2`) on the shared network serves
//! `https://NAME.TLD` with certgen's certificates; a watcher follows the
//! engine's events and loads Caddy's JSON config through its admin API
//! whenever a project's app container starts or stops.
//!
//! The admin API listens on the container's network (`0.0.0.0:2019` inside)
//! and is published on 127.0.0.1 only, on `shared.router.admin_port` or a
//! free port picked when the container is made (read back from it): a direct POST is a
//! few milliseconds where `docker exec` would cost a process and a round
//! trip per reload, and it works with engines whose container addresses
//! the host cannot reach (rootless Podman, Docker Desktop). Like a Caddy
//! on the host with its default `localhost:2019`, any local user can reach it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use berth::Project;
use berth::cli::{Outcome, error_with_hint};
use berth::docker::{BERTH_PROJECT, BERTH_SERVICE, COMPOSE_PROJECT, COMPOSE_SERVICE};
use berth::duration;
use berth::registry::Registry;
use berth::shared::RouterConfig;
use bollard::Docker;
use futures_util::{FutureExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::servers::Shared;

/// The label on the router's container: the shared services' name.
pub const ROUTER_LABEL: &str = berth::docker::ROUTER_LABEL;
/// A container's port to route to (instead of the target of the project's
/// published `port`); also makes a container of an unregistered project
/// routable.
pub const PORT_LABEL: &str = "berth.router.port";
/// The name under the TLD of a container routed by [`PORT_LABEL`] whose
/// project is not registered (default: its compose project).
pub const NAME_LABEL: &str = "berth.router.name";
/// `berth.router=false`: never route this container.
pub const OFF_LABEL: &str = "berth.router";

const IMAGE: &str = "caddy:2";
/// Caddy's admin API inside the container.
const ADMIN_PORT: u16 = 2019;
/// Where `$BERTH_HOME/certs` is mounted (read-only) in the container.
const CERTS_IN: &str = "/certs";

pub const AFTER_HELP: &str = "\
Examples:
  shared router up                 start Caddy on 127.0.0.1:80 and :443, then the watcher
  shared router status --json      the routes Caddy serves, its container and the watcher
  shared router down --yes         stop the watcher and remove Caddy's container
  curl --cacert $BERTH_HOME/ca/ca.pem https://shop.test/

Config ($BERTH_HOME/config.yaml):
  shared:
    router: {http_port: 8080, https_port: 8443, admin_port: 2019}   (defaults 80, 443, any)

A registered project is routed while its app container runs: the container that
publishes the project's port, by its container name and target port, so
https://NAME.TLD reaches it on any network (the router joins that container's
network). mail.NAME.TLD goes to its mailpit (8025) and db.NAME.TLD to its adminer
(8080), its own or the shared one. Labels on a container: berth.router.port=PORT
(route this port; also routes a container of an unregistered project, under
berth.router.name=NAME or its compose project), berth.router=false (never).
A registered name whose app is not running answers 502. A config Caddy rejects is
not loaded (the running one stays) and is reported in the log and by status.

Files:
  $BERTH_HOME/shared/router.pid    the watcher's process id
  $BERTH_HOME/shared/router.log    the watcher's log (each load, each rejection)
  $BERTH_HOME/shared/router.json   the last load: its time, routes and error
  $BERTH_HOME/certs/DOMAIN/        certgen's certificates (issued when missing)

Exit status:
  0  success (up: Caddy answers with the routes loaded and the watcher runs)
  1  down refused: Caddy routes running projects (nothing stopped; --yes stops it)
  2  an error: bad usage, a router port that is taken or invalid, no CA (certgen
     init), the image missing, a container of that name that is not the router,
     Caddy not answering";

/// Start the router: Caddy's container (when not running) and the watcher.
///
/// Checks first that the configured host ports are free (exit 2 naming the
/// port, nothing started), that certgen's CA exists and the image is here;
/// then creates the shared network when missing, starts `<name>-router`,
/// waits for Caddy's admin API, issues certificates missing for the
/// registered projects, loads the routes and starts the watcher in the
/// background.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct UpArgs {
    /// How long to wait for Caddy to answer (e.g. 30s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration::parse)]
    timeout: Duration,
}

/// Stop the watcher and remove the router's container.
///
/// Refused (exit 1, naming them) while Caddy routes running projects,
/// unless --yes: their https:// URLs stop answering.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct DownArgs {
    /// Stop it even while it routes running projects.
    #[arg(short, long)]
    yes: bool,
    /// How long Caddy gets to stop before it is killed (e.g. 10s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::parse)]
    timeout: Duration,
}

/// The routes Caddy serves (domain -> upstream), its container and the watcher.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct StatusArgs {
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

/// Follow the engine's events and reload Caddy on each change (foreground).
///
/// What `router up` runs in the background. One line on stderr per load or
/// rejection; runs until killed. Registry changes are no engine event: a
/// project registered while its app runs is routed at its next start, or
/// at once by re-running `shared router up`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct WatchArgs {}

/// The shared Caddy router.
#[derive(Debug, clap::Subcommand)]
pub enum RouterCommand {
    Up(UpArgs),
    Down(DownArgs),
    Status(StatusArgs),
    Watch(WatchArgs),
}

pub fn run(c: &RouterCommand) -> anyhow::Result<Outcome> {
    match c {
        RouterCommand::Up(a) => up(a),
        RouterCommand::Down(a) => down(a),
        RouterCommand::Status(a) => status(a),
        RouterCommand::Watch(_) => watch(),
    }
}

/// The router of this installation.
struct Router {
    shared: Shared,
    container: String,
    ports: RouterConfig,
    tld: String,
}

impl Router {
    fn open() -> anyhow::Result<Self> {
        let shared = Shared::open()?;
        let ports = shared.config.shared.router.clone();
        check_ports(&ports)?;
        let tld = shared.config.tld.clone();
        berth::sites::validate_tld(&tld)?;
        Ok(Self {
            container: shared.config.shared.router_container(),
            shared,
            ports,
            tld,
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.shared.dir.join(name)
    }
}

fn check_ports(p: &RouterConfig) -> anyhow::Result<()> {
    let mut seen = BTreeSet::new();
    for (key, port) in [
        ("http_port", Some(p.http_port)),
        ("https_port", Some(p.https_port)),
        ("admin_port", p.admin_port),
    ] {
        let Some(port) = port else { continue };
        if port == 0 {
            return Err(error_with_hint(
                format!("invalid shared.router.{key} in config: 0"),
                "a port is 1 to 65535",
            ));
        }
        if !seen.insert(port) {
            return Err(error_with_hint(
                format!("shared.router.{key} in config: port {port} is given twice"),
                "http_port, https_port and admin_port are three different ports",
            ));
        }
    }
    Ok(())
}

/// Whether this process is the watcher (its log lines carry the time).
static WATCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn log(line: &str) {
    if !WATCHING.load(std::sync::atomic::Ordering::Relaxed) {
        berth::info!("{line}");
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} {line}",
        berth::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
}

// ---------------------------------------------------------------- engine

/// A running container as the router needs it.
#[derive(Debug, Clone)]
struct Running {
    id: String,
    name: String,
    labels: HashMap<String, String>,
    /// (target, published) TCP ports.
    ports: Vec<(u16, Option<u16>)>,
    networks: BTreeSet<String>,
}

impl Running {
    fn project(&self) -> Option<&str> {
        self.labels
            .get(BERTH_PROJECT)
            .or_else(|| self.labels.get(COMPOSE_PROJECT))
            .map(String::as_str)
    }
    fn service(&self) -> Option<&str> {
        self.labels
            .get(BERTH_SERVICE)
            .or_else(|| self.labels.get(COMPOSE_SERVICE))
            .map(String::as_str)
    }
    fn label_port(&self) -> Option<Result<u16, String>> {
        self.labels.get(PORT_LABEL).map(|v| match v.parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => Err(format!(
                "container {}: label {PORT_LABEL}={} is not a port; not routed",
                self.name,
                v.escape_debug()
            )),
        })
    }
    fn off(&self) -> bool {
        self.labels.get(OFF_LABEL).is_some_and(|v| v == "false")
    }
}

/// A container as inspect shows it now, when it runs. The list can lag
/// the events by a moment (a `die` whose container still shows running),
/// inspect reads the container itself: the containers an event names are
/// looked at this way.
async fn running_now(docker: &Docker, id: &str) -> Option<Running> {
    let c = docker.inspect_container(id, None).await.ok()?;
    if c.state.as_ref()?.running != Some(true) {
        return None;
    }
    let net = c.network_settings.unwrap_or_default();
    let mut ports = Vec::new();
    for (key, binds) in net.ports.unwrap_or_default() {
        let Some(target) = key.strip_suffix("/tcp").and_then(|p| p.parse::<u16>().ok()) else {
            continue;
        };
        let published: Vec<u16> = binds
            .unwrap_or_default()
            .iter()
            .filter_map(|b| b.host_port.as_deref()?.parse().ok())
            .collect();
        if published.is_empty() {
            ports.push((target, None));
        }
        ports.extend(published.into_iter().map(|p| (target, Some(p))));
    }
    Some(Running {
        id: id.to_owned(),
        name: c.name?.trim_start_matches('/').to_owned(),
        labels: c.config.and_then(|c| c.labels).unwrap_or_default(),
        ports,
        networks: net
            .networks
            .map(|n| n.into_keys().collect())
            .unwrap_or_default(),
    })
}

/// Every running container, in one engine query.
async fn running(docker: &Docker) -> anyhow::Result<Vec<Running>> {
    let list = docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: false,
            ..Default::default()
        }))
        .await
        .context("cannot list containers")?;
    let mut out: Vec<Running> = list
        .into_iter()
        .map(|c| Running {
            id: c.id.unwrap_or_default(),
            name: c
                .names
                .unwrap_or_default()
                .first()
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_default(),
            labels: c.labels.unwrap_or_default(),
            ports: c
                .ports
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.typ.as_ref().is_none_or(|t| t.to_string() == "tcp"))
                .map(|p| (p.private_port, p.public_port))
                .collect(),
            networks: c
                .network_settings
                .and_then(|n| n.networks)
                .map(|n| n.into_keys().collect())
                .unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

// ---------------------------------------------------------------- routes

/// One hostname Caddy routes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Route {
    /// `shop.test`, `mail.shop.test`.
    pub domain: String,
    /// `CONTAINER:PORT`, the container by its (unique) name.
    pub upstream: String,
}

/// What the router should serve now.
#[derive(Debug, Default)]
struct Plan {
    routes: Vec<Route>,
    /// The containers routed to.
    targets: BTreeSet<String>,
    /// The domains whose certificates Caddy loads (registered projects with
    /// a port, routed or not, so a stopped one answers 502 over TLS).
    domains: BTreeSet<String>,
    notes: Vec<String>,
    /// Each routed domain's container, so a second claim is refused.
    taken: BTreeMap<String, String>,
}

impl Plan {
    /// Route `domain` to `port` of `c`, unless another container has it.
    fn add(&mut self, domain: String, c: &Running, port: u16) {
        if let Some(other) = self.taken.get(&domain) {
            self.notes.push(format!(
                "{domain}: {} and {other} both claim it; {other} kept",
                c.name
            ));
            return;
        }
        self.taken.insert(domain.clone(), c.name.clone());
        self.targets.insert(c.name.clone());
        self.routes.push(Route {
            domain,
            upstream: format!("{}:{port}", c.name),
        });
    }
}

fn live(c: &Running) -> bool {
    !c.off() && !c.labels.contains_key(ROUTER_LABEL)
}

fn plan(r: &Router, registry: &[Project], running: &[Running]) -> Plan {
    let mut out = Plan::default();
    for p in registry {
        project_routes(r, p, running, &mut out);
    }
    labelled(r, registry, running, &mut out);
    out.routes.sort();
    out
}

/// A registered project's routes: its app, and its web tools' subdomains.
fn project_routes(r: &Router, p: &Project, running: &[Running], out: &mut Plan) {
    let Some(port) = p.port else { return };
    let domain = match berth::sites::domain_of(p, &r.tld) {
        Ok(d) => d,
        Err(e) => {
            out.notes
                .push(format!("project {}: {e:#}; not routed", p.name));
            return;
        }
    };
    out.domains.insert(domain.clone());
    let mine: Vec<&Running> = running
        .iter()
        .filter(|c| live(c))
        .filter(|c| c.project() == Some(p.name.as_str()))
        .collect();
    let app = mine
        .iter()
        .find(|c| c.ports.iter().any(|(_, public)| *public == Some(port)))
        .or_else(|| mine.iter().find(|c| c.labels.contains_key(PORT_LABEL)));
    if let Some(c) = app {
        let target = match c.label_port() {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                out.notes.push(e);
                None
            }
            None => c
                .ports
                .iter()
                .find(|(_, public)| *public == Some(port))
                .map(|(t, _)| *t),
        };
        if let Some(t) = target {
            out.add(domain.clone(), c, t);
        }
    }
    for tool in berth::sites::WEB_TOOLS {
        let host = format!("{}.{domain}", tool.subdomain);
        if let Some(c) = mine.iter().find(|c| c.service() == Some(tool.service)) {
            out.add(host, c, tool.web_port);
            continue;
        }
        // A shared one the project takes.
        let shared = p.shared.iter().find_map(|i| {
            let inst = r.shared.instance(i).ok()?;
            (inst.service == tool.service).then(|| inst.container())
        });
        if let Some(c) = shared.and_then(|n| running.iter().find(|c| c.name == n)) {
            out.add(host, c, tool.web_port);
        }
    }
}

/// Containers of unregistered projects that ask for a route by label.
fn labelled(r: &Router, registry: &[Project], running: &[Running], out: &mut Plan) {
    let registered: BTreeSet<&str> = registry.iter().map(|p| p.name.as_str()).collect();
    for c in running.iter().filter(|c| live(c)) {
        if c.project().is_some_and(|p| registered.contains(p)) {
            continue;
        }
        let port = match c.label_port() {
            None => continue,
            Some(Err(e)) => {
                out.notes.push(e);
                continue;
            }
            Some(Ok(p)) => p,
        };
        let Some(name) = c
            .labels
            .get(NAME_LABEL)
            .map(String::as_str)
            .or_else(|| c.project())
        else {
            out.notes.push(format!(
                "container {}: {PORT_LABEL} without {NAME_LABEL} or a compose project; not routed",
                c.name
            ));
            continue;
        };
        if let Err(e) = berth::names::validate_label(NAME_LABEL, name) {
            out.notes
                .push(format!("container {}: {e:#}; not routed", c.name));
            continue;
        }
        let domain = berth::sites::domain(name, &r.tld);
        out.domains.insert(domain.clone());
        out.add(domain, c, port);
    }
}

/// Caddy's JSON config for these routes and certificates.
fn caddy_config(ports: &RouterConfig, routes: &[Route], certs: &[String]) -> Value {
    let mut https_routes: Vec<Value> = routes
        .iter()
        .map(|r| {
            json!({
                "match": [{"host": [r.domain]}],
                "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": r.upstream}]}],
                "terminal": true
            })
        })
        .collect();
    https_routes.push(json!({
        "handle": [{
            "handler": "static_response",
            "status_code": 502,
            "headers": {"Content-Type": ["text/plain; charset=utf-8"]},
            "body": "berth router: nothing runs for {http.request.host} (stackctl start it)\n"
        }]
    }));
    let suffix = if ports.https_port == 443 {
        String::new()
    } else {
        format!(":{}", ports.https_port)
    };
    let mut apps = json!({
        "http": {"servers": {
            "berth-https": {
                "listen": [":443"],
                "routes": https_routes,
                "tls_connection_policies": [{}],
                "automatic_https": {"disable": true}
            },
            "berth-http": {
                "listen": [":80"],
                "routes": [{"handle": [{
                    "handler": "static_response",
                    "status_code": 308,
                    "headers": {"Location": [format!("https://{{http.request.host}}{suffix}{{http.request.uri}}")]}
                }]}],
                "automatic_https": {"disable": true}
            }
        }}
    });
    if !certs.is_empty() {
        let files: Vec<Value> = certs
            .iter()
            .map(|d| {
                json!({
                    "certificate": format!("{CERTS_IN}/{d}/fullchain.pem"),
                    "key": format!("{CERTS_IN}/{d}/key.pem")
                })
            })
            .collect();
        apps["tls"] = json!({"certificates": {"load_files": files}});
    }
    json!({
        "admin": {"listen": format!("0.0.0.0:{ADMIN_PORT}"), "config": {"persist": false}},
        "apps": apps
    })
}

/// The routes in a config Caddy answers (`GET /config/`).
fn routes_of(config: &Value) -> Vec<Route> {
    let mut out = Vec::new();
    for r in config["apps"]["http"]["servers"]["berth-https"]["routes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(domain), Some(upstream)) = (
            r["match"][0]["host"][0].as_str(),
            r["handle"][0]["upstreams"][0]["dial"].as_str(),
        ) else {
            continue;
        };
        out.push(Route {
            domain: domain.to_owned(),
            upstream: upstream.to_owned(),
        });
    }
    out
}

// ---------------------------------------------------------------- admin API

/// One request to Caddy's admin API: (status, body).
async fn admin(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> anyhow::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let go = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        let body = body.unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut reply = Vec::new();
        s.take(16 * 1024 * 1024).read_to_end(&mut reply).await?;
        anyhow::Ok(reply)
    };
    let reply = tokio::time::timeout(Duration::from_secs(30), go)
        .await
        .map_err(|_| anyhow::anyhow!("Caddy's admin API at {addr} did not answer within 30 s"))?
        .with_context(|| format!("Caddy's admin API at {addr} does not answer"))?;
    let text = String::from_utf8_lossy(&reply);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("Caddy's admin API at {addr} answered no HTTP"))?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((code, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// Caddy's explanation in an error answer (`{"error": "..."}`), else the body.
fn caddy_error(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

/// The router container's state, as inspect has it.
#[derive(Debug, Default)]
struct Inspected {
    state: String,
    started_at: Option<String>,
    image: String,
    admin: Option<SocketAddr>,
}

async fn inspect(docker: &Docker, r: &Router) -> anyhow::Result<Option<Inspected>> {
    let c = match docker.inspect_container(&r.container, None).await {
        Ok(c) => c,
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => return Ok(None),
        Err(e) => return Err(e).context(format!("cannot inspect {}", r.container)),
    };
    let labels = c
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    if labels.get(ROUTER_LABEL) != Some(&r.shared.name) {
        return Err(error_with_hint(
            format!(
                "container {} exists and is not berth's router of {}",
                r.container, r.shared.name
            ),
            "remove or rename it, or set another shared.name in config.yaml",
        ));
    }
    let state = c.state.unwrap_or_default();
    let admin = c
        .network_settings
        .and_then(|n| n.ports)
        .and_then(|p| p.get(&format!("{ADMIN_PORT}/tcp")).cloned().flatten())
        .and_then(|b| {
            b.iter()
                .find_map(|b| b.host_port.as_deref()?.parse::<u16>().ok())
        })
        .map(|port| SocketAddr::from(([127, 0, 0, 1], port)));
    Ok(Some(Inspected {
        state: state
            .status
            .map_or_else(|| "unknown".into(), |s| s.to_string()),
        started_at: state.started_at,
        image: c.config.and_then(|c| c.image).unwrap_or_default(),
        admin,
    }))
}

// ---------------------------------------------------------------- loading

/// The last load, as router.json keeps it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LastLoad {
    time: String,
    routes: Vec<Route>,
    /// Caddy's rejection of the last config tried, when it rejected it.
    error: Option<String>,
}

/// The watcher's memory between events.
struct Loader {
    router: Router,
    docker: Docker,
    /// The config Caddy accepted last (not sent again).
    last: Option<Value>,
}

impl Loader {
    /// Work out the routes from the registry and the running containers,
    /// join the networks they need, issue missing certificates, and load
    /// the config into Caddy unless it already runs it. Returns the routes
    /// Caddy serves afterwards.
    async fn reconcile(&mut self, force: bool, named: &[String]) -> anyhow::Result<Vec<Route>> {
        let began = Instant::now();
        let registry = Registry::open(&self.router.shared.paths).load()?;
        let mut all = running(&self.docker).await?;
        for id in named {
            let now = running_now(&self.docker, id).await;
            all.retain(|c| Some(&c.name) != now.as_ref().map(|n| &n.name) && c.id != *id);
            all.extend(now);
        }
        let Some(me) = all
            .iter()
            .find(|c| c.name == self.router.container)
            .cloned()
        else {
            anyhow::bail!("the router {} is not running", self.router.container);
        };
        let Some(addr) = inspect(&self.docker, &self.router)
            .await?
            .and_then(|i| i.admin)
        else {
            anyhow::bail!(
                "the router {} publishes no admin port",
                self.router.container
            );
        };
        let mut plan = plan(&self.router, &registry, &all);
        self.networks(&me, &all, &mut plan).await;
        let domains: Vec<String> = plan.domains.iter().cloned().collect();
        let paths = &self.router.shared.paths;
        match berth_certgen::issue_missing(paths, &domains) {
            Ok(issued) if !issued.is_empty() => {
                log(&format!("issued certificates for {}", issued.join(", ")));
            }
            Ok(_) => {}
            Err(e) => plan.notes.push(format!("certificates: {e:#}")),
        }
        let certs: Vec<String> = domains
            .into_iter()
            .filter(|d| {
                let c = berth::certs::cert_paths(paths, d);
                c.fullchain.is_file() && c.key.is_file()
            })
            .collect();
        let have: BTreeSet<&str> = certs.iter().map(String::as_str).collect();
        plan.routes.retain(|r| {
            have.iter()
                .any(|d| r.domain == *d || r.domain.ends_with(&format!(".{d}")))
        });
        for n in std::mem::take(&mut plan.notes) {
            log(&n);
        }
        self.load(addr, force, plan.routes, certs, began).await
    }

    /// Load the config of `routes` and `certs` into Caddy at `addr` unless
    /// it runs it already; a rejected one is reported and, when certificate
    /// files are at fault, tried once more without them.
    async fn load(
        &mut self,
        addr: SocketAddr,
        force: bool,
        mut routes: Vec<Route>,
        mut certs: Vec<String>,
        began: Instant,
    ) -> anyhow::Result<Vec<Route>> {
        let paths = self.router.shared.paths.clone();
        let paths = &paths;
        let mut error = None;
        let mut retried = false;
        loop {
            let config = caddy_config(&self.router.ports, &routes, &certs);
            if !force && self.last.as_ref() == Some(&config) {
                return Ok(routes);
            }
            let body = serde_json::to_vec(&config)?;
            let (code, answer) = admin(addr, "POST", "/load", Some(&body)).await?;
            if code == 200 {
                self.last = Some(config);
                log(&format!(
                    "loaded {} route(s) in {} ms{}",
                    routes.len(),
                    began.elapsed().as_millis(),
                    if routes.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            routes
                                .iter()
                                .map(|r| format!("{} -> {}", r.domain, r.upstream))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ));
                self.record(&routes, error.clone());
                return Ok(routes);
            }
            let why = caddy_error(&answer);
            log(&format!(
                "caddy rejected the config (HTTP {code}): {why}; the running config stays"
            ));
            // A certificate Caddy cannot load: the ones its message names,
            // else the ones whose files hold no PEM certificate and key.
            // Tried once more without them.
            let mut bad: Vec<String> = certs
                .iter()
                .filter(|d| why.contains(&format!("{CERTS_IN}/{d}/")))
                .cloned()
                .collect();
            if bad.is_empty() {
                bad = certs
                    .iter()
                    .filter(|d| !pem_pair(&berth::certs::cert_paths(paths, d)))
                    .cloned()
                    .collect();
            }
            if retried || bad.is_empty() {
                let serving = routes_of(&self.last.clone().unwrap_or_default());
                self.record(&serving, Some(why));
                return Ok(serving);
            }
            retried = true;
            let list = bad.join(", ");
            log(&format!(
                "retrying without {list} (its certificate files do not load: certgen issue {} --force)",
                bad.join(" ")
            ));
            error = Some(format!("{why} (the certificate of {list})"));
            certs.retain(|c| !bad.contains(c));
            routes.retain(|r| {
                !bad.iter()
                    .any(|d| r.domain == *d || r.domain.ends_with(&format!(".{d}")))
            });
        }
    }

    /// Join a network of each routed container the router shares none
    /// with; leave the networks no routed container needs any more (never
    /// the shared network), so `down` of a project can remove its network.
    async fn networks(&self, me: &Running, all: &[Running], plan: &mut Plan) {
        let shared = &self.router.shared.name;
        let mut keep: BTreeSet<String> = BTreeSet::from([shared.clone()]);
        let mut join: BTreeSet<String> = BTreeSet::new();
        let mut unreachable: BTreeSet<String> = BTreeSet::new();
        for c in all.iter().filter(|c| plan.targets.contains(&c.name)) {
            let usable: Vec<&String> = c
                .networks
                .iter()
                .filter(|n| !matches!(n.as_str(), "bridge" | "host" | "none"))
                .collect();
            let common: Vec<&&String> = usable
                .iter()
                .filter(|n| me.networks.contains(**n))
                .collect();
            if let Some(n) = common.first() {
                keep.insert((**n).clone());
            } else if let Some(n) = usable.first() {
                join.insert((*n).clone());
                keep.insert((*n).clone());
            } else {
                plan.notes.push(format!(
                    "container {} is on no network the router can join (only {}); not routed",
                    c.name,
                    c.networks.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
                unreachable.insert(c.name.clone());
            }
        }
        for n in &join {
            let req = bollard::models::NetworkConnectRequest {
                container: self.router.container.clone(),
                endpoint_config: None,
            };
            match self.docker.connect_network(n, req).await {
                Ok(()) => log(&format!("joined the network {n}")),
                Err(e) => plan.notes.push(format!("cannot join the network {n}: {e}")),
            }
        }
        for n in me.networks.iter().filter(|n| !keep.contains(*n)) {
            let req = bollard::models::NetworkDisconnectRequest {
                container: self.router.container.clone(),
                force: Some(true),
            };
            match self.docker.disconnect_network(n, req).await {
                Ok(()) => log(&format!("left the network {n}")),
                Err(e) => log(&format!("cannot leave the network {n}: {e}")),
            }
        }
        plan.routes.retain(|r| {
            let container = r.upstream.rsplit_once(':').map_or("", |(c, _)| c);
            !unreachable.contains(container)
        });
    }

    fn record(&self, routes: &[Route], error: Option<String>) {
        let last = LastLoad {
            time: berth::Timestamp::now().to_string(),
            routes: routes.to_vec(),
            error,
        };
        let write = || -> anyhow::Result<()> {
            let mut json = serde_json::to_vec_pretty(&last)?;
            json.push(b'\n');
            berth::atomic::write(&self.router.file(STATE), &json, 0o600)?;
            Ok(())
        };
        if let Err(e) = write() {
            log(&format!("cannot write {STATE}: {e:#}"));
        }
    }
}

/// Whether a certificate's files look like a PEM chain and key (what
/// Caddy's message does not always name: "failed to find any PEM data").
fn pem_pair(c: &berth::certs::CertPaths) -> bool {
    let read = |p: &std::path::Path| {
        berth::fsread::read_text(p, None, berth::fsread::TEXT_LIMIT)
            .ok()
            .flatten()
            .map(|t| t.text)
            .unwrap_or_default()
    };
    read(&c.fullchain).contains("-----BEGIN CERTIFICATE-----")
        && read(&c.key).contains("PRIVATE KEY-----")
}

const PIDFILE: &str = "router.pid";
const LOGFILE: &str = "router.log";
const STATE: &str = "router.json";
const LOCKFILE: &str = "router.lock";

// ---------------------------------------------------------------- watcher process

/// Whether `pid` is a live `shared router watch` (not another program
/// that took the number since).
fn is_watcher(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
        let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
        args.windows(2)
            .any(|w| w == [b"router".as_slice(), b"watch".as_slice()])
    })
}

fn watcher_pid(r: &Router) -> Option<u32> {
    let text = std::fs::read_to_string(r.file(PIDFILE)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    is_watcher(pid).then_some(pid)
}

fn watch() -> anyhow::Result<Outcome> {
    let r = Router::open()?;
    berth_stackctl::create_private_dir(&r.shared.dir)?;
    let lock_path = r.file(LOCKFILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        return Err(error_with_hint(
            format!(
                "another router watcher runs for {}{}",
                r.shared.name,
                watcher_pid(&r)
                    .map(|p| format!(" (pid {p})"))
                    .unwrap_or_default()
            ),
            "`shared router down` stops it",
        ));
    }
    WATCHING.store(true, std::sync::atomic::Ordering::Relaxed);
    berth::atomic::write(
        &r.file(PIDFILE),
        format!("{}\n", std::process::id()).as_bytes(),
        0o600,
    )?;
    log(&format!(
        "watching the engine's events for {} (pid {})",
        r.container,
        std::process::id()
    ));
    let rt = berth::docker::runtime()?;
    rt.block_on(async move {
        let docker = berth::docker::connect().await?;
        let mut loader = Loader {
            router: r,
            docker,
            last: None,
        };
        loop {
            follow(&mut loader).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Subscribe to the engine's container events, load the routes, then
/// reload on each batch of events until the stream ends or fails.
async fn follow(loader: &mut Loader) {
    let filters = HashMap::from([
        ("type".to_owned(), vec!["container".to_owned()]),
        (
            "event".to_owned(),
            vec!["start".to_owned(), "die".to_owned(), "destroy".to_owned()],
        ),
    ]);
    let mut events = loader
        .docker
        .events(Some(bollard::query_parameters::EventsOptions {
            filters: Some(filters),
            ..Default::default()
        }))
        .boxed();
    // Subscribed first, so nothing that happens meanwhile is missed.
    if let Err(e) = loader.reconcile(true, &[]).await {
        log(&format!("{e:#}"));
    }
    loop {
        let Some(first) = events.next().await else {
            log("the engine closed the events stream; subscribing again");
            return;
        };
        let mut batch = vec![first];
        // Everything already queued goes into this one reload.
        while let Some(Some(more)) = events.next().now_or_never() {
            batch.push(more);
        }
        let mut force = false;
        let mut named: Vec<String> = Vec::new();
        for ev in &batch {
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => {
                    log(&format!("the events stream failed: {e}"));
                    return;
                }
            };
            if let Some(id) = ev.actor.as_ref().and_then(|a| a.id.clone())
                && !named.contains(&id)
            {
                named.push(id);
            }
            let name = ev
                .actor
                .as_ref()
                .and_then(|a| a.attributes.as_ref())
                .and_then(|a| a.get("name"));
            if name == Some(&loader.router.container) {
                // Caddy restarted with its empty config.
                force = true;
                loader.last = None;
            }
        }
        if let Err(e) = loader.reconcile(force, &named).await {
            log(&format!("{e:#}; trying again in 250 ms"));
            tokio::time::sleep(Duration::from_millis(250)).await;
            if let Err(e) = loader.reconcile(force, &named).await {
                log(&format!("{e:#}"));
            }
        }
    }
}

// ---------------------------------------------------------------- up, down, status

/// The configured host ports that something else holds now.
fn taken_ports(r: &Router, registry: &[Project]) -> Vec<String> {
    let listening = berth::netstat::listeners().unwrap_or_default();
    let mut out = Vec::new();
    for (key, port) in [
        ("http_port", Some(r.ports.http_port)),
        ("https_port", Some(r.ports.https_port)),
        ("admin_port", r.ports.admin_port),
    ] {
        let Some(port) = port else { continue };
        if let Some(p) = registry
            .iter()
            .find(|p| p.port == Some(port) || p.exposed_ports.contains(&port))
        {
            out.push(format!(
                "port {port} (shared.router.{key}) is claimed by project {}",
                p.name
            ));
        } else if listening
            .iter()
            .any(|l| l.port == port && l.protocol == berth::Protocol::Tcp)
            || std::net::TcpListener::bind(("127.0.0.1", port))
                .is_err_and(|e| e.kind() == std::io::ErrorKind::AddrInUse)
        {
            out.push(format!(
                "port {port} (shared.router.{key}) is taken by a program listening on this machine"
            ));
        }
    }
    out
}

fn binding(port: u16) -> Vec<bollard::models::PortBinding> {
    vec![bollard::models::PortBinding {
        host_ip: Some("127.0.0.1".into()),
        host_port: Some(port.to_string()),
    }]
}

async fn create(docker: &Docker, r: &Router, image: &str) -> anyhow::Result<()> {
    // An explicit host port even when none is configured: the engine moves
    // an ephemeral one each time the container joins or leaves a network.
    let admin = match r.ports.admin_port {
        Some(p) => p,
        None => std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .context("cannot find a free port for Caddy's admin API")?
            .port(),
    };
    let certs = berth::certs::certs_dir(&r.shared.paths);
    let ports: bollard::models::PortMap = HashMap::from([
        ("80/tcp".to_owned(), Some(binding(r.ports.http_port))),
        ("443/tcp".to_owned(), Some(binding(r.ports.https_port))),
        (format!("{ADMIN_PORT}/tcp"), Some(binding(admin))),
    ]);
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.to_owned()),
        hostname: Some(r.container.clone()),
        labels: Some(HashMap::from([(
            ROUTER_LABEL.to_owned(),
            r.shared.name.clone(),
        )])),
        exposed_ports: Some(vec![
            "80/tcp".into(),
            "443/tcp".into(),
            format!("{ADMIN_PORT}/tcp"),
        ]),
        host_config: Some(bollard::models::HostConfig {
            binds: Some(vec![format!("{}:{CERTS_IN}:ro", certs.display())]),
            port_bindings: Some(ports),
            network_mode: Some(r.shared.name.clone()),
            restart_policy: Some(bollard::models::RestartPolicy {
                name: Some(bollard::models::RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .create_container(
            Some(bollard::query_parameters::CreateContainerOptions {
                name: Some(r.container.clone()),
                ..Default::default()
            }),
            body,
        )
        .await
        .with_context(|| format!("cannot create the container {}", r.container))?;
    if let Err(e) = docker.start_container(&r.container, None).await {
        let _ = docker
            .remove_container(
                &r.container,
                Some(bollard::query_parameters::RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            )
            .await;
        return Err(error_with_hint(
            format!("cannot start the router {}: {e}", r.container),
            "a router port may have been taken meanwhile: choose others under shared.router in config.yaml",
        ));
    }
    Ok(())
}

/// Wait until Caddy's admin API answers.
async fn answering(docker: &Docker, r: &Router, limit: Duration) -> anyhow::Result<SocketAddr> {
    let start = Instant::now();
    let mut last = String::from("no admin port published yet");
    while start.elapsed() < limit {
        if let Some(i) = inspect(docker, r).await? {
            if i.state != "running" {
                last = format!("its container is {}", i.state);
            } else if let Some(addr) = i.admin {
                match admin(addr, "GET", "/config/", None).await {
                    Ok((200, _)) => return Ok(addr),
                    Ok((code, body)) => last = format!("HTTP {code}: {}", caddy_error(&body)),
                    Err(e) => last = format!("{e:#}"),
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(error_with_hint(
        format!(
            "Caddy in {} does not answer within {} s: {last}",
            r.container,
            limit.as_secs()
        ),
        format!("see `docker logs {}`", r.container),
    ))
}

fn spawn_watcher(r: &Router) -> anyhow::Result<u32> {
    use std::os::unix::process::CommandExt as _;
    let log_path = r.file(LOGFILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find this program")?;
    let mut child = std::process::Command::new(exe)
        .args(["router", "watch"])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start the router watcher")?;
    let pid = child.id();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Some(status) = child.try_wait()? {
            return Err(error_with_hint(
                format!("the router watcher exited at once ({status})"),
                format!("see {}", log_path.display()),
            ));
        }
        if std::fs::read_to_string(r.file(PIDFILE)).is_ok_and(|t| t.trim() == pid.to_string()) {
            return Ok(pid);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(error_with_hint(
        "the router watcher did not start within 10 s",
        format!("see {}", log_path.display()),
    ))
}

fn up(a: &UpArgs) -> anyhow::Result<Outcome> {
    let r = Router::open()?;
    let image = r.shared.config.image(IMAGE).to_owned();
    let registry = Registry::open(&r.shared.paths).load()?;
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let existing = rt.block_on(inspect(&docker, &r))?;
    let running = existing.as_ref().is_some_and(|i| i.state == "running");
    if !running {
        // Everything checked before anything is started.
        let taken = taken_ports(&r, &registry);
        if !taken.is_empty() {
            return Err(error_with_hint(
                format!("cannot start the router: {}", taken.join("; ")),
                "stop that program, or choose other ports under shared.router in config.yaml (http_port, https_port, admin_port)",
            ));
        }
        let (ca, _) = berth::certs::ca_paths(&r.shared.paths);
        if !ca.is_file() {
            return Err(error_with_hint(
                format!("no CA at {}", ca.display()),
                "create one with `certgen init` (and `certgen trust`), then retry",
            ));
        }
        if rt.block_on(docker.inspect_image(&image)).is_err() {
            return Err(error_with_hint(
                format!("the image {image} is not here"),
                "build it (tests/bed/images.sh caddy), or map caddy:2 to one you have under images: in config.yaml",
            ));
        }
        let certs = berth::certs::certs_dir(&r.shared.paths);
        if std::fs::symlink_metadata(&certs).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(error_with_hint(
                format!("{} is a symbolic link", certs.display()),
                "the router mounts only a real folder; replace the link with the folder",
            ));
        }
        std::fs::create_dir_all(&certs)
            .with_context(|| format!("cannot create {}", certs.display()))?;
        if existing.is_some() {
            rt.block_on(docker.remove_container(
                &r.container,
                Some(bollard::query_parameters::RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            ))
            .with_context(|| format!("cannot remove the stopped {}", r.container))?;
        }
        if rt.block_on(berth::docker::ensure_network(&docker, &r.shared.name))? {
            berth::info!("created the network {}", r.shared.name);
        }
        rt.block_on(create(&docker, &r, &image))?;
        berth::info!("started {} ({image})", r.container);
    }
    let addr = match rt.block_on(answering(&docker, &r, a.timeout)) {
        Ok(addr) => addr,
        Err(e) => {
            if !running {
                // Started now and not answering: not left behind.
                let _ = rt.block_on(docker.remove_container(
                    &r.container,
                    Some(bollard::query_parameters::RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    }),
                ));
            }
            return Err(e);
        }
    };
    berth_stackctl::create_private_dir(&r.shared.dir)?;
    // A load here, so `up` says how it went (and a re-run picks up registry
    // changes, which are no engine event); the watcher loads on its own.
    let mut loader = Loader {
        router: Router::open()?,
        docker: docker.clone(),
        last: None,
    };
    let routes = rt.block_on(loader.reconcile(true, &[]))?;
    berth::info!("{} route(s) loaded", routes.len());
    let pid = match watcher_pid(&r) {
        Some(pid) => pid,
        None => spawn_watcher(&r)?,
    };
    berth::info!(
        "router: https://NAME.{} on 127.0.0.1:{} (http {}), admin API {addr}; watcher pid {pid}, log {}",
        r.tld,
        r.ports.https_port,
        r.ports.http_port,
        r.file(LOGFILE).display()
    );
    Ok(Outcome::Clean)
}

fn stop_watcher(r: &Router) -> anyhow::Result<Option<u32>> {
    let Some(pid) = watcher_pid(r) else {
        let _ = std::fs::remove_file(r.file(PIDFILE));
        return Ok(None);
    };
    let p = rustix::process::Pid::from_raw(i32::try_from(pid)?)
        .ok_or_else(|| anyhow::anyhow!("invalid pid {pid}"))?;
    rustix::process::kill_process(p, rustix::process::Signal::TERM)
        .with_context(|| format!("cannot stop the router watcher (pid {pid})"))?;
    let start = Instant::now();
    while is_watcher(pid) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    if is_watcher(pid) {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
    let _ = std::fs::remove_file(r.file(PIDFILE));
    Ok(Some(pid))
}

fn down(a: &DownArgs) -> anyhow::Result<Outcome> {
    let r = Router::open()?;
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let found = rt.block_on(inspect(&docker, &r))?;
    let serving: Vec<String> = found
        .as_ref()
        .filter(|i| i.state == "running")
        .and_then(|i| i.admin)
        .and_then(
            |addr| match rt.block_on(admin(addr, "GET", "/config/", None)) {
                Ok((200, body)) => {
                    Some(routes_of(&serde_json::from_str(&body).unwrap_or_default()))
                }
                _ => None,
            },
        )
        .unwrap_or_default()
        .into_iter()
        .map(|route| route.domain)
        .collect();
    if !serving.is_empty() {
        if !a.yes {
            eprintln!(
                "{}: not stopping the router: it routes running projects: {}",
                crate::TOOL,
                serving.join(", ")
            );
            eprintln!(
                "hint: stop them first (stackctl stop ...), or pass --yes to stop the router anyway"
            );
            return Ok(Outcome::Found);
        }
        berth::cli::warn(
            crate::TOOL,
            format!(
                "stopping the router under running projects (--yes): {}",
                serving.join(", ")
            ),
        );
    }
    if let Some(pid) = stop_watcher(&r)? {
        berth::info!("stopped the router watcher (pid {pid})");
    }
    if found.is_none() {
        berth::info!("{}: not running", r.container);
    } else {
        let t = i32::try_from(a.timeout.as_secs()).unwrap_or(i32::MAX);
        let _ = rt.block_on(docker.stop_container(
            &r.container,
            Some(bollard::query_parameters::StopContainerOptions {
                t: Some(t),
                ..Default::default()
            }),
        ));
        rt.block_on(docker.remove_container(
            &r.container,
            Some(bollard::query_parameters::RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        ))
        .with_context(|| format!("cannot remove {}", r.container))?;
        berth::info!("removed {}", r.container);
    }
    let _ = std::fs::remove_file(r.file(STATE));
    Ok(Outcome::Clean)
}

/// The router as `status` shows it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
pub struct RouterStatus {
    /// Its container, `<name>-router`.
    pub container: String,
    pub image: Option<String>,
    /// `running`, `exited`, ... or `absent`.
    pub state: String,
    /// When the container last started (RFC 3339).
    pub started_at: Option<String>,
    pub http_port: u16,
    pub https_port: u16,
    /// The admin API on the host (`127.0.0.1:PORT`).
    pub admin: Option<String>,
    /// Whether Caddy's admin API answers.
    pub caddy_answers: bool,
    /// The watcher's process id, while it runs.
    pub watcher: Option<u32>,
    /// What Caddy serves now (its running config).
    pub routes: Vec<Route>,
    /// Caddy's rejection of the last config tried, when it rejected it.
    pub last_error: Option<String>,
    /// When the watcher last loaded a config.
    pub last_load: Option<String>,
}

fn status(a: &StatusArgs) -> anyhow::Result<Outcome> {
    let r = Router::open()?;
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(berth::docker::connect())?;
    let i = rt.block_on(inspect(&docker, &r))?;
    let mut caddy_answers = false;
    let mut routes = Vec::new();
    if let Some(addr) = i
        .as_ref()
        .filter(|i| i.state == "running")
        .and_then(|i| i.admin)
        && let Ok((200, body)) = rt.block_on(admin(addr, "GET", "/config/", None))
    {
        caddy_answers = true;
        routes = routes_of(&serde_json::from_str(&body).unwrap_or_default());
    }
    let last: Option<LastLoad> = std::fs::read_to_string(r.file(STATE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let s = RouterStatus {
        container: r.container.clone(),
        image: i.as_ref().map(|i| i.image.clone()),
        state: i
            .as_ref()
            .map_or_else(|| "absent".into(), |i| i.state.clone()),
        started_at: i.as_ref().and_then(|i| i.started_at.clone()),
        http_port: r.ports.http_port,
        https_port: r.ports.https_port,
        admin: i.as_ref().and_then(|i| i.admin).map(|a| a.to_string()),
        caddy_answers,
        watcher: watcher_pid(&r),
        routes,
        last_error: last.as_ref().and_then(|l| l.error.clone()),
        last_load: last.map(|l| l.time),
    };
    if a.output.is_json() {
        berth::io::write_json(&s)?;
        return Ok(Outcome::Clean);
    }
    let mut out = berth::io::stdout();
    writeln!(
        out,
        "router    {} ({}), {}{}",
        s.container,
        s.image.as_deref().unwrap_or(IMAGE),
        s.state,
        s.started_at
            .as_deref()
            .filter(|_| s.state == "running")
            .map(|t| format!(" since {t}"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "ports     https 127.0.0.1:{}, http 127.0.0.1:{}",
        s.https_port, s.http_port
    )?;
    writeln!(
        out,
        "caddy     {}",
        match (&s.admin, s.caddy_answers) {
            (Some(a), true) => format!("answers on {a}"),
            (Some(a), false) => format!("does not answer on {a}"),
            (None, _) => "not running".into(),
        }
    )?;
    writeln!(
        out,
        "watcher   {}",
        s.watcher.map_or_else(
            || "not running (shared router up starts it)".to_owned(),
            |p| format!("pid {p}, log {}", r.file(LOGFILE).display())
        )
    )?;
    if s.routes.is_empty() {
        writeln!(out, "routes    none")?;
    } else {
        writeln!(out, "routes")?;
        for route in &s.routes {
            writeln!(out, "  https://{} -> {}", route.domain, route.upstream)?;
        }
    }
    if let Some(e) = &s.last_error {
        writeln!(out, "rejected  {e}")?;
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_routes_each_domain_and_answers_502_for_the_rest() {
        let ports = RouterConfig {
            http_port: 8080,
            https_port: 8443,
            admin_port: None,
        };
        let routes = vec![Route {
            domain: "shop.test".into(),
            upstream: "shop-web-1:8000".into(),
        }];
        let c = caddy_config(&ports, &routes, &["shop.test".into()]);
        assert_eq!(routes_of(&c), routes);
        let https = &c["apps"]["http"]["servers"]["berth-https"];
        assert_eq!(https["routes"][1]["handle"][0]["status_code"], 502);
        assert_eq!(
            c["apps"]["tls"]["certificates"]["load_files"][0]["key"],
            "/certs/shop.test/key.pem"
        );
        let redirect = &c["apps"]["http"]["servers"]["berth-http"]["routes"][0]["handle"][0];
        assert_eq!(
            redirect["headers"]["Location"][0],
            "https://{http.request.host}:8443{http.request.uri}"
        );
        assert_eq!(c["admin"]["listen"], "0.0.0.0:2019");
    }

    #[test]
    fn router_ports_are_checked() {
        let mut p = RouterConfig::default();
        assert!(check_ports(&p).is_ok());
        p.https_port = 80;
        assert!(check_ports(&p).is_err());
        p.https_port = 0;
        assert!(check_ports(&p).is_err());
        assert_eq!(dechunk("5\r\nhello\r\n0\r\n\r\n"), "hello");
    }
}
