//! `dbdump restore` killed at random moments, against the host's PostgreSQL
//! 15 and MariaDB servers (tests/bed/services.sh, `--url` mode): after each
//! kill the database holds the whole old dataset or the whole new one, and
//! the next dbdump run leaves no scratch database or journal behind. And
//! SIGTERM / Ctrl-C to the process group during the load stop the restore
//! cleanly with the old database in place.

#![allow(
    clippy::doc_markdown,
    clippy::too_many_lines,
    clippy::many_single_char_names
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Timed as _, TimedChild as _};

const SECRET: &str = "Kill-3e1f-pw";

/// A throw-away server on the host's loopback, stopped on drop.
struct Server {
    kind: &'static str,
    dir: String,
    port: String,
    url: String,
}

impl Server {
    fn start(kind: &'static str) -> Option<Server> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bed/services.sh");
        let start = || {
            Command::new("timeout")
                .arg("180")
                .arg("bash")
                .arg(&script)
                .arg(kind)
                .env("BED_PG_PASSWORD", SECRET)
                .env("BED_PG_DB", "shop")
                .env("BED_MARIADB_PASSWORD", SECRET)
                .env("BED_MARIADB_DB", "shop")
                .timed_output()
                .unwrap()
        };
        // mariadb-install-db can trip over another one starting at the same
        // moment (its temp tables in /tmp): try again.
        let mut o = start();
        for _ in 0..2 {
            if o.status.success() {
                break;
            }
            std::thread::sleep(Duration::from_secs(2));
            o = start();
        }
        if !o.status.success() {
            common::missing(&format!(
                "cannot start the host's {kind}: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
            return None;
        }
        let vars: std::collections::HashMap<String, String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let p = if kind == "postgres" { "PG" } else { "MARIADB" };
        Some(Server {
            kind,
            dir: vars[&format!("BED_{p}_DIR")].clone(),
            port: vars[&format!("BED_{p}_PORT")].clone(),
            url: vars[&format!("BED_{p}_URL")].clone(),
        })
    }

    /// The server's own client, with a timeout; stdout, or None when it failed.
    fn try_sql(&self, db: &str, script: &str) -> Option<String> {
        let mut c = if self.kind == "postgres" {
            let mut c = Command::new("timeout");
            c.args(["60", "/usr/lib/postgresql/15/bin/psql", "-X", "-q", "-tA"])
                .args(["-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
                .args(["-p", &self.port, "-d", db])
                .env("PGPASSWORD", SECRET);
            c
        } else {
            let mut c = Command::new("timeout");
            c.args([
                "60",
                "mariadb",
                "--no-defaults",
                "--batch",
                "--skip-column-names",
            ])
            .args(["--default-character-set=utf8mb4", "--protocol=tcp"])
            .args(["-h127.0.0.1", "-uroot"])
            .arg(format!("--port={}", self.port))
            .arg(format!("--database={db}"))
            .env("MYSQL_PWD", SECRET);
            c
        };
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = script.to_owned();
        let w = std::thread::spawn(move || {
            use std::io::Write as _;
            let _ = stdin.write_all(input.as_bytes());
        });
        let o = child.timed_wait_with_output().unwrap();
        w.join().unwrap();
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    }

    fn sql(&self, db: &str, script: &str) -> String {
        self.try_sql(db, script)
            .unwrap_or_else(|| panic!("{} failed: {script}", self.kind))
    }

    fn maint(&self) -> &'static str {
        if self.kind == "postgres" {
            "postgres"
        } else {
            "mysql"
        }
    }

    fn fingerprint(&self) -> String {
        let fp = if self.kind == "postgres" {
            PG_FP
        } else {
            MARIA_FP
        };
        self.try_sql("shop", fp)
            .unwrap_or_else(|| "(no database)".into())
    }

    /// The databases whose name starts with `shop` (the live one and any scratch).
    fn databases(&self) -> Vec<String> {
        let q = if self.kind == "postgres" {
            "SELECT datname FROM pg_database WHERE datname LIKE 'shop%' ORDER BY 1"
        } else {
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'shop%' ORDER BY 1"
        };
        self.sql(self.maint(), q)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Wait until no client of a killed dbdump still talks to the server
    /// (a killed run's client ends when its input ends).
    fn wait_clients_gone(&self, dir: &Path) {
        let dir = dir.to_string_lossy().into_owned();
        let start = Instant::now();
        let port_arg = format!("--port={}", self.port);
        let mut quiet = 0;
        loop {
            let busy = std::fs::read_dir("/proc")
                .unwrap()
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .any(|c| {
                    let args: Vec<String> = c
                        .split(|b| *b == 0)
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    let client = args[0].ends_with("psql") || args[0].ends_with("mariadb");
                    // A child the killed dbdump forked but had not exec'd yet.
                    let forked = args[0].ends_with("/dbdump") && args.contains(&dir);
                    forked || client && args.iter().any(|a| *a == self.port || *a == port_arg)
                });
            if busy {
                quiet = 0;
            } else {
                quiet += 1;
            }
            if quiet >= 3 || start.elapsed() > Duration::from_secs(20) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bed/services.sh");
        let _ = Command::new("timeout")
            .arg("60")
            .arg("bash")
            .arg(script)
            .args(["stop", &self.dir])
            .timed_output();
    }
}

/// Two datasets of several tables, with a view, a trigger and a routine;
/// `{N}` rows in the big table.
const PG_A: &str = "
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(12,2), note text, updated_at timestamptz);
CREATE TABLE items (id int PRIMARY KEY, order_id int REFERENCES orders(id), sku text, qty int);
CREATE TABLE audit (id serial PRIMARY KEY, what text);
CREATE INDEX items_order ON items (order_id);
CREATE VIEW big_orders AS SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := '2001-01-01 00:00:00+00'; RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.test' FROM generate_series(1, {C}) i;
INSERT INTO orders (id, customer_id, total, note) SELECT i, 1 + i % {C}, i * 1.5, repeat('x', 40) FROM generate_series(1, {N}) i;
INSERT INTO items SELECT i, 1 + i % {N}, 'sku-' || i, i % 7 FROM generate_series(1, {N}) i;
INSERT INTO audit (what) SELECT 'a' || i FROM generate_series(1, 100) i;
";

const PG_B: &str = "
UPDATE customers SET name = 'renamed ' || id WHERE id % 3 = 0;
DELETE FROM items WHERE id % 2 = 0;
INSERT INTO audit (what) SELECT 'b' || i FROM generate_series(1, 50) i;
CREATE TABLE extra (k text PRIMARY KEY);
INSERT INTO extra VALUES ('only in B');
DROP VIEW big_orders;
CREATE VIEW big_orders AS SELECT o.id, o.total FROM orders o WHERE o.total > 500;
";

const PG_FP: &str = "
SELECT 'customers', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM customers t;
SELECT 'orders', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM orders t;
SELECT 'items', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM items t;
SELECT 'audit', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM audit t;
SELECT 'view', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM big_orders t;
SELECT 'tables', string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public';
SELECT 'triggers', string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal;
";

const MARIA_A: &str = "
SET SESSION max_recursive_iterations = 100000000;
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(100) UNIQUE) ENGINE=InnoDB;
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(12,2), note VARCHAR(100), updated_at DATETIME,
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB;
CREATE TABLE items (id INT PRIMARY KEY, order_id INT, sku VARCHAR(40), qty INT, KEY items_order (order_id),
  CONSTRAINT items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)) ENGINE=InnoDB;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40)) ENGINE=InnoDB;
CREATE VIEW big_orders AS SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW SET NEW.updated_at = '2001-01-01 00:00:00';
CREATE FUNCTION add_tax(n DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC RETURN ROUND(n * 1.2, 2);
INSERT INTO customers WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {C})
  SELECT i, CONCAT('customer ', i), CONCAT('c', i, '@example.test') FROM s;
INSERT INTO orders (id, customer_id, total, note) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {N})
  SELECT i, 1 + i % {C}, i * 1.5, REPEAT('x', 40) FROM s;
INSERT INTO items WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {N})
  SELECT i, 1 + i % {N}, CONCAT('sku-', i), i % 7 FROM s;
INSERT INTO audit (what) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100) SELECT CONCAT('a', i) FROM s;
";

const MARIA_B: &str = "
UPDATE customers SET name = CONCAT('renamed ', id) WHERE id % 3 = 0;
DELETE FROM items WHERE id % 2 = 0;
INSERT INTO audit (what) VALUES ('b1'), ('b2');
CREATE TABLE extra (k VARCHAR(20) PRIMARY KEY);
INSERT INTO extra VALUES ('only in B');
DROP VIEW big_orders;
CREATE VIEW big_orders AS SELECT o.id, o.total FROM orders o WHERE o.total > 500;
DROP TRIGGER orders_touch;
CREATE TRIGGER orders_touch_b BEFORE UPDATE ON orders FOR EACH ROW SET NEW.updated_at = '2002-02-02 00:00:00';
";

const MARIA_FP: &str = "
CHECKSUM TABLE customers, orders, items, audit EXTENDED;
SELECT 'view', MD5(GROUP_CONCAT(CONCAT_WS(',', id, total) ORDER BY id SEPARATOR '|')) FROM big_orders;
SELECT 'tables', GROUP_CONCAT(TABLE_NAME, ':', TABLE_TYPE ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE();
SELECT 'triggers', GROUP_CONCAT(TRIGGER_NAME ORDER BY TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE();
SELECT 'routines', GROUP_CONCAT(ROUTINE_NAME ORDER BY ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE();
SELECT 'fks', GROUP_CONCAT(CONSTRAINT_NAME, '>', REFERENCED_TABLE_NAME ORDER BY CONSTRAINT_NAME) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE();
SELECT 'tax', add_tax(10);
";

/// A small xorshift generator (seed printed, so a run can be repeated).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("DBDUMP_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                u64::from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .subsec_nanos(),
                ) | 1
            });
        eprintln!("kill seed: {seed} (DBDUMP_KILL_SEED to repeat)");
        Rng(seed)
    }
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        #[allow(clippy::cast_precision_loss)]
        let v = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        v
    }
}

struct Bed {
    h: Harness,
    server: Server,
    dir: PathBuf,
    url: String,
}

impl Bed {
    fn dbdump(&self) -> Command {
        let mut c = Command::new("timeout");
        c.arg("120")
            .arg(common::bin("dbdump"))
            .current_dir(self.h.path())
            .env("BERTH_HOME", self.h.home())
            .env("DBDUMP_URL", &self.url)
            .env("NO_COLOR", "1");
        c
    }

    fn restore(&self, file: &Path) -> Command {
        let mut c = self.dbdump();
        c.args(["restore", "--yes", "--no-safety-backup", "--backup-dir"])
            .arg(&self.dir)
            .arg(file);
        c
    }

    fn spawn_restore(&self, file: &Path, group: bool) -> Child {
        // Straight to the binary (no `timeout` in between), so the kill hits dbdump.
        let mut c = Command::new(common::bin("dbdump"));
        c.current_dir(self.h.path())
            .env("BERTH_HOME", self.h.home())
            .env("DBDUMP_URL", &self.url)
            .env("NO_COLOR", "1")
            .args(["restore", "--yes", "--no-safety-backup", "--backup-dir"])
            .arg(&self.dir)
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if group {
            std::os::unix::process::CommandExt::process_group(&mut c, 0);
        }
        c.spawn().unwrap()
    }

    fn journals(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.h.home().join("dbdump"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with(".journal.json"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Set up both datasets and their backups; the database ends holding A.
fn bed(kind: &'static str, rows: usize) -> Option<(Bed, String, String, PathBuf, PathBuf)> {
    if !common::require("bash") {
        return None;
    }
    let server = Server::start(kind)?;
    let h = Harness::new();
    let dir = h.path().join("backups");
    let url = server.url.clone();
    let bed = Bed {
        h,
        server,
        dir,
        url,
    };
    let (a, b) = if kind == "postgres" {
        (PG_A, PG_B)
    } else {
        (MARIA_A, MARIA_B)
    };
    let fill = |s: &str| {
        s.replace("{N}", &rows.to_string())
            .replace("{C}", &(rows / 10).to_string())
    };
    bed.server.sql("shop", &fill(a));
    let fa = bed.server.fingerprint();
    let backup = |label: &str| -> PathBuf {
        let o = bed
            .dbdump()
            .args(["backup", "--json", "--label", label, "--backup-dir"])
            .arg(&bed.dir)
            .timed_output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        PathBuf::from(v["file"].as_str().unwrap())
    };
    let file_a = backup("a");
    bed.server.sql("shop", b);
    let fb = bed.server.fingerprint();
    assert_ne!(fa, fb);
    let file_b = backup("b");
    let o = bed.restore(&file_a).timed_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(bed.server.fingerprint(), fa);
    Some((bed, fa, fb, file_a, file_b))
}

fn kill_at_random(kind: &'static str) {
    let Some((bed, fa, fb, file_a, file_b)) = bed(kind, 6_000) else {
        return;
    };
    // How long a restore takes here: the kill delays spread over it.
    let mut took = Vec::new();
    let mut holds_a = true;
    for _ in 0..2 {
        let next = if holds_a { &file_b } else { &file_a };
        let start = Instant::now();
        let o = bed.restore(next).timed_output().unwrap();
        took.push(start.elapsed());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        holds_a = !holds_a;
    }
    let dur = took.iter().max().copied().unwrap();
    eprintln!("{kind}: a restore takes {took:?}");
    let mut rng = Rng::new();
    let (mut ended_old, mut ended_new, mut recovered, mut transient) = (0, 0, 0, 0);
    for i in 0..40 {
        let (next, old_fp, new_fp) = if holds_a {
            (&file_b, &fa, &fb)
        } else {
            (&file_a, &fb, &fa)
        };
        // Half over the whole run, half over its last third (load end, swap, cleanup).
        let frac = if i % 2 == 0 {
            rng.unit() * 1.05
        } else {
            0.66 + rng.unit() * 0.4
        };
        let delay = dur.mul_f64(frac);
        let mut child = bed.spawn_restore(next, false);
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        common::kill_and_wait(&mut child);
        bed.server.wait_clients_gone(&bed.dir);
        let right_after = bed.server.fingerprint();
        if right_after != *old_fp && right_after != *new_fp {
            transient += 1;
            eprintln!("kill {i} after {delay:?}: right after the kill: {right_after}");
        }
        if !bed.journals().is_empty() {
            recovered += 1;
        }
        // The next dbdump run finishes or undoes what the killed one left.
        let o = bed
            .dbdump()
            .arg("shell")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                drop(c.stdin.take());
                c.timed_wait_with_output()
            })
            .unwrap();
        assert!(
            o.status.success(),
            "kill {i} after {delay:?}: the next run failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let fp = bed.server.fingerprint();
        let dbs = bed.server.databases();
        assert_eq!(
            dbs,
            ["shop"],
            "kill {i} after {delay:?}: scratch databases left"
        );
        assert!(bed.journals().is_empty(), "kill {i}: journal left");
        if fp == *old_fp {
            ended_old += 1;
        } else if fp == *new_fp {
            ended_new += 1;
            holds_a = !holds_a;
        } else {
            panic!(
                "kill {i} after {delay:?} (finished: {finished}): the database is neither the old nor the new dataset:\n{fp}\nold:\n{old_fp}\nnew:\n{new_fp}\nright after the kill:\n{right_after}"
            );
        }
    }
    eprintln!(
        "{kind}: 40 SIGKILLs over {dur:?}: {ended_old} ended old, {ended_new} ended new; {recovered} left a journal the next run finished; {transient} were seen mid-swap right after the kill"
    );
    assert_eq!(ended_old + ended_new, 40);
}

#[test]
fn postgres_restore_killed_at_random_moments() {
    kill_at_random("postgres");
}

#[test]
fn mariadb_restore_killed_at_random_moments() {
    if !common::require("mariadbd") && !common::require("/usr/sbin/mariadbd") {
        return;
    }
    kill_at_random("mariadb");
}

/// SIGTERM, then Ctrl-C to the process group, while the load runs: the
/// restore stops at once, exit 2, the old database in place, nothing left.
fn stop_during_load(kind: &'static str) {
    let Some((bed, fa, _fb, _file_a, file_b)) = bed(kind, 40_000) else {
        return;
    };
    for how in ["TERM", "INT to the group"] {
        let mut child = bed.spawn_restore(&file_b, how != "TERM");
        // Wait for the load: the scratch database appears.
        let start = Instant::now();
        while bed.server.databases().len() < 2 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the load never started"
            );
            assert!(child.try_wait().unwrap().is_none(), "restore ended early");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(50));
        let target = if how == "TERM" {
            child.id().to_string()
        } else {
            format!("-{}", child.id())
        };
        let sig = if how == "TERM" { "-TERM" } else { "-INT" };
        let sent = Instant::now();
        let st = Command::new("kill")
            .args([sig, "--", &target])
            .timed_status()
            .unwrap();
        assert!(st.success());
        let o = loop {
            if child.try_wait().unwrap().is_some() {
                break child.timed_wait_with_output().unwrap();
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "{how}: restore did not stop"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let stopped_in = sent.elapsed();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{how}: {stderr}");
        assert!(
            stderr.contains("interrupted") && stderr.contains("left as it was"),
            "{how}: {stderr}"
        );
        assert_eq!(bed.server.fingerprint(), fa, "{how}: the old database");
        bed.server.wait_clients_gone(&bed.dir);
        assert_eq!(bed.server.databases(), ["shop"], "{how}: scratch left");
        assert!(bed.journals().is_empty());
        eprintln!("{kind}: SIG{how} during the load: stopped in {stopped_in:?}");
    }
}

#[test]
fn postgres_sigterm_and_ctrl_c_stop_the_load() {
    stop_during_load("postgres");
}

#[test]
fn mariadb_sigterm_and_ctrl_c_stop_the_load() {
    if !common::require("mariadbd") && !common::require("/usr/sbin/mariadbd") {
        return;
    }
    stop_during_load("mariadb");
}
