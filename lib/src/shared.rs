//! The shared services: one compose project (`berth-shared`) of database,
//! cache and mail servers that many projects use, each project with a
//! database and a user of its own on them. The names here are the contract
//! between `shared`, stackgen, stackctl and dbdump.
//!
//! Every server is a container `berth-shared-<instance>` on the network
//! `berth-shared`, reached by that name only: no generic alias (`db`,
//! `postgres`) exists on the shared network, so one project's `db` can
//! never resolve to another project's server.

// Engine names (PostgreSQL, MariaDB) read better without backticks.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeMap;

use anyhow::bail;
use serde::Deserialize;

/// The name of the shared services: their compose project, their network
/// and the prefix of their containers. `shared.name` in config.yaml changes
/// it (a second installation on one engine, the tests).
pub const DEFAULT_NAME: &str = "berth-shared";
/// The administrator of a shared PostgreSQL server (its superuser; MariaDB's
/// is `root`). No project can be named so that its user collides with it:
/// project users are `p_<project>`.
pub const ADMIN_USER: &str = "berth";

/// `shared:` in config.yaml.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedConfig {
    /// The compose project and network (`berth-shared`); containers are
    /// `<name>-<instance>`.
    pub name: String,
    /// The instances `shared up` starts, by name: `postgres:` (the catalog's
    /// service of that name), or `postgres15: {service: postgres, version:
    /// "15"}` beside it.
    pub services: BTreeMap<String, Option<Instance>>,
    /// The shared router (`shared router up`): its host ports.
    pub router: RouterConfig,
}

impl Default for SharedConfig {
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.to_owned(),
            services: BTreeMap::new(),
            router: RouterConfig::default(),
        }
    }
}

/// `shared.router:` in config.yaml: the host ports of the shared Caddy
/// router, all on 127.0.0.1.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    /// Plain HTTP (redirects to HTTPS), default 80.
    pub http_port: u16,
    /// HTTPS, default 443.
    pub https_port: u16,
    /// Caddy's admin API; none: a free port picked when the router's
    /// container is made (read back from the container).
    pub admin_port: Option<u16>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            http_port: 80,
            https_port: 443,
            admin_port: None,
        }
    }
}

impl SharedConfig {
    /// The router's container (and host name on the shared network).
    pub fn router_container(&self) -> String {
        format!("{}-router", self.name)
    }
}

/// One configured shared server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// The catalog service (default: the instance's name).
    #[serde(default)]
    pub service: Option<String>,
    /// Its major version, one the catalog lists (default: the catalog's).
    #[serde(default)]
    pub version: Option<String>,
    /// A host port on 127.0.0.1 for tools outside the containers (none by
    /// default: projects reach the server on the shared network).
    #[serde(default)]
    pub port: Option<u16>,
}

/// A shared instance as it runs: its name, catalog service and settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The shared services' name (`berth-shared`).
    pub prefix: String,
    pub name: String,
    pub service: String,
    pub version: Option<String>,
    pub port: Option<u16>,
}

impl Resolved {
    /// Its container, which is also its host name on the shared network.
    pub fn container(&self) -> String {
        format!("{}-{}", self.prefix, self.name)
    }
}

impl SharedConfig {
    /// The compose project, network and container prefix, checked.
    pub fn name(&self) -> anyhow::Result<&str> {
        crate::names::validate_label("shared.name in config", &self.name)?;
        Ok(&self.name)
    }

    /// The container (and host name) of the shared instance `instance`.
    pub fn container(&self, instance: &str) -> String {
        format!("{}-{instance}", self.name)
    }

    /// The configured instances, checked: names are DNS labels.
    pub fn instances(&self) -> anyhow::Result<Vec<Resolved>> {
        let prefix = self.name()?.to_owned();
        self.services
            .iter()
            .map(|(name, inst)| {
                crate::names::validate_label("shared service name in config", name)?;
                let inst = inst.clone().unwrap_or_default();
                let service = inst.service.unwrap_or_else(|| name.clone());
                crate::names::validate_label("service in config", &service)?;
                Ok(Resolved {
                    prefix: prefix.clone(),
                    name: name.clone(),
                    service,
                    version: inst.version,
                    port: inst.port,
                })
            })
            .collect()
    }

    /// The instance named `name`: configured, or else the catalog service of
    /// that name with its defaults (`shared up redis` without config).
    pub fn instance(&self, name: &str) -> anyhow::Result<Resolved> {
        crate::names::validate_label("shared service name", name)?;
        let prefix = self.name()?.to_owned();
        Ok(self
            .instances()?
            .into_iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| Resolved {
                prefix,
                name: name.to_owned(),
                service: name.to_owned(),
                version: None,
                port: None,
            }))
    }
}

/// The engines whose servers hold one database per project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbEngine {
    Postgres,
    MariaDb,
}

impl DbEngine {
    /// The engine of a catalog service, if it is a database server `shared`
    /// manages.
    pub fn of_service(service: &str) -> Option<Self> {
        match service {
            "postgres" => Some(Self::Postgres),
            "mariadb" | "mysql" => Some(Self::MariaDb),
            _ => None,
        }
    }
}

/// Whether `service` is a key-value server (Redis, Valkey) on which each
/// project is an ACL user owning only the keys and channels that start with
/// its [`key_prefix`]. ACL users rather than database numbers: any client
/// may `SELECT` any number, so numbers would separate projects by
/// convention only, while an ACL user is refused (NOPERM) every key of
/// another project.
pub fn is_key_value(service: &str) -> bool {
    matches!(service, "redis" | "valkey")
}

/// Whether `shared db create` gives a project an account of its own on a
/// server of `service` (a database and user, or an ACL user).
pub fn has_accounts(service: &str) -> bool {
    DbEngine::of_service(service).is_some() || is_key_value(service)
}

/// The prefix of a project's keys on a shared key-value server: its user
/// and a colon (`p_shop:`).
pub fn key_prefix(project: &str) -> String {
    format!("{}:", user(project))
}

/// A project's database name on a shared server: its name with `_` for `-`
/// (one-to-one: project names have no `_`).
pub fn database(project: &str) -> String {
    project.replace('-', "_")
}

/// A project's user on a shared server: `p_` and its database name, so no
/// project's user is the administrator or a server's built-in account
/// (`postgres`, `root`, `mysql`).
pub fn user(project: &str) -> String {
    format!("p_{}", database(project))
}

/// The secret in the project's store holding its password on `instance`
/// (of catalog service `service`): `SHARED_` and the name stackgen gives the
/// instance's own password (`SHARED_POSTGRES_PASSWORD`,
/// `SHARED_PG15_POSTGRES_PASSWORD`), so a project moving between its own
/// server and a shared one holds both while it moves.
pub fn password_secret(instance: &str, service: &str) -> String {
    let base = match DbEngine::of_service(service) {
        None if service == "valkey" => "VALKEY_PASSWORD",
        None if service == "redis" => "REDIS_PASSWORD",
        Some(DbEngine::Postgres) => "POSTGRES_PASSWORD",
        Some(DbEngine::MariaDb) if service == "mysql" => "MYSQL_PASSWORD",
        _ => "MARIADB_PASSWORD",
    };
    if instance == service {
        format!("SHARED_{base}")
    } else {
        format!(
            "SHARED_{}_{base}",
            instance.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// The prefix of the registry variables naming a project's connection to
/// `instance` (`SHARED_POSTGRES` of `SHARED_POSTGRES_HOST`, `_PORT`,
/// `_DATABASE`, `_USER`), from its password's secret name.
pub fn env_prefix(instance: &str, service: &str) -> String {
    password_secret(instance, service)
        .trim_end_matches("_PASSWORD")
        .to_owned()
}

/// The administrator of a shared database server of catalog service
/// `service`, and the secret (in the store of the shared services' name)
/// holding its password, named as stackgen names the server's own secrets
/// (`POSTGRES_PASSWORD`, `PG15_POSTGRES_PASSWORD`, `MARIADB_ROOT_PASSWORD`).
pub fn admin(instance: &str, service: &str) -> (&'static str, String) {
    let (user, base) = match DbEngine::of_service(service) {
        None if service == "valkey" => ("default", "VALKEY_PASSWORD"),
        None if service == "redis" => ("default", "REDIS_PASSWORD"),
        Some(DbEngine::Postgres) => (ADMIN_USER, "POSTGRES_PASSWORD"),
        Some(DbEngine::MariaDb) if service == "mysql" => ("root", "MYSQL_ROOT_PASSWORD"),
        _ => ("root", "MARIADB_ROOT_PASSWORD"),
    };
    let key = if instance == service {
        base.to_owned()
    } else {
        format!("{}_{base}", instance.to_ascii_uppercase().replace('-', "_"))
    };
    (user, key)
}

/// Check a project name for the shared servers: a DNS label short enough
/// that its user (`p_` + name) fits MariaDB's 80 and PostgreSQL's 63 bytes.
pub fn check_project(project: &str) -> anyhow::Result<()> {
    crate::names::validate_label("project name", project)?;
    if user(project).len() > 63 {
        bail!(
            "invalid project name '{project}': at most 61 characters on a shared server (its user p_{} must fit 63)",
            database(project)
        );
    }
    Ok(())
}

/// The shared instances each project takes (the registry's `shared` field),
/// as `project -> instances`.
pub fn users(projects: &[crate::Project]) -> BTreeMap<String, Vec<String>> {
    projects
        .iter()
        .filter(|p| !p.shared.is_empty())
        .map(|p| (p.name.clone(), p.shared.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_contract() {
        assert_eq!(
            SharedConfig::default().container("postgres"),
            "berth-shared-postgres"
        );
        assert_eq!(database("my-shop"), "my_shop");
        assert_eq!(user("my-shop"), "p_my_shop");
        assert_eq!(
            password_secret("postgres", "postgres"),
            "SHARED_POSTGRES_PASSWORD"
        );
        assert_eq!(
            password_secret("pg-15", "postgres"),
            "SHARED_PG_15_POSTGRES_PASSWORD"
        );
        assert_eq!(
            password_secret("mariadb", "mariadb"),
            "SHARED_MARIADB_PASSWORD"
        );
        assert_eq!(password_secret("redis", "redis"), "SHARED_REDIS_PASSWORD");
        assert_eq!(
            admin("cache", "redis"),
            ("default", "CACHE_REDIS_PASSWORD".to_owned())
        );
        assert_eq!(key_prefix("my-shop"), "p_my_shop:");
        assert!(has_accounts("valkey") && has_accounts("mysql") && !has_accounts("mailpit"));
        assert!(check_project("shop").is_ok());
        assert!(check_project("Shop").is_err());
        assert!(check_project(&"a".repeat(62)).is_err());
    }

    #[test]
    fn config_instances_default_to_the_catalog_service() {
        let c: SharedConfig = yaml_serde::from_str(
            "services:\n  postgres:\n  pg15: {service: postgres, version: \"15\", port: 5999}\n",
        )
        .unwrap();
        let all = c.instances().unwrap();
        assert_eq!(all.len(), 2);
        let pg15 = all.iter().find(|i| i.name == "pg15").unwrap();
        assert_eq!(pg15.service, "postgres");
        assert_eq!(pg15.version.as_deref(), Some("15"));
        assert_eq!(pg15.port, Some(5999));
        assert_eq!(c.instance("redis").unwrap().service, "redis");
        assert_eq!(pg15.container(), "berth-shared-pg15");
        let c: SharedConfig = yaml_serde::from_str("name: Bad_Name\n").unwrap();
        assert!(c.instances().is_err());
        assert!(c.instance("Redis").is_err());
        assert!(yaml_serde::from_str::<SharedConfig>("services:\n  pg: {versoin: 1}\n").is_err());
    }
}
