//! Generates the committed man pages (`man/`) and shell completions
//! (`completions/`) from the tools' clap definitions, the JSON Schemas
//! (`schemas/`) from the types the tools print, and checks that the
//! committed copies are current.

use std::path::{Path, PathBuf};

use clap::Command;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, roman};

/// Every tool's command definition, with the options every tool shares.
pub fn tools() -> Vec<Command> {
    vec![
        berth::cli::command::<berth_registry::Cli>(),
        berth::cli::command::<berth_ports::Cli>(),
        berth::cli::command::<berth_cigen::Cli>(),
        berth::cli::command::<berth_stackgen::Cli>(),
        berth::cli::command::<berth_dnsconf::Cli>(),
        berth::cli::command::<berth_proxyconf::Cli>(),
        berth::cli::command::<berth_certgen::Cli>(),
        berth::cli::command::<berth_stackctl::Cli>(),
        berth::cli::command::<berth_dbdump::Cli>(),
        berth::cli::command::<berth_secrets::Cli>(),
        berth::cli::command::<berth_shared::Cli>(),
    ]
}

/// The JSON Schema of every type a tool prints as JSON, by schema name
/// (the file `schemas/NAME.json`): the shared models, then each tool's.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    [
        berth::schema::models(),
        berth_registry::schemas(),
        berth_ports::schemas(),
        berth_certgen::schemas(),
        berth_dnsconf::schemas(),
        berth_stackctl::schemas(),
        berth_dbdump::schemas(),
        berth_stackgen::schemas(),
        berth_cigen::schemas(),
        berth_secrets::schemas(),
        berth_shared::schemas(),
    ]
    .concat()
}

/// One generated file: where it goes (relative to the workspace root) and its bytes.
pub struct Generated {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Everything generated: man pages of each tool and subcommand, completions
/// for bash, zsh and fish, JSON Schemas.
pub fn generate() -> Vec<Generated> {
    let mut out = Vec::new();
    for (name, schema) in schemas() {
        let mut bytes = serde_json::to_vec_pretty(&schema).expect("a schema is JSON");
        bytes.push(b'\n');
        out.push(Generated {
            path: Path::new("schemas").join(format!("{name}.json")),
            bytes,
        });
    }
    for cmd in tools() {
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        let name = cmd.get_name().to_owned();
        man_pages(&cmd, &name, &mut out);
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut bytes = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), &name, &mut bytes);
            out.push(Generated {
                path: Path::new("completions").join(file),
                bytes,
            });
        }
    }
    out
}

fn man_pages(cmd: &Command, page: &str, out: &mut Vec<Generated>) {
    let cmd = cmd
        .clone()
        .display_name(page.to_owned())
        .bin_name(page.replace('-', " "));
    let man = Man::new(cmd.clone())
        .date("")
        .source("berth")
        .manual("berth manual");
    let mut bytes = Vec::new();
    // Sections by hand so the long help's trailing blocks ("Examples:",
    // "Exit status:") become sections of their own.
    let w: &mut dyn std::io::Write = &mut bytes;
    man.render_title(w).expect("writing to memory");
    man.render_name_section(w).expect("writing to memory");
    man.render_synopsis_section(w).expect("writing to memory");
    man.render_description_section(w)
        .expect("writing to memory");
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w).expect("writing to memory");
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(w)
            .expect("writing to memory");
    }
    if let Some(text) = cmd.get_after_long_help() {
        bytes.extend(trailing_sections(&text.to_string()));
    }
    out.push(Generated {
        path: Path::new("man").join(format!("{page}.1")),
        bytes,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        man_pages(sub, &format!("{page}-{}", sub.get_name()), out);
    }
}

/// Turn `Heading:` blocks with indented lines into man sections.
fn trailing_sections(text: &str) -> Vec<u8> {
    let mut roff = Roff::new();
    let mut lines: Vec<String> = Vec::new();
    let flush = |roff: &mut Roff, lines: &mut Vec<String>| {
        if !lines.is_empty() {
            roff.control("nf", []);
            for l in lines.drain(..) {
                roff.text([roman(l)]);
            }
            roff.control("fi", []);
        }
    };
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            flush(&mut roff, &mut lines);
            roff.control("SH", [line.trim_end_matches(':').to_uppercase().as_str()]);
        } else if !line.trim().is_empty() {
            lines.push(line.trim().to_owned());
        }
    }
    flush(&mut roff, &mut lines);
    roff.render().into_bytes()
}

/// Files under `root` that differ from what would be generated, and stale
/// files that would no longer be generated.
pub fn stale(root: &Path) -> Vec<PathBuf> {
    let generated = generate();
    let mut out: Vec<PathBuf> = generated
        .iter()
        .filter(|g| std::fs::read(root.join(&g.path)).ok().as_deref() != Some(g.bytes.as_slice()))
        .map(|g| g.path.clone())
        .collect();
    for dir in ["man", "completions", "schemas"] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let rel = Path::new(dir).join(entry.file_name());
            if !generated.iter().any(|g| g.path == rel)
                && rel.file_name().is_some_and(|n| n != ".gitkeep")
            {
                out.push(rel);
            }
        }
    }
    out
}

/// Write every generated file under `root`, removing stale ones.
pub fn write(root: &Path) -> std::io::Result<usize> {
    let stale_files = stale(root);
    for g in generate() {
        let path = root.join(&g.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, g.bytes)?;
    }
    for s in &stale_files {
        if !generate().iter().any(|g| &g.path == s) {
            std::fs::remove_file(root.join(s))?;
        }
    }
    Ok(stale_files.len())
}
