//! Plan: what `stackctl apply` would change in a project's containers to
//! make them what its compose files say, service by service, with the
//! serials of both sides so a saved plan can be checked for staleness.
//! The comparison itself is here (pure), so it is tested without an engine.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// What shows a masked value: a secret's value never appears in a plan.
pub use crate::envline::MASK as SECRET;

/// What apply does to one service.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// No container yet: create it.
    Add,
    /// The definition changed, or the container does not run: recreate or start it.
    Change,
    /// A container of a service no longer in the compose files: remove it.
    Remove,
    /// The container runs what the files say: keep it.
    Unchanged,
}

impl Action {
    /// `+`, `~`, `-`, `=` as `terraform plan` shows them.
    pub fn sign(self) -> char {
        match self {
            Action::Add => '+',
            Action::Change => '~',
            Action::Remove => '-',
            Action::Unchanged => '=',
        }
    }
}

/// One field of a service definition that changed (secrets masked).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path in the definition: `environment.QUEUE`, `deploy.resources.limits.memory`.
    pub path: String,
    /// The value apply recorded (null when the field was absent).
    pub old: Option<Value>,
    /// The value the compose files say now (null when the field is gone).
    pub new: Option<Value>,
}

/// One service's part of the plan.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub service: String,
    pub action: Action,
    /// Why a `change`: the definition changed, the container is not running,
    /// no record of what was applied.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The fields that changed, old → new (for `change`).
    #[serde(default)]
    pub fields: Vec<FieldChange>,
    /// The config hash the container has (null without a container or label).
    pub current_hash: Option<String>,
    /// The config hash of what the compose files say (null for `remove`).
    pub desired_hash: Option<String>,
    /// The container's ID (null for `add`).
    pub container: Option<String>,
}

/// The plan of one project.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub project: String,
    /// Content hash of every input of the desired state: the compose files,
    /// `.env`, `berth.yaml`, and the services' config hashes (which take in
    /// the registry's variables and the secrets).
    pub stack_serial: String,
    /// Hash of the containers seen: (service, container ID, state, config hash).
    pub state_serial: String,
    /// One entry per service, in name order.
    pub changes: Vec<Change>,
    /// What the declared stack leaves open (an ambiguous or missing wire of
    /// `berth.yaml`), as sentences; apply refuses while there is any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub created_at: Timestamp,
}

impl Plan {
    /// How many services are added, changed and removed.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        (n(Action::Add), n(Action::Change), n(Action::Remove))
    }

    /// Whether applying it changes anything.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }

    /// The services with this action.
    pub fn services(&self, action: Action) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|c| c.action == action)
            .map(|c| c.service.as_str())
            .collect()
    }

    /// `Plan: 1 to add, 1 to change, 0 to remove.`
    pub fn summary(&self) -> String {
        let (a, c, r) = self.counts();
        format!("Plan: {a} to add, {c} to change, {r} to remove.")
    }

    /// The plan as `terraform plan` shows it: one line per service, one per
    /// changed field, then the summary.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for c in &self.changes {
            let sign = c.action.sign();
            if c.fields.is_empty() && c.reasons.is_empty() {
                let _ = writeln!(out, "{sign} {}", c.service);
            }
            for f in &c.fields {
                let _ = writeln!(
                    out,
                    "{sign} {}: {}: {} → {}",
                    c.service,
                    f.path,
                    shown(f.old.as_ref()),
                    shown(f.new.as_ref())
                );
            }
            for r in &c.reasons {
                let _ = writeln!(out, "{sign} {}: {r}", c.service);
            }
        }
        for p in &self.problems {
            let _ = writeln!(out, "! {p}");
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }
}

/// A value in a plan line: JSON (`"a"`, `512`), `(none)` when absent.
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".to_owned(),
        Some(Value::String(s)) if s == SECRET => SECRET.to_owned(),
        Some(v) => v.to_string(),
    }
}

/// What the compose files say for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub service: String,
    /// `berth::stackfile::config_hash` of its definition.
    pub hash: String,
    pub definition: Applied,
}

/// One container the engine has for the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub service: String,
    pub container: String,
    pub state: String,
    /// Its `berth.config-hash` label.
    pub hash: Option<String>,
}

/// A service definition as apply records it: masked, with digests of the
/// masked values so a changed secret still shows as a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The config hash of the definition.
    pub hash: String,
    /// The definition, secret values replaced by [`SECRET`].
    pub definition: Value,
    /// Per masked path, a digest of its value (never the value).
    #[serde(default)]
    pub secret_digests: BTreeMap<String, String>,
}

/// What apply recorded for a project: per service, what it created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub project: String,
    pub services: BTreeMap<String, Applied>,
}

/// The secrets of a project as masking needs them.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    names: BTreeSet<String>,
    values: BTreeSet<String>,
}

impl Secrets {
    /// From the store's `KEY`, `VALUE` pairs.
    pub fn new(pairs: &[(String, String)]) -> Self {
        Self {
            names: pairs.iter().map(|(k, _)| k.clone()).collect(),
            values: pairs
                .iter()
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
                .collect(),
        }
    }

    /// Whether `text` is or holds a secret value (a URL with a password in it too).
    fn holds(&self, text: &str) -> bool {
        self.values.iter().any(|v| text.contains(v.as_str()))
    }
}

impl Applied {
    /// Mask `definition` (a service's compose definition as JSON):
    /// `environment` in list form becomes a mapping, so a variable is a
    /// field of its own; every string that holds a secret value, and every
    /// variable the store names, becomes [`SECRET`].
    pub fn masked(hash: String, mut definition: Value, secrets: &Secrets) -> Self {
        normalize_environment(&mut definition);
        let mut digests = BTreeMap::new();
        if let Some(env) = definition
            .get_mut("environment")
            .and_then(Value::as_object_mut)
        {
            for (k, v) in env.iter_mut() {
                if secrets.names.contains(k) && v.as_str() != Some(SECRET) {
                    let path = format!("environment.{k}");
                    digests.insert(path.clone(), digest(&path, v));
                    *v = Value::String(SECRET.to_owned());
                }
            }
        }
        mask_strings(&mut definition, String::new(), secrets, &mut digests);
        Self {
            hash,
            definition,
            secret_digests: digests,
        }
    }
}

/// A digest of a masked value, to tell that it changed. The record holding
/// it lives in berth's data folder beside the secrets store and its key.
fn digest(path: &str, v: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"berth-plan\0");
    h.update(path.as_bytes());
    h.update(b"\0");
    h.update(v.to_string().as_bytes());
    crate::stackfile::serial(&h.finalize())
}

fn mask_strings(
    v: &mut Value,
    path: String,
    secrets: &Secrets,
    digests: &mut BTreeMap<String, String>,
) {
    match v {
        Value::String(s) if s != SECRET && secrets.holds(s) => {
            digests.insert(path.clone(), digest(&path, v));
            *v = Value::String(SECRET.to_owned());
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                mask_strings(x, join(&path, k), secrets, digests);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter_mut().enumerate() {
                mask_strings(x, format!("{path}[{i}]"), secrets, digests);
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `environment: [K=V, K]` as `{K: V, K: null}`, as compose reads it.
fn normalize_environment(definition: &mut Value) {
    let Some(env) = definition.get_mut("environment") else {
        return;
    };
    if let Value::Array(items) = env {
        let map = items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| match item.split_once('=') {
                Some((k, v)) => (k.to_owned(), Value::String(v.to_owned())),
                None => (item.to_owned(), Value::Null),
            })
            .collect();
        *env = Value::Object(map);
    }
}

/// The fields that differ between two masked definitions: mappings are
/// compared key by key, anything else (lists, scalars) as a whole; a
/// masked value whose digest changed is a change shown as `(secret)`.
pub fn fields(old: &Applied, new: &Applied) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff(
        Some(&old.definition),
        Some(&new.definition),
        String::new(),
        &mut out,
    );
    let shown: BTreeSet<String> = out.iter().map(|f| f.path.clone()).collect();
    let paths: BTreeSet<&String> = old
        .secret_digests
        .keys()
        .chain(new.secret_digests.keys())
        .collect();
    for p in paths {
        if !shown.contains(p) && old.secret_digests.get(p) != new.secret_digests.get(p) {
            let masked = |a: &Applied| {
                a.secret_digests
                    .contains_key(p)
                    .then(|| Value::String(SECRET.to_owned()))
            };
            out.push(FieldChange {
                path: p.clone(),
                old: masked(old),
                new: masked(new),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn diff(old: Option<&Value>, new: Option<&Value>, path: String, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                diff(a.get(k), b.get(k), join(&path, k), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange {
            path,
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}

/// The serial of the containers seen: a hash over (service, container ID,
/// state, config hash), sorted, so any container created, removed,
/// started, stopped or relabelled changes it.
pub fn state_serial(actual: &[Actual]) -> String {
    let mut lines: Vec<String> = actual
        .iter()
        .map(|a| {
            format!(
                "{}\0{}\0{}\0{}\n",
                a.service,
                a.container,
                a.state,
                a.hash.as_deref().unwrap_or_default()
            )
        })
        .collect();
    lines.sort();
    crate::stackfile::serial(lines.concat().as_bytes())
}

/// Compare what the files say with the containers there are, using what
/// apply recorded for the old side of each changed field. One change per
/// service (a service with several containers takes its first one, in
/// container-ID order, and each container counts for the state serial).
pub fn compare(
    project: &str,
    stack_serial: String,
    desired: &[Desired],
    actual: &[Actual],
    record: &Record,
) -> Plan {
    let mut by_service: BTreeMap<&str, &Actual> = BTreeMap::new();
    let mut sorted: Vec<&Actual> = actual.iter().collect();
    sorted.sort_by(|a, b| a.container.cmp(&b.container));
    for a in sorted {
        by_service.entry(a.service.as_str()).or_insert(a);
    }
    let mut changes: Vec<Change> = desired
        .iter()
        .map(|d| one(d, by_service.get(d.service.as_str()).copied(), record))
        .collect();
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.service.as_str()).collect();
    for (service, a) in &by_service {
        if !wanted.contains(service) {
            changes.push(Change {
                service: (*service).to_owned(),
                action: Action::Remove,
                reasons: Vec::new(),
                fields: Vec::new(),
                current_hash: a.hash.clone(),
                desired_hash: None,
                container: Some(a.container.clone()),
            });
        }
    }
    changes.sort_by(|a, b| a.service.cmp(&b.service));
    Plan {
        project: project.to_owned(),
        stack_serial,
        state_serial: state_serial(actual),
        changes,
        problems: Vec::new(),
        created_at: Timestamp::now(),
    }
}

fn one(d: &Desired, actual: Option<&Actual>, record: &Record) -> Change {
    let mut change = Change {
        service: d.service.clone(),
        action: Action::Add,
        reasons: Vec::new(),
        fields: Vec::new(),
        current_hash: actual.and_then(|a| a.hash.clone()),
        desired_hash: Some(d.hash.clone()),
        container: actual.map(|a| a.container.clone()),
    };
    let Some(a) = actual else {
        return change;
    };
    match a.hash.as_deref() {
        None => change.reasons.push(format!(
            "the container has no {} label (created without berth)",
            crate::stackfile::CONFIG_HASH_LABEL
        )),
        Some(h) if h != d.hash => match record.services.get(&d.service) {
            Some(old) if old.hash == h => {
                change.fields = fields(old, &d.definition);
                if change.fields.is_empty() {
                    change
                        .reasons
                        .push("the definition changed (config hash differs)".to_owned());
                }
            }
            _ => change.reasons.push(
                "the config hash differs (no record of the definition the container was made from)"
                    .to_owned(),
            ),
        },
        Some(_) => {}
    }
    if a.state != "running" {
        change
            .reasons
            .push(format!("the container is {} (not running)", a.state));
    }
    change.action = if change.reasons.is_empty() && change.fields.is_empty() {
        Action::Unchanged
    } else {
        Action::Change
    };
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired(service: &str, def: Value, secrets: &Secrets) -> Desired {
        let hash = crate::stackfile::serial(def.to_string().as_bytes());
        Desired {
            service: service.into(),
            hash: hash.clone(),
            definition: Applied::masked(hash, def, secrets),
        }
    }

    fn actual(service: &str, id: &str, state: &str, hash: &str) -> Actual {
        Actual {
            service: service.into(),
            container: id.into(),
            state: state.into(),
            hash: Some(hash.into()),
        }
    }

    #[test]
    fn add_change_remove_unchanged_with_the_fields_old_to_new() {
        let none = Secrets::default();
        let old_worker = desired(
            "worker",
            json!({"image": "x", "environment": ["QUEUE=a"]}),
            &none,
        );
        let db = desired("db", json!({"image": "postgres:16"}), &none);
        let record = Record {
            project: "p".into(),
            services: BTreeMap::from([
                ("worker".into(), old_worker.definition.clone()),
                ("db".into(), db.definition.clone()),
            ]),
        };
        let new_worker = desired(
            "worker",
            json!({"image": "x", "environment": {"QUEUE": "b"}, "mem_limit": "64m"}),
            &none,
        );
        let redis = desired("redis", json!({"image": "redis:7"}), &none);
        let seen = [
            actual("db", "c1", "running", &db.hash),
            actual("worker", "c2", "running", &old_worker.hash),
            actual("old", "c3", "running", "zz"),
        ];
        let plan = compare("p", "s".into(), &[db, new_worker, redis], &seen, &record);
        let actions: Vec<(&str, Action)> = plan
            .changes
            .iter()
            .map(|c| (c.service.as_str(), c.action))
            .collect();
        assert_eq!(
            actions,
            [
                ("db", Action::Unchanged),
                ("old", Action::Remove),
                ("redis", Action::Add),
                ("worker", Action::Change)
            ]
        );
        let text = plan.render();
        assert!(
            text.contains("~ worker: environment.QUEUE: \"a\" → \"b\"\n"),
            "{text}"
        );
        assert!(
            text.contains("~ worker: mem_limit: (none) → \"64m\"\n"),
            "{text}"
        );
        assert!(
            text.ends_with("Plan: 1 to add, 1 to change, 1 to remove.\n"),
            "{text}"
        );
        assert_eq!(
            serde_json::to_value(&plan.changes[1]).unwrap()["action"],
            "remove"
        );
    }

    #[test]
    fn a_stopped_container_is_a_change_that_says_why() {
        let none = Secrets::default();
        let d = desired("db", json!({"image": "postgres:16"}), &none);
        let seen = [actual("db", "c1", "exited", &d.hash)];
        let plan = compare("p", "s".into(), &[d], &seen, &Record::default());
        assert_eq!(plan.changes[0].action, Action::Change);
        assert_eq!(
            plan.changes[0].reasons,
            ["the container is exited (not running)"]
        );
    }

    #[test]
    fn secrets_are_masked_and_a_changed_secret_still_shows() {
        let secrets = Secrets::new(&[("API_KEY".into(), "hunter2-old".into())]);
        let old = desired(
            "app",
            json!({"environment": {"API_KEY": "hunter2-old", "URL": "pg://u:hunter2-old@db"}}),
            &secrets,
        );
        let secrets = Secrets::new(&[("API_KEY".into(), "s3cret-new".into())]);
        let new = desired(
            "app",
            json!({"environment": {"API_KEY": "s3cret-new", "URL": "pg://u:s3cret-new@db"}}),
            &secrets,
        );
        let record = Record {
            project: "p".into(),
            services: BTreeMap::from([("app".into(), old.definition.clone())]),
        };
        let seen = [actual("app", "c1", "running", &old.hash)];
        let plan = compare("p", "s".into(), &[new], &seen, &record);
        let text = plan.render();
        assert!(
            text.contains("~ app: environment.API_KEY: (secret) → (secret)"),
            "{text}"
        );
        assert!(
            text.contains("~ app: environment.URL: (secret) → (secret)"),
            "{text}"
        );
        let json = serde_json::to_string(&plan).unwrap();
        let recorded = serde_json::to_string(&record).unwrap();
        for s in ["hunter2", "s3cret"] {
            assert!(!text.contains(s) && !json.contains(s) && !recorded.contains(s));
        }
    }

    #[test]
    fn the_state_serial_changes_with_any_container_and_not_with_order() {
        let a = actual("db", "c1", "running", "h");
        let b = actual("app", "c2", "running", "h");
        let s = state_serial(&[a.clone(), b.clone()]);
        assert_eq!(s, state_serial(&[b.clone(), a.clone()]));
        let mut stopped = a.clone();
        stopped.state = "exited".into();
        assert_ne!(s, state_serial(&[stopped, b.clone()]));
        assert_ne!(s, state_serial(&[a]));
    }
}
