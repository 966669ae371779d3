//! Snapshots of what the tools print, as a user runs them: exit status,
//! stdout and stderr of every subcommand's `--help`, each output format of
//! the listing commands that run without Docker or network, and each error
//! class (usage, bad input, a missing part). The cases are trycmd files
//! under tests/cmd/ (help/ generated from the clap definitions, list/ and
//! errors/ written by hand); each runs in a sandbox copy of
//! tests/cmd/fixtures/ with `BERTH_HOME=home` there, and paths under it
//! print as `[CWD]`/`[ROOT]`, the version as `[VERSION]`. The fixtures'
//! times are fixed, so no output carries the clock.
//!
//! Regenerate every snapshot (and the help cases, when a subcommand comes or
//! goes) with one command: `make snapshots` (`TRYCMD=overwrite cargo test
//! --test cli_snapshots`). Review the diff, then commit it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The folders of cases under tests/cmd/.
const CASES: [&str; 3] = ["help", "list", "errors"];

const HEADER: &str =
    "# Generated from the clap definitions by tests/cli_snapshots.rs: `make snapshots`.\n";

/// One help case per command and subcommand (hidden ones left out):
/// file stem (`registry-list`) and its TOML.
fn help_cases() -> BTreeMap<String, String> {
    fn walk(cmd: &clap::Command, path: &[String], tool: &str, out: &mut BTreeMap<String, String>) {
        let mut stem = vec![tool.to_owned()];
        stem.extend(path.iter().cloned());
        let mut args: Vec<String> = path.iter().map(|a| format!("{a:?}")).collect();
        args.push("\"--help\"".to_owned());
        out.insert(
            stem.join("-"),
            format!(
                "{HEADER}bin.name = {tool:?}\nargs = [{}]\n",
                args.join(", ")
            ),
        );
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            let mut next = path.to_vec();
            next.push(sub.get_name().to_owned());
            walk(sub, &next, tool, out);
        }
    }
    let mut out = BTreeMap::new();
    for cmd in xtask::tools() {
        let tool = cmd.get_name().to_owned();
        walk(&cmd, &[], &tool, &mut out);
    }
    out
}

/// Makes tests/cmd/help/ hold exactly the help cases of the clap
/// definitions: with `overwrite`, writes what is missing or changed and
/// removes the cases (and snapshots) of commands that are gone; without it,
/// fails naming them.
fn sync_help_cases(dir: &Path, overwrite: bool) {
    let want = help_cases();
    let mut have = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("tests/cmd/help") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            have.insert(stem, std::fs::read_to_string(&path).unwrap());
        }
    }
    let changed: Vec<&String> = want
        .iter()
        .filter(|(stem, text)| have.get(*stem) != Some(*text))
        .map(|(stem, _)| stem)
        .collect();
    let gone: Vec<&String> = have.keys().filter(|s| !want.contains_key(*s)).collect();
    if !overwrite {
        assert!(
            changed.is_empty() && gone.is_empty(),
            "help cases differ from the clap definitions (run `make snapshots`): \
             missing or changed {changed:?}, gone {gone:?}"
        );
        return;
    }
    for stem in changed {
        std::fs::write(dir.join(format!("{stem}.toml")), &want[stem]).unwrap();
    }
    for stem in gone {
        for ext in ["toml", "stdout", "stderr"] {
            let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
        }
    }
}

/// Every case in `dir` has its `.stdout` and `.stderr` snapshots (trycmd
/// checks, and overwrites, only the ones that exist): with `overwrite`, empty
/// ones are created for trycmd to fill; without it, fails naming them.
fn snapshot_files(dir: &Path, overwrite: bool) {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let case = entry.unwrap().path();
        if case.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        for ext in ["stdout", "stderr"] {
            let snapshot = case.with_extension(ext);
            if snapshot.exists() {
                continue;
            }
            if overwrite {
                std::fs::write(&snapshot, "").unwrap();
            } else {
                missing.push(snapshot.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "snapshots missing (run `make snapshots`): {missing:?}"
    );
}

#[test]
fn cli_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let overwrite = std::env::var("TRYCMD").as_deref() == Ok("overwrite");
    sync_help_cases(&root.join("tests/cmd/help"), overwrite);
    for dir in CASES {
        snapshot_files(&root.join("tests/cmd").join(dir), overwrite);
    }

    let cases = trycmd::TestCases::new();
    for cmd in xtask::tools() {
        let name = cmd.get_name().to_owned();
        let path = common::bin(&name);
        cases.register_bin(name, path);
    }
    // The same output wherever it runs: no colour, help wrapped at 100
    // columns, no user's config or compose settings.
    cases
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("LINES", "40")
        .env("BERTH_HOME", "home")
        .env("XDG_DATA_HOME", "xdg/data")
        .env("XDG_CONFIG_HOME", "xdg/config")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .timeout(Duration::from_secs(60));
    // A version bump leaves the snapshots as they are (`[VERSION]` in them).
    cases
        .insert_var("[VERSION]", env!("CARGO_PKG_VERSION"))
        .expect("a valid trycmd variable");
    for dir in CASES {
        cases.case(format!("tests/cmd/{dir}/*.toml"));
    }
    cases.run();
}
