//! `stackgen migrate`: move a project's database between its own server
//! and the shared one (`shared`), data and all, checked table by table
//! before the project's files are switched.
// Product names (PostgreSQL, MariaDB, MySQL) read better without backticks.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeMap;
use std::io::{Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, error_with_hint};
use berth::model::Compression;
use berth::shared::DbEngine;
use berth::stackfile::{Instance, edit};
use berth_dbdump::engine::{Family, quote_ident};
use berth_dbdump::target::{Db, ProjectRef};

use crate::ctx::Ctx;
use crate::services::{self, Change, Loaded};

/// Move a project's database to the shared server, or back to its own.
///
/// `--to shared`: the project's own database server (started alone if it
/// is not running) is dumped into a backup kept in the project's backup
/// folder (label before-migrate), the shared server is brought up
/// (`shared up`) with a database and user of the project's own
/// (`shared db create`), the dump is loaded as that user (every object is
/// its own), and every table's row count and hash of rows are compared.
/// Only then are berth.yaml (`shared: true`), the generated files and the
/// registry switched; the own server is stopped, its data volume kept
/// unless --with-data.
///
/// `--to own`: the reverse: the shared database is dumped (backup kept),
/// the own instance's server is started alone, the dump loaded as `app`,
/// compared, the files switched; the shared database is kept unless
/// --with-data (then `shared db drop`).
///
/// The project's app must not run (stop it with `stackctl stop`). A
/// failure before the switch leaves the project's files, registry entry
/// and own database as they were.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  stackgen migrate shop --to shared --dry-run        the steps, nothing changed
  stackgen migrate shop --to shared --yes            onto berth-shared-postgres
  stackgen migrate --dir ~/code/shop --to own --yes --with-data
  stackgen migrate shop --to shared --service analytics-db --yes

Exit status:
  0 moved (or --dry-run);
  1 refused: the project's app runs (stop it: stackctl stop NAME); nothing changed;
  2 bad input (no berth.yaml, an unknown or non-database instance, one already
    where --to points, an unregistered project), or a step failed: before the
    switch the project is as it was.")]
pub struct MigrateArgs {
    /// The registered project (default: the project in --dir).
    #[arg(value_name = "NAME", conflicts_with = "dir")]
    name: Option<String>,
    /// The project folder (default: the current folder).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// Where the database goes.
    #[arg(long, value_name = "WHERE", value_parser = ["shared", "own"])]
    to: String,
    /// The database instance to move (default: the project's database).
    #[arg(long, short, value_name = "INSTANCE")]
    service: Option<String>,
    /// After the switch, delete what the database left: the own server's
    /// container and data volume (--to shared), the shared database (--to own).
    #[arg(long)]
    with_data: bool,
    /// Print the steps and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short)]
    yes: bool,
}

/// The backup label of the database before the move.
const LABEL: &str = "before-migrate";

/// What the checks found.
struct Plan {
    l: Loaded,
    name: String,
    instance: String,
    service: String,
    engine: DbEngine,
    shared: berth::shared::Resolved,
    to_shared: bool,
}

/// `migrate`.
pub fn run(a: &MigrateArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let plan = check(&ctx, a)?;
    let steps = steps(&plan, a);
    if a.dry_run {
        let mut out = berth::io::stdout();
        for (i, s) in steps.iter().enumerate() {
            writeln!(out, "{}. {s}", i + 1)?;
        }
        out.flush()?;
        return Ok(Outcome::Clean);
    }
    if let Some(c) = running_app(&plan.name, &plan.instance)? {
        berth::cli::warn_with_hint(
            format!(
                "{} runs ({c}): its app would write while the database moves; nothing changed",
                plan.name
            ),
            format!("stop it first: stackctl stop {}", plan.name),
        );
        return Ok(Outcome::Found);
    }
    if !a.yes {
        for s in &steps {
            eprintln!("  {s}");
        }
    }
    let question = format!(
        "move the database of {} to {}?",
        plan.name,
        if plan.to_shared {
            "the shared server"
        } else {
            "its own server"
        }
    );
    if !berth::cli::confirm(&question, a.yes)? {
        return Ok(Outcome::Clean);
    }
    if plan.to_shared {
        to_shared(&ctx, &plan, a)
    } else {
        to_own(&ctx, &plan, a)
    }
}

/// Every check that can be made before anything changes (exit 2; a running
/// app: exit 1).
#[allow(clippy::too_many_lines)] // one list of checks, in the order they are made
fn check(ctx: &Ctx, a: &MigrateArgs) -> anyhow::Result<Plan> {
    let l = services::load(ctx, a.name.as_deref(), &a.dir)?;
    if l.first {
        return Err(error_with_hint(
            format!("{} has no {}", l.dir.display(), berth::stackfile::FILE),
            "run `stackgen generate` once to write it",
        ));
    }
    let name = l.state.name.clone();
    let instance = match &a.service {
        Some(s) => {
            if !l.file.instances.contains(s) {
                let names: Vec<&str> = l.file.instances.names().collect();
                return Err(error_with_hint(
                    format!("service '{s}' is not in {name}"),
                    format!("its services: {}", names.join(", ")),
                ));
            }
            s.clone()
        }
        None => l
            .file
            .instances
            .iter()
            .find(|(n, i)| DbEngine::of_service(i.service_name(n)).is_some())
            .map(|(n, _)| n.to_owned())
            .ok_or_else(|| {
                error_with_hint(
                    format!("{name} has no database instance"),
                    "only database servers (postgres, mariadb, mysql) move",
                )
            })?,
    };
    let inst = l.file.instance(&instance).cloned().unwrap_or_default();
    let service = inst.service_name(&instance).to_owned();
    let Some(engine) = DbEngine::of_service(&service) else {
        return Err(error_with_hint(
            format!("{instance} ({service}) is not a database server: it cannot move"),
            "only database servers (postgres, mariadb, mysql) move",
        ));
    };
    let to_shared = a.to == "shared";
    let projects = berth::registry::Registry::open(&ctx.paths).load()?;
    let Some(entry) = projects.iter().find(|p| p.name == name) else {
        return Err(error_with_hint(
            format!("{name} is not registered"),
            format!(
                "register it: stackgen ... --json | registry add -, or registry add {}",
                l.dir.display()
            ),
        ));
    };
    // A `--to own` killed after its files were switched left the registry
    // on the shared server: a new run finishes it.
    let interrupted = !to_shared && !inst.shared && entry.shared.contains(&instance);
    if inst.shared == to_shared && !interrupted {
        return Err(error_with_hint(
            format!(
                "{instance} of {name} is already {}",
                if to_shared {
                    "on the shared server"
                } else {
                    "the project's own"
                }
            ),
            format!(
                "nothing to move; `--to {}` moves it back",
                if to_shared { "own" } else { "shared" }
            ),
        ));
    }
    let shared = ctx.config.shared.instance(&instance)?;
    if shared.service != service {
        return Err(error_with_hint(
            format!(
                "the shared server {instance} runs {}, the project's {instance} is {service}",
                shared.service
            ),
            "name the shared instance alike in config.yaml (shared.services)",
        ));
    }
    if to_shared {
        let own = major(inst.version.as_deref());
        let theirs = major(shared.version.as_deref());
        if let (Some(o), Some(t)) = (own, theirs)
            && t < o
        {
            return Err(error_with_hint(
                format!(
                    "the shared {instance} runs version {t}, older than the project's {o}: its dump may not load"
                ),
                format!("set shared.services.{instance}.version to {o} or newer in config.yaml"),
            ));
        }
    }
    Ok(Plan {
        l,
        name,
        instance,
        service,
        engine,
        shared,
        to_shared,
    })
}

/// The major version of a version string (`16.4` -> 16).
fn major(v: Option<&str>) -> Option<u32> {
    v?.split(['.', '-']).next()?.parse().ok()
}

/// A running container of project `name` other than `instance`'s.
fn running_app(name: &str, instance: &str) -> anyhow::Result<Option<String>> {
    let out = Proc::new("docker")
        .args([
            "ps",
            "--filter",
            &format!("label=com.docker.compose.project={name}"),
            "--format",
            "{{.Label \"com.docker.compose.service\"}}\t{{.Names}}",
        ])
        .stdin(Stdio::null())
        .output()
        .context("cannot run docker")?;
    if !out.status.success() {
        bail!(
            "docker ps failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(s, _)| *s != instance)
        .map(|(_, c)| c.to_owned()))
}

fn steps(p: &Plan, a: &MigrateArgs) -> Vec<String> {
    let (n, i) = (&p.name, &p.instance);
    let volume = format!("{n}-{i}-data");
    let shared = p.shared.container();
    if p.to_shared {
        vec![
            format!("start {n}'s own {i} server if it is not running"),
            format!("back up its database (label {LABEL}, in the project's backup folder)"),
            format!("shared up {i}; shared db create {n} --instance {i}"),
            format!(
                "load the dump into {} on {shared} as {}",
                berth::shared::database(n),
                berth::shared::user(n)
            ),
            "compare every table's rows (count and hash)".to_owned(),
            format!(
                "switch: {} instance {i} shared: true, generated files and registry",
                berth::stackfile::FILE
            ),
            if a.with_data {
                format!("remove the container {n}-{i} and the volume {volume} (--with-data)")
            } else {
                format!("stop the container {n}-{i}; keep the volume {volume}")
            },
        ]
    } else {
        vec![
            format!(
                "back up {} on {shared} (label {LABEL})",
                berth::shared::database(n)
            ),
            format!(
                "switch {} instance {i} to its own server in the files (secrets made)",
                berth::stackfile::FILE
            ),
            format!("start {n}'s own {i} server alone"),
            "load the dump into its database as app".to_owned(),
            "compare every table's rows (count and hash)".to_owned(),
            "record it in the registry (not shared)".to_owned(),
            if a.with_data {
                format!("shared db drop {n} --instance {i} --yes (--with-data)")
            } else {
                format!("keep the shared database {}", berth::shared::database(n))
            },
        ]
    }
}

/// A progress line on stderr.
fn step(text: impl std::fmt::Display) {
    berth::info!("migrate: {text}");
}

/// The project as dbdump resolves it.
fn project_ref(p: &Plan) -> ProjectRef {
    ProjectRef {
        name: p.name.clone(),
        dir: p.l.dir.clone(),
        stack: Some(p.l.state.stack.clone()),
        shared: Vec::new(),
    }
}

/// The project's own server: started alone (its secrets from the store)
/// unless it runs, then reached as dbdump does.
fn own_db(p: &Plan) -> anyhow::Result<Db> {
    let pref = project_ref(p);
    let secrets =
        berth::secrets_migrate::prepare(&p.name, &p.l.dir, &berth_dbdump::password::Checker)?;
    step(format!("starting {}-{} alone", p.name, p.instance));
    let (program, mut args) = compose_cli();
    args.extend(["up", "-d", "--no-deps", &p.instance]);
    let out = Proc::new(program)
        .args(&args)
        .current_dir(&p.l.dir)
        .envs(secrets.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run docker compose")?;
    if !out.status.success() {
        bail!(
            "cannot start {} of {}: {}",
            p.instance,
            p.name,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut last = None;
    for _ in 0..60 {
        match berth_dbdump::target::from_project(&pref, Some(&p.instance), None) {
            Ok(db) if db.server_version().is_ok() => return Ok(db),
            Ok(_) => {}
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("{} of {} does not answer", p.instance, p.name)))
}

/// Docker's compose: the plugin when it runs, else `docker-compose`.
fn compose_cli() -> (&'static str, Vec<&'static str>) {
    let plugin = Proc::new("docker")
        .args(["compose", "version"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if plugin {
        ("docker", vec!["compose"])
    } else {
        ("docker-compose", Vec::new())
    }
}

/// The project's database on the shared server: as the administrator, on
/// the project's database.
fn shared_db(ctx: &Ctx, p: &Plan) -> anyhow::Result<Db> {
    let mut db = berth_dbdump::target::shared_admin(ctx.config.shared.name()?, &p.shared)?;
    db.creds.database = berth::shared::database(&p.name);
    db.project = Some(p.name.clone());
    Ok(db)
}

/// `shared ARGS...`, the program beside this one (else on PATH).
fn shared(args: &[&str]) -> anyhow::Result<()> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("shared")))
        .filter(|p| p.is_file());
    let program = beside
        .or_else(|| which::which("shared").ok())
        .ok_or_else(|| {
            error_with_hint(
                "the `shared` tool is not installed",
                "install berth's tools together (make install)",
            )
        })?;
    let status = Proc::new(&program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !status.success() {
        bail!(
            "`shared {}` failed (exit {})",
            args.join(" "),
            status.code().unwrap_or(-1)
        );
    }
    Ok(())
}

/// Dump `from`'s database without owners and privileges into a temporary
/// file in `dir` (MariaDB: without `DEFINER` clauses), for loading as
/// another user.
fn dump_plain(from: &Db, dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".migrate-")
        .suffix(".sql")
        .tempfile_in(dir)?;
    let mut argv = from.client.dump_argv(&from.creds, Some(from.engine));
    if from.family == Family::Postgres {
        argv.splice(1..1, ["--no-owner".into(), "--no-acl".into()]);
    }
    let mut buf = Vec::new();
    let mut sink = |b: &[u8]| {
        buf.extend_from_slice(b);
        Ok(())
    };
    let ran = from.conn.stream(&argv, &from.env(), None, &mut sink)?;
    if !ran.success() {
        return Err(ran.error(&format!("{} in {}", argv[0], from.conn.describe())));
    }
    if from.family == Family::MySql {
        buf = strip_definers(&String::from_utf8_lossy(&buf)).into_bytes();
    }
    file.write_all(&buf)?;
    file.flush()?;
    Ok(file)
}

/// A MySQL dump's text without its `DEFINER=` clauses (a quoted user, `@`,
/// a quoted host): the views, triggers and routines belong to whoever loads
/// them.
fn strip_definers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("DEFINER=`") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "DEFINER=".len()..];
        let end = quoted_end(after)
            .filter(|&u| after[u..].starts_with('@'))
            .and_then(|u| quoted_end(&after[u + 1..]).map(|h| u + 1 + h));
        if let Some(e) = end {
            rest = after[e..].trim_start_matches(' ');
        } else {
            out.push_str("DEFINER=");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The end of the backquoted name `text` starts with (doubled backquotes inside).
fn quoted_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    if b.first() != Some(&b'`') {
        return None;
    }
    let mut j = 1;
    while j < b.len() {
        if b[j] == b'`' {
            if b.get(j + 1) == Some(&b'`') {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

/// Load `file` into `to`'s database as `to`'s user.
fn load(to: &Db, file: &mut tempfile::NamedTempFile) -> anyhow::Result<()> {
    file.as_file_mut().rewind()?;
    let argv = to.client.load_argv(&to.creds, &to.creds.database);
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| {
        if out.len() < 64 * 1024 {
            out.extend_from_slice(b);
        }
        Ok(())
    };
    let mut input = std::io::BufReader::new(file.as_file_mut());
    let ran = to
        .conn
        .stream(&argv, &to.env(), Some(&mut input), &mut sink)?;
    if !ran.success() {
        return Err(ran.error(&format!("{} in {}", argv[0], to.conn.describe())));
    }
    Ok(())
}

/// Both fingerprints, equal, or an error naming the first table that differs.
fn compare(from: &Db, to: &Db) -> anyhow::Result<usize> {
    let a = berth_dbdump::fingerprint::tables(from, &from.creds.database)?;
    let b = berth_dbdump::fingerprint::tables(to, &to.creds.database)?;
    if a != b {
        let t = a
            .iter()
            .find(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .or_else(|| b.keys().find(|k| !a.contains_key(*k)).cloned())
            .unwrap_or_default();
        bail!(
            "the copy differs from the original at {t}: nothing switched (the original is untouched)"
        );
    }
    Ok(a.keys().filter(|k| !k.starts_with("seq:")).count())
}

/// `berth.yaml` with `instance` moved (`shared` set or cleared).
fn flipped(p: &Plan) -> anyhow::Result<String> {
    let mut inst: Instance = p.l.file.instance(&p.instance).cloned().unwrap_or_default();
    inst.shared = p.to_shared;
    if p.to_shared {
        inst.ports.clear();
    }
    let body = yaml_serde::to_value(&inst)?;
    Ok(edit::replace_instance(&p.l.text, &p.instance, &body))
}

/// Regenerate the project's files for the flipped instance.
fn switch_files(ctx: &Ctx, p: &Plan) -> anyhow::Result<()> {
    let l = services::load(ctx, None, &p.l.dir)?;
    let renew = [p.instance.clone()];
    let change = Change {
        dir: l.dir,
        text: flipped(p)?,
        publish: &[],
        dry_run: false,
        yes: true,
        with_data: false,
        question: String::new(),
        secrets: BTreeMap::new(),
        renew: &renew,
    };
    services::sync(ctx, &l.stack, l.state, &change)?;
    Ok(())
}

fn docker_quiet(args: &[&str]) -> anyhow::Result<bool> {
    Ok(Proc::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run docker")?
        .success())
}

fn to_shared(ctx: &Ctx, p: &Plan, a: &MigrateArgs) -> anyhow::Result<Outcome> {
    let dir = berth_dbdump::target::backup_dir(None, Some(&project_ref(p)))?;
    let own = own_db(p)?;
    step(format!("backing up {} of {}", own.creds.database, p.name));
    let backup = berth_dbdump::take_backup(&own, &dir, Some(LABEL), Compression::Zstd)?;
    let registry = berth::registry::Registry::open(&ctx.paths);
    let before = berth::registry::find(&registry.load()?, &p.name)?.clone();
    let recorded = std::cell::RefCell::new(None::<berth::Project>);
    let undo = |e: anyhow::Error| -> anyhow::Error {
        // `shared db create` recorded the server: take it back.
        let _ = registry.update_project(&p.name, |r| {
            r.shared.clone_from(&before.shared);
            r.environment.clone_from(&before.environment);
            Ok((true, ()))
        });
        e.context(format!(
            "nothing switched: {} still uses its own {} (backup: {})",
            p.name,
            p.instance,
            backup.file.display()
        ))
    };
    let copied = (|| -> anyhow::Result<usize> {
        step(format!("shared up {}", p.instance));
        shared(&["up", &p.instance])?;
        shared(&["db", "create", &p.name, "--instance", &p.instance])?;
        let admin = shared_db(ctx, p)?;
        if !berth_dbdump::fingerprint::tables(&admin, &admin.creds.database)?.is_empty() {
            // Left by an earlier move (kept by `--to own`, or a move cut
            // short): the project's own database is the one that counts.
            step(format!(
                "the shared database {} holds tables from before: dropped (backed up) and made anew",
                admin.creds.database
            ));
            shared(&["db", "drop", &p.name, "--instance", &p.instance, "--yes"])?;
            shared(&["db", "create", &p.name, "--instance", &p.instance])?;
        }
        // `shared db create` records the server in the registry: taken
        // back at once, recorded again at the switch.
        let made = berth::registry::find(&registry.load()?, &p.name)?.clone();
        recorded.replace(Some(made));
        registry.update_project(&p.name, |r| {
            r.shared.clone_from(&before.shared);
            r.environment.clone_from(&before.environment);
            Ok((true, ()))
        })?;
        step(format!(
            "copying {} to {}",
            own.creds.database,
            p.shared.container()
        ));
        let mut dump = dump_plain(&own, &dir)?;
        let mut mine = shared_db(ctx, p)?;
        mine.creds.user = berth::shared::user(&p.name);
        let key = berth::shared::password_secret(&p.instance, &p.service);
        mine.creds.password = berth::secrets::Store::open()?
            .load(&p.name)?
            .get(&key)
            .map(str::to_owned);
        load(&mine, &mut dump)?;
        step("comparing every table");
        compare(&own, &admin)
    })()
    .map_err(undo)?;
    berth::cli::pause_point("migrate:copied");
    step(format!("{copied} tables equal; switching {}", p.name));
    switch_files(ctx, p)?;
    let made = recorded.take().unwrap_or_else(|| before.clone());
    registry.update_project(&p.name, |r| {
        r.shared.clone_from(&made.shared);
        r.environment.clone_from(&made.environment);
        r.services.retain(|s| s != &p.instance);
        r.service_ports.retain(|b| b.service != p.instance);
        if !r.shared.contains(&p.instance) {
            r.shared.push(p.instance.clone());
        }
        r.refresh_exposed_ports();
        Ok((true, ()))
    })?;
    let container = format!("{}-{}", p.name, p.instance);
    let volume = format!("{}-{}-data", p.name, p.instance);
    if a.with_data {
        docker_quiet(&["rm", "-f", "-v", &container])?;
        if !docker_quiet(&["volume", "rm", &volume])? {
            berth::cli::warn(crate::TOOL, format!("cannot delete the volume {volume}"));
        }
    } else {
        docker_quiet(&["stop", &container])?;
        docker_quiet(&["rm", &container])?;
    }
    berth::info!(
        "moved {} of {} to {} ({copied} tables, backup {}); `stackctl start {}` runs it there",
        p.instance,
        p.name,
        p.shared.container(),
        backup.file.display(),
        p.name
    );
    Ok(Outcome::Clean)
}

fn to_own(ctx: &Ctx, p: &Plan, a: &MigrateArgs) -> anyhow::Result<Outcome> {
    let dir = berth_dbdump::target::backup_dir(None, Some(&project_ref(p)))?;
    step(format!("shared up {}", p.instance));
    shared(&["up", &p.instance])?;
    let admin = shared_db(ctx, p)?;
    step(format!(
        "backing up {} on {}",
        admin.creds.database,
        p.shared.container()
    ));
    let backup = berth_dbdump::take_backup(&admin, &dir, Some(LABEL), Compression::Zstd)?;
    let mut dump = dump_plain(&admin, &dir)?;
    // The files name the own server's secrets only once switched: keep
    // every file as it was until the copy is equal.
    let saved = snapshot(&p.l.dir)?;
    let copied = (|| -> anyhow::Result<usize> {
        switch_files(ctx, p)?;
        let q = Plan {
            l: services::load(ctx, None, &p.l.dir)?,
            name: p.name.clone(),
            instance: p.instance.clone(),
            service: p.service.clone(),
            engine: p.engine,
            shared: p.shared.clone(),
            to_shared: false,
        };
        let mut own = own_db(&q)?;
        // A volume kept from before the move holds the old copy: replaced.
        let d = quote_ident(own.family, &own.creds.database);
        let sql = match own.family {
            Family::Postgres => format!(
                "DROP DATABASE IF EXISTS {d} WITH (FORCE);\nCREATE DATABASE {d} OWNER {};\n",
                quote_ident(own.family, &own.creds.user)
            ),
            Family::MySql => format!("DROP DATABASE IF EXISTS {d};\nCREATE DATABASE {d};\n"),
        };
        own.run_script(&own.maintenance_db(), &sql)?;
        if own.family == Family::MySql {
            // Loaded as the app's user (dbdump reaches the server as root),
            // so views and triggers are its own.
            let base = if p.service == "mysql" {
                "MYSQL_PASSWORD"
            } else {
                "MARIADB_PASSWORD"
            };
            let key = format!(
                "{}{base}",
                crate::generate::secret_prefix(&p.instance, &p.service)
            );
            let password = berth::secrets::Store::open()?
                .load(&p.name)?
                .get(&key)
                .map(str::to_owned);
            "app".clone_into(&mut own.creds.user);
            own.creds.password = password;
        }
        step(format!(
            "copying {} into {}-{}",
            admin.creds.database, p.name, p.instance
        ));
        load(&own, &mut dump)?;
        step("comparing every table");
        compare(&admin, &own)
    })();
    let copied = match copied {
        Ok(n) => n,
        Err(e) => {
            let _ = docker_quiet(&["rm", "-f", &format!("{}-{}", p.name, p.instance)]);
            put_back(&saved)?;
            return Err(e.context(format!(
                "nothing switched: {} still uses the shared {} (backup: {})",
                p.name,
                p.instance,
                backup.file.display()
            )));
        }
    };
    let registry = berth::registry::Registry::open(&ctx.paths);
    let prefix = berth::shared::env_prefix(&p.instance, &p.service);
    registry.update_project(&p.name, |r| {
        r.shared.retain(|s| s != &p.instance);
        for k in ["HOST", "PORT", "DATABASE", "USER"] {
            r.environment.remove(&format!("{prefix}_{k}"));
        }
        if !r.services.contains(&p.instance) {
            r.services.push(p.instance.clone());
        }
        Ok((true, ()))
    })?;
    if a.with_data {
        shared(&["db", "drop", &p.name, "--instance", &p.instance, "--yes"])?;
    } else {
        berth::info!(
            "the shared database {} is kept; drop it with `shared db drop {}`",
            berth::shared::database(&p.name),
            p.name
        );
    }
    berth::info!(
        "moved {} of {} to its own server ({copied} tables, backup {})",
        p.instance,
        p.name,
        backup.file.display()
    );
    Ok(Outcome::Clean)
}

/// The files a switch writes.
const FILES: [&str; 4] = [
    berth::stackfile::FILE,
    crate::SERVICES_FILE,
    ".env",
    crate::state::STATE_FILE,
];

/// The bytes of the files a switch writes (None: absent).
fn snapshot(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Option<Vec<u8>>)>> {
    FILES
        .iter()
        .map(|f| {
            let path = dir.join(f);
            match std::fs::read(&path) {
                Ok(b) => Ok((path, Some(b))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((path, None)),
                Err(e) => {
                    Err(anyhow::Error::from(e).context(format!("cannot read {}", path.display())))
                }
            }
        })
        .collect()
}

/// Write back what [`snapshot`] read.
fn put_back(saved: &[(PathBuf, Option<Vec<u8>>)]) -> anyhow::Result<()> {
    for (path, bytes) in saved {
        let mode = if path.ends_with(".env") { 0o600 } else { 0o644 };
        match bytes {
            Some(b) => berth::atomic::write(path, b, mode)
                .map(|_| ())
                .with_context(|| format!("cannot put back {}", path.display()))?,
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_are_taken_out_and_the_rest_kept() {
        let dump = "/*!50013 DEFINER=`app`@`%` SQL SECURITY DEFINER */\n\
                    /*!50003 CREATE*/ /*!50017 DEFINER=`a``b`@`localhost`*/ /*!50003 TRIGGER t */\n\
                    SELECT 'DEFINER=x';";
        assert_eq!(
            strip_definers(dump),
            "/*!50013 SQL SECURITY DEFINER */\n\
             /*!50003 CREATE*/ /*!50017 */ /*!50003 TRIGGER t */\n\
             SELECT 'DEFINER=x';"
        );
    }

    #[test]
    fn majors() {
        assert_eq!(major(Some("16.4")), Some(16));
        assert_eq!(major(Some("11")), Some(11));
        assert_eq!(major(None), None);
    }
}
