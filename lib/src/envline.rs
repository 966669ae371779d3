//! What a line of a `.env` file names: the variable it sets (`KEY=...`), or
//! the variable it says is in berth's secrets store (a comment written by
//! stackgen and by the secrets migration, see [`stored_line`]). Kept apart
//! from the store itself so the compose reader, which every tool has, reads
//! the same lines the secrets tools write.

use std::collections::BTreeSet;

/// What berth shows in place of a secret value (plans, exports, logs), and
/// what a variable in the store reads as where its value is not read.
pub const MASK: &str = "(secret)";

/// The variable a `.env` line sets (`KEY=...`, `export KEY=...`); none for
/// a comment or a line that sets nothing.
pub fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
    let (k, _) = t.split_once('=')?;
    let k = k.trim_end();
    is_name(k).then_some(k)
}

/// Why a variable `.env` names is in berth's secrets store, not in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredFrom<'a> {
    /// The migration moved its value out of `.env`.
    Moved,
    /// stackgen generated it for `project` and put it straight in the store.
    Generated { project: &'a str },
}

/// What every stored-secret comment holds after the name; [`stored_key`]
/// reads it back, so the wording lives here only.
const STORED_MARK: &str = ": in berth's secrets store (";

/// The comment that stands in `.env` for a variable whose value is in the
/// store: `# KEY: in berth's secrets store (moved from this file)` or
/// `(secrets get PROJECT KEY)`. A name set to nothing would be read over
/// the environment by podman-compose 1.0 (its `.env` wins) and hide the
/// value stackctl hands over, so the variable is not set at all.
pub fn stored_line(key: &str, from: StoredFrom<'_>) -> String {
    let how = match from {
        StoredFrom::Moved => "moved from this file".to_owned(),
        StoredFrom::Generated { project } => format!("secrets get {project} {key}"),
    };
    format!("# {key}{STORED_MARK}{how})")
}

/// The variable a [`stored_line`] comment names (either wording); none for
/// any other line.
pub fn stored_key(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix('#')?.trim_start();
    let (key, how) = rest.split_once(STORED_MARK)?;
    (how.ends_with(')') && is_name(key)).then_some(key)
}

/// Every variable a `.env` text names in a [`stored_line`] comment.
pub fn stored_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(stored_key)
        .map(str::to_owned)
        .collect()
}

/// A variable name as `.env` files write them.
fn is_name(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_lines_name_their_variable_in_either_wording() {
        assert_eq!(
            stored_line("DB_PASSWORD", StoredFrom::Moved),
            "# DB_PASSWORD: in berth's secrets store (moved from this file)"
        );
        let generated = stored_line("DB_PASSWORD", StoredFrom::Generated { project: "shop" });
        assert_eq!(
            generated,
            "# DB_PASSWORD: in berth's secrets store (secrets get shop DB_PASSWORD)"
        );
        assert_eq!(stored_key(&generated), Some("DB_PASSWORD"));
        assert_eq!(key_of(&generated), None, "a comment sets nothing");
        let text = format!(
            "A=1\n{generated}\n  {}\n# mine\n",
            stored_line("K", StoredFrom::Moved)
        );
        assert_eq!(
            stored_keys(&text).into_iter().collect::<Vec<_>>(),
            ["DB_PASSWORD", "K"]
        );
        for other in [
            "# a comment",
            "DB_PASSWORD=x",
            "# bad name: in berth's secrets store (x)",
        ] {
            assert_eq!(stored_key(other), None, "{other}");
        }
    }
}
