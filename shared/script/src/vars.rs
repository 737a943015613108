//! psql variables and the small text rules around them: quoting a value as a
//! literal or identifier (`:'v'`, `:"v"`), parsing booleans as psql does,
//! and splitting a meta-command's arguments (quotes, escapes, `:v`).
//!
//! Not for SQL text: the lexer interpolates variables in statements itself,
//! because only it knows what is inside quotes and comments.

use std::collections::BTreeMap;

/// psql variables (`\set`, `-v NAME=VALUE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variables(BTreeMap<String, String>);

impl Variables {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }
    pub fn unset(&mut self, name: &str) {
        self.0.remove(name);
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Variables {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Variables(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Whether `name` is a valid psql variable name (what `:name` can refer to).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
}

/// A SQL literal, as libpq's `PQescapeLiteral` writes it (psql's `:'v'`):
/// quotes doubled, and with backslashes doubled behind ` E` when there are
/// any (so it is right whatever `standard_conforming_strings` is). This is
/// `postgres_protocol::escape::escape_literal`, which mirrors libpq.
pub fn quote_literal(v: &str) -> String {
    postgres_protocol::escape::escape_literal(v)
}

/// A quoted identifier (psql's `:"v"`, libpq's `PQescapeIdentifier`).
pub fn quote_ident(v: &str) -> String {
    postgres_protocol::escape::escape_identifier(v)
}

/// psql's `ParseVariableBool`: true/false/yes/no (any unique prefix),
/// on/off (at least two letters), 1/0; case-insensitive.
pub fn parse_bool(v: &str) -> Option<bool> {
    let l = v.trim().to_ascii_lowercase();
    if l.is_empty() {
        return None;
    }
    let prefix = |word: &str| word.starts_with(&l);
    if prefix("true") || prefix("yes") || l == "1" || (l.len() >= 2 && prefix("on")) {
        Some(true)
    } else if prefix("false") || prefix("no") || l == "0" || (l.len() >= 2 && prefix("off")) {
        Some(false)
    } else {
        None
    }
}

/// How a meta-command treats double quotes in its arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ArgMode {
    /// Kept, quotes included (psql's OT_NORMAL).
    Normal,
    /// Removed, `""` inside means `"` (psql's OT_SQLIDHACK, for `\connect`),
    /// and trailing semicolons stripped (`\c chinook;`).
    SqlId,
}

/// Split a meta-command's raw arguments as psql does: blanks separate,
/// `'...'` takes backslash escapes and `''`, `:v`/`:'v'`/`:"v"` interpolate
/// outside quotes, backquotes are refused.
///
/// Errors: a one-line message (an unterminated quote).
pub fn parse_args(raw: &str, vars: &Variables, mode: ArgMode) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut cur = String::new();
        let mut quoted = false;
        while i < b.len() && !b[i].is_whitespace() {
            match b[i] {
                '\'' => {
                    quoted = true;
                    i += 1;
                    loop {
                        if i >= b.len() {
                            return Err("unterminated quoted string".into());
                        }
                        match b[i] {
                            '\'' if b.get(i + 1) == Some(&'\'') => {
                                cur.push('\'');
                                i += 2;
                            }
                            '\'' => {
                                i += 1;
                                break;
                            }
                            '\\' if i + 1 < b.len() => {
                                i += 1;
                                i += unescape(&b[i..], &mut cur);
                            }
                            c => {
                                cur.push(c);
                                i += 1;
                            }
                        }
                    }
                }
                '"' => {
                    quoted = true;
                    if mode == ArgMode::Normal {
                        cur.push('"');
                    }
                    i += 1;
                    loop {
                        if i >= b.len() {
                            return Err("unterminated quoted identifier".into());
                        }
                        if b[i] == '"' {
                            if b.get(i + 1) == Some(&'"') {
                                cur.push('"');
                                if mode == ArgMode::Normal {
                                    cur.push('"');
                                }
                                i += 2;
                                continue;
                            }
                            if mode == ArgMode::Normal {
                                cur.push('"');
                            }
                            i += 1;
                            break;
                        }
                        cur.push(b[i]);
                        i += 1;
                    }
                }
                '`' => return Err("backquoted shell commands are not run (this engine runs no shell commands): pass the value with -v NAME=VALUE".into()),
                ':' => {
                    let (text, used) = interpolate(&b[i..], vars);
                    cur.push_str(&text);
                    i += used;
                }
                c => {
                    cur.push(c);
                    i += 1;
                }
            }
        }
        if mode == ArgMode::SqlId && !quoted {
            while cur.ends_with(';') {
                cur.pop();
            }
        }
        out.push(cur);
    }
    Ok(out)
}

/// After a backslash inside `'...'`: psql's escapes. Returns chars used.
fn unescape(s: &[char], out: &mut String) -> usize {
    match s[0] {
        'n' => out.push('\n'),
        't' => out.push('\t'),
        'b' => out.push('\u{8}'),
        'r' => out.push('\r'),
        'f' => out.push('\u{c}'),
        '0'..='7' => {
            let n = s
                .iter()
                .take(3)
                .take_while(|c| ('0'..='7').contains(*c))
                .count();
            let v = u32::from_str_radix(&s[..n].iter().collect::<String>(), 8).unwrap_or(0);
            out.push(char::from_u32(v).unwrap_or('?'));
            return n;
        }
        'x' => {
            let n = s[1..]
                .iter()
                .take(2)
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if n == 0 {
                out.push('x');
                return 1;
            }
            let v = u32::from_str_radix(&s[1..=n].iter().collect::<String>(), 16).unwrap_or(0);
            out.push(char::from_u32(v).unwrap_or('?'));
            return n + 1;
        }
        c => out.push(c),
    }
    1
}

/// `:name`, `:'name'`, `:"name"` at the start of `s`; unset or malformed
/// references stay as written. Returns the text and chars used.
fn interpolate(s: &[char], vars: &Variables) -> (String, usize) {
    let is_var = |c: &char| c.is_alphanumeric() || *c == '_';
    if s.get(1) == Some(&'{') && s.get(2) == Some(&'?') {
        let n = s[3..].iter().take_while(|c| is_var(c)).count();
        if n > 0 && s.get(3 + n) == Some(&'}') {
            let name: String = s[3..3 + n].iter().collect();
            let t = if vars.get(&name).is_some() {
                "TRUE"
            } else {
                "FALSE"
            };
            return (t.into(), n + 4);
        }
    }
    if let Some(&q) = s.get(1)
        && (q == '\'' || q == '"')
    {
        let n = s[2..].iter().take_while(|c| is_var(c)).count();
        if n > 0 && s.get(2 + n) == Some(&q) {
            let name: String = s[2..2 + n].iter().collect();
            if let Some(v) = vars.get(&name) {
                let t = if q == '\'' {
                    quote_literal(v)
                } else {
                    quote_ident(v)
                };
                return (t, n + 3);
            }
            return (s[..n + 3].iter().collect(), n + 3);
        }
        return (":".into(), 1);
    }
    let n = s[1..].iter().take_while(|c| is_var(c)).count();
    if n > 0 {
        let name: String = s[1..=n].iter().collect();
        if let Some(v) = vars.get(&name) {
            return (v.to_owned(), n + 1);
        }
        return (s[..=n].iter().collect(), n + 1);
    }
    (":".into(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_psql() {
        for t in ["true", "T", "tr", "yes", "y", "on", "ON", "1"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "f", "no", "n", "off", "of", "0"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["o", "", "2", "maybe", "truex"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn literal_and_identifier_quoting() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\b"), r" E'a\\b'");
        assert_eq!(quote_ident("My \"T\""), "\"My \"\"T\"\"\"");
    }

    #[test]
    fn args_quotes_escapes_and_variables() {
        let vars: Variables = [("v", "x y"), ("n", "o'k")].into_iter().collect();
        let a = parse_args(
            r"a 'b c' 'it''s\n' :v :'n' :nope x:v :{?v} :{?w}",
            &vars,
            ArgMode::Normal,
        )
        .unwrap();
        assert_eq!(
            a,
            [
                "a", "b c", "it's\n", "x y", "'o''k'", ":nope", "xx y", "TRUE", "FALSE"
            ]
        );
        let a = parse_args(r#""My DB" "x""y""#, &vars, ArgMode::Normal).unwrap();
        assert_eq!(a, ["\"My DB\"", "\"x\"\"y\""]);
        let a = parse_args(r#"chinook; "My;DB""#, &vars, ArgMode::SqlId).unwrap();
        assert_eq!(a, ["chinook", "My;DB"]);
        assert!(parse_args("`ls`", &vars, ArgMode::Normal).is_err());
        assert!(parse_args("'open", &vars, ArgMode::Normal).is_err());
        assert_eq!(
            parse_args(r"'\101\x41'", &vars, ArgMode::Normal).unwrap(),
            ["AA"]
        );
    }
}
