//! `secrets`: every generated password and key of a project, encrypted at
//! rest in berth's store (lib's `secrets` module), reached by name: set, get,
//! list (never values), rm, rotate (the database's password in the running
//! database too), env, run, and the key's export and import.
// Variable names (DB_PASSWORD) read better in help texts without backticks.
#![allow(clippy::doc_markdown)]

mod rotate;

use std::ffi::OsString;
use std::io::{self, BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::cli::{Outcome, ResultExt as _, confirm, error_with_hint};
use berth::io::{OutputArgs, Row};
use berth::paths::Paths;
use berth::secrets::{self as store, Key, ProjectSecrets, Store};
use berth_dbdump::password::Checker;
use clap::{Parser, Subcommand};
use serde::Serialize;

const TOOL: &str = "secrets";

const AFTER_HELP: &str = "\
Examples:
  secrets set shop DB_PASSWORD --generate alnum32    a new random value, never shown
  printf %s \"$value\" | secrets set shop API_TOKEN   a value from stdin
  secrets set shop API_TOKEN                         on a terminal: asks, without echo
  secrets get shop DB_PASSWORD                       the value and a newline
  secrets list shop                                  names, kinds, times (never values)
  secrets rotate shop POSTGRES_PASSWORD              new value, changed in the running database too
  secrets run shop -- php artisan migrate            CMD with the secrets in its environment
  secrets env shop > .env.local                      KEY='VALUE' lines (not to a terminal)
  secrets export-key -o key.txt                      then on the new machine:
  secrets import-key key.txt

The store: one file per project, $BERTH_HOME/secrets/PROJECT.enc (AES-256-GCM,
the project's name bound into it), and the key at $BERTH_HOME/secret.key (mode
0600, made on the first `set`). Without BERTH_HOME, the data folder is
$XDG_DATA_HOME/berth. Values never appear in arguments, logs or errors.

Exit status:
  0  success (for run: CMD's own status)
  1  rotate refused: the project's database is not running (nothing changed)
  2  an error: bad usage, an unknown project or key, a missing or wrong key, an
     altered file (never overwritten), a database error
  126, 127  run: CMD cannot be run, or is not found";

/// Project secrets, encrypted at rest: set, get, list, rotate, run.
///
/// Every password and key berth generates for a project (and any you add)
/// lives in one encrypted file per project, never in a compose file, `.env`,
/// argv or a log. Tools read them from the store; `secrets run` hands them
/// to any other program through its environment.
#[derive(Debug, Parser)]
#[command(name = "secrets", version, after_long_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Set(SetArgs),
    Get(GetArgs),
    List(ListArgs),
    Rm(RmArgs),
    Rotate(rotate::RotateArgs),
    Env(EnvArgs),
    Run(RunArgs),
    ExportKey(ExportKeyArgs),
    ImportKey(ImportKeyArgs),
}

/// Store a value under KEY: read from stdin, asked for on a terminal, or generated.
///
/// A value is never taken from the arguments (they show in the process
/// list). With --from-stdin, or when stdin is not a terminal, stdin is the
/// value (one trailing newline dropped, so `echo` and `secrets get` pipe
/// in as they are); on a terminal it is asked for without echo. With
/// --generate KIND a random value is made: alnumN (letters and digits),
/// hexN, base64_N (N random bytes) or laravel (an APP_KEY).
#[derive(Debug, clap::Args)]
struct SetArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    /// The key's name: an environment variable's name (DB_PASSWORD).
    #[arg(value_name = "KEY")]
    key: String,
    /// Read the value from stdin.
    #[arg(long, conflicts_with = "generate")]
    from_stdin: bool,
    /// Generate a random value of this kind (alnum32, hex64, base64_32, laravel).
    #[arg(long, value_name = "KIND")]
    generate: Option<String>,
}

/// Print one value and a newline.
#[derive(Debug, clap::Args)]
struct GetArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    /// The key's name.
    #[arg(value_name = "KEY")]
    key: String,
}

/// List a project's keys: name, kind, when created and rotated; never a value.
#[derive(Debug, clap::Args)]
struct ListArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// Remove a key and its value.
#[derive(Debug, clap::Args)]
struct RmArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    /// The key's name.
    #[arg(value_name = "KEY")]
    key: String,
    /// Do not ask (needed when not on a terminal).
    #[arg(short, long)]
    yes: bool,
}

/// Print `KEY='VALUE'` lines, one a key, for tools that need them.
///
/// Values are quoted for a POSIX shell (`set -a; . ./file`); compose reads
/// the same lines as an env_file when no value holds a single quote.
/// Refused when stdout is a terminal, unless --reveal.
#[derive(Debug, clap::Args)]
struct EnvArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    /// Print the values on a terminal too.
    #[arg(long)]
    reveal: bool,
}

/// Run CMD with the project's secrets added to its environment.
///
/// CMD replaces secrets (exec: no extra process; its exit status is the
/// status). The values reach CMD's environment only, never its arguments.
/// A secret overrides a variable of the same name already set.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The project, by name.
    #[arg(value_name = "PROJECT")]
    project: String,
    /// The command and its arguments (after `--`).
    #[arg(
        value_name = "CMD",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

/// Print the store's key (to move the secrets to another machine).
///
/// One line: `berth-secret-key:` and 64 hex digits. Anyone with it and the
/// files reads every secret: keep it like a password. Refused on a
/// terminal unless --reveal or -o.
#[derive(Debug, clap::Args)]
struct ExportKeyArgs {
    /// Write to FILE atomically instead of stdout (mode 0600).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the key on a terminal too.
    #[arg(long)]
    reveal: bool,
}

/// Install a key exported by `export-key` (from FILE, or stdin with `-` or when piped).
///
/// The key must open every existing secrets file, or nothing is written. A
/// different key already installed is replaced only with --force (it may
/// be the only one that opens secrets elsewhere).
#[derive(Debug, clap::Args)]
struct ImportKeyArgs {
    /// The exported key (`-` for stdin).
    #[arg(value_name = "FILE")]
    input: Option<PathBuf>,
    /// Replace a different key already installed.
    #[arg(long)]
    force: bool,
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Set(a) => set(&a),
        Command::Get(a) => get(&a),
        Command::List(a) => list(&a),
        Command::Rm(a) => rm(&a),
        Command::Rotate(a) => rotate::run(&a),
        Command::Env(a) => env(&a),
        Command::Run(a) => run_cmd(a),
        Command::ExportKey(a) => export_key(&a),
        Command::ImportKey(a) => import_key(&a),
    }
}

/// The store, and the check that `project` is one berth knows: registered,
/// or holding secrets already. Unknown names get the closest known one.
fn open_for(project: &str) -> anyhow::Result<(Store, Paths)> {
    berth::names::validate_label("project name", project)?;
    let paths = Paths::from_env()?;
    let store = Store::open_in(&paths)?;
    if store.file(project)?.exists() {
        return Ok((store, paths));
    }
    // Nothing stored yet: a registered project whose `.env` still holds
    // secret values (made by an earlier berth) has them moved into the
    // store first, as stackctl and dbdump do on their first use of it.
    if berth::secrets_migrate::on_first_use(&store, project)?.is_some() {
        return Ok((store, paths));
    }
    let projects = berth::registry::Registry::open(&paths).load()?;
    if projects.iter().any(|p| p.name == project) {
        return Ok((store, paths));
    }
    let mut names: Vec<String> = projects.into_iter().map(|p| p.name).collect();
    names.extend(store.projects()?);
    let hint = match berth::registry::closest(names.iter().map(String::as_str), project) {
        Some(near) => format!("did you mean '{near}'? (`registry list` shows the projects)"),
        None => "register it first (`registry add DIR`); `registry list` shows the projects".into(),
    };
    Err(error_with_hint(
        format!("no project named '{project}' in the registry or the secrets store"),
        hint,
    ))
}

/// The key's entry, or an error naming the closest key.
fn missing_key(secrets: &ProjectSecrets, project: &str, key: &str) -> anyhow::Error {
    let hint = match berth::registry::closest(secrets.names(), key) {
        Some(near) => format!("did you mean '{near}'? (`secrets list {project}` shows the keys)"),
        None if secrets.is_empty() => format!("project {project} has no secrets yet"),
        None => format!("`secrets list {project}` shows the keys"),
    };
    error_with_hint(format!("project {project} has no key '{key}'"), hint)
}

/// Longest value accepted from stdin.
const VALUE_LIMIT: u64 = 1 << 20;

fn set(a: &SetArgs) -> anyhow::Result<Outcome> {
    store::validate_key(&a.key)?;
    let (store, _) = open_for(&a.project)?;
    let (value, kind) = match &a.generate {
        Some(kind) => (
            store::generate(kind).hint("pick a kind: alnum32, hex64, base64_32 or laravel")?,
            kind.clone(),
        ),
        None => (read_value(&a.key, a.from_stdin)?, store::MANUAL.to_owned()),
    };
    let existed = store.update(&a.project, |p| {
        let existed = p.entry(&a.key).is_some();
        p.set(&a.key, value, &kind);
        Ok(existed)
    })?;
    berth::info!(
        "{} {} of project {}",
        if existed { "replaced" } else { "set" },
        a.key,
        a.project
    );
    Ok(Outcome::Clean)
}

/// The value from stdin, or asked for without echo on a terminal.
fn read_value(key: &str, from_stdin: bool) -> anyhow::Result<String> {
    let stdin = io::stdin();
    let mut value = if !from_stdin && stdin.is_terminal() {
        prompt_hidden(&format!("value for {key}: "))?
    } else {
        let mut buf = Vec::new();
        stdin
            .lock()
            .take(VALUE_LIMIT + 1)
            .read_to_end(&mut buf)
            .context("cannot read the value from stdin")?;
        if buf.len() as u64 > VALUE_LIMIT {
            anyhow::bail!("the value on stdin is longer than {VALUE_LIMIT} bytes");
        }
        String::from_utf8(buf).map_err(|e| {
            anyhow::anyhow!(
                "the value on stdin is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })?
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        return Err(error_with_hint(
            format!("no value for {key}: stdin was empty"),
            "pipe the value in (`printf %s \"$v\" | secrets set P KEY`), or use --generate KIND",
        ));
    }
    Ok(value)
}

/// Ask on the terminal with echo off, restored afterwards: also when the
/// user gives up with Ctrl-C (or the terminal hangs up), which would
/// otherwise end the process with the terminal's echo still off.
fn prompt_hidden(question: &str) -> anyhow::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let stdin = io::stdin();
    let old = tcgetattr(&stdin).context("cannot read the terminal's settings")?;
    let mut quiet = old.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .context("cannot watch for Ctrl-C")?;
    let watching = signals.handle();
    let restore = old.clone();
    let watcher = std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let _ = tcsetattr(io::stdin(), OptionalActions::Flush, &restore);
            let _ = writeln!(io::stderr());
            // The shell's convention for "ended by signal N".
            #[allow(clippy::exit, reason = "the prompt was abandoned; nothing to unwind")]
            std::process::exit(128 + sig);
        }
    });
    tcsetattr(&stdin, OptionalActions::Flush, &quiet)
        .context("cannot turn off the terminal's echo")?;
    // The question comes once echo is off and Ctrl-C is watched: what is
    // typed after it is never shown, and nothing typed before it is kept.
    // A closed stderr loses the question, not the terminal's echo.
    let mut stderr = io::stderr();
    let _ = write!(stderr, "{question}").and_then(|()| stderr.flush());
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, OptionalActions::Flush, &old);
    watching.close();
    let _ = watcher.join();
    read.context("cannot read the value from the terminal")?;
    Ok(line)
}

fn get(a: &GetArgs) -> anyhow::Result<Outcome> {
    store::validate_key(&a.key)?;
    let (store, _) = open_for(&a.project)?;
    let secrets = store.resolve(&a.project, &Checker)?;
    let value = secrets
        .get(&a.key)
        .ok_or_else(|| missing_key(&secrets, &a.project, &a.key))?;
    let mut out = berth::io::stdout();
    out.write_all(value.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(Outcome::Clean)
}

/// One key as `secrets list` prints it: never its value.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Serialize)]
pub struct Listed {
    pub project: String,
    pub key: String,
    /// How the value was made: a generator kind (`alnum32`, `laravel`, ...) or `manual`.
    pub kind: String,
    pub created: jiff::Timestamp,
    /// When the value last changed (null: never since it was created).
    pub rotated: Option<jiff::Timestamp>,
    /// Whether a new value of a rotation cut short waits beside the current
    /// one (kept when the database could not be reached to check which one
    /// works; `secrets rotate` resolves it). Never the value.
    pub pending: bool,
}

impl Row for Listed {
    fn headers() -> &'static [&'static str] {
        &["KEY", "KIND", "CREATED", "ROTATED"]
    }
    fn cells(&self) -> Vec<String> {
        let time = |t: &jiff::Timestamp| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
        vec![
            self.key.clone(),
            self.kind.clone(),
            time(&self.created),
            match (&self.rotated, self.pending) {
                (_, true) => "pending".into(),
                (Some(t), false) => time(t),
                (None, false) => "-".into(),
            },
        ]
    }
}

fn list(a: &ListArgs) -> anyhow::Result<Outcome> {
    let (store, _) = open_for(&a.project)?;
    let secrets = store.resolve(&a.project, &Checker)?;
    let items: Vec<Listed> = secrets
        .iter()
        .map(|(k, s)| Listed {
            project: a.project.clone(),
            key: k.to_owned(),
            kind: s.kind.clone(),
            created: s.created,
            rotated: s.rotated,
            pending: s.pending().is_some(),
        })
        .collect();
    berth::io::write_list(a.output.format(), &items)?;
    Ok(Outcome::Clean)
}

fn rm(a: &RmArgs) -> anyhow::Result<Outcome> {
    store::validate_key(&a.key)?;
    let (store, _) = open_for(&a.project)?;
    let secrets = store.load(&a.project)?;
    if secrets.entry(&a.key).is_none() {
        return Err(missing_key(&secrets, &a.project, &a.key));
    }
    if !confirm(
        &format!(
            "remove {} of project {} (its value is lost)",
            a.key, a.project
        ),
        a.yes,
    )? {
        berth::info!("nothing removed");
        return Ok(Outcome::Clean);
    }
    let removed = store.update(&a.project, |p| Ok(p.remove(&a.key)))?;
    if removed {
        berth::info!("removed {} of project {}", a.key, a.project);
    }
    Ok(Outcome::Clean)
}

/// `value` quoted for a POSIX shell: single quotes, `'` as `'\''`.
fn shell_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn env(a: &EnvArgs) -> anyhow::Result<Outcome> {
    if io::stdout().is_terminal() && !a.reveal {
        return Err(error_with_hint(
            "refusing to print secret values on a terminal",
            "redirect stdout (`secrets env P > FILE`, `| ...`), or pass --reveal",
        ));
    }
    let (store, _) = open_for(&a.project)?;
    let secrets = store.resolve(&a.project, &Checker)?;
    let mut out = berth::io::stdout();
    for (k, v) in secrets.env() {
        writeln!(out, "{k}={}", shell_quote(&v))?;
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

fn run_cmd(a: RunArgs) -> anyhow::Result<Outcome> {
    use std::os::unix::process::CommandExt as _;
    let (store, _) = open_for(&a.project)?;
    let secrets = store.resolve(&a.project, &Checker)?;
    let (program, args) = a
        .command
        .split_first()
        .context("no command given (after --)")?;
    let err = std::process::Command::new(program)
        .args(args)
        .envs(secrets.env())
        .exec();
    drop(secrets);
    // exec returns only when CMD could not be started: the status of `env`.
    let shown = berth::cli::excerpt(&program.to_string_lossy());
    let (code, hint) = if err.kind() == io::ErrorKind::NotFound {
        (127, "is it installed, and on PATH?")
    } else {
        (126, "is it executable?")
    };
    let e = error_with_hint(format!("cannot run {shown}: {err}"), hint);
    let _ = io::stderr().write_all(berth::cli::render_error(TOOL, &e).as_bytes());
    #[allow(clippy::exit)] // the status of a command that cannot run, as env(1) gives
    std::process::exit(code)
}

fn export_key(a: &ExportKeyArgs) -> anyhow::Result<Outcome> {
    let paths = Paths::from_env()?;
    let store = Store::open_in(&paths)?;
    let Some(key) = store.key() else {
        return Err(error_with_hint(
            format!("there is no key at {} yet", store.key_path().display()),
            "the first `secrets set` makes one",
        ));
    };
    let text = key.export_text();
    if let Some(path) = &a.output {
        let existed = path.exists();
        berth::atomic::write_with(
            path,
            text.as_bytes(),
            berth::atomic::Options::new(0o600)
                .exact_mode()
                .follow_symlinks(),
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
        berth::info!(
            "{} {} (keep it like a password)",
            if existed { "replaced" } else { "wrote" },
            path.display()
        );
    } else {
        if io::stdout().is_terminal() && !a.reveal {
            return Err(error_with_hint(
                "refusing to print the key on a terminal",
                "write it to a file with -o FILE, redirect stdout, or pass --reveal",
            ));
        }
        berth::io::write_text(&text)?;
    }
    Ok(Outcome::Clean)
}

/// Longest key file read.
const KEY_FILE_LIMIT: u64 = 4096;

fn read_key_input(input: Option<&Path>) -> anyhow::Result<(String, Vec<u8>)> {
    match input {
        Some(p) if p != Path::new("-") => {
            let bytes = berth::fsread::read_bounded(p, KEY_FILE_LIMIT)?
                .with_context(|| format!("cannot read {}: no such file", p.display()))?;
            Ok((p.display().to_string(), bytes))
        }
        _ => {
            let stdin = io::stdin();
            if input.is_none() && stdin.is_terminal() {
                return Err(error_with_hint(
                    "no key given",
                    "name the file (`secrets import-key key.txt`), or pipe it in with `-`",
                ));
            }
            let mut buf = Vec::new();
            stdin
                .lock()
                .take(KEY_FILE_LIMIT + 1)
                .read_to_end(&mut buf)
                .context("cannot read the key from stdin")?;
            Ok(("stdin".into(), buf))
        }
    }
}

fn import_key(a: &ImportKeyArgs) -> anyhow::Result<Outcome> {
    let (source, bytes) = read_key_input(a.input.as_deref())?;
    let key = Key::parse(&bytes).ok_or_else(|| {
        error_with_hint(
            format!("{source} does not hold a berth secrets key"),
            "give the file `secrets export-key` wrote (`berth-secret-key:` and 64 hex digits)",
        )
    })?;
    let paths = Paths::from_env()?;
    // A missing key with existing files is what import-key repairs: open
    // without that check.
    let mut store = match Store::open_in(&paths) {
        Ok(s) => s,
        Err(_) if !paths.data.join("secret.key").exists() => Store::without_key(&paths),
        Err(e) => {
            if !a.force {
                return Err(e);
            }
            Store::without_key(&paths)
        }
    };
    if let Some(old) = store.key() {
        if old.as_bytes() == key.as_bytes() {
            berth::info!(
                "the key at {} is this key already",
                store.key_path().display()
            );
            return Ok(Outcome::Clean);
        }
        if !a.force {
            return Err(error_with_hint(
                format!(
                    "a different key is installed at {}",
                    store.key_path().display()
                ),
                "replacing it orphans the secrets it opens: export it first (`secrets export-key -o FILE`), then pass --force",
            ));
        }
    }
    let bad = store.files_not_opened_by(&key)?;
    if let Some(first) = bad.first() {
        return Err(error_with_hint(
            format!(
                "the key from {source} does not open {} ({} of {} files)",
                first.display(),
                bad.len(),
                store.files()?.len()
            ),
            "nothing was written: import the key those files were written with",
        ));
    }
    store.install_key(key)?;
    berth::info!(
        "installed the key at {} ({} project files open with it)",
        store.key_path().display(),
        store.files()?.len()
    );
    Ok(Outcome::Clean)
}

/// The JSON Schemas of what this prints, by schema name.
#[cfg(feature = "schema")]
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("secret", berth::schema::of::<Listed>())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_reads_back_in_sh() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$x#\"\n"), "'$x#\"\n'");
    }
}
