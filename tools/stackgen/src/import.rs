//! `stackgen import FILE`: a project from a shared stack file (what
//! `stackgen export` writes): created in a new folder, or an existing
//! project of the same stack updated to it. Each `${secret:NAME}`
//! placeholder gets a new random value, kept like every generated secret.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth::cli::{Outcome, error_with_hint};
use berth::stackfile::{self, StackFile};

use crate::ctx::Ctx;
use crate::declared::{self, Cat};
use crate::export::placeholder_name;
use crate::services::{Change, load, sync};
use crate::stack::Stack;
use crate::state::STATE_FILE;

/// Create or update a project from a shared stack file.
///
/// FILE is a berth stack (`stackgen export` writes one). Without a
/// project in the folder, its Docker setup is generated there (as `new
/// --no-generator` does: your code stays yours), then the stack file's
/// instances, overrides and wires are applied; with one of the same stack,
/// it is updated to the file, showing the diff first. Every
/// `${secret:NAME}` gets a new random value. `stackctl plan` then shows
/// what `stackctl apply` would change in the running containers.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The stack file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The project folder (default: ./NAME).
    #[arg(long, short)]
    dir: Option<PathBuf>,
    /// The project's name (default: the file's).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Show the diff and change nothing (an existing project only).
    #[arg(long)]
    dry_run: bool,
    /// Do not ask (needed when not on a terminal, to update a project).
    #[arg(long, short)]
    yes: bool,
}

/// Read and check the file: a regular file under the size limit, a valid
/// stack file of a known stack (exit 2 naming file, line and key).
fn read(ctx: &Ctx, path: &std::path::Path) -> anyhow::Result<(StackFile, Stack)> {
    let Some(text) = berth::fsread::read_text(path, None, stackfile::LIMIT)? else {
        return Err(error_with_hint(
            format!("{} does not exist", path.display()),
            "give the file `stackgen export` wrote",
        ));
    };
    let shown = path.display().to_string();
    let bare = stackfile::parse(&text.text, &shown, None)?;
    let stack = Stack::load(&ctx.lib, &bare.stack)?;
    let file = stackfile::parse(
        &text.text,
        &shown,
        Some(&Cat {
            lib: &ctx.lib,
            stack: &stack,
        }),
    )?;
    Ok((file, stack))
}

/// The file with each placeholder turned into a reference to the secret it
/// names, and those names (each made as a 32-character random value).
fn resolve_placeholders(mut file: StackFile) -> (StackFile, BTreeMap<String, String>) {
    let mut secrets = BTreeMap::new();
    for (_, inst) in &mut file.instances.0 {
        for v in inst.environment.values_mut() {
            if let Some(name) = placeholder_name(v).map(str::to_owned) {
                *v = format!("${{{name}}}");
                secrets.insert(name, "alnum32".to_owned());
            }
        }
    }
    (file, secrets)
}

/// `import`.
pub fn run(a: &ImportArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let (file, stack) = read(&ctx, &a.file)?;
    let (mut file, secrets) = resolve_placeholders(file);
    if let Some(name) = &a.name {
        berth::names::validate_label("project name", name)?;
        file.name.clone_from(name);
    }
    for name in secrets.keys() {
        berth::secrets::validate_key(name)?;
    }
    let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from(&file.name));
    let text = declared::text(&file);
    let created = !dir.join(STATE_FILE).is_file();
    if created {
        if a.dry_run {
            return Err(error_with_hint(
                "--dry-run shows the changes to an existing project; this folder has none",
                format!(
                    "see what a new one gets with `stackgen new {} {} --dry-run`",
                    file.stack, file.name
                ),
            ));
        }
        // The instances named after their service come from `new`; the
        // others, the overrides and the wires from the sync below.
        let defaults: Vec<String> = file
            .instances
            .iter()
            .filter(|(n, i)| i.service_name(n) == *n)
            .map(|(n, _)| n.to_owned())
            .collect();
        let new = crate::new::NewArgs::for_import(&stack.name, &file.name, dir.clone(), defaults);
        crate::new::run(&new)?;
    }
    let l = load(&ctx, None, &dir)?;
    if l.state.stack != file.stack || l.state.name != file.name {
        return Err(error_with_hint(
            format!(
                "{} holds {} ({}), the file declares {} ({})",
                dir.display(),
                l.state.name,
                l.state.stack,
                file.name,
                file.stack
            ),
            "import into another folder (--dir), or pass --name",
        ));
    }
    let change = Change {
        dir: l.dir,
        text,
        publish: &[],
        dry_run: a.dry_run,
        // A project made just now from the file: nothing of the user's to ask about.
        yes: a.yes || created,
        with_data: false,
        question: format!("update {} to {}?", file.name, a.file.display()),
        secrets,
        renew: &[],
    };
    let outcome = sync(&ctx, &l.stack, l.state, &change)?;
    if !a.dry_run {
        berth::info!(
            "imported {} into {}: `stackctl plan {}` shows what `stackctl apply` would change",
            file.name,
            dir.display(),
            file.name
        );
    }
    Ok(outcome)
}
