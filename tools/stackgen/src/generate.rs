//! Generation: a pure function from a [`Spec`] (stack, name, services, ports,
//! secrets) to file contents. Nothing here touches the disk or the clock;
//! `plan` decides what to write and `apply` writes it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::Context as _;
use serde_json::json;
use yaml_serde::{Mapping, Value};

use berth::stackfile::{Instance, Provenance, Source, StackFile};

use crate::catalog::{ServiceContext, ServiceDef, describe, render_service};
use crate::envfile::Var;
use crate::stack::Stack;
use crate::templates::{Library, render};

/// The berth-owned compose file, fully regenerated on every change.
pub const SERVICES_FILE: &str = ".berth/compose.services.yaml";
/// The name of the app service in every stack.
pub const APP: &str = "app";
/// Placeholder for secrets in the `.env.*.example` files.
pub const PLACEHOLDER: &str = "change-me";

/// Published ports per service: (host port on 127.0.0.1, container port).
pub type Published = BTreeMap<String, Vec<(u16, u16)>>;

/// Everything generation needs.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub tld: String,
    /// Catalog services, in catalog order.
    pub services: Vec<String>,
    pub published: Published,
    /// The app's host port.
    pub app_port: u16,
    /// Values of every secret (app and services); an empty value is one in
    /// berth's secrets store (see `stored::written`).
    pub secrets: BTreeMap<String, String>,
    /// The app's base image from `--base-image` (default: the stack's).
    pub base_image: Option<String>,
    /// `images:` of config.yaml: image references replaced in what is written.
    pub images: BTreeMap<String, String>,
    /// The declared stack (`berth.yaml`): its instances with their
    /// overrides, and its wires. No instances: one bare instance per service.
    pub file: StackFile,
    /// The shared services' name (`shared.name` in config.yaml): the
    /// network a shared instance's server is on and its container prefix.
    pub shared_name: String,
}

impl Spec {
    /// The spec of an existing project from its state and declared stack
    /// (no secret values: they are in the store or `.env`).
    pub fn of_project(
        state: &crate::state::State,
        config: &berth::config::Config,
        file: StackFile,
    ) -> Self {
        let mut services: Vec<String> = Vec::new();
        for name in state
            .services
            .iter()
            .map(String::as_str)
            .chain(file.instances.names())
        {
            let svc = service_of(&file, name).to_owned();
            if !services.contains(&svc) {
                services.push(svc);
            }
        }
        Spec {
            name: state.name.clone(),
            tld: state.tld.clone(),
            services,
            published: state.published.clone(),
            app_port: state.app_port,
            secrets: BTreeMap::new(),
            base_image: state.base_image.clone(),
            images: config.images.clone(),
            file,
            shared_name: config.shared.name.clone(),
        }
    }

    /// Whether the instance `name` is served by a shared server.
    pub fn is_shared(&self, name: &str) -> bool {
        self.file.instance(name).is_some_and(|i| i.shared)
    }

    /// Whether a secret's value is in berth's secrets store (`.env` names it only).
    pub fn stored(&self, key: &str) -> bool {
        self.secrets.get(key).is_some_and(String::is_empty)
    }

    /// An image reference as it is written: its `images:` mapping, or itself.
    pub fn image(&self, reference: &str) -> String {
        self.images
            .get(reference)
            .cloned()
            .unwrap_or_else(|| reference.to_owned())
    }

    /// The app's base image as it is written (`--base-image` or the stack's, mapped).
    pub fn base_image(&self, stack: &Stack) -> String {
        self.image(
            self.base_image
                .as_deref()
                .unwrap_or(&stack.manifest.base_image),
        )
    }

    /// The instances generated, in generation order: catalog order of their
    /// services, then the file's order (a bare instance per service when
    /// the file has none).
    pub fn instances(&self, lib: &Library) -> Vec<(String, Instance)> {
        let mut list: Vec<(String, Instance)> = if self.file.instances.is_empty() {
            self.services
                .iter()
                .map(|s| (s.clone(), Instance::default()))
                .collect()
        } else {
            self.file.instances.0.clone()
        };
        let catalog = lib.service_names();
        let rank = |svc: &str| catalog.iter().position(|c| c == svc).unwrap_or(usize::MAX);
        // A stable sort: instances of one service keep the file's order.
        list.sort_by_key(|(name, inst)| rank(inst.service_name(name)));
        list
    }

    /// The Python/PHP-friendly identifier of the name (`my-shop` -> `my_shop`).
    pub fn module(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// A generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenFile {
    pub path: String,
    pub text: String,
    pub mode: u32,
    pub starter: bool,
    pub keep_existing: bool,
}

/// Check and order the requested services for a stack: each must be in the
/// catalog and offered by the stack; roles a service requires must be filled.
pub fn resolve_services(
    lib: &Library,
    stack: &Stack,
    requested: &[String],
) -> anyhow::Result<Vec<String>> {
    let catalog = lib.service_names();
    let mut chosen = BTreeSet::new();
    for s in requested {
        berth::names::validate_label("service name", s)?;
        if !catalog.contains(s) {
            return Err(berth::cli::error_with_hint(
                format!("unknown service '{s}'"),
                format!(
                    "the catalog has: {} (see `stackgen services`)",
                    catalog.join(", ")
                ),
            ));
        }
        let def = describe(lib, s, &stack.manifest.style)?;
        if !stack.manifest.services.offers.contains(s)
            || (!def.stacks.is_empty() && !def.stacks.contains(&stack.name))
        {
            return Err(berth::cli::error_with_hint(
                format!("the {} stack does not offer service '{s}'", stack.name),
                format!(
                    "{} offers: {}",
                    stack.name,
                    stack.manifest.services.offers.join(", ")
                ),
            ));
        }
        chosen.insert(s.clone());
    }
    let ordered: Vec<String> = catalog.into_iter().filter(|s| chosen.contains(s)).collect();
    let roles = roles(lib, stack, &ordered)?;
    for s in &ordered {
        let def = describe(lib, s, &stack.manifest.style)?;
        for r in &def.requires_roles {
            if !roles.values().any(|x| x == r) {
                let fillers: Vec<String> = stack
                    .manifest
                    .services
                    .offers
                    .iter()
                    .filter(|o| describe(lib, o, &stack.manifest.style).is_ok_and(|d| &d.role == r))
                    .cloned()
                    .collect();
                return Err(berth::cli::error_with_hint(
                    format!("service '{s}' needs a {r} service"),
                    format!("add one of: {}", fillers.join(", ")),
                ));
            }
        }
    }
    Ok(ordered)
}

/// Each selected service's role.
fn roles(
    lib: &Library,
    stack: &Stack,
    services: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    services
        .iter()
        .map(|s| Ok((s.clone(), describe(lib, s, &stack.manifest.style)?.role)))
        .collect()
}

/// The catalog service of the instance `name` (itself when not declared).
pub fn service_of<'a>(file: &'a StackFile, name: &'a str) -> &'a str {
    file.instance(name).map_or(name, |i| i.service_name(name))
}

/// The secrets of one instance, named as its definition names them
/// (prefixed for an instance that is not its service's default): name -> kind.
fn instance_secrets(
    lib: &Library,
    stack: &Stack,
    file: &StackFile,
    name: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let service = service_of(file, name);
    if file.instance(name).is_some_and(|i| i.shared) {
        // On a shared server the project holds its own user's password only.
        return Ok(BTreeMap::from([(
            berth::shared::password_secret(name, service),
            "alnum32".to_owned(),
        )]));
    }
    let prefix = secret_prefix(name, service);
    Ok(describe(lib, service, &stack.manifest.style)?
        .secrets
        .into_iter()
        .map(|(k, kind)| (format!("{prefix}{k}"), kind))
        .collect())
}

/// The secrets a stack with these instances needs: name -> kind.
pub fn secret_kinds(
    lib: &Library,
    stack: &Stack,
    file: &StackFile,
    instances: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = stack.manifest.secrets.clone();
    for name in instances {
        out.extend(instance_secrets(lib, stack, file, name)?);
    }
    Ok(out)
}

/// The template context of a stack file.
fn stack_context(
    stack: &Stack,
    lib: &Library,
    spec: &Spec,
    environment: &str,
    example: bool,
) -> tera::Context {
    let has: BTreeMap<String, bool> = lib
        .service_names()
        .into_iter()
        .map(|s| {
            let on = spec.services.contains(&s);
            (s, on)
        })
        .collect();
    let secrets: BTreeMap<&String, &str> = stack
        .manifest
        .secrets
        .keys()
        .map(|k| {
            let v = if example {
                PLACEHOLDER
            } else {
                spec.secrets.get(k).map_or(PLACEHOLDER, String::as_str)
            };
            (k, v)
        })
        .collect();
    let m = &stack.manifest;
    let value = json!({
        "name": spec.name,
        "stack": stack.name,
        "module": spec.module(),
        "tld": spec.tld,
        "style": m.style,
        "app_port": m.app_port,
        "app_port_host": spec.app_port,
        "base_image": spec.base_image(stack),
        "images": spec.images,
        "runtime": m.runtime.name,
        "runtime_version": m.runtime.version,
        "services": spec.services,
        "has": has,
        "environment": environment,
        "example": example,
        "secrets": secrets,
        // Generated values are in the secrets store, `.env` names them only.
        "secrets_in_store": !example
            && !spec.secrets.is_empty()
            && spec.secrets.values().all(String::is_empty),
    });
    tera::Context::from_value(value).unwrap_or_default()
}

/// Render the stack's own files (compose.yaml, overlay, Dockerfile, .env, ...).
///
/// `.env` and the examples come out as the stack template renders them,
/// except that in `.env` a secret in the store is its comment (see
/// [`crate::envfile`]); the service variables are added by [`service_env`]
/// blocks.
pub fn stack_files(lib: &Library, stack: &Stack, spec: &Spec) -> anyhow::Result<Vec<GenFile>> {
    let mut out = Vec::new();
    for f in &stack.manifest.files {
        let environment = f.environment.as_deref().unwrap_or("development");
        let ctx = stack_context(stack, lib, spec, environment, f.example);
        let mut text = render(stack.template(&f.template), &ctx)?;
        if f.path.starts_with(".env") && !f.example {
            text = crate::envfile::name_stored(&text, &spec.name, |k| spec.stored(k));
        }
        out.push(GenFile {
            path: f.path.clone(),
            text,
            mode: f.mode.unwrap_or(0o644),
            starter: f.starter,
            keep_existing: f.keep_existing,
        });
    }
    Ok(out)
}

/// The blocks appended to files the framework's generator wrote:
/// (path, marker, text).
pub fn patches(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for p in stack.manifest.generator.iter().flat_map(|g| &g.patches) {
        let ctx = stack_context(stack, lib, spec, "development", false);
        let path_src = crate::templates::Source {
            text: p.path.clone(),
            origin: stack.origin,
            shown: format!("stacks/{}/manifest.yaml patch path", stack.name),
        };
        let path = render(&path_src, &ctx)?;
        let text = render(stack.template(&p.template), &ctx)?;
        out.push((path, p.marker.clone(), text));
    }
    Ok(out)
}

/// The `.env` variables one service adds: its secrets (values, the
/// comment naming one that is in the store, or the placeholder for
/// examples) and nothing else; everything derived from them is
/// interpolated in the compose file.
pub fn service_env(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
    instance: &str,
    example: bool,
) -> anyhow::Result<Vec<Var>> {
    Ok(instance_secrets(lib, stack, &spec.file, instance)?
        .into_keys()
        .map(|k| {
            if example {
                Var::set(&k, PLACEHOLDER)
            } else if spec.stored(&k) {
                Var::stored(&k, &spec.name)
            } else {
                Var::set(&k, spec.secrets.get(&k).map_or("", String::as_str))
            }
        })
        .collect())
}

/// One instance rendered: its name, catalog service, definition and overrides.
pub struct Rendered {
    pub name: String,
    pub service: String,
    pub def: ServiceDef,
    pub instance: Instance,
    /// Whether the app gets its variables (the default instance of a
    /// service, or the instance wired to the app).
    pub for_app: bool,
}

/// The variable prefix of an instance that is not its service's default
/// (`analytics-db` -> `ANALYTICS_DB_`): its secrets get their own names.
pub fn secret_prefix(instance: &str, service: &str) -> String {
    if instance == service {
        String::new()
    } else {
        format!("{}_", instance.to_ascii_uppercase().replace('-', "_"))
    }
}

/// Apply `fix` to every string inside `v`.
fn walk(v: &mut Value, fix: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = fix(s),
        Value::Sequence(list) => list.iter_mut().for_each(|x| walk(x, fix)),
        Value::Mapping(m) => m.values_mut().for_each(|x| walk(x, fix)),
        _ => {}
    }
}

/// Rename a rendered definition's secrets with `prefix`: the `secrets:`
/// names and every `${NAME}` reference in the service and the app's variables.
pub(crate) fn rename_secrets(def: &mut ServiceDef, prefix: &str) {
    if prefix.is_empty() || def.secrets.is_empty() {
        return;
    }
    let names: Vec<String> = def.secrets.keys().cloned().collect();
    let fix = |text: &str| {
        let mut t = text.to_owned();
        for n in &names {
            t = t
                .replace(&format!("${{{n}}}"), &format!("${{{prefix}{n}}}"))
                .replace(&format!("${{{n}:"), &format!("${{{prefix}{n}:"));
        }
        t
    };
    for v in def.service.values_mut() {
        walk(v, &fix);
    }
    if let Some(env) = &mut def.app_env {
        for v in env.values_mut() {
            *v = fix(v);
        }
    }
    def.secrets = std::mem::take(&mut def.secrets)
        .into_iter()
        .map(|(k, kind)| (format!("{prefix}{k}"), kind))
        .collect();
}

/// The instance each role's variables come from for `consumer`: its wire,
/// else the only (or, with several, the first) instance of that role.
fn role_providers(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
    instances: &[(String, Instance)],
    consumer: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, inst) in instances {
        let role = describe(lib, inst.service_name(name), &stack.manifest.style)?.role;
        out.entry(role).or_insert_with(|| name.clone());
    }
    for (key, provider) in &spec.file.wires {
        if let Some((c, import)) = key.split_once('.')
            && c == consumer
        {
            out.insert(import.to_owned(), provider.clone());
        }
    }
    Ok(out)
}

/// Render one instance: `primary` when it gives the app its role's variables.
fn render_instance(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
    name: &str,
    service: &str,
    primary: bool,
    primary_database: &str,
) -> anyhow::Result<ServiceDef> {
    let module = spec.module();
    let shared = spec.is_shared(name);
    let (host, database, user) = if shared {
        (
            format!("{}-{name}", spec.shared_name),
            berth::shared::database(&spec.name),
            berth::shared::user(&spec.name),
        )
    } else if name == service {
        (name.to_owned(), "app".to_owned(), "app".to_owned())
    } else {
        (name.to_owned(), name.replace('-', "_"), "app".to_owned())
    };
    let ctx = ServiceContext {
        name: &spec.name,
        host: &host,
        database: &database,
        user: &user,
        module: &module,
        stack: &stack.name,
        style: &stack.manifest.style,
        primary,
        primary_database,
        services: &spec.services,
        shared: if shared { "client" } else { "" },
    };
    let mut def = render_service(lib, service, &ctx)?;
    if shared {
        // The user's password on the shared server (`SHARED_POSTGRES_PASSWORD`).
        let mine = berth::shared::password_secret(name, service);
        let prefix = format!("SHARED_{}", secret_prefix(name, service));
        rename_secrets(&mut def, &prefix);
        def.secrets.retain(|k, _| *k == mine);
    } else {
        rename_secrets(&mut def, &secret_prefix(name, service));
    }
    Ok(def)
}

/// Render every instance with its context (primary of its role or not).
pub fn rendered(lib: &Library, stack: &Stack, spec: &Spec) -> anyhow::Result<Vec<Rendered>> {
    let instances = spec.instances(lib);
    let providers = role_providers(lib, stack, spec, &instances, APP)?;
    let primary_database = providers.get("database").cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (name, inst) in &instances {
        let service = inst.service_name(name).to_owned();
        let role = describe(lib, &service, &stack.manifest.style)?.role;
        let primary = providers.get(&role) == Some(name);
        let def = render_instance(lib, stack, spec, name, &service, primary, &primary_database)?;
        out.push(Rendered {
            for_app: primary || *name == service,
            name: name.clone(),
            service,
            def,
            instance: inst.clone(),
        });
    }
    Ok(out)
}

/// What a worker (an app-like instance) gets besides the app's variables:
/// for each of its own wires, the provider's variables as the app would get
/// them (`celery.database: analytics-db`).
fn worker_env(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
    worker: &str,
    defs: &[Rendered],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for (key, provider) in &spec.file.wires {
        let Some((c, _)) = key.split_once('.') else {
            continue;
        };
        if c != worker {
            continue;
        }
        if let Some(p) = defs.iter().find(|d| &d.name == provider) {
            let def = render_instance(lib, stack, spec, &p.name, &p.service, true, &p.name)?;
            env.extend(def.app_env.unwrap_or_default());
        }
    }
    Ok(env)
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn labels(spec: &Spec, stack: &Stack, service: &str) -> Value {
    let mut m = Mapping::new();
    m.insert(s("berth.project"), s(&spec.name));
    m.insert(s("berth.service"), s(service));
    m.insert(s("berth.stack"), s(&stack.name));
    Value::Mapping(m)
}

fn depends(on: &[(String, bool)]) -> Value {
    let mut m = Mapping::new();
    for (svc, healthy) in on {
        let mut c = Mapping::new();
        c.insert(
            s("condition"),
            s(if *healthy {
                "service_healthy"
            } else {
                "service_started"
            }),
        );
        m.insert(s(svc), Value::Mapping(c));
    }
    Value::Mapping(m)
}

fn env_value(env: &BTreeMap<String, String>) -> Value {
    Value::Mapping(env.iter().map(|(k, v)| (s(k), s(v))).collect())
}

/// A top-level volume entry with its fixed name (no project prefix).
fn named_volume(name: &str) -> Value {
    let mut v = Mapping::new();
    v.insert(s("name"), s(name));
    Value::Mapping(v)
}

/// The `build:` of the app, for workers built from the same image.
fn app_build(stack: &Stack, spec: &Spec) -> Value {
    let mut args = Mapping::new();
    args.insert(
        s("BASE_IMAGE"),
        s(&format!("${{BASE_IMAGE:-{}}}", spec.base_image(stack))),
    );
    let mut build = Mapping::new();
    build.insert(s("context"), s("."));
    build.insert(s("target"), s("${BUILD_TARGET:-production}"));
    build.insert(s("args"), Value::Mapping(args));
    Value::Mapping(build)
}

/// The berth-owned compose file with the catalog services and what the app
/// gets from them (variables, `depends_on` with healthchecks).
pub fn services_file(lib: &Library, stack: &Stack, spec: &Spec) -> anyhow::Result<String> {
    let g = compose_services(lib, stack, spec)?;
    let mut services = Mapping::new();
    for e in &g.services {
        services.insert(s(&e.name), e.definition.clone());
    }
    let mut top = Mapping::new();
    top.insert(s("services"), Value::Mapping(services));
    if !g.volumes.is_empty() {
        top.insert(s("volumes"), Value::Mapping(g.volumes));
    }
    let body = yaml_serde::to_string(&Value::Mapping(top)).context("cannot write YAML")?;
    let names: Vec<&str> = g
        .services
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| *n != APP)
        .collect();
    let shared: Vec<String> = spec
        .file
        .instances
        .names()
        .filter(|n| spec.is_shared(n))
        .map(|n| format!("{n} ({}-{n}, shared)", spec.shared_name))
        .collect();
    let mut header = services_header(spec, stack, &names);
    if !shared.is_empty() {
        let _ = writeln!(
            header,
            "# From the shared servers (`shared`), which `stackctl start` joins to\n\
             # this project's network: {}.",
            shared.join(", ")
        );
    }
    Ok(format!("{header}{body}"))
}

/// One service of the generated compose file with where its values came from.
#[derive(Debug, Clone)]
pub struct Effective {
    pub name: String,
    /// The catalog service (`app` for the app's entry).
    pub service: String,
    pub definition: Value,
    pub provenance: Provenance,
}

/// The generated compose services (instances in generation order, then
/// the app's entry) and their named volumes.
pub struct Generated {
    pub services: Vec<Effective>,
    pub volumes: Mapping,
}

/// Every key of a template-made definition, from the template.
fn from_template(m: &Mapping) -> Provenance {
    let mut p = Provenance::default();
    for k in m.keys().filter_map(Value::as_str) {
        p.keys.insert(k.to_owned(), Source::Template);
    }
    if let Some(Value::Mapping(env)) = m.get("environment") {
        for k in env.keys().filter_map(Value::as_str) {
            p.environment.insert(k.to_owned(), Source::Template);
        }
    }
    p
}

/// Mark `keys` of `p`'s environment as wired (and the key itself when it has any).
fn mark_wired<'a>(p: &mut Provenance, keys: impl Iterator<Item = &'a String>) {
    let mut any = false;
    for k in keys {
        p.environment.insert(k.clone(), Source::Wire);
        any = true;
    }
    if any {
        p.keys.insert("environment".into(), Source::Wire);
    }
}

/// The compose services generated from the spec, with provenance.
#[allow(clippy::too_many_lines)] // one pass over the instances
pub fn compose_services(lib: &Library, stack: &Stack, spec: &Spec) -> anyhow::Result<Generated> {
    let defs = rendered(lib, stack, spec)?;
    let healthy: BTreeMap<&str, bool> = defs
        .iter()
        .map(|d| (d.name.as_str(), d.def.service.contains_key("healthcheck")))
        .collect();
    let mut app_env = BTreeMap::new();
    let mut app_deps = Vec::new();
    for d in defs.iter().filter(|d| d.for_app) {
        if let Some(env) = &d.def.app_env {
            app_env.extend(env.clone());
        }
        // A shared server is no service of the project: `stackctl start`
        // brings it up (and the project's database on it) first.
        if d.def.app_depends && !spec.is_shared(&d.name) {
            app_deps.push((d.name.clone(), healthy[d.name.as_str()]));
        }
    }
    let mut services = Vec::new();
    let mut volumes = Mapping::new();
    for d in &defs {
        let (name, def) = (&d.name, &d.def);
        if spec.is_shared(name) {
            continue;
        }
        let mut m = Mapping::new();
        if def.app_like {
            m.insert(s("build"), app_build(stack, spec));
        }
        for (k, v) in &def.service {
            let v = match v {
                Value::String(image) if k.as_str() == Some("image") => s(&spec.image(image)),
                _ => v.clone(),
            };
            m.insert(k.clone(), v);
        }
        m.insert(s("container_name"), s(&format!("{}-{name}", spec.name)));
        let mut wired_keys = Vec::new();
        if def.app_like {
            let mut env = stack.manifest.worker_env.clone();
            env.extend(app_env.clone());
            let own = worker_env(lib, stack, spec, name, &defs)?;
            wired_keys.extend(app_env.keys().chain(own.keys()).cloned());
            env.extend(own);
            m.insert(s("environment"), env_value(&env));
            if !app_deps.is_empty() {
                m.insert(s("depends_on"), depends(&app_deps));
            }
        }
        if !def.depends_on_roles.is_empty() {
            let mut on = Vec::new();
            for o in &defs {
                if &o.name != name && def.depends_on_roles.contains(&o.def.role) {
                    on.push((o.name.clone(), healthy[o.name.as_str()]));
                }
            }
            if !on.is_empty() {
                m.insert(s("depends_on"), depends(&on));
            }
        }
        if let Some(data) = &def.data {
            let vol = format!("{}-{name}-data", spec.name);
            m.insert(
                s("volumes"),
                Value::Sequence(vec![s(&format!("{vol}:{data}"))]),
            );
            volumes.insert(s(&vol), named_volume(&vol));
        }
        if let Some(ports) = spec.published.get(name).filter(|p| !p.is_empty()) {
            let list = ports
                .iter()
                .map(|(host, target)| s(&format!("127.0.0.1:{host}:{target}")));
            m.insert(s("ports"), Value::Sequence(list.collect()));
        }
        m.insert(s("labels"), labels(spec, stack, name));
        m.insert(s("restart"), s("unless-stopped"));
        let mut prov = from_template(&m);
        mark_wired(&mut prov, wired_keys.iter());
        let definition = if d.instance.is_bare(name) {
            Value::Mapping(m)
        } else {
            // Overrides win: berth.yaml's instance over the template.
            let (v, over) = berth::stackfile::effective(&Value::Mapping(m), &d.instance, &[]);
            for (k, src) in over.keys {
                if src == Source::Override {
                    prov.keys.insert(k, src);
                }
            }
            for (k, src) in over.environment {
                if src == Source::Override {
                    prov.environment.insert(k, src);
                }
            }
            v
        };
        services.push(Effective {
            name: name.clone(),
            service: d.service.clone(),
            definition,
            provenance: prov,
        });
    }
    // The app entry is always there: docker-compose v1 reads a file whose
    // `services` mapping is empty as a version 1 file and refuses the merge.
    let mut app = Mapping::new();
    if !app_env.is_empty() {
        app.insert(s("environment"), env_value(&app_env));
    }
    if !app_deps.is_empty() {
        app.insert(s("depends_on"), depends(&app_deps));
    }
    let mut prov = from_template(&app);
    mark_wired(&mut prov, app_env.keys());
    services.push(Effective {
        name: APP.to_owned(),
        service: APP.to_owned(),
        definition: Value::Mapping(app),
        provenance: prov,
    });
    Ok(Generated { services, volumes })
}

/// The comment above the services file: what it holds and who writes it.
fn services_header(spec: &Spec, stack: &Stack, names: &[&str]) -> String {
    let list = if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    };
    format!(
        "# Generated by stackgen for {name} ({stack}): catalog services: {list}.\n\
         # Do not edit: `stackgen add-service` and `stackgen remove-service`\n\
         # rewrite this file. Your own services and changes belong in compose.yaml;\n\
         # COMPOSE_FILE in .env merges both.\n",
        name = spec.name,
        stack = stack.name,
    )
}

/// The ports a service can publish, for `--publish`.
pub fn publishable(lib: &Library, stack: &Stack, service: &str) -> anyhow::Result<Vec<u16>> {
    Ok(describe(lib, service, &stack.manifest.style)?.publish)
}
