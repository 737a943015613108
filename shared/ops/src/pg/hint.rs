//! The hint for role and database DDL refused to an app's own role (the
//! owner, or another stored role): such DDL needs the admin (`--as admin`),
//! or, for role DDL on PostgreSQL 16 and newer, an owner given CREATEROLE
//! (`uis db configure APP --owner-createrole`). Used by `uis db psql` and
//! `uis db seed` when they did not run as the admin. Not for the admin's
//! own failures (configure's steps have their own, [`super::provision`]).

use postgres::Client;

/// What was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// CREATE/ALTER/DROP ROLE, GRANT/REVOKE of a role, SET ROLE.
    RoleDdl,
    /// CREATE/ALTER/DROP DATABASE.
    DatabaseDdl,
}

/// Whether an error (SQLSTATE, message, the statement's first line) is
/// role or database DDL refused for lack of privilege (SQLSTATE 42501:
/// `permission denied to create role`, `must have admin option on role`,
/// 14-15's bare `permission denied` for ALTER ROLE, `permission denied to
/// create database`, `must be owner of database`).
pub fn refused(sqlstate: Option<&str>, message: &str, statement: Option<&str>) -> Option<Refused> {
    if sqlstate != Some("42501") {
        return None;
    }
    let m = message.to_ascii_lowercase();
    let words: Vec<String> = statement
        .unwrap_or("")
        .split_whitespace()
        .take(2)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let verb = words.first().map(String::as_str).unwrap_or("");
    let noun = words.get(1).map(String::as_str).unwrap_or("");
    let ddl = matches!(verb, "CREATE" | "ALTER" | "DROP");
    if m.contains("database") || ddl && noun == "DATABASE" {
        Some(Refused::DatabaseDdl)
    } else if m.contains("role")
        || m.contains("admin option")
        || ddl && matches!(noun, "ROLE" | "USER" | "GROUP")
    {
        Some(Refused::RoleDdl)
    } else {
        None
    }
}

/// The hint for `what` (run as `command` without `--as admin`, e.g.
/// `uis db psql railway -f db/01-roles.sql`). `c` (the same session, out of
/// any failed transaction) tells whether the server is 16+ and the role
/// lacks CREATEROLE; without it the flag is named for 16+.
pub fn as_admin(what: Refused, app: &str, command: &str, c: Option<&mut Client>) -> String {
    let admin = format!("add --as admin: `{command} --as admin`");
    if what == Refused::DatabaseDdl {
        return format!("database DDL needs the admin: {admin}");
    }
    let row = c.and_then(|c| {
        c.query_one(
            "select current_setting('server_version_num')::int >= 160000, rolcreaterole
               from pg_roles where rolname = current_user",
            &[],
        )
        .ok()
    });
    let flag = format!("`uis db configure {app} --owner-createrole`");
    match row.map(|r| (r.get::<_, bool>(0), r.get::<_, bool>(1))) {
        // 16+, no CREATEROLE yet: the flag lets the owner run it.
        Some((true, false)) => format!(
            "role DDL needs the admin: {admin}, or give the owner CREATEROLE (PostgreSQL 16+, limited to the roles it creates): {flag}"
        ),
        // Before 16 the flag is refused; with CREATEROLE the role was not its own.
        Some(_) => format!("role DDL needs the admin: {admin}"),
        None => format!(
            "role DDL needs the admin: {admin} (on PostgreSQL 16+ the owner may run it itself after {flag})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_what_was_refused() {
        let r = |s, m, st| refused(Some(s), m, Some(st));
        assert_eq!(
            r("42501", "permission denied to create role", "CREATE ROLE x"),
            Some(Refused::RoleDdl)
        );
        assert_eq!(
            r("42501", "permission denied", "alter role x password 'y'"),
            Some(Refused::RoleDdl)
        );
        assert_eq!(
            r(
                "42501",
                "must have admin option on role \"anon\"",
                "GRANT anon TO a"
            ),
            Some(Refused::RoleDdl)
        );
        assert_eq!(
            r(
                "42501",
                "permission denied to create database",
                "create database d"
            ),
            Some(Refused::DatabaseDdl)
        );
        assert_eq!(
            r("42501", "permission denied for table t", "select 1"),
            None
        );
        assert_eq!(
            r("42P01", "relation \"r\" does not exist", "create role"),
            None
        );
    }
}
