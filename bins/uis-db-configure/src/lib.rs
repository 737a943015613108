//! `uis-db-configure`: an app's database, owner role, schemas, extensions
//! and optional role patterns, with every password stored in the credential
//! store (frictions F1, F6, F9; seed items B.3, B.6, C.1, C.3). A drop-in for
//! `./uis configure postgresql --json`: the same JSON fields, plus `admin`,
//! `roles` and `next_steps`.
//!
//! Idempotent: it reads the catalog and the store, plans only what is
//! missing, validates everything before the first change, and stores new
//! passwords before it sets them, so a failure never loses one.

use clap::{Parser, ValueEnum};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use shared::Failure;
use shared::app::{
    quote_ident, sql_name, validate_app, validate_ident, validate_new_name, validate_object_prefix,
};
use shared::cli::{ClusterArgs, LocatorArgs, PostgrestRoleArgs};
use shared::output::{self, note, warn};
use shared::pg::Login;
use shared::pg::provision::{self, RoleOutcome, RoleShape, Step};
use shared::session::Session;
use shared::store::{self, AppRecord};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Create an app's database, owner role, schemas and extensions, with stored credentials.
///
/// Creates, when missing: the owner role (LOGIN; no SUPERUSER, CREATEROLE or
/// CREATEDB), the database owned by it (so the owner can create schemas and
/// trusted extensions itself), the schemas owned by it, and the extensions
/// (created by the superuser, so untrusted ones work too). CONNECT on the
/// database is revoked from PUBLIC and granted to the app's roles only.
/// Passwords are 32 characters of [A-Za-z0-9], kept in Secret uis-db-APP in
/// the database namespace and never reset by a re-run.
#[derive(Parser, Debug)]
#[command(name = "uis-db-configure", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (^[a-z][a-z0-9-]{0,40}$); read from piped JSON when left out
    pub app: Option<String>,
    /// Database name (default: APP with '-' as '_', then `_db`)
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
    /// Owner role name (default: APP with '-' as '_')
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// Schemas to create, owned by the owner
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub schemas: Vec<String>,
    /// Extensions to create (by the superuser)
    #[arg(long, value_name = "E1,E2", value_delimiter = ',')]
    pub extensions: Vec<String>,
    /// Role patterns to create too
    #[arg(long, value_name = "PATTERN", value_delimiter = ',', value_enum)]
    pub with_roles: Vec<RolePattern>,
    #[command(flatten)]
    pub roles: PostgrestRoleArgs,
    /// Also write Secret PREFIX-db with DATABASE_URL in this namespace (UIS compatibility)
    #[arg(long, value_name = "NS", requires = "secret_name_prefix", value_parser = shared::cli::dns_label)]
    pub namespace: Option<String>,
    /// Prefix of that Secret's name
    #[arg(long, value_name = "P", requires = "namespace")]
    pub secret_name_prefix: Option<String>,
    /// Issue a new owner password and update every Secret that holds it
    #[arg(long, conflicts_with = "purge")]
    pub rotate: bool,
    /// Drop the database, the roles the suite created and the stored credentials
    #[arg(long)]
    pub purge: bool,
    /// Confirm --purge
    #[arg(long)]
    pub yes: bool,
    /// Print the SQL that would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON even on a terminal
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// Named role patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RolePattern {
    /// APP_authenticator (LOGIN NOINHERIT), APP_web_anon and APP_authenticated (NOLOGIN, granted to it)
    Postgrest,
    /// APP_readonly (LOGIN) with SELECT on the schemas' tables, now and later
    Readonly,
}

const EXAMPLES: &str = "Examples:
  uis-db-configure railway --database railway --schemas railway,auth --extensions citext
  uis-db-configure railway --with-roles postgrest --anon-role anon --authenticated-role authenticated --authenticator authenticator
  uis-db-configure railway --rotate
  uis-db-configure railway --dry-run
  uis-db-configure railway --purge --yes";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let json_mode = args.json || !output::stdout_is_terminal();
    output::run_main(json_mode, || run(args, json_mode))
}

/// Everything decided before the first change.
struct Desired {
    app: String,
    database: String,
    owner: String,
    schemas: Vec<String>,
    extensions: Vec<String>,
    /// kind -> role name
    roles: BTreeMap<String, String>,
}

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.app.is_none() {
        let defaults = output::stdin_defaults()?;
        args.app = output::default_str(&defaults, "app");
        if args.database.is_none() {
            args.database = output::default_str(&defaults, "database");
        }
        if args.schemas.is_empty() {
            args.schemas = output::default_list(&defaults, "schemas");
        }
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-db-configure railway`").into());
    };
    validate_app(&app)?;
    if args.purge && !args.yes {
        return Err(Failure::usage(format!(
            "--purge drops database and roles of {app:?} for good; nothing was changed"
        ))
        .hint(format!(
            "add --yes to confirm: `uis-db-configure {app} --purge --yes`"
        ))
        .into());
    }
    for n in &args.schemas {
        validate_new_name("schema", n)?;
    }
    for n in &args.extensions {
        validate_ident("extension", n)?;
    }
    for (field, n) in [("--database", &args.database), ("--owner", &args.owner)] {
        if let Some(n) = n {
            validate_new_name(field, n)?;
        }
    }
    if let Some(p) = &args.secret_name_prefix {
        validate_object_prefix("--secret-name-prefix", p)?;
    }
    args.roles.validate()?;
    if args.roles.any() && !args.with_roles.contains(&RolePattern::Postgrest) {
        args.with_roles.push(RolePattern::Postgrest);
    }

    let mut session = Session::new(&args.cluster_args, &args.locator)?;
    let cluster = session.cluster()?;
    let ns = session.locator.namespace.clone();
    let admin = session.admin()?;
    let mut pg = session.connect_admin("postgres", "uis-db-configure")?;
    // One configure of an app at a time, across machines.
    pg.execute(
        "select pg_advisory_lock(hashtext($1))",
        &[&format!("uis-configure:{app}")],
    )
    .map_err(|e| Failure::from(e).context("cannot take the configure lock"))?;

    let existing = session.block_on(store::read(&cluster, &ns, &app))?;
    if args.purge {
        return purge(
            &mut session,
            &mut pg,
            &app,
            existing,
            args.dry_run,
            json_mode,
        );
    }

    let desired = desired(&args, &app, existing.as_ref())?;
    // Validate against the catalog and the other apps before any change.
    let others: Vec<AppRecord> = session
        .block_on(store::read_all(&cluster, &ns))?
        .into_iter()
        .filter(|r| r.app != app)
        .collect();
    validate(&mut pg, &desired, &others, existing.as_ref())?;

    // Passwords: stored ones are kept; missing or no-longer-working ones are
    // (re)issued; --rotate issues a new owner password.
    let mut rec = existing.clone().unwrap_or_default();
    rec.app = app.clone();
    rec.database = desired.database.clone();
    rec.owner = desired.owner.clone();
    merge_unique(&mut rec.schemas, &desired.schemas);
    merge_unique(&mut rec.extensions, &desired.extensions);
    for (k, v) in &desired.roles {
        rec.roles.insert(k.clone(), v.clone());
    }
    let mut login_roles: Vec<(String, RoleShape)> = vec![(desired.owner.clone(), RoleShape::Login)];
    if let Some(a) = desired.roles.get("authenticator") {
        login_roles.push((a.clone(), RoleShape::Authenticator));
    }
    if let Some(r) = desired.roles.get("readonly") {
        login_roles.push((r.clone(), RoleShape::Login));
    }
    let mut set_password: BTreeMap<String, bool> = BTreeMap::new();
    let mut notes = Vec::new();
    for (role, _) in &login_roles {
        let exists = provision::role(&mut pg, role)?.is_some();
        let stored = rec.passwords.get(role).cloned();
        let rotate = args.rotate && role == &desired.owner;
        let needs = match (&stored, exists) {
            _ if rotate => true,
            (None, _) => true,
            (Some(_), false) => false, // CREATE ROLE sets it
            (Some(pw), true) => {
                let works = session
                    .connect(
                        &Login {
                            user: role.clone(),
                            password: pw.clone(),
                            database: "postgres".into(),
                        },
                        "uis-db-configure",
                    )
                    .is_ok();
                if !works {
                    notes.push(format!(
                        "the stored password of role {role} no longer worked; it is set again"
                    ));
                }
                !works
            }
        };
        if needs && (stored.is_none() || rotate) {
            rec.passwords
                .insert(role.clone(), shared::secret::password());
            if exists && !rotate {
                notes.push(format!(
                    "role {role} existed without a stored password; it gets a new one, now stored"
                ));
            }
        }
        set_password.insert(role.clone(), needs && exists);
    }

    // The plan.
    let mut steps: Vec<Step> = Vec::new();
    let mut created: Vec<String> = Vec::new();
    for (role, shape) in &login_roles {
        let pw = rec.passwords.get(role).cloned();
        let fix = existing
            .as_ref()
            .is_some_and(|r| r.created_roles.contains(role))
            || role == &desired.owner;
        if provision::ensure_role(
            &mut pg,
            &mut steps,
            role,
            *shape,
            pw.as_deref(),
            set_password[role],
            fix,
        )? == RoleOutcome::Created
        {
            created.push(role.clone());
        }
    }
    for kind in ["anon", "authenticated"] {
        if let Some(role) = desired.roles.get(kind)
            && provision::ensure_role(
                &mut pg,
                &mut steps,
                role,
                RoleShape::NoLogin,
                None,
                false,
                false,
            )? == RoleOutcome::Created
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
    let row = pg.query_one(
        "select current_user::text, rolsuper, current_setting('server_version_num')::int
           from pg_roles where rolname = current_user",
        &[],
    )?;
    let (admin_role, admin_is_superuser, server_version): (String, bool, i32) =
        (row.get(0), row.get(1), row.get(2));
    if !admin_is_superuser {
        // The 'SET' privilege of pg_has_role exists from 16 on.
        let privilege = if server_version >= 160000 {
            "SET"
        } else {
            "MEMBER"
        };
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
    let db_exists = provision::database_owner(&mut pg, &db)?.is_some();
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
    if !db_exists || provision::public_can_connect(&mut pg, &db)? {
        steps.push(Step::new(
            None,
            format!(
                "REVOKE CONNECT ON DATABASE {} FROM PUBLIC",
                quote_ident(&db)
            ),
        ));
    }
    for kind in ["authenticator", "readonly"] {
        if let Some(role) = desired.roles.get(kind) {
            provision::ensure_connect(&mut pg, &mut steps, &db, role, !db_exists)?;
        }
    }
    if let Some(auth) = desired.roles.get("authenticator") {
        for kind in ["anon", "authenticated"] {
            if let Some(role) = desired.roles.get(kind) {
                provision::ensure_member(
                    &mut pg,
                    &mut steps,
                    role,
                    auth,
                    created.contains(role) || created.contains(auth),
                )?;
            }
        }
    }
    let mut appdb = if db_exists {
        Some(session.connect_admin(&db, "uis-db-configure")?)
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
    if let Some(ro) = desired.roles.get("readonly") {
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
    drop(appdb);

    let url_secret = match (&args.namespace, &args.secret_name_prefix) {
        (Some(n), Some(p)) => Some((n.clone(), format!("{p}-db"))),
        _ => None,
    };
    if let Some((n, s)) = &url_secret {
        let id = format!("{n}/{s}");
        if !rec.url_secrets.contains(&id) {
            rec.url_secrets.push(id);
        }
    }
    for r in &created {
        if !rec.created_roles.contains(r) {
            rec.created_roles.push(r.clone());
        }
    }
    let store_changed = existing.as_ref() != Some(&rec)
        || existing.as_ref().map(|e| &e.passwords) != Some(&rec.passwords);

    let loc = session.locator.clone();
    let owner_pw = rec
        .passwords
        .get(&desired.owner)
        .cloned()
        .unwrap_or_default();
    let local_url = shared::creds::url(&desired.owner, &owner_pw, &loc.local.0, loc.local.1, &db);
    let cluster_url = shared::creds::url(
        &desired.owner,
        &owner_pw,
        &loc.cluster_host(),
        loc.port,
        &db,
    );

    if args.dry_run {
        let sql: Vec<&str> = steps.iter().map(|s| s.shown.as_str()).collect();
        if json_mode {
            output::print_json(&serde_json::json!({
                "status": "dry_run", "app": app, "database": db, "sql": sql,
                "store": {"secret": format!("{ns}/{}", store::secret_name(&app)), "would_change": store_changed},
            }))?;
        } else {
            let mut text = format!("-- uis-db-configure {app} --dry-run: nothing was changed\n");
            for s in &steps {
                text.push_str(&format!(
                    "\\connect {}\n{};\n",
                    s.database.as_deref().unwrap_or("postgres"),
                    s.shown
                ));
            }
            if steps.is_empty() {
                text.push_str("-- nothing to do: already configured\n");
            }
            output::print(&text)?;
        }
        return Ok(0);
    }

    // Store first: a password is never set before it is kept.
    if store_changed {
        session.block_on(store::write(&cluster, &ns, &rec))?;
    }
    let mut connect = |d: &str| -> Result<postgres::Client, Failure> {
        session.connect_admin(d, "uis-db-configure")
    };
    provision::run(&steps, &mut pg, &mut connect)?;
    for s in &steps {
        note(format!("uis: {}", s.shown));
    }
    for n in &notes {
        warn(n);
    }

    // UIS compatibility Secrets, and the Deployments that read them.
    let mut restart = Vec::new();
    if args.rotate || url_secret.is_some() {
        for id in &rec.url_secrets {
            let Some((n, s)) = id.split_once('/') else {
                continue;
            };
            let mut secret = Secret {
                string_data: Some(BTreeMap::from([(
                    "DATABASE_URL".to_string(),
                    cluster_url.clone(),
                )])),
                type_: Some("Opaque".into()),
                ..Default::default()
            };
            secret.metadata.name = Some(s.to_string());
            secret.metadata.labels = Some(shared::cluster::uis_labels(&app));
            session.block_on(cluster.apply(n, &secret))?;
            if args.rotate {
                restart.extend(session.block_on(deployments_using(&cluster, n, s))?);
            }
        }
    }

    let status = if steps.is_empty() && !store_changed {
        "already_configured"
    } else {
        "ok"
    };
    let mut roles = serde_json::Map::new();
    roles.insert("owner".into(), desired.owner.clone().into());
    for (k, v) in &rec.roles {
        roles.insert(k.clone(), v.clone().into());
    }
    let result = serde_json::json!({
        "status": status,
        "service": "postgresql",
        "app": app,
        "local": {"host": loc.local.0, "port": loc.local.1, "database_url": local_url},
        "cluster": {"host": loc.cluster_host(), "port": loc.port, "database_url": cluster_url},
        "database": db,
        "username": desired.owner,
        "password": owner_pw,
        "schemas": rec.schemas,
        "extensions": rec.extensions,
        "roles": roles,
        "credentials": {"secret": format!("{ns}/{}", store::secret_name(&app)), "retrieve": format!("uis db creds {app}")},
        "admin": {"username": admin.user, "source": admin.source, "retrieve": "uis db creds --admin"},
        "changes": steps.iter().map(|s| s.shown.clone()).collect::<Vec<_>>(),
        "restart": restart,
        "next_steps": [
            format!("uis db psql {app} --as admin -f db/01-roles.sql"),
            format!("uis db seed {app} db/ --as admin"),
            format!("uis postgrest deploy {app} --schemas {}", rec.schemas.first().cloned().unwrap_or_else(|| "public".into())),
            format!("uis jwt mint {app} --write-env .env"),
        ],
    });
    if json_mode {
        output::print_json(&result)?;
    } else {
        let mut t = format!(
            "{status}: database {db} owned by {} ({} change{})\n  password: {} (stored; `uis db creds {app}` prints it)\n  local:    {}\n  cluster:  {}\n",
            desired.owner,
            steps.len(),
            if steps.len() == 1 { "" } else { "s" },
            output::mask(&owner_pw),
            local_url.replace(&owner_pw, &output::mask(&owner_pw)),
            cluster_url.replace(&owner_pw, &output::mask(&owner_pw)),
        );
        if !restart.is_empty() {
            t.push_str(&format!(
                "  restart:  {} (they read the old password)\n",
                restart.join(", ")
            ));
        }
        t.push_str("next:\n");
        for s in result["next_steps"].as_array().into_iter().flatten() {
            t.push_str(&format!("  {}\n", s.as_str().unwrap_or_default()));
        }
        output::print(&t)?;
    }
    Ok(0)
}

fn merge_unique(into: &mut Vec<String>, more: &[String]) {
    for m in more {
        if !into.contains(m) {
            into.push(m.clone());
        }
    }
}

fn desired(args: &Args, app: &str, existing: Option<&AppRecord>) -> Result<Desired, Failure> {
    let base = sql_name(app);
    let database = match (&args.database, existing) {
        (Some(d), Some(r)) if d != &r.database => {
            return Err(Failure::new(
                "validate",
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
    let owner = match (&args.owner, existing) {
        (Some(o), Some(r)) if o != &r.owner => {
            return Err(Failure::new(
                "validate",
                format!("app {app:?} is owned by role {:?}, not {o:?}", r.owner),
            )
            .hint("leave --owner out"));
        }
        (Some(o), _) => o.clone(),
        (None, Some(r)) => r.owner.clone(),
        (None, None) => base.clone(),
    };
    let mut roles = BTreeMap::new();
    if args.with_roles.contains(&RolePattern::Postgrest) {
        for (kind, flag) in args.roles.by_kind() {
            roles.insert(
                kind.to_string(),
                store::pick_role(flag, existing, app, kind),
            );
        }
    } else if let Some(r) = existing {
        for k in ["authenticator", "anon", "authenticated"] {
            if let Some(v) = r.roles.get(k) {
                roles.insert(k.to_string(), v.clone());
            }
        }
    }
    if args.with_roles.contains(&RolePattern::Readonly) {
        roles.insert("readonly".into(), store::default_role_name(app, "readonly"));
    } else if let Some(v) = existing.and_then(|r| r.roles.get("readonly")) {
        roles.insert("readonly".into(), v.clone());
    }
    let names: Vec<&String> = std::iter::once(&owner).chain(roles.values()).collect();
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
        schemas: args.schemas.clone(),
        extensions: args.extensions.clone(),
        roles,
    })
}

fn validate(
    pg: &mut postgres::Client,
    d: &Desired,
    others: &[AppRecord],
    existing: Option<&AppRecord>,
) -> Result<(), Failure> {
    for ext in &d.extensions {
        if !provision::extension_available(pg, ext)? {
            let all = provision::available_extensions(pg)?;
            return Err(Failure::new(
                "validate",
                format!("extension {ext:?} is not available on this server (nothing was changed)"),
            )
            .hint(format!("available: {}", all.join(", "))));
        }
    }
    for other in others {
        let theirs: Vec<&String> = std::iter::once(&other.owner)
            .chain(other.created_roles.iter())
            .collect();
        if theirs.contains(&&d.owner) {
            return Err(Failure::new(
                "validate",
                format!(
                    "role {:?} belongs to app {:?} (nothing was changed)",
                    d.owner, other.app
                ),
            )
            .hint(format!(
                "choose another owner with --owner, e.g. --owner {}_owner",
                sql_name(&d.app)
            )));
        }
        if other.database == d.database {
            return Err(Failure::new(
                "validate",
                format!(
                    "database {:?} belongs to app {:?} (nothing was changed)",
                    d.database, other.app
                ),
            )
            .hint("choose another name with --database"));
        }
        for (kind, role) in &d.roles {
            if other.roles.values().any(|r| r == role) {
                warn(format!(
                    "role {role} ({kind}) is also used by app {}: roles are cluster-wide, so both apps share its grants",
                    other.app
                ));
            }
        }
    }
    if let Some(info) = provision::role(pg, &d.owner)?
        && info.superuser
    {
        return Err(Failure::new(
            "validate",
            format!(
                "role {:?} is a superuser; an app owner must not be (nothing was changed)",
                d.owner
            ),
        )
        .hint("choose another owner with --owner"));
    }
    if let Some(owner) = provision::database_owner(pg, &d.database)?
        && owner != d.owner
    {
        let ours = existing.is_some_and(|r| r.database == d.database);
        if !ours {
            return Err(Failure::new(
                "validate",
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
    Ok(())
}

async fn deployments_using(
    cluster: &shared::cluster::Cluster,
    ns: &str,
    secret: &str,
) -> Result<Vec<String>, Failure> {
    let api: kube::Api<Deployment> = kube::Api::namespaced(cluster.client.clone(), ns);
    let list = cluster
        .call(
            &format!("listing Deployments in {ns}"),
            api.list(&Default::default()),
        )
        .await?;
    Ok(list
        .items
        .iter()
        .filter(|d| {
            serde_json::to_string(&d.spec)
                .unwrap_or_default()
                .contains(&format!("\"{secret}\""))
        })
        .filter_map(|d| {
            d.metadata
                .name
                .clone()
                .map(|n| format!("deployment/{n} -n {ns}"))
        })
        .collect())
}

fn purge(
    session: &mut Session,
    pg: &mut postgres::Client,
    app: &str,
    existing: Option<AppRecord>,
    dry_run: bool,
    json_mode: bool,
) -> anyhow::Result<i32> {
    let Some(rec) = existing else {
        return Err(Failure::new(
            "store",
            format!("app {app:?} is not configured; nothing to purge"),
        )
        .into());
    };
    let cluster = session.cluster()?;
    let pgrst_ns = shared::postgrest::NAMESPACE;
    let deploy = shared::postgrest::name(app);
    if session
        .block_on(cluster.get_opt::<Deployment>(pgrst_ns, &deploy))?
        .is_some()
    {
        return Err(Failure::new(
            "validate",
            format!("PostgREST Deployment {pgrst_ns}/{deploy} still uses the database (nothing was changed)"),
        )
        .hint(format!("remove it first: `uis postgrest deploy {app} --purge --yes`"))
        .into());
    }
    let mut steps = Vec::new();
    if provision::database_owner(pg, &rec.database)?.is_some() {
        steps.push(Step::new(
            None,
            format!("DROP DATABASE {} WITH (FORCE)", quote_ident(&rec.database)),
        ));
    }
    let mut roles: Vec<String> = rec.created_roles.clone();
    if !roles.contains(&rec.owner) {
        roles.insert(0, rec.owner.clone());
    }
    // Members first, so a role is never dropped while granted to another.
    roles.reverse();
    for r in &roles {
        if provision::role(pg, r)?.is_some() {
            steps.push(Step::new(None, format!("DROP OWNED BY {}", quote_ident(r))));
            steps.push(Step::new(None, format!("DROP ROLE {}", quote_ident(r))));
        }
    }
    let secrets: Vec<String> = std::iter::once(format!(
        "{}/{}",
        session.locator.namespace,
        store::secret_name(app)
    ))
    .chain(rec.url_secrets.iter().cloned())
    .collect();
    if dry_run {
        let sql: Vec<&str> = steps.iter().map(|s| s.shown.as_str()).collect();
        output::print_json(
            &serde_json::json!({"status": "dry_run", "app": app, "sql": sql, "delete_secrets": secrets}),
        )?;
        return Ok(0);
    }
    let mut connect = |d: &str| session.connect_admin(d, "uis-db-configure");
    provision::run(&steps, pg, &mut connect)?;
    for id in &secrets {
        if let Some((n, s)) = id.split_once('/') {
            session.block_on(cluster.delete::<Secret>(n, s))?;
        }
    }
    let result = serde_json::json!({
        "status": "purged", "app": app, "database": rec.database,
        "dropped_roles": roles, "deleted_secrets": secrets,
        "changes": steps.iter().map(|s| s.shown.clone()).collect::<Vec<_>>(),
    });
    if json_mode {
        output::print_json(&result)?;
    } else {
        output::print(&format!(
            "purged: database {} and roles {} dropped; credentials deleted\n",
            rec.database,
            roles.join(", ")
        ))?;
    }
    Ok(0)
}
