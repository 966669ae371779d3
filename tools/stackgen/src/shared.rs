//! The catalog's services as shared servers (`shared`): the same templates
//! a project's own server comes from, rendered for the shared network: the
//! host is the container `berth-shared-<instance>`, the server's own user
//! and database are berth's administrator (`berth`), and the version is
//! one the catalog lists.

use std::collections::BTreeMap;

use berth::cli::error_with_hint;
use berth::config::Config;
use berth::paths::Paths;
use berth::shared::Resolved;
use yaml_serde::{Mapping, Value};

use crate::catalog::{ServiceContext, render_service};
use crate::generate::{rename_secrets, secret_prefix};
use crate::templates::Library;

/// A shared server as the catalog defines it.
#[derive(Debug, Clone)]
pub struct Server {
    /// The catalog service (`postgres`).
    pub service: String,
    /// Its role (`database`, `cache`, `mail`).
    pub role: String,
    /// The image, with the instance's version and the config's `images:`.
    pub image: String,
    /// The port it serves on inside the network.
    pub port: Option<u16>,
    /// The folder kept in its named volume.
    pub data: Option<String>,
    /// The server's own secrets (the administrator's password), named for
    /// the instance (`PG15_POSTGRES_PASSWORD`): name -> kind.
    pub secrets: BTreeMap<String, String>,
    /// The compose service (image, environment, healthcheck) before berth
    /// adds its name, network, volume and ports.
    pub service_def: Mapping,
}

/// The catalog's services that can run as shared servers.
pub const SHAREABLE: [&str; 8] = [
    "postgres",
    "mariadb",
    "mysql",
    "redis",
    "valkey",
    "memcached",
    "mailpit",
    "minio",
];

/// Render `inst` from the catalog (the user's templates included).
pub fn server(paths: &Paths, config: &Config, inst: &Resolved) -> anyhow::Result<Server> {
    let lib = Library::load(paths, config)?;
    if !SHAREABLE.contains(&inst.service.as_str()) {
        let why = if lib.service_names().contains(&inst.service) {
            format!("'{}' cannot run as a shared service", inst.service)
        } else {
            format!("unknown service '{}'", inst.service)
        };
        return Err(error_with_hint(
            why,
            format!("shared services: {}", SHAREABLE.join(", ")),
        ));
    }
    let host = inst.container();
    let ctx = ServiceContext {
        name: &inst.prefix,
        host: &host,
        database: berth::shared::ADMIN_USER,
        user: berth::shared::ADMIN_USER,
        module: "shared",
        stack: "shared",
        style: "",
        primary: false,
        primary_database: "",
        services: &[],
        shared: "server",
    };
    let mut def = render_service(&lib, &inst.service, &ctx)?;
    rename_secrets(&mut def, &secret_prefix(&inst.name, &inst.service));
    let key = |k: &str| Value::String(k.to_owned());
    let template_image = def
        .service
        .get(key("image"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let image = match &inst.version {
        Some(v) => {
            if !def.versions.is_empty() && !def.versions.contains(v) {
                return Err(error_with_hint(
                    format!(
                        "version '{}' of {} is not in the catalog",
                        berth::cli::excerpt(v),
                        inst.service
                    ),
                    format!("its versions: {}", def.versions.join(", ")),
                ));
            }
            berth::stackfile::with_tag(&template_image, v)
        }
        None => template_image,
    };
    let image = config.image(&image).to_owned();
    berth::config::check_image_ref("image", &image)?;
    def.service
        .insert(key("image"), Value::String(image.clone()));
    Ok(Server {
        service: inst.service.clone(),
        role: def.role,
        image,
        port: def.port,
        data: def.data,
        secrets: def.secrets,
        service_def: def.service,
    })
}
