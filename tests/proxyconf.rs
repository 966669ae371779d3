//! proxyconf: deterministic Caddy and Traefik output, and the real Caddy
//! serving `https://shop.test` with certgen's certificates to curl and openssl,
//! refusing a forged leaf, and keeping its config when a reload is bad.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Kill, Timed as _, free_port, require};

const PROJECTS: &str = r#"[
  {"name":"shop","domain":"shop.test","port":5003,"services":["web","adminer","mailpit"],
   "service_ports":[{"service":"adminer","host_ip":"0.0.0.0","published":5004,"target":8080,"protocol":"tcp"},
                    {"service":"mailpit","published":5005,"target":8025},
                    {"service":"mailpit","published":5006,"target":1025}]},
  {"name":"blog","port":5010},
  {"name":"docs"}
]"#;

/// A backend on a loopback port answering every request with `body`.
fn backend(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream, body));
        }
    });
    port
}

fn answer(mut stream: TcpStream, body: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .timed_output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

#[test]
fn caddyfile_is_deterministic_sorted_and_skips_projects_without_port() {
    let h = Harness::new();
    let args = ["caddy", "--https-port", "8443", "--http-port", "8080"];
    let a = h
        .cmd("proxyconf")
        .args(args)
        .stdin(PROJECTS)
        .run()
        .success()
        .stderr_has("project docs has no HTTP port; skipped")
        .stderr_has("no certificate for blog.test and 1 other domain(s)");
    // The same projects in another order (and as NDJSON) give the same bytes.
    let v: Vec<serde_json::Value> = serde_json::from_str(PROJECTS).unwrap();
    let ndjson: String = v.iter().rev().map(|p| p.to_string() + "\n").collect();
    let b = h.cmd("proxyconf").args(args).stdin(ndjson).run().success();
    assert_eq!(a.stdout, b.stdout);
    let text = a.stdout;
    let blog = text.find("https://blog.test:8443 {").expect("blog site");
    let shop = text.find("https://shop.test:8443 {").expect("shop site");
    assert!(blog < shop, "sorted by domain:\n{text}");
    assert!(!text.contains("docs.test"), "{text}");
    let certs = h.home().join("certs/shop.test");
    let tls = format!(
        "\ttls {} {}\n",
        certs.join("fullchain.pem").display(),
        certs.join("key.pem").display()
    );
    assert!(
        text.contains(&format!(
            "https://shop.test:8443 {{\n{tls}\treverse_proxy 127.0.0.1:5003\n}}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "https://db.shop.test:8443 {{\n{tls}\treverse_proxy 127.0.0.1:5004\n}}"
        )),
        "{text}"
    );
    // mailpit's web port (8025 inside) is chosen, not SMTP.
    assert!(text.contains("https://mail.shop.test:8443 {"), "{text}");
    assert!(
        text.contains("\treverse_proxy 127.0.0.1:5005\n") && !text.contains("5006"),
        "{text}"
    );
    assert!(
        text.contains(
            "http://shop.test:8080, http://db.shop.test:8080, http://mail.shop.test:8080 {\n\tredir https://{host}:8443{uri} 308\n}"
        ),
        "{text}"
    );

    // --certs-dir and --output (written atomically, the same bytes).
    let out = h.path().join("Caddyfile");
    h.cmd("proxyconf")
        .args(args)
        .args(["--certs-dir", "/srv/certs", "-o"])
        .arg(&out)
        .stdin(PROJECTS)
        .run()
        .success();
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("\ttls /srv/certs/shop.test/fullchain.pem /srv/certs/shop.test/key.pem\n"),
        "{written}"
    );
}

#[test]
fn traefik_dynamic_config_routes_every_host_with_tls_and_redirects() {
    let h = Harness::new();
    let r = h
        .cmd("proxyconf")
        .args(["traefik", "--https-port", "8443"])
        .stdin(PROJECTS)
        .run()
        .success();
    let again = h
        .cmd("proxyconf")
        .args(["traefik", "--https-port", "8443"])
        .stdin(PROJECTS)
        .run()
        .success();
    assert_eq!(r.stdout, again.stdout);
    let v: yaml_serde::Value = yaml_serde::from_str(&r.stdout).expect("YAML");
    let routers = &v["http"]["routers"];
    assert_eq!(routers["shop"]["rule"], "Host(`shop.test`)");
    assert_eq!(routers["shop"]["entryPoints"][0], "websecure");
    assert!(routers["shop"]["tls"].is_mapping());
    assert_eq!(routers["shop_db"]["rule"], "Host(`db.shop.test`)");
    assert_eq!(routers["shop_mail"]["service"], "shop_mail");
    assert_eq!(
        routers["shop_http"]["rule"],
        "Host(`shop.test`) || Host(`db.shop.test`) || Host(`mail.shop.test`)"
    );
    assert_eq!(routers["shop_http"]["entryPoints"][0], "web");
    assert_eq!(
        routers["shop_http"]["middlewares"][0],
        "berth_https_redirect"
    );
    let redirect = &v["http"]["middlewares"]["berth_https_redirect"]["redirectScheme"];
    assert_eq!(redirect["scheme"], "https");
    assert_eq!(redirect["port"], "8443");
    let services = &v["http"]["services"];
    assert_eq!(
        services["shop"]["loadBalancer"]["servers"][0]["url"],
        "http://127.0.0.1:5003"
    );
    assert_eq!(
        services["shop_db"]["loadBalancer"]["servers"][0]["url"],
        "http://127.0.0.1:5004"
    );
    assert_eq!(
        services["blog"]["loadBalancer"]["servers"][0]["url"],
        "http://127.0.0.1:5010"
    );
    assert!(services["docs"].is_null());
    let certs = v["tls"]["certificates"].as_sequence().unwrap();
    assert_eq!(certs.len(), 2);
    let shop_dir = h.home().join("certs/shop.test");
    assert_eq!(
        certs[1]["certFile"],
        shop_dir.join("fullchain.pem").to_str().unwrap()
    );
    assert_eq!(
        certs[1]["keyFile"],
        shop_dir.join("key.pem").to_str().unwrap()
    );
}

/// Caddy in a temp home (its storage and autosave stay there), killed at the end.
fn start_caddy(h: &Harness, config: &Path) -> Kill {
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(config)
        .envs(caddy_env(h))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(h.path().join("caddy.log")).unwrap())
        .spawn()
        .expect("start caddy");
    Kill(child)
}

/// Run a command (proxyconf running `caddy validate`) with Caddy's files in the temp home.
trait CaddyEnv {
    fn caddy_env(self, h: &Harness) -> Self;
}

impl CaddyEnv for common::Cmd {
    fn caddy_env(mut self, h: &Harness) -> Self {
        for (k, v) in caddy_env(h) {
            self = self.env(k, v);
        }
        self
    }
}

fn caddy_env(h: &Harness) -> Vec<(&'static str, PathBuf)> {
    let home = h.path().join("caddy-home");
    vec![
        ("HOME", home.clone()),
        ("XDG_DATA_HOME", home.join("data")),
        ("XDG_CONFIG_HOME", home.join("config")),
    ]
}

/// curl with the berth CA and `host` pinned to loopback; returns (exit code, body, stderr).
fn curl(h: &Harness, host: &str, port: u16, extra: &[&str]) -> (i32, String, String) {
    let ca = h.home().join("ca/ca.pem");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&ca)
        .arg("--resolve")
        .arg(format!("{host}:{port}:127.0.0.1"))
        .args(extra)
        .arg(format!("https://{host}:{port}/"))
        .timed_output()
        .expect("run curl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A key and a leaf for example.com in `dir` (forged-key.pem, forged.pem), signed with the berth CA key.
fn forge_example_com(dir: &Path, ca: &Path, ca_key: &Path) {
    let ok = |out: Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let req = "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout forged-key.pem -subj /CN=example.com -out forged.csr";
    ok(run("openssl", &req.split(' ').collect::<Vec<_>>(), dir));
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:example.com\n").unwrap();
    let mut sign: Vec<&str> =
        "x509 -req -in forged.csr -CAcreateserial -days 30 -extfile ext.cnf -out forged.pem"
            .split(' ')
            .collect();
    sign.extend([
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
    ]);
    ok(run("openssl", &sign, dir));
}

#[test]
#[allow(clippy::too_many_lines)] // one scenario against one running Caddy, step by step
fn caddy_serves_https_with_certgen_certificates_and_refuses_forged_leaves_and_bad_reloads() {
    if !(require("caddy") && require("curl") && require("openssl")) {
        return;
    }
    let h = Harness::new();
    // The real certgen: a name-constrained CA, then a leaf for shop.test and *.shop.test.
    h.cmd("certgen").arg("init").run().success();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .success();
    let ca = h.home().join("ca/ca.pem");
    let ca_key = h.home().join("ca/ca-key.pem");
    let leaf = h.home().join("certs/shop.test/cert.pem");

    let app = backend("hello from shop");
    let adminer = backend("adminer of shop");
    let (https, http, admin) = (free_port(), free_port(), free_port());
    let projects = format!(
        r#"{{"name":"shop","domain":"shop.test","port":{app},"services":["web","adminer"],
            "service_ports":[{{"service":"adminer","published":{adminer},"target":8080}}]}}"#
    );
    let caddyfile = h.path().join("Caddyfile");
    h.cmd("proxyconf")
        .args([
            "caddy",
            "--https-port",
            &https.to_string(),
            "--http-port",
            &http.to_string(),
        ])
        .args(["--admin", &format!("127.0.0.1:{admin}"), "--output"])
        .arg(&caddyfile)
        .stdin(projects)
        .run()
        .success();
    // Caddy itself validates it (dry run: nothing is running yet).
    h.cmd("proxyconf")
        .args(["reload", "--dry-run", "--config"])
        .arg(&caddyfile)
        .caddy_env(&h)
        .run()
        .success()
        .stderr_has("is valid");

    let _caddy = start_caddy(&h, &caddyfile);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (code, body, err) = loop {
        let r = curl(&h, "shop.test", https, &[]);
        if r.0 == 0 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = || std::fs::read_to_string(h.path().join("caddy.log")).unwrap_or_default();
    assert_eq!(code, 0, "curl without -k: {err}\ncaddy log:\n{}", log());
    assert_eq!(body, "hello from shop");
    // The service subdomain is covered by the same certificate (*.shop.test).
    let (code, body, err) = curl(&h, "db.shop.test", https, &[]);
    assert_eq!((code, body.as_str()), (0, "adminer of shop"), "{err}");
    // Without the berth CA, curl does not trust it: the check is real.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "--resolve",
            &format!("shop.test:{https}:127.0.0.1"),
        ])
        .arg(format!("https://shop.test:{https}/"))
        .timed_output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(60),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Plain HTTP is redirected to HTTPS on its port, path and query kept.
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "--resolve",
        ])
        .arg(format!("shop.test:{http}:127.0.0.1"))
        .arg(format!("http://shop.test:{http}/cart?id=7"))
        .timed_output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("308 https://shop.test:{https}/cart?id=7")
    );

    // openssl accepts the chain.
    let out = run(
        "openssl",
        &[
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            leaf.to_str().unwrap(),
        ],
        h.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(": OK\n"));

    // A leaf for example.com, forged with the berth CA key: the name constraints reject it.
    let dir = h.path();
    forge_example_com(dir, &ca, &ca_key);
    let out = run(
        "openssl",
        &["verify", "-CAfile", ca.to_str().unwrap(), "forged.pem"],
        dir,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("permitted subtree violation"),
        "{out:?}"
    );

    // Caddy serves the forged leaf (reloaded through proxyconf); curl refuses it with exit 60.
    let with_forged = format!(
        "{}\nhttps://example.com:{https} {{\n\ttls {} {}\n\trespond \"forged\"\n}}\n",
        std::fs::read_to_string(&caddyfile).unwrap(),
        dir.join("forged.pem").display(),
        dir.join("forged-key.pem").display()
    );
    let forged_config = h.write("Caddyfile.forged", &with_forged);
    h.cmd("proxyconf")
        .args(["reload", "--config"])
        .arg(&forged_config)
        .caddy_env(&h)
        .run()
        .success();
    let (code, body, err) = curl(&h, "example.com", https, &[]);
    assert_eq!(code, 60, "curl must refuse the forged leaf: {body} {err}");
    assert!(
        err.contains("permitted subtree violation") || err.contains("certificate"),
        "{err}"
    );
    // -k shows Caddy did serve it: the refusal is the certificate's.
    assert_eq!(curl(&h, "example.com", https, &["-k"]).1, "forged");

    // A broken config is refused by Caddy's validation and never loaded.
    let broken = h.write(
        "Caddyfile.broken",
        &format!("https://shop.test:{https} {{\n\tno_such_directive\n}}\n"),
    );
    h.cmd("proxyconf")
        .args(["reload", "--config"])
        .arg(&broken)
        .caddy_env(&h)
        .run()
        .code_is(2)
        .stderr_has("caddy rejects")
        .stderr_has("no_such_directive");
    // The running Caddy still serves the previous configuration, forged site included.
    let (code, body, err) = curl(&h, "shop.test", https, &[]);
    assert_eq!((code, body.as_str()), (0, "hello from shop"), "{err}");
    assert_eq!(curl(&h, "example.com", https, &["-k"]).1, "forged");

    // A config that points at a certificate that is not there is refused too.
    let missing = h.write(
        "Caddyfile.missing",
        &format!("https://shop.test:{https} {{\n\ttls /nonexistent/fullchain.pem /nonexistent/key.pem\n\trespond x\n}}\n"),
    );
    h.cmd("proxyconf")
        .args(["reload", "--config"])
        .arg(&missing)
        .caddy_env(&h)
        .run()
        .code_is(2);
    assert_eq!(curl(&h, "shop.test", https, &[]).1, "hello from shop");
}

#[test]
fn reload_without_a_running_caddy_says_so() {
    if !require("caddy") {
        return;
    }
    let h = Harness::new();
    let admin = free_port();
    let config = h.write(
        "Caddyfile",
        &format!(
            "{{\n\tadmin 127.0.0.1:{admin}\n}}\n:{} {{\n\trespond ok\n}}\n",
            free_port()
        ),
    );
    h.cmd("proxyconf")
        .args(["reload", "--config"])
        .arg(&config)
        .caddy_env(&h)
        .run()
        .code_is(2)
        .stderr_has("caddy reload")
        .stderr_has("hint: is Caddy running");
    h.cmd("proxyconf")
        .args(["reload", "--config", "does-not-exist"])
        .run()
        .code_is(2)
        .stderr_has("no such file");
    h.cmd("proxyconf")
        .args(["reload", "--caddy", "/nonexistent/caddy", "--config"])
        .arg(&config)
        .run()
        .code_is(2)
        .stderr_has("cannot run /nonexistent/caddy");
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let h = Harness::new();
    let out = h.path().join("Caddyfile");
    let cases: &[(&[&str], &str, &str)] = &[
        (&["caddy"], "[{\"name\":", "invalid JSON in <stdin>"),
        (&["traefik"], "{\"name\":\"a\"} nonsense", "invalid JSON"),
        (
            &["caddy"],
            r#"{"name":"Shop!","port":5000}"#,
            "invalid project name",
        ),
        (
            &["caddy"],
            r#"{"name":"evil","domain":"example.com","port":5000}"#,
            "outside the dev TLD",
        ),
        (
            &["caddy"],
            r#"{"name":"a","domain":"x.test","port":1} {"name":"b","domain":"x.test","port":2}"#,
            "both claim",
        ),
        (
            &["caddy", "--tld", "te.st"],
            r#"{"name":"a","port":1}"#,
            "invalid dev TLD",
        ),
        (
            &["caddy", "--https-port", "8080", "--http-port", "8080"],
            r#"{"name":"a","port":1}"#,
            "both 8080",
        ),
        (
            &["caddy", "--https-port", "0"],
            r#"{"name":"a","port":1}"#,
            "--https-port",
        ),
        (
            &["caddy", "--https-port", "70000"],
            r#"{"name":"a","port":1}"#,
            "--https-port",
        ),
    ];
    for (args, input, message) in cases {
        let r = h
            .cmd("proxyconf")
            .args(*args)
            .arg("-o")
            .arg(&out)
            .stdin(*input)
            .run();
        r.code_is(2).stderr_has(message);
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

/// Issue #14: `-o LINK` to a file owned by nobody, mode 0666, left a new
/// world-writable file owned by nobody in place of the link.
#[test]
fn output_through_a_symlink_replaces_the_target_without_widening_or_giving_it_away() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let h = Harness::new();
    let target = h.write("elsewhere/Caddyfile", "# someone else's file\n");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o666)).unwrap();
    let me = std::fs::metadata(&target).unwrap().uid();
    // As root the file goes to nobody, as in the issue; as anyone else it stays
    // theirs and the mode and link checks still apply.
    let given = std::os::unix::fs::chown(&target, Some(65_534), Some(65_534)).is_ok();
    assert_eq!(given, me == 0);
    let link = h.path().join("Caddyfile.link");
    std::os::unix::fs::symlink("elsewhere/Caddyfile", &link).unwrap();
    h.cmd("proxyconf")
        .args(["caddy", "-o"])
        .arg(&link)
        .stdin(r#"{"name":"shop","domain":"shop.test","port":5100}"#)
        .run()
        .success()
        .stderr_has("proxyconf: replaced");
    let l = std::fs::symlink_metadata(&link).unwrap();
    assert!(l.file_type().is_symlink(), "the link stays a link");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains("shop.test") && text.contains(":5100"),
        "{text}"
    );
    let m = std::fs::metadata(&target).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o644, "not world-writable");
    assert_eq!(m.uid(), me, "owned by who wrote it, not nobody");
    assert_ne!(m.gid(), 65_534);
    let names: Vec<_> = std::fs::read_dir(h.path().join("elsewhere"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp file left: {names:?}");
}

#[test]
fn registry_output_feeds_proxyconf_and_dnsconf() {
    let h = Harness::new();
    h.write(
        "shop/compose.yaml",
        "services:\n  web:\n    image: nginx\n  adminer:\n    image: adminer\n    ports: [\"5104:8080\"]\n",
    );
    h.cmd("registry")
        .args(["add", "shop", "--port", "5103"])
        .run()
        .success();
    let caddy = h
        .sh("registry list --json | proxyconf caddy")
        .run()
        .success()
        .stderr_has("run `certgen issue shop.test`");
    assert!(
        caddy.stdout.contains("https://shop.test:443 {"),
        "{}",
        caddy.stdout
    );
    assert!(
        caddy.stdout.contains("\treverse_proxy 127.0.0.1:5103\n"),
        "{}",
        caddy.stdout
    );
    assert!(
        caddy.stdout.contains("https://db.shop.test:443 {"),
        "{}",
        caddy.stdout
    );
    assert!(
        caddy.stdout.contains("\treverse_proxy 127.0.0.1:5104\n"),
        "{}",
        caddy.stdout
    );
    assert!(
        caddy.stdout.contains("\tredir https://{host}{uri} 308\n"),
        "{}",
        caddy.stdout
    );
    h.write("root/etc/hosts", "127.0.0.1 localhost\n");
    h.sh("registry list --json | dnsconf install hosts --root root")
        .run()
        .success();
    let hosts = std::fs::read_to_string(h.path().join("root/etc/hosts")).unwrap();
    assert!(
        hosts.contains("\n127.0.0.1\tshop.test db.shop.test\n"),
        "{hosts}"
    );
}
