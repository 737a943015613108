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
//! names it): the pod the tunnel uses, as [`Locator::primary`] chose it
//! under the provider already resolved, read once for this check and the
//! `primary` one. So it needs no permission beyond the `list pods` the
//! tunnel already uses. Not provider detection (operators, managed
//! services): that is the providers' own module.

use uis_core::Failure;
use uis_core::error::Phase;
use uis_kube::locate::{Chosen, Locator};

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

/// The topology of the database `locator` points at: `--direct`, or the
/// controller owner of `primary`, the pod the tunnel would use (same
/// selector, same choice; `None` when it was not read).
///
/// Errors: the pod's lookup's (listing pods, no ready primary: phase
/// `locate`).
pub fn detect(
    locator: &Locator,
    primary: Option<&Result<Chosen, Failure>>,
) -> Result<Topology, Failure> {
    if let Some((host, port)) = &locator.direct {
        return Ok(Topology::Direct {
            address: format!("{host}:{port}"),
        });
    }
    let chosen = match primary {
        Some(Ok(c)) => c,
        Some(Err(f)) => return Err(f.clone()),
        None => {
            return Err(Failure::new(
                Phase::Internal,
                "the database pod was not looked up",
            ));
        }
    };
    let pod = format!("{}/{}", locator.namespace, chosen.name);
    Ok(match &chosen.owner {
        Some(o) if o.kind == "StatefulSet" => Topology::InCluster {
            pod,
            statefulset: o.name.clone(),
        },
        Some(o) if o.kind == "ReplicaSet" => {
            // A Deployment names its ReplicaSets `<deployment>-<hash>`.
            let deployment = chosen
                .template_hash
                .as_ref()
                .and_then(|h| o.name.strip_suffix(&format!("-{h}")));
            match deployment {
                Some(d) => Topology::Proxied {
                    pod,
                    deployment: d.to_string(),
                },
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

#[cfg(test)]
mod tests {
    use super::*;
    use uis_kube::locate::Owner;

    fn chosen(owner: Option<(&str, &str)>, hash: Option<&str>) -> Result<Chosen, Failure> {
        Ok(Chosen {
            name: "p-0".into(),
            role: "no role label".into(),
            pods: 1,
            owner: owner.map(|(kind, name)| Owner {
                kind: kind.into(),
                name: name.into(),
            }),
            template_hash: hash.map(str::to_string),
        })
    }

    #[test]
    fn the_owner_of_the_chosen_pod_decides() {
        let loc = Locator::uis_default();
        let t = |c| detect(&loc, Some(&c)).expect("topology");
        assert_eq!(
            t(chosen(Some(("StatefulSet", "postgresql")), None)),
            Topology::InCluster {
                pod: "default/p-0".into(),
                statefulset: "postgresql".into()
            }
        );
        assert_eq!(
            t(chosen(
                Some(("ReplicaSet", "postgresql-5d9f")),
                Some("5d9f")
            )),
            Topology::Proxied {
                pod: "default/p-0".into(),
                deployment: "postgresql".into()
            }
        );
        assert_eq!(
            t(chosen(Some(("ReplicaSet", "postgresql-5d9f")), None)),
            Topology::Other {
                pod: "default/p-0".into(),
                owner: "ReplicaSet postgresql-5d9f".into()
            }
        );
        assert_eq!(
            t(chosen(None, None)).name(),
            "unknown",
            "a pod with no controller"
        );
        let mut direct = Locator::uis_default();
        direct.direct = Some(("db.example".into(), 5432));
        assert_eq!(
            detect(&direct, None).expect("direct"),
            Topology::Direct {
                address: "db.example:5432".into()
            }
        );
        let err = Failure::new(Phase::Locate, "no PostgreSQL pod");
        assert_eq!(
            detect(&loc, Some(&Err(err))).expect_err("no pod").detail,
            "no PostgreSQL pod"
        );
    }
}
