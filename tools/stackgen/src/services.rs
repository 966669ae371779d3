//! `stackgen add-service` and `remove-service`: regenerate berth's services
//! file, append to or take back from .env, and show the diff first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command as Proc, Stdio};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint, warn};
use berth::config::Config;
use berth::names;

use crate::TOOL;
use crate::catalog::describe;
use crate::ctx::{Ctx, marker, project_folder, show, show_and_confirm, warn_compose_file};
use crate::envfile;
use crate::generate::{
    SERVICES_FILE, Spec, publishable, resolve_services, secret_kinds, service_env, services_file,
};
use crate::plan::Plan;
use crate::stack::Stack;
use crate::state::{STATE_FILE, State};

/// Add catalog services to a generated project.
///
/// Regenerates .berth/compose.services.yaml, appends the services' new
/// variables (random secrets) to .env without changing values already set,
/// and shows a unified diff of every file first (secrets masked).
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Services to add.
    #[arg(required = true, value_name = "SERVICE")]
    services: Vec<String>,
    /// The project folder (default: the current folder).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// The registered project, instead of --dir.
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    project: Option<String>,
    /// Publish these services' ports on 127.0.0.1 (allocated ports).
    #[arg(long, value_delimiter = ',')]
    publish: Vec<String>,
    /// Show the diff and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short)]
    yes: bool,
}

/// Remove catalog services from a generated project.
///
/// Regenerates .berth/compose.services.yaml and takes the lines berth
/// appended to .env back out (lines you changed stay). The services' data
/// volumes are kept unless --with-data is given. Needs --yes when not on a
/// terminal.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// Services to remove.
    #[arg(required = true, value_name = "SERVICE")]
    services: Vec<String>,
    /// The project folder (default: the current folder).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// The registered project, instead of --dir.
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    project: Option<String>,
    /// Also delete the services' containers and data volumes.
    #[arg(long)]
    with_data: bool,
    /// Show the diff and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short)]
    yes: bool,
}

/// The spec of an existing project from its state (no secrets: they are in .env).
fn spec_of(state: &State, config: &Config) -> Spec {
    Spec {
        name: state.name.clone(),
        tld: state.tld.clone(),
        services: state.services.clone(),
        published: state.published.clone(),
        app_port: state.app_port,
        secrets: BTreeMap::new(),
        base_image: state.base_image.clone(),
        images: config.images.clone(),
    }
}

/// `add-service`.
pub fn add_service(a: &AddArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let dir = project_folder(a.project.as_deref(), &a.dir)?;
    let mut state = State::read(&dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let mut all = state.services.clone();
    let mut added = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if state.services.contains(s) {
            berth::info!("note: {s} is already in {}", state.name);
        } else if !added.contains(s) {
            added.push(s.clone());
            all.push(s.clone());
        }
    }
    let services = resolve_services(&ctx.lib, &stack, &all)?;
    for p in &a.publish {
        if !services.contains(p) {
            return Err(error_with_hint(
                format!("--publish names '{p}', which is not among the project's services"),
                format!("services: {}", services.join(", ")),
            ));
        }
    }
    let mut wanted = Vec::new();
    for s in &a.publish {
        if state.published.contains_key(s) {
            continue;
        }
        for target in publishable(&ctx.lib, &stack, s)? {
            wanted.push((s.clone(), target));
        }
    }
    let taken: Vec<u16> = state
        .published
        .values()
        .flatten()
        .map(|(h, _)| *h)
        .chain([state.app_port])
        .collect();
    let hosts = ctx.allocate(wanted.len(), &taken)?;
    for ((s, target), host) in wanted.into_iter().zip(hosts) {
        state.published.entry(s).or_default().push((host, target));
    }
    let kinds = secret_kinds(&ctx.lib, &stack, &added)?;
    let mut spec = spec_of(&state, &ctx.config);
    spec.services.clone_from(&services);
    let values = berth::secrets::generate_all(&kinds)?;
    spec.secrets = crate::stored::written(&ctx.config, &values);

    let mut plan = Plan::new(&dir);
    plan.set(
        SERVICES_FILE,
        Some(services_file(&ctx.lib, &stack, &spec)?),
        0o644,
    )?;
    let mut env_text = plan.read(".env")?.unwrap_or_default();
    let old_keys: BTreeSet<String> = envfile::pairs(&env_text)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k)
        .collect();
    for s in &added {
        let vars = service_env(&ctx.lib, &stack, &spec, s, false)?;
        let (text, rec) = envfile::append(&env_text, &marker(s), &vars);
        env_text = text;
        if let Some(rec) = rec {
            state.env.insert(s.clone(), rec);
        }
    }
    warn_compose_file(&env_text);
    plan.set(".env", Some(env_text), 0o600)?;
    state.services = services;
    state.secrets.extend(kinds.clone());
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;

    let secrets: BTreeSet<String> = kinds.keys().cloned().collect();
    let question = format!("add {} to {}?", added.join(", "), state.name);
    if !show_and_confirm(&plan, &secrets, a.dry_run, &question, a.yes)? {
        return Ok(Outcome::Clean);
    }
    if crate::stored::in_store(&ctx.config) {
        // A value the user set in .env stays there (the next start moves
        // it); a value already in the store stays (a service added back
        // keeps its password).
        let fresh: BTreeMap<String, String> = values
            .into_iter()
            .filter(|(k, _)| !old_keys.contains(k))
            .collect();
        crate::stored::save(&state.name, &fresh, &kinds, true)?;
    }
    plan.apply()?;
    show(&plan.summary());
    if !added.is_empty() {
        berth::info!(
            "added {} to {}; run `docker-compose up -d` (and `registry update {}` when ports were published)",
            added.join(", "),
            state.name,
            state.name
        );
    }
    Ok(Outcome::Clean)
}

/// `remove-service`.
pub fn remove_service(a: &RemoveArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let dir = project_folder(a.project.as_deref(), &a.dir)?;
    let mut state = State::read(&dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let mut removed = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if !state.services.contains(s) {
            return Err(error_with_hint(
                format!("service '{s}' is not in {}", state.name),
                format!(
                    "its services: {}",
                    if state.services.is_empty() {
                        "none".to_owned()
                    } else {
                        state.services.join(", ")
                    }
                ),
            ));
        }
        if !removed.contains(s) {
            removed.push(s.clone());
        }
    }
    let rest: Vec<String> = state
        .services
        .iter()
        .filter(|s| !removed.contains(s))
        .cloned()
        .collect();
    let rest = resolve_services(&ctx.lib, &stack, &rest)
        .context("the remaining services would not work")?;

    let mut plan = Plan::new(&dir);
    let mut spec = spec_of(&state, &ctx.config);
    spec.services.clone_from(&rest);
    for s in &removed {
        spec.published.remove(s);
    }
    plan.set(
        SERVICES_FILE,
        Some(services_file(&ctx.lib, &stack, &spec)?),
        0o644,
    )?;
    let mut secrets = BTreeSet::new();
    if let Some(mut env_text) = plan.read(".env")? {
        for s in &removed {
            if let Some(rec) = state.env.get(s) {
                let (text, kept) = envfile::remove(&env_text, rec);
                env_text = text;
                for k in kept {
                    warn(TOOL, format!(".env: {k}"));
                }
            }
            secrets.extend(
                describe(&ctx.lib, s, &stack.manifest.style)?
                    .secrets
                    .into_keys(),
            );
        }
        plan.set(".env", Some(env_text), 0o600)?;
    }
    for s in &removed {
        state.env.remove(s);
        state.published.remove(s);
    }
    state.forget_secrets(&secrets, &secret_kinds(&ctx.lib, &stack, &rest)?);
    state.services = rest;
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;

    let mut volumes = Vec::new();
    for s in &removed {
        if describe(&ctx.lib, s, &stack.manifest.style)?.data.is_some() {
            volumes.push((s.clone(), format!("{}-{s}-data", state.name)));
        }
    }
    for (_, v) in &volumes {
        if a.with_data {
            berth::info!("the data volume {v} will be deleted (--with-data)");
        } else {
            warn(
                TOOL,
                format!(
                    "the data volume {v} is kept; delete it with --with-data (or `docker volume rm {v}`)"
                ),
            );
        }
    }
    let question = format!("remove {} from {}?", removed.join(", "), state.name);
    if !show_and_confirm(&plan, &secrets, a.dry_run, &question, a.yes)? {
        return Ok(Outcome::Clean);
    }
    plan.apply()?;
    show(&plan.summary());
    if a.with_data {
        for (s, v) in &volumes {
            drop_container_and_volume(&format!("{}-{s}", state.name), v)?;
        }
    }
    Ok(Outcome::Clean)
}

/// Delete a removed service's container and its data volume (argument vectors, no shell).
fn drop_container_and_volume(container: &str, volume: &str) -> anyhow::Result<()> {
    let quiet = |args: &[&str]| {
        Proc::new("docker")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
    };
    let exists = quiet(&["volume", "inspect", volume]).context("cannot run docker")?;
    if !exists.status.success() {
        berth::info!("volume {volume} does not exist; nothing to delete");
        return Ok(());
    }
    let _ = quiet(&["rm", "-f", "-v", container]);
    let out = quiet(&["volume", "rm", volume]).context("cannot run docker")?;
    if !out.status.success() {
        bail!(
            "cannot delete volume {volume}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    berth::info!("deleted volume {volume}");
    Ok(())
}
