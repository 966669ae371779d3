//! `dbdump reset`: an empty database swapped in, then the framework's
//! migrations (Laravel, Django) or a re-import (WordPress), checked to run
//! before anything changes and undone when they fail.

use std::io::{self, Write as _};

use anyhow::bail;
use berth::cli::{Outcome, error_with_hint};
use clap::Args;

use crate::restore::{begin, check_backup, latest, load_scratch, where_};
use crate::target::{Conn, Db};
use crate::{TargetArgs, engine, note, resolve, store, swap};

/// Replace the database with an empty one, then run the framework's migrations.
///
/// After the empty database is swapped in: Laravel runs `php artisan
/// migrate:fresh --force [--seed]`, Django `python3 manage.py migrate`
/// (`python` when the container has no `python3`), WordPress gets the
/// latest backup re-imported when there is one; in the project's
/// application container. The stack comes from the registry, or from the
/// project's files (as every berth tool detects a framework). The step is checked
/// to run (`<interpreter> <script> --version`) before anything changes; a
/// safety backup (label `pre-reset`) is taken, and the old database is kept
/// aside until the step succeeded: when it fails, the old database is put
/// back and dbdump exits 2.
#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Seed the database after migrating (Laravel).
    #[arg(long)]
    seed: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Do not take a safety backup first.
    #[arg(long)]
    no_safety_backup: bool,
}

pub fn run(a: &ResetArgs) -> anyhow::Result<Outcome> {
    let (db, dir) = resolve(&a.target)?;
    // What follows the drop is found and checked before anything changes.
    let mut reimport = None;
    let mut step = None;
    match detect_stack(&db).as_deref() {
        Some("wordpress") => {
            if let Ok(file) = latest(&dir) {
                check_backup(&file)?;
                reimport = Some(file);
            }
        }
        Some(s) => match framework_command(s, a.seed) {
            Some((interpreters, args)) => step = Some(plan_step(&db, interpreters, &args)?),
            None => note(format!("no framework step for stack {s}")),
        },
        None => {}
    }
    let question = format!(
        "drop and recreate database {} of {}",
        db.creds.database,
        where_(&db)
    );
    let Some((guard, signals)) = begin(
        &db,
        &dir,
        &question,
        a.yes,
        (!a.no_safety_backup).then_some(store::RESET_LABEL),
    )?
    else {
        return Ok(Outcome::Clean);
    };
    // The old database stays beside the new one until the step succeeded.
    load_scratch(&db, &guard, reimport.as_deref(), &signals)?;
    guard.swap_in(&db, swap::Op::Reset)?;
    match &reimport {
        Some(file) => note(format!("re-imported {}", file.display())),
        None => note(format!("database {} is empty", db.creds.database)),
    }
    if reimport.is_none() && detect_stack(&db).as_deref() == Some("wordpress") {
        note("no backup to re-import; WordPress will run its installer");
    }
    let ran = match &step {
        Some(step) => run_step(&db, step),
        None => Ok(()),
    };
    let ran = ran.and_then(|()| {
        if signals.raised() {
            bail!("interrupted")
        }
        Ok(())
    });
    match ran {
        Ok(()) => guard.finish(&db)?,
        Err(e) => {
            return Err(match guard.put_back(&db) {
                Ok(()) => e.context(format!(
                    "reset of database {} failed; the old database was put back as it was",
                    db.creds.database
                )),
                Err(u) => e.context(format!(
                    "reset of database {} failed, and putting the old database back failed too ({u:#}); the next dbdump run puts it back",
                    db.creds.database
                )),
            });
        }
    }
    Ok(Outcome::Clean)
}

/// The stack of a project: the registry's, else told by its files.
fn detect_stack(db: &Db) -> Option<String> {
    if let Some(s) = &db.stack {
        return Some(s.to_lowercase());
    }
    let dir = db.project_dir.as_ref()?;
    // The one framework lib finds (`berth::framework`); none or several: the
    // compose file may still name WordPress.
    if let Ok([one]) = berth::framework::detect(dir).as_deref() {
        Some(one.as_str().to_owned())
    } else {
        let compose = berth::compose::load_dir(dir).ok()?;
        compose
            .services
            .iter()
            .any(|s| s.image.as_deref().is_some_and(|i| i.contains("wordpress")))
            .then(|| "wordpress".into())
    }
}

/// The framework step after a reset, for stacks that have one: the
/// interpreters to try (the first that runs in the container is used), the
/// script and its arguments.
fn framework_command(stack: &str, seed: bool) -> Option<(&'static [&'static str], Vec<String>)> {
    let v = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match stack {
        "laravel" if seed => Some((
            &["php"],
            v(&["artisan", "migrate:fresh", "--force", "--seed"]),
        )),
        "laravel" => Some((&["php"], v(&["artisan", "migrate:fresh", "--force"]))),
        // Generated Django images have python3 only; some have python only.
        "django" => Some((
            &["python3", "python"],
            v(&["manage.py", "migrate", "--noinput"]),
        )),
        _ => None,
    }
}

/// The framework step, checked to run before anything is dropped.
struct AppStep {
    container: String,
    name: String,
    argv: Vec<String>,
}

/// The project's application container: running, not the database, not a
/// cache, mail catcher or proxy; a service named like an app first.
fn app_container<'a>(
    all: &'a [berth::docker::ContainerInfo],
    db_container: &str,
) -> Option<&'a berth::docker::ContainerInfo> {
    let preferred = ["app", "web", "php", "laravel", "django", "backend", "api"];
    let others = [
        "redis",
        "memcached",
        "mailpit",
        "mailhog",
        "nginx",
        "caddy",
        "traefik",
    ];
    let apps: Vec<_> = all
        .iter()
        .filter(|c| {
            c.state == "running"
                && c.id != db_container
                && engine::Engine::from_image(&c.image).is_none()
                && !others.iter().any(|x| c.image.contains(x))
        })
        .collect();
    apps.iter()
        .find(|c| preferred.contains(&c.service.as_str()))
        .or_else(|| apps.first())
        .copied()
}

/// Find the project's application container and check the step can run
/// there: `<interpreter> <script> --version` must succeed.
fn plan_step(db: &Db, interpreters: &[&str], args: &[String]) -> anyhow::Result<AppStep> {
    let shown = format!("{} {}", interpreters[0], args.join(" "));
    let Conn::Docker {
        rt,
        docker,
        container,
        ..
    } = &db.conn
    else {
        return Err(error_with_hint(
            format!(
                "the framework step `{shown}` needs the project's containers (not available with --url); nothing was changed"
            ),
            "run dbdump reset in the project's folder, or --project NAME",
        ));
    };
    let project = db.project.clone().unwrap_or_default();
    let all = rt.block_on(berth::docker::project_containers(
        docker,
        &[project.as_str()],
    ))?;
    let Some(app) = app_container(&all, container) else {
        return Err(error_with_hint(
            format!(
                "no running application container in project {project} to run `{shown}`; nothing was changed"
            ),
            "start the stack and run dbdump reset again, or run the command yourself",
        ));
    };
    let mut tried = Vec::new();
    for interp in interpreters {
        let probe = vec![
            (*interp).to_owned(),
            args[0].clone(),
            "--version".to_owned(),
        ];
        let mut sink = |_: &[u8]| Ok(());
        let r = rt.block_on(berth::docker::exec(
            docker,
            &app.id,
            &probe,
            &[],
            None,
            &mut sink,
        ));
        match r {
            Ok(r) if r.success() => {
                let mut command = vec![(*interp).to_owned()];
                command.extend(args.iter().cloned());
                return Ok(AppStep {
                    container: app.id.clone(),
                    name: app.name.clone(),
                    argv: command,
                });
            }
            Ok(r) => tried.push(format!(
                "`{}` exited with status {}{}",
                probe.join(" "),
                r.exit_code
                    .map_or_else(|| "unknown".into(), |c| c.to_string()),
                match r.stderr_text() {
                    t if t.is_empty() => String::new(),
                    t => format!(" ({})", t.lines().last().unwrap_or_default()),
                }
            )),
            Err(e) => tried.push(format!("`{}`: {e:#}", probe.join(" "))),
        }
    }
    Err(error_with_hint(
        format!(
            "the framework step cannot run in {}: {}; nothing was changed",
            app.name,
            tried.join("; ")
        ),
        "fix the application container (or run dbdump reset on a stack without a framework step)",
    ))
}

/// Run the framework's command in the project's application container.
fn run_step(db: &Db, step: &AppStep) -> anyhow::Result<()> {
    let Conn::Docker { rt, docker, .. } = &db.conn else {
        bail!("the framework step needs the project's containers");
    };
    note(format!(
        "running `{}` in {}",
        step.argv.join(" "),
        step.name
    ));
    let mut err = io::stderr();
    let mut sink = |b: &[u8]| err.write_all(b);
    let r = rt.block_on(berth::docker::exec(
        docker,
        &step.container,
        &step.argv,
        &[],
        None,
        &mut sink,
    ))?;
    let _ = io::stderr().write_all(&r.stderr);
    if !r.success() {
        bail!(
            "`{}` in {} exited with status {}",
            step.argv.join(" "),
            step.name,
            r.exit_code
                .map_or_else(|| "unknown".into(), |c| c.to_string())
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_steps() {
        let (i, a) = framework_command("laravel", true).unwrap();
        assert_eq!(
            (i, a.join(" ").as_str()),
            (&["php"][..], "artisan migrate:fresh --force --seed")
        );
        let (i, a) = framework_command("django", false).unwrap();
        assert_eq!(
            (i, a.join(" ").as_str()),
            (&["python3", "python"][..], "manage.py migrate --noinput")
        );
        assert!(framework_command("node", false).is_none());
    }
}
