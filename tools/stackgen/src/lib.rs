//! `stackgen`: generate a complete Docker setup for a framework stack, and
//! add or remove catalog services later without touching what the user wrote.

mod catalog;
mod config;
mod ctx;
mod declare;
mod declared;
mod detect;
mod envfile;
mod export;
mod generate;
mod import;
mod list;
mod migrate;
mod new;
mod plan;
mod services;
mod shared;
mod stack;
mod state;
mod stored;
mod templates;
mod update;

use berth::cli::Outcome;
use clap::{Parser, Subcommand};

pub use generate::{GenFile, SERVICES_FILE, Spec};
pub use new::Mode;
pub use shared::{SHAREABLE, Server as SharedServer, server as shared_server};
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
  stackgen update-templates --from https://example.com/templates.git
  stackgen migrate shop --to shared --yes            its database onto the shared server

Exit status:
  0 success;
  1 `migrate` refused: the project's app runs (nothing changed);
  2 an error (bad usage, unknown stack or service, a folder that is not empty,
    a broken template, a generator that cannot run, I/O)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    New(new::NewArgs),
    AddService(services::AddArgs),
    RemoveService(services::RemoveArgs),
    Services(list::ServicesArgs),
    Stacks(list::StacksArgs),
    #[command(name = "update-templates", alias = "update")]
    UpdateTemplates(update::UpdateArgs),
    Config(config::ConfigArgs),
    Generate(declare::GenerateArgs),
    Set(declare::SetArgs),
    Unset(declare::UnsetArgs),
    Wire(declare::WireArgs),
    Export(export::ExportArgs),
    Import(import::ImportArgs),
    Migrate(migrate::MigrateArgs),
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::New(a) => new::run(&a),
        Command::AddService(a) => services::add_service(&a),
        Command::RemoveService(a) => services::remove_service(&a),
        Command::Services(a) => list::services(&a),
        Command::Stacks(a) => list::stacks(&a),
        Command::UpdateTemplates(a) => update::run(&a),
        Command::Config(a) => config::run(&a),
        Command::Generate(a) => declare::generate(&a),
        Command::Set(a) => declare::set(&a),
        Command::Unset(a) => declare::unset(&a),
        Command::Wire(a) => declare::wire(&a),
        Command::Export(a) => export::run(&a),
        Command::Import(a) => import::run(&a),
        Command::Migrate(a) => migrate::run(&a),
    }
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    [list::schemas(), update::schemas(), config::schemas()].concat()
}

/// What `stackctl plan` needs of a stackgen project's `berth.yaml`, read
/// once.
#[derive(Debug, Default)]
pub struct Declared {
    /// The services file `berth.yaml` generates now, when it differs from
    /// the one on disk (the stack file was edited by hand since): its path
    /// and text. The desired state is what `berth.yaml` says.
    pub ahead: Option<(std::path::PathBuf, String)>,
    /// Each ambiguous import, as a sentence: plan reports them, apply
    /// refuses while there is any.
    pub problems: Vec<String>,
}

/// [`Declared`] of the project in `dir`: empty when it is not a stackgen
/// project with a `berth.yaml`. A required import with no provider is an
/// error (exit 2): nothing could run it.
pub fn declared(dir: &std::path::Path) -> anyhow::Result<Declared> {
    if !dir.join(state::STATE_FILE).is_file() || !dir.join(berth::stackfile::FILE).is_file() {
        return Ok(Declared::default());
    }
    let ctx = ctx::Ctx::load()?;
    let l = services::load(&ctx, None, dir)?;
    let cat = declared::Cat {
        lib: &ctx.lib,
        stack: &l.stack,
    };
    let resolved = berth::stackfile::wiring::resolve(&l.file, &cat);
    if let Some(missing) = resolved.iter().find(|r| r.is_missing()) {
        return Err(berth::cli::error_with_hint(
            format!(
                "{}: {}",
                berth::stackfile::FILE,
                missing.problem().unwrap_or_default()
            ),
            format!(
                "add an instance that provides it (`stackgen add-service`), or remove {}",
                missing.consumer
            ),
        ));
    }
    let problems = resolved
        .iter()
        .filter_map(berth::stackfile::wiring::Resolution::problem)
        .collect();
    let spec = Spec::of_project(&l.state, &ctx.config, l.file);
    let text = generate::services_file(&ctx.lib, &l.stack, &spec)?;
    let path = dir.join(SERVICES_FILE);
    let now = berth::fsread::read_text(&path, None, berth::fsread::TEXT_LIMIT)?.map(|t| t.text);
    let ahead = (now.as_deref() != Some(text.as_str())).then_some((path, text));
    Ok(Declared { ahead, problems })
}

/// Bring `dir`'s generated files in line with its `berth.yaml`, as
/// `stackgen generate --yes` does (secrets of new instances made and
/// stored first); for `stackctl apply`.
pub fn regenerate(dir: &std::path::Path) -> anyhow::Result<()> {
    let ctx = ctx::Ctx::load()?;
    let l = services::load(&ctx, None, dir)?;
    let change = services::Change {
        dir: l.dir,
        text: l.text,
        publish: &[],
        dry_run: false,
        yes: true,
        with_data: false,
        question: String::new(),
        secrets: std::collections::BTreeMap::new(),
        renew: &[],
    };
    services::sync(&ctx, &l.stack, l.state, &change)?;
    Ok(())
}
