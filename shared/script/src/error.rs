//! The script engine's error: where in which file, what the server said
//! (SQLSTATE, message, detail, hint), and which psql exit code it maps to.
//!
//! Not for formatting advice or next steps: callers (the CLIs) add those.

use std::fmt;

/// The psql exit-code class of an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Exit 1: the script cannot be run as written (file not found,
    /// unsupported or refused meta-command, bad `\if`).
    Fatal,
    /// Exit 2: the connection closed or broke.
    ConnectionLost,
    /// Exit 3: a statement or meta-command failed with ON_ERROR_STOP on
    /// (also unterminated quotes/comments/COPY data at end of input).
    Script,
}

/// An error located in a script source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub kind: ErrorKind,
    /// The source: a file path as given or resolved for `\i`/`\ir`,
    /// `<stdin>`, or `<command N>`.
    pub file: String,
    /// 1-based; 0 when the error is about the source as a whole.
    pub line: u64,
    pub column: u64,
    /// Set when the server reported the error.
    pub sqlstate: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The server's QUERY field: the statement inside a function that
    /// failed (psql prints it at default verbosity).
    pub query: Option<String>,
    /// The server's CONTEXT field: where the error happened, e.g.
    /// `COPY t, line 217, column c: "n/a"` or a PL/pgSQL call stack.
    pub context: Option<String>,
    /// The first line of the statement (or meta-command) that failed.
    pub statement: Option<String>,
}

impl ScriptError {
    pub(crate) fn new(
        kind: ErrorKind,
        file: &str,
        line: u64,
        column: u64,
        message: impl Into<String>,
    ) -> Self {
        ScriptError {
            kind,
            file: file.to_owned(),
            line,
            column,
            sqlstate: None,
            message: message.into(),
            detail: None,
            hint: None,
            query: None,
            context: None,
            statement: None,
        }
    }

    /// psql's exit code for this error: 1 fatal, 2 connection lost, 3 script.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Fatal => 1,
            ErrorKind::ConnectionLost => 2,
            ErrorKind::Script => 3,
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not located in the source (e.g. a file named on the command
            // line that cannot be opened).
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        match &self.sqlstate {
            Some(code) => write!(f, "ERROR:  {} (SQLSTATE {code})", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL:  {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nHINT:  {h}")?;
        }
        // psql's order at default verbosity: DETAIL, HINT, QUERY, CONTEXT.
        if let Some(q) = &self.query {
            write!(f, "\nQUERY:  {q}")?;
        }
        if let Some(c) = &self.context {
            write!(f, "\nCONTEXT:  {c}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}
