//! Shared state files: read without a lock (writes are atomic renames), and
//! read-modify-write under an advisory lock, replaced atomically (temp file in
//! the same folder, fsync, rename, fsync of the folder). A file that does not
//! parse is an error naming it; it is never overwritten.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cli::ResultExt as _;

/// One JSON state file and its lock file beside it.
#[derive(Debug, Clone)]
pub struct JsonFile {
    path: PathBuf,
}

impl JsonFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// The file's bytes; `None` when it does not exist yet.
    pub fn read_bytes(&self) -> anyhow::Result<Option<Vec<u8>>> {
        match fs::read(&self.path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        }
    }

    /// Parse the file's bytes, or name the file as corrupt.
    pub fn parse<'a, T: Deserialize<'a>>(&self, bytes: &'a [u8]) -> anyhow::Result<T> {
        crate::io::utf8(&self.path.display(), bytes)
            .and_then(|text| Ok(serde_json::from_str(text)?))
            .with_context(|| format!("{} is corrupt", self.path.display()))
            .hint(
                "berth never overwrites a corrupt file: repair it, or move it away to start afresh",
            )
    }

    /// Read the file; `None` when it does not exist yet.
    pub fn read<T: DeserializeOwned>(&self) -> anyhow::Result<Option<T>> {
        match self.read_bytes()? {
            Some(bytes) => self.parse(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Take the lock, read (or start from `T::default()`), let `change` modify
    /// the value, write it back atomically when `change` says so, release.
    ///
    /// `change` returns `(write, result)`; with `write == false` nothing is written.
    pub fn update<T, R>(
        &self,
        change: impl FnOnce(&mut T) -> anyhow::Result<(bool, R)>,
    ) -> anyhow::Result<R>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        self.update_bytes(|bytes| {
            let mut value: T = match bytes {
                Some(b) => self.parse(b)?,
                None => T::default(),
            };
            let (write, result) = change(&mut value)?;
            if !write {
                return Ok((None, result));
            }
            let mut out = Vec::new();
            serde_json::to_writer(&mut out, &value)?;
            out.push(b'\n');
            Ok((Some(out), result))
        })
    }

    /// The same as [`JsonFile::update`] on raw bytes: `change` gets the current
    /// bytes (`None` when there is no file) and returns the new bytes, if any.
    pub fn update_bytes<R>(
        &self,
        change: impl FnOnce(Option<&[u8]>) -> anyhow::Result<(Option<Vec<u8>>, R)>,
    ) -> anyhow::Result<R> {
        let _lock = self.lock()?;
        let bytes = self.read_bytes()?;
        let (new, result) = change(bytes.as_deref())?;
        if let Some(new) = new {
            self.replace(&new)?;
        }
        Ok(result)
    }

    /// Replace the file atomically (mode 0600), sweeping temp files that
    /// killed writers left. Call it holding the lock.
    pub(crate) fn replace(&self, bytes: &[u8]) -> anyhow::Result<()> {
        sweep_temp_files(&self.path);
        crate::atomic::write(&self.path, bytes, 0o600)?;
        Ok(())
    }

    /// Take the advisory lock (released when the returned file is dropped).
    pub(crate) fn lock(&self) -> anyhow::Result<File> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock_path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open lock file {}", lock_path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        Ok(file)
    }
}

/// Remove the temp files that writers killed mid-write left beside `path`.
/// Only the lock holder writes temp files, so under the lock any that exist
/// are dead.
pub(crate) fn sweep_temp_files(path: &Path) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let prefix = crate::atomic::temp_prefix(path);
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_file_is_named_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let f = JsonFile::new(dir.path().join("state.json"));
        fs::write(f.path(), b"{\"a\": [1,").unwrap();
        let err = f
            .update::<serde_json::Value, ()>(|_| Ok((true, ())))
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("state.json is corrupt"),
            "{err:#}"
        );
        assert_eq!(fs::read(f.path()).unwrap(), b"{\"a\": [1,");
    }

    #[test]
    fn update_writes_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let f = JsonFile::new(dir.path().join("s.json"));
        f.update::<Vec<u32>, ()>(|v| {
            v.push(1);
            Ok((false, ()))
        })
        .unwrap();
        assert!(!f.path().exists());
        f.update::<Vec<u32>, ()>(|v| {
            v.push(7);
            Ok((true, ()))
        })
        .unwrap();
        assert_eq!(f.read::<Vec<u32>>().unwrap(), Some(vec![7]));
    }
}
