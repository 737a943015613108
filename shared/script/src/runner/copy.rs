//! COPY: inline `COPY ... FROM stdin` data from the script, `\copy` from
//! and to files and the process's stdin/stdout, and `COPY ... TO STDOUT`.

use super::*;

impl Runner {
    /// COPY FROM STDIN with the data from the script itself.
    pub(super) fn copy_in_from_script(
        &mut self,
        query: &str,
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        at: Pos,
        st: Option<&Statement>,
    ) -> Result<u64, ScriptError> {
        let e = match self.client.copy_in(query) {
            Ok(w) => return feed_copy(w, lex, &self.vars, frame, at, st),
            Err(e) => e,
        };
        // Unlike psql 15, never read the data lines as SQL.
        let drained = drain_copy(lex, &self.vars);
        let err = pg_error(e, frame.name, st, at);
        self.after_failed_copy_start(&err)?;
        if let Err(le) = drained {
            return Err(lex_error(le, frame));
        }
        Err(err)
    }
}

/// Stream the script's COPY data into an open COPY.
pub(super) fn feed_copy(
    mut w: postgres::CopyInWriter<'_>,
    lex: &mut Lexer<&mut dyn BufRead>,
    vars: &Variables,
    frame: &Frame,
    at: Pos,
    st: Option<&Statement>,
) -> Result<u64, ScriptError> {
    let mut write_err: Option<io::Error> = None;
    loop {
        match lex.next_item(vars) {
            Ok(Some(Item::CopyData(chunk))) => {
                // Whole lines of a single-byte encoding: decoded alone.
                let chunk = if lex.encoding.is_utf8() {
                    chunk
                } else {
                    match lex.encoding.decode(&chunk) {
                        Some(text) => text.into_bytes(),
                        None => {
                            drop(w);
                            let _ = drain_copy(lex, vars);
                            let mut e = ScriptError::new(
                                ErrorKind::Script,
                                frame.name,
                                at.line,
                                at.column,
                                format!(
                                    "COPY data has a byte with no character in encoding {}",
                                    lex.encoding.name
                                ),
                            );
                            e.sqlstate = Some("22P05".into());
                            return Err(e);
                        }
                    }
                };
                if write_err.is_none()
                    && let Err(e) = w.write_all(&chunk)
                {
                    write_err = Some(e);
                }
            }
            Ok(Some(_)) | Ok(None) => break,
            Err(e) => {
                // Dropping the writer without finish() aborts the COPY:
                // nothing of a cut-short data block is kept.
                drop(w);
                return Err(lex_error(e, frame));
            }
        }
    }
    match w.finish() {
        Ok(n) => match write_err {
            None => Ok(n),
            Some(e) => Err(ScriptError::new(
                ErrorKind::ConnectionLost,
                frame.name,
                at.line,
                at.column,
                e.to_string(),
            )),
        },
        Err(e) => Err(pg_error(e, frame.name, st, at)),
    }
}

impl Runner {
    pub(super) fn copy_in_from_reader(
        &mut self,
        query: &str,
        r: &mut dyn Read,
        frame: &Frame,
        at: Pos,
    ) -> Result<u64, ScriptError> {
        let e = match self.client.copy_in(query) {
            Ok(w) => return feed_reader(w, r, frame, at),
            Err(e) => e,
        };
        let err = pg_error(e, frame.name, None, at);
        self.after_failed_copy_start(&err)?;
        Err(err)
    }
}

pub(super) fn feed_reader(
    mut w: postgres::CopyInWriter<'_>,
    r: &mut dyn Read,
    frame: &Frame,
    at: Pos,
) -> Result<u64, ScriptError> {
    let copied = io::copy(r, &mut w);
    match (copied, w.finish()) {
        (_, Err(e)) => Err(pg_error(e, frame.name, None, at)),
        (Err(e), Ok(_)) => Err(ScriptError::new(
            ErrorKind::Script,
            frame.name,
            at.line,
            at.column,
            format!("\\copy: {e}"),
        )),
        (Ok(_), Ok(n)) => Ok(n),
    }
}

impl Runner {
    pub(super) fn copy_out(
        &mut self,
        query: &str,
        out: &mut dyn Write,
        frame: &Frame,
        at: Pos,
        st: Option<&Statement>,
    ) -> Result<u64, ScriptError> {
        let res = self.client.copy_out(query);
        let mut r = match res {
            Ok(r) => r,
            Err(e) => return Err(pg_error(e, frame.name, st, at)),
        };
        let n = io::copy(&mut r, out);
        drop(r);
        n.map_err(|e| {
            ScriptError::new(
                ErrorKind::Script,
                frame.name,
                at.line,
                at.column,
                e.to_string(),
            )
        })?;
        // The row count is not exposed by copy_out; report 0 in tags.
        Ok(0)
    }

    /// `\copy`: the rest of the line, no interpolation, as psql.
    pub(super) fn meta_copy(
        &mut self,
        m: &Meta,
        lex: &mut Lexer<&mut dyn BufRead>,
        frame: &Frame,
        out: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        let bad = |msg: String| {
            let mut e =
                ScriptError::new(ErrorKind::Script, frame.name, m.pos.line, m.pos.column, msg);
            e.statement = Some(format!("\\copy {}", m.args));
            e
        };
        let spec = parse_copy(&m.args).map_err(|e| bad(format!("\\copy: {e}")))?;
        if spec.target.eq_ignore_ascii_case("program") && !spec.quoted {
            return Err(bad(
                "\\copy ... program: not supported (this engine runs no shell commands); copy from or to a file"
                    .into(),
            ));
        }
        self.summary.statements += 1;
        if spec.from {
            let query = format!("COPY {} FROM STDIN {}", spec.what, spec.options);
            match spec.target.to_ascii_lowercase().as_str() {
                "stdin" if !spec.quoted => {
                    let csv = spec.options.to_ascii_lowercase().contains("csv");
                    lex.start_copy_data(csv, m.pos);
                    self.copy_in_from_script(&query, lex, frame, m.pos, None)
                        .map(|_| ())
                }
                "pstdin" if !spec.quoted => {
                    let stdin = io::stdin();
                    let mut r = stdin.lock();
                    self.copy_in_from_reader(&query, &mut r, frame, m.pos)
                        .map(|_| ())
                }
                _ => {
                    let mut f = std::fs::File::open(&spec.target)
                        .map_err(|e| bad(format!("{}: {e}", spec.target)))?;
                    self.copy_in_from_reader(&query, &mut f, frame, m.pos)
                        .map(|_| ())
                }
            }
        } else {
            let query = format!("COPY {} TO STDOUT {}", spec.what, spec.options);
            match spec.target.to_ascii_lowercase().as_str() {
                "stdout" | "pstdout" if !spec.quoted => {
                    self.copy_out(&query, out, frame, m.pos, None).map(|_| ())
                }
                _ => {
                    let mut f = std::fs::File::create(&spec.target)
                        .map_err(|e| bad(format!("{}: {e}", spec.target)))?;
                    self.copy_out(&query, &mut f, frame, m.pos, None)
                        .map(|_| ())
                }
            }
        }
    }
}

pub(super) fn drain_copy(
    lex: &mut Lexer<&mut dyn BufRead>,
    vars: &Variables,
) -> Result<(), LexError> {
    loop {
        match lex.next_item(vars)? {
            Some(Item::CopyData(_)) => {}
            _ => return Ok(()),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct CopySpec {
    what: String,
    from: bool,
    target: String,
    quoted: bool,
    options: String,
}

/// Split `\copy` arguments: `what FROM|TO target [options]`, where `what`
/// is a table with optional columns or a parenthesized query.
pub(super) fn parse_copy(raw: &str) -> Result<CopySpec, String> {
    // Top-level tokens (quotes and parentheses kept inside), with offsets.
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut depth = 0i32;
        while i < b.len() {
            match b[i] {
                q @ (b'\'' | b'"') => {
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += 1;
                    }
                }
                b'(' => depth += 1,
                b')' => depth -= 1,
                c if c.is_ascii_whitespace() && depth <= 0 => break,
                _ => {}
            }
            i += 1;
        }
        tokens.push((start, i.min(b.len())));
    }
    let tok = |k: usize| &raw[tokens[k].0..tokens[k].1];
    let k = (1..tokens.len())
        .find(|&k| tok(k).eq_ignore_ascii_case("from") || tok(k).eq_ignore_ascii_case("to"))
        .ok_or("expected FROM or TO")?;
    if k + 1 >= tokens.len() {
        return Err("missing file name, STDIN or STDOUT".into());
    }
    let target_raw = tok(k + 1);
    let (target, quoted) = match target_raw
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
    {
        Some(inner) => (inner.replace("''", "'"), true),
        None => (target_raw.to_owned(), false),
    };
    Ok(CopySpec {
        what: raw[..tokens[k].0].trim().to_owned(),
        from: tok(k).eq_ignore_ascii_case("from"),
        target,
        quoted,
        options: raw[tokens[k + 1].1..].trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn copy_arguments() {
        let s = parse_copy("t (a, b) from 'my file.csv' with csv header").unwrap();
        assert_eq!(
            (
                s.what.as_str(),
                s.from,
                s.target.as_str(),
                s.quoted,
                s.options.as_str()
            ),
            ("t (a, b)", true, "my file.csv", true, "with csv header")
        );
        let s = parse_copy("(select 1 from x) to stdout").unwrap();
        assert_eq!(
            (s.what.as_str(), s.from, s.target.as_str(), s.quoted),
            ("(select 1 from x)", false, "stdout", false)
        );
        assert!(parse_copy("t").is_err());
        assert!(parse_copy("t from").is_err());
    }
}
