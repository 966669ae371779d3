//! `berth.yaml` in a stackgen project: the declared stack (instances of
//! catalog services, their overrides, the wires) from which the services
//! file is generated. `stackgen new` writes it; a project generated before
//! it existed gets one from `.berth/stackgen.json` on first use, which
//! generates exactly the files it had.

use std::collections::BTreeMap;
use std::path::Path;

use berth::stackfile::{self, Catalog, ServiceInfo, StackFile, StackInfo};

use crate::catalog::describe;
use crate::generate::APP;
use crate::stack::Stack;
use crate::state::State;
use crate::templates::Library;

/// The catalog as `berth.yaml`'s reader and the wiring see it, for one stack.
pub struct Cat<'a> {
    pub lib: &'a Library,
    pub stack: &'a Stack,
}

/// Roles that are not imports: a tool (adminer) or a worker serves nobody.
const NOT_IMPORTED: [&str; 2] = ["tool", "worker"];

impl Cat<'_> {
    /// What the stack's code imports: each role its offered services fill,
    /// taking the contracts they export (`database` -> postgres|mysql|mariadb).
    fn app_imports(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &self.stack.manifest.services.offers {
            let Ok(def) = describe(self.lib, s, &self.stack.manifest.style) else {
                continue;
            };
            if NOT_IMPORTED.contains(&def.role.as_str()) {
                continue;
            }
            let accepts = out.entry(def.role).or_default();
            for e in def.exports {
                if !accepts.contains(&e) {
                    accepts.push(e);
                }
            }
        }
        out
    }
}

impl Catalog for Cat<'_> {
    fn stack(&self, name: &str) -> Option<StackInfo> {
        (name == self.stack.name).then(|| StackInfo {
            services: BTreeMap::from([(
                APP.to_owned(),
                ServiceInfo {
                    imports: self.app_imports(),
                    ..ServiceInfo::default()
                },
            )]),
        })
    }

    fn service(&self, name: &str) -> Option<ServiceInfo> {
        if !self.lib.service_names().iter().any(|s| s == name) {
            return None;
        }
        let def = describe(self.lib, name, &self.stack.manifest.style).ok()?;
        // A worker runs the app's code: it imports what the app imports.
        let imports = if def.app_like {
            self.app_imports()
        } else {
            BTreeMap::new()
        };
        Some(ServiceInfo {
            versions: def.versions,
            imports,
            exports: def.exports,
            required: def.requires_roles,
        })
    }

    fn service_names(&self) -> Vec<String> {
        self.lib.service_names()
    }
}

/// The header `stackgen new` writes above the declared stack.
const HEADER: &str = "\
# The declared stack: instances of catalog services, their overrides and the
# wires between them. stackgen generates .berth/compose.services.yaml from it;
# `stackgen config` shows the effective config, `stackctl plan` the changes.
";

/// The text of a new `berth.yaml`.
pub fn text(file: &StackFile) -> String {
    format!("{HEADER}{}", file.to_text())
}

/// The declared stack of a project generated before `berth.yaml`: one bare
/// instance per service, as the state lists them.
pub fn from_state(state: &State) -> StackFile {
    let mut file = StackFile::new(&state.stack, &state.name);
    for s in &state.services {
        let inst = match state.instances.get(s) {
            Some(service) => stackfile::Instance::of(service),
            None => stackfile::Instance::default(),
        };
        file.instances.insert(s, inst);
    }
    file
}

/// The project's declared stack and its text: `berth.yaml` read once and
/// checked against the catalog (exit 2 naming file, line and key), or,
/// when the project has none yet, the one its state implies (`first`).
pub struct Declared {
    pub file: StackFile,
    pub text: String,
    /// No `berth.yaml` yet: the text is the one the state implies.
    pub first: bool,
}

pub fn load(dir: &Path, lib: &Library, stack: &Stack, state: &State) -> anyhow::Result<Declared> {
    let path = dir.join(stackfile::FILE);
    let Some(read) = berth::fsread::read_text(&path, None, stackfile::LIMIT)? else {
        let file = from_state(state);
        let text = text(&file);
        return Ok(Declared {
            file,
            text,
            first: true,
        });
    };
    let file = stackfile::parse(&read.text, stackfile::FILE, Some(&Cat { lib, stack }))?;
    check_matches(&file, state)?;
    Ok(Declared {
        file,
        text: read.text,
        first: false,
    })
}

/// The file names the project it sits in.
fn check_matches(file: &StackFile, state: &State) -> anyhow::Result<()> {
    if file.name != state.name || file.stack != state.stack {
        return Err(berth::cli::error_with_hint(
            format!(
                "{}: declares {} ({}) but the folder holds {} ({})",
                stackfile::FILE,
                file.name,
                file.stack,
                state.name,
                state.stack
            ),
            "a stack file moved from another project: fix its name and stack",
        ));
    }
    Ok(())
}
