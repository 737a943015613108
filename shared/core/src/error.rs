//! The one error type people see: what failed (`phase`), why (`detail`), and
//! the next command to run (`hint`), with the exit code it maps to.
//!
//! Internal code uses `anyhow`; anything a user should read is turned into a
//! [`Failure`] at the point where the cause is known. Never put a secret in
//! any of these fields.

use std::fmt;

/// Exit codes, in one place. Every binary: 0 ok, 1 failure, 2 usage
/// (clap's own code for bad flags). `uis-db-psql` and `uis-db-seed` follow
/// psql instead (psql(1), "Exit Status"): 1 fatal, 2 connection lost, 3
/// script error.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A failure.
    pub const FAILURE: i32 = 1;
    /// Bad flags or input (clap's code); in the psql family, a lost
    /// connection.
    pub const USAGE: i32 = 2;
    /// The psql family's connection lost (psql exits 2).
    pub const CONNECTION_LOST: i32 = 2;
    /// The psql family's script error (psql exits 3 under ON_ERROR_STOP).
    pub const SCRIPT: i32 = 3;
}

/// The stage a failure happened in: the `phase` of UIS's JSON error object.
/// The strings are a contract (other tools parse them): see [`Phase::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Bad flags or arguments (exit 2).
    Usage,
    /// Unusable input: stdin, files, piped JSON.
    Input,
    /// A check before any change refused the request.
    Validate,
    /// The Kubernetes API: kubeconfig, connection, an API call.
    Cluster,
    /// Finding the PostgreSQL pod or its superuser.
    Locate,
    /// Logging in to PostgreSQL.
    Connect,
    /// The port-forward.
    Tunnel,
    /// The credential store Secrets.
    Store,
    /// A SQL statement the suite sent.
    Sql,
    /// A PostgreSQL role the request names.
    Role,
    /// Another run holds the lock.
    Lock,
    /// A seed file changed after it was applied.
    Drift,
    /// psql run in the pod over exec.
    Exec,
    /// The script engine.
    Psql,
    /// JWT minting.
    Jwt,
    /// JWT verification.
    Verify,
    /// Reading the capabilities for a staff token.
    Capabilities,
    /// The app's PostgREST objects.
    Postgrest,
    /// Waiting for a Deployment's rollout.
    Rollout,
    /// Writing a local file.
    Write,
    /// A bug or an unexpected error.
    Internal,
}

impl Phase {
    /// The JSON `phase` string (unchanged since the first release).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Usage => "usage",
            Phase::Input => "input",
            Phase::Validate => "validate",
            Phase::Cluster => "cluster",
            Phase::Locate => "locate",
            Phase::Connect => "connect",
            Phase::Tunnel => "tunnel",
            Phase::Store => "store",
            Phase::Sql => "sql",
            Phase::Role => "role",
            Phase::Lock => "lock",
            Phase::Drift => "drift",
            Phase::Exec => "exec",
            Phase::Psql => "psql",
            Phase::Jwt => "jwt",
            Phase::Verify => "verify",
            Phase::Capabilities => "capabilities",
            Phase::Postgrest => "postgrest",
            Phase::Rollout => "rollout",
            Phase::Write => "write",
            Phase::Internal => "internal",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure worth a one-line message and a hint.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The stage it happened in.
    pub phase: Phase,
    /// What went wrong, in one line.
    pub detail: String,
    /// What to do about it (a command, ideally).
    pub hint: Option<String>,
    /// Process exit code (see [`exit`]).
    pub code: i32,
}

impl Failure {
    pub fn new(phase: Phase, detail: impl Into<String>) -> Self {
        Failure {
            phase,
            detail: detail.into(),
            hint: None,
            code: exit::FAILURE,
        }
    }

    /// A usage error (exit 2), as clap reports bad flags.
    pub fn usage(detail: impl Into<String>) -> Self {
        Failure {
            code: exit::USAGE,
            ..Failure::new(Phase::Usage, detail)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    /// The same failure, its detail prefixed with what was being done
    /// (`what: detail`); phase, hint and exit code are kept.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.detail = format!("{what}: {}", self.detail);
        self
    }

    /// The failure an error stands for: a [`Failure`] as it is, a
    /// PostgreSQL error through `From<postgres::Error>`, anything else as
    /// an `internal` failure (exit 1) with its whole chain.
    pub fn from_anyhow(err: anyhow::Error) -> Failure {
        match err.downcast::<Failure>() {
            Ok(f) => f,
            Err(err) => match err.downcast::<postgres::Error>() {
                Ok(pg) => Failure::from(pg),
                Err(err) => Failure::new(Phase::Internal, format!("{err:#}")),
            },
        }
    }

    /// UIS's error object: `{"status":"error","phase","detail","hint"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": "error",
            "phase": self.phase.as_str(),
            "detail": self.detail,
            "hint": self.hint,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.detail)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl From<postgres::Error> for Failure {
    /// A database error seen outside the script engine (catalog reads and
    /// provisioning): its message and SQLSTATE; a lost connection exits 2.
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => {
                let mut f = Failure::new(
                    Phase::Sql,
                    format!("{} (SQLSTATE {})", db.message(), db.code().code()),
                );
                if let Some(h) = db.hint() {
                    f = f.hint(h.to_string());
                }
                f
            }
            None => {
                let lost = e.is_closed()
                    || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
                Failure::new(
                    Phase::Connect,
                    format!(
                        "the connection to PostgreSQL was lost: {}",
                        one_line(&e)
                    ),
                )
                .hint("every step is safe to repeat: run the same command again once the server is reachable (`uis db doctor APP` checks the way there)")
                .code(if lost { 2 } else { 1 })
            }
        }
    }
}

/// An error and its sources on one line (`a: b: c`), without duplicates.
pub fn one_line(e: &dyn std::error::Error) -> String {
    // Some errors (YAML parsers) draw the input under the message on the
    // following lines: only the first line of each is kept.
    let first = |s: String| s.lines().next().unwrap_or_default().trim().to_string();
    let mut parts: Vec<String> = vec![first(e.to_string())];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = first(s.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}
