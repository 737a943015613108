//! `uis.yaml`: an app's whole onboarding declared in one file beside its
//! code (docs/reference/uis-yaml.md documents every key). Read with
//! serde-saphyr into typed structs that refuse unknown keys, so a typo is an
//! error naming the line, the column and the valid keys, never a silently
//! ignored setting; then checked with the same rules (and messages) as the
//! flags each key stands for, and turned into the plain
//! [`uis_ops::onboard::Desired`] the operation takes.
//!
//! The vocabulary is the other binaries' flags: `database`, `owner`,
//! `schemas`, `extensions` and `with_roles` are `uis db configure`'s;
//! `roles` are `--authenticator`, `--anon-role`, `--authenticated-role`;
//! `ddl` is `uis db seed APP DIR --as admin`, `seeds` `uis db seed APP DIR`;
//! `postgrest` is `uis postgrest deploy`'s; `tokens` and `env` are
//! `uis jwt mint`'s (`--role`, `--capabilities`, `--exp`, `--write-env`).
//! Not for: anything at run time beyond turning the file into settings.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};
use std::time::Duration;
use uis_cli::jwt_flags::parse_duration;
use uis_ops::Failure;
use uis_ops::app::{validate_app, validate_ident, validate_new_name};
use uis_ops::onboard::{self, Desired, TokenSpec};

/// The file `uis onboard` reads by default, in the current directory.
pub const DEFAULT_FILE: &str = "uis.yaml";

/// The top level of `uis.yaml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The app (`^[a-z][a-z0-9-]{0,40}$`).
    pub app: String,
    /// `--database` (default: APP with '-' as '_', then `_db`).
    #[serde(default)]
    pub database: Option<String>,
    /// `--owner` (default: APP with '-' as '_').
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default)]
    pub extensions: Vec<String>,
    /// `--with-roles`: `postgrest`, `readonly`.
    #[serde(default)]
    pub with_roles: Vec<RolePattern>,
    /// `--owner-createrole` (true) / `--no-owner-createrole` (false).
    #[serde(default, deserialize_with = "plain::boolean")]
    pub owner_createrole: Option<bool>,
    /// PostgREST's role names.
    #[serde(default)]
    pub roles: Roles,
    /// The DDL directory, applied as the superuser (`uis db seed APP DIR --as admin`).
    #[serde(default)]
    pub ddl: Option<PathBuf>,
    /// Data directories, applied as the owner, in this order.
    #[serde(default)]
    pub seeds: Vec<PathBuf>,
    #[serde(default)]
    pub postgrest: Postgrest,
    /// The tokens to keep in the `.env` (default: anon and staff, as
    /// `uis jwt mint --write-env`).
    #[serde(default)]
    pub tokens: Option<Vec<Token>>,
    #[serde(default)]
    pub env: Env,
}

/// Booleans and numbers as YAML 1.2's core schema types them (the YAML
/// spec, section 10.3.2): `true`/`false` and plain digits only. A quoted
/// `"2"` or `"true"` is a string and YAML 1.1's `yes`/`on` are strings, so
/// each is a wrong type, as Kubernetes' own YAML reading refuses
/// `replicas: "2"`; serde-saphyr alone would convert them.
mod plain {
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    /// Reads a plain scalar; `want` is said in errors.
    struct Plain {
        want: &'static str,
    }

    /// What a plain scalar was read as.
    enum Scalar {
        Bool(bool),
        Whole(u64),
    }

    impl<'de> Visitor<'de> for Plain {
        type Value = Scalar;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.want)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
            Ok(Scalar::Bool(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
            Ok(Scalar::Whole(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
            u64::try_from(v)
                .map(Scalar::Whole)
                .map_err(|_| E::custom(format!("expected {}, found {v}", self.want)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
            Err(E::custom(format!("expected {}, found {v}", self.want)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
            // A quoted number or boolean, or YAML 1.1's yes/no/on/off.
            let looks = v.parse::<i64>().is_ok()
                || ["true", "false", "yes", "no", "on", "off", "y", "n"]
                    .contains(&v.to_ascii_lowercase().as_str());
            let why = if looks {
                " (quoted, or YAML 1.1's yes/no/on/off, it is a string: write it unquoted, true or false for a boolean)"
            } else {
                ""
            };
            Err(E::custom(format!(
                "expected {}, found the string {v:?}{why}",
                self.want
            )))
        }
    }

    /// `true` or `false`, unquoted.
    pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let want = "true or false";
        match d.deserialize_any(Plain { want })? {
            Scalar::Bool(b) => Ok(Some(b)),
            Scalar::Whole(n) => Err(de::Error::custom(format!("expected {want}, found {n}"))),
        }
    }

    /// A whole number, unquoted, that fits `T`.
    pub fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
        let want = "a whole number";
        match d.deserialize_any(Plain { want })? {
            Scalar::Whole(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| de::Error::custom(format!("expected {want}, {n} is too large"))),
            Scalar::Bool(b) => Err(de::Error::custom(format!("expected {want}, found {b}"))),
        }
    }
}

/// `with_roles` values.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RolePattern {
    Postgrest,
    Readonly,
}

/// `roles:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub authenticator: Option<String>,
    pub anon: Option<String>,
    pub authenticated: Option<String>,
}

/// `postgrest:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Postgrest {
    /// Exposed schemas (default: the recorded ones, else the app's).
    #[serde(default)]
    pub schemas: Vec<String>,
    pub grants: Option<Grants>,
    pub url_prefix: Option<String>,
    /// `--jwt-aud`: the audience tokens must carry.
    pub audience: Option<String>,
    #[serde(default, deserialize_with = "plain::whole")]
    pub replicas: Option<u32>,
    pub image: Option<String>,
    pub cors_origins: Option<Vec<String>>,
    /// Seconds to wait for Available (default 120).
    #[serde(default, deserialize_with = "plain::whole")]
    pub timeout: Option<u64>,
}

/// `postgrest.grants` values.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Grants {
    AnonSelect,
    None,
}

/// One entry of `tokens:`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// The `.env` variable (`POSTGREST_ANON_JWT`).
    pub name: String,
    /// `anon`, `authenticated` (the app's roles of that kind) or a role.
    pub role: String,
    /// Lifetime: `15m`, `12h`, `30d`, `10y` or `never` (default: 10y for
    /// anon, 30d for others).
    pub exp: Option<String>,
    /// Only these capabilities; `[]` for no capabilities claim; left out:
    /// every row of the capabilities table (authenticated role only).
    pub capabilities: Option<Vec<String>>,
}

/// `env:`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Env {
    /// The file (default `.env`, beside `uis.yaml`); `null`: write none.
    #[serde(default = "default_env_path")]
    pub path: Option<PathBuf>,
    /// Variable for the API URL (default POSTGREST_URL; `null`: leave out).
    #[serde(default = "default_url_key")]
    pub url: Option<String>,
    /// Variable for the JWT secret (default JWT_SECRET; `null`: leave out).
    #[serde(default = "default_secret_key")]
    pub jwt_secret: Option<String>,
    /// Variable for the owner's DATABASE_URL on this machine (default: left out).
    #[serde(default)]
    pub database_url: Option<String>,
}

impl Default for Env {
    fn default() -> Self {
        Env {
            path: default_env_path(),
            url: default_url_key(),
            jwt_secret: default_secret_key(),
            database_url: None,
        }
    }
}

fn default_env_path() -> Option<PathBuf> {
    Some(PathBuf::from(".env"))
}
fn default_url_key() -> Option<String> {
    Some("POSTGREST_URL".into())
}
fn default_secret_key() -> Option<String> {
    Some("JWT_SECRET".into())
}

/// Parses `text` (the contents of `file`, named in messages).
///
/// Errors: phase `usage` (exit 2): `FILE:LINE:COLUMN: what`, with the valid
/// keys for an unknown one, the expected type for a wrong one.
pub fn parse(file: &str, text: &str) -> Result<Spec, Failure> {
    let options = serde_saphyr::options! { with_snippet: false, strict_booleans: true };
    if is_blank(text) {
        return Err(Failure::usage(format!(
            "{file}: the file is empty: it needs at least `app: NAME`"
        ))
        .hint("`uis onboard --init` writes a commented uis.yaml"));
    }
    serde_saphyr::from_str_with_options::<Spec>(text, options).map_err(|e| {
        let loc = e.location();
        let at = loc
            .map(|l| format!("{file}:{}:{}", l.line(), l.column()))
            .unwrap_or_else(|| file.to_string());
        let mut msg = expected(&clean_message(&e.to_string()));
        // A type error names the key it is the value of, read from the line.
        if let Some(l) = loc
            && !msg.starts_with("unknown field")
            && !msg.starts_with("missing field")
            && let Some(key) = key_on_line(text, l.line() as usize, l.column() as usize)
        {
            msg = format!("{key}: {msg}");
        }
        let mut f = Failure::usage(format!("{at}: {msg}"));
        if let Some(h) = hint_for(&msg) {
            f = f.hint(h);
        }
        f
    })
}

/// Nothing but blanks, comments and document markers: a file with no
/// keys, which YAML reads as null (said as an empty file, not as the
/// parser's "unexpected end of input").
fn is_blank(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

/// serde-saphyr's message without the location it appends (we put it first,
/// as compilers do), and without its advice to Rust programmers (which
/// option or function to use instead), in the words of a uis.yaml's author.
fn clean_message(m: &str) -> String {
    let m = m.trim();
    let m = match m.rfind(" at line ") {
        Some(i) => &m[..i],
        None => m,
    };
    if let Some(rest) = m.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set ").next().unwrap_or(rest);
        return format!("duplicate key `{key}`: each key may be given once");
    }
    if m.starts_with("multiple YAML documents detected") {
        return "a second YAML document (`---`): uis.yaml holds one document, the app's".into();
    }
    if let Some(rest) = m.strip_prefix("cannot deserialize null into ") {
        let what = rest.split(';').next().unwrap_or(rest).trim();
        return format!(
            "expected {}, found nothing (null)",
            match what {
                "string" => "a string",
                w if w.starts_with('u') || w.starts_with('i') => "a whole number",
                _ => "a value",
            }
        );
    }
    m.to_string()
}

/// serde-saphyr's words for a type mismatch, in the words of the docs.
fn expected(m: &str) -> String {
    let said = match m {
        // Already in these words (the plain scalars' own errors).
        m if m.starts_with("expected a whole number")
            || m.starts_with("expected true or false") =>
        {
            return m.to_string();
        }
        "expected sequence start" => "expected a list, e.g. [a, b]",
        "expected mapping start" => "expected keys and values (key: value)",
        "expected string scalar" => "expected a string",
        m if m.starts_with("invalid u") || m.starts_with("invalid i") => "expected a whole number",
        m if m.contains("bool") => "expected true or false",
        _ => return m.to_string(),
    };
    said.to_string()
}

/// The key whose value starts at `line`:`column` (1-based): the word before
/// the last `:` left of the column, as in `  replicas: two`.
fn key_on_line(text: &str, line: usize, column: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let left: String = l.chars().take(column.saturating_sub(1)).collect();
    let (before, _) = left.rsplit_once(':')?;
    let key = before
        .rsplit(['{', ','])
        .next()?
        .trim()
        .trim_start_matches("- ")
        .trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| key.to_string())
}

fn hint_for(msg: &str) -> Option<String> {
    if msg.contains("missing field `app`") {
        return Some("every uis.yaml names its app first, e.g. `app: railway`; `uis onboard --init` writes a commented one".into());
    }
    if msg.contains("unknown field") || msg.contains("unknown variant") {
        return Some("the keys and values are listed in docs/reference/uis-yaml.md (`uis onboard --init` writes a commented uis.yaml)".into());
    }
    None
}

/// A whole-number key's range check: `postgrest.replicas`, `postgrest.timeout`.
fn in_range(key: &str, v: u64, lo: u64, hi: u64, example: u64) -> Result<(), Failure> {
    if v < lo || v > hi {
        return Err(Failure::usage(format!(
            "{key}: {v} is out of range: expected a whole number from {lo} to {hi}, e.g. {example}"
        )));
    }
    Ok(())
}

/// A value `uis.yaml` declares that breaks its flag's rule: the key it was
/// given under (`postgrest.replicas`, `tokens[0].exp`, `schemas[1]`), to be
/// located in the file by [`locate`], and the rule's failure.
#[derive(Debug)]
pub struct Invalid {
    pub key: String,
    pub failure: Failure,
}

impl Spec {
    /// Checks every value with the rule of the flag it stands for, and
    /// resolves paths against `base` (the directory of `uis.yaml`): `ddl`
    /// and `seeds` must be directories there, `env.path` no directory, and
    /// none may be absolute or climb out of `base` with `..` (a uis.yaml
    /// cloned with an app's code writes only inside that app).
    ///
    /// Errors: the key and a phase `usage` failure (exit 2) naming the key
    /// and the rule.
    pub fn desired(&self, base: &Path) -> Result<Desired, Invalid> {
        let at = |key: &str| {
            let key = key.to_string();
            move |failure: Failure| Invalid { key, failure }
        };
        let named = |key: &str| {
            let key = key.to_string();
            move |f: Failure| Invalid {
                failure: Failure {
                    detail: format!("{key}: {}", f.detail),
                    ..f
                },
                key,
            }
        };
        let usage = |key: &str, m: String| Invalid {
            key: key.to_string(),
            failure: Failure::usage(format!("{key}: {m}")),
        };
        // A list names each item once: a second one is a slip (a token
        // would carry a capability twice), refused where it is.
        let once = |key: &str, items: &[String]| -> Result<(), Invalid> {
            for (i, item) in items.iter().enumerate() {
                if let Some(first) = items[..i].iter().position(|x| x == item) {
                    return Err(usage(
                        &format!("{key}[{i}]"),
                        format!(
                            "{item:?} is given twice (first as {key}[{first}]): name each once"
                        ),
                    ));
                }
            }
            Ok(())
        };
        once("schemas", &self.schemas)?;
        once("extensions", &self.extensions)?;
        once("postgrest.schemas", &self.postgrest.schemas)?;
        once(
            "postgrest.cors_origins",
            self.postgrest.cors_origins.as_deref().unwrap_or_default(),
        )?;
        let seeds: Vec<String> = self.seeds.iter().map(|p| p.display().to_string()).collect();
        once("seeds", &seeds)?;
        for (i, t) in self.tokens.iter().flatten().enumerate() {
            once(
                &format!("tokens[{i}].capabilities"),
                t.capabilities.as_deref().unwrap_or_default(),
            )?;
        }
        validate_app(&self.app).map_err(named("app"))?;
        uis_ops::postgrest::check_app_name(&self.app).map_err(named("app"))?;
        if let Some(d) = &self.database {
            uis_ops::app::validate_uis_name("database", d).map_err(at("database"))?;
        }
        if let Some(o) = &self.owner {
            validate_new_name("owner", o).map_err(at("owner"))?;
        }
        for (i, s) in self.schemas.iter().enumerate() {
            let key = format!("schemas[{i}]");
            validate_new_name(&key, s).map_err(at(&key))?;
        }
        for (i, s) in self.postgrest.schemas.iter().enumerate() {
            let key = format!("postgrest.schemas[{i}]");
            validate_new_name(&key, s).map_err(at(&key))?;
        }
        for (i, e) in self.extensions.iter().enumerate() {
            let key = format!("extensions[{i}]");
            validate_ident(&key, e).map_err(at(&key))?;
        }
        // `uis postgrest deploy`'s rule for the role flags: names it may create.
        for (key, r) in [
            ("roles.authenticator", &self.roles.authenticator),
            ("roles.anon", &self.roles.anon),
            ("roles.authenticated", &self.roles.authenticated),
        ] {
            if let Some(r) = r {
                validate_new_name(key, r).map_err(at(key))?;
            }
        }
        if let Some(n) = self.postgrest.replicas {
            in_range("postgrest.replicas", n.into(), 1, 100, 2)
                .map_err(at("postgrest.replicas"))?;
        }
        if let Some(t) = self.postgrest.timeout {
            in_range("postgrest.timeout", t, 1, 86_400, 120).map_err(at("postgrest.timeout"))?;
        }
        if let Some(p) = &self.postgrest.url_prefix {
            uis_ops::postgrest::check_url_prefix(p)
                .map_err(|m| usage("postgrest.url_prefix", m))?;
        }
        if let Some(a) = &self.postgrest.audience
            && !uis_ops::postgrest::jwt::uri::valid_jwt_aud(a)
        {
            return Err(usage(
                "postgrest.audience",
                format!(
                    "{a:?}: {} (a value with ':' must be an RFC 3986 URI, e.g. https://railway.example or urn:example:api)",
                    uis_ops::postgrest::jwt::uri::MSG_BAD_AUD
                ),
            ));
        }
        if let Some(i) = &self.postgrest.image {
            uis_ops::postgrest::check_image(i).map_err(|m| usage("postgrest.image", m))?;
        }
        for (i, o) in self.postgrest.cors_origins.iter().flatten().enumerate() {
            uis_ops::postgrest::check_cors_origin(o)
                .map_err(|m| usage(&format!("postgrest.cors_origins[{i}]"), m))?;
        }
        let mut names: Vec<&str> = Vec::new();
        let tokens = match &self.tokens {
            Some(t) => t.clone(),
            None => default_tokens(),
        };
        let mut token_specs = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            let key = format!("tokens[{i}]");
            let name_key = format!("{key}.name");
            check_env_key(&name_key, &t.name).map_err(at(&name_key))?;
            if names.contains(&t.name.as_str()) {
                return Err(usage(
                    &name_key,
                    format!(
                        "{} is the name of an earlier token: each token needs its own variable",
                        t.name
                    ),
                ));
            }
            names.push(&t.name);
            let role_key = format!("{key}.role");
            validate_ident(&role_key, &t.role).map_err(at(&role_key))?;
            // Capabilities are claims of the authenticated (staff) role's
            // tokens; declared for anon they would be silently left out.
            if t.role == "anon" && t.capabilities.as_ref().is_some_and(|c| !c.is_empty()) {
                return Err(usage(
                    &format!("{key}.capabilities"),
                    "only tokens of the authenticated role carry capabilities; this one is anon: leave capabilities out".into(),
                ));
            }
            let exp_key = format!("{key}.exp");
            let exp = match &t.exp {
                Some(e) => parse_duration(e).map_err(|m| usage(&exp_key, m))?,
                None if t.role == "anon" => Some(Duration::from_secs(10 * 365 * 86_400)),
                None => Some(Duration::from_secs(30 * 86_400)),
            };
            token_specs.push(TokenSpec {
                name: t.name.clone(),
                role: t.role.clone(),
                exp,
                capabilities: match &t.capabilities {
                    None => onboard::Capabilities::All,
                    Some(c) if c.is_empty() => onboard::Capabilities::Omit,
                    Some(c) => onboard::Capabilities::Only(c.clone()),
                },
            });
        }
        for (key, v) in [
            ("env.url", &self.env.url),
            ("env.jwt_secret", &self.env.jwt_secret),
            ("env.database_url", &self.env.database_url),
        ] {
            if let Some(v) = v {
                check_env_key(key, v).map_err(at(key))?;
                if names.contains(&v.as_str()) {
                    return Err(usage(
                        key,
                        format!(
                            "{v} is also the name of a token: each value needs its own variable"
                        ),
                    ));
                }
                names.push(v);
            }
        }
        if self.env.path.is_none() && !tokens.is_empty() {
            return Err(Invalid {
                key: "env.path".into(),
                failure: Failure::usage(
                    "tokens: tokens are kept in the .env file, and env.path is null",
                )
                .hint("give env.path (default .env), or `tokens: []` for no tokens"),
            });
        }
        let resolve = |key: &str, p: &PathBuf, kind: PathKind| -> Result<PathBuf, Invalid> {
            let full = inside(base, p).map_err(|m| usage(key, m))?;
            let shown = p.display();
            match kind {
                PathKind::Dir if !full.is_dir() => Err(usage(
                    key,
                    if full.exists() {
                        format!("{shown} is a file: give the directory of its *.sql files")
                    } else {
                        format!(
                            "directory {shown} does not exist (paths are relative to the directory of uis.yaml{})",
                            if base == Path::new(".") {
                                String::new()
                            } else {
                                format!(", {}", base.display())
                            }
                        )
                    },
                )),
                PathKind::File if full.is_dir() => Err(usage(
                    key,
                    format!("{shown} is a directory: give the file to write, e.g. .env"),
                )),
                PathKind::File
                    if !full
                        .parent()
                        .is_none_or(|d| d.as_os_str().is_empty() || d.is_dir()) =>
                {
                    Err(usage(
                        key,
                        format!("the directory of {shown} does not exist"),
                    ))
                }
                PathKind::File => match real_location(base, &full) {
                    Some(real) if real.starts_with(real_dir(base)) => Ok(full),
                    Some(real) => Err(usage(
                        key,
                        format!(
                            "{shown} is a link that leads out of the directory of uis.yaml (to {}): the file uis onboard writes must be inside the app's directory; make {shown} a plain file",
                            real.display()
                        ),
                    )),
                    None => Err(usage(
                        key,
                        format!(
                            "{shown} is a link to a file that does not exist: make {shown} a plain file"
                        ),
                    )),
                },
                PathKind::Dir => Ok(full),
            }
        };
        let ddl = match &self.ddl {
            Some(p) => Some(resolve("ddl", p, PathKind::Dir)?),
            None => None,
        };
        let mut seeds = Vec::new();
        // `uis db seed` keeps each directory's ledger under its last name
        // (`db/seeds` is set `seeds`): two with one name would share one
        // ledger, a file of one counted as applied for the other.
        let set = |p: &Path| {
            p.canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        };
        let mut sets: Vec<(String, Option<String>)> =
            vec![("ddl".into(), ddl.as_deref().and_then(set))];
        for (i, p) in self.seeds.iter().enumerate() {
            let key = format!("seeds[{i}]");
            let full = resolve(&key, p, PathKind::Dir)?;
            let name = set(&full);
            if let Some((other, _)) = sets.iter().find(|(_, n)| n.is_some() && *n == name) {
                return Err(usage(
                    &key,
                    format!(
                        "{} has the ledger name {:?} of {other}: `uis db seed` records each directory's files under its last name, so the two would share one ledger; rename one directory",
                        p.display(),
                        name.unwrap_or_default()
                    ),
                ));
            }
            sets.push((key, name));
            seeds.push(full);
        }
        let env_path = match &self.env.path {
            Some(p) => Some(resolve("env.path", p, PathKind::File)?),
            None => None,
        };
        Ok(Desired {
            app: self.app.clone(),
            database: self.database.clone(),
            owner: self.owner.clone(),
            schemas: self.schemas.clone(),
            extensions: self.extensions.clone(),
            postgrest_roles_pattern: self.with_roles.contains(&RolePattern::Postgrest),
            readonly: self.with_roles.contains(&RolePattern::Readonly),
            owner_createrole: self.owner_createrole,
            roles: uis_ops::roles::PostgrestRoles {
                authenticator: self.roles.authenticator.clone(),
                anon: self.roles.anon.clone(),
                authenticated: self.roles.authenticated.clone(),
            },
            ddl,
            seeds,
            postgrest: onboard::PostgrestSpec {
                schemas: self.postgrest.schemas.clone(),
                grants: self.postgrest.grants.map(|g| match g {
                    Grants::AnonSelect => uis_ops::deploy::Grants::AnonSelect,
                    Grants::None => uis_ops::deploy::Grants::None,
                }),
                url_prefix: self.postgrest.url_prefix.clone(),
                jwt_aud: self.postgrest.audience.clone(),
                replicas: self.postgrest.replicas.map(|n| n as i32),
                image: self.postgrest.image.clone(),
                cors_origins: self.postgrest.cors_origins.clone(),
                timeout: Duration::from_secs(self.postgrest.timeout.unwrap_or(120)),
            },
            tokens: token_specs,
            env: onboard::EnvSpec {
                path: env_path,
                url: self.env.url.clone(),
                jwt_secret: self.env.jwt_secret.clone(),
                database_url: self.env.database_url.clone(),
            },
        })
    }
}

/// The canonical directory of uis.yaml (`base` as given when it cannot be
/// resolved).
fn real_dir(base: &Path) -> PathBuf {
    let b = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    b.canonicalize().unwrap_or_else(|_| b.to_path_buf())
}

/// Where writing `full` would really write, links followed (of the file
/// and of the directories on the way): the file's canonical path when it
/// exists, else its directory's canonical path and its name; `None` for a
/// link whose target does not exist.
fn real_location(base: &Path, full: &Path) -> Option<PathBuf> {
    if full.symlink_metadata().is_ok() {
        return full.canonicalize().ok();
    }
    let dir = match full.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
        _ => real_dir(base),
    };
    Some(dir.join(full.file_name()?))
}

/// What a path key names: a directory of `*.sql` files, or a file to write.
#[derive(Clone, Copy)]
enum PathKind {
    Dir,
    File,
}

/// `p` joined to `base`, when it is relative and its `..` never climb out
/// of `base` (read lexically: a symbolic link inside is the user's own).
///
/// Errors: why it is outside.
fn inside(base: &Path, p: &Path) -> Result<PathBuf, String> {
    use std::path::Component;
    if p.as_os_str().is_empty() {
        return Err("an empty path: give one relative to the directory of uis.yaml".into());
    }
    if p.has_root() || p.is_absolute() {
        return Err(format!(
            "{} is absolute: paths in uis.yaml are relative to its directory, so they name the same files on every checkout",
            p.display()
        ));
    }
    let mut depth = 0usize;
    for c in p.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => {
                return Err(format!(
                    "{} leaves the directory of uis.yaml: the app's files live beside it (put uis.yaml at the root that holds them)",
                    p.display()
                ));
            }
        }
    }
    Ok(if base == Path::new(".") {
        p.to_path_buf()
    } else {
        base.join(p)
    })
}

/// Reads `text` (the contents of `file`) into the settings `uis onboard`
/// converges to: [`parse`], then [`Spec::desired`] with `base` the
/// directory of the file, its errors located at the value they are about.
///
/// Errors: phase `usage` (exit 2), `FILE:LINE:COLUMN: KEY: rule` (only
/// `FILE: KEY: ...` for a value left to its default).
pub fn load(file: &str, text: &str, base: &Path) -> Result<(Spec, Desired), Failure> {
    let spec = parse(file, text)?;
    match spec.desired(base) {
        Ok(d) => Ok((spec, d)),
        Err(Invalid { key, failure }) => {
            let at = match locate(text, &key) {
                Some((line, col)) => format!("{file}:{line}:{col}"),
                None => file.to_string(),
            };
            Err(Failure {
                detail: format!("{at}: {}", failure.detail),
                ..failure
            })
        }
    }
}

/// Where the value of `key` (`postgrest.replicas`, `tokens[0].exp`,
/// `schemas[1]`) is in `text`, as (line, column), 1-based; the nearest
/// enclosing value that is there when the key was left out.
pub fn locate(text: &str, key: &str) -> Option<(u64, u64)> {
    let options = serde_saphyr::options! { with_snippet: false, strict_booleans: true };
    let root: Spanned<Tree> = serde_saphyr::from_str_with_options(text, options).ok()?;
    let mut node = &root;
    let mut found = None;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Tree::Map(entries) = &node.value else {
            break;
        };
        let Some((_, v)) = entries.iter().find(|(k, _)| k.as_deref() == Some(name)) else {
            break;
        };
        node = v;
        found = Some(node.referenced);
        if let Some(i) = index {
            let Tree::Seq(items) = &node.value else {
                break;
            };
            let Some(item) = items.get(i) else {
                break;
            };
            node = item;
            found = Some(node.referenced);
        }
    }
    let l = found?;
    (l.line() > 0).then(|| (l.line(), l.column()))
}

/// A YAML document's shape with the place of every value, for [`locate`].
enum Tree {
    Map(Vec<(Option<String>, Spanned<Tree>)>),
    Seq(Vec<Spanned<Tree>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_i128<E>(self, _: i128) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_u128<E>(self, _: u128) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_none<E>(self) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
                Tree::deserialize(d)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = a.next_element::<Spanned<Tree>>()? {
                    items.push(x);
                }
                Ok(Tree::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = a.next_key::<KeyText>()? {
                    entries.push((k.0, a.next_value::<Spanned<Tree>>()?));
                }
                Ok(Tree::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping key: its text when it is a string (any other key is read
/// and dropped).
struct KeyText(Option<String>);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, s: &str) -> Result<KeyText, E> {
                Ok(KeyText(Some(s.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_unit<E>(self) -> Result<KeyText, E> {
                Ok(KeyText(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<KeyText, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(KeyText(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<KeyText, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(KeyText(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The tokens `uis jwt mint --write-env` writes.
pub fn default_tokens() -> Vec<Token> {
    vec![
        Token {
            name: "POSTGREST_ANON_JWT".into(),
            role: "anon".into(),
            exp: None,
            capabilities: None,
        },
        Token {
            name: "POSTGREST_STAFF_JWT".into(),
            role: "authenticated".into(),
            exp: None,
            capabilities: None,
        },
    ]
}

/// A `.env` variable name as every dotenv reader and `sh` take it.
fn check_env_key(key: &str, v: &str) -> Result<(), Failure> {
    let mut chars = v.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{key}: {v:?} is not a variable name: letters, digits and '_', not starting with a digit, e.g. POSTGREST_ANON_JWT"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse("uis.yaml", text).unwrap_err().detail
    }

    #[test]
    fn minimal() {
        let s = parse("uis.yaml", "app: railway\n").unwrap();
        assert_eq!(s.app, "railway");
        assert_eq!(s.env, Env::default());
        let dir = tempfile::tempdir().unwrap();
        let d = s.desired(dir.path()).unwrap();
        assert_eq!(d.tokens.len(), 2);
        assert_eq!(d.env.path, Some(dir.path().join(".env")));
    }

    /// A value's error names the file, the line and column of the value,
    /// the key and the rule; the paths stay inside the app.
    #[test]
    fn values_are_located_where_they_are_declared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let e = |t: &str| load("uis.yaml", t, dir.path()).unwrap_err().detail;
        assert!(
            e("app: r\npostgrest:\n  replicas: 0\n")
                .starts_with("uis.yaml:3:13: postgrest.replicas: 0 is out of range")
        );
        assert!(
            e("app: r\nschemas: [a, 1]\n").starts_with("uis.yaml:2:14: invalid schemas[1] \"1\"")
        );
        assert!(
            e("app: r\ntokens:\n  - {name: A, role: anon}\n  - {name: B, role: anon, exp: 0d}\n")
                .starts_with("uis.yaml:4:32: tokens[1].exp: ")
        );
        assert!(
            e("app: r\nddl: ../x\n").starts_with("uis.yaml:2:6: ddl: ../x leaves the directory")
        );
        assert!(e("app: r\nddl: /etc\n").starts_with("uis.yaml:2:6: ddl: /etc is absolute"));
        assert!(
            e("app: r\nseeds: [db, nope]\n")
                .starts_with("uis.yaml:2:13: seeds[1]: directory nope does not exist")
        );
        assert!(
            e("app: r\nenv: {path: db}\n")
                .starts_with("uis.yaml:2:13: env.path: db is a directory")
        );
        assert!(
            e("app: r\npostgrest: {url_prefix: -api}\n")
                .contains("postgrest.url_prefix: \"-api\" is not a DNS label")
        );
        // An anchor's value, used through an alias in a merge, is found where it is declared.
        assert!(
            e("app: r\ntokens:\n  - &t {name: A, role: anon, exp: 0d}\n  - <<: *t\n    name: B\n")
                .starts_with("uis.yaml:3:")
        );
        // Capabilities on an anon token.
        assert!(
            e("app: r\ntokens:\n  - {name: A, role: anon, capabilities: [a]}\n").starts_with(
                "uis.yaml:3:41: tokens[0].capabilities: only tokens of the authenticated role"
            )
        );
        // A list item given twice.
        assert!(
            e("app: r\ntokens:\n  - {name: A, role: authenticated, capabilities: [a, b, a]}\n")
                .starts_with("uis.yaml:3:57: tokens[0].capabilities[2]: \"a\" is given twice (first as tokens[0].capabilities[0])")
        );
        assert!(
            e("app: r\nschemas: [a, a]\n")
                .starts_with("uis.yaml:2:14: schemas[1]: \"a\" is given twice")
        );
        // Two directories with one last name would share a ledger.
        std::fs::create_dir_all(dir.path().join("a/seeds")).unwrap();
        std::fs::create_dir_all(dir.path().join("b/seeds")).unwrap();
        assert!(e("app: r\nseeds: [a/seeds, b/seeds]\n").starts_with(
            "uis.yaml:2:18: seeds[1]: b/seeds has the ledger name \"seeds\" of seeds[0]"
        ));
        assert!(e("app: r\nddl: db\nseeds: [a/seeds, db/]\n").contains("of ddl"));
        // Tokens left to their default need the .env that is declared null.
        assert!(e("app: r\nenv: {path: null}\n").starts_with("uis.yaml:2:13: tokens: "));
    }

    #[test]
    fn unknown_key_names_line_and_valid_keys() {
        let e = err("app: railway\nschema: [a]\n");
        assert!(e.starts_with("uis.yaml:2:1: "), "{e}");
        assert!(e.contains("unknown field `schema`"), "{e}");
        assert!(
            e.contains("expected one of app, database, owner, schemas,"),
            "{e}"
        );
        let e = err("app: railway\npostgrest:\n  replica: 2\n");
        assert!(e.starts_with("uis.yaml:3:3: "), "{e}");
        assert!(e.contains("replicas"), "{e}");
    }

    #[test]
    fn wrong_type_names_expected() {
        let e = err("app: railway\nschemas: railway\n");
        let e2 = err("app: railway\npostgrest:\n  replicas: two\n");
        assert_eq!(e, "uis.yaml:2:10: schemas: expected a list, e.g. [a, b]");
        assert_eq!(
            e2,
            "uis.yaml:3:13: replicas: expected a whole number, found the string \"two\""
        );
        let e3 = err("app: railway\npostgrest:\n  grants: all\n");
        assert_eq!(
            e3,
            "uis.yaml:3:11: grants: unknown variant `all`, expected one of anon-select, none"
        );
        assert_eq!(err("app: [a]\n"), "uis.yaml:1:6: app: expected a string");
        assert_eq!(
            err("app: r\ntokens:\n  - {name: x}\n"),
            "uis.yaml:3:6: missing field `role`"
        );
        assert_eq!(err("database: x\n"), "uis.yaml:1:1: missing field `app`");
        assert!(err("").contains("the file is empty"));
        assert!(e3.contains("anon-select"), "{e3}");
    }

    #[test]
    fn values_checked_with_flag_rules() {
        let d = |t: &str| {
            parse("uis.yaml", t)
                .unwrap()
                .desired(Path::new("."))
                .unwrap_err()
                .failure
                .detail
        };
        assert!(d("app: Railway\n").starts_with("app: "));
        assert!(
            d("app: r\ntokens:\n  - {name: A, role: anon, exp: 5}\n").contains("tokens[0].exp")
        );
        assert!(d("app: r\npostgrest: {replicas: 0}\n").contains("postgrest.replicas"));
        assert!(
            d("app: r\ntokens:\n  - {name: A, role: anon}\n  - {name: A, role: x}\n")
                .contains("tokens[1].name")
        );
    }

    /// docs/reference/uis-yaml.md documents every key the reader accepts
    /// (the keys as the reader's own unknown-key error lists them).
    #[test]
    fn every_key_is_documented() {
        let doc = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reference/uis-yaml.md"),
        )
        .unwrap();
        for (prefix, yaml) in [
            ("", "app: r\nzzz: 1\n"),
            ("roles.", "app: r\nroles: {zzz: 1}\n"),
            ("postgrest.", "app: r\npostgrest: {zzz: 1}\n"),
            ("tokens[].", "app: r\ntokens: [{zzz: 1}]\n"),
            ("env.", "app: r\nenv: {zzz: 1}\n"),
        ] {
            let e = err(yaml);
            let keys = e.split("expected one of ").nth(1).expect(&e);
            for k in keys.split(", ") {
                // A key, or a mapping whose keys have rows of their own.
                let row = format!("| `{prefix}{k}` |");
                let nested = format!("| `{prefix}{k}.");
                assert!(
                    doc.contains(&row) || doc.contains(&nested),
                    "docs/reference/uis-yaml.md lacks the row {row}"
                );
            }
        }
    }
}
