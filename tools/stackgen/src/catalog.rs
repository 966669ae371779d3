//! The service catalog shared by all stacks: each `services/<name>.yaml` is a
//! Tera template that renders to its compose service, the variables the app
//! gets (named the way the framework expects), its secrets, its data folder
//! and its healthcheck.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use yaml_serde::Mapping;

use crate::templates::{Library, parse_yaml, render};

/// A rendered catalog entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    pub description: String,
    /// `database`, `cache`, `mail`, ...: the first service of a role is its primary.
    pub role: String,
    /// The contracts it provides to the app's imports (`postgres`, `redis`,
    /// `smtp`, `s3`): the app imports each role, taking what its services export.
    #[serde(default)]
    pub exports: Vec<String>,
    /// The major versions its image comes in (the image's tag), newest
    /// first: an instance's `version` must be one of them (empty: any).
    #[serde(default)]
    pub versions: Vec<String>,
    /// The port it serves on inside the network.
    #[serde(default)]
    pub port: Option<u16>,
    /// Container ports published on 127.0.0.1 with `--publish`.
    #[serde(default)]
    pub publish: Vec<u16>,
    /// A folder kept in a named volume `<project>-<service>-data`.
    #[serde(default)]
    pub data: Option<String>,
    /// Secrets it needs in .env (name -> kind).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Only these stacks offer it (empty: all).
    #[serde(default)]
    pub stacks: Vec<String>,
    /// Roles another selected service must fill (celery needs a cache as broker).
    #[serde(default)]
    pub requires_roles: Vec<String>,
    /// It starts after the services of these roles are healthy.
    #[serde(default)]
    pub depends_on_roles: Vec<String>,
    /// Built from the app's image with the app's variables (a worker).
    #[serde(default)]
    pub app_like: bool,
    /// Whether the app waits for it (default true).
    #[serde(default = "yes")]
    pub app_depends: bool,
    /// The compose service definition (berth adds names, labels, volumes, ports).
    pub service: Mapping,
    /// Variables for the app.
    #[serde(default)]
    pub app_env: Option<BTreeMap<String, String>>,
}

fn yes() -> bool {
    true
}

/// What a catalog template sees.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceContext<'a> {
    pub name: &'a str,
    /// The instance's name: its host name on the project's network.
    pub host: &'a str,
    /// The database a database instance creates: `app` for the service's
    /// default instance, the instance's name (`analytics_db`) for another.
    pub database: &'a str,
    /// The database user the app connects as: `app` in a project's own
    /// server, the project's own user on a shared one.
    pub user: &'a str,
    pub module: &'a str,
    pub stack: &'a str,
    pub style: &'a str,
    /// Whether it is the first selected service of its role.
    pub primary: bool,
    pub primary_database: &'a str,
    pub services: &'a [String],
    /// `client`: the app reaches this instance on a shared server (the
    /// project's own user and key prefix); `server`: this is the shared
    /// server itself; empty: the project's own server.
    pub shared: &'a str,
}

/// Render one catalog entry.
pub fn render_service(
    lib: &Library,
    service: &str,
    ctx: &ServiceContext<'_>,
) -> anyhow::Result<ServiceDef> {
    let key = format!("services/{service}.yaml");
    let Some(src) = lib.get(&key) else {
        return Err(berth::cli::error_with_hint(
            format!("unknown service '{service}'"),
            format!(
                "the catalog has: {} (see `stackgen services`)",
                lib.service_names().join(", ")
            ),
        ));
    };
    let context =
        tera::Context::from_serialize(ctx).context("cannot build the template context")?;
    let text = render(src, &context)?;
    parse_yaml(&text, &src.shown)
}

/// The role of each catalog service, rendered with a neutral context (for
/// listings and for choosing primaries).
pub fn describe(lib: &Library, service: &str, style: &str) -> anyhow::Result<ServiceDef> {
    lib.memo(format!("described\0{service}\0{style}"), || {
        render_service(
            lib,
            service,
            &ServiceContext {
                name: "example",
                host: service,
                database: "app",
                user: "app",
                module: "example",
                stack: "example",
                style,
                primary: true,
                primary_database: "",
                services: &[],
                shared: "",
            },
        )
    })
}
