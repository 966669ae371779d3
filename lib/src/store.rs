//! Shared state files: read without a lock (writes are atomic renames), and
//! read-modify-write under an advisory lock, replaced atomically (temp file in
//! the same folder, fsync, rename, fsync of the folder). A file that does not
//! parse is an error naming it; it is never overwritten.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

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

    /// Read the file; `None` when it does not exist yet.
    pub fn read<T: DeserializeOwned>(&self) -> anyhow::Result<Option<T>> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        };
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is corrupt", self.path.display()))
            .hint("berth never overwrites a corrupt file: repair it, or move it away to start afresh")
            .map(Some)
    }

    /// Take the lock, read (or start from `T::default()`), let `change` modify
    /// the value, write it back atomically when `change` says so, release.
    ///
    /// `change` returns `(write, result)`; with `write == false` nothing is written.
    pub fn update<T, R>(&self, change: impl FnOnce(&mut T) -> anyhow::Result<(bool, R)>) -> anyhow::Result<R>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let _lock = self.lock()?;
        let mut value = self.read::<T>()?.unwrap_or_default();
        let (write, result) = change(&mut value)?;
        if write {
            self.write_locked(&value)?;
        }
        Ok(result)
    }

    /// Take the advisory lock (released when the returned file is dropped).
    fn lock(&self) -> anyhow::Result<File> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock_path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open lock file {}", lock_path.display()))?;
        file.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
        Ok(file)
    }

    fn temp_prefix(&self) -> String {
        format!(".{}.tmp-", self.path.file_name().unwrap_or_default().to_string_lossy())
    }

    /// Remove temp files left by writers that were killed mid-write. Only the
    /// lock holder writes temp files, so under the lock any that exist are dead.
    fn sweep_temp_files(&self, dir: &Path) {
        let prefix = self.temp_prefix();
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Replace the file atomically. The caller holds the lock.
    fn write_locked<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let ctx = || format!("cannot write {}", self.path.display());
        self.sweep_temp_files(dir);
        let tmp = tempfile::Builder::new()
            .prefix(&self.temp_prefix())
            .tempfile_in(dir)
            .with_context(ctx)?;
        {
            let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
            serde_json::to_writer(&mut w, value).with_context(ctx)?;
            w.write_all(b"\n").with_context(ctx)?;
            w.flush().with_context(ctx)?;
        }
        tmp.as_file().sync_all().with_context(ctx)?;
        tmp.persist(&self.path).map_err(|e| e.error).with_context(ctx)?;
        File::open(dir).and_then(|d| d.sync_all()).with_context(ctx)?;
        Ok(())
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
        let err = f.update::<serde_json::Value, ()>(|_| Ok((true, ()))).unwrap_err();
        assert!(format!("{err:#}").contains("state.json is corrupt"), "{err:#}");
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
