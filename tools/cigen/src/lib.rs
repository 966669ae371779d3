//! `cigen`: CI pipelines that fit the project: read the project's framework,
//! versions, package manager and databases, and write a GitHub Actions or
//! GitLab CI pipeline that runs its real tests, secure as generated.

pub mod detect;
pub mod plan;
pub mod render;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use berth::Project;
use berth::cli::{Outcome, ResultExt as _, confirm, error_with_hint, warn};
use berth::config::Config;
use berth::io::{self, OutputArgs, Row};
use berth::paths::Paths;
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::detect::{Detection, Hints, Stack};
use crate::plan::Platform;
use crate::render::{Deploy, Renderer};

const TOOL: &str = "cigen";

/// CI pipelines that fit the project: its tests, its databases, secure by default.
///
/// `cigen` reads a project folder (or Project JSON from `registry list
/// --json`): the framework (Laravel, WordPress theme or plugin, Django,
/// Next.js, FastAPI, or a plain Node, Python or PHP project), the language
/// versions (composer.json, package.json engines, .nvmrc, pyproject.toml,
/// .python-version, the Dockerfile), the package manager (from the lock
/// files) and the databases and caches (from the compose files). It writes a
/// test pipeline with those engines as service containers, and with --deploy
/// a pipeline that builds the production image and deploys it over SSH.
///
/// Generated pipelines pin every action to a full commit SHA, grant
/// `contents: read` only, do not keep the checkout token, never put
/// expressions into scripts, and set timeouts and concurrency groups.
///
/// Templates are Tera files embedded in the binary; a file of the same name
/// under `<templates>/ci/` (the `templates` key of config.yaml) replaces one:
/// `ci/github/test.yml`, `ci/github/deploy.yml`, `ci/gitlab/gitlab-ci.yml`.
#[allow(clippy::doc_markdown)] // help text in prose: product names without backticks
#[derive(Debug, Parser)]
#[command(
    name = "cigen",
    version,
    after_long_help = "\
Examples:
  cigen detect --dir ~/code/shop             what cigen reads from a project
  cigen generate --dir ~/code/shop --dry-run print the workflow, write nothing
  cigen generate --platform gitlab --deploy  .gitlab-ci.yml with build and deploy
  cigen generate --project shop --deploy     the registered project shop
  registry show shop --json | cigen generate --deploy
  cigen secrets --json | jq -r '.[].name'    the secrets to set

Exit status:
  0 success;
  2 an error (bad usage, no or conflicting project signals, unreadable files,
    an existing file changed without --yes, a broken template)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Generate(GenerateArgs),
    Detect(DetectArgs),
    Secrets(SecretsArgs),
}

/// Write the CI pipeline of a project.
///
/// GitHub: `.github/workflows/test.yml` (and `deploy.yml` with --deploy).
/// GitLab: `.gitlab-ci.yml`. Replacing an existing file that differs asks
/// first (on a terminal; `--yes` elsewhere).
/// The project is `--dir DIR` (a folder), `--project NAME` (from the
/// registry), Project JSON on stdin when stdin is not a terminal and not
/// empty, else the current folder.
#[derive(Debug, clap::Args)]
struct GenerateArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The CI platform.
    #[arg(long, value_enum, default_value = "github")]
    platform: Platform,
    /// Also write the deploy pipeline (needs a Dockerfile).
    #[arg(long)]
    deploy: bool,
    /// Print what would be written; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replace existing pipeline files without asking (needed when not on a terminal).
    #[arg(long, short, alias = "force")]
    yes: bool,
    /// Use this stack instead of detecting one (`generic`: checkout and `make test`).
    #[arg(long, value_enum, value_name = "STACK")]
    stack: Option<Stack>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Show what cigen reads from a project: stack, versions, package managers, services.
#[derive(Debug, clap::Args)]
struct DetectArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Use this stack instead of detecting one.
    #[arg(long, value_enum, value_name = "STACK")]
    stack: Option<Stack>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Which project: named the way every berth tool names one.
#[derive(Debug, clap::Args)]
struct TargetArgs {
    /// The project folder (default: the current folder, or Project JSON piped on stdin).
    #[arg(long, short, value_name = "DIR", conflicts_with_all = ["project", "path"])]
    dir: Option<PathBuf>,
    /// A registered project, by name (its folder, stack and compose files from the registry).
    #[arg(long, value_name = "NAME", conflicts_with = "path")]
    project: Option<String>,
    /// Deprecated (one release): a project folder, or Project JSON (`-` for
    /// stdin, or a file); use --dir DIR, --project NAME or a pipe.
    #[arg(value_name = "PATH", hide = true)]
    path: Option<PathBuf>,
}

/// List the secrets and variables the generated pipelines need.
#[derive(Debug, clap::Args)]
struct SecretsArgs {
    /// The CI platform.
    #[arg(long, value_enum, default_value = "github")]
    platform: Platform,
    #[command(flatten)]
    output: OutputArgs,
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Generate(a) => generate(&a),
        Command::Detect(a) => detect_cmd(&a),
        Command::Secrets(a) => secrets(&a),
    }
}

/// The project's hints from its Project JSON (or registry entry).
fn hints_of(p: Project, forced: Option<Stack>) -> (PathBuf, Hints) {
    (
        p.path,
        Hints {
            stack: forced,
            project_stack: p.stack,
            compose_files: p.compose_files,
            service_names: p.services,
        },
    )
}

/// The projects named: `--dir`, `--project`, the deprecated PATH (one
/// folder, or the Projects of a JSON input), or Project JSON on stdin.
fn targets(t: &TargetArgs, forced: Option<Stack>) -> anyhow::Result<Vec<(PathBuf, Hints)>> {
    let folder = |p: &Path| {
        (
            p.to_path_buf(),
            Hints {
                stack: forced,
                ..Hints::default()
            },
        )
    };
    if let Some(dir) = &t.dir {
        if !dir.is_dir() {
            return Err(error_with_hint(
                format!("--dir {}: no such folder", dir.display()),
                "--dir names the project folder",
            ));
        }
        return Ok(vec![folder(dir)]);
    }
    if let Some(name) = &t.project {
        berth::names::validate_label("project name", name)?;
        let projects = berth::registry::Registry::open(&Paths::from_env()?).load()?;
        let p = berth::registry::find(&projects, name)?.clone();
        if p.path.as_os_str().is_empty() {
            return Err(anyhow!("project {name} in the registry has no path"));
        }
        return Ok(vec![hints_of(p, forced)]);
    }
    let json_input = match t.path.as_deref() {
        Some(p) if p.as_os_str() == "-" || p.is_file() => io::read_input(Some(p))?,
        Some(p) => return Ok(vec![folder(p)]),
        None => match io::read_input(None)? {
            Some((_, bytes)) if bytes.iter().all(u8::is_ascii_whitespace) => None,
            other => other,
        },
    };
    let Some((source, bytes)) = json_input else {
        return Ok(vec![folder(Path::new("."))]);
    };
    let projects: Vec<Project> = io::parse_records(&source, &bytes)
        .hint("pass a project folder, or Project JSON as `registry show NAME --json` prints")?;
    if projects.is_empty() {
        return Err(error_with_hint(
            format!("no project in {source}"),
            "pass a project folder or Project JSON",
        ));
    }
    projects
        .into_iter()
        .map(|p| {
            if p.path.as_os_str().is_empty() {
                return Err(anyhow!("project {} in {source} has no path", p.name));
            }
            Ok(hints_of(p, forced))
        })
        .collect()
}

fn detect_cmd(a: &DetectArgs) -> anyhow::Result<Outcome> {
    let mut found = Vec::new();
    for (dir, hints) in targets(&a.target, a.stack)? {
        found.push(DetectRow(detect::detect(&dir, &hints)?));
    }
    match found.as_slice() {
        [one] => io::write_one(a.output.format(), one)?,
        many => io::write_list(a.output.format(), many)?,
    }
    Ok(Outcome::Clean)
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Serialize)]
#[serde(transparent)]
struct DetectRow(Detection);

fn show_version(v: Option<&detect::Version>) -> String {
    v.map_or_else(String::new, |v| format!("{} ({})", v.version, v.source))
}

impl Row for DetectRow {
    fn headers() -> &'static [&'static str] {
        &[
            "path",
            "stack",
            "php",
            "node",
            "python",
            "package managers",
            "services",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let d = &self.0;
        let pms: Vec<&str> = [
            &d.php_package_manager,
            &d.node_package_manager,
            &d.python_package_manager,
        ]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
        vec![
            d.path.display().to_string(),
            d.stack.to_string(),
            show_version(d.php.as_ref()),
            show_version(d.node.as_ref()),
            show_version(d.python.as_ref()),
            pms.join(", "),
            d.services
                .iter()
                .map(|s| s.image.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ]
    }
}

/// A written (or, with --dry-run, planned) file.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Written {
    path: PathBuf,
    /// `created`, `overwritten`; with --dry-run `would-create`, `would-overwrite`.
    action: &'static str,
    stack: Stack,
    platform: Platform,
    template: String,
    /// The file's content (--dry-run).
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

impl Row for Written {
    fn headers() -> &'static [&'static str] {
        &["path", "action", "stack", "platform", "template"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.path.display().to_string(),
            self.action.into(),
            self.stack.to_string(),
            self.platform.as_str().into(),
            self.template.clone(),
        ]
    }
}

#[allow(clippy::too_many_lines)]
fn generate(a: &GenerateArgs) -> anyhow::Result<Outcome> {
    let paths = Paths::from_env()?;
    let config = Config::load(&paths)?;
    let renderer = Renderer::new(config.templates.as_deref())?;
    // Everything is rendered and checked before anything is written.
    let mut planned = Vec::new();
    let mut changed = Vec::new();
    for (dir, hints) in targets(&a.target, a.stack)? {
        let d = detect::detect(&dir, &hints)?;
        let deploy = if a.deploy {
            Some(Deploy::new(&d).ok_or_else(|| {
                error_with_hint(
                    format!("--deploy: no Dockerfile in {}: the deploy pipeline builds the production image from it", dir.display()),
                    "add a Dockerfile with a `production` stage (stackgen writes one), or leave out --deploy",
                )
            })?)
        } else {
            None
        };
        if deploy.as_ref().is_some_and(|dep| dep.target.is_none()) {
            warn(
                TOOL,
                format!(
                    "{}/Dockerfile has no production stage; the deploy builds its last stage",
                    dir.display()
                ),
            );
        }
        let p = plan::plan(&d, a.platform);
        let outputs = renderer.pipeline(&p, deploy.as_ref(), &d)?;
        for o in &outputs {
            let full = dir.join(&o.path);
            if full.exists() && std::fs::read(&full).ok().as_deref() != Some(o.content.as_bytes()) {
                changed.push(full.display().to_string());
            }
        }
        planned.push((dir, d, outputs));
    }
    if !a.dry_run
        && !changed.is_empty()
        && !confirm(
            &format!("{} exists: replace it?", changed.join(", ")),
            a.yes,
        )?
    {
        berth::info!("nothing written");
        return Ok(Outcome::Clean);
    }
    if a.dry_run {
        // Text: each file after a comment naming it. A format asked for:
        // the files as records, with their content.
        let mut rows = Vec::new();
        let mut out = io::stdout();
        let records = a.output.json || a.output.format.is_some();
        for (dir, d, outputs) in &planned {
            for o in outputs {
                let full = dir.join(&o.path);
                if records {
                    rows.push(Written {
                        action: if full.exists() {
                            "would-overwrite"
                        } else {
                            "would-create"
                        },
                        path: full,
                        stack: d.stack,
                        platform: a.platform,
                        template: o.template_source.clone(),
                        content: Some(o.content.clone()),
                    });
                } else {
                    writeln!(
                        out,
                        "# cigen: would write {} ({} pipeline for {})",
                        full.display(),
                        a.platform.as_str(),
                        d.stack
                    )?;
                    out.write_all(o.content.as_bytes())?;
                }
            }
        }
        out.flush()?;
        if records {
            io::write_list(a.output.format(), &rows)?;
        }
        return Ok(Outcome::Clean);
    }
    let mut rows = Vec::new();
    for (dir, d, outputs) in &planned {
        for o in outputs {
            let full = dir.join(&o.path);
            let existed = full.exists();
            write_atomic(&full, &o.content)?;
            rows.push(Written {
                path: full,
                action: if existed { "overwritten" } else { "created" },
                stack: d.stack,
                platform: a.platform,
                template: o.template_source.clone(),
                content: None,
            });
        }
    }
    io::write_list(a.output.format(), &rows)?;
    Ok(Outcome::Clean)
}

/// Write a generated file atomically (`berth::atomic`), creating its folder;
/// a new file is 0644 like any file of a repository.
fn write_atomic(path: &Path, content: &str) -> anyhow::Result<()> {
    let dir = path.parent().context("a file path without a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    berth::atomic::write(path, content.as_bytes(), 0o644)?;
    Ok(())
}

/// A secret or variable a generated pipeline reads.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Secret {
    name: &'static str,
    /// `secret` (masked, in the platform's secret store) or `variable` (plain setting).
    kind: &'static str,
    required: bool,
    /// `test` or `deploy`.
    pipeline: &'static str,
    description: &'static str,
}

impl Row for Secret {
    fn headers() -> &'static [&'static str] {
        &["name", "kind", "required", "pipeline", "description"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.into(),
            self.kind.into(),
            if self.required {
                "yes".into()
            } else {
                "no".into()
            },
            self.pipeline.into(),
            self.description.into(),
        ]
    }
}

fn secrets(a: &SecretsArgs) -> anyhow::Result<Outcome> {
    let ssh = [
        Secret {
            name: "DEPLOY_HOST",
            kind: "secret",
            required: true,
            pipeline: "deploy",
            description: "host name of the server the deploy job reaches over SSH",
        },
        Secret {
            name: "DEPLOY_USER",
            kind: "secret",
            required: true,
            pipeline: "deploy",
            description: "SSH user on that server (allowed to run docker compose)",
        },
        Secret {
            name: "DEPLOY_SSH_KEY",
            kind: "secret",
            required: true,
            pipeline: "deploy",
            description: "private SSH key (PEM or OpenSSH) of a deploy key authorised for DEPLOY_USER",
        },
        Secret {
            name: "DEPLOY_KNOWN_HOSTS",
            kind: "secret",
            required: true,
            pipeline: "deploy",
            description: "the server's host keys, as `ssh-keyscan DEPLOY_HOST` prints them (checked strictly)",
        },
        Secret {
            name: "DEPLOY_COMMAND",
            kind: "variable",
            required: false,
            pipeline: "deploy",
            description: "command run on the server with IMAGE set to the pushed image (default: docker compose pull && docker compose up -d --remove-orphans)",
        },
    ];
    let mut list: Vec<Secret> = ssh.into_iter().collect();
    if a.platform == Platform::Github {
        list.extend([
            Secret { name: "REGISTRY", kind: "variable", required: false, pipeline: "deploy", description: "container registry host (default: ghcr.io)" },
            Secret { name: "IMAGE_NAME", kind: "variable", required: false, pipeline: "deploy", description: "image name without tag (default: REGISTRY/owner/repo, lowercased)" },
            Secret { name: "REGISTRY_USER", kind: "variable", required: false, pipeline: "deploy", description: "registry user (default: the GitHub actor)" },
            Secret { name: "REGISTRY_PASSWORD", kind: "secret", required: false, pipeline: "deploy", description: "registry password or token (default: GITHUB_TOKEN, which can push to ghcr.io)" },
        ]);
    }
    io::write_list(a.output.format(), &list)?;
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("cigen-detection", berth::schema::of::<DetectRow>()),
        ("cigen-file", berth::schema::of::<Written>()),
        ("cigen-secret", berth::schema::of::<Secret>()),
    ]
}
