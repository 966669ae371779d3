//! `dbdump prune`: delete all but the newest N backups (regular files only).

use std::io::Write as _;

use berth::cli::Outcome;
use berth::io::OutputArgs;
use berth::model::Backup;
use clap::Args;

use crate::list::Listed;
use crate::{DirArgs, note, resolve_dir, store};

/// Delete all but the newest N backups.
///
/// Only regular files in the backup folder count as backups: a symbolic
/// link there (a cloned repository can ship one) is skipped, never followed
/// or deleted.
#[derive(Debug, Args)]
pub struct PruneArgs {
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

pub fn run(a: &PruneArgs) -> anyhow::Result<Outcome> {
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
