//! Replace a text file atomically: a temp file in the same folder, fsync,
//! rename over the old one, fsync the folder. Readers see the old bytes or the
//! new ones, never half a file.
//!
//! The new file is always the writer's own: it keeps the old file's mode only
//! where that is narrower than berth's mode (never wider), its group only when
//! the old file was the writer's too, and never anyone else's ownership. A
//! symlink at the path is replaced by the new file, unless the caller says the
//! user named that path ([`Options::follow_symlinks`]): then the link's target
//! is replaced, in the target's folder, and the link stays.

use std::fs::{self, File, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

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
#[allow(clippy::struct_excessive_bools)]
pub struct Options {
    /// The mode of a new file (and of every file with [`Options::exact_mode`]);
    /// also the widest mode a replaced file keeps.
    pub mode: u32,
    /// An existing file's narrower mode (and its group, when it is the
    /// writer's file) pass to the new file.
    pub keep_existing: bool,
    /// fsync the file before the rename and the folder after it.
    pub durable: bool,
    /// Replace a file that exists (else fail with `AlreadyExists`).
    pub replace: bool,
    /// The user named this path: a symlink there is written through (its
    /// target is replaced). Otherwise a symlink is replaced, never followed.
    pub follow_symlinks: bool,
}

impl Options {
    /// Durable replace, keeping an existing file's narrower mode.
    pub const fn new(mode: u32) -> Self {
        Self {
            mode,
            keep_existing: true,
            durable: true,
            replace: true,
            follow_symlinks: false,
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

    /// The path comes from the user (`-o FILE`): a symlink there is written
    /// through to its target, which is replaced; the link stays.
    #[must_use]
    pub const fn follow_symlinks(mut self) -> Self {
        self.follow_symlinks = true;
        self
    }
}

/// Write `bytes` to `path` atomically. A new file gets `mode`; an existing one
/// keeps its mode where it is narrower. A symlink at `path` is replaced, not
/// followed. The folder must exist.
///
/// Errors keep the `io::Error` in their chain, so callers can tell a
/// permission problem (and hint at root) from others.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<Replaced> {
    write_with(path, bytes, Options::new(mode))
}

/// Most symlinks followed before giving up (Linux's limit).
const MAX_LINKS: usize = 40;

/// Where a write to `path` lands: the path itself, or with `follow` the end of
/// its chain of symlinks (which may not exist yet).
fn destination(path: &Path, follow: bool) -> anyhow::Result<PathBuf> {
    let mut at = path.to_path_buf();
    if !follow {
        return Ok(at);
    }
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&at)
                    .with_context(|| format!("cannot read the symlink {}", at.display()))?;
                let dir = at.parent().unwrap_or(Path::new("."));
                at = dir.join(target);
            }
            Ok(_) => return Ok(at),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(at),
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", at.display())),
        }
    }
    bail!(
        "cannot write {}: more than {MAX_LINKS} symlinks in a row",
        path.display()
    )
}

/// [`write`] with [`Options`]. The temp file is created private (0600) and
/// gets its final mode before it is renamed into place.
pub fn write_with(path: &Path, bytes: &[u8], opts: Options) -> anyhow::Result<Replaced> {
    let ctx = || format!("cannot write {}", path.display());
    let dest = destination(path, opts.follow_symlinks)?;
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // What is there now, the link itself when it is not followed.
    let old = match fs::symlink_metadata(&dest) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(ctx),
    };
    if let Some(m) = &old
        && !m.file_type().is_file()
        && !m.file_type().is_symlink()
    {
        bail!(
            "cannot write {}: {} is not a regular file",
            path.display(),
            dest.display()
        );
    }
    // Only a regular file passes on its mode; a replaced link's 0777 does not.
    let old = old.filter(|m| m.file_type().is_file() && opts.keep_existing && opts.replace);
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&dest))
        .tempfile_in(&dir)
        .with_context(ctx)?;
    tmp.write_all(bytes).with_context(ctx)?;
    let perm_mode = old.as_ref().map_or(opts.mode, |m| m.mode() & opts.mode) & 0o777;
    tmp.as_file()
        .set_permissions(Permissions::from_mode(perm_mode))
        .with_context(ctx)?;
    if let Some(m) = &old {
        // The old file's group stays when the file was ours; another owner's
        // file becomes ours (no chown ever gives a file away).
        let me = tmp.as_file().metadata().with_context(ctx)?.uid();
        if m.uid() == me && m.gid() != tmp.as_file().metadata().with_context(ctx)?.gid() {
            let _ = std::os::unix::fs::fchown(tmp.as_file(), None, Some(m.gid()));
        }
    }
    if opts.durable {
        tmp.as_file().sync_all().with_context(ctx)?;
    }
    if opts.replace {
        match tmp.persist(&dest) {
            Ok(_) => {}
            Err(e) if e.error.raw_os_error() == Some(16) => {
                // EBUSY: the target is a mount point; rename cannot replace it.
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&dest)
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
        tmp.persist_noclobber(&dest)
            .map_err(|e| e.error)
            .with_context(ctx)?;
    }
    if opts.durable {
        File::open(&dir)
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

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn replaces_keeping_a_narrower_mode_never_a_wider_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts");
        assert_eq!(write(&p, b"a\n", 0o644).unwrap(), Replaced::Atomically);
        assert_eq!(mode(&p), 0o644);
        fs::set_permissions(&p, Permissions::from_mode(0o640)).unwrap();
        write(&p, b"b\n", 0o644).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"b\n");
        assert_eq!(mode(&p), 0o640, "a narrower mode stays");
        fs::set_permissions(&p, Permissions::from_mode(0o4777)).unwrap();
        write(&p, b"c\n", 0o644).unwrap();
        assert_eq!(mode(&p), 0o644, "never wider than berth's mode, no setuid");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn a_symlink_is_replaced_not_followed_unless_the_user_named_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"theirs").unwrap();
        fs::set_permissions(&target, Permissions::from_mode(0o666)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        // Berth's own path: the link is replaced by berth's file; the target is untouched.
        write(&link, b"ours", 0o600).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
        assert_eq!(fs::read(&link).unwrap(), b"ours");
        assert_eq!(
            mode(&link),
            0o600,
            "not the target's 0666 nor the link's 0777"
        );
        assert_eq!(fs::read(&target).unwrap(), b"theirs");
        assert_eq!(mode(&target), 0o666);

        // A path the user named: the target is replaced in its folder, the link stays.
        fs::remove_file(&link).unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let rel_link = sub.join("link");
        std::os::unix::fs::symlink("../target", &rel_link).unwrap();
        let user = Options::new(0o644).follow_symlinks();
        write_with(&rel_link, b"new", user).unwrap();
        assert!(
            fs::symlink_metadata(&rel_link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(mode(&target), 0o644, "0666 is not kept: never wider");
        assert_eq!(
            fs::read_dir(&sub).unwrap().count(),
            1,
            "no temp file beside the link"
        );

        // A dangling link the user named: its target is created.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("made", &dangling).unwrap();
        write_with(&dangling, b"x", user).unwrap();
        assert_eq!(fs::read(dir.path().join("made")).unwrap(), b"x");
        assert_eq!(mode(&dir.path().join("made")), 0o644);

        // A loop ends with an error naming the path.
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let err = format!("{:#}", write_with(&a, b"x", user).unwrap_err());
        assert!(
            err.contains("symlinks in a row") && err.contains("/a"),
            "{err}"
        );
    }

    #[test]
    fn another_owners_file_becomes_ours_never_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Caddyfile");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, Permissions::from_mode(0o666)).unwrap();
        let me = fs::metadata(&p).unwrap().uid();
        // Giving the file to nobody needs root; as another user the file is
        // already someone's own, and the mode rule is what is checked.
        let given = std::os::unix::fs::chown(&p, Some(65_534), Some(65_534)).is_ok();
        assert_eq!(given, me == 0, "only root can give a file away");
        write(&p, b"new", 0o644).unwrap();
        let m = fs::metadata(&p).unwrap();
        assert_eq!(m.uid(), me, "the new file is the writer's");
        assert_ne!(m.gid(), 65_534, "nobody's group is not kept either");
        assert_eq!(m.mode() & 0o777, 0o644);
    }

    #[test]
    fn what_is_not_a_regular_file_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("folder");
        fs::create_dir(&sub).unwrap();
        let err = format!("{:#}", write(&sub, b"x", 0o644).unwrap_err());
        assert!(err.contains("is not a regular file"), "{err}");
        assert!(sub.is_dir());
        let link = dir.path().join("to-null");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        let user = Options::new(0o644).follow_symlinks();
        let err = format!("{:#}", write_with(&link, b"x", user).unwrap_err());
        assert!(err.contains("/dev/null is not a regular file"), "{err}");
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
