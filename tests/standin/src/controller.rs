//! The deployments controller (and the kubelet's part of it): after a change
//! to Deployments, Secrets or ConfigMaps, every Deployment gets one
//! ReplicaSet per pod-template hash and `spec.replicas` pods. Pods run
//! (phase Running, Ready) only when every Secret/ConfigMap and key their
//! template references exists; otherwise they wait with the reason a kubelet
//! reports (CreateContainerConfigError, `secret "x" not found`, `couldn't
//! find key K in Secret NS/NAME`), and the Deployment reports Available
//! False / MinimumReplicasUnavailable.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::store::{ResourceInfo, Store};
use crate::util::{now_rfc3339, random_suffix, uuid};

fn res(store: &Store, group: &str, plural: &str) -> Option<ResourceInfo> {
    store.resource(group, "v1", plural)
}

fn keys_of(obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in ["data", "binaryData"] {
        if let Some(m) = obj[f].as_object() {
            out.extend(m.keys().cloned());
        }
    }
    out
}

/// What a kubelet would report for a reference: Ok or the message.
fn check_ref(
    store: &Store,
    ns: &str,
    kind: &str,
    name: &str,
    key: Option<&str>,
    optional: bool,
) -> Result<(), String> {
    if optional {
        return Ok(());
    }
    let (plural, lower, title) = if kind == "secret" {
        ("secrets", "secret", "Secret")
    } else {
        ("configmaps", "configmap", "ConfigMap")
    };
    let Some(r) = res(store, "", plural) else {
        return Ok(());
    };
    match store.get(&r, ns, name) {
        None => Err(format!("{lower} \"{name}\" not found")),
        Some(obj) => match key {
            Some(k) if !keys_of(obj).iter().any(|x| x == k) => {
                Err(format!("couldn't find key {k} in {title} {ns}/{name}"))
            }
            _ => Ok(()),
        },
    }
}

fn opt(v: &Value) -> bool {
    v["optional"].as_bool().unwrap_or(false)
}

/// The first missing reference of one container, as the kubelet words it.
pub fn container_problem(store: &Store, ns: &str, c: &Value) -> Option<String> {
    for ef in c["envFrom"].as_array().into_iter().flatten() {
        for (field, kind) in [("secretRef", "secret"), ("configMapRef", "configmap")] {
            let r = &ef[field];
            if let Some(name) = r["name"].as_str()
                && let Err(m) = check_ref(store, ns, kind, name, None, opt(r))
            {
                return Some(m);
            }
        }
    }
    for e in c["env"].as_array().into_iter().flatten() {
        for (field, kind) in [("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")] {
            let r = &e["valueFrom"][field];
            if let Some(name) = r["name"].as_str()
                && let Err(m) = check_ref(store, ns, kind, name, r["key"].as_str(), opt(r))
            {
                return Some(m);
            }
        }
    }
    None
}

/// The first missing Secret/ConfigMap volume (or item key) of a pod spec.
pub fn volume_problem(store: &Store, ns: &str, spec: &Value) -> Option<String> {
    for v in spec["volumes"].as_array().into_iter().flatten() {
        let vname = v["name"].as_str().unwrap_or_default();
        for (field, kind, name_field) in [
            ("secret", "secret", "secretName"),
            ("configMap", "configmap", "name"),
        ] {
            let src = &v[field];
            let Some(name) = src[name_field].as_str() else {
                continue;
            };
            if let Err(m) = check_ref(store, ns, kind, name, None, opt(src)) {
                return Some(format!(
                    "MountVolume.SetUp failed for volume \"{vname}\" : {m}"
                ));
            }
            for item in src["items"].as_array().into_iter().flatten() {
                if let Some(k) = item["key"].as_str()
                    && check_ref(store, ns, kind, name, Some(k), opt(src)).is_err()
                {
                    let what = if kind == "secret" {
                        "references non-existent secret key"
                    } else {
                        "configmap references non-existent config key"
                    };
                    return Some(format!(
                        "MountVolume.SetUp failed for volume \"{vname}\" : {what}: {k}"
                    ));
                }
            }
        }
    }
    None
}

/// Desired pod status for a template in a namespace.
fn pod_status(store: &Store, ns: &str, spec: &Value, old: &Value) -> Value {
    let now = now_rfc3339();
    let vol = volume_problem(store, ns, spec);
    let mut statuses = Vec::new();
    let mut unready = Vec::new();
    for c in spec["containers"].as_array().into_iter().flatten() {
        let cname = c["name"].as_str().unwrap_or_default();
        let problem = match &vol {
            Some(m) => Some(("ContainerCreating", m.clone())),
            None => container_problem(store, ns, c).map(|m| ("CreateContainerConfigError", m)),
        };
        let image = c["image"].clone();
        match problem {
            Some((reason, message)) => {
                unready.push(cname.to_string());
                statuses.push(json!({"name": cname, "image": image, "imageID": "", "ready": false, "started": false, "restartCount": 0,
                    "state": {"waiting": {"reason": reason, "message": message}}}));
            }
            None => statuses.push(json!({"name": cname, "image": image, "imageID": "", "ready": true, "started": true, "restartCount": 0,
                "containerID": format!("containerd://{}", uuid().replace('-', "")),
                "state": {"running": {"startedAt": now}}})),
        }
    }
    let ready = unready.is_empty();
    let cond = |t: &str, ok: bool| {
        let mut c = json!({"type": t, "status": if ok {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": now});
        if !ok {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            ));
        }
        c
    };
    let pod_ip = old["podIP"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            let n: u8 = rand::random::<u8>() % 250 + 2;
            format!("10.42.0.{n}")
        });
    json!({
        "phase": if ready && vol.is_none() { "Running" } else { "Pending" },
        "conditions": [cond("Initialized", true), cond("Ready", ready), cond("ContainersReady", ready), cond("PodScheduled", true)],
        "hostIP": "192.168.5.15", "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": old["startTime"].as_str().map(str::to_string).unwrap_or(now.clone()),
        "containerStatuses": statuses, "qosClass": "BestEffort",
    })
}

fn signature(status: &Value) -> Value {
    let cs: Vec<Value> = status["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!([
                c["name"],
                c["ready"],
                c["state"]["waiting"]["reason"],
                c["state"]["waiting"]["message"],
                c["image"]
            ])
        })
        .collect();
    json!([status["phase"], cs])
}

fn strip_times(status: &Value) -> Value {
    let mut s = status.clone();
    if let Some(cs) = s["conditions"].as_array_mut() {
        for c in cs {
            if let Some(o) = c.as_object_mut() {
                o.remove("lastUpdateTime");
                o.remove("lastTransitionTime");
            }
        }
    }
    s
}

fn owner_uid(obj: &Value, kind: &str) -> Option<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|o| o["kind"] == kind)
        .and_then(|o| o["uid"].as_str().map(str::to_string))
}

/// Recomputes every Deployment (and deletes ReplicaSets and pods whose
/// owner is gone).
pub fn reconcile(store: &mut Store) {
    let (Some(dr), Some(rsr), Some(pr)) = (
        res(store, "apps", "deployments"),
        res(store, "apps", "replicasets"),
        res(store, "", "pods"),
    ) else {
        return;
    };
    let deployments = store.list(&dr, None);
    for d in &deployments {
        reconcile_one(store, &dr, &rsr, &pr, d);
    }
    let uids: Vec<String> = deployments
        .iter()
        .filter_map(|d| d["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    for rs in store.list(&rsr, None) {
        if owner_uid(&rs, "Deployment").is_some_and(|u| !uids.contains(&u)) {
            let ns = rs["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let name = rs["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            store.remove_raw(&rsr, &ns, &name);
        }
    }
    let rs_uids: Vec<String> = store
        .list(&rsr, None)
        .iter()
        .filter_map(|r| r["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    for p in store.list(&pr, None) {
        if owner_uid(&p, "ReplicaSet").is_some_and(|u| !rs_uids.contains(&u)) {
            let ns = p["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let name = p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            store.remove_raw(&pr, &ns, &name);
        }
    }
}

fn reconcile_one(
    store: &mut Store,
    dr: &ResourceInfo,
    rsr: &ResourceInfo,
    pr: &ResourceInfo,
    d: &Value,
) {
    let ns = d["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = d["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let duid = d["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = d["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
    let template = d["spec"]["template"].clone();
    let digest = Sha256::digest(
        serde_json::to_string(&template)
            .unwrap_or_default()
            .as_bytes(),
    );
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let rs_name = format!("{name}-{hash}");
    let now = now_rfc3339();

    // Old ReplicaSets of this Deployment go (their pods follow in reconcile).
    for rs in store.list(rsr, Some(&ns)) {
        if owner_uid(&rs, "Deployment").as_deref() == Some(duid.as_str())
            && rs["metadata"]["name"] != json!(rs_name)
        {
            let rn = rs["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let rs_uid = rs["metadata"]["uid"].clone();
            store.remove_raw(rsr, &ns, &rn);
            for p in store.list(pr, Some(&ns)) {
                if owner_uid(&p, "ReplicaSet").map(Value::from) == Some(rs_uid.clone()) {
                    let pn = p["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    store.remove_raw(pr, &ns, &pn);
                }
            }
        }
    }
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels["pod-template-hash"] = json!(hash);
    let rs = match store.get(rsr, &ns, &rs_name).cloned() {
        Some(rs) => rs,
        None => {
            let mut sel = d["spec"]["selector"].clone();
            sel["matchLabels"]["pod-template-hash"] = json!(hash);
            let mut t = template.clone();
            t["metadata"]["labels"] = labels.clone();
            store.store_raw(rsr, json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs_name, "namespace": ns, "uid": uuid(), "creationTimestamp": now, "generation": 1,
                    "labels": labels, "annotations": {"deployment.kubernetes.io/revision": "1"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": duid, "controller": true, "blockOwnerDeletion": true}]},
                "spec": {"replicas": replicas, "selector": sel, "template": t},
                "status": {"replicas": 0, "observedGeneration": 1},
            }), "ADDED")
        }
    };
    let rs_uid = rs["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut pods: Vec<Value> = store
        .list(pr, Some(&ns))
        .into_iter()
        .filter(|p| owner_uid(p, "ReplicaSet").as_deref() == Some(rs_uid.as_str()))
        .collect();
    while pods.len() > replicas {
        if let Some(p) = pods.pop() {
            let pn = p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            store.remove_raw(pr, &ns, &pn);
        }
    }
    while pods.len() < replicas {
        let pn = format!("{rs_name}-{}", random_suffix(5));
        let mut spec = template["spec"].clone();
        spec["nodeName"] = json!("standin");
        let p = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pn, "namespace": ns, "uid": uuid(), "creationTimestamp": now, "labels": labels,
                "annotations": template["metadata"]["annotations"].clone(),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": rs_uid, "controller": true, "blockOwnerDeletion": true}]},
            "spec": spec,
            "status": {},
        });
        pods.push(p);
    }
    let mut ready = 0;
    for mut p in pods {
        let st = pod_status(store, &ns, &p["spec"], &p["status"]);
        if st["phase"] == "Running" {
            ready += 1;
        }
        let fresh = p["metadata"]["resourceVersion"].is_null();
        if fresh || signature(&st) != signature(&p["status"]) {
            p["status"] = st;
            if let Some(a) = p["metadata"].as_object_mut()
                && a.get("annotations").is_some_and(Value::is_null)
            {
                a.remove("annotations");
            }
            store.store_raw(pr, p, if fresh { "ADDED" } else { "MODIFIED" });
        }
    }

    // ReplicaSet status.
    let rs_status = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": 1});
    if rs["status"] != rs_status
        && let Some(mut rs) = store.get(rsr, &ns, &rs_name).cloned()
    {
        rs["status"] = rs_status;
        store.store_raw(rsr, rs, "MODIFIED");
    }

    // Deployment status.
    let available = ready >= replicas;
    let mut status = json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas});
    if ready > 0 {
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
    }
    if replicas > ready {
        status["unavailableReplicas"] = json!(replicas - ready);
    }
    let (a_status, a_reason, a_msg) = if available {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".to_string(),
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".to_string(),
        )
    };
    let (p_reason, p_msg) = if available {
        (
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else {
        (
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    };
    status["conditions"] = json!([
        {"type": "Available", "status": a_status, "reason": a_reason, "message": a_msg},
        {"type": "Progressing", "status": "True", "reason": p_reason, "message": p_msg},
    ]);
    let Some(mut current) = store.get(dr, &ns, &name).cloned() else {
        return;
    };
    let old = current["status"].clone();
    if strip_times(&old) == status {
        return;
    }
    if let Some(cs) = status["conditions"].as_array_mut() {
        for c in cs {
            let prev = old["conditions"]
                .as_array()
                .and_then(|a| a.iter().find(|o| o["type"] == c["type"]).cloned());
            let t = match prev {
                Some(p) if p["status"] == c["status"] => p["lastTransitionTime"].clone(),
                _ => json!(now),
            };
            c["lastTransitionTime"] = t;
            c["lastUpdateTime"] = json!(now);
        }
    }
    current["status"] = status;
    store.store_raw(dr, current, "MODIFIED");
}
