//! The encrypted secrets store: one file per project under
//! `$BERTH_HOME/secrets/PROJECT.enc`, AES-256-GCM (ring's AEAD) with a key of
//! 32 random bytes at `$BERTH_HOME/secret.key` (mode 0600).
//!
//! A file is a header (`BERTHSEC`, a version byte, an 8-byte id of the key
//! that wrote it), a fresh random 12-byte nonce, then the ciphertext and tag
//! of a JSON body mapping each key name to its value, kind and times. The
//! associated data is the header and the project's name, so a file copied to
//! another project's name does not open, and a value cannot move between
//! names or projects without the key. A flipped byte anywhere fails the tag.
//!
//! The key is created on first write, and only when no encrypted file exists
//! yet: a missing or different key with existing files is an error naming
//! the way back (`secrets import-key`), never a new key that orphans them.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context as _, bail};
use ring::aead;
use serde::{Deserialize, Serialize};

use crate::cli::{ResultExt as _, error_with_hint};
use crate::paths::Paths;

pub use crate::envline::MASK;

/// Length of the key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

const MAGIC: &[u8; 8] = b"BERTHSEC";
const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = aead::NONCE_LEN;
const HEADER_LEN: usize = MAGIC.len() + 1 + KEY_ID_LEN;
const AAD_PREFIX: &[u8] = b"berth-secrets v1\0";
/// Largest project file read (a project's secrets are a few hundred bytes).
const FILE_LIMIT: u64 = 8 << 20;
/// File name suffix of a project's secrets.
const SUFFIX: &str = ".enc";

/// The key: 32 bytes, never printed.
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({MASK})")
    }
}

impl Key {
    /// A new random key.
    pub fn random() -> anyhow::Result<Self> {
        let mut k = [0u8; KEY_LEN];
        fill_random(&mut k)?;
        Ok(Self(k))
    }

    /// The key from its raw bytes (exactly 32).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; KEY_LEN]>::try_from(bytes).ok().map(Self)
    }

    /// The key from the text `export-key` writes (`berth-secret-key:` and 64
    /// hex digits, surrounding whitespace ignored) or its 32 raw bytes.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if let Some(k) = Self::from_bytes(bytes) {
            return Some(k);
        }
        let text = std::str::from_utf8(bytes).ok()?.trim();
        let hex = text.strip_prefix(EXPORT_PREFIX).unwrap_or(text);
        if hex.len() != KEY_LEN * 2 {
            return None;
        }
        let mut k = [0u8; KEY_LEN];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(k))
    }

    /// The raw bytes (for writing the key file).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The text form `export-key` writes: one line.
    pub fn export_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::from(EXPORT_PREFIX);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s.push('\n');
        s
    }

    /// A short public id of the key, stored in each file's header so a wrong
    /// key is told apart from an altered file. HMAC-SHA256 of a fixed label.
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let tag = ring::hmac::sign(&mac, b"berth-secrets key id");
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&tag.as_ref()[..KEY_ID_LEN]);
        id
    }

    fn aead(&self) -> aead::LessSafeKey {
        // 32 bytes is always a valid AES-256 key.
        let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, &self.0)
            .expect("a 32-byte key is an AES-256-GCM key");
        aead::LessSafeKey::new(unbound)
    }
}

/// The first word of an exported key.
pub const EXPORT_PREFIX: &str = "berth-secret-key:";

fn fill_random(buf: &mut [u8]) -> anyhow::Result<()> {
    getrandom::getrandom(buf)
        .map_err(|e| anyhow::anyhow!("cannot read random bytes from the system: {e}"))
}

/// One stored secret: its kind and times; the value is reached through
/// [`ProjectSecrets::get`] and never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// How it was made: a generator kind (`alnum32`, `laravel`, ...) or `manual`.
    pub kind: String,
    pub created: jiff::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated: Option<jiff::Timestamp>,
    value: String,
    /// A rotation's new value, stored before the database's password is
    /// changed and promoted after ([`ProjectSecrets::set_pending`]): a kill
    /// in between leaves it here for [`Store::resolve`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<Pending>,
}

/// The new value of a rotation under way (or cut short).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub kind: String,
    pub since: jiff::Timestamp,
    value: String,
}

impl Pending {
    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("kind", &self.kind)
            .field("since", &self.since)
            .field("value", &MASK)
            .finish()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("kind", &self.kind)
            .field("created", &self.created)
            .field("rotated", &self.rotated)
            .field("value", &MASK)
            .field("pending", &self.pending)
            .finish()
    }
}

impl Secret {
    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The new value of a rotation not finished, if any.
    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }
}

/// The kind of a value given by hand (`secrets set` from stdin or a prompt).
pub const MANUAL: &str = "manual";

/// One project's secrets, by key name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSecrets {
    #[serde(default)]
    secrets: BTreeMap<String, Secret>,
}

impl ProjectSecrets {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.secrets.get(key).map(|s| s.value.as_str())
    }

    pub fn entry(&self, key: &str) -> Option<&Secret> {
        self.secrets.get(key)
    }

    /// Set a value. A new key gets `created` now; an existing one keeps its
    /// `created` and gets `rotated` now. Names are checked by
    /// [`Store::update`] before anything is written ([`validate_key`]).
    pub fn set(&mut self, key: &str, value: String, kind: &str) {
        let now = jiff::Timestamp::now();
        match self.secrets.get_mut(key) {
            Some(s) => {
                s.value = value;
                kind.clone_into(&mut s.kind);
                s.rotated = Some(now);
                s.pending = None;
            }
            None => {
                self.secrets.insert(
                    key.to_owned(),
                    Secret {
                        kind: kind.to_owned(),
                        created: now,
                        rotated: None,
                        value,
                        pending: None,
                    },
                );
            }
        }
    }

    /// Keep `value` beside the key's current one as the pending value of a
    /// rotation (step one of two: the current value stays what is used
    /// until [`ProjectSecrets::promote`]). False when there is no such key.
    pub fn set_pending(&mut self, key: &str, value: String, kind: &str) -> bool {
        let Some(s) = self.secrets.get_mut(key) else {
            return false;
        };
        s.pending = Some(Pending {
            kind: kind.to_owned(),
            since: jiff::Timestamp::now(),
            value,
        });
        true
    }

    /// Make the pending value `value` the current one (rotated now). False,
    /// and nothing changed, when the key's pending value is not `value`
    /// (another rotation replaced it, or it was resolved already).
    pub fn promote(&mut self, key: &str, value: &str) -> bool {
        let Some(p) = self.pending_of(key, value) else {
            return false;
        };
        self.set(key, p.value, &p.kind);
        true
    }

    /// Forget the pending value `value` (the database kept the current
    /// one). False, and nothing changed, when it is not the pending value.
    pub fn drop_pending(&mut self, key: &str, value: &str) -> bool {
        if self.pending_of(key, value).is_none() {
            return false;
        }
        if let Some(s) = self.secrets.get_mut(key) {
            s.pending = None;
        }
        true
    }

    fn pending_of(&self, key: &str, value: &str) -> Option<Pending> {
        self.secrets
            .get(key)?
            .pending
            .clone()
            .filter(|p| p.value == value)
    }

    /// The keys with a pending value, sorted.
    pub fn pending_keys(&self) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|(_, s)| s.pending.is_some())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Remove a key; whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.secrets.remove(key).is_some()
    }

    /// The key names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// The entries, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.secrets.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `KEY`, `VALUE` pairs for a child's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        self.secrets
            .iter()
            .map(|(k, s)| (k.clone(), s.value.clone()))
            .collect()
    }
}

/// What checking a pending value against its user (the database whose
/// password the key is) found: which value to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing outside the store uses the key: the pending value is simply the new one.
    NoCheck,
    /// The pending value works (the database's password was changed): promote it.
    PendingWorks,
    /// The current value works (the database kept it): drop the pending one.
    CurrentWorks,
    /// Neither could be shown to work (why: the database is not running,
    /// ...): keep both, use the current one.
    Unknown(String),
}

/// The check [`Store::resolve`] asks for each pending value. It lives
/// where the database clients are (berth-dbdump), not in lib.
pub trait PendingCheck {
    /// Which of `key`'s values (current and pending, in `secrets`) works.
    fn check(&self, project: &str, secrets: &ProjectSecrets, key: &str) -> Verdict;
}

/// The check for callers that reach nothing outside the store (tests, and
/// keys no database uses): every pending value is promoted.
#[derive(Debug, Clone, Copy)]
pub struct NoDatabase;

impl PendingCheck for NoDatabase {
    fn check(&self, _: &str, _: &ProjectSecrets, _: &str) -> Verdict {
        Verdict::NoCheck
    }
}

/// A project's rotation lock, held by `secrets rotate` from writing the
/// pending value until promoting it, so that no reader resolves a pending
/// value whose rotation is still under way. Released on drop, and by the
/// kernel when the holder is killed.
#[derive(Debug)]
pub struct Rotation<'a> {
    store: &'a Store,
    project: String,
    _lock: fs::File,
}

impl Rotation<'_> {
    /// Load the project's secrets, resolving every pending value by `check`
    /// (see [`Store::resolve`]); what was done is said on stderr.
    pub fn resolve(&self, check: &dyn PendingCheck) -> anyhow::Result<ProjectSecrets> {
        let project = self.project.as_str();
        let secrets = self.store.load(project)?;
        let keys = secrets.pending_keys();
        if keys.is_empty() {
            return Ok(secrets);
        }
        for key in keys {
            let Some(value) = secrets
                .entry(&key)
                .and_then(Secret::pending)
                .map(|p| p.value.clone())
            else {
                continue;
            };
            match check.check(project, &secrets, &key) {
                v @ (Verdict::NoCheck | Verdict::PendingWorks) => {
                    if self
                        .store
                        .update(project, |p| Ok(p.promote(&key, &value)))?
                    {
                        let why = if v == Verdict::NoCheck {
                            "no database uses the key"
                        } else {
                            "its new value works"
                        };
                        crate::info!(
                            "{key} of project {project}: a rotation cut short is finished ({why}), the new value stored"
                        );
                    }
                }
                Verdict::CurrentWorks => {
                    if self
                        .store
                        .update(project, |p| Ok(p.drop_pending(&key, &value)))?
                    {
                        crate::info!(
                            "{key} of project {project}: a rotation cut short is undone (the database kept the current value), its new value dropped"
                        );
                    }
                }
                Verdict::Unknown(why) => crate::cli::warn_with_hint(
                    format!(
                        "{key} of project {project} has the new value of a rotation cut short beside the current one, and neither could be checked ({why}): the current value is used, both are kept"
                    ),
                    format!(
                        "when the database runs and answers (`stackctl start {project}`), `secrets rotate {project} {key}` resolves it"
                    ),
                ),
            }
        }
        self.store.load(project)
    }
}

/// Check a key name: an environment variable's name, `[A-Za-z_][A-Za-z0-9_]*`.
pub fn validate_key(name: &str) -> anyhow::Result<()> {
    let shown = crate::cli::excerpt(name);
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(error_with_hint(
            format!("invalid key name '{shown}': not an environment variable's name"),
            "use letters, digits and '_', not starting with a digit (DB_PASSWORD)",
        ));
    }
    Ok(())
}

/// The encrypted store of one berth installation.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    key_path: PathBuf,
    /// Set once: read at open, or made on the first write.
    key: OnceLock<Key>,
}

impl Store {
    /// The store under the data folder (`$BERTH_HOME`).
    pub fn open() -> anyhow::Result<Self> {
        Self::open_in(&Paths::from_env()?)
    }

    /// The store of the installation at `paths`.
    pub fn open_in(paths: &Paths) -> anyhow::Result<Self> {
        let dir = paths.data.join("secrets");
        let key_path = paths.data.join("secret.key");
        let key = OnceLock::new();
        if let Some(k) = read_key(&key_path)? {
            let _ = key.set(k);
        }
        let store = Self { dir, key_path, key };
        if store.key.get().is_none()
            && let Some(first) = store.files()?.into_iter().next()
        {
            return Err(error_with_hint(
                format!(
                    "the key at {} is missing, and {} needs it",
                    store.key_path.display(),
                    first.display()
                ),
                "restore it with `secrets import-key FILE` (berth never makes a new key that would orphan existing secrets)",
            ));
        }
        Ok(store)
    }

    /// The store with no key read and no check of it, for installing a key
    /// (`secrets import-key` repairs a missing or broken one): loading
    /// fails, and no key is made while files exist.
    pub fn without_key(paths: &Paths) -> Self {
        Self {
            dir: paths.data.join("secrets"),
            key_path: paths.data.join("secret.key"),
            key: OnceLock::new(),
        }
    }

    /// Where the key is.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The folder of the project files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key, when there is one yet.
    pub fn key(&self) -> Option<&Key> {
        self.key.get()
    }

    /// The file of a project's secrets.
    pub fn file(&self, project: &str) -> anyhow::Result<PathBuf> {
        crate::names::validate_label("project name", project)?;
        Ok(self.dir.join(format!("{project}{SUFFIX}")))
    }

    /// The encrypted files there are, sorted.
    pub fn files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.dir.display())),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", self.dir.display()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(SUFFIX) && !name.starts_with('.') {
                out.push(entry.path());
            }
        }
        out.sort();
        Ok(out)
    }

    /// The projects that have a secrets file, sorted.
    pub fn projects(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .files()?
            .iter()
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?.strip_suffix(SUFFIX)?;
                crate::names::validate_label("project name", name)
                    .is_ok()
                    .then(|| name.to_owned())
            })
            .collect())
    }

    /// Read, decrypt and verify one project's secrets (empty when it has none).
    pub fn load(&self, project: &str) -> anyhow::Result<ProjectSecrets> {
        let path = self.file(project)?;
        match read_file(&path)? {
            None => Ok(ProjectSecrets::default()),
            Some(bytes) => self.decrypt(project, &path, &bytes),
        }
    }

    /// Load one project's secrets for use: a pending value left by a
    /// rotation cut short (a kill between its steps) is resolved first by
    /// `check` (promoted when it works, dropped when the current one does,
    /// kept beside it with a warning when neither can be checked; the
    /// current value is what is used then). A rotation still under way
    /// (its lock held) is left alone. No pending value: one file read.
    pub fn resolve(
        &self,
        project: &str,
        check: &dyn PendingCheck,
    ) -> anyhow::Result<ProjectSecrets> {
        let secrets = self.load(project)?;
        if secrets.pending_keys().is_empty() {
            return Ok(secrets);
        }
        match self.try_rotation(project)? {
            Some(rotation) => rotation.resolve(check),
            None => Ok(secrets),
        }
    }

    /// The project's rotation lock, or `None` when another process holds it.
    pub fn try_rotation(&self, project: &str) -> anyhow::Result<Option<Rotation<'_>>> {
        crate::names::validate_label("project name", project)?;
        let path = self.dir.join(format!("{project}.rotate.lock"));
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        set_private(&self.dir)?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Rotation {
                store: self,
                project: project.to_owned(),
                _lock: file,
            })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// Lock the project's file, load it, apply `f`, encrypt with a fresh
    /// random nonce, write atomically (mode 0600), unlock. The key is made
    /// here on the first write. When `f` fails nothing is written.
    pub fn update<T>(
        &self,
        project: &str,
        f: impl FnOnce(&mut ProjectSecrets) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let path = self.file(project)?;
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        set_private(&self.dir)?;
        let file = crate::store::JsonFile::new(&path);
        let _lock = file.lock()?;
        let mut secrets = match read_file(&path)? {
            None => ProjectSecrets::default(),
            Some(bytes) => self.decrypt(project, &path, &bytes)?,
        };
        let before = secrets.clone();
        let out = f(&mut secrets)?;
        for name in secrets.names() {
            validate_key(name)?;
        }
        if secrets == before {
            return Ok(out);
        }
        let key = self.ensure_key()?;
        let bytes = encrypt(key, project, &secrets)?;
        file.replace(&bytes)?;
        Ok(out)
    }

    /// Whether `key` opens every existing file (for `import-key`): the
    /// files it does not open.
    pub fn files_not_opened_by(&self, key: &Key) -> anyhow::Result<Vec<PathBuf>> {
        let mut bad = Vec::new();
        for path in self.files()? {
            let Some(project) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(SUFFIX))
            else {
                continue;
            };
            let Some(bytes) = read_file(&path)? else {
                continue;
            };
            if decrypt_with(key, project, &bytes).is_err() {
                bad.push(path);
            }
        }
        Ok(bad)
    }

    /// Write `key` as the installation's key (mode 0600, atomically).
    pub fn install_key(&mut self, key: Key) -> anyhow::Result<()> {
        if let Some(dir) = self.key_path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::atomic::write_with(
            &self.key_path,
            key.as_bytes(),
            crate::atomic::Options::new(0o600).exact_mode(),
        )?;
        self.key = OnceLock::from(key);
        Ok(())
    }

    /// The key, made (and written, never over another) when there is none.
    fn ensure_key(&self) -> anyhow::Result<&Key> {
        if let Some(k) = self.current_key()? {
            return Ok(k);
        }
        if let Some(first) = self.files()?.into_iter().next() {
            // Files and no key: never make a key beside them.
            bail!(
                "the key at {} is missing, and {} needs it",
                self.key_path.display(),
                first.display()
            );
        }
        let key = Key::random()?;
        if let Some(dir) = self.key_path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let made = crate::atomic::write_with(
            &self.key_path,
            key.as_bytes(),
            crate::atomic::Options::new(0o600).exact_mode().create_new(),
        );
        let key = match made {
            Ok(_) => key,
            // Another process made it first: use theirs.
            Err(e)
                if e.chain().any(|c| {
                    c.downcast_ref::<io::Error>()
                        .is_some_and(|io| io.kind() == io::ErrorKind::AlreadyExists)
                }) =>
            {
                read_key(&self.key_path)?.context("the key file vanished while it was made")?
            }
            Err(e) => return Err(e),
        };
        Ok(self.key.get_or_init(|| key))
    }

    /// The key held, else the key file as it is now: another process may
    /// have made the first key (and written a file with it) since `open`.
    fn current_key(&self) -> anyhow::Result<Option<&Key>> {
        if let Some(k) = self.key.get() {
            return Ok(Some(k));
        }
        Ok(read_key(&self.key_path)?.map(|k| self.key.get_or_init(|| k)))
    }

    fn decrypt(&self, project: &str, path: &Path, bytes: &[u8]) -> anyhow::Result<ProjectSecrets> {
        let Some(key) = self.current_key()? else {
            return Err(error_with_hint(
                format!(
                    "the key at {} is missing, and {} needs it",
                    self.key_path.display(),
                    path.display()
                ),
                "restore it with `secrets import-key FILE`",
            ));
        };
        decrypt_with(key, project, bytes).map_err(|e| match e {
            OpenError::WrongKey => error_with_hint(
                format!(
                    "the key at {} does not open {} (it was written with another key)",
                    self.key_path.display(),
                    path.display()
                ),
                "restore the key it was written with: `secrets import-key FILE --force`",
            ),
            OpenError::Altered => error_with_hint(
                format!(
                    "{} was altered or is not a berth secrets file of project '{project}'",
                    path.display()
                ),
                "berth never overwrites it: restore it from a backup, or move it away to start afresh",
            ),
        })
    }
}

/// Why a file did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenError {
    /// The header names another key.
    WrongKey,
    /// Bad header, bad tag (a flipped byte, another project's file) or bad body.
    Altered,
}

fn aad(header: &[u8], project: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + header.len() + project.len() + 1);
    aad.extend_from_slice(AAD_PREFIX);
    aad.extend_from_slice(project.as_bytes());
    aad.push(0);
    aad.extend_from_slice(header);
    aad
}

fn encrypt(key: &Key, project: &str, secrets: &ProjectSecrets) -> anyhow::Result<Vec<u8>> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(VERSION);
    header.extend_from_slice(&key.id());
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let mut body = serde_json::to_vec(secrets)?;
    key.aead()
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(aad(&header, project)),
            &mut body,
        )
        .map_err(|_| anyhow::anyhow!("cannot encrypt the secrets of project '{project}'"))?;
    let mut out = header;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn decrypt_with(key: &Key, project: &str, bytes: &[u8]) -> Result<ProjectSecrets, OpenError> {
    if bytes.len() < HEADER_LEN + NONCE_LEN + aead::AES_256_GCM.tag_len()
        || &bytes[..MAGIC.len()] != MAGIC
        || bytes[MAGIC.len()] != VERSION
    {
        return Err(OpenError::Altered);
    }
    let (header, rest) = bytes.split_at(HEADER_LEN);
    if header[MAGIC.len() + 1..] != key.id() {
        return Err(OpenError::WrongKey);
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce = aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Altered)?;
    let mut buf = sealed.to_vec();
    let plain = key
        .aead()
        .open_in_place(nonce, aead::Aad::from(aad(header, project)), &mut buf)
        .map_err(|_| OpenError::Altered)?;
    serde_json::from_slice(plain).map_err(|_| OpenError::Altered)
}

/// A project file's bytes: a regular file (never through a symlink), bounded.
fn read_file(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(m) if m.file_type().is_symlink() => bail!(
            "cannot read {}: it is a symlink, and berth reads its secrets only from regular files",
            path.display()
        ),
        Ok(_) => {}
    }
    crate::fsread::read_bounded(path, FILE_LIMIT)
}

/// The key file, when there is one: a regular file of 32 bytes, private.
fn read_key(path: &Path) -> anyhow::Result<Option<Key>> {
    let Some(bytes) = read_file(path)? else {
        return Ok(None);
    };
    let mode = fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(error_with_hint(
            format!(
                "the key at {} is readable by others (mode {:04o})",
                path.display(),
                mode & 0o7777
            ),
            format!("make it private: chmod 600 {}", path.display()),
        ));
    }
    Key::from_bytes(&bytes)
        .with_context(|| {
            format!(
                "the key at {} is not a berth secrets key ({} bytes, not {KEY_LEN})",
                path.display(),
                bytes.len()
            )
        })
        .hint("restore it with `secrets import-key FILE --force`")
        .map(Some)
}

fn set_private(dir: &Path) -> anyhow::Result<()> {
    let meta = fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private", dir.display()))?;
    }
    Ok(())
}

// ---- Generators -----------------------------------------------------------

fn random_bytes(n: usize) -> anyhow::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    fill_random(&mut buf)?;
    Ok(buf)
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn alnum(n: usize) -> anyhow::Result<String> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes(n * 2)? {
            // 248 = 4 * 62: rejection keeps the distribution uniform.
            if b < 248 && out.len() < n {
                out.push(char::from(ALNUM[usize::from(b) % ALNUM.len()]));
            }
        }
    }
    Ok(out)
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A SCRAM-SHA-256 verifier of an ASCII password for postgres (what
/// `ALTER ROLE ... PASSWORD` stores), made here so the password itself
/// never reaches the server's statement logs: `SCRAM-SHA-256$4096:SALT$STOREDKEY:SERVERKEY`
/// (RFC 5802, RFC 7677; `SASLprep` leaves printable ASCII as it is). `None`
/// for a password that is not printable ASCII.
pub fn scram_sha256_verifier(password: &str) -> anyhow::Result<Option<String>> {
    use ring::{digest, hmac, pbkdf2};
    const ITERATIONS: u32 = 4096;
    if password.is_empty() || !password.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(None);
    }
    let salt = random_bytes(16)?;
    let mut salted = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        std::num::NonZeroU32::new(ITERATIONS).expect("not zero"),
        &salt,
        password.as_bytes(),
        &mut salted,
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    Ok(Some(format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        base64(&salt),
        base64(stored_key.as_ref()),
        base64(server_key.as_ref())
    )))
}

/// The kinds [`generate`] knows, for help texts.
pub const KINDS: &str = "alnumN, hexN, base64_N or laravel, N from 8 to 256";

/// A random secret of a kind: `alnumN` (letters and digits), `hexN` (N hex
/// digits), `base64_N` (N random bytes, base64) and `laravel` (an `APP_KEY`:
/// `base64:` and 32 random bytes). From the OS's random source.
pub fn generate(kind: &str) -> anyhow::Result<String> {
    let num = |prefix: &str| -> Option<usize> {
        kind.strip_prefix(prefix)?
            .trim_start_matches(['_', ':'])
            .parse::<usize>()
            .ok()
            .filter(|n| (8..=256).contains(n))
    };
    if kind == "laravel" {
        return Ok(format!("base64:{}", base64(&random_bytes(32)?)));
    }
    if let Some(n) = num("alnum") {
        return alnum(n);
    }
    if let Some(n) = num("hex") {
        let mut hex = random_bytes(n.div_ceil(2))?
            .iter()
            .fold(String::new(), |mut s, b| {
                use std::fmt::Write as _;
                let _ = write!(s, "{b:02x}");
                s
            });
        hex.truncate(n);
        return Ok(hex);
    }
    if let Some(n) = num("base64") {
        return Ok(base64(&random_bytes(n)?));
    }
    bail!(
        "unknown secret kind '{}' ({KINDS})",
        crate::cli::excerpt(kind)
    )
}

/// Whether `kind` is one [`generate`] knows.
pub fn is_kind(kind: &str) -> bool {
    kind == "laravel"
        || ["alnum", "hex", "base64"].iter().any(|p| {
            kind.strip_prefix(p)
                .map(|r| r.trim_start_matches(['_', ':']))
                .and_then(|r| r.parse::<usize>().ok())
                .is_some_and(|n| (8..=256).contains(&n))
        })
}

/// Values for every secret name.
pub fn generate_all(kinds: &BTreeMap<String, String>) -> anyhow::Result<BTreeMap<String, String>> {
    kinds
        .iter()
        .map(|(k, kind)| {
            Ok((
                k.clone(),
                generate(kind).with_context(|| format!("secret {k}"))?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(home: &Path) -> Store {
        Store::open_in(&Paths::in_folder(home)).unwrap()
    }

    fn err_of<T: fmt::Debug>(r: anyhow::Result<T>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn kinds() {
        assert_eq!(generate("alnum32").unwrap().len(), 32);
        assert!(
            generate("alnum32")
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
        assert_ne!(generate("alnum32").unwrap(), generate("alnum32").unwrap());
        assert_eq!(generate("hex9").unwrap().len(), 9);
        assert_eq!(generate("base64_32").unwrap().len(), 44);
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert!(generate("laravel").unwrap().starts_with("base64:"));
        assert!(generate("bogus").is_err());
        assert!(is_kind("alnum32") && is_kind("base64_32") && is_kind("laravel"));
        assert!(!is_kind("alnum4") && !is_kind("manual"));
    }

    #[test]
    fn round_trip_keeps_values_kinds_and_times() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        assert!(s.load("shop").unwrap().is_empty());
        assert!(!s.key_path().exists(), "no key before the first write");
        let odd = "P@$$w0rd \"q\" 'x' # y\nz ünï";
        s.update("shop", |p| {
            p.set("DB_PASSWORD", odd.to_owned(), MANUAL);
            p.set("APP_KEY", "k1".to_owned(), "laravel");
            Ok(())
        })
        .unwrap();
        let key_mode = fs::metadata(s.key_path()).unwrap().permissions().mode();
        assert_eq!(key_mode & 0o777, 0o600);
        assert_eq!(fs::read(s.key_path()).unwrap().len(), KEY_LEN);
        let file = s.file("shop").unwrap();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let raw = fs::read(&file).unwrap();
        assert!(!raw.windows(2).any(|w| w == b"k1"), "value in the clear");

        let again = store(home.path()).load("shop").unwrap();
        assert_eq!(again.get("DB_PASSWORD"), Some(odd));
        assert_eq!(again.entry("APP_KEY").unwrap().kind, "laravel");
        assert!(again.entry("APP_KEY").unwrap().rotated.is_none());
        assert_eq!(
            again.names().collect::<Vec<_>>(),
            ["APP_KEY", "DB_PASSWORD"]
        );
        let created = again.entry("APP_KEY").unwrap().created;

        s.update("shop", |p| {
            p.set("APP_KEY", "k2".to_owned(), "laravel");
            assert!(p.remove("DB_PASSWORD"));
            assert!(!p.remove("NONE"));
            Ok(())
        })
        .unwrap();
        let after = s.load("shop").unwrap();
        assert_eq!(after.env(), [("APP_KEY".to_owned(), "k2".to_owned())]);
        let e = after.entry("APP_KEY").unwrap();
        assert_eq!(e.created, created);
        assert!(e.rotated.is_some());
        assert!(!format!("{after:?}").contains("k2"), "Debug shows a value");
        assert_eq!(s.projects().unwrap(), ["shop"]);
    }

    #[test]
    fn pending_values_are_promoted_or_dropped_only_when_they_are_the_one_checked() {
        let mut p = ProjectSecrets::default();
        assert!(!p.set_pending("DB_PASSWORD", "new".into(), "alnum32"));
        p.set("DB_PASSWORD", "old".into(), "alnum32");
        assert!(p.set_pending("DB_PASSWORD", "new".into(), "alnum32"));
        assert_eq!(p.get("DB_PASSWORD"), Some("old"), "current until promoted");
        assert_eq!(p.pending_keys(), ["DB_PASSWORD"]);
        assert!(
            !format!("{p:?}").contains("new\""),
            "Debug shows a pending value"
        );
        assert!(!p.promote("DB_PASSWORD", "other"), "not the pending value");
        assert!(!p.drop_pending("DB_PASSWORD", "other"));
        let mut promoted = p.clone();
        assert!(promoted.promote("DB_PASSWORD", "new"));
        assert_eq!(promoted.get("DB_PASSWORD"), Some("new"));
        assert!(promoted.entry("DB_PASSWORD").unwrap().rotated.is_some());
        assert!(promoted.pending_keys().is_empty());
        assert!(!promoted.promote("DB_PASSWORD", "new"), "once only");
        let mut dropped = p.clone();
        assert!(dropped.drop_pending("DB_PASSWORD", "new"));
        assert_eq!(dropped.get("DB_PASSWORD"), Some("old"));
        assert!(dropped.entry("DB_PASSWORD").unwrap().rotated.is_none());
        assert!(dropped.pending_keys().is_empty());
        // A plain set replaces a pending value too.
        p.set("DB_PASSWORD", "set".into(), MANUAL);
        assert!(p.pending_keys().is_empty());
    }

    /// A check that answers what the test says, and counts its calls.
    struct Answer(Verdict, std::cell::Cell<usize>);

    impl PendingCheck for Answer {
        fn check(&self, _: &str, secrets: &ProjectSecrets, key: &str) -> Verdict {
            assert!(secrets.entry(key).unwrap().pending().is_some());
            self.1.set(self.1.get() + 1);
            self.0.clone()
        }
    }

    #[test]
    fn resolve_promotes_drops_or_keeps_by_the_check_and_leaves_a_rotation_under_way() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        let with_pending = || {
            s.update("shop", |p| {
                p.set("DB_PASSWORD", "old".into(), "alnum32");
                p.set("APP_KEY", "k".into(), "laravel");
                assert!(p.set_pending("DB_PASSWORD", "new".into(), "alnum32"));
                Ok(())
            })
            .unwrap();
        };
        let answer = |v: Verdict| Answer(v, std::cell::Cell::new(0));
        // Written and read back: the pending value survives the file.
        with_pending();
        let back = s.load("shop").unwrap();
        assert_eq!(
            back.entry("DB_PASSWORD")
                .unwrap()
                .pending()
                .unwrap()
                .value(),
            "new"
        );
        assert!(
            !fs::read(s.file("shop").unwrap())
                .unwrap()
                .windows(3)
                .any(|w| w == b"new")
        );

        let a = answer(Verdict::PendingWorks);
        let r = s.resolve("shop", &a).unwrap();
        assert_eq!((r.get("DB_PASSWORD"), a.1.get()), (Some("new"), 1));
        assert!(s.load("shop").unwrap().pending_keys().is_empty());
        // Nothing pending: no check at all.
        let a = answer(Verdict::PendingWorks);
        s.resolve("shop", &a).unwrap();
        assert_eq!(a.1.get(), 0);

        with_pending();
        let r = s.resolve("shop", &answer(Verdict::CurrentWorks)).unwrap();
        assert_eq!(r.get("DB_PASSWORD"), Some("old"));
        assert!(s.load("shop").unwrap().pending_keys().is_empty());

        with_pending();
        let r = s
            .resolve("shop", &answer(Verdict::Unknown("not running".into())))
            .unwrap();
        assert_eq!(
            r.get("DB_PASSWORD"),
            Some("old"),
            "the current value is used"
        );
        assert_eq!(
            s.load("shop").unwrap().pending_keys(),
            ["DB_PASSWORD"],
            "both kept"
        );

        // A rotation under way (its lock held) is not resolved by readers.
        let held = s.try_rotation("shop").unwrap().unwrap();
        assert!(s.try_rotation("shop").unwrap().is_none());
        let a = answer(Verdict::PendingWorks);
        let r = s.resolve("shop", &a).unwrap();
        assert_eq!((r.get("DB_PASSWORD"), a.1.get()), (Some("old"), 0));
        // Its holder resolves, and the keys no database uses are promoted.
        let r = held.resolve(&NoDatabase).unwrap();
        assert_eq!(r.get("DB_PASSWORD"), Some("new"));
        drop(held);
        assert!(s.try_rotation("shop").unwrap().is_some());
        assert_eq!(
            s.projects().unwrap(),
            ["shop"],
            "the lock file is no project"
        );
    }

    #[test]
    fn a_failed_change_or_bad_name_writes_nothing() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        let r = s.update("shop", |p| {
            p.set("A", "v".to_owned(), MANUAL);
            Err::<(), _>(anyhow::anyhow!("no"))
        });
        assert!(r.is_err());
        assert!(!s.file("shop").unwrap().exists());
        let err = err_of(s.update("shop", |p| {
            p.set("1BAD", "v".to_owned(), MANUAL);
            Ok(())
        }));
        assert!(err.contains("invalid key name '1BAD'"), "{err}");
        assert!(!s.file("shop").unwrap().exists());
        let err = err_of(s.load("../etc"));
        assert!(err.contains("invalid project name"), "{err}");
    }

    #[test]
    fn a_flipped_byte_is_detected_and_the_file_kept() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        s.update("shop", |p| {
            p.set("A", "secret-value".to_owned(), MANUAL);
            Ok(())
        })
        .unwrap();
        let file = s.file("shop").unwrap();
        let good = fs::read(&file).unwrap();
        for at in [0, HEADER_LEN, HEADER_LEN + NONCE_LEN + 3, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            fs::write(&file, &bad).unwrap();
            let err = err_of(s.load("shop"));
            assert!(
                err.contains("was altered or is not a berth secrets file"),
                "byte {at}: {err}"
            );
            let err = err_of(s.update("shop", |p| {
                p.set("B", "x".to_owned(), MANUAL);
                Ok(())
            }));
            assert!(err.contains("was altered"), "{err}");
            assert_eq!(fs::read(&file).unwrap(), bad, "nothing overwritten");
        }
        fs::write(&file, b"").unwrap();
        assert!(err_of(s.load("shop")).contains("was altered"));
    }

    #[test]
    fn a_file_renamed_to_another_project_does_not_open() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        s.update("shop", |p| {
            p.set("A", "v".to_owned(), MANUAL);
            Ok(())
        })
        .unwrap();
        fs::copy(s.file("shop").unwrap(), s.file("blog").unwrap()).unwrap();
        let err = err_of(s.load("blog"));
        assert!(err.contains("blog.enc was altered"), "{err}");
        assert_eq!(s.load("shop").unwrap().get("A"), Some("v"));
    }

    #[test]
    fn a_wrong_key_is_named_and_never_replaced() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        s.update("shop", |p| {
            p.set("A", "v".to_owned(), MANUAL);
            Ok(())
        })
        .unwrap();
        let other = Key::random().unwrap();
        fs::write(s.key_path(), other.as_bytes()).unwrap();
        let s2 = store(home.path());
        let err = err_of(s2.load("shop"));
        assert!(err.contains("does not open"), "{err}");
        assert!(err.contains("secret.key"), "{err}");
        assert_eq!(fs::read(s2.key_path()).unwrap(), other.as_bytes());
        assert_eq!(s2.files_not_opened_by(&other).unwrap().len(), 1);
        assert!(s.files_not_opened_by(s.key().unwrap()).unwrap().is_empty());
    }

    #[test]
    fn a_missing_key_with_existing_files_is_an_error_and_no_key_is_made() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        s.update("shop", |p| {
            p.set("A", "v".to_owned(), MANUAL);
            Ok(())
        })
        .unwrap();
        fs::remove_file(s.key_path()).unwrap();
        let err = err_of(Store::open_in(&Paths::in_folder(home.path())));
        assert!(err.contains("secret.key is missing"), "{err}");
        assert!(!s.key_path().exists());
        // A store opened before the key went away does not make one either.
        let stale = Store::without_key(&Paths::in_folder(home.path()));
        let err = err_of(stale.update("blog", |p| {
            p.set("A", "v".to_owned(), MANUAL);
            Ok(())
        }));
        assert!(err.contains("is missing"), "{err}");
        assert!(!s.key_path().exists());
    }

    #[test]
    fn a_key_made_by_another_process_after_open_is_used() {
        let home = tempfile::tempdir().unwrap();
        let early = store(home.path());
        let first = store(home.path());
        first
            .update("shop", |p| {
                p.set("A", "a".to_owned(), MANUAL);
                Ok(())
            })
            .unwrap();
        // `early` opened before any key existed: it reads the new one.
        early
            .update("shop", |p| {
                p.set("B", "b".to_owned(), MANUAL);
                Ok(())
            })
            .unwrap();
        let both = store(home.path()).load("shop").unwrap();
        assert_eq!(both.names().collect::<Vec<_>>(), ["A", "B"]);
    }

    #[test]
    fn each_write_has_a_fresh_nonce() {
        let home = tempfile::tempdir().unwrap();
        let s = store(home.path());
        let write = |s: &Store, v: &str| {
            s.update("shop", |p| {
                p.set("A", v.to_owned(), MANUAL);
                Ok(())
            })
            .unwrap();
            fs::read(s.file("shop").unwrap()).unwrap()
        };
        let a = write(&s, "one");
        let b = write(&s, "two");
        let c = write(&s, "one");
        let nonce = |f: &[u8]| f[HEADER_LEN..HEADER_LEN + NONCE_LEN].to_vec();
        assert_ne!(nonce(&a), nonce(&b));
        assert_ne!(nonce(&a), nonce(&c));
        assert_ne!(a, c);
    }

    #[test]
    fn keys_export_and_parse() {
        let k = Key::random().unwrap();
        let text = k.export_text();
        assert!(text.starts_with(EXPORT_PREFIX) && text.ends_with('\n'));
        assert_eq!(
            Key::parse(text.as_bytes()).unwrap().as_bytes(),
            k.as_bytes()
        );
        assert_eq!(Key::parse(k.as_bytes()).unwrap().as_bytes(), k.as_bytes());
        assert!(Key::parse(b"berth-secret-key:abc").is_none());
        assert!(!format!("{k:?}").contains(&text[EXPORT_PREFIX.len()..EXPORT_PREFIX.len() + 8]));
    }

    #[test]
    fn a_wide_key_file_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let p = home.path().join("secret.key");
        fs::write(&p, [7u8; KEY_LEN]).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = err_of(Store::open_in(&Paths::in_folder(home.path())));
        assert!(err.contains("readable by others"), "{err}");
    }

    #[test]
    fn scram_verifiers_have_postgres_shape_and_a_fresh_salt() {
        let a = scram_sha256_verifier("alnumPassword123").unwrap().unwrap();
        let b = scram_sha256_verifier("alnumPassword123").unwrap().unwrap();
        assert!(a.starts_with("SCRAM-SHA-256$4096:"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(!a.contains("alnumPassword123"));
        let (_, keys) = a.split_once('$').unwrap();
        let (_, keys) = keys.split_once('$').unwrap();
        let (stored, server) = keys.split_once(':').unwrap();
        assert_eq!((stored.len(), server.len()), (44, 44));
        assert!(scram_sha256_verifier("ünï").unwrap().is_none());
    }

    #[test]
    fn key_names_are_env_names() {
        for ok in ["A", "_x", "DB_PASSWORD", "a1"] {
            validate_key(ok).unwrap();
        }
        for bad in ["", "1A", "A-B", "A B", "A=B", "É"] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }
}
