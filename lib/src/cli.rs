//! The one `main` every tool goes through: parse arguments, run, print errors
//! as `TOOL: error: ...` with the cause chain and a `hint:`, map exit statuses,
//! and treat a closed stdout pipe as success.

use std::fmt::{self, Write as _};
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Arg, ArgAction, CommandFactory, FromArgMatches};

/// How a tool's run ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success, and the check found nothing: exit 0.
    Clean,
    /// The check found something (a conflict, a taken port, a failed verification): exit 1.
    Found,
}

/// Exit status of an error: bad usage, bad input, I/O, an external system.
pub const EXIT_ERROR: u8 = 2;

/// A next step for the user, attached to an error with [`ResultExt::hint`].
///
/// It is carried in the error chain as a context whose text is empty, so it
/// never shows in the `what: why` line; the wrapper prints it as `hint: ...`.
#[derive(Debug)]
pub struct Hint(pub String);

impl fmt::Display for Hint {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

/// Attach a hint to an error.
pub trait ResultExt<T> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| e.into().context(Hint(hint.into())))
    }
}

/// Build an error carrying a hint.
pub fn error_with_hint(message: impl fmt::Display, hint: impl Into<String>) -> anyhow::Error {
    anyhow::anyhow!("{message}").context(Hint(hint.into()))
}

/// How many characters of a user value an error message quotes.
pub const QUOTE_CHARS: usize = 80;

/// A user value as an error message quotes it: control characters escaped
/// (no ANSI/OSC sequence reaches the terminal raw), cut to [`QUOTE_CHARS`]
/// characters with the full length noted.
pub fn excerpt(value: &str) -> String {
    let mut out = String::new();
    for (n, c) in value.chars().enumerate() {
        if n == QUOTE_CHARS {
            let _ = write!(out, "... ({} bytes in all)", value.len());
            break;
        }
        push_safe(&mut out, c);
    }
    out
}

/// Escape characters that could drive a terminal: C0/C1 controls, and the
/// bidirectional overrides that reorder what is shown.
fn push_safe(out: &mut String, c: char) {
    if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// Longest part of an error chain the wrapper prints, a last guard against a
/// message that quotes a whole input.
const MAX_PART: usize = 2000;

fn sanitize_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len().min(MAX_PART));
    for (n, c) in part.chars().enumerate() {
        if n == MAX_PART {
            out.push_str("...");
            break;
        }
        push_safe(&mut out, c);
    }
    out
}

/// Format an error as the lines the wrapper prints: `TOOL: error: a: b: c` then `hint: ...`.
/// Control characters are escaped and very long parts cut.
pub fn render_error(tool: &str, err: &anyhow::Error) -> String {
    let parts: Vec<String> = err
        .chain()
        .map(|e| sanitize_part(&e.to_string()))
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = format!("{tool}: error: {}\n", parts.join(": "));
    if let Some(Hint(h)) = err.downcast_ref::<Hint>() {
        out.push_str("hint: ");
        out.push_str(&sanitize_part(h));
        out.push('\n');
    }
    out
}

/// Whether an error is (or was caused by) a closed pipe on our output.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        let kind = e
            .downcast_ref::<io::Error>()
            .map(io::Error::kind)
            .or_else(|| {
                e.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            .or_else(
                || match e.downcast_ref::<csv::Error>().map(csv::Error::kind) {
                    Some(csv::ErrorKind::Io(io)) => Some(io.kind()),
                    _ => None,
                },
            );
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// The tool's clap definition with the options every tool shares
/// (`--quiet`/`-q`), as `main` parses it and the man pages show it.
pub fn command<C: CommandFactory>() -> clap::Command {
    C::command().arg(
        Arg::new(QUIET_ID)
            .short('q')
            .long("quiet")
            .global(true)
            .action(ArgAction::SetTrue)
            .help("Print no informational lines on stderr (errors and warnings still)"),
    )
}

const QUIET_ID: &str = "quiet";

static QUIET: AtomicBool = AtomicBool::new(false);
static TOOL: OnceLock<String> = OnceLock::new();

/// Whether `--quiet` was given.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Say `TOOL: message` on stderr, unless `--quiet`: the one way a tool
/// prints an informational line (what it wrote, what it would do, progress).
pub fn info(message: impl fmt::Display) {
    if !is_quiet() {
        let tool = TOOL.get().map_or("berth", String::as_str);
        let _ = writeln!(io::stderr(), "{tool}: {message}");
    }
}

/// `info!("wrote {}", path.display())`: [`info`] with `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        $crate::cli::info(format_args!($($arg)*))
    };
}

/// A clap error as the wrapper prints it: `TOOL: error: ...` in place of
/// clap's bare `error: ...`, the usage and tip lines kept.
fn render_clap_error(tool: &str, e: &clap::Error) -> String {
    let text = e.render().to_string();
    match text.strip_prefix("error: ") {
        Some(rest) => format!("{tool}: error: {rest}"),
        None => text,
    }
}

/// The entry point of every tool: `fn main() -> ExitCode { berth::cli::main::<Cli>(run) }`.
///
/// Usage errors from clap exit 2 like every other error, as `TOOL: error:
/// ...`; `--help` and `--version` exit 0.
pub fn main<C: CommandFactory + FromArgMatches>(run: fn(C) -> anyhow::Result<Outcome>) -> ExitCode {
    let cmd = command::<C>();
    let tool = cmd.get_name().to_owned();
    let _ = TOOL.set(tool.clone());
    let parsed = cmd.try_get_matches().and_then(|mut m| {
        QUIET.store(m.get_flag(QUIET_ID), Ordering::Relaxed);
        C::from_arg_matches_mut(&mut m)
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = io::stderr().write_all(render_clap_error(&tool, &e).as_bytes());
            return ExitCode::from(EXIT_ERROR);
        }
        Err(e) => {
            // A closed pipe while printing help is not worth a message.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Found) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = io::stderr().write_all(render_error(&tool, &e).as_bytes());
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// An error and its causes on one line, `a: b: c`, for libraries (Tera)
/// whose first message says little and whose causes span lines.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts
        .iter()
        .map(|p| p.replace('\n', " ").trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// Print a warning on stderr in the tool's voice.
pub fn warn(tool: &str, message: impl fmt::Display) {
    let _ = writeln!(io::stderr(), "{tool}: warning: {message}");
}

/// A warning and a `hint:` line on stderr in the running tool's voice (for
/// lib code that does not know which tool called it). Shown under
/// `--quiet` too: a warning says something is not as the user expects.
pub fn warn_with_hint(message: impl fmt::Display, hint: impl fmt::Display) {
    let tool = TOOL.get().map_or("berth", String::as_str);
    let _ = write!(io::stderr(), "{tool}: warning: {message}\nhint: {hint}\n");
}

/// The environment variable naming a test pause point (test-only).
pub const PAUSE_VAR: &str = "BERTH_TEST_PAUSE_AT";

/// A pause point for tests that kill a tool between two of its steps
/// (`secrets rotate`): when `BERTH_TEST_PAUSE_AT` is `point`, say `TOOL:
/// test pause at POINT` on stderr and sleep 60 s before going on. Test-only:
/// nothing sets the variable outside the test suite, and without it this
/// is one environment lookup.
pub fn pause_point(point: &str) {
    if std::env::var_os(PAUSE_VAR).is_some_and(|v| v == point) {
        let tool = TOOL.get().map_or("berth", String::as_str);
        let _ = writeln!(io::stderr(), "{tool}: test pause at {point}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Ask before a destructive action.
///
/// With `yes`, go ahead. On a terminal, ask and read the answer. Otherwise
/// refuse with a hint to pass `--yes`, so scripts never block on a prompt.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    let stdin = io::stdin();
    if !stdin.is_terminal() || !io::stderr().is_terminal() {
        return Err(error_with_hint(
            format!("{question}: refusing without confirmation (not a terminal)"),
            "pass --yes to confirm",
        ));
    }
    let mut stderr = io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn renders_chain_and_hint() {
        let err: anyhow::Result<()> = Err(anyhow::anyhow!("permission denied"));
        let err = err
            .context("cannot write /x/registry.json")
            .hint("check the folder's owner")
            .context("registry add")
            .unwrap_err();
        assert_eq!(
            render_error("registry", &err),
            "registry: error: registry add: cannot write /x/registry.json: permission denied\n\
             hint: check the folder's owner\n"
        );
    }

    #[test]
    fn excerpts_are_short_and_inert() {
        assert_eq!(excerpt("web"), "web");
        assert_eq!(excerpt("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        let long = "x".repeat(100_000_000);
        let e = excerpt(&long);
        assert!(
            e.len() < 200 && e.ends_with("(100000000 bytes in all)"),
            "{e}"
        );
        let err = anyhow::anyhow!("bad \u{1b}[31mred\u{202e}");
        let shown = render_error("t", &err);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
            "{shown}"
        );
        assert!(shown.contains("\\u{1b}[31mred"), "{shown}");
    }

    #[derive(clap::Parser, Debug)]
    #[command(name = "tool")]
    struct Demo {
        #[arg(long)]
        port: Option<u16>,
    }

    #[test]
    fn usage_errors_carry_the_tool_prefix_and_quiet_is_shared() {
        let cmd = command::<Demo>();
        let e = cmd
            .clone()
            .try_get_matches_from(["tool", "--port", "x"])
            .unwrap_err();
        let shown = render_clap_error("tool", &e);
        assert!(
            shown.starts_with("tool: error: invalid value 'x'"),
            "{shown}"
        );
        assert!(shown.contains("try '--help'"), "{shown}");
        let m = cmd.try_get_matches_from(["tool", "-q"]).unwrap();
        assert!(m.get_flag(QUIET_ID));
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let err =
            anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
