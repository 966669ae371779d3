//! The shared servers a project takes (`shared` in its registry entry):
//! brought up, and the project's database created on them, before the
//! project starts. stackctl runs the `shared` tool for it (installed beside
//! stackctl), as a user would: `shared up NAME...`, then `shared db create`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use berth::Project;
use berth::cli::error_with_hint;

/// The `shared` program: beside this one, else on PATH.
fn program() -> anyhow::Result<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("shared")))
        .filter(|p| p.is_file());
    beside
        .or_else(|| which::which("shared").ok())
        .ok_or_else(|| {
            error_with_hint(
                "the project takes shared servers, and the `shared` tool is not installed",
                "install berth's tools together (make install)",
            )
        })
}

/// Run `shared ARGS...`, its messages on stderr as they come; an error
/// names what failed.
fn run(args: &[String]) -> anyhow::Result<()> {
    let mut args = args.to_vec();
    if berth::cli::is_quiet() {
        args.insert(0, "-q".into());
    }
    let program = program()?;
    let out = duct::cmd(&program, &args)
        .stdin_null()
        .stdout_null()
        .unchecked()
        .run()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "`shared {}` failed (exit {})",
            args.join(" "),
            out.status.code().unwrap_or(-1)
        );
    }
    Ok(())
}

/// Bring up the project's shared servers and create its databases on them
/// (both no-ops when done already).
pub fn ensure(p: &Project, timeout: Duration) -> anyhow::Result<()> {
    if p.shared.is_empty() {
        return Ok(());
    }
    let mut up = vec!["up".to_owned()];
    up.extend(p.shared.iter().cloned());
    up.extend([
        "--timeout".to_owned(),
        format!("{}s", timeout.as_secs().max(1)),
    ]);
    run(&up).with_context(|| format!("the shared servers of '{}' did not come up", p.name))?;
    let paths = berth::paths::Paths::from_env()?;
    let config = berth::config::Config::load(&paths)?;
    for inst in &p.shared {
        let service = config
            .shared
            .instances()?
            .into_iter()
            .find(|i| &i.name == inst)
            .map_or_else(|| inst.clone(), |i| i.service);
        if berth::shared::DbEngine::of_service(&service).is_some() {
            run(&[
                "db".into(),
                "create".into(),
                p.name.clone(),
                "--instance".into(),
                inst.clone(),
            ])
            .with_context(|| format!("no database for '{}' on shared {inst}", p.name))?;
        }
    }
    Ok(())
}

/// Join the project's shared servers to its networks (no alias: reached by
/// their container names, `berth-shared-postgres`).
pub async fn connect(docker: &bollard::Docker, p: &Project) -> anyhow::Result<()> {
    let config = berth::config::Config::load(&berth::paths::Paths::from_env()?)?;
    let servers: Vec<String> = p
        .shared
        .iter()
        .map(|i| config.shared.container(i))
        .collect();
    berth::docker::connect_to_project(docker, &p.name, &servers)
        .await
        .with_context(|| {
            format!(
                "cannot join the shared servers to the network of '{}'",
                p.name
            )
        })
}
