//! The routing table both proxies are generated from: for each project with an
//! HTTP port, its hostnames, their backends and its certificate files. Sorted
//! by domain, so the same projects always give the same bytes.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::bail;
use berth::Project;
use berth::certs;
use berth::paths::Paths;
use berth::sites;

/// Where the certificate files are.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// certgen's layout under the berth data folder.
    Berth(Paths),
    /// `DIR/DOMAIN/{fullchain.pem,key.pem}`.
    Dir(PathBuf),
}

impl CertSource {
    /// The chain and key files of `domain`.
    pub fn files(&self, domain: &str) -> (PathBuf, PathBuf) {
        match self {
            CertSource::Berth(paths) => {
                let c = certs::cert_paths(paths, domain);
                (c.fullchain, c.key)
            }
            CertSource::Dir(dir) => (
                dir.join(domain).join("fullchain.pem"),
                dir.join(domain).join("key.pem"),
            ),
        }
    }
}

/// One hostname and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub host: String,
    /// `None` for the project's own site, else the web tool (`adminer`).
    pub service: Option<&'static str>,
    /// The label used in names (`db`), `None` for the project's own site.
    pub subdomain: Option<String>,
    pub backend: SocketAddr,
}

/// One project's routes and certificate.
#[derive(Debug, Clone)]
pub struct ProjectRoutes {
    pub name: String,
    pub domain: String,
    /// The project's own site first, then its web tools.
    pub routes: Vec<Route>,
    pub fullchain: PathBuf,
    pub key: PathBuf,
}

/// What the generators need beyond the projects.
#[derive(Debug, Clone)]
pub struct Options {
    pub http_port: u16,
    pub https_port: u16,
}

/// Build the routing table; notes (skipped projects, missing certificates) go to `note`.
pub fn build(
    projects: &[Project],
    tld: &str,
    certs: &CertSource,
    mut note: impl FnMut(String),
) -> anyhow::Result<Vec<ProjectRoutes>> {
    let mut by_domain: BTreeMap<String, ProjectRoutes> = BTreeMap::new();
    let mut missing: Vec<(String, PathBuf)> = Vec::new();
    for p in projects {
        let all = sites::sites(p, tld)?;
        let domain = all[0].host.clone();
        let Some(port) = p.port else {
            note(format!("project {} has no HTTP port; skipped", p.name));
            continue;
        };
        let mut routes = vec![Route {
            host: domain.clone(),
            service: None,
            subdomain: None,
            backend: backend(all[0].ip, port),
        }];
        for site in &all[1..] {
            let tool = site.service.unwrap_or_default();
            match site.port {
                Some(port) => routes.push(Route {
                    host: site.host.clone(),
                    service: site.service,
                    subdomain: site
                        .host
                        .strip_suffix(&format!(".{domain}"))
                        .map(str::to_owned),
                    backend: backend(site.ip, port),
                }),
                None => note(format!(
                    "{tool} of project {} publishes no port; {} skipped",
                    p.name, site.host
                )),
            }
        }
        let (fullchain, key) = certs.files(&domain);
        if !fullchain.is_file() || !key.is_file() {
            missing.push((domain.clone(), dir_of(&fullchain).to_path_buf()));
        }
        let entry = ProjectRoutes {
            name: p.name.clone(),
            domain: domain.clone(),
            routes,
            fullchain,
            key,
        };
        if let Some(other) = by_domain.insert(domain.clone(), entry) {
            bail!(
                "projects {} and {} both claim the domain {domain}",
                other.name,
                p.name
            );
        }
    }
    missing.sort();
    match missing.as_slice() {
        [] => {}
        [(domain, dir)] => note(format!(
            "no certificate for {domain} at {}: run `certgen issue {domain}`",
            dir.display()
        )),
        [(first, _), rest @ ..] => note(format!(
            "no certificate for {first} and {} other domain(s): run `registry list --json | certgen issue -`",
            rest.len()
        )),
    }
    Ok(by_domain.into_values().collect())
}

fn backend(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

fn dir_of(p: &Path) -> &Path {
    p.parent().unwrap_or(p)
}
