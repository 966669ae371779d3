//! `dbdump`: back up, restore, list, reset and open a shell on a project's
//! PostgreSQL, MySQL or MariaDB database, in its container or by URL.
// Product names (PostgreSQL, MariaDB, MySQL) read better without backticks.
#![allow(clippy::doc_markdown)]

pub mod engine;
pub mod store;
pub mod swap;
pub mod target;

use std::io::{self, BufRead as _, IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, ResultExt as _, error_with_hint};
use berth::io::{OutputArgs, Row};
use berth::model::{Backup, Compression};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::engine::Family;
use crate::target::{Conn, Db};

const AFTER_HELP: &str = "\
Examples:
  dbdump backup                          back up the database of the project in this folder
  dbdump backup --project shop --name before-migration --compress gzip
  dbdump backup --url postgres://app@db.internal:5432/shop   (password from PGPASSWORD or the URL)
  dbdump list --json | jq -r '.[-1].file'
  dbdump restore --latest --yes          restore the newest backup (a safety backup is taken first)
  dbdump verify .berth/backups/20261121T222105Z.sql.zst
  dbdump prune --keep 10 --yes
  dbdump reset --seed --yes              empty database, then `php artisan migrate:fresh --seed` (Laravel)
  echo 'SELECT count(*) FROM users' | dbdump shell

Exit status:
  0  success
  1  verify found a damaged backup
  2  an error: bad usage, a damaged backup given to restore, a database or engine error";

/// Back up and restore a project's database (PostgreSQL, MySQL, MariaDB).
///
/// dbdump finds the project's database service (the registry, or the compose
/// files in the current folder), its engine (from the image), its credentials
/// (the service's environment and `.env`) and its container (compose labels),
/// and runs the dump program inside the container. Backups stream through
/// zstd or gzip into `.berth/backups/` in the project, under a temporary name
/// until complete, with a metadata file (`<backup>.json`: engine, server
/// version, database, size, SHA-256, compression) beside each. With `--url`
/// the local client programs are used against any server instead.
/// Passwords reach the clients through their environment (PGPASSWORD,
/// MYSQL_PWD), never their arguments.
#[derive(Debug, Parser)]
#[command(name = "dbdump", version, after_long_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Backup(BackupArgs),
    List(ListArgs),
    Restore(RestoreArgs),
    Reset(ResetArgs),
    Shell(ShellArgs),
    Prune(PruneArgs),
    Verify(VerifyArgs),
}

/// Which database: a project's (default: the current folder's) or a URL.
#[derive(Debug, Clone, Args)]
struct TargetArgs {
    /// The registered project (default: the project in the current folder).
    #[arg(long, short = 'p', value_name = "NAME")]
    project: Option<String>,
    /// The database service, when the project has more than one.
    #[arg(long, short = 's', value_name = "SERVICE", conflicts_with = "url")]
    service: Option<String>,
    /// A server instead of a project: postgres://, mysql:// or mariadb:// URL.
    ///
    /// The local client programs (pg_dump/psql, mariadb-dump/mariadb or
    /// mysqldump/mysql) are run against it. A password in the URL is handed
    /// to them through PGPASSWORD / MYSQL_PWD; without one, they read
    /// PGPASSWORD / MYSQL_PWD from dbdump's environment. DBDUMP_URL keeps a
    /// URL with a password out of the process list.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "project",
        env = "DBDUMP_URL",
        hide_env_values = true
    )]
    url: Option<String>,
    /// The database name, when the environment does not name it.
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// The backup folder (default: `.berth/backups` in the project, see
    /// `backup_dir` in config.yaml).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Where backups live, for commands that only read the folder.
#[derive(Debug, Clone, Args)]
struct DirArgs {
    /// The registered project (default: the project in the current folder).
    #[arg(long, short = 'p', value_name = "NAME")]
    project: Option<String>,
    /// The backup folder (default: `.berth/backups` in the project).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Take a backup.
///
/// Writes `<UTC timestamp>[-NAME].sql[.gz|.zst]` and its metadata file, and
/// prints the backup's path (or its Backup JSON with --json). The dump runs
/// in one transaction (pg_dump's snapshot, --single-transaction for MySQL
/// and MariaDB), so writes during the backup never tear it.
#[derive(Debug, Args)]
struct BackupArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// A label for the backup, appended to its file name.
    #[arg(long, short = 'n', value_name = "LABEL")]
    name: Option<String>,
    /// Compression of the backup file.
    #[arg(long, short = 'c', value_name = "KIND", default_value = "zstd", value_parser = ["zstd", "gzip", "none"])]
    compress: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// List the backups: date, size, engine, label.
#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    dir: DirArgs,
    #[command(flatten)]
    output: OutputArgs,
}

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
struct RestoreArgs {
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

/// Replace the database with an empty one, then run the framework's migrations.
///
/// After the empty database is swapped in: Laravel runs `php artisan
/// migrate:fresh --force [--seed]`, Django `python3 manage.py migrate`
/// (`python` when the container has no `python3`), WordPress gets the
/// latest backup re-imported when there is one; in the project's
/// application container. The stack comes from the registry, or from the
/// project's files (artisan, manage.py, wp-config.php). The step is checked
/// to run (`<interpreter> <script> --version`) before anything changes; a
/// safety backup (label `pre-reset`) is taken, and the old database is kept
/// aside until the step succeeded: when it fails, the old database is put
/// back and dbdump exits 2.
#[derive(Debug, Args)]
struct ResetArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Seed the database after migrating (Laravel).
    #[arg(long)]
    seed: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Do not take a safety backup first.
    #[arg(long)]
    no_safety_backup: bool,
}

/// Open the database's interactive client (psql, mariadb, mysql).
///
/// Runs `docker exec -it` with the password in the client's environment;
/// with stdin not a terminal, SQL is read from stdin, the client stops at
/// the first failing statement and dbdump exits 2.
#[derive(Debug, Args)]
struct ShellArgs {
    #[command(flatten)]
    target: TargetArgs,
}

/// Delete all but the newest N backups.
///
/// Only regular files in the backup folder count as backups: a symbolic
/// link there (a cloned repository can ship one) is skipped, never followed
/// or deleted.
#[derive(Debug, Args)]
struct PruneArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// How many backups to keep (the newest).
    #[arg(long, value_name = "N")]
    keep: usize,
    /// Show what would be deleted without deleting it.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Check a backup: checksum, decompression, completeness. Exit 1 when damaged.
#[derive(Debug, Args)]
struct VerifyArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Backup(a) => backup(&a),
        Command::List(a) => list(&a),
        Command::Restore(a) => restore(&a),
        Command::Reset(a) => reset(&a),
        Command::Shell(a) => shell(&a),
        Command::Prune(a) => prune(&a),
        Command::Verify(a) => verify(&a),
    }
}

/// A backup as a table row.
#[derive(Serialize)]
#[serde(transparent)]
struct Listed(Backup);

impl Row for Listed {
    fn headers() -> &'static [&'static str] {
        &[
            "CREATED",
            "NAME",
            "ENGINE",
            "DATABASE",
            "SIZE",
            "COMPRESSION",
            "FILE",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let b = &self.0;
        vec![
            b.created_at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            b.name.clone().unwrap_or_default(),
            b.engine.clone(),
            b.database.clone(),
            human_size(b.size),
            b.compression.to_string(),
            b.file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ]
    }
}

fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn progress(what: &str, total: Option<u64>) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let target = indicatif::ProgressDrawTarget::stderr();
    let (bar, template) = match total {
        Some(t) => (
            indicatif::ProgressBar::with_draw_target(Some(t), target),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {elapsed}",
        ),
        None => (
            indicatif::ProgressBar::with_draw_target(None, target),
            "{spinner} {msg} {bytes} {binary_bytes_per_sec} {elapsed}",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// SIGINT and SIGTERM set a flag while this lives; a second one kills at once.
struct Signals {
    flag: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    fn catch() -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Ok(id) = signal_hook::flag::register_conditional_default(sig, Arc::clone(&flag))
            {
                ids.push(id);
            }
            if let Ok(id) = signal_hook::flag::register(sig, Arc::clone(&flag)) {
                ids.push(id);
            }
        }
        Self { flag, ids }
    }

    fn raised(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

pub(crate) fn note(message: impl std::fmt::Display) {
    let _ = writeln!(io::stderr(), "dbdump: {message}");
}

/// The database and the backup folder a command works on.
fn resolve(t: &TargetArgs) -> anyhow::Result<(Db, PathBuf)> {
    if let Some(url) = &t.url {
        let mut db = target::from_url(url)?;
        if let Some(name) = &t.database {
            db.creds.database.clone_from(name);
        }
        let dir = target::backup_dir(t.dir.as_deref(), None)?;
        return Ok((db, dir));
    }
    let p = target::project(t.project.as_deref())?;
    let dir = target::backup_dir(t.dir.as_deref(), Some(&p))?;
    let db = target::from_project(&p, t.service.as_deref(), t.database.as_deref())?;
    Ok((db, dir))
}

fn resolve_dir(d: &DirArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &d.dir {
        return Ok(dir.clone());
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let canon = std::fs::canonicalize(&cwd).unwrap_or_else(|_| cwd.clone());
    if d.project.is_some() || has_compose(&cwd) || target::registered_at(&canon).is_some() {
        let p = target::project(d.project.as_deref())?;
        return target::backup_dir(None, Some(&p));
    }
    // Not a project's folder: the backups `--url` runs left here, if any.
    let dir = target::backup_dir(None, None)?;
    if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        return Ok(dir);
    }
    Err(error_with_hint(
        format!(
            "no project in {}: it has no compose file, is no registered project's folder, and has no {}",
            cwd.display(),
            dir.display()
        ),
        "choose the project with --project NAME (`registry list` shows them), or the backup folder with --dir DIR",
    ))
}

fn has_compose(dir: &Path) -> bool {
    berth::compose::CANDIDATES
        .iter()
        .any(|c| dir.join(c).is_file())
}

/// Dump output travels to the writer thread in batches of this size.
const BATCH: usize = 256 * 1024;

/// Dump the database into a new backup in `dir`.
fn take_backup(
    db: &Db,
    dir: &Path,
    label: Option<&str>,
    compression: Compression,
) -> anyhow::Result<Backup> {
    let version = db.server_version()?;
    let engine = engine::engine_from_version(db.family, &version);
    let nb = store::NewBackup {
        dir,
        label,
        compression,
        project: db.project.clone(),
        engine: engine.as_str().to_owned(),
        server_version: version,
        database: db.creds.database.clone(),
        trailer: engine::Client::trailer(db.family),
    };
    let mut writer = store::Writer::create(&nb)?;
    // Ctrl-C (or SIGTERM) ends the dump cleanly: the temp file is removed.
    // A second Ctrl-C kills at once; the hidden temp file is never listed.
    let signals = Signals::catch();
    let stop = Arc::clone(&signals.flag);
    let bar = progress(&format!("backing up {}", db.creds.database), None);
    let argv = db.client.dump_argv(&db.creds, Some(engine));
    // Compression, hashing and writing run on their own thread, so reading
    // the dump never waits for them. Output frames are small (a few KiB):
    // they travel in batches of 256 KiB, at most 8 batches in flight.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
    let worker = std::thread::spawn(move || -> io::Result<store::Writer> {
        for chunk in rx {
            writer.write_chunk(&chunk)?;
        }
        Ok(writer)
    });
    let mut batch: Vec<u8> = Vec::with_capacity(BATCH + 64 * 1024);
    let mut sink = |chunk: &[u8]| -> io::Result<()> {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        batch.extend_from_slice(chunk);
        if batch.len() >= BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH + 64 * 1024));
            tx.send(full)
                .map_err(|_| io::Error::other("the backup file cannot be written"))?;
        }
        if let Some(b) = &bar {
            b.inc(chunk.len() as u64);
        }
        Ok(())
    };
    let ran = db.conn.stream(&argv, &db.env(), None, &mut sink);
    if !batch.is_empty() {
        let _ = tx.send(std::mem::take(&mut batch));
    }
    drop(tx);
    drop(signals);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let failed = || {
        format!(
            "backup of database {} failed; nothing was written",
            db.creds.database
        )
    };
    let writer = match worker.join() {
        Ok(w) => w
            .with_context(|| format!("cannot write {}", nb.dir.display()))
            .with_context(failed)?,
        Err(_) => bail!("{}: the writer thread panicked", failed()),
    };
    let ran = ran.with_context(failed)?;
    if !ran.success() {
        return Err(ran.error(&format!("{} in {}", argv[0], db.conn.describe())))
            .with_context(failed);
    }
    let raw = writer.raw_bytes;
    let backup = writer.commit(&nb).with_context(failed)?;
    note(format!(
        "backed up {} ({} of SQL) to {} ({})",
        db.creds.database,
        human_size(raw),
        backup.file.display(),
        human_size(backup.size)
    ));
    Ok(backup)
}

fn backup(a: &BackupArgs) -> anyhow::Result<Outcome> {
    if let Some(l) = &a.name {
        store::validate_label(l)?;
    }
    let compression: Compression = a.compress.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let (db, dir) = resolve(&a.target)?;
    swap::Guard::recover_if_idle(&db);
    let b = take_backup(&db, &dir, a.name.as_deref(), compression)?;
    if a.output.is_json() {
        berth::io::write_json(&b)?;
    } else {
        let mut out = berth::io::stdout();
        writeln!(out, "{}", b.file.display())?;
        out.flush()?;
    }
    Ok(Outcome::Clean)
}

fn list(a: &ListArgs) -> anyhow::Result<Outcome> {
    let dir = resolve_dir(&a.dir)?;
    let items: Vec<Listed> = store::list(&dir)?.into_iter().map(Listed).collect();
    berth::io::write_list(a.output.format(), &items)?;
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
fn latest(dir: &Path) -> anyhow::Result<PathBuf> {
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
fn check_backup(file: &Path) -> anyhow::Result<store::Verified> {
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

/// Load `file` (when given) into the guard's fresh scratch database. On a
/// failure or a signal the scratch database is dropped and the live one
/// was never touched.
fn load_scratch(
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

fn where_(db: &Db) -> String {
    match (&db.project, &db.creds.host) {
        (Some(p), _) => format!("project {p}"),
        (None, Some(h)) => format!(
            "{h}:{}",
            db.creds.port.map_or_else(String::new, |p| p.to_string())
        ),
        _ => String::new(),
    }
}

fn restore(a: &RestoreArgs) -> anyhow::Result<Outcome> {
    // Pick and check the file before reaching for the database.
    let dir_guess = if a.target.url.is_some() {
        target::backup_dir(a.target.dir.as_deref(), None)?
    } else if a.file.is_none() {
        let p = target::project(a.target.project.as_deref())?;
        target::backup_dir(a.target.dir.as_deref(), Some(&p))?
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
    if !berth::cli::confirm(&question, a.yes)? {
        note("nothing changed");
        return Ok(Outcome::Clean);
    }
    let guard = swap::Guard::acquire(&db)?;
    let signals = Signals::catch();
    if !a.no_safety_backup {
        take_backup(&db, &dir, Some(store::RESTORE_LABEL), Compression::Zstd)
            .context("safety backup failed; nothing was changed")?;
    }
    if signals.raised() {
        bail!(
            "interrupted: database {} was left as it was",
            db.creds.database
        );
    }
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

/// The stack of a project: the registry's, else told by its files.
fn detect_stack(db: &Db) -> Option<String> {
    if let Some(s) = &db.stack {
        return Some(s.to_lowercase());
    }
    let dir = db.project_dir.as_ref()?;
    let has = |f: &str| dir.join(f).exists();
    if has("artisan") {
        Some("laravel".into())
    } else if has("manage.py") {
        Some("django".into())
    } else if has("wp-config.php") || has("wp-content") {
        Some("wordpress".into())
    } else {
        let compose = berth::compose::load_dir(dir).ok()?;
        compose
            .services
            .iter()
            .any(|s| s.image.as_deref().is_some_and(|i| i.contains("wordpress")))
            .then(|| "wordpress".into())
    }
}

/// The framework step after a reset, for stacks that have one: the
/// interpreters to try (the first that runs in the container is used), the
/// script and its arguments.
fn framework_command(stack: &str, seed: bool) -> Option<(&'static [&'static str], Vec<String>)> {
    let v = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match stack {
        "laravel" if seed => Some((
            &["php"],
            v(&["artisan", "migrate:fresh", "--force", "--seed"]),
        )),
        "laravel" => Some((&["php"], v(&["artisan", "migrate:fresh", "--force"]))),
        // Generated Django images have python3 only; some have python only.
        "django" => Some((
            &["python3", "python"],
            v(&["manage.py", "migrate", "--noinput"]),
        )),
        _ => None,
    }
}

/// The framework step, checked to run before anything is dropped.
struct AppStep {
    container: String,
    name: String,
    argv: Vec<String>,
}

/// The project's application container: running, not the database, not a
/// cache, mail catcher or proxy; a service named like an app first.
fn app_container<'a>(
    all: &'a [berth::docker::ContainerInfo],
    db_container: &str,
) -> Option<&'a berth::docker::ContainerInfo> {
    let preferred = ["app", "web", "php", "laravel", "django", "backend", "api"];
    let others = [
        "redis",
        "memcached",
        "mailpit",
        "mailhog",
        "nginx",
        "caddy",
        "traefik",
    ];
    let apps: Vec<_> = all
        .iter()
        .filter(|c| {
            c.state == "running"
                && c.id != db_container
                && engine::Engine::from_image(&c.image).is_none()
                && !others.iter().any(|x| c.image.contains(x))
        })
        .collect();
    apps.iter()
        .find(|c| preferred.contains(&c.service.as_str()))
        .or_else(|| apps.first())
        .copied()
}

/// Find the project's application container and check the step can run
/// there: `<interpreter> <script> --version` must succeed.
fn plan_step(db: &Db, interpreters: &[&str], args: &[String]) -> anyhow::Result<AppStep> {
    let shown = format!("{} {}", interpreters[0], args.join(" "));
    let Conn::Docker {
        rt,
        docker,
        container,
        ..
    } = &db.conn
    else {
        return Err(error_with_hint(
            format!(
                "the framework step `{shown}` needs the project's containers (not available with --url); nothing was changed"
            ),
            "run dbdump reset in the project's folder, or --project NAME",
        ));
    };
    let project = db.project.clone().unwrap_or_default();
    let all = rt.block_on(berth::docker::project_containers(
        docker,
        &[project.as_str()],
    ))?;
    let Some(app) = app_container(&all, container) else {
        return Err(error_with_hint(
            format!(
                "no running application container in project {project} to run `{shown}`; nothing was changed"
            ),
            "start the stack and run dbdump reset again, or run the command yourself",
        ));
    };
    let mut tried = Vec::new();
    for interp in interpreters {
        let probe = vec![
            (*interp).to_owned(),
            args[0].clone(),
            "--version".to_owned(),
        ];
        let mut sink = |_: &[u8]| Ok(());
        let r = rt.block_on(berth::docker::exec(
            docker,
            &app.id,
            &probe,
            &[],
            None,
            &mut sink,
        ));
        match r {
            Ok(r) if r.success() => {
                let mut command = vec![(*interp).to_owned()];
                command.extend(args.iter().cloned());
                return Ok(AppStep {
                    container: app.id.clone(),
                    name: app.name.clone(),
                    argv: command,
                });
            }
            Ok(r) => tried.push(format!(
                "`{}` exited with status {}{}",
                probe.join(" "),
                r.exit_code
                    .map_or_else(|| "unknown".into(), |c| c.to_string()),
                match r.stderr_text() {
                    t if t.is_empty() => String::new(),
                    t => format!(" ({})", t.lines().last().unwrap_or_default()),
                }
            )),
            Err(e) => tried.push(format!("`{}`: {e:#}", probe.join(" "))),
        }
    }
    Err(error_with_hint(
        format!(
            "the framework step cannot run in {}: {}; nothing was changed",
            app.name,
            tried.join("; ")
        ),
        "fix the application container (or run dbdump reset on a stack without a framework step)",
    ))
}

/// Run the framework's command in the project's application container.
fn run_step(db: &Db, step: &AppStep) -> anyhow::Result<()> {
    let Conn::Docker { rt, docker, .. } = &db.conn else {
        bail!("the framework step needs the project's containers");
    };
    note(format!(
        "running `{}` in {}",
        step.argv.join(" "),
        step.name
    ));
    let mut err = io::stderr();
    let mut sink = |b: &[u8]| err.write_all(b);
    let r = rt.block_on(berth::docker::exec(
        docker,
        &step.container,
        &step.argv,
        &[],
        None,
        &mut sink,
    ))?;
    let _ = io::stderr().write_all(&r.stderr);
    if !r.success() {
        bail!(
            "`{}` in {} exited with status {}",
            step.argv.join(" "),
            step.name,
            r.exit_code
                .map_or_else(|| "unknown".into(), |c| c.to_string())
        );
    }
    Ok(())
}

fn reset(a: &ResetArgs) -> anyhow::Result<Outcome> {
    let (db, dir) = resolve(&a.target)?;
    // What follows the drop is found and checked before anything changes.
    let mut reimport = None;
    let mut step = None;
    match detect_stack(&db).as_deref() {
        Some("wordpress") => {
            if let Ok(file) = latest(&dir) {
                check_backup(&file)?;
                reimport = Some(file);
            }
        }
        Some(s) => match framework_command(s, a.seed) {
            Some((interpreters, args)) => step = Some(plan_step(&db, interpreters, &args)?),
            None => note(format!("no framework step for stack {s}")),
        },
        None => {}
    }
    let question = format!(
        "drop and recreate database {} of {}",
        db.creds.database,
        where_(&db)
    );
    if !berth::cli::confirm(&question, a.yes)? {
        note("nothing changed");
        return Ok(Outcome::Clean);
    }
    let guard = swap::Guard::acquire(&db)?;
    let signals = Signals::catch();
    if !a.no_safety_backup {
        take_backup(&db, &dir, Some(store::RESET_LABEL), Compression::Zstd)
            .context("safety backup failed; nothing was changed")?;
    }
    if signals.raised() {
        bail!(
            "interrupted: database {} was left as it was",
            db.creds.database
        );
    }
    // The old database stays beside the new one until the step succeeded.
    load_scratch(&db, &guard, reimport.as_deref(), &signals)?;
    guard.swap_in(&db, swap::Op::Reset)?;
    match &reimport {
        Some(file) => note(format!("re-imported {}", file.display())),
        None => note(format!("database {} is empty", db.creds.database)),
    }
    if reimport.is_none() && detect_stack(&db).as_deref() == Some("wordpress") {
        note("no backup to re-import; WordPress will run its installer");
    }
    let ran = match &step {
        Some(step) => run_step(&db, step),
        None => Ok(()),
    };
    let ran = ran.and_then(|()| {
        if signals.raised() {
            bail!("interrupted")
        }
        Ok(())
    });
    match ran {
        Ok(()) => guard.finish(&db)?,
        Err(e) => {
            return Err(match guard.put_back(&db) {
                Ok(()) => e.context(format!(
                    "reset of database {} failed; the old database was put back as it was",
                    db.creds.database
                )),
                Err(u) => e.context(format!(
                    "reset of database {} failed, and putting the old database back failed too ({u:#}); the next dbdump run puts it back",
                    db.creds.database
                )),
            });
        }
    }
    Ok(Outcome::Clean)
}

fn shell(a: &ShellArgs) -> anyhow::Result<Outcome> {
    let (db, _) = resolve(&a.target)?;
    swap::Guard::recover_if_idle(&db);
    let interactive = io::stdin().is_terminal();
    let argv = db.client.shell_argv(&db.creds, !interactive);
    let program = argv[0].clone();
    let var = db.client.password_var();
    let cmd = match &db.conn {
        Conn::Docker { container, .. } => {
            let mut dargs: Vec<String> = vec!["exec".into(), "-i".into()];
            if interactive && io::stdout().is_terminal() {
                dargs.push("-t".into());
            }
            if db.creds.password.is_some() {
                // `-e NAME` without a value: docker takes the value from its own environment.
                dargs.extend(["-e".into(), var.to_owned()]);
            }
            dargs.push(container.clone());
            dargs.extend(argv);
            duct::cmd("docker", dargs)
        }
        Conn::Local => duct::cmd(&argv[0], &argv[1..]),
    };
    let cmd = match &db.creds.password {
        Some(p) => cmd.env(var, p),
        None => cmd,
    };
    let out = cmd
        .unchecked()
        .run()
        .context("cannot start the database shell")
        .hint("is the docker CLI (or the client program) installed?")?;
    if !out.status.success() {
        return Err(error_with_hint(
            format!(
                "the database shell ({program}) exited with status {}",
                out.status.code().unwrap_or(-1)
            ),
            if interactive {
                "see the client's message above"
            } else {
                "the client stopped at the first failing statement (its message is above)"
            },
        ));
    }
    Ok(Outcome::Clean)
}

fn prune(a: &PruneArgs) -> anyhow::Result<Outcome> {
    let dir = resolve_dir(&a.dir)?;
    let all = store::list(&dir)?;
    let n = all.len().saturating_sub(a.keep);
    let doomed: Vec<Backup> = all.into_iter().take(n).collect();
    if !a.dry_run && !doomed.is_empty() {
        let q = format!(
            "delete {} backup(s) in {}, keeping the newest {}",
            doomed.len(),
            dir.display(),
            a.keep
        );
        if !berth::cli::confirm(&q, a.yes)? {
            note("nothing deleted");
            return Ok(Outcome::Clean);
        }
        for b in &doomed {
            store::remove(b)?;
        }
    }
    let items: Vec<Listed> = doomed.into_iter().map(Listed).collect();
    if a.output.is_json() || a.output.format.is_some() {
        berth::io::write_list(a.output.format(), &items)?;
    } else {
        let mut out = berth::io::stdout();
        for b in &items {
            writeln!(out, "{}", b.0.file.display())?;
        }
        out.flush()?;
        note(format!(
            "{} {} backup(s)",
            if a.dry_run { "would delete" } else { "deleted" },
            items.len()
        ));
    }
    Ok(Outcome::Clean)
}

fn verify(a: &VerifyArgs) -> anyhow::Result<Outcome> {
    let file = store::check_file_arg(&a.file)?;
    let bar = progress("verifying", None);
    let v = store::verify(&file, bar.as_ref());
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let v = v?;
    if a.output.is_json() {
        berth::io::write_json(&v)?;
    } else {
        let mut out = berth::io::stdout();
        if v.ok {
            writeln!(
                out,
                "{}: ok ({}, {}, {} of SQL{})",
                v.file.display(),
                v.compression,
                human_size(v.size),
                human_size(v.sql_bytes),
                if v.has_metadata {
                    ", checksum matches"
                } else {
                    ", no metadata"
                }
            )?;
        } else {
            writeln!(
                out,
                "{}: DAMAGED: {}",
                v.file.display(),
                v.problems.join("; ")
            )?;
        }
        out.flush()?;
    }
    Ok(if v.ok { Outcome::Clean } else { Outcome::Found })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_steps() {
        let (i, a) = framework_command("laravel", true).unwrap();
        assert_eq!(
            (i, a.join(" ").as_str()),
            (&["php"][..], "artisan migrate:fresh --force --seed")
        );
        let (i, a) = framework_command("django", false).unwrap();
        assert_eq!(
            (i, a.join(" ").as_str()),
            (&["python3", "python"][..], "manage.py migrate --noinput")
        );
        assert!(framework_command("node", false).is_none());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
