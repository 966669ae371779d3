//! One CLI vocabulary across the tools: walks every tool's clap definition
//! (the one the man pages come from) and fails when a long or short flag has
//! two meanings, when a flag shared by two tools is missing from the table
//! below (and from the README's), when a destructive subcommand lacks
//! `--yes`, when a tool lacks `--quiet`, or when a duration flag does not
//! take berth's one duration syntax; each check is also fed bad definitions
//! to show it can fail. Then runs each tool as a user does: usage errors
//! read `TOOL: error: ...`, `--quiet` silences info lines, every `--dry-run`
//! previews on stdout, and one folder is one project in registry and ports.
//! (That every `--format` value works is tests/schemas.rs's walk.)

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
    (
        "name",
        None,
        true,
        "the project's name, where it is not the folder's",
    ),
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
    (
        "progress",
        None,
        false,
        "show progress on stderr even when it is not a terminal",
    ),
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
    "stackgen generate",
    "stackgen set",
    "stackgen unset",
    "stackgen wire",
    "stackgen import",
    "stackgen migrate",
    "stackctl apply",
    "dbdump restore",
    "dbdump reset",
    "dbdump prune",
    "cigen generate",
    "secrets rm",
    "shared down",
    "shared db drop",
    "shared router down",
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
    flags_of(&tools())
}

fn flags_of(tools: &[Command]) -> Vec<Use> {
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
    for c in tools {
        walk(c, c.get_name(), &mut out);
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
    let problems = flag_problems(&tools());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What breaks "one flag, one meaning" in these definitions.
fn flag_problems(tools: &[Command]) -> Vec<String> {
    let flags = flags_of(tools);
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
    problems
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
fn walk_destructive(cmd: &Command, path: &str, destructive: &[&str], problems: &mut Vec<String>) {
    for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let p = format!("{path} {}", s.get_name());
        let verb = s.get_name();
        if DESTRUCTIVE_VERBS
            .iter()
            .any(|v| verb == *v || verb.ends_with(&format!("-{v}")))
            && !destructive.contains(&p.as_str())
        {
            problems.push(format!(
                "{p} looks destructive: add it to DESTRUCTIVE, with --yes"
            ));
        }
        walk_destructive(s, &p, destructive, problems);
    }
}

#[test]
fn destructive_subcommands_take_yes_and_every_tool_takes_quiet() {
    let problems = confirmation_problems(&tools(), DESTRUCTIVE);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What breaks the confirmation rule (and the one `--quiet`) in these definitions.
fn confirmation_problems(tools: &[Command], destructive: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for path in destructive {
        let Some(cmd) = subcommand(tools, path) else {
            problems.push(format!("{path}: no such subcommand"));
            continue;
        };
        let yes = cmd.get_arguments().find(|a| a.get_long() == Some("yes"));
        if yes.is_none_or(|a| a.get_short() != Some('y')) {
            problems.push(format!("{path} lacks -y/--yes"));
        }
    }
    for t in tools {
        walk_destructive(t, t.get_name(), destructive, &mut problems);
        let quiet = t.get_arguments().find(|a| a.get_long() == Some("quiet"));
        if quiet.is_none_or(|a| a.get_short() != Some('q') || !a.is_global_set()) {
            problems.push(format!("{} lacks a global -q/--quiet", t.get_name()));
        }
    }
    problems
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

/// The checks above can fail: each is fed definitions that break its rule
/// (and one that keeps it), and must name every break.
#[test]
fn the_checks_catch_bad_definitions() {
    let quiet = || {
        Arg::new("quiet")
            .long("quiet")
            .short('q')
            .global(true)
            .action(ArgAction::SetTrue)
    };
    let alpha = Command::new("alpha")
        .arg(quiet())
        .subcommand(
            Command::new("run").arg(Arg::new("port").long("port").short('p').value_name("P")),
        )
        .subcommand(
            Command::new("zap")
                .arg(
                    Arg::new("dir")
                        .long("dir")
                        .short('d')
                        .help("The backup folder"),
                )
                .arg(Arg::new("colour").long("colour")),
        );
    let beta = Command::new("beta")
        .arg(Arg::new("colour").long("colour"))
        .subcommand(Command::new("go").arg(Arg::new("project").long("project").short('p')))
        .subcommand(
            Command::new("wait").arg(Arg::new("yes").long("yes").short('y').value_name("WHEN")),
        );
    let problems = flag_problems(&[alpha.clone(), beta.clone()]).join("\n");
    for want in [
        "-p means",
        "beta go: --project has short Some('p'), the table says None",
        "alpha zap: --dir must mean the project folder",
        "--colour is used by",
        "beta wait: --yes takes a value",
    ] {
        assert!(problems.contains(want), "missed {want:?} in:\n{problems}");
    }
    let good = Command::new("gamma")
        .arg(quiet())
        .subcommand(
            Command::new("run").arg(Arg::new("port").long("port").short('p').value_name("P")),
        )
        .subcommand(
            Command::new("prune").arg(
                Arg::new("yes")
                    .long("yes")
                    .short('y')
                    .action(ArgAction::SetTrue),
            ),
        );
    assert_eq!(
        flag_problems(std::slice::from_ref(&good)),
        Vec::<String>::new()
    );
    assert_eq!(
        confirmation_problems(std::slice::from_ref(&good), &["gamma prune"]),
        Vec::<String>::new()
    );

    let risky = Command::new("delta")
        .subcommand(Command::new("wipe"))
        .subcommand(Command::new("delete"))
        .subcommand(Command::new("cache").subcommand(Command::new("force-reset")));
    let problems = confirmation_problems(
        &[good, risky],
        &["gamma prune", "delta wipe", "delta nosuch"],
    )
    .join("\n");
    for want in [
        "delta wipe lacks -y/--yes",
        "delta delete looks destructive",
        "delta cache force-reset looks destructive",
        "delta nosuch: no such subcommand",
        "delta lacks a global -q/--quiet",
    ] {
        assert!(problems.contains(want), "missed {want:?} in:\n{problems}");
    }
}

/// `registry add` and `ports scan` read a folder through lib's one reader:
/// the same folder (override file, `.env` interpolation, an inactive
/// profile, long and short port syntax) is the same project in both.
#[test]
fn one_folder_is_one_project_in_registry_and_ports() {
    let h = Harness::new();
    let (web, db, dns) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    h.write(
        "My Shop/compose.yaml",
        &format!(
            "services:
  web:
    image: nginx
    ports: [\"127.0.0.1:${{WEB_PORT}}:80\"]
  db:
    image: postgres:16
    ports:
      - target: 5432
        published: \"{db}\"
  debug:
    image: busybox
    profiles: [debug]
    ports: [\"9999:9999\"]
"
        ),
    );
    h.write(
        "My Shop/compose.override.yaml",
        &format!("services:\n  dns:\n    image: coredns\n    ports: [\"{dns}:53/udp\"]\n"),
    );
    h.write("My Shop/.env", &format!("WEB_PORT={web}\n"));
    let dir = h.path().join("My Shop");
    let added = h
        .cmd("registry")
        .arg("add")
        .arg(&dir)
        .arg("--json")
        .run()
        .success()
        .stderr_has("'debug' is behind an inactive profile")
        .json();
    let scanned = h
        .cmd("ports")
        .arg("scan")
        .arg(&dir)
        .arg("--json")
        .run()
        .success()
        .stderr_has("'debug' is behind an inactive profile")
        .json();
    assert_eq!(added["name"], "my-shop");
    let rows = scanned.as_array().unwrap();
    assert!(rows.iter().all(|r| r["project"] == "my-shop"), "{scanned}");
    let bindings: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut b = r.clone();
            b.as_object_mut().unwrap().remove("project");
            b
        })
        .collect();
    assert_eq!(
        serde_json::Value::Array(bindings),
        added["service_ports"],
        "ports scan and registry add disagree on {}",
        dir.display()
    );
    let published: BTreeSet<u64> = rows
        .iter()
        .filter_map(|r| r["published"].as_u64())
        .collect();
    assert_eq!(
        published,
        BTreeSet::from([u64::from(web), u64::from(db), u64::from(dns)])
    );
    assert_eq!(
        added["services"],
        serde_json::json!(["web", "db", "dns"]),
        "{added}"
    );
    let files = added["compose_files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{added}");
}

/// `--dry-run` shows on stdout what would change, for every command that
/// has it: each case runs the command and finds its preview on stdout.
#[test]
#[allow(clippy::too_many_lines)] // one table of cases, and the setup they share
fn every_dry_run_previews_on_stdout() {
    let h = Harness::new();
    let port = common::free_port();
    let shop = h.project("shop", &[&format!("{port}:5432")]);
    h.cmd("registry").arg("add").arg(&shop).run().success();
    let export = h.cmd("registry").arg("export").run().success().stdout;
    let export_file = h.write("export.json", &export);
    h.write(
        "shop/compose.yaml",
        &format!(
            "services:\n  db:\n    image: postgres:16\n    ports: [\"{}:5432\"]\n",
            common::free_port()
        ),
    );
    h.cmd("certgen").arg("init").run().success();
    h.cmd("certgen")
        .args(["issue", "shop.test"])
        .run()
        .success();
    let root = h.path().join("root");
    h.write("root/etc/hosts", "127.0.0.1 localhost\n");
    h.cmd("dnsconf")
        .args(["install", "hosts", "--no-reload", "--root"])
        .arg(&root)
        .run()
        .success();
    h.cmd("stackgen")
        .args(["new", "django", "blog", "--no-generator"])
        .run()
        .success();
    let blog = h.path().join("blog");
    // A project from before berth.yaml (generate writes one), one with an
    // override (unset takes it back), and a shared stack file with one more
    // instance (import adds it).
    for name in ["older", "pinned"] {
        h.cmd("stackgen")
            .args(["new", "django", name, "--no-generator"])
            .run()
            .success();
    }
    let older = h.path().join("older");
    std::fs::remove_file(older.join("berth.yaml")).unwrap();
    let pinned = h.path().join("pinned");
    h.cmd("stackgen")
        .args(["set", "postgres.version=15", "--yes", "--dir"])
        .arg(&pinned)
        .run()
        .success();
    let shared = h
        .cmd("stackgen")
        .args(["export", "--dir"])
        .arg(&blog)
        .run()
        .success();
    let shared_file = h.write(
        "blog.berth.yaml",
        &shared
            .stdout
            .replace("  postgres:\n", "  postgres:\n  redis:\n"),
    );
    let templates = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/stackgen/templates");
    let root_s = root.to_str().unwrap();
    let blog_s = blog.to_str().unwrap();
    let older_s = older.to_str().unwrap();
    let pinned_s = pinned.to_str().unwrap();
    let shared_s = shared_file.to_str().unwrap();
    let export_s = export_file.to_str().unwrap();
    // (subcommand path, arguments, what stdout shows)
    let mut cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("registry remove", vec!["shop"], "would remove: shop"),
        (
            "registry import",
            vec![export_s, "--replace"],
            "would replace 1 registered project(s)",
        ),
        ("registry update", vec!["shop"], "~ port db"),
        ("certgen issue", vec!["cart.test"], "would-issue"),
        ("certgen renew", vec!["--force"], "would-issue"),
        (
            "certgen trust",
            vec!["--no-nss", "--root", root_s],
            "would-add",
        ),
        (
            "certgen untrust",
            vec!["--no-nss", "--root", root_s],
            "absent",
        ),
        (
            "dnsconf install",
            vec!["dnsmasq", "--root", root_s],
            "address=/test/127.0.0.1",
        ),
        (
            "dnsconf uninstall",
            vec!["hosts", "--root", root_s],
            "127.0.0.1 localhost",
        ),
        (
            "stackgen new",
            vec!["django", "cart", "--no-generator"],
            "+++ b/compose.yaml",
        ),
        (
            "stackgen add-service",
            vec!["redis", "--dir", blog_s],
            "+++ b/.berth/compose.services.yaml",
        ),
        (
            "stackgen remove-service",
            vec!["postgres", "--dir", blog_s],
            "+++ b/.berth/compose.services.yaml",
        ),
        (
            "stackgen update-templates",
            vec!["--from", templates],
            "+++ b/",
        ),
        ("cigen generate", vec!["--dir", blog_s], "would write"),
        (
            "stackgen generate",
            vec!["--dir", older_s],
            "+++ b/berth.yaml",
        ),
        (
            "stackgen set",
            vec!["postgres.version=15", "--dir", blog_s],
            "+++ b/.berth/compose.services.yaml",
        ),
        (
            "stackgen unset",
            vec!["postgres.version", "--dir", pinned_s],
            "-    image: postgres:15",
        ),
        (
            "stackgen wire",
            vec!["app.database", "postgres", "--dir", blog_s],
            "+++ b/berth.yaml",
        ),
        (
            "stackgen import",
            vec![shared_s, "--dir", blog_s],
            "+  redis:",
        ),
    ];
    let engine = common::docker_ready(&[]);
    if engine {
        cases.push(("stackctl down", vec!["shop"], "shop: would remove"));
    }
    // Their --dry-run is a check whose answer is the exit status, or needs
    // a database's backups: tested where their tool is.
    let elsewhere = [
        (
            "proxyconf reload",
            "validates with caddy; nothing to preview",
        ),
        (
            "dbdump prune",
            "needs backups: tests/dbdump.rs, tests/schemas.rs",
        ),
        (
            "stackgen migrate",
            "needs a registered project with a database: tests/migrate.rs",
        ),
    ];
    let mut problems = Vec::new();
    for (path, args, want) in &cases {
        let mut words = path.split(' ');
        let run = h
            .cmd(words.next().unwrap())
            .args(words)
            .args(args)
            .arg("--dry-run")
            .run();
        if run.code != 0 || !run.stdout.contains(want) {
            problems.push(format!(
                "{path} {args:?} --dry-run: exit {}, {want:?} not on stdout\nstdout: {}\nstderr: {}",
                run.code, run.stdout, run.stderr
            ));
        }
    }
    // Nothing was changed.
    assert_eq!(h.projects().len(), 1, "a dry run changed the registry");
    assert!(
        !h.path().join("cart").exists(),
        "stackgen new --dry-run wrote"
    );
    assert!(!blog.join(".github").exists(), "cigen --dry-run wrote");
    // Every command with --dry-run has a case here (or a reason).
    let mut offered = BTreeSet::new();
    for u in flags() {
        if u.arg.get_long() == Some("dry-run") {
            offered.insert(u.at.clone());
        }
    }
    for path in offered {
        let covered = cases.iter().any(|c| c.0 == path)
            || elsewhere.iter().any(|e| e.0 == path)
            || (path == "stackctl down" && !engine);
        if !covered {
            problems.push(format!("{path} has --dry-run and no case here"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
