//! Which workloads read a Secret, found through the typed fields of their
//! pod specs (never by searching their serialized text): `env[].valueFrom
//! .secretKeyRef`, `envFrom[].secretRef`, `volumes[].secret` and projected
//! volumes' `sources[].secret`, in containers and init containers.
//!
//! Only Deployments are listed: the suite's RBAC (deploy/rbac.yaml) grants
//! `list` on Deployments, not on StatefulSets or CronJobs; [`uses_secret`]
//! takes any pod spec, so adding them is a listing and an RBAC rule.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodSpec;
use uis_core::Failure;
use uis_kube::Cluster;

/// Whether `spec` reads Secret `secret` (in its own namespace) through an
/// env var, `envFrom`, a secret volume or a projected volume.
pub fn uses_secret(spec: &PodSpec, secret: &str) -> bool {
    let is = |name: &str| name == secret;
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for c in containers {
        let env = c.env.iter().flatten().filter_map(|e| e.value_from.as_ref());
        if env
            .filter_map(|v| v.secret_key_ref.as_ref())
            .any(|r| is(&r.name))
        {
            return true;
        }
        if c.env_from
            .iter()
            .flatten()
            .filter_map(|e| e.secret_ref.as_ref())
            .any(|r| is(&r.name))
        {
            return true;
        }
    }
    spec.volumes.iter().flatten().any(|v| {
        v.secret
            .as_ref()
            .and_then(|s| s.secret_name.as_deref())
            .is_some_and(is)
            || v.projected.iter().any(|p| {
                p.sources
                    .iter()
                    .flatten()
                    .filter_map(|s| s.secret.as_ref())
                    .any(|s| is(&s.name))
            })
    })
}

/// The Deployments in `ns` whose pods read Secret `secret`, as
/// `deployment/NAME -n NS`.
///
/// Errors: the API call's (phase `cluster`).
pub async fn deployments_using(
    cluster: &Cluster,
    ns: &str,
    secret: &str,
) -> Result<Vec<String>, Failure> {
    let api: kube::Api<Deployment> = kube::Api::namespaced(cluster.client.clone(), ns);
    let list = cluster
        .call(
            &format!("listing Deployments in {ns}"),
            api.list(&Default::default()),
        )
        .await?;
    Ok(list
        .items
        .iter()
        .filter(|d| {
            d.spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .is_some_and(|p| uses_secret(p, secret))
        })
        .filter_map(|d| {
            d.metadata
                .name
                .clone()
                .map(|n| format!("deployment/{n} -n {ns}"))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> PodSpec {
        serde_json::from_value(json).expect("a pod spec")
    }

    #[test]
    fn finds_each_kind_of_reference_and_nothing_else() {
        let env = spec(serde_json::json!({"containers": [{"name": "a", "env": [
            {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}}]}]}));
        let env_from = spec(serde_json::json!({"containers": [{"name": "a"}],
            "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "s1"}}]}]}));
        let volume = spec(serde_json::json!({"containers": [{"name": "a"}],
            "volumes": [{"name": "v", "secret": {"secretName": "s1"}}]}));
        let projected = spec(serde_json::json!({"containers": [{"name": "a"}],
            "volumes": [{"name": "v", "projected": {"sources": [{"secret": {"name": "s1"}}]}}]}));
        for s in [&env, &env_from, &volume, &projected] {
            assert!(uses_secret(s, "s1"));
            assert!(!uses_secret(s, "s2"));
        }
        // A ConfigMap or an image of that name is no Secret reference.
        let other = spec(
            serde_json::json!({"containers": [{"name": "a", "image": "s1",
            "envFrom": [{"configMapRef": {"name": "s1"}}]}]}),
        );
        assert!(!uses_secret(&other, "s1"));
    }
}
