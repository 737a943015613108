//! Meta-commands: `\set`, `\if` and the rest, as psql runs them (one
//! `match` on the command name; `\copy` lives in `copy.rs`).

use super::*;

/// psql meta-commands the runner refuses, with why (a script error, exit 3
/// under ON_ERROR_STOP, as psql's own failures).
const REFUSED: &[(&str, &str)] = &[
    ("!", "it runs a shell command"),
    ("cd", "it changes the working directory of the client"),
    (
        "conninfo",
        "the connection goes through the suite's port-forward, so psql's host and port would mislead; select current_database(), current_user instead",
    ),
    ("prompt", "it reads from a terminal"),
    (
        "password",
        "it reads a password from a terminal; use ALTER ROLE ... PASSWORD",
    ),
    ("e", "it starts an editor"),
    ("edit", "it starts an editor"),
    ("ef", "it starts an editor"),
    ("ev", "it starts an editor"),
    ("s", "there is no history in scripts"),
    ("w", "there is no query buffer to write in scripts"),
    ("write", "there is no query buffer to write in scripts"),
    ("p", "there is no query buffer to print in scripts"),
    ("print", "there is no query buffer to print in scripts"),
    ("r", "there is no query buffer to reset in scripts"),
    ("reset", "there is no query buffer to reset in scripts"),
    ("h", "help is interactive"),
    ("help", "help is interactive"),
    ("?", "help is interactive"),
    ("copyright", "help is interactive"),
    ("errverbose", "the last error's verbose form is not kept"),
    ("sf", "describe commands are for interactive use"),
    ("sv", "describe commands are for interactive use"),
    ("z", "describe commands are for interactive use"),
    ("H", "HTML output is not supported"),
    ("html", "HTML output is not supported"),
    ("T", "HTML output is not supported"),
    ("C", "table titles are not supported"),
    ("f", "field separators other than | are not supported"),
    ("lo_import", "large objects are not supported"),
    ("lo_export", "large objects are not supported"),
    ("lo_list", "large objects are not supported"),
    ("lo_unlink", "large objects are not supported"),
    ("bind", "extended-protocol parameters are not supported"),
    ("crosstabview", "crosstab output is not supported"),
    ("gdesc", "describe commands are for interactive use"),
    ("watch", "it repeats a query until interrupted"),
    ("sset", "not supported"),
];

impl Runner {
    /// `on`/`off`, or flip when no value (psql's `\t`, `\timing`).
    fn toggle(&self, v: Option<&String>, now: bool, what: &str) -> Result<bool, String> {
        match v {
            None => Ok(!now),
            Some(v) => parse_bool(v).ok_or_else(|| {
                format!("unrecognized value \"{v}\" for \"{what}\": Boolean expected")
            }),
        }
    }

    /// `\pset OPTION [VALUE]`, the options the printer knows.
    fn pset(&mut self, a: &[String]) -> Result<(), String> {
        let Some(opt) = a.first() else {
            return Err("\\pset: without arguments (listing the settings) is not supported".into());
        };
        let v = a.get(1);
        let on_off = |now: bool| -> Result<bool, String> {
            match v {
                None => Ok(!now),
                Some(v) => parse_bool(v).ok_or_else(|| {
                    format!("unrecognized value \"{v}\" for \"{opt}\": Boolean expected")
                }),
            }
        };
        match opt.as_str() {
            "format" => match v.map(|v| v.to_ascii_lowercase()).as_deref() {
                Some(f) if "aligned".starts_with(f) && !f.is_empty() => {
                    self.print.unaligned = false;
                    self.options.format = Format::Table;
                }
                Some(f) if "unaligned".starts_with(f) && !f.is_empty() => {
                    self.print.unaligned = true;
                    self.options.format = Format::Table;
                }
                Some("csv") => self.options.format = Format::Csv,
                Some(f)
                    if [
                        "asciidoc",
                        "html",
                        "latex",
                        "latex-longtable",
                        "troff-ms",
                        "wrapped",
                    ]
                    .contains(&f) =>
                {
                    return Err(format!(
                        "\\pset: format {f} is not supported (aligned, unaligned and csv are)"
                    ));
                }
                Some(f) => {
                    return Err(format!(
                        "\\pset: allowed formats are aligned, asciidoc, csv, html, latex, latex-longtable, troff-ms, unaligned, wrapped (got {f})"
                    ));
                }
                None => {}
            },
            "null" => self.print.null = v.cloned().unwrap_or_default(),
            "tuples_only" => self.print.tuples_only = on_off(self.print.tuples_only)?,
            "footer" => self.print.footer = on_off(self.print.footer)?,
            "expanded" | "x" => {
                self.print.expanded = match v {
                    Some(x) if x.eq_ignore_ascii_case("auto") => false,
                    _ => on_off(self.print.expanded)?,
                }
            }
            // No pager without a terminal, as psql.
            "pager" | "pager_min_lines" => {}
            "border" if v.is_none_or(|b| b == "1") => {}
            "fieldsep" if v.is_none_or(|f| f == "|") => {}
            "recordsep" if v.is_none_or(|f| f == "\n") => {}
            "border"
            | "fieldsep"
            | "fieldsep_zero"
            | "recordsep"
            | "recordsep_zero"
            | "linestyle"
            | "title"
            | "tableattr"
            | "numericlocale"
            | "columns"
            | "csv_fieldsep"
            | "unicode_border_linestyle"
            | "unicode_column_linestyle"
            | "unicode_header_linestyle"
            | "xheader_width" => {
                return Err(format!(
                    "\\pset: {opt} is not supported (format, null, tuples_only, footer, expanded and pager are)"
                ));
            }
            _ => return Err(format!("\\pset: unknown option: {opt}")),
        }
        Ok(())
    }
}

impl Runner {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn meta(
        &mut self,
        m: &Meta,
        lex: &mut Lexer<&mut dyn BufRead>,
        conds: &mut Vec<(Cond, Pos)>,
        active: bool,
        frame: &Frame,
        out: &mut dyn Write,
        info: &mut dyn Write,
    ) -> Result<(), ScriptError> {
        // psql: a failed meta-command is a script error (exit 3 under
        // ON_ERROR_STOP; reported and passed over without it).
        let fatal = |msg: String| {
            let mut e =
                ScriptError::new(ErrorKind::Script, frame.name, m.pos.line, m.pos.column, msg);
            e.statement = Some(format!("\\{} {}", m.name, m.args).trim_end().to_owned());
            e
        };
        let name = m.name.as_str();
        if let Some(_key) = &self.restricted
            && name != "unrestrict"
        {
            return Err(fatal(format!(
                "backslash commands are restricted; only \\unrestrict is allowed (got \\{name})"
            )));
        }
        let args = |mode: ArgMode, vars: &Variables| {
            parse_args(&m.args, vars, mode).map_err(|e| fatal(format!("\\{name}: {e}")))
        };
        match name {
            "if" | "elif" => {
                let parent_active = conds
                    .iter()
                    .rev()
                    .skip(if name == "elif" { 1 } else { 0 })
                    .all(|(c, _)| matches!(c, Cond::Taking | Cond::ElseTaking));
                if name == "elif" {
                    let Some((top, _)) = conds.last().copied() else {
                        return Err(fatal("\\elif: no matching \\if".into()));
                    };
                    if matches!(top, Cond::ElseTaking | Cond::ElseSkipping) {
                        return Err(fatal("\\elif: cannot occur after \\else".into()));
                    }
                    if top != Cond::Seeking {
                        let last = conds.len() - 1;
                        conds[last].0 = if top == Cond::Ignoring {
                            Cond::Ignoring
                        } else {
                            Cond::Done
                        };
                        return Ok(());
                    }
                }
                let next = if !parent_active {
                    Cond::Ignoring
                } else {
                    let expr = args(ArgMode::Normal, &self.vars)?.join(" ");
                    match parse_bool(&expr) {
                        Some(true) => Cond::Taking,
                        Some(false) => Cond::Seeking,
                        None => {
                            // psql reports it, takes the branch as false
                            // and goes on, even under ON_ERROR_STOP.
                            let _ = writeln!(
                                info,
                                "{}",
                                fatal(format!(
                                    "unrecognized value \"{expr}\" for \"\\{name} expression\": Boolean expected"
                                ))
                            );
                            Cond::Seeking
                        }
                    }
                };
                if name == "if" {
                    conds.push((next, m.pos));
                } else {
                    let last = conds.len() - 1;
                    conds[last].0 = next;
                }
                Ok(())
            }
            "else" => {
                let Some((top, _)) = conds.last_mut() else {
                    return Err(fatal("\\else: no matching \\if".into()));
                };
                *top = match *top {
                    Cond::Seeking => Cond::ElseTaking,
                    Cond::Taking | Cond::Done | Cond::Ignoring => Cond::ElseSkipping,
                    Cond::ElseTaking | Cond::ElseSkipping => {
                        return Err(fatal("\\else: cannot occur after \\else".into()));
                    }
                };
                Ok(())
            }
            "endif" => {
                if conds.pop().is_none() {
                    return Err(fatal("\\endif: no matching \\if".into()));
                }
                Ok(())
            }
            "g" | "gx" | "gset" | "gexec" if !active => {
                // The query buffer they would send goes with the branch.
                lex.take_statement().map_err(|e| lex_error(e, frame))?;
                Ok(())
            }
            _ if !active => Ok(()),
            "g" | "gx" | "gset" | "gexec" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                let st = match lex.take_statement().map_err(|e| lex_error(e, frame))? {
                    Some(st) => st,
                    // psql sends the previous query again.
                    None => match self.last_query.clone() {
                        Some(st) => st,
                        None => return Ok(()),
                    },
                };
                if a.first()
                    .is_some_and(|f| f.starts_with('|') || f.starts_with('('))
                {
                    return Err(fatal(format!(
                        "\\{name}: pipes and (OPTIONS) are not supported; write to a file (\\{name} FILE) or set the format with \\pset first"
                    )));
                }
                let sink = match name {
                    "gset" => Sink::Gset(a.first().cloned().unwrap_or_default()),
                    "gexec" => Sink::Gexec,
                    _ => Sink::Print(Some(query::PrintTo {
                        expanded: name == "gx",
                        file: a.first().map(PathBuf::from),
                    })),
                };
                if self.options.echo {
                    let _ = writeln!(info, "{}", st.text);
                }
                self.summary.statements += 1;
                self.scs_known = false;
                self.last_query = Some(st.clone());
                let r = self.query(&st, sink, frame, out, info);
                self.drain_notices(info);
                r
            }
            "x" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                self.print.expanded = match a.first().map(String::as_str) {
                    None => !self.print.expanded,
                    // Not on a terminal: psql's `auto` never expands.
                    Some(v) if v.eq_ignore_ascii_case("auto") => false,
                    Some(v) => parse_bool(v).ok_or_else(|| {
                        fatal(format!(
                            "\\x: unrecognized value \"{v}\" for \"expanded\": Boolean expected"
                        ))
                    })?,
                };
                Ok(())
            }
            "t" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                self.print.tuples_only = self
                    .toggle(a.first(), self.print.tuples_only, "tuples_only")
                    .map_err(fatal)?;
                Ok(())
            }
            "a" => {
                self.print.unaligned = !self.print.unaligned;
                if self.options.format == Format::Csv {
                    self.options.format = Format::Table;
                }
                Ok(())
            }
            "pset" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                self.pset(&a).map_err(fatal)
            }
            "qecho" | "warn" => {
                let mut a = args(ArgMode::Normal, &self.vars)?;
                let newline = a.first().map(String::as_str) != Some("-n");
                if !newline {
                    a.remove(0);
                }
                let text = format!("{}{}", a.join(" "), if newline { "\n" } else { "" });
                let target: &mut dyn Write = match (name, &mut self.qout) {
                    ("warn", _) => info,
                    (_, Some((_, f))) => f,
                    (_, None) => out,
                };
                let _ = target.write_all(text.as_bytes());
                Ok(())
            }
            "o" | "out" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                if let Some((_, mut f)) = self.qout.take() {
                    let _ = f.flush();
                }
                match a.first() {
                    None => Ok(()),
                    Some(f) if f.starts_with('|') => Err(fatal(
                        "\\o: pipes to commands are not supported; write to a file (\\o FILE)"
                            .into(),
                    )),
                    Some(f) => {
                        let file =
                            std::fs::File::create(f).map_err(|e| fatal(format!("{f}: {e}")))?;
                        self.qout = Some((f.clone(), io::BufWriter::new(file)));
                        Ok(())
                    }
                }
            }
            "timing" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                self.timing = self
                    .toggle(a.first(), self.timing, "timing")
                    .map_err(fatal)?;
                Ok(())
            }
            "getenv" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                let (Some(var), Some(env)) = (a.first(), a.get(1)) else {
                    return Err(fatal("\\getenv: missing required argument".into()));
                };
                if !valid_name(var) {
                    return Err(fatal(format!("invalid variable name: \"{var}\"")));
                }
                if let Ok(v) = std::env::var(env) {
                    self.vars.set(var.clone(), v);
                }
                Ok(())
            }
            "setenv" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                let Some(env) = a.first() else {
                    return Err(fatal("\\setenv: missing required argument".into()));
                };
                if env.contains('=') {
                    return Err(fatal(
                        "\\setenv: environment variable name must not contain \"=\"".into(),
                    ));
                }
                // SAFETY: the runner is single-threaded while a script runs;
                // psql sets its own environment the same way (for \! and
                // backquotes, which the runner refuses, and \getenv).
                unsafe {
                    match a.get(1) {
                        Some(v) => std::env::set_var(env, v),
                        None => std::env::remove_var(env),
                    }
                }
                Ok(())
            }
            "set" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                if a.is_empty() {
                    for (k, v) in self.vars.iter() {
                        let _ = writeln!(out, "{k} = '{v}'");
                    }
                    return Ok(());
                }
                if !valid_name(&a[0]) {
                    return Err(fatal(format!("\\set: invalid variable name: \"{}\"", a[0])));
                }
                let value = a[1..].concat();
                if a[0] == "ON_ERROR_STOP" {
                    match parse_bool(&value) {
                        Some(v) => self.options.on_error_stop = v,
                        None => {
                            return Err(fatal(format!(
                                "unrecognized value \"{value}\" for \"ON_ERROR_STOP\": Boolean expected"
                            )));
                        }
                    }
                }
                self.vars.set(a[0].clone(), value);
                Ok(())
            }
            "unset" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                let Some(n) = a.first() else {
                    return Err(fatal("\\unset: missing required argument".into()));
                };
                if n == "ON_ERROR_STOP" {
                    self.options.on_error_stop = false;
                }
                self.vars.unset(n);
                Ok(())
            }
            "echo" => {
                let mut a = args(ArgMode::Normal, &self.vars)?;
                let newline = a.first().map(String::as_str) != Some("-n");
                if !newline {
                    a.remove(0);
                }
                let text = format!("{}{}", a.join(" "), if newline { "\n" } else { "" });
                // The file's own bytes, as psql echoes them.
                let _ = out.write_all(&self.encoding.encode(&text));
                Ok(())
            }
            "i" | "include" | "ir" | "include_relative" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                let Some(file) = a.first() else {
                    return Err(fatal(format!("\\{name}: missing required argument")));
                };
                if frame.depth + 1 > MAX_DEPTH {
                    return Err(fatal(format!(
                        "\\{name}: too many nested includes ({MAX_DEPTH})"
                    )));
                }
                let path = PathBuf::from(file);
                let path = match frame.dir {
                    Some(dir) if name.starts_with("ir") || name == "include_relative" => {
                        if path.is_absolute() {
                            path
                        } else {
                            dir.join(path)
                        }
                    }
                    _ => path,
                };
                let shown = path.display().to_string();
                self.run_file(&path, &shown, frame.depth + 1, m.pos, frame.name, out, info)
            }
            "c" | "connect" => {
                let a = args(ArgMode::SqlId, &self.vars)?;
                let keep =
                    |s: Option<&String>| s.filter(|s| !s.is_empty() && s.as_str() != "-").cloned();
                let (db, user) = (keep(a.first()), keep(a.get(1)));
                if keep(a.get(2)).is_some() || keep(a.get(3)).is_some() {
                    return Err(fatal(format!(
                        "\\{name}: changing host or port is not supported"
                    )));
                }
                if db
                    .as_deref()
                    .is_some_and(|d| d.contains('=') || d.contains("://"))
                {
                    return Err(fatal(format!(
                        "\\{name}: connection strings are not supported, only DBNAME [USERNAME]"
                    )));
                }
                match self.connector.connect(db.as_deref(), user.as_deref()) {
                    Ok(client) => {
                        // The new session is not in the run's transaction.
                        self.batch.left_transaction = true;
                        self.client = client;
                        self.sync_standard_conforming_strings()
                            .map_err(|e| pg_error(e, frame.name, None, m.pos))?;
                        lex.standard_conforming_strings = self.standard_conforming_strings;
                        Ok(())
                    }
                    Err(e) => {
                        let mut err = ScriptError::new(
                            ErrorKind::Script,
                            frame.name,
                            m.pos.line,
                            m.pos.column,
                            format!("\\connect: {e}"),
                        );
                        if let Some(db) = e.as_db_error() {
                            err.sqlstate = Some(db.code().code().to_owned());
                            err.message = format!("\\connect: {}", db.message());
                        }
                        Err(err)
                    }
                }
            }
            "restrict" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                match a.first() {
                    Some(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()) => {
                        self.restricted = Some(k.clone());
                        Ok(())
                    }
                    _ => Err(fatal("\\restrict: missing or invalid key".into())),
                }
            }
            "unrestrict" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                match (&self.restricted, a.first()) {
                    (None, _) => Err(fatal(
                        "\\unrestrict: not currently in restricted mode".into(),
                    )),
                    (Some(k), Some(given)) if k == given => {
                        self.restricted = None;
                        Ok(())
                    }
                    _ => Err(fatal("\\unrestrict: wrong key".into())),
                }
            }
            "copy" => self.meta_copy(m, lex, frame, out),
            "encoding" => {
                let a = args(ArgMode::Normal, &self.vars)?;
                match a.first() {
                    // psql prints the current encoding.
                    None => {
                        let _ = writeln!(out, "{}", self.encoding.name);
                        Ok(())
                    }
                    Some(enc) => {
                        self.set_client_encoding(enc, frame.name, m.pos)
                            .map_err(|mut e| {
                                e.kind = ErrorKind::Fatal;
                                e
                            })?;
                        lex.encoding = self.encoding;
                        Ok(())
                    }
                }
            }
            "q" | "quit" => {
                self.quit = true;
                Ok(())
            }
            _ if REFUSED.iter().any(|(n, _)| *n == name) => {
                let why = REFUSED
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, w)| *w)
                    .unwrap_or_default();
                let mut e = fatal(format!("\\{name} is not supported by this engine: {why}"));
                e.hint = Some(format!(
                    "the supported ones: {SUPPORTED_META} (`uis db psql --help`); for others run psql itself"
                ));
                Err(e)
            }
            _ if name.starts_with('d') || name.starts_with('l') && name != "lo_import" => {
                let mut e = fatal(format!(
                    "\\{name} is not supported by this engine: describe commands are for interactive use"
                ));
                e.hint = Some(
                    "query the catalog (information_schema, pg_catalog) instead, or run psql itself"
                        .into(),
                );
                Err(e)
            }
            _ => {
                let mut e = fatal(format!("invalid command \\{name}"));
                e.hint = Some(format!(
                    "the supported ones: {SUPPORTED_META} (`uis db psql --help`); for others run psql itself"
                ));
                Err(e)
            }
        }
    }
}
