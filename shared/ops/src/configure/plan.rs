//! What configure wants ([`Desired`], from the options and the stored
//! record), the checks before any change ([`validate`]: the catalog and the
//! other apps), and the SQL plan ([`plan`]).

use super::Options;
use crate::pg::provision::{self, Acting, RoleInfo, RoleOptions, RoleOutcome, RoleShape, Step};
use crate::roles::{self, PasswordAuthority, PasswordFinding};
use crate::session::Session;
use postgres::Client;
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::app::{RoleKind, quote_ident, sql_name};
use uis_core::error::Phase;
use uis_core::output::warn;
use uis_kube::store::{self, AppRecord};

/// Everything decided before the first change.
#[derive(Debug, Clone)]
pub struct Desired {
    pub app: String,
    pub database: String,
    pub owner: String,
    pub schemas: Vec<String>,
    pub extensions: Vec<String>,
    /// The app's named roles (not the owner), by kind.
    pub roles: BTreeMap<RoleKind, String>,
    /// `--owner-createrole` (true) / `--no-owner-createrole` (false); `None`
    /// keeps what the owner has (on 16+; before 16 it is always removed).
    pub owner_createrole: Option<bool>,
}

impl Desired {
    /// The role of `kind`, when the app has one.
    pub fn role(&self, kind: RoleKind) -> Option<&String> {
        self.roles.get(&kind)
    }
}

/// The target state: the options over the stored record. A database or
/// owner other than the stored one is refused; role names come from the
/// flags, else the store, else the defaults (`store::pick_role`).
///
/// Errors: phase `validate` when `--database`/`--owner` differ from the
/// stored app; `usage` when one name is given to two roles.
pub fn desired(opts: &Options, existing: Option<&AppRecord>) -> Result<Desired, Failure> {
    let app = opts.app.as_str();
    let base = sql_name(app);
    let database = match (&opts.database, existing) {
        (Some(d), Some(r)) if d != &r.database => {
            return Err(Failure::new(
                Phase::Validate,
                format!(
                    "app {app:?} is configured with database {:?}, not {d:?}",
                    r.database
                ),
            )
            .hint(format!(
                "leave --database out, or purge first: `uis db configure {app} --purge --yes`"
            )));
        }
        (Some(d), _) => d.clone(),
        (None, Some(r)) => r.database.clone(),
        (None, None) => format!("{base}_db"),
    };
    let owner = match (&opts.owner, existing) {
        (Some(o), Some(r)) if o != &r.owner => {
            return Err(Failure::new(
                Phase::Validate,
                format!("app {app:?} is owned by role {:?}, not {o:?}", r.owner),
            )
            .hint("leave --owner out"));
        }
        (Some(o), _) => o.clone(),
        (None, Some(r)) => r.owner.clone(),
        (None, None) => base.clone(),
    };
    let mut roles = BTreeMap::new();
    if opts.postgrest {
        for (kind, flag) in opts.roles.by_kind() {
            roles.insert(kind, store::pick_role(flag, existing, app, kind.as_str()));
        }
    } else if let Some(r) = existing {
        for kind in RoleKind::POSTGREST {
            if let Some(v) = r.roles.get(kind.as_str()) {
                roles.insert(kind, v.clone());
            }
        }
    }
    let readonly = RoleKind::Readonly;
    if opts.readonly {
        roles.insert(readonly, store::default_role_name(app, readonly.as_str()));
    } else if let Some(v) = existing.and_then(|r| r.roles.get(readonly.as_str())) {
        roles.insert(readonly, v.clone());
    }
    // The owner first, then the kinds in the store's (alphabetical) order,
    // so the first repeated name is the one named today.
    let mut by_name: Vec<(&str, &String)> = roles.iter().map(|(k, v)| (k.as_str(), v)).collect();
    by_name.sort_by_key(|(k, _)| *k);
    let names: Vec<&String> = std::iter::once(&owner)
        .chain(by_name.iter().map(|(_, v)| *v))
        .collect();
    for (i, a) in names.iter().enumerate() {
        if names[..i].contains(a) {
            return Err(Failure::usage(format!(
                "role name {a:?} is given for two different roles; give each its own name"
            )));
        }
    }
    Ok(Desired {
        app: app.to_string(),
        database,
        owner,
        schemas: opts.schemas.clone(),
        extensions: opts.extensions.clone(),
        roles,
        owner_createrole: opts.owner_createrole,
    })
}

/// The checks before any change: the extensions are available; no other
/// app owns the owner role or the database (roles shared with another app
/// are warned about on stderr: roles are cluster-wide); the owner is no
/// superuser; an existing database is the owner's (or already the app's).
///
/// Returns what [`plan`] reuses: the admin and the owner role's attributes.
///
/// Errors: phase `validate`, each with a hint; `sql` for catalog queries.
pub fn validate(
    pg: &mut Client,
    acting: &Acting,
    d: &Desired,
    others: &[AppRecord],
    existing: Option<&AppRecord>,
) -> Result<Found, Failure> {
    if d.owner_createrole == Some(true) && !acting.v16() {
        // PostgreSQL 16 release notes: "Restrict the privileges of
        // CREATEROLE and its ability to modify other roles". Before 16 a
        // CREATEROLE role may alter and grant any non-superuser role,
        // pg_execute_server_program and pg_read_server_files included.
        return Err(Failure::new(
            Phase::Validate,
            format!(
                "--owner-createrole needs PostgreSQL 16 or newer; this server is {} (nothing was changed): before 16 a role with CREATEROLE may grant itself any non-superuser role (pg_execute_server_program, pg_read_server_files) and alter any role it did not create, so the owner could escalate; 16 limits CREATEROLE to the roles it has ADMIN on (16 release notes: \"Restrict the privileges of CREATEROLE and its ability to modify other roles\")",
                acting.version()
            ),
        )
        .hint(format!(
            "leave --owner-createrole out and run role DDL as the admin: `uis db psql {} --as admin -f db/01-roles.sql`",
            d.app
        )));
    }
    for ext in &d.extensions {
        if !provision::extension_available(pg, ext)? {
            let all = provision::available_extensions(pg)?;
            return Err(Failure::new(
                Phase::Validate,
                format!("extension {ext:?} is not available on this server (nothing was changed)"),
            )
            .hint(format!("available: {}", all.join(", "))));
        }
        if !acting.superuser && provision::extension_untrusted(pg, ext)? {
            let lists = provision::extension_allow_lists(pg)?;
            let allowed = lists
                .iter()
                .any(|(_, v)| v.split(',').any(|e| e.trim().eq_ignore_ascii_case(ext)));
            if !allowed {
                let where_ = match lists.first() {
                    Some((setting, v)) => format!("this server's allow-list {setting} is {v:?}"),
                    None => "this server has no provider allow-list".to_string(),
                };
                return Err(Failure::new(
                    Phase::Validate,
                    format!(
                        "extension {ext:?} is not trusted: only a superuser may create it, and the admin {:?} is not one; {where_} (nothing was changed)",
                        acting.user
                    ),
                )
                .hint(format!(
                    "on a managed service add {ext} to the provider's allow-list (Azure: server parameter azure.extensions) and run again; otherwise use a superuser: --pg-superuser NAME --admin-secrets SECRET/KEY"
                )));
            }
        }
    }
    // The kinds in the store's (alphabetical) order, as the warnings read.
    let mut kinds: Vec<(&str, &str)> = d
        .roles
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    kinds.sort_by_key(|(k, _)| *k);
    for other in others {
        let theirs: Vec<&String> = std::iter::once(&other.owner)
            .chain(other.created_roles.iter())
            .collect();
        if theirs.contains(&&d.owner) {
            return Err(Failure::new(
                Phase::Validate,
                format!(
                    "role {:?} belongs to app {:?} (nothing was changed)",
                    d.owner, other.app
                ),
            )
            .hint({
                // Never the refused name, nor another app's role.
                let app = sql_name(&d.app);
                let taken = |c: &String| {
                    *c == d.owner
                        || others
                            .iter()
                            .any(|o| o.owner == *c || o.created_roles.iter().any(|r| r == c))
                };
                let pick = [format!("{app}_owner"), app.clone(), format!("{app}_owner2")]
                    .into_iter()
                    .find(|c| !taken(c));
                match pick {
                    Some(c) => format!("choose another owner with --owner, e.g. --owner {c}"),
                    None => "choose another owner with --owner".to_string(),
                }
            }));
        }
        if other.database == d.database {
            return Err(Failure::new(
                Phase::Validate,
                format!(
                    "database {:?} belongs to app {:?} (nothing was changed)",
                    d.database, other.app
                ),
            )
            .hint("choose another name with --database"));
        }
        for (kind, role) in &kinds {
            let shared = roles::shared_with(std::slice::from_ref(other), &d.app, &[role]);
            if shared.iter().any(|s| !s.as_owner) {
                warn(format!(
                    "role {role} ({kind}) is also used by app {}: roles are cluster-wide, so both apps share its grants",
                    other.app
                ));
            }
        }
    }
    let owner_info = provision::role(pg, &d.owner)?;
    if let Some(info) = &owner_info
        && info.superuser
    {
        return Err(Failure::new(
            Phase::Validate,
            format!(
                "role {:?} is a superuser; an app owner must not be (nothing was changed)",
                d.owner
            ),
        )
        .hint("choose another owner with --owner"));
    }
    // A non-superuser admin (managed services, UIS's proxied topology) is
    // no superuser, but as an owner it would be stripped of CREATEROLE and
    // CREATEDB (and its password is not the suite's to store).
    if owner_info.is_some() && d.owner == acting.user {
        return Err(Failure::new(
            Phase::Validate,
            format!(
                "role {:?} is the admin the suite connects as; an app owner must be neither a superuser nor the admin (nothing was changed)",
                d.owner
            ),
        )
        .hint("choose another owner with --owner"));
    }
    let database_owner = provision::database_owner(pg, &d.database)?;
    if let Some(owner) = &database_owner
        && *owner != d.owner
    {
        let ours = existing.is_some_and(|r| r.database == d.database);
        if !ours {
            return Err(Failure::new(
                Phase::Validate,
                format!(
                    "database {:?} already exists and is owned by {owner:?}, not by {:?} (nothing was changed)",
                    d.database, d.owner
                ),
            )
            .hint(format!(
                "pass --owner {owner} to adopt it with its owner, or choose another name with --database"
            )));
        }
    }
    Ok(Found {
        acting: acting.clone(),
        owner: owner_info,
        database_owner,
    })
}

/// What [`validate`] read that [`plan`] needs again.
#[derive(Debug, Clone)]
pub struct Found {
    /// The admin and the server's version.
    pub acting: Acting,
    /// The owner role's attributes, when it exists.
    pub owner: Option<RoleInfo>,
    /// The owner of the app's database, when it exists (read once: nothing
    /// changes before the plan runs, under the configure lock).
    pub database_owner: Option<String>,
}

/// The SQL plan and the warnings about passwords.
pub struct Plan {
    pub steps: Vec<Step>,
    /// Roles the plan creates.
    pub created: Vec<String>,
    /// Warnings for stderr (a password set again, or issued for a role
    /// that had none stored).
    pub notes: Vec<String>,
    /// The owner has CREATEROLE after the plan (`--owner-createrole`).
    pub owner_createrole: bool,
    /// The owner role existed and gets a NEW password (`--rotate`, or none
    /// stored or adopted): the Secrets holding it change, workloads restart.
    pub owner_password_changed: bool,
}

/// Plans what is missing: LOGIN roles with their passwords (reconciled
/// into `rec.passwords`, see [`roles::reconcile_password`]), the NOLOGIN
/// roles, the database, CONNECT (revoked from PUBLIC), memberships,
/// schemas, extensions and the readonly grants. `rec` is the record to
/// store; its schemas are the union of old and new.
///
/// Errors: catalog queries (`sql`), connecting to the app's database.
pub fn plan(
    session: &mut Session,
    pg: &mut Client,
    found: &Found,
    desired: &Desired,
    existing: Option<&AppRecord>,
    rec: &mut AppRecord,
    rotate: bool,
) -> Result<Plan, Failure> {
    // The owner's CREATEROLE (`--owner-createrole`, 16+ only: validate
    // refuses it before). Without the flag a re-run keeps what the owner
    // has on 16+; before 16 CREATEROLE lets the owner escalate, so it goes.
    let acting = &found.acting;
    let owner_had = found.owner.as_ref().is_some_and(|i| i.createrole);
    let owner_createrole = acting.v16() && desired.owner_createrole.unwrap_or(owner_had);
    let owner_shape = if owner_createrole {
        RoleShape::LoginCreaterole
    } else {
        RoleShape::Login
    };
    let mut login_roles: Vec<(String, RoleShape)> = vec![(desired.owner.clone(), owner_shape)];
    if let Some(a) = desired.role(RoleKind::Authenticator) {
        login_roles.push((a.clone(), RoleShape::Authenticator));
    }
    if let Some(r) = desired.role(RoleKind::Readonly) {
        login_roles.push((r.clone(), RoleShape::Login));
    }
    api_roles_fit(session, pg, found, desired, existing, rec)?;
    let mut set_password: BTreeMap<String, bool> = BTreeMap::new();
    let mut notes = Vec::new();
    if owner_had && !owner_createrole && desired.owner_createrole.is_none() {
        notes.push(format!(
            "role {} had CREATEROLE; it is removed: before PostgreSQL 16 CREATEROLE lets the owner grant itself any non-superuser role (this server is {})",
            desired.owner, acting.version()
        ));
    }
    let mut owner_password_changed = false;
    for (role, _) in &login_roles {
        let stored = rec.passwords.get(role).cloned();
        let rotate = rotate && role == &desired.owner;
        let pw =
            roles::reconcile_password(session, pg, role, stored.as_deref(), rotate, "postgres")?;
        match pw.finding {
            Some(PasswordFinding::StoredNoLongerWorked) => notes.push(format!(
                "the stored password of role {role} no longer worked; it is set again"
            )),
            // The owner's new password is reported by the caller, in one
            // line with the Secrets and workloads it touches.
            Some(PasswordFinding::IssuedForExistingRole) if role != &desired.owner => {
                notes.push(format!(
                    "role {role} existed without a stored password; it gets a new one, now stored"
                ))
            }
            Some(PasswordFinding::StoredUnsettable) => notes.push(format!(
                "the stored password of role {role} (Secret key password.{role}) no longer worked and holds a line break, which is never set on a role; it gets a new one, now stored"
            )),
            Some(PasswordFinding::IssuedForExistingRole) | None => {}
        }
        if role == &desired.owner {
            owner_password_changed =
                pw.set && pw.finding != Some(PasswordFinding::StoredNoLongerWorked);
        }
        rec.passwords.insert(role.clone(), pw.password);
        set_password.insert(role.clone(), pw.set);
    }

    let mut steps: Vec<Step> = Vec::new();
    let mut created: Vec<String> = Vec::new();
    for (role, shape) in &login_roles {
        let fix =
            existing.is_some_and(|r| r.created_roles.contains(role)) || role == &desired.owner;
        let outcome = provision::ensure_role(
            pg,
            &mut steps,
            role,
            RoleOptions {
                shape: *shape,
                password: rec.passwords.get(role).map(String::as_str),
                set_password: set_password[role],
                fix_attributes: fix,
            },
        )?;
        if outcome == RoleOutcome::Created {
            created.push(role.clone());
        }
    }
    for kind in [RoleKind::Anon, RoleKind::Authenticated] {
        if let Some(role) = desired.role(kind)
            && provision::ensure_role(pg, &mut steps, role, RoleOptions::nologin())?
                == RoleOutcome::Created
        {
            created.push(role.clone());
        }
    }
    // A non-superuser admin (managed PostgreSQL, CloudNativePG without
    // superuser access) creates the database and schemas OWNER the app's
    // owner, so it must be able to act as that role: before PostgreSQL 16 a
    // member of it ("must be member of role"), from 16 a member with the SET
    // option ("must be able to SET ROLE"; 16 release notes: "Allow GRANT to
    // control role inheritance and SET ROLE", and CREATEROLE now grants its
    // creator ADMIN without SET). `GRANT owner TO admin`, run by the admin,
    // gives both on every version (SET and INHERIT default to true).
    let admin_role = acting.user.clone();
    if !acting.superuser {
        // The 'SET' privilege of pg_has_role exists from 16 on.
        let privilege = if acting.v16() { "SET" } else { "MEMBER" };
        let can_act_as_owner = !created.contains(&desired.owner)
            && pg
                .query_one(
                    "select pg_has_role(current_user, $1::text::name, $2)",
                    &[&desired.owner, &privilege],
                )?
                .get::<_, bool>(0);
        if !can_act_as_owner {
            steps.push(Step::new(
                None,
                format!(
                    "GRANT {} TO {}",
                    quote_ident(&desired.owner),
                    quote_ident(&admin_role)
                ),
            ));
        }
    }
    let db = desired.database.clone();
    let db_exists = found.database_owner.is_some();
    if !db_exists {
        steps.push(Step::new(
            None,
            format!(
                "CREATE DATABASE {} OWNER {}",
                quote_ident(&db),
                quote_ident(&desired.owner)
            ),
        ));
    }
    if !db_exists || provision::public_can_connect(pg, &db)? {
        steps.push(Step::new(
            None,
            format!(
                "REVOKE CONNECT ON DATABASE {} FROM PUBLIC",
                quote_ident(&db)
            ),
        ));
    }
    for kind in [RoleKind::Authenticator, RoleKind::Readonly] {
        if let Some(role) = desired.role(kind) {
            provision::ensure_connect(pg, &mut steps, &db, role, !db_exists)?;
        }
    }
    if let Some(auth) = desired.role(RoleKind::Authenticator) {
        for kind in [RoleKind::Anon, RoleKind::Authenticated] {
            if let Some(role) = desired.role(kind) {
                provision::ensure_member(
                    pg,
                    &mut steps,
                    role,
                    auth,
                    created.contains(role) || created.contains(auth),
                )?;
            }
        }
    }
    let mut appdb = if db_exists {
        Some(session.connect_admin(&db, super::APPLICATION)?)
    } else {
        None
    };
    for schema in &desired.schemas {
        let owner = match appdb.as_mut() {
            Some(c) => provision::schema_owner(c, schema)?,
            None => None,
        };
        match owner {
            // Every new database has `public`, owned by the database owner.
            None if appdb.is_none() && schema == "public" => {}
            None => steps.push(Step::new(
                Some(&db),
                format!(
                    "CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}",
                    quote_ident(schema),
                    quote_ident(&desired.owner)
                ),
            )),
            Some(o) if o != desired.owner && o != "pg_database_owner" => steps.push(Step::new(
                Some(&db),
                format!(
                    "ALTER SCHEMA {} OWNER TO {}",
                    quote_ident(schema),
                    quote_ident(&desired.owner)
                ),
            )),
            Some(_) => {}
        }
    }
    for ext in &desired.extensions {
        let installed = match appdb.as_mut() {
            Some(c) => provision::extension_installed(c, ext)?,
            None => false,
        };
        if !installed {
            steps.push(Step::new(
                Some(&db),
                format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(ext)),
            ));
        }
    }
    if let Some(ro) = desired.role(RoleKind::Readonly) {
        let schemas = if rec.schemas.is_empty() {
            vec!["public".to_string()]
        } else {
            rec.schemas.clone()
        };
        provision::ensure_read_grants(
            appdb.as_mut(),
            &mut steps,
            &db,
            &schemas,
            &desired.owner,
            ro,
        )?;
    }
    // What the superuser creates in the app's database (a schema file run
    // `--as admin`: schemas, tables, sequences, functions) is usable by the
    // owner without grants written by the user: default privileges of the
    // admin role, for the whole database (every schema, present and future).
    ensure_admin_default_privileges(appdb.as_mut(), &mut steps, &db, &admin_role, &desired.owner)?;
    Ok(Plan {
        steps,
        created,
        notes,
        owner_createrole,
        owner_password_changed,
    })
}

/// The object kinds of `ALTER DEFAULT PRIVILEGES` and the `pg_default_acl`
/// `defaclobjtype` letter of each.
const DEFAULT_PRIVILEGES: [(&str, &str, &str); 4] = [
    ("TABLES", "r", "ALL"),
    ("SEQUENCES", "S", "ALL"),
    ("FUNCTIONS", "f", "EXECUTE"),
    ("SCHEMAS", "n", "ALL"),
];

/// `ALTER DEFAULT PRIVILEGES FOR ROLE admin GRANT ... TO owner` in the app's
/// database for tables, sequences, functions and schemas, unless the admin's
/// default ACL there already names the owner. `appdb` is `None` when the
/// database does not exist yet (everything is planned).
///
/// Errors: the catalog query's (phase `sql`).
pub fn ensure_admin_default_privileges(
    appdb: Option<&mut Client>,
    steps: &mut Vec<Step>,
    db: &str,
    admin: &str,
    owner: &str,
) -> Result<(), Failure> {
    if admin == owner {
        return Ok(());
    }
    let mut have: Vec<String> = Vec::new();
    if let Some(c) = appdb {
        for row in c.query(
            "select d.defaclobjtype::text from pg_default_acl d
               join pg_roles r on r.oid = d.defaclrole
              where r.rolname = $1 and d.defaclnamespace = 0
                and exists (select 1 from aclexplode(d.defaclacl) a
                             where a.grantee = (select oid from pg_roles where rolname = $2))",
            &[&admin, &owner],
        )? {
            have.push(row.get(0));
        }
    }
    for (kind, letter, privilege) in DEFAULT_PRIVILEGES {
        if have.iter().any(|h| h == letter) {
            continue;
        }
        steps.push(Step::new(
            Some(db),
            format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT {privilege} ON {kind} TO {}",
                quote_ident(admin),
                quote_ident(owner)
            ),
        ));
    }
    Ok(())
}

/// `--with-roles postgrest` follows `uis postgrest deploy`'s rules for the
/// roles PostgREST uses (docs/security.md, "PostgREST's roles"): an existing
/// anon, authenticated or authenticator role that is privileged (superuser,
/// the app's or the database's owner, BYPASSRLS/CREATEROLE/CREATEDB/
/// REPLICATION, an owner of objects in the app's schemas, or a member of
/// any of these) is refused, and the suite never sets the password of an
/// existing authenticator it did not create and whose password it did not
/// issue, nor a superuser's.
///
/// Errors: phase `role` with the rule and the fix; `sql` for the catalog.
fn api_roles_fit(
    session: &mut Session,
    pg: &mut Client,
    found: &Found,
    d: &Desired,
    existing: Option<&AppRecord>,
    rec: &AppRecord,
) -> Result<(), Failure> {
    let api: Vec<(RoleKind, &String)> = [
        RoleKind::Anon,
        RoleKind::Authenticated,
        RoleKind::Authenticator,
    ]
    .into_iter()
    .filter_map(|k| d.role(k).map(|r| (k, r)))
    .filter(|(_, r)| !existing.is_some_and(|e| e.created_roles.contains(r)))
    .collect();
    if api.is_empty() {
        return Ok(());
    }
    // Roles that do not exist yet are the suite's to create: one query.
    let names: Vec<&str> = api.iter().map(|(_, r)| r.as_str()).collect();
    let present: Vec<String> = pg
        .query(
            "select rolname::text from pg_roles where rolname = any($1)",
            &[&names],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let api: Vec<(RoleKind, &String)> = api
        .into_iter()
        .filter(|(_, r)| present.contains(r))
        .collect();
    if api.is_empty() {
        return Ok(());
    }
    let mut schemas = d.schemas.clone();
    for s in existing.map(|e| e.schemas.clone()).unwrap_or_default() {
        if !schemas.contains(&s) {
            schemas.push(s);
        }
    }
    // Ownership is per database: read it in the app's database when it
    // exists (a new database holds no objects yet).
    let mut appdb = match found.database_owner {
        Some(_) => Some(session.connect_admin(&d.database, super::APPLICATION)?),
        None => None,
    };
    let ctx = roles::ApiContext {
        app_owner: &d.owner,
        database: &d.database,
        schemas: &schemas,
    };
    for (kind, role) in &api {
        let flag = match kind {
            RoleKind::Anon => "--anon-role",
            RoleKind::Authenticated => "--authenticated-role",
            _ => "--authenticator",
        };
        let c = appdb.as_mut().unwrap_or(pg);
        if let Some(p) = roles::privileged(c, role, &ctx)?.first() {
            return Err(p.refusal(flag, &d.app));
        }
        if *kind != RoleKind::Authenticator {
            continue;
        }
        let stored_works = rec
            .passwords
            .get(*role)
            .cloned()
            .is_some_and(|pw| session.login_works(role, &pw, &d.database));
        let authority = roles::password_authority(c, role, false)?;
        // A stored password that still logs in was the suite's to set; a
        // superuser's never is.
        if let Some(refusal) = authority.refusal(role, "configure")
            && (authority == PasswordAuthority::Superuser || !stored_works)
        {
            return Err(refusal);
        }
    }
    Ok(())
}
