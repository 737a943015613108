//! Session-level advisory locks that serialize the suite's runs on one app
//! across machines: configure (`uis-configure:APP`), PostgREST deploy
//! (`uis-postgrest:APP`) and seed (`uis-seed:APP`). The key text is hashed
//! with `hashtext` on the server, as before, so runs of older and newer
//! versions of the suite still exclude each other. The lock lasts until
//! the session ends (PostgreSQL docs, "Advisory Locks").

use postgres::Client;

/// Which run a lock serializes: the text hashed into the lock key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockKey {
    /// `uis-configure:APP`.
    Configure(String),
    /// `uis-postgrest:APP`.
    Postgrest(String),
    /// `uis-seed:APP`.
    Seed(String),
}

impl LockKey {
    /// The text the server hashes.
    pub fn text(&self) -> String {
        match self {
            LockKey::Configure(app) => format!("uis-configure:{app}"),
            LockKey::Postgrest(app) => format!("uis-postgrest:{app}"),
            LockKey::Seed(app) => format!("uis-seed:{app}"),
        }
    }
}

/// Waits for the lock (`pg_advisory_lock`).
///
/// Errors: the server's error (a lost connection, a cancelled wait).
pub fn lock(client: &mut Client, key: &LockKey) -> Result<(), postgres::Error> {
    client.execute("select pg_advisory_lock(hashtext($1))", &[&key.text()])?;
    Ok(())
}

/// Takes the lock when it is free (`pg_try_advisory_lock`); false when
/// another session holds it.
///
/// Errors: the server's error.
pub fn try_lock(client: &mut Client, key: &LockKey) -> Result<bool, postgres::Error> {
    Ok(client
        .query_one("select pg_try_advisory_lock(hashtext($1))", &[&key.text()])?
        .get(0))
}
