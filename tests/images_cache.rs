//! Image builds reuse pip downloads: `stackctl start` builds the stacks'
//! Dockerfiles with `BuildKit`, whose cache mount keeps pip's wheels between
//! builds, so a second fresh project with the same requirements builds with
//! the network cut (`build.network: none`); without `BuildKit` it falls back to
//! the legacy builder with the cache mounts left out, and says so.
//!
//! Real parts: the Docker engine, docker-compose v1 and the test bed's
//! `python:3.12-slim` (tests/bed/images.sh); the first build of a run may
//! download from `PyPI`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use common::{Harness, require};

/// One build at a time (the machine is small).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether the engine and the Python image are there; with CI=true they must be.
fn bed_ready() -> bool {
    if !require("docker") || !require("docker-compose") {
        return false;
    }
    let ok = |args: &[&str]| {
        common::output_within(
            std::process::Command::new("docker").args(args),
            Duration::from_secs(60),
        )
        .status
        .success()
    };
    for (args, what) in [
        (&["info"][..], "the Docker engine"),
        (
            &["image", "inspect", "python:3.12-slim"][..],
            "image python:3.12-slim (tests/bed/images.sh)",
        ),
    ] {
        if !ok(args) {
            assert!(!ci(), "{what} is required (CI=true)");
            eprintln!("skipped: {what} is missing");
            return false;
        }
    }
    true
}

/// A fresh `FastAPI` project without services, registered; removed with its
/// data (containers, network, built image) when dropped.
struct Project<'h> {
    h: &'h Harness,
    name: String,
    dir: PathBuf,
}

impl<'h> Project<'h> {
    fn new(h: &'h Harness, suffix: &str) -> Self {
        let name = format!("ic{}{suffix}", std::process::id());
        let out = h
            .cmd("stackgen")
            .args([
                "new",
                "fastapi",
                &name,
                "--no-generator",
                "--services",
                "none",
            ])
            .arg("--port")
            .arg(common::free_port().to_string())
            .arg("--json")
            .run()
            .success();
        h.cmd("registry")
            .args(["add", "-"])
            .stdin(out.stdout.clone())
            .run()
            .success();
        let dir = h.path().join(&name);
        Self { h, name, dir }
    }

    /// The build runs with no network: nothing can be downloaded.
    fn cut_build_network(&self) {
        let file = self.dir.join("compose.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        let cut = text.replacen(
            "      context: .\n",
            "      context: .\n      network: none\n",
            1,
        );
        assert_ne!(cut, text, "compose.yaml has a build context: {text}");
        std::fs::write(&file, cut).unwrap();
    }

    fn append_requirement(&self, line: &str) {
        let file = self.dir.join("requirements.txt");
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str(line);
        text.push('\n');
        std::fs::write(&file, text).unwrap();
    }

    fn start(&self, env: &[(&str, &str)]) -> common::Run {
        let mut cmd = self
            .h
            .cmd("stackctl")
            .args(["start", &self.name, "--progress", "--timeout", "600"])
            .timeout(Duration::from_secs(1200));
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }

    fn image(&self) -> String {
        format!("{}_app", self.name)
    }
}

impl Drop for Project<'_> {
    fn drop(&mut self) {
        let _ = self
            .h
            .cmd("stackctl")
            .args(["down", &self.name, "--with-data", "--yes"])
            .timeout(Duration::from_secs(300))
            .run();
    }
}

/// `docker run --rm --entrypoint sh IMAGE -c SCRIPT`: (ok, output).
fn in_image(image: &str, script: &str) -> (bool, String) {
    let out = common::output_within(
        std::process::Command::new("docker").args([
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            image,
            "-c",
            script,
        ]),
        Duration::from_secs(120),
    );
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn stderr(run: &common::Run) -> String {
    run.stderr.clone()
}

#[test]
fn a_second_fresh_project_builds_its_requirements_with_the_network_cut() {
    if !bed_ready() {
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let h = Harness::new();

    // The first project fills the download cache (or finds it filled).
    let first = Project::new(&h, "a");
    let run = first.start(&[]);
    let err = stderr(&run);
    assert_eq!(run.code, 0, "{err}");
    assert!(err.contains("building with BuildKit"), "{err}");
    assert!(!err.contains("legacy builder"), "{err}");

    // A second fresh project, same requirements (a comment added so the
    // engine's layer cache cannot stand in for the download cache), built
    // with no network: pip installs everything from the cache.
    let second = Project::new(&h, "b");
    second.append_requirement("# the same requirements as the first project");
    second.cut_build_network();
    let run = second.start(&[]);
    let err = stderr(&run);
    assert_eq!(run.code, 0, "the offline build failed:\n{err}");
    assert!(err.contains("running in"), "{err}");
    let (ok, out) = in_image(
        &second.image(),
        "python3 -c 'import fastapi, uvicorn; print(\"imports ok\")'",
    );
    assert!(ok && out.contains("imports ok"), "{out}");
    // The cache stays out of the image.
    let (ok, out) = in_image(&second.image(), "test ! -e /root/.cache/pip/wheelhouse");
    assert!(ok, "the wheelhouse is in the image: {out}");

    // The control: a requirement the cache lacks cannot be had with the
    // network cut, so the build above really was offline.
    let third = Project::new(&h, "c");
    third.append_requirement("six==1.16.0");
    third.cut_build_network();
    let run = third.start(&[]);
    let err = stderr(&run);
    assert_eq!(
        run.code, 2,
        "a build needing a download succeeded offline:\n{err}"
    );
    assert!(err.contains("cannot build app"), "{err}");
}

#[test]
fn without_buildkit_the_legacy_builder_builds_without_the_cache_mounts() {
    if !bed_ready() {
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let h = Harness::new();
    let p = Project::new(&h, "l");
    let dockerfile = std::fs::read_to_string(p.dir.join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("RUN --mount=type=cache,target=/root/.cache/pip"),
        "{dockerfile}"
    );
    let run = p.start(&[("DOCKER_BUILDKIT", "0")]);
    let err = stderr(&run);
    assert_eq!(run.code, 0, "{err}");
    assert!(
        err.contains("warning: ")
            && err.contains("building with the legacy builder (DOCKER_BUILDKIT is 0)"),
        "{err}"
    );
    assert!(err.contains("hint: install docker-buildx"), "{err}");
    // The copy the legacy builder used, named by an override file in .berth/.
    let berth: &Path = &p.dir.join(".berth");
    let copy = std::fs::read_to_string(berth.join("Dockerfile.legacy-app")).unwrap();
    assert!(!copy.contains("RUN --mount"), "{copy}");
    assert!(copy.contains("&& rm -rf -- /root/.cache/pip"), "{copy}");
    let over = std::fs::read_to_string(berth.join("compose.legacy-build.yaml")).unwrap();
    assert!(over.contains("Dockerfile.legacy-app"), "{over}");
    // The user's Dockerfile is as stackgen wrote it.
    assert_eq!(
        std::fs::read_to_string(p.dir.join("Dockerfile")).unwrap(),
        dockerfile
    );
    let (ok, out) = in_image(
        &p.image(),
        "python3 -c 'import fastapi' && test ! -e /root/.cache/pip && echo clean",
    );
    assert!(ok && out.contains("clean"), "{out}");
}
