//! The compose driver of the engine berth uses (`berth::runtime`): for
//! Docker `docker compose` (v2) when present, else `docker-compose` (v1);
//! for Podman `podman-compose`, else `podman compose`. Never one engine's
//! compose against the other's containers. Run with argument vectors.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::Project;
use berth::cli::error_with_hint;
use berth::runtime::{Engine, Kind};

/// Which compose implementation runs the stacks.
#[derive(Debug, Clone)]
pub struct Driver {
    /// `docker compose`, `docker-compose`, `podman-compose` or `podman compose`.
    pub name: &'static str,
    /// Why this one: the engine and what was found.
    pub why: String,
    program: PathBuf,
    prefix: Vec<&'static str>,
    /// What points compose at the engine (`DOCKER_HOST` for a socket that
    /// is not Docker's default, `CONTAINER_HOST`).
    env: Vec<(&'static str, String)>,
}

/// Whether `program args...` runs and exits 0 (output discarded).
fn answers(program: &Path, args: &[&str]) -> bool {
    duct::cmd(program, args)
        .stdin_null()
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run()
        .is_ok_and(|o| o.status.success())
}

/// The `docker compose` plugin, where the docker CLI looks for plugins
/// (looking is cheaper than starting the CLI to ask it).
fn compose_plugin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(config) = std::env::var_os("DOCKER_CONFIG") {
        dirs.push(PathBuf::from(config).join("cli-plugins"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".docker/cli-plugins"));
    }
    for d in [
        "/usr/local/lib/docker/cli-plugins",
        "/usr/local/libexec/docker/cli-plugins",
        "/usr/lib/docker/cli-plugins",
        "/usr/libexec/docker/cli-plugins",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter()
        .map(|d| d.join("docker-compose"))
        .find(|p| p.is_file())
}

impl Driver {
    /// The compose driver for `engine`, in the order of preference; none of
    /// the other engine's.
    pub fn detect(engine: &Engine) -> anyhow::Result<Self> {
        let (_, env) = engine.cli();
        let found = |name: &'static str, program: PathBuf, prefix: Vec<&'static str>| Self {
            name,
            why: format!("{} engine; {} found", engine.kind, program.display()),
            program,
            prefix,
            env: env.clone(),
        };
        match engine.kind {
            Kind::Docker => {
                if let Ok(docker) = which::which("docker")
                    && compose_plugin().is_some()
                {
                    return Ok(found("docker compose", docker, vec!["compose"]));
                }
                if let Ok(v1) = which::which("docker-compose") {
                    return Ok(found("docker-compose", v1, vec![]));
                }
                Err(error_with_hint(
                    "no compose driver found for Docker: neither `docker compose` nor `docker-compose` runs",
                    "install one (Debian: apt-get install docker-compose, or the docker-compose-plugin package), \
                     and check that it is on PATH; BERTH_ENGINE=podman uses Podman's",
                ))
            }
            Kind::Podman => {
                // podman-compose first: `podman compose` (Podman 4.7+) hands
                // over to whichever provider it finds, docker-compose too.
                if let Ok(pc) = which::which("podman-compose") {
                    return Ok(found("podman-compose", pc, vec![]));
                }
                if let Ok(podman) = which::which("podman")
                    && answers(&podman, &["compose", "version"])
                {
                    return Ok(found("podman compose", podman, vec!["compose"]));
                }
                Err(error_with_hint(
                    "no compose driver found for Podman: neither `podman-compose` nor `podman compose` runs",
                    "install podman-compose (Debian: apt-get install podman-compose), and check that it is on PATH; \
                     BERTH_ENGINE=docker uses Docker's",
                ))
            }
        }
    }

    /// Whether this is podman-compose itself (1.0.x: no `--project-directory`,
    /// no `--env-file`, no `version --short`, no `up --wait`).
    fn podman_compose(&self) -> bool {
        self.name == "podman-compose"
    }

    /// Whether `up` recreates a container whose definition changed.
    /// podman-compose 1.0 does not: its `up` runs a container of the same
    /// name, which fails, then starts the old one.
    pub fn recreates(&self) -> bool {
        !self.podman_compose()
    }

    /// The driver's version line, when it tells.
    pub fn version(&self) -> Option<String> {
        if self.podman_compose() {
            // `podman-compose version` prints `podman-composer version  1.0.3`
            // (sic) among podman's own lines.
            let out = duct::cmd(&self.program, ["version"])
                .stdin_null()
                .stderr_null()
                .stdout_capture()
                .unchecked()
                .run()
                .ok()?;
            return String::from_utf8_lossy(&out.stdout)
                .lines()
                .find(|l| l.starts_with("podman-compose") && l.contains("version"))
                .and_then(|l| l.split_whitespace().last())
                .map(str::to_owned);
        }
        let mut args: Vec<&str> = self.prefix.clone();
        args.extend(["version", "--short"]);
        let out = duct::cmd(&self.program, &args)
            .stdin_null()
            .stderr_null()
            .stdout_capture()
            .unchecked()
            .run()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// The arguments naming the project: `-p NAME`, its folder, its compose
    /// files and its `.env`. podman-compose 1.0 takes neither a folder nor
    /// an env file: it runs in the project folder (the working directory)
    /// and reads the `.env` beside the first compose file, which is the
    /// project's own.
    fn project_args(&self, project: &Project, files: &[PathBuf]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["-p".into(), project.name.clone().into()];
        if !self.podman_compose() {
            args.push("--project-directory".into());
            args.push(project.path.clone().into());
        }
        for f in files {
            args.push("-f".into());
            args.push(f.clone().into());
        }
        let env_file = project.path.join(".env");
        if env_file.is_file() && !self.podman_compose() {
            args.push("--env-file".into());
            args.push(env_file.into());
        }
        args
    }

    /// Run `compose <project args> <action...>` in the project folder with
    /// the registry's variables and the project's secrets in the environment. Compose's own output is
    /// captured (without ANSI escapes) and returned; a failure is an error
    /// carrying its last lines.
    pub fn run(
        &self,
        project: &Project,
        files: &[PathBuf],
        env: &BTreeMap<String, String>,
        action: &[&str],
    ) -> anyhow::Result<String> {
        self.run_lines(project, files, env, action, &mut |_| {})
    }

    /// [`Driver::run`], handing each line of compose's output (stdout and
    /// stderr together, ANSI escapes removed) to `line` as it comes.
    pub fn run_lines(
        &self,
        project: &Project,
        files: &[PathBuf],
        env: &BTreeMap<String, String>,
        action: &[&str],
        line: &mut dyn FnMut(&str),
    ) -> anyhow::Result<String> {
        use std::io::BufRead as _;
        let mut args: Vec<OsString> = self.prefix.iter().map(OsString::from).collect();
        args.extend(self.project_args(project, files));
        args.extend(action.iter().map(OsString::from));
        let mut cmd = duct::cmd(&self.program, &args)
            .dir(&project.path)
            .stdin_null()
            .stderr_to_stdout()
            .unchecked()
            // -p and -f say which project; the caller's own choices must not.
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE");
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        // The project's secrets reach compose through its environment only.
        let secrets = project_secrets(project)?;
        if self.podman_compose() && !secrets.is_empty() {
            // podman-compose 1.0 reads `.env` over the environment: a name
            // set (even to nothing) there hides the store's value.
            let dotenv =
                berth::compose::read_dotenv_in(&project.path.join(".env"), Some(&project.path))
                    .unwrap_or_default();
            let hidden: Vec<&str> = secrets
                .iter()
                .filter(|(k, _)| dotenv.contains_key(k))
                .map(|(k, _)| k.as_str())
                .collect();
            if !hidden.is_empty() {
                berth::cli::warn(
                    crate::TOOL,
                    format!(
                        "podman-compose reads {}/.env over the environment: its {} hide(s) the secrets store's value; delete those lines from .env (or set `secrets: plain`)",
                        project.path.display(),
                        hidden.join(", ")
                    ),
                );
            }
        }
        for (k, v) in secrets {
            cmd = cmd.env(k, v);
        }
        let reader = cmd
            .reader()
            .with_context(|| format!("cannot run {}", self.name))?;
        let mut kept: std::collections::VecDeque<String> = std::collections::VecDeque::new();
        let mut podman = self.podman_compose().then(PodmanComposeOutput::default);
        let mut lines = std::io::BufReader::new(&reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = lines
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("cannot read the output of {}", self.name))?;
            if n == 0 {
                break;
            }
            let raw = String::from_utf8_lossy(&buf);
            // Progress redraws (\r) keep only their last state.
            let raw = raw.trim_end().rsplit('\r').next().unwrap_or_default();
            let clean = console::strip_ansi_codes(raw);
            if let Some(pc) = &mut podman
                && !pc.feed(&clean)
            {
                continue;
            }
            line(&clean);
            // The last lines are what tell; keep those.
            if kept.len() == 200 {
                kept.pop_front();
            }
            kept.push_back(clean.into_owned());
        }
        let text = Vec::from(kept).join("\n");
        let status = reader
            .try_wait()
            .with_context(|| format!("cannot run {}", self.name))?
            .map(|o| o.status);
        let failed = podman.and_then(PodmanComposeOutput::failure);
        match status {
            Some(s) if s.success() && failed.is_none() => Ok(text),
            Some(s) if s.success() => {
                let (code, why) = failed.unwrap_or_default();
                anyhow::bail!(
                    "`{} {}` failed (podman exited {code}): {why}",
                    self.name,
                    action.join(" ")
                );
            }
            other => {
                let why = last_lines(&text, 4);
                let code = other
                    .and_then(|s| s.code())
                    .map_or_else(|| "a signal".to_owned(), |c| format!("status {c}"));
                anyhow::bail!(
                    "`{} {}` failed ({code}): {why}",
                    self.name,
                    action.join(" ")
                );
            }
        }
    }
}

/// What podman-compose 1.0's output says, where it differs from compose's:
/// - it echoes every podman command it runs with its arguments, the
///   services' environment values (passwords) among them: those lines are
///   dropped, never shown nor kept for a message;
/// - `up -d` exits 0 when a container fails to start (a taken port): each
///   container is `podman run`, and on failure `podman start`, and each
///   prints `exit code: N`. A failed run followed by a start is a container
///   that existed already (a restart); a start that failed, or a run that
///   failed with no start after it, is a failure.
#[derive(Debug, Default)]
struct PodmanComposeOutput {
    /// The last failure not yet superseded: its code and `Error:` line.
    pending: Option<(i32, String)>,
    last_error: String,
    failures: Vec<(i32, String)>,
}

impl PodmanComposeOutput {
    /// Take in one line; whether to keep it (false for the echoed commands).
    fn feed(&mut self, line: &str) -> bool {
        let t = line.trim();
        if let Some(code) = t.strip_prefix("exit code:") {
            let code: i32 = code.trim().parse().unwrap_or(1);
            self.pending = (code != 0).then(|| (code, std::mem::take(&mut self.last_error)));
            return false;
        }
        if t.starts_with("podman start ") {
            self.pending = None;
            return false;
        }
        if t.starts_with("podman ") || t.starts_with("['podman'") {
            self.failures.extend(self.pending.take());
            return false;
        }
        if t.starts_with("using podman version") || t.starts_with("** excluding") {
            return false;
        }
        if t.starts_with("Error:") {
            t.clone_into(&mut self.last_error);
        }
        true
    }

    /// The first failure, when a container did not start.
    fn failure(mut self) -> Option<(i32, String)> {
        self.failures.extend(self.pending.take());
        self.failures.into_iter().next()
    }
}

/// The last `n` non-empty lines of compose's output, joined, for a message.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(n);
    let joined = lines[start..].join(" / ");
    if joined.is_empty() {
        "no output".to_owned()
    } else {
        joined
    }
}

/// The project's secrets for compose's environment (never argv or a
/// file): the first run moves old `.env` values into the store, and a
/// rotation cut short is resolved against the database (dbdump's check).
fn project_secrets(project: &Project) -> anyhow::Result<Vec<(String, String)>> {
    berth::secrets_migrate::prepare(
        &project.name,
        &project.path,
        &berth_dbdump::password::Checker,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(text: &str) -> (Vec<String>, Option<(i32, String)>) {
        let mut pc = PodmanComposeOutput::default();
        let kept = text
            .lines()
            .filter(|l| pc.feed(l))
            .map(str::to_owned)
            .collect();
        (kept, pc.failure())
    }

    #[test]
    fn podman_compose_restarts_are_fine_a_container_that_cannot_start_fails_and_argv_is_dropped() {
        // A restart: the run fails (the container exists), the start works.
        let restart = "using podman version: 4.3.1
** excluding:  set()
['podman', 'network', 'exists', 'p_default']
podman run --name=p_db_1 -d -e POSTGRES_PASSWORD=hunter2 postgres:16
Error: creating container storage: the container name \"p_db_1\" is already in use
exit code: 125
podman start p_db_1
p_db_1
exit code: 0
";
        let (kept, failed) = outcome(restart);
        assert_eq!(failed, None);
        assert!(!kept.join("\n").contains("hunter2"), "{kept:?}");
        assert!(
            kept.iter()
                .all(|l| !l.starts_with("podman ") && !l.starts_with("exit code"))
        );
        // A taken port: the run and the start after it fail.
        let taken = "podman run --name=p_db_1 -d -p 127.0.0.1:5432:5432 postgres:16
Error: cannot listen on the TCP port: listen tcp4 127.0.0.1:5432: bind: address already in use
exit code: 126
podman start p_db_1
Error: unable to start container \"abc\": cannot listen on the TCP port: listen tcp4 127.0.0.1:5432: bind: address already in use
exit code: 125
podman run --name=p_app_1 -d berth/debian:bookworm
0123
exit code: 0
";
        let (_, failed) = outcome(taken);
        let (code, why) = failed.expect("a failure");
        assert_eq!(code, 125);
        assert!(
            why.contains("127.0.0.1:5432") && why.starts_with("Error:"),
            "{why}"
        );
        // A run that fails with no start after it (the last container).
        let (_, failed) =
            outcome("podman run --name=p_x_1 -d nope\nError: no image\nexit code: 125\n");
        assert_eq!(failed.map(|f| f.0), Some(125));
    }
}
