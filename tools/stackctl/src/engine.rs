//! The real state of stacks, from one engine query: per service its state,
//! health and published ports; per project a status for the registry.

use berth::cli::ResultExt as _;
use berth::docker::ContainerInfo;
use berth::{PortBinding, Status};
use serde::Serialize;

/// One service's container as the engine reports it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceState {
    pub service: String,
    pub container: String,
    /// `running`, `exited`, `created`, `restarting`, `paused`, `dead`.
    pub state: String,
    /// `healthy`, `unhealthy`, `starting`, or null without a healthcheck.
    pub health: Option<String>,
    /// The exit code of an exited container, else null.
    pub exit_code: Option<i64>,
    pub ports: Vec<PortBinding>,
}

impl ServiceState {
    /// A one-shot service (a migration, a seed) that ran and exited 0. With
    /// other services running it is done, not down: Docker's `on-failure`
    /// restart policy and compose's `service_completed_successfully` see it so.
    pub fn completed(&self) -> bool {
        self.state == "exited" && self.exit_code == Some(0)
    }

    /// Exited with an error, or dead.
    pub fn failed(&self) -> bool {
        self.state == "dead" || (self.state == "exited" && !self.completed())
    }
}

impl From<&ContainerInfo> for ServiceState {
    fn from(c: &ContainerInfo) -> Self {
        Self {
            service: c.service.clone(),
            container: c.name.clone(),
            state: c.state.clone(),
            health: c.health.clone(),
            exit_code: c.exit_code,
            ports: c.ports.clone(),
        }
    }
}

/// The status a project's containers add up to, with the reason when it is
/// not plainly running or stopped. `recorded` is what the registry says:
/// containers that stopped while the project was meant to run are an error,
/// stopped ones after `stackctl stop` are stopped.
pub fn summarize(recorded: Status, services: &[ServiceState]) -> (Status, Option<String>) {
    if services.is_empty() {
        return (Status::Stopped, None);
    }
    let running = services.iter().filter(|s| s.state == "running").count();
    // One-shot services that completed count only while others run.
    let services: Vec<&ServiceState> = if running > 0 {
        services.iter().filter(|s| !s.completed()).collect()
    } else {
        services.iter().collect()
    };
    if let Some(s) = services
        .iter()
        .find(|s| s.health.as_deref() == Some("unhealthy"))
    {
        return (
            Status::Error,
            Some(format!("service {} is unhealthy", s.service)),
        );
    }
    if let Some(s) = services
        .iter()
        .find(|s| matches!(s.state.as_str(), "restarting" | "dead"))
    {
        return (
            Status::Error,
            Some(format!("service {} is {}", s.service, s.state)),
        );
    }
    if running == services.len() {
        return (Status::Running, None);
    }
    let down: Vec<&str> = services
        .iter()
        .filter(|s| s.state != "running")
        .map(|s| s.service.as_str())
        .collect();
    if running > 0 || matches!(recorded, Status::Running | Status::Error) {
        let why = if running > 0 {
            format!("service(s) {} not running", down.join(", "))
        } else {
            format!(
                "service(s) {} stopped while the project was meant to run",
                down.join(", ")
            )
        };
        return (Status::Error, Some(why));
    }
    (Status::Stopped, None)
}

/// Services of `project` among `containers`.
pub fn services_of(containers: &[ContainerInfo], project: &str) -> Vec<ServiceState> {
    containers
        .iter()
        .filter(|c| c.project == project)
        .map(ServiceState::from)
        .collect()
}

/// Connect to the engine, with a hint when it cannot be reached.
pub async fn connect() -> anyhow::Result<bollard::Docker> {
    Ok(connect_engine().await?.0)
}

/// Connect to the engine and say which one answers.
pub async fn connect_engine() -> anyhow::Result<(bollard::Docker, berth::runtime::Engine)> {
    berth::docker::connect_engine().await.hint(ENGINE_HINT)
}

const ENGINE_HINT: &str = "start the engine (`dockerd &`, `sudo systemctl start docker`, or \
     `systemctl --user start podman.socket`), or point DOCKER_HOST at a running one; \
     `stackctl doctor` checks it";

/// List the containers of these projects (all compose projects when empty)
/// in one query: no version round trip first, the query itself shows
/// whether the engine answers.
pub fn containers(projects: &[&str]) -> anyhow::Result<Vec<ContainerInfo>> {
    containers_of(&berth::runtime::Engine::current()?, projects, true)
}

/// [`containers`] of a chosen engine; `health` false leaves Podman's
/// health out (one request, as `exec` wants).
pub fn containers_of(
    engine: &berth::runtime::Engine,
    projects: &[&str],
    health: bool,
) -> anyhow::Result<Vec<ContainerInfo>> {
    let rt = berth::docker::runtime()?;
    rt.block_on(async {
        let docker = berth::docker::client_for(engine)?;
        if health {
            berth::docker::project_containers(&docker, projects).await
        } else {
            berth::docker::project_containers_as_listed(&docker, projects).await
        }
    })
    .hint(ENGINE_HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, state: &str, health: Option<&str>) -> ServiceState {
        ServiceState {
            service: name.into(),
            container: format!("p-{name}-1"),
            state: state.into(),
            health: health.map(Into::into),
            exit_code: (state == "exited").then_some(137),
            ports: vec![],
        }
    }

    #[test]
    fn states_add_up() {
        assert_eq!(summarize(Status::Running, &[]).0, Status::Stopped);
        let up = [
            svc("db", "running", Some("healthy")),
            svc("app", "running", None),
        ];
        assert_eq!(summarize(Status::Stopped, &up).0, Status::Running);
        let sick = [svc("db", "running", Some("unhealthy"))];
        assert_eq!(summarize(Status::Running, &sick).0, Status::Error);
        let killed = [svc("db", "exited", None)];
        assert_eq!(summarize(Status::Running, &killed).0, Status::Error);
        assert_eq!(summarize(Status::Stopped, &killed).0, Status::Stopped);
        let partial = [svc("db", "exited", None), svc("app", "running", None)];
        assert_eq!(summarize(Status::Stopped, &partial).0, Status::Error);
    }

    #[test]
    fn a_one_shot_that_exited_0_is_done_while_others_run() {
        let mut migrate = svc("migrate", "exited", None);
        migrate.exit_code = Some(0);
        let app = svc("app", "running", None);
        assert!(migrate.completed() && !migrate.failed());
        assert_eq!(
            summarize(Status::Running, &[migrate.clone(), app]).0,
            Status::Running
        );
        // Alone, it is a project that stopped.
        assert_eq!(
            summarize(Status::Running, std::slice::from_ref(&migrate)).0,
            Status::Error
        );
        assert_eq!(summarize(Status::Stopped, &[migrate]).0, Status::Stopped);
        let mut crashed = svc("migrate", "exited", None);
        crashed.exit_code = Some(1);
        assert!(crashed.failed());
        assert_eq!(
            summarize(Status::Running, &[crashed, svc("app", "running", None)]).0,
            Status::Error
        );
    }
}
