//! dbdump against real servers: PostgreSQL and MariaDB containers started
//! from a compose file each test writes (the test bed's local images), and
//! the host's PostgreSQL 15 and MariaDB servers for `--url` mode.
//!
//! MySQL 8 cannot be installed here: MySQL is covered through MariaDB's
//! wire-compatible client where behaviour is shared; what differs (program
//! names, dump flags) is unit-tested in tools/dbdump/src/engine.rs.

#![allow(
    clippy::doc_markdown,
    clippy::many_single_char_names,
    clippy::too_many_lines,
    clippy::unnecessary_debug_formatting
)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Harness, Timed as _, TimedChild as _, stdout_of};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A compose project started for one test, taken down (with its volumes) on drop.
struct Stack {
    name: String,
    dir: PathBuf,
}

const PG_SERVICE: &str = "  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: ${DB_PASSWORD}
      POSTGRES_DB: shop
    healthcheck:
      test: [\"CMD\", \"pg_isready\", \"-U\", \"app\", \"-d\", \"shop\"]
      interval: 1s
      retries: 120
";

const MARIA_SERVICE: &str = "  db:
    image: mariadb:11
    environment:
      MARIADB_ROOT_PASSWORD: ${DB_PASSWORD}
      MARIADB_DATABASE: shop
      MARIADB_USER: app
      MARIADB_PASSWORD: apppw
    healthcheck:
      test: [\"CMD\", \"healthcheck.sh\", \"--connect\"]
      interval: 1s
      retries: 120
";

/// The database password in the tests' `.env` (checked to stay out of argv).
const SECRET: &str = "Pw-9f3b1e77-never-in-argv";

impl Stack {
    fn up(h: &Harness, services: &str) -> Stack {
        let name = format!(
            "dbdt{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let dir = h.path().join(&name);
        h.write(
            &format!("{name}/compose.yaml"),
            &format!("services:\n{services}"),
        );
        h.write(
            &format!("{name}/.env"),
            &format!("COMPOSE_PROJECT_NAME={name}\nDB_PASSWORD={SECRET}\n"),
        );
        let stack = Stack { name, dir };
        let st = Command::new("docker-compose")
            .env("COMPOSE_HTTP_TIMEOUT", "600")
            .args(["-p", &stack.name, "up", "-d"])
            .current_dir(&stack.dir)
            .timed_output()
            .expect("docker-compose");
        assert!(
            st.status.success(),
            "docker-compose up: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        stack.wait_healthy();
        stack
    }

    fn container(&self) -> String {
        let id = stdout_of(
            "docker-compose",
            &[
                "-p",
                &self.name,
                "--project-directory",
                self.dir.to_str().unwrap(),
                "-f",
                self.dir.join("compose.yaml").to_str().unwrap(),
                "ps",
                "-q",
                "db",
            ],
        );
        assert!(!id.is_empty(), "no db container for {}", self.name);
        id
    }

    fn wait_healthy(&self) {
        let id = self.container();
        let start = Instant::now();
        loop {
            let h = stdout_of(
                "docker",
                &["inspect", "-f", "{{.State.Health.Status}}", &id],
            );
            if h == "healthy" {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{} not healthy: {h}\n{}",
                self.name,
                stdout_of("docker", &["logs", &id])
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Run SQL through the server's own client in the container; stdout.
    fn sql(&self, engine: &str, script: &str) -> String {
        let id = self.container();
        let mut args: Vec<&str> = vec!["exec", "-i", &id];
        match engine {
            "postgres" => args.extend([
                "psql",
                "-X",
                "-q",
                "-tA",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "app",
                "-d",
                "shop",
            ]),
            _ => args.extend([
                "env",
                "MYSQL_PWD=apppw",
                "mariadb",
                "--batch",
                "--skip-column-names",
                "--default-character-set=utf8mb4",
                "-uapp",
                "shop",
            ]),
        }
        run_stdin("docker", &args, script)
    }

    fn dbdump(&self, h: &Harness) -> common::Cmd {
        h.cmd("dbdump").current_dir(&self.dir)
    }

    fn backups(&self) -> PathBuf {
        self.dir.join(".berth/backups")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .env("COMPOSE_HTTP_TIMEOUT", "600")
            .args(["-p", &self.name, "down", "-v", "-t", "1"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timed_status();
    }
}

fn run_stdin(program: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let o = child.timed_wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        o.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const PG_SCHEMA: &str = r"
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, created_at timestamptz NOT NULL DEFAULT now(),
  tags text[], prefs jsonb, photo bytea, balance numeric(12,2));
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  total numeric(14,4), placed_at timestamptz, meta json, updated_at timestamptz);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX customers_prefs_gin ON customers USING gin (prefs);
CREATE SEQUENCE invoice_no START 1000;
CREATE VIEW big_orders AS SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
CREATE FUNCTION add_tax(n numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT round(n * 1.2, 2) $$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := '2001-01-01 00:00:00+00'; RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE PROCEDURE bump(n int) LANGUAGE plpgsql AS $$ BEGIN PERFORM setval('invoice_no', nextval('invoice_no') + n); END $$;
INSERT INTO customers (name, email, created_at, tags, prefs, photo, balance)
  SELECT 'Zoë Ünïcødé 日本語 🚀 ' || i, 'c' || i || '@example.test', timestamptz '2024-03-10 12:00:00+05:30' + i * interval '1 hour',
         ARRAY['a' || i, 'ß', NULL], jsonb_build_object('i', i, 'nested', jsonb_build_object('k', 'välue')),
         decode(md5(i::text), 'hex') || '\x00ff00'::bytea, i * 1.25
  FROM generate_series(1, 2000) i;
INSERT INTO orders (customer_id, total, placed_at, meta)
  SELECT 1 + (i % 2000), i * 3.1415, timestamptz '2025-01-01 00:00:00+00' - i * interval '1 minute', json_build_object('n', i, 's', 'ü')
  FROM generate_series(1, 5000) i;
SELECT count(nextval('invoice_no')) FROM generate_series(1, 7);
CALL bump(3);
";

const PG_FINGERPRINT: &str = r"
SELECT 'customers', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM customers t
UNION ALL SELECT 'orders', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM orders t
UNION ALL SELECT 'big_orders', md5(string_agg(t::text, '|' ORDER BY t.id)) FROM big_orders t
UNION ALL SELECT 'invoice_no', last_value::text FROM invoice_no
UNION ALL SELECT 'customers_id_seq', last_value::text FROM customers_id_seq
UNION ALL SELECT 'orders_id_seq', last_value::text FROM orders_id_seq
UNION ALL SELECT 'indexes', string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'
UNION ALL SELECT 'triggers', string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal
UNION ALL SELECT 'routines', string_agg(proname || ':' || prokind::text, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL SELECT 'fks', string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'f'
UNION ALL SELECT 'unicode', name FROM customers WHERE id = 1
UNION ALL SELECT 'tax', add_tax(10)::text;
";

const MARIA_SCHEMA: &str = r"
SET SESSION max_recursive_iterations = 100000000;
CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL, email VARCHAR(200) UNIQUE,
  created_at TIMESTAMP(6) NULL, prefs JSON, photo BLOB, balance DECIMAL(12,2)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(14,4), placed_at DATETIME(3),
  updated_at DATETIME, KEY orders_customer_idx (customer_id),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE SEQUENCE invoice_no START WITH 1000;
CREATE VIEW big_orders AS SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW SET NEW.updated_at = '2001-01-01 00:00:00';
CREATE FUNCTION add_tax(n DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC RETURN ROUND(n * 1.2, 2);
CREATE PROCEDURE bump(n INT) SELECT NEXTVAL(invoice_no) + n;
SET time_zone = '+05:30';
INSERT INTO customers (name, email, created_at, prefs, photo, balance)
  WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)
  SELECT CONCAT('Zoë Ünïcødé 日本語 🚀 ', i), CONCAT('c', i, '@example.test'), TIMESTAMP('2024-03-10 12:00:00') + INTERVAL i HOUR,
         JSON_OBJECT('i', i, 'k', 'välue'), UNHEX(CONCAT(MD5(i), '00FF00')), i * 1.25 FROM s;
INSERT INTO orders (customer_id, total, placed_at)
  WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000)
  SELECT 1 + (i % 2000), i * 3.1415, TIMESTAMP('2025-01-01 00:00:00') - INTERVAL i MINUTE FROM s;
CALL bump(3);
";

const MARIA_FINGERPRINT: &str = r"
SET SESSION group_concat_max_len = 100000000;
SET time_zone = '+00:00';
CHECKSUM TABLE customers, orders EXTENDED;
SELECT 'customers', MD5(GROUP_CONCAT(CONCAT_WS(',', id, name, email, UNIX_TIMESTAMP(created_at), prefs, HEX(photo), balance) ORDER BY id SEPARATOR '|')) FROM customers;
SELECT 'orders', MD5(GROUP_CONCAT(CONCAT_WS(',', id, customer_id, total, placed_at, updated_at) ORDER BY id SEPARATOR '|')) FROM orders;
SELECT 'big_orders', MD5(GROUP_CONCAT(CONCAT_WS(',', id, name, total) ORDER BY id SEPARATOR '|')) FROM big_orders;
SELECT 'invoice_no', next_not_cached_value FROM invoice_no;
SELECT 'routines', GROUP_CONCAT(ROUTINE_NAME, ':', ROUTINE_TYPE ORDER BY ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE();
SELECT 'triggers', GROUP_CONCAT(TRIGGER_NAME ORDER BY TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE();
SELECT 'indexes', GROUP_CONCAT(TABLE_NAME, '.', INDEX_NAME, '.', COLUMN_NAME ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE();
SELECT 'fks', GROUP_CONCAT(CONSTRAINT_NAME ORDER BY CONSTRAINT_NAME) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE();
SELECT 'views', GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE();
SELECT 'unicode', name FROM customers WHERE id = 1;
SELECT 'tax', add_tax(10);
";

fn backups_listed(s: &Stack, h: &Harness) -> Vec<serde_json::Value> {
    let r = s.dbdump(h).args(["list", "--json"]).run().success();
    r.json().as_array().cloned().unwrap()
}

/// The roundtrip for one engine: fingerprint, then for each compression
/// backup → drop → restore → the same fingerprint; damaged backups change
/// nothing; reset empties the database.
fn roundtrip(engine: &str, service: &str, schema: &str, fingerprint: &str, drop_sql: &str) {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let s = Stack::up(&h, service);
    s.sql(engine, schema);
    let before = s.sql(engine, fingerprint);
    assert!(
        before.contains("日本語") && before.contains("12.00"),
        "{before}"
    );

    for compression in ["zstd", "gzip", "none"] {
        let r = s
            .dbdump(&h)
            .args([
                "backup",
                "--compress",
                compression,
                "--label",
                &format!("rt-{compression}"),
                "--json",
            ])
            .run()
            .success();
        let b = r.json();
        assert_eq!(b["compression"], compression);
        assert_eq!(b["database"], "shop");
        assert_eq!(
            b["engine"],
            if engine == "postgres" {
                "postgres"
            } else {
                "mariadb"
            }
        );
        let file = PathBuf::from(b["file"].as_str().unwrap());
        assert!(file.is_file() && file.starts_with(s.backups()), "{file:?}");
        let magic = std::fs::read(&file).unwrap()[..4].to_vec();
        match compression {
            "zstd" => assert_eq!(magic, [0x28, 0xb5, 0x2f, 0xfd]),
            "gzip" => assert_eq!(magic[..2], [0x1f, 0x8b]),
            _ => assert!(magic.is_ascii()),
        }
        s.sql(engine, drop_sql);
        assert_ne!(s.sql(engine, "SELECT 1;"), "", "server still answers");
        s.dbdump(&h)
            .args(["restore", "--yes", "--no-safety-backup"])
            .arg(&file)
            .run()
            .success()
            .stderr_has("restored");
        let after = s.sql(engine, fingerprint);
        assert_eq!(
            before, after,
            "fingerprint after the {compression} roundtrip"
        );
    }

    // The file's name lies about its compression: magic bytes decide.
    let list = backups_listed(&s, &h);
    assert_eq!(list.len(), 3);
    let gz = PathBuf::from(
        list.iter().find(|b| b["compression"] == "gzip").unwrap()["file"]
            .as_str()
            .unwrap(),
    );
    s.dbdump(&h)
        .args(["verify"])
        .arg(&gz)
        .run()
        .success()
        .stdout_has("ok (gzip");

    // Damaged backups: restore exits 2 and the database is exactly as before.
    let zst = PathBuf::from(
        list.iter().find(|b| b["compression"] == "zstd").unwrap()["file"]
            .as_str()
            .unwrap(),
    );
    let bytes = std::fs::read(&zst).unwrap();
    let meta = std::fs::read(format!("{}.json", zst.display())).unwrap();
    let truncated = s.backups().join("20000101T000000Z-truncated.sql.zst");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    std::fs::write(format!("{}.json", truncated.display()), &meta).unwrap();
    let flipped = s.backups().join("20000101T000001Z-flipped.sql.zst");
    let mut f = bytes.clone();
    let mid = f.len() / 2;
    f[mid] ^= 0x04;
    std::fs::write(&flipped, &f).unwrap();
    std::fs::write(format!("{}.json", flipped.display()), &meta).unwrap();
    // Without metadata, the zstd frame checksum and the dump's last line still tell.
    let bare = s.backups().join("20000101T000002Z-bare.sql");
    let sql_text = if engine == "postgres" {
        "CREATE TABLE customers (x int);\n"
    } else {
        "DROP TABLE customers;\n"
    };
    std::fs::write(&bare, sql_text).unwrap();
    s.sql(
        engine,
        "UPDATE customers SET balance = balance + 1 WHERE id = 1;",
    );
    let changed = s.sql(engine, fingerprint);
    assert_ne!(changed, before);
    for bad in [&truncated, &flipped, &bare] {
        let r = s
            .dbdump(&h)
            .args(["restore", "--yes"])
            .arg(bad)
            .run()
            .code_is(2)
            .stderr_has("is damaged");
        assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
        assert_eq!(
            s.sql(engine, fingerprint),
            changed,
            "database untouched by {bad:?}"
        );
        s.dbdump(&h)
            .args(["verify"])
            .arg(bad)
            .run()
            .code_is(1)
            .stdout_has("DAMAGED");
    }
    // No safety backup was taken for the refused restores.
    assert_eq!(backups_listed(&s, &h).len(), 5);

    // --latest picks the newest complete backup, after a safety backup.
    s.dbdump(&h)
        .args(["restore", "--latest", "--yes"])
        .run()
        .success();
    let list = backups_listed(&s, &h);
    assert!(list.iter().any(|b| b["name"] == "pre-restore"), "{list:?}");
    assert_eq!(s.sql(engine, fingerprint), before);

    // Without --yes off a terminal: refused, nothing changed.
    s.dbdump(&h)
        .args(["reset"])
        .run()
        .code_is(2)
        .stderr_has("--yes");
    assert_eq!(s.sql(engine, fingerprint), before);
    // The shell reads SQL from stdin, with the credentials in its environment.
    s.dbdump(&h)
        .arg("shell")
        .stdin("SELECT 'from-shell' AS x;\n")
        .run()
        .success()
        .stdout_has("from-shell");
    // reset: an empty database.
    s.dbdump(&h).args(["reset", "--yes"]).run().success();
    let tables = if engine == "postgres" {
        s.sql(
            engine,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public';",
        )
    } else {
        s.sql(
            engine,
            "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop';",
        )
    };
    assert_eq!(tables.trim(), "0");
    // prune keeps the newest.
    s.dbdump(&h)
        .args(["prune", "--keep", "2", "--yes"])
        .run()
        .success();
    assert_eq!(backups_listed(&s, &h).len(), 2);
}

#[test]
fn postgres_roundtrip_each_compression() {
    roundtrip(
        "postgres",
        PG_SERVICE,
        PG_SCHEMA,
        PG_FINGERPRINT,
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SEQUENCE IF EXISTS x;",
    );
}

#[test]
fn mariadb_roundtrip_each_compression() {
    roundtrip(
        "mariadb",
        MARIA_SERVICE,
        MARIA_SCHEMA,
        MARIA_FINGERPRINT,
        "DROP VIEW big_orders; DROP TABLE orders, customers; DROP SEQUENCE invoice_no; DROP FUNCTION add_tax; DROP PROCEDURE bump;",
    );
}

/// A writer inserts one row into each of two tables per transaction while
/// backups run: every backup has as many rows in one as in the other.
fn consistent_under_writes(engine: &str, service: &str) {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let s = Stack::up(&h, service);
    let (setup, writer) = if engine == "postgres" {
        (
            "CREATE TABLE a (id bigserial PRIMARY KEY, pad text); CREATE TABLE b (id bigserial PRIMARY KEY, pad text);
             INSERT INTO a (pad) SELECT repeat(md5(i::text), 8) FROM generate_series(1, 100000) i;
             INSERT INTO b (pad) SELECT repeat(md5(i::text), 8) FROM generate_series(1, 100000) i;
             CREATE TABLE stop (x int);
             CREATE PROCEDURE writer(n int) LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..n LOOP
               EXIT WHEN EXISTS (SELECT 1 FROM stop);
               INSERT INTO a (pad) VALUES (repeat('x', 200)); PERFORM pg_sleep(0.0005); INSERT INTO b (pad) VALUES (repeat('y', 200)); COMMIT;
             END LOOP; END $$;",
            "CALL writer(10000000);",
        )
    } else {
        (
            "SET SESSION max_recursive_iterations = 100000000; CREATE TABLE a (id BIGINT AUTO_INCREMENT PRIMARY KEY, pad TEXT) ENGINE=InnoDB; CREATE TABLE b LIKE a;
             INSERT INTO a (pad) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000) SELECT REPEAT(MD5(i), 8) FROM s;
             INSERT INTO b (pad) SELECT pad FROM a;
             CREATE TABLE stop (x INT);
             CREATE PROCEDURE writer(n INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < n AND NOT EXISTS (SELECT 1 FROM stop) DO
               START TRANSACTION; INSERT INTO a (pad) VALUES (REPEAT('x', 200)); DO SLEEP(0.0005); INSERT INTO b (pad) VALUES (REPEAT('y', 200)); COMMIT;
               SET i = i + 1; END WHILE; END;",
            "CALL writer(10000000);",
        )
    };
    if engine == "postgres" {
        s.sql(engine, setup);
    } else {
        s.sql(
            engine,
            &format!("DELIMITER //\n{setup}//\nDELIMITER ;\n").replace("END;//", "END//"),
        );
    }
    let id = s.container();
    let mut args: Vec<String> = vec!["exec".into(), "-i".into(), id.clone()];
    if engine == "postgres" {
        args.extend(
            ["psql", "-X", "-q", "-U", "app", "-d", "shop", "-c", writer].map(String::from),
        );
    } else {
        args.extend(
            [
                "env",
                "MYSQL_PWD=apppw",
                "mariadb",
                "-uapp",
                "shop",
                "-e",
                writer,
            ]
            .map(String::from),
        );
    }
    let mut w = Command::new("docker")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let count = |s: &Stack| -> (u64, u64) {
        let o = s.sql(
            engine,
            "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b);",
        );
        let v: Vec<u64> = o
            .split(|c: char| c == '|' || c.is_whitespace())
            .filter(|x| !x.is_empty())
            .map(|x| x.parse().unwrap())
            .collect();
        (v[0], v[1])
    };
    std::thread::sleep(Duration::from_millis(500));
    let mut files = Vec::new();
    for i in 0..3 {
        let r = s
            .dbdump(&h)
            .args([
                "backup",
                "--compress",
                "zstd",
                "--label",
                &format!("w{i}"),
                "--json",
            ])
            .run()
            .success();
        files.push(PathBuf::from(r.json()["file"].as_str().unwrap()));
    }
    // The writer runs until told to stop, however slow the machine is.
    let still_writing = w.try_wait().unwrap().is_none();
    s.sql(engine, "INSERT INTO stop VALUES (1);");
    let status = common::wait_within(w, Duration::from_secs(120), "the writer").status;
    assert!(status.success(), "writer failed");
    assert!(still_writing, "the writer ended before the backups did");
    let (fa, fb) = count(&s);
    assert_eq!(fa, fb);
    let mut seen = Vec::new();
    for f in &files {
        s.dbdump(&h)
            .args(["restore", "--yes", "--no-safety-backup"])
            .arg(f)
            .run()
            .success();
        let (a, b) = count(&s);
        assert_eq!(a, b, "backup {f:?} is torn: a={a} b={b}");
        assert!(
            a > 100_000 && a < fa,
            "backup {f:?} was taken while writing: a={a}, final {fa}"
        );
        seen.push(a);
    }
    assert!(seen.windows(2).all(|p| p[0] <= p[1]), "{seen:?}");
}

#[test]
fn postgres_backup_is_consistent_while_writing() {
    consistent_under_writes("postgres", PG_SERVICE);
}

#[test]
fn mariadb_backup_is_consistent_while_writing() {
    consistent_under_writes("mariadb", MARIA_SERVICE);
}

/// Hidden temp files in the backup folder (a backup in progress).
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

/// Start a backup and wait until it has written a few MB to its temp file.
#[allow(clippy::zombie_processes)] // the caller waits for it
fn start_backup(s: &Stack, h: &Harness) -> std::process::Child {
    let child = Command::new(common::bin("dbdump"))
        .args(["backup", "--compress", "none"])
        .current_dir(&s.dir)
        .env("BERTH_HOME", h.home())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let size: u64 = temp_files(&s.backups())
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        if size > 4 << 20 {
            return child;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let o = child.timed_wait_with_output().unwrap();
            panic!(
                "the backup did not start writing: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn interrupted_backups_are_never_listed() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let s = Stack::up(&h, PG_SERVICE);
    s.sql("postgres", "CREATE TABLE big AS SELECT i, repeat(md5(i::text), 4) AS pad FROM generate_series(1, 1500000) i;");

    // SIGINT: the backup stops, removes its temp file, exits 2.
    let child = start_backup(&s, &h);
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .timed_status()
            .unwrap()
            .success()
    );
    let o = child.timed_wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing was written"));
    assert!(
        temp_files(&s.backups()).is_empty(),
        "temp file left after SIGINT"
    );
    assert!(backups_listed(&s, &h).is_empty());

    // SIGKILL: a hidden temp file stays, but nothing is listed or picked.
    let mut child = start_backup(&s, &h);
    common::kill_and_wait(&mut child);
    assert!(backups_listed(&s, &h).is_empty());
    let left = temp_files(&s.backups());
    assert!(!left.is_empty(), "the killed backup's temp file");
    // Make it older than a backup can be without writing; the next backup sweeps it.
    for f in &left {
        std::fs::File::options()
            .write(true)
            .open(f)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(600))
            .unwrap();
    }
    s.dbdump(&h)
        .args(["restore", "--latest", "--yes"])
        .run()
        .code_is(2)
        .stderr_has("no backups");

    // The container stops mid-dump: the backup fails, nothing is listed.
    let child = start_backup(&s, &h);
    let id = s.container();
    assert!(
        Command::new("docker")
            .args(["kill", &id])
            .stdout(Stdio::null())
            .timed_status()
            .unwrap()
            .success()
    );
    let o = child.timed_wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(backups_listed(&s, &h).is_empty());
    assert!(
        temp_files(&s.backups()).is_empty(),
        "the killed backup's temp file is swept, the failed one's removed"
    );
    let visible: Vec<_> = std::fs::read_dir(s.backups())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(visible.is_empty(), "{visible:?}");
}

/// Watch every process's arguments while `f` runs: the password never shows.
fn no_secret_in_argv<T>(f: impl FnOnce() -> T) -> T {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let watcher = std::thread::spawn(move || {
        let mut seen = 0;
        while !flag.load(Ordering::Relaxed) {
            for e in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
                if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
                    seen += 1;
                    let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                    assert!(
                        !text.contains(SECRET)
                            || text.contains("services.sh")
                            || text.contains("mariadb --no-defaults"),
                        "password in argv: {text}"
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        seen
    });
    let r = f();
    stop.store(true, Ordering::Relaxed);
    assert!(watcher.join().unwrap() > 0);
    r
}

fn url_roundtrip(kind: &str, url_var: &str, client: &[&str], schema: &str, fingerprint: &str) {
    if !common::require("bash") || !common::require(client[0]) {
        return;
    }
    let Some(server) = common::HostServer::start(kind, SECRET) else {
        return;
    };
    // The password goes by environment (PGPASSWORD / MYSQL_PWD), not in the URL.
    let url = server.vars[url_var].replace(&format!(":{SECRET}@"), "@");
    let pw_env = if kind == "postgres" {
        "PGPASSWORD"
    } else {
        "MYSQL_PWD"
    };
    let h = Harness::new();
    let sql = |script: &str| -> String {
        let mut args: Vec<&str> = client[1..].to_vec();
        let host = &server.vars;
        let (pw_var, port) = if kind == "postgres" {
            ("PGPASSWORD", "BED_PG_PORT")
        } else {
            ("MYSQL_PWD", "BED_MARIADB_PORT")
        };
        let port_arg = if kind == "postgres" {
            format!("-p{}", host[port])
        } else {
            format!("--port={}", host[port])
        };
        args.push(&port_arg);
        let db = if kind == "postgres" {
            "-dpostgres".to_owned()
        } else {
            format!("--database={}", host["BED_MARIADB_DB"])
        };
        args.push(&db);
        let mut c = Command::new(client[0]);
        c.args(&args).env(pw_var, SECRET);
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let o = child.timed_wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    sql(schema);
    let before = sql(fingerprint);
    let dir = h.path().join("backups");
    let r = no_secret_in_argv(|| {
        h.cmd("dbdump")
            .env(pw_env, SECRET)
            .args(["backup", "--url", &url, "--backup-dir"])
            .arg(&dir)
            .args(["--json"])
            .run()
            .success()
    });
    let b = r.json();
    assert_eq!(b["project"], serde_json::Value::Null);
    let file = b["file"].as_str().unwrap().to_owned();
    sql("DROP TABLE orders; UPDATE customers SET name = 'gone';");
    assert_ne!(sql(fingerprint), before);
    no_secret_in_argv(|| {
        h.cmd("dbdump")
            .env(pw_env, SECRET)
            .args(["restore", "--url", &url, "--backup-dir"])
            .arg(&dir)
            .args(["--yes", &file])
            .run()
            .success()
    });
    assert_eq!(sql(fingerprint), before);
    h.cmd("dbdump")
        .args(["list", "--backup-dir"])
        .arg(&dir)
        .arg("--json")
        .run()
        .success();
    h.cmd("dbdump")
        .env(pw_env, SECRET)
        .args(["shell", "--url", &url])
        .stdin("SELECT 'via-url' AS x;\n")
        .run()
        .success()
        .stdout_has("via-url");
    // The client reports an error: exit 2, and the statements after it never run.
    let r = h
        .cmd("dbdump")
        .env(pw_env, SECRET)
        .args(["shell", "--url", &url])
        .stdin("select nonsense;\nSELECT 'after-error' AS x;\n")
        .run()
        .code_is(2)
        .stderr_has("exited with status");
    assert!(!r.stdout.contains("after-error"), "{}", r.stdout);
    // A wrong password: exit 2, nothing written.
    // (the URL's password wins over the environment's; DBDUMP_URL keeps it out of argv)
    let bad = server.vars[url_var].replace(SECRET, "wrong");
    h.cmd("dbdump")
        .env(pw_env, SECRET)
        .env("DBDUMP_URL", &bad)
        .args(["backup", "--backup-dir"])
        .arg(h.path().join("none"))
        .run()
        .code_is(2);
    assert!(
        !h.path().join("none").exists()
            || std::fs::read_dir(h.path().join("none")).unwrap().count() == 0
    );
}

const PG_URL_SCHEMA: &str = "CREATE TABLE customers (id serial PRIMARY KEY, name text, photo bytea, at timestamptz, tags int[]);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10,2));
INSERT INTO customers (name, photo, at, tags) SELECT 'ünï ' || i, decode(md5(i::text), 'hex'), now(), ARRAY[i, i + 1] FROM generate_series(1, 500) i;
INSERT INTO orders (customer_id, total) SELECT 1 + i % 500, i / 7.0 FROM generate_series(1, 1000) i;";
const PG_URL_FP: &str = "SELECT md5(string_agg(c::text, '|' ORDER BY id)) FROM customers c; SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders';";
const MARIA_URL_SCHEMA: &str = "SET SESSION max_recursive_iterations = 100000000; CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), photo BLOB);
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, total DECIMAL(10,2), FOREIGN KEY (customer_id) REFERENCES customers (id));
INSERT INTO customers (name, photo) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500) SELECT CONCAT('ünï ', i), UNHEX(MD5(i)) FROM s;
INSERT INTO orders (customer_id, total) SELECT id, id / 7 FROM customers;";
const MARIA_URL_FP: &str = "CHECKSUM TABLE customers, orders EXTENDED;";

#[test]
fn url_mode_against_the_hosts_postgres() {
    url_roundtrip(
        "postgres",
        "BED_PG_URL",
        &[
            "/usr/lib/postgresql/15/bin/psql",
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-h127.0.0.1",
            "-Upostgres",
        ],
        PG_URL_SCHEMA,
        PG_URL_FP,
    );
}

#[test]
fn url_mode_against_the_hosts_mariadb() {
    if !common::require("mariadbd") && !common::require("/usr/sbin/mariadbd") {
        return;
    }
    url_roundtrip(
        "mariadb",
        "BED_MARIADB_URL",
        &[
            "mariadb",
            "--no-defaults",
            "--default-character-set=utf8mb4",
            "--batch",
            "--protocol=tcp",
            "-h127.0.0.1",
            "-uroot",
        ],
        MARIA_URL_SCHEMA,
        MARIA_URL_FP,
    );
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let h = Harness::new();
    h.cmd("dbdump")
        .args([
            "backup",
            "--url",
            "postgres://x@127.0.0.1:1/db",
            "--label",
            "../evil",
        ])
        .run()
        .code_is(2)
        .stderr_has("invalid backup name");
    h.cmd("dbdump")
        .args(["backup", "--url", "ftp://x/y"])
        .run()
        .code_is(2)
        .stderr_has("unknown scheme");
    h.cmd("dbdump")
        .args([
            "backup",
            "--url",
            "postgres://x@127.0.0.1:1/db",
            "--backup-dir",
            "out",
        ])
        .run()
        .code_is(2)
        .stderr_has("cannot reach");
    assert!(
        !h.path().join("out").exists()
            || std::fs::read_dir(h.path().join("out")).unwrap().count() == 0
    );
    h.cmd("dbdump")
        .args(["restore", "--yes", "missing.sql.zst"])
        .run()
        .code_is(2)
        .stderr_has("missing.sql.zst");
    h.cmd("dbdump")
        .args(["restore", "--latest", "--yes", "--backup-dir", "empty"])
        .run()
        .code_is(2)
        .stderr_has("no backups");
    h.cmd("dbdump")
        .args(["restore", "--backup-dir", "empty"])
        .run()
        .code_is(2)
        .stderr_has("--latest");
    h.write("junk.sql.gz", "not gzip at all");
    h.cmd("dbdump")
        .args(["verify", "junk.sql.gz"])
        .run()
        .code_is(1)
        .stdout_has("DAMAGED");
    h.cmd("dbdump")
        .args(["verify", "junk.sql.gz", "--json"])
        .run()
        .code_is(1)
        .stdout_has("\"ok\":false");
    h.cmd("dbdump")
        .args(["list", "--backup-dir", "empty", "--json"])
        .run()
        .success()
        .stdout_has("[]");
    h.cmd("dbdump")
        .args(["prune", "--keep", "x"])
        .run()
        .code_is(2);
    h.cmd("dbdump")
        .args(["backup", "--project", "Not_A_Label"])
        .run()
        .code_is(2);
    h.cmd("dbdump")
        .args(["backup", "--project", "nosuch"])
        .run()
        .code_is(2)
        .stderr_has("no project named");
    h.cmd("dbdump")
        .args(["backup"])
        .run()
        .code_is(2)
        .stderr_has("no compose file");
}

/// `--dir DIR` names the project by its folder, as running inside it does:
/// backup, list and restore from another folder find the project, and its
/// backups land in the project's `.berth/backups`. `--dir` is no longer the
/// backup folder (that is `--backup-dir`).
#[test]
fn dir_names_the_project_folder_from_another_folder() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let s = Stack::up(&h, PG_SERVICE);
    s.sql(
        "postgres",
        "CREATE TABLE marks (n int); INSERT INTO marks VALUES (42);",
    );
    let elsewhere = h.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let from_elsewhere = || h.cmd("dbdump").current_dir(&elsewhere);
    let b = from_elsewhere()
        .args(["backup", "--json", "--dir"])
        .arg(&s.dir)
        .run()
        .success()
        .json();
    let file = PathBuf::from(b["file"].as_str().unwrap());
    assert!(file.is_file() && file.starts_with(s.backups()), "{file:?}");
    assert_eq!(b["project"], s.name.as_str(), "{b}");
    let listed = from_elsewhere()
        .args(["list", "--json", "-d"])
        .arg(&s.dir)
        .run()
        .success()
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["file"], b["file"]);
    s.sql("postgres", "DELETE FROM marks;");
    from_elsewhere()
        .args([
            "restore",
            "--latest",
            "--yes",
            "--no-safety-backup",
            "--dir",
        ])
        .arg(&s.dir)
        .run()
        .success();
    assert_eq!(s.sql("postgres", "SELECT n FROM marks;").trim(), "42");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing is written where dbdump ran"
    );
    from_elsewhere()
        .args(["list", "--dir", "nosuch"])
        .run()
        .code_is(2)
        .stderr_has("dbdump: error: --dir nosuch: no such folder")
        .stderr_has("hint: --dir names the project folder; the backup folder is --backup-dir DIR");
    from_elsewhere()
        .args(["list", "--project", "shop", "--dir"])
        .arg(&s.dir)
        .run()
        .code_is(2)
        .stderr_has("cannot be used with");
}

/// A metadata file for a backup that is not one (for folder tests).
fn fake_meta(file: &Path) -> String {
    serde_json::json!({
        "file": file,
        "project": null,
        "engine": "postgres",
        "server_version": "15",
        "database": "shop",
        "name": null,
        "created_at": "2020-01-01T00:00:00Z",
        "size": 1,
        "sha256": "00",
        "compression": "none",
    })
    .to_string()
}

/// A cloned repository can ship symbolic links in `.berth/backups/`: prune,
/// list and restore act only on regular files and never follow them out.
#[test]
fn prune_list_and_restore_never_follow_symlinks() {
    use std::os::unix::fs::symlink;
    let h = Harness::new();
    let outside = h.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    let precious = h.write("outside/precious.txt", "not a backup; keep me\n");
    h.write("outside/dir/inner.txt", "keep me too\n");
    let outside_meta = h.write("outside/meta.json", &fake_meta(&precious));
    let dir = h.path().join("proj/.berth/backups");
    std::fs::create_dir_all(&dir).unwrap();
    // A link to a file outside, and a link to a directory, each with a
    // regular metadata file; a regular file whose metadata is a link.
    symlink(&precious, dir.join("20200101T000000Z.sql")).unwrap();
    std::fs::write(
        dir.join("20200101T000000Z.sql.json"),
        fake_meta(&dir.join("20200101T000000Z.sql")),
    )
    .unwrap();
    symlink(outside.join("dir"), dir.join("20200101T000001Z.sql")).unwrap();
    std::fs::write(
        dir.join("20200101T000001Z.sql.json"),
        fake_meta(&dir.join("20200101T000001Z.sql")),
    )
    .unwrap();
    std::fs::write(dir.join("20200101T000002Z.sql"), "SELECT 1;\n").unwrap();
    symlink(&outside_meta, dir.join("20200101T000002Z.sql.json")).unwrap();
    // One real backup (regular files).
    std::fs::write(dir.join("20200101T000003Z.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(
        dir.join("20200101T000003Z.sql.json"),
        fake_meta(&dir.join("20200101T000003Z.sql")),
    )
    .unwrap();

    let r = h
        .cmd("dbdump")
        .args(["list", "--json", "--backup-dir"])
        .arg(&dir)
        .run()
        .success()
        .stderr_has("not a regular file");
    let listed: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["file"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].ends_with("20200101T000003Z.sql"), "{listed:?}");

    let r = h
        .cmd("dbdump")
        .args(["prune", "--keep", "0", "--yes", "--backup-dir"])
        .arg(&dir)
        .run()
        .success();
    assert!(r.stdout.contains("20200101T000003Z.sql"), "{}", r.stdout);
    assert!(!r.stdout.contains("20200101T000000Z"), "{}", r.stdout);
    // Nothing outside was touched; the links are still there, the real backup is gone.
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "not a backup; keep me\n"
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("dir/inner.txt")).unwrap(),
        "keep me too\n"
    );
    assert!(outside_meta.is_file());
    for link in [
        "20200101T000000Z.sql",
        "20200101T000001Z.sql",
        "20200101T000002Z.sql.json",
    ] {
        assert!(
            std::fs::symlink_metadata(dir.join(link)).is_ok_and(|m| m.file_type().is_symlink()),
            "{link}"
        );
    }
    assert!(!dir.join("20200101T000003Z.sql").exists());

    // A project whose backup folder itself is a link out of it: list and
    // prune refuse (exit 2) and delete nothing there.
    let linked = h.path().join("linked");
    std::fs::create_dir_all(linked.join(".berth")).unwrap();
    h.write(
        "linked/compose.yaml",
        "services:\n  db:\n    image: postgres:16\n",
    );
    let elsewhere = h.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("20200101T000009Z.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(
        elsewhere.join("20200101T000009Z.sql.json"),
        fake_meta(&elsewhere.join("20200101T000009Z.sql")),
    )
    .unwrap();
    symlink(&elsewhere, linked.join(".berth/backups")).unwrap();
    for args in [&["list"][..], &["prune", "--keep", "0", "--yes"]] {
        h.cmd("dbdump")
            .args(args)
            .current_dir(&linked)
            .run()
            .code_is(2)
            .stderr_has("symbolic link");
    }
    assert!(elsewhere.join("20200101T000009Z.sql").is_file());
    assert!(elsewhere.join("20200101T000009Z.sql.json").is_file());

    // restore and verify refuse a link: exit 2, nothing read through it.
    for cmd in ["restore", "verify"] {
        let mut c = h.cmd("dbdump").arg(cmd);
        if cmd == "restore" {
            c = c.args(["--yes", "--url", "postgres://x@127.0.0.1:1/shop"]);
        }
        c.arg(dir.join("20200101T000000Z.sql"))
            .run()
            .code_is(2)
            .stderr_has("symbolic link");
    }
    assert!(precious.is_file());
}

/// `dbdump list` outside a project says where it looked and how to choose.
#[test]
fn list_outside_a_project_says_where_it_looked() {
    let h = Harness::new();
    let here = h.path().join("nowhere");
    std::fs::create_dir_all(&here).unwrap();
    for cmd in [vec!["list"], vec!["prune", "--keep", "1", "--yes"]] {
        let r = h
            .cmd("dbdump")
            .args(&cmd)
            .current_dir(&here)
            .run()
            .code_is(2)
            .stderr_has("no project in")
            .stderr_has("--project NAME")
            .stderr_has("--backup-dir");
        assert!(
            r.stderr.contains(here.to_str().unwrap()),
            "names the folder: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
}

/// A Django-like app container with python3 only (the test bed's Debian
/// image) and a manage.py that fails `migrate` while `fail` exists, and
/// fails even `--version` while `broken` exists.
const APP_SERVICE: &str = "  app:
    image: berth/debian:bookworm
    command: [\"sleep\", \"infinity\"]
    working_dir: /app
    volumes: [\"./:/app\"]
";

const MANAGE_PY: &str = r#"import os, sys
if os.path.exists("broken"):
    sys.exit(3)
if sys.argv[1:] == ["--version"]:
    print("4.2")
    sys.exit(0)
if sys.argv[1:2] == ["migrate"]:
    if os.path.exists("fail"):
        print("django.db.utils.OperationalError: migration 0002 failed", file=sys.stderr)
        sys.exit(1)
    open("migrated", "w").write("yes")
    sys.exit(0)
sys.exit(2)
"#;

fn reset_keeps_the_old_database_on_failure(engine: &str, service: &str, schema: &str, fp: &str) {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let s = Stack::up(&h, &format!("{service}{APP_SERVICE}"));
    std::fs::write(s.dir.join("manage.py"), MANAGE_PY).unwrap();
    s.sql(engine, schema);
    let before = s.sql(engine, fp);
    let count = |s: &Stack, h: &Harness| backups_listed(s, h).len();

    // The step cannot run: refused before anything changes, no backup taken.
    std::fs::write(s.dir.join("broken"), "").unwrap();
    s.dbdump(&h)
        .args(["reset", "--yes"])
        .run()
        .code_is(2)
        .stderr_has("cannot run")
        .stderr_has("nothing was changed");
    assert_eq!(s.sql(engine, fp), before);
    assert_eq!(count(&s, &h), 0);
    std::fs::remove_file(s.dir.join("broken")).unwrap();

    // The step fails after the drop: the old database is put back.
    std::fs::write(s.dir.join("fail"), "").unwrap();
    let r = s
        .dbdump(&h)
        .args(["reset", "--yes"])
        .run()
        .code_is(2)
        .stderr_has("python3 manage.py migrate --noinput")
        .stderr_has("the old database was put back");
    assert!(r.stderr.contains("migration 0002 failed"), "{}", r.stderr);
    assert_eq!(
        s.sql(engine, fp),
        before,
        "fingerprint after the failed reset"
    );
    let list = backups_listed(&s, &h);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "pre-reset");
    let scratch = if engine == "postgres" {
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_dbdump%';"
    } else {
        "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'shop\\_\\_dbdump%';"
    };
    assert_eq!(s.sql(engine, scratch).trim(), "0");

    // The step succeeds: an empty, migrated database.
    std::fs::remove_file(s.dir.join("fail")).unwrap();
    s.dbdump(&h)
        .args(["reset", "--yes"])
        .run()
        .success()
        .stderr_has("running `python3 manage.py migrate --noinput`");
    assert!(s.dir.join("migrated").is_file());
    let tables = if engine == "postgres" {
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public';"
    } else {
        "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop';"
    };
    assert_eq!(s.sql(engine, tables).trim(), "0");
    assert_eq!(s.sql(engine, scratch).trim(), "0");
    // Safety backups are skipped by --latest: the last pre-reset backup brings the data back.
    let newest = backups_listed(&s, &h).last().unwrap()["file"]
        .as_str()
        .unwrap()
        .to_owned();
    s.dbdump(&h)
        .args(["restore", "--yes", "--no-safety-backup", &newest])
        .run()
        .success();
    assert_eq!(s.sql(engine, fp), before);

    // The shell's client reports an error: exit 2.
    s.dbdump(&h)
        .arg("shell")
        .stdin("select nonsense;\n")
        .run()
        .code_is(2)
        .stderr_has("exited with status");
}

#[test]
fn postgres_reset_puts_the_old_database_back_when_the_framework_step_fails() {
    reset_keeps_the_old_database_on_failure("postgres", PG_SERVICE, PG_SCHEMA, PG_FINGERPRINT);
}

#[test]
fn mariadb_reset_puts_the_old_database_back_when_the_framework_step_fails() {
    reset_keeps_the_old_database_on_failure(
        "mariadb",
        MARIA_SERVICE,
        MARIA_SCHEMA,
        MARIA_FINGERPRINT,
    );
}

/// The folders of the framework agreement test: name, files, the framework
/// (`None`: no framework).
type Folder = (
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
);

const FRAMEWORK_FOLDERS: &[Folder] = &[
    (
        "laravel",
        &[
            ("artisan", "#!/usr/bin/env php\n"),
            (
                "composer.json",
                "{\"require\": {\"laravel/framework\": \"^11.0\"}}\n",
            ),
        ],
        Some("laravel"),
    ),
    // artisan without laravel/framework is not Laravel (dbdump said it was).
    ("artisan-only", &[("artisan", "#!/usr/bin/env php\n")], None),
    (
        "django",
        &[("manage.py", "#!/usr/bin/env python\n")],
        Some("django"),
    ),
    (
        "fastapi",
        &[("requirements.txt", "fastapi>=0.110\nuvicorn\n")],
        Some("fastapi"),
    ),
    (
        "nextjs",
        &[(
            "package.json",
            "{\"dependencies\": {\"next\": \"14.2.0\"}}\n",
        )],
        Some("nextjs"),
    ),
    (
        "wordpress",
        &[("wp-config.php", "<?php\n")],
        Some("wordpress"),
    ),
    ("none", &[("README.md", "notes\n")], None),
];

/// cigen, stackgen and dbdump give one answer on what framework a folder
/// holds (lib's one detector): cigen's detected stack, the stacks stackgen's
/// existing mode accepts, and the step dbdump's reset takes, against a real
/// PostgreSQL container.
#[test]
fn cigen_stackgen_and_dbdump_agree_on_the_framework_of_a_folder() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let s = Stack::up(&h, PG_SERVICE);
    let stacks = ["laravel", "django", "fastapi", "nextjs", "wordpress"];
    let mut wrong = Vec::new();
    for (name, files, want) in FRAMEWORK_FOLDERS {
        let dir = h.path().join(format!("fw-{name}"));
        for (f, text) in *files {
            h.write(&format!("fw-{name}/{f}"), text);
        }
        // cigen: the stack of the pipeline (a WordPress site's is its theme's).
        let run = h.cmd("cigen").args(["detect", "--json"]).arg(&dir).run();
        let cigen = (run.code == 0).then(|| run.json()["stack"].as_str().unwrap_or("").to_owned());
        let cigen_want = want.map(|w| {
            if w == "wordpress" {
                "wordpress-theme"
            } else {
                w
            }
        });
        if cigen.as_deref() != cigen_want {
            wrong.push(format!(
                "{name}: cigen says {cigen:?} ({})",
                run.stderr.trim()
            ));
        }
        if cigen.is_none() && !run.stderr.contains("no project found") {
            wrong.push(format!("{name}: cigen: {}", run.stderr.trim()));
        }
        // stackgen: the stacks whose existing mode takes the folder.
        let took: Vec<&str> = stacks
            .iter()
            .copied()
            .filter(|st| {
                h.cmd("stackgen")
                    .args(["new", st, "app", "--mode", "existing", "--dry-run", "--dir"])
                    .arg(&dir)
                    .run()
                    .code
                    == 0
            })
            .collect();
        if took != want.iter().copied().collect::<Vec<_>>() {
            wrong.push(format!("{name}: stackgen takes it as {took:?}"));
        }
        // dbdump: the framework step of a reset, in the database's project folder.
        for (f, text) in *files {
            std::fs::create_dir_all(s.dir.join(f).parent().unwrap()).unwrap();
            std::fs::write(s.dir.join(f), text).unwrap();
        }
        let run = s
            .dbdump(&h)
            .args(["reset", "--yes", "--no-safety-backup"])
            .run();
        let said = |t: &str| run.stderr.contains(t);
        let dbdump = if said("`php artisan migrate:fresh --force`") {
            Some("laravel")
        } else if said("`python3 manage.py migrate --noinput`") {
            Some("django")
        } else if said("WordPress will run its installer") {
            Some("wordpress")
        } else if said("no framework step for stack fastapi") {
            Some("fastapi")
        } else if said("no framework step for stack nextjs") {
            Some("nextjs")
        } else {
            None
        };
        // Laravel and Django need an app container, which this project lacks.
        let code_want = if matches!(want, Some("laravel" | "django")) {
            2
        } else {
            0
        };
        if dbdump != *want || run.code != code_want {
            wrong.push(format!(
                "{name}: dbdump reset exits {} taking it as {dbdump:?}: {}",
                run.code,
                run.stderr.trim()
            ));
        }
        for (f, _) in *files {
            let p = s.dir.join(f);
            std::fs::remove_file(&p).unwrap();
            if p.parent() != Some(s.dir.as_path()) {
                std::fs::remove_dir(p.parent().unwrap()).unwrap();
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
