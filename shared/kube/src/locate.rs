//! Where the shared PostgreSQL is and how to become its superuser, with the
//! UIS defaults of docs/services/postgresql.md (pod `app.kubernetes.io/name=postgresql` in
//! `default`, service `postgresql`, superuser `postgres`, password from
//! Secret `urbalurba-secrets` key `PGPASSWORD`, falling back to Secret
//! `postgresql` key `postgres-password`), every one overridable.
//!
//! Says on stderr which Secret it read the password from, never the value.

use crate::cluster::Cluster;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, ListParams};
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::output::note;

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
    /// The in-cluster DNS name of the service.
    pub fn cluster_host(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.service, self.namespace)
    }

    /// The superuser password from the first admin Secret that has it.
    pub async fn admin(&self, cluster: &Cluster) -> Result<Admin, Failure> {
        let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), &self.namespace);
        let mut tried = Vec::new();
        for (name, key) in &self.admin_secrets {
            let what = format!("reading Secret {}/{name}", self.namespace);
            let found = cluster.call(&what, secrets.get_opt(name)).await?;
            let value = found
                .as_ref()
                .and_then(|s| s.data.as_ref())
                .and_then(|d| d.get(key))
                .map(|v| crate::store::secret_value(&self.namespace, name, key, &v.0));
            match (found.is_some(), value) {
                (_, Some(password)) if !password.is_empty() => {
                    let source = format!("Secret {}/{name} key {key}", self.namespace);
                    if !tried.is_empty() {
                        note(format!(
                            "uis: {} not found; using the superuser password from {source}",
                            tried.join(" and ")
                        ));
                    } else {
                        note(format!("uis: superuser password from {source}"));
                    }
                    return Ok(Admin {
                        user: self.superuser.clone(),
                        password,
                        source,
                    });
                }
                (true, _) => tried.push(format!("key {key} in Secret {}/{name}", self.namespace)),
                (false, _) => tried.push(format!("Secret {}/{name}", self.namespace)),
            }
        }
        let (first, first_key) = &self.admin_secrets[0];
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

    /// The name of a running, ready database pod (the first by name).
    pub async fn pod(&self, cluster: &Cluster) -> Result<String, Failure> {
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
        let mut names: Vec<(bool, String, String)> = list
            .items
            .iter()
            .filter_map(|p| {
                let name = p.metadata.name.clone()?;
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "Unknown".into());
                let ready = phase == "Running"
                    && p.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        });
                Some((ready, name, phase))
            })
            .collect();
        names.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        match names.first() {
            Some((true, name, _)) => Ok(name.clone()),
            Some((false, name, phase)) => Err(Failure::new(
                Phase::Locate,
                format!(
                    "the PostgreSQL pod {}/{name} is not ready (phase {phase})",
                    self.namespace
                ),
            )
            .hint(format!(
                "wait for it: `kubectl wait --for=condition=Ready pod/{name} -n {}`",
                self.namespace
            ))),
            None => Err(Failure::new(
                Phase::Locate,
                format!(
                    "no PostgreSQL pod with labels {} in namespace {}",
                    self.selector, self.namespace
                ),
            )
            .hint("deploy it (`./uis deploy postgresql`), or point at yours with --pg-namespace and --pg-selector")),
        }
    }
}
