//! `cargo run -p xtask -- --mode write|check`: regenerate or check man pages, completions and JSON Schemas.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Generate man pages, shell completions and JSON Schemas")]
struct Args {
    /// write: regenerate the files; check: exit 1 when a committed file is stale.
    #[arg(long, value_parser = ["write", "check"], default_value = "check")]
    mode: String,
    /// The workspace root.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/.."))]
    root: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.mode == "write" {
        match xtask::write(&args.root) {
            Ok(n) => {
                eprintln!("generated man pages, completions and schemas ({n} file(s) changed)");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: error: {e}");
                ExitCode::from(2)
            }
        }
    } else {
        let stale = xtask::stale(&args.root);
        for s in &stale {
            eprintln!("stale: {}", s.display());
        }
        if stale.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}
