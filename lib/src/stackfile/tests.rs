//! Unit tests of the stack file: reading, every validation error with its
//! line, hostile input, effective config, hashes and the canonical text.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use yaml_serde::Value;

use super::*;

const DJANGO: &str = "\
# The shop's stack.
version: 1
stack: django
name: shop
instances:
  postgres:
  analytics-db:
    service: postgres
    version: \"15\"
    ports:
      - \"127.0.0.1:15432:5432\"
    environment:
      POSTGRES_DB: analytics
    resources:
      cpus: 0.5
      memory: 512m
  redis:
  worker:
    service: celery
    depends_on: [redis]
wires:
  app.database: postgres
  worker.analytics: analytics-db
";

struct Cat;

impl Catalog for Cat {
    fn stack(&self, name: &str) -> Option<StackInfo> {
        (name == "django").then(|| StackInfo {
            services: BTreeMap::from([(
                APP.to_owned(),
                ServiceInfo {
                    imports: BTreeMap::from([
                        ("database".into(), vec!["postgres".into(), "mysql".into()]),
                        ("cache".into(), vec!["redis".into()]),
                    ]),
                    ..ServiceInfo::default()
                },
            )]),
        })
    }
    fn service(&self, name: &str) -> Option<ServiceInfo> {
        let exports = |c: &str| vec![c.to_owned()];
        match name {
            "postgres" => Some(ServiceInfo {
                versions: vec!["15".into(), "16".into()],
                exports: exports("postgres"),
                ..ServiceInfo::default()
            }),
            "redis" => Some(ServiceInfo {
                exports: exports("redis"),
                ..ServiceInfo::default()
            }),
            "celery" => Some(ServiceInfo {
                imports: BTreeMap::from([("analytics".into(), vec!["postgres".into()])]),
                ..ServiceInfo::default()
            }),
            _ => None,
        }
    }
    fn service_names(&self) -> Vec<String> {
        vec!["celery".into(), "postgres".into(), "redis".into()]
    }
}

fn errors(text: &str) -> Vec<(usize, String, String)> {
    let e = parse(text, FILE, Some(&Cat)).expect_err("expected errors");
    e.list
        .into_iter()
        .map(|d| (d.line, d.key, d.message))
        .collect()
}

/// The one error of `text`: its line and key, and that the message holds `why`.
fn one_error(text: &str, line: usize, key: &str, why: &str) {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let (l, k, m) = &errs[0];
    assert_eq!((*l, k.as_str()), (line, key), "{m}");
    assert!(m.contains(why), "{m}");
}

#[test]
fn parses_a_django_stack_with_two_postgres_and_wires() {
    let s = parse(DJANGO, FILE, Some(&Cat)).unwrap();
    assert_eq!(
        (s.version, s.stack.as_str(), s.name.as_str()),
        (1, "django", "shop")
    );
    let names: Vec<&str> = s.instances.names().collect();
    assert_eq!(names, ["postgres", "analytics-db", "redis", "worker"]);
    let db = s.instance("analytics-db").unwrap();
    assert_eq!(db.service_name("analytics-db"), "postgres");
    assert_eq!(db.version.as_deref(), Some("15"));
    let r = db.resources.as_ref().unwrap();
    assert_eq!(r.cpus.unwrap().millis(), 500);
    assert_eq!(r.memory.unwrap().bytes(), 512 << 20);
    assert!(s.instance("postgres").unwrap().is_bare("postgres"));
    let wires: Vec<_> = s.wires().collect();
    assert_eq!(
        wires,
        [
            ("app", "database", "postgres"),
            ("worker", "analytics", "analytics-db")
        ]
    );
    // Without a catalog the same file reads the same.
    assert_eq!(parse(DJANGO, FILE, None).unwrap(), s);
}

#[test]
fn errors_name_file_line_and_key() {
    let text = DJANGO.replace(
        "    ports:\n      - \"127.0.0.1:15432:5432\"",
        "    ports:\n      - \"127.0.0.1:99999:5432\"",
    );
    let e = parse(&text, FILE, Some(&Cat)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "berth.yaml:11: instances.analytics-db.ports.0: port 99999 is out of range (1-65535)"
    );
}

#[test]
fn structure_errors_have_their_line() {
    let base = "version: 1\nstack: django\nname: shop\ninstances:\n  postgres:\n";
    // Unknown keys, at the top and in an instance, with a suggestion.
    one_error(
        &format!("{base}wirez: {{}}\n"),
        6,
        "wirez",
        "did you mean 'wires'",
    );
    one_error(
        &format!("{base}    prots: [\"80\"]\n"),
        6,
        "instances.postgres.prots",
        "unknown key 'prots' (did you mean 'ports'?)",
    );
    one_error(
        &format!("{base}    resources: {{disk: 1g}}\n"),
        6,
        "instances.postgres.resources.disk",
        "unknown key",
    );
    // Instance names are DNS labels; `app` is the stack's.
    one_error(
        &format!("{base}  Analytics_DB:\n    service: postgres\n"),
        6,
        "instances.Analytics_DB",
        "character 'A'",
    );
    one_error(
        &format!("{base}  app:\n    service: postgres\n"),
        6,
        "instances.app",
        "the stack's own service",
    );
    // Wires to nothing.
    one_error(
        &format!("{base}wires:\n  app.database: pg\n"),
        7,
        "wires.app.database",
        "no provider 'pg'",
    );
    one_error(
        &format!("{base}wires:\n  web.database: postgres\n"),
        7,
        "wires.web.database",
        "no consumer 'web'",
    );
    one_error(
        &format!("{base}wires:\n  app: postgres\n"),
        7,
        "wires.app",
        "CONSUMER.IMPORT",
    );
    one_error(
        &format!("{base}wires:\n  app.mail: postgres\n"),
        7,
        "wires.app.mail",
        "has no import 'mail'",
    );
    one_error(
        &format!("{base}  cache:\n    service: redis\nwires:\n  app.database: cache\n"),
        9,
        "wires.app.database",
        "'cache' provides redis but app.database takes postgres|mysql",
    );
}

const BASE: &str = "version: 1\nstack: django\nname: shop\ninstances:\n  postgres:\n";

#[test]
fn catalog_and_value_errors_have_their_line() {
    let base = BASE;
    // Unknown service (with the catalog), unknown version.
    one_error(
        &format!("{base}  db2:\n    service: postgress\n"),
        7,
        "instances.db2.service",
        "unknown service 'postgress' (did you mean 'postgres'?)",
    );
    one_error(
        &format!("{base}  mongo:\n"),
        6,
        "instances.mongo",
        "unknown service 'mongo'",
    );
    one_error(
        &format!("{base}    version: \"9\"\n"),
        6,
        "instances.postgres.version",
        "no version '9'; offered: 15, 16",
    );
    one_error(
        &format!("{base}    version: 8.0\n"),
        6,
        "instances.postgres.version",
        "quote it",
    );
    // Resources.
    one_error(
        &format!("{base}    resources:\n      memory: 256x\n"),
        7,
        "instances.postgres.resources.memory",
        "invalid memory '256x'",
    );
    one_error(
        &format!("{base}    resources:\n      cpus: -1\n"),
        7,
        "instances.postgres.resources.cpus",
        "invalid cpus",
    );
}

#[test]
fn field_errors_have_their_line() {
    let base = BASE;
    // Ports, depends_on, paths, variables, labels.
    one_error(
        &format!("{base}    ports:\n      - \"80\"\n      - \"a:80\"\n"),
        8,
        "instances.postgres.ports.1",
        "not a port number",
    );
    one_error(
        &format!("{base}    depends_on: [nothing]\n"),
        6,
        "instances.postgres.depends_on.0",
        "no instance 'nothing'",
    );
    one_error(
        &format!("{base}    env_file: ../secrets.env\n"),
        6,
        "instances.postgres.env_file",
        "inside the project folder",
    );
    one_error(
        &format!("{base}    config_files:\n      /etc/pg.conf: /etc/passwd\n"),
        7,
        "instances.postgres.config_files./etc/pg.conf",
        "relative",
    );
    one_error(
        &format!("{base}    environment:\n      1BAD: x\n"),
        7,
        "instances.postgres.environment.1BAD",
        "not a variable name",
    );
    one_error(
        &format!("{base}    labels:\n      berth.project: x\n"),
        7,
        "instances.postgres.labels.berth.project",
        "berth's own",
    );
    one_error(
        &format!("{base}    healthcheck:\n      interval: soon\n"),
        7,
        "instances.postgres.healthcheck.interval",
        "invalid duration",
    );
}

#[test]
fn document_errors_have_their_line() {
    // The document itself.
    one_error(
        "version: 2\nstack: django\nname: shop\n",
        1,
        "version",
        "version 2 is not supported",
    );
    one_error("version: 1\nstack: django\n", 1, "", "missing key 'name'");
    one_error(
        "version: 1\nstack: rails\nname: shop\n",
        2,
        "stack",
        "unknown stack 'rails'",
    );
    one_error(
        "version: 1\nstack: django\nname: Shop\n",
        3,
        "name",
        "invalid project name",
    );
    one_error("", 1, "", "the file is empty");
    let syntax = errors("version: 1\nstack: [django\n");
    assert_eq!(syntax.len(), 1, "{syntax:?}");
    assert!(syntax[0].0 >= 2, "{syntax:?}");
}

#[test]
fn all_errors_are_reported_in_line_order() {
    let text = "version: 1\nstack: django\nname: shop\ninstances:\n  Bad:\n  db:\n    prots: []\n    resources: {memory: 1k}\nwires:\n  app.database: nowhere\n";
    let errs = errors(text);
    let lines: Vec<usize> = errs.iter().map(|e| e.0).collect();
    assert_eq!(lines, [5, 5, 6, 7, 8, 10], "{errs:#?}");
}

#[test]
fn duplicate_keys_are_errors_not_last_wins() {
    let text = "version: 1\nstack: django\nname: shop\ninstances:\n  db:\n    service: postgres\n  db:\n    service: redis\n";
    one_error(text, 7, "instances.db", "duplicate key 'db'");
    let text = "version: 1\nstack: django\nname: shop\ninstances:\n  db:\n    version: \"15\"\n    version: \"16\"\n";
    one_error(text, 7, "instances.db.version", "duplicate key 'version'");
    // In flow style the parser still refuses it.
    let errs = errors(
        "version: 1\nstack: django\nname: shop\ninstances: {db: {service: postgres, service: redis}}\n",
    );
    assert!(errs[0].2.contains("duplicate key"), "{errs:?}");
}

#[test]
fn hostile_input_fails_fast() {
    use std::fmt::Write as _;
    let mut bomb =
        String::from("version: 1\nstack: django\nname: shop\na0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 1..10 {
        let p = i - 1;
        let _ = writeln!(
            bomb,
            "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]"
        );
    }
    let t = Instant::now();
    let e = parse(&bomb, FILE, None).unwrap_err().to_string();
    assert!(
        e.contains("expands to more than") || e.contains("repetition limit"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(10));

    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join(FILE);
    let mut text = String::from(DJANGO);
    text.push_str(&"# padding\n".repeat(1 << 20));
    std::fs::write(&big, &text).unwrap();
    let t = Instant::now();
    let e = format!("{:#}", read(&big, None).unwrap_err());
    assert!(e.contains("more than the limit"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(
        parse(&text, FILE, None)
            .unwrap_err()
            .to_string()
            .contains("more than the limit")
    );

    // Not a regular file; missing.
    let e = format!("{:#}", read(dir.path(), None).unwrap_err());
    assert!(e.contains("a folder"), "{e}");
    let e = format!(
        "{:#}",
        read(&dir.path().join("none.yaml"), None).unwrap_err()
    );
    assert!(e.contains("does not exist"), "{e}");
    // A good file reads, and its errors are Errors.
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        "version: 1\nstack: django\nname: shop\ninstances:\n  x-:\n",
    )
    .unwrap();
    let e = read(&good, None).unwrap_err();
    let list = e.downcast_ref::<Errors>().unwrap();
    assert_eq!(
        list.to_string().lines().next().unwrap(),
        "good.yaml:5: instances.x-: invalid instance name 'x-': must not start or end with '-'"
    );
}

fn template() -> Value {
    yaml::parse(
        "image: postgres:16\nenvironment:\n  POSTGRES_USER: app\n  POSTGRES_DB: app\n  PGPORT: 5432\nvolumes:\n  - data:/var/lib/postgresql/data\nhealthcheck:\n  test: [CMD, pg_isready]\n",
        yaml::BUDGET,
    )
    .unwrap()
}

use crate::compose::yaml;

#[test]
fn effective_config_template_then_wires_then_overrides() {
    let s = parse(DJANGO, FILE, None).unwrap();
    let inst = s.instance("analytics-db").unwrap();
    let wired = vec![
        ("POSTGRES_DB".to_owned(), "wired".to_owned()),
        ("POSTGRES_USER".to_owned(), "wired-user".to_owned()),
        ("REDIS_URL".to_owned(), "redis://redis:6379/0".to_owned()),
    ];
    let (v, prov) = effective(&template(), inst, &wired);
    let env = &v["environment"];
    // The user's variable wins over the wired one, the wired over the template's.
    assert_eq!(env["POSTGRES_DB"], Value::from("analytics"));
    assert_eq!(env["POSTGRES_USER"], Value::from("wired-user"));
    assert_eq!(env["PGPORT"], Value::from("5432"));
    assert_eq!(env["REDIS_URL"], Value::from("redis://redis:6379/0"));
    assert_eq!(prov.environment["POSTGRES_DB"], Source::Override);
    assert_eq!(prov.environment["POSTGRES_USER"], Source::Wire);
    assert_eq!(prov.environment["PGPORT"], Source::Template);
    // The version becomes the image tag; the ports replace.
    assert_eq!(v["image"], Value::from("postgres:15"));
    assert_eq!(prov.keys["image"], Source::Override);
    assert_eq!(v["ports"][0], Value::from("127.0.0.1:15432:5432"));
    assert_eq!(prov.keys["healthcheck"], Source::Template);
    assert_eq!(prov.keys["environment"], Source::Override);
    assert_eq!(v["healthcheck"]["test"][1], Value::from("pg_isready"));

    // Wires alone: the environment is the wire's.
    let (v, prov) = effective(&template(), &Instance::of("postgres"), &wired[..1]);
    assert_eq!(v["environment"]["POSTGRES_DB"], Value::from("wired"));
    assert_eq!(prov.keys["environment"], Source::Wire);
    assert_eq!(v["image"], Value::from("postgres:16"));
    assert_eq!(prov.keys["image"], Source::Template);
    // An image override wins over the version; volumes merge by target.
    let inst = Instance {
        image: Some("registry.local:5000/pg:15@sha256:00".into()),
        version: Some("14".into()),
        volumes: vec!["./pgdata:/var/lib/postgresql/data".into()],
        config_files: BTreeMap::from([(
            "/etc/postgresql/extra.conf".into(),
            "conf/pg.conf".into(),
        )]),
        command: Some(Command::Args(vec![
            "postgres".into(),
            "-c".into(),
            "fsync=off".into(),
        ])),
        domains: vec!["db.shop.test".into()],
        ..Instance::of("postgres")
    };
    let (v, _) = effective(&template(), &inst, &[]);
    assert_eq!(
        v["image"],
        Value::from("registry.local:5000/pg:15@sha256:00")
    );
    assert_eq!(
        v["volumes"],
        yaml::parse(
            "[./pgdata:/var/lib/postgresql/data, ./conf/pg.conf:/etc/postgresql/extra.conf:ro]",
            1 << 20
        )
        .unwrap()
    );
    assert_eq!(v["command"][2], Value::from("fsync=off"));
    assert_eq!(v["labels"][DOMAINS_LABEL], Value::from("db.shop.test"));
    let inst = Instance {
        version: Some("15".into()),
        ..Instance::default()
    };
    let tpl = yaml::parse("image: registry.local:5000/redis", 1 << 20).unwrap();
    assert_eq!(
        effective(&tpl, &inst, &[]).0["image"],
        Value::from("registry.local:5000/redis:15")
    );
}

#[test]
fn resources_render_for_compose_v2_and_v1() {
    let s = parse(DJANGO, FILE, None).unwrap();
    let (v, prov) = effective(&template(), s.instance("analytics-db").unwrap(), &[]);
    let limits = &v["deploy"]["resources"]["limits"];
    assert_eq!(limits["cpus"], Value::from("0.5"));
    assert_eq!(limits["memory"], Value::from("512m"));
    assert_eq!(v["cpus"], Value::from(0.5));
    assert_eq!(v["mem_limit"], Value::from("512m"));
    assert_eq!(prov.keys["deploy"], Source::Override);
    // A template's own deploy keys stay.
    let tpl = yaml::parse(
        "image: redis:7\ndeploy:\n  restart_policy: {condition: on-failure}\n",
        1 << 20,
    )
    .unwrap();
    let inst = Instance {
        resources: Some(Resources {
            memory: Some("64m".parse().unwrap()),
            cpus: None,
        }),
        ..Instance::default()
    };
    let (v, _) = effective(&tpl, &inst, &[]);
    assert_eq!(
        v["deploy"]["restart_policy"]["condition"],
        Value::from("on-failure")
    );
    assert_eq!(
        v["deploy"]["resources"]["limits"]["memory"],
        Value::from("64m")
    );
    assert!(v.get("cpus").is_none());
}

#[test]
fn config_hash_is_stable_under_key_order_and_changes_with_content() {
    let base = yaml::parse(
        "image: redis:7\nenvironment: {A: '1', B: '2'}\nports: ['6379']\n",
        1 << 20,
    )
    .unwrap();
    let reordered = yaml::parse(
        "ports: ['6379']\nenvironment: {B: '2', A: '1'}\nimage: redis:7\n",
        1 << 20,
    )
    .unwrap();
    let hash = config_hash(&base);
    assert_eq!(hash.len(), 64);
    assert_eq!(hash, config_hash(&reordered));
    let changed = yaml::parse(
        "image: redis:7\nenvironment: {A: '1', B: '3'}\nports: ['6379']\n",
        1 << 20,
    )
    .unwrap();
    assert_ne!(hash, config_hash(&changed));
    let typed = yaml::parse(
        "image: redis:7\nenvironment: {A: 1, B: '2'}\nports: ['6379']\n",
        1 << 20,
    )
    .unwrap();
    assert_ne!(hash, config_hash(&typed), "a number is not a string");
    // The label holding the hash does not change it.
    let mut labelled = base.clone();
    labelled.as_mapping_mut().unwrap().insert(
        "labels".into(),
        yaml::parse(&format!("{{{CONFIG_HASH_LABEL}: {hash}}}"), 1 << 20).unwrap(),
    );
    let mut empty_labels = base.clone();
    empty_labels
        .as_mapping_mut()
        .unwrap()
        .insert("labels".into(), Value::Mapping(yaml_serde::Mapping::new()));
    assert_eq!(config_hash(&labelled), config_hash(&empty_labels));
    // A real change of the stack file changes the effective hash.
    let s = parse(DJANGO, FILE, None).unwrap();
    let before = config_hash(&effective(&template(), s.instance("analytics-db").unwrap(), &[]).0);
    let s2 = parse(&DJANGO.replace("512m", "1g"), FILE, None).unwrap();
    let after = config_hash(&effective(&template(), s2.instance("analytics-db").unwrap(), &[]).0);
    assert_ne!(before, after);
    assert_eq!(
        before,
        config_hash(&effective(&template(), s.instance("analytics-db").unwrap(), &[]).0)
    );
}

#[test]
fn serial_is_the_content_hash() {
    let a = serial(DJANGO.as_bytes());
    assert!(a.starts_with("sha256:") && a.len() == 71, "{a}");
    assert_eq!(a, serial(DJANGO.as_bytes()));
    assert_ne!(a, serial(DJANGO.replace("15", "16").as_bytes()));
}

#[test]
fn canonical_text_round_trips_byte_stable() {
    let s = parse(DJANGO, FILE, Some(&Cat)).unwrap();
    let text = s.to_text();
    assert!(
        text.starts_with(
            "version: 1\nstack: django\nname: shop\ninstances:\n  postgres:\n  analytics-db:\n"
        ),
        "{text}"
    );
    let again = parse(&text, FILE, Some(&Cat)).unwrap();
    assert_eq!(again, s);
    assert_eq!(again.to_text(), text);
    // Spelling is canonical: cpus 0.50, memory 1024m, numbers as versions.
    let odd = "name: shop\nstack: django\nversion: 1\ninstances:\n  db: {service: postgres, version: 15, resources: {cpus: '0.50', memory: 1024M}, environment: [B=2, A=1]}\n";
    let t1 = parse(odd, FILE, None).unwrap().to_text();
    assert!(
        t1.contains("cpus: '0.5'") && t1.contains("memory: 1g") && t1.contains("version: '15'"),
        "{t1}"
    );
    assert_eq!(parse(&t1, FILE, None).unwrap().to_text(), t1);
    // Every field written comes back.
    let full = StackFile {
        instances: Instances(vec![
            (
                "db".into(),
                Instance {
                    healthcheck: Some(Healthcheck {
                        test: Some(Command::Line("pg_isready".into())),
                        interval: Some("2s".into()),
                        retries: Some(3),
                        disable: Some(false),
                        ..Healthcheck::default()
                    }),
                    labels: BTreeMap::from([("team".into(), "data".into())]),
                    env_file: vec!["db.env".into()],
                    depends_on: vec!["cache".into()],
                    ..Instance::of("postgres")
                },
            ),
            ("cache".into(), Instance::of("redis")),
        ]),
        ..StackFile::new("django", "shop")
    };
    let t = full.to_text();
    assert_eq!(parse(&t, FILE, None).unwrap(), full, "{t}");
    assert_eq!(parse(&t, FILE, None).unwrap().to_text(), t);
}

fn resolution<'a>(all: &'a [wiring::Resolution], key: &str) -> &'a wiring::Resolution {
    all.iter()
        .find(|r| format!("{}.{}", r.consumer, r.import) == key)
        .unwrap_or_else(|| panic!("no {key} in {all:#?}"))
}

#[test]
fn wiring_follows_the_explicit_wire_then_the_only_candidate() {
    let s = parse(DJANGO, FILE, Some(&Cat)).unwrap();
    let all = wiring::resolve(&s, &Cat);
    let db = resolution(&all, "app.database");
    assert_eq!(db.provider.as_deref(), Some("postgres"));
    assert_eq!(db.how, Some(wiring::How::Explicit));
    assert_eq!(db.candidates, ["postgres", "analytics-db"]);
    let cache = resolution(&all, "app.cache");
    assert_eq!(
        (cache.provider.as_deref(), cache.how),
        (Some("redis"), Some(wiring::How::Auto))
    );
    let analytics = resolution(&all, "worker.analytics");
    assert_eq!(analytics.provider.as_deref(), Some("analytics-db"));
    assert!(all.iter().all(|r| r.problem().is_none()), "{all:#?}");
}

#[test]
fn two_candidates_without_a_wire_are_ambiguous_and_named() {
    let text = DJANGO.replace("  app.database: postgres\n", "");
    let s = parse(&text, FILE, Some(&Cat)).unwrap();
    let all = wiring::resolve(&s, &Cat);
    let db = resolution(&all, "app.database");
    assert!(db.is_ambiguous(), "{db:#?}");
    let why = db.problem().unwrap();
    assert!(
        why.contains("app.database is ambiguous: postgres, analytics-db")
            && why.contains("stackgen wire app.database NAME"),
        "{why}"
    );
    assert!(!wiring::providers(&all).contains_key(&("app".into(), "database".into())));
}

#[test]
fn a_required_import_with_no_provider_is_missing_an_optional_one_is_not() {
    let text =
        "version: 1\nstack: django\nname: shop\ninstances:\n  worker:\n    service: celery\n";
    let s = parse(text, FILE, Some(&Cat)).unwrap();
    let mut all = wiring::resolve(&s, &Cat);
    let cache = resolution(&all, "app.cache");
    assert!(
        !cache.is_missing() && cache.problem().is_none(),
        "{cache:#?}"
    );
    for r in &mut all {
        r.required = true;
    }
    let analytics = resolution(&all, "worker.analytics");
    assert!(analytics.is_missing());
    assert!(
        analytics
            .problem()
            .unwrap()
            .contains("worker.analytics needs a provider"),
        "{analytics:#?}"
    );
}
