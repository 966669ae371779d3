//! The commands: `new`, `add-service`, `remove-service`, `services`,
//! `stacks`. Each builds a spec, generates files (pure), turns them into a
//! [`Plan`] against the folder, shows it, and applies it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};

use anyhow::{Context as _, bail};
use berth::cli::{Outcome, confirm, error_with_hint, warn};
use berth::config::Config;
use berth::io::{self, Row};
use berth::paths::Paths;
use berth::registry::{self, Registry};
use berth::{PortBinding, Project, Protocol, claims, names};
use serde::Serialize;

use crate::catalog::describe;
use crate::envfile;
use crate::generate::{
    APP, PLACEHOLDER, SERVICES_FILE, Spec, publishable, resolve_services, secret_kinds,
    service_env, services_file, stack_files,
};
use crate::plan::Plan;
use crate::stack::Stack;
use crate::state::{STATE_FILE, State};
use crate::templates::{Library, render};
use crate::{AddArgs, Mode, NewArgs, RemoveArgs, ServicesArgs, StacksArgs, TOOL, detect};

/// The environment things a command needs.
struct Ctx {
    config: Config,
    paths: Paths,
    lib: Library,
}

impl Ctx {
    fn load() -> anyhow::Result<Self> {
        let paths = Paths::from_env()?;
        let config = Config::load(&paths)?;
        config.check_images(&paths)?;
        let lib = Library::load(&paths, &config)?;
        Ok(Self { config, paths, lib })
    }

    /// Free host ports from the configured range, as `ports alloc` gives them.
    fn allocate(&self, count: usize, also: &[u16]) -> anyhow::Result<Vec<u16>> {
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
struct Fixed {
    port: u16,
    /// `--port`: refused when another project claims it, unless `--force`.
    /// (A port the folder's `.env` names is the project's own already.)
    checked: bool,
    force: bool,
}

impl Ctx {
    /// The app's host port (`fixed`, or allocated) and `extra` more ports.
    /// Without `keep`, only picked. With `keep` (the ports picked before),
    /// reserved for the project `name` in the registry in the same step
    /// under its lock: those when they are still free, else others. No
    /// other `stackgen new`, `ports alloc --claim` or `registry add` takes
    /// them before `registry add` registers this project, or within
    /// [`registry::RESERVATION_TTL`].
    fn reserve(
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

fn is_secret_in(keys: &BTreeSet<String>) -> impl Fn(&str) -> bool + '_ {
    move |k: &str| keys.contains(k) || envfile::looks_secret(k)
}

/// `new`.
#[allow(clippy::too_many_lines)] // one sequence: check, pick, generate, reserve, write
pub fn new(a: &NewArgs) -> anyhow::Result<Outcome> {
    names::validate_label("project name", &a.name)?;
    let ctx = Ctx::load()?;
    names::validate_label("stack name", &a.stack)?;
    let stack = Stack::load(&ctx.lib, &a.stack)?;
    let requested: Vec<String> = match &a.services {
        None => stack.manifest.services.defaults.clone(),
        Some(list) => list
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty() && s != "none")
            .collect(),
    };
    let services = resolve_services(&ctx.lib, &stack, &requested)?;
    for p in &a.publish {
        if !services.contains(p) {
            return Err(error_with_hint(
                format!("--publish names '{p}', which is not among the project's services"),
                format!("services: {}", services.join(", ")),
            ));
        }
    }

    let dir = a.dir.clone().unwrap_or_else(|| PathBuf::from(&a.name));
    let mode = choose_mode(&ctx.lib, &stack, &dir, a.mode)?;

    // Ports picked now, reserved only once everything is generated (so a
    // run that fails writes nothing, not even a reservation).
    let (fixed, wanted) = new_ports(&ctx, &stack, &dir, a)?;
    let (app_port, hosts) = ctx.reserve(&a.name, fixed, wanted.len(), None)?;

    let kinds = secret_kinds(&ctx.lib, &stack, &services)?;
    let mut spec = Spec {
        name: a.name.clone(),
        tld: ctx.config.tld.clone(),
        services: services.clone(),
        published: published_of(&wanted, &hosts),
        app_port,
        secrets: crate::secrets::generate_all(&kinds)?,
        base_image: a.base_image.clone(),
        images: ctx.config.images.clone(),
    };

    // Generate everything before anything runs or is written.
    let generator = generator_for(mode, &stack, &spec, a.no_generator)?;
    let build = |spec: &Spec| -> anyhow::Result<(Plan, State)> {
        let files = stack_files(&ctx.lib, &stack, spec)?;
        let services_yaml = services_file(&ctx.lib, &stack, spec)?;
        let patches = crate::generate::patches(&ctx.lib, &stack, spec)?;
        let mut state = State {
            name: spec.name.clone(),
            stack: stack.name.clone(),
            tld: spec.tld.clone(),
            app_port: spec.app_port,
            services: services.clone(),
            published: spec.published.clone(),
            env: BTreeMap::new(),
            base_image: a.base_image.clone(),
        };
        let mut plan = new_plan(
            &ctx.lib,
            &stack,
            spec,
            &dir,
            mode,
            files,
            services_yaml,
            &mut state,
        )?;
        if generator.is_some() {
            apply_patches(&mut plan, patches)?;
        }
        Ok((plan, state))
    };
    // The templates render before the generator runs.
    stack_files(&ctx.lib, &stack, &spec)?;
    services_file(&ctx.lib, &stack, &spec)?;
    crate::generate::patches(&ctx.lib, &stack, &spec)?;
    if let Some(argv) = &generator
        && !a.dry_run
    {
        let created = !dir.exists();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if let Err(e) = run_generator(&dir, argv) {
            // Leave no half-generated project behind in a folder we made.
            if created {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Err(e);
        }
    }
    let (mut plan, mut state) = build(&spec)?;
    if !a.dry_run {
        // Allocation and claim in one step under the registry's lock: the
        // ports picked above when still free, else others (a parallel run
        // took them), and the files are generated again with those.
        let chosen: Vec<u16> = std::iter::once(app_port)
            .chain(hosts.iter().copied())
            .collect();
        let (reserved_app, reserved_hosts) =
            ctx.reserve(&a.name, fixed, wanted.len(), Some(&chosen))?;
        if reserved_app != app_port || reserved_hosts != hosts {
            spec.app_port = reserved_app;
            spec.published = published_of(&wanted, &reserved_hosts);
            (plan, state) = build(&spec)?;
        }
    }
    let app_port = spec.app_port;

    let secret_keys: BTreeSet<String> = kinds.keys().cloned().collect();
    let is_secret = is_secret_in(&secret_keys);
    if a.dry_run || a.diff {
        eprint!("{}", plan.diff(&is_secret));
    }
    if a.dry_run {
        eprintln!("{TOOL}: dry run: nothing written");
        eprint!("{}", plan.summary());
    } else {
        plan.apply()?;
        eprint!("{}", plan.summary());
        eprintln!(
            "{TOOL}: {} ({}) ready in {}: cd there and run `DOCKER_BUILDKIT=1 docker-compose up --build` (its Dockerfile caches downloads with BuildKit), or `stackctl start` once registered; the app answers on http://localhost:{app_port}",
            spec.name,
            stack.name,
            dir.display()
        );
    }
    if a.json {
        io::write_json(&project_of(&dir, &stack, &state))?;
    }
    Ok(Outcome::Clean)
}

/// Fresh or existing, and whether the folder fits the mode.
fn choose_mode(
    lib: &Library,
    stack: &Stack,
    dir: &Path,
    mode: Option<Mode>,
) -> anyhow::Result<Mode> {
    let empty = folder_is_empty(dir)?;
    let mode = mode.unwrap_or(if empty { Mode::Fresh } else { Mode::Existing });
    match mode {
        Mode::Fresh if !empty => {
            return Err(error_with_hint(
                format!("folder {} is not empty (fresh mode)", dir.display()),
                "use --mode existing to add the Docker setup to the project in it, or pick another --dir",
            ));
        }
        Mode::Existing if !dir.is_dir() => {
            return Err(error_with_hint(
                format!("folder {} does not exist (existing mode)", dir.display()),
                "use --mode fresh to start a new project",
            ));
        }
        Mode::Existing if !detect::matches(dir, stack) => {
            let found: Vec<String> = lib
                .stack_names()
                .into_iter()
                .filter(|s| Stack::load(lib, s).is_ok_and(|st| detect::matches(dir, &st)))
                .collect();
            let hint = if found.is_empty() {
                "use --mode fresh in an empty folder to start a new project".to_owned()
            } else {
                format!("the folder looks like: {}", found.join(", "))
            };
            return Err(error_with_hint(
                format!(
                    "no {} project in {}: looked for {}",
                    stack.name,
                    dir.display(),
                    detect::describe(stack)
                ),
                hint,
            ));
        }
        _ => {}
    }
    if dir.join(STATE_FILE).exists() {
        return Err(error_with_hint(
            format!(
                "{} already has a stackgen setup ({STATE_FILE})",
                dir.display()
            ),
            "use `stackgen add-service` / `remove-service` to change it",
        ));
    }
    Ok(mode)
}

/// The app's host port as the user fixed it (--port, or the port .env
/// names; `None`: allocated), and the published services' container ports.
fn new_ports(
    ctx: &Ctx,
    stack: &Stack,
    dir: &Path,
    a: &NewArgs,
) -> anyhow::Result<(Option<Fixed>, Wanted)> {
    let env_port = berth::compose::read_dotenv(&dir.join(".env"))?
        .get("APP_PORT")
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p > 0);
    let fixed = match (a.port, env_port) {
        (Some(port), _) => Some(Fixed {
            port,
            checked: true,
            force: a.force,
        }),
        (None, Some(port)) => Some(Fixed {
            port,
            checked: false,
            force: false,
        }),
        (None, None) => None,
    };
    let mut wanted = Vec::new();
    for s in &a.publish {
        for target in publishable(&ctx.lib, stack, s)? {
            wanted.push((s.clone(), target));
        }
    }
    Ok((fixed, wanted))
}

/// The published services and their container ports, one pair each.
type Wanted = Vec<(String, u16)>;

/// The published services' host ports, paired with their container ports.
fn published_of(wanted: &[(String, u16)], hosts: &[u16]) -> crate::generate::Published {
    let mut published: BTreeMap<String, Vec<(u16, u16)>> = BTreeMap::new();
    for ((s, target), host) in wanted.iter().zip(hosts) {
        published
            .entry(s.clone())
            .or_default()
            .push((*host, *target));
    }
    published
}

/// The files of a new project as a plan against the folder: starter files
/// only when fresh and absent, kept files when present, `.env` merged, any
/// other existing file that differs is a conflict (nothing is overwritten).
#[allow(clippy::too_many_arguments)]
fn new_plan(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
    dir: &Path,
    mode: Mode,
    files: Vec<crate::generate::GenFile>,
    services_yaml: String,
    state: &mut State,
) -> anyhow::Result<Plan> {
    let mut plan = Plan::new(dir);
    let mut conflicts = Vec::new();
    let mut base = String::new();
    for f in files {
        if f.path == ".env" {
            base = f.text;
            continue;
        }
        let existing = plan.read(&f.path)?;
        let example = f.path.starts_with(".env.");
        if f.starter && (mode == Mode::Existing || existing.is_some()) {
            continue;
        }
        if (f.keep_existing || example) && existing.is_some() {
            continue;
        }
        if existing.as_ref().is_some_and(|e| *e != f.text) {
            conflicts.push(f.path.clone());
            continue;
        }
        let mut text = f.text;
        if example {
            for s in &spec.services {
                let vars = service_env(lib, stack, spec, s, true)?;
                text = envfile::append(&text, &marker(s), &vars).0;
            }
        }
        plan.set(&f.path, Some(text), f.mode)?;
    }
    if let Some(old) = plan.read(SERVICES_FILE)?
        && old != services_yaml
    {
        conflicts.push(SERVICES_FILE.to_owned());
    }
    if !conflicts.is_empty() {
        return Err(error_with_hint(
            format!(
                "{} already has {}; stackgen does not overwrite them",
                dir.display(),
                conflicts.join(", ")
            ),
            "move them away (or merge them by hand after generating elsewhere with --dir)",
        ));
    }
    plan.set(SERVICES_FILE, Some(services_yaml), 0o644)?;

    // .env: the stack's variables (only those not set yet), then one block per service.
    let mut env_text = match plan.read(".env")? {
        None => base,
        Some(existing) => {
            let (text, _) = envfile::append(
                &existing,
                &format!("# stackgen: {} stack", stack.name),
                &envfile::pairs(&base),
            );
            text
        }
    };
    for s in &spec.services {
        let vars = service_env(lib, stack, spec, s, false)?;
        let (text, added) = envfile::append(&env_text, &marker(s), &vars);
        env_text = text;
        if let Some(added) = added {
            state.env.insert(s.clone(), added);
        }
    }
    warn_compose_file(&env_text);
    plan.set(".env", Some(env_text), 0o600)?;
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;
    Ok(plan)
}

/// The framework generator's command line, when it is to run (fresh mode);
/// an error saying why and how when it cannot.
fn generator_for(
    mode: Mode,
    stack: &Stack,
    spec: &Spec,
    no_generator: bool,
) -> anyhow::Result<Option<Vec<String>>> {
    Ok(match (mode, &stack.manifest.generator, no_generator) {
        (Mode::Fresh, Some(g), false) => {
            let argv = generator_argv(g, stack, spec)?;
            if find_program(&g.program).is_none() {
                return Err(error_with_hint(
                    format!(
                        "cannot run the {} generator: {} is not installed (not on PATH)",
                        stack.name, g.program
                    ),
                    format!(
                        "install it: {}; or pass --no-generator to write the Docker setup only",
                        g.install
                    ),
                ));
            }
            Some(argv)
        }
        _ => None,
    })
}

/// Wire what the generator wrote to the environment (settings from .env):
/// append each block once.
fn apply_patches(plan: &mut Plan, patches: Vec<(String, String, String)>) -> anyhow::Result<()> {
    for (path, marker, text) in patches {
        if let Some(old) = plan.read(&path)?
            && !old.contains(&marker)
        {
            plan.set(&path, Some(old + &text), 0o644)?;
        }
    }
    Ok(())
}

/// A `COMPOSE_FILE` the user set that leaves berth's file out would hide the services.
fn warn_compose_file(env_text: &str) {
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

fn marker(service: &str) -> String {
    format!("# stackgen: {service}")
}

/// Whether a folder is missing or has no entries.
fn folder_is_empty(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read folder {}", dir.display())),
    }
}

fn generator_argv(
    g: &crate::stack::Generator,
    stack: &Stack,
    spec: &Spec,
) -> anyhow::Result<Vec<String>> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", &spec.name);
    ctx.insert("module", &spec.module());
    ctx.insert("stack", &stack.name);
    let mut argv = vec![g.program.clone()];
    for (i, arg) in g.args.iter().enumerate() {
        let src = crate::templates::Source {
            text: arg.clone(),
            origin: stack.origin,
            shown: format!(
                "stacks/{}/manifest.yaml generator argument {}",
                stack.name,
                i + 1
            ),
        };
        argv.push(render(&src, &ctx)?);
    }
    Ok(argv)
}

fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Run the framework's generator in `dir`, its output on stderr.
fn run_generator(dir: &Path, argv: &[String]) -> anyhow::Result<()> {
    eprintln!("{TOOL}: running {}", argv.join(" "));
    let stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
    let status = Proc::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr))
        .status()
        .with_context(|| format!("cannot run {}", argv[0]))?;
    if !status.success() {
        return Err(error_with_hint(
            format!(
                "the generator failed: {} exited with {status}",
                argv.join(" ")
            ),
            format!(
                "fix the problem above and run stackgen again (in an empty {}), or pass --no-generator",
                dir.display()
            ),
        ));
    }
    Ok(())
}

use std::os::fd::AsFd as _;

/// The Project a generated folder makes, for `registry add -`.
fn project_of(dir: &Path, stack: &Stack, state: &State) -> Project {
    let path = std::fs::canonicalize(dir).unwrap_or_else(|_| {
        std::env::current_dir().map_or_else(|_| dir.to_path_buf(), |c| c.join(dir))
    });
    let mut ports = vec![PortBinding {
        service: APP.to_owned(),
        host_ip: berth::model::UNSPECIFIED,
        published: Some(state.app_port),
        target: stack.manifest.app_port,
        protocol: Protocol::Tcp,
    }];
    for (s, list) in &state.published {
        for (host, target) in list {
            ports.push(PortBinding {
                service: s.clone(),
                host_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                published: Some(*host),
                target: *target,
                protocol: Protocol::Tcp,
            });
        }
    }
    let mut services = vec![APP.to_owned()];
    services.extend(state.services.iter().cloned());
    let compose_files = ["compose.yaml", "compose.dev.yaml", SERVICES_FILE]
        .iter()
        .map(|f| path.join(f))
        .collect();
    let mut p = Project {
        name: state.name.clone(),
        path,
        domain: format!("{}.{}", state.name, state.tld),
        port: Some(state.app_port),
        stack: Some(stack.name.clone()),
        compose_files,
        services,
        service_ports: ports,
        ..Project::default()
    };
    p.refresh_exposed_ports();
    p
}

/// Show a plan; on a terminal ask before applying unless `yes`.
fn show_and_confirm(
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

/// The spec of an existing project from its state (no secrets: they are in .env).
fn spec_of(state: &State, config: &Config) -> Spec {
    Spec {
        name: state.name.clone(),
        tld: state.tld.clone(),
        services: state.services.clone(),
        published: state.published.clone(),
        app_port: state.app_port,
        secrets: BTreeMap::new(),
        base_image: state.base_image.clone(),
        images: config.images.clone(),
    }
}

/// `add-service`.
pub fn add_service(a: &AddArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let mut state = State::read(&a.dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let mut all = state.services.clone();
    let mut added = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if state.services.contains(s) {
            eprintln!("note: {s} is already in {}", state.name);
        } else if !added.contains(s) {
            added.push(s.clone());
            all.push(s.clone());
        }
    }
    let services = resolve_services(&ctx.lib, &stack, &all)?;
    for p in &a.publish {
        if !services.contains(p) {
            return Err(error_with_hint(
                format!("--publish names '{p}', which is not among the project's services"),
                format!("services: {}", services.join(", ")),
            ));
        }
    }
    let mut wanted = Vec::new();
    for s in &a.publish {
        if state.published.contains_key(s) {
            continue;
        }
        for target in publishable(&ctx.lib, &stack, s)? {
            wanted.push((s.clone(), target));
        }
    }
    let taken: Vec<u16> = state
        .published
        .values()
        .flatten()
        .map(|(h, _)| *h)
        .chain([state.app_port])
        .collect();
    let hosts = ctx.allocate(wanted.len(), &taken)?;
    for ((s, target), host) in wanted.into_iter().zip(hosts) {
        state.published.entry(s).or_default().push((host, target));
    }
    let kinds = secret_kinds(&ctx.lib, &stack, &added)?;
    let mut spec = spec_of(&state, &ctx.config);
    spec.services.clone_from(&services);
    spec.secrets = crate::secrets::generate_all(&kinds)?;

    let mut plan = Plan::new(&a.dir);
    plan.set(
        SERVICES_FILE,
        Some(services_file(&ctx.lib, &stack, &spec)?),
        0o644,
    )?;
    let mut env_text = plan.read(".env")?.unwrap_or_default();
    for s in &added {
        let vars = service_env(&ctx.lib, &stack, &spec, s, false)?;
        let (text, rec) = envfile::append(&env_text, &marker(s), &vars);
        env_text = text;
        if let Some(rec) = rec {
            state.env.insert(s.clone(), rec);
        }
    }
    warn_compose_file(&env_text);
    plan.set(".env", Some(env_text), 0o600)?;
    state.services = services;
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;

    let secrets: BTreeSet<String> = kinds.keys().cloned().collect();
    if !show_and_confirm(&plan, &secrets, a.dry_run, None, a.yes)? {
        return Ok(Outcome::Clean);
    }
    plan.apply()?;
    eprint!("{}", plan.summary());
    if !added.is_empty() {
        eprintln!(
            "{TOOL}: added {} to {}; run `docker-compose up -d` (and `registry update {}` when ports were published)",
            added.join(", "),
            state.name,
            state.name
        );
    }
    Ok(Outcome::Clean)
}

/// `remove-service`.
pub fn remove_service(a: &RemoveArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let mut state = State::read(&a.dir)?;
    let stack = Stack::load(&ctx.lib, &state.stack)?;
    let mut removed = Vec::new();
    for s in &a.services {
        names::validate_label("service name", s)?;
        if !state.services.contains(s) {
            return Err(error_with_hint(
                format!("service '{s}' is not in {}", state.name),
                format!(
                    "its services: {}",
                    if state.services.is_empty() {
                        "none".to_owned()
                    } else {
                        state.services.join(", ")
                    }
                ),
            ));
        }
        if !removed.contains(s) {
            removed.push(s.clone());
        }
    }
    let rest: Vec<String> = state
        .services
        .iter()
        .filter(|s| !removed.contains(s))
        .cloned()
        .collect();
    let rest = resolve_services(&ctx.lib, &stack, &rest)
        .context("the remaining services would not work")?;

    let mut plan = Plan::new(&a.dir);
    let mut spec = spec_of(&state, &ctx.config);
    spec.services.clone_from(&rest);
    for s in &removed {
        spec.published.remove(s);
    }
    plan.set(
        SERVICES_FILE,
        Some(services_file(&ctx.lib, &stack, &spec)?),
        0o644,
    )?;
    let mut secrets = BTreeSet::new();
    if let Some(mut env_text) = plan.read(".env")? {
        for s in &removed {
            if let Some(rec) = state.env.get(s) {
                let (text, kept) = envfile::remove(&env_text, rec);
                env_text = text;
                for k in kept {
                    warn(TOOL, format!(".env: {k}"));
                }
            }
            secrets.extend(
                describe(&ctx.lib, s, &stack.manifest.style)?
                    .secrets
                    .into_keys(),
            );
        }
        plan.set(".env", Some(env_text), 0o600)?;
    }
    for s in &removed {
        state.env.remove(s);
        state.published.remove(s);
    }
    state.services = rest;
    plan.set(STATE_FILE, Some(state.to_text()?), 0o644)?;

    let mut volumes = Vec::new();
    for s in &removed {
        if describe(&ctx.lib, s, &stack.manifest.style)?.data.is_some() {
            volumes.push((s.clone(), format!("{}-{s}-data", state.name)));
        }
    }
    for (_, v) in &volumes {
        if a.with_data {
            eprintln!("{TOOL}: the data volume {v} will be deleted (--with-data)");
        } else {
            warn(
                TOOL,
                format!(
                    "the data volume {v} is kept; delete it with --with-data (or `docker volume rm {v}`)"
                ),
            );
        }
    }
    let question = format!("remove {} from {}", removed.join(", "), state.name);
    if !show_and_confirm(&plan, &secrets, a.dry_run, Some(&question), a.yes)? {
        return Ok(Outcome::Clean);
    }
    plan.apply()?;
    eprint!("{}", plan.summary());
    if a.with_data {
        for (s, v) in &volumes {
            drop_container_and_volume(&format!("{}-{s}", state.name), v)?;
        }
    }
    Ok(Outcome::Clean)
}

/// Delete a removed service's container and its data volume (argument vectors, no shell).
fn drop_container_and_volume(container: &str, volume: &str) -> anyhow::Result<()> {
    let quiet = |args: &[&str]| {
        Proc::new("docker")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
    };
    let exists = quiet(&["volume", "inspect", volume]).context("cannot run docker")?;
    if !exists.status.success() {
        eprintln!("{TOOL}: volume {volume} does not exist; nothing to delete");
        return Ok(());
    }
    let _ = quiet(&["rm", "-f", "-v", container]);
    let out = quiet(&["volume", "rm", volume]).context("cannot run docker")?;
    if !out.status.success() {
        bail!(
            "cannot delete volume {volume}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    eprintln!("{TOOL}: deleted volume {volume}");
    Ok(())
}

/// A row of `services`.
#[derive(Debug, Serialize)]
struct ServiceRow {
    name: String,
    role: String,
    description: String,
    port: Option<u16>,
    publish: Vec<u16>,
    data: bool,
    secrets: Vec<String>,
    /// Stacks that offer it.
    stacks: Vec<String>,
    /// In the project given with --dir (null without --dir).
    in_project: Option<bool>,
    /// Host ports it publishes in that project.
    published: Vec<u16>,
}

impl Row for ServiceRow {
    fn headers() -> &'static [&'static str] {
        &[
            "SERVICE",
            "ROLE",
            "IN PROJECT",
            "PUBLISHED",
            "STACKS",
            "DESCRIPTION",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.role.clone(),
            match self.in_project {
                None => "-".into(),
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
            },
            self.published
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            self.stacks.join(","),
            self.description.clone(),
        ]
    }
}

/// `services`.
pub fn services(a: &ServicesArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let state = a.dir.as_deref().map(State::read).transpose()?;
    let stacks: Vec<Stack> = ctx
        .lib
        .stack_names()
        .iter()
        .map(|s| Stack::load(&ctx.lib, s))
        .collect::<anyhow::Result<_>>()?;
    let mut rows = Vec::new();
    for name in ctx.lib.service_names() {
        let def = describe(&ctx.lib, &name, "generic")?;
        let offered: Vec<String> = stacks
            .iter()
            .filter(|st| {
                st.manifest.services.offers.contains(&name)
                    && (def.stacks.is_empty() || def.stacks.contains(&st.name))
            })
            .map(|st| st.name.clone())
            .collect();
        rows.push(ServiceRow {
            in_project: state.as_ref().map(|s| s.services.contains(&name)),
            published: state
                .as_ref()
                .and_then(|s| s.published.get(&name))
                .map(|l| l.iter().map(|(h, _)| *h).collect())
                .unwrap_or_default(),
            name,
            role: def.role,
            description: def.description,
            port: def.port,
            publish: def.publish,
            data: def.data.is_some(),
            secrets: def.secrets.into_keys().collect(),
            stacks: offered,
        });
    }
    io::write_list(a.output.format(), &rows)?;
    Ok(Outcome::Clean)
}

/// A row of `stacks`.
#[derive(Debug, Serialize)]
struct StackRow {
    name: String,
    description: String,
    runtime: String,
    runtime_version: String,
    base_image: String,
    app_port: u16,
    services: Vec<String>,
    defaults: Vec<String>,
    environments: Vec<String>,
    generator: Option<String>,
    origin: crate::templates::Origin,
}

impl Row for StackRow {
    fn headers() -> &'static [&'static str] {
        &[
            "STACK",
            "RUNTIME",
            "DEFAULTS",
            "SERVICES",
            "ORIGIN",
            "DESCRIPTION",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            format!("{} {}", self.runtime, self.runtime_version),
            self.defaults.join(","),
            self.services.join(","),
            self.origin.to_string(),
            self.description.clone(),
        ]
    }
}

/// `stacks`.
pub fn stacks(a: &StacksArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let mut rows = Vec::new();
    for name in ctx.lib.stack_names() {
        let st = Stack::load(&ctx.lib, &name)?;
        let m = st.manifest;
        rows.push(StackRow {
            name,
            description: m.description,
            runtime: m.runtime.name,
            runtime_version: m.runtime.version,
            base_image: m.base_image,
            app_port: m.app_port,
            services: m.services.offers,
            defaults: m.services.defaults,
            environments: m.environments,
            generator: m.generator.map(|g| g.program),
            origin: st.origin,
        });
    }
    io::write_list(a.output.format(), &rows)?;
    Ok(Outcome::Clean)
}

/// Check that every stack and service of a library renders (for `update`).
pub fn validate_library(lib: &Library) -> anyhow::Result<()> {
    for name in lib.stack_names() {
        let stack = Stack::load(lib, &name)?;
        let services = resolve_services(lib, &stack, &stack.manifest.services.defaults)
            .with_context(|| format!("stack {name}: default services"))?;
        let kinds = secret_kinds(lib, &stack, &stack.manifest.services.offers)?;
        let spec = Spec {
            name: "example".into(),
            tld: "test".into(),
            services,
            published: BTreeMap::new(),
            app_port: 5000,
            secrets: kinds
                .keys()
                .map(|k| (k.clone(), PLACEHOLDER.into()))
                .collect(),
            base_image: None,
            images: BTreeMap::new(),
        };
        stack_files(lib, &stack, &spec)?;
        services_file(lib, &stack, &spec)?;
    }
    for s in lib.service_names() {
        describe(lib, &s, "generic")?;
    }
    Ok(())
}
