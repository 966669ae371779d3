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

/// Bring up the project's shared servers and create its databases on them,
/// unless `containers` (the engine's, all projects) show the servers
/// running and healthy and the registry records the databases.
pub fn ensure(
    p: &Project,
    containers: &[berth::docker::ContainerInfo],
    timeout: Duration,
) -> anyhow::Result<()> {
    if p.shared.is_empty() {
        return Ok(());
    }
    let paths = berth::paths::Paths::from_env()?;
    let config = berth::config::Config::load(&paths)?;
    let up_already = p.shared.iter().all(|i| {
        let name = config.shared.container(i);
        containers.iter().any(|c| {
            c.name == name
                && c.state == "running"
                && c.health.as_deref().is_none_or(|h| h == "healthy")
        })
    });
    if !up_already {
        let mut up = vec!["up".to_owned()];
        up.extend(p.shared.iter().cloned());
        up.extend([
            "--timeout".to_owned(),
            format!("{}s", timeout.as_secs().max(1)),
        ]);
        run(&up).with_context(|| format!("the shared servers of '{}' did not come up", p.name))?;
    }
    let configured = config.shared.instances()?;
    for inst in &p.shared {
        let service = configured
            .iter()
            .find(|i| &i.name == inst)
            .map_or_else(|| inst.clone(), |i| i.service.clone());
        if !berth::shared::has_accounts(&service) {
            continue;
        }
        let key = format!("{}_USER", berth::shared::env_prefix(inst, &service));
        let recorded = p.environment.get(&key) == Some(&berth::shared::user(&p.name));
        if up_already && recorded {
            continue;
        }
        run(&[
            "db".into(),
            "create".into(),
            p.name.clone(),
            "--instance".into(),
            inst.clone(),
        ])
        .with_context(|| format!("no database for '{}' on shared {inst}", p.name))?;
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
