//! Trust stores: the system store (Debian/Ubuntu `update-ca-certificates`,
//! Fedora/Arch `update-ca-trust`, p11-kit `trust`) and NSS databases
//! (Chromium's `~/.pki/nssdb`, Firefox profiles) through `certutil`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use berth::cli::{Outcome, confirm, error_with_hint, warn};
use berth::io::{self, OutputArgs, Row};
use berth::paths::Paths;
use serde::Serialize;

use crate::ca::{self, CA_NAME, CaInfo};
use crate::files;

/// Where the stores are.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustPlaces {
    /// Root of the system store, instead of / (for tests and packaging); needs no root privileges.
    #[arg(long, value_name = "DIR", env = "BERTH_TRUST_ROOT")]
    root: Option<PathBuf>,
    /// Leave the system store alone.
    #[arg(long)]
    no_system: bool,
    /// Leave the NSS databases (Firefox, Chromium) alone.
    #[arg(long)]
    no_nss: bool,
}

/// Options of `trust` and `untrust`.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    #[command(flatten)]
    places: TrustPlaces,
    /// Show what would change; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Where to remove the CA from; asks first (`--yes` when not on a terminal).
#[derive(Debug, clap::Args)]
pub struct UntrustArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Do not ask (needed when not on a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

/// One trust store and what happened there.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    /// `system` or `nss`.
    pub store: &'static str,
    /// debian, fedora, arch, p11-kit; chromium, firefox.
    pub kind: String,
    pub path: PathBuf,
    /// Whether the CA is trusted there (after the action).
    pub trusted: bool,
    /// added, removed, already, absent, would-add, would-remove, skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
}

impl Row for Place {
    fn headers() -> &'static [&'static str] {
        &["STORE", "KIND", "PATH", "TRUSTED", "ACTION"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.store.into(),
            self.kind.clone(),
            self.path.display().to_string(),
            if self.trusted { "yes" } else { "no" }.into(),
            self.action.unwrap_or("").into(),
        ]
    }
}

/// How this system keeps trusted CAs.
enum System {
    /// Debian/Ubuntu: a `.crt` in /usr/local/share/ca-certificates, then `update-ca-certificates`.
    Debian { dir: PathBuf, tool: PathBuf },
    /// Fedora/Arch: a `.pem` in the anchors folder, then `update-ca-trust extract`.
    Anchors {
        kind: &'static str,
        dir: PathBuf,
        tool: PathBuf,
    },
    /// p11-kit alone: `trust anchor --store` / `--remove`.
    P11 { tool: PathBuf },
}

impl TrustPlaces {
    fn root(&self) -> PathBuf {
        self.root.clone().unwrap_or_else(|| PathBuf::from("/"))
    }
    fn is_real_root(&self) -> bool {
        self.root()
            .canonicalize()
            .is_ok_and(|p| p == Path::new("/"))
    }
    /// A tool on PATH; on the real system also /usr/sbin and /sbin, which a user's PATH may lack.
    fn tool(&self, name: &str) -> Option<PathBuf> {
        which::which(name).ok().or_else(|| {
            self.is_real_root()
                .then(|| {
                    ["/usr/sbin", "/sbin", "/usr/bin"]
                        .iter()
                        .map(|d| Path::new(d).join(name))
                        .find(|p| p.is_file())
                })
                .flatten()
        })
    }
}

fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

fn detect_system(places: &TrustPlaces) -> anyhow::Result<System> {
    let root = places.root();
    if let Some(tool) = places.tool("update-ca-certificates") {
        return Ok(System::Debian {
            dir: under(&root, "/usr/local/share/ca-certificates"),
            tool,
        });
    }
    if let Some(tool) = places.tool("update-ca-trust") {
        let (kind, dir) = if under(&root, "/etc/pki/ca-trust").is_dir() {
            ("fedora", under(&root, "/etc/pki/ca-trust/source/anchors"))
        } else {
            (
                "arch",
                under(&root, "/etc/ca-certificates/trust-source/anchors"),
            )
        };
        return Ok(System::Anchors { kind, dir, tool });
    }
    if let Some(tool) = places.tool("trust")
        && places.is_real_root()
    {
        return Ok(System::P11 { tool });
    }
    Err(error_with_hint(
        "no tool to change the system trust store: none of update-ca-certificates, update-ca-trust, trust is installed",
        "install ca-certificates (Debian/Ubuntu: apt-get install ca-certificates; Fedora: dnf install ca-certificates; \
         Arch: pacman -S ca-certificates p11-kit), or pass --no-system",
    ))
}

/// The file name of a CA in a system folder.
fn system_file(dir: &Path, info: &CaInfo, ext: &str) -> PathBuf {
    dir.join(format!("berth-{}.{ext}", info.short_id()))
}

/// The berth CA files in a system folder (every berth CA, current or not).
fn berth_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("berth-"))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Run an external program (argument vector, no shell); its output goes to stderr on failure.
fn run_tool(tool: &Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        anyhow::bail!(
            "{} failed ({}): {}",
            tool.display(),
            out.status,
            format!("{stderr}{stdout}").trim()
        );
    }
    Ok(())
}

/// `update-ca-certificates`, pointed at the folders under a --root.
fn debian_update(places: &TrustPlaces, tool: &Path, fresh: bool) -> anyhow::Result<()> {
    let root = places.root();
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    if fresh {
        args.push("--fresh".into());
    }
    if !places.is_real_root() {
        let conf = under(&root, "/etc/ca-certificates.conf");
        let certsdir = under(&root, "/usr/share/ca-certificates");
        let etc = under(&root, "/etc/ssl/certs");
        files::create_dir(&certsdir, 0o755)?;
        files::create_dir(&etc, 0o755)?;
        if !conf.exists() {
            files::write_atomic(&conf, b"", 0o644, files::Sync::Durable)?;
        }
        for (flag, path) in [
            ("--certsconf", conf),
            ("--certsdir", certsdir),
            (
                "--localcertsdir",
                under(&root, "/usr/local/share/ca-certificates"),
            ),
            ("--etccertsdir", etc),
            ("--hooksdir", under(&root, "/etc/ca-certificates/update.d")),
        ] {
            args.push(flag.into());
            args.push(path.into());
        }
    }
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsString::as_os_str).collect();
    run_tool(tool, &refs)
}

fn system_place(system: &System, info: &CaInfo) -> (String, PathBuf) {
    match system {
        System::Debian { dir, .. } => ("debian".into(), system_file(dir, info, "crt")),
        System::Anchors { kind, dir, .. } => ((*kind).into(), system_file(dir, info, "pem")),
        System::P11 { .. } => ("p11-kit".into(), PathBuf::from("trust anchor")),
    }
}

fn p11_has(tool: &Path, info: &CaInfo) -> bool {
    Command::new(tool)
        .args(["list", "--filter=ca-anchors"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains(&info.nickname())
                || String::from_utf8_lossy(&o.stdout).contains(CA_NAME)
        })
}

fn system_change(
    places: &TrustPlaces,
    system: &System,
    ca: &ca::Ca,
    add: bool,
    dry_run: bool,
) -> anyhow::Result<Place> {
    let info = &ca.info;
    let (kind, path) = system_place(system, info);
    let place = |trusted, action| Place {
        store: "system",
        kind: kind.clone(),
        path: path.clone(),
        trusted,
        action: Some(action),
    };
    match system {
        System::Debian { dir, .. } | System::Anchors { dir, .. } => {
            let present = std::fs::read(&path).is_ok_and(|b| b == ca.cert_pem.as_bytes());
            let others = berth_files(dir);
            if add && present {
                return Ok(place(true, "already"));
            }
            if !add && others.is_empty() {
                return Ok(place(false, "absent"));
            }
            if dry_run {
                return Ok(place(
                    present,
                    if add { "would-add" } else { "would-remove" },
                ));
            }
            if add {
                files::create_dir(dir, 0o755)?;
                files::write_atomic(&path, ca.cert_pem.as_bytes(), 0o644, files::Sync::Durable)?;
            } else {
                for f in &others {
                    std::fs::remove_file(f)
                        .with_context(|| format!("cannot remove {}", f.display()))?;
                }
            }
            let updated = match system {
                System::Debian { tool, .. } => debian_update(places, tool, !add),
                System::Anchors { tool, .. } if places.is_real_root() => {
                    run_tool(tool, &["extract".as_ref()])
                }
                _ => {
                    warn(
                        "certgen",
                        format!("{kind}: not running update-ca-trust under --root"),
                    );
                    Ok(())
                }
            };
            if let Err(e) = updated {
                // Leave the store as it was.
                if add {
                    let _ = std::fs::remove_file(&path);
                } else {
                    for f in &others {
                        let _ = std::fs::write(f, ca.cert_pem.as_bytes());
                    }
                }
                return Err(e.context("the system trust store was not changed"));
            }
            Ok(place(add, if add { "added" } else { "removed" }))
        }
        System::P11 { tool } => {
            let present = p11_has(tool, info);
            if present == add {
                return Ok(place(present, if add { "already" } else { "absent" }));
            }
            if dry_run {
                return Ok(place(
                    present,
                    if add { "would-add" } else { "would-remove" },
                ));
            }
            let flag = if add { "--store" } else { "--remove" };
            run_tool(
                tool,
                &["anchor".as_ref(), flag.as_ref(), ca.cert_path.as_os_str()],
            )?;
            Ok(place(add, if add { "added" } else { "removed" }))
        }
    }
}

/// NSS databases under $HOME: (kind, `sql:DIR` or `dbm:DIR`, DIR).
fn nss_databases() -> Vec<(&'static str, String, PathBuf)> {
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Vec::new();
    };
    let mut dirs: Vec<(&'static str, PathBuf)> = vec![
        ("chromium", home.join(".pki/nssdb")),
        ("chromium", home.join("snap/chromium/current/.pki/nssdb")),
    ];
    for profiles in [
        home.join(".mozilla/firefox"),
        home.join("snap/firefox/common/.mozilla/firefox"),
    ] {
        if let Ok(rd) = std::fs::read_dir(&profiles) {
            let mut found: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            found.sort();
            dirs.extend(found.into_iter().map(|p| ("firefox", p)));
        }
    }
    dirs.into_iter()
        .filter_map(|(kind, dir)| {
            if dir.join("cert9.db").is_file() {
                Some((kind, format!("sql:{}", dir.display()), dir))
            } else if dir.join("cert8.db").is_file() {
                Some((kind, format!("dbm:{}", dir.display()), dir))
            } else {
                None
            }
        })
        .collect()
}

/// Nicknames of berth CAs in an NSS database.
fn nss_berth_nicknames(certutil: &Path, db: &str) -> anyhow::Result<Vec<String>> {
    let out = Command::new(certutil)
        .args(["-L", "-d", db])
        .output()
        .with_context(|| format!("cannot run {}", certutil.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "certutil -L -d {db} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // Lines are "NICKNAME   TRUST,FLAGS,HERE"; the nickname may contain spaces.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with(CA_NAME))
        .filter_map(|l| {
            l.rsplit_once(char::is_whitespace)
                .map(|(nick, _)| nick.trim_end().to_owned())
        })
        .collect())
}

fn nss_change(
    certutil: &Path,
    kind: &str,
    db: &str,
    dir: &Path,
    ca: &ca::Ca,
    add: bool,
    dry_run: bool,
) -> anyhow::Result<Place> {
    let nick = ca.info.nickname();
    let nicks = nss_berth_nicknames(certutil, db)?;
    let present = nicks.contains(&nick);
    let place = |trusted, action| Place {
        store: "nss",
        kind: kind.to_owned(),
        path: dir.to_path_buf(),
        trusted,
        action: Some(action),
    };
    if add && present {
        return Ok(place(true, "already"));
    }
    if !add && nicks.is_empty() {
        return Ok(place(false, "absent"));
    }
    if dry_run {
        return Ok(place(
            present,
            if add { "would-add" } else { "would-remove" },
        ));
    }
    if add {
        run_tool(
            certutil,
            &[
                "-A".as_ref(),
                "-d".as_ref(),
                db.as_ref(),
                "-t".as_ref(),
                "C,,".as_ref(),
                "-n".as_ref(),
                nick.as_ref(),
                "-i".as_ref(),
                ca.cert_path.as_os_str(),
            ],
        )?;
    } else {
        for n in &nicks {
            run_tool(
                certutil,
                &[
                    "-D".as_ref(),
                    "-d".as_ref(),
                    db.as_ref(),
                    "-n".as_ref(),
                    n.as_ref(),
                ],
            )?;
        }
    }
    Ok(place(add, if add { "added" } else { "removed" }))
}

/// `certgen trust` (add) and `certgen untrust`.
/// Add the CA to the trust stores (`add`) or remove it; `ask` (untrust's
/// `--yes`) confirms the removal once every check has passed.
pub fn trust(
    paths: &Paths,
    args: &TrustArgs,
    add: bool,
    ask: Option<bool>,
) -> anyhow::Result<Outcome> {
    let ca = ca::load(paths)?;
    let places = &args.places;
    // Check everything before changing anything: the tools, the privileges.
    let system = if places.no_system {
        None
    } else {
        Some(detect_system(places)?)
    };
    if system.is_some()
        && places.is_real_root()
        && !args.dry_run
        && !rustix::process::geteuid().is_root()
    {
        return Err(error_with_hint(
            format!(
                "{} the system trust store needs root",
                if add {
                    "adding the CA to"
                } else {
                    "removing the CA from"
                }
            ),
            format!(
                "run `sudo -E certgen {}` (-E keeps your HOME for the NSS databases), or pass --no-system",
                if add { "trust" } else { "untrust" }
            ),
        ));
    }
    let dbs = if places.no_nss {
        Vec::new()
    } else {
        nss_databases()
    };
    let certutil = which::which("certutil").ok();
    if let Some(yes) = ask.filter(|_| !args.dry_run)
        && !confirm("remove the berth CA from the trust stores?", yes)?
    {
        berth::info!("nothing changed");
        return Ok(Outcome::Clean);
    }
    let mut out = Vec::new();
    if let Some(system) = &system {
        out.push(system_change(places, system, &ca, add, args.dry_run)?);
    }
    for (kind, db, dir) in &dbs {
        if let Some(cu) = &certutil {
            let place = nss_change(cu, kind, db, dir, &ca, add, args.dry_run)
                .with_context(|| format!("NSS database {}", dir.display()))?;
            out.push(place);
        } else {
            warn(
                "certgen",
                format!(
                    "skipping the NSS database {}: certutil is not installed",
                    dir.display()
                ),
            );
            out.push(Place {
                store: "nss",
                kind: (*kind).to_owned(),
                path: dir.clone(),
                trusted: false,
                action: Some("skipped"),
            });
        }
    }
    if certutil.is_none() && !dbs.is_empty() {
        eprintln!(
            "hint: install certutil (Debian/Ubuntu: apt-get install libnss3-tools; Fedora: nss-tools; Arch: nss) to trust the CA in Firefox and Chromium"
        );
    }
    if out.is_empty() {
        warn("certgen", "no trust store to change");
    }
    io::write_list(args.output.format(), &out)?;
    Ok(Outcome::Clean)
}

/// Where the CA is trusted now (for `status`); never fails, never changes anything.
pub fn where_trusted(info: &CaInfo, places: &TrustPlaces) -> Vec<Place> {
    let mut out = Vec::new();
    let root = places.root();
    if !places.no_system {
        for (kind, dir, ext) in [
            ("debian", "/usr/local/share/ca-certificates", "crt"),
            ("fedora", "/etc/pki/ca-trust/source/anchors", "pem"),
            ("arch", "/etc/ca-certificates/trust-source/anchors", "pem"),
        ] {
            let dir = under(&root, dir);
            if dir.is_dir() {
                let path = system_file(&dir, info, ext);
                out.push(Place {
                    store: "system",
                    kind: kind.into(),
                    trusted: path.is_file(),
                    path,
                    action: None,
                });
            }
        }
    }
    if !places.no_nss
        && let Some(cu) = which::which("certutil").ok()
    {
        for (kind, db, dir) in nss_databases() {
            let trusted = nss_berth_nicknames(&cu, &db).is_ok_and(|n| n.contains(&info.nickname()));
            out.push(Place {
                store: "nss",
                kind: kind.into(),
                path: dir,
                trusted,
                action: None,
            });
        }
    }
    out
}
