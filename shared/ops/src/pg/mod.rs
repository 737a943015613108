//! PostgreSQL: connecting with the sync `postgres` client (here), and the
//! idempotent provisioning of databases, roles and grants ([`provision`]).
//!
//! Connection failures become messages that say which login failed and how
//! to fix it (never the password).

pub mod hint;
pub mod lock;
pub mod provision;

use std::time::Duration;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::error::one_line;

/// Where to connect: the tunnel's local address or a `--direct` address.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// A login: user, password, database.
#[derive(Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
    pub database: String,
}

/// How long a whole connection attempt (TCP, startup, authentication) may
/// take: `PGCONNECT_TIMEOUT` seconds (as for libpq), else 15.
pub fn connect_timeout() -> Duration {
    std::env::var("PGCONNECT_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s.max(2)))
        .unwrap_or(Duration::from_secs(15))
}

/// Connects with `config` as `login` (over `via`, for messages), bounding
/// the whole handshake by [`connect_timeout`]: the client's own timeout
/// covers only the TCP connect, and a tunnel that accepts but never answers
/// would otherwise hang the login (the attempt is then left to die with the
/// process). A failure that never reached PostgreSQL exits 2.
pub fn connect_config(
    config: &postgres::Config,
    login: &Login,
    via: &str,
) -> Result<postgres::Client, Failure> {
    let limit = connect_timeout();
    let attempt = config.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(attempt.connect(postgres::NoTls));
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r.map_err(|e| explain_connect(&e, login, via)),
        Err(_) => Err(Failure::new(
            Phase::Connect,
            format!(
                "PostgreSQL did not complete the login of {:?} {via} within {} s",
                login.user,
                limit.as_secs()
            ),
        )
        .hint("the connection is stalled: check the pod with `uis db doctor APP`; allow longer with PGCONNECT_TIMEOUT=SECONDS")
        .code(2)),
    }
}

/// The client configuration for `login` at `ep`.
pub fn config(ep: &Endpoint, login: &Login, application_name: &str) -> postgres::Config {
    let mut c = postgres::Config::new();
    c.host(&ep.host)
        .port(ep.port)
        .user(&login.user)
        .password(&login.password)
        .dbname(&login.database)
        .application_name(application_name)
        .connect_timeout(connect_timeout())
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30));
    c
}

/// A one-line explanation of a failed connection.
fn explain_connect(e: &postgres::Error, login: &Login, via: &str) -> Failure {
    if let Some(db) = e.as_db_error() {
        let (detail, hint) = match db.code().code() {
            "28P01" => (
                format!("password authentication failed for role {:?}", login.user),
                "the stored password no longer matches the role: rotate it with `uis db configure APP --rotate`".to_string(),
            ),
            "3D000" => (
                format!("database {:?} does not exist", login.database),
                "create it with `uis db configure APP --database NAME`".to_string(),
            ),
            "28000" => (
                format!("role {:?} may not log in: {}", login.user, db.message()),
                "check the role exists with LOGIN and that pg_hba allows it".to_string(),
            ),
            "42501" => (
                format!("role {:?} may not connect to database {:?}: {}", login.user, login.database, db.message()),
                "connect as the app's own roles, or grant CONNECT as the superuser".to_string(),
            ),
            _ => (
                format!("{} (SQLSTATE {})", db.message(), db.code().code()),
                String::new(),
            ),
        };
        let f = Failure::new(Phase::Connect, detail);
        return if hint.is_empty() { f } else { f.hint(hint) };
    }
    Failure::new(
        Phase::Connect,
        format!(
            "cannot connect to PostgreSQL {via} as {:?}: {}",
            login.user,
            one_line(e)
        ),
    )
    .hint("check that the database pod is running, or that --direct names an exposed address (`./uis expose postgresql`)")
    .code(2)
}
