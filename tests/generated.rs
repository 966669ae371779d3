//! The committed man pages and completions match the clap definitions,
//! and the JSON Schemas under schemas/ the Rust types.
//! Regenerate with `make generated`.

#[test]
fn man_pages_and_completions_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let stale = xtask::stale(root);
    assert!(
        stale.is_empty(),
        "stale generated files (run `make generated`): {stale:?}"
    );
}

#[test]
fn every_tool_has_a_man_page_with_exit_status() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for cmd in xtask::tools() {
        let page = std::fs::read_to_string(root.join("man").join(format!("{}.1", cmd.get_name())))
            .unwrap();
        assert!(
            page.contains(".SH \"EXIT STATUS\"") || page.contains(".SH EXIT STATUS"),
            "{} lacks EXIT STATUS",
            cmd.get_name()
        );
        assert!(
            page.contains(".SH EXAMPLES"),
            "{} lacks EXAMPLES",
            cmd.get_name()
        );
    }
}

/// Every command a test spawns has a time limit: outside tests/common, a
/// test runs programs through `Cmd::run` or the `Timed` helpers, never a
/// bare `.output()`, `.status()`, `.wait()` or `.wait_with_output()`, which
/// would let a hung program stall the suite.
#[test]
fn no_test_spawns_a_command_without_a_time_limit() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let calls = ["output", "status", "wait", "wait_with_output"].map(|c| format!(".{c}()"));
    let mut bare = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//") && calls.iter().any(|c| code.contains(c.as_str())) {
                bare.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "use Cmd::run or common::Timed (timed_output, timed_status, \
         timed_wait_with_output):\n{}",
        bare.join("\n")
    );
}
