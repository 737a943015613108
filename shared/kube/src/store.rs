//! The credential store: one labelled Secret per app, `uis-db-<app>`, in the
//! database namespace, holding what the suite set up for the app and the
//! password of every LOGIN role it issued, so nothing is "printed once, lost
//! forever" (friction F6). The layout is documented in
//! `docs/reference/credential-store.md`.
//!
//! Keys: `app.json` (the [`AppRecord`] without passwords) and one
//! `password.<role>` per LOGIN role.

use crate::cluster::Cluster;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::error::Phase;

/// Label selecting every credential-store Secret.
pub const STORE_SELECTOR: &str =
    "app.kubernetes.io/managed-by=uis,app.kubernetes.io/component=db-credentials";

/// What the suite set up for one app.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AppRecord {
    pub app: String,
    pub database: String,
    /// The owner role.
    pub owner: String,
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Named roles by kind: `authenticator`, `anon`, `authenticated`, `readonly`.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Roles this suite created (and may drop on purge), as opposed to reused ones.
    #[serde(default)]
    pub created_roles: Vec<String>,
    /// Other Secrets holding the owner's DATABASE_URL (`NS/NAME`), kept in step
    /// by `--rotate`.
    #[serde(default)]
    pub url_secrets: Vec<String>,
    /// Passwords by role name; stored as separate keys, never in `app.json`.
    #[serde(skip)]
    pub passwords: BTreeMap<String, String>,
}

/// The default name of a role kind for an app: `railway_authenticator`,
/// `railway_web_anon`, `railway_authenticated`, `railway_readonly`.
pub fn default_role_name(app: &str, kind: &str) -> String {
    let suffix = match kind {
        "anon" => "web_anon",
        other => other,
    };
    format!("{}_{suffix}", uis_core::app::sql_name(app))
}

/// A role name: the flag, else the one the app's record has, else the default.
pub fn pick_role(flag: &Option<String>, rec: Option<&AppRecord>, app: &str, kind: &str) -> String {
    flag.clone()
        .or_else(|| rec.and_then(|r| r.roles.get(kind).cloned()))
        .unwrap_or_else(|| default_role_name(app, kind))
}

/// A Secret's value as text, without a trailing line break: `kubectl
/// create secret --from-file` keeps the file's final `\n` (or `\r\n`),
/// and a password must never carry one into a role or an output. Says so
/// on stderr, naming the Secret and key, never the value.
pub fn secret_value(namespace: &str, secret: &str, key: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.len() != text.len() {
        uis_core::output::warn(format!(
            "Secret {namespace}/{secret} key {key} ends with a line break (as `kubectl create secret --from-file` keeps it); using the value without it. Rewrite it without one: `kubectl create secret generic {secret} -n {namespace} --from-literal={key}=... --dry-run=client -o yaml | kubectl apply -f -`"
        ));
    }
    trimmed.to_string()
}

/// The store Secret's name for an app.
pub fn secret_name(app: &str) -> String {
    format!("uis-db-{app}")
}

impl AppRecord {
    /// Resolves `owner`, a role kind (`authenticator`, `readonly` ...) or a
    /// literal role name to the role name.
    pub fn resolve_role(&self, role: &str) -> String {
        if role == "owner" {
            return self.owner.clone();
        }
        self.roles
            .get(role)
            .cloned()
            .unwrap_or_else(|| role.to_string())
    }

    fn from_secret(secret: &Secret) -> Result<AppRecord, Failure> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let data = secret.data.clone().unwrap_or_default();
        let json = data.get("app.json").ok_or_else(|| {
            Failure::new(
                Phase::Store,
                format!("credential Secret {name} has no app.json key"),
            )
            .hint("re-create it with `uis db configure APP`")
        })?;
        let mut rec: AppRecord = serde_json::from_slice(&json.0).map_err(|e| {
            Failure::new(
                Phase::Store,
                format!("credential Secret {name}: app.json is not valid: {e}"),
            )
            .hint("re-create it with `uis db configure APP`")
        })?;
        for (k, v) in data {
            if let Some(role) = k.strip_prefix("password.") {
                let ns = secret.metadata.namespace.as_deref().unwrap_or("?");
                rec.passwords
                    .insert(role.to_string(), secret_value(ns, &name, &k, &v.0));
            }
        }
        Ok(rec)
    }

    fn to_secret(&self, namespace: &str) -> Secret {
        let mut data = BTreeMap::new();
        data.insert(
            "app.json".to_string(),
            ByteString(serde_json::to_vec(self).expect("serializable")),
        );
        for (role, pw) in &self.passwords {
            data.insert(
                format!("password.{role}"),
                ByteString(pw.clone().into_bytes()),
            );
        }
        let mut secret = Secret {
            data: Some(data),
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        secret.metadata.name = Some(secret_name(&self.app));
        secret.metadata.namespace = Some(namespace.to_string());
        let mut labels = uis_core::app::uis_labels(&self.app);
        labels.insert(
            "app.kubernetes.io/component".to_string(),
            "db-credentials".to_string(),
        );
        secret.metadata.labels = Some(labels);
        secret
    }
}

/// Reads an app's record, `None` when the app was never configured.
pub async fn read(
    cluster: &Cluster,
    namespace: &str,
    app: &str,
) -> Result<Option<AppRecord>, Failure> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let what = format!("reading Secret {namespace}/{}", secret_name(app));
    match cluster.call(&what, api.get_opt(&secret_name(app))).await? {
        Some(s) => AppRecord::from_secret(&s).map(Some),
        None => Ok(None),
    }
}

/// Writes (server-side apply, field manager `uis`) an app's record.
///
/// Errors: phase `cluster` when the API refuses or does not answer.
pub async fn write(cluster: &Cluster, namespace: &str, rec: &AppRecord) -> Result<(), Failure> {
    cluster.apply(namespace, &rec.to_secret(namespace)).await?;
    Ok(())
}

/// Every app's record, for conflict checks across apps.
///
/// Errors: phase `cluster` for API failures; `store` when a record does not parse.
pub async fn read_all(cluster: &Cluster, namespace: &str) -> Result<Vec<AppRecord>, Failure> {
    let mut out = Vec::new();
    for app in list(cluster, namespace).await? {
        if let Some(r) = read(cluster, namespace, &app).await? {
            out.push(r);
        }
    }
    Ok(out)
}

/// The names of every configured app, sorted.
///
/// Errors: phase `cluster` for API failures.
pub async fn list(cluster: &Cluster, namespace: &str) -> Result<Vec<String>, Failure> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let what = format!("listing credential Secrets in {namespace}");
    let list = cluster
        .call(
            &what,
            api.list(&ListParams::default().labels(STORE_SELECTOR)),
        )
        .await?;
    let mut apps: Vec<String> = list
        .items
        .iter()
        .filter_map(|s| {
            s.metadata
                .labels
                .as_ref()?
                .get("app.kubernetes.io/instance")
                .cloned()
        })
        .collect();
    apps.sort();
    apps.dedup();
    Ok(apps)
}
