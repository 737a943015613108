//! deploy/rbac.yaml is the least RBAC the suite needs, checked against what
//! the real binaries ask of the Kubernetes API (issue: RBAC).
//!
//! The whole flow runs against the stand-in: configure with PostgREST roles,
//! seed, psql, creds in every format, the tunnel, postgrest deploy (status,
//! both rotations, a failing rollout and its diagnosis, undeploy, purge), jwt
//! mint, configure --rotate, doctor and configure --purge. Every request the
//! stand-in logged is turned into the attributes the kube-apiserver
//! authorizes (its request-info resolver, below), and then
//! (a) every request must be allowed by the rules the manifest binds to the
//!     group `uis-operators`, and
//! (b) every verb of every rule must be used by at least one request.
//! The optional extras of docs/security.md get the same two checks with the
//! flows that need them, and the doc must show deploy/rbac.yaml verbatim.
//!
//! deploy/rbac-app.yaml (the group `uis-developers`) gets them too, with an
//! app developer's day: after an operator configured and deployed the app,
//! creds, tunnel, psql (with --jwt), seed, jwt mint and doctor. It must also
//! only read: get/list/watch, plus `create` on pods/portforward or
//! pods/exec, and no wildcard. The doc must show it verbatim too.
//!
//! The stand-in enforces no RBAC: this models the real authorizer (RBAC's
//! rule matching, the discovery ClusterRoles every authenticated user has,
//! the extra `create` checks of server-side apply and of WebSocket
//! exec/port-forward). It is not a real cluster.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use uis_e2e::Env;

/// The group deploy/rbac.yaml binds (its placeholder subject).
const GROUP: &str = "uis-operators";
/// The group deploy/rbac-app.yaml binds.
const DEV_GROUP: &str = "uis-developers";
const APP: &str = "rbac-demo";
/// The app of the day-to-day flow.
const DEV_APP: &str = "rbac-dev";
/// The optional extras' example: app, namespace and Secret prefix `my-app`.
const COMPAT_APP: &str = "my-app";
const COMPAT_NS: &str = "my-app";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The YAML between `<!-- NAME -->` and `<!-- /NAME -->` in a ```yaml fence.
fn doc_block(doc: &str, name: &str) -> String {
    let open = format!("<!-- {name} -->\n```yaml\n");
    let close = format!("```\n<!-- /{name} -->");
    let start = doc
        .find(&open)
        .unwrap_or_else(|| panic!("docs/security.md has no block opening with {open:?}"))
        + open.len();
    let end = doc[start..]
        .find(&close)
        .unwrap_or_else(|| panic!("docs/security.md: block {name} has no end {close:?}"))
        + start;
    doc[start..end].to_string()
}

fn parse_yaml(text: &str, what: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------
// The policy: RBAC rules and where they apply.

#[derive(Debug, Clone)]
struct Rule {
    /// `deploy/rbac.yaml: Role default/uis-operator, rule 2`.
    origin: String,
    /// `Role default/uis-operator`.
    role: String,
    /// `Some(ns)`: bound by a RoleBinding, applies in `ns` only; `None`:
    /// bound by a ClusterRoleBinding, applies everywhere.
    scope: Option<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    non_resource_urls: Vec<String>,
    verbs: Vec<String>,
    /// One of the default ClusterRoles, not part of the manifest.
    builtin: bool,
}

impl Rule {
    fn describe(&self) -> String {
        let what = if self.non_resource_urls.is_empty() {
            format!(
                "apiGroups {:?} resources {:?}{}",
                self.api_groups,
                self.resources,
                if self.resource_names.is_empty() {
                    String::new()
                } else {
                    format!(" resourceNames {:?}", self.resource_names)
                }
            )
        } else {
            format!("nonResourceURLs {:?}", self.non_resource_urls)
        };
        format!(
            "{} ({what} verbs {:?}, {})",
            self.origin,
            self.verbs,
            match &self.scope {
                Some(ns) => format!("in namespace {ns}"),
                None => "cluster-wide".to_string(),
            }
        )
    }
}

/// What every authenticated user may do by default: the ClusterRoles
/// `system:discovery` and `system:public-info-viewer`, bound to the group
/// `system:authenticated` on every cluster (kube-apiserver's bootstrap
/// policy).
fn builtin_rules() -> Vec<Rule> {
    let urls = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Rule {
            origin: "ClusterRole system:discovery (default, bound to system:authenticated)".into(),
            role: "ClusterRole system:discovery".into(),
            scope: None,
            api_groups: vec![],
            resources: vec![],
            resource_names: vec![],
            non_resource_urls: urls(&[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ]),
            verbs: vec!["get".into()],
            builtin: true,
        },
        Rule {
            origin:
                "ClusterRole system:public-info-viewer (default, bound to system:authenticated)"
                    .into(),
            role: "ClusterRole system:public-info-viewer".into(),
            scope: None,
            api_groups: vec![],
            resources: vec![],
            resource_names: vec![],
            non_resource_urls: urls(&["/healthz", "/livez", "/readyz", "/version", "/version/"]),
            verbs: vec!["get".into()],
            builtin: true,
        },
    ]
}

/// The rules `docs` bind to `group`, each with where it applies. Panics
/// when a binding names a role the file does not define, when a role is
/// bound by nothing, or when a binding is for someone else.
fn policy(docs: &[Value], what: &str, group: &str) -> Vec<Rule> {
    let mut roles: BTreeMap<(String, String, String), &Value> = BTreeMap::new();
    for d in docs {
        let kind = s(&d["kind"]);
        if kind == "Role" || kind == "ClusterRole" {
            let ns = if kind == "Role" {
                s(&d["metadata"]["namespace"])
            } else {
                String::new()
            };
            assert!(
                kind == "ClusterRole" || !ns.is_empty(),
                "{what}: Role {} has no namespace",
                s(&d["metadata"]["name"])
            );
            roles.insert((kind, ns, s(&d["metadata"]["name"])), d);
        }
    }
    let mut bound = BTreeSet::new();
    let mut out = Vec::new();
    for d in docs {
        let kind = s(&d["kind"]);
        if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
            continue;
        }
        let ns = s(&d["metadata"]["namespace"]);
        let name = s(&d["metadata"]["name"]);
        let subjects = d["subjects"].as_array().cloned().unwrap_or_default();
        assert!(
            subjects
                .iter()
                .any(|x| x["kind"] == "Group" && x["name"] == group),
            "{what}: {kind} {name} does not bind the group {group}"
        );
        let rr = &d["roleRef"];
        assert_eq!(
            rr["apiGroup"], "rbac.authorization.k8s.io",
            "{what}: {kind} {name}"
        );
        let role_kind = s(&rr["kind"]);
        assert!(
            role_kind == "ClusterRole" || kind == "RoleBinding",
            "{what}: a ClusterRoleBinding can only refer to a ClusterRole ({name})"
        );
        let role_ns = if role_kind == "Role" {
            ns.clone()
        } else {
            String::new()
        };
        let key = (role_kind.clone(), role_ns.clone(), s(&rr["name"]));
        let role = roles.get(&key).unwrap_or_else(|| {
            panic!(
                "{what}: {kind} {ns}/{name} refers to {role_kind} {}, which the file does not define",
                key.2
            )
        });
        bound.insert(key.clone());
        let scope = (kind == "RoleBinding").then(|| ns.clone());
        let shown = if role_ns.is_empty() {
            format!("{role_kind} {}", key.2)
        } else {
            format!("{role_kind} {role_ns}/{}", key.2)
        };
        for (i, r) in role["rules"].as_array().into_iter().flatten().enumerate() {
            let rule = Rule {
                origin: format!("{what}: {shown}, rule {}", i + 1),
                role: shown.clone(),
                scope: scope.clone(),
                api_groups: strings(&r["apiGroups"]),
                resources: strings(&r["resources"]),
                resource_names: strings(&r["resourceNames"]),
                non_resource_urls: strings(&r["nonResourceURLs"]),
                verbs: strings(&r["verbs"]),
                builtin: false,
            };
            assert!(
                rule.scope.is_none() || rule.non_resource_urls.is_empty(),
                "{what}: nonResourceURLs only work in a ClusterRole bound by a ClusterRoleBinding: {}",
                rule.describe()
            );
            out.push(rule);
        }
    }
    for key in roles.keys() {
        assert!(
            bound.contains(key),
            "{what}: {} {} is bound to nothing",
            key.0,
            key.2
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Requests as the kube-apiserver authorizes them.

/// The authorization attributes of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Attrs {
    resource_request: bool,
    verb: String,
    api_group: String,
    resource: String,
    subresource: String,
    namespace: String,
    name: String,
    path: String,
}

impl std::fmt::Display for Attrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.resource_request {
            return write!(f, "non-resource {} {}", self.verb, self.path);
        }
        let res = if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        write!(
            f,
            "{} {}{res}",
            self.verb,
            if self.api_group.is_empty() {
                String::new()
            } else {
                format!("{}/", self.api_group)
            }
        )?;
        if !self.name.is_empty() {
            write!(f, " {:?}", self.name)?;
        }
        if !self.namespace.is_empty() {
            write!(f, " in namespace {}", self.namespace)?;
        }
        Ok(())
    }
}

/// `application/x-www-form-urlencoded` decoding.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn query_value(q: &str, key: &str) -> Option<String> {
    query_pairs(q)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Go's strconv.ParseBool, as the list options decoder uses it.
fn parse_bool(s: &str) -> bool {
    matches!(s, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

/// k8s.io/apiserver's RequestInfoFactory.NewRequestInfo with the API
/// prefixes `api` (groupless) and `apis`: `/api/v1/namespaces/NS/RES/NAME/SUB`,
/// `/apis/GROUP/VERSION/...`; `/api`, `/apis`, `/api/v1`, `/apis/G/V`,
/// `/version`, `/openapi/...` are non-resource requests whose verb is the
/// lowercase HTTP method.
fn request_info(method: &str, path: &str, query: &str) -> Attrs {
    let mut a = Attrs {
        verb: method.to_ascii_lowercase(),
        path: path.to_string(),
        ..Default::default()
    };
    let trimmed = path.trim_matches('/');
    let parts: Vec<&str> = if trimmed.is_empty() {
        vec![]
    } else {
        trimmed.split('/').collect()
    };
    if parts.len() < 3 || !(parts[0] == "api" || parts[0] == "apis") {
        return a;
    }
    let mut cur = &parts[1..];
    if parts[0] == "apis" {
        if cur.len() < 3 {
            return a;
        }
        a.api_group = cur[0].to_string();
        cur = &cur[1..];
    }
    a.resource_request = true;
    cur = &cur[1..]; // the version
    if cur[0] == "proxy" || cur[0] == "watch" {
        assert!(
            cur.len() >= 2,
            "unable to determine kind and namespace from {path}"
        );
        a.verb = cur[0].to_string();
        cur = &cur[1..];
    } else {
        a.verb = match method {
            "POST" => "create",
            "GET" | "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        }
        .to_string();
    }
    if cur[0] == "namespaces" && cur.len() > 1 {
        a.namespace = cur[1].to_string();
        if cur.len() > 2 && !["status", "finalize"].contains(&cur[2]) {
            cur = &cur[2..];
        }
    }
    if cur.len() >= 3 && a.verb != "proxy" {
        a.subresource = cur[2].to_string();
    }
    if cur.len() >= 2 {
        a.name = cur[1].to_string();
    }
    if !cur.is_empty() {
        a.resource = cur[0].to_string();
    }
    if a.name.is_empty() && a.verb == "get" {
        a.verb = if query_value(query, "watch").is_some_and(|w| parse_bool(&w)) {
            "watch"
        } else {
            "list"
        }
        .to_string();
        if let Some(fs) = query_value(query, "fieldSelector") {
            for req in fs.split(',') {
                if let Some(n) = req
                    .strip_prefix("metadata.name==")
                    .or_else(|| req.strip_prefix("metadata.name="))
                    && !n.is_empty()
                    && !n.contains('/')
                    && n != "."
                    && n != ".."
                {
                    a.name = n.to_string();
                }
            }
        }
    }
    if a.name.is_empty() && a.verb == "delete" {
        a.verb = "deletecollection".to_string();
    }
    a
}

/// RBAC's rule matching (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac).
fn allows(r: &Rule, a: &Attrs) -> bool {
    if let Some(ns) = &r.scope
        && (!a.resource_request || a.namespace != *ns)
    {
        return false;
    }
    let verb = r.verbs.iter().any(|v| v == "*" || *v == a.verb);
    if !a.resource_request {
        return verb
            && r.non_resource_urls.iter().any(|u| {
                u == "*"
                    || *u == a.path
                    || u.strip_suffix('*').is_some_and(|p| a.path.starts_with(p))
            });
    }
    let group = r.api_groups.iter().any(|g| g == "*" || *g == a.api_group);
    let combined = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let resource = r.resources.iter().any(|x| {
        x == "*"
            || *x == combined
            || (!a.subresource.is_empty() && *x == format!("*/{}", a.subresource))
    });
    let name = r.resource_names.is_empty() || r.resource_names.contains(&a.name);
    verb && group && resource && name
}

/// Which (group, resource, verb) of a rule a check used.
fn used_by(r: &Rule, a: &Attrs) -> (String, String, String) {
    let verb = if r.verbs.contains(&a.verb) {
        a.verb.clone()
    } else {
        "*".into()
    };
    if !a.resource_request {
        let url = r
            .non_resource_urls
            .iter()
            .find(|u| **u == a.path)
            .or_else(|| {
                r.non_resource_urls
                    .iter()
                    .find(|u| u.strip_suffix('*').is_some_and(|p| a.path.starts_with(p)))
            })
            .cloned()
            .unwrap_or_else(|| "*".into());
        return ("nonResourceURL".into(), url, verb);
    }
    let group = if r.api_groups.contains(&a.api_group) {
        a.api_group.clone()
    } else {
        "*".into()
    };
    let combined = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let resource = if r.resources.contains(&combined) {
        combined
    } else if r.resources.contains(&format!("*/{}", a.subresource)) {
        format!("*/{}", a.subresource)
    } else {
        "*".into()
    };
    (group, resource, verb)
}

/// An object key: (group, resource, namespace, name), namespace empty for
/// cluster-scoped objects.
type Key = (String, String, String, String);

fn key_of(a: &Attrs) -> Key {
    let ns = if a.resource == "namespaces" {
        String::new()
    } else {
        a.namespace.clone()
    };
    (a.api_group.clone(), a.resource.clone(), ns, a.name.clone())
}

/// The objects the stand-in holds now, from its snapshot lines
/// (`group/plural ns/name rv=N`).
fn existing(env: &Env) -> BTreeSet<Key> {
    env.standin
        .snapshot()
        .iter()
        .filter_map(|line| {
            let mut it = line.split_whitespace();
            let (g, p) = it.next()?.rsplit_once('/')?;
            let (ns, name) = it.next()?.split_once('/')?;
            Some((g.into(), p.into(), ns.into(), name.into()))
        })
        .collect()
}

/// The (rule index, group, resource, verb) tuples requests used.
type Used = BTreeSet<(usize, String, String, String)>;

/// One logged request, its attributes and the authorization checks a real
/// API server makes for it.
struct Checked {
    request: String,
    checks: Vec<(Attrs, &'static str)>,
}

/// Every request of `log` with its checks. `objects` is what existed before
/// the first request; it is kept up to date from the writes in the log. (A
/// POST would be `create` with no name, as the API server sees it too; the
/// suite sends none.)
fn checks_of(log: &[(String, String, String)], mut objects: BTreeSet<Key>) -> Vec<Checked> {
    let mut out = Vec::new();
    for (method, path, query) in log {
        let a = request_info(method, path, query);
        let mut checks = vec![(a.clone(), "")];
        let ws_sub = ["exec", "attach", "portforward"].contains(&a.subresource.as_str());
        if a.resource_request && a.resource == "pods" && ws_sub && a.verb == "get" {
            // A WebSocket upgrade (kube-rs speaks no SPDY): Kubernetes 1.35+
            // (AuthorizePodWebsocketUpgradeCreatePermission) also checks
            // `create`, as for SPDY's POST.
            let mut c = a.clone();
            c.verb = "create".into();
            checks.push((
                c,
                " (the extra check of a WebSocket exec/port-forward, 1.35+)",
            ));
        }
        if method == "PATCH" {
            // Every PATCH the suite sends is a server-side apply
            // (kube's PatchParams::apply("uis").force()); the log has no
            // content type, so the query says it.
            assert!(
                query_value(query, "fieldManager").as_deref() == Some("uis")
                    && query_value(query, "force").as_deref() == Some("true"),
                "PATCH {path}?{query} is not a server-side apply with field manager uis: \
                 the RBAC model of this test only knows apply patches"
            );
            if objects.insert(key_of(&a)) {
                // Apply creates a missing object; the API server then also
                // checks `create` for that name (handlers/patch.go).
                let mut c = a.clone();
                c.verb = "create".into();
                checks.push((c, " (server-side apply created the object)"));
            }
        }
        if a.verb == "delete" {
            objects.remove(&key_of(&a));
        }
        out.push(Checked {
            request: format!(
                "{method} {path}{}",
                if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                }
            ),
            checks,
        });
    }
    out
}

/// The checks of `requests` against `rules`: failures (a request no rule
/// allows) and the (rule, group, resource, verb) tuples used.
fn authorize(requests: &[Checked], rules: &[Rule]) -> (Vec<String>, Used) {
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    for req in requests {
        for (a, why) in &req.checks {
            let mut ok = false;
            for (i, r) in rules.iter().enumerate() {
                if allows(r, a) {
                    ok = true;
                    let (g, res, v) = used_by(r, a);
                    used.insert((i, g, res, v));
                }
            }
            if !ok {
                let near: Vec<String> = rules
                    .iter()
                    .filter(|r| !r.builtin)
                    .filter(|r| {
                        a.resource_request
                            && r.scope.as_ref().is_none_or(|ns| *ns == a.namespace)
                            && r.resources
                                .iter()
                                .any(|x| x.split('/').next() == Some(&a.resource))
                    })
                    .map(|r| format!("\n      nearest: {}", r.describe()))
                    .collect();
                failures.push(format!(
                    "{} needs `{a}`{why}: no rule allows it{}",
                    req.request,
                    if near.is_empty() {
                        format!(
                            "\n      (no rule for {} {})",
                            if a.resource_request {
                                "resource"
                            } else {
                                "path"
                            },
                            if a.resource_request {
                                a.resource.clone()
                            } else {
                                a.path.clone()
                            }
                        )
                    } else {
                        near.concat()
                    }
                ));
            }
        }
    }
    (failures, used)
}

/// Every (group, resource, verb) of the manifest rules `wanted` picks that
/// no request used.
fn unused(rules: &[Rule], used: &Used, wanted: &dyn Fn(&Rule) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if r.builtin || !wanted(r) {
            continue;
        }
        let targets: Vec<(String, String)> = if r.non_resource_urls.is_empty() {
            r.api_groups
                .iter()
                .flat_map(|g| r.resources.iter().map(move |x| (g.clone(), x.clone())))
                .collect()
        } else {
            r.non_resource_urls
                .iter()
                .map(|u| ("nonResourceURL".to_string(), u.clone()))
                .collect()
        };
        for (g, res) in &targets {
            for v in &r.verbs {
                if !used.contains(&(i, g.clone(), res.clone(), v.clone())) {
                    out.push(format!(
                        "{} grants `{v}` on {}{res}, but no request of the flow used it: remove it\n      rule: {}",
                        r.origin,
                        if g.is_empty() || g == "nonResourceURL" {
                            String::new()
                        } else {
                            format!("{g}/")
                        },
                        r.describe()
                    ));
                }
            }
        }
    }
    out
}

/// Verbs that only read.
const READ_VERBS: [&str; 3] = ["get", "list", "watch"];
/// The subresources whose `create` opens a connection to a pod (the extra
/// check of a WebSocket upgrade) rather than making an object.
const CONNECT_SUBRESOURCES: [&str; 2] = ["pods/portforward", "pods/exec"];

/// Every grant of the manifest `rules` that is not read-only: a verb other
/// than get/list/watch (except `create` on pods/portforward and pods/exec),
/// or a wildcard.
fn writes(rules: &[Rule]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rules.iter().filter(|r| !r.builtin) {
        let wild = |v: &[String]| v.iter().any(|x| x.contains('*'));
        if wild(&r.api_groups) || wild(&r.resources) || wild(&r.non_resource_urls) {
            out.push(format!("{} has a wildcard", r.describe()));
        }
        for v in &r.verbs {
            let connect = v == "create"
                && r.api_groups == [""]
                && !r.resources.is_empty()
                && r.resources
                    .iter()
                    .all(|x| CONNECT_SUBRESOURCES.contains(&x.as_str()));
            if !READ_VERBS.contains(&v.as_str()) && !connect {
                out.push(format!("{} grants `{v}`", r.describe()));
            }
        }
    }
    out
}

/// Checks (a) and (b) for one phase of the flow, printing its requests:
/// every request allowed by `rules`, every verb of the rules `wanted` picks
/// used.
fn verify(
    phase: &str,
    env: &Env,
    objects: BTreeSet<Key>,
    rules: &[Rule],
    wanted: &dyn Fn(&Rule) -> bool,
) {
    let log = env.standin.request_log();
    assert!(!log.is_empty(), "{phase}: the stand-in logged no request");
    let requests = checks_of(&log, objects);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        for (a, why) in &r.checks {
            *seen.entry(format!("{a}{why}")).or_default() += 1;
        }
    }
    eprintln!("{phase}: {} requests, as RBAC sees them:", log.len());
    for (a, n) in &seen {
        eprintln!("  {n:4}  {a}");
    }
    let (failures, used) = authorize(&requests, rules);
    assert!(
        failures.is_empty(),
        "{phase}: {} request(s) the RBAC does not allow:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    let unused = unused(rules, &used, wanted);
    assert!(
        unused.is_empty(),
        "{phase}: the RBAC grants more than the suite uses:\n  {}",
        unused.join("\n  ")
    );
}

// ---------------------------------------------------------------------------
// Applying the manifest with the real kubectl and reading it back.

fn apply_and_read_back(env: &Env, file: &Path, docs: &[Value]) {
    let path = file.to_string_lossy().into_owned();
    let Some(out) = env.kubectl(&["apply", "--validate=false", "-f", &path]) else {
        uis_harness::missing_tool("kubectl", &format!("applying {path}"));
        return;
    };
    out.ok();
    let api = "rbac.authorization.k8s.io/v1";
    for kind in ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"] {
        let stored = env.standin.list(api, kind, None);
        let wanted: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
        for w in wanted {
            let name = s(&w["metadata"]["name"]);
            let ns = s(&w["metadata"]["namespace"]);
            let got = stored
                .iter()
                .find(|o| {
                    o["metadata"]["name"] == name.as_str() && s(&o["metadata"]["namespace"]) == ns
                })
                .unwrap_or_else(|| panic!("kubectl applied no {kind} {ns}/{name}: {}", out.stdout));
            for field in ["rules", "roleRef", "subjects"] {
                assert_eq!(
                    got[field], w[field],
                    "{kind} {ns}/{name}: {field} as stored differs from {path}"
                );
            }
        }
    }
    for d in docs.iter().filter(|d| d["kind"] == "Namespace") {
        let name = s(&d["metadata"]["name"]);
        assert!(
            env.standin.get("v1", "Namespace", None, &name).is_some(),
            "namespace {name}"
        );
    }
}

// ---------------------------------------------------------------------------
// The flow.

fn b64d(v: &Value) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .unwrap(),
    )
    .unwrap()
}

/// Makes `app`'s PostgREST rollout fail behind the suite's back: a key gone
/// from its Secret (the pods wait in CreateContainerConfigError) and a
/// crash-looping pod `<app>-postgrest-crashing` whose last log lines a
/// diagnosis reads.
fn break_the_rollout(env: &Env, app: &str) {
    let name = format!("{app}-postgrest");
    let mut secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), &name)
        .expect("the PostgREST Secret");
    secret["data"]
        .as_object_mut()
        .unwrap()
        .remove("PGRST_JWT_SECRET");
    env.standin.put(secret);
    env.standin.put(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-crashing"), "namespace": "postgrest",
            "labels": {"app.kubernetes.io/name": "postgrest", "app.kubernetes.io/instance": app}},
        "spec": {"containers": [{"name": "postgrest", "image": "postgrest/postgrest:v14.10"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "postgrest", "ready": false, "restartCount": 4,
            "image": "postgrest/postgrest:v14.10", "imageID": "",
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=postgrest"}}}]}
    }));
}

fn main_flow(env: &Env) {
    let run = |args: &[&str], bin_name: &str| {
        let o = env.run(bin_name, args);
        o.ok();
        o
    };
    // An app with its PostgREST roles.
    let out = run(
        &[
            APP,
            "--schemas",
            "app",
            "--with-roles",
            "postgrest",
            "--json",
        ],
        "uis-db-configure",
    );
    assert_eq!(out.json()["status"], "ok");
    // A small seed directory, as the owner.
    let d = items_seed(env, "seed");
    let out = run(&[APP, &d, "--json"], "uis-db-seed");
    assert_eq!(
        out.json()["applied"].as_array().map(Vec::len),
        Some(2),
        "{}",
        out.stdout
    );
    let out = run(
        &[
            APP,
            "-c",
            "select count(*) from app.items",
            "--format",
            "csv",
        ],
        "uis-db-psql",
    );
    assert_eq!(out.stdout, "count\n2\n");
    // Credentials in every format, the PostgREST role's and the superuser's.
    for f in ["json", "url", "env", "libpq", "pgpass", "jdbc"] {
        run(&[APP, "--format", f], "uis-db-creds");
    }
    run(
        &[
            APP,
            "--role",
            "authenticator",
            "--format",
            "env",
            "--cluster",
        ],
        "uis-db-creds",
    );
    run(&["--admin", "--format", "url"], "uis-db-creds");
    let out = run(&["--list", "--json"], "uis-db-creds");
    assert_eq!(out.json()["apps"], json!([APP]));
    // The tunnel, briefly, with the real psql through it.
    {
        let tunnel = env.tunnel(&[APP]);
        let q = env.psql(&[&tunnel.url(), "-At", "-c", "select count(*) from app.items"]);
        q.ok();
        assert_eq!(q.stdout.trim(), "2");
    }
    // PostgREST.
    let out = run(&[APP, "--schemas", "app", "--json"], "uis-postgrest-deploy");
    assert_eq!(out.json()["status"], "ok");
    run(&[APP, "--status", "--json"], "uis-postgrest-deploy");
    let anon = run(&[APP, "--role", "anon"], "uis-jwt-mint")
        .stdout
        .trim()
        .to_string();
    run(&[APP, "--verify", &anon], "uis-jwt-mint");
    let env_file = env.path(".env");
    run(
        &[APP, "--write-env", env_file.to_str().unwrap()],
        "uis-jwt-mint",
    );
    let out = run(
        &[
            APP,
            "--jwt",
            &anon,
            "-c",
            "select count(*) from items",
            "--format",
            "csv",
        ],
        "uis-db-psql",
    );
    assert_eq!(out.stdout, "count\n2\n");
    run(
        &[APP, "--rotate-jwt-secret", "--json"],
        "uis-postgrest-deploy",
    );
    run(
        &[APP, "--rotate-password", "--json"],
        "uis-postgrest-deploy",
    );
    run(&[APP, "--rotate", "--json"], "uis-db-configure");
    let out = run(&[APP, "--json"], "uis-db-doctor");
    assert_eq!(out.json()["status"], "pass", "{}", out.stdout);

    // A rollout that fails, and why.
    break_the_rollout(env, APP);
    let out = env.run(
        "uis-postgrest-deploy",
        &[APP, "--status", "--timeout", "1", "--json"],
    );
    out.expect_code(1);
    for why in ["CreateContainerConfigError", "CrashLoopBackOff"] {
        assert!(out.stderr.contains(why), "{why}: {}", out.stderr);
    }
    let out = env.run("uis-db-doctor", &[APP, "--json"]);
    out.expect_code(1);
    assert!(out.stdout.contains("CrashLoopBackOff"), "{}", out.stdout);
    env.standin.delete(
        "v1",
        "Pod",
        Some("postgrest"),
        &format!("{APP}-postgrest-crashing"),
    );
    // A deploy puts the key back.
    run(&[APP, "--json"], "uis-postgrest-deploy");

    // Removal.
    run(&[APP, "--undeploy", "--json"], "uis-postgrest-deploy");
    run(&[APP, "--purge", "--yes", "--json"], "uis-postgrest-deploy");
    let out = run(&[APP, "--purge", "--yes", "--json"], "uis-db-configure");
    assert_eq!(out.json()["status"], "purged");
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), &format!("uis-db-{APP}"))
            .is_none()
    );
}

/// `uis-db-psql --as admin` on a pseudo-terminal (util-linux `script`) with
/// no psql on its PATH: psql runs in the pod through exec. False when
/// `script` is missing.
fn psql_through_exec(env: &Env) -> bool {
    let Some((code, text)) =
        env.psql_on_a_terminal("/nonexistent", "select 40 + 2 as answer;\n\\q\n")
    else {
        uis_harness::missing_tool("script(1) (util-linux)", "the pods/exec extra");
        return false;
    };
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("running psql in pod default/postgresql-0"),
        "{text}"
    );
    assert!(text.contains("42"), "{text}");
    true
}

fn extras_flow(env: &Env) -> bool {
    let run = |args: &[&str]| {
        let o = env.run("uis-db-configure", args);
        o.ok();
        o
    };
    run(&[
        COMPAT_APP,
        "--namespace",
        COMPAT_NS,
        "--secret-name-prefix",
        COMPAT_APP,
        "--json",
    ]);
    let url_secret = format!("{COMPAT_APP}-db");
    let url = |env: &Env| {
        env.standin
            .get("v1", "Secret", Some(COMPAT_NS), &url_secret)
            .map(|s| b64d(&s["data"]["DATABASE_URL"]))
    };
    let before = url(env).expect("the DATABASE_URL Secret");
    run(&[COMPAT_APP, "--rotate", "--json"]);
    assert_ne!(url(env).unwrap(), before, "--rotate keeps it in step");
    run(&[COMPAT_APP, "--purge", "--yes", "--json"]);
    assert!(url(env).is_none(), "--purge deletes it");
    psql_through_exec(env)
}

/// The operator's part before the day-to-day flow (deploy/rbac.yaml): the
/// app with its PostgREST roles, and PostgREST deployed for it.
fn operator_setup(env: &Env) {
    let out = env.run(
        "uis-db-configure",
        &[
            DEV_APP,
            "--schemas",
            "app",
            "--with-roles",
            "postgrest",
            "--json",
        ],
    );
    out.ok();
    assert_eq!(out.json()["status"], "ok");
    let out = env.run(
        "uis-postgrest-deploy",
        &[DEV_APP, "--schemas", "app", "--json"],
    );
    out.ok();
    assert_eq!(out.json()["status"], "ok");
}

/// An app developer's day with the read-only-on-the-cluster commands:
/// creds, seed, psql (with --jwt), the tunnel, jwt mint (--role, --verify,
/// --write-env) and doctor, on a healthy rollout and on a failing one.
fn day_to_day_flow(env: &Env) {
    let run = |bin_name: &str, args: &[&str]| {
        let o = env.run(bin_name, args);
        o.ok();
        o
    };
    // Credentials for the app's .env and a client, and the in-cluster URL.
    let out = run("uis-db-creds", &[DEV_APP, "--format", "env"]);
    assert!(out.stdout.contains("DATABASE_URL="), "{}", out.stdout);
    let out = run("uis-db-creds", &[DEV_APP, "--format", "url"]);
    assert!(out.stdout.starts_with("postgresql://"), "{}", out.stdout);
    run("uis-db-creds", &[DEV_APP, "--format", "url", "--cluster"]);
    let out = run("uis-db-creds", &[DEV_APP, "--json"]);
    assert!(out.json()["password"].is_string(), "{}", out.stdout);
    // The schema and some data, as the owner.
    let d = items_seed(env, "db");
    let out = run("uis-db-seed", &[DEV_APP, &d, "--json"]);
    assert_eq!(
        out.json()["applied"].as_array().map(Vec::len),
        Some(2),
        "{}",
        out.stdout
    );
    let out = run(
        "uis-db-psql",
        &[
            DEV_APP,
            "-c",
            "select count(*) from app.items",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.stdout, "count\n2\n");
    // The tunnel, briefly, with the real psql through it.
    {
        let tunnel = env.tunnel(&[DEV_APP]);
        let q = env.psql(&[
            &tunnel.url(),
            "-At",
            "-c",
            "select name from app.items where id = 1",
        ]);
        q.ok();
        assert_eq!(q.stdout.trim(), "one");
    }
    // Tokens: mint, verify, the app's .env, and a query as PostgREST runs it.
    let anon = run("uis-jwt-mint", &[DEV_APP, "--role", "anon"])
        .stdout
        .trim()
        .to_string();
    run("uis-jwt-mint", &[DEV_APP, "--verify", &anon]);
    let env_file = env.path(".env");
    run(
        "uis-jwt-mint",
        &[DEV_APP, "--write-env", env_file.to_str().unwrap()],
    );
    let written = std::fs::read_to_string(&env_file).unwrap();
    for key in ["JWT_SECRET=", "POSTGREST_ANON_JWT=", "POSTGREST_URL="] {
        assert!(written.contains(key), "{key} is not in the .env");
    }
    let out = run(
        "uis-db-psql",
        &[
            DEV_APP,
            "--jwt",
            &anon,
            "-c",
            "select count(*) from items",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.stdout, "count\n2\n");
    let out = run("uis-db-doctor", &[DEV_APP, "--json"]);
    assert_eq!(out.json()["status"], "pass", "{}", out.stdout);
    // PostgREST stops working (someone edited its Secret, a pod crash-loops):
    // doctor says why.
    break_the_rollout(env, DEV_APP);
    let out = env.run("uis-db-doctor", &[DEV_APP, "--json"]);
    out.expect_code(1);
    for why in ["CreateContainerConfigError", "CrashLoopBackOff"] {
        assert!(out.stdout.contains(why), "{why}: {}", out.stdout);
    }
}

/// deploy/NAME: its path and text, checked to be shown verbatim in
/// docs/security.md between `<!-- NAME -->` and `<!-- /NAME -->`.
fn manifest(doc: &str, name: &str) -> (PathBuf, String) {
    let path = root().join("deploy").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("deploy/{name}: {e}"));
    let shown = doc_block(doc, name);
    assert!(
        shown == text,
        "docs/security.md must show deploy/{name} verbatim between <!-- {name} --> and <!-- /{name} -->; \
         it differs at line {}",
        shown
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(shown.lines().count().min(text.lines().count()))
            + 1
    );
    (path, text)
}

#[test]
fn the_rbac_allows_every_request_of_the_suite_and_nothing_more() {
    let doc = std::fs::read_to_string(root().join("docs/security.md")).expect("docs/security.md");
    let (rbac_path, rbac) = manifest(&doc, "rbac.yaml");
    let extras = doc_block(&doc, "rbac-extras.yaml");
    let docs = parse_yaml(&rbac, "deploy/rbac.yaml");
    let extra_docs = parse_yaml(&extras, "the extras of docs/security.md");
    let mut rules = builtin_rules();
    rules.extend(policy(&docs, "deploy/rbac.yaml", GROUP));
    let mut all_docs = docs.clone();
    all_docs.extend(extra_docs.iter().cloned());
    let mut all_rules = builtin_rules();
    all_rules.extend(policy(&all_docs, "deploy/rbac.yaml + extras", GROUP));

    let env = Env::new();
    // The cluster admin's part: the manifest, and the app's own namespace.
    apply_and_read_back(&env, &rbac_path, &docs);
    env.standin
        .put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": COMPAT_NS}}));
    let extras_path = env.path("rbac-extras.yaml");
    std::fs::write(&extras_path, &extras).unwrap();
    apply_and_read_back(&env, &extras_path, &extra_docs);

    // The suite, as a member of the group.
    env.standin.clear_request_log();
    let objects = existing(&env);
    let start = Instant::now();
    main_flow(&env);
    eprintln!("the main flow took {:?}", start.elapsed());
    verify("deploy/rbac.yaml", &env, objects, &rules, &|_| true);

    env.standin.clear_request_log();
    let objects = existing(&env);
    let start = Instant::now();
    let exec_ran = extras_flow(&env);
    eprintln!("the extras' flow took {:?}", start.elapsed());
    // The extras' flows also use the main rules; only the extras' own rules
    // must be used in full here (the exec one only when it ran).
    let extra_roles: BTreeSet<String> = policy(&extra_docs, "extras", GROUP)
        .into_iter()
        .map(|r| r.role)
        .filter(|role| exec_ran || !role.ends_with("/uis-operator-exec"))
        .collect();
    verify(
        "deploy/rbac.yaml + extras",
        &env,
        objects,
        &all_rules,
        &|r: &Rule| extra_roles.contains(&r.role),
    );
}

#[test]
fn the_app_rbac_allows_the_day_to_day_commands_and_nothing_more() {
    let doc = std::fs::read_to_string(root().join("docs/security.md")).expect("docs/security.md");
    let (ops_path, ops) = manifest(&doc, "rbac.yaml");
    let (dev_path, dev) = manifest(&doc, "rbac-app.yaml");
    let ops_docs = parse_yaml(&ops, "deploy/rbac.yaml");
    let dev_docs = parse_yaml(&dev, "deploy/rbac-app.yaml");
    let mut ops_rules = builtin_rules();
    ops_rules.extend(policy(&ops_docs, "deploy/rbac.yaml", GROUP));
    let dev_policy = policy(&dev_docs, "deploy/rbac-app.yaml", DEV_GROUP);
    let written = writes(&dev_policy);
    assert!(
        written.is_empty(),
        "deploy/rbac-app.yaml must only read (get, list, watch; create only on pods/portforward \
         and pods/exec):\n  {}",
        written.join("\n  ")
    );
    let mut dev_rules = builtin_rules();
    dev_rules.extend(dev_policy);

    let env = Env::new();
    apply_and_read_back(&env, &ops_path, &ops_docs);
    apply_and_read_back(&env, &dev_path, &dev_docs);

    // The operator configures and deploys the app (allowed by rbac.yaml;
    // whether it uses all of it is the other test's business).
    env.standin.clear_request_log();
    let objects = existing(&env);
    operator_setup(&env);
    verify(
        "the operator's setup (deploy/rbac.yaml)",
        &env,
        objects,
        &ops_rules,
        &|_| false,
    );

    // The developer's day, as a member of uis-developers only.
    env.standin.clear_request_log();
    let objects = existing(&env);
    let start = Instant::now();
    day_to_day_flow(&env);
    eprintln!("the day-to-day flow took {:?}", start.elapsed());
    verify("deploy/rbac-app.yaml", &env, objects, &dev_rules, &|_| true);
}

#[test]
fn the_request_info_resolver_matches_the_api_servers() {
    let cases = [
        ("GET", "/version", "", "non-resource get /version"),
        (
            "GET",
            "/apis/traefik.io/v1alpha1",
            "",
            "non-resource get /apis/traefik.io/v1alpha1",
        ),
        ("GET", "/api/v1", "", "non-resource get /api/v1"),
        (
            "GET",
            "/api/v1/namespaces/default/pods",
            "&labelSelector=app.kubernetes.io%2Fname%3Dpostgresql",
            "list pods in namespace default",
        ),
        (
            "GET",
            "/api/v1/namespaces/default/pods/postgresql-0/portforward",
            "&ports=5432",
            "get pods/portforward \"postgresql-0\" in namespace default",
        ),
        (
            "GET",
            "/api/v1/namespaces/postgrest",
            "",
            "get namespaces \"postgrest\" in namespace postgrest",
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/postgrest/deployments/x",
            "&force=true&fieldManager=uis",
            "patch apps/deployments \"x\" in namespace postgrest",
        ),
        (
            "GET",
            "/apis/apps/v1/namespaces/postgrest/deployments",
            "&watch=true&fieldSelector=metadata.name%3Dx",
            "watch apps/deployments \"x\" in namespace postgrest",
        ),
        (
            "DELETE",
            "/api/v1/namespaces/default/secrets",
            "",
            "deletecollection secrets in namespace default",
        ),
        (
            "PUT",
            "/api/v1/namespaces/x/finalize",
            "",
            "update namespaces/finalize \"x\" in namespace x",
        ),
        ("GET", "/api/v1/nodes", "", "list nodes"),
    ];
    for (method, path, query, want) in cases {
        assert_eq!(
            request_info(method, path, query).to_string(),
            want,
            "{method} {path}?{query}"
        );
    }
    // Apply needs create when it makes the object, and a WebSocket
    // port-forward needs create too; a delete is seen.
    let log = vec![
        (
            "PATCH".to_string(),
            "/api/v1/namespaces/default/secrets/a".to_string(),
            "&force=true&fieldManager=uis".to_string(),
        ),
        (
            "PATCH".to_string(),
            "/api/v1/namespaces/default/secrets/a".to_string(),
            "&force=true&fieldManager=uis".to_string(),
        ),
        (
            "DELETE".to_string(),
            "/api/v1/namespaces/default/secrets/a".to_string(),
            String::new(),
        ),
        (
            "PATCH".to_string(),
            "/api/v1/namespaces/default/secrets/a".to_string(),
            "&force=true&fieldManager=uis".to_string(),
        ),
        (
            "GET".to_string(),
            "/api/v1/namespaces/default/pods/p/portforward".to_string(),
            "&ports=5432".to_string(),
        ),
    ];
    let verbs: Vec<Vec<String>> = checks_of(&log, BTreeSet::new())
        .iter()
        .map(|c| c.checks.iter().map(|(a, _)| a.verb.clone()).collect())
        .collect();
    assert_eq!(
        verbs,
        [
            vec!["patch", "create"],
            vec!["patch"],
            vec!["delete"],
            vec!["patch", "create"],
            vec!["get", "create"]
        ]
    );
    // Rule matching: scope, resourceNames, subresources.
    let rule = |scope: Option<&str>, res: &[&str], names: &[&str], verbs: &[&str]| Rule {
        origin: "test".into(),
        role: "Role test".into(),
        scope: scope.map(str::to_string),
        api_groups: vec![String::new()],
        resources: res.iter().map(|s| s.to_string()).collect(),
        resource_names: names.iter().map(|s| s.to_string()).collect(),
        non_resource_urls: vec![],
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        builtin: false,
    };
    let get_ns = request_info("GET", "/api/v1/namespaces/postgrest", "");
    assert!(allows(
        &rule(None, &["namespaces"], &["postgrest"], &["get"]),
        &get_ns
    ));
    assert!(!allows(
        &rule(None, &["namespaces"], &["other"], &["get"]),
        &get_ns
    ));
    let pf = request_info("GET", "/api/v1/namespaces/default/pods/p/portforward", "");
    assert!(allows(
        &rule(Some("default"), &["pods/portforward"], &[], &["get"]),
        &pf
    ));
    assert!(!allows(
        &rule(Some("default"), &["pods"], &[], &["get"]),
        &pf
    ));
    assert!(!allows(
        &rule(Some("postgrest"), &["pods/portforward"], &[], &["get"]),
        &pf
    ));
    assert!(allows(&rule(None, &["*/portforward"], &[], &["*"]), &pf));
    // Read-only: get/list/watch, and create only to connect to a pod.
    let ns = Some("default");
    assert!(writes(&[rule(ns, &["pods/portforward"], &[], &["get", "create"])]).is_empty());
    assert!(writes(&[rule(ns, &["secrets"], &[], &["get", "list", "watch"])]).is_empty());
    assert_eq!(
        writes(&[rule(ns, &["pods", "pods/exec"], &[], &["create"])]).len(),
        1
    );
    assert_eq!(
        writes(&[rule(ns, &["secrets"], &[], &["get", "patch", "delete"])]).len(),
        2
    );
    assert_eq!(writes(&[rule(ns, &["*"], &[], &["get"])]).len(), 1);
    assert_eq!(writes(&[rule(ns, &["secrets"], &[], &["*"])]).len(), 1);
}

/// A seed directory `name` in the env's temp dir: a table `app.items` and
/// two rows in it, as two files.
fn items_seed(env: &Env, name: &str) -> String {
    let dir = env.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("01-items.sql"),
        "create table app.items(id int primary key, name text);\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("02-data.sql"),
        "insert into app.items values (1, 'one'), (2, 'two');\n",
    )
    .unwrap();
    dir.to_string_lossy().into_owned()
}
