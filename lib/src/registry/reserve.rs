//! Port reservations: ports handed out (by `stackgen new`, `ports alloc
//! --claim NAME`) to a project not registered yet, so that allocating a port
//! and claiming it are one step under the registry's lock. A reservation is
//! released when its project is registered, and ignored once expired.
//!
//! The file `registry.reservations` beside the snapshot: a JSON array of
//! `{"name","ports","expires_at"}`, written atomically under the lock.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::Registry;
use super::disk::{bad_json, read_or_empty};
use crate::model::ProjectPorts;

/// How long a reservation holds when its project is not registered.
pub const RESERVATION_TTL: SignedDuration = SignedDuration::from_mins(10);

/// Ports held for a project that is not registered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub name: String,
    pub ports: Vec<u16>,
    pub expires_at: Timestamp,
}

impl Reservation {
    fn live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// The live reservations in a file's bytes.
fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<Vec<Reservation>> {
    let text = crate::io::utf8(&path.display(), bytes)?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<Reservation> =
        serde_json::from_str(text).map_err(|e| bad_json(path, text, text, &e))?;
    let now = Timestamp::now();
    Ok(all.into_iter().filter(|r| r.live(now)).collect())
}

/// The reservations of other projects than `name`, and the ports they hold.
pub fn held_by_others<'a>(
    reservations: &'a [Reservation],
    name: &'a str,
) -> impl Iterator<Item = (&'a str, u16)> + 'a {
    reservations
        .iter()
        .filter(move |r| r.name != name)
        .flat_map(|r| r.ports.iter().map(move |p| (r.name.as_str(), *p)))
}

impl Registry {
    /// The reservations file, `registry.reservations`.
    pub fn reservations_path(&self) -> &Path {
        &self.reservations
    }

    /// The live reservations. Holding the lock, or for a look only.
    pub fn reservations(&self) -> anyhow::Result<Vec<Reservation>> {
        parse(&self.reservations, &read_or_empty(&self.reservations)?)
    }

    /// Reserve ports for the project `name` in one step under the lock:
    /// `pick` sees every registered project's ports and the other
    /// projects' live reservations and returns the ports to hold, which
    /// replace any `name` held. The reservation lasts [`RESERVATION_TTL`]
    /// unless `name` is registered first.
    pub fn reserve(
        &self,
        name: &str,
        pick: impl FnOnce(&[ProjectPorts], &[Reservation]) -> anyhow::Result<Vec<u16>>,
    ) -> anyhow::Result<Vec<u16>> {
        crate::names::validate_label("project name", name)?;
        let _lock = self.file.lock()?;
        let projects: Vec<ProjectPorts> = self.load_locked()?;
        let mut live = self.reservations()?;
        live.retain(|r| r.name != name);
        let ports = pick(&projects, &live)?;
        if !ports.is_empty() {
            live.push(Reservation {
                name: name.to_owned(),
                ports: ports.clone(),
                expires_at: Timestamp::now() + RESERVATION_TTL,
            });
        }
        self.write_reservations(&live)?;
        Ok(ports)
    }

    /// Drop the reservations of projects just registered. Holding the lock.
    pub(super) fn release(&self, names: &[&str]) -> anyhow::Result<()> {
        let bytes = read_or_empty(&self.reservations)?;
        if bytes.is_empty() {
            return Ok(());
        }
        let mut live = parse(&self.reservations, &bytes)?;
        let before = live.len();
        live.retain(|r| !names.contains(&r.name.as_str()));
        if live.len() == before {
            return Ok(());
        }
        self.write_reservations(&live)
    }

    fn write_reservations(&self, live: &[Reservation]) -> anyhow::Result<()> {
        if live.is_empty() {
            return match std::fs::remove_file(&self.reservations) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(anyhow::Error::from(e)
                    .context(format!("cannot remove {}", self.reservations.display()))),
                _ => Ok(()),
            };
        }
        crate::atomic::write(&self.reservations, &serde_json::to_vec(live)?, 0o600)?;
        Ok(())
    }
}
