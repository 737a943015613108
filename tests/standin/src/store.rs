//! The object store: a registry of served resources (what discovery shows,
//! including CRD-defined ones), a generic JSON store keyed by (group,
//! resource, namespace, name), a global resourceVersion counter and an
//! in-memory event log plus broadcast channel for watches. One object is
//! kept per resource, served at the resource's (single) version.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::util::{
    ApiError, is_dns1123_label, is_dns1123_subdomain, now_rfc3339, random_suffix, uuid,
};

/// A resource served by the stand-in, as discovery lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    /// API group, "" for the core group.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Plural name, e.g. `secrets`.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind, e.g. `Secret`.
    pub kind: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names for kubectl.
    pub short_names: Vec<String>,
    /// Subresources (`status`, `exec`, ...).
    pub subresources: Vec<String>,
}

impl ResourceInfo {
    /// `apiVersion` string (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// The resource name used in messages (`secrets`, `deployments.apps`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
    /// Does the resource have a status subresource?
    pub fn has_status(&self) -> bool {
        self.subresources.iter().any(|s| s == "status")
    }
}

fn ri(
    group: &str,
    plural: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
    subs: &[&str],
) -> ResourceInfo {
    ResourceInfo {
        group: group.into(),
        version: "v1".into(),
        plural: plural.into(),
        singular: singular.into(),
        kind: kind.into(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        subresources: subs.iter().map(|s| s.to_string()).collect(),
    }
}

fn builtin_resources() -> Vec<ResourceInfo> {
    vec![
        ri(
            "",
            "namespaces",
            "namespace",
            "Namespace",
            false,
            &["ns"],
            &["status"],
        ),
        ri("", "secrets", "secret", "Secret", true, &[], &[]),
        ri(
            "",
            "configmaps",
            "configmap",
            "ConfigMap",
            true,
            &["cm"],
            &[],
        ),
        ri(
            "",
            "services",
            "service",
            "Service",
            true,
            &["svc"],
            &["status"],
        ),
        ri(
            "",
            "pods",
            "pod",
            "Pod",
            true,
            &["po"],
            &["status", "exec", "portforward", "log"],
        ),
        ri(
            "",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
            &["sa"],
            &[],
        ),
        ri("", "events", "event", "Event", true, &["ev"], &[]),
        ri(
            "apps",
            "deployments",
            "deployment",
            "Deployment",
            true,
            &["deploy"],
            &["status", "scale"],
        ),
        ri(
            "apps",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            true,
            &["rs"],
            &["status"],
        ),
        ri(
            "apps",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            true,
            &["sts"],
            &["status"],
        ),
        ri(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "customresourcedefinition",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            &["status"],
        ),
        ri(
            "rbac.authorization.k8s.io",
            "roles",
            "role",
            "Role",
            true,
            &[],
            &[],
        ),
        ri(
            "rbac.authorization.k8s.io",
            "rolebindings",
            "rolebinding",
            "RoleBinding",
            true,
            &[],
            &[],
        ),
        ri(
            "rbac.authorization.k8s.io",
            "clusterroles",
            "clusterrole",
            "ClusterRole",
            false,
            &[],
            &[],
        ),
        ri(
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            "clusterrolebinding",
            "ClusterRoleBinding",
            false,
            &[],
            &[],
        ),
    ]
}

/// Key of a stored object: (group, plural, namespace or "", name).
pub type Key = (String, String, String, String);

/// One watch event.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    /// resourceVersion of the change.
    pub rv: u64,
    /// API group of the object.
    pub group: String,
    /// Plural of the object's resource.
    pub plural: String,
    /// Namespace ("" when cluster-scoped).
    pub namespace: String,
    /// ADDED, MODIFIED or DELETED.
    pub kind: &'static str,
    /// The object after the change (before it, for DELETED).
    pub object: Value,
    /// The object before a MODIFIED change.
    pub old: Option<Value>,
}

const EVENT_LOG_CAP: usize = 50_000;

/// The store itself; lives behind a mutex in the server state.
pub struct Store {
    /// Served resources.
    pub resources: Vec<ResourceInfo>,
    /// Objects.
    pub objects: BTreeMap<Key, Value>,
    /// Last resourceVersion handed out.
    pub rv: u64,
    /// Recent events, oldest first.
    pub events: VecDeque<Arc<WatchEvent>>,
    /// Live events.
    pub tx: broadcast::Sender<Arc<WatchEvent>>,
    /// Last applied configuration per (object, field manager), used to
    /// remove fields a manager stops applying.
    pub applied: std::collections::HashMap<(Key, String), Value>,
    next_ip: u32,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// Options for a write through the API.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOpts {
    /// dryRun=All: validate, but do not store.
    pub dry_run: bool,
    /// Written by the stand-in itself (library put, controller): keep the
    /// given `status` instead of protecting it.
    pub internal: bool,
}

impl Store {
    /// An empty store serving the built-in resources.
    pub fn new() -> Store {
        let (tx, _) = broadcast::channel(4096);
        Store {
            resources: builtin_resources(),
            objects: BTreeMap::new(),
            rv: 1,
            events: VecDeque::new(),
            tx,
            applied: Default::default(),
            next_ip: 10,
        }
    }

    /// Groups (other than core) with their versions, in discovery order.
    pub fn groups(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for r in &self.resources {
            if !r.group.is_empty() && !out.iter().any(|(g, v)| *g == r.group && *v == r.version) {
                out.push((r.group.clone(), r.version.clone()));
            }
        }
        out
    }

    /// Resources of one group version.
    pub fn resources_of(&self, group: &str, version: &str) -> Vec<ResourceInfo> {
        self.resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .cloned()
            .collect()
    }

    /// Looks up a resource by group, version, plural.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<ResourceInfo> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// Looks up a resource by apiVersion and kind.
    pub fn resource_for_kind(&self, api_version: &str, kind: &str) -> Option<ResourceInfo> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
    }

    fn key(r: &ResourceInfo, ns: &str, name: &str) -> Key {
        let ns = if r.namespaced { ns } else { "" };
        (
            r.group.clone(),
            r.plural.clone(),
            ns.to_string(),
            name.to_string(),
        )
    }

    /// The configuration `manager` last applied to an object.
    pub fn last_applied(
        &self,
        r: &ResourceInfo,
        ns: &str,
        name: &str,
        manager: &str,
    ) -> Option<&Value> {
        self.applied
            .get(&(Store::key(r, ns, name), manager.to_string()))
    }

    /// Records what `manager` applied to an object.
    pub fn set_last_applied(
        &mut self,
        r: &ResourceInfo,
        ns: &str,
        name: &str,
        manager: &str,
        applied: Value,
    ) {
        self.applied
            .insert((Store::key(r, ns, name), manager.to_string()), applied);
    }

    /// Gets one object.
    pub fn get(&self, r: &ResourceInfo, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&Store::key(r, ns, name))
    }

    /// Every stored object as (`group/plural`, namespace, name, object), in
    /// key order.
    pub fn all(&self) -> Vec<(String, String, String, &Value)> {
        self.objects
            .iter()
            .map(|((g, p, ns, name), v)| (format!("{g}/{p}"), ns.clone(), name.clone(), v))
            .collect()
    }

    /// Lists objects of a resource, optionally within one namespace.
    pub fn list(&self, r: &ResourceInfo, ns: Option<&str>) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((g, p, n, _), _)| {
                *g == r.group && *p == r.plural && ns.is_none_or(|want| !r.namespaced || want == n)
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn emit(
        &mut self,
        r: &ResourceInfo,
        ns: &str,
        kind: &'static str,
        object: Value,
        old: Option<Value>,
    ) {
        let ev = Arc::new(WatchEvent {
            rv: self.rv,
            group: r.group.clone(),
            plural: r.plural.clone(),
            namespace: ns.to_string(),
            kind,
            object,
            old,
        });
        self.events.push_back(ev.clone());
        if self.events.len() > EVENT_LOG_CAP {
            self.events.pop_front();
        }
        let _ = self.tx.send(ev);
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores an object as is (metadata already filled), bumping its
    /// resourceVersion and emitting an event.
    pub fn store_raw(&mut self, r: &ResourceInfo, mut obj: Value, kind: &'static str) -> Value {
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let old = self.objects.insert(Store::key(r, &ns, &name), obj.clone());
        self.emit(
            r,
            &ns,
            kind,
            obj.clone(),
            old.filter(|_| kind == "MODIFIED"),
        );
        if r.plural == "customresourcedefinitions" {
            self.register_crd(&obj);
        }
        obj
    }

    /// Removes an object, emitting DELETED; returns it.
    pub fn remove_raw(&mut self, r: &ResourceInfo, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self.objects.remove(&Store::key(r, ns, name))?;
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.emit(
            r,
            if r.namespaced { ns } else { "" },
            "DELETED",
            obj.clone(),
            None,
        );
        let key = Store::key(r, ns, name);
        self.applied.retain(|(k, _), _| *k != key);
        if r.plural == "customresourcedefinitions" {
            self.unregister_crd(&obj);
        }
        if r.plural == "namespaces" {
            let doomed: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.2 == name)
                .cloned()
                .collect();
            for k in doomed {
                if let Some(res) = self
                    .resources
                    .iter()
                    .find(|x| x.group == k.0 && x.plural == k.1)
                    .cloned()
                {
                    self.remove_raw(&res, &k.2, &k.3);
                }
            }
        }
        Some(obj)
    }

    fn register_crd(&mut self, crd: &Value) {
        let spec = &crd["spec"];
        let group = spec["group"].as_str().unwrap_or_default().to_string();
        let names = &spec["names"];
        let plural = names["plural"].as_str().unwrap_or_default().to_string();
        let kind = names["kind"].as_str().unwrap_or_default().to_string();
        if group.is_empty() || plural.is_empty() || kind.is_empty() {
            return;
        }
        let singular = names["singular"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase());
        let short: Vec<String> = names["shortNames"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let namespaced = spec["scope"].as_str() != Some("Cluster");
        let versions: Vec<(String, bool)> = spec["versions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|v| v["served"].as_bool().unwrap_or(true))
                    .filter_map(|v| {
                        Some((
                            v["name"].as_str()?.to_string(),
                            v["subresources"]["status"].is_object(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.resources
            .retain(|r| !(r.group == group && r.plural == plural));
        for (version, status) in versions {
            self.resources.push(ResourceInfo {
                group: group.clone(),
                version,
                plural: plural.clone(),
                singular: singular.clone(),
                kind: kind.clone(),
                namespaced,
                short_names: short.clone(),
                subresources: if status {
                    vec!["status".into()]
                } else {
                    vec![]
                },
            });
        }
    }

    fn unregister_crd(&mut self, crd: &Value) {
        let group = crd["spec"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let plural = crd["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.resources
            .retain(|r| !(r.group == group && r.plural == plural));
        self.objects.retain(|k, _| !(k.0 == group && k.1 == plural));
    }

    /// Validates and fills in a new object's fields (metadata, defaults).
    fn prepare_new(&mut self, r: &ResourceInfo, ns: &str, obj: &mut Value) -> Result<(), ApiError> {
        check_type(r, obj)?;
        obj["apiVersion"] = json!(r.api_version());
        obj["kind"] = json!(r.kind);
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let md = &mut obj["metadata"];
        if md["name"].as_str().is_none_or(str::is_empty) {
            match md["generateName"].as_str() {
                Some(g) => md["name"] = json!(format!("{g}{}", random_suffix(5))),
                None => {
                    return Err(ApiError::invalid(
                        &r.kind,
                        "",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    ));
                }
            }
        }
        let name = md["name"].as_str().unwrap_or_default().to_string();
        let ok = if r.plural == "namespaces" || r.plural == "services" {
            is_dns1123_label(&name)
        } else {
            is_dns1123_subdomain(&name)
        };
        if !ok {
            return Err(ApiError::invalid(
                &r.kind,
                &name,
                "metadata.name",
                &format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
                ),
            ));
        }
        if r.namespaced {
            match md["namespace"].as_str() {
                Some(n) if !n.is_empty() && n != ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => md["namespace"] = json!(ns),
            }
        } else if let Some(m) = md.as_object_mut() {
            m.remove("namespace");
        }
        md["uid"] = json!(uuid());
        md["creationTimestamp"] = json!(now_rfc3339());
        if obj.get("spec").is_some() {
            obj["metadata"]["generation"] = json!(1);
        }
        self.defaults(r, ns, obj, None);
        Ok(())
    }

    fn defaults(&mut self, r: &ResourceInfo, ns: &str, obj: &mut Value, old: Option<&Value>) {
        match r.plural.as_str() {
            "secrets" => {
                if let Some(sd) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
                    if !obj["data"].is_object() {
                        obj["data"] = json!({});
                    }
                    if let Some(m) = sd.as_object() {
                        for (k, v) in m {
                            let raw = v.as_str().unwrap_or_default();
                            obj["data"][k] =
                                json!(base64::engine::general_purpose::STANDARD.encode(raw));
                        }
                    }
                }
                if obj["type"].as_str().is_none() {
                    obj["type"] = json!("Opaque");
                }
            }
            "namespaces" => {
                let name = obj["metadata"]["name"].clone();
                if !obj["metadata"]["labels"].is_object() {
                    obj["metadata"]["labels"] = json!({});
                }
                obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
                if obj["spec"]["finalizers"].is_null() {
                    obj["spec"]["finalizers"] = json!(["kubernetes"]);
                }
                obj["status"] = json!({"phase": "Active"});
            }
            "services" => {
                if obj["spec"]["type"].as_str().is_none() {
                    obj["spec"]["type"] = json!("ClusterIP");
                }
                let old_ip = old
                    .and_then(|o| o["spec"]["clusterIP"].as_str())
                    .map(str::to_string);
                if obj["spec"]["clusterIP"].as_str().is_none() {
                    let ip = old_ip.unwrap_or_else(|| {
                        self.next_ip += 1;
                        format!("10.43.{}.{}", self.next_ip / 250, self.next_ip % 250 + 1)
                    });
                    obj["spec"]["clusterIP"] = json!(ip);
                    obj["spec"]["clusterIPs"] = json!([ip]);
                }
                if let Some(ports) = obj["spec"]["ports"].as_array_mut() {
                    for p in ports {
                        if p["protocol"].is_null() {
                            p["protocol"] = json!("TCP");
                        }
                        if p["targetPort"].is_null() {
                            p["targetPort"] = p["port"].clone();
                        }
                    }
                }
                if obj["status"].is_null() {
                    obj["status"] = json!({"loadBalancer": {}});
                }
            }
            "pods" if obj["status"].is_null() => {
                obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
            }
            "deployments" => {
                if obj["spec"]["replicas"].is_null() {
                    obj["spec"]["replicas"] = json!(1);
                }
                if obj["status"].is_null() {
                    obj["status"] = json!({});
                }
            }
            _ => {}
        }
        let _ = ns;
    }

    /// Creates an object (POST).
    pub fn create(
        &mut self,
        r: &ResourceInfo,
        ns: &str,
        mut obj: Value,
        opts: WriteOpts,
    ) -> Result<Value, ApiError> {
        if r.namespaced && self.get(&self.namespaces(), "", ns).is_none() {
            return Err(ApiError::not_found("namespaces", ns));
        }
        if !opts.internal
            && r.has_status()
            && r.plural != "pods"
            && r.plural != "services"
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
        self.prepare_new(r, ns, &mut obj)?;
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if self.get(r, ns, &name).is_some() {
            return Err(ApiError::already_exists(&r.qualified(), &name));
        }
        if opts.dry_run {
            return Ok(obj);
        }
        Ok(self.store_raw(r, obj, "ADDED"))
    }

    /// Replaces an object (PUT); `status_only` for the status subresource.
    pub fn update(
        &mut self,
        r: &ResourceInfo,
        ns: &str,
        name: &str,
        mut obj: Value,
        opts: WriteOpts,
        status_only: bool,
    ) -> Result<Value, ApiError> {
        check_type(r, &obj)?;
        let Some(old) = self.get(r, ns, name).cloned() else {
            return Err(ApiError::not_found(&r.qualified(), name));
        };
        if let Some(n) = obj.pointer("/metadata/name").and_then(Value::as_str)
            && n != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        if let Some(want) = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !want.is_empty()
            && Some(want)
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError {
                code: 409,
                reason: "Conflict".into(),
                message: format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    r.qualified()
                ),
                details: Some(json!({"name": name, "kind": r.plural})),
            });
        }
        let mut new = if status_only {
            let mut n = old.clone();
            n["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            n
        } else {
            if !opts.internal && r.has_status() {
                obj["status"] = old.get("status").cloned().unwrap_or(Value::Null);
                if obj["status"].is_null()
                    && let Some(o) = obj.as_object_mut()
                {
                    o.remove("status");
                }
            }
            obj
        };
        new["apiVersion"] = json!(r.api_version());
        new["kind"] = json!(r.kind);
        if !new["metadata"].is_object() {
            new["metadata"] = json!({});
        }
        for f in ["uid", "creationTimestamp", "generation"] {
            if let Some(v) = old["metadata"].get(f) {
                new["metadata"][f] = v.clone();
            }
        }
        new["metadata"]["name"] = json!(name);
        if r.namespaced {
            new["metadata"]["namespace"] = json!(ns);
        }
        if new.get("spec").is_some() && new.get("spec") != old.get("spec") {
            let g = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            new["metadata"]["generation"] = json!(g);
        }
        self.defaults(r, ns, &mut new, Some(&old));
        if !status_only {
            check_immutable(r, name, &old, &new)?;
        }
        if opts.dry_run {
            return Ok(new);
        }
        Ok(self.store_raw(r, new, "MODIFIED"))
    }

    /// Deletes an object.
    pub fn delete(
        &mut self,
        r: &ResourceInfo,
        ns: &str,
        name: &str,
        opts: WriteOpts,
    ) -> Result<Value, ApiError> {
        if self.get(r, ns, name).is_none() {
            return Err(ApiError::not_found(&r.qualified(), name));
        }
        if opts.dry_run {
            return Ok(self.get(r, ns, name).cloned().unwrap_or(Value::Null));
        }
        self.remove_raw(r, ns, name)
            .ok_or_else(|| ApiError::not_found(&r.qualified(), name))
    }

    /// The namespaces resource.
    pub fn namespaces(&self) -> ResourceInfo {
        builtin_resources().swap_remove(0)
    }
}

/// An immutable Secret or ConfigMap (`immutable: true`) keeps its data
/// and the mark itself; its metadata may change. The checks and the
/// message are the API server's (`ValidateSecretUpdate`,
/// `ValidateConfigMapUpdate` in pkg/apis/core/validation): 422 Invalid,
/// `Secret "NAME" is invalid: data: Forbidden: field is immutable when
/// `immutable` is set`, on dry runs too (validation runs before the
/// dry-run check).
fn check_immutable(r: &ResourceInfo, name: &str, old: &Value, new: &Value) -> Result<(), ApiError> {
    let fields: &[&str] = match (r.group.as_str(), r.plural.as_str()) {
        ("", "secrets") => &["data"],
        ("", "configmaps") => &["data", "binaryData"],
        _ => return Ok(()),
    };
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    const MSG: &str = "field is immutable when `immutable` is set";
    let mut bad = Vec::new();
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        bad.push("immutable");
    }
    let empty = json!({});
    for f in fields {
        let norm = |v: &Value| -> Value {
            match v.get(*f) {
                None | Some(Value::Null) => empty.clone(),
                Some(x) => x.clone(),
            }
        };
        if norm(old) != norm(new) {
            bad.push(*f);
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = bad
        .iter()
        .map(|f| format!("{f}: Forbidden: {MSG}"))
        .collect();
    let joined = if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("[{}]", parts.join(", "))
    };
    let causes: Vec<Value> = bad
        .iter()
        .map(|f| json!({"reason": "FieldValueForbidden", "message": format!("Forbidden: {MSG}"), "field": f}))
        .collect();
    Err(ApiError {
        code: 422,
        reason: "Invalid".into(),
        message: format!("{} \"{name}\" is invalid: {joined}", r.kind),
        details: Some(json!({"name": name, "kind": r.kind, "causes": causes})),
    })
}

fn check_type(r: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != r.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the object ({k}) does not match the resource ({})",
            r.kind
        )));
    }
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && av != r.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            r.api_version()
        )));
    }
    Ok(())
}
