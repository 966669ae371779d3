//! The effective compose service of an instance: the catalog template, then
//! the wired variables, then the instance's overrides (overrides win; a
//! variable the user set wins over a wired one), with where each top-level
//! key and each variable came from; and the config hash berth records on the
//! containers it creates.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use yaml_serde::{Mapping, Value};

use super::{Command, Instance};

/// The label holding [`config_hash`] on the containers berth creates.
pub const CONFIG_HASH_LABEL: &str = "berth.config-hash";
/// The label listing an instance's `domains`, comma-separated, for the proxy.
pub const DOMAINS_LABEL: &str = "berth.domains";

/// Where a value of the effective config came from.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Template,
    Wire,
    Override,
}

/// The source of each top-level key and of each variable of `environment`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub keys: BTreeMap<String, Source>,
    pub environment: BTreeMap<String, Source>,
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// A template's `environment` (mapping or `KEY=VALUE` list) as a mapping of strings.
fn env_mapping(v: Option<&Value>) -> Mapping {
    let mut out = Mapping::new();
    match v {
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                if let (Some(k), Some(v)) = (k.as_str(), text_of(v)) {
                    out.insert(s(k), s(&v));
                }
            }
        }
        Some(Value::Sequence(items)) => {
            for item in items.iter().filter_map(Value::as_str) {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                out.insert(s(k), s(v));
            }
        }
        _ => {}
    }
    out
}

/// The container target of a short-syntax volume (`data:/var/lib/x:ro` -> `/var/lib/x`).
fn volume_target(spec: &str) -> &str {
    let mut parts = spec.split(':');
    let first = parts.next().unwrap_or(spec);
    parts.next().unwrap_or(first)
}

fn command_value(c: &Command) -> Value {
    match c {
        Command::Line(l) => s(l),
        Command::Args(a) => Value::Sequence(a.iter().map(|x| s(x)).collect()),
    }
}

/// `image: postgres:16` with version `15` -> `postgres:15` (a digest is dropped).
pub fn with_tag(image: &str, version: &str) -> String {
    let base = image.split('@').next().unwrap_or(image);
    let name_end = base.rfind('/').map_or(0, |i| i + 1);
    let repo = match base[name_end..].rfind(':') {
        Some(i) => &base[..name_end + i],
        None => base,
    };
    format!("{repo}:{version}")
}

/// The effective compose service of `inst`: `template` (the catalog's
/// service definition), then `wired` variables (name, value) over the
/// template's, then the overrides. Lists: `ports`, `env_file`, `command`,
/// `healthcheck` replace the template's; `volumes` (with `config_files`,
/// mounted read-only) merge by container target; `depends_on` adds;
/// `labels` and `environment` merge, the user's keys winning. Resource
/// limits appear as `deploy.resources.limits` (compose v2) and as
/// `cpus`/`mem_limit` (compose v1).
#[allow(clippy::too_many_lines)] // one step per override
pub fn effective(
    template: &Value,
    inst: &Instance,
    wired: &[(String, String)],
) -> (Value, Provenance) {
    let mut out = template.as_mapping().cloned().unwrap_or_default();
    let mut prov = Provenance::default();
    for k in out.keys().filter_map(Value::as_str) {
        prov.keys.insert(k.to_owned(), Source::Template);
    }
    // Environment: template < wire < user.
    let mut env = env_mapping(out.get("environment"));
    for k in env.keys().filter_map(Value::as_str) {
        prov.environment.insert(k.to_owned(), Source::Template);
    }
    let mut env_source = out.contains_key("environment").then_some(Source::Template);
    for (k, v) in wired {
        if inst.environment.contains_key(k) {
            continue;
        }
        env.insert(s(k), s(v));
        prov.environment.insert(k.clone(), Source::Wire);
        env_source = Some(Source::Wire);
    }
    for (k, v) in &inst.environment {
        env.insert(s(k), s(v));
        prov.environment.insert(k.clone(), Source::Override);
        env_source = Some(Source::Override);
    }
    if let Some(src) = env_source {
        out.insert(s("environment"), Value::Mapping(env));
        prov.keys.insert("environment".into(), src);
    }

    let mut over = |out: &mut Mapping, key: &str, v: Value| {
        out.insert(s(key), v);
        prov.keys.insert(key.to_owned(), Source::Override);
    };

    if let Some(image) = &inst.image {
        over(&mut out, "image", s(image));
    } else if let Some(version) = &inst.version {
        let base = out.get("image").and_then(Value::as_str).map(str::to_owned);
        if let Some(base) = base {
            over(&mut out, "image", s(&with_tag(&base, version)));
        }
    }
    if !inst.ports.is_empty() {
        over(
            &mut out,
            "ports",
            Value::Sequence(inst.ports.iter().map(|p| s(p)).collect()),
        );
    }
    let mut mounts: Vec<String> = inst.volumes.clone();
    mounts.extend(inst.config_files.iter().map(|(target, source)| {
        let source = if source.starts_with("./") {
            source.clone()
        } else {
            format!("./{source}")
        };
        format!("{source}:{target}:ro")
    }));
    if !mounts.is_empty() {
        let mut list: Vec<Value> = out
            .get("volumes")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for m in &mounts {
            let target = volume_target(m);
            let same = |v: &Value| {
                v.as_str().is_some_and(|x| volume_target(x) == target)
                    || v.get("target").and_then(Value::as_str) == Some(target)
            };
            match list.iter().position(same) {
                Some(i) => list[i] = s(m),
                None => list.push(s(m)),
            }
        }
        over(&mut out, "volumes", Value::Sequence(list));
    }
    if !inst.env_file.is_empty() {
        over(
            &mut out,
            "env_file",
            Value::Sequence(inst.env_file.iter().map(|f| s(f)).collect()),
        );
    }
    if !inst.depends_on.is_empty() {
        let merged = match out.get("depends_on").cloned() {
            Some(Value::Mapping(mut m)) => {
                for d in &inst.depends_on {
                    if !m.contains_key(d.as_str()) {
                        let mut cond = Mapping::new();
                        cond.insert(s("condition"), s("service_started"));
                        m.insert(s(d), Value::Mapping(cond));
                    }
                }
                Value::Mapping(m)
            }
            other => {
                let mut list: Vec<Value> = other
                    .and_then(|v| v.as_sequence().cloned())
                    .unwrap_or_default();
                for d in &inst.depends_on {
                    if !list.iter().any(|v| v.as_str() == Some(d)) {
                        list.push(s(d));
                    }
                }
                Value::Sequence(list)
            }
        };
        over(&mut out, "depends_on", merged);
    }
    if !inst.labels.is_empty() || !inst.domains.is_empty() {
        let mut labels = env_mapping(out.get("labels"));
        for (k, v) in &inst.labels {
            labels.insert(s(k), s(v));
        }
        if !inst.domains.is_empty() {
            labels.insert(s(DOMAINS_LABEL), s(&inst.domains.join(",")));
        }
        over(&mut out, "labels", Value::Mapping(labels));
    }
    if let Some(h) = &inst.healthcheck {
        over(
            &mut out,
            "healthcheck",
            yaml_serde::to_value(h).unwrap_or(Value::Null),
        );
    }
    if let Some(c) = &inst.command {
        over(&mut out, "command", command_value(c));
    }
    if let Some(r) = &inst.resources {
        let mut limits = Mapping::new();
        if let Some(c) = r.cpus {
            limits.insert(s("cpus"), s(&c.to_string()));
            over(&mut out, "cpus", Value::Number(c.as_f64().into()));
        }
        if let Some(m) = r.memory {
            limits.insert(s("memory"), s(&m.to_string()));
            over(&mut out, "mem_limit", s(&m.to_string()));
        }
        if !limits.is_empty() {
            let mut deploy = out
                .get("deploy")
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default();
            let mut res = deploy
                .get("resources")
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default();
            let mut lim = res
                .get("limits")
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default();
            for (k, v) in limits {
                lim.insert(k, v);
            }
            res.insert(s("limits"), Value::Mapping(lim));
            deploy.insert(s("resources"), Value::Mapping(res));
            over(&mut out, "deploy", Value::Mapping(deploy));
        }
    }
    (Value::Mapping(out), prov)
}

/// The config hash of an effective service definition: the hex SHA-256 of
/// its canonical JSON (keys sorted at every level, no spaces), the
/// [`CONFIG_HASH_LABEL`] label itself left out. berth records it as that
/// label when it creates a container; `stackctl plan` compares it with the
/// hash of what `berth.yaml` renders now. Equal definitions give equal hashes
/// whatever their key order; numbers and strings stay distinct (`1` is not `"1"`).
///
/// Compose keeps its own `com.docker.compose.config-hash`: compose v2 hashes
/// `json.Marshal` of its normalised Go `ServiceConfig` (struct field order,
/// long-syntax ports and volumes, with `build`, `pull_policy` and the scale
/// cleared) and the Python v1 the `json.dumps(sort_keys=True)` of its config
/// dict including the image ID. Both hash compose's own normalised model, not
/// the file's text, so ours does not equal either: the label is berth's, and
/// plan compares berth's hash with berth's hash.
pub fn config_hash(service: &Value) -> String {
    let mut json = to_json(service);
    if let Some(labels) = json
        .get_mut("labels")
        .and_then(serde_json::Value::as_object_mut)
    {
        labels.remove(CONFIG_HASH_LABEL);
    }
    // serde_json's Map is a BTreeMap here (no preserve_order): keys come sorted.
    let bytes = serde_json::to_vec(&json).unwrap_or_default();
    super::read::hex(&Sha256::digest(bytes))
}

/// YAML to JSON; a non-string key becomes its YAML text, a tag is dropped.
fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                J::from(u)
            } else if let Some(i) = n.as_i64() {
                J::from(i)
            } else {
                n.as_f64().map_or(J::Null, J::from)
            }
        }
        Value::String(s) => J::String(s.clone()),
        Value::Sequence(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Mapping(m) => J::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => yaml_serde::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Value::Tagged(t) => to_json(&t.value),
    }
}
