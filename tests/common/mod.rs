//! A small harness so a test reads like the command line:
//! `h.cmd("registry").args(["add", "shop"]).run().success()`.
//!
//! Every test gets its own `BERTH_HOME` in a temp folder, so tests run in
//! parallel without sharing state.

#![allow(dead_code)]

pub mod argv;
pub mod cigen;
pub mod engines;
pub mod services;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The path of a tool binary built by cargo for these tests.
pub fn bin(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_registry"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    dir.join(name)
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether nothing listens on TCP `port` on any address now: it binds on
/// 0.0.0.0 and on [::] (when this machine has IPv6).
pub fn port_is_free(port: u16) -> bool {
    use std::io::ErrorKind;
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
        && std::net::TcpListener::bind(("::", port))
            .map_or_else(|e| e.kind() != ErrorKind::AddrInUse, |_| true)
}

/// The first of `len` consecutive TCP ports that nothing listens on now, so
/// a test can give a tool a range whose every port it knows. Starts are
/// spread by process id over 20000-59999 (below the kernel's ephemeral
/// ports), so parallel tests rarely probe the same ports.
pub fn free_range(len: u16) -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919);
    for _ in 0..1000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let start = 20_000 + (seed.wrapping_add(n.wrapping_mul(997)) % 40_000) as u16;
        if (start..start + len).all(port_is_free) {
            return start;
        }
    }
    panic!("no {len} consecutive free ports in 20000-59999");
}

/// A temp folder with its own `BERTH_HOME`.
pub struct Harness {
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    pub fn registry_file(&self) -> PathBuf {
        self.home().join("registry.json")
    }

    /// Write a file under the temp folder (parents created) and return its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A project folder with a compose file publishing `ports` (short syntax) for a `db` service.
    pub fn project(&self, name: &str, ports: &[&str]) -> PathBuf {
        let list: Vec<String> = ports.iter().map(|p| format!("\"{p}\"")).collect();
        self.write(
            &format!("{name}/compose.yaml"),
            &format!(
                "services:\n  db:\n    image: postgres:16\n    ports: [{}]\n",
                list.join(", ")
            ),
        );
        self.path().join(name)
    }

    /// A command for a tool, run in the temp folder with this `BERTH_HOME`.
    pub fn cmd(&self, tool: &str) -> Cmd {
        let mut c = Command::new(bin(tool));
        c.current_dir(self.path())
            .env("BERTH_HOME", self.home())
            .env("NO_COLOR", "1")
            .env_remove("COMPOSE_FILE");
        Cmd {
            inner: c,
            stdin: None,
            timeout: TIMEOUT,
        }
    }

    /// A `bash -c` pipeline with the tools first on PATH.
    pub fn sh(&self, script: &str) -> Cmd {
        let path = format!(
            "{}:{}",
            bin("registry").parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new("bash");
        c.arg("-c")
            .arg(script)
            .current_dir(self.path())
            .env("BERTH_HOME", self.home())
            .env("PATH", path)
            .env("NO_COLOR", "1");
        Cmd {
            inner: c,
            stdin: None,
            timeout: TIMEOUT,
        }
    }

    pub fn journal_file(&self) -> PathBuf {
        self.home().join("registry.journal")
    }

    /// The registry's state: the snapshot's bytes then the journal's (empty
    /// when they do not exist). The index beside them is a cache, left out.
    pub fn registry_bytes(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(self.registry_file()).unwrap_or_default();
        bytes.extend(std::fs::read(self.journal_file()).unwrap_or_default());
        bytes
    }

    /// The registered projects, read from the files as the README describes
    /// them: the snapshot, then the journal's changes when its generation is
    /// the snapshot's. Panics when either does not parse.
    pub fn projects(&self) -> Vec<serde_json::Value> {
        registered(
            &std::fs::read(self.registry_file()).unwrap_or_default(),
            &std::fs::read(self.journal_file()).unwrap_or_default(),
        )
    }
}

/// The projects a snapshot and a journal hold together, sorted by name.
pub fn registered(snapshot: &[u8], journal: &[u8]) -> Vec<serde_json::Value> {
    use serde_json::Value;
    let mut projects = std::collections::BTreeMap::new();
    let mut generation = 0;
    if !snapshot.is_empty() {
        let v: Value = serde_json::from_slice(snapshot).expect("the snapshot parses");
        generation = v["generation"].as_u64().unwrap_or(0);
        for p in v["projects"].as_array().cloned().unwrap_or_default() {
            projects.insert(p["name"].as_str().unwrap().to_owned(), p);
        }
    }
    // Only complete lines: a last line without its newline is still being written.
    let complete = journal
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut lines = journal[..complete]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty());
    let head: Option<Value> = lines
        .next()
        .map(|l| serde_json::from_slice(l).expect("journal head parses"));
    if head.is_some_and(|h| h["generation"].as_u64() == Some(generation)) {
        for line in lines {
            let change: Value = serde_json::from_slice(line).expect("every journal line parses");
            if let Some(p) = change.get("put") {
                projects.insert(p["name"].as_str().unwrap().to_owned(), p.clone());
            } else {
                projects.remove(change["remove"].as_str().expect("put or remove"));
            }
        }
    }
    projects.into_values().collect()
}

pub struct Cmd {
    inner: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

/// How long a tool run by a test may take before the test fails: a hung
/// command fails its test instead of stalling the suite.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `cmd` to completion with its output captured, and panics (after
/// killing it) when it runs longer than `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    try_output_within(cmd, limit).unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
}

/// `Command::output` and `Command::status` with a time limit: the way a test
/// runs a program other than through [`Cmd`]. A program that cannot start is
/// the `Err` std gives; one that outlives its limit is killed and fails the
/// test. tests/generated.rs fails on a bare `.output()`, `.status()` or
/// `.wait()` outside tests/common, so every spawned command has a limit.
pub trait Timed {
    /// Output captured, within [`TIMEOUT`].
    fn timed_output(&mut self) -> std::io::Result<Output>;
    /// Output captured, within `limit`.
    fn output_in(&mut self, limit: Duration) -> std::io::Result<Output>;
    /// stdout and stderr as set (inherited by default), within [`TIMEOUT`].
    fn timed_status(&mut self) -> std::io::Result<std::process::ExitStatus>;
}

impl Timed for Command {
    fn timed_output(&mut self) -> std::io::Result<Output> {
        try_output_within(self, TIMEOUT)
    }

    fn output_in(&mut self, limit: Duration) -> std::io::Result<Output> {
        try_output_within(self, limit)
    }

    fn timed_status(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let child = self.spawn()?;
        Ok(wait_within(child, TIMEOUT, &format!("{self:?}")).status)
    }
}

/// Like [`output_within`], but a program that cannot be started (not
/// installed) is an `Err` for the caller to judge, not a panic. A program
/// that starts and outlives `limit` still fails the test.
pub fn try_output_within(cmd: &mut Command, limit: Duration) -> std::io::Result<Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn()?;
    Ok(wait_within(child, limit, &format!("{cmd:?}")))
}

/// `Child::wait_with_output` with the [`TIMEOUT`]: a child that outlives it
/// is killed and fails the test.
pub trait TimedChild {
    fn timed_wait_with_output(self) -> std::io::Result<Output>;
}

impl TimedChild for Child {
    fn timed_wait_with_output(self) -> std::io::Result<Output> {
        let what = format!("child process {}", self.id());
        Ok(wait_within(self, TIMEOUT, &what))
    }
}

/// Whether `cmd` starts and exits 0 within `limit` (its output discarded).
pub fn succeeds_within(cmd: &mut Command, limit: Duration) -> bool {
    try_output_within(cmd, limit).is_ok_and(|o| o.status.success())
}

/// The trimmed stdout of a program run with the default [`TIMEOUT`].
pub fn stdout_of(program: &str, args: &[&str]) -> String {
    let out = output_within(Command::new(program).args(args), TIMEOUT);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Kills a child and reaps it (a killed child cannot hang the wait).
pub fn kill_and_wait(child: &mut Child) -> std::process::ExitStatus {
    let _ = child.kill();
    child.wait().expect("wait for a killed child")
}

/// A child process killed (and reaped) when the test ends, however it ends.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = kill_and_wait(&mut self.0);
    }
}

/// Waits for a spawned child (stdout and stderr piped, or not) and panics
/// after killing it when it runs longer than `limit`.
pub fn wait_within(mut child: Child, limit: Duration, what: &str) -> Output {
    use std::io::Read;
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            // The child leads its own process group when spawned through
            // `Cmd`: end the whole group (a pipeline's other commands too).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

impl Cmd {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.inner.arg(a);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.inner.env(k, v);
        self
    }

    pub fn current_dir(mut self, d: impl AsRef<Path>) -> Self {
        self.inner.current_dir(d);
        self
    }

    /// Fail the test when the command runs longer than `limit` (default [`TIMEOUT`]).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    pub fn run(mut self) -> Run {
        self.inner.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.inner.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        std::os::unix::process::CommandExt::process_group(&mut self.inner, 0);
        let mut child = self.inner.spawn().expect("spawn");
        if let Some(data) = self.stdin.take() {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let what = format!("{:?}", self.inner);
        let out = wait_within(child, self.timeout, &what);
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn code_is(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Self {
        self.code_is(0)
    }

    #[track_caller]
    pub fn stderr_has(self, text: &str) -> Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, text: &str) -> Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// GET a path on 127.0.0.1:port (HTTP/1.0, the answer read to its end, two
/// minutes at most): (status, headers, body); `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String, String)> {
    use std::io::Read as _;
    let mut s = std::net::TcpStream::connect_timeout(
        &([127, 0, 0, 1], port).into(),
        Duration::from_secs(2),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(
        format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Some((status, head.to_owned(), body.to_owned()))
}

/// Whether the tests run as root (the effective user id is 0).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether the tests run under CI (`CI=true`), where a missing real part fails.
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Reports a missing real part: a failure under `CI=true`, else one
/// `skipped:` line. Returns false, for `return missing(...)`.
#[track_caller]
pub fn missing(what: &str) -> bool {
    assert!(!ci(), "{what} (required under CI=true)");
    eprintln!("skipped: {what}");
    false
}

/// Whether the Docker engine answers and has every one of `images` (the test
/// bed builds them: tests/bed/dockerd.sh, tests/bed/images.sh; no registry is
/// reachable). docker and docker-compose must be installed. Otherwise one
/// `skipped:` line, or a failure under `CI=true`.
#[track_caller]
pub fn docker_ready(images: &[&str]) -> bool {
    if !require("docker") || !require("docker-compose") {
        return false;
    }
    let limit = Duration::from_secs(60);
    if !succeeds_within(Command::new("docker").arg("info"), limit) {
        return missing("the Docker engine does not answer (tests/bed/dockerd.sh)");
    }
    for image in images {
        if !succeeds_within(
            Command::new("docker").args(["image", "inspect", image]),
            limit,
        ) {
            return missing(&format!("image {image} is missing (tests/bed/images.sh)"));
        }
    }
    true
}

/// Whether an external program the test needs is installed. Without it the
/// test says so in one line and returns early; with `CI=true` a missing
/// program fails the test instead, so CI never skips an end-to-end test.
#[track_caller]
pub fn require(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        || Path::new(program).is_file();
    found || missing(&format!("{program} is not installed"))
}

/// The host's servers, started by the test bed's services.sh.
pub struct HostServer {
    pub dir: String,
    pub vars: std::collections::HashMap<String, String>,
}

impl HostServer {
    /// Start a `postgres` or `mariadb` server whose password is `password`;
    /// `None` (said in one line) when it cannot start, a failure with CI=true.
    pub fn start(kind: &str, password: &str) -> Option<HostServer> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bed/services.sh");
        let o = output_within(
            Command::new("bash")
                .arg(&script)
                .arg(kind)
                .env("BED_PG_PASSWORD", password)
                .env("BED_MARIADB_PASSWORD", password),
            Duration::from_secs(180),
        );
        if !o.status.success() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "services.sh {kind}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            eprintln!(
                "skipped: cannot start the host's {kind}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        let vars: std::collections::HashMap<String, String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let dir = vars
            .iter()
            .find(|(k, _)| k.ends_with("_DIR"))
            .map(|(_, v)| v.clone())
            .unwrap();
        Some(HostServer { dir, vars })
    }
}

impl Drop for HostServer {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bed/services.sh");
        output_within(
            Command::new("bash").arg(script).args(["stop", &self.dir]),
            Duration::from_secs(60),
        );
    }
}

/// The named `run:` steps, the `env:` (values as text) and the whole job of
/// the GitHub workflow cigen generated in `dir` (its `test` job).
pub fn workflow_job(
    dir: &Path,
) -> (
    Vec<(String, String)>,
    std::collections::BTreeMap<String, String>,
    yaml_serde::Value,
) {
    let text = std::fs::read_to_string(dir.join(".github/workflows/test.yml")).unwrap();
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    let job = doc["jobs"]["test"].clone();
    let steps = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| {
            Some((
                s["name"].as_str()?.to_owned(),
                s["run"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let env = job["env"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map_or_else(|| yaml_serde::to_string(v).unwrap(), str::to_owned);
                    (k.as_str().unwrap().to_owned(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    (steps, env, job)
}

/// Every regular file under `dir`, with its bytes.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                walk(&p, out);
            } else if t.is_file()
                && let Ok(b) = std::fs::read(&p)
            {
                out.insert(p, b);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, &mut out);
    out
}

/// Every regular file under `dir` with its bytes, by path relative to `dir`.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|(p, b)| (p.strip_prefix(dir).unwrap_or(&p).to_path_buf(), b))
        .collect()
}
