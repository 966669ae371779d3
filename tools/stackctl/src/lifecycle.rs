//! `start`, `stop`, `restart`, `stop-all`: drive the compose stack, check
//! ports before a start, wait for health, run hooks, record the status.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context as _;
use berth::claims::{self, CheckOptions};
use berth::cli::{Outcome, confirm, render_error, warn};
use berth::docker::ContainerInfo;
use berth::duration;
use berth::registry::Registry;
use berth::{ClaimSource, Conflict, Project, ProjectPorts, Protocol, Status, netstat};
use bollard::Docker;

use crate::driver::Driver;
use crate::engine;
use crate::progress::Progress;
use crate::ready::{self, StackPlan};
use crate::{TOOL, hooks, images, project_dir, record, registry, select};

/// Start projects: check ports, run the stack detached, wait until the app answers.
///
/// Every host port the project publishes is checked against the projects
/// running now and against what listens on this machine (`ports check
/// --running --probe`). A conflict refuses the start (exit 1) unless
/// --force. Then `pre_start` runs; images missing here are pulled (an image
/// that cannot be pulled is named, with the `images:` config key that maps
/// it to another) and built ones are built, before any container exists;
/// compose brings the stack up (`up -d`) with the project's compose files,
/// `.env` and registry variables. stackctl then waits until every
/// long-running service runs and passes its healthcheck and, when the app
/// (the service publishing the project's HTTP port) has no healthcheck,
/// until http://127.0.0.1:PORT/ answers (any status below 500), polling
/// every 50 ms. A service that exits, restarts or turns unhealthy fails the
/// start at once (exit 2) with its exit code and last log lines. The
/// registry records `running` and `last_started`, or what the engine shows.
/// The app's URLs end the output on stderr.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Names of registered projects.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Start even when a port is taken (a warning instead of a refusal).
    #[arg(long)]
    force: bool,
    /// How long to wait for the services to run and the app to answer (e.g. 2m, 90s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration::parse)]
    timeout: Duration,
    /// Show progress (pulls, build steps, what is waited for) on stderr even
    /// when it is not a terminal.
    #[arg(long)]
    progress: bool,
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

/// Stop projects gracefully (SIGTERM or the image's stop signal, then SIGKILL after --timeout).
#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Names of registered projects.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::parse)]
    timeout: Duration,
}

/// Stop, then start projects (hooks and the port check included).
#[derive(Debug, clap::Args)]
pub struct RestartArgs {
    /// Names of registered projects.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Start even when a port is taken.
    #[arg(long)]
    force: bool,
    /// How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::parse)]
    stop_timeout: Duration,
    /// How long to wait for the services to run and the app to answer (e.g. 2m, 90s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration::parse)]
    timeout: Duration,
    /// Show progress on stderr even when it is not a terminal.
    #[arg(long)]
    progress: bool,
}

/// How to start one project.
struct StartOpts {
    force: bool,
    timeout: Duration,
    progress: bool,
}

/// Stop every project that runs (or is recorded as running); asks first.
#[derive(Debug, clap::Args)]
pub struct StopAllArgs {
    /// Do not ask (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
    /// How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::parse)]
    timeout: Duration,
}

/// What every action needs: the registry, the compose driver, the engine.
pub(crate) struct Ctx {
    pub reg: Registry,
    pub driver: Driver,
    pub rt: tokio::runtime::Runtime,
    pub docker: Docker,
}

impl Ctx {
    pub fn new(reg: Registry) -> anyhow::Result<Self> {
        let rt = berth::docker::runtime()?;
        // The engine that answers picks the compose driver (Podman's for Podman).
        let (docker, engine) = rt.block_on(crate::engine::connect_engine())?;
        let driver = Driver::detect(&engine)?;
        Ok(Self {
            reg,
            driver,
            rt,
            docker,
        })
    }

    pub fn containers(&self, projects: &[&str]) -> anyhow::Result<Vec<ContainerInfo>> {
        self.rt
            .block_on(berth::docker::project_containers(&self.docker, projects))
    }
}

/// Load the registry and the named projects, and check their folders, before
/// anything runs.
pub(crate) fn prepare(names: &[String]) -> anyhow::Result<(Registry, Vec<Project>)> {
    let reg = registry()?;
    let projects = reg.load()?;
    let selected = select(&projects, names)?;
    for p in &selected {
        project_dir(p)?;
    }
    Ok((reg, selected))
}

pub fn start(a: &StartArgs) -> anyhow::Result<Outcome> {
    let (reg, selected) = prepare(&a.names)?;
    let ctx = Ctx::new(reg)?;
    let mut outcome = Outcome::Clean;
    let opts = StartOpts {
        force: a.force,
        timeout: a.timeout,
        progress: a.progress,
    };
    for p in &selected {
        if !start_one(&ctx, p, &opts)? {
            outcome = Outcome::Found;
        }
    }
    if a.output.is_json() {
        let projects = ctx.reg.load()?;
        let started = select(&projects, &a.names)?;
        let shared = berth::config::Config::load(&berth::paths::Paths::from_env()?)?
            .shared
            .name;
        let mut names: Vec<&str> = a.names.iter().map(String::as_str).collect();
        names.push(&shared);
        let containers = ctx.containers(&names)?;
        berth::io::write_json(&crate::status::states_from(&started, &containers))?;
    }
    Ok(outcome)
}

pub fn stop(a: &StopArgs) -> anyhow::Result<Outcome> {
    let (reg, selected) = prepare(&a.names)?;
    let ctx = Ctx::new(reg)?;
    for p in &selected {
        stop_one(&ctx, p, a.timeout)?;
    }
    Ok(Outcome::Clean)
}

pub fn restart(a: &RestartArgs) -> anyhow::Result<Outcome> {
    let (reg, selected) = prepare(&a.names)?;
    let ctx = Ctx::new(reg)?;
    let mut outcome = Outcome::Clean;
    for p in &selected {
        stop_one(&ctx, p, a.stop_timeout)?;
        let opts = StartOpts {
            force: a.force,
            timeout: a.timeout,
            progress: a.progress,
        };
        if !start_one(&ctx, p, &opts)? {
            outcome = Outcome::Found;
        }
    }
    Ok(outcome)
}

pub fn stop_all(a: &StopAllArgs) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    let projects = reg.load()?;
    let ctx = Ctx::new(reg)?;
    let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
    let containers = if names.is_empty() {
        Vec::new()
    } else {
        ctx.containers(&names)?
    };
    let running: HashSet<&str> = containers
        .iter()
        .filter(|c| c.state == "running")
        .map(|c| c.project.as_str())
        .collect();
    let chosen: Vec<&Project> = projects
        .iter()
        .filter(|p| {
            running.contains(p.name.as_str()) || matches!(p.status, Status::Running | Status::Error)
        })
        .collect();
    if chosen.is_empty() {
        berth::info!("no project runs");
        return Ok(Outcome::Clean);
    }
    let list: Vec<&str> = chosen.iter().map(|p| p.name.as_str()).collect();
    if !confirm(&format!("stop {}?", list.join(", ")), a.yes)? {
        berth::info!("nothing stopped");
        return Ok(Outcome::Clean);
    }
    let mut failed = 0;
    let mut stopped = 0;
    for p in chosen {
        let result = project_dir(p).and_then(|_| stop_one(&ctx, p, a.timeout));
        match result {
            Ok(()) => stopped += 1,
            Err(e) => {
                failed += 1;
                eprint!("{}", render_error(TOOL, &e));
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} project(s) could not be stopped ({stopped} stopped)");
    }
    berth::info!("stopped {stopped} project(s)");
    Ok(Outcome::Clean)
}

/// Stop one project: `pre_stop`, compose stop, record `stopped`, `post_stop`.
fn stop_one(ctx: &Ctx, p: &Project, timeout: Duration) -> anyhow::Result<()> {
    let hooks = hooks::load(&p.path)?;
    hooks::run("pre_stop", hooks.pre_stop.as_ref(), p)?;
    let env = hooks::environment(p, false)?;
    let t = duration::whole_seconds(timeout).to_string();
    ctx.driver
        .run(p, &crate::compose_files(p), &env, &["stop", "-t", &t])
        .with_context(|| format!("cannot stop '{}'", p.name))?;
    record(&ctx.reg, &p.name, Status::Stopped)?;
    berth::info!("{}: stopped", p.name);
    if let Err(e) = hooks::run("post_stop", hooks.post_stop.as_ref(), p) {
        warn(TOOL, format!("{e:#}"));
    }
    Ok(())
}

/// Start one project. `Ok(false)` when a port conflict refused the start.
fn start_one(ctx: &Ctx, p: &Project, opts: &StartOpts) -> anyhow::Result<bool> {
    let hooks = hooks::load(&p.path)?;
    let all = ctx.reg.load()?;
    let containers = ctx.containers(&[])?;
    let conflicts = port_conflicts(p, &all, &containers);
    if !go_ahead(p, &conflicts, opts.force) {
        return Ok(false);
    }
    crate::shared::ensure(p, &containers, opts.timeout)?;
    hooks::run("pre_start", hooks.pre_start.as_ref(), p)?;
    let env = hooks::environment(p, false)?;
    let (files, state) = labelled_files(p);
    berth::info!("{}: starting with {}", p.name, ctx.driver.name);
    let mut progress = Progress::new(opts.progress);
    let plan = StackPlan::load(p, &files, &env);
    let up = ctx
        .rt
        .block_on(images::prepare(
            &ctx.docker,
            &ctx.driver,
            p,
            &files,
            &env,
            &plan,
            &mut progress,
        ))
        .and_then(|()| {
            progress.say(&format!("{}: creating and starting the containers", p.name));
            if !p.shared.is_empty() {
                // The project's network first, then its shared servers on
                // it, then the containers that reach them by name.
                ctx.driver.run(p, &files, &env, &["up", "--no-start"])?;
                ctx.rt.block_on(crate::shared::connect(&ctx.docker, p))?;
            }
            ctx.driver.run(p, &files, &env, &["up", "-d"])?;
            // What the containers are made from, for `stackctl plan`.
            state.as_ref().map_or(Ok(()), |s| s.record(p))
        })
        .and_then(|()| {
            ctx.rt.block_on(ready::wait(
                &ctx.docker,
                p,
                &plan,
                opts.timeout,
                &mut progress,
            ))
        });
    progress.finish();
    let services = match up {
        Ok(s) => s,
        Err(e) => {
            // What the engine shows now (no containers after a failed pull
            // or build: stopped); a stack seen failing is an error even when
            // a restart has it running again for a moment.
            let status = match ctx.containers(&[p.name.as_str()]) {
                Ok(c) => {
                    match engine::summarize(Status::Running, &engine::services_of(&c, &p.name)).0 {
                        Status::Running => Status::Error,
                        other => other,
                    }
                }
                Err(_) => Status::Error,
            };
            record(&ctx.reg, &p.name, status)?;
            return Err(e.context(format!(
                "'{}' did not start (recorded as {status}, as the engine shows it)",
                p.name
            )));
        }
    };
    record(&ctx.reg, &p.name, Status::Running)?;
    let list: Vec<String> = services
        .iter()
        .map(|s| match &s.health {
            Some(h) => format!("{} ({h})", s.service),
            None => s.service.clone(),
        })
        .collect();
    berth::info!(
        "{}: running in {:.1}s: {}",
        p.name,
        progress.elapsed(),
        list.join(", ")
    );
    let urls = if plan.app.is_some() {
        urls(p)
    } else {
        Vec::new()
    };
    if !urls.is_empty() {
        berth::info!("{}: {}", p.name, urls.join("  "));
    }
    if let Err(e) = hooks::run("post_start", hooks.post_start.as_ref(), p) {
        warn(TOOL, format!("{e:#}"));
    }
    Ok(true)
}

/// The compose files to start with: the project's, and the one giving each
/// service its `berth.config-hash` label (so a plan after a start sees the
/// containers unchanged). A project whose files berth cannot read starts
/// without it (compose says what is wrong), with a warning.
fn labelled_files(p: &Project) -> (Vec<std::path::PathBuf>, Option<crate::plan::State>) {
    match crate::plan::State::load(p).and_then(|s| Ok((s.files_with_hash_labels(p)?, s))) {
        Ok((files, state)) => (files, Some(state)),
        Err(e) => {
            warn(
                TOOL,
                format!(
                    "{}: starting without config-hash labels (a plan will show every service changed): {e:#}",
                    p.name
                ),
            );
            (crate::compose_files(p), None)
        }
    }
}

/// Report port conflicts: refusals (with a hint), or warnings under --force.
/// Whether the start goes ahead.
pub(crate) fn go_ahead(p: &Project, conflicts: &[Conflict], force: bool) -> bool {
    if conflicts.is_empty() {
        return true;
    }
    for c in conflicts {
        let line = describe(p, c);
        if force {
            warn(
                TOOL,
                format!("starting '{}' anyway (--force): {line}", p.name),
            );
        } else {
            eprintln!("{TOOL}: cannot start '{}': {line}", p.name);
        }
    }
    if !force {
        let others: Vec<String> = conflicts
            .iter()
            .flat_map(|c| &c.claims)
            .filter(|c| c.source == ClaimSource::Registry && c.project != p.name)
            .map(|c| c.project.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let stop = if others.is_empty() {
            "stop what holds the port".to_owned()
        } else {
            format!(
                "stop {} first (stackctl stop {})",
                others.join(", "),
                others.join(" ")
            )
        };
        eprintln!(
            "hint: {stop}, give '{}' another port in its compose file, or pass --force to start anyway",
            p.name
        );
        return false;
    }
    true
}

/// The app's addresses: its port on loopback and its dev domain (served
/// by the proxy `proxyconf` configures).
fn urls(p: &Project) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(port) = p.port {
        out.push(format!("http://127.0.0.1:{port}/"));
        if !p.domain.is_empty() {
            out.push(format!("https://{}/", p.domain));
        }
    }
    out
}

/// Conflicts on `p`'s ports: with the projects running now (by the engine's
/// account), and with what listens on this machine apart from `p`'s own
/// containers and those running projects.
pub(crate) fn port_conflicts(
    p: &Project,
    all: &[Project],
    containers: &[ContainerInfo],
) -> Vec<Conflict> {
    let running: HashSet<&str> = containers
        .iter()
        .filter(|c| c.state == "running")
        .map(|c| c.project.as_str())
        .collect();
    let mut me = ProjectPorts::from(p);
    me.status = Status::Running;
    let mut candidates = vec![me.clone()];
    candidates.extend(
        all.iter()
            .filter(|o| o.name != p.name && running.contains(o.name.as_str()))
            .map(|o| {
                let mut o = ProjectPorts::from(o);
                o.status = Status::Running;
                o
            }),
    );
    let mut out: Vec<Conflict> =
        claims::find_conflicts(&candidates, CheckOptions { running_only: true }, None)
            .into_iter()
            .filter(|c| c.claims.iter().any(|cl| cl.project == p.name))
            .collect();
    let Some(table) = netstat::listeners() else {
        warn(
            TOOL,
            "cannot read the ports in use on this machine (sock_diag netlink, /proc/net): they are not checked",
        );
        return out;
    };
    // Ports held by p's own running containers, or already reported.
    let mut known: HashSet<(u16, Protocol)> = containers
        .iter()
        .filter(|c| c.project == p.name && c.state == "running")
        .flat_map(|c| {
            c.ports
                .iter()
                .filter_map(|b| Some((b.published?, b.protocol)))
        })
        .collect();
    known.extend(out.iter().map(|c| (c.port, c.protocol)));
    let table: Vec<netstat::Listener> = table
        .into_iter()
        .filter(|l| !known.contains(&(l.port, l.protocol)))
        .collect();
    me.status = Status::Stopped;
    out.extend(claims::find_conflicts(
        &[me],
        CheckOptions {
            running_only: false,
        },
        Some(&table),
    ));
    out
}

/// One conflict in words: the port, `p`'s service, and who else holds it.
fn describe(p: &Project, c: &Conflict) -> String {
    let mine: Vec<String> = c
        .claims
        .iter()
        .filter(|cl| cl.source == ClaimSource::Registry && cl.project == p.name)
        .map(|cl| format!("{}/{}", cl.project, cl.service))
        .collect();
    let others: Vec<String> = c
        .claims
        .iter()
        .filter(|cl| !(cl.source == ClaimSource::Registry && cl.project == p.name))
        .map(|cl| match cl.source {
            ClaimSource::Registry => {
                format!("project {} (service {}, running)", cl.project, cl.service)
            }
            ClaimSource::System => {
                let pid = cl.pid.map(|p| format!(" [pid {p}]")).unwrap_or_default();
                format!("{}{pid} listening on this machine", cl.service)
            }
        })
        .collect();
    let others = if others.is_empty() {
        "another service of the same project".to_owned()
    } else {
        others.join(" and ")
    };
    format!(
        "port {}/{} ({}) is taken by {others}",
        c.port,
        c.protocol,
        mine.join(", ")
    )
}
