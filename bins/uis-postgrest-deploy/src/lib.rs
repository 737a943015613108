//! `uis-postgrest-deploy`: PostgREST for one app, with its roles, JWT secret,
//! Secret, Deployment, Service and IngressRoute, and a rollout wait that
//! reports causes (frictions F5, F8, F9, F10; seed items B.5, B.6). Nothing
//! is left to patch by hand: every `PGRST_*` value is bound from the Secret,
//! the customer's own role names are honoured, and a re-run changes nothing.

use clap::{Parser, ValueEnum};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;
use uis_cli::{ClusterArgs, LocatorArgs, PostgrestRoleArgs};
use uis_ops::Failure;
use uis_ops::app::{quote_ident, validate_app, validate_ident, validate_new_name};
use uis_ops::cluster::Cluster;
use uis_ops::error::Phase;
use uis_ops::output::{self, note, warn};
use uis_ops::pg::provision::{self, RoleOutcome, RoleShape, Step};
use uis_ops::postgrest as pgrst;
use uis_ops::session::Session;
use uis_ops::store::{self, AppRecord};

/// Deploy PostgREST for an app: roles, JWT secret, Secret, Deployment, Service, IngressRoute.
///
/// Writes, in namespace postgrest, Secret APP-postgrest (PGRST_DB_URI,
/// PGRST_DB_SCHEMAS, PGRST_DB_ANON_ROLE, PGRST_JWT_SECRET, PGRST_JWT_AUD...)
/// and a Deployment, Service and Traefik IngressRoute named APP-postgrest
/// whose every PGRST_* setting is a secretKeyRef into it. Creates the
/// authenticator (LOGIN NOINHERIT, stored password), anon and authenticated
/// roles when missing and reuses existing ones. Waits for Available.
#[derive(Parser, Debug)]
#[command(name = "uis-postgrest-deploy", version, after_help = EXAMPLES)]
pub struct Args {
    /// The app (as given to `uis db configure`); read from piped JSON when left out
    pub app: Option<String>,
    /// The database (default: the app's, from the credential store)
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,
    /// Schemas PostgREST exposes (default: the app's schemas, else public)
    #[arg(long, value_name = "S1,S2", value_delimiter = ',')]
    pub schemas: Vec<String>,
    #[command(flatten)]
    pub roles: PostgrestRoleArgs,
    /// Grants for the anon role: USAGE and SELECT on the schemas (UIS parity), or none (your DDL grants)
    #[arg(long, value_enum, default_value = "anon-select")]
    pub grants: Grants,
    /// Host prefix of the public URL http://PREFIX.localhost (default: api-APP)
    #[arg(long, value_name = "P")]
    pub url_prefix: Option<String>,
    /// PostgREST image
    #[arg(long, value_name = "IMG", default_value = pgrst::DEFAULT_IMAGE)]
    pub image: String,
    /// Number of PostgREST pods
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = replicas, allow_hyphen_values = true)]
    pub replicas: i32,
    /// The audience tokens must carry (PGRST_JWT_AUD)
    #[arg(long, value_name = "AUD")]
    pub jwt_aud: Option<String>,
    /// Print the SQL and manifests; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the Deployment to become Available
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for Available
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = uis_cli::seconds, allow_hyphen_values = true)]
    pub timeout: u64,
    /// Issue a new JWT secret (every token minted before stops working)
    #[arg(long)]
    pub rotate_jwt_secret: bool,
    /// Issue a new authenticator password
    #[arg(long)]
    pub rotate_password: bool,
    /// Only wait for the existing Deployment and report its state; change nothing
    #[arg(long, conflicts_with_all = ["dry_run", "undeploy", "purge", "rotate_jwt_secret", "rotate_password"])]
    pub status: bool,
    /// Remove Deployment, Service and IngressRoute (keep the Secret and the roles)
    #[arg(long)]
    pub undeploy: bool,
    /// Also drop the roles this tool created and delete the Secret
    #[arg(long)]
    pub purge: bool,
    /// Confirm --purge
    #[arg(long)]
    pub yes: bool,
    /// Print JSON even on a terminal
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    #[command(flatten)]
    pub locator: LocatorArgs,
}

/// What the anon role is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Grants {
    /// USAGE on the schemas, SELECT on their tables, default privileges for new tables
    AnonSelect,
    /// Nothing: the customer's DDL grants what it wants
    None,
}

const EXAMPLES: &str = "Examples:
  uis-postgrest-deploy railway --schemas railway
  uis-postgrest-deploy railway --schemas railway --authenticator authenticator --anon-role anon --authenticated-role authenticated --grants none
  uis-postgrest-deploy railway --rotate-jwt-secret
  uis-postgrest-deploy railway --status
  uis-postgrest-deploy railway --undeploy";

/// The clap definition, for completions, man pages and the CLI reference.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let json_mode = args.json || !output::stdout_is_terminal();
    uis_cli::run_main(json_mode, || run(args, json_mode))
}

fn ingress_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("traefik.io", "v1alpha1", "IngressRoute"),
        "ingressroutes",
    )
}

async fn ingress_crd_exists(cluster: &Cluster) -> Result<bool, Failure> {
    match tokio::time::timeout(
        cluster.timeout,
        cluster
            .client
            .list_api_group_resources("traefik.io/v1alpha1"),
    )
    .await
    {
        Ok(Ok(list)) => Ok(list.resources.iter().any(|r| r.name == "ingressroutes")),
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => Ok(false),
        Ok(Err(e)) => Err(cluster.explain("discovering traefik.io/v1alpha1", e)),
        Err(_) => Err(cluster.explain(
            "discovering traefik.io/v1alpha1",
            kube::Error::Api(Box::new(
                kube::core::Status::failure("timed out", "Timeout").with_code(504),
            )),
        )),
    }
}

fn run(mut args: Args, json_mode: bool) -> anyhow::Result<i32> {
    if args.app.is_none() {
        let defaults = uis_cli::stdin_defaults()?;
        args.app = uis_cli::default_str(&defaults, "app");
        if args.database.is_none() {
            args.database = uis_cli::default_str(&defaults, "database");
        }
        if args.schemas.is_empty() {
            args.schemas = uis_cli::default_list(&defaults, "schemas");
        }
        // Role names printed by `uis-db-configure --with-roles postgrest --json`.
        for (flag, kind) in [
            (&mut args.roles.authenticator, "authenticator"),
            (&mut args.roles.anon_role, "anon"),
            (&mut args.roles.authenticated_role, "authenticated"),
        ] {
            if flag.is_none() {
                *flag = uis_cli::default_nested_str(&defaults, "roles", kind);
            }
        }
    }
    let Some(app) = args.app.clone() else {
        return Err(Failure::usage("give APP, e.g. `uis-postgrest-deploy railway`").into());
    };
    validate_app(&app)?;
    if args.purge && !args.yes {
        return Err(Failure::usage(format!(
            "--purge drops the PostgREST roles and Secret of {app:?}; nothing was changed"
        ))
        .hint(format!(
            "add --yes to confirm: `uis-postgrest-deploy {app} --purge --yes`"
        ))
        .into());
    }
    for s in &args.schemas {
        validate_new_name("schema", s)?;
    }
    if let Some(d) = &args.database {
        validate_ident("--database", d)?;
    }
    args.roles.validate()?;
    if let Some(p) = &args.url_prefix
        && (p.is_empty()
            || !p
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    {
        return Err(Failure::usage(format!(
            "invalid --url-prefix {p:?}: use lowercase letters, digits and '-', e.g. api-railway"
        ))
        .into());
    }
    if let Some(aud) = &args.jwt_aud
        && aud.contains(':')
        && !aud.contains("://")
    {
        return Err(Failure::usage(format!(
            "invalid --jwt-aud {aud:?}: PostgREST requires a value with ':' to be a URI, e.g. https://railway.example"
        ))
        .into());
    }

    let mut session = Session::new(args.cluster_args.config(), args.locator.locator()?)?;
    let cluster = session.cluster()?;
    let name = pgrst::name(&app);
    let ns = pgrst::NAMESPACE;

    if args.status {
        session.block_on(uis_ops::rollout::wait_available(
            &cluster,
            ns,
            &name,
            Duration::from_secs(args.timeout),
        ))?;
        output::print_json(
            &serde_json::json!({"status": "available", "app": app, "namespace": ns, "deployment": name}),
        )?;
        return Ok(0);
    }
    if args.undeploy || args.purge {
        return undeploy(&mut session, &app, args.purge, args.dry_run, json_mode);
    }

    let rec = session.app(&app)?;
    if let Some(d) = &args.database
        && d != &rec.database
    {
        return Err(Failure::new(
            Phase::Validate,
            format!("app {app:?} uses database {:?}, not {d:?}", rec.database),
        )
        .hint(format!("leave --database out, or configure that database: `uis db configure {app} --database {d}`"))
        .into());
    }
    let db = rec.database.clone();
    let schemas = if !args.schemas.is_empty() {
        args.schemas.clone()
    } else if !rec.schemas.is_empty() {
        rec.schemas.clone()
    } else {
        vec!["public".to_string()]
    };
    let [authenticator, anon, authenticated] = args
        .roles
        .by_kind()
        .map(|(kind, flag)| store::pick_role(flag, Some(&rec), &app, kind));
    if authenticator == anon || authenticator == authenticated || anon == authenticated {
        return Err(Failure::usage(
            "--authenticator, --anon-role and --authenticated-role must be three different roles",
        )
        .into());
    }
    let url_prefix = args
        .url_prefix
        .clone()
        .unwrap_or_else(|| format!("api-{app}"));

    let mut pg = session.connect_admin("postgres", "uis-postgrest-deploy")?;
    pg.execute(
        "select pg_advisory_lock(hashtext($1))",
        &[&format!("uis-postgrest:{app}")],
    )?;

    // Validate before any change: the database and schemas exist.
    if provision::database_owner(&mut pg, &db)?.is_none() {
        return Err(Failure::new(
            Phase::Validate,
            format!("database {db:?} does not exist (nothing was changed)"),
        )
        .hint(format!(
            "create it: `uis db configure {app} --database {db}`"
        ))
        .into());
    }
    let mut appdb = session.connect_admin(&db, "uis-postgrest-deploy")?;
    for s in &schemas {
        if provision::schema_owner(&mut appdb, s)?.is_none() {
            return Err(Failure::new(Phase::Validate, format!("schema {s:?} does not exist in database {db:?} (nothing was changed)"))
                .hint(format!("create it: `uis db configure {app} --schemas {s}` or in your DDL (`uis db psql {app} -c 'CREATE SCHEMA {s}'`)"))
                .into());
        }
    }
    // Roles are cluster-wide: say so when another app's PostgREST uses one.
    let others = session.block_on(store::read_all(&cluster, &session.locator.namespace))?;
    for other in others.iter().filter(|o| o.app != app) {
        for role in [&authenticator, &anon, &authenticated] {
            if other.roles.values().any(|r| r == role) {
                warn(format!(
                    "role {role} is also used by app {}'s PostgREST: roles are cluster-wide, so both apps share its grants",
                    other.app
                ));
            }
        }
    }

    // The authenticator's password: stored, or issued now (and stored first).
    let mut new_rec = rec.clone();
    let auth_exists = provision::role(&mut pg, &authenticator)?.is_some();
    let stored = rec.passwords.get(&authenticator).cloned();
    let mut notes = Vec::new();
    let (password, set_password) = match stored {
        Some(pw) if !args.rotate_password => {
            let works = !auth_exists || session.login_works(&authenticator, &pw, &db);
            if !works {
                notes.push(format!(
                    "the stored password of {authenticator} no longer worked; it is set again"
                ));
            }
            (pw, auth_exists && !works)
        }
        _ => {
            if auth_exists && !args.rotate_password {
                notes.push(format!("role {authenticator} existed without a stored password: it gets a new one, now stored"));
            }
            (uis_ops::secret::password(), auth_exists)
        }
    };
    new_rec
        .passwords
        .insert(authenticator.clone(), password.clone());
    new_rec
        .roles
        .insert("authenticator".into(), authenticator.clone());
    new_rec.roles.insert("anon".into(), anon.clone());
    new_rec
        .roles
        .insert("authenticated".into(), authenticated.clone());

    // The SQL plan.
    let mut steps: Vec<Step> = Vec::new();
    let mut created = Vec::new();
    if provision::ensure_role(
        &mut pg,
        &mut steps,
        &authenticator,
        provision::RoleOptions {
            shape: RoleShape::Authenticator,
            password: Some(&password),
            set_password,
            fix_attributes: !auth_exists,
        },
    )? == RoleOutcome::Created
    {
        created.push(authenticator.clone());
    } else if let Some(info) = provision::role(&mut pg, &authenticator)?
        && !info.login
    {
        steps.push(Step::new(
            None,
            format!("ALTER ROLE {} LOGIN", quote_ident(&authenticator)),
        ));
    }
    for r in [&anon, &authenticated] {
        if provision::ensure_role(&mut pg, &mut steps, r, provision::RoleOptions::nologin())?
            == RoleOutcome::Created
        {
            created.push(r.clone());
        }
    }
    for r in [&anon, &authenticated] {
        provision::ensure_member(
            &mut pg,
            &mut steps,
            r,
            &authenticator,
            created.contains(r) || created.contains(&authenticator),
        )?;
    }
    provision::ensure_connect(
        &mut pg,
        &mut steps,
        &db,
        &authenticator,
        created.contains(&authenticator),
    )?;
    if args.grants == Grants::AnonSelect {
        let appdb_ref = if created.contains(&anon) {
            None
        } else {
            Some(&mut appdb)
        };
        provision::ensure_read_grants(appdb_ref, &mut steps, &db, &schemas, &rec.owner, &anon)?;
    }
    drop(appdb);
    for r in &created {
        if !new_rec.created_roles.contains(r) {
            new_rec.created_roles.push(r.clone());
        }
    }

    // The JWT secret: kept across runs, enforced at 32+ characters.
    let existing_secret = session.block_on(cluster.get_opt::<Secret>(ns, &name))?;
    let existing_settings: BTreeMap<String, String> = existing_secret
        .as_ref()
        .and_then(|s| s.data.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    let jwt_secret = match existing_settings.get(pgrst::KEY_JWT_SECRET) {
        Some(s) if !args.rotate_jwt_secret => {
            if s.chars().count() < 32 {
                return Err(Failure::new(
                    Phase::Validate,
                    format!("the JWT secret in Secret {ns}/{name} has {} characters; PostgREST needs at least 32 (nothing was changed)", s.chars().count()),
                )
                .hint(format!("issue a new one: `uis postgrest deploy {app} --rotate-jwt-secret`"))
                .into());
            }
            s.clone()
        }
        _ => uis_ops::secret::generate(uis_ops::secret::JWT_SECRET_LEN),
    };
    let jwt_aud = args
        .jwt_aud
        .clone()
        .or_else(|| existing_settings.get(pgrst::KEY_JWT_AUD).cloned());
    let loc = session.locator.clone();
    let db_uri = uis_ops::core::creds::url(
        &authenticator,
        &password,
        &loc.cluster_host(),
        loc.port,
        &db,
    );
    let settings = pgrst::settings(&db_uri, &schemas, &anon, &jwt_secret, jwt_aud.as_deref());
    let secret_obj = pgrst::secret(&app, &settings);
    let deployment = pgrst::deployment(&app, &settings, &args.image, args.replicas);
    let service = pgrst::service(&app);
    let crd = session.block_on(ingress_crd_exists(&cluster))?;
    let ingress = pgrst::ingress_route(&app, &url_prefix);

    let roles_json = serde_json::json!({"authenticator": authenticator, "anon": anon, "authenticated": authenticated});
    let mint = vec![
        format!("uis jwt mint {app} --role anon"),
        format!("uis jwt mint {app} --role authenticated"),
        format!("uis jwt mint {app} --write-env .env"),
    ];
    if args.dry_run {
        let mut masked = settings.clone();
        masked.insert(pgrst::KEY_JWT_SECRET.into(), "***".into());
        masked.insert(pgrst::KEY_DB_URI.into(), db_uri.replace(&password, "***"));
        let mut shown_secret = pgrst::secret(&app, &masked);
        shown_secret.metadata.namespace = Some(ns.into());
        let manifests = serde_json::json!([
            with_kind(&shown_secret, "v1", "Secret"),
            with_kind(&deployment, "apps/v1", "Deployment"),
            with_kind(&service, "v1", "Service"),
            if crd {
                ingress.clone()
            } else {
                serde_json::Value::Null
            },
        ]);
        output::print_json(&serde_json::json!({
            "status": "dry_run", "app": app, "namespace": ns,
            "sql": steps.iter().map(|s| s.shown.clone()).collect::<Vec<_>>(),
            "manifests": manifests,
        }))?;
        return Ok(0);
    }

    // Store first, then SQL, then the cluster objects.
    let store_changed = new_rec != rec || new_rec.passwords != rec.passwords;
    if store_changed {
        session.block_on(store::write(&cluster, &loc.namespace, &new_rec))?;
    }
    let mut connect = |d: &str| session.connect_admin(d, "uis-postgrest-deploy");
    provision::run(&steps, &mut pg, &mut connect)?;
    drop(pg);
    for s in &steps {
        note(format!("uis: {}", s.shown));
    }
    for n in &notes {
        warn(n);
    }
    let before = session.block_on(snapshot(&cluster, &name, crd))?;
    // What is done so far, for an error in the middle of the objects.
    let mut done = vec!["the database roles and grants (their passwords stored first)"];
    session.block_on(async {
        let said = |f: Failure, done: &[&str]| Failure {
            detail: format!("{} (already done: {})", f.detail, done.join(", ")),
            ..f
        };
        ensure_namespace(&cluster, ns)
            .await
            .map_err(|f| said(f, &done))?;
        cluster
            .apply(ns, &secret_obj)
            .await
            .map_err(|f| said(f, &done))?;
        done.push("the Secret");
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
            let api: Api<DynamicObject> =
                Api::namespaced_with(cluster.client.clone(), ns, &ingress_resource());
            cluster
                .call(
                    &format!("applying IngressRoute {ns}/{name}"),
                    api.patch(
                        &name,
                        &PatchParams::apply("uis").force(),
                        &Patch::Apply(ingress.clone()),
                    ),
                )
                .await
                .map_err(|f| said(f, &done))?;
        }
        Ok::<(), Failure>(())
    })?;
    if !crd {
        note(
            "uis: the Traefik IngressRoute CRD (ingressroutes.traefik.io) is not installed: no IngressRoute was made; the API is reachable in the cluster only",
        );
    }
    let after = session.block_on(snapshot(&cluster, &name, crd))?;
    let objects_changed = before != after;
    if !args.no_wait {
        note(format!(
            "uis: waiting up to {} s for deployment/{name} in {ns} to become Available",
            args.timeout
        ));
        session.block_on(uis_ops::rollout::wait_available(
            &cluster,
            ns,
            &name,
            Duration::from_secs(args.timeout),
        ))?;
    }
    if args.rotate_jwt_secret {
        warn(format!(
            "the JWT secret of {app} changed: every token minted before is now invalid; mint new ones: `uis jwt mint {app} --write-env .env`"
        ));
    }
    let status = if steps.is_empty() && !store_changed && !objects_changed {
        "unchanged"
    } else {
        "ok"
    };
    let result = serde_json::json!({
        "status": status,
        "app": app,
        "database": db,
        "namespace": ns,
        "secret": name,
        "deployment": name,
        "roles": roles_json,
        "schemas": schemas,
        "in_cluster_url": pgrst::in_cluster_url(&app),
        "public_url": if crd { serde_json::Value::from(format!("http://{url_prefix}.localhost")) } else { serde_json::Value::Null },
        "jwt_aud": jwt_aud,
        "available": !args.no_wait,
        "created_roles": created,
        "changes": steps.iter().map(|s| s.shown.clone()).collect::<Vec<_>>(),
        "next_steps": mint,
    });
    if json_mode {
        output::print_json(&result)?;
    } else {
        output::print(&format!(
            "{status}: PostgREST for {app} in namespace {ns}\n  roles:   authenticator {authenticator}, anon {anon}, authenticated {authenticated}\n  api:     {}{}\nnext:\n  {}\n",
            pgrst::in_cluster_url(&app),
            if crd {
                format!(" (public: http://{url_prefix}.localhost)")
            } else {
                String::new()
            },
            result["next_steps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        ))?;
    }
    Ok(0)
}

fn with_kind<T: serde::Serialize>(obj: &T, api_version: &str, kind: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    v["apiVersion"] = api_version.into();
    v["kind"] = kind.into();
    v["metadata"]["namespace"] = pgrst::NAMESPACE.into();
    v
}

async fn ensure_namespace(cluster: &Cluster, ns: &str) -> Result<(), Failure> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    if cluster
        .call(&format!("reading Namespace {ns}"), api.get_opt(ns))
        .await?
        .is_none()
    {
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"app.kubernetes.io/managed-by": "uis"}}});
        cluster
            .call(
                &format!("creating Namespace {ns}"),
                api.patch(ns, &PatchParams::apply("uis").force(), &Patch::Apply(obj)),
            )
            .await?;
        note(format!("uis: created namespace {ns}"));
    }
    Ok(())
}

/// The specs of what this tool writes, to tell whether a run changed them.
async fn snapshot(cluster: &Cluster, name: &str, crd: bool) -> Result<String, Failure> {
    let ns = pgrst::NAMESPACE;
    let s = cluster
        .get_opt::<Secret>(ns, name)
        .await?
        .map(|s| serde_json::to_string(&s.data).unwrap_or_default());
    let d = cluster
        .get_opt::<Deployment>(ns, name)
        .await?
        .map(|d| serde_json::to_string(&d.spec).unwrap_or_default());
    let v = cluster
        .get_opt::<Service>(ns, name)
        .await?
        .map(|v| serde_json::to_string(&v.spec.map(|s| (s.ports, s.selector))).unwrap_or_default());
    let i = if crd {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), ns, &ingress_resource());
        cluster
            .call("reading the IngressRoute", api.get_opt(name))
            .await?
            .map(|o| o.data["spec"].to_string())
    } else {
        None
    };
    Ok(format!("{s:?}|{d:?}|{v:?}|{i:?}"))
}

fn undeploy(
    session: &mut Session,
    app: &str,
    purge: bool,
    dry_run: bool,
    json_mode: bool,
) -> anyhow::Result<i32> {
    let cluster = session.cluster()?;
    let ns = pgrst::NAMESPACE;
    let name = pgrst::name(app);
    let rec: Option<AppRecord> = session.app_opt(app)?;
    let mut sql: Vec<(Option<String>, String)> = Vec::new();
    let mut dropped = Vec::new();
    if purge && let Some(rec) = &rec {
        let ours: Vec<String> = ["authenticator", "anon", "authenticated"]
            .iter()
            .filter_map(|k| rec.roles.get(*k))
            .filter(|r| rec.created_roles.contains(r) && *r != &rec.owner)
            .cloned()
            .collect();
        for r in &ours {
            for d in [rec.database.as_str(), "postgres"] {
                sql.push((
                    Some(d.to_string()),
                    format!("DROP OWNED BY {}", quote_ident(r)),
                ));
            }
        }
        for r in &ours {
            sql.push((None, format!("DROP ROLE IF EXISTS {}", quote_ident(r))));
        }
        dropped = ours;
    }
    if dry_run {
        output::print_json(&serde_json::json!({
            "status": "dry_run", "app": app,
            "delete": [format!("deployment/{name}"), format!("service/{name}"), format!("ingressroute/{name}")],
            "delete_secret": purge, "sql": sql.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
        }))?;
        return Ok(0);
    }
    let mut deleted = Vec::new();
    session.block_on(async {
        if cluster.delete::<Deployment>(ns, &name).await? {
            deleted.push(format!("deployment/{name}"));
        }
        if cluster.delete::<Service>(ns, &name).await? {
            deleted.push(format!("service/{name}"));
        }
        if ingress_crd_exists(&cluster).await? {
            let api: Api<DynamicObject> =
                Api::namespaced_with(cluster.client.clone(), ns, &ingress_resource());
            match api.delete(&name, &Default::default()).await {
                Ok(_) => deleted.push(format!("ingressroute/{name}")),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(cluster.explain("deleting the IngressRoute", e)),
            }
        }
        if purge && cluster.delete::<Secret>(ns, &name).await? {
            deleted.push(format!("secret/{name}"));
        }
        Ok::<(), Failure>(())
    })?;
    if purge && let Some(mut rec) = rec {
        for (db, stmt) in &sql {
            let d = db.as_deref().unwrap_or("postgres");
            let mut c = session.connect_admin(d, "uis-postgrest-deploy")?;
            c.batch_execute(stmt)
                .map_err(|e| Failure::from(e).hint(format!("`{stmt}` failed")))?;
        }
        for k in ["authenticator", "anon", "authenticated"] {
            rec.roles.remove(k);
        }
        rec.created_roles.retain(|r| !dropped.contains(r));
        rec.passwords.retain(|r, _| !dropped.contains(r));
        let ns_store = session.locator.namespace.clone();
        session.block_on(store::write(&cluster, &ns_store, &rec))?;
    }
    let result = serde_json::json!({"status": if purge { "purged" } else { "undeployed" }, "app": app, "deleted": deleted, "dropped_roles": dropped});
    if json_mode {
        output::print_json(&result)?;
    } else {
        output::print(&format!(
            "{}: {}\n",
            result["status"].as_str().unwrap_or_default(),
            if deleted.is_empty() {
                "nothing was deployed".to_string()
            } else {
                deleted.join(", ")
            }
        ))?;
    }
    Ok(0)
}

/// `--replicas`: 1 to 100.
fn replicas(s: &str) -> Result<i32, String> {
    uis_cli::number_in(
        s,
        1..=100,
        "expected a number of pods from 1 to 100, e.g. 2",
    )
}
