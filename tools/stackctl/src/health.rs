//! `stackctl health`: an HTTP GET of the project's app on its port, with
//! retries. A few lines of HTTP/1.1 over a TCP stream are all it takes.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use berth::cli::{Outcome, error_with_hint};
use serde::Serialize;

use crate::{registry, select};

/// Check that the project's app answers HTTP: exit 0 healthy, 1 not.
///
/// GETs http://127.0.0.1:PORT/PATH (PORT is the project's registered HTTP
/// port) until it answers with a status below 400, up to --retries more
/// times, --interval apart.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project.
    name: String,
    /// The path to GET.
    #[arg(long, default_value = "/")]
    path: String,
    /// Further tries after the first.
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// How long between tries (e.g. 1s, 200ms; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = berth::duration::parse)]
    interval: Duration,
    /// How long one try may take (e.g. 5s; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = berth::duration::parse)]
    timeout: Duration,
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Answer {
    name: String,
    url: String,
    healthy: bool,
    status: Option<u16>,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    elapsed_ms: u128,
}

/// GET once; the status code, or why there is none.
pub(crate) fn get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> Result<u16, String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: stackctl\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status(&head)
}

/// The status code of an HTTP/1.x status line.
fn parse_status(head: &[u8]) -> Result<u16, String> {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code
            .parse()
            .map_err(|_| format!("bad status line: {}", line.trim())),
        _ if head.is_empty() => Err("the connection closed without an answer".into()),
        _ => Err(format!("not an HTTP answer: {}", line.trim())),
    }
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    let projects = reg.load()?;
    let p = select(&projects, std::slice::from_ref(&a.name))?.remove(0);
    let Some(port) = p.port else {
        return Err(error_with_hint(
            format!("project '{}' has no HTTP port in the registry", p.name),
            format!(
                "give it one: registry remove {0} --yes && registry add PATH --name {0} --port PORT",
                p.name
            ),
        ));
    };
    if !a.path.starts_with('/') || a.path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(error_with_hint(
            format!(
                "--path '{}' is not an absolute URL path",
                a.path.escape_debug()
            ),
            "e.g. --path /health",
        ));
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let host = format!("127.0.0.1:{port}");
    let began = Instant::now();
    let mut attempts = 0;
    let (status, error) = loop {
        attempts += 1;
        let r = get(addr, &host, &a.path, a.timeout);
        let done = matches!(r, Ok(code) if code < 400) || attempts > a.retries;
        if done {
            break match r {
                Ok(code) if code < 400 => (Some(code), None),
                Ok(code) => (Some(code), Some(format!("answered {code}"))),
                Err(e) => (None, Some(e)),
            };
        }
        std::thread::sleep(a.interval);
    };
    let answer = Answer {
        name: p.name.clone(),
        url: format!("http://{host}{}", a.path),
        healthy: error.is_none(),
        status,
        attempts,
        error,
        elapsed_ms: began.elapsed().as_millis(),
    };
    if a.output.is_json() {
        berth::io::write_json(&answer)?;
    } else {
        match &answer.error {
            None => berth::info!(
                "{}: healthy: {} answered {} (try {})",
                answer.name,
                answer.url,
                answer.status.unwrap_or_default(),
                attempts
            ),
            Some(e) => eprintln!(
                "{}: not healthy: {}: {e} (after {attempts} tries)",
                answer.name, answer.url
            ),
        }
    }
    Ok(if answer.healthy {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("health", berth::schema::of::<Answer>())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.0 200 OK\r\n"), Ok(200));
        assert_eq!(
            parse_status(b"HTTP/1.1 503 Service Unavailable\r\n"),
            Ok(503)
        );
        assert!(parse_status(b"").is_err());
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n").is_err());
    }

    #[test]
    fn real_server_answers() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        });
        assert_eq!(get(addr, "x", "/", Duration::from_secs(2)), Ok(204));
    }
}
