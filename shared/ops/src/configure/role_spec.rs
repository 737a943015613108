//! `--with-roles FILE.sql`: a role spec (the investigation's B.3
//! `custom-spec.sql`, a file like `db/01-roles.sql`) run as the admin in the
//! app's database, whose LOGIN roles get passwords the suite issues and
//! stores, as it does for the owner (docs/reference/role-specs.md).
//!
//! The rules, in one place:
//! - The file runs at most once per content: the store records its
//!   SHA-256 and the roles it created (`AppRecord::role_specs`). A re-run
//!   with the same content does not run it again; a changed file runs again
//!   (so it must then be re-runnable). It runs in one transaction: a failure
//!   leaves no role of it behind.
//! - Roles the file created (absent before it ran) are the suite's: each
//!   LOGIN one gets a new password (32 of `[A-Za-z0-9]`), stored in the
//!   app's store Secret (`password.<role>`) before it is set; a password
//!   the file wrote itself is replaced (said on stderr). A role that already
//!   has a stored password that logs in keeps it; one whose stored password
//!   no longer logs in gets it set again.
//! - Roles that existed before the file ran are never touched: no password
//!   is set or stored for them, whatever the file did to them.
//! - A SUPERUSER role the file created gets no password: the suite stores
//!   no superuser's credential for an app.

use crate::pg::provision::Step;
use crate::session::Session;
use postgres::Client;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uis_core::Failure;
use uis_core::app::{quote_ident, quote_literal};
use uis_core::error::Phase;
use uis_core::output::{note, warn};
use uis_kube::store::{AppRecord, RoleSpecRecord};

/// A role spec's SQL, as read by the binary.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    /// The path as given (errors and the store name it).
    pub name: String,
    pub sql: String,
}

impl RoleSpec {
    /// The SHA-256 of the SQL, lowercase hex.
    pub fn sha256(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// What happened to one role of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordAction {
    /// A new password, issued and stored (a role the file created).
    Issued,
    /// The stored password logs in: kept.
    Kept,
    /// The stored password no longer logged in: set again.
    SetAgain,
    /// NOLOGIN: no password.
    NoLogin,
    /// A superuser: the suite stores no password for it.
    Superuser,
    /// A name a Secret key cannot hold (`password.<role>` takes only
    /// `[-._a-zA-Z0-9]`): no password issued.
    Unstorable,
}

impl PasswordAction {
    /// As the JSON spells it: `issued`, `kept`, `set_again`, `no_login`,
    /// `superuser`.
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordAction::Issued => "issued",
            PasswordAction::Kept => "kept",
            PasswordAction::SetAgain => "set_again",
            PasswordAction::NoLogin => "no_login",
            PasswordAction::Superuser => "superuser",
            PasswordAction::Unstorable => "unstorable",
        }
    }
}

/// One role of the spec in the report.
#[derive(Debug, Clone, Serialize)]
pub struct SpecRole {
    pub role: String,
    pub password: PasswordAction,
    /// `uis db creds APP --role ROLE`, for a role with a stored password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrieve: Option<String>,
}

/// The `role_spec` object of configure's JSON (no password in it: `uis db
/// creds APP --role ROLE` prints one).
#[derive(Debug, Clone, Serialize)]
pub struct SpecReport {
    pub file: String,
    pub sha256: String,
    /// Whether the file ran this time (false: the same content ran before).
    pub applied: bool,
    /// Every role any applied spec of the app created, in order.
    pub roles: Vec<SpecRole>,
    /// Roles that existed before the file ran and that it named: left as
    /// they are, with no password stored (the file ran this time only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untouched: Vec<String>,
}

/// What [`apply`] did that configure's undo needs.
pub struct Applied {
    pub report: SpecReport,
    /// Roles the file created in this run (dropped when a later step of
    /// the same run fails on the create path).
    pub created_now: Vec<String>,
}

/// Whether `rec` records `spec`'s content as applied.
pub fn already_applied(rec: &AppRecord, spec: &RoleSpec) -> bool {
    let sha = spec.sha256();
    rec.role_specs.iter().any(|s| s.sha256 == sha)
}

/// Runs the spec (unless its content is recorded), then issues, keeps or
/// sets the passwords of the LOGIN roles specs created, storing them first
/// (`store` writes the record). `pg` is the admin's connection to the
/// maintenance database; the file runs in `database`.
///
/// Errors: phase `sql` naming the file, line and SQLSTATE when the file
/// fails (nothing of it stays: one transaction); `store`/`cluster` when the
/// record cannot be written; `sql` when setting a password fails.
pub fn apply(
    session: &mut Session,
    pg: &mut Client,
    database: &str,
    spec: &RoleSpec,
    rec: &mut AppRecord,
    store: &mut dyn FnMut(&mut Session, &AppRecord) -> Result<(), Failure>,
) -> Result<Applied, Failure> {
    let sha = spec.sha256();
    let applied = !already_applied(rec, spec);
    let mut created_now = Vec::new();
    let mut untouched = Vec::new();
    if applied {
        let before = role_names(pg)?;
        run_file(session, database, spec)?;
        let after = role_names(pg)?;
        created_now = after
            .iter()
            .filter(|r| !before.contains(r))
            .cloned()
            .collect();
        // Roles the file named that existed before: ALTER ROLE, GRANT ...
        // (found by name in its text; only reported).
        untouched = before
            .iter()
            .filter(|r| mentions(&spec.sql, r) && !rec.created_roles.contains(r))
            .filter(|r| **r != rec.owner)
            .cloned()
            .collect();
        for r in &created_now {
            if !rec.created_roles.contains(r) {
                rec.created_roles.push(r.clone());
            }
        }
        rec.role_specs.push(RoleSpecRecord {
            file: spec.name.clone(),
            sha256: sha.clone(),
            roles: created_now.clone(),
        });
        note(format!(
            "uis: ran --with-roles {} as the admin in {database} (one transaction); it created {}",
            spec.name,
            if created_now.is_empty() {
                "no role".to_string()
            } else {
                created_now.join(", ")
            }
        ));
    }

    // Every role any spec of the app created, once, in order.
    let mut spec_roles: Vec<String> = Vec::new();
    for s in &rec.role_specs {
        for r in &s.roles {
            if !spec_roles.contains(r) {
                spec_roles.push(r.clone());
            }
        }
    }
    let mut roles = Vec::new();
    let mut steps = Vec::new();
    for role in &spec_roles {
        let Some(info) = crate::pg::provision::role(pg, role)? else {
            warn(format!(
                "role {role} (created by a --with-roles file) no longer exists; its stored password is kept until `uis db configure {} --purge`",
                rec.app
            ));
            continue;
        };
        let action = if info.superuser {
            rec.passwords.remove(role);
            warn(format!(
                "role {role} (created by --with-roles {}) is a SUPERUSER: the suite stores no password for it",
                spec.name
            ));
            PasswordAction::Superuser
        } else if !info.login {
            PasswordAction::NoLogin
        } else if !role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            warn(format!(
                "role {role:?} (created by --with-roles {}) gets no stored password: a Secret key (password.<role>) takes only letters, digits, '-', '.' and '_'; rename the role, or set its password yourself",
                spec.name
            ));
            PasswordAction::Unstorable
        } else {
            match rec.passwords.get(role).cloned() {
                // Checked against the maintenance database, as for the owner
                // (`roles::reconcile_password`): CONNECT on the app's database
                // is the file's to grant.
                Some(pw) if session.login_works(role, &pw, "postgres") => PasswordAction::Kept,
                // A line break is never set on a role (issue 20): a new
                // password in its place.
                Some(pw) if !crate::roles::settable(&pw) => {
                    warn(format!(
                        "the stored password of role {role} (Secret key password.{role}) no longer worked and holds a line break, which is never set on a role; it gets a new one, now stored"
                    ));
                    let pw = uis_core::secret::password();
                    steps.push(set_password(role, &pw));
                    rec.passwords.insert(role.clone(), pw);
                    PasswordAction::Issued
                }
                Some(pw) => {
                    warn(format!(
                        "the stored password of role {role} no longer worked; it is set again"
                    ));
                    steps.push(set_password(role, &pw));
                    PasswordAction::SetAgain
                }
                None => {
                    if created_now.contains(role) {
                        match crate::roles::password_authority(pg, role, false)? {
                            crate::roles::PasswordAuthority::Foreign => warn(format!(
                                "--with-roles {} gave role {role} a password of its own; the suite replaces it with an issued one, stored (`uis db creds {} --role {role}`): keep passwords out of SQL files",
                                spec.name, rec.app
                            )),
                            // An admin that is no superuser (managed
                            // services, UIS's proxied topology) cannot read
                            // pg_authid: the replacement is said all the
                            // same, never done silently.
                            crate::roles::PasswordAuthority::Unknown => warn(format!(
                                "--with-roles {} created role {role}; the admin is not a superuser, so it cannot read whether the file gave it a password of its own (pg_authid): if it did, the suite replaces it with an issued one, stored (`uis db creds {} --role {role}`): keep passwords out of SQL files",
                                spec.name, rec.app
                            )),
                            _ => {}
                        }
                    }
                    let pw = uis_core::secret::password();
                    steps.push(set_password(role, &pw));
                    rec.passwords.insert(role.clone(), pw);
                    PasswordAction::Issued
                }
            }
        };
        let stored = matches!(
            action,
            PasswordAction::Issued | PasswordAction::Kept | PasswordAction::SetAgain
        );
        roles.push(SpecRole {
            role: role.clone(),
            password: action,
            retrieve: stored.then(|| format!("uis db creds {} --role {role}", rec.app)),
        });
    }
    // Stored before set: a failure never loses a password.
    if applied || !steps.is_empty() {
        store(session, rec)?;
    }
    let mut none = |_: &str| -> Result<Client, Failure> {
        Err(Failure::new(Phase::Internal, "no app database step here"))
    };
    crate::pg::provision::run(&steps, pg, &mut none)?;
    for s in &steps {
        note(format!("uis: {}", s.shown));
    }
    Ok(Applied {
        report: SpecReport {
            file: spec.name.clone(),
            sha256: sha,
            applied,
            roles,
            untouched,
        },
        created_now,
    })
}

/// `ALTER ROLE r PASSWORD '<verifier>'` (the SCRAM verifier, never the
/// password, reaches the server), shown masked.
fn set_password(role: &str, password: &str) -> Step {
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    Step {
        database: None,
        sql: format!(
            "ALTER ROLE {} PASSWORD {}",
            quote_ident(role),
            quote_literal(&verifier)
        ),
        shown: format!("ALTER ROLE {} PASSWORD '***'", quote_ident(role)),
    }
}

/// Every role name, in byte order (whatever the database's collation).
fn role_names(pg: &mut Client) -> Result<Vec<String>, Failure> {
    let mut names: Vec<String> = pg
        .query("select rolname::text from pg_roles", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    names.sort();
    Ok(names)
}

/// Whether `sql` names `role` as a word (bare or quoted), case-insensitive
/// for a lowercase name as PostgreSQL folds it.
fn mentions(sql: &str, role: &str) -> bool {
    if role.starts_with("pg_") {
        return false;
    }
    let quoted = format!("\"{}\"", role.replace('"', "\"\""));
    if sql.contains(&quoted) {
        return true;
    }
    if role.chars().any(|c| c.is_ascii_uppercase()) {
        return false;
    }
    let lower = sql.to_ascii_lowercase();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    lower.match_indices(role).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + role.len()..].chars().next();
        // `"Big_One"` is not `big_one`: a quoted name matched above.
        !before.is_some_and(|c| word(c) || c == '"') && !after.is_some_and(word)
    })
}

/// Runs the file as the admin in `database`, in one transaction, stopping
/// at the first error; its output goes to stderr (stdout is the JSON).
fn run_file(session: &mut Session, database: &str, spec: &RoleSpec) -> Result<(), Failure> {
    let admin = session.admin()?;
    let login = crate::pg::Login {
        user: admin.user,
        password: admin.password,
        database: database.to_string(),
    };
    let ep = session.endpoint()?;
    let config = crate::pg::config(&ep, &login, super::APPLICATION);
    let client = session.connect_config(&config, &login)?;
    let mut runner = uis_script::Runner::new(
        client,
        Box::new(uis_script::PgConnector::new(config)),
        uis_script::Options {
            single_transaction: true,
            ..uis_script::Options::default()
        },
    );
    let mut out = std::io::stderr();
    let mut err = std::io::stderr();
    runner
        .run(
            vec![uis_script::Source::Reader {
                name: spec.name.clone(),
                reader: Box::new(std::io::Cursor::new(spec.sql.clone().into_bytes())),
            }],
            &mut out,
            &mut err,
        )
        .map(|_| ())
        .map_err(|e| {
            Failure::new(
                Phase::Sql,
                format!(
                    "--with-roles {}: {e}; nothing of it was applied (it runs in one transaction)",
                    spec.name
                ),
            )
            .hint(
                "fix the file and run the same command again; a file that ran before and changed runs again, so make it re-runnable (CREATE ROLE inside DO blocks that check pg_roles)",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_sql() {
        let sql = "CREATE ROLE anon NOLOGIN;\nGRANT anon TO authenticator;\nALTER ROLE \"Big_One\" LOGIN;";
        assert!(mentions(sql, "anon"));
        assert!(mentions(sql, "authenticator"));
        assert!(mentions(sql, "Big_One"));
        assert!(!mentions(sql, "big_one"));
        assert!(!mentions(sql, "auth"));
        assert!(!mentions(sql, "nologin_x"));
        assert!(!mentions(sql, "pg_read_all_data"));
        assert_eq!(
            RoleSpec {
                name: "x".into(),
                sql: "abc".into()
            }
            .sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
