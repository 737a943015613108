//! `uis-postgrest-deploy`: PostgREST for one app, with its roles, JWT
//! secret, Secret, Deployment, Service and IngressRoute, and a rollout wait
//! that reports causes (frictions F5, F8, F9, F10; seed items B.5, B.6).
//! Nothing is left to patch by hand: every `PGRST_*` value is bound from the
//! Secret, the customer's own role names are honoured, and a re-run changes
//! nothing. The SQL is [`plan`], the cluster objects [`objects`], removal
//! [`undeploy`], what anon can read before and after [`access`].
//!
//! Two rules hold on every run (docs/security.md, "PostgREST's roles and
//! re-runs"): the three API roles are never privileged
//! ([`roles::privileged`]), and a re-run changes only what its flags ask:
//! every choice is recorded ([`DeployRecord`]) and taken from the record
//! when its flag is not given.

pub mod access;
pub mod objects;
pub mod plan;
pub mod undeploy;

use crate::pg::lock::{self, LockKey};
use crate::pg::provision;
use crate::postgrest_state;
pub use crate::postgrest_state::{DeployRecord, Grants};
use crate::roles::{self, PostgrestRoles};
use crate::session::Session;
use plan::RoleNames;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use uis_core::Failure;
use uis_core::app::{RoleKind, validate_existing_app, validate_ident, validate_new_name};
use uis_core::error::Phase;
use uis_core::output::{note, warn};
use uis_kube::store;
use uis_postgrest as pgrst;

/// The `application_name` of deploy's connections.
pub const APPLICATION: &str = "uis-postgrest-deploy";

/// What `uis-postgrest-deploy` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub app: String,
    /// `--database`: must be the app's.
    pub database: Option<String>,
    /// Exposed schemas; empty: the recorded ones, else the app's, else
    /// `public`.
    pub schemas: Vec<String>,
    /// Role names; `None`: the recorded, else the app's, else the default.
    pub roles: PostgrestRoles,
    /// `--grants`; `None`: the recorded choice, else `anon-select`.
    pub grants: Option<Grants>,
    /// Host prefix of `http://PREFIX.localhost` (`None`: the recorded one,
    /// else `api-APP`).
    pub url_prefix: Option<String>,
    /// `None`: the recorded image, else [`pgrst::DEFAULT_IMAGE`].
    pub image: Option<String>,
    /// `None`: the recorded number, else 2.
    pub replicas: Option<i32>,
    pub jwt_aud: Option<String>,
    /// `--cors-origins`: the only origins browsers may call the API from
    /// (`None`: any origin, PostgREST's default).
    pub cors_origins: Option<Vec<String>>,
    pub dry_run: bool,
    /// Wait for Available.
    pub wait: bool,
    pub timeout: Duration,
    pub rotate_jwt_secret: bool,
    pub rotate_password: bool,
    /// Only wait for the existing Deployment.
    pub status: bool,
    pub undeploy: bool,
    pub purge: bool,
    /// `--purge` is confirmed.
    pub yes: bool,
    /// Roles, JWT secret and Secret only; no Deployment, Service or
    /// IngressRoute (what `./uis configure postgrest` does).
    pub secret_only: bool,
}

/// What a run did.
#[derive(Debug, Clone)]
pub enum Report {
    /// `--status`: the Deployment is Available.
    Available(Available),
    DryRun(Box<DryRun>),
    Deployed(Box<Deployed>),
    UndeployDryRun(undeploy::UndeployDryRun),
    Undeployed(undeploy::Undeployed),
}

/// The JSON of `--status`.
#[derive(Debug, Clone, Serialize)]
pub struct Available {
    pub status: &'static str,
    pub app: String,
    pub namespace: &'static str,
    pub deployment: String,
}

/// The JSON of `--dry-run`: the SQL and the manifests (secrets masked).
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub status: &'static str,
    pub app: String,
    pub namespace: &'static str,
    pub sql: Vec<String>,
    /// What the anon role would newly read, or no longer read, through the
    /// API.
    pub anon_reads: access::AnonReads,
    /// What the deploy would record (and a later re-run keep).
    pub record: DeployRecord,
    /// Secret, Deployment, Service, IngressRoute (`null` without the CRD).
    pub manifests: Vec<Value>,
    /// Whether applying them would create or change any (a server-side
    /// apply dry run, as a deploy decides `unchanged`).
    pub objects_would_change: bool,
    /// What would change, a line per object created or field changed
    /// (`Deployment postgrest/APP-postgrest: spec.replicas 2 -> 3`; a
    /// Secret's keys by name only).
    pub object_changes: Vec<String>,
}

/// PostgREST's role names in the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Roles {
    pub authenticator: String,
    pub anon: String,
    pub authenticated: String,
}

/// The JSON of a deploy.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    /// `ok` or `unchanged`.
    pub status: &'static str,
    pub app: String,
    pub database: String,
    pub namespace: &'static str,
    pub secret: String,
    pub deployment: String,
    pub roles: Roles,
    pub schemas: Vec<String>,
    pub in_cluster_url: String,
    /// `http://PREFIX.localhost`; `None` without the IngressRoute CRD.
    pub public_url: Option<String>,
    pub jwt_aud: Option<String>,
    /// `anon-select` or `none`.
    pub grants: &'static str,
    pub image: String,
    pub replicas: i32,
    /// What the anon role newly reads, or no longer reads, through the API.
    pub anon_reads: access::AnonReads,
    pub available: bool,
    pub created_roles: Vec<String>,
    /// What this run changed: each SQL step as shown, then a line per
    /// cluster object created or field changed (as the dry run's
    /// `object_changes`; a Secret's keys by name only). Empty when
    /// `unchanged`.
    pub changes: Vec<String>,
    pub next_steps: Vec<String>,
}

/// Checks the options before anything is contacted.
///
/// Errors: phase `usage` (exit 2), naming the flag; `--purge` without
/// `--yes`.
pub fn validate(opts: &Options) -> Result<(), Failure> {
    let app = &opts.app;
    validate_existing_app(app)?;
    pgrst::check_app_name(app)?;
    if opts.purge && !opts.yes {
        return Err(Failure::usage(format!(
            "--purge drops the PostgREST roles and Secret of {app:?}; nothing was changed"
        ))
        .hint(format!(
            "add --yes to confirm: `uis-postgrest-deploy {app} --purge --yes`"
        )));
    }
    for s in &opts.schemas {
        validate_new_name("schema", s)?;
    }
    if let Some(d) = &opts.database {
        validate_ident("--database", d)?;
    }
    opts.roles.validate()?;
    if let Some(p) = &opts.url_prefix {
        pgrst::check_url_prefix(p)
            .map_err(|why| Failure::usage(format!("invalid --url-prefix {why}")))?;
    }
    if let Some(i) = &opts.image {
        pgrst::check_image(i).map_err(|why| Failure::usage(format!("invalid --image {why}")))?;
    }
    // PostgREST's rule for PGRST_JWT_AUD: a value with ':' must be an
    // RFC 3986 URI (else PostgREST refuses to start).
    if let Some(aud) = &opts.jwt_aud
        && !pgrst::jwt::uri::valid_jwt_aud(aud)
    {
        return Err(Failure::usage(format!(
            "invalid --jwt-aud {aud:?}: {} (a value with ':' must be an RFC 3986 URI, e.g. https://railway.example or urn:example:api)",
            pgrst::jwt::uri::MSG_BAD_AUD
        )));
    }
    for origin in opts.cors_origins.iter().flatten() {
        pgrst::check_cors_origin(origin)
            .map_err(|why| Failure::usage(format!("invalid --cors-origins: {why}")))?;
    }
    Ok(())
}

/// Deploys (or reports, undeploys, purges) PostgREST for the app, under
/// the deploy lock of the app (`LockKey::Postgrest`): validates the
/// database and schemas, plans and runs the SQL (passwords stored first),
/// keeps the JWT secret (32+ characters) unless rotating, applies Secret,
/// Deployment, Service and IngressRoute, and waits for Available. Progress
/// and warnings go to stderr.
///
/// Errors: [`validate`]'s; phase `store` for an unconfigured app;
/// `validate` for a missing database or schema, a wrong `--database`, a
/// short JWT secret; `usage` for one name given to two roles; `sql`,
/// `cluster`, `connect`, and the rollout's failure with its causes.
pub fn run(session: &mut Session, opts: &Options) -> Result<Report, Failure> {
    validate(opts)?;
    let app = opts.app.clone();
    let cluster = session.cluster()?;
    let name = pgrst::name(&app);
    let ns = pgrst::NAMESPACE;
    if opts.status {
        session.block_on(uis_kube::rollout::wait_available(
            &cluster,
            ns,
            &name,
            opts.timeout,
        ))?;
        return Ok(Report::Available(Available {
            status: "available",
            app,
            namespace: ns,
            deployment: name,
        }));
    }
    if opts.undeploy || opts.purge {
        return undeploy::run(session, &app, opts.purge, opts.dry_run);
    }

    let rec = session.app(&app)?;
    if let Some(d) = &opts.database
        && d != &rec.database
    {
        return Err(Failure::new(
            Phase::Validate,
            format!("app {app:?} uses database {:?}, not {d:?}", rec.database),
        )
        .hint(format!("leave --database out, or configure that database: `uis db configure {app} --database {d}`")));
    }
    let db = rec.database.clone();
    let mut pg = session.connect_admin("postgres", APPLICATION)?;
    lock::lock(&mut pg, &LockKey::Postgrest(app.clone()))?;
    // What an earlier deploy left: its record, else the live objects.
    let crd = session.block_on(objects::ingress_crd_exists(&cluster))?;
    let live = session.block_on(postgrest_state::read_live(&cluster, &app, crd))?;
    let recorded = live.record.clone();
    let legacy = (recorded.is_none() && live.deployed())
        .then(|| pgrst::Config::from_settings(&app, live.settings.clone()));
    let schemas = if !opts.schemas.is_empty() {
        opts.schemas.clone()
    } else if let Some(r) = &recorded {
        r.schemas.clone()
    } else if let Some(s) = live.schemas.clone().filter(|s| !s.is_empty()) {
        s
    } else if !rec.schemas.is_empty() {
        rec.schemas.clone()
    } else {
        vec!["public".to_string()]
    };
    let [authenticator, anon, authenticated] = opts.roles.by_kind().map(|(kind, flag)| {
        let from_record = recorded.as_ref().map(|r| match kind {
            RoleKind::Authenticator => r.authenticator.clone(),
            RoleKind::Anon => r.anon.clone(),
            _ => r.authenticated.clone(),
        });
        let from_live = legacy
            .as_ref()
            .map(|c| match kind {
                RoleKind::Authenticator => c.authenticator.clone(),
                RoleKind::Anon => c.anon_role.clone(),
                _ => String::new(),
            })
            .filter(|r| !r.is_empty());
        flag.clone()
            .or(from_record)
            .or(from_live)
            .unwrap_or_else(|| store::pick_role(&None, Some(&rec), &app, kind.as_str()))
    });
    if authenticator == anon || authenticator == authenticated || anon == authenticated {
        return Err(Failure::usage(
            "--authenticator, --anon-role and --authenticated-role must be three different roles",
        ));
    }
    let names = RoleNames {
        authenticator,
        anon,
        authenticated,
    };
    let url_prefix = opts
        .url_prefix
        .clone()
        .or_else(|| recorded.as_ref().map(|r| r.url_prefix.clone()))
        .or_else(|| live.url_prefix.clone())
        .unwrap_or_else(|| pgrst::PublicRoute::default_for(&app).prefix);
    let image = opts
        .image
        .clone()
        .or_else(|| recorded.as_ref().map(|r| r.image.clone()))
        .or_else(|| live.image.clone())
        .unwrap_or_else(|| pgrst::DEFAULT_IMAGE.to_string());
    let replicas = opts
        .replicas
        .or_else(|| recorded.as_ref().map(|r| r.replicas))
        .or(live.replicas)
        .unwrap_or(2);

    // Validate before any change: the database and schemas exist.
    if provision::database_owner(&mut pg, &db)?.is_none() {
        return Err(Failure::new(
            Phase::Validate,
            format!("database {db:?} does not exist (nothing was changed)"),
        )
        .hint(format!(
            "create it: `uis db configure {app} --database {db}`"
        )));
    }
    let mut appdb = session.connect_admin(&db, APPLICATION)?;
    for s in &schemas {
        if provision::schema_owner(&mut appdb, s)?.is_none() {
            return Err(Failure::new(Phase::Validate, format!("schema {s:?} does not exist in database {db:?} (nothing was changed)"))
                .hint(format!("create it: `uis db configure {app} --schemas {s}` or in your DDL (`uis db psql {app} -c 'CREATE SCHEMA {s}'`)")));
        }
    }
    // API roles are never privileged: refused before any change.
    let ctx = roles::ApiContext {
        app_owner: &rec.owner,
        database: &db,
        schemas: &schemas,
    };
    for (flag, role) in [
        ("--anon-role", &names.anon),
        ("--authenticated-role", &names.authenticated),
        ("--authenticator", &names.authenticator),
    ] {
        if let Some(p) = roles::privileged(&mut appdb, role, &ctx)?.first() {
            return Err(p.refusal(flag, &app));
        }
    }
    // The grants: the flag, else the record, else (a deployment made before
    // the record) what the catalog shows, else anon-select. Grants are
    // planned only on a first deploy or when --grants or --schemas is given:
    // a re-run without them never widens what anon reads.
    let grants = match (opts.grants, &recorded) {
        (Some(g), _) => g,
        (None, Some(r)) => r.grants,
        (None, None) if live.deployed() => {
            if access::reads_everything(&mut appdb, &names.anon, &schemas)? {
                Grants::AnonSelect
            } else {
                Grants::None
            }
        }
        (None, None) => Grants::AnonSelect,
    };
    // A new anon role (--anon-role) gets the recorded grants too: asked.
    let anon_changed = recorded.as_ref().is_some_and(|r| r.anon != names.anon)
        || legacy.as_ref().is_some_and(|c| c.anon_role != names.anon);
    let grants_asked =
        !live.deployed() || opts.grants.is_some() || !opts.schemas.is_empty() || anon_changed;
    let anon_select = grants == Grants::AnonSelect && grants_asked;
    if grants == Grants::AnonSelect && !grants_asked {
        let mut missing = Vec::new();
        provision::ensure_read_grants(
            Some(&mut appdb),
            &mut missing,
            &db,
            &schemas,
            &rec.owner,
            &names.anon,
        )?;
        if !missing.is_empty() {
            note(format!(
                "uis: {} lacks {} of the anon-select grants (e.g. `{}`); a re-run without --grants or --schemas never widens what anon reads: grant them with `uis postgrest deploy {app} --grants anon-select`",
                names.anon,
                missing.len(),
                missing[0].shown
            ));
        }
    }
    // Roles are cluster-wide: say so when another app's PostgREST uses one.
    let others = session.block_on(store::read_all(&cluster, &session.locator.namespace))?;
    let ours = [&names.authenticator, &names.anon, &names.authenticated].map(String::as_str);
    for shared in roles::shared_with(&others, &app, &ours) {
        if !shared.as_owner {
            warn(format!(
                "role {} is also used by app {}'s PostgREST: roles are cluster-wide, so both apps share its grants",
                shared.role, shared.other_app
            ));
        }
    }

    let plan = plan::plan(
        session,
        &mut pg,
        &mut appdb,
        &plan::PlanInput {
            roles: &names,
            database: &db,
            schemas: &schemas,
            owner: &rec.owner,
            stored_password: rec.passwords.get(&names.authenticator).map(String::as_str),
            rotate_password: opts.rotate_password,
            anon_select,
            authenticator_created: rec.created_roles.contains(&names.authenticator),
        },
    )?;
    // What anon reads through the API before and after this run.
    let before: Vec<String> = if live.deployed() {
        live.schemas.clone().unwrap_or_default()
    } else {
        Vec::new()
    };
    let granted: &[String] = if anon_select { &schemas } else { &[] };
    let before_anon = recorded
        .as_ref()
        .map(|r| r.anon.clone())
        .or_else(|| legacy.as_ref().map(|c| c.anon_role.clone()))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| names.anon.clone());
    let anon_reads = access::anon_reads(
        &mut appdb,
        (&before_anon, &before),
        (&names.anon, &schemas),
        granted,
    )?;
    drop(appdb);
    let steps = &plan.steps;
    let password = plan.password.clone();
    let mut new_rec = rec.clone();
    new_rec
        .passwords
        .insert(names.authenticator.clone(), password.clone());
    for (kind, role) in [
        (RoleKind::Authenticator, &names.authenticator),
        (RoleKind::Anon, &names.anon),
        (RoleKind::Authenticated, &names.authenticated),
    ] {
        new_rec.roles.insert(kind.as_str().into(), role.clone());
    }
    for r in &plan.created {
        if !new_rec.created_roles.contains(r) {
            new_rec.created_roles.push(r.clone());
        }
    }

    // The JWT secret: kept across runs, enforced at 32+ characters.
    let existing_settings = &live.settings;
    let jwt_secret = match existing_settings.get(pgrst::KEY_JWT_SECRET) {
        Some(s) if !opts.rotate_jwt_secret => {
            // PostgREST's rule, in bytes (after base64 decoding when set).
            let base64 = existing_settings
                .get(pgrst::KEY_JWT_SECRET_IS_BASE64)
                .and_then(|v| pgrst::pgrst_bool(v))
                .unwrap_or(false);
            if let Err(e) = pgrst::jwt::key_set(s, base64) {
                return Err(Failure::new(
                    Phase::Validate,
                    format!("the JWT secret in Secret {ns}/{name} is refused by PostgREST ({} bytes): {} (nothing was changed)", s.len(), e.message),
                )
                .hint(format!("issue a new one: `uis postgrest deploy {app} --rotate-jwt-secret`")));
            }
            s.clone()
        }
        _ => uis_core::secret::generate(uis_core::secret::JWT_SECRET_LEN),
    };
    let jwt_aud = opts
        .jwt_aud
        .clone()
        .or_else(|| existing_settings.get(pgrst::KEY_JWT_AUD).cloned());
    // CORS: the origins asked for, else those of the Secret the pods read
    // (a legacy "*", which PostgREST matches literally, allowing no browser,
    // is dropped), else the recorded ones.
    let cors = match (
        &opts.cors_origins,
        existing_settings.get(pgrst::KEY_CORS_ORIGINS),
    ) {
        (Some(o), _) => Some(o.clone()),
        // What the pods run with: the Secret's value (a hand edit stays).
        (None, Some(v)) => Some(v)
            .filter(|v| !v.is_empty() && v.split(',').all(|o| o.trim() != "*"))
            .map(|v| v.split(',').map(|o| o.trim().to_string()).collect()),
        (None, None) => recorded.as_ref().and_then(|r| r.cors_origins.clone()),
    };
    let record = DeployRecord {
        schemas: schemas.clone(),
        grants,
        authenticator: names.authenticator.clone(),
        anon: names.anon.clone(),
        authenticated: names.authenticated.clone(),
        url_prefix: url_prefix.clone(),
        jwt_aud: jwt_aud.clone(),
        image: image.clone(),
        replicas,
        cors_origins: cors.clone(),
    };
    let loc = session.locator.clone();
    let db_uri = uis_core::creds::url(
        &names.authenticator,
        &password,
        &loc.cluster_host(),
        loc.port,
        &db,
    );
    let mut settings = pgrst::settings(
        &db_uri,
        &schemas,
        &names.anon,
        &jwt_secret,
        jwt_aud.as_deref(),
    );
    pgrst::set_cors_origins(&mut settings, cors.as_deref());
    // JWT settings added to the Secret by hand stay, and are bound into the
    // pods like the rest. The base64 flag goes with the secret it decodes: a
    // new (plain) secret sets it to false, since a key left out of a Secret
    // apply stays in the Secret.
    for key in [
        pgrst::KEY_JWT_ROLE_CLAIM_KEY,
        pgrst::KEY_DB_CONFIG,
        pgrst::KEY_JWT_SECRET_IS_BASE64,
    ] {
        if let Some(v) = existing_settings.get(key) {
            let v = if key == pgrst::KEY_JWT_SECRET_IS_BASE64 && opts.rotate_jwt_secret {
                "false".to_string()
            } else {
                v.clone()
            };
            settings.insert(key.to_string(), v);
        }
    }
    // PGRST_OPENAPI_SERVER_PROXY_URI as UIS derives it, from the domain in
    // urbalurba-secrets (unreadable or missing: none, as UIS leaves it).
    let base_domain = session
        .block_on(cluster.get_opt::<k8s_openapi::api::core::v1::Secret>(
            &loc.namespace,
            pgrst::BASE_DOMAIN_SECRET,
        ))
        .ok()
        .flatten()
        .and_then(|s| s.data?.get(pgrst::BASE_DOMAIN_KEY).cloned())
        .map(|b| String::from_utf8_lossy(&b.0).into_owned());
    if let Some(uri) = pgrst::openapi_server_proxy_uri(&url_prefix, base_domain.as_deref()) {
        settings.insert(pgrst::KEY_OPENAPI_PROXY_URI.into(), uri);
    }
    let record_annotation = BTreeMap::from([(
        pgrst::DEPLOY_RECORD_ANNOTATION.to_string(),
        record.to_annotation(),
    )]);
    let mut secret_obj = pgrst::secret(&app, &settings);
    secret_obj.metadata.annotations = Some(record_annotation.clone());
    let deployment = pgrst::deployment(&app, &settings, &image, replicas);
    let service = pgrst::service(&app);
    let ingress = pgrst::ingress_route(&app, &url_prefix);
    // What the cluster should hold: compared by --dry-run, applied otherwise.
    let desired = desired_objects(
        &name,
        [
            to_value(&secret_obj),
            to_value(&deployment),
            to_value(&service),
        ],
        &ingress,
        crd,
        opts.secret_only,
    );

    if opts.dry_run {
        let mut masked = settings.clone();
        masked.insert(pgrst::KEY_JWT_SECRET.into(), "***".into());
        masked.insert(pgrst::KEY_DB_URI.into(), db_uri.replace(&password, "***"));
        let mut shown_secret = pgrst::secret(&app, &masked);
        shown_secret.metadata.namespace = Some(ns.into());
        shown_secret.metadata.annotations = Some(record_annotation);
        anon_reads.tell(&names.anon);
        let object_changes = session.block_on(objects::changes(&cluster, ns, &desired))?;
        return Ok(Report::DryRun(Box::new(DryRun {
            objects_would_change: !object_changes.is_empty(),
            object_changes,
            status: "dry_run",
            app,
            namespace: ns,
            sql: steps.iter().map(|s| s.shown.clone()).collect(),
            anon_reads,
            record,
            manifests: vec![
                with_kind(&shown_secret, "v1", "Secret"),
                with_kind(&deployment, "apps/v1", "Deployment"),
                with_kind(&service, "v1", "Service"),
                if crd {
                    let mut i = ingress.clone();
                    i["metadata"]["namespace"] = ns.into();
                    i
                } else {
                    Value::Null
                },
            ],
        })));
    }

    // Every write that follows the SQL is tried first: a server-side-apply
    // dry run of the same objects, in a namespace that exists. A write the
    // cluster refuses (an immutable Secret, RBAC, a webhook) stops the run
    // here, before a password changes, so the role keeps the password the
    // Secret holds (docs/security.md, "Rotation"). The same dry run says
    // whether the objects change.
    session.block_on(objects::ensure_namespace(&cluster, ns))?;
    let object_changes = session
        .block_on(objects::changes(&cluster, ns, &desired))
        .map_err(|mut f| {
            f.detail.push_str(&format!(
                "; nothing was changed: role {} keeps its password and the Secrets their values",
                names.authenticator
            ));
            f
        })?;
    // Then the store, the SQL and the cluster objects.
    let store_changed = new_rec != rec || new_rec.passwords != rec.passwords;
    if store_changed {
        session.block_on(store::write(&cluster, &loc.namespace, &new_rec))?;
    }
    let mut connect = |d: &str| session.connect_admin(d, APPLICATION);
    provision::run(steps, &mut pg, &mut connect)?;
    drop(pg);
    for s in steps {
        note(format!("uis: {}", s.shown));
    }
    for n in &plan.notes {
        warn(n);
    }
    anon_reads.tell(&names.anon);
    // What is done so far, for an error in the middle of the objects.
    let mut done = vec!["the database roles and grants (their passwords stored first)"];
    session.block_on(async {
        let said = |f: Failure, done: &[&str]| Failure {
            detail: format!("{} (already done: {})", f.detail, done.join(", ")),
            ..f
        };
        cluster
            .apply(ns, &secret_obj)
            .await
            .map_err(|f| said(f, &done))?;
        done.push("the Secret");
        if opts.secret_only {
            return Ok::<(), Failure>(());
        }
        cluster
            .apply(ns, &deployment)
            .await
            .map_err(|f| said(f, &done))?;
        done.push("the Deployment");
        cluster
            .apply(ns, &service)
            .await
            .map_err(|f| said(f, &done))?;
        done.push("the Service");
        if crd {
            objects::apply_ingress(&cluster, ns, &name, &ingress)
                .await
                .map_err(|f| said(f, &done))?;
        }
        Ok::<(), Failure>(())
    })?;
    if !crd && !opts.secret_only {
        note(
            "uis: the Traefik IngressRoute CRD (ingressroutes.traefik.io) is not installed: no IngressRoute was made; the API is reachable in the cluster only",
        );
    }
    if opts.secret_only {
        note(format!(
            "uis: roles and Secret {ns}/{name} are ready; no Deployment was made (--secret-only): `uis postgrest deploy {app}` deploys it"
        ));
    }
    if opts.wait && !opts.secret_only {
        note(format!(
            "uis: waiting up to {} s for deployment/{name} in {ns} to become Available",
            opts.timeout.as_secs()
        ));
        session.block_on(uis_kube::rollout::wait_available(
            &cluster,
            ns,
            &name,
            opts.timeout,
        ))?;
    }
    if opts.rotate_jwt_secret {
        warn(format!(
            "the JWT secret of {app} changed: every token minted before is now invalid; mint new ones: `uis jwt mint {app} --write-env .env`"
        ));
    }
    let objects_changed = !object_changes.is_empty();
    let status = if steps.is_empty() && !store_changed && !objects_changed {
        "unchanged"
    } else {
        "ok"
    };
    Ok(Report::Deployed(Box::new(Deployed {
        status,
        database: db,
        namespace: ns,
        secret: name.clone(),
        deployment: name,
        roles: Roles {
            authenticator: names.authenticator,
            anon: names.anon,
            authenticated: names.authenticated,
        },
        schemas,
        in_cluster_url: pgrst::in_cluster_url(&app),
        public_url: crd.then(|| format!("http://{url_prefix}.localhost")),
        jwt_aud,
        grants: grants.as_str(),
        image,
        replicas,
        anon_reads,
        available: opts.wait && !opts.secret_only,
        created_roles: plan.created.clone(),
        changes: steps
            .iter()
            .map(|s| s.shown.clone())
            .chain(object_changes)
            .collect(),
        next_steps: vec![
            format!("uis jwt mint {app} --role anon"),
            format!("uis jwt mint {app} --role authenticated"),
            format!("uis jwt mint {app} --write-env .env"),
        ],
        app,
    })))
}

/// The objects a deploy applies, as [`objects::changes`] compares
/// them: Secret, Deployment, Service, and the IngressRoute when its CRD
/// is installed; only the Secret with `secret_only`.
fn desired_objects(
    name: &str,
    [secret, deployment, service]: [Value; 3],
    ingress: &Value,
    crd: bool,
    secret_only: bool,
) -> Vec<objects::Desired> {
    let mut desired = vec![
        objects::Desired::new("", "v1", "Secret", "secrets", name, secret, "data"),
        objects::Desired::new(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            name,
            deployment,
            "spec",
        ),
        objects::Desired::new("", "v1", "Service", "services", name, service, "spec"),
    ];
    if secret_only {
        desired.truncate(1);
    }
    if crd && !secret_only {
        desired.push(objects::Desired {
            resource: objects::ingress_resource(),
            name: name.to_string(),
            manifest: ingress.clone(),
            field: "spec",
        });
    }
    desired
}

fn to_value<T: Serialize>(obj: &T) -> Value {
    serde_json::to_value(obj).unwrap_or_default()
}

/// A manifest as shown by `--dry-run`: with `apiVersion`, `kind` and the
/// namespace.
fn with_kind<T: Serialize>(obj: &T, api_version: &str, kind: &str) -> Value {
    let mut v = to_value(obj);
    v["apiVersion"] = api_version.into();
    v["kind"] = kind.into();
    v["metadata"]["namespace"] = pgrst::NAMESPACE.into();
    v
}
