//! The HTTPS server: TLS accept loop, authentication (client certificate
//! signed by the stand-in's CA, or the bearer token), request routing for
//! discovery, objects (get/list/watch/create/update/patch/delete), status
//! and scale subresources, the `/standin/faults` control path, and hand-off
//! of exec/portforward upgrades to [`crate::ws`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::controller;
use crate::faults::Faults;
use crate::patch;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{ResourceInfo, Store, WatchEvent, WriteOpts};
use crate::util::ApiError;

/// How many requests the log keeps (the oldest half goes when full).
const REQUEST_LOG_CAP: usize = 100_000;

/// Response body type.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Exec-enabled pods: (namespace, pod) -> extra environment.
pub type ExecEnvs = HashMap<(String, String), Vec<(String, String)>>;

/// State shared by all connections and the library handle.
pub struct Shared {
    /// Objects and resources.
    pub store: Mutex<Store>,
    /// Fault injection.
    pub faults: Faults,
    /// Port-forward targets: (namespace, pod, port) -> address.
    pub forwards: Mutex<HashMap<(String, String, u16), SocketAddr>>,
    /// Exec-enabled pods and their environment.
    pub exec_env: Mutex<ExecEnvs>,
    /// Where the pods' `psql` wrapper is ([`crate::pod_net`]); removed
    /// when the stand-in stops.
    pub shim_dir: std::path::PathBuf,
    /// Accepted bearer token.
    pub token: String,
    /// (method, path, query) of every request seen.
    pub requests: Mutex<Vec<(String, String, String)>>,
}

impl Shared {
    /// Locks the store (a poisoned lock is recovered: the store stays usable).
    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A full JSON response.
pub fn json_response(code: u16, v: &Value) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())).boxed_unsync());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// A Status error response.
pub fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.to_status())
}

fn text_response(code: u16, s: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(s.to_string())).boxed_unsync());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Accepts connections until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            acc = listener.accept() => {
                let Ok((tcp, _)) = acc else { continue };
                let acceptor = acceptor.clone();
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let has_cert = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, has_cert, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .with_upgrades()
                        .await;
                });
            }
        }
    }
}

/// Parsed query: every (key, value) pair in order, form-decoded.
pub struct Query(pub Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }
    /// First value of `k`.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }
    /// All values of `k`.
    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// Is `k` "true" or "1"?
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true") | Some("1"))
    }
}

async fn handle(shared: Arc<Shared>, has_cert: bool, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    {
        let mut log = shared.requests.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= REQUEST_LOG_CAP {
            log.drain(..REQUEST_LOG_CAP / 2);
        }
        log.push((
            method.clone(),
            path.clone(),
            req.uri().query().unwrap_or_default().to_string(),
        ));
    }
    let public = matches!(
        path.as_str(),
        "/version" | "/healthz" | "/livez" | "/readyz"
    );
    let bearer_ok = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == shared.token);
    if !public && !has_cert && !bearer_ok {
        return error_response(&ApiError::new(401, "Unauthorized", "Unauthorized"));
    }
    if !public && !path.starts_with("/standin/") {
        let delay = shared.faults.api_latency();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    if !path.starts_with("/standin/")
        && let Some(code) = shared.faults.fail_for(&method, &path)
    {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            422 => "Invalid",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        // A 403 is worded as the RBAC authorizer words it (clients read the
        // verb, resource and namespace from it); others say what they are.
        let message = match (code, rbac_denial(method.as_str(), &path)) {
            (403, Some(m)) => m,
            _ => format!("injected fault: {method} {path} answers {code}"),
        };
        return error_response(&ApiError::new(code, reason, message));
    }
    let query = Query::parse(req.uri().query());
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["version"] => json_response(200, &version()),
        ["healthz"] | ["livez"] | ["readyz"] => text_response(200, "ok"),
        ["openapi", ..] => error_response(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
        ["standin", "faults"] => faults_endpoint(&shared, req).await,
        ["api"] => json_response(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
        ),
        ["apis"] => json_response(200, &group_list(&shared.store())),
        ["api", "v1"] => resource_list(&shared.store(), "", "v1"),
        ["apis", g] => {
            let gl = group_list(&shared.store());
            match gl["groups"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["name"] == *g))
            {
                Some(grp) => {
                    let mut grp = grp.clone();
                    grp["kind"] = json!("APIGroup");
                    grp["apiVersion"] = json!("v1");
                    json_response(200, &grp)
                }
                None => error_response(&ApiError::new(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                )),
            }
        }
        ["apis", g, v] => resource_list(&shared.store(), g, v),
        ["api", "v1", rest @ ..] => {
            resource_request(shared.clone(), "", "v1", rest, req, query).await
        }
        ["apis", g, v, rest @ ..] => {
            let (g, v) = (g.to_string(), v.to_string());
            resource_request(shared.clone(), &g, &v, rest, req, query).await
        }
        _ => error_response(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
    }
}

/// The API server's words for an RBAC denial of `method` on `path`
/// (`secrets "x" is forbidden: User "uis-test" cannot get resource
/// "secrets" in API group "" in the namespace "default"`), None for a path
/// that names no resource.
fn rbac_denial(method: &str, path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, rest) = match segs.as_slice() {
        ["api", _v, rest @ ..] => ("", rest),
        ["apis", g, _v, rest @ ..] => (*g, rest),
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(*ns), rest),
        _ => (None, rest),
    };
    let (resource, name, sub) = match rest {
        [r] => (*r, None, None),
        [r, n] => (*r, Some(*n), None),
        [r, n, sub, ..] => (*r, Some(*n), Some(*sub)),
        _ => return None,
    };
    let verb = match (method, name) {
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        ("DELETE", None) => "deletecollection",
        ("DELETE", Some(_)) => "delete",
        _ => return None,
    };
    let full = match sub {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_string(),
    };
    let object = match name {
        Some(n) => format!("{resource} \"{n}\""),
        None => resource.to_string(),
    };
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    Some(format!(
        "{object} is forbidden: User \"uis-test\" cannot {verb} resource \"{full}\" in API group \"{group}\" {scope}"
    ))
}

/// The `/version` body (kubectl's dispatcher picks kubectl 1.33 from it).
pub fn version() -> Value {
    json!({"major": "1", "minor": "33", "gitVersion": "v1.33.1", "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean", "buildDate": "2025-05-15T08:19:08Z", "goVersion": "go1.24.2", "compiler": "gc",
        "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "33", "minCompatibilityMajor": "1", "minCompatibilityMinor": "32"})
}

fn group_list(store: &Store) -> Value {
    let groups: Vec<Value> = {
        let mut names: Vec<String> = Vec::new();
        for (g, _) in store.groups() {
            if !names.contains(&g) {
                names.push(g);
            }
        }
        names
            .iter()
            .map(|g| {
                let versions: Vec<Value> = store
                    .groups()
                    .into_iter()
                    .filter(|(x, _)| x == g)
                    .map(|(_, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                    .collect();
                json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
            })
            .collect()
    };
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(store: &Store, group: &str, version: &str) -> Response<Body> {
    let rs = store.resources_of(group, version);
    if rs.is_empty() {
        return error_response(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    }
    let verbs = json!([
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch"
    ]);
    let mut out = Vec::new();
    for r in &rs {
        let mut e = json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs});
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        out.push(e);
        for sub in &r.subresources {
            let (kind, verbs, extra) = match sub.as_str() {
                "status" => (r.kind.as_str(), json!(["get", "patch", "update"]), None),
                "scale" => (
                    "Scale",
                    json!(["get", "patch", "update"]),
                    Some(("autoscaling", "v1")),
                ),
                "exec" => ("PodExecOptions", json!(["create", "get"]), None),
                "portforward" => ("PodPortForwardOptions", json!(["create", "get"]), None),
                "log" => ("Pod", json!(["get"]), None),
                _ => continue,
            };
            let mut e = json!({"name": format!("{}/{sub}", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": kind, "verbs": verbs});
            if let Some((g, v)) = extra {
                e["group"] = json!(g);
                e["version"] = json!(v);
            }
            out.push(e);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json_response(
        200,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}),
    )
}

fn not_found_path() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

async fn read_body(
    req: Request<Incoming>,
) -> Result<(hyper::http::request::Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading body: {e}")))?
        .to_bytes();
    Ok((parts, bytes))
}

fn parse_json(b: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(b).map_err(|e| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the stand-in accepts JSON bodies only: {e}"),
        )
    })
}

fn needs_reconcile(r: &ResourceInfo) -> bool {
    matches!(
        r.plural.as_str(),
        "deployments" | "secrets" | "configmaps" | "replicasets" | "pods" | "namespaces"
    )
}

async fn resource_request(
    shared: Arc<Shared>,
    group: &str,
    version: &str,
    rest: &[&str],
    req: Request<Incoming>,
    query: Query,
) -> Response<Body> {
    let lookup = |p: &str| shared.store().resource(group, version, p);
    let (ns, plural, name, sub): (Option<&str>, &str, Option<&str>, Option<&str>) = match rest {
        [p] => (None, p, None, None),
        ["namespaces", n, p] if lookup(p).is_some_and(|r| r.namespaced) => (Some(n), p, None, None),
        [p, n] => (None, p, Some(n), None),
        [p, n, s] => (None, p, Some(n), Some(s)),
        ["namespaces", ns, p, n] => (Some(ns), p, Some(n), None),
        ["namespaces", ns, p, n, s] => (Some(ns), p, Some(n), Some(s)),
        _ => return error_response(&not_found_path()),
    };
    let Some(r) = lookup(plural) else {
        return error_response(&not_found_path());
    };
    if (name.is_some() && r.namespaced && ns.is_none()) || (!r.namespaced && ns.is_some()) {
        return error_response(&not_found_path());
    }
    let ns = ns.unwrap_or_default().to_string();
    let method = req.method().clone();
    let opts = WriteOpts {
        dry_run: query.get("dryRun").is_some_and(|d| d == "All"),
        internal: false,
    };
    if let (Some(name), Some(sub)) = (name, sub)
        && (sub == "exec" || sub == "portforward")
    {
        if r.plural != "pods" {
            return error_response(&not_found_path());
        }
        return crate::ws::handle(shared, req, &ns, name, sub, &query).await;
    }
    let result: Result<(u16, Value), ApiError> = match (name, sub) {
        (None, None) => match method {
            Method::GET if query.flag("watch") => return watch(shared, r, &ns, &query).await,
            Method::GET => list(&shared, &r, &ns, &query).map(|v| (200, v)),
            Method::POST => match read_body(req).await.and_then(|(_, b)| parse_json(&b)) {
                Ok(obj) => {
                    let mut st = shared.store();
                    let res = st.create(&r, &ns, obj, opts);
                    if res.is_ok() && !opts.dry_run && needs_reconcile(&r) {
                        controller::reconcile(&mut st);
                    }
                    res.map(|v| (201, v))
                }
                Err(e) => Err(e),
            },
            Method::DELETE => {
                let items = list(&shared, &r, &ns, &query)
                    .map(|l| l["items"].as_array().cloned().unwrap_or_default());
                items.map(|items| {
                    let mut st = shared.store();
                    if !opts.dry_run {
                        for it in &items {
                            let n = it["metadata"]["name"].as_str().unwrap_or_default();
                            let _ = st.delete(&r, &ns, n, opts);
                        }
                        if needs_reconcile(&r) {
                            controller::reconcile(&mut st);
                        }
                    }
                    (200, json!({"kind": format!("{}List", r.kind), "apiVersion": r.api_version(), "metadata": {"resourceVersion": st.rv.to_string()}, "items": items}))
                })
            }
            _ => Err(method_not_allowed()),
        },
        (Some(name), None) | (Some(name), Some("status")) => {
            let status_only = sub.is_some();
            if status_only && !r.has_status() {
                return error_response(&not_found_path());
            }
            match method {
                Method::GET => shared
                    .store()
                    .get(&r, &ns, name)
                    .cloned()
                    .map(|v| (200, v))
                    .ok_or_else(|| ApiError::not_found(&r.qualified(), name)),
                Method::PUT => match read_body(req).await.and_then(|(_, b)| parse_json(&b)) {
                    Ok(obj) => {
                        let mut st = shared.store();
                        let res = st.update(&r, &ns, name, obj, opts, status_only);
                        if res.is_ok() && !opts.dry_run && needs_reconcile(&r) {
                            controller::reconcile(&mut st);
                        }
                        res.map(|v| (200, v))
                    }
                    Err(e) => Err(e),
                },
                Method::PATCH => match read_body(req).await {
                    Ok((parts, body)) => {
                        let ct = parts
                            .headers
                            .get("content-type")
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or_default();
                        let ct = ct.split(';').next().unwrap_or_default().trim().to_string();
                        patch_object(
                            &shared,
                            &r,
                            &ns,
                            name,
                            &ct,
                            &body,
                            &query,
                            opts,
                            status_only,
                        )
                    }
                    Err(e) => Err(e),
                },
                Method::DELETE if !status_only => {
                    let mut st = shared.store();
                    let res = st.delete(&r, &ns, name, opts);
                    if res.is_ok() && !opts.dry_run && needs_reconcile(&r) {
                        controller::reconcile(&mut st);
                    }
                    res.map(|v| (200, v))
                }
                _ => Err(method_not_allowed()),
            }
        }
        (Some(name), Some("scale")) if r.plural == "deployments" => {
            scale(&shared, &r, &ns, name, req, opts).await
        }
        (Some(name), Some("log")) if r.plural == "pods" => {
            return match shared.store().get(&r, &ns, name) {
                Some(_) => text_response(200, ""),
                None => error_response(&ApiError::not_found("pods", name)),
            };
        }
        _ => Err(not_found_path()),
    };
    match result {
        Ok((code, v)) => json_response(code, &v),
        Err(e) => error_response(&e),
    }
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )
}

#[allow(clippy::too_many_arguments)]
fn patch_object(
    shared: &Shared,
    r: &ResourceInfo,
    ns: &str,
    name: &str,
    ct: &str,
    body: &[u8],
    query: &Query,
    opts: WriteOpts,
    status_only: bool,
) -> Result<(u16, Value), ApiError> {
    let p = match ct {
        "application/apply-patch+yaml"
        | "application/merge-patch+json"
        | "application/strategic-merge-patch+json"
        | "application/json-patch+json" => parse_json(body)?,
        other => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
                ),
            ));
        }
    };
    let mut st = shared.store();
    let existing = st.get(r, ns, name).cloned();
    let res = if ct == "application/apply-patch+yaml" {
        if query.get("fieldManager").is_none_or(str::is_empty) {
            return Err(ApiError::invalid(
                "PatchOptions",
                "",
                "fieldManager",
                "Required value: is required for apply patch",
            ));
        }
        if !p.is_object() {
            return Err(ApiError::bad_request("apply patch must be an object"));
        }
        if let Some(n) = p.pointer("/metadata/name").and_then(Value::as_str)
            && n != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        let manager = query.get("fieldManager").unwrap_or_default().to_string();
        let mut p = p;
        if !status_only
            && r.has_status()
            && let Some(o) = p.as_object_mut()
        {
            o.remove("status");
        }
        match existing {
            None if status_only => return Err(ApiError::not_found(&r.qualified(), name)),
            None => {
                if !p["metadata"].is_object() {
                    p["metadata"] = json!({});
                }
                p["metadata"]["name"] = json!(name);
                let res = st.create(r, ns, p.clone(), opts).map(|v| (201, v));
                if res.is_ok() && !opts.dry_run {
                    st.set_last_applied(r, ns, name, &manager, p);
                }
                res
            }
            Some(mut cur) => {
                if let Some(o) = p["metadata"].as_object_mut() {
                    o.remove("resourceVersion");
                }
                check_kind(r, &p)?;
                if let Some(prev) = st.last_applied(r, ns, name, &manager) {
                    patch::remove_unapplied(&mut cur, prev, &p);
                }
                patch::apply_merge(&mut cur, &p);
                let res = st
                    .update(r, ns, name, cur, opts, status_only)
                    .map(|v| (200, v));
                if res.is_ok() && !opts.dry_run && !status_only {
                    st.set_last_applied(r, ns, name, &manager, p);
                }
                res
            }
        }
    } else {
        let Some(mut cur) = existing else {
            return Err(ApiError::not_found(&r.qualified(), name));
        };
        match ct {
            "application/merge-patch+json" => patch::merge_patch(&mut cur, &p),
            "application/strategic-merge-patch+json" => patch::strategic_merge_patch(&mut cur, &p),
            _ => patch::json_patch(&mut cur, &p)?,
        }
        st.update(r, ns, name, cur, opts, status_only)
            .map(|v| (200, v))
    };
    if res.is_ok() && !opts.dry_run && needs_reconcile(r) {
        controller::reconcile(&mut st);
    }
    res
}

fn check_kind(r: &ResourceInfo, p: &Value) -> Result<(), ApiError> {
    if p.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k != r.kind)
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the object does not match the resource ({})",
            r.kind
        )));
    }
    Ok(())
}

async fn scale(
    shared: &Shared,
    r: &ResourceInfo,
    ns: &str,
    name: &str,
    req: Request<Incoming>,
    opts: WriteOpts,
) -> Result<(u16, Value), ApiError> {
    let to_scale = |d: &Value| {
        let sel = d["spec"]["selector"]["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": ns, "uid": d["metadata"]["uid"], "resourceVersion": d["metadata"]["resourceVersion"], "creationTimestamp": d["metadata"]["creationTimestamp"]},
            "spec": {"replicas": d["spec"]["replicas"]}, "status": {"replicas": d["status"]["replicas"].as_u64().unwrap_or(0), "selector": sel}})
    };
    let method = req.method().clone();
    let current = shared
        .store()
        .get(r, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&r.qualified(), name))?;
    let mut sc = to_scale(&current);
    match method {
        Method::GET => return Ok((200, sc)),
        Method::PUT | Method::PATCH => {
            let (parts, body) = read_body(req).await?;
            let p = parse_json(&body)?;
            let ct = parts
                .headers
                .get("content-type")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            match (method, ct.as_str()) {
                (Method::PUT, _) => sc = p,
                (_, "application/json-patch+json") => patch::json_patch(&mut sc, &p)?,
                _ => patch::merge_patch(&mut sc, &p),
            }
        }
        _ => return Err(method_not_allowed()),
    }
    let mut st = shared.store();
    let mut d = st
        .get(r, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&r.qualified(), name))?;
    d["spec"]["replicas"] = sc["spec"]["replicas"].clone();
    if let Some(o) = d["metadata"].as_object_mut() {
        o.remove("resourceVersion");
    }
    let d = st.update(r, ns, name, d, opts, false)?;
    if !opts.dry_run {
        controller::reconcile(&mut st);
    }
    Ok((200, to_scale(&d)))
}

fn selectors(query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(query.get("labelSelector").unwrap_or_default())?,
        FieldSelector::parse(query.get("fieldSelector").unwrap_or_default())?,
    ))
}

fn list(shared: &Shared, r: &ResourceInfo, ns: &str, query: &Query) -> Result<Value, ApiError> {
    let (ls, fs) = selectors(query)?;
    let st = shared.store();
    let items: Vec<Value> = st
        .list(r, if ns.is_empty() { None } else { Some(ns) })
        .into_iter()
        .filter(|o| ls.matches(o) && fs.matches(o))
        .map(|mut o| {
            if let Some(m) = o.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            o
        })
        .collect();
    Ok(
        json!({"kind": format!("{}List", r.kind), "apiVersion": r.api_version(), "metadata": {"resourceVersion": st.rv.to_string()}, "items": items}),
    )
}

async fn watch(shared: Arc<Shared>, r: ResourceInfo, ns: &str, query: &Query) -> Response<Body> {
    let (ls, fs) = match selectors(query) {
        Ok(x) => x,
        Err(e) => return error_response(&e),
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let bookmarks = query.flag("allowWatchBookmarks");
    let rv = query.get("resourceVersion").unwrap_or_default().to_string();
    let ns = ns.to_string();
    // The event type this watcher sees: an object entering the selectors
    // is ADDED, one leaving them is DELETED, like the watch cache does.
    let translate = {
        let (r, ns) = (r.clone(), ns.clone());
        move |ev: &WatchEvent| -> Option<&'static str> {
            if ev.group != r.group
                || ev.plural != r.plural
                || !(ns.is_empty() || !r.namespaced || ev.namespace == ns)
            {
                return None;
            }
            let sel = |o: &Value| ls.matches(o) && fs.matches(o);
            let now = sel(&ev.object);
            match (ev.kind, ev.old.as_ref().map(sel)) {
                ("MODIFIED", Some(true)) if !now => Some("DELETED"),
                ("MODIFIED", Some(false)) if now => Some("ADDED"),
                ("MODIFIED", Some(false)) => None,
                (k, _) if now => Some(k),
                _ => None,
            }
        }
    };
    let (initial, mut rx, start_rv) = {
        let st = shared.store();
        let rx = st.tx.subscribe();
        let initial: Vec<(String, Value)> = if rv.is_empty() || rv == "0" {
            st.list(&r, if ns.is_empty() { None } else { Some(&ns) })
                .into_iter()
                .filter(|o| {
                    let namespace = o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let ev = WatchEvent {
                        rv: 0,
                        group: r.group.clone(),
                        plural: r.plural.clone(),
                        namespace,
                        kind: "ADDED",
                        object: o.clone(),
                        old: None,
                    };
                    translate(&ev).is_some()
                })
                .map(|o| ("ADDED".to_string(), o))
                .collect()
        } else {
            let from: u64 = rv.parse().unwrap_or(0);
            if let Some(first) = st.events.front()
                && from + 1 < first.rv
            {
                let e = ApiError::new(
                    410,
                    "Expired",
                    format!("too old resource version: {from} ({})", first.rv - 1),
                );
                return error_response(&e);
            }
            st.events
                .iter()
                .filter(|e| e.rv > from)
                .filter_map(|e| translate(e).map(|t| (t.to_string(), e.object.clone())))
                .collect()
        };
        (initial, rx, st.rv)
    };
    let (tx, body_rx) = mpsc::channel::<Bytes>(64);
    let line = |t: &str, o: &Value| Bytes::from(format!("{}\n", json!({"type": t, "object": o})));
    tokio::spawn(async move {
        for (t, o) in initial {
            if tx.send(line(&t, &o)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut last_rv = start_rv;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                _ = tick.tick(), if bookmarks => {
                    let bm = json!({"kind": r.kind, "apiVersion": r.api_version(), "metadata": {"resourceVersion": last_rv.to_string()}});
                    if tx.send(line("BOOKMARK", &bm)).await.is_err() { break; }
                }
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        last_rv = ev.rv;
                        if ev.rv > start_rv && let Some(t) = translate(&ev) && tx.send(line(t, &ev.object)).await.is_err() {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(_) => break,
                },
            }
        }
    });
    let stream = futures::stream::unfold(body_rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    let mut resp = Response::new(StreamBody::new(stream).boxed_unsync());
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        "transfer-encoding",
        hyper::header::HeaderValue::from_static("chunked"),
    );
    resp
}

async fn faults_endpoint(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let f = &shared.faults;
    let current = |f: &Faults| json!({"dropTunnelAfter": f.drop_tunnel_after(), "frameLatencyMs": f.frame_latency().as_millis() as u64, "apiLatencyMs": f.api_latency().as_millis() as u64});
    if req.method() == Method::GET {
        return json_response(200, &current(f));
    }
    if req.method() == Method::DELETE {
        f.clear();
        return json_response(200, &current(f));
    }
    let body = match read_body(req).await.and_then(|(_, b)| parse_json(&b)) {
        Ok(b) => b,
        Err(e) => return error_response(&e),
    };
    if body["clear"].as_bool() == Some(true) {
        f.clear();
    }
    if let Some(v) = body.get("dropTunnelAfter") {
        f.set_drop_tunnel_after(v.as_u64());
    }
    if let Some(ms) = body.get("frameLatencyMs").and_then(Value::as_u64) {
        f.set_frame_latency(Duration::from_millis(ms));
    }
    if let Some(ms) = body.get("apiLatencyMs").and_then(Value::as_u64) {
        f.set_api_latency(Duration::from_millis(ms));
    }
    for rule in body["fail"].as_array().into_iter().flatten() {
        let Some(prefix) = rule["pathPrefix"].as_str() else {
            continue;
        };
        let status = rule["status"].as_u64().unwrap_or(500) as u16;
        f.set_fail(rule["method"].as_str(), prefix, status);
    }
    json_response(200, &current(f))
}
