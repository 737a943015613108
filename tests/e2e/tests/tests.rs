//! The e2e tests: ONE test binary (`e2e`), one module per area, as ripgrep's
//! `tests/tests.rs`. One binary links once instead of once per area, and
//! `cargo nextest run -p uis-e2e -E 'test(=reliability::names::configure_app_uppercase)'`
//! picks a single test by its module path.
//!
//! Adding an area: put its tests in `tests/e2e/tests/AREA.rs` (top-level
//! `//!` doc, `#[test]` functions, `use uis_e2e::...` for the shared world)
//! and add `mod AREA;` below, in alphabetical order. `autotests = false` in
//! Cargo.toml keeps cargo from building each file as a binary of its own;
//! the test [`every_file_is_a_module`] fails when a file is not listed here.
//!
//! Running in one process (`cargo test`) is safe: [`uis_e2e::Env::new`] hands
//! each test a PostgreSQL of its own for the test's duration (see
//! `uis_harness::pg::Pg::lease`); nextest runs every test in a process of its
//! own anyway.

mod api_roles;
mod cli;
mod clients;
mod completions;
mod configure;
mod contrib_uis;
mod creds;
mod doctor;
mod dumps;
mod generated;
mod install;
mod interactive;
mod jwt;
mod jwt_forms;
mod kubeaccess;
mod managed_admin;
mod onboard;
mod owner_createrole;
mod portable;
mod postgrest;
mod providers;
mod psql;
mod psql_oracle;
mod railway;
mod rbac;
mod reliability;
mod role_spec;
mod rotation;
mod sandbox;
mod seed;
mod sql_files;
mod terminal;
mod tls;
mod try_it;
mod tutorial;
mod tutorial_investigation;
mod uis_names;
mod uis_today;

/// Every `tests/*.rs` file is a module of this binary (a file missing from
/// the list above would silently never run).
#[test]
fn every_file_is_a_module() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = include_str!("tests.rs");
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&dir).expect("read tests/") {
        let path = e.expect("dir entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let module = path.is_dir() || path.extension().is_some_and(|x| x == "rs");
        if module && stem != "tests" && !this.contains(&format!("\nmod {stem};\n")) {
            missing.push(stem.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "tests/e2e/tests/ holds {missing:?}, not declared as `mod NAME;` in tests/e2e/tests/tests.rs: add them"
    );
}
