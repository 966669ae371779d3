//! Reading `berth.yaml`: bounded (a regular file under [`LIMIT`], a YAML
//! bomb fails within the parser's budget, duplicate keys are errors), then
//! every field checked and every error kept, each named by file, line and
//! key: `berth.yaml:12: instances.analytics-db.ports.0: ...`.

// p, q: key paths; k, v: key and value; m: a mapping: the reader's vocabulary.
#![allow(clippy::many_single_char_names)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use sha2::{Digest as _, Sha256};
use yaml_serde::{Mapping, Value};

use super::spans::Spans;
use super::{
    APP, Command, Cpus, Healthcheck, Instance, Instances, LIMIT, Memory, Resources, StackFile,
    VERSION,
};
use crate::compose::{ports, yaml};

/// What a catalog tells the reader about one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceInfo {
    /// Versions offered (empty: any).
    pub versions: Vec<String>,
    /// Import name -> contract types accepted (`database` -> `postgres`, `mysql`).
    pub imports: BTreeMap<String, Vec<String>>,
    /// Contract types it provides (`postgres`).
    pub exports: Vec<String>,
    /// The imports it cannot run without (a worker's broker); the others
    /// are optional (an app without a database).
    pub required: Vec<String>,
}

/// What a catalog tells the reader about one stack.
#[derive(Debug, Clone, Default)]
pub struct StackInfo {
    /// The stack's own services (`app`, ...), which may consume wires.
    pub services: BTreeMap<String, ServiceInfo>,
}

/// The catalog as the reader needs it (stackgen implements it: lib does not
/// depend on stackgen).
pub trait Catalog {
    fn stack(&self, name: &str) -> Option<StackInfo>;
    fn service(&self, name: &str) -> Option<ServiceInfo>;
    /// Every service name, for "did you mean".
    fn service_names(&self) -> Vec<String>;
}

/// One problem of a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    /// The key path, dotted (`instances.db.ports.0`); empty for the document.
    pub key: String,
    pub message: String,
}

/// Every problem of one stack file, in line order.
#[derive(Debug, Clone)]
pub struct Errors {
    pub file: String,
    pub list: Vec<Diagnostic>,
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.list.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{}: ", self.file, d.line)?;
            if !d.key.is_empty() {
                write!(f, "{}: ", d.key)?;
            }
            f.write_str(&d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// The serial of a stack file: `sha256:` and the hex digest of its bytes.
/// A plan records it; apply refuses a plan whose serial no longer matches.
pub fn serial(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Read and check the stack file at `path` (a regular file of at most
/// [`LIMIT`] bytes). Problems of the content come as [`Errors`] (downcast
/// the `anyhow::Error` to list them); the file is named by its file name.
pub fn read(path: &Path, catalog: Option<&dyn Catalog>) -> anyhow::Result<StackFile> {
    let Some(text) = crate::fsread::read_text(path, None, LIMIT)? else {
        return Err(crate::cli::error_with_hint(
            format!("{} does not exist", path.display()),
            "run `stackgen new` first, or pass --dir",
        ));
    };
    let shown = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(parse(&text.text, &shown, catalog)?)
}

/// Parse and check the text of a stack file; `file` names it in errors.
pub fn parse(text: &str, file: &str, catalog: Option<&dyn Catalog>) -> Result<StackFile, Errors> {
    let fail = |list| Errors {
        file: file.to_owned(),
        list,
    };
    if text.len() as u64 > LIMIT {
        return Err(fail(vec![Diagnostic {
            line: 1,
            key: String::new(),
            message: format!("{} bytes, more than the limit of {LIMIT}", text.len()),
        }]));
    }
    let spans = Spans::index(text);
    let doc = match yaml::parse(text, yaml::BUDGET) {
        Ok(doc) => doc,
        Err(e) => return Err(fail(vec![syntax(&e, &spans)])),
    };
    let mut r = Reader {
        spans: &spans,
        errs: Vec::new(),
        catalog,
    };
    let out = r.document(&doc);
    let mut errs = r.errs;
    if errs.is_empty() {
        return Ok(out);
    }
    errs.sort_by_key(|d| d.line);
    Err(fail(errs))
}

/// A parser error as a diagnostic: `yaml_serde` writes `PATH: MESSAGE at line
/// N column M`; a duplicate key is placed on the second key's line.
fn syntax(e: &str, spans: &Spans) -> Diagnostic {
    if e.contains("duplicate key")
        && let Some((p, line)) = spans.duplicates.first()
    {
        return Diagnostic {
            line: *line,
            key: p.join("."),
            message: format!("duplicate key '{}'", p.last().map_or("", String::as_str)),
        };
    }
    let (head, line) = match e.rsplit_once(" at line ") {
        Some((head, rest)) => {
            let n = rest.split(' ').next().and_then(|n| n.parse().ok());
            (head, n.unwrap_or(1))
        }
        None => (e, 1),
    };
    let (key, message) = match head.split_once(": ") {
        Some((k, m)) if !k.contains(' ') && k != "." => (k.to_owned(), m.to_owned()),
        _ => (String::new(), head.to_owned()),
    };
    Diagnostic { line, key, message }
}

const TOP_KEYS: &[&str] = &["version", "stack", "name", "instances", "wires"];
const INSTANCE_KEYS: &[&str] = &[
    "service",
    "version",
    "image",
    "ports",
    "volumes",
    "environment",
    "env_file",
    "depends_on",
    "labels",
    "domains",
    "healthcheck",
    "config_files",
    "command",
    "resources",
    "shared",
];
const HEALTH_KEYS: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "start_period",
    "retries",
    "disable",
];
const RESOURCE_KEYS: &[&str] = &["cpus", "memory"];

struct Reader<'a> {
    spans: &'a Spans,
    errs: Vec<Diagnostic>,
    catalog: Option<&'a dyn Catalog>,
}

type P = Vec<String>;

fn at(p: &[String], key: &str) -> P {
    let mut p = p.to_vec();
    p.push(key.to_owned());
    p
}

fn kind(v: &Value) -> &'static str {
    ports::kind(v)
}

impl Reader<'_> {
    fn err(&mut self, p: &[String], message: impl Into<String>) {
        self.errs.push(Diagnostic {
            line: self.spans.line(p),
            key: p.join("."),
            message: message.into(),
        });
    }

    /// The string keys of `m`, an error for each other key and each key not in `known`.
    fn keys<'v>(
        &mut self,
        p: &[String],
        m: &'v Mapping,
        known: &[&str],
    ) -> Vec<(String, &'v Value)> {
        let mut out = Vec::new();
        for (k, v) in m {
            let Some(k) = k.as_str() else {
                self.err(p, format!("a key must be a string, not {}", kind(k)));
                continue;
            };
            if !known.is_empty() && !known.contains(&k) {
                let hint = suggest(k, known.iter().copied())
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                self.err(
                    &at(p, k),
                    format!(
                        "unknown key '{}'{hint}; known: {}",
                        crate::cli::excerpt(k),
                        known.join(", ")
                    ),
                );
                continue;
            }
            out.push((k.to_owned(), v));
        }
        out
    }

    fn document(&mut self, doc: &Value) -> StackFile {
        let mut out = StackFile::new("", "");
        let root: P = Vec::new();
        let empty = Mapping::new();
        let m = match doc {
            Value::Mapping(m) => m,
            Value::Null => {
                self.err(&root, "the file is empty; it needs version, stack and name");
                return out;
            }
            other => {
                self.err(&root, format!("expected a mapping, not {}", kind(other)));
                &empty
            }
        };
        let fields = self.keys(&root, m, TOP_KEYS);
        let mut instances = None;
        let mut wires = None;
        for (k, v) in &fields {
            let p = at(&root, k);
            match k.as_str() {
                "version" => match v.as_u64() {
                    Some(n) if n == u64::from(VERSION) => {}
                    Some(n) => self.err(
                        &p,
                        format!(
                            "version {n} is not supported (this berth reads version {VERSION})"
                        ),
                    ),
                    None => self.err(
                        &p,
                        format!("expected the number {VERSION}, not {}", kind(v)),
                    ),
                },
                "stack" => {
                    if let Some(s) = self.label(&p, v, "stack name") {
                        if let Some(c) = self.catalog
                            && c.stack(&s).is_none()
                        {
                            self.err(&p, format!("unknown stack '{s}' (see `stackgen stacks`)"));
                        }
                        out.stack = s;
                    }
                }
                "name" => {
                    if let Some(s) = self.label(&p, v, "project name") {
                        out.name = s;
                    }
                }
                "instances" => instances = Some((p, *v)),
                "wires" => wires = Some((p, *v)),
                _ => {}
            }
        }
        for key in ["version", "stack", "name"] {
            if !fields.iter().any(|(k, _)| k == key) {
                self.err(&root, format!("missing key '{key}'"));
            }
        }
        let stack = self
            .catalog
            .and_then(|c| c.stack(&out.stack))
            .unwrap_or_else(|| StackInfo {
                services: BTreeMap::from([(APP.to_owned(), ServiceInfo::default())]),
            });
        if let Some((p, v)) = instances {
            out.instances = self.instances(&p, v, &stack);
        }
        if let Some((p, v)) = wires {
            out.wires = self.wires(&p, v, &out.instances, &stack);
        }
        out
    }

    fn label(&mut self, p: &[String], v: &Value, what: &str) -> Option<String> {
        let s = self.string(p, v)?;
        match crate::names::validate_label(what, &s) {
            Ok(()) => Some(s),
            Err(e) => {
                self.err(p, e.to_string());
                None
            }
        }
    }

    /// A string; a number is taken as its text when `numbers` (a version, a port).
    fn scalar(&mut self, p: &[String], v: &Value, numbers: bool) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) if numbers && (n.is_u64() || n.is_i64()) => Some(n.to_string()),
            Value::Number(n) if numbers => {
                self.err(p, format!("{n} is read as a number: quote it (\"{n}\")"));
                None
            }
            other => {
                self.err(p, format!("expected a string, not {}", kind(other)));
                None
            }
        }
    }

    fn string(&mut self, p: &[String], v: &Value) -> Option<String> {
        self.scalar(p, v, false)
    }

    /// A list of strings (a single string when `one` is allowed).
    fn strings(&mut self, p: &[String], v: &Value, numbers: bool, one: bool) -> Vec<String> {
        match v {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.scalar(&at(p, &i.to_string()), item, numbers))
                .collect(),
            Value::String(s) if one => vec![s.clone()],
            Value::Null => Vec::new(),
            other => {
                self.err(p, format!("expected a list, not {}", kind(other)));
                Vec::new()
            }
        }
    }

    /// A mapping of strings to scalars (numbers and booleans as text); a list
    /// of `KEY=VALUE` when `pairs`.
    fn string_map(&mut self, p: &[String], v: &Value, pairs: bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match v {
            Value::Mapping(m) => {
                for (k, v) in self.keys(p, m, &[]) {
                    let q = at(p, &k);
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            self.err(&q, format!("expected a string, not {}", kind(other)));
                            continue;
                        }
                    };
                    out.insert(k, text);
                }
            }
            Value::Sequence(items) if pairs => {
                for (i, item) in items.iter().enumerate() {
                    let q = at(p, &i.to_string());
                    let Some(s) = self.string(&q, item) else {
                        continue;
                    };
                    match s.split_once('=') {
                        Some((k, v)) if !out.contains_key(k) => {
                            out.insert(k.to_owned(), v.to_owned());
                        }
                        Some((k, _)) => {
                            self.err(&q, format!("'{}' is set twice", crate::cli::excerpt(k)));
                        }
                        None => self.err(&q, "expected KEY=VALUE"),
                    }
                }
            }
            Value::Null => {}
            other => self.err(p, format!("expected a mapping, not {}", kind(other))),
        }
        out
    }

    fn instances(&mut self, p: &[String], v: &Value, stack: &StackInfo) -> Instances {
        let mut out = Instances::default();
        let m = match v {
            Value::Mapping(m) => m,
            Value::Null => return out,
            other => {
                self.err(
                    p,
                    format!("expected a mapping of instance names, not {}", kind(other)),
                );
                return out;
            }
        };
        for (name, v) in self.keys(p, m, &[]) {
            let q = at(p, &name);
            if let Err(e) = crate::names::validate_label("instance name", &name) {
                self.err(&q, e.to_string());
            } else if stack.services.contains_key(&name) {
                self.err(
                    &q,
                    format!("'{name}' is the stack's own service: name the instance otherwise"),
                );
            }
            let inst = self.instance(&q, &name, v);
            out.0.push((name, inst));
        }
        // References between instances, once all are known.
        for (name, inst) in &out.0 {
            let q = at(p, name);
            for (i, dep) in inst.depends_on.iter().enumerate() {
                if dep == name {
                    self.err(
                        &at(&at(&q, "depends_on"), &i.to_string()),
                        "an instance cannot depend on itself",
                    );
                } else if !out.contains(dep) && !stack.services.contains_key(dep) {
                    self.err(
                        &at(&at(&q, "depends_on"), &i.to_string()),
                        format!("no instance '{}'", crate::cli::excerpt(dep)),
                    );
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_lines)] // one arm per key of an instance
    fn instance(&mut self, p: &[String], name: &str, v: &Value) -> Instance {
        let mut inst = Instance::default();
        let m = match v {
            Value::Null => Mapping::new(),
            Value::Mapping(m) => m.clone(),
            other => {
                self.err(
                    p,
                    format!(
                        "expected a mapping of overrides or nothing, not {}",
                        kind(other)
                    ),
                );
                return inst;
            }
        };
        for (k, v) in self.keys(p, &m, INSTANCE_KEYS) {
            let q = at(p, &k);
            match k.as_str() {
                "service" => inst.service = self.label(&q, v, "service name"),
                "version" => inst.version = self.scalar(&q, v, true),
                "image" => inst.image = self.string(&q, v).filter(|s| self.nonempty(&q, s)),
                "ports" => {
                    inst.ports = self.strings(&q, v, true, false);
                    for (i, spec) in inst.ports.iter().enumerate() {
                        if let Err(e) = ports::parse_short(name, spec) {
                            self.err(&at(&q, &i.to_string()), e);
                        }
                    }
                }
                "volumes" => {
                    inst.volumes = self.strings(&q, v, false, false);
                    for (i, spec) in inst.volumes.iter().enumerate() {
                        if spec.trim().is_empty() {
                            self.err(&at(&q, &i.to_string()), "empty volume");
                        }
                    }
                }
                "environment" => {
                    inst.environment = self.string_map(&q, v, true);
                    for key in inst.environment.keys() {
                        if !is_env_name(key) {
                            self.err(
                                &at(&q, key),
                                format!(
                                    "'{}' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                                    crate::cli::excerpt(key)
                                ),
                            );
                        }
                    }
                }
                "env_file" => {
                    inst.env_file = self.strings(&q, v, false, true);
                    for (i, f) in inst.env_file.iter().enumerate() {
                        if let Err(e) = relative(f) {
                            let r = if v.is_string() {
                                q.clone()
                            } else {
                                at(&q, &i.to_string())
                            };
                            self.err(&r, e);
                        }
                    }
                }
                "depends_on" => inst.depends_on = self.strings(&q, v, false, false),
                "labels" => {
                    inst.labels = self.string_map(&q, v, true);
                    for key in inst.labels.keys() {
                        if key.starts_with("berth.") {
                            self.err(&at(&q, key), "labels under berth. are berth's own");
                        }
                    }
                }
                "domains" => {
                    inst.domains = self.strings(&q, v, false, false);
                    for (i, d) in inst.domains.iter().enumerate() {
                        if let Err(e) = d
                            .split('.')
                            .try_for_each(|l| crate::names::validate_label("domain label", l))
                        {
                            self.err(&at(&q, &i.to_string()), e.to_string());
                        }
                    }
                }
                "healthcheck" => inst.healthcheck = self.healthcheck(&q, v),
                "config_files" => {
                    inst.config_files = self.string_map(&q, v, false);
                    for (target, source) in &inst.config_files {
                        let r = if target.starts_with('/') {
                            relative(source)
                        } else {
                            Err(format!(
                                "the target '{}' must be an absolute container path",
                                crate::cli::excerpt(target)
                            ))
                        };
                        if let Err(e) = r {
                            self.err(&at(&q, target), e);
                        }
                    }
                }
                "command" => inst.command = self.command(&q, v),
                "resources" => inst.resources = self.resources(&q, v),
                "shared" => match v.as_bool() {
                    Some(b) => inst.shared = b,
                    None => self.err(&q, format!("expected true or false, not {}", kind(v))),
                },
                _ => {}
            }
        }
        self.check_service(p, name, &inst);
        inst
    }

    fn nonempty(&mut self, p: &[String], s: &str) -> bool {
        if s.trim().is_empty() {
            self.err(p, "must not be empty");
            return false;
        }
        true
    }

    fn check_service(&mut self, p: &[String], name: &str, inst: &Instance) {
        let Some(c) = self.catalog else {
            return;
        };
        let service = inst.service_name(name).to_owned();
        let q = if inst.service.is_some() {
            at(p, "service")
        } else {
            p.to_vec()
        };
        let Some(info) = c.service(&service) else {
            let names = c.service_names();
            let hint = suggest(&service, names.iter().map(String::as_str))
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            self.err(
                &q,
                format!(
                    "unknown service '{}'{hint}; the catalog has: {}",
                    crate::cli::excerpt(&service),
                    names.join(", ")
                ),
            );
            return;
        };
        if let Some(v) = &inst.version
            && inst.image.is_none()
            && !info.versions.is_empty()
            && !info.versions.contains(v)
        {
            self.err(
                &at(p, "version"),
                format!(
                    "{service} has no version '{}'; offered: {}",
                    crate::cli::excerpt(v),
                    info.versions.join(", ")
                ),
            );
        }
    }

    fn command(&mut self, p: &[String], v: &Value) -> Option<Command> {
        match v {
            Value::String(s) => Some(Command::Line(s.clone())),
            Value::Sequence(_) => Some(Command::Args(self.strings(p, v, true, false))),
            other => {
                self.err(
                    p,
                    format!("expected a string or a list, not {}", kind(other)),
                );
                None
            }
        }
    }

    fn healthcheck(&mut self, p: &[String], v: &Value) -> Option<Healthcheck> {
        let Value::Mapping(m) = v else {
            self.err(p, format!("expected a mapping, not {}", kind(v)));
            return None;
        };
        let mut h = Healthcheck::default();
        for (k, v) in self.keys(p, m, HEALTH_KEYS) {
            let q = at(p, &k);
            match k.as_str() {
                "test" => h.test = self.command(&q, v),
                "retries" => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                    Some(n) => h.retries = Some(n),
                    None => self.err(&q, format!("expected a whole number, not {}", kind(v))),
                },
                "disable" => match v.as_bool() {
                    Some(b) => h.disable = Some(b),
                    None => self.err(&q, format!("expected true or false, not {}", kind(v))),
                },
                _ => {
                    let Some(s) = self.string(&q, v) else {
                        continue;
                    };
                    if let Err(e) = crate::duration::parse(&s) {
                        self.err(&q, e);
                    }
                    let slot = match k.as_str() {
                        "interval" => &mut h.interval,
                        "timeout" => &mut h.timeout,
                        _ => &mut h.start_period,
                    };
                    *slot = Some(s);
                }
            }
        }
        Some(h)
    }

    fn resources(&mut self, p: &[String], v: &Value) -> Option<Resources> {
        let Value::Mapping(m) = v else {
            self.err(
                p,
                format!("expected a mapping (cpus, memory), not {}", kind(v)),
            );
            return None;
        };
        let mut r = Resources::default();
        for (k, v) in self.keys(p, m, RESOURCE_KEYS) {
            let q = at(p, &k);
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    self.err(
                        &q,
                        format!("expected a string or a number, not {}", kind(other)),
                    );
                    continue;
                }
            };
            if k == "cpus" {
                match text.parse::<Cpus>() {
                    Ok(c) => r.cpus = Some(c),
                    Err(e) => self.err(&q, e),
                }
            } else {
                match text.parse::<Memory>() {
                    Ok(m) => r.memory = Some(m),
                    Err(e) => self.err(&q, e),
                }
            }
        }
        Some(r)
    }

    fn wires(
        &mut self,
        p: &[String],
        v: &Value,
        instances: &Instances,
        stack: &StackInfo,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let m = match v {
            Value::Mapping(m) => m,
            Value::Null => return out,
            other => {
                self.err(
                    p,
                    format!(
                        "expected a mapping CONSUMER.IMPORT: PROVIDER, not {}",
                        kind(other)
                    ),
                );
                return out;
            }
        };
        for (key, v) in self.keys(p, m, &[]) {
            let q = at(p, &key);
            let Some(provider) = self.string(&q, v) else {
                continue;
            };
            let Some((consumer, import)) = key
                .split_once('.')
                .filter(|(c, i)| !c.is_empty() && !i.is_empty())
            else {
                self.err(
                    &q,
                    "a wire is CONSUMER.IMPORT: PROVIDER (app.database: postgres)",
                );
                continue;
            };
            let consumer_info = if let Some(inst) = instances.get(consumer) {
                Some(
                    self.catalog
                        .and_then(|c| c.service(inst.service_name(consumer))),
                )
            } else if let Some(info) = stack.services.get(consumer) {
                Some(self.catalog.map(|_| info.clone()))
            } else {
                None
            };
            let Some(consumer_info) = consumer_info else {
                self.err(
                    &q,
                    format!(
                        "no consumer '{}': not an instance nor one of the stack's services",
                        crate::cli::excerpt(consumer)
                    ),
                );
                continue;
            };
            let Some(pinst) = instances.get(&provider) else {
                self.err(
                    &q,
                    format!(
                        "no provider '{}': not an instance",
                        crate::cli::excerpt(&provider)
                    ),
                );
                continue;
            };
            if provider == consumer {
                self.err(&q, "an instance cannot be wired to itself");
                continue;
            }
            // With a catalog: the import exists and the provider speaks its contract.
            if let (Some(cinfo), Some(c)) = (consumer_info, self.catalog) {
                match cinfo.imports.get(import) {
                    None => self.err(
                        &q,
                        format!(
                            "'{consumer}' has no import '{}'; it imports: {}",
                            crate::cli::excerpt(import),
                            cinfo.imports.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                    Some(accepts) => {
                        let exports = c
                            .service(pinst.service_name(&provider))
                            .map(|s| s.exports)
                            .unwrap_or_default();
                        if !accepts.iter().any(|a| exports.contains(a)) {
                            self.err(
                                &q,
                                format!(
                                    "'{provider}' provides {} but {consumer}.{import} takes {}",
                                    or_none(&exports),
                                    accepts.join("|")
                                ),
                            );
                        }
                    }
                }
            }
            out.insert(key, provider);
        }
        out
    }
}

fn or_none(list: &[String]) -> String {
    if list.is_empty() {
        "nothing".into()
    } else {
        list.join(", ")
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A path inside the project folder: relative, no `..`.
fn relative(path: &str) -> Result<(), String> {
    let shown = crate::cli::excerpt(path);
    if path.trim().is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with('/') || path.starts_with('~') {
        return Err(format!("'{shown}' must be relative to the project folder"));
    }
    if Path::new(path)
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!(
            "'{shown}' must stay inside the project folder (no '..')"
        ));
    }
    Ok(())
}

fn suggest<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}
