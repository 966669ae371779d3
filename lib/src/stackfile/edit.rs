//! Line-level edits of a `berth.yaml` the user may have written by hand:
//! an instance added or removed touches only its own lines, so the user's
//! comments, order and layout elsewhere stay as they were. Each edit is
//! checked by reading the result back (the caller parses it before writing).

use super::spans::Spans;
use super::{Instance, Instances};

/// Push one line: `pad` spaces, `text`, a newline.
fn push(out: &mut String, pad: usize, text: &str) {
    out.extend(std::iter::repeat_n(' ', pad));
    out.push_str(text);
    out.push('\n');
}

fn path(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

/// The instance's own lines, indented for the `instances:` block.
fn instance_lines(name: &str, inst: &Instance, indent: usize) -> String {
    let mut one = Instances::default();
    one.insert(name, inst.clone());
    let text = yaml_serde::to_string(&one).unwrap_or_default();
    let mut out = String::new();
    for line in text.lines() {
        match line.strip_suffix(" null") {
            Some(bare) if !line.starts_with(' ') => push(&mut out, indent, bare),
            _ => push(&mut out, indent, line),
        }
    }
    out
}

/// `text` with instance `name` added at the end of `instances:` (the key
/// created at the end of the document when there is none).
pub fn add_instance(text: &str, name: &str, inst: &Instance) -> String {
    let spans = Spans::index(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + 64);
    let Some(block) = spans.span(&path(&["instances"])) else {
        out.push_str(text);
        if !text.is_empty() && !text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("instances:\n");
        out.push_str(&instance_lines(name, inst, 2));
        return out;
    };
    // An empty `instances:` (or `instances: {}`) is replaced by a block.
    let inline = lines[block.line - 1]
        .split_once(':')
        .map(|(_, v)| v.trim())
        .is_some_and(|v| !v.is_empty() && !v.starts_with('#'));
    let indent = block.indent + 2;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if n == block.line && inline {
            push(&mut out, block.indent, "instances:");
        } else {
            push(&mut out, 0, line);
        }
        if n == block.end {
            out.push_str(&instance_lines(name, inst, indent));
        }
    }
    out
}

/// `text` with instance `name`'s lines replaced by `body` (its mapping of
/// overrides; null or empty: a bare instance), in the same place. The
/// lines of other instances and every comment outside this one stay.
/// Unchanged when there is no such instance.
pub fn replace_instance(text: &str, name: &str, body: &yaml_serde::Value) -> String {
    let spans = Spans::index(text);
    let Some(own) = spans.span(&path(&["instances", name])) else {
        return text.to_owned();
    };
    let mut one = yaml_serde::Mapping::new();
    let bare = body.as_mapping().is_none_or(yaml_serde::Mapping::is_empty);
    one.insert(
        yaml_serde::Value::String(name.to_owned()),
        if bare {
            yaml_serde::Value::Null
        } else {
            body.clone()
        },
    );
    let yaml = yaml_serde::to_string(&one).unwrap_or_default();
    let mut out = String::with_capacity(text.len() + yaml.len());
    for (i, l) in text.lines().enumerate() {
        let n = i + 1;
        if n == own.line {
            for line in yaml.lines() {
                push(
                    &mut out,
                    own.indent,
                    line.strip_suffix(" null").map_or(line, |b| b),
                );
            }
        } else if n < own.line || n > own.end {
            push(&mut out, 0, l);
        }
    }
    out
}

/// `text` without instance `name`'s lines and without the wires that name
/// it as consumer or provider. Unchanged when there is no such instance.
pub fn remove_instance(text: &str, name: &str) -> String {
    let spans = Spans::index(text);
    let Some(own) = spans.span(&path(&["instances", name])) else {
        return text.to_owned();
    };
    let mut drop: Vec<(usize, usize)> = vec![(own.line, own.end)];
    if let Some(wires) = spans.span(&path(&["wires"])) {
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if n <= wires.line || n > wires.end {
                continue;
            }
            let Some((key, value)) = line.trim().split_once(':') else {
                continue;
            };
            let consumer = key.trim().trim_matches(['"', '\'']).split('.').next();
            let provider = value.trim().trim_matches(['"', '\'']);
            if consumer == Some(name) || provider == name {
                drop.push((n, n));
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.lines().enumerate() {
        if !drop.iter().any(|(a, b)| (*a..=*b).contains(&(i + 1))) {
            push(&mut out, 0, l);
        }
    }
    out
}

/// `text` with the wire `key` (`CONSUMER.IMPORT`) set to `provider`: its
/// line replaced, or added at the end of `wires:` (created when missing).
pub fn set_wire(text: &str, key: &str, provider: &str) -> String {
    let spans = Spans::index(text);
    let line = format!("{key}: {provider}");
    if let Some(own) = spans.span(&path(&["wires", key])) {
        let mut out = String::with_capacity(text.len());
        for (i, l) in text.lines().enumerate() {
            if i + 1 == own.line {
                push(&mut out, own.indent, &line);
            } else {
                push(&mut out, 0, l);
            }
        }
        return out;
    }
    let mut out = String::with_capacity(text.len() + line.len() + 8);
    let Some(block) = spans.span(&path(&["wires"])) else {
        out.push_str(text);
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        push(&mut out, 0, "wires:");
        push(&mut out, 2, &line);
        return out;
    };
    for (i, l) in text.lines().enumerate() {
        if i + 1 == block.line && l.trim_end().ends_with("{}") {
            push(&mut out, block.indent, "wires:");
        } else {
            push(&mut out, 0, l);
        }
        if i + 1 == block.end {
            push(&mut out, block.indent + 2, &line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# my stack
version: 1
stack: django
name: shop
instances:
  # the main database
  postgres:
  analytics-db:
    service: postgres
    version: \"15\"
  redis:
  celery:
wires:
  app.database: postgres
  celery.database: analytics-db
";

    #[test]
    fn adding_keeps_every_other_line_and_reads_back() {
        let out = add_instance(TEXT, "mailpit", &Instance::default());
        assert!(
            out.starts_with(TEXT.split("wires:").next().unwrap()),
            "{out}"
        );
        assert!(out.contains("  celery:\n  mailpit:\nwires:\n"), "{out}");
        let file = super::super::parse(&out, "berth.yaml", None).unwrap();
        assert!(file.instances.contains("mailpit"));

        let out = add_instance(TEXT, "cache2", &Instance::of("redis"));
        assert!(
            out.contains("  celery:\n  cache2:\n    service: redis\nwires:"),
            "{out}"
        );
        super::super::parse(&out, "berth.yaml", None).unwrap();
    }

    #[test]
    fn adding_to_a_file_without_instances_creates_the_block() {
        let out = add_instance(
            "version: 1\nstack: django\nname: shop\n",
            "redis",
            &Instance::default(),
        );
        assert_eq!(
            out,
            "version: 1\nstack: django\nname: shop\ninstances:\n  redis:\n"
        );
        let out = add_instance(
            "version: 1\nstack: django\nname: shop\ninstances: {}\n",
            "redis",
            &Instance::default(),
        );
        assert_eq!(
            out,
            "version: 1\nstack: django\nname: shop\ninstances:\n  redis:\n"
        );
    }

    #[test]
    fn removing_takes_the_instance_and_its_wires_only() {
        let out = remove_instance(TEXT, "analytics-db");
        assert!(!out.contains("analytics-db"), "{out}");
        assert!(!out.contains("version: \"15\""), "{out}");
        assert!(
            out.contains("# the main database\n  postgres:\n  redis:\n"),
            "{out}"
        );
        assert!(out.contains("app.database: postgres"), "{out}");
        super::super::parse(&out, "berth.yaml", None).unwrap();
        assert_eq!(remove_instance(TEXT, "nothing"), TEXT);
    }

    #[test]
    fn replacing_an_instance_touches_its_lines_only() {
        let body: yaml_serde::Value =
            yaml_serde::from_str("service: postgres\nversion: \"16\"\nresources:\n  memory: 1g\n")
                .unwrap();
        let out = replace_instance(TEXT, "analytics-db", &body);
        assert!(
            out.contains("  postgres:\n  analytics-db:\n    service: postgres\n    version: '16'\n    resources:\n      memory: 1g\n  redis:\n"),
            "{out}"
        );
        assert!(
            out.starts_with("# my stack\n") && out.contains("# the main database\n"),
            "{out}"
        );
        let file = super::super::parse(&out, "berth.yaml", None).unwrap();
        assert_eq!(
            file.instance("analytics-db").unwrap().version.as_deref(),
            Some("16")
        );
        let bare = replace_instance(&out, "analytics-db", &yaml_serde::Value::Null);
        assert!(bare.contains("  analytics-db:\n  redis:\n"), "{bare}");
    }

    #[test]
    fn a_wire_is_replaced_in_place_or_added() {
        let out = set_wire(TEXT, "app.database", "analytics-db");
        assert!(
            out.contains("  app.database: analytics-db\n  celery.database"),
            "{out}"
        );
        let out = set_wire(TEXT, "app.cache", "redis");
        assert!(
            out.ends_with("  celery.database: analytics-db\n  app.cache: redis\n"),
            "{out}"
        );
        let out = set_wire("version: 1\n", "app.cache", "redis");
        assert_eq!(out, "version: 1\nwires:\n  app.cache: redis\n");
    }
}
