//! A line index of the keys of a block-style YAML document: key path ->
//! line, so semantic errors found after parsing name the line of the key.
//! Keys inside flow collections (`{a: 1}`) are not indexed: a lookup falls
//! back to the nearest indexed ancestor. List items are indexed as their
//! position (`ports`, `0`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

#[derive(Debug, Default)]
pub struct Spans {
    lines: HashMap<Vec<String>, usize>,
    /// Keys met twice in one mapping, with the line of the second.
    pub duplicates: Vec<(Vec<String>, usize)>,
}

#[derive(PartialEq)]
enum Kind {
    Key,
    Item,
}

impl Spans {
    pub fn index(text: &str) -> Spans {
        let mut spans = Spans::default();
        let mut stack: Vec<(usize, String, Kind)> = Vec::new();
        let mut items: HashMap<Vec<String>, usize> = HashMap::new();
        let mut block: Option<usize> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let trimmed = raw.trim_start_matches(' ');
            let mut indent = raw.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(b) = block {
                if indent > b {
                    continue;
                }
                block = None;
            }
            if indent == 0 && (trimmed.starts_with("---") || trimmed.starts_with("...")) {
                stack.clear();
                continue;
            }
            let mut rest = trimmed;
            while rest == "-" || rest.starts_with("- ") {
                while stack
                    .last()
                    .is_some_and(|t| t.0 > indent || (t.0 == indent && t.2 == Kind::Item))
                {
                    stack.pop();
                }
                let parent = path(&stack);
                let i = items.entry(parent.clone()).or_insert(0);
                let mut p = parent;
                p.push(i.to_string());
                *i += 1;
                spans.lines.entry(p).or_insert(line);
                stack.push((indent, (*i - 1).to_string(), Kind::Item));
                let after = rest[1..].trim_start_matches(' ');
                indent += rest.len() - after.len();
                rest = after;
                if rest.is_empty() {
                    break;
                }
            }
            let Some((key, value)) = split_key(rest) else {
                continue;
            };
            while stack.last().is_some_and(|t| t.0 >= indent) {
                stack.pop();
            }
            let mut p = path(&stack);
            p.push(key.clone());
            items.remove(&p);
            match spans.lines.entry(p) {
                Entry::Occupied(e) => spans.duplicates.push((e.key().clone(), line)),
                Entry::Vacant(e) => {
                    e.insert(line);
                }
            }
            stack.push((indent, key, Kind::Key));
            let value = value.trim_start();
            if value.starts_with('|') || value.starts_with('>') {
                block = Some(indent);
            }
        }
        spans
    }

    /// The line of `path`, or of its nearest indexed ancestor (1 at worst).
    pub fn line(&self, path: &[String]) -> usize {
        (0..=path.len())
            .rev()
            .find_map(|n| self.lines.get(&path[..n]).copied())
            .unwrap_or(1)
    }
}

fn path(stack: &[(usize, String, Kind)]) -> Vec<String> {
    stack.iter().map(|t| t.1.clone()).collect()
}

/// `key: value` or `key:` with a plain or quoted key.
fn split_key(rest: &str) -> Option<(String, &str)> {
    let first = rest.chars().next()?;
    if first == '"' || first == '\'' {
        let body = &rest[1..];
        let mut key = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == first {
                if first == '\'' && body[i + 1..].starts_with('\'') {
                    key.push('\'');
                    chars.next();
                    continue;
                }
                let after = body[i + 1..].trim_start_matches(' ');
                let value = after.strip_prefix(':')?;
                if !(value.is_empty() || value.starts_with(' ')) {
                    return None;
                }
                return Some((key, value));
            }
            if c == '\\' && first == '"' {
                if let Some((_, e)) = chars.next() {
                    key.push(e);
                }
                continue;
            }
            key.push(c);
        }
        return None;
    }
    if matches!(
        first,
        '{' | '[' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`'
    ) {
        return None;
    }
    let end = rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(str::len))?;
    let key = rest[..end].trim_end();
    if key.contains(" #") {
        return None;
    }
    Some((key.to_owned(), &rest[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn indexes_nested_keys_items_and_skips_block_scalars() {
        let text = "version: 1\n\
                    instances:\n\
                    \x20 db:\n\
                    \x20   ports:\n\
                    \x20   - \"80:80\"\n\
                    \x20   - 81:81\n\
                    \x20   command: |\n\
                    \x20     fake: key\n\
                    \x20   'quoted key': 1\n\
                    \x20 cache: {service: redis}\n\
                    wires:\n\
                    \x20 app.database: db\n";
        let s = Spans::index(text);
        assert_eq!(s.line(&p(&["version"])), 1);
        assert_eq!(s.line(&p(&["instances", "db"])), 3);
        assert_eq!(s.line(&p(&["instances", "db", "ports", "1"])), 6);
        assert_eq!(s.line(&p(&["instances", "db", "command", "fake"])), 7);
        assert_eq!(s.line(&p(&["instances", "db", "quoted key"])), 9);
        assert_eq!(s.line(&p(&["instances", "cache", "service"])), 10);
        assert_eq!(s.line(&p(&["wires", "app.database"])), 12);
        assert!(s.duplicates.is_empty());
        let s = Spans::index("a:\n  b: 1\n  b: 2\n");
        assert_eq!(s.duplicates, vec![(p(&["a", "b"]), 3)]);
    }
}
