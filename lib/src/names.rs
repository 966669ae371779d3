//! Project and service names: DNS labels (`[a-z0-9-]`, 1 to 63 characters, no
//! leading or trailing hyphen), checked before anything is written.

use anyhow::bail;

/// Longest DNS label.
pub const MAX_LABEL: usize = 63;

/// Check that `name` is a DNS label; `what` names it in the error ("project name").
pub fn validate_label(what: &str, name: &str) -> anyhow::Result<()> {
    let shown = crate::cli::excerpt(name);
    if name.is_empty() {
        bail!("invalid {what} '': must not be empty");
    }
    if name.len() > MAX_LABEL {
        bail!(
            "invalid {what} '{shown}': {} characters, at most {MAX_LABEL} allowed",
            name.chars().count()
        );
    }
    if let Some(c) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '-'))
    {
        bail!(
            "invalid {what} '{shown}': character '{}' not allowed (use a-z, 0-9 and '-')",
            crate::cli::excerpt(&c.to_string())
        );
    }
    if name.starts_with('-') || name.ends_with('-') {
        bail!("invalid {what} '{shown}': must not start or end with '-'");
    }
    Ok(())
}

/// Make a DNS label out of a folder name: lower case, other characters become
/// '-', runs of '-' fold, trimmed, cut to 63. `None` when nothing is left.
pub fn to_label(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    let mut label: String = trimmed.chars().take(MAX_LABEL).collect();
    while label.ends_with('-') {
        label.pop();
    }
    (!label.is_empty()).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_labels() {
        for ok in ["a", "shop", "my-shop-2", &"a".repeat(63)] {
            validate_label("name", ok).unwrap();
        }
    }

    #[test]
    fn rejects_bad_names_with_reason() {
        let cases = [
            ("", "must not be empty"),
            ("a;rm -rf", "character ';'"),
            ("../x", "character '.'"),
            ("-a", "start or end"),
            ("a-", "start or end"),
            ("Shop", "character 'S'"),
            ("a b", "character ' '"),
        ];
        for (name, why) in cases {
            let err = validate_label("project name", name)
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{name}: {err}");
        }
        let long = "a".repeat(64);
        let huge = "A".repeat(100_000_000);
        let err = validate_label("project name", &huge)
            .unwrap_err()
            .to_string();
        assert!(err.len() < 300, "{} bytes", err.len());
        let err = validate_label("project name", "a\u{1b}[2J")
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
        assert!(
            validate_label("n", &long)
                .unwrap_err()
                .to_string()
                .contains("64 characters")
        );
    }

    #[test]
    fn folder_names_become_labels() {
        assert_eq!(to_label("My_Shop.v2").as_deref(), Some("my-shop-v2"));
        assert_eq!(to_label("--x--").as_deref(), Some("x"));
        assert_eq!(to_label("___"), None);
        assert_eq!(to_label(&"ab".repeat(40)).unwrap().len(), 63);
    }
}
