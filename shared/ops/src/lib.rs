//! The suite's operations, one module per binary, over the crates below:
//! `uis_core` (errors, names, formats), `uis_script` (the psql-compatible
//! engine), `uis_postgrest` (manifests, configuration, JWT) and `uis_kube`
//! (cluster access, locating PostgreSQL, tunnel, credential store, rollout).
//!
//! A binary turns its flags into one of the option structs here, calls the
//! one operation named after it and prints the typed report it returns.

pub mod configure;
pub mod creds;
pub mod deploy;
pub mod doctor;
pub mod mint;
pub mod onboard;
pub mod pg;
pub mod postgrest_state;
pub mod psql;
pub mod roles;
pub mod seed;
pub mod session;
pub mod tunnel;

pub use uis_core as core;
pub use uis_kube as kube;
pub use uis_postgrest as postgrest;
pub use uis_script as script;

// The vocabulary the binaries check names and print with.
pub use uis_core::{Failure, app, output};
