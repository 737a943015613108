//! A deployed app's PostgREST read back from the cluster: its Secret
//! `<app>-postgrest` in namespace `postgrest`, as [`Config`].

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ApiResource, GroupVersionKind};
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_kube::Cluster;
use uis_postgrest::{Config, JwtConfig, KEY_JWT_SECRET, NAMESPACE, name};

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
    let settings: BTreeMap<String, String> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    Ok(Some(Config::from_settings(app, settings)))
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
