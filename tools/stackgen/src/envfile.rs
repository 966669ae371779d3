//! Changes to a project's `.env` that never overwrite what the user set:
//! variables are appended in a block under a `# stackgen: SERVICE` marker
//! when their name is not set yet; removing a service deletes exactly the
//! lines berth appended (recognised by a fingerprint), so a user's edits stay.
//!
//! A secret whose value is in berth's secrets store is written as lib's
//! stored-secret comment (`# KEY: in berth's secrets store (secrets get P
//! KEY)`), never as `KEY=`: podman-compose 1.0 reads `.env` over the
//! environment, so an empty `KEY=` would hide the value stackctl hands to
//! compose. Such a comment counts as naming its variable everywhere here.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// What berth appended for one service, so it can take exactly that away.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    /// The marker comment line.
    pub marker: String,
    /// SHA-256 of each appended line, `KEY=value` or a stored-secret
    /// comment (values are secrets: not kept).
    pub lines: Vec<String>,
    /// A newline was added to end the user's last line first.
    #[serde(default)]
    pub newline_added: bool,
}

pub use berth::envline::key_of;
use berth::envline::{StoredFrom, stored_key, stored_line};

/// One variable as stackgen writes it into `.env`: its name and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub key: String,
    pub line: String,
}

impl Var {
    /// `KEY=value`.
    pub fn set(key: &str, value: &str) -> Self {
        Self {
            key: key.to_owned(),
            line: format!("{key}={value}"),
        }
    }

    /// The comment naming a secret of `project` that is in the store.
    pub fn stored(key: &str, project: &str) -> Self {
        Self {
            key: key.to_owned(),
            line: stored_line(key, StoredFrom::Generated { project }),
        }
    }
}

/// The variable a line names: set (`KEY=...`) or in the store (its comment).
fn named(line: &str) -> Option<&str> {
    key_of(line).or_else(|| stored_key(line))
}

/// Every variable name a `.env` text sets or names as in the store.
pub fn keys(text: &str) -> BTreeSet<String> {
    text.lines().filter_map(named).map(str::to_owned).collect()
}

/// Every variable line of a rendered `.env` template, in order, as written.
pub fn vars(text: &str) -> Vec<Var> {
    text.lines()
        .filter_map(|l| {
            named(l).map(|k| Var {
                key: k.to_owned(),
                line: l.to_owned(),
            })
        })
        .collect()
}

/// A rendered `.env` with each `KEY=` (no value) line of a secret of
/// `project` that is in the store (`stored`) written as its comment: the
/// stack templates write `KEY={{ secrets.KEY }}`, empty in store mode.
pub fn name_stored(text: &str, project: &str, stored: impl Fn(&str) -> bool) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let bare = line.trim_end_matches(['\n', '\r']);
            match key_of(bare) {
                Some(k)
                    if stored(k)
                        && bare
                            .split_once('=')
                            .is_some_and(|(_, v)| v.trim().is_empty()) =>
                {
                    Var::stored(k, project).line + &line[bare.len()..]
                }
                _ => line.to_owned(),
            }
        })
        .collect()
}

fn fingerprint(line: &str) -> String {
    let digest = Sha256::digest(line.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Append `vars` whose names `text` does not set yet, under `marker`.
/// Returns the new text and what was appended (None when nothing was).
pub fn append(text: &str, marker: &str, vars: &[Var]) -> (String, Option<Appended>) {
    let present = keys(text);
    let missing: Vec<&Var> = vars.iter().filter(|v| !present.contains(&v.key)).collect();
    if missing.is_empty() {
        return (text.to_owned(), None);
    }
    let mut out = text.to_owned();
    let newline_added = !out.is_empty() && !out.ends_with('\n');
    if newline_added {
        out.push('\n');
    }
    out.push_str(marker);
    out.push('\n');
    let mut lines = Vec::new();
    for v in missing {
        lines.push(fingerprint(&v.line));
        out.push_str(&v.line);
        out.push('\n');
    }
    (
        out,
        Some(Appended {
            marker: marker.to_owned(),
            lines,
            newline_added,
        }),
    )
}

/// Remove what [`append`] added: the marker line and every line still exactly
/// as berth wrote it. Returns the new text and the names of lines the user
/// changed (kept).
pub fn remove(text: &str, appended: &Appended) -> (String, Vec<String>) {
    let mut wanted: Vec<&str> = appended.lines.iter().map(String::as_str).collect();
    let mut marker_done = false;
    let mut out = String::with_capacity(text.len());
    let mut removed_all = true;
    for line in text.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if !marker_done && bare == appended.marker {
            marker_done = true;
            continue;
        }
        if named(bare).is_some()
            && let Some(i) = wanted.iter().position(|f| *f == fingerprint(bare))
        {
            wanted.remove(i);
            continue;
        }
        out.push_str(line);
    }
    if !wanted.is_empty() {
        removed_all = false;
    }
    if appended.newline_added && removed_all && out.ends_with('\n') {
        out.pop();
    }
    // Lines berth wrote that are no longer there as written: the user changed them.
    let kept = if wanted.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{} line(s) of the '{}' block were changed and are kept",
            wanted.len(),
            appended.marker
        )]
    };
    (out, kept)
}

/// Parse `KEY=value` lines of a rendered `.env` template, in order.
pub fn pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let k = key_of(l)?;
            let v = l.split_once('=').map_or("", |(_, v)| v);
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// Hide the values of secret variables in a `.env` text (for diffs on
/// stderr): `KEY=(secret)`; a name without a value stays `KEY=`.
pub fn mask(text: &str, secret: impl Fn(&str) -> bool) -> String {
    text.split_inclusive('\n')
        .map(|line| match key_of(line) {
            Some(k)
                if secret(k)
                    && line
                        .split_once('=')
                        .is_some_and(|(_, v)| !v.trim().is_empty()) =>
            {
                let nl = if line.ends_with('\n') { "\n" } else { "" };
                format!("{k}={}{nl}", berth::secrets::MASK)
            }
            _ => line.to_owned(),
        })
        .collect()
}

/// Whether a variable name looks like a secret: lib's rule (see
/// `berth::secrets_migrate`), plus any name holding PASSWORD, SECRET, TOKEN
/// or `_KEY` (a diff rather hides one value too many).
/// Whether `key = value` holds a secret's value itself: a secret-looking
/// name with a literal value (not empty, no `${...}` reference to another
/// variable, which is a name, not a value).
pub fn is_literal_secret(key: &str, value: &str) -> bool {
    looks_secret(key) && !value.is_empty() && !value.contains("${")
}

pub fn looks_secret(key: &str) -> bool {
    berth::secrets_migrate::is_well_known(key)
        || ["PASSWORD", "SECRET", "_KEY", "TOKEN"]
            .iter()
            .any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, &str)]) -> Vec<Var> {
        pairs.iter().map(|(a, b)| Var::set(a, b)).collect()
    }

    #[test]
    fn append_then_remove_is_identity() {
        for original in ["", "A=1\n# mine\n", "A=1", "A=1\n\n"] {
            let (added, rec) = append(original, "# stackgen: pg", &v(&[("P", "x"), ("A", "2")]));
            let rec = rec.unwrap();
            assert!(added.contains("P=x\n"));
            assert_eq!(added.matches("A=").count(), 1, "{added:?}");
            let (back, kept) = remove(&added, &rec);
            assert_eq!(back, original);
            assert!(kept.is_empty());
        }
    }

    #[test]
    fn user_changes_survive_removal() {
        let (added, rec) = append("A=1\n", "# stackgen: pg", &v(&[("P", "x"), ("Q", "y")]));
        let edited = added.replace("P=x", "P=mine") + "B=2\n";
        let (back, kept) = remove(&edited, &rec.unwrap());
        assert_eq!(back, "A=1\nP=mine\nB=2\n");
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn stored_secrets_are_comments_appended_once_and_removed() {
        let stored = [Var::stored("P", "shop"), Var::set("A", "2")];
        for original in ["", "A=1\n"] {
            let (added, rec) = append(original, "# stackgen: pg", &stored);
            let rec = rec.unwrap();
            assert!(
                added.contains("# P: in berth's secrets store (secrets get shop P)\n"),
                "{added:?}"
            );
            assert!(!added.contains("P="), "{added:?}");
            assert!(keys(&added).contains("P"));
            // Again (a re-run, add-service): the comment names P already.
            assert_eq!(append(&added, "# stackgen: pg", &stored[..1]).1, None);
            let (back, kept) = remove(&added, &rec);
            assert_eq!(back, original);
            assert!(kept.is_empty());
        }
        // The migration's wording names the variable too.
        let moved = berth::envline::stored_line("P", berth::envline::StoredFrom::Moved);
        assert_eq!(append(&format!("{moved}\n"), "# m", &stored[..1]).1, None);
    }

    #[test]
    fn a_template_env_names_its_stored_secrets_in_comments() {
        let rendered = "# head\nAPP_PORT=5000\nAPP_KEY=\nOTHER=\nSET_KEY=v\n";
        let text = name_stored(rendered, "shop", |k| k.ends_with("_KEY"));
        assert_eq!(
            text,
            "# head\nAPP_PORT=5000\n# APP_KEY: in berth's secrets store (secrets get shop APP_KEY)\nOTHER=\nSET_KEY=v\n"
        );
        let found: Vec<String> = vars(&text).into_iter().map(|v| v.key).collect();
        assert_eq!(found, ["APP_PORT", "APP_KEY", "OTHER", "SET_KEY"]);
    }

    #[test]
    fn masks_secrets() {
        assert_eq!(
            mask("A=1\nDB_PASSWORD=s3\nAPP_KEY=\n", looks_secret),
            "A=1\nDB_PASSWORD=(secret)\nAPP_KEY=\n"
        );
    }
}
