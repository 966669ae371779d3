//! Backup files on disk: names, streaming writes (compress, hash, temp file,
//! fsync, rename), metadata files, listing, verification and pruning.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use berth::cli::ResultExt as _;
use berth::model::{Backup, Compression};
use sha2::{Digest as _, Sha256};

/// The label of the safety backup taken before `restore`.
pub const RESTORE_LABEL: &str = "pre-restore";
/// The label of the safety backup taken before `reset`.
pub const RESET_LABEL: &str = "pre-reset";

/// Whether a backup is one of the safety backups dbdump takes itself.
pub fn is_safety(b: &Backup) -> bool {
    matches!(b.name.as_deref(), Some(RESTORE_LABEL | RESET_LABEL))
}

/// Check a backup label: letters, digits, `-`, `_`, `.`; no path separators,
/// no `..`, no leading dot; at most 64 characters.
pub fn validate_label(label: &str) -> anyhow::Result<()> {
    let ok_chars = label
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if label.is_empty()
        || label.len() > 64
        || !ok_chars
        || label.starts_with('.')
        || label.contains("..")
    {
        return Err(berth::cli::error_with_hint(
            format!("invalid backup name '{label}'"),
            "use 1 to 64 letters, digits, '-', '_' or '.', without path separators, '..' or a leading dot",
        ));
    }
    Ok(())
}

/// The file name of a backup taken at `at`: `20261121T222105Z[-label].sql[.gz|.zst]`.
pub fn file_name(at: jiff::Timestamp, label: Option<&str>, compression: Compression) -> String {
    let ts = at.strftime("%Y%m%dT%H%M%SZ");
    match label {
        Some(l) => format!("{ts}-{l}.sql{}", compression.extension()),
        None => format!("{ts}.sql{}", compression.extension()),
    }
}

/// The metadata file beside a backup file.
pub fn meta_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// A writer that hashes and counts what passes through.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    count: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    fn new(w: W, c: Compression) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Encoder::None(w),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::new(6),
            )),
            Compression::Zstd => {
                let mut e = zstd::Encoder::new(w, 3)?;
                e.include_checksum(true)?;
                Encoder::Zstd(e)
            }
        })
    }
    fn get_ref(&self) -> &W {
        match self {
            Encoder::None(w) => w,
            Encoder::Gzip(e) => e.get_ref(),
            Encoder::Zstd(e) => e.get_ref(),
        }
    }
    fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

/// Keeps the last bytes of a stream, to check how a dump ends.
#[derive(Default)]
pub struct Tail(Vec<u8>);

impl Tail {
    const KEEP: usize = 512;
    pub fn push(&mut self, b: &[u8]) {
        if b.len() >= Self::KEEP {
            self.0.clear();
            self.0.extend_from_slice(&b[b.len() - Self::KEEP..]);
        } else {
            self.0.extend_from_slice(b);
            if self.0.len() > 2 * Self::KEEP {
                self.0.drain(..self.0.len() - Self::KEEP);
            }
        }
    }
    /// Whether the stream ends with a line that starts with `marker` (and
    /// only blank lines, bare `--` comment lines, or pg_dump's closing
    /// `\unrestrict KEY` line after it).
    pub fn ends_with_marker(&self, marker: &str) -> bool {
        let text = String::from_utf8_lossy(&self.0);
        text.lines()
            .rev()
            .find(|l| !matches!(l.trim(), "" | "--") && !l.starts_with("\\unrestrict "))
            .is_some_and(|l| l.starts_with(marker))
    }
}

/// What a backup write needs to know besides the bytes.
pub struct NewBackup<'a> {
    pub dir: &'a Path,
    pub label: Option<&'a str>,
    pub compression: Compression,
    pub project: Option<String>,
    pub engine: String,
    pub server_version: String,
    pub database: String,
    /// The line a complete dump ends with.
    pub trailer: &'a str,
}

/// A backup being written: a hidden temp file in the backup folder.
pub struct Writer {
    temp: tempfile::NamedTempFile,
    final_path: PathBuf,
    enc: Encoder<Hashing<BufWriter<File>>>,
    tail: Tail,
    pub raw_bytes: u64,
    created_at: jiff::Timestamp,
    /// Flushes written data to disk in the background while the dump goes
    /// on, so the final fsync before the rename is short.
    syncer: Option<(std::sync::mpsc::SyncSender<()>, std::thread::JoinHandle<()>)>,
    synced_at: u64,
}

/// Bytes written between two background flushes.
const SYNC_EVERY: u64 = 32 << 20;

impl Writer {
    /// Create the folder and the temp file; pick a name no backup has yet.
    pub fn create(b: &NewBackup<'_>) -> anyhow::Result<Self> {
        fs::create_dir_all(b.dir)
            .with_context(|| format!("cannot create backup folder {}", b.dir.display()))?;
        let (created_at, final_path) = loop {
            let now = jiff::Timestamp::now();
            let path = b.dir.join(file_name(now, b.label, b.compression));
            if !path.exists() && !meta_path(&path).exists() {
                break (now, path);
            }
            // One backup per second and label: wait for the next second.
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        sweep_dead_temp_files(b.dir);
        let temp = tempfile::Builder::new()
            .prefix(&berth::atomic::temp_prefix(&final_path))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(b.dir)
            .with_context(|| format!("cannot create a file in {}", b.dir.display()))?;
        // Held until the process ends, however it ends: how a later backup
        // tells this file from one a killed backup left.
        let _ = temp.as_file().try_lock();
        let file = temp.as_file().try_clone()?;
        let sync_file = temp.as_file().try_clone()?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let handle = std::thread::spawn(move || {
            for () in rx {
                let _ = sync_file.sync_data();
            }
        });
        let hashing = Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            sha: Sha256::new(),
            count: 0,
        };
        Ok(Self {
            temp,
            final_path,
            enc: Encoder::new(hashing, b.compression)?,
            tail: Tail::default(),
            raw_bytes: 0,
            created_at,
            syncer: Some((tx, handle)),
            synced_at: 0,
        })
    }

    pub fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.tail.push(chunk);
        self.raw_bytes += chunk.len() as u64;
        self.enc.write_all(chunk)?;
        let written = self.enc.get_ref().count;
        if written - self.synced_at >= SYNC_EVERY {
            self.synced_at = written;
            if let Some((tx, _)) = &self.syncer {
                // Busy flushing the previous batch: the next one catches up.
                let _ = tx.try_send(());
            }
        }
        Ok(())
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Check the dump is complete, finish the compressed stream, fsync,
    /// write the metadata, then rename the file to its final name.
    pub fn commit(mut self, b: &NewBackup<'_>) -> anyhow::Result<Backup> {
        if let Some((tx, handle)) = self.syncer.take() {
            drop(tx);
            let _ = handle.join();
        }
        if !self.tail.ends_with_marker(b.trailer) {
            bail!("the dump ended early (no '{}' line at its end)", b.trailer);
        }
        let ctx = || format!("cannot write {}", self.final_path.display());
        let hashing = self.enc.finish().with_context(ctx)?;
        let Hashing { inner, sha, count } = hashing;
        let file = inner
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .with_context(ctx)?;
        file.sync_all().with_context(ctx)?;
        let backup = Backup {
            file: self.final_path.clone(),
            project: b.project.clone(),
            engine: b.engine.clone(),
            server_version: b.server_version.clone(),
            database: b.database.clone(),
            name: b.label.map(str::to_owned),
            created_at: self.created_at,
            size: count,
            sha256: hex(&sha.finalize()),
            compression: b.compression,
        };
        let json = serde_json::to_vec_pretty(&backup)?;
        berth::atomic::write(&meta_path(&self.final_path), &json, 0o600)?;
        self.temp
            .persist_noclobber(&self.final_path)
            .map_err(|e| e.error)
            .with_context(ctx)?;
        File::open(b.dir)
            .and_then(|d| d.sync_all())
            .with_context(ctx)?;
        Ok(backup)
    }
}

/// How old an unlocked temp file must be before it counts as left behind
/// (a backup takes its lock right after creating the file).
const DEAD_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove the temp files that backups killed midway (SIGKILL, power loss)
/// left in the folder: hidden `.NAME.tmp-*` files that no process holds
/// locked and that are older than [`DEAD_AFTER`]. A running backup holds its
/// lock, so it is never touched.
pub fn sweep_dead_temp_files(dir: &Path) {
    let now = std::time::SystemTime::now();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.contains(".tmp-")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= DEAD_AFTER);
        if old
            && let Ok(f) = File::open(entry.path())
            && f.try_lock().is_ok()
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Open `path` only when it is a regular file itself (not a symbolic link
/// or anything else), checked again on the opened file.
pub fn open_regular(path: &Path) -> anyhow::Result<File> {
    use std::os::unix::fs::MetadataExt as _;
    let ctx = || format!("cannot open {}", path.display());
    let before = fs::symlink_metadata(path).with_context(ctx)?;
    if !before.is_file() {
        bail!(
            "{} is not a regular file{}: dbdump reads only regular backup files",
            path.display(),
            if before.file_type().is_symlink() {
                " (a symbolic link)"
            } else {
                ""
            }
        );
    }
    let f = File::open(path).with_context(ctx)?;
    let after = f.metadata().with_context(ctx)?;
    if (after.dev(), after.ino()) != (before.dev(), before.ino()) || !after.is_file() {
        bail!("{} changed while it was opened", path.display());
    }
    Ok(f)
}

/// Metadata files are small: anything larger is not one.
const META_LIMIT: u64 = 1 << 20;

fn read_small(path: &Path) -> anyhow::Result<Vec<u8>> {
    let f = open_regular(path)?;
    let mut text = Vec::new();
    f.take(META_LIMIT + 1)
        .read_to_end(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if text.len() as u64 > META_LIMIT {
        bail!(
            "{} is larger than a backup metadata file can be",
            path.display()
        );
    }
    Ok(text)
}

/// The complete backups in `dir`, oldest first: every regular `NAME.json`
/// whose `NAME` is a regular file in `dir`. Temp files, metadata without
/// their file, and symbolic links (which could lead out of the folder) are
/// skipped.
pub fn list(dir: &Path) -> anyhow::Result<Vec<Backup>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read backup folder {}", dir.display()));
        }
    };
    let base = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || Path::new(&name).extension().is_none_or(|e| e != "json") {
            continue;
        }
        let data = base.join(name.trim_end_matches(".json"));
        let regular = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
        let meta = base.join(&name);
        for p in [&data, &meta] {
            if fs::symlink_metadata(p).is_ok_and(|m| !m.is_file()) {
                berth::cli::warn(
                    "dbdump",
                    format!("skipping {}: not a regular file", p.display()),
                );
            }
        }
        if !regular(&data) || !regular(&meta) {
            continue;
        }
        let text = read_small(&meta)?;
        let Ok(mut b) = serde_json::from_slice::<Backup>(&text) else {
            berth::cli::warn(
                "dbdump",
                format!("skipping {}: not a backup metadata file", meta.display()),
            );
            continue;
        };
        b.file = data;
        out.push(b);
    }
    out.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.file.cmp(&b.file))
    });
    Ok(out)
}

/// The metadata of a backup file, when it has one.
pub fn read_meta(file: &Path) -> anyhow::Result<Option<Backup>> {
    let meta = meta_path(file);
    if fs::symlink_metadata(&meta).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
        return Ok(None);
    }
    let t = read_small(&meta)?;
    let b = serde_json::from_slice(&t)
        .with_context(|| format!("invalid backup metadata {}", meta.display()))?;
    Ok(Some(b))
}

/// A reader that hashes and counts what it reads.
struct HashingReader<R> {
    inner: R,
    sha: Sha256,
    count: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Open a backup for reading its SQL: decompressed by its magic bytes.
pub fn open_sql(file: &Path) -> anyhow::Result<(Compression, Box<dyn Read + Send>)> {
    let f = open_regular(file)?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let head = io::BufRead::fill_buf(&mut r)?
        .get(..4)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let c = Compression::sniff(&head);
    Ok((c, decoder(c, r)?))
}

fn decoder<'a, R: io::BufRead + Send + 'a>(
    c: Compression,
    r: R,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::GzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::Decoder::with_buffer(r)?),
    })
}

/// What `verify` found.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    pub file: PathBuf,
    pub ok: bool,
    /// The compression told by the file's magic bytes.
    pub compression: Compression,
    pub size: u64,
    pub sha256: String,
    /// Bytes of SQL after decompression (as far as it went).
    pub sql_bytes: u64,
    /// Whether a metadata file was found and its checksum compared.
    pub has_metadata: bool,
    pub problems: Vec<String>,
}

/// Read a whole backup: hash its bytes against the metadata, decompress all
/// of it to nowhere, and check the dump's last line. Nothing is written.
pub fn verify(file: &Path, progress: Option<&indicatif::ProgressBar>) -> anyhow::Result<Verified> {
    let meta = read_meta(file)?;
    let f = open_regular(file)?;
    let hashing = HashingReader {
        inner: f,
        sha: Sha256::new(),
        count: 0,
    };
    let mut r = BufReader::with_capacity(1 << 20, hashing);
    let head =
        io::BufRead::fill_buf(&mut r).with_context(|| format!("cannot read {}", file.display()))?;
    let compression = Compression::sniff(head.get(..4).unwrap_or(head));
    let mut problems = Vec::new();
    let mut tail = Tail::default();
    let mut sql_bytes = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    let result: io::Result<()> = (|| {
        let mut dec = decoder(compression, &mut r)?;
        loop {
            let n = dec.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            sql_bytes += n as u64;
            tail.push(&buf[..n]);
            if let Some(p) = progress {
                p.set_position(sql_bytes);
            }
        }
    })();
    if let Err(e) = result {
        problems.push(format!("cannot decompress ({compression}): {e}"));
    }
    // Hash whatever the decoder left unread too: the checksum covers the whole file.
    let _ = io::copy(&mut r, &mut io::sink());
    let hashing = r.into_inner();
    let size = hashing.count;
    let sha256 = hex(&hashing.sha.finalize());
    if let Some(m) = &meta {
        if m.size != size {
            problems.push(format!(
                "size is {size} bytes, the metadata says {}",
                m.size
            ));
        }
        if !m.sha256.eq_ignore_ascii_case(&sha256) {
            problems.push(format!(
                "SHA-256 is {sha256}, the metadata says {}",
                m.sha256
            ));
        }
        if m.compression != compression {
            problems.push(format!(
                "the file is {compression}-compressed, the metadata says {}",
                m.compression
            ));
        }
    }
    if problems.is_empty() {
        let markers = [
            crate::engine::Client::trailer(crate::engine::Family::Postgres),
            crate::engine::Client::trailer(crate::engine::Family::MySql),
        ];
        if !markers.iter().any(|m| tail.ends_with_marker(m)) {
            problems.push(
                "the dump is incomplete (it does not end with the dump program's completion line)"
                    .into(),
            );
        }
    }
    Ok(Verified {
        file: file.to_path_buf(),
        ok: problems.is_empty(),
        compression,
        size,
        sha256,
        sql_bytes,
        has_metadata: meta.is_some(),
        problems,
    })
}

/// Delete a backup and its metadata: regular files only (a symbolic link
/// is never followed, nor removed).
pub fn remove(b: &Backup) -> anyhow::Result<()> {
    for p in [b.file.clone(), meta_path(&b.file)] {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() => {
                fs::remove_file(&p).with_context(|| format!("cannot delete {}", p.display()))?;
            }
            Ok(_) => bail!("{} is not a regular file; not deleted", p.display()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot delete {}", p.display())),
        }
    }
    Ok(())
}

/// A backup file given on the command line must be a regular file (not a
/// symbolic link, which could lead anywhere).
pub fn check_file_arg(file: &Path) -> anyhow::Result<PathBuf> {
    match fs::symlink_metadata(file) {
        Ok(m) if m.is_file() => {
            let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let name = file.file_name().map(PathBuf::from).unwrap_or_default();
            Ok(fs::canonicalize(&dir).unwrap_or(dir).join(name))
        }
        Ok(m) if m.file_type().is_symlink() => Err(berth::cli::error_with_hint(
            format!(
                "{} is a symbolic link: dbdump restores only regular backup files",
                file.display()
            ),
            "name the file it points to, if you trust it",
        )),
        Ok(_) => Err(anyhow::anyhow!("{} is not a file", file.display())),
        Err(e) => Err(e)
            .with_context(|| format!("cannot read backup {}", file.display()))
            .hint("`dbdump list` shows the backups"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_unlocked_temp_files_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - DEAD_AFTER * 2;
        let make = |name: &str, age: Option<std::time::SystemTime>| {
            let f = File::create(dir.path().join(name)).unwrap();
            if let Some(t) = age {
                f.set_modified(t).unwrap();
            }
            f
        };
        drop(make(".a.sql.zst.tmp-dead", Some(old)));
        let running = make(".b.sql.zst.tmp-running", Some(old));
        running.try_lock().unwrap();
        drop(make(".c.sql.zst.tmp-fresh", None));
        drop(make("d.sql.zst", Some(old)));
        sweep_dead_temp_files(dir.path());
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".b.sql.zst.tmp-running",
                ".c.sql.zst.tmp-fresh",
                "d.sql.zst"
            ]
        );
        drop(running);
    }

    #[test]
    fn labels_are_checked() {
        for ok in ["before-migration", "v1.2", "nightly_3"] {
            validate_label(ok).unwrap();
        }
        for bad in [
            "",
            "../x",
            "a/b",
            "..",
            ".hidden",
            "a..b",
            "sp ace",
            &"x".repeat(65),
        ] {
            assert!(validate_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_sort_by_time() {
        let t: jiff::Timestamp = "2026-11-21T22:21:05Z".parse().unwrap();
        assert_eq!(
            file_name(t, None, Compression::Zstd),
            "20261121T222105Z.sql.zst"
        );
        assert_eq!(
            file_name(t, Some("x"), Compression::None),
            "20261121T222105Z-x.sql"
        );
    }

    fn write(dir: &Path, c: Compression, body: &[u8]) -> anyhow::Result<Backup> {
        let nb = NewBackup {
            dir,
            label: Some("t"),
            compression: c,
            project: None,
            engine: "postgres".into(),
            server_version: "15".into(),
            database: "d".into(),
            trailer: "-- PostgreSQL database dump complete",
        };
        let mut w = Writer::create(&nb)?;
        for chunk in body.chunks(1000) {
            w.write_chunk(chunk)?;
        }
        w.commit(&nb)
    }

    #[test]
    fn roundtrip_each_compression_and_detect_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = b"SELECT 1;\n".repeat(5000);
        body.extend_from_slice(b"--\n-- PostgreSQL database dump complete\n--\n\n");
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let sub = dir.path().join(c.as_str());
            let b = write(&sub, c, &body).unwrap();
            assert_eq!(list(&sub).unwrap().len(), 1);
            let v = verify(&b.file, None).unwrap();
            assert!(v.ok, "{v:?}");
            assert_eq!(v.sql_bytes, body.len() as u64);
            let (sniffed, mut r) = open_sql(&b.file).unwrap();
            assert_eq!(sniffed, c);
            let mut back = Vec::new();
            r.read_to_end(&mut back).unwrap();
            assert_eq!(back, body);
            // Flip one bit in the middle: the checksum tells.
            let mut bytes = fs::read(&b.file).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x10;
            fs::write(&b.file, &bytes).unwrap();
            assert!(!verify(&b.file, None).unwrap().ok);
            // Truncated and without metadata: decompression or the trailer tells.
            bytes[mid] ^= 0x10;
            fs::write(&b.file, &bytes[..bytes.len() - 40]).unwrap();
            fs::remove_file(meta_path(&b.file)).unwrap();
            let v = verify(&b.file, None).unwrap();
            assert!(!v.ok && !v.has_metadata, "{v:?}");
            assert!(list(&sub).unwrap().is_empty());
        }
    }

    #[test]
    fn an_incomplete_dump_is_not_committed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(dir.path(), Compression::Zstd, b"SELECT 1;\n").is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
