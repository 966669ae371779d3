//! `registry`: the catalog of local projects. Adds, lists, shows, rescans and
//! removes projects, records their state and environment, exports and imports.

mod add;
mod env;
mod import;
mod show;
mod update;
mod view;

use std::path::PathBuf;

use berth::Status;
use berth::cli::{Outcome, confirm};
use berth::config::Config;
use berth::io::OutputArgs;
use berth::paths::Paths;
use berth::registry::{self, Registry};
use clap::{Parser, Subcommand};

const TOOL: &str = "registry";

/// The catalog of local projects.
///
/// Every project gets a name (a DNS label), a folder, a domain under the dev
/// TLD, an HTTP port that no other project claims, and what its compose files
/// publish. Other berth tools read the catalog as JSON.
#[derive(Debug, Parser)]
#[command(
    name = "registry",
    version,
    after_long_help = "\
Examples:
  registry add ~/code/shop                 register a folder (name: shop)
  registry list --json | ports check       find ports claimed twice
  stackgen new django blog --json | registry add -
  registry update shop --dry-run           what changed in the compose files
  registry export > projects.json          back up the catalog

Files:
  $BERTH_HOME/registry.json, else $XDG_DATA_HOME/berth/registry.json
    the snapshot, one project a line; beside it registry.journal (changes
    since the snapshot, one a line), registry.index (a cache for add) and
    registry.reservations (ports held for projects about to be registered,
    by stackgen new and ports alloc --claim; 10 minutes at most)
  $BERTH_HOME/config.yaml, else $XDG_CONFIG_HOME/berth/config.yaml
    (port_range: 5000-5999, tld: test, backup_dir: .berth/backups)

Every field is checked on every way in (add, add -, import) and when the
files are read back: an invalid entry on disk is named on stderr and left
out of list, so it never breaks the other projects.

Exit status:
  0 success; 2 an error (bad usage, bad input, I/O)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Add(add::Args),
    List(ListArgs),
    Show(show::Args),
    Remove(RemoveArgs),
    Update(update::Args),
    #[command(name = "set-status", alias = "status")]
    SetStatus(StatusArgs),
    Env(env::Args),
    Export(ExportArgs),
    Import(import::Args),
}

/// List registered projects.
#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only projects with this status.
    #[arg(long, value_name = "STATUS")]
    status: Option<Status>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Remove projects from the registry (their folders are not touched).
#[derive(Debug, clap::Args)]
struct RemoveArgs {
    /// Names of the projects.
    #[arg(required = true)]
    names: Vec<String>,
    /// Do not ask for confirmation (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
    /// Show what would be removed, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also take the stacks down: remove their containers and networks
    /// (volumes stay; `stackctl down NAME --with-data` removes those). The
    /// project's stop hooks do not run here; `stackctl down` runs them.
    #[arg(long)]
    down: bool,
}

/// Record a project's state (stackctl calls this).
#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// The project's name.
    name: String,
    /// The new state: running, stopped, error or unknown.
    state: Status,
}

/// Print every project as a JSON array (what `registry import` reads).
#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Write to this file instead of stdout (atomically, mode 0644; stderr says when it replaced one).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let paths = Paths::from_env()?;
    let reg = Registry::open(&paths);
    match cli.command {
        Command::Add(a) => add::run(&paths, &reg, a),
        Command::List(a) => {
            // The common machine case, `registry list --json | ...`: copy the
            // stored JSON through without decoding ten thousand projects.
            let format = a.output.format();
            let piped = !std::io::IsTerminal::is_terminal(&std::io::stdout());
            if a.status.is_none()
                && (format == berth::io::Format::Ndjson
                    || (format == berth::io::Format::Json && piped))
            {
                let mut out = berth::io::stdout();
                reg.write_raw(&mut out, format == berth::io::Format::Ndjson)?;
                std::io::Write::flush(&mut out)?;
                return Ok(Outcome::Clean);
            }
            // Invalid entries are reported and left out, as in the JSON above.
            let mut projects: Vec<berth::Project> = reg.load_valid()?;
            if let Some(s) = a.status {
                projects.retain(|p| p.status == s);
            }
            view::write_projects(a.output.format(), &projects)?;
            Ok(Outcome::Clean)
        }
        Command::Show(a) => show::run(&reg, &a),
        Command::Remove(a) => remove(&reg, &a),
        Command::Update(a) => update::run(&paths, &reg, a),
        Command::SetStatus(a) => {
            reg.set_status(&a.name, a.state)?;
            Ok(Outcome::Clean)
        }
        Command::Env(a) => env::run(&reg, a),
        Command::Export(a) => {
            let projects = reg.load()?;
            match a.output {
                Some(file) => {
                    let mut bytes = serde_json::to_vec_pretty(&projects)?;
                    bytes.push(b'\n');
                    berth::io::write_output(&file, &bytes)?;
                }
                None => berth::io::write_json(&projects)?,
            }
            Ok(Outcome::Clean)
        }
        Command::Import(a) => import::run(&paths, &reg, a),
    }
}

fn remove(reg: &Registry, a: &RemoveArgs) -> anyhow::Result<Outcome> {
    let projects = reg.load()?;
    for name in &a.names {
        let p = registry::find(&projects, name)?;
        if p.status == Status::Running && !a.down {
            berth::cli::warn(
                TOOL,
                format!("'{name}' is running; removing it does not stop it (stackctl stop {name})"),
            );
        }
        if !p.shared.is_empty() {
            berth::cli::warn(
                TOOL,
                format!(
                    "'{name}' has accounts on the shared servers ({}); they stay on them (drop them first: {})",
                    p.shared.join(", "),
                    p.shared
                        .iter()
                        .map(|i| format!("shared db drop {name} --instance {i}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
        }
    }
    let list = a.names.join(", ");
    if a.dry_run {
        berth::io::write_text(&format!("would remove: {list}\n"))?;
        return Ok(Outcome::Clean);
    }
    let down = if a.down {
        " and remove their containers and networks"
    } else {
        ""
    };
    if !confirm(&format!("remove {list} from the registry{down}?"), a.yes)? {
        berth::info!("nothing removed");
        return Ok(Outcome::Clean);
    }
    for name in a.names.iter().filter(|_| a.down) {
        let gone = berth::docker::take_down(name, false, 10)?;
        berth::info!("{name}: removed {}", gone.describe());
    }
    reg.remove(&a.names)?;
    berth::info!("removed: {list}");
    Ok(Outcome::Clean)
}

/// The dev-TLD domain of a project name.
fn domain(config: &Config, name: &str) -> String {
    berth::sites::domain(name, &config.tld)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    let mut all = update::schemas();
    all.extend(env::schemas());
    all
}
