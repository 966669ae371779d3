//! The CI pipelines cigen generates for the PHP stacks run on the projects
//! stackgen generates: every `run:` step of the GitHub test job runs, as the
//! runner would (`bash -eo pipefail`), in the test bed's `php:8.3-apache`
//! image (Debian's PHP 8.2, Composer, php-laravel-framework) standing in for
//! `setup-php`, against the database the job's `services:` asks for.
//!
//! Laravel uses existing mode on tests/bed/apps/laravel (packagist, which
//! `composer create-project` needs, is not reachable here); that app has no
//! `PHPUnit` (it would come from packagist), so its pipeline has no Test step.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Harness, free_port, output_within, require};

const PHP_IMAGE: &str = "php:8.3-apache";

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// (ok, stdout + stderr) of a command, within `secs`.
fn run(cmd: &mut Command, secs: u64) -> (bool, String) {
    let out = output_within(cmd, Duration::from_secs(secs));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn docker(args: &[&str]) -> (bool, String) {
    run(Command::new("docker").args(args), 120)
}

/// Whether the engine and the images are there; with CI=true they must be.
fn bed_ready(images: &[&str]) -> bool {
    if !require("docker") {
        return false;
    }
    if !docker(&["info"]).0 {
        assert!(!ci(), "the Docker engine is required (CI=true)");
        eprintln!("skipped: the Docker engine does not answer");
        return false;
    }
    for image in images {
        if !docker(&["image", "inspect", image]).0 {
            assert!(
                !ci(),
                "image {image} is required (CI=true): tests/bed/images.sh"
            );
            eprintln!("skipped: image {image} is missing (tests/bed/images.sh)");
            return false;
        }
    }
    true
}

/// What the runner's checkout holds: the project without the files kept
/// out of version control (`.env`).
fn checkout(project: &Path, to: &Path) {
    let (ok, out) = run(Command::new("cp").arg("-a").arg(project).arg(to), 60);
    assert!(ok, "{out}");
    let _ = std::fs::remove_file(to.join(".env"));
}

/// Run one step in the PHP image (host network, so the job's 127.0.0.1
/// services are ours); the step's output, or a panic with it.
fn run_step(dir: &Path, env: &BTreeMap<String, String>, name: &str, script: &str) -> String {
    let began = Instant::now();
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm", "--network", "host", "-v"])
        .arg(format!("{}:/app", dir.display()))
        .args(["-w", "/app", "-e", "CI=true"]);
    for (k, v) in env {
        cmd.arg("-e").arg(format!("{k}={v}"));
    }
    cmd.args([
        PHP_IMAGE,
        "bash",
        "--noprofile",
        "--norc",
        "-eo",
        "pipefail",
        "-c",
        script,
    ]);
    let (ok, out) = run(&mut cmd, 600);
    assert!(ok, "pipeline step {name:?} failed:\n{script}\n---\n{out}");
    eprintln!("pipeline step {name:?}: ok in {:.0?}", began.elapsed());
    out
}

/// Removes a container when dropped.
struct Rm(String);
impl Drop for Rm {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let (ok, out) = run(
        Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", from.display()))
            .arg(to),
        60,
    );
    assert!(ok, "{out}");
}

fn names(steps: &[(String, String)]) -> Vec<&str> {
    steps.iter().map(|(n, _)| n.as_str()).collect()
}

/// The job's `MySQL` service (the bed's mysql:8) on a free port: the
/// container (removed when dropped), its port, and a query runner.
fn start_mysql(job: &yaml_serde::Value) -> (Rm, u16, impl Fn(&str) -> (bool, String)) {
    let svc = &job["services"]["mysql"];
    assert_eq!(svc["image"].as_str(), Some("mysql:8"));
    let port = free_port();
    let db = format!("berth-ci-mysql-{}", std::process::id());
    let mut args: Vec<String> = ["run", "-d", "--name", &db, "-p"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.push(format!("127.0.0.1:{port}:3306"));
    for (k, v) in svc["env"].as_mapping().unwrap() {
        args.push("-e".into());
        args.push(format!("{}={}", k.as_str().unwrap(), v.as_str().unwrap()));
    }
    args.push("mysql:8".into());
    let (ok, out) = run(Command::new("docker").args(&args), 120);
    assert!(ok, "docker run mysql: {out}");
    let rm = Rm(db.clone());
    let sql = move |q: &str| {
        docker(&[
            "exec",
            &db,
            "mariadb",
            "-h",
            "127.0.0.1",
            "-uapp",
            "-papp",
            "app_test",
            "-Nse",
            q,
        ])
    };
    let began = Instant::now();
    while !sql("select 1").0 {
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "mysql did not start"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    (rm, port, sql)
}

#[test]
fn laravel_pipeline_steps_pass_on_the_stackgen_project() {
    if !bed_ready(&[PHP_IMAGE, "mysql:8"]) {
        return;
    }
    let h = Harness::new();
    let pid = std::process::id();
    let name = format!("ci-laravel-{pid}");
    let dir: PathBuf = h.path().join(&name);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bed/apps/laravel"),
        &dir,
    );
    h.cmd("stackgen")
        .args(["new", "laravel", &name, "--mode", "existing", "--port"])
        .arg(free_port().to_string())
        .run()
        .success();
    // The folder alone: cigen takes the stack stackgen recorded (its
    // composer.json requires nothing, Laravel is Debian's).
    h.cmd("cigen")
        .args(["generate", "--platform", "github"])
        .arg(&dir)
        .run()
        .success()
        .stdout_has("laravel");
    let (steps, mut env, job) = common::workflow_job(&dir);
    assert_eq!(
        names(&steps),
        [
            "Install dependencies",
            "Prepare environment",
            "PHP syntax",
            "Migrate"
        ],
        "no Test step: the app has neither PHPUnit nor Pest"
    );
    assert_eq!(env["DB_CONNECTION"], "mysql");

    let (_rm, port, sql) = start_mysql(&job);
    env.insert("DB_PORT".into(), port.to_string());
    for v in env.values_mut() {
        *v = v.replace("127.0.0.1:3306", &format!("127.0.0.1:{port}"));
    }

    let ci_dir = h.path().join("checkout");
    checkout(&dir, &ci_dir);
    let mut logs = BTreeMap::new();
    for (step, script) in &steps {
        logs.insert(step.clone(), run_step(&ci_dir, &env, step, script));
    }
    assert!(
        ci_dir.join("vendor/autoload.php").is_file(),
        "composer install wrote the autoloader"
    );
    let dotenv = std::fs::read_to_string(ci_dir.join(".env")).unwrap();
    assert!(dotenv.starts_with("APP_KEY=base64:"), "{dotenv}");
    assert!(
        logs["Migrate"].contains("Migration table created successfully"),
        "{}",
        logs["Migrate"]
    );
    // The migration reached the job's database.
    let (ok, tables) = sql("show tables");
    assert!(ok && tables.lines().any(|t| t == "migrations"), "{tables}");

    // The syntax step checks something: a broken file fails it.
    std::fs::write(ci_dir.join("app/Broken.php"), "<?php\nfunction (\n").unwrap();
    let (_, lint) = steps.iter().find(|(n, _)| n == "PHP syntax").unwrap();
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm", "-v"])
        .arg(format!("{}:/app", ci_dir.display()))
        .args([
            "-w", "/app", PHP_IMAGE, "bash", "-eo", "pipefail", "-c", lint,
        ]);
    let (ok, out) = run(&mut cmd, 300);
    assert!(!ok && out.contains("Broken.php"), "{out}");
}

#[test]
fn wordpress_pipeline_steps_pass_on_the_stackgen_project() {
    if !bed_ready(&[PHP_IMAGE]) {
        return;
    }
    let h = Harness::new();
    let name = format!("ci-wp-{}", std::process::id());
    h.cmd("stackgen")
        .args(["new", "wordpress", &name, "--port"])
        .arg(free_port().to_string())
        .run()
        .success();
    let dir = h.path().join(&name);
    // A fresh site's wp-content holds no theme or plugin yet: the stack
    // stackgen recorded says what it is.
    h.cmd("cigen")
        .args(["generate", "--platform", "github"])
        .arg(&dir)
        .run()
        .success();
    let (steps, env, _) = common::workflow_job(&dir);
    assert_eq!(names(&steps), ["PHP syntax"]);
    let ci_dir = h.path().join("checkout");
    checkout(&dir, &ci_dir);
    run_step(&ci_dir, &env, "PHP syntax", &steps[0].1);

    // The site's own theme, valid, then broken.
    let theme = ci_dir.join("wp-content/themes/site");
    std::fs::create_dir_all(&theme).unwrap();
    std::fs::write(
        theme.join("functions.php"),
        "<?php\nadd_action('init', fn () => null);\n",
    )
    .unwrap();
    run_step(&ci_dir, &env, "PHP syntax", &steps[0].1);
    std::fs::write(
        theme.join("functions.php"),
        "<?php\nadd_action('init', fn () =>);\n",
    )
    .unwrap();
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm", "-v"])
        .arg(format!("{}:/app", ci_dir.display()))
        .args([
            "-w",
            "/app",
            PHP_IMAGE,
            "bash",
            "-eo",
            "pipefail",
            "-c",
            &steps[0].1,
        ]);
    let (ok, out) = run(&mut cmd, 300);
    assert!(!ok && out.contains("functions.php"), "{out}");
}
