//! Which of UIS's two topologies serves the database, for doctor's
//! `topology` check: in-cluster (the Bitnami chart's StatefulSet pod
//! `postgresql-0`, where `postgres` is the server's superuser) or proxied
//! (an installation that lists `postgresql` in
//! `.uis.extend/external-services.yaml`: a Deployment `postgresql` whose pod
//! runs a psql client and socat forwarding 5432 to a server outside the
//! cluster, where the admin need not be a superuser). UIS:
//! ansible/playbooks/templates/040-postgresql-external-proxy.yml.j2.
//!
//! Read from the database pod alone (its controller owner: a StatefulSet,
//! or a ReplicaSet named `<deployment>-<pod-template-hash>` as a Deployment
//! names it), so it needs no permission beyond the `list pods` the tunnel
//! already uses. Not provider detection (operators, managed services): that
//! is the providers' own module.

use crate::session::Session;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use uis_core::Failure;

/// Where the database runs, as the database pod's owner says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// A StatefulSet's pod (UIS's Bitnami chart).
    InCluster { pod: String, statefulset: String },
    /// A Deployment's pod forwarding to an external server (UIS's proxy).
    Proxied { pod: String, deployment: String },
    /// `--direct HOST:PORT`: no pod is involved.
    Direct { address: String },
    /// Another owner (or none): named as found.
    Other { pod: String, owner: String },
}

impl Topology {
    /// The name doctor prints: `in-cluster`, `proxied (external server)`,
    /// `direct`, or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Topology::InCluster { .. } => "in-cluster",
            Topology::Proxied { .. } => "proxied (external server)",
            Topology::Direct { .. } => "direct",
            Topology::Other { .. } => "unknown",
        }
    }
}

/// The topology of the session's database: the ready pod the tunnel would
/// use (same selector, same choice) and its controller owner.
///
/// Errors: the cluster's (listing pods), or no ready pod (phase `locate`).
pub fn detect(session: &mut Session) -> Result<Topology, Failure> {
    if let Some((host, port)) = &session.locator.direct {
        return Ok(Topology::Direct {
            address: format!("{host}:{port}"),
        });
    }
    let cluster = session.cluster()?;
    let locator = session.locator.clone();
    let name = session.block_on(locator.pod(&cluster))?;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &locator.namespace);
    let what = format!(
        "listing pods with {} in namespace {}",
        locator.selector, locator.namespace
    );
    let list = session.block_on(cluster.call(
        &what,
        pods.list(&ListParams::default().labels(&locator.selector)),
    ))?;
    let pod = list
        .items
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some(name.as_str()));
    let owner = pod.as_ref().and_then(|p| {
        p.metadata
            .owner_references
            .as_ref()?
            .iter()
            .find(|o| o.controller == Some(true))
            .cloned()
    });
    let hash = pod.as_ref().and_then(|p| {
        p.metadata
            .labels
            .as_ref()?
            .get("pod-template-hash")
            .cloned()
    });
    let pod = format!("{}/{name}", locator.namespace);
    Ok(match owner {
        Some(o) if o.kind == "StatefulSet" => Topology::InCluster {
            pod,
            statefulset: o.name,
        },
        Some(o) if o.kind == "ReplicaSet" => {
            // A Deployment names its ReplicaSets `<deployment>-<hash>`.
            match hash.and_then(|h| o.name.strip_suffix(&format!("-{h}")).map(str::to_string)) {
                Some(deployment) => Topology::Proxied { pod, deployment },
                None => Topology::Other {
                    pod,
                    owner: format!("ReplicaSet {}", o.name),
                },
            }
        }
        Some(o) => Topology::Other {
            pod,
            owner: format!("{} {}", o.kind, o.name),
        },
        None => Topology::Other {
            pod,
            owner: "no controller".to_string(),
        },
    })
}
