//! The JSON models that tools exchange. Field names are a contract: add
//! fields freely, rename or remove none without a migration.

mod backup;
mod check;
mod conflict;
pub mod plan;
mod port;
mod project;

pub use backup::{Backup, Compression};
pub use check::{Checked, check_env_key};
pub use conflict::{Claim, ClaimSource, Conflict};
pub use plan::{Action, Change, FieldChange, Plan};
pub use port::{PortBinding, Protocol, UNSPECIFIED};
pub use project::{Project, ProjectPorts, Status};
