//! Waiting for a Deployment to become Available, and saying why it did not
//! from the Deployment's conditions and its pods' container states (a missing
//! Secret key, an image that cannot be pulled, a crash loop with its last log
//! lines), the way an engineer would read `kubectl describe`, instead of a
//! bare "timed out".

use crate::cluster::Cluster;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use std::time::{Duration, Instant};
use uis_core::Failure;
use uis_core::error::Phase;

/// True when the Deployment has observed its latest spec and reports
/// `Available=True` with every replica updated.
pub fn is_available(d: &Deployment) -> bool {
    let Some(status) = &d.status else {
        return false;
    };
    let observed = status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let available = status.conditions.as_ref().is_some_and(|cs| {
        cs.iter()
            .any(|c| c.type_ == "Available" && c.status == "True")
    });
    observed
        && available
        && status.updated_replicas.unwrap_or(0) >= want
        && status.available_replicas.unwrap_or(0) >= want
}

/// Polls (through the watch-free GET, robust on every API server) until the
/// Deployment is Available or `timeout` passes; then explains.
///
/// GET polling rather than `kube::runtime::wait::await_condition`, on
/// purpose: `await_condition` lists and watches the Deployments of the
/// namespace, so the least RBAC (`deploy/rbac.yaml`, checked by the rbac
/// e2e test) would have to grant `list` and `watch` on every Deployment in
/// `postgrest`, where `get` on the app's own is enough; and every poll is
/// one call bounded by `--request-timeout` and retried on 429/503/504 like
/// every other call, where a long-lived watch through a proxy can stall
/// silently. The back-off (100 ms doubling to 2 s) keeps the load small.
///
/// Errors: phase `rollout` when the Deployment is missing or not Available
/// in time (with the causes [`diagnose`] finds); `cluster` for API failures.
pub async fn wait_available(
    cluster: &Cluster,
    ns: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), ns);
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let d = cluster
            .call(
                &format!("reading Deployment {ns}/{name}"),
                api.get_opt(name),
            )
            .await?;
        match d {
            Some(d) if is_available(&d) => return Ok(()),
            None => {
                return Err(Failure::new(
                    Phase::Rollout,
                    format!("Deployment {ns}/{name} does not exist"),
                ));
            }
            Some(_) => {}
        }
        if start.elapsed() >= timeout {
            let why = diagnose(cluster, ns, name)
                .await
                .unwrap_or_else(|| "no cause reported yet".into());
            return Err(Failure::new(
                Phase::Rollout,
                format!("Deployment {ns}/{name} is not Available after {} s: {why}", timeout.as_secs()),
            )
            .hint(format!("look closer with `kubectl describe deployment {name} -n {ns}` and `kubectl get pods -n {ns} -l app.kubernetes.io/instance`")));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// The reasons a Deployment is not Available, from its conditions and pods;
/// `None` when nothing is reported.
pub async fn diagnose(cluster: &Cluster, ns: &str, name: &str) -> Option<String> {
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), ns);
    let d = cluster
        .call("reading the Deployment", deployments.get_opt(name))
        .await
        .ok()??;
    let mut reasons = Vec::new();
    let selector = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        });
    if let Some(sel) = selector {
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
        if let Ok(list) = cluster
            .call(
                "listing pods",
                pods.list(&ListParams::default().labels(&sel)),
            )
            .await
        {
            for pod in list.items {
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                for cs in pod
                    .status
                    .as_ref()
                    .and_then(|s| s.container_statuses.clone())
                    .unwrap_or_default()
                {
                    let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
                    if let Some(w) = waiting {
                        let reason = w.reason.clone().unwrap_or_default();
                        let mut text = format!("pod {pod_name}: {reason}");
                        if let Some(m) = &w.message {
                            text.push_str(&format!(": {m}"));
                        }
                        if reason == "CrashLoopBackOff" {
                            let lp = LogParams {
                                tail_lines: Some(5),
                                previous: true,
                                ..Default::default()
                            };
                            if let Ok(Ok(log)) =
                                tokio::time::timeout(cluster.timeout, pods.logs(&pod_name, &lp))
                                    .await
                            {
                                text.push_str(&format!("; last log lines:\n{}", log.trim_end()));
                            }
                        }
                        if !reasons.contains(&text) {
                            reasons.push(text);
                        }
                    }
                }
            }
        }
    }
    if reasons.is_empty() {
        for c in d
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default()
        {
            if c.status != "True" {
                reasons.push(format!(
                    "{} is {} ({}): {}",
                    c.type_,
                    c.status,
                    c.reason.unwrap_or_default(),
                    c.message.unwrap_or_default()
                ));
            }
        }
    }
    // Many replicas report the same cause: say it once.
    let mut seen = std::collections::BTreeSet::new();
    reasons.retain(|r| {
        seen.insert(
            r.split_once(": ")
                .map(|(_, rest)| rest.to_string())
                .unwrap_or(r.clone()),
        )
    });
    (!reasons.is_empty()).then(|| reasons.join("; "))
}
