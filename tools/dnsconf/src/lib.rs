//! `dnsconf`: make the dev TLD (`*.test`) resolve to this machine, with a
//! dnsmasq drop-in, a systemd-resolved drop-in or an /etc/hosts block; check
//! that a name resolves to loopback.

mod generate;
mod hosts;
mod query;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use anyhow::Context as _;
use berth::atomic;
use berth::cli::{Outcome, ResultExt as _, confirm, error_with_hint, warn};
use berth::io::{self, JsonArgs};
use berth::paths::Paths;
use berth::registry::Registry;
use berth::{Project, sites, table};
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

const TOOL: &str = "dnsconf";

/// Local name resolution for the dev TLD: dnsmasq, systemd-resolved, /etc/hosts.
///
/// dnsconf writes the configuration that makes every name under the dev TLD
/// (`test` unless config.yaml says otherwise) resolve to this machine, and
/// checks that it does. Three ways, pick one:
///
/// dnsmasq: a drop-in answering `*.test` with 127.0.0.1 and `::1`; wildcards,
/// so new projects need no change.
///
/// resolved: a systemd-resolved drop-in that sends only `*.test` queries to
/// the local dnsmasq (use it with the dnsmasq one when systemd-resolved owns
/// /etc/resolv.conf).
///
/// hosts: a block in /etc/hosts, one line per project (from Project JSON, or
/// the registry); needs no daemon but must be rewritten when projects change.
#[derive(Debug, Parser)]
#[command(
    name = "dnsconf",
    version,
    after_long_help = "\
Examples:
  dnsconf print dnsmasq                            print the dnsmasq drop-in
  sudo dnsconf install dnsmasq                     install it, restart dnsmasq
  sudo dnsconf install resolved                    route *.test to it (systemd-resolved)
  registry list --json | sudo dnsconf install hosts   or: a block in /etc/hosts
  dnsconf install hosts --root pkg/ < projects.json   write under another root
  dnsconf test shop.test                           exit 0 when it resolves to loopback
  dnsconf test shop                                the same for the registered project shop
  dnsconf test shop.test --server 127.0.0.1:5353   ask one DNS server directly
  dnsconf status --json                            what is installed, does it work

Exit status:
  0 success (the name resolves to loopback; the setup works);
  1 the check failed (the name does not resolve, or not to loopback);
  2 an error (bad usage, bad input, I/O, no permission, a service that failed)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(alias = "generate")]
    Print(PrintArgs),
    Install(InstallArgs),
    Uninstall(UninstallArgs),
    Test(TestArgs),
    Status(StatusArgs),
}

/// Which configuration.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// A dnsmasq drop-in: /etc/dnsmasq.d/berth.conf.
    Dnsmasq,
    /// A systemd-resolved drop-in: /etc/systemd/resolved.conf.d/berth.conf.
    Resolved,
    /// A block in /etc/hosts.
    Hosts,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Dnsmasq, Kind::Resolved, Kind::Hosts];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Dnsmasq => "dnsmasq",
            Kind::Resolved => "resolved",
            Kind::Hosts => "hosts",
        }
    }

    /// Where the system reads it, relative to the root.
    fn rel_path(self) -> &'static str {
        match self {
            Kind::Dnsmasq => "etc/dnsmasq.d/berth.conf",
            Kind::Resolved => "etc/systemd/resolved.conf.d/berth.conf",
            Kind::Hosts => "etc/hosts",
        }
    }

    fn path(self, root: Option<&Path>) -> PathBuf {
        root.unwrap_or(Path::new("/")).join(self.rel_path())
    }
}

/// What every configuration is made from.
#[derive(Debug, clap::Args)]
struct SpecArgs {
    /// dnsmasq, resolved or hosts.
    #[arg(value_enum)]
    kind: Kind,
    /// Project JSON for the hosts block (`-` for stdin; default: stdin when
    /// piped and not empty, else the registry). No project is an error
    /// unless --allow-empty.
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    empty: io::EmptyArgs,
    /// The dev TLD (default: `tld` from config.yaml, else `test`).
    #[arg(long, value_name = "TLD")]
    tld: Option<String>,
    /// Address the names resolve to (repeatable). For resolved, the local
    /// resolver's address. Default: 127.0.0.1 and `::1` for dnsmasq, 127.0.0.1
    /// for hosts and resolved.
    #[arg(long = "address", value_name = "IP")]
    addresses: Vec<IpAddr>,
    /// For resolved: the port the local resolver listens on.
    #[arg(long, value_name = "PORT", default_value_t = 53, value_parser = clap::value_parser!(u16).range(1..))]
    dns_port: u16,
    /// For dnsmasq: listen only on this address (adds `listen-address` and
    /// `bind-interfaces`), so dnsmasq and systemd-resolved's stub (127.0.0.53)
    /// can both use port 53.
    #[arg(long, value_name = "IP")]
    listen: Option<IpAddr>,
}

/// Print a configuration on stdout (write nothing; `install` writes it).
#[derive(Debug, clap::Args)]
struct PrintArgs {
    #[command(flatten)]
    spec: SpecArgs,
}

/// Write a configuration where the system reads it and reload the service.
///
/// dnsmasq and resolved drop-ins replace their own file; the hosts block
/// replaces the previous berth block (or is appended), leaving every other
/// byte of /etc/hosts as it was. Files are replaced atomically. Needs root
/// unless --root points elsewhere; with --root no service is reloaded.
#[derive(Debug, clap::Args)]
struct InstallArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    target: TargetArgs,
}

/// Where to write, and whether to.
#[derive(Debug, clap::Args)]
struct TargetArgs {
    /// Write under this folder instead of / (for tests and packaging; no reload).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Show the file that would be written (on stdout) and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not restart dnsmasq or systemd-resolved.
    #[arg(long)]
    no_reload: bool,
}

/// Remove an installed configuration (the hosts block only, never the rest of the file).
#[derive(Debug, clap::Args)]
struct UninstallArgs {
    /// dnsmasq, resolved or hosts.
    #[arg(value_enum)]
    kind: Kind,
    #[command(flatten)]
    target: TargetArgs,
    /// Do not ask before removing (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
}

/// Resolve NAME; exit 0 when every address is loopback, 1 when not or when it does not resolve.
///
/// A NAME without a dot that is a registered project stands for its domain
/// (`shop` tests shop.test); any other name is resolved as given.
#[derive(Debug, clap::Args)]
struct TestArgs {
    /// A hostname (shop.test) or a registered project's name (shop).
    name: String,
    /// Ask this DNS server (ADDR:PORT) instead of the system resolver.
    #[arg(long, value_name = "ADDR:PORT")]
    server: Option<SocketAddr>,
    /// How long to wait for the server (e.g. 2s, 500ms; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = berth::duration::parse)]
    timeout: Duration,
    #[command(flatten)]
    output: JsonArgs,
}

/// Show which configurations are installed and whether test-probe.TLD resolves to loopback.
#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// Look for the files under this folder instead of /.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The dev TLD (default: `tld` from config.yaml, else `test`).
    #[arg(long, value_name = "TLD")]
    tld: Option<String>,
    /// Probe through this DNS server (ADDR:PORT) instead of the system resolver.
    #[arg(long, value_name = "ADDR:PORT")]
    server: Option<SocketAddr>,
    #[command(flatten)]
    output: JsonArgs,
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Print(a) => {
            io::write_text(&render(&a.spec)?)?;
            Ok(Outcome::Clean)
        }
        Command::Install(a) => install(&a),
        Command::Uninstall(a) => uninstall(&a),
        Command::Test(a) => test(&a),
        Command::Status(a) => status(&a),
    }
}

/// Reserved for private use (RFC 2606, RFC 6761, ICANN's .internal): safe to point at this machine.
const RESERVED_TLDS: &[&str] = &[
    "test",
    "localhost",
    "example",
    "invalid",
    "internal",
    "local",
    "lan",
    "home",
];

/// The configuration text for a spec; nothing is written.
fn render(spec: &SpecArgs) -> anyhow::Result<String> {
    let tld = sites::tld(spec.tld.as_deref())?;
    if !RESERVED_TLDS.contains(&tld.as_str()) {
        warn(
            TOOL,
            format!(
                "'.{tld}' is not a reserved TLD: real names under it will resolve to this machine"
            ),
        );
    }
    let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let addresses = |default: &[IpAddr]| {
        if spec.addresses.is_empty() {
            default.to_vec()
        } else {
            spec.addresses.clone()
        }
    };
    match spec.kind {
        Kind::Dnsmasq => Ok(generate::dnsmasq(
            &tld,
            &addresses(&[v4, IpAddr::V6(Ipv6Addr::LOCALHOST)]),
            spec.listen,
        )),
        Kind::Resolved => {
            let servers: Vec<String> = addresses(&[v4])
                .into_iter()
                .map(|ip| match (ip, spec.dns_port) {
                    (ip, 53) => ip.to_string(),
                    (IpAddr::V4(v4), port) => format!("{v4}:{port}"),
                    (IpAddr::V6(v6), port) => format!("[{v6}]:{port}"),
                })
                .collect();
            Ok(generate::resolved(&tld, &servers))
        }
        Kind::Hosts => {
            let projects = projects(spec.input.as_deref(), spec.empty.allow_empty)?;
            if projects.is_empty() {
                warn(
                    TOOL,
                    "no projects: the hosts block names no host (pipe `registry list --json` in)",
                );
            }
            generate::hosts_block(&projects, &tld, &addresses(&[v4])).hint(format!(
                "fix the Project JSON: a name is a DNS label, a domain is NAME.{tld}"
            ))
        }
    }
}

/// Project JSON from FILE or stdin, else the registry; none is an error
/// unless `allow_empty`.
fn projects(input: Option<&Path>, allow_empty: bool) -> anyhow::Result<Vec<Project>> {
    Ok(io::read_projects::<Project>(input, allow_empty)?.1)
}

/// Read a file that may not exist yet.
fn read_existing(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .with_context(|| format!("{} is not UTF-8 text", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn sudo_hint(path: &Path, root: Option<&Path>, verb: &str, kind: Kind) -> String {
    if let Some(root) = root {
        return format!(
            "you may not write under {}: check its owner and permissions",
            root.display()
        );
    }
    format!(
        "writing {} needs root: run `sudo dnsconf {verb} {}`, or pass --root DIR to write under another folder",
        path.display(),
        kind.as_str()
    )
}

/// Write `text` to the kind's file (or remove it with `None`), then reload.
/// With `ask`, the change is destructive: confirm it first (`--yes` when
/// not on a terminal).
fn apply(
    kind: Kind,
    target: &TargetArgs,
    verb: &str,
    new: Option<&str>,
    ask: Option<bool>,
) -> anyhow::Result<Outcome> {
    let path = kind.path(target.root.as_deref());
    let old = read_existing(&path)?;
    if old.as_deref() == new {
        berth::info!("{} is already up to date", path.display());
        return Ok(Outcome::Clean);
    }
    if target.dry_run {
        match new {
            Some(text) => {
                berth::info!("would write {} (dry run; shown on stdout)", path.display());
                io::write_text(text)?;
            }
            None => io::write_text(&format!("would remove {}\n", path.display()))?,
        }
        return Ok(Outcome::Clean);
    }
    if let Some(yes) = ask {
        let what = match new {
            Some(_) => format!("remove the berth block from {}", path.display()),
            None => format!("remove {}", path.display()),
        };
        if !confirm(&format!("{what}?"), yes)? {
            berth::info!("nothing changed");
            return Ok(Outcome::Clean);
        }
    }
    let result = match new {
        Some(text) => write_config(kind, target.root.as_deref(), &path, text),
        None => {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))
        }
    };
    if let Err(e) = result {
        if atomic::is_permission_error(&e) {
            return Err(e).hint(sudo_hint(&path, target.root.as_deref(), verb, kind));
        }
        return Err(e);
    }
    match new {
        Some(_) => berth::info!("wrote {}", path.display()),
        None => berth::info!("removed {}", path.display()),
    }
    if target.root.is_none() && !target.no_reload {
        reload(kind)?;
    }
    Ok(Outcome::Clean)
}

fn write_config(kind: Kind, root: Option<&Path>, path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    if !dir.is_dir() {
        if root.is_none() && kind == Kind::Dnsmasq {
            return Err(error_with_hint(
                format!(
                    "cannot write {}: {} does not exist",
                    path.display(),
                    dir.display()
                ),
                "install dnsmasq first (apt-get install dnsmasq), or pass --root DIR",
            ));
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if atomic::write(path, text.as_bytes(), 0o644)? == atomic::Replaced::InPlace {
        warn(
            TOOL,
            format!(
                "{} is a mount point; rewrote it in place (not atomically)",
                path.display()
            ),
        );
    }
    Ok(())
}

/// Make the service read the new file: systemd when it runs, else say what to do.
fn reload(kind: Kind) -> anyhow::Result<()> {
    let unit = match kind {
        Kind::Dnsmasq => "dnsmasq.service",
        Kind::Resolved => "systemd-resolved.service",
        // glibc reads /etc/hosts on every lookup.
        Kind::Hosts => return Ok(()),
    };
    if !Path::new("/run/systemd/system").is_dir() {
        warn(
            TOOL,
            format!("systemd is not running here: restart {unit} yourself to load the change"),
        );
        return Ok(());
    }
    // dnsmasq rereads /etc/hosts on SIGHUP but not its configuration: restart it.
    let out = Process::new("systemctl")
        .args(["restart", unit])
        .output()
        .context("cannot run systemctl")?;
    if !out.status.success() {
        return Err(error_with_hint(
            format!(
                "systemctl restart {unit} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            format!("the file is written; check `systemctl status {unit}` (or pass --no-reload)"),
        ));
    }
    berth::info!("restarted {unit}");
    Ok(())
}

fn install(a: &InstallArgs) -> anyhow::Result<Outcome> {
    let text = render(&a.spec)?;
    let new = if a.spec.kind == Kind::Hosts {
        let path = Kind::Hosts.path(a.target.root.as_deref());
        let old = read_existing(&path)?.unwrap_or_default();
        hosts::install(&old, &text)
            .with_context(|| format!("malformed berth block in {}", path.display()))
            .hint("fix or remove the lines between the berth markers by hand")?
    } else {
        text
    };
    apply(a.spec.kind, &a.target, "install", Some(&new), None)
}

fn uninstall(a: &UninstallArgs) -> anyhow::Result<Outcome> {
    let path = a.kind.path(a.target.root.as_deref());
    let Some(old) = read_existing(&path)? else {
        berth::info!(
            "{} is not installed ({} does not exist)",
            a.kind.as_str(),
            path.display()
        );
        return Ok(Outcome::Clean);
    };
    if a.kind == Kind::Hosts {
        let new = hosts::uninstall(&old)
            .with_context(|| format!("malformed berth block in {}", path.display()))
            .hint("fix or remove the lines between the berth markers by hand")?;
        if new == old {
            berth::info!("no berth block in {}", path.display());
            return Ok(Outcome::Clean);
        }
        return apply(Kind::Hosts, &a.target, "uninstall", Some(&new), Some(a.yes));
    }
    apply(a.kind, &a.target, "uninstall", None, Some(a.yes))
}

/// The result of resolving one name.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Resolution {
    name: String,
    /// The registered project NAME stood for (`dnsconf test shop`).
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<String>,
    /// The DNS server asked, or null for the system resolver.
    server: Option<SocketAddr>,
    addresses: Vec<IpAddr>,
    /// Whether the name resolves, and only to loopback addresses.
    loopback: bool,
    /// Why it did not resolve, when it did not (NXDOMAIN, Refused, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

fn resolve(
    name: &str,
    server: Option<SocketAddr>,
    timeout: Duration,
) -> anyhow::Result<Resolution> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    sites::validate_hostname("hostname", &name)?;
    let answer = match server {
        Some(s) => query::server(&name, s, timeout)?,
        None => query::system(&name),
    };
    let loopback =
        !answer.addresses.is_empty() && answer.addresses.iter().all(|ip| query::is_loopback(*ip));
    Ok(Resolution {
        name,
        project: None,
        server,
        addresses: answer.addresses,
        loopback,
        errors: answer.errors,
    })
}

/// What `dnsconf test NAME` resolves: (a registered project's domain for a
/// NAME without a dot, else NAME; that project; for a bare name that is no
/// project, the name it may have meant: `shop.test`).
fn test_target(raw: &str) -> anyhow::Result<(String, Option<String>, Option<String>)> {
    let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
    if name.contains('.') || name.is_empty() {
        return Ok((name, None, None));
    }
    let paths = Paths::from_env()?;
    let tld = sites::tld(None)?;
    let projects = Registry::open(&paths).load()?;
    if let Some(p) = projects.iter().find(|p| p.name == name) {
        let domain =
            sites::domain_of(p, &tld).with_context(|| format!("project {name} in the registry"))?;
        Ok((domain, Some(name), None))
    } else {
        let guess = format!("{name}.{tld}");
        Ok((name, None, Some(guess)))
    }
}

fn test(a: &TestArgs) -> anyhow::Result<Outcome> {
    let (name, project, guess) = test_target(&a.name)?;
    let mut r = resolve(&name, a.server, a.timeout)?;
    r.project = project;
    let did_you_mean = || {
        if let Some(g) = &guess {
            eprintln!(
                "hint: did you mean {g}? (no registered project is named {})",
                r.name
            );
        }
    };
    if a.output.is_json() {
        io::write_json(&r)?;
    } else {
        let mut out = io::stdout();
        for ip in &r.addresses {
            writeln!(out, "{ip}")?;
        }
        out.flush()?;
    }
    let via = r.server.map_or_else(
        || "the system resolver".to_owned(),
        |s| format!("the DNS server at {s}"),
    );
    if r.addresses.is_empty() {
        let why = if r.errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.errors.join(", "))
        };
        eprintln!("{TOOL}: {} does not resolve through {via}{why}", r.name);
        did_you_mean();
        return Ok(Outcome::Found);
    }
    if !r.loopback {
        eprintln!(
            "{TOOL}: {} resolves through {via} to addresses that are not loopback",
            r.name
        );
        did_you_mean();
        return Ok(Outcome::Found);
    }
    Ok(Outcome::Clean)
}

/// One configuration file and whether it is in place.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct ConfigState {
    kind: Kind,
    path: PathBuf,
    installed: bool,
    /// Whether it names the dev TLD (dnsmasq, resolved) or holds the berth block (hosts).
    current: bool,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Status {
    tld: String,
    configs: Vec<ConfigState>,
    probe: Resolution,
}

fn status(a: &StatusArgs) -> anyhow::Result<Outcome> {
    let tld = sites::tld(a.tld.as_deref())?;
    let mut configs = Vec::new();
    for kind in Kind::ALL {
        let path = kind.path(a.root.as_deref());
        let text = read_existing(&path)?;
        let (installed, current) = match (kind, &text) {
            (_, None) => (false, false),
            (Kind::Hosts, Some(t)) => {
                let has = hosts::has_block(t).unwrap_or(false);
                (has, has)
            }
            (Kind::Dnsmasq, Some(t)) => (true, t.contains(&format!("address=/{tld}/"))),
            (Kind::Resolved, Some(t)) => (
                true,
                t.lines().any(|l| l.trim() == format!("Domains=~{tld}")),
            ),
        };
        configs.push(ConfigState {
            kind,
            path,
            installed,
            current,
        });
    }
    let probe = resolve(
        &format!("test-probe.{tld}"),
        a.server,
        Duration::from_secs(2),
    )?;
    let works = probe.loopback;
    let status = Status {
        tld,
        configs,
        probe,
    };
    if a.output.is_json() {
        io::write_json(&status)?;
    } else {
        let mut rows: Vec<Vec<String>> = status
            .configs
            .iter()
            .map(|c| {
                let state = match (c.installed, c.current) {
                    (false, _) => "not installed",
                    (true, true) => "installed",
                    (true, false) => "installed, for another TLD",
                };
                vec![
                    c.kind.as_str().to_owned(),
                    c.path.display().to_string(),
                    state.to_owned(),
                ]
            })
            .collect();
        let p = &status.probe;
        let state = if p.addresses.is_empty() {
            "does not resolve".to_owned()
        } else {
            let list: Vec<String> = p.addresses.iter().map(ToString::to_string).collect();
            format!("resolves to {}", list.join(", "))
        };
        rows.push(vec!["probe".into(), p.name.clone(), state]);
        let mut out = io::stdout();
        out.write_all(table::render(&["what", "where", "state"], rows).as_bytes())?;
        out.flush()?;
    }
    if !works {
        eprintln!(
            "{TOOL}: test-probe.{} does not resolve to loopback: the dev TLD is not set up here",
            status.tld
        );
        eprintln!(
            "hint: sudo dnsconf install dnsmasq (and `sudo dnsconf install resolved` with systemd-resolved)"
        );
        return Ok(Outcome::Found);
    }
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("dns-resolution", berth::schema::of::<Resolution>()),
        ("dnsconf-status", berth::schema::of::<Status>()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_live_where_the_system_reads_them() {
        assert_eq!(Kind::Hosts.path(None), PathBuf::from("/etc/hosts"));
        assert_eq!(
            Kind::Dnsmasq.path(Some(Path::new("/r"))),
            PathBuf::from("/r/etc/dnsmasq.d/berth.conf")
        );
    }

    #[test]
    fn bad_names_are_rejected_before_any_lookup() {
        for bad in ["", "a..b", "-x.test", "x_y.test"] {
            assert!(
                resolve(bad, None, Duration::from_millis(1)).is_err(),
                "{bad}"
            );
        }
    }
}
