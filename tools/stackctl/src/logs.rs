//! `stackctl logs`: the containers' logs through the engine, each line
//! prefixed with its service, the services interleaved in time order.

use std::collections::VecDeque;
use std::io::Write as _;

use anyhow::Context as _;
use berth::cli::{Outcome, error_with_hint};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt as _;
use futures_util::stream::{self, BoxStream};

use crate::{engine, registry, select};

/// Print the logs of a project's containers, prefixed `service | `.
///
/// The lines of every service are interleaved in time order (by the
/// engine's timestamps, shown with --timestamps); with --follow, new lines
/// as they come, until interrupted.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project.
    name: String,
    /// Only this service.
    #[arg(long, short, value_name = "SERVICE")]
    service: Option<String>,
    /// Keep printing new lines until interrupted.
    #[arg(long, short)]
    follow: bool,
    /// Only the last N lines of each container.
    #[arg(long, short = 'n', value_name = "N")]
    tail: Option<u32>,
    /// Show each line's time (RFC 3339, from the engine).
    #[arg(long, short)]
    timestamps: bool,
}

fn options(follow: bool, tail: Option<u32>) -> LogsOptions {
    LogsOptions {
        follow,
        timestamps: !follow,
        stdout: true,
        stderr: true,
        tail: tail.map_or_else(|| "all".to_owned(), |n| n.to_string()),
        ..LogsOptions::default()
    }
}

fn bytes(o: &LogOutput) -> &[u8] {
    match o {
        LogOutput::StdErr { message }
        | LogOutput::StdOut { message }
        | LogOutput::StdIn { message }
        | LogOutput::Console { message } => message,
    }
}

/// Splits chunks into lines and prefixes each complete line.
struct Prefixer {
    prefix: String,
    partial: Vec<u8>,
}

impl Prefixer {
    fn feed(&mut self, chunk: &[u8], out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.partial.extend_from_slice(chunk);
        while let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            out.write_all(self.prefix.as_bytes())?;
            out.write_all(&line)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        if !self.partial.is_empty() {
            out.write_all(self.prefix.as_bytes())?;
            out.write_all(&self.partial)?;
            out.write_all(b"\n")?;
            self.partial.clear();
        }
        Ok(())
    }
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    let projects = reg.load()?;
    let p = select(&projects, std::slice::from_ref(&a.name))?.remove(0);
    let rt = berth::docker::runtime()?;
    rt.block_on(async {
        let docker = crate::engine::connect().await?;
        let containers = berth::docker::project_containers(&docker, &[p.name.as_str()]).await?;
        let mut services = engine::services_of(&containers, &p.name);
        if let Some(s) = &a.service {
            services.retain(|c| &c.service == s);
            if services.is_empty() {
                let known: Vec<String> = engine::services_of(&containers, &p.name)
                    .into_iter()
                    .map(|c| c.service)
                    .collect();
                return Err(error_with_hint(
                    format!("project '{}' has no container for service '{s}'", p.name),
                    if known.is_empty() {
                        format!("start it first: stackctl start {}", p.name)
                    } else {
                        format!("its services with containers: {}", known.join(", "))
                    },
                ));
            }
        }
        if services.is_empty() {
            return Err(error_with_hint(
                format!("project '{}' has no containers", p.name),
                format!("start it first: stackctl start {}", p.name),
            ));
        }
        let width = services.iter().map(|s| s.service.len()).max().unwrap_or(0);
        let prefix = |s: &str| format!("{s:<width$} | ");
        let mut out = berth::io::stdout();
        if a.follow {
            let streams: Vec<BoxStream<'_, (usize, Result<LogOutput, bollard::errors::Error>)>> =
                services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let opts = LogsOptions {
                            timestamps: a.timestamps,
                            ..options(true, a.tail)
                        };
                        docker
                            .logs(&s.container, Some(opts))
                            .map(move |r| (i, r))
                            .boxed()
                    })
                    .collect();
            let mut prefixers: Vec<Prefixer> = services
                .iter()
                .map(|s| Prefixer {
                    prefix: prefix(&s.service),
                    partial: Vec::new(),
                })
                .collect();
            let mut all = stream::select_all(streams);
            while let Some((i, chunk)) = all.next().await {
                let chunk = chunk.with_context(|| {
                    format!("cannot read the logs of {}", services[i].container)
                })?;
                prefixers[i].feed(bytes(&chunk), &mut out)?;
                out.flush()?;
            }
            for pf in &mut prefixers {
                pf.finish(&mut out)?;
            }
        } else {
            merged(&docker, &services, a, &prefix, &mut out).await?;
        }
        out.flush()?;
        Ok(Outcome::Clean)
    })
}

/// Every service's lines so far, merged in time order (each stream is in
/// order, so a merge of the streams' heads is enough; nothing is held).
async fn merged(
    docker: &Docker,
    services: &[engine::ServiceState],
    a: &Args,
    prefix: &dyn Fn(&str) -> String,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let mut sources: Vec<Lines<'_>> = services
        .iter()
        .map(|s| Lines {
            stream: docker
                .logs(&s.container, Some(options(false, a.tail)))
                .boxed(),
            partial: Vec::new(),
            ready: VecDeque::new(),
            done: false,
        })
        .collect();
    let mut heads: Vec<Option<Timed>> = Vec::with_capacity(sources.len());
    for (i, src) in sources.iter_mut().enumerate() {
        heads.push(src.next(&services[i].container).await?);
    }
    // Each stream is in time order: a merge puts them all in order.
    while let Some(i) = (0..heads.len())
        .filter(|i| heads[*i].is_some())
        .min_by(|x, y| {
            heads[*x]
                .as_ref()
                .map(|h| &h.key)
                .cmp(&heads[*y].as_ref().map(|h| &h.key))
        })
    {
        let Some(line) = heads[i].take() else { break };
        out.write_all(prefix(&services[i].service).as_bytes())?;
        if a.timestamps && !line.time.is_empty() {
            out.write_all(line.time.as_bytes())?;
            out.write_all(b" ")?;
        }
        out.write_all(&line.text)?;
        out.write_all(b"\n")?;
        heads[i] = sources[i].next(&services[i].container).await?;
    }
    Ok(())
}

/// A log line with the engine's timestamp.
struct Timed {
    /// The timestamp with its fraction padded to nanoseconds, so that text
    /// order is time order (the engine trims trailing zeros).
    key: String,
    time: String,
    text: Vec<u8>,
}

/// Split `2026-12-01T22:25:06.1Z` into a sortable key.
fn sort_key(time: &str) -> String {
    let Some(body) = time.strip_suffix('Z') else {
        return time.to_owned();
    };
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    format!("{secs}.{frac:0<9}Z")
}

/// The timestamped lines of one container's log stream, in order.
struct Lines<'a> {
    stream: BoxStream<'a, Result<LogOutput, bollard::errors::Error>>,
    partial: Vec<u8>,
    ready: VecDeque<Vec<u8>>,
    done: bool,
}

impl Lines<'_> {
    async fn next(&mut self, container: &str) -> anyhow::Result<Option<Timed>> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Ok(Some(timed(line)));
            }
            if self.done {
                if self.partial.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(timed(std::mem::take(&mut self.partial))));
            }
            match self.stream.next().await {
                Some(chunk) => {
                    let chunk =
                        chunk.with_context(|| format!("cannot read the logs of {container}"))?;
                    self.partial.extend_from_slice(bytes(&chunk));
                    while let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
                        let mut line: Vec<u8> = self.partial.drain(..=i).collect();
                        line.pop();
                        self.ready.push_back(line);
                    }
                }
                None => self.done = true,
            }
        }
    }
}

/// A line as the engine sends it with timestamps: `TIME TEXT`.
fn timed(line: Vec<u8>) -> Timed {
    let space = line.iter().position(|b| *b == b' ');
    let time = space.map(|i| String::from_utf8_lossy(&line[..i]).into_owned());
    match time {
        Some(t) if t.len() >= 20 && t.as_bytes().get(4) == Some(&b'-') => Timed {
            key: sort_key(&t),
            text: line[t.len() + 1..].to_vec(),
            time: t,
        },
        _ => Timed {
            key: String::new(),
            time: String::new(),
            text: line,
        },
    }
}

/// The last lines of a container's logs as `: a / b / c`, for an error
/// message; empty when there are none or they cannot be read.
pub async fn tail_text(docker: &Docker, container: &str, n: u32) -> String {
    let opts = LogsOptions {
        timestamps: false,
        ..options(false, Some(n))
    };
    let mut logs = docker.logs(container, Some(opts));
    let mut text = Vec::new();
    while let Some(Ok(chunk)) = logs.next().await {
        text.extend_from_slice(bytes(&chunk));
    }
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("; its last log lines: {}", lines.join(" / "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_times() {
        assert!(sort_key("2026-12-01T22:25:06.1Z") > sort_key("2026-12-01T22:25:06.09Z"));
        assert!(sort_key("2026-12-01T22:25:06Z") < sort_key("2026-12-01T22:25:06.000000001Z"));
        let t = timed(b"2026-12-01T22:25:06.5Z hello world".to_vec());
        assert_eq!(t.time, "2026-12-01T22:25:06.5Z");
        assert_eq!(t.text, b"hello world");
        assert_eq!(timed(b"no time".to_vec()).text, b"no time");
    }
}
