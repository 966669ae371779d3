//! What the commands share: the loaded config, paths and templates, the
//! host ports they pick, and showing a plan before it is applied.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;

use berth::claims;
use berth::cli::{confirm, error_with_hint, warn};
use berth::config::Config;
use berth::paths::Paths;
use berth::registry::{self, Registry};

use crate::TOOL;
use crate::envfile;
use crate::generate::SERVICES_FILE;
use crate::plan::Plan;
use crate::templates::Library;

/// The environment things a command needs.
pub(crate) struct Ctx {
    pub(crate) config: Config,
    pub(crate) paths: Paths,
    pub(crate) lib: Library,
}

impl Ctx {
    pub(crate) fn load() -> anyhow::Result<Self> {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        config.check_images(&paths)?;
        let lib = Library::load(&paths, &config)?;
        Ok(Self { config, paths, lib })
    }

    /// Free host ports from the configured range, as `ports alloc` gives them.
    pub(crate) fn allocate(&self, count: usize, also: &[u16]) -> anyhow::Result<Vec<u16>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let projects = Registry::open(&self.paths).load_ports()?;
        // The same allocator as `ports alloc`, with what listens on this
        // machine read from the kernel: binding each candidate to test it
        // would hold, for that instant, a port a starting server may need.
        let system = berth::netstat::listeners();
        let got = claims::allocate(
            self.config.port_range,
            count,
            &projects,
            also,
            system.as_deref(),
        );
        if got.len() < count {
            return Err(error_with_hint(
                format!(
                    "no free port left in {}-{}",
                    self.config.port_range.start, self.config.port_range.end
                ),
                "widen port_range in config.yaml, or pass --port",
            ));
        }
        Ok(got)
    }
}

/// A port the user named for the app, and whether to check it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed {
    pub(crate) port: u16,
    /// `--port`: refused when another project claims it, unless `--force`.
    /// (A port the folder's `.env` names is the project's own already.)
    pub(crate) checked: bool,
    pub(crate) force: bool,
}

impl Ctx {
    /// The app's host port (`fixed`, or allocated) and `extra` more ports.
    /// Without `keep`, only picked. With `keep` (the ports picked before),
    /// reserved for the project `name` in the registry in the same step
    /// under its lock: those when they are still free, else others. No
    /// other `stackgen new`, `ports alloc --claim` or `registry add` takes
    /// them before `registry add` registers this project, or within
    /// [`registry::RESERVATION_TTL`].
    pub(crate) fn reserve(
        &self,
        name: &str,
        fixed: Option<Fixed>,
        extra: usize,
        keep: Option<&[u16]>,
    ) -> anyhow::Result<(u16, Vec<u16>)> {
        let system = berth::netstat::listeners();
        let range = self.config.port_range;
        let none_left = || {
            error_with_hint(
                format!("no free port left in {}-{}", range.start, range.end),
                "widen port_range in config.yaml, or pass --port",
            )
        };
        let pick = |projects: &[berth::ProjectPorts], held: &[registry::Reservation]| {
            let others: Vec<(&str, u16)> = registry::held_by_others(held, name).collect();
            let mut also: Vec<u16> = others.iter().map(|(_, p)| *p).collect();
            if let Some(keep) = keep {
                let claimed = claims::claimed_ports(
                    &projects
                        .iter()
                        .filter(|p| p.name != name)
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                let free = |(i, p): (usize, &u16)| {
                    (i == 0 && fixed.is_some())
                        || (!claimed.contains(*p)
                            && !also.contains(p)
                            && !berth::netstat::in_use(*p, berth::Protocol::Tcp, system.as_deref()))
                };
                if keep.iter().enumerate().all(free) {
                    if let Some(f) = fixed.filter(|f| f.checked) {
                        check_fixed(f, name, projects, &others)?;
                    }
                    return Ok(keep.to_vec());
                }
            }
            let app = if let Some(f) = fixed {
                if f.checked {
                    check_fixed(f, name, projects, &others)?;
                }
                f.port
            } else {
                *claims::allocate(range, 1, projects, &also, system.as_deref())
                    .first()
                    .ok_or_else(none_left)?
            };
            also.push(app);
            let more = claims::allocate(range, extra, projects, &also, system.as_deref());
            if more.len() < extra {
                return Err(none_left());
            }
            Ok(std::iter::once(app).chain(more).collect::<Vec<u16>>())
        };
        let reg = Registry::open(&self.paths);
        let ports = if keep.is_some() {
            reg.reserve(name, pick)?
        } else {
            pick(&reg.load_ports()?, &reg.reservations()?)?
        };
        Ok((ports[0], ports[1..].to_vec()))
    }
}

/// Refuse `--port P` when another project claims P or P is reserved for
/// one, unless `--force` (then warn).
fn check_fixed(
    f: Fixed,
    name: &str,
    projects: &[berth::ProjectPorts],
    reserved: &[(&str, u16)],
) -> anyhow::Result<()> {
    let owner = projects
        .iter()
        .find(|p| p.name != name && claims::project_ports(*p).any(|x| x == f.port))
        .map(|p| (p.name.as_str(), "claimed by"))
        .or_else(|| {
            reserved
                .iter()
                .find(|(_, x)| *x == f.port)
                .map(|(n, _)| (*n, "reserved for"))
        });
    let Some((owner, how)) = owner else {
        return Ok(());
    };
    if f.force {
        warn(
            TOOL,
            format!(
                "port {} is also {how} project '{owner}' (--force); the two cannot run at once",
                f.port
            ),
        );
        return Ok(());
    }
    Err(error_with_hint(
        format!(
            "--port {}: the port is already {how} project '{owner}'",
            f.port
        ),
        "leave out --port to get a free one, or pass --force to take it anyway",
    ))
}

pub(crate) fn is_secret_in(keys: &BTreeSet<String>) -> impl Fn(&str) -> bool + '_ {
    move |k: &str| keys.contains(k) || envfile::looks_secret(k)
}

/// Show a plan; on a terminal ask before applying unless `yes`.
pub(crate) fn show_and_confirm(
    plan: &Plan,
    secrets: &BTreeSet<String>,
    dry_run: bool,
    ask: Option<&str>,
    yes: bool,
) -> anyhow::Result<bool> {
    if plan.is_empty() {
        eprintln!("{TOOL}: nothing to change");
        return Ok(false);
    }
    eprint!("{}", plan.diff(&is_secret_in(secrets)));
    if dry_run {
        eprintln!("{TOOL}: dry run: nothing written");
        return Ok(false);
    }
    // Removal always asks (or needs --yes); adding asks only on a terminal.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let question = match ask {
        Some(q) => Some(q),
        None if !yes && interactive => Some("apply these changes?"),
        None => None,
    };
    if let Some(q) = question
        && !confirm(q, yes)?
    {
        eprintln!("{TOOL}: nothing changed");
        return Ok(false);
    }
    Ok(true)
}

/// A `COMPOSE_FILE` the user set that leaves berth's file out would hide the services.
pub(crate) fn warn_compose_file(env_text: &str) {
    if let Some((_, v)) = envfile::pairs(env_text)
        .into_iter()
        .find(|(k, _)| k == "COMPOSE_FILE")
        && !v.split(':').any(|f| f == SERVICES_FILE)
    {
        warn(
            TOOL,
            format!(
                ".env sets COMPOSE_FILE={v}, without {SERVICES_FILE}: the catalog services stay out of the project"
            ),
        );
        eprintln!("hint: add :{SERVICES_FILE} to COMPOSE_FILE in .env");
    }
}

pub(crate) fn marker(service: &str) -> String {
    format!("# stackgen: {service}")
}
