//! `registry` as a user runs it: add, list, show, update, status, env,
//! export/import, bad input that changes nothing, concurrency and crash safety.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Harness, Timed as _, bin};

#[test]
fn add_detects_services_ports_and_allocates_distinct_http_ports() {
    let h = Harness::new();
    h.write("My_Shop/compose.yaml", "services:\n  web:\n    ports: [\"${WEB:-8080}:80\"]\n  db:\n    ports: [\"127.0.0.1:5432:5432\"]\n");
    h.write("My_Shop/.env", "WEB=8181\n");
    let added = h
        .cmd("registry")
        .args(["add", "My_Shop", "--json"])
        .run()
        .success()
        .stderr_has("HTTP port 8181, published by service 'web'");
    let v = added.json();
    assert_eq!(v["name"], "my-shop");
    assert_eq!(v["domain"], "my-shop.test");
    assert_eq!(v["services"], serde_json::json!(["web", "db"]));
    assert_eq!(v["service_ports"][0]["published"], 8181);
    assert_eq!(v["service_ports"][1]["host_ip"], "127.0.0.1");
    assert_eq!(v["port"], 8181, "the port the web service publishes");
    assert_eq!(v["exposed_ports"], serde_json::json!([5432, 8181]));
    assert_eq!(v["status"], "unknown");
    assert!(v["registered_at"].as_str().unwrap().ends_with('Z'));

    h.project("blog", &[]);
    let blog = h
        .cmd("registry")
        .args(["add", "blog", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(blog["port"], 5000, "no web service: the first free port");

    // A port in use on this machine is skipped: a range of free ports, the
    // first two then taken.
    let base = common::free_range(3);
    std::fs::write(
        h.home().join("config.yaml"),
        format!("port_range: {base}-{}\ntld: dev\n", base + 2),
    )
    .unwrap();
    // On any address: a loopback listener holds the port for everyone.
    let busy = std::net::TcpListener::bind(("127.0.0.1", base)).ok();
    let busy6 = std::net::TcpListener::bind(("::1", base + 1)).ok();
    h.project("api", &[]);
    let api = h
        .cmd("registry")
        .args(["add", "api", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(api["domain"], "api.dev");
    assert!(busy.is_some(), "port {base} was free a moment ago");
    let want = if busy6.is_some() { base + 2 } else { base + 1 };
    assert_eq!(api["port"], want);
}

#[test]
fn add_from_stdin_takes_project_json() {
    let h = Harness::new();
    h.project("gen", &["6380:6379"]);
    let json = format!(
        r#"{{"name":"gen","path":"{}","stack":"django","extra_field":true}}"#,
        h.path().join("gen").display()
    );
    h.cmd("registry")
        .args(["add", "-"])
        .stdin(json)
        .run()
        .success()
        .stderr_has("registered gen at gen.test");
    let p = &h.projects()[0];
    assert_eq!(p["stack"], "django");
    assert_eq!(
        p["service_ports"][0]["published"], 6380,
        "the folder was scanned"
    );
    // Several at once, as NDJSON.
    h.cmd("registry")
        .args(["add", "-"])
        .stdin("{\"name\":\"x1\"}\n{\"name\":\"x2\",\"port\":7001}\n")
        .run()
        .success();
    let names: Vec<String> = h
        .projects()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["gen", "x1", "x2"]);
}

#[test]
fn list_show_and_formats() {
    let h = Harness::new();
    h.project("shop", &["5432:5432"]);
    h.cmd("registry").args(["add", "shop"]).run().success();
    h.cmd("registry")
        .arg("list")
        .run()
        .success()
        .stdout_has("NAME")
        .stdout_has("shop.test");
    let csv = h
        .cmd("registry")
        .args(["list", "--format", "csv"])
        .run()
        .success()
        .stdout;
    // CSV columns are the JSON field names, nested values as JSON text.
    assert!(
        csv.starts_with(
            "name,path,domain,port,stack,compose_files,services,service_ports,exposed_ports,environment,status,registered_at,last_started,last_updated\nshop,"
        ) && csv.contains(",shop.test,5000,,")
            && csv.contains(",\"[\"\"db\"\"]\",")
            && csv.lines().count() == 2,
        "{csv}"
    );
    let show = h
        .cmd("registry")
        .args(["show", "shop", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(show["name"], "shop");
    assert!(show.is_object());
    h.cmd("registry")
        .args(["show", "shop"])
        .run()
        .success()
        .stdout_has("db:5432")
        .stdout_has("0.0.0.0:5432");
    h.cmd("registry")
        .args(["show", "nope"])
        .run()
        .code_is(2)
        .stderr_has("registry: error: no project named 'nope'")
        .stderr_has("hint:");
    h.cmd("registry")
        .args(["set-status", "shop", "running"])
        .run()
        .success();
    assert_eq!(
        h.cmd("registry")
            .args(["list", "--status", "running", "--json"])
            .run()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        h.cmd("registry")
            .args(["list", "--status", "stopped", "--json"])
            .run()
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let p = &h.projects()[0];
    assert_eq!(p["status"], "running");
    assert!(p["last_started"].is_string());
}

#[test]
fn update_shows_and_applies_changes() {
    let h = Harness::new();
    h.write(
        "shop/compose.yaml",
        "services:\n  web:\n    ports: [\"8080:80\"]\n  db:\n    ports: [\"5432:5432\"]\n",
    );
    h.cmd("registry").args(["add", "shop"]).run().success();
    h.cmd("registry")
        .args(["update", "shop"])
        .run()
        .success()
        .stderr_has("shop: up to date");

    h.write(
        "shop/compose.yaml",
        "services:\n  web:\n    ports: [\"8081:80\"]\n  redis:\n    ports: [\"6379:6379\"]\n",
    );
    let before = h.registry_bytes();
    let out = h
        .cmd("registry")
        .args(["update", "shop", "--dry-run"])
        .run()
        .success()
        .stdout;
    for line in [
        "+ service redis",
        "- service db",
        "+ port redis 0.0.0.0:6379->6379/tcp",
        "- port db 0.0.0.0:5432->5432/tcp",
        "~ port web 0.0.0.0:8081->80/tcp (was web 0.0.0.0:8080->80/tcp)",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert_eq!(h.registry_bytes(), before, "dry run writes nothing");
    // Not on a terminal and no --yes: refuse, change nothing.
    h.cmd("registry")
        .args(["update", "shop"])
        .run()
        .code_is(2)
        .stderr_has("pass --yes");
    assert_eq!(h.registry_bytes(), before);

    // A running project and a running neighbour on the new port: warnings, then apply.
    h.project("cache", &["6379:6379"]);
    h.cmd("registry").args(["add", "cache"]).run().success();
    h.cmd("registry")
        .args(["set-status", "cache", "running"])
        .run()
        .success();
    h.cmd("registry")
        .args(["set-status", "shop", "running"])
        .run()
        .success();
    let v = h
        .cmd("registry")
        .args(["update", "shop", "--yes", "--json"])
        .run()
        .success()
        .stderr_has("'shop' is running")
        .stderr_has("port 6379/tcp is also claimed by cache/db")
        .json();
    assert_eq!(v["applied"], true);
    let shop = h
        .projects()
        .into_iter()
        .find(|p| p["name"] == "shop")
        .unwrap();
    assert_eq!(shop["services"], serde_json::json!(["web", "redis"]));
    assert_ne!(shop["last_updated"], shop["registered_at"]);

    // Compose file gone, then the folder gone.
    std::fs::remove_file(h.path().join("shop/compose.yaml")).unwrap();
    h.cmd("registry")
        .args(["update", "shop", "--dry-run"])
        .run()
        .success()
        .stdout_has("compose.yaml (gone)");
    std::fs::remove_dir_all(h.path().join("shop")).unwrap();
    h.cmd("registry")
        .args(["update", "shop"])
        .run()
        .code_is(2)
        .stderr_has("its folder")
        .stderr_has("is gone")
        .stderr_has("registry remove shop");
}

#[test]
fn env_set_get_unset_list() {
    let h = Harness::new();
    h.project("shop", &[]);
    h.cmd("registry").args(["add", "shop"]).run().success();
    h.cmd("registry")
        .args([
            "env",
            "set",
            "shop",
            "APP_DEBUG=1",
            "MAIL_URL=smtp://x:1025",
        ])
        .run()
        .success();
    assert_eq!(
        h.cmd("registry")
            .args(["env", "get", "shop", "MAIL_URL"])
            .run()
            .success()
            .stdout,
        "smtp://x:1025\n"
    );
    let list = h
        .cmd("registry")
        .args(["env", "list", "shop", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(
        list,
        serde_json::json!([{"key":"APP_DEBUG","value":"1"},{"key":"MAIL_URL","value":"smtp://x:1025"}])
    );
    h.cmd("registry")
        .args(["env", "unset", "shop", "APP_DEBUG"])
        .run()
        .success();
    h.cmd("registry")
        .args(["env", "get", "shop", "APP_DEBUG"])
        .run()
        .code_is(2)
        .stderr_has("variable 'APP_DEBUG' is not set");
    let before = h.registry_bytes();
    h.cmd("registry")
        .args(["env", "set", "shop", "1BAD=x"])
        .run()
        .code_is(2)
        .stderr_has("invalid variable name '1BAD'");
    h.cmd("registry")
        .args(["env", "set", "shop", "NOEQUALS"])
        .run()
        .code_is(2)
        .stderr_has("is not KEY=VALUE");
    assert_eq!(h.registry_bytes(), before);
}

#[test]
fn export_import_roundtrip_merge_and_replace() {
    let h = Harness::new();
    for n in ["a", "b"] {
        h.project(n, &[]);
        h.cmd("registry").args(["add", n]).run().success();
    }
    let exported = h.cmd("registry").arg("export").run().success().stdout;
    h.cmd("registry")
        .args(["export", "-o", "backup.json"])
        .run()
        .success()
        .stderr_has("registry: wrote ");
    // Again over the file: one atomic write, mode 0644, no lock file left,
    // and stderr says it replaced the file.
    std::fs::write(h.path().join("backup.json"), "not a project list").unwrap();
    h.cmd("registry")
        .args(["export", "-o", "backup.json"])
        .run()
        .success()
        .stderr_has("registry: replaced ");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(h.path().join("backup.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o644);
    assert!(
        !h.path().join("backup.json.lock").exists(),
        "no lock file beside the export"
    );
    let quiet = h
        .cmd("registry")
        .args(["export", "--quiet", "-o", "backup.json"])
        .run()
        .success();
    assert_eq!(quiet.stderr, "");

    let other = Harness::new();
    other
        .cmd("registry")
        .args(["import", h.path().join("backup.json").to_str().unwrap()])
        .run()
        .success();
    assert_eq!(other.cmd("registry").arg("export").run().stdout, exported);

    other
        .cmd("registry")
        .args(["import", "-", "--merge"])
        .stdin(r#"{"name":"c","port":6000}"#)
        .run()
        .success();
    assert_eq!(other.projects().len(), 3);
    other
        .cmd("registry")
        .args(["import", "-", "--replace"])
        .stdin(r#"[{"name":"z"}]"#)
        .run()
        .code_is(2)
        .stderr_has("pass --yes");
    assert_eq!(other.projects().len(), 3);
    other
        .cmd("registry")
        .args(["import", "-", "--replace", "--yes"])
        .stdin(r#"[{"name":"z"}]"#)
        .run()
        .success();
    assert_eq!(other.projects().len(), 1);
}

#[test]
#[allow(clippy::too_many_lines)] // one table of cases
fn bad_input_exits_2_with_a_clear_message_and_writes_nothing() {
    let h = Harness::new();
    h.project("ok", &[]);
    h.cmd("registry").args(["add", "ok"]).run().success();
    let before = h.registry_bytes();
    h.write(
        "broken/compose.yaml",
        "services:\n  web:\n    ports: [\"80:80\"\n",
    );
    h.write(
        "badport/compose.yaml",
        "services:\n  web:\n    ports: [\"70000:80\"]\n",
    );
    h.write("plain/.keep", "");
    let long = "a".repeat(64);
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec!["add", "-"],
            Some("{\"name\": \"x\", "),
            "invalid JSON in <stdin> at line 1 column",
        ),
        (
            vec!["add", "-"],
            Some("[{\"name\": 5}]"),
            "invalid JSON in <stdin>",
        ),
        (
            vec!["import", "-"],
            Some("not json"),
            "invalid JSON in <stdin>",
        ),
        (vec!["add", "broken"], None, "invalid YAML in"),
        (
            vec!["add", "badport"],
            None,
            "service 'web': invalid port '70000:80': port 70000 is out of range",
        ),
        (
            vec!["add", "plain", "--name", "a;rm -rf"],
            None,
            "invalid project name 'a;rm -rf': character ';' not allowed",
        ),
        (
            vec!["add", "plain", "--name", "../x"],
            None,
            "invalid project name '../x': character '.' not allowed",
        ),
        (
            vec!["add", "plain", "--name", &long],
            None,
            "64 characters, at most 63",
        ),
        (
            vec!["add", "-"],
            Some("{\"name\": \"$(reboot)\"}"),
            "invalid project name '$(reboot)'",
        ),
        (
            vec!["add", "does/not/exist"],
            None,
            "project folder does/not/exist does not exist",
        ),
        (
            vec!["add", "plain", "--port", "0"],
            None,
            "0 is not in 1..=65535",
        ),
        (
            vec!["add", "plain", "--port", "70000"],
            None,
            "70000 is not in 1..=65535",
        ),
        (vec!["add", "ok"], None, "folder"),
        (
            vec!["add", "plain", "--name", "ok"],
            None,
            "project 'ok' is already registered",
        ),
        (
            vec!["add", "plain", "--port", "5000"],
            None,
            "port 5000 is already claimed by project 'ok'",
        ),
        (
            vec!["set-status", "ok", "sleeping"],
            None,
            "unknown status 'sleeping'",
        ),
        (
            vec!["remove", "ghost", "--yes"],
            None,
            "no project named 'ghost'",
        ),
        (
            vec!["import", "missing.json"],
            None,
            "cannot read missing.json",
        ),
        (
            vec!["import", "-"],
            Some("[{\"name\":\"a\"},{\"name\":\"a\"}]"),
            "project 'a' appears twice",
        ),
    ];
    for (args, stdin, message) in cases {
        let mut c = h.cmd("registry").args(&args);
        if let Some(s) = stdin {
            c = c.stdin(s);
        }
        let run = c.run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(message),
            "{args:?}: expected {message:?} in\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert_eq!(h.registry_bytes(), before, "{args:?} changed the registry");
    }

    // A corrupt registry is named, never overwritten.
    std::fs::write(h.registry_file(), b"{\"version\":1,\"projects\":[{").unwrap();
    h.cmd("registry")
        .args(["add", "plain"])
        .run()
        .code_is(2)
        .stderr_has("registry.json is corrupt")
        .stderr_has("hint:");
    assert_eq!(
        std::fs::read(h.registry_file()).unwrap(),
        b"{\"version\":1,\"projects\":[{"
    );
    h.cmd("registry")
        .arg("list")
        .run()
        .code_is(2)
        .stderr_has("registry.json is corrupt");
}

#[test]
fn concurrent_adds_and_removes_lose_nothing() {
    const WORKERS: usize = 32;
    const OPS: usize = 20;
    let h = Harness::new();
    for w in 0..WORKERS {
        for i in 0..OPS {
            h.write(&format!("w{w}-{i}/.keep"), "");
        }
    }
    let reader_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (file, journal) = (h.registry_file(), h.journal_file());
        let stop = reader_stop.clone();
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let snapshot = std::fs::read(&file).unwrap_or_default();
                let journal = std::fs::read(&journal).unwrap_or_default();
                // Panics unless the snapshot and every complete journal line parse.
                common::registered(&snapshot, &journal);
                reads += 1;
            }
            reads
        })
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let dir = h.path().to_path_buf();
            let home = h.home();
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for i in 0..OPS {
                    let name = format!("w{w}-{i}");
                    let ok = Command::new(bin("registry"))
                        .args(["add", &name])
                        .current_dir(&dir)
                        .env("BERTH_HOME", &home)
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .timed_status()
                        .unwrap()
                        .success();
                    assert!(ok, "add {name}");
                    // Every third project is removed again.
                    if i % 3 == 2 {
                        let ok = Command::new(bin("registry"))
                            .args(["remove", &name, "--yes"])
                            .current_dir(&dir)
                            .env("BERTH_HOME", &home)
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .timed_status()
                            .unwrap()
                            .success();
                        assert!(ok, "remove {name}");
                    } else {
                        kept.push(name);
                    }
                }
                kept
            })
        })
        .collect();
    let mut expected = BTreeSet::new();
    for w in workers {
        expected.extend(w.join().unwrap());
    }
    reader_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let projects = h.projects();
    let names: BTreeSet<String> = projects
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, expected);
    let ports: BTreeSet<u64> = projects
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ports.len(),
        projects.len(),
        "every project got its own HTTP port"
    );
}

#[test]
fn writers_killed_with_sigkill_never_corrupt_the_registry() {
    let h = Harness::new();
    // A large registry makes each snapshot write long enough to be killed midway.
    let big: Vec<String> = (0..5000)
        .map(|i| {
            format!(
                r#"{{"name":"seed{i}","port":{},"environment":{{"K":"{}"}}}}"#,
                20000 + i,
                "v".repeat(200)
            )
        })
        .collect();
    h.write("seed.json", &format!("[{}]", big.join(",")));
    h.cmd("registry")
        .args(["import", "seed.json"])
        .run()
        .success();
    // Two kinds of writer: `add` appends to the journal, `import` writes a
    // new snapshot. How long each takes here, so the kills spread over its run.
    h.write("timing/.keep", "");
    let timed = |args: &[&str]| {
        let start = std::time::Instant::now();
        h.cmd("registry").args(args).run().success();
        start.elapsed().as_micros() as u64
    };
    let add_time = timed(&["add", "timing"]);
    h.write("imp.json", r#"{"name":"imported","port":40000}"#);
    let import_time = timed(&["import", "imp.json"]);
    let mut added = vec!["timing".to_owned(), "imported".to_owned()];
    let mut killed = 0;
    for i in 0..80u64 {
        let (name, args, full) = if i % 2 == 0 {
            let name = format!("k{i}");
            h.write(&format!("{name}/.keep"), "");
            (name.clone(), vec!["add".to_owned(), name], add_time)
        } else {
            let name = format!("imp{i}");
            let file = format!("{name}.json");
            h.write(
                &file,
                &format!(r#"{{"name":"{name}","port":{}}}"#, 40000 + i),
            );
            (name, vec!["import".to_owned(), file], import_time)
        };
        let mut child = Command::new(bin("registry"))
            .args(&args)
            .current_dir(h.path())
            .env("BERTH_HOME", h.home())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a spread of moments: before, during and after the write.
        std::thread::sleep(Duration::from_micros(full * 3 / 2 * ((i * 37) % 80) / 80));
        let status = common::kill_and_wait(&mut child); // SIGKILL
        if status.success() {
            added.push(name);
        } else {
            killed += 1;
        }
        // Both files parse (the harness panics otherwise), and hold every completed write.
        let projects = h.projects();
        let names: BTreeSet<&str> = projects
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.len() >= 5000, "seed projects intact");
        for a in &added {
            assert!(names.contains(a.as_str()), "completed write of {a} lost");
        }
    }
    let completed = |prefix: &str| added.iter().filter(|n| n.starts_with(prefix)).count();
    let (adds, imports) = (completed("k"), completed("imp"));
    eprintln!("killed {killed}; completed: {adds} adds, {imports} imports");
    assert!(
        killed > 0 && adds > 0 && imports > 1,
        "killed {killed}, completed {adds} adds and {imports} imports"
    );
    // What the tool reads agrees with the files.
    let listed: Vec<serde_json::Value> = serde_json::from_str(
        &h.cmd("registry")
            .args(["list", "--json"])
            .run()
            .success()
            .stdout,
    )
    .unwrap();
    assert_eq!(listed, h.projects());
    // Temp files of killed writers are swept by the next write.
    h.cmd("registry")
        .args(["remove", "seed0", "--yes"])
        .run()
        .success();
    let leftovers: Vec<_> = std::fs::read_dir(h.home())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Issue #14: `add -` and `import` stored any domain, port 0 and paths with
/// `..` or newlines. Every way in checks every field with one validator.
#[test]
#[allow(clippy::too_many_lines)] // tables of cases
fn every_way_in_checks_every_field_and_writes_nothing_bad() {
    let h = Harness::new();
    h.project("ok", &[]);
    h.cmd("registry").args(["add", "ok"]).run().success();
    let before = h.registry_bytes();
    let dir = h.path().join("ok");
    let dir = dir.display();
    let bad: Vec<(String, &str)> = vec![
        (
            r#"{"name":"a","domain":"example.com"}"#.to_owned(),
            "domain 'example.com' is outside the dev TLD '.test'",
        ),
        (
            r#"{"name":"a","domain":"*.test"}"#.to_owned(),
            "character '*' not allowed",
        ),
        (
            r#"{"name":"a","domain":"a.test\nb.test"}"#.to_owned(),
            "character '\\n' not allowed",
        ),
        (
            r#"{"name":"a","domain":"{x}.test"}"#.to_owned(),
            "character '{' not allowed",
        ),
        (
            r#"{"name":"a","domain":"\u001b]0;pwned\u0007.test"}"#.to_owned(),
            "character '\\u{1b}' not allowed",
        ),
        (
            r#"{"name":"a","domain":"\u001b[2Ja.test"}"#.to_owned(),
            "character '\\u{1b}' not allowed",
        ),
        (
            r#"{"name":"a","port":0}"#.to_owned(),
            "port 0 is not a port",
        ),
        (
            r#"{"name":"a","stack":"Dj\u001b"}"#.to_owned(),
            "invalid stack name",
        ),
        (
            r#"{"name":"a","service_ports":[{"service":"w\u001bx","target":80}]}"#.to_owned(),
            "invalid service name",
        ),
        (
            format!(
                r#"{{"name":"a","path":"{dir}","services":["w"],"environment":{{"X":"\u001b]8;;evil\u0007"}}}}"#
            ),
            "control character",
        ),
    ];
    // Only import stores paths as they are (add makes them canonical).
    let import_only: Vec<(String, &str)> = vec![
        (
            r#"{"name":"a","path":"/srv/../etc"}"#.to_owned(),
            "holds '.' or '..'",
        ),
        (
            r#"{"name":"a","path":"/srv/a\nb"}"#.to_owned(),
            "control character '\\n'",
        ),
        (
            r#"{"name":"a","path":"srv/a"}"#.to_owned(),
            "is not absolute",
        ),
        (
            r#"{"name":"a","compose_files":["/srv/a/../../etc/compose.yaml"]}"#.to_owned(),
            "compose file",
        ),
    ];
    let mut failures = Vec::new();
    let mut try_one = |args: &[&str], json: &str, why: &str| {
        let run = h.cmd("registry").args(args).stdin(json.to_owned()).run();
        let stored = h.registry_bytes() != before;
        if run.code != 2
            || !run.stderr.contains(why)
            || !run.stderr.contains("project 'a'")
            || stored
        {
            failures.push(format!(
                "{args:?} {json}: exit {} stored {stored}\n{}",
                run.code, run.stderr
            ));
        }
        if run.stderr.contains('\u{1b}') {
            failures.push(format!("{args:?} {json}: raw escape on stderr"));
        }
    };
    for (json, why) in &bad {
        try_one(&["add", "-"], json, why);
        try_one(&["import", "-"], json, why);
        try_one(&["import", "-", "--replace", "--yes"], json, why);
    }
    for (json, why) in &import_only {
        try_one(&["import", "-"], json, why);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The same fields, good, go in.
    h.cmd("registry")
        .args(["import", "-"])
        .stdin(r#"{"name":"a","path":"/srv/a","port":6000,"environment":{"X":"1"}}"#)
        .run()
        .success();
    let a = h.projects().into_iter().find(|p| p["name"] == "a").unwrap();
    assert_eq!(a["domain"], "a.test", "an empty domain is NAME.TLD");
    // `env set` is a way in too.
    let before = h.registry_bytes();
    h.cmd("registry")
        .args(["env", "set", "a", "X=\u{1b}]0;pwned\u{7}"])
        .run()
        .code_is(2)
        .stderr_has("project 'a': environment variable X: value holds control character");
    assert_eq!(h.registry_bytes(), before);
}

/// Issue #14: a bad entry already on disk (written by hand, or by an older
/// berth) is named and left out; every other project still works, and no
/// escape sequence reaches the terminal.
#[test]
fn a_bad_entry_on_disk_is_named_and_the_others_still_work() {
    let h = Harness::new();
    h.project("shop", &[]);
    h.cmd("registry").args(["add", "shop"]).run().success();
    let evil = r#"{"put":{"name":"evil","path":"/srv/evil","domain":"\u001b]0;pwned\u0007.test","port":0}}"#;
    let mut journal = std::fs::read_to_string(h.journal_file()).unwrap();
    journal.push_str(evil);
    journal.push('\n');
    std::fs::write(h.journal_file(), journal).unwrap();

    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["list", "--format", "ndjson"],
    ] {
        let run = h.cmd("registry").args(&args).run().success();
        assert!(run.stdout.contains("shop"), "{args:?}: {}", run.stdout);
        assert!(!run.stdout.contains("evil"), "{args:?}: {}", run.stdout);
        assert!(!run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'));
        assert!(
            run.stderr
                .contains("registry.journal line 3: project 'evil'")
                && run.stderr.contains("left out"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // `show` shows it, escaped.
    let show = h.cmd("registry").args(["show", "evil"]).run().success();
    assert!(
        show.stdout.contains("\\u{1b}]0;pwned\\u{7}.test"),
        "{}",
        show.stdout
    );
    assert!(!show.stdout.contains('\u{1b}'));

    // The tools that read the registry serve the good project.
    let caddy = h
        .sh("registry list --json | proxyconf caddy")
        .run()
        .success()
        .stdout_has("shop.test");
    assert!(!caddy.stdout.contains("evil") && !caddy.stdout.contains('\u{1b}'));
    h.cmd("proxyconf")
        .arg("caddy")
        .run()
        .success()
        .stdout_has("shop.test")
        .stderr_has("project 'evil'");
    h.cmd("dnsconf")
        .args(["generate", "hosts"])
        .run()
        .success()
        .stdout_has("shop.test");
    h.cmd("ports")
        .args(["check"])
        .run()
        .success()
        .stderr_has("no conflicts among 1 project(s)");
    // And it can be removed.
    h.cmd("registry")
        .args(["remove", "evil", "--yes"])
        .run()
        .success();
    let run = h.cmd("registry").args(["list"]).run().success();
    assert!(!run.stderr.contains("evil"), "{}", run.stderr);
}

/// Issue #11: the HTTP port is the one the web service publishes, not an
/// allocated one the app does not listen on.
#[test]
fn add_takes_the_http_port_the_web_service_publishes() {
    let h = Harness::new();
    h.write(
        "app1/compose.yaml",
        "services:\n  db:\n    ports: [\"127.0.0.1:6432:5432\"]\n  web:\n    ports: [\"6100:8000\"]\n  adminer:\n    ports: [\"6101:8080\"]\n  admin:\n    ports: [\"6102:80\"]\n",
    );
    let run = h
        .cmd("registry")
        .args(["add", "app1", "--json"])
        .run()
        .success();
    assert_eq!(run.json()["port"], 6100);
    assert!(
        run.stderr.contains(
            "HTTP port 6100, published by service 'web' (--web-service SERVICE picks another)"
        ),
        "{}",
        run.stderr
    );
    h.cmd("registry")
        .args(["remove", "app1", "--yes"])
        .run()
        .success();
    let run = h
        .cmd("registry")
        .args(["add", "app1", "--web-service", "admin", "--json"])
        .run()
        .success()
        .stderr_has("HTTP port 6102, published by service 'admin'");
    assert_eq!(run.json()["port"], 6102);
    assert_eq!(
        run.json()["exposed_ports"],
        serde_json::json!([6100, 6101, 6102, 6432])
    );
    // A service that publishes nothing, or none of that name: exit 2, nothing written.
    h.write(
        "app2/compose.yaml",
        "services:\n  worker:\n    image: x\n  db:\n    ports: [\"6500:5432\"]\n",
    );
    let before = h.registry_bytes();
    h.cmd("registry")
        .args(["add", "app2", "--web-service", "worker"])
        .run()
        .code_is(2)
        .stderr_has("service 'worker' publishes no TCP port");
    h.cmd("registry")
        .args(["add", "app2", "--web-service", "nope"])
        .run()
        .code_is(2)
        .stderr_has("the project has no service 'nope'")
        .stderr_has("hint: services: worker, db");
    assert_eq!(h.registry_bytes(), before);
    // No web service (a database alone): a port is allocated, as before.
    let run = h
        .cmd("registry")
        .args(["add", "app2", "--json"])
        .run()
        .success();
    assert_eq!(run.json()["port"], 5000);
    assert!(!run.stderr.contains("HTTP port"), "{}", run.stderr);
}

/// Issue #11: hints match what the user typed.
#[test]
fn a_claimed_port_hint_names_the_flag_or_the_json_field() {
    let h = Harness::new();
    h.project("ok", &[]);
    h.cmd("registry").args(["add", "ok"]).run().success();
    h.project("two", &[]);
    h.cmd("registry")
        .args(["add", "two", "--port", "5000"])
        .run()
        .code_is(2)
        .stderr_has("port 5000 is already claimed by project 'ok'")
        .stderr_has("hint: leave out --port");
    let json = format!(
        r#"{{"name":"two","path":"{}","port":5000}}"#,
        h.path().join("two").display()
    );
    let run = h
        .cmd("registry")
        .args(["add", "-"])
        .stdin(json)
        .run()
        .code_is(2);
    assert!(
        run.stderr
            .contains("port 5000 is already claimed by project 'ok'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: the Project JSON sets \"port\": 5000; drop that field"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("--port"), "{}", run.stderr);
}

/// `ports alloc --claim NAME` reserves under the registry's lock: no other
/// allocation hands the port out until NAME is registered, or it expires.
#[test]
fn claimed_ports_are_reserved_until_registered_or_expired() {
    let h = Harness::new();
    // A range nothing listens on (the default one may be in use here).
    let base = common::free_range(6);
    let p = |i: u16| base + i;
    h.write(
        "home/config.yaml",
        &format!("port_range: {}-{}\n", p(0), p(5)),
    );
    let port = h
        .cmd("ports")
        .args(["alloc", "--claim", "newapp"])
        .run()
        .success();
    assert_eq!(port.stdout, format!("{}\n", p(0)));
    let reservations = h.home().join("registry.reservations");
    assert!(
        std::fs::read_to_string(&reservations)
            .unwrap()
            .contains("\"newapp\"")
    );
    h.cmd("ports")
        .args(["alloc"])
        .run()
        .success()
        .stdout_has(&format!("{}\n", p(1)));
    h.cmd("ports")
        .args(["alloc", "--claim", "other", "-n", "2"])
        .run()
        .success()
        .stdout_has(&format!("{}\n{}\n", p(1), p(2)));
    h.project("plain", &[]);
    let plain = h
        .cmd("registry")
        .args(["add", "plain", "--json"])
        .run()
        .success();
    assert_eq!(
        plain.json()["port"],
        p(3),
        "reserved ports are not allocated"
    );
    h.project("thief", &[]);
    let before = h.registry_bytes();
    h.cmd("registry")
        .args(["add", "thief", "--port", &p(0).to_string()])
        .run()
        .code_is(2)
        .stderr_has(&format!("port {} is reserved for project 'newapp'", p(0)));
    assert_eq!(h.registry_bytes(), before);
    // The project it was claimed for takes it, and the reservation goes.
    h.project("newapp", &[]);
    let added = h
        .cmd("registry")
        .args(["add", "newapp", "--port", &p(0).to_string(), "--json"])
        .run()
        .success();
    assert_eq!(added.json()["port"], p(0));
    let left = std::fs::read_to_string(&reservations).unwrap();
    assert!(!left.contains("newapp") && left.contains("other"), "{left}");
    h.cmd("ports")
        .args(["alloc", "--claim", "plain"])
        .run()
        .code_is(2)
        .stderr_has("project 'plain' is registered already");
    // An expired reservation is ignored.
    std::fs::write(
        &reservations,
        format!(
            r#"[{{"name":"gone","ports":[{}],"expires_at":"2020-01-01T00:00:00Z"}},{{"name":"other","ports":[{},{}],"expires_at":"2999-01-01T00:00:00Z"}}]"#,
            p(4),
            p(1),
            p(2)
        ),
    )
    .unwrap();
    h.cmd("ports")
        .args(["alloc"])
        .run()
        .success()
        .stdout_has(&format!("{}\n", p(4)));
}
