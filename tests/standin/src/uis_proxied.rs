//! UIS's proxied topology: an installation that lists `postgresql` in
//! `.uis.extend/external-services.yaml` runs no database in the cluster.
//! Instead a Deployment `postgresql` (labels `app.kubernetes.io/name:
//! postgresql` and `uis.io/external-proxy: "true"`) runs one pod
//! `postgresql-<template-hash>-<suffix>` whose FIRST container is a
//! `postgres:18` client image doing `sleep infinity` (psql, no server, no
//! socket) and whose second container is socat listening on 5432 and
//! forwarding to the external server; Service `postgresql` selects that
//! pod (UIS: ansible/playbooks/templates/040-postgresql-external-proxy.yml.j2,
//! 900-external-service-proxy.yml). The Bitnami chart is not installed, so
//! its Secret `postgresql` does not exist: the admin password is only in
//! `urbalurba-secrets` key `PGPASSWORD`, and on the external server
//! `postgres` is typically no superuser (LOGIN CREATEROLE CREATEDB, as
//! managed services give).
//!
//! Not for: starting socat or the external server; the caller does (the
//! sandbox script, the e2e harness) and hands in the address socat listens
//! on, so port-forwards take the path tunnel -> socat -> server as in UIS.

use std::net::SocketAddr;

use serde_json::json;

use crate::{StandIn, b64};

/// The labels UIS puts on the proxy Deployment, its pod template and the
/// Service's selector.
pub const PROXY_LABELS: [(&str, &str); 2] = [
    ("app.kubernetes.io/name", "postgresql"),
    ("uis.io/external-proxy", "true"),
];

impl StandIn {
    /// Seeds a UIS cluster in the proxied topology: namespaces `default`,
    /// `kube-system`, `postgrest`; Deployment `postgresql` (the deployments
    /// controller makes its ReplicaSet and Running pod, owned as a real one
    /// is); Service `postgresql`; Secret `urbalurba-secrets` key
    /// `PGPASSWORD` = `admin_password` (no Bitnami Secret); the
    /// IngressRoute CRD. The pod's port 5432 forwards to `proxy_addr`
    /// (where socat listens). Exec in the pod runs the client only: its
    /// environment has `PGPORT` = socat's port, so `psql -h 127.0.0.1`
    /// reaches socat as it does in the pod's network namespace, and no
    /// `PGHOST` (nor user or password), so `psql` without `-h` looks for a
    /// Unix socket and finds none, as in the real pod. Returns the pod's
    /// name.
    pub fn seed_uis_proxied(&self, proxy_addr: SocketAddr, admin_password: &str) -> String {
        for ns in ["default", "kube-system", "postgrest"] {
            self.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        let labels: serde_json::Map<String, serde_json::Value> = PROXY_LABELS
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        self.put(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "postgresql", "namespace": "default", "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                    {"name": "postgresql", "image": "postgres:18", "command": ["sleep", "infinity"],
                     "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}},
                    {"name": "socat", "image": "alpine/socat:1.8.0.0",
                     "args": ["TCP-LISTEN:5432,fork,reuseaddr", "TCP:db.example.internal:5432"],
                     "ports": [{"containerPort": 5432, "name": "tcp-postgresql", "protocol": "TCP"}],
                     "readinessProbe": {"tcpSocket": {"port": 5432}, "initialDelaySeconds": 3},
                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}}
                ]}}}
        }));
        self.put(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "postgresql", "namespace": "default", "labels": {"app.kubernetes.io/name": "postgresql"}},
            "spec": {"type": "ClusterIP", "selector": labels,
                "ports": [{"name": "tcp-postgresql", "port": 5432, "targetPort": 5432, "protocol": "TCP"}]}
        }));
        self.put(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "urbalurba-secrets", "namespace": "default"}, "data": {"PGPASSWORD": b64(admin_password)}}));
        self.register_ingressroute_crd();
        let pod = self
            .list("v1", "Pod", Some("default"))
            .into_iter()
            .filter(|p| p["metadata"]["labels"]["uis.io/external-proxy"] == "true")
            .find_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .expect("the deployments controller made the proxy's pod");
        self.set_pod_forward("default", &pod, 5432, proxy_addr);
        self.set_pod_exec(
            "default",
            &pod,
            // Emptied, not inherited from the stand-in's environment: libpq
            // takes an empty value as unset (a socket, the OS user).
            ["PGHOST", "PGHOSTADDR", "PGUSER", "PGPASSWORD", "PGDATABASE"]
                .into_iter()
                .map(|k| (k.to_string(), String::new()))
                .chain([("PGPORT".to_string(), proxy_addr.port().to_string())])
                .collect(),
        );
        pod
    }
}
