//! `stackgen add-service` and `remove-service`: regenerate berth's services
//! file, append to or take back from .env, and show the diff first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command as Proc, Stdio};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint, warn};
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
    /// Take the services from the shared servers (`shared`) instead of
    /// containers of the project (postgres, mariadb, mysql, redis, valkey):
    /// the app reaches `berth-shared-SERVICE` with an account of its own,
    /// which `stackctl start` creates.
    #[arg(long, conflicts_with = "publish")]
    shared: bool,
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
    let file = berth::stackfile::parse(text, berth::stackfile::FILE, Some(&cat))?;
    check_ports(ctx, text, &file)?;
    Ok(file)
}

/// A host port an instance pins must not be another registered project's:
/// exit 2 naming the line and key, as every other problem of the file.
fn check_ports(ctx: &Ctx, text: &str, file: &StackFile) -> anyhow::Result<()> {
    let pinned: Vec<(String, usize, u16)> = file
        .instances
        .iter()
        .flat_map(|(name, inst)| {
            inst.ports.iter().enumerate().flat_map(move |(i, spec)| {
                berth::compose::ports::parse_short(name, spec)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(move |b| Some((name.to_owned(), i, b.published?)))
            })
        })
        .collect();
    if pinned.is_empty() {
        return Ok(());
    }
    let projects = berth::registry::Registry::open(&ctx.paths).load_ports()?;
    let spans = berth::stackfile::spans::Spans::index(text);
    let mut list = Vec::new();
    for (instance, i, port) in pinned {
        let owner = projects
            .iter()
            .find(|p| p.name != file.name && berth::claims::project_ports(*p).any(|x| x == port));
        if let Some(owner) = owner {
            let key = vec![
                "instances".to_owned(),
                instance.clone(),
                "ports".to_owned(),
                i.to_string(),
            ];
            list.push(berth::stackfile::Diagnostic {
                line: spans.line(&key),
                key: key.join("."),
                message: format!("host port {port} is claimed by project '{}'", owner.name),
            });
        }
    }
    if list.is_empty() {
        return Ok(());
    }
    Err(berth::stackfile::Errors {
        file: berth::stackfile::FILE.to_owned(),
        list,
    }
    .into())
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

/// One change of the declared stack, made by [`sync`].
pub(crate) struct Change<'a> {
    pub(crate) dir: PathBuf,
    /// The new `berth.yaml`.
    pub(crate) text: String,
    /// Instances whose ports get published (`add-service --publish`).
    pub(crate) publish: &'a [String],
    pub(crate) dry_run: bool,
    pub(crate) yes: bool,
    /// Delete removed instances' containers and data volumes.
    pub(crate) with_data: bool,
    /// What is asked before writing (`add redis to shop?`).
    pub(crate) question: String,
    /// Secrets `berth.yaml`'s own variables name, made when missing
    /// (`stackgen import`'s placeholders): name -> kind.
    pub(crate) secrets: BTreeMap<String, String>,
    /// Instances generated anew (`.env` block and secrets taken back and
    /// made again): `migrate` flips their `shared`.
    pub(crate) renew: &'a [String],
}

/// Bring the generated files in line with `c.text`: the services file
/// regenerated from it, `.env` blocks and secrets for the instances it
/// adds, taken back for those it drops, the state recorded. Everything is
/// checked and generated first, shown as a diff and asked; then the store,
/// then the files. Bad input changes nothing.
#[allow(clippy::too_many_lines)] // one sequence: check, allocate, generate, show, write
pub(crate) fn sync(
    ctx: &Ctx,
    stack: &Stack,
    mut state: State,
    c: &Change,
) -> anyhow::Result<Outcome> {
    let file = reread(ctx, stack, &c.text)?;
    if !c.dir.join(berth::stackfile::FILE).exists() {
        berth::info!(
            "{} is written from {STATE_FILE} (the project predates it): the generated files it implies are the ones there",
            berth::stackfile::FILE
        );
    }
    let now: Vec<String> = file.instances.names().map(str::to_owned).collect();
    let services = catalog_services(ctx, stack, &file, &now)?;
    let generated = declared::from_state(&state);
    let generated_shared: Vec<String> =
        berth::stackfile::parse(&on_disk(&c.dir), berth::stackfile::FILE, None)
            .map(|f| shared_instances(&f))
            .unwrap_or_default();
    let shared_now = shared_instances(&file);
    let added: Vec<String> = now
        .iter()
        .filter(|n| !state.services.contains(n) || c.renew.contains(n))
        .cloned()
        .collect();
    let removed: Vec<String> = state
        .services
        .iter()
        .filter(|n| !file.instances.contains(n) || c.renew.contains(n))
        .cloned()
        .collect();
    for p in c.publish {
        if !file.instances.contains(p) {
            return Err(error_with_hint(
                format!("--publish names '{p}', which is not among the project's services"),
                format!("services: {}", now.join(", ")),
            ));
        }
    }
    for r in &removed {
        state.published.remove(r);
    }
    let mut wanted = Vec::new();
    for s in c.publish {
        if state.published.contains_key(s) {
            continue;
        }
        for target in publishable(&ctx.lib, stack, service_of(&file, s))? {
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
    let mut kinds = secret_kinds(&ctx.lib, stack, &file, &added)?;
    let extra: BTreeMap<String, String> = c
        .secrets
        .iter()
        .filter(|(k, _)| !state.secrets.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kinds.extend(extra.clone());
    let gone: BTreeSet<String> = secret_kinds(&ctx.lib, stack, &generated, &removed)?
        .into_keys()
        .filter(|k| !stack.manifest.secrets.contains_key(k))
        .collect();
    let mut spec = Spec::of_project(&state, &ctx.config, file);
    spec.services = services;
    let values = berth::secrets::generate_all(&kinds)?;
    spec.secrets = crate::stored::written(&ctx.config, &values);

    let mut plan = Plan::new(&c.dir);
    plan.set(berth::stackfile::FILE, Some(c.text.clone()), 0o644)?;
    plan.set(
        SERVICES_FILE,
        Some(services_file(&ctx.lib, stack, &spec)?),
        0o644,
    )?;
    let env_before = plan.read(".env")?;
    let mut env_text = env_before.clone().unwrap_or_default();
    let old_keys: BTreeSet<String> = envfile::pairs(&env_text)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k)
        .collect();
    for s in &removed {
        if let Some(rec) = state.env.remove(s) {
            let (text, kept) = envfile::remove(&env_text, &rec);
            env_text = text;
            for k in kept {
                warn(TOOL, format!(".env: {k}"));
            }
        }
    }
    for s in &added {
        let vars = service_env(&ctx.lib, stack, &spec, s, false)?;
        let (text, rec) = envfile::append(&env_text, &marker(s), &vars);
        env_text = text;
        if let Some(rec) = rec {
            state.env.insert(s.clone(), rec);
        }
    }
    if !extra.is_empty() {
        // The stack file's own secrets: a block of their own.
        let vars: Vec<envfile::Var> = extra
            .keys()
            .map(|k| {
                if spec.stored(k) {
                    envfile::Var::stored(k, &spec.name)
                } else {
                    envfile::Var::set(k, spec.secrets.get(k).map_or("", String::as_str))
                }
            })
            .collect();
        let (text, rec) = envfile::append(&env_text, &marker(berth::stackfile::FILE), &vars);
        env_text = text;
        if let Some(rec) = rec {
            state.env.insert(berth::stackfile::FILE.to_owned(), rec);
        }
    }
    if env_before.is_some() || !added.is_empty() || !extra.is_empty() {
        warn_compose_file(&env_text);
        plan.set(".env", Some(env_text), 0o600)?;
    }
    let kept = secret_kinds(&ctx.lib, stack, &spec.file, &now)?;
    state.forget_secrets(&gone, &kept);
    state.secrets.extend(kinds.clone());
    state.instances = spec
        .file
        .instances
        .iter()
        .filter(|(n, i)| i.service_name(n) != *n)
        .map(|(n, i)| (n.to_owned(), i.service_name(n).to_owned()))
        .collect();
    state.services = spec
        .instances(&ctx.lib)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;

    let mut volumes = Vec::new();
    for s in &removed {
        if describe(&ctx.lib, service_of(&generated, s), &stack.manifest.style)?
            .data
            .is_some()
        {
            volumes.push((s.clone(), format!("{}-{s}-data", state.name)));
        }
    }
    for (_, v) in &volumes {
        if c.with_data {
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
    let mut secrets: BTreeSet<String> = kinds.keys().cloned().collect();
    secrets.extend(gone);
    secrets.extend(state.secrets.keys().cloned());
    if !show_and_confirm(&plan, &secrets, c.dry_run, &c.question, c.yes)? {
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
    record_shared(ctx, &state.name, &shared_now)?;
    show(&plan.summary());
    for r in removed.iter().filter(|r| generated_shared.contains(r)) {
        berth::info!(
            "{}'s account on the shared {r} is kept: `shared db drop {} --instance {r}` removes it",
            state.name,
            state.name
        );
    }
    if c.with_data {
        for (s, v) in &volumes {
            drop_container_and_volume(&format!("{}-{s}", state.name), v)?;
        }
    }
    if !added.is_empty() {
        berth::info!(
            "added {} to {}; run `stackctl start {}` (and `registry update {}` when ports were published)",
            added.join(", "),
            state.name,
            state.name,
            state.name
        );
    }
    Ok(Outcome::Clean)
}

/// A project's folder, state, stack and `berth.yaml` text (the one its
/// state implies when it has none yet: the first command writes it).
pub(crate) struct Loaded {
    pub(crate) dir: PathBuf,
    pub(crate) state: State,
    pub(crate) stack: Stack,
    pub(crate) file: StackFile,
    pub(crate) text: String,
    /// No `berth.yaml` yet: `text` is the one the state implies.
    pub(crate) first: bool,
}

pub(crate) fn load(
    ctx: &Ctx,
    project: Option<&str>,
    dir: &std::path::Path,
) -> anyhow::Result<Loaded> {
    let dir = project_folder(project, dir)?;
    let state = State::read(&dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let declared::Declared { file, text, first } = declared::load(&dir, &ctx.lib, &stack, &state)?;
    Ok(Loaded {
        dir,
        state,
        stack,
        file,
        text,
        first,
    })
}

/// `add-service`.
pub fn add_service(a: &AddArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = load(&ctx, a.project.as_deref(), &a.dir)?;
    if a.as_name.is_some() && a.services.len() > 1 {
        return Err(error_with_hint(
            "--as names one instance: give one SERVICE with it",
            "add the others in another run",
        ));
    }
    // Unknown or unoffered services are named as such before any edit.
    let mut wanted: Vec<String> = l
        .file
        .instances
        .iter()
        .map(|(n, i)| i.service_name(n).to_owned())
        .collect();
    wanted.extend(a.services.iter().cloned());
    resolve_services(&ctx.lib, &l.stack, &wanted)?;
    let mut text = l.text.clone();
    let mut added = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if a.shared && !berth::shared::has_accounts(s) {
            return Err(error_with_hint(
                format!("--shared names '{s}', which cannot be taken from a shared server"),
                "shared with an account per project: postgres, mariadb, mysql, redis, valkey",
            ));
        }
        let name = a.as_name.clone().unwrap_or_else(|| s.clone());
        names::validate_label("instance name", &name)?;
        if l.file.instances.contains(&name) {
            berth::info!("note: {name} is already in {}", l.state.name);
        } else if !added.contains(&name) {
            let mut inst = if name == *s {
                Instance::default()
            } else {
                Instance::of(s)
            };
            inst.shared = a.shared;
            text = edit::add_instance(&text, &name, &inst);
            added.push(name);
        }
    }
    let text = pin_wires(&ctx, &l.stack, &l.file, text)?;
    let question = format!("add {} to {}?", added.join(", "), l.state.name);
    let change = Change {
        dir: l.dir,
        text,
        publish: &a.publish,
        dry_run: a.dry_run,
        yes: a.yes,
        with_data: false,
        question,
        secrets: BTreeMap::new(),
        renew: &[],
    };
    sync(&ctx, &l.stack, l.state, &change)
}

/// `remove-service`.
pub fn remove_service(a: &RemoveArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = load(&ctx, a.project.as_deref(), &a.dir)?;
    let mut text = l.text.clone();
    let mut removed = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if !l.file.instances.contains(s) {
            let names: Vec<&str> = l.file.instances.names().collect();
            return Err(error_with_hint(
                format!("service '{s}' is not in {}", l.state.name),
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
    // What remains must still work (a worker keeps its broker).
    let file = reread(&ctx, &l.stack, &text)?;
    let rest: Vec<String> = file.instances.names().map(str::to_owned).collect();
    catalog_services(&ctx, &l.stack, &file, &rest)
        .context("the remaining services would not work")?;
    let question = format!("remove {} from {}?", removed.join(", "), l.state.name);
    let change = Change {
        dir: l.dir,
        text,
        publish: &[],
        dry_run: a.dry_run,
        yes: a.yes,
        with_data: a.with_data,
        question,
        secrets: BTreeMap::new(),
        renew: &[],
    };
    sync(&ctx, &l.stack, l.state, &change)
}

/// The instances of `file` served by the shared servers.
fn shared_instances(file: &StackFile) -> Vec<String> {
    file.instances
        .iter()
        .filter(|(_, i)| i.shared)
        .map(|(n, _)| n.to_owned())
        .collect()
}

/// The project's `berth.yaml` as it is on disk (empty when there is none).
fn on_disk(dir: &std::path::Path) -> String {
    berth::fsread::read_text(
        &dir.join(berth::stackfile::FILE),
        None,
        berth::fsread::TEXT_LIMIT,
    )
    .ok()
    .flatten()
    .map(|t| t.text)
    .unwrap_or_default()
}

/// The registry's `shared` of the project `name` (when it is registered)
/// follows its `berth.yaml`, so `stackctl start` brings up what it takes.
fn record_shared(ctx: &Ctx, name: &str, shared: &[String]) -> anyhow::Result<()> {
    let registry = berth::registry::Registry::open(&ctx.paths);
    if !registry.load()?.iter().any(|p| p.name == name) {
        return Ok(());
    }
    registry.update_project(name, |p| {
        let change = p.shared != shared;
        p.shared = shared.to_vec();
        Ok((change, ()))
    })
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
