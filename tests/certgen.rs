//! certgen against the real OpenSSL, curl, update-ca-certificates and certutil:
//! the chain verifies, the name constraints reject a forged leaf, bad input
//! writes nothing, trust stores are changed and reported.

#![allow(clippy::too_many_lines)] // end-to-end scenarios read top to bottom

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Kill, Timed as _, TimedChild as _, free_port, require};

fn ca_pem(h: &Harness) -> PathBuf {
    h.home().join("ca/ca.pem")
}

fn ca_key(h: &Harness) -> PathBuf {
    h.home().join("ca/ca-key.pem")
}

fn cert_dir(h: &Harness, domain: &str) -> PathBuf {
    h.home().join("certs").join(domain)
}

fn init(h: &Harness) {
    h.cmd("certgen").args(["init"]).run().success();
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Run a real program; (exit code, stdout + stderr).
fn prog(program: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(program)
        .args(args)
        .timed_output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under a folder, with its bytes (to prove nothing was written).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
        }
    }
    out.sort();
    out
}

/// Forge a leaf for `name` signed with the berth CA key, as a thief of the key would.
fn forge(h: &Harness, name: &str) -> (PathBuf, PathBuf) {
    let san = if name.parse::<std::net::IpAddr>().is_ok() {
        format!("subjectAltName=IP:{name}")
    } else {
        format!("subjectAltName=DNS:{name}")
    };
    let cert = forge_with(h, name, "/", &san);
    (cert, h.path().join(format!("forged-{name}.key")))
}

/// Forge a leaf named `tag` with the CA key: `subject` (`/` for none) and the
/// extension lines `ext` (openssl x509 -extfile syntax). Returns the certificate.
fn forge_with(h: &Harness, tag: &str, subject: &str, ext: &str) -> PathBuf {
    let key = h.path().join(format!("forged-{tag}.key"));
    let csr = h.path().join(format!("forged-{tag}.csr"));
    let cert = h.path().join(format!("forged-{tag}.pem"));
    let extfile = h.write(&format!("forged-{tag}.ext"), &format!("{ext}\n"));
    let (code, out) = prog(
        "openssl",
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&key),
            "-subj",
            "/",
            "-out",
            s(&csr),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = prog(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            s(&csr),
            "-subj",
            subject,
            "-CA",
            s(&ca_pem(h)),
            "-CAkey",
            s(&ca_key(h)),
            "-set_serial",
            &format!(
                "0x{:x}",
                std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos()
            ),
            "-extfile",
            s(&extfile),
            "-days",
            "30",
            "-out",
            s(&cert),
        ],
    );
    assert_eq!(code, 0, "{tag}: {out}");
    cert
}

#[test]
fn init_creates_a_constrained_ca_with_a_private_key() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    let r = h
        .cmd("certgen")
        .args(["init", "--tld", "internal", "--json"])
        .run()
        .success();
    let v = r.json();
    assert_eq!(
        v["permitted_dns"],
        serde_json::json!(["test", "localhost", "internal"])
    );
    assert_eq!(
        v["permitted_ip"],
        serde_json::json!(["127.0.0.0/8", "::1/128"])
    );
    assert_eq!(v["key"], "ecdsa-256");
    assert_eq!(v["missing_limits"], serde_json::json!([]));
    assert_eq!(v["public_names"], serde_json::json!([]));
    assert!(
        !r.stdout.contains("PRIVATE KEY"),
        "the key never reaches stdout"
    );
    assert_eq!(mode(&ca_key(&h)), 0o600);
    assert_eq!(mode(&h.home().join("ca")), 0o700);
    let (code, text) = prog(
        "openssl",
        &["x509", "-in", s(&ca_pem(&h)), "-noout", "-text"],
    );
    assert_eq!(code, 0, "{text}");
    // Not critical: Go refuses a CA whose critical name constraints hold a
    // directory name; OpenSSL, NSS and Go enforce them all the same.
    assert!(!text.contains("Name Constraints: critical"), "{text}");
    for want in [
        "X509v3 Name Constraints:",
        "X509v3 Extended Key Usage:",
        "TLS Web Server Authentication",
        "Excluded:",
        "email:invalid",
        "URI:invalid",
        "DirName:CN = invalid",
        "DNS:test",
        "DNS:localhost",
        "DNS:internal",
        "IP:127.0.0.0/255.0.0.0",
        "CA:TRUE, pathlen:0",
        "Certificate Sign",
    ] {
        assert!(text.contains(want), "CA lacks {want}:\n{text}");
    }
    // The key is the CA's (OpenSSL agrees).
    let (_, pub_cert) = prog(
        "openssl",
        &["x509", "-in", s(&ca_pem(&h)), "-noout", "-pubkey"],
    );
    let (_, pub_key) = prog("openssl", &["pkey", "-in", s(&ca_key(&h)), "-pubout"]);
    assert_eq!(pub_cert, pub_key);
}

#[test]
fn an_existing_ca_is_never_replaced_without_force() {
    let h = Harness::new();
    init(&h);
    let before = snapshot(&h.home().join("ca"));
    h.cmd("certgen")
        .args(["init"])
        .run()
        .code_is(2)
        .stderr_has("a CA already exists")
        .stderr_has("hint: ");
    h.cmd("certgen")
        .args(["init", "--force"])
        .run()
        .code_is(2)
        .stderr_has("pass --yes");
    assert_eq!(snapshot(&h.home().join("ca")), before);
    h.cmd("certgen")
        .args(["init", "--force", "--yes"])
        .run()
        .success();
    assert_ne!(snapshot(&h.home().join("ca")), before);
    assert_eq!(mode(&ca_key(&h)), 0o600);
}

#[test]
fn issued_chain_verifies_with_openssl() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let v = h
        .cmd("certgen")
        .args(["issue", "shop.test", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v[0]["domain"], "shop.test");
    assert_eq!(v[0]["action"], "issued");
    assert_eq!(
        v[0]["sans"],
        serde_json::json!(["shop.test", "*.shop.test"])
    );
    let dir = cert_dir(&h, "shop.test");
    let (cert, key, chain) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("fullchain.pem"),
    );
    assert_eq!(v[0]["files"]["fullchain"], s(&chain));
    assert_eq!(mode(&key), 0o600);
    let ca = ca_pem(&h);
    for host in ["shop.test", "db.shop.test"] {
        let (code, out) = prog(
            "openssl",
            &[
                "verify",
                "-CAfile",
                s(&ca),
                "-purpose",
                "sslserver",
                "-verify_hostname",
                host,
                s(&cert),
            ],
        );
        assert_eq!(code, 0, "{host}: {out}");
        assert!(out.contains(": OK"), "{out}");
    }
    // The name must match: a.b.shop.test is not covered by *.shop.test.
    let (code, _) = prog(
        "openssl",
        &[
            "verify",
            "-CAfile",
            s(&ca),
            "-verify_hostname",
            "a.b.shop.test",
            s(&cert),
        ],
    );
    assert_ne!(code, 0);
    // fullchain = leaf then CA; the chain file verifies too.
    let chain_text = std::fs::read_to_string(&chain).unwrap();
    assert_eq!(chain_text.matches("BEGIN CERTIFICATE").count(), 2);
    assert!(chain_text.starts_with(&std::fs::read_to_string(&cert).unwrap()));
    let (code, out) = prog("openssl", &["verify", "-CAfile", s(&ca), s(&chain)]);
    assert_eq!(code, 0, "{out}");
    // Validity within what browsers accept, server auth, key matches.
    let (code, _) = prog(
        "openssl",
        &[
            "x509",
            "-in",
            s(&cert),
            "-noout",
            "-checkend",
            &(398 * 86_400).to_string(),
        ],
    );
    assert_eq!(code, 1, "the certificate must expire within 398 days");
    let (_, text) = prog("openssl", &["x509", "-in", s(&cert), "-noout", "-text"]);
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(!text.contains("CA:TRUE"), "{text}");
    let (_, pub_cert) = prog("openssl", &["x509", "-in", s(&cert), "-noout", "-pubkey"]);
    let (_, pub_key) = prog("openssl", &["pkey", "-in", s(&key), "-pubout"]);
    assert_eq!(pub_cert, pub_key);
}

#[test]
fn a_forged_leaf_outside_the_dev_tlds_is_rejected_by_openssl() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let ca = ca_pem(&h);
    for name in ["example.com", "8.8.8.8"] {
        let (forged, _) = forge(&h, name);
        let (code, out) = prog("openssl", &["verify", "-CAfile", s(&ca), s(&forged)]);
        assert_ne!(
            code, 0,
            "{name} forged with the CA key must not verify: {out}"
        );
        assert!(out.contains("permitted subtree violation"), "{name}: {out}");
    }
    // The same forging for a dev name verifies: it is the constraint that rejects, not the forging.
    let (ok, _) = forge(&h, "evil.test");
    let (code, out) = prog("openssl", &["verify", "-CAfile", s(&ca), s(&ok)]);
    assert_eq!(code, 0, "{out}");
}

/// `openssl s_server` on a loopback port, presenting `chain` with `key`.
fn s_server(chain: &Path, key: &Path) -> (Kill, u16) {
    let port = free_port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            s(chain),
            "-key",
            s(key),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let server = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "s_server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

fn curl(ca: &Path, host: &str, port: u16) -> (i32, String) {
    prog(
        "curl",
        &[
            "-sS",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "--cacert",
            s(ca),
            "--resolve",
            &format!("{host}:{port}:127.0.0.1"),
            &format!("https://{host}:{port}/"),
        ],
    )
}

#[test]
fn curl_trusts_the_issued_cert_and_rejects_a_forged_one() {
    if !require("openssl") || !require("curl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .success();
    let dir = cert_dir(&h, "shop.test");
    let ca = ca_pem(&h);
    let (_server, port) = s_server(&dir.join("fullchain.pem"), &dir.join("key.pem"));
    for host in ["shop.test", "mail.shop.test"] {
        let (code, out) = curl(&ca, host, port);
        assert_eq!(code, 0, "curl --cacert berth CA https://{host}: {out}");
    }
    let (forged, key) = forge(&h, "example.com");
    let (_evil, port) = s_server(&forged, &key);
    let (code, out) = curl(&ca, "example.com", port);
    assert_eq!(
        code, 60,
        "curl must reject the forged example.com certificate: {out}"
    );
}

#[test]
fn issue_from_project_json_keeps_current_and_reissues_expiring() {
    let h = Harness::new();
    init(&h);
    let projects = r#"[{"name":"shop","domain":"shop.test"},{"name":"blog"},{"name":"api","domain":"api.test","port":5001}]"#;
    let v = h
        .cmd("certgen")
        .args(["issue", "-", "--json"])
        .stdin(projects)
        .run()
        .success()
        .json();
    let got: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["domain"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("shop.test", "issued"),
            ("blog.test", "issued"),
            ("api.test", "issued")
        ]
    );
    let shop_cert = std::fs::read(cert_dir(&h, "shop.test").join("cert.pem")).unwrap();
    // Again: nothing to do.
    let v = h
        .cmd("certgen")
        .args(["issue", "--json"])
        .stdin(projects)
        .run()
        .success()
        .json();
    assert!(
        v.as_array().unwrap().iter().all(|c| c["action"] == "kept"),
        "{v}"
    );
    assert_eq!(
        std::fs::read(cert_dir(&h, "shop.test").join("cert.pem")).unwrap(),
        shop_cert
    );
    // --force reissues; a short-lived certificate is reissued by the next run.
    let v = h
        .cmd("certgen")
        .args(["issue", "shop.test", "--force", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v[0]["action"], "issued");
    assert_ne!(
        std::fs::read(cert_dir(&h, "shop.test").join("cert.pem")).unwrap(),
        shop_cert
    );
    h.cmd("certgen")
        .args(["issue", "blog.test", "--days", "10", "--force"])
        .run()
        .success();
    let v = h
        .cmd("certgen")
        .args(["issue", "blog.test", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v[0]["action"], "issued", "expires within 30 days: reissued");
    assert!(v[0]["days_left"].as_i64().unwrap() > 390);
    // A new CA: certificates of the old one are reissued.
    h.cmd("certgen")
        .args(["init", "--force", "--yes"])
        .run()
        .success();
    let v = h
        .cmd("certgen")
        .args(["issue", "api.test", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v[0]["action"], "issued");
}

#[test]
fn status_reports_days_left_and_exits_1_when_something_expires_soon() {
    let h = Harness::new();
    h.cmd("certgen")
        .args(["status"])
        .run()
        .code_is(1)
        .stderr_has("certgen init");
    init(&h);
    h.cmd("certgen")
        .args(["issue", "shop.test", "blog.test"])
        .run()
        .success();
    let v = h
        .cmd("certgen")
        .args(["status", "--json", "--no-nss", "--root", s(h.path())])
        .run()
        .success()
        .json();
    assert_eq!(v["ca"]["permitted_dns"][0], "test");
    let certs = v["certs"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    assert!(
        certs
            .iter()
            .all(|c| c["state"] == "valid" && c["days_left"].as_i64().unwrap() >= 395),
        "{v}"
    );
    // status is one report: --json only; `--format json` (the old
    // spelling) still works, other formats are refused.
    let legacy = h
        .cmd("certgen")
        .args(["status", "--format", "json", "--no-nss"])
        .run()
        .success()
        .json();
    assert_eq!(legacy["certs"].as_array().unwrap().len(), 2);
    h.cmd("certgen")
        .args(["status", "--format", "csv", "--no-nss"])
        .run()
        .code_is(2)
        .stderr_has("csv");
    h.cmd("certgen")
        .args(["status", "--within", "400d", "--no-nss"])
        .run()
        .code_is(1);
    h.cmd("certgen")
        .args(["issue", "blog.test", "--days", "5", "--force"])
        .run()
        .success();
    let r = h
        .cmd("certgen")
        .args(["status", "--json", "--no-nss"])
        .run()
        .code_is(1);
    let v = r.json();
    let blog = v["certs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["domain"] == "blog.test")
        .unwrap()
        .clone();
    assert_eq!(blog["state"], "expiring");
    // renew fixes it and leaves the other alone.
    let v = h
        .cmd("certgen")
        .args(["renew", "--within", "30d", "--json"])
        .run()
        .success()
        .json();
    let got: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["domain"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("blog.test", "issued"), ("shop.test", "kept")]);
    h.cmd("certgen")
        .args(["status", "--no-nss"])
        .run()
        .success();
}

#[test]
fn domains_outside_the_tlds_or_invalid_write_nothing() {
    let h = Harness::new();
    init(&h);
    let certs = h.home().join("certs");
    for (args, why) in [
        (
            vec!["issue", "shop.test", "example.com"],
            "outside the CA's names (test, localhost): example.com",
        ),
        (vec!["issue", "shop.test", "sh op.test"], "character ' '"),
        (vec!["issue", "a;rm -rf x.test"], "character ';'"),
        (vec!["issue", "*.shop.test"], "without '*.'"),
        (vec!["issue", "shop"], "under a dev TLD"),
        (vec!["issue", "../../etc.test"], "invalid domain"),
    ] {
        h.cmd("certgen")
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has(why);
        assert!(
            snapshot(&certs).is_empty() && !certs.exists(),
            "{args:?} wrote something"
        );
    }
    h.cmd("certgen")
        .args(["issue", "-"])
        .stdin(r#"[{"name":"shop"},{"name":"Bad Name"}]"#)
        .run()
        .code_is(2)
        .stderr_has("invalid project name");
    h.cmd("certgen")
        .args(["issue", "-"])
        .stdin(r#"[{"name":"shop",}"#)
        .run()
        .code_is(2)
        .stderr_has("invalid JSON in <stdin>");
    assert!(!certs.exists());
}

#[test]
fn a_missing_unreadable_or_foreign_ca_is_an_error_and_nothing_is_written() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .code_is(2)
        .stderr_has("no CA in")
        .stderr_has("certgen init");
    init(&h);
    let ca_dir = h.home().join("ca");
    let good = snapshot(&ca_dir);
    let certs = h.home().join("certs");
    let put_back = || {
        let _ = std::fs::remove_dir_all(&ca_dir);
        std::fs::create_dir_all(&ca_dir).unwrap();
        for (p, b) in &good {
            std::fs::write(p, b).unwrap();
        }
    };
    // A foreign CA without name constraints (made by openssl).
    let (code, out) = prog(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&ca_key(&h)),
            "-out",
            s(&ca_pem(&h)),
            "-subj",
            "/CN=Other CA",
            "-days",
            "30",
        ],
    );
    assert_eq!(code, 0, "{out}");
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .code_is(2)
        .stderr_has("foreign CA")
        .stderr_has("no DNS name constraints");
    h.cmd("certgen")
        .args(["trust", "--root", s(&h.path().join("root"))])
        .run()
        .code_is(2)
        .stderr_has("foreign CA");
    h.cmd("certgen")
        .args(["status"])
        .run()
        .code_is(2)
        .stderr_has("foreign CA");
    // A key that is not the CA's.
    put_back();
    let (code, out) = prog(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            s(&ca_key(&h)),
        ],
    );
    assert_eq!(code, 0, "{out}");
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .code_is(2)
        .stderr_has("does not belong to this certificate");
    // A leaf certificate (with its own key) where the CA should be.
    put_back();
    let other = Harness::new();
    init(&other);
    other
        .cmd("certgen")
        .args(["issue", "x.test"])
        .run()
        .success();
    std::fs::copy(other.home().join("certs/x.test/cert.pem"), ca_pem(&h)).unwrap();
    std::fs::copy(other.home().join("certs/x.test/key.pem"), ca_key(&h)).unwrap();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .code_is(2)
        .stderr_has("not a CA certificate");
    // Unreadable key (a folder where the file should be), and garbage.
    put_back();
    std::fs::remove_file(ca_key(&h)).unwrap();
    std::fs::create_dir(ca_key(&h)).unwrap();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .code_is(2)
        .stderr_has("cannot read")
        .stderr_has("ca-key.pem");
    put_back();
    std::fs::write(ca_pem(&h), "not a certificate\n").unwrap();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .code_is(2)
        .stderr_has("is not a PEM certificate");
    assert!(
        !certs.exists() || snapshot(&certs).is_empty(),
        "nothing may be written"
    );
}

/// A temp system root for update-ca-certificates and a HOME with a real NSS database.
fn trust_env(h: &Harness) -> (PathBuf, PathBuf, PathBuf) {
    let root = h.path().join("root");
    let home = h.path().join("userhome");
    let nssdb = home.join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let (code, out) = prog(
        "certutil",
        &[
            "-N",
            "-d",
            &format!("sql:{}", nssdb.display()),
            "--empty-password",
        ],
    );
    assert_eq!(code, 0, "{out}");
    (root, home, nssdb)
}

/// Seed the temp root like a real system: one other CA listed in ca-certificates.conf.
fn seed_system_root(h: &Harness, root: &Path) {
    let other = root.join("usr/share/ca-certificates/local/other.crt");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    let key = h.path().join("other.key");
    let (code, out) = prog(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&key),
            "-out",
            s(&other),
            "-subj",
            "/CN=Other Root",
            "-days",
            "30",
        ],
    );
    assert_eq!(code, 0, "{out}");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/ca-certificates.conf"), "local/other.crt\n").unwrap();
}

#[test]
fn trust_and_untrust_change_the_system_store_and_nss_with_the_real_tools() {
    if !require("update-ca-certificates") || !require("certutil") || !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .success();
    let (root, home, nssdb) = trust_env(&h);
    seed_system_root(&h, &root);
    let db = format!("sql:{}", nssdb.display());
    let trust = |sub: &str, extra: &[&str]| {
        h.cmd("certgen")
            .arg(sub)
            .args(["--root", s(&root), "--json"])
            .args(extra)
            .env("HOME", &home)
    };

    let v = trust("trust", &["--dry-run"]).run().success().json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "would-add"),
        "{v}"
    );
    assert!(
        !root.join("usr/local/share/ca-certificates").exists(),
        "--dry-run wrote"
    );
    assert!(
        !root.join("etc/ssl").exists(),
        "--dry-run ran update-ca-certificates"
    );

    let v = trust("trust", &[]).run().success().json();
    let places = v.as_array().unwrap();
    assert_eq!(places.len(), 2, "{v}");
    assert_eq!(
        (
            places[0]["store"].as_str(),
            places[0]["kind"].as_str(),
            places[0]["action"].as_str()
        ),
        (Some("system"), Some("debian"), Some("added"))
    );
    assert_eq!(
        (
            places[1]["store"].as_str(),
            places[1]["kind"].as_str(),
            places[1]["action"].as_str()
        ),
        (Some("nss"), Some("chromium"), Some("added"))
    );
    let installed = places[0]["path"].as_str().unwrap();
    assert!(
        installed.starts_with(s(&root.join("usr/local/share/ca-certificates/berth-")))
            && Path::new(installed).extension().is_some_and(|e| e == "crt"),
        "{installed}"
    );
    // update-ca-certificates put it in the bundle and the hashed folder: OpenSSL trusts the leaf through them.
    let bundle = root.join("etc/ssl/certs/ca-certificates.crt");
    let leaf = cert_dir(&h, "shop.test").join("cert.pem");
    let (code, out) = prog("openssl", &["verify", "-CAfile", s(&bundle), s(&leaf)]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = prog(
        "openssl",
        &[
            "verify",
            "-CApath",
            s(&root.join("etc/ssl/certs")),
            s(&leaf),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (_, list) = prog("certutil", &["-L", "-d", &db]);
    assert!(
        list.contains("berth development CA") && list.contains("C,,"),
        "{list}"
    );

    let v = trust("trust", &[]).run().success().json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "already"),
        "{v}"
    );
    let v = h
        .cmd("certgen")
        .args(["status", "--json", "--root", s(&root)])
        .env("HOME", &home)
        .run()
        .success()
        .json();
    let trusted: Vec<&str> = v["trusted"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["trusted"] == true)
        .map(|p| p["store"].as_str().unwrap())
        .collect();
    assert_eq!(trusted, ["system", "nss"], "{v}");

    // Untrust is destructive: off a terminal it needs --yes and changes nothing without.
    trust("untrust", &[])
        .run()
        .code_is(2)
        .stderr_has("certgen: error: remove the berth CA from the trust stores?")
        .stderr_has("hint: pass --yes");
    assert!(
        Path::new(installed).exists(),
        "a refused untrust leaves the CA trusted"
    );
    let v = trust("untrust", &["--yes"]).run().success().json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "removed" && p["trusted"] == false),
        "{v}"
    );
    assert!(!Path::new(installed).exists());
    let (code, _) = prog("openssl", &["verify", "-CAfile", s(&bundle), s(&leaf)]);
    assert_ne!(code, 0, "the bundle must no longer hold the CA");
    let bundle_text = std::fs::read_to_string(&bundle).unwrap();
    assert_eq!(
        bundle_text.matches("BEGIN CERTIFICATE").count(),
        1,
        "the other CA stays"
    );
    let (_, list) = prog("certutil", &["-L", "-d", &db]);
    assert!(!list.contains("berth development CA"), "{list}");
    let v = trust("untrust", &["--yes"]).run().success().json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "absent"),
        "{v}"
    );
}

#[test]
fn a_missing_trust_tool_is_an_error_and_nothing_is_written() {
    if !require("certutil") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let (root, home, nssdb) = trust_env(&h);
    let nss_before = snapshot(&nssdb);
    // A PATH without update-ca-certificates, update-ca-trust or trust.
    let empty = h.path().join("emptybin");
    std::fs::create_dir_all(&empty).unwrap();
    h.cmd("certgen")
        .args(["trust", "--root", s(&root)])
        .env("HOME", &home)
        .env("PATH", &empty)
        .run()
        .code_is(2)
        .stderr_has("no tool to change the system trust store")
        .stderr_has("hint: install ca-certificates");
    assert!(!root.exists(), "nothing may be written under the root");
    assert_eq!(
        snapshot(&nssdb),
        nss_before,
        "the NSS database must be untouched"
    );
}

#[test]
fn the_system_store_needs_root_and_says_so() {
    if !require("setpriv") || !require("update-ca-certificates") {
        return;
    }
    if !common::is_root() {
        common::missing("root, to drop privileges");
        return;
    }
    let h = Harness::new();
    init(&h);
    // A copy of the CA that user nobody can read, and a HOME without NSS databases.
    let home = Path::new("/tmp").join(format!("certgen-nobody-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join("ca")).unwrap();
    for f in ["ca.pem", "ca-key.pem"] {
        std::fs::copy(h.home().join("ca").join(f), home.join("ca").join(f)).unwrap();
    }
    for p in [
        home.clone(),
        home.join("ca"),
        home.join("ca/ca.pem"),
        home.join("ca/ca-key.pem"),
    ] {
        std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    }
    // A copy of the binary user nobody can run wherever the work tree is.
    let exe = home.join("certgen");
    std::fs::copy(common::bin("certgen"), &exe).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["trust"])
        .env("BERTH_HOME", &home)
        .env("HOME", &home)
        .env_remove("BERTH_TRUST_ROOT")
        .timed_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs root") && stderr.contains("sudo"),
        "{stderr}"
    );
}

#[test]
fn an_rsa_ca_and_rsa_certificates_verify_too() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    let v = h
        .cmd("certgen")
        .args(["init", "--key", "rsa", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v["key"], "rsa-3072");
    assert_eq!(mode(&ca_key(&h)), 0o600);
    h.cmd("certgen")
        .args(["issue", "--key", "rsa", "shop.test"])
        .run()
        .success();
    let cert = cert_dir(&h, "shop.test").join("cert.pem");
    let (code, out) = prog(
        "openssl",
        &[
            "verify",
            "-CAfile",
            s(&ca_pem(&h)),
            "-verify_hostname",
            "api.shop.test",
            s(&cert),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (_, text) = prog("openssl", &["x509", "-in", s(&cert), "-noout", "-text"]);
    assert!(
        text.contains("Public-Key: (2048 bit)") && text.contains("sha256WithRSAEncryption"),
        "{text}"
    );
    let (forged, _) = forge(&h, "example.com");
    let (code, out) = prog(
        "openssl",
        &["verify", "-CAfile", s(&ca_pem(&h)), s(&forged)],
    );
    assert!(
        code != 0 && out.contains("permitted subtree violation"),
        "{out}"
    );
}

#[test]
fn a_broken_certificate_is_reported_and_reissued() {
    let h = Harness::new();
    init(&h);
    h.cmd("certgen")
        .args(["issue", "shop.test", "blog.test", "api.test"])
        .run()
        .success();
    // As a crash could leave them: an empty chain, a key from elsewhere, garbage.
    std::fs::write(cert_dir(&h, "shop.test").join("fullchain.pem"), "").unwrap();
    std::fs::copy(
        cert_dir(&h, "api.test").join("key.pem"),
        cert_dir(&h, "blog.test").join("key.pem"),
    )
    .unwrap();
    std::fs::write(cert_dir(&h, "api.test").join("cert.pem"), "-----BEGIN CERT").unwrap();
    let v = h
        .cmd("certgen")
        .args(["status", "--json", "--no-nss"])
        .run()
        .code_is(1)
        .json();
    let states: Vec<(&str, &str)> = v["certs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["domain"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("api.test", "broken"),
            ("blog.test", "broken"),
            ("shop.test", "broken")
        ]
    );
    let v = h
        .cmd("certgen")
        .args(["renew", "--json"])
        .run()
        .success()
        .json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "issued"),
        "{v}"
    );
    h.cmd("certgen")
        .args(["status", "--no-nss"])
        .run()
        .success();
}

#[test]
fn localhost_gets_the_loopback_addresses() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let v = h
        .cmd("certgen")
        .args(["issue", "localhost", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(
        v[0]["sans"],
        serde_json::json!(["localhost", "127.0.0.1", "::1"])
    );
    let cert = cert_dir(&h, "localhost").join("cert.pem");
    for check in [
        ["-verify_hostname", "localhost"],
        ["-verify_ip", "127.0.0.1"],
        ["-verify_ip", "::1"],
    ] {
        let (code, out) = prog(
            "openssl",
            &[
                "verify",
                "-CAfile",
                s(&ca_pem(&h)),
                check[0],
                check[1],
                s(&cert),
            ],
        );
        assert_eq!(code, 0, "{check:?}: {out}");
    }
    // Kept on the next run: the addresses are read back from the certificate.
    let v = h
        .cmd("certgen")
        .args(["issue", "localhost", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v[0]["action"], "kept");
}

#[test]
fn registry_list_pipes_into_certgen_issue() {
    let h = Harness::new();
    init(&h);
    for name in ["shop", "blog"] {
        let dir = h.project(name, &["5432"]);
        h.cmd("registry")
            .args([
                "add",
                s(&dir),
                "--port",
                if name == "shop" { "5101" } else { "5102" },
            ])
            .run()
            .success();
    }
    let r = h
        .sh("registry list --json | certgen issue - --json")
        .run()
        .success();
    let v = r.json();
    let mut sorted: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["domain"].as_str().unwrap())
        .collect();
    sorted.sort_unstable();
    assert_eq!(sorted, ["blog.test", "shop.test"]);
    for d in sorted {
        assert!(cert_dir(&h, d).join("fullchain.pem").is_file());
    }
}

#[test]
fn init_rejects_a_bad_tld_and_writes_nothing() {
    let h = Harness::new();
    for bad in ["te st", "-x", "a..b", "x;y"] {
        h.cmd("certgen")
            .args(["init", &format!("--tld={bad}")])
            .run()
            .code_is(2)
            .stderr_has("invalid --tld");
        assert!(!h.home().join("ca").exists(), "{bad}");
    }
}

#[test]
fn concurrent_issues_never_mix_a_key_with_another_certificate() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let children: Vec<Child> = (0..8)
        .map(|_| {
            Command::new(common::bin("certgen"))
                .args(["issue", "--force", "shop.test", "blog.test", "api.test"])
                .env("BERTH_HOME", h.home())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.timed_wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for d in ["shop.test", "blog.test", "api.test"] {
        let dir = cert_dir(&h, d);
        let (_, pub_cert) = prog(
            "openssl",
            &["x509", "-in", s(&dir.join("cert.pem")), "-noout", "-pubkey"],
        );
        let (_, pub_key) = prog(
            "openssl",
            &["pkey", "-in", s(&dir.join("key.pem")), "-pubout"],
        );
        assert_eq!(
            pub_cert, pub_key,
            "{d}: key and certificate from different runs"
        );
        let chain = std::fs::read_to_string(dir.join("fullchain.pem")).unwrap();
        assert!(
            chain.starts_with(&std::fs::read_to_string(dir.join("cert.pem")).unwrap()),
            "{d}"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{d}: temp files left: {leftovers:?}");
    }
    h.cmd("certgen")
        .args(["status", "--no-nss"])
        .run()
        .success();
}

#[test]
fn untrust_also_removes_an_earlier_ca() {
    if !require("update-ca-certificates") || !require("certutil") || !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let (root, home, nssdb) = trust_env(&h);
    seed_system_root(&h, &root);
    let args = ["--root", s(&root), "--json"];
    h.cmd("certgen")
        .arg("trust")
        .args(args)
        .env("HOME", &home)
        .run()
        .success();
    h.cmd("certgen")
        .args(["init", "--force", "--yes"])
        .run()
        .success();
    let v = h
        .cmd("certgen")
        .args(["untrust", "--yes"])
        .args(args)
        .env("HOME", &home)
        .run()
        .success()
        .json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] == "removed"),
        "{v}"
    );
    let local = root.join("usr/local/share/ca-certificates");
    assert_eq!(
        std::fs::read_dir(&local).unwrap().count(),
        0,
        "the earlier CA's file stays"
    );
    let (_, list) = prog(
        "certutil",
        &["-L", "-d", &format!("sql:{}", nssdb.display())],
    );
    assert!(!list.contains("berth development CA"), "{list}");
}

/// Issue #14: a leaked CA key signs only TLS server certificates for the dev
/// names. Each leaf is forged with the CA key as a thief would (openssl x509
/// -req with extensions) and checked by the real OpenSSL and NSS verifiers.
#[test]
fn a_leaked_ca_key_signs_only_tls_server_certificates_for_the_dev_names() {
    if !require("openssl") || !require("vfychain") || !require("certutil") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let ca = ca_pem(&h);
    // NSS trusts the CA as `certgen trust` adds it (C,,: a CA for TLS servers).
    let nss = h.path().join("nssdb");
    std::fs::create_dir(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let (code, out) = prog("certutil", &["-N", "-d", &db, "--empty-password"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = prog(
        "certutil",
        &["-A", "-d", &db, "-n", "berth", "-t", "C,,", "-i", s(&ca)],
    );
    assert_eq!(code, 0, "{out}");
    // vfychain usages: 0 TLS client, 1 TLS server, 4 email signer.
    let nss_verify = |cert: &Path, usage: &str| {
        let (_, out) = prog("vfychain", &["-d", &db, "-a", "-u", usage, s(cert)]);
        (out.contains("Chain is good"), out)
    };
    let cases: &[(&str, &str, &str, &str, &str, &str)] = &[
        // tag, subject, extensions, openssl -purpose, openssl error, vfychain usage
        (
            "email-san",
            "/",
            "subjectAltName=DNS:x.test,email:boss@bank.com\nextendedKeyUsage=serverAuth",
            "any",
            "permitted subtree violation",
            "1",
        ),
        (
            "email-invalid",
            "/",
            "subjectAltName=DNS:x.test,email:a@invalid",
            "any",
            "excluded subtree violation",
            "1",
        ),
        (
            "uri-san",
            "/",
            "subjectAltName=DNS:x.test,URI:https://x.test/",
            "any",
            "permitted subtree violation",
            "1",
        ),
        (
            "uri-invalid",
            "/",
            "subjectAltName=DNS:x.test,URI:https://invalid/",
            "any",
            "excluded subtree violation",
            "1",
        ),
        (
            "client-auth",
            "/",
            "subjectAltName=DNS:x.test\nextendedKeyUsage=clientAuth",
            "sslclient",
            "unsuitable certificate purpose",
            "0",
        ),
        (
            "email-protection",
            "/",
            "subjectAltName=DNS:x.test\nextendedKeyUsage=emailProtection",
            "smimesign",
            "unsuitable certificate purpose",
            "4",
        ),
        (
            "smime",
            "/",
            "subjectAltName=email:a@x.test\nextendedKeyUsage=emailProtection",
            "smimesign",
            "unsuitable certificate purpose",
            "4",
        ),
        (
            "outside",
            "/",
            "subjectAltName=DNS:google.com\nextendedKeyUsage=serverAuth",
            "sslserver",
            "permitted subtree violation",
            "1",
        ),
        (
            "directory-name",
            "/O=Bank/CN=x.test",
            "subjectAltName=DNS:x.test\nextendedKeyUsage=serverAuth",
            "sslserver",
            "permitted subtree violation",
            "1",
        ),
    ];
    let mut failures = Vec::new();
    for (tag, subject, ext, purpose, why, usage) in cases {
        let cert = forge_with(&h, tag, subject, ext);
        let (code, out) = prog(
            "openssl",
            &["verify", "-purpose", purpose, "-CAfile", s(&ca), s(&cert)],
        );
        if code == 0 || !out.contains(why) {
            failures.push(format!("openssl -purpose {purpose} {tag}: {out}"));
        }
        let (good, out) = nss_verify(&cert, usage);
        if good {
            failures.push(format!("vfychain -u {usage} {tag}: {out}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A proper server leaf for a dev name verifies with both, as does certgen's own.
    let proper = forge_with(
        &h,
        "proper",
        "/",
        "subjectAltName=DNS:x.test\nextendedKeyUsage=serverAuth",
    );
    h.cmd("certgen").args(["issue", "x.test"]).run().success();
    let issued = cert_dir(&h, "x.test").join("cert.pem");
    for cert in [&proper, &issued] {
        let (code, out) = prog(
            "openssl",
            &[
                "verify",
                "-purpose",
                "sslserver",
                "-CAfile",
                s(&ca),
                s(cert),
            ],
        );
        assert_eq!(code, 0, "{out}");
        let (good, out) = nss_verify(cert, "1");
        assert!(good, "{}: {out}", cert.display());
    }
    let r = h.cmd("certgen").args(["status", "--json"]).run().success();
    assert_eq!(r.json()["ca"]["missing_limits"], serde_json::json!([]));
    assert!(!r.stderr.contains("lacks"), "{}", r.stderr);
}

/// Issue #14: `init --tld com` made a CA that signs google.com.
#[test]
fn init_refuses_a_public_tld_unless_allowed_and_then_names_the_risk() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    let before = snapshot(&h.home().join("ca"));
    h.cmd("certgen")
        .args(["init", "--force", "--yes", "--tld", "com"])
        .run()
        .code_is(2)
        .stderr_has("certgen: error: refusing --tld 'com': com is not reserved for private use")
        .stderr_has("hint: ")
        .stderr_has("--allow-public-tld");
    h.cmd("certgen")
        .args(["init", "--force", "--yes", "--tld", "Shop.Example.COM."])
        .run()
        .code_is(2)
        .stderr_has("example.com is not reserved");
    // The config's tld is checked the same way, naming the file.
    let config = h.write("home/config.yaml", "tld: dev\n");
    h.cmd("certgen")
        .args(["init", "--force", "--yes"])
        .run()
        .code_is(2)
        .stderr_has(&format!("refusing tld 'dev' in {}", config.display()));
    assert_eq!(
        snapshot(&h.home().join("ca")),
        before,
        "the CA is untouched"
    );

    // A name the user declares private in config is accepted.
    h.write(
        "home/config.yaml",
        "tld: internal\nreserved_tlds: [corp.example.com]\n",
    );
    let r = h
        .cmd("certgen")
        .args([
            "init",
            "--force",
            "--yes",
            "--tld",
            "corp.example.com",
            "--tld",
            "home.arpa",
            "--json",
        ])
        .run()
        .success();
    assert_eq!(
        r.json()["permitted_dns"],
        serde_json::json!([
            "internal",
            "test",
            "localhost",
            "corp.example.com",
            "home.arpa"
        ])
    );
    assert_eq!(r.json()["public_names"], serde_json::json!([]));
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);

    // --allow-public-tld makes it, with a warning naming the risk; status keeps saying so.
    std::fs::remove_file(h.home().join("config.yaml")).unwrap();
    let r = h
        .cmd("certgen")
        .args([
            "init",
            "--force",
            "--yes",
            "--tld",
            "com",
            "--allow-public-tld",
            "--json",
        ])
        .run()
        .success()
        .stderr_has("certgen: warning: the CA may sign for public names (com)")
        .stderr_has("impersonate");
    assert_eq!(r.json()["public_names"], serde_json::json!(["com"]));
    h.cmd("certgen")
        .args(["issue", "google.com"])
        .run()
        .success();
    let (code, out) = prog(
        "openssl",
        &[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            s(&ca_pem(&h)),
            s(&cert_dir(&h, "google.com").join("cert.pem")),
        ],
    );
    assert_eq!(code, 0, "the flag does what it says: {out}");
    h.cmd("certgen")
        .args(["status"])
        .run()
        .code_is(1)
        .stderr_has("may sign for public names (com)")
        .stderr_has("certgen init --force");
}

/// Issue #14: a CA made before the constraints is reported by `status`, with
/// how to re-create it, and never replaced behind the user's back.
#[test]
fn status_says_an_older_ca_lacks_the_constraints_and_keeps_it() {
    if !require("openssl") {
        return;
    }
    let h = Harness::new();
    // What certgen made before: name constraints on DNS and IP only, no EKU.
    let dir = h.home().join("ca");
    std::fs::create_dir_all(&dir).unwrap();
    let cnf = h.write(
        "old-ca.cnf",
        "[req]\ndistinguished_name=dn\nx509_extensions=v3\nprompt=no\n[dn]\nO=berth\nCN=berth development CA (old)\n\
         [v3]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n\
         nameConstraints=critical,permitted;DNS:test,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0\n",
    );
    let (code, out) = prog(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "3650",
            "-config",
            s(&cnf),
            "-keyout",
            s(&ca_key(&h)),
            "-out",
            s(&ca_pem(&h)),
        ],
    );
    assert_eq!(code, 0, "{out}");
    std::fs::set_permissions(ca_key(&h), std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = snapshot(&dir);
    let r = h
        .cmd("certgen")
        .args(["status"])
        .run()
        .code_is(1)
        .stderr_has("certgen: warning: the CA at")
        .stderr_has("lacks the constraints certgen now sets (server-auth-only, no-email, no-uri, no-directory-name)")
        .stderr_has("hint: re-create it with `certgen init --force`");
    assert!(
        r.stdout.contains("lacks       server-auth-only"),
        "{}",
        r.stdout
    );
    let r = h.cmd("certgen").args(["status", "--json"]).run().code_is(1);
    assert_eq!(
        r.json()["ca"]["missing_limits"],
        serde_json::json!([
            "server-auth-only",
            "no-email",
            "no-uri",
            "no-directory-name"
        ])
    );
    // It still issues (with the same warning) and is never replaced.
    h.cmd("certgen")
        .args(["issue", "x.test"])
        .run()
        .success()
        .stderr_has("lacks the constraints");
    let (code, out) = prog(
        "openssl",
        &[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            s(&ca_pem(&h)),
            s(&cert_dir(&h, "x.test").join("cert.pem")),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(snapshot(&dir), before, "the old CA is kept as it was");
}

/// Go's verifier (Caddy's reverse proxy as a TLS client) accepts the CA (its
/// name constraints are not critical, which Go needs for a directory name)
/// and still enforces them: a certgen leaf is trusted, a forged google.com is not.
#[test]
fn go_trusts_certgen_leaves_and_refuses_a_forged_one() {
    if !require("openssl") || !require("caddy") || !require("curl") {
        return;
    }
    let h = Harness::new();
    init(&h);
    h.cmd("certgen").args(["issue", "x.test"]).run().success();
    let forged = forge_with(
        &h,
        "google",
        "/",
        "subjectAltName=DNS:google.com\nextendedKeyUsage=serverAuth",
    );
    let chain = |cert: &Path| {
        let mut pem = std::fs::read_to_string(cert).unwrap();
        pem.push_str(&std::fs::read_to_string(ca_pem(&h)).unwrap());
        pem
    };
    let forged_chain = h.write("forged-google.chain", &chain(&forged));
    let leaf = cert_dir(&h, "x.test");
    let mut ports = Vec::new();
    while ports.len() < 4 {
        let p = free_port();
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    let [good, bad, via_good, via_bad] = [ports[0], ports[1], ports[2], ports[3]];
    let config = h.write(
        "Caddyfile",
        &format!(
            "{{\n  admin off\n  auto_https disable_redirects\n  skip_install_trust\n  storage file_system {data}\n}}\n\
             https://x.test:{good} {{\n  bind 127.0.0.1\n  tls {full} {key}\n  respond \"x.test over TLS\"\n}}\n\
             https://google.com:{bad} {{\n  bind 127.0.0.1\n  tls {fchain} {fkey}\n  respond \"forged\"\n}}\n\
             http://127.0.0.1:{via_good} {{\n  bind 127.0.0.1\n  reverse_proxy https://127.0.0.1:{good} {{\n    header_up Host x.test\n    transport http {{\n      tls_trusted_ca_certs {ca}\n      tls_server_name x.test\n    }}\n  }}\n}}\n\
             http://127.0.0.1:{via_bad} {{\n  bind 127.0.0.1\n  reverse_proxy https://127.0.0.1:{bad} {{\n    header_up Host google.com\n    transport http {{\n      tls_trusted_ca_certs {ca}\n      tls_server_name google.com\n    }}\n  }}\n}}\n",
            data = s(&h.path().join("caddy-data")),
            full = s(&leaf.join("fullchain.pem")),
            key = s(&leaf.join("key.pem")),
            fchain = s(&forged_chain),
            fkey = s(&h.path().join("forged-google.key")),
            ca = s(&ca_pem(&h)),
        ),
    );
    let log = h.path().join("caddy.log");
    let home = h.path().join("caddy-home");
    let _caddy = Kill(
        Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config", s(&config)])
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start caddy"),
    );
    let get = |port: u16| {
        let (_, out) = prog(
            "curl",
            &[
                "-sS",
                "--max-time",
                "5",
                "-w",
                "\n%{http_code}",
                &format!("http://127.0.0.1:{port}/"),
            ],
        );
        out
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut answer = get(via_good);
    while !answer.ends_with("200") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        answer = get(via_good);
    }
    let logged = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        answer.starts_with("x.test over TLS") && answer.ends_with("200"),
        "{answer}\n{}",
        logged()
    );
    let answer = get(via_bad);
    assert!(answer.ends_with("502"), "{answer}");
    assert!(
        logged().contains("not authorized to sign for this name"),
        "{}",
        logged()
    );
}
