//! `stackgen add-service` and `remove-service`: regenerate berth's services
//! file, append to or take back from .env, and show the diff first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command as Proc, Stdio};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint, warn};
use berth::config::Config;
use berth::names;
use berth::stackfile::{Instance, StackFile, edit, wiring};

use crate::TOOL;
use crate::catalog::describe;
use crate::ctx::{Ctx, marker, project_folder, show, show_and_confirm, warn_compose_file};
use crate::declared::{self, Cat};
use crate::envfile;
use crate::generate::{
    SERVICES_FILE, Spec, publishable, resolve_services, secret_kinds, service_env, service_of,
    services_file,
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
    /// The instance's name, for a second instance of a service
    /// (`add-service postgres --as analytics-db`); one SERVICE only.
    #[arg(long = "as", value_name = "NAME")]
    as_name: Option<String>,
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
    /// Services (instances) to remove.
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

/// The spec of an existing project from its state and declared stack (no
/// secret values: they are in the store or .env).
fn spec_of(state: &State, config: &Config, file: StackFile) -> Spec {
    Spec {
        name: state.name.clone(),
        tld: state.tld.clone(),
        services: state.services.clone(),
        published: state.published.clone(),
        app_port: state.app_port,
        secrets: BTreeMap::new(),
        base_image: state.base_image.clone(),
        images: config.images.clone(),
        file,
    }
}

/// The distinct catalog services of `instances`, checked against the stack
/// (offered, required roles filled), in catalog order.
fn catalog_services(
    ctx: &Ctx,
    stack: &Stack,
    file: &StackFile,
    instances: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut services: Vec<String> = Vec::new();
    for i in instances {
        let svc = service_of(file, i).to_owned();
        if !services.contains(&svc) {
            services.push(svc);
        }
    }
    resolve_services(&ctx.lib, stack, &services)
}

/// Read `text` back as the project's stack file (exit 2 naming file, line
/// and key when an edit made it invalid: nothing is written then).
fn reread(ctx: &Ctx, stack: &Stack, text: &str) -> anyhow::Result<StackFile> {
    let cat = Cat {
        lib: &ctx.lib,
        stack,
    };
    Ok(berth::stackfile::parse(
        text,
        berth::stackfile::FILE,
        Some(&cat),
    )?)
}

/// Pin, as explicit wires, the app's imports that `after` leaves ambiguous
/// and `before` had resolved: adding a second database keeps the app on the first.
fn pin_wires(ctx: &Ctx, stack: &Stack, before: &StackFile, text: String) -> anyhow::Result<String> {
    let cat = Cat {
        lib: &ctx.lib,
        stack,
    };
    let after = reread(ctx, stack, &text)?;
    let was = wiring::providers(&wiring::resolve(before, &cat));
    let mut text = text;
    for r in wiring::resolve(&after, &cat) {
        if r.is_ambiguous()
            && let Some(p) = was.get(&(r.consumer.clone(), r.import.clone()))
        {
            berth::info!(
                "{}.{} stays on {p} (wired explicitly in {}; `stackgen wire` changes it)",
                r.consumer,
                r.import,
                berth::stackfile::FILE
            );
            text = edit::set_wire(&text, &format!("{}.{}", r.consumer, r.import), p);
        }
    }
    Ok(text)
}

/// `add-service`.
#[allow(clippy::too_many_lines)] // one sequence: declare, allocate, generate, show, write
pub fn add_service(a: &AddArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let dir = project_folder(a.project.as_deref(), &a.dir)?;
    let mut state = State::read(&dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let (before, migrated) = declared::load(&dir, &ctx.lib, &stack, &state)?;
    if a.as_name.is_some() && a.services.len() > 1 {
        return Err(error_with_hint(
            "--as names one instance: give one SERVICE with it",
            "add the others in another run",
        ));
    }
    // Unknown or unoffered services are named as such before any edit.
    let mut wanted_services: Vec<String> = before
        .instances
        .iter()
        .map(|(n, i)| i.service_name(n).to_owned())
        .collect();
    wanted_services.extend(a.services.iter().cloned());
    resolve_services(&ctx.lib, &stack, &wanted_services)?;
    let mut text = match migrated {
        Some(t) => t,
        None => plan_text(&dir)?,
    };
    let mut added = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        let name = a.as_name.clone().unwrap_or_else(|| s.clone());
        names::validate_label("instance name", &name)?;
        if before.instances.contains(&name) {
            berth::info!("note: {name} is already in {}", state.name);
        } else if !added.contains(&name) {
            let inst = if name == *s {
                Instance::default()
            } else {
                Instance::of(s)
            };
            text = edit::add_instance(&text, &name, &inst);
            added.push(name);
        }
    }
    // Checked before anything else: an unknown service or a bad name is
    // reported against the file, and nothing is written.
    let text = pin_wires(&ctx, &stack, &before, text)?;
    let file = reread(&ctx, &stack, &text)?;
    let names: Vec<String> = file.instances.names().map(str::to_owned).collect();
    catalog_services(&ctx, &stack, &file, &names)?;
    for p in &a.publish {
        if !file.instances.contains(p) {
            return Err(error_with_hint(
                format!("--publish names '{p}', which is not among the project's services"),
                format!("services: {}", names.join(", ")),
            ));
        }
    }
    let mut wanted = Vec::new();
    for s in &a.publish {
        if state.published.contains_key(s) {
            continue;
        }
        for target in publishable(&ctx.lib, &stack, service_of(&file, s))? {
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
    let kinds = secret_kinds(&ctx.lib, &stack, &file, &added)?;
    let mut spec = spec_of(&state, &ctx.config, file);
    spec.services = catalog_services(&ctx, &stack, &spec.file, &names)?;
    let values = berth::secrets::generate_all(&kinds)?;
    spec.secrets = crate::stored::written(&ctx.config, &values);

    let mut plan = Plan::new(&dir);
    plan.set(berth::stackfile::FILE, Some(text), 0o644)?;
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
    state.services = spec
        .instances(&ctx.lib)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
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

/// The project's `berth.yaml` as it is on disk (it exists: `load` said so).
fn plan_text(dir: &std::path::Path) -> anyhow::Result<String> {
    Ok(berth::fsread::read_text(
        &dir.join(berth::stackfile::FILE),
        None,
        berth::stackfile::LIMIT,
    )?
    .map(|t| t.text)
    .unwrap_or_default())
}

/// `remove-service`.
#[allow(clippy::too_many_lines)] // one sequence: declare, generate, show, write, drop data
pub fn remove_service(a: &RemoveArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let dir = project_folder(a.project.as_deref(), &a.dir)?;
    let mut state = State::read(&dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let (before, migrated) = declared::load(&dir, &ctx.lib, &stack, &state)?;
    let mut text = match migrated {
        Some(t) => t,
        None => plan_text(&dir)?,
    };
    let mut removed = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if !before.instances.contains(s) {
            let names: Vec<&str> = before.instances.names().collect();
            return Err(error_with_hint(
                format!("service '{s}' is not in {}", state.name),
                format!(
                    "its services: {}",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
        if !removed.contains(s) {
            text = edit::remove_instance(&text, s);
            removed.push(s.clone());
        }
    }
    let file = reread(&ctx, &stack, &text)?;
    let rest: Vec<String> = file.instances.names().map(str::to_owned).collect();
    let services = catalog_services(&ctx, &stack, &file, &rest)
        .context("the remaining services would not work")?;

    let mut plan = Plan::new(&dir);
    plan.set(berth::stackfile::FILE, Some(text), 0o644)?;
    let mut spec = spec_of(&state, &ctx.config, file);
    spec.services = services;
    for s in &removed {
        spec.published.remove(s);
    }
    plan.set(
        SERVICES_FILE,
        Some(services_file(&ctx.lib, &stack, &spec)?),
        0o644,
    )?;
    let gone: BTreeMap<String, String> = secret_kinds(&ctx.lib, &stack, &before, &removed)?
        .into_iter()
        .filter(|(k, _)| !stack.manifest.secrets.contains_key(k))
        .collect();
    let secrets: BTreeSet<String> = gone.keys().cloned().collect();
    if let Some(mut env_text) = plan.read(".env")? {
        for s in &removed {
            if let Some(rec) = state.env.get(s) {
                let (text, kept) = envfile::remove(&env_text, rec);
                env_text = text;
                for k in kept {
                    warn(TOOL, format!(".env: {k}"));
                }
            }
        }
        plan.set(".env", Some(env_text), 0o600)?;
    }
    for s in &removed {
        state.env.remove(s);
        state.published.remove(s);
    }
    state.forget_secrets(
        &secrets,
        &secret_kinds(&ctx.lib, &stack, &spec.file, &rest)?,
    );
    state.services = spec
        .instances(&ctx.lib)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;

    let mut volumes = Vec::new();
    for s in &removed {
        if describe(&ctx.lib, service_of(&before, s), &stack.manifest.style)?
            .data
            .is_some()
        {
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
