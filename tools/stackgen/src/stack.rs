//! A stack: its manifest (runtime, services it offers, environments, the
//! framework's generator, how to detect it) and its template files.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use crate::templates::{Library, Origin, Source, parse_yaml};

/// `manifest.yaml` of a stack.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub description: String,
    pub runtime: Runtime,
    /// The default base image of the Dockerfile (a build argument).
    pub base_image: String,
    /// The port the app listens on inside its container.
    pub app_port: u16,
    /// Which variable names the framework expects (`django`, `laravel`, ...).
    pub style: String,
    pub services: Offers,
    pub environments: Vec<String>,
    /// Secrets of the app itself (name -> kind, e.g. `alnum50`).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Variables a worker built from the app's image needs (celery).
    #[serde(default)]
    pub worker_env: BTreeMap<String, String>,
    /// Rules that recognise an existing project of this stack (any one
    /// matches); a stack named after a framework berth knows (laravel,
    /// django, fastapi, nextjs, wordpress) is recognised by lib's detector instead.
    #[serde(default)]
    pub detect: Vec<DetectRule>,
    /// The framework's own project generator, for fresh projects.
    #[serde(default)]
    pub generator: Option<Generator>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Offers {
    pub offers: Vec<String>,
    #[serde(default)]
    pub defaults: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DetectRule {
    /// A file (or folder) relative to the project folder.
    pub file: String,
    /// Text the file must contain (case-insensitive).
    #[serde(default)]
    pub contains: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    pub program: String,
    /// Arguments, each a Tera template (`{{ module }}`).
    pub args: Vec<String>,
    /// How to install the program, shown when it is missing.
    pub install: String,
    /// Files the generator wrote that get a rendered block appended.
    #[serde(default)]
    pub patches: Vec<Patch>,
}

/// A block appended to a file the framework's generator wrote (fresh mode).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// The file (a Tera template: `{{ module }}/settings.py`).
    pub path: String,
    /// The template of the block.
    pub template: String,
    /// Text that shows the block is there already.
    pub marker: String,
}

/// One file a stack generates.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Where it goes in the project (relative).
    pub path: String,
    /// The template file in the stack folder.
    pub template: String,
    #[serde(default)]
    pub mode: Option<u32>,
    /// Rendered with `environment` set to this (default: development).
    #[serde(default)]
    pub environment: Option<String>,
    /// Rendered with `example` true (placeholders instead of secrets).
    #[serde(default)]
    pub example: bool,
    /// App code for a fresh project: written only when absent, never in existing mode.
    #[serde(default)]
    pub starter: bool,
    /// Written only when absent; an existing file is kept as it is.
    #[serde(default)]
    pub keep_existing: bool,
}

/// A loaded stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub manifest: Manifest,
    pub files: BTreeMap<String, Source>,
    /// The highest layer that contributed a file.
    pub origin: Origin,
}

impl Stack {
    /// Load a stack by name and check that every file it names exists.
    pub fn load(lib: &Library, name: &str) -> anyhow::Result<Self> {
        let files: BTreeMap<String, Source> = lib
            .stack_files(name)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        let Some(manifest_src) = files.get("manifest.yaml") else {
            let known = lib.stack_names().join(", ");
            return Err(berth::cli::error_with_hint(
                format!("unknown stack '{name}'"),
                format!("available stacks: {known} (see `stackgen stacks`)"),
            ));
        };
        let manifest: Manifest = parse_yaml(&manifest_src.text, &manifest_src.shown)?;
        for f in &manifest.files {
            if !files.contains_key(&f.template) {
                bail!(
                    "broken stack '{name}': {} names template '{}', which does not exist",
                    manifest_src.shown,
                    f.template
                );
            }
            check_relative(&f.path)
                .with_context(|| format!("broken stack '{name}': {}", manifest_src.shown))?;
        }
        for p in manifest.generator.iter().flat_map(|g| &g.patches) {
            if !files.contains_key(&p.template) {
                bail!(
                    "broken stack '{name}': {} names template '{}', which does not exist",
                    manifest_src.shown,
                    p.template
                );
            }
        }
        let origin = files
            .values()
            .map(|s| s.origin)
            .max()
            .unwrap_or(Origin::Builtin);
        Ok(Self {
            name: name.to_owned(),
            manifest,
            files,
            origin,
        })
    }

    pub fn template(&self, name: &str) -> &Source {
        &self.files[name]
    }
}

/// A generated path must stay inside the project folder.
fn check_relative(path: &str) -> anyhow::Result<()> {
    let p = std::path::Path::new(path);
    if path.is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        bail!("file path '{path}' must be relative and stay inside the project");
    }
    Ok(())
}
