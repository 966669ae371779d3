//! `dbdump list`: the backups in the backup folder, as a table or JSON; the
//! table row of a backup that prune and restore's picker show too.

use berth::cli::Outcome;
use berth::io::{OutputArgs, Row};
use berth::model::Backup;
use clap::Args;
use serde::Serialize;

use crate::{DirArgs, resolve_dir, store};

/// List the backups: date, size, engine, label.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    dir: DirArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(a: &ListArgs) -> anyhow::Result<Outcome> {
    let dir = resolve_dir(&a.dir)?;
    let items: Vec<Listed> = store::list(&dir)?.into_iter().map(Listed).collect();
    berth::io::write_list(a.output.format(), &items)?;
    Ok(Outcome::Clean)
}

/// A backup as a table row.
#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct Listed(pub(crate) Backup);

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

pub(crate) fn human_size(n: u64) -> String {
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
