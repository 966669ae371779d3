//! JSON Schemas of the models, made from the Rust types (feature `schema`):
//! what xtask writes under `schemas/` and the tests validate output against.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

/// The schema of a type as the tools write it (the serialize contract): a
/// field that is always written is required.
pub fn of<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// The shared models, by schema name (the file `schemas/NAME.json`).
pub fn models() -> Vec<(&'static str, Schema)> {
    use crate::model::{Backup, Conflict, Plan, PortBinding, Project};
    vec![
        ("project", of::<Project>()),
        ("port-binding", of::<PortBinding>()),
        ("conflict", of::<Conflict>()),
        ("backup", of::<Backup>()),
        ("plan", of::<Plan>()),
        ("stack-file", of::<crate::stackfile::StackFile>()),
    ]
}
