//! Replace a text file atomically: a temp file in the same folder with the old
//! file's mode and owner, fsync, rename over the old one, fsync the folder.
//! Readers see the old bytes or the new ones, never half a file.

use std::fs::{self, File, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;

/// How a file was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// Renamed over the old file (or created).
    Atomically,
    /// Rewritten in place because the path is a mount point (Docker bind-mounts
    /// `/etc/hosts`), where a rename fails with "resource busy".
    InPlace,
}

/// How [`write_with`] writes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The mode of a new file (and of every file with [`Options::exact_mode`]).
    pub mode: u32,
    /// An existing file's mode and owner pass to the new file.
    pub keep_existing: bool,
    /// fsync the file before the rename and the folder after it.
    pub durable: bool,
    /// Replace a file that exists (else fail with `AlreadyExists`).
    pub replace: bool,
}

impl Options {
    /// Durable replace, keeping an existing file's mode and owner.
    pub const fn new(mode: u32) -> Self {
        Self {
            mode,
            keep_existing: true,
            durable: true,
            replace: true,
        }
    }

    /// Always `mode`, whatever the file it replaces had (keys stay private).
    #[must_use]
    pub const fn exact_mode(mut self) -> Self {
        self.keep_existing = false;
        self
    }

    /// No fsync: readers still never see half a file, but a crash may lose
    /// the new content. For files that are checked and regenerated anyway.
    #[must_use]
    pub const fn not_durable(mut self) -> Self {
        self.durable = false;
        self
    }

    /// Create the file only if it does not exist, never over one that
    /// appeared meanwhile.
    #[must_use]
    pub const fn create_new(mut self) -> Self {
        self.replace = false;
        self
    }
}

/// Write `bytes` to `path` atomically. A new file gets `mode`; an existing one
/// keeps its mode and (when allowed) its owner. The folder must exist.
///
/// Errors keep the `io::Error` in their chain, so callers can tell a
/// permission problem (and hint at root) from others.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<Replaced> {
    write_with(path, bytes, Options::new(mode))
}

/// [`write`] with [`Options`]. The temp file is created private (0600) and
/// gets its final mode before it is renamed into place.
pub fn write_with(path: &Path, bytes: &[u8], opts: Options) -> anyhow::Result<Replaced> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let ctx = || format!("cannot write {}", path.display());
    let old = if opts.keep_existing && opts.replace {
        match fs::metadata(path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(ctx),
        }
    } else {
        None
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .tempfile_in(dir)
        .with_context(ctx)?;
    tmp.write_all(bytes).with_context(ctx)?;
    let perm_mode = old.as_ref().map_or(opts.mode, |m| m.mode() & 0o7777);
    tmp.as_file()
        .set_permissions(Permissions::from_mode(perm_mode))
        .with_context(ctx)?;
    if let Some(m) = &old {
        // Only root may give a file away; anyone else keeps their own files anyway.
        let _ = std::os::unix::fs::chown(tmp.path(), Some(m.uid()), Some(m.gid()));
    }
    if opts.durable {
        tmp.as_file().sync_all().with_context(ctx)?;
    }
    if opts.replace {
        match tmp.persist(path) {
            Ok(_) => {}
            Err(e) if e.error.raw_os_error() == Some(16) => {
                // EBUSY: the target is a mount point; rename cannot replace it.
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .with_context(ctx)?;
                f.write_all(bytes).with_context(ctx)?;
                if opts.durable {
                    f.sync_all().with_context(ctx)?;
                }
                return Ok(Replaced::InPlace);
            }
            Err(e) => return Err(e.error).with_context(ctx),
        }
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| e.error)
            .with_context(ctx)?;
    }
    if opts.durable {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(ctx)?;
    }
    Ok(Replaced::Atomically)
}

/// The name prefix of the temp files that replace `path` (`.NAME.tmp-`).
pub fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.tmp-",
        path.file_name().unwrap_or_default().to_string_lossy()
    )
}

/// Whether an error was caused by a permission problem (EACCES, EPERM, read-only file system).
pub fn is_permission_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>().is_some_and(|io| {
            io.kind() == io::ErrorKind::PermissionDenied
                || matches!(io.raw_os_error(), Some(1 | 13 | 30))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_keeping_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts");
        assert_eq!(write(&p, b"a\n", 0o600).unwrap(), Replaced::Atomically);
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        fs::set_permissions(&p, Permissions::from_mode(0o644)).unwrap();
        write(&p, b"b\n", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"b\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn exact_mode_and_create_new() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key.pem");
        write(&p, b"old", 0o644).unwrap();
        let private = Options::new(0o600).exact_mode().not_durable();
        write_with(&p, b"new", private).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let err = write_with(&p, b"other", Options::new(0o644).create_new()).unwrap_err();
        assert!(
            err.chain().any(|e| e
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::AlreadyExists)),
            "{err:#}"
        );
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let fresh = dir.path().join("fresh");
        write_with(&fresh, b"x", Options::new(0o640).create_new()).unwrap();
        assert_eq!(fs::metadata(&fresh).unwrap().mode() & 0o777, 0o640);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp files left"
        );
    }

    #[test]
    fn missing_folder_is_an_error_naming_the_file() {
        let err = write(Path::new("/nonexistent-berth/x/hosts"), b"", 0o644).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot write /nonexistent-berth/x/hosts"),
            "{err:#}"
        );
    }
}
