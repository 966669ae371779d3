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
