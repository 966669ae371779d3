//! berth against Podman (4.3, its Docker-compatible API service on the
//! rootful socket, podman-compose 1.0): the stackctl lifecycle (a start
//! refused for a taken port, status, logs, health, restart, stop, down),
//! plan and apply, and a dbdump backup and restore into a container, with
//! `BERTH_ENGINE=podman`.
//! The scenarios take the engine as a parameter (`common::engines`) and run
//! on both, Docker named by `BERTH_ENGINE=docker` (tests/stackctl.rs and
//! tests/dbdump.rs cover Docker found by `auto` in depth).
//!
//! Where Podman differs from Docker, the difference is named where a test
//! shows it handled:
//! - labels: podman-compose sets `io.podman.compose.project` and also
//!   compose's `com.docker.compose.project`/`.service`, which berth reads;
//! - health: the compatible container list has no health in its status
//!   line, and with no systemd Podman 4.3 never runs healthchecks (health
//!   stays `starting`): berth runs them through libpod's endpoint;
//! - names: containers `PROJECT_SERVICE_1`, the network `PROJECT_default`,
//!   and `podman-compose down` leaves the network: `stackctl down` removes it;
//! - `podman-compose up -d` exits 0 when a container cannot start (a taken
//!   port), and has no `--wait`: berth reads its `exit code:` lines and
//!   waits by itself;
//! - `podman-compose up` does not recreate a container whose definition
//!   changed (it runs one of the same name, which fails, then starts the
//!   old one): `stackctl apply` removes the outdated container first;
//! - stop signals and timeouts: the service's `stop_signal` and
//!   `stop -t` reach `podman stop`; a process that ignores the signal is
//!   killed after the timeout (exit 137), as with Docker.
//!
//! Under CI=true a missing Podman fails these tests (tests/bed/podman.sh
//! sets it up).

mod common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::engines::Engine;
use common::services::db_service;
use common::{Harness, Timed as _, TimedChild as _, free_port};

fn unique(tag: &str) -> String {
    format!("pm{}-{tag}", std::process::id())
}

/// Removes the compose projects' containers, networks and volumes, even
/// when the test fails.
struct Cleanup(Engine, Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.0.remove_projects(&self.1);
    }
}

/// An HTTP app and `sleeper`, which ignores SIGTERM (a shell as PID 1), so
/// a stop with a timeout has to kill it.
fn app_service(port: u16) -> String {
    common::services::app_service(port)
        + "  sleeper:
    image: berth/debian:bookworm
    command: [\"sh\", \"-c\", \"sleep infinity\"]
"
}

fn register(h: &Harness, name: &str, services: &str, http: u16) -> PathBuf {
    h.write(
        &format!("{name}/compose.yaml"),
        &format!("services:\n{services}"),
    );
    let dir = h.path().join(name);
    h.cmd("registry")
        .args(["add", dir.to_str().unwrap(), "--name", name, "--port"])
        .arg(http.to_string())
        .run()
        .success();
    dir
}

fn stackctl(h: &Harness, e: Engine) -> common::Cmd {
    e.on(h.cmd("stackctl"))
}

fn status_json(h: &Harness, e: Engine, name: &str) -> Value {
    let run = stackctl(h, e)
        .args(["status", name, "--json"])
        .run()
        .success();
    run.json()[0].clone()
}

fn service_of<'a>(status: &'a Value, service: &str) -> &'a Value {
    status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service)
        .unwrap_or_else(|| panic!("no service {service} in {status}"))
}

fn registry_status(h: &Harness, name: &str) -> Value {
    let run = h.cmd("registry").args(["list", "--json"]).run().success();
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()["status"]
        .clone()
}

/// The engine's own listing (`ps -a`, `network ls`) of a project's things.
fn engine_names(e: Engine, what: &[&str], project: &str) -> Vec<String> {
    let out = e
        .cli()
        .args(what)
        .args(["--format", "{{.Names}}"])
        .arg("--filter")
        .arg(format!("label=com.docker.compose.project={project}"))
        .timed_output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn networks(e: Engine, project: &str) -> Vec<String> {
    let out = e
        .cli()
        .args(["network", "ls", "--format", "{{.Name}}"])
        .timed_output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|n| n.starts_with(&format!("{project}_")))
        .map(str::to_owned)
        .collect()
}

/// The lifecycle on one engine: doctor names it, a start refused for a taken
/// port (and forced into `error`), status with health, logs, health,
/// restart, stop with a timeout, down.
#[allow(clippy::too_many_lines)] // one stack through its whole life: starting it costs seconds
fn lifecycle(e: Engine) {
    if !e.ready(&["postgres:16", "berth/debian:bookworm"]) {
        return;
    }
    let h = Harness::new();
    let (name, other) = (unique("life"), unique("taken"));
    let _clean = Cleanup(e, vec![name.clone(), other.clone()]);

    // doctor: which engine and compose, and why.
    let doctor = stackctl(&h, e).args(["doctor", "--json"]).run().success();
    let checks = doctor.json();
    let check = |c: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["check"] == c)
            .unwrap()
            .clone()
    };
    let engine = check("engine");
    let kind = match e {
        Engine::Docker => "Docker",
        Engine::Podman => "Podman",
    };
    assert!(
        engine["detail"].as_str().unwrap().starts_with(kind),
        "{engine}"
    );
    assert!(
        engine["why"]
            .as_str()
            .unwrap()
            .starts_with(&format!("BERTH_ENGINE={}", e.cli_name())),
        "{engine}"
    );
    assert!(
        check("compose")["detail"]
            .as_str()
            .unwrap()
            .starts_with(e.compose_name()),
        "{checks}"
    );

    let db_port = free_port();
    let http = free_port();
    let services = format!("{}{}", db_service(db_port), app_service(http));
    register(&h, &name, &services, http);
    stackctl(&h, e)
        .args(["start", &name, "--timeout", "120"])
        .run()
        .success()
        .stderr_has(&format!("starting with {}", e.compose_name()))
        .stderr_has("running in")
        .stderr_has("db (healthy)");
    assert_eq!(registry_status(&h, &name), "running");

    // Health comes from the engine although podman-compose's containers
    // carry it nowhere in the list and no systemd runs their checks.
    let s = status_json(&h, e, &name);
    assert_eq!(s["status"], "running", "{s}");
    for svc in ["db", "app"] {
        let c = service_of(&s, svc);
        assert_eq!(c["state"], "running", "{s}");
        assert_eq!(c["health"], "healthy", "{s}");
        assert_eq!(c["container"], e.container_name(&name, svc), "{s}");
    }
    assert!(service_of(&s, "sleeper")["health"].is_null(), "{s}");
    assert_eq!(service_of(&s, "app")["ports"][0]["published"], http);
    assert_eq!(networks(e, &name), [format!("{name}_default")]);

    // A second project on the same database port: refused before anything
    // is created; forced, podman-compose's exit 0 is not taken for a start.
    register(&h, &other, &db_service(db_port), free_port());
    let before = h.registry_bytes();
    stackctl(&h, e)
        .args(["start", &other])
        .run()
        .code_is(1)
        .stderr_has(&format!("port {db_port}/tcp"))
        .stderr_has(&format!("project {name} (service db, running)"));
    assert_eq!(h.registry_bytes(), before, "a refused start writes nothing");
    assert!(engine_names(e, &["ps", "-a"], &other).is_empty());
    let forced = stackctl(&h, e)
        .args(["start", &other, "--force", "--timeout", "30"])
        .run()
        .code_is(2);
    let forced = forced
        .stderr_has("recorded as error")
        .stderr_has(&db_port.to_string());
    assert!(
        !forced.stderr.contains("podman run") && !forced.stderr.contains("POSTGRES_PASSWORD"),
        "podman-compose's echoed commands stay out: {}",
        forced.stderr
    );
    assert_eq!(registry_status(&h, &other), "error");
    stackctl(&h, e)
        .args(["down", &other, "--yes"])
        .run()
        .success();

    // Logs, health.
    let logs = stackctl(&h, e)
        .args(["logs", &name, "--service", "app"])
        .run()
        .success();
    assert!(
        logs.stdout.contains("app | ") && logs.stdout.contains("\"GET / HTTP/1.1\" 200"),
        "{}",
        logs.stdout
    );
    let db_logs = stackctl(&h, e)
        .args(["logs", &name, "--service", "db", "--tail", "200"])
        .run()
        .success();
    assert!(
        db_logs.stdout.contains("ready to accept connections"),
        "{}",
        db_logs.stdout
    );
    let health = stackctl(&h, e)
        .args(["health", &name, "--json"])
        .run()
        .success();
    assert_eq!(health.json()["healthy"], true);
    assert_eq!(health.json()["status"], 200);

    // exec through the engine's own CLI.
    stackctl(&h, e)
        .args(["exec", &name, "--", "sh", "-c", "echo in-$HOSTNAME-ok"])
        .run()
        .success()
        .stdout_has("-ok");

    // restart: podman-compose `up` finds the containers there and starts them.
    let ids = |s: &Value| -> Vec<String> {
        s["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["container"].as_str().unwrap().to_owned())
            .collect()
    };
    stackctl(&h, e)
        .args(["restart", &name, "--stop-timeout", "2"])
        .run()
        .success()
        .stderr_has("stopped")
        .stderr_has("running in");
    let again = status_json(&h, e, &name);
    assert_eq!(again["status"], "running", "{again}");
    assert_eq!(ids(&again), ids(&s));

    // stop with a timeout: the app stops on its SIGINT (exit 0), the
    // sleeper ignores SIGTERM and is killed after 2 s (137).
    let began = Instant::now();
    stackctl(&h, e)
        .args(["stop", &name, "--timeout", "2"])
        .run()
        .success();
    assert!(began.elapsed() < Duration::from_secs(60));
    let stopped = status_json(&h, e, &name);
    assert_eq!(stopped["status"], "stopped", "{stopped}");
    assert_eq!(
        service_of(&stopped, "sleeper")["exit_code"],
        137,
        "{stopped}"
    );
    assert_eq!(service_of(&stopped, "app")["state"], "exited", "{stopped}");
    assert_eq!(registry_status(&h, &name), "stopped");
    stackctl(&h, e)
        .args(["health", &name, "--retries", "1", "--interval", "200ms"])
        .run()
        .code_is(1);

    // down: containers and the network go (podman-compose's own down
    // would leave the network).
    stackctl(&h, e)
        .args(["down", &name, "--yes"])
        .run()
        .success()
        .stderr_has(&format!("network {name}_default"));
    assert!(engine_names(e, &["ps", "-a"], &name).is_empty());
    assert!(networks(e, &name).is_empty(), "{:?}", networks(e, &name));
}

#[test]
fn stackctl_lifecycle_on_podman() {
    lifecycle(Engine::Podman);
}

/// The same scenario with Docker named (`BERTH_ENGINE=docker`): what the
/// Podman run shows holds for both engines.
#[test]
fn stackctl_lifecycle_on_docker_named() {
    lifecycle(Engine::Docker);
}

/// Run SQL through psql in the project's db container, via the engine's CLI.
fn psql(e: Engine, container: &str, sql: &str) -> String {
    let mut child = e
        .cli()
        .args([
            "exec",
            "-i",
            container,
            "psql",
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "app",
            "-d",
            "shop",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let o = child.timed_wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// dbdump on one engine: a backup of a database in a container, the data
/// dropped, the backup restored into the container, the data back.
fn dbdump_roundtrip(e: Engine) {
    if !e.ready(&["postgres:16"]) {
        return;
    }
    let h = Harness::new();
    let name = unique("dump");
    let _clean = Cleanup(e, vec![name.clone()]);
    let secret = "Pw-podman-5d1c-never-in-argv";
    let dir = register(
        &h,
        &name,
        "  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: ${DB_PASSWORD}
      POSTGRES_DB: shop
    healthcheck:
      test: [\"CMD\", \"pg_isready\", \"-U\", \"app\", \"-d\", \"shop\"]
      interval: 1s
      retries: 120
",
        free_port(),
    );
    h.write(
        &format!("{name}/.env"),
        &format!("COMPOSE_PROJECT_NAME={name}\nDB_PASSWORD={secret}\n"),
    );
    stackctl(&h, e)
        .args(["start", &name, "--timeout", "120"])
        .run()
        .success()
        .stderr_has("db (healthy)");
    let container = e.container_name(&name, "db");
    psql(
        e,
        &container,
        "CREATE TABLE t (id int PRIMARY KEY, v text);
         INSERT INTO t SELECT i, 'Zoë 日本語 ' || i FROM generate_series(1, 500) i;",
    );
    let fingerprint = "SELECT count(*) || ':' || md5(string_agg(v, '|' ORDER BY id)) FROM t;";
    let before = psql(e, &container, fingerprint);
    assert!(before.starts_with("500:"), "{before}");

    let dbdump = || e.on(h.cmd("dbdump")).current_dir(&dir);
    let b = dbdump()
        .args(["backup", "--label", "podman", "--json"])
        .run()
        .success();
    let b = b.json();
    assert_eq!(b["engine"], "postgres");
    assert_eq!(b["database"], "shop");
    let file = PathBuf::from(b["file"].as_str().unwrap());
    assert!(
        file.is_file() && file.starts_with(dir.join(".berth/backups")),
        "{}",
        file.display()
    );
    let list = dbdump().args(["list", "--json"]).run().success();
    assert_eq!(list.json().as_array().unwrap().len(), 1);

    psql(e, &container, "DROP TABLE t;");
    dbdump()
        .args(["restore", "--yes", "--no-safety-backup"])
        .arg(&file)
        .run()
        .success()
        .stderr_has("restored");
    assert_eq!(psql(e, &container, fingerprint), before);

    // `dbdump shell` goes through the engine's CLI too.
    let shell = dbdump()
        .arg("shell")
        .stdin("SELECT 'via-shell-' || count(*) FROM t;\n")
        .run()
        .success();
    assert!(shell.stdout.contains("via-shell-500"), "{}", shell.stdout);

    // The password never reaches a file berth wrote besides the user's .env.
    let dump = common::stdout_of("zstdcat", &["-f", file.to_str().unwrap()]);
    assert!(dump.contains("CREATE TABLE") && !dump.contains(secret));
}

#[test]
fn dbdump_backup_and_restore_into_a_podman_container() {
    dbdump_roundtrip(Engine::Podman);
}

#[test]
fn dbdump_backup_and_restore_with_docker_named() {
    dbdump_roundtrip(Engine::Docker);
}

/// Choosing: an unknown `BERTH_ENGINE` is refused naming it; with Podman
/// chosen a Docker-only `DOCKER_HOST` is not followed.
#[test]
fn a_bad_engine_name_is_refused_and_podman_ignores_docker_host() {
    let h = Harness::new();
    register(
        &h,
        "choose",
        "  box:\n    image: berth/debian:bookworm\n",
        free_port(),
    );
    let before = h.registry_bytes();
    h.cmd("stackctl")
        .args(["status"])
        .env("BERTH_ENGINE", "lxc")
        .run()
        .code_is(2)
        .stderr_has("BERTH_ENGINE=lxc")
        .stderr_has("docker, podman or auto");
    h.write("home/config.yaml", "engine: lxc\n");
    h.cmd("stackctl")
        .args(["status"])
        .run()
        .code_is(2)
        .stderr_has("config.yaml")
        .stderr_has("lxc");
    assert_eq!(h.registry_bytes(), before);
    h.write("home/config.yaml", "engine: podman\n");
    let doctor = h
        .cmd("stackctl")
        .args(["doctor", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("CONTAINER_HOST", "unix:///nonexistent/podman.sock")
        .run()
        .code_is(1);
    let engine = doctor.json()[0].clone();
    assert_eq!(engine["check"], "engine");
    let why = engine["why"].as_str().unwrap();
    assert!(
        why.starts_with("config engine: podman; CONTAINER_HOST is set"),
        "{engine}"
    );
    assert!(
        engine["detail"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/podman.sock"),
        "{engine}"
    );
}

/// Container ID by service, of all of a project's containers, from the engine's CLI.
fn ids(e: Engine, project: &str) -> std::collections::BTreeMap<String, String> {
    let out = e
        .cli()
        .args([
            "ps",
            "-a",
            "--format",
            "{{.ID}} {{index .Labels \"com.docker.compose.service\"}}",
        ])
        .arg("--filter")
        .arg(format!("label=com.docker.compose.project={project}"))
        .timed_output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, svc)| (svc.to_owned(), id.to_owned()))
        .collect()
}

/// Two long-running services on berth's Debian image, `first` with `QUEUE`.
fn two(queue: &str, second: &str) -> String {
    format!(
        "  first:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    restart: unless-stopped
    environment:
      QUEUE: {queue}
  {second}:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    restart: unless-stopped
"
    )
}

/// plan and apply through podman-compose 1.0, whose `up` does not recreate
/// a changed container: a plan after start is empty, a changed variable is
/// that field old → new, apply recreates that service alone (the other keeps
/// its container), a renamed service is added and the old one removed.
#[test]
fn plan_and_apply_on_podman() {
    let e = Engine::Podman;
    if !e.ready(&["berth/debian:bookworm"]) {
        return;
    }
    let h = Harness::new();
    let name = unique("plan");
    let _clean = Cleanup(e, vec![name.clone()]);
    register(&h, &name, &two("a", "second"), free_port());
    let plan = |code: i32| stackctl(&h, e).args(["plan", &name]).run().code_is(code);
    let apply = || {
        stackctl(&h, e)
            .args(["apply", &name, "--yes"])
            .timeout(Duration::from_secs(180))
            .run()
            .success()
    };
    stackctl(&h, e)
        .args(["start", &name, "--timeout", "120"])
        .timeout(Duration::from_secs(180))
        .run()
        .success();
    let _ = plan(0).stdout_has("Plan: 0 to add, 0 to change, 0 to remove.");
    let before = ids(e, &name);

    h.write(
        &format!("{name}/compose.yaml"),
        &format!("services:\n{}", two("b", "second")),
    );
    let _ = plan(1)
        .stdout_has("~ first: environment.QUEUE: \"a\" → \"b\"\n")
        .stdout_has("= second\n");
    let _ = apply().stderr_has("0 added, 1 changed, 0 removed");
    let after = ids(e, &name);
    assert_ne!(after["first"], before["first"], "first was recreated");
    assert_eq!(
        after["second"], before["second"],
        "second kept its container"
    );
    let env = e
        .cli()
        .args(["exec", &after["first"], "printenv", "QUEUE"])
        .timed_output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&env.stdout).trim(), "b");
    let _ = plan(0);

    h.write(
        &format!("{name}/compose.yaml"),
        &format!("services:\n{}", two("b", "third")),
    );
    let _ = plan(1).stdout_has("+ third\n").stdout_has("- second\n");
    let _ = apply().stderr_has("1 added, 0 changed, 1 removed");
    let now = ids(e, &name);
    assert!(!now.contains_key("second"), "{now:?}");
    assert_eq!(now["first"], after["first"]);
    let _ = plan(0);
}
