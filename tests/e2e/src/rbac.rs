//! A model of the kube-apiserver's authorizer, for the RBAC tests of
//! `tests/rbac.rs`: the RBAC rules a manifest binds to a group ([`policy`],
//! plus the discovery ClusterRoles every authenticated user has,
//! [`builtin_rules`]), the request-info resolver that turns a logged request
//! into authorization attributes ([`request_info`]), RBAC's rule matching
//! ([`allows`]), the extra `create` checks of server-side apply and of
//! WebSocket exec/port-forward ([`checks_of`]), and the two checks the tests
//! make of a flow ([`verify`]): every request allowed, every granted verb
//! used. The stand-in enforces no RBAC; this is a model, not a real cluster.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::Env;

/// The YAML between `<!-- NAME -->` and `<!-- /NAME -->` in a ```yaml fence.
pub fn doc_block(doc: &str, name: &str) -> String {
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

pub fn parse_yaml(text: &str, what: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------
// The policy: RBAC rules and where they apply.

#[derive(Debug, Clone)]
pub struct Rule {
    /// `deploy/rbac.yaml: Role default/uis-operator, rule 2`.
    pub origin: String,
    /// `Role default/uis-operator`.
    pub role: String,
    /// `Some(ns)`: bound by a RoleBinding, applies in `ns` only; `None`:
    /// bound by a ClusterRoleBinding, applies everywhere.
    pub scope: Option<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
    pub verbs: Vec<String>,
    /// One of the default ClusterRoles, not part of the manifest.
    pub builtin: bool,
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
pub fn builtin_rules() -> Vec<Rule> {
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
pub fn policy(docs: &[Value], what: &str, group: &str) -> Vec<Rule> {
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
pub struct Attrs {
    pub resource_request: bool,
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    pub path: String,
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

/// The first value of `key` in the query string `q` (form-decoded, as Go's
/// `url.ParseQuery`).
pub fn query_value(q: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Go's strconv.ParseBool, as the list options decoder uses it.
pub fn parse_bool(s: &str) -> bool {
    matches!(s, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

/// k8s.io/apiserver's RequestInfoFactory.NewRequestInfo with the API
/// prefixes `api` (groupless) and `apis`: `/api/v1/namespaces/NS/RES/NAME/SUB`,
/// `/apis/GROUP/VERSION/...`; `/api`, `/apis`, `/api/v1`, `/apis/G/V`,
/// `/version`, `/openapi/...` are non-resource requests whose verb is the
/// lowercase HTTP method.
pub fn request_info(method: &str, path: &str, query: &str) -> Attrs {
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
pub fn allows(r: &Rule, a: &Attrs) -> bool {
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
pub fn used_by(r: &Rule, a: &Attrs) -> (String, String, String) {
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
pub type Key = (String, String, String, String);

pub fn key_of(a: &Attrs) -> Key {
    let ns = if a.resource == "namespaces" {
        String::new()
    } else {
        a.namespace.clone()
    };
    (a.api_group.clone(), a.resource.clone(), ns, a.name.clone())
}

/// The objects the stand-in holds now, from its snapshot lines
/// (`group/plural ns/name rv=N`).
pub fn existing(env: &Env) -> BTreeSet<Key> {
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
pub type Used = BTreeSet<(usize, String, String, String)>;

/// One logged request, its attributes and the authorization checks a real
/// API server makes for it.
pub struct Checked {
    pub request: String,
    pub checks: Vec<(Attrs, &'static str)>,
}

/// Every request of `log` with its checks. `objects` is what existed before
/// the first request; it is kept up to date from the writes in the log. (A
/// POST would be `create` with no name, as the API server sees it too; the
/// suite sends none.)
pub fn checks_of(log: &[(String, String, String)], mut objects: BTreeSet<Key>) -> Vec<Checked> {
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
pub fn authorize(requests: &[Checked], rules: &[Rule]) -> (Vec<String>, Used) {
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
pub fn unused(rules: &[Rule], used: &Used, wanted: &dyn Fn(&Rule) -> bool) -> Vec<String> {
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
pub const READ_VERBS: [&str; 3] = ["get", "list", "watch"];
/// The subresources whose `create` opens a connection to a pod (the extra
/// check of a WebSocket upgrade) rather than making an object.
pub const CONNECT_SUBRESOURCES: [&str; 2] = ["pods/portforward", "pods/exec"];

/// Every grant of the manifest `rules` that is not read-only: a verb other
/// than get/list/watch (except `create` on pods/portforward and pods/exec),
/// or a wildcard.
pub fn writes(rules: &[Rule]) -> Vec<String> {
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
pub fn verify(
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

pub fn apply_and_read_back(env: &Env, file: &Path, docs: &[Value]) {
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
