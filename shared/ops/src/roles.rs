//! The app's roles as the operations see them: PostgREST's three role
//! names as asked for ([`PostgrestRoles`]), the one password reconciliation
//! configure and deploy share ([`reconcile_password`]), and the one
//! shared-role check (roles are cluster-wide: one app's role names may be
//! another app's) that configure, deploy and doctor make ([`shared_with`]),
//! and the one rule that PostgREST's roles are never privileged
//! ([`privileged`], used by deploy to refuse and by doctor to fail), with
//! the rule for whose password the suite may set ([`password_authority`]).

use crate::session::Session;
use postgres::Client;
use uis_core::Failure;
use uis_core::app::{RoleKind, quote_ident};
use uis_core::error::Phase;
use uis_kube::store::AppRecord;

/// PostgREST's role names as asked for (`--authenticator`, `--anon-role`,
/// `--authenticated-role`); `None` takes the app's stored name, else the
/// default (`uis_kube::store::pick_role`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostgrestRoles {
    pub authenticator: Option<String>,
    pub anon: Option<String>,
    pub authenticated: Option<String>,
}

impl PostgrestRoles {
    /// The names by kind, in [`RoleKind::POSTGREST`] order.
    pub fn by_kind(&self) -> [(RoleKind, &Option<String>); 3] {
        [
            (RoleKind::Authenticator, &self.authenticator),
            (RoleKind::Anon, &self.anon),
            (RoleKind::Authenticated, &self.authenticated),
        ]
    }

    /// Whether any name was given.
    pub fn any(&self) -> bool {
        self.by_kind().iter().any(|(_, f)| f.is_some())
    }

    /// Each given name follows `uis_core::app::NAME_RULE`.
    ///
    /// Errors: phase `usage` (exit 2), naming the flag
    /// (`--authenticator`, `--anon-role`, `--authenticated-role`).
    pub fn validate(&self) -> Result<(), Failure> {
        for (flag, value) in [
            ("--authenticator", &self.authenticator),
            ("--anon-role", &self.anon),
            ("--authenticated-role", &self.authenticated),
        ] {
            if let Some(v) = value {
                uis_core::app::validate_new_name(flag, v)?;
            }
        }
        Ok(())
    }
}

/// Why [`reconcile_password`] issued or set a password, for the caller's
/// warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordFinding {
    /// The stored password no longer logs in: it is set again.
    StoredNoLongerWorked,
    /// The role existed without a stored password: a new one is issued.
    IssuedForExistingRole,
    /// The stored password no longer logs in and holds a line break or
    /// another control character ([`settable`]), which is never set on a
    /// role: a new one is issued and stored in its place.
    StoredUnsettable,
}

/// Whether `password` may be set on a role: no line break or other
/// control character (the outputs could not carry it on one line, and
/// `~/.pgpass` cannot hold it at all; issue 20).
pub fn settable(password: &str) -> bool {
    !password.chars().any(char::is_control)
}

/// A LOGIN role's password after [`reconcile_password`].
#[derive(Debug, Clone)]
pub struct Password {
    /// The password to store (the stored one, or a new one).
    pub password: String,
    /// Whether the plan must set it (`ALTER ROLE .. PASSWORD`) on the
    /// existing role; a role that does not exist gets it on CREATE.
    pub set: bool,
    /// What the caller should warn about, if anything.
    pub finding: Option<PasswordFinding>,
}

/// The one password rule of configure and deploy: a stored password is
/// kept; a missing one is issued (`uis_core::secret::password`); `rotate`
/// issues a new one; a stored password that no longer logs in (tried
/// against `check_database`) is set again, unless it holds a line break
/// ([`settable`]): then a new one is issued. Passwords are stored before they
/// are set (the caller writes the store before running the plan), so a
/// failure never loses one.
///
/// Errors: the catalog query's failure (phase `sql`, or a lost connection).
pub fn reconcile_password(
    session: &mut Session,
    pg: &mut Client,
    role: &str,
    stored: Option<&str>,
    rotate: bool,
    check_database: &str,
) -> Result<Password, Failure> {
    let exists = crate::pg::provision::role(pg, role)?.is_some();
    match stored {
        Some(pw) if !rotate => {
            let works = !exists || session.login_works(role, pw, check_database);
            if !works && !settable(pw) {
                return Ok(Password {
                    password: uis_core::secret::password(),
                    set: true,
                    finding: Some(PasswordFinding::StoredUnsettable),
                });
            }
            Ok(Password {
                password: pw.to_string(),
                set: !works,
                finding: (!works).then_some(PasswordFinding::StoredNoLongerWorked),
            })
        }
        _ => Ok(Password {
            password: uis_core::secret::password(),
            set: exists,
            finding: (exists && !rotate).then_some(PasswordFinding::IssuedForExistingRole),
        }),
    }
}

/// A role of this app that another app's record names too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRole {
    /// The role name.
    pub role: String,
    /// The other app.
    pub other_app: String,
    /// Whether the other app names it as its owner only (not among its
    /// PostgREST or readonly roles).
    pub as_owner: bool,
}

/// For each other app (in `others`' order) and each of `roles` (in order),
/// the role when that app's record names it: among its kinds' roles, or as
/// its owner (`as_owner`). Records of `app` itself are skipped. Pure: the
/// caller reads the records (`uis_kube::store::read_all`) and words the
/// warning.
pub fn shared_with(others: &[AppRecord], app: &str, roles: &[&str]) -> Vec<SharedRole> {
    let mut found = Vec::new();
    for other in others.iter().filter(|o| o.app != app) {
        for role in roles {
            let in_roles = other.roles.values().any(|r| r == role);
            if in_roles || other.owner == *role {
                found.push(SharedRole {
                    role: role.to_string(),
                    other_app: other.app.clone(),
                    as_owner: !in_roles,
                });
            }
        }
    }
    found
}

/// Why a role may not serve PostgREST (docs/security.md, "API roles").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivilegeRule {
    /// `rolsuper`: every request would run as the superuser.
    Superuser,
    /// The app's owner: owns the tables, so row-level security is skipped.
    AppOwner,
    /// The owner of the app's database.
    DatabaseOwner,
    /// BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION.
    Attribute(&'static str),
    /// Owns the schema or objects in an exposed schema (owners bypass RLS
    /// and may alter or drop what they own): one example and how many.
    ObjectOwner { example: String, count: i64 },
    /// A predefined role that bypasses grants or reaches the server's
    /// files (`pg_read_all_data`, `pg_write_all_data`, ...).
    Predefined,
}

/// The predefined roles that count as privileged: they read or write every
/// table whatever the grants, or read, write or run files on the server.
pub const PRIVILEGED_PREDEFINED: [&str; 5] = [
    "pg_read_all_data",
    "pg_write_all_data",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
];

impl PrivilegeRule {
    /// The rule's short name, as refusals and doctor print it.
    pub fn name(&self) -> &'static str {
        match self {
            PrivilegeRule::Superuser => "superuser",
            PrivilegeRule::AppOwner => "app owner",
            PrivilegeRule::DatabaseOwner => "database owner",
            PrivilegeRule::Attribute(a) => a,
            PrivilegeRule::ObjectOwner { .. } => "object owner",
            PrivilegeRule::Predefined => "predefined role",
        }
    }
}

/// One way an API role is privileged: `path` runs from the API role to the
/// role that holds the privilege (`path.len() == 1`: the role itself; else
/// through memberships, each role a member of the next).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privileged {
    pub path: Vec<String>,
    pub rule: PrivilegeRule,
}

impl Privileged {
    /// The API role.
    pub fn role(&self) -> &str {
        &self.path[0]
    }

    /// The role that holds the privilege.
    pub fn holder(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or_default()
    }

    /// What is wrong, in a sentence without the flag.
    pub fn describe(&self) -> String {
        let holder = self.holder();
        let what = match &self.rule {
            PrivilegeRule::Superuser => format!("{holder} is a superuser"),
            PrivilegeRule::AppOwner => {
                format!("{holder} is the app's owner (owners bypass row-level security)")
            }
            PrivilegeRule::DatabaseOwner => format!("{holder} owns the app's database"),
            PrivilegeRule::Attribute(a) => format!("{holder} has {a}"),
            PrivilegeRule::ObjectOwner { example, count } => format!(
                "{holder} owns {example}{} in the exposed schemas (owners bypass row-level security)",
                if *count > 1 {
                    format!(" and {} more object(s)", count - 1)
                } else {
                    String::new()
                }
            ),
            PrivilegeRule::Predefined => format!(
                "{holder} is a predefined role that bypasses grants or reaches the server's files"
            ),
        };
        if self.path.len() == 1 {
            format!("role {what}")
        } else {
            format!(
                "role {} is a member of {holder} ({}), and {what}",
                self.role(),
                self.path.join(" -> ")
            )
        }
    }

    /// The fix: cut the membership that reaches the privilege (the last
    /// grant on the path), else take the privilege away or use another role.
    pub fn fix(&self, flag: &str, app: &str) -> String {
        let n = self.path.len();
        if n > 1 {
            return format!(
                "REVOKE {} FROM {};  (as admin: `uis db psql {app} --as admin -c '...'`), or name another role with {flag}",
                quote_ident(&self.path[n - 1]),
                quote_ident(&self.path[n - 2])
            );
        }
        let role = quote_ident(self.holder());
        let other = format!(
            "name a role of its own with {flag}, or leave {flag} out for the suite's default (a NOLOGIN role it creates)"
        );
        match &self.rule {
            PrivilegeRule::Attribute(a) => format!("ALTER ROLE {role} NO{a};  or {other}"),
            PrivilegeRule::ObjectOwner { .. } => format!(
                "give its objects to the app's owner (`REASSIGN OWNED BY {role} TO <owner>` in the app's database), or {other}"
            ),
            _ => other,
        }
    }

    /// The refusal configure and deploy give for this finding on the API
    /// role named with `flag` (`--anon-role`, `--authenticated-role`,
    /// `--authenticator`) for `app`: phase `role`, the rule, what is wrong
    /// and [`Privileged::fix`] as the hint.
    pub fn refusal(&self, flag: &str, app: &str) -> Failure {
        Failure::new(
            Phase::Role,
            format!(
                "{flag} {}: refused, PostgREST's roles are never privileged ({} rule): {}; every request would run with that privilege (nothing was changed)",
                self.role(),
                self.rule.name(),
                self.describe()
            ),
        )
        .hint(self.fix(flag, app))
    }
}

/// The app's side of [`privileged`]: whose ownership counts.
pub struct ApiContext<'a> {
    /// The app's owner role.
    pub app_owner: &'a str,
    /// The app's database (its owner counts).
    pub database: &'a str,
    /// The exposed schemas (owners of objects in them count).
    pub schemas: &'a [String],
}

/// Every way `role` is privileged (empty: fit to be anon, authenticated or
/// authenticator): the role itself, and every role it is a member of
/// through any chain of `pg_auth_members` (whatever the PostgreSQL 16+
/// INHERIT and SET options of each grant: a grant without SET still passes
/// its privileges on when it inherits, one without INHERIT still lets the
/// member `SET ROLE`, which is what PostgREST does, and one with neither is
/// one `GRANT ... WITH` away; `pg_has_role(.., 'MEMBER')` counts them all
/// too), checked against the rules of [`PrivilegeRule`]. Shortest chains
/// first, one finding per holder and rule. `c` is a connection to the
/// app's database (ownership is per database). A role that does not exist
/// has no findings.
///
/// Errors: the catalog queries'.
pub fn privileged(
    c: &mut Client,
    role: &str,
    ctx: &ApiContext<'_>,
) -> Result<Vec<Privileged>, postgres::Error> {
    let rows = c.query(
        "with recursive chain(oid, path) as (
             select r.oid, array[r.oid] from pg_roles r where r.rolname = $1
             union all
             select m.roleid, c.path || m.roleid
               from pg_auth_members m join chain c on m.member = c.oid
              where m.roleid <> all(c.path)
         ), shortest as (
             select distinct on (oid) oid, path from chain order by oid, array_length(path, 1)
         )
         select (select array_agg(x.rolname::text order by u.ord)
                   from unnest(s.path) with ordinality u(o, ord) join pg_roles x on x.oid = u.o),
                r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication
           from shortest s join pg_roles r on r.oid = s.oid
          order by array_length(s.path, 1), r.rolname",
        &[&role],
    )?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db_owner = crate::pg::provision::database_owner(c, ctx.database)?;
    // Owners of the schemas and of every object in them, by owner.
    let owners: Vec<(String, String, i64)> = c
        .query(
            "select pg_get_userbyid(owner)::text, min(what), count(*) from (
                 select n.nspowner as owner, 'schema ' || quote_ident(n.nspname) as what
                   from pg_namespace n where n.nspname = any($1)
                 union all
                 select c.relowner, case c.relkind when 'S' then 'sequence ' when 'v' then 'view ' when 'm' then 'materialized view ' else 'table ' end
                        || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                   from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
                 union all
                 select p.proowner, 'function ' || p.oid::regprocedure::text
                   from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                  where n.nspname = any($1)
             ) o group by owner",
            &[&ctx.schemas],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mut found = Vec::new();
    for r in &rows {
        let path: Vec<String> = r.get(0);
        let name: String = r.get(1);
        let mut rules = Vec::new();
        if r.get::<_, bool>(2) {
            rules.push(PrivilegeRule::Superuser);
        }
        if name == ctx.app_owner {
            rules.push(PrivilegeRule::AppOwner);
        }
        if db_owner.as_deref() == Some(name.as_str()) && name != ctx.app_owner {
            rules.push(PrivilegeRule::DatabaseOwner);
        }
        for (i, attr) in ["BYPASSRLS", "CREATEROLE", "CREATEDB", "REPLICATION"]
            .into_iter()
            .enumerate()
        {
            if r.get::<_, bool>(3 + i) {
                rules.push(PrivilegeRule::Attribute(attr));
            }
        }
        if name != ctx.app_owner
            && let Some((_, example, count)) = owners.iter().find(|(o, _, _)| o == &name)
        {
            rules.push(PrivilegeRule::ObjectOwner {
                example: example.clone(),
                count: *count,
            });
        }
        if PRIVILEGED_PREDEFINED.contains(&name.as_str()) {
            rules.push(PrivilegeRule::Predefined);
        }
        for rule in rules {
            found.push(Privileged {
                path: path.clone(),
                rule,
            });
        }
    }
    Ok(found)
}

/// Whether the suite may set the password of an existing LOGIN role it is
/// asked to use as the authenticator. Never a superuser's; otherwise only
/// a role the suite created for this app (`created`), a role whose current
/// password the suite issued (`stored`: the app's store holds it and it
/// still logs in, so setting it again changes nothing anyone else holds),
/// or a role with no password at all (its first password locks nobody out:
/// whoever logs in without one keeps doing so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordAuthority {
    /// The suite created the role for this app.
    Created,
    /// The role has no password yet.
    NoPassword,
    /// The role has a password the suite did not issue.
    Foreign,
    /// The admin is not a superuser and cannot read `pg_authid`, so whether
    /// the role has a password of its own cannot be told: treated as
    /// [`PasswordAuthority::Foreign`], with its own message.
    Unknown,
    /// The role is a superuser.
    Superuser,
}

impl PasswordAuthority {
    /// The refusal to set the password of `role`, the `--authenticator`,
    /// when this authority forbids it (a superuser; a password the suite did
    /// not issue; one the admin cannot read), else `None` (the suite created
    /// the role, or it has no password). The caller decides the exception:
    /// a stored password that still logs in was the suite's to set. `again`
    /// names what to re-run with a superuser admin in the hint ("configure",
    /// "the deploy").
    pub fn refusal(self, role: &str, again: &str) -> Option<Failure> {
        let creates = "leave --authenticator out: the suite creates APP_authenticator (LOGIN NOINHERIT) for PostgREST";
        let (why, hint) = match self {
            PasswordAuthority::Created | PasswordAuthority::NoPassword => return None,
            PasswordAuthority::Superuser => (
                "it is a superuser; the suite never sets a superuser's password",
                creates.to_string(),
            ),
            PasswordAuthority::Unknown => (
                "the admin is not a superuser, so it cannot read whether the role has a password of its own (pg_authid); the suite never changes the password of a role it did not create",
                format!(
                    "{creates} and owns its password; or run {again} once with a superuser admin"
                ),
            ),
            PasswordAuthority::Foreign => (
                "it already has a password the suite did not issue (other clients may log in with it); the suite never changes the password of a role it did not create",
                format!(
                    "leave --authenticator out (the suite creates and owns its own), or, if nothing logs in as {role}, clear its password as admin (`ALTER ROLE {} PASSWORD NULL;`) and re-run: the suite then issues and stores one",
                    quote_ident(role)
                ),
            ),
        };
        Some(
            Failure::new(
                Phase::Role,
                format!("--authenticator {role}: refused, {why} (nothing was changed)"),
            )
            .hint(hint),
        )
    }
}

/// [`PasswordAuthority`] of an existing role. `created`: the app's record
/// lists it among the roles the suite created. Reading `pg_authid` needs a
/// superuser; when the admin cannot, the answer is
/// [`PasswordAuthority::Unknown`].
///
/// Errors: the catalog query's (other than permission denied on
/// `pg_authid`).
pub fn password_authority(
    c: &mut Client,
    role: &str,
    created: bool,
) -> Result<PasswordAuthority, postgres::Error> {
    let superuser: bool = c
        .query_opt("select rolsuper from pg_roles where rolname = $1", &[&role])?
        .map(|r| r.get(0))
        .unwrap_or(false);
    if superuser {
        return Ok(PasswordAuthority::Superuser);
    }
    if created {
        return Ok(PasswordAuthority::Created);
    }
    let has_password = match c.query_opt(
        "select rolpassword is not null from pg_authid where rolname = $1",
        &[&role],
    ) {
        Ok(row) => row.map(|r| r.get::<_, bool>(0)).unwrap_or(false),
        Err(e) if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => {
            return Ok(PasswordAuthority::Unknown);
        }
        Err(e) => return Err(e),
    };
    Ok(if has_password {
        PasswordAuthority::Foreign
    } else {
        PasswordAuthority::NoPassword
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(app: &str, owner: &str, roles: &[(&str, &str)]) -> AppRecord {
        AppRecord {
            app: app.into(),
            owner: owner.into(),
            roles: roles
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn postgrest_roles_name_the_flag_of_a_bad_name() {
        let roles = PostgrestRoles {
            anon: Some("Bad-Name".into()),
            ..Default::default()
        };
        assert!(roles.any());
        let err = roles.validate().expect_err("refused");
        assert_eq!(err.code, 2);
        assert!(err.detail.contains("--anon-role"), "{}", err.detail);
        assert!(PostgrestRoles::default().validate().is_ok());
        let kinds: Vec<&str> = roles.by_kind().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["authenticator", "anon", "authenticated"]);
    }

    #[test]
    fn a_privileged_role_is_described_with_its_chain_and_fix() {
        let direct = Privileged {
            path: vec!["web".into()],
            rule: PrivilegeRule::Attribute("BYPASSRLS"),
        };
        assert_eq!(direct.describe(), "role web has BYPASSRLS");
        assert!(
            direct
                .fix("--anon-role", "shop")
                .starts_with("ALTER ROLE \"web\" NOBYPASSRLS;"),
            "{}",
            direct.fix("--anon-role", "shop")
        );
        let chain = Privileged {
            path: vec!["web".into(), "mid".into(), "postgres".into()],
            rule: PrivilegeRule::Superuser,
        };
        assert_eq!(chain.role(), "web");
        assert_eq!(chain.holder(), "postgres");
        assert_eq!(
            chain.describe(),
            "role web is a member of postgres (web -> mid -> postgres), and postgres is a superuser"
        );
        // The grant to cut is the last one of the chain.
        assert!(
            chain
                .fix("--anon-role", "shop")
                .starts_with("REVOKE \"postgres\" FROM \"mid\";"),
            "{}",
            chain.fix("--anon-role", "shop")
        );
        let owner = Privileged {
            path: vec!["o".into()],
            rule: PrivilegeRule::ObjectOwner {
                example: "table api.t".into(),
                count: 3,
            },
        };
        assert!(
            owner
                .describe()
                .contains("owns table api.t and 2 more object(s)")
        );
        assert!(
            owner
                .fix("--authenticated-role", "shop")
                .contains("REASSIGN OWNED BY \"o\"")
        );
        assert_eq!(PrivilegeRule::Predefined.name(), "predefined role");
    }

    #[test]
    fn finds_roles_named_by_other_apps_only() {
        let others = [
            rec("a", "a", &[("anon", "anon")]),
            rec("b", "anon", &[]),
            rec("me", "me", &[("anon", "anon")]),
        ];
        let found = shared_with(&others, "me", &["anon", "authenticated"]);
        assert_eq!(
            found,
            vec![
                SharedRole {
                    role: "anon".into(),
                    other_app: "a".into(),
                    as_owner: false
                },
                SharedRole {
                    role: "anon".into(),
                    other_app: "b".into(),
                    as_owner: true
                },
            ]
        );
    }
}
