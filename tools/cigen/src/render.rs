//! Rendering pipelines with Tera: the templates embedded in the binary, each
//! replaceable by a file of the same name under `<config.templates>/ci/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use berth::cli::ResultExt as _;
use serde::Serialize;
use tera::{Tera, Value};

use crate::detect::Detection;
use crate::plan::{Plan, Platform};

/// The embedded templates: (name, text). A user's file `<templates>/ci/<name>` replaces one.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "github/test.yml",
        include_str!("../templates/github/test.yml"),
    ),
    (
        "github/deploy.yml",
        include_str!("../templates/github/deploy.yml"),
    ),
    (
        "gitlab/gitlab-ci.yml",
        include_str!("../templates/gitlab/gitlab-ci.yml"),
    ),
];

/// Third-party actions, pinned to full commit SHAs, with the release in a comment.
pub const ACTIONS: &[(&str, &str)] = &[
    (
        "checkout",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
    ),
    (
        "setup_node",
        "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0",
    ),
    (
        "setup_python",
        "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065 # v5.6.0",
    ),
    (
        "setup_php",
        "shivammathur/setup-php@c541c155eee45413f5b09a52248675b1a2575231 # v2.31.1",
    ),
    (
        "cache",
        "actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3",
    ),
    (
        "login",
        "docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772 # v3.4.0",
    ),
    (
        "setup_buildx",
        "docker/setup-buildx-action@e468171a9de216ec08956ac3ada2f0791b6bd435 # v3.11.1",
    ),
    (
        "build_push",
        "docker/build-push-action@263435318d21b8e681c14492fe198d362a7d2c83 # v6.18.0",
    ),
];

/// What the deploy templates need.
#[derive(Debug, Clone, Serialize)]
pub struct Deploy {
    pub dockerfile: String,
    /// The stage built (`production`), or none for the last stage.
    pub target: Option<String>,
    pub target_label: String,
    /// The shell script of the SSH deploy step.
    pub script: String,
    /// GitLab: build and push with the docker CLI.
    pub gitlab_build: String,
}

impl Deploy {
    pub fn new(d: &Detection) -> Option<Self> {
        let dockerfile = d.dockerfile.clone()?;
        let target = d.docker_target.clone();
        let target_arg = target
            .as_ref()
            .map(|t| format!(" --target {t}"))
            .unwrap_or_default();
        Some(Self {
            target_label: target
                .as_ref()
                .map_or_else(|| "its last stage".into(), |t| format!("stage `{t}`")),
            gitlab_build: format!(
                "printf '%s' \"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" --password-stdin \"$CI_REGISTRY\"\n\
                 docker build{target_arg} -f {dockerfile} -t \"$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\" .\n\
                 docker push \"$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\""
            ),
            dockerfile,
            target,
            script: DEPLOY_SCRIPT.trim_end().to_string(),
        })
    }
}

/// The SSH deploy: the key and host keys come from secrets through the
/// environment; the remote command is `DEPLOY_COMMAND` with `IMAGE` set.
const DEPLOY_SCRIPT: &str = r#": "${DEPLOY_COMMAND:=docker compose pull && docker compose up -d --remove-orphans}"
install -d -m 700 ~/.ssh
(umask 077 && printf '%s\n' "$DEPLOY_SSH_KEY" > ~/.ssh/deploy_key)
printf '%s\n' "$DEPLOY_KNOWN_HOSTS" > ~/.ssh/known_hosts
# The command is the project's own setting; IMAGE is expanded here on purpose.
# shellcheck disable=SC2029
ssh -i ~/.ssh/deploy_key -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
  "$DEPLOY_USER@$DEPLOY_HOST" "IMAGE='$IMAGE' $DEPLOY_COMMAND"
"#;

/// A file to write: where, from which template, and its text.
#[derive(Debug, Clone, Serialize)]
pub struct Output {
    /// Relative to the project folder.
    pub path: PathBuf,
    pub template: String,
    /// Where the template came from: `builtin` or the user's file.
    pub template_source: String,
    #[serde(skip)]
    pub content: String,
}

/// The template engine with the user's overrides loaded.
pub struct Renderer {
    tera: Tera,
    sources: HashMap<String, String>,
}

impl Renderer {
    /// Embedded templates, replaced by `<dir>/ci/<name>` where such a file exists.
    pub fn new(user_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut tera = Tera::default();
        let mut sources = HashMap::new();
        let mut list: Vec<(String, String)> = Vec::new();
        for (name, text) in TEMPLATES {
            let mut body = (*text).to_string();
            let mut source = "builtin".to_string();
            if let Some(dir) = user_dir {
                let path = dir.join("ci").join(name);
                match berth::fsread::read_text(&path, None, berth::fsread::TEXT_LIMIT) {
                    Ok(Some(t)) => {
                        body = t.text;
                        source = path.display().to_string();
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot read template {}", path.display()));
                    }
                }
            }
            // Parse one by one so a broken user template is named.
            let mut probe = Tera::default();
            probe
                .add_raw_template(name, &body)
                .map_err(|e| anyhow!("{}", berth::cli::error_chain(&e)))
                .with_context(|| format!("invalid template {source}"))
                .hint("fix the template or remove it to use the built-in one")?;
            sources.insert((*name).to_string(), source);
            list.push(((*name).to_string(), body));
        }
        tera.add_raw_templates(list)
            .map_err(|e| anyhow!("{}", berth::cli::error_chain(&e)))?;
        tera.autoescape_on(Vec::new());
        tera.register_filter("q", filter_quote);
        tera.register_filter("indent", filter_indent);
        tera.register_filter("hashlist", filter_hashlist);
        Ok(Self { tera, sources })
    }

    fn render(&self, name: &str, ctx: &tera::Context) -> anyhow::Result<(String, String)> {
        let source = self
            .sources
            .get(name)
            .cloned()
            .unwrap_or_else(|| "builtin".into());
        let text = self
            .tera
            .render(name, ctx)
            .map_err(|e| anyhow!("{}", berth::cli::error_chain(&e)))
            .with_context(|| format!("cannot render template {name} ({source})"))?;
        let text = format!("{}\n", text.trim());
        // What we write must at least be YAML; a user template could break that.
        yaml_serde::from_str::<yaml_serde::Value>(&text)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("template {name} ({source}) rendered invalid YAML"))?;
        Ok((text, source))
    }

    /// The files of a pipeline.
    pub fn pipeline(
        &self,
        plan: &Plan,
        deploy: Option<&Deploy>,
        project: &Detection,
    ) -> anyhow::Result<Vec<Output>> {
        let mut ctx = tera::Context::new();
        ctx.insert("plan", plan);
        ctx.insert("project", project);
        ctx.insert("deploy", &deploy);
        let actions: HashMap<&str, &str> = ACTIONS.iter().copied().collect();
        ctx.insert("actions", &actions);
        let mut out = Vec::new();
        let jobs: Vec<(&str, &str)> = match plan.platform {
            Platform::Github => {
                let mut v = vec![("github/test.yml", ".github/workflows/test.yml")];
                if deploy.is_some() {
                    v.push(("github/deploy.yml", ".github/workflows/deploy.yml"));
                }
                v
            }
            Platform::Gitlab => vec![("gitlab/gitlab-ci.yml", ".gitlab-ci.yml")],
        };
        for (template, path) in jobs {
            let (content, source) = self.render(template, &ctx)?;
            out.push(Output {
                path: PathBuf::from(path),
                template: template.into(),
                template_source: source,
                content,
            });
        }
        Ok(out)
    }
}

/// `{{ x | q }}`: a double-quoted YAML scalar (JSON strings are YAML).
fn filter_quote(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Value::String(
        serde_json::to_string(&text).map_err(|e| tera::Error::msg(e.to_string()))?,
    ))
}

/// `{{ x | indent(width=N) }}`: indent every line after the first by N spaces.
fn filter_indent(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("indent: expects a string"))?;
    let width = args.get("width").and_then(Value::as_u64).unwrap_or(2);
    let pad = " ".repeat(usize::try_from(width).unwrap_or(2));
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
            }
        }
        out.push_str(line);
    }
    Ok(Value::String(out))
}

/// `{{ files | hashlist }}`: the arguments of GitHub's `hashFiles('a', 'b')`.
fn filter_hashlist(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let items = value
        .as_array()
        .ok_or_else(|| tera::Error::msg("hashlist: expects a list"))?;
    let quoted: Vec<String> = items
        .iter()
        .filter_map(Value::as_str)
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    Ok(Value::String(quoted.join(", ")))
}
