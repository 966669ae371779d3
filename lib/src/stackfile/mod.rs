//! `berth.yaml`, the declarative stack file (`version: 1`): the stack, its
//! named instances of catalog services with their overrides, and the wires
//! between them. Read with locations ([`parse`], [`read`]: every error names
//! file, line and key), rendered per instance into a compose service
//! ([`effective`]), hashed ([`config_hash`], [`serial`]) and written back in
//! one canonical form ([`StackFile::to_text`]).
//!
//! ```yaml
//! version: 1
//! stack: django
//! name: shop
//! instances:
//!   postgres:
//!   analytics-db:
//!     service: postgres
//!     version: "15"
//!     resources: {memory: 512m}
//!   redis:
//! wires:
//!   app.database: postgres
//!   worker.analytics: analytics-db
//! ```

pub mod edit;
mod effective;
mod read;
pub mod spans;
mod units;
pub mod wiring;

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use effective::{
    CONFIG_HASH_LABEL, DOMAINS_LABEL, Provenance, Source, config_hash, effective, with_tag,
};
pub use read::{Catalog, Diagnostic, Errors, ServiceInfo, StackInfo, parse, read, serial};
pub use units::{Cpus, Memory};

/// The stack file's name in a project folder.
pub const FILE: &str = "berth.yaml";
/// The format version this code reads and writes.
pub const VERSION: u32 = 1;
/// The largest stack file read (a hand-written file is a few KiB).
pub const LIMIT: u64 = 1 << 20;
/// The stack's own application service: a wire consumer without being an instance.
pub const APP: &str = "app";

/// A whole `berth.yaml`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    /// Format version: 1.
    pub version: u32,
    /// The stack from stackgen's catalog (`django`, `laravel`, ...).
    pub stack: String,
    /// The project's name (a DNS label).
    pub name: String,
    /// Instance name -> instance, in the file's order.
    #[serde(default, skip_serializing_if = "Instances::is_empty")]
    pub instances: Instances,
    /// `CONSUMER.IMPORT` -> provider instance (`app.database: analytics-db`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wires: BTreeMap<String, String>,
}

impl StackFile {
    /// An empty stack file of `stack` for project `name`.
    pub fn new(stack: &str, name: &str) -> Self {
        StackFile {
            version: VERSION,
            stack: stack.to_owned(),
            name: name.to_owned(),
            instances: Instances::default(),
            wires: BTreeMap::new(),
        }
    }

    /// The instance called `name`.
    pub fn instance(&self, name: &str) -> Option<&Instance> {
        self.instances.get(name)
    }

    /// Each wire as (consumer, import, provider).
    pub fn wires(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.wires.iter().filter_map(|(k, p)| {
            let (consumer, import) = k.split_once('.')?;
            Some((consumer, import, p.as_str()))
        })
    }

    /// The canonical text: `version`, `stack`, `name`, `instances` in their
    /// order (each instance's keys in the model's order), `wires` sorted;
    /// a bare instance is written `NAME:`. Reading it back and writing again
    /// gives the same bytes.
    pub fn to_text(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        let text = yaml_serde::to_string(self).unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut in_instances = false;
        for line in text.lines() {
            if !line.starts_with(' ') {
                in_instances = line == "instances:";
            }
            // Instance names are DNS labels: `  NAME: null` is a bare instance.
            match line.strip_suffix(": null") {
                Some(key) if in_instances && key.starts_with("  ") && !key[2..].contains(' ') => {
                    out.push_str(key);
                    out.push(':');
                }
                _ => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }
}

/// The instances of a stack, in the file's order (names unique).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instances(pub Vec<(String, Instance)>);

impl Instances {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn get(&self, name: &str) -> Option<&Instance> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, i)| i)
    }
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Instance)> {
        self.0.iter().map(|(n, i)| (n.as_str(), i))
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
    /// Add or replace `name`, keeping its place when it exists.
    pub fn insert(&mut self, name: &str, instance: Instance) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = instance,
            None => self.0.push((name.to_owned(), instance)),
        }
    }
}

impl Serialize for Instances {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, inst) in &self.0 {
            if inst.is_bare(name) {
                map.serialize_entry(name, &())?;
            } else {
                map.serialize_entry(name, inst)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Instances {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Instances;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of instance names to instances")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Instances, A::Error> {
                let mut out = Instances::default();
                while let Some(name) = map.next_key::<String>()? {
                    let inst = map.next_value::<Option<Instance>>()?.unwrap_or_default();
                    if out.contains(&name) {
                        return Err(de::Error::custom(format!("duplicate instance '{name}'")));
                    }
                    out.0.push((name, inst));
                }
                Ok(out)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Instances, E> {
                Ok(Instances::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Instances {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Instances".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let inst = g.subschema_for::<Option<Instance>>();
        schemars::json_schema!({
            "type": "object",
            "description": "Instance name (a DNS label) -> instance; null: the catalog service of that name as it is",
            "propertyNames": {"pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"},
            "additionalProperties": inst,
        })
    }
}

/// One instance of a catalog service and its overrides. Empty fields leave
/// the template's value.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// The catalog service; none: the instance's own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The service's version: the image tag of the template's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The whole image reference (wins over `version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Published ports, compose short syntax (replace the template's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Volumes, compose short syntax (merged with the template's by target).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Variables (win over the template's and the wired ones).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Env files, relative to the project folder (replace the template's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<String>,
    /// Instances (or the stack's services) started first (added to the template's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Container labels (merged; `berth.*` is reserved).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Host names the proxy routes to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// Replaces the template's healthcheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Container path -> file in the project folder, mounted read-only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config_files: BTreeMap<String, String>,
    /// Replaces the template's command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    /// Resource limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Served by the shared server of this name (`shared`), with a database
    /// and user of the project's own, instead of a container of the project.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Instance {
    /// An instance of `service`.
    pub fn of(service: &str) -> Self {
        Instance {
            service: Some(service.to_owned()),
            ..Instance::default()
        }
    }

    /// The catalog service of the instance called `name`.
    pub fn service_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.service.as_deref().unwrap_or(name)
    }

    /// Whether it is the catalog service `name` with no override (written `NAME:`).
    pub fn is_bare(&self, name: &str) -> bool {
        let plain = Instance {
            service: None,
            ..self.clone()
        };
        plain == Instance::default() && self.service.as_deref().is_none_or(|s| s == name)
    }
}

/// A command: one string (split by compose) or an argument list.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Line(String),
    Args(Vec<String>),
}

/// A compose healthcheck.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Command>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<bool>,
}

/// Resource limits of an instance.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPUs (`0.5`, `2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Cpus>,
    /// Memory (`256m`, `1g`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
}

#[cfg(test)]
mod tests;
