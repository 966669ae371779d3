//! Ports in use on this machine right now: listening TCP and bound UDP sockets
//! from `/proc/net`, and the process behind a socket when it can be known.

use std::collections::HashMap;
use std::fs;
use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};

use crate::model::Protocol;

/// One socket bound on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub ip: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    inode: u64,
}

/// A process that holds a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub name: String,
}

/// Every listening TCP socket and bound UDP socket, or `None` where `/proc/net` is not readable.
pub fn listeners() -> Option<Vec<Listener>> {
    let mut out = Vec::new();
    let mut any = false;
    // Each read of a /proc/net table walks the socket table again (about a
    // millisecond here): one large buffer, not reads growing from 32 bytes.
    let mut text = String::with_capacity(256 << 10);
    for (file, protocol, v6) in [
        ("/proc/net/tcp", Protocol::Tcp, false),
        ("/proc/net/tcp6", Protocol::Tcp, true),
        ("/proc/net/udp", Protocol::Udp, false),
        ("/proc/net/udp6", Protocol::Udp, true),
    ] {
        text.clear();
        if fs::File::open(file)
            .and_then(|mut f| f.read_to_string(&mut text))
            .is_ok()
        {
            any = true;
            out.extend(parse_proc_net(&text, protocol, v6));
        }
    }
    any.then_some(out)
}

/// Parse one `/proc/net/{tcp,udp}{,6}` table.
fn parse_proc_net(text: &str, protocol: Protocol, v6: bool) -> impl Iterator<Item = Listener> + '_ {
    text.lines().skip(1).filter_map(move |line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            return None;
        }
        let state = f[3];
        // TCP: only LISTEN (0A). UDP: every bound socket.
        if protocol == Protocol::Tcp && state != "0A" {
            return None;
        }
        let (addr, port) = f[1].split_once(':')?;
        let port = u16::from_str_radix(port, 16).ok()?;
        if port == 0 {
            return None;
        }
        let ip = if v6 {
            parse_v6(addr)?
        } else {
            IpAddr::V4(parse_v4(addr)?)
        };
        Some(Listener {
            ip,
            port,
            protocol,
            inode: f[9].parse().ok()?,
        })
    })
}

fn parse_v4(hex: &str) -> Option<Ipv4Addr> {
    let n = u32::from_str_radix(hex, 16).ok()?;
    Some(Ipv4Addr::from(n.swap_bytes()))
}

fn parse_v6(hex: &str) -> Option<IpAddr> {
    if hex.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for word in 0..4 {
        let w = u32::from_str_radix(&hex[word * 8..word * 8 + 8], 16).ok()?;
        bytes[word * 4..word * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    let v6 = Ipv6Addr::from(bytes);
    // Show IPv4-mapped addresses as IPv4.
    Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
}

/// Whether a port is in use on this machine, for `protocol` on any address.
///
/// With a table from [`listeners`], looks it up. Without one (no `/proc/net`),
/// tries to bind the port on `::` (dual-stack, so a socket on any IPv4 or
/// IPv6 address holds it), or on `0.0.0.0` where IPv6 is off. Binding holds
/// the port for an instant: use the table where there is one.
pub fn in_use(port: u16, protocol: Protocol, table: Option<&[Listener]>) -> bool {
    if let Some(t) = table {
        return t.iter().any(|l| l.port == port && l.protocol == protocol);
    }
    let bind = |ip: IpAddr| match protocol {
        Protocol::Tcp => TcpListener::bind((ip, port)).map(drop),
        Protocol::Udp => UdpSocket::bind((ip, port)).map(drop),
    };
    match bind(IpAddr::V6(Ipv6Addr::UNSPECIFIED)) {
        Ok(()) => false,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => true,
        // No IPv6 here.
        Err(_) => bind(IpAddr::V4(Ipv4Addr::UNSPECIFIED)).is_err(),
    }
}

/// Map socket inodes to the processes holding them, for the inodes asked about.
///
/// Reads `/proc/*/fd`; processes of other users are invisible without root.
pub fn owners(listeners: &[&Listener]) -> HashMap<u64, Owner> {
    let mut wanted: HashMap<String, u64> = listeners
        .iter()
        .filter(|l| l.inode != 0)
        .map(|l| (format!("socket:[{}]", l.inode), l.inode))
        .collect();
    let mut found = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in procs.flatten() {
        if wanted.is_empty() {
            break;
        }
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            if let Some(inode) = target.to_str().and_then(|t| wanted.remove(t)) {
                let name = fs::read_to_string(entry.path().join("comm"))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default();
                found.insert(inode, Owner { pid, name });
            }
        }
    }
    found
}

impl Listener {
    pub fn inode(&self) -> u64 {
        self.inode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1539 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn a_bind_probe_sees_listeners_on_any_address() {
        for addr in ["127.0.0.1:0", "[::1]:0", "0.0.0.0:0"] {
            let Ok(l) = TcpListener::bind(addr) else {
                continue; // no IPv6 here
            };
            let port = l.local_addr().unwrap().port();
            assert!(in_use(port, Protocol::Tcp, None), "{addr}");
            drop(l);
            assert!(!in_use(port, Protocol::Tcp, None), "{addr} after close");
        }
    }

    #[test]
    fn parses_listening_sockets_only() {
        let l: Vec<_> = parse_proc_net(TCP, Protocol::Tcp, false).collect();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(l[0].port, 5432);
        assert_eq!(l[0].inode, 12345);
        let l6: Vec<_> = parse_proc_net(TCP6, Protocol::Tcp, true).collect();
        assert_eq!(l6[0].ip, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(l6[0].port, 8080);
    }

    #[test]
    fn sees_a_real_listener_and_its_process() {
        let sock = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let table = listeners().expect("/proc/net is readable on Linux");
        assert!(in_use(port, Protocol::Tcp, Some(&table)));
        let mine: Vec<&Listener> = table.iter().filter(|l| l.port == port).collect();
        let owners = owners(&mine);
        assert_eq!(
            owners.get(&mine[0].inode).map(|o| o.pid),
            Some(std::process::id())
        );
    }
}
