//! The container engines a test runs against: Docker and Podman, each with
//! the environment that points berth's tools at it (`BERTH_ENGINE`) and its
//! own CLI for the test's checks and clean-up.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{Cmd, missing, require, succeeds_within};

/// One engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

/// Every engine berth supports, in the order the suites run them.
pub const ALL: [Engine; 2] = [Engine::Docker, Engine::Podman];

impl Engine {
    /// `docker` or `podman`: the engine's CLI, for a test's own checks.
    pub fn cli_name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    /// The engine's CLI as a command.
    pub fn cli(self) -> Command {
        Command::new(self.cli_name())
    }

    /// The compose berth picks for this engine.
    pub fn compose_name(self) -> &'static str {
        match self {
            Engine::Docker => "docker-compose",
            Engine::Podman => "podman-compose",
        }
    }

    /// The variables that make berth's tools use this engine.
    pub fn env(self) -> Vec<(&'static str, String)> {
        match self {
            Engine::Docker => vec![("BERTH_ENGINE", "docker".into())],
            Engine::Podman => vec![("BERTH_ENGINE", "podman".into())],
        }
    }

    /// A tool's command with this engine chosen.
    pub fn on(self, mut cmd: Cmd) -> Cmd {
        for (k, v) in self.env() {
            cmd = cmd.env(k, v);
        }
        cmd
    }

    /// The name compose gives a service's first container: compose v1 and
    /// podman-compose `PROJECT_SERVICE_1`, compose v2 `PROJECT-SERVICE-1`.
    pub fn container_name(self, project: &str, service: &str) -> String {
        match self {
            Engine::Docker | Engine::Podman => format!("{project}_{service}_1"),
        }
    }

    /// Whether this engine answers and holds every one of `images` (the
    /// test bed: tests/bed/setup.sh for Docker, tests/bed/podman.sh for
    /// Podman). Otherwise one `skipped:` line, or a failure under `CI=true`.
    #[track_caller]
    pub fn ready(self, images: &[&str]) -> bool {
        match self {
            Engine::Docker => super::docker_ready(images),
            Engine::Podman => podman_ready(images),
        }
    }

    /// Remove every container, network and volume of compose `projects`
    /// (by compose's project label), ignoring what is already gone.
    pub fn remove_projects(self, projects: &[String]) {
        let limit = Duration::from_secs(120);
        for name in projects {
            let label = format!("label=com.docker.compose.project={name}");
            for (list, rm) in [
                (vec!["ps", "-aq", "--filter"], vec!["rm", "-f", "-v"]),
                (
                    vec!["network", "ls", "-q", "--filter"],
                    vec!["network", "rm"],
                ),
                (
                    vec!["volume", "ls", "-q", "--filter"],
                    vec!["volume", "rm", "-f"],
                ),
            ] {
                let Ok(out) = super::try_output_within(self.cli().args(&list).arg(&label), limit)
                else {
                    continue;
                };
                let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                if !ids.is_empty() {
                    let _ = super::try_output_within(self.cli().args(&rm).args(&ids), limit);
                }
            }
        }
    }
}

/// Whether Podman's API service answers on its rootful socket with
/// podman-compose installed and every one of `images` loaded.
#[track_caller]
pub fn podman_ready(images: &[&str]) -> bool {
    if !require("podman") || !require("podman-compose") {
        return false;
    }
    let socket = "/run/podman/podman.sock";
    if !Path::new(socket).exists()
        || !succeeds_within(
            Command::new("curl").args([
                "-fsS",
                "--max-time",
                "10",
                "--unix-socket",
                socket,
                "http://podman/_ping",
            ]),
            Duration::from_secs(20),
        )
    {
        return missing(&format!(
            "Podman's API service does not answer on {socket} (tests/bed/podman.sh)"
        ));
    }
    for image in images {
        if !succeeds_within(
            Command::new("podman").args(["image", "exists", image]),
            Duration::from_secs(60),
        ) {
            return missing(&format!(
                "image {image} is missing in Podman (tests/bed/podman.sh)"
            ));
        }
    }
    true
}

/// Stop a test's shared router: its watcher (the pid in
/// `HOME/shared/router.pid`, when that process is still the watcher) and its
/// container `NAME-router`.
pub fn stop_router(home: &Path, name: &str) {
    if let Ok(text) = std::fs::read_to_string(home.join("shared/router.pid"))
        && let Ok(pid) = text.trim().parse::<i32>()
        && std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("router"))
        && let Some(p) = rustix::process::Pid::from_raw(pid)
    {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
    let _ = super::try_output_within(
        Command::new("docker").args(["rm", "-f", &format!("{name}-router")]),
        super::TIMEOUT,
    );
}
