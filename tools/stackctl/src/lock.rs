//! The advisory lock `apply` holds per project: an flock on
//! `$BERTH_HOME/applied/NAME.lock`, whose content names the holder (pid,
//! host, time, command). The kernel releases an flock when its holder dies,
//! so a lock left by a killed apply is free; the holder it still names tells
//! that it was taken over.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// Who holds (or held) a lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub since: String,
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} since {} (`{}`)",
            self.pid, self.host, self.since, self.command
        )
    }
}

/// A held lock; released (and its holder cleared) when dropped.
pub struct Lock {
    file: File,
}

/// The lock was not free within the timeout.
pub struct Busy {
    pub holder: Option<Holder>,
    pub path: PathBuf,
}

impl Lock {
    /// Take the apply lock of `project`, waiting up to `timeout` (polled
    /// every 50 ms; the holder is named once while waiting).
    pub fn acquire(project: &str, timeout: Duration) -> anyhow::Result<Result<Self, Busy>> {
        let path = crate::plan::record_path(project)?.with_extension("lock");
        crate::plan::create_private_dir(path.parent().unwrap_or(std::path::Path::new(".")))?;
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt as _;
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("cannot open the lock file {}", path.display()))?
        };
        let began = Instant::now();
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = read_holder(&mut file);
                    if began.elapsed() >= timeout {
                        return Ok(Err(Busy { holder, path }));
                    }
                    if !said {
                        let who =
                            holder.map_or_else(|| "another apply".to_owned(), |h| h.to_string());
                        berth::info!("{project}: waiting for the apply lock held by {who}");
                        said = true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
        if let Some(dead) = read_holder(&mut file) {
            berth::cli::warn(
                crate::TOOL,
                format!(
                    "took over the apply lock of '{project}' left by {dead}, which no longer runs ({})",
                    path.display()
                ),
            );
        }
        let me = Holder {
            pid: std::process::id(),
            host: hostname(),
            since: jiff::Timestamp::now().to_string(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
        };
        file.set_len(0)?;
        file.rewind()?;
        serde_json::to_writer(&mut file, &me)?;
        file.write_all(b"\n")?;
        file.sync_data()?;
        Ok(Ok(Self { file }))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Cleared before the kernel releases the flock with the file.
        let _ = self.file.set_len(0);
    }
}

/// The holder a lock file names, when it names one.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    (&mut *file).take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown host".to_owned())
}
