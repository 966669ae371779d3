//! `dbdump backup`: dump the database through zstd or gzip into a new backup
//! file with its metadata, written under a temporary name until complete.

use std::io::{self, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context as _, bail};
use berth::cli::Outcome;
use berth::io::JsonArgs;
use berth::model::{Backup, Compression};
use clap::Args;

use crate::list::human_size;
use crate::signals::Signals;
use crate::target::Db;
use crate::{TargetArgs, engine, note, progress, resolve, store, swap};

/// Take a backup.
///
/// Writes `<UTC timestamp>[-NAME].sql[.gz|.zst]` and its metadata file, and
/// prints the backup's path (or its Backup JSON with --json). The dump runs
/// in one transaction (pg_dump's snapshot, --single-transaction for MySQL
/// and MariaDB), so writes during the backup never tear it.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// A label for the backup, appended to its file name.
    #[arg(
        long = "label",
        alias = "name",
        short_alias = 'n',
        value_name = "LABEL"
    )]
    name: Option<String>,
    /// Compression of the backup file.
    #[arg(long, short = 'c', value_name = "KIND", default_value = "zstd", value_parser = ["zstd", "gzip", "none"])]
    compress: String,
    #[command(flatten)]
    output: JsonArgs,
}

/// Dump output travels to the writer thread in batches of this size.
const BATCH: usize = 256 * 1024;

/// Dump the database into a new backup in `dir`.
pub fn take_backup(
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

pub fn run(a: &BackupArgs) -> anyhow::Result<Outcome> {
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
