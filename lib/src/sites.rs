//! The hostnames a project is reached by: its domain (`shop.test`) and one
//! subdomain per web tool it runs (`db.shop.test` for adminer, `mail.shop.test`
//! for mailpit). dnsconf writes them to /etc/hosts, proxyconf routes them.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context as _, bail};

use crate::cli::ResultExt as _;
use crate::model::{PortBinding, Project, Protocol};
use crate::names::validate_label;

/// A web tool a project may run, and the subdomain it is served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebTool {
    /// The compose service name that marks it (`adminer`).
    pub service: &'static str,
    /// The label prepended to the project's domain (`db`).
    pub subdomain: &'static str,
    /// The container port of its web interface (picked when it publishes several).
    pub web_port: u16,
}

/// The web tools berth knows, in the order their hostnames are listed.
pub const WEB_TOOLS: &[WebTool] = &[
    WebTool {
        service: "adminer",
        subdomain: "db",
        web_port: 8080,
    },
    WebTool {
        service: "mailpit",
        subdomain: "mail",
        web_port: 8025,
    },
];

/// Check a dev TLD: one DNS label.
pub fn validate_tld(tld: &str) -> anyhow::Result<()> {
    validate_label("dev TLD", tld)
}

/// The dev TLD: `flag` (a tool's `--tld`) when given, else config.yaml's
/// `tld`; checked to be one DNS label.
pub fn tld(flag: Option<&str>) -> anyhow::Result<String> {
    let tld = match flag {
        Some(t) => t.to_owned(),
        None => crate::config::Config::load(&crate::paths::Paths::from_env()?)?.tld,
    };
    validate_tld(&tld).hint("a dev TLD is one DNS label, e.g. --tld test")?;
    Ok(tld)
}

/// `NAME.TLD`: the domain of a project that names none.
pub fn domain(name: &str, tld: &str) -> String {
    format!("{name}.{tld}")
}

/// Check a hostname: dot-separated DNS labels, at most 253 characters.
pub fn validate_hostname(what: &str, name: &str) -> anyhow::Result<()> {
    if name.len() > 253 {
        bail!(
            "invalid {what} '{}': longer than 253 characters",
            name.escape_debug()
        );
    }
    for label in name.split('.') {
        validate_label("label", label)
            .with_context(|| format!("invalid {what} '{}'", name.escape_debug()))?;
    }
    Ok(())
}

/// The project's domain: its `domain` field, or `NAME.TLD` when that is empty.
///
/// The name must be a DNS label and the domain must lie under `.TLD`, so
/// Project JSON can never point a real site (`example.com`) at this machine.
pub fn domain_of(project: &Project, tld: &str) -> anyhow::Result<String> {
    validate_label("project name", &project.name)?;
    if project.domain.is_empty() {
        return Ok(domain(&project.name, tld));
    }
    let domain = project.domain.as_str();
    validate_hostname(&format!("domain of project {}", project.name), domain)?;
    let suffix = format!(".{tld}");
    if !domain.ends_with(&suffix) {
        bail!(
            "domain '{domain}' of project {} is outside the dev TLD '.{tld}'",
            project.name
        );
    }
    Ok(domain.to_owned())
}

/// One hostname of a project and where its HTTP traffic goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// `shop.test`, `db.shop.test`.
    pub host: String,
    /// The web tool's service name, `None` for the project itself.
    pub service: Option<&'static str>,
    /// The address the backend listens on (loopback unless the port is bound elsewhere).
    pub ip: IpAddr,
    /// The host port; `None` when the project or tool publishes none.
    pub port: Option<u16>,
}

/// Whether the project runs `service`: in `services` or in `service_ports`.
fn runs(project: &Project, service: &str) -> bool {
    project.services.iter().any(|s| s == service)
        || project.service_ports.iter().any(|b| b.service == service)
}

/// The published TCP binding of a web tool: the one whose target is its web
/// port, else its only published TCP port.
fn web_binding<'a>(project: &'a Project, tool: &WebTool) -> Option<&'a PortBinding> {
    let tcp: Vec<&PortBinding> = project
        .service_ports
        .iter()
        .filter(|b| {
            b.service == tool.service && b.protocol == Protocol::Tcp && b.published.is_some()
        })
        .collect();
    tcp.iter()
        .find(|b| b.target == tool.web_port)
        .copied()
        .or(match tcp.as_slice() {
            [only] => Some(*only),
            _ => None,
        })
}

/// The sites of a project: its domain first, then one per web tool it runs.
pub fn sites(project: &Project, tld: &str) -> anyhow::Result<Vec<Site>> {
    let domain = domain_of(project, tld)?;
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut out = vec![Site {
        host: domain.clone(),
        service: None,
        ip: loopback,
        port: project.port,
    }];
    for tool in WEB_TOOLS {
        if !runs(project, tool.service) {
            continue;
        }
        let binding = web_binding(project, tool);
        let ip = binding.map_or(loopback, |b| {
            if b.host_ip.is_unspecified() {
                loopback
            } else {
                b.host_ip
            }
        });
        out.push(Site {
            host: format!("{}.{domain}", tool.subdomain),
            service: Some(tool.service),
            ip,
            port: binding.and_then(|b| b.published),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(service: &str, published: u16, target: u16) -> PortBinding {
        PortBinding {
            service: service.into(),
            host_ip: crate::model::UNSPECIFIED,
            published: Some(published),
            target,
            protocol: Protocol::Tcp,
        }
    }

    #[test]
    fn domain_defaults_to_name_and_tld_and_stays_under_it() {
        let mut p = Project {
            name: "shop".into(),
            ..Project::default()
        };
        assert_eq!(domain_of(&p, "test").unwrap(), "shop.test");
        p.domain = "shop.test".into();
        assert_eq!(domain_of(&p, "test").unwrap(), "shop.test");
        p.domain = "example.com".into();
        assert!(
            domain_of(&p, "test")
                .unwrap_err()
                .to_string()
                .contains("outside the dev TLD")
        );
        p.domain = "a..test".into();
        assert!(domain_of(&p, "test").is_err());
        p.name = "Bad_Name".into();
        assert!(domain_of(&p, "test").is_err());
    }

    #[test]
    fn web_tools_get_subdomains_with_their_web_port() {
        let p = Project {
            name: "shop".into(),
            port: Some(5003),
            services: vec!["web".into(), "adminer".into(), "mailpit".into()],
            service_ports: vec![
                binding("adminer", 5004, 8080),
                binding("mailpit", 5006, 1025),
                binding("mailpit", 5005, 8025),
            ],
            ..Project::default()
        };
        let s = sites(&p, "test").unwrap();
        let got: Vec<(&str, Option<u16>)> = s.iter().map(|s| (s.host.as_str(), s.port)).collect();
        assert_eq!(
            got,
            [
                ("shop.test", Some(5003)),
                ("db.shop.test", Some(5004)),
                ("mail.shop.test", Some(5005))
            ]
        );
    }
}
