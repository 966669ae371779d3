//! JSON in and out. Input: a FILE argument, or stdin when the argument is `-`
//! or absent and stdin is not a terminal; a JSON array, one object, or
//! newline-delimited objects. Output: `--json`, or `--format
//! json|ndjson|csv|table`, tables by default.

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
pub fn parse_records<T: DeserializeOwned>(source: &Source, bytes: &[u8]) -> anyhow::Result<Vec<T>> {
    // One UTF-8 check for the whole input, then parsing from &str, which
    // spares serde_json a check per string.
    let text = utf8(source, bytes)?;
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

/// The input as text, or an error naming where it stops being UTF-8.
pub fn utf8<'a>(source: &dyn std::fmt::Display, bytes: &'a [u8]) -> anyhow::Result<&'a str> {
    std::str::from_utf8(bytes)
        .map_err(|e| anyhow!("invalid UTF-8 in {source} at byte {}", e.valid_up_to()))
}

/// Read and parse records from a FILE argument or stdin; `None` when there is no input.
pub fn read_records<T: DeserializeOwned>(arg: Option<&Path>) -> anyhow::Result<Option<Vec<T>>> {
    match read_input(arg)? {
        None => Ok(None),
        Some((source, bytes)) => parse_records(&source, &bytes).map(Some),
    }
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

/// The output flags every listing command takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Print JSON (same as --format json).
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,
    /// Output format.
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

/// Something shown as a table row or CSV record.
pub trait Row: Serialize {
    fn headers() -> &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

/// A buffered stdout, flushed by [`Out::finish`].
pub fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, io::stdout().lock())
}

/// Write a list in the chosen format.
pub fn write_list<T: Row>(format: Format, items: &[T]) -> anyhow::Result<()> {
    let mut out = stdout();
    match format {
        Format::Json => json_to(&mut out, items)?,
        Format::Ndjson => {
            for item in items {
                serde_json::to_writer(&mut out, item)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => write_csv(&mut out, items)?,
        Format::Table => {
            let rows: Vec<Vec<String>> = items.iter().map(Row::cells).collect();
            out.write_all(table::render(T::headers(), rows).as_bytes())?;
        }
    }
    out.flush()?;
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

fn write_csv<T: Row, W: Write>(w: W, items: &[T]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(T::headers())?;
    for item in items {
        csv.write_record(item.cells())?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
