//! stackctl against the real Docker engine and docker-compose: port checks
//! before a start, start/stop/restart/status/logs/health reflected in the
//! registry, a container killed behind berth's back, watch --restart, hooks,
//! and the errors that must leave the registry untouched.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::services::{app_service, db_service};
use common::{Harness, Timed as _, free_port};

/// A unique project name for this test run.
fn unique(tag: &str) -> String {
    format!("sc{}-{tag}", std::process::id())
}

/// Removes the containers, networks and volumes of compose projects, even
/// when the test fails.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        common::engines::Engine::Docker.remove_projects(&self.0);
    }
}

/// Write `<name>/compose.yaml` with these services and register the folder
/// under `name` with HTTP port `http`.
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

fn project<'a>(projects: &'a [Value], name: &str) -> &'a Value {
    projects
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no project {name} in {projects:?}"))
}

/// The project as `registry list --json` shows it.
fn listed(h: &Harness, name: &str) -> Value {
    let run = h.cmd("registry").args(["list", "--json"]).run().success();
    let v = run.json();
    project(v.as_array().unwrap(), name).clone()
}

fn status_json(h: &Harness, name: &str) -> Value {
    let run = h
        .cmd("stackctl")
        .args(["status", name, "--json"])
        .run()
        .success();
    run.json()[0].clone()
}

/// Poll `stackctl status` until the project has `want`, or panic after `secs`.
fn wait_status(h: &Harness, name: &str, want: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = status_json(h, name);
        let healthy = s["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["health"].is_null() || c["health"] == "healthy");
        if s["status"] == want && (want != "running" || healthy) {
            return s;
        }
        assert!(Instant::now() < deadline, "{name} never became {want}: {s}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// One service's entry in `stackctl status --json`.
fn service_of<'a>(status: &'a Value, service: &str) -> &'a Value {
    status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service)
        .unwrap_or_else(|| panic!("no service {service} in {status}"))
}

fn container_of(status: &Value, service: &str) -> String {
    service_of(status, service)["container"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn colliding_database_ports_refuse_the_second_start_and_force_records_the_failure() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let (a, b) = (unique("pga"), unique("pgb"));
    let _clean = Cleanup(vec![a.clone(), b.clone()]);
    let port = free_port();
    register(&h, &a, &db_service(port), free_port());
    register(&h, &b, &db_service(port), free_port());

    h.cmd("stackctl")
        .args(["start", &a, "--timeout", "90"])
        .run()
        .success();
    assert_eq!(listed(&h, &a)["status"], "running");

    let before = h.registry_bytes();
    let refused = h.cmd("stackctl").args(["start", &b]).run().code_is(1);
    refused
        .stderr_has(&format!("port {port}/tcp"))
        .stderr_has(&format!("({b}/db)"))
        .stderr_has(&format!("project {a} (service db, running)"))
        .stderr_has(&format!("stackctl stop {a}"))
        .stderr_has("--force");
    assert_eq!(h.registry_bytes(), before, "a refused start writes nothing");
    let none = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=com.docker.compose.project={b}"))
        .timed_output()
        .unwrap();
    assert!(
        none.stdout.is_empty(),
        "a refused start creates no container"
    );

    // --force goes ahead with a warning; the engine cannot bind the port
    // twice, so the start ends in `error` with the engine's reason.
    let forced = h
        .cmd("stackctl")
        .args(["start", &b, "--force", "--timeout", "30"])
        .run()
        .code_is(2);
    forced
        .stderr_has("warning: starting")
        .stderr_has("--force")
        .stderr_has("recorded as error")
        .stderr_has(&format!("{port}"));
    let projects = h.projects(); // parses, or panics
    assert_eq!(project(&projects, &b)["status"], "error");
    assert_eq!(project(&projects, &a)["status"], "running");
    assert_eq!(listed(&h, &b)["status"], "error");
    assert_eq!(wait_status(&h, &a, "running", 30)["status"], "running");
}

/// A service that runs once (`command`) and exits.
fn one_shot(name: &str, command: &str) -> String {
    format!(
        "  {name}:\n    image: berth/debian:bookworm\n    command: [\"sh\", \"-c\", \"{command}\"]\n"
    )
}

#[test]
fn a_one_shot_service_that_exits_0_is_done_one_that_fails_is_an_error() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let (good, bad) = (unique("oneshot"), unique("oneshot-bad"));
    let _clean = Cleanup(vec![good.clone(), bad.clone()]);
    let http = free_port();
    let services = format!("{}{}", app_service(http), one_shot("migrate", "true"));
    register(&h, &good, &services, http);
    h.cmd("stackctl")
        .args(["start", &good, "--timeout", "120"])
        .run()
        .success();
    let s = wait_status(&h, &good, "running", 30);
    let migrate = service_of(&s, "migrate");
    assert_eq!(migrate["state"], "exited", "{s}");
    assert_eq!(migrate["exit_code"], 0, "{s}");
    assert_eq!(listed(&h, &good)["status"], "running");

    let http = free_port();
    let services = format!("{}{}", app_service(http), one_shot("broken", "exit 3"));
    register(&h, &bad, &services, http);
    h.cmd("stackctl")
        .args(["start", &bad, "--timeout", "120"])
        .run()
        .code_is(2)
        .stderr_has("service broken exited (3)");
    assert_eq!(status_json(&h, &bad)["status"], "error");
}

#[test]
#[allow(clippy::too_many_lines)] // one stack through its whole life: starting it costs seconds
fn start_status_logs_health_restart_stop_and_stop_all_show_in_the_registry() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("life");
    let _clean = Cleanup(vec![name.clone()]);
    let http = free_port();
    let services = format!("{}{}", db_service(free_port()), app_service(http));
    register(&h, &name, &services, http);
    assert_eq!(listed(&h, &name)["status"], "unknown");

    h.cmd("stackctl")
        .args(["start", &name, "--timeout", "120"])
        .run()
        .success()
        .stderr_has("running in");
    let p = listed(&h, &name);
    assert_eq!(p["status"], "running");
    let first_start = p["last_started"].as_str().expect("last_started").to_owned();

    let s = status_json(&h, &name);
    assert_eq!(s["status"], "running");
    let svcs = s["services"].as_array().unwrap();
    assert_eq!(svcs.len(), 2, "{s}");
    for svc in svcs {
        assert_eq!(svc["state"], "running", "{s}");
        assert_eq!(svc["health"], "healthy", "{s}");
        assert_eq!(svc["ports"][0]["host_ip"], "127.0.0.1");
    }
    let app = svcs.iter().find(|c| c["service"] == "app").unwrap();
    assert_eq!(app["ports"][0]["published"], http);
    let table = h.cmd("stackctl").arg("status").run().success();
    table
        .stdout_has("PROJECT")
        .stdout_has(&format!("127.0.0.1:{http}->8000/tcp"));

    // Logs: the app's request lines come only with the app's prefix.
    let logs = h
        .cmd("stackctl")
        .args(["logs", &name, "--service", "app"])
        .run()
        .success();
    assert!(logs.stdout.contains("app | ") && logs.stdout.contains("\"GET / HTTP/1.1\" 200"));
    assert!(
        logs.stdout.lines().all(|l| l.starts_with("app | ")),
        "{}",
        logs.stdout
    );
    let db_logs = h
        .cmd("stackctl")
        .args(["logs", &name, "--service", "db", "--tail", "200"])
        .run()
        .success();
    assert!(
        db_logs.stdout.contains("ready to accept connections"),
        "{}",
        db_logs.stdout
    );
    assert!(db_logs.stdout.lines().all(|l| l.starts_with("db | ")));
    let both = h
        .cmd("stackctl")
        .args(["logs", &name, "-n", "2"])
        .run()
        .success();
    assert!(
        both.stdout.contains("app | ") && both.stdout.contains("db  | "),
        "{}",
        both.stdout
    );
    h.cmd("stackctl")
        .args(["logs", &name, "--service", "nope"])
        .run()
        .code_is(2)
        .stderr_has("no container for service 'nope'");

    // --follow streams new lines as they come (the healthcheck's requests).
    let mut follow = Command::new(common::bin("stackctl"))
        .args(["logs", &name, "--follow", "--tail", "0"])
        .env("BERTH_HOME", h.home())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(20));
    common::kill_and_wait(&mut follow);
    let line = line.expect("a new log line within 20 s");
    assert!(
        line.starts_with("app | ") && line.contains("GET /"),
        "{line}"
    );

    let health = h
        .cmd("stackctl")
        .args(["health", &name, "--json"])
        .run()
        .success();
    assert_eq!(health.json()["healthy"], true);
    assert_eq!(health.json()["status"], 200);

    std::thread::sleep(Duration::from_millis(1100));
    h.cmd("stackctl")
        .args(["restart", &name, "--stop-timeout", "5"])
        .run()
        .success()
        .stderr_has("stopped")
        .stderr_has("running in");
    let p = listed(&h, &name);
    assert_eq!(p["status"], "running");
    assert_ne!(p["last_started"].as_str().unwrap(), first_start.as_str());

    h.cmd("stackctl").args(["stop", &name]).run().success();
    assert_eq!(listed(&h, &name)["status"], "stopped");
    let s = status_json(&h, &name);
    assert_eq!(s["status"], "stopped");
    assert!(
        s["services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "exited")
    );
    h.cmd("stackctl")
        .args(["health", &name, "--retries", "1", "--interval", "200ms"])
        .run()
        .code_is(1)
        .stderr_has("not healthy");

    h.cmd("stackctl").args(["start", &name]).run().success();
    assert_eq!(listed(&h, &name)["status"], "running");
    // stop-all asks; off a terminal it needs --yes and stops nothing without.
    h.cmd("stackctl")
        .arg("stop-all")
        .run()
        .code_is(2)
        .stderr_has(&format!("stackctl: error: stop {name}?"))
        .stderr_has("hint: pass --yes");
    assert_eq!(listed(&h, &name)["status"], "running");
    h.cmd("stackctl")
        .args(["stop-all", "--yes"])
        .run()
        .success()
        .stderr_has("stopped 1 project(s)");
    assert_eq!(listed(&h, &name)["status"], "stopped");
    assert_eq!(status_json(&h, &name)["status"], "stopped");
}

#[test]
fn a_container_killed_behind_berths_back_is_an_error_and_watch_restart_brings_it_back() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("kill");
    let _clean = Cleanup(vec![name.clone()]);
    register(&h, &name, &db_service(free_port()), free_port());
    h.cmd("stackctl")
        .args(["start", &name, "--timeout", "90"])
        .run()
        .success();
    let container = container_of(&status_json(&h, &name), "db");

    let killed = Command::new("docker")
        .args(["kill", &container])
        .timed_output()
        .unwrap();
    assert!(killed.status.success());
    let s = status_json(&h, &name);
    assert!(s["status"] == "error" || s["status"] == "stopped", "{s}");
    assert_eq!(s["services"][0]["state"], "exited");
    assert_eq!(
        listed(&h, &name)["status"],
        s["status"],
        "status corrects the registry"
    );

    let watch = h
        .cmd("stackctl")
        .args([
            "watch",
            &name,
            "--restart",
            "--iterations",
            "2",
            "--interval",
            "1",
            "--json",
        ])
        .run()
        .success();
    let events: Vec<Value> = watch
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event per line"))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["service"] == "db" && e["to"] == "restarted"),
        "{}",
        watch.stdout
    );
    wait_status(&h, &name, "running", 60);
    assert_eq!(listed(&h, &name)["status"], "running");

    // A project stopped on purpose is left alone.
    h.cmd("stackctl").args(["stop", &name]).run().success();
    let watch = h
        .cmd("stackctl")
        .args(["watch", &name, "--restart", "--once"])
        .run()
        .success();
    assert!(!watch.stdout.contains("restarted"), "{}", watch.stdout);
    assert_eq!(status_json(&h, &name)["status"], "stopped");
}

#[test]
fn a_failing_pre_start_hook_prevents_the_start_and_hooks_see_the_projects_environment() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("hook");
    let _clean = Cleanup(vec![name.clone()]);
    let services = "  box:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    init: true
    environment:
      GREETING: ${GREETING:-unset}
";
    let dir = register(&h, &name, services, free_port());
    h.cmd("registry")
        .args(["env", "set", &name, "GREETING=hello from the registry"])
        .run()
        .success();
    h.write(
        &format!("{name}/.berth/config.yaml"),
        "hooks:\n  pre_start: [\"sh\", \"-c\", \"echo checking; exit 3\"]\n",
    );
    let before = h.registry_bytes();
    h.cmd("stackctl")
        .args(["start", &name])
        .run()
        .code_is(2)
        .stderr_has("pre_start hook")
        .stderr_has("exited with status 3")
        .stderr_has("hint:");
    assert_eq!(h.registry_bytes(), before);
    let none = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=com.docker.compose.project={name}"))
        .timed_output()
        .unwrap();
    assert!(
        none.stdout.is_empty(),
        "no container after a failed pre_start"
    );

    // Hooks run in the project folder with the registry's variables; a
    // string hook is the user's own shell text.
    h.write(
        &format!("{name}/.berth/config.yaml"),
        "hooks:
  pre_start: 'echo \"$GREETING|$BERTH_PROJECT|$PWD\" > pre_start.out'
  post_start: [\"sh\", \"-c\", \"echo \\\"$BERTH_PORT\\\" > post_start.out\"]
  pre_stop: 'echo \"$GREETING\" > pre_stop.out'
  post_stop: [\"touch\", \"post_stop.out\"]
",
    );
    h.cmd("stackctl").args(["start", &name]).run().success();
    let pre = std::fs::read_to_string(dir.join("pre_start.out")).unwrap();
    let real_dir = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(
        pre.trim(),
        format!("hello from the registry|{name}|{}", real_dir.display())
    );
    let port = listed(&h, &name)["port"].as_u64().unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("post_start.out"))
            .unwrap()
            .trim(),
        port.to_string()
    );
    // The stack itself got the registry's variable through compose.
    let container = container_of(&status_json(&h, &name), "box");
    let env = Command::new("docker")
        .args(["inspect", "--format", "{{json .Config.Env}}", &container])
        .timed_output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&env.stdout).contains("GREETING=hello from the registry"),
        "{}",
        String::from_utf8_lossy(&env.stdout)
    );
    h.cmd("stackctl")
        .args(["stop", &name, "--timeout", "2"])
        .run()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.join("pre_stop.out"))
            .unwrap()
            .trim(),
        "hello from the registry"
    );
    assert!(dir.join("post_stop.out").exists());
    assert_eq!(listed(&h, &name)["status"], "stopped");

    // A failing pre_stop hook stops the stop.
    h.write(
        &format!("{name}/.berth/config.yaml"),
        "hooks:\n  pre_stop: [\"false\"]\n",
    );
    h.cmd("stackctl").args(["start", &name]).run().success();
    h.cmd("stackctl")
        .args(["stop", &name])
        .run()
        .code_is(2)
        .stderr_has("pre_stop hook");
    assert_eq!(listed(&h, &name)["status"], "running");
}

#[test]
fn down_runs_the_stop_hooks_of_a_running_project_and_a_failing_pre_stop_removes_nothing() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("downhook");
    let _clean = Cleanup(vec![name.clone()]);
    let dir = one_project(&h, &name);
    h.cmd("registry")
        .args(["env", "set", &name, "GREETING=hello from the registry"])
        .run()
        .success();
    h.write(
        &format!("{name}/.berth/config.yaml"),
        "hooks:\n  pre_stop: [\"false\"]\n",
    );
    h.cmd("stackctl").args(["start", &name]).run().success();
    h.cmd("stackctl")
        .args(["down", &name, "--yes", "--timeout", "2"])
        .run()
        .code_is(2)
        .stderr_has("pre_stop hook");
    assert!(!container_of(&status_json(&h, &name), "box").is_empty());
    assert_eq!(listed(&h, &name)["status"], "running");
    // A working pair runs around the removal.
    h.write(
        &format!("{name}/.berth/config.yaml"),
        "hooks:\n  pre_stop: 'echo \"$GREETING\" > pre_stop.out'\n  post_stop: [\"touch\", \"post_stop.out\"]\n",
    );
    h.cmd("stackctl")
        .args(["down", &name, "--yes", "--timeout", "2"])
        .run()
        .success()
        .stderr_has("removed");
    assert_eq!(
        std::fs::read_to_string(dir.join("pre_stop.out"))
            .unwrap()
            .trim(),
        "hello from the registry"
    );
    assert!(dir.join("post_stop.out").exists());
    assert_eq!(listed(&h, &name)["status"], "stopped");
    // Nothing is running any more: a second down runs no hook.
    std::fs::remove_file(dir.join("post_stop.out")).unwrap();
    h.cmd("stackctl")
        .args(["down", &name, "--yes"])
        .run()
        .success();
    assert!(!dir.join("post_stop.out").exists());
}

#[test]
fn exec_without_an_engine_names_the_socket_and_what_to_do() {
    let h = Harness::new();
    let name = unique("noengine");
    one_project(&h, &name);
    // No version round trip before the query: an engine that is not there
    // is still named, with what to do.
    h.cmd("stackctl")
        .args(["exec", &name, "--", "true"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .run()
        .code_is(2)
        .stderr_has("/nonexistent.sock")
        .stderr_has("stackctl doctor");
}

/// A registry with one project whose folder holds a compose file.
fn one_project(h: &Harness, name: &str) -> PathBuf {
    register(
        h,
        name,
        "  box:\n    image: berth/debian:bookworm\n    command: [\"sleep\", \"infinity\"]\n",
        free_port(),
    )
}

fn empty_dir(h: &Harness) -> PathBuf {
    let d = h.path().join("empty-bin");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn engine_down_compose_missing_and_folder_gone_exit_2_with_a_hint_and_touch_nothing() {
    let h = Harness::new();
    let name = "errs";
    let dir = one_project(&h, name);
    let before = h.registry_bytes();

    for args in [
        vec!["start", name],
        vec!["stop", name],
        vec!["status"],
        vec!["stop-all"],
    ] {
        h.cmd("stackctl")
            .args(&args)
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .run()
            .code_is(2)
            .stderr_has("nonexistent.sock")
            .stderr_has("hint: start the engine");
        assert_eq!(h.registry_bytes(), before, "{args:?} wrote the registry");
    }

    h.cmd("stackctl")
        .args(["start", name])
        .env("PATH", empty_dir(&h))
        .run()
        .code_is(2)
        .stderr_has("no compose driver found")
        .stderr_has("hint: install one");
    assert_eq!(h.registry_bytes(), before);

    h.cmd("stackctl")
        .args(["start", "nosuch"])
        .run()
        .code_is(2)
        .stderr_has("no project named 'nosuch'")
        .stderr_has("hint:");
    h.cmd("stackctl")
        .args(["start", "Bad_Name"])
        .run()
        .code_is(2)
        .stderr_has("Bad_Name");

    h.write(
        &format!("{name}/.berth/config.yaml"),
        "hooks:\n  pre-start: [\"true\"]\n",
    );
    h.cmd("stackctl")
        .args(["start", name])
        .run()
        .code_is(2)
        .stderr_has("config.yaml")
        .stderr_has("pre-start");
    assert_eq!(h.registry_bytes(), before);

    std::fs::remove_dir_all(&dir).unwrap();
    for args in [
        vec!["start", name],
        vec!["restart", name],
        vec!["stop", name],
    ] {
        h.cmd("stackctl")
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has("does not exist")
            .stderr_has(&format!(
                "hint: move the folder back, or forget the project: registry remove {name}"
            ));
        assert_eq!(h.registry_bytes(), before);
    }
    h.cmd("stackctl")
        .args(["health", name, "--path", "no slash"])
        .run()
        .code_is(2);
    h.cmd("stackctl")
        .args(["watch", "--once", "--iterations", "2"])
        .run()
        .code_is(2);
    assert!(
        !h.registry_bytes().is_empty(),
        "the registry is still there"
    );
}

#[test]
fn doctor_names_the_engine_and_the_compose_driver_and_says_what_is_missing() {
    let h = Harness::new();
    let bad = h
        .cmd("stackctl")
        .args(["doctor", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .env("PATH", empty_dir(&h))
        .run()
        .code_is(1);
    let checks = bad.json();
    let get = |v: &Value, c: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|x| x["check"] == c)
            .unwrap()
            .clone()
    };
    for c in ["engine", "socket", "compose"] {
        let check = get(&checks, c);
        assert_eq!(check["ok"], false, "{check}");
        assert!(
            check["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{check}"
        );
    }
    assert_eq!(get(&checks, "registry")["ok"], true);
    h.cmd("stackctl")
        .arg("doctor")
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .run()
        .code_is(1)
        .stderr_has("hint: start the engine");

    if !common::docker_ready(&[]) {
        return;
    }
    let good = h.cmd("stackctl").args(["doctor", "--json"]).run().success();
    let checks = good.json();
    assert!(
        get(&checks, "engine")["detail"]
            .as_str()
            .unwrap()
            .contains("API")
    );
    assert!(
        get(&checks, "compose")["detail"]
            .as_str()
            .unwrap()
            .contains("compose")
    );
    assert_eq!(get(&checks, "socket")["ok"], true);
}

/// The ids of a compose project's `kind` (`ps -a`, `network ls`, `volume ls`)
/// as the engine lists them by compose's project label.
fn engine_ids(kind: &str, project: &str) -> Vec<String> {
    let list: Vec<&str> = match kind {
        "container" => vec!["ps", "-aq"],
        "network" => vec!["network", "ls", "-q"],
        _ => vec!["volume", "ls", "-q"],
    };
    let out = Command::new("timeout")
        .arg("30")
        .arg("docker")
        .args(&list)
        .arg("--filter")
        .arg(format!("label=com.docker.compose.project={project}"))
        .timed_output()
        .unwrap();
    assert!(out.status.success(), "docker {list:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn image_exists(image: &str) -> bool {
    Command::new("timeout")
        .args(["30", "docker", "image", "inspect", image])
        .timed_output()
        .unwrap()
        .status
        .success()
}

/// An app on `port` that runs `script` (sh) as its command, without a
/// healthcheck, as generated stacks had it.
fn bare_app(port: u16, script: &str, extra: &str) -> String {
    format!(
        "  web:
    image: berth/debian:bookworm
    command: [\"sh\", \"-c\", \"{script}\"]
    stop_signal: SIGINT
    ports: [\"127.0.0.1:{port}:8000\"]
{extra}"
    )
}

#[test]
fn start_fails_for_an_app_that_exits_at_once_naming_it_with_its_code_and_last_lines() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let (crash, done) = (unique("crash"), unique("exit0"));
    let _clean = Cleanup(vec![crash.clone(), done.clone()]);
    // The Next.js app: it dies at once, and compose restarts it.
    let http = free_port();
    let script = "echo Error: Cannot find module next >&2; exit 1";
    register(
        &h,
        &crash,
        &bare_app(http, script, "    restart: unless-stopped\n"),
        http,
    );
    let run = h
        .cmd("stackctl")
        .args(["start", &crash, "--timeout", "60"])
        .run()
        .code_is(2)
        .stderr_has("service web exited (1)")
        .stderr_has("Cannot find module next")
        .stderr_has("recorded as error");
    assert!(!run.stderr.contains("running in"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("waiting for"),
        "quiet in a pipe: {}",
        run.stderr
    );
    assert_eq!(listed(&h, &crash)["status"], "error");

    // An app that exits 0 is not a finished one-shot: it serves the port.
    let http = free_port();
    register(&h, &done, &bare_app(http, "echo bye; exit 0", ""), http);
    h.cmd("stackctl")
        .args(["start", &done, "--timeout", "60"])
        .run()
        .code_is(2)
        .stderr_has("service web exited (0), but it is meant to keep running")
        .stderr_has("bye");
    assert_eq!(listed(&h, &done)["status"], "error");
    assert_eq!(status_json(&h, &done)["status"], "error");
}

/// One GET of `http://127.0.0.1:PORT/`: the status line, or the error.
fn get_status_line(port: u16) -> Result<String, String> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| "empty reply".to_owned())
}

#[test]
fn start_returns_when_the_app_answers_prints_its_urls_and_exec_runs_in_it() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("slow");
    let _clean = Cleanup(vec![name.clone()]);
    let http = free_port();
    // Up at once, answering only after 3 s (a dev server compiling).
    let script = "sleep 3; exec python3 -m http.server 8000";
    register(&h, &name, &bare_app(http, script, ""), http);
    let run = h
        .cmd("stackctl")
        .args(["start", &name, "--timeout", "90"])
        .run()
        .success();
    let answer = get_status_line(http);
    assert!(
        answer.as_deref().is_ok_and(|l| l.contains(" 200 ")),
        "the app must answer once start returned: {answer:?}\n{}",
        run.stderr
    );
    let run = run
        .stderr_has(&format!(
            "{name}: http://127.0.0.1:{http}/  https://{name}.test/"
        ))
        .stderr_has("running in");
    assert!(
        !run.stderr.contains("waiting for"),
        "quiet in a pipe: {}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "data only with --json: {}",
        run.stdout
    );

    // exec: in the app by default, the exit status passed through, no TTY
    // in a pipe; stdin reaches the command.
    let exec = h
        .cmd("stackctl")
        .args(["exec", &name, "--", "sh", "-c"])
        .arg("read line; echo \"got $line\"; test -t 1 || echo notty; exit 7")
        .stdin("hello\n")
        .run()
        .code_is(7);
    assert_eq!(exec.stdout, "got hello\nnotty\n");
    // On a terminal (script(1) gives it one) the command gets a TTY.
    let on_tty = Command::new("timeout")
        .args(["60", "script", "-qec"])
        .arg(format!(
            "{} exec {name} -- sh -c 'test -t 0 && test -t 1 && echo tty-yes'",
            common::bin("stackctl").display()
        ))
        .arg("/dev/null")
        .env("BERTH_HOME", h.home())
        .stdin(std::process::Stdio::null())
        .timed_output()
        .unwrap();
    let text = String::from_utf8_lossy(&on_tty.stdout);
    assert!(
        on_tty.status.success() && text.contains("tty-yes"),
        "{text}"
    );
    h.cmd("stackctl")
        .args(["exec", &name, "--service", "nope", "--", "true"])
        .run()
        .code_is(2)
        .stderr_has("no container for service 'nope'")
        .stderr_has("--service: web");

    // With --progress the wait is shown in a pipe too; --json is data.
    h.cmd("stackctl")
        .args(["stop", &name, "--timeout", "2"])
        .run()
        .success();
    let run = h
        .cmd("stackctl")
        .args(["start", &name, "--progress", "--json", "--timeout", "90"])
        .run()
        .success()
        .stderr_has(&format!(
            "waiting for web to answer on http://127.0.0.1:{http}/"
        ));
    let json = run.json();
    assert_eq!(json[0]["name"], name.as_str());
    assert_eq!(json[0]["status"], "running");
    assert!(get_status_line(http).is_ok_and(|l| l.contains(" 200 ")));

    // down refuses without a terminal or --yes, then removes it all.
    h.cmd("stackctl")
        .args(["down", &name])
        .run()
        .code_is(2)
        .stderr_has("pass --yes");
    assert_eq!(engine_ids("container", &name).len(), 1);
    h.cmd("stackctl")
        .args(["down", &name, "--yes", "--timeout", "2"])
        .run()
        .success()
        .stderr_has(&format!(
            "removed container {name}_web_1, network {name}_default"
        ));
    assert!(engine_ids("container", &name).is_empty());
    assert!(engine_ids("network", &name).is_empty());
    assert_eq!(listed(&h, &name)["status"], "stopped");
}

#[test]
fn down_keeps_data_unless_asked_and_registry_remove_down_takes_the_stack_away() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("down");
    let _clean = Cleanup(vec![name.clone()]);
    h.write(
        &format!("{name}/Dockerfile"),
        "FROM berth/debian:bookworm\nRUN echo built > /built\nCMD [\"sleep\", \"infinity\"]\n",
    );
    let services = "  box:
    build: .
    init: true
    volumes: [\"data:/data\"]
volumes:
  data: {}
";
    register(&h, &name, services, free_port());
    let image = format!("{name}_box");
    let start = |progress: bool| {
        let mut args = vec!["start", name.as_str(), "--timeout", "120"];
        if progress {
            args.push("--progress");
        }
        h.cmd("stackctl").args(&args).run().success()
    };
    let first = start(true);
    // BuildKit counts the steps that run (FROM, RUN), the legacy builder
    // every instruction (CMD too); either way the steps are shown.
    let last = if first.stderr.contains("building with BuildKit") {
        "step 2 of 2: RUN echo built"
    } else {
        "step 3 of 3"
    };
    first
        .stderr_has("building box: step 1 of ")
        .stderr_has("berth/debian:bookworm")
        .stderr_has(last);
    assert!(image_exists(&image));
    assert_eq!(engine_ids("volume", &name).len(), 1);

    h.cmd("stackctl")
        .args(["down", &name, "--yes"])
        .run()
        .success();
    assert!(engine_ids("container", &name).is_empty());
    assert!(engine_ids("network", &name).is_empty());
    assert_eq!(engine_ids("volume", &name).len(), 1, "the data stays");
    assert!(image_exists(&image), "the built image stays");

    start(false);
    h.cmd("stackctl")
        .args(["down", &name, "--with-data", "--dry-run"])
        .run()
        .success()
        .stdout_has(&format!("would remove container {name}_box_1, network {name}_default, volume {name}_data, image {image}"));
    assert_eq!(engine_ids("container", &name).len(), 1, "dry run");
    h.cmd("stackctl")
        .args(["down", &name, "--with-data", "--yes"])
        .run()
        .success();
    assert!(engine_ids("container", &name).is_empty());
    assert!(engine_ids("network", &name).is_empty());
    assert!(engine_ids("volume", &name).is_empty());
    assert!(!image_exists(&image), "the built image is gone");
    assert!(image_exists("berth/debian:bookworm"), "pulled images stay");

    start(false);
    h.cmd("registry")
        .args(["remove", &name, "--down", "--yes"])
        .run()
        .success()
        .stderr_has(&format!("removed: {name}"));
    assert!(engine_ids("container", &name).is_empty());
    assert!(engine_ids("network", &name).is_empty());
    assert!(h.projects().iter().all(|p| p["name"] != name.as_str()));
}

#[test]
fn a_failed_build_leaves_no_container_no_raw_escapes_and_the_registry_stopped() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("badbuild");
    let _clean = Cleanup(vec![name.clone()]);
    h.write(
        &format!("{name}/app/Dockerfile"),
        "FROM berth/debian:bookworm\nRUN printf '\\033[31mcompiling failed\\033[0m\\n'; exit 3\n",
    );
    let services = "  box:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    init: true
  app:
    build: ./app
";
    register(&h, &name, services, free_port());
    let run = h
        .cmd("stackctl")
        .args(["start", &name, "--timeout", "120"])
        .run()
        .code_is(2)
        .stderr_has("cannot build app")
        .stderr_has("recorded as stopped");
    // The build's own words, as BuildKit or the legacy builder puts them.
    assert!(
        ["exit code: 3", "returned a non-zero code: 3"]
            .iter()
            .any(|w| run.stderr.contains(w)),
        "the build's exit code is not named: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "raw ANSI escapes: {:?}",
        run.stderr
    );
    assert!(
        engine_ids("container", &name).is_empty(),
        "no container after a failed build"
    );
    assert_eq!(listed(&h, &name)["status"], "stopped");
}

#[test]
fn an_image_that_cannot_be_pulled_is_named_with_the_images_config_key() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("nopull");
    let _clean = Cleanup(vec![name.clone()]);
    let image = format!("berthmissing{}/none:1", std::process::id());
    let services = format!("  app:\n    image: {image}\n");
    register(&h, &name, &services, free_port());
    h.cmd("stackctl")
        .args(["start", &name, "--timeout", "60"])
        .run()
        .code_is(2)
        .stderr_has(&format!("cannot pull image {image} (service app)"))
        .stderr_has("`images:` in ")
        .stderr_has("config.yaml")
        .stderr_has("recorded as stopped");
    assert!(engine_ids("container", &name).is_empty());
    assert_eq!(listed(&h, &name)["status"], "stopped");
}

#[test]
fn logs_interleave_the_services_in_time_order() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = unique("logs");
    let _clean = Cleanup(vec![name.clone()]);
    // The two take turns through a shared volume, so the order does not
    // hang on when compose starts each. The engine stamps a line when it
    // reads it from the container, which a loaded machine delays: a second
    // between turns keeps each stamp after the one before.
    let wait = |f: &str| format!("until [ -e /s/{f} ]; do sleep 0.1; done; sleep 1");
    let services = format!(
        "  a:
    image: berth/debian:bookworm
    command: [\"sh\", \"-c\", \"echo a1; touch /s/a1; {}; echo a3; touch /s/a3; exec sleep infinity\"]
    init: true
    volumes: [\"turns:/s\"]
  b:
    image: berth/debian:bookworm
    command: [\"sh\", \"-c\", \"{}; echo b2; touch /s/b2; {}; echo b4; exec sleep infinity\"]
    init: true
    volumes: [\"turns:/s\"]
volumes:
  turns: {{}}
",
        wait("b2"),
        wait("a1"),
        wait("a3")
    );
    register(&h, &name, &services, free_port());
    h.cmd("stackctl")
        .args(["start", &name, "--timeout", "60"])
        .run()
        .success();
    let deadline = Instant::now() + Duration::from_secs(60);
    let logs = loop {
        let run = h.cmd("stackctl").args(["logs", &name]).run().success();
        if run.stdout.contains("b4") || Instant::now() > deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(logs.stdout, "a | a1\nb | b2\na | a3\nb | b4\n");
    let stamped = h
        .cmd("stackctl")
        .args(["logs", &name, "--timestamps"])
        .run()
        .success();
    let lines: Vec<&str> = stamped.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", stamped.stdout);
    for (line, (svc, text)) in
        lines
            .iter()
            .zip([("a", "a1"), ("b", "b2"), ("a", "a3"), ("b", "b4")])
    {
        let rest = line.strip_prefix(&format!("{svc} | ")).expect(line);
        let (time, t) = rest.split_once(' ').expect(line);
        assert_eq!(t, text);
        assert!(time.starts_with("20") && time.ends_with('Z'), "{line}");
    }
}
