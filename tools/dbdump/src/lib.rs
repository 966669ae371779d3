//! `dbdump`: back up, restore, list, reset and open a shell on a project's
//! PostgreSQL, MySQL or MariaDB database, in its container or by URL.
// Product names (PostgreSQL, MariaDB, MySQL) read better without backticks.
#![allow(clippy::doc_markdown)]

mod backup;
pub mod fingerprint;
pub use backup::take_backup;
pub mod engine;
mod list;
pub mod password;
mod prune;
mod reset;
mod restore;
mod shell;
mod signals;
pub mod store;
pub mod swap;
pub mod target;
mod verify;

use std::io::{self, IsTerminal as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::cli::{Outcome, error_with_hint};
use clap::{Args, Parser, Subcommand};

use crate::target::Db;

const AFTER_HELP: &str = "\
Examples:
  dbdump backup                          back up the database of the project in this folder
  dbdump backup --project shop --label before-migration --compress gzip
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
    Backup(backup::BackupArgs),
    List(list::ListArgs),
    Restore(restore::RestoreArgs),
    Reset(reset::ResetArgs),
    Shell(shell::ShellArgs),
    Prune(prune::PruneArgs),
    Verify(verify::VerifyArgs),
}

/// Which database: a project's (default: the current folder's) or a URL.
#[derive(Debug, Clone, Args)]
struct TargetArgs {
    /// The registered project (default: the project in the current folder).
    #[arg(long, short_alias = 'p', value_name = "NAME")]
    project: Option<String>,
    /// The project folder (default: the current folder): its registry entry,
    /// else its compose project.
    #[arg(
        long,
        short,
        value_name = "DIR",
        conflicts_with_all = ["project", "url"]
    )]
    dir: Option<PathBuf>,
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
    backup_dir: Option<PathBuf>,
}

impl TargetArgs {
    /// The project `--project`, `--dir` or the current folder names.
    fn project_ref(&self) -> anyhow::Result<target::ProjectRef> {
        target::project(self.project.as_deref(), self.dir.as_deref())
    }
}

/// Where backups live, for commands that only read the folder.
#[derive(Debug, Clone, Args)]
struct DirArgs {
    /// The registered project (default: the project in the current folder).
    #[arg(long, short_alias = 'p', value_name = "NAME")]
    project: Option<String>,
    /// The project folder (default: the current folder).
    #[arg(long, short, value_name = "DIR", conflicts_with = "project")]
    dir: Option<PathBuf>,
    /// The backup folder (default: `.berth/backups` in the project).
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Backup(a) => backup::run(&a),
        Command::List(a) => list::run(&a),
        Command::Restore(a) => restore::run(&a),
        Command::Reset(a) => reset::run(&a),
        Command::Shell(a) => shell::run(&a),
        Command::Prune(a) => prune::run(&a),
        Command::Verify(a) => verify::run(&a),
    }
}

fn progress(what: &str, total: Option<u64>) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() || berth::cli::is_quiet() {
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

pub(crate) fn note(message: impl std::fmt::Display) {
    berth::cli::info(message);
}

/// The database and the backup folder a command works on.
fn resolve(t: &TargetArgs) -> anyhow::Result<(Db, PathBuf)> {
    if let Some(url) = &t.url {
        let mut db = target::from_url(url)?;
        if let Some(name) = &t.database {
            db.creds.database.clone_from(name);
        }
        let dir = target::backup_dir(t.backup_dir.as_deref(), None)?;
        return Ok((db, dir));
    }
    let p = t.project_ref()?;
    let dir = target::backup_dir(t.backup_dir.as_deref(), Some(&p))?;
    let db = target::from_project(&p, t.service.as_deref(), t.database.as_deref())?;
    Ok((db, dir))
}

fn resolve_dir(d: &DirArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &d.backup_dir {
        return Ok(dir.clone());
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let canon = std::fs::canonicalize(&cwd).unwrap_or_else(|_| cwd.clone());
    if d.project.is_some()
        || d.dir.is_some()
        || has_compose(&cwd)
        || target::registered_at(&canon).is_some()
    {
        let p = target::project(d.project.as_deref(), d.dir.as_deref())?;
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
        "choose the project with --project NAME (`registry list` shows them) or --dir DIR, or the backup folder with --backup-dir DIR",
    ))
}

fn has_compose(dir: &Path) -> bool {
    berth::compose::CANDIDATES
        .iter()
        .any(|c| dir.join(c).is_file())
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("backup-verify", berth::schema::of::<store::Verified>())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
