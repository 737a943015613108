//! `uis-db-configure`: an app's database, owner role, schemas, extensions
//! and optional role patterns, with every password stored in the credential
//! store (frictions F1, F6, F9; seed items B.3, B.6, C.1, C.3).
//!
//! Idempotent: it reads the catalog and the store, plans only what is
//! missing ([`plan`]), validates everything before the first change, and
//! stores new passwords before it sets them, so a failure never loses one.
//! `--purge` is [`purge`]; the workloads that read a rotated password are
//! found by [`restart`].

pub mod plan;
pub mod purge;
pub mod restart;

use crate::pg::lock::{self, LockKey};
use crate::pg::provision;
use crate::roles::PostgrestRoles;
use crate::session::Session;
use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::app::{validate_app, validate_ident, validate_new_name, validate_object_prefix};
use uis_core::output::{note, warn};
use uis_kube::store::{self, AppRecord};

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

/// The JSON of a run (a drop-in for `./uis configure postgresql --json`,
/// plus `admin`, `roles` and `next_steps`).
#[derive(Debug, Clone, Serialize)]
pub struct Configured {
    /// `ok` or `already_configured`.
    pub status: &'static str,
    pub service: &'static str,
    pub app: String,
    pub local: Address,
    pub cluster: Address,
    pub database: String,
    pub username: String,
    pub password: String,
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
    /// Workloads that read the old password (`deployment/NAME -n NS`).
    pub restart: Vec<String>,
    pub next_steps: Vec<String>,
}

/// Checks the options before anything is contacted.
///
/// Errors: phase `usage` (exit 2) for an invalid name (naming the flag),
/// or `--purge` without `--yes`.
pub fn validate(opts: &Options) -> Result<(), Failure> {
    let app = &opts.app;
    validate_app(app)?;
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
    for (field, n) in [("--database", &opts.database), ("--owner", &opts.owner)] {
        if let Some(n) = n {
            validate_new_name(field, n)?;
        }
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
        return purge::run(session, &mut pg, &app, existing, opts.dry_run);
    }

    let desired = plan::desired(opts, existing.as_ref())?;
    // Validate against the catalog and the other apps before any change.
    let others: Vec<AppRecord> = session
        .block_on(store::read_all(&cluster, &ns))?
        .into_iter()
        .filter(|r| r.app != app)
        .collect();
    // Who the admin is and the server's version (one query, reused).
    let acting = provision::acting(&mut pg)?;
    let found = plan::validate(&mut pg, &acting, &desired, &others, existing.as_ref())?;

    let mut rec = existing.clone().unwrap_or_default();
    rec.app = app.clone();
    rec.database = desired.database.clone();
    rec.owner = desired.owner.clone();
    merge_unique(&mut rec.schemas, &desired.schemas);
    merge_unique(&mut rec.extensions, &desired.extensions);
    for (k, v) in &desired.roles {
        rec.roles.insert(k.as_str().to_string(), v.clone());
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
    let store_changed = existing.as_ref() != Some(&rec)
        || existing.as_ref().map(|e| &e.passwords) != Some(&rec.passwords);
    let store_secret = format!("{ns}/{}", store::secret_name(&app));

    if opts.dry_run {
        return Ok(Report::DryRun(DryRun {
            status: "dry_run",
            app,
            database: db,
            sql: steps.iter().map(|s| s.shown.clone()).collect(),
            store: StoreChange {
                secret: store_secret,
                would_change: store_changed,
            },
            steps: steps
                .iter()
                .map(|s| ShownStep {
                    database: s.database.clone().unwrap_or_else(|| "postgres".into()),
                    sql: s.shown.clone(),
                })
                .collect(),
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

    // UIS compatibility Secrets, and the workloads that read them.
    let mut restart = Vec::new();
    if opts.rotate || url_secret.is_some() {
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
            secret.metadata.labels = Some(uis_core::app::uis_labels(&app));
            session.block_on(cluster.apply(n, &secret))?;
            if opts.rotate {
                restart.extend(session.block_on(restart::deployments_using(&cluster, n, s))?);
            }
        }
    }

    let status = if steps.is_empty() && !store_changed {
        "already_configured"
    } else {
        "ok"
    };
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
        restart,
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

fn merge_unique(into: &mut Vec<String>, more: &[String]) {
    for m in more {
        if !into.contains(m) {
            into.push(m.clone());
        }
    }
}
