//! The registry of projects. Three files in the data folder:
//!
//! - `registry.json`, the snapshot: one JSON document,
//!   `{"version":2,"generation":G,"projects":[` then one project a line,
//!   sorted by name, then `]}`.
//! - `registry.journal`, the changes since that snapshot, one JSON object a
//!   line: `{"generation":G}`, then `{"put":PROJECT}` or `{"remove":"NAME"}`.
//!   `add` and `remove` append their change with one write and an fdatasync,
//!   so they cost the same with ten projects registered or ten thousand.
//! - `registry.index`, what `add` needs of each snapshot project (name, path,
//!   ports, where its line is), so that `add` neither reads nor parses the
//!   snapshot. A cache: rebuilt whenever it does not match the snapshot.
//!
//! Readers take no lock. The snapshot is only replaced by an atomic rename.
//! The journal is appended to, and a reader ignores a last line without its
//! newline (a write under way, or one killed midway). A journal of an older
//! generation than the snapshot is already folded into it and is ignored; one
//! of a newer generation means the snapshot was replaced between the two
//! reads, and the reader reads again.
//!
//! Writers hold the lock `registry.json.lock` across read-modify-write.
//! [`Registry::update`] writes a new snapshot (generation + 1) and an empty
//! journal; so does `add` or `remove` once the journal holds
//! [`JOURNAL_LIMIT`] changes (compaction).

mod disk;
mod folder;
mod reserve;

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use self::disk::FORMAT_VERSION;
use self::disk::{Entry, Index, Journal, Snapshot, Span, Stamp, bad_json, corrupt, read_or_empty};
pub use self::folder::{Notes, Scanned, scan_compose_file, scan_folder, scan_into};
pub use self::reserve::{RESERVATION_TTL, Reservation, held_by_others};
use crate::model::{Checked, Project, ProjectPorts};
use crate::paths::Paths;
use crate::store::JsonFile;

/// Changes the journal holds before the next change compacts it into a new snapshot.
pub const JOURNAL_LIMIT: usize = 512;
/// Bytes the journal holds before the next change compacts it.
const JOURNAL_BYTES: usize = 1 << 20;
/// How often an unlocked reader reads again when a writer replaced the
/// snapshot between its two reads, before it takes the lock.
const READ_ATTEMPTS: usize = 4;

/// Access to the registry of one berth installation.
#[derive(Debug, Clone)]
pub struct Registry {
    file: JsonFile,
    journal: PathBuf,
    index: PathBuf,
    reservations: PathBuf,
    journal_limit: usize,
}

/// The registry's two files, read together: the snapshot (with its
/// metadata) and the journal.
struct Files {
    snapshot: Vec<u8>,
    /// The snapshot's metadata; `None` when there is no snapshot.
    meta: Option<fs::Metadata>,
    journal: Vec<u8>,
}

/// The projects now registered, each as its JSON text.
struct View<'a> {
    reg: &'a Registry,
    snapshot: &'a str,
    journal: &'a str,
    generation: u64,
    raws: Vec<&'a str>,
    /// Changes in the journal.
    changes: usize,
}

impl<'a> View<'a> {
    fn new(reg: &'a Registry, files: &'a Files) -> anyhow::Result<Self> {
        let snapshot = crate::io::utf8(&reg.path().display(), &files.snapshot)?;
        let journal = crate::io::utf8(&reg.journal.display(), &files.journal)?;
        let snap = Snapshot::parse(reg.path(), snapshot)?;
        let j = Journal::split(&reg.journal, journal)?;
        let entries = if j.generation == Some(snap.generation) {
            j.entries(&reg.journal, journal)?
        } else {
            Vec::new()
        };
        let name = |text: &'a str| {
            disk::name_of(text).map_err(|e| reg.corrupt_at(snapshot, journal, text, e))
        };
        let raws = disk::apply(&snap.lines, &entries, name)?;
        Ok(Self {
            reg,
            snapshot,
            journal,
            generation: snap.generation,
            raws,
            changes: entries.len(),
        })
    }

    /// Whether a project's text is in the journal (else in the snapshot).
    fn in_journal(&self, raw: &str) -> bool {
        within(self.journal, raw)
    }

    /// Report a project that fails [`Checked::check`], naming the file and
    /// line it is on.
    fn report_invalid(&self, raw: &str, e: &anyhow::Error) {
        let (path, text) = if self.in_journal(raw) {
            (self.reg.journal.as_path(), self.journal)
        } else {
            (self.reg.path(), self.snapshot)
        };
        crate::cli::warn(
            &tool_name(),
            format!(
                "{} line {}: {e:#}: left out; fix the entry by hand, or `registry remove` it",
                path.display(),
                disk::line_of(text, raw)
            ),
        );
    }

    /// Parse one project, or name the file and line it is on as corrupt.
    fn parse<P: Deserialize<'a>>(&self, raw: &'a str) -> anyhow::Result<P> {
        serde_json::from_str(raw)
            .map_err(|e| self.reg.corrupt_at(self.snapshot, self.journal, raw, e))
    }
}

impl Registry {
    pub fn open(paths: &Paths) -> Self {
        let path = paths.registry();
        Self {
            journal: path.with_extension("journal"),
            index: path.with_extension("index"),
            reservations: path.with_extension("reservations"),
            file: JsonFile::new(path),
            journal_limit: JOURNAL_LIMIT,
        }
    }

    /// The same registry, compacting once the journal holds `limit` changes
    /// (for tests of compaction).
    #[doc(hidden)]
    #[must_use]
    pub fn with_journal_limit(mut self, limit: usize) -> Self {
        self.journal_limit = limit;
        self
    }

    /// The snapshot file, `registry.json`.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The journal file, `registry.journal`.
    pub fn journal_path(&self) -> &Path {
        &self.journal
    }

    /// The error for a project's text that does not parse, naming the file
    /// and line it is on.
    fn corrupt_at(
        &self,
        snapshot: &str,
        journal: &str,
        raw: &str,
        e: serde_json::Error,
    ) -> anyhow::Error {
        if within(journal, raw) {
            bad_json(&self.journal, journal, raw, &e)
        } else {
            bad_json(self.path(), snapshot, raw, &e)
        }
    }

    /// Read the snapshot and the journal as they were at one moment.
    fn read_files(&self) -> anyhow::Result<Files> {
        for _ in 0..READ_ATTEMPTS {
            let files = self.read_both()?;
            if self.consistent(&files)? {
                return Ok(files);
            }
        }
        // Writers keep replacing the snapshot: read under the lock.
        let _lock = self.file.lock()?;
        self.read_locked()
    }

    /// The snapshot (with its metadata) and then the journal.
    fn read_both(&self) -> anyhow::Result<Files> {
        let ctx = || format!("cannot read {}", self.path().display());
        let (snapshot, meta) = match File::open(self.path()) {
            Ok(mut f) => {
                let meta = f.metadata().with_context(ctx)?;
                let mut bytes = Vec::with_capacity(usize::try_from(meta.len())? + 1);
                f.read_to_end(&mut bytes).with_context(ctx)?;
                (bytes, Some(meta))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), None),
            Err(e) => return Err(e).with_context(ctx),
        };
        Ok(Files {
            snapshot,
            meta,
            journal: read_or_empty(&self.journal)?,
        })
    }

    /// Both files, read holding the lock (so no writer is between them).
    fn read_locked(&self) -> anyhow::Result<Files> {
        let files = self.read_both()?;
        if self.consistent(&files)? {
            Ok(files)
        } else {
            Err(corrupt(
                &self.journal,
                Some(1),
                format!("it is of a newer generation than {}", self.path().display()),
            ))
        }
    }

    /// Whether every line of the snapshot read is known to parse and pass
    /// [`Checked::check`]: the index was built from this very file (same
    /// generation, size, change time and inode), berth builds an index only
    /// of a snapshot whose every project parsed, and the index counts the
    /// invalid ones.
    fn snapshot_checked(&self, files: &Files) -> bool {
        let Some(meta) = &files.meta else {
            return true;
        };
        let Some(generation) = disk::layout_generation(&files.snapshot) else {
            return false;
        };
        let mut head = [0; 256];
        let n = File::open(&self.index)
            .and_then(|f| f.read_at(&mut head, 0))
            .unwrap_or(0);
        disk::index_head(&head[..n]) == Some((Stamp::of(generation, meta), 0))
    }

    /// Whether the journal read belongs to the snapshot read or an older one
    /// (not to a snapshot written after the first read).
    fn consistent(&self, files: &Files) -> anyhow::Result<bool> {
        let journal = crate::io::utf8(&self.journal.display(), &files.journal)?;
        let Some(journal_gen) = Journal::split(&self.journal, journal)?.generation else {
            return Ok(true);
        };
        let generation = if let Some(g) = disk::layout_generation(&files.snapshot) {
            g
        } else {
            let snapshot = crate::io::utf8(&self.path().display(), &files.snapshot)?;
            Snapshot::parse(self.path(), snapshot)?.generation
        };
        Ok(journal_gen <= generation)
    }

    /// Every project, sorted by name.
    pub fn load(&self) -> anyhow::Result<Vec<Project>> {
        self.load_as()
    }

    /// Every project's port fields only: several times cheaper than [`Registry::load`].
    pub fn load_ports(&self) -> anyhow::Result<Vec<ProjectPorts>> {
        self.load_as()
    }

    fn load_as<P: DeserializeOwned>(&self) -> anyhow::Result<Vec<P>> {
        let files = self.read_files()?;
        let view = View::new(self, &files)?;
        view.raws.iter().map(|r| view.parse(r)).collect()
    }

    /// Every project, read holding the lock.
    fn load_locked<P: DeserializeOwned>(&self) -> anyhow::Result<Vec<P>> {
        let files = self.read_locked()?;
        let view = View::new(self, &files)?;
        view.raws.iter().map(|r| view.parse(r)).collect()
    }

    /// Every project that passes [`Checked::check`], sorted by name: what
    /// other tools are served. Each invalid one is reported on stderr, naming
    /// it and the file and line it is on, and left out, so one bad entry does
    /// not break every other project.
    pub fn load_valid<P: DeserializeOwned + Checked>(&self) -> anyhow::Result<Vec<P>> {
        let files = self.read_files()?;
        let view = View::new(self, &files)?;
        let mut out = Vec::with_capacity(view.raws.len());
        for raw in &view.raws {
            let p: P = view.parse(raw)?;
            match p.check() {
                Ok(()) => out.push(p),
                Err(e) => view.report_invalid(raw, &e),
            }
        }
        Ok(out)
    }

    /// Write every valid project as a JSON array (or NDJSON) straight from
    /// the stored text. The projects of a snapshot the index vouches for are
    /// not decoded; the others are parsed and checked, and an invalid one is
    /// reported on stderr and left out. Nothing is written when a project
    /// does not parse.
    pub fn write_raw(&self, out: &mut impl std::io::Write, ndjson: bool) -> anyhow::Result<()> {
        let files = self.read_files()?;
        let mut view = View::new(self, &files)?;
        let checked = self.snapshot_checked(&files);
        let mut invalid = Vec::new();
        for (i, raw) in view.raws.iter().enumerate() {
            if !checked || view.in_journal(raw) {
                let p: Project = view.parse(raw)?;
                if let Err(e) = p.check() {
                    invalid.push((i, e));
                }
            }
        }
        for (i, e) in invalid.iter().rev() {
            let raw = view.raws.remove(*i);
            view.report_invalid(raw, e);
        }
        // One project a line, in an array too: compact, greppable, and what
        // lets `ports check` parse ten thousand projects on several threads.
        let (open, sep, close): (&[u8], &[u8], &[u8]) = match (ndjson, view.raws.is_empty()) {
            (true, true) => (b"", b"", b""),
            (true, false) => (b"", b"\n", b"\n"),
            (false, true) => (b"[", b"", b"]\n"),
            (false, false) => (b"[\n", b",\n", b"\n]\n"),
        };
        out.write_all(open)?;
        for (i, raw) in view.raws.iter().enumerate() {
            if i > 0 {
                out.write_all(sep)?;
            }
            out.write_all(raw.as_bytes())?;
        }
        out.write_all(close)?;
        Ok(())
    }

    /// Add projects: `admit` sees the registered projects' names, paths and
    /// ports ([`Registered`]) and returns the projects to add. They are
    /// appended to the journal; the registered projects are not read whole.
    pub fn add_with<R>(
        &self,
        admit: impl FnOnce(&Registered<'_>) -> anyhow::Result<(Vec<Project>, R)>,
    ) -> anyhow::Result<R> {
        self.change(|registered| {
            let (added, result) = admit(registered)?;
            let changes = added
                .iter()
                .map(|p| Ok(Change::Put(p.name.clone(), serde_json::to_string(p)?)))
                .collect::<anyhow::Result<_>>()?;
            Ok((changes, result))
        })
    }

    /// Change one project under the lock; `change` returns `(write, result)`.
    /// The changed project is checked ([`Checked::check`]) and appended to
    /// the journal: the others are not read whole. The name cannot change.
    pub fn update_project<R>(
        &self,
        name: &str,
        change: impl FnOnce(&mut Project) -> anyhow::Result<(bool, R)>,
    ) -> anyhow::Result<R> {
        self.change(|registered| {
            let i = registered.position(name).ok_or_else(|| not_found(name))?;
            let mut project: Project = registered.parse_whole(i)?;
            let (write, result) = change(&mut project)?;
            if project.name != name {
                anyhow::bail!("cannot rename '{name}' to '{}'", project.name);
            }
            if write {
                // The same checks as every other way in.
                project.check()?;
            }
            let changes = if write {
                vec![Change::Put(
                    project.name.clone(),
                    serde_json::to_string(&project)?,
                )]
            } else {
                Vec::new()
            };
            Ok((changes, result))
        })
    }

    /// Record a project's status, under the lock; `running` also stamps
    /// `last_started`. The one way `registry set-status` and `stackctl`
    /// record what a stack is doing.
    pub fn set_status(&self, name: &str, status: crate::model::Status) -> anyhow::Result<()> {
        self.update_project(name, |p| {
            p.status = status;
            if status == crate::model::Status::Running {
                p.last_started = Some(jiff::Timestamp::now());
            }
            Ok((true, ()))
        })
    }

    /// Remove the named projects; an unknown name is an error and removes nothing.
    pub fn remove(&self, names: &[String]) -> anyhow::Result<()> {
        self.change(|registered| {
            if let Some(name) = names.iter().find(|n| registered.position(n).is_none()) {
                return Err(not_found(name));
            }
            Ok((names.iter().cloned().map(Change::Remove).collect(), ()))
        })
    }

    /// Change the projects under the lock; `change` returns `(write, result)`.
    /// Writes a new snapshot, projects sorted by name.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut Vec<Project>) -> anyhow::Result<(bool, R)>,
    ) -> anyhow::Result<R> {
        let _lock = self.file.lock()?;
        let files = self.read_locked()?;
        let view = View::new(self, &files)?;
        let mut projects: Vec<Project> = view
            .raws
            .iter()
            .map(|r| view.parse(r))
            .collect::<anyhow::Result<_>>()?;
        let (write, result) = change(&mut projects)?;
        if write {
            projects.sort_by(|a, b| a.name.cmp(&b.name));
            let lines: Vec<String> = projects
                .iter()
                .map(serde_json::to_string)
                .collect::<Result<_, _>>()?;
            let bad = projects.iter().filter(|p| p.check().is_err()).count();
            self.rewrite(view.generation + 1, &lines, Some(bad))?;
        }
        Ok(result)
    }

    /// Apply changes that `decide` returns, under the lock: appended to the
    /// journal when the snapshot is in berth's layout and the journal has
    /// room, else folded into a new snapshot.
    fn change<R>(
        &self,
        decide: impl FnOnce(&Registered<'_>) -> anyhow::Result<(Vec<Change>, R)>,
    ) -> anyhow::Result<R> {
        let _lock = self.file.lock()?;
        let journal_bytes = read_or_empty(&self.journal)?;
        let journal_text = crate::io::utf8(&self.journal.display(), &journal_bytes)?;
        let journal = Journal::split(&self.journal, journal_text)?;
        let full = journal.lines.len() >= self.journal_limit || journal.complete >= JOURNAL_BYTES;
        let fast = if full { None } else { self.open_snapshot()? };
        let Some(snapshot) = fast else {
            return self.change_compacting(decide);
        };
        let generation = snapshot.stamp.generation;
        if journal.generation.is_some_and(|g| g > generation) {
            return Err(corrupt(
                &self.journal,
                Some(1),
                format!("it is of a newer generation than {}", self.path().display()),
            ));
        }
        let current = journal.generation == Some(generation);
        let entries = if current {
            journal.entries(&self.journal, journal_text)?
        } else {
            Vec::new()
        };
        let index_bytes = self.read_index(&snapshot)?;
        let rebuilt;
        let index = if let Some(index) = Index::parse(&index_bytes) {
            index
        } else {
            // A cache that does not parse is rebuilt, never an error.
            rebuilt = self.rebuild_index(snapshot.stamp)?;
            Index::parse(&rebuilt)
                .with_context(|| format!("cannot read {} just built", self.index.display()))?
        };
        let registered =
            Registered::from_index(self, snapshot.file, index, &entries, journal_text)?;
        let (changes, result) = decide(&registered)?;
        if changes.is_empty() {
            return Ok(result);
        }
        let lines: String = changes.iter().map(Change::line).collect();
        self.sweep();
        if current {
            self.append(journal.complete, &lines)?;
        } else {
            // No journal yet, or one already folded into the snapshot.
            let text = disk::journal_head(generation) + &lines;
            crate::atomic::write(&self.journal, text.as_bytes(), 0o600)?;
        }
        self.release_registered(&registered, &changes)?;
        Ok(result)
    }

    /// Append lines to the journal, first dropping a last line a killed
    /// writer left without its newline.
    fn append(&self, complete: usize, lines: &str) -> anyhow::Result<()> {
        let ctx = || format!("cannot write {}", self.journal.display());
        let mut f = OpenOptions::new()
            .append(true)
            .open(&self.journal)
            .with_context(ctx)?;
        if f.metadata().with_context(ctx)?.len() != complete as u64 {
            f.set_len(complete as u64).with_context(ctx)?;
        }
        f.write_all(lines.as_bytes()).with_context(ctx)?;
        f.sync_data().with_context(ctx)?;
        Ok(())
    }

    /// The snapshot, opened, when it is in berth's layout or does not exist.
    fn open_snapshot(&self) -> anyhow::Result<Option<OpenSnapshot>> {
        let ctx = || format!("cannot read {}", self.path().display());
        let mut file = match File::open(self.path()) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Some(OpenSnapshot {
                    file: None,
                    stamp: Stamp::default(),
                }));
            }
            Err(e) => return Err(e).with_context(ctx),
        };
        let meta = file.metadata().with_context(ctx)?;
        let head = disk::read_head(&mut file).with_context(ctx)?;
        Ok(
            disk::layout_generation(&head).map(|generation| OpenSnapshot {
                file: Some(file),
                stamp: Stamp::of(generation, &meta),
            }),
        )
    }

    /// The index of the open snapshot: the index file when its stamp
    /// matches, else one rebuilt from the snapshot.
    fn read_index(&self, snapshot: &OpenSnapshot) -> anyhow::Result<Vec<u8>> {
        if snapshot.file.is_none() {
            return Ok(Index {
                stamp: snapshot.stamp,
                projects: Vec::new(),
                bad: 0,
            }
            .encode());
        }
        let index = read_or_empty(&self.index)?;
        if disk::index_stamp(&index) == Some(snapshot.stamp) {
            return Ok(index);
        }
        self.rebuild_index(snapshot.stamp)
    }

    /// Build the index of the snapshot (in berth's layout) and write it.
    fn rebuild_index(&self, stamp: Stamp) -> anyhow::Result<Vec<u8>> {
        let bytes = read_or_empty(self.path())?;
        let text = crate::io::utf8(&self.path().display(), &bytes)?;
        let snap = Snapshot::parse(self.path(), text)?;
        let base = text.as_ptr() as usize;
        let spans: Vec<Span> = snap
            .lines
            .iter()
            .map(|l| Span {
                offset: (l.as_ptr() as usize - base) as u64,
                len: l.len() as u64,
            })
            .collect();
        let index = Index::build(stamp, &snap.lines, &spans, None)
            .map_err(|(i, e)| bad_json(self.path(), text, snap.lines[i], &e))?
            .encode();
        self.sweep();
        crate::atomic::write(&self.index, &index, 0o600)?;
        Ok(index)
    }

    /// Apply changes by writing a new snapshot: for a snapshot not in
    /// berth's layout (older versions, edits by hand), and to compact a full journal.
    fn change_compacting<R>(
        &self,
        decide: impl FnOnce(&Registered<'_>) -> anyhow::Result<(Vec<Change>, R)>,
    ) -> anyhow::Result<R> {
        let files = self.read_locked()?;
        let view = View::new(self, &files)?;
        let registered = Registered::from_raws(&view)?;
        let (changes, result) = decide(&registered)?;
        if changes.is_empty() && view.changes < self.journal_limit {
            return Ok(result);
        }
        let put: Vec<String> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Put(name, _) => Some(name.clone()),
                Change::Remove(_) => None,
            })
            .collect();
        let held = !registered.reservations.is_empty();
        let mut projects: std::collections::BTreeMap<Cow<'_, str>, Cow<'_, str>> = registered
            .summaries
            .iter()
            .zip(&view.raws)
            .map(|(s, raw)| (s.name.clone(), Cow::Borrowed(*raw)))
            .collect();
        for c in changes {
            match c {
                Change::Put(name, json) => projects.insert(name.into(), json.into()),
                Change::Remove(name) => projects.remove(name.as_str()),
            };
        }
        // A project edited by hand over several lines is written on one.
        let lines: Vec<Cow<'_, str>> = projects
            .into_values()
            .map(|raw| {
                if raw.contains('\n') {
                    let v: serde_json::Value = serde_json::from_str(&raw)?;
                    Ok(Cow::Owned(serde_json::to_string(&v)?))
                } else {
                    Ok(raw)
                }
            })
            .collect::<anyhow::Result<_>>()?;
        self.rewrite(view.generation + 1, &lines, None)?;
        if held {
            self.release(&put.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        Ok(result)
    }

    /// Release the reservations of the projects `changes` registered.
    fn release_registered(
        &self,
        registered: &Registered<'_>,
        changes: &[Change],
    ) -> anyhow::Result<()> {
        if registered.reservations.is_empty() {
            return Ok(());
        }
        let put: Vec<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Put(name, _) => Some(name.as_str()),
                Change::Remove(_) => None,
            })
            .collect();
        self.release(&put)
    }

    /// Write a new snapshot of `lines` (one project each, sorted by name) as
    /// `generation`, an empty journal for it, and its index. Holding the lock.
    ///
    /// `bad` is how many of them are invalid, when the caller knows.
    fn rewrite<S: AsRef<str>>(
        &self,
        generation: u64,
        lines: &[S],
        bad: Option<usize>,
    ) -> anyhow::Result<()> {
        let (bytes, spans) = disk::encode_snapshot(generation, lines);
        self.sweep();
        self.file.replace(&bytes)?;
        crate::atomic::write(
            &self.journal,
            disk::journal_head(generation).as_bytes(),
            0o600,
        )?;
        let meta = fs::metadata(self.path())
            .with_context(|| format!("cannot read {}", self.path().display()))?;
        let stamp = Stamp::of(generation, &meta);
        let lines: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
        // The index is a cache: a project that does not parse leaves it
        // unwritten, and the next add reports the project.
        if let Ok(index) = Index::build(stamp, &lines, &spans, bad) {
            crate::atomic::write(&self.index, &index.encode(), 0o600)?;
        } else {
            let _ = fs::remove_file(&self.index);
        }
        Ok(())
    }

    /// Remove temp files that killed writers left. Holding the lock.
    fn sweep(&self) {
        for p in [self.path(), &self.journal, &self.index] {
            crate::store::sweep_temp_files(p);
        }
    }
}

/// The name of the running tool, for warnings.
fn tool_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "berth".to_owned())
}

/// Whether `part` is a slice of the non-empty `text`.
fn within(text: &str, part: &str) -> bool {
    let (start, p) = (text.as_ptr() as usize, part.as_ptr() as usize);
    !text.is_empty() && p >= start && p < start + text.len()
}

/// The snapshot as `add` sees it: open, to read single projects, and its stamp.
struct OpenSnapshot {
    file: Option<File>,
    stamp: Stamp,
}

/// One change to the registry.
enum Change {
    /// Add or replace a project: its name and JSON.
    Put(String, String),
    /// Remove the project of this name.
    Remove(String),
}

impl Change {
    fn line(&self) -> String {
        match self {
            Change::Put(_, json) => disk::put_line(json),
            Change::Remove(name) => disk::remove_line(name),
        }
    }
}

/// What `registry add` needs of a registered project.
#[derive(Debug, Deserialize)]
pub struct ProjectSummary<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub path: Cow<'a, str>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub exposed_ports: Vec<u16>,
}

/// Where a registered project's whole JSON is.
enum Whole<'a> {
    Text(&'a str),
    InSnapshot(Span),
}

/// The registered projects as `add` sees them: summaries, and the way to
/// each one's whole JSON for its full port list when it is needed.
pub struct Registered<'a> {
    pub summaries: Vec<ProjectSummary<'a>>,
    /// Ports reserved for projects not registered yet (live ones only).
    /// A project's own are released when it is registered.
    pub reservations: Vec<Reservation>,
    wholes: Vec<Whole<'a>>,
    snapshot: Option<File>,
    path: PathBuf,
}

impl<'a> Registered<'a> {
    /// From the index of the snapshot and the journal's changes.
    fn from_index(
        reg: &Registry,
        snapshot: Option<File>,
        index: Index<'a>,
        entries: &[Entry<'a>],
        journal: &'a str,
    ) -> anyhow::Result<Self> {
        let mut changed = std::collections::HashSet::new();
        let mut puts: std::collections::BTreeMap<Cow<'a, str>, &'a str> =
            std::collections::BTreeMap::new();
        for e in entries {
            match e {
                Entry::Put(raw) => {
                    let name = disk::name_of(raw.get())
                        .map_err(|err| reg.corrupt_at("", journal, raw.get(), err))?;
                    changed.insert(name.clone());
                    puts.insert(name, raw.get());
                }
                Entry::Remove(name) => {
                    changed.insert(name.clone());
                    puts.remove(name);
                }
            }
        }
        let mut summaries = Vec::with_capacity(index.projects.len() + puts.len());
        let mut wholes = Vec::with_capacity(summaries.capacity());
        for p in index.projects {
            if changed.contains(&p.name) {
                continue;
            }
            wholes.push(Whole::InSnapshot(p.at));
            summaries.push(ProjectSummary {
                name: p.name,
                path: p.path,
                port: p.port,
                exposed_ports: p.exposed_ports,
            });
        }
        for raw in puts.into_values() {
            summaries
                .push(serde_json::from_str(raw).map_err(|e| reg.corrupt_at("", journal, raw, e))?);
            wholes.push(Whole::Text(raw));
        }
        Ok(Self {
            summaries,
            reservations: reg.reservations()?,
            wholes,
            snapshot,
            path: reg.path().to_path_buf(),
        })
    }

    /// From every project's JSON.
    fn from_raws(view: &View<'a>) -> anyhow::Result<Self> {
        let summaries = view
            .raws
            .iter()
            .map(|r| view.parse(r))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            summaries,
            reservations: view.reg.reservations()?,
            wholes: view.raws.iter().map(|r| Whole::Text(r)).collect(),
            snapshot: None,
            path: view.reg.path().to_path_buf(),
        })
    }

    /// The full port fields of the project at `index`.
    pub fn ports_of(&self, index: usize) -> anyhow::Result<ProjectPorts> {
        self.parse_whole(index)
    }

    /// Where the project of this name is.
    fn position(&self, name: &str) -> Option<usize> {
        self.summaries.iter().position(|s| s.name == name)
    }

    /// The whole JSON of the project at `index`, parsed.
    fn parse_whole<T: DeserializeOwned>(&self, index: usize) -> anyhow::Result<T> {
        let bytes;
        let text = match &self.wholes[index] {
            Whole::Text(t) => *t,
            Whole::InSnapshot(span) => {
                let file = self.snapshot.as_ref().context("the snapshot is not open")?;
                let mut buf = vec![0; usize::try_from(span.len)?];
                file.read_exact_at(&mut buf, span.offset)
                    .with_context(|| format!("cannot read {}", self.path.display()))?;
                bytes = buf;
                std::str::from_utf8(&bytes).map_err(|e| corrupt(&self.path, None, e))?
            }
        };
        serde_json::from_str(text).map_err(|e| corrupt(&self.path, None, e))
    }
}

/// Find a project by name, with an error that names it and a hint: the
/// closest registered name when one is close.
pub fn find<'a>(projects: &'a [Project], name: &str) -> anyhow::Result<&'a Project> {
    projects.iter().find(|p| p.name == name).ok_or_else(|| {
        match closest(projects.iter().map(|p| p.name.as_str()), name) {
            Some(near) => crate::cli::error_with_hint(
                format!("no project named '{name}' in the registry"),
                format!("did you mean '{near}'? (`registry list` shows the names)"),
            ),
            None => not_found(name),
        }
    })
}

/// The name among `names` closest to `typed`, when it is close: within an
/// edit distance of a third of its length (at least 1), or one that starts
/// with what was typed.
pub fn closest<'a>(names: impl Iterator<Item = &'a str>, typed: &str) -> Option<&'a str> {
    let limit = (typed.chars().count() / 3).max(1);
    names
        .filter(|_| !typed.is_empty())
        .map(|n| {
            let d = strsim::damerau_levenshtein(n, typed);
            (if n.starts_with(typed) { 0 } else { d }, n)
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n)
}

fn not_found(name: &str) -> anyhow::Error {
    crate::cli::error_with_hint(
        format!("no project named '{name}' in the registry"),
        "see `registry list` for the names",
    )
}

impl crate::claims::Claimant for ProjectSummary<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn status(&self) -> crate::model::Status {
        crate::model::Status::Unknown
    }
    fn http_port(&self) -> Option<u16> {
        self.port
    }
    fn service_ports(&self) -> &[crate::model::PortBinding] {
        &[]
    }
    fn exposed_ports(&self) -> &[u16] {
        &self.exposed_ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str, port: u16) -> Project {
        Project {
            name: name.into(),
            domain: format!("{name}.test"),
            port: Some(port),
            exposed_ports: vec![port],
            ..Project::default()
        }
    }

    #[test]
    fn an_unknown_name_suggests_the_closest_one() {
        let projects = vec![project("shop", 5000), project("blog", 5001)];
        let hint =
            |name: &str| crate::cli::render_error("registry", &find(&projects, name).unwrap_err());
        assert!(
            hint("shpo").contains("did you mean 'shop'?"),
            "{}",
            hint("shpo")
        );
        assert!(hint("sh").contains("did you mean 'shop'?"));
        assert!(hint("blg").contains("did you mean 'blog'?"));
        assert!(
            !hint("zzzzzz").contains("did you mean"),
            "{}",
            hint("zzzzzz")
        );
        assert_eq!(find(&projects, "shop").unwrap().name, "shop");
    }

    fn names(reg: &Registry) -> Vec<String> {
        reg.load().unwrap().into_iter().map(|p| p.name).collect()
    }

    /// A new snapshot of these projects.
    fn seed(reg: &Registry, projects: Vec<Project>) {
        reg.update(|ps| {
            ps.extend(projects);
            Ok((true, ()))
        })
        .unwrap();
    }

    /// Append raw bytes to the journal, as a writer killed midway or an edit would.
    fn append_to_journal(reg: &Registry, bytes: &[u8]) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(reg.journal_path())
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    fn add(reg: &Registry, projects: Vec<Project>) {
        reg.add_with(|_| Ok((projects, ()))).unwrap();
    }

    fn registry() -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&Paths::in_folder(dir.path()));
        (dir, reg)
    }

    #[test]
    fn add_appends_to_the_journal_and_leaves_the_snapshot_alone() {
        let (_dir, reg) = registry();
        seed(&reg, vec![project("b", 5001), project("d", 5003)]);
        let snapshot = std::fs::read(reg.path()).unwrap();
        reg.add_with(|r| {
            let seen: Vec<&str> = r.summaries.iter().map(|s| s.name.as_ref()).collect();
            assert_eq!(seen, ["b", "d"]);
            assert_eq!(r.ports_of(1).unwrap().port, Some(5003));
            Ok((vec![project("e", 5004), project("a", 5000)], ()))
        })
        .unwrap();
        reg.remove(&["b".to_owned()]).unwrap();
        add(&reg, vec![project("c", 5002)]);
        assert_eq!(std::fs::read(reg.path()).unwrap(), snapshot);
        let journal = std::fs::read_to_string(reg.journal_path()).unwrap();
        assert_eq!(journal.lines().count(), 5, "{journal}");
        assert_eq!(names(&reg), ["a", "c", "d", "e"]);
        // The journal's projects are seen by the next add, the removed one is not.
        reg.add_with(|r| {
            let mut seen: Vec<&str> = r.summaries.iter().map(|s| s.name.as_ref()).collect();
            seen.sort_unstable();
            assert_eq!(seen, ["a", "c", "d", "e"]);
            let e = r.summaries.iter().position(|s| s.name == "e").unwrap();
            assert_eq!(r.ports_of(e).unwrap().port, Some(5004));
            Ok((Vec::new(), ()))
        })
        .unwrap();
        let err = reg.remove(&["b".to_owned()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("no project named 'b'"),
            "{err:#}"
        );
    }

    #[test]
    fn a_full_journal_is_compacted_into_a_new_snapshot() {
        let (_dir, reg) = registry();
        let reg = reg.with_journal_limit(3);
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            add(&reg, vec![project(name, 5000 + i as u16)]);
        }
        assert!(!reg.path().exists(), "three changes fit in the journal");
        add(&reg, vec![project("d", 5003)]);
        let text = std::fs::read_to_string(reg.path()).unwrap();
        assert!(
            text.starts_with("{\"version\":2,\"generation\":1,"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 6, "one project a line:\n{text}");
        assert_eq!(
            std::fs::read_to_string(reg.journal_path()).unwrap(),
            "{\"generation\":1}\n"
        );
        assert_eq!(names(&reg), ["a", "b", "c", "d"]);
        add(&reg, vec![project("e", 5004)]);
        assert_eq!(names(&reg), ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_journal_line_a_killed_writer_left_half_written_is_not_a_change() {
        let (_dir, reg) = registry();
        add(&reg, vec![project("a", 5000)]);
        append_to_journal(&reg, b"{\"put\":{\"name\":\"zz\",\"po");
        assert_eq!(names(&reg), ["a"]);
        add(&reg, vec![project("b", 5001)]);
        assert_eq!(names(&reg), ["a", "b"]);
        let journal = std::fs::read_to_string(reg.journal_path()).unwrap();
        assert!(!journal.contains("zz"), "{journal}");
    }

    #[test]
    fn a_journal_older_than_the_snapshot_is_ignored() {
        let (_dir, reg) = registry();
        add(&reg, vec![project("a", 5000)]);
        let old_journal = std::fs::read(reg.journal_path()).unwrap();
        reg.update(|ps| {
            ps.push(project("b", 5001));
            Ok((true, ()))
        })
        .unwrap();
        // As after a crash between the new snapshot and the new journal.
        std::fs::write(reg.journal_path(), &old_journal).unwrap();
        reg.update(|ps| {
            ps.retain(|p| p.name != "a");
            Ok((true, ()))
        })
        .unwrap();
        std::fs::write(reg.journal_path(), &old_journal).unwrap();
        assert_eq!(
            names(&reg),
            ["b"],
            "the old journal's put of 'a' is folded in already"
        );
        add(&reg, vec![project("c", 5002)]);
        assert_eq!(names(&reg), ["b", "c"]);
    }

    #[test]
    fn a_stale_or_broken_index_is_rebuilt() {
        let (_dir, reg) = registry();
        seed(&reg, vec![project("a", 5000), project("b", 5001)]);
        // An edit by hand that keeps the layout: the index no longer matches.
        let text = std::fs::read_to_string(reg.path()).unwrap();
        std::fs::write(reg.path(), text.replace("5001", "6001")).unwrap();
        reg.add_with(|r| {
            let b = r.summaries.iter().position(|s| s.name == "b").unwrap();
            assert_eq!(r.summaries[b].port, Some(6001));
            assert_eq!(r.ports_of(b).unwrap().port, Some(6001));
            Ok((Vec::new(), ()))
        })
        .unwrap();
        std::fs::write(&reg.index, b"{\"stamp\":").unwrap();
        reg.add_with(|r| {
            assert_eq!(r.summaries.len(), 2);
            Ok((Vec::new(), ()))
        })
        .unwrap();
    }

    #[test]
    fn add_reads_a_registry_edited_by_hand_and_rewrites_it_in_the_layout() {
        let (_dir, reg) = registry();
        std::fs::write(
            reg.path(),
            "{ \"projects\": [\n  { \"name\": \"z\",\n \"port\": 5009 } ],\n \"version\": 1 }",
        )
        .unwrap();
        reg.add_with(|r| {
            assert_eq!(r.summaries[0].port, Some(5009));
            Ok((vec![project("a", 5000)], ()))
        })
        .unwrap();
        assert_eq!(names(&reg), ["a", "z"]);
        let text = std::fs::read_to_string(reg.path()).unwrap();
        assert!(
            text.starts_with("{\"version\":2,\"generation\":1,"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    #[test]
    fn a_corrupt_journal_line_is_named() {
        let (_dir, reg) = registry();
        add(&reg, vec![project("a", 5000)]);
        append_to_journal(&reg, b"{\"put\":{\"port\":1}}\n");
        let err = format!("{:#}", reg.load().unwrap_err());
        assert!(err.contains("registry.journal is corrupt: line 3"), "{err}");
        let before = std::fs::read(reg.journal_path()).unwrap();
        assert!(
            reg.add_with(|_| Ok((vec![project("b", 5001)], ())))
                .is_err()
        );
        assert_eq!(std::fs::read(reg.journal_path()).unwrap(), before);
    }

    #[test]
    fn list_checks_a_snapshot_edited_by_hand_and_names_the_bad_line() {
        let (_dir, reg) = registry();
        seed(&reg, vec![project("a", 5000), project("b", 5001)]);
        let mut out = Vec::new();
        reg.write_raw(&mut out, false).unwrap();
        assert_eq!(
            serde_json::from_slice::<Vec<Project>>(&out).unwrap().len(),
            2
        );
        // Same layout, same length, one project broken.
        let text = std::fs::read_to_string(reg.path()).unwrap();
        std::fs::write(
            reg.path(),
            text.replacen("\"port\":5001", "\"port\":50 1", 1),
        )
        .unwrap();
        let mut out = Vec::new();
        let err = format!("{:#}", reg.write_raw(&mut out, false).unwrap_err());
        assert!(
            err.contains("registry.json is corrupt: line 3, column"),
            "{err}"
        );
        assert!(out.is_empty(), "nothing is written before the check");
    }

    #[test]
    fn an_invalid_project_in_the_snapshot_is_left_out_and_the_index_says_so() {
        let (_dir, reg) = registry();
        let mut bad = project("b", 5001);
        bad.domain = "\u{1b}[2J.test".into();
        seed(&reg, vec![project("a", 5000), bad, project("c", 5002)]);
        let index = std::fs::read(&reg.index).unwrap();
        assert_eq!(disk::index_head(&index).map(|(_, bad)| bad), Some(1));
        let mut out = Vec::new();
        reg.write_raw(&mut out, true).unwrap();
        let listed: Vec<Project> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        let valid: Vec<Project> = reg.load_valid().unwrap();
        assert_eq!(valid.len(), 2);
        // Port readers check the fields they read: its ports are fine.
        let ports: Vec<ProjectPorts> = reg.load_valid().unwrap();
        assert_eq!(ports.len(), 3);
        assert_eq!(reg.load().unwrap().len(), 3, "load (export, show) keeps it");
        // Once it is gone, the index vouches for the snapshot again.
        reg.update(|ps| {
            ps.retain(|p| p.name != "b");
            Ok((true, ()))
        })
        .unwrap();
        let index = std::fs::read(&reg.index).unwrap();
        assert_eq!(disk::index_head(&index).map(|(_, bad)| bad), Some(0));
    }

    #[test]
    fn update_project_journals_the_one_project_it_changes() {
        let (_dir, reg) = registry();
        seed(&reg, vec![project("a", 5000), project("b", 5001)]);
        let snapshot = std::fs::read(reg.path()).unwrap();
        reg.update_project("b", |p| {
            p.status = crate::model::Status::Running;
            Ok((true, ()))
        })
        .unwrap();
        assert_eq!(std::fs::read(reg.path()).unwrap(), snapshot);
        let all = reg.load().unwrap();
        assert_eq!(all[1].status, crate::model::Status::Running);
        assert_eq!(all[1].port, Some(5001));
        let err = reg.update_project("zz", |_| Ok((true, ()))).unwrap_err();
        assert!(format!("{err:#}").contains("no project named 'zz'"));
        let err = reg
            .update_project("a", |p| {
                p.name = "c".into();
                Ok((true, ()))
            })
            .unwrap_err();
        assert!(format!("{err:#}").contains("cannot rename"));
        assert_eq!(names(&reg), ["a", "b"]);
    }

    #[test]
    fn set_status_records_the_state_and_when_it_started() {
        let (_dir, reg) = registry();
        seed(&reg, vec![project("a", 5000)]);
        reg.set_status("a", crate::model::Status::Stopped).unwrap();
        let a = &reg.load().unwrap()[0];
        assert_eq!(a.status, crate::model::Status::Stopped);
        assert!(a.last_started.is_none());
        reg.set_status("a", crate::model::Status::Running).unwrap();
        let a = &reg.load().unwrap()[0];
        assert_eq!(a.status, crate::model::Status::Running);
        assert!(a.last_started.is_some());
        let err = reg
            .set_status("zz", crate::model::Status::Running)
            .unwrap_err();
        assert!(format!("{err:#}").contains("no project named 'zz'"));
    }
}
