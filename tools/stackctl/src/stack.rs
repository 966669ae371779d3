//! A compose stack that is not a registered project (the shared services):
//! brought up, waited for and taken down the way `start` and `stop` do it
//! for projects, without the registry, hooks or port claims.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use berth::Project;
use berth::docker::ContainerInfo;
use bollard::Docker;

use crate::driver::Driver;
use crate::engine::ServiceState;
use crate::progress::Progress;
use crate::ready::StackPlan;

/// The engine, its compose and one stack's files.
pub struct Stack {
    rt: tokio::runtime::Runtime,
    docker: Docker,
    driver: Driver,
    /// The stack as compose sees it: its name (`-p`) and folder.
    pub project: Project,
    files: Vec<PathBuf>,
}

impl Stack {
    /// Connect to the engine berth uses and pick its compose.
    pub fn new(project: Project, files: Vec<PathBuf>) -> anyhow::Result<Self> {
        let rt = berth::docker::runtime()?;
        let (docker, engine) = rt.block_on(crate::engine::connect_engine())?;
        let driver = Driver::detect(&engine)?;
        Ok(Self {
            rt,
            docker,
            driver,
            project,
            files,
        })
    }

    /// Which compose runs it.
    pub fn driver_name(&self) -> &'static str {
        self.driver.name
    }

    /// The stack's containers.
    pub fn containers(&self) -> anyhow::Result<Vec<ContainerInfo>> {
        self.rt.block_on(berth::docker::project_containers(
            &self.docker,
            &[self.project.name.as_str()],
        ))
    }

    /// The containers of these projects (none: every project's).
    pub fn containers_of(&self, projects: &[&str]) -> anyhow::Result<Vec<ContainerInfo>> {
        self.rt
            .block_on(berth::docker::project_containers(&self.docker, projects))
    }

    /// Pull or build what is missing, `up -d` these services (none: all),
    /// and wait until each runs and passes its healthcheck. A service that
    /// exits or turns unhealthy is an error naming it, with its last lines.
    pub fn up(
        &self,
        services: &[String],
        timeout: Duration,
        show_progress: bool,
    ) -> anyhow::Result<Vec<ServiceState>> {
        let env = BTreeMap::new();
        let p = &self.project;
        let mut progress = Progress::new(show_progress);
        let mut plan = StackPlan::load(p, &self.files, &env);
        if !services.is_empty() {
            // Only the services named are started, so only they are awaited.
            plan.long_running.retain(|s| services.contains(s));
        }
        let result = self
            .rt
            .block_on(crate::images::prepare(
                &self.docker,
                &self.driver,
                p,
                &self.files,
                &env,
                &plan,
                &mut progress,
            ))
            .and_then(|()| {
                progress.say(&format!("{}: creating and starting the containers", p.name));
                let mut action = vec!["up", "-d"];
                action.extend(services.iter().map(String::as_str));
                self.driver.run(p, &self.files, &env, &action)?;
                Ok(())
            })
            .and_then(|()| {
                self.rt.block_on(crate::ready::wait(
                    &self.docker,
                    p,
                    &plan,
                    timeout,
                    &mut progress,
                ))
            });
        progress.finish();
        result
    }

    /// Stop and remove the containers (named volumes stay).
    pub fn down(&self, timeout: Duration) -> anyhow::Result<()> {
        let t = berth::duration::whole_seconds(timeout).to_string();
        self.driver
            .run(
                &self.project,
                &self.files,
                &BTreeMap::new(),
                &["down", "-t", &t],
            )
            .map(|_| ())
    }

    /// `compose logs` of these services (none: all), each line to `line` as
    /// it comes; `follow` keeps reading until the stack stops or the user
    /// interrupts.
    pub fn logs(
        &self,
        services: &[String],
        follow: bool,
        tail: Option<usize>,
        line: &mut dyn FnMut(&str),
    ) -> anyhow::Result<()> {
        let tail = tail.map(|n| n.to_string());
        let mut action = vec!["logs", "--no-color"];
        if follow {
            action.push("--follow");
        }
        if let Some(t) = &tail {
            action.extend(["--tail", t]);
        }
        action.extend(services.iter().map(String::as_str));
        self.driver
            .run_lines(&self.project, &self.files, &BTreeMap::new(), &action, line)
            .map(|_| ())
    }

    /// The engine's client and runtime, for the caller's own queries.
    pub fn engine(&self) -> (&tokio::runtime::Runtime, &Docker) {
        (&self.rt, &self.docker)
    }
}
