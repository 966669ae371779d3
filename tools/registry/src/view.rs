//! How projects are shown: table rows, the one-project view, JSON.

use berth::Project;
use berth::io::{self, Format, Row};
use berth::table;
use serde::Serialize;

/// A project as a table row.
#[derive(Serialize)]
#[serde(transparent)]
struct ProjectRow<'a>(&'a Project);

impl Row for ProjectRow<'_> {
    fn headers() -> &'static [&'static str] {
        &[
            "name", "domain", "port", "status", "stack", "services", "path",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let p = self.0;
        vec![
            p.name.clone(),
            p.domain.clone(),
            p.port.map(|p| p.to_string()).unwrap_or_default(),
            table::paint_status(p.status.as_str()),
            p.stack.clone().unwrap_or_default(),
            p.services.join(","),
            p.path.display().to_string(),
        ]
    }
}

pub fn write_projects(format: Format, projects: &[Project]) -> anyhow::Result<()> {
    let rows: Vec<ProjectRow<'_>> = projects.iter().map(ProjectRow).collect();
    io::write_list(format, &rows)
}

/// One project: JSON object, or a vertical field/value table.
pub fn write_project(format: Format, p: &Project) -> anyhow::Result<()> {
    if format != Format::Table {
        return io::write_one(format, &ProjectRow(p));
    }
    let time = |t: Option<berth::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    let ports: Vec<String> = p
        .service_ports
        .iter()
        .map(|b| {
            let published = b.published.map_or_else(|| "*".into(), |p| p.to_string());
            format!(
                "{}: {}:{}->{}/{}",
                b.service, b.host_ip, published, b.target, b.protocol
            )
        })
        .collect();
    let env: Vec<String> = p.environment.keys().cloned().collect();
    let rows = vec![
        vec!["name".into(), p.name.clone()],
        vec!["path".into(), p.path.display().to_string()],
        vec!["domain".into(), p.domain.clone()],
        vec![
            "port".into(),
            p.port.map(|p| p.to_string()).unwrap_or_default(),
        ],
        vec!["stack".into(), p.stack.clone().unwrap_or_default()],
        vec!["status".into(), table::paint_status(p.status.as_str())],
        vec![
            "compose files".into(),
            p.compose_files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        ],
        vec!["services".into(), p.services.join(", ")],
        vec!["service ports".into(), ports.join("\n")],
        vec![
            "exposed ports".into(),
            p.exposed_ports
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ],
        vec!["environment".into(), env.join(", ")],
        vec!["registered at".into(), time(p.registered_at)],
        vec!["last started".into(), time(p.last_started)],
        vec!["last updated".into(), time(p.last_updated)],
    ];
    let mut out = io::stdout();
    std::io::Write::write_all(
        &mut out,
        table::render(&["field", "value"], rows).as_bytes(),
    )?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}
