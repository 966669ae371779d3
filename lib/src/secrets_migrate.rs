//! A project's secrets as the tools that run it need them: which `.env`
//! variables are secret, moving their values out of `.env` into the
//! encrypted store on first use (the migration of projects generated before
//! the store), and the `KEY=VALUE` pairs a child process (compose) gets.
//!
//! **Which variables are secret**: the names stackgen generated for the
//! project (the `secrets` map of `.berth/stackgen.json`), and the well-known
//! names: `APP_KEY`, `SECRET_KEY`, and names ending in `_PASSWORD`,
//! `_SECRET`, `_SECRET_KEY`, `_TOKEN`, or WordPress's `_AUTH_KEY`,
//! `_LOGGED_IN_KEY`, `_NONCE_KEY`, `_SALT` (switches such as
//! `MYSQL_ALLOW_EMPTY_PASSWORD` and `MYSQL_RANDOM_ROOT_PASSWORD` are not).
//!
//! **The migration** is ordered so that a kill at any point leaves the value
//! in the store, in `.env`, or in both, never in neither: the store is
//! written first (atomically, under its lock), then the old `.env` is kept
//! as `.env.berth-backup-TIMESTAMP` (0600), then the new `.env` (the names
//! with empty values) replaces it atomically. `secrets: plain` in
//! config.yaml turns all of this off: values stay in `.env`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::{Config, SecretsMode};
use crate::paths::Paths;
use crate::secrets::{ProjectSecrets, Store};

/// stackgen's record of a generated project (names only, never values).
pub const STACKGEN_STATE: &str = ".berth/stackgen.json";

/// The kind recorded for a value imported from `.env` whose kind stackgen
/// did not record (what `secrets rotate` generates for it).
pub const IMPORTED_KIND: &str = "alnum32";

/// Whether a variable is secret by its name alone (see the module doc).
pub fn is_well_known(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    if k.contains("ALLOW_EMPTY") || k.contains("RANDOM_ROOT") {
        return false;
    }
    matches!(k.as_str(), "APP_KEY" | "SECRET_KEY")
        || [
            "_PASSWORD",
            "_SECRET",
            "_SECRET_KEY",
            "_TOKEN",
            "_AUTH_KEY",
            "_LOGGED_IN_KEY",
            "_NONCE_KEY",
            "_SALT",
        ]
        .iter()
        .any(|s| k.ends_with(s))
}

/// The secrets stackgen generated for the project in `dir`: name -> kind
/// (empty when it recorded none, or is not a stackgen project).
pub fn generated(dir: &Path) -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct State {
        #[serde(default)]
        secrets: BTreeMap<String, String>,
    }
    let Ok(Some(file)) = crate::fsread::read_text(
        &dir.join(STACKGEN_STATE),
        Some(dir),
        crate::fsread::TEXT_LIMIT,
    ) else {
        return BTreeMap::new();
    };
    serde_json::from_str::<State>(&file.text)
        .map(|s| s.secrets)
        .unwrap_or_default()
}

/// The secret-variable rule for one project: generated or well-known.
pub fn is_secret(generated: &BTreeMap<String, String>, key: &str) -> bool {
    generated.contains_key(key) || is_well_known(key)
}

/// The variable a `.env` line sets (`KEY=...`, `export KEY=...`).
fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
    let (k, _) = t.split_once('=')?;
    let k = k.trim_end();
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(k)
}

fn parse(text: &str) -> Option<HashMap<String, String>> {
    dotenvy::from_read_iter(text.as_bytes())
        .collect::<Result<HashMap<_, _>, _>>()
        .ok()
}

/// What taking the secret values out of a `.env` text gives.
#[derive(Debug, PartialEq, Eq)]
pub struct Stripped {
    /// The new text: the secret lines as `KEY=` (the name kept), all else as it was.
    pub text: String,
    /// The values taken out, as compose read them.
    pub moved: Vec<(String, String)>,
}

/// Take the values of secret variables out of a `.env` text (pure).
/// `Ok(None)`: nothing to move. A value that refers to other variables
/// (`${...}`) stays, since only compose can resolve it; a file whose other
/// values would read differently afterwards (a quoted value over several
/// lines) is an error and nothing moves.
pub fn strip(text: &str, secret: &dyn Fn(&str) -> bool) -> anyhow::Result<Option<Stripped>> {
    let Some(before) = parse(text) else {
        anyhow::bail!("the .env file does not parse");
    };
    let mut out = String::with_capacity(text.len());
    let mut moved: BTreeMap<String, String> = BTreeMap::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let raw_value = bare.split_once('=').map_or("", |(_, v)| v);
        match key_of(bare) {
            Some(k)
                if secret(k)
                    && !raw_value.contains("${")
                    && before.get(k).is_some_and(|v| !v.is_empty()) =>
            {
                let export = if bare.trim_start().starts_with("export ") {
                    "export "
                } else {
                    ""
                };
                out.push_str(&format!("{export}{k}="));
                out.push_str(&line[bare.len()..]);
                moved.insert(k.to_owned(), before[k].clone());
            }
            _ => out.push_str(line),
        }
    }
    if moved.is_empty() {
        return Ok(None);
    }
    // The new file must read as the old one did, the moved values empty.
    let after = parse(&out).context("the .env file would not parse after the move")?;
    let same = before.len() == after.len()
        && before.iter().all(|(k, v)| {
            after.get(k).is_some_and(|a| {
                if moved.contains_key(k) {
                    a.is_empty()
                } else {
                    a == v
                }
            })
        });
    if !same {
        anyhow::bail!(
            "moving the secret values would change how other lines of .env read (a quoted value over several lines?)"
        );
    }
    Ok(Some(Stripped {
        text: out,
        moved: moved.into_iter().collect(),
    }))
}

/// What a migration did.
#[derive(Debug)]
pub struct Migrated {
    pub moved: Vec<String>,
    pub backup: PathBuf,
}

/// Move the secret values of `dir/.env` into the store for `project` (see
/// the module doc for the order). `Ok(None)` when there was nothing to move.
pub fn migrate(store: &Store, project: &str, dir: &Path) -> anyhow::Result<Option<Migrated>> {
    let env_path = dir.join(".env");
    let Some(file) = crate::fsread::read_text(&env_path, Some(dir), crate::fsread::TEXT_LIMIT)?
    else {
        return Ok(None);
    };
    let kinds = generated(dir);
    let secret = |k: &str| is_secret(&kinds, k);
    let stripped = match strip(&file.text, &secret) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(e) => {
            crate::info!(
                "warning: {project}: its secret values stay in {}: {e:#}",
                env_path.display()
            );
            return Ok(None);
        }
    };
    if file.outside {
        crate::info!(
            "warning: {project}: {} lies outside the project folder: its secret values are not moved into the store",
            env_path.display()
        );
        return Ok(None);
    }
    // 1. The store (its own lock and atomic write).
    store.update(project, |s| {
        for (k, v) in &stripped.moved {
            if s.get(k) != Some(v.as_str()) {
                let kind = kinds.get(k).map_or(IMPORTED_KIND, String::as_str);
                s.set(k, v.clone(), kind);
            }
        }
        Ok(())
    })?;
    // 2. The old file kept, private.
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let backup = dir.join(format!(".env.berth-backup-{stamp}"));
    crate::atomic::write(&backup, file.text.as_bytes(), 0o600)?;
    set_private(&backup)?;
    // 3. The new .env in its place.
    crate::atomic::write(&env_path, stripped.text.as_bytes(), 0o600)?;
    let moved: Vec<String> = stripped.moved.into_iter().map(|(k, _)| k).collect();
    crate::info!(
        "{project}: moved {} secret value(s) from .env into the secrets store ({}); .env keeps the names, the old file is {}",
        moved.len(),
        moved.join(", "),
        backup.display()
    );
    Ok(Some(Migrated { moved, backup }))
}

fn set_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private", path.display()))
}

/// Whether config.yaml keeps secrets in the store (not `secrets: plain`).
pub fn store_mode() -> anyhow::Result<bool> {
    let paths = Paths::from_env()?;
    Ok(Config::load(&paths)?.secrets == SecretsMode::Store)
}

/// What every tool that runs a project calls first: migrate its `.env`
/// (store mode), then the `KEY=VALUE` pairs of its secrets for the child's
/// environment (none under `secrets: plain`: compose reads `.env`; none for
/// a compose project whose name is not a berth project name).
pub fn prepare(project: &str, dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    if !store_mode()? || crate::names::validate_label("project name", project).is_err() {
        return Ok(Vec::new());
    }
    let store = Store::open()?;
    // Opening makes no key; nothing to move and nothing stored reads nothing.
    if !store.file(project)?.exists() && !has_secret_values(dir) {
        return Ok(Vec::new());
    }
    migrate(&store, project, dir)?;
    Ok(store.load(project)?.env())
}

/// Whether `dir/.env` holds a value for a secret variable.
fn has_secret_values(dir: &Path) -> bool {
    let Ok(Some(file)) =
        crate::fsread::read_text(&dir.join(".env"), Some(dir), crate::fsread::TEXT_LIMIT)
    else {
        return false;
    };
    let kinds = generated(dir);
    matches!(strip(&file.text, &|k| is_secret(&kinds, k)), Ok(Some(_)))
}

/// A project's secrets without migrating anything or creating a key
/// (`None`: it has none in the store), for tools that only show.
pub fn peek(project: &str) -> anyhow::Result<Option<ProjectSecrets>> {
    if crate::names::validate_label("project name", project).is_err() {
        return Ok(None);
    }
    let store = Store::open()?;
    if !store.file(project)?.exists() {
        return Ok(None);
    }
    Ok(Some(store.load(project)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_names_the_usual_secrets_and_not_the_switches() {
        for k in [
            "POSTGRES_PASSWORD",
            "MINIO_ROOT_PASSWORD",
            "DJANGO_SECRET_KEY",
            "APP_KEY",
            "SECRET_KEY",
            "AUTH_SECRET",
            "GITHUB_TOKEN",
            "WORDPRESS_AUTH_KEY",
            "WORDPRESS_NONCE_SALT",
        ] {
            assert!(is_well_known(k), "{k}");
        }
        for k in [
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "APP_PORT",
            "POSTGRES_PASSWORD_FILE",
            "DJANGO_DEBUG",
            "KEYCLOAK_URL",
        ] {
            assert!(!is_well_known(k), "{k}");
        }
        let generated_kinds = BTreeMap::from([("ODD_NAME".to_owned(), "hex16".to_owned())]);
        assert!(is_secret(&generated_kinds, "ODD_NAME"));
    }

    #[test]
    fn strip_keeps_names_and_other_lines() {
        let text = "# mine\nAPP_PORT=5001\nPOSTGRES_PASSWORD=s3cr3t\nexport API_TOKEN=\"a b\"\nEMPTY_PASSWORD=\nREF_PASSWORD=${OTHER}\n";
        let s = strip(text, &is_well_known).unwrap().unwrap();
        assert_eq!(
            s.text,
            "# mine\nAPP_PORT=5001\nPOSTGRES_PASSWORD=\nexport API_TOKEN=\nEMPTY_PASSWORD=\nREF_PASSWORD=${OTHER}\n"
        );
        assert_eq!(
            s.moved,
            vec![
                ("API_TOKEN".to_owned(), "a b".to_owned()),
                ("POSTGRES_PASSWORD".to_owned(), "s3cr3t".to_owned())
            ]
        );
        // Again: nothing left to move.
        assert_eq!(strip(&s.text, &is_well_known).unwrap(), None);
        assert_eq!(strip("A=1\n", &is_well_known).unwrap(), None);
    }

    #[test]
    fn strip_refuses_what_it_would_garble() {
        let text = "DB_PASSWORD=\"line one\nline two\"\nOTHER=x\n";
        assert!(strip(text, &is_well_known).is_err());
    }

    #[test]
    fn generated_names_come_from_stackgens_state() {
        let dir = tempfile::tempdir().unwrap();
        assert!(generated(dir.path()).is_empty());
        std::fs::create_dir(dir.path().join(".berth")).unwrap();
        std::fs::write(
            dir.path().join(STACKGEN_STATE),
            r#"{"name":"x","stack":"django","app_port":1,"secrets":{"ODD":"alnum8"}}"#,
        )
        .unwrap();
        assert_eq!(generated(dir.path())["ODD"], "alnum8");
    }
}
