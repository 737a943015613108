//! Turning lexer and server errors into located [`ScriptError`]s with
//! psql's fields (SQLSTATE, message, DETAIL, HINT) and the fix.

use super::*;

pub(super) fn lex_error(e: LexError, frame: &Frame) -> ScriptError {
    let pos = e.pos().unwrap_or_default();
    let kind = if matches!(e, LexError::Io(_)) {
        ErrorKind::Fatal
    } else {
        ErrorKind::Script
    };
    let hint = match &e {
        LexError::Io(_) => "check that the input can be read".to_string(),
        LexError::Unterminated { what, .. } => format!(
            "the input ends inside this {what}: close it (a missing quote, `*/` or `$$` above is the usual cause)"
        ),
        LexError::Invalid { hint, .. } => hint.to_string(),
        LexError::SettingNeeded { .. } => "this is a bug in the runner: please report it".into(),
    };
    let mut err = ScriptError::new(kind, frame.name, pos.line, pos.column, e.to_string());
    err.hint = Some(hint);
    err
}

/// The meta-commands the runner knows, for error hints.
pub(super) const SUPPORTED_META: &str = "\\if \\elif \\else \\endif \\set \\unset \\echo \\qecho \\warn \\i \\ir \\c \\g \\gx \\gset \\gexec \\x \\t \\a \\pset \\o \\timing \\getenv \\setenv \\encoding \\restrict \\unrestrict \\copy \\q";

/// What to do when the connection went in the middle of a script.
pub(super) const LOST_HINT: &str = "work committed before this statement is kept, the open transaction was rolled back; run the same command again once the server is reachable";

pub(super) fn pg_error(
    e: postgres::Error,
    file: &str,
    st: Option<&Statement>,
    at: Pos,
) -> ScriptError {
    let statement = st.map(|s| s.first_line().to_owned());
    if let Some(db) = e.as_db_error() {
        let (line, column) = match (db.position(), st) {
            (Some(ErrorPosition::Original(p)), Some(st)) => st.locate(*p),
            _ => (at.line, at.column),
        };
        let lost = matches!(db.severity(), "FATAL" | "PANIC");
        let mut err = ScriptError::new(
            if lost {
                ErrorKind::ConnectionLost
            } else {
                ErrorKind::Script
            },
            file,
            line,
            column,
            db.message(),
        );
        err.sqlstate = Some(db.code().code().to_owned());
        err.detail = db.detail().map(str::to_owned);
        err.hint = db.hint().map(str::to_owned);
        if let Some(ErrorPosition::Internal { query, .. }) = db.position() {
            err.query = Some(query.clone());
        }
        err.context = db.where_().map(str::to_owned);
        if lost && err.hint.is_none() {
            err.hint = Some(LOST_HINT.into());
        }
        err.statement = statement;
        return err;
    }
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<io::Error>());
    let kind = if e.is_closed() || io {
        ErrorKind::ConnectionLost
    } else {
        ErrorKind::Script
    };
    let message = if kind == ErrorKind::ConnectionLost {
        let mut m = format!("connection to the server was lost ({e}");
        if let Some(src) = std::error::Error::source(&e) {
            m.push_str(&format!(": {src}"));
        }
        m.push(')');
        m
    } else {
        e.to_string()
    };
    let mut err = ScriptError::new(kind, file, at.line, at.column, message);
    if kind == ErrorKind::ConnectionLost {
        err.hint = Some(LOST_HINT.into());
    }
    err.statement = statement;
    err
}
