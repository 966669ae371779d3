//! `stackgen`: generate a complete Docker setup for a framework stack, and
//! add or remove catalog services later without touching what the user wrote.

mod catalog;
mod commands;
mod detect;
mod envfile;
mod generate;
mod plan;
mod secrets;
mod stack;
mod state;
mod templates;
mod update;

use std::path::PathBuf;

use berth::cli::Outcome;
use berth::io::OutputArgs;
use clap::{Parser, Subcommand, ValueEnum};

pub use generate::{GenFile, SERVICES_FILE, Spec};
pub use stack::Stack;
pub use templates::Library;

const TOOL: &str = "stackgen";

/// Generate Docker stacks for frameworks; add and remove services.
///
/// `stackgen new` writes a working Docker setup for a framework (nextjs,
/// django, laravel, wordpress, fastapi): compose.yaml (yours to edit), a
/// development overlay, a multi-stage Dockerfile, .env with random secrets,
/// .env examples per environment and a development entrypoint. Catalog
/// services (databases, caches, mail, storage) live in a file berth owns,
/// .berth/compose.services.yaml, merged through `COMPOSE_FILE` in .env, so
/// `add-service` and `remove-service` never edit your compose.yaml.
#[derive(Debug, Parser)]
#[command(
    name = "stackgen",
    version,
    after_long_help = "\
Examples:
  stackgen stacks                                    the stacks and their services
  stackgen new django shop --services postgres,redis --json | registry add -
  stackgen new nextjs web --mode existing --dir ~/code/web
  stackgen add-service mailpit --publish mailpit     in a generated project
  stackgen remove-service redis --yes
  stackgen update --from https://example.com/templates.git

Exit status:
  0 success;
  2 an error (bad usage, unknown stack or service, a folder that is not empty,
    a broken template, a generator that cannot run, I/O)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    New(NewArgs),
    AddService(AddArgs),
    RemoveService(RemoveArgs),
    Services(ServicesArgs),
    Stacks(StacksArgs),
    Update(UpdateArgs),
}

/// How `new` treats the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// A new project: the folder must be missing or empty; the framework's generator runs.
    Fresh,
    /// Add the Docker setup to the framework project already in the folder.
    Existing,
}

/// Generate a stack: Docker files, .env, and (fresh) the framework's project.
///
/// Fresh mode (the default for a missing or empty folder) runs the
/// framework's own generator (django-admin startproject, npx
/// create-next-app, composer create-project) and then adds the Docker
/// setup. When the generator cannot run, stackgen says why and how to get
/// it, and exits 2 without writing anything; --no-generator writes the
/// Docker setup (and the stack's starter files) alone. Existing mode (the
/// default for a folder with files) checks that the folder holds the
/// stack's framework and adds the Docker setup without touching the code.
///
/// The app's host port comes from the registry's allocator (the port range
/// in config.yaml; no registered project claims it, nothing listens on it)
/// and is reserved for the project in the registry in the same step, so
/// that parallel `stackgen new ... --json | registry add -` pipelines never
/// get the same port; `registry add` of the project releases the
/// reservation, which otherwise expires after 10 minutes.
/// Other services publish nothing unless named in --publish, then on
/// 127.0.0.1 only, with allocated ports.
#[derive(Debug, clap::Args)]
struct NewArgs {
    /// The stack (see `stackgen stacks`).
    stack: String,
    /// The project's name: a DNS label (a-z, 0-9, '-'). Names the compose
    /// project, containers, network and volumes.
    name: String,
    /// The project folder (default: ./NAME).
    #[arg(long, short)]
    dir: Option<PathBuf>,
    /// Catalog services, comma-separated (default: the stack's defaults;
    /// `none` for none).
    #[arg(long, short, value_delimiter = ',')]
    services: Option<Vec<String>>,
    /// Services whose ports are published on 127.0.0.1, comma-separated.
    #[arg(long, value_delimiter = ',')]
    publish: Vec<String>,
    /// Fresh or existing project (default: fresh for a missing or empty folder).
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// Do not run the framework's generator in fresh mode: write the Docker
    /// setup and the stack's starter files only.
    #[arg(long)]
    no_generator: bool,
    /// Use this host port for the app instead of allocating one (refused
    /// when another project claims it, unless --force).
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Take the --port another project claims anyway (the two cannot run at once).
    #[arg(long, requires = "port")]
    force: bool,
    /// The app's base image (default: the stack's, see `stackgen stacks`),
    /// written into the Dockerfile, compose.yaml and .env; `images:` in
    /// config.yaml maps it like any other image.
    #[arg(long, value_name = "IMAGE", value_parser = parse_image)]
    base_image: Option<String>,
    /// Show what would be written (a unified diff) and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Show the unified diff of every file before writing.
    #[arg(long)]
    diff: bool,
    /// Print the Project as JSON (for `registry add -`).
    #[arg(long)]
    json: bool,
}

/// Add catalog services to a generated project.
///
/// Regenerates .berth/compose.services.yaml, appends the services' new
/// variables (random secrets) to .env without changing values already set,
/// and shows a unified diff of every file first (secrets masked).
#[derive(Debug, clap::Args)]
struct AddArgs {
    /// Services to add.
    #[arg(required = true, value_name = "SERVICE")]
    services: Vec<String>,
    /// The project folder.
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// Publish these services' ports on 127.0.0.1 (allocated ports).
    #[arg(long, value_delimiter = ',')]
    publish: Vec<String>,
    /// Show the diff and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (it asks only on a terminal).
    #[arg(long, short)]
    yes: bool,
}

/// Remove catalog services from a generated project.
///
/// Regenerates .berth/compose.services.yaml and takes the lines berth
/// appended to .env back out (lines you changed stay). The services' data
/// volumes are kept unless --with-data is given. Needs --yes when not on a
/// terminal.
#[derive(Debug, clap::Args)]
struct RemoveArgs {
    /// Services to remove.
    #[arg(required = true, value_name = "SERVICE")]
    services: Vec<String>,
    /// The project folder.
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// Also delete the services' containers and data volumes.
    #[arg(long)]
    with_data: bool,
    /// Show the diff and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    yes: bool,
}

/// List the service catalog (and which services a project uses).
#[derive(Debug, clap::Args)]
struct ServicesArgs {
    /// A generated project: mark the services it uses.
    #[arg(long, short)]
    dir: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

/// List the available stacks with their runtime and services.
#[derive(Debug, clap::Args)]
struct StacksArgs {
    #[command(flatten)]
    output: OutputArgs,
}

/// Refresh the template cache from a folder or a git repository.
///
/// Fetches the templates (a folder with stacks/ and services/, or a git URL
/// cloned with `git clone --depth 1`), checks that every stack and service
/// renders, shows what changed, and replaces the cache. Projects already
/// generated are not touched. Without --from, the last source is used.
#[derive(Debug, clap::Args)]
struct UpdateArgs {
    /// A template folder or a git URL.
    #[arg(long, value_name = "DIR|GIT_URL")]
    from: Option<String>,
    /// Show what would change and keep the cache as it is.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::New(a) => commands::new(&a),
        Command::AddService(a) => commands::add_service(&a),
        Command::RemoveService(a) => commands::remove_service(&a),
        Command::Services(a) => commands::services(&a),
        Command::Stacks(a) => commands::stacks(&a),
        Command::Update(a) => update::run(&a),
    }
}

/// `--base-image`: an image reference.
fn parse_image(s: &str) -> Result<String, String> {
    berth::config::check_image_ref("base image", s)
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string())
}
