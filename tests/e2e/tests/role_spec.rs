//! `uis db configure APP --with-roles FILE.sql` (issue 21, the
//! investigation's B.3 `custom-spec.sql`): the file runs as the admin in the
//! app's database, in one transaction, once per content; every LOGIN role
//! it creates gets an issued password stored in the credential store and
//! printed by `uis db creds APP --role ROLE`; a role that existed before is
//! never touched; re-runs keep every working password; a changed file runs
//! again; a failure leaves nothing of the file behind. Against the real
//! PostgreSQL and the stand-in, with the real psql logging in.

use uis_e2e::Env;

/// The investigation's 01-roles.sql, plus a staff role with a password of
/// the file's own and a role that existed before the file ran.
const ROLES: &str = "-- roles of the railway app
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
GRANT anon, authenticated TO authenticator;
CREATE ROLE \"Staff_Member\" LOGIN PASSWORD 'from-the-file-1234';
CREATE ROLE \"night shift\" LOGIN;
ALTER ROLE legacy_reporter CONNECTION LIMIT 5;
DO $$ BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO authenticator, \"Staff_Member\"', current_database());
END $$;
";

fn logs_in(env: &Env, user: &str, password: &str, db: &str) -> bool {
    let url = uis_core::creds::url(user, password, "127.0.0.1", env.pg.port, db);
    env.psql(&[&url, "-At", "-c", "select 1"]).code == 0
}

fn creds(env: &Env, role: &str) -> serde_json::Value {
    let c = env.run("uis-db-creds", &["railway", "--role", role, "--json"]);
    c.ok();
    c.json()
}

fn role_actions(j: &serde_json::Value) -> Vec<String> {
    j["role_spec"]["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("role_spec.roles in {j}"))
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["role"].as_str().unwrap(),
                r["password"].as_str().unwrap()
            )
        })
        .collect()
}

fn exists(env: &Env, role: &str) -> bool {
    let mut c = env.pg.connect("postgres");
    c.query_opt("select 1 from pg_roles where rolname = $1", &[&role])
        .unwrap()
        .is_some()
}

#[test]
fn a_role_spec_issues_stored_passwords_and_reruns_keep_them() {
    let env = Env::new();
    let mut su = env.pg.connect("postgres");
    su.batch_execute("CREATE ROLE legacy_reporter LOGIN PASSWORD 'theirs-pw-5678'")
        .unwrap();
    let file = env.path("01-roles.sql");
    std::fs::write(&file, ROLES).unwrap();
    let f = file.to_str().unwrap();

    // --dry-run says it would run the file, and changes nothing.
    let dry = env.run(
        "uis-db-configure",
        &[
            "railway",
            "--schemas",
            "railway",
            "--with-roles",
            f,
            "--dry-run",
        ],
    );
    dry.ok();
    assert!(
        dry.stdout.contains(&format!("\\i {f} -- as the admin")),
        "{}",
        dry.stdout
    );
    assert!(!exists(&env, "authenticator"));

    let out = env.run(
        "uis-db-configure",
        &[
            "railway",
            "--schemas",
            "railway",
            "--with-roles",
            f,
            "--json",
        ],
    );
    out.ok();
    let j = out.json();
    assert_eq!(j["role_spec"]["applied"], true, "{j}");
    assert_eq!(
        role_actions(&j),
        [
            "Staff_Member:issued",
            "anon:no_login",
            "authenticated:no_login",
            "authenticator:issued",
            "night shift:unstorable"
        ]
    );
    assert_eq!(
        j["role_spec"]["untouched"],
        serde_json::json!(["legacy_reporter"])
    );
    assert_eq!(
        j["role_spec"]["roles"][0]["retrieve"],
        "uis db creds railway --role Staff_Member"
    );
    // The file's password is replaced, and that is said: an admin that is
    // no superuser (proxied) cannot read pg_authid, and says so.
    let replaced = match env.topology {
        uis_e2e::Topology::InCluster => "gave role Staff_Member a password of its own",
        uis_e2e::Topology::Proxied => {
            "created role Staff_Member; the admin is not a superuser, so it cannot read whether the file gave it a password of its own"
        }
    };
    assert!(out.stderr.contains(replaced), "{}", out.stderr);
    // The passwords: stored, printed by creds, and they log in.
    let auth = creds(&env, "authenticator");
    let auth_pw = auth["password"].as_str().unwrap().to_string();
    let staff_pw = creds(&env, "Staff_Member")["password"]
        .as_str()
        .unwrap()
        .to_string();
    out.no_secret_on_stderr(&[&auth_pw, &staff_pw, &env.pg.password]);
    assert_eq!(auth_pw.len(), 32);
    assert!(auth_pw.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(logs_in(&env, "authenticator", &auth_pw, "railway_db"));
    assert!(logs_in(&env, "Staff_Member", &staff_pw, "railway_db"));
    assert!(!logs_in(
        &env,
        "Staff_Member",
        "from-the-file-1234",
        "postgres"
    ));
    let store = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-railway")
        .unwrap();
    for key in [
        "password.authenticator",
        "password.Staff_Member",
        "password.railway",
    ] {
        assert!(store["data"].get(key).is_some(), "{key}: {store}");
    }
    assert!(store["data"].get("password.anon").is_none());
    // A name no Secret key can hold: no password, said on stderr.
    assert!(
        out.stderr.contains("\"night shift\"") && out.stderr.contains("gets no stored password"),
        "{}",
        out.stderr
    );
    // The role that existed before keeps its own password, not stored.
    assert!(logs_in(
        &env,
        "legacy_reporter",
        "theirs-pw-5678",
        "postgres"
    ));
    assert!(store["data"].get("password.legacy_reporter").is_none());
    env.run("uis-db-creds", &["railway", "--role", "legacy_reporter"])
        .expect_code(1);
    // psql as a spec role.
    let q = env.run(
        "uis-db-psql",
        &[
            "railway",
            "--as",
            "authenticator",
            "--format",
            "csv",
            "-c",
            "select current_user as u",
        ],
    );
    q.ok();
    assert_eq!(q.stdout.trim(), "u\nauthenticator");

    // A re-run with the same file: not run again, every password kept.
    let again = env.run(
        "uis-db-configure",
        &["railway", "--with-roles", f, "--json"],
    );
    again.ok();
    let j = again.json();
    assert_eq!(j["role_spec"]["applied"], false, "{j}");
    assert_eq!(j["status"], "already_configured", "{j}");
    assert_eq!(
        role_actions(&j),
        [
            "Staff_Member:kept",
            "anon:no_login",
            "authenticated:no_login",
            "authenticator:kept",
            "night shift:unstorable"
        ]
    );
    assert_eq!(creds(&env, "authenticator")["password"], auth_pw.as_str());

    // Someone changed a spec role's password: set back to the stored one.
    su.batch_execute("ALTER ROLE authenticator PASSWORD 'changed-by-hand'")
        .unwrap();
    let fix = env.run(
        "uis-db-configure",
        &["railway", "--with-roles", f, "--json"],
    );
    fix.ok();
    assert!(role_actions(&fix.json()).contains(&"authenticator:set_again".to_string()));
    assert!(fix.stderr.contains("no longer worked"), "{}", fix.stderr);
    assert!(logs_in(&env, "authenticator", &auth_pw, "railway_db"));

    // A stored password with a line break inside (a hand-made Secret) that
    // no longer logs in is never set on the role: a new one is issued.
    let mut store = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-railway")
        .expect("store Secret");
    store["data"]["password.authenticator"] = uis_e2e::base64_encode(b"abcdefgh\nijklmnop").into();
    env.standin.put(store);
    su.batch_execute("ALTER ROLE authenticator PASSWORD 'changed-by-hand'")
        .unwrap();
    let fix = env.run(
        "uis-db-configure",
        &["railway", "--with-roles", f, "--json"],
    );
    fix.ok();
    assert!(role_actions(&fix.json()).contains(&"authenticator:issued".to_string()));
    assert!(
        fix.stderr.contains(
            "(Secret key password.authenticator) no longer worked and holds a line break"
        ),
        "{}",
        fix.stderr
    );
    let auth_pw = creds(&env, "authenticator")["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!auth_pw.chars().any(char::is_control));
    assert!(logs_in(&env, "authenticator", &auth_pw, "railway_db"));
    assert!(!logs_in(
        &env,
        "authenticator",
        "abcdefgh\nijklmnop",
        "railway_db"
    ));

    // A changed file runs again; this one is not re-runnable (CREATE ROLE
    // authenticator again): it fails at its line, nothing of it stays.
    let changed = format!("{ROLES}CREATE ROLE reporting LOGIN;\n");
    std::fs::write(&file, &changed).unwrap();
    let bad = env.run(
        "uis-db-configure",
        &["railway", "--with-roles", f, "--json"],
    );
    bad.expect_code(1);
    assert!(
        bad.stderr.contains(&format!("{f}:2")) && bad.stderr.contains("already exists"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("re-runnable"), "{}", bad.stderr);
    assert!(!exists(&env, "reporting"), "one transaction");
    assert!(logs_in(&env, "authenticator", &auth_pw, "railway_db"));

    // Re-runnable: only the new role is created and issued a password.
    std::fs::write(
        &file,
        "DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reporting') THEN
    CREATE ROLE reporting LOGIN;
  END IF;
END $$;
",
    )
    .unwrap();
    let more = env.run(
        "uis-db-configure",
        &["railway", "--with-roles", f, "--json"],
    );
    more.ok();
    let j = more.json();
    assert_eq!(j["role_spec"]["applied"], true);
    assert_eq!(
        role_actions(&j),
        [
            "Staff_Member:kept",
            "anon:no_login",
            "authenticated:no_login",
            "authenticator:kept",
            "night shift:unstorable",
            "reporting:issued"
        ]
    );
    let rep_pw = creds(&env, "reporting")["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(logs_in(&env, "reporting", &rep_pw, "postgres"));
    assert_eq!(creds(&env, "authenticator")["password"], auth_pw.as_str());

    // PostgREST on the file's roles: the stored authenticator password is
    // the suite's, so deploy takes it.
    let d = env.run(
        "uis-postgrest-deploy",
        &[
            "railway",
            "--schemas",
            "railway",
            "--authenticator",
            "authenticator",
            "--anon-role",
            "anon",
            "--authenticated-role",
            "authenticated",
            "--json",
        ],
    );
    d.ok();
    assert_eq!(creds(&env, "authenticator")["password"], auth_pw.as_str());
    assert!(logs_in(&env, "authenticator", &auth_pw, "railway_db"));

    // --purge drops the roles the files created, not the one that was there.
    env.run("uis-postgrest-deploy", &["railway", "--purge", "--yes"])
        .ok();
    env.run("uis-db-configure", &["railway", "--purge", "--yes"])
        .ok();
    for r in [
        "authenticator",
        "Staff_Member",
        "reporting",
        "anon",
        "night shift",
    ] {
        assert!(!exists(&env, r), "{r} dropped");
    }
    assert!(logs_in(
        &env,
        "legacy_reporter",
        "theirs-pw-5678",
        "postgres"
    ));
}

#[test]
fn uis_form_with_a_failing_role_spec_removes_what_the_run_created() {
    let env = Env::new();
    let file = env.path("roles.sql");
    std::fs::write(
        &file,
        "CREATE ROLE shop_api LOGIN;\nCREATE ROLE shop_api_x IN ROLE no_such_role;\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    // UIS's form, through the dispatcher.
    let out = env.run(
        "uis",
        &[
            "configure",
            "postgresql",
            "--app",
            "shop",
            "--with-roles",
            f,
            "--json",
        ],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!("{f}:2")) && out.stderr.contains("were removed"),
        "{}",
        out.stderr
    );
    for r in ["shop", "shop_api", "shop_api_x"] {
        assert!(!exists(&env, r), "{r}");
    }
    let mut c = env.pg.connect("postgres");
    assert!(
        c.query_opt("select 1 from pg_database where datname = 'shop_db'", &[])
            .unwrap()
            .is_none()
    );
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-shop")
            .is_none()
    );

    // Fixed: the same form works; the role's password is stored.
    std::fs::write(&file, "CREATE ROLE shop_api LOGIN;\n").unwrap();
    let ok = env.run(
        "uis",
        &[
            "configure",
            "postgresql",
            "--app",
            "shop",
            "--with-roles",
            f,
            "--json",
        ],
    );
    ok.ok();
    assert_eq!(role_actions(&ok.json()), ["shop_api:issued"]);
    let pw = env.run(
        "uis",
        &["db", "creds", "shop", "--role", "shop_api", "--json"],
    );
    pw.ok();
    assert!(logs_in(
        &env,
        "shop_api",
        pw.json()["password"].as_str().unwrap(),
        "postgres"
    ));
    // A bad --with-roles value: one line naming the choices.
    let bad = env.run("uis-db-configure", &["shop", "--with-roles", "roles.txt"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("ending in .sql"), "{}", bad.stderr);
}
