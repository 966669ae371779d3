//! `cigen detect`: the framework, versions and services read from a
//! project's files, from Project JSON on stdin and from what `registry` prints.

mod common;

use std::path::Path;

use common::Harness;
use common::cigen::{
    Db, django, fastapi, laravel, nextjs, node_app, php_app, project, python_app, text, wp_plugin,
    wp_theme,
};

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
