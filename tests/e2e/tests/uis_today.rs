//! The suite on apps and output contracts of UIS as it runs today (issue
//! 21): an app `./uis configure postgresql --app legacy --namespace legacy
//! --secret-name-prefix legacy` made is adopted, never silently rotated;
//! `uis db configure --json` parses with UIS's own field names; UIS's
//! command forms run through the `uis` dispatcher.

use uis_e2e::{Env, base64_encode};

/// What `./uis configure postgresql --app APP --namespace NS
/// --secret-name-prefix PREFIX` leaves behind (configure-postgresql.sh):
/// role APP (`-` as `_`), database `<role>_db` owned by it with ALL granted,
/// the namespace, and Secret `NS/PREFIX-db` whose one key DATABASE_URL is
/// the in-cluster URL, labelled app.kubernetes.io/managed-by=uis. Returns
/// the password.
fn uis_configured_app(env: &Env, app: &str, ns: &str, prefix: &str) -> String {
    let role = app.replace('-', "_");
    let db = format!("{role}_db");
    let password = uis_harness::pg::random_alnum(32);
    let mut c = env.pg.connect("postgres");
    for sql in [
        format!("CREATE USER \"{role}\" WITH PASSWORD '{password}'"),
        format!("CREATE DATABASE \"{db}\" OWNER \"{role}\""),
        format!("GRANT ALL PRIVILEGES ON DATABASE \"{db}\" TO \"{role}\""),
    ] {
        c.batch_execute(&sql).unwrap();
    }
    uis_e2e::remember_secret(&password);
    env.standin.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    let url =
        format!("postgresql://{role}:{password}@postgresql.default.svc.cluster.local:5432/{db}");
    env.standin.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("{prefix}-db"), "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "uis"}},
        "type": "Opaque",
        "data": {"DATABASE_URL": base64_encode(url.as_bytes())},
    }));
    password
}

/// The app's workloads: a Deployment reading the Secret through an env
/// var, a StatefulSet through envFrom, and a Deployment that does not.
fn workloads(env: &Env, ns: &str, secret: &str) {
    let pod = |spec: serde_json::Value| serde_json::json!({"metadata": {"labels": {"app": "x"}}, "spec": spec});
    env.standin.put(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "x"}},
            "template": pod(serde_json::json!({"containers": [{"name": "web", "image": "web:1",
                "env": [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": secret, "key": "DATABASE_URL"}}}]}]}))}}));
    env.standin.put(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "worker", "namespace": ns},
        "spec": {"replicas": 0, "serviceName": "worker", "selector": {"matchLabels": {"app": "x"}},
            "template": pod(serde_json::json!({"containers": [{"name": "w", "image": "w:1",
                "envFrom": [{"secretRef": {"name": secret}}]}]}))}}));
    env.standin.put(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "other", "namespace": ns},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "x"}},
            "template": pod(serde_json::json!({"containers": [{"name": "o", "image": "o:1"}]}))}}));
}

fn logs_in(env: &Env, user: &str, password: &str, db: &str) -> bool {
    let url = format!(
        "postgresql://{user}:{password}@127.0.0.1:{}/{db}",
        env.pg.port
    );
    env.psql(&[&url, "-At", "-c", "select 1"]).code == 0
}

fn secret_url(env: &Env, ns: &str, name: &str) -> String {
    let s = env
        .standin
        .get("v1", "Secret", Some(ns), name)
        .expect("the Secret");
    let b64 = s["data"]["DATABASE_URL"].as_str().expect("DATABASE_URL");
    String::from_utf8(decode_b64(b64)).unwrap()
}

fn decode_b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

#[test]
fn a_legacy_app_keeps_its_password_and_rotates_only_loudly() {
    let env = Env::new();
    let old = uis_configured_app(&env, "legacy", "legacy", "legacy");
    workloads(&env, "legacy", "legacy-db");

    // psql and creds work before the suite ever configured it.
    let q = env.run(
        "uis-db-psql",
        &[
            "legacy",
            "--format",
            "csv",
            "-c",
            "select current_user as u, current_database() as d",
        ],
    );
    q.ok();
    assert_eq!(q.stdout.trim(), "u,d\nlegacy,legacy_db", "{}", q.stderr);
    assert!(q.stderr.contains("legacy/legacy-db"), "{}", q.stderr);
    let c = env.run("uis-db-creds", &["legacy", "--json"]);
    c.ok().no_secret_on_stderr(&[&old]);
    assert_eq!(c.json()["password"], old.as_str());
    assert_eq!(c.json()["database"], "legacy_db");

    // configure adopts the password: the running app's login keeps working.
    let out = env.run(
        "uis-db-configure",
        &[
            "legacy",
            "--namespace",
            "legacy",
            "--secret-name-prefix",
            "legacy",
            "--json",
        ],
    );
    out.ok().no_secret_on_stderr(&[&old, &env.pg.password]);
    let j = out.json();
    assert_eq!(j["password"], old.as_str(), "{}", out.stderr);
    assert_eq!(j["rotated"], false);
    assert_eq!(j["adopted_from"], "legacy/legacy-db");
    assert_eq!(j["secret_name"], "legacy-db");
    assert_eq!(j["secret_namespace"], "legacy");
    assert_eq!(j["env_var"], "DATABASE_URL");
    assert_eq!(j["restart"], serde_json::json!([]));
    assert!(!out.stderr.contains("NEW password"), "{}", out.stderr);
    assert!(logs_in(&env, "legacy", &old, "legacy_db"));
    assert!(secret_url(&env, "legacy", "legacy-db").contains(&format!(":{old}@")));
    // Now stored: psql and creds read the store.
    let c = env.run("uis-db-creds", &["legacy", "--json"]);
    c.ok();
    assert_eq!(c.json()["password"], old.as_str());
    assert!(
        !c.stderr.contains("not in the suite's store"),
        "{}",
        c.stderr
    );

    // A re-run changes nothing.
    let again = env.run(
        "uis-db-configure",
        &[
            "legacy",
            "--namespace",
            "legacy",
            "--secret-name-prefix",
            "legacy",
            "--json",
        ],
    );
    again.ok();
    assert_eq!(again.json()["password"], old.as_str());
    assert_eq!(
        again.json()["status"],
        "already_configured",
        "{}",
        again.stdout
    );
    assert!(
        again.json()["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    // --rotate: a new password, said in one line on stderr, with every
    // Secret updated and every workload reading them.
    let rot = env.run("uis-db-configure", &["legacy", "--rotate", "--json"]);
    rot.ok();
    let j = rot.json();
    let new = j["password"].as_str().unwrap().to_string();
    rot.no_secret_on_stderr(&[&old, &new]);
    assert_ne!(new, old);
    assert_eq!(j["rotated"], true);
    let lines: Vec<&str> = rot
        .stderr
        .lines()
        .filter(|l| l.contains("NEW password"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", rot.stderr);
    for s in ["legacy/legacy-db", "default/uis-db-legacy"] {
        assert!(lines[0].contains(s), "{}", lines[0]);
        assert!(
            j["secrets_updated"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == s),
            "{j}"
        );
    }
    let restart: Vec<&str> = j["restart"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        restart,
        ["deployment/web -n legacy", "statefulset/worker -n legacy"],
        "{j}"
    );
    assert!(
        lines[0].contains("deployment/web -n legacy"),
        "{}",
        lines[0]
    );
    assert!(secret_url(&env, "legacy", "legacy-db").contains(&format!(":{new}@")));
    assert!(logs_in(&env, "legacy", &new, "legacy_db"));
    assert!(!logs_in(&env, "legacy", &old, "legacy_db"));
}

#[test]
fn the_uis_secret_is_found_by_its_label_without_namespace_flags() {
    let env = Env::new();
    let old = uis_configured_app(&env, "shop-2", "shops", "shop2");
    let out = env.run("uis-db-configure", &["shop-2", "--json"]);
    out.ok().no_secret_on_stderr(&[&old]);
    let j = out.json();
    assert_eq!(j["password"], old.as_str(), "{}", out.stderr);
    assert_eq!(j["database"], "shop_2_db");
    assert_eq!(j["adopted_from"], "shops/shop2-db");
    assert_eq!(j["rotated"], false);
    assert!(logs_in(&env, "shop_2", &old, "shop_2_db"));
}

#[test]
fn a_role_without_a_working_password_gets_a_new_one_loudly() {
    let env = Env::new();
    let _old = uis_configured_app(&env, "lost", "lost", "lost");
    // The Secret UIS wrote is gone: nothing to adopt.
    assert!(env.standin.delete("v1", "Secret", Some("lost"), "lost-db"));
    let out = env.run(
        "uis-db-configure",
        &[
            "lost",
            "--namespace",
            "lost",
            "--secret-name-prefix",
            "lost",
            "--json",
        ],
    );
    out.ok();
    let j = out.json();
    assert_eq!(j["rotated"], true);
    let new = j["password"].as_str().unwrap();
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.contains("NEW password"))
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("no working password"), "{}", out.stderr);
    assert!(secret_url(&env, "lost", "lost-db").contains(&format!(":{new}@")));
}

#[test]
fn namespace_is_created_and_init_file_applied_as_the_owner() {
    let env = Env::new();
    let init = env.path("init.sql");
    std::fs::write(
        &init,
        "CREATE TABLE IF NOT EXISTS notes (id int primary key);\nINSERT INTO notes VALUES (1) ON CONFLICT DO NOTHING;\n",
    )
    .unwrap();
    let args = [
        "tmpl",
        "--namespace",
        "fresh-ns",
        "--secret-name-prefix",
        "tmpl",
        "--init-file",
        init.to_str().unwrap(),
        "--json",
    ];
    let out = env.run("uis-db-configure", &args);
    out.ok();
    let j = out.json();
    assert_eq!(j["init_applied"], true);
    assert_eq!(j["status"], "ok");
    assert!(
        env.standin
            .get("v1", "Namespace", None, "fresh-ns")
            .is_some()
    );
    let s = env
        .standin
        .get("v1", "Secret", Some("fresh-ns"), "tmpl-db")
        .unwrap();
    assert_eq!(
        s["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "uis"
    );
    let mut c = env.pg.connect("tmpl_db");
    let owner: String = c
        .query_one(
            "select tableowner::text from pg_tables where tablename = 'notes'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(owner, "tmpl");
    // Applied again on a re-run, and said so.
    let again = env.run("uis-db-configure", &args);
    again.ok();
    assert_eq!(again.json()["init_applied"], true);
    assert!(
        again.json()["message"]
            .as_str()
            .unwrap()
            .contains("init file re-applied")
    );

    // On the create path a failing init file removes what the run created.
    let bad = env.path("bad.sql");
    std::fs::write(
        &bad,
        "CREATE TABLE t (id int);\nSELECT * FROM no_such_table;\n",
    )
    .unwrap();
    let out = env.run(
        "uis-db-configure",
        &["broken", "--init-file", bad.to_str().unwrap(), "--json"],
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("no_such_table"), "{}", out.stderr);
    let mut c = env.pg.connect("postgres");
    let left: i64 = c
        .query_one(
            "select (select count(*) from pg_database where datname = 'broken_db') + (select count(*) from pg_roles where rolname = 'broken')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-broken")
            .is_none()
    );

    // --namespace and --secret-name-prefix go together.
    let out = env.run("uis-db-configure", &["tmpl", "--namespace", "x"]);
    assert_eq!(out.code, 2);
}

/// The fields `./uis configure postgresql --json` prints (configure.sh,
/// configure-postgresql.sh, as uis-conventions.md records them), read by a
/// caller the way UIS's own tools read them.
#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct UisAddress {
    host: String,
    port: u16,
    database_url: String,
}

#[derive(serde::Deserialize, Debug)]
#[allow(dead_code)]
struct UisConfigure {
    status: String,
    service: String,
    local: UisAddress,
    cluster: UisAddress,
    database: String,
    username: String,
    password: String,
    secret_name: Option<String>,
    secret_namespace: Option<String>,
    env_var: Option<String>,
    init_applied: bool,
    rotated: bool,
    message: Option<String>,
}

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/uis-configure")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn configure_json_parses_with_uis_field_names() {
    // The fixture parses (the caller's model is right)...
    for f in ["create.json", "rerun.json"] {
        let v: serde_json::Value = serde_json::from_str(&fixture(f)).unwrap();
        let parsed: UisConfigure = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(parsed.service, "postgresql");
        assert_eq!(parsed.local.host, "host.docker.internal");
        assert_eq!(parsed.local.port, 35432);
        // ...and every top-level key of UIS's output is one the suite prints.
        let env = Env::new();
        let init = env.path("init.sql");
        std::fs::write(&init, "select 1;\n").unwrap();
        let args = [
            "myapp",
            "--namespace",
            "myapp",
            "--secret-name-prefix",
            "myapp",
            "--init-file",
            init.to_str().unwrap(),
            "--json",
        ];
        let first = env.run("uis-db-configure", &args);
        first.ok();
        let ours = if f == "create.json" {
            first.json()
        } else {
            let again = env.run("uis-db-configure", &args);
            again.ok();
            again.json()
        };
        let p: UisConfigure = serde_json::from_value(ours.clone()).unwrap();
        assert_eq!(p.local.host, "host.docker.internal");
        assert_eq!(p.local.port, 35432);
        assert!(
            p.local
                .database_url
                .contains("@host.docker.internal:35432/myapp_db")
        );
        assert_eq!(ours["localhost"]["host"], "localhost");
        assert_eq!(p.cluster.host, "postgresql.default.svc.cluster.local");
        for (k, theirs) in v.as_object().unwrap() {
            let mine = &ours[k];
            assert!(!mine.is_null(), "{f}: field {k} missing in {ours}");
            assert_eq!(
                std::mem::discriminant(mine),
                std::mem::discriminant(theirs),
                "{f}: field {k} has another JSON type"
            );
            if let Some(o) = theirs.as_object() {
                for k2 in o.keys() {
                    assert!(!mine[k2].is_null(), "{f}: {k}.{k2} missing");
                }
            }
        }
        for k in ["admin", "next_steps", "credentials"] {
            assert!(!ours[k].is_null(), "{k}");
        }
        assert_eq!(p.secret_name.as_deref(), Some("myapp-db"));
        assert_eq!(p.env_var.as_deref(), Some("DATABASE_URL"));
        assert!(p.init_applied);
        assert!(!p.rotated);
        assert_eq!(p.message.is_some(), f == "rerun.json");
        assert_eq!(p.status, v["status"].as_str().unwrap());
    }
}

#[test]
fn postgrest_manifests_match_uis_template_today() {
    let env = Env::new();
    env.standin.register_ingressroute_crd();
    env.run("uis-db-configure", &["shop", "--json"]).ok();
    let manifests = |env: &Env| {
        let out = env.run("uis-postgrest-deploy", &["shop", "--dry-run", "--json"]);
        out.ok();
        out.json()["manifests"].as_array().unwrap().clone()
    };
    let set_domain = |domain: &str| {
        let mut s = env
            .standin
            .get("v1", "Secret", Some("default"), "urbalurba-secrets")
            .unwrap();
        s["data"]["BASE_DOMAIN_CLOUDFLARE"] = base64_encode(domain.as_bytes()).into();
        if let Some(m) = s["metadata"].as_object_mut() {
            m.retain(|k, _| k == "name" || k == "namespace" || k == "labels");
        }
        env.standin.put(s);
    };
    for (domain, want) in [
        ("example.org", Some("https://api-shop.example.org")),
        ("your-domain.com", None),
        ("dev.localhost", None),
        ("", None),
    ] {
        set_domain(domain);
        let m = manifests(&env);
        let secret = &m[0];
        assert_eq!(
            secret["stringData"]["PGRST_OPENAPI_SERVER_PROXY_URI"].as_str(),
            want,
            "{domain}"
        );
        let dep = &m[1];
        let env_vars = dep["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        let proxy = env_vars
            .iter()
            .find(|e| e["name"] == "PGRST_OPENAPI_SERVER_PROXY_URI")
            .expect("bound");
        assert_eq!(proxy["valueFrom"]["secretKeyRef"]["optional"], true);
        let jwt = env_vars
            .iter()
            .find(|e| e["name"] == "PGRST_JWT_SECRET")
            .expect("the JWT secret stays bound");
        assert_eq!(jwt["valueFrom"]["secretKeyRef"]["name"], "shop-postgrest");
        let a = &dep["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(
            (
                &a["prometheus.io/scrape"],
                &a["prometheus.io/port"],
                &a["prometheus.io/path"]
            ),
            (&"true".into(), &"3001".into(), &"/metrics".into())
        );
        let ports: Vec<(String, i64)> = m[2]["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().into(),
                    p["port"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ports, [("api".into(), 3000), ("admin".into(), 3001)]);
        assert_eq!(m[3]["metadata"]["namespace"], "postgrest");
        assert_eq!(m[3]["spec"]["routes"][0]["services"][0]["port"], 3000);
    }
}
