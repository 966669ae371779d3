//! The registry of projects: one JSON file in the data folder, read freely,
//! changed under the store's lock.

use std::io::Write;

use anyhow::bail;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::model::{Project, ProjectPorts};
use crate::paths::Paths;
use crate::store::JsonFile;

/// Version of the registry file format.
pub const FORMAT_VERSION: u32 = 1;

/// What the registry file holds: `{"version": 1, "projects": [...]}`, the
/// projects sorted by name.
#[derive(Debug, Serialize, Deserialize)]
pub struct RegistryFile<P = Project> {
    #[serde(default)]
    pub version: u32,
    #[serde(default = "Vec::new")]
    pub projects: Vec<P>,
}

impl<P> Default for RegistryFile<P> {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            projects: Vec::new(),
        }
    }
}

/// The registry file with each project left as its raw JSON text.
type RawFile<'a> = RegistryFile<&'a RawValue>;

/// Access to the registry of one berth installation.
#[derive(Debug, Clone)]
pub struct Registry {
    file: JsonFile,
}

impl Registry {
    pub fn open(paths: &Paths) -> Self {
        Self {
            file: JsonFile::new(paths.registry()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// Every project, sorted by name.
    pub fn load(&self) -> anyhow::Result<Vec<Project>> {
        let file: RegistryFile = self.file.read()?.unwrap_or_default();
        check_version(file.version, self)?;
        Ok(file.projects)
    }

    /// Every project's port fields only: several times cheaper than [`Registry::load`].
    pub fn load_ports(&self) -> anyhow::Result<Vec<ProjectPorts>> {
        let file: RegistryFile<ProjectPorts> = self.file.read()?.unwrap_or_default();
        check_version(file.version, self)?;
        Ok(file.projects)
    }

    /// Write every project as a JSON array (or NDJSON) straight from the
    /// file's bytes, checked but not decoded into models.
    pub fn write_raw(&self, out: &mut impl Write, ndjson: bool) -> anyhow::Result<()> {
        let bytes = self.file.read_bytes()?.unwrap_or_default();
        let file: RawFile<'_> = if bytes.is_empty() {
            RawFile::default()
        } else {
            self.file.parse(&bytes)?
        };
        check_version(file.version, self)?;
        if ndjson {
            for p in &file.projects {
                out.write_all(p.get().as_bytes())?;
                out.write_all(b"\n")?;
            }
            return Ok(());
        }
        out.write_all(b"[")?;
        for (i, p) in file.projects.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(p.get().as_bytes())?;
        }
        out.write_all(b"]\n")?;
        Ok(())
    }

    /// Add projects without decoding the registered ones: `admit` sees
    /// their names, paths and ports ([`Registered`]) and returns the projects
    /// to insert; the registered projects' JSON is copied through unchanged.
    pub fn add_with<R>(
        &self,
        admit: impl FnOnce(&Registered<'_>) -> anyhow::Result<(Vec<Project>, R)>,
    ) -> anyhow::Result<R> {
        self.file.update_bytes(|bytes| {
            let bytes = bytes.unwrap_or_default();
            // Not in the layout berth writes (edited by hand?): parse it whole.
            let registered = if let Some(r) = Registered::from_lines(bytes) {
                r
            } else {
                let file: RawFile<'_> = if bytes.is_empty() {
                    RawFile::default()
                } else {
                    self.file.parse(bytes)?
                };
                check_version(file.version, self)?;
                Registered::from_raws(file.projects.iter().map(|r| r.get()).collect()).map_err(
                    |e| {
                        anyhow::anyhow!("{e}")
                            .context(format!("{} is corrupt", self.path().display()))
                    },
                )?
            };
            let (mut added, result) = admit(&registered)?;
            added.sort_by(|a, b| a.name.cmp(&b.name));
            let new: Vec<(String, String)> = added
                .iter()
                .map(|p| Ok((p.name.clone(), serde_json::to_string(p)?)))
                .collect::<anyhow::Result<_>>()?;
            let mut merged: Vec<&str> = Vec::with_capacity(registered.raws.len() + new.len());
            let mut pending = new.iter().peekable();
            for (summary, raw) in registered.summaries.iter().zip(&registered.raws) {
                while let Some((_, json)) =
                    pending.next_if(|(n, _)| n.as_str() < summary.name.as_ref())
                {
                    merged.push(json);
                }
                merged.push(raw);
            }
            merged.extend(pending.map(|(_, json)| json.as_str()));
            Ok((Some(encode(&merged)), result))
        })
    }

    /// Change the projects under the lock; `change` returns `(write, result)`.
    /// Projects are kept sorted by name.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut Vec<Project>) -> anyhow::Result<(bool, R)>,
    ) -> anyhow::Result<R> {
        self.file.update_bytes(|bytes| {
            let mut file: RegistryFile = match bytes {
                Some(b) => self.file.parse(b)?,
                None => RegistryFile::default(),
            };
            check_version(file.version, self)?;
            let (write, r) = change(&mut file.projects)?;
            if !write {
                return Ok((None, r));
            }
            file.projects.sort_by(|a, b| a.name.cmp(&b.name));
            let json: Vec<String> = file
                .projects
                .iter()
                .map(serde_json::to_string)
                .collect::<Result<_, _>>()?;
            Ok((Some(encode(&json)), r))
        })
    }
}

/// The start of the registry file as berth writes it: one project a line.
const HEAD: &str = "{\"version\":1,\"projects\":[\n";
const TAIL: &str = "\n]}\n";

/// Lay the registry file out one project a line (still one JSON document),
/// so that adding a project splits lines instead of parsing the array.
fn encode<S: AsRef<str>>(projects: &[S]) -> Vec<u8> {
    let size = projects.iter().map(|p| p.as_ref().len() + 2).sum::<usize>();
    let mut out = String::with_capacity(HEAD.len() + size + TAIL.len());
    out.push_str(HEAD);
    for (i, p) in projects.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str(p.as_ref());
    }
    out.push_str(TAIL);
    out.into_bytes()
}

/// What `registry add` needs of a registered project.
#[derive(Debug, Deserialize)]
pub struct ProjectSummary<'a> {
    #[serde(borrow)]
    pub name: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    pub path: std::borrow::Cow<'a, str>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub exposed_ports: Vec<u16>,
}

/// The registered projects as `add` sees them: summaries, and each one's raw
/// JSON for the full port list when it is needed.
pub struct Registered<'a> {
    pub summaries: Vec<ProjectSummary<'a>>,
    raws: Vec<&'a str>,
}

impl<'a> Registered<'a> {
    /// Split a file in berth's layout; `None` when it is not in that layout.
    fn from_lines(bytes: &'a [u8]) -> Option<Self> {
        if bytes.is_empty() {
            return Some(Self {
                summaries: Vec::new(),
                raws: Vec::new(),
            });
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let body = text.strip_prefix(HEAD)?.strip_suffix(TAIL)?;
        let raws: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split(",\n").collect()
        };
        Self::from_raws(raws).ok()
    }

    fn from_raws(raws: Vec<&'a str>) -> Result<Self, serde_json::Error> {
        let summaries = raws
            .iter()
            .map(|r| serde_json::from_str(r))
            .collect::<Result<_, _>>()?;
        Ok(Self { summaries, raws })
    }

    /// The full port fields of the project at `index`.
    pub fn ports_of(&self, index: usize) -> anyhow::Result<ProjectPorts> {
        Ok(serde_json::from_str(self.raws[index])?)
    }
}

fn check_version(version: u32, reg: &Registry) -> anyhow::Result<()> {
    if version > FORMAT_VERSION {
        bail!(
            "{} has format version {version}, newer than this berth understands ({FORMAT_VERSION}); upgrade berth",
            reg.path().display(),
        );
    }
    Ok(())
}

/// Find a project by name, with an error that names it and a hint.
pub fn find<'a>(projects: &'a [Project], name: &str) -> anyhow::Result<&'a Project> {
    projects
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| not_found(name))
}

/// Mutable variant of [`find`].
pub fn find_mut<'a>(projects: &'a mut [Project], name: &str) -> anyhow::Result<&'a mut Project> {
    projects
        .iter_mut()
        .find(|p| p.name == name)
        .ok_or_else(|| not_found(name))
}

fn not_found(name: &str) -> anyhow::Error {
    crate::cli::error_with_hint(
        format!("no project named '{name}' in the registry"),
        "see `registry list` for the names",
    )
}

impl crate::claims::Claimant for ProjectSummary<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn status(&self) -> crate::model::Status {
        crate::model::Status::Unknown
    }
    fn http_port(&self) -> Option<u16> {
        self.port
    }
    fn service_ports(&self) -> &[crate::model::PortBinding] {
        &[]
    }
    fn exposed_ports(&self) -> &[u16] {
        &self.exposed_ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str, port: u16) -> Project {
        Project {
            name: name.into(),
            port: Some(port),
            exposed_ports: vec![port],
            ..Project::default()
        }
    }

    #[test]
    fn add_splices_in_name_order_and_the_file_stays_one_json_document() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&Paths::in_folder(dir.path()));
        reg.update(|ps| {
            ps.extend([project("b", 5001), project("d", 5003)]);
            Ok((true, ()))
        })
        .unwrap();
        reg.add_with(|r| {
            assert_eq!(
                r.summaries
                    .iter()
                    .map(|s| s.name.as_ref())
                    .collect::<Vec<_>>(),
                ["b", "d"]
            );
            assert_eq!(r.ports_of(1).unwrap().port, Some(5003));
            Ok((
                vec![project("e", 5004), project("a", 5000), project("c", 5002)],
                (),
            ))
        })
        .unwrap();
        let names: Vec<String> = reg.load().unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        let text = std::fs::read_to_string(reg.path()).unwrap();
        assert_eq!(text.lines().count(), 7, "one project a line:\n{text}");
    }

    #[test]
    fn add_reads_a_registry_edited_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&Paths::in_folder(dir.path()));
        std::fs::write(
            reg.path(),
            "{ \"projects\": [\n  { \"name\": \"z\",\n \"port\": 5009 } ],\n \"version\": 1 }",
        )
        .unwrap();
        reg.add_with(|r| {
            assert_eq!(r.summaries[0].port, Some(5009));
            Ok((vec![project("a", 5000)], ()))
        })
        .unwrap();
        assert_eq!(reg.load().unwrap().len(), 2);
    }
}
