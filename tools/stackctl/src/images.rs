//! Images before a start: pull the missing ones through the engine (an image
//! that cannot be pulled is named, with the config key that maps it), and
//! build the missing built ones with compose, before any container exists.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use berth::Project;
use berth::cli::error_with_hint;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt as _;
use serde_yaml::Value;

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
    let mut action = vec!["build"];
    action.extend(&missing);
    let mut current = missing[0].to_owned();
    let name = p.name.clone();
    driver
        .run_lines(p, files, env, &action, &mut |line| {
            if let Some(s) = line.strip_prefix("Building ") {
                s.trim().clone_into(&mut current);
            }
            if let Some((n, m, what)) = progress::build_step(line) {
                progress.say(&format!(
                    "{name}: building {current}: step {n} of {m}: {what}"
                ));
            }
        })
        .with_context(|| format!("cannot build {}", missing.join(", ")))?;
    Ok(())
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
}
