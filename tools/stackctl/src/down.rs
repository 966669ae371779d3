//! `stackctl down`: remove a project's containers and networks, and with
//! `--with-data` its volumes and the images compose built for it.

use berth::Status;
use berth::cli::{Outcome, confirm};

use crate::{hooks, record, registry, select};

/// Remove a project's containers and network (and with --with-data its data).
///
/// Finds everything by compose's project labels, says what goes, asks on a
/// terminal (--yes otherwise), then stops and removes the containers and
/// removes the networks. --with-data also removes the project's volumes
/// (its databases) and the images compose built for it (`PROJECT_SERVICE`,
/// as `down --rmi local`); pulled images stay. The registry keeps the
/// project, recorded `stopped`; `registry remove NAME --down` forgets it too.
/// A running project's `pre_stop` and `post_stop` hooks run around the removal,
/// as for `stackctl stop` (a failing `pre_stop` removes nothing).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Names of registered projects.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Also remove the volumes and the locally built images.
    #[arg(long)]
    with_data: bool,
    /// Do not ask.
    #[arg(long, short)]
    yes: bool,
    /// Show what would be removed, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// How long each container gets to stop before it is killed (e.g. 10s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = berth::duration::parse)]
    timeout: std::time::Duration,
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    let projects = reg.load()?;
    let selected = select(&projects, &a.names)?;
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(crate::engine::connect())?;
    let mut plans = Vec::new();
    for p in &selected {
        plans.push(rt.block_on(berth::docker::teardown_plan(&docker, &p.name, a.with_data))?);
    }
    for plan in &plans {
        if a.dry_run {
            berth::io::write_text(&format!(
                "{}: would remove {}\n",
                plan.project,
                plan.describe()
            ))?;
        } else {
            berth::info!("{}: will remove {}", plan.project, plan.describe());
        }
    }
    if a.dry_run || plans.iter().all(berth::docker::Teardown::is_empty) {
        if !a.dry_run {
            for p in &selected {
                record(&reg, &p.name, Status::Stopped)?;
            }
        }
        return Ok(Outcome::Clean);
    }
    let what = if a.with_data {
        "containers, networks, volumes and built images"
    } else {
        "containers and networks"
    };
    if !confirm(
        &format!("remove the {what} of {}?", a.names.join(", ")),
        a.yes,
    )? {
        berth::info!("nothing removed");
        return Ok(Outcome::Clean);
    }
    for (p, plan) in selected.iter().zip(&plans) {
        // A running project is stopped first, so its stop hooks run as for
        // `stackctl stop`: a failing pre_stop keeps it as it is.
        let running = !plan.containers.is_empty()
            && rt
                .block_on(berth::docker::project_containers(
                    &docker,
                    &[p.name.as_str()],
                ))?
                .iter()
                .any(|c| c.state == "running");
        let hooks = if running && p.path.is_dir() {
            hooks::load(&p.path)?
        } else {
            hooks::Hooks::default()
        };
        hooks::run("pre_stop", hooks.pre_stop.as_ref(), p)?;
        rt.block_on(berth::docker::teardown(
            &docker,
            plan,
            i32::try_from(berth::duration::whole_seconds(a.timeout)).unwrap_or(i32::MAX),
        ))?;
        record(&reg, &plan.project, Status::Stopped)?;
        berth::info!("{}: removed {}", plan.project, plan.describe());
        if let Err(e) = hooks::run("post_stop", hooks.post_stop.as_ref(), p) {
            berth::cli::warn(crate::TOOL, format!("{e:#}"));
        }
    }
    Ok(Outcome::Clean)
}
