//! `registry show NAME`: one project described as `ddev describe` and `lando
//! info` do: its URLs, each service with its state (from the engine when one
//! answers), internal and published addresses, its databases' name, user and
//! where the password is, and the commands that reach them. The JSON is the
//! project's registry entry with these fields added.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use berth::cli::Outcome;
use berth::compose::{self, Compose};
use berth::database::{Engine, FromFile, PasswordFrom, creds_with_source};
use berth::docker::ContainerInfo;
use berth::io::{self, Format, OutputArgs};
use berth::registry::{self, Registry};
use berth::{PortBinding, Project, Protocol, sites, table};
use serde::Serialize;

use crate::TOOL;

/// Show one project: URLs, services with their state, databases, commands.
///
/// The registry entry, and what a developer needs to reach the project: its
/// URLs (http and https on the dev domain, and the app's published port),
/// each service with its state as the container engine reports it
/// (running, healthy, unhealthy, exited (CODE), not created; `unknown` when
/// no engine answers), its address on the project network (SERVICE:PORT) and
/// on this machine (`HOST_IP:PORT`), each database's name and user and where
/// its password is set; the password itself only with --show-secrets.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  registry show shop                        URLs, services, database, commands
  registry show shop --json | jq -r '.urls[0]'
  registry show shop --json | jq '.service_details[] | {service, state}'
  registry show shop --format csv           one row, the JSON fields as columns
  registry show shop --show-secrets         the database password too

The JSON object is the project's registry entry (what `registry list
--json` prints) with `urls`, `engine`, `service_details` and `commands`
added. Without --show-secrets no password is printed, in any format.")]
pub struct Args {
    /// The project's name.
    name: String,
    /// The dev TLD of the URLs (default: `tld` from config.yaml, else `test`).
    #[arg(long, value_name = "TLD")]
    tld: Option<String>,
    /// Also print the database passwords (otherwise only where they are set).
    #[arg(long)]
    show_secrets: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// The project and what was found about it.
#[derive(Serialize)]
struct Described<'a> {
    #[serde(flatten)]
    project: &'a Project,
    urls: Vec<String>,
    engine: EngineState,
    service_details: Vec<ServiceInfo>,
    commands: Vec<String>,
}

/// Whether the container engine answered.
#[derive(Serialize)]
struct EngineState {
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One service.
#[derive(Serialize)]
struct ServiceInfo {
    service: String,
    /// The image it runs; `None` for one built from a Dockerfile and not yet built.
    image: Option<String>,
    /// `running`, `exited`, `created`, `restarting`, `paused`, `dead`,
    /// `not created`, or `unknown` when no engine answered.
    state: String,
    /// `healthy`, `unhealthy`, `starting`; `None` without a healthcheck.
    health: Option<String>,
    exit_code: Option<i64>,
    /// Its addresses on the project network: `postgres:5432`.
    internal: Vec<String>,
    /// Its addresses on this machine: `0.0.0.0:5000`, `127.0.0.1:5353/udp`.
    published: Vec<String>,
    database: Option<DbInfo>,
}

/// A database service's credentials: the password only when asked for.
#[derive(Serialize)]
struct DbInfo {
    engine: &'static str,
    /// The interactive client of the image (`psql`, `mariadb`, `mysql`).
    #[serde(skip)]
    client: &'static str,
    database: String,
    user: String,
    /// Where the password is set: `POSTGRES_PASSWORD in /code/shop/.env`.
    password_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

impl ServiceInfo {
    /// `running (healthy)`, `exited (1)`, `not created`.
    fn state_text(&self) -> String {
        match (&self.health, self.exit_code) {
            (Some(h), _) if self.state == "running" => format!("running ({h})"),
            (_, Some(code)) if self.state != "running" => format!("{} ({code})", self.state),
            _ => self.state.clone(),
        }
    }
}

pub fn run(reg: &Registry, a: &Args) -> anyhow::Result<Outcome> {
    let projects = reg.load()?;
    let p = registry::find(&projects, &a.name)?;
    let tld = sites::tld(a.tld.as_deref())?;
    let urls = urls(p, &tld).unwrap_or_else(|e| {
        warn(&format!(
            "cannot tell the URLs of {}: {}",
            p.name,
            berth::cli::error_chain(e.as_ref())
        ));
        Vec::new()
    });
    // Read only: nothing is migrated and no key is made here.
    let stored: HashMap<String, String> = berth::secrets_migrate::peek(&p.name)
        .unwrap_or_else(|e| {
            warn(&format!(
                "cannot read the secrets of {}: {}",
                p.name,
                berth::cli::error_chain(e.as_ref())
            ));
            None
        })
        .map(|s| s.env().into_iter().collect())
        .unwrap_or_default();
    let (compose, dotenv) = read_compose(p, &stored);
    let (containers, engine) = containers(&p.name);
    if let Some(e) = &engine.error {
        eprintln!(
            "{TOOL}: note: no container engine answers ({}); service states are unknown",
            table::escape_controls(e)
        );
    }
    let mut details = services(p, compose.as_ref(), containers.as_deref());
    for s in &mut details {
        let def = compose.as_ref().and_then(|c| c.service(&s.service));
        let container = containers
            .as_deref()
            .and_then(|cs| pick(cs, &s.service))
            .map(|c| c.id.as_str());
        s.database = database(p, def, &dotenv, &stored, container, a.show_secrets);
    }
    let commands = commands(p, &details);
    let d = Described {
        project: p,
        urls,
        engine,
        service_details: details,
        commands,
    };
    match a.output.format() {
        // One object, as before: scripts read `registry show --json` so.
        Format::Json => io::write_json(&d)?,
        // One record: ndjson one line, csv the JSON fields as header (nested
        // values as JSON text), table the readable block.
        format => io::write_records(format, std::slice::from_ref(&d), || {
            text(&d, a.show_secrets)
        })?,
    }
    Ok(Outcome::Clean)
}

/// A warning on stderr, its control characters escaped (the entry shown may
/// be one the validator refuses).
fn warn(message: &str) {
    berth::cli::warn(TOOL, table::escape_controls(message));
}

/// `http://` and `https://` for every hostname of the project (its domain,
/// then one per web tool), and `http://IP:PORT` where it is published.
fn urls(p: &Project, tld: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for site in sites::sites(p, tld)? {
        out.push(format!("http://{}", site.host));
        out.push(format!("https://{}", site.host));
        let Some(port) = site.port else { continue };
        let mut ip = site.ip;
        if site.service.is_none() {
            // The project's own port: only when a service publishes it (an
            // allocated port nothing publishes is no URL), on the address it
            // is bound to (`127.0.0.2:8000:8000`).
            let Some(binding) = p
                .service_ports
                .iter()
                .find(|b| b.published == Some(port) && b.protocol == Protocol::Tcp)
            else {
                continue;
            };
            if !binding.host_ip.is_unspecified() {
                ip = binding.host_ip;
            }
        }
        out.push(format!("http://{}", host_port(ip, port)));
    }
    Ok(out)
}

fn host_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("{v4}:{port}"),
    }
}

/// The project's compose files as compose reads them (the registry's
/// variables over the process environment over `.env`), and its `.env`.
/// A folder that cannot be read is said once; the registry entry remains.
fn read_compose(
    p: &Project,
    stored: &HashMap<String, String>,
) -> (Option<Compose>, HashMap<String, String>) {
    let loaded = compose::Env::for_dir(&p.path).and_then(|env| {
        // The registry's variables, then the secrets store, as stackctl
        // hands them to compose (over `.env`).
        let mut overrides: Vec<(String, String)> = p
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        overrides.extend(stored.iter().map(|(k, v)| (k.clone(), v.clone())));
        let env = env.with_overrides(&overrides);
        let dotenv = env.dotenv().clone();
        let files = if p.compose_files.is_empty() {
            compose::discover(&p.path, &env)?
        } else {
            p.compose_files.clone()
        };
        if files.is_empty() {
            return Ok((None, dotenv));
        }
        Ok((Some(compose::load_files(&files, &env)?), dotenv))
    });
    loaded.unwrap_or_else(|e| {
        warn(&format!(
            "cannot read the compose files of {}: {}; showing what the registry knows",
            p.name,
            berth::cli::error_chain(e.as_ref())
        ));
        (None, HashMap::new())
    })
}

/// The project's containers, or why the engine could not tell.
fn containers(project: &str) -> (Option<Vec<ContainerInfo>>, EngineState) {
    let ask = || -> anyhow::Result<Vec<ContainerInfo>> {
        let rt = berth::docker::runtime()?;
        rt.block_on(async {
            tokio_timeout(async {
                let docker = berth::docker::connect().await?;
                berth::docker::project_containers(&docker, &[project]).await
            })
            .await
        })
    };
    match ask() {
        Ok(list) => (
            Some(list),
            EngineState {
                reachable: true,
                error: None,
            },
        ),
        Err(e) => (
            None,
            EngineState {
                reachable: false,
                error: Some(berth::cli::error_chain(e.as_ref())),
            },
        ),
    }
}

/// Ten seconds for the engine to answer.
async fn tokio_timeout<T>(
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    berth::docker::with_timeout(Duration::from_secs(10), "the container engine", f).await
}

/// The container that speaks for a service: a running one first.
fn pick<'a>(containers: &'a [ContainerInfo], service: &str) -> Option<&'a ContainerInfo> {
    let mut of = containers.iter().filter(|c| c.service == service);
    let first = of.clone().next();
    of.find(|c| c.state == "running").or(first)
}

/// Every service: the compose files' (in their order), then any only the
/// registry or the engine knows.
fn services(
    p: &Project,
    compose: Option<&Compose>,
    containers: Option<&[ContainerInfo]>,
) -> Vec<ServiceInfo> {
    let mut names: Vec<&str> = Vec::new();
    let from_compose = compose
        .iter()
        .flat_map(|c| c.services.iter().map(|s| s.name.as_str()));
    let from_registry = p
        .services
        .iter()
        .map(String::as_str)
        .chain(p.service_ports.iter().map(|b| b.service.as_str()));
    let from_engine = containers
        .unwrap_or_default()
        .iter()
        .map(|c| c.service.as_str());
    for n in from_compose.chain(from_registry).chain(from_engine) {
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let def = compose.and_then(|c| c.service(name));
            let container = containers.and_then(|cs| pick(cs, name));
            let bindings: Vec<&PortBinding> = match (compose, def) {
                (Some(_), Some(d)) => d.ports.iter().collect(),
                (Some(_), None) => Vec::new(),
                (None, _) => p
                    .service_ports
                    .iter()
                    .filter(|b| b.service == name)
                    .collect(),
            };
            let image = def
                .and_then(|d| d.image.clone())
                .or_else(|| container.map(|c| c.image.clone()));
            let engine = db_engine(def, image.as_deref());
            let mut ports: Vec<u16> = bindings.iter().map(|b| b.target).collect();
            ports.extend(def.iter().flat_map(|d| exposed(&d.raw)));
            ports.extend(engine.map(Engine::default_port));
            ports.extend(image.as_deref().map(known_ports).unwrap_or_default());
            ports.extend(
                container
                    .iter()
                    .flat_map(|c| c.ports.iter().map(|b| b.target)),
            );
            ports.sort_unstable();
            ports.dedup();
            let (state, health, exit_code) = match (containers, container) {
                (None, _) => ("unknown".to_owned(), None, None),
                (Some(_), None) => ("not created".to_owned(), None, None),
                (Some(_), Some(c)) => (c.state.clone(), c.health.clone(), c.exit_code),
            };
            ServiceInfo {
                service: name.to_owned(),
                image,
                state,
                health,
                exit_code,
                internal: ports.iter().map(|port| format!("{name}:{port}")).collect(),
                published: bindings.iter().map(|b| published(b)).collect(),
                database: None,
            }
        })
        .collect()
}

/// `0.0.0.0:5000`, `[::1]:6379`, `127.0.0.1:5353/udp`; `*` for a port the
/// engine picks.
fn published(b: &PortBinding) -> String {
    let mut s = match (b.published, b.host_ip) {
        (Some(port), ip) => host_port(ip, port),
        (None, IpAddr::V6(v6)) => format!("[{v6}]:*"),
        (None, IpAddr::V4(v4)) => format!("{v4}:*"),
    };
    if b.protocol == Protocol::Udp {
        s.push_str("/udp");
    }
    s
}

/// The ports in a service's `expose:` (`"3000"`, `3000`, `"8080/tcp"`).
fn exposed(raw: &yaml_serde::Mapping) -> Vec<u16> {
    let Some(list) = raw
        .get(yaml_serde::Value::String("expose".into()))
        .and_then(yaml_serde::Value::as_sequence)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|v| match v {
            yaml_serde::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            yaml_serde::Value::String(s) => s.split('/').next()?.parse().ok(),
            _ => None,
        })
        .collect()
}

/// The ports the images that stacks use listen on, besides databases.
fn known_ports(image: &str) -> Vec<u16> {
    let repo = image.split(['@', ':']).next().unwrap_or(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let table: &[(&str, &[u16])] = &[
        ("redis", &[6379]),
        ("valkey", &[6379]),
        ("memcached", &[11211]),
        ("mailpit", &[1025, 8025]),
        ("mailhog", &[1025, 8025]),
        ("adminer", &[8080]),
        ("rabbitmq", &[5672]),
        ("mongo", &[27017]),
        ("elasticsearch", &[9200]),
        ("opensearch", &[9200]),
        ("minio", &[9000]),
    ];
    table
        .iter()
        .find(|(name, _)| last == *name)
        .map(|(_, ports)| ports.to_vec())
        .unwrap_or_default()
}

/// The database engine a service runs: by its image, else (for an image
/// berth does not know, not one built here) by the official images' variables.
fn db_engine(def: Option<&compose::Service>, image: Option<&str>) -> Option<Engine> {
    image.and_then(Engine::from_image).or_else(|| {
        let def = def?;
        let built = def
            .raw
            .contains_key(yaml_serde::Value::String("build".into()));
        (!built)
            .then(|| Engine::from_env(&def.environment))
            .flatten()
    })
}

/// A database service's name, user and where its password is: from the
/// compose files, else from the container's own environment.
fn database(
    p: &Project,
    def: Option<&compose::Service>,
    dotenv: &HashMap<String, String>,
    stored: &HashMap<String, String>,
    container: Option<&str>,
    show_secrets: bool,
) -> Option<DbInfo> {
    let def = def?;
    let engine = db_engine(Some(def), def.image.as_deref())?;
    let mut none = |_: &FromFile| None;
    let mut found = creds_with_source(engine.family(), &def.environment, &mut none).ok();
    let mut in_container = false;
    // What the compose files do not say, the container's environment may.
    if found.as_ref().is_none_or(|(_, from)| from.is_none())
        && let Some(mut env) = container.and_then(container_env)
    {
        env.extend(def.environment.clone());
        if let Ok(f) = creds_with_source(engine.family(), &env, &mut none) {
            in_container = f.1.is_some();
            found = Some(f);
        }
    }
    let (creds, from) = found?;
    let password_source = match &from {
        None => "none set".to_owned(),
        Some(PasswordFrom::File(f)) => {
            format!("{}_FILE: the file {} in the container", f.var, f.path)
        }
        Some(PasswordFrom::Var(var)) if in_container => {
            format!("{var} in the container's environment")
        }
        Some(PasswordFrom::Var(var)) => value_source(
            p,
            var,
            creds.password.as_deref().unwrap_or_default(),
            dotenv,
            stored,
            &def.name,
        ),
    };
    Some(DbInfo {
        engine: engine.as_str(),
        client: engine.client_program(),
        database: creds.database,
        user: creds.user,
        password_source,
        password: creds.password.filter(|_| show_secrets),
    })
}

/// Where a value of service `service`'s `var` comes from, in the order
/// compose interpolation takes it under stackctl: the secrets store, the
/// registry's variables, the process environment, the project's `.env`;
/// else the compose files themselves.
fn value_source(
    p: &Project,
    var: &str,
    value: &str,
    dotenv: &HashMap<String, String>,
    stored: &HashMap<String, String>,
    service: &str,
) -> String {
    let holder = |map: &dyn Fn(&str) -> Option<String>, keys: &mut dyn Iterator<Item = String>| {
        if map(var).as_deref() == Some(value) {
            return Some(var.to_owned());
        }
        let mut keys: Vec<String> = keys.filter(|k| map(k).as_deref() == Some(value)).collect();
        keys.sort();
        keys.into_iter().next()
    };
    let store = |k: &str| stored.get(k).cloned();
    if let Some(k) = holder(&store, &mut stored.keys().cloned()) {
        return format!("{k} in the secrets store (secrets get {} {k})", p.name);
    }
    let registry_env = |k: &str| p.environment.get(k).cloned();
    if let Some(k) = holder(&registry_env, &mut p.environment.keys().cloned()) {
        return format!("{k} in the registry (registry env get {} {k})", p.name);
    }
    let process = |k: &str| std::env::var(k).ok();
    if let Some(k) = holder(&process, &mut std::env::vars().map(|(k, _)| k)) {
        return format!("{k} in the environment of this shell");
    }
    let dot = |k: &str| dotenv.get(k).cloned();
    if let Some(k) = holder(&dot, &mut dotenv.keys().cloned()) {
        return format!("{k} in {}", p.path.join(".env").display());
    }
    format!("{var} in the environment of service {service} (the compose files)")
}

/// A container's environment as a map; `None` when it cannot be read.
fn container_env(container: &str) -> Option<BTreeMap<String, String>> {
    let rt = berth::docker::runtime().ok()?;
    let env = rt
        .block_on(tokio_timeout(async {
            let docker = berth::docker::connect().await?;
            berth::docker::container_env(&docker, container).await
        }))
        .ok()?;
    Some(
        env.iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// The commands that reach the project and its databases.
fn commands(p: &Project, services: &[ServiceInfo]) -> Vec<String> {
    let name = &p.name;
    let mut out = vec![
        format!("stackctl exec {name} -- sh"),
        format!("stackctl logs {name}"),
    ];
    let dbs: Vec<(&ServiceInfo, &DbInfo)> = services
        .iter()
        .filter_map(|s| s.database.as_ref().map(|d| (s, d)))
        .collect();
    for (s, d) in &dbs {
        let service = &s.service;
        let pick = if dbs.len() > 1 {
            format!(" --service {service}")
        } else {
            String::new()
        };
        out.push(format!("dbdump shell --project {name}{pick}"));
        let program = d.client;
        let client = if program == "psql" {
            format!("psql -U {} {}", quote(&d.user), quote(&d.database))
        } else {
            format!("{program} -u {} -p {}", quote(&d.user), quote(&d.database))
        };
        out.push(format!(
            "stackctl exec {name} --service {service} -- {client}"
        ));
    }
    out
}

/// A word as a POSIX shell reads it back: as is when it is plain, else in
/// single quotes.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '@' | '=')
        });
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The readable block: key: value lines, a table of services, the
/// databases, the commands. Every value has its control characters escaped.
fn text(d: &Described<'_>, show_secrets: bool) -> String {
    let p = d.project;
    let esc = table::escape_controls;
    let mut out = String::new();
    let field = |out: &mut String, key: &str, values: &[String]| {
        let mut first = true;
        for v in values {
            let key = if first { key } else { "" };
            let _ = writeln!(out, "{key:<12}{}", esc(v));
            first = false;
        }
        if values.is_empty() {
            let _ = writeln!(out, "{key:<12}-");
        }
    };
    let stack = p
        .stack
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    field(&mut out, "project", &[format!("{}{stack}", p.name)]);
    field(&mut out, "path", &[p.path.display().to_string()]);
    field(&mut out, "domain", std::slice::from_ref(&p.domain));
    field(&mut out, "status", &[p.status.to_string()]);
    field(&mut out, "urls", &d.urls);
    if !p.shared.is_empty() {
        let config = berth::paths::Paths::from_env()
            .and_then(|paths| berth::config::Config::load(&paths))
            .map(|c| c.shared)
            .unwrap_or_default();
        let shared: Vec<String> = p
            .shared
            .iter()
            .map(|i| format!("{i} ({})", config.container(i)))
            .collect();
        field(&mut out, "shared", &shared);
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = d
        .service_details
        .iter()
        .map(|s| {
            let state = s.state_text();
            vec![
                s.service.clone(),
                if state == "running" {
                    table::paint_status("running")
                } else {
                    state
                },
                s.internal.join(", "),
                if s.published.is_empty() {
                    "-".into()
                } else {
                    s.published.join(", ")
                },
                s.image.clone().unwrap_or_else(|| "(built here)".into()),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &["service", "state", "internal", "published", "image"],
        rows,
    ));
    for s in &d.service_details {
        let Some(db) = &s.database else { continue };
        let _ = writeln!(
            out,
            "\ndatabase ({}, service {})",
            db.engine,
            esc(&s.service)
        );
        field(&mut out, "  name", std::slice::from_ref(&db.database));
        field(&mut out, "  user", std::slice::from_ref(&db.user));
        let password = match &db.password {
            Some(pw) if show_secrets => format!("{pw}  ({})", db.password_source),
            _ if db.password_source == "none set" => "none set".to_owned(),
            _ => format!(
                "{}: {} (`registry show {} --show-secrets` prints it)",
                berth::secrets::MASK,
                db.password_source,
                p.name
            ),
        };
        field(&mut out, "  password", &[password]);
    }
    out.push_str("\ncommands\n");
    for c in &d.commands {
        let _ = writeln!(out, "  {}", esc(c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(quote("app"), "app");
        assert_eq!(quote("my db"), "'my db'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(x)"), "'$(x)'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn known_images_and_expose_give_internal_ports() {
        assert_eq!(known_ports("redis:7"), [6379]);
        assert_eq!(known_ports("docker.io/library/redis:7-alpine"), [6379]);
        assert!(known_ports("nginx").is_empty());
        let raw: yaml_serde::Mapping =
            yaml_serde::from_str("expose: [\"3000\", 4000, \"5000/udp\", \"x\"]").unwrap();
        assert_eq!(exposed(&raw), [3000, 4000, 5000]);
    }

    #[test]
    fn states_read_as_words() {
        let s = |state: &str, health: Option<&str>, code: Option<i64>| ServiceInfo {
            service: "db".into(),
            image: None,
            state: state.into(),
            health: health.map(Into::into),
            exit_code: code,
            internal: Vec::new(),
            published: Vec::new(),
            database: None,
        };
        assert_eq!(
            s("running", Some("healthy"), None).state_text(),
            "running (healthy)"
        );
        assert_eq!(s("exited", None, Some(137)).state_text(), "exited (137)");
        assert_eq!(s("not created", None, None).state_text(), "not created");
        assert_eq!(s("running", None, None).state_text(), "running");
    }
}
