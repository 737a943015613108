//! The uis suite's library. Each module is one noun of the domain; the
//! binaries under `bins/` parse flags, call into here, and print.
//!
//! Dependencies point one way: `script` and `seed` know only a PostgreSQL
//! connection (never the cluster); `jwt` is pure; `output` knows no domain
//! type; `tunnel` is the only bridge between the cluster and PostgreSQL.

pub mod app;
pub mod cli;
pub mod cluster;
pub mod creds;
pub mod dotenv;
pub mod error;
pub mod jwt;
pub mod locate;
pub mod output;
pub mod pg;
pub mod postgrest;
pub mod rollout;
pub mod script;
pub mod secret;
pub mod seed;
pub mod session;
pub mod store;
pub mod tunnel;

pub use error::Failure;
