//! `plan`: what `apply` would change, service by service: the desired state
//! (the project's compose files as compose merges them, with the
//! environment `start` gives compose) against the containers the engine has
//! (their `berth.config-hash` label and state), the old side of each changed
//! field from what apply or start recorded. Also the berth-owned compose
//! file that puts the hash label on the containers, and that record.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::Project;
use berth::cli::Outcome;
use berth::compose::{self, Compose};
use berth::docker::ContainerInfo;
use berth::model::Plan;
use berth::model::plan::{self, Actual, Applied, Desired, Record, Secrets};
use berth::paths::Paths;
use berth::stackfile::{CONFIG_HASH_LABEL, config_hash};
use yaml_serde::Value;

use crate::{lifecycle, project_dir};

/// Show what `stackctl apply` would change, like `terraform plan`.
///
/// Per service: `+ add` (no container yet), `~ change` (its definition
/// changed, each field shown old → new; or its container does not run),
/// `- remove` (a container of a service no longer in the compose files),
/// `= unchanged`. The desired state is the project's compose files merged
/// and interpolated as compose does, with its `.env`, registry variables and
/// secrets; each service's config hash is compared with the
/// `berth.config-hash` label that `start` and `apply` put on its container.
/// Secret values show as `(secret)`. With --out the plan is saved (JSON)
/// for `stackctl apply --plan FILE`, which refuses it once the files or the
/// containers changed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project.
    #[arg(value_name = "NAME")]
    name: String,
    /// Also write the plan as JSON to FILE (atomically), for `apply --plan`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    output: berth::io::JsonArgs,
}

pub fn run(a: &Args) -> anyhow::Result<Outcome> {
    let (_, mut selected) = lifecycle::prepare(std::slice::from_ref(&a.name))?;
    let p = selected.remove(0);
    let rt = berth::docker::runtime()?;
    let docker = rt.block_on(crate::engine::connect())?;
    let containers = rt.block_on(berth::docker::project_containers(&docker, &[&p.name]))?;
    let state = State::load(&p)?;
    if state.behind {
        berth::info!(
            "{}: berth.yaml changed since its files were generated: this plan is of berth.yaml; apply writes the files first",
            p.name
        );
    }
    let plan = state.plan(&p, &containers)?;
    if let Some(out) = &a.out {
        save(&plan, out)?;
    }
    if a.output.is_json() {
        berth::io::write_json(&plan)?;
    } else {
        use std::io::Write as _;
        let mut out = berth::io::stdout();
        out.write_all(plan.render().as_bytes())?;
        out.flush()?;
    }
    // Changes to make, or a wire to pick first: either needs the user.
    Ok(if plan.has_changes() || !plan.problems.is_empty() {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

/// Write `plan` as JSON to `path`, atomically.
fn save(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(plan)?;
    bytes.push(b'\n');
    berth::atomic::write(path, &bytes, 0o600)
        .with_context(|| format!("cannot write the plan to {}", path.display()))?;
    Ok(())
}

/// The desired state of a project: its compose files loaded as compose
/// loads them, each service's hash and masked definition.
pub struct State {
    pub files: Vec<PathBuf>,
    pub desired: Vec<Desired>,
    pub stack_serial: String,
    /// The first compose file's `version:` (compose v1 wants it on every file).
    version: Option<Value>,
    /// `berth.yaml` was edited since stackgen wrote the files: the desired
    /// state is what it generates now, and apply writes the files first.
    pub behind: bool,
    /// What `berth.yaml`'s wiring leaves open (an ambiguous import).
    problems: Vec<String>,
}

impl State {
    /// Load the project's compose files with its environment.
    pub fn load(p: &Project) -> anyhow::Result<Self> {
        let dir = project_dir(p)?;
        let pairs = secret_pairs(p)?;
        let secrets = Secrets::new(&pairs);
        let env = compose_env(p, &pairs)?;
        let mut files = crate::compose_files(p);
        if files.is_empty() {
            files = compose::discover(dir, &env)?;
        }
        // A stack file edited by hand: its generated services, not the old file's.
        let declared = berth_stackgen::declared(dir)?;
        let overlay: Vec<(PathBuf, String)> = declared.ahead.into_iter().collect();
        let loaded: Compose = if files.is_empty() {
            compose::load_dir_with(dir, &env)?
        } else {
            compose::load_files_overlaid(&files, &env, &overlay)?
        };
        let mut desired = Vec::new();
        for s in &loaded.services {
            let def = Value::Mapping(s.raw.clone());
            let hash = config_hash(&def);
            let json = serde_json::to_value(&def)
                .with_context(|| format!("service {} of project '{}': not JSON", s.name, p.name))?;
            desired.push(Desired {
                service: s.name.clone(),
                hash: hash.clone(),
                definition: Applied::masked(hash, json, &secrets),
            });
        }
        let (stack_serial, version) = inputs_serial(dir, &loaded.files, &overlay, &desired)?;
        Ok(Self {
            files: loaded.files,
            desired,
            stack_serial,
            version,
            behind: !overlay.is_empty(),
            problems: declared.problems,
        })
    }

    /// Compare with the project's containers among `containers`; with
    /// what `berth.yaml`'s wiring leaves open.
    pub fn plan(&self, p: &Project, containers: &[ContainerInfo]) -> anyhow::Result<Plan> {
        let mut plan = plan::compare(
            &p.name,
            self.stack_serial.clone(),
            &self.desired,
            &actual(&p.name, containers),
            &read_record(&p.name)?,
        );
        plan.problems.clone_from(&self.problems);
        Ok(plan)
    }

    /// Write `<project>/.berth/compose.hash.yaml`, which gives every service
    /// its `berth.config-hash` label; the compose files with it last.
    pub fn files_with_hash_labels(&self, p: &Project) -> anyhow::Result<Vec<PathBuf>> {
        let dir = project_dir(p)?.join(".berth");
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => anyhow::bail!(
                "{} is not a folder: berth keeps its generated compose file there",
                dir.display()
            ),
            Err(_) => std::fs::create_dir(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?,
        }
        let path = dir.join("compose.hash.yaml");
        berth::atomic::write(&path, self.hash_file().as_bytes(), 0o644)?;
        let mut files = self.files.clone();
        files.push(path);
        Ok(files)
    }

    /// The text of the hash-label compose file.
    fn hash_file(&self) -> String {
        let mut services = yaml_serde::Mapping::new();
        for d in &self.desired {
            let mut labels = yaml_serde::Mapping::new();
            labels.insert(CONFIG_HASH_LABEL.into(), Value::String(d.hash.clone()));
            let mut svc = yaml_serde::Mapping::new();
            svc.insert("labels".into(), Value::Mapping(labels));
            services.insert(Value::String(d.service.clone()), Value::Mapping(svc));
        }
        let mut doc = yaml_serde::Mapping::new();
        if let Some(v) = &self.version {
            doc.insert("version".into(), v.clone());
        }
        doc.insert("services".into(), Value::Mapping(services));
        let body = yaml_serde::to_string(&Value::Mapping(doc)).unwrap_or_default();
        format!(
            "# Generated by stackctl (start, apply): each service's berth.config-hash label,\n\
             # the hash `stackctl plan` compares. Rewritten on every start; do not edit.\n{body}"
        )
    }

    /// Record what the containers were made from (masked), for the old side
    /// of the next plan's changes.
    pub fn record(&self, p: &Project) -> anyhow::Result<()> {
        let record = Record {
            project: p.name.clone(),
            services: self
                .desired
                .iter()
                .map(|d| (d.service.clone(), d.definition.clone()))
                .collect(),
        };
        let path = record_path(&p.name)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let mut bytes = serde_json::to_vec_pretty(&record)?;
        bytes.push(b'\n');
        berth::atomic::write(&path, &bytes, 0o600)?;
        Ok(())
    }
}

/// `dir` with mode 0700 when berth creates it.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Where apply records a project's applied definitions.
pub fn record_path(project: &str) -> anyhow::Result<PathBuf> {
    Ok(Paths::from_env()?
        .data
        .join("applied")
        .join(format!("{project}.json")))
}

fn read_record(project: &str) -> anyhow::Result<Record> {
    Ok(berth::store::JsonFile::new(record_path(project)?)
        .read()?
        .unwrap_or_default())
}

/// The project's containers as the plan sees them.
fn actual(project: &str, containers: &[ContainerInfo]) -> Vec<Actual> {
    containers
        .iter()
        .filter(|c| c.project == project)
        .map(|c| Actual {
            service: c.service.clone(),
            container: c.id.clone(),
            state: c.state.clone(),
            hash: c.labels.get(CONFIG_HASH_LABEL).cloned(),
        })
        .collect()
}

/// The project's secrets from berth's store, read only (no migration: a
/// plan changes nothing); none under `secrets: plain`.
fn secret_pairs(p: &Project) -> anyhow::Result<Vec<(String, String)>> {
    if !berth::secrets_migrate::store_mode()? {
        return Ok(Vec::new());
    }
    let store = berth::secrets::Store::open()?;
    if !store.file(&p.name)?.exists() {
        return Ok(Vec::new());
    }
    Ok(store.load(&p.name)?.env())
}

/// What compose interpolates with when stackctl runs it: the secrets over
/// the registry's variables over the process environment over `.env`.
fn compose_env(p: &Project, secrets: &[(String, String)]) -> anyhow::Result<compose::Env> {
    let dotenv = compose::read_dotenv_in(&p.path.join(".env"), Some(&p.path))?;
    let mut process: HashMap<String, String> = std::env::vars().collect();
    process.extend(crate::hooks::environment(p, false)?);
    Ok(compose::Env::from_maps(process, dotenv).with_overrides(secrets))
}

/// The serial of every input of the desired state: each compose file's
/// bytes in order, `.env`, `berth.yaml`, then the services' hashes (which
/// take in what no file holds: registry variables, secrets). Also the first
/// compose file's `version:`.
fn inputs_serial(
    dir: &Path,
    files: &[PathBuf],
    overlay: &[(PathBuf, String)],
    desired: &[Desired],
) -> anyhow::Result<(String, Option<Value>)> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut version = None;
    let inputs = files
        .iter()
        .cloned()
        .chain([dir.join(".env"), dir.join("berth.yaml")]);
    for (i, f) in inputs.enumerate() {
        // What the file holds once generated: the same serial before and after.
        let same = |p: &PathBuf| {
            p == &f || matches!((p.canonicalize(), f.canonicalize()), (Ok(a), Ok(b)) if a == b)
        };
        let text = match overlay.iter().find(|(p, _)| same(p)) {
            Some((_, text)) => text.clone(),
            None => berth::fsread::read_text(&f, Some(dir), berth::fsread::TEXT_LIMIT)
                .with_context(|| format!("cannot read {}", f.display()))?
                .map(|t| t.text)
                .unwrap_or_default(),
        };
        if i == 0 {
            version = yaml_serde::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("version").cloned());
        }
        // Length-prefixed, so moving text from one file to the next shows.
        bytes.extend(f.as_os_str().as_encoded_bytes());
        bytes.push(0);
        bytes.extend(text.len().to_le_bytes());
        bytes.extend(text.as_bytes());
    }
    let hashes: BTreeMap<&str, &str> = desired
        .iter()
        .map(|d| (d.service.as_str(), d.hash.as_str()))
        .collect();
    for (s, h) in hashes {
        bytes.extend(format!("{s}\0{h}\n").as_bytes());
    }
    Ok((berth::stackfile::serial(&bytes), version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_labels_every_service_and_keeps_the_compose_v1_version() {
        let desired = |service: &str, hash: &str| Desired {
            service: service.into(),
            hash: hash.into(),
            definition: Applied::default(),
        };
        let state = State {
            files: Vec::new(),
            desired: vec![desired("db", "aa11"), desired("web", "bb22")],
            stack_serial: String::new(),
            version: Some(Value::String("3.8".into())),
            behind: false,
            problems: Vec::new(),
        };
        let doc: Value = yaml_serde::from_str(&state.hash_file()).unwrap();
        assert_eq!(doc["version"], Value::String("3.8".into()));
        for (service, hash) in [("db", "aa11"), ("web", "bb22")] {
            assert_eq!(
                doc["services"][service]["labels"][CONFIG_HASH_LABEL],
                Value::String(hash.into())
            );
        }
    }
}
