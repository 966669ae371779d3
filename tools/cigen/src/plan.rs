//! From a detection to a pipeline plan: the language setups, the service
//! containers with their health checks, the job environment and the shell
//! steps. The plan is the same for every platform; templates lay it out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::detect::{Detection, Engine, Language, Stack};

/// Which CI platform.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Github,
    Gitlab,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Github => "github",
            Platform::Gitlab => "gitlab",
        }
    }
}

/// Test credentials of the throwaway service containers (not secrets: the
/// containers live as long as the job and listen only to it).
pub const DB_NAME: &str = "app_test";
pub const DB_USER: &str = "app";
pub const DB_PASSWORD: &str = "app";

/// One service container.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// The job-local name (GitHub service key, GitLab alias), also its host name on GitLab.
    pub id: String,
    pub engine: Engine,
    pub image: String,
    pub port: u16,
    pub env: BTreeMap<String, String>,
    /// A health command for GitHub's `--health-cmd`.
    pub health_cmd: String,
}

/// One named step of shell commands.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    /// A stable key (install, lint, migrate, test, build) tests and templates can pick.
    pub key: String,
    pub run: String,
}

/// A language setup with its dependency cache.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub version: String,
    /// For GitLab: the job image.
    pub image: String,
    /// GitHub setup-action cache mode (`npm`, `yarn`, `pip`), empty when an explicit cache step is used.
    pub cache: String,
    /// Files the cache key hashes.
    pub cache_files: Vec<String>,
    /// The folder an explicit cache step keeps (GitHub), when `cache` is empty.
    pub cache_path: String,
    /// PHP extensions (setup-php `extensions:`).
    pub extensions: String,
}

/// Everything a template needs for the test pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub stack: Stack,
    pub platform: Platform,
    pub php: Option<Setup>,
    pub node: Option<Setup>,
    pub python: Option<Setup>,
    /// The job image on GitLab (the main language's).
    pub image: String,
    pub services: Vec<Service>,
    /// Job environment (database host, names, the test credentials).
    pub env: BTreeMap<String, String>,
    /// GitLab: commands run first (system packages, PHP extensions, composer, caches).
    pub prepare: Vec<String>,
    pub steps: Vec<Step>,
    /// GitLab: folders the job caches, and the files the key hashes.
    pub cache_paths: Vec<String>,
    pub cache_key_files: Vec<String>,
    pub timeout_minutes: u32,
    /// The Python project tool installed before the steps (`uv`, `poetry`), empty for pip.
    pub python_tool: String,
}

fn step(key: &str, name: &str, lines: &[String]) -> Step {
    Step {
        key: key.into(),
        name: name.into(),
        run: lines.join("\n"),
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

/// The plan for a detection on a platform.
#[allow(clippy::too_many_lines)] // one table of per-platform, per-language setup
pub fn plan(d: &Detection, platform: Platform) -> Plan {
    let gitlab = platform == Platform::Gitlab;
    let services = services(d);
    let env = environment(d, &services, gitlab);
    let mut prepare: Vec<String> = Vec::new();
    let mut cache_paths: Vec<String> = Vec::new();
    let mut cache_key_files: Vec<String> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();

    let php = d.php.as_ref().map(|v| {
        let mut ext: Vec<&str> = vec!["mbstring", "intl", "zip"];
        for s in &services {
            match s.engine {
                Engine::Postgres => ext.push("pdo_pgsql"),
                Engine::Mysql | Engine::Mariadb => ext.push("pdo_mysql"),
                Engine::Redis | Engine::Valkey => ext.push("redis"),
            }
        }
        Setup {
            version: v.version.clone(),
            image: format!("php:{}-cli", v.version),
            cache: String::new(),
            cache_files: vec![s("composer.lock"), s("composer.json")],
            cache_path: s("~/.cache/composer"),
            extensions: ext.join(", "),
        }
    });
    let node = d.node.as_ref().map(|v| {
        let pm = d.node_package_manager.as_deref().unwrap_or("npm");
        let lock = lock_file(pm);
        let (cache, path) = match pm {
            "pnpm" => (String::new(), s("~/.local/share/pnpm/store")),
            "yarn" => (s("yarn"), String::new()),
            _ => (s("npm"), String::new()),
        };
        Setup {
            version: v.version.clone(),
            image: format!("node:{}", gitlab_tag(&v.version)),
            cache,
            cache_files: vec![s(lock)],
            cache_path: path,
            extensions: String::new(),
        }
    });
    let python = d.python.as_ref().map(|v| {
        let pm = d.python_package_manager.as_deref().unwrap_or("pip");
        let files = match pm {
            "uv" => vec![s("uv.lock")],
            "poetry" => vec![s("poetry.lock")],
            _ if !d.requirement_files.is_empty() => d.requirement_files.clone(),
            _ => vec![s("pyproject.toml")],
        };
        let (cache, path) = match pm {
            "uv" => (String::new(), s("~/.cache/uv")),
            "poetry" => (String::new(), s("~/.cache/pypoetry")),
            _ => (s("pip"), String::new()),
        };
        Setup {
            version: v.version.clone(),
            image: format!("python:{}", v.version),
            cache,
            cache_files: files,
            cache_path: path,
            extensions: String::new(),
        }
    });

    // GitLab preparation: what the setup actions do on GitHub.
    if gitlab {
        if let Some(p) = &php {
            // mbstring is built into the official images; intl and zip are not.
            let mut pkgs = vec!["git", "unzip", "libzip-dev", "libicu-dev"];
            let mut exts = vec!["intl", "zip"];
            if services.iter().any(|s| s.engine == Engine::Postgres) {
                pkgs.push("libpq-dev");
                exts.push("pdo_pgsql");
            }
            if services
                .iter()
                .any(|s| matches!(s.engine, Engine::Mysql | Engine::Mariadb))
            {
                exts.push("pdo_mysql");
            }
            prepare.push(s("apt-get update -qq"));
            prepare.push(format!(
                "apt-get install -y -qq --no-install-recommends {} > /dev/null",
                pkgs.join(" ")
            ));
            prepare.push(format!(
                "docker-php-ext-install -j\"$(nproc)\" {} > /dev/null",
                exts.join(" ")
            ));
            if services
                .iter()
                .any(|s| matches!(s.engine, Engine::Redis | Engine::Valkey))
            {
                prepare.push(s(
                    "pecl install redis > /dev/null && docker-php-ext-enable redis",
                ));
            }
            prepare.push(s(
                "curl -fsSL https://getcomposer.org/installer -o /tmp/composer-setup.php",
            ));
            prepare.push(s("php /tmp/composer-setup.php --quiet --install-dir=/usr/local/bin --filename=composer"));
            cache_paths.push(s(".cache/composer"));
            cache_key_files.extend(p.cache_files.iter().take(1).cloned());
            if d.node.is_some() {
                // Assets of a PHP project: Node from the image's Debian packages.
                prepare.push(s(
                    "apt-get install -y -qq --no-install-recommends nodejs npm > /dev/null",
                ));
                // Debian's Node has no corepack: the package manager comes from npm.
                if let Some(pm @ ("yarn" | "pnpm")) = d.node_package_manager.as_deref() {
                    prepare.push(format!("npm install -g --silent {pm}"));
                }
            }
        }
        if let Some(n) = &node
            && php.is_none()
        {
            match d.node_package_manager.as_deref() {
                Some("pnpm") => {
                    prepare.push(s("corepack enable"));
                    prepare.push(s("pnpm config set store-dir .pnpm-store"));
                    cache_paths.push(s(".pnpm-store"));
                }
                Some("yarn") => {
                    prepare.push(s("corepack enable"));
                    cache_paths.push(s(".yarn-cache"));
                }
                _ => cache_paths.push(s(".npm")),
            }
            cache_key_files.extend(n.cache_files.iter().cloned());
        }
        if let Some(p) = &python {
            match d.python_package_manager.as_deref() {
                Some("uv") => {
                    prepare.push(s("python -m pip install --quiet uv"));
                    cache_paths.push(s(".cache/uv"));
                }
                Some("poetry") => {
                    prepare.push(s("python -m pip install --quiet poetry"));
                    cache_paths.push(s(".cache/pypoetry"));
                }
                _ => cache_paths.push(s(".cache/pip")),
            }
            cache_key_files.extend(p.cache_files.iter().take(1).cloned());
        }
    } else if d.node_package_manager.as_deref() == Some("pnpm") {
        steps.push(step("prepare", "Enable pnpm", &[s("corepack enable")]));
    }

    let image = php
        .as_ref()
        .map(|p| p.image.clone())
        .or_else(|| python.as_ref().map(|p| p.image.clone()))
        .or_else(|| node.as_ref().map(|n| n.image.clone()))
        .unwrap_or_else(|| s("debian:bookworm"));

    match d.stack {
        Stack::Laravel => laravel_steps(d, &mut steps),
        Stack::WordpressTheme | Stack::WordpressPlugin => wordpress_steps(d, &mut steps),
        Stack::Php => php_steps(d, &mut steps),
        Stack::Django => {
            python_install(d, &mut steps);
            ruff_step(d, &mut steps);
            let run = python_runner(d);
            steps.push(step(
                "check",
                "Check",
                &[format!("{run}python manage.py check")],
            ));
            steps.push(step(
                "migrate",
                "Migrate",
                &[format!("{run}python manage.py migrate --noinput")],
            ));
            steps.push(step(
                "test",
                "Test",
                &[format!("{run}python manage.py test")],
            ));
        }
        Stack::Fastapi | Stack::Python => {
            python_install(d, &mut steps);
            ruff_step(d, &mut steps);
            let run = python_runner(d);
            if d.tools.contains("pytest") || d.stack == Stack::Fastapi {
                steps.push(step("test", "Test", &[format!("{run}python -m pytest")]));
            } else {
                steps.push(step(
                    "test",
                    "Test",
                    &[format!("{run}python -m unittest discover")],
                ));
            }
        }
        Stack::Nextjs | Stack::Node => node_steps(d, &mut steps, true),
        Stack::Generic => steps.push(step("test", "Test", &[s("make test")])),
    }

    Plan {
        stack: d.stack,
        platform,
        php,
        node,
        python,
        image,
        services,
        env,
        prepare,
        steps,
        cache_paths,
        cache_key_files,
        timeout_minutes: 20,
        python_tool: match d.python_package_manager.as_deref() {
            Some(t @ ("uv" | "poetry")) => t.to_string(),
            _ => String::new(),
        },
    }
}

fn lock_file(pm: &str) -> &'static str {
    match pm {
        "pnpm" => "pnpm-lock.yaml",
        "yarn" => "yarn.lock",
        _ => "package-lock.json",
    }
}

/// A Node version usable as an image tag (`lts/*` becomes `lts`).
fn gitlab_tag(v: &str) -> String {
    if v.starts_with("lts") {
        s("lts")
    } else {
        v.to_string()
    }
}

fn services(d: &Detection) -> Vec<Service> {
    d.services
        .iter()
        .map(|u| {
            let mut env = BTreeMap::new();
            let (port, health) = match u.engine {
                Engine::Postgres => {
                    env.insert(s("POSTGRES_DB"), s(DB_NAME));
                    env.insert(s("POSTGRES_USER"), s(DB_USER));
                    env.insert(s("POSTGRES_PASSWORD"), s(DB_PASSWORD));
                    (5432, format!("pg_isready -U {DB_USER}"))
                }
                Engine::Mysql => {
                    env.insert(s("MYSQL_DATABASE"), s(DB_NAME));
                    env.insert(s("MYSQL_USER"), s(DB_USER));
                    env.insert(s("MYSQL_PASSWORD"), s(DB_PASSWORD));
                    env.insert(s("MYSQL_ROOT_PASSWORD"), s(DB_PASSWORD));
                    (3306, s("mysqladmin ping -h 127.0.0.1"))
                }
                Engine::Mariadb => {
                    env.insert(s("MARIADB_DATABASE"), s(DB_NAME));
                    env.insert(s("MARIADB_USER"), s(DB_USER));
                    env.insert(s("MARIADB_PASSWORD"), s(DB_PASSWORD));
                    env.insert(s("MARIADB_ROOT_PASSWORD"), s(DB_PASSWORD));
                    (
                        3306,
                        // healthcheck.sh ships with current images; older tags have only the client.
                        s("healthcheck.sh --connect --innodb_initialized || mariadb-admin ping -h 127.0.0.1"),
                    )
                }
                Engine::Redis => (6379, s("redis-cli ping")),
                Engine::Valkey => (6379, s("valkey-cli ping")),
            };
            Service {
                id: u.engine.as_str().to_string(),
                engine: u.engine,
                image: u.image.clone(),
                port,
                env,
                health_cmd: health,
            }
        })
        .collect()
}

/// The variables a framework reads to find its database and cache.
fn environment(d: &Detection, services: &[Service], gitlab: bool) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let host = |svc: &Service| {
        if gitlab {
            svc.id.clone()
        } else {
            s("127.0.0.1")
        }
    };
    if let Some(db) = services.iter().find(|x| x.engine.is_database()) {
        let (scheme, laravel) = match db.engine {
            Engine::Postgres => ("postgres", "pgsql"),
            // Laravel has a mariadb driver from version 11; before, mysql serves both.
            Engine::Mariadb if d.framework_major.is_none_or(|m| m >= 11) => ("mysql", "mariadb"),
            _ => ("mysql", "mysql"),
        };
        let h = host(db);
        env.insert(s("DB_HOST"), h.clone());
        env.insert(s("DB_PORT"), db.port.to_string());
        env.insert(s("DB_USER"), s(DB_USER));
        env.insert(s("DB_PASSWORD"), s(DB_PASSWORD));
        env.insert(s("DB_NAME"), s(DB_NAME));
        env.insert(
            s("DATABASE_URL"),
            format!(
                "{scheme}://{DB_USER}:{DB_PASSWORD}@{h}:{}/{DB_NAME}",
                db.port
            ),
        );
        if matches!(d.stack, Stack::Laravel) {
            env.insert(s("DB_CONNECTION"), s(laravel));
            env.insert(s("DB_DATABASE"), s(DB_NAME));
            env.insert(s("DB_USERNAME"), s(DB_USER));
        }
    } else if d.stack == Stack::Laravel {
        env.insert(s("DB_CONNECTION"), s("sqlite"));
        env.insert(s("DB_DATABASE"), s(":memory:"));
    }
    if let Some(c) = services.iter().find(|x| !x.engine.is_database()) {
        let h = host(c);
        env.insert(s("REDIS_HOST"), h.clone());
        env.insert(s("REDIS_PORT"), c.port.to_string());
        env.insert(s("REDIS_URL"), format!("redis://{h}:{}/0", c.port));
    }
    if d.stack == Stack::Laravel {
        env.insert(s("APP_ENV"), s("testing"));
    }
    if d.stack == Stack::Django {
        env.insert(s("DJANGO_DEBUG"), s("0"));
    }
    if gitlab {
        match d.stack.language() {
            Some(Language::Python) => {
                let (k, v) = match d.python_package_manager.as_deref() {
                    Some("uv") => ("UV_CACHE_DIR", ".cache/uv"),
                    Some("poetry") => ("POETRY_CACHE_DIR", ".cache/pypoetry"),
                    _ => ("PIP_CACHE_DIR", ".cache/pip"),
                };
                env.insert(s(k), format!("$CI_PROJECT_DIR/{v}"));
            }
            Some(Language::Php) => {
                env.insert(
                    s("COMPOSER_CACHE_DIR"),
                    s("$CI_PROJECT_DIR/.cache/composer"),
                );
            }
            Some(Language::Node) => match d.node_package_manager.as_deref() {
                Some("yarn") => {
                    env.insert(s("YARN_CACHE_FOLDER"), s("$CI_PROJECT_DIR/.yarn-cache"));
                }
                Some("pnpm") => {}
                _ => {
                    env.insert(s("npm_config_cache"), s("$CI_PROJECT_DIR/.npm"));
                }
            },
            None => {}
        }
    }
    env
}

fn python_runner(d: &Detection) -> &'static str {
    match d.python_package_manager.as_deref() {
        Some("uv") => "uv run ",
        Some("poetry") => "poetry run ",
        _ => "",
    }
}

fn python_install(d: &Detection, steps: &mut Vec<Step>) {
    let lines: Vec<String> = match d.python_package_manager.as_deref() {
        Some("uv") => vec![s("uv sync --frozen")],
        Some("poetry") => vec![s("poetry install --no-interaction")],
        _ if !d.requirement_files.is_empty() => {
            let mut l = Vec::new();
            for r in &d.requirement_files {
                l.push(format!("python -m pip install -r {r}"));
            }
            l
        }
        _ => vec![s("python -m pip install -e .")],
    };
    steps.push(step("install", "Install dependencies", &lines));
}

/// ruff pinned: a new release can enable rules by default (0.17 added the
/// import sorting and unused-noqa checks) and fail a pipeline on code that
/// did not change.
const RUFF_INSTALL: &str = "python -m pip install ruff==0.17.6";

fn ruff_step(d: &Detection, steps: &mut Vec<Step>) {
    let lines = match d.python_package_manager.as_deref() {
        Some("uv") if d.tools.contains("ruff") => vec![s("uv run ruff check .")],
        Some("uv") => vec![s("uvx ruff check .")],
        Some("poetry") if d.tools.contains("ruff") => vec![s("poetry run ruff check .")],
        _ if d.tools.contains("ruff") => vec![s("ruff check .")],
        _ => vec![s(RUFF_INSTALL), s("ruff check .")],
    };
    steps.push(step("lint", "Lint (ruff)", &lines));
}

fn node_cmd(d: &Detection) -> (&'static str, &'static str) {
    match d.node_package_manager.as_deref() {
        Some("pnpm") => ("pnpm install --frozen-lockfile", "pnpm"),
        Some("yarn") => ("yarn install --frozen-lockfile", "yarn"),
        _ => ("npm ci", "npm"),
    }
}

/// Install, lint, test and build a Node project (or a PHP project's assets when `full` is false).
fn node_steps(d: &Detection, steps: &mut Vec<Step>, full: bool) {
    let (install, pm) = node_cmd(d);
    let has_lock = d.node_package_manager.as_deref() != Some("npm")
        || d.path.join("package-lock.json").exists();
    let install = if has_lock {
        install.to_string()
    } else {
        s("npm install")
    };
    let key = if full { "install" } else { "assets-install" };
    steps.push(step(
        key,
        if full {
            "Install dependencies"
        } else {
            "Install asset dependencies"
        },
        &[install],
    ));
    if !full {
        if d.scripts.contains("build") {
            steps.push(step("assets", "Build assets", &[format!("{pm} run build")]));
        }
        return;
    }
    if d.scripts.contains("lint") {
        steps.push(step("lint", "Lint", &[format!("{pm} run lint")]));
    } else if d.tools.contains("eslint") {
        steps.push(step(
            "lint",
            "Lint (ESLint)",
            &[s("npx --no-install eslint .")],
        ));
    }
    if d.scripts.contains("typecheck") {
        steps.push(step(
            "typecheck",
            "Type check",
            &[format!("{pm} run typecheck")],
        ));
    }
    if d.scripts.contains("test") {
        steps.push(step("test", "Test", &[format!("{pm} test")]));
    }
    if d.stack == Stack::Nextjs || d.scripts.contains("build") {
        steps.push(step("build", "Build", &[format!("{pm} run build")]));
    }
}

fn composer_install(steps: &mut Vec<Step>) {
    steps.push(step(
        "install",
        "Install dependencies",
        &[s(
            "composer install --no-interaction --prefer-dist --no-progress",
        )],
    ));
}

fn laravel_steps(d: &Detection, steps: &mut Vec<Step>) {
    composer_install(steps);
    let mut prepare = Vec::new();
    if d.env_example {
        prepare.push(s("cp .env.example .env"));
    } else {
        // key:generate replaces an APP_KEY line; it refuses a file without one.
        prepare.push(s("echo APP_KEY= > .env"));
    }
    prepare.push(s("php artisan key:generate"));
    steps.push(step("env", "Prepare environment", &prepare));
    steps.push(php_lint());
    if d.node.is_some() && d.scripts.contains("build") {
        node_steps(d, steps, false);
    }
    if d.tools.contains("pint") {
        steps.push(step(
            "lint",
            "Code style (Pint)",
            &[s("vendor/bin/pint --test")],
        ));
    }
    if d.tools.contains("phpstan") {
        steps.push(step(
            "analyse",
            "Static analysis (PHPStan)",
            &[s("vendor/bin/phpstan analyse --no-progress")],
        ));
    }
    steps.push(step(
        "migrate",
        "Migrate",
        &[s("php artisan migrate --force")],
    ));
    // `artisan test` runs PHPUnit or Pest (through nunomaduro/collision, in
    // every new Laravel app's require-dev): a project with neither has no tests to run.
    if ["phpunit", "pest", "phpunit-config"]
        .iter()
        .any(|t| d.tools.contains(*t))
    {
        steps.push(step("test", "Test", &[s("php artisan test")]));
    }
}

fn php_lint() -> Step {
    step(
        "syntax",
        "PHP syntax",
        &[s(
            "find . -name '*.php' -not -path './vendor/*' -not -path './node_modules/*' -print0 | xargs -0 -n1 php -l > /dev/null",
        )],
    )
}

fn wordpress_steps(d: &Detection, steps: &mut Vec<Step>) {
    if d.php_package_manager.is_some() {
        composer_install(steps);
    }
    steps.push(php_lint());
    if d.tools.contains("phpcs") {
        steps.push(step(
            "lint",
            "Coding standards (PHPCS)",
            &[s("vendor/bin/phpcs")],
        ));
    }
    if d.node.is_some() {
        node_steps(d, steps, false);
    }
    if d.tools.contains("phpunit") && d.tools.contains("phpunit-config") {
        let mut lines = Vec::new();
        if d.tools.contains("wp-tests") && d.services.iter().any(|s| s.engine.is_database()) {
            lines.push(s("bash bin/install-wp-tests.sh \"$DB_NAME\" \"$DB_USER\" \"$DB_PASSWORD\" \"$DB_HOST:$DB_PORT\" latest true"));
        }
        lines.push(s("vendor/bin/phpunit"));
        steps.push(step("test", "Test", &lines));
    }
}

fn php_steps(d: &Detection, steps: &mut Vec<Step>) {
    if d.php_package_manager.is_some() {
        composer_install(steps);
        steps.push(step(
            "validate",
            "Validate composer.json",
            &[s("composer validate --no-check-publish")],
        ));
    }
    steps.push(php_lint());
    if d.tools.contains("phpstan") {
        steps.push(step(
            "analyse",
            "Static analysis (PHPStan)",
            &[s("vendor/bin/phpstan analyse --no-progress")],
        ));
    }
    if d.tools.contains("pest") {
        steps.push(step("test", "Test", &[s("vendor/bin/pest")]));
    } else if d.tools.contains("phpunit") {
        steps.push(step("test", "Test", &[s("vendor/bin/phpunit")]));
    }
}
