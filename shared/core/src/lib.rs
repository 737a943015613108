//! The suite's vocabulary, shared by every other crate: the one error type
//! people see ([`Failure`], its phases and exit codes), app names and the
//! SQL names derived from them with their quoting, generated secrets, the
//! credential formats, `.env` editing, and the printing conventions
//! (results on stdout, people's messages on stderr).
//!
//! Knows no Kubernetes and no clap; PostgreSQL only as the type of its
//! errors, so a failed query becomes a [`Failure`] wherever it happens.

pub mod app;
pub mod creds;
pub mod dotenv;
pub mod error;
pub mod output;
pub mod secret;
pub mod tls;

pub use error::Failure;
