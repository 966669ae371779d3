//! `cigen` against the real validators (check-jsonschema with the GitHub and
//! GitLab schemas, shellcheck on every script, zizmor), a real `PostgreSQL`
//! running the Django pipeline's steps, and bad input.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Harness, require};
use serde_yaml::Value;

// ---------------------------------------------------------------------------
// Fixture projects

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Db {
    None,
    Postgres,
    PostgresRedis,
    Mysql,
    MysqlRedis,
    Mariadb,
    Valkey,
}

fn compose_for(db: Db) -> Option<String> {
    let mut services =
        String::from("services:\n  app:\n    build: .\n    ports: [\"8000:8000\"]\n");
    let add = |s: &mut String, name: &str, image: &str| {
        use std::fmt::Write as _;
        let _ = write!(s, "  {name}:\n    image: {image}\n");
    };
    match db {
        Db::None => return None,
        Db::Postgres => add(&mut services, "db", "postgres:15"),
        Db::PostgresRedis => {
            add(&mut services, "db", "postgres:16-alpine");
            add(&mut services, "cache", "redis:7.2");
        }
        Db::Mysql => add(&mut services, "db", "mysql:8.4"),
        Db::MysqlRedis => {
            add(&mut services, "db", "mysql:8.0");
            add(&mut services, "redis", "redis:7");
        }
        Db::Mariadb => add(&mut services, "db", "mariadb:11.4"),
        Db::Valkey => add(&mut services, "cache", "valkey/valkey:8"),
    }
    Some(services)
}

/// Write `files` under `h/name` plus the compose file for `db`; return the folder.
fn project(h: &Harness, name: &str, db: Db, files: &[(&str, &str)]) -> PathBuf {
    for (rel, text) in files {
        h.write(&format!("{name}/{rel}"), text);
    }
    if let Some(c) = compose_for(db) {
        h.write(&format!("{name}/compose.yaml"), &c);
    }
    h.path().join(name)
}

const PROD_DOCKERFILE: &str =
    "FROM python:3.12-slim AS base\nWORKDIR /app\nFROM base AS production\nCOPY . .\n";

fn laravel(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            ("artisan", "#!/usr/bin/env php\n<?php\n"),
            (
                "composer.json",
                r#"{"require":{"php":"^8.2","laravel/framework":"^11.0"},"require-dev":{"laravel/pint":"^1.13","larastan/larastan":"^2.9","phpunit/phpunit":"^11"}}"#,
            ),
            ("composer.lock", "{}"),
            (".env.example", "APP_NAME=shop\n"),
            (
                "package.json",
                r#"{"private":true,"scripts":{"build":"vite build","dev":"vite"},"devDependencies":{"vite":"^5"}}"#,
            ),
            ("package-lock.json", "{}"),
            (
                "Dockerfile",
                "FROM php:8.3-fpm AS base\nFROM base AS production\n",
            ),
        ],
    )
}

fn django(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            ("manage.py", "#!/usr/bin/env python\n"),
            ("requirements.txt", "django>=4.2\npsycopg[binary]>=3.1\n"),
            ("requirements-dev.txt", "ruff\n"),
            ("Dockerfile", PROD_DOCKERFILE),
        ],
    )
}

fn nextjs(h: &Harness, name: &str, db: Db, lock: &str) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            (
                "package.json",
                r#"{"name":"web","engines":{"node":">=20.11"},"scripts":{"dev":"next dev","build":"next build","lint":"next lint","test":"vitest run"},"dependencies":{"next":"15.0.0","react":"19.0.0"},"devDependencies":{"eslint":"^9","eslint-config-next":"15.0.0"}}"#,
            ),
            (lock, "lock\n"),
            (
                "Dockerfile",
                "FROM node:20-alpine AS deps\nFROM deps AS production\n",
            ),
        ],
    )
}

fn fastapi(h: &Harness, name: &str, db: Db, manager: &str) -> PathBuf {
    let (lock, pyproject) = match manager {
        "uv" => (
            "uv.lock",
            "[project]\nname = \"api\"\nrequires-python = \">=3.11\"\ndependencies = [\"fastapi>=0.110\", \"sqlalchemy\"]\n\n[dependency-groups]\ndev = [\"pytest\", \"ruff\"]\n",
        ),
        _ => (
            "poetry.lock",
            "[tool.poetry]\nname = \"api\"\n\n[tool.poetry.dependencies]\npython = \"^3.10\"\nfastapi = \"^0.110\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n",
        ),
    };
    project(
        h,
        name,
        db,
        &[
            ("pyproject.toml", pyproject),
            (lock, "# lock\n"),
            ("Dockerfile", PROD_DOCKERFILE),
        ],
    )
}

fn wp_theme(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            ("style.css", "/*\nTheme Name: Harbour\nVersion: 1.0\n*/\n"),
            ("functions.php", "<?php\n"),
            (
                "composer.json",
                r#"{"require":{"php":">=8.1"},"require-dev":{"wp-coding-standards/wpcs":"^3.0"}}"#,
            ),
            (
                "package.json",
                r#"{"scripts":{"build":"wp-scripts build"},"devDependencies":{"@wordpress/scripts":"^27"}}"#,
            ),
            ("yarn.lock", "# yarn\n"),
            (".nvmrc", "v18.19.0\n"),
        ],
    )
}

fn wp_plugin(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            (
                "harbour-forms.php",
                "<?php\n/**\n * Plugin Name: Harbour Forms\n * Version: 0.1\n */\n",
            ),
            (
                "composer.json",
                r#"{"require":{"php":"^7.4 || ^8.0"},"require-dev":{"phpunit/phpunit":"^9","squizlabs/php_codesniffer":"^3"}}"#,
            ),
            ("phpunit.xml.dist", "<phpunit/>\n"),
            ("bin/install-wp-tests.sh", "#!/bin/bash\n"),
        ],
    )
}

fn node_app(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            (
                "package.json",
                r#"{"name":"worker","scripts":{"test":"node --test","lint":"eslint ."},"devDependencies":{"eslint":"^9"}}"#,
            ),
            ("yarn.lock", "# yarn\n"),
            (".node-version", "22.3.0\n"),
        ],
    )
}

fn python_app(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"tool\"\nrequires-python = \">=3.12\"\ndependencies = [\"click\"]\n",
            ),
            ("requirements.txt", "click\npytest\n"),
        ],
    )
}

fn php_app(h: &Harness, name: &str, db: Db) -> PathBuf {
    project(
        h,
        name,
        db,
        &[
            (
                "composer.json",
                r#"{"require":{"php":"~8.1.0"},"require-dev":{"phpstan/phpstan":"^1","phpunit/phpunit":"^10"}}"#,
            ),
            ("src/App.php", "<?php\n"),
        ],
    )
}

// ---------------------------------------------------------------------------
// Validation with the real validators

/// Run a validator from a neutral folder (pyenv shims read `.python-version` from the working folder).
fn run_tool(h: &Harness, program: &str, args: &[&str]) -> (i32, String, String) {
    let neutral = h.path().join("validators");
    std::fs::create_dir_all(&neutral).unwrap();
    let out = Command::new(program)
        .args(args)
        .current_dir(&neutral)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn validators_present() -> bool {
    // Evaluate all, so every missing one is named.
    let found = [
        require("check-jsonschema"),
        require("shellcheck"),
        require("zizmor"),
    ];
    found.iter().all(|f| *f)
}

/// shellcheck one script as the runner runs it (bash, `set -e`).
fn shellcheck(h: &Harness, label: &str, script: &str) {
    let dir = h.path().join("scripts");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "{}.sh",
        label.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    std::fs::write(&file, format!("#!/bin/bash\nset -e\n{script}\n")).unwrap();
    let (code, out, err) = run_tool(h, "shellcheck", &["--shell=bash", file.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "shellcheck failed on {label}:\n{script}\n---\n{out}{err}"
    );
}

/// Every `run:` of a GitHub workflow, with its step name.
fn github_scripts(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (job_name, job) in doc["jobs"].as_mapping().expect("jobs") {
        // A job calling a reusable workflow (deploy calls test.yml) has no steps of its own.
        let Some(steps) = job.get("steps").and_then(Value::as_sequence) else {
            assert!(
                job["uses"].as_str().is_some_and(|u| u.starts_with("./")),
                "{job:?}"
            );
            continue;
        };
        for step in steps {
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                let name = step.get("name").and_then(Value::as_str).unwrap_or("step");
                out.push((
                    format!("{}-{name}", job_name.as_str().unwrap()),
                    run.to_string(),
                ));
            }
        }
    }
    out
}

/// Every `before_script` + `script` of a GitLab pipeline, per job.
fn gitlab_scripts(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, job) in doc.as_mapping().unwrap() {
        let Some(job) = job.as_mapping() else {
            continue;
        };
        let mut lines = Vec::new();
        for key in ["before_script", "script", "after_script"] {
            if let Some(seq) = job.get(key).and_then(Value::as_sequence) {
                lines.extend(
                    seq.iter()
                        .map(|l| l.as_str().expect("script line").to_string()),
                );
            }
        }
        if !lines.is_empty() {
            out.push((name.as_str().unwrap().to_string(), lines.join("\n")));
        }
    }
    out
}

fn yaml(path: &Path) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The security defaults, checked directly (zizmor checks them too).
fn assert_secure_github(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = yaml(path);
    assert_eq!(
        doc["permissions"]["contents"].as_str(),
        Some("read"),
        "{}",
        path.display()
    );
    assert_eq!(
        doc["permissions"].as_mapping().unwrap().len(),
        1,
        "workflow-level permissions are contents: read only"
    );
    assert_eq!(
        doc["concurrency"]["cancel-in-progress"].as_bool(),
        Some(true)
    );
    for (name, job) in doc["jobs"].as_mapping().unwrap() {
        // A call of the project's own test workflow: its jobs carry the timeouts.
        if let Some(uses) = job.get("uses").and_then(Value::as_str) {
            assert_eq!(uses, "./.github/workflows/test.yml");
            continue;
        }
        assert!(
            job["timeout-minutes"].as_u64().is_some(),
            "job {name:?} has no timeout"
        );
        for step in job["steps"].as_sequence().unwrap() {
            if let Some(uses) = step.get("uses").and_then(Value::as_str) {
                let sha = uses.split('@').nth(1).expect("uses has @");
                assert!(
                    sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                    "{uses} is not pinned to a SHA"
                );
                if uses.starts_with("actions/checkout@") {
                    assert_eq!(step["with"]["persist-credentials"].as_bool(), Some(false));
                }
            }
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                assert!(!run.contains("${{"), "expression inside run: {run}");
            }
        }
    }
    // The version comment beside each pin (local workflows are not pinned).
    for line in text
        .lines()
        .filter(|l| l.contains("uses:") && !l.contains("uses: ./"))
    {
        assert!(line.contains(" # v"), "no version comment: {line}");
    }
}

/// Generate a pipeline into `dir` and validate it with every real validator.
fn generate_and_validate(
    h: &Harness,
    dir: &Path,
    platform: &str,
    deploy: bool,
    extra: &[&str],
) -> Vec<PathBuf> {
    let mut args = vec![
        "generate",
        dir.to_str().unwrap(),
        "--platform",
        platform,
        "--json",
    ];
    if deploy {
        args.push("--deploy");
    }
    args.extend(extra);
    let run = h.cmd("cigen").args(&args).run().success();
    let rows = run.json();
    let files: Vec<PathBuf> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| PathBuf::from(r["path"].as_str().unwrap()))
        .collect();
    let expected = match (platform, deploy) {
        ("github", true) => 2,
        _ => 1,
    };
    assert_eq!(files.len(), expected, "{rows}");
    for f in &files {
        assert!(f.is_file(), "{} not written", f.display());
        let f_str = f.to_str().unwrap();
        let schema = if platform == "github" {
            "vendor.github-workflows"
        } else {
            "vendor.gitlab-ci"
        };
        let (code, out, err) =
            run_tool(h, "check-jsonschema", &["--builtin-schema", schema, f_str]);
        assert_eq!(
            code,
            0,
            "check-jsonschema {schema} rejects {}:\n{out}{err}\n{}",
            f.display(),
            std::fs::read_to_string(f).unwrap()
        );
        let doc = yaml(f);
        let scripts = if platform == "github" {
            github_scripts(&doc)
        } else {
            gitlab_scripts(&doc)
        };
        assert!(!scripts.is_empty(), "no scripts in {}", f.display());
        for (label, script) in scripts {
            shellcheck(
                h,
                &format!("{}-{label}", dir.file_name().unwrap().to_string_lossy()),
                &script,
            );
        }
        if platform == "github" {
            assert_secure_github(f);
        }
    }
    if platform == "github" {
        let workflows = dir.join(".github/workflows");
        let (code, out, err) = run_tool(
            h,
            "zizmor",
            &[
                "--offline",
                "--format",
                "json",
                "--min-severity",
                "medium",
                workflows.to_str().unwrap(),
            ],
        );
        let findings: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("zizmor output is not JSON ({e}): {out}\n{err}"));
        assert_eq!(
            findings.as_array().map(Vec::len),
            Some(0),
            "zizmor findings (medium or high):\n{findings:#}"
        );
        assert_eq!(code, 0, "zizmor exit {code}: {err}");
    }
    files
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

// ---------------------------------------------------------------------------
// Framework × platform × database combinations (15)

#[test]
fn combo_django_github_postgres_redis_deploy() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = django(&h, "dj", Db::PostgresRedis);
    let files = generate_and_validate(&h, &dir, "github", true, &[]);
    let t = text(&files[0]);
    for want in [
        "image: \"postgres:16-alpine\"",
        "image: \"redis:7.2\"",
        "python manage.py migrate --noinput",
        "python manage.py test",
        "ruff check .",
    ] {
        assert!(t.contains(want), "lacks {want}:\n{t}");
    }
    let d = text(&files[1]);
    assert!(
        d.contains("target: production")
            && d.contains("secrets.DEPLOY_SSH_KEY")
            && d.contains("uses: ./.github/workflows/test.yml")
            && d.contains("needs: test"),
        "{d}"
    );
}

#[test]
fn combo_django_gitlab_postgres_deploy() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    let files = generate_and_validate(&h, &dir, "gitlab", true, &[]);
    let doc = yaml(&files[0]);
    assert_eq!(
        doc["test"]["services"][0]["name"].as_str(),
        Some("postgres:15")
    );
    assert_eq!(
        doc["test"]["variables"]["DB_HOST"].as_str(),
        Some("postgres")
    );
    assert!(
        doc["build-image"]["script"][0]
            .as_str()
            .unwrap()
            .contains("--target production")
    );
    assert!(
        doc["deploy"]["script"][0]
            .as_str()
            .unwrap()
            .contains("ssh ")
    );
}

#[test]
fn combo_laravel_github_mysql_redis() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = laravel(&h, "shop", Db::MysqlRedis);
    let files = generate_and_validate(&h, &dir, "github", false, &[]);
    let t = text(&files[0]);
    for want in [
        "image: \"mysql:8.0\"",
        "php-version: \"8.2\"",
        "pdo_mysql",
        "vendor/bin/pint --test",
        "vendor/bin/phpstan analyse",
        "php artisan migrate --force",
        "php artisan test",
        "npm run build",
        "DB_CONNECTION: \"mysql\"",
    ] {
        assert!(t.contains(want), "lacks {want}:\n{t}");
    }
}

#[test]
fn combo_laravel_gitlab_postgres_deploy() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = laravel(&h, "shop", Db::Postgres);
    let files = generate_and_validate(&h, &dir, "gitlab", true, &[]);
    let t = text(&files[0]);
    assert!(
        t.contains("pdo_pgsql")
            && t.contains("php artisan test")
            && t.contains("image: \"php:8.2-cli\""),
        "{t}"
    );
}

#[test]
fn combo_laravel_github_mariadb_deploy() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = laravel(&h, "shop", Db::Mariadb);
    let files = generate_and_validate(&h, &dir, "github", true, &[]);
    let t = text(&files[0]);
    assert!(
        t.contains("image: \"mariadb:11.4\"") && t.contains("DB_CONNECTION: \"mariadb\""),
        "{t}"
    );
}

/// Laravel before 11 has no `mariadb` driver: `MariaDB` is reached through `mysql`.
#[test]
fn laravel_10_reaches_mariadb_through_the_mysql_driver() {
    let h = Harness::new();
    let dir = laravel(&h, "old", Db::Mariadb);
    h.write(
        "old/composer.json",
        r#"{"require":{"php":"^8.1","laravel/framework":"^10.10"}}"#,
    );
    let run = h
        .cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--dry-run"])
        .run()
        .success();
    assert!(
        run.stdout.contains("DB_CONNECTION: \"mysql\"") && run.stdout.contains("mariadb:11.4"),
        "{}",
        run.stdout
    );
}

#[test]
fn combo_nextjs_github_postgres_pnpm_deploy() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = nextjs(&h, "web", Db::Postgres, "pnpm-lock.yaml");
    let files = generate_and_validate(&h, &dir, "github", true, &[]);
    let t = text(&files[0]);
    for want in [
        "corepack enable",
        "pnpm install --frozen-lockfile",
        "pnpm run lint",
        "pnpm test",
        "pnpm run build",
        "node-version: \"20\"",
    ] {
        assert!(t.contains(want), "lacks {want}:\n{t}");
    }
}

#[test]
fn combo_nextjs_gitlab_nodb_npm() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = nextjs(&h, "web", Db::None, "package-lock.json");
    let files = generate_and_validate(&h, &dir, "gitlab", false, &[]);
    let doc = yaml(&files[0]);
    assert_eq!(doc["test"]["image"].as_str(), Some("node:20"));
    assert!(doc["test"].get("services").is_none());
}

#[test]
fn combo_fastapi_github_postgres_uv() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = fastapi(&h, "api", Db::Postgres, "uv");
    let files = generate_and_validate(&h, &dir, "github", false, &[]);
    let t = text(&files[0]);
    for want in [
        "uv sync --frozen",
        "uv run ruff check .",
        "uv run python -m pytest",
        "python-version: \"3.11\"",
        "hashFiles('uv.lock')",
    ] {
        assert!(t.contains(want), "lacks {want}:\n{t}");
    }
}

#[test]
fn combo_fastapi_gitlab_valkey_poetry_deploy() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = fastapi(&h, "api", Db::Valkey, "poetry");
    let files = generate_and_validate(&h, &dir, "gitlab", true, &[]);
    let doc = yaml(&files[0]);
    assert_eq!(
        doc["test"]["services"][0]["name"].as_str(),
        Some("valkey:8")
    );
    assert_eq!(doc["test"]["image"].as_str(), Some("python:3.10"));
}

#[test]
fn combo_wordpress_theme_github_mariadb() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = wp_theme(&h, "theme", Db::Mariadb);
    let files = generate_and_validate(&h, &dir, "github", false, &[]);
    let t = text(&files[0]);
    for want in [
        "php-version: \"8.1\"",
        "node-version: \"18.19.0\"",
        "cache: yarn",
        "yarn run build",
        "vendor/bin/phpcs",
        "php -l",
    ] {
        assert!(t.contains(want), "lacks {want}:\n{t}");
    }
}

#[test]
fn combo_wordpress_theme_gitlab_nodb_yarn() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = wp_theme(&h, "theme", Db::None);
    let files = generate_and_validate(&h, &dir, "gitlab", false, &[]);
    let doc = yaml(&files[0]);
    assert_eq!(doc["test"]["image"].as_str(), Some("php:8.1-cli"));
    let prepare: Vec<&str> = doc["test"]["before_script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        prepare
            .iter()
            .any(|l| l.contains("npm install -g --silent yarn")),
        "{prepare:?}"
    );
    assert!(text(&files[0]).contains("yarn run build"));
}

#[test]
fn combo_wordpress_plugin_gitlab_mysql() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = wp_plugin(&h, "plugin", Db::Mysql);
    let files = generate_and_validate(&h, &dir, "gitlab", false, &[]);
    let t = text(&files[0]);
    assert!(
        t.contains("bin/install-wp-tests.sh")
            && t.contains("vendor/bin/phpunit")
            && t.contains("mysql:8.4"),
        "{t}"
    );
}

#[test]
fn combo_wordpress_plugin_github_mysql() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = wp_plugin(&h, "plugin", Db::Mysql);
    generate_and_validate(&h, &dir, "github", false, &[]);
}

#[test]
fn combo_node_github_redis_yarn() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = node_app(&h, "worker", Db::PostgresRedis);
    let files = generate_and_validate(&h, &dir, "github", false, &[]);
    let t = text(&files[0]);
    assert!(
        t.contains("node-version: \"22.3.0\"")
            && t.contains("yarn test")
            && t.contains("REDIS_URL"),
        "{t}"
    );
}

#[test]
fn combo_python_gitlab_postgres() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = python_app(&h, "tool", Db::Postgres);
    let files = generate_and_validate(&h, &dir, "gitlab", false, &[]);
    let t = text(&files[0]);
    assert!(
        t.contains("python -m pytest") && t.contains("python:3.12"),
        "{t}"
    );
}

#[test]
fn combo_php_github_mysql() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let dir = php_app(&h, "lib", Db::Mysql);
    let files = generate_and_validate(&h, &dir, "github", false, &[]);
    let t = text(&files[0]);
    assert!(
        t.contains("php-version: \"8.1\"") && t.contains("vendor/bin/phpunit"),
        "{t}"
    );
}

#[test]
fn combo_generic_github_and_gitlab_when_asked() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    std::fs::create_dir_all(h.path().join("empty")).unwrap();
    let dir = h.path().join("empty");
    let files = generate_and_validate(&h, &dir, "github", false, &["--stack", "generic"]);
    assert!(text(&files[0]).contains("make test"));
    generate_and_validate(&h, &dir, "gitlab", false, &["--stack", "generic"]);
}

/// The checks above can fail: the same validators reject a workflow with the
/// mistakes cigen avoids (an expression in a script, a token kept by checkout,
/// an unquoted variable, a schema error).
#[test]
fn validators_reject_an_insecure_workflow() {
    if !validators_present() {
        return;
    }
    let h = Harness::new();
    let bad = h.write(
        "bad/.github/workflows/test.yml",
        "name: Test\non: pull_request_target\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      \
         - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      \
         - run: echo \"${{ github.event.pull_request.title }}\" && echo $HOME\n",
    );
    let (_, out, _) = run_tool(
        &h,
        "zizmor",
        &[
            "--offline",
            "--format",
            "json",
            "--min-severity",
            "medium",
            bad.parent().unwrap().to_str().unwrap(),
        ],
    );
    let findings: serde_json::Value = serde_json::from_str(&out).unwrap();
    let idents: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["ident"].as_str())
        .collect();
    for want in ["template-injection", "dangerous-triggers", "unpinned-uses"] {
        assert!(idents.contains(&want), "zizmor missed {want}: {idents:?}");
    }
    let doc = yaml(&bad);
    let (_, script) = github_scripts(&doc).pop().unwrap();
    let file = h.write("bad.sh", &format!("#!/bin/bash\nset -e\n{script}\n"));
    let (code, out, _) = run_tool(&h, "shellcheck", &["--shell=bash", file.to_str().unwrap()]);
    assert_ne!(code, 0, "shellcheck passed an unquoted $HOME");
    assert!(out.contains("SC2086"), "{out}");
    let gl = h.write(
        "bad/.gitlab-ci.yml",
        "test:\n  script: make test\n  timeout: [20]\n",
    );
    let (code, _, _) = run_tool(
        &h,
        "check-jsonschema",
        &["--builtin-schema", "vendor.gitlab-ci", gl.to_str().unwrap()],
    );
    assert_ne!(code, 0, "check-jsonschema passed a list as timeout");
}

// ---------------------------------------------------------------------------
// Detection

fn detect(h: &Harness, dir: &Path) -> serde_json::Value {
    h.cmd("cigen")
        .args(["detect", dir.to_str().unwrap(), "--json"])
        .run()
        .success()
        .json()
}

#[test]
#[allow(clippy::too_many_lines)] // one fixture per framework, read back in turn
fn detects_each_framework_with_versions_from_files() {
    let h = Harness::new();
    let d = detect(&h, &laravel(&h, "laravel", Db::MysqlRedis));
    assert_eq!(d["stack"], "laravel");
    assert_eq!(d["php"]["version"], "8.2");
    assert_eq!(d["php"]["source"], "composer.json");
    assert_eq!(d["node_package_manager"], "npm");
    assert_eq!(d["php_package_manager"], "composer");
    let images: Vec<&str> = d["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["mysql:8.0", "redis:7"]);
    assert!(d["tools"].as_array().unwrap().iter().any(|t| t == "pint"));
    assert_eq!(d["framework_major"], 11);

    let d = detect(&h, &django(&h, "django", Db::Postgres));
    assert_eq!(d["stack"], "django");
    assert_eq!(d["python"]["version"], "3.12", "from the Dockerfile: {d}");
    assert_eq!(d["python"]["source"], "Dockerfile");
    assert_eq!(d["python_package_manager"], "pip");
    assert_eq!(d["docker_target"], "production");
    h.write("django/.python-version", "3.11.9\n");
    let d = detect(&h, &h.path().join("django"));
    assert_eq!(d["python"]["version"], "3.11.9");
    assert_eq!(d["python"]["source"], ".python-version");

    let d = detect(&h, &nextjs(&h, "next", Db::None, "pnpm-lock.yaml"));
    assert_eq!(d["stack"], "nextjs");
    assert_eq!(d["node"]["version"], "20");
    assert_eq!(d["node"]["source"], "package.json engines.node");
    assert_eq!(d["node_package_manager"], "pnpm");

    let d = detect(&h, &fastapi(&h, "fa-uv", Db::None, "uv"));
    assert_eq!(
        (d["stack"].as_str(), d["python"]["version"].as_str()),
        (Some("fastapi"), Some("3.11"))
    );
    assert_eq!(d["python_package_manager"], "uv");
    let d = detect(&h, &fastapi(&h, "fa-poetry", Db::None, "poetry"));
    assert_eq!(d["python"]["version"], "3.10");
    assert_eq!(d["python_package_manager"], "poetry");

    let d = detect(&h, &wp_theme(&h, "theme", Db::Mariadb));
    assert_eq!(d["stack"], "wordpress-theme");
    assert_eq!(d["php"]["version"], "8.1");
    assert_eq!(d["node"]["version"], "18.19.0");
    assert_eq!(d["node"]["source"], ".nvmrc");
    assert_eq!(d["node_package_manager"], "yarn");
    assert_eq!(d["services"][0]["image"], "mariadb:11.4");

    let d = detect(&h, &wp_plugin(&h, "plugin", Db::None));
    assert_eq!(d["stack"], "wordpress-plugin");
    assert_eq!(d["php"]["version"], "7.4");

    let d = detect(&h, &node_app(&h, "node", Db::Valkey));
    assert_eq!(
        (d["stack"].as_str(), d["node"]["version"].as_str()),
        (Some("node"), Some("22.3.0"))
    );
    assert_eq!(d["services"][0]["image"], "valkey:8");

    let d = detect(&h, &python_app(&h, "py", Db::None));
    assert_eq!(
        (d["stack"].as_str(), d["python"]["version"].as_str()),
        (Some("python"), Some("3.12"))
    );

    let d = detect(&h, &php_app(&h, "php", Db::None));
    assert_eq!(
        (d["stack"].as_str(), d["php"]["version"].as_str()),
        (Some("php"), Some("8.1"))
    );

    // A WordPress theme without composer.json: PHP from the Dockerfile.
    let dir = project(
        &h,
        "bare-theme",
        Db::None,
        &[
            ("style.css", "/* Theme Name: Bare */\n"),
            (
                "Dockerfile",
                "FROM wordpress:6 AS base\nFROM php:8.0-apache\n",
            ),
        ],
    );
    let d = detect(&h, &dir);
    assert_eq!(
        (d["php"]["version"].as_str(), d["php"]["source"].as_str()),
        (Some("8.0"), Some("Dockerfile"))
    );
    // Defaults are labelled as such.
    let dir = project(
        &h,
        "plain-next",
        Db::None,
        &[("package.json", r#"{"dependencies":{"next":"15"}}"#)],
    );
    let d = detect(&h, &dir);
    assert_eq!(
        (d["node"]["version"].as_str(), d["node"]["source"].as_str()),
        (Some("22"), Some("default"))
    );
}

#[test]
fn project_json_on_stdin_gives_path_and_services() {
    let h = Harness::new();
    let dir = project(
        &h,
        "svc",
        Db::None,
        &[("manage.py", ""), ("requirements.txt", "django\n")],
    );
    let input = serde_json::json!({"name": "svc", "path": dir, "stack": "django", "services": ["app", "postgres", "redis"]});
    let d = h
        .cmd("cigen")
        .args(["detect", "-", "--json"])
        .stdin(input.to_string())
        .run()
        .success()
        .json();
    assert_eq!(d["stack"], "django");
    let images: Vec<&str> = d["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["postgres:16", "redis:7"]);
    // Absent PATH with Project JSON piped in: the same.
    let run = h
        .cmd("cigen")
        .args(["generate", "--dry-run"])
        .stdin(input.to_string())
        .run()
        .success();
    assert!(
        run.stdout.contains("POSTGRES_DB")
            && run
                .stdout
                .contains(&dir.join(".github/workflows/test.yml").display().to_string()),
        "{}",
        run.stdout
    );
    assert!(!dir.join(".github").exists(), "--dry-run wrote files");
}

/// Composes with the registry: `registry show NAME --json | cigen generate -`
/// and `registry list --json | cigen generate` for every project at once.
#[test]
fn reads_what_the_registry_prints() {
    let h = Harness::new();
    let shop = laravel(&h, "shop", Db::Postgres);
    let api = fastapi(&h, "api", Db::Valkey, "uv");
    h.cmd("registry")
        .args(["add", shop.to_str().unwrap(), "--stack", "laravel"])
        .run()
        .success();
    h.cmd("registry")
        .args(["add", api.to_str().unwrap()])
        .run()
        .success();
    let run = h
        .sh("registry show shop --json | cigen generate - --json")
        .run()
        .success();
    assert!(
        run.stdout.contains("shop/.github/workflows/test.yml"),
        "{}",
        run.stdout
    );
    assert!(text(&shop.join(".github/workflows/test.yml")).contains("image: \"postgres:15\""));
    let run = h
        .sh("registry list --json | cigen generate --platform gitlab --json")
        .run()
        .success();
    let rows = run.json();
    let stacks: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stack"].as_str().unwrap())
        .collect();
    assert_eq!(stacks.len(), 2, "{rows}");
    assert!(
        stacks.contains(&"laravel") && stacks.contains(&"fastapi"),
        "{rows}"
    );
    assert!(text(&api.join(".gitlab-ci.yml")).contains("valkey:8"));
}

// ---------------------------------------------------------------------------
// Bad input and safety

#[test]
fn empty_folder_is_an_error_unless_generic_is_asked() {
    let h = Harness::new();
    std::fs::create_dir_all(h.path().join("empty")).unwrap();
    h.cmd("cigen")
        .args(["generate", "empty"])
        .run()
        .code_is(2)
        .stderr_has("cigen: error: no project found in empty")
        .stderr_has("hint: pass --stack generic");
    assert!(!h.path().join("empty/.github").exists());
    h.cmd("cigen")
        .args(["generate", "empty", "--stack", "generic"])
        .run()
        .success()
        .stdout_has("created");
    assert!(text(&h.path().join("empty/.github/workflows/test.yml")).contains("make test"));
}

#[test]
fn conflicting_signals_name_both_and_hint_stack() {
    let h = Harness::new();
    let dir = laravel(&h, "both", Db::None);
    h.write("both/manage.py", "");
    let run = h
        .cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .code_is(2);
    let run = run
        .stderr_has("conflicting signals")
        .stderr_has("laravel (artisan")
        .stderr_has("django (manage.py)");
    run.stderr_has("hint: pass --stack");
    assert!(!dir.join(".github").exists());
    // The user's choice settles it.
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--stack", "django"])
        .run()
        .success();
    assert!(text(&dir.join(".github/workflows/test.yml")).contains("manage.py test"));
}

#[test]
fn unreadable_files_are_errors_naming_the_file() {
    let h = Harness::new();
    let dir = project(
        &h,
        "broken",
        Db::None,
        &[("artisan", ""), ("composer.json", "{\"require\": ")],
    );
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .code_is(2)
        .stderr_has("invalid JSON in")
        .stderr_has("broken/composer.json");
    let dir = project(&h, "badcompose", Db::None, &[("manage.py", "")]);
    h.write("badcompose/compose.yaml", "services: [\n");
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .code_is(2)
        .stderr_has("compose.yaml");
    h.cmd("cigen")
        .args(["generate", "nowhere"])
        .run()
        .code_is(2)
        .stderr_has("cannot read project folder nowhere");

    // A file the user cannot read (as root, read as `nobody`, since root reads everything).
    let dir = project(&h, "locked", Db::None, &[("package.json", "{}")]);
    let pkg = dir.join("package.json");
    set_mode(&pkg, 0o000);
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let run = if as_root {
        if !require("setpriv") {
            return;
        }
        for p in [h.path(), &dir] {
            set_mode(p, 0o755);
        }
        let out = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(common::bin("cigen"))
            .args(["generate", dir.to_str().unwrap(), "--dry-run"])
            .env("BERTH_HOME", "/nonexistent")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        common::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    } else {
        h.cmd("cigen")
            .args(["generate", dir.to_str().unwrap(), "--dry-run"])
            .run()
    };
    run.code_is(2)
        .stderr_has("cannot read")
        .stderr_has("locked/package.json")
        .stderr_has("ermission denied");
}

/// Odd but valid files never crash detection: wrong JSON types, binary
/// headers, empty version files. Each run ends 0 or 2, never a panic.
#[test]
fn odd_files_never_panic() {
    let h = Harness::new();
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("a", &[("package.json", "[]")]),
        (
            "b",
            &[(
                "package.json",
                r#"{"engines":"node","scripts":[1],"dependencies":{"next":7}}"#,
            )],
        ),
        (
            "c",
            &[
                ("composer.json", r#"{"require":{"php":8}}"#),
                ("artisan", ""),
            ],
        ),
        (
            "d",
            &[
                ("style.css", "\u{0}\u{1}Theme Name:\n"),
                ("x.php", "Plugin Name"),
            ],
        ),
        (
            "e",
            &[
                ("pyproject.toml", "[project\nrequires-python = \n"),
                (".python-version", "\n\n"),
            ],
        ),
        ("f", &[("package.json", "{}"), (".nvmrc", "lts/*\n")]),
        (
            "g",
            &[
                ("requirements.txt", "fastapi"),
                (
                    "Dockerfile",
                    "FROM\nFROM python:\nFROM --platform=x python:abc\n",
                ),
            ],
        ),
        ("h", &[("package.json", "\"just a string\"")]),
    ];
    for (name, files) in cases {
        let dir = project(&h, name, Db::None, files);
        for args in [
            vec!["detect", "--json"],
            vec!["generate", "--dry-run"],
            vec!["generate", "--dry-run", "--platform", "gitlab"],
        ] {
            let run = h.cmd("cigen").args(&args).arg(&dir).run();
            assert!(
                run.code == 0 || run.code == 2,
                "{name} {args:?}: exit {}\n{}",
                run.code,
                run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
            if run.code == 2 {
                assert!(
                    run.stderr.starts_with("cigen: error: "),
                    "{name}: {}",
                    run.stderr
                );
            }
        }
    }
    // lts/* from .nvmrc becomes the node:lts image on GitLab.
    let run = h
        .cmd("cigen")
        .args(["generate", "--dry-run", "--platform", "gitlab"])
        .arg(h.path().join("f"))
        .run()
        .success();
    assert!(run.stdout.contains("image: \"node:lts\""), "{}", run.stdout);
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn existing_files_are_kept_without_force_and_dry_run_writes_nothing() {
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    h.write("dj/.github/workflows/test.yml", "name: mine\n");
    h.cmd("cigen")
        .args(["generate", "dj"])
        .run()
        .code_is(2)
        .stderr_has("test.yml exists; nothing written")
        .stderr_has("--force");
    assert_eq!(
        text(&dir.join(".github/workflows/test.yml")),
        "name: mine\n"
    );
    let run = h
        .cmd("cigen")
        .args(["generate", "dj", "--dry-run"])
        .run()
        .success();
    assert!(
        run.stdout
            .contains("# cigen: would write dj/.github/workflows/test.yml")
            && run.stdout.contains("python manage.py test")
    );
    assert_eq!(
        text(&dir.join(".github/workflows/test.yml")),
        "name: mine\n"
    );
    let docs = h
        .cmd("cigen")
        .args(["generate", "dj", "--dry-run", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(docs[0]["action"], "would-overwrite", "{docs}");
    assert!(
        docs[0]["content"]
            .as_str()
            .unwrap()
            .contains("python manage.py test")
    );
    assert_eq!(
        text(&dir.join(".github/workflows/test.yml")),
        "name: mine\n"
    );
    h.cmd("cigen")
        .args(["generate", "dj", "--force", "--json"])
        .run()
        .success()
        .stdout_has("\"overwritten\"");
    assert!(text(&dir.join(".github/workflows/test.yml")).contains("python manage.py test"));
    // GitLab goes to its own file.
    h.cmd("cigen")
        .args(["generate", "dj", "--platform", "gitlab"])
        .run()
        .success();
    assert!(dir.join(".gitlab-ci.yml").is_file());
}

#[test]
fn deploy_without_a_production_stage_builds_the_last_stage_with_a_warning() {
    let h = Harness::new();
    let dir = project(
        &h,
        "onestage",
        Db::None,
        &[
            ("manage.py", ""),
            ("requirements.txt", "django\n"),
            ("Dockerfile", "FROM python:3.12-slim\n"),
        ],
    );
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--deploy"])
        .run()
        .success()
        .stderr_has("cigen: warning:")
        .stderr_has("no production stage");
    let deploy = text(&dir.join(".github/workflows/deploy.yml"));
    assert!(!deploy.contains("target:"), "{deploy}");
}

#[test]
fn deploy_needs_a_dockerfile() {
    let h = Harness::new();
    let dir = project(&h, "nodock", Db::None, &[("manage.py", "")]);
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--deploy"])
        .run()
        .code_is(2)
        .stderr_has("no Dockerfile")
        .stderr_has("hint:");
    assert!(!dir.join(".github").exists());
}

#[test]
fn user_templates_override_the_embedded_ones() {
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    let tpl = h.path().join("tpl");
    h.write(
        "home/config.yaml",
        &format!("templates: {}\n", tpl.display()),
    );
    h.write(
        "tpl/ci/github/test.yml",
        "# mine for {{ plan.stack }}\nname: Mine\non: push\njobs: {}\n",
    );
    let run = h
        .cmd("cigen")
        .args(["generate", "dj", "--json"])
        .run()
        .success();
    assert!(
        run.stdout.contains("tpl/ci/github/test.yml"),
        "{}",
        run.stdout
    );
    assert!(text(&dir.join(".github/workflows/test.yml")).starts_with("# mine for django\n"));
    // A broken template is an error naming it; nothing is written.
    h.write("tpl/ci/gitlab/gitlab-ci.yml", "{% for x in %}\n");
    h.cmd("cigen")
        .args(["generate", "dj", "--platform", "gitlab"])
        .run()
        .code_is(2)
        .stderr_has("invalid template")
        .stderr_has("tpl/ci/gitlab/gitlab-ci.yml");
    assert!(!dir.join(".gitlab-ci.yml").exists());
}

#[test]
fn secrets_lists_every_secret_the_deploy_pipelines_use() {
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    h.cmd("cigen")
        .args(["generate", "dj", "--deploy"])
        .run()
        .success();
    let list = h
        .cmd("cigen")
        .args(["secrets", "--json"])
        .run()
        .success()
        .json();
    let names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    let deploy = text(&dir.join(".github/workflows/deploy.yml"));
    let mut used = Vec::new();
    for prefix in ["secrets.", "vars."] {
        for (i, _) in deploy.match_indices(prefix) {
            let name: String = deploy[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.push(name);
        }
    }
    assert!(used.contains(&"DEPLOY_SSH_KEY".to_string()), "{used:?}");
    for name in used.iter().filter(|n| *n != "GITHUB_TOKEN") {
        assert!(
            names.contains(name),
            "{name} is used by deploy.yml but not listed by `cigen secrets`"
        );
    }
    // Secrets reach scripts only through env:, never as literals or expressions in run:.
    let doc = yaml(&dir.join(".github/workflows/deploy.yml"));
    for (_, script) in github_scripts(&doc) {
        assert!(!script.contains("secrets."), "{script}");
    }
    let gl = h
        .cmd("cigen")
        .args(["secrets", "--platform", "gitlab"])
        .run()
        .success();
    assert!(
        gl.stdout.contains("DEPLOY_KNOWN_HOSTS") && !gl.stdout.contains("REGISTRY_PASSWORD"),
        "{}",
        gl.stdout
    );
    // GitLab: every $DEPLOY_* variable the pipeline reads is listed.
    h.cmd("cigen")
        .args(["generate", "dj", "--deploy", "--platform", "gitlab"])
        .run()
        .success();
    let pipeline = text(&dir.join(".gitlab-ci.yml"));
    let listed = h
        .cmd("cigen")
        .args(["secrets", "--platform", "gitlab", "--json"])
        .run()
        .success()
        .json();
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut seen = 0;
    for (i, _) in pipeline.match_indices("$DEPLOY_") {
        let name: String = pipeline[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            listed.contains(&name.as_str()),
            "{name} is used by .gitlab-ci.yml but not listed"
        );
        seen += 1;
    }
    assert!(seen >= 5, "{pipeline}");
}

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
        let uid = cmd_out("id", &["-u", "postgres"]).parse::<u32>().unwrap();
        let gid = cmd_out("id", &["-g", "postgres"]).parse::<u32>().unwrap();
        chown(&base, Some(uid), Some(gid)).unwrap();
        let data = base.join("data");
        let pwfile = base.join("pw");
        std::fs::write(&pwfile, format!("{password}\n")).unwrap();
        chown(&pwfile, Some(uid), Some(gid)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
            .output()
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
            .output();
    }
}

fn cmd_out(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn as_postgres(program: &str, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", program])
        .args(args)
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A virtualenv with Django, psycopg and ruff, built once (`PyPI`) and kept under `target/`.
fn django_venv() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/cigen-test-venv");
        let ready = venv.join(".ready-3");
        if ready.is_file() {
            return venv;
        }
        let _ = std::fs::remove_dir_all(&venv);
        let out = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .current_dir("/")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "venv: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "django>=4.2",
                "psycopg[binary]>=3.1",
                "ruff",
                "fastapi",
                "httpx",
                "pytest",
            ])
            .current_dir("/")
            .output()
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
        ("requirements.txt", "django>=4.2\npsycopg[binary]>=3.1\n"),
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
        .output()
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
        .output()
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
                "fastapi\nhttpx\npytest\npsycopg[binary]>=3.1\n",
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
            .output()
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
            .output();
    }
}

/// Whether Docker runs and has `image` (the test bed builds it; no registry is reachable).
fn docker_has(image: &str) -> bool {
    // A bonus check: it never fails for want of Docker, even under CI=true.
    let ok = Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: no Docker engine or no {image} image (build it with tests/bed/images.sh)"
        );
    }
    ok
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
    let out = run.arg(svc["image"].as_str().unwrap()).output().unwrap();
    assert!(
        out.status.success(),
        "docker run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let container = Container(name.clone());
    let started = std::time::Instant::now();
    loop {
        let status = cmd_out(
            "docker",
            &["inspect", "-f", "{{.State.Health.Status}}", &name],
        );
        if status == "healthy" {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "service never became healthy ({status}): {}",
            cmd_out("docker", &["logs", &name])
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let mapped = cmd_out("docker", &["port", &name, &format!("{port}/tcp")]);
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
    if !docker_has(image) || !require("mariadb") {
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
        .output()
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
    if !docker_has("postgres:16") || !require(&format!("{PG_BIN}/psql")) || !require("python3") {
        return;
    }
    let h = Harness::new();
    let (dir, job) = django_job(&h, "postgres:16");
    let (_container, port) = start_service(&job["services"]["postgres"], 5432);
    run_django_steps(&dir, &job, port);
}
