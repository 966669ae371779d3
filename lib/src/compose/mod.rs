//! Reading compose files the way `docker compose` does: discovery (with
//! override files and `COMPOSE_FILE`), `.env`, interpolation, YAML merge keys,
//! `!reset` and `!override`, `include:` and `extends:`, merging of several
//! files, services, profiles and published ports.
//!
//! Every file is read through [`crate::fsread`] (regular files only, bounded),
//! the YAML within a budget, and error messages quote values only through
//! [`crate::cli::excerpt`] and never from a file outside the project.

pub mod interpolate;
pub mod ports;
pub mod yaml;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context as _, anyhow, bail};
use yaml_serde::{Mapping, Value};

use crate::cli::excerpt;
use crate::fsread;
use crate::model::PortBinding;
use ports::kind;

/// File names docker compose looks for, in its order of preference.
pub const CANDIDATES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Deepest chain of `include:` (a file including a file including ...).
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Longest chain of `extends:`.
pub const MAX_EXTENDS_DEPTH: usize = 32;
/// Longest service name berth accepts (compose sets none; names become DNS names).
pub const MAX_SERVICE_NAME: usize = 255;

/// The variables interpolation sees: the process environment over the
/// project's `.env`, over the names `.env` says are in berth's secrets store.
#[derive(Debug, Clone, Default)]
pub struct Env {
    dotenv: HashMap<String, String>,
    process: HashMap<String, String>,
    /// Names `.env` marks as held by the secrets store (its stored-secret
    /// comments, see [`crate::envline::stored_line`]): set when
    /// compose runs, since stackctl hands them over, so reading the files
    /// without them warns about nothing; their value reads as
    /// [`crate::envline::MASK`] (the store is not opened to scan ports).
    stored: BTreeSet<String>,
    /// The project folder: files outside it are never quoted in errors.
    root: Option<PathBuf>,
}

impl Env {
    /// The process environment plus `dir/.env` when present.
    pub fn for_dir(dir: &Path) -> anyhow::Result<Self> {
        let process = std::env::vars().collect();
        let (dotenv, stored) = read_env_file(&dir.join(".env"), Some(dir))?;
        Ok(Self {
            dotenv,
            process,
            stored,
            root: Some(dir.to_path_buf()),
        })
    }

    /// Explicit variables only (for tests and callers that control the environment).
    pub fn from_maps(process: HashMap<String, String>, dotenv: HashMap<String, String>) -> Self {
        Self {
            dotenv,
            process,
            stored: BTreeSet::new(),
            root: None,
        }
    }

    /// The environment with one more layer of values on top of `.env` (but under the process).
    #[must_use]
    pub fn with_defaults(mut self, extra: &BTreeMap<String, String>) -> Self {
        for (k, v) in extra {
            self.dotenv.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self
    }

    /// The environment with `extra` set as a caller's process environment
    /// sets it (over `.env` and the process): the project's secrets, as the
    /// tools that run compose hand them over.
    #[must_use]
    pub fn with_overrides(mut self, extra: &[(String, String)]) -> Self {
        for (k, v) in extra {
            self.process.insert(k.clone(), v.clone());
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.process
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .cloned()
            .or_else(|| {
                self.stored
                    .contains(name)
                    .then(|| crate::envline::MASK.to_owned())
            })
    }

    /// The values read from `.env`.
    pub fn dotenv(&self) -> &HashMap<String, String> {
        &self.dotenv
    }

    /// The environment an included project sees: the process, then the
    /// `.env` of the included file's folder.
    fn for_include(&self, dir: &Path) -> anyhow::Result<Self> {
        let (dotenv, stored) = read_env_file(&dir.join(".env"), self.root.as_deref())?;
        Ok(Self {
            dotenv,
            process: self.process.clone(),
            stored,
            root: self.root.clone(),
        })
    }

    fn outside(&self, path: &Path) -> bool {
        self.root
            .as_deref()
            .is_some_and(|r| fsread::is_outside(path, r))
    }
}

/// Read a `.env` file; a missing file is empty, a malformed one an error naming it.
pub fn read_dotenv(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    read_dotenv_in(path, path.parent())
}

/// Read a `.env` file of the project in `root`: a regular file of bounded
/// size; a line that does not parse is quoted (shortly) only when the file,
/// links resolved, lies inside `root`.
pub fn read_dotenv_in(path: &Path, root: Option<&Path>) -> anyhow::Result<HashMap<String, String>> {
    read_env_file(path, root).map(|(values, _)| values)
}

/// [`read_dotenv_in`], and the names the file's stored-secret comments give
/// (set in the store, not in the file).
fn read_env_file(
    path: &Path,
    root: Option<&Path>,
) -> anyhow::Result<(HashMap<String, String>, BTreeSet<String>)> {
    let Some(file) = fsread::read_text(path, root, fsread::TEXT_LIMIT)
        .with_context(|| format!("cannot read env file {}", path.display()))?
    else {
        return Ok((HashMap::new(), BTreeSet::new()));
    };
    let stored = crate::envline::stored_keys(&file.text);
    let mut out = HashMap::new();
    for (n, item) in dotenvy::from_read_iter(file.text.as_bytes()).enumerate() {
        match item {
            Ok((k, v)) => {
                out.insert(k, v);
            }
            Err(dotenvy::Error::LineParse(_, _)) if file.outside => bail!(
                "invalid env file {}: entry {} does not parse (the file is outside the project; its content is not shown)",
                path.display(),
                n + 1
            ),
            Err(dotenvy::Error::LineParse(line, at)) => bail!(
                "invalid env file {}: entry {} does not parse at character {at}: '{}'",
                path.display(),
                n + 1,
                excerpt(&line)
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("invalid env file {}", path.display()));
            }
        }
    }
    Ok((out, stored))
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
            // A FIFO or device is named here and refused when read, never skipped.
            if !f.exists() {
                bail!("COMPOSE_FILE names {}, which does not exist", f.display());
            }
        }
        return Ok(files);
    }
    let Some(base) = CANDIDATES.iter().map(|c| dir.join(c)).find(|p| p.exists()) else {
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
        .find(|p| p.exists())
    {
        files.push(o);
    }
    Ok(files)
}

/// Load the compose project in `dir` (discovery, `.env`, environment).
pub fn load_dir(dir: &Path) -> anyhow::Result<Compose> {
    load_dir_with(dir, &Env::for_dir(dir)?)
}

/// [`load_dir`] with the environment given (e.g. with the project's secrets).
pub fn load_dir_with(dir: &Path, env: &Env) -> anyhow::Result<Compose> {
    let files = discover(dir, env)?;
    if files.is_empty() {
        return Err(anyhow!("no compose file in {}", dir.display())).context(format!(
            "looked for {} or COMPOSE_FILE",
            CANDIDATES.join(", ")
        ));
    }
    load_files(&files, env)
}

/// Load and merge `files` in order, interpolating with `env`.
pub fn load_files(files: &[PathBuf], env: &Env) -> anyhow::Result<Compose> {
    load_files_overlaid(files, env, &[])
}

/// [`load_files`], with the text of some files given (path, text) in place
/// of what is on disk: what a file generated now would make of the project
/// (`stackctl plan` of an edited `berth.yaml`).
pub fn load_files_overlaid(
    files: &[PathBuf],
    env: &Env,
    overlay: &[(PathBuf, String)],
) -> anyhow::Result<Compose> {
    let mut loader = Loader::default();
    for (path, text) in overlay {
        let key = loader.canonical(path);
        loader.overlay.insert(key, text.clone());
    }
    let mut merged = Mapping::new();
    for file in files {
        let services = loader.load(file, env, 0)?;
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
        warnings: loader.warnings,
        ..Compose::default()
    };
    let mut bindings = 0usize;
    for (name, mut def) in merged {
        let name = name.as_str().unwrap_or_default().to_owned();
        strip_tags(&mut def);
        let Value::Mapping(def) = def else { continue };
        let service = build_service(&name, def, &mut bindings)?;
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

/// One file as read: its services, interpolated and checked, `extends` not yet resolved.
#[derive(Debug, Clone)]
struct Parsed {
    services: Mapping,
    include: Option<Value>,
}

/// Reads files once each, resolves `include` and `extends`, and keeps the
/// whole load within one budget.
#[derive(Default)]
struct Loader {
    parsed: HashMap<PathBuf, Rc<Parsed>>,
    /// Services with `extends` resolved, by file (its index in `ids`) and name.
    resolved: HashMap<(usize, String), Value>,
    /// A number for each canonical file path, for cheap keys.
    ids: HashMap<PathBuf, usize>,
    /// Files being included, for cycles.
    including: Vec<PathBuf>,
    /// Approximate bytes held so far.
    spent: usize,
    warnings: Vec<String>,
    warned: HashSet<String>,
    /// Files' canonical paths, resolved once each.
    canonical: HashMap<PathBuf, PathBuf>,
    /// Texts given in place of files on disk, by canonical path.
    overlay: HashMap<PathBuf, String>,
}

/// The budget of one load, in approximate bytes (see [`yaml::BUDGET`]).
const LOAD_BUDGET: usize = 2 * yaml::BUDGET;

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// How a file's value appears in its error messages.
fn quoted(outside: bool, text: &str) -> String {
    if outside {
        "(not shown: the file is outside the project)".into()
    } else {
        format!("'{}'", excerpt(text))
    }
}

impl Loader {
    fn canonical(&mut self, path: &Path) -> PathBuf {
        if let Some(c) = self.canonical.get(path) {
            return c.clone();
        }
        let c = canonical(path);
        self.canonical.insert(path.to_path_buf(), c.clone());
        c
    }

    fn id(&mut self, path: &Path) -> usize {
        let c = self.canonical(path);
        let next = self.ids.len();
        *self.ids.entry(c).or_insert(next)
    }

    fn charge(&mut self, what: &Path, v: &Value) -> anyhow::Result<()> {
        let left = LOAD_BUDGET.saturating_sub(self.spent);
        let c = yaml::cost(v, left);
        if c > left {
            bail!(
                "{}: the project expands to more than {} MiB (extends or include repeated too often?)",
                what.display(),
                LOAD_BUDGET >> 20
            );
        }
        self.spent += c;
        Ok(())
    }

    /// The services of `file` with its includes merged in and `extends` resolved.
    fn load(&mut self, file: &Path, env: &Env, depth: usize) -> anyhow::Result<Mapping> {
        let key = self.canonical(file);
        if self.including.contains(&key) {
            bail!(
                "{}: include cycle: the file includes itself",
                file.display()
            );
        }
        let parsed = self.parse(file, env)?;
        let mut out = Mapping::new();
        if let Some(include) = &parsed.include {
            if depth >= MAX_INCLUDE_DEPTH {
                bail!(
                    "{}: includes nested more than {MAX_INCLUDE_DEPTH} deep",
                    file.display()
                );
            }
            self.including.push(key.clone());
            let included = self.includes(file, include, env, depth);
            self.including.pop();
            for (name, def) in included? {
                if parsed.services.contains_key(&name) || out.contains_key(&name) {
                    bail!(
                        "{}: service '{}' is defined both here and in an included file",
                        file.display(),
                        excerpt(name.as_str().unwrap_or_default())
                    );
                }
                out.insert(name, def);
            }
        }
        let names: Vec<Value> = parsed.services.keys().cloned().collect();
        for name in names {
            let sname = name.as_str().unwrap_or_default().to_owned();
            let def = self.resolve(file, &sname, env, &mut Vec::new())?;
            out.insert(name, def);
        }
        Ok(out)
    }

    /// The services of the files an `include:` names, relative to `file`.
    fn includes(
        &mut self,
        file: &Path,
        include: &Value,
        env: &Env,
        depth: usize,
    ) -> anyhow::Result<Mapping> {
        let dir = file.parent().unwrap_or(Path::new("."));
        let Value::Sequence(entries) = include else {
            bail!(
                "{}: 'include' must be a list, not {}",
                file.display(),
                kind(include)
            );
        };
        let mut out = Mapping::new();
        for entry in entries {
            let paths: Vec<&Value> = match entry {
                Value::String(_) => vec![entry],
                Value::Mapping(m) => match m.get("path") {
                    Some(Value::Sequence(list)) => list.iter().collect(),
                    Some(p @ Value::String(_)) => vec![p],
                    _ => bail!(
                        "{}: an include entry needs 'path' (a string or a list)",
                        file.display()
                    ),
                },
                other => bail!(
                    "{}: an include entry must be a path or a mapping, not {}",
                    file.display(),
                    kind(other)
                ),
            };
            let mut merged = Mapping::new();
            for p in paths {
                let Some(p) = p.as_str() else {
                    bail!("{}: an include path must be a string", file.display());
                };
                let path = dir.join(p);
                if !path.exists() {
                    bail!(
                        "{}: included file {} does not exist",
                        file.display(),
                        path.display()
                    );
                }
                let inc_env = env.for_include(path.parent().unwrap_or(dir))?;
                for (name, def) in self.load(&path, &inc_env, depth + 1)? {
                    match merged.get_mut(&name) {
                        Some(existing) => merge(existing, def),
                        None => {
                            merged.insert(name, def);
                        }
                    }
                }
            }
            for (name, def) in merged {
                if out.contains_key(&name) {
                    bail!(
                        "{}: service '{}' comes from two included files",
                        file.display(),
                        excerpt(name.as_str().unwrap_or_default())
                    );
                }
                out.insert(name, def);
            }
        }
        Ok(out)
    }

    /// Service `name` of `file` with its `extends` chain merged in.
    fn resolve(
        &mut self,
        file: &Path,
        name: &str,
        env: &Env,
        chain: &mut Vec<(usize, String)>,
    ) -> anyhow::Result<Value> {
        let key = (self.id(file), name.to_owned());
        if let Some(done) = self.resolved.get(&key) {
            let done = done.clone();
            self.charge(file, &done)?;
            return Ok(done);
        }
        let parsed = self.parse(file, env)?;
        let Some(def) = parsed.services.get(name) else {
            bail!(
                "{}: service '{}' does not exist",
                file.display(),
                excerpt(name)
            );
        };
        let mut def = def.clone();
        let where_ = || format!("{}: service '{}'", file.display(), excerpt(name));
        let extends = def.as_mapping_mut().and_then(|m| m.remove("extends"));
        if let Some(ext) = extends {
            let (base_name, base_file) = match &ext {
                Value::String(s) => (s.clone(), None),
                Value::Mapping(m) => {
                    let Some(Value::String(s)) = m.get("service") else {
                        bail!("{}: 'extends' needs 'service' (a string)", where_());
                    };
                    let f = match m.get("file") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(f)) => Some(f.clone()),
                        Some(other) => bail!(
                            "{}: 'extends.file' must be a string, not {}",
                            where_(),
                            kind(other)
                        ),
                    };
                    (s.clone(), f)
                }
                other => bail!(
                    "{}: 'extends' must be a service name or a mapping, not {}",
                    where_(),
                    kind(other)
                ),
            };
            let base_path = match &base_file {
                Some(f) => {
                    let p = file.parent().unwrap_or(Path::new(".")).join(f);
                    if !p.exists() {
                        bail!("{}: extends file {} does not exist", where_(), p.display());
                    }
                    p
                }
                None => file.to_path_buf(),
            };
            chain.push(key.clone());
            let next = (self.id(&base_path), base_name.clone());
            if chain.contains(&next) {
                let names: Vec<String> = chain
                    .iter()
                    .chain(std::iter::once(&next))
                    .map(|(_, n)| excerpt(n))
                    .collect();
                bail!("{}: extends cycle: {}", where_(), names.join(" -> "));
            }
            if chain.len() > MAX_EXTENDS_DEPTH {
                bail!(
                    "{}: extends chain longer than {MAX_EXTENDS_DEPTH}",
                    where_()
                );
            }
            let mut base = self.resolve(&base_path, &base_name, env, chain)?;
            chain.pop();
            merge(&mut base, def);
            def = base;
            // Kept for services that extend this one; one without `extends`
            // is cloned from its file again instead.
            self.resolved.insert(key, def.clone());
        }
        self.charge(file, &def)?;
        Ok(def)
    }

    /// Read and check one file, once.
    fn parse(&mut self, file: &Path, env: &Env) -> anyhow::Result<Rc<Parsed>> {
        let key = self.canonical(file);
        if let Some(p) = self.parsed.get(&key) {
            return Ok(Rc::clone(p));
        }
        let p = Rc::new(self.parse_new(file, env)?);
        self.parsed.insert(key, Rc::clone(&p));
        Ok(p)
    }

    fn parse_new(&mut self, file: &Path, env: &Env) -> anyhow::Result<Parsed> {
        let key = self.canonical(file);
        let given = self.overlay.get(&key).cloned();
        let read = match given {
            Some(text) => fsread::Text {
                text,
                outside: false,
            },
            None => match fsread::read_text(file, None, fsread::TEXT_LIMIT)? {
                Some(read) => read,
                None => bail!("cannot read {}: it does not exist", file.display()),
            },
        };
        let outside = env.outside(file);
        let budget = LOAD_BUDGET.saturating_sub(self.spent).min(yaml::BUDGET);
        let doc = yaml::parse(&read.text, budget)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("invalid YAML in {}", file.display()))?;
        self.spent += yaml::cost(&doc, usize::MAX);
        let mut top = match doc {
            Value::Mapping(m) => m,
            Value::Null => Mapping::new(),
            other => bail!(
                "{}: the top level must be a mapping, not {}",
                file.display(),
                kind(&other)
            ),
        };
        let lookup = |name: &str| env.get(name);
        let mut include = top.remove("include");
        if let Some(inc) = &mut include {
            self.interpolate(inc, &lookup, outside)
                .map_err(|e| anyhow!("{}: include: {e}", file.display()))?;
        }
        let services = match top.remove("services") {
            None | Some(Value::Null) => Mapping::new(),
            Some(Value::Mapping(m)) => m,
            Some(other) => bail!(
                "{}: 'services' must be a mapping, not {}",
                file.display(),
                kind(&other)
            ),
        };
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
            check_service_name(&sname).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let where_ = || format!("{}: service '{sname}'", file.display());
            let mut def = match def {
                Value::Mapping(m) => Value::Mapping(m),
                Value::Null => Value::Mapping(Mapping::new()),
                other => bail!("{}: must be a mapping, not {}", where_(), kind(&other)),
            };
            self.interpolate(&mut def, &lookup, outside)
                .map_err(|e| anyhow!("{}: {e}", where_()))?;
            if let Value::Mapping(m) = &mut def {
                check_service(m, outside).map_err(|e| anyhow!("{}: {e}", where_()))?;
            }
            out.insert(name, def);
        }
        Ok(Parsed {
            services: out,
            include,
        })
    }

    /// Interpolate every string scalar of `v` in place.
    fn interpolate(
        &mut self,
        v: &mut Value,
        lookup: &dyn Fn(&str) -> Option<String>,
        outside: bool,
    ) -> Result<(), String> {
        match v {
            Value::String(s) if s.contains('$') => {
                let r = interpolate::interpolate(s, lookup)
                    .map_err(|e| format!("{e} in {}", quoted(outside, s)))?;
                for name in r.unset {
                    let w = format!("the {name} variable is not set, defaulting to a blank string");
                    if self.warned.insert(w.clone()) {
                        self.warnings.push(w);
                    }
                }
                // What interpolation adds counts against the budget.
                self.spent += r.value.len().saturating_sub(s.len());
                if self.spent > LOAD_BUDGET {
                    return Err(format!(
                        "interpolated values pass {} MiB in all",
                        LOAD_BUDGET >> 20
                    ));
                }
                *s = r.value;
            }
            Value::Sequence(items) => {
                for item in items {
                    self.interpolate(item, lookup, outside)?;
                }
            }
            Value::Mapping(m) => {
                for (_, item) in m.iter_mut() {
                    self.interpolate(item, lookup, outside)?;
                }
            }
            Value::Tagged(t) => self.interpolate(&mut t.value, lookup, outside)?,
            _ => {}
        }
        Ok(())
    }
}

/// A service name as compose accepts it: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn check_service_name(name: &str) -> Result<(), String> {
    let shown = excerpt(name);
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("a service name must not be empty".into()),
        Some(c) if !c.is_ascii_alphanumeric() => {
            return Err(format!(
                "invalid service name '{shown}': it must start with a letter or a digit"
            ));
        }
        Some(_) => {}
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))) {
        return Err(format!(
            "invalid service name '{shown}': character '{}' not allowed (use a-z, A-Z, 0-9, '_', '.', '-')",
            excerpt(&c.to_string())
        ));
    }
    if name.len() > MAX_SERVICE_NAME {
        return Err(format!(
            "invalid service name '{shown}': longer than {MAX_SERVICE_NAME} characters"
        ));
    }
    Ok(())
}

/// Check the fields berth reads in one file's service, and normalize lists to maps.
fn check_service(m: &mut Mapping, outside: bool) -> Result<(), String> {
    normalize_map(m, "environment");
    normalize_map(m, "labels");
    if let Some(ports) = m.get("ports") {
        let list = match ports {
            Value::Sequence(list) => list,
            Value::Tagged(t) if matches!(t.value, Value::Sequence(_)) => match &t.value {
                Value::Sequence(list) => list,
                _ => unreachable!(),
            },
            other => return Err(format!("'ports' must be a list, not {}", kind(other))),
        };
        for entry in list {
            ports::count_entry(entry).map_err(|e| {
                let shown = if outside {
                    quoted(true, "")
                } else {
                    show(entry)
                };
                format!("invalid port {shown}: {e}")
            })?;
        }
    }
    match m.get("profiles") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(list)) => {
            if let Some(bad) = list.iter().find(|p| !p.is_string()) {
                return Err(format!(
                    "'profiles' must be a list of strings, not hold {}",
                    kind(bad)
                ));
            }
        }
        Some(other) => {
            return Err(format!(
                "'profiles' must be a list of strings, not {}",
                kind(other)
            ));
        }
    }
    Ok(())
}

pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{}'", excerpt(s)),
        Value::Number(n) => n.to_string(),
        other => {
            let text = yaml_serde::to_string(other)
                .map(|s| s.trim().replace('\n', ", "))
                .unwrap_or_default();
            excerpt(&text)
        }
    }
}

/// Turn a `KEY=VALUE` list into a mapping, so lists and maps merge alike.
fn normalize_map(service: &mut Mapping, key: &str) {
    let list = match service.get_mut(key) {
        Some(Value::Sequence(list)) => list,
        // `!override [A=1]`: normalize inside the tag, keep the tag.
        Some(Value::Tagged(t)) => {
            let mut inner = Mapping::new();
            inner.insert(Value::String(key.into()), std::mem::take(&mut t.value));
            normalize_map(&mut inner, key);
            t.value = inner.remove(key).unwrap_or_default();
            return;
        }
        _ => return,
    };
    let mut map = Mapping::new();
    for item in list.iter() {
        if let Some(s) = item.as_str() {
            match s.split_once('=') {
                Some((k, v)) => map.insert(Value::String(k.into()), Value::String(v.into())),
                None => map.insert(Value::String(s.into()), Value::Null),
            };
        }
    }
    service.insert(Value::String(key.into()), Value::Mapping(map));
}

fn tag_is(v: &Value, tag: &str) -> bool {
    matches!(v, Value::Tagged(t) if t.tag == tag)
}

fn hash_of(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Merge `over` into `base` as compose merges services: mappings key by key,
/// lists appended without duplicates, anything else replaced. A value tagged
/// `!reset` removes the key, one tagged `!override` replaces it whole.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                if tag_is(&v, "reset") {
                    b.remove(&k);
                    continue;
                }
                let v = match v {
                    Value::Tagged(t) if t.tag == "override" => {
                        b.insert(k, t.value);
                        continue;
                    }
                    v => v,
                };
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) => {
            let mut seen: HashSet<u64> = b.iter().map(hash_of).collect();
            for item in o {
                // The hash is a filter; equality decides.
                if !seen.insert(hash_of(&item)) && b.contains(&item) {
                    continue;
                }
                b.push(item);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Apply what is left of `!reset` and `!override` once every merge is done:
/// a reset key goes, an override is its value.
fn strip_tags(v: &mut Value) {
    match v {
        Value::Mapping(m) => {
            m.retain(|_, v| !tag_is(v, "reset"));
            for (_, item) in m.iter_mut() {
                strip_tags(item);
            }
        }
        Value::Sequence(s) => {
            s.retain(|v| !tag_is(v, "reset"));
            for item in s.iter_mut() {
                strip_tags(item);
            }
        }
        Value::Tagged(t) if t.tag == "override" => {
            let inner = std::mem::take(&mut t.value);
            *v = inner;
            strip_tags(v);
        }
        Value::Tagged(t) => strip_tags(&mut t.value),
        _ => {}
    }
}

fn build_service(name: &str, def: Mapping, bindings: &mut usize) -> anyhow::Result<Service> {
    let mut ports = Vec::new();
    if let Some(Value::Sequence(list)) = def.get("ports") {
        for entry in list {
            let n = ports::count_entry(entry).map_err(|e| anyhow!("service '{name}': {e}"))?;
            *bindings += n;
            if *bindings > ports::MAX_BINDINGS {
                bail!(
                    "service '{name}': the project's ports expand to more than {} bindings",
                    ports::MAX_BINDINGS
                );
            }
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
