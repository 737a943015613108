//! Idempotent provisioning: look at the catalog, then plan only the SQL that
//! is missing (roles, database, CONNECT privileges, memberships, schemas,
//! extensions, grants). A plan is a list of [`Step`]s that can be printed
//! (`--dry-run`, passwords masked) or run; running an empty plan changes
//! nothing, which is how a re-run reports `already_configured`.
//!
//! Every identifier is quoted with [`quote_ident`] and every value with
//! [`quote_literal`]; nothing the user typed is spliced raw. Knows no cluster.

use postgres::Client;
use uis_core::app::{quote_ident, quote_literal};
use uis_core::error::Phase;

/// One statement of a plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// The database to run it in; `None` for the maintenance database.
    pub database: Option<String>,
    /// The SQL to run (may hold a password).
    pub sql: String,
    /// The SQL as shown to people, with passwords masked.
    pub shown: String,
}

impl Step {
    pub fn new(database: Option<&str>, sql: String) -> Step {
        Step {
            database: database.map(str::to_string),
            shown: sql.clone(),
            sql,
        }
    }

    fn with_password(
        database: Option<&str>,
        sql_before: &str,
        password: &str,
        sql_after: &str,
    ) -> Step {
        // The server gets the SCRAM-SHA-256 verifier (random salt, 4096
        // rounds), never the password: a statement that fails, or a server
        // that logs DDL, cannot write the password to its log. PostgreSQL
        // stores a verifier as given, whatever `password_encryption` says.
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        Step {
            database: database.map(str::to_string),
            sql: format!("{sql_before}{}{sql_after}", quote_literal(&verifier)),
            shown: format!("{sql_before}'***'{sql_after}"),
        }
    }
}

/// A role's attributes as the catalog has them.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleInfo {
    pub login: bool,
    pub superuser: bool,
    pub createrole: bool,
    pub createdb: bool,
    pub inherit: bool,
}

type R<T> = Result<T, postgres::Error>;

pub fn role(c: &mut Client, name: &str) -> R<Option<RoleInfo>> {
    Ok(c
        .query_opt(
            "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolinherit from pg_roles where rolname = $1",
            &[&name],
        )?
        .map(|r| RoleInfo {
            login: r.get(0),
            superuser: r.get(1),
            createrole: r.get(2),
            createdb: r.get(3),
            inherit: r.get(4),
        }))
}

pub fn database_owner(c: &mut Client, db: &str) -> R<Option<String>> {
    Ok(c.query_opt(
        "select pg_get_userbyid(datdba)::text from pg_database where datname = $1",
        &[&db],
    )?
    .map(|r| r.get(0)))
}

pub fn extension_available(c: &mut Client, ext: &str) -> R<bool> {
    Ok(c.query_opt(
        "select 1 from pg_available_extensions where name = $1",
        &[&ext],
    )?
    .is_some())
}

/// Extensions the server offers, for error messages.
pub fn available_extensions(c: &mut Client) -> R<Vec<String>> {
    Ok(c.query(
        "select name::text from pg_available_extensions order by 1",
        &[],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

pub fn public_can_connect(c: &mut Client, db: &str) -> R<bool> {
    Ok(c
        .query_one(
            "select exists(select 1 from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
             where d.datname = $1 and a.grantee = 0 and a.privilege_type = 'CONNECT')",
            &[&db],
        )?
        .get(0))
}

/// Whether `role` has an explicit CONNECT grant (or owns the database).
pub fn role_can_connect(c: &mut Client, db: &str, role: &str) -> R<bool> {
    Ok(c
        .query_one(
            "select exists(select 1 from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
             where d.datname = $1 and a.privilege_type = 'CONNECT' and a.grantee = (select oid from pg_roles where rolname = $2))",
            &[&db, &role],
        )?
        .get(0))
}

/// Whether `member` has the privileges of `role`, directly or through
/// membership: `pg_has_role(member, role, 'MEMBER')`, false when NULL. This
/// is what PostgREST's `SET ROLE` as the authenticator needs.
///
/// Errors: the server's, e.g. SQLSTATE 42704 when `member` does not exist.
pub fn has_role(c: &mut Client, member: &str, role: &str) -> R<bool> {
    Ok(c.query_one(
        "select coalesce(pg_has_role($1, $2, 'MEMBER'), false)",
        &[&member, &role],
    )?
    .get(0))
}

/// Whether `member` is directly granted `role`.
pub fn is_member(c: &mut Client, role: &str, member: &str) -> R<bool> {
    Ok(c.query_one(
        "select exists(select 1 from pg_auth_members m
               join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member
              where r.rolname = $1 and u.rolname = $2)",
        &[&role, &member],
    )?
    .get(0))
}

pub fn schema_owner(c: &mut Client, schema: &str) -> R<Option<String>> {
    Ok(c.query_opt(
        "select pg_get_userbyid(nspowner)::text from pg_namespace where nspname = $1",
        &[&schema],
    )?
    .map(|r| r.get(0)))
}

pub fn extension_installed(c: &mut Client, ext: &str) -> R<bool> {
    Ok(
        c.query_opt("select 1 from pg_extension where extname = $1", &[&ext])?
            .is_some(),
    )
}

/// The role a connection runs as, and the server's version: what decides
/// the SQL a non-superuser admin needs (and may run) and what 16 changed.
/// (Kept to one short query: configure's bytes before its first write are
/// counted by the tunnel-cut tests.)
#[derive(Debug, Clone, PartialEq)]
pub struct Acting {
    pub user: String,
    pub superuser: bool,
    /// `server_version_num`, e.g. 160004.
    pub server_version: i32,
}

impl Acting {
    /// PostgreSQL 16 or newer: CREATEROLE manages only the roles it holds
    /// ADMIN on (16 release notes: "Restrict the privileges of CREATEROLE
    /// and its ability to modify other roles"), and membership grants carry
    /// SET and INHERIT options.
    pub fn v16(&self) -> bool {
        self.server_version >= 160000
    }

    /// The version as people write it: `16.4` (from 10 on, major.minor).
    pub fn version(&self) -> String {
        format!(
            "{}.{}",
            self.server_version / 10000,
            self.server_version % 10000
        )
    }
}

/// Who `c` runs as, and the server's version.
pub fn acting(c: &mut Client) -> R<Acting> {
    let row = c.query_one(
        "select current_user::text,rolsuper,current_setting('server_version_num')::int \
         from pg_roles where rolname=current_user",
        &[],
    )?;
    Ok(Acting {
        user: row.get(0),
        superuser: row.get(1),
        server_version: row.get(2),
    })
}

/// Whether only a superuser may create `ext` (its default version is
/// `superuser` and not `trusted`, PostgreSQL 13+), so a non-superuser admin
/// cannot, unless the provider's allow-list lets it.
pub fn extension_untrusted(c: &mut Client, ext: &str) -> R<bool> {
    Ok(c.query_one(
        "select coalesce(bool_or(v.superuser and not v.trusted), false)
           from pg_available_extension_versions v
           join pg_available_extensions a on a.name = v.name and a.default_version = v.version
          where v.name = $1",
        &[&ext],
    )?
    .get(0))
}

/// The providers' extension allow-lists this server has, as
/// (setting, its value): Azure's `azure.extensions` (a comma-separated list
/// of names, any case). Empty on a plain PostgreSQL.
pub fn extension_allow_lists(c: &mut Client) -> R<Vec<(String, String)>> {
    // One provider today; a list so RDS-style settings can join it.
    const SETTINGS: &[&str] = &["azure.extensions"];
    let mut out = Vec::new();
    for setting in SETTINGS {
        let v: Option<String> = c
            .query_one("select current_setting($1, true)", &[setting])?
            .get(0);
        if let Some(v) = v {
            out.push((setting.to_string(), v));
        }
    }
    Ok(out)
}

/// What a LOGIN role needs, and what NOLOGIN roles need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RoleShape {
    /// LOGIN, no SUPERUSER, CREATEROLE or CREATEDB (the app's owner, readonly).
    Login,
    /// The app's owner with CREATEROLE (`--owner-createrole`, PostgreSQL
    /// 16+ only): LOGIN NOSUPERUSER NOCREATEDB CREATEROLE.
    LoginCreaterole,
    /// LOGIN NOINHERIT (PostgREST's authenticator).
    Authenticator,
    /// NOLOGIN (anon, authenticated).
    NoLogin,
}

impl RoleShape {
    fn attributes(self) -> &'static str {
        match self {
            RoleShape::Login => "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE",
            RoleShape::LoginCreaterole => "LOGIN NOSUPERUSER NOCREATEDB CREATEROLE",
            RoleShape::Authenticator => "LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE",
            RoleShape::NoLogin => "NOLOGIN",
        }
    }
}

/// What [`ensure_role`] decided about a role.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RoleOutcome {
    Created,
    /// Existing, left as it was (maybe with a new password).
    Reused,
}

/// How [`ensure_role`] treats a role.
#[derive(Debug, Clone, Copy)]
pub struct RoleOptions<'a> {
    /// The attributes it must have.
    pub shape: RoleShape,
    /// Its password (LOGIN shapes): set on CREATE, and on an existing role
    /// when `set_password`.
    pub password: Option<&'a str>,
    /// The existing role's password is unknown or wrong: set `password`.
    pub set_password: bool,
    /// The role is the suite's (created by it, or the app's owner): plan
    /// `ALTER ROLE` when its attributes differ from `shape`'s.
    pub fix_attributes: bool,
}

impl RoleOptions<'_> {
    /// A NOLOGIN role (anon, authenticated), created when missing and
    /// otherwise left as it is.
    pub fn nologin() -> RoleOptions<'static> {
        RoleOptions {
            shape: RoleShape::NoLogin,
            password: None,
            set_password: false,
            fix_attributes: false,
        }
    }
}

/// Plans a role: CREATE when missing; for an existing role created by the
/// suite, the attributes it must have; a password (LOGIN roles) when
/// `set_password` says the current one is unknown or wrong. Passwords are
/// sent as SCRAM verifiers and shown masked.
///
/// Errors: the catalog query's.
pub fn ensure_role(
    c: &mut Client,
    steps: &mut Vec<Step>,
    name: &str,
    opts: RoleOptions<'_>,
) -> R<RoleOutcome> {
    let RoleOptions {
        shape,
        password,
        set_password,
        fix_attributes,
    } = opts;
    let q = quote_ident(name);
    match role(c, name)? {
        None => {
            let attrs = shape.attributes();
            match password {
                Some(pw) if shape != RoleShape::NoLogin => steps.push(Step::with_password(
                    None,
                    &format!("CREATE ROLE {q} {attrs} PASSWORD "),
                    pw,
                    "",
                )),
                _ => steps.push(Step::new(None, format!("CREATE ROLE {q} {attrs}"))),
            }
            Ok(RoleOutcome::Created)
        }
        Some(info) => {
            if fix_attributes {
                let want_login = shape != RoleShape::NoLogin;
                let ok = info.login == want_login
                    && !info.superuser
                    && info.createrole == (shape == RoleShape::LoginCreaterole)
                    && !info.createdb
                    && (shape != RoleShape::Authenticator || !info.inherit);
                if !ok {
                    steps.push(Step::new(
                        None,
                        format!("ALTER ROLE {q} {}", shape.attributes()),
                    ));
                }
            }
            if set_password && let Some(pw) = password {
                steps.push(Step::with_password(
                    None,
                    &format!("ALTER ROLE {q} PASSWORD "),
                    pw,
                    "",
                ));
            }
            Ok(RoleOutcome::Reused)
        }
    }
}

/// The step before `DROP OWNED BY role` run by a non-superuser admin:
/// DROP OWNED needs the privileges of the role, which CREATEROLE alone
/// does not give (before 16 it may grant any role; from 16 it holds ADMIN,
/// but neither SET nor INHERIT, on the roles it created). Decided when it
/// runs (undeploy plans without a connection): a superuser, a missing role
/// or one whose privileges the admin has already changes nothing.
pub fn grant_to_drop_owned(database: Option<&str>, role: &str) -> Step {
    let (q, lit) = (quote_ident(role), quote_literal(role));
    Step {
        database: database.map(str::to_string),
        sql: format!(
            "DO $uis$ BEGIN
               IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                  AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {lit})
                  AND NOT pg_has_role({lit}, 'USAGE') THEN
                 GRANT {q} TO CURRENT_USER;
               END IF;
             END $uis$"
        ),
        shown: format!(
            "GRANT {q} TO CURRENT_USER -- a non-superuser admin only, to drop what it owns"
        ),
    }
}

/// Plans `GRANT role TO member` when missing.
pub fn ensure_member(
    c: &mut Client,
    steps: &mut Vec<Step>,
    role: &str,
    member: &str,
    role_planned: bool,
) -> R<()> {
    if role_planned || !is_member(c, role, member)? {
        steps.push(Step::new(
            None,
            format!("GRANT {} TO {}", quote_ident(role), quote_ident(member)),
        ));
    }
    Ok(())
}

/// Plans `GRANT CONNECT ON DATABASE` when missing.
pub fn ensure_connect(
    c: &mut Client,
    steps: &mut Vec<Step>,
    db: &str,
    role: &str,
    known_missing: bool,
) -> R<()> {
    if known_missing || !role_can_connect(c, db, role)? {
        steps.push(Step::new(
            None,
            format!(
                "GRANT CONNECT ON DATABASE {} TO {}",
                quote_ident(db),
                quote_ident(role)
            ),
        ));
    }
    Ok(())
}

/// Plans USAGE on `schemas`, SELECT on their tables and default privileges
/// for future tables created by `owner`, for `grantee`, when missing.
/// `db` is a connection to the app's database (`None` when it does not exist
/// yet: everything is planned).
pub fn ensure_read_grants(
    db: Option<&mut Client>,
    steps: &mut Vec<Step>,
    database: &str,
    schemas: &[String],
    owner: &str,
    grantee: &str,
) -> R<()> {
    let mut db = db;
    for schema in schemas {
        let (s, g, o) = (
            quote_ident(schema),
            quote_ident(grantee),
            quote_ident(owner),
        );
        let (usage, tables, defaults) = match db.as_deref_mut() {
            None => (false, false, false),
            Some(c) => {
                let usage: bool = c
                    .query_one(
                        "select coalesce((select has_schema_privilege($1, oid, 'USAGE') from pg_namespace where nspname = $2), false)
                           and exists(select 1 from pg_roles where rolname = $1)",
                        &[&grantee, &schema],
                    )
                    .map(|r| r.get(0))
                    .unwrap_or(false);
                let tables_ok: bool = c
                    .query_one(
                        "select not exists(select 1 from pg_class t join pg_namespace n on n.oid = t.relnamespace
                          where n.nspname = $2 and t.relkind in ('r','v','m','f','p')
                            and (not exists(select 1 from pg_roles where rolname = $1) or not has_table_privilege($1, t.oid, 'SELECT')))",
                        &[&grantee, &schema],
                    )
                    .map(|r| r.get(0))
                    .unwrap_or(false);
                let defaults_ok: bool = c
                    .query_one(
                        "select exists(select 1 from pg_default_acl d join pg_namespace n on n.oid = d.defaclnamespace,
                                aclexplode(d.defaclacl) a
                          where n.nspname = $2 and d.defaclobjtype = 'r'
                            and d.defaclrole = (select oid from pg_roles where rolname = $3)
                            and a.grantee = (select oid from pg_roles where rolname = $1)
                            and a.privilege_type = 'SELECT')",
                        &[&grantee, &schema, &owner],
                    )
                    .map(|r| r.get(0))
                    .unwrap_or(false);
                (usage, tables_ok, defaults_ok)
            }
        };
        if !usage {
            steps.push(Step::new(
                Some(database),
                format!("GRANT USAGE ON SCHEMA {s} TO {g}"),
            ));
        }
        if !tables {
            steps.push(Step::new(
                Some(database),
                format!("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {g}"),
            ));
        }
        if !defaults {
            steps.push(Step::new(
                Some(database),
                format!("ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT SELECT ON TABLES TO {g}"),
            ));
        }
    }
    Ok(())
}

/// The fix for a step the admin may not run (SQLSTATE 42501), by what the
/// step does. Every step is safe to run again, so the fix ends with the
/// same command.
fn privilege_hint(shown: &str, sqlstate: &str) -> Option<String> {
    if sqlstate != "42501" {
        return None;
    }
    let again = "then run the same command again (what was done so far is reused)";
    let fix = if shown.starts_with("CREATE DATABASE") || shown.starts_with("DROP DATABASE") {
        format!(
            "the admin role needs CREATEDB (managed services give it to their admin): as the server's superuser `ALTER ROLE <admin> CREATEDB`, or use another admin with --pg-superuser NAME --admin-secrets SECRET/KEY; {again}"
        )
    } else if shown.starts_with("CREATE EXTENSION") {
        format!(
            "only a superuser may create an untrusted extension: allow it in the provider's allow-list (Azure: server parameter azure.extensions), or use a superuser with --pg-superuser NAME --admin-secrets SECRET/KEY; {again}"
        )
    } else if [
        "CREATE ROLE",
        "ALTER ROLE",
        "DROP ROLE",
        "GRANT",
        "REVOKE",
        "DROP OWNED",
    ]
    .iter()
    .any(|p| shown.starts_with(p))
    {
        format!(
            "the admin role needs CREATEROLE, and from PostgreSQL 16 ADMIN on roles it did not create (`GRANT <role> TO <admin> WITH ADMIN OPTION` as the role's creator or a superuser); {again}"
        )
    } else {
        return None;
    };
    Some(fix)
}

/// Runs a plan: `admin` runs maintenance-database steps, `connect(db)` gives
/// a superuser connection to an app database (opened once per database).
/// Stops at the first failure, naming the step.
pub fn run(
    steps: &[Step],
    admin: &mut Client,
    connect: &mut dyn FnMut(&str) -> Result<Client, uis_core::Failure>,
) -> Result<(), uis_core::Failure> {
    let mut conns: std::collections::BTreeMap<String, Client> = Default::default();
    for step in steps {
        let client = match &step.database {
            None => &mut *admin,
            Some(db) => {
                if !conns.contains_key(db) {
                    conns.insert(db.clone(), connect(db)?);
                }
                conns.get_mut(db).expect("inserted")
            }
        };
        client.batch_execute(&step.sql).map_err(|e| {
            let what = format!("`{}` failed", step.shown);
            match e.as_db_error() {
                Some(d) => {
                    let f = uis_core::Failure::new(
                        Phase::Sql,
                        format!("{what}: {} (SQLSTATE {})", d.message(), d.code().code()),
                    );
                    match privilege_hint(&step.shown, d.code().code()) {
                        Some(h) => f.hint(h),
                        None => f,
                    }
                }
                // The connection went: the steps before this one are done,
                // and every step is safe to run again.
                None => uis_core::Failure::from(e).context(what),
            }
        })?;
    }
    Ok(())
}
