//! Meta-commands: `\set`, `\if` and the rest, as psql runs them (one
//! `match` on the command name; `\copy` lives in `copy.rs`).

use super::*;

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
        let fatal = |msg: String| {
            let mut e =
                ScriptError::new(ErrorKind::Fatal, frame.name, m.pos.line, m.pos.column, msg);
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
                            return Err(fatal(format!(
                                "unrecognized value \"{expr}\" for \"\\{name} expression\": Boolean expected"
                            )));
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
            _ if !active => Ok(()),
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
            _ => {
                let mut e = fatal(format!("unsupported meta-command \\{name}"));
                e.hint = Some(format!(
                    "the supported ones: {SUPPORTED_META} (`uis db psql --help`); for others run psql itself"
                ));
                Err(e)
            }
        }
    }
}
