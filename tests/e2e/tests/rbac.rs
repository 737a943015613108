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
//! The stand-in enforces no RBAC: `uis_e2e::rbac` (tests/e2e/src/rbac.rs)
//! models the real authorizer (RBAC's rule matching, the discovery
//! ClusterRoles every authenticated user has, the extra `create` checks of
//! server-side apply and of WebSocket exec/port-forward). It is not a real
//! cluster.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;
use uis_e2e::Env;
use uis_e2e::rbac::*;

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
        text.contains(&format!("running psql in pod default/{}", env.pg_pod)),
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
