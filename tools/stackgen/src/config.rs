//! `stackgen config [INSTANCE]`: the effective config of each instance, as
//! the services file gets it (template, then wired variables, then the
//! overrides of `berth.yaml`), with where each value came from, and how
//! each import is wired. Secret values never show: a literal value of a
//! secret-looking variable prints as `(secret)`; references (`${NAME}`) are
//! names, not values.

use std::fmt::Write as _;
use std::path::PathBuf;

use berth::cli::{Outcome, error_with_hint};
use berth::envline::MASK;
use berth::stackfile::{Provenance, Source, wiring};
use serde::Serialize;
use yaml_serde::Value;

use crate::ctx::Ctx;
use crate::declared::Cat;
use crate::envfile::is_literal_secret;
use crate::generate::{Spec, compose_services};

/// Show the effective config of the project's instances and their wiring.
///
/// Each value is marked with where it came from: `template` (the catalog),
/// `wire` (a variable the app or a worker gets from the instance wired to
/// its import) or `override` (berth.yaml). Imports with several possible
/// providers are reported as ambiguous, with the candidates.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Only this instance (or `app`).
    #[arg(value_name = "INSTANCE")]
    instance: Option<String>,
    /// The project folder (default: the current folder).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// The registered project, instead of --dir.
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    project: Option<String>,
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

/// One instance's effective config.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
pub struct InstanceConfig {
    pub name: String,
    /// The catalog service (`app`: the stack's own application).
    pub service: String,
    /// The compose service definition as generated (secret values masked).
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))]
    pub definition: serde_json::Value,
    pub provenance: Provenance,
}

/// What `stackgen config --json` prints.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
pub struct StackConfig {
    pub project: String,
    pub stack: String,
    /// The serial of berth.yaml (`sha256:...`): what `stackctl plan` records.
    pub serial: String,
    pub instances: Vec<InstanceConfig>,
    pub wiring: Vec<wiring::Resolution>,
    /// Ambiguous and missing imports, as sentences.
    pub problems: Vec<String>,
}

/// `definition` with literal values of secret-looking variables masked.
fn masked(definition: &Value) -> Value {
    let mut out = definition.clone();
    if let Some(Value::Mapping(env)) = out.get_mut("environment") {
        for (k, v) in env.iter_mut() {
            if let (Some(k), Some(t)) = (k.as_str(), v.as_str())
                && is_literal_secret(k, t)
            {
                *v = Value::String(MASK.into());
            }
        }
    }
    out
}

fn to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn source(s: Source) -> &'static str {
    match s {
        Source::Template => "template",
        Source::Wire => "wire",
        Source::Override => "override",
    }
}

/// The readable form: each instance's definition as YAML, each top-level
/// key (and each variable) followed by its source.
fn text(c: &StackConfig, defs: &[(String, Value)]) -> String {
    let mut out = String::new();
    for (inst, (_, def)) in c.instances.iter().zip(defs) {
        let _ = writeln!(out, "{} ({})", inst.name, inst.service);
        let Some(m) = def.as_mapping() else { continue };
        for (k, v) in m {
            let key = k.as_str().unwrap_or_default();
            let src = inst.provenance.keys.get(key).copied().map_or("", source);
            if let (Some(env), "environment") = (v.as_mapping(), key) {
                let _ = writeln!(out, "  environment:");
                for (ek, ev) in env {
                    let ek = ek.as_str().unwrap_or_default();
                    let es = inst
                        .provenance
                        .environment
                        .get(ek)
                        .copied()
                        .map_or("", source);
                    let value = yaml_serde::to_string(ev).unwrap_or_default();
                    let _ = writeln!(out, "    {ek}: {}  # {es}", value.trim_end());
                }
                continue;
            }
            let mut one = yaml_serde::Mapping::new();
            one.insert(k.clone(), v.clone());
            let body = yaml_serde::to_string(&one).unwrap_or_default();
            for (i, line) in body.lines().enumerate() {
                if i == 0 {
                    let _ = writeln!(out, "  {line}  # {src}");
                } else {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }
    if !c.wiring.is_empty() {
        let _ = writeln!(out, "wiring");
        for r in &c.wiring {
            let how = match (&r.provider, r.how) {
                (Some(p), Some(wiring::How::Explicit)) => format!("{p} (explicit)"),
                (Some(p), _) => format!("{p} (auto)"),
                (None, _) if r.is_ambiguous() => {
                    format!("ambiguous: {}", r.candidates.join(", "))
                }
                (None, _) if r.required => "missing".to_owned(),
                (None, _) => "none".to_owned(),
            };
            let _ = writeln!(out, "  {}.{}: {how}", r.consumer, r.import);
        }
    }
    out
}

/// `config`.
pub fn run(a: &ConfigArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = crate::services::load(&ctx, a.project.as_deref(), &a.dir)?;
    if l.first {
        berth::info!(
            "{} does not exist yet: this is what {} implies (`stackgen generate` writes it)",
            berth::stackfile::FILE,
            crate::state::STATE_FILE
        );
    }
    let spec = Spec::of_project(&l.state, &ctx.config, l.file.clone());
    let generated = compose_services(&ctx.lib, &l.stack, &spec)?;
    let cat = Cat {
        lib: &ctx.lib,
        stack: &l.stack,
    };
    let resolved = wiring::resolve(&l.file, &cat);
    let problems: Vec<String> = resolved
        .iter()
        .filter_map(wiring::Resolution::problem)
        .collect();
    let mut defs = Vec::new();
    let mut instances = Vec::new();
    for e in generated.services {
        if a.instance.as_ref().is_some_and(|i| *i != e.name) {
            continue;
        }
        let def = masked(&e.definition);
        instances.push(InstanceConfig {
            name: e.name.clone(),
            service: e.service,
            definition: to_json(&def),
            provenance: e.provenance,
        });
        defs.push((e.name, def));
    }
    if let Some(i) = &a.instance
        && instances.is_empty()
    {
        let names: Vec<&str> = l.file.instances.names().collect();
        return Err(error_with_hint(
            format!(
                "no instance '{}' in {}",
                berth::cli::excerpt(i),
                l.state.name
            ),
            format!("its instances: {} (and app)", names.join(", ")),
        ));
    }
    let config = StackConfig {
        project: l.state.name.clone(),
        stack: l.state.stack.clone(),
        serial: berth::stackfile::serial(l.text.as_bytes()),
        instances,
        wiring: resolved,
        problems,
    };
    if a.output.is_json() {
        berth::io::write_json(&config)?;
    } else {
        berth::io::write_text(&text(&config, &defs))?;
        for p in &config.problems {
            berth::cli::warn(crate::TOOL, p);
        }
    }
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("stack-config", schemars::schema_for!(StackConfig))]
}
