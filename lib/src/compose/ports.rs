//! Port specs of compose files: the short syntax (`"8080:80"`,
//! `"127.0.0.1:8443:443/tcp"`, `"[::1]:6379:6379"`, `"9000-9002:9000-9002"`,
//! `"3000"`) and the long syntax (`target`, `published`, `host_ip`,
//! `protocol`, `mode`).

use std::net::IpAddr;

use yaml_serde::Value;

use crate::model::UNSPECIFIED;
use crate::model::{PortBinding, Protocol};

/// A port or an inclusive range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u16,
    end: u16,
}

impl Span {
    fn len(self) -> u32 {
        u32::from(self.end - self.start) + 1
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    let n: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{}' is not a port number", crate::cli::excerpt(s)))?;
    if n == 0 || n > 65535 {
        return Err(format!("port {n} is out of range (1-65535)"));
    }
    Ok(n as u16)
}

fn parse_span(s: &str) -> Result<Span, String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (start, end) = (parse_port(a)?, parse_port(b)?);
            if start > end {
                return Err(format!(
                    "port range '{}' runs backwards",
                    crate::cli::excerpt(s)
                ));
            }
            Ok(Span { start, end })
        }
        None => parse_port(s).map(|p| Span { start: p, end: p }),
    }
}

fn protocol(s: &str) -> Result<Protocol, String> {
    s.parse().map_err(|_| {
        format!(
            "unknown protocol '{}' (expected tcp or udp)",
            crate::cli::excerpt(s)
        )
    })
}

fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse()
        .map_err(|_| format!("'{}' is not an IP address", crate::cli::excerpt(s)))
}

/// Split `ip:host:container` into its parts, with bracketed or bare IPv6.
fn split_host(spec: &str) -> Result<(Option<IpAddr>, Option<&str>, &str), String> {
    if let Some(rest) = spec.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or("unclosed '[' in IPv6 address")?;
        let after = after
            .strip_prefix(':')
            .ok_or("expected ':' after the IPv6 address")?;
        let (host, container) = after
            .split_once(':')
            .ok_or("expected HOST:CONTAINER after the IP address")?;
        return Ok((Some(parse_ip(ip)?), Some(host), container));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.len() {
        1 => Ok((None, None, parts[0])),
        2 => Ok((None, Some(parts[0]), parts[1])),
        // An empty address (":8080:80") binds every address, as docker does.
        3 if parts[0].is_empty() => Ok((None, Some(parts[1]), parts[2])),
        3 => Ok((Some(parse_ip(parts[0])?), Some(parts[1]), parts[2])),
        n => {
            // A bare IPv6 address: everything before the last two fields.
            let ip = parts[..n - 2].join(":");
            Ok((Some(parse_ip(&ip)?), Some(parts[n - 2]), parts[n - 1]))
        }
    }
}

/// Most bindings the ports of one project may expand to (a range is a
/// binding per port); past it, loading fails with a clear error rather than
/// holding millions of bindings in memory and in the registry.
pub const MAX_BINDINGS: usize = 16_384;

/// One port entry, parsed but not expanded.
#[derive(Debug, Clone, Copy)]
struct Spec {
    ip: Option<IpAddr>,
    published: Option<Span>,
    target: Span,
    protocol: Protocol,
}

impl Spec {
    /// How many bindings the entry expands to, checking that the ranges fit.
    fn count(&self) -> Result<usize, String> {
        match self.published {
            None => Ok(self.target.len() as usize),
            Some(p) if p.len() == self.target.len() => Ok(p.len() as usize),
            // A host range for one container port: the engine picks one of them.
            Some(p) if self.target.len() == 1 && p.len() > 1 => Ok(1),
            Some(p) => Err(format!(
                "host range of {} ports does not match container range of {} ports",
                p.len(),
                self.target.len()
            )),
        }
    }

    fn expand(&self, service: &str) -> Vec<PortBinding> {
        let host_ip = self.ip.unwrap_or(UNSPECIFIED);
        let make = |published, target| PortBinding {
            service: service.to_owned(),
            host_ip,
            published,
            target,
            protocol: self.protocol,
        };
        let target = self.target;
        match self.published {
            Some(p) if p.len() == target.len() => (0..target.len())
                .map(|i| make(Some(p.start + i as u16), target.start + i as u16))
                .collect(),
            Some(_) => vec![make(None, target.start)],
            None => (target.start..=target.end).map(|t| make(None, t)).collect(),
        }
    }
}

fn checked(spec: Spec) -> Result<Spec, String> {
    let n = spec.count()?;
    if n > MAX_BINDINGS {
        return Err(format!(
            "expands to {n} bindings, more than the {MAX_BINDINGS} berth allows for a project"
        ));
    }
    Ok(spec)
}

/// Parse one short-syntax spec.
pub fn parse_short(service: &str, spec: &str) -> Result<Vec<PortBinding>, String> {
    short_spec(spec).map(|s| s.expand(service))
}

fn short_spec(spec: &str) -> Result<Spec, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err("empty port spec".into());
    }
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, protocol(p)?),
        None => (spec, Protocol::Tcp),
    };
    let (ip, host, container) = split_host(rest)?;
    let target = parse_span(container)?;
    let published = match host {
        None | Some("") => None,
        Some(h) => Some(parse_span(h)?),
    };
    checked(Spec {
        ip,
        published,
        target,
        protocol,
    })
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parse one entry of a `ports:` list, in either syntax.
pub fn parse_entry(service: &str, entry: &Value) -> Result<Vec<PortBinding>, String> {
    entry_spec(entry).map(|s| s.expand(service))
}

/// How many bindings one entry of a `ports:` list expands to, without expanding it.
pub fn count_entry(entry: &Value) -> Result<usize, String> {
    entry_spec(entry).and_then(|s| s.count())
}

fn entry_spec(entry: &Value) -> Result<Spec, String> {
    match entry {
        Value::Number(n) => short_spec(&n.to_string()),
        Value::String(s) => short_spec(s),
        Value::Mapping(m) => {
            let get = |k: &str| m.get(k);
            let target = get("target").ok_or("long syntax needs 'target'")?;
            let target = scalar_text(target).ok_or("'target' must be a number")?;
            let target = parse_span(&target)?;
            if target.len() != 1 {
                return Err("'target' must be one port in the long syntax".into());
            }
            let published = match get("published") {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let text = scalar_text(v).ok_or("'published' must be a number or a string")?;
                    if text.is_empty() {
                        None
                    } else {
                        Some(parse_span(&text)?)
                    }
                }
            };
            let ip = match get("host_ip") {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let text = scalar_text(v).ok_or("'host_ip' must be a string")?;
                    let text = text.trim_start_matches('[').trim_end_matches(']');
                    if text.is_empty() {
                        None
                    } else {
                        Some(parse_ip(text)?)
                    }
                }
            };
            let protocol = match get("protocol") {
                None | Some(Value::Null) => Protocol::Tcp,
                Some(v) => protocol(&scalar_text(v).ok_or("'protocol' must be a string")?)?,
            };
            if let Some(mode) = get("mode").and_then(Value::as_str)
                && mode != "host"
                && mode != "ingress"
            {
                return Err(format!(
                    "unknown mode '{}' (expected host or ingress)",
                    crate::cli::excerpt(mode)
                ));
            }
            checked(Spec {
                ip,
                published,
                target,
                protocol,
            })
        }
        other => Err(format!(
            "a port must be a string, a number or a mapping, not {}",
            kind(other)
        )),
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
