//! Docker engine access (feature `docker`): connect to Docker or Podman's
//! Docker-compatible socket (the one `crate::runtime` chooses), and find the
//! containers of compose projects by their labels in one engine query.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::Context as _;
use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;

use crate::cli::ResultExt as _;
use crate::model::{PortBinding, Protocol, UNSPECIFIED};
use crate::runtime::{Engine, Kind};

/// Label compose puts on every container of a project.
pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
/// Label compose puts on every container of a service.
pub const COMPOSE_SERVICE: &str = "com.docker.compose.service";
/// berth's own labels on generated services.
pub const BERTH_PROJECT: &str = "berth.project";
pub const BERTH_SERVICE: &str = "berth.service";
pub const BERTH_STACK: &str = "berth.stack";

/// A single-threaded runtime for a tool's few engine calls.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `f`, or an error saying that `what` did not answer within `limit`.
pub async fn with_timeout<T>(
    limit: std::time::Duration,
    what: &str,
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| anyhow::anyhow!("{what} did not answer within {} s", limit.as_secs()))?
}

const ENGINE_HINT: &str = "start the engine (`sudo systemctl start docker`, `dockerd &`, or \
     Podman's `podman system service`), or set DOCKER_HOST / CONTAINER_HOST; `stackctl doctor` checks it";

/// The kind of engine this process's clients talk to (0: not known yet,
/// 1: Docker, 2: Podman), for the few places where Podman's answers differ.
static KIND: AtomicU8 = AtomicU8::new(0);
/// The socket path behind [`KIND`], for Podman's own (libpod) endpoints.
static SOCKET: std::sync::Mutex<Option<std::path::PathBuf>> = std::sync::Mutex::new(None);

fn remember(engine: &Engine) {
    KIND.store(
        match engine.kind {
            Kind::Docker => 1,
            Kind::Podman => 2,
        },
        Ordering::Relaxed,
    );
    if let Ok(mut s) = SOCKET.lock() {
        *s = engine.socket().map(std::path::Path::to_path_buf);
    }
}

/// The engine kind the clients of this process talk to, once one was made.
pub fn kind_in_use() -> Option<Kind> {
    match KIND.load(Ordering::Relaxed) {
        1 => Some(Kind::Docker),
        2 => Some(Kind::Podman),
        _ => None,
    }
}

/// A client for `engine`, without a round trip.
pub fn client_for(engine: &Engine) -> anyhow::Result<Docker> {
    remember(engine);
    Docker::connect_with_host(&engine.host).with_context(|| {
        format!(
            "cannot use {} at {} ({})",
            engine.kind, engine.host, engine.why
        )
    })
}

/// A client for the engine berth uses here ([`Engine::current`]: config,
/// environment, the sockets found), without a round trip: the first request
/// finds out whether the engine answers. bollard sends unversioned paths
/// over a local socket, so the engine answers in its own API version either
/// way.
pub fn client() -> anyhow::Result<Docker> {
    client_for(&Engine::current()?)
}

/// Connect to the engine berth uses here, find out which engine answers
/// (its `/version`: Podman names a component "Podman Engine") and agree on
/// an API version both sides speak, in one round trip.
pub async fn connect_engine() -> anyhow::Result<(Docker, Engine)> {
    let mut engine = Engine::current()?;
    let docker = client_for(&engine)?;
    let v = docker
        .version()
        .await
        .with_context(|| {
            format!(
                "the container engine does not answer: {} at {} ({})",
                engine.kind, engine.host, engine.why
            )
        })
        .hint(engine.hint())?;
    let components: Vec<String> = v
        .components
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    let platform = v.platform.map(|p| p.name).unwrap_or_default();
    engine.identify(&components, &platform)?;
    remember(&engine);
    let server = v.api_version.as_deref().and_then(|a| {
        let (major, minor) = a.split_once('.')?;
        Some(bollard::ClientVersion {
            major_version: major.parse().ok()?,
            minor_version: minor.parse().ok()?,
        })
    });
    let docker = match server {
        Some(server) if &server < bollard::API_DEFAULT_VERSION => match engine.socket() {
            Some(path) => Docker::connect_with_unix(&path.to_string_lossy(), 120, &server)
                .with_context(|| format!("cannot connect to {}", engine.host))?,
            None => docker,
        },
        _ => docker,
    };
    Ok((docker, engine))
}

/// Connect to the engine and agree on an API version both sides speak
/// (one round trip, which also shows that the engine answers).
pub async fn connect() -> anyhow::Result<Docker> {
    Ok(connect_engine().await?.0)
}

/// A container of a compose project, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    pub project: String,
    pub service: String,
    pub image: String,
    /// `running`, `exited`, `restarting`, ...
    pub state: String,
    /// `healthy`, `unhealthy`, `starting`, or `None` without a healthcheck.
    pub health: Option<String>,
    /// The exit code of an exited container.
    pub exit_code: Option<i64>,
    pub ports: Vec<PortBinding>,
    pub labels: HashMap<String, String>,
}

/// Create the bridge network `name` unless it exists (the shared network:
/// created by berth, not by a compose project, so no `down` removes it
/// while other projects' containers are attached). Returns whether it was
/// created now.
pub async fn ensure_network(docker: &Docker, name: &str) -> anyhow::Result<bool> {
    if docker.inspect_network(name, None).await.is_ok() {
        return Ok(false);
    }
    let labels = HashMap::from([("berth.network".to_owned(), name.to_owned())]);
    match docker
        .create_network(bollard::models::NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".to_owned()),
            labels: Some(labels),
            ..Default::default()
        })
        .await
    {
        Ok(_) => Ok(true),
        // Created meanwhile by another berth command.
        Err(_) if docker.inspect_network(name, None).await.is_ok() => Ok(false),
        Err(e) => Err(anyhow::Error::new(e))
            .with_context(|| format!("cannot create the network {name}"))
            .hint(ENGINE_HINT),
    }
}

/// The names of the containers attached to `network`.
async fn attached(docker: &Docker, network: &str) -> anyhow::Result<Vec<String>> {
    let n = docker
        .inspect_network(network, None)
        .await
        .with_context(|| format!("cannot inspect the network {network}"))?;
    Ok(n.containers
        .unwrap_or_default()
        .into_values()
        .filter_map(|c| c.name)
        .collect())
}

/// Connect `containers` (the shared servers) to every network of the
/// compose project `project`, with no alias: a project's containers reach
/// them by their container names, and no other project's container is ever
/// on the project's network. Already connected ones are left as they are.
pub async fn connect_to_project(
    docker: &Docker,
    project: &str,
    containers: &[String],
) -> anyhow::Result<()> {
    use bollard::query_parameters::ListNetworksOptions;
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .context("cannot list networks")
        .hint(ENGINE_HINT)?;
    for net in networks.into_iter().filter_map(|n| n.name) {
        let there = attached(docker, &net).await?;
        for c in containers.iter().filter(|c| !there.contains(c)) {
            docker
                .connect_network(
                    &net,
                    bollard::models::NetworkConnectRequest {
                        container: c.clone(),
                        endpoint_config: None,
                    },
                )
                .await
                .with_context(|| format!("cannot connect {c} to the network {net}"))?;
        }
    }
    Ok(())
}

/// The containers of compose projects, all of them (`projects` empty) or of
/// the named ones, stopped containers included; one engine query.
pub async fn project_containers(
    docker: &Docker,
    projects: &[&str],
) -> anyhow::Result<Vec<ContainerInfo>> {
    let mut out = project_containers_as_listed(docker, projects).await?;
    if kind_in_use() == Some(Kind::Podman) {
        podman_health(&mut out).await;
    }
    Ok(out)
}

/// [`project_containers`] as the one list request has them: with Podman,
/// no health (see [`podman_health`]). For callers that do not look at
/// health (`stackctl exec`), so they stay one request.
pub async fn project_containers_as_listed(
    docker: &Docker,
    projects: &[&str],
) -> anyhow::Result<Vec<ContainerInfo>> {
    let list_by = |label: String| {
        let filters = HashMap::from([("label".to_owned(), vec![label])]);
        docker.list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
    };
    // One project: let the engine filter (its containers only cross the
    // socket); a project known by berth's label alone takes the wide query.
    let mut list = match projects {
        [one] => list_by(format!("{COMPOSE_PROJECT}={one}"))
            .await
            .context("cannot list containers")
            .hint(ENGINE_HINT)?,
        _ => Vec::new(),
    };
    if list.is_empty() {
        list = list_by(COMPOSE_PROJECT.to_owned())
            .await
            .context("cannot list containers")
            .hint(ENGINE_HINT)?;
    }
    let mut out = Vec::new();
    for c in list {
        let labels = c.labels.unwrap_or_default();
        let project = labels
            .get(BERTH_PROJECT)
            .or_else(|| labels.get(COMPOSE_PROJECT))
            .cloned()
            .unwrap_or_default();
        if !projects.is_empty() && !projects.contains(&project.as_str()) {
            continue;
        }
        let service = labels
            .get(BERTH_SERVICE)
            .or_else(|| labels.get(COMPOSE_SERVICE))
            .cloned()
            .unwrap_or_default();
        let status = c.status.unwrap_or_default();
        let state = c.state.map(|s| s.to_string()).unwrap_or_default();
        let mut ports: Vec<PortBinding> = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| PortBinding {
                service: service.clone(),
                host_ip: p
                    .ip
                    .as_deref()
                    .and_then(|ip| ip.parse::<IpAddr>().ok())
                    .unwrap_or(UNSPECIFIED),
                published: p.public_port,
                target: p.private_port,
                protocol: if p.typ.is_some_and(|t| t.to_string() == "udp") {
                    Protocol::Udp
                } else {
                    Protocol::Tcp
                },
            })
            .collect();
        ports.sort_by_key(|p| (p.target, p.published, p.host_ip));
        ports.dedup();
        out.push(ContainerInfo {
            id: c.id.unwrap_or_default(),
            name: c
                .names
                .unwrap_or_default()
                .first()
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_default(),
            project,
            service,
            image: c.image.unwrap_or_default(),
            state,
            health: health_from_status(&status),
            exit_code: exit_code_from_status(&status),
            ports,
            labels,
        });
    }
    out.sort_by(|a, b| (&a.project, &a.service, &a.name).cmp(&(&b.project, &b.service, &b.name)));
    Ok(out)
}

/// When each container's healthcheck last ran here, and what it said.
type HealthRuns = HashMap<String, (std::time::Instant, Option<String>)>;
static HEALTH_RUNS: std::sync::Mutex<Option<HealthRuns>> = std::sync::Mutex::new(None);

/// How often berth runs a Podman container's healthcheck while it looks.
const PODMAN_HEALTH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Podman differs from Docker in health twice, both handled here:
/// - its compatible container list leaves the health out of the status line
///   (`Up 5 seconds`, where Docker writes `Up 5 seconds (healthy)`);
/// - Podman 4.3 runs healthchecks from systemd timers only, so with no
///   systemd (containers, CI machines, this test bed) a container's health
///   stays `starting` for ever.
///
/// So for each running container berth asks libpod's own endpoint
/// `GET /libpod/containers/ID/healthcheck`, which runs the check once and
/// answers its status (`healthy`, `unhealthy`, `starting` while retries
/// remain; 409 for a container without a healthcheck), at most once a
/// second per container; in between the last answer stands.
async fn podman_health(containers: &mut [ContainerInfo]) {
    let Some(socket) = SOCKET.lock().ok().and_then(|s| s.clone()) else {
        return;
    };
    let now = std::time::Instant::now();
    let due: Vec<String> = {
        let runs = HEALTH_RUNS.lock().ok();
        containers
            .iter()
            .filter(|c| c.state == "running" && c.health.is_none())
            .filter(|c| {
                runs.as_ref()
                    .and_then(|r| r.as_ref()?.get(&c.id))
                    .is_none_or(|(at, _)| now.duration_since(*at) >= PODMAN_HEALTH_EVERY)
            })
            .map(|c| c.id.clone())
            .collect()
    };
    let answers = futures_util::future::join_all(due.iter().map(|id| {
        let socket = socket.clone();
        async move { (id.clone(), run_podman_healthcheck(&socket, id).await) }
    }))
    .await;
    let Ok(mut runs) = HEALTH_RUNS.lock() else {
        return;
    };
    let runs = runs.get_or_insert_with(HashMap::new);
    for (id, answer) in answers {
        if let Ok(health) = answer {
            runs.insert(id, (now, health));
        }
    }
    for c in containers.iter_mut().filter(|c| c.state == "running") {
        if c.health.is_none()
            && let Some((_, h)) = runs.get(&c.id)
        {
            c.health.clone_from(h);
        }
    }
}

/// Run a Podman container's healthcheck through libpod's endpoint: the
/// container's health, `None` without a healthcheck (HTTP 409). The
/// endpoint answers how this one run went (`unhealthy` for a failed run
/// even while retries remain), so after a failed run the container's own
/// status (which counts the retries) is read from its inspect.
async fn run_podman_healthcheck(
    socket: &std::path::Path,
    id: &str,
) -> anyhow::Result<Option<String>> {
    let (code, body) = podman_get(
        socket,
        &format!("/v4.0.0/libpod/containers/{id}/healthcheck"),
    )
    .await?;
    match code.as_str() {
        "200" => {
            let v: serde_json::Value = serde_json::from_str(&body)?;
            if v["Status"].as_str() == Some("healthy") {
                return Ok(Some("healthy".into()));
            }
            let (code, body) = podman_get(socket, &format!("/containers/{id}/json")).await?;
            anyhow::ensure!(code == "200", "inspect answered {code}");
            let v: serde_json::Value = serde_json::from_str(&body)?;
            Ok(v["State"]["Health"]["Status"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned))
        }
        "409" => Ok(None),
        other => anyhow::bail!("libpod healthcheck answered {other}: {}", body.trim()),
    }
}

/// One GET on Podman's socket: the status code and the body.
async fn podman_get(socket: &std::path::Path, path: &str) -> anyhow::Result<(String, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::UnixStream::connect(socket).await?;
    // HTTP/1.0: the engine closes the connection after its answer.
    let request = format!("GET {path} HTTP/1.0\r\nHost: podman\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut reply = Vec::new();
    let mut limited = stream.take(4 * 1024 * 1024);
    let read = limited.read_to_end(&mut reply);
    tokio::time::timeout(std::time::Duration::from_secs(60), read).await??;
    let text = String::from_utf8_lossy(&reply);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((code, body.to_owned()))
}

/// The exit code in a status line such as `Exited (0) 5 seconds ago` or
/// `Restarting (1) 2 seconds ago` (Docker and Podman both write it so),
/// which spares an inspect per container.
pub fn exit_code_from_status(status: &str) -> Option<i64> {
    let rest = status
        .strip_prefix("Exited (")
        .or_else(|| status.strip_prefix("Restarting ("))?;
    rest[..rest.find(')')?].parse().ok()
}

/// The health in a status line such as `Up 5 seconds (healthy)`; engines of
/// every API version report it there.
pub fn health_from_status(status: &str) -> Option<String> {
    ["(healthy)", "(unhealthy)", "(health: starting)"]
        .iter()
        .find(|h| status.contains(*h))
        .map(|h| {
            h.trim_matches(|c| c == '(' || c == ')')
                .trim_start_matches("health: ")
                .to_owned()
        })
}

/// How a command run in a container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    /// The command's exit code; `None` when the engine does not know it
    /// (the container stopped under it).
    pub exit_code: Option<i64>,
    /// The last 64 KiB of what the command wrote on stderr.
    pub stderr: Vec<u8>,
}

impl ExecResult {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The stderr tail as text, trimmed, for messages.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_owned()
    }
}

const STDERR_KEEP: usize = 64 * 1024;

/// Run `argv` in a running container and stream its stdout into `stdout`,
/// chunk by chunk, as it comes (nothing is held beyond one chunk). `env`
/// entries (`NAME=value`) go in the exec's environment, never in its
/// arguments, so secrets stay out of process listings. With `stdin`, its
/// bytes are copied to the command's stdin while stdout is drained, and the
/// input is closed at the end.
///
/// An error from `stdout` (a full disk, an interruption) ends the command's
/// connection and is returned as is.
pub async fn exec(
    docker: &Docker,
    container: &str,
    argv: &[String],
    env: &[String],
    stdin: Option<&mut (dyn std::io::Read + Send)>,
    stdout: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
) -> anyhow::Result<ExecResult> {
    use bollard::container::LogOutput;
    use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
    use futures_util::StreamExt as _;
    use tokio::io::AsyncWriteExt as _;

    let program = argv.first().map_or("", String::as_str);
    let opts = CreateExecOptions {
        attach_stdin: Some(stdin.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        env: Some(env.to_vec()),
        cmd: Some(argv.to_vec()),
        ..Default::default()
    };
    let created = docker
        .create_exec(container, opts)
        .await
        .with_context(|| format!("cannot run {program} in container {container}"))?;
    let started = docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                output_capacity: Some(128 * 1024),
                ..Default::default()
            }),
        )
        .await
        .with_context(|| format!("cannot start {program} in container {container}"))?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started
    else {
        anyhow::bail!("the engine did not attach to {program} in container {container}");
    };
    let mut stderr = Vec::new();
    let read = async {
        while let Some(frame) = output.next().await {
            match frame
                .with_context(|| format!("lost the output of {program} in container {container}"))?
            {
                LogOutput::StdOut { message } | LogOutput::Console { message } => stdout(&message)?,
                LogOutput::StdErr { message } => {
                    stderr.extend_from_slice(&message);
                    if stderr.len() > 2 * STDERR_KEEP {
                        stderr.drain(..stderr.len() - STDERR_KEEP);
                    }
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        anyhow::Ok(())
    };
    let write = async {
        let Some(reader) = stdin else {
            return anyhow::Ok(());
        };
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            input.write_all(&buf[..n]).await.with_context(|| {
                format!("{program} in container {container} stopped reading its input")
            })?;
        }
        input.flush().await?;
        input.shutdown().await?;
        anyhow::Ok(())
    };
    let (r, w) = tokio::join!(read, write);
    r?;
    w?;
    if stderr.len() > STDERR_KEEP {
        stderr.drain(..stderr.len() - STDERR_KEEP);
    }
    // The engine may report the exit status a moment after the output ends.
    let mut exit_code = None;
    for attempt in 0..20 {
        let inspect = docker
            .inspect_exec(&created.id)
            .await
            .context("cannot read the exit status of the command")?;
        if inspect.running != Some(true) {
            exit_code = inspect.exit_code;
            break;
        }
        if attempt < 19 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    Ok(ExecResult { exit_code, stderr })
}

/// Run `argv` in a container and collect its (small) stdout.
pub async fn exec_capture(
    docker: &Docker,
    container: &str,
    argv: &[String],
    env: &[String],
) -> anyhow::Result<(ExecResult, Vec<u8>)> {
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| {
        if out.len() < 16 * 1024 * 1024 {
            out.extend_from_slice(b);
        }
        Ok(())
    };
    let r = exec(docker, container, argv, env, None, &mut sink).await?;
    Ok((r, out))
}

/// The environment a container runs with (`NAME=value`, from its config).
pub async fn container_env(docker: &Docker, container: &str) -> anyhow::Result<Vec<String>> {
    let info = docker
        .inspect_container(
            container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .with_context(|| format!("cannot inspect container {container}"))?;
    Ok(info.config.and_then(|c| c.env).unwrap_or_default())
}

/// The container's addresses on its networks (none with `network_mode:
/// host` or `none`): where a client inside it reaches its own server over
/// the network rather than the loopback, which database images trust.
pub async fn container_addresses(docker: &Docker, container: &str) -> anyhow::Result<Vec<String>> {
    let info = docker
        .inspect_container(
            container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .with_context(|| format!("cannot inspect container {container}"))?;
    Ok(info
        .network_settings
        .and_then(|n| n.networks)
        .into_iter()
        .flat_map(HashMap::into_values)
        .filter_map(|n| n.ip_address.filter(|ip| !ip.is_empty()))
        .collect())
}

/// The programs of the execs still running in a container (each exec's
/// first word): a client that a killed tool started goes on by itself
/// (the engine does not stop an exec whose caller went away).
pub async fn running_execs(docker: &Docker, container: &str) -> anyhow::Result<Vec<String>> {
    let info = docker
        .inspect_container(
            container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .with_context(|| format!("cannot inspect container {container}"))?;
    let mut out = Vec::new();
    for id in info.exec_ids.unwrap_or_default() {
        // An exec that ended and was cleaned up meanwhile is not running.
        if let Ok(e) = docker.inspect_exec(&id).await
            && e.running == Some(true)
        {
            out.push(
                e.process_config
                    .and_then(|p| p.entrypoint)
                    .unwrap_or_default(),
            );
        }
    }
    Ok(out)
}

/// What taking a compose project down removes: its containers and
/// networks, and with data its volumes and the images compose built for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Teardown {
    pub project: String,
    /// Whether the data goes too (volumes, anonymous ones included, and images).
    pub with_data: bool,
    /// Container names.
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// Images compose built for the project (`PROJECT_SERVICE` or
    /// `PROJECT-SERVICE`, no custom tag: what `down --rmi local` removes).
    pub images: Vec<String>,
}

impl Teardown {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.networks.is_empty()
            && self.volumes.is_empty()
            && self.images.is_empty()
    }

    /// `2 containers (a, b), network n` for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (what, list) in [
            ("container", &self.containers),
            ("network", &self.networks),
            ("volume", &self.volumes),
            ("image", &self.images),
        ] {
            match list.len() {
                0 => {}
                1 => parts.push(format!("{what} {}", list[0])),
                n => parts.push(format!("{n} {what}s ({})", list.join(", "))),
            }
        }
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

fn project_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![format!("{COMPOSE_PROJECT}={project}")],
    )])
}

/// Find what `down` would remove for a compose project, from the engine's
/// labels (compose labels containers, networks and volumes with the
/// project's name); nothing is changed.
pub async fn teardown_plan(
    docker: &Docker,
    project: &str,
    with_data: bool,
) -> anyhow::Result<Teardown> {
    use bollard::query_parameters::{ListNetworksOptions, ListVolumesOptions};
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(project_filter(project)),
            ..Default::default()
        }))
        .await
        .context("cannot list containers")?;
    let mut plan = Teardown {
        project: project.to_owned(),
        with_data,
        ..Teardown::default()
    };
    let mut images = Vec::new();
    for c in &containers {
        if let Some(name) = c.names.as_ref().and_then(|n| n.first()) {
            plan.containers
                .push(name.trim_start_matches('/').to_owned());
        }
        let service = c
            .labels
            .as_ref()
            .and_then(|l| l.get(COMPOSE_SERVICE))
            .map_or("", String::as_str);
        let image = c.image.as_deref().unwrap_or_default();
        let image = image.strip_suffix(":latest").unwrap_or(image);
        // Podman names what it builds `localhost/NAME` (podman-compose:
        // `localhost/PROJECT_SERVICE`); Docker leaves the name bare.
        let image = image.strip_prefix("localhost/").unwrap_or(image);
        if !service.is_empty()
            && (image == format!("{project}_{service}") || image == format!("{project}-{service}"))
            && !images.iter().any(|i| i == image)
        {
            images.push(image.to_owned());
        }
    }
    plan.containers.sort();
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .context("cannot list networks")?;
    plan.networks = networks.into_iter().filter_map(|n| n.name).collect();
    plan.networks.sort();
    if with_data {
        let volumes = docker
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(project_filter(project)),
            }))
            .await
            .context("cannot list volumes")?;
        plan.volumes = volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        plan.volumes.sort();
        images.sort();
        plan.images = images;
    }
    Ok(plan)
}

/// Remove what `plan` names: stop the containers (SIGTERM, SIGKILL after
/// `stop_timeout` seconds, all at once), remove them (with their anonymous
/// volumes when the plan removes data), then the networks, volumes and
/// images. Every step is tried; the failures are reported together.
pub async fn teardown(docker: &Docker, plan: &Teardown, stop_timeout: i32) -> anyhow::Result<()> {
    use bollard::query_parameters::{
        RemoveContainerOptions, RemoveImageOptions, RemoveVolumeOptions, StopContainerOptions,
    };
    let with_data = plan.with_data;
    let mut failed: Vec<String> = Vec::new();
    let stops = plan.containers.iter().map(|c| async move {
        let _ = docker
            .stop_container(
                c,
                Some(StopContainerOptions {
                    t: Some(stop_timeout),
                    signal: None,
                }),
            )
            .await;
        docker
            .remove_container(
                c,
                Some(RemoveContainerOptions {
                    force: true,
                    v: with_data,
                    link: false,
                }),
            )
            .await
            .map_err(|e| format!("container {c}: {e}"))
    });
    for r in futures_util::future::join_all(stops).await {
        failed.extend(r.err());
    }
    for n in &plan.networks {
        // Containers of no project of its own on it (the shared servers,
        // the router) leave it first, or it cannot be removed. The router's
        // watcher may be leaving it too: while the engine takes that
        // endpoint down it counts as active, so the removal is tried again
        // for up to 2 s.
        let mut tries = 0;
        loop {
            for c in attached(docker, n).await.unwrap_or_default() {
                let _ = docker
                    .disconnect_network(
                        n,
                        bollard::models::NetworkDisconnectRequest {
                            container: c,
                            force: Some(true),
                        },
                    )
                    .await;
            }
            match docker.remove_network(n).await {
                Ok(()) => break,
                Err(e) if tries < 20 && e.to_string().contains("active endpoints") => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => {
                    failed.push(format!("network {n}: {e}"));
                    break;
                }
            }
        }
    }
    for v in &plan.volumes {
        if let Err(e) = docker
            .remove_volume(v, Some(RemoveVolumeOptions { force: true }))
            .await
        {
            failed.push(format!("volume {v}: {e}"));
        }
    }
    for i in &plan.images {
        if let Err(e) = docker
            .remove_image(i, Some(RemoveImageOptions::default()), None)
            .await
        {
            failed.push(format!("image {i}: {e}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "cannot remove everything of project '{}': {}",
            plan.project,
            failed.join("; ")
        )
    }
}

/// The label of the shared router's container (`shared router`), which
/// joins the networks of the projects it routes to.
pub const ROUTER_LABEL: &str = "berth.shared.router";

/// The named volumes of `project` that the containers `removed` (IDs)
/// mount and no other container of the project does: the data that goes
/// with those containers alone. Anonymous volumes go with the container
/// itself (`v` on removal).
pub async fn volumes_only_of(
    docker: &Docker,
    project: &str,
    removed: &[String],
) -> anyhow::Result<Vec<String>> {
    use bollard::query_parameters::ListVolumesOptions;
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(project_filter(project)),
            ..Default::default()
        }))
        .await
        .context("cannot list containers")?;
    let named = |c: &bollard::models::ContainerSummary| -> Vec<String> {
        c.mounts
            .iter()
            .flatten()
            .filter(|m| m.typ.as_deref() == Some("volume"))
            .filter_map(|m| m.name.clone())
            .collect()
    };
    let gone = |c: &bollard::models::ContainerSummary| {
        c.id.as_ref().is_some_and(|id| removed.contains(id))
    };
    let kept: HashSet<String> = containers
        .iter()
        .filter(|c| !gone(c))
        .flat_map(named)
        .collect();
    let theirs: HashSet<String> = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(project_filter(project)),
        }))
        .await
        .context("cannot list volumes")?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    let mut out: Vec<String> = containers
        .iter()
        .filter(|c| gone(c))
        .flat_map(named)
        .filter(|v| theirs.contains(v) && !kept.contains(v))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Take a compose project down at once (for tools that only need that):
/// its containers and networks, with `with_data` its volumes and built
/// images. Returns what was removed.
pub fn take_down(project: &str, with_data: bool, stop_timeout: i32) -> anyhow::Result<Teardown> {
    runtime()?.block_on(async {
        let docker = connect().await?;
        let plan = teardown_plan(&docker, project, with_data).await?;
        teardown(&docker, &plan, stop_timeout).await?;
        Ok(plan)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_read_from_the_status_line() {
        assert_eq!(exit_code_from_status("Exited (3) 1 second ago"), Some(3));
        assert_eq!(
            exit_code_from_status("Restarting (1) 2 seconds ago"),
            Some(1)
        );
        assert_eq!(exit_code_from_status("Up 2 seconds"), None);
    }

    #[test]
    fn health_is_read_from_the_status_line() {
        assert_eq!(
            health_from_status("Up 3 minutes (healthy)").as_deref(),
            Some("healthy")
        );
        assert_eq!(
            health_from_status("Up 1 second (health: starting)").as_deref(),
            Some("starting")
        );
        assert_eq!(
            health_from_status("Up 2 hours (unhealthy)").as_deref(),
            Some("unhealthy")
        );
        assert_eq!(health_from_status("Exited (1) 2 minutes ago"), None);
    }
}
