//! Bounded reading of files berth did not write (compose files, `.env`,
//! `.berth/config.yaml`, a project's manifests): only regular files, opened
//! without blocking (a FIFO never hangs), checked by `fstat` on the opened
//! descriptor, and read up to a size limit (a link to `/dev/zero` never fills
//! memory). Whether the file lies outside a given folder (after links) is
//! reported, so error messages never quote a file outside the project.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// The limit for a project's text files (compose files, `.env`, config).
pub const TEXT_LIMIT: u64 = 4 << 20;

/// A file read by [`read_text`].
#[derive(Debug, Clone)]
pub struct Text {
    pub text: String,
    /// The file, after links, is outside the folder it was read for: never quote it.
    pub outside: bool,
}

/// Read `path` when it is a regular file of at most `limit` bytes. `Ok(None)` when
/// it does not exist. A FIFO, a device, a folder or a larger file is an error
/// naming the path; the open never blocks.
pub fn read_bounded(path: &Path, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(
            (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY)
                .bits()
                .cast_signed(),
        )
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    read_open(path, &file, limit).map(Some)
}

fn read_open(path: &Path, file: &File, limit: u64) -> anyhow::Result<Vec<u8>> {
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let what = if ft.is_dir() {
            "a folder"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        bail!(
            "cannot read {}: it is {what}, not a regular file",
            path.display()
        );
    }
    if meta.len() > limit {
        bail!(
            "cannot read {}: {} bytes, more than the limit of {limit}",
            path.display(),
            meta.len()
        );
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow after fstat: never read past the limit.
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if buf.len() as u64 > limit {
        bail!(
            "cannot read {}: more than the limit of {limit} bytes",
            path.display()
        );
    }
    Ok(buf)
}

/// Read a UTF-8 text file with [`read_bounded`], noting whether it lies
/// (after links) outside `root`. `Ok(None)` when it does not exist.
pub fn read_text(path: &Path, root: Option<&Path>, limit: u64) -> anyhow::Result<Option<Text>> {
    let Some(bytes) = read_bounded(path, limit)? else {
        return Ok(None);
    };
    let outside = root.is_some_and(|r| is_outside(path, r));
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("byte {} is not UTF-8", e.utf8_error().valid_up_to()))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(Text { text, outside }))
}

/// Whether `path`, links resolved, lies outside `root` (also when either cannot be resolved).
pub fn is_outside(path: &Path, root: &Path) -> bool {
    let canon = |p: &Path| -> Option<PathBuf> { p.canonicalize().ok() };
    match (canon(path), canon(root)) {
        (Some(p), Some(r)) => !p.starts_with(r),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn reads_regular_files_and_missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, "x=1\n").unwrap();
        assert_eq!(read_bounded(&p, 10).unwrap().unwrap(), b"x=1\n");
        assert!(
            read_bounded(&dir.path().join("none"), 10)
                .unwrap()
                .is_none()
        );
        let err = format!("{:#}", read_bounded(&p, 2).unwrap_err());
        assert!(err.contains("more than the limit of 2"), "{err}");
        let err = format!("{:#}", read_bounded(dir.path(), 2).unwrap_err());
        assert!(err.contains("a folder"), "{err}");
    }

    #[test]
    fn devices_and_fifos_fail_fast() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = format!("{:#}", read_bounded(&zero, TEXT_LIMIT).unwrap_err());
        assert!(err.contains("a device"), "{err}");
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        let t = Instant::now();
        let err = format!("{:#}", read_bounded(&fifo, TEXT_LIMIT).unwrap_err());
        assert!(err.contains("a FIFO"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn links_out_of_the_root_are_marked() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("secret"), "s=1\n").unwrap();
        std::fs::write(dir.path().join("own"), "o=1\n").unwrap();
        std::os::unix::fs::symlink(other.path().join("secret"), dir.path().join(".env")).unwrap();
        let t = read_text(&dir.path().join(".env"), Some(dir.path()), 100)
            .unwrap()
            .unwrap();
        assert!(t.outside);
        let t = read_text(&dir.path().join("own"), Some(dir.path()), 100)
            .unwrap()
            .unwrap();
        assert!(!t.outside);
    }
}
