//! Reading compose files the way `docker compose` does: discovery (with
//! override files and `COMPOSE_FILE`), `.env`, interpolation, merging of
//! several files, services, profiles and published ports.

pub mod interpolate;
pub mod ports;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use serde_yaml::{Mapping, Value};

use crate::model::PortBinding;
use ports::kind;

/// File names docker compose looks for, in its order of preference.
pub const CANDIDATES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// The variables interpolation sees: the process environment over the project's `.env`.
#[derive(Debug, Clone, Default)]
pub struct Env {
    dotenv: HashMap<String, String>,
    process: HashMap<String, String>,
}

impl Env {
    /// The process environment plus `dir/.env` when present.
    pub fn for_dir(dir: &Path) -> anyhow::Result<Self> {
        let process = std::env::vars().collect();
        Ok(Self {
            dotenv: read_dotenv(&dir.join(".env"))?,
            process,
        })
    }

    /// Explicit variables only (for tests and callers that control the environment).
    pub fn from_maps(process: HashMap<String, String>, dotenv: HashMap<String, String>) -> Self {
        Self { dotenv, process }
    }

    /// The environment with one more layer of values on top of `.env` (but under the process).
    #[must_use]
    pub fn with_defaults(mut self, extra: &BTreeMap<String, String>) -> Self {
        for (k, v) in extra {
            self.dotenv.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.process
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .cloned()
    }

    /// The values read from `.env`.
    pub fn dotenv(&self) -> &HashMap<String, String> {
        &self.dotenv
    }
}

/// Read a `.env` file; a missing file is empty, a malformed one an error naming it.
pub fn read_dotenv(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    match dotenvy::from_path_iter(path) {
        Ok(iter) => iter
            .map(|item| item.with_context(|| format!("invalid env file {}", path.display())))
            .collect(),
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(HashMap::new())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read env file {}", path.display())),
    }
}

/// One service of a loaded compose project.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    pub ports: Vec<PortBinding>,
    pub profiles: Vec<String>,
    /// The service's `environment:`, as a map (list form is converted).
    pub environment: BTreeMap<String, String>,
    /// The merged, interpolated definition, for fields berth does not model.
    pub raw: Mapping,
}

/// A compose project as docker compose would see it.
#[derive(Debug, Clone, Default)]
pub struct Compose {
    pub files: Vec<PathBuf>,
    /// Active services, in file order.
    pub services: Vec<Service>,
    /// Services behind a profile that is not active: noted, not counted.
    pub inactive: Vec<String>,
    /// Things compose would warn about (unset variables).
    pub warnings: Vec<String>,
}

impl Compose {
    pub fn ports(&self) -> impl Iterator<Item = &PortBinding> {
        self.services.iter().flat_map(|s| s.ports.iter())
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// The compose files of a project folder: `COMPOSE_FILE` when set (environment
/// first, then `.env`), otherwise the first candidate name plus its override file.
pub fn discover(dir: &Path, env: &Env) -> anyhow::Result<Vec<PathBuf>> {
    if let Some(list) = env.get("COMPOSE_FILE").filter(|v| !v.is_empty()) {
        let sep = env
            .get("COMPOSE_PATH_SEPARATOR")
            .unwrap_or_else(|| ":".into());
        let files: Vec<PathBuf> = list
            .split(sep.as_str())
            .filter(|s| !s.is_empty())
            .map(|f| dir.join(f))
            .collect();
        for f in &files {
            if !f.is_file() {
                bail!("COMPOSE_FILE names {}, which does not exist", f.display());
            }
        }
        return Ok(files);
    }
    let Some(base) = CANDIDATES.iter().map(|c| dir.join(c)).find(|p| p.is_file()) else {
        return Ok(Vec::new());
    };
    let mut files = vec![base.clone()];
    let stem = if base
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("docker-"))
    {
        "docker-compose"
    } else {
        "compose"
    };
    if let Some(o) = ["yaml", "yml"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.override.{ext}")))
        .find(|p| p.is_file())
    {
        files.push(o);
    }
    Ok(files)
}

/// Load the compose project in `dir` (discovery, `.env`, environment).
pub fn load_dir(dir: &Path) -> anyhow::Result<Compose> {
    let env = Env::for_dir(dir)?;
    let files = discover(dir, &env)?;
    if files.is_empty() {
        return Err(anyhow!("no compose file in {}", dir.display())).context(format!(
            "looked for {} or COMPOSE_FILE",
            CANDIDATES.join(", ")
        ));
    }
    load_files(&files, &env)
}

/// Load and merge `files` in order, interpolating with `env`.
pub fn load_files(files: &[PathBuf], env: &Env) -> anyhow::Result<Compose> {
    let mut merged = Mapping::new();
    let mut warnings = Vec::new();
    for file in files {
        let services = load_one(file, env, &mut warnings)?;
        for (name, def) in services {
            match merged.get_mut(&name) {
                Some(existing) => merge(existing, def),
                None => {
                    merged.insert(name, def);
                }
            }
        }
    }
    let active_profiles: Vec<String> = env
        .get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut compose = Compose {
        files: files.to_vec(),
        warnings,
        ..Compose::default()
    };
    for (name, def) in merged {
        let name = name.as_str().unwrap_or_default().to_owned();
        let Value::Mapping(def) = def else { continue };
        let service = build_service(&name, def)?;
        let active = service.profiles.is_empty()
            || service
                .profiles
                .iter()
                .any(|p| active_profiles.iter().any(|a| a == p || a == "*"));
        if active {
            compose.services.push(service);
        } else {
            compose.inactive.push(name);
        }
    }
    Ok(compose)
}

/// Parse one file: check its shape, interpolate, validate ports. Returns its `services` mapping.
fn load_one(file: &Path, env: &Env, warnings: &mut Vec<String>) -> anyhow::Result<Mapping> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let doc: Value = serde_yaml::from_str(&text)
        .with_context(|| format!("invalid YAML in {}", file.display()))?;
    let mut top = match doc {
        Value::Mapping(m) => m,
        Value::Null => return Ok(Mapping::new()),
        other => bail!(
            "{}: the top level must be a mapping, not {}",
            file.display(),
            kind(&other)
        ),
    };
    let services = match top.remove("services") {
        None | Some(Value::Null) => return Ok(Mapping::new()),
        Some(Value::Mapping(m)) => m,
        Some(other) => bail!(
            "{}: 'services' must be a mapping, not {}",
            file.display(),
            kind(&other)
        ),
    };
    let lookup = |name: &str| env.get(name);
    let mut out = Mapping::new();
    for (name, def) in services {
        let sname = match &name {
            Value::String(s) => s.clone(),
            other => bail!(
                "{}: a service name must be a string, not {}",
                file.display(),
                kind(other)
            ),
        };
        let where_ = || format!("{}: service '{sname}'", file.display());
        let mut def = match def {
            Value::Mapping(m) => Value::Mapping(m),
            Value::Null => Value::Mapping(Mapping::new()),
            other => bail!("{}: must be a mapping, not {}", where_(), kind(&other)),
        };
        interpolate_value(&mut def, &lookup, warnings).map_err(|e| anyhow!("{}: {e}", where_()))?;
        if let Value::Mapping(m) = &mut def {
            normalize_map(m, "environment");
            normalize_map(m, "labels");
            if let Some(ports) = m.get("ports") {
                let Value::Sequence(list) = ports else {
                    bail!("{}: 'ports' must be a list, not {}", where_(), kind(ports));
                };
                for entry in list {
                    ports::parse_entry(&sname, entry)
                        .map_err(|e| anyhow!("{}: invalid port {}: {e}", where_(), show(entry)))?;
                }
            }
        }
        out.insert(name, def);
    }
    Ok(out)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().replace('\n', ", "))
            .unwrap_or_default(),
    }
}

/// Interpolate every string scalar of `v` in place.
fn interpolate_value(
    v: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    match v {
        Value::String(s) if s.contains('$') => {
            let r = interpolate::interpolate(s, lookup)?;
            for name in r.unset {
                let w = format!("the {name} variable is not set, defaulting to a blank string");
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            *s = r.value;
        }
        Value::Sequence(items) => {
            for item in items {
                interpolate_value(item, lookup, warnings)?;
            }
        }
        Value::Mapping(m) => {
            for (_, item) in m.iter_mut() {
                interpolate_value(item, lookup, warnings)?;
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, lookup, warnings)?,
        _ => {}
    }
    Ok(())
}

/// Turn a `KEY=VALUE` list into a mapping, so lists and maps merge alike.
fn normalize_map(service: &mut Mapping, key: &str) {
    let Some(Value::Sequence(list)) = service.get(key) else {
        return;
    };
    let mut map = Mapping::new();
    for item in list {
        if let Some(s) = item.as_str() {
            match s.split_once('=') {
                Some((k, v)) => map.insert(Value::String(k.into()), Value::String(v.into())),
                None => map.insert(Value::String(s.into()), Value::Null),
            };
        }
    }
    service.insert(Value::String(key.into()), Value::Mapping(map));
}

/// Merge `over` into `base` as compose merges services: mappings key by key,
/// lists appended without duplicates, anything else replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) => {
            for item in o {
                if !b.contains(&item) {
                    b.push(item);
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn build_service(name: &str, def: Mapping) -> anyhow::Result<Service> {
    let mut ports = Vec::new();
    if let Some(Value::Sequence(list)) = def.get("ports") {
        for entry in list {
            ports.extend(
                ports::parse_entry(name, entry).map_err(|e| anyhow!("service '{name}': {e}"))?,
            );
        }
    }
    ports.dedup();
    let profiles = match def.get("profiles") {
        Some(Value::Sequence(p)) => p
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let mut environment = BTreeMap::new();
    if let Some(Value::Mapping(env)) = def.get("environment") {
        for (k, v) in env {
            let Some(k) = k.as_str() else { continue };
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => String::new(),
            };
            environment.insert(k.to_owned(), v);
        }
    }
    Ok(Service {
        name: name.to_owned(),
        image: def.get("image").and_then(Value::as_str).map(str::to_owned),
        ports,
        profiles,
        environment,
        raw: def,
    })
}

/// What the registry keeps of a project folder's compose setup.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub compose_files: Vec<PathBuf>,
    pub services: Vec<String>,
    pub service_ports: Vec<PortBinding>,
    pub inactive: Vec<String>,
    pub warnings: Vec<String>,
}

/// Scan a project folder; a folder without compose files gives an empty scan.
pub fn scan_dir(dir: &Path) -> anyhow::Result<Scan> {
    let env = Env::for_dir(dir)?;
    let files = discover(dir, &env)?;
    if files.is_empty() {
        return Ok(Scan::default());
    }
    let c = load_files(&files, &env)?;
    Ok(Scan {
        services: c.services.iter().map(|s| s.name.clone()).collect(),
        service_ports: c.ports().cloned().collect(),
        compose_files: c.files,
        inactive: c.inactive,
        warnings: c.warnings,
    })
}
