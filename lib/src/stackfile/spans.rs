//! A line index of the keys of a block-style YAML document: key path ->
//! the lines of the key and of its value, so semantic errors found after
//! parsing name the line of the key, and a line-level edit (the next step of
//! `stackgen set`) knows which lines a key spans and at what indent its
//! children go. Keys inside flow collections (`{a: 1}`) are not indexed: a
//! lookup falls back to the nearest indexed ancestor. List items are
//! indexed as their position (`ports`, `0`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Where one key (or list item) stands in the text, lines from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The line of the key.
    pub line: usize,
    /// The last line of its value (comments after it not included).
    pub end: usize,
    /// The key's column (spaces before it).
    pub indent: usize,
}

/// The key index of one document.
#[derive(Debug, Default)]
pub struct Spans {
    spans: HashMap<Vec<String>, Span>,
    /// Keys met twice in one mapping, with the line of the second.
    pub duplicates: Vec<(Vec<String>, usize)>,
}

#[derive(PartialEq)]
enum Kind {
    Key,
    Item,
}

/// The open keys, outermost first: (indent, segment, kind).
struct Open(Vec<(usize, String, Kind)>);

impl Open {
    fn path(&self) -> Vec<String> {
        self.0.iter().map(|t| t.1.clone()).collect()
    }
    /// Close the innermost key: its value ended on line `last`.
    fn pop(&mut self, spans: &mut Spans, last: usize) {
        let p = self.path();
        if self.0.pop().is_some()
            && let Some(s) = spans.spans.get_mut(&p)
            && s.end < last
        {
            s.end = last;
        }
    }
}

impl Spans {
    pub fn index(text: &str) -> Spans {
        let mut spans = Spans::default();
        let mut open = Open(Vec::new());
        let mut items: HashMap<Vec<String>, usize> = HashMap::new();
        let mut block: Option<usize> = None;
        let mut last = 0;
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let trimmed = raw.trim_start_matches(' ');
            let mut indent = raw.len() - trimmed.len();
            if trimmed.is_empty() || (trimmed.starts_with('#') && block.is_none()) {
                continue;
            }
            if let Some(b) = block {
                if indent > b {
                    last = line;
                    continue;
                }
                block = None;
                if trimmed.starts_with('#') {
                    continue;
                }
            }
            if indent == 0 && (trimmed.starts_with("---") || trimmed.starts_with("...")) {
                while !open.0.is_empty() {
                    open.pop(&mut spans, last);
                }
                continue;
            }
            let mut rest = trimmed;
            while rest == "-" || rest.starts_with("- ") {
                while open
                    .0
                    .last()
                    .is_some_and(|t| t.0 > indent || (t.0 == indent && t.2 == Kind::Item))
                {
                    open.pop(&mut spans, last);
                }
                let mut p = open.path();
                let i = items.entry(p.clone()).or_insert(0);
                let index = i.to_string();
                *i += 1;
                p.push(index.clone());
                spans.spans.entry(p).or_insert(Span {
                    line,
                    end: line,
                    indent,
                });
                open.0.push((indent, index, Kind::Item));
                let after = rest[1..].trim_start_matches(' ');
                indent += rest.len() - after.len();
                rest = after;
                if rest.is_empty() {
                    break;
                }
            }
            let prev = last;
            last = line;
            let Some((key, value)) = split_key(rest) else {
                continue;
            };
            while open.0.last().is_some_and(|t| t.0 >= indent) {
                open.pop(&mut spans, prev);
            }
            let mut p = open.path();
            p.push(key.clone());
            items.remove(&p);
            match spans.spans.entry(p) {
                Entry::Occupied(e) => spans.duplicates.push((e.key().clone(), line)),
                Entry::Vacant(e) => {
                    e.insert(Span {
                        line,
                        end: line,
                        indent,
                    });
                }
            }
            open.0.push((indent, key, Kind::Key));
            let value = value.trim_start();
            if value.starts_with('|') || value.starts_with('>') {
                block = Some(indent);
            }
        }
        while !open.0.is_empty() {
            open.pop(&mut spans, last);
        }
        spans
    }

    /// Where `path` stands, when it is a block-style key of the document.
    pub fn span(&self, path: &[String]) -> Option<Span> {
        self.spans.get(path).copied()
    }

    /// The line of `path`, or of its nearest indexed ancestor (1 at worst).
    pub fn line(&self, path: &[String]) -> usize {
        (0..=path.len())
            .rev()
            .find_map(|n| self.spans.get(&path[..n]).map(|s| s.line))
            .unwrap_or(1)
    }
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
        let span = |parts: &[&str]| s.span(&p(parts)).unwrap();
        assert_eq!(
            span(&["instances"]),
            Span {
                line: 2,
                end: 10,
                indent: 0
            }
        );
        assert_eq!(
            span(&["instances", "db"]),
            Span {
                line: 3,
                end: 9,
                indent: 2
            }
        );
        assert_eq!(
            span(&["instances", "db", "ports"]),
            Span {
                line: 4,
                end: 6,
                indent: 4
            }
        );
        assert_eq!(
            span(&["instances", "db", "command"]),
            Span {
                line: 7,
                end: 8,
                indent: 4
            }
        );
        assert_eq!(span(&["instances", "db", "ports", "0"]).indent, 4);
        assert_eq!(
            span(&["wires"]),
            Span {
                line: 11,
                end: 12,
                indent: 0
            }
        );
        assert!(s.span(&p(&["instances", "cache", "service"])).is_none());
        // Comments and blank lines after a value are not its lines.
        let s = Spans::index("a:\n  b: 1\n# note\n\nd:\n- x\n");
        assert_eq!(s.span(&p(&["a"])).map(|s| (s.line, s.end)), Some((1, 2)));
        assert_eq!(s.span(&p(&["d"])).map(|s| (s.line, s.end)), Some((5, 6)));
        let s = Spans::index("a:\n  b: 1\n  b: 2\n");
        assert_eq!(s.duplicates, vec![(p(&["a", "b"]), 3)]);
    }
}
