//! File helpers: atomic writes with a fixed mode, private folders, tool lookup on PATH.

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::Path;

use anyhow::Context as _;

/// Mode of private keys.
pub const KEY_MODE: u32 = 0o600;
/// Mode of certificates.
pub const CERT_MODE: u32 = 0o644;

/// Whether a write must reach the disk before it replaces the old file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// fsync before the rename: the CA, trust-store files.
    Durable,
    /// Rename only: readers never see a half-written file, but a crash may
    /// lose the new content. For issued certificates, which `issue`, `renew`
    /// and `status` check (parse, key match, chain) and reissue when broken;
    /// three fsyncs per certificate would cost most of the time of a batch.
    Regenerable,
}

/// Write `bytes` to `path` atomically with exactly `mode` (a key is never
/// readable by others), fsynced unless `Regenerable`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, sync: Sync) -> anyhow::Result<()> {
    let opts = berth::atomic::Options::new(mode).exact_mode();
    let opts = match sync {
        Sync::Durable => opts,
        Sync::Regenerable => opts.not_durable(),
    };
    berth::atomic::write_with(path, bytes, opts)?;
    Ok(())
}

/// Flush a folder's entries (after renames into it).
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Create `dir` (and parents) with mode `mode` for the folders it creates.
pub fn create_dir(dir: &Path, mode: u32) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Read a file that must exist, naming it in the error.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
