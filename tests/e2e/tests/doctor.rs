//! uis-db-doctor on a healthy onboarded app, then with F1, F8, F9 and F10
//! injected one at a time: exactly the matching check fails, with its fix
//! (issue: worked example and doctor).

use base64::Engine;
use std::collections::BTreeMap;
use uis_e2e::Env;

fn onboard(env: &Env) {
    env.run(
        "uis-db-configure",
        &[
            "railway",
            "--database",
            "railway",
            "--schemas",
            "railway,auth",
            "--extensions",
            "citext",
            "--json",
        ],
    )
    .ok();
    env.run(
        "uis-postgrest-deploy",
        &["railway", "--schemas", "railway", "--json"],
    )
    .ok();
    let mut c = env.admin_connect("railway");
    c.batch_execute(
        "create table railway.events(id int primary key, public bool);
         alter table railway.events enable row level security;
         create policy public_rows on railway.events for select to railway_web_anon using (public);",
    )
    .unwrap();
}

fn doctor(env: &Env) -> (i32, BTreeMap<String, (String, String)>) {
    let out = env.run("uis-db-doctor", &["railway", "--json"]);
    out.no_secret_on_stderr(&[&env.pg.password]);
    let j = out.json();
    let mut m = BTreeMap::new();
    for c in j["checks"].as_array().unwrap() {
        m.insert(
            c["id"].as_str().unwrap().to_string(),
            (
                c["status"].as_str().unwrap().to_string(),
                c["fix"].as_str().unwrap_or("").to_string(),
            ),
        );
    }
    (out.code, m)
}

fn failing(m: &BTreeMap<String, (String, String)>) -> Vec<String> {
    m.iter()
        .filter(|(_, (s, _))| s == "fail")
        .map(|(k, _)| k.clone())
        .collect()
}

#[test]
fn healthy_then_each_injected_friction_fails_exactly_its_check() {
    let env = Env::new();
    onboard(&env);
    let (code, m) = doctor(&env);
    assert_eq!(failing(&m), Vec::<String>::new(), "{m:?}");
    assert_eq!(code, 0);
    for id in [
        "cluster",
        "admin-secret",
        "database",
        "owner-privileges",
        "credential-store",
        "db-uri",
        "jwt-binding",
        "anon-role",
        "rls-roles",
        "jwt-secret",
        "deployment",
        "anon-token",
    ] {
        assert_eq!(m[id].0, "pass", "{id}: {m:?}");
    }

    // F1: the database is not owned by the app's owner.
    let mut admin = env.pg.connect("postgres");
    admin
        .batch_execute("ALTER DATABASE railway OWNER TO postgres")
        .unwrap();
    let (code, m) = doctor(&env);
    assert_eq!(code, 1);
    assert_eq!(failing(&m), ["owner-privileges"]);
    assert_eq!(
        m["owner-privileges"].1,
        "ALTER DATABASE \"railway\" OWNER TO \"railway\";"
    );
    admin
        .batch_execute(
            "ALTER DATABASE railway OWNER TO railway; GRANT CONNECT ON DATABASE railway TO railway",
        )
        .unwrap();
    assert_eq!(failing(&doctor(&env).1), Vec::<String>::new());

    // F8: policies TO anon while PostgREST's anon role is railway_web_anon.
    let mut db = env.pg.connect("railway");
    db.batch_execute("CREATE ROLE anon NOLOGIN; create policy anon_rows on railway.events for select to anon using (true);").unwrap();
    let (_, m) = doctor(&env);
    assert_eq!(failing(&m), ["rls-roles"]);
    assert!(
        m["rls-roles"].1.contains("--anon-role anon")
            && m["rls-roles"]
                .1
                .contains("GRANT \"anon\" TO \"railway_authenticator\";"),
        "{}",
        m["rls-roles"].1
    );
    db.batch_execute("drop policy anon_rows on railway.events; DROP ROLE anon;")
        .unwrap();
    assert_eq!(failing(&doctor(&env).1), Vec::<String>::new());

    // F9: a base64 password with + and / in PGRST_DB_URI.
    let mut secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
        .unwrap();
    let good_uri = secret["data"]["PGRST_DB_URI"].as_str().unwrap().to_string();
    let bad = "postgresql://railway_authenticator:otd1lnW8cjPI+p+/84bpx0LlE0kNZlOw@postgresql.default.svc.cluster.local:5432/railway";
    secret["data"]["PGRST_DB_URI"] = base64::engine::general_purpose::STANDARD.encode(bad).into();
    env.standin.put(secret.clone());
    let (_, m) = doctor(&env);
    assert_eq!(failing(&m), ["db-uri"]);
    assert_eq!(
        m["db-uri"].1,
        "uis postgrest deploy railway --rotate-password"
    );
    secret["data"]["PGRST_DB_URI"] = good_uri.into();
    env.standin.put(secret);
    assert_eq!(failing(&doctor(&env).1), Vec::<String>::new());

    // F10: the PGRST_JWT_SECRET env entry removed from the Deployment with kubectl.
    let d = env
        .standin
        .get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            "railway-postgrest",
        )
        .unwrap();
    let index = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["name"] == "PGRST_JWT_SECRET")
        .unwrap();
    let patch =
        format!(r#"[{{"op":"remove","path":"/spec/template/spec/containers/0/env/{index}"}}]"#);
    match env.kubectl(&[
        "patch",
        "deployment",
        "railway-postgrest",
        "-n",
        "postgrest",
        "--type=json",
        "-p",
        &patch,
    ]) {
        Some(k) => {
            k.ok();
        }
        None => {
            let mut d = d.clone();
            d["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array_mut()
                .unwrap()
                .remove(index);
            env.standin.put(d);
        }
    }
    let (_, m) = doctor(&env);
    // The pods now receive no secret: the binding check and the token
    // check (which verifies with what the pods receive) both fail.
    assert_eq!(failing(&m), ["anon-token", "jwt-binding"]);
    assert!(
        m["jwt-binding"]
            .1
            .starts_with("uis postgrest deploy railway"),
        "{:?}",
        m["jwt-binding"]
    );
    // The fix it names works.
    env.run(
        "uis-postgrest-deploy",
        &["railway", "--schemas", "railway", "--json"],
    )
    .ok();
    assert_eq!(failing(&doctor(&env).1), Vec::<String>::new());
}

/// The anon-token check verifies a token signed as `uis jwt mint` signs it
/// with the secret the pods really receive, wherever the Deployment's env
/// binding points: the same value from another Secret passes it (while the
/// binding check, which asks for the suite's own binding, fails), another
/// value fails it.
#[test]
fn anon_token_verifies_with_the_secret_the_pods_receive() {
    let env = Env::new();
    onboard(&env);
    let ours = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
        .unwrap();
    let same = ours["data"]["PGRST_JWT_SECRET"]
        .as_str()
        .unwrap()
        .to_string();
    let other = base64::engine::general_purpose::STANDARD
        .encode("a-different-secret-of-more-than-32-bytes-0123456789");
    let bind_to = |secret: &str, value: &str| {
        env.standin.put(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": secret, "namespace": "postgrest"},
            "data": {"jwt": value},
        }));
        let mut d = env
            .standin
            .get(
                "apps/v1",
                "Deployment",
                Some("postgrest"),
                "railway-postgrest",
            )
            .unwrap();
        for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
        {
            if e["name"] == "PGRST_JWT_SECRET" {
                e["valueFrom"]["secretKeyRef"] = serde_json::json!({"name": secret, "key": "jwt"});
            }
        }
        env.standin.put(d);
    };
    bind_to("copy-of-the-secret", &same);
    let (_, m) = doctor(&env);
    assert_eq!(failing(&m), ["jwt-binding"], "{m:?}");
    assert_eq!(m["anon-token"].0, "pass");
    bind_to("another-secret", &other);
    let (_, m) = doctor(&env);
    assert_eq!(failing(&m), ["anon-token", "jwt-binding"], "{m:?}");
    assert_eq!(m["anon-token"].1, "uis postgrest deploy railway");
}

#[test]
fn an_unconfigured_app_fails_once_and_skips_the_rest() {
    let env = Env::new();
    let (code, m) = doctor(&env);
    assert_eq!(code, 1);
    assert_eq!(failing(&m), ["database"]);
    assert_eq!(m["database"].1, "uis db configure railway");
    assert_eq!(m["deployment"].0, "skip");
}

/// doctor names the topology of the run's cluster, from the database pod's
/// owner: `in-cluster` (StatefulSet) or `proxied (external server)` (the
/// proxy Deployment), and on proxied says the admin being no superuser is
/// expected there.
#[test]
fn doctor_names_the_topology() {
    let env = Env::new();
    onboard(&env);
    let out = env.run("uis-db-doctor", &["railway", "--json"]);
    out.ok();
    let checks = out.json()["checks"].as_array().unwrap().clone();
    let find = |id: &str| {
        checks
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} check: {checks:#?}"))
            .clone()
    };
    let topology = find("topology");
    let admin = find("admin");
    let message = topology["message"].as_str().unwrap();
    assert_eq!(topology["status"], "pass", "{topology}");
    match env.topology {
        uis_e2e::Topology::InCluster => {
            assert_eq!(
                message,
                "in-cluster: PostgreSQL runs in the cluster, pod default/postgresql-0 of StatefulSet postgresql"
            );
            assert!(
                admin["message"]
                    .as_str()
                    .unwrap()
                    .contains("is a superuser"),
                "{admin}"
            );
        }
        uis_e2e::Topology::Proxied => {
            assert!(
                message.starts_with(&format!(
                    "proxied (external server): pod default/{} of Deployment postgresql",
                    env.pg_pod
                )),
                "{message}"
            );
            assert!(
                admin["message"]
                    .as_str()
                    .unwrap()
                    .contains("expected on the proxied topology"),
                "{admin}"
            );
        }
    }
    // The server-only form (`uis postgresql verify`) says the same.
    let out = env.run("uis-db-doctor", &["--server", "--json"]);
    out.ok();
    assert!(
        out.stdout.contains(&format!(
            "\"message\":\"{}",
            message.split(':').next().unwrap()
        )),
        "{}",
        out.stdout
    );
}
