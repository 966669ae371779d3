//! JSON in and out. Input: a FILE argument, or stdin when the argument is `-`
//! or absent and stdin is not a terminal; a JSON array, one object, or
//! newline-delimited objects. Project JSON ([`read_projects`]): the registry
//! when there is no argument and stdin is a terminal or carries nothing, and
//! an input without a project is an error unless `--allow-empty`. Output:
//! `--json`, or `--format json|ndjson|csv|table`, tables by default.

use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::table;

/// Where input comes from, for messages.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Stdin => f.write_str("<stdin>"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Read the input named by a FILE argument: the file, or stdin for `-`, or
/// stdin when absent and not a terminal. `None` when there is no input.
pub fn read_input(arg: Option<&Path>) -> anyhow::Result<Option<(Source, Vec<u8>)>> {
    let source = match arg {
        Some(p) if p.as_os_str() == "-" => Source::Stdin,
        Some(p) => Source::File(p.to_path_buf()),
        None if io::stdin().is_terminal() => return Ok(None),
        None => Source::Stdin,
    };
    let mut buf = Vec::new();
    match &source {
        Source::Stdin => {
            // A pipe of 1 MiB instead of 64 KiB: a sixteenth of the wake-ups
            // for ten thousand projects. Not allowed everywhere; harmless then.
            let _ = rustix::pipe::fcntl_setpipe_size(io::stdin(), 1 << 20);
            io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .context("cannot read stdin")?;
        }
        Source::File(p) => {
            buf = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        }
    }
    Ok(Some((source, buf)))
}

/// Parse records: a JSON array, one object, or newline-delimited objects.
pub fn parse_records<T: DeserializeOwned + Send>(
    source: &Source,
    bytes: &[u8],
) -> anyhow::Result<Vec<T>> {
    // One UTF-8 check for the whole input, then parsing from &str, which
    // spares serde_json a check per string.
    let text = utf8(source, bytes)?;
    if text.len() >= PARALLEL_BYTES
        && let Some(records) = parse_parallel(text)
    {
        return Ok(records);
    }
    let at = |e: &serde_json::Error| {
        format!(
            "invalid JSON in {source} at line {} column {}",
            e.line(),
            e.column()
        )
    };
    match text.trim_start().as_bytes().first() {
        None => Ok(Vec::new()),
        Some(b'[') => serde_json::from_str(text).map_err(|e| anyhow!("{e}").context(at(&e))),
        Some(_) => serde_json::Deserializer::from_str(text)
            .into_iter::<T>()
            .map(|r| r.map_err(|e| anyhow!("{e}").context(at(&e))))
            .collect(),
    }
}

/// Inputs of at least this size are parsed on several threads when they
/// hold one record a line.
const PARALLEL_BYTES: usize = 1 << 20;

/// Parse a large input laid out one record a line (an array as `registry
/// list --json` writes it, or NDJSON) in chunks, one thread each.
///
/// The input is cut only before a line that starts with `{`. A chunk must
/// parse as whole records (array elements each followed by `,`, the last
/// chunk's last one by `]`), so a cut anywhere but between two records fails
/// and the input is parsed in one piece instead: the result is always the
/// one-piece parse's. `None` for any other layout, and for any error (the
/// one-piece parse reports it).
fn parse_parallel<T: DeserializeOwned + Send>(text: &str) -> Option<Vec<T>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    let trimmed = text.trim_start();
    let array = trimmed.starts_with('[');
    let body = if array { &trimmed[1..] } else { trimmed };
    let mut cuts = vec![0];
    for k in 1..threads {
        let cut = record_start(body, (body.len() * k / threads).max(*cuts.last()?))?;
        if cut > *cuts.last()? {
            cuts.push(cut);
        }
    }
    if cuts.len() < 2 {
        return None;
    }
    cuts.push(body.len());
    let chunks: Vec<&str> = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    let last = chunks.len() - 1;
    let parsed: Vec<Option<Vec<T>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| scope.spawn(move || parse_run(chunk, array, i == last)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut records = Vec::new();
    for chunk in parsed {
        records.extend(chunk?);
    }
    Some(records)
}

/// The first line at or after `from` that starts with `{`, looked for in
/// the next 64 KiB only.
fn record_start(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let end = text.len().min(from + (64 << 10));
    let mut at = from;
    while at < end {
        let nl = at + bytes[at..end].iter().position(|b| *b == b'\n')?;
        if bytes.get(nl + 1) == Some(&b'{') {
            return Some(nl + 1);
        }
        at = nl + 1;
    }
    None
}

/// One chunk of [`parse_parallel`]: records, each followed (in an array) by
/// `,`, or by `]` and the end of the input when `last`.
fn parse_run<T: DeserializeOwned>(chunk: &str, array: bool, last: bool) -> Option<Vec<T>> {
    let mut records = Vec::new();
    let mut rest = chunk.trim_start();
    loop {
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        records.push(stream.next()?.ok()?);
        rest = rest[stream.byte_offset()..].trim_start();
        if !array {
            if rest.is_empty() {
                return Some(records);
            }
            continue;
        }
        match rest.as_bytes().first() {
            Some(b',') => {
                rest = rest[1..].trim_start();
                if rest.is_empty() {
                    return (!last).then_some(records);
                }
            }
            Some(b']') if last => return rest[1..].trim().is_empty().then_some(records),
            _ => return None,
        }
    }
}

/// The input as text, or an error naming where it stops being UTF-8.
pub fn utf8<'a>(source: &dyn std::fmt::Display, bytes: &'a [u8]) -> anyhow::Result<&'a str> {
    std::str::from_utf8(bytes)
        .map_err(|e| anyhow!("invalid UTF-8 in {source} at byte {}", e.valid_up_to()))
}

/// Read and parse records from a FILE argument or stdin; `None` when there is no input.
pub fn read_records<T: DeserializeOwned + Send>(
    arg: Option<&Path>,
) -> anyhow::Result<Option<Vec<T>>> {
    match read_input(arg)? {
        None => Ok(None),
        Some((source, bytes)) => parse_records(&source, &bytes).map(Some),
    }
}

/// The flag of every tool that reads Project JSON.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct EmptyArgs {
    /// Accept an input (or a registry) that holds no project: by default
    /// that is an error (exit 2), so that a script whose stdin carries
    /// nothing never acts on nothing.
    #[arg(long)]
    pub allow_empty: bool,
}

/// Where projects came from, for messages.
#[derive(Debug, Clone)]
pub enum Origin {
    Input(Source),
    /// The registry, and its file.
    Registry(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Input(s) => s.fmt(f),
            Origin::Registry(p) => write!(f, "the registry ({})", p.display()),
        }
    }
}

/// Read Project records (whole [`Project`](crate::Project)s or any subset
/// of their fields) the way every tool does: from FILE, or stdin for `-`,
/// or stdin when there is no argument and it is piped and carries data;
/// else the registry's valid projects. No project is an error unless
/// `allow_empty`.
pub fn read_projects<T: DeserializeOwned + Send + crate::model::Checked>(
    arg: Option<&Path>,
    allow_empty: bool,
) -> anyhow::Result<(Origin, Vec<T>)> {
    let (origin, records) = match read_input(arg)? {
        // Nothing on a stdin nobody named: cron, systemd, `< /dev/null`.
        Some((Source::Stdin, bytes)) if arg.is_none() && is_blank(&bytes) => registry_records()?,
        Some((source, bytes)) => {
            let records = parse_records(&source, &bytes)?;
            (Origin::Input(source), records)
        }
        None => registry_records()?,
    };
    require_some(&origin, records.len(), allow_empty)?;
    Ok((origin, records))
}

/// The registry's valid projects, and where they came from.
fn registry_records<T: DeserializeOwned + crate::model::Checked>()
-> anyhow::Result<(Origin, Vec<T>)> {
    let reg = crate::registry::Registry::open(&crate::paths::Paths::from_env()?);
    let records = reg.load_valid()?;
    Ok((Origin::Registry(reg.path().to_path_buf()), records))
}

/// The error for an input without a project, unless `allow_empty`.
pub fn require_some(origin: &Origin, count: usize, allow_empty: bool) -> anyhow::Result<()> {
    if count > 0 || allow_empty {
        return Ok(());
    }
    let (what, hint) = match origin {
        Origin::Input(Source::Stdin) => (
            "no Project JSON on stdin".to_owned(),
            "pipe projects in (`registry list --json | ...`), or pass --allow-empty to accept none",
        ),
        Origin::Input(Source::File(p)) => (
            format!("no project in {}", p.display()),
            "pass --allow-empty to accept a file without projects",
        ),
        Origin::Registry(p) => (
            format!("no project registered in {}", p.display()),
            "register one with `registry add`, or pass --allow-empty to accept none",
        ),
    };
    Err(crate::cli::error_with_hint(
        format!("{what}: the input is empty"),
        hint,
    ))
}

/// Whether input bytes hold nothing but whitespace.
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table (the default).
    Table,
    /// One JSON document: an array for lists, an object for one thing.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// The output flags of every command that prints a list of records: each
/// format is honoured by [`write_list`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Print JSON (same as --format json).
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,
    /// Output format: table, json (an array), ndjson (one object a line) or
    /// csv (a header of the JSON field names, then one row a record).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.unwrap_or(Format::Table)
        }
    }

    pub fn is_json(&self) -> bool {
        matches!(self.format(), Format::Json | Format::Ndjson)
    }
}

/// The output flag of every command that prints one report (one object):
/// `--json`, or readable text. `--format json`, the spelling of earlier
/// releases, is still accepted (hidden, for one release).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct JsonArgs {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Deprecated: `--format json` is `--json`.
    #[arg(long = "format", global = true, hide = true, value_name = "FORMAT",
          value_parser = ["json"], conflicts_with = "json")]
    pub legacy_format: Option<String>,
}

impl JsonArgs {
    pub fn is_json(&self) -> bool {
        self.json || self.legacy_format.is_some()
    }
}

/// Something shown as a table row. CSV does not use it: its columns are
/// the record's JSON fields (see [`write_list`]).
pub trait Row: Serialize {
    fn headers() -> &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

/// A buffered stdout, flushed by [`Out::finish`].
pub fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Write text to stdout as it is, flushed.
pub fn write_text(text: &str) -> anyhow::Result<()> {
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Write the file a user named with `-o FILE`: atomically (a symlink there
/// is written through, its target replaced), mode 0644, and say on stderr
/// whether it was written or replaced an existing file.
pub fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let existed = path.exists();
    crate::atomic::write_with(
        path,
        bytes,
        crate::atomic::Options::new(0o644).follow_symlinks(),
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    if existed {
        crate::cli::info(format_args!("replaced {}", path.display()));
    } else {
        crate::cli::info(format_args!("wrote {}", path.display()));
    }
    Ok(())
}

/// Write a list of records in the chosen format: JSON (one array), NDJSON
/// (one object a line), CSV (the JSON field names as header, then one row a
/// record, nested values as JSON text) or a table of the [`Row`] cells.
pub fn write_list<T: Row>(format: Format, items: &[T]) -> anyhow::Result<()> {
    write_records(format, items, || {
        table::render(T::headers(), items.iter().map(Row::cells).collect())
    })
}

/// [`write_list`] for records whose table is not one row a record: the
/// table is what `table` renders.
pub fn write_records<T: Serialize>(
    format: Format,
    items: &[T],
    table: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    let mut out = stdout();
    write_records_to(&mut out, format, items, table)?;
    out.flush()?;
    Ok(())
}

/// [`write_records`] to any writer.
pub fn write_records_to<T: Serialize, W: Write>(
    out: &mut W,
    format: Format,
    items: &[T],
    table: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    match format {
        Format::Json => json_to(out, items)?,
        Format::Ndjson => {
            for item in items {
                serde_json::to_writer(&mut *out, item)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => write_csv(out, items)?,
        Format::Table => out.write_all(table().as_bytes())?,
    }
    Ok(())
}

/// Write one thing: JSON as one object, a table as a single row.
pub fn write_one<T: Row>(format: Format, item: &T) -> anyhow::Result<()> {
    match format {
        Format::Json => write_json(item),
        other => write_list(other, std::slice::from_ref(item)),
    }
}

/// Write one JSON value with a newline: indented on a terminal, compact in a pipe.
pub fn write_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = stdout();
    json_to(&mut out, value)?;
    out.flush()?;
    Ok(())
}

fn json_to<T: Serialize + ?Sized, W: Write>(out: &mut W, value: &T) -> anyhow::Result<()> {
    if io::stdout().is_terminal() {
        serde_json::to_writer_pretty(&mut *out, value)?;
    } else {
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// A record's JSON fields in the order it serializes them.
struct Fields(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A CSV cell of a JSON value: strings as they are, `null` empty, anything
/// else (numbers, booleans, arrays, objects) as compact JSON.
fn csv_cell(raw: &serde_json::value::RawValue) -> String {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str(text).unwrap_or_else(|_| text.to_owned()),
        _ if text == "null" => String::new(),
        _ => text.to_owned(),
    }
}

/// CSV whose header is the union of the records' JSON field names (in the
/// order they first appear) and whose rows are the records. A record that
/// is not an object is one column, `value`. No records, no output.
fn write_csv<T: Serialize, W: Write>(w: W, items: &[T]) -> anyhow::Result<()> {
    let mut header: Vec<String> = Vec::new();
    let mut records = Vec::with_capacity(items.len());
    for item in items {
        let json = serde_json::to_string(item)?;
        let fields = match serde_json::from_str::<Fields>(&json) {
            Ok(f) => f.0,
            Err(_) => vec![(
                "value".to_owned(),
                serde_json::value::RawValue::from_string(json)?,
            )],
        };
        for (name, _) in &fields {
            if !header.contains(name) {
                header.push(name.clone());
            }
        }
        records.push(fields);
    }
    if records.is_empty() {
        return Ok(());
    }
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(&header)?;
    for fields in records {
        csv.write_record(header.iter().map(|name| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| csv_cell(v))
                .unwrap_or_default()
        }))?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Rec {
        name: String,
        #[serde(default)]
        ports: Vec<u16>,
    }

    fn records(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"name":"p{i}","ports":[{}, {}],"pad":"{}"}}"#,
                    i % 60000,
                    7,
                    "x".repeat(40)
                )
            })
            .collect()
    }

    fn both(text: &str) -> (Result<Vec<Rec>, String>, Result<Vec<Rec>, String>) {
        let big =
            parse_records::<Rec>(&Source::Stdin, text.as_bytes()).map_err(|e| format!("{e:#}"));
        let one: Result<Vec<Rec>, String> = if text.trim_start().starts_with('[') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            serde_json::Deserializer::from_str(text)
                .into_iter()
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())
        };
        (big, one)
    }

    #[test]
    fn large_inputs_one_record_a_line_parse_as_in_one_piece() {
        let recs = records(30_000);
        let array = format!("[\n{}\n]\n", recs.join(",\n"));
        assert!(array.len() > PARALLEL_BYTES);
        assert!(
            parse_parallel::<Rec>(&array).is_some()
                || std::thread::available_parallelism().map_or(1, usize::from) < 2
        );
        let (big, one) = both(&array);
        assert_eq!(big.unwrap(), one.unwrap());
        let ndjson = recs.join("\n") + "\n";
        let (big, one) = both(&ndjson);
        assert_eq!(big.unwrap().len(), 30_000);
        assert!(one.is_ok());
        // Pretty-printed, and a record whose nested object starts a line.
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&array).unwrap(),
        )
        .unwrap();
        let (big, one) = both(&pretty);
        assert_eq!(big.unwrap(), one.unwrap());
        let mut tricky = recs.clone();
        tricky[15_000] = "{\"name\":\"nested\",\"x\":[\n{\"a\":1},\n{\"b\":2}]}".into();
        let tricky = format!("[\n{}\n]", tricky.join(",\n"));
        let (big, one) = both(&tricky);
        assert_eq!(big.unwrap(), one.unwrap());
    }

    #[test]
    fn large_inputs_with_an_error_fail_as_in_one_piece() {
        let recs = records(30_000);
        let trailing_comma = format!("[\n{},\n]", recs.join(",\n"));
        let mut broken = recs.clone();
        broken[20_000] = "{\"name\":\"b\",\"ports\":[70000]}".into();
        let broken = format!("[\n{}\n]", broken.join(",\n"));
        let unclosed = format!("[\n{}\n", recs.join(",\n"));
        let missing_comma = format!("[\n{}\n]", recs.join("\n"));
        for text in [trailing_comma, broken, unclosed, missing_comma] {
            let (big, one) = both(&text);
            let (big, one) = (big.unwrap_err(), one.unwrap_err());
            assert!(big.contains(&one), "{big} / {one}");
        }
    }

    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct R {
        a: u32,
    }

    #[test]
    fn accepts_array_object_and_ndjson() {
        let s = Source::Stdin;
        assert_eq!(
            parse_records::<R>(&s, b" [{\"a\":1},{\"a\":2}]")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_records::<R>(&s, b"{\"a\":1}").unwrap(),
            vec![R { a: 1 }]
        );
        assert_eq!(
            parse_records::<R>(&s, b"{\"a\":1}\n{\"a\":2, \"extra\": true}\n")
                .unwrap()
                .len(),
            2
        );
        assert!(parse_records::<R>(&s, b"  \n").unwrap().is_empty());
    }

    #[derive(Serialize)]
    struct Out {
        name: &'static str,
        port: Option<u16>,
        tags: Vec<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        late: Option<bool>,
    }

    impl Row for Out {
        fn headers() -> &'static [&'static str] {
            &["NAME"]
        }
        fn cells(&self) -> Vec<String> {
            vec![self.name.to_owned()]
        }
    }

    fn written(format: Format, items: &[Out]) -> String {
        let mut out = Vec::new();
        write_records_to(&mut out, format, items, || {
            table::render(Out::headers(), items.iter().map(Row::cells).collect())
        })
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_columns_are_the_json_fields_in_order() {
        let items = [
            Out {
                name: "a,b",
                port: None,
                tags: vec!["x", "y"],
                late: None,
            },
            Out {
                name: "c",
                port: Some(80),
                tags: vec![],
                late: Some(true),
            },
        ];
        assert_eq!(
            written(Format::Csv, &items),
            "name,port,tags,late\n\"a,b\",,\"[\"\"x\"\",\"\"y\"\"]\",\nc,80,[],true\n"
        );
        assert_eq!(written(Format::Csv, &[]), "");
        let nd = written(Format::Ndjson, &items);
        assert_eq!(nd.lines().count(), 2);
        for line in nd.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        let table = written(Format::Table, &items);
        assert!(
            table.trim_start().starts_with("NAME")
                && serde_json::from_str::<serde_json::Value>(&table).is_err()
        );
    }

    #[test]
    fn errors_name_source_line_and_column() {
        let err = parse_records::<R>(&Source::File("p.json".into()), b"{\"a\":1}\n{\"a\": }")
            .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("invalid JSON in p.json at line 2 column"),
            "{err:#}"
        );
    }
}
