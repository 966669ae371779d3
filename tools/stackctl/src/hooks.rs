//! Hooks from the project's own `.berth/config.yaml` and the environment
//! they (and compose) run with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::Project;
use berth::cli::{ResultExt as _, error_with_hint};
use serde::Deserialize;

/// `<project>/.berth/config.yaml`; stackctl reads its `hooks` key only.
#[derive(Debug, Default, Deserialize)]
struct ProjectConfig {
    #[serde(default)]
    hooks: Hooks,
}

/// The commands run around a start and a stop.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    pub pre_start: Option<Hook>,
    pub post_start: Option<Hook>,
    pub pre_stop: Option<Hook>,
    pub post_stop: Option<Hook>,
}

/// One hook: an argument vector (no shell), or the user's own shell text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Hook {
    Argv(Vec<String>),
    Shell(String),
}

impl Hook {
    fn show(&self) -> String {
        match self {
            Hook::Argv(v) => v.join(" "),
            Hook::Shell(s) => s.clone(),
        }
    }
}

/// Where a project's config lives.
pub fn config_path(dir: &Path) -> PathBuf {
    dir.join(".berth").join("config.yaml")
}

/// The project's hooks; none when it has no config file.
pub fn load(dir: &Path) -> anyhow::Result<Hooks> {
    let path = config_path(dir);
    let Some(berth::fsread::Text { text, .. }) =
        berth::fsread::read_text(&path, Some(dir), berth::fsread::TEXT_LIMIT)?
    else {
        return Ok(Hooks::default());
    };
    if text.trim().is_empty() {
        return Ok(Hooks::default());
    }
    let cfg: ProjectConfig = yaml_serde::from_str(&text)
        .with_context(|| format!("{} is not a valid project config", path.display()))
        .hint("hooks are pre_start, post_start, pre_stop, post_stop: a list (argv) or a string (sh -c)")?;
    for (name, hook) in cfg.hooks.iter() {
        if matches!(hook, Hook::Argv(v) if v.is_empty()) {
            anyhow::bail!("{}: hook {name} is an empty list", path.display());
        }
    }
    Ok(cfg.hooks)
}

impl Hooks {
    fn iter(&self) -> impl Iterator<Item = (&'static str, &Hook)> {
        [
            ("pre_start", &self.pre_start),
            ("post_start", &self.post_start),
            ("pre_stop", &self.pre_stop),
            ("post_stop", &self.post_stop),
        ]
        .into_iter()
        .filter_map(|(n, h)| h.as_ref().map(|h| (n, h)))
    }
}

/// The variables a project's stack and hooks see: its `.env` (hooks only;
/// compose reads it itself), its registry variables, and berth's own.
pub fn environment(p: &Project, with_dotenv: bool) -> anyhow::Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    if with_dotenv {
        // lib's one reader: a regular file, bounded, like compose's own.
        env.extend(berth::compose::read_dotenv_in(
            &p.path.join(".env"),
            Some(&p.path),
        )?);
    }
    env.extend(p.environment.clone());
    env.insert("BERTH_PROJECT".into(), p.name.clone());
    env.insert("BERTH_PROJECT_DIR".into(), p.path.display().to_string());
    if let Some(port) = p.port {
        env.insert("BERTH_PORT".into(), port.to_string());
    }
    if !p.domain.is_empty() {
        env.insert("BERTH_DOMAIN".into(), p.domain.clone());
    }
    Ok(env)
}

/// Run one hook in the project folder; its output goes to stderr. A hook
/// that fails (or cannot run) is an error naming it.
pub fn run(which: &str, hook: Option<&Hook>, p: &Project) -> anyhow::Result<()> {
    let Some(hook) = hook else {
        return Ok(());
    };
    let env = environment(p, true)?;
    berth::info!("{}: {which} hook: {}", p.name, hook.show());
    let cmd = match hook {
        Hook::Argv(v) => duct::cmd(&v[0], &v[1..]),
        // The user's own text from their own config file; berth adds nothing to it.
        Hook::Shell(s) => duct::cmd("sh", ["-c", s.as_str()]),
    };
    let mut cmd = cmd.dir(&p.path).stdin_null().stdout_to_stderr().unchecked();
    for (k, v) in &env {
        cmd = cmd.env(k, v);
    }
    let config = config_path(&p.path);
    let out = cmd.run().map_err(|e| {
        error_with_hint(
            format!(
                "{which} hook of '{}' cannot run: `{}`: {e}",
                p.name,
                hook.show()
            ),
            format!("check the hook in {}", config.display()),
        )
    })?;
    if !out.status.success() {
        let code = out.status.code().map_or_else(
            || "was killed by a signal".to_owned(),
            |c| format!("exited with status {c}"),
        );
        return Err(error_with_hint(
            format!(
                "{which} hook of '{}' failed: `{}` {code}",
                p.name,
                hook.show()
            ),
            format!("fix the command or the hook in {}", config.display()),
        ));
    }
    Ok(())
}
