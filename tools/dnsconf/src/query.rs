//! Resolve a name: through the system resolver (getaddrinfo, what every
//! program on the machine sees), or by asking one DNS server directly over UDP.
//!
//! The packets are built and parsed with `simple-dns` (no dependency but
//! `bitflags`); hickory-proto would pull url, idna and rand for two questions.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs as _, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use berth::cli::ResultExt as _;
use simple_dns::rdata::RData;
use simple_dns::{CLASS, Name, Packet, PacketFlag, Question, RCODE, TYPE};

/// What a lookup found.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Every address, in the order received (A answers before AAAA answers).
    pub addresses: Vec<IpAddr>,
    /// The server's response codes when it answered with an error (NXDOMAIN, REFUSED).
    pub errors: Vec<String>,
}

impl Answer {
    /// Take in one reply: its error code, and its A and AAAA answers.
    fn absorb(&mut self, reply: &Packet<'_>) {
        let rcode = reply.rcode();
        if rcode != RCODE::NoError {
            let text = format!("{rcode:?}");
            if !self.errors.contains(&text) {
                self.errors.push(text);
            }
        }
        for record in &reply.answers {
            match &record.rdata {
                RData::A(a) => self.addresses.push(IpAddr::V4(Ipv4Addr::from(a.address))),
                RData::AAAA(a) => self.addresses.push(IpAddr::V6(Ipv6Addr::from(a.address))),
                _ => {}
            }
        }
    }
}

/// Whether an address points at this machine.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Resolve through the system resolver. A name that does not resolve gives no addresses.
pub fn system(name: &str) -> Answer {
    match (name, 0).to_socket_addrs() {
        Ok(addrs) => {
            let mut addresses: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !addresses.contains(&a.ip()) {
                    addresses.push(a.ip());
                }
            }
            Answer {
                addresses,
                errors: Vec::new(),
            }
        }
        Err(e) => Answer {
            addresses: Vec::new(),
            errors: vec![e.to_string()],
        },
    }
}

/// Ask `server` for the A and AAAA records of `name`, retrying once, within `timeout`.
pub fn server(name: &str, server: SocketAddr, timeout: Duration) -> anyhow::Result<Answer> {
    let qname = Name::new(name).with_context(|| format!("invalid name '{name}'"))?;
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind).context("cannot open a UDP socket")?;
    socket
        .connect(server)
        .with_context(|| format!("cannot reach {server}"))?;

    // Two queries with ids of their own, so late or stray packets are ignored.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = (std::process::id() ^ nanos) as u16;
    let queries: Vec<(u16, Vec<u8>)> = [TYPE::A, TYPE::AAAA]
        .into_iter()
        .enumerate()
        .map(|(i, qtype)| {
            let id = seed.wrapping_add(i as u16 * 7919);
            let mut packet = Packet::new_query(id);
            packet.set_flags(PacketFlag::RECURSION_DESIRED);
            packet.questions.push(Question::new(
                qname.clone(),
                qtype.into(),
                CLASS::IN.into(),
                false,
            ));
            packet.build_bytes_vec().map(|bytes| (id, bytes))
        })
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot build a DNS query for '{name}'"))?;

    let deadline = Instant::now() + timeout;
    let mut answer = Answer::default();
    let mut pending: Vec<u16> = queries.iter().map(|(id, _)| *id).collect();
    let mut buf = [0u8; 4096];
    for attempt in 0..2 {
        for (id, bytes) in &queries {
            if pending.contains(id) {
                send(&socket, bytes, server)?;
            }
        }
        // The first attempt waits half the time, the retry the rest.
        let until = if attempt == 0 {
            Instant::now() + timeout / 2
        } else {
            deadline
        };
        while !pending.is_empty() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket
                .set_read_timeout(Some(left))
                .context("cannot set a socket timeout")?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) => return Err(unreachable(e, server)),
            };
            let Ok(reply) = Packet::parse(&buf[..n]) else {
                continue;
            };
            let Some(pos) = pending.iter().position(|id| *id == reply.id()) else {
                continue;
            };
            if !reply.has_flags(PacketFlag::RESPONSE) {
                continue;
            }
            pending.remove(pos);
            answer.absorb(&reply);
        }
        if pending.is_empty() {
            break;
        }
    }
    if pending.len() == queries.len() {
        bail!(
            "no answer from the DNS server at {server} within {} ms",
            timeout.as_millis()
        );
    }
    Ok(answer)
}

fn send(socket: &UdpSocket, bytes: &[u8], server: SocketAddr) -> anyhow::Result<()> {
    socket
        .send(bytes)
        .map(|_| ())
        .map_err(|e| unreachable(e, server))
}

fn unreachable(e: io::Error, server: SocketAddr) -> anyhow::Error {
    let err = anyhow::Error::from(e).context(format!("no DNS server answers at {server}"));
    Err::<(), _>(err)
        .hint("is a resolver listening there? (dnsmasq --port=PORT --listen-address=ADDR)")
        .unwrap_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_covers_both_families() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "::", "0.0.0.0", "fe80::1"] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn silent_server_is_an_error_after_the_timeout() {
        // A bound UDP socket that never answers.
        let quiet = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = quiet.local_addr().unwrap();
        let err = server("shop.test", addr, Duration::from_millis(200)).unwrap_err();
        assert!(err.to_string().contains("no answer"), "{err}");
    }
}
