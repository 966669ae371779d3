//! The generated pipelines' steps run for real: the Django, `FastAPI` and
//! Node jobs' scripts against a real `PostgreSQL` and real node/npm, and the
//! service containers cigen writes (`PostgreSQL`, `MySQL`, `MariaDB`) started
//! from the test bed's images with the job's credentials.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::cigen::{Db, laravel, project, set_mode, text, yaml};
use common::{Harness, Timed as _, require, stdout_of};
use yaml_serde::Value;

// ---------------------------------------------------------------------------
// The Django pipeline's steps against a real PostgreSQL

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throwaway `PostgreSQL` 15 cluster on a free loopback port, run as `postgres`.
struct Postgres {
    data: PathBuf,
    port: u16,
}

impl Postgres {
    fn start(root: &Path, user: &str, password: &str, db: &str) -> Self {
        use std::os::unix::fs::chown;
        let base = root.join("pg");
        std::fs::create_dir_all(&base).unwrap();
        set_mode(root, 0o755);
        let uid = stdout_of("id", &["-u", "postgres"]).parse::<u32>().unwrap();
        let gid = stdout_of("id", &["-g", "postgres"]).parse::<u32>().unwrap();
        chown(&base, Some(uid), Some(gid)).unwrap();
        let data = base.join("data");
        let pwfile = base.join("pw");
        std::fs::write(&pwfile, format!("{password}\n")).unwrap();
        chown(&pwfile, Some(uid), Some(gid)).unwrap();
        let port = common::free_port();
        as_postgres(
            &format!("{PG_BIN}/initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                user,
                "--pwfile",
                pwfile.to_str().unwrap(),
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
            ],
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            base.display()
        );
        as_postgres(
            &format!("{PG_BIN}/pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                base.join("log").to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        let pg = Self { data, port };
        let out = Command::new(format!("{PG_BIN}/createdb"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", user, db])
            .env("PGPASSWORD", password)
            .timed_output()
            .unwrap();
        assert!(
            out.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &format!("{PG_BIN}/pg_ctl"),
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
            ])
            .timed_output();
    }
}

fn as_postgres(program: &str, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", program])
        .args(args)
        .current_dir("/")
        .timed_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `PyPI` packages the pipelines' steps use, pinned so a new release
/// cannot change what a test runs (Django 5.2 LTS runs on Python 3.10+).
const PYPI: [&str; 6] = [
    "django==5.2.19",
    "psycopg[binary]==3.3.9",
    "ruff==0.17.5",
    "fastapi==0.163.2",
    "httpx==0.28.1",
    "pytest==9.2.0",
];

/// `requirements.txt` naming `packages` (by name) from [`PYPI`]: the pipeline
/// installs them into the venv that already holds these versions.
fn requirements(packages: &[&str]) -> String {
    let mut text = String::new();
    for name in packages {
        let pin = PYPI
            .iter()
            .find(|p| p.split(['=', '[']).next() == Some(name))
            .expect("a pinned package");
        text.push_str(pin);
        text.push('\n');
    }
    text
}

/// A virtualenv with Django, psycopg and ruff, built once (`PyPI`) and kept under `target/`.
fn django_venv() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/cigen-test-venv");
        let ready = venv.join(".ready-4");
        if ready.is_file() {
            return venv;
        }
        let _ = std::fs::remove_dir_all(&venv);
        let out = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .current_dir("/")
            .timed_output()
            .unwrap();
        assert!(
            out.status.success(),
            "venv: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet"])
            .args(PYPI)
            .current_dir("/")
            .timed_output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&ready, "").unwrap();
        venv
    })
    .clone()
}

/// A minimal Django project whose settings read the pipeline's DB_* variables
/// and whose test writes to the database.
fn django_project(h: &Harness, image: &str) -> PathBuf {
    let files: &[(&str, &str)] = &[
        (
            "manage.py",
            "#!/usr/bin/env python\nimport os\nimport sys\n\nif __name__ == '__main__':\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_cfg.settings')\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n",
        ),
        ("site_cfg/__init__.py", ""),
        ("site_cfg/urls.py", "urlpatterns = []\n"),
        (
            "site_cfg/settings.py",
            "import os\nSECRET_KEY = 'test-only'\nDEBUG = os.environ.get('DJANGO_DEBUG') == '1'\nUSE_TZ = True\nROOT_URLCONF = 'site_cfg.urls'\n\
INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth', 'notes']\n\
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'\n\
DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'HOST': os.environ['DB_HOST'], 'PORT': os.environ['DB_PORT'],\n\
    'NAME': os.environ['DB_NAME'], 'USER': os.environ['DB_USER'], 'PASSWORD': os.environ['DB_PASSWORD']}}\n",
        ),
        ("notes/__init__.py", ""),
        (
            "notes/models.py",
            "from django.db import models\n\nclass Note(models.Model):\n    text = models.TextField()\n",
        ),
        ("notes/migrations/__init__.py", ""),
        (
            "notes/migrations/0001_initial.py",
            "from django.db import migrations, models\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = [migrations.CreateModel(name='Note', fields=[('id', models.BigAutoField(primary_key=True, serialize=False)), ('text', models.TextField())])]\n",
        ),
        (
            "notes/tests.py",
            "from django.db import connection\nfrom django.test import TestCase\nfrom notes.models import Note\n\nclass NoteTest(TestCase):\n    def test_postgres_roundtrip(self):\n        self.assertEqual(connection.vendor, 'postgresql')\n        Note.objects.create(text='hello')\n        self.assertEqual(Note.objects.get().text, 'hello')\n",
        ),
        ("requirements.txt", &requirements(&["django", "psycopg"])),
    ];
    h.write(
        "site/compose.yaml",
        &format!("services:\n  db:\n    image: {image}\n"),
    );
    for (rel, t) in files {
        h.write(&format!("site/{rel}"), t);
    }
    // The project's own ruff settings (so none from a parent folder apply).
    h.write(
        "site/ruff.toml",
        "line-length = 120\n\n[lint]\nselect = [\"E4\", \"E7\", \"E9\", \"F\"]\n",
    );
    // Executable, as django-admin writes it (ruff checks the shebang).
    set_mode(&h.path().join("site/manage.py"), 0o755);
    h.path().join("site")
}

/// The generated Django workflow's test job, parsed, for a project whose compose file uses `image`.
fn django_job(h: &Harness, image: &str) -> (PathBuf, Value) {
    let dir = django_project(h, image);
    h.cmd("cigen").args(["generate", "site"]).run().success();
    let doc = yaml(&dir.join(".github/workflows/test.yml"));
    let job = doc["jobs"]["test"].clone();
    assert_eq!(job["services"]["postgres"]["image"].as_str(), Some(image));
    (dir, job)
}

/// A value of the job's `PostgreSQL` service environment.
fn service_env(job: &Value, key: &str) -> String {
    job["services"]["postgres"]["env"][key]
        .as_str()
        .unwrap()
        .to_string()
}

/// The job's environment (GitHub `env:` or GitLab `variables:`) with the
/// database at 127.0.0.1:`port`: GitHub maps the service's port to the
/// runner's, GitLab reaches it by its alias; here it is a local server.
fn job_env(vars: &Value, port: u16, expect_host: &str) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = vars
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        .collect();
    let service_port = env["DB_PORT"].clone();
    assert!(
        service_port == "5432" || service_port == "3306",
        "{service_port}"
    );
    assert_eq!(env["DB_HOST"], expect_host);
    env.insert("DB_HOST".into(), "127.0.0.1".into());
    env.insert("DB_PORT".into(), port.to_string());
    let url = env["DATABASE_URL"].replace(
        &format!("@{expect_host}:{service_port}/"),
        &format!("@127.0.0.1:{port}/"),
    );
    env.insert("DATABASE_URL".into(), url);
    env
}

/// Run one script as the runner does (bash -e) in the project with the job's environment.
fn run_script(dir: &Path, env: &BTreeMap<String, String>, label: &str, script: &str) -> String {
    let venv = django_venv();
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(dir)
        .envs(env)
        .env("PATH", &path)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("VIRTUAL_ENV", &venv)
        .timed_output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{label} failed:\n{script}\n---\n{log}"
    );
    log
}

/// The migration reached `PostgreSQL`: the notes migration is recorded there.
fn assert_migrated(port: u16, user: &str, password: &str, db: &str) {
    let out = Command::new(format!("{PG_BIN}/psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            user,
            "-d",
            db,
            "-tAc",
        ])
        .arg("select count(*) from django_migrations where app = 'notes'")
        .env("PGPASSWORD", password)
        .timed_output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run every `run:` step of a GitHub test job in order, with the service's
/// port 5432 mapped to `port`; the logs by step name.
fn run_job_steps(dir: &Path, job: &Value, port: u16) -> BTreeMap<String, String> {
    let env = job_env(&job["env"], port, "127.0.0.1");
    let mut logs = BTreeMap::new();
    for step in job["steps"].as_sequence().unwrap() {
        let Some(script) = step.get("run").and_then(Value::as_str) else {
            continue;
        };
        let name = step["name"].as_str().unwrap().to_string();
        let log = run_script(dir, &env, &format!("step {name}"), script);
        logs.insert(name, log);
    }
    logs
}

/// Every step of the Django job (install, lint, check, migrate, test) passes
/// and the migration is in the database.
fn run_django_steps(dir: &Path, job: &Value, port: u16) {
    let logs = run_job_steps(dir, job, port);
    let names: Vec<&str> = logs.keys().map(String::as_str).collect();
    for want in [
        "Install dependencies",
        "Lint (ruff)",
        "Check",
        "Migrate",
        "Test",
    ] {
        assert!(names.contains(&want), "step {want} not run: {names:?}");
    }
    assert!(
        logs["Test"].contains("Ran 1 test") && logs["Test"].contains("OK"),
        "{}",
        logs["Test"]
    );
    assert!(
        logs["Migrate"].contains("Applying notes.0001_initial... OK"),
        "{}",
        logs["Migrate"]
    );
    let e = |k: &str| service_env(job, k);
    assert_migrated(
        port,
        &e("POSTGRES_USER"),
        &e("POSTGRES_PASSWORD"),
        &e("POSTGRES_DB"),
    );
}

/// The `FastAPI` pipeline's steps (install, ruff, pytest) against a real
/// `PostgreSQL`: the app's test queries the database through `DATABASE_URL`.
#[test]
fn fastapi_pipeline_steps_pass_against_real_postgres() {
    if !require(&format!("{PG_BIN}/initdb")) || !require("runuser") || !require("python3") {
        return;
    }
    let h = Harness::new();
    let dir = project(
        &h,
        "api",
        Db::Postgres,
        &[
            (
                "requirements.txt",
                &requirements(&["fastapi", "httpx", "pytest", "psycopg"]),
            ),
            (
                "ruff.toml",
                "[lint]\nselect = [\"E4\", \"E7\", \"E9\", \"F\"]\n",
            ),
            ("app/__init__.py", ""),
            (
                "app/main.py",
                "import os\n\nimport psycopg\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/db\")\n\
def db():\n    with psycopg.connect(os.environ[\"DATABASE_URL\"]) as conn:\n        \
return {\"answer\": conn.execute(\"select 6 * 7\").fetchone()[0]}\n",
            ),
            (
                "tests/test_main.py",
                "from fastapi.testclient import TestClient\n\nfrom app.main import app\n\n\ndef test_db():\n    \
response = TestClient(app).get(\"/db\")\n    assert response.status_code == 200\n    \
assert response.json() == {\"answer\": 42}\n",
            ),
        ],
    );
    h.cmd("cigen").args(["generate", "api"]).run().success();
    let doc = yaml(&dir.join(".github/workflows/test.yml"));
    let job = &doc["jobs"]["test"];
    assert_eq!(
        job["services"]["postgres"]["image"].as_str(),
        Some("postgres:15")
    );
    let e = |k: &str| service_env(job, k);
    let pg = Postgres::start(
        h.path(),
        &e("POSTGRES_USER"),
        &e("POSTGRES_PASSWORD"),
        &e("POSTGRES_DB"),
    );
    let logs = run_job_steps(&dir, job, pg.port);
    let names: Vec<&str> = logs.keys().map(String::as_str).collect();
    assert_eq!(names, ["Install dependencies", "Lint (ruff)", "Test"]);
    assert!(logs["Test"].contains("1 passed"), "{}", logs["Test"]);
}

#[test]
fn django_pipeline_steps_pass_against_real_postgres() {
    if !require(&format!("{PG_BIN}/initdb")) || !require("runuser") || !require("python3") {
        return;
    }
    let h = Harness::new();
    let (dir, job) = django_job(&h, "postgres:15");
    // The database the service container would create, from the workflow itself.
    let pg = Postgres::start(
        h.path(),
        &service_env(&job, "POSTGRES_USER"),
        &service_env(&job, "POSTGRES_PASSWORD"),
        &service_env(&job, "POSTGRES_DB"),
    );
    run_django_steps(&dir, &job, pg.port);
}

/// The GitLab job's `script:` (one shell, as the runner runs it) against the same kind of server.
#[test]
fn django_gitlab_job_script_passes_against_real_postgres() {
    if !require(&format!("{PG_BIN}/initdb")) || !require("runuser") || !require("python3") {
        return;
    }
    let h = Harness::new();
    let dir = django_project(&h, "postgres:15");
    h.cmd("cigen")
        .args(["generate", "site", "--platform", "gitlab"])
        .run()
        .success();
    let doc = yaml(&dir.join(".gitlab-ci.yml"));
    let job = &doc["test"];
    assert_eq!(job["image"].as_str(), Some("python:3.12"));
    let svc = &job["services"][0];
    assert_eq!(
        (svc["name"].as_str(), svc["alias"].as_str()),
        (Some("postgres:15"), Some("postgres"))
    );
    let e = |k: &str| svc["variables"][k].as_str().unwrap().to_string();
    let (user, password, db) = (e("POSTGRES_USER"), e("POSTGRES_PASSWORD"), e("POSTGRES_DB"));
    let pg = Postgres::start(h.path(), &user, &password, &db);
    let mut env = job_env(&job["variables"], pg.port, "postgres");
    // GitLab expands $CI_PROJECT_DIR inside variables.
    let project_dir = dir.display().to_string();
    for v in env.values_mut() {
        *v = v.replace("$CI_PROJECT_DIR", &project_dir);
    }
    env.insert("CI_PROJECT_DIR".into(), project_dir);
    let mut lines: Vec<String> = Vec::new();
    for key in ["before_script", "script"] {
        if let Some(seq) = job.get(key).and_then(Value::as_sequence) {
            lines.extend(seq.iter().map(|l| l.as_str().unwrap().to_string()));
        }
    }
    let log = run_script(&dir, &env, "GitLab test job", &lines.join("\n"));
    assert!(
        log.contains("Applying notes.0001_initial... OK") && log.contains("Ran 1 test"),
        "{log}"
    );
    assert_migrated(pg.port, &user, &password, &db);
}

/// The Node pipeline's steps with the real node and npm: `npm ci` from the
/// lock file, lint, test and build scripts, on GitHub (each `run:`) and GitLab
/// (the job's script with its npm cache folder).
#[test]
fn node_pipeline_steps_run_with_real_node() {
    if !require("node") || !require("npm") {
        return;
    }
    let h = Harness::new();
    let dir = project(
        &h,
        "worker",
        Db::None,
        &[
            (
                "package.json",
                r#"{"name":"worker","version":"1.0.0","engines":{"node":">=20"},"scripts":{"lint":"node --check index.js","test":"node --test","build":"node build.js"}}"#,
            ),
            (
                "package-lock.json",
                r#"{"name":"worker","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"worker","version":"1.0.0","engines":{"node":">=20"}}}}"#,
            ),
            ("index.js", "module.exports = (a, b) => a + b;\n"),
            (
                "test/add.test.js",
                "const test = require('node:test');\nconst assert = require('node:assert');\nconst add = require('../index.js');\ntest('adds', () => assert.strictEqual(add(2, 3), 5));\n",
            ),
            (
                "build.js",
                "require('node:fs').writeFileSync('dist.txt', 'built');\n",
            ),
        ],
    );
    h.cmd("cigen").args(["generate", "worker"]).run().success();
    h.cmd("cigen")
        .args(["generate", "worker", "--platform", "gitlab"])
        .run()
        .success();
    let doc = yaml(&dir.join(".github/workflows/test.yml"));
    let steps = doc["jobs"]["test"]["steps"].as_sequence().unwrap();
    let node = steps
        .iter()
        .find(|s| s["with"]["node-version"].is_string())
        .unwrap();
    assert_eq!(node["with"]["node-version"].as_str(), Some("20"));
    let run = |script: &str, env: &[(&str, String)]| {
        let out = Command::new("bash")
            .args([
                "--noprofile",
                "--norc",
                "-e",
                "-o",
                "pipefail",
                "-c",
                script,
            ])
            .current_dir(&dir)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .timed_output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{script}\n---\n{log}");
        log
    };
    let mut names = Vec::new();
    for step in steps {
        if let Some(script) = step.get("run").and_then(Value::as_str) {
            let log = run(script, &[]);
            if step["name"] == "Test" {
                assert!(log.contains("# pass 1"), "{log}");
            }
            names.push(step["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(names, ["Install dependencies", "Lint", "Test", "Build"]);
    assert_eq!(text(&dir.join("dist.txt")), "built");
    std::fs::remove_file(dir.join("dist.txt")).unwrap();

    let gl = yaml(&dir.join(".gitlab-ci.yml"));
    let job = &gl["test"];
    assert_eq!(job["image"].as_str(), Some("node:20"));
    let cache = job["variables"]["npm_config_cache"]
        .as_str()
        .unwrap()
        .replace("$CI_PROJECT_DIR", dir.to_str().unwrap());
    let script: Vec<&str> = job["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let log = run(&script.join("\n"), &[("npm_config_cache", cache)]);
    assert!(log.contains("# pass 1"), "{log}");
    assert_eq!(text(&dir.join("dist.txt")), "built");
    assert!(
        dir.join(".npm").is_dir(),
        "npm did not use the cached folder GitLab keeps"
    );
}

/// A container started for a test, removed when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .timed_output();
    }
}

/// Start a GitHub service definition the way the runner does: its image,
/// env and `--health-cmd`; wait until healthy; return the container and the
/// host port mapped to `port`.
fn start_service(svc: &Value, port: u16) -> (Container, u16) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let options = svc["options"].as_str().unwrap();
    let health = options
        .split("--health-cmd ")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .expect("a quoted --health-cmd in options");
    let name = format!(
        "cigen-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut run = Command::new("docker");
    run.args([
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        &format!("127.0.0.1::{port}"),
        "--health-cmd",
        health,
    ])
    .args(["--health-interval", "1s", "--health-retries", "120"]);
    if let Some(env) = svc.get("env").and_then(Value::as_mapping) {
        for (k, v) in env {
            run.arg("-e")
                .arg(format!("{}={}", k.as_str().unwrap(), v.as_str().unwrap()));
        }
    }
    let out = run
        .arg(svc["image"].as_str().unwrap())
        .timed_output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let container = Container(name.clone());
    let started = std::time::Instant::now();
    loop {
        let status = stdout_of(
            "docker",
            &["inspect", "-f", "{{.State.Health.Status}}", &name],
        );
        if status == "healthy" {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "service never became healthy ({status}): {}",
            stdout_of("docker", &["logs", &name])
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let mapped = stdout_of("docker", &["port", &name, &format!("{port}/tcp")]);
    let host_port = mapped
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("mapped port");
    (container, host_port)
}

/// The `MySQL` and `MariaDB` service definitions cigen writes start healthy with
/// their health command, and the job's `DB_*` variables log in to the database.
fn mysql_family_service_accepts_the_job_credentials(image: &str, stack_db: Db) {
    if !common::docker_ready(&[image]) || !require("mariadb") {
        return;
    }
    let h = Harness::new();
    let dir = laravel(&h, "shop", stack_db);
    h.write(
        "shop/compose.yaml",
        &format!("services:\n  db:\n    image: {image}\n"),
    );
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .success();
    let doc = yaml(&dir.join(".github/workflows/test.yml"));
    let job = &doc["jobs"]["test"];
    let id = image.split(':').next().unwrap();
    let svc = &job["services"][id];
    assert_eq!(svc["image"].as_str(), Some(image));
    let (_container, port) = start_service(svc, 3306);
    let env = job_env(&job["env"], port, "127.0.0.1");
    let out = Command::new("mariadb")
        .args([
            "-h",
            &env["DB_HOST"],
            "-P",
            &env["DB_PORT"],
            "-u",
            &env["DB_USERNAME"],
            &env["DB_DATABASE"],
        ])
        .args([
            "-N",
            "-e",
            "create table t (x int); insert into t values (42); select x from t",
        ])
        .env("MYSQL_PWD", &env["DB_PASSWORD"])
        .timed_output()
        .unwrap();
    assert!(
        out.status.success(),
        "login with the job's credentials: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
}

#[test]
fn mysql_service_container_accepts_the_job_credentials() {
    mysql_family_service_accepts_the_job_credentials("mysql:8", Db::Mysql);
}

#[test]
fn mariadb_service_container_accepts_the_job_credentials() {
    mysql_family_service_accepts_the_job_credentials("mariadb:11", Db::Mariadb);
}

/// The same steps against the test bed's `postgres:16` image, started the way
/// GitHub starts the job's service container: its env and health command.
/// Runs when a Docker engine and the image are present (the image is built by
/// tests/bed/images.sh; no registry is reachable here).
#[test]
fn django_pipeline_steps_pass_against_the_postgres_image() {
    if !common::docker_ready(&["postgres:16"])
        || !require(&format!("{PG_BIN}/psql"))
        || !require("python3")
    {
        return;
    }
    let h = Harness::new();
    let (dir, job) = django_job(&h, "postgres:16");
    let (_container, port) = start_service(&job["services"]["postgres"], 5432);
    run_django_steps(&dir, &job, port);
}
