//! uis-db-configure against the stand-in and the real PostgreSQL, read back
//! with the real psql and kubectl (issue: configure).

use uis_e2e::Env;

fn catalog(env: &Env) -> String {
    let mut c = env.pg.connect("postgres");
    let mut out = String::new();
    for q in [
        "select string_agg(rolname || ':' || rolcanlogin || rolsuper || rolcreaterole || rolcreatedb || coalesce(rolpassword, ''), ',' order by rolname) from pg_authid",
        "select string_agg(datname || ':' || coalesce(datacl::text, ''), ',' order by datname) from pg_database",
        "select string_agg(roleid::regrole::text || '>' || member::regrole::text, ',' order by 1) from pg_auth_members",
    ] {
        let v: Option<String> = c.query_one(q, &[]).unwrap().get(0);
        out.push_str(&v.unwrap_or_default());
        out.push('\n');
    }
    out
}

#[test]
fn configure_gives_an_owner_that_can_build_its_own_schema() {
    let env = Env::new();
    let out = env.run(
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
    );
    out.ok();
    let j = out.json();
    assert_eq!(j["status"], "ok");
    assert_eq!(j["service"], "postgresql");
    assert_eq!(j["database"], "railway");
    assert_eq!(j["username"], "railway");
    let password = j["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 32 && password.bytes().all(|b| b.is_ascii_alphanumeric()));
    out.no_secret_on_stderr(&[&password, &env.pg.password]);
    for key in ["local", "cluster"] {
        assert!(
            j[key]["database_url"]
                .as_str()
                .unwrap()
                .starts_with("postgresql://railway:")
        );
    }
    assert_eq!(j["admin"]["username"], "postgres");
    assert_eq!(j["admin"]["retrieve"], "uis db creds --admin");
    assert!(j["next_steps"].as_array().unwrap().len() >= 3);

    // psql logs in as the owner with the returned password.
    let url = format!(
        "postgresql://railway:{password}@127.0.0.1:{}/railway",
        env.pg.port
    );
    let q = env.psql(&[&url, "-At", "-c", "select current_user, (select count(*) from pg_extension where extname = 'citext'), (select string_agg(nspname, ',' order by nspname) from pg_namespace where nspname in ('railway','auth') and pg_get_userbyid(nspowner) = 'railway')"]);
    q.ok();
    assert_eq!(q.stdout.trim(), "railway|1|auth,railway");
    // F1 closed without superuser: the owner creates schemas and trusted extensions...
    let q = env.psql(&[
        &url,
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "CREATE SCHEMA x",
        "-c",
        "CREATE EXTENSION pg_trgm",
    ]);
    q.ok();
    // ...but not roles.
    let q = env.psql(&[&url, "-v", "ON_ERROR_STOP=1", "-c", "CREATE ROLE z"]);
    assert_ne!(q.code, 0);
    assert!(q.stderr.contains("permission denied"), "{}", q.stderr);

    // A second app's owner cannot connect to railway.
    let other = env.run("uis-db-configure", &["other-app", "--json"]);
    other.ok();
    let opw = other.json()["password"].as_str().unwrap().to_string();
    let q = env.psql(&[
        &format!(
            "postgresql://other_app:{opw}@127.0.0.1:{}/railway",
            env.pg.port
        ),
        "-c",
        "select 1",
    ]);
    assert_ne!(q.code, 0);
    assert!(
        q.stderr.contains("permission denied for database"),
        "{}",
        q.stderr
    );
    // ...but can connect to its own.
    let q = env.psql(&[
        &format!(
            "postgresql://other_app:{opw}@127.0.0.1:{}/other_app_db",
            env.pg.port
        ),
        "-c",
        "select 1",
    ]);
    q.ok();

    // Re-run: already_configured, same password; creds agrees.
    let again = env.run(
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
    );
    again.ok();
    assert_eq!(
        again.json()["status"],
        "already_configured",
        "{}",
        again.stdout
    );
    assert_eq!(again.json()["password"], password.as_str());
    assert_eq!(again.json()["changes"], serde_json::json!([]));
    let creds = env.run("uis-db-creds", &["railway"]);
    creds.ok();
    assert_eq!(creds.json()["password"], password.as_str());
    assert_eq!(creds.json()["database"], "railway");

    // The store is a labelled Secret, readable with kubectl.
    if let Some(k) = env.kubectl(&[
        "get",
        "secret",
        "-n",
        "default",
        "-l",
        "app.kubernetes.io/managed-by=uis",
        "-o",
        "name",
    ]) {
        k.ok();
        assert!(k.stdout.contains("secret/uis-db-railway"), "{}", k.stdout);
    }
}

#[test]
fn dry_run_changes_nothing() {
    let env = Env::new();
    let before = catalog(&env);
    let out = env.run(
        "uis-db-configure",
        &[
            "shop",
            "--schemas",
            "app",
            "--extensions",
            "citext",
            "--with-roles",
            "postgrest,readonly",
            "--dry-run",
            "--json",
        ],
    );
    out.ok();
    let j = out.json();
    assert_eq!(j["status"], "dry_run");
    let sql: Vec<String> = j["sql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(
        sql.iter()
            .any(|s| s.starts_with("CREATE ROLE \"shop\" LOGIN")),
        "{sql:?}"
    );
    assert!(
        sql.iter()
            .any(|s| s == "CREATE DATABASE \"shop_db\" OWNER \"shop\""),
        "{sql:?}"
    );
    assert!(
        sql.iter()
            .any(|s| s.contains("CREATE EXTENSION IF NOT EXISTS \"citext\"")),
        "{sql:?}"
    );
    assert!(
        sql.iter()
            .any(|s| s == "GRANT \"shop_web_anon\" TO \"shop_authenticator\""),
        "{sql:?}"
    );
    assert!(
        sql.iter()
            .all(|s| !s.contains("PASSWORD '") || s.contains("PASSWORD '***'")),
        "passwords masked: {sql:?}"
    );
    assert_eq!(catalog(&env), before);
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-shop")
            .is_none()
    );
}

#[test]
fn postgrest_and_readonly_roles_get_stored_passwords() {
    let env = Env::new();
    let out = env.run(
        "uis-db-configure",
        &[
            "shop",
            "--schemas",
            "app",
            "--with-roles",
            "postgrest,readonly",
            "--json",
        ],
    );
    out.ok();
    let j = out.json();
    assert_eq!(j["roles"]["authenticator"], "shop_authenticator");
    assert_eq!(j["roles"]["anon"], "shop_web_anon");
    assert_eq!(j["roles"]["readonly"], "shop_readonly");
    let mut c = env.pg.connect("postgres");
    let row = c
        .query_one(
            "select rolcanlogin, rolinherit from pg_roles where rolname = 'shop_authenticator'",
            &[],
        )
        .unwrap();
    assert!(
        row.get::<_, bool>(0) && !row.get::<_, bool>(1),
        "LOGIN NOINHERIT"
    );
    let member: bool = c
        .query_one("select pg_has_role('shop_authenticator', 'shop_web_anon', 'MEMBER') and pg_has_role('shop_authenticator', 'shop_authenticated', 'MEMBER')", &[])
        .unwrap()
        .get(0);
    assert!(member);
    // Each LOGIN role's stored password works.
    for role in ["authenticator", "readonly"] {
        let creds = env.run(
            "uis-db-creds",
            &[
                "shop",
                "--role",
                role,
                "--format",
                "url",
                "--local-address",
                &format!("127.0.0.1:{}", env.pg.port),
            ],
        );
        creds.ok();
        let q = env.psql(&[creds.stdout.trim(), "-At", "-c", "select current_user"]);
        q.ok();
        assert_eq!(q.stdout.trim(), format!("shop_{role}"));
    }
    // The readonly role reads tables the owner creates later, and cannot write.
    let owner_url = format!(
        "postgresql://shop:{}@127.0.0.1:{}/shop_db",
        j["password"].as_str().unwrap(),
        env.pg.port
    );
    env.psql(&[
        &owner_url,
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "create table app.t(x int); insert into app.t values (1)",
    ])
    .ok();
    let ro = env.run(
        "uis-db-creds",
        &[
            "shop",
            "--role",
            "readonly",
            "--format",
            "url",
            "--local-address",
            &format!("127.0.0.1:{}", env.pg.port),
        ],
    );
    let q = env.psql(&[ro.stdout.trim(), "-At", "-c", "select count(*) from app.t"]);
    q.ok();
    assert_eq!(q.stdout.trim(), "1");
    let q = env.psql(&[
        ro.stdout.trim(),
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "insert into app.t values (2)",
    ]);
    assert_ne!(q.code, 0);
    // A re-run changes nothing.
    let again = env.run("uis-db-configure", &["shop", "--json"]);
    again.ok();
    assert_eq!(
        again.json()["status"],
        "already_configured",
        "{}",
        again.stdout
    );
}

#[test]
fn rotate_issues_a_new_password_and_updates_the_url_secret() {
    let env = Env::new();
    env.standin.put(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
    );
    let first = env.run(
        "uis-db-configure",
        &[
            "rot",
            "--namespace",
            "apps",
            "--secret-name-prefix",
            "rot",
            "--json",
        ],
    );
    first.ok();
    let old = first.json()["password"].as_str().unwrap().to_string();
    let url_of = |env: &Env| {
        let s = env
            .standin
            .get("v1", "Secret", Some("apps"), "rot-db")
            .expect("rot-db Secret");
        let b64 = s["data"]["DATABASE_URL"].as_str().unwrap().to_string();
        use base64::Engine;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(url_of(&env).contains(&old));
    assert!(url_of(&env).contains("@postgresql.default.svc.cluster.local:5432/rot_db"));
    let rotated = env.run("uis-db-configure", &["rot", "--rotate", "--json"]);
    rotated.ok();
    let new = rotated.json()["password"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(url_of(&env).contains(&new));
    let creds = env.run("uis-db-creds", &["rot"]);
    assert_eq!(creds.json()["password"], new.as_str());
    let q = env.psql(&[
        &format!("postgresql://rot:{new}@127.0.0.1:{}/rot_db", env.pg.port),
        "-c",
        "select 1",
    ]);
    q.ok();
    let q = env.psql(&[
        &format!("postgresql://rot:{old}@127.0.0.1:{}/rot_db", env.pg.port),
        "-c",
        "select 1",
    ]);
    assert_ne!(q.code, 0);
}

#[test]
fn bad_input_is_refused_before_any_change() {
    let env = Env::new();
    let before = catalog(&env);
    let out = env.run("uis-db-configure", &["Bad_Name"]);
    out.expect_code(2);
    assert!(out.stderr.contains("^[a-z][a-z0-9-]{0,40}$"));
    let out = env.run(
        "uis-db-configure",
        &["shop", "--extensions", "citext,nonesuch_ext", "--json"],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains("nonesuch_ext") && out.stderr.contains("available:"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["status"], "error");
    let out = env.run("uis-db-configure", &["shop", "--purge"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    let out = env.run("uis-db-configure", &["shop", "--owner", "postgres"]);
    out.expect_code(1);
    assert!(out.stderr.contains("superuser"), "{}", out.stderr);
    assert_eq!(catalog(&env), before);
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-shop")
            .is_none()
    );
}

#[test]
fn purge_drops_everything_it_made() {
    let env = Env::new();
    env.run(
        "uis-db-configure",
        &["gone", "--with-roles", "postgrest", "--json"],
    )
    .ok();
    let out = env.run("uis-db-configure", &["gone", "--purge", "--yes", "--json"]);
    out.ok();
    assert_eq!(out.json()["status"], "purged");
    let mut c = env.pg.connect("postgres");
    let n: i64 = c
        .query_one(
            "select count(*) from pg_roles where rolname like 'gone%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let n: i64 = c
        .query_one(
            "select count(*) from pg_database where datname = 'gone_db'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-gone")
            .is_none()
    );
}

/// A non-superuser admin, as managed PostgreSQL has (Azure's admin is
/// NOSUPERUSER CREATEROLE CREATEDB) and CloudNativePG without superuser
/// access: configure still gives an owner that owns its database, schema and
/// extension, on every version (before 16 the admin must be a member of the
/// owner role to create a database OWNER it, from 16 a member with SET).
#[test]
fn a_non_superuser_admin_configures_an_app() {
    let env = Env::new();
    let admin_pw = uis_harness::pg::random_alnum(32);
    uis_e2e::remember_secret(&admin_pw);
    env.pg
        .connect("postgres")
        .batch_execute(&format!(
            "CREATE ROLE cloudadmin LOGIN NOSUPERUSER CREATEROLE CREATEDB PASSWORD '{admin_pw}'"
        ))
        .unwrap();
    env.standin.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "cloudadmin", "namespace": "default"},
        "data": {"password": uis_e2e::base64_encode(admin_pw.as_bytes())},
    }));
    let args = [
        "shop",
        "--pg-superuser",
        "cloudadmin",
        "--admin-secrets",
        "cloudadmin/password",
        "--schemas",
        "shop",
        "--extensions",
        "citext",
        "--json",
    ];
    let out = env.run("uis-db-configure", &args);
    out.ok().no_secret_on_stderr(&[&admin_pw, &env.pg.password]);
    let j = out.json();
    assert_eq!(j["status"], "ok");
    assert_eq!(j["admin"]["username"], "cloudadmin");
    let password = j["password"].as_str().unwrap().to_string();
    let url = format!(
        "postgresql://shop:{password}@127.0.0.1:{}/shop_db",
        env.pg.port
    );
    let q = env.psql(&[
        &url,
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "create table shop.items (id int)",
        "-c",
        "select current_user, pg_get_userbyid(d.datdba), \
           (select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'shop'), \
           (select count(*) from pg_extension where extname = 'citext') \
         from pg_database d where datname = current_database()",
    ]);
    q.ok();
    // -t leaves out the CREATE TABLE tag; ON_ERROR_STOP and ok() say it ran.
    assert_eq!(q.stdout.trim(), "shop|shop|shop|1");
    // The admin stays what it was; it is now a plain member of the owner.
    let mut c = env.pg.connect("postgres");
    let row = c
        .query_one(
            "select rolsuper, pg_has_role('cloudadmin', 'shop', 'MEMBER') from pg_roles where rolname = 'cloudadmin'",
            &[],
        )
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    assert!(row.get::<_, bool>(1));
    // A re-run changes nothing.
    let again = env.run("uis-db-configure", &args);
    again.ok();
    assert_eq!(again.json()["changes"], serde_json::json!([]));
}
