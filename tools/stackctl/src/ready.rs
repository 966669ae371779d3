//! What "started" means: every long-running service runs (and passes its
//! healthcheck), one-shots exited 0, and the app answers HTTP on the
//! project's port when no healthcheck speaks for it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use berth::Project;
use berth::compose::{self, Compose};
use bollard::Docker;
use yaml_serde::Value;

use crate::engine::{self, ServiceState};
use crate::progress::Progress;

/// What the compose files say about the services, for the start.
#[derive(Debug, Default)]
pub struct StackPlan {
    /// The compose project as loaded (None when it could not be read here;
    /// compose itself then says why).
    pub compose: Option<Compose>,
    /// Services meant to keep running: they publish ports, restart
    /// `always`/`unless-stopped`, have a healthcheck, or serve the app.
    pub long_running: HashSet<String>,
    /// The service publishing the project's HTTP port.
    pub app: Option<String>,
}

fn key<'a>(raw: &'a yaml_serde::Mapping, k: &str) -> Option<&'a Value> {
    raw.get(Value::String(k.to_owned()))
}

impl StackPlan {
    /// Read the project's compose files with the environment compose gets
    /// (the registry's variables over the process environment over `.env`).
    pub fn load(p: &Project, files: &[std::path::PathBuf], env: &BTreeMap<String, String>) -> Self {
        // lib's reader of the folder's `.env`: a secret it names as in the
        // store counts as set (stackctl hands it to compose).
        let base = compose::Env::for_dir(&p.path).unwrap_or_else(|_| {
            compose::Env::from_maps(std::env::vars().collect(), HashMap::new())
        });
        let overrides: Vec<(String, String)> =
            env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let compose = compose::load_files(files, &base.with_overrides(&overrides)).ok();
        Self::from_compose(p, compose)
    }

    pub fn from_compose(p: &Project, compose: Option<Compose>) -> Self {
        let mut plan = Self::default();
        let mut one_shots = HashSet::new();
        for s in compose.iter().flat_map(|c| &c.services) {
            let restart = key(&s.raw, "restart").and_then(Value::as_str);
            let healthcheck = key(&s.raw, "healthcheck").is_some_and(|h| {
                key(
                    h.as_mapping().unwrap_or(&yaml_serde::Mapping::new()),
                    "disable",
                )
                .and_then(Value::as_bool)
                    != Some(true)
            });
            if !s.ports.is_empty()
                || healthcheck
                || matches!(restart, Some("always" | "unless-stopped"))
            {
                plan.long_running.insert(s.name.clone());
            }
            if p.port.is_some() && s.ports.iter().any(|b| b.published == p.port) {
                plan.app = Some(s.name.clone());
            }
            // Waited for with `service_completed_successfully`: a one-shot.
            if let Some(deps) = key(&s.raw, "depends_on").and_then(Value::as_mapping) {
                for (dep, how) in deps {
                    let done = how
                        .as_mapping()
                        .and_then(|m| key(m, "condition"))
                        .and_then(Value::as_str)
                        == Some("service_completed_successfully");
                    if let (true, Some(dep)) = (done, dep.as_str()) {
                        one_shots.insert(dep.to_owned());
                    }
                }
            }
        }
        if plan.app.is_none() && p.port.is_some() {
            plan.app = p
                .service_ports
                .iter()
                .find(|b| b.published == p.port)
                .map(|b| b.service.clone());
        }
        if let Some(app) = &plan.app {
            plan.long_running.insert(app.clone());
        }
        for s in &one_shots {
            if plan.app.as_ref() != Some(s) {
                plan.long_running.remove(s);
            }
        }
        plan.compose = compose;
        plan
    }
}

/// How often the app's port is probed once only it is left, and for how
/// long before the containers are looked at again.
const PROBE_EVERY: Duration = Duration::from_millis(20);
const PROBE_ROUND: Duration = Duration::from_millis(500);

/// The poll interval of the engine: 50 ms for the first 10 s, then slower.
fn interval(elapsed: Duration) -> Duration {
    match elapsed.as_secs() {
        0..10 => Duration::from_millis(50),
        10..30 => Duration::from_millis(100),
        _ => Duration::from_millis(250),
    }
}

/// Why a service counts as down now, if it does.
fn down_reason(s: &ServiceState, long_running: bool) -> Option<String> {
    let code = s.exit_code.map(|c| format!(" ({c})")).unwrap_or_default();
    match s.state.as_str() {
        "restarting" => Some(format!(
            "service {} exited{code} and is restarting",
            s.service
        )),
        "dead" => Some(format!("service {} is dead", s.service)),
        "exited" if !s.completed() => Some(format!("service {} exited{code}", s.service)),
        "exited" if long_running => Some(format!(
            "service {} exited{code}, but it is meant to keep running",
            s.service
        )),
        _ if s.health.as_deref() == Some("unhealthy") => Some(format!(
            "service {} is unhealthy (its healthcheck fails)",
            s.service
        )),
        _ => None,
    }
}

/// Whether the app answers HTTP: any status below 500 (a 404 at `/` is an
/// app that answers); 5xx and no answer are not ready yet.
fn answers(port: u16) -> Result<u16, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let code = crate::health::get(
        addr,
        &format!("127.0.0.1:{port}"),
        "/",
        Duration::from_secs(1),
    )?;
    if code < 500 {
        Ok(code)
    } else {
        Err(format!("answered {code}"))
    }
}

/// Wait until the project is started (see the module doc), failing as soon
/// as a service is down, with its exit code and last log lines.
pub async fn wait(
    docker: &Docker,
    p: &Project,
    plan: &StackPlan,
    timeout: Duration,
    progress: &mut Progress,
) -> anyhow::Result<Vec<ServiceState>> {
    let began = Instant::now();
    let mut probe_error: Option<String> = None;
    loop {
        let containers = berth::docker::project_containers(docker, &[p.name.as_str()]).await?;
        let services = engine::services_of(&containers, &p.name);
        for s in &services {
            if let Some(why) = down_reason(s, plan.long_running.contains(&s.service)) {
                let tail = crate::logs::tail_text(docker, &s.container, 5).await;
                anyhow::bail!("{why}{tail}");
            }
        }
        let ready = |s: &ServiceState| {
            s.completed()
                || (s.state == "running" && s.health.as_deref().is_none_or(|h| h == "healthy"))
        };
        let waiting: Vec<String> = services
            .iter()
            .filter(|s| !ready(s))
            .map(|s| {
                format!(
                    "{} ({})",
                    s.service,
                    s.health.as_deref().unwrap_or(&s.state)
                )
            })
            .collect();
        // The app without a healthcheck of its own: its port must answer.
        let probe = match (&plan.app, p.port) {
            (Some(app), Some(port)) => services
                .iter()
                .find(|s| &s.service == app && s.health.is_none())
                .map(|_| (app, port)),
            _ => None,
        };
        let missing: Vec<&String> = plan
            .long_running
            .iter()
            .filter(|n| !services.iter().any(|s| &s.service == *n))
            .collect();
        if !services.is_empty() && waiting.is_empty() && missing.is_empty() {
            match probe {
                None => return Ok(services),
                Some((app, port)) => {
                    // Only the port is left: probe it closely (a connection
                    // on loopback is cheap), looking at the containers again
                    // every PROBE_ROUND to see a crash.
                    let round = Instant::now();
                    loop {
                        match answers(port) {
                            Ok(_) => return Ok(services),
                            Err(e) => {
                                progress.say(&format!(
                                    "{}: waiting for {app} to answer on http://127.0.0.1:{port}/",
                                    p.name
                                ));
                                probe_error = Some(format!(
                                    "{app} does not answer on http://127.0.0.1:{port}/ ({e})"
                                ));
                            }
                        }
                        if round.elapsed() >= PROBE_ROUND || began.elapsed() >= timeout {
                            break;
                        }
                        tokio::time::sleep(PROBE_EVERY).await;
                    }
                }
            }
        } else {
            progress.say(&format!("{}: waiting for {}", p.name, waiting.join(", ")));
        }
        if began.elapsed() >= timeout {
            let waiting = if services.is_empty() {
                "no containers appeared".to_owned()
            } else if !waiting.is_empty() {
                format!("still waiting for {}", waiting.join(", "))
            } else if let Some(e) = probe_error {
                e
            } else {
                format!(
                    "no container for {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(berth::cli::error_with_hint(
                format!("not ready within {}s: {waiting}", timeout.as_secs()),
                format!(
                    "see `stackctl logs {}`, or allow longer with --timeout",
                    p.name
                ),
            ));
        }
        tokio::time::sleep(interval(began.elapsed())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str, port: Option<u16>) -> StackPlan {
        let dir = std::env::temp_dir().join(format!(
            "stackctl-ready-{}-{}",
            std::process::id(),
            yaml.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("compose.yaml");
        std::fs::write(&file, yaml).unwrap();
        let p = Project {
            name: "p".into(),
            path: dir.clone(),
            port,
            ..Project::default()
        };
        let plan = StackPlan::load(&p, &[file], &BTreeMap::new());
        std::fs::remove_dir_all(&dir).unwrap();
        plan
    }

    #[test]
    fn long_running_services_and_the_app_come_from_the_compose_file() {
        let plan = plan(
            "services:
  web:
    image: x
    ports: [\"127.0.0.1:8080:80\"]
  worker:
    image: x
    restart: unless-stopped
  db:
    image: x
    healthcheck: {test: [\"CMD\", \"true\"]}
  migrate:
    image: x
  seed:
    image: x
    restart: always
  after:
    image: x
    depends_on: {seed: {condition: service_completed_successfully}}
",
            Some(8080),
        );
        assert_eq!(plan.app.as_deref(), Some("web"));
        let mut lr: Vec<&str> = plan.long_running.iter().map(String::as_str).collect();
        lr.sort_unstable();
        assert_eq!(lr, ["db", "web", "worker"]);
    }

    #[test]
    fn a_service_that_exited_is_down_unless_it_is_a_one_shot_that_succeeded() {
        let s = |state: &str, code: Option<i64>| ServiceState {
            service: "web".into(),
            container: "p-web-1".into(),
            state: state.into(),
            health: None,
            exit_code: code,
            ports: vec![],
        };
        assert_eq!(down_reason(&s("running", None), true), None);
        assert_eq!(down_reason(&s("exited", Some(0)), false), None);
        assert!(
            down_reason(&s("exited", Some(0)), true)
                .unwrap()
                .contains("exited (0), but")
        );
        assert!(
            down_reason(&s("exited", Some(1)), false)
                .unwrap()
                .contains("exited (1)")
        );
        assert!(
            down_reason(&s("restarting", Some(1)), false)
                .unwrap()
                .contains("exited (1) and is restarting")
        );
        assert!(interval(Duration::from_secs(1)) <= Duration::from_millis(50));
    }
}
