//! `certgen`: a local certificate authority limited by X.509 name
//! constraints to the dev TLDs and loopback, the certificates it issues, and
//! trust in the system store and NSS databases.

mod ca;
mod files;
mod leaf;
mod trust;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context as _, bail};
use berth::Project;
use berth::certs::{ca_dir, cert_paths};
use berth::cli::{Outcome, ResultExt as _, confirm, error_with_hint};
use berth::config::Config;
use berth::io::{self, JsonArgs, OutputArgs};
use berth::paths::Paths;
use clap::{Parser, Subcommand};
use serde::Serialize;

pub use ca::KeyKind;
use leaf::{Cert, MAX_DAYS};

const TOOL: &str = "certgen";

/// A local certificate authority for dev domains, limited to them by name constraints.
///
/// `certgen init` creates a CA whose certificate carries X.509 name
/// constraints: it can only vouch for names under the dev TLDs (the config's
/// `tld`, `test`, `localhost` and any added with --tld) and for loopback
/// addresses (127.0.0.0/8, ::1), never for an email address, a URI or a
/// directory name, and only for TLS servers (extended key usage serverAuth).
/// Clients that check constraints (OpenSSL, NSS, browsers, curl, Go) reject
/// anything else it signs, so a leaked key cannot be used against real sites,
/// for S/MIME or for client authentication. A TLD must be reserved for
/// private use (test, localhost, internal, home.arpa, local, example, invalid,
/// or listed under `reserved_tlds` in config.yaml) unless --allow-public-tld.
/// `certgen issue` makes certificates for project domains
/// (with a wildcard for service subdomains), `certgen trust` installs the CA in
/// the system store and the NSS databases of Firefox and Chromium.
///
/// Files (DATA is $BERTH_HOME, else $XDG_DATA_HOME/berth):
///   DATA/ca/ca.pem                       the CA certificate
///   DATA/ca/ca-key.pem                   its private key (mode 0600)
///   DATA/certs/DOMAIN/cert.pem           the certificate alone
///   DATA/certs/DOMAIN/key.pem            its private key (mode 0600)
///   DATA/certs/DOMAIN/fullchain.pem      certificate then CA, what servers present
// The doc comment is the --help text, shown as written.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Parser)]
#[command(
    name = "certgen",
    version,
    verbatim_doc_comment,
    after_long_help = "\
Examples:
  certgen init                                  CA for test, localhost and the config's tld
  certgen issue shop.test                       shop.test and *.shop.test
  registry list --json | certgen issue -        one certificate per project domain
  sudo -E certgen trust                         trust the CA (system store, NSS)
  certgen status --within 30d || certgen renew  renew what expires soon
  openssl verify -CAfile ~/.local/share/berth/ca/ca.pem \\
      ~/.local/share/berth/certs/shop.test/cert.pem

Exit status:
  0 success (status: nothing expires within --within);
  1 status found a certificate or the CA expiring within --within, expired, or not from the CA,
    or a CA lacking the limits certgen sets now or able to sign for public names;
  2 an error (bad usage, a domain outside the dev TLDs, an unreadable or foreign CA,
    a missing trust tool, no root for the system store, I/O)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(InitArgs),
    Issue(IssueArgs),
    Renew(RenewArgs),
    Status(StatusArgs),
    /// Install the CA in the system store and NSS databases (Firefox, Chromium).
    ///
    /// The system store needs root (run it with sudo); --no-system skips it,
    /// --root DIR works on the system folders under DIR. Debian/Ubuntu: the CA
    /// goes to /usr/local/share/ca-certificates/berth-ID.crt and
    /// `update-ca-certificates` runs; Fedora/Arch: the anchors folder and
    /// `update-ca-trust`; p11-kit alone: `trust anchor`. NSS databases are those
    /// under $HOME (~/.pki/nssdb, Firefox profiles), changed with `certutil`
    /// (Debian: libnss3-tools) when it is installed. Each store touched is reported.
    Trust(trust::TrustArgs),
    /// Remove every berth CA (current and earlier ones) from the stores `trust` uses.
    ///
    /// The same stores and options as `certgen trust`; the system store needs root.
    Untrust(trust::UntrustArgs),
}

/// Create the local CA, limited to the dev TLDs and loopback.
///
/// The CA is never replaced without --force (and --yes off a terminal):
/// certificates it issued stop being trusted once it is. Every TLD (--tld and
/// the config's `tld`) must be reserved for private use: test, localhost,
/// internal, home.arpa, local, example, invalid, or a name listed under
/// `reserved_tlds` in config.yaml.
#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Key type of the CA.
    #[arg(long, value_enum, default_value = "ecdsa")]
    key: KeyKind,
    /// Another dev TLD (or domain) the CA may issue for; repeatable.
    #[arg(long = "tld", value_name = "TLD")]
    tlds: Vec<String>,
    /// Let the CA sign for a public TLD or domain (e.g. com): whoever gets its
    /// key can then impersonate every site under it to this machine.
    #[arg(long)]
    allow_public_tld: bool,
    /// Replace an existing CA.
    #[arg(long)]
    force: bool,
    /// Confirm replacing the CA when not on a terminal.
    #[arg(long, short = 'y')]
    yes: bool,
    #[command(flatten)]
    output: JsonArgs,
}

/// Issue certificates for DOMAINs, or for every project on stdin.
///
/// Each certificate covers DOMAIN and *.DOMAIN (service subdomains; for
/// `localhost`: the loopback addresses instead), is valid
/// for at most 397 days and is for server authentication. An existing
/// certificate is kept while it is from the current CA, covers the names and
/// does not expire within --within; --force reissues. With `-` (or no DOMAIN
/// and stdin not a terminal) Project JSON is read and each project's domain
/// gets a certificate. Every domain is checked before anything is written.
#[derive(Debug, clap::Args)]
struct IssueArgs {
    /// Domains (e.g. shop.test), or `-` for Project JSON on stdin (default:
    /// stdin when piped and not empty, else the registry's projects). No
    /// project is an error unless --allow-empty.
    #[arg(value_name = "DOMAIN")]
    domains: Vec<String>,
    #[command(flatten)]
    empty: io::EmptyArgs,
    /// Reissue even when the certificate is current.
    #[arg(long)]
    force: bool,
    /// Reissue a certificate expiring within this time (e.g. 30d, 12h; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    within: Within,
    /// Days a new certificate is valid (1 to 397): a number of days, not a duration.
    #[arg(long, default_value_t = MAX_DAYS, value_parser = clap::value_parser!(i64).range(1..=MAX_DAYS))]
    days: i64,
    /// Do not add *.DOMAIN.
    #[arg(long)]
    no_wildcard: bool,
    /// Key type of the certificates.
    #[arg(long, value_enum, default_value = "ecdsa")]
    key: KeyKind,
    /// Show what would be issued; write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Reissue every certificate expiring within --within (or not from the current CA).
#[derive(Debug, clap::Args)]
struct RenewArgs {
    /// Renew what expires within this time (e.g. 30d; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    within: Within,
    /// Reissue every certificate.
    #[arg(long)]
    force: bool,
    /// Show what would be renewed; write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Show the CA, where it is trusted, and every certificate with its days left.
#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// Exit 1 when the CA or a certificate expires within this time (e.g. 30d; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    within: Within,
    #[command(flatten)]
    trust: trust::TrustPlaces,
    #[command(flatten)]
    output: JsonArgs,
}

/// A span of time in seconds, in berth's one duration syntax
/// ([`berth::duration`]: `30d`, `12h`, `90m`; a bare number is seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Within(pub i64);

impl FromStr for Within {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = berth::duration::parse(s)?;
        i64::try_from(d.as_secs())
            .map(Within)
            .map_err(|e| e.to_string())
    }
}

/// Run the tool.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let paths = Paths::from_env()?;
    match cli.command {
        Command::Init(a) => init(&paths, &a),
        Command::Issue(a) => issue(&paths, &a),
        Command::Renew(a) => renew(&paths, &a),
        Command::Status(a) => status(&paths, &a),
        Command::Trust(a) => trust::trust(&paths, &a, true, None),
        Command::Untrust(a) => trust::trust(&paths, &a.trust, false, Some(a.yes)),
    }
}

fn init(paths: &Paths, args: &InitArgs) -> anyhow::Result<Outcome> {
    let config = Config::load(paths)?;
    let tlds = init_tlds(paths, &config, args)?;
    let (cert_path, key_path) = berth::certs::ca_paths(paths);
    if cert_path.exists() || key_path.exists() {
        if !args.force {
            return Err(error_with_hint(
                format!("a CA already exists in {}", ca_dir(paths).display()),
                "`certgen status` shows it; `certgen init --force` replaces it (the certificates it issued stop being trusted)",
            ));
        }
        if !confirm(
            &format!("replace the CA in {}", ca_dir(paths).display()),
            args.yes,
        )? {
            bail!("the CA was not replaced");
        }
    }
    let (cert_pem, key_pem) = ca::create(&tlds, args.key)?;
    let dir = ca_dir(paths);
    files::create_dir(&dir, 0o700)?;
    files::write_atomic(
        &key_path,
        key_pem.as_bytes(),
        files::KEY_MODE,
        files::Sync::Durable,
    )?;
    files::write_atomic(
        &cert_path,
        cert_pem.as_bytes(),
        files::CERT_MODE,
        files::Sync::Durable,
    )?;
    files::sync_dir(&dir);
    let ca = ca::load(paths)?;
    if args.output.is_json() {
        io::write_json(&ca.info)?;
    } else {
        print_ca(&ca.info, None)?;
        berth::info!(
            "created the CA; next: `certgen trust`, then `certgen issue NAME.{}`",
            config.tld
        );
    }
    Ok(Outcome::Clean)
}

/// The CA's DNS names: the config's `tld`, test, localhost and --tld, each
/// checked, and refused when public unless --allow-public-tld (then a warning).
fn init_tlds(paths: &Paths, config: &Config, args: &InitArgs) -> anyhow::Result<Vec<String>> {
    let mut tlds: Vec<String> = Vec::new();
    let mut public = Vec::new();
    let sources = [
        (
            config.tld.clone(),
            format!(
                "tld '{}' in {}",
                config.tld.escape_debug(),
                paths.config_file().display()
            ),
        ),
        ("test".to_owned(), "test".to_owned()),
        ("localhost".to_owned(), "localhost".to_owned()),
    ]
    .into_iter()
    .chain(
        args.tlds
            .iter()
            .map(|t| (t.clone(), format!("--tld '{}'", t.escape_debug()))),
    );
    for (raw, source) in sources {
        let t = raw.trim_matches('.').to_ascii_lowercase();
        for label in t.split('.') {
            berth::names::validate_label("TLD label", label)
                .with_context(|| format!("invalid {source}"))?;
        }
        if !berth::certs::is_private_name(&t, &config.reserved_tlds) && !public.contains(&t) {
            if !args.allow_public_tld {
                return Err(error_with_hint(
                    format!(
                        "refusing {source}: {t} is not reserved for private use, so the CA could sign for real sites under it"
                    ),
                    format!(
                        "use a reserved TLD ({}), list a name you control under reserved_tlds in {}, or pass --allow-public-tld",
                        berth::certs::PRIVATE_TLDS.join(", "),
                        paths.config_file().display()
                    ),
                ));
            }
            public.push(t.clone());
        }
        if !tlds.contains(&t) {
            tlds.push(t);
        }
    }
    if !public.is_empty() {
        berth::cli::warn(
            TOOL,
            format!(
                "the CA may sign for public names ({}): anyone who gets its key can impersonate every site under them to whatever trusts this CA",
                public.join(", ")
            ),
        );
    }
    Ok(tlds)
}

fn print_ca(info: &ca::CaInfo, trusted: Option<&[trust::Place]>) -> anyhow::Result<()> {
    let mut out = io::stdout();
    writeln!(out, "CA          {}", info.cert.display())?;
    writeln!(out, "subject     {}", info.subject)?;
    writeln!(
        out,
        "key         {} ({})",
        info.key,
        info.key_file.display()
    )?;
    writeln!(
        out,
        "expires     {} ({} days)",
        info.not_after, info.days_left
    )?;
    writeln!(out, "sha256      {}", info.sha256)?;
    writeln!(out, "names       {}", info.permitted_dns.join(", "))?;
    writeln!(out, "addresses   {}", info.permitted_ip.join(", "))?;
    if info.missing_limits.is_empty() {
        writeln!(
            out,
            "limits      TLS servers only; no email, URI or directory names"
        )?;
    } else {
        writeln!(out, "lacks       {}", info.missing_limits.join(", "))?;
    }
    if !info.public_names.is_empty() {
        writeln!(out, "public      {}", info.public_names.join(", "))?;
    }
    if let Some(places) = trusted {
        let list: Vec<String> = places
            .iter()
            .filter(|p| p.trusted)
            .map(|p| format!("{} ({})", p.store, p.path.display()))
            .collect();
        writeln!(
            out,
            "trusted in  {}",
            if list.is_empty() {
                "nowhere (run `certgen trust`)".to_owned()
            } else {
                list.join(", ")
            }
        )?;
    }
    out.flush()?;
    Ok(())
}

/// A certificate to issue: its domain and names.
struct Target {
    domain: String,
    sans: Vec<String>,
}

fn collect_targets(paths: &Paths, args: &IssueArgs) -> anyhow::Result<Vec<Target>> {
    let mut domains: Vec<String> = Vec::new();
    let stdin = args.domains.iter().any(|d| d == "-");
    if stdin || args.domains.is_empty() {
        // Project JSON from stdin, else the registry's projects.
        let arg = stdin.then(|| PathBuf::from("-"));
        let (_, projects) = io::read_projects::<Project>(arg.as_deref(), args.empty.allow_empty)?;
        let config = Config::load(paths)?;
        for p in projects {
            if p.domain.is_empty() {
                berth::names::validate_label("project name", &p.name)
                    .context("Project JSON on stdin")?;
                domains.push(berth::sites::domain(&p.name, &config.tld));
            } else {
                domains.push(p.domain.clone());
            }
        }
    }
    domains.extend(args.domains.iter().filter(|d| *d != "-").cloned());
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    for raw in domains {
        let domain = leaf::normalize_domain(&raw)
            .hint("domains are DNS names under a dev TLD, e.g. shop.test")?;
        if seen.insert(domain.clone()) {
            let sans = leaf::sans_for(&domain, !args.no_wildcard);
            targets.push(Target { domain, sans });
        }
    }
    Ok(targets)
}

/// Whether the certificate on disk can stay: from this CA, key matching, names covered, not expiring soon.
fn keep(on_disk: Option<&leaf::OnDisk>, sans: &[String], within: Within) -> bool {
    on_disk.is_some_and(|d| {
        d.from_ca
            && d.files_ok
            && sans.iter().all(|s| d.sans.contains(s))
            && d.not_after.as_second() - jiff::Timestamp::now().as_second() > within.0
    })
}

fn kept(domain: &str, d: &leaf::OnDisk, paths: &Paths) -> Cert {
    Cert {
        domain: domain.to_owned(),
        sans: d.sans.clone(),
        not_before: Some(d.not_before),
        not_after: Some(d.not_after),
        days_left: Some(ca::days_left(d.not_after)),
        action: Some("kept"),
        state: None,
        files: cert_paths(paths, domain).into(),
    }
}

struct Plan<'a> {
    force: bool,
    within: Within,
    days: i64,
    key: KeyKind,
    dry_run: bool,
    output: &'a OutputArgs,
}

fn issue_targets(paths: &Paths, targets: &[Target], plan: &Plan<'_>) -> anyhow::Result<Outcome> {
    let ca = ca::load(paths)?;
    weak_ca_warning(&ca.info);
    let outside: Vec<&str> = targets
        .iter()
        .filter(|t| !ca.info.permits(&t.domain))
        .map(|t| t.domain.as_str())
        .collect();
    if !outside.is_empty() {
        return Err(error_with_hint(
            format!(
                "outside the CA's names ({}): {}",
                ca.info.permitted_dns.join(", "),
                outside.join(", ")
            ),
            "the CA only vouches for the dev TLDs; add one with `certgen init --force --tld NAME` (a new CA)",
        ));
    }
    let certs_dir = berth::certs::certs_dir(paths);
    let _lock = if plan.dry_run {
        None
    } else {
        Some(lock(&certs_dir)?)
    };
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca.cert_pem, &ca.key)
        .context("cannot use the CA certificate")?;
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let cp = cert_paths(paths, &t.domain);
        let on_disk = if plan.force {
            None
        } else {
            leaf::read_on_disk(&cp, Some(&ca))
        };
        if keep(on_disk.as_ref(), &t.sans, plan.within) {
            if let Some(d) = &on_disk {
                out.push(kept(&t.domain, d, paths));
            }
            continue;
        }
        if plan.dry_run {
            out.push(Cert {
                domain: t.domain.clone(),
                sans: t.sans.clone(),
                not_before: None,
                not_after: None,
                days_left: None,
                action: Some("would-issue"),
                state: None,
                files: cp.into(),
            });
            continue;
        }
        out.push(leaf::issue(
            paths, &ca, &t.sans, &issuer, plan.days, plan.key,
        )?);
    }
    io::write_list(plan.output.format(), &out)?;
    Ok(Outcome::Clean)
}

/// For other tools (the shared router): issue a certificate from the CA
/// for each of `domains` that has none under `$BERTH_HOME/certs/DOMAIN`
/// (its key or fullchain file missing): the domain and `*.DOMAIN`, ECDSA,
/// 397 days, as `certgen issue` does, under its lock. Files that are there
/// are left alone, whatever they hold (`certgen issue`/`renew` replace
/// them). Returns the domains issued now. No CA, or a domain outside its
/// names: an error with a hint.
pub fn issue_missing(paths: &Paths, domains: &[String]) -> anyhow::Result<Vec<String>> {
    let missing = |domain: &str| {
        let cp = cert_paths(paths, domain);
        std::fs::symlink_metadata(&cp.key).is_err()
            || std::fs::symlink_metadata(&cp.fullchain).is_err()
    };
    let mut targets = Vec::new();
    for raw in domains {
        let domain = leaf::normalize_domain(raw)
            .hint("domains are DNS names under a dev TLD, e.g. shop.test")?;
        if missing(&domain) {
            let sans = leaf::sans_for(&domain, true);
            targets.push(Target { domain, sans });
        }
    }
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let ca = ca::load(paths)?;
    if let Some(t) = targets.iter().find(|t| !ca.info.permits(&t.domain)) {
        return Err(error_with_hint(
            format!(
                "{} is outside the CA's names ({})",
                t.domain,
                ca.info.permitted_dns.join(", ")
            ),
            "the CA only vouches for the dev TLDs; add one with `certgen init --force --tld NAME` (a new CA)",
        ));
    }
    let _lock = lock(&berth::certs::certs_dir(paths))?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca.cert_pem, &ca.key)
        .context("cannot use the CA certificate")?;
    let mut done = Vec::new();
    for t in targets {
        // Another process may have issued it while we waited for the lock.
        if missing(&t.domain) {
            leaf::issue(paths, &ca, &t.sans, &issuer, MAX_DAYS, KeyKind::Ecdsa)?;
            done.push(t.domain);
        }
    }
    Ok(done)
}

/// Serialize issuing: an advisory lock on `certs/.lock`.
fn lock(certs_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    files::create_dir(certs_dir, 0o755)?;
    let path = certs_dir.join(".lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(f)
}

/// Say on stderr what the CA lacks of berth's limits or which public names it
/// may sign for, and how to replace it; true when there is nothing to say.
/// The CA is never replaced here: that is `certgen init --force`.
fn weak_ca_warning(info: &ca::CaInfo) -> bool {
    if !info.missing_limits.is_empty() {
        berth::cli::warn(
            TOOL,
            format!(
                "the CA at {} lacks the constraints certgen now sets ({}): a leaked key could sign certificates for email (S/MIME), client authentication, URIs or directory names",
                info.cert.display(),
                info.missing_limits.join(", ")
            ),
        );
    }
    if !info.public_names.is_empty() {
        berth::cli::warn(
            TOOL,
            format!(
                "the CA at {} may sign for public names ({}): a leaked key could impersonate real sites",
                info.cert.display(),
                info.public_names.join(", ")
            ),
        );
    }
    let clean = info.missing_limits.is_empty() && info.public_names.is_empty();
    if !clean {
        eprintln!(
            "hint: re-create it with `certgen init --force`, then `certgen trust` and `certgen renew --force` (certificates of the old CA stop being trusted)"
        );
    }
    clean
}

fn issue(paths: &Paths, args: &IssueArgs) -> anyhow::Result<Outcome> {
    let targets = collect_targets(paths, args)?;
    if targets.is_empty() {
        berth::cli::warn(TOOL, "no domains: nothing to issue");
    }
    let plan = Plan {
        force: args.force,
        within: args.within,
        days: args.days,
        key: args.key,
        dry_run: args.dry_run,
        output: &args.output,
    };
    issue_targets(paths, &targets, &plan)
}

fn renew(paths: &Paths, args: &RenewArgs) -> anyhow::Result<Outcome> {
    let mut targets = Vec::new();
    for domain in leaf::domains_on_disk(paths)? {
        let Ok(domain) = leaf::normalize_domain(&domain) else {
            berth::cli::warn(
                TOOL,
                format!("skipping {}: not a domain", domain.escape_debug()),
            );
            continue;
        };
        let cp = cert_paths(paths, &domain);
        // Keep the names the certificate had (a wildcard or not).
        let sans = leaf::read_on_disk(&cp, None)
            .map(|d| d.sans)
            .filter(|s| s.first() == Some(&domain))
            .unwrap_or_else(|| leaf::sans_for(&domain, true));
        targets.push(Target { domain, sans });
    }
    let plan = Plan {
        force: args.force,
        within: args.within,
        days: MAX_DAYS,
        key: KeyKind::Ecdsa,
        dry_run: args.dry_run,
        output: &args.output,
    };
    issue_targets(paths, &targets, &plan)
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Serialize)]
struct StatusJson {
    ca: Option<ca::CaInfo>,
    trusted: Vec<trust::Place>,
    certs: Vec<Cert>,
}

fn status(paths: &Paths, args: &StatusArgs) -> anyhow::Result<Outcome> {
    // No CA yet is a finding (exit 1); a CA that cannot be read or is foreign is an error (exit 2).
    let (cert_path, key_path) = berth::certs::ca_paths(paths);
    let ca = if cert_path.exists() || key_path.exists() {
        Some(ca::load(paths)?)
    } else {
        None
    };
    let mut found = ca.is_none();
    if let Some(ca) = &ca
        && !weak_ca_warning(&ca.info)
    {
        found = true;
    }
    if ca.is_none() {
        berth::info!(
            "no CA in {} (create one with `certgen init`)",
            ca_dir(paths).display()
        );
    }
    let trusted = match &ca {
        Some(ca) => trust::where_trusted(&ca.info, &args.trust),
        None => Vec::new(),
    };
    if let Some(ca) = &ca
        && ca.info.not_after.as_second() - jiff::Timestamp::now().as_second() <= args.within.0
    {
        found = true;
    }
    let mut certs = Vec::new();
    for domain in leaf::domains_on_disk(paths)? {
        let cp = cert_paths(paths, &domain);
        let on_disk = leaf::read_on_disk(&cp, ca.as_ref());
        let left = |d: &leaf::OnDisk| d.not_after.as_second() - jiff::Timestamp::now().as_second();
        let state = match &on_disk {
            None => "broken",
            Some(d) if left(d) <= 0 => "expired",
            Some(d) if !d.from_ca => "other-ca",
            Some(d) if !d.files_ok => "broken",
            Some(d) if left(d) <= args.within.0 => "expiring",
            Some(_) => "valid",
        };
        found |= state != "valid";
        certs.push(Cert {
            domain: domain.clone(),
            sans: on_disk.as_ref().map(|d| d.sans.clone()).unwrap_or_default(),
            not_before: on_disk.as_ref().map(|d| d.not_before),
            not_after: on_disk.as_ref().map(|d| d.not_after),
            days_left: on_disk.as_ref().map(|d| ca::days_left(d.not_after)),
            action: None,
            state: Some(state.to_owned()),
            files: cp.into(),
        });
    }
    if args.output.is_json() {
        io::write_json(&StatusJson {
            ca: ca.map(|c| c.info),
            trusted,
            certs,
        })?;
    } else {
        if let Some(ca) = &ca {
            print_ca(&ca.info, Some(&trusted))?;
            writeln!(io::stdout())?;
        }
        io::write_list(io::Format::Table, &certs)?;
    }
    Ok(if found {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("ca", berth::schema::of::<ca::CaInfo>()),
        ("cert", berth::schema::of::<Cert>()),
        ("certgen-status", berth::schema::of::<StatusJson>()),
        ("trust-place", berth::schema::of::<trust::Place>()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!("30d".parse::<Within>().unwrap(), Within(30 * 86_400));
        assert_eq!(
            "30".parse::<Within>().unwrap(),
            Within(30),
            "a bare number is seconds"
        );
        assert_eq!("12h".parse::<Within>().unwrap(), Within(12 * 3_600));
        assert_eq!("0".parse::<Within>().unwrap(), Within(0));
        assert_eq!("3w".parse::<Within>().unwrap(), Within(21 * 86_400));
        for bad in ["", "d", "-1d", "3x", "99999999999999d"] {
            assert!(bad.parse::<Within>().is_err(), "{bad}");
        }
    }
}
