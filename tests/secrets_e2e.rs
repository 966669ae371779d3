//! Secrets end to end, on the real engine: a project generated with
//! `PostgreSQL`, Redis and `MinIO` keeps every secret value out of its files,
//! the registry, the containers' command lines and labels, every argv
//! sampled from /proc while it starts and backs up, and the output of
//! registry export and show, `stackgen export` and `config`, `stackctl
//! plan`, and logs; the
//! app still reaches its database. Rotating the
//! database password and restarting keeps the app working and locks the old
//! password out. A value with `$`, quotes, spaces, `#` and a newline reaches
//! the container byte for byte. An old project's `.env` is moved into the
//! store on the first start (a private backup kept); `secrets: plain` moves
//! nothing.
//!
//! Real parts: the Docker engine and docker-compose, the test bed's images
//! (`python:3.12-slim`, `postgres:16`, `redis:7`). The bed has no S3 server
//! image: `MinIO` runs as a stand-in built here from `redis:7` (a script that
//! refuses to start without `MINIO_ROOT_PASSWORD`, then waits), mapped with
//! `images:` in config.yaml.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::argv::{Sampler, contains};
use common::{Harness, Run, Timed as _};

/// One project at a time: each builds an image and starts four containers.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `stackctl start` may build the app's image (pip install) first.
const START: Duration = Duration::from_secs(900);

const MINIO_IMAGE: &str = "minio/minio:RELEASE.2025-04-22T22-12-26Z";
const STAND_IN: &str = "berth-test/minio-stand-in:1";

fn ready() -> bool {
    common::docker_ready(&["python:3.12-slim", "postgres:16", "redis:7"])
}

/// Build the `MinIO` stand-in (once per run; the build is cached by docker).
fn stand_in(h: &Harness) {
    let dir = h.path().join("stand-in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("minio"),
        "#!/bin/sh\n# MinIO's stand-in: it needs its root password, then waits.\n\
         [ -n \"$MINIO_ROOT_PASSWORD\" ] || { echo 'MINIO_ROOT_PASSWORD is not set' >&2; exit 1; }\n\
         trap 'exit 0' TERM INT\nwhile :; do sleep 1; done\n",
    )
    .unwrap();
    std::fs::write(dir.join("mc"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM redis:7\nCOPY minio mc /usr/local/bin/\nRUN chmod 755 /usr/local/bin/minio /usr/local/bin/mc\n\
         ENTRYPOINT [\"/usr/local/bin/minio\"]\nCMD []\n",
    )
    .unwrap();
    let out = common::output_within(
        Command::new("docker")
            .args(["build", "-q", "-t", STAND_IN])
            .arg(&dir),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "docker build of the MinIO stand-in: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// config.yaml of the test's `BERTH_HOME`: the stand-in, and maybe `secrets: plain`.
fn config(h: &Harness, plain: bool) {
    std::fs::create_dir_all(h.home()).unwrap();
    let mut text = format!("images:\n  {MINIO_IMAGE}: {STAND_IN}\n");
    if plain {
        text.push_str("secrets: plain\n");
    }
    std::fs::write(h.home().join("config.yaml"), text).unwrap();
}

/// What docker lists for a compose project's label (containers, networks or volumes).
fn docker_ids(kind: &[&str], project: &str) -> Vec<String> {
    let mut c = Command::new("docker");
    c.args(kind)
        .arg("--filter")
        .arg(format!("label=com.docker.compose.project={project}"));
    let out = common::output_within(&mut c, Duration::from_secs(60));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Removes what a test made in the engine, even when it fails.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.0 {
            for (list, rm) in [
                (&["ps", "-aq"][..], &["rm", "-f", "-v"][..]),
                (&["network", "ls", "-q"][..], &["network", "rm"][..]),
                (&["volume", "ls", "-q"][..], &["volume", "rm", "-f"][..]),
            ] {
                let ids = docker_ids(list, name);
                if !ids.is_empty() {
                    let _ = Command::new("docker").args(rm).args(&ids).timed_output();
                }
            }
            let _ = Command::new("docker")
                .args(["image", "rm", "-f", &format!("{name}_app")])
                .timed_output();
        }
    }
}

/// Generate a fastapi project with postgres, redis and minio and register it.
fn generate(h: &Harness, name: &str) -> (PathBuf, Run) {
    let run = h
        .sh(&format!(
            "set -o pipefail; stackgen new fastapi {name} --services postgres,redis,minio --port {} --json | registry add -",
            common::free_port()
        ))
        .timeout(Duration::from_secs(300))
        .run()
        .success()
        .stderr_has(&format!("registered {name}"));
    (h.path().join(name), run)
}

fn start(h: &Harness, verb: &str, name: &str) -> Run {
    h.cmd("stackctl")
        .args([verb, name, "--timeout", "900"])
        .timeout(START)
        .run()
        .success()
        .stderr_has(&format!("{name}: running"))
}

/// A secret's value from the store (`secrets get`), its newline taken off.
fn get(h: &Harness, name: &str, key: &str) -> String {
    let run = h.cmd("secrets").args(["get", name, key]).run().success();
    run.stdout
        .strip_suffix('\n')
        .unwrap_or(&run.stdout)
        .to_owned()
}

/// `docker exec` as the test runs it.
fn docker_exec(container: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write as _;
    let mut c = Command::new("docker");
    c.arg("exec");
    if stdin.is_some() {
        c.arg("-i");
    }
    c.arg(container).args(args);
    let Some(input) = stdin else {
        return common::output_within(&mut c, Duration::from_secs(120));
    };
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("docker exec");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    common::wait_within(child, Duration::from_secs(120), "docker exec")
}

/// The app queries its database with the URL compose gave it.
#[track_caller]
fn app_reaches_the_database(name: &str) {
    let out = docker_exec(
        &format!("{name}-app"),
        &[
            "python3",
            "-c",
            "import os, psycopg\n\
             with psycopg.connect(os.environ['DATABASE_URL']) as c:\n    \
             print(c.execute('select current_database(), 6 * 7').fetchone())",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "the app's query: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "('app', 42)");
}

/// Whether `password` logs in as the app's database user over TCP (from the
/// app's container, the password on stdin).
fn password_connects(name: &str, password: &str) -> (bool, String) {
    let out = docker_exec(
        &format!("{name}-app"),
        &[
            "python3",
            "-c",
            "import sys, psycopg\n\
             psycopg.connect(host='postgres', user='app', dbname='app', password=sys.stdin.read(), connect_timeout=20).close()",
        ],
        Some(password),
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A container's environment variable, byte for byte (printenv's newline off).
fn container_env(container: &str, var: &str) -> Vec<u8> {
    let out = docker_exec(container, &["printenv", var], None);
    assert!(out.status.success(), "printenv {var} in {container}");
    let mut v = out.stdout;
    assert_eq!(v.pop(), Some(b'\n'));
    v
}

#[test]
#[allow(clippy::too_many_lines)] // one project's life, step by step
fn no_secret_leaks_and_rotation_keeps_the_app_working() {
    if !ready() {
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let h = Harness::new();
    let name = format!("swl{}", std::process::id());
    let _cleanup = Cleanup(vec![name.clone()]);
    stand_in(&h);
    config(&h, false);

    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, r: &Run| {
        outputs.push((what.to_owned(), format!("{}{}", r.stdout, r.stderr)));
    };
    let (dir, run) = generate(&h, &name);
    keep("stackgen new | registry add", &run);
    let _ = run.stderr_has(&format!("are in the secrets store (`secrets list {name}`)"));

    // The secrets stackgen made, by name: the store has them, .env names them.
    let list = h
        .cmd("secrets")
        .args(["list", &name, "--json"])
        .run()
        .success();
    keep("secrets list", &list);
    let names: BTreeSet<String> = list
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["key"].as_str().expect("a key name").to_owned())
        .collect();
    for want in ["APP_SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"] {
        assert!(names.contains(want), "{want} not in {names:?}");
    }
    let values: BTreeMap<String, String> = names
        .iter()
        .map(|k| (k.clone(), get(&h, &name, k)))
        .collect();
    for (k, v) in &values {
        assert!(v.len() >= 32, "{k}: a generated value: {v:?}");
    }
    let dotenv = std::fs::read_to_string(dir.join(".env")).unwrap();
    for k in values.keys() {
        assert!(
            dotenv
                .lines()
                .any(|l| l == format!("# {k}: in berth's secrets store (secrets get {name} {k})")),
            ".env names {k} in a comment:\n{dotenv}"
        );
        assert!(
            !dotenv.lines().any(|l| l.starts_with(&format!("{k}="))),
            ".env does not set {k} (podman-compose would read it over the environment):\n{dotenv}"
        );
    }

    // Start and back up, argv sampled all along.
    let sampler = Sampler::start();
    let run = start(&h, "start", &name);
    keep("stackctl start", &run);
    let run = h
        .cmd("dbdump")
        .args(["backup", "--project", &name])
        .timeout(Duration::from_secs(300))
        .run()
        .success();
    keep("dbdump backup", &run);
    let argv = sampler.finish();
    assert!(
        argv.iter().any(|a| contains(a, "docker-compose")),
        "the sampler saw compose run ({} command lines)",
        argv.len()
    );
    assert!(
        argv.iter().any(|a| contains(a, "pg_dump")),
        "the sampler saw the backup's pg_dump ({} command lines)",
        argv.len()
    );

    app_reaches_the_database(&name);
    // The app got the store's password, exactly.
    assert_eq!(
        container_env(&format!("{name}-app"), "DB_PASSWORD"),
        values["POSTGRES_PASSWORD"].as_bytes()
    );

    for args in [
        vec!["registry", "export"],
        vec!["registry", "show", &name],
        vec!["registry", "show", &name, "--json"],
        vec!["registry", "list", "--json"],
        vec!["stackctl", "logs", &name, "--tail", "200"],
        vec!["stackctl", "status", &name, "--json"],
        vec!["dbdump", "list", "--project", &name, "--json"],
        vec!["stackgen", "export", "--project", &name],
        vec!["stackgen", "config", "--project", &name],
        vec!["stackgen", "config", "--project", &name, "--json"],
        vec!["stackctl", "plan", &name],
        vec!["stackctl", "plan", &name, "--json"],
    ] {
        let run = h.cmd(args[0]).args(&args[1..]).run();
        // plan: 0 or 1 (changes); every other command succeeds.
        assert!(
            run.code == 0 || (args[1] == "plan" && run.code == 1),
            "{args:?}: exit {}: {}",
            run.code,
            run.stderr
        );
        keep(&args.join(" "), &run);
    }
    let shown = outputs
        .iter()
        .find(|(w, _)| w == &format!("registry show {name}"))
        .map(|(_, o)| o.clone())
        .unwrap();
    assert!(
        shown.contains(&format!(
            "POSTGRES_PASSWORD in the secrets store (secrets get {name} POSTGRES_PASSWORD)"
        )),
        "{shown}"
    );

    // Nowhere a value: files, registry, containers, argv, outputs.
    let mut leaks = Vec::new();
    let project_files = common::files_under(&dir);
    assert!(project_files.len() > 5, "{project_files:?}");
    let home_files = common::files_under(&h.home());
    assert!(
        home_files.keys().any(|p| p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("registry")),
        "{:?}",
        home_files.keys()
    );
    let mut inspected = Vec::new();
    for id in docker_ids(&["ps", "-aq"], &name) {
        let out = common::output_within(
            Command::new("docker").args([
                "inspect",
                "-f",
                "{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Args}} {{json .Config.Labels}}",
                &id,
            ]),
            Duration::from_secs(60),
        );
        assert!(out.status.success());
        inspected.push((id, out.stdout));
    }
    assert_eq!(inspected.len(), 4, "app, postgres, redis, minio");
    for (k, v) in &values {
        for (p, bytes) in project_files.iter().chain(&home_files) {
            if contains(bytes, v) {
                leaks.push(format!("{k} in the file {}", p.display()));
            }
        }
        for (id, text) in &inspected {
            if contains(text, v) {
                leaks.push(format!("{k} in docker inspect of {id}"));
            }
        }
        for a in &argv {
            if contains(a, v) {
                leaks.push(format!(
                    "{k} in an argv: {}",
                    String::from_utf8_lossy(a).replace('\0', " ")
                ));
            }
        }
        for (what, text) in &outputs {
            if text.contains(v.as_str()) {
                leaks.push(format!("{k} in the output of {what}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "secret values leaked:\n{}",
        leaks.join("\n")
    );

    // A value compose would garble in .env reaches the container exactly.
    let odd = "a$b $$c ${HOME} 'single' \"double\" sp  ace #hash\nsecond line\t€";
    h.cmd("secrets")
        .args(["set", &name, "ODD_VALUE", "--from-stdin"])
        .stdin(odd)
        .run()
        .success();
    assert_eq!(get(&h, &name, "ODD_VALUE"), odd);
    let compose = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    let compose = compose.replacen(
        "    environment:\n",
        "    environment:\n      ODD_VALUE: ${ODD_VALUE}\n",
        1,
    );
    assert!(compose.contains("ODD_VALUE: ${ODD_VALUE}"), "{compose}");
    std::fs::write(dir.join("compose.yaml"), compose).unwrap();

    // Rotation: a new database password, the app works after a restart, the
    // old one no longer logs in.
    let old = values["POSTGRES_PASSWORD"].clone();
    assert!(
        password_connects(&name, &old).0,
        "the old password works before"
    );
    let run = h
        .cmd("secrets")
        .args(["rotate", &name, "POSTGRES_PASSWORD"])
        .timeout(Duration::from_secs(120))
        .run()
        .success();
    let new = get(&h, &name, "POSTGRES_PASSWORD");
    assert_ne!(new, old);
    assert!(!run.stdout.contains(&new) && !run.stderr.contains(&new));
    let run = start(&h, "restart", &name);
    assert!(!run.stderr.contains(&new) && !run.stderr.contains(odd));
    app_reaches_the_database(&name);
    assert_eq!(
        container_env(&format!("{name}-app"), "DB_PASSWORD"),
        new.as_bytes()
    );
    let (ok, why) = password_connects(&name, &old);
    assert!(!ok, "the old password still connects after the rotation");
    assert!(why.contains("password authentication failed"), "{why}");
    assert!(
        password_connects(&name, &new).0,
        "the new password connects"
    );
    assert_eq!(
        container_env(&format!("{name}-app"), "ODD_VALUE"),
        odd.as_bytes(),
        "the value reached the container byte for byte"
    );
}

#[test]
fn an_old_env_moves_into_the_store_on_the_first_start_and_plain_keeps_it() {
    if !ready() {
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let h = Harness::new();
    let old = format!("swo{}", std::process::id());
    let plain = format!("swp{}", std::process::id());
    let _cleanup = Cleanup(vec![old.clone(), plain.clone()]);
    stand_in(&h);

    // Generated as berth did before the store: values in .env.
    config(&h, true);
    let (old_dir, _) = generate(&h, &old);
    let (plain_dir, _) = generate(&h, &plain);
    let before = std::fs::read_to_string(old_dir.join(".env")).unwrap();
    let value = |text: &str, k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_default()
            .to_owned()
    };
    let pw = value(&before, "POSTGRES_PASSWORD");
    assert_eq!(pw.len(), 32, "a value in the old-style .env:\n{before}");
    assert!(!h.home().join(format!("secrets/{old}.enc")).exists());

    // `secrets: plain` starts it as before: nothing moves.
    let run = start(&h, "start", &plain);
    assert!(!run.stderr.contains("moved"), "{}", run.stderr);
    let plain_env = std::fs::read_to_string(plain_dir.join(".env")).unwrap();
    assert_eq!(value(&plain_env, "POSTGRES_PASSWORD").len(), 32);
    assert!(!h.home().join(format!("secrets/{plain}.enc")).exists());
    assert!(
        !std::fs::read_dir(&plain_dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("berth-backup")),
        "no backup under secrets: plain"
    );
    app_reaches_the_database(&plain);
    h.cmd("stackctl")
        .args(["stop", &plain])
        .timeout(Duration::from_secs(120))
        .run()
        .success();

    // The store is the default again: the first start moves the values.
    config(&h, false);
    let run = start(&h, "start", &old).stderr_has(&format!(
        "{old}: moved 3 secret value(s) from .env into the secrets store"
    ));
    assert!(!run.stderr.contains(&pw));
    let after = std::fs::read_to_string(old_dir.join(".env")).unwrap();
    for k in ["POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "APP_SECRET_KEY"] {
        // Named in a comment, not set: podman-compose reads .env over the environment.
        assert!(
            after
                .lines()
                .any(|l| l == format!("# {k}: in berth's secrets store (moved from this file)")),
            "{k} named in a comment:\n{after}"
        );
        assert_eq!(get(&h, &old, k), value(&before, k), "{k} in the store");
    }
    assert!(!after.contains(&pw));
    // Everything else of .env stays as it was.
    let strip = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| {
                !l.contains("_PASSWORD")
                    && !l.contains("SECRET_KEY")
                    && !l.contains("in berth's secrets store")
            })
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(strip(&after), strip(&before));
    let backups: Vec<PathBuf> = std::fs::read_dir(&old_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".env.berth-backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&backups[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup is private");
    }
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), before);
    let run = run.stderr_has(&backups[0].display().to_string());
    drop(run);
    app_reaches_the_database(&old);
    assert_eq!(
        container_env(&format!("{old}-app"), "DB_PASSWORD"),
        pw.as_bytes()
    );

    // A second start moves nothing more.
    let run = start(&h, "restart", &old);
    assert!(!run.stderr.contains("moved"), "{}", run.stderr);
    app_reaches_the_database(&old);
}
