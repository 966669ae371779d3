//! The compose driver: `docker compose` (v2) when present, else
//! `docker-compose` (v1), else `podman compose`; run with argument vectors.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::Project;
use berth::cli::error_with_hint;

/// Which compose implementation runs the stacks.
#[derive(Debug, Clone)]
pub struct Driver {
    /// `docker compose`, `docker-compose` or `podman compose`.
    pub name: &'static str,
    program: PathBuf,
    prefix: Vec<&'static str>,
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
    /// Find the compose driver, in the order of preference.
    pub fn detect() -> anyhow::Result<Self> {
        if let Ok(docker) = which::which("docker")
            && compose_plugin().is_some()
        {
            return Ok(Self {
                name: "docker compose",
                program: docker,
                prefix: vec!["compose"],
            });
        }
        if let Ok(v1) = which::which("docker-compose") {
            return Ok(Self {
                name: "docker-compose",
                program: v1,
                prefix: vec![],
            });
        }
        if let Ok(podman) = which::which("podman")
            && answers(&podman, &["compose", "version"])
        {
            return Ok(Self {
                name: "podman compose",
                program: podman,
                prefix: vec!["compose"],
            });
        }
        Err(error_with_hint(
            "no compose driver found: neither `docker compose`, `docker-compose` nor `podman compose` runs",
            "install one (Debian: apt-get install docker-compose, or the docker-compose-plugin package), \
             and check that it is on PATH",
        ))
    }

    /// The driver's version line, when it tells.
    pub fn version(&self) -> Option<String> {
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
    /// files and its `.env`.
    fn project_args(project: &Project, files: &[PathBuf]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-p".into(),
            project.name.clone().into(),
            "--project-directory".into(),
            project.path.clone().into(),
        ];
        for f in files {
            args.push("-f".into());
            args.push(f.clone().into());
        }
        let env_file = project.path.join(".env");
        if env_file.is_file() {
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
        args.extend(Self::project_args(project, files));
        args.extend(action.iter().map(OsString::from));
        let mut cmd = duct::cmd(&self.program, &args)
            .dir(&project.path)
            .stdin_null()
            .stderr_to_stdout()
            .unchecked()
            // -p and -f say which project; the caller's own choices must not.
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE");
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        // The project's secrets reach compose through its environment only
        // (never argv or a file); the first run moves old `.env` values
        // into the store.
        for (k, v) in berth::secrets_migrate::prepare(&project.name, &project.path)? {
            cmd = cmd.env(k, v);
        }
        let reader = cmd
            .reader()
            .with_context(|| format!("cannot run {}", self.name))?;
        let mut kept: std::collections::VecDeque<String> = std::collections::VecDeque::new();
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
        match status {
            Some(s) if s.success() => Ok(text),
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
