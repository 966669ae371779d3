//! `shared` against the real Docker engine, PostgreSQL and MariaDB: one set
//! of servers, each project with its own database and user that reach no
//! other; `down` refused under a running user; data kept across a restart;
//! bad input refused before anything changes.
//!
//! Each test names its shared services on its own (`shared.name` in its
//! config), so the tests run side by side and never touch a developer's
//! own `berth-shared`.

// End-to-end scenarios read top to bottom; engine names without backticks.
#![allow(clippy::too_many_lines, clippy::doc_markdown)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use common::{Harness, Timed as _};

/// The shared services' name for this test (their project, network, prefix).
fn unique(tag: &str) -> String {
    format!("bs{}-{tag}", std::process::id())
}

/// Removes the shared services' containers, volumes and network, even when
/// the test fails.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        common::engines::Engine::Docker.remove_projects(std::slice::from_ref(&self.0));
        let _ = Command::new("docker")
            .args(["rm", "-f", &format!("{}-postgres", self.0)])
            .timed_output();
        let _ = Command::new("docker")
            .args(["network", "rm", &self.0])
            .timed_output();
    }
}

/// A harness whose config names the shared services `name`, with `extra`
/// config lines under `shared:`.
fn harness(name: &str, extra: &str) -> Harness {
    let h = Harness::new();
    h.write(
        "home/config.yaml",
        &format!("shared:\n  name: {name}\n{extra}"),
    );
    h
}

/// Register a project folder whose one service sleeps.
fn project(h: &Harness, name: &str) -> PathBuf {
    h.write(
        &format!("{name}/compose.yaml"),
        "services:\n  app:\n    image: berth/debian:bookworm\n    command: [\"sleep\", \"infinity\"]\n    init: true\n",
    );
    let dir = h.path().join(name);
    h.cmd("registry")
        .args(["add", dir.to_str().unwrap(), "--name", name, "-q"])
        .run()
        .success();
    dir
}

fn secret(h: &Harness, project: &str, key: &str) -> String {
    h.cmd("secrets")
        .args(["get", project, key])
        .run()
        .success()
        .stdout
        .trim_end()
        .to_owned()
}

/// SQL as a project's user, from a client container on the shared network
/// (the way an app connects: by the server's name, with a password; the
/// server's own localhost is trusted, as the official images do it):
/// (exit status, stdout + stderr). The password reaches the client through
/// the environment, never argv.
fn as_user(
    network: &str,
    server: &str,
    engine: &str,
    (user, password): (&str, &str),
    db: &str,
    sql: &str,
) -> (bool, String) {
    let mut c = Command::new("docker");
    c.args(["run", "--rm", "--network", network]);
    match engine {
        "postgres" => c
            .env("PGPASSWORD", password)
            .args(["-e", "PGPASSWORD", "--entrypoint", "psql", "postgres:16"])
            .args(["-h", server, "-U", user, "-d", db])
            .args(["-v", "ON_ERROR_STOP=1", "-tA", "-c", sql]),
        _ => c
            .env("MYSQL_PWD", password)
            .args(["-e", "MYSQL_PWD", "--entrypoint", "mariadb", "mariadb:11"])
            .args(["-h", server, "-u", user, "--batch", "-N"])
            .args(["-e", sql])
            .args(if db.is_empty() { vec![] } else { vec![db] }),
    };
    let out = c.timed_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A Redis command as `user` (None: no AUTH at all), from a client
/// container on the shared network, the password in the environment:
/// (exit status, stdout + stderr).
fn redis_as(network: &str, server: &str, user: Option<(&str, &str)>, cmd: &[&str]) -> String {
    let mut c = Command::new("docker");
    c.args(["run", "--rm", "--network", network]);
    if let Some((_, password)) = user {
        c.env("REDISCLI_AUTH", password)
            .args(["-e", "REDISCLI_AUTH"]);
    }
    c.args(["--entrypoint", "redis-cli", "redis:7", "-h", server]);
    if let Some((name, _)) = user {
        c.args(["--user", name]);
    }
    let out = c.args(cmd).timed_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .trim()
    .to_owned()
}

fn state_of(status: &Value, instance: &str) -> (String, Option<String>) {
    let s = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == instance)
        .unwrap_or_else(|| panic!("no {instance} in {status}"));
    (
        s["state"].as_str().unwrap().to_owned(),
        s["health"].as_str().map(str::to_owned),
    )
}

#[test]
fn projects_get_their_own_database_and_user_that_reach_no_other_on_postgres_and_mariadb() {
    if !common::docker_ready(&["postgres:16", "mariadb:11", "berth/debian:bookworm"]) {
        return;
    }
    let name = unique("iso");
    let _cleanup = Cleanup(name.clone());
    let h = harness(&name, "");
    let a = project(&h, "alpha");
    project(&h, "beta");

    h.cmd("shared")
        .args(["up", "postgres", "mariadb"])
        .run()
        .success()
        .stderr_has(&format!("{name}-postgres (healthy)"))
        .stderr_has(&format!("{name}-mariadb (healthy)"));
    let status = h
        .cmd("shared")
        .args(["status", "--json"])
        .run()
        .success()
        .json();
    for inst in ["postgres", "mariadb"] {
        assert_eq!(
            state_of(&status, inst),
            ("running".to_owned(), Some("healthy".to_owned()))
        );
    }
    // On the shared network by its own name only: no generic alias.
    let pg = format!("{name}-postgres");
    let maria = format!("{name}-mariadb");
    let aliases = common::stdout_of(
        "docker",
        &[
            "inspect",
            &pg,
            "-f",
            &format!("{{{{json (index .NetworkSettings.Networks \"{name}\").Aliases}}}}"),
        ],
    );
    assert!(
        !aliases.contains("\"postgres\"") && !aliases.contains("\"db\""),
        "{aliases}"
    );

    // Each project on each engine: a database and a user of its own.
    for (project, engine) in [
        ("alpha", "postgres"),
        ("beta", "postgres"),
        ("alpha", "mariadb"),
        ("beta", "mariadb"),
    ] {
        let r = h
            .cmd("shared")
            .args(["db", "create", project, "--engine", engine, "--json"])
            .run()
            .success()
            .json();
        assert_eq!(r["database"], project);
        assert_eq!(r["user"], format!("p_{project}"));
        assert_eq!(r["host"], format!("{name}-{engine}"));
    }
    // Without --engine, with two database servers: which one is asked.
    h.cmd("shared")
        .args(["db", "create", "alpha"])
        .run()
        .code_is(2)
        .stderr_has("several shared database servers")
        .stderr_has("--engine");
    let pw = |p: &str, engine: &str| {
        secret(
            &h,
            p,
            if engine == "postgres" {
                "SHARED_POSTGRES_PASSWORD"
            } else {
                "SHARED_MARIADB_PASSWORD"
            },
        )
    };
    let (a_pg, b_pg) = (pw("alpha", "postgres"), pw("beta", "postgres"));
    let (a_my, b_my) = (pw("alpha", "mariadb"), pw("beta", "mariadb"));
    assert_eq!(a_pg.len(), 32);
    assert_ne!(a_pg, b_pg);
    // A re-run changes nothing: same password, "already there".
    h.cmd("shared")
        .args(["db", "create", "alpha", "--engine", "postgres"])
        .run()
        .success()
        .stderr_has("already there");
    assert_eq!(pw("alpha", "postgres"), a_pg);

    // The registry knows which servers each project takes, and how to reach them.
    let shown = h
        .cmd("registry")
        .args(["show", "alpha", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(
        shown["shared"],
        serde_json::json!(["postgres", "mariadb"]),
        "{shown}"
    );
    assert_eq!(shown["environment"]["SHARED_POSTGRES_HOST"], pg.as_str());
    assert_eq!(shown["environment"]["SHARED_POSTGRES_USER"], "p_alpha");
    h.cmd("registry")
        .args(["show", "alpha"])
        .run()
        .success()
        .stdout_has(&format!("postgres ({pg})"));
    // No password in a compose file, the registry or the record.
    let files = [
        h.home().join("shared/compose.yaml"),
        h.registry_file(),
        h.home().join("shared/instances.json"),
    ];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for p in [&a_pg, &b_pg, &a_my, &b_my] {
            assert!(!text.contains(p.as_str()), "a password in {}", f.display());
        }
    }

    // Each reads and writes its own database.
    for (p, pass) in [("alpha", &a_pg), ("beta", &b_pg)] {
        let (ok, out) = as_user(
            &name,
            &pg,
            "postgres",
            (&format!("p_{p}"), pass),
            p,
            &format!("CREATE TABLE t (v text); INSERT INTO t VALUES ('{p}-row'); SELECT v FROM t"),
        );
        assert!(ok && out.contains(&format!("{p}-row")), "{out}");
    }
    for (p, pass) in [("alpha", &a_my), ("beta", &b_my)] {
        let (ok, out) = as_user(
            &name,
            &maria,
            "mariadb",
            (&format!("p_{p}"), pass),
            p,
            &format!("CREATE TABLE t (v text); INSERT INTO t VALUES ('{p}-row'); SELECT v FROM t"),
        );
        assert!(ok && out.contains(&format!("{p}-row")), "{out}");
    }

    // PostgreSQL: alpha's user cannot connect to beta's database (nor to
    // the server's own), cannot create roles; beta's row stays out of reach.
    for db in ["beta", "postgres", "berth"] {
        let (ok, out) = as_user(
            &name,
            &pg,
            "postgres",
            ("p_alpha", &a_pg),
            db,
            "SELECT v FROM t",
        );
        assert!(!ok, "alpha reached {db}: {out}");
        assert!(
            out.contains("permission denied for database"),
            "{db}: {out}"
        );
        assert!(!out.contains("beta-row"), "{out}");
    }
    let (ok, out) = as_user(
        &name,
        &pg,
        "postgres",
        ("p_alpha", &a_pg),
        "alpha",
        "CREATE ROLE intruder",
    );
    assert!(
        !ok && out.contains("permission denied to create role"),
        "{out}"
    );
    let (ok, out) = as_user(
        &name,
        &pg,
        "postgres",
        ("p_alpha", &b_pg),
        "alpha",
        "SELECT 1",
    );
    assert!(
        !ok && out.contains("password authentication failed"),
        "{out}"
    );

    // MariaDB: SHOW DATABASES shows alpha's own only; beta's table is
    // refused; no CREATE USER or CREATE ROLE.
    let (ok, out) = as_user(
        &name,
        &maria,
        "mariadb",
        ("p_alpha", &a_my),
        "",
        "SHOW DATABASES",
    );
    assert!(ok, "{out}");
    let dbs: Vec<&str> = out.lines().map(str::trim).collect();
    assert!(
        dbs.contains(&"alpha") && !dbs.contains(&"beta") && !dbs.contains(&"mysql"),
        "{out}"
    );
    let (ok, out) = as_user(
        &name,
        &maria,
        "mariadb",
        ("p_alpha", &a_my),
        "",
        "SELECT v FROM beta.t",
    );
    assert!(
        !ok && out.contains("denied") && !out.contains("beta-row"),
        "{out}"
    );
    let (ok, out) = as_user(
        &name,
        &maria,
        "mariadb",
        ("p_alpha", &a_my),
        "beta",
        "SELECT 1",
    );
    assert!(!ok && out.contains("denied"), "{out}");
    for sql in ["CREATE USER intruder", "CREATE ROLE intruder"] {
        let (ok, out) = as_user(&name, &maria, "mariadb", ("p_alpha", &a_my), "alpha", sql);
        assert!(!ok && out.contains("denied"), "{sql}: {out}");
    }

    // The list: each project's database on each server.
    let listed = h
        .cmd("shared")
        .args(["db", "list", "--json"])
        .run()
        .success()
        .json();
    let rows: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["instance"].as_str().unwrap().to_owned(),
                r["project"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    for inst in ["postgres", "mariadb"] {
        for p in ["alpha", "beta"] {
            assert!(rows.contains(&(inst.to_owned(), p.to_owned())), "{listed}");
        }
    }
    assert_eq!(rows.len(), 4, "{listed}");

    // Drop asks; with --yes it backs up first, then drops database and user.
    h.cmd("shared")
        .args(["db", "drop", "alpha", "--engine", "postgres"])
        .run()
        .code_is(2)
        .stderr_has("--yes");
    let (ok, _) = as_user(
        &name,
        &pg,
        "postgres",
        ("p_alpha", &a_pg),
        "alpha",
        "SELECT v FROM t",
    );
    assert!(ok, "a refused drop dropped");
    h.cmd("shared")
        .args(["db", "drop", "alpha", "--engine", "postgres", "--yes"])
        .run()
        .success()
        .stderr_has("dropped database alpha and user p_alpha");
    let backups: Vec<String> = std::fs::read_dir(a.join(".berth/backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        backups.iter().any(|f| f.ends_with("-before-drop.sql.zst")),
        "{backups:?}"
    );
    let (ok, out) = as_user(
        &name,
        &pg,
        "postgres",
        ("p_alpha", &a_pg),
        "alpha",
        "SELECT 1",
    );
    assert!(!ok && out.contains("p_alpha"), "{out}");
    let listed = h
        .cmd("shared")
        .args(["db", "list", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let shown = h
        .cmd("registry")
        .args(["show", "alpha", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(shown["shared"], serde_json::json!(["mariadb"]), "{shown}");
    assert!(
        shown["environment"].get("SHARED_POSTGRES_HOST").is_none(),
        "{shown}"
    );
    // The backup holds alpha's data.
    let file = a.join(".berth/backups").join(
        backups
            .iter()
            .find(|f| f.ends_with("-before-drop.sql.zst"))
            .unwrap(),
    );
    let sql = Command::new("zstd")
        .args(["-dc", file.to_str().unwrap()])
        .timed_output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&sql.stdout).contains("alpha-row"),
        "the backup lacks alpha's row"
    );
}

#[test]
fn on_the_shared_redis_each_project_is_an_acl_user_that_reaches_only_its_own_keys() {
    if !common::docker_ready(&["redis:7", "berth/debian:bookworm"]) {
        return;
    }
    let name = unique("kv");
    let _cleanup = Cleanup(name.clone());
    // PostgreSQL is configured too, and `up redis` starts and awaits Redis only.
    let h = harness(&name, "  services:\n    redis:\n    postgres:\n");
    project(&h, "alpha");
    project(&h, "beta");
    h.cmd("shared")
        .args(["up", "redis", "--timeout", "60s"])
        .run()
        .success()
        .stderr_has(&format!("{name}-redis (healthy)"));
    let server = format!("{name}-redis");
    let ps = Command::new("docker")
        .args(["ps", "-a", "--format", "{{.Names}}"])
        .timed_output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&ps.stdout).contains(&format!("{name}-postgres")),
        "up redis started PostgreSQL too"
    );

    h.cmd("shared")
        .args(["db", "create", "alpha", "--engine", "redis"])
        .run()
        .success()
        .stderr_has("user p_alpha")
        .stderr_has("keys p_alpha:*");
    let row = h
        .cmd("shared")
        .args(["db", "create", "beta", "--instance", "redis", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(row["engine"], "redis", "{row}");
    assert_eq!(row["database"], "p_beta:*", "{row}");
    assert_eq!(row["user"], "p_beta", "{row}");
    // Twice is a no-op: same user, same password.
    let a_pw = secret(&h, "alpha", "SHARED_REDIS_PASSWORD");
    h.cmd("shared")
        .args(["db", "create", "alpha", "--engine", "redis"])
        .run()
        .success()
        .stderr_has("already there");
    assert_eq!(secret(&h, "alpha", "SHARED_REDIS_PASSWORD"), a_pw);
    let b_pw = secret(&h, "beta", "SHARED_REDIS_PASSWORD");
    let a = Some(("p_alpha", a_pw.as_str()));
    let b = Some(("p_beta", b_pw.as_str()));

    assert_eq!(
        redis_as(&name, &server, a, &["SET", "p_alpha:k", "mine"]),
        "OK"
    );
    assert_eq!(
        redis_as(&name, &server, b, &["SET", "p_beta:k", "theirs"]),
        "OK"
    );
    assert_eq!(redis_as(&name, &server, a, &["GET", "p_alpha:k"]), "mine");
    // In another database number too, still only its own keys.
    assert_eq!(
        redis_as(&name, &server, a, &["-n", "1", "SET", "p_alpha:q", "1"]),
        "OK"
    );
    for cmd in [
        &["GET", "p_beta:k"][..],
        &["SET", "p_beta:k", "stolen"],
        &["DEL", "p_beta:k"],
        &["SET", "unprefixed", "x"],
        &["-n", "1", "GET", "p_beta:k"],
        &["KEYS", "*"],
        &["SCAN", "0"],
        &["RANDOMKEY"],
        &["DBSIZE"],
        &["FLUSHALL"],
        &["FLUSHDB"],
        &["ACL", "LIST"],
        &["ACL", "SETUSER", "p_alpha", "~*"],
        &["CONFIG", "GET", "*"],
        &["PUBLISH", "p_beta:events", "x"],
        &["MONITOR"],
    ] {
        let out = redis_as(&name, &server, a, cmd);
        assert!(out.contains("NOPERM"), "alpha ran {cmd:?}: {out}");
    }
    assert_eq!(
        redis_as(&name, &server, a, &["PUBLISH", "p_alpha:events", "x"]),
        "0"
    );
    assert!(
        redis_as(
            &name,
            &server,
            Some(("p_alpha", "wrong")),
            &["GET", "p_alpha:k"]
        )
        .contains("WRONGPASS")
    );
    assert!(redis_as(&name, &server, None, &["GET", "p_alpha:k"]).contains("NOAUTH"));
    assert_eq!(redis_as(&name, &server, b, &["GET", "p_beta:k"]), "theirs");

    // The registry tells the project where it is; no password in berth's files.
    let alpha = h
        .projects()
        .into_iter()
        .find(|p| p["name"] == "alpha")
        .unwrap();
    assert_eq!(alpha["shared"], serde_json::json!(["redis"]), "{alpha}");
    assert_eq!(alpha["environment"]["SHARED_REDIS_HOST"], server.as_str());
    assert_eq!(alpha["environment"]["SHARED_REDIS_USER"], "p_alpha");
    assert_eq!(alpha["environment"]["SHARED_REDIS_KEY_PREFIX"], "p_alpha:");
    let compose = std::fs::read_to_string(h.home().join("shared/compose.yaml")).unwrap();
    let admin_pw = h
        .cmd("secrets")
        .args(["get", &name, "REDIS_PASSWORD"])
        .run()
        .success()
        .stdout
        .trim()
        .to_owned();
    let registry = String::from_utf8(h.registry_bytes()).unwrap();
    for pw in [&a_pw, &b_pw, &admin_pw] {
        assert!(
            !registry.contains(pw.as_str()),
            "a password in the registry"
        );
        assert!(!compose.contains(pw.as_str()), "a password in compose.yaml");
    }
    let listed = h
        .cmd("shared")
        .args(["db", "list", "--json"])
        .run()
        .success()
        .json();
    let users: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["engine"] == "redis")
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["p_alpha", "p_beta"], "{listed}");

    // A restart keeps the users (the ACL file in the volume) and the keys.
    h.cmd("shared").args(["down", "--yes"]).run().success();
    h.cmd("shared").args(["up", "redis"]).run().success();
    assert_eq!(redis_as(&name, &server, a, &["GET", "p_alpha:k"]), "mine");
    assert!(redis_as(&name, &server, a, &["GET", "p_beta:k"]).contains("NOPERM"));

    // Drop asks; with --yes the user and its keys go, the other's stay.
    h.cmd("shared")
        .args(["db", "drop", "alpha", "--engine", "redis"])
        .run()
        .code_is(2)
        .stderr_has("--yes");
    assert_eq!(redis_as(&name, &server, a, &["GET", "p_alpha:k"]), "mine");
    h.cmd("shared")
        .args(["db", "drop", "alpha", "--engine", "redis", "--yes"])
        .run()
        .success()
        .stderr_has("removed user p_alpha and 2 key(s)");
    assert!(redis_as(&name, &server, a, &["GET", "p_alpha:k"]).contains("WRONGPASS"));
    assert_eq!(redis_as(&name, &server, b, &["GET", "p_beta:k"]), "theirs");
    let alpha = h
        .projects()
        .into_iter()
        .find(|p| p["name"] == "alpha")
        .unwrap();
    assert!(
        alpha["shared"].as_array().is_none_or(Vec::is_empty),
        "{alpha}"
    );
    assert!(
        alpha["environment"].get("SHARED_REDIS_USER").is_none(),
        "{alpha}"
    );
    h.cmd("secrets")
        .args(["get", "alpha", "SHARED_REDIS_PASSWORD"])
        .run()
        .code_is(2)
        .stderr_has("SHARED_REDIS_PASSWORD");
    // Forgetting a project that still has an account says so, and how to drop it.
    h.cmd("registry")
        .args(["remove", "beta", "--yes"])
        .run()
        .success()
        .stderr_has("accounts on the shared servers (redis)")
        .stderr_has("shared db drop beta --instance redis");
}

#[test]
fn add_service_shared_takes_redis_from_the_shared_servers_and_remove_service_gives_it_back() {
    let h = harness(&unique("add"), "");
    let port = common::free_port().to_string();
    let json = h
        .cmd("stackgen")
        .args([
            "new",
            "django",
            "shop",
            "--no-generator",
            "--services",
            "postgres",
        ])
        .args(["--port", &port, "--json"])
        .run()
        .success()
        .stdout;
    h.cmd("registry")
        .args(["add", "-", "-q"])
        .stdin(json)
        .run()
        .success();
    let dir = h.path().join("shop");
    let dir_s = dir.to_str().unwrap();
    let services_file = dir.join(".berth/compose.services.yaml");
    let shared_of = |h: &Harness| {
        h.projects()
            .into_iter()
            .find(|p| p["name"] == "shop")
            .unwrap()["shared"]
            .clone()
    };

    // Not a server with accounts, or published: exit 2, nothing changed.
    let before = std::fs::read(&services_file).unwrap();
    let registry = h.registry_bytes();
    for (args, says) in [
        (
            vec!["mailpit", "--shared"],
            "cannot be taken from a shared server",
        ),
        (
            vec!["redis", "--shared", "--publish", "redis"],
            "cannot be used with",
        ),
    ] {
        h.cmd("stackgen")
            .args(["add-service", "--yes", "--dir", dir_s])
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has(says);
        assert_eq!(std::fs::read(&services_file).unwrap(), before);
        assert_eq!(h.registry_bytes(), registry);
    }

    h.cmd("stackgen")
        .args(["add-service", "redis", "--shared", "--yes", "--dir", dir_s])
        .run()
        .success();
    let services = std::fs::read_to_string(&services_file).unwrap();
    assert!(!services.contains("image: redis"), "{services}");
    assert!(
        services.contains("redis://p_shop:${SHARED_REDIS_PASSWORD}@"),
        "{services}"
    );
    assert!(
        services.contains("REDIS_KEY_PREFIX: 'p_shop:'"),
        "{services}"
    );
    let declared = std::fs::read_to_string(dir.join("berth.yaml")).unwrap();
    assert!(declared.contains("shared: true"), "{declared}");
    assert_eq!(shared_of(&h), serde_json::json!(["redis"]));
    // The project holds its own Redis password, nothing of the server's.
    assert_eq!(secret(&h, "shop", "SHARED_REDIS_PASSWORD").len(), 32);

    h.cmd("stackgen")
        .args(["remove-service", "redis", "--yes", "--dir", dir_s])
        .run()
        .success()
        .stderr_has("account on the shared redis is kept")
        .stderr_has("shared db drop shop --instance redis");
    let services = std::fs::read_to_string(&services_file).unwrap();
    assert!(!services.contains("REDIS_URL"), "{services}");
    assert!(
        shared_of(&h).as_array().is_none_or(Vec::is_empty),
        "{}",
        shared_of(&h)
    );
}

#[test]
fn down_is_refused_while_a_user_runs_stop_of_a_project_leaves_them_and_data_survives() {
    if !common::docker_ready(&["postgres:16", "berth/debian:bookworm"]) {
        return;
    }
    let name = unique("down");
    let _cleanup = Cleanup(name.clone());
    let h = harness(&name, "  services:\n    postgres:\n");
    project(&h, "user1");
    let _project_cleanup = ProjectCleanup("user1".into());
    // With no names: the configured ones.
    h.cmd("shared").args(["up"]).run().success();
    h.cmd("shared")
        .args(["db", "create", "user1"])
        .run()
        .success();
    let pg = format!("{name}-postgres");
    let pass = secret(&h, "user1", "SHARED_POSTGRES_PASSWORD");
    let (ok, out) = as_user(
        &name,
        &pg,
        "postgres",
        ("p_user1", &pass),
        "user1",
        "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')",
    );
    assert!(ok, "{out}");

    h.cmd("stackctl").args(["start", "user1"]).run().success();
    let running =
        || common::stdout_of("docker", &["inspect", "-f", "{{.State.Running}}", &pg]) == "true";
    h.cmd("shared")
        .args(["down"])
        .run()
        .code_is(1)
        .stderr_has("running projects use them: user1")
        .stderr_has("stackctl stop user1");
    assert!(running(), "a refused down stopped the server");
    // Stopping the project never stops the shared servers.
    h.cmd("stackctl").args(["stop", "user1"]).run().success();
    assert!(running(), "stackctl stop stopped the shared server");
    h.cmd("stackctl").args(["start", "user1"]).run().success();
    h.cmd("shared")
        .args(["down", "--yes"])
        .run()
        .success()
        .stderr_has("(--yes): user1")
        .stderr_has("data kept");
    assert!(!running(), "down --yes left the server running");
    let status = h
        .cmd("shared")
        .args(["status", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(state_of(&status, "postgres").0, "absent");
    // Up again: the project's data is there, its password still works, and
    // the running project reaches the new server by its name again.
    h.cmd("shared").args(["up"]).run().success();
    let app = common::stdout_of(
        "docker",
        &[
            "ps",
            "-q",
            "--filter",
            "label=com.docker.compose.project=user1",
        ],
    );
    let resolved = Command::new("docker")
        .args(["exec", app.trim(), "getent", "hosts", &pg])
        .timed_output()
        .unwrap();
    assert!(
        resolved.status.success(),
        "{pg} is not on user1's network again"
    );
    let (ok, out) = as_user(
        &name,
        &pg,
        "postgres",
        ("p_user1", &pass),
        "user1",
        "SELECT v FROM kept",
    );
    assert!(ok && out.contains("survives"), "{out}");
    let status = h
        .cmd("shared")
        .args(["status", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(status[0]["projects"], serde_json::json!(["user1"]));
}

/// Removes a project's containers (compose project = its name).
struct ProjectCleanup(String);

impl Drop for ProjectCleanup {
    fn drop(&mut self) {
        common::engines::Engine::Docker.remove_projects(std::slice::from_ref(&self.0));
    }
}

#[test]
fn bad_input_exits_2_names_it_and_changes_nothing() {
    if !common::docker_ready(&["postgres:16", "berth/debian:bookworm"]) {
        return;
    }
    let name = unique("bad");
    let _cleanup = Cleanup(name.clone());
    let h = harness(
        &name,
        "  services:\n    old: {service: postgres, version: \"9\"}\n",
    );
    project(&h, "shop");
    let nothing_written = |h: &Harness| {
        assert!(
            !h.home().join("shared").exists(),
            "the shared folder was written"
        );
        assert!(
            !common::succeeds_within(
                Command::new("docker").args(["network", "inspect", &name]),
                common::TIMEOUT
            ),
            "the network was created"
        );
    };
    for (args, says) in [
        (vec!["up", "nosuch"], "unknown service 'nosuch'"),
        (
            vec!["up", "adminer"],
            "'adminer' cannot run as a shared service",
        ),
        (vec!["up", "Bad_Name"], "invalid shared service name"),
        (
            vec!["up", "old"],
            "version '9' of postgres is not in the catalog",
        ),
        (
            vec!["db", "create", "shop", "--engine", "oracle"],
            "unknown engine 'oracle'",
        ),
        (vec!["db", "create", "Bad_Name"], "invalid project name"),
        (
            vec!["db", "create", "nobody", "--engine", "postgres"],
            "no project named 'nobody'",
        ),
        (
            vec!["db", "create", "shop", "--instance", "nosuch"],
            "not a database server",
        ),
        (
            vec!["db", "create", "shop", "--instance", "postgres"],
            "is not running",
        ),
        (vec!["logs", "postgres"], "never started"),
    ] {
        h.cmd("shared")
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has(says);
        nothing_written(&h);
    }
    let registry = h.registry_bytes();
    // stackgen's --shared: database servers only, never published by the project.
    for (args, says) in [
        (
            vec!["--shared", "mailpit"],
            "cannot be taken from a shared server",
        ),
        (
            vec!["--shared", "postgres", "--publish", "postgres"],
            "comes from the shared servers",
        ),
        (vec!["--shared", "Post gres"], "invalid shared service"),
    ] {
        h.cmd("stackgen")
            .args(["new", "django", "gen", "--no-generator"])
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has(says);
        assert!(!h.path().join("gen").exists(), "stackgen wrote a folder");
    }
    // A berth.yaml whose `shared` is not true or false: its line named.
    let port = common::free_port().to_string();
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "declared",
            "--no-generator",
            "--services",
            "postgres",
        ])
        .args(["--port", &port, "-q"])
        .run()
        .success();
    h.write(
        "declared/berth.yaml",
        "version: 1\nstack: django\nname: declared\ninstances:\n  postgres:\n    shared: \"yes\"\n",
    );
    h.cmd("stackgen")
        .args(["config", "--dir"])
        .arg(h.path().join("declared"))
        .run()
        .code_is(2)
        .stderr_has("shared")
        .stderr_has("expected true or false");

    // A bad config: its file named.
    let bad = harness(&name, "  services:\n    pg: {versoin: \"15\"}\n");
    bad.cmd("shared")
        .args(["up", "pg"])
        .run()
        .code_is(2)
        .stderr_has("config.yaml");
    nothing_written(&bad);

    // A container holding a shared server's name under another compose project.
    let squatter = format!("{name}-postgres");
    Command::new("docker")
        .args(["run", "-d", "--name", &squatter])
        .args(["--label", "com.docker.compose.project=someone-else"])
        .args(["--label", "com.docker.compose.service=db"])
        .args(["berth/debian:bookworm", "sleep", "infinity"])
        .timed_output()
        .unwrap();
    let clean = harness(&name, "");
    clean
        .cmd("shared")
        .args(["up", "postgres"])
        .run()
        .code_is(2)
        .stderr_has(&format!(
            "container {squatter} belongs to the compose project 'someone-else'"
        ));
    nothing_written(&clean);
    let _ = Command::new("docker")
        .args(["rm", "-f", &squatter])
        .timed_output();

    // A configured host port something else listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let taken = harness(
        &name,
        &format!("  services:\n    postgres: {{port: {port}}}\n"),
    );
    taken
        .cmd("shared")
        .args(["up"])
        .run()
        .code_is(2)
        .stderr_has(&format!("port {port} of shared service postgres is taken"));
    nothing_written(&taken);
    assert_eq!(h.registry_bytes(), registry, "the registry changed");
}

#[test]
fn dbdump_backs_up_restores_and_opens_a_shell_on_a_projects_own_shared_database_only() {
    if !common::docker_ready(&["postgres:16", "berth/debian:bookworm"]) {
        return;
    }
    let name = unique("dump");
    let _cleanup = Cleanup(name.clone());
    let h = harness(&name, "  services:\n    postgres:\n");
    project(&h, "one");
    project(&h, "two");
    h.cmd("shared").args(["up"]).run().success();
    for p in ["one", "two"] {
        h.cmd("shared").args(["db", "create", p]).run().success();
    }
    let pg = format!("{name}-postgres");
    let one = secret(&h, "one", "SHARED_POSTGRES_PASSWORD");
    let two = secret(&h, "two", "SHARED_POSTGRES_PASSWORD");
    let sql = |user: (&str, &str), db: &str, q: &str| as_user(&name, &pg, "postgres", user, db, q);
    for (p, pass) in [("one", &one), ("two", &two)] {
        let (ok, out) = sql(
            (&format!("p_{p}"), pass),
            p,
            &format!("CREATE TABLE t (v text); INSERT INTO t VALUES ('{p}-1')"),
        );
        assert!(ok, "{out}");
    }
    // The project has no database service: dbdump takes its shared one.
    let backup = h
        .cmd("dbdump")
        .args(["backup", "--project", "one", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(backup["database"], "one", "{backup}");
    let (ok, out) = sql(("p_one", &one), "one", "INSERT INTO t VALUES ('one-2')");
    assert!(ok, "{out}");
    h.cmd("dbdump")
        .args(["restore", "--project", "one", "--yes"])
        .arg(backup["file"].as_str().unwrap())
        .run()
        .success();
    let (ok, out) = sql(("p_one", &one), "one", "SELECT string_agg(v, ',') FROM t");
    assert!(ok && out.trim() == "one-1", "after the restore: {out}");
    // Only its own: the other project's data is as it was, and the restored
    // database keeps its privileges (the other user still cannot connect).
    let (ok, out) = sql(("p_two", &two), "two", "SELECT string_agg(v, ',') FROM t");
    assert!(ok && out.trim() == "two-1", "{out}");
    let (ok, out) = sql(("p_two", &two), "one", "SELECT 1");
    assert!(
        !ok && out.contains("permission denied for database"),
        "{out}"
    );
    // Another database of the server: refused, naming its own.
    h.cmd("dbdump")
        .args(["backup", "--project", "one", "--database", "two"])
        .run()
        .code_is(2)
        .stderr_has("its own is one");
    // The shell is the project's user's, not the administrator's.
    let shell = h
        .cmd("dbdump")
        .args(["shell", "--project", "one"])
        .stdin("SELECT current_user;\n")
        .run()
        .success();
    assert!(shell.stdout.contains("p_one"), "{}", shell.stdout);
    h.cmd("dbdump")
        .args(["shell", "--project", "one"])
        .stdin("CREATE ROLE intruder;\n")
        .run()
        .code_is(2)
        .stderr_has("permission denied to create role");
}
