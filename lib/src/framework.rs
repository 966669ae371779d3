//! Which web framework a project folder holds: one detector, so that cigen's
//! pipeline, stackgen's existing mode and dbdump's reset step give one answer.

use std::path::Path;

use anyhow::{Context as _, anyhow};
use serde_json::Value;

use crate::fsread;

/// A framework berth knows by its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Framework {
    Laravel,
    Django,
    Fastapi,
    Nextjs,
    /// A site: `wp-config.php` or `wp-content` (not a theme or a plugin on its own).
    Wordpress,
}

impl Framework {
    /// Every framework, in the order [`detect`] reports them.
    pub const ALL: [Framework; 5] = [
        Framework::Laravel,
        Framework::Django,
        Framework::Fastapi,
        Framework::Nextjs,
        Framework::Wordpress,
    ];

    /// The name, as stacks and the registry's `stack` field spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Laravel => "laravel",
            Framework::Django => "django",
            Framework::Fastapi => "fastapi",
            Framework::Nextjs => "nextjs",
            Framework::Wordpress => "wordpress",
        }
    }

    /// The framework of that name (`laravel`, `Django`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }

    /// What [`detect`] looks for, for messages.
    pub fn signals(self) -> &'static str {
        match self {
            Framework::Laravel => "artisan and laravel/framework in composer.json",
            Framework::Django => "manage.py",
            Framework::Fastapi => {
                "fastapi in the Python dependencies (pyproject.toml, requirements*.txt)"
            }
            Framework::Nextjs => "next in package.json",
            Framework::Wordpress => "wp-config.php, wp-config-sample.php or wp-content",
        }
    }
}

/// The frameworks whose files are in `dir`, in [`Framework::ALL`] order
/// (more than one: the folder is ambiguous; none: no framework). Manifests
/// are read bounded (fsread); one that cannot be read or parsed is an error
/// naming it.
pub fn detect(dir: &Path) -> anyhow::Result<Vec<Framework>> {
    let has = |name: &str| dir.join(name).exists();
    let mut found = Vec::new();
    if has("artisan")
        && json_requires(
            dir,
            "composer.json",
            &["require", "require-dev"],
            "laravel/framework",
        )?
    {
        found.push(Framework::Laravel);
    }
    if has("manage.py") {
        found.push(Framework::Django);
    }
    if python_deps_text(dir)?.is_some_and(|t| has_python_dep(&t, "fastapi")) {
        found.push(Framework::Fastapi);
    }
    if json_requires(
        dir,
        "package.json",
        &["dependencies", "devDependencies"],
        "next",
    )? {
        found.push(Framework::Nextjs);
    }
    if has("wp-config.php") || has("wp-config-sample.php") || has("wp-content") {
        found.push(Framework::Wordpress);
    }
    Ok(found)
}

/// A text file of the project folder, bounded; `None` when absent.
fn read(dir: &Path, name: &str) -> anyhow::Result<Option<String>> {
    Ok(fsread::read_text(&dir.join(name), Some(dir), fsread::TEXT_LIMIT)?.map(|t| t.text))
}

/// Whether the JSON manifest `name` lists `package` under one of `keys`.
fn json_requires(dir: &Path, name: &str, keys: &[&str], package: &str) -> anyhow::Result<bool> {
    let Some(text) = read(dir, name)? else {
        return Ok(false);
    };
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("invalid JSON in {}", dir.join(name).display()))?;
    Ok(keys
        .iter()
        .any(|k| v.get(k).and_then(|r| r.get(package)).is_some()))
}

/// The Python dependency files of `dir` (pyproject.toml, `requirements*.txt`,
/// sorted), lowercased and joined; `None` when there is none.
pub fn python_deps_text(dir: &Path) -> anyhow::Result<Option<String>> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.starts_with("requirements")
                    && Path::new(n)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names.insert(0, "pyproject.toml".into());
    let mut text = None::<String>;
    for n in &names {
        if let Some(t) = read(dir, n)? {
            let all = text.get_or_insert_with(String::new);
            all.push_str(&t.to_ascii_lowercase());
            all.push('\n');
        }
    }
    Ok(text)
}

/// Whether a dependency list (lowercased) names `pkg` as a whole word
/// (`fastapi`, `fastapi[all]>=0.110`; not `fastapi-users`).
pub fn has_python_dep(text: &str, pkg: &str) -> bool {
    text.match_indices(pkg).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + pkg.len()..].chars().next();
        let boundary_before =
            before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'));
        let boundary_after =
            after.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        boundary_before && boundary_after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = d.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    /// A folder's files (path, text) and the frameworks found in it.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [Framework]);

    #[test]
    fn one_answer_per_folder() {
        let cases: &[Case<'_>] = &[
            (
                &[
                    ("artisan", "<?php\n"),
                    (
                        "composer.json",
                        r#"{"require": {"laravel/framework": "^11.0"}}"#,
                    ),
                ],
                &[Framework::Laravel],
            ),
            // artisan alone, or the package alone, is not Laravel.
            (&[("artisan", "<?php\n")], &[]),
            (
                &[(
                    "composer.json",
                    r#"{"require": {"laravel/framework": "^11.0"}}"#,
                )],
                &[],
            ),
            (&[("manage.py", "")], &[Framework::Django]),
            (
                &[("requirements.txt", "fastapi[all]>=0.110\n")],
                &[Framework::Fastapi],
            ),
            (&[("requirements-dev.txt", "fastapi-users\n")], &[]),
            (
                &[("package.json", r#"{"dependencies": {"next": "14.2.0"}}"#)],
                &[Framework::Nextjs],
            ),
            (&[("wp-config.php", "<?php\n")], &[Framework::Wordpress]),
            (
                &[("wp-content/index.php", "<?php\n")],
                &[Framework::Wordpress],
            ),
            (&[("README.md", "hello\n")], &[]),
        ];
        let mut failed = Vec::new();
        for (files, want) in cases {
            let d = folder(files);
            let got = detect(d.path()).unwrap();
            if got != *want {
                failed.push(format!("{files:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn a_broken_manifest_is_an_error_naming_it() {
        let d = folder(&[("artisan", ""), ("composer.json", "{not json")]);
        let e = format!("{:#}", detect(d.path()).unwrap_err());
        assert!(
            e.contains("invalid JSON in") && e.contains("composer.json"),
            "{e}"
        );
    }

    #[test]
    fn names_round_trip() {
        for f in Framework::ALL {
            assert_eq!(Framework::from_name(f.as_str()), Some(f));
        }
        assert_eq!(Framework::from_name("Laravel"), Some(Framework::Laravel));
        assert_eq!(Framework::from_name("flask"), None);
    }
}
