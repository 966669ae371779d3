//! `proxyconf`: reverse-proxy configuration for every project hostname
//! (Caddy, Traefik) from Project JSON, and a safe reload of Caddy.

mod caddy;
mod reload;
mod routes;
mod traefik;

use std::path::{Path, PathBuf};

use berth::cli::{Outcome, ResultExt as _};
use berth::paths::Paths;
use berth::{Project, io, sites};
use clap::{Parser, Subcommand};

/// Reverse-proxy configuration for every project at `https://NAME.test`, trusted.
///
/// proxyconf turns Project JSON into a Caddyfile or a Traefik dynamic
/// configuration: `NAME.TLD` goes to the project's HTTP port on 127.0.0.1,
/// `db.NAME.TLD` to the adminer it runs, `mail.NAME.TLD` to its mailpit; every
/// site uses the certificate certgen issued for the project (`certgen issue`),
/// and plain HTTP is redirected to HTTPS. The same projects always give the
/// same bytes, so the output can be committed or compared.
#[derive(Debug, Parser)]
#[command(
    name = "proxyconf",
    version,
    after_long_help = "\
Examples:
  registry list --json | certgen issue -                  certificates first
  registry list --json | proxyconf caddy > Caddyfile      then the Caddyfile
  proxyconf reload --config Caddyfile                     validate, then load it
  registry list --json | proxyconf caddy -o Caddyfile && proxyconf reload --config Caddyfile
  proxyconf caddy --https-port 8443 --http-port 8080 < projects.json
  registry list --json | proxyconf traefik > /etc/traefik/dynamic/berth.yml

Exit status:
  0 success;
  2 an error (bad usage, bad input, I/O; a configuration Caddy rejects,
    which is then not loaded)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Caddy(CaddyArgs),
    Traefik(TraefikArgs),
    Reload(reload::ReloadArgs),
}

/// What both generators take.
#[derive(Debug, clap::Args)]
struct GenArgs {
    /// Project JSON (`-` for stdin; default: stdin when piped and not
    /// empty, else the registry). No project is an error unless --allow-empty.
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    empty: io::EmptyArgs,
    /// The dev TLD (default: `tld` from config.yaml, else `test`).
    #[arg(long, value_name = "TLD")]
    tld: Option<String>,
    /// The port HTTPS is served on.
    #[arg(long, value_name = "PORT", default_value_t = 443, value_parser = clap::value_parser!(u16).range(1..))]
    https_port: u16,
    /// The port plain HTTP is served (and redirected) on.
    #[arg(long, value_name = "PORT", default_value_t = 80, value_parser = clap::value_parser!(u16).range(1..))]
    http_port: u16,
    /// Take certificates from DIR/DOMAIN/{fullchain.pem,key.pem} instead of
    /// certgen's folder (e.g. a copy the proxy's user can read).
    #[arg(long, value_name = "DIR")]
    certs_dir: Option<PathBuf>,
    /// Write to FILE (atomically; stderr says when it replaced one) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Print a Caddyfile for the projects.
#[derive(Debug, clap::Args)]
struct CaddyArgs {
    #[command(flatten)]
    common: GenArgs,
    /// The admin API address Caddy listens on (the `admin` global option; Caddy's default is localhost:2019).
    #[arg(long, value_name = "ADDR")]
    admin: Option<String>,
}

/// Print a Traefik dynamic configuration (file provider, YAML) for the projects.
#[derive(Debug, clap::Args)]
struct TraefikArgs {
    #[command(flatten)]
    common: GenArgs,
    /// The plain-HTTP entry point's name in Traefik's static configuration.
    #[arg(long, value_name = "NAME", default_value = "web")]
    web_entrypoint: String,
    /// The HTTPS entry point's name in Traefik's static configuration.
    #[arg(long, value_name = "NAME", default_value = "websecure")]
    websecure_entrypoint: String,
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Caddy(a) => {
            let (projects, opts) = prepare(&a.common)?;
            let text = caddy::render(&projects, &opts, &caddy::CaddyOptions { admin: a.admin });
            emit(a.common.output.as_deref(), &text)
        }
        Command::Traefik(a) => {
            let (projects, opts) = prepare(&a.common)?;
            let t = traefik::TraefikOptions {
                web_entrypoint: a.web_entrypoint,
                websecure_entrypoint: a.websecure_entrypoint,
            };
            let text = traefik::render(&projects, &opts, &t)?;
            emit(a.common.output.as_deref(), &text)
        }
        Command::Reload(a) => reload::run(&a),
    }
}

/// Read the projects and build the routing table; nothing is written.
fn prepare(a: &GenArgs) -> anyhow::Result<(Vec<routes::ProjectRoutes>, routes::Options)> {
    let paths = Paths::from_env()?;
    let tld = sites::tld(a.tld.as_deref())?;
    if a.https_port == a.http_port {
        anyhow::bail!("--https-port and --http-port are both {}", a.https_port);
    }
    let (_, projects) = io::read_projects::<Project>(a.input.as_deref(), a.empty.allow_empty)?;
    let certs = match &a.certs_dir {
        Some(dir) => routes::CertSource::Dir(dir.clone()),
        None => routes::CertSource::Berth(paths),
    };
    let table = routes::build(&projects, &tld, &certs, |n| berth::info!("note: {n}")).hint(
        format!("fix the Project JSON: a name is a DNS label, a domain is NAME.{tld}"),
    )?;
    Ok((
        table,
        routes::Options {
            http_port: a.http_port,
            https_port: a.https_port,
        },
    ))
}

/// Print the configuration, or write it to FILE atomically.
fn emit(output: Option<&Path>, text: &str) -> anyhow::Result<Outcome> {
    match output {
        None => io::write_text(text)?,
        // The user named FILE: a symlink there is written through, its target replaced.
        Some(path) => io::write_output(path, text.as_bytes())?,
    }
    Ok(Outcome::Clean)
}
