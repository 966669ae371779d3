//! The README's "day with berth", as written, as one test: generate a Django
//! project with `PostgreSQL` and Redis, register it, start it, give it a
//! certificate and a Caddy route, reach it over HTTPS with the CA trusted
//! (no `-k`), back up, change data, restore, reset, add and remove a
//! service, stop everything and remove it. Every command's exit status and
//! key output is asserted, and no file is edited by hand.
//!
//! Real parts: the Docker engine and docker-compose, the test bed's images
//! (`python:3.12-slim`, `postgres:16`, `redis:7`, built by tests/bed), Caddy,
//! curl and Django's `django-admin` on the host.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Kill, Run, Timed as _, free_port};

/// `stackctl start` may build the image and pip-install Django first.
const START: Duration = Duration::from_secs(900);

fn ready() -> bool {
    let parts = ["caddy", "curl", "django-admin"];
    parts.iter().all(|p| common::require(p))
        && common::docker_ready(&["python:3.12-slim", "postgres:16", "redis:7"])
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

/// Removes what the test made in the engine, even when it fails.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (list, rm) in [
            (&["ps", "-aq"][..], &["rm", "-f", "-v"][..]),
            (&["network", "ls", "-q"][..], &["network", "rm"][..]),
            (&["volume", "ls", "-q"][..], &["volume", "rm", "-f"][..]),
        ] {
            let ids = docker_ids(list, &self.0);
            if !ids.is_empty() {
                let _ = Command::new("docker").args(rm).args(&ids).timed_output();
            }
        }
        let _ = Command::new("docker")
            .args(["image", "rm", "-f", &format!("{}_app", self.0)])
            .timed_output();
    }
}

/// One plain HTTP GET on 127.0.0.1:PORT: the status code, or None when
/// nothing answers with HTTP.
fn http_status(port: u16) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn sql(h: &Harness, name: &str, dir: &Path, query: &str) -> Run {
    h.cmd("dbdump")
        .args(["shell", "--project", name])
        .current_dir(dir)
        .stdin(query)
        .timeout(Duration::from_secs(120))
        .run()
}

#[test]
#[allow(clippy::too_many_lines)] // one user's day, step by step, reads best in one piece
fn a_day_with_berth_as_the_readme_tells_it() {
    if !ready() {
        return;
    }
    let h = Harness::new();
    let name = format!("day{}", std::process::id());
    let _cleanup = Cleanup(name.clone());
    let dir = h.path().join(&name);

    // Generate and register in one pipe; the registry records the port the
    // generated .env holds.
    let run = h
        .sh(&format!(
            "set -o pipefail; stackgen new django {name} --services postgres,redis --json | registry add -"
        ))
        .timeout(Duration::from_secs(300))
        .run()
        .success()
        .stderr_has(&format!("registered {name} at {name}.test"));
    let project = h
        .cmd("registry")
        .args(["show", &name, "--json"])
        .run()
        .success()
        .json();
    let port = u16::try_from(project["port"].as_u64().expect("an HTTP port")).unwrap();
    let dotenv = std::fs::read_to_string(dir.join(".env")).unwrap();
    assert!(
        dotenv.contains(&format!("APP_PORT={port}\n")),
        "the .env holds the registry's port {port}:\n{dotenv}\n{}",
        run.stderr
    );

    // start returns 0 only when the app answers: one GET right after, no retry.
    let started = Instant::now();
    let run = h
        .cmd("stackctl")
        .args(["start", &name, "--timeout", "900"])
        .timeout(START)
        .run()
        .success()
        .stderr_has(&format!("http://127.0.0.1:{port}"));
    eprintln!("day: stackctl start took {:.1?}", started.elapsed());
    assert_eq!(
        http_status(port),
        Some(200),
        "the app answers 200 right after start returned 0:\n{}",
        run.stderr
    );
    let status = h
        .cmd("stackctl")
        .args(["status", &name, "--json"])
        .run()
        .success()
        .json();
    let status = status.as_array().map_or(&status, |a| &a[0]).to_string();
    assert!(status.contains("running"), "status after start: {status}");

    // A CA, a certificate for every project, a Caddy route, HTTPS with the CA trusted.
    h.cmd("certgen").args(["init", "--yes"]).run().success();
    h.sh("set -o pipefail; registry list --json | certgen issue -")
        .run()
        .success()
        .stdout_has(&format!("{name}.test"));
    let (https, http, admin) = (free_port(), free_port(), free_port());
    let caddyfile = h.path().join("Caddyfile");
    h.sh(&format!(
        "set -o pipefail; registry list --json | proxyconf caddy --https-port {https} --http-port {http} \
         --admin 127.0.0.1:{admin} -o {}",
        caddyfile.display()
    ))
    .run()
    .success();
    let caddy_home = h.path().join("caddy-home");
    std::fs::create_dir_all(&caddy_home).unwrap();
    let _caddy = Kill(
        Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&caddyfile)
            .env("HOME", &caddy_home)
            .env("XDG_DATA_HOME", caddy_home.join("data"))
            .env("XDG_CONFIG_HOME", caddy_home.join("config"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(h.path().join("caddy.log")).unwrap())
            .spawn()
            .expect("start caddy"),
    );
    let ca = h.home().join("ca/ca.pem");
    let url = format!("https://{name}.test:{https}/");
    let resolve = format!("{name}.test:{https}:127.0.0.1");
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        let mut c = Command::new("curl");
        c.args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
        ])
        .args(["--resolve", &resolve, "--cacert"])
        .arg(&ca)
        .arg(&url);
        let out = common::output_within(&mut c, Duration::from_secs(30));
        let code = String::from_utf8_lossy(&out.stdout).into_owned();
        if code == "200" || Instant::now() > deadline {
            break format!("{code} {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        code.starts_with("200"),
        "curl {url} through Caddy with the CA (no -k): {code}\ncaddy log:\n{}",
        std::fs::read_to_string(h.path().join("caddy.log")).unwrap_or_default()
    );

    // Back up, change data, restore: the change is gone.
    h.cmd("dbdump")
        .args(["backup", "--project", &name, "--label", "before-migration"])
        .timeout(Duration::from_secs(120))
        .run()
        .success();
    sql(
        &h,
        &name,
        &dir,
        "CREATE TABLE day_marker (x int); INSERT INTO day_marker VALUES (42);",
    )
    .success();
    sql(&h, &name, &dir, "SELECT x FROM day_marker;")
        .success()
        .stdout_has("42");
    h.cmd("dbdump")
        .args(["restore", "--project", &name, "--latest", "--yes"])
        .timeout(Duration::from_secs(180))
        .run()
        .success();
    sql(&h, &name, &dir, "SELECT x FROM day_marker;")
        .code_is(2)
        .stderr_has("day_marker");
    sql(&h, &name, &dir, "SELECT count(*) FROM django_migrations;")
        .success()
        .stdout_has("count");

    // Reset: an empty database, migrated again by the framework's step, with
    // a safety backup labelled pre-reset.
    sql(&h, &name, &dir, "CREATE TABLE day_marker (x int);").success();
    h.cmd("dbdump")
        .args(["reset", "--project", &name, "--yes"])
        .timeout(Duration::from_secs(300))
        .run()
        .success();
    sql(&h, &name, &dir, "SELECT x FROM day_marker;").code_is(2);
    let migrations = sql(
        &h,
        &name,
        &dir,
        "SELECT count(*) > 5 AS migrated FROM django_migrations;",
    )
    .success();
    assert!(
        migrations.stdout.contains(" t"),
        "migrate ran after the reset: {}",
        migrations.stdout
    );
    let backups = h
        .cmd("dbdump")
        .args(["list", "--project", &name, "--json"])
        .run()
        .success()
        .json();
    let labels: Vec<&str> = backups
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(
        labels.iter().any(|l| l.contains("pre-reset")) && labels.contains(&"before-migration"),
        "backups after the reset: {labels:?}"
    );

    // Remove and add a service back; the project restarts and answers.
    h.cmd("stackgen")
        .args(["remove-service", "redis", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .success();
    assert!(
        !std::fs::read_to_string(dir.join(".berth/compose.services.yaml"))
            .unwrap()
            .contains("redis:"),
        "redis is gone from the services file"
    );
    h.cmd("stackgen")
        .args(["add-service", "redis", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .success();
    h.cmd("stackctl")
        .args(["restart", &name, "--timeout", "600"])
        .timeout(START)
        .run()
        .success();
    assert_eq!(
        http_status(port),
        Some(200),
        "the app answers after restart"
    );

    // Stop everything, then remove the project's containers, network and data.
    h.cmd("stackctl")
        .args(["stop-all", "--yes"])
        .timeout(Duration::from_secs(180))
        .run()
        .success();
    assert_eq!(http_status(port), None, "nothing answers after stop-all");
    let status = h
        .cmd("stackctl")
        .args(["status", &name, "--json"])
        .run()
        .success()
        .json();
    assert!(
        status.to_string().contains("stopped"),
        "status after stop-all: {status}"
    );
    h.cmd("stackctl")
        .args(["down", &name, "--with-data", "--yes"])
        .timeout(Duration::from_secs(180))
        .run()
        .success();
    for kind in [
        &["ps", "-aq"][..],
        &["network", "ls", "-q"],
        &["volume", "ls", "-q"],
    ] {
        let left = docker_ids(kind, &name);
        assert!(
            left.is_empty(),
            "docker {kind:?} after down --with-data: {left:?}"
        );
    }
}
