//! `secrets rotate` of a database password SIGKILLed at chosen moments, on
//! the real engine, for PostgreSQL (the app's user) and MariaDB (root):
//! after each kill the next `secrets get` gives a password that logs in to
//! the database (and the one before it, when it changed, no longer does),
//! no pending value is left, and the app's container reaches the database
//! with what `stackctl restart` gives it.
//!
//! The kills: at the two test pause points of rotate (`BERTH_TEST_PAUSE_AT`:
//! after the pending value is stored, after the database's password is
//! changed), then a sweep of real kills at increasing delays over the
//! measured length of a whole rotation. Each kill's outcome is read from
//! what the next `secrets get` says (a rotation cut short finished or
//! undone, or none left) and printed.
//!
//! Real parts: the Docker engine and docker-compose, the bed's
//! `postgres:16` and `mariadb:11` images (the app is the same image
//! running `sleep`, its client programs at hand).

#![allow(clippy::too_many_lines, clippy::doc_markdown)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::argv::{Sampler, contains};
use common::engines::Engine;
use common::{Harness, Run, free_port};

/// One project at a time: each starts two database containers.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The fewest timed kills per engine.
const SWEEP: u32 = 20;

/// One database flavour under test.
struct Flavour {
    tag: &'static str,
    image: &'static str,
    /// The db service's environment (KEY is the store key).
    db_env: &'static str,
    healthcheck: &'static str,
    /// A shell command run in the app container that queries the database
    /// with the password in `$PW` and prints 6 * 7.
    query: &'static str,
}

const POSTGRES: Flavour = Flavour {
    tag: "pg",
    image: "postgres:16",
    db_env: "      POSTGRES_USER: app\n      POSTGRES_DB: app\n      POSTGRES_PASSWORD: ${DB_PASSWORD}\n",
    healthcheck: "[\"CMD\", \"pg_isready\", \"-U\", \"app\", \"-h\", \"127.0.0.1\"]",
    query: "PGPASSWORD=\"$PW\" psql -X -h db -U app -d app -tAc 'select 6 * 7'",
};

const MARIADB: Flavour = Flavour {
    tag: "maria",
    image: "mariadb:11",
    db_env: "      MARIADB_DATABASE: app\n      MARIADB_ROOT_PASSWORD: ${DB_PASSWORD}\n",
    healthcheck: "[\"CMD\", \"healthcheck.sh\", \"--connect\", \"--innodb_initialized\"]",
    query: "MYSQL_PWD=\"$PW\" mariadb -h db -uroot -N -e 'select 6 * 7'",
};

fn unique(tag: &str) -> String {
    format!("sk{}-{tag}", std::process::id())
}

/// Removes the project's containers, networks and volumes, however the test ends.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        Engine::Docker.remove_projects(&self.0);
    }
}

/// The compose file: the database, and an app (the same image, sleeping)
/// that gets the password from the store through its environment.
fn compose(f: &Flavour) -> String {
    format!(
        "services:
  db:
    image: {image}
    environment:
{env}    healthcheck:
      test: {health}
      interval: 1s
      timeout: 5s
      retries: 120
  app:
    image: {image}
    entrypoint: [\"sleep\", \"infinity\"]
    environment:
      APP_DB_PASSWORD: ${{DB_PASSWORD}}
    depends_on:
      db:
        condition: service_healthy
",
        image = f.image,
        env = f.db_env,
        health = f.healthcheck,
    )
}

/// `docker exec` in the app container of `sh -c SCRIPT`, stdin from `input`.
fn app_sh(name: &str, script: &str, input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new("docker")
        .args(["exec", "-i", &Engine::Docker.container_name(name, "app")])
        .args(["sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker exec");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    common::wait_within(child, Duration::from_secs(60), "docker exec")
}

/// Whether `password` logs in over the network from the app's container
/// (the password on stdin, never in an argument).
fn logs_in(f: &Flavour, name: &str, password: &str) -> bool {
    let out = app_sh(name, &format!("PW=$(cat); {}", f.query), password);
    out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "42"
}

/// The app reaches the database with the password its environment holds.
#[track_caller]
fn app_reaches_the_database(f: &Flavour, name: &str) {
    let out = app_sh(name, &format!("PW=\"$APP_DB_PASSWORD\"; {}", f.query), "");
    assert!(
        out.status.success(),
        "the app's query: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
}

/// The value `secrets get` gives, and what it said on stderr.
fn get(h: &Harness, name: &str) -> (String, String) {
    let run = h
        .cmd("secrets")
        .args(["get", name, "DB_PASSWORD"])
        .timeout(Duration::from_secs(120))
        .run()
        .success();
    let value = run
        .stdout
        .strip_suffix('\n')
        .unwrap_or(&run.stdout)
        .to_owned();
    (value, run.stderr)
}

/// The `pending` markers of `secrets list --json`, by key.
fn pending(h: &Harness, name: &str) -> Vec<(String, bool)> {
    let run = h
        .cmd("secrets")
        .args(["list", name, "--json"])
        .timeout(Duration::from_secs(120))
        .run()
        .success();
    run.json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_owned(),
                e["pending"].as_bool().expect("a pending marker"),
            )
        })
        .collect()
}

fn restart(h: &Harness, name: &str) -> Run {
    h.cmd("stackctl")
        .args(["restart", name, "--timeout", "300"])
        .timeout(Duration::from_secs(400))
        .run()
        .success()
        .stderr_has(&format!("{name}: running"))
}

/// `secrets rotate` spawned straight (no wrapper, so the kill hits it),
/// stderr piped.
fn spawn_rotate(h: &Harness, name: &str, pause_at: Option<&str>) -> std::process::Child {
    let mut c = Command::new(common::bin("secrets"));
    c.args(["rotate", name, "DB_PASSWORD"])
        .current_dir(h.path())
        .env("BERTH_HOME", h.home())
        .env("NO_COLOR", "1")
        .env_remove(berth_pause_var())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = pause_at {
        c.env(berth_pause_var(), p);
    }
    c.spawn().expect("spawn secrets rotate")
}

/// The test-only pause variable (lib's `cli::PAUSE_VAR`).
fn berth_pause_var() -> &'static str {
    "BERTH_TEST_PAUSE_AT"
}

/// What one kill left, read from the next reader of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// Killed before the pending value was stored: the old value, nothing pending.
    Old,
    /// A pending value the next reader dropped (the database kept the old one).
    Undone,
    /// A pending value the next reader promoted (the database had the new one).
    Finished,
    /// Killed after the promotion: the new value, nothing pending.
    New,
}

/// After a kill: the next `secrets get` resolves what was left, its value
/// logs in (and a replaced one does not), nothing stays pending.
#[track_caller]
fn check_after_kill(
    f: &Flavour,
    h: &Harness,
    name: &str,
    before: &str,
    what: &str,
) -> (Left, String) {
    let (value, said) = get(h, name);
    let left = if said.contains("a rotation cut short is finished") {
        Left::Finished
    } else if said.contains("a rotation cut short is undone") {
        Left::Undone
    } else if value == before {
        Left::Old
    } else {
        Left::New
    };
    assert!(
        !said.contains("warning"),
        "{what}: the next get warned:\n{said}"
    );
    assert!(
        !said.contains(&value) && !said.contains(before),
        "{what}: a value on stderr"
    );
    match left {
        Left::Old | Left::Undone => {
            assert_eq!(value, before, "{what}: {left:?} keeps the old value");
        }
        Left::Finished | Left::New => assert_ne!(value, before, "{what}: {left:?} has a new value"),
    }
    assert!(
        logs_in(f, name, &value),
        "{what} ({left:?}): the stored password does not log in"
    );
    if value != before {
        assert!(
            !logs_in(f, name, before),
            "{what} ({left:?}): the replaced password still logs in"
        );
    }
    assert_eq!(
        pending(h, name),
        [("DB_PASSWORD".to_owned(), false)],
        "{what}: a pending value is left"
    );
    (left, value)
}

/// A registered project of `f`'s database, its password generated into the
/// store, started (removed when the cleanup drops).
fn started(f: &Flavour) -> (Harness, String, Cleanup) {
    let h = Harness::new();
    let name = unique(f.tag);
    let cleanup = Cleanup(vec![name.clone()]);
    h.write(&format!("{name}/compose.yaml"), &compose(f));
    let dir = h.path().join(&name);
    h.cmd("registry")
        .args(["add", dir.to_str().unwrap(), "--name", &name, "--port"])
        .arg(free_port().to_string())
        .run()
        .success();
    h.cmd("secrets")
        .args(["set", &name, "DB_PASSWORD", "--generate", "alnum32"])
        .run()
        .success();
    h.cmd("stackctl")
        .args(["start", &name, "--timeout", "300"])
        .timeout(Duration::from_secs(400))
        .run()
        .success()
        .stderr_has(&format!("{name}: running"));
    (h, name, cleanup)
}

fn killed_rotations(f: &Flavour) {
    if !common::docker_ready(&[f.image]) {
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (h, name, _cleanup) = started(f);
    let (mut current, _) = get(&h, &name);
    assert!(logs_in(f, &name, &current), "the first password logs in");
    app_reaches_the_database(f, &name);
    // Every value the store held: none may show in an argv (the rotations'
    // and the checks' clients get them on stdin or in their environment).
    let mut values = vec![current.clone()];
    let sampler = Sampler::start();

    // Rotations that run to their end, timed (the shortest of three, the
    // machine being shared): the sweep's steps are a tenth of it.
    let mut whole = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let run = h
            .cmd("secrets")
            .args(["rotate", &name, "DB_PASSWORD"])
            .timeout(Duration::from_secs(120))
            .run()
            .success()
            .stderr_has("changed in the db database");
        whole = whole.min(t.elapsed());
        let (value, _) = get(&h, &name);
        assert_ne!(value, current);
        assert!(!run.stderr.contains(&value));
        assert!(logs_in(f, &name, &value) && !logs_in(f, &name, &current));
        current = value;
        values.push(current.clone());
    }
    eprintln!("{}: a whole rotation takes {whole:?}", f.tag);

    // The pause points: a kill there leaves exactly that state.
    for (point, expect) in [
        ("rotate:pending", Left::Undone),
        ("rotate:changed", Left::Finished),
    ] {
        let mut child = spawn_rotate(&h, &name, Some(point));
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let want = format!("secrets: test pause at {point}");
        let t = Instant::now();
        loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("rotate ended before {point}"))
                .unwrap();
            if line == want {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "no pause at {point}"
            );
        }
        let status = common::kill_and_wait(&mut child);
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{point}: killed by SIGKILL"
        );
        let (left, value) = check_after_kill(f, &h, &name, &current, point);
        assert_eq!(left, expect, "a kill at {point}");
        current = value;
        values.push(current.clone());
        restart(&h, &name);
        app_reaches_the_database(f, &name);
        eprintln!("{}: kill at {point}: {left:?}", f.tag);
    }

    // Real kills at increasing delays, a tenth of a whole rotation apart,
    // at least SWEEP of them and on until two rotations ran to their end
    // before the kill (a rotation's length varies from run to run).
    let step = whole / 10;
    let mut seen: Vec<(Duration, Left)> = Vec::new();
    let mut i = 0;
    while i < SWEEP || seen.iter().filter(|(_, l)| *l == Left::New).count() < 2 {
        assert!(
            i < 3 * SWEEP,
            "no rotation finished within {i} kills: {seen:?}"
        );
        let delay = step * i;
        let mut child = spawn_rotate(&h, &name, None);
        std::thread::sleep(delay);
        let status = common::kill_and_wait(&mut child);
        let what = format!("kill {i} after {delay:?}");
        let ended = if std::os::unix::process::ExitStatusExt::signal(&status) == Some(9) {
            "killed"
        } else {
            assert!(status.success(), "{what}: rotate failed: {status:?}");
            "finished before the kill"
        };
        let (left, value) = check_after_kill(f, &h, &name, &current, &what);
        eprintln!("{}: {what} ({ended}): {left:?}", f.tag);
        seen.push((delay, left));
        current = value;
        values.push(current.clone());
        i += 1;
    }
    restart(&h, &name);
    app_reaches_the_database(f, &name);
    let count = |l: Left| seen.iter().filter(|(_, x)| *x == l).count();
    eprintln!(
        "{}: {} timed kills: {} left the old value, {} a pending value undone, {} a pending value finished, {} the new value",
        f.tag,
        seen.len(),
        count(Left::Old),
        count(Left::Undone),
        count(Left::Finished),
        count(Left::New)
    );
    assert!(
        count(Left::Old) > 0 && count(Left::Undone) + count(Left::Finished) > 0,
        "the sweep spans the rotation's steps: {seen:?}"
    );

    // A pending value while the database is down: kept beside the current
    // one, the current one used, a warning with the way out; `secrets
    // rotate` once the database runs resolves it (then rotates).
    let mut child = spawn_rotate(&h, &name, Some("rotate:changed"));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.ends_with("test pause at rotate:changed"))),
        "no pause at rotate:changed"
    );
    common::kill_and_wait(&mut child);
    let db = Engine::Docker.container_name(&name, "db");
    let docker = |verb: &str| {
        let out = common::output_within(
            Command::new("docker").args([verb, &db]),
            Duration::from_secs(120),
        );
        assert!(out.status.success(), "docker {verb} {db}");
    };
    docker("stop");
    let (value, said) = get(&h, &name);
    assert_eq!(
        value, current,
        "the current value while the database is down"
    );
    assert!(
        said.contains("warning: DB_PASSWORD of project")
            && said.contains("neither could be checked")
            && said.contains("not running")
            && said.contains(&format!(
                "hint: when the database runs and answers (`stackctl start {name}`), `secrets rotate {name} DB_PASSWORD` resolves it"
            )),
        "{said}"
    );
    assert_eq!(pending(&h, &name), [("DB_PASSWORD".to_owned(), true)]);
    h.cmd("secrets")
        .args(["rotate", &name, "DB_PASSWORD"])
        .timeout(Duration::from_secs(120))
        .run()
        .code_is(1)
        .stderr_has("which is not running: nothing changed");
    assert_eq!(
        pending(&h, &name),
        [("DB_PASSWORD".to_owned(), true)],
        "still both"
    );
    docker("start");
    let t = Instant::now();
    loop {
        let out = common::output_within(
            Command::new("docker").args(["inspect", "-f", "{{.State.Health.Status}}", &db]),
            Duration::from_secs(30),
        );
        if String::from_utf8_lossy(&out.stdout).trim() == "healthy" {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(180),
            "{db} is not healthy again"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    h.cmd("secrets")
        .args(["rotate", &name, "DB_PASSWORD"])
        .timeout(Duration::from_secs(120))
        .run()
        .success()
        .stderr_has("a rotation cut short is finished")
        .stderr_has("changed in the db database");
    let (value, _) = get(&h, &name);
    assert!(
        logs_in(f, &name, &value),
        "the password after the resolving rotate"
    );
    assert!(
        !logs_in(f, &name, &current),
        "the one before it no longer logs in"
    );
    assert_eq!(pending(&h, &name), [("DB_PASSWORD".to_owned(), false)]);
    values.push(value);
    restart(&h, &name);
    app_reaches_the_database(f, &name);
    let argv = sampler.finish();
    assert!(
        argv.iter().any(|a| contains(a, "rotate")),
        "the sampler saw the rotations"
    );
    for v in &values {
        if let Some(a) = argv.iter().find(|a| contains(a, v)) {
            panic!(
                "a password in an argv: {}",
                String::from_utf8_lossy(a).replace('\0', " ")
            );
        }
    }
    eprintln!(
        "{}: {} command lines sampled, none holds one of the {} passwords",
        f.tag,
        argv.len(),
        values.len()
    );
}

/// A rotation refused because the database is not running changes nothing
/// and leaves nothing pending.
fn refused_when_not_running(f: &Flavour) {
    if !common::docker_ready(&[f.image]) {
        return;
    }
    let h = Harness::new();
    let name = unique(&format!("{}-down", f.tag));
    h.write(&format!("{name}/compose.yaml"), &compose(f));
    let dir = h.path().join(&name);
    h.cmd("registry")
        .args(["add", dir.to_str().unwrap(), "--name", &name, "--port"])
        .arg(free_port().to_string())
        .run()
        .success();
    h.cmd("secrets")
        .args(["set", &name, "DB_PASSWORD", "--generate", "alnum32"])
        .run()
        .success();
    let (before, _) = get(&h, &name);
    let file = h.home().join(format!("secrets/{name}.enc"));
    let bytes = std::fs::read(&file).unwrap();
    h.cmd("secrets")
        .args(["rotate", &name, "DB_PASSWORD"])
        .timeout(Duration::from_secs(120))
        .run()
        .code_is(1)
        .stderr_has("which is not running: nothing changed")
        .stderr_has("hint: start it");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        bytes,
        "the store was not written"
    );
    assert_eq!(get(&h, &name).0, before);
    assert_eq!(pending(&h, &name), [("DB_PASSWORD".to_owned(), false)]);
}

/// MariaDB's app user (the root password random, so rotate connects as
/// the app user, who may not change passwords): the database refuses the
/// new password, rotate finds the old one still logs in and drops the
/// pending value; nothing changed.
const MARIADB_USER: Flavour = Flavour {
    tag: "maria-user",
    image: "mariadb:11",
    db_env: "      MARIADB_DATABASE: app\n      MARIADB_USER: app\n      MARIADB_PASSWORD: ${DB_PASSWORD}\n      MARIADB_RANDOM_ROOT_PASSWORD: \"1\"\n",
    healthcheck: "[\"CMD\", \"healthcheck.sh\", \"--connect\", \"--innodb_initialized\"]",
    query: "MYSQL_PWD=\"$PW\" mariadb -h db -uapp -N -e 'select 6 * 7'",
};

#[test]
fn a_refused_password_change_rolls_the_pending_value_back() {
    let f = &MARIADB_USER;
    if !common::docker_ready(&[f.image]) {
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (h, name, _cleanup) = started(f);
    let (before, _) = get(&h, &name);
    assert!(logs_in(f, &name, &before));
    let run = h
        .cmd("secrets")
        .args(["rotate", &name, "DB_PASSWORD"])
        .timeout(Duration::from_secs(120))
        .run()
        .code_is(2)
        .stderr_has("cannot change the password of user app")
        .stderr_has("hint: nothing changed: the old password still works");
    assert!(!run.stderr.contains(&before));
    let (after, said) = get(&h, &name);
    assert_eq!(after, before, "the old value stays");
    assert!(!said.contains("rotation cut short"), "{said}");
    assert_eq!(pending(&h, &name), [("DB_PASSWORD".to_owned(), false)]);
    assert!(logs_in(f, &name, &before), "the old password still logs in");
    restart(&h, &name);
    app_reaches_the_database(f, &name);
}

#[test]
fn postgres_rotation_killed_at_chosen_moments() {
    killed_rotations(&POSTGRES);
}

#[test]
fn mariadb_root_rotation_killed_at_chosen_moments() {
    killed_rotations(&MARIADB);
}

#[test]
fn rotation_of_a_database_not_running_changes_nothing() {
    refused_when_not_running(&POSTGRES);
    refused_when_not_running(&MARIADB);
}
