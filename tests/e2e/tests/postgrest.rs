//! uis-postgrest-deploy against the stand-in and the real PostgreSQL, read
//! back with the real kubectl and psql (issue: PostgREST deploy).

use base64::Engine;
use uis_e2e::Env;

fn b64d(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

fn secret_value(env: &Env, app: &str, key: &str) -> Option<String> {
    let s = env.standin.get(
        "v1",
        "Secret",
        Some("postgrest"),
        &format!("{app}-postgrest"),
    )?;
    s["data"][key].as_str().map(b64d)
}

fn configure(env: &Env, app: &str, schemas: &str) {
    env.run("uis-db-configure", &[app, "--schemas", schemas, "--json"])
        .ok();
}

#[test]
fn defaults_bind_every_setting_from_the_secret_and_become_available() {
    let env = Env::new();
    configure(&env, "railway", "railway");
    let out = env.run("uis-postgrest-deploy", &["railway", "--json"]);
    out.ok().no_secret_on_stderr(&[&env.pg.password]);
    let j = out.json();
    assert_eq!(j["status"], "ok");
    assert_eq!(j["roles"]["authenticator"], "railway_authenticator");
    assert_eq!(j["roles"]["anon"], "railway_web_anon");
    assert_eq!(
        j["in_cluster_url"],
        "http://railway-postgrest.postgrest.svc.cluster.local:3000"
    );
    assert_eq!(j["public_url"], "http://api-railway.localhost");
    assert_eq!(j["available"], true);

    // kubectl reads every PGRST_* env entry as a secretKeyRef to the Secret.
    if let Some(k) = env.kubectl(&[
        "get",
        "deployment",
        "railway-postgrest",
        "-n",
        "postgrest",
        "-o",
        "json",
    ]) {
        k.ok();
        let d: serde_json::Value = serde_json::from_str(&k.stdout).unwrap();
        let envs = d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .clone();
        for key in [
            "PGRST_DB_URI",
            "PGRST_DB_SCHEMAS",
            "PGRST_JWT_SECRET",
            "PGRST_DB_ANON_ROLE",
        ] {
            let e = envs
                .iter()
                .find(|e| e["name"] == key)
                .unwrap_or_else(|| panic!("{key} bound"));
            assert_eq!(
                e["valueFrom"]["secretKeyRef"]["name"], "railway-postgrest",
                "{key}"
            );
            assert_eq!(e["valueFrom"]["secretKeyRef"]["key"], key);
        }
        assert!(
            envs.iter().all(|e| e.get("value").is_none()),
            "no plain values"
        );
        let avail = d["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Available" && c["status"] == "True");
        assert!(avail, "Available");
        let list = env.kubectl(&["get", "deploy", "-n", "postgrest"]).unwrap();
        assert!(list.stdout.contains("railway-postgrest"), "{}", list.stdout);
        let svc = env
            .kubectl(&[
                "get",
                "service",
                "railway-postgrest",
                "-n",
                "postgrest",
                "-o",
                "jsonpath={.spec.ports[0].port}",
            ])
            .unwrap();
        assert_eq!(svc.stdout, "3000");
    }
    assert!(
        env.standin
            .get(
                "traefik.io/v1alpha1",
                "IngressRoute",
                Some("postgrest"),
                "railway-postgrest"
            )
            .is_some()
    );

    // psql logs in with the Secret's PGRST_DB_URI credentials and can SET ROLE to anon.
    let uri = secret_value(&env, "railway", "PGRST_DB_URI").unwrap();
    assert!(
        uri.starts_with("postgresql://railway_authenticator:"),
        "{uri}"
    );
    assert!(
        uri.ends_with("@postgresql.default.svc.cluster.local:5432/railway_db"),
        "{uri}"
    );
    let local = uri.replace(
        "postgresql.default.svc.cluster.local:5432",
        &format!("127.0.0.1:{}", env.pg.port),
    );
    let q = env.psql(&[
        &local,
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "SET ROLE railway_web_anon",
        "-c",
        "select current_user",
    ]);
    q.ok();
    assert_eq!(q.stdout.trim(), "railway_web_anon");
    assert_eq!(
        secret_value(&env, "railway", "PGRST_DB_ANON_ROLE").unwrap(),
        "railway_web_anon"
    );
    assert_eq!(
        secret_value(&env, "railway", "PGRST_DB_SCHEMAS").unwrap(),
        "railway"
    );
    assert_eq!(
        secret_value(&env, "railway", "PGRST_JWT_SECRET")
            .unwrap()
            .len(),
        64
    );
    // The authenticator's password is in the store too.
    let creds = env.run(
        "uis-db-creds",
        &[
            "railway",
            "--role",
            "authenticator",
            "--format",
            "url",
            "--cluster",
        ],
    );
    assert_eq!(creds.stdout.trim(), uri);

    // A re-run changes nothing.
    let deployment_before = env
        .standin
        .get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            "railway-postgrest",
        )
        .unwrap();
    let again = env.run("uis-postgrest-deploy", &["railway", "--json"]);
    again.ok();
    assert_eq!(again.json()["status"], "unchanged", "{}", again.stdout);
    assert_eq!(secret_value(&env, "railway", "PGRST_DB_URI").unwrap(), uri);
    let deployment_after = env
        .standin
        .get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            "railway-postgrest",
        )
        .unwrap();
    assert_eq!(deployment_before["spec"], deployment_after["spec"]);
    assert_eq!(
        deployment_before["metadata"]["generation"],
        deployment_after["metadata"]["generation"]
    );

    // --rotate-jwt-secret: a new secret and a new pod-template checksum.
    let old_secret = secret_value(&env, "railway", "PGRST_JWT_SECRET").unwrap();
    let annotation = |d: &serde_json::Value| {
        d["spec"]["template"]["metadata"]["annotations"]["uis.sovereignsky.no/secret-checksum"]
            .clone()
    };
    let rotated = env.run(
        "uis-postgrest-deploy",
        &["railway", "--rotate-jwt-secret", "--json"],
    );
    rotated.ok();
    assert!(
        rotated.stderr.contains("invalid") && rotated.stderr.contains("uis jwt mint railway"),
        "{}",
        rotated.stderr
    );
    let new_secret = secret_value(&env, "railway", "PGRST_JWT_SECRET").unwrap();
    assert_ne!(new_secret, old_secret);
    let d = env
        .standin
        .get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            "railway-postgrest",
        )
        .unwrap();
    assert_ne!(annotation(&d), annotation(&deployment_after));
    rotated.no_secret_on_stderr(&[&new_secret, &old_secret]);
}

#[test]
fn canonical_role_names_from_the_customers_ddl_are_reused() {
    if uis_e2e::in_cluster_only(
        "postgres is no superuser there, so it cannot read whether the DDL's authenticator has a password of its own (pg_authid) and --authenticator of a role the suite did not create is refused; managed_admin:: tests that refusal",
    ) {
        return;
    }
    let env = Env::new();
    configure(&env, "canon", "api");
    let mut c = env.pg.connect("postgres");
    for sql in [
        "CREATE ROLE authenticator LOGIN NOINHERIT",
        "CREATE ROLE anon NOLOGIN",
        "CREATE ROLE authenticated NOLOGIN",
        "GRANT anon TO authenticator",
        "GRANT authenticated TO authenticator",
    ] {
        c.batch_execute(sql).unwrap();
    }
    let roles_before: i64 = c
        .query_one("select count(*) from pg_roles", &[])
        .unwrap()
        .get(0);
    let out = env.run(
        "uis-postgrest-deploy",
        &[
            "canon",
            "--schemas",
            "api",
            "--authenticator",
            "authenticator",
            "--anon-role",
            "anon",
            "--authenticated-role",
            "authenticated",
            "--grants",
            "none",
            "--json",
        ],
    );
    out.ok();
    assert_eq!(out.json()["created_roles"], serde_json::json!([]));
    let roles_after: i64 = c
        .query_one("select count(*) from pg_roles", &[])
        .unwrap()
        .get(0);
    assert_eq!(roles_before, roles_after, "no role created");
    assert_eq!(
        secret_value(&env, "canon", "PGRST_DB_ANON_ROLE").unwrap(),
        "anon"
    );
    assert!(
        out.stderr
            .contains("authenticator existed without a stored password"),
        "{}",
        out.stderr
    );
    // The authenticator got a stored password that works.
    let uri = secret_value(&env, "canon", "PGRST_DB_URI").unwrap();
    let local = uri.replace(
        "postgresql.default.svc.cluster.local:5432",
        &format!("127.0.0.1:{}", env.pg.port),
    );
    env.psql(&[&local, "-c", "select 1"]).ok();
    // --grants none granted nothing to anon.
    let granted: bool = env
        .pg
        .connect("canon_db")
        .query_one("select has_schema_privilege('anon', 'api', 'USAGE')", &[])
        .unwrap()
        .get(0);
    assert!(!granted);
}

#[test]
fn a_missing_secret_key_fails_the_wait_naming_the_key() {
    let env = Env::new();
    configure(&env, "broken", "public");
    env.run("uis-postgrest-deploy", &["broken", "--no-wait", "--json"])
        .ok();
    // Someone removes a key by hand (the real kubectl, a JSON patch).
    if let Some(k) = env.kubectl(&[
        "patch",
        "secret",
        "broken-postgrest",
        "-n",
        "postgrest",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/data/PGRST_JWT_SECRET"}]"#,
    ]) {
        k.ok();
    } else {
        let mut s = env
            .standin
            .get("v1", "Secret", Some("postgrest"), "broken-postgrest")
            .unwrap();
        s["data"]
            .as_object_mut()
            .unwrap()
            .remove("PGRST_JWT_SECRET");
        env.standin.put(s);
    }
    let out = env.run(
        "uis-postgrest-deploy",
        &["broken", "--status", "--timeout", "2", "--json"],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains("not Available after 2 s"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("CreateContainerConfigError"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("couldn't find key PGRST_JWT_SECRET in Secret postgrest/broken-postgrest"),
        "{}",
        out.stderr
    );
    // A deploy puts the key back and the rollout completes.
    env.run(
        "uis-postgrest-deploy",
        &["broken", "--timeout", "10", "--json"],
    )
    .ok();
}

#[test]
fn missing_database_or_schema_is_refused_before_any_change() {
    let env = Env::new();
    configure(&env, "shop", "app");
    let roles = |env: &Env| -> i64 {
        env.pg
            .connect("postgres")
            .query_one("select count(*) from pg_roles", &[])
            .unwrap()
            .get(0)
    };
    let before = roles(&env);
    let out = env.run(
        "uis-postgrest-deploy",
        &["shop", "--schemas", "nope", "--json"],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains("schema \"nope\" does not exist")
            && out.stderr.contains("uis db configure shop --schemas nope"),
        "{}",
        out.stderr
    );
    let out = env.run(
        "uis-postgrest-deploy",
        &["shop", "--database", "other_db", "--json"],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains("other_db")
            && out
                .stderr
                .contains("uis db configure shop --database other_db"),
        "{}",
        out.stderr
    );
    let out = env.run("uis-postgrest-deploy", &["unknown-app", "--json"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("uis db configure unknown-app"),
        "{}",
        out.stderr
    );
    assert_eq!(roles(&env), before);
    assert!(
        env.standin
            .get("v1", "Secret", Some("postgrest"), "shop-postgrest")
            .is_none()
    );
}

#[test]
fn undeploy_keeps_the_secret_and_purge_drops_the_roles() {
    let env = Env::new();
    configure(&env, "tmp", "public");
    env.run("uis-postgrest-deploy", &["tmp", "--json"]).ok();
    let out = env.run("uis-postgrest-deploy", &["tmp", "--undeploy", "--json"]);
    out.ok();
    assert!(
        env.standin
            .get("apps/v1", "Deployment", Some("postgrest"), "tmp-postgrest")
            .is_none()
    );
    assert!(
        env.standin
            .get("v1", "Service", Some("postgrest"), "tmp-postgrest")
            .is_none()
    );
    assert!(
        env.standin
            .get("v1", "Secret", Some("postgrest"), "tmp-postgrest")
            .is_some()
    );
    let out = env.run("uis-postgrest-deploy", &["tmp", "--purge", "--json"]);
    out.expect_code(2);
    let out = env.run(
        "uis-postgrest-deploy",
        &["tmp", "--purge", "--yes", "--json"],
    );
    out.ok();
    assert!(
        env.standin
            .get("v1", "Secret", Some("postgrest"), "tmp-postgrest")
            .is_none()
    );
    let n: i64 = env.pg.connect("postgres").query_one("select count(*) from pg_roles where rolname in ('tmp_authenticator', 'tmp_web_anon', 'tmp_authenticated')", &[]).unwrap().get(0);
    assert_eq!(n, 0);
    let owner: i64 = env
        .pg
        .connect("postgres")
        .query_one("select count(*) from pg_roles where rolname = 'tmp'", &[])
        .unwrap()
        .get(0);
    assert_eq!(owner, 1, "the owner stays");
}

#[test]
fn rotate_password_updates_the_role_the_secret_and_rolls_the_pods() {
    let env = Env::new();
    configure(&env, "rot", "public");
    env.run("uis-postgrest-deploy", &["rot", "--json"]).ok();
    let old_uri = secret_value(&env, "rot", "PGRST_DB_URI").unwrap();
    let annotation = |env: &Env| {
        env.standin.get("apps/v1", "Deployment", Some("postgrest"), "rot-postgrest").unwrap()["spec"]["template"]["metadata"]["annotations"]
            ["uis.sovereignsky.no/secret-checksum"]
            .clone()
    };
    let before = annotation(&env);
    let out = env.run(
        "uis-postgrest-deploy",
        &["rot", "--rotate-password", "--json"],
    );
    out.ok();
    let new_uri = secret_value(&env, "rot", "PGRST_DB_URI").unwrap();
    assert_ne!(new_uri, old_uri);
    assert_ne!(annotation(&env), before, "pods roll");
    let local = |uri: &str| {
        uri.replace(
            "postgresql.default.svc.cluster.local:5432",
            &format!("127.0.0.1:{}", env.pg.port),
        )
    };
    env.psql(&[&local(&new_uri), "-c", "select 1"]).ok();
    assert_ne!(
        env.psql(&[&local(&old_uri), "-c", "select 1"]).code,
        0,
        "the old password no longer works"
    );
    let creds = env.run(
        "uis-db-creds",
        &[
            "rot",
            "--role",
            "authenticator",
            "--format",
            "url",
            "--cluster",
        ],
    );
    assert_eq!(creds.stdout.trim(), new_uri, "the store follows");
}
