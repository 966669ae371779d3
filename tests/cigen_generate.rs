//! `cigen generate` for every framework × platform × database combination,
//! each pipeline checked by the real validators (check-jsonschema with the
//! GitHub and GitLab schemas, shellcheck on every script, zizmor).

mod common;

use common::Harness;
use common::cigen::{
    Db, django, fastapi, generate_and_validate, github_scripts, laravel, nextjs, node_app, php_app,
    python_app, run_tool, text, validators_present, wp_plugin, wp_theme, yaml,
};

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
