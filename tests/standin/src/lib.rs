//! kube-standin: a Kubernetes API stand-in for tests and the sandbox. It is
//! an HTTPS server on 127.0.0.1 that speaks the real Kubernetes wire format
//! (discovery, objects with get/list/watch/create/update/patch/delete,
//! server-side apply, selectors, Status errors, a deployments controller,
//! pods/portforward and pods/exec over WebSocket) for kube-rs and kubectl,
//! with client-certificate and bearer-token authentication and run-time
//! fault injection. [`StandIn`] is a synchronous handle: the server runs on
//! its own thread and tokio runtime and stops when the handle is dropped.
//!
//! # Where it differs from a real kube-apiserver
//! - Server-side apply has no managedFields: maps merge recursively, lists
//!   are replaced by the applied list, and a field a manager applied before
//!   but omits now is removed (even when another manager also set the same
//!   field; fields only other managers set are kept).
//!   `force` is accepted and field-manager conflicts never happen;
//!   `fieldManager` is required (422). No `managedFields` in objects.
//! - Strategic merge patch only knows "lists of objects with `name` merge by
//!   name" (and `$patch: delete|replace`), not the per-field patch strategies.
//! - Bodies must be JSON: protobuf (typed `kubectl create secret ...`) and
//!   non-JSON YAML apply bodies get 415. Responses are JSON only: no Table
//!   (kubectl prints NAME/AGE columns), no aggregated discovery; `/openapi/v2`
//!   and `/openapi/v3` answer 404 (use `kubectl apply --validate=false`).
//! - One stored version per resource; `limit` returns everything (no
//!   `continue`); `resourceVersion` on get/list is ignored (always latest).
//! - Watch: an object entering/leaving the selectors is sent as
//!   ADDED/DELETED (like the watch cache); BOOKMARKs every 5 s when allowed;
//!   410 Expired only when the requested version fell out of the 50 000-event
//!   log; no `sendInitialEvents`/streaming lists.
//! - No admission, RBAC, finalizers or graceful deletion: deletes are
//!   immediate, deleting a namespace deletes its objects at once, a client
//!   certificate signed by the CA or the token is full admin.
//! - Only the deployments controller runs (ReplicaSets and pods from
//!   templates). Pods created directly stay as written (Pending without a
//!   status). Missing Secret volumes are reported as waiting reason
//!   `ContainerCreating` with the kubelet's FailedMount event text as the
//!   message (a kubelet leaves the message empty and emits an Event).
//! - Exec runs commands on the host (only for exec-enabled pods, else 403);
//!   `tty=true` runs without a pty (stderr is merged into stdout). Port-
//!   forward and exec speak WebSocket only (no SPDY: `kubectl port-forward`
//!   does not work, `kubectl exec` 1.31+ does). `pods/log` is empty.
//! - `/version`, `/healthz`, `/livez`, `/readyz` need no credentials; the
//!   rest answer 401 without a CA-signed client certificate or the token.

pub mod controller;
pub mod faults;
pub mod patch;
pub mod pod_net;
pub mod providers;
pub mod selectors;
pub mod server;
pub mod store;
pub mod tls;
pub mod uis_proxied;
pub mod util;
pub mod ws;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine as _;
use serde_json::{Value, json};

pub use faults::Faults;
pub use providers::ProviderSeed;
use server::Shared;
use store::{Store, WriteOpts};

/// Options for [`StandIn::start`].
#[derive(Debug, Clone, Default)]
pub struct StandInOptions {
    /// Port on 127.0.0.1; None or Some(0) picks a free one.
    pub port: Option<u16>,
    /// Bearer token to accept; None generates a random one.
    pub token: Option<String>,
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    shared: Arc<Shared>,
    port: u16,
    pki: tls::Pki,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The runtime serving the API, for listeners of its own (PgBouncer).
    rt: tokio::runtime::Handle,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl StandIn {
    /// Starts the server on its own thread and returns once it listens.
    pub fn start(opts: StandInOptions) -> Result<StandIn> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pki = tls::Pki::generate()?;
        let tls_cfg = pki.server_config()?;
        let token = opts
            .token
            .clone()
            .unwrap_or_else(|| format!("standin-{}", util::uuid().replace('-', "")));
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", opts.port.unwrap_or(0)))
            .context("binding 127.0.0.1")?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let shim_dir = std::env::temp_dir().join(format!(
            "kube-standin-{}-{port}-{}",
            std::process::id(),
            &util::uuid()[..8]
        ));
        pod_net::write_shim(&shim_dir)
            .with_context(|| format!("writing the pods' psql wrapper in {}", shim_dir.display()))?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            faults: Faults::default(),
            forwards: Mutex::default(),
            exec_env: Mutex::default(),
            shim_dir,
            token,
            requests: Mutex::default(),
        });
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("kube-standin")
            .build()
            .context("building the stand-in runtime")?;
        let sh = shared.clone();
        let handle = rt.handle().clone();
        let thread = std::thread::Builder::new()
            .name("kube-standin".into())
            .spawn(move || {
                rt.block_on(async move {
                    match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => server::serve(l, tls_cfg, sh, stop_rx).await,
                        Err(e) => eprintln!("kube-standin: {e}"),
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        let s = StandIn {
            shared,
            port,
            pki,
            stop,
            thread: Some(thread),
            rt: handle,
        };
        s.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}));
        Ok(s)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> String {
        self.shared.token.clone()
    }

    /// The CA certificate (PEM).
    pub fn ca_pem(&self) -> String {
        self.pki.ca_pem.clone()
    }

    /// A kubeconfig (YAML) using the client certificate: cluster, user and
    /// context `standin`, namespace `default`.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: standin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: standin\n    namespace: default\ncurrent-context: standin\npreferences: {{}}\n",
            self.url(),
            b64(&self.pki.ca_pem),
            b64(&self.pki.client_cert_pem),
            b64(&self.pki.client_key_pem)
        )
    }

    /// The same kubeconfig, but authenticating with the bearer token.
    pub fn token_kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: standin\n  user:\n    token: {}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: standin\n    namespace: default\ncurrent-context: standin\npreferences: {{}}\n",
            self.url(),
            b64(&self.pki.ca_pem),
            self.shared.token
        )
    }

    /// Writes [`StandIn::kubeconfig`] to `path` (mode 0600).
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.kubeconfig())
            .with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    /// Fault injection handle.
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// Number of requests so far whose path starts with `path_prefix`.
    pub fn request_count(&self, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(_, p)| p.starts_with(path_prefix))
            .count()
    }

    /// Every request so far as (method, path).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.request_log()
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect()
    }

    /// Every request so far as (method, path, query string).
    pub fn request_log(&self) -> Vec<(String, String, String)> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear_request_log(&self) {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// A cheap, cloneable read-only view of the stored objects, usable
    /// after the handle moved (for checks that run in helpers).
    pub fn reader(&self) -> Reader {
        Reader(self.shared.clone())
    }

    /// Every stored object as a line `group/plural ns/name rv=N`, sorted:
    /// compare two snapshots to see whether anything was written.
    pub fn snapshot(&self) -> Vec<String> {
        self.reader().snapshot()
    }

    /// Creates or replaces any object (namespaces are created on demand),
    /// keeping the given `status`, then runs the deployments controller.
    /// Returns the stored object; invalid objects are reported on stderr
    /// and yield `Value::Null`.
    pub fn put(&self, obj: Value) -> Value {
        match self.try_put(obj) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("kube-standin: put failed: {e}");
                Value::Null
            }
        }
    }

    /// Like [`StandIn::put`], reporting errors.
    pub fn try_put(&self, obj: Value) -> Result<Value> {
        let mut st = self.shared.store();
        let av = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let r = st
            .resource_for_kind(av, kind)
            .with_context(|| format!("unknown apiVersion/kind {av}/{kind}"))?;
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or(if r.namespaced { "default" } else { "" })
            .to_string();
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let opts = WriteOpts {
            dry_run: false,
            internal: true,
        };
        if r.namespaced {
            let nsr = st.namespaces();
            if st.get(&nsr, "", &ns).is_none() {
                st.create(&nsr, "", json!({"metadata": {"name": ns}}), opts)
                    .map_err(|e| anyhow::anyhow!(e.message))?;
            }
        }
        let res = if st.get(&r, &ns, &name).is_some() {
            let mut o = obj;
            if let Some(m) = o["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            st.update(&r, &ns, &name, o, opts, false)
        } else {
            st.create(&r, &ns, obj, opts)
        };
        let v = res.map_err(|e| anyhow::anyhow!(e.message))?;
        controller::reconcile(&mut st);
        Ok(st.get(&r, &ns, &name).cloned().unwrap_or(v))
    }

    /// Gets an object by apiVersion, kind, namespace and name.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let st = self.shared.store();
        let r = st.resource_for_kind(api_version, kind)?;
        st.get(&r, ns.unwrap_or("default"), name).cloned()
    }

    /// Deletes an object; false when it did not exist.
    pub fn delete(&self, api_version: &str, kind: &str, ns: Option<&str>, name: &str) -> bool {
        let mut st = self.shared.store();
        let Some(r) = st.resource_for_kind(api_version, kind) else {
            return false;
        };
        let ok = st
            .delete(&r, ns.unwrap_or("default"), name, WriteOpts::default())
            .is_ok();
        controller::reconcile(&mut st);
        ok
    }

    /// Lists objects of a kind, in one namespace or all.
    pub fn list(&self, api_version: &str, kind: &str, ns: Option<&str>) -> Vec<Value> {
        let st = self.shared.store();
        match st.resource_for_kind(api_version, kind) {
            Some(r) => st.list(&r, ns),
            None => Vec::new(),
        }
    }

    /// Makes `port` of pod `ns/pod` forward to `target`.
    pub fn set_pod_forward(&self, ns: &str, pod: &str, port: u16, target: SocketAddr) {
        self.shared
            .forwards
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((ns.into(), pod.into(), port), target);
    }

    /// Starts the stand-in for StackGres' PgBouncer on a free 127.0.0.1
    /// port, until the stand-in stops, and returns its address
    /// ([`pod_net::pgbouncer`]: it refuses every client as the pooler).
    pub fn start_pgbouncer(&self) -> Result<SocketAddr> {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let stop = self.stop.subscribe();
        let _guard = self.rt.enter();
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        self.rt.spawn(pod_net::pgbouncer(listener, stop));
        Ok(addr)
    }

    /// Makes pod `ns/pod` exec-enabled: commands run on the host with `env`
    /// added to the stand-in's environment, and a `psql` that reaches the
    /// pod's ports on its loopback ([`pod_net`]).
    pub fn set_pod_exec(&self, ns: &str, pod: &str, env: Vec<(String, String)>) {
        self.shared
            .exec_env
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((ns.into(), pod.into()), env);
    }

    /// Registers the Traefik IngressRoute CRD (`ingressroutes.traefik.io`).
    pub fn register_ingressroute_crd(&self) {
        self.put(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "ingressroutes.traefik.io"},
            "spec": {"group": "traefik.io", "scope": "Namespaced",
                "names": {"plural": "ingressroutes", "singular": "ingressroute", "kind": "IngressRoute", "listKind": "IngressRouteList"},
                "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]},
            "status": {"acceptedNames": {"plural": "ingressroutes", "kind": "IngressRoute"},
                "conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}], "storedVersions": ["v1alpha1"]}
        }));
    }

    /// Seeds what a UIS cluster has: namespaces `default`, `kube-system`,
    /// `postgrest`; StatefulSet `postgresql` and its pod `postgresql-0`
    /// (Running, port 5432 forwarding to
    /// `pg_addr`, exec-enabled with PGHOST/PGPORT/PGUSER/PGPASSWORD);
    /// Service `postgresql`; Secrets `urbalurba-secrets` (PGPASSWORD) and
    /// `postgresql` (postgres-password); the IngressRoute CRD.
    pub fn seed_uis(&self, pg_addr: SocketAddr, superuser_password: &str) {
        for ns in ["default", "kube-system", "postgrest"] {
            self.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        let labels = json!({"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql", "app.kubernetes.io/component": "primary", "statefulset.kubernetes.io/pod-name": "postgresql-0"});
        let now = util::now_rfc3339();
        // The Bitnami chart's StatefulSet (stored only: no controller runs
        // it), so the pod is owned as a real one is.
        let sts = self.put(json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "postgresql", "namespace": "default", "labels": {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql", "app.kubernetes.io/component": "primary"}},
            "spec": {"replicas": 1, "serviceName": "postgresql-hl",
                "selector": {"matchLabels": {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql", "app.kubernetes.io/component": "primary"}},
                "template": {"metadata": {"labels": {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql", "app.kubernetes.io/component": "primary"}},
                    "spec": {"containers": [{"name": "postgresql", "image": "docker.io/bitnami/postgresql:16"}]}}},
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1}
        }));
        let owner = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "postgresql", "uid": sts["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]);
        self.put(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "postgresql-0", "namespace": "default", "labels": labels, "ownerReferences": owner},
            "spec": {"containers": [{"name": "postgresql", "image": "docker.io/bitnami/postgresql:16", "ports": [{"name": "tcp-postgresql", "containerPort": 5432, "protocol": "TCP"}]}], "nodeName": "standin"},
            "status": {"phase": "Running", "podIP": "10.42.0.9", "hostIP": "192.168.5.15", "startTime": now,
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [{"name": "postgresql", "ready": true, "started": true, "restartCount": 0, "image": "docker.io/bitnami/postgresql:16", "imageID": "", "state": {"running": {"startedAt": now}}}]}
        }));
        self.put(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "postgresql", "namespace": "default", "labels": {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql"}},
            "spec": {"type": "ClusterIP", "ports": [{"name": "tcp-postgresql", "port": 5432, "targetPort": "tcp-postgresql", "protocol": "TCP"}],
                "selector": {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql", "app.kubernetes.io/component": "primary"}}
        }));
        self.put(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "urbalurba-secrets", "namespace": "default"}, "data": {"PGPASSWORD": b64(superuser_password)}}));
        self.put(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "postgresql", "namespace": "default", "labels": {"app.kubernetes.io/name": "postgresql"}}, "data": {"postgres-password": b64(superuser_password)}}));
        self.register_ingressroute_crd();
        self.set_pod_forward("default", "postgresql-0", 5432, pg_addr);
        self.set_pod_exec(
            "default",
            "postgresql-0",
            vec![
                ("PGHOST".into(), pg_addr.ip().to_string()),
                ("PGPORT".into(), pg_addr.port().to_string()),
                ("PGUSER".into(), "postgres".into()),
                ("PGPASSWORD".into(), superuser_password.into()),
            ],
        );
    }
}

/// Read-only access to a stand-in's objects; see [`StandIn::reader`].
#[derive(Clone)]
pub struct Reader(Arc<Shared>);

impl Reader {
    /// See [`StandIn::snapshot`]. Objects the controller keeps rewriting on
    /// its own (Events) are left out.
    pub fn snapshot(&self) -> Vec<String> {
        let st = self.0.store();
        st.all()
            .into_iter()
            .filter(|(r, ..)| r != "/events" && r != "events.k8s.io/events")
            .map(|(r, ns, name, v)| {
                format!(
                    "{r} {ns}/{name} rv={}",
                    v["metadata"]["resourceVersion"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    /// Every Secret's `data` as (namespace/name, key, decoded value), for
    /// checks that no secret leaked somewhere it should not.
    pub fn secret_data(&self) -> Vec<(String, String, String)> {
        let st = self.0.store();
        let Some(r) = st.resource_for_kind("v1", "Secret") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in st.list(&r, None) {
            let id = format!(
                "{}/{}",
                s["metadata"]["namespace"].as_str().unwrap_or_default(),
                s["metadata"]["name"].as_str().unwrap_or_default()
            );
            for (k, v) in s["data"].as_object().into_iter().flatten() {
                if let Some(bytes) = v
                    .as_str()
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                {
                    out.push((
                        id.clone(),
                        k.clone(),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    ));
                }
            }
        }
        out
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.shared.shim_dir);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handle_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::StandIn>();
        check::<super::Faults>();
    }
}
