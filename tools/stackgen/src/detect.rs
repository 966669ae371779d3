//! Recognise a stack's project in an existing folder: the frameworks berth
//! knows by lib's one detector (`berth::framework`), other stacks by their
//! manifest's rules (a file, or a file containing a text).

use std::path::Path;

use berth::framework::Framework;

use crate::stack::{DetectRule, Stack};

/// Whether one rule matches in `dir`.
fn rule_matches(dir: &Path, rule: &DetectRule) -> bool {
    let p = dir.join(&rule.file);
    match &rule.contains {
        None => p.exists(),
        Some(needle) => {
            berth::fsread::read_text(&p, None, berth::fsread::TEXT_LIMIT).is_ok_and(|t| {
                t.is_some_and(|t| t.text.to_lowercase().contains(&needle.to_lowercase()))
            })
        }
    }
}

/// Whether the stack's project is in `dir`: the framework of the stack's
/// name when berth knows it (`found`: what [`berth::framework::detect`] found
/// there), else any of the manifest's rules.
pub fn matches(dir: &Path, stack: &Stack, found: &[Framework]) -> bool {
    match Framework::from_name(&stack.name) {
        Some(f) => found.contains(&f),
        None => stack.manifest.detect.iter().any(|r| rule_matches(dir, r)),
    }
}

/// What the stack looks for, for messages: `manage.py`, or the rules
/// (`app.py containing "flask"`).
pub fn describe(stack: &Stack) -> String {
    if let Some(f) = Framework::from_name(&stack.name) {
        return f.signals().to_owned();
    }
    stack
        .manifest
        .detect
        .iter()
        .map(|r| match &r.contains {
            None => r.file.clone(),
            Some(c) => format!("{} containing {c:?}", r.file),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
