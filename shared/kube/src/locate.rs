//! Where the shared PostgreSQL is and how to become its superuser, with the
//! UIS defaults of docs/services/postgresql.md (pod `app.kubernetes.io/name=postgresql` in
//! `default`, service `postgresql`, superuser `postgres`, password from
//! Secret `urbalurba-secrets` key `PGPASSWORD`, falling back to Secret
//! `postgresql` key `postgres-password`), every one overridable.
//!
//! Says on stderr which Secret it read the password from, never the value.

use crate::cluster::Cluster;
use crate::provider::{AppSecret, Provider};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, ListParams};
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::output::note;

/// The UIS default pod selector (`--pg-selector`).
pub const DEFAULT_SELECTOR: &str = "app.kubernetes.io/name=postgresql";
/// The UIS default Service (`--pg-service`).
pub const DEFAULT_SERVICE: &str = "postgresql";
/// The default PostgreSQL port (`--pg-port`).
pub const DEFAULT_PORT: u16 = 5432;
/// The UIS default superuser (`--pg-superuser`).
pub const DEFAULT_SUPERUSER: &str = "postgres";
/// The UIS default admin Secrets (`--admin-secrets`), tried in order.
pub const DEFAULT_ADMIN_SECRETS: [(&str, &str); 2] = [
    ("urbalurba-secrets", "PGPASSWORD"),
    ("postgresql", "postgres-password"),
];

/// The resolved location settings.
#[derive(Debug, Clone)]
pub struct Locator {
    pub namespace: String,
    pub selector: String,
    pub service: String,
    pub port: u16,
    pub superuser: String,
    /// (Secret name, key), tried in order.
    pub admin_secrets: Vec<(String, String)>,
    /// Where the service is exposed to the host.
    pub local: (String, u16),
    /// Connect straight here instead of port-forwarding.
    pub direct: Option<(String, u16)>,
    /// TLS to PostgreSQL (libpq's sslmode and friends).
    pub tls: uis_core::tls::TlsOptions,
    /// `None` until resolved (auto-detection, `--provider auto`); see
    /// [`crate::provider::resolve`].
    pub provider: Option<Provider>,
    /// The operator's cluster name (CNPG `Cluster`, Zalando `postgresql`,
    /// PGO `PostgresCluster`, StackGres `SGCluster`).
    pub cluster_name: Option<String>,
    /// The key of the admin Secret that holds the superuser's name (the
    /// operators': `username`, `user`, `superuser-username`); `None` uses
    /// [`Locator::superuser`].
    pub admin_user_key: Option<String>,
    /// What to do when no admin Secret holds a password (the operator's
    /// fix, e.g. CNPG's `spec.enableSuperuserAccess: true`); `None` gives
    /// the UIS hint.
    pub admin_hint: Option<String>,
    /// The operator's Secret for the application's login (CNPG `<c>-app`).
    pub app_secret: Option<AppSecret>,
}

/// The superuser's login and where its password came from.
#[derive(Clone)]
pub struct Admin {
    pub user: String,
    pub password: String,
    /// `Secret default/urbalurba-secrets key PGPASSWORD`.
    pub source: String,
}

impl Locator {
    /// The locator of the UIS defaults (the flags' defaults), provider auto.
    pub fn uis_default() -> Locator {
        Locator {
            namespace: "default".into(),
            selector: DEFAULT_SELECTOR.into(),
            service: DEFAULT_SERVICE.into(),
            port: DEFAULT_PORT,
            superuser: DEFAULT_SUPERUSER.into(),
            admin_secrets: DEFAULT_ADMIN_SECRETS
                .iter()
                .map(|(s, k)| (s.to_string(), k.to_string()))
                .collect(),
            local: ("localhost".into(), 35432),
            direct: None,
            provider: None,
            cluster_name: None,
            admin_user_key: None,
            admin_hint: None,
            app_secret: None,
            tls: Default::default(),
        }
    }

    /// The provider's read-write Service name: CNPG `<c>-rw`, Zalando
    /// `<c>`, PGO `<c>-primary`, StackGres `<c>`, UIS `postgresql` (or
    /// `--pg-service`). The in-cluster host name is
    /// [`Locator::cluster_host`]; TLS verify-full through the tunnel checks
    /// the server's certificate against this name (as the operators issue
    /// it: CNPG's certificate lists `<c>-rw`, `<c>-rw.<ns>`,
    /// `<c>-rw.<ns>.svc`). Valid after [`crate::provider::resolve`].
    pub fn rw_service(&self) -> &str {
        &self.service
    }

    /// The provider's name for messages and JSON (`auto` before
    /// resolution).
    pub fn provider_name(&self) -> &'static str {
        self.provider.map(Provider::name).unwrap_or("auto")
    }

    /// The in-cluster DNS name of the service.
    pub fn cluster_host(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.service, self.namespace)
    }

    /// The superuser password from the first admin Secret that has it.
    pub async fn admin(&self, cluster: &Cluster) -> Result<Admin, Failure> {
        let mut tried = Vec::new();
        for (name, key) in &self.admin_secrets {
            // `NAMESPACE/NAME`: a Secret in another namespace (a Zalando
            // cross-namespace user's, crate::provider::apply).
            let (ns, name) = name
                .split_once('/')
                .unwrap_or((self.namespace.as_str(), name.as_str()));
            let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
            let what = format!("reading Secret {ns}/{name}");
            let found = cluster.call(&what, secrets.get_opt(name)).await?;
            let value = found
                .as_ref()
                .and_then(|s| s.data.as_ref())
                .and_then(|d| d.get(key))
                .map(|v| crate::store::secret_value(ns, name, key, &v.0));
            match (found.is_some(), value) {
                (_, Some(password)) if !password.is_empty() => {
                    let source = format!("Secret {ns}/{name} key {key}");
                    if !tried.is_empty() {
                        note(format!(
                            "uis: {} not found; using the superuser password from {source}",
                            tried.join(" and ")
                        ));
                    } else {
                        note(format!("uis: superuser password from {source}"));
                    }
                    let user = self
                        .admin_user_key
                        .as_ref()
                        .and_then(|k| Some((k, found.as_ref()?.data.as_ref()?.get(k)?)))
                        .map(|(k, v)| crate::store::secret_value(ns, name, k, &v.0))
                        .filter(|u| !u.is_empty())
                        .unwrap_or_else(|| self.superuser.clone());
                    return Ok(Admin {
                        user,
                        password,
                        source,
                    });
                }
                (true, _) => tried.push(format!("key {key} in Secret {ns}/{name}")),
                (false, _) => tried.push(format!("Secret {ns}/{name}")),
            }
        }
        let (first, first_key) = &self.admin_secrets[0];
        if let Some(hint) = &self.admin_hint {
            return Err(Failure::new(
                Phase::Locate,
                format!(
                    "no superuser password for provider {}: {} not found",
                    self.provider_name(),
                    tried.join(" and ")
                ),
            )
            .hint(hint.clone()));
        }
        Err(Failure::new(
            Phase::Locate,
            format!(
                "no superuser password: {} not found",
                tried.join(" and ")
            ),
        )
        .hint(format!(
            "restore it (UIS: `./uis secrets apply`; by hand: `kubectl create secret generic {first} -n {} --from-literal={first_key}=<password>`), or name the Secret that holds it with --admin-secrets SECRET/KEY",
            self.namespace
        )))
    }

    /// The name of the running, ready primary pod; see [`Locator::primary`].
    pub async fn pod(&self, cluster: &Cluster) -> Result<String, Failure> {
        Ok(self.primary(cluster).await?.name)
    }

    /// Whether `pod` carries one of the provider's role labels.
    fn role_labelled(&self, pod: &Pod) -> bool {
        let (role_keys, _) = self.provider.unwrap_or(Provider::Bitnami).role_labels();
        pod.metadata
            .labels
            .as_ref()
            .is_some_and(|l| role_keys.iter().any(|k| l.contains_key(*k)))
    }

    /// Whether [`Locator::primary`] could choose `pod`, ready or not: the
    /// primary as the provider labels it, or for UIS a pod with no role
    /// label. The tunnel's watcher gives up when no listed pod is one.
    pub fn may_be_primary(&self, pod: &Pod) -> bool {
        let provider = self.provider.unwrap_or(Provider::Bitnami);
        crate::provider::is_primary(provider, pod)
            || (!provider.is_operator() && !self.role_labelled(pod))
    }

    /// The running, ready primary among the selector's pods, as the
    /// provider labels it ([`Provider::role_labels`]: CNPG
    /// `cnpg.io/instanceRole=primary` or the older `role=primary`, Zalando
    /// `spilo-role=master`, PGO `postgres-operator.crunchydata.com/role=master`,
    /// StackGres `role=primary`/`master`, Bitnami
    /// `app.kubernetes.io/component=primary`); never a replica. A UIS pod
    /// without a role label counts (the single-pod chart, the proxy); among
    /// several, a ready one first, then the first by name.
    ///
    /// Errors: phase `locate` when no pod matches, when none is the
    /// primary (naming each pod and its role), or when the primary is not
    /// ready; `cluster` for API failures.
    pub async fn primary(&self, cluster: &Cluster) -> Result<Chosen, Failure> {
        let provider = self.provider.unwrap_or(Provider::Bitnami);
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &self.namespace);
        let what = format!(
            "listing pods with {} in namespace {}",
            self.selector, self.namespace
        );
        let list = cluster
            .call(
                &what,
                pods.list(&ListParams::default().labels(&self.selector)),
            )
            .await?;
        struct Entry {
            ready: bool,
            name: String,
            phase: String,
            primary: bool,
            role: String,
            labelled: bool,
            owner: Option<Owner>,
            template_hash: Option<String>,
        }
        let entries: Vec<Entry> = list
            .items
            .iter()
            .filter_map(|p| {
                let name = p.metadata.name.clone()?;
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "Unknown".into());
                // A pod being deleted (its grace period running) is on its
                // way out: never chosen while its replacement can be.
                let ready = phase == "Running"
                    && p.metadata.deletion_timestamp.is_none()
                    && p.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        });
                let labelled = self.role_labelled(p);
                let owner = p
                    .metadata
                    .owner_references
                    .as_ref()
                    .and_then(|o| o.iter().find(|o| o.controller == Some(true)))
                    .map(|o| Owner {
                        kind: o.kind.clone(),
                        name: o.name.clone(),
                    });
                let template_hash = p
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("pod-template-hash").cloned());
                Some(Entry {
                    ready,
                    name,
                    phase,
                    primary: crate::provider::is_primary(provider, p),
                    role: crate::provider::role_of(provider, p),
                    labelled,
                    owner,
                    template_hash,
                })
            })
            .collect();
        let ns = &self.namespace;
        if entries.is_empty() {
            return Err(Failure::new(
                Phase::Locate,
                format!(
                    "no PostgreSQL pod with labels {} in namespace {ns}",
                    self.selector
                ),
            )
            .hint("deploy it (`./uis deploy postgresql`), or point at yours with --pg-namespace and --pg-selector (or --provider)"));
        }
        // The primary as labelled; for UIS, also a pod with no role label
        // (never one labelled as something else, a read replica).
        let mut candidates: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.primary || (!provider.is_operator() && !e.labelled))
            .collect();
        if candidates.is_empty() {
            let seen: Vec<String> = entries
                .iter()
                .map(|e| format!("{} ({}, {})", e.name, e.role, e.phase))
                .collect();
            let (keys, values) = provider.role_labels();
            return Err(Failure::new(
                Phase::Locate,
                format!(
                    "no primary among the {provider} pods with labels {} in namespace {ns}: {}",
                    self.selector,
                    seen.join(", ")
                ),
            )
            .hint(format!(
                "the suite connects only to the primary (label {}={}); during a failover wait for the operator to promote one: `kubectl get pods -n {ns} -l {} -L {}`",
                keys[0],
                values[0],
                self.selector,
                keys.join(",")
            )));
        }
        candidates.sort_by(|a, b| b.ready.cmp(&a.ready).then(a.name.cmp(&b.name)));
        let first = candidates[0];
        if !first.ready {
            let name = &first.name;
            return Err(Failure::new(
                Phase::Locate,
                format!(
                    "the PostgreSQL pod {ns}/{name} is not ready (phase {})",
                    first.phase
                ),
            )
            .hint(format!(
                "wait for it: `kubectl wait --for=condition=Ready pod/{name} -n {ns}`"
            )));
        }
        Ok(Chosen {
            name: first.name.clone(),
            role: first.role.clone(),
            pods: entries.len(),
            owner: first.owner.clone(),
            template_hash: first.template_hash.clone(),
        })
    }
}

/// The pod [`Locator::primary`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub name: String,
    /// The role label that made it the primary (`cnpg.io/instanceRole=primary`),
    /// or `no role label`.
    pub role: String,
    /// How many pods the selector matched.
    pub pods: usize,
    /// Its controller (`ownerReferences` with `controller: true`): the
    /// StatefulSet of UIS's chart, the ReplicaSet of its proxy Deployment.
    pub owner: Option<Owner>,
    /// Its `pod-template-hash` label (a Deployment's pods have one).
    pub template_hash: Option<String>,
}

/// A pod's controller, as its owner reference names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// `StatefulSet`, `ReplicaSet`, ...
    pub kind: String,
    pub name: String,
}
