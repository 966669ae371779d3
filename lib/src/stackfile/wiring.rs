//! Wiring by contract: each consumer's import (the stack's `app`, or an
//! instance whose catalog service imports something) gets its provider: the
//! explicit wire when `wires:` has one, else the only instance whose service
//! exports a contract the import takes. Several candidates leave the import
//! ambiguous (named, with the candidates); a required import with none is
//! missing. [`read`](super::read) has already checked the explicit wires.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{APP, Catalog, ServiceInfo, StackFile};

/// How an import got its provider.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// `wires:` names it.
    Explicit,
    /// The only instance that provides the contract.
    Auto,
}

/// One import's resolution.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub consumer: String,
    pub import: String,
    /// The provider instance; none: ambiguous or missing.
    pub provider: Option<String>,
    pub how: Option<How>,
    /// Every instance that could provide it, in the file's order.
    pub candidates: Vec<String>,
    pub required: bool,
}

impl Resolution {
    pub fn is_ambiguous(&self) -> bool {
        self.provider.is_none() && self.candidates.len() > 1
    }

    pub fn is_missing(&self) -> bool {
        self.provider.is_none() && self.candidates.is_empty() && self.required
    }

    /// The problem, as plan and config say it (none: resolved or optional).
    pub fn problem(&self) -> Option<String> {
        if self.is_ambiguous() {
            Some(format!(
                "{}.{} is ambiguous: {} can provide it; pick one with `stackgen wire {}.{} NAME`",
                self.consumer,
                self.import,
                self.candidates.join(", "),
                self.consumer,
                self.import
            ))
        } else if self.is_missing() {
            Some(format!(
                "{}.{} needs a provider and no instance provides it",
                self.consumer, self.import
            ))
        } else {
            None
        }
    }
}

/// Every consumer's imports resolved, consumers in order (`app` first, then
/// the instances in the file's order), imports sorted.
pub fn resolve(file: &StackFile, catalog: &dyn Catalog) -> Vec<Resolution> {
    let exports: Vec<(&str, Vec<String>)> = file
        .instances
        .iter()
        .map(|(name, inst)| {
            let info = catalog.service(inst.service_name(name)).unwrap_or_default();
            (name, info.exports)
        })
        .collect();
    let mut consumers: Vec<(String, ServiceInfo)> = catalog
        .stack(&file.stack)
        .map(|s| s.services.into_iter().collect())
        .unwrap_or_default();
    consumers.sort_by_key(|(name, _)| name != APP);
    for (name, inst) in file.instances.iter() {
        if let Some(info) = catalog.service(inst.service_name(name))
            && !info.imports.is_empty()
        {
            consumers.push((name.to_owned(), info));
        }
    }
    let mut out = Vec::new();
    for (consumer, info) in consumers {
        for (import, accepts) in &info.imports {
            let candidates: Vec<String> = exports
                .iter()
                .filter(|(name, ex)| *name != consumer && accepts.iter().any(|a| ex.contains(a)))
                .map(|(name, _)| (*name).to_owned())
                .collect();
            let explicit = file.wires.get(&format!("{consumer}.{import}")).cloned();
            let (provider, how) = match (explicit, candidates.as_slice()) {
                (Some(p), _) => (Some(p), Some(How::Explicit)),
                (None, [only]) => (Some(only.clone()), Some(How::Auto)),
                (None, _) => (None, None),
            };
            out.push(Resolution {
                consumer: consumer.clone(),
                import: import.clone(),
                provider,
                how,
                candidates,
                required: info.required.contains(import),
            });
        }
    }
    out
}

/// The provider of each `consumer.import` that has one.
pub fn providers(resolved: &[Resolution]) -> BTreeMap<(String, String), String> {
    resolved
        .iter()
        .filter_map(|r| {
            let p = r.provider.clone()?;
            Some(((r.consumer.clone(), r.import.clone()), p))
        })
        .collect()
}
