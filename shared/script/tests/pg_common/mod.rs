//! PostgreSQL helpers shared by the script engine's integration tests.

use std::path::PathBuf;
use std::process::Command;
use uis_harness::{Pg, fixture};

/// The fixture database's dump in `style` (`uis_harness::fixture`), made
/// now by the machine's pg_dump from a fresh copy of the fixture, written to
/// `dir/NAME.sql`.
pub fn fixture_dump(pg: &Pg, style: fixture::Style, dir: &std::path::Path) -> PathBuf {
    let db = fixture::create(pg, &format!("fx_{}", style.name()));
    let path = dir.join(format!("{}.sql", style.name()));
    std::fs::write(&path, fixture::dump(pg, &db, style)).unwrap();
    path
}

/// The hand-written file that drops, creates and `\c`s its own database
/// `uis_music` (the Chinook shape).
pub fn drop_create_connect() -> PathBuf {
    fixture::fixtures_dir().join("dumps/drop-create-connect.sql")
}

/// A superuser client configuration for `db`.
pub fn config(pg: &Pg, db: &str) -> postgres::Config {
    let mut c = postgres::Config::new();
    c.host(&pg.host)
        .port(pg.port)
        .user(&pg.user)
        .password(&pg.password)
        .dbname(db);
    c
}

/// A PostgreSQL client tool (`pg_dump`, `psql`) aimed at the server: the
/// server's bin dir when it has one, else the machine's (the npm server
/// packages have no client programs).
#[allow(dead_code)] // script_batching compares dumps only
pub fn tool(pg: &Pg, name: &str) -> Command {
    let mut c = Command::new(uis_harness::pg::client_tool(name));
    c.envs(pg.libpq_env()).env("PGCONNECT_TIMEOUT", "10");
    c
}

/// `pg_dump --no-owner` of `db` without the `\\restrict` lines, or the same
/// read from the catalogs when pg_dump cannot dump this server's version.
pub fn dump(pg: &Pg, db: &str) -> String {
    pg.dump(db)
}
