//! Images before a start: pull the missing ones through the engine (an image
//! that cannot be pulled is named, with the config key that maps it), and
//! build the missing built ones with compose, before any container exists.
//!
//! Builds use `BuildKit` where the docker CLI offers it, so the stacks'
//! `RUN --mount=type=cache` keep pip and npm downloads between builds; with
//! only the legacy builder, the cache mounts are left out of a copy of the
//! Dockerfile in `.berth/` (the build works, downloads are not kept) and a
//! warning says so.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use berth::Project;
use berth::cli::{error_with_hint, warn};
use bollard::Docker;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt as _;
use yaml_serde::Value;

use crate::driver::Driver;
use crate::progress::{self, Progress};
use crate::ready::StackPlan;

/// `name:tag` or `name@digest` split for the engine's pull (no tag: `latest`).
fn split_reference(image: &str) -> (&str, &str) {
    if let Some((name, digest)) = image.split_once('@') {
        return (name, digest);
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (&image[..slash + i], &image[slash + i + 1..]),
        None => (image, "latest"),
    }
}

async fn exists(docker: &Docker, image: &str) -> bool {
    docker.inspect_image(image).await.is_ok()
}

/// The services with a `build:` and the image compose gives each (its
/// `image:`, else `PROJECT_SERVICE` (v1) or `PROJECT-SERVICE` (v2)).
fn built(plan: &StackPlan, project: &str) -> Vec<(String, Vec<String>)> {
    plan.compose
        .iter()
        .flat_map(|c| &c.services)
        .filter(|s| s.raw.contains_key(Value::String("build".into())))
        .map(|s| {
            let names = match &s.image {
                Some(i) => vec![i.clone()],
                None => vec![
                    format!("{project}_{}", s.name),
                    format!("{project}-{}", s.name),
                ],
            };
            (s.name.clone(), names)
        })
        .collect()
}

/// Pull the images that are missing here, one by one; then build the
/// services whose image is missing (`compose build SERVICE...`), showing
/// the build step.
pub async fn prepare(
    docker: &Docker,
    driver: &Driver,
    p: &Project,
    files: &[PathBuf],
    env: &BTreeMap<String, String>,
    plan: &StackPlan,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let builds = built(plan, &p.name);
    let mut pulls: Vec<(String, String)> = Vec::new();
    for s in plan.compose.iter().flat_map(|c| &c.services) {
        if builds.iter().any(|(b, _)| b == &s.name) {
            continue;
        }
        if let Some(image) = &s.image
            && !pulls.iter().any(|(i, _)| i == image)
        {
            pulls.push((image.clone(), s.name.clone()));
        }
    }
    for (image, service) in &pulls {
        if exists(docker, image).await {
            continue;
        }
        pull(docker, image, service, &p.name, progress).await?;
    }
    let mut missing = Vec::new();
    for (service, names) in &builds {
        let mut found = false;
        for n in names {
            found |= exists(docker, n).await;
        }
        if !found {
            missing.push(service.as_str());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut env = env.clone();
    let mut files = files.to_vec();
    match builder(docker, driver).await {
        Builder::Engine => {}
        Builder::BuildKit { cli, version, path } => {
            env.insert("DOCKER_BUILDKIT".into(), "1".into());
            env.insert("COMPOSE_DOCKER_CLI_BUILD".into(), "1".into());
            if let Some(path) = path {
                env.insert("PATH".into(), path.to_string_lossy().into_owned());
            }
            progress.say(&format!(
                "{}: building with BuildKit ({} {version}; pip/npm downloads cached)",
                p.name,
                cli.display()
            ));
        }
        Builder::Legacy(why) => {
            warn(
                crate::TOOL,
                format!(
                    "{}: building with the legacy builder ({why}): the Dockerfiles' cache mounts are left out, \
                     so pip and npm download everything again on each build",
                    p.name
                ),
            );
            eprintln!(
                "hint: install docker-buildx (or use docker.io 20.10's own CLI) for builds that reuse downloads"
            );
            env.insert("DOCKER_BUILDKIT".into(), "0".into());
            if let Some(over) = legacy_override(p, plan, &missing)? {
                files.push(over);
            }
        }
    }
    let mut action = vec!["build"];
    action.extend(&missing);
    let mut current = missing[0].to_owned();
    let name = p.name.clone();
    driver
        .run_lines(p, &files, &env, &action, &mut |line| {
            if let Some(s) = line.strip_prefix("Building ") {
                s.trim().clone_into(&mut current);
            }
            if let Some((n, m, what)) = progress::build_step(line) {
                // A long RUN (the stacks' pip/npm steps) reads as its start.
                let what = match what.char_indices().nth(100) {
                    Some((i, _)) => format!("{}...", &what[..i]),
                    None => what.to_owned(),
                };
                progress.say(&format!(
                    "{name}: building {current}: step {n} of {m}: {what}"
                ));
            }
        })
        .with_context(|| format!("cannot build {}", missing.join(", ")))?;
    Ok(())
}

/// How this machine builds images.
enum Builder {
    /// Compose's own way (docker compose v2, podman: `BuildKit` or buildah,
    /// both of which take cache mounts).
    Engine,
    /// `docker-compose` v1 through a docker CLI that builds with `BuildKit`;
    /// `path` puts that CLI first when another `docker` comes first on PATH.
    BuildKit {
        cli: PathBuf,
        version: String,
        path: Option<OsString>,
    },
    /// Only the legacy builder, and why.
    Legacy(String),
}

/// The builder for `driver` here: `BuildKit` through the first docker CLI on
/// PATH that has it (buildx, or a 18.09 to 22.x CLI with `BuildKit` built in),
/// unless `DOCKER_BUILDKIT=0` or `COMPOSE_DOCKER_CLI_BUILD=0` asks otherwise.
async fn builder(docker: &Docker, driver: &Driver) -> Builder {
    if driver.name != "docker-compose" {
        return Builder::Engine;
    }
    let podman = docker.version().await.ok().is_some_and(|v| {
        v.components
            .unwrap_or_default()
            .iter()
            .any(|c| c.name.to_lowercase().contains("podman"))
    });
    if podman {
        return Builder::Engine;
    }
    for var in ["DOCKER_BUILDKIT", "COMPOSE_DOCKER_CLI_BUILD"] {
        if std::env::var(var).is_ok_and(|v| matches!(v.as_str(), "0" | "false")) {
            return Builder::Legacy(format!("{var} is 0"));
        }
    }
    let paths: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let mut tried: Vec<String> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for (i, dir) in paths.iter().enumerate() {
        let cli = dir.join("docker");
        let Some(real) = is_executable(&cli)
            .then(|| cli.canonicalize().ok())
            .flatten()
        else {
            continue;
        };
        if seen.contains(&real) {
            continue;
        }
        seen.push(real);
        let version = cli_version(&cli).unwrap_or_else(|| "unknown version".into());
        if builds_with_buildkit(&cli, &version) {
            let path = (!tried.is_empty()).then(|| {
                std::env::join_paths(
                    std::iter::once(dir)
                        .chain(&paths[..i])
                        .chain(&paths[i + 1..]),
                )
                .unwrap_or_default()
            });
            return Builder::BuildKit { cli, version, path };
        }
        tried.push(format!("{} {version}", cli.display()));
    }
    if tried.is_empty() {
        return Builder::Legacy("no docker CLI on PATH".into());
    }
    Builder::Legacy(format!(
        "no BuildKit in {}: no buildx plugin",
        tried.join(", ")
    ))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `docker version`'s client version.
fn cli_version(cli: &Path) -> Option<String> {
    let out = duct::cmd(cli, ["version", "--format", "{{.Client.Version}}"])
        .stdin_null()
        .stderr_null()
        .stdout_capture()
        .unchecked()
        .run()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!v.is_empty()).then_some(v)
}

/// A CLI with the buildx plugin, or one from 18.09 to 22.x (`BuildKit` built
/// in; from 23 on the CLI needs buildx for it).
fn builds_with_buildkit(cli: &Path, version: &str) -> bool {
    let builtin = parse_major_minor(version).is_some_and(|v| ((18, 9)..(23, 0)).contains(&v));
    builtin
        || duct::cmd(cli, ["buildx", "version"])
            .stdin_null()
            .stdout_null()
            .stderr_null()
            .unchecked()
            .run()
            .is_ok_and(|o| o.status.success())
}

fn parse_major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(['.', '+', '-', '~']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// `RUN --mount=type=cache,...` flags left out, for the legacy builder
/// (which refuses `--mount`); what the mounts held is removed at the end of
/// the same step, so it stays out of the image. `None` when there is none.
fn without_cache_mounts(dockerfile: &str) -> Option<String> {
    let mut out = String::with_capacity(dockerfile.len());
    let mut changed = false;
    let mut lines = dockerfile.split_inclusive('\n');
    while let Some(first) = lines.next() {
        // One instruction: the line and its `\` continuations.
        let mut instr = first.to_owned();
        while instr.trim_end().ends_with('\\') {
            match lines.next() {
                Some(l) => instr.push_str(l),
                None => break,
            }
        }
        let head = instr.trim_start();
        let indent = &instr[..instr.len() - head.len()];
        let is_run = head
            .get(..4)
            .is_some_and(|h| h.eq_ignore_ascii_case("RUN "));
        if !is_run {
            out.push_str(&instr);
            continue;
        }
        // The flags before the command, across continuations.
        let mut rest = &head[4..];
        let mut kept: Vec<&str> = Vec::new();
        let mut targets: Vec<&str> = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix("\\\n") {
                rest = r;
                continue;
            }
            if !rest.starts_with("--") {
                break;
            }
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let flag = &rest[..end];
            match flag.strip_prefix("--mount=") {
                Some(m) if m.split(',').any(|kv| kv == "type=cache") => {
                    targets.extend(m.split(',').find_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        matches!(k, "target" | "dst" | "destination").then_some(v)
                    }));
                }
                _ => kept.push(flag),
            }
            rest = &rest[end..];
        }
        if targets.is_empty() {
            out.push_str(&instr);
            continue;
        }
        changed = true;
        let command = rest.trim_end().trim_end_matches('\\').trim_end();
        let _ = write!(out, "{indent}{} ", &head[..3]);
        for k in &kept {
            let _ = write!(out, "{k} ");
        }
        let _ = writeln!(out, "{command} \\\n && rm -rf -- {}", targets.join(" "));
    }
    changed.then_some(out)
}

/// For the legacy builder: each service to build whose Dockerfile has cache
/// mounts gets a copy without them in `.berth/`, named by an override file
/// (`.berth/compose.legacy-build.yaml`) added to the build's compose files.
fn legacy_override(
    p: &Project,
    plan: &StackPlan,
    services: &[&str],
) -> anyhow::Result<Option<PathBuf>> {
    let dir = p.path.join(".berth");
    let mut over = yaml_serde::Mapping::new();
    for s in plan.compose.iter().flat_map(|c| &c.services) {
        if !services.contains(&s.name.as_str()) {
            continue;
        }
        let Some(build) = s.raw.get(Value::String("build".into())) else {
            continue;
        };
        let (context, dockerfile) = match build {
            Value::String(c) => (c.clone(), "Dockerfile".to_owned()),
            Value::Mapping(m) => {
                let get = |k: &str| m.get(Value::String(k.into())).and_then(Value::as_str);
                (
                    get("context").unwrap_or(".").to_owned(),
                    get("dockerfile").unwrap_or("Dockerfile").to_owned(),
                )
            }
            _ => continue,
        };
        let context = p.path.join(context);
        let path = context.join(&dockerfile);
        let Some(text) = berth::fsread::read_text(&path, Some(&p.path), berth::fsread::TEXT_LIMIT)?
        else {
            continue;
        };
        let Some(legacy) = without_cache_mounts(&text.text) else {
            continue;
        };
        let copy = dir.join(format!("Dockerfile.legacy-{}", s.name));
        berth::atomic::write(&copy, legacy.as_bytes(), 0o644)?;
        let mut b = yaml_serde::Mapping::new();
        b.insert(
            "dockerfile".into(),
            copy.to_string_lossy().into_owned().into(),
        );
        let mut svc = yaml_serde::Mapping::new();
        svc.insert("build".into(), Value::Mapping(b));
        over.insert(s.name.clone().into(), Value::Mapping(svc));
    }
    if over.is_empty() {
        return Ok(None);
    }
    let mut doc = yaml_serde::Mapping::new();
    doc.insert("services".into(), Value::Mapping(over));
    let file = dir.join("compose.legacy-build.yaml");
    let text = format!(
        "# Written by stackctl for the legacy builder (no BuildKit here): the\n\
         # Dockerfiles without their cache mounts. Rewritten on each such build.\n{}",
        yaml_serde::to_string(&doc)?
    );
    berth::atomic::write(&file, text.as_bytes(), 0o644)?;
    Ok(Some(file))
}

/// Pull one image through the engine, with its progress.
async fn pull(
    docker: &Docker,
    image: &str,
    service: &str,
    project: &str,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let (from, tag) = split_reference(image);
    let mut stream = docker.create_image(
        Some(CreateImageOptions {
            from_image: Some(from.to_owned()),
            tag: Some(tag.to_owned()),
            ..Default::default()
        }),
        None,
        None,
    );
    progress.say(&format!("{project}: pulling {image}"));
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(status) = info.status {
                    progress.say(&format!("{project}: pulling {image}: {status}"));
                }
            }
            Err(e) => {
                let why = match e {
                    bollard::errors::Error::DockerResponseServerError { message, .. }
                    | bollard::errors::Error::DockerStreamError { error: message } => message,
                    other => other.to_string(),
                };
                let config = berth::paths::Paths::from_env().map_or_else(
                    |_| "config.yaml".into(),
                    |p| p.config_file().display().to_string(),
                );
                return Err(error_with_hint(
                    format!(
                        "cannot pull image {image} (service {service}): {}",
                        why.trim()
                    ),
                    format!(
                        "map {image} to an image this machine has or can pull with `images:` in {config} \
                         (images: {{\"{image}\": \"mirror.example/{from}:{tag}\"}}), or build it and tag it {image}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        assert_eq!(split_reference("node:20"), ("node", "20"));
        assert_eq!(split_reference("redis"), ("redis", "latest"));
        assert_eq!(
            split_reference("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/app:1.2"),
            ("localhost:5000/app", "1.2")
        );
        assert_eq!(split_reference("x@sha256:ab"), ("x", "sha256:ab"));
    }

    #[test]
    fn cache_mounts_are_left_out_for_the_legacy_builder() {
        let df = "FROM x AS base\n\
                  RUN --mount=type=cache,target=/root/.cache/pip \\\n    \
                  pip install -r r.txt \\\n && echo ok\n\
                  RUN --mount=type=cache,target=/root/.npm --mount=type=cache,dst=/c npm ci\n\
                  run  echo plain\n\
                  RUN --mount=type=secret,id=tok cat /run/secrets/tok\n\
                  RUN --network=none --mount=type=cache,target=/a make\n";
        let legacy = without_cache_mounts(df).unwrap();
        assert_eq!(
            legacy,
            "FROM x AS base\n\
             RUN pip install -r r.txt \\\n && echo ok \\\n && rm -rf -- /root/.cache/pip\n\
             RUN npm ci \\\n && rm -rf -- /root/.npm /c\n\
             run  echo plain\n\
             RUN --mount=type=secret,id=tok cat /run/secrets/tok\n\
             RUN --network=none make \\\n && rm -rf -- /a\n"
        );
        assert_eq!(without_cache_mounts("FROM x\nRUN echo hi\n"), None);
        assert_eq!(without_cache_mounts(""), None);
        // A truncated instruction never panics.
        assert!(without_cache_mounts("RUN --mount=type=cache,target=/a \\").is_some());
        assert_eq!(without_cache_mounts("RUN"), None);
    }

    #[test]
    fn cli_versions_with_builtin_buildkit() {
        assert_eq!(parse_major_minor("20.10.24+dfsg1"), Some((20, 10)));
        assert_eq!(parse_major_minor("28.2.2"), Some((28, 2)));
        assert_eq!(parse_major_minor("unknown version"), None);
    }
}
