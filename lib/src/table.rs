//! Tables for terminals: plain columns, bold headers when colour is on
//! (stdout is a terminal and `NO_COLOR` is not set).

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
        b.push_record(r);
    }
    let mut t = b.build();
    t.with(Style::blank());
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// Paint a status word when colour is on.
pub fn paint_status(status: &str) -> String {
    if !colour() {
        return status.to_owned();
    }
    let code = match status {
        "running" => "32",
        "error" => "31",
        "stopped" => "33",
        _ => return status.to_owned(),
    };
    format!("\x1b[{code}m{status}\x1b[0m")
}
