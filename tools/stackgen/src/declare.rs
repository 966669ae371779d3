//! Changing the declared stack: `stackgen set`, `unset` and `wire` edit
//! `berth.yaml` (only the lines of what they change: the user's comments
//! and order stay), `stackgen generate` takes a hand-edited one as it is;
//! each then regenerates the files and shows the diff first.

use std::path::PathBuf;

use berth::cli::{Outcome, error_with_hint, excerpt};
use berth::stackfile::edit;
use yaml_serde::{Mapping, Value};

use crate::ctx::Ctx;
use crate::services::{Change, Loaded, load, sync};

/// The flags every change of the declared stack takes.
#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    /// The project folder (default: the current folder).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// The registered project, instead of --dir.
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    project: Option<String>,
    /// Show the diff and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short)]
    yes: bool,
}

/// Regenerate the project's files from its berth.yaml as it is.
///
/// After editing berth.yaml by hand: checks it (exit 2 naming file, line
/// and key), regenerates .berth/compose.services.yaml, adds .env blocks and
/// secrets for new instances and takes back those of removed ones, showing
/// the diff first. A project generated before berth.yaml existed gets one.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    change: ChangeArgs,
}

/// Set overrides of instances in berth.yaml.
///
/// KEY is a field of the instance: `version`, `image`, `ports`, `volumes`,
/// `environment.NAME`, `env_file`, `depends_on`, `labels.NAME`, `domains`,
/// `healthcheck.FIELD`, `config_files.PATH`, `command`, `resources.cpus`,
/// `resources.memory`. A VALUE starting with `[` or `{` is YAML (a list or
/// a mapping); any other is a string.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  stackgen set redis.resources.memory=256m
  stackgen set analytics-db.version=15 analytics-db.environment.POSTGRES_DB=analytics
  stackgen set redis.ports='[\"127.0.0.1:16379:6379\"]' --dry-run")]
pub struct SetArgs {
    /// INSTANCE.KEY=VALUE assignments.
    #[arg(required = true, value_name = "INSTANCE.KEY=VALUE")]
    assignments: Vec<String>,
    #[command(flatten)]
    change: ChangeArgs,
}

/// Remove overrides of instances from berth.yaml (back to the template's).
#[derive(Debug, clap::Args)]
pub struct UnsetArgs {
    /// INSTANCE.KEY to remove (`redis.resources.memory`, `db.environment.X`).
    #[arg(required = true, value_name = "INSTANCE.KEY")]
    keys: Vec<String>,
    #[command(flatten)]
    change: ChangeArgs,
}

/// Wire a consumer's import to a provider instance, explicitly.
///
/// CONSUMER is `app` or an instance (a worker); IMPORT a role it imports
/// (database, cache, mail, storage); PROVIDER the instance that serves it.
/// Needed when several instances could provide an import.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  stackgen wire app.database postgres
  stackgen wire celery.database analytics-db")]
pub struct WireArgs {
    /// CONSUMER.IMPORT (`app.database`).
    #[arg(value_name = "CONSUMER.IMPORT")]
    import: String,
    /// The providing instance.
    #[arg(value_name = "PROVIDER")]
    provider: String,
    #[command(flatten)]
    change: ChangeArgs,
}

/// Fields whose next segment is a name of its own (`environment.A.B` sets
/// the variable `A.B`; `config_files./etc/x.conf` the path).
const NAMED: [&str; 3] = ["environment", "labels", "config_files"];

/// `INSTANCE.KEY` split: the instance and the key path inside it.
fn split_key(spec: &str) -> anyhow::Result<(String, Vec<String>)> {
    let bad = || {
        error_with_hint(
            format!("'{}' is not INSTANCE.KEY", excerpt(spec)),
            "e.g. redis.resources.memory, or analytics-db.environment.POSTGRES_DB",
        )
    };
    let (instance, key) = spec.split_once('.').ok_or_else(bad)?;
    if instance.is_empty() || key.is_empty() {
        return Err(bad());
    }
    let path = match key.split_once('.') {
        Some((field, rest)) if NAMED.contains(&field) => vec![field.to_owned(), rest.to_owned()],
        _ => key.split('.').map(str::to_owned).collect(),
    };
    if path.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok((instance.to_owned(), path))
}

/// A VALUE as set: YAML when it is a flow list or mapping, else a string.
fn value_of(text: &str, what: &str) -> anyhow::Result<Value> {
    let t = text.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        berth::compose::yaml::parse(text, 10_000).map_err(|e| {
            error_with_hint(
                format!("{what}: not YAML: {e}"),
                "quote the whole assignment for the shell",
            )
        })
    } else {
        Ok(Value::String(text.to_owned()))
    }
}

/// The instance's current body (its mapping of overrides).
fn body_of(l: &Loaded, instance: &str) -> anyhow::Result<Mapping> {
    let Some(inst) = l.file.instance(instance) else {
        let names: Vec<&str> = l.file.instances.names().collect();
        return Err(error_with_hint(
            format!(
                "no instance '{}' in {}",
                excerpt(instance),
                berth::stackfile::FILE
            ),
            format!(
                "its instances: {} (add one with `stackgen add-service`)",
                names.join(", ")
            ),
        ));
    };
    Ok(match yaml_serde::to_value(inst)? {
        Value::Mapping(m) => m,
        _ => Mapping::new(),
    })
}

/// An instance body in the model's key order when it is a valid instance;
/// as it is otherwise (reading the file back then names what is wrong, where).
fn canonical(body: &Mapping) -> Value {
    let raw = Value::Mapping(body.clone());
    yaml_serde::from_value::<berth::stackfile::Instance>(raw.clone())
        .ok()
        .and_then(|i| yaml_serde::to_value(i).ok())
        .unwrap_or(raw)
}

fn key(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// Set `path` in `m` to `v`, creating mappings on the way.
fn set_path(m: &mut Mapping, path: &[String], v: Value) {
    let (first, rest) = path.split_first().expect("a key path has a first segment");
    if rest.is_empty() {
        m.insert(key(first), v);
        return;
    }
    let child = m
        .entry(key(first))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if !child.is_mapping() {
        *child = Value::Mapping(Mapping::new());
    }
    if let Value::Mapping(cm) = child {
        set_path(cm, rest, v);
    }
}

/// Remove `path` from `m` (emptied mappings on the way go too); whether it was there.
fn unset_path(m: &mut Mapping, path: &[String]) -> bool {
    let (first, rest) = path.split_first().expect("a key path has a first segment");
    if rest.is_empty() {
        return m.remove(first.as_str()).is_some();
    }
    let Some(Value::Mapping(cm)) = m.get_mut(first.as_str()) else {
        return false;
    };
    let found = unset_path(cm, rest);
    if cm.is_empty() {
        m.remove(first.as_str());
    }
    found
}

fn change(c: &ChangeArgs, text: String, question: String) -> Change<'static> {
    Change {
        dir: PathBuf::new(),
        text,
        publish: &[],
        dry_run: c.dry_run,
        yes: c.yes,
        with_data: false,
        question,
        secrets: std::collections::BTreeMap::new(),
        renew: &[],
    }
}

/// Run the change on the loaded project.
fn apply(ctx: &Ctx, l: Loaded, mut c: Change<'_>) -> anyhow::Result<Outcome> {
    c.dir = l.dir;
    sync(ctx, &l.stack, l.state, &c)
}

/// `generate`.
pub fn generate(a: &GenerateArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = load(&ctx, a.change.project.as_deref(), &a.change.dir)?;
    let question = format!(
        "regenerate {} from {}?",
        l.state.name,
        berth::stackfile::FILE
    );
    let c = change(&a.change, l.text.clone(), question);
    apply(&ctx, l, c)
}

/// `set`.
pub fn set(a: &SetArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = load(&ctx, a.change.project.as_deref(), &a.change.dir)?;
    let mut text = l.text.clone();
    let mut bodies: Vec<(String, Mapping)> = Vec::new();
    for assignment in &a.assignments {
        let Some((spec, value)) = assignment.split_once('=') else {
            return Err(error_with_hint(
                format!("'{}' is not INSTANCE.KEY=VALUE", excerpt(assignment)),
                "e.g. redis.resources.memory=256m",
            ));
        };
        let (instance, path) = split_key(spec)?;
        let v = value_of(value, spec)?;
        let slot = if let Some(i) = bodies.iter().position(|(n, _)| *n == instance) {
            i
        } else {
            bodies.push((instance.clone(), body_of(&l, &instance)?));
            bodies.len() - 1
        };
        set_path(&mut bodies[slot].1, &path, v);
    }
    for (instance, body) in &bodies {
        text = edit::replace_instance(&text, instance, &canonical(body));
    }
    let question = format!("set {} in {}?", a.assignments.join(" "), l.state.name);
    let c = change(&a.change, text, question);
    apply(&ctx, l, c)
}

/// `unset`.
pub fn unset(a: &UnsetArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = load(&ctx, a.change.project.as_deref(), &a.change.dir)?;
    let mut text = l.text.clone();
    for spec in &a.keys {
        let (instance, path) = split_key(spec)?;
        let mut body = body_of(&l, &instance)?;
        if !unset_path(&mut body, &path) {
            return Err(error_with_hint(
                format!("{} has no override {}", instance, path.join(".")),
                format!("see them with `stackgen config {instance}`"),
            ));
        }
        text = edit::replace_instance(&text, &instance, &canonical(&body));
    }
    let question = format!("unset {} in {}?", a.keys.join(" "), l.state.name);
    let c = change(&a.change, text, question);
    apply(&ctx, l, c)
}

/// `wire`.
pub fn wire(a: &WireArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = load(&ctx, a.change.project.as_deref(), &a.change.dir)?;
    let text = edit::set_wire(&l.text, &a.import, &a.provider);
    let question = format!("wire {} to {} in {}?", a.import, a.provider, l.state.name);
    let c = change(&a.change, text, question);
    apply(&ctx, l, c)
}
