//! `stackctl doctor`: is everything there that running stacks needs? The
//! engine (Docker or Podman, and why that one), its socket's permissions,
//! the compose driver, the registry.

use berth::cli::Outcome;
use berth::io::{OutputArgs, Row};
use berth::runtime::Engine;
use serde::Serialize;

use crate::driver::Driver;
use crate::registry;

/// Check the engine, socket permissions, the compose driver and the registry.
///
/// Each check says what it found (which engine and API version, which
/// compose driver) and why that one (`BERTH_ENGINE`, the `engine:` config
/// key, `DOCKER_HOST`/`CONTAINER_HOST`, or the socket found), or what is
/// missing with a hint. Exit 1 when something is missing.
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
    /// Why this engine or compose driver (empty for the other checks).
    #[serde(skip_serializing_if = "String::is_empty")]
    why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

impl Row for Check {
    fn headers() -> &'static [&'static str] {
        &["check", "ok", "detail", "why"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.check.to_owned(),
            if self.ok { "yes" } else { "NO" }.to_owned(),
            self.detail.clone(),
            self.why.clone(),
        ]
    }
}

fn pass(check: &'static str, detail: String) -> Check {
    Check {
        check,
        ok: true,
        detail,
        why: String::new(),
        hint: None,
    }
}

fn fail(check: &'static str, detail: String, hint: &str) -> Check {
    Check {
        check,
        ok: false,
        detail,
        why: String::new(),
        hint: Some(hint.to_owned()),
    }
}

fn socket_check(engine: &Engine) -> Check {
    const NAME: &str = "socket";
    let Some(path) = engine.socket() else {
        return pass(NAME, format!("{} (not a Unix socket)", engine.host));
    };
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => pass(NAME, format!("{} (read and write)", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => fail(
            NAME,
            format!("{}: permission denied", path.display()),
            "add yourself to the socket's group (sudo usermod -aG docker $USER, then log in again), or use rootless Podman",
        ),
        Err(e) => fail(NAME, format!("{}: {e}", path.display()), &engine.hint()),
    }
}

/// The engine that answers (its `/version`), with why berth uses it.
fn engine_check(chosen: &anyhow::Result<Engine>) -> (Check, Option<Engine>) {
    const NAME: &str = "engine";
    let chosen = match chosen {
        Ok(e) => e,
        Err(e) => {
            return (
                fail(
                    NAME,
                    format!("{e:#}"),
                    "set BERTH_ENGINE (or `engine:` in config.yaml) to docker, podman or auto",
                ),
                None,
            );
        }
    };
    let answer = berth::docker::runtime().and_then(|rt| {
        rt.block_on(async {
            let (docker, engine) = berth::docker::connect_engine().await?;
            let v = docker.version().await?;
            Ok((v, docker.client_version(), engine))
        })
    });
    match answer {
        Ok((v, api, engine)) => {
            let mut c = pass(
                NAME,
                format!(
                    "{} {} (API {}, talking {api}) at {}",
                    engine.kind,
                    v.version.unwrap_or_default(),
                    v.api_version.unwrap_or_default(),
                    engine.host
                ),
            );
            c.why.clone_from(&engine.why);
            (c, Some(engine))
        }
        Err(e) => {
            let mut c = fail(NAME, format!("{e:#}"), &chosen.hint());
            c.why.clone_from(&chosen.why);
            (c, None)
        }
    }
}

fn compose_check(engine: Option<&Engine>) -> Check {
    const NAME: &str = "compose";
    let Some(engine) = engine else {
        return fail(
            NAME,
            "no engine to choose a compose driver for".into(),
            "set BERTH_ENGINE to docker or podman",
        );
    };
    match Driver::detect(engine) {
        Ok(d) => {
            let mut c = pass(
                NAME,
                match d.version() {
                    Some(v) => format!("{} {v}", d.name),
                    None => d.name.to_owned(),
                },
            );
            c.why = d.why;
            c
        }
        Err(e) => {
            let hint = e
                .downcast_ref::<berth::cli::Hint>()
                .map_or_else(String::new, |h| h.0.clone());
            let mut c = fail(NAME, format!("{e:#}"), &hint);
            c.why = format!("{} engine ({})", engine.kind, engine.why);
            c
        }
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
    let chosen = Engine::current();
    let (engine, answered) = engine_check(&chosen);
    // The compose driver of the engine that answers, else of the one chosen.
    let for_compose = answered.as_ref().or(chosen.as_ref().ok());
    let mut checks = vec![engine];
    if let Some(e) = for_compose {
        checks.push(socket_check(e));
    } else {
        checks.push(fail(
            "socket",
            "no engine chosen".into(),
            "set BERTH_ENGINE to docker, podman or auto",
        ));
    }
    checks.push(compose_check(for_compose));
    checks.push(registry_check());
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
