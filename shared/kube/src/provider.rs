//! Which kind of PostgreSQL the suite talks to (the [`Provider`]), found
//! from what the cluster shows ([`resolve`]), and what each one means for
//! the [`Locator`]: the pods' selector, the read-write Service, the port,
//! the label that marks the primary, and where the superuser's and the
//! app's credentials are kept. The facts per operator are those of their
//! own documentation and source (CloudNativePG `pkg/specs/secrets.go` and
//! its labels page, Zalando `docs/user.md` and `pkg/cluster/k8sres.go`,
//! Crunchy PGO `internal/naming`, StackGres' connection pages, the Bitnami
//! chart's templates; docs/providers.md lists them).
//!
//! Not for the connection itself (the tunnel, [`crate::tunnel`]) nor for
//! choosing among the pods ([`Locator::pod`] does, with the rule resolved
//! here).

use crate::cluster::Cluster;
use crate::locate::{
    DEFAULT_ADMIN_SECRETS, DEFAULT_PORT, DEFAULT_SELECTOR, DEFAULT_SERVICE, DEFAULT_SUPERUSER,
    Locator,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use std::collections::BTreeMap;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::output::note;

/// Where PostgreSQL lives (docs/providers.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// UIS in-cluster: the Bitnami chart's StatefulSet pod `postgresql-0`.
    Bitnami,
    /// UIS proxied: a Deployment pod (a client container and socat) that
    /// forwards its port 5432 to an external server; Service `postgresql`.
    UisProxied,
    /// CloudNativePG: a `Cluster` (`postgresql.cnpg.io/v1`).
    Cnpg,
    /// Zalando's postgres-operator: a `postgresql` (`acid.zalan.do/v1`).
    Zalando,
    /// Crunchy PGO v5: a `PostgresCluster`.
    Pgo,
    /// StackGres: an `SGCluster`.
    Stackgres,
    /// A server reached at `--direct HOST:PORT`, with the admin's password
    /// in a named Secret (`--admin-secrets`).
    External,
}

impl Provider {
    /// Every provider, in the order `--provider` lists them.
    pub const ALL: [Provider; 7] = [
        Provider::Bitnami,
        Provider::UisProxied,
        Provider::Cnpg,
        Provider::Zalando,
        Provider::Pgo,
        Provider::Stackgres,
        Provider::External,
    ];

    /// The name `--provider` takes and the output prints.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Bitnami => "bitnami",
            Provider::UisProxied => "uis-proxied",
            Provider::Cnpg => "cnpg",
            Provider::Zalando => "zalando",
            Provider::Pgo => "pgo",
            Provider::Stackgres => "stackgres",
            Provider::External => "external",
        }
    }

    /// The provider named `s` (as [`Provider::name`] spells it).
    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Is this a Kubernetes operator with a custom resource per cluster?
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Provider::Cnpg | Provider::Zalando | Provider::Pgo | Provider::Stackgres
        )
    }

    /// The pod labels that tell a pod's role, in the order they are read
    /// (the first one present decides), and the values that mean primary.
    pub fn role_labels(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            // CNPG 1.18+ `cnpg.io/instanceRole`; older releases `role`.
            Provider::Cnpg => (&["cnpg.io/instanceRole", "role"], &["primary"]),
            Provider::Zalando => (&["spilo-role"], &["master"]),
            Provider::Pgo => (&["postgres-operator.crunchydata.com/role"], &["master"]),
            // StackGres `role=primary`; older releases `master`.
            Provider::Stackgres => (&["role"], &["primary", "master"]),
            Provider::Bitnami | Provider::UisProxied | Provider::External => {
                (&["app.kubernetes.io/component"], &["primary"])
            }
        }
    }

    /// The custom resource of an operator: (group, version, kind, plural).
    pub fn custom_resource(
        self,
    ) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
        match self {
            Provider::Cnpg => Some(("postgresql.cnpg.io", "v1", "Cluster", "clusters")),
            Provider::Zalando => Some(("acid.zalan.do", "v1", "postgresql", "postgresqls")),
            Provider::Pgo => Some((
                "postgres-operator.crunchydata.com",
                "v1beta1",
                "PostgresCluster",
                "postgresclusters",
            )),
            Provider::Stackgres => Some(("stackgres.io", "v1", "SGCluster", "sgclusters")),
            _ => None,
        }
    }

    /// The read-write Service of cluster `c` (the name TLS verify-full
    /// checks the server certificate against through the tunnel, as
    /// `<service>.<namespace>.svc`): CNPG `<c>-rw`, Zalando `<c>`, PGO
    /// `<c>-primary`, StackGres `<c>`; `None` for UIS and external, whose
    /// Service is the `--pg-service` flag's.
    pub fn rw_service(self, c: &str) -> Option<String> {
        match self {
            Provider::Cnpg => Some(format!("{c}-rw")),
            Provider::Zalando | Provider::Stackgres => Some(c.to_string()),
            Provider::Pgo => Some(format!("{c}-primary")),
            _ => None,
        }
    }

    /// The PostgreSQL port on the Service and in the pod: StackGres'
    /// Service port 5432 is PgBouncer, PostgreSQL itself is 5433.
    pub fn port(self) -> Option<u16> {
        match self {
            Provider::Stackgres => Some(5433),
            Provider::Cnpg | Provider::Zalando | Provider::Pgo => Some(5432),
            _ => None,
        }
    }

    /// The pod selector of cluster `c`.
    pub fn selector(self, c: &str) -> Option<String> {
        match self {
            Provider::Cnpg => Some(format!("cnpg.io/cluster={c}")),
            Provider::Zalando => Some(format!("application=spilo,cluster-name={c}")),
            Provider::Pgo => Some(format!("postgres-operator.crunchydata.com/cluster={c}")),
            Provider::Stackgres => Some(format!("stackgres.io/cluster-name={c}")),
            _ => None,
        }
    }

    /// The superuser's Secret of cluster `c` in `ns`: (Secret, password
    /// key, user-name key).
    pub fn superuser_secret(self, c: &str) -> Option<(String, &'static str, &'static str)> {
        match self {
            Provider::Cnpg => Some((format!("{c}-superuser"), "password", "username")),
            Provider::Zalando => Some((zalando_secret_name("postgres", c), "password", "username")),
            Provider::Pgo => Some((format!("{c}-pguser-postgres"), "password", "user")),
            Provider::Stackgres => {
                Some((c.to_string(), "superuser-password", "superuser-username"))
            }
            _ => None,
        }
    }

    /// The one Secret per cluster the operator writes for the
    /// application's own login (CNPG `<c>-app`; PGO `<c>-pguser-<c>`, its
    /// default user's, where every user of `spec.users` has one of its own,
    /// [`pgo_user_secret`]). Zalando keeps one per user of the manifest
    /// ([`zalando_secret_name`]): none here.
    pub fn app_secret(self, c: &str) -> Option<AppSecret> {
        match self {
            Provider::Cnpg => Some(AppSecret {
                name: format!("{c}-app"),
                user_key: "username".into(),
                password_key: "password".into(),
                database_key: "dbname".into(),
            }),
            Provider::Pgo => Some(pgo_user_secret(c, c)),
            _ => None,
        }
    }
}

/// Crunchy PGO's Secret of the login `user` of cluster `c`:
/// `<c>-pguser-<user>`, keys `user`, `password`, `dbname` (and `host`,
/// `port`, `uri`, ...; PGO `internal/naming/names.go` PostgresUserSecret).
pub fn pgo_user_secret(c: &str, user: &str) -> AppSecret {
    AppSecret {
        name: format!("{c}-pguser-{user}"),
        user_key: "user".into(),
        password_key: "password".into(),
        database_key: "dbname".into(),
    }
}

/// The Zalando operator's Secret name for the login `user` of cluster `c`:
/// `{user}.{c}.credentials.postgresql.acid.zalan.do` with `_` in the user
/// as `-` (the default `secret_name_template`; `pkg/cluster/util.go`
/// credentialSecretNameForCluster). A cross-namespace user
/// `{namespace}.{name}` (`enable_cross_namespace_secret`) keeps its
/// namespace as the first part: `appns.db-user.acid.credentials...`, in
/// namespace `appns` ([`zalando_secret_namespaces`]).
pub fn zalando_secret_name(user: &str, c: &str) -> String {
    format!(
        "{}.{c}.credentials.postgresql.acid.zalan.do",
        user.replace('_', "-")
    )
}

/// Where the Zalando operator writes the Secret of `user`: a user
/// `{namespace}.{name}` in `namespace` first (where it is with
/// `enable_cross_namespace_secret`), then `cluster_ns` (where the same
/// user's Secret is when that setting is off); any other user in
/// `cluster_ns` (docs/user.md, "cross-namespace"; `pkg/cluster/cluster.go`
/// initRobotUsers).
pub fn zalando_secret_namespaces(user: &str, cluster_ns: &str) -> Vec<String> {
    let mut v = Vec::new();
    if let Some((ns, _)) = user.split_once('.') {
        v.push(ns.to_string());
    }
    if !v.iter().any(|n| n == cluster_ns) {
        v.push(cluster_ns.to_string());
    }
    v
}

/// A login the Zalando operator may keep for APP: the role, the
/// namespaces its Secret may be in (in order), its database when the
/// manifest names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZalandoLogin {
    pub user: String,
    pub namespaces: Vec<String>,
    pub database: Option<String>,
}

/// The logins of the Zalando manifest `spec` (`postgresql.spec`, `None`
/// when it cannot be read) that APP may mean, in the order they are tried:
/// a user of `spec.users` named as APP's SQL name `u` or `{namespace}.u`
/// (cross-namespace), with the database it owns in `spec.databases`; the
/// owner of database `u`; the owner login `u_owner_user` of a prepared
/// database `u` with `defaultUsers` (its Secrets in `secretNamespace` when
/// set); last, `u` itself in `cluster_ns` (found without the manifest).
pub fn zalando_logins(
    spec: Option<&serde_json::Value>,
    app: &str,
    cluster_ns: &str,
) -> Vec<ZalandoLogin> {
    let u = uis_core::app::sql_name(app);
    let mut out: Vec<ZalandoLogin> = Vec::new();
    let mut add = |user: &str, database: Option<&str>, namespaces: Vec<String>| {
        if !out.iter().any(|l| l.user == user) {
            out.push(ZalandoLogin {
                user: user.to_string(),
                namespaces,
                database: database.map(str::to_string),
            });
        }
    };
    let empty = serde_json::Map::new();
    let object = |v: &serde_json::Value| v.as_object().cloned().unwrap_or_else(|| empty.clone());
    if let Some(spec) = spec {
        let databases: Vec<(String, String)> = object(&spec["databases"])
            .into_iter()
            .filter_map(|(db, owner)| Some((db, owner.as_str()?.to_string())))
            .collect();
        let owned = |user: &str| {
            databases
                .iter()
                .find(|(_, o)| o == user)
                .map(|(db, _)| db.clone())
        };
        for user in object(&spec["users"]).keys() {
            let name = user.split_once('.').map_or(user.as_str(), |(_, n)| n);
            if name == u {
                add(
                    user.as_str(),
                    owned(user.as_str()).as_deref(),
                    zalando_secret_namespaces(user, cluster_ns),
                );
            }
        }
        for (db, owner) in &databases {
            if *db == u {
                add(
                    owner.as_str(),
                    Some(db.as_str()),
                    zalando_secret_namespaces(owner, cluster_ns),
                );
            }
        }
        let prepared = &spec["preparedDatabases"][u.as_str()];
        if prepared["defaultUsers"].as_bool() == Some(true) {
            let mut namespaces = Vec::new();
            if let Some(ns) = prepared["secretNamespace"].as_str() {
                namespaces.push(ns.to_string());
            }
            if !namespaces.iter().any(|n| n == cluster_ns) {
                namespaces.push(cluster_ns.to_string());
            }
            add(&format!("{u}_owner_user"), Some(u.as_str()), namespaces);
        }
    }
    add(u.as_str(), None, vec![cluster_ns.to_string()]);
    out
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An operator's Secret for the application's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSecret {
    pub name: String,
    pub user_key: String,
    pub password_key: String,
    pub database_key: String,
}

/// What a pod's labels say it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub provider: Provider,
    /// The operator's cluster name; `None` for UIS.
    pub cluster: Option<String>,
}

impl Found {
    fn describe(&self) -> String {
        match &self.cluster {
            Some(c) => format!("{} (cluster {c})", self.provider),
            None => self.provider.to_string(),
        }
    }
}

/// What `pod` is, from its labels (and, for UIS, its owner and containers):
/// `None` for a pod of none of them (a PostgREST pod, a CNPG join job).
pub fn classify(pod: &Pod) -> Option<Found> {
    let empty = BTreeMap::new();
    let labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
    let get = |k: &str| labels.get(k).map(String::as_str);
    let op = |provider, c: &str| {
        Some(Found {
            provider,
            cluster: Some(c.to_string()),
        })
    };
    if let Some(c) = get("cnpg.io/cluster") {
        // Instances only: not the initdb/join jobs, nor a Pooler's pods.
        if get("cnpg.io/jobRole").is_some() || get("cnpg.io/poolerName").is_some() {
            return None;
        }
        return op(Provider::Cnpg, c);
    }
    if get("application") == Some("spilo")
        && let Some(c) = get("cluster-name")
    {
        return op(Provider::Zalando, c);
    }
    if let Some(c) = get("postgres-operator.crunchydata.com/cluster") {
        // Instance pods only (not pgBackRest's repo host, not PgBouncer).
        let instance = get("postgres-operator.crunchydata.com/data") == Some("postgres")
            || get("postgres-operator.crunchydata.com/instance").is_some()
            || get("postgres-operator.crunchydata.com/role").is_some();
        return if instance { op(Provider::Pgo, c) } else { None };
    }
    if let Some(c) = get("stackgres.io/cluster-name") {
        return op(Provider::Stackgres, c);
    }
    if get("stackgres.io/cluster") == Some("true")
        && let Some(c) = get("cluster-name")
    {
        return op(Provider::Stackgres, c);
    }
    if get("app.kubernetes.io/name") == Some("postgresql") {
        return Some(Found {
            provider: if is_proxy(pod) {
                Provider::UisProxied
            } else {
                Provider::Bitnami
            },
            cluster: None,
        });
    }
    None
}

/// A UIS proxied pod: owned by a ReplicaSet (a Deployment's pod, where the
/// chart's is a StatefulSet's), or running socat
/// (ansible/playbooks/templates/040-postgresql-external-proxy.yml.j2).
fn is_proxy(pod: &Pod) -> bool {
    let by_replicaset = pod
        .metadata
        .owner_references
        .as_ref()
        .is_some_and(|o| o.iter().any(|r| r.kind == "ReplicaSet"));
    let socat = pod.spec.as_ref().is_some_and(|s| {
        s.containers.iter().any(|c| {
            c.image.as_deref().unwrap_or_default().contains("socat")
                || c.command
                    .iter()
                    .chain(c.args.iter())
                    .flatten()
                    .any(|a| a.contains("socat"))
        })
    });
    by_replicaset || socat
}

/// The role a pod's labels give it under `provider`'s labelling
/// (`cnpg.io/instanceRole=replica`), or `no role label`.
pub fn role_of(provider: Provider, pod: &Pod) -> String {
    let (keys, _) = provider.role_labels();
    let labels = pod.metadata.labels.as_ref();
    keys.iter()
        .find_map(|k| labels.and_then(|l| l.get(*k)).map(|v| format!("{k}={v}")))
        .unwrap_or_else(|| "no role label".into())
}

/// Is the pod the primary as `provider` labels it? The first role label
/// present decides (CNPG's `cnpg.io/instanceRole` before the older `role`).
pub fn is_primary(provider: Provider, pod: &Pod) -> bool {
    let (keys, primary) = provider.role_labels();
    let labels = pod.metadata.labels.as_ref();
    keys.iter()
        .find_map(|k| labels.and_then(|l| l.get(*k)))
        .is_some_and(|v| primary.contains(&v.as_str()))
}

/// Resolves the provider of `loc` (auto or as given) and returns the
/// locator it implies, saying on stderr which one and why. Flags the user
/// changed from the UIS defaults win over a provider's values; the defaults
/// give way to them (docs/providers.md).
///
/// Auto: `--direct` means `external` (no API call). Otherwise the pods of
/// the namespace are listed (those of `--pg-selector` when it is not the
/// default) and each is classified by its labels ([`classify`]); one kind
/// found is the answer, none falls back to UIS's `bitnami` (the pod lookup
/// then says what is missing), several are an error naming each and
/// `--provider`.
///
/// Errors: phase `locate` for several providers or clusters found, or for
/// `--provider NAME` when no pod of that operator is there; phase `usage`
/// for `--provider external` without `--direct`; `cluster` for API
/// failures.
pub async fn resolve(loc: &Locator, cluster: &Cluster) -> Result<Locator, Failure> {
    let ns = &loc.namespace;
    if loc.provider == Some(Provider::External) || (loc.provider.is_none() && loc.direct.is_some())
    {
        let Some((h, p)) = &loc.direct else {
            return Err(Failure::usage(
                "--provider external needs the server's address: --direct HOST:PORT (and its admin's password with --admin-secrets SECRET/KEY)",
            ));
        };
        note(format!("uis: provider external ({h}:{p}, --direct)"));
        let mut out = loc.clone();
        out.provider = Some(Provider::External);
        return Ok(out);
    }
    let custom_selector = loc.selector != DEFAULT_SELECTOR;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    let params = if custom_selector {
        ListParams::default().labels(&loc.selector)
    } else {
        ListParams::default()
    };
    let what = if custom_selector {
        format!("listing pods with {} in namespace {ns}", loc.selector)
    } else {
        format!("listing the pods of namespace {ns} to find PostgreSQL")
    };
    let list = cluster.call(&what, pods.list(&params)).await?;
    let mut found: BTreeMap<Found, Vec<String>> = BTreeMap::new();
    for p in &list.items {
        if let Some(f) = classify(p) {
            if loc.provider.is_some_and(|want| want != f.provider) {
                continue;
            }
            found
                .entry(f)
                .or_default()
                .push(p.metadata.name.clone().unwrap_or_default());
        }
    }
    let (pick, how) = match found.len() {
        0 => match loc.provider {
            Some(p) if p.is_operator() => {
                return Err(Failure::new(
                    Phase::Locate,
                    format!("--provider {p}: no pod of {} in namespace {ns}", operator_name(p)),
                )
                .hint(format!(
                    "is the cluster in another namespace? --pg-namespace NS; see what is there: `kubectl get pods -n {ns} --show-labels`"
                )));
            }
            Some(p) => (
                Found {
                    provider: p,
                    cluster: None,
                },
                "--provider".to_string(),
            ),
            None => (
                Found {
                    provider: Provider::Bitnami,
                    cluster: None,
                },
                format!("the UIS default: no pod of an operator in namespace {ns}"),
            ),
        },
        1 => {
            let (f, names) = found.iter().next().expect("one");
            let how = match loc.provider {
                Some(_) => "--provider".to_string(),
                None => format!("detected from pods {}", names.join(", ")),
            };
            (f.clone(), how)
        }
        _ => {
            let choices: Vec<String> = found
                .iter()
                .map(|(f, pods)| format!("{} (pods {})", f.describe(), pods.join(", ")))
                .collect();
            let providers: Vec<&str> = {
                let mut v: Vec<&str> = found.keys().map(|f| f.provider.name()).collect();
                v.dedup();
                v
            };
            let hint = if providers.len() > 1 {
                format!(
                    "choose one with --provider {} (or UIS_PROVIDER); one cluster of an operator among several: --pg-selector, e.g. --pg-selector {}",
                    providers.join("|"),
                    found
                        .keys()
                        .find_map(|f| f.cluster.as_deref().and_then(|c| f.provider.selector(c)))
                        .unwrap_or_else(|| DEFAULT_SELECTOR.to_string())
                )
            } else {
                format!(
                    "choose the cluster with --pg-selector, e.g. --pg-selector {} (--provider {} stays as detected)",
                    found
                        .keys()
                        .find_map(|f| f.cluster.as_deref().and_then(|c| f.provider.selector(c)))
                        .unwrap_or_else(|| DEFAULT_SELECTOR.to_string()),
                    providers[0]
                )
            };
            return Err(Failure::new(
                Phase::Locate,
                format!(
                    "found more than one PostgreSQL in namespace {ns}: {}",
                    choices.join("; ")
                ),
            )
            .hint(hint));
        }
    };
    let mut out = apply(loc, &pick);
    if let (Some(c), true) = (&pick.cluster, pick.provider.is_operator()) {
        out.admin_hint = Some(missing_superuser_hint(cluster, &out, pick.provider, c).await);
    }
    note(format!(
        "uis: provider {} ({how}; Service {}, pods {})",
        pick.describe(),
        out.service,
        out.selector
    ));
    Ok(out)
}

fn operator_name(p: Provider) -> &'static str {
    match p {
        Provider::Cnpg => "CloudNativePG (label cnpg.io/cluster)",
        Provider::Zalando => "the Zalando operator (labels application=spilo, cluster-name)",
        Provider::Pgo => "Crunchy PGO (label postgres-operator.crunchydata.com/cluster)",
        Provider::Stackgres => "StackGres (label stackgres.io/cluster-name)",
        _ => "that provider",
    }
}

/// The locator `found` implies: each setting still at its UIS default takes
/// the provider's value; one the user changed stays.
pub fn apply(loc: &Locator, found: &Found) -> Locator {
    let mut out = loc.clone();
    out.provider = Some(found.provider);
    out.cluster_name = found.cluster.clone();
    let Some(c) = found.cluster.as_deref() else {
        return out;
    };
    let p = found.provider;
    if loc.selector == DEFAULT_SELECTOR
        && let Some(s) = p.selector(c)
    {
        out.selector = s;
    }
    if loc.service == DEFAULT_SERVICE
        && let Some(s) = p.rw_service(c)
    {
        out.service = s;
    }
    if loc.port == DEFAULT_PORT
        && let Some(port) = p.port()
    {
        out.port = port;
    }
    let default_secrets = loc.admin_secrets
        == DEFAULT_ADMIN_SECRETS
            .iter()
            .map(|(s, k)| (s.to_string(), k.to_string()))
            .collect::<Vec<_>>();
    if default_secrets && p == Provider::Zalando && loc.superuser != DEFAULT_SUPERUSER {
        // An admin of the manifest's `spec.users` (`--pg-superuser NAME`):
        // its own Secret, a cross-namespace user's in its namespace first
        // (`NAMESPACE/NAME`, read by Locator::admin).
        out.admin_secrets = zalando_secret_namespaces(&loc.superuser, &loc.namespace)
            .into_iter()
            .map(|ns| {
                (
                    format!("{ns}/{}", zalando_secret_name(&loc.superuser, c)),
                    "password".to_string(),
                )
            })
            .collect();
    } else if default_secrets && let Some((secret, key, user_key)) = p.superuser_secret(c) {
        out.admin_secrets = vec![(secret, key.to_string())];
        if loc.superuser == DEFAULT_SUPERUSER {
            out.admin_user_key = Some(user_key.to_string());
        }
    }
    out.app_secret = p.app_secret(c);
    out
}

/// What to do when the operator keeps no superuser Secret: CNPG writes
/// `<c>-superuser` only with `spec.enableSuperuserAccess: true` (read from
/// the Cluster when allowed); PGO writes `<c>-pguser-postgres` only when
/// `spec.users` lists `postgres`.
async fn missing_superuser_hint(cluster: &Cluster, loc: &Locator, p: Provider, c: &str) -> String {
    let ns = &loc.namespace;
    let app = match (p, p.app_secret(c)) {
        (Provider::Pgo, _) => format!(
            "; commands as the app's login work without it: the operator's Secret {ns}/{c}-pguser-APP is used for APP (and {ns}/{c}-pguser-{c} for APP {c})"
        ),
        (_, Some(a)) => format!(
            "; commands as the app's login work without it: the operator's Secret {ns}/{} is used for APP {c}",
            a.name
        ),
        (_, None) => String::new(),
    };
    match p {
        Provider::Cnpg => {
            let enabled = custom_resource(cluster, p, ns, c)
                .await
                .and_then(|cr| cr.data["spec"]["enableSuperuserAccess"].as_bool());
            let now = match enabled {
                Some(true) => "it is set: wait for the operator to write the Secret".to_string(),
                Some(false) => "it is false now".to_string(),
                None => "it is not set (CloudNativePG's default is false)".to_string(),
            };
            format!(
                "CloudNativePG writes Secret {ns}/{c}-superuser only with spec.enableSuperuserAccess: true in the Cluster ({now}); enable it: `kubectl patch clusters.postgresql.cnpg.io {c} -n {ns} --type merge -p '{{\"spec\":{{\"enableSuperuserAccess\":true}}}}'`{app}"
            )
        }
        Provider::Pgo => format!(
            "Crunchy PGO writes Secret {ns}/{c}-pguser-postgres only when spec.users of PostgresCluster {c} lists the user postgres: add `- name: postgres` to spec.users{app}"
        ),
        Provider::Zalando => format!(
            "the Zalando operator keeps the superuser's password in Secret {ns}/{}: is the cluster running? `kubectl get postgresql {c} -n {ns}`; commands as the app's login work without it, with Secret USER.{c}.credentials.postgresql.acid.zalan.do of the app's user (NAMESPACE.USER... in NAMESPACE for a cross-namespace user)",
            zalando_secret_name("postgres", c)
        ),
        _ => format!(
            "StackGres keeps the superuser's password in Secret {ns}/{c} (keys superuser-username, superuser-password): is the SGCluster running? `kubectl get sgcluster {c} -n {ns}`"
        ),
    }
}

/// The app's login from the operator's Secrets, for an APP the suite never
/// configured. Read as found, never stored; `None` when no Secret of the
/// operator's is APP's.
///
/// - CloudNativePG: `<c>-app`, when APP names the cluster, the Secret's
///   database or its user.
/// - Crunchy PGO: `<c>-pguser-<APP>` (one Secret per user of `spec.users`),
///   then the default user's `<c>-pguser-<c>` as CNPG's.
/// - Zalando: `{user}.{c}.credentials.postgresql.acid.zalan.do` of the
///   logins [`zalando_logins`] finds for APP in the cluster's manifest
///   (read when allowed), a cross-namespace user's in its own namespace;
///   the database is the one the manifest gives the user, else APP's SQL
///   name (the Secret has no database key).
///
/// Errors: `cluster` for API failures (a Secret in another namespace the
/// caller may not read included).
pub async fn adopt_app_secret(
    cluster: &Cluster,
    loc: &Locator,
    app: &str,
) -> Result<Option<crate::store::AppRecord>, Failure> {
    let (Some(p), Some(c)) = (loc.provider, loc.cluster_name.as_deref()) else {
        return Ok(None);
    };
    let ns = loc.namespace.as_str();
    let sql_app = uis_core::app::sql_name(app);
    if p == Provider::Zalando {
        let manifest = custom_resource(cluster, p, ns, c).await;
        let spec = manifest.as_ref().map(|m| &m.data["spec"]);
        for login in zalando_logins(spec, app, ns) {
            let secret = AppSecret {
                name: zalando_secret_name(&login.user, c),
                user_key: "username".into(),
                password_key: "password".into(),
                database_key: "dbname".into(),
            };
            for at in &login.namespaces {
                if let Some(found) = read_login(cluster, at, &secret).await? {
                    let database = login
                        .database
                        .clone()
                        .or(found.database.clone())
                        .unwrap_or_else(|| sql_app.clone());
                    return Ok(Some(found.record(app, at, &secret, database)));
                }
            }
        }
        return Ok(None);
    }
    let mut secrets = Vec::new();
    if p == Provider::Pgo && app != c && app != "postgres" {
        secrets.push((pgo_user_secret(c, app), true));
    }
    if let Some(s) = &loc.app_secret {
        secrets.push((s.clone(), false));
    }
    for (secret, named_for_app) in secrets {
        let Some(found) = read_login(cluster, ns, &secret).await? else {
            continue;
        };
        let database = found.database.clone().unwrap_or_else(|| found.user.clone());
        if named_for_app || app == c || sql_app == database || sql_app == found.user {
            return Ok(Some(found.record(app, ns, &secret, database)));
        }
    }
    Ok(None)
}

/// A login read from an operator's Secret.
struct FoundLogin {
    user: String,
    password: String,
    database: Option<String>,
}

impl FoundLogin {
    fn record(
        self,
        app: &str,
        ns: &str,
        secret: &AppSecret,
        database: String,
    ) -> crate::store::AppRecord {
        crate::store::AppRecord {
            app: app.to_string(),
            database,
            owner: self.user.clone(),
            passwords: BTreeMap::from([(self.user, self.password)]),
            adopted_from: Some(format!("{ns}/{}", secret.name)),
            adopted_key: Some(secret.password_key.clone()),
            ..Default::default()
        }
    }
}

/// The user, password and database of Secret `ns/secret`; `None` when it
/// does not exist or lacks the user or the password.
async fn read_login(
    cluster: &Cluster,
    ns: &str,
    secret: &AppSecret,
) -> Result<Option<FoundLogin>, Failure> {
    use k8s_openapi::api::core::v1::Secret;
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    let what = format!("reading Secret {ns}/{}", secret.name);
    let Some(found) = cluster.call(&what, api.get_opt(&secret.name)).await? else {
        return Ok(None);
    };
    let data = found.data.unwrap_or_default();
    let value = |k: &str| {
        data.get(k)
            .map(|v| crate::store::secret_value(ns, &secret.name, k, &v.0))
    };
    let (Some(user), Some(password)) = (value(&secret.user_key), value(&secret.password_key))
    else {
        return Ok(None);
    };
    Ok(Some(FoundLogin {
        user,
        password,
        database: value(&secret.database_key),
    }))
}

/// The operator's custom resource for cluster `c`, or `None` when it cannot
/// be read (not installed, not allowed: the hint then says less).
pub async fn custom_resource(
    cluster: &Cluster,
    p: Provider,
    ns: &str,
    c: &str,
) -> Option<DynamicObject> {
    let (group, version, kind, plural) = p.custom_resource()?;
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api: Api<DynamicObject> = Api::namespaced_with(cluster.client.clone(), ns, &ar);
    tokio::time::timeout(std::time::Duration::from_secs(5), api.get_opt(c))
        .await
        .ok()?
        .ok()?
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(labels: &[(&str, &str)]) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.name()), Some(p));
        }
        assert_eq!(Provider::parse("auto"), None);
    }

    #[test]
    fn classifies_each_operators_labels() {
        let cases = [
            (
                vec![
                    ("cnpg.io/cluster", "pgc"),
                    ("cnpg.io/instanceRole", "primary"),
                ],
                Provider::Cnpg,
            ),
            (
                vec![("application", "spilo"), ("cluster-name", "acid")],
                Provider::Zalando,
            ),
            (
                vec![
                    ("postgres-operator.crunchydata.com/cluster", "hippo"),
                    ("postgres-operator.crunchydata.com/data", "postgres"),
                ],
                Provider::Pgo,
            ),
            (
                vec![
                    ("stackgres.io/cluster-name", "sg"),
                    ("stackgres.io/cluster", "true"),
                ],
                Provider::Stackgres,
            ),
            (
                vec![("app.kubernetes.io/name", "postgresql")],
                Provider::Bitnami,
            ),
        ];
        for (labels, want) in cases {
            assert_eq!(
                classify(&pod(&labels)).map(|f| f.provider),
                Some(want),
                "{labels:?}"
            );
        }
        // A PGO repo host and a CNPG join job are not database pods.
        assert_eq!(
            classify(&pod(&[("postgres-operator.crunchydata.com/cluster", "h")])),
            None
        );
        assert_eq!(
            classify(&pod(&[
                ("cnpg.io/cluster", "c"),
                ("cnpg.io/jobRole", "join")
            ])),
            None
        );
    }

    #[test]
    fn zalando_names_a_users_secret_as_the_operator_does() {
        assert_eq!(
            zalando_secret_name("db_user", "acid-x"),
            "db-user.acid-x.credentials.postgresql.acid.zalan.do"
        );
        assert_eq!(
            zalando_secret_name("appspace.db_user", "acid-x"),
            "appspace.db-user.acid-x.credentials.postgresql.acid.zalan.do"
        );
        assert_eq!(
            zalando_secret_namespaces("appspace.db_user", "default"),
            ["appspace", "default"]
        );
        assert_eq!(zalando_secret_namespaces("db_user", "default"), ["default"]);
    }

    #[test]
    fn zalando_admin_named_by_pg_superuser_has_its_own_secret() {
        let found = Found {
            provider: Provider::Zalando,
            cluster: Some("pg".into()),
        };
        let mut loc = Locator::uis_default();
        assert_eq!(
            apply(&loc, &found).admin_secrets,
            [(
                "postgres.pg.credentials.postgresql.acid.zalan.do".to_string(),
                "password".to_string()
            )]
        );
        loc.superuser = "appns.db_admin".into();
        assert_eq!(
            apply(&loc, &found).admin_secrets,
            [
                (
                    "appns/appns.db-admin.pg.credentials.postgresql.acid.zalan.do".to_string(),
                    "password".to_string()
                ),
                (
                    "default/appns.db-admin.pg.credentials.postgresql.acid.zalan.do".to_string(),
                    "password".to_string()
                ),
            ]
        );
    }

    #[test]
    fn zalando_logins_of_an_app_come_from_the_manifest() {
        let spec = serde_json::json!({
            "users": {"appspace.shop_app": ["createdb"], "other": []},
            "databases": {"shop_db": "appspace.shop_app", "shop_app": "owner_two"},
            "preparedDatabases": {"shop_app": {"defaultUsers": true, "secretNamespace": "prep"}},
        });
        let logins = zalando_logins(Some(&spec), "shop-app", "default");
        let users: Vec<(&str, Option<&str>, Vec<&str>)> = logins
            .iter()
            .map(|l| {
                (
                    l.user.as_str(),
                    l.database.as_deref(),
                    l.namespaces.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            users,
            [
                (
                    "appspace.shop_app",
                    Some("shop_db"),
                    vec!["appspace", "default"]
                ),
                ("owner_two", Some("shop_app"), vec!["default"]),
                (
                    "shop_app_owner_user",
                    Some("shop_app"),
                    vec!["prep", "default"]
                ),
                ("shop_app", None, vec!["default"]),
            ]
        );
        // Without the manifest: the user named as the app, in the
        // cluster's namespace.
        assert_eq!(
            zalando_logins(None, "shop-app", "db"),
            [ZalandoLogin {
                user: "shop_app".into(),
                namespaces: vec!["db".into()],
                database: None,
            }]
        );
    }

    #[test]
    fn the_first_role_label_decides() {
        let p = pod(&[("cnpg.io/instanceRole", "replica"), ("role", "primary")]);
        assert!(!is_primary(Provider::Cnpg, &p));
        assert!(is_primary(Provider::Cnpg, &pod(&[("role", "primary")])));
        assert!(is_primary(Provider::Stackgres, &pod(&[("role", "master")])));
        assert!(!is_primary(
            Provider::Zalando,
            &pod(&[("spilo-role", "replica")])
        ));
        assert_eq!(role_of(Provider::Zalando, &pod(&[])), "no role label");
    }
}
