//! The registry's files and their formats: the snapshot (`registry.json`),
//! the journal (`registry.journal`) and the index (`registry.index`). See the
//! module documentation of [`super`] for how they fit together.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::ProjectSummary;
use crate::cli::ResultExt as _;

/// Version of the registry format.
pub const FORMAT_VERSION: u32 = 2;

/// The snapshot's first bytes, up to the generation.
const HEAD: &str = "{\"version\":2,\"generation\":";
/// Between the generation and the first project.
const HEAD_END: &str = ",\"projects\":[\n";
/// After the last project.
const TAIL: &str = "\n]}\n";

/// A file's bytes; empty when it does not exist.
pub fn read_or_empty(path: &Path) -> anyhow::Result<Vec<u8>> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The error for a file that does not parse, naming it and where.
pub fn corrupt(path: &Path, line: Option<usize>, why: impl std::fmt::Display) -> anyhow::Error {
    let why = match line {
        Some(l) => anyhow!("line {l}: {why}"),
        None => anyhow!("{why}"),
    };
    Err::<(), _>(why)
        .with_context(|| format!("{} is corrupt", path.display()))
        .hint("berth never overwrites a corrupt file: repair it, or move it away to start afresh")
        .unwrap_err()
}

/// The error for JSON that does not parse: `part` (a slice of the file's
/// `text`) was parsed, and `e` says where in it.
pub fn bad_json(path: &Path, text: &str, part: &str, e: &serde_json::Error) -> anyhow::Error {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = line_of(text, part) + e.line().saturating_sub(1);
    let column = if e.line() <= 1 {
        let start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        offset - start + e.column()
    } else {
        e.column()
    };
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    corrupt(
        path,
        None,
        format_args!("line {line}, column {column}: {message}"),
    )
}

/// The line of `text` on which `part` (a slice of it) starts.
pub fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The snapshot file as a whole, for files not in berth's layout (older
/// versions, edits by hand).
#[derive(Deserialize)]
struct SnapshotFile<'a> {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    generation: u64,
    #[serde(borrow, default)]
    projects: Vec<&'a RawValue>,
}

/// The snapshot: its generation and each project's JSON text.
pub struct Snapshot<'a> {
    pub generation: u64,
    pub lines: Vec<&'a str>,
}

/// The generation and the projects of a file in berth's layout.
fn split_layout(text: &str) -> Option<(u64, &str)> {
    let rest = text.strip_prefix(HEAD)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let generation = rest[..digits].parse().ok()?;
    let body = rest[digits..].strip_prefix(HEAD_END)?.strip_suffix(TAIL)?;
    Some((generation, body))
}

/// The generation a snapshot's first bytes announce, when they are in berth's layout.
pub fn layout_generation(head: &[u8]) -> Option<u64> {
    let rest = head.strip_prefix(HEAD.as_bytes())?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    rest[digits..]
        .starts_with(HEAD_END.as_bytes())
        .then_some(())?;
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Read the first bytes of the snapshot (enough for [`layout_generation`]).
pub fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = vec![0; HEAD.len() + 20 + HEAD_END.len()];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    head.truncate(n);
    Ok(head)
}

/// The projects of a snapshot body in berth's layout: every line but the
/// last ends with a comma. `None` when the body is not laid out so.
fn split_lines(body: &str) -> Option<Vec<&str>> {
    if body.is_empty() {
        return Some(Vec::new());
    }
    let mut lines: Vec<&str> = body.split('\n').collect();
    let last = lines.len() - 1;
    for line in &mut lines[..last] {
        *line = line.strip_suffix(',')?;
    }
    (!lines[last].ends_with(',')).then_some(lines)
}

impl<'a> Snapshot<'a> {
    /// Split the snapshot into projects: by lines when it is in berth's
    /// layout, else by parsing it whole. Lines are checked by whoever parses them.
    pub fn parse(path: &Path, text: &'a str) -> anyhow::Result<Self> {
        if text.is_empty() {
            return Ok(Self {
                generation: 0,
                lines: Vec::new(),
            });
        }
        if let Some((generation, body)) = split_layout(text)
            && let Some(lines) = split_lines(body)
        {
            return Ok(Self { generation, lines });
        }
        let file: SnapshotFile<'a> =
            serde_json::from_str(text).map_err(|e| bad_json(path, text, text, &e))?;
        if file.version > FORMAT_VERSION {
            return Err(crate::cli::error_with_hint(
                format!(
                    "{} has format version {}, newer than this berth understands ({FORMAT_VERSION})",
                    path.display(),
                    file.version
                ),
                "upgrade berth",
            ));
        }
        Ok(Self {
            generation: file.generation,
            lines: file.projects.iter().map(|r| r.get()).collect(),
        })
    }
}

/// The snapshot's bytes for `projects` (each one line of JSON, sorted by
/// name), and where each project's line is in them.
pub fn encode_snapshot<S: AsRef<str>>(generation: u64, projects: &[S]) -> (Vec<u8>, Vec<Span>) {
    let size = projects.iter().map(|p| p.as_ref().len() + 2).sum::<usize>();
    let mut out = String::with_capacity(HEAD.len() + 24 + HEAD_END.len() + size + TAIL.len());
    out.push_str(HEAD);
    out.push_str(&generation.to_string());
    out.push_str(HEAD_END);
    let mut spans = Vec::with_capacity(projects.len());
    for (i, p) in projects.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        spans.push(Span {
            offset: out.len() as u64,
            len: p.as_ref().len() as u64,
        });
        out.push_str(p.as_ref());
    }
    out.push_str(TAIL);
    (out.into_bytes(), spans)
}

/// Where a project's line is in the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub offset: u64,
    pub len: u64,
}

/// One change in the journal.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry<'a> {
    /// A project, new or replacing the one of the same name.
    #[serde(borrow)]
    Put(&'a RawValue),
    /// The name of a project removed.
    #[serde(borrow)]
    Remove(Cow<'a, str>),
}

#[derive(Deserialize, Serialize)]
struct JournalHead {
    generation: u64,
}

/// The journal's first line for `generation`.
pub fn journal_head(generation: u64) -> String {
    let mut s = serde_json::to_string(&JournalHead { generation }).unwrap_or_default();
    s.push('\n');
    s
}

/// The journal: the generation of the snapshot it applies to, and its
/// complete lines (a last line without its newline is a write under way, or
/// one killed midway, and is not part of the journal).
pub struct Journal<'a> {
    pub generation: Option<u64>,
    /// The complete lines after the first.
    pub lines: Vec<&'a str>,
    /// Bytes of complete lines.
    pub complete: usize,
}

impl<'a> Journal<'a> {
    pub fn split(path: &Path, text: &'a str) -> anyhow::Result<Self> {
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let mut lines = text[..complete].split_terminator('\n');
        let generation = match lines.next() {
            None => None,
            Some(head) => Some(
                serde_json::from_str::<JournalHead>(head)
                    .map_err(|e| bad_json(path, text, head, &e))?
                    .generation,
            ),
        };
        Ok(Self {
            generation,
            lines: lines.collect(),
            complete,
        })
    }

    /// The changes, in order, each with its line for messages.
    pub fn entries(&self, path: &Path, text: &'a str) -> anyhow::Result<Vec<Entry<'a>>> {
        self.lines
            .iter()
            .map(|line| serde_json::from_str(line).map_err(|e| bad_json(path, text, line, &e)))
            .collect()
    }
}

/// A journal line that puts `project_json`.
pub fn put_line(project_json: &str) -> String {
    format!("{{\"put\":{project_json}}}\n")
}

/// A journal line that removes `name`.
pub fn remove_line(name: &str) -> String {
    format!(
        "{{\"remove\":{}}}\n",
        serde_json::to_string(name).unwrap_or_default()
    )
}

#[derive(Deserialize)]
struct NameOnly<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// A project's name from its JSON text: read off the start of the line as
/// berth writes it, else parsed.
pub fn name_of(text: &str) -> Result<Cow<'_, str>, serde_json::Error> {
    if let Some(rest) = text.strip_prefix("{\"name\":\"")
        && let Some(end) = rest.find(['"', '\\'])
        && rest.as_bytes()[end] == b'"'
    {
        return Ok(Cow::Borrowed(&rest[..end]));
    }
    serde_json::from_str::<NameOnly<'_>>(text).map(|n| n.name)
}

/// Apply the journal's changes to the snapshot's projects: the projects
/// now registered, each as its JSON text, in name order when the snapshot
/// is.
pub fn apply<'a>(
    snapshot: &[&'a str],
    entries: &[Entry<'a>],
    name: impl Fn(&'a str) -> anyhow::Result<Cow<'a, str>>,
) -> anyhow::Result<Vec<&'a str>> {
    if entries.is_empty() {
        return Ok(snapshot.to_vec());
    }
    let mut changed: BTreeMap<Cow<'a, str>, Option<&'a str>> = BTreeMap::new();
    for e in entries {
        match e {
            Entry::Put(raw) => changed.insert(name(raw.get())?, Some(raw.get())),
            Entry::Remove(n) => changed.insert(n.clone(), None),
        };
    }
    let mut out = Vec::with_capacity(snapshot.len() + changed.len());
    let mut puts = changed
        .iter()
        .filter_map(|(n, raw)| raw.map(|r| (n, r)))
        .peekable();
    for line in snapshot {
        let n = name(line)?;
        while let Some((_, raw)) = puts.next_if(|(p, _)| p.as_ref() < n.as_ref()) {
            out.push(raw);
        }
        if !changed.contains_key(n.as_ref()) {
            out.push(line);
        }
    }
    out.extend(puts.map(|(_, raw)| raw));
    Ok(out)
}

/// What identifies one snapshot file: its generation, and the size, change
/// time and inode of the file, so an edit by hand is noticed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub generation: u64,
    pub len: u64,
    pub mtime: (i64, i64),
    pub ino: u64,
}

impl Stamp {
    pub fn of(generation: u64, meta: &fs::Metadata) -> Self {
        Self {
            generation,
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ino: meta.ino(),
        }
    }
}

/// The index file's first word.
const INDEX_MAGIC: &str = "berth-registry-index";

/// The stamp an index file was built for, read from its first line alone.
pub fn index_stamp(index: &[u8]) -> Option<Stamp> {
    index_head(index).map(|(stamp, _)| stamp)
}

/// The stamp an index file was built for and how many of the snapshot's
/// projects failed [`Checked::check`](crate::model::Checked) then, read from
/// its first line alone.
pub fn index_head(index: &[u8]) -> Option<(Stamp, usize)> {
    let head = index.split(|b| *b == b'\n').next()?;
    parse_index_head(std::str::from_utf8(head).ok()?).map(|(stamp, _, bad)| (stamp, bad))
}

/// `berth-registry-index 2 COUNT BAD STAMP`: the stamp, the number of
/// projects and the number of them that are invalid. (Version 1 indexes
/// were built without checking the projects, and are rebuilt.)
fn parse_index_head(head: &str) -> Option<(Stamp, usize, usize)> {
    let mut words = head.splitn(5, ' ');
    (words.next()? == INDEX_MAGIC && words.next()? == "2").then_some(())?;
    let count = words.next()?.parse().ok()?;
    let bad = words.next()?.parse().ok()?;
    Some((serde_json::from_str(words.next()?).ok()?, count, bad))
}

/// One snapshot project in the index: what `add` needs of it, and where
/// its line is in the snapshot.
#[derive(Debug)]
pub struct IndexEntry<'a> {
    pub name: Cow<'a, str>,
    pub path: Cow<'a, str>,
    pub port: Option<u16>,
    pub exposed_ports: Vec<u16>,
    pub at: Span,
}

/// The index: what `add` needs of every snapshot project, for the snapshot
/// with this stamp.
///
/// A text file, one project a line, parsed without a JSON parser (ten
/// thousand projects in a few milliseconds):
/// `OFFSET LEN PORT PORTS "NAME" "PATH"`, where PORT is `-` when there is
/// none, PORTS is comma-separated (`-` when empty), and NAME and PATH are
/// JSON strings.
#[derive(Debug)]
pub struct Index<'a> {
    pub stamp: Stamp,
    pub projects: Vec<IndexEntry<'a>>,
    /// How many of the projects are invalid.
    pub bad: usize,
}

/// A JSON string at the start of `text`, and the rest after it.
fn json_string(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = text.strip_prefix('"')?;
    let end = body.find(['"', '\\'])?;
    if body.as_bytes()[end] == b'"' {
        return Some((Cow::Borrowed(&body[..end]), &body[end + 1..]));
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<String>();
    let s = stream.next()?.ok()?;
    Some((Cow::Owned(s), &text[stream.byte_offset()..]))
}

/// A port, or `-` for none; `Err` when the word is neither.
fn opt_port(word: &str) -> Result<Option<u16>, std::num::ParseIntError> {
    if word == "-" {
        Ok(None)
    } else {
        word.parse().map(Some)
    }
}

impl<'a> Index<'a> {
    /// Parse an index file; `None` when it does not parse (it is rebuilt then).
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (head, body) = text.split_once('\n')?;
        let (stamp, count, bad) = parse_index_head(head)?;
        let mut projects = Vec::with_capacity(count);
        for line in body.split_terminator('\n') {
            let mut words = line.splitn(5, ' ');
            let offset = words.next()?.parse().ok()?;
            let len = words.next()?.parse().ok()?;
            let port = opt_port(words.next()?).ok()?;
            let exposed_ports = match words.next()? {
                "-" => Vec::new(),
                list => list
                    .split(',')
                    .map(|p| p.parse().ok())
                    .collect::<Option<_>>()?,
            };
            let (name, rest) = json_string(words.next()?)?;
            let (path, rest) = json_string(rest.strip_prefix(' ')?)?;
            rest.is_empty().then_some(())?;
            projects.push(IndexEntry {
                name,
                path,
                port,
                exposed_ports,
                at: Span { offset, len },
            });
        }
        (projects.len() == count && (count == 0 || body.ends_with('\n'))).then_some(Self {
            stamp,
            projects,
            bad,
        })
    }

    /// The index of a snapshot in berth's layout, from its lines. `bad` is
    /// how many are invalid when the caller knows, else each line is parsed
    /// whole and checked.
    pub fn build(
        stamp: Stamp,
        lines: &[&'a str],
        spans: &[Span],
        bad: Option<usize>,
    ) -> Result<Self, (usize, serde_json::Error)> {
        let bad = match bad {
            Some(n) => n,
            None => count_invalid(lines)?,
        };
        let projects = lines
            .iter()
            .zip(spans)
            .enumerate()
            .map(|(i, (line, at))| {
                let s: ProjectSummary<'a> = serde_json::from_str(line).map_err(|e| (i, e))?;
                Ok(IndexEntry {
                    name: s.name,
                    path: s.path,
                    port: s.port,
                    exposed_ports: s.exposed_ports,
                    at: *at,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            stamp,
            projects,
            bad,
        })
    }

    /// The index file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        use std::fmt::Write as _;
        let mut out = format!(
            "{INDEX_MAGIC} 2 {} {} {}\n",
            self.projects.len(),
            self.bad,
            serde_json::to_string(&self.stamp).unwrap_or_default()
        );
        for p in &self.projects {
            let port = p.port.map_or_else(|| "-".to_owned(), |p| p.to_string());
            let ports = if p.exposed_ports.is_empty() {
                "-".to_owned()
            } else {
                let list: Vec<String> = p.exposed_ports.iter().map(u16::to_string).collect();
                list.join(",")
            };
            let _ = writeln!(
                out,
                "{} {} {port} {ports} {} {}",
                p.at.offset,
                p.at.len,
                serde_json::to_string(&p.name).unwrap_or_default(),
                serde_json::to_string(&p.path).unwrap_or_default(),
            );
        }
        out.into_bytes()
    }
}

/// How many projects' lines fail [`Checked::check`](crate::model::Checked).
fn count_invalid(lines: &[&str]) -> Result<usize, (usize, serde_json::Error)> {
    use crate::model::{Checked as _, Project};
    let mut bad = 0;
    for (i, line) in lines.iter().enumerate() {
        let p: Project = serde_json::from_str(line).map_err(|e| (i, e))?;
        bad += usize::from(p.check().is_err());
    }
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips_and_the_head_names_the_generation() {
        let (bytes, spans) = encode_snapshot(7, &[r#"{"name":"a"}"#, r#"{"name":"b"}"#]);
        let text = std::str::from_utf8(&bytes).unwrap();
        serde_json::from_str::<serde_json::Value>(text).unwrap();
        let s = Snapshot::parse(Path::new("r"), text).unwrap();
        assert_eq!(s.generation, 7);
        assert_eq!(s.lines, [r#"{"name":"a"}"#, r#"{"name":"b"}"#]);
        let b = spans[1];
        assert_eq!(
            &text[b.offset as usize..(b.offset + b.len) as usize],
            r#"{"name":"b"}"#
        );
        assert_eq!(layout_generation(&bytes), Some(7));
        assert_eq!(layout_generation(b"{\"version\":1,\"projects\":[\n"), None);
    }

    #[test]
    fn journal_ignores_a_last_line_without_its_newline() {
        let text = "{\"generation\":3}\n{\"remove\":\"a\"}\n{\"put\":{\"na";
        let j = Journal::split(Path::new("j"), text).unwrap();
        assert_eq!(j.generation, Some(3));
        assert_eq!(j.lines.len(), 1);
        assert_eq!(j.complete, text.rfind('\n').unwrap() + 1);
    }

    #[test]
    fn apply_puts_replaces_and_removes_in_name_order() {
        let text = format!(
            "{}{}{}{}",
            journal_head(1),
            put_line(r#"{"name":"c","port":3}"#),
            remove_line("b"),
            put_line(r#"{"name":"a","port":9}"#),
        );
        let j = Journal::split(Path::new("j"), &text).unwrap();
        let entries = j.entries(Path::new("j"), &text).unwrap();
        let snapshot = [
            r#"{"name":"a","port":1}"#,
            r#"{"name":"b"}"#,
            r#"{"name":"d"}"#,
        ];
        let out = apply(&snapshot, &entries, |t| Ok(name_of(t)?)).unwrap();
        assert_eq!(
            out,
            [
                r#"{"name":"a","port":9}"#,
                r#"{"name":"c","port":3}"#,
                r#"{"name":"d"}"#
            ]
        );
    }

    #[test]
    fn names_are_read_off_the_line_or_parsed() {
        assert_eq!(name_of(r#"{"name":"shop","port":1}"#).unwrap(), "shop");
        assert_eq!(name_of(r#"{ "port": 1, "name": "shop" }"#).unwrap(), "shop");
        assert_eq!(name_of(r#"{"name":"a\u0062"}"#).unwrap(), "ab");
        assert!(name_of(r#"{"port":1}"#).is_err());
    }

    #[test]
    fn the_index_round_trips_and_a_truncated_one_does_not_parse() {
        let stamp = Stamp {
            generation: 4,
            len: 99,
            mtime: (1, 2),
            ino: 3,
        };
        let lines = [
            r#"{"name":"a","path":"/x y/\"q\"","port":5000,"exposed_ports":[5000,5001]}"#,
            r#"{"name":"b"}"#,
        ];
        let spans = [
            Span {
                offset: 41,
                len: 10,
            },
            Span {
                offset: 60,
                len: 12,
            },
        ];
        let bytes = Index::build(stamp, &lines, &spans, None).unwrap().encode();
        let index = Index::parse(&bytes).unwrap();
        assert_eq!(index.stamp, stamp);
        assert_eq!(index_stamp(&bytes), Some(stamp));
        let a = &index.projects[0];
        assert_eq!((a.name.as_ref(), a.path.as_ref()), ("a", "/x y/\"q\""));
        assert_eq!(
            (a.port, a.exposed_ports.as_slice()),
            (Some(5000), &[5000, 5001][..])
        );
        let b = &index.projects[1];
        assert_eq!(
            (b.port, b.exposed_ports.len(), b.at.offset, b.at.len),
            (None, 0, 60, 12)
        );
        assert!(Index::parse(&bytes[..bytes.len() - 3]).is_none());
        let cut = bytes.iter().rposition(|b| *b == b'\n').unwrap();
        let first_line_only = &bytes[..=bytes[..cut].iter().rposition(|b| *b == b'\n').unwrap()];
        assert!(Index::parse(first_line_only).is_none(), "a project short");
    }
}
