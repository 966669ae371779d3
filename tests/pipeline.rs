//! The tools composed through a real shell pipe, as users run them.

mod common;

use std::fmt::Write as _;

use common::Harness;

#[test]
fn registry_list_piped_into_ports_check_finds_and_clears_conflicts() {
    let h = Harness::new();
    h.project("shop", &["5432:5432"]);
    h.project("blog", &["0.0.0.0:5432:5432"]);
    h.project("api", &["127.0.0.1:5432:5432"]);
    for p in ["shop", "blog", "api"] {
        h.cmd("registry").args(["add", p]).run().success();
    }

    let run = h
        .sh("registry list --json | ports check --json")
        .run()
        .code_is(1);
    let conflicts = run.json();
    let conflicts = conflicts.as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["port"], 5432);
    assert_eq!(conflicts[0]["protocol"], "tcp");
    assert_eq!(conflicts[0]["host_ip"], "0.0.0.0");
    let mut claims: Vec<String> = conflicts[0]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}/{} {} {}",
                c["project"].as_str().unwrap(),
                c["service"].as_str().unwrap(),
                c["host_ip"].as_str().unwrap(),
                c["source"].as_str().unwrap()
            )
        })
        .collect();
    claims.sort();
    assert_eq!(
        claims,
        [
            "api/db 127.0.0.1 registry",
            "blog/db 0.0.0.0 registry",
            "shop/db 0.0.0.0 registry"
        ]
    );

    // The table names every claim too.
    h.sh("registry list --json | ports check")
        .run()
        .code_is(1)
        .stdout_has("api/db (127.0.0.1), blog/db (0.0.0.0), shop/db (0.0.0.0)");

    // 0.0.0.0 overlaps 127.0.0.1, so one unbound claim is still a conflict with api's.
    h.cmd("registry")
        .args(["remove", "shop", "--yes"])
        .run()
        .success();
    h.sh("registry list --json | ports check")
        .run()
        .code_is(1)
        .stdout_has("api/db (127.0.0.1), blog/db (0.0.0.0)");
    h.cmd("registry")
        .args(["remove", "blog", "--yes"])
        .run()
        .success();
    h.sh("registry list --json | ports check")
        .run()
        .success()
        .stderr_has("no conflicts among 1 project(s)");
}

#[test]
fn distinct_loopback_addresses_do_not_conflict() {
    let h = Harness::new();
    h.project("a", &["127.0.0.1:6379:6379"]);
    h.project("b", &["127.0.0.2:6379:6379"]);
    h.project("c", &["6379:6379/udp"]);
    for p in ["a", "b", "c"] {
        h.cmd("registry").args(["add", p]).run().success();
    }
    let run = h
        .sh("registry list --json | tee carried.json | ports check --json")
        .run()
        .success();
    assert_eq!(run.json(), serde_json::json!([]));
    let carried: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(h.path().join("carried.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = carried
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    // NDJSON between the tools works the same: one project a line, each with its bindings.
    h.sh("registry list --format ndjson | tee carried.ndjson | ports check")
        .run()
        .success()
        .stderr_has("no conflicts among 3 project(s)");
    let lines = std::fs::read_to_string(h.path().join("carried.ndjson")).unwrap();
    let hosts: Vec<String> = lines
        .lines()
        .map(|l| {
            let p: serde_json::Value = serde_json::from_str(l).expect("one JSON object a line");
            let b = &p["service_ports"][0];
            format!(
                "{} {}:{}/{}",
                p["name"].as_str().unwrap(),
                b["host_ip"].as_str().unwrap(),
                b["published"],
                b["protocol"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            "a 127.0.0.1:6379/tcp",
            "b 127.0.0.2:6379/tcp",
            "c 0.0.0.0:6379/udp"
        ]
    );
}

#[test]
fn closed_pipe_ends_quietly() {
    let h = Harness::new();
    // Enough output (about 1 MB) to fill the pipe after `head` has gone.
    let projects: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"name":"p{i}","port":{}}}"#, 10000 + i))
        .collect();
    h.write("many.json", &format!("[{}]", projects.join(",")));
    h.cmd("registry")
        .args(["import", "many.json"])
        .run()
        .success();
    for (format, start) in [
        ("table", "NAME"),
        ("json", "["),
        ("ndjson", "{\"name\":\"p"),
        ("csv", "name,"),
    ] {
        let run = h
            .sh(&format!(
                "set -o pipefail; registry list --format {format} | head -c 10 > head.txt"
            ))
            .run();
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{format}: {}", run.stderr);
        // What went through the pipe before it closed: the list's first bytes.
        let head = std::fs::read_to_string(h.path().join("head.txt")).unwrap();
        assert_eq!(head.len(), 10, "{format}: {head:?}");
        assert!(head.trim_start().starts_with(start), "{format}: {head:?}");
    }
}

/// Issues #14 and #11: an empty input is an error for every tool that reads
/// Project JSON, unless --allow-empty; with no input argument and nothing
/// piped (cron, systemd, `< /dev/null`), the registry is read.
#[test]
#[allow(clippy::too_many_lines)] // tables of cases
fn empty_input_is_an_error_and_no_input_reads_the_registry() {
    let h = Harness::new();
    // An empty registry: a check or a config of nothing is an error too.
    let empty_registry: [&[&str]; 4] = [
        &["ports", "check", "--running", "--probe"],
        &["proxyconf", "caddy"],
        &["dnsconf", "print", "hosts"],
        &["ports", "check", "--registry"],
    ];
    for argv in empty_registry {
        h.cmd(argv[0])
            .args(&argv[1..])
            .run()
            .code_is(2)
            .stderr_has("no project registered in")
            .stderr_has("--allow-empty");
        h.cmd(argv[0])
            .args(&argv[1..])
            .arg("--allow-empty")
            .run()
            .success();
    }

    h.project("shop", &["6432:5432"]);
    h.cmd("registry").args(["add", "shop"]).run().success();
    // stdin is /dev/null (the harness's default): the registry is read.
    let caddyfile = h.path().join("Caddyfile");
    h.cmd("proxyconf")
        .args(["caddy", "-o"])
        .arg(&caddyfile)
        .run()
        .success();
    let text = std::fs::read_to_string(&caddyfile).unwrap();
    assert!(text.contains("https://shop.test"), "{text}");
    h.cmd("ports")
        .args(["check", "--running", "--probe"])
        .run()
        .success()
        .stderr_has("no conflicts among 1 project(s)");
    h.cmd("ports")
        .args(["check"])
        .run()
        .success()
        .stderr_has("no conflicts among 1 project(s)");
    h.cmd("dnsconf")
        .args(["print", "hosts"])
        .run()
        .success()
        .stdout_has("shop.test");
    h.sh("timeout 60 proxyconf caddy < /dev/null")
        .run()
        .success()
        .stdout_has("https://shop.test");

    // Named or piped input that holds nothing is an error, and writes nothing.
    std::fs::remove_file(&caddyfile).unwrap();
    let empty_list = h.write("none.json", "[]\n");
    let cases: [(&[&str], &str, &str); 9] = [
        (
            &["proxyconf", "caddy", "-o", "Caddyfile", "-"],
            "",
            "no Project JSON on stdin",
        ),
        (
            &["proxyconf", "caddy", "-o", "Caddyfile"],
            "[]",
            "no Project JSON on stdin",
        ),
        (
            &["proxyconf", "traefik", "-"],
            "\n\n",
            "no Project JSON on stdin",
        ),
        (&["ports", "check", "-"], "", "no Project JSON on stdin"),
        (&["ports", "check"], "[]", "no Project JSON on stdin"),
        (
            &["dnsconf", "print", "hosts", "-"],
            "",
            "no Project JSON on stdin",
        ),
        (
            &["certgen", "issue", "-", "--dry-run"],
            "",
            "no Project JSON on stdin",
        ),
        (&["registry", "add", "-"], "", "no Project JSON on stdin"),
        (
            &["registry", "import", "-", "--replace", "--yes"],
            "[]",
            "no Project JSON on stdin",
        ),
    ];
    let before = h.registry_bytes();
    for (argv, stdin, message) in cases {
        let run = h.cmd(argv[0]).args(&argv[1..]).stdin(stdin).run();
        assert_eq!(run.code, 2, "{argv:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{argv:?}: {}", run.stderr);
        assert!(run.stderr.contains("hint:") && run.stderr.contains("--allow-empty"));
        assert!(run.stdout.is_empty(), "{argv:?}: {}", run.stdout);
    }
    assert!(!caddyfile.exists(), "no Caddyfile without sites");
    assert_eq!(h.registry_bytes(), before, "the registry was not emptied");
    h.cmd("ports")
        .arg("check")
        .arg(&empty_list)
        .run()
        .code_is(2)
        .stderr_has("no project in ");
    // --allow-empty, the same name everywhere, accepts it.
    for argv in [
        &["proxyconf", "caddy", "-", "--allow-empty"][..],
        &["ports", "check", "-", "--allow-empty"],
        &["dnsconf", "print", "hosts", "-", "--allow-empty"],
        &["registry", "add", "-", "--allow-empty"],
    ] {
        h.cmd(argv[0]).args(&argv[1..]).stdin("[]").run().success();
    }
    assert_eq!(h.registry_bytes(), before);
}

/// Issue #14: 16 parallel `stackgen new ... --json | registry add -`
/// pipelines all succeed with distinct ports, and each generated `.env`
/// holds the port the registry recorded.
#[test]
fn parallel_stackgen_pipelines_get_distinct_ports_that_match_their_env() {
    let h = Harness::new();
    let base = common::free_range(100);
    h.write(
        "home/config.yaml",
        &format!("port_range: {base}-{}\n", base + 99),
    );
    let mut script = String::new();
    for i in 0..16 {
        let _ = writeln!(
            script,
            "(set -o pipefail; timeout 120 stackgen new django p{i} --no-generator --services none --json \
             | timeout 120 registry add - > /dev/null 2> err{i}.txt; echo $? > rc{i}.txt) &"
        );
    }
    script.push_str("wait\n");
    h.sh(&script).run().success();
    let mut failed = Vec::new();
    for i in 0..16 {
        let rc = std::fs::read_to_string(h.path().join(format!("rc{i}.txt"))).unwrap();
        if rc.trim() != "0" {
            let err = std::fs::read_to_string(h.path().join(format!("err{i}.txt"))).unwrap();
            failed.push(format!("p{i}: exit {}: {err}", rc.trim()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    let projects = h.projects();
    assert_eq!(projects.len(), 16);
    let mut ports = std::collections::BTreeSet::new();
    for p in &projects {
        let port = p["port"].as_u64().unwrap();
        assert!(ports.insert(port), "port {port} twice");
        assert!(
            (u64::from(base)..u64::from(base) + 100).contains(&port),
            "{port} from the configured range"
        );
        let env = std::fs::read_to_string(h.path().join(p["name"].as_str().unwrap()).join(".env"))
            .unwrap();
        assert!(
            env.lines().any(|l| l == format!("APP_PORT={port}")),
            "{}: the registry has {port}, .env:\n{env}",
            p["name"]
        );
    }
    assert!(
        !h.home().join("registry.reservations").exists(),
        "every reservation released once its project is registered"
    );
}

/// Issue #11: `stackgen new --port P` refuses a port another project
/// claims (exit 2, naming it) unless --force.
#[test]
fn stackgen_new_refuses_a_claimed_port_unless_forced() {
    let h = Harness::new();
    // Ports nothing listens on: `claimed` for shop, the range's first for api.
    let base = common::free_range(10);
    let claimed = (base + 5).to_string();
    h.write(
        "home/config.yaml",
        &format!("port_range: {base}-{}\n", base + 9),
    );
    h.project("shop", &[]);
    h.cmd("registry")
        .args(["add", "shop", "--port", &claimed])
        .run()
        .success();
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "blog",
            "--no-generator",
            "--services",
            "none",
            "--port",
            &claimed,
        ])
        .run()
        .code_is(2)
        .stderr_has(&format!(
            "--port {claimed}: the port is already claimed by project 'shop'"
        ))
        .stderr_has("--force");
    assert!(!h.path().join("blog").exists(), "nothing generated");
    // Reserved by a pipeline under way counts too.
    h.cmd("ports")
        .args(["alloc", "--claim", "api"])
        .run()
        .success()
        .stdout_has(&format!("{base}\n"));
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "blog",
            "--no-generator",
            "--services",
            "none",
            "--port",
            &base.to_string(),
        ])
        .run()
        .code_is(2)
        .stderr_has("the port is already reserved for project 'api'");
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "blog",
            "--no-generator",
            "--services",
            "none",
            "--port",
            &claimed,
            "--force",
        ])
        .run()
        .success()
        .stderr_has(&format!(
            "port {claimed} is also claimed by project 'shop' (--force)"
        ));
    let env = std::fs::read_to_string(h.path().join("blog/.env")).unwrap();
    assert!(env.contains(&format!("APP_PORT={claimed}")), "{env}");
}
