//! kube 5 (kube-rs) as a client of the stand-in: CRUD, server-side apply,
//! selectors, Status errors, the deployments controller seen through
//! `await_condition`, discovery of the IngressRoute CRD, port-forward to a
//! TCP echo server (including the drop-after-N-bytes fault), exec, and
//! authentication (client certificate, token, none).

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, AttachParams, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use kube_standin::{StandIn, StandInOptions};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn client_from(yaml: &str) -> Client {
    let kc = Kubeconfig::from_yaml(yaml).expect("kubeconfig parses");
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn start() -> StandIn {
    StandIn::start(StandInOptions::default()).expect("stand-in starts")
}

fn api_code<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> (u16, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn crud_apply_selectors_and_errors() {
    let s = start();
    let client = client_from(&s.kubeconfig()).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let sec: Secret = serde_json::from_value(json!({
        "metadata": {"name": "one", "labels": {"app": "web", "tier": "db"}},
        "stringData": {"K": "value"}
    }))
    .expect("secret");
    let created = secrets
        .create(&PostParams::default(), &sec)
        .await
        .expect("create");
    assert_eq!(
        created
            .data
            .as_ref()
            .and_then(|d| d.get("K"))
            .map(|b| b.0.clone()),
        Some(b"value".to_vec())
    );
    assert_eq!(created.type_.as_deref(), Some("Opaque"));
    assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());
    assert!(created.metadata.creation_timestamp.is_some());

    // Duplicate create: 409 AlreadyExists.
    assert_eq!(
        api_code(secrets.create(&PostParams::default(), &sec).await),
        (409, "AlreadyExists".into())
    );
    // Missing: 404 -> get_opt None.
    assert!(secrets.get_opt("nope").await.expect("get_opt").is_none());
    assert_eq!(
        api_code(secrets.get("nope").await),
        (404, "NotFound".into())
    );
    // Invalid name: 422.
    let bad: Secret =
        serde_json::from_value(json!({"metadata": {"name": "Bad_Name"}})).expect("secret");
    assert_eq!(
        api_code(secrets.create(&PostParams::default(), &bad).await),
        (422, "Invalid".into())
    );
    // Namespace must exist.
    let missing_ns: Api<Secret> = Api::namespaced(client.clone(), "ghost");
    assert_eq!(
        api_code(missing_ns.create(&PostParams::default(), &sec).await).0,
        404
    );

    // Server-side apply creates, then merges.
    let pp = PatchParams::apply("uis").force();
    let applied = secrets
        .patch("two", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "two", "labels": {"app": "web"}}, "stringData": {"A": "1"}})))
        .await
        .expect("apply create");
    assert_eq!(applied.metadata.name.as_deref(), Some("two"));
    let merged = secrets
        .patch("two", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "two", "labels": {"app": "web"}, "annotations": {"x": "y"}}, "stringData": {"B": "2"}})))
        .await
        .expect("apply merge");
    let keys: Vec<String> = merged
        .data
        .clone()
        .unwrap_or_default()
        .into_keys()
        .collect();
    assert_eq!(keys, vec!["A".to_string(), "B".to_string()]);
    assert_eq!(
        merged
            .metadata
            .labels
            .unwrap_or_default()
            .get("app")
            .map(String::as_str),
        Some("web")
    );
    // Another manager's label survives; what "uis" stops applying goes.
    secrets
        .patch("two", &PatchParams::apply("other"), &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "two", "labels": {"owner": "other"}}})))
        .await
        .expect("apply by another manager");
    let third = secrets
        .patch("two", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "two", "labels": {"app": "web"}}})))
        .await
        .expect("apply without the annotation");
    let labels = third.metadata.labels.unwrap_or_default();
    assert_eq!(
        (
            labels.get("app").map(String::as_str),
            labels.get("owner").map(String::as_str)
        ),
        (Some("web"), Some("other"))
    );
    assert!(
        !third
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("x")
    );
    // Apply without fieldManager is rejected like a real apiserver.
    let (code, _) = api_code(
        secrets
            .patch(
                "two",
                &PatchParams::default(),
                &Patch::Apply(json!({"metadata": {"name": "two"}})),
            )
            .await,
    );
    assert!(code == 422 || code == 400, "{code}");
    // Merge patch.
    let mp = secrets
        .patch(
            "two",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "cache"}}})),
        )
        .await
        .expect("merge");
    assert_eq!(
        mp.metadata
            .labels
            .unwrap_or_default()
            .get("tier")
            .map(String::as_str),
        Some("cache")
    );

    // Label selectors.
    let names = |l: kube::core::ObjectList<Secret>| {
        l.items
            .into_iter()
            .filter_map(|s| s.metadata.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            secrets
                .list(&ListParams::default().labels("app=web"))
                .await
                .expect("list")
        ),
        vec!["one", "two"]
    );
    assert_eq!(
        names(
            secrets
                .list(&ListParams::default().labels("app=web,tier in (db)"))
                .await
                .expect("list")
        ),
        vec!["one"]
    );
    assert_eq!(
        names(
            secrets
                .list(&ListParams::default().labels("tier!=db,app"))
                .await
                .expect("list")
        ),
        vec!["two"]
    );
    assert_eq!(
        names(
            secrets
                .list(&ListParams::default().fields("metadata.name=two"))
                .await
                .expect("list")
        ),
        vec!["two"]
    );
    let all: Api<Secret> = Api::all(client.clone());
    assert_eq!(
        all.list(&ListParams::default().labels("app=web"))
            .await
            .expect("list all")
            .items
            .len(),
        2
    );

    // Delete, then 404.
    secrets
        .delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(secrets.get_opt("one").await.expect("get_opt").is_none());
    assert_eq!(
        api_code(secrets.delete("one", &DeleteParams::default()).await),
        (404, "NotFound".into())
    );

    // The library view agrees.
    assert!(s.get("v1", "Secret", Some("default"), "two").is_some());
    assert_eq!(s.list("v1", "Secret", None).len(), 1);
    assert!(s.request_count("/api/v1/namespaces/default/secrets") >= 10);
}

fn waiting_messages(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.message.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_turns_available_when_secret_appears() {
    let s = start();
    s.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "postgrest"}}));
    let client = client_from(&s.kubeconfig()).await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "postgrest");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "postgrest");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "postgrest");
    let pp = PatchParams::apply("uis").force();
    let dep = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app-postgrest", "labels": {"app.kubernetes.io/name": "postgrest"}},
        "spec": {"replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "postgrest", "app.kubernetes.io/instance": "app"}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "postgrest", "app.kubernetes.io/instance": "app"}},
                "spec": {"containers": [{"name": "postgrest", "image": "postgrest/postgrest:v14.10",
                    "env": [{"name": "PGRST_DB_URI", "valueFrom": {"secretKeyRef": {"name": "app-postgrest", "key": "PGRST_DB_URI"}}}]}]}}}
    });
    deploys
        .patch("app-postgrest", &pp, &Patch::Apply(dep))
        .await
        .expect("apply deployment");
    let lp = ListParams::default()
        .labels("app.kubernetes.io/name=postgrest,app.kubernetes.io/instance=app");
    let listed = pods.list(&lp).await.expect("pods").items;
    assert_eq!(listed.len(), 2);
    for p in &listed {
        let name = p.metadata.name.clone().unwrap_or_default();
        assert!(
            name.starts_with("app-postgrest-") && name.len() == "app-postgrest-".len() + 10 + 1 + 5,
            "{name}"
        );
        assert_eq!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Pending")
        );
        assert_eq!(
            p.metadata
                .owner_references
                .as_ref()
                .map(|o| o[0].kind.as_str()),
            Some("ReplicaSet")
        );
    }
    assert_eq!(
        waiting_messages(&listed),
        vec!["secret \"app-postgrest\" not found".to_string(); 2]
    );
    let d = deploys.get("app-postgrest").await.expect("get");
    let avail = d
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Available")
        .expect("Available condition");
    assert_eq!(
        (avail.status.as_str(), avail.reason.as_deref()),
        ("False", Some("MinimumReplicasUnavailable"))
    );

    // The Secret without the key: the kubelet names the key.
    secrets.patch("app-postgrest", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-postgrest"}, "stringData": {"OTHER": "x"}}))).await.expect("secret");
    let listed = pods.list(&lp).await.expect("pods").items;
    assert_eq!(
        waiting_messages(&listed)[0],
        "couldn't find key PGRST_DB_URI in Secret postgrest/app-postgrest"
    );

    // Wait (watch) for Available while the key is added from another task.
    let waiter = tokio::spawn(kube::runtime::wait::await_condition(
        deploys.clone(),
        "app-postgrest",
        |d: Option<&Deployment>| {
            d.and_then(|d| {
                d.status
                    .as_ref()?
                    .conditions
                    .as_ref()?
                    .iter()
                    .find(|c| c.type_ == "Available")
                    .map(|c| c.status == "True")
            })
            .unwrap_or(false)
        },
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    secrets.patch("app-postgrest", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-postgrest"}, "stringData": {"PGRST_DB_URI": "postgres://x"}}))).await.expect("secret");
    let done = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("Available within 10 s")
        .expect("join")
        .expect("await_condition");
    let st = done.and_then(|d| d.status).expect("status");
    assert_eq!(
        (
            st.available_replicas,
            st.ready_replicas,
            st.observed_generation
        ),
        (Some(2), Some(2), Some(1))
    );
    let listed = pods.list(&lp).await.expect("pods").items;
    assert!(
        listed
            .iter()
            .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    );

    // A template change replaces the pods (new hash); delete removes them.
    let old: Vec<_> = listed
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    deploys.patch("app-postgrest", &PatchParams::default(), &Patch::Merge(json!({"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}}))).await.expect("restart");
    let new: Vec<_> = pods
        .list(&lp)
        .await
        .expect("pods")
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert_eq!(new.len(), 2);
    assert!(new.iter().all(|n| !old.contains(n)));
    assert_eq!(
        deploys
            .get("app-postgrest")
            .await
            .expect("get")
            .metadata
            .generation,
        Some(2)
    );
    deploys
        .delete("app-postgrest", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(pods.list(&lp).await.expect("pods").items.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_and_ingressroute_crd() {
    let s = start();
    let client = client_from(&s.kubeconfig()).await;
    let gvk = kube::api::GroupVersionKind::gvk("traefik.io", "v1alpha1", "IngressRoute");
    assert!(kube::discovery::pinned_kind(&client, &gvk).await.is_err());
    s.register_ingressroute_crd();
    let (ar, caps) = kube::discovery::pinned_kind(&client, &gvk)
        .await
        .expect("IngressRoute discovered");
    assert_eq!(ar.plural, "ingressroutes");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let ir = json!({"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute", "metadata": {"name": "app-postgrest"},
        "spec": {"entryPoints": ["web"], "routes": [{"match": "HostRegexp(`api-app\\..+`)", "kind": "Rule", "services": [{"name": "app-postgrest", "port": 3000}]}]}});
    api.patch(
        "app-postgrest",
        &PatchParams::apply("uis").force(),
        &Patch::Apply(ir),
    )
    .await
    .expect("apply IngressRoute");
    assert_eq!(
        api.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    let discovery = kube::Discovery::new(client)
        .run()
        .await
        .expect("full discovery");
    let groups: Vec<String> = discovery.groups().map(|g| g.name().to_string()).collect();
    for g in ["", "apps", "apiextensions.k8s.io", "traefik.io"] {
        assert!(groups.iter().any(|x| x == g), "{g} in {groups:?}");
    }
}

async fn echo_server() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = c.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn portforward_echo_and_faults() {
    let s = start();
    let echo = echo_server().await;
    s.seed_uis(echo, "pw");
    let client = client_from(&s.kubeconfig()).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    // Real bytes through the tunnel, with latency injected.
    s.faults().set_frame_latency(Duration::from_millis(2));
    let mut pf = pods
        .portforward("postgresql-0", &[5432])
        .await
        .expect("portforward");
    let mut stream = pf.take_stream(5432).expect("stream");
    let payload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    stream.write_all(&payload).await.expect("write");
    let mut back = vec![0u8; payload.len()];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut back))
        .await
        .expect("echo in time")
        .expect("read");
    assert_eq!(back, payload);
    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), pf.join())
        .await
        .expect("join in time")
        .expect("clean close");
    s.faults().clear();

    // Drop the tunnel after 1000 bytes: the client sees EOF or an error, not a hang.
    s.faults().set_drop_tunnel_after(Some(1000));
    let mut pf = pods
        .portforward("postgresql-0", &[5432])
        .await
        .expect("portforward");
    let mut stream = pf.take_stream(5432).expect("stream");
    let outcome = tokio::time::timeout(Duration::from_secs(5), async {
        let mut got = 0usize;
        let mut buf = [0u8; 4096];
        for _ in 0..100 {
            if stream.write_all(&[7u8; 600]).await.is_err() {
                return got;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return got,
                Ok(n) => got += n,
            }
        }
        got
    })
    .await
    .expect("the dropped tunnel must surface within 5 s");
    assert!(outcome < 1000, "got {outcome} bytes back");
    assert!(
        tokio::time::timeout(Duration::from_secs(5), pf.join())
            .await
            .expect("join in time")
            .is_err()
    );
    s.faults().clear();

    // No target configured: error on the error channel.
    s.put(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lonely", "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}));
    let mut pf = pods
        .portforward("lonely", &[8080])
        .await
        .expect("portforward");
    let err = pf.take_error(8080).expect("error channel");
    let msg = tokio::time::timeout(Duration::from_secs(5), err)
        .await
        .expect("error in time");
    assert!(
        msg.unwrap_or_default()
            .contains("error forwarding port 8080")
    );
    drop(pf);

    // Missing pod: 404 Status.
    match pods.portforward("ghost", &[5432]).await {
        Err(e) => assert!(
            format!("{e:?}").contains("404") || format!("{e}").contains("not found"),
            "{e:?}"
        ),
        Ok(_) => panic!("portforward to a missing pod must fail"),
    }

    // Injected HTTP failures.
    s.faults().set_fail(
        Some("GET"),
        "/api/v1/namespaces/default/pods/postgresql-0",
        403,
    );
    assert_eq!(
        api_code(pods.get("postgresql-0").await),
        (403, "Forbidden".into())
    );
    s.faults().clear();
    assert!(pods.get("postgresql-0").await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_stdout_stdin_and_exit_code() {
    let s = start();
    s.seed_uis("127.0.0.1:1".parse().expect("addr"), "sekret");
    let client = client_from(&s.kubeconfig()).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    let ap = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(true);
    let mut p = pods
        .exec(
            "postgresql-0",
            [
                "sh",
                "-c",
                "echo hi; echo oops >&2; echo \"$PGUSER:$PGPASSWORD\"; exit 3",
            ],
            &ap,
        )
        .await
        .expect("exec");
    let mut out = p.stdout().expect("stdout");
    let mut err = p.stderr().expect("stderr");
    let status = p.take_status().expect("status");
    let (mut o, mut e) = (String::new(), String::new());
    let _ = tokio::join!(out.read_to_string(&mut o), err.read_to_string(&mut e));
    let st = tokio::time::timeout(Duration::from_secs(5), status)
        .await
        .expect("status in time")
        .expect("status");
    assert_eq!(o, "hi\npostgres:sekret\n");
    assert_eq!(e, "oops\n");
    assert_eq!(st.status.as_deref(), Some("Failure"));
    assert_eq!(st.reason.as_deref(), Some("NonZeroExitCode"));
    let causes = st.details.and_then(|d| d.causes).unwrap_or_default();
    assert_eq!(causes[0].message.as_deref(), Some("3"));
    tokio::time::timeout(Duration::from_secs(5), p.join())
        .await
        .expect("join in time")
        .expect("join");

    // stdin, with shutdown as EOF.
    let ap = AttachParams::default()
        .stdin(true)
        .stdout(true)
        .stderr(false);
    let mut p = pods.exec("postgresql-0", ["cat"], &ap).await.expect("exec");
    let mut w = p.stdin().expect("stdin");
    let mut out = p.stdout().expect("stdout");
    let status = p.take_status().expect("status");
    w.write_all(b"through stdin\n").await.expect("write");
    w.shutdown().await.expect("shutdown");
    let mut o = String::new();
    tokio::time::timeout(Duration::from_secs(5), out.read_to_string(&mut o))
        .await
        .expect("stdout in time")
        .expect("read");
    assert_eq!(o, "through stdin\n");
    let st = tokio::time::timeout(Duration::from_secs(5), status)
        .await
        .expect("status in time")
        .expect("status");
    assert_eq!(st.status.as_deref(), Some("Success"));

    // A pod that is not exec-enabled: 403.
    s.put(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain", "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}));
    assert!(
        pods.exec("plain", ["true"], &AttachParams::default())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn authentication() {
    let s = start();
    // Token kubeconfig works.
    let client = client_from(&s.token_kubeconfig()).await;
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    assert!(ns.get("default").await.is_ok());
    // No credentials: 401 Status.
    let anon = s
        .token_kubeconfig()
        .replace(&format!("user:\n    token: {}", s.token()), "user: {}");
    assert!(!anon.contains("token") && !anon.contains("client-"));
    let client = client_from(&anon).await;
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    assert_eq!(
        api_code(ns.get("default").await),
        (401, "Unauthorized".into())
    );
    // A wrong token: 401 as well.
    let wrong = s.token_kubeconfig().replace(&s.token(), "not-the-token");
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client_from(&wrong).await);
    assert_eq!(
        api_code(ns.list(&ListParams::default()).await),
        (401, "Unauthorized".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_patches_dry_run_and_fault_endpoint() {
    use futures::StreamExt;
    use kube::api::{WatchEvent, WatchParams};
    let s = start();
    let client = client_from(&s.kubeconfig()).await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    s.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pre", "namespace": "default", "labels": {"w": "1"}}, "data": {"a": "1"}}));

    // Watch from "0": current objects as ADDED, then live events.
    let mut w = cms
        .watch(&WatchParams::default().labels("w=1").timeout(5), "0")
        .await
        .expect("watch")
        .boxed();
    match w.next().await {
        Some(Ok(WatchEvent::Added(cm))) => assert_eq!(cm.metadata.name.as_deref(), Some("pre")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    // dry-run creates nothing.
    let cm: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "dry", "labels": {"w": "1"}}}))
            .expect("cm");
    cms.create(
        &PostParams {
            dry_run: true,
            ..Default::default()
        },
        &cm,
    )
    .await
    .expect("dry-run create");
    assert!(cms.get_opt("dry").await.expect("get").is_none());
    // JSON patch and strategic merge patch.
    cms.patch("pre", &PatchParams::default(), &Patch::<()>::Json(serde_json::from_value(json!([{"op": "add", "path": "/data/b", "value": "2"}, {"op": "remove", "path": "/data/a"}])).expect("json patch")))
        .await
        .expect("json patch");
    let got = cms
        .patch(
            "pre",
            &PatchParams::default(),
            &Patch::Strategic(json!({"data": {"c": "3"}})),
        )
        .await
        .expect("strategic");
    let keys: Vec<String> = got.data.unwrap_or_default().into_keys().collect();
    assert_eq!(keys, vec!["b".to_string(), "c".to_string()]);
    match tokio::time::timeout(Duration::from_secs(3), w.next())
        .await
        .expect("event in time")
    {
        Some(Ok(WatchEvent::Modified(cm))) => {
            assert!(cm.data.unwrap_or_default().contains_key("b"))
        }
        other => panic!("expected MODIFIED, got {other:?}"),
    }
    // A JSON patch test failure is a 422.
    let bad = Patch::<()>::Json(
        serde_json::from_value(json!([{"op": "test", "path": "/data/b", "value": "nope"}]))
            .expect("json patch"),
    );
    assert_eq!(
        api_code(cms.patch("pre", &PatchParams::default(), &bad).await).0,
        422
    );

    // Faults through the HTTP control path (what the binary offers).
    let req = http::Request::post("/standin/faults")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&json!({"fail": [{"method": "GET", "pathPrefix": "/api/v1/namespaces/default/configmaps", "status": 500}]})).expect("json"))
        .expect("request");
    client.request_text(req).await.expect("set faults");
    assert_eq!(
        api_code(cms.get("pre").await),
        (500, "InternalError".into())
    );
    assert!(
        cms.delete("pre", &DeleteParams::default()).await.is_ok(),
        "only GET fails"
    );
    let req = http::Request::delete("/standin/faults")
        .body(Vec::new())
        .expect("request");
    client.request_text(req).await.expect("clear faults");
    assert!(cms.get_opt("pre").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_sees_objects_leave_and_enter_a_selector() {
    use futures::StreamExt;
    use kube::api::{WatchEvent, WatchParams};
    let s = start();
    let client = client_from(&s.kubeconfig()).await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client, "default");
    let rv = cms
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut w = cms
        .watch(&WatchParams::default().labels("sel=yes").timeout(5), &rv)
        .await
        .expect("watch")
        .boxed();
    let pp = PatchParams::apply("t");
    let put = |v: &'static str| {
        Patch::Apply(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "labels": {"sel": v}}}),
        )
    };
    cms.patch("m", &pp, &put("no")).await.expect("apply");
    cms.patch("m", &pp, &put("yes")).await.expect("apply");
    cms.patch("m", &pp, &put("no")).await.expect("apply");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(3), w.next())
            .await
            .expect("event in time")
        {
            Some(Ok(WatchEvent::Added(_))) => seen.push("ADDED"),
            Some(Ok(WatchEvent::Deleted(_))) => seen.push("DELETED"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["ADDED", "DELETED"]);
}
