//! Shared crate of the berth tools: models, JSON I/O, paths, the locked store,
//! compose parsing and the one `main` wrapper every tool goes through.

pub mod atomic;
pub mod certs;
pub mod claims;
pub mod cli;
pub mod compose;
pub mod config;
pub mod database;
#[cfg(feature = "docker")]
pub mod docker;
pub mod duration;
pub mod envline;
pub mod framework;
pub mod fsread;
pub mod io;
pub mod model;
pub mod names;
pub mod netstat;
pub mod paths;
pub mod registry;
pub mod runtime;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "secrets")]
pub mod secrets_migrate;
pub mod shared;
pub mod sites;
pub mod stackfile;
pub mod store;
pub mod table;

pub use jiff::Timestamp;
pub use model::{
    Claim, ClaimSource, Conflict, PortBinding, Project, ProjectPorts, Protocol, Status,
};
