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
pub fn validate_app(name: &str) -> Result<(), Failure> {
    let ok = name.len() <= 41
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "invalid APP {:?}: app names must match {APP_RULE} (lowercase letter first, then lowercase letters, digits or '-', at most 41 characters), e.g. `railway` or `my-shop`",
            name
        )))
    }
}

/// The SQL name of an app: `my-shop` -> `my_shop`.
pub fn sql_name(app: &str) -> String {
    app.replace('-', "_")
}

/// Checks a role, database or schema name the user gave: 1-63 bytes, no NUL.
/// Any other character is fine because every identifier is quoted.
pub fn validate_ident(field: &str, name: &str) -> Result<(), Failure> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        return Err(Failure::usage(format!(
            "invalid {field} {name:?}: must be 1-63 bytes with no NUL character, e.g. `railway`"
        )));
    }
    Ok(())
}

/// `"name"` with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'value'` with embedded quotes doubled; backslashes are made safe with the
/// `E''` form, so the result is correct whatever
/// `standard_conforming_strings` is.
pub fn quote_literal(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", value.replace('\'', "''"))
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
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(sql_name("my-shop"), "my_shop");
    }
}
