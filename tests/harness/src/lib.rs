//! Test support shared by every test crate: a throwaway PostgreSQL server
//! ([`Pg`]) and the location of the suite's built binaries ([`bin`]).
//!
//! Not for production code: nothing under `shared/` or `bins/` may depend on
//! this crate.

pub mod pg;

pub use pg::{Lease, Pg};

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
