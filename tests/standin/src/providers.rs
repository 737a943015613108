//! Seeds the objects each PostgreSQL provider keeps in a cluster, as their
//! operators write them (docs/providers.md lists the sources): the
//! operator's CRD and custom resource, a primary and replica pods with the
//! operator's labels, its Services and its Secrets with its keys. The
//! primary pod forwards to one real PostgreSQL and the replicas to another,
//! so a test tells which pod it reached (`inet_server_port()`). A pod's
//! ports are as the operator's: StackGres' 5432 is PgBouncer (a stand-in
//! that refuses every client, [`crate::pod_net::pgbouncer`]) and 5433
//! PostgreSQL, through the port-forward and in the pod (exec).
//!
//! Not an operator: nothing here reacts to a change (no failover, no
//! Secret rotation); a test that wants a failover relabels the pods itself.

use std::net::SocketAddr;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{StandIn, util};

/// Every provider [`StandIn::seed_provider`] seeds, in the order
/// `--provider` lists them.
pub const PROVIDERS: [&str; 7] = [
    "bitnami",
    "uis-proxied",
    "cnpg",
    "zalando",
    "pgo",
    "stackgres",
    "external",
];

/// What to seed; see [`StandIn::seed_provider`].
#[derive(Debug, Clone)]
pub struct ProviderSeed {
    /// `bitnami`, `uis-proxied`, `cnpg`, `zalando`, `pgo`, `stackgres` or
    /// `external`.
    pub provider: String,
    /// The operator's cluster name (CNPG `Cluster`, ...).
    pub cluster: String,
    pub namespace: String,
    /// Where the primary pod's PostgreSQL port forwards.
    pub primary: SocketAddr,
    /// Where the replica pods' port forwards.
    pub replica: SocketAddr,
    /// Replica pods; the pods are named `BASE-0`, `BASE-1`, ... with the
    /// primary at index 1, so a replica comes first by name.
    pub replicas: usize,
    /// The superuser (`postgres`) password of both servers.
    pub superuser_password: String,
    /// CNPG `spec.enableSuperuserAccess` (and PGO's `postgres` in
    /// `spec.users`): without it no superuser Secret is written.
    pub superuser_access: bool,
    /// The application login the operator made: (user, password,
    /// database), when it exists. CNPG Secret `<c>-app`; PGO
    /// `<c>-pguser-<user>` (and the user in `spec.users`); Zalando
    /// `<user>.<c>.credentials.postgresql.acid.zalan.do` (`_` as `-`; the
    /// user in `spec.users`, owning the database in `spec.databases`).
    pub app: Option<(String, String, String)>,
    /// Zalando with `enable_cross_namespace_secret`: the app's user is
    /// `<ns>.<user>` (so is its role) and its Secret,
    /// `<ns>.<user>.<c>.credentials...`, lives in namespace `<ns>`.
    pub app_namespace: Option<String>,
    /// CNPG's older labelling: `role=primary` without `cnpg.io/instanceRole`.
    pub legacy_roles: bool,
}

impl ProviderSeed {
    /// A seed for `provider` with cluster `pg` in `default`, one replica,
    /// superuser access on and no app login.
    pub fn new(provider: &str, primary: SocketAddr, replica: SocketAddr, password: &str) -> Self {
        ProviderSeed {
            provider: provider.into(),
            cluster: "pg".into(),
            namespace: "default".into(),
            primary,
            replica,
            replicas: 1,
            superuser_password: password.into(),
            superuser_access: true,
            app: None,
            app_namespace: None,
            legacy_roles: false,
        }
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn running_pod(ns: &str, name: &str, labels: Value, port: u16, image: &str) -> Value {
    let now = util::now_rfc3339();
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "postgres", "image": image, "ports": [{"name": "postgresql", "containerPort": port, "protocol": "TCP"}]}], "nodeName": "standin"},
        "status": {"phase": "Running", "podIP": "10.42.0.20", "hostIP": "192.168.5.15", "startTime": now,
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "postgres", "ready": true, "started": true, "restartCount": 0, "image": image, "imageID": "", "state": {"running": {"startedAt": now}}}]}
    })
}

fn service(ns: &str, name: &str, selector: Value, ports: &[(&str, u16)]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p)| json!({"name": n, "port": p, "targetPort": p, "protocol": "TCP"}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ClusterIP", "ports": ports, "selector": selector}})
}

fn secret(ns: &str, name: &str, kind: &str, labels: Value, data: &[(&str, String)]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(b64(v))))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "type": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels}, "data": data})
}

fn crd(group: &str, version: &str, kind: &str, plural: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind, "listKind": format!("{kind}List")},
            "versions": [{"name": version, "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]},
        "status": {"acceptedNames": {"plural": plural, "kind": kind},
            "conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}], "storedVersions": [version]}
    })
}

impl StandIn {
    /// Seeds what `seed.provider` keeps in a cluster (module doc), plus
    /// the namespaces `default`, `kube-system`, `postgrest` and the
    /// IngressRoute CRD every UIS cluster has. `bitnami` is
    /// [`StandIn::seed_uis`] with read replicas beside the primary when
    /// `replicas` > 0; `external` seeds no pod, only Secret `pg-admin` key
    /// `password` (the admin's password for `--admin-secrets`).
    /// Returns the pod names, the primary's first.
    pub fn seed_provider(&self, seed: &ProviderSeed) -> Vec<String> {
        let ns = seed.namespace.as_str();
        let c = seed.cluster.as_str();
        let pw = seed.superuser_password.as_str();
        for n in ["default", "kube-system", "postgrest", ns]
            .into_iter()
            .chain(seed.app_namespace.as_deref())
        {
            self.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}));
        }
        self.register_ingressroute_crd();
        // As in a real pod: no PGHOST or PGPORT, so psql's 127.0.0.1 and
        // 5432 are the pod's (crate::pod_net).
        let exec_env = || {
            vec![
                ("PGUSER".to_string(), "postgres".to_string()),
                ("PGPASSWORD".to_string(), pw.to_string()),
            ]
        };
        let uis_secrets = |s: &StandIn| {
            s.put(secret(
                ns,
                "urbalurba-secrets",
                "Opaque",
                json!({}),
                &[("PGPASSWORD", pw.into())],
            ));
            s.put(secret(
                ns,
                "postgresql",
                "Opaque",
                json!({"app.kubernetes.io/name": "postgresql"}),
                &[("postgres-password", pw.into())],
            ));
        };
        match seed.provider.as_str() {
            "external" => {
                self.put(secret(
                    ns,
                    "pg-admin",
                    "Opaque",
                    json!({}),
                    &[("password", pw.into())],
                ));
                return Vec::new();
            }
            "uis-proxied" => {
                uis_secrets(self);
                self.put(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "postgresql", "namespace": ns, "labels": {"app.kubernetes.io/name": "postgresql"}},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}},
                        "template": {"metadata": {"labels": {"app.kubernetes.io/name": "postgresql"}},
                            "spec": {"containers": [
                                {"name": "postgresql", "image": "postgres:18", "command": ["sleep", "infinity"]},
                                {"name": "socat", "image": "alpine/socat:1.8.0.3", "args": ["tcp-listen:5432,fork,reuseaddr", format!("tcp-connect:{}", seed.primary)],
                                 "ports": [{"name": "postgresql", "containerPort": 5432, "protocol": "TCP"}]}]}}}}));
                self.put(service(
                    ns,
                    "postgresql",
                    json!({"app.kubernetes.io/name": "postgresql"}),
                    &[("tcp-postgresql", 5432)],
                ));
                let pods = self.list("v1", "Pod", Some(ns));
                let names: Vec<String> = pods
                    .iter()
                    .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "postgresql")
                    .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                    .collect();
                for n in &names {
                    self.set_pod_forward(ns, n, 5432, seed.primary);
                    self.set_pod_exec(ns, n, exec_env());
                }
                return names;
            }
            _ => {}
        }
        // (pod name base, labels of a pod given (name, primary), port, image)
        let port = if seed.provider == "stackgres" {
            5433
        } else {
            5432
        };
        let legacy = seed.legacy_roles;
        let (base, image): (String, &str) = match seed.provider.as_str() {
            "bitnami" => ("postgresql".into(), "docker.io/bitnami/postgresql:16"),
            "cnpg" => (c.into(), "ghcr.io/cloudnative-pg/postgresql:17"),
            "zalando" => (c.into(), "ghcr.io/zalando/spilo-17:4.0-p2"),
            "pgo" => (
                format!("{c}-instance1-x7k2"),
                "registry.developers.crunchydata.com/crunchydata/crunchy-postgres:ubi9-17",
            ),
            "stackgres" => (c.into(), "quay.io/ongres/patroni:v4"),
            other => panic!("unknown provider {other:?}"),
        };
        let labels = |name: &str, primary: bool| -> Value {
            match seed.provider.as_str() {
                "bitnami" => {
                    json!({"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "postgresql",
                    "app.kubernetes.io/component": if primary { "primary" } else { "read" }})
                }
                "cnpg" => {
                    let role = if primary { "primary" } else { "replica" };
                    if legacy {
                        json!({"cnpg.io/cluster": c, "cnpg.io/instanceName": name, "cnpg.io/podRole": "instance", "role": role})
                    } else {
                        json!({"cnpg.io/cluster": c, "cnpg.io/instanceName": name, "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": role, "role": role})
                    }
                }
                "zalando" => json!({"application": "spilo", "cluster-name": c, "team": "acid",
                    "spilo-role": if primary { "master" } else { "replica" }}),
                "pgo" => {
                    json!({"postgres-operator.crunchydata.com/cluster": c, "postgres-operator.crunchydata.com/instance-set": "instance1",
                    "postgres-operator.crunchydata.com/instance": name.rsplit_once('-').map(|(a, _)| a).unwrap_or(name),
                    "postgres-operator.crunchydata.com/data": "postgres",
                    "postgres-operator.crunchydata.com/role": if primary { "master" } else { "replica" }})
                }
                _ => {
                    json!({"app": "StackGresCluster", "stackgres.io/cluster-name": c, "stackgres.io/cluster": "true",
                    "role": if primary { "primary" } else { "replica" }})
                }
            }
        };
        let pgbouncer = (seed.provider == "stackgres").then(|| {
            self.start_pgbouncer()
                .expect("start the stand-in's PgBouncer")
        });
        let mut names = Vec::new();
        let total = seed.replicas + 1;
        let primary_at = if total > 1 { 1 } else { 0 };
        for i in 0..total {
            let name = format!("{base}-{i}");
            let primary = i == primary_at;
            self.put(running_pod(ns, &name, labels(&name, primary), port, image));
            let addr = if primary { seed.primary } else { seed.replica };
            self.set_pod_forward(ns, &name, port, addr);
            if let Some(bouncer) = pgbouncer {
                self.set_pod_forward(ns, &name, 5432, bouncer);
            }
            self.set_pod_exec(ns, &name, exec_env());
            if primary {
                names.insert(0, name);
            } else {
                names.push(name);
            }
        }
        let app_data =
            |user: &str, password: &str, db: &str, host: &str| -> Vec<(&'static str, String)> {
                vec![
                    ("username", user.into()),
                    ("user", user.into()),
                    ("password", password.into()),
                    ("dbname", db.into()),
                    ("host", host.into()),
                    ("port", port.to_string()),
                    (
                        "uri",
                        format!("postgresql://{user}:{password}@{host}.{ns}:{port}/{db}"),
                    ),
                ]
            };
        match seed.provider.as_str() {
            "bitnami" => {
                uis_secrets(self);
                self.put(service(ns, "postgresql", json!({"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/component": "primary"}), &[("tcp-postgresql", 5432)]));
                self.put(service(ns, "postgresql-read", json!({"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/component": "read"}), &[("tcp-postgresql", 5432)]));
            }
            "cnpg" => {
                self.put(crd("postgresql.cnpg.io", "v1", "Cluster", "clusters"));
                let mut spec =
                    json!({"instances": total, "imageName": image, "storage": {"size": "1Gi"}});
                if seed.superuser_access {
                    spec["enableSuperuserAccess"] = json!(true);
                }
                self.put(json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
                    "metadata": {"name": c, "namespace": ns}, "spec": spec,
                    "status": {"instances": total, "readyInstances": total, "currentPrimary": names[0], "phase": "Cluster in healthy state"}}));
                let sel = |role: &str| json!({"cnpg.io/cluster": c, "cnpg.io/instanceRole": role});
                self.put(service(
                    ns,
                    &format!("{c}-rw"),
                    sel("primary"),
                    &[("postgres", 5432)],
                ));
                self.put(service(
                    ns,
                    &format!("{c}-ro"),
                    sel("replica"),
                    &[("postgres", 5432)],
                ));
                self.put(service(
                    ns,
                    &format!("{c}-r"),
                    json!({"cnpg.io/cluster": c}),
                    &[("postgres", 5432)],
                ));
                if seed.superuser_access {
                    let mut d = app_data("postgres", pw, "*", &format!("{c}-rw"));
                    d.retain(|(k, _)| *k != "user");
                    self.put(secret(
                        ns,
                        &format!("{c}-superuser"),
                        "kubernetes.io/basic-auth",
                        json!({"cnpg.io/cluster": c, "cnpg.io/userType": "superuser"}),
                        &d,
                    ));
                }
                if let Some((u, p, db)) = &seed.app {
                    let mut d = app_data(u, p, db, &format!("{c}-rw"));
                    d.retain(|(k, _)| *k != "user");
                    self.put(secret(
                        ns,
                        &format!("{c}-app"),
                        "kubernetes.io/basic-auth",
                        json!({"cnpg.io/cluster": c, "cnpg.io/userType": "app"}),
                        &d,
                    ));
                }
            }
            "zalando" => {
                self.put(crd("acid.zalan.do", "v1", "postgresql", "postgresqls"));
                // The app's user, `<ns>.<user>` across namespaces.
                let app_user = seed.app.as_ref().map(|(u, p, db)| {
                    let user = match &seed.app_namespace {
                        Some(at) => format!("{at}.{u}"),
                        None => u.clone(),
                    };
                    (user, p, db)
                });
                let mut spec = json!({"teamId": "acid", "numberOfInstances": total, "postgresql": {"version": "17"}, "volume": {"size": "1Gi"}});
                if let Some((user, _, db)) = &app_user {
                    spec["users"] = json!({user.as_str(): ["createdb"]});
                    spec["databases"] = json!({db.as_str(): user});
                }
                self.put(
                    json!({"apiVersion": "acid.zalan.do/v1", "kind": "postgresql",
                    "metadata": {"name": c, "namespace": ns}, "spec": spec,
                    "status": {"PostgresClusterStatus": "Running"}}),
                );
                self.put(service(ns, c, json!({}), &[("postgresql", 5432)]));
                self.put(service(
                    ns,
                    &format!("{c}-repl"),
                    json!({"application": "spilo", "cluster-name": c, "spilo-role": "replica"}),
                    &[("postgresql", 5432)],
                ));
                let labels = json!({"application": "spilo", "cluster-name": c, "team": "acid"});
                // `{username}.{cluster}.credentials.postgresql.acid.zalan.do`, `_` as `-`.
                let name = |user: &str| {
                    format!(
                        "{}.{c}.credentials.postgresql.acid.zalan.do",
                        user.replace('_', "-")
                    )
                };
                self.put(secret(
                    ns,
                    &name("postgres"),
                    "Opaque",
                    labels.clone(),
                    &[("username", "postgres".into()), ("password", pw.into())],
                ));
                if let Some((user, p, _)) = &app_user {
                    self.put(secret(
                        seed.app_namespace.as_deref().unwrap_or(ns),
                        &name(user.as_str()),
                        "Opaque",
                        labels,
                        &[("username", user.clone()), ("password", p.to_string())],
                    ));
                }
            }
            "pgo" => {
                self.put(crd(
                    "postgres-operator.crunchydata.com",
                    "v1beta1",
                    "PostgresCluster",
                    "postgresclusters",
                ));
                let mut users = match &seed.app {
                    Some((u, _, db)) => vec![json!({"name": u, "databases": [db]})],
                    None => vec![json!({"name": c, "databases": [c]})],
                };
                if seed.superuser_access {
                    users.push(json!({"name": "postgres"}));
                }
                self.put(json!({"apiVersion": "postgres-operator.crunchydata.com/v1beta1", "kind": "PostgresCluster",
                    "metadata": {"name": c, "namespace": ns},
                    "spec": {"postgresVersion": 17, "users": users, "instances": [{"name": "instance1", "replicas": total}]}}));
                self.put(service(
                    ns,
                    &format!("{c}-primary"),
                    json!({}),
                    &[("postgres", 5432)],
                ));
                self.put(service(ns, &format!("{c}-replicas"), json!({"postgres-operator.crunchydata.com/cluster": c, "postgres-operator.crunchydata.com/role": "replica"}), &[("postgres", 5432)]));
                let labels = |user: &str| json!({"postgres-operator.crunchydata.com/cluster": c, "postgres-operator.crunchydata.com/pguser": user, "postgres-operator.crunchydata.com/role": "pguser"});
                if seed.superuser_access {
                    let mut d = app_data("postgres", pw, "postgres", &format!("{c}-primary"));
                    d.retain(|(k, _)| *k != "username");
                    self.put(secret(
                        ns,
                        &format!("{c}-pguser-postgres"),
                        "Opaque",
                        labels("postgres"),
                        &d,
                    ));
                }
                if let Some((u, p, db)) = &seed.app {
                    let mut d = app_data(u, p, db, &format!("{c}-primary"));
                    d.retain(|(k, _)| *k != "username");
                    self.put(secret(
                        ns,
                        &format!("{c}-pguser-{u}"),
                        "Opaque",
                        labels(u),
                        &d,
                    ));
                }
            }
            _ => {
                self.put(crd("stackgres.io", "v1", "SGCluster", "sgclusters"));
                self.put(json!({"apiVersion": "stackgres.io/v1", "kind": "SGCluster",
                    "metadata": {"name": c, "namespace": ns},
                    "spec": {"instances": total, "postgres": {"version": "17"}, "pods": {"persistentVolume": {"size": "1Gi"}}}}));
                self.put(service(ns, c, json!({"app": "StackGresCluster", "stackgres.io/cluster-name": c, "role": "primary"}), &[("pgport", 5432), ("pgreplication", 5433)]));
                self.put(service(ns, &format!("{c}-replicas"), json!({"app": "StackGresCluster", "stackgres.io/cluster-name": c, "role": "replica"}), &[("pgport", 5432), ("pgreplication", 5433)]));
                self.put(secret(
                    ns,
                    c,
                    "Opaque",
                    json!({"app": "StackGresCluster", "stackgres.io/cluster-name": c}),
                    &[
                        ("superuser-username", "postgres".into()),
                        ("superuser-password", pw.into()),
                        ("replication-username", "replicator".into()),
                        (
                            "replication-password",
                            "replicator-password-not-used".into(),
                        ),
                        ("authenticator-username", "authenticator".into()),
                        (
                            "authenticator-password",
                            "authenticator-password-not-used".into(),
                        ),
                    ],
                ));
            }
        }
        names
    }
}
