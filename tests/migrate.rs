//! `stackgen migrate` against the real Docker engine, PostgreSQL and
//! MariaDB: a Django project's own database moved onto the shared server
//! and back, every table's rows equal after each move, every object the
//! project's user's; bad input refused before anything changes.
//!
//! Each test names its shared services and its projects on its own (the
//! process id), so runs never touch a developer's own `berth-shared`.

// End-to-end scenarios read top to bottom; engine names without backticks.
#![allow(clippy::too_many_lines, clippy::doc_markdown)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Harness, Timed as _};

/// The shared services' or a project's name for this test.
fn unique(tag: &str) -> String {
    format!("mg{}{tag}", std::process::id())
}

/// Removes the test's shared services and projects (containers, volumes,
/// networks), even when the test fails.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        common::engines::Engine::Docker.remove_projects(&self.0);
        for n in &self.0 {
            for s in ["postgres", "mariadb"] {
                let _ = Command::new("docker")
                    .args(["rm", "-f", "-v", &format!("{n}-{s}")])
                    .timed_output();
                let _ = Command::new("docker")
                    .args(["volume", "rm", "-f", &format!("{n}-{s}-data")])
                    .timed_output();
            }
            let _ = Command::new("docker")
                .args(["network", "rm", n])
                .timed_output();
        }
    }
}

/// A harness whose config names the shared services `shared`, with the
/// one server `service`.
fn harness(shared: &str, service: &str) -> Harness {
    let h = Harness::new();
    h.write(
        "home/config.yaml",
        &format!("shared:\n  name: {shared}\n  services:\n    {service}:\n"),
    );
    h
}

/// `stackgen new django NAME --services SERVICES --json | registry add -`
/// on `port`.
fn new_project_on(h: &Harness, name: &str, services: &str, port: u16) -> PathBuf {
    let dir = h.path().join(name);
    let port = port.to_string();
    let json = h
        .cmd("stackgen")
        .args(["new", "django", name, "--services", services])
        .args(["--port", &port, "--json", "--dir"])
        .arg(&dir)
        .timeout(Duration::from_secs(600))
        .run()
        .success()
        .stdout;
    h.cmd("registry")
        .args(["add", "-", "-q"])
        .stdin(json)
        .run()
        .success();
    dir
}

fn new_project(h: &Harness, name: &str, services: &str) -> PathBuf {
    new_project_on(h, name, services, common::free_port())
}

/// `stackctl start NAME` as a user runs it, then GET / until it answers 200.
fn start_and_get(h: &Harness, name: &str, port: u16) {
    h.cmd("stackctl")
        .args(["start", name, "--timeout", "900"])
        .timeout(Duration::from_secs(1000))
        .run()
        .success();
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed() < Duration::from_secs(180) {
        match common::http_get(port, "/") {
            Some((200, _, _)) => return,
            other => last = other.map(|(s, _, b)| (s, b)),
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    panic!("{name}: no HTTP 200 on port {port}: last {last:?}");
}

/// What the running app's Django connection reaches: its host and the
/// number of customers.
fn django_sees(h: &Harness, name: &str) -> String {
    h.cmd("stackctl")
        .args(["exec", name, "--", "python3", "manage.py", "shell", "-c"])
        .arg(
            "from django.db import connection; c = connection.cursor(); \
             c.execute('SELECT count(*) FROM customers'); \
             print(connection.settings_dict['HOST'], c.fetchone()[0])",
        )
        .run()
        .success()
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
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

/// Start only the project's own database server, as a user would with
/// compose and the secret in the environment; wait until it answers.
fn start_own_db(h: &Harness, dir: &Path, project: &str, service: &str, keys: &[&str]) -> String {
    let plugin = Command::new("docker")
        .args(["compose", "version"])
        .timed_output()
        .is_ok_and(|o| o.status.success());
    let mut c = if plugin {
        let mut c = Command::new("docker");
        c.arg("compose");
        c
    } else {
        Command::new("docker-compose")
    };
    c.args(["up", "-d", "--no-deps", service])
        .current_dir(dir)
        .env_remove("COMPOSE_FILE");
    for k in keys {
        c.env(k, secret(h, project, k));
    }
    let out = c.output_in(Duration::from_secs(300)).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let container = format!("{project}-{service}");
    let password = secret(h, project, keys[0]);
    for _ in 0..120 {
        let (ok, _) = sql_in(&container, service, ("app", &password), "app", "SELECT 1");
        if ok {
            return password;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!("{container} never answered");
}

/// SQL in a database server's container as `user` (PostgreSQL: the
/// server's own localhost is trusted, as the official image does it;
/// MariaDB: with the password, through the environment): (ok, output).
fn sql_in(
    container: &str,
    engine: &str,
    (user, password): (&str, &str),
    db: &str,
    sql: &str,
) -> (bool, String) {
    let mut c = Command::new("docker");
    c.args(["exec", "-i"]);
    if engine == "postgres" {
        c.arg(container)
            .args(["psql", "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-tA"])
            .args(["-c", sql]);
    } else {
        c.env("MYSQL_PWD", password)
            .args(["-e", "MYSQL_PWD", container])
            .args(["mariadb", "-u", user, "--batch", "-N", "-e", sql, db]);
    }
    let out = c.output_in(Duration::from_secs(120)).unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sql_ok(container: &str, engine: &str, user: (&str, &str), db: &str, sql: &str) -> String {
    let (ok, out) = sql_in(container, engine, user, db, sql);
    assert!(ok, "{container}: {sql}: {out}");
    out
}

/// The PostgreSQL data: a serial, NULLs, unicode, a view, a foreign key.
const PG_DATA: &str = "\
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, note text, born date);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers(id), total numeric(10,2), tags text[]);
INSERT INTO customers (name, note, born) VALUES ('Zoë', NULL, '1990-02-03'), ('Иван', 'ünïcødé ✓', NULL), ('李', E'two\\nlines', '2001-12-31');
INSERT INTO orders (customer, total, tags) SELECT 1 + g % 3, g * 1.25, ARRAY['a', NULL] FROM generate_series(1, 200) g;
DELETE FROM orders WHERE id > 190;
CREATE VIEW totals AS SELECT c.name, sum(o.total) AS total FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.name;";

/// What the test compares (independent of dbdump's fingerprint): every
/// table's rows in order, the view's rows and the sequences' next values
/// (`nextval` moves them: the same on both sides).
fn pg_fingerprint(container: &str, user: &str, db: &str) -> String {
    sql_ok(
        container,
        "postgres",
        (user, ""),
        db,
        "SELECT (SELECT count(*) || ':' || md5(string_agg(c::text, '|' ORDER BY id)) FROM customers c) \
         || ' ' || (SELECT count(*) || ':' || md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o) \
         || ' ' || (SELECT string_agg(t::text, '|' ORDER BY name) FROM totals t) \
         || ' ' || (SELECT last_value FROM customers_id_seq) || ' ' || (SELECT last_value FROM orders_id_seq)",
    )
    .trim()
    .to_owned()
}

/// The owners of every table, view and sequence of the schema public.
fn pg_owners(container: &str, user: &str, db: &str) -> String {
    sql_ok(
        container,
        "postgres",
        (user, ""),
        db,
        "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'S')",
    )
    .trim()
    .to_owned()
}

fn project_entry(h: &Harness, name: &str) -> serde_json::Value {
    h.projects()
        .into_iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not registered"))
}

fn volume_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["volume", "inspect", name])
        .timed_output()
        .is_ok_and(|o| o.status.success())
}

fn running(container: &str) -> bool {
    Command::new("docker")
        .args(["inspect", "-f", "{{.State.Running}}", container])
        .timed_output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn postgres_moves_to_the_shared_server_and_back_with_every_table_equal() {
    if !common::docker_ready(&["postgres:16", "python:3.12-slim"])
        || !common::require("django-admin")
    {
        return;
    }
    let shared = unique("s");
    let p = unique("pg");
    let _cleanup = Cleanup(vec![shared.clone(), p.clone()]);
    let h = harness(&shared, "postgres");
    let port = common::free_port();
    let dir = new_project_on(&h, &p, "postgres", port);
    start_own_db(&h, &dir, &p, "postgres", &["POSTGRES_PASSWORD"]);
    let own = format!("{p}-postgres");
    sql_ok(&own, "postgres", ("app", ""), "app", PG_DATA);
    let before = pg_fingerprint(&own, "app", "app");
    assert_eq!(pg_owners(&own, "app", "app"), "app");

    // --dry-run: the steps, nothing changed.
    let files = common::snapshot(&dir);
    let registry = h.registry_bytes();
    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "shared", "--dry-run"])
        .run()
        .success()
        .stdout_has("shared db create");
    assert_eq!(common::snapshot(&dir), files);
    assert_eq!(h.registry_bytes(), registry);

    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "shared", "--yes"])
        .timeout(Duration::from_secs(600))
        .run()
        .success()
        .stderr_has("tables equal");
    let server = format!("{shared}-postgres");
    let db = p.replace('-', "_");
    let user = format!("p_{db}");
    assert_eq!(pg_fingerprint(&server, &user, &db), before);
    assert_eq!(pg_owners(&server, &user, &db), user);
    // The project's files point at the shared server with its own user.
    let services = read(&dir, ".berth/compose.services.yaml");
    assert!(
        services.contains(&format!("@{server}:5432/{db}")),
        "{services}"
    );
    assert!(!services.contains("image: postgres"), "{services}");
    assert!(read(&dir, "berth.yaml").contains("shared: true"));
    assert!(read(&dir, ".env").contains("SHARED_POSTGRES_PASSWORD"));
    let entry = project_entry(&h, &p);
    assert_eq!(entry["shared"], serde_json::json!(["postgres"]), "{entry}");
    assert!(
        !entry["services"]
            .as_array()
            .unwrap()
            .contains(&"postgres".into()),
        "{entry}"
    );
    // The own server is stopped, its volume kept (no --with-data).
    assert!(!running(&own));
    assert!(volume_exists(&format!("{p}-postgres-data")));
    // A backup of the database before the move, in the project's folder.
    let backups: Vec<String> = std::fs::read_dir(dir.join(".berth/backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        backups.iter().any(|b| b.contains("before-migrate")),
        "{backups:?}"
    );

    // Already shared: exit 2, nothing changed.
    let files = common::snapshot(&dir);
    let registry = h.registry_bytes();
    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "shared", "--yes"])
        .run()
        .code_is(2)
        .stderr_has("already on the shared server");
    assert_eq!(common::snapshot(&dir), files);
    assert_eq!(h.registry_bytes(), registry);

    // The user's path: `stackctl start` runs the app on the shared server.
    start_and_get(&h, &p, port);
    assert_eq!(django_sees(&h, &p), format!("{server} 3"));
    h.cmd("stackctl").args(["stop", &p]).run().success();

    // Written on the shared server, then back: the new row comes along.
    sql_ok(
        &server,
        "postgres",
        (&user, ""),
        &db,
        "INSERT INTO customers (name) VALUES ('after the move')",
    );
    let moved = pg_fingerprint(&server, &user, &db);
    assert_ne!(moved, before);
    h.cmd("stackgen")
        .args(["migrate", "--to", "own", "--yes", "--dir"])
        .arg(&dir)
        .timeout(Duration::from_secs(600))
        .run()
        .success();
    assert_eq!(pg_fingerprint(&own, "app", "app"), moved);
    assert_eq!(pg_owners(&own, "app", "app"), "app");
    let services = read(&dir, ".berth/compose.services.yaml");
    assert!(services.contains("@postgres:5432/app"), "{services}");
    start_and_get(&h, &p, port);
    assert_eq!(django_sees(&h, &p), "postgres 4");
    h.cmd("stackctl").args(["stop", &p]).run().success();
    assert!(!read(&dir, "berth.yaml").contains("shared: true"));
    let entry = project_entry(&h, &p);
    assert!(
        entry["shared"]
            .as_array()
            .is_none_or(std::vec::Vec::is_empty),
        "{entry}"
    );
    // The shared database is kept (no --with-data).
    assert_eq!(
        sql_ok(
            &server,
            "postgres",
            (&user, ""),
            &db,
            "SELECT count(*) FROM customers"
        )
        .trim(),
        "4"
    );
}

/// The MariaDB data: AUTO_INCREMENT, NULLs, unicode, a view, a trigger
/// (both with a DEFINER in the dump), a foreign key.
const MARIA_DATA: &str = "\
CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT, born DATE) DEFAULT CHARSET = utf8mb4;
CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer INT, total DECIMAL(10,2), FOREIGN KEY (customer) REFERENCES customers (id));
INSERT INTO customers (name, note, born) VALUES ('Zoë', NULL, '1990-02-03'), ('Иван', 'ünïcødé ✓', NULL), ('李', 'two\\nlines', '2001-12-31');
INSERT INTO orders (customer, total) SELECT 1 + seq % 3, seq * 1.25 FROM seq_1_to_200;
DELETE FROM orders WHERE id > 190;
CREATE VIEW totals AS SELECT c.name, SUM(o.total) AS total FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.name;
CREATE TRIGGER noted BEFORE INSERT ON customers FOR EACH ROW SET NEW.note = IFNULL(NEW.note, 'by the trigger');";

fn maria_fingerprint(container: &str, user: (&str, &str), db: &str) -> String {
    sql_ok(
        container,
        "mariadb",
        user,
        db,
        "SET SESSION group_concat_max_len = 1000000; SELECT CONCAT_WS(' ', \
         (SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT_WS(',', id, name, IFNULL(note, 'NULL'), IFNULL(born, 'NULL')) ORDER BY id SEPARATOR '|'))) FROM customers), \
         (SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT_WS(',', id, customer, total) ORDER BY id SEPARATOR '|'))) FROM orders), \
         (SELECT GROUP_CONCAT(CONCAT(name, '=', total) ORDER BY name) FROM totals))",
    )
    .trim()
    .to_owned()
}

/// The definers of the views and triggers.
fn maria_definers(container: &str, user: (&str, &str), db: &str) -> String {
    sql_ok(
        container,
        "mariadb",
        user,
        db,
        "SELECT GROUP_CONCAT(DISTINCT d) FROM (SELECT definer AS d FROM information_schema.views WHERE table_schema = DATABASE() \
         UNION SELECT definer FROM information_schema.triggers WHERE trigger_schema = DATABASE()) s",
    )
    .trim()
    .to_owned()
}

#[test]
fn mariadb_moves_to_the_shared_server_and_back_with_every_table_equal() {
    if !common::docker_ready(&["mariadb:11"]) || !common::require("django-admin") {
        return;
    }
    let shared = unique("m");
    let p = unique("maria");
    let _cleanup = Cleanup(vec![shared.clone(), p.clone()]);
    let h = harness(&shared, "mariadb");
    let dir = new_project(&h, &p, "mariadb");
    let app_pw = start_own_db(
        &h,
        &dir,
        &p,
        "mariadb",
        &["MARIADB_PASSWORD", "MARIADB_ROOT_PASSWORD"],
    );
    let own = format!("{p}-mariadb");
    let app = ("app", app_pw.as_str());
    sql_ok(&own, "mariadb", app, "app", MARIA_DATA);
    let before = maria_fingerprint(&own, app, "app");
    assert_eq!(maria_definers(&own, app, "app"), "app@%");

    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "shared", "--yes"])
        .timeout(Duration::from_secs(600))
        .run()
        .success()
        .stderr_has("tables equal");
    let server = format!("{shared}-mariadb");
    let db = p.replace('-', "_");
    let user = format!("p_{db}");
    let pw = secret(&h, &p, "SHARED_MARIADB_PASSWORD");
    let mine = (user.as_str(), pw.as_str());
    assert_eq!(maria_fingerprint(&server, mine, &db), before);
    assert_eq!(maria_definers(&server, mine, &db), format!("{user}@%"));
    let services = read(&dir, ".berth/compose.services.yaml");
    assert!(
        services.contains(&format!("@{server}:3306/{db}")),
        "{services}"
    );
    let entry = project_entry(&h, &p);
    assert_eq!(entry["shared"], serde_json::json!(["mariadb"]), "{entry}");
    assert!(!running(&own));
    assert!(volume_exists(&format!("{p}-mariadb-data")));

    // The trigger works for the project's user; the new row comes back.
    sql_ok(
        &server,
        "mariadb",
        mine,
        &db,
        "INSERT INTO customers (name) VALUES ('after')",
    );
    let moved = maria_fingerprint(&server, mine, &db);
    assert!(moved.starts_with("4:"), "{moved}");
    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "own", "--yes", "--with-data"])
        .timeout(Duration::from_secs(600))
        .run()
        .success();
    assert_eq!(maria_fingerprint(&own, app, "app"), moved);
    assert_eq!(maria_definers(&own, app, "app"), "app@%");
    // --with-data: the shared database and its user are gone.
    let (ok, out) = sql_in(&server, "mariadb", mine, &db, "SELECT 1");
    assert!(!ok, "{out}");
    let entry = project_entry(&h, &p);
    assert!(
        entry["shared"]
            .as_array()
            .is_none_or(std::vec::Vec::is_empty),
        "{entry}"
    );
}

#[test]
fn bad_input_exits_2_or_1_and_changes_nothing() {
    if !common::docker_ready(&["postgres:16", "berth/debian:bookworm"])
        || !common::require("django-admin")
    {
        return;
    }
    let shared = unique("b");
    let p = unique("bad");
    let _cleanup = Cleanup(vec![shared.clone(), p.clone()]);
    let h = harness(&shared, "postgres");
    let dir = new_project(&h, &p, "postgres,redis");
    let files = common::snapshot(&dir);
    let registry = h.registry_bytes();
    let unchanged = |h: &Harness| {
        assert_eq!(common::snapshot(&dir), files);
        assert_eq!(h.registry_bytes(), registry);
    };
    let cases: [(&[&str], &str); 5] = [
        (&[&p, "--to", "own"], "already the project's own"),
        (
            &[&p, "--to", "shared", "--service", "nope"],
            "service 'nope' is not in",
        ),
        (
            &[&p, "--to", "shared", "--service", "redis"],
            "is not a database server",
        ),
        (&["nosuch", "--to", "shared"], "nosuch"),
        (&[&p, "--to", "elsewhere"], "elsewhere"),
    ];
    for (args, says) in cases {
        h.cmd("stackgen")
            .arg("migrate")
            .args(args)
            .arg("--yes")
            .run()
            .code_is(2)
            .stderr_has(says);
        unchanged(&h);
    }
    // Its app runs: refused (exit 1) naming it, nothing changed.
    let app = format!("{p}-app");
    let out = Command::new("docker")
        .args(["run", "-d", "--rm", "--name", &app])
        .args(["--label", &format!("com.docker.compose.project={p}")])
        .args(["--label", "com.docker.compose.service=app"])
        .args(["berth/debian:bookworm", "sleep", "infinity"])
        .timed_output()
        .unwrap();
    assert!(out.status.success());
    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "shared", "--yes"])
        .run()
        .code_is(1)
        .stderr_has(&format!("stackctl stop {p}"));
    unchanged(&h);
    let _ = Command::new("docker")
        .args(["rm", "-f", &app])
        .timed_output();
}

#[test]
fn a_move_killed_before_the_switch_leaves_the_project_as_it_was_and_a_new_run_finishes() {
    if !common::docker_ready(&["postgres:16"]) || !common::require("django-admin") {
        return;
    }
    let shared = unique("k");
    let p = unique("kill");
    let _cleanup = Cleanup(vec![shared.clone(), p.clone()]);
    let h = harness(&shared, "postgres");
    let dir = new_project(&h, &p, "postgres");
    start_own_db(&h, &dir, &p, "postgres", &["POSTGRES_PASSWORD"]);
    let own = format!("{p}-postgres");
    sql_ok(&own, "postgres", ("app", ""), "app", PG_DATA);
    let before = pg_fingerprint(&own, "app", "app");
    // The project's files but its backups (the one before the move is kept).
    let files_of = |dir: &Path| {
        let mut f = common::snapshot(dir);
        f.retain(|k, _| !k.starts_with(".berth/backups"));
        f
    };
    let files = files_of(&dir);
    // The registry entry's servers and environment (the journal gains the
    // lines `shared db create` wrote and the ones that took them back).
    let recorded = |h: &Harness| {
        let e = project_entry(h, &p);
        (
            e["shared"].clone(),
            e["environment"].clone(),
            e["services"].clone(),
        )
    };
    let registry = recorded(&h);
    // Paused after the copy was loaded and compared, before the switch: killed.
    let mut c = Command::new(common::bin("stackgen"));
    c.args(["migrate", &p, "--to", "shared", "--yes"])
        .current_dir(h.path())
        .env("BERTH_HOME", h.home())
        .env("NO_COLOR", "1")
        .env("BERTH_TEST_PAUSE_AT", "migrate:copied")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = common::Kill(c.spawn().unwrap());
    let mut err = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let mut seen = String::new();
    let start = std::time::Instant::now();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut err, &mut line).unwrap();
        seen.push_str(&line);
        if line.contains("test pause at migrate:copied") {
            break;
        }
        assert!(
            n > 0 && start.elapsed() < Duration::from_secs(300),
            "no pause: {seen}"
        );
    }
    common::kill_and_wait(&mut child.0);
    // Nothing of the project changed: its files, its registry entry, its data.
    assert_eq!(files_of(&dir), files, "the files changed");
    assert_eq!(recorded(&h), registry);
    assert_eq!(pg_fingerprint(&own, "app", "app"), before);
    // The next run takes the copy left on the shared server back first.
    h.cmd("stackgen")
        .args(["migrate", &p, "--to", "shared", "--yes"])
        .timeout(Duration::from_secs(600))
        .run()
        .success()
        .stderr_has("holds tables from before");
    let db = p.replace('-', "_");
    assert_eq!(
        pg_fingerprint(&format!("{shared}-postgres"), &format!("p_{db}"), &db),
        before
    );
    assert_eq!(
        project_entry(&h, &p)["shared"],
        serde_json::json!(["postgres"])
    );
}
