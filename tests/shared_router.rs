//! `shared router` against the real Docker engine and a real Caddy (the
//! bed's `caddy:2`): a project started with `stackctl start` answers at
//! https://NAME.test through the router within 2 s, with berth's CA and no
//! berth command in between, and stops answering (502) within 2 s of
//! `stackctl stop`, Caddy never restarted; a config Caddy rejects is not
//! loaded and the old routes keep working; a taken router port is exit 2
//! with nothing started.
//!
//! Each test names its shared services on its own (`shared.name`) and
//! takes free ports, so the tests run side by side and never touch a
//! developer's own router.

#![allow(clippy::too_many_lines, clippy::doc_markdown)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Harness, Timed as _};

fn unique(tag: &str) -> String {
    format!("br{}-{tag}", std::process::id())
}

/// Removes the router's container, the watcher, the projects and the
/// network, even when the test fails.
struct Cleanup {
    name: String,
    home: PathBuf,
    projects: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        common::engines::stop_router(&self.home, &self.name);
        common::engines::Engine::Docker.remove_projects(&self.projects);
        for p in &self.projects {
            let _ = Command::new("docker")
                .args(["network", "rm", &format!("{p}_default")])
                .timed_output();
        }
        let _ = Command::new("docker")
            .args(["network", "rm", &self.name])
            .timed_output();
    }
}

/// The guard first: fields drop in order, and it reads the watcher's
/// pidfile in the harness's folder.
struct Bed {
    guard: Cleanup,
    h: Harness,
    name: String,
    http: u16,
    https: u16,
}

fn bed(tag: &str) -> Option<Bed> {
    if !common::docker_ready(&["caddy:2", "python:3.12-slim"]) || !common::require("curl") {
        return None;
    }
    let name = unique(tag);
    let (http, https) = (common::free_port(), common::free_port());
    let h = Harness::new();
    h.write(
        "home/config.yaml",
        &format!("shared:\n  name: {name}\n  router: {{http_port: {http}, https_port: {https}}}\n"),
    );
    h.cmd("certgen").args(["init", "-q"]).run().success();
    let guard = Cleanup {
        name: name.clone(),
        home: h.home(),
        projects: Vec::new(),
    };
    Some(Bed {
        guard,
        h,
        name,
        http,
        https,
    })
}

impl Bed {
    /// Register a project whose app (python's http.server on 8000) publishes
    /// a free host port; `extra` services after it.
    fn project(&mut self, tag: &str, extra: &str) -> String {
        let name = format!("rt{}{tag}", std::process::id());
        let port = common::free_port();
        self.h.write(
            &format!("{name}/compose.yaml"),
            &format!(
                "services:\n  web:\n    image: python:3.12-slim\n    init: true\n    command: [\"python3\", \"-m\", \"http.server\", \"8000\"]\n    ports: [\"127.0.0.1:{port}:8000\"]\n{extra}"
            ),
        );
        let dir = self.h.path().join(&name);
        self.h
            .cmd("registry")
            .args(["add", dir.to_str().unwrap(), "--name", &name, "-q"])
            .run()
            .success();
        self.guard.projects.push(name.clone());
        name
    }

    /// GET https://DOMAIN/ through the router with berth's CA (no -k):
    /// (curl's exit status, the HTTP status, the body).
    fn get(&self, domain: &str) -> (i32, u16, String) {
        let ca = self.h.home().join("ca/ca.pem");
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "2", "-w", "\n%{http_code}"])
            .args(["--resolve", &format!("{domain}:{}:127.0.0.1", self.https)])
            .arg("--cacert")
            .arg(&ca)
            .arg(format!("https://{domain}:{}/", self.https))
            .output_in(Duration::from_secs(10))
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (
            out.status.code().unwrap_or(-1),
            code.trim().parse().unwrap_or(0),
            body.to_owned(),
        )
    }

    /// Poll `get` until `want` (HTTP status) or `limit`: how long it took.
    fn until(&self, domain: &str, want: u16, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let (rc, code, body) = self.get(domain);
            if code == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "https://{domain}/ did not answer {want} within {limit:?}: curl {rc}, HTTP {code}, {body}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.h.home().join("shared/router.log")).unwrap_or_default()
    }

    /// Caddy's process and start time: the same while it is never restarted.
    fn caddy(&self) -> String {
        let out = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Pid}} {{.State.StartedAt}}"])
            .arg(format!("{}-router", self.name))
            .timed_output()
            .unwrap();
        assert!(out.status.success(), "the router container is gone");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

#[test]
fn a_started_project_answers_through_the_router_and_a_stopped_one_does_not() {
    let Some(mut b) = bed("a") else { return };
    // An "adminer" that publishes nothing: db.NAME.test reaches it on 8080.
    let shop = b.project(
        "shop",
        "  adminer:\n    image: python:3.12-slim\n    init: true\n    command: [\"python3\", \"-m\", \"http.server\", \"8080\"]\n",
    );
    let domain = format!("{shop}.test");
    b.h.cmd("shared")
        .args(["router", "up"])
        .run()
        .success()
        .stderr_has("watcher pid");
    let caddy = b.caddy();
    // Registered, not running: Caddy answers, over TLS with its certificate, 502.
    let (rc, code, body) = b.get(&domain);
    assert_eq!((rc, code), (0, 502), "{body}");
    assert!(body.contains("nothing runs for"), "{body}");

    b.h.cmd("stackctl")
        .args(["start", &shop, "-q"])
        .run()
        .success();
    let took = b.until(&domain, 200, Duration::from_secs(2));
    eprintln!("routed {took:?} after stackctl start returned");
    let (_, _, body) = b.get(&domain);
    assert!(body.contains("Directory listing"), "{body}");
    b.until(&format!("db.{domain}"), 200, Duration::from_secs(2));

    // Plain HTTP redirects to the HTTPS port.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
        ])
        .args(["--resolve", &format!("{domain}:{}:127.0.0.1", b.http)])
        .arg(format!("http://{domain}:{}/x", b.http))
        .timed_output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("308 https://{domain}:{}/x", b.https)
    );

    let status =
        b.h.cmd("shared")
            .args(["router", "status", "--json"])
            .run()
            .success()
            .json();
    assert_eq!(status["state"], "running");
    assert_eq!(status["caddy_answers"], true);
    assert!(status["watcher"].is_u64(), "{status}");
    let routes = status["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2, "{status}");
    assert_eq!(routes[0]["domain"], format!("db.{domain}").as_str());
    assert!(
        routes[0]["upstream"]
            .as_str()
            .unwrap()
            .ends_with("adminer_1:8080"),
        "{status}"
    );
    let routes = &routes[1..];
    assert_eq!(routes[0]["domain"], domain.as_str());
    let upstream = routes[0]["upstream"].as_str().unwrap();
    assert!(
        upstream.starts_with(&shop) && upstream.ends_with(":8000"),
        "routed by container name and target port: {upstream}"
    );
    b.h.cmd("shared")
        .args(["router", "status"])
        .run()
        .success()
        .stdout_has(&format!("https://{domain} -> {upstream}"));

    b.h.cmd("stackctl")
        .args(["stop", &shop, "-q"])
        .run()
        .success();
    let took = b.until(&domain, 502, Duration::from_secs(2));
    eprintln!("unrouted {took:?} after stackctl stop returned");

    // Started again: routed again, by the same Caddy.
    b.h.cmd("stackctl")
        .args(["start", &shop, "-q"])
        .run()
        .success();
    b.until(&domain, 200, Duration::from_secs(2));
    assert_eq!(b.caddy(), caddy, "Caddy was restarted");
    let log = b.log();
    assert!(log.contains("joined the network"), "{log}");
    assert!(log.contains("left the network"), "{log}");

    // down: refused while it routes a running project, then with --yes the
    // watcher stopped, the container gone, nothing answers.
    b.h.cmd("shared")
        .args(["router", "down"])
        .run()
        .code_is(1)
        .stderr_has(&format!(
            "it routes running projects: db.{domain}, {domain}"
        ));
    assert_eq!(b.caddy(), caddy, "a refused down changed nothing");
    b.h.cmd("shared")
        .args(["router", "down", "--yes"])
        .run()
        .success()
        .stderr_has("stopped the router watcher");
    assert!(!b.h.home().join("shared/router.pid").exists());
    let (rc, _, _) = b.get(&domain);
    assert_eq!(rc, 7, "connection refused once the router is down");
    // stackctl down removes the project's network: the router left it.
    b.h.cmd("stackctl")
        .args(["down", &shop, "--yes", "-q"])
        .run()
        .success();
}

#[test]
fn a_config_caddy_rejects_is_not_loaded_and_the_old_routes_keep_working() {
    let Some(mut b) = bed("r") else { return };
    let good = b.project("good", "");
    let bad = b.project("bad", "");
    b.h.cmd("shared")
        .args(["router", "up", "-q"])
        .run()
        .success();
    let caddy = b.caddy();
    b.h.cmd("stackctl")
        .args(["start", &good, "-q"])
        .run()
        .success();
    b.until(&format!("{good}.test"), 200, Duration::from_secs(2));

    // bad's certificate (issued by up) replaced by a file Caddy cannot
    // load: berth leaves existing files alone, Caddy rejects the config.
    let dir = b.h.home().join(format!("certs/{bad}.test"));
    std::fs::write(dir.join("fullchain.pem"), "not a certificate\n").unwrap();
    std::fs::write(dir.join("key.pem"), "not a key\n").unwrap();
    b.h.cmd("stackctl")
        .args(["start", &bad, "-q"])
        .run()
        .success();
    let start = Instant::now();
    while !b.log().contains("caddy rejected the config") {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no rejection reported:\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = b.log();
    assert!(
        log.contains(&format!("retrying without {bad}.test")),
        "{log}"
    );
    assert!(log.contains("the running config stays"), "{log}");

    // The old routes keep working, the same Caddy serves them, bad is not routed.
    let (rc, code, _) = b.get(&format!("{good}.test"));
    assert_eq!((rc, code), (0, 200));
    let (rc, code, _) = b.get(&format!("{bad}.test"));
    assert_ne!(code, 200, "curl {rc}");
    assert_eq!(b.caddy(), caddy);
    let status =
        b.h.cmd("shared")
            .args(["router", "status", "--json"])
            .run()
            .success()
            .json();
    let err = status["last_error"].as_str().unwrap_or_default();
    assert!(err.contains(&format!("{bad}.test")), "{status}");
    let domains: Vec<&str> = status["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["domain"].as_str())
        .collect();
    assert_eq!(domains, vec![format!("{good}.test").as_str()]);
    b.h.cmd("shared")
        .args(["router", "status"])
        .run()
        .success()
        .stdout_has("rejected");
}

#[test]
fn a_taken_router_port_is_exit_2_and_nothing_starts() {
    let Some(b) = bed("p") else { return };
    let holder = std::net::TcpListener::bind(("127.0.0.1", b.https)).unwrap();
    b.h.cmd("shared")
        .args(["router", "up"])
        .run()
        .code_is(2)
        .stderr_has(&format!(
            "port {} (shared.router.https_port) is taken",
            b.https
        ))
        .stderr_has("hint:");
    drop(holder);
    let router = Command::new("docker")
        .args(["inspect", &format!("{}-router", b.name)])
        .timed_output()
        .unwrap();
    assert!(!router.status.success(), "a router container was made");
    let net = Command::new("docker")
        .args(["network", "inspect", &b.name])
        .timed_output()
        .unwrap();
    assert!(!net.status.success(), "the network was made");
    assert!(!b.h.home().join("shared/router.pid").exists());

    // Bad config and bad usage: exit 2 too.
    b.h.write(
        "home/config.yaml",
        &format!(
            "shared:\n  name: {}\n  router: {{http_port: {p}, https_port: {p}}}\n",
            b.name,
            p = b.http
        ),
    );
    b.h.cmd("shared")
        .args(["router", "up"])
        .run()
        .code_is(2)
        .stderr_has("given twice");
    b.h.write(
        "home/config.yaml",
        &format!("shared:\n  name: {}\n  router: {{http_port: 0}}\n", b.name),
    );
    b.h.cmd("shared")
        .args(["router", "up"])
        .run()
        .code_is(2)
        .stderr_has("invalid shared.router.http_port");
    b.h.cmd("shared")
        .args(["router", "up", "--timeout", "soon"])
        .run()
        .code_is(2);
}
