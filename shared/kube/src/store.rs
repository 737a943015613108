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
    /// The `--with-roles FILE.sql` role specs applied, in order: each
    /// file's content hash and the roles it created (also in
    /// `created_roles`); a re-run with the same content does not run it
    /// again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_specs: Vec<RoleSpecRecord>,
    /// Passwords by role name; stored as separate keys, never in `app.json`.
    #[serde(skip)]
    pub passwords: BTreeMap<String, String>,
    /// For a record made from a Secret `./uis configure postgresql` wrote
    /// (see [`adopt`]), that Secret as `NS/NAME`; never stored.
    #[serde(skip)]
    pub adopted_from: Option<String>,
    /// For a record read from an operator's Secret
    /// ([`crate::provider::adopt_app_secret`]), the key of the password in
    /// it (`password`); `None` for `DATABASE_URL`. Never stored.
    #[serde(skip)]
    pub adopted_key: Option<String>,
}

/// A role spec `uis db configure --with-roles FILE.sql` ran.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RoleSpecRecord {
    /// The path as given.
    pub file: String,
    /// SHA-256 of its content, lowercase hex.
    pub sha256: String,
    /// The roles it created (absent before it ran).
    #[serde(default)]
    pub roles: Vec<String>,
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
/// on stderr, naming the Secret and key, never the value, once per
/// command however often it is read.
pub fn secret_value(namespace: &str, secret: &str, key: &str, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.len() != text.len() {
        uis_core::output::warn_once(format!(
            "Secret {namespace}/{secret} key {key} ends with a line break (as `kubectl create secret --from-file` keeps it); using the value without it. Rewrite it without one: `kubectl create secret generic {secret} -n {namespace} --from-literal={key}=... --dry-run=client -o yaml | kubectl apply -f -`"
        ));
    }
    trimmed.to_string()
}

/// The store Secret's name for an app: `uis-db-<kube name>`, the app's
/// name lowercased with `_` as `-` ([`uis_core::app::kube_name`]):
/// `uis-db-railway`, `uis-db-atlas-t` for `Atlas_T`.
pub fn secret_name(app: &str) -> String {
    format!("uis-db-{}", uis_core::app::kube_name(app))
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
///
/// Errors: phase `cluster` for API failures; `store` when the record does
/// not parse; `validate` when the Secret holds another app whose name maps
/// to the same Kubernetes name (`Atlas_T` and `atlas-t` both use
/// `uis-db-atlas-t`): the two cannot both be configured.
pub async fn read(
    cluster: &Cluster,
    namespace: &str,
    app: &str,
) -> Result<Option<AppRecord>, Failure> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let what = format!("reading Secret {namespace}/{}", secret_name(app));
    match cluster.call(&what, api.get_opt(&secret_name(app))).await? {
        Some(s) => {
            let rec = AppRecord::from_secret(&s)?;
            check_same_app(namespace, app, &rec)?;
            Ok(Some(rec))
        }
        None => Ok(None),
    }
}

/// The record in `uis-db-<kube name>` is `app`'s, not another app's with
/// the same Kubernetes name.
///
/// Errors: phase `validate`, naming both apps and the shared name.
pub fn check_same_app(namespace: &str, app: &str, rec: &AppRecord) -> Result<(), Failure> {
    if rec.app.is_empty() || rec.app == app {
        return Ok(());
    }
    Err(Failure::new(
        Phase::Validate,
        format!(
            "app {app:?} and app {:?} map to the same Kubernetes names (lowercase, '_' as '-': {:?}), and Secret {namespace}/{} already holds {:?} (nothing was changed)",
            rec.app,
            uis_core::app::kube_name(app),
            secret_name(app),
            rec.app
        ),
    )
    .hint(format!(
        "use the configured app, `{}`; two apps whose names differ only in case or '_'/'-' cannot both be configured",
        rec.app
    )))
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
    // The app's own name is in app.json (the instance label holds its
    // Kubernetes form, `atlas-t` for `Atlas_T`); the label for a record
    // that does not parse.
    let mut apps: Vec<String> = list
        .items
        .iter()
        .filter_map(|s| {
            let from_record = s
                .data
                .as_ref()
                .and_then(|d| d.get("app.json"))
                .and_then(|j| serde_json::from_slice::<AppRecord>(&j.0).ok())
                .map(|r| r.app)
                .filter(|a| !a.is_empty());
            from_record.or_else(|| {
                s.metadata
                    .labels
                    .as_ref()?
                    .get("app.kubernetes.io/instance")
                    .cloned()
            })
        })
        .collect();
    apps.sort();
    apps.dedup();
    Ok(apps)
}

/// The label `./uis configure postgresql` puts on the `<prefix>-db` Secret.
pub const UIS_SELECTOR: &str = "app.kubernetes.io/managed-by=uis";

/// A `DATABASE_URL` found in a Secret UIS wrote (`./uis configure
/// postgresql --namespace NS --secret-name-prefix P` writes `NS/P-db`).
#[derive(Debug, Clone)]
pub struct UrlSecret {
    pub namespace: String,
    pub name: String,
    pub url: uis_core::creds::ParsedUrl,
}

impl UrlSecret {
    /// `NS/NAME`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn from_secret(s: &Secret) -> Option<UrlSecret> {
        let v = s.data.as_ref()?.get("DATABASE_URL")?;
        let namespace = s.metadata.namespace.clone()?;
        let name = s.metadata.name.clone()?;
        std::str::from_utf8(&v.0).ok()?;
        let text = secret_value(&namespace, &name, "DATABASE_URL", &v.0);
        Some(UrlSecret {
            url: uis_core::creds::parse_url(&text)?,
            namespace,
            name,
        })
    }
}

/// Secret `NS/NAME`'s `DATABASE_URL`, `None` when the Secret or the key is
/// missing or the URL has no login.
///
/// Errors: phase `cluster` for API failures.
pub async fn url_secret(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<UrlSecret>, Failure> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let what = format!("reading Secret {namespace}/{name}");
    Ok(cluster
        .call(&what, api.get_opt(name))
        .await?
        .as_ref()
        .and_then(UrlSecret::from_secret))
}

/// Every Secret labelled `app.kubernetes.io/managed-by=uis` whose
/// `DATABASE_URL` logs in as `user` (to `database`, when given), in every
/// namespace; when listing across namespaces is refused (403), in
/// `fallback_namespace` only; when that is refused too, none. Sorted by
/// `NS/NAME`.
///
/// Errors: none today (kept a `Result` for the callers' `?`).
pub async fn find_url_secrets(
    cluster: &Cluster,
    user: &str,
    database: Option<&str>,
    fallback_namespace: &str,
) -> Result<Vec<UrlSecret>, Failure> {
    let lp = ListParams::default().labels(UIS_SELECTOR);
    let all: Api<Secret> = Api::all(cluster.client.clone());
    let items = match cluster
        .call(
            "listing Secrets labelled app.kubernetes.io/managed-by=uis in every namespace",
            all.list(&lp),
        )
        .await
    {
        Ok(l) => l.items,
        Err(_) => {
            // Refused across namespaces: the database namespace; refused
            // there too: nothing found (the caller reports the app as not
            // configured, which is what it can tell).
            let api: Api<Secret> = Api::namespaced(cluster.client.clone(), fallback_namespace);
            let what = format!(
                "listing Secrets labelled app.kubernetes.io/managed-by=uis in {fallback_namespace}"
            );
            match cluster.call(&what, api.list(&lp)).await {
                Ok(l) => l.items,
                Err(_) => Vec::new(),
            }
        }
    };
    let mut found: Vec<UrlSecret> = items
        .iter()
        .filter_map(UrlSecret::from_secret)
        .filter(|u| u.url.user == user && database.is_none_or(|d| u.url.database == d))
        .collect();
    found.sort_by_key(UrlSecret::id);
    Ok(found)
}

/// A record for an app the suite never configured but `./uis configure
/// postgresql` did: from the first Secret [`find_url_secrets`] finds for
/// the app's role (APP with `-` as `_`), preferring UIS's default database
/// `<role>_db`. Only read, never stored; `None` when there is no such
/// Secret.
///
/// Errors: [`find_url_secrets`]'s.
pub async fn adopt(
    cluster: &Cluster,
    namespace: &str,
    app: &str,
) -> Result<Option<AppRecord>, Failure> {
    let user = uis_core::app::sql_name(app);
    let found = find_url_secrets(cluster, &user, None, namespace).await?;
    let default_db = format!("{user}_db");
    let Some(pick) = found
        .iter()
        .find(|u| u.url.database == default_db)
        .or(found.first())
    else {
        return Ok(None);
    };
    Ok(Some(AppRecord {
        app: app.to_string(),
        database: pick.url.database.clone(),
        owner: user.clone(),
        url_secrets: vec![pick.id()],
        passwords: BTreeMap::from([(user, pick.url.password.clone())]),
        adopted_from: Some(pick.id()),
        ..Default::default()
    }))
}
