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
    #[serde(default)]
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
    pub replicas: Option<u32>,
    pub image: Option<String>,
    pub cors_origins: Option<Vec<String>>,
    /// Seconds to wait for Available (default 120).
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
    let options = serde_saphyr::options! { with_snippet: false };
    if text.trim().is_empty() {
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

/// serde-saphyr's message without the location it appends (we put it first,
/// as compilers do).
fn clean_message(m: &str) -> String {
    let m = m.trim();
    let m = match m.rfind(" at line ") {
        Some(i) => &m[..i],
        None => m,
    };
    m.to_string()
}

/// serde-saphyr's words for a type mismatch, in the words of the docs.
fn expected(m: &str) -> String {
    let said = match m {
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

impl Spec {
    /// Checks every value with the rule of the flag it stands for, and
    /// resolves paths against `base` (the directory of `uis.yaml`).
    ///
    /// Errors: phase `usage` (exit 2) naming the key and the rule.
    pub fn desired(&self, base: &Path) -> Result<Desired, Failure> {
        let named = |key: &str, f: Failure| Failure {
            detail: format!("{key}: {}", f.detail),
            ..f
        };
        validate_app(&self.app).map_err(|f| named("app", f))?;
        if let Some(d) = &self.database {
            uis_ops::app::validate_uis_name("database", d)?;
        }
        if let Some(o) = &self.owner {
            validate_new_name("owner", o)?;
        }
        for s in self.schemas.iter().chain(&self.postgrest.schemas) {
            validate_new_name("schema", s)?;
        }
        for e in &self.extensions {
            validate_ident("extension", e)?;
        }
        for (key, r) in [
            ("roles.authenticator", &self.roles.authenticator),
            ("roles.anon", &self.roles.anon),
            ("roles.authenticated", &self.roles.authenticated),
        ] {
            if let Some(r) = r {
                validate_ident(key, r)?;
            }
        }
        if let Some(n) = self.postgrest.replicas {
            in_range("postgrest.replicas", n.into(), 1, 100, 2)?;
        }
        if let Some(t) = self.postgrest.timeout {
            in_range("postgrest.timeout", t, 1, 86_400, 120)?;
        }
        let mut names: Vec<&str> = Vec::new();
        let tokens = match &self.tokens {
            Some(t) => t.clone(),
            None => default_tokens(),
        };
        let mut token_specs = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            let key = format!("tokens[{i}]");
            check_env_key(&format!("{key}.name"), &t.name)?;
            if names.contains(&t.name.as_str()) {
                return Err(Failure::usage(format!(
                    "{key}.name: {} is the name of an earlier token: each token needs its own variable",
                    t.name
                )));
            }
            names.push(&t.name);
            validate_ident(&format!("{key}.role"), &t.role)?;
            let exp = match &t.exp {
                Some(e) => {
                    parse_duration(e).map_err(|m| Failure::usage(format!("{key}.exp: {m}")))?
                }
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
                check_env_key(key, v)?;
                if names.contains(&v.as_str()) {
                    return Err(Failure::usage(format!(
                        "{key}: {v} is also the name of a token: each value needs its own variable"
                    )));
                }
                names.push(v);
            }
        }
        if let Some(p) = &self.postgrest.url_prefix
            && (p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        {
            return Err(Failure::usage(format!(
                "postgrest.url_prefix: {p:?}: use lowercase letters, digits and '-', e.g. api-{}",
                self.app
            )));
        }
        let resolve = |p: &PathBuf| {
            if p.is_absolute() || base == Path::new(".") {
                p.clone()
            } else {
                base.join(p)
            }
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
            ddl: self.ddl.as_ref().map(resolve),
            seeds: self.seeds.iter().map(resolve).collect(),
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
                path: self.env.path.as_ref().map(resolve),
                url: self.env.url.clone(),
                jwt_secret: self.env.jwt_secret.clone(),
                database_url: self.env.database_url.clone(),
            },
        })
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
        let d = s.desired(Path::new("/x")).unwrap();
        assert_eq!(d.tokens.len(), 2);
        assert_eq!(d.env.path.as_deref(), Some(Path::new("/x/.env")));
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
        assert_eq!(e2, "uis.yaml:3:13: replicas: expected a whole number");
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
