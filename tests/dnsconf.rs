//! dnsconf: the generated configurations against the real dnsmasq, the hosts
//! block round trip under --root, name checks, and bad input.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Kill, Timed as _, TimedChild as _, require};

const PROJECTS: &str = r#"[
  {"name":"shop","domain":"shop.test","port":5003,"services":["web","adminer","mailpit"]},
  {"name":"blog","port":5010}
]"#;

/// dnsmasq lives in /usr/sbin, which a non-login PATH may lack.
fn dnsmasq() -> &'static str {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("dnsmasq").is_file()));
    if on_path || !Path::new("/usr/sbin/dnsmasq").is_file() {
        "dnsmasq"
    } else {
        "/usr/sbin/dnsmasq"
    }
}

/// A port nothing listens on right now, on UDP and TCP alike (dnsmasq takes
/// both: a port free for one and busy for the other makes it exit).
fn free_dns_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts dnsmasq with `conf` on a free loopback port (only that file, no
/// upstream, no /etc/hosts) and waits until it answers for `name`. A port
/// taken between the pick and dnsmasq's bind makes dnsmasq exit at once:
/// then it starts again on another port, up to 5 times. Fails the test after
/// 10 s per try with dnsmasq's own words and dnsconf's last error.
fn start_dnsmasq(h: &Harness, conf: &Path, name: &str) -> (Kill, String) {
    let log = h.path().join("dnsmasq.log");
    for _ in 0..5 {
        let port = free_dns_port();
        let child = Command::new(dnsmasq())
            .arg("--no-daemon")
            .arg(format!("--conf-file={}", conf.display()))
            .arg(format!("--port={port}"))
            .args([
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
            ])
            .arg(format!(
                "--pid-file={}",
                h.path().join("dnsmasq.pid").display()
            ))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start dnsmasq");
        let mut child = Kill(child);
        let server = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = h
                .cmd("dnsconf")
                .args(["test", name, "--server", &server, "--timeout", "300ms"])
                .run();
            if r.code == 0 {
                return (child, server);
            }
            if child.0.try_wait().unwrap().is_some() {
                break; // exited: try another port
            }
            assert!(
                Instant::now() < deadline,
                "dnsmasq never answered: {}\ndnsmasq said: {}",
                r.stderr,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!(
        "dnsmasq exited on 5 ports in turn; its last words: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

#[test]
fn generated_dnsmasq_config_makes_the_real_dnsmasq_answer_the_whole_tld() {
    if !require(dnsmasq()) {
        return;
    }
    let h = Harness::new();
    let run = h.cmd("dnsconf").args(["print", "dnsmasq"]).run().success();
    assert!(
        run.stdout.lines().any(|l| l == "address=/test/127.0.0.1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().any(|l| l == "address=/test/::1"),
        "{}",
        run.stdout
    );
    let conf = h.write("berth.conf", &run.stdout);

    let (_dnsmasq, server) = start_dnsmasq(&h, &conf, "shop.test");
    for name in ["shop.test", "x.shop.test", "db.shop.test", "test"] {
        let r = h
            .cmd("dnsconf")
            .args(["test", name, "--server", &server, "--json"])
            .run()
            .success();
        let v = r.json();
        assert_eq!(v["name"], name);
        assert_eq!(v["loopback"], true);
        let addrs: Vec<&str> = v["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(
            addrs.contains(&"127.0.0.1") && addrs.contains(&"::1"),
            "{name}: {addrs:?}"
        );
    }
    // A name outside the TLD is not answered (dnsmasq has no upstream): exit 1.
    for name in ["example.com", "shop.dev", "testx"] {
        h.cmd("dnsconf")
            .args(["test", name, "--server", &server])
            .run()
            .code_is(1)
            .stderr_has("does not resolve");
    }
    // status probes through the same server.
    let r = h
        .cmd("dnsconf")
        .args(["status", "--json", "--root"])
        .arg(h.path().join("root"))
        .args(["--server", &server])
        .run()
        .success();
    assert_eq!(r.json()["probe"]["name"], "test-probe.test");
    assert_eq!(r.json()["probe"]["loopback"], true);
}

#[test]
fn another_tld_and_addresses() {
    if !require(dnsmasq()) {
        return;
    }
    let h = Harness::new();
    let run = h
        .cmd("dnsconf")
        .args([
            "print",
            "dnsmasq",
            "--tld",
            "internal",
            "--address",
            "127.0.0.2",
            "--listen",
            "127.0.0.1",
        ])
        .run()
        .success();
    assert!(
        run.stdout
            .contains("\naddress=/internal/127.0.0.2\nlisten-address=127.0.0.1\nbind-interfaces\n")
            && !run.stdout.contains("::1"),
        "{}",
        run.stdout
    );
    // dnsmasq's own syntax check accepts it.
    let conf = h.write("berth.conf", &run.stdout);
    let out = Command::new(dnsmasq())
        .arg("--test")
        .arg(format!("--conf-file={}", conf.display()))
        .timed_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (_dnsmasq, server) = start_dnsmasq(&h, &conf, "a.internal");
    let r = h
        .cmd("dnsconf")
        .args(["test", "a.internal", "--server", &server])
        .run()
        .success();
    assert_eq!(r.stdout, "127.0.0.2\n");
    h.cmd("dnsconf")
        .args(["test", "shop.test", "--server", &server])
        .run()
        .code_is(1);
}

#[test]
fn resolved_dropin_routes_only_the_tld() {
    let h = Harness::new();
    let r = h.cmd("dnsconf").args(["print", "resolved"]).run().success();
    assert!(
        r.stdout
            .contains("[Resolve]\nDNS=127.0.0.1\nDomains=~test\n"),
        "{}",
        r.stdout
    );
    let r = h
        .cmd("dnsconf")
        .args([
            "print",
            "resolved",
            "--tld",
            "internal",
            "--dns-port",
            "5353",
        ])
        .run()
        .success();
    assert!(
        r.stdout.contains("DNS=127.0.0.1:5353\nDomains=~internal\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn system_resolver_check() {
    let h = Harness::new();
    // localhost is loopback on every machine (RFC 6761); .invalid never resolves.
    h.cmd("dnsconf")
        .args(["test", "localhost"])
        .run()
        .success()
        .stdout_has("127.0.0.1");
    h.cmd("dnsconf")
        .args(["test", "nothing.invalid"])
        .run()
        .code_is(1)
        .stderr_has("does not resolve through the system resolver");
}

fn hosts_path(root: &Path) -> PathBuf {
    root.join("etc/hosts")
}

#[test]
fn hosts_block_install_reinstall_change_uninstall_keeps_the_rest_byte_for_byte() {
    let h = Harness::new();
    let root = h.path().join("root");
    // Tabs, comments, a blank line, trailing spaces and no newline at the end.
    let original =
        "127.0.0.1\tlocalhost\n::1     localhost ip6-localhost   \n\n# keep me\n10.0.0.5 nas.lan";
    h.write("root/etc/hosts", original);

    let install = |input: &str| {
        h.cmd("dnsconf")
            .args(["install", "hosts", "--root"])
            .arg(&root)
            .stdin(input)
            .run()
            .success();
        std::fs::read_to_string(hosts_path(&root)).unwrap()
    };
    let once = install(PROJECTS);
    assert!(
        once.starts_with(original),
        "the original bytes come first:\n{once}"
    );
    assert!(once.contains("\n# >>> berth >>>\n"), "{once}");
    assert!(
        once.contains("127.0.0.1\tblog.test\n127.0.0.1\tshop.test db.shop.test mail.shop.test\n"),
        "{once}"
    );
    assert!(once.ends_with("# <<< berth <<<\n"), "{once}");

    let twice = install(PROJECTS);
    assert_eq!(once, twice, "installing again changes nothing");
    assert_eq!(twice.matches("# >>> berth >>>").count(), 1);

    let changed = install(r#"{"name":"api","port":5020}"#);
    assert_eq!(changed.matches("# >>> berth >>>").count(), 1);
    assert!(
        changed.contains("127.0.0.1\tapi.test\n") && !changed.contains("shop.test"),
        "{changed}"
    );
    assert!(changed.starts_with(original));

    // A block in the middle stays where it is; what follows it is kept too.
    let with_tail = format!("{changed}# added by hand after the block\n");
    std::fs::write(hosts_path(&root), &with_tail).unwrap();
    let again = install(PROJECTS);
    assert!(
        again.ends_with("# <<< berth <<<\n# added by hand after the block\n"),
        "{again}"
    );

    h.cmd("dnsconf")
        .args(["uninstall", "hosts", "--yes", "--root"])
        .arg(&root)
        .run()
        .success();
    let after = std::fs::read_to_string(hosts_path(&root)).unwrap();
    assert_eq!(
        after,
        format!("{original}\n# added by hand after the block\n")
    );

    // Without the hand-added line, uninstall gives back the original exactly.
    std::fs::write(hosts_path(&root), original).unwrap();
    install(PROJECTS);
    h.cmd("dnsconf")
        .args(["uninstall", "hosts", "--yes", "--root"])
        .arg(&root)
        .run()
        .success();
    assert_eq!(
        std::fs::read_to_string(hosts_path(&root)).unwrap(),
        original
    );
    // Uninstalling again is a no-op.
    h.cmd("dnsconf")
        .args(["uninstall", "hosts", "--yes", "--root"])
        .arg(&root)
        .run()
        .success()
        .stderr_has("no berth block");
    assert_eq!(
        std::fs::read_to_string(hosts_path(&root)).unwrap(),
        original
    );
}

#[test]
fn dropins_install_status_dry_run_and_uninstall_under_root() {
    let h = Harness::new();
    let root = h.path().join("root");
    let dnsmasq = root.join("etc/dnsmasq.d/berth.conf");
    let resolved = root.join("etc/systemd/resolved.conf.d/berth.conf");

    let dry = h
        .cmd("dnsconf")
        .args(["install", "dnsmasq", "--dry-run", "--root"])
        .arg(&root)
        .run()
        .success();
    assert!(dry.stdout.contains("address=/test/127.0.0.1"));
    assert!(!root.exists(), "dry run writes nothing");

    for kind in ["dnsmasq", "resolved"] {
        h.cmd("dnsconf")
            .args(["install", kind, "--root"])
            .arg(&root)
            .run()
            .success()
            .stderr_has("wrote");
        h.cmd("dnsconf")
            .args(["install", kind, "--root"])
            .arg(&root)
            .run()
            .success()
            .stderr_has("up to date");
    }
    let generated = h
        .cmd("dnsconf")
        .args(["print", "dnsmasq"])
        .run()
        .success()
        .stdout;
    assert_eq!(std::fs::read_to_string(&dnsmasq).unwrap(), generated);
    assert!(
        std::fs::read_to_string(&resolved)
            .unwrap()
            .contains("Domains=~test")
    );

    let status = h
        .cmd("dnsconf")
        .args(["status", "--json", "--root"])
        .arg(&root)
        .run();
    assert!(status.code == 0 || status.code == 1, "{}", status.stderr);
    let v = status.json();
    let configs = v["configs"].as_array().unwrap();
    let state: Vec<(&str, bool)> = configs
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap(),
                c["installed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        state,
        [("dnsmasq", true), ("resolved", true), ("hosts", false)]
    );

    // Removing is destructive: off a terminal it needs --yes, and without it
    // nothing changes; the dry run says on stdout what would go.
    h.cmd("dnsconf")
        .args(["uninstall", "dnsmasq", "--root"])
        .arg(&root)
        .run()
        .code_is(2)
        .stderr_has("dnsconf: error: remove ")
        .stderr_has("hint: pass --yes");
    assert!(dnsmasq.exists(), "refused uninstall removed nothing");
    h.cmd("dnsconf")
        .args(["uninstall", "dnsmasq", "--dry-run", "--root"])
        .arg(&root)
        .run()
        .success()
        .stdout_has("would remove");
    assert!(dnsmasq.exists(), "dry run removed nothing");
    // The old verb is a hidden alias of `print`.
    let old = h
        .cmd("dnsconf")
        .args(["generate", "dnsmasq"])
        .run()
        .success()
        .stdout;
    assert_eq!(old, generated);
    // --quiet: no "is already up to date" line.
    let quiet = h
        .cmd("dnsconf")
        .args(["-q", "install", "dnsmasq", "--root"])
        .arg(&root)
        .run()
        .success();
    assert_eq!(quiet.stderr, "", "--quiet prints no informational line");
    for kind in ["dnsmasq", "resolved"] {
        h.cmd("dnsconf")
            .args(["uninstall", kind, "--yes", "--root"])
            .arg(&root)
            .run()
            .success()
            .stderr_has("removed");
    }
    assert!(!dnsmasq.exists() && !resolved.exists());
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let h = Harness::new();
    let root = h.path().join("root");
    let original = "127.0.0.1 localhost\n";
    h.write("root/etc/hosts", original);
    let hosts = hosts_path(&root);

    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["install", "hosts"],
            "[{\"name\":\"shop\",",
            "invalid JSON in <stdin>",
        ),
        (
            &["install", "hosts"],
            r#"{"name":"Shop_1"}"#,
            "invalid project name 'Shop_1'",
        ),
        (
            &["install", "hosts"],
            r#"{"name":"evil","domain":"example.com"}"#,
            "outside the dev TLD",
        ),
        (
            &["install", "hosts"],
            r#"{"name":"a","domain":"x.test"} {"name":"b","domain":"x.test"}"#,
            "both claim",
        ),
        (
            &["install", "hosts", "--tld", "Te_st"],
            r#"{"name":"shop"}"#,
            "invalid dev TLD",
        ),
        (
            &["install", "dnsmasq", "--tld", "a.b"],
            "",
            "invalid dev TLD",
        ),
        (
            &["install", "dnsmasq", "--tld", ""],
            "",
            "must not be empty",
        ),
    ];
    for (args, input, message) in cases {
        h.cmd("dnsconf")
            .args(*args)
            .arg("--root")
            .arg(&root)
            .stdin(*input)
            .run()
            .code_is(2)
            .stderr_has(message);
        assert_eq!(
            std::fs::read_to_string(&hosts).unwrap(),
            original,
            "{args:?}"
        );
        assert!(!root.join("etc/dnsmasq.d").exists(), "{args:?}");
    }
    h.cmd("dnsconf")
        .args(["print", "hosts"])
        .stdin("not json")
        .run()
        .code_is(2)
        .stderr_has("invalid JSON");

    // A hosts file whose berth markers are broken is never guessed at.
    let broken = "127.0.0.1 localhost\n# >>> berth >>>\n127.0.0.1 shop.test\n";
    std::fs::write(&hosts, broken).unwrap();
    for verb in ["install", "uninstall"] {
        h.cmd("dnsconf")
            .args([verb, "hosts", "--root"])
            .arg(&root)
            .stdin(PROJECTS)
            .run()
            .code_is(2)
            .stderr_has("malformed berth block");
        assert_eq!(std::fs::read_to_string(&hosts).unwrap(), broken);
    }

    for name in ["bad_name.test", "-x.test", "a..test"] {
        h.cmd("dnsconf")
            .args(["test", "--", name])
            .run()
            .code_is(2)
            .stderr_has("invalid hostname");
    }
    h.cmd("dnsconf")
        .args(["test", "shop.test", "--server", "not-an-address"])
        .run()
        .code_is(2);
    h.cmd("dnsconf").args(["print", "bind9"]).run().code_is(2);
}

#[test]
fn a_server_that_is_not_there_is_an_error_not_a_failed_check() {
    let h = Harness::new();
    let port = free_dns_port();
    h.cmd("dnsconf")
        .args([
            "test",
            "shop.test",
            "--server",
            &format!("127.0.0.1:{port}"),
            "--timeout",
            "500ms",
        ])
        .run()
        .code_is(2)
        .stderr_has("127.0.0.1");
}

#[test]
fn without_permission_it_says_root_is_needed_and_writes_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    // A folder anyone can enter, holding a copy of the binary and a root to write under.
    let dir = tempfile::Builder::new()
        .prefix("berth-dnsconf-")
        .tempdir_in("/tmp")
        .unwrap();
    let perm = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    perm(dir.path(), 0o755);
    let exe = dir.path().join("dnsconf");
    std::fs::copy(common::bin("dnsconf"), &exe).unwrap();
    perm(&exe, 0o755);
    let etc = dir.path().join("root/etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("hosts"), "127.0.0.1 localhost\n").unwrap();
    perm(&etc.join("hosts"), 0o644);
    perm(&etc, 0o755);
    perm(&dir.path().join("root"), 0o755);

    // As root, drop to nobody; as anyone else, take write access away.
    let unprivileged = |args: &[&str]| {
        let mut c = if common::is_root() {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&exe);
            c
        } else {
            perm(&etc, 0o555);
            Command::new(&exe)
        };
        let mut child = c
            .args(args)
            .env("BERTH_HOME", dir.path().join("home"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), PROJECTS.as_bytes()).unwrap();
        let out = child.timed_wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let root = dir.path().join("root");
    let (code, err) = unprivileged(&["install", "hosts", "--root", root.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("Permission denied") && err.contains("hint: you may not write under"),
        "{err}"
    );
    // Against the real /etc/hosts: the hint says to run it as root.
    let before = std::fs::read("/etc/hosts").ok();
    let (code, err) = unprivileged(&["install", "hosts"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("needs root: run `sudo dnsconf install hosts`"),
        "{err}"
    );
    assert_eq!(std::fs::read("/etc/hosts").ok(), before);
    assert_eq!(
        std::fs::read_to_string(etc.join("hosts")).unwrap(),
        "127.0.0.1 localhost\n"
    );
    perm(&etc, 0o755);
}

/// Issue #11: `dnsconf test shop` tests the registered project's domain, and
/// for a name that is no project suggests NAME.TLD.
#[test]
fn test_takes_a_project_name_and_suggests_the_domain_for_others() {
    if !require(dnsmasq()) {
        return;
    }
    let h = Harness::new();
    h.write("shop/compose.yaml", "services:\n  web:\n    image: nginx\n");
    h.cmd("registry")
        .args(["add", "shop", "--port", "5103"])
        .run()
        .success();
    let conf = h.write(
        "berth.conf",
        &h.cmd("dnsconf")
            .args(["print", "dnsmasq"])
            .run()
            .success()
            .stdout,
    );
    let (_dnsmasq, server) = start_dnsmasq(&h, &conf, "probe.test");
    let r = h
        .cmd("dnsconf")
        .args(["test", "shop", "--server", &server, "--json"])
        .run()
        .success();
    let v = r.json();
    assert_eq!(v["name"], "shop.test");
    assert_eq!(v["project"], "shop");
    assert_eq!(v["loopback"], true);
    h.cmd("dnsconf")
        .args(["test", "Shop.", "--server", &server])
        .run()
        .success()
        .stdout_has("127.0.0.1");
    // A full name is taken as given, with no project in the JSON.
    let r = h
        .cmd("dnsconf")
        .args(["test", "shop.test", "--server", &server, "--json"])
        .run()
        .success();
    assert!(r.json().get("project").is_none(), "{}", r.stdout);
    // Not a project: resolved as given; when that fails, the domain is suggested.
    let r = h
        .cmd("dnsconf")
        .args(["test", "cart", "--server", &server, "--timeout", "500ms"])
        .run()
        .code_is(1)
        .stderr_has("dnsconf: cart does not resolve through the DNS server")
        .stderr_has("hint: did you mean cart.test? (no registered project is named cart)");
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // The config's tld is the one suggested and the one a project name gets.
    h.write("home/config.yaml", "tld: internal\n");
    h.cmd("dnsconf")
        .args(["test", "cart", "--server", &server, "--timeout", "500ms"])
        .run()
        .code_is(1)
        .stderr_has("did you mean cart.internal?");
    h.cmd("dnsconf")
        .args(["test", "shop!", "--server", &server])
        .run()
        .code_is(2)
        .stderr_has("dnsconf: error:");
}
