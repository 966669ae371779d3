//! `dbdump restore`: check a backup whole, take a safety backup, load the dump
//! into a scratch database and swap it in; the loading steps reset shares.

use std::io::{self, BufRead as _, IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint};
use berth::io::Row as _;
use berth::model::{Backup, Compression};
use clap::Args;

use crate::backup::take_backup;
use crate::engine::{self, Family};
use crate::list::Listed;
use crate::signals::Signals;
use crate::target::{self, Db};
use crate::{TargetArgs, note, progress, resolve, store, swap};

/// Restore a backup over the database.
///
/// Before the database is touched the whole file is read: its SHA-256 is
/// compared with the metadata and it is decompressed (by its magic bytes,
/// not its name) to nowhere, and the dump must end with its completion
/// line; a damaged backup changes nothing and exits 2. Then a safety backup
/// (label `pre-restore`) is taken and the dump is loaded into a scratch
/// database beside the live one (`<db>__dbdump_new`). Only when the load
/// completed is it swapped in: PostgreSQL renames both databases in one
/// transaction; MySQL and MariaDB move every table in one `RENAME TABLE`
/// and recreate the views, triggers and routines just after (the one short
/// window, printed as "swapped in N ms"). A journal written before the swap
/// lets the next dbdump run finish a swap that was killed; SIGINT or SIGTERM
/// during the load stop the restore with the old database in place.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The backup file (default: pick from a list on a terminal).
    #[arg(value_name = "FILE", conflicts_with = "latest")]
    file: Option<PathBuf>,
    /// Restore the newest backup (safety backups are skipped).
    #[arg(long)]
    latest: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Do not take a safety backup first.
    #[arg(long)]
    no_safety_backup: bool,
}

pub fn run(a: &RestoreArgs) -> anyhow::Result<Outcome> {
    // Pick and check the file before reaching for the database.
    let dir_guess = if a.target.url.is_some() {
        target::backup_dir(a.target.backup_dir.as_deref(), None)?
    } else if a.file.is_none() {
        let p = a.target.project_ref()?;
        target::backup_dir(a.target.backup_dir.as_deref(), Some(&p))?
    } else {
        PathBuf::new()
    };
    let file = match (&a.file, a.latest) {
        (Some(f), _) => store::check_file_arg(f)?,
        (None, true) => latest(&dir_guess)?,
        (None, false) => {
            if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
                return Err(error_with_hint(
                    "no backup named",
                    "name a FILE, or pass --latest",
                ));
            }
            let all = store::list(&dir_guess)?;
            if all.is_empty() {
                return Err(error_with_hint(
                    format!("no backups in {}", dir_guess.display()),
                    "take one with `dbdump backup`",
                ));
            }
            pick(&all)?
        }
    };
    check_backup(&file)?;
    let meta = store::read_meta(&file)?;
    let (db, dir) = resolve(&a.target)?;
    if let Some(m) = &meta {
        let fam = engine::Engine::from_scheme(&m.engine).map(engine::Engine::family);
        if fam.is_some_and(|f| f != db.family) {
            return Err(error_with_hint(
                format!(
                    "backup {} is a {} dump; the database {} is {}",
                    file.display(),
                    m.engine,
                    db.creds.database,
                    db.engine.as_str()
                ),
                "restore it into a database of the same engine",
            ));
        }
    }
    let question = format!(
        "replace database {} of {} with {}",
        db.creds.database,
        where_(&db),
        file.display()
    );
    let Some((guard, signals)) = begin(
        &db,
        &dir,
        &question,
        a.yes,
        (!a.no_safety_backup).then_some(store::RESTORE_LABEL),
    )?
    else {
        return Ok(Outcome::Clean);
    };
    load_scratch(&db, &guard, Some(&file), &signals)?;
    // From here on the swap runs to its end; a signal waits for it.
    let took = guard.swap_in(&db, swap::Op::Restore)?;
    note(format!(
        "restored {} into database {} (swapped in {} ms)",
        file.display(),
        db.creds.database,
        took.as_millis()
    ));
    Ok(Outcome::Clean)
}

/// Ask which backup to restore, on a terminal.
fn pick(backups: &[Backup]) -> anyhow::Result<PathBuf> {
    let mut err = io::stderr();
    for (i, b) in backups.iter().enumerate().rev() {
        let row = Listed(b.clone()).cells();
        writeln!(
            err,
            "{:>3}) {}  {:<20} {:>10}  {}",
            i + 1,
            row[0],
            row[1],
            row[4],
            row[6]
        )?;
    }
    write!(err, "restore which backup? [1-{}] ", backups.len())?;
    err.flush()?;
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    match line.trim().parse::<usize>() {
        Ok(n) if (1..=backups.len()).contains(&n) => Ok(backups[n - 1].file.clone()),
        _ => bail!("no backup picked ('{}')", line.trim()),
    }
}

/// The newest backup that is not a safety backup.
pub(crate) fn latest(dir: &Path) -> anyhow::Result<PathBuf> {
    store::list(dir)?
        .into_iter()
        .rev()
        .find(|b| !store::is_safety(b))
        .map(|b| b.file)
        .ok_or_else(|| {
            error_with_hint(
                format!("no backups in {}", dir.display()),
                "take one with `dbdump backup`",
            )
        })
}

/// Read the whole backup before anything changes; a damaged file is an error.
pub(crate) fn check_backup(file: &Path) -> anyhow::Result<store::Verified> {
    let bar = progress("checking", None);
    let v = store::verify(file, bar.as_ref());
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let v = v?;
    if !v.ok {
        return Err(error_with_hint(
            format!(
                "backup {} is damaged: {}",
                file.display(),
                v.problems.join("; ")
            ),
            "nothing was changed; pick another backup (`dbdump list`)",
        ));
    }
    if !v.has_metadata {
        berth::cli::warn(
            "dbdump",
            format!(
                "{} has no metadata file: its checksum cannot be checked (it decompresses and is complete)",
                file.display()
            ),
        );
    }
    Ok(v)
}

/// Stream a checked backup into `database` (a fresh scratch database).
/// A raised `stop` ends the input early (the caller discards the database).
fn load(db: &Db, file: &Path, database: &str, stop: &AtomicBool) -> anyhow::Result<()> {
    let (_, sql) = store::open_sql(file)?;
    let bar = progress(&format!("restoring {}", db.creds.database), None);
    let counted = Counted {
        inner: sql,
        bar: bar.clone(),
    };
    // PostgreSQL loads in one transaction: all or nothing.
    let input: Box<dyn Read + Send> = match db.family {
        Family::Postgres => Box::new(
            io::Cursor::new(b"BEGIN;\n".to_vec())
                .chain(counted)
                .chain(io::Cursor::new(b"\nCOMMIT;\n".to_vec())),
        ),
        Family::MySql => Box::new(counted),
    };
    // On a signal the client sees its input end (before PostgreSQL's COMMIT).
    let mut input = Stoppable { inner: input, stop };
    let argv = db.client.load_argv(&db.creds, database);
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| {
        if out.len() < 64 * 1024 {
            out.extend_from_slice(b);
        }
        Ok(())
    };
    let ran = db
        .conn
        .stream(&argv, &db.env(), Some(&mut input), &mut sink);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let ran = ran?;
    if !ran.success() {
        return Err(ran.error(&format!("{} in {}", argv[0], db.conn.describe())));
    }
    Ok(())
}

struct Stoppable<'a> {
    inner: Box<dyn Read + Send>,
    stop: &'a AtomicBool,
}

impl Read for Stoppable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

struct Counted {
    inner: Box<dyn Read + Send>,
    bar: Option<indicatif::ProgressBar>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

/// What a destructive step does before it touches the database: ask (None
/// when the user said no), take the database's lock, catch signals, take the
/// safety backup (`label`, unless left out), and stop cleanly if a signal
/// came meanwhile.
pub(crate) fn begin(
    db: &Db,
    dir: &std::path::Path,
    question: &str,
    yes: bool,
    safety_label: Option<&str>,
) -> anyhow::Result<Option<(swap::Guard, Signals)>> {
    if !berth::cli::confirm(question, yes)? {
        note("nothing changed");
        return Ok(None);
    }
    let guard = swap::Guard::acquire(db)?;
    let signals = Signals::catch();
    if let Some(label) = safety_label {
        take_backup(db, dir, Some(label), Compression::Zstd)
            .context("safety backup failed; nothing was changed")?;
    }
    if signals.raised() {
        bail!(
            "interrupted: database {} was left as it was",
            db.creds.database
        );
    }
    Ok(Some((guard, signals)))
}

/// Load `file` (when given) into the guard's fresh scratch database. On a
/// failure or a signal the scratch database is dropped and the live one
/// was never touched.
pub(crate) fn load_scratch(
    db: &Db,
    guard: &swap::Guard,
    file: Option<&Path>,
    signals: &Signals,
) -> anyhow::Result<()> {
    let loaded = guard.prepare(db).and_then(|()| match file {
        Some(f) => load(db, f, &guard.new, &signals.flag)
            .with_context(|| format!("loading {} failed", f.display())),
        None => Ok(()),
    });
    let interrupted = signals.raised();
    if (loaded.is_err() || interrupted)
        && let Err(e) = guard.discard(db)
    {
        berth::cli::warn("dbdump", format!("{e:#}"));
    }
    if interrupted {
        bail!(
            "interrupted: database {} was left as it was",
            db.creds.database
        );
    }
    loaded.with_context(|| format!("database {} was left as it was", db.creds.database))
}

pub(crate) fn where_(db: &Db) -> String {
    match (&db.project, &db.creds.host) {
        (Some(p), _) => format!("project {p}"),
        (None, Some(h)) => format!(
            "{h}:{}",
            db.creds.port.map_or_else(String::new, |p| p.to_string())
        ),
        _ => String::new(),
    }
}
