//! Output formats are a contract. Every tool's `--json` output validates
//! against its committed JSON Schema (schemas/, generated from the Rust
//! types), the shared models keep the fields DESIGN.md promises, and every
//! command that offers `--format` produces each format it names.
//!
//! The commands run as a user runs them, against one set of projects, a CA
//! and the Docker engine (stackctl status); schemas are checked with
//! `check-jsonschema`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Harness, free_port};
use serde_json::Value;

/// What a command's JSON is: one document, a list of records, or the
/// elements of an array field of each record of a list.
#[derive(Clone, Copy)]
enum Shape {
    One,
    List,
    Nested(&'static str),
}

/// Projects `shop` and `blog` (sharing a host port: a conflict), an env
/// variable, a changed compose file (an update to show), a CA and a
/// certificate, and an HTTP server on shop's port.
struct Fixture {
    h: Harness,
    shared_port: u16,
    trust_root: PathBuf,
    /// A folder with one backup of the host's `PostgreSQL` (taken by `dbdump
    /// backup --url`), and that backup's JSON; `None` without `PostgreSQL`.
    backups: Option<(PathBuf, Value)>,
    /// A generated django project (`stackgen new`) and its Project JSON.
    generated: (PathBuf, Value),
    /// The shared services of this fixture, running with the engine.
    _shared: Option<SharedCleanup>,
}

/// The password of the host's `PostgreSQL`, given by environment only.
const PG_PASSWORD: &str = "schemas-pw";

fn fixture() -> Fixture {
    let h = Harness::new();
    // The shared services of this run under a name of their own, with a
    // PostgreSQL configured (`shared status` lists it before it runs).
    let shared = SharedCleanup::named();
    h.write(
        "home/config.yaml",
        &format!(
            "shared:\n  name: {}\n  services:\n    postgres:\n",
            shared.0
        ),
    );
    let shared_port = free_port();
    let db_port = free_port();
    let shop = h.project("shop", &[&format!("{shared_port}:5432")]);
    let blog = h.project(
        "blog",
        &[&format!("{shared_port}:5432"), &format!("{db_port}:6379")],
    );
    let shop_port = serve_http();
    h.cmd("registry")
        .arg("add")
        .arg(&shop)
        .args(["--port", &shop_port.to_string()])
        .run()
        .success();
    h.cmd("registry").arg("add").arg(&blog).run().success();
    h.cmd("registry")
        .args(["env", "set", "shop", "APP_DEBUG=1"])
        .run()
        .success();
    h.write(
        "shop/compose.yaml",
        &format!(
            "services:\n  db:\n    image: postgres:16\n    ports: [\"{shared_port}:5432\"]\n  cache:\n    image: redis:7\n"
        ),
    );
    h.cmd("secrets")
        .args(["set", "shop", "DB_PASSWORD", "--generate", "alnum32"])
        .run()
        .success();
    h.cmd("secrets")
        .args(["rotate", "shop", "DB_PASSWORD"])
        .run()
        .success();
    h.cmd("secrets")
        .args(["set", "shop", "API_TOKEN", "--from-stdin"])
        .stdin("t0ken")
        .run()
        .success();
    h.cmd("certgen").args(["init"]).run().success();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .success();
    let trust_root = h.path().join("trust-root");
    std::fs::create_dir_all(&trust_root).unwrap();
    let backups = common::HostServer::start("postgres", PG_PASSWORD).map(|server| {
        let url = server.vars["BED_PG_URL"].replace(&format!(":{PG_PASSWORD}@"), "@");
        let dir = h.path().join("backups");
        let backup = h
            .cmd("dbdump")
            .env("PGPASSWORD", PG_PASSWORD)
            .args(["backup", "--url", &url, "--backup-dir"])
            .arg(&dir)
            .arg("--json")
            .run()
            .success()
            .json();
        // The server is stopped here; the backup stays.
        (dir, backup)
    });
    let app_port = free_port().to_string();
    let project = h
        .cmd("stackgen")
        .args([
            "new",
            "django",
            "prod",
            "--no-generator",
            "--port",
            &app_port,
            "--json",
        ])
        .run()
        .success()
        .json();
    // With the engine: the shared PostgreSQL runs, with shop's database on it.
    let shared = engine_ready().then(|| {
        h.cmd("shared").args(["up"]).run().success();
        h.cmd("shared")
            .args(["db", "create", "shop"])
            .run()
            .success();
        shared
    });
    Fixture {
        _shared: shared,
        generated: (h.path().join("prod"), project),
        h,
        shared_port,
        trust_root,
        backups,
    }
}

/// A loopback HTTP server answering 200 to every request, for `stackctl
/// health`; it lives as long as the test process.
fn serve_http() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

/// A loopback DNS server answering NXDOMAIN to every question, for
/// `dnsconf test` and `status`; it lives as long as the test process.
fn serve_dns() -> String {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            // The header and the first question; no answer, no records.
            let mut end = 12;
            while end < n && buf[end] != 0 {
                end += 1 + usize::from(buf[end]);
            }
            let end = (end + 5).min(n);
            if end < 12 {
                continue;
            }
            let mut reply = buf[..end].to_vec();
            reply[2] = 0x81; // a response, recursion desired
            reply[3] = 0x83; // recursion available, NXDOMAIN
            reply[6..12].fill(0);
            let _ = socket.send_to(&reply, from);
        }
    });
    addr
}

/// Whether the Docker engine answers; with CI=true it must.
fn engine_ready() -> bool {
    let ok = common::output_within(Command::new("docker").arg("info"), Duration::from_secs(30))
        .status
        .success();
    assert!(
        ok || std::env::var("CI").as_deref() != Ok("true"),
        "the Docker engine is required (CI=true) but `docker info` fails"
    );
    if !ok {
        eprintln!("skipped: the Docker engine does not answer (stackctl status not checked)");
    }
    ok
}

/// One command whose JSON is checked against a schema: the schema name,
/// the shape, the exit status it must end with, the tool and its arguments.
struct Case {
    schema: &'static str,
    shape: Shape,
    code: i32,
    tool: &'static str,
    args: Vec<String>,
}

fn case(schema: &'static str, shape: Shape, code: i32, tool: &'static str, args: &[&str]) -> Case {
    Case {
        schema,
        shape,
        code,
        tool,
        args: args.iter().map(ToString::to_string).collect(),
    }
}

#[allow(clippy::too_many_lines)] // one table of cases
fn cases(f: &Fixture) -> Vec<Case> {
    use Shape::{List, Nested, One};
    let root = f.trust_root.to_str().unwrap().to_owned();
    let scan = f.h.path().join("shop");
    let dns = serve_dns();
    let shared = f.shared_port.to_string();
    let prod = f.generated.0.to_str().unwrap().to_owned();
    let mut all = vec![
        case("project", List, 0, "registry", &["list", "--json"]),
        case("project", One, 0, "registry", &["show", "shop", "--json"]),
        case(
            "port-binding",
            Nested("service_ports"),
            0,
            "registry",
            &["list", "--json"],
        ),
        case(
            "env-var",
            List,
            0,
            "registry",
            &["env", "list", "shop", "--json"],
        ),
        case(
            "registry-update",
            One,
            0,
            "registry",
            &["update", "shop", "--dry-run", "--json"],
        ),
        case(
            "port-scan",
            List,
            0,
            "ports",
            &["scan", scan.to_str().unwrap(), "--json"],
        ),
        case("conflict", List, 1, "ports", &["check", "--json"]),
        case(
            "port-alloc",
            One,
            0,
            "ports",
            &["alloc", "-n", "2", "--json"],
        ),
        case("port-free", One, 1, "ports", &["free", &shared, "--json"]),
        case("port-use", List, 0, "ports", &["usage", "--json"]),
        case("port-use", List, 0, "ports", &["who", &shared, "--json"]),
        case("ca", One, 2, "certgen", &["init", "--json"]),
        case(
            "cert",
            List,
            0,
            "certgen",
            &["issue", "shop.test", "--json"],
        ),
        case(
            "cert",
            List,
            0,
            "certgen",
            &["renew", "--force", "--dry-run", "--json"],
        ),
        case(
            "certgen-status",
            One,
            0,
            "certgen",
            &["status", "--no-nss", "--json"],
        ),
        case(
            "trust-place",
            List,
            0,
            "certgen",
            &["trust", "--dry-run", "--no-nss", "--root", &root, "--json"],
        ),
        case(
            "dns-resolution",
            One,
            1,
            "dnsconf",
            &["test", "shop.test", "--server", &dns, "--json"],
        ),
        case(
            "dnsconf-status",
            One,
            1,
            "dnsconf",
            &["status", "--root", &root, "--server", &dns, "--json"],
        ),
        case("doctor-check", List, 0, "stackctl", &["doctor", "--json"]),
        case("health", One, 0, "stackctl", &["health", "shop", "--json"]),
        case(
            "stackgen-service",
            List,
            0,
            "stackgen",
            &["services", "--json"],
        ),
        case("stackgen-stack", List, 0, "stackgen", &["stacks", "--json"]),
        case(
            "stack-config",
            One,
            0,
            "stackgen",
            &["config", "--dir", &prod, "--json"],
        ),
        case(
            "template-change",
            List,
            0,
            "stackgen",
            &["update", "--from", &templates(), "--dry-run", "--json"],
        ),
        case(
            "cigen-detection",
            One,
            0,
            "cigen",
            &["detect", &prod, "--json"],
        ),
        case(
            "cigen-file",
            List,
            0,
            "cigen",
            &["generate", &prod, "--dry-run", "--json"],
        ),
        case("cigen-secret", List, 0, "cigen", &["secrets", "--json"]),
        case("secret", List, 0, "secrets", &["list", "shop", "--json"]),
    ];
    if let Some((dir, backup)) = &f.backups {
        let dir = dir.to_str().unwrap();
        let file = backup["file"].as_str().unwrap();
        all.push(case(
            "backup",
            List,
            0,
            "dbdump",
            &["list", "--backup-dir", dir, "--json"],
        ));
        all.push(case(
            "backup-verify",
            One,
            0,
            "dbdump",
            &["verify", file, "--json"],
        ));
    }
    // `certgen init` refuses to replace the CA: its JSON comes from a CA of its own.
    all.retain(|c| c.schema != "ca");
    all
}

/// Run a case; its JSON instances (one per record for lists).
fn instances(f: &Fixture, c: &Case) -> Vec<Value> {
    let run = f.h.cmd(c.tool).args(&c.args).run().code_is(c.code);
    let doc = run.json();
    match c.shape {
        Shape::One => vec![doc],
        Shape::List => doc
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{} {:?}: not an array: {doc}", c.tool, c.args)),
        Shape::Nested(field) => doc
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r[field].as_array().cloned().unwrap_or_default())
            .collect(),
    }
}

/// The built-in templates, as a folder `stackgen update --from` reads.
fn templates() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools/stackgen/templates")
        .to_str()
        .unwrap()
        .to_owned()
}

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Validate instances against `schemas/NAME.json` with check-jsonschema:
/// the errors it printed, or `None` when every instance is valid.
fn invalid(dir: &Path, name: &str, docs: &[Value]) -> Option<String> {
    let mut files = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let p = dir.join(format!("{name}-{i}.json"));
        std::fs::write(&p, serde_json::to_vec(d).unwrap()).unwrap();
        files.push(p);
    }
    let out = common::output_within(
        Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(schemas_dir().join(format!("{name}.json")))
            .args(&files),
        Duration::from_secs(120),
    );
    (!out.status.success()).then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// No tool prints the stack file yet: its model as lib reads and writes it
/// (`stackgen config --json` and `export` will replace this).
fn stack_file_doc() -> Value {
    let stack = berth::stackfile::parse(
        "version: 1\nstack: django\nname: shop\ninstances:\n  postgres:\n  \
         analytics-db:\n    service: postgres\n    version: \"15\"\n    ports: [\"15432:5432\"]\n    \
         command: [postgres, -c, fsync=off]\n    healthcheck: {test: pg_isready, retries: 3}\n    \
         resources: {cpus: 0.5, memory: 512m}\nwires:\n  app.database: analytics-db\n",
        "berth.yaml",
        None,
    )
    .unwrap();
    serde_json::to_value(&stack).unwrap()
}

#[test]
fn every_json_output_validates_against_its_schema() {
    if !common::require("check-jsonschema") {
        return;
    }
    let f = fixture();
    // Records by schema, from every case.
    let mut docs: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for c in cases(&f) {
        let found = instances(&f, &c);
        assert!(
            !found.is_empty(),
            "{} {:?} printed no record",
            c.tool,
            c.args
        );
        docs.entry(c.schema).or_default().extend(found);
    }
    docs.entry("project")
        .or_default()
        .push(f.generated.1.clone());
    docs.entry("stack-file").or_default().push(stack_file_doc());
    if let Some((_, backup)) = &f.backups {
        docs.entry("backup").or_default().push(backup.clone());
    }
    // A CA of its own for `certgen init --json`.
    let other = Harness::new();
    docs.entry("ca").or_default().push(
        other
            .cmd("certgen")
            .args(["init", "--json"])
            .run()
            .success()
            .json(),
    );
    // A project recorded as running without containers: watch corrects it (an event).
    f.h.cmd("registry")
        .args(["status", "blog", "running"])
        .run()
        .success();
    if engine_ready() {
        engine_docs(&f, &mut docs);
    }
    let dir = tempfile::tempdir().unwrap();
    let failures: Vec<String> = docs
        .iter()
        .filter_map(|(name, d)| invalid(dir.path(), name, d).map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "output not valid against its schema:\n{}",
        failures.join("\n")
    );
    // Every committed schema was checked against real output.
    let committed: BTreeSet<String> = std::fs::read_dir(schemas_dir())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_owned()
        })
        .collect();
    let checked: BTreeSet<String> = docs.keys().map(|k| (*k).to_owned()).collect();
    // Said skipped above when the engine or PostgreSQL is missing (never with CI=true).
    let engine = [
        "shared-status",
        "shared-database",
        "shared-router-status",
        "stack-status",
        "watch-event",
        "plan",
        "backup",
        "backup-verify",
    ];
    let unchecked: Vec<&String> = committed
        .difference(&checked)
        .filter(|s| !engine.contains(&s.as_str()) || std::env::var("CI").as_deref() == Ok("true"))
        .collect();
    assert!(
        unchecked.is_empty(),
        "schemas no output was checked against: {unchecked:?}"
    );
}

/// Removes a fixture's shared services (containers, volumes, network).
struct SharedCleanup(String);

impl SharedCleanup {
    /// A name of its own for each fixture (the tests run side by side).
    fn named() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(format!("bs{}-schemas{n}", std::process::id()))
    }
}

impl Drop for SharedCleanup {
    fn drop(&mut self) {
        common::engines::Engine::Docker.remove_projects(std::slice::from_ref(&self.0));
        let _ = common::try_output_within(
            Command::new("docker").args(["network", "rm", &self.0]),
            Duration::from_secs(60),
        );
    }
}

/// The outputs that need the engine: stack status, watch events, a plan,
/// the shared servers and a project's database on them.
fn engine_docs(f: &Fixture, docs: &mut BTreeMap<&'static str, Vec<Value>>) {
    // A re-run of create prints the same record.
    let created =
        f.h.cmd("shared")
            .args(["db", "create", "shop", "--json"])
            .run()
            .success()
            .json();
    let listed =
        f.h.cmd("shared")
            .args(["db", "list", "--json"])
            .run()
            .success()
            .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let databases = docs.entry("shared-database").or_default();
    databases.push(created);
    databases.extend(listed.as_array().cloned().unwrap());
    let status =
        f.h.cmd("shared")
            .args(["status", "--json"])
            .run()
            .success()
            .json();
    assert_eq!(status[0]["state"], "running", "{status}");
    assert_eq!(
        status[0]["projects"],
        serde_json::json!(["shop"]),
        "{status}"
    );
    docs.entry("shared-status")
        .or_default()
        .extend(status.as_array().cloned().unwrap());
    // The router never started here: its status says so (tests/shared_router.rs runs one).
    let router =
        f.h.cmd("shared")
            .args(["router", "status", "--json"])
            .run()
            .success()
            .json();
    assert_eq!(router["state"], "absent", "{router}");
    docs.entry("shared-router-status").or_default().push(router);
    docs.entry("stack-status").or_default().extend(
        f.h.cmd("stackctl")
            .args(["status", "--no-update", "--json"])
            .run()
            .success()
            .json()
            .as_array()
            .cloned()
            .unwrap(),
    );
    let watch =
        f.h.cmd("stackctl")
            .args(["watch", "blog", "--once", "--json"])
            .run()
            .success();
    let events: Vec<Value> = watch
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !events.is_empty(),
        "watch printed no event:\n{}",
        watch.stderr
    );
    docs.entry("watch-event").or_default().extend(events);
    let plan = f.h.cmd("stackctl").args(["plan", "blog", "--json"]).run();
    assert!(
        matches!(plan.code, 0 | 1),
        "stackctl plan: {}\n{}",
        plan.code,
        plan.stderr
    );
    docs.entry("plan").or_default().push(plan.json());
}

/// A field renamed in the Rust types and in the schemas still breaks a
/// contract: the shared models keep the fields DESIGN.md names.
#[test]
fn shared_models_keep_their_contract_fields() {
    let contract: [(&str, &[&str]); 6] = [
        (
            "project",
            &[
                "name",
                "path",
                "domain",
                "port",
                "stack",
                "compose_files",
                "services",
                "service_ports",
                "exposed_ports",
                "environment",
                "status",
                "registered_at",
                "last_started",
                "last_updated",
            ],
        ),
        (
            "port-binding",
            &["service", "host_ip", "published", "target", "protocol"],
        ),
        ("conflict", &["port", "protocol", "host_ip", "claims"]),
        (
            "backup",
            &[
                "file",
                "project",
                "engine",
                "server_version",
                "database",
                "name",
                "created_at",
                "size",
                "sha256",
                "compression",
            ],
        ),
        (
            "plan",
            &[
                "project",
                "stack_serial",
                "state_serial",
                "changes",
                "created_at",
            ],
        ),
        (
            "cert",
            &[
                "domain",
                "sans",
                "not_before",
                "not_after",
                "days_left",
                "files",
            ],
        ),
    ];
    for (name, fields) in contract {
        let schema: Value = serde_json::from_slice(
            &std::fs::read(schemas_dir().join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let missing: Vec<&&str> = fields.iter().filter(|f| !required.contains(**f)).collect();
        assert!(
            missing.is_empty(),
            "schemas/{name}.json lacks contract fields {missing:?}"
        );
    }
}

/// The commands that offer `--format` (the clap definitions say so).
fn commands_offering_format() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut BTreeSet<String>) {
        if cmd
            .get_arguments()
            .any(|a| a.get_id() == "format" && !a.is_hide_set())
        {
            out.insert(path.to_owned());
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
    let mut out = BTreeSet::new();
    for cmd in xtask::tools() {
        walk(&cmd, cmd.get_name(), &mut out);
    }
    out
}

/// For each command offering `--format`: how to run it here (arguments
/// after the subcommand path).
fn format_cases(f: &Fixture, fresh: &dyn Fn(&str) -> String) -> Vec<(String, Vec<String>)> {
    let root = f.trust_root.to_str().unwrap().to_owned();
    let shared = f.shared_port.to_string();
    let scan = f.h.path().join("shop").to_str().unwrap().to_owned();
    let prod = f.generated.0.to_str().unwrap().to_owned();
    let v = |path: &str, args: &[&str]| {
        (
            path.to_owned(),
            args.iter().map(ToString::to_string).collect::<Vec<_>>(),
        )
    };
    let mut all = vec![
        v("registry list", &[]),
        v("registry show", &["shop"]),
        v("registry add", &[&fresh("add")]),
        v("registry env list", &["shop"]),
        v("ports scan", &[&scan]),
        v("ports check", &[]),
        v("ports usage", &[]),
        v("ports who", &[&shared]),
        v("certgen issue", &["shop.test"]),
        v("certgen renew", &["--force", "--dry-run"]),
        v("certgen trust", &["--dry-run", "--no-nss", "--root", &root]),
        v(
            "certgen untrust",
            &["--dry-run", "--no-nss", "--root", &root],
        ),
        v("stackctl doctor", &[]),
        v("stackctl status", &["--no-update"]),
        v("stackgen services", &[]),
        v("stackgen stacks", &[]),
        v(
            "stackgen update-templates",
            &["--from", &templates(), "--dry-run"],
        ),
        v("cigen detect", &[&prod]),
        v("cigen generate", &[&prod, "--dry-run"]),
        v("cigen secrets", &[]),
        v("secrets list", &["shop"]),
        v("shared status", &[]),
        v("shared db list", &[]),
    ];
    if let Some((dir, _)) = &f.backups {
        let dir = dir.to_str().unwrap();
        all.push(v("dbdump list", &["--backup-dir", dir]));
        all.push(v(
            "dbdump prune",
            &["--backup-dir", dir, "--keep", "0", "--dry-run"],
        ));
    }
    all
}

/// The exit statuses a format case may end with (a finding is 1).
fn ok_codes(path: &str) -> &'static [i32] {
    match path {
        "ports check" | "stackctl doctor" => &[0, 1],
        _ => &[0],
    }
}

#[test]
fn every_format_offered_is_the_format_printed() {
    let f = fixture();
    let counter = std::cell::Cell::new(0);
    let fresh = |what: &str| {
        counter.set(counter.get() + 1);
        let name = format!("{what}{}", counter.get());
        let port = free_port().to_string();
        f.h.project(&name, &[&format!("{port}:80")])
            .to_str()
            .unwrap()
            .to_owned()
    };
    let offered = commands_offering_format();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for format in ["json", "ndjson", "csv", "table"] {
        for (path, args) in format_cases(&f, &fresh) {
            covered.insert(path.clone());
            // A fresh folder for each run of `registry add`.
            let args: Vec<String> = if path == "registry add" {
                vec![fresh("add")]
            } else {
                args
            };
            let mut words = path.split(' ');
            let tool = words.next().unwrap();
            let run =
                f.h.cmd(tool)
                    .args(words)
                    .args(&args)
                    .args(["--format", format])
                    .run();
            if !ok_codes(&path).contains(&run.code) {
                failures.push(format!(
                    "{path} --format {format}: exit {}\n{}",
                    run.code, run.stderr
                ));
                continue;
            }
            // The records, as JSON prints them, to compare the other formats with.
            let json_args: Vec<String> = if path == "registry add" {
                vec![fresh("add")]
            } else {
                args.clone()
            };
            let mut words = path.split(' ');
            let records =
                f.h.cmd(words.next().unwrap())
                    .args(words)
                    .args(&json_args)
                    .args(["--format", "json"])
                    .run()
                    .json();
            let records = match records {
                Value::Array(a) => a,
                one => vec![one],
            };
            if let Err(e) = is_format(format, &run.stdout, &records) {
                failures.push(format!("{path} --format {format}: {e}\n{}", run.stdout));
            }
        }
    }
    let missing: Vec<&String> = offered
        .difference(&covered)
        .filter(|c| f.backups.is_some() || !c.starts_with("dbdump "))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        missing.is_empty(),
        "commands offering --format with no case here: {missing:?}"
    );
}

/// Whether `out` is `format` holding `records` (as `--format json` prints them).
fn is_format(format: &str, out: &str, records: &[Value]) -> Result<(), String> {
    if records.is_empty() {
        return Err("no record to compare with".into());
    }
    let fields: BTreeSet<String> = records
        .iter()
        .flat_map(|r| {
            r.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect();
    match format {
        "json" => {
            serde_json::from_str::<Value>(out).map_err(|e| format!("not JSON: {e}"))?;
        }
        "ndjson" => {
            let lines: Vec<&str> = out.lines().collect();
            for l in &lines {
                let v: Value =
                    serde_json::from_str(l).map_err(|e| format!("a line is not JSON: {e}"))?;
                if !v.is_object() {
                    return Err(format!("a line is not an object: {l}"));
                }
            }
            if lines.len() != records.len() {
                return Err(format!(
                    "{} lines for {} records",
                    lines.len(),
                    records.len()
                ));
            }
        }
        "csv" => {
            let mut r = csv::Reader::from_reader(out.as_bytes());
            let header: Vec<String> = r
                .headers()
                .map_err(|e| e.to_string())?
                .iter()
                .map(str::to_owned)
                .collect();
            let header_set: BTreeSet<String> = header.iter().cloned().collect();
            if header_set != fields || header.len() != fields.len() {
                return Err(format!(
                    "header {header:?} is not the JSON fields {fields:?}"
                ));
            }
            let rows = r
                .records()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            if rows.len() != records.len() {
                return Err(format!("{} rows for {} records", rows.len(), records.len()));
            }
        }
        "table" => {
            if out.trim().is_empty()
                || serde_json::from_str::<Value>(out).is_ok()
                || out
                    .lines()
                    .all(|l| serde_json::from_str::<Value>(l).is_ok())
            {
                return Err("a table is not JSON, and not empty".into());
            }
        }
        _ => unreachable!(),
    }
    Ok(())
}

/// The format walk can fail: `is_format` refuses what the commands printed
/// before the format contract (one JSON document for ndjson, prose or table
/// titles for csv, JSON for a table) and takes each format done right.
#[test]
fn the_format_check_refuses_a_format_not_honoured() {
    let records = vec![
        serde_json::json!({"name": "shop", "port": 5000}),
        serde_json::json!({"name": "blog", "port": 5001}),
    ];
    let json = serde_json::to_string(&records).unwrap();
    for (format, out) in [
        ("json", "shop 5000\n"),
        ("ndjson", json.as_str()),
        ("ndjson", "{\"name\":\"shop\",\"port\":5000}\n"),
        ("csv", "registered shop at shop.test\n"),
        ("csv", "NAME,PORT\nshop,5000\nblog,5001\n"),
        ("csv", "name,port\nshop,5000\n"),
        ("table", json.as_str()),
        ("table", ""),
    ] {
        assert!(
            is_format(format, out, &records).is_err(),
            "--format {format} accepted {out:?}"
        );
    }
    for (format, out) in [
        ("json", json.as_str()),
        (
            "ndjson",
            "{\"name\":\"shop\",\"port\":5000}\n{\"name\":\"blog\",\"port\":5001}\n",
        ),
        ("csv", "name,port\nshop,5000\nblog,5001\n"),
        ("table", " NAME  PORT\n shop  5000\n blog  5001\n"),
    ] {
        assert_eq!(
            is_format(format, out, &records),
            Ok(()),
            "--format {format}"
        );
    }
}
