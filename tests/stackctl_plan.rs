//! `stackctl plan` and `stackctl apply` against the real Docker engine and
//! its compose driver: a plan after a start sees nothing to do; a changed
//! setting shows as exactly that field, old → new, and apply recreates only
//! that service; added and removed services; stale plans refused; the apply
//! lock (a waiting apply names the holder, a killed holder's lock is taken
//! over); secrets masked; bad input exits 2 and changes nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::services::app_service;
use common::{Harness, Kill, Timed as _, free_port};

/// A unique project name for this test run.
fn unique(tag: &str) -> String {
    format!("scp{}-{tag}", std::process::id())
}

/// Removes the compose projects' containers, networks and volumes, even
/// when the test fails.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        common::engines::Engine::Docker.remove_projects(&self.0);
    }
}

/// A long-running service on berth's Debian image with `QUEUE=queue`.
fn worker(queue: &str, extra: &str) -> String {
    format!(
        "  worker:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    init: true
    restart: unless-stopped
    environment:
      QUEUE: {queue}
{extra}"
    )
}

/// A redis:7 service under `name`, keeping its data in the named volume
/// `cachedata` (declared after it: it ends the compose file).
fn redis(name: &str) -> String {
    format!(
        "  {name}:
    image: redis:7
    restart: unless-stopped
    volumes: [\"cachedata:/data\"]
volumes:
  cachedata: {{}}
"
    )
}

/// Whether the engine has this volume.
fn volume_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["volume", "inspect", name])
        .timed_output()
        .unwrap()
        .status
        .success()
}

/// A memory limit in both spellings: compose v1's and the compose spec's.
const LIMITS: &str =
    "    mem_limit: 64m\n    deploy:\n      resources:\n        limits:\n          memory: 64M\n";

/// Write `<name>/compose.yaml` with these services and register the folder
/// under `name` with HTTP port `http`.
fn register(h: &Harness, name: &str, services: &str, http: u16) -> PathBuf {
    let dir = write_compose(h, name, services);
    h.cmd("registry")
        .args(["add", dir.to_str().unwrap(), "--name", name, "--port"])
        .arg(http.to_string())
        .run()
        .success();
    dir
}

fn write_compose(h: &Harness, name: &str, services: &str) -> PathBuf {
    h.write(
        &format!("{name}/compose.yaml"),
        &format!("services:\n{services}"),
    );
    h.path().join(name)
}

/// Container ID by service, of all the project's containers.
fn containers(project: &str) -> BTreeMap<String, String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--format",
            "{{.ID}} {{.Label \"com.docker.compose.service\"}}",
        ])
        .arg("--filter")
        .arg(format!("label=com.docker.compose.project={project}"))
        .timed_output()
        .unwrap();
    assert!(out.status.success(), "docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, svc)| (svc.to_owned(), id.to_owned()))
        .collect()
}

fn inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "--format", format, id])
        .timed_output()
        .unwrap();
    assert!(out.status.success(), "docker inspect {id}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn start(h: &Harness, name: &str) {
    h.cmd("stackctl")
        .args(["start", name, "--timeout", "90"])
        .timeout(Duration::from_secs(150))
        .run()
        .success();
}

fn plan(h: &Harness, name: &str, code: i32) -> common::Run {
    h.cmd("stackctl").args(["plan", name]).run().code_is(code)
}

fn apply(h: &Harness, args: &[&str]) -> common::Run {
    h.cmd("stackctl")
        .arg("apply")
        .args(args)
        .timeout(Duration::from_secs(150))
        .run()
}

/// The lines of a plan that start with `~`.
fn changed_lines(run: &common::Run) -> Vec<&str> {
    run.stdout.lines().filter(|l| l.starts_with('~')).collect()
}

#[test]
fn a_changed_setting_shows_old_to_new_and_apply_recreates_only_that_service() {
    if !common::docker_ready(&["berth/debian:bookworm", "redis:7"]) {
        return;
    }
    let h = Harness::new();
    let name = unique("three");
    let _clean = Cleanup(vec![name.clone()]);
    let http = free_port();
    let dir = register(
        &h,
        &name,
        &format!("{}{}{}", app_service(http), worker("a", ""), redis("cache")),
        http,
    );
    start(&h, &name);

    // After a start: nothing to do.
    let run = plan(&h, &name, 0);
    assert_eq!(
        run.stdout,
        "= app\n= cache\n= worker\nPlan: 0 to add, 0 to change, 0 to remove.\n"
    );
    let json = h
        .cmd("stackctl")
        .args(["plan", &name, "--json"])
        .run()
        .success()
        .json();
    assert_eq!(json["project"], name.as_str());
    let actions: Vec<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unchanged"; 3]);
    let before = containers(&name);
    assert_eq!(before.len(), 3, "{before:?}");

    // One setting and a memory limit of one service.
    write_compose(
        &h,
        &name,
        &format!(
            "{}{}{}",
            app_service(http),
            worker("b", LIMITS),
            redis("cache")
        ),
    );
    let run = plan(&h, &name, 1);
    assert_eq!(
        changed_lines(&run),
        [
            "~ worker: deploy: (none) → {\"resources\":{\"limits\":{\"memory\":\"64M\"}}}",
            "~ worker: environment.QUEUE: \"a\" → \"b\"",
            "~ worker: mem_limit: (none) → \"64m\"",
        ],
        "{}",
        run.stdout
    );
    let _ = run
        .stdout_has("= app\n")
        .stdout_has("= cache\n")
        .stdout_has("Plan: 0 to add, 1 to change, 0 to remove.");

    let run = apply(&h, &[&name, "--yes"]).success();
    let _ = run.stderr_has("0 added, 1 changed, 0 removed");
    let after = containers(&name);
    assert_eq!(after["app"], before["app"], "app kept its container");
    assert_eq!(after["cache"], before["cache"], "cache kept its container");
    assert_ne!(after["worker"], before["worker"], "worker was recreated");
    assert_eq!(
        inspect(&after["worker"], "{{.HostConfig.Memory}}"),
        "67108864"
    );
    assert_eq!(inspect(&after["worker"], "{{.State.Status}}"), "running");
    let _ = plan(&h, &name, 0).stdout_has("Plan: 0 to add, 0 to change, 0 to remove.");
    assert!(dir.join(".berth/compose.hash.yaml").is_file());

    // A service renamed: one to add, one to remove.
    write_compose(
        &h,
        &name,
        &format!(
            "{}{}{}",
            app_service(http),
            worker("b", LIMITS),
            "  queue:\n    image: redis:7\n    restart: unless-stopped\n"
        ),
    );
    let _ = plan(&h, &name, 1)
        .stdout_has("+ queue\n")
        .stdout_has("- cache\n")
        .stdout_has("Plan: 1 to add, 0 to change, 1 to remove.");
    // queue mounts no volume: cache's named volume goes with --with-data.
    let data = format!("{name}_cachedata");
    assert!(volume_exists(&data));
    let _ = apply(&h, &[&name, "--yes", "--with-data"])
        .success()
        .stderr_has("1 added, 0 changed, 1 removed");
    assert!(!volume_exists(&data), "{data} removed with --with-data");
    let now = containers(&name);
    assert!(!now.contains_key("cache"), "{now:?}");
    assert_eq!(now["app"], before["app"]);
    assert_eq!(now["worker"], after["worker"]);
    assert_eq!(inspect(&now["queue"], "{{.State.Status}}"), "running");
    let _ = plan(&h, &name, 0);
}

#[test]
fn a_stale_plan_is_refused_and_bad_input_changes_nothing() {
    if !common::docker_ready(&["berth/debian:bookworm"]) {
        return;
    }
    let h = Harness::new();
    let name = unique("stale");
    let _clean = Cleanup(vec![name.clone()]);
    let http = free_port();
    register(
        &h,
        &name,
        &format!("{}{}", app_service(http), worker("a", "")),
        http,
    );
    start(&h, &name);
    let before = containers(&name);
    let file = h.path().join("p.json");
    let file_arg = file.to_str().unwrap();

    // The compose file edited after the plan.
    write_compose(
        &h,
        &name,
        &format!("{}{}", app_service(http), worker("b", "")),
    );
    let _ = h
        .cmd("stackctl")
        .args(["plan", &name, "--out", file_arg])
        .run()
        .code_is(1);
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(
        saved["stack_serial"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        saved["state_serial"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    write_compose(
        &h,
        &name,
        &format!("{}{}", app_service(http), worker("c", "")),
    );
    let _ = apply(&h, &[&name, "--plan", file_arg])
        .code_is(1)
        .stderr_has("berth.yaml/compose files changed since the plan")
        .stderr_has("re-run plan");
    assert_eq!(containers(&name), before, "a refused plan changes nothing");

    // A container stopped by hand after the plan.
    let _ = h
        .cmd("stackctl")
        .args(["plan", &name, "--out", file_arg])
        .run()
        .code_is(1);
    let stopped = Command::new("docker")
        .args(["stop", "-t", "1", &before["worker"]])
        .timed_output()
        .unwrap();
    assert!(stopped.status.success());
    let _ = apply(&h, &[&name, "--plan", file_arg])
        .code_is(1)
        .stderr_has("containers changed since the plan: re-run plan");
    assert_eq!(containers(&name), before);
    assert_eq!(inspect(&before["worker"], "{{.State.Status}}"), "exited");

    bad_input_changes_nothing(&h, &name, &saved, &before);

    // A fresh plan applies: the stopped worker is recreated with QUEUE=c and runs.
    let run = h
        .cmd("stackctl")
        .args(["plan", &name, "--out", file_arg])
        .run()
        .code_is(1);
    let _ = run
        .stdout_has("~ worker: environment.QUEUE: \"a\" → \"c\"")
        .stdout_has("~ worker: the container is exited (not running)");
    let _ = apply(&h, &[&name, "--plan", file_arg]).success();
    let after = containers(&name);
    assert_eq!(after["app"], before["app"]);
    assert_eq!(inspect(&after["worker"], "{{.State.Status}}"), "running");
    let _ = plan(&h, &name, 0);
}

/// Bad input: an unknown project, a malformed plan file, the plan of another
/// project, a missing plan file: exit 2, nothing changed.
fn bad_input_changes_nothing(
    h: &Harness,
    name: &str,
    saved: &Value,
    before: &BTreeMap<String, String>,
) {
    let registry = h.registry_bytes();
    let _ = plan(h, "no-such-project", 2).stderr_has("no-such-project");
    let _ = apply(h, &["no-such-project", "--yes"]).code_is(2);
    std::fs::write(h.path().join("bad.json"), "{\"project\": 3").unwrap();
    let _ = apply(
        h,
        &[name, "--plan", h.path().join("bad.json").to_str().unwrap()],
    )
    .code_is(2)
    .stderr_has("is not a plan");
    let mut other = saved.clone();
    other["project"] = Value::from("someone-else");
    std::fs::write(h.path().join("other.json"), other.to_string()).unwrap();
    let _ = apply(
        h,
        &[
            name,
            "--plan",
            h.path().join("other.json").to_str().unwrap(),
        ],
    )
    .code_is(2)
    .stderr_has("is a plan of project 'someone-else'");
    let _ = apply(
        h,
        &[
            name,
            "--plan",
            h.path().join("missing.json").to_str().unwrap(),
        ],
    )
    .code_is(2)
    .stderr_has("does not exist");
    assert_eq!(containers(name), *before);
    assert_eq!(h.registry_bytes(), registry);
}

/// Whether the lock file names `pid` as its holder.
fn holds(lock: &Path, pid: u32) -> bool {
    std::fs::read_to_string(lock).is_ok_and(|t| t.contains(&format!("\"pid\":{pid},")))
}

#[test]
fn a_second_apply_names_the_holder_and_a_killed_holders_lock_is_taken_over() {
    if !common::docker_ready(&["berth/debian:bookworm"]) {
        return;
    }
    let h = Harness::new();
    let name = unique("lock");
    let _clean = Cleanup(vec![name.clone()]);
    // A service that is healthy only once /tmp/ready exists: the first
    // apply holds its lock while it waits for that.
    let slow = "  slow:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    init: true
    healthcheck:
      test: [\"CMD\", \"test\", \"-f\", \"/tmp/ready\"]
      interval: 1s
      timeout: 3s
      retries: 600
";
    register(&h, &name, slow, free_port());
    let mut first = Command::new(common::bin("stackctl"));
    first
        .args(["apply", &name, "--yes", "--timeout", "120s"])
        .current_dir(h.path())
        .env("BERTH_HOME", h.home())
        .env("NO_COLOR", "1")
        .env_remove("COMPOSE_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut first = Kill(first.spawn().unwrap());
    let pid = first.0.id();
    let lock = h.home().join(format!("applied/{name}.lock"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(holds(&lock, pid) && containers(&name).contains_key("slow")) {
        assert!(
            Instant::now() < deadline,
            "the first apply never brought slow up"
        );
        assert!(
            first.0.try_wait().unwrap().is_none(),
            "the first apply ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let began = Instant::now();
    let _ = apply(&h, &[&name, "--yes", "--lock-timeout", "1s"])
        .code_is(1)
        .stderr_has(&format!("it is being applied by pid {pid} on "))
        .stderr_has("stackctl apply");
    assert!(began.elapsed() >= Duration::from_secs(1));

    // The holder is killed; the next apply takes its lock over.
    common::kill_and_wait(&mut first.0);
    let id = &containers(&name)["slow"];
    let touched = Command::new("docker")
        .args(["exec", id, "touch", "/tmp/ready"])
        .timed_output()
        .unwrap();
    assert!(touched.status.success());
    let _ = apply(&h, &[&name, "--yes", "--lock-timeout", "5s"])
        .success()
        .stderr_has(&format!(
            "took over the apply lock of '{name}' left by pid {pid}"
        ))
        .stderr_has("no changes");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), "", "released");
    let _ = plan(&h, &name, 0);
}

#[test]
fn a_changed_secret_shows_as_secret_and_never_its_value() {
    if !common::docker_ready(&["berth/debian:bookworm"]) {
        return;
    }
    let h = Harness::new();
    let name = unique("secret");
    let _clean = Cleanup(vec![name.clone()]);
    let (first, second) = ("first-Secret-4711", "second-Secret-0815");
    register(
        &h,
        &name,
        &worker(
            "a",
            "      API_KEY: ${API_KEY}\n      URL: \"redis://:${API_KEY}@cache\"\n",
        ),
        free_port(),
    );
    let set = |value: &str| {
        h.cmd("secrets")
            .args(["set", &name, "API_KEY", "--from-stdin"])
            .stdin(value)
            .run()
            .success();
    };
    set(first);
    start(&h, &name);
    let id = containers(&name)["worker"].clone();
    assert!(
        inspect(&id, "{{.Config.Env}}").contains(first),
        "the secret reached the container"
    );
    let run = plan(&h, &name, 0);
    assert!(!run.stdout.contains(first));

    set(second);
    let run = plan(&h, &name, 1);
    assert_eq!(
        changed_lines(&run),
        [
            "~ worker: environment.API_KEY: (secret) → (secret)",
            "~ worker: environment.URL: (secret) → (secret)",
        ],
        "{}",
        run.stdout
    );
    let json = h
        .cmd("stackctl")
        .args(["plan", &name, "--json", "--out", "p.json"])
        .run()
        .code_is(1);
    let record = std::fs::read_to_string(h.home().join(format!("applied/{name}.json"))).unwrap();
    let saved = std::fs::read_to_string(h.path().join("p.json")).unwrap();
    for text in [
        &run.stdout,
        &run.stderr,
        &json.stdout,
        &json.stderr,
        &record,
        &saved,
    ] {
        assert!(
            !text.contains(first) && !text.contains(second),
            "a secret value shown: {text}"
        );
    }
    let _ = apply(&h, &[&name, "--plan", "p.json"]).success();
    let id = containers(&name)["worker"].clone();
    assert!(inspect(&id, "{{.Config.Env}}").contains(second));
    let _ = plan(&h, &name, 0);
}
