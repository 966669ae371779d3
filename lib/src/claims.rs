//! Who claims which host port: conflicts between projects (and with what
//! listens on this machine), and allocation of free ports from a range.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use crate::model::UNSPECIFIED;
use crate::model::{Claim, ClaimSource, Conflict, Project, Protocol, Status};
use crate::netstat::{self, Listener};

/// The service name under which a project's HTTP port is claimed when no
/// service publishes it.
pub const HTTP_SERVICE: &str = "http";

/// One claim on a port, with the address and protocol it binds.
#[derive(Debug, Clone)]
pub struct PortClaim {
    pub port: u16,
    pub protocol: Protocol,
    pub host_ip: IpAddr,
    pub project: String,
    pub service: String,
}

/// Every host port a project claims: its published service ports, and its
/// HTTP port when no service publishes that port already.
pub fn project_claims(p: &Project) -> impl Iterator<Item = PortClaim> + '_ {
    let services = p.service_ports.iter().filter_map(move |b| {
        Some(PortClaim {
            port: b.published?,
            protocol: b.protocol,
            host_ip: b.host_ip,
            project: p.name.clone(),
            service: b.service.clone(),
        })
    });
    let http = p
        .port
        .filter(|port| !p.service_ports.iter().any(|b| b.published == Some(*port) && b.protocol == Protocol::Tcp))
        .map(|port| PortClaim {
            port,
            protocol: Protocol::Tcp,
            host_ip: UNSPECIFIED,
            project: p.name.clone(),
            service: HTTP_SERVICE.into(),
        });
    services.chain(http)
}

/// Options of a conflict check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Only projects whose status is running.
    pub running_only: bool,
}

/// Every port claimed twice among `projects`, plus, with `system`, every
/// claimed port something on this machine already listens on (unless a
/// running project in the input accounts for it).
pub fn find_conflicts(projects: &[Project], opts: CheckOptions, system: Option<&[Listener]>) -> Vec<Conflict> {
    let selected: Vec<&Project> =
        projects.iter().filter(|p| !opts.running_only || p.status == Status::Running).collect();
    let mut by_port: BTreeMap<(u16, Protocol), Vec<Claim>> = BTreeMap::new();
    for p in &selected {
        for c in project_claims(p) {
            let claim = Claim {
                project: c.project,
                service: c.service,
                source: ClaimSource::Registry,
                host_ip: Some(c.host_ip),
                pid: None,
            };
            let list = by_port.entry((c.port, c.protocol)).or_default();
            if !list.contains(&claim) {
                list.push(claim);
            }
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
            let host_ip = if group.iter().any(|c| c.host_ip.is_none_or(|ip| ip.is_unspecified())) {
                UNSPECIFIED
            } else {
                group[0].host_ip.unwrap_or(UNSPECIFIED)
            };
            out.push(Conflict { port, protocol, host_ip, claims: group });
        }
    }
    out
}

/// Add a system claim for each claimed port something listens on, unless a
/// running project claims that port (its own containers hold it).
fn add_system_claims(by_port: &mut BTreeMap<(u16, Protocol), Vec<Claim>>, projects: &[Project], table: &[Listener]) {
    let running: HashSet<(u16, Protocol)> = projects
        .iter()
        .filter(|p| p.status == Status::Running)
        .flat_map(|p| project_claims(p).map(|c| (c.port, c.protocol)))
        .collect();
    let hits: Vec<&Listener> =
        table.iter().filter(|l| by_port.contains_key(&(l.port, l.protocol)) && !running.contains(&(l.port, l.protocol))).collect();
    if hits.is_empty() {
        return;
    }
    let owners = netstat::owners(&hits);
    for l in hits {
        let owner = owners.get(&l.inode());
        let claim = Claim {
            project: String::new(),
            service: owner.map(|o| o.name.clone()).unwrap_or_else(|| "(unknown process)".into()),
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

/// Split the claims on one port into groups whose addresses overlap
/// (transitively); only groups of two or more are conflicts.
fn overlapping_groups(claims: Vec<Claim>) -> Vec<Vec<Claim>> {
    let ip = |c: &Claim| c.host_ip.unwrap_or(UNSPECIFIED);
    let n = claims.len();
    let mut group: Vec<usize> = (0..n).collect();
    fn root(g: &mut [usize], mut i: usize) -> usize {
        while g[i] != i {
            g[i] = g[g[i]];
            i = g[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if crate::model::PortBinding::ips_overlap(ip(&claims[i]), ip(&claims[j])) {
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

/// The host ports registered projects claim, on any protocol and address.
pub fn claimed_ports(projects: &[Project]) -> HashSet<u16> {
    projects
        .iter()
        .flat_map(|p| project_claims(p).map(|c| c.port).chain(p.exposed_ports.iter().copied()))
        .collect()
}

/// Up to `count` free ports from `range`, lowest first: claimed by no project
/// and not in use on this machine.
pub fn allocate(range: crate::config::PortRange, count: usize, projects: &[Project], system: Option<&[Listener]>) -> Vec<u16> {
    let claimed = claimed_ports(projects);
    range
        .iter()
        .filter(|p| !claimed.contains(p))
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
        let ps = vec![project("a", &[("0.0.0.0", 5432)]), project("b", &[("127.0.0.1", 5432)])];
        assert_eq!(find_conflicts(&ps, CheckOptions::default(), None).len(), 1);
        let ps = vec![project("a", &[("127.0.0.1", 5432)]), project("b", &[("127.0.0.2", 5432)])];
        assert!(find_conflicts(&ps, CheckOptions::default(), None).is_empty());
        let ps = vec![project("a", &[("::", 6379)]), project("b", &[("127.0.0.1", 6379)])];
        assert_eq!(find_conflicts(&ps, CheckOptions::default(), None).len(), 1);
    }

    #[test]
    fn running_only_ignores_stopped_projects() {
        let mut a = project("a", &[("0.0.0.0", 80)]);
        a.status = Status::Running;
        let b = project("b", &[("0.0.0.0", 80)]);
        let opts = CheckOptions { running_only: true };
        assert!(find_conflicts(&[a.clone(), b.clone()], opts, None).is_empty());
        assert_eq!(find_conflicts(&[a, b], CheckOptions::default(), None).len(), 1);
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
        let range = crate::config::PortRange { start: 6000, end: 6003 };
        assert_eq!(allocate(range, 2, &[a], Some(&[])), vec![6002, 6003]);
    }
}
