//! Who claims which host port: conflicts between projects (and with what
//! listens on this machine), and allocation of free ports from a range.
//!
//! Everything here works on [`Claimant`], so a check over ten thousand
//! projects can read only the fields it needs ([`ProjectPorts`]).

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use crate::model::{
    Claim, ClaimSource, Conflict, PortBinding, Project, ProjectPorts, Protocol, Status, UNSPECIFIED,
};
use crate::netstat::{self, Listener};

/// The service name under which a project's HTTP port is claimed when no
/// service publishes it.
pub const HTTP_SERVICE: &str = "http";

/// What port checks need to know of a project.
pub trait Claimant {
    fn name(&self) -> &str;
    fn status(&self) -> Status;
    fn http_port(&self) -> Option<u16>;
    fn service_ports(&self) -> &[PortBinding];
    fn exposed_ports(&self) -> &[u16];
}

macro_rules! claimant {
    ($t:ty) => {
        impl Claimant for $t {
            fn name(&self) -> &str {
                &self.name
            }
            fn status(&self) -> Status {
                self.status
            }
            fn http_port(&self) -> Option<u16> {
                self.port
            }
            fn service_ports(&self) -> &[PortBinding] {
                &self.service_ports
            }
            fn exposed_ports(&self) -> &[u16] {
                &self.exposed_ports
            }
        }
    };
}
claimant!(Project);
claimant!(ProjectPorts);

/// One claim on a port, borrowed from its project.
#[derive(Debug, Clone, Copy)]
pub struct PortClaim<'a> {
    pub port: u16,
    pub protocol: Protocol,
    pub host_ip: IpAddr,
    pub project: &'a str,
    pub service: &'a str,
}

/// Every host port a project claims: its published service ports, and its
/// HTTP port when no service publishes that port already.
pub fn project_claims<T: Claimant>(p: &T) -> impl Iterator<Item = PortClaim<'_>> {
    let name = p.name();
    let services = p.service_ports().iter().filter_map(move |b| {
        Some(PortClaim {
            port: b.published?,
            protocol: b.protocol,
            host_ip: b.host_ip,
            project: name,
            service: &b.service,
        })
    });
    let http = p
        .http_port()
        .filter(|port| {
            !p.service_ports()
                .iter()
                .any(|b| b.published == Some(*port) && b.protocol == Protocol::Tcp)
        })
        .map(|port| PortClaim {
            port,
            protocol: Protocol::Tcp,
            host_ip: UNSPECIFIED,
            project: name,
            service: HTTP_SERVICE,
        });
    services.chain(http)
}

/// Options of a conflict check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Only projects whose status is running.
    pub running_only: bool,
}

fn registry_claim(c: &PortClaim<'_>) -> Claim {
    Claim {
        project: c.project.to_owned(),
        service: c.service.to_owned(),
        source: ClaimSource::Registry,
        host_ip: Some(c.host_ip),
        pid: None,
    }
}

/// Every port claimed twice among `projects`, plus, with `system`, every
/// claimed port something on this machine already listens on (unless a
/// running project in the input accounts for it).
pub fn find_conflicts<T: Claimant>(
    projects: &[T],
    opts: CheckOptions,
    system: Option<&[Listener]>,
) -> Vec<Conflict> {
    // Count the claims on each (port, protocol) first: only ports claimed
    // more than once (or also held on this machine) allocate anything, and
    // with ten thousand projects almost none are.
    let index = |port: u16, protocol: Protocol| usize::from(port) * 2 + protocol as usize;
    let mut count = vec![0u8; 2 << 16];
    let claimants = || {
        projects
            .iter()
            .filter(|p| !opts.running_only || p.status() == Status::Running)
            .flat_map(project_claims)
    };
    for c in claimants() {
        let n = &mut count[index(c.port, c.protocol)];
        *n = n.saturating_add(1);
    }
    for l in system.unwrap_or_default() {
        let n = &mut count[index(l.port, l.protocol)];
        *n = n.saturating_add(2);
    }
    let mut by_port: BTreeMap<(u16, Protocol), Vec<Claim>> = BTreeMap::new();
    for c in claimants().filter(|c| count[index(c.port, c.protocol)] > 1) {
        let claim = registry_claim(&c);
        let list = by_port.entry((c.port, c.protocol)).or_default();
        if !list.contains(&claim) {
            list.push(claim);
        }
    }
    if let Some(table) = system {
        add_system_claims(&mut by_port, projects, table);
    }
    let mut out = Vec::new();
    for ((port, protocol), claims) in by_port {
        if claims.len() < 2 {
            continue;
        }
        for group in overlapping_groups(claims) {
            let host_ip = if group
                .iter()
                .any(|c| c.host_ip.is_none_or(|ip| ip.is_unspecified()))
            {
                UNSPECIFIED
            } else {
                group[0].host_ip.unwrap_or(UNSPECIFIED)
            };
            out.push(Conflict {
                port,
                protocol,
                host_ip,
                claims: group,
            });
        }
    }
    out
}

/// Add a system claim for each claimed port something listens on, unless a
/// running project claims that port (its own containers hold it).
fn add_system_claims<T: Claimant>(
    by_port: &mut BTreeMap<(u16, Protocol), Vec<Claim>>,
    projects: &[T],
    table: &[Listener],
) {
    let running: HashSet<(u16, Protocol)> = projects
        .iter()
        .filter(|p| p.status() == Status::Running)
        .flat_map(|p| project_claims(p).map(|c| (c.port, c.protocol)))
        .collect();
    let hits: Vec<&Listener> = table
        .iter()
        .filter(|l| {
            by_port.contains_key(&(l.port, l.protocol)) && !running.contains(&(l.port, l.protocol))
        })
        .collect();
    if hits.is_empty() {
        return;
    }
    let owners = netstat::owners(&hits);
    for l in hits {
        let owner = owners.get(&l.inode());
        let claim = Claim {
            project: String::new(),
            service: owner.map_or_else(|| "(unknown process)".into(), |o| o.name.clone()),
            source: ClaimSource::System,
            host_ip: Some(l.ip),
            pid: owner.map(|o| o.pid),
        };
        let list = by_port.entry((l.port, l.protocol)).or_default();
        if !list.contains(&claim) {
            list.push(claim);
        }
    }
}

fn root(g: &mut [usize], mut i: usize) -> usize {
    while g[i] != i {
        g[i] = g[g[i]];
        i = g[i];
    }
    i
}

/// Split the claims on one port into groups whose addresses overlap
/// (transitively); only groups of two or more are conflicts.
fn overlapping_groups(claims: Vec<Claim>) -> Vec<Vec<Claim>> {
    let ip = |c: &Claim| c.host_ip.unwrap_or(UNSPECIFIED);
    let n = claims.len();
    let mut group: Vec<usize> = (0..n).collect();
    for i in 0..n {
        for j in i + 1..n {
            if PortBinding::ips_overlap(ip(&claims[i]), ip(&claims[j])) {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a] = b;
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<Claim>> = BTreeMap::new();
    for (i, c) in claims.into_iter().enumerate() {
        let r = root(&mut group, i);
        groups.entry(r).or_default().push(c);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// A set of port numbers: one bit each, so filling it with the ports of ten
/// thousand projects costs no hashing.
#[derive(Clone)]
pub struct PortSet(Box<[u64; 1024]>);

impl Default for PortSet {
    fn default() -> Self {
        Self(Box::new([0; 1024]))
    }
}

impl PortSet {
    pub fn insert(&mut self, port: u16) {
        self.0[usize::from(port / 64)] |= 1 << (port % 64);
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }
}

impl Extend<u16> for PortSet {
    fn extend<I: IntoIterator<Item = u16>>(&mut self, ports: I) {
        for p in ports {
            self.insert(p);
        }
    }
}

impl<'a> Extend<&'a u16> for PortSet {
    fn extend<I: IntoIterator<Item = &'a u16>>(&mut self, ports: I) {
        self.extend(ports.into_iter().copied());
    }
}

/// The host ports a project claims, on any protocol and address.
pub fn project_ports<T: Claimant>(p: &T) -> impl Iterator<Item = u16> + '_ {
    project_claims(p)
        .map(|c| c.port)
        .chain(p.exposed_ports().iter().copied())
}

/// The host ports registered projects claim, on any protocol and address.
pub fn claimed_ports<T: Claimant>(projects: &[T]) -> PortSet {
    let mut set = PortSet::default();
    for p in projects {
        set.extend(project_ports(p));
    }
    set
}

/// Up to `count` free ports from `range`, lowest first: claimed by no project
/// (nor in `also`) and not in use on this machine.
pub fn allocate<T: Claimant>(
    range: crate::config::PortRange,
    count: usize,
    projects: &[T],
    also: &[u16],
    system: Option<&[Listener]>,
) -> Vec<u16> {
    let mut claimed = claimed_ports(projects);
    claimed.extend(also);
    range
        .iter()
        .filter(|p| !claimed.contains(*p))
        .filter(|p| !netstat::in_use(*p, Protocol::Tcp, system))
        .take(count)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PortBinding;

    fn project(name: &str, ports: &[(&str, u16)]) -> Project {
        Project {
            name: name.into(),
            service_ports: ports
                .iter()
                .map(|(ip, p)| PortBinding {
                    service: "db".into(),
                    host_ip: ip.parse().unwrap(),
                    published: Some(*p),
                    target: *p,
                    protocol: Protocol::Tcp,
                })
                .collect(),
            ..Project::default()
        }
    }

    #[test]
    fn unbound_overlaps_everything_distinct_loopbacks_do_not() {
        let ps = vec![
            project("a", &[("0.0.0.0", 5432)]),
            project("b", &[("127.0.0.1", 5432)]),
        ];
        assert_eq!(find_conflicts(&ps, CheckOptions::default(), None).len(), 1);
        let ps = vec![
            project("a", &[("127.0.0.1", 5432)]),
            project("b", &[("127.0.0.2", 5432)]),
        ];
        assert!(find_conflicts(&ps, CheckOptions::default(), None).is_empty());
        let ps = vec![
            project("a", &[("::", 6379)]),
            project("b", &[("127.0.0.1", 6379)]),
        ];
        assert_eq!(find_conflicts(&ps, CheckOptions::default(), None).len(), 1);
    }

    #[test]
    fn running_only_ignores_stopped_projects() {
        let mut a = project("a", &[("0.0.0.0", 80)]);
        a.status = Status::Running;
        let b = project("b", &[("0.0.0.0", 80)]);
        let opts = CheckOptions { running_only: true };
        assert!(find_conflicts(&[a.clone(), b.clone()], opts, None).is_empty());
        assert_eq!(
            find_conflicts(&[a, b], CheckOptions::default(), None).len(),
            1
        );
    }

    #[test]
    fn http_port_is_a_claim_unless_a_service_publishes_it() {
        let mut a = project("a", &[]);
        a.port = Some(5000);
        let mut b = project("b", &[("0.0.0.0", 5000)]);
        b.port = Some(5000);
        let c = find_conflicts(&[a, b.clone()], CheckOptions::default(), None);
        assert_eq!(c[0].claims.len(), 2);
        assert_eq!(project_claims(&b).count(), 1);
    }

    #[test]
    fn allocation_skips_claimed_ports() {
        let mut a = project("a", &[("0.0.0.0", 6001)]);
        a.port = Some(6000);
        let range = crate::config::PortRange {
            start: 6000,
            end: 6003,
        };
        assert_eq!(allocate(range, 2, &[a], &[6003], Some(&[])), vec![6002]);
    }
}
