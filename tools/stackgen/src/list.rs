//! `stackgen services` and `stackgen stacks`: the service catalog and the
//! stacks, as tables or JSON.

use std::path::PathBuf;

use berth::cli::Outcome;
use berth::io::{self, OutputArgs, Row};
use serde::Serialize;

use crate::catalog::describe;
use crate::ctx::Ctx;
use crate::stack::Stack;
use crate::state::State;

/// List the service catalog (and which services a project uses).
#[derive(Debug, clap::Args)]
pub struct ServicesArgs {
    /// The project folder of a generated project: mark the services it uses.
    #[arg(long, short)]
    dir: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

/// List the available stacks with their runtime and services.
#[derive(Debug, clap::Args)]
pub struct StacksArgs {
    #[command(flatten)]
    output: OutputArgs,
}

/// A row of `services`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("stackgen-service", berth::schema::of::<ServiceRow>()),
        ("stackgen-stack", berth::schema::of::<StackRow>()),
    ]
}
