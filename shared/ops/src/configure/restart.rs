//! Which workloads read a Secret, found through the typed fields of their
//! pod specs (never by searching their serialized text): `env[].valueFrom
//! .secretKeyRef`, `envFrom[].secretRef`, `volumes[].secret` and projected
//! volumes' `sources[].secret`, in containers and init containers.
//!
//! Deployments, StatefulSets and CronJobs are listed; a kind the caller may
//! not list is reported as unchecked rather than failing the run.

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

/// The Deployments, StatefulSets and CronJobs in `ns` whose pods read
/// Secret `secret`, as `deployment/NAME -n NS` (`statefulset/...`,
/// `cronjob/...`). A kind the caller may not list (403, as with
/// deploy/rbac.yaml, which grants list on none of them in other
/// namespaces) is named in `unlisted` as `statefulsets in NS` instead.
///
/// Errors: other API failures (phase `cluster`).
pub async fn workloads_using(
    cluster: &Cluster,
    ns: &str,
    secret: &str,
    unlisted: &mut Vec<String>,
) -> Result<Vec<String>, Failure> {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::batch::v1::CronJob;
    let client = cluster.client.clone();
    let mut out = Vec::new();
    let lp = kube::api::ListParams::default();
    let refused = |f: &Failure| f.detail.contains("(HTTP 403)");
    let deployments: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), ns);
    match cluster
        .call(
            &format!("listing Deployments in {ns}"),
            deployments.list(&lp),
        )
        .await
    {
        Ok(l) => out.extend(l.items.iter().filter_map(|d| {
            let spec = d.spec.as_ref()?.template.spec.as_ref()?;
            let n = d.metadata.name.as_ref()?;
            uses_secret(spec, secret).then(|| format!("deployment/{n} -n {ns}"))
        })),
        Err(f) if refused(&f) => unlisted.push(format!("deployments in {ns}")),
        Err(f) => return Err(f),
    }
    let sets: kube::Api<StatefulSet> = kube::Api::namespaced(client.clone(), ns);
    match cluster
        .call(&format!("listing StatefulSets in {ns}"), sets.list(&lp))
        .await
    {
        Ok(l) => out.extend(l.items.iter().filter_map(|d| {
            let spec = d.spec.as_ref()?.template.spec.as_ref()?;
            let n = d.metadata.name.as_ref()?;
            uses_secret(spec, secret).then(|| format!("statefulset/{n} -n {ns}"))
        })),
        Err(f) if refused(&f) || f.detail.contains("(HTTP 404)") => {
            unlisted.push(format!("statefulsets in {ns}"))
        }
        Err(f) => return Err(f),
    }
    let jobs: kube::Api<CronJob> = kube::Api::namespaced(client, ns);
    match cluster
        .call(&format!("listing CronJobs in {ns}"), jobs.list(&lp))
        .await
    {
        Ok(l) => out.extend(l.items.iter().filter_map(|d| {
            let spec = d
                .spec
                .as_ref()?
                .job_template
                .spec
                .as_ref()?
                .template
                .spec
                .as_ref()?;
            let n = d.metadata.name.as_ref()?;
            uses_secret(spec, secret).then(|| format!("cronjob/{n} -n {ns}"))
        })),
        Err(f) if refused(&f) || f.detail.contains("(HTTP 404)") => {
            unlisted.push(format!("cronjobs in {ns}"))
        }
        Err(f) => return Err(f),
    }
    Ok(out)
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
