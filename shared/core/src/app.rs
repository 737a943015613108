//! App names and the SQL identifiers derived from them, and SQL quoting.
//!
//! An app name is what a user types (`railway`, `my-shop`); the SQL names
//! derive from it with `-` turned into `_`, and every identifier the suite
//! sends is quoted with [`quote_ident`]; every value is a parameter or goes
//! through [`quote_literal`]. Nothing is spliced raw.

use crate::error::Failure;

/// The rule every app name must follow, as shown in errors.
pub const APP_RULE: &str = "^[a-z][a-z0-9-]{0,40}$";

/// Checks an app name against [`APP_RULE`]; the error (exit 2) names the
/// field, the rule and a valid example.
///
/// Errors: phase `usage` (exit 2).
pub fn validate_app(name: &str) -> Result<(), Failure> {
    let ok = fits(
        name,
        41,
        |c| c.is_ascii_lowercase(),
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    );
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "invalid APP {:?}: app names must match {APP_RULE} (lowercase letter first, then lowercase letters, digits or '-', at most 41 characters), e.g. `railway` or `my-shop`",
            name
        )))
    }
}

/// The rule for an app that exists already, made by `./uis configure
/// postgresql` (whose app and database names are `[A-Za-z0-9_-]+`, always
/// quoted) or by the suite, as shown in errors. Every command takes such a
/// name; [`APP_RULE`] stays the rule for an app the suite creates
/// (`uis db configure` of a new app), so the SQL and Kubernetes names it
/// derives never need quoting or mapping. Documented in
/// docs/reference/names.md.
pub const EXISTING_APP_RULE: &str = "^[A-Za-z0-9_-]{1,63}$";

/// Checks an app name against [`EXISTING_APP_RULE`] (and that it holds a
/// letter or digit, so [`kube_name`] is not empty): the check of every
/// command before it looks the app up. The error (exit 2) names both
/// rules and a valid example.
///
/// Errors: phase `usage` (exit 2).
pub fn validate_existing_app(name: &str) -> Result<(), Failure> {
    let ok = fits(
        name,
        63,
        |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
        |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
    ) && name.chars().any(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "invalid APP {:?}: app names must match {EXISTING_APP_RULE} with a letter or digit (an app `./uis configure postgresql` made, such as `Atlas_T`), and {APP_RULE} for an app the suite creates, e.g. `railway` or `my-shop`",
            name
        )))
    }
}

/// The form of an app name in Kubernetes object names and label values
/// (DNS-1123: lowercase letters, digits and '-', starting and ending with
/// a letter or digit): lowercase, `_` as `-`, leading and trailing `-`
/// dropped. `railway` -> `railway`, `Atlas_T` -> `atlas-t`. The identity
/// for every [`APP_RULE`] name. Two apps may map to the same form
/// (`Atlas_T` and `atlas-t`); the credential store refuses the second
/// (`uis_kube::store::read`), since it records the app's own name.
///
/// Used for the store Secret `uis-db-<kube_name>`, PostgREST's
/// `<kube_name>-postgrest` objects, the default URL prefix
/// `api-<kube_name>` and the `app.kubernetes.io/instance` label.
pub fn kube_name(app: &str) -> String {
    app.to_ascii_lowercase()
        .replace('_', "-")
        .trim_matches('-')
        .to_string()
}

/// Whether `s` is 1 to `max` bytes, starts with a character `first`
/// accepts and holds only characters `rest` accepts: the shape of every
/// name rule here.
pub fn fits(
    s: &str,
    max: usize,
    first: impl Fn(char) -> bool,
    rest: impl Fn(char) -> bool,
) -> bool {
    s.len() <= max && s.chars().next().is_some_and(first) && s.chars().all(rest)
}

/// The SQL name of an app: `my-shop` -> `my_shop`.
pub fn sql_name(app: &str) -> String {
    app.replace('-', "_")
}

/// The rule for every name the suite creates or writes into PostgREST's
/// settings (roles, databases, schemas), as shown in errors.
pub const NAME_RULE: &str = "^[a-z_][a-z0-9_]{0,62}$";

/// Checks a name the suite will create (a role, database or schema) against
/// [`NAME_RULE`]: such a name never needs quoting, so it stays the same in
/// SQL, URLs, `.pgpass`, JDBC strings, JWT `role` claims and PostgREST's
/// comma-separated settings. The error (exit 2) names the flag and the rule.
///
/// Errors: phase `usage` (exit 2).
pub fn validate_new_name(field: &str, name: &str) -> Result<(), Failure> {
    let ok = fits(
        name,
        63,
        |c| c.is_ascii_lowercase() || c == '_',
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
    );
    if ok {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "invalid {field} {name:?}: names the suite creates must match {NAME_RULE} (lowercase letters, digits and '_', at most 63), so they never need quoting, e.g. `{}`",
        suggest_name(name)
    )))
}

/// The rule of UIS's `./uis configure postgresql` for database names, as
/// shown in errors: an existing database of that shape (`atlas-t`) is used
/// as it is, always quoted; a database the suite creates follows
/// [`NAME_RULE`].
pub const UIS_NAME_RULE: &str = "^[A-Za-z0-9_-]{1,63}$";

/// Checks a name that may name an existing object UIS made (a database)
/// against [`UIS_NAME_RULE`].
///
/// Errors: phase `usage` (exit 2).
pub fn validate_uis_name(field: &str, name: &str) -> Result<(), Failure> {
    let ok = fits(
        name,
        63,
        |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
        |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
    );
    if ok {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "invalid {field} {name:?}: names must match {UIS_NAME_RULE} (an existing database UIS made, such as `atlas-t`), and {NAME_RULE} for one the suite creates, e.g. `{}`",
        suggest_name(name)
    )))
}

/// A valid name close to `name`, for error messages.
fn suggest_name(name: &str) -> String {
    let mut s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        s.insert(0, '_');
    }
    s.truncate(63);
    if s.trim_matches('_').is_empty() {
        "railway_owner".into()
    } else {
        s
    }
}

/// Checks a name that refers to something that already exists (a role to
/// log in as, an extension): 1-63 bytes, no control character. Any other
/// character is fine because every identifier is quoted.
///
/// Errors: phase `usage` (exit 2).
pub fn validate_ident(field: &str, name: &str) -> Result<(), Failure> {
    if name.is_empty() || name.len() > 63 || name.chars().any(char::is_control) {
        return Err(Failure::usage(format!(
            "invalid {field} {name:?}: must be 1-63 bytes with no control character, e.g. `railway`"
        )));
    }
    Ok(())
}

/// Checks the prefix of a Kubernetes object name (a DNS subdomain): lowercase
/// letters, digits, '-' and '.', starting with a letter or digit, at most 200.
///
/// Errors: phase `usage` (exit 2).
pub fn validate_object_prefix(field: &str, prefix: &str) -> Result<(), Failure> {
    let ok = fits(
        prefix,
        200,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.',
    );
    if ok {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "invalid {field} {prefix:?}: Kubernetes object names take lowercase letters, digits, '-' and '.', starting with a letter or digit, e.g. `railway`"
    )))
}

/// `"name"` with embedded quotes doubled (libpq's `PQescapeIdentifier`,
/// through `postgres_protocol::escape`).
pub fn quote_ident(name: &str) -> String {
    postgres_protocol::escape::escape_identifier(name)
}

/// `'value'` with embedded quotes doubled; backslashes are made safe with the
/// `E''` form, so the result is correct whatever
/// `standard_conforming_strings` is (libpq's `PQescapeLiteral`, through
/// `postgres_protocol::escape`, without the space it puts before `E`: the
/// suite's SQL always has one there already).
pub fn quote_literal(value: &str) -> String {
    let quoted = postgres_protocol::escape::escape_literal(value);
    quoted.trim_start().to_string()
}

/// `HOST:PORT` split, with a usage error naming `field` when malformed.
///
/// Errors: phase `usage` (exit 2) naming `field`.
pub fn parse_host_port(field: &str, value: &str) -> Result<(String, u16), Failure> {
    let bad = || {
        Failure::usage(format!(
            "invalid {field} {value:?}: expected HOST:PORT, e.g. localhost:35432"
        ))
    };
    let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    Ok((host.to_string(), port))
}

/// The labels every Kubernetes object the suite writes carries
/// (docs/reference/credential-store.md): `app.kubernetes.io/managed-by: uis` and
/// `app.kubernetes.io/instance: <app>` (the app's [`kube_name`]: a label
/// value takes no `_` at either end).
pub fn uis_labels(app: &str) -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_string(),
            "uis".to_string(),
        ),
        ("app.kubernetes.io/instance".to_string(), kube_name(app)),
    ])
}

/// The kinds of role the suite names for an app. The store keeps role names
/// by [`RoleKind::as_str`] (`authenticator`, `anon`, `authenticated`,
/// `readonly`); `owner` is the app's owner role (see `AppRecord::owner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleKind {
    /// The app's owner (LOGIN): owns the database and schemas.
    Owner,
    /// PostgREST's login role (LOGIN NOINHERIT).
    Authenticator,
    /// PostgREST's role for requests without a token (NOLOGIN).
    Anon,
    /// PostgREST's role for requests with a token (NOLOGIN).
    Authenticated,
    /// A LOGIN role with SELECT on the app's schemas.
    Readonly,
}

impl RoleKind {
    /// The three PostgREST roles, in the order of their flags.
    pub const POSTGREST: [RoleKind; 3] = [
        RoleKind::Authenticator,
        RoleKind::Anon,
        RoleKind::Authenticated,
    ];

    /// The kind's name, as the credential store, the JSON outputs and
    /// `--role` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Owner => "owner",
            RoleKind::Authenticator => "authenticator",
            RoleKind::Anon => "anon",
            RoleKind::Authenticated => "authenticated",
            RoleKind::Readonly => "readonly",
        }
    }
}

impl std::fmt::Display for RoleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for ok in ["railway", "a", "my-shop", "a1-2", &"a".repeat(41)] {
            assert!(validate_app(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Railway",
            "my shop",
            "a;b",
            "a'b",
            "../x",
            "1abc",
            "-a",
            &"a".repeat(42),
            &"a".repeat(64),
            "é",
        ] {
            let e = validate_app(bad).unwrap_err();
            assert_eq!(e.code, 2);
            assert!(e.detail.contains(APP_RULE), "{}", e.detail);
        }
    }

    #[test]
    fn existing_app_names_and_their_kubernetes_form() {
        for (app, kube) in [
            ("railway", "railway"),
            ("my-shop", "my-shop"),
            ("Atlas_T", "atlas-t"),
            ("atlas-t", "atlas-t"),
            ("_x_", "x"),
            ("1app", "1app"),
            (&"A".repeat(63), &"a".repeat(63)),
        ] {
            assert!(validate_existing_app(app).is_ok(), "{app}");
            assert_eq!(kube_name(app), kube, "{app}");
            assert!(
                validate_object_prefix("k", &kube_name(app)).is_ok(),
                "{app}"
            );
        }
        for bad in ["", "-", "_-_", "a b", "a.b", "a\"b", "ø", &"a".repeat(64)] {
            let e = validate_existing_app(bad).unwrap_err();
            assert_eq!(e.code, 2);
            assert!(e.detail.contains(EXISTING_APP_RULE), "{}", e.detail);
            assert!(e.detail.contains(APP_RULE), "{}", e.detail);
        }
        assert_eq!(
            uis_labels("Atlas_T")["app.kubernetes.io/instance"],
            "atlas-t"
        );
    }

    #[test]
    fn new_names() {
        for ok in ["railway", "_x", "a1_2", &"a".repeat(63)] {
            assert!(validate_new_name("--owner", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Bad",
            "a b",
            "a\"b",
            "a;b",
            "..",
            "a\u{1}",
            "æøå",
            "1a",
            "a-b",
            &"a".repeat(64),
        ] {
            let e = validate_new_name("--owner", bad).unwrap_err();
            assert_eq!(e.code, 2);
            assert!(e.detail.contains(NAME_RULE), "{}", e.detail);
            let suggested = e.detail.rsplit('`').nth(1).unwrap();
            assert!(validate_new_name("x", suggested).is_ok(), "{suggested}");
        }
        for ok in ["atlas-t", "Atlas_T", "a", "1-x"] {
            assert!(validate_uis_name("--database", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a.b", "a\"b", &"a".repeat(64)] {
            assert!(validate_uis_name("--database", bad).is_err(), "{bad}");
        }
        assert!(validate_ident("--as", "Staff Member").is_ok());
        assert!(validate_ident("--as", "a\nb").is_err());
        assert!(validate_object_prefix("p", "railway").is_ok());
        assert!(validate_object_prefix("p", "A B").is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(sql_name("my-shop"), "my_shop");
    }
}
