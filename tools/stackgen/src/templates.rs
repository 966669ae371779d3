//! Where templates come from and how they are rendered: the stacks and the
//! service catalog embedded in the binary, the cache `stackgen update-templates` fills,
//! and the user's own folder (`templates:` in config.yaml), later layers
//! overriding earlier ones file by file.

use std::any::Any;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context as _, bail};
use berth::config::Config;
use berth::paths::Paths;
use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Where a template file came from.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Embedded in the binary.
    Builtin,
    /// The cache `stackgen update-templates` fills.
    Cache,
    /// The user's template folder from config.yaml.
    User,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Builtin => "builtin",
            Origin::Cache => "cache",
            Origin::User => "user",
        })
    }
}

/// One template file.
#[derive(Debug, Clone)]
pub struct Source {
    pub text: String,
    pub origin: Origin,
    /// Where it was read from, for error messages (`builtin:stacks/x/y`).
    pub shown: String,
}

/// Every template file, keyed by its path under the templates folder
/// (`stacks/django/Dockerfile`, `services/postgres.yaml`).
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub files: BTreeMap<String, Source>,
    /// What the modules above derive from the templates (catalog entries
    /// rendered with a neutral context), by key, kept for the library's
    /// life. Typed by its user, so this module imports none of them.
    memo: RefCell<HashMap<String, Rc<dyn Any>>>,
}

/// The folder `stackgen update-templates` fills.
pub fn cache_dir(paths: &Paths) -> PathBuf {
    paths.data.join("stackgen").join("templates")
}

impl Library {
    /// Builtin templates, then the update cache, then the user's folder.
    pub fn load(paths: &Paths, config: &Config) -> anyhow::Result<Self> {
        let mut lib = Self::builtin();
        let cache = cache_dir(paths);
        if cache.is_dir() {
            lib.overlay_dir(&cache, Origin::Cache)?;
        }
        if let Some(user) = &config.templates {
            let user = if user.is_relative() {
                paths.config.join(user)
            } else {
                user.clone()
            };
            if user.is_dir() {
                lib.overlay_dir(&user, Origin::User)?;
            }
        }
        Ok(lib)
    }

    /// The embedded templates only.
    pub fn builtin() -> Self {
        let files = EMBEDDED
            .iter()
            .map(|(path, text)| {
                (
                    (*path).to_owned(),
                    Source {
                        text: (*text).to_owned(),
                        origin: Origin::Builtin,
                        shown: format!("builtin:{path}"),
                    },
                )
            })
            .collect();
        Self {
            files,
            memo: RefCell::default(),
        }
    }

    /// Read the `stacks/` and `services/` of a template folder over this library.
    pub fn overlay_dir(&mut self, root: &Path, origin: Origin) -> anyhow::Result<()> {
        for sub in ["stacks", "services"] {
            let dir = root.join(sub);
            if dir.is_dir() {
                let mut found = Vec::new();
                walk(&dir, &mut found, 0)?;
                for path in found {
                    let rel = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    let bytes = berth::fsread::read_bounded(&path, berth::fsread::TEXT_LIMIT)
                        .and_then(|b| b.ok_or_else(|| anyhow::anyhow!("it does not exist")))
                        .with_context(|| format!("cannot read template {}", path.display()))?;
                    let text = String::from_utf8(bytes).map_err(|_| {
                        anyhow::anyhow!("template {} is not UTF-8 text", path.display())
                    })?;
                    self.files.insert(
                        rel,
                        Source {
                            text,
                            origin,
                            shown: path.display().to_string(),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Names of the stacks: folders under `stacks/` with a `manifest.yaml`.
    pub fn stack_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| {
                let rest = k.strip_prefix("stacks/")?;
                let (stack, file) = rest.split_once('/')?;
                (file == "manifest.yaml").then(|| stack.to_owned())
            })
            .collect();
        names.dedup();
        names
    }

    /// Names of the catalog services: `services/<name>.yaml`, builtin order first.
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix("services/")?.strip_suffix(".yaml"))
            .map(str::to_owned)
            .collect();
        names.sort_by_key(|n| {
            (
                CATALOG_ORDER
                    .iter()
                    .position(|c| c == n)
                    .unwrap_or(usize::MAX),
                n.clone(),
            )
        });
        names
    }

    /// The files of one stack, keyed by their path inside the stack folder.
    pub fn stack_files(&self, stack: &str) -> BTreeMap<&str, &Source> {
        let prefix = format!("stacks/{stack}/");
        self.files
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?, v)))
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<&Source> {
        self.files.get(key)
    }

    /// The value `make` derives from the templates under `key`: made once,
    /// then a copy of the kept one. A failure is not kept.
    pub fn memo<T: Clone + 'static>(
        &self,
        key: String,
        make: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        if let Some(v) = self
            .memo
            .borrow()
            .get(&key)
            .and_then(|v| v.downcast_ref::<T>())
        {
            return Ok(v.clone());
        }
        let v = make()?;
        self.memo.borrow_mut().insert(key, Rc::new(v.clone()));
        Ok(v)
    }
}

/// The catalog's order in listings (further services sort after, by name).
pub const CATALOG_ORDER: [&str; 10] = [
    "postgres",
    "mysql",
    "mariadb",
    "redis",
    "valkey",
    "memcached",
    "minio",
    "mailpit",
    "adminer",
    "celery",
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> anyhow::Result<()> {
    if depth > 8 {
        bail!("template folder {} is nested too deep", dir.display());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read template folder {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read template folder {}", dir.display()))?;
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.as_deref().is_some_and(|n| n == ".git") {
            continue;
        }
        if p.is_dir() {
            walk(&p, out, depth + 1)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// Render one template. Errors name the template and carry Tera's reasons.
pub fn render(source: &Source, ctx: &tera::Context) -> anyhow::Result<String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    // `{{ "composer:2" | image }}`: an image reference through `images:` of config.yaml.
    let images = ctx.get("images").cloned().unwrap_or_default();
    tera.register_filter(
        "image",
        move |v: &tera::Value, _: &HashMap<String, tera::Value>| {
            let r = v
                .as_str()
                .ok_or_else(|| tera::Error::msg("filter `image` expects an image reference"))?;
            Ok(images.get(r).cloned().unwrap_or_else(|| v.clone()))
        },
    );
    tera.add_raw_template(&source.shown, &source.text)
        .map_err(|e| anyhow::anyhow!("{}", berth::cli::error_chain(&e)))
        .with_context(|| format!("broken template {}", source.shown))?;
    tera.render(&source.shown, ctx)
        .map_err(|e| anyhow::anyhow!("{}", berth::cli::error_chain(&e)))
        .with_context(|| format!("cannot render template {}", source.shown))
}

/// Parse a YAML document, naming the file on error.
pub fn parse_yaml<T: for<'de> Deserialize<'de>>(text: &str, shown: &str) -> anyhow::Result<T> {
    yaml_serde::from_str(text).with_context(|| format!("invalid YAML in template {shown}"))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::Library;

    #[test]
    fn memo_makes_once_and_keeps_no_failure() {
        let lib = Library::default();
        let calls = Cell::new(0);
        let make = || {
            calls.set(calls.get() + 1);
            Ok(String::from("v"))
        };
        assert_eq!(lib.memo("k".into(), make).unwrap(), "v");
        assert_eq!(lib.memo("k".into(), make).unwrap(), "v");
        assert_eq!(calls.get(), 1);
        assert!(
            lib.memo::<String>("e".into(), || anyhow::bail!("no"))
                .is_err()
        );
        assert_eq!(lib.memo("e".into(), make).unwrap(), "v");
        assert_eq!(calls.get(), 2);
    }
}
