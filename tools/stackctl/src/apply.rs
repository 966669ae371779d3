//! `apply`: make a project's containers what its compose files say, under
//! the project's apply lock: exactly the added and changed services are
//! brought up, removed ones taken away, unchanged ones left as they are.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use berth::cli::{Outcome, confirm, error_with_hint};
use berth::docker::Teardown;
use berth::duration;
use berth::model::Action;
use berth::model::Plan;
use berth::{Project, Status};

use crate::lifecycle::{self, Ctx};
use crate::lock::Lock;
use crate::plan::State;
use crate::progress::Progress;
use crate::ready::{self, StackPlan};
use crate::{images, record};

/// Apply a plan: create, recreate and remove exactly the services that changed.
///
/// Takes the project's apply lock (`$BERTH_HOME/applied/NAME.lock`, naming
/// its holder; a second apply waits up to --lock-timeout, then exits 1
/// naming the holder; a lock left by a dead apply is taken over, with a
/// message). With --plan FILE (from `stackctl plan --out FILE`) the plan is
/// checked first: when the compose files (or `.env`, `berth.yaml`, the
/// variables and secrets they take in) or the containers changed since,
/// apply refuses (exit 1: re-run plan). Without --plan it computes the plan,
/// shows it on stderr and asks (--yes when not on a terminal). Then, after
/// the port check `start` does: `compose up -d --no-deps` of the added and
/// changed services, each labelled with its config hash; containers of
/// removed services stopped and removed (with --with-data their
/// anonymous volumes and the named volumes only they mount); the wait for health `start` does; the definitions recorded
/// for the next plan.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project.
    #[arg(value_name = "NAME")]
    name: String,
    /// The plan to apply (JSON from `stackctl plan --out FILE`); refused when stale.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Do not ask (needed when not on a terminal and without --plan).
    #[arg(short, long)]
    yes: bool,
    /// How long to wait for another apply of the project to finish (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration::parse)]
    lock_timeout: Duration,
    /// Also remove the volumes of removed services: their containers'
    /// anonymous volumes and the project's named volumes no other container mounts.
    #[arg(long)]
    with_data: bool,
    /// How long to wait for the services to run and the app to answer (e.g. 2m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration::parse)]
    timeout: Duration,
    /// Show progress on stderr even when it is not a terminal.
    #[arg(long)]
    progress: bool,
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let (reg, mut selected) = lifecycle::prepare(std::slice::from_ref(&a.name))?;
    let p = selected.remove(0);
    let saved = a.plan.as_deref().map(|f| read_plan(f, &p)).transpose()?;
    let ctx = Ctx::new(reg)?;
    let _lock = match Lock::acquire(&p.name, a.lock_timeout)? {
        Ok(lock) => lock,
        Err(busy) => {
            let who = busy
                .holder
                .map_or_else(|| "another process".to_owned(), |h| h.to_string());
            eprintln!(
                "{}: cannot apply '{}': it is being applied by {who} (waited {:?}, lock {})",
                crate::TOOL,
                p.name,
                a.lock_timeout,
                busy.path.display()
            );
            eprintln!("hint: wait for it to finish, or pass a longer --lock-timeout");
            return Ok(Outcome::Found);
        }
    };
    let state = State::load(&p)?;
    let plan = state.plan(&p, &ctx.containers(&[p.name.as_str()])?)?;
    if let Some(saved) = &saved {
        if let Some(why) = stale(saved, &plan) {
            eprintln!(
                "{}: cannot apply the plan of '{}': {why}",
                crate::TOOL,
                p.name
            );
            eprintln!("hint: re-run plan: stackctl plan {} --out FILE", p.name);
            return Ok(Outcome::Found);
        }
    } else {
        eprint!("{}", plan.render());
    }
    if !plan.problems.is_empty() {
        for problem in &plan.problems {
            eprintln!("{}: cannot apply '{}': {problem}", crate::TOOL, p.name);
        }
        eprintln!(
            "hint: wire it in berth.yaml (stackgen wire CONSUMER.IMPORT PROVIDER), then plan again"
        );
        return Ok(Outcome::Found);
    }
    if !plan.has_changes() {
        berth::info!("{}: no changes; nothing to apply", p.name);
        return Ok(Outcome::Clean);
    }
    if saved.is_none() && !confirm(&format!("apply these changes to '{}'?", p.name), a.yes)? {
        berth::info!("{}: nothing applied", p.name);
        return Ok(Outcome::Clean);
    }
    let (state, plan) = if state.behind {
        // The files first (new instances' secrets made and stored), then
        // the plan of them: what was shown, with those values in.
        berth_stackgen::regenerate(crate::project_dir(&p)?)?;
        let state = State::load(&p)?;
        let plan = state.plan(&p, &ctx.containers(&[p.name.as_str()])?)?;
        (state, plan)
    } else {
        (state, plan)
    };
    if !apply(&ctx, &p, &state, &plan, a)? {
        return Ok(Outcome::Found);
    }
    Ok(Outcome::Clean)
}

/// Read a saved plan: a regular file of bounded size holding a plan of `p`.
fn read_plan(path: &Path, p: &Project) -> anyhow::Result<Plan> {
    let Some(text) = berth::fsread::read_text(path, None, berth::fsread::TEXT_LIMIT)
        .with_context(|| format!("cannot read the plan {}", path.display()))?
    else {
        return Err(error_with_hint(
            format!("plan file {} does not exist", path.display()),
            format!("make one: stackctl plan {} --out FILE", p.name),
        ));
    };
    let plan: Plan = serde_json::from_str(&text.text).map_err(|e| {
        error_with_hint(
            format!("{} is not a plan: {e}", path.display()),
            format!("make one: stackctl plan {} --out FILE", p.name),
        )
    })?;
    if plan.project != p.name {
        return Err(error_with_hint(
            format!(
                "{} is a plan of project '{}', not of '{}'",
                path.display(),
                plan.project,
                p.name
            ),
            format!("stackctl apply {} --plan {}", plan.project, path.display()),
        ));
    }
    Ok(plan)
}

/// Why a saved plan no longer holds, if it does not.
fn stale(saved: &Plan, now: &Plan) -> Option<&'static str> {
    if saved.stack_serial != now.stack_serial {
        Some(
            "berth.yaml/compose files changed since the plan (or .env, or the variables and secrets they use)",
        )
    } else if saved.state_serial != now.state_serial {
        Some("containers changed since the plan: re-run plan")
    } else {
        None
    }
}

/// Carry out `plan`. `Ok(false)` when a port conflict refused it.
fn apply(ctx: &Ctx, p: &Project, state: &State, plan: &Plan, a: &Args) -> anyhow::Result<bool> {
    let all = ctx.reg.load()?;
    let containers = ctx.containers(&[])?;
    let conflicts = lifecycle::port_conflicts(p, &all, &containers);
    if !lifecycle::go_ahead(p, &conflicts, false) {
        return Ok(false);
    }
    let env = crate::hooks::environment(p, false)?;
    let files = state.files_with_hash_labels(p)?;
    let stack = StackPlan::load(p, &files, &env);
    let mut progress = Progress::new(a.progress);
    let mut up: Vec<&str> = plan.services(Action::Add);
    up.extend(plan.services(Action::Change));
    let removed = containers_of(plan, |c| c.action == Action::Remove);
    // A driver that does not recreate changed containers gets them removed
    // first (volumes kept): its `up` then creates them anew.
    let outdated = containers_of(plan, |c| {
        c.action == Action::Change && c.current_hash != c.desired_hash
    });
    let result = (|| {
        if !ctx.driver.recreates() && !outdated.is_empty() {
            remove(ctx, p, outdated.clone(), false)?;
        }
        if !up.is_empty() {
            ctx.rt.block_on(images::prepare(
                &ctx.docker,
                &ctx.driver,
                p,
                &files,
                &env,
                &stack,
                &mut progress,
            ))?;
            progress.say(&format!("{}: bringing up {}", p.name, up.join(", ")));
            let mut action = vec!["up", "-d", "--no-deps"];
            action.extend(&up);
            ctx.driver.run(p, &files, &env, &action)?;
            check_labels(ctx, p, plan, &up)?;
        }
        if !removed.is_empty() {
            remove(ctx, p, removed.clone(), a.with_data)?;
        }
        // What the containers are made from now, before the wait: a kill
        // during the wait leaves a record that matches them.
        state.record(p)?;
        ctx.rt.block_on(ready::wait(
            &ctx.docker,
            p,
            &stack,
            a.timeout,
            &mut progress,
        ))
    })();
    progress.finish();
    match result {
        Ok(_) => {
            record(&ctx.reg, &p.name, Status::Running)?;
            let (added, changed, gone) = plan.counts();
            berth::info!(
                "{}: applied in {:.1}s: {added} added, {changed} changed, {gone} removed",
                p.name,
                progress.elapsed()
            );
            Ok(true)
        }
        Err(e) => {
            record(&ctx.reg, &p.name, Status::Error)?;
            Err(e.context(format!("applying the plan of '{}' failed", p.name)))
        }
    }
}

/// The container IDs of the plan's changes that `pick` chooses.
fn containers_of(plan: &Plan, pick: impl Fn(&berth::model::Change) -> bool) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| pick(c))
        .filter_map(|c| c.container.clone())
        .collect()
}

/// Stop and remove these containers of `p`; with `with_data` their
/// anonymous volumes and the project's named volumes only they mount.
fn remove(ctx: &Ctx, p: &Project, containers: Vec<String>, with_data: bool) -> anyhow::Result<()> {
    ctx.rt.block_on(async {
        let volumes = if with_data {
            berth::docker::volumes_only_of(&ctx.docker, &p.name, &containers).await?
        } else {
            Vec::new()
        };
        let teardown = Teardown {
            project: p.name.clone(),
            with_data,
            containers,
            volumes,
            ..Teardown::default()
        };
        berth::docker::teardown(&ctx.docker, &teardown, 10).await
    })
}

/// After `up`: every service brought up has a container with its desired
/// config hash; compose exiting 0 is not taken for that.
fn check_labels(ctx: &Ctx, p: &Project, plan: &Plan, up: &[&str]) -> anyhow::Result<()> {
    let now = ctx.containers(&[p.name.as_str()])?;
    let missing: Vec<&str> = up
        .iter()
        .copied()
        .filter(|service| {
            let want = plan
                .changes
                .iter()
                .find(|c| c.service == *service)
                .and_then(|c| c.desired_hash.as_deref());
            !now.iter().any(|c| {
                c.project == p.name
                    && c.service == *service
                    && c.labels
                        .get(berth::stackfile::CONFIG_HASH_LABEL)
                        .map(String::as_str)
                        == want
            })
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(error_with_hint(
        format!(
            "{} ran, but no container of {} has the new definition",
            ctx.driver.name,
            missing.join(", ")
        ),
        format!("stackctl plan {} shows what is left to do", p.name),
    ))
}
