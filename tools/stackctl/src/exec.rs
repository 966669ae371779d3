//! `stackctl exec`: run a command in a running service of a project,
//! through the engine's own CLI (`docker exec` or `podman exec`, the engine
//! berth uses), which this process becomes: the terminal, signals and exit
//! status are its.

use std::io::IsTerminal as _;
use std::os::unix::process::CommandExt as _;

use berth::cli::{Outcome, error_with_hint};

use crate::{engine, registry, select};

/// Run a command in a running service (the app by default).
///
/// The service is the one given with --service, else the app (the service
/// publishing the project's HTTP port), else the project's only service.
/// With a terminal on stdin and stdout the command gets a TTY; stdin is
/// passed on either way. The exit status is the command's.
///
/// Example: stackctl exec shop -- python manage.py migrate
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project.
    name: String,
    /// The service to run in (default: the app).
    #[arg(long, short, value_name = "SERVICE")]
    service: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(required = true, last = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    let projects = reg.load()?;
    let p = select(&projects, std::slice::from_ref(&a.name))?.remove(0);
    let chosen_engine = berth::runtime::Engine::current()?;
    let containers = engine::containers_of(&chosen_engine, &[p.name.as_str()], false)?;
    let services = engine::services_of(&containers, &p.name);
    let app = p.port.and_then(|port| {
        services
            .iter()
            .find(|s| s.ports.iter().any(|b| b.published == Some(port)))
            .or_else(|| {
                let name = &p
                    .service_ports
                    .iter()
                    .find(|b| b.published == Some(port))?
                    .service;
                services.iter().find(|s| &s.service == name)
            })
    });
    let chosen = match &a.service {
        Some(name) => services.iter().find(|s| &s.service == name),
        None => app.or(match services.as_slice() {
            [only] => Some(only),
            _ => None,
        }),
    };
    let names: Vec<&str> = services.iter().map(|s| s.service.as_str()).collect();
    let Some(target) = chosen else {
        let what = a.service.as_ref().map_or_else(
            || format!("project '{}' has no app service to run in", p.name),
            |s| format!("project '{}' has no container for service '{s}'", p.name),
        );
        let hint = if names.is_empty() {
            format!("start it first: stackctl start {}", p.name)
        } else {
            format!("name one with --service: {}", names.join(", "))
        };
        return Err(error_with_hint(what, hint));
    };
    if target.state != "running" {
        return Err(error_with_hint(
            format!(
                "service {} of '{}' is not running ({})",
                target.service, p.name, target.state
            ),
            format!("start it first: stackctl start {}", p.name),
        ));
    }
    // The CLI of the engine the container list came from (no second
    // request to ask which it is: the socket's kind says).
    let (program, cli_env) = chosen_engine.cli();
    let cli = which::which(program).map_err(|_| {
        error_with_hint(
            format!(
                "{program} is not on PATH to run the command ({} engine: {})",
                chosen_engine.kind, chosen_engine.why
            ),
            format!(
                "install the engine's command-line client (Debian: {})",
                if program == "docker" {
                    "docker.io"
                } else {
                    "podman"
                }
            ),
        )
    })?;
    let mut cmd = std::process::Command::new(&cli);
    cmd.envs(cli_env).arg("exec").arg("-i");
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        cmd.arg("-t");
    }
    cmd.arg(&target.container).args(&a.command);
    // Only returns when it could not run.
    let e = cmd.exec();
    Err(anyhow::Error::new(e).context(format!("cannot run {}", cli.display())))
}
