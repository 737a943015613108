//! The one error type people see: what failed (`phase`), why (`detail`), and
//! the next command to run (`hint`), with the exit code it maps to.
//!
//! Internal code uses `anyhow`; anything a user should read is turned into a
//! [`Failure`] at the point where the cause is known. Never put a secret in
//! any of these fields.

use std::fmt;

/// A failure worth a one-line message and a hint.
#[derive(Debug, Clone)]
pub struct Failure {
    /// A short machine-readable stage name (`cluster`, `locate`, `connect`, `sql` ...).
    pub phase: String,
    /// What went wrong, in one line.
    pub detail: String,
    /// What to do about it (a command, ideally).
    pub hint: Option<String>,
    /// Process exit code: 1 failure, 2 usage, 3 script error.
    pub code: i32,
}

impl Failure {
    pub fn new(phase: impl Into<String>, detail: impl Into<String>) -> Self {
        Failure {
            phase: phase.into(),
            detail: detail.into(),
            hint: None,
            code: 1,
        }
    }

    /// A usage error (exit 2), as clap reports bad flags.
    pub fn usage(detail: impl Into<String>) -> Self {
        Failure {
            code: 2,
            ..Failure::new("usage", detail)
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
                Err(err) => Failure::new("internal", format!("{err:#}")),
            },
        }
    }

    /// UIS's error object: `{"status":"error","phase","detail","hint"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": "error",
            "phase": self.phase,
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
                    "sql",
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
                    "connect",
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
