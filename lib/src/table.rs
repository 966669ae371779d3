//! Tables for terminals: plain columns, bold headers when colour is on
//! (stdout is a terminal and `NO_COLOR` is not set). Every cell's control
//! characters are shown escaped (`\u{1b}`), so no value reaches the terminal
//! as an escape sequence; only the colours this module paints do.

use std::fmt::Write as _;
use std::io::IsTerminal;

use tabled::builder::Builder;
use tabled::settings::Style;

/// Whether to colour stdout.
pub fn colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Render rows under headers.
pub fn render(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let bold = colour();
    let mut b = Builder::with_capacity(rows.len() + 1, headers.len());
    b.push_record(headers.iter().map(|h| {
        let h = h.to_uppercase();
        if bold {
            format!("\x1b[1m{h}\x1b[0m")
        } else {
            h
        }
    }));
    for r in rows {
        b.push_record(r.into_iter().map(|cell| {
            if is_painted(&cell) {
                cell
            } else {
                escape_controls(&cell)
            }
        }));
    }
    let mut t = b.build();
    t.with(Style::blank());
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// The status words painted, and their colours.
const PAINTS: [(&str, &str); 3] = [("running", "32"), ("error", "31"), ("stopped", "33")];

/// Paint a status word when colour is on.
pub fn paint_status(status: &str) -> String {
    if !colour() {
        return status.to_owned();
    }
    match PAINTS.iter().find(|(word, _)| *word == status) {
        Some((word, code)) => painted(word, code),
        None => status.to_owned(),
    }
}

fn painted(word: &str, code: &str) -> String {
    format!("\x1b[{code}m{word}\x1b[0m")
}

/// Whether a cell is exactly what [`paint_status`] makes of a status word.
fn is_painted(cell: &str) -> bool {
    cell.starts_with('\x1b') && PAINTS.iter().any(|(w, c)| cell == painted(w, c))
}

/// Text with its control characters escaped (`\u{1b}`, `\u{7}`), newlines
/// (which separate lines within a cell) and tabs aside; so are the bidi
/// controls that reorder what a terminal shows.
pub fn escape_controls(text: &str) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_escape_sequences_escaped_and_painted_statuses_as_they_are() {
        let table = render(
            &["name", "status"],
            vec![
                vec![
                    "a\u{1b}]0;pwned\u{7}b\u{1b}[2J".into(),
                    painted("running", "32"),
                ],
                vec!["c\u{9b}31m\rd\u{202e}".into(), "\x1b[31mfake\x1b[0m".into()],
            ],
        );
        assert!(!table.contains("\u{1b}]"), "{table:?}");
        assert!(!table.contains("\u{1b}[2J"), "{table:?}");
        assert!(!table.contains('\u{7}') && !table.contains('\u{9b}') && !table.contains('\r'));
        assert!(
            table.contains("a\\u{1b}]0;pwned\\u{7}b\\u{1b}[2J"),
            "{table}"
        );
        assert!(
            table.contains("\\u{202e}") && table.contains("\\u{1b}[31mfake"),
            "{table}"
        );
        assert!(table.contains("\u{1b}[32mrunning\u{1b}[0m"), "{table:?}");
        assert_eq!(escape_controls("plain\ttext"), "plain\ttext");
    }
}
