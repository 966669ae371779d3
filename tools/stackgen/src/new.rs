//! `stackgen new`: check the folder, pick the ports, run the framework's
//! generator, generate the files (pure), reserve the ports and write them.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};

use anyhow::Context as _;
use berth::cli::{Outcome, error_with_hint};
use berth::io::{self};
use berth::{PortBinding, Project, Protocol, names};
use clap::ValueEnum;

use crate::ctx::{Ctx, Fixed, is_secret_in, marker, warn_compose_file};
use crate::detect;
use crate::envfile;
use crate::generate::{
    APP, SERVICES_FILE, Spec, publishable, resolve_services, secret_kinds, service_env,
    services_file, stack_files,
};
use crate::plan::Plan;
use crate::stack::Stack;
use crate::state::{STATE_FILE, State};
use crate::templates::{Library, render};

/// How `new` treats the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// A new project: the folder must be missing or empty; the framework's generator runs.
    Fresh,
    /// Add the Docker setup to the framework project already in the folder.
    Existing,
}

/// Generate a stack: Docker files, .env, and (fresh) the framework's project.
///
/// Fresh mode (the default for a missing or empty folder) runs the
/// framework's own generator (django-admin startproject, npx
/// create-next-app, composer create-project) and then adds the Docker
/// setup. When the generator cannot run, stackgen says why and how to get
/// it, and exits 2 without writing anything; --no-generator writes the
/// Docker setup (and the stack's starter files) alone. Existing mode (the
/// default for a folder with files) checks that the folder holds the
/// stack's framework and adds the Docker setup without touching the code.
///
/// The app's host port comes from the registry's allocator (the port range
/// in config.yaml; no registered project claims it, nothing listens on it)
/// and is reserved for the project in the registry in the same step, so
/// that parallel `stackgen new ... --json | registry add -` pipelines never
/// get the same port; `registry add` of the project releases the
/// reservation, which otherwise expires after 10 minutes.
/// Other services publish nothing unless named in --publish, then on
/// 127.0.0.1 only, with allocated ports.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The stack (see `stackgen stacks`).
    stack: String,
    /// The project's name: a DNS label (a-z, 0-9, '-'). Names the compose
    /// project, containers, network and volumes.
    name: String,
    /// The project folder (default: ./NAME).
    #[arg(long, short)]
    dir: Option<PathBuf>,
    /// Catalog services, comma-separated (default: the stack's defaults;
    /// `none` for none).
    #[arg(long, short_alias = 's', value_delimiter = ',')]
    services: Option<Vec<String>>,
    /// Services whose ports are published on 127.0.0.1, comma-separated.
    #[arg(long, value_delimiter = ',')]
    publish: Vec<String>,
    /// Services taken from the shared servers (`shared`) instead of
    /// containers of the project, comma-separated (postgres, mariadb, mysql,
    /// redis, valkey): the app reaches `berth-shared-<service>` with a
    /// database and user of its own (on Redis: an ACL user owning the keys
    /// `p_NAME:*`), which `stackctl start` creates.
    #[arg(long, value_delimiter = ',', value_name = "SERVICES")]
    shared: Vec<String>,
    /// Fresh or existing project (default: fresh for a missing or empty folder).
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// Do not run the framework's generator in fresh mode: write the Docker
    /// setup and the stack's starter files only.
    #[arg(long)]
    no_generator: bool,
    /// Use this host port for the app instead of allocating one (refused
    /// when another project claims it, unless --force).
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Take the --port another project claims anyway (the two cannot run at once).
    #[arg(long, requires = "port")]
    force: bool,
    /// The app's base image (default: the stack's, see `stackgen stacks`),
    /// written into the Dockerfile, compose.yaml and .env; `images:` in
    /// config.yaml maps it like any other image.
    #[arg(long, value_name = "IMAGE", value_parser = parse_image)]
    base_image: Option<String>,
    /// Show what would be written (a unified diff) and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Show the unified diff of every file before writing.
    #[arg(long)]
    diff: bool,
    // --json: the Project as JSON (for `registry add -`).
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

impl NewArgs {
    /// The `new` that `stackgen import` runs: the Docker setup of `stack`
    /// with `services` in `dir`, no framework generator.
    pub(crate) fn for_import(stack: &str, name: &str, dir: PathBuf, services: Vec<String>) -> Self {
        NewArgs {
            stack: stack.to_owned(),
            name: name.to_owned(),
            dir: Some(dir),
            services: Some(if services.is_empty() {
                vec!["none".to_owned()]
            } else {
                services
            }),
            publish: Vec::new(),
            shared: Vec::new(),
            mode: None,
            no_generator: true,
            port: None,
            force: false,
            base_image: None,
            dry_run: false,
            diff: false,
            output: berth::io::JsonArgs::default(),
        }
    }
}

/// `new`.
#[allow(clippy::too_many_lines)] // one sequence: check, pick, generate, reserve, write
pub fn run(a: &NewArgs) -> anyhow::Result<Outcome> {
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
    let mut requested = requested;
    for s in &a.shared {
        names::validate_label("shared service", s)?;
        if !berth::shared::has_accounts(s) {
            return Err(error_with_hint(
                format!("--shared names '{s}', which cannot be taken from a shared server"),
                "shared with an account per project: postgres, mariadb, mysql, redis, valkey",
            ));
        }
        if !requested.contains(s) {
            requested.push(s.clone());
        }
    }
    let services = resolve_services(&ctx.lib, &stack, &requested)?;
    if let Some(p) = a.publish.iter().find(|p| a.shared.contains(p)) {
        return Err(error_with_hint(
            format!("--publish names '{p}', which comes from the shared servers"),
            "a shared server's host port is shared.services.NAME.port in config.yaml",
        ));
    }
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

    let mut file = berth::stackfile::StackFile::new(&stack.name, &a.name);
    for s in &services {
        file.instances.insert(
            s,
            berth::stackfile::Instance {
                shared: a.shared.contains(s),
                ..berth::stackfile::Instance::default()
            },
        );
    }
    let kinds = secret_kinds(&ctx.lib, &stack, &file, &services)?;
    let values = berth::secrets::generate_all(&kinds)?;
    let mut spec = Spec {
        name: a.name.clone(),
        tld: ctx.config.tld.clone(),
        services: services.clone(),
        published: published_of(&wanted, &hosts),
        app_port,
        secrets: crate::stored::written(&ctx.config, &values),
        base_image: a.base_image.clone(),
        images: ctx.config.images.clone(),
        file,
        shared_name: ctx.config.shared.name.clone(),
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
            instances: BTreeMap::new(),
            published: spec.published.clone(),
            env: BTreeMap::new(),
            secrets: kinds.clone(),
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
    if a.dry_run && !a.output.json {
        // A dry run's output is the diff, on stdout (with --json, the Project).
        io::write_text(&plan.diff(&is_secret))?;
    } else if a.dry_run || a.diff {
        crate::ctx::show(&plan.diff(&is_secret));
    }
    if a.dry_run {
        berth::info!("dry run: nothing written");
        crate::ctx::show(&plan.summary());
    } else {
        // The store first: no file names a secret the store does not hold.
        if crate::stored::in_store(&ctx.config) {
            let n = crate::stored::save(&spec.name, &values, &kinds, false)?;
            if n > 0 {
                berth::info!(
                    "{n} generated secret(s) are in the secrets store (`secrets list {}`); .env holds their names only",
                    spec.name
                );
            }
        }
        plan.apply()?;
        crate::ctx::show(&plan.summary());
        berth::info!(
            "{} ({}) ready in {}: cd there and run `DOCKER_BUILDKIT=1 docker-compose up --build` (its Dockerfile caches downloads with BuildKit), or `stackctl start` once registered; the app answers on http://localhost:{app_port}",
            spec.name,
            stack.name,
            dir.display()
        );
    }
    if a.output.is_json() {
        io::write_json(&project_of(&dir, &stack, &state, &a.shared))?;
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
    let frameworks = if matches!(mode, Mode::Existing) {
        berth::framework::detect(dir)?
    } else {
        Vec::new()
    };
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
        Mode::Existing if !detect::matches(dir, stack, &frameworks) => {
            let found: Vec<String> = lib
                .stack_names()
                .into_iter()
                .filter(|s| {
                    Stack::load(lib, s).is_ok_and(|st| detect::matches(dir, &st, &frameworks))
                })
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
    if let Some(old) = plan.read(berth::stackfile::FILE)?
        && old != crate::declared::text(&spec.file)
    {
        conflicts.push(berth::stackfile::FILE.to_owned());
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
    plan.set(
        berth::stackfile::FILE,
        Some(crate::declared::text(&spec.file)),
        0o644,
    )?;

    // .env: the stack's variables (only those not set yet), then one block per service.
    let mut env_text = match plan.read(".env")? {
        None => base,
        Some(existing) => {
            let (text, _) = envfile::append(
                &existing,
                &format!("# stackgen: {} stack", stack.name),
                &envfile::vars(&base),
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
            if which::which(&g.program).is_err() {
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

/// Run the framework's generator in `dir`, its output on stderr.
fn run_generator(dir: &Path, argv: &[String]) -> anyhow::Result<()> {
    berth::info!("running {}", argv.join(" "));
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

/// The Project a generated folder makes, for `registry add -`.
fn project_of(dir: &Path, stack: &Stack, state: &State, shared: &[String]) -> Project {
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
    services.extend(
        state
            .services
            .iter()
            .filter(|s| !shared.contains(s))
            .cloned(),
    );
    let compose_files = ["compose.yaml", "compose.dev.yaml", SERVICES_FILE]
        .iter()
        .map(|f| path.join(f))
        .collect();
    let mut p = Project {
        name: state.name.clone(),
        path,
        domain: berth::sites::domain(&state.name, &state.tld),
        port: Some(state.app_port),
        stack: Some(stack.name.clone()),
        compose_files,
        services,
        service_ports: ports,
        shared: shared.to_vec(),
        ..Project::default()
    };
    p.refresh_exposed_ports();
    p
}

/// `--base-image`: an image reference.
fn parse_image(s: &str) -> Result<String, String> {
    berth::config::check_image_ref("base image", s)
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string())
}
