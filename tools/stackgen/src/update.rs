//! `stackgen update-templates`: refresh the template cache from a folder or a git
//! repository, check that everything in it renders, show what changed, and
//! swap it in. Generated projects are never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use berth::cli::{Outcome, error_with_hint};
use berth::io::{self, OutputArgs, Row};
use berth::paths::Paths;
use serde::Serialize;

use crate::catalog::describe;
use crate::generate::{
    PLACEHOLDER, Spec, resolve_services, secret_kinds, services_file, stack_files,
};
use crate::plan::{Change, Plan};
use crate::stack::Stack;
use crate::templates::{Library, Origin, cache_dir};

/// Refresh the template cache from a folder or a git repository.
///
/// Fetches the templates (a folder with stacks/ and services/, or a git URL
/// cloned with `git clone --depth 1`), checks that every stack and service
/// renders, shows what changed, and replaces the cache. Projects already
/// generated are not touched. Without --from, the last source is used.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// A template folder or a git URL.
    #[arg(long, value_name = "DIR|GIT_URL")]
    from: Option<String>,
    /// Show what would change and keep the cache as it is.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// One changed template file.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Changed {
    path: String,
    change: &'static str,
}

impl Row for Changed {
    fn headers() -> &'static [&'static str] {
        &["CHANGE", "PATH"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.change.to_owned(), self.path.clone()]
    }
}

fn source_file(paths: &Paths) -> PathBuf {
    paths.data.join("stackgen").join("source")
}

fn is_git_url(s: &str) -> bool {
    s.contains("://")
        || s.starts_with("git@")
        || Path::new(s)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("git"))
}

/// Read every file of a template tree (stacks/ and services/) into a map.
fn read_tree(root: &Path) -> anyhow::Result<Library> {
    let mut lib = Library::default();
    lib.overlay_dir(root, Origin::Cache)?;
    Ok(lib)
}

/// The folder the templates are in: SRC itself, or a shallow clone of it in `work`.
fn fetch(src: &str, work: &Path) -> anyhow::Result<PathBuf> {
    let fetched = work.join("src");
    let local = Path::new(src);
    if local.is_dir() {
        Ok(std::fs::canonicalize(local)?)
    } else if is_git_url(src) {
        berth::info!("git clone --depth 1 {src}");
        let out = Command::new("git")
            .args(["clone", "--quiet", "--depth", "1", "--"])
            .arg(src)
            .arg(&fetched)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .output()
            .context("cannot run git")?;
        if !out.status.success() {
            return Err(error_with_hint(
                format!(
                    "cannot clone {src}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                "check the URL and your access to it",
            ));
        }
        Ok(fetched)
    } else {
        Err(error_with_hint(
            format!("template source '{src}' is neither a folder nor a git URL"),
            "pass --from DIR or --from GIT_URL (https://..., git@..., file://..., *.git)",
        ))
    }
}

/// Write the new templates beside the cache and swap the folders.
fn swap_cache(incoming: &Library, work: &Path, cache: &Path) -> anyhow::Result<()> {
    let staged = work.join("cache");
    for (k, s) in &incoming.files {
        let p = staged.join(k);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&p, &s.text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let old = work.join("old");
    if cache.exists() {
        std::fs::rename(cache, &old).with_context(|| format!("cannot move {}", cache.display()))?;
    }
    std::fs::rename(&staged, cache)
        .with_context(|| format!("cannot move the new templates to {}", cache.display()))?;
    Ok(())
}

pub fn run(a: &UpdateArgs) -> anyhow::Result<Outcome> {
    let paths = Paths::from_env()?;
    let src = match &a.from {
        Some(s) => s.clone(),
        None => std::fs::read_to_string(source_file(&paths))
            .map(|s| s.trim().to_owned())
            .map_err(|_| {
                error_with_hint(
                    "no template source: stackgen update-templates has not run with --from yet",
                    "pass --from DIR or --from GIT_URL",
                )
            })?,
    };
    let base = paths.data.join("stackgen");
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".update-")
        .tempdir_in(&base)
        .with_context(|| format!("cannot create a folder in {}", base.display()))?;
    let root = fetch(&src, work.path())?;
    let incoming = read_tree(&root)?;
    if incoming.files.is_empty() {
        return Err(error_with_hint(
            format!("{src} holds no templates (no stacks/ or services/ files)"),
            "the source needs stacks/<stack>/manifest.yaml and friends, or services/<name>.yaml",
        ));
    }
    // Everything must render on top of the builtin templates before the cache changes.
    let mut check = Library::builtin();
    check.files.extend(incoming.files.clone());
    validate_library(&check)
        .with_context(|| format!("the templates from {src} are broken; the cache is unchanged"))?;

    let cache = cache_dir(&paths);
    let current = if cache.is_dir() {
        read_tree(&cache)?
    } else {
        Library::default()
    };
    let keys: BTreeSet<&String> = current.files.keys().chain(incoming.files.keys()).collect();
    let mut plan = Plan::new(&cache);
    let mut rows = Vec::new();
    for k in keys {
        let old = current.files.get(k).map(|s| s.text.clone());
        let new = incoming.files.get(k).map(|s| s.text.clone());
        if old == new {
            continue;
        }
        rows.push(Changed {
            path: k.clone(),
            change: match (&old, &new) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            },
        });
        plan.changes.push(Change {
            path: k.clone(),
            old,
            new,
            mode: 0o644,
        });
    }
    let diff = plan.diff(&|_| false);
    if a.dry_run && a.output.format() == io::Format::Table {
        // A dry run's output is the diff, on stdout (with a machine format,
        // the changed files; the diff then goes to stderr).
        io::write_text(&diff)?;
    } else {
        crate::ctx::show(&diff);
    }
    if a.dry_run {
        berth::info!("dry run: the cache is unchanged");
    } else {
        swap_cache(&incoming, work.path(), &cache)?;
        let recorded = if Path::new(&src).is_dir() {
            root.display().to_string()
        } else {
            src.clone()
        };
        berth::atomic::write(
            &source_file(&paths),
            format!("{recorded}\n").as_bytes(),
            0o644,
        )?;
        berth::info!(
            "template cache {} updated from {src}: {} file(s) changed; generated projects are untouched",
            cache.display(),
            rows.len()
        );
    }
    io::write_list(a.output.format(), &rows)?;
    Ok(Outcome::Clean)
}

/// Check that every stack and service of a library renders (for `update`).
fn validate_library(lib: &Library) -> anyhow::Result<()> {
    for name in lib.stack_names() {
        let stack = Stack::load(lib, &name)?;
        let services = resolve_services(lib, &stack, &stack.manifest.services.defaults)
            .with_context(|| format!("stack {name}: default services"))?;
        let file = berth::stackfile::StackFile::new(&name, "example");
        let kinds = secret_kinds(lib, &stack, &file, &stack.manifest.services.offers)?;
        let spec = Spec {
            name: "example".into(),
            tld: "test".into(),
            services,
            published: BTreeMap::new(),
            app_port: 5000,
            secrets: kinds
                .keys()
                .map(|k| (k.clone(), PLACEHOLDER.into()))
                .collect(),
            base_image: None,
            images: BTreeMap::new(),
            file,
            shared_name: berth::shared::DEFAULT_NAME.into(),
        };
        stack_files(lib, &stack, &spec)?;
        services_file(lib, &stack, &spec)?;
    }
    for s in lib.service_names() {
        describe(lib, &s, "generic")?;
    }
    Ok(())
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("template-change", berth::schema::of::<Changed>())]
}
