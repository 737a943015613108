//! One credential view in every format a tool wants: UIS's JSON shape, a
//! URL, `.env`/shell variables, a libpq keyword string, a pgpass line and a
//! JDBC URL, each for the host-side (`local`) or the in-cluster address.
//!
//! Knows nothing of where the values came from; `uis-db-creds` fills it.

use crate::Failure;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

/// Everything but unreserved characters is encoded in userinfo and path.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The formats `--format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Env,
    Url,
    Libpq,
    Pgpass,
    Jdbc,
}

/// A login for one role and database, at both addresses.
#[derive(Debug, Clone)]
pub struct Creds {
    pub app: Option<String>,
    /// The role's kind (`owner`, `admin`, `authenticator`...) or its name.
    pub role: String,
    pub username: String,
    pub password: String,
    pub database: String,
    pub local: (String, u16),
    pub cluster: (String, u16),
    /// Where the password came from.
    pub source: String,
    /// The TLS settings asked for (flags or `PGSSL*`), carried by every
    /// format that can; empty when none was given (libpq's defaults).
    pub tls: TlsParams,
}

/// The libpq TLS keywords a credential carries: only those given, so a
/// login with libpq's defaults (`sslmode=prefer`) prints no `sslmode`, as
/// psql users write URLs, and one with `--sslmode verify-full
/// --sslrootcert ca.crt` prints both. Values are libpq's (the paths as
/// given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsParams {
    pub sslmode: Option<crate::tls::SslMode>,
    /// A file path or `system`.
    pub sslrootcert: Option<String>,
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
}

impl TlsParams {
    /// What `opts` asked for. A CA read from a Secret has no path a tool
    /// could use, so it is left out (see docs/security.md).
    pub fn from_options(opts: &crate::tls::TlsOptions) -> TlsParams {
        use crate::tls::RootCert;
        TlsParams {
            sslmode: opts.mode,
            sslrootcert: match &opts.root_cert {
                Some(RootCert::File(p)) => Some(p.display().to_string()),
                Some(RootCert::System) => Some("system".into()),
                _ => None,
            },
            sslcert: opts.client_cert.as_ref().map(|p| p.display().to_string()),
            sslkey: opts.client_key.as_ref().map(|p| p.display().to_string()),
        }
    }

    /// (libpq keyword, environment variable, value) for each given.
    pub fn entries(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut v = Vec::new();
        if let Some(m) = self.sslmode {
            v.push(("sslmode", "PGSSLMODE", m.as_str().to_string()));
        }
        for (kw, env, val) in [
            ("sslrootcert", "PGSSLROOTCERT", &self.sslrootcert),
            ("sslcert", "PGSSLCERT", &self.sslcert),
            ("sslkey", "PGSSLKEY", &self.sslkey),
        ] {
            if let Some(val) = val {
                v.push((kw, env, val.clone()));
            }
        }
        v
    }

    /// `k=v` for each given, as URL query parameters (values
    /// percent-encoded).
    pub fn url_pairs(&self) -> Vec<String> {
        self.pairs(LIBPQ_TLS_KEYS)
    }

    fn pairs(&self, keys: &[&str]) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|(k, _, _)| keys.contains(k))
            .map(|(k, _, v)| format!("{k}={}", utf8_percent_encode(&v, COMPONENT)))
            .collect()
    }

    /// `?k=v&...` for a URL (values percent-encoded), empty when none.
    fn query(&self, keys: &[&str]) -> String {
        let pairs = self.pairs(keys);
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// Every libpq TLS keyword (URL query parameters libpq accepts).
const LIBPQ_TLS_KEYS: &[&str] = &["sslmode", "sslrootcert", "sslcert", "sslkey"];
/// Those pgjdbc reads the same way (its `sslcert`/`sslkey` want a DER
/// PKCS#8 key by default, so they are left out: docs/security.md).
const JDBC_TLS_KEYS: &[&str] = &["sslmode", "sslrootcert"];

/// `postgresql://user:password@host:port/db`, percent-encoded (F9), an
/// IPv6 host in brackets (`[::1]:35432`), as RFC 3986 and every URL reader
/// (libpq, psycopg, SQLAlchemy, pg-connection-string) require.
pub fn url(user: &str, password: &str, host: &str, port: u16, db: &str) -> String {
    format!(
        "postgresql://{}:{}@{}:{}/{}",
        utf8_percent_encode(user, COMPONENT),
        utf8_percent_encode(password, COMPONENT),
        url_host(host),
        port,
        utf8_percent_encode(db, COMPONENT)
    )
}

/// A host as a URL authority writes it: an IPv6 address (any host with a
/// `:`) in brackets, once.
pub fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The parts of a `postgres://` or `postgresql://` URL with a login, as
/// `./uis configure postgresql` writes it into `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: u16,
    pub database: String,
}

/// Parses `postgresql://user:password@host[:port]/db[?params]` (user,
/// password and database percent-decoded; port 5432 when left out);
/// `None` for anything else (no password, another scheme).
pub fn parse_url(url: &str) -> Option<ParsedUrl> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))?;
    let (userinfo, rest) = rest.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    let (hostport, path) = rest.split_once('/')?;
    let database = path.split(['?', '#']).next().unwrap_or_default();
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
            (h.to_string(), p.parse().ok()?)
        }
        _ => (hostport.to_string(), 5432),
    };
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|c| c.to_string())
    };
    let parsed = ParsedUrl {
        user: dec(user)?,
        password: dec(password)?,
        host,
        port,
        database: dec(database)?,
    };
    (!parsed.user.is_empty() && !parsed.password.is_empty() && !parsed.database.is_empty())
        .then_some(parsed)
}

/// A value quoted for a POSIX shell when it needs it: bare when made only of
/// characters no shell interprets, else in single quotes (a `'` written as
/// `'\''`), which keep every other byte, newlines included, literally.
pub fn shell_quote(v: &str) -> String {
    if !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// A libpq keyword value: bare when libpq reads it back whole, else in
/// single quotes with `\\` and `'` backslash-escaped. libpq ends a bare value
/// at any whitespace (`isspace`: space, tab, newline, CR, FF, VT), so all of
/// them, an empty value, quotes and backslashes need the quotes.
fn libpq_quote(v: &str) -> String {
    if !v.is_empty()
        && v.bytes()
            .all(|b| !(b.is_ascii_whitespace() || b == 0x0b || b"'\\".contains(&b)))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// The fields of a pgpass line, in order, for [`pgpass_line`].
fn pgpass_fields<'a>(host: &'a str, port: &'a str, c: &'a Creds) -> [(&'static str, &'a str); 5] {
    [
        ("host", host),
        ("port", port),
        ("database", &c.database),
        ("username", &c.username),
        ("password", &c.password),
    ]
}

fn pgpass_escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace(':', "\\:")
}

impl Creds {
    fn addr(&self, in_cluster: bool) -> (&str, u16) {
        let (h, p) = if in_cluster {
            &self.cluster
        } else {
            &self.local
        };
        (h.as_str(), *p)
    }

    /// The URL for the local or the in-cluster address, with the TLS
    /// keywords given as query parameters (`?sslmode=verify-full&...`).
    pub fn url(&self, in_cluster: bool) -> String {
        let (h, p) = self.addr(in_cluster);
        url(&self.username, &self.password, h, p, &self.database) + &self.tls.query(LIBPQ_TLS_KEYS)
    }

    /// UIS's configure JSON shape, plus `app`, `role` and `source`.
    /// The TLS keywords given are added at the top (`"sslmode": ...`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = json!({
            "app": self.app,
            "role": self.role,
            "username": self.username,
            "password": self.password,
            "database": self.database,
            "local": {"host": self.local.0, "port": self.local.1, "database_url": self.url(false)},
            "cluster": {"host": self.cluster.0, "port": self.cluster.1, "database_url": self.url(true)},
            "source": self.source,
        });
        for (k, _, val) in self.tls.entries() {
            v[k] = json!(val);
        }
        v
    }

    /// The text `--format` prints (with a trailing newline).
    ///
    /// Errors: phase `usage` (exit 2) for `pgpass` when a field holds a
    /// newline or carriage return: a pgpass line cannot carry one (libpq
    /// reads the file a line at a time and strips a trailing CR); the message
    /// names the field and the formats that can.
    pub fn render(&self, format: Format, in_cluster: bool) -> Result<String, Failure> {
        let (h, p) = self.addr(in_cluster);
        Ok(match format {
            Format::Json => format!("{}\n", self.to_json()),
            Format::Url => format!("{}\n", self.url(in_cluster)),
            // `export`, so `eval "$(uis db creds APP --format env)"` hands
            // the variables to the programs run next (psql reads PG*).
            Format::Env => {
                let mut vars = vec![
                    ("DATABASE_URL", self.url(in_cluster)),
                    ("PGHOST", h.to_string()),
                    ("PGPORT", p.to_string()),
                    ("PGDATABASE", self.database.clone()),
                    ("PGUSER", self.username.clone()),
                    ("PGPASSWORD", self.password.clone()),
                ];
                vars.extend(self.tls.entries().into_iter().map(|(_, env, v)| (env, v)));
                vars.iter()
                    .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
                    .collect()
            }
            Format::Libpq => format!(
                "host={} port={} dbname={} user={} password={}{}\n",
                libpq_quote(h),
                p,
                libpq_quote(&self.database),
                libpq_quote(&self.username),
                libpq_quote(&self.password),
                self.tls
                    .entries()
                    .iter()
                    .map(|(k, _, v)| format!(" {k}={}", libpq_quote(v)))
                    .collect::<String>()
            ),
            Format::Pgpass => {
                let port = p.to_string();
                let fields = pgpass_fields(h, &port, self);
                if let Some((name, _)) = fields.iter().find(|(_, v)| v.contains(['\n', '\r'])) {
                    return Err(Failure::usage(format!(
                        "the {name} contains a line break, which a pgpass line cannot carry (libpq reads ~/.pgpass a line at a time)"
                    ))
                    .hint("use --format json, url, env, libpq or jdbc, which carry any character"));
                }
                let mut line = fields.map(|(_, v)| pgpass_escape(v)).join(":");
                line.push('\n');
                line
            }
            Format::Jdbc => format!(
                "jdbc:postgresql://{}:{}/{}?user={}&password={}{}\n",
                url_host(h),
                p,
                utf8_percent_encode(&self.database, COMPONENT),
                utf8_percent_encode(&self.username, COMPONENT),
                utf8_percent_encode(&self.password, COMPONENT),
                self.tls.query(JDBC_TLS_KEYS).replacen('?', "&", 1)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_urls_uis_writes() {
        let u = parse_url(&url(
            "legacy",
            "p+/w",
            "postgresql.default.svc.cluster.local",
            5432,
            "atlas-t",
        ))
        .unwrap();
        assert_eq!(
            (
                u.user.as_str(),
                u.password.as_str(),
                u.database.as_str(),
                u.port
            ),
            ("legacy", "p+/w", "atlas-t", 5432)
        );
        assert_eq!(u.host, "postgresql.default.svc.cluster.local");
        let u = parse_url("postgres://a:b@h/d?sslmode=disable").unwrap();
        assert_eq!((u.port, u.database.as_str()), (5432, "d"));
        assert!(parse_url("postgresql://a@h:5432/d").is_none());
        assert!(parse_url("mysql://a:b@h:1/d").is_none());
    }

    fn sample(pw: &str) -> Creds {
        Creds {
            app: Some("railway".into()),
            role: "owner".into(),
            username: "railway".into(),
            password: pw.into(),
            database: "railway_db".into(),
            local: ("localhost".into(), 35432),
            cluster: ("postgresql.default.svc.cluster.local".into(), 5432),
            source: "test".into(),
            tls: TlsParams::default(),
        }
    }

    #[test]
    fn tls_keywords_only_when_given() {
        let mut c = sample("pw");
        for f in [Format::Url, Format::Env, Format::Libpq, Format::Jdbc] {
            assert!(!c.render(f, false).unwrap().contains("ssl"), "{f:?}");
        }
        assert!(c.to_json().get("sslmode").is_none());
        c.tls = TlsParams {
            sslmode: Some(crate::tls::SslMode::VerifyFull),
            sslrootcert: Some("/etc/ca dir/ca.crt".into()),
            sslcert: None,
            sslkey: None,
        };
        let url = c.render(Format::Url, true).unwrap();
        assert!(
            url.ends_with(
                "/railway_db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20dir%2Fca.crt\n"
            ),
            "{url}"
        );
        assert_eq!(parse_url(url.trim()).unwrap().database, "railway_db");
        let env = c.render(Format::Env, false).unwrap();
        assert!(env.contains("export PGSSLMODE=verify-full\n"), "{env}");
        assert!(
            env.contains("export PGSSLROOTCERT='/etc/ca dir/ca.crt'\n"),
            "{env}"
        );
        let libpq = c.render(Format::Libpq, false).unwrap();
        assert!(
            libpq.ends_with(" sslmode=verify-full sslrootcert='/etc/ca dir/ca.crt'\n"),
            "{libpq}"
        );
        let jdbc = c.render(Format::Jdbc, false).unwrap();
        assert!(
            jdbc.contains("&password=pw&sslmode=verify-full&sslrootcert="),
            "{jdbc}"
        );
        assert_eq!(c.to_json()["sslmode"], "verify-full");
        // pgpass has no field for it: the line is unchanged.
        assert_eq!(
            c.render(Format::Pgpass, false).unwrap(),
            sample("pw").render(Format::Pgpass, false).unwrap()
        );
    }

    #[test]
    fn urls_round_trip_through_the_postgres_parser() {
        for pw in [
            "abc",
            "otd1lnW8cjPI+p+/84bpx0LlE0kNZlOw",
            "a:b@c/d?e#f%g 'h\"",
            "ü",
        ] {
            let c = sample(pw);
            let cfg: postgres::Config = c.url(false).parse().unwrap();
            assert_eq!(cfg.get_password(), Some(pw.as_bytes()), "{pw}");
            assert_eq!(cfg.get_user(), Some("railway"));
            assert_eq!(cfg.get_dbname(), Some("railway_db"));
            let cfg: postgres::Config = c
                .render(Format::Libpq, true)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert_eq!(cfg.get_password(), Some(pw.as_bytes()), "libpq {pw}");
        }
    }

    #[test]
    fn formats() {
        let c = sample("pw:x");
        assert_eq!(
            c.render(Format::Pgpass, false).unwrap(),
            "localhost:35432:railway_db:railway:pw\\:x\n"
        );
        assert!(c.render(Format::Jdbc, true).unwrap().starts_with(
            "jdbc:postgresql://postgresql.default.svc.cluster.local:5432/railway_db?user=railway&password=pw%3Ax"
        ));
        assert!(
            c.render(Format::Env, false)
                .unwrap()
                .contains("export PGPASSWORD=pw:x\n")
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn ipv6_hosts_are_bracketed_in_urls() {
        let mut c = sample("pw");
        c.local = ("::1".into(), 35432);
        assert_eq!(
            c.render(Format::Url, false).unwrap(),
            "postgresql://railway:pw@[::1]:35432/railway_db\n"
        );
        assert!(
            c.render(Format::Jdbc, false)
                .unwrap()
                .starts_with("jdbc:postgresql://[::1]:35432/railway_db?")
        );
        let cfg: postgres::Config = c.url(false).parse().unwrap();
        assert_eq!(cfg.get_ports(), [35432]);
        // libpq's host keyword takes the bare address.
        assert!(
            c.render(Format::Libpq, false)
                .unwrap()
                .starts_with("host=::1 port=35432 ")
        );
    }

    #[test]
    fn libpq_quotes_whitespace_quotes_and_backslashes() {
        for (pw, want) in [
            ("a\tb", "'a\tb'"),
            ("a\nb", "'a\nb'"),
            ("a b", "'a b'"),
            ("", "''"),
            ("it's", "'it\\'s'"),
            ("c:\\d", "'c:\\\\d'"),
            ("a=b", "a=b"),
        ] {
            let line = sample(pw).render(Format::Libpq, false).unwrap();
            assert!(
                line.ends_with(&format!(" password={want}\n")),
                "{pw:?}: {line}"
            );
        }
    }

    #[test]
    fn pgpass_refuses_line_breaks() {
        for pw in ["a\nb", "a\r"] {
            let e = sample(pw).render(Format::Pgpass, false).unwrap_err();
            assert_eq!(e.code, 2);
            assert!(e.detail.contains("password"), "{}", e.detail);
            assert!(!e.detail.contains(pw), "the secret is not in the message");
            assert!(e.hint.as_deref().unwrap_or("").contains("libpq"));
        }
    }
}
