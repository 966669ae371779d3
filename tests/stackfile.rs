//! `berth.yaml`, the declared stack, through the real `stackgen`: `new`
//! writes it; a project generated before it gets one with no change to its
//! generated files; `set`, `unset`, `wire`, `add-service --as` and a hand
//! edit (`generate`) change only what they name, keep the user's comments,
//! and regenerate the services file; `config` shows the effective config
//! with its sources and the wiring (an ambiguity named); bad input exits 2
//! naming file, line and key, and writes nothing.

// End-to-end tests read as one scenario each, top to bottom.
#![allow(clippy::too_many_lines)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Harness, Timed as _, snapshot};

/// A django project with postgres and redis, no framework generator.
fn project(h: &Harness, name: &str) -> PathBuf {
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            name,
            "--no-generator",
            "--services",
            "postgres,redis",
        ])
        .run()
        .success();
    h.path().join(name)
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn services(dir: &Path) -> yaml_serde::Value {
    yaml_serde::from_str(&read(dir, ".berth/compose.services.yaml")).unwrap()
}

fn env_of<'a>(doc: &'a yaml_serde::Value, service: &str, var: &str) -> Option<&'a str> {
    doc["services"][service]["environment"][var].as_str()
}

#[test]
fn new_writes_berth_yaml_and_an_older_project_gets_one_without_a_changed_file() {
    let h = Harness::new();
    let dir = project(&h, "shop");
    let declared = read(&dir, "berth.yaml");
    assert!(
        declared.ends_with(
            "version: 1\nstack: django\nname: shop\ninstances:\n  postgres:\n  redis:\n"
        ),
        "{declared}"
    );
    assert!(declared.starts_with("# The declared stack"), "{declared}");

    // A project from before berth.yaml: its state, no stack file.
    std::fs::remove_file(dir.join("berth.yaml")).unwrap();
    let before = snapshot(&dir);
    let shown = h
        .cmd("stackgen")
        .args(["config", "--json"])
        .current_dir(&dir)
        .run()
        .success();
    assert!(
        shown.stderr.contains("berth.yaml does not exist yet"),
        "{}",
        shown.stderr
    );
    assert_eq!(snapshot(&dir), before, "config wrote something");
    let run = h
        .cmd("stackgen")
        .args(["generate", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    assert!(
        run.stderr
            .contains("berth.yaml is written from .berth/stackgen.json"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("create berth.yaml"), "{}", run.stderr);
    let mut after = snapshot(&dir);
    assert_eq!(
        after.remove(Path::new("berth.yaml")).map(String::from_utf8),
        Some(Ok(declared))
    );
    assert_eq!(
        after, before,
        "a generated file changed in the move to berth.yaml"
    );
    // Run again: nothing to change.
    h.cmd("stackgen")
        .args(["generate", "--yes"])
        .current_dir(&dir)
        .run()
        .success()
        .stderr_has("nothing to change");
}

#[test]
fn set_and_unset_change_only_their_lines_and_the_generated_service() {
    let h = Harness::new();
    let dir = project(&h, "limits");
    let mut text = read(&dir, "berth.yaml");
    text = text.replace("  redis:\n", "  # the queue's broker\n  redis:\n");
    text.push_str("# kept at the end\n");
    std::fs::write(dir.join("berth.yaml"), &text).unwrap();
    let services_before = read(&dir, ".berth/compose.services.yaml");

    // A dry run: the diff on stdout, nothing written.
    let before = snapshot(&dir);
    let dry = h
        .cmd("stackgen")
        .args([
            "set",
            "redis.resources.memory=256m",
            "redis.resources.cpus=0.5",
            "--dry-run",
        ])
        .current_dir(&dir)
        .run()
        .success();
    assert!(
        dry.stdout
            .contains("+    resources:\n+      cpus: '0.5'\n+      memory: 256m\n"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("+    mem_limit: 256m"),
        "{}",
        dry.stdout
    );
    assert_eq!(snapshot(&dir), before);

    h.cmd("stackgen")
        .args([
            "set",
            "redis.resources.memory=256m",
            "redis.resources.cpus=0.5",
            "--yes",
        ])
        .current_dir(&dir)
        .run()
        .success();
    let now = read(&dir, "berth.yaml");
    assert!(
        now.contains("  # the queue's broker\n  redis:\n    resources:\n      cpus: '0.5'\n      memory: 256m\n# kept at the end\n"),
        "{now}"
    );
    let doc = services(&dir);
    let redis = &doc["services"]["redis"];
    assert_eq!(redis["mem_limit"].as_str(), Some("256m"));
    assert_eq!(redis["cpus"].as_f64(), Some(0.5));
    assert_eq!(
        redis["deploy"]["resources"]["limits"]["memory"].as_str(),
        Some("256m")
    );
    assert_eq!(
        redis["deploy"]["resources"]["limits"]["cpus"].as_str(),
        Some("0.5")
    );
    // config says where each value came from.
    let config = h
        .cmd("stackgen")
        .args(["config", "redis", "--json"])
        .current_dir(&dir)
        .run()
        .success()
        .json();
    let prov = &config["instances"][0]["provenance"]["keys"];
    assert_eq!(config["instances"].as_array().unwrap().len(), 1, "{config}");
    assert_eq!(prov["mem_limit"], "override");
    assert_eq!(prov["image"], "template");
    assert!(config["serial"].as_str().unwrap().starts_with("sha256:"));
    // A version override changes the image tag only.
    h.cmd("stackgen")
        .args(["set", "postgres.version=15", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    assert_eq!(
        services(&dir)["services"]["postgres"]["image"].as_str(),
        Some("postgres:15")
    );

    // Unset all of it: the services file is what it was.
    h.cmd("stackgen")
        .args(["unset", "redis.resources", "postgres.version", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    assert_eq!(read(&dir, ".berth/compose.services.yaml"), services_before);
    assert_eq!(read(&dir, "berth.yaml"), text);
}

#[test]
fn a_second_postgres_gets_its_own_names_and_the_app_is_wired_as_asked() {
    let h = Harness::new();
    let dir = project(&h, "two");
    let added = h
        .cmd("stackgen")
        .args(["add-service", "postgres", "--as", "analytics-db", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    // Adding a second candidate keeps the app on the first, explicitly.
    assert!(
        added.stderr.contains("app.database stays on postgres"),
        "{}",
        added.stderr
    );
    let declared = read(&dir, "berth.yaml");
    assert!(
        declared.contains("  analytics-db:\n    service: postgres\n"),
        "{declared}"
    );
    assert!(
        declared.contains("wires:\n  app.database: postgres\n"),
        "{declared}"
    );
    let doc = services(&dir);
    let db = &doc["services"]["analytics-db"];
    assert_eq!(db["container_name"].as_str(), Some("two-analytics-db"));
    assert_eq!(
        db["environment"]["POSTGRES_DB"].as_str(),
        Some("analytics_db")
    );
    assert_eq!(
        db["environment"]["POSTGRES_PASSWORD"].as_str(),
        Some("${ANALYTICS_DB_POSTGRES_PASSWORD}")
    );
    assert_eq!(
        db["volumes"][0].as_str(),
        Some("two-analytics-db-data:/var/lib/postgresql/data")
    );
    assert_eq!(
        env_of(&doc, "app", "DATABASE_URL"),
        Some("postgresql://app:${POSTGRES_PASSWORD}@postgres:5432/app")
    );
    // Its password is its own, in the store.
    let listed = h
        .cmd("secrets")
        .args(["list", "two", "--json"])
        .run()
        .success()
        .json();
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"ANALYTICS_DB_POSTGRES_PASSWORD"), "{keys:?}");
    assert!(keys.contains(&"POSTGRES_PASSWORD"), "{keys:?}");

    // Without the wire, the import is ambiguous: config names the candidates.
    let text = declared.replace("wires:\n  app.database: postgres\n", "");
    std::fs::write(dir.join("berth.yaml"), &text).unwrap();
    let config = h
        .cmd("stackgen")
        .args(["config"])
        .current_dir(&dir)
        .run()
        .success();
    assert!(
        config
            .stderr
            .contains("app.database is ambiguous: postgres, analytics-db can provide it"),
        "{}",
        config.stderr
    );
    assert!(
        config
            .stdout
            .contains("  app.database: ambiguous: postgres, analytics-db"),
        "{}",
        config.stdout
    );
    let json = h
        .cmd("stackgen")
        .args(["config", "--json"])
        .current_dir(&dir)
        .run()
        .success()
        .json();
    assert!(
        json["problems"][0]
            .as_str()
            .unwrap()
            .contains("stackgen wire app.database NAME"),
        "{json}"
    );

    // The explicit wire moves the app to analytics-db, by its network name.
    h.cmd("stackgen")
        .args(["wire", "app.database", "analytics-db", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    let doc = services(&dir);
    assert_eq!(
        env_of(&doc, "app", "DATABASE_URL"),
        Some("postgresql://app:${ANALYTICS_DB_POSTGRES_PASSWORD}@analytics-db:5432/analytics_db")
    );
    assert_eq!(env_of(&doc, "app", "DB_HOST"), Some("analytics-db"));
    // Redis was wired automatically all along.
    assert_eq!(
        env_of(&doc, "app", "CELERY_BROKER_URL"),
        Some("redis://redis:6379/1")
    );
    let json = h
        .cmd("stackgen")
        .args(["config", "app", "--json"])
        .current_dir(&dir)
        .run()
        .success()
        .json();
    assert_eq!(
        json["instances"][0]["provenance"]["environment"]["DATABASE_URL"],
        "wire"
    );
    assert!(json["problems"].as_array().unwrap().is_empty(), "{json}");

    // A worker wired by name gets the provider's variables; one it sets
    // itself wins over the wired one.
    for args in [
        &["add-service", "celery", "--yes"][..],
        &["wire", "celery.database", "postgres", "--yes"],
        &["set", "celery.environment.DB_NAME=reports", "--yes"],
    ] {
        h.cmd("stackgen")
            .args(args)
            .current_dir(&dir)
            .run()
            .success();
    }
    let doc = services(&dir);
    assert_eq!(env_of(&doc, "celery", "DB_HOST"), Some("postgres"));
    assert_eq!(env_of(&doc, "celery", "DB_NAME"), Some("reports"));
    assert_eq!(env_of(&doc, "app", "DB_HOST"), Some("analytics-db"));
    let json = h
        .cmd("stackgen")
        .args(["config", "celery", "--json"])
        .current_dir(&dir)
        .run()
        .success()
        .json();
    let env = &json["instances"][0]["provenance"]["environment"];
    assert_eq!(
        (env["DB_HOST"].as_str(), env["DB_NAME"].as_str()),
        (Some("wire"), Some("override"))
    );
    h.cmd("stackgen")
        .args(["remove-service", "celery", "--yes"])
        .current_dir(&dir)
        .run()
        .success();

    // Removing it takes its wire, block and state with it.
    h.cmd("stackgen")
        .args(["remove-service", "analytics-db", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    let declared = read(&dir, "berth.yaml");
    assert!(!declared.contains("analytics-db"), "{declared}");
    let doc = services(&dir);
    assert!(doc["services"]["analytics-db"].is_null());
    assert_eq!(env_of(&doc, "app", "DB_HOST"), Some("postgres"));
    assert!(!read(&dir, ".env").contains("ANALYTICS_DB"));
}

#[test]
fn bad_declarations_exit_2_naming_file_line_and_key_and_write_nothing() {
    let h = Harness::new();
    let dir = project(&h, "bad");
    let good = read(&dir, "berth.yaml");
    // Another registered project claims a port.
    let taken = common::free_port();
    let other = h.project("other", &[&format!("{taken}:80")]);
    h.cmd("registry")
        .args(["add", other.to_str().unwrap()])
        .run()
        .success();
    let pin = format!("redis.ports=[\"127.0.0.1:{taken}:6379\"]");
    let claimed =
        format!("instances.redis.ports.0: host port {taken} is claimed by project 'other'");
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            good.replace("  redis:\n", "  redis:\n  cache:\n    service: nosuch\n"),
            vec!["generate", "--yes"],
            "berth.yaml:11: instances.cache.service:",
        ),
        (
            good.replace("  redis:\n", "  Bad_Name:\n"),
            vec!["generate", "--yes"],
            "berth.yaml:9: instances.Bad_Name:",
        ),
        (
            good.replace("  redis:\n", "  redis:\n  redis:\n"),
            vec!["generate", "--yes"],
            "berth.yaml:10:",
        ),
        (
            good.clone(),
            vec!["wire", "app.database", "nothing", "--yes"],
            "no provider 'nothing'",
        ),
        (
            good.clone(),
            vec!["set", "redis.colour=blue", "--yes"],
            "instances.redis.colour",
        ),
        (
            good.clone(),
            vec!["set", "nosuch.version=1", "--yes"],
            "no instance 'nosuch'",
        ),
        (
            good.clone(),
            vec!["set", "redis.resources.memory=lots", "--yes"],
            "instances.redis.resources.memory",
        ),
        (
            good.clone(),
            vec!["unset", "redis.version", "--yes"],
            "redis has no override version",
        ),
        (
            good.clone(),
            vec!["add-service", "postgres", "--as", "Not A Label", "--yes"],
            "instance name",
        ),
        (good.clone(), vec!["set", &pin, "--yes"], &claimed),
    ];
    for (text, args, why) in cases {
        std::fs::write(dir.join("berth.yaml"), &text).unwrap();
        let before = snapshot(&dir);
        let run = h
            .cmd("stackgen")
            .args(&args)
            .current_dir(&dir)
            .run()
            .code_is(2);
        assert!(
            run.stderr.contains(why),
            "{args:?}: wanted {why:?} in {}",
            run.stderr
        );
        assert!(run.stderr.starts_with("stackgen: error:"), "{}", run.stderr);
        assert_eq!(snapshot(&dir), before, "{args:?} wrote something");
    }
}

/// The project's secret values, from the store.
fn secret_values(h: &Harness, name: &str) -> Vec<String> {
    let env = h.cmd("secrets").args(["env", name]).run().success();
    env.stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v.trim_matches('\'').to_owned())
        .filter(|v| v.len() >= 8)
        .collect()
}

#[test]
fn export_import_export_is_byte_stable_for_every_stack_and_holds_no_secret() {
    for stack in ["django", "fastapi", "laravel", "nextjs", "wordpress"] {
        let h = Harness::new();
        let name = format!("x-{stack}");
        h.cmd("stackgen")
            .args(["new", stack, &name, "--no-generator"])
            .run()
            .success();
        let dir = h.path().join(&name);
        let offers = h
            .cmd("stackgen")
            .args(["stacks", "--json"])
            .run()
            .success()
            .json();
        let offered = offers
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == stack)
            .map(|s| s["services"].to_string())
            .unwrap();
        // A second instance of a cache, an override with a literal secret
        // and a pinned port, where the stack offers redis.
        if offered.contains("\"redis\"") {
            h.cmd("stackgen")
                .args(["add-service", "redis", "--as", "queue", "--yes"])
                .current_dir(&dir)
                .run()
                .success();
            h.cmd("stackgen")
                .args([
                    "set",
                    "queue.resources.memory=128m",
                    "queue.environment.QUEUE_TOKEN=s3cr3t-literal-value",
                    "queue.ports=[\"127.0.0.1:16399:6379\"]",
                    "--yes",
                ])
                .current_dir(&dir)
                .run()
                .success();
        }
        let first = h
            .cmd("stackgen")
            .args(["export"])
            .current_dir(&dir)
            .run()
            .success()
            .stdout;
        assert!(
            first.contains(&format!("stack: {stack}\nname: {name}\n")),
            "{first}"
        );
        let mut values = secret_values(&h, &name);
        values.push("s3cr3t-literal-value".into());
        for v in &values {
            assert!(
                !first.contains(v.as_str()),
                "{stack}: a secret value in the export:\n{first}"
            );
        }
        if offered.contains("\"redis\"") {
            assert!(
                first.contains("QUEUE_TOKEN: ${secret:QUEUE_TOKEN}"),
                "{first}"
            );
            assert!(
                first.contains("127.0.0.1:16399:6379"),
                "a pinned port stays: {first}"
            );
        }

        // Another machine: another BERTH_HOME, another folder.
        let other = Harness::new();
        let file = other.write("shared.berth.yaml", &first);
        let copy = other.path().join("copy");
        let imported = other
            .cmd("stackgen")
            .arg("import")
            .arg(&file)
            .arg("--dir")
            .arg(&copy)
            .run()
            .success();
        assert!(
            imported.stderr.contains(&format!("stackctl plan {name}")),
            "{}",
            imported.stderr
        );
        let again = other
            .cmd("stackgen")
            .args(["export"])
            .current_dir(&copy)
            .run()
            .success()
            .stdout;
        assert_eq!(again, first, "{stack}: export -> import -> export changed");
        // New values were made for the placeholders, and none of the first machine's.
        let made = secret_values(&other, &name);
        assert!(!made.is_empty());
        for v in &values {
            assert!(!made.contains(v), "{stack}: a value crossed machines");
        }
        if offered.contains("\"redis\"") {
            let listed = other.cmd("secrets").args(["list", &name]).run().success();
            assert!(listed.stdout.contains("QUEUE_TOKEN"), "{}", listed.stdout);
        }
    }
}

#[test]
fn import_refuses_bad_files_with_exit_2_and_writes_nothing() {
    let h = Harness::new();
    let bad = h.write(
        "bad.berth.yaml",
        "version: 1\nstack: django\nname: shop\ninstances:\n  cache:\n    service: nosuch\n",
    );
    let run = h.cmd("stackgen").arg("import").arg(&bad).run().code_is(2);
    assert!(
        run.stderr
            .contains("bad.berth.yaml:6: instances.cache.service:"),
        "{}",
        run.stderr
    );
    let unknown = h.write("stack.yaml", "version: 1\nstack: cobol\nname: shop\n");
    h.cmd("stackgen")
        .arg("import")
        .arg(&unknown)
        .run()
        .code_is(2)
        .stderr_has("cobol");
    let fifo = h.path().join("fifo.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .timed_status()
            .unwrap()
            .success()
    );
    h.cmd("stackgen")
        .arg("import")
        .arg(&fifo)
        .run()
        .code_is(2)
        .stderr_has("not a regular file");
    let bomb = h.write(
        "bomb.yaml",
        "version: 1\nstack: django\nname: &a [*a]\na: &b [&c [*b, *b, *b, *b, *b, *b, *b, *b, *b]]\n",
    );
    h.cmd("stackgen").arg("import").arg(&bomb).run().code_is(2);
    assert!(!h.path().join("shop").exists(), "a project was made");
    let secrets = h.home().join("secrets");
    assert!(!secrets.exists() || std::fs::read_dir(&secrets).unwrap().next().is_none());
}

#[test]
fn a_required_import_with_no_provider_is_an_error_in_plan() {
    if !common::docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "work",
            "--no-generator",
            "--services",
            "postgres,redis,celery",
        ])
        .run()
        .success();
    let dir = h.path().join("work");
    h.cmd("registry")
        .args(["add", dir.to_str().unwrap()])
        .run()
        .success();
    // The worker's broker taken out by hand.
    let text = read(&dir, "berth.yaml").replace("  redis:\n", "");
    std::fs::write(dir.join("berth.yaml"), &text).unwrap();
    let config = h
        .cmd("stackgen")
        .args(["config", "--json"])
        .current_dir(&dir)
        .run()
        .success()
        .json();
    assert!(
        config["problems"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .contains("celery.cache needs a provider")),
        "{config}"
    );
    let before = snapshot(&dir);
    h.cmd("stackctl")
        .args(["plan", "work"])
        .run()
        .code_is(2)
        .stderr_has("berth.yaml: celery.cache needs a provider and no instance provides it");
    h.cmd("stackctl")
        .args(["apply", "work", "--yes"])
        .run()
        .code_is(2)
        .stderr_has("celery.cache needs a provider");
    assert_eq!(snapshot(&dir), before, "plan or apply wrote something");
}
