//! `stackgen export`: the project's declared stack as a portable file to
//! share (instances, overrides, wires, limits), every secret a placeholder
//! `${secret:NAME}`; `stackgen import` makes a project from one. The
//! export holds no host-specific state (allocated ports, paths, ids, times),
//! so export -> import -> export gives the same bytes.

use std::collections::BTreeSet;
use std::path::PathBuf;

use berth::cli::Outcome;
use berth::stackfile::StackFile;

use crate::ctx::Ctx;
use crate::envfile::is_literal_secret;

/// Write the project's declared stack as a portable file for sharing.
///
/// The stack, its instances with their overrides (versions, pinned ports,
/// variables, limits, ...) and its wires; secret values are replaced by
/// `${secret:NAME}` placeholders (`stackgen import` makes new ones);
/// nothing host-specific (allocated ports, folders) is in it. To stdout, or
/// to FILE with -o (atomically).
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  stackgen export > shop.berth.yaml
  stackgen export --project shop -o shop.berth.yaml
  stackgen import shop.berth.yaml --dir ~/code/shop")]
pub struct ExportArgs {
    /// The project folder (default: the current folder).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// The registered project, instead of --dir.
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    project: Option<String>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The first line of every export.
pub const HEADER: &str =
    "# A berth stack, exported by stackgen: `stackgen import FILE` makes a project of it.\n";

/// A placeholder for the secret `name`.
pub fn placeholder(name: &str) -> String {
    format!("${{secret:{name}}}")
}

/// The secret a placeholder names (`${secret:NAME}` -> `NAME`).
pub fn placeholder_name(value: &str) -> Option<&str> {
    value.strip_prefix("${secret:")?.strip_suffix('}')
}

/// The export of `file`: each variable override that is a secret becomes
/// a placeholder: a literal value of a secret-looking variable, or a
/// reference `${NAME}` to a secret the project keeps (`secrets`).
pub fn exported(file: &StackFile, secrets: &BTreeSet<String>) -> String {
    let mut out = file.clone();
    for (_, inst) in &mut out.instances.0 {
        for (k, v) in &mut inst.environment {
            let referenced = v
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix('}'))
                .filter(|r| secrets.contains(*r))
                .map(str::to_owned);
            if let Some(name) = referenced {
                *v = placeholder(&name);
            } else if is_literal_secret(k, v) {
                *v = placeholder(k);
            }
        }
    }
    format!("{HEADER}{}", out.to_text())
}

/// `export`.
pub fn run(a: &ExportArgs) -> anyhow::Result<Outcome> {
    let ctx = Ctx::load()?;
    let l = crate::services::load(&ctx, a.project.as_deref(), &a.dir)?;
    let secrets: BTreeSet<String> = l.state.secrets.keys().cloned().collect();
    let text = exported(&l.file, &secrets);
    match &a.output {
        Some(path) => berth::io::write_output(path, text.as_bytes())?,
        None => berth::io::write_text(&text)?,
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_become_placeholders_and_placeholders_read_back() {
        let mut file = StackFile::new("django", "shop");
        let mut inst = berth::stackfile::Instance::of("postgres");
        inst.environment
            .insert("API_TOKEN".into(), "hunter2".into());
        inst.environment
            .insert("DB_PASS".into(), "${ANALYTICS_DB_POSTGRES_PASSWORD}".into());
        inst.environment.insert("MODE".into(), "fast".into());
        file.instances.insert("analytics-db", inst);
        let secrets = BTreeSet::from(["ANALYTICS_DB_POSTGRES_PASSWORD".to_owned()]);
        let text = exported(&file, &secrets);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("API_TOKEN: ${secret:API_TOKEN}"), "{text}");
        assert!(
            text.contains("DB_PASS: ${secret:ANALYTICS_DB_POSTGRES_PASSWORD}"),
            "{text}"
        );
        assert!(text.contains("MODE: fast"), "{text}");
        assert_eq!(placeholder_name("${secret:API_TOKEN}"), Some("API_TOKEN"));
        assert_eq!(placeholder_name("${API_TOKEN}"), None);
    }
}
