//! `dbdump verify`: read a backup whole (checksum, decompression, completion
//! line); exit 1 when it is damaged.

use std::io::Write as _;
use std::path::PathBuf;

use berth::cli::Outcome;
use berth::io::JsonArgs;
use clap::Args;

use crate::list::human_size;
use crate::{progress, store};

/// Check a backup: checksum, decompression, completeness. Exit 1 when damaged.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    output: JsonArgs,
}

pub fn run(a: &VerifyArgs) -> anyhow::Result<Outcome> {
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
