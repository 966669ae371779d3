//! `stackctl doctor`: is everything there that running stacks needs? The
//! engine, its socket's permissions, the compose driver, the registry.

use std::path::PathBuf;

use berth::cli::Outcome;
use berth::io::{OutputArgs, Row};
use serde::Serialize;

use crate::driver::Driver;
use crate::registry;

/// Check the engine, socket permissions, the compose driver and the registry.
///
/// Each check says what it found (which engine and API version, which
/// compose driver) or what is missing with a hint. Exit 1 when something
/// is missing.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    output: OutputArgs,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Check {
    #[allow(clippy::struct_field_names)]
    check: &'static str,
    ok: bool,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

impl Row for Check {
    fn headers() -> &'static [&'static str] {
        &["check", "ok", "detail"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.check.to_owned(),
            if self.ok { "yes" } else { "NO" }.to_owned(),
            self.detail.clone(),
        ]
    }
}

fn pass(check: &'static str, detail: String) -> Check {
    Check {
        check,
        ok: true,
        detail,
        hint: None,
    }
}

fn fail(check: &'static str, detail: String, hint: &str) -> Check {
    Check {
        check,
        ok: false,
        detail,
        hint: Some(hint.to_owned()),
    }
}

/// The Unix socket the engine is reached through: `DOCKER_HOST=unix://...`,
/// else the first socket that exists among Docker's and Podman's.
fn socket_path() -> Result<Option<PathBuf>, String> {
    if let Some(host) = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
        return match host.strip_prefix("unix://") {
            Some(p) => Ok(Some(PathBuf::from(p))),
            None => Err(host),
        };
    }
    let mut candidates = vec![PathBuf::from("/var/run/docker.sock")];
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR") {
        let run = PathBuf::from(run);
        candidates.push(run.join("podman/podman.sock"));
        candidates.push(run.join("docker.sock"));
    }
    candidates.push(PathBuf::from("/run/podman/podman.sock"));
    Ok(candidates.into_iter().find(|p| p.exists()))
}

fn socket_check() -> Check {
    const NAME: &str = "socket";
    match socket_path() {
        Err(host) => pass(NAME, format!("DOCKER_HOST={host} (not a Unix socket)")),
        Ok(None) => fail(
            NAME,
            "no Docker or Podman socket found".into(),
            "start the engine (dockerd, or `systemctl --user start podman.socket`), or set DOCKER_HOST",
        ),
        Ok(Some(path)) => match std::os::unix::net::UnixStream::connect(&path) {
            Ok(_) => pass(NAME, format!("{} (read and write)", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => fail(
                NAME,
                format!("{}: permission denied", path.display()),
                "add yourself to the socket's group (sudo usermod -aG docker $USER, then log in again), or use rootless Podman",
            ),
            Err(e) => fail(
                NAME,
                format!("{}: {e}", path.display()),
                "start the engine (dockerd, or systemctl start docker), or point DOCKER_HOST at a running one",
            ),
        },
    }
}

fn engine_check() -> Check {
    const NAME: &str = "engine";
    let answer = berth::docker::runtime().and_then(|rt| {
        rt.block_on(async {
            let docker = berth::docker::connect().await?;
            let v = docker.version().await?;
            Ok((v, docker.client_version()))
        })
    });
    match answer {
        Ok((v, api)) => {
            let components: Vec<String> = v
                .components
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.name)
                .collect();
            let platform = v.platform.map(|p| p.name).unwrap_or_default();
            let podman = components
                .iter()
                .any(|c| c.to_lowercase().contains("podman"))
                || platform.to_lowercase().contains("podman");
            let kind = if podman { "Podman" } else { "Docker" };
            pass(
                NAME,
                format!(
                    "{kind} {} (API {}, talking {api})",
                    v.version.unwrap_or_default(),
                    v.api_version.unwrap_or_default()
                ),
            )
        }
        Err(e) => fail(
            NAME,
            format!("{e:#}"),
            "start the engine (dockerd &, systemctl start docker, or systemctl --user start podman.socket), or set DOCKER_HOST",
        ),
    }
}

fn compose_check() -> Check {
    const NAME: &str = "compose";
    match Driver::detect() {
        Ok(d) => pass(
            NAME,
            match d.version() {
                Some(v) => format!("{} {v}", d.name),
                None => d.name.to_owned(),
            },
        ),
        Err(_) => fail(
            NAME,
            "none of `docker compose`, `docker-compose`, `podman compose` runs".into(),
            "install one (Debian: apt-get install docker-compose), and check PATH",
        ),
    }
}

fn registry_check() -> Check {
    const NAME: &str = "registry";
    match registry().and_then(|r| Ok((r.path().to_path_buf(), r.load()?))) {
        Ok((path, projects)) => pass(
            NAME,
            format!("{} ({} project(s))", path.display(), projects.len()),
        ),
        Err(e) => fail(
            NAME,
            format!("{e:#}"),
            "check BERTH_HOME and the file's permissions; a corrupt file is named above",
        ),
    }
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let checks = vec![
        engine_check(),
        socket_check(),
        compose_check(),
        registry_check(),
    ];
    berth::io::write_list(a.output.format(), &checks)?;
    if !a.output.is_json() {
        for c in checks.iter().filter(|c| !c.ok) {
            eprintln!("{}: {}", c.check, c.detail);
            if let Some(h) = &c.hint {
                eprintln!("hint: {h}");
            }
        }
    }
    Ok(if checks.iter().all(|c| c.ok) {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("doctor-check", berth::schema::of::<Check>())]
}
