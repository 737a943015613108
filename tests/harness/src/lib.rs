//! Test support shared by every test crate: a throwaway PostgreSQL server
//! ([`Pg`]), the location of the suite's built binaries ([`bin`]), the
//! fixture database and its dumps ([`fixture`]), and what a test does when
//! a tool it needs is missing ([`missing_tool`]).
//!
//! Not for production code: nothing under `shared/` or `bins/` may depend on
//! this crate.

pub mod fixture;
pub mod pg;
pub mod tls;

pub use pg::{Lease, Pg};

/// UIS's two topologies, picked for a whole test run by `UIS_TOPOLOGY`
/// (`incluster`, the default, or `proxied`): see `scripts/sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// The Bitnami StatefulSet pod; `postgres` is the server's superuser.
    InCluster,
    /// A Deployment pod forwarding with socat to an external server on
    /// which `postgres` is LOGIN CREATEROLE CREATEDB, no superuser; the
    /// server's superuser is [`PROXIED_SUPERUSER`], which the suite is never
    /// told.
    Proxied,
}

/// The proxied server's own superuser (what [`Pg::user`] is there).
pub const PROXIED_SUPERUSER: &str = "provider_root";

/// The topology of this run, from `UIS_TOPOLOGY`. Panics on any other
/// value, so a typo never runs the wrong topology quietly.
pub fn topology() -> Topology {
    match std::env::var("UIS_TOPOLOGY").as_deref() {
        Err(_) | Ok("") | Ok("incluster") | Ok("in-cluster") => Topology::InCluster,
        Ok("proxied") => Topology::Proxied,
        Ok(other) => panic!("UIS_TOPOLOGY must be incluster or proxied, not {other:?}"),
    }
}

use std::path::PathBuf;

/// The directory holding the workspace's built binaries (`target/debug` when
/// run by `cargo test` or nextest), or `UIS_BIN_DIR` when set.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("UIS_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // A test executable lives in target/<profile>/deps/; the binaries one up.
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// The path of one of the suite's binaries, e.g. `bin("uis-db-creds")`.
/// Panics with a clear message when it has not been built.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built; run the tests with `cargo nextest run --workspace` or `cargo test --workspace`",
        path.display()
    );
    path
}

/// Is this a CI run? `CI` set to anything but empty, `0` or `false` (CI
/// services set `CI=true`).
pub fn is_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// Where a test would skip `skipped` because `tool` is not installed: under
/// CI ([`is_ci`]) the test fails, since a skip there would pass silently;
/// elsewhere it says so on stderr and the caller skips.
#[track_caller]
pub fn missing_tool(tool: &str, skipped: &str) {
    assert!(
        !is_ci(),
        "{tool} is not installed and CI is set: {skipped} cannot be skipped here \
         (.ci/run installs what the tests need)"
    );
    eprintln!("note: {tool} is not installed; skipping {skipped}");
}
