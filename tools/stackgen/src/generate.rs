//! Generation: a pure function from a [`Spec`] (stack, name, services, ports,
//! secrets) to file contents. Nothing here touches the disk or the clock;
//! `plan` decides what to write and `apply` writes it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use serde_json::json;
use yaml_serde::{Mapping, Value};

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
}

impl Spec {
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

/// The secrets a stack with these services needs: name -> kind.
pub fn secret_kinds(
    lib: &Library,
    stack: &Stack,
    services: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = stack.manifest.secrets.clone();
    for s in services {
        out.extend(describe(lib, s, &stack.manifest.style)?.secrets);
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
    service: &str,
    example: bool,
) -> anyhow::Result<Vec<Var>> {
    let def = describe(lib, service, &stack.manifest.style)?;
    Ok(def
        .secrets
        .keys()
        .map(|k| {
            if example {
                Var::set(k, PLACEHOLDER)
            } else if spec.stored(k) {
                Var::stored(k, &spec.name)
            } else {
                Var::set(k, spec.secrets.get(k).map_or("", String::as_str))
            }
        })
        .collect())
}

/// Render every selected service with its context (primary of its role or not).
fn rendered(
    lib: &Library,
    stack: &Stack,
    spec: &Spec,
) -> anyhow::Result<Vec<(String, ServiceDef)>> {
    let roles = roles(lib, stack, &spec.services)?;
    let primary_database = spec
        .services
        .iter()
        .find(|s| roles.get(*s).is_some_and(|r| r == "database"))
        .cloned()
        .unwrap_or_default();
    let module = spec.module();
    let mut seen_roles = BTreeSet::new();
    let mut out = Vec::new();
    for s in &spec.services {
        let role = &roles[s];
        let primary = seen_roles.insert(role.clone());
        let ctx = ServiceContext {
            name: &spec.name,
            module: &module,
            stack: &stack.name,
            style: &stack.manifest.style,
            primary,
            primary_database: &primary_database,
            services: &spec.services,
        };
        out.push((s.clone(), render_service(lib, s, &ctx)?));
    }
    Ok(out)
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
    let defs = rendered(lib, stack, spec)?;
    let healthy: BTreeMap<&str, bool> = defs
        .iter()
        .map(|(n, d)| (n.as_str(), d.service.contains_key("healthcheck")))
        .collect();
    let mut app_env = BTreeMap::new();
    let mut app_deps = Vec::new();
    for (name, def) in &defs {
        if let Some(env) = &def.app_env {
            app_env.extend(env.clone());
        }
        if def.app_depends {
            app_deps.push((name.clone(), healthy[name.as_str()]));
        }
    }
    let mut services = Mapping::new();
    let mut volumes = Mapping::new();
    for (name, def) in &defs {
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
        if def.app_like {
            let mut env = stack.manifest.worker_env.clone();
            env.extend(app_env.clone());
            m.insert(s("environment"), env_value(&env));
            if !app_deps.is_empty() {
                m.insert(s("depends_on"), depends(&app_deps));
            }
        }
        if !def.depends_on_roles.is_empty() {
            let mut on = Vec::new();
            for (other, odef) in &defs {
                if other != name && def.depends_on_roles.contains(&odef.role) {
                    on.push((other.clone(), healthy[other.as_str()]));
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
            let mut v = Mapping::new();
            v.insert(s("name"), s(&vol));
            volumes.insert(s(&vol), Value::Mapping(v));
        }
        if let Some(ports) = spec.published.get(name).filter(|p| !p.is_empty()) {
            let list = ports
                .iter()
                .map(|(host, target)| s(&format!("127.0.0.1:{host}:{target}")));
            m.insert(s("ports"), Value::Sequence(list.collect()));
        }
        m.insert(s("labels"), labels(spec, stack, name));
        m.insert(s("restart"), s("unless-stopped"));
        services.insert(s(name), Value::Mapping(m));
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
    services.insert(s(APP), Value::Mapping(app));
    let mut top = Mapping::new();
    top.insert(s("services"), Value::Mapping(services));
    if !volumes.is_empty() {
        top.insert(s("volumes"), Value::Mapping(volumes));
    }
    let body = yaml_serde::to_string(&Value::Mapping(top)).context("cannot write YAML")?;
    let list = if spec.services.is_empty() {
        "none".to_owned()
    } else {
        spec.services.join(", ")
    };
    Ok(format!(
        "# Generated by stackgen for {name} ({stack}): catalog services: {list}.\n\
         # Do not edit: `stackgen add-service` and `stackgen remove-service`\n\
         # rewrite this file. Your own services and changes belong in compose.yaml;\n\
         # COMPOSE_FILE in .env merges both.\n{body}",
        name = spec.name,
        stack = stack.name,
    ))
}

/// The ports a service can publish, for `--publish`.
pub fn publishable(lib: &Library, stack: &Stack, service: &str) -> anyhow::Result<Vec<u16>> {
    Ok(describe(lib, service, &stack.manifest.style)?.publish)
}
