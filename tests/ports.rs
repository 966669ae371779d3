//! `ports` as a user runs it: scan, check from every input, probe of real
//! listeners, alloc, free, usage, who.

mod common;

use std::net::TcpListener;

use common::Harness;

#[test]
fn check_reads_compose_paths_and_project_json_files() {
    let h = Harness::new();
    h.project("a", &["8080:80"]);
    h.project("b", &["127.0.0.1:8080:8080"]);
    h.project("c", &["8081:80"]);
    h.cmd("ports")
        .args(["check", "a", "b"])
        .run()
        .code_is(1)
        .stdout_has("a/db (0.0.0.0), b/db (127.0.0.1)");
    h.cmd("ports").args(["check", "a", "c"]).run().success();
    h.cmd("ports")
        .args(["check", "a/compose.yaml", "b/compose.yaml"])
        .run()
        .code_is(1);
    h.write("p.json", r#"[{"name":"x","service_ports":[{"service":"web","published":9000,"target":80}]},
                          {"name":"y","service_ports":[{"service":"web","host_ip":"::","published":9000,"target":80}]}]"#);
    let v = h
        .cmd("ports")
        .args(["check", "p.json", "--json"])
        .run()
        .code_is(1)
        .json();
    assert_eq!(v[0]["claims"].as_array().unwrap().len(), 2);
    // Same port, different protocols: no conflict.
    h.write("q.json", r#"{"name":"x","service_ports":[{"service":"dns","published":53,"target":53,"protocol":"udp"}]}
{"name":"y","service_ports":[{"service":"dns","published":53,"target":53,"protocol":"tcp"}]}"#);
    h.cmd("ports").args(["check", "q.json"]).run().success();
}

#[test]
fn check_defaults_to_the_registry_and_honours_running() {
    let h = Harness::new();
    h.project("a", &["6379:6379"]);
    h.project("b", &["6379:6379"]);
    h.cmd("registry").args(["add", "a"]).run().success();
    h.cmd("registry").args(["add", "b"]).run().success();
    h.cmd("ports")
        .args(["check", "--registry"])
        .run()
        .code_is(1);
    h.cmd("ports")
        .args(["check", "--registry", "--running"])
        .run()
        .success();
    h.cmd("registry")
        .args(["set-status", "a", "running"])
        .run()
        .success();
    h.cmd("ports")
        .args(["check", "--registry", "--running"])
        .run()
        .success();
    h.cmd("registry")
        .args(["set-status", "b", "running"])
        .run()
        .success();
    h.cmd("ports")
        .args(["check", "--registry", "--running"])
        .run()
        .code_is(1);
}

#[test]
fn probe_reports_a_real_listener_with_its_process() {
    let h = Harness::new();
    let sock = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    h.project("a", &[&format!("{port}:80")]);
    h.cmd("registry").args(["add", "a"]).run().success();
    h.cmd("ports").args(["check", "--registry"]).run().success();
    let v = h
        .cmd("ports")
        .args(["check", "--registry", "--probe", "--json"])
        .run()
        .code_is(1)
        .json();
    let claims = v[0]["claims"].as_array().unwrap();
    let system = claims
        .iter()
        .find(|c| c["source"] == "system")
        .expect("a system claim");
    assert_eq!(system["pid"], std::process::id());
    assert_eq!(system["host_ip"], "127.0.0.1");
    // A running project's own listener is not a conflict with itself.
    h.cmd("registry")
        .args(["set-status", "a", "running"])
        .run()
        .success();
    h.cmd("ports")
        .args(["check", "--registry", "--probe"])
        .run()
        .success();
    // free and who see it too.
    h.cmd("ports")
        .args(["free", &port.to_string()])
        .run()
        .code_is(1)
        .stdout_has("is taken: a/db");
    let who = h
        .cmd("ports")
        .args(["who", &port.to_string(), "--json"])
        .run()
        .success()
        .json();
    let sources: Vec<&str> = who
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["registry", "system"]);
    drop(sock);
}

#[test]
fn alloc_skips_claimed_and_busy_ports() {
    let h = Harness::new();
    // A range of 11 ports nothing listens on, so every port's state is known.
    let base = common::free_range(11);
    let p = |i: u16| base + i;
    let range = |last: u16| format!("{base}-{}", p(last));
    h.write(
        "p.json",
        &format!(
            r#"[{{"name":"a","port":{base},"service_ports":[{{"service":"db","published":{},"target":5432}}]}}]"#,
            p(2)
        ),
    );
    h.cmd("registry").args(["import", "p.json"]).run().success();
    let _busy = TcpListener::bind(("0.0.0.0", p(3))).expect("a port free_range found free");
    let got = h
        .cmd("ports")
        .args(["alloc", "--range", &range(10), "--count", "3", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(got, serde_json::json!([p(1), p(4), p(5)]));
    assert_eq!(
        h.cmd("ports")
            .args(["alloc", "--range", &range(1)])
            .run()
            .success()
            .stdout,
        format!("{}\n", p(1))
    );
    h.cmd("ports")
        .args(["alloc", "--range", &range(2), "--count", "2"])
        .run()
        .code_is(2)
        .stderr_has(&format!("only 1 free port(s) in {}, 2 asked for", range(2)));
    h.cmd("ports")
        .args(["alloc", "--range", "7000-6000"])
        .run()
        .code_is(2)
        .stderr_has("start is above end");
    // The configured range is the default.
    std::fs::write(
        h.home().join("config.yaml"),
        format!("port_range: {}\n", range(1)),
    )
    .unwrap();
    assert_eq!(
        h.cmd("ports").arg("alloc").run().success().stdout,
        format!("{}\n", p(1))
    );
}

#[test]
fn free_usage_and_who() {
    let h = Harness::new();
    h.project("shop", &["127.0.0.1:15432:5432", "15433:5433/udp"]);
    h.cmd("registry")
        .args(["add", "shop", "--port", "6200"])
        .run()
        .success();
    h.cmd("ports")
        .args(["free", "6200"])
        .run()
        .code_is(1)
        .stdout_has("6200/tcp is taken: shop/http");
    h.cmd("ports").args(["free", "15433"]).run().success();
    h.cmd("ports")
        .args(["free", "15433", "--protocol", "udp"])
        .run()
        .code_is(1);
    let v = h
        .cmd("ports")
        .args(["free", "6201", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(v["free"], true);
    let usage = h
        .cmd("ports")
        .args(["usage", "--json"])
        .run()
        .success()
        .json();
    let ports: Vec<u64> = usage
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [6200, 15432, 15433]);
    h.cmd("ports").args(["usage", "--format", "csv"]).run().success().stdout_has("port,protocol,host_ip,project,service,source,status\n6200,tcp,0.0.0.0,shop,http,registry,unknown\n");
    h.cmd("ports")
        .args(["who", "15432"])
        .run()
        .success()
        .stdout_has("shop");
    h.cmd("ports").args(["who", "0"]).run().code_is(2);
    h.cmd("ports").args(["free", "70000"]).run().code_is(2);
}

#[test]
fn bad_input_exits_2() {
    let h = Harness::new();
    h.cmd("ports")
        .args(["check", "-"])
        .stdin("{\"name\":")
        .run()
        .code_is(2)
        .stderr_has("ports: error: invalid JSON in <stdin> at line 1");
    h.cmd("ports")
        .args(["check", "-"])
        .stdin("{\"name\":\"a;b\"}")
        .run()
        .code_is(2)
        .stderr_has("invalid project name 'a;b'");
    h.cmd("ports")
        .args(["check", "nowhere"])
        .run()
        .code_is(2)
        .stderr_has("nowhere does not exist");
    h.cmd("ports")
        .args(["scan", "nowhere"])
        .run()
        .code_is(2)
        .stderr_has("nowhere does not exist");
    h.write("empty/.keep", "");
    h.cmd("ports")
        .args(["scan", "empty"])
        .run()
        .code_is(2)
        .stderr_has("no compose file in");
    h.write("y/compose.yaml", "services: [\n");
    h.cmd("ports")
        .args(["scan", "y"])
        .run()
        .code_is(2)
        .stderr_has("invalid YAML in")
        .stderr_has("y/compose.yaml");
    h.cmd("ports").args(["bogus"]).run().code_is(2);
}

#[test]
fn imported_service_ports_are_never_allocated() {
    let h = Harness::new();
    // A range nothing listens on (5000-5999 may be in use on this machine).
    let base = common::free_range(3);
    h.write(
        "home/config.yaml",
        &format!("port_range: {base}-{}\n", base + 2),
    );
    // No exposed_ports in the file: import derives them from service_ports.
    h.write(
        "p.json",
        &format!(
            r#"[{{"name":"a","service_ports":[{{"service":"db","published":{base},"target":5432}}]}}]"#
        ),
    );
    h.cmd("registry").args(["import", "p.json"]).run().success();
    h.project("b", &[]);
    let b = h
        .cmd("registry")
        .args(["add", "b", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(b["port"], base + 1);
    assert_eq!(
        h.cmd("ports").arg("alloc").run().success().stdout,
        format!("{}\n", base + 2)
    );
}
