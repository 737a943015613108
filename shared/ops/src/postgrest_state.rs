//! A deployed app's PostgREST read back from the cluster: its Secret
//! `<app>-postgrest` in namespace `postgrest`, as [`Config`]; and what the
//! deploy was given ([`DeployRecord`], kept as an annotation on that
//! Secret) with the live objects a re-run starts from ([`Live`]).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_kube::Cluster;
use uis_postgrest::{
    Config, DEPLOY_RECORD_ANNOTATION, JwtConfig, KEY_DB_SCHEMAS, KEY_JWT_SECRET, NAMESPACE,
    PublicRoute, name,
};

/// The IngressRoute's resource (`traefik.io/v1alpha1`, `ingressroutes`).
pub fn ingress_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            uis_postgrest::INGRESS_ROUTE_GROUP,
            uis_postgrest::INGRESS_ROUTE_VERSION,
            uis_postgrest::INGRESS_ROUTE_KIND,
        ),
        uis_postgrest::INGRESS_ROUTE_PLURAL,
    )
}

/// Reads `<app>-postgrest`; `None` when PostgREST was never deployed.
///
/// Errors: the API call's [`Failure`] (phase `cluster`).
pub async fn read_config(cluster: &Cluster, app: &str) -> Result<Option<Config>, Failure> {
    let Some(secret) = cluster.get_opt::<Secret>(NAMESPACE, &name(app)).await? else {
        return Ok(None);
    };
    let secret_name = name(app);
    let settings: BTreeMap<String, String> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let value = setting_value(app, &secret_name, &k, &v.0);
            (k, value)
        })
        .collect();
    Ok(Some(Config::from_settings(app, settings)))
}

/// One value of the PostgREST Secret as the suite reads it. A
/// `PGRST_DB_URI` ending in a line break (`kubectl create secret
/// --from-file` keeps the file's last one) is read without it, with a
/// warning naming the Secret and key ([`uis_kube::store::secret_value`]):
/// PostgREST's libpq would take it into the database name, and a re-run
/// of `uis postgrest deploy APP` writes it again without one. The JWT
/// secret is kept byte for byte, because PostgREST signs and checks tokens
/// with the environment value as it is (line break included); the warning
/// says so and how to issue one without.
fn setting_value(app: &str, secret: &str, key: &str, bytes: &[u8]) -> String {
    if key == uis_postgrest::KEY_DB_URI {
        return uis_kube::store::secret_value(NAMESPACE, secret, key, bytes);
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    if key == KEY_JWT_SECRET && text.ends_with(['\n', '\r']) {
        uis_core::output::warn(format!(
            "Secret {NAMESPACE}/{secret} key {key} ends with a line break: PostgREST checks tokens with it as part of the secret, so they are signed with it too; issue one without: `uis postgrest deploy {app} --rotate-jwt-secret`"
        ));
    }
    text
}

/// Like [`read_config`], with the "deploy it first" failure.
///
/// Errors: phase `postgrest` when the Secret or its JWT secret is missing;
/// the API call's failure otherwise.
pub async fn require_config(cluster: &Cluster, app: &str) -> Result<Config, Failure> {
    read_config(cluster, app).await?.ok_or_else(|| {
        Failure::new(
            Phase::Postgrest,
            format!(
                "PostgREST is not deployed for app {app:?} (no Secret {NAMESPACE}/{})",
                name(app)
            ),
        )
        .hint(format!("deploy it first: `uis postgrest deploy {app}`"))
    })
    .and_then(|config| {
        if config.jwt_secret.is_empty() {
            return Err(Failure::new(
                Phase::Postgrest,
                format!(
                    "Secret {NAMESPACE}/{} has no {KEY_JWT_SECRET}: PostgREST answers every token with 500 PGRST300",
                    name(app)
                ),
            )
            .hint(format!(
                "issue a new one: `uis postgrest deploy {app} --rotate-jwt-secret`"
            )));
        }
        Ok(config)
    })
}

/// The JWT settings the app's PostgREST runs with ([`JwtConfig`]): its
/// Secret's `PGRST_*` values, each overridden by a `pgrst.*` setting on the
/// authenticator role in the app's database (PostgREST's in-database
/// configuration, read at start-up and on every config reload), unless
/// `PGRST_DB_CONFIG` is false. `appdb` is a superuser connection to the
/// app's database.
///
/// Errors: phase `sql` when the catalog cannot be read.
pub fn jwt_config(appdb: &mut postgres::Client, config: &Config) -> Result<JwtConfig, Failure> {
    let db = if JwtConfig::db_config_enabled(&config.settings) {
        db_settings(appdb, &config.authenticator)?
    } else {
        Vec::new()
    };
    Ok(JwtConfig::resolve(&config.settings, &db))
}

/// The `pgrst.*` settings PostgREST would read for `authenticator`
/// ([`uis_postgrest::DB_SETTINGS_QUERY`]), names without the prefix.
///
/// Errors: phase `sql` when the catalog cannot be read.
pub fn db_settings(
    appdb: &mut postgres::Client,
    authenticator: &str,
) -> Result<Vec<(String, String)>, Failure> {
    let names = uis_postgrest::db_setting_params();
    Ok(appdb
        .query(uis_postgrest::DB_SETTINGS_QUERY, &[&authenticator, &names])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// What the anon role is granted by the deploy (`--grants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grants {
    /// USAGE on the schemas, SELECT on their tables, default privileges for
    /// the owner's future tables.
    AnonSelect,
    /// Nothing: the customer's DDL grants what it wants.
    None,
}

impl Grants {
    /// `anon-select` or `none`, as the flag spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Grants::AnonSelect => "anon-select",
            Grants::None => "none",
        }
    }
}

/// What `uis postgrest deploy` was given, after defaults: kept as JSON in
/// the annotation [`DEPLOY_RECORD_ANNOTATION`] of Secret `<app>-postgrest`
/// (it survives `--undeploy`; `--purge` deletes it with the Secret). A
/// re-run takes each value from its flag when given, else from here, so
/// `--rotate-jwt-secret`, `--rotate-password`, `--replicas N` or no flag
/// at all keep every other choice (docs/security.md, "What a re-run may
/// change").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRecord {
    pub schemas: Vec<String>,
    pub grants: Grants,
    pub authenticator: String,
    pub anon: String,
    pub authenticated: String,
    pub url_prefix: String,
    #[serde(default)]
    pub jwt_aud: Option<String>,
    pub image: String,
    pub replicas: i32,
    /// `--cors-origins` (PGRST_SERVER_CORS_ALLOWED_ORIGINS): kept like the
    /// others once that flag records it; `None`: PostgREST's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_origins: Option<Vec<String>>,
}

impl DeployRecord {
    /// The annotation's value.
    pub fn to_annotation(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// An app's PostgREST objects as a re-run finds them: the Secret's
/// settings and record, and what the Deployment and IngressRoute say (for
/// a deployment made before the record existed).
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// The Secret's decoded data (empty without the Secret).
    pub settings: BTreeMap<String, String>,
    /// The record annotation, when the Secret has a readable one.
    pub record: Option<DeployRecord>,
    /// The Deployment's image, replicas and PGRST_DB_SCHEMAS (a literal
    /// env value wins over the Secret's, as in the pods).
    pub image: Option<String>,
    pub replicas: Option<i32>,
    pub schemas: Option<Vec<String>>,
    /// The IngressRoute's host prefix.
    pub url_prefix: Option<String>,
}

impl Live {
    /// Whether anything of an earlier deploy is there.
    pub fn deployed(&self) -> bool {
        !self.settings.is_empty() || self.record.is_some() || self.image.is_some()
    }
}

fn split_schemas(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads the Secret, the Deployment and (when `ingress_crd`) the
/// IngressRoute `<app>-postgrest`.
///
/// Errors: the API calls' (phase `cluster`).
pub async fn read_live(cluster: &Cluster, app: &str, ingress_crd: bool) -> Result<Live, Failure> {
    let n = name(app);
    let mut live = Live::default();
    if let Some(secret) = cluster.get_opt::<Secret>(NAMESPACE, &n).await? {
        live.record = secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEPLOY_RECORD_ANNOTATION))
            .and_then(|v| serde_json::from_str(v).ok());
        live.settings = secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
            .collect();
        live.schemas = live.settings.get(KEY_DB_SCHEMAS).map(|s| split_schemas(s));
    }
    if let Some(d) = cluster.get_opt::<Deployment>(NAMESPACE, &n).await? {
        let spec = d.spec.as_ref();
        live.replicas = spec.and_then(|s| s.replicas);
        let container = spec
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first());
        live.image = container.and_then(|c| c.image.clone());
        if let Some(v) = container
            .and_then(|c| c.env.as_ref())
            .and_then(|env| env.iter().rev().find(|e| e.name == KEY_DB_SCHEMAS))
            .and_then(|e| e.value.as_ref())
        {
            live.schemas = Some(split_schemas(v));
        }
    }
    if ingress_crd {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), NAMESPACE, &ingress_resource());
        if let Some(obj) = cluster
            .call(
                &format!("reading IngressRoute {NAMESPACE}/{n}"),
                api.get_opt(&n),
            )
            .await?
        {
            let v = serde_json::to_value(&obj).unwrap_or_default();
            live.url_prefix = PublicRoute::of_ingress_route(app, &v).map(|r| r.prefix);
        }
    }
    Ok(live)
}
