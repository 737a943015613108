//! `uis-db-configure`: an app's database, owner role, schemas, extensions
//! and optional role patterns, with every password stored in the credential
//! store (frictions F1, F6, F9; seed items B.3, B.6, C.1, C.3).
//!
//! Idempotent: it reads the catalog and the store, plans only what is
//! missing ([`plan`]), validates everything before the first change, tries
//! the Secret writes that follow a password change first (a server-side
//! apply dry run: a refused write stops the run before the role changes),
//! and stores new passwords before it sets them, so a failure never loses
//! one.
//! `--purge` is [`purge`]; the workloads that read a rotated password are
//! found by [`restart`].

pub mod plan;
pub mod purge;
pub mod restart;
pub mod role_spec;

use crate::pg::lock::{self, LockKey};
use crate::pg::provision;
use crate::roles::PostgrestRoles;
use crate::session::Session;
use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::app::{
    validate_app, validate_existing_app, validate_ident, validate_new_name, validate_object_prefix,
};
use uis_core::output::{note, warn};
use uis_kube::store::{self, AppRecord};

/// The host UIS prints in `local` (`./uis configure postgresql --json`):
/// the exposed port as containers on the laptop reach it.
pub const UIS_LOCAL_HOST: &str = "host.docker.internal";

/// The `application_name` of configure's connections.
pub const APPLICATION: &str = "uis-db-configure";

/// What `uis-db-configure` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub app: String,
    /// `--database` (default: the stored one, else `APP_db`).
    pub database: Option<String>,
    /// `--owner` (default: the stored one, else APP's SQL name).
    pub owner: Option<String>,
    pub schemas: Vec<String>,
    pub extensions: Vec<String>,
    /// Create PostgREST's roles (`--with-roles postgrest`, or a role flag).
    pub postgrest: bool,
    /// PostgREST's role names as given.
    pub roles: PostgrestRoles,
    /// Create the readonly role (`--with-roles readonly`).
    pub readonly: bool,
    /// `--with-roles FILE.sql`: a role spec run as the admin ([`role_spec`]).
    pub role_spec: Option<role_spec::RoleSpec>,
    /// Also write Secret `PREFIX-db` with DATABASE_URL in a namespace.
    pub url_secret: Option<UrlSecret>,
    /// `--owner-createrole` (Some(true)) or `--no-owner-createrole`
    /// (Some(false)): CREATEROLE for the app's owner, PostgreSQL 16+ only;
    /// `None` keeps what the owner has.
    pub owner_createrole: Option<bool>,
    /// Issue a new owner password.
    pub rotate: bool,
    /// Drop everything instead ([`purge`]).
    pub purge: bool,
    /// `--purge` is confirmed.
    pub yes: bool,
    /// Plan only.
    pub dry_run: bool,
    /// A purge's dry run planned after PostgREST's removal (`uis onboard
    /// --purge --dry-run` removes the Deployment first): a Deployment still
    /// there does not stop the plan.
    pub after_undeploy: bool,
    /// `--init-file PATH|-`: SQL applied as the owner after creation.
    pub init: Option<InitSql>,
}

/// An init file's SQL (`--init-file PATH|-`), as UIS applies it: as the app's
/// owner, in the app's database, after the database exists; again on every
/// run (init files must be idempotent).
#[derive(Debug, Clone)]
pub struct InitSql {
    /// `PATH`, or `<stdin>`.
    pub name: String,
    pub sql: String,
}

/// A UIS-compatibility Secret holding the owner's DATABASE_URL.
#[derive(Debug, Clone)]
pub struct UrlSecret {
    pub namespace: String,
    /// The Secret is `PREFIX-db`.
    pub prefix: String,
}

/// What a run did.
#[derive(Debug, Clone)]
pub enum Report {
    /// `--dry-run`: the plan, nothing changed.
    DryRun(DryRun),
    /// Configured (or already was).
    Configured(Box<Configured>),
    /// `--purge --dry-run`.
    PurgeDryRun(purge::PurgeDryRun),
    /// `--purge`.
    Purged(purge::Purged),
}

/// A planned statement as shown (passwords masked).
#[derive(Debug, Clone, Serialize)]
pub struct ShownStep {
    /// The database it runs in (`postgres` for the maintenance database).
    pub database: String,
    pub sql: String,
}

/// The JSON of `--dry-run`.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub status: &'static str,
    pub app: String,
    pub database: String,
    /// The statements, as shown.
    pub sql: Vec<String>,
    pub store: StoreChange,
    /// The statements with their databases, for the text form.
    #[serde(skip)]
    pub steps: Vec<ShownStep>,
}

/// Whether the credential store would change.
#[derive(Debug, Clone, Serialize)]
pub struct StoreChange {
    /// `NS/uis-db-APP`.
    pub secret: String,
    pub would_change: bool,
}

/// A host, port and URL with the owner's login.
#[derive(Debug, Clone, Serialize)]
pub struct Address {
    pub host: String,
    pub port: u16,
    pub database_url: String,
}

/// Where the credentials are kept.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    pub secret: String,
    pub retrieve: String,
}

/// The superuser used.
#[derive(Debug, Clone, Serialize)]
pub struct AdminUsed {
    pub username: String,
    pub source: String,
    pub retrieve: &'static str,
}

/// The JSON of a run (a drop-in for `./uis configure postgresql --json`:
/// its fields `status`, `service`, `local` (host.docker.internal and the
/// exposed port, as UIS prints it), `cluster`, `database`, `username`,
/// `password`, `secret_name`, `secret_namespace`, `env_var`,
/// `init_applied`, `rotated`, `message`; plus the suite's own: `localhost`
/// (the host-side form), `admin`, `roles`, `credentials`, `next_steps`...).
#[derive(Debug, Clone, Serialize)]
pub struct Configured {
    /// `ok` or `already_configured`.
    pub status: &'static str,
    pub service: &'static str,
    pub app: String,
    /// As UIS prints it: `host.docker.internal` and the exposed port.
    pub local: Address,
    /// The same from the host (`--local-address`, default localhost:35432).
    pub localhost: Address,
    pub cluster: Address,
    pub database: String,
    pub username: String,
    pub password: String,
    /// The `<prefix>-db` Secret written (`--namespace`/`--secret-name-prefix`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_namespace: Option<String>,
    /// Its key: `DATABASE_URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_var: Option<&'static str>,
    /// Whether `--init-file` ran.
    pub init_applied: bool,
    /// Whether the owner got a new password this run.
    pub rotated: bool,
    /// On a re-run, what happened, in one line (as UIS prints it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the password was read from when it was adopted (`NS/NAME`
    /// of the Secret `./uis configure` wrote).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopted_from: Option<String>,
    /// The Secrets holding the owner's password that this run wrote.
    pub secrets_updated: Vec<String>,
    pub schemas: Vec<String>,
    pub extensions: Vec<String>,
    /// The owner has CREATEROLE (`--owner-createrole`, PostgreSQL 16+):
    /// it runs role DDL itself, limited to the roles it creates.
    pub owner_createrole: bool,
    /// Role names by kind, `owner` included.
    pub roles: BTreeMap<String, String>,
    pub credentials: Stored,
    pub admin: AdminUsed,
    /// The statements run, as shown.
    pub changes: Vec<String>,
    /// `--with-roles FILE.sql`: whether it ran and each role's password
    /// (issued, kept...), never the password itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_spec: Option<role_spec::SpecReport>,
    /// Workloads that read the old password (`deployment/NAME -n NS`,
    /// `statefulset/...`, `cronjob/...`): they must restart.
    pub restart: Vec<String>,
    /// Kinds that could not be listed for `restart` (`statefulsets in NS`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restart_unchecked: Vec<String>,
    pub next_steps: Vec<String>,
}

/// Checks the options before anything is contacted.
///
/// Errors: phase `usage` (exit 2) for an invalid name (naming the flag),
/// or `--purge` without `--yes`.
pub fn validate(opts: &Options) -> Result<(), Failure> {
    let app = &opts.app;
    // Any app UIS allows here; the stricter rule for a new app is checked
    // in `run`, once the catalog says whether the app exists.
    validate_existing_app(app)?;
    if opts.purge && !opts.yes {
        return Err(Failure::usage(format!(
            "--purge drops database and roles of {app:?} for good; nothing was changed"
        ))
        .hint(format!(
            "add --yes to confirm: `uis-db-configure {app} --purge --yes`"
        )));
    }
    for n in &opts.schemas {
        validate_new_name("schema", n)?;
    }
    for n in &opts.extensions {
        validate_ident("extension", n)?;
    }
    // An existing database may have any name UIS allows (checked again
    // with the stricter rule once it is known the suite creates it).
    if let Some(d) = &opts.database {
        uis_core::app::validate_uis_name("--database", d)?;
    }
    if let Some(n) = &opts.owner {
        validate_new_name("--owner", n)?;
    }
    if let Some(u) = &opts.url_secret {
        validate_object_prefix("--secret-name-prefix", &u.prefix)?;
    }
    opts.roles.validate()
}

/// Configures (or purges) the app, under the configure lock of the app
/// (`LockKey::Configure`). Stores passwords before it sets them; with
/// `rotate` or a URL Secret, writes the URL Secrets and lists the
/// Deployments reading them. Progress and warnings go to stderr.
///
/// Errors: [`validate`]'s; phase `validate` for conflicts with the catalog
/// or other apps ([`plan::validate`]); `store` for purging an unknown app;
/// `sql` for a failed statement (naming it); `cluster`/`connect` for the
/// API or PostgreSQL.
pub fn run(session: &mut Session, opts: &Options) -> Result<Report, Failure> {
    validate(opts)?;
    let app = opts.app.clone();
    let cluster = session.cluster()?;
    let ns = session.locator.namespace.clone();
    let admin = session.admin()?;
    let mut pg = session.connect_admin("postgres", APPLICATION)?;
    // One configure of an app at a time, across machines.
    lock::lock(&mut pg, &LockKey::Configure(app.clone()))
        .map_err(|e| Failure::from(e).context("cannot take the configure lock"))?;

    let existing = session.block_on(store::read(&cluster, &ns, &app))?;
    if opts.purge {
        return purge::run(
            session,
            &mut pg,
            &app,
            existing,
            opts.dry_run,
            opts.dry_run && opts.after_undeploy,
        );
    }

    let mut desired = plan::desired(opts, existing.as_ref())?;
    // Validate against the catalog and the other apps before any change.
    let others: Vec<AppRecord> = session
        .block_on(store::read_all(&cluster, &ns))?
        .into_iter()
        .filter(|r| r.app != app)
        .collect();
    // Who the admin is and the server's version (one query, reused).
    let acting = provision::acting(&mut pg)?;
    let mut found = plan::validate(&mut pg, &acting, &desired, &others, existing.as_ref())?;
    // An app `./uis configure postgresql` made (its owner role exists, it
    // is not in the store): its database is the one its Secret's
    // DATABASE_URL names (`atlas-t`), not the default `<role>_db`, unless
    // --database or --owner say otherwise.
    if existing.is_none()
        && found.owner.is_some()
        && opts.database.is_none()
        && opts.owner.is_none()
        && let Some(adopted) = session.block_on(store::adopt(&cluster, &ns, &app))?
        && adopted.database != desired.database
    {
        desired = plan::desired(
            &Options {
                database: Some(adopted.database),
                ..opts.clone()
            },
            None,
        )?;
        found = plan::validate(&mut pg, &acting, &desired, &others, None)?;
    }
    if existing.is_none() && found.owner.is_none() {
        // A new app: the suite creates its names, so the stricter rule
        // (docs/reference/names.md). An app whose owner role exists (one
        // `./uis configure postgresql` made, `Atlas_T`) keeps its name.
        validate_app(&app)?;
    }
    if found.database_owner.is_none() {
        // The suite creates it: the stricter rule.
        validate_new_name("--database", &desired.database)?;
    }

    let mut rec = existing.clone().unwrap_or_default();
    rec.app = app.clone();
    rec.database = desired.database.clone();
    rec.owner = desired.owner.clone();
    merge_unique(&mut rec.schemas, &desired.schemas);
    merge_unique(&mut rec.extensions, &desired.extensions);
    for (k, v) in &desired.roles {
        rec.roles.insert(k.as_str().to_string(), v.clone());
    }
    // Adopt, never silently rotate: an owner role that exists without a
    // stored password (an app `./uis configure postgresql` made) keeps the
    // password UIS wrote, when it still logs in.
    let mut adopted_from = None;
    if !opts.rotate
        && !rec.passwords.contains_key(&desired.owner)
        && provision::role(&mut pg, &desired.owner)?.is_some()
    {
        let mut candidates = Vec::new();
        if let Some(u) = &opts.url_secret {
            let name = format!("{}-db", u.prefix);
            if let Some(found) =
                session.block_on(store::url_secret(&cluster, &u.namespace, &name))?
            {
                candidates.push(found);
            }
        }
        candidates.extend(session.block_on(store::find_url_secrets(
            &cluster,
            &desired.owner,
            Some(&desired.database),
            &ns,
        ))?);
        let check_db = if found.database_owner.is_some() {
            desired.database.as_str()
        } else {
            "postgres"
        };
        for c in candidates {
            if c.url.user != desired.owner || c.url.database != desired.database {
                continue;
            }
            if session.login_works(&desired.owner, &c.url.password, check_db) {
                note(format!(
                    "uis: role {} keeps its password: adopted from Secret {} (DATABASE_URL), where ./uis configure wrote it",
                    desired.owner,
                    c.id()
                ));
                rec.passwords
                    .insert(desired.owner.clone(), c.url.password.clone());
                if !rec.url_secrets.contains(&c.id()) {
                    rec.url_secrets.push(c.id());
                }
                adopted_from = Some(c.id());
                break;
            }
        }
    }
    let plan = plan::plan(
        session,
        &mut pg,
        &found,
        &desired,
        existing.as_ref(),
        &mut rec,
        opts.rotate,
    )?;
    let steps = plan.steps.clone();
    let db = desired.database.clone();

    let url_secret = opts
        .url_secret
        .as_ref()
        .map(|u| (u.namespace.clone(), format!("{}-db", u.prefix)));
    if let Some((n, s)) = &url_secret {
        let id = format!("{n}/{s}");
        if !rec.url_secrets.contains(&id) {
            rec.url_secrets.push(id);
        }
    }
    for r in &plan.created {
        if !rec.created_roles.contains(r) {
            rec.created_roles.push(r.clone());
        }
    }
    // The owner's password changes on an existing role: --rotate, or no
    // working one could be found.
    let rotated = plan.owner_password_changed;
    let store_changed = existing.as_ref() != Some(&rec)
        || existing.as_ref().map(|e| &e.passwords) != Some(&rec.passwords);
    let store_secret = format!("{ns}/{}", store::secret_name(&app));

    if opts.dry_run {
        let mut shown: Vec<ShownStep> = steps
            .iter()
            .map(|s| ShownStep {
                database: s.database.clone().unwrap_or_else(|| "postgres".into()),
                sql: s.shown.clone(),
            })
            .collect();
        let spec_runs = opts
            .role_spec
            .as_ref()
            .filter(|spec| !role_spec::already_applied(&rec, spec));
        if let Some(spec) = spec_runs {
            shown.push(ShownStep {
                database: db.clone(),
                sql: format!(
                    "\\i {} -- as the admin, in one transaction; the LOGIN roles it creates get issued, stored passwords",
                    spec.name
                ),
            });
        }
        return Ok(Report::DryRun(DryRun {
            status: "dry_run",
            app,
            database: db,
            sql: shown.iter().map(|s| s.sql.clone()).collect(),
            store: StoreChange {
                secret: store_secret,
                would_change: store_changed || spec_runs.is_some(),
            },
            steps: shown,
        }));
    }

    let loc = session.locator.clone();
    let owner_pw = rec
        .passwords
        .get(&desired.owner)
        .cloned()
        .unwrap_or_default();
    let local_url = uis_core::creds::url(&desired.owner, &owner_pw, &loc.local.0, loc.local.1, &db);
    let cluster_url = uis_core::creds::url(
        &desired.owner,
        &owner_pw,
        &loc.cluster_host(),
        loc.port,
        &db,
    );

    // The URL Secrets this run writes after the SQL, tried first: a
    // server-side-apply dry run of each, in a namespace that exists. A
    // write the cluster refuses (an immutable Secret, RBAC, a webhook)
    // stops the run here, before the owner's password changes, so the
    // role keeps the password those Secrets hold (docs/security.md,
    // "Rotation").
    if let Some((n, _)) = &url_secret {
        session.block_on(crate::deploy::objects::ensure_namespace(&cluster, n))?;
    }
    let url_secrets: Vec<(String, Secret)> = if rotated || url_secret.is_some() {
        rec.url_secrets
            .iter()
            .filter_map(|id| id.split_once('/'))
            .map(|(n, s)| (n.to_string(), url_secret_object(&app, s, &cluster_url)))
            .collect()
    } else {
        Vec::new()
    };
    for (n, secret) in &url_secrets {
        session
            .block_on(cluster.apply_dry_run(n, secret))
            .map_err(|mut f| {
                f.detail.push_str(&format!(
                    "; nothing was changed: role {} keeps its password and the Secrets their values",
                    desired.owner
                ));
                f
            })?;
    }

    // Store first: a password is never set before it is kept.
    if store_changed {
        session.block_on(store::write(&cluster, &ns, &rec))?;
    }
    let mut connect = |d: &str| session.connect_admin(d, APPLICATION);
    provision::run(&steps, &mut pg, &mut connect)?;
    for s in &steps {
        note(format!("uis: {}", s.shown));
    }
    for n in &plan.notes {
        warn(n);
    }

    // What a failure of --with-roles FILE or --init-file removes: on the
    // create path, the database and the roles this run created.
    let created_db = steps.iter().any(|s| s.sql.starts_with("CREATE DATABASE "));
    let undo = Undo {
        app: &app,
        ns: &ns,
        db: &db,
        owner: &desired.owner,
        created_db,
        existing: existing.as_ref(),
    };

    // --with-roles FILE.sql, as the admin, in the app's database.
    let mut spec_report = None;
    let mut created_roles = plan.created.clone();
    if let Some(spec) = &opts.role_spec {
        let mut write = |s: &mut Session, r: &AppRecord| s.block_on(store::write(&cluster, &ns, r));
        match role_spec::apply(session, &mut pg, &db, spec, &mut rec, &mut write) {
            Ok(a) => {
                created_roles.extend(a.created_now);
                spec_report = Some(a.report);
            }
            Err(e) => {
                return Err(undo.run(session, &mut pg, &cluster, &created_roles, e));
            }
        }
    }

    // --init-file, as the owner, in the app's database.
    let mut init_applied = false;
    if let Some(init) = &opts.init {
        let login = crate::pg::Login {
            user: desired.owner.clone(),
            password: owner_pw.clone(),
            database: db.clone(),
        };
        if let Err(e) = run_init(session, &login, init) {
            let f = Failure::new(
                uis_core::error::Phase::Sql,
                format!("--init-file {}: {}", init.name, e.detail),
            )
            .hint("fix the file and run the same command again (init files run on every run: keep them idempotent)");
            return Err(undo.run(session, &mut pg, &cluster, &created_roles, f));
        }
        init_applied = true;
        note(format!(
            "uis: applied --init-file {} as {}",
            init.name, desired.owner
        ));
    }

    // UIS compatibility Secrets, and the workloads that read them.
    let mut restart = Vec::new();
    let mut restart_unchecked = Vec::new();
    let mut secrets_updated = Vec::new();
    if store_changed {
        secrets_updated.push(store_secret.clone());
    }
    for (n, secret) in &url_secrets {
        session.block_on(cluster.apply(n, secret))?;
        secrets_updated.push(format!(
            "{n}/{}",
            secret.metadata.name.clone().unwrap_or_default()
        ));
    }
    if rotated {
        let mut seen = Vec::new();
        for id in &secrets_updated {
            let Some((n, s)) = id.split_once('/') else {
                continue;
            };
            if seen.contains(id) {
                continue;
            }
            seen.push(id.clone());
            for w in session.block_on(restart::workloads_using(
                &cluster,
                n,
                s,
                &mut restart_unchecked,
            ))? {
                if !restart.contains(&w) {
                    restart.push(w);
                }
            }
        }
        let why = if opts.rotate {
            "--rotate"
        } else {
            "no working password was found for it"
        };
        let restart_text = if restart.is_empty() {
            "no workload found reading them".to_string()
        } else {
            format!("restart {}", restart.join(", "))
        };
        warn(format!(
            "role {} has a NEW password ({why}); Secrets updated: {}; {restart_text}",
            desired.owner,
            secrets_updated.join(", ")
        ));
    }

    let db_created = created_db;
    let spec_changed = spec_report.as_ref().is_some_and(|r| {
        r.applied
            || r.roles.iter().any(|x| {
                matches!(
                    x.password,
                    role_spec::PasswordAction::Issued | role_spec::PasswordAction::SetAgain
                )
            })
    });
    let status = if steps.is_empty() && !store_changed && !spec_changed {
        "already_configured"
    } else {
        "ok"
    };
    // UIS's `message` on a re-run: the database was there already.
    let message = (!db_created).then(|| {
        let pw = if rotated {
            "password rotated"
        } else if adopted_from.is_some() {
            "existing password adopted"
        } else {
            "existing password reused"
        };
        let init = if init_applied {
            "; init file re-applied"
        } else {
            ""
        };
        format!("database {db} already exists; {pw}{init}")
    });
    let mut roles = BTreeMap::new();
    roles.insert("owner".to_string(), desired.owner.clone());
    for (k, v) in &rec.roles {
        roles.insert(k.clone(), v.clone());
    }
    let first_schema = rec
        .schemas
        .first()
        .cloned()
        .unwrap_or_else(|| "public".into());
    Ok(Report::Configured(Box::new(Configured {
        status,
        service: "postgresql",
        local: Address {
            host: UIS_LOCAL_HOST.to_string(),
            port: loc.local.1,
            database_url: uis_core::creds::url(
                &desired.owner,
                &owner_pw,
                UIS_LOCAL_HOST,
                loc.local.1,
                &db,
            ),
        },
        localhost: Address {
            host: loc.local.0.clone(),
            port: loc.local.1,
            database_url: local_url,
        },
        cluster: Address {
            host: loc.cluster_host(),
            port: loc.port,
            database_url: cluster_url,
        },
        database: db,
        username: desired.owner.clone(),
        password: owner_pw,
        secret_name: url_secret.as_ref().map(|(_, s)| s.clone()),
        secret_namespace: url_secret.as_ref().map(|(n, _)| n.clone()),
        env_var: url_secret.as_ref().map(|_| "DATABASE_URL"),
        init_applied,
        rotated,
        message,
        adopted_from,
        secrets_updated,
        schemas: rec.schemas.clone(),
        extensions: rec.extensions.clone(),
        owner_createrole: plan.owner_createrole,
        roles,
        credentials: Stored {
            secret: store_secret,
            retrieve: format!("uis db creds {app}"),
        },
        admin: AdminUsed {
            username: admin.user,
            source: admin.source,
            retrieve: "uis db creds --admin",
        },
        changes: steps.iter().map(|s| s.shown.clone()).collect(),
        role_spec: spec_report,
        restart,
        restart_unchecked,
        next_steps: vec![
            if plan.owner_createrole {
                // The owner runs role DDL itself (CREATEROLE, 16+).
                format!("uis db psql {app} -f db/01-roles.sql")
            } else {
                format!("uis db psql {app} --as admin -f db/01-roles.sql")
            },
            format!("uis db seed {app} db/ --as admin"),
            format!("uis postgrest deploy {app} --schemas {first_schema}"),
            format!("uis jwt mint {app} --write-env .env"),
        ],
        app,
    })))
}

/// The UIS-compatibility Secret `name` with the owner's `DATABASE_URL`.
fn url_secret_object(app: &str, name: &str, url: &str) -> Secret {
    let mut secret = Secret {
        string_data: Some(BTreeMap::from([(
            "DATABASE_URL".to_string(),
            url.to_string(),
        )])),
        type_: Some("Opaque".into()),
        ..Default::default()
    };
    secret.metadata.name = Some(name.to_string());
    secret.metadata.labels = Some(uis_core::app::uis_labels(app));
    secret
}

/// Undoing a failed run's creations (`--with-roles FILE`, `--init-file`):
/// on the create path the database goes; the roles this run created go;
/// the store goes when everything in it was made by this run, else the
/// record before the run is written back.
struct Undo<'a> {
    app: &'a str,
    ns: &'a str,
    db: &'a str,
    owner: &'a str,
    created_db: bool,
    existing: Option<&'a AppRecord>,
}

impl Undo<'_> {
    /// Undoes, and returns `failure` with what was removed (and what could
    /// not be) added to its detail.
    fn run(
        &self,
        session: &mut Session,
        pg: &mut postgres::Client,
        cluster: &uis_kube::cluster::Cluster,
        created_roles: &[String],
        mut failure: Failure,
    ) -> Failure {
        let db = self.db;
        let mut undo = Vec::new();
        if self.created_db {
            undo.push(provision::Step::new(
                None,
                format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    uis_core::app::quote_ident(db)
                ),
            ));
        }
        for r in created_roles.iter().rev() {
            undo.push(provision::Step::new(
                None,
                format!("DROP ROLE IF EXISTS {}", uis_core::app::quote_ident(r)),
            ));
        }
        let mut connect = |d: &str| session.connect_admin(d, APPLICATION);
        let undone = provision::run(&undo, pg, &mut connect);
        // The store goes only when everything in it was made by this run
        // (a password set on an existing role must stay kept).
        if self.existing.is_none()
            && self.created_db
            && created_roles.iter().any(|r| r == self.owner)
        {
            let _ =
                session.block_on(cluster.delete::<Secret>(self.ns, &store::secret_name(self.app)));
        } else if let Some(old) = self.existing {
            let _ = session.block_on(store::write(cluster, self.ns, old));
        }
        if self.created_db {
            failure.detail.push_str(&format!(
                "; the database {db} and the roles this run created ({}) were removed",
                created_roles.join(", ")
            ));
        }
        if let Err(u) = undone {
            failure
                .detail
                .push_str(&format!("; removing them failed too: {}", u.detail));
        }
        failure
    }
}

fn merge_unique(into: &mut Vec<String>, more: &[String]) {
    for m in more {
        if !into.contains(m) {
            into.push(m.clone());
        }
    }
}

/// Runs the init SQL as `login` with the suite's psql-compatible engine,
/// its output on stderr (stdout is the JSON), stopping at the first error.
fn run_init(
    session: &mut Session,
    login: &crate::pg::Login,
    init: &InitSql,
) -> Result<(), Failure> {
    let ep = session.endpoint()?;
    let config = crate::pg::config(&ep, login, APPLICATION);
    let client = session.connect_config(&config, login)?;
    let mut runner = uis_script::Runner::new(
        client,
        Box::new(session.script_connector(config)?),
        uis_script::Options::default(),
    );
    let mut err = std::io::stderr();
    let mut out = std::io::stderr();
    runner
        .run(
            vec![uis_script::Source::Command(init.sql.clone())],
            &mut out,
            &mut err,
        )
        .map(|_| ())
        .map_err(|e| {
            let mut d = e.to_string();
            if let Some(st) = &e.statement {
                d.push_str(&format!(
                    " (statement: {})",
                    st.lines().next().unwrap_or_default()
                ));
            }
            Failure::new(uis_core::error::Phase::Sql, d)
        })
}
