//! `registry env`: a project's environment variables (passed to its stack).

use anyhow::bail;
use berth::cli::Outcome;
use berth::io::{self, OutputArgs, Row};
use berth::registry::{self, Registry};
use clap::Subcommand;
use serde::Serialize;

/// Manage a project's environment variables.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: EnvCommand,
}

#[derive(Debug, Subcommand)]
enum EnvCommand {
    /// Set variables: `registry env set shop APP_DEBUG=1 MAIL_PORT=1025`.
    Set {
        name: String,
        /// KEY=VALUE pairs.
        #[arg(required = true, value_name = "KEY=VALUE")]
        pairs: Vec<String>,
    },
    /// Print one variable's value.
    Get { name: String, key: String },
    /// Remove variables.
    Unset {
        name: String,
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// List a project's variables.
    List {
        name: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Serialize)]
struct Var<'a> {
    key: &'a str,
    value: &'a str,
}

impl Row for Var<'_> {
    fn headers() -> &'static [&'static str] {
        &["key", "value"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.key.to_owned(), self.value.to_owned()]
    }
}

pub fn run(reg: &Registry, a: Args) -> anyhow::Result<Outcome> {
    match a.command {
        EnvCommand::Set { name, pairs } => {
            let mut parsed = Vec::new();
            for pair in &pairs {
                let Some((k, v)) = pair.split_once('=') else {
                    bail!("'{pair}' is not KEY=VALUE");
                };
                berth::model::check_env_key(k)?;
                parsed.push((k.to_owned(), v.to_owned()));
            }
            reg.update_project(&name, |p| {
                p.environment.extend(parsed);
                p.last_updated = Some(berth::Timestamp::now());
                Ok((true, ()))
            })?;
        }
        EnvCommand::Get { name, key } => {
            let projects = reg.load()?;
            let p = registry::find(&projects, &name)?;
            let Some(v) = p.environment.get(&key) else {
                bail!("variable '{key}' is not set for project '{name}'");
            };
            io::write_text(&format!("{v}\n"))?;
        }
        EnvCommand::Unset { name, keys } => {
            reg.update_project(&name, |p| {
                for k in &keys {
                    if p.environment.remove(k).is_none() {
                        bail!("variable '{k}' is not set for project '{name}'");
                    }
                }
                p.last_updated = Some(berth::Timestamp::now());
                Ok((true, ()))
            })?;
        }
        EnvCommand::List { name, output } => {
            let projects = reg.load()?;
            let p = registry::find(&projects, &name)?;
            let vars: Vec<Var<'_>> = p
                .environment
                .iter()
                .map(|(key, value)| Var { key, value })
                .collect();
            io::write_list(output.format(), &vars)?;
        }
    }
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("env-var", berth::schema::of::<Var<'static>>())]
}
