//! Ports in use on this machine right now: listening TCP and bound UDP sockets
//! (from `sock_diag` netlink, else `/proc/net`), and the process behind a
//! socket when it can be known.

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

/// Every listening TCP socket and bound UDP socket: from the kernel's
/// `sock_diag` netlink interface, else from `/proc/net`; `None` where neither
/// can be read.
pub fn listeners() -> Option<Vec<Listener>> {
    diag::listeners().ok().or_else(proc_net_listeners)
}

/// [`listeners`] from the `/proc/net` tables.
fn proc_net_listeners() -> Option<Vec<Listener>> {
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

/// The sockets from `sock_diag` netlink, what `ss` reads. The TCP dump asks
/// for listening sockets only, so the kernel skips the table of connections
/// that every read of `/proc/net/tcp` walks (about a millisecond each here).
mod diag {
    use std::io::{self, Read as _, Write as _};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use rustix::net::{AddressFamily, SocketFlags, SocketType, ipproto, netlink};

    use super::Listener;
    use crate::model::Protocol;

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_DUMP: u16 = 0x300;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    /// `struct nlmsghdr`: length, type, flags, sequence, port id.
    const HEADER: usize = 16;
    /// `struct inet_diag_req_v2`: family, protocol, ext, pad, states, the socket id.
    const REQ: usize = 56;
    const AF_INET: u8 = AddressFamily::INET.as_raw() as u8;
    const AF_INET6: u8 = AddressFamily::INET6.as_raw() as u8;
    const IPPROTO_TCP: u8 = ipproto::TCP.as_raw().get() as u8;
    const IPPROTO_UDP: u8 = ipproto::UDP.as_raw().get() as u8;
    /// `TCPF_LISTEN`: the state-mask bit of `TCP_LISTEN` (10).
    const TCPF_LISTEN: u32 = 1 << 10;
    /// Every state (UDP sockets are bound, not listening).
    const ALL_STATES: u32 = u32::MAX;
    /// `struct inet_diag_msg`: family, state, timer, retrans, the socket id
    /// (ports, addresses, interface, cookie), expires, queues, uid, inode.
    const MSG: usize = 72;
    /// Offsets in `struct inet_diag_msg`: the source port (big-endian), the
    /// source address (16 bytes, IPv4 in the first 4), the inode.
    const SPORT: usize = 4;
    const SRC: usize = 8;
    const INODE: usize = 68;

    pub fn listeners() -> io::Result<Vec<Listener>> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            Some(netlink::SOCK_DIAG),
        )?;
        let mut sock = std::fs::File::from(fd);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        let dumps = [
            (AF_INET, IPPROTO_TCP, TCPF_LISTEN, Protocol::Tcp),
            (AF_INET6, IPPROTO_TCP, TCPF_LISTEN, Protocol::Tcp),
            (AF_INET, IPPROTO_UDP, ALL_STATES, Protocol::Udp),
            (AF_INET6, IPPROTO_UDP, ALL_STATES, Protocol::Udp),
        ];
        for (seq, (family, proto, states, protocol)) in (1u32..).zip(dumps) {
            sock.write_all(&request(seq, family, proto, states))?;
            'dump: loop {
                let n = sock.read(&mut buf)?;
                let mut at = 0;
                while at + HEADER <= n {
                    let len = u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default());
                    let len = usize::try_from(len).unwrap_or(0);
                    let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
                    if len < HEADER || at + len > n {
                        return Err(io::Error::other("sock_diag: a truncated message"));
                    }
                    let body = &buf[at + HEADER..at + len];
                    match kind {
                        NLMSG_DONE => break 'dump,
                        NLMSG_ERROR => {
                            let errno = body.get(..4).map_or(0, |b| {
                                i32::from_ne_bytes(b.try_into().unwrap_or_default())
                            });
                            return Err(io::Error::from_raw_os_error(-errno));
                        }
                        SOCK_DIAG_BY_FAMILY => out.extend(parse(body, protocol)),
                        _ => {}
                    }
                    at += len.next_multiple_of(4);
                }
                if n == 0 {
                    return Err(io::Error::other("sock_diag: the dump ended early"));
                }
            }
        }
        Ok(out)
    }

    /// A `SOCK_DIAG_BY_FAMILY` dump request (`struct inet_diag_req_v2`).
    fn request(seq: u32, family: u8, proto: u8, states: u32) -> Vec<u8> {
        let len = HEADER + REQ;
        let mut m = Vec::with_capacity(len);
        m.extend_from_slice(&u32::try_from(len).unwrap_or_default().to_ne_bytes());
        m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[family, proto, 0, 0]);
        m.extend_from_slice(&states.to_ne_bytes());
        m.resize(len, 0); // the socket id: zero, any
        m
    }

    /// One `struct inet_diag_msg`.
    fn parse(body: &[u8], protocol: Protocol) -> Option<Listener> {
        if body.len() < MSG {
            return None;
        }
        let port = u16::from_be_bytes([body[SPORT], body[SPORT + 1]]);
        let src: [u8; 16] = body[SRC..SRC + 16].try_into().ok()?;
        let ip = match body[0] {
            AF_INET => IpAddr::V4(Ipv4Addr::new(src[0], src[1], src[2], src[3])),
            AF_INET6 => {
                let v6 = Ipv6Addr::from(src);
                v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
            }
            _ => return None,
        };
        let inode = u32::from_ne_bytes(body[INODE..INODE + 4].try_into().ok()?);
        (port != 0).then_some(Listener {
            ip,
            port,
            protocol,
            inode: u64::from(inode),
        })
    }
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
    fn sock_diag_and_proc_net_see_the_same_sockets() {
        let tcp4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp6 = TcpListener::bind("[::1]:0").ok();
        let udp = UdpSocket::bind("127.0.0.2:0").unwrap();
        let Ok(diag) = diag::listeners() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "sock_diag fails under CI"
            );
            return; // netlink refused here (a sandbox): /proc/net serves
        };
        let proc = proc_net_listeners().unwrap();
        let mine = |l: &&Listener| {
            [Some(&tcp4), tcp6.as_ref()]
                .iter()
                .flatten()
                .any(|t| t.local_addr().unwrap().port() == l.port)
                || udp.local_addr().unwrap().port() == l.port
        };
        let mut a: Vec<&Listener> = diag.iter().filter(mine).collect();
        let mut b: Vec<&Listener> = proc.iter().filter(mine).collect();
        a.sort_by_key(|l| (l.port, l.inode));
        b.sort_by_key(|l| (l.port, l.inode));
        assert_eq!(a, b);
        assert_eq!(a.len(), 2 + usize::from(tcp6.is_some()), "{a:?}");
        let t4 = a
            .iter()
            .find(|l| l.port == tcp4.local_addr().unwrap().port())
            .unwrap();
        assert_eq!(
            (t4.ip, t4.protocol),
            ("127.0.0.1".parse().unwrap(), Protocol::Tcp)
        );
        assert!(
            a.iter()
                .any(|l| l.protocol == Protocol::Udp
                    && l.ip == "127.0.0.2".parse::<IpAddr>().unwrap())
        );
    }

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
