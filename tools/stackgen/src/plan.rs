//! A plan: the files a command will create, change or delete, with the old
//! and new contents. It prints as a unified diff (secret values masked) and
//! is applied with atomic writes, so `new`, `add-service` and
//! `remove-service` share one way of showing and making changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use similar::TextDiff;

use crate::envfile;

/// One file's change.
#[derive(Debug, Clone)]
pub struct Change {
    /// Relative to the project folder.
    pub path: String,
    pub old: Option<String>,
    /// None deletes the file.
    pub new: Option<String>,
    pub mode: u32,
}

impl Change {
    pub fn is_noop(&self) -> bool {
        self.old == self.new
    }

    fn verb(&self) -> &'static str {
        match (&self.old, &self.new) {
            (None, Some(_)) => "create",
            (Some(_), None) => "delete",
            _ => "update",
        }
    }
}

/// Create a file that did not exist: renamed into place from a temp file
/// beside it (readers never see half a file), never over a file that
/// appeared meanwhile. Not fsynced: nothing of the user's is at stake, and a
/// fresh project takes a dozen files (fsync each costs more than the rest).
fn create_new(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let opts = berth::atomic::Options::new(mode).not_durable().create_new();
    berth::atomic::write_with(path, text.as_bytes(), opts)?;
    Ok(())
}

/// The changes to one project folder.
#[derive(Debug, Clone)]
pub struct Plan {
    pub root: PathBuf,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            changes: Vec::new(),
        }
    }

    /// The current contents of a project file (None when it does not exist).
    pub fn read(&self, rel: &str) -> anyhow::Result<Option<String>> {
        let p = self.root.join(rel);
        Ok(berth::fsread::read_text(&p, None, berth::fsread::TEXT_LIMIT)?.map(|t| t.text))
    }

    /// Set a file's new contents (replacing an earlier change of the same file).
    pub fn set(&mut self, rel: &str, new: Option<String>, mode: u32) -> anyhow::Result<()> {
        if let Some(c) = self.changes.iter_mut().find(|c| c.path == rel) {
            c.new = new;
            return Ok(());
        }
        let old = self.read(rel)?;
        self.changes.push(Change {
            path: rel.to_owned(),
            old,
            new,
            mode,
        });
        Ok(())
    }

    /// The changes that change something.
    pub fn effective(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.is_noop())
    }

    pub fn is_empty(&self) -> bool {
        self.effective().next().is_none()
    }

    /// A unified diff of every change; `.env` values of secrets are masked.
    pub fn diff(&self, secret: &dyn Fn(&str) -> bool) -> String {
        let mut out = String::new();
        for c in self.effective() {
            let is_env = Path::new(&c.path)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".env"));
            let prep = |t: &Option<String>| {
                let t = t.clone().unwrap_or_default();
                if is_env { envfile::mask(&t, secret) } else { t }
            };
            let (old, new) = (prep(&c.old), prep(&c.new));
            let a = if c.old.is_some() {
                format!("a/{}", c.path)
            } else {
                "/dev/null".to_owned()
            };
            let b = if c.new.is_some() {
                format!("b/{}", c.path)
            } else {
                "/dev/null".to_owned()
            };
            let diff = TextDiff::from_lines(&old, &new);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .missing_newline_hint(true)
                    .header(&a, &b)
            );
        }
        out
    }

    /// One line per change: `create compose.yaml`.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for c in self.effective() {
            let _ = writeln!(out, "{} {}", c.verb(), c.path);
        }
        out
    }

    /// Write every change: folders created, files replaced atomically.
    pub fn apply(&self) -> anyhow::Result<()> {
        for c in self.effective() {
            let path = self.root.join(&c.path);
            match &c.new {
                Some(text) => {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("cannot create {}", dir.display()))?;
                    }
                    if c.old.is_some() {
                        // A file the user may have edited: durable atomic replace.
                        berth::atomic::write(&path, text.as_bytes(), c.mode)?;
                    } else {
                        create_new(&path, text, c.mode)?;
                    }
                }
                None => match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot delete {}", path.display()));
                    }
                },
            }
        }
        Ok(())
    }
}
