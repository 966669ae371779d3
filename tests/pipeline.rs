//! The tools composed through a real shell pipe, as users run them.

mod common;

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
    h.sh("registry list --json | ports check").run().success();
    // NDJSON between the tools works the same.
    h.sh("registry list --format ndjson | ports check")
        .run()
        .success();
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
    for format in ["table", "json", "ndjson", "csv"] {
        let run = h
            .sh(&format!(
                "set -o pipefail; registry list --format {format} | head -c 10 >/dev/null"
            ))
            .run();
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{format}: {}", run.stderr);
    }
}
