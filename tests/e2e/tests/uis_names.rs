//! Existing names as UIS allows them (issue 21): an app `Atlas_T` that
//! `./uis configure postgresql --app Atlas_T --database atlas-t` made (role
//! `Atlas_T`, database `atlas-t`, Secret `atlas/atlas-db`) works with every
//! command, SQL names always quoted; its Kubernetes objects take the app's
//! DNS-1123 form `atlas-t` (docs/reference/names.md), read back with the
//! real kubectl; a second app with the same form (`atlas_t`) is refused
//! with both names; a NEW app still follows the stricter rule.

use uis_e2e::{Env, base64_encode};

const APP: &str = "Atlas_T";
const DB: &str = "atlas-t";

/// What `./uis configure postgresql --app Atlas_T --database atlas-t
/// --namespace atlas --secret-name-prefix atlas` leaves: role `Atlas_T`
/// (the app with `-` as `_`, case kept), database `atlas-t` owned by it, and
/// Secret `atlas/atlas-db` with DATABASE_URL, labelled managed-by=uis.
fn uis_made(env: &Env) -> String {
    let password = uis_harness::pg::random_alnum(32);
    uis_e2e::remember_secret(&password);
    let mut c = env.pg.connect("postgres");
    for sql in [
        format!("CREATE USER \"{APP}\" WITH PASSWORD '{password}'"),
        format!("CREATE DATABASE \"{DB}\" OWNER \"{APP}\""),
        format!("GRANT ALL PRIVILEGES ON DATABASE \"{DB}\" TO \"{APP}\""),
    ] {
        c.batch_execute(&sql).unwrap();
    }
    env.standin.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "atlas"}}));
    let url =
        format!("postgresql://{APP}:{password}@postgresql.default.svc.cluster.local:5432/{DB}");
    env.standin.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "atlas-db", "namespace": "atlas",
            "labels": {"app.kubernetes.io/managed-by": "uis"}},
        "type": "Opaque",
        "data": {"DATABASE_URL": base64_encode(url.as_bytes())},
    }));
    password
}

fn csv(env: &Env, args: &[&str]) -> String {
    let mut a = vec![APP, "--format", "csv"];
    a.extend_from_slice(args);
    let out = env.run("uis-db-psql", &a);
    out.ok();
    out.stdout.trim().to_string()
}

#[test]
fn an_app_uis_named_atlas_t_works_with_every_command() {
    let env = Env::new();
    let pw = uis_made(&env);

    // psql and creds before the suite configured it (adopted from the Secret).
    assert_eq!(
        csv(
            &env,
            &["-c", "select current_user as u, current_database() as d"]
        ),
        "u,d\nAtlas_T,atlas-t"
    );
    let c = env.run("uis-db-creds", &[APP, "--json"]);
    c.ok().no_secret_on_stderr(&[&pw]);
    assert_eq!(c.json()["password"], pw.as_str());
    assert_eq!(c.json()["database"], DB);

    // configure adopts it, keeps the password, quotes every name.
    let out = env.run(
        "uis-db-configure",
        &[APP, "--database", DB, "--schemas", "api", "--json"],
    );
    out.ok().no_secret_on_stderr(&[&pw, &env.pg.password]);
    let j = out.json();
    assert_eq!(j["password"], pw.as_str(), "{}", out.stderr);
    assert_eq!(j["rotated"], false);
    assert_eq!(j["adopted_from"], "atlas/atlas-db");
    assert_eq!(j["username"], APP);
    assert_eq!(j["database"], DB);
    assert_eq!(j["credentials"]["secret"], "default/uis-db-atlas-t");
    // The store Secret, read back with kubectl: a DNS-1123 name, the
    // label in the same form, and the app's own name in the record.
    let store = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-atlas-t")
        .expect("the store Secret uis-db-atlas-t");
    assert_eq!(
        store["metadata"]["labels"]["app.kubernetes.io/instance"],
        "atlas-t"
    );
    if let Some(k) = env.kubectl(&[
        "get",
        "secret",
        "-n",
        "default",
        "-l",
        "app.kubernetes.io/component=db-credentials,app.kubernetes.io/instance=atlas-t",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]) {
        k.ok();
        assert_eq!(k.stdout.trim(), "uis-db-atlas-t");
    }
    // Re-run: nothing changes.
    let again = env.run("uis-db-configure", &[APP, "--json"]);
    again.ok();
    assert_eq!(
        again.json()["status"],
        "already_configured",
        "{}",
        again.stdout
    );
    assert_eq!(again.json()["password"], pw.as_str());

    // creds --list names the app as it is called.
    let l = env.run("uis-db-creds", &["--list", "--json"]);
    l.ok();
    assert_eq!(l.json()["apps"], serde_json::json!([APP]), "{}", l.stdout);

    // seed, as the owner, into the quoted schema.
    let dir = env.path("seeds");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("01-t.sql"),
        "create table api.things(id int primary key, name text);\ninsert into api.things values (1, 'one');\n",
    )
    .unwrap();
    env.run("uis-db-seed", &[APP, dir.to_str().unwrap()]).ok();
    assert_eq!(
        csv(
            &env,
            &[
                "-c",
                "select tableowner from pg_tables where tablename = 'things'"
            ]
        ),
        "tableowner\nAtlas_T"
    );
    // psql as the superuser in the dashed database.
    assert_eq!(
        csv(
            &env,
            &["--as", "admin", "-c", "select current_database() as d"]
        ),
        "d\natlas-t"
    );

    // PostgREST: objects named atlas-t-postgrest, roles in the app's case.
    let d = env.run("uis-postgrest-deploy", &[APP, "--schemas", "api", "--json"]);
    d.ok().no_secret_on_stderr(&[&pw, &env.pg.password]);
    for kind in ["Secret", "Service"] {
        assert!(
            env.standin
                .get("v1", kind, Some("postgrest"), "atlas-t-postgrest")
                .is_some(),
            "{kind} atlas-t-postgrest"
        );
    }
    let dep = env
        .standin
        .get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            "atlas-t-postgrest",
        )
        .expect("Deployment atlas-t-postgrest");
    assert_eq!(
        dep["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"],
        "atlas-t"
    );
    let route = env
        .standin
        .get(
            "traefik.io/v1alpha1",
            "IngressRoute",
            Some("postgrest"),
            "atlas-t-postgrest",
        )
        .expect("IngressRoute atlas-t-postgrest");
    assert!(
        route.to_string().contains("api-atlas-t"),
        "the default URL prefix is the DNS form: {route}"
    );
    assert_eq!(
        csv(
            &env,
            &[
                "--as",
                "admin",
                "-c",
                "select string_agg(rolname, ' ' order by rolname) as r from pg_roles where rolname like 'Atlas\\_T\\_%'"
            ]
        ),
        "r\nAtlas_T_authenticated Atlas_T_authenticator Atlas_T_web_anon"
    );
    // psql as the authenticator (a stored role with uppercase and `_`).
    assert_eq!(
        csv(
            &env,
            &["--as", "authenticator", "-c", "select current_user as u"]
        ),
        "u\nAtlas_T_authenticator"
    );

    // jwt mint: the role claim is the role's exact name.
    let t = env.run("uis-jwt-mint", &[APP, "--role", "anon", "--format", "json"]);
    t.ok();
    assert_eq!(
        t.json()["claims"]["role"],
        "Atlas_T_web_anon",
        "{}",
        t.stdout
    );

    // doctor: every check passes.
    let doc = env.run("uis-db-doctor", &[APP, "--json"]);
    let failing: Vec<String> = doc.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| format!("{}: {}", c["id"], c["detail"]))
        .collect();
    assert!(failing.is_empty(), "{failing:?}\n{}", doc.stderr);
    assert_eq!(doc.code, 0, "{}", doc.stdout);

    // tunnel: the printed URL logs in as the owner, in atlas-t.
    let tunnel = env.tunnel(&[APP]);
    let q = env.psql(&[
        &tunnel.url(),
        "-At",
        "-c",
        "select current_user || '@' || current_database()",
    ]);
    drop(tunnel);
    q.ok();
    assert_eq!(q.stdout.trim(), "Atlas_T@atlas-t");

    // The same through UIS's own command form and the dispatcher.
    let u = env.run("uis", &["configure", "postgresql", "--app", APP, "--json"]);
    u.ok();
    assert_eq!(u.json()["username"], APP, "{}", u.stderr);
}

#[test]
fn two_apps_with_one_kubernetes_name_are_refused_and_new_apps_keep_the_strict_rule() {
    let env = Env::new();
    uis_made(&env);
    env.run("uis-db-configure", &[APP, "--json"]).ok();
    let before = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-atlas-t")
        .unwrap();
    // `atlas_t` is another role in SQL but the same name in Kubernetes.
    let mut c = env.pg.connect("postgres");
    c.batch_execute("CREATE ROLE atlas_t LOGIN").unwrap();
    for (bin, args) in [
        ("uis-db-configure", vec!["atlas_t"]),
        ("uis-db-creds", vec!["atlas-t"]),
        ("uis-db-psql", vec!["atlas_t", "-c", "select 1"]),
        ("uis-postgrest-deploy", vec!["atlas-t"]),
    ] {
        let out = env.run(bin, &args);
        out.expect_code(1);
        assert!(
            out.stderr.contains("map to the same Kubernetes names")
                && out.stderr.contains("\"Atlas_T\"")
                && out.stderr.contains("uis-db-atlas-t"),
            "{bin}: {}",
            out.stderr
        );
    }
    let after = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-atlas-t")
        .unwrap();
    assert_eq!(before["data"], after["data"], "the record is untouched");

    // A new app: the suite creates its names, so the stricter rule.
    let out = env.run("uis-db-configure", &["Brand_New", "--json"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("invalid APP") && out.stderr.contains("^[a-z][a-z0-9-]{0,40}$"),
        "{}",
        out.stderr
    );
    let q = env.psql(&[
        &env.pg.url("postgres"),
        "-At",
        "-c",
        "select count(*) from pg_roles where rolname = 'Brand_New'",
    ]);
    assert_eq!(q.stdout.trim(), "0");
}
