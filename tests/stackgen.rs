//! `stackgen` against the real programs: every stack with the service
//! combinations a user picks passes `docker-compose config` and reads back
//! through berth's compose parser; add-service then remove-service gives the
//! user's files back byte for byte; bad input writes nothing; the Django
//! (with `PostgreSQL`) and Next.js stacks boot in the Docker test bed, two
//! projects of one stack side by side.

// End-to-end tests read as one scenario each, top to bottom.
#![allow(clippy::too_many_lines)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Timed as _, docker_ready, free_port, http_get, require, snapshot};

// ---------------------------------------------------------------------------
// Helpers

fn stacks(h: &Harness) -> Vec<serde_json::Value> {
    h.cmd("stackgen")
        .args(["stacks", "--json"])
        .run()
        .success()
        .json()
        .as_array()
        .cloned()
        .unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// `docker-compose` in a project folder, `COMPOSE_FILE` and the project name
/// from its .env; run through `secrets run NAME --` when the project's
/// secrets are in the store of the test's `BERTH_HOME` (a `home` folder
/// beside the project's), as a user runs compose by hand.
fn compose(dir: &Path) -> Command {
    let name = std::fs::read_to_string(dir.join(".env"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("COMPOSE_PROJECT_NAME="))
        .map(str::to_owned);
    let home = name.as_ref().and_then(|n| {
        dir.ancestors()
            .map(|a| a.join("home"))
            .find(|h| h.join("secrets").join(format!("{n}.enc")).is_file())
    });
    let mut c = match (name, home) {
        (Some(name), Some(home)) => {
            let mut c = Command::new(common::bin("secrets"));
            c.args(["run", &name, "--", "docker-compose"])
                .env("BERTH_HOME", home);
            c
        }
        _ => Command::new("docker-compose"),
    };
    c.current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .stdin(Stdio::null());
    c
}

fn output(mut c: Command) -> (bool, String, String) {
    let out = c.timed_output().expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `.env` of a project as a map.
/// A value of the project's secrets store (`secrets get`), never `.env`.
fn stored(h: &Harness, project: &str, key: &str) -> String {
    let run = h.cmd("secrets").args(["get", project, key]).run().success();
    run.stdout
        .strip_suffix('\n')
        .unwrap_or(&run.stdout)
        .to_owned()
}

fn dotenv(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join(".env"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------
// Generation and `docker-compose config`

/// The combinations a user would pick, for one stack's offers.
fn combos(offers: &[String]) -> Vec<Vec<String>> {
    let db = if offers.iter().any(|s| s == "postgres") {
        "postgres"
    } else {
        "mariadb"
    };
    let v = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    vec![
        vec![],
        v(&[db]),
        v(&["mysql"]),
        v(&[db, "redis", "mailpit"]),
        offers.to_vec(),
    ]
}

#[test]
fn every_stack_and_service_combination_passes_compose_config() {
    if !require("docker-compose") {
        return;
    }
    let h = Harness::new();
    let all = stacks(&h);
    assert_eq!(
        all.iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["django", "fastapi", "laravel", "nextjs", "wordpress"])
    );
    let shellcheck = require("shellcheck");
    let mut n: u16 = 0;
    for st in &all {
        let stack = st["name"].as_str().unwrap();
        let offers = strings(&st["services"]);
        let app_target = st["app_port"].as_u64().unwrap();
        for (i, services) in combos(&offers).into_iter().enumerate() {
            n += 1;
            let name = format!("{stack}-c{i}");
            let port = 6100 + n;
            let publish = services.first().cloned();
            let mut args = vec![
                "new".to_owned(),
                stack.to_owned(),
                name.clone(),
                "--no-generator".into(),
                "--port".into(),
                port.to_string(),
                "--services".into(),
                if services.is_empty() {
                    "none".into()
                } else {
                    services.join(",")
                },
            ];
            if let Some(p) = &publish {
                args.extend(["--publish".into(), p.clone()]);
            }
            let run = h.cmd("stackgen").args(&args).arg("--json").run().success();
            let project = run.json();
            let dir = h.path().join(&name);

            // docker-compose (v1) accepts the merged files.
            let (ok, cfg, stderr) = output({
                let mut c = compose(&dir);
                c.arg("config");
                c
            });
            assert!(
                ok,
                "{stack} {services:?}: docker-compose config failed:\n{stderr}"
            );
            let cfg: yaml_serde::Value = yaml_serde::from_str(&cfg).unwrap();
            let got: BTreeSet<String> = cfg["services"]
                .as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect();
            let mut want: BTreeSet<String> = services.iter().cloned().collect();
            want.insert("app".into());
            assert_eq!(got, want, "{stack} {services:?}: docker-compose services");

            // berth's own parser reads the same services and ports.
            let c = berth::compose::load_dir(&dir).unwrap();
            let names: BTreeSet<String> = c.services.iter().map(|s| s.name.clone()).collect();
            assert_eq!(names, want, "{stack} {services:?}: berth services");
            // The secrets `.env` names as in the store count as set: no warning.
            assert!(
                c.warnings.is_empty(),
                "{stack} {services:?}: {:?}",
                c.warnings
            );
            let app = c.service("app").unwrap();
            assert_eq!(app.ports.len(), 1, "{stack}: app ports {:?}", app.ports);
            assert_eq!(app.ports[0].published, Some(port));
            assert_eq!(u64::from(app.ports[0].target), app_target);
            for s in &c.services {
                let raw = &s.raw;
                assert_eq!(
                    raw["container_name"].as_str(),
                    Some(format!("{name}-{}", s.name).as_str())
                );
                assert_eq!(raw["labels"]["berth.project"].as_str(), Some(name.as_str()));
                assert_eq!(
                    raw["labels"]["berth.service"].as_str(),
                    Some(s.name.as_str())
                );
                assert_eq!(raw["labels"]["berth.stack"].as_str(), Some(stack));
                if s.name != "app" && Some(&s.name) != publish.as_ref() {
                    assert!(s.ports.is_empty(), "{}: {:?} published", s.name, s.ports);
                }
            }
            if let Some(p) = &publish {
                let s = c.service(p).unwrap();
                assert!(!s.ports.is_empty(), "{p} should be published");
                for b in &s.ports {
                    assert_eq!(b.host_ip.to_string(), "127.0.0.1");
                }
            }
            // The Project JSON says the same.
            assert_eq!(project["port"].as_u64(), Some(u64::from(port)));
            assert_eq!(project["stack"].as_str(), Some(stack));
            let pj: BTreeSet<String> = strings(&project["services"]).into_iter().collect();
            assert_eq!(pj, want);

            // The app waits for healthy services (merged by docker-compose).
            for s in &services {
                if ["adminer", "celery"].contains(&s.as_str()) {
                    continue;
                }
                assert_eq!(
                    cfg["services"]["app"]["depends_on"][s.as_str()]["condition"].as_str(),
                    Some("service_healthy"),
                    "{stack}: app depends_on {s}"
                );
            }
            assert_eq!(
                cfg["networks"]["default"]["name"].as_str(),
                Some(format!("{name}-net").as_str())
            );

            // Secrets are in the store, .env names them only, and no
            // compose file holds a value.
            // (A comment names each: `NAME=` would be read over the
            // environment by podman-compose 1.0.)
            let env = dotenv(&dir);
            assert_eq!(env["COMPOSE_PROJECT_NAME"], name);
            let env_text = std::fs::read_to_string(dir.join(".env")).unwrap();
            let names = berth::envline::stored_keys(&env_text);
            assert!(!names.is_empty(), "{stack}: {env_text}");
            let set: Vec<&String> = env
                .keys()
                .filter(|k| k.contains("PASSWORD") || k.contains("SECRET") || k.ends_with("_KEY"))
                .collect();
            assert!(set.is_empty(), "{stack}: {set:?} set in .env:\n{env_text}");
            let secrets: Vec<String> = names
                .iter()
                .map(|k| {
                    assert!(
                        env_text.contains(&format!(
                            "\n# {k}: in berth's secrets store (secrets get {name} {k})\n"
                        )),
                        "{stack}: {env_text}"
                    );
                    stored(&h, &name, k)
                })
                .collect();
            for f in [
                "compose.yaml",
                "compose.dev.yaml",
                ".berth/compose.services.yaml",
                "Dockerfile",
            ] {
                let text = std::fs::read_to_string(dir.join(f)).unwrap();
                for v in &secrets {
                    assert!(v.len() >= 16, "{stack}: a generated value");
                    assert!(!text.contains(v.as_str()), "{stack}: a secret is in {f}");
                }
            }
            // The Dockerfile takes its base image as a build argument, with two targets.
            let docker = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
            let base = st["base_image"].as_str().unwrap();
            assert!(
                docker.contains(&format!("ARG BASE_IMAGE={base}\n")),
                "{stack}"
            );
            assert!(docker.contains("FROM ${BASE_IMAGE} AS "), "{stack}");
            assert!(docker.contains(" AS development"), "{stack}");
            assert!(docker.contains(" AS production"), "{stack}");
            if shellcheck && i == 0 {
                let (ok, out, err) = output({
                    let mut c = Command::new("shellcheck");
                    c.arg(dir.join("docker/entrypoint.dev.sh"));
                    c
                });
                assert!(ok, "{stack}: shellcheck:\n{out}{err}");
            }
        }
    }
}

#[test]
fn production_env_example_drops_the_dev_overlay() {
    if !require("docker-compose") {
        return;
    }
    let h = Harness::new();
    h.cmd("stackgen")
        .args(["new", "django", "prod", "--no-generator", "--port", "6001"])
        .run()
        .success();
    let dir = h.path().join("prod");
    let example = std::fs::read_to_string(dir.join(".env.production.example")).unwrap();
    assert!(example.contains("POSTGRES_PASSWORD=change-me"), "{example}");
    assert!(example.contains("COMPOSE_FILE=compose.yaml:.berth/compose.services.yaml\n"));
    std::fs::copy(dir.join(".env.production.example"), dir.join(".env")).unwrap();
    let (ok, cfg, err) = output({
        let mut c = compose(&dir);
        c.arg("config");
        c
    });
    assert!(ok, "{err}");
    let cfg: yaml_serde::Value = yaml_serde::from_str(&cfg).unwrap();
    assert_eq!(
        cfg["services"]["app"]["build"]["target"].as_str(),
        Some("production")
    );
    assert!(cfg["services"]["app"]["volumes"].is_null());
}

#[test]
fn json_pipes_into_registry_add_and_ports_come_from_the_allocator() {
    let h = Harness::new();
    h.write("home/config.yaml", "port_range: 7100-7199\n");
    h.sh(
        "stackgen new django shop --no-generator --services postgres,redis --json | registry add -",
    )
    .run()
    .success();
    let projects = h.projects();
    assert_eq!(projects.len(), 1);
    let shop = &projects[0];
    assert_eq!(shop["name"], "shop");
    assert_eq!(shop["stack"], "django");
    assert_eq!(shop["domain"], "shop.test");
    let port = shop["port"].as_u64().unwrap();
    assert!((7100..=7199).contains(&port), "{port}");
    assert_eq!(
        strings(&shop["services"]),
        ["app", "postgres", "redis"].map(String::from)
    );
    // The next project gets another port: the registry's claims count.
    let run = h
        .cmd("stackgen")
        .args([
            "new",
            "django",
            "shop2",
            "--no-generator",
            "--publish",
            "postgres",
            "--json",
        ])
        .run()
        .success();
    let p2 = run.json();
    let app2 = p2["port"].as_u64().unwrap();
    let db2 = p2["service_ports"][1]["published"].as_u64().unwrap();
    assert_ne!(app2, port);
    assert_ne!(db2, port);
    assert_ne!(db2, app2);
    assert_eq!(p2["service_ports"][1]["host_ip"], "127.0.0.1");
    h.sh("registry add - <<<\"$0\"")
        .arg(&run.stdout)
        .run()
        .success();
    h.cmd("ports").args(["check", "--registry"]).run().success();
}

// ---------------------------------------------------------------------------
// add-service / remove-service

const USER_COMPOSE_TAIL: &str = "
  # my own worker, not from berth
  worker:
    image: busybox:latest   # pinned later
    command: [\"sleep\", \"infinity\"]
    labels:
      owner: me
";

#[test]
fn add_then_remove_service_gives_back_the_users_files_byte_for_byte() {
    let h = Harness::new();
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "shop",
            "--no-generator",
            "--services",
            "postgres",
            "--port",
            "6010",
        ])
        .run()
        .success();
    let dir = h.path().join("shop");
    // The user edits compose.yaml (comments, ordering, a service of their own) and .env.
    let mut compose_yaml = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    compose_yaml = compose_yaml.replacen("services:\n", "# top comment of mine\nservices:\n", 1);
    compose_yaml = compose_yaml.replace("\nnetworks:", &format!("{USER_COMPOSE_TAIL}\nnetworks:"));
    std::fs::write(dir.join("compose.yaml"), &compose_yaml).unwrap();
    let mut env = std::fs::read_to_string(dir.join(".env")).unwrap();
    env.push_str("# mine\nMY_FLAG=on"); // no final newline on purpose
    std::fs::write(dir.join(".env"), &env).unwrap();
    let before = snapshot(&dir);

    // Dry run: a diff, nothing written.
    let run = h
        .cmd("stackgen")
        .args([
            "add-service",
            "redis",
            "mailpit",
            "minio",
            "--publish",
            "mailpit",
            "--dry-run",
        ])
        .current_dir(&dir)
        .run()
        .success();
    // The dry run's diff is its output: on stdout.
    assert!(
        run.stdout.contains("+++ b/.berth/compose.services.yaml"),
        "{}",
        run.stdout
    );
    // A secret in the store is a comment naming it, not `NAME=` (which
    // podman-compose 1.0 would read over the environment).
    assert!(
        run.stdout.contains(
            "+# MINIO_ROOT_PASSWORD: in berth's secrets store (secrets get shop MINIO_ROOT_PASSWORD)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("+MINIO_ROOT_PASSWORD="),
        "{}",
        run.stdout
    );
    assert_eq!(snapshot(&dir), before);

    // Adding rewrites files: off a terminal it needs --yes, and changes nothing without.
    let add = [
        "add-service",
        "redis",
        "mailpit",
        "minio",
        "--publish",
        "mailpit",
    ];
    h.cmd("stackgen")
        .args(add)
        .current_dir(&dir)
        .run()
        .code_is(2)
        .stderr_has("stackgen: error: add redis, mailpit, minio to ")
        .stderr_has("hint: pass --yes");
    assert_eq!(snapshot(&dir), before);
    let run = h
        .cmd("stackgen")
        .args(add)
        .arg("--yes")
        .current_dir(&dir)
        .run()
        .success();
    assert!(run.stderr.contains("--- a/.env"), "{}", run.stderr);
    // The value is in the store, .env names it only (a comment).
    assert!(!dotenv(&dir).contains_key("MINIO_ROOT_PASSWORD"));
    assert!(std::fs::read_to_string(dir.join(".env")).unwrap().contains(
        "\n# MINIO_ROOT_PASSWORD: in berth's secrets store (secrets get shop MINIO_ROOT_PASSWORD)\n"
    ));
    let secret = stored(&h, "shop", "MINIO_ROOT_PASSWORD");
    assert_eq!(secret.len(), 32, "{secret}");
    assert!(!run.stderr.contains(&secret), "a secret reached stderr");
    assert_eq!(
        std::fs::read_to_string(dir.join("compose.yaml")).unwrap(),
        compose_yaml
    );
    let env_after = std::fs::read_to_string(dir.join(".env")).unwrap();
    assert!(
        env_after.starts_with(&env),
        "the user's .env lines come first, unchanged"
    );
    if require("docker-compose") {
        let (ok, out, err) = output({
            let mut c = compose(&dir);
            c.args(["config", "--services"]);
            c
        });
        assert!(ok, "{err}");
        let got: BTreeSet<&str> = out.lines().collect();
        assert_eq!(
            got,
            BTreeSet::from(["app", "postgres", "redis", "mailpit", "minio", "worker"])
        );
    }
    let c = berth::compose::load_dir(&dir).unwrap();
    let mailpit = c.service("mailpit").unwrap();
    assert_eq!(mailpit.ports[0].host_ip.to_string(), "127.0.0.1");
    assert_eq!(mailpit.ports[0].target, 8025);
    assert!(c.service("worker").is_some());
    let services = h
        .cmd("stackgen")
        .args(["services", "--json", "--dir"])
        .arg(&dir)
        .run()
        .success()
        .json();
    let used: BTreeSet<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["in_project"] == true)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        used,
        BTreeSet::from(["postgres", "redis", "mailpit", "minio"])
    );

    // Not on a terminal, removal needs --yes.
    h.cmd("stackgen")
        .args(["remove-service", "redis", "mailpit", "minio"])
        .current_dir(&dir)
        .run()
        .code_is(2)
        .stderr_has("--yes");
    let run = h
        .cmd("stackgen")
        .args(["remove-service", "redis", "mailpit", "minio", "--yes"])
        .current_dir(&dir)
        .run()
        .success();
    assert!(
        run.stderr.contains("shop-minio-data is kept"),
        "{}",
        run.stderr
    );
    let after = snapshot(&dir);
    for (path, bytes) in &before {
        assert_eq!(
            after
                .get(path)
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            Some(String::from_utf8_lossy(bytes).into_owned()),
            "{} differs",
            path.display()
        );
    }
    assert_eq!(after, before, "files added or removed");
}

#[test]
fn removal_keeps_values_the_user_changed_and_refuses_unknown_services() {
    let h = Harness::new();
    h.cmd("stackgen")
        .args([
            "new",
            "fastapi",
            "api",
            "--no-generator",
            "--services",
            "none",
            "--port",
            "6011",
        ])
        .run()
        .success();
    let dir = h.path().join("api");
    h.cmd("stackgen")
        .args(["add-service", "postgres", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .success();
    let env = std::fs::read_to_string(dir.join(".env")).unwrap();
    let named =
        "# POSTGRES_PASSWORD: in berth's secrets store (secrets get api POSTGRES_PASSWORD)\n";
    assert!(env.contains(named), "{env}");
    assert!(!dotenv(&dir).contains_key("POSTGRES_PASSWORD"), "{env}");
    // The user sets the value in place of berth's comment: it is kept.
    std::fs::write(
        dir.join(".env"),
        env.replace(named, "POSTGRES_PASSWORD=mine\n"),
    )
    .unwrap();
    h.cmd("stackgen")
        .args(["remove-service", "postgres", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .success()
        .stderr_has("changed and are kept");
    assert_eq!(dotenv(&dir)["POSTGRES_PASSWORD"], "mine");
    let before = snapshot(&dir);
    h.cmd("stackgen")
        .args(["remove-service", "redis", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .code_is(2)
        .stderr_has("service 'redis' is not in api");
    h.cmd("stackgen")
        .args(["add-service", "nosuch", "--dir"])
        .arg(&dir)
        .run()
        .code_is(2)
        .stderr_has("unknown service 'nosuch'");
    h.cmd("stackgen")
        .args(["add-service", "celery", "--dir"])
        .arg(&dir)
        .run()
        .code_is(2)
        .stderr_has("does not offer service 'celery'");
    assert_eq!(snapshot(&dir), before);
    h.cmd("stackgen")
        .args(["add-service", "redis"])
        .run()
        .code_is(2)
        .stderr_has("is not a stackgen project");
}

// ---------------------------------------------------------------------------
// Modes, templates, bad input

#[test]
fn existing_mode_detects_the_framework_and_leaves_the_code_alone() {
    let h = Harness::new();
    h.write(
        "web/package.json",
        "{\"dependencies\": {\"next\": \"14.2.0\"}}\n",
    );
    h.write(
        "web/app/page.js",
        "export default function P() { return null }\n",
    );
    h.write("web/.dockerignore", "mine\n");
    h.write("web/.env", "# my settings\nAPP_PORT=4444\nMY=1\n");
    let before = snapshot(&h.path().join("web"));
    let run = h
        .cmd("stackgen")
        .args(["new", "nextjs", "web", "--services", "redis", "--json"])
        .run()
        .success();
    assert_eq!(
        run.json()["port"].as_u64(),
        Some(4444),
        "the port .env names is kept"
    );
    let dir = h.path().join("web");
    let after = snapshot(&dir);
    for f in ["package.json", "app/page.js", ".dockerignore"] {
        assert_eq!(after[Path::new(f)], before[Path::new(f)], "{f} was touched");
    }
    assert!(after.contains_key(Path::new("compose.yaml")));
    assert!(
        !after.contains_key(Path::new("app/layout.js")),
        "starter written in existing mode"
    );
    let env = std::fs::read_to_string(dir.join(".env")).unwrap();
    assert!(
        env.starts_with("# my settings\nAPP_PORT=4444\nMY=1\n"),
        "{env}"
    );
    assert_eq!(env.matches("APP_PORT=").count(), 1, "{env}");
    assert!(env.contains("COMPOSE_PROJECT_NAME=web\n"));

    // The wrong stack for the folder: exit 2, with what the folder looks like.
    h.write(
        "other/package.json",
        "{\"dependencies\": {\"next\": \"14\"}}\n",
    );
    h.cmd("stackgen")
        .args(["new", "django", "other", "--mode", "existing"])
        .run()
        .code_is(2)
        .stderr_has("no django project in other: looked for manage.py")
        .stderr_has("looks like: nextjs");
}

#[test]
fn a_non_executable_generator_on_path_is_not_installed() {
    use std::os::unix::fs::PermissionsExt as _;
    let h = Harness::new();
    // A django-admin that cannot run, first on PATH: not a generator.
    let fake = h.path().join("fakebin");
    std::fs::create_dir(&fake).unwrap();
    std::fs::write(fake.join("django-admin"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(
        fake.join("django-admin"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    h.cmd("stackgen")
        .args(["new", "django", "blog", "--mode", "fresh"])
        .env("PATH", &fake)
        .run()
        .code_is(2)
        .stderr_has("django-admin is not installed (not on PATH)")
        .stderr_has("--no-generator");
    assert!(!h.path().join("blog").exists());
}

#[test]
fn fresh_mode_runs_the_frameworks_generator_or_says_why_not() {
    let h = Harness::new();
    // Without the generator on PATH: why and how, nothing written.
    let bin_dir = common::bin("stackgen").parent().unwrap().to_path_buf();
    h.cmd("stackgen")
        .args(["new", "django", "blog", "--mode", "fresh"])
        .env("PATH", &bin_dir)
        .run()
        .code_is(2)
        .stderr_has("django-admin is not installed")
        .stderr_has("--no-generator");
    assert!(!h.path().join("blog").exists());
    if !require("django-admin") {
        return;
    }
    // The generator refuses (a name that shadows a Python module): its
    // reason, exit 2, and the folder stackgen made is gone again.
    h.cmd("stackgen")
        .args(["new", "django", "test"])
        .run()
        .code_is(2)
        .stderr_has("conflicts with the name of an existing Python module")
        .stderr_has("the generator failed: django-admin startproject test .");
    assert!(!h.path().join("test").exists());
    h.cmd("stackgen")
        .args(["new", "django", "blog", "--services", "postgres"])
        .run()
        .success();
    let dir = h.path().join("blog");
    assert!(
        dir.join("manage.py").is_file(),
        "django-admin startproject ran"
    );
    assert!(dir.join("blog/settings.py").is_file());
    assert!(dir.join("compose.yaml").is_file());
    assert!(dir.join("requirements.txt").is_file());
    // The generated settings read the environment berth provides.
    let settings = std::fs::read_to_string(dir.join("blog/settings.py")).unwrap();
    assert!(settings.contains("Added by stackgen"));
    assert!(settings.contains("DATABASE_URL"));
    let (ok, out, err) = output({
        let mut c = Command::new("python3");
        c.args(["manage.py", "check"]).current_dir(&dir);
        c
    });
    assert!(ok, "manage.py check:\n{out}{err}");
}

#[test]
fn fresh_django_from_django_admin_boots_and_migrates_into_postgres() {
    if !require("django-admin") || !docker_ready(&["postgres:16", BED_BASE]) {
        return;
    }
    let h = Harness::new();
    let name = format!("sgfresh-{}", std::process::id());
    let port = free_port();
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            &name,
            "--services",
            "postgres",
            "--port",
            &port.to_string(),
        ])
        .run()
        .success();
    let dir = h.path().join(&name);
    let guard = Down(dir.clone());
    up(&dir);
    // The default project routes admin/ only: its login page answers 200.
    let start = Instant::now();
    loop {
        if let Some((200, _, _)) = http_get(port, "/admin/login/") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no 200 from /admin/login/"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    // The entrypoint's migrate went to PostgreSQL.
    let (ok, out, err) = output({
        let mut c = compose(&dir);
        c.args([
            "exec",
            "-T",
            "postgres",
            "psql",
            "-U",
            "app",
            "-d",
            "app",
            "-tAc",
            "select count(*) from django_migrations",
        ]);
        c
    });
    assert!(ok, "{err}");
    assert!(out.trim().parse::<u32>().unwrap() > 10, "{out}");
    drop(guard);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let h = Harness::new();
    h.write("full/keep.txt", "x\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["new", "rails", "a1"], "unknown stack 'rails'"),
        (
            vec!["new", "django", "a2", "--services", "postgres,oracle"],
            "unknown service 'oracle'",
        ),
        (
            vec!["new", "wordpress", "a3", "--services", "postgres"],
            "does not offer service 'postgres'",
        ),
        (
            vec!["new", "nextjs", "a4", "--services", "celery"],
            "does not offer service 'celery'",
        ),
        (
            vec!["new", "django", "a5", "--services", "celery"],
            "needs a cache service",
        ),
        (
            vec!["new", "django", "a;rm -rf ~", "--no-generator"],
            "invalid project name",
        ),
        (
            vec!["new", "django", "$(reboot)", "--no-generator"],
            "invalid project name",
        ),
        (
            vec!["new", "django", "Shop", "--no-generator"],
            "invalid project name",
        ),
        (
            vec![
                "new",
                "django",
                "a6",
                "--publish",
                "redis",
                "--no-generator",
            ],
            "--publish names 'redis'",
        ),
        (
            vec!["new", "django", "full", "--mode", "fresh"],
            "folder full is not empty",
        ),
        (
            vec!["new", "django", "a7", "--mode", "existing"],
            "does not exist",
        ),
    ];
    for (args, msg) in cases {
        let before = snapshot(h.path());
        h.cmd("stackgen")
            .args(&args)
            .run()
            .code_is(2)
            .stderr_has("stackgen: error:")
            .stderr_has(msg);
        assert_eq!(snapshot(h.path()), before, "{args:?} wrote something");
    }

    // A broken template in the user's folder, and a broken manifest.
    h.write("home/config.yaml", "templates: tpl\n");
    h.write(
        "home/tpl/stacks/django/compose.yaml",
        "services:\n  app: {{ unclosed\n",
    );
    let before = snapshot(h.path());
    h.cmd("stackgen")
        .args(["new", "django", "b1", "--no-generator"])
        .run()
        .code_is(2)
        .stderr_has("broken template")
        .stderr_has("tpl/stacks/django/compose.yaml");
    h.write(
        "home/tpl/stacks/django/compose.yaml",
        "services:\n  app: {{ nosuchvar }}\n",
    );
    h.cmd("stackgen")
        .args(["new", "django", "b2", "--no-generator"])
        .run()
        .code_is(2)
        .stderr_has("cannot render template")
        .stderr_has("nosuchvar");
    std::fs::remove_file(h.path().join("home/tpl/stacks/django/compose.yaml")).unwrap();
    h.write(
        "home/tpl/stacks/flask/manifest.yaml",
        "description: [unclosed\n",
    );
    h.cmd("stackgen")
        .args(["new", "flask", "b3", "--no-generator"])
        .run()
        .code_is(2)
        .stderr_has("invalid YAML in template");
    h.write("home/tpl/services/postgres.yaml", "description: {% if %}\n");
    h.cmd("stackgen")
        .args(["new", "fastapi", "b4", "--no-generator"])
        .run()
        .code_is(2)
        .stderr_has("tpl/services/postgres.yaml");
    let mut after = snapshot(h.path());
    after.retain(|p, _| !p.starts_with("home/tpl"));
    let mut before = before;
    before.retain(|p, _| !p.starts_with("home/tpl"));
    assert_eq!(after, before);
}

#[test]
fn user_templates_override_files_and_add_stacks() {
    let h = Harness::new();
    h.write("home/config.yaml", "templates: tpl\n");
    h.write(
        "home/tpl/stacks/django/compose.dev.yaml",
        "# my overlay for {{ name }}\nservices:\n  app:\n    build:\n      target: development\n",
    );
    // A new stack: fastapi's files under another name with a manifest of the user's.
    for (path, src) in berth_stack_files("fastapi") {
        h.write(&format!("home/tpl/stacks/flask/{path}"), &src);
    }
    let manifest = std::fs::read_to_string(h.path().join("home/tpl/stacks/flask/manifest.yaml"))
        .unwrap()
        .replace("FastAPI (Python)", "Flask (Python)");
    h.write("home/tpl/stacks/flask/manifest.yaml", &manifest);
    let all = stacks(&h);
    let origin = |n: &str| {
        all.iter()
            .find(|s| s["name"] == n)
            .map(|s| s["origin"].as_str().unwrap().to_owned())
    };
    assert_eq!(origin("django").as_deref(), Some("user"));
    assert_eq!(origin("flask").as_deref(), Some("user"));
    assert_eq!(origin("laravel").as_deref(), Some("builtin"));
    h.cmd("stackgen")
        .args(["new", "django", "mine", "--no-generator"])
        .run()
        .success();
    assert_eq!(
        std::fs::read_to_string(h.path().join("mine/compose.dev.yaml")).unwrap(),
        "# my overlay for mine\nservices:\n  app:\n    build:\n      target: development\n"
    );
    h.cmd("stackgen")
        .args([
            "new",
            "flask",
            "fl",
            "--no-generator",
            "--services",
            "redis",
        ])
        .run()
        .success();
    assert!(h.path().join("fl/app/main.py").is_file());
}

/// A builtin stack's template files, read from the source tree.
fn berth_stack_files(stack: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools/stackgen/templates/stacks")
        .join(stack);
    std::fs::read_dir(&root)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn update_refreshes_the_cache_from_a_folder_or_git_and_rejects_broken_templates() {
    let h = Harness::new();
    let src = h.path().join("src");
    for (path, text) in berth_stack_files("fastapi") {
        h.write(&format!("src/stacks/api2/{path}"), &text);
    }
    let run = h
        .cmd("stackgen")
        .args(["update-templates", "--json", "--from"])
        .arg(&src)
        .run()
        .success();
    let changed = run.json();
    assert!(
        changed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"] == "stacks/api2/manifest.yaml" && c["change"] == "added"),
        "{changed}"
    );
    assert!(
        stacks(&h)
            .iter()
            .any(|s| s["name"] == "api2" && s["origin"] == "cache")
    );
    // A project generated from it is not touched by later updates.
    h.cmd("stackgen")
        .args(["new", "api2", "p1", "--no-generator"])
        .run()
        .success();
    let project = snapshot(&h.path().join("p1"));

    // A broken template: exit 2, the cache stays as it was.
    let cache_before = snapshot(&h.home().join("stackgen/templates"));
    h.write("src/stacks/api2/Dockerfile", "FROM {{ oops\n");
    h.cmd("stackgen")
        .args(["update-templates"])
        .run()
        .code_is(2)
        .stderr_has("broken");
    assert_eq!(snapshot(&h.home().join("stackgen/templates")), cache_before);

    // From a git repository (cloned with --depth 1).
    if require("git") {
        h.write(
            "src/stacks/api2/Dockerfile",
            "# v2\nARG BASE_IMAGE=x\nFROM ${BASE_IMAGE} AS base\n",
        );
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t", "-C"])
                .arg(&src)
                .args(args)
                .timed_output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "templates"]);
        let url = format!("file://{}", src.display());
        let run = h
            .cmd("stackgen")
            .args(["update-templates", "--json", "--from", &url])
            .run()
            .success();
        assert_eq!(
            run.json(),
            serde_json::json!([{"path": "stacks/api2/Dockerfile", "change": "changed"}])
        );
        assert!(run.stderr.contains("+# v2"), "{}", run.stderr);
        let cached =
            std::fs::read_to_string(h.home().join("stackgen/templates/stacks/api2/Dockerfile"))
                .unwrap();
        assert!(cached.starts_with("# v2"));
        assert!(!h.home().join("stackgen/templates/.git").exists());
    }
    assert_eq!(snapshot(&h.path().join("p1")), project);
}

// ---------------------------------------------------------------------------
// Booting for real in the Docker test bed

/// `docker-compose down -v --rmi local` when dropped, so a failing test cleans up too.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = compose(&self.0)
            .args(["down", "-v", "--rmi", "local", "--remove-orphans"])
            .env("BASE_IMAGE", BED_BASE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timed_status();
    }
}

const BED_BASE: &str = "berth/debian:bookworm";

/// Poll until the app answers 200, or panic with the compose logs.
fn wait_for_200(dir: &Path, port: u16, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Some((200, _, body)) = http_get(port, "/") {
            return body;
        }
        if start.elapsed() > limit {
            let (_, logs, err) = output({
                let mut c = compose(dir);
                c.args(["logs", "--no-color", "--tail", "60"]);
                c
            });
            panic!("no HTTP 200 on port {port} after {limit:?}\n{logs}{err}");
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn up(dir: &Path) {
    let (ok, out, err) = output({
        let mut c = compose(dir);
        // The Dockerfiles' cache mounts need BuildKit: Debian's docker CLI
        // (20.10, /usr/bin) has it built in; a newer one first on PATH
        // without buildx would refuse DOCKER_BUILDKIT=1.
        let path = format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default());
        c.args(["up", "-d", "--build"])
            .env("BASE_IMAGE", BED_BASE)
            .env("DOCKER_BUILDKIT", "1")
            .env("PATH", path);
        c
    });
    assert!(ok, "docker-compose up failed:\n{out}\n{err}");
}

fn inspect(format: &str, object: &str) -> String {
    let (ok, out, err) = output({
        let mut c = Command::new("docker");
        c.args(["inspect", "-f", format, object]);
        c
    });
    assert!(ok, "docker inspect {object}: {err}");
    out.trim().to_owned()
}

/// A minimal Django project whose home page queries the database.
fn django_app(h: &Harness, dir: &str) {
    h.write(
        &format!("{dir}/requirements.txt"),
        "Django>=4.2,<6\npsycopg[binary]>=3.1\n",
    );
    h.write(
        &format!("{dir}/manage.py"),
        "#!/usr/bin/env python3\nimport os, sys\n\
         os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_app.settings')\n\
         from django.core.management import execute_from_command_line\n\
         execute_from_command_line(sys.argv)\n",
    );
    h.write(&format!("{dir}/site_app/__init__.py"), "");
    h.write(
        &format!("{dir}/site_app/settings.py"),
        "import os\nfrom urllib.parse import urlparse\n\
         SECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n\
         DEBUG = os.environ.get('DJANGO_DEBUG') == '1'\n\
         ALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')\n\
         INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth']\n\
         MIDDLEWARE = []\nROOT_URLCONF = 'site_app.urls'\nUSE_TZ = True\n\
         u = urlparse(os.environ['DATABASE_URL'])\n\
         DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': u.path[1:],\n\
         'USER': u.username, 'PASSWORD': u.password, 'HOST': u.hostname, 'PORT': u.port or 5432}}\n",
    );
    h.write(
        &format!("{dir}/site_app/urls.py"),
        "from django.db import connection\nfrom django.http import HttpResponse\nfrom django.urls import path\n\n\
         def index(request):\n    with connection.cursor() as c:\n        c.execute('SELECT count(*) FROM django_migrations')\n        n = c.fetchone()[0]\n    \
         return HttpResponse(f'db ok: {n} migrations on {connection.vendor}')\n\n\
         urlpatterns = [path('', index)]\n",
    );
}

#[test]
fn django_with_postgres_boots_twice_side_by_side() {
    if !docker_ready(&["postgres:16", BED_BASE]) {
        return;
    }
    let h = Harness::new();
    let pid = std::process::id();
    let names = [format!("sgdja-{pid}"), format!("sgdjb-{pid}")];
    let mut guards = Vec::new();
    let mut ports = Vec::new();
    for name in &names {
        django_app(&h, name);
        let port = free_port();
        let run = h
            .cmd("stackgen")
            .args([
                "new",
                "django",
                name,
                "--services",
                "postgres",
                "--port",
                &port.to_string(),
                "--json",
            ])
            .run()
            .success();
        assert_eq!(run.json()["port"].as_u64(), Some(u64::from(port)));
        let dir = h.path().join(name);
        assert!(
            !std::fs::read_to_string(dir.join("manage.py"))
                .unwrap()
                .contains("stackgen")
        );
        guards.push(Down(dir));
        ports.push(port);
    }
    // Build and start both; they run at the same time.
    let handles: Vec<_> = guards
        .iter()
        .map(|g| {
            let dir = g.0.clone();
            std::thread::spawn(move || up(&dir))
        })
        .collect();
    for t in handles {
        t.join().unwrap();
    }
    for ((name, g), port) in names.iter().zip(&guards).zip(&ports) {
        let body = wait_for_200(&g.0, *port, Duration::from_secs(600));
        assert!(body.starts_with("db ok: "), "{body}");
        assert!(body.contains("on postgresql"), "{body}");
        assert!(!body.starts_with("db ok: 0 "), "migrations ran: {body}");
        // Deterministic, namespaced names and labels.
        assert_eq!(
            inspect(
                "{{index .Config.Labels \"berth.project\"}}",
                &format!("{name}-app")
            ),
            *name
        );
        assert_eq!(
            inspect(
                "{{index .Config.Labels \"berth.service\"}}",
                &format!("{name}-postgres")
            ),
            "postgres"
        );
        assert_eq!(
            inspect(
                "{{index .Config.Labels \"berth.stack\"}}",
                &format!("{name}-postgres")
            ),
            "django"
        );
        assert_eq!(
            inspect(
                "{{index .Config.Labels \"com.docker.compose.project\"}}",
                &format!("{name}-app")
            ),
            *name
        );
        let nets = inspect(
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
            &format!("{name}-app"),
        );
        assert_eq!(nets, format!("{name}-net"));
        inspect("{{.Name}}", &format!("{name}-postgres-data"));
        // The database publishes nothing on the host.
        let ports = inspect(
            "{{json .NetworkSettings.Ports}}",
            &format!("{name}-postgres"),
        );
        assert!(!ports.contains("HostPort"), "{ports}");
    }
    // Down removes containers, network and volumes.
    let dirs: Vec<PathBuf> = guards.iter().map(|g| g.0.clone()).collect();
    drop(guards);
    for (name, dir) in names.iter().zip(&dirs) {
        for object in [
            format!("{name}-app"),
            format!("{name}-postgres"),
            format!("{name}-net"),
            format!("{name}-postgres-data"),
        ] {
            let gone = !Command::new("docker")
                .args(["inspect", &object])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .timed_status()
                .unwrap()
                .success();
            assert!(
                gone,
                "{object} is still there after down -v ({})",
                dir.display()
            );
        }
    }
}

#[test]
fn remove_service_with_data_deletes_the_volume() {
    if !docker_ready(&[]) {
        return;
    }
    let h = Harness::new();
    let name = format!("sgvol-{}", std::process::id());
    h.cmd("stackgen")
        .args([
            "new",
            "fastapi",
            &name,
            "--no-generator",
            "--services",
            "postgres,redis",
            "--port",
            "6012",
        ])
        .run()
        .success();
    let dir = h.path().join(&name);
    for svc in ["postgres", "redis"] {
        let ok = Command::new("docker")
            .args(["volume", "create", &format!("{name}-{svc}-data")])
            .stdout(Stdio::null())
            .timed_status()
            .unwrap()
            .success();
        assert!(ok);
    }
    h.cmd("stackgen")
        .args(["remove-service", "redis", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .success()
        .stderr_has(&format!("{name}-redis-data is kept"));
    h.cmd("stackgen")
        .args([
            "remove-service",
            "postgres",
            "--with-data",
            "--yes",
            "--dir",
        ])
        .arg(&dir)
        .run()
        .success()
        .stderr_has(&format!("deleted volume {name}-postgres-data"));
    let exists = |v: &str| {
        Command::new("docker")
            .args(["volume", "inspect", v])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timed_status()
            .unwrap()
            .success()
    };
    assert!(!exists(&format!("{name}-postgres-data")));
    assert!(exists(&format!("{name}-redis-data")));
    let _ = Command::new("docker")
        .args(["volume", "rm", &format!("{name}-redis-data")])
        .stdout(Stdio::null())
        .timed_status();
}

#[test]
fn nextjs_boots_with_next_dev() {
    if !docker_ready(&[BED_BASE]) {
        return;
    }
    let h = Harness::new();
    let name = format!("sgnext-{}", std::process::id());
    let port = free_port();
    h.cmd("stackgen")
        .args([
            "new",
            "nextjs",
            &name,
            "--no-generator",
            "--services",
            "none",
            "--port",
            &port.to_string(),
        ])
        .run()
        .success();
    let dir = h.path().join(&name);
    let guard = Down(dir.clone());
    up(&dir);
    let body = wait_for_200(&dir, port, Duration::from_secs(900));
    assert!(body.contains("Next.js, generated by stackgen"), "{body}");
    assert_eq!(
        inspect(
            "{{index .Config.Labels \"berth.stack\"}}",
            &format!("{name}-app")
        ),
        "nextjs"
    );
    drop(guard);
    let gone = !Command::new("docker")
        .args(["volume", "inspect", &format!("{name}-app-node-modules")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .timed_status()
        .unwrap()
        .success();
    assert!(gone, "down -v removes the node_modules volume");
}

#[test]
fn dry_run_shows_every_file_as_a_diff_and_writes_nothing() {
    let h = Harness::new();
    let run = h
        .cmd("stackgen")
        .args([
            "new",
            "laravel",
            "dry",
            "--no-generator",
            "--dry-run",
            "--json",
        ])
        .run()
        .success();
    assert!(!h.path().join("dry").exists());
    for f in [
        "compose.yaml",
        "compose.dev.yaml",
        "Dockerfile",
        ".env",
        ".berth/compose.services.yaml",
    ] {
        assert!(
            run.stderr.contains(&format!("+++ b/{f}\n")),
            "no diff for {f}:\n{}",
            run.stderr
        );
    }
    // Secrets are masked in the diff; the Project JSON still comes out.
    // (.env names them, the values go to the secrets store.)
    for key in ["APP_KEY", "MYSQL_PASSWORD"] {
        assert!(
            run.stderr.contains(&format!(
                "+# {key}: in berth's secrets store (secrets get dry {key})\n"
            )),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(&format!("+{key}=\n")),
            "{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("base64:"));
    assert_eq!(run.json()["stack"], "laravel");
    // An existing COMPOSE_FILE that leaves berth's file out is pointed out.
    h.write("lv/artisan", "#!/usr/bin/env php\n");
    h.write(
        "lv/composer.json",
        "{\"require\": {\"laravel/framework\": \"^11.0\"}}\n",
    );
    h.write("lv/.env", "APP_NAME=lv\nCOMPOSE_FILE=docker-compose.yml\n");
    h.cmd("stackgen")
        .args(["new", "laravel", "lv", "--services", "mysql"])
        .run()
        .success()
        .stderr_has("without .berth/compose.services.yaml")
        .stderr_has("hint: add :.berth/compose.services.yaml");
    let env = std::fs::read_to_string(h.path().join("lv/.env")).unwrap();
    assert!(env.starts_with("APP_NAME=lv\nCOMPOSE_FILE=docker-compose.yml\n"));
    assert_eq!(env.matches("COMPOSE_FILE=").count(), 1);
    assert_eq!(env.matches("APP_NAME=").count(), 1, "{env}");
}

#[test]
fn add_service_publishes_a_service_already_there() {
    let h = Harness::new();
    h.write("home/config.yaml", "port_range: 7300-7399\n");
    h.cmd("stackgen")
        .args([
            "new",
            "nextjs",
            "pub",
            "--no-generator",
            "--services",
            "postgres,adminer",
        ])
        .run()
        .success();
    let dir = h.path().join("pub");
    let env_before = std::fs::read_to_string(dir.join(".env")).unwrap();
    h.cmd("stackgen")
        .args([
            "add-service",
            "adminer",
            "--publish",
            "adminer",
            "--yes",
            "--dir",
        ])
        .arg(&dir)
        .run()
        .success()
        .stderr_has("+    - 127.0.0.1:");
    let c = berth::compose::load_dir(&dir).unwrap();
    let b = &c.service("adminer").unwrap().ports[0];
    assert_eq!(b.host_ip.to_string(), "127.0.0.1");
    assert_eq!(b.target, 8080);
    assert!((7300..=7399).contains(&b.published.unwrap()));
    assert_ne!(b.published, c.service("app").unwrap().ports[0].published);
    assert_eq!(
        std::fs::read_to_string(dir.join(".env")).unwrap(),
        env_before
    );
    // Adminer waits for the database it shows.
    let raw = &c.service("adminer").unwrap().raw;
    assert_eq!(
        raw["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
}

// ---------------------------------------------------------------------------
// Image references: `images:` in config.yaml, --base-image, healthchecks

#[test]
fn images_mapping_and_base_image_are_written_where_images_are_named() {
    let h = Harness::new();
    h.write(
        "home/config.yaml",
        "images:\n  python:3.12-slim: mirror.local/python:3.12-slim\n  postgres:16: mirror.local/postgres:16\n  \
         composer:2: mirror.local/composer:2\n  redis:7: mirror.local/redis:7\n",
    );
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "mapped",
            "--no-generator",
            "--port",
            "5990",
        ])
        .run()
        .success();
    let dir = h.path().join("mapped");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert!(
        read("Dockerfile").contains("ARG BASE_IMAGE=mirror.local/python:3.12-slim\n"),
        "{}",
        read("Dockerfile")
    );
    assert!(read("compose.yaml").contains("${BASE_IMAGE:-mirror.local/python:3.12-slim}"));
    assert_eq!(dotenv(&dir)["BASE_IMAGE"], "mirror.local/python:3.12-slim");
    let services = read(".berth/compose.services.yaml");
    assert!(
        services.contains("image: mirror.local/postgres:16"),
        "{services}"
    );
    assert!(!services.contains("image: postgres:16"), "{services}");

    // The Dockerfile's other images (COPY --from) and unmapped ones as they are.
    h.cmd("stackgen")
        .args([
            "new",
            "laravel",
            "mapped-php",
            "--no-generator",
            "--port",
            "5991",
        ])
        .run()
        .success();
    let dir = h.path().join("mapped-php");
    let docker = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(
        docker.contains("COPY --from=mirror.local/composer:2 /usr/bin/composer"),
        "{docker}"
    );
    assert!(
        docker.contains("ARG BASE_IMAGE=php:8.3-apache\n"),
        "{docker}"
    );
    let services = std::fs::read_to_string(dir.join(".berth/compose.services.yaml")).unwrap();
    assert!(
        services.contains("image: mirror.local/redis:7"),
        "{services}"
    );
    assert!(services.contains("image: mysql:8"), "{services}");

    // --base-image, mapped too, and kept for later regenerations (a worker).
    h.write(
        "home/config.yaml",
        "images:\n  my.registry/py:3.11: mirror.local/py:3.11\n",
    );
    h.cmd("stackgen")
        .args(["new", "django", "based", "--no-generator", "--port"])
        .arg(free_port().to_string())
        .args([
            "--base-image",
            "my.registry/py:3.11",
            "--services",
            "postgres,redis",
        ])
        .run()
        .success();
    let dir = h.path().join("based");
    let docker = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(
        docker.contains("ARG BASE_IMAGE=mirror.local/py:3.11\n"),
        "{docker}"
    );
    assert_eq!(dotenv(&dir)["BASE_IMAGE"], "mirror.local/py:3.11");
    h.cmd("stackgen")
        .args(["add-service", "celery", "--yes", "--dir"])
        .arg(&dir)
        .run()
        .success();
    let services = std::fs::read_to_string(dir.join(".berth/compose.services.yaml")).unwrap();
    assert!(
        services.contains("BASE_IMAGE: ${BASE_IMAGE:-mirror.local/py:3.11}"),
        "{services}"
    );

    // Bad references: exit 2, the reason, nothing written.
    h.cmd("stackgen")
        .args([
            "new",
            "django",
            "bad",
            "--no-generator",
            "--base-image",
            "a b",
        ])
        .run()
        .code_is(2)
        .stderr_has("invalid base image 'a b'");
    assert!(!h.path().join("bad").exists());
    h.write("home/config.yaml", "images:\n  redis:7: \"-x\"\n");
    h.cmd("stackgen")
        .args(["new", "django", "bad", "--no-generator"])
        .run()
        .code_is(2)
        .stderr_has("config.yaml")
        .stderr_has("invalid image for 'redis:7'");
    assert!(!h.path().join("bad").exists());
}

#[test]
fn every_app_has_a_healthcheck_and_no_image_is_latest() {
    let h = Harness::new();
    for (stack, tool) in [
        ("django", "python3"),
        ("fastapi", "python3"),
        ("nextjs", "node"),
        ("laravel", "php"),
        ("wordpress", "php"),
    ] {
        let info = stacks(&h).into_iter().find(|s| s["name"] == stack).unwrap();
        let all = strings(&info["services"]).join(",");
        let name = format!("hc-{stack}");
        // Each its own port: a port stackgen new reserved for one project is
        // refused to the next.
        h.cmd("stackgen")
            .args(["new", stack, &name, "--no-generator", "--port"])
            .arg(free_port().to_string())
            .args(["--services", &all])
            .run()
            .success();
        let dir = h.path().join(&name);
        let (ok, config, err) = output({
            let mut c = compose(&dir);
            c.arg("config");
            c
        });
        if !require("docker-compose") {
            return;
        }
        assert!(ok, "{stack}: docker-compose config: {err}");
        let doc: yaml_serde::Value = yaml_serde::from_str(&config).unwrap();
        let test = &doc["services"]["app"]["healthcheck"]["test"];
        let argv: Vec<&str> = test
            .as_sequence()
            .unwrap_or_else(|| panic!("{stack}: no app healthcheck:\n{config}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        // One shell string (CMD-SHELL): podman-compose 1.0 breaks a CMD
        // list's words that hold spaces.
        assert_eq!(argv.len(), 2, "{stack}: {argv:?}");
        assert_eq!(argv[0], "CMD-SHELL", "{stack}: {argv:?}");
        assert!(
            argv[1].starts_with(&format!("{tool} -")),
            "{stack}: {argv:?}"
        );
        assert!(!config.contains("curl"), "{stack}: {config}");
        for (svc, def) in doc["services"].as_mapping().unwrap() {
            if let Some(image) = def["image"].as_str() {
                assert!(
                    image.contains(':') && !image.ends_with(":latest"),
                    "{stack}: {svc:?} uses {image}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The CI pipeline cigen generates passes on a fresh project

/// Run the generated workflow's steps in the project, in a virtualenv, as
/// the pipeline's runner would; panics with the failing step's output.
fn run_pipeline(dir: &Path, env: &BTreeMap<String, String>, steps: &[(String, String)]) {
    let venv = dir.join(".venv-ci");
    let (ok, out, err) = output({
        let mut c = Command::new("timeout");
        c.args(["300", "python3", "-m", "venv"]).arg(&venv);
        c
    });
    assert!(ok, "python3 -m venv: {out}{err}");
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (name, script) in steps {
        let began = Instant::now();
        let (ok, out, err) = output({
            let mut c = Command::new("timeout");
            c.args(["900", "bash", "-eo", "pipefail", "-c", script])
                .current_dir(dir)
                .env("PATH", &path)
                .env("VIRTUAL_ENV", &venv)
                .env("CI", "true")
                .env_remove("PYTHONPATH")
                .env_remove("DJANGO_SETTINGS_MODULE")
                .envs(env);
            c
        });
        assert!(ok, "pipeline step {name:?} failed:\n{script}\n{out}\n{err}");
        eprintln!("pipeline step {name:?}: ok in {:.0?}", began.elapsed());
    }
}

/// Removes a container when dropped.
struct Rm(String);
impl Drop for Rm {
    fn drop(&mut self) {
        let _ = Command::new("timeout")
            .args(["60", "docker", "rm", "-f", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .timed_status();
    }
}

#[test]
fn fresh_python_stacks_pass_their_generated_pipeline() {
    if !require("python3") || !require("django-admin") || !docker_ready(&["postgres:16"]) {
        return;
    }
    let h = Harness::new();
    let pid = std::process::id();
    // The PostgreSQL the workflow's `services:` asks for, on a free port.
    let pg = format!("berth-ci-pg-{pid}");
    let port = free_port();
    let (ok, _, err) = output({
        let mut c = Command::new("timeout");
        c.args(["120", "docker", "run", "-d", "--rm", "--name", &pg])
            .args(["-e", "POSTGRES_USER=app", "-e", "POSTGRES_PASSWORD=app"])
            .args(["-e", "POSTGRES_DB=app_test", "-p"])
            .arg(format!("127.0.0.1:{port}:5432"))
            .arg("postgres:16");
        c
    });
    assert!(ok, "docker run postgres: {err}");
    let _rm = Rm(pg.clone());
    let start = Instant::now();
    while !Command::new("timeout")
        .args([
            "10",
            "docker",
            "exec",
            &pg,
            "pg_isready",
            "-h",
            "127.0.0.1",
            "-U",
            "app",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .timed_status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "postgres did not start"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    for (stack, extra) in [("django", &[][..]), ("fastapi", &["--no-generator"][..])] {
        let name = format!("ci-{stack}");
        h.cmd("stackgen")
            .args(["new", stack, &name, "--port"])
            .arg(free_port().to_string())
            .args(extra)
            .run()
            .success();
        let dir = h.path().join(&name);
        h.cmd("cigen")
            .args(["generate", "--platform", "github"])
            .arg(&dir)
            .run()
            .success();
        let (steps, mut env, _) = common::workflow_job(&dir);
        let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"Lint (ruff)"), "{stack}: {names:?}");
        assert!(names.contains(&"Test"), "{stack}: {names:?}");
        let lint = &steps.iter().find(|(n, _)| n == "Lint (ruff)").unwrap().1;
        assert!(lint.contains("ruff=="), "ruff is pinned: {lint}");
        // The job's database is ours, on its port.
        for v in env.values_mut() {
            *v = v.replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"));
        }
        if env.contains_key("DB_PORT") {
            env.insert("DB_PORT".into(), port.to_string());
        }
        run_pipeline(&dir, &env, &steps);
    }
}

#[test]
fn fresh_nextjs_passes_its_generated_pipeline() {
    if !require("node") || !require("npm") || !require("python3") {
        return;
    }
    let h = Harness::new();
    // The stack's starter (create-next-app@latest is not pinned).
    h.cmd("stackgen")
        .args([
            "new",
            "nextjs",
            "ci-next",
            "--no-generator",
            "--port",
            "5995",
        ])
        .run()
        .success();
    let dir = h.path().join("ci-next");
    h.cmd("cigen")
        .args(["generate", "--platform", "github"])
        .arg(&dir)
        .run()
        .success();
    let (steps, env, _) = common::workflow_job(&dir);
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"Build"), "{names:?}");
    run_pipeline(&dir, &env, &steps);
    assert!(
        dir.join(".next/BUILD_ID").is_file(),
        "next build wrote its output"
    );
}

/// A service removed and added back writes its secret's comment once more
/// (the removal took it out); added again while there, nothing is written
/// twice. Under `secrets: plain` the values are `NAME=value` lines, as
/// before the store, and nothing is named in a comment.
#[test]
fn stored_secret_comments_come_and_go_with_their_service_and_plain_keeps_values() {
    let h = Harness::new();
    let comment =
        |p: &str, k: &str| format!("# {k}: in berth's secrets store (secrets get {p} {k})");
    h.cmd("stackgen")
        .args([
            "new",
            "fastapi",
            "cm",
            "--no-generator",
            "--services",
            "postgres",
            "--port",
        ])
        .arg(free_port().to_string())
        .run()
        .success();
    let dir = h.path().join("cm");
    let read = || std::fs::read_to_string(dir.join(".env")).unwrap();
    let first = read();
    assert_eq!(
        first.matches(&comment("cm", "POSTGRES_PASSWORD")).count(),
        1,
        "{first}"
    );
    assert_eq!(
        first.matches(&comment("cm", "APP_SECRET_KEY")).count(),
        1,
        "{first}"
    );
    let example = std::fs::read_to_string(dir.join(".env.development.example")).unwrap();
    assert!(
        example.contains("\nPOSTGRES_PASSWORD=change-me\n"),
        "{example}"
    );
    assert!(
        example.contains("\nAPP_SECRET_KEY=change-me\n"),
        "{example}"
    );
    assert!(!example.contains("secrets get"), "{example}");
    let service = |verb: &str| {
        h.cmd("stackgen")
            .args([verb, "postgres", "--yes", "--dir"])
            .arg(&dir)
            .run()
    };
    service("add-service")
        .success()
        .stderr_has("postgres is already in cm");
    assert_eq!(read(), first, "added while there: nothing written");
    let removed = service("remove-service").success();
    assert!(
        !removed.stderr.contains("changed and are kept"),
        "{}",
        removed.stderr
    );
    let without = read();
    assert!(!without.contains("POSTGRES_PASSWORD"), "{without}");
    assert!(
        without.contains(&comment("cm", "APP_SECRET_KEY")),
        "{without}"
    );
    service("add-service").success();
    let again = read();
    assert_eq!(
        again
            .lines()
            .filter(|l| l.contains("POSTGRES_PASSWORD"))
            .count(),
        1,
        "{again}"
    );
    assert!(
        again.contains(&comment("cm", "POSTGRES_PASSWORD")),
        "{again}"
    );

    // secrets: plain: values in .env, no comments, nothing in the store.
    h.write("home/config.yaml", "secrets: plain\n");
    h.cmd("stackgen")
        .args([
            "new",
            "fastapi",
            "pl",
            "--no-generator",
            "--services",
            "postgres",
            "--port",
        ])
        .arg(free_port().to_string())
        .run()
        .success();
    let plain = std::fs::read_to_string(h.path().join("pl/.env")).unwrap();
    assert!(!plain.contains("secrets store ("), "{plain}");
    let env = dotenv(&h.path().join("pl"));
    for k in ["POSTGRES_PASSWORD", "APP_SECRET_KEY"] {
        assert!(env[k].len() >= 32, "{k} has its value in .env:\n{plain}");
    }
    assert!(!h.home().join("secrets/pl.enc").exists());
}
