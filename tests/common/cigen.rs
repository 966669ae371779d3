//! Fixtures and validators the cigen tests share: project folders per
//! framework and database, and the real validators (check-jsonschema with
//! the GitHub and GitLab schemas, shellcheck on every script, zizmor).

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_serde::Value;

use super::{Harness, Timed as _, require};

// ---------------------------------------------------------------------------
// Fixture projects

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Db {
    None,
    Postgres,
    PostgresRedis,
    Mysql,
    MysqlRedis,
    Mariadb,
    Valkey,
}

pub fn compose_for(db: Db) -> Option<String> {
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
pub fn project(h: &Harness, name: &str, db: Db, files: &[(&str, &str)]) -> PathBuf {
    for (rel, text) in files {
        h.write(&format!("{name}/{rel}"), text);
    }
    if let Some(c) = compose_for(db) {
        h.write(&format!("{name}/compose.yaml"), &c);
    }
    h.path().join(name)
}

pub const PROD_DOCKERFILE: &str =
    "FROM python:3.12-slim AS base\nWORKDIR /app\nFROM base AS production\nCOPY . .\n";

pub fn laravel(h: &Harness, name: &str, db: Db) -> PathBuf {
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

pub fn django(h: &Harness, name: &str, db: Db) -> PathBuf {
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

pub fn nextjs(h: &Harness, name: &str, db: Db, lock: &str) -> PathBuf {
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

pub fn fastapi(h: &Harness, name: &str, db: Db, manager: &str) -> PathBuf {
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

pub fn wp_theme(h: &Harness, name: &str, db: Db) -> PathBuf {
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

pub fn wp_plugin(h: &Harness, name: &str, db: Db) -> PathBuf {
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

pub fn node_app(h: &Harness, name: &str, db: Db) -> PathBuf {
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

pub fn python_app(h: &Harness, name: &str, db: Db) -> PathBuf {
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

pub fn php_app(h: &Harness, name: &str, db: Db) -> PathBuf {
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
pub fn run_tool(h: &Harness, program: &str, args: &[&str]) -> (i32, String, String) {
    let neutral = h.path().join("validators");
    std::fs::create_dir_all(&neutral).unwrap();
    let out = Command::new(program)
        .args(args)
        .current_dir(&neutral)
        .timed_output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn validators_present() -> bool {
    // Evaluate all, so every missing one is named.
    let found = [
        require("check-jsonschema"),
        require("shellcheck"),
        require("zizmor"),
    ];
    found.iter().all(|f| *f)
}

/// shellcheck one script as the runner runs it (bash, `set -e`).
pub fn shellcheck(h: &Harness, label: &str, script: &str) {
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
pub fn github_scripts(doc: &Value) -> Vec<(String, String)> {
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
pub fn gitlab_scripts(doc: &Value) -> Vec<(String, String)> {
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

pub fn yaml(path: &Path) -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The security defaults, checked directly (zizmor checks them too).
pub fn assert_secure_github(path: &Path) {
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
pub fn generate_and_validate(
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

pub fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
