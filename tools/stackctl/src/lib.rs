//! `stackctl`: run the compose stacks of registered projects: start (after a
//! port check, until the app answers), stop, restart, down, exec, status
//! from the engine, logs, health, watch, hooks, and a doctor for the engine
//! and the compose driver.

mod doctor;
mod down;
mod driver;
mod engine;
mod exec;
mod health;
mod hooks;
mod images;
mod lifecycle;
mod logs;
mod progress;
mod ready;
mod status;
mod watch;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::cli::{Outcome, error_with_hint};
use berth::paths::Paths;
use berth::registry::{self, Registry};
use berth::{Project, Status};
use clap::{Parser, Subcommand};

const TOOL: &str = "stackctl";

/// Start, stop and watch the compose stacks of registered projects.
///
/// `stackctl` drives a project's compose stack (its compose files, its `.env`
/// and its registry environment variables) through `docker compose`,
/// `docker-compose` or `podman compose`, reads the real state from the
/// engine (Docker, or Podman's Docker-compatible socket) and keeps the
/// registry's status true. Before a start it checks every port the project
/// publishes against running projects and what listens on this machine.
///
/// Hooks: `pre_start`, `post_start`, `pre_stop` and `post_stop` from the
/// project's own `.berth/config.yaml` (see HOOKS below).
#[derive(Debug, Parser)]
#[command(
    name = "stackctl",
    version,
    after_long_help = "\
Examples:
  stackctl start shop && curl http://127.0.0.1:8000/   returns once the app answers
  stackctl start shop --json | jq '.[0].services'
  stackctl status --json | jq '.[] | select(.status != \"running\")'
  stackctl logs shop --service db --tail 50
  stackctl logs shop --timestamps          every service, in time order
  stackctl exec shop -- python manage.py migrate
  stackctl down shop --with-data --yes     containers, network, volumes, built images
  stackctl health shop || stackctl restart shop
  stackctl watch --restart --interval 5    bring back what dies
  stackctl stop-all --yes                  at the end of the day
  stackctl doctor                          engine, compose driver, permissions

Hooks:
  <project>/.berth/config.yaml may hold
    hooks:
      pre_start: [\"./scripts/check-db\", \"--quick\"]   # an argument vector, no shell
      post_start: \"echo up >> .berth/started.log\"      # your own shell text: sh -c
  (also pre_stop, post_stop). A hook runs in the project folder with the
  project's environment: its .env, its registry variables, and BERTH_PROJECT,
  BERTH_PROJECT_DIR, BERTH_PORT, BERTH_DOMAIN. A string is your own text from
  your own file, run by sh -c; berth never puts names into it (use the
  variables). A failing pre-hook stops the action (exit 2, naming the hook);
  a failing post-hook is a warning.

Files:
  $BERTH_HOME/registry.json, else $XDG_DATA_HOME/berth/registry.json
  <project>/.berth/config.yaml             hooks (pre_start, post_start, pre_stop, post_stop)

Exit status:
  (exec: the command's own exit status.)
  0 success (started, stopped, healthy, nothing missing);
  1 something found (a port conflict stopped a start; the app is not healthy;
    doctor found something missing);
  2 an error (bad usage, unknown project, engine or compose missing, project
    folder gone, a failing pre-hook, an image that cannot be pulled or built,
    a service that exited or never answered: a stack that did not come up)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Start(lifecycle::StartArgs),
    Stop(lifecycle::StopArgs),
    Restart(lifecycle::RestartArgs),
    StopAll(lifecycle::StopAllArgs),
    Status(status::Args),
    Exec(exec::Args),
    Down(down::Args),
    Logs(logs::Args),
    Health(health::Args),
    Watch(watch::Args),
    Doctor(doctor::Args),
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Start(a) => lifecycle::start(&a),
        Command::Stop(a) => lifecycle::stop(&a),
        Command::Restart(a) => lifecycle::restart(&a),
        Command::StopAll(a) => lifecycle::stop_all(&a),
        Command::Status(a) => status::run(&a),
        Command::Exec(a) => exec::run(&a),
        Command::Down(a) => down::run(&a),
        Command::Logs(a) => logs::run(&a),
        Command::Health(a) => health::run(&a),
        Command::Watch(a) => watch::run(&a),
        Command::Doctor(a) => doctor::run(&a),
    }
}

/// The registry of this installation.
fn registry() -> anyhow::Result<Registry> {
    Ok(Registry::open(&Paths::from_env()?))
}

/// The registered projects with these names, in the order given; an unknown
/// or malformed name is an error before anything runs.
fn select(projects: &[Project], names: &[String]) -> anyhow::Result<Vec<Project>> {
    names
        .iter()
        .map(|n| {
            berth::names::validate_label("project name", n)?;
            registry::find(projects, n).cloned()
        })
        .collect()
}

/// The project's folder, which must still exist.
fn project_dir(p: &Project) -> anyhow::Result<&Path> {
    if p.path.as_os_str().is_empty() {
        return Err(error_with_hint(
            format!("project '{}' has no folder in the registry", p.name),
            format!(
                "register it from its folder: registry add PATH --name {}",
                p.name
            ),
        ));
    }
    if !p.path.is_dir() {
        return Err(error_with_hint(
            format!(
                "project '{}': folder {} does not exist",
                p.name,
                p.path.display()
            ),
            format!(
                "move the folder back, or forget the project: registry remove {} --yes",
                p.name
            ),
        ));
    }
    Ok(&p.path)
}

/// The project's compose files, absolute (relative ones are under its folder).
fn compose_files(p: &Project) -> Vec<PathBuf> {
    p.compose_files
        .iter()
        .map(|f| {
            if f.is_absolute() {
                f.clone()
            } else {
                p.path.join(f)
            }
        })
        .collect()
}

/// Record a project's status (and `last_started` when it starts running).
fn record(reg: &Registry, name: &str, status: Status) -> anyhow::Result<()> {
    reg.set_status(name, status)
        .with_context(|| format!("cannot record the status of '{name}' in the registry"))
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    [
        status::schemas(),
        doctor::schemas(),
        health::schemas(),
        watch::schemas(),
    ]
    .concat()
}
