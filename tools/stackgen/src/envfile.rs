//! Changes to a project's `.env` that never overwrite what the user set:
//! variables are appended in a block under a `# stackgen: SERVICE` marker
//! when their name is not set yet; removing a service deletes exactly the
//! lines berth appended (recognised by a fingerprint), so a user's edits stay.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// What berth appended for one service, so it can take exactly that away.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    /// The marker comment line.
    pub marker: String,
    /// SHA-256 of each appended `KEY=value` line (values are secrets: not kept).
    pub lines: Vec<String>,
    /// A newline was added to end the user's last line first.
    #[serde(default)]
    pub newline_added: bool,
}

pub use berth::secrets_migrate::key_of;

/// Every variable name a `.env` text sets.
pub fn keys(text: &str) -> BTreeSet<String> {
    text.lines().filter_map(key_of).map(str::to_owned).collect()
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
pub fn append(text: &str, marker: &str, vars: &[(String, String)]) -> (String, Option<Appended>) {
    let present = keys(text);
    let missing: Vec<&(String, String)> =
        vars.iter().filter(|(k, _)| !present.contains(k)).collect();
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
    for (k, v) in missing {
        let line = format!("{k}={v}");
        lines.push(fingerprint(&line));
        out.push_str(&line);
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
        if key_of(bare).is_some()
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
pub fn looks_secret(key: &str) -> bool {
    berth::secrets_migrate::is_well_known(key)
        || ["PASSWORD", "SECRET", "_KEY", "TOKEN"]
            .iter()
            .any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
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
    fn masks_secrets() {
        assert_eq!(
            mask("A=1\nDB_PASSWORD=s3\nAPP_KEY=\n", looks_secret),
            "A=1\nDB_PASSWORD=(secret)\nAPP_KEY=\n"
        );
    }
}
