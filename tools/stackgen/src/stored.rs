//! Where generated secrets go: berth's encrypted secrets store (the
//! default), with only their names in the compose files and in `.env`
//! (a comment naming each, see [`crate::envfile`]); or,
//! under `secrets: plain` in config.yaml, their values in `.env` as before.

use std::collections::BTreeMap;

use berth::config::{Config, SecretsMode};
use berth::secrets::Store;

/// Whether generated values go into the store.
pub fn in_store(config: &Config) -> bool {
    config.secrets == SecretsMode::Store
}

/// The values the templates write: empty for the store (`Spec::stored`:
/// `.env` gets the comment naming the secret), the values themselves under
/// `secrets: plain`.
pub fn written(config: &Config, values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    if in_store(config) {
        values.keys().map(|k| (k.clone(), String::new())).collect()
    } else {
        values.clone()
    }
}

/// Put generated values into the store for `project` (before any file
/// naming them is written). With `keep`, a name the store holds already
/// keeps its value (add-service); without, every value is set (new).
pub fn save(
    project: &str,
    values: &BTreeMap<String, String>,
    kinds: &BTreeMap<String, String>,
    keep: bool,
) -> anyhow::Result<usize> {
    if values.is_empty() {
        return Ok(0);
    }
    let store = Store::open()?;
    store.update(project, |s| {
        let mut n = 0;
        for (k, v) in values {
            if keep && s.get(k).is_some() {
                continue;
            }
            let kind = kinds.get(k).map_or("alnum32", String::as_str);
            s.set(k, v.clone(), kind);
            n += 1;
        }
        Ok(n)
    })
}
