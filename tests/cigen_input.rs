//! cigen on bad input and with care for the user's files: empty and
//! conflicting projects, unreadable and odd files, existing files kept,
//! `--dry-run`, user templates, and the secrets the deploy pipelines name.

mod common;

use std::process::Command;

use common::cigen::{Db, django, github_scripts, laravel, project, set_mode, text, yaml};
use common::{Harness, Timed as _, require};

// ---------------------------------------------------------------------------
// Bad input and safety

#[test]
fn empty_folder_is_an_error_unless_generic_is_asked() {
    let h = Harness::new();
    std::fs::create_dir_all(h.path().join("empty")).unwrap();
    h.cmd("cigen")
        .args(["generate", "empty"])
        .run()
        .code_is(2)
        .stderr_has("cigen: error: no project found in empty")
        .stderr_has("hint: pass --stack generic");
    assert!(!h.path().join("empty/.github").exists());
    h.cmd("cigen")
        .args(["generate", "empty", "--stack", "generic"])
        .run()
        .success()
        .stdout_has("created");
    assert!(text(&h.path().join("empty/.github/workflows/test.yml")).contains("make test"));
}

/// cigen names its project as every berth tool does: `--dir DIR`,
/// `--project NAME` (the registry's folder and stack), or the current
/// folder; the positional PATH is a hidden alias for one release.
#[test]
fn the_project_is_dir_project_or_the_current_folder() {
    let h = Harness::new();
    let shop = django(&h, "shop", Db::Postgres);
    // What was detected, without the path as it was typed.
    let detected = |args: &[&str], cwd: &std::path::Path| {
        let mut v = h
            .cmd("cigen")
            .current_dir(cwd)
            .arg("detect")
            .args(args)
            .arg("--json")
            .run()
            .success()
            .json();
        v.as_object_mut().unwrap().remove("path");
        v
    };
    let by_dir = detected(&["--dir", shop.to_str().unwrap()], h.path());
    assert_eq!(by_dir["stack"], "django", "{by_dir}");
    assert_eq!(detected(&["-d", "shop"], h.path()), by_dir);
    assert_eq!(detected(&[], &shop), by_dir, "the current folder");
    assert_eq!(
        detected(&["shop"], h.path()),
        by_dir,
        "the old positional PATH"
    );
    h.cmd("registry").arg("add").arg(&shop).run().success();
    let elsewhere = h.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    assert_eq!(detected(&["--project", "shop"], &elsewhere), by_dir);
    h.cmd("cigen")
        .current_dir(&elsewhere)
        .args(["generate", "--project", "shop", "--yes"])
        .run()
        .success();
    assert!(shop.join(".github/workflows/test.yml").is_file());
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    h.cmd("cigen")
        .args(["detect", "--project", "shpo"])
        .run()
        .code_is(2)
        .stderr_has("no project named 'shpo'")
        .stderr_has("did you mean 'shop'?");
    h.cmd("cigen")
        .args(["detect", "--dir", "nosuch"])
        .run()
        .code_is(2)
        .stderr_has("cigen: error: --dir nosuch: no such folder");
    h.cmd("cigen")
        .args(["detect", "--dir", "shop", "--project", "shop"])
        .run()
        .code_is(2)
        .stderr_has("cannot be used with");
    let help = h.cmd("cigen").args(["generate", "--help"]).run().success();
    assert!(help.stdout.contains("--dir <DIR>") && !help.stdout.contains("[PATH]"));
}

#[test]
fn conflicting_signals_name_both_and_hint_stack() {
    let h = Harness::new();
    let dir = laravel(&h, "both", Db::None);
    h.write("both/manage.py", "");
    let run = h
        .cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .code_is(2);
    let run = run
        .stderr_has("conflicting signals")
        .stderr_has("laravel (artisan")
        .stderr_has("django (manage.py)");
    run.stderr_has("hint: pass --stack");
    assert!(!dir.join(".github").exists());
    // The user's choice settles it.
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--stack", "django"])
        .run()
        .success();
    assert!(text(&dir.join(".github/workflows/test.yml")).contains("manage.py test"));
}

#[test]
fn unreadable_files_are_errors_naming_the_file() {
    let h = Harness::new();
    let dir = project(
        &h,
        "broken",
        Db::None,
        &[("artisan", ""), ("composer.json", "{\"require\": ")],
    );
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .code_is(2)
        .stderr_has("invalid JSON in")
        .stderr_has("broken/composer.json");
    let dir = project(&h, "badcompose", Db::None, &[("manage.py", "")]);
    h.write("badcompose/compose.yaml", "services: [\n");
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap()])
        .run()
        .code_is(2)
        .stderr_has("compose.yaml");
    h.cmd("cigen")
        .args(["generate", "nowhere"])
        .run()
        .code_is(2)
        .stderr_has("cannot read project folder nowhere");

    // A file the user cannot read (as root, read as `nobody`, since root reads everything).
    let dir = project(&h, "locked", Db::None, &[("package.json", "{}")]);
    let pkg = dir.join("package.json");
    set_mode(&pkg, 0o000);
    let as_root = Command::new("id")
        .arg("-u")
        .timed_output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let run = if as_root {
        if !require("setpriv") {
            return;
        }
        for p in [h.path(), &dir] {
            set_mode(p, 0o755);
        }
        let out = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(common::bin("cigen"))
            .args(["generate", dir.to_str().unwrap(), "--dry-run"])
            .env("BERTH_HOME", "/nonexistent")
            .stdin(std::process::Stdio::null())
            .timed_output()
            .unwrap();
        common::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    } else {
        h.cmd("cigen")
            .args(["generate", dir.to_str().unwrap(), "--dry-run"])
            .run()
    };
    run.code_is(2)
        .stderr_has("cannot read")
        .stderr_has("locked/package.json")
        .stderr_has("ermission denied");
}

/// Odd but valid files never crash detection: wrong JSON types, binary
/// headers, empty version files. Each run ends 0 or 2, never a panic.
#[test]
fn odd_files_never_panic() {
    let h = Harness::new();
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("a", &[("package.json", "[]")]),
        (
            "b",
            &[(
                "package.json",
                r#"{"engines":"node","scripts":[1],"dependencies":{"next":7}}"#,
            )],
        ),
        (
            "c",
            &[
                ("composer.json", r#"{"require":{"php":8}}"#),
                ("artisan", ""),
            ],
        ),
        (
            "d",
            &[
                ("style.css", "\u{0}\u{1}Theme Name:\n"),
                ("x.php", "Plugin Name"),
            ],
        ),
        (
            "e",
            &[
                ("pyproject.toml", "[project\nrequires-python = \n"),
                (".python-version", "\n\n"),
            ],
        ),
        ("f", &[("package.json", "{}"), (".nvmrc", "lts/*\n")]),
        (
            "g",
            &[
                ("requirements.txt", "fastapi"),
                (
                    "Dockerfile",
                    "FROM\nFROM python:\nFROM --platform=x python:abc\n",
                ),
            ],
        ),
        ("h", &[("package.json", "\"just a string\"")]),
    ];
    for (name, files) in cases {
        let dir = project(&h, name, Db::None, files);
        for args in [
            vec!["detect", "--json"],
            vec!["generate", "--dry-run"],
            vec!["generate", "--dry-run", "--platform", "gitlab"],
        ] {
            let run = h.cmd("cigen").args(&args).arg(&dir).run();
            assert!(
                run.code == 0 || run.code == 2,
                "{name} {args:?}: exit {}\n{}",
                run.code,
                run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
            if run.code == 2 {
                assert!(
                    run.stderr.starts_with("cigen: error: "),
                    "{name}: {}",
                    run.stderr
                );
            }
        }
    }
    // lts/* from .nvmrc becomes the node:lts image on GitLab.
    let run = h
        .cmd("cigen")
        .args(["generate", "--dry-run", "--platform", "gitlab"])
        .arg(h.path().join("f"))
        .run()
        .success();
    assert!(run.stdout.contains("image: \"node:lts\""), "{}", run.stdout);
}

#[test]
fn changed_files_are_kept_without_yes_and_dry_run_writes_nothing() {
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    h.write("dj/.github/workflows/test.yml", "name: mine\n");
    h.cmd("cigen")
        .args(["generate", "dj"])
        .run()
        .code_is(2)
        .stderr_has("test.yml exists: replace it?")
        .stderr_has("hint: pass --yes");
    assert_eq!(
        text(&dir.join(".github/workflows/test.yml")),
        "name: mine\n"
    );
    let run = h
        .cmd("cigen")
        .args(["generate", "dj", "--dry-run"])
        .run()
        .success();
    assert!(
        run.stdout
            .contains("# cigen: would write dj/.github/workflows/test.yml")
            && run.stdout.contains("python manage.py test")
    );
    assert_eq!(
        text(&dir.join(".github/workflows/test.yml")),
        "name: mine\n"
    );
    let docs = h
        .cmd("cigen")
        .args(["generate", "dj", "--dry-run", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(docs[0]["action"], "would-overwrite", "{docs}");
    assert!(
        docs[0]["content"]
            .as_str()
            .unwrap()
            .contains("python manage.py test")
    );
    assert_eq!(
        text(&dir.join(".github/workflows/test.yml")),
        "name: mine\n"
    );
    h.cmd("cigen")
        .args(["generate", "dj", "--yes", "--json"])
        .run()
        .success()
        .stdout_has("\"overwritten\"");
    assert!(text(&dir.join(".github/workflows/test.yml")).contains("python manage.py test"));
    // A file that already holds what would be written is no change: no question.
    h.cmd("cigen").args(["generate", "dj"]).run().success();
    // GitLab goes to its own file.
    h.cmd("cigen")
        .args(["generate", "dj", "--platform", "gitlab"])
        .run()
        .success();
    assert!(dir.join(".gitlab-ci.yml").is_file());
}

#[test]
fn deploy_without_a_production_stage_builds_the_last_stage_with_a_warning() {
    let h = Harness::new();
    let dir = project(
        &h,
        "onestage",
        Db::None,
        &[
            ("manage.py", ""),
            ("requirements.txt", "django\n"),
            ("Dockerfile", "FROM python:3.12-slim\n"),
        ],
    );
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--deploy"])
        .run()
        .success()
        .stderr_has("cigen: warning:")
        .stderr_has("no production stage");
    let deploy = text(&dir.join(".github/workflows/deploy.yml"));
    assert!(!deploy.contains("target:"), "{deploy}");
}

#[test]
fn deploy_needs_a_dockerfile() {
    let h = Harness::new();
    let dir = project(&h, "nodock", Db::None, &[("manage.py", "")]);
    h.cmd("cigen")
        .args(["generate", dir.to_str().unwrap(), "--deploy"])
        .run()
        .code_is(2)
        .stderr_has("no Dockerfile")
        .stderr_has("hint:");
    assert!(!dir.join(".github").exists());
}

#[test]
fn user_templates_override_the_embedded_ones() {
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    let tpl = h.path().join("tpl");
    h.write(
        "home/config.yaml",
        &format!("templates: {}\n", tpl.display()),
    );
    h.write(
        "tpl/ci/github/test.yml",
        "# mine for {{ plan.stack }}\nname: Mine\non: push\njobs: {}\n",
    );
    let run = h
        .cmd("cigen")
        .args(["generate", "dj", "--json"])
        .run()
        .success();
    assert!(
        run.stdout.contains("tpl/ci/github/test.yml"),
        "{}",
        run.stdout
    );
    assert!(text(&dir.join(".github/workflows/test.yml")).starts_with("# mine for django\n"));
    // A broken template is an error naming it; nothing is written.
    h.write("tpl/ci/gitlab/gitlab-ci.yml", "{% for x in %}\n");
    h.cmd("cigen")
        .args(["generate", "dj", "--platform", "gitlab"])
        .run()
        .code_is(2)
        .stderr_has("invalid template")
        .stderr_has("tpl/ci/gitlab/gitlab-ci.yml");
    assert!(!dir.join(".gitlab-ci.yml").exists());
}

#[test]
fn secrets_lists_every_secret_the_deploy_pipelines_use() {
    let h = Harness::new();
    let dir = django(&h, "dj", Db::Postgres);
    h.cmd("cigen")
        .args(["generate", "dj", "--deploy"])
        .run()
        .success();
    let list = h
        .cmd("cigen")
        .args(["secrets", "--json"])
        .run()
        .success()
        .json();
    let names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    let deploy = text(&dir.join(".github/workflows/deploy.yml"));
    let mut used = Vec::new();
    for prefix in ["secrets.", "vars."] {
        for (i, _) in deploy.match_indices(prefix) {
            let name: String = deploy[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.push(name);
        }
    }
    assert!(used.contains(&"DEPLOY_SSH_KEY".to_string()), "{used:?}");
    for name in used.iter().filter(|n| *n != "GITHUB_TOKEN") {
        assert!(
            names.contains(name),
            "{name} is used by deploy.yml but not listed by `cigen secrets`"
        );
    }
    // Secrets reach scripts only through env:, never as literals or expressions in run:.
    let doc = yaml(&dir.join(".github/workflows/deploy.yml"));
    for (_, script) in github_scripts(&doc) {
        assert!(!script.contains("secrets."), "{script}");
    }
    let gl = h
        .cmd("cigen")
        .args(["secrets", "--platform", "gitlab"])
        .run()
        .success();
    assert!(
        gl.stdout.contains("DEPLOY_KNOWN_HOSTS") && !gl.stdout.contains("REGISTRY_PASSWORD"),
        "{}",
        gl.stdout
    );
    // GitLab: every $DEPLOY_* variable the pipeline reads is listed.
    h.cmd("cigen")
        .args(["generate", "dj", "--deploy", "--platform", "gitlab"])
        .run()
        .success();
    let pipeline = text(&dir.join(".gitlab-ci.yml"));
    let listed = h
        .cmd("cigen")
        .args(["secrets", "--platform", "gitlab", "--json"])
        .run()
        .success()
        .json();
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut seen = 0;
    for (i, _) in pipeline.match_indices("$DEPLOY_") {
        let name: String = pipeline[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            listed.contains(&name.as_str()),
            "{name} is used by .gitlab-ci.yml but not listed"
        );
        seen += 1;
    }
    assert!(seen >= 5, "{pipeline}");
}
