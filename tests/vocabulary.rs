//! One CLI vocabulary across the tools: walks every tool's clap definition
//! (the one the man pages come from) and fails when a long or short flag has
//! two meanings, when a flag shared by two tools is missing from the table
//! below (and from the README's), when a destructive subcommand lacks
//! `--yes`, when a tool lacks `--quiet`, or when a duration flag does not
//! take berth's one duration syntax. Then runs each tool as a user does:
//! usage errors read `TOOL: error: ...`, and `--quiet` silences info lines.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use clap::{Arg, ArgAction, Command};
use common::{Harness, bin};

/// Every flag that more than one tool has (or that has a short form): its
/// short form, whether it takes a value, and its one meaning, as the
/// README's table says it.
const MEANINGS: &[(&str, Option<char>, bool, &str)] = &[
    ("help", Some('h'), false, "print help"),
    ("version", Some('V'), false, "print the version"),
    (
        "quiet",
        Some('q'),
        false,
        "no informational lines on stderr (errors and warnings still)",
    ),
    (
        "yes",
        Some('y'),
        false,
        "do not ask before a destructive step (needed when not on a terminal)",
    ),
    (
        "dry-run",
        None,
        false,
        "show on stdout what would change, change nothing",
    ),
    (
        "force",
        None,
        false,
        "go ahead despite a check that refused",
    ),
    ("json", None, false, "print JSON (same as --format json)"),
    ("format", None, true, "output format"),
    (
        "output",
        Some('o'),
        true,
        "write to FILE atomically instead of stdout",
    ),
    ("port", Some('p'), true, "a host port"),
    (
        "service",
        Some('s'),
        true,
        "one compose service of the project",
    ),
    ("dir", Some('d'), true, "the project folder"),
    ("project", None, true, "a registered project, by name"),
    ("stack", None, true, "a stack name (django, laravel, ...)"),
    ("tld", None, true, "the dev TLD"),
    (
        "root",
        None,
        true,
        "read and write system files under DIR instead of /",
    ),
    (
        "allow-empty",
        None,
        false,
        "accept an input or registry without a project",
    ),
    ("timeout", None, true, "a duration: how long to wait"),
    ("interval", None, true, "a duration: how long between tries"),
    ("with-data", None, false, "also delete the data volumes"),
    ("tail", Some('n'), true, "only the last N lines"),
    ("follow", Some('f'), false, "keep printing new lines"),
    ("timestamps", Some('t'), false, "show each line's time"),
    (
        "compress",
        Some('c'),
        true,
        "compression of the backup file",
    ),
];

/// Flags whose values are durations in berth's one syntax.
const DURATIONS: &[&str] = &["timeout", "stop-timeout", "interval", "within"];

/// Subcommands that destroy or replace something: each asks on a terminal
/// and takes `--yes`.
const DESTRUCTIVE: &[&str] = &[
    "registry remove",
    "registry import",
    "registry update",
    "certgen init",
    "certgen untrust",
    "dnsconf uninstall",
    "stackctl stop-all",
    "stackctl down",
    "stackgen add-service",
    "stackgen remove-service",
    "dbdump restore",
    "dbdump reset",
    "dbdump prune",
    "cigen generate",
    "secrets rm",
];

/// Verbs that name a destructive subcommand: a new one must join DESTRUCTIVE.
const DESTRUCTIVE_VERBS: &[&str] = &[
    "remove",
    "delete",
    "prune",
    "reset",
    "restore",
    "down",
    "uninstall",
    "untrust",
    "stop-all",
];

/// Old spellings kept as hidden aliases for one release (CHANGELOG.md).
const OLD_SPELLINGS: &[(&str, &[&str])] = &[
    ("registry", &["status", "shop", "running"]),
    ("registry", &["add", ".", "-n", "shop"]),
    ("registry", &["add", ".", "-s", "django"]),
    ("ports", &["alloc", "-n", "2"]),
    ("dnsconf", &["generate", "dnsmasq"]),
    (
        "proxyconf",
        &["reload", "--config", "C", "--address", "localhost:2019"],
    ),
    ("stackgen", &["update"]),
    ("stackgen", &["new", "django", "shop", "-s", "postgres"]),
    ("dbdump", &["backup", "--name", "x"]),
    ("dbdump", &["backup", "-n", "x"]),
    ("dbdump", &["list", "--dir", "b"]),
    ("dbdump", &["list", "-p", "shop"]),
    ("cigen", &["generate", "--force"]),
];

/// One flag where it is defined.
struct Use {
    at: String,
    arg: Arg,
}

fn tools() -> Vec<Command> {
    xtask::tools()
        .into_iter()
        .map(|mut c| {
            c.build();
            c
        })
        .collect()
}

/// Every named (non-positional) argument of every subcommand, with where.
fn flags() -> Vec<Use> {
    fn walk(cmd: &Command, path: &str, out: &mut Vec<Use>) {
        for a in cmd.get_arguments().filter(|a| !a.is_positional()) {
            out.push(Use {
                at: path.to_owned(),
                arg: a.clone(),
            });
        }
        for s in cmd.get_subcommands() {
            walk(s, &format!("{path} {}", s.get_name()), out);
        }
    }
    let mut out = Vec::new();
    for c in tools() {
        walk(&c, c.get_name(), &mut out);
    }
    out
}

fn takes_value(a: &Arg) -> bool {
    !matches!(
        a.get_action(),
        ArgAction::SetTrue
            | ArgAction::SetFalse
            | ArgAction::Count
            | ArgAction::Help
            | ArgAction::HelpShort
            | ArgAction::HelpLong
            | ArgAction::Version
    )
}

fn meaning(long: &str) -> Option<&'static (&'static str, Option<char>, bool, &'static str)> {
    MEANINGS.iter().find(|m| m.0 == long)
}

fn subcommand<'a>(tools: &'a [Command], path: &str) -> Option<&'a Command> {
    let mut words = path.split(' ');
    let first = words.next()?;
    let mut cmd = tools.iter().find(|c| c.get_name() == first)?;
    for w in words {
        cmd = cmd.find_subcommand(w)?;
    }
    Some(cmd)
}

#[test]
fn every_flag_has_one_meaning() {
    let flags = flags();
    let mut problems = Vec::new();
    // Which tools use each long flag, and which long flags each short names.
    let mut tools_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut longs_of: BTreeMap<char, BTreeSet<&str>> = BTreeMap::new();
    for u in &flags {
        let Some(long) = u.arg.get_long() else {
            problems.push(format!("{}: a flag without a long name", u.at));
            continue;
        };
        let tool = u.at.split(' ').next().unwrap_or_default();
        tools_of.entry(long).or_default().insert(tool);
        for s in u.arg.get_short_and_visible_aliases().into_iter().flatten() {
            longs_of.entry(s).or_default().insert(long);
        }
        if let Some((_, short, value, _)) = meaning(long) {
            if u.arg.get_short() != *short {
                problems.push(format!(
                    "{}: --{long} has short {:?}, the table says {short:?}",
                    u.at,
                    u.arg.get_short()
                ));
            }
            if takes_value(&u.arg) != *value {
                problems.push(format!(
                    "{}: --{long} {} a value, the table says it {}",
                    u.at,
                    if *value { "takes no" } else { "takes" },
                    if *value { "does" } else { "does not" }
                ));
            }
        } else if u.arg.get_short().is_some() {
            problems.push(format!(
                "{}: --{long} has a short flag but no line in MEANINGS",
                u.at
            ));
        }
    }
    for (long, tools) in &tools_of {
        if tools.len() > 1 && meaning(long).is_none() {
            problems.push(format!(
                "--{long} is used by {tools:?} but has no line in MEANINGS (and the README's table)"
            ));
        }
    }
    for (short, longs) in &longs_of {
        if longs.len() > 1 {
            problems.push(format!("-{short} means {longs:?}: one meaning only"));
        }
    }
    for u in &flags {
        let long = u.arg.get_long().unwrap_or_default();
        let help = u
            .arg
            .get_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        if long == "dir" && !help.contains("project folder") {
            problems.push(format!(
                "{}: --dir must mean the project folder, its help says {help:?}",
                u.at
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_table_lists_every_shared_flag() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let missing: Vec<&str> = MEANINGS
        .iter()
        .filter(|(long, short, _, _)| {
            let cell = match short {
                Some(s) => format!("| `-{s}`, `--{long}"),
                None => format!("| `--{long}"),
            };
            !readme.lines().any(|l| {
                l.strip_prefix(&cell)
                    .is_some_and(|rest| rest.starts_with('`') || rest.starts_with(' '))
            })
        })
        .map(|m| m.0)
        .collect();
    assert!(
        missing.is_empty(),
        "README's flag table lacks rows for {missing:?}"
    );
}

/// Subcommands whose verb is destructive must be in DESTRUCTIVE.
fn walk_destructive(cmd: &Command, path: &str, problems: &mut Vec<String>) {
    for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let p = format!("{path} {}", s.get_name());
        let verb = s.get_name();
        if DESTRUCTIVE_VERBS
            .iter()
            .any(|v| verb == *v || verb.ends_with(&format!("-{v}")))
            && !DESTRUCTIVE.contains(&p.as_str())
        {
            problems.push(format!(
                "{p} looks destructive: add it to DESTRUCTIVE, with --yes"
            ));
        }
        walk_destructive(s, &p, problems);
    }
}

#[test]
fn destructive_subcommands_take_yes_and_every_tool_takes_quiet() {
    let tools = tools();
    let mut problems = Vec::new();
    for path in DESTRUCTIVE {
        let Some(cmd) = subcommand(&tools, path) else {
            problems.push(format!("{path}: no such subcommand"));
            continue;
        };
        let yes = cmd.get_arguments().find(|a| a.get_long() == Some("yes"));
        if yes.is_none_or(|a| a.get_short() != Some('y')) {
            problems.push(format!("{path} lacks -y/--yes"));
        }
    }
    for t in &tools {
        walk_destructive(t, t.get_name(), &mut problems);
        let quiet = t.get_arguments().find(|a| a.get_long() == Some("quiet"));
        if quiet.is_none_or(|a| a.get_short() != Some('q') || !a.is_global_set()) {
            problems.push(format!("{} lacks a global -q/--quiet", t.get_name()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_duration_flag_takes_the_one_syntax() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for u in flags() {
        let long = u.arg.get_long().unwrap_or_default();
        if !DURATIONS.contains(&long) {
            continue;
        }
        seen += 1;
        let probe = |value: &str| {
            Command::new("probe")
                .arg(u.arg.clone().required(false).global(false))
                .try_get_matches_from(["probe", &format!("--{long}"), value])
        };
        for good in ["30s", "2m", "1h30m", "1500ms", "10", "0.5"] {
            if let Err(e) = probe(good) {
                problems.push(format!("{}: --{long} {good} refused: {e}", u.at));
            }
        }
        for bad in ["10x", "-1s", "soon"] {
            if probe(bad).is_ok() {
                problems.push(format!("{}: --{long} {bad} accepted", u.at));
            }
        }
        let name = u
            .arg
            .get_value_names()
            .map(|n| n.join(" "))
            .unwrap_or_default();
        if name != "DURATION" {
            problems.push(format!("{}: --{long} shows {name:?}, not DURATION", u.at));
        }
    }
    assert!(seen >= 10, "only {seen} duration flags found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn renamed_commands_and_flags_keep_their_old_spelling_hidden() {
    let tools = tools();
    for (tool, args) in OLD_SPELLINGS {
        let cmd = tools.iter().find(|c| c.get_name() == *tool).unwrap();
        let argv = std::iter::once(*tool).chain(args.iter().copied());
        let parsed = cmd.clone().try_get_matches_from(argv);
        assert!(parsed.is_ok(), "{tool} {args:?}: {}", parsed.unwrap_err());
    }
    for (path, old) in [
        ("registry set-status", "status"),
        ("stackgen update-templates", "update"),
        ("dnsconf print", "generate"),
    ] {
        let cmd = subcommand(&tools, path).unwrap_or_else(|| panic!("{path}"));
        assert!(
            cmd.get_all_aliases().any(|a| a == old) && !cmd.get_visible_aliases().any(|a| a == old),
            "{path} keeps {old} as a hidden alias"
        );
    }
}

#[test]
fn usage_errors_carry_the_tool_prefix() {
    for cmd in tools() {
        let tool = cmd.get_name().to_owned();
        let out = common::output_within(
            std::process::Command::new(bin(&tool)).arg("--no-such-flag"),
            std::time::Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{tool}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "{tool}: error: unexpected argument '--no-such-flag'"
            )),
            "{tool}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{tool} printed on stdout");
    }
}

#[test]
fn quiet_silences_information_but_not_errors() {
    let h = Harness::new();
    h.project("shop", &["8080:80"]);
    let loud = h.cmd("registry").args(["add", "shop"]).run().success();
    assert!(loud.stderr.contains("registered shop"), "{}", loud.stderr);
    h.project("cart", &["8081:80"]);
    let quiet = h
        .cmd("registry")
        .args(["add", "cart", "-q"])
        .run()
        .success();
    assert_eq!(quiet.stderr, "", "--quiet prints no information");
    assert_eq!(h.projects().len(), 2, "and still does the work");
    let err = h
        .cmd("registry")
        .args(["--quiet", "show", "nosuch"])
        .run()
        .code_is(2);
    assert!(
        err.stderr.starts_with("registry: error: "),
        "errors are still printed: {}",
        err.stderr
    );
}
