//! Batching: consecutive no-row statements inside a transaction go to the
//! server as one simple-query message under a savepoint (see
//! [`Runner::batching`]); a failed batch is replayed statement by statement
//! to find and report the failing one exactly as psql would.

use super::*;

impl Runner {
    /// Whether `st` may wait in a batch now (see [`Runner::batching`]).
    pub(super) fn batchable(&self, st: &Statement) -> bool {
        let b = &self.batch;
        if !b.enabled
            || b.left_transaction
            || !(self.options.single_transaction || b.caller_transaction)
            || !self.options.on_error_stop
            || self.options.echo
            || self.options.verbose
            || st.joined
            || st.copy.is_some()
        {
            return false;
        }
        let mut words = st
            .first_line()
            .split(|c: char| !c.is_ascii_alphabetic() && c != '_')
            .filter(|w| !w.is_empty());
        let first = words.next().unwrap_or("");
        let second = words.next().unwrap_or("");
        let is = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
        let ok = match () {
            _ if is(first, "insert")
                || is(first, "update")
                || is(first, "delete")
                || is(first, "merge") =>
            {
                !contains_ci(&st.text, "returning")
            }
            _ if is(first, "create") || is(first, "alter") || is(first, "drop") => {
                // These cannot run in a transaction block (or differ in one).
                !["database", "tablespace", "subscription", "system"]
                    .iter()
                    .any(|k| is(second, k))
            }
            _ if is(first, "set") => !is(second, "transaction") && !is(second, "session"),
            _ => [
                "comment", "grant", "revoke", "do", "truncate", "security", "refresh",
            ]
            .iter()
            .any(|k| is(first, k)),
        };
        // CONCURRENTLY cannot run in a transaction block. (A statement that
        // changes standard_conforming_strings may wait here too: the lexer
        // asks for the setting before the next place where it matters, and
        // the batch is sent first; see `Lexer::scs_verified`.)
        ok && !contains_ci(&st.text, "concurrently")
            // The statements after it are converted from the new encoding.
            && !self.may_change_client_encoding(st)
            && st.undecodable.is_none()
    }

    /// Send the waiting statements. `more`: another batchable statement
    /// follows, so keep the savepoint open for it.
    pub(super) fn flush_batch(
        &mut self,
        more: bool,
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        if self.batch.statements.is_empty() {
            return Ok(());
        }
        let statements = std::mem::take(&mut self.batch.statements);
        let mut text = std::mem::take(&mut self.batch.text);
        let result = self.send_batch(&statements, &mut text, more, lex, frame, out, info);
        // Keep the buffers' capacity for the next batch.
        let mut statements = statements;
        statements.clear();
        text.clear();
        self.batch.statements = statements;
        self.batch.text = text;
        result
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_batch(
        &mut self,
        statements: &[Statement],
        text: &mut String,
        more: bool,
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        let first = &statements[0];
        if statements.len() == 1 && !self.batch.savepoint {
            // Nothing to gain from a savepoint round trip.
            let r = self.exec_counted(first, lex, frame, out, info);
            self.drain_notices(info);
            return r;
        }
        if !self.batch.savepoint {
            // Its own message: a syntax error anywhere in the batch stops
            // the whole message before anything in it runs.
            if self
                .client
                .batch_execute(&format!("SAVEPOINT {SAVEPOINT}"))
                .is_err()
            {
                // Not in a transaction block after all (or it failed
                // already): run the statements as they come.
                self.batch.left_transaction = true;
                return self.replay(statements, lex, frame, out, info);
            }
            self.batch.savepoint = true;
        }
        text.push_str(&format!("RELEASE SAVEPOINT {SAVEPOINT};"));
        if more {
            text.push_str(&format!("SAVEPOINT {SAVEPOINT};"));
        }
        match self.client.batch_execute(text) {
            Ok(()) => {
                self.batch.savepoint = more;
                self.drain_notices(info);
                Ok(())
            }
            Err(e) => {
                let lost = e.is_closed()
                    || e.as_db_error()
                        .is_some_and(|d| matches!(d.severity(), "FATAL" | "PANIC"))
                    || (e.as_db_error().is_none()
                        && std::error::Error::source(&e).is_some_and(|s| s.is::<io::Error>()));
                if lost {
                    self.drain_notices(info);
                    return Err(pg_error(e, frame.name, Some(first), first.start));
                }
                // The failed attempt's notices come again from the replay.
                if let Some(rx) = &self.notices {
                    while rx.try_recv().is_ok() {}
                }
                if self
                    .client
                    .batch_execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                    .is_err()
                {
                    return Err(pg_error(e, frame.name, Some(first), first.start));
                }
                self.replay(statements, lex, frame, out, info)?;
                // Every statement passed this time (something outside the
                // script changed): close the savepoint and go on.
                self.batch.savepoint = false;
                self.client
                    .batch_execute(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                    .map_err(|e| pg_error(e, frame.name, None, first.start))
            }
        }
    }

    /// Run a batch's statements one by one, as without batching.
    pub(super) fn replay(
        &mut self,
        statements: &[Statement],
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        for st in statements {
            let r = self.exec_counted(st, lex, frame, out, info);
            self.drain_notices(info);
            r?;
        }
        Ok(())
    }
}

/// Whether `st` may end (or start) a transaction block by itself.
pub(super) fn ends_transaction(st: &Statement) -> bool {
    let first = st
        .first_line()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    [
        "begin", "start", "commit", "end", "rollback", "abort", "prepare",
    ]
    .iter()
    .any(|k| first.eq_ignore_ascii_case(k))
        || st.joined
}
