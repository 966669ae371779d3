//! Which container engine berth talks to, Docker or Podman, and why: from
//! `BERTH_ENGINE`, else the `engine:` config key, else what is there
//! (`CONTAINER_HOST`, `DOCKER_HOST`, the first socket found). Choosing reads
//! the environment and looks for socket files, nothing more; the engine that
//! answers is told apart by its `/version` (Podman names a component
//! "Podman Engine") when the choice was `auto`.
//!
//! Every tool that talks to an engine goes through this: the API client
//! (`berth::docker::client`/`connect`), the engine's own CLI (`exec`,
//! `dbdump shell`) and, in stackctl, the compose implementation.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The environment variable that picks the engine (over the config key).
pub const ENV_VAR: &str = "BERTH_ENGINE";

/// An engine implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Docker,
    Podman,
}

impl Kind {
    /// The engine's own command-line client.
    pub fn cli(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Docker => "Docker",
            Kind::Podman => "Podman",
        })
    }
}

/// What the user asked for: one engine, or whichever is there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    #[default]
    Auto,
    Docker,
    Podman,
}

impl FromStr for Choice {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Choice::Auto),
            "docker" => Ok(Choice::Docker),
            "podman" => Ok(Choice::Podman),
            _ => anyhow::bail!("invalid engine '{s}': expected docker, podman or auto"),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Auto => "auto",
            Choice::Docker => "docker",
            Choice::Podman => "podman",
        })
    }
}

/// The engine in use: its kind, where it is reached and why this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub kind: Kind,
    /// `unix:///path/to.sock`.
    pub host: String,
    /// Why this engine and this socket, for `stackctl doctor` and messages:
    /// `BERTH_ENGINE=podman; socket /run/podman/podman.sock (rootful)`.
    pub why: String,
    /// What was asked for.
    pub choice: Choice,
    /// Whether `kind` is known (chosen by name, or told by `/version`)
    /// rather than guessed from the socket's path.
    pub confirmed: bool,
}

/// What choosing reads from the environment (a struct, so tests pass their own).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `BERTH_ENGINE`.
    pub berth_engine: Option<String>,
    /// `DOCKER_HOST`: Docker's (and its CLI's) engine address.
    pub docker_host: Option<String>,
    /// `CONTAINER_HOST`: Podman's engine address (its CLI goes remote with it).
    pub container_host: Option<String>,
    pub xdg_runtime_dir: Option<PathBuf>,
    /// Whether this process runs as root (rootful sockets come first then).
    pub root: bool,
}

impl Env {
    /// This process's environment.
    pub fn current() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            berth_engine: var(ENV_VAR),
            docker_host: var("DOCKER_HOST"),
            container_host: var("CONTAINER_HOST"),
            xdg_runtime_dir: std::env::var_os("XDG_RUNTIME_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            root: rustix::process::geteuid().is_root(),
        }
    }
}

/// Docker's rootful socket.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// Podman's rootful API socket (`podman system service`, `podman.socket`).
pub const PODMAN_SOCKET: &str = "/run/podman/podman.sock";

/// A socket berth may find, with its kind and a word on it.
struct Candidate {
    kind: Kind,
    path: PathBuf,
    what: &'static str,
}

/// The sockets of `kinds` in the order they are tried. Docker's system
/// socket first (where a docker.io install puts it, and where berth always
/// looked first), then the user's own (rootless) sockets, then Podman's
/// rootful one; with Podman alone, as root the rootful socket comes first.
fn candidates(env: &Env, kinds: &[Kind]) -> Vec<Candidate> {
    let docker = Candidate {
        kind: Kind::Docker,
        path: DOCKER_SOCKET.into(),
        what: "Docker's socket",
    };
    let podman = Candidate {
        kind: Kind::Podman,
        path: PODMAN_SOCKET.into(),
        what: "rootful Podman's socket",
    };
    let run = env.xdg_runtime_dir.as_ref();
    let rootless_podman = run.map(|r| Candidate {
        kind: Kind::Podman,
        path: r.join("podman/podman.sock"),
        what: "rootless Podman's socket",
    });
    let rootless_docker = run.map(|r| Candidate {
        kind: Kind::Docker,
        path: r.join("docker.sock"),
        what: "rootless Docker's socket",
    });
    let mut out = Vec::new();
    match kinds {
        [Kind::Docker] => {
            out.push(docker);
            out.extend(rootless_docker);
        }
        [Kind::Podman] if env.root => {
            out.push(podman);
            out.extend(rootless_podman);
        }
        [Kind::Podman] => {
            out.extend(rootless_podman);
            out.push(podman);
        }
        _ => {
            out.push(docker);
            out.extend(rootless_podman);
            out.extend(rootless_docker);
            out.push(podman);
        }
    }
    out
}

/// The candidates' paths, for messages.
fn paths(list: &[Candidate]) -> String {
    list.iter()
        .map(|c| c.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unix_host(path: &Path) -> String {
    format!("unix://{}", path.display())
}

/// The kind a socket path suggests (before `/version` says).
fn kind_of_host(host: &str) -> Kind {
    if host.contains("podman") {
        Kind::Podman
    } else {
        Kind::Docker
    }
}

impl Engine {
    /// Choose from `env`, the config's `engine:` and the sockets that exist.
    /// A bad `BERTH_ENGINE` is an error naming it; no socket at all is an
    /// error only for `auto` (a named engine gets its default socket, and
    /// connecting says it is not there).
    pub fn choose(
        env: &Env,
        config: Choice,
        exists: &dyn Fn(&Path) -> bool,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let (choice, asked) = match &env.berth_engine {
            Some(v) => (
                v.parse::<Choice>()
                    .with_context(|| format!("invalid {ENV_VAR}={v}"))?,
                format!("{ENV_VAR}={}", v.trim()),
            ),
            None if config != Choice::Auto => (config, format!("config engine: {config}")),
            None => (Choice::Auto, "engine: auto".to_owned()),
        };
        let pick = |kinds: &[Kind]| {
            let list = candidates(env, kinds);
            let found = list.iter().position(|c| exists(&c.path));
            (list, found)
        };
        let engine = |kind: Kind, host: String, why: String, confirmed: bool| Engine {
            kind,
            host,
            why: format!("{asked}; {why}"),
            choice,
            confirmed,
        };
        let named = |kind: Kind| {
            // Each engine's own variable only: DOCKER_HOST is Docker's
            // (podman-compose and the podman CLI never read it, so following
            // it could split one stack between two engines), CONTAINER_HOST
            // is Podman's.
            let (var, host) = match kind {
                Kind::Docker => ("DOCKER_HOST", &env.docker_host),
                Kind::Podman => ("CONTAINER_HOST", &env.container_host),
            };
            if let Some(h) = host {
                return engine(kind, h.clone(), format!("{var} is set"), true);
            }
            let (list, found) = pick(&[kind]);
            let c = &list[found.unwrap_or(0)];
            let why = if found.is_some() {
                format!("{} {} found", c.what, c.path.display())
            } else {
                format!(
                    "no {kind} socket found ({}); trying {}",
                    paths(&list),
                    c.path.display()
                )
            };
            engine(kind, unix_host(&c.path), why, true)
        };
        match choice {
            Choice::Podman => Ok(named(Kind::Podman)),
            Choice::Docker => Ok(named(Kind::Docker)),
            Choice::Auto => {
                if let Some(h) = &env.container_host {
                    return Ok(engine(
                        Kind::Podman,
                        h.clone(),
                        "CONTAINER_HOST is set".into(),
                        false,
                    ));
                }
                if let Some(h) = &env.docker_host {
                    return Ok(engine(
                        kind_of_host(h),
                        h.clone(),
                        "DOCKER_HOST is set".into(),
                        false,
                    ));
                }
                let (list, found) = pick(&[Kind::Docker, Kind::Podman]);
                match found {
                    Some(i) => {
                        let c = &list[i];
                        Ok(engine(
                            c.kind,
                            unix_host(&c.path),
                            format!("{} {} found", c.what, c.path.display()),
                            false,
                        ))
                    }
                    None => Err(crate::cli::error_with_hint(
                        format!("no Docker or Podman socket found ({})", paths(&list)),
                        ENGINE_HINT,
                    )),
                }
            }
        }
    }

    /// The engine for this process: its environment, the `engine:` key of
    /// the config (`BERTH_HOME` or the XDG folder) and the sockets here.
    pub fn current() -> anyhow::Result<Self> {
        let env = Env::current();
        let config = if env.berth_engine.is_some() {
            Choice::Auto
        } else {
            crate::paths::Paths::from_env()
                .and_then(|p| crate::config::Config::load(&p))?
                .engine
        };
        Self::choose(&env, config, &|p| p.exists())
    }

    /// The socket's path, for a `unix://` host.
    pub fn socket(&self) -> Option<&Path> {
        self.host.strip_prefix("unix://").map(Path::new)
    }

    /// Take the engine's own word for what it is (the `/version` answer's
    /// component names and platform). A named choice that another engine
    /// answers for is an error: its compose and CLI would not see the
    /// same containers.
    pub fn identify(&mut self, components: &[String], platform: &str) -> anyhow::Result<()> {
        let podman = components.iter().any(|c| c.contains("Podman"))
            || platform.to_lowercase().contains("podman");
        let said = if podman { Kind::Podman } else { Kind::Docker };
        if self.choice != Choice::Auto && said != self.kind {
            return Err(crate::cli::error_with_hint(
                format!(
                    "{} answers as {said}, but {} was chosen ({})",
                    self.host, self.kind, self.why
                ),
                format!(
                    "point {} at a {} socket, or set {ENV_VAR}=auto (or engine: auto in config.yaml)",
                    if self.kind == Kind::Podman {
                        "CONTAINER_HOST"
                    } else {
                        "DOCKER_HOST"
                    },
                    self.kind
                ),
            ));
        }
        if !self.confirmed {
            let _ = write!(self.why, "; it answers as {said}");
        }
        self.kind = said;
        self.confirmed = true;
        Ok(())
    }

    /// The engine's CLI with the environment that points it at this engine:
    /// `DOCKER_HOST` for docker when the socket is not its default,
    /// `CONTAINER_HOST` for podman when berth was given one.
    pub fn cli(&self) -> (&'static str, Vec<(&'static str, String)>) {
        let mut env = Vec::new();
        match self.kind {
            Kind::Docker if self.host != unix_host(Path::new(DOCKER_SOCKET)) => {
                env.push(("DOCKER_HOST", self.host.clone()));
            }
            Kind::Podman
                if std::env::var_os("CONTAINER_HOST").is_some()
                    || !self.host.contains("podman.sock") =>
            {
                env.push(("CONTAINER_HOST", self.host.clone()));
            }
            _ => {}
        }
        (self.kind.cli(), env)
    }

    /// What to do when this engine does not answer.
    pub fn hint(&self) -> String {
        match self.kind {
            Kind::Docker => format!(
                "start the engine (`sudo systemctl start docker`, or `dockerd &`), or set DOCKER_HOST; \
                 {ENV_VAR}=podman uses Podman"
            ),
            Kind::Podman => format!(
                "start the engine: Podman's API service (`systemctl --user start podman.socket`, or as root \
                 `podman system service --time=0 unix://{PODMAN_SOCKET} &`), or set CONTAINER_HOST; \
                 {ENV_VAR}=docker uses Docker"
            ),
        }
    }
}

const ENGINE_HINT: &str = "start an engine (`sudo systemctl start docker`, `dockerd &`, or \
     `systemctl --user start podman.socket`), or set DOCKER_HOST / CONTAINER_HOST";

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            xdg_runtime_dir: Some("/run/user/1000".into()),
            ..Env::default()
        }
    }

    fn only(paths: &'static [&'static str]) -> impl Fn(&Path) -> bool {
        move |p| paths.iter().any(|q| Path::new(q) == p)
    }

    #[test]
    fn auto_takes_the_first_socket_found_docker_first() {
        let both = only(&["/var/run/docker.sock", "/run/podman/podman.sock"]);
        let e = Engine::choose(&env(), Choice::Auto, &both).unwrap();
        assert_eq!(e.kind, Kind::Docker);
        assert_eq!(e.host, "unix:///var/run/docker.sock");
        assert!(!e.confirmed);
        assert!(
            e.why.contains("engine: auto") && e.why.contains("docker.sock found"),
            "{}",
            e.why
        );
        let podman = only(&["/run/podman/podman.sock"]);
        let e = Engine::choose(&env(), Choice::Auto, &podman).unwrap();
        assert_eq!(
            (e.kind, e.host.as_str()),
            (Kind::Podman, "unix:///run/podman/podman.sock")
        );
        let rootless = only(&[
            "/run/user/1000/podman/podman.sock",
            "/run/podman/podman.sock",
        ]);
        let e = Engine::choose(&env(), Choice::Auto, &rootless).unwrap();
        assert_eq!(e.host, "unix:///run/user/1000/podman/podman.sock");
        assert!(e.why.contains("rootless Podman"), "{}", e.why);
        let err = Engine::choose(&env(), Choice::Auto, &only(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("no Docker or Podman socket found"));
    }

    #[test]
    fn a_named_engine_takes_its_own_sockets_and_variables_only() {
        let both = only(&[
            "/var/run/docker.sock",
            "/run/podman/podman.sock",
            "/run/user/1000/podman/podman.sock",
        ]);
        let mut e = env();
        e.docker_host = Some("unix:///var/run/docker.sock".into());
        let p = Engine::choose(&e, Choice::Podman, &both).unwrap();
        assert_eq!(p.kind, Kind::Podman);
        // Not root: the user's own socket first; DOCKER_HOST is not Podman's.
        assert_eq!(p.host, "unix:///run/user/1000/podman/podman.sock");
        assert!(p.why.starts_with("config engine: podman"), "{}", p.why);
        e.root = true;
        let p = Engine::choose(&e, Choice::Podman, &both).unwrap();
        assert_eq!(p.host, "unix:///run/podman/podman.sock");
        assert!(p.why.contains("rootful"), "{}", p.why);
        e.container_host = Some("unix:///tmp/p.sock".into());
        let p = Engine::choose(&e, Choice::Podman, &both).unwrap();
        assert_eq!(p.host, "unix:///tmp/p.sock");
        assert!(p.why.contains("CONTAINER_HOST"), "{}", p.why);
        let d = Engine::choose(&e, Choice::Docker, &both).unwrap();
        assert_eq!(
            (d.kind, d.host.as_str()),
            (Kind::Docker, "unix:///var/run/docker.sock")
        );
        assert!(d.why.contains("DOCKER_HOST is set"), "{}", d.why);
        // Nothing there: the default socket, which connecting reports missing.
        let p = Engine::choose(&env(), Choice::Podman, &only(&[])).unwrap();
        assert!(p.why.contains("no Podman socket found"), "{}", p.why);
    }

    #[test]
    fn the_environment_variable_wins_over_the_config_and_a_bad_one_is_named() {
        let both = only(&["/var/run/docker.sock", "/run/podman/podman.sock"]);
        let mut e = env();
        e.root = true;
        e.berth_engine = Some("podman".into());
        let p = Engine::choose(&e, Choice::Docker, &both).unwrap();
        assert_eq!(p.kind, Kind::Podman);
        assert!(p.why.starts_with("BERTH_ENGINE=podman"), "{}", p.why);
        e.berth_engine = Some("lxc".into());
        let err = format!(
            "{:#}",
            Engine::choose(&e, Choice::Docker, &both).unwrap_err()
        );
        assert!(
            err.contains("BERTH_ENGINE=lxc") && err.contains("docker, podman or auto"),
            "{err}"
        );
    }

    #[test]
    fn version_tells_the_engine_apart_and_a_wrong_answer_to_a_named_choice_is_an_error() {
        let mut e = Engine::choose(&env(), Choice::Auto, &only(&["/var/run/docker.sock"])).unwrap();
        e.identify(&["Podman Engine".into()], "").unwrap();
        assert_eq!(e.kind, Kind::Podman);
        assert!(
            e.confirmed && e.why.ends_with("it answers as Podman"),
            "{}",
            e.why
        );
        let mut e = Engine::choose(&env(), Choice::Docker, &only(&[])).unwrap();
        e.identify(
            &["Engine".into(), "containerd".into()],
            "Docker Engine - Community",
        )
        .unwrap();
        assert_eq!(e.kind, Kind::Docker);
        let err = e.identify(&["Podman Engine".into()], "").unwrap_err();
        assert!(format!("{err:#}").contains("answers as Podman, but Docker was chosen"));
    }
}
