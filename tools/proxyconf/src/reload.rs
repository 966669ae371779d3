//! `proxyconf reload`: have Caddy validate a configuration, then load it into
//! the running Caddy through its admin API. A configuration Caddy rejects is
//! never sent to the running server.

use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::Context as _;
use berth::cli::{Outcome, error_with_hint};

/// Validate a Caddy configuration with Caddy itself, then reload the running Caddy with it.
///
/// Runs `caddy validate` (which loads and provisions every module, the
/// certificate files included) and only when that passes `caddy reload`.
/// Caddy applies a reload atomically: if loading fails, the old configuration
/// keeps serving.
#[derive(Debug, clap::Args)]
pub struct ReloadArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE", default_value = "Caddyfile")]
    config: PathBuf,
    /// Its format, as a Caddy config adapter (`json` for Caddy's own JSON).
    #[arg(long, value_name = "ADAPTER", default_value = "caddyfile")]
    adapter: String,
    /// The running Caddy's admin API (default: the `admin` option of the file, else localhost:2019).
    #[arg(long, value_name = "ADDR", alias = "address")]
    admin: Option<String>,
    /// Validate only; do not reload.
    #[arg(long)]
    dry_run: bool,
    /// The caddy program.
    #[arg(long, value_name = "PROGRAM", default_value = "caddy")]
    caddy: PathBuf,
}

/// Caddy's own explanation from its output: the `Error:` lines, else the last lines.
fn caddy_message(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("Error:")).collect();
    let chosen: Vec<&str> = if errors.is_empty() {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(3)..].to_vec()
    } else {
        errors
    };
    chosen
        .iter()
        .map(|l| l.trim_start_matches("Error:").trim())
        .collect::<Vec<_>>()
        .join("; ")
}

fn caddy(a: &ReloadArgs, verb: &str, extra: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = Command::new(&a.caddy);
    cmd.arg(verb)
        .arg("--config")
        .arg(&a.config)
        .args(["--adapter", &a.adapter])
        .args(extra);
    cmd.output()
        .with_context(|| format!("cannot run {}", a.caddy.display()))
        .map_err(|e| {
            e.context(berth::cli::Hint(
                "install Caddy (apt-get install caddy) or pass --caddy PROGRAM".into(),
            ))
        })
}

pub fn run(a: &ReloadArgs) -> anyhow::Result<Outcome> {
    if !a.config.is_file() {
        return Err(error_with_hint(
            format!("cannot read {}: no such file", a.config.display()),
            "write one first: registry list --json | proxyconf caddy -o Caddyfile",
        ));
    }
    let out = caddy(a, "validate", &[])?;
    if !out.status.success() {
        return Err(error_with_hint(
            format!(
                "caddy rejects {}: {}",
                a.config.display(),
                caddy_message(&out)
            ),
            "the running Caddy keeps its current configuration; fix the file (or regenerate it) and retry",
        ));
    }
    berth::info!("{} is valid", a.config.display());
    if a.dry_run {
        berth::info!("not reloaded (dry run)");
        return Ok(Outcome::Clean);
    }
    let address: Vec<&str> = a
        .admin
        .as_deref()
        .map(|addr| vec!["--address", addr])
        .unwrap_or_default();
    let out = caddy(a, "reload", &address)?;
    if !out.status.success() {
        return Err(error_with_hint(
            format!(
                "caddy reload {} failed: {}",
                a.config.display(),
                caddy_message(&out)
            ),
            format!(
                "is Caddy running with its admin API there? Start it with: caddy run --config {} --adapter {}",
                a.config.display(),
                a.adapter
            ),
        ));
    }
    berth::info!("Caddy reloaded {}", a.config.display());
    Ok(Outcome::Clean)
}
