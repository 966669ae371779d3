//! Recognise a framework in an existing folder from the stack manifests'
//! rules (manage.py, package.json with next, artisan, wp-config.php, ...).

use std::path::Path;

use crate::stack::{DetectRule, Stack};

/// Whether one rule matches in `dir`.
pub fn rule_matches(dir: &Path, rule: &DetectRule) -> bool {
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

/// Whether the stack's framework is present in `dir` (any rule matches).
pub fn matches(dir: &Path, stack: &Stack) -> bool {
    stack.manifest.detect.iter().any(|r| rule_matches(dir, r))
}

/// What the rules look for, for messages: `manage.py, requirements.txt containing "django"`.
pub fn describe(stack: &Stack) -> String {
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
