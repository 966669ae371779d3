//! Reading a project folder: which framework, which language versions, which
//! package manager, which databases and caches. Pure reads; nothing is written.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use berth::cli::error_with_hint;
use berth::compose;
use berth::framework::{Framework, has_python_dep};
use serde::Serialize;
use serde_json::Value;

/// The kinds of project cigen knows a pipeline for.
#[allow(clippy::doc_markdown)] // help text: product names without backticks
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Stack {
    /// Laravel: artisan and laravel/framework in composer.json
    Laravel,
    /// A WordPress theme: style.css with a Theme Name header
    WordpressTheme,
    /// A WordPress plugin: a PHP file with a Plugin Name header
    WordpressPlugin,
    /// Django: manage.py
    Django,
    /// Next.js: next in package.json
    Nextjs,
    /// FastAPI: fastapi in pyproject.toml or requirements*.txt
    Fastapi,
    /// A Node project without a known framework.
    Node,
    /// A Python project without a known framework.
    Python,
    /// A PHP project without a known framework.
    Php,
    /// No language: checkout and `make test`.
    Generic,
}

impl Stack {
    pub fn as_str(self) -> &'static str {
        match self {
            Stack::Laravel => "laravel",
            Stack::WordpressTheme => "wordpress-theme",
            Stack::WordpressPlugin => "wordpress-plugin",
            Stack::Django => "django",
            Stack::Nextjs => "nextjs",
            Stack::Fastapi => "fastapi",
            Stack::Node => "node",
            Stack::Python => "python",
            Stack::Php => "php",
            Stack::Generic => "generic",
        }
    }

    /// The stack named by a Project's `stack` field (stackgen's names and ours).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "laravel" => Stack::Laravel,
            "wordpress" | "wordpress-theme" | "wp-theme" => Stack::WordpressTheme,
            "wordpress-plugin" | "wp-plugin" => Stack::WordpressPlugin,
            "django" => Stack::Django,
            "nextjs" | "next" | "next.js" => Stack::Nextjs,
            "fastapi" => Stack::Fastapi,
            "node" | "nodejs" => Stack::Node,
            "python" => Stack::Python,
            "php" => Stack::Php,
            "generic" => Stack::Generic,
            _ => return None,
        })
    }

    pub fn language(self) -> Option<Language> {
        match self {
            Stack::Laravel | Stack::WordpressTheme | Stack::WordpressPlugin | Stack::Php => {
                Some(Language::Php)
            }
            Stack::Django | Stack::Fastapi | Stack::Python => Some(Language::Python),
            Stack::Nextjs | Stack::Node => Some(Language::Node),
            Stack::Generic => None,
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Php,
    Node,
    Python,
}

/// A language version and the file it was read from.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Version {
    pub version: String,
    /// The file it came from, or `default`.
    pub source: String,
}

impl Version {
    fn default_of(v: &str) -> Self {
        Self {
            version: v.into(),
            source: "default".into(),
        }
    }
}

/// Database and cache engines a pipeline runs as service containers.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Postgres,
    Mysql,
    Mariadb,
    Redis,
    Valkey,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
            Engine::Redis => "redis",
            Engine::Valkey => "valkey",
        }
    }

    /// The engine an image runs, from its repository name.
    fn from_image(image: &str) -> Option<(Self, Option<String>)> {
        let no_digest = image.split('@').next().unwrap_or(image);
        // The tag is after the last ':' that comes after the last '/'.
        let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
        let (repo, tag) = match last.split_once(':') {
            Some((r, t)) => (r, Some(t.to_string())),
            None => (last, None),
        };
        let engine = match repo {
            "postgres" | "postgresql" | "postgis" => Engine::Postgres,
            "mysql" | "mysql-server" => Engine::Mysql,
            "mariadb" => Engine::Mariadb,
            "redis" | "redis-stack-server" => Engine::Redis,
            "valkey" => Engine::Valkey,
            _ => return None,
        };
        Some((engine, tag.filter(|t| !t.is_empty())))
    }

    /// A service name that says which engine it is (Project JSON without images).
    fn from_service_name(name: &str) -> Option<Self> {
        match name {
            "postgres" | "postgresql" | "pgsql" | "db-postgres" => Some(Engine::Postgres),
            "mysql" => Some(Engine::Mysql),
            "mariadb" => Some(Engine::Mariadb),
            "redis" | "cache" => Some(Engine::Redis),
            "valkey" => Some(Engine::Valkey),
            _ => None,
        }
    }

    pub fn default_tag(self) -> &'static str {
        match self {
            Engine::Postgres => "16",
            Engine::Mysql => "8.0",
            Engine::Mariadb => "11",
            Engine::Redis => "7",
            Engine::Valkey => "8",
        }
    }

    pub fn is_database(self) -> bool {
        matches!(self, Engine::Postgres | Engine::Mysql | Engine::Mariadb)
    }
}

/// A database or cache the project uses.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceUse {
    pub engine: Engine,
    /// The image the pipeline runs, e.g. `postgres:16`.
    pub image: String,
    /// Where it was found: the compose service, or `project`.
    pub source: String,
}

/// Everything cigen read from a project.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub path: PathBuf,
    pub stack: Stack,
    pub php: Option<Version>,
    pub node: Option<Version>,
    pub python: Option<Version>,
    /// npm, pnpm or yarn (for a Node project or a PHP project's assets).
    pub node_package_manager: Option<String>,
    /// pip, uv or poetry.
    pub python_package_manager: Option<String>,
    /// composer.
    pub php_package_manager: Option<String>,
    pub services: Vec<ServiceUse>,
    /// Tools found in the project's dependencies: pint, phpstan, phpcs, phpunit, eslint, ruff, pytest.
    pub tools: BTreeSet<String>,
    /// package.json scripts (names).
    pub scripts: BTreeSet<String>,
    /// Python requirement files found (requirements.txt, requirements-dev.txt).
    pub requirement_files: Vec<String>,
    /// Whether `.env.example` exists (Laravel copies it).
    pub env_example: bool,
    /// The major version of the framework package, when its constraint names one
    /// (laravel/framework in composer.json, next in package.json).
    pub framework_major: Option<u32>,
    /// The Dockerfile stage a deploy builds, when the project has a Dockerfile.
    pub dockerfile: Option<String>,
    pub docker_target: Option<String>,
    /// What the decision rests on, for humans.
    pub evidence: Vec<String>,
}

/// A framework signal: which stack, and the file that says so.
struct Signal {
    stack: Stack,
    evidence: String,
}

/// Reads files of one folder, failing on anything but "not found".
struct Folder<'a> {
    dir: &'a Path,
}

impl Folder<'_> {
    fn read(&self, name: &str) -> anyhow::Result<Option<String>> {
        let path = self.dir.join(name);
        match berth::fsread::read_bounded(&path, berth::fsread::TEXT_LIMIT) {
            Ok(bytes) => Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned())),
            Err(_) if path.is_dir() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exists(&self, name: &str) -> bool {
        self.dir.join(name).exists()
    }

    fn json(&self, name: &str) -> anyhow::Result<Option<Value>> {
        let Some(text) = self.read(name)? else {
            return Ok(None);
        };
        let path = self.dir.join(name);
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("invalid JSON in {}", path.display()))
    }
}

/// What a caller knows beyond the folder: a forced stack, a Project's services.
#[derive(Debug, Default)]
pub struct Hints {
    pub stack: Option<Stack>,
    /// Stack named by Project JSON (a hint, not an order: conflicting files still win an error).
    pub project_stack: Option<String>,
    pub compose_files: Vec<PathBuf>,
    pub service_names: Vec<String>,
}

/// The manifests of a project folder, read once, that the steps look at.
struct Manifests<'a> {
    f: Folder<'a>,
    /// The folder's entry names.
    entries: Vec<String>,
    composer: Option<Value>,
    package: Option<Value>,
    pyproject: Option<String>,
    /// `requirements*.txt`, sorted.
    requirement_files: Vec<String>,
    /// pyproject.toml and the requirement files, lowercased.
    python_deps: String,
}

impl<'a> Manifests<'a> {
    fn read(dir: &'a Path) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(dir)
            .with_context(|| format!("cannot read project folder {}", dir.display()))?;
        if !meta.is_dir() {
            return Err(anyhow!("{} is not a folder", dir.display()));
        }
        // An unreadable folder is an error here, not an empty project.
        let entries: Vec<String> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot list project folder {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let f = Folder { dir };
        let composer = f.json("composer.json")?;
        let package = f.json("package.json")?;
        let pyproject = f.read("pyproject.toml")?;
        let mut requirement_files: Vec<String> = entries
            .iter()
            .filter(|n| n.starts_with("requirements") && has_ext(n, "txt"))
            .cloned()
            .collect();
        requirement_files.sort();
        let mut requirements = String::new();
        for r in &requirement_files {
            requirements.push_str(&f.read(r)?.unwrap_or_default());
            requirements.push('\n');
        }
        let python_deps = format!(
            "{}\n{}",
            pyproject.as_deref().unwrap_or_default(),
            requirements
        )
        .to_ascii_lowercase();
        Ok(Self {
            f,
            entries,
            composer,
            package,
            pyproject,
            requirement_files,
            python_deps,
        })
    }

    fn composer_has(&self, name: &str) -> bool {
        self.composer.as_ref().is_some_and(|c| {
            ["require", "require-dev"]
                .iter()
                .any(|k| c.get(k).and_then(|r| r.get(name)).is_some())
        })
    }

    fn package_has(&self, name: &str) -> bool {
        self.package.as_ref().is_some_and(|p| {
            ["dependencies", "devDependencies"]
                .iter()
                .any(|k| p.get(k).and_then(|r| r.get(name)).is_some())
        })
    }
}

/// Read the project in `dir`.
///
/// One pass over the folder's files, in the order the signals are documented.
pub fn detect(dir: &Path, hints: &Hints) -> anyhow::Result<Detection> {
    let m = Manifests::read(dir)?;
    let signals = signals(&m)?;
    let recorded = recorded_stack(&m, hints);
    let stack = choose_stack(dir, hints, &signals, recorded)?;
    let mut evidence: Vec<String> = signals
        .iter()
        .filter(|s| s.stack == stack)
        .map(|s| s.evidence.clone())
        .collect();
    if hints.stack.is_some() {
        evidence.insert(0, "--stack".into());
    } else if evidence.is_empty() && recorded == Some(stack) {
        evidence.push(format!("stack {stack} recorded for the project"));
    }

    let f = &m.f;
    let dockerfile_text = f.read("Dockerfile")?;
    let dockerfile = dockerfile_text.as_deref();
    let language = stack.language();
    let wants_node = language == Some(Language::Node)
        || (language == Some(Language::Php) && m.package.is_some());
    let php = (language == Some(Language::Php)).then(|| php_version(&m, dockerfile));
    let node = wants_node.then(|| node_version(&m, dockerfile));
    let python = if language == Some(Language::Python) {
        Some(python_version(&m, dockerfile)?)
    } else {
        None
    };

    // Package managers.
    let node_package_manager = wants_node.then(|| {
        if f.exists("pnpm-lock.yaml") {
            "pnpm"
        } else if f.exists("yarn.lock") {
            "yarn"
        } else {
            "npm"
        }
        .to_string()
    });
    let python_package_manager = (language == Some(Language::Python)).then(|| {
        if f.exists("uv.lock") {
            "uv"
        } else if f.exists("poetry.lock") {
            "poetry"
        } else {
            "pip"
        }
        .to_string()
    });
    let php_package_manager =
        (language == Some(Language::Php) && m.composer.is_some()).then(|| "composer".to_string());

    let tools = tools(&m);
    let scripts = m
        .package
        .as_ref()
        .and_then(|p| p.get("scripts"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let framework_major = framework_major(&m, stack);
    let services = services(dir, hints)?;
    let docker_target = dockerfile.and_then(production_stage);

    Ok(Detection {
        path: dir.to_path_buf(),
        stack,
        php,
        node,
        python,
        node_package_manager,
        python_package_manager,
        php_package_manager,
        services,
        tools,
        scripts,
        requirement_files: m.requirement_files,
        env_example: f.exists(".env.example"),
        framework_major,
        dockerfile: dockerfile_text.is_some().then(|| "Dockerfile".to_string()),
        docker_target,
        evidence,
    })
}

/// The framework signals, in the documented order; the generic languages
/// only when no framework is recognised.
fn signals(m: &Manifests<'_>) -> anyhow::Result<Vec<Signal>> {
    let f = &m.f;
    let mut signals: Vec<Signal> = Vec::new();
    let mut push = |stack, evidence: String| signals.push(Signal { stack, evidence });
    // The frameworks, as every berth tool sees them (`berth::framework`).
    let frameworks = berth::framework::detect(f.dir)?;
    let framework = |fw: Framework| frameworks.contains(&fw).then(|| fw.signals().to_owned());
    if let Some(e) = framework(Framework::Laravel) {
        push(Stack::Laravel, e);
    }
    let theme = f
        .read("style.css")?
        .is_some_and(|style| header_value(&style, "Theme Name").is_some());
    if theme {
        push(
            Stack::WordpressTheme,
            "style.css with a Theme Name header".into(),
        );
    }
    for name in m.entries.iter().filter(|n| has_ext(n, "php")) {
        if let Some(text) = f.read(name)?
            && header_value(&text, "Plugin Name").is_some()
        {
            push(
                Stack::WordpressPlugin,
                format!("{name} with a Plugin Name header"),
            );
            break;
        }
    }
    // A WordPress site: the pipeline of its theme and plugin code.
    if let Some(e) = framework(Framework::Wordpress)
        && !theme
    {
        push(Stack::WordpressTheme, format!("{e} (a WordPress site)"));
    }
    if let Some(e) = framework(Framework::Django) {
        push(Stack::Django, e);
    }
    if let Some(e) = framework(Framework::Nextjs) {
        push(Stack::Nextjs, e);
    }
    if let Some(e) = framework(Framework::Fastapi) {
        push(Stack::Fastapi, e);
    }
    let is_python =
        m.pyproject.is_some() || !m.requirement_files.is_empty() || f.exists("setup.py");
    if signals.is_empty() {
        // Generic languages, only when no framework is recognised.
        if m.package.is_some() {
            signals.push(Signal {
                stack: Stack::Node,
                evidence: "package.json".into(),
            });
        }
        if is_python {
            signals.push(Signal {
                stack: Stack::Python,
                evidence: "Python project files".into(),
            });
        }
        if m.composer.is_some() {
            signals.push(Signal {
                stack: Stack::Php,
                evidence: "composer.json".into(),
            });
        }
    }
    Ok(signals)
}

/// The stack: `--stack`, else the one signal, else the Project's stack when
/// there is no signal; no signal or several are an error.
/// The stack the registry or stackgen (`.berth/stackgen.json`) recorded: it
/// names the framework where the files only show the language (an app over
/// Debian's Laravel, a `WordPress` site's empty `wp-content`).
fn recorded_stack(m: &Manifests<'_>, hints: &Hints) -> Option<Stack> {
    match &hints.project_stack {
        Some(s) => Stack::from_name(s),
        None => {
            m.f.json(".berth/stackgen.json")
                .ok()
                .flatten()
                .and_then(|v| v.get("stack")?.as_str().and_then(Stack::from_name))
        }
    }
    .filter(|s| *s != Stack::Generic)
}

fn choose_stack(
    dir: &Path,
    hints: &Hints,
    signals: &[Signal],
    recorded: Option<Stack>,
) -> anyhow::Result<Stack> {
    if let Some(s) = hints.stack {
        return Ok(s);
    }
    let generic = [Stack::Node, Stack::Python, Stack::Php];
    match signals {
        [one]
            if generic.contains(&one.stack)
                && recorded.is_some_and(|r| r.language() == one.stack.language()) =>
        {
            Ok(recorded.unwrap_or(one.stack))
        }
        [] => match recorded {
            Some(s) => Ok(s),
            None => Err(error_with_hint(
                format!(
                    "no project found in {}: no artisan, manage.py, package.json, composer.json, pyproject.toml, requirements.txt, style.css or plugin header",
                    dir.display()
                ),
                "pass --stack generic for a generic pipeline (checkout and `make test`), or --stack NAME to choose one",
            )),
        },
        [one] => Ok(one.stack),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|s| format!("{} ({})", s.stack, s.evidence))
                .collect();
            Err(error_with_hint(
                format!(
                    "conflicting signals in {}: {}",
                    dir.display(),
                    list.join(" and ")
                ),
                format!(
                    "pass --stack {} (or another stack) to say which pipeline to generate",
                    many.iter()
                        .map(|s| s.stack.as_str())
                        .collect::<Vec<_>>()
                        .join(" or --stack ")
                ),
            ))
        }
    }
}

/// PHP: composer.json's `require.php`, else the Dockerfile, else 8.3.
fn php_version(m: &Manifests<'_>, dockerfile: Option<&str>) -> Version {
    m.composer
        .as_ref()
        .and_then(|c| c.pointer("/require/php"))
        .and_then(Value::as_str)
        .and_then(|c| first_version(c, 2))
        .map(|v| Version {
            version: v,
            source: "composer.json".into(),
        })
        .or_else(|| from_dockerfile(dockerfile, "php"))
        .unwrap_or_else(|| Version::default_of("8.3"))
}

/// Node: .nvmrc or .node-version, else package.json's `engines.node`, else
/// the Dockerfile, else 22.
fn node_version(m: &Manifests<'_>, dockerfile: Option<&str>) -> Version {
    let nvmrc = [".nvmrc", ".node-version"]
        .iter()
        .find_map(|n| m.f.read(n).ok().flatten().map(|t| (n, t)))
        .and_then(|(n, t)| {
            let v = t
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .trim_start_matches('v')
                .to_string();
            (!v.is_empty()).then(|| Version {
                version: v,
                source: (*n).to_string(),
            })
        });
    nvmrc
        .or_else(|| {
            m.package
                .as_ref()
                .and_then(|p| p.pointer("/engines/node"))
                .and_then(Value::as_str)
                .and_then(|c| first_version(c, 1))
                .map(|v| Version {
                    version: v,
                    source: "package.json engines.node".into(),
                })
        })
        .or_else(|| from_dockerfile(dockerfile, "node"))
        .unwrap_or_else(|| Version::default_of("22"))
}

/// Python: .python-version, else pyproject.toml's `requires-python`, else
/// the Dockerfile, else 3.12.
fn python_version(m: &Manifests<'_>, dockerfile: Option<&str>) -> anyhow::Result<Version> {
    let file = m.f.read(".python-version")?.and_then(|t| {
        let v = t.lines().next().unwrap_or("").trim().to_string();
        (!v.is_empty()).then(|| Version {
            version: v,
            source: ".python-version".into(),
        })
    });
    Ok(file
        .or_else(|| {
            m.pyproject
                .as_deref()
                .and_then(requires_python)
                .map(|v| Version {
                    version: v,
                    source: "pyproject.toml requires-python".into(),
                })
        })
        .or_else(|| from_dockerfile(dockerfile, "python"))
        .unwrap_or_else(|| Version::default_of("3.12")))
}

/// Tools with a convention, found in the dependencies and config files.
fn tools(m: &Manifests<'_>) -> BTreeSet<String> {
    let f = &m.f;
    let mut tools = BTreeSet::new();
    for (pkg, tool) in [
        ("laravel/pint", "pint"),
        ("phpstan/phpstan", "phpstan"),
        ("larastan/larastan", "phpstan"),
        ("nunomaduro/larastan", "phpstan"),
        ("squizlabs/php_codesniffer", "phpcs"),
        ("wp-coding-standards/wpcs", "phpcs"),
        ("phpunit/phpunit", "phpunit"),
        ("pestphp/pest", "pest"),
    ] {
        if m.composer_has(pkg) {
            tools.insert(tool.to_string());
        }
    }
    if m.package_has("eslint") || m.package_has("eslint-config-next") {
        tools.insert("eslint".into());
    }
    if has_python_dep(&m.python_deps, "pytest") {
        tools.insert("pytest".into());
    }
    if has_python_dep(&m.python_deps, "ruff")
        || m.python_deps.contains("[tool.ruff")
        || f.exists("ruff.toml")
    {
        tools.insert("ruff".into());
    }
    if f.exists("phpunit.xml") || f.exists("phpunit.xml.dist") {
        tools.insert("phpunit-config".into());
    }
    if f.exists("bin/install-wp-tests.sh") {
        tools.insert("wp-tests".into());
    }
    tools
}

/// The framework package's major version (laravel/framework, next).
fn framework_major(m: &Manifests<'_>, stack: Stack) -> Option<u32> {
    match stack {
        Stack::Laravel => m
            .composer
            .as_ref()
            .and_then(|c| c.pointer("/require/laravel~1framework"))
            .and_then(Value::as_str)
            .and_then(|c| first_version(c, 1)),
        Stack::Nextjs => m
            .package
            .as_ref()
            .and_then(|p| {
                p.pointer("/dependencies/next")
                    .or_else(|| p.pointer("/devDependencies/next"))
            })
            .and_then(Value::as_str)
            .and_then(|c| first_version(c, 1)),
        _ => None,
    }
    .and_then(|v| v.parse().ok())
}

/// The databases and caches: from the compose files (the Project's or the
/// folder's), else from the Project's service names.
fn services(dir: &Path, hints: &Hints) -> anyhow::Result<Vec<ServiceUse>> {
    let loaded = if hints.compose_files.is_empty() {
        let env = compose::Env::for_dir(dir)?;
        let files = compose::discover(dir, &env)?;
        if files.is_empty() {
            None
        } else {
            Some(compose::load_files(&files, &env)?)
        }
    } else {
        let files: Vec<PathBuf> = hints
            .compose_files
            .iter()
            .map(|f| {
                if f.is_absolute() {
                    f.clone()
                } else {
                    dir.join(f)
                }
            })
            .collect();
        let env = compose::Env::for_dir(dir)?;
        Some(compose::load_files(&files, &env)?)
    };
    let mut out: Vec<ServiceUse> = Vec::new();
    let mut push = |s: ServiceUse| {
        if !out.iter().any(|o| o.engine == s.engine) {
            out.push(s);
        }
    };
    if let Some(c) = loaded {
        for svc in &c.services {
            let Some(image) = &svc.image else { continue };
            if let Some((engine, tag)) = Engine::from_image(image) {
                let tag = tag
                    .filter(|t| t != "latest")
                    .unwrap_or_else(|| engine.default_tag().to_string());
                push(ServiceUse {
                    engine,
                    image: format!("{}:{tag}", engine.as_str()),
                    source: svc.name.clone(),
                });
            }
        }
    }
    for name in &hints.service_names {
        if let Some(engine) = Engine::from_service_name(name) {
            push(ServiceUse {
                engine,
                image: format!("{}:{}", engine.as_str(), engine.default_tag()),
                source: format!("project service {name}"),
            });
        }
    }
    out.sort_by_key(|s| s.engine);
    Ok(out)
}

/// The value of a `WordPress` file header (`Theme Name: X`) in the first 8 KiB.
fn header_value(text: &str, key: &str) -> Option<String> {
    let head: String = text.chars().take(8192).collect();
    head.lines().find_map(|line| {
        let l = line
            .trim_start_matches(|c: char| c == '*' || c == '#' || c == '/' || c.is_whitespace());
        let rest = l.strip_prefix(key)?;
        let value = rest.trim_start().strip_prefix(':')?.trim();
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Whether a file name has the extension `ext` (any case).
fn has_ext(name: &str, ext: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The first version number in a constraint (`^8.2`, `>=18.17`, `~=3.11`),
/// cut to `parts` components.
fn first_version(constraint: &str, parts: usize) -> Option<String> {
    let start = constraint.find(|c: char| c.is_ascii_digit())?;
    let rest = &constraint[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let nums: Vec<&str> = rest[..end]
        .split('.')
        .filter(|s| !s.is_empty())
        .take(parts)
        .collect();
    (!nums.is_empty()).then(|| nums.join("."))
}

/// `requires-python` from pyproject.toml (`[project]` table, or poetry's
/// `python` dependency), parsed as TOML; `None` when absent or not TOML.
fn requires_python(text: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let project = doc.get("project").and_then(|p| p.get("requires-python"));
    let poetry = || {
        doc.get("tool")?
            .get("poetry")?
            .get("dependencies")?
            .get("python")
    };
    project
        .or_else(poetry)
        .and_then(toml::Value::as_str)
        .and_then(|v| first_version(v, 2))
}

/// The language version of the first `FROM <lang>:<tag>` of a Dockerfile.
fn from_dockerfile(text: Option<&str>, lang: &str) -> Option<Version> {
    text?.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if !words.next()?.eq_ignore_ascii_case("FROM") {
            return None;
        }
        let image = words.find(|w| !w.starts_with("--"))?;
        let last = image.rsplit('/').next()?;
        let (repo, tag) = last.split_once(':')?;
        if repo != lang {
            return None;
        }
        let parts = if lang == "node" { 1 } else { 2 };
        first_version(tag, parts).map(|v| Version {
            version: v,
            source: "Dockerfile".into(),
        })
    })
}

/// The stage a production image is built from: `production`, `prod`, `release` or `runtime`.
fn production_stage(text: &str) -> Option<String> {
    let stages: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
            {
                let i = words.iter().position(|w| w.eq_ignore_ascii_case("AS"))?;
                words.get(i + 1).map(|s| s.to_ascii_lowercase())
            } else {
                None
            }
        })
        .collect();
    ["production", "prod", "release", "runtime"]
        .iter()
        .find(|want| stages.iter().any(|s| s == *want))
        .map(|s| (*s).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_constraints() {
        assert_eq!(first_version("^8.2", 2).as_deref(), Some("8.2"));
        assert_eq!(first_version(">=8.1.0 <9", 2).as_deref(), Some("8.1"));
        assert_eq!(first_version(">=18.17.0", 1).as_deref(), Some("18"));
        assert_eq!(first_version("*", 1), None);
        assert_eq!(
            requires_python("[project]\nname = \"x\"\nrequires-python = \">=3.11\"\n").as_deref(),
            Some("3.11")
        );
        assert_eq!(
            requires_python("[tool.poetry.dependencies]\npython = \"^3.10\"\n").as_deref(),
            Some("3.10")
        );
        // TOML that a line-by-line reader got wrong: a comment after the
        // table header, a dotted key, a key quoted.
        assert_eq!(
            requires_python("[project] # metadata\nrequires-python = \">=3.11\"\n").as_deref(),
            Some("3.11")
        );
        assert_eq!(
            requires_python("project.requires-python = \"~=3.10\"\n").as_deref(),
            Some("3.10")
        );
        assert_eq!(
            requires_python("[project]\n\"requires-python\" = '>=3.9'\n").as_deref(),
            Some("3.9")
        );
        assert_eq!(requires_python("[project\nrequires-python = 3\n"), None);
    }

    #[test]
    fn dockerfile_versions_and_stages() {
        let d = "FROM python:3.12-slim AS base\nRUN x\nFROM base AS production\n";
        assert_eq!(from_dockerfile(Some(d), "python").unwrap().version, "3.12");
        assert_eq!(production_stage(d).as_deref(), Some("production"));
        assert!(from_dockerfile(Some(d), "node").is_none());
    }

    #[test]
    fn images_and_headers() {
        assert_eq!(
            Engine::from_image("docker.io/library/postgres:16-alpine"),
            Some((Engine::Postgres, Some("16-alpine".into())))
        );
        assert_eq!(
            Engine::from_image("valkey/valkey:8"),
            Some((Engine::Valkey, Some("8".into())))
        );
        assert_eq!(Engine::from_image("nginx:1"), None);
        assert_eq!(
            header_value("/*\nTheme Name: Twenty\n*/", "Theme Name").as_deref(),
            Some("Twenty")
        );
        assert!(has_python_dep("fastapi>=0.110\n", "fastapi"));
        assert!(!has_python_dep("fastapi-users\n", "fastapi"));
    }
}
