//! PostgreSQL: connecting with the sync `postgres` client (here), and the
//! idempotent provisioning of databases, roles and grants ([`provision`]).
//!
//! Connection failures become messages that say which login failed and how
//! to fix it (never the password).

pub mod hint;
pub mod lock;
pub mod provision;
pub mod tls;

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
/// process). TLS as `tls` says (libpq's sslmode rules, [`tls::Tls::connect`]).
/// A failure that never reached PostgreSQL (a refused certificate
/// included) exits 2.
pub fn connect_config(
    config: &postgres::Config,
    tls: &tls::Tls,
    login: &Login,
    via: &str,
) -> Result<(postgres::Client, tls::TlsState), Failure> {
    let limit = connect_timeout();
    let attempt = config.clone();
    let tls = tls.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(tls.connect(&attempt).map_err(|e| (e, tls)));
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r.map_err(|(e, tls)| explain_connect(&e, &tls, login, via)),
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
fn explain_connect(e: &postgres::Error, tls: &tls::Tls, login: &Login, via: &str) -> Failure {
    if let Some(db) = e.as_db_error() {
        // pg_hba refused the connection for its encryption (`hostssl` or
        // `hostnossl` lines): say which sslmode to use.
        if db.code().code() == "28000" && db.message().contains("encryption") {
            let wanted = if db.message().contains("no encryption") {
                "the server accepts this login only over TLS: use --sslmode prefer (the default) or require (PGSSLMODE)"
            } else {
                "the server accepts this login only without TLS: use --sslmode prefer (the default), allow or disable (PGSSLMODE)"
            };
            return Failure::new(
                Phase::Connect,
                format!(
                    "PostgreSQL refused {:?} with sslmode {}: {}",
                    login.user,
                    tls.mode(),
                    db.message()
                ),
            )
            .hint(wanted);
        }
        if db.code().code() == "28000" && db.message().contains("certificate") {
            return Failure::new(
                Phase::Connect,
                format!("PostgreSQL refused {:?}: {}", login.user, db.message()),
            )
            .hint("pg_hba asks for a client certificate (method cert): give it with --sslcert FILE --sslkey FILE (PGSSLCERT, PGSSLKEY), its CN the role's name");
        }
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
    let text = one_line(e);
    let hint = if text.contains("server does not support TLS") {
        format!(
            "the server does not speak TLS (ssl=off) but sslmode is {}: turn TLS on in the server, or use --sslmode prefer (PGSSLMODE)",
            tls.mode()
        )
    } else if text.contains("certificate") || text.contains("TLS") {
        format!(
            "the server's certificate was refused (sslmode {}, checked against the name {:?}): give the CA that signed it with --sslrootcert FILE or --sslrootcert-secret NAME[/KEY], the name it carries with --tls-server-name, or use --sslmode require to encrypt without checking",
            tls.mode(),
            tls.server_name()
        )
    } else {
        "check that the database pod is running, or that --direct names an exposed address (`./uis expose postgresql`)".to_string()
    };
    Failure::new(
        Phase::Connect,
        format!(
            "cannot connect to PostgreSQL {via} as {:?}: {text}",
            login.user
        ),
    )
    .hint(hint)
    .code(2)
}
