//! `uis-postgrest-deploy`: PostgREST for one app, with its roles, JWT
//! secret, Secret, Deployment, Service and IngressRoute, and a rollout wait
//! that reports causes (frictions F5, F8, F9, F10; seed items B.5, B.6).
//! Nothing is left to patch by hand: every `PGRST_*` value is bound from the
//! Secret, the customer's own role names are honoured, and a re-run changes
//! nothing. The SQL is [`plan`], the cluster objects [`objects`], removal
//! [`undeploy`].

pub mod objects;
pub mod plan;
pub mod undeploy;

use crate::pg::lock::{self, LockKey};
use crate::pg::provision;
use crate::roles::{self, PostgrestRoles};
use crate::session::Session;
use k8s_openapi::api::core::v1::Secret;
use plan::RoleNames;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use uis_core::Failure;
use uis_core::app::{RoleKind, validate_app, validate_ident, validate_new_name};
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
    /// Exposed schemas (default: the app's, else `public`).
    pub schemas: Vec<String>,
    pub roles: PostgrestRoles,
    /// Grant anon USAGE and SELECT on the schemas (`--grants anon-select`).
    pub anon_select: bool,
    /// Host prefix of `http://PREFIX.localhost` (default `api-APP`).
    pub url_prefix: Option<String>,
    pub image: String,
    pub replicas: i32,
    pub jwt_aud: Option<String>,
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
    DryRun(DryRun),
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
    /// Secret, Deployment, Service, IngressRoute (`null` without the CRD).
    pub manifests: Vec<Value>,
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
    pub available: bool,
    pub created_roles: Vec<String>,
    pub changes: Vec<String>,
    pub next_steps: Vec<String>,
}

/// Checks the options before anything is contacted.
///
/// Errors: phase `usage` (exit 2), naming the flag; `--purge` without
/// `--yes`.
pub fn validate(opts: &Options) -> Result<(), Failure> {
    let app = &opts.app;
    validate_app(app)?;
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
    if let Some(p) = &opts.url_prefix
        && (p.is_empty()
            || !p
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    {
        return Err(Failure::usage(format!(
            "invalid --url-prefix {p:?}: use lowercase letters, digits and '-', e.g. api-railway"
        )));
    }
    // PostgREST's rule for PGRST_JWT_AUD.
    if let Some(aud) = &opts.jwt_aud
        && aud.contains(':')
        && !aud.contains("://")
    {
        return Err(Failure::usage(format!(
            "invalid --jwt-aud {aud:?}: PostgREST requires a value with ':' to be a URI, e.g. https://railway.example"
        )));
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
    let schemas = if !opts.schemas.is_empty() {
        opts.schemas.clone()
    } else if !rec.schemas.is_empty() {
        rec.schemas.clone()
    } else {
        vec!["public".to_string()]
    };
    let [authenticator, anon, authenticated] = opts
        .roles
        .by_kind()
        .map(|(kind, flag)| store::pick_role(flag, Some(&rec), &app, kind.as_str()));
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
        .unwrap_or_else(|| format!("api-{app}"));

    let mut pg = session.connect_admin("postgres", APPLICATION)?;
    lock::lock(&mut pg, &LockKey::Postgrest(app.clone()))?;

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
            anon_select: opts.anon_select,
        },
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
    let existing_secret = session.block_on(cluster.get_opt::<Secret>(ns, &name))?;
    let existing_settings: BTreeMap<String, String> = existing_secret
        .and_then(|s| s.data)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    let jwt_secret = match existing_settings.get(pgrst::KEY_JWT_SECRET) {
        Some(s) if !opts.rotate_jwt_secret => {
            if s.chars().count() < 32 {
                return Err(Failure::new(
                    Phase::Validate,
                    format!("the JWT secret in Secret {ns}/{name} has {} characters; PostgREST needs at least 32 (nothing was changed)", s.chars().count()),
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
    let secret_obj = pgrst::secret(&app, &settings);
    let deployment = pgrst::deployment(&app, &settings, &opts.image, opts.replicas);
    let service = pgrst::service(&app);
    let crd = session.block_on(objects::ingress_crd_exists(&cluster))?;
    let ingress = pgrst::ingress_route(&app, &url_prefix);

    if opts.dry_run {
        let mut masked = settings.clone();
        masked.insert(pgrst::KEY_JWT_SECRET.into(), "***".into());
        masked.insert(pgrst::KEY_DB_URI.into(), db_uri.replace(&password, "***"));
        let mut shown_secret = pgrst::secret(&app, &masked);
        shown_secret.metadata.namespace = Some(ns.into());
        return Ok(Report::DryRun(DryRun {
            status: "dry_run",
            app,
            namespace: ns,
            sql: steps.iter().map(|s| s.shown.clone()).collect(),
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
        }));
    }

    // Store first, then SQL, then the cluster objects.
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
    // Whether the objects change, by a server-side-apply dry run.
    let mut desired = vec![
        objects::Desired::new(
            "",
            "v1",
            "Secret",
            "secrets",
            &name,
            to_value(&secret_obj),
            "data",
        ),
        objects::Desired::new(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            &name,
            to_value(&deployment),
            "spec",
        ),
        objects::Desired::new(
            "",
            "v1",
            "Service",
            "services",
            &name,
            to_value(&service),
            "spec",
        ),
    ];
    if opts.secret_only {
        desired.truncate(1);
    }
    if crd && !opts.secret_only {
        desired.push(objects::Desired {
            resource: objects::ingress_resource(),
            name: name.clone(),
            manifest: ingress.clone(),
            field: "spec",
        });
    }
    let objects_changed = session.block_on(objects::would_change(&cluster, ns, &desired))?;
    // What is done so far, for an error in the middle of the objects.
    let mut done = vec!["the database roles and grants (their passwords stored first)"];
    session.block_on(async {
        let said = |f: Failure, done: &[&str]| Failure {
            detail: format!("{} (already done: {})", f.detail, done.join(", ")),
            ..f
        };
        objects::ensure_namespace(&cluster, ns)
            .await
            .map_err(|f| said(f, &done))?;
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
        available: opts.wait && !opts.secret_only,
        created_roles: plan.created.clone(),
        changes: steps.iter().map(|s| s.shown.clone()).collect(),
        next_steps: vec![
            format!("uis jwt mint {app} --role anon"),
            format!("uis jwt mint {app} --role authenticated"),
            format!("uis jwt mint {app} --write-env .env"),
        ],
        app,
    })))
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
