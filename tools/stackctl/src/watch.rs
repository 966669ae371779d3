//! `stackctl watch`: a loop that reports state changes of projects and
//! services, keeps the registry true, and with --restart brings back failed
//! services of projects meant to run, with exponential backoff.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::time::{Duration, Instant};

use berth::cli::{Outcome, warn};
use berth::{Status, Timestamp};
use bollard::Docker;
use serde::Serialize;

use crate::status::{correct, states_from};
use crate::{TOOL, registry, select};

/// Report state changes; with --restart, restart failed services.
///
/// Every --interval seconds one engine query gives the state of every
/// watched project's containers; each change is printed (a line, or one JSON
/// object per line with --json) and stale registry statuses are corrected.
/// With --restart, a service of a project recorded as running (or error) whose
/// container exited, died or turned unhealthy is started again; a service
/// that keeps failing is retried after 1, 2, 4, ... intervals (at most 5
/// minutes). Runs until interrupted, or for --iterations rounds.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these projects (default: every registered project).
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// Restart failed services of projects meant to run.
    #[arg(long)]
    restart: bool,
    /// How long between looks (e.g. 5s, 1m; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = berth::duration::parse)]
    interval: Duration,
    /// Stop after N looks (default: run until interrupted).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,
    /// One look, then exit (same as --iterations 1).
    #[arg(long, conflicts_with = "iterations")]
    once: bool,
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

/// One thing that changed, or that watch did.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
struct Event {
    time: Timestamp,
    project: String,
    /// Empty for the project's own status.
    service: String,
    from: String,
    to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

fn emit(json: bool, e: &Event) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, e)?;
        out.write_all(b"\n")?;
    } else {
        let who = if e.service.is_empty() {
            e.project.clone()
        } else {
            format!("{}/{}", e.project, e.service)
        };
        let detail = e
            .detail
            .as_ref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {who}: {} -> {}{detail}",
            e.time.strftime("%H:%M:%S"),
            e.from,
            e.to
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Retry bookkeeping of one service.
struct Backoff {
    attempts: u32,
    next: Instant,
    last: Instant,
}

const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A restarted service that stays up this long is forgiven its failures.
const FORGIVE_AFTER: Duration = Duration::from_secs(60);

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let reg = registry()?;
    if !a.names.is_empty() {
        select(&reg.load()?, &a.names)?;
    }
    let rounds = if a.once { Some(1) } else { a.iterations };
    let rt = berth::docker::runtime()?;
    rt.block_on(async {
        let docker = crate::engine::connect().await?;
        let mut seen: HashMap<(String, String), String> = HashMap::new();
        let mut seen_status: HashMap<String, Status> = HashMap::new();
        let mut backoff: HashMap<(String, String), Backoff> = HashMap::new();
        let mut round = 0u64;
        loop {
            round += 1;
            let all = reg.load()?;
            let projects = if a.names.is_empty() {
                all
            } else {
                all.into_iter()
                    .filter(|p| a.names.contains(&p.name))
                    .collect()
            };
            let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
            let containers = if names.is_empty() {
                Ok(Vec::new())
            } else {
                berth::docker::project_containers(&docker, &names).await
            };
            match containers {
                Err(e) if round == 1 => return Err(e),
                Err(e) => warn(TOOL, format!("{e:#}; trying again")),
                Ok(containers) => {
                    let states = states_from(&projects, &containers);
                    report(a.output.is_json(), &states, &mut seen, &mut seen_status)?;
                    correct(&reg, &states)?;
                    if a.restart {
                        restart_failed(a, &docker, &states, &mut backoff).await?;
                    }
                }
            }
            if rounds.is_some_and(|n| round >= n) {
                break;
            }
            tokio::time::sleep(a.interval).await;
        }
        Ok(Outcome::Clean)
    })
}

fn show_state(s: &crate::engine::ServiceState) -> String {
    match &s.health {
        Some(h) => format!("{} ({h})", s.state),
        None => s.state.clone(),
    }
}

fn report(
    json: bool,
    states: &[crate::status::ProjectState],
    seen: &mut HashMap<(String, String), String>,
    seen_status: &mut HashMap<String, Status>,
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let mut current: HashSet<(String, String)> = HashSet::new();
    for st in states {
        if seen_status.get(&st.name) != Some(&st.status) {
            let from = seen_status
                .insert(st.name.clone(), st.status)
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            emit(
                json,
                &Event {
                    time: now,
                    project: st.name.clone(),
                    service: String::new(),
                    from,
                    to: st.status.to_string(),
                    detail: st.reason.clone(),
                },
            )?;
        }
        for s in &st.services {
            let key = (st.name.clone(), s.service.clone());
            let state = show_state(s);
            current.insert(key.clone());
            if seen.get(&key) != Some(&state) {
                let from = seen
                    .insert(key, state.clone())
                    .unwrap_or_else(|| "-".to_owned());
                emit(
                    json,
                    &Event {
                        time: now,
                        project: st.name.clone(),
                        service: s.service.clone(),
                        from,
                        to: state,
                        detail: None,
                    },
                )?;
            }
        }
    }
    let gone: Vec<(String, String)> = seen
        .keys()
        .filter(|k| !current.contains(*k))
        .cloned()
        .collect();
    for key in gone {
        let from = seen.remove(&key).unwrap_or_default();
        emit(
            json,
            &Event {
                time: now,
                project: key.0,
                service: key.1,
                from,
                to: "gone".into(),
                detail: Some("its container was removed".into()),
            },
        )?;
    }
    Ok(())
}

async fn restart_failed(
    a: &Args,
    docker: &Docker,
    states: &[crate::status::ProjectState],
    backoff: &mut HashMap<(String, String), Backoff>,
) -> anyhow::Result<()> {
    let now = Instant::now();
    for st in states {
        if !matches!(st.recorded, Status::Running | Status::Error) {
            continue;
        }
        for s in &st.services {
            let key = (st.name.clone(), s.service.clone());
            let unhealthy = s.health.as_deref() == Some("unhealthy");
            let failed = unhealthy || s.failed() || s.state == "created";
            if !failed {
                if backoff
                    .get(&key)
                    .is_some_and(|b| now.duration_since(b.last) > FORGIVE_AFTER)
                {
                    backoff.remove(&key);
                }
                continue;
            }
            let b = backoff.entry(key).or_insert(Backoff {
                attempts: 0,
                next: now,
                last: now,
            });
            if now < b.next {
                continue;
            }
            b.attempts += 1;
            b.last = now;
            let wait = a
                .interval
                .max(Duration::from_secs(1))
                .saturating_mul(1 << (b.attempts - 1).min(16))
                .min(MAX_BACKOFF);
            b.next = now + wait;
            let result = if s.state == "running" {
                docker.restart_container(&s.container, None).await
            } else {
                docker.start_container(&s.container, None).await
            };
            let (to, detail) = match result {
                Ok(()) => (
                    "restarted".to_owned(),
                    format!(
                        "attempt {}, next no sooner than {}s",
                        b.attempts,
                        wait.as_secs()
                    ),
                ),
                Err(e) => (
                    "restart failed".to_owned(),
                    format!("attempt {}: {e}; next in {}s", b.attempts, wait.as_secs()),
                ),
            };
            emit(
                a.output.is_json(),
                &Event {
                    time: Timestamp::now(),
                    project: st.name.clone(),
                    service: s.service.clone(),
                    from: show_state(s),
                    to,
                    detail: Some(detail),
                },
            )?;
        }
    }
    Ok(())
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub(crate) fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("watch-event", berth::schema::of::<Event>())]
}
