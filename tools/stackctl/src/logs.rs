//! `stackctl logs`: the containers' logs through the engine, each line
//! prefixed with its service.

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
/// Without --follow, each service's logs in turn; with --follow, the lines
/// of every service as they come, until interrupted.
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
}

fn options(follow: bool, tail: Option<u32>) -> LogsOptions {
    LogsOptions {
        follow,
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
                        docker
                            .logs(&s.container, Some(options(true, a.tail)))
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
            for s in &services {
                let mut pf = Prefixer {
                    prefix: prefix(&s.service),
                    partial: Vec::new(),
                };
                let mut logs = docker.logs(&s.container, Some(options(false, a.tail)));
                while let Some(chunk) = logs.next().await {
                    let chunk = chunk
                        .with_context(|| format!("cannot read the logs of {}", s.container))?;
                    pf.feed(bytes(&chunk), &mut out)?;
                }
                pf.finish(&mut out)?;
            }
        }
        out.flush()?;
        Ok(Outcome::Clean)
    })
}

/// The last lines of a container's logs as `: a / b / c`, for an error
/// message; empty when there are none or they cannot be read.
pub async fn tail_text(docker: &Docker, container: &str, n: u32) -> String {
    let mut logs = docker.logs(container, Some(options(false, Some(n))));
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
