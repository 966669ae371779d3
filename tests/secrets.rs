//! `secrets` as a user runs it: the real binary against its own BERTH_HOME,
//! values that shells and compose mangle round-tripped byte for byte (into
//! a real container too), the encrypted file tampered with, the key moved
//! to a fresh home, values kept out of argv, and a database password
//! rotated in a running PostgreSQL container.

#![allow(clippy::doc_markdown, clippy::too_many_lines)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::engines::Engine;
use common::{Harness, Kill, Timed as _, stdout_of};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Values that `.env` interpolation, shell quoting or env files break.
const ODD: &[(&str, &str)] = &[
    ("DOLLARS", "P@$$w0rd$HOME${X:-y}"),
    ("QUOTES", "it's \"quoted\" `tick`"),
    ("SPACES", "  lead and trail  "),
    ("HASH", "a #not a comment"),
    ("LINES", "line one\nline two\r\nthree"),
    ("UNICODE", "ünïcødé ✓ 日本 \u{202e}rtl"),
    ("BACKSLASH", "C:\\path\\n\\t"),
    ("EQUALS", "a=b==c"),
];

/// A piece of each value in [`ODD`] that no listing holds otherwise.
const FRAGMENTS: &[&str] = &[
    "P@$$w0rd",
    "quoted",
    "lead and trail",
    "not a comment",
    "line one",
    "ünïcødé",
    "C:\\path",
    "a=b==c",
];

/// A registered project folder (compose file with one service).
fn project(h: &Harness, name: &str) -> PathBuf {
    let dir = h.project(name, &[]);
    h.cmd("registry").arg("add").arg(&dir).run().success();
    dir
}

fn set(h: &Harness, project: &str, key: &str, value: &str) {
    h.cmd("secrets")
        .args(["set", project, key, "--from-stdin"])
        .stdin(value.as_bytes().to_vec())
        .run()
        .success();
}

fn get(h: &Harness, project: &str, key: &str) -> String {
    let out = h
        .cmd("secrets")
        .args(["get", project, key])
        .run()
        .success()
        .stdout;
    out.strip_suffix('\n')
        .expect("get ends with a newline")
        .to_owned()
}

fn enc(h: &Harness, project: &str) -> PathBuf {
    h.home().join("secrets").join(format!("{project}.enc"))
}

/// NUL-separated `KEY=VALUE` records (`env -0`) as a map.
fn env0(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    bytes
        .split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|r| {
            let text = String::from_utf8(r.to_vec()).expect("UTF-8 environment");
            let (k, v) = text.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn set_get_list_rm_round_trip_and_list_never_shows_a_value() {
    let h = Harness::new();
    project(&h, "shop");
    for (k, v) in ODD {
        set(&h, "shop", k, v);
    }
    for (k, v) in ODD {
        assert_eq!(get(&h, "shop", k), *v, "{k}");
    }
    // A trailing newline on stdin is dropped once (echo | set); get adds it back.
    h.cmd("secrets")
        .args(["set", "shop", "ECHOED"])
        .stdin("echoed\n")
        .run()
        .success()
        .stderr_has("set ECHOED of project shop");
    assert_eq!(get(&h, "shop", "ECHOED"), "echoed");
    h.cmd("secrets")
        .args(["set", "shop", "TOKEN", "--generate", "hex40"])
        .run()
        .success();
    let token = get(&h, "shop", "TOKEN");
    assert_eq!(token.len(), 40);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));

    for format in ["table", "json", "ndjson", "csv"] {
        let out = h
            .cmd("secrets")
            .args(["list", "shop", "--format", format])
            .run()
            .success();
        for (k, v) in ODD {
            assert!(out.stdout.contains(k), "{format}: {k} listed");
            assert!(!out.stdout.contains(v), "{format} shows {k}'s value");
        }
        for part in FRAGMENTS {
            assert!(
                !out.stdout.contains(part),
                "{format} shows a value: {}",
                out.stdout
            );
        }
        assert!(!out.stdout.contains(&token), "{format} shows the token");
        assert!(!out.stderr.contains(&token));
    }
    let listed = h
        .cmd("secrets")
        .args(["list", "shop", "--json"])
        .run()
        .success()
        .json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), ODD.len() + 2);
    let tok = rows.iter().find(|r| r["key"] == "TOKEN").unwrap();
    assert_eq!(tok["kind"], "hex40");
    assert_eq!(tok["project"], "shop");
    assert!(tok["rotated"].is_null());
    assert!(tok["created"].as_str().unwrap().ends_with('Z'));
    assert!(rows.iter().all(|r| r.get("value").is_none()));

    // The file holds no value in the clear.
    let raw = std::fs::read(enc(&h, "shop")).unwrap();
    assert!(!raw.windows(token.len()).any(|w| w == token.as_bytes()));

    // rm: asks (refused without a terminal), then with --yes.
    h.cmd("secrets")
        .args(["rm", "shop", "TOKEN"])
        .run()
        .code_is(2)
        .stderr_has("pass --yes");
    assert_eq!(get(&h, "shop", "TOKEN"), token, "nothing removed");
    h.cmd("secrets")
        .args(["rm", "shop", "TOKEN", "--yes"])
        .run()
        .success()
        .stderr_has("removed TOKEN");
    h.cmd("secrets")
        .args(["get", "shop", "TOKEN"])
        .run()
        .code_is(2)
        .stderr_has("project shop has no key 'TOKEN'");
    h.cmd("secrets")
        .args(["rm", "shop", "TOKEN", "--yes"])
        .run()
        .code_is(2);
}

#[test]
fn the_first_secrets_command_moves_an_old_env_into_the_store() {
    let h = Harness::new();
    let dir = project(&h, "legacy");
    // Single-quoted: compose reads `$` in it literally, and so must the move.
    let old = "APP_NAME=legacy\nDB_PASSWORD='Old$ecret-99'\n";
    std::fs::write(dir.join(".env"), old).unwrap();
    let listed = h.cmd("secrets").args(["list", "legacy"]).run().success();
    assert!(listed.stdout.contains("DB_PASSWORD"), "{}", listed.stdout);
    assert!(!listed.stdout.contains("Old$ecret-99"), "{}", listed.stdout);
    assert!(
        listed.stderr.contains("DB_PASSWORD"),
        "no word of the move: {}",
        listed.stderr
    );
    assert_eq!(get(&h, "legacy", "DB_PASSWORD"), "Old$ecret-99");
    let env = std::fs::read_to_string(dir.join(".env")).unwrap();
    assert!(env.contains("APP_NAME=legacy"), "{env}");
    assert!(!env.contains("Old$ecret-99"), "value left in .env: {env}");
    let backups: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".env.berth-backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1, "one backup of the old .env");
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), old);
    // A second command moves nothing more.
    let again = h.cmd("secrets").args(["list", "legacy"]).run().success();
    assert!(!again.stderr.contains("moved"), "{}", again.stderr);
}

#[test]
fn bad_names_and_unknown_projects_are_refused_and_nothing_is_written() {
    let h = Harness::new();
    project(&h, "shop");
    h.cmd("secrets")
        .args(["get", "shpo", "A"])
        .run()
        .code_is(2)
        .stderr_has("no project named 'shpo'")
        .stderr_has("did you mean 'shop'?");
    for bad in ["1A", "A-B", "A B", "A=B"] {
        h.cmd("secrets")
            .args(["set", "shop", bad, "--generate", "alnum32"])
            .run()
            .code_is(2)
            .stderr_has("invalid key name");
    }
    h.cmd("secrets")
        .args(["set", "../x", "A", "--generate", "alnum32"])
        .run()
        .code_is(2)
        .stderr_has("invalid project name");
    h.cmd("secrets")
        .args(["set", "shop", "A", "--generate", "bogus"])
        .run()
        .code_is(2)
        .stderr_has("unknown secret kind");
    h.cmd("secrets")
        .args(["set", "shop", "A", "--from-stdin"])
        .stdin("")
        .run()
        .code_is(2)
        .stderr_has("stdin was empty");
    assert!(!h.home().join("secrets").join("shop.enc").exists());
    assert!(!h.home().join("secret.key").exists(), "no key made");
}

#[test]
fn odd_values_reach_a_child_and_a_shell_byte_for_byte() {
    let h = Harness::new();
    project(&h, "shop");
    for (k, v) in ODD {
        set(&h, "shop", k, v);
    }
    let out = h
        .cmd("secrets")
        .args(["run", "shop", "--", "env", "-0"])
        .run()
        .success();
    let env = env0(out.stdout.as_bytes());
    for (k, v) in ODD {
        assert_eq!(env.get(*k).map(String::as_str), Some(*v), "{k}");
    }
    // The child's exit status is run's.
    h.cmd("secrets")
        .args(["run", "shop", "--", "sh", "-c", "exit 7"])
        .run()
        .code_is(7);
    h.cmd("secrets")
        .args(["run", "shop", "--", "no-such-program-here"])
        .run()
        .code_is(127)
        .stderr_has("cannot run no-such-program-here");

    // `secrets env` reads back in a shell as the same bytes.
    let env_file = h.path().join("secrets.env");
    let lines = h
        .cmd("secrets")
        .args(["env", "shop"])
        .run()
        .success()
        .stdout;
    std::fs::write(&env_file, &lines).unwrap();
    let out = common::output_within(
        Command::new("sh")
            .arg("-c")
            .arg(format!("set -a; . '{}'; env -0", env_file.display())),
        Duration::from_secs(30),
    );
    assert!(out.status.success());
    let env = env0(&out.stdout);
    for (k, v) in ODD {
        assert_eq!(env.get(*k).map(String::as_str), Some(*v), "env file: {k}");
    }
}

/// `secrets run P -- ENGINE run -e KEY...`: the values reach a container of
/// `e` byte for byte.
fn odd_values_reach_a_container_of(e: Engine) {
    if !e.ready(&["postgres:16"]) {
        return;
    }
    let h = Harness::new();
    project(&h, "shop");
    for (k, v) in ODD {
        set(&h, "shop", k, v);
    }
    let mut args: Vec<String> = ["run", "shop", "--", e.cli_name(), "run", "--rm"]
        .map(String::from)
        .to_vec();
    for (k, _) in ODD {
        // `-e NAME`: the engine's CLI takes the value from its own
        // environment, not argv.
        args.extend(["-e".to_owned(), (*k).to_owned()]);
    }
    args.extend(["--entrypoint", "env", "postgres:16", "-0"].map(String::from));
    let out = h.cmd("secrets").args(&args).run().success();
    let env = env0(out.stdout.as_bytes());
    for (k, v) in ODD {
        assert_eq!(
            env.get(*k).map(String::as_str),
            Some(*v),
            "{k} in the {e:?} container"
        );
    }
}

#[test]
fn odd_values_reach_a_container_byte_for_byte() {
    odd_values_reach_a_container_of(Engine::Docker);
}

#[test]
fn odd_values_reach_a_podman_container_byte_for_byte() {
    odd_values_reach_a_container_of(Engine::Podman);
}

#[test]
fn a_tampered_file_a_moved_file_and_a_missing_key_are_refused() {
    let h = Harness::new();
    project(&h, "shop");
    project(&h, "blog");
    set(&h, "shop", "DB_PASSWORD", "s3cret-value");
    let file = enc(&h, "shop");
    let good = std::fs::read(&file).unwrap();

    // A flipped byte in the ciphertext: exit 2, the file kept as it is.
    let mut bad = good.clone();
    let at = bad.len() - 20;
    bad[at] ^= 0x40;
    std::fs::write(&file, &bad).unwrap();
    h.cmd("secrets")
        .args(["get", "shop", "DB_PASSWORD"])
        .run()
        .code_is(2)
        .stderr_has("was altered or is not a berth secrets file");
    let r = h
        .cmd("secrets")
        .args(["set", "shop", "OTHER", "--generate", "alnum32"])
        .run()
        .code_is(2)
        .stderr_has("was altered");
    assert!(!r.stderr.contains("s3cret-value"));
    assert_eq!(std::fs::read(&file).unwrap(), bad, "nothing overwritten");
    std::fs::write(&file, &good).unwrap();
    assert_eq!(get(&h, "shop", "DB_PASSWORD"), "s3cret-value");

    // The file copied to another project's name does not open there.
    std::fs::copy(&file, enc(&h, "blog")).unwrap();
    h.cmd("secrets")
        .args(["get", "blog", "DB_PASSWORD"])
        .run()
        .code_is(2)
        .stderr_has("blog.enc was altered");
    std::fs::remove_file(enc(&h, "blog")).unwrap();

    // The key gone while files exist: exit 2, and no new key is made.
    let key = h.home().join("secret.key");
    let key_bytes = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    for args in [
        vec!["get", "shop", "DB_PASSWORD"],
        vec!["set", "blog", "A", "--generate", "alnum32"],
        vec!["list", "shop"],
    ] {
        h.cmd("secrets")
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has("secret.key is missing")
            .stderr_has("secrets import-key");
        assert!(!key.exists(), "{args:?} made a key");
    }
    assert!(!enc(&h, "blog").exists());

    // Another key in its place: named as the wrong key, never replaced.
    std::fs::write(&key, [9u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    h.cmd("secrets")
        .args(["get", "shop", "DB_PASSWORD"])
        .run()
        .code_is(2)
        .stderr_has("does not open");
    assert_eq!(std::fs::read(&key).unwrap(), [9u8; 32]);
    std::fs::write(&key, &key_bytes).unwrap();
    assert_eq!(get(&h, "shop", "DB_PASSWORD"), "s3cret-value");
}

#[test]
fn an_exported_key_opens_the_secrets_in_a_fresh_home() {
    let h = Harness::new();
    project(&h, "shop");
    for (k, v) in ODD {
        set(&h, "shop", k, v);
    }
    let exported = h.path().join("key.txt");
    h.cmd("secrets")
        .args(["export-key", "-o"])
        .arg(&exported)
        .run()
        .success();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&exported).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.starts_with("berth-secret-key:"), "{text}");
    let piped = h.cmd("secrets").arg("export-key").run().success().stdout;
    assert_eq!(piped, text);

    // A second machine: the files copied, no key yet.
    let other = Harness::new();
    let dest = other.home().join("secrets");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::copy(enc(&h, "shop"), dest.join("shop.enc")).unwrap();
    other
        .cmd("secrets")
        .args(["get", "shop", "DOLLARS"])
        .run()
        .code_is(2)
        .stderr_has("secret.key is missing");
    // A key that does not open the files is refused, nothing written.
    let wrong = other.path().join("wrong.txt");
    std::fs::write(&wrong, format!("berth-secret-key:{}\n", "ab".repeat(32))).unwrap();
    other
        .cmd("secrets")
        .arg("import-key")
        .arg(&wrong)
        .run()
        .code_is(2)
        .stderr_has("does not open");
    assert!(!other.home().join("secret.key").exists());
    other
        .cmd("secrets")
        .args(["import-key", "-"])
        .stdin(text.clone())
        .run()
        .success()
        .stderr_has("installed the key");
    for (k, v) in ODD {
        assert_eq!(get(&other, "shop", k), *v, "{k} on the second machine");
    }
    // Importing the same key again is fine; a different one needs --force.
    other
        .cmd("secrets")
        .arg("import-key")
        .arg(&exported)
        .run()
        .success();
    let third = Harness::new();
    project(&third, "blog");
    set(&third, "blog", "A", "a");
    third
        .cmd("secrets")
        .arg("import-key")
        .arg(&exported)
        .run()
        .code_is(2)
        .stderr_has("a different key is installed");
    // --force does not install a key that leaves blog's file unreadable.
    third
        .cmd("secrets")
        .args(["import-key", "--force"])
        .arg(&exported)
        .run()
        .code_is(2)
        .stderr_has("does not open");
    assert_eq!(get(&third, "blog", "A"), "a");
}

#[test]
fn values_never_show_in_the_argv_of_run_or_its_child() {
    let h = Harness::new();
    project(&h, "shop");
    let value = "ArgvCanary-5d1f0c2e";
    set(&h, "shop", "CANARY", value);
    let mut cmd = Command::new(common::bin("secrets"));
    cmd.args(["run", "shop", "--", "sleep", "2"])
        .env("BERTH_HOME", h.home())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = Kill(cmd.spawn().unwrap());
    let pid = child.0.id();
    let start = Instant::now();
    let mut saw_sleep = false;
    while start.elapsed() < Duration::from_millis(1500) {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            break;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(!text.contains(value), "value in argv: {text}");
        if text.starts_with("sleep ") {
            saw_sleep = true;
            // exec: the same process is now the child, the value in its environment.
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
            assert!(
                env0(&environ).get("CANARY").map(String::as_str) == Some(value),
                "the child has the value in its environment"
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(saw_sleep, "run became sleep (exec, no extra process)");
    drop(child);
}

#[test]
fn rotating_a_key_no_database_uses_changes_it_and_records_when() {
    let h = Harness::new();
    project(&h, "shop");
    h.cmd("secrets")
        .args(["set", "shop", "APP_KEY", "--generate", "laravel"])
        .run()
        .success();
    let before = get(&h, "shop", "APP_KEY");
    let listed = |h: &Harness| {
        h.cmd("secrets")
            .args(["list", "shop", "--json"])
            .run()
            .success()
            .json()[0]
            .clone()
    };
    let l0 = listed(&h);
    assert!(l0["rotated"].is_null());
    h.cmd("secrets")
        .args(["rotate", "shop", "APP_KEY"])
        .run()
        .success()
        .stderr_has("rotated APP_KEY of project shop");
    let after = get(&h, "shop", "APP_KEY");
    assert_ne!(before, after);
    assert!(after.starts_with("base64:") && after.len() == before.len());
    let l1 = listed(&h);
    assert_eq!(l1["kind"], "laravel");
    assert_eq!(l1["created"], l0["created"]);
    assert!(l1["rotated"].as_str().is_some());
    // A value set by hand has no kind to make a new one of.
    set(&h, "shop", "HAND", "typed");
    h.cmd("secrets")
        .args(["rotate", "shop", "HAND"])
        .run()
        .code_is(2)
        .stderr_has("set by hand");
    assert_eq!(get(&h, "shop", "HAND"), "typed");
}

/// A compose project whose database passwords come from the store, taken
/// down with its volumes on drop.
struct DbStack {
    name: String,
    dir: PathBuf,
}

const PG_COMPOSE: &str = "services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      POSTGRES_DB: app
    healthcheck:
      test: [\"CMD\", \"pg_isready\", \"-U\", \"app\", \"-d\", \"app\"]
      interval: 1s
      retries: 120
";

const MARIA_COMPOSE: &str = "services:
  db:
    image: mariadb:11
    environment:
      MARIADB_ROOT_PASSWORD: ${DB_ROOT_PASSWORD}
      MARIADB_DATABASE: app
      MARIADB_USER: app
      MARIADB_PASSWORD: ${DB_PASSWORD}
    healthcheck:
      test: [\"CMD\", \"healthcheck.sh\", \"--connect\"]
      interval: 1s
      retries: 120
";

impl DbStack {
    /// Register the project, generate `keys` in the store, start it with
    /// `secrets run` handing them to compose.
    fn up(h: &Harness, compose: &str, keys: &[&str]) -> DbStack {
        let name = format!(
            "sect{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let dir = h.path().join(&name);
        h.write(&format!("{name}/compose.yaml"), compose);
        h.cmd("registry")
            .arg("add")
            .arg(&dir)
            .args(["--name", &name])
            .run()
            .success();
        for k in keys {
            h.cmd("secrets")
                .args(["set", &name, k, "--generate", "alnum32"])
                .run()
                .success();
        }
        let stack = DbStack { name, dir };
        h.cmd("secrets")
            .args([
                "run",
                &stack.name,
                "--",
                "docker-compose",
                "-p",
                &stack.name,
            ])
            .args(["up", "-d"])
            .current_dir(&stack.dir)
            .env("COMPOSE_HTTP_TIMEOUT", "600")
            .run()
            .success();
        stack.wait_healthy();
        stack
    }

    fn container(&self) -> String {
        let id = stdout_of(
            "docker",
            &[
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={}", self.name),
            ],
        );
        assert!(!id.is_empty(), "no db container for {}", self.name);
        id
    }

    fn wait_healthy(&self) {
        let id = self.container();
        let start = Instant::now();
        loop {
            let s = stdout_of(
                "docker",
                &["inspect", "-f", "{{.State.Health.Status}}", &id],
            );
            if s == "healthy" {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{} not healthy: {s}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Whether `user` logs in with `password` over TCP to the container's
    /// address (password auth; PostgreSQL trusts its local socket and
    /// loopback). The password goes by environment, never argv.
    fn connects(&self, user: &str, password: &str) -> bool {
        let id = self.container();
        let ip = stdout_of(
            "docker",
            &[
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &id,
            ],
        );
        let mut cmd = Command::new("docker");
        if self.is_postgres() {
            cmd.args(["exec", "-e", "PGPASSWORD", &id])
                .args([
                    "psql", "-X", "-tA", "-w", "-h", &ip, "-U", user, "-d", "app",
                ])
                .args(["-c", "SELECT 1"])
                .env("PGPASSWORD", password);
        } else {
            cmd.args(["exec", "-e", "MYSQL_PWD", &id])
                .args(["mariadb", "--batch", "--skip-column-names", "-h", &ip])
                .arg(format!("-u{user}"))
                .args(["-e", "SELECT 1"])
                .env("MYSQL_PWD", password);
        }
        let out = cmd.timed_output().unwrap();
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn is_postgres(&self) -> bool {
        std::fs::read_to_string(self.dir.join("compose.yaml"))
            .unwrap()
            .contains("postgres")
    }

    fn stop(&self) {
        let st = Command::new("docker-compose")
            .args(["-p", &self.name, "stop", "-t", "1"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timed_status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for DbStack {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .env("COMPOSE_HTTP_TIMEOUT", "600")
            .args(["-p", &self.name, "down", "-v", "-t", "1"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timed_status();
    }
}

#[test]
fn rotating_the_database_password_changes_it_in_the_running_database() {
    if !common::docker_ready(&["postgres:16"]) {
        return;
    }
    let h = Harness::new();
    let s = DbStack::up(&h, PG_COMPOSE, &["POSTGRES_PASSWORD"]);
    let old = get(&h, &s.name, "POSTGRES_PASSWORD");
    assert!(
        s.connects("app", &old),
        "the stored password works at first"
    );
    assert!(!s.connects("app", "wrong"), "a wrong one does not");

    let r = h
        .cmd("secrets")
        .args(["rotate", &s.name, "POSTGRES_PASSWORD"])
        .run()
        .success()
        .stderr_has("changed in the db database (user app)");
    let new = get(&h, &s.name, "POSTGRES_PASSWORD");
    assert_ne!(new, old);
    assert_eq!(new.len(), 32);
    assert!(!r.stderr.contains(&new) && !r.stderr.contains(&old));
    assert!(s.connects("app", &new), "the new password connects");
    assert!(!s.connects("app", &old), "the old password no longer does");
    // The server got a SCRAM verifier, not the password: not in its logs either.
    let logs = Command::new("docker")
        .args(["logs", &s.container()])
        .timed_output()
        .unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr)
    );
    assert!(!logs.contains(&new), "the new password in the server's log");

    // Stopped: refused with exit 1, and nothing changes.
    s.stop();
    h.cmd("secrets")
        .args(["rotate", &s.name, "POSTGRES_PASSWORD"])
        .run()
        .code_is(1)
        .stderr_has("which is not running: nothing changed")
        .stderr_has("stackctl start");
    assert_eq!(get(&h, &s.name, "POSTGRES_PASSWORD"), new);
}

#[test]
fn rotating_a_mariadb_user_password_connects_as_root_from_the_store() {
    if !common::docker_ready(&["mariadb:11"]) {
        return;
    }
    let h = Harness::new();
    let s = DbStack::up(&h, MARIA_COMPOSE, &["DB_ROOT_PASSWORD", "DB_PASSWORD"]);
    let old = get(&h, &s.name, "DB_PASSWORD");
    let root = get(&h, &s.name, "DB_ROOT_PASSWORD");
    assert!(s.connects("app", &old));
    h.cmd("secrets")
        .args(["rotate", &s.name, "DB_PASSWORD"])
        .run()
        .success()
        .stderr_has("(user app)");
    let new = get(&h, &s.name, "DB_PASSWORD");
    assert_ne!(new, old);
    assert!(s.connects("app", &new), "the new password connects");
    assert!(!s.connects("app", &old), "the old one no longer does");
    assert!(s.connects("root", &root), "root's is untouched");
    // Root's own password: every root account (root@'%', root@localhost).
    h.cmd("secrets")
        .args(["rotate", &s.name, "DB_ROOT_PASSWORD"])
        .run()
        .success()
        .stderr_has("(user root)");
    let new_root = get(&h, &s.name, "DB_ROOT_PASSWORD");
    assert!(s.connects("root", &new_root));
    assert!(!s.connects("root", &root));
}

#[test]
fn parallel_sets_of_one_project_all_land() {
    let h = Harness::new();
    project(&h, "shop");
    let children: Vec<std::process::Child> = (0..8)
        .map(|i| {
            let mut c = Command::new(common::bin("secrets"));
            c.args(["set", "shop", &format!("K{i}"), "--generate", "alnum16"])
                .env("BERTH_HOME", h.home())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = common::wait_within(child, Duration::from_secs(60), "secrets set");
        assert!(out.status.success());
    }
    let listed = h
        .cmd("secrets")
        .args(["list", "shop", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 8, "{listed}");
}

#[test]
fn on_a_terminal_set_asks_without_echo_and_env_and_export_key_refuse() {
    if !common::require("script") {
        return;
    }
    let h = Harness::new();
    project(&h, "shop");
    // `script` gives the command a terminal; what it shows is the transcript,
    // flushed (-f) to `log` as it goes. The keys are typed once the question
    // is there (the tool asks once echo is off), as a user would.
    let log = h.path().join("typescript");
    let after = |question: &str, keys: &str| {
        format!(
            "(timeout 20 sh -c 'until grep -q \"{question}\" \"$0\"; do sleep 0.05; done' {log}; {keys})",
            log = log.display()
        )
    };
    let typed = "TypedOnTerminal-7c1e";
    let shown = h
        .sh(&format!(
            "{} | script -qfec 'secrets set shop TYPED' {}",
            after("value for TYPED:", &format!("printf '%s\\n' '{typed}'")),
            log.display()
        ))
        .run()
        .success();
    assert!(
        shown.stdout.contains("value for TYPED:"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains(typed), "echoed: {}", shown.stdout);
    assert_eq!(get(&h, "shop", "TYPED"), typed);

    // Ctrl-C at the prompt: the terminal gets its echo back, nothing is
    // stored, and the exit status says "ended by SIGINT" (130). The shell's
    // trap keeps it alive to report the terminal's settings afterwards; it is
    // exec'd because `script -c` runs its command with $SHELL, and dash as
    // $SHELL stays in between without a trap and dies of the Ctrl-C.
    let quit = h
        .sh(&format!(
            "{} | script -qfec \"exec sh -c 'trap : INT; secrets set shop ABANDONED; echo rc=\\$?; stty -a'\" {}",
            after("value for ABANDONED:", "printf '\\003'; sleep 0.5"),
            log.display()
        ))
        .run()
        .success();
    assert!(quit.stdout.contains("rc=130"), "{}", quit.stdout);
    assert!(
        quit.stdout.split_whitespace().any(|w| w == "echo"),
        "echo left off after Ctrl-C: {}",
        quit.stdout
    );
    let listed = h.cmd("secrets").args(["list", "shop"]).run().success();
    assert!(!listed.stdout.contains("ABANDONED"), "{}", listed.stdout);

    for (cmd, why) in [
        (
            "secrets env shop",
            "refusing to print secret values on a terminal",
        ),
        (
            "secrets export-key",
            "refusing to print the key on a terminal",
        ),
    ] {
        let r = h
            .sh(&format!("script -qec '{cmd}' /dev/null < /dev/null"))
            .run()
            .code_is(2);
        assert!(r.stdout.contains(why), "{cmd}: {}", r.stdout);
        assert!(!r.stdout.contains(typed), "{cmd} printed the value");
    }
    let r = h
        .sh("script -qec 'secrets env shop --reveal' /dev/null < /dev/null")
        .run()
        .success();
    assert!(
        r.stdout.contains(&format!("TYPED='{typed}'")),
        "{}",
        r.stdout
    );
}
