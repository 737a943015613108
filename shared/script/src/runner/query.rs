//! Sending one query and handling its results: printed (to the output, an
//! `\o` file or a `\g FILE`), stored in variables (`\gset`) or run as SQL
//! (`\gexec`), as psql's `SendQuery` does.

use super::*;

/// What to do with a query's rows.
pub(super) enum Sink {
    /// Print them; `Some` overrides the settings (`\gx`, `\g FILE`).
    Print(Option<PrintTo>),
    /// `\gset [PREFIX]`: the one row's columns into variables.
    Gset(String),
    /// `\gexec`: each non-NULL value, row by row, left to right, as SQL.
    Gexec,
}

pub(super) struct PrintTo {
    pub expanded: bool,
    pub file: Option<PathBuf>,
}

/// Variables psql treats specially: `\gset` does not set them.
const SPECIAL: &[&str] = &[
    "AUTOCOMMIT",
    "COMP_KEYWORD_CASE",
    "ECHO",
    "ECHO_HIDDEN",
    "FETCH_COUNT",
    "HIDE_TABLEAM",
    "HIDE_TOAST_COMPRESSION",
    "HISTCONTROL",
    "HISTSIZE",
    "IGNOREEOF",
    "ON_ERROR_ROLLBACK",
    "ON_ERROR_STOP",
    "PROMPT1",
    "PROMPT2",
    "PROMPT3",
    "QUIET",
    "SHOW_ALL_RESULTS",
    "SHOW_CONTEXT",
    "SINGLELINE",
    "SINGLESTEP",
    "VERBOSITY",
];

impl Runner {
    pub(super) fn query(
        &mut self,
        st: &Statement,
        sink: Sink,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        let printing = matches!(sink, Sink::Print(_));
        let types = if printing && self.options.format != Format::Csv && wants_types(st) {
            // Only a described statement has column types; the simple
            // query protocol's row description has names only.
            match self.client.prepare(&st.text) {
                Ok(p) => Some(
                    p.columns()
                        .iter()
                        .map(|c| c.type_().clone())
                        .collect::<Vec<_>>(),
                ),
                Err(e) => return Err(pg_error(e, frame.name, Some(st), st.start)),
            }
        } else {
            None
        };
        let started = std::time::Instant::now();
        let msgs = self
            .client
            .simple_query(&st.text)
            .map_err(|e| pg_error(e, frame.name, Some(st), st.start))?;
        let elapsed = started.elapsed();
        // Notices arrived while the statement ran: before its tag, as psql.
        self.drain_notices(info);
        let write_err = |e: io::Error| {
            ScriptError::new(
                ErrorKind::Fatal,
                frame.name,
                st.start.line,
                st.start.column,
                format!("writing output: {e}"),
            )
        };
        let fail = |msg: String| {
            let mut e = ScriptError::new(
                ErrorKind::Script,
                frame.name,
                st.start.line,
                st.start.column,
                msg,
            );
            e.statement = Some(st.first_line().to_owned());
            e
        };
        let mut file = match &sink {
            Sink::Print(Some(PrintTo {
                file: Some(path), ..
            })) => Some(io::BufWriter::new(
                std::fs::File::create(path)
                    .map_err(|e| fail(format!("{}: {e}", path.display())))?,
            )),
            _ => None,
        };
        let mut rs: Option<ResultSet> = None;
        let mut last: Option<ResultSet> = None;
        for m in msgs {
            match m {
                SimpleQueryMessage::RowDescription(cols) => {
                    rs = Some(ResultSet {
                        columns: cols.iter().map(|c| c.name().to_owned()).collect(),
                        types: types.clone().filter(|t| t.len() == cols.len()),
                        rows: Vec::new(),
                    });
                }
                SimpleQueryMessage::Row(row) => {
                    if let Some(rs) = rs.as_mut() {
                        rs.rows.push(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_owned))
                                .collect(),
                        );
                    }
                }
                SimpleQueryMessage::CommandComplete(n) => {
                    if let Some(rs) = rs.take() {
                        match &sink {
                            Sink::Print(to) => {
                                let mut print = self.print.clone();
                                if to.as_ref().is_some_and(|t| t.expanded) {
                                    print.expanded = true;
                                }
                                let enc = self.encoding;
                                let format = self.options.format;
                                let target: &mut dyn Write = match (&mut file, &mut self.qout) {
                                    (Some(f), _) => f,
                                    (None, Some((_, f))) => f,
                                    (None, None) => &mut *out,
                                };
                                if enc.is_utf8() {
                                    output::write(format, &print, target, &rs)
                                } else {
                                    // psql prints what the server sends in the
                                    // client encoding.
                                    let mut buf = Vec::new();
                                    output::write(format, &print, &mut buf, &rs).and_then(|()| {
                                        target
                                            .write_all(&enc.encode(&String::from_utf8_lossy(&buf)))
                                    })
                                }
                                .map_err(write_err)?;
                            }
                            _ => last = Some(rs),
                        }
                    }
                    self.tag(st, n, info);
                }
                _ => {}
            }
        }
        if let Some(mut f) = file {
            f.flush().map_err(write_err)?;
        }
        if self.timing {
            let _ = writeln!(out, "Time: {:.3} ms", elapsed.as_secs_f64() * 1000.0);
        }
        match sink {
            Sink::Print(_) => Ok(()),
            Sink::Gset(prefix) => {
                let Some(rs) = last else {
                    // A command without rows: psql sets nothing either.
                    return Ok(());
                };
                match rs.rows.len() {
                    0 => return Err(fail("no rows returned for \\gset".into())),
                    1 => {}
                    _ => return Err(fail("more than one row returned for \\gset".into())),
                }
                for (name, v) in rs.columns.iter().zip(&rs.rows[0]) {
                    let var = format!("{prefix}{name}");
                    if SPECIAL.contains(&var.as_str()) {
                        let _ = writeln!(
                            info,
                            "{}:{}:{}: attempt to \\gset into specially treated variable \"{var}\" ignored",
                            frame.name, st.start.line, st.start.column
                        );
                        continue;
                    }
                    if !valid_name(&var) {
                        return Err(fail(format!("invalid variable name: \"{var}\"")));
                    }
                    match v {
                        Some(v) => self.vars.set(var, v.clone()),
                        None => self.vars.unset(&var),
                    }
                }
                Ok(())
            }
            Sink::Gexec => {
                let Some(rs) = last else {
                    return Ok(());
                };
                for row in rs.rows {
                    for sql in row.into_iter().flatten() {
                        let cell = Statement::synthetic(sql, st.start);
                        if self.options.echo {
                            let _ = writeln!(info, "{}", cell.text);
                        }
                        self.summary.statements += 1;
                        self.scs_known = false;
                        let r = self.query(&cell, Sink::Print(None), frame, out, info);
                        self.drain_notices(info);
                        if let Err(e) = r {
                            self.fail(e, info)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
