//! PostgREST's roles are never privileged, and a re-run of
//! `uis-postgrest-deploy` changes only what its flags ask (issue 19):
//! against the stand-in and the real PostgreSQL, each refusal read back in
//! the catalog and the cluster, each re-run compared object by object.

use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use uis_e2e::Env;

fn b64d(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

fn get(env: &Env, api: &str, kind: &str, app: &str) -> Option<Value> {
    env.standin
        .get(api, kind, Some("postgrest"), &format!("{app}-postgrest"))
}

/// The Secret's data, decoded.
fn secret_data(env: &Env, app: &str) -> BTreeMap<String, String> {
    let s = get(env, "v1", "Secret", app).expect("the Secret");
    s["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), b64d(v.as_str().unwrap())))
        .collect()
}

/// The deploy record (the Secret's annotation).
fn record(env: &Env, app: &str) -> Value {
    let s = get(env, "v1", "Secret", app).expect("the Secret");
    serde_json::from_str(
        s["metadata"]["annotations"]["uis.sovereignsky.no/deploy-options"]
            .as_str()
            .expect("the record annotation"),
    )
    .unwrap()
}

/// Every ACL, default ACL and membership in the app's database and the
/// cluster: the grants as the catalog has them.
fn grants(env: &Env, db: &str) -> Vec<String> {
    let mut c = env.pg.connect(db);
    c.query(
        "select 'rel ' || n.nspname || '.' || c.relname || ' ' || coalesce(c.relacl::text, '-')
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
         union all
         select 'schema ' || nspname || ' ' || coalesce(nspacl::text, '-') from pg_namespace
         union all
         select 'default ' || defaclrole::regrole::text || ' ' || coalesce(defaclnamespace::regnamespace::text, '-') || ' ' || defaclacl::text from pg_default_acl
         union all
         select 'member ' || roleid::regrole::text || ' ' || member::regrole::text from pg_auth_members
         union all
         select 'db ' || datname || ' ' || coalesce(datacl::text, '-') from pg_database
         order by 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The Deployment's PGRST_* env (name and where it comes from), its
/// generation, replicas and image.
fn deployment(env: &Env, app: &str) -> (Value, i64, i64, String) {
    let d = get(env, "apps/v1", "Deployment", app).expect("the Deployment");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    (
        c["env"].clone(),
        d["metadata"]["generation"].as_i64().unwrap(),
        d["spec"]["replicas"].as_i64().unwrap(),
        c["image"].as_str().unwrap().to_string(),
    )
}

fn sql(env: &Env, db: &str, sql: &str) {
    env.pg
        .connect(db)
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn anon_reads(env: &Env, db: &str, anon: &str, table: &str) -> bool {
    env.pg
        .connect(db)
        .query_one(
            "select has_table_privilege($1, $2::text::regclass, 'SELECT')",
            &[&anon, &table],
        )
        .unwrap()
        .get(0)
}

/// App `app` (owner `app`, database `app_db`) with schemas `api` and
/// `auth`, a table in each owned by the owner.
fn configure(env: &Env, app: &str) -> String {
    env.run(
        "uis-db-configure",
        &[app, "--schemas", "api,auth", "--json"],
    )
    .ok();
    let db = format!("{}_db", app.replace('-', "_"));
    sql(
        env,
        &db,
        &format!(
            "create table api.trains(id int primary key); create table auth.staff(id int primary key, secret text);
             alter table api.trains owner to {app}; alter table auth.staff owner to {app};"
        ),
    );
    db
}

/// A refused deploy: exit 1, phase `role`, the rule and the fix on stderr
/// and in the JSON, and nothing changed (no Secret, no new role, no grant).
fn refused(env: &Env, app: &str, db: &str, args: &[&str], rule: &str, fix: &str) {
    let before = grants(env, db);
    let roles = |env: &Env| -> i64 {
        env.pg
            .connect("postgres")
            .query_one("select count(*) from pg_roles", &[])
            .unwrap()
            .get(0)
    };
    let roles_before = roles(env);
    let mut all = vec![app];
    all.extend_from_slice(args);
    all.push("--json");
    let out = env.run("uis-postgrest-deploy", &all);
    out.expect_code(1).no_secret_on_stderr(&[&env.pg.password]);
    let j = out.json();
    assert_eq!(j["status"], "error", "{}", out.stdout);
    assert_eq!(j["phase"], "role", "{}", out.stdout);
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("({rule} rule)")) && detail.contains("nothing was changed"),
        "{rule}: {detail}"
    );
    let hint = j["hint"].as_str().unwrap();
    assert!(hint.contains(fix), "{rule}: hint {hint:?} lacks {fix:?}");
    assert!(out.stderr.contains(detail), "{}", out.stderr);
    assert_eq!(grants(env, db), before, "{rule}: no grant changed");
    assert_eq!(roles(env), roles_before, "{rule}: no role created");
    assert!(
        get(env, "v1", "Secret", app).is_none(),
        "{rule}: no Secret written"
    );
}

#[test]
fn a_superuser_is_refused_as_each_api_role() {
    let env = Env::new();
    let db = configure(&env, "su");
    // The server's own superuser (on proxied not `postgres`, the admin).
    let su = env.superuser();
    for flag in ["--anon-role", "--authenticated-role", "--authenticator"] {
        refused(&env, "su", &db, &[flag, su], "superuser", "leave");
    }
    // The superuser's password still works: it was never altered.
    env.psql(&[&env.pg.url("postgres"), "-c", "select 1"]).ok();
}

#[test]
fn the_apps_owner_and_the_databases_owner_are_refused() {
    let env = Env::new();
    let db = configure(&env, "own");
    refused(
        &env,
        "own",
        &db,
        &["--anon-role", "own"],
        "app owner",
        "--anon-role",
    );
    refused(
        &env,
        "own",
        &db,
        &["--authenticator", "own"],
        "app owner",
        "--authenticator",
    );
    sql(
        &env,
        "postgres",
        // The admin keeps its way in (on proxied it is no superuser).
        &format!(
            "create role dbo nologin; alter database {db} owner to dbo; grant connect on database {db} to postgres"
        ),
    );
    refused(
        &env,
        "own",
        &db,
        &["--authenticated-role", "dbo"],
        "database owner",
        "--authenticated-role",
    );
}

#[test]
fn roles_with_bypassrls_createrole_createdb_or_replication_are_refused() {
    let env = Env::new();
    let db = configure(&env, "attrs");
    for attr in ["BYPASSRLS", "CREATEROLE", "CREATEDB", "REPLICATION"] {
        let role = format!("r_{}", attr.to_lowercase());
        sql(
            &env,
            "postgres",
            &format!("create role {role} nologin {attr}"),
        );
        refused(
            &env,
            "attrs",
            &db,
            &["--anon-role", &role],
            attr,
            &format!("ALTER ROLE \"{role}\" NO{attr}"),
        );
    }
}

#[test]
fn an_owner_of_objects_in_the_exposed_schemas_is_refused() {
    let env = Env::new();
    let db = configure(&env, "objs");
    sql(&env, "postgres", "create role table_owner nologin");
    sql(
        &env,
        &db,
        "create table api.owned(id int); alter table api.owned owner to table_owner",
    );
    refused(
        &env,
        "objs",
        &db,
        &["--schemas", "api", "--authenticated-role", "table_owner"],
        "object owner",
        "REASSIGN OWNED BY \"table_owner\"",
    );
    // A function counts too.
    sql(&env, "postgres", "create role fn_owner nologin");
    sql(
        &env,
        &db,
        "create function api.f() returns int language sql as 'select 1'; alter function api.f() owner to fn_owner",
    );
    refused(
        &env,
        "objs",
        &db,
        &["--schemas", "api", "--anon-role", "fn_owner"],
        "object owner",
        "REASSIGN OWNED BY \"fn_owner\"",
    );
    // Outside the exposed schemas it does not matter.
    let out = env.run(
        "uis-postgrest-deploy",
        &[
            "objs",
            "--schemas",
            "auth",
            "--anon-role",
            "fn_owner",
            "--grants",
            "none",
            "--no-wait",
            "--json",
        ],
    );
    out.ok();
}

#[test]
fn a_member_of_a_privileged_role_through_any_chain_is_refused() {
    let env = Env::new();
    let db = configure(&env, "chain");
    // web -> mid -> the superuser: anon would reach it.
    let su = env.superuser();
    sql(
        &env,
        "postgres",
        &format!(
            "create role web nologin; create role mid nologin; grant mid to web; grant {su} to mid"
        ),
    );
    refused(
        &env,
        "chain",
        &db,
        &["--anon-role", "web"],
        "superuser",
        &format!("REVOKE \"{su}\" FROM \"mid\""),
    );
    let out = env.run(
        "uis-postgrest-deploy",
        &["chain", "--anon-role", "web", "--json"],
    );
    assert!(
        out.stderr.contains(&format!("web -> mid -> {su}")),
        "the chain is named: {}",
        out.stderr
    );
    // An authenticator made a member of the app's owner by hand.
    sql(
        &env,
        "postgres",
        "create role hand_auth login noinherit; grant chain to hand_auth",
    );
    refused(
        &env,
        "chain",
        &db,
        &["--authenticator", "hand_auth"],
        "app owner",
        "REVOKE \"chain\" FROM \"hand_auth\"",
    );
    // A predefined role that reads every table whatever the grants.
    sql(
        &env,
        "postgres",
        "create role reader nologin; grant pg_read_all_data to reader",
    );
    refused(
        &env,
        "chain",
        &db,
        &["--authenticated-role", "reader"],
        "predefined role",
        "REVOKE \"pg_read_all_data\" FROM \"reader\"",
    );
    // A membership that does not inherit still counts: SET ROLE (what
    // PostgREST does) reaches it. PostgreSQL 16+ puts the options on the
    // grant; before, INHERIT is the member's attribute.
    let version: u32 = env.pg.server_version_num();
    if version >= 160000 {
        sql(
            &env,
            "postgres",
            "create role quiet nologin; grant chain to quiet with inherit false, set false",
        );
    } else {
        sql(
            &env,
            "postgres",
            "create role quiet nologin noinherit; grant chain to quiet",
        );
    }
    refused(
        &env,
        "chain",
        &db,
        &["--anon-role", "quiet"],
        "app owner",
        "REVOKE \"chain\" FROM \"quiet\"",
    );
}

#[test]
fn the_suite_never_changes_a_password_it_did_not_issue() {
    if uis_e2e::in_cluster_only(
        "postgres is no superuser there, so it cannot read whether a role has a password (pg_authid): every --authenticator of a role the suite did not create is refused (managed_admin:: tests that refusal), and the first-password and hand-set-password paths this test walks need a superuser admin",
    ) {
        return;
    }
    let env = Env::new();
    let db = configure(&env, "pw");
    sql(
        &env,
        "postgres",
        &format!(
            "create role ext_auth login noinherit password 'their-own-password-1'; grant connect on database {db} to ext_auth"
        ),
    );
    let before = grants(&env, &db);
    let out = env.run(
        "uis-postgrest-deploy",
        &["pw", "--authenticator", "ext_auth", "--json"],
    );
    out.expect_code(1);
    let j = out.json();
    assert_eq!(j["phase"], "role");
    assert!(
        j["detail"]
            .as_str()
            .unwrap()
            .contains("never changes the password of a role it did not create"),
        "{}",
        out.stdout
    );
    assert!(
        j["hint"].as_str().unwrap().contains("PASSWORD NULL"),
        "{}",
        out.stdout
    );
    assert_eq!(grants(&env, &db), before);
    let theirs = format!(
        "postgresql://ext_auth:their-own-password-1@127.0.0.1:{}/{db}",
        env.pg.port
    );
    env.psql(&[&theirs, "-c", "select 1"]).ok();
    // A role with no password at all gets its first one (nobody is locked
    // out), and from then on the suite may rotate the password it issued.
    sql(&env, "postgres", "alter role ext_auth password null");
    env.run(
        "uis-postgrest-deploy",
        &["pw", "--authenticator", "ext_auth", "--no-wait", "--json"],
    )
    .ok();
    let uri = secret_data(&env, "pw")["PGRST_DB_URI"].clone();
    env.run(
        "uis-postgrest-deploy",
        &["pw", "--rotate-password", "--no-wait", "--json"],
    )
    .ok();
    assert_ne!(secret_data(&env, "pw")["PGRST_DB_URI"], uri);
    // Someone sets a password of their own: the suite no longer touches it.
    sql(
        &env,
        "postgres",
        "alter role ext_auth password 'their-own-password-2'",
    );
    let out = env.run(
        "uis-postgrest-deploy",
        &["pw", "--rotate-password", "--json"],
    );
    out.expect_code(1);
    assert_eq!(out.json()["phase"], "role");
    let theirs = format!(
        "postgresql://ext_auth:their-own-password-2@127.0.0.1:{}/{db}",
        env.pg.port
    );
    env.psql(&[&theirs, "-c", "select 1"]).ok();
}

/// Everything a re-run must keep, read back from the cluster and catalog.
#[derive(Debug, PartialEq)]
struct State {
    secret: BTreeMap<String, String>,
    record: Value,
    grants: Vec<String>,
    env: Value,
    generation: i64,
    replicas: i64,
    image: String,
    url_prefix: Value,
}

fn state(env: &Env, app: &str, db: &str) -> State {
    let (env_vars, generation, replicas, image) = deployment(env, app);
    State {
        secret: secret_data(env, app),
        record: record(env, app),
        grants: grants(env, db),
        env: env_vars,
        generation,
        replicas,
        image,
        url_prefix:
            get(env, "traefik.io/v1alpha1", "IngressRoute", app).unwrap()["metadata"]["annotations"]
                ["uis.sovereignsky.no/url-prefix"]
                .clone(),
    }
}

/// The first deploy of the issue: one schema, no grants, and every other
/// choice away from its default.
fn first_deploy(env: &Env, app: &str) {
    env.run(
        "uis-postgrest-deploy",
        &[
            app,
            "--schemas",
            "api",
            "--grants",
            "none",
            "--replicas",
            "3",
            "--image",
            "postgrest/postgrest:v13.0.4",
            "--url-prefix",
            "trains",
            "--jwt-aud",
            "trains-api",
            "--no-wait",
            "--json",
        ],
    )
    .ok();
}

#[test]
fn re_runs_keep_every_choice_they_are_not_asked_to_change() {
    let env = Env::new();
    let db = configure(&env, "keep");
    first_deploy(&env, "keep");
    let anon = "keep_web_anon";
    let s0 = state(&env, "keep", &db);
    assert_eq!(s0.secret["PGRST_DB_SCHEMAS"], "api");
    assert_eq!(s0.record["grants"], "none");
    assert_eq!(s0.record["schemas"], serde_json::json!(["api"]));
    assert_eq!(s0.replicas, 3);
    assert!(!anon_reads(&env, &db, anon, "auth.staff"));
    assert!(!anon_reads(&env, &db, anon, "api.trains"));

    // No flags: nothing at all changes.
    let out = env.run("uis-postgrest-deploy", &["keep", "--no-wait", "--json"]);
    out.ok();
    assert_eq!(out.json()["status"], "unchanged", "{}", out.stdout);
    assert_eq!(state(&env, "keep", &db), s0);

    // --rotate-jwt-secret: the JWT secret, and the pods roll (generation + 1).
    env.run(
        "uis-postgrest-deploy",
        &["keep", "--rotate-jwt-secret", "--no-wait", "--json"],
    )
    .ok();
    let s1 = state(&env, "keep", &db);
    assert_ne!(s1.secret["PGRST_JWT_SECRET"], s0.secret["PGRST_JWT_SECRET"]);
    let mut expect = s0.secret.clone();
    expect.insert(
        "PGRST_JWT_SECRET".into(),
        s1.secret["PGRST_JWT_SECRET"].clone(),
    );
    assert_eq!(s1.secret, expect, "only PGRST_JWT_SECRET changed");
    assert_eq!(s1.grants, s0.grants, "no grant changed");
    assert_eq!(s1.env, s0.env);
    assert_eq!(s1.generation, s0.generation + 1);
    assert_eq!(
        (&s1.record, s1.replicas, &s1.image, &s1.url_prefix),
        (&s0.record, s0.replicas, &s0.image, &s0.url_prefix)
    );
    assert!(
        !anon_reads(&env, &db, anon, "auth.staff"),
        "anon never reads auth.staff"
    );

    // --rotate-password: PGRST_DB_URI only.
    env.run(
        "uis-postgrest-deploy",
        &["keep", "--rotate-password", "--no-wait", "--json"],
    )
    .ok();
    let s2 = state(&env, "keep", &db);
    let mut expect = s1.secret.clone();
    expect.insert("PGRST_DB_URI".into(), s2.secret["PGRST_DB_URI"].clone());
    assert_ne!(s2.secret["PGRST_DB_URI"], s1.secret["PGRST_DB_URI"]);
    assert_eq!(s2.secret, expect, "only PGRST_DB_URI changed");
    assert_eq!(s2.grants, s1.grants);
    assert_eq!(s2.env, s1.env);
    assert_eq!(s2.generation, s1.generation + 1);
    assert_eq!(s2.record, s1.record);

    // --replicas 5: the replicas (recorded), nothing else.
    env.run(
        "uis-postgrest-deploy",
        &["keep", "--replicas", "5", "--no-wait", "--json"],
    )
    .ok();
    let s3 = state(&env, "keep", &db);
    assert_eq!(s3.replicas, 5);
    assert_eq!(s3.secret, s2.secret);
    assert_eq!(s3.grants, s2.grants);
    assert_eq!(s3.env, s2.env);
    assert_eq!(s3.generation, s2.generation + 1);
    let mut rec = s2.record.clone();
    rec["replicas"] = 5.into();
    assert_eq!(s3.record, rec);
    assert_eq!((&s3.image, &s3.url_prefix), (&s0.image, &s0.url_prefix));

    // And a plain re-run after all of them still changes nothing.
    let out = env.run("uis-postgrest-deploy", &["keep", "--no-wait", "--json"]);
    assert_eq!(out.json()["status"], "unchanged", "{}", out.stdout);
    assert_eq!(state(&env, "keep", &db), s3);
}

#[test]
fn widening_needs_the_flag_and_dry_run_shows_the_difference() {
    let env = Env::new();
    let db = configure(&env, "wide");
    first_deploy(&env, "wide");
    let anon = "wide_web_anon";
    let s0 = state(&env, "wide", &db);

    // --dry-run of the widening: the difference, and nothing changes.
    let out = env.run(
        "uis-postgrest-deploy",
        &[
            "wide",
            "--schemas",
            "api,auth",
            "--grants",
            "anon-select",
            "--dry-run",
            "--json",
        ],
    );
    out.ok();
    let j = out.json();
    assert_eq!(
        j["anon_reads"]["added"],
        serde_json::json!(["SELECT on api.trains", "SELECT on auth.staff"]),
        "{}",
        out.stdout
    );
    assert_eq!(j["anon_reads"]["removed"], serde_json::json!([]));
    assert_eq!(j["record"]["schemas"], serde_json::json!(["api", "auth"]));
    assert!(
        j["sql"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "GRANT SELECT ON ALL TABLES IN SCHEMA \"auth\" TO \"wide_web_anon\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("can now read through the API: SELECT on api.trains, SELECT on auth.staff"),
        "{}",
        out.stderr
    );
    assert_eq!(state(&env, "wide", &db), s0, "--dry-run changed nothing");

    // Done for real: the same difference, printed; anon reads both.
    let out = env.run(
        "uis-postgrest-deploy",
        &[
            "wide",
            "--schemas",
            "api,auth",
            "--grants",
            "anon-select",
            "--no-wait",
            "--json",
        ],
    );
    out.ok();
    assert_eq!(out.json()["anon_reads"], j["anon_reads"]);
    assert!(
        out.stderr.contains("can now read through the API"),
        "{}",
        out.stderr
    );
    assert!(anon_reads(&env, &db, anon, "auth.staff"));
    assert_eq!(secret_data(&env, "wide")["PGRST_DB_SCHEMAS"], "api,auth");

    // Narrowing the schemas: auth is no longer exposed, which is printed.
    let out = env.run(
        "uis-postgrest-deploy",
        &["wide", "--schemas", "api", "--no-wait", "--json"],
    );
    out.ok();
    assert_eq!(
        out.json()["anon_reads"]["removed"],
        serde_json::json!(["SELECT on auth.staff"])
    );
    assert!(
        out.stderr
            .contains("no longer reads through the API: SELECT on auth.staff"),
        "{}",
        out.stderr
    );

    // A table added later is not granted by a re-run without --grants: the
    // run says so instead.
    // Made by the admin, as in-cluster (where the admin is the superuser).
    env.admin_connect(&db)
        .batch_execute("create table api.later(id int)")
        .unwrap();
    let before = grants(&env, &db);
    let out = env.run("uis-postgrest-deploy", &["wide", "--no-wait", "--json"]);
    out.ok();
    assert_eq!(grants(&env, &db), before);
    assert!(!anon_reads(&env, &db, anon, "api.later"));
    assert!(
        out.stderr.contains("never widens what anon reads")
            && out.stderr.contains("--grants anon-select"),
        "{}",
        out.stderr
    );

    // A new anon role gets the recorded grants (its flag asks for it), and
    // the difference is against what the old anon role read.
    let out = env.run(
        "uis-postgrest-deploy",
        &["wide", "--anon-role", "wide_reader", "--no-wait", "--json"],
    );
    out.ok();
    assert_eq!(
        out.json()["anon_reads"],
        serde_json::json!({"added": ["SELECT on api.later"], "removed": []})
    );
    assert!(anon_reads(&env, &db, "wide_reader", "api.trains"));
    assert_eq!(record(&env, "wide")["anon"], "wide_reader");
    assert_eq!(record(&env, "wide")["grants"], "anon-select");
}

#[test]
fn a_deployment_made_before_the_record_is_read_back_not_defaulted() {
    let env = Env::new();
    let db = configure(&env, "old");
    first_deploy(&env, "old");
    // As an older suite left it: no record on the Secret.
    let mut s = get(&env, "v1", "Secret", "old").unwrap();
    s["metadata"].as_object_mut().unwrap().remove("annotations");
    env.standin.put(s);
    let grants_before = grants(&env, &db);
    let (env_before, generation, replicas, image) = deployment(&env, "old");
    env.run(
        "uis-postgrest-deploy",
        &["old", "--rotate-jwt-secret", "--no-wait", "--json"],
    )
    .ok();
    let data = secret_data(&env, "old");
    assert_eq!(data["PGRST_DB_SCHEMAS"], "api", "not the app's api,auth");
    assert_eq!(data["PGRST_JWT_AUD"], "trains-api");
    assert_eq!(grants(&env, &db), grants_before, "no grant added");
    assert!(!anon_reads(&env, &db, "old_web_anon", "auth.staff"));
    let (env_after, generation_after, replicas_after, image_after) = deployment(&env, "old");
    assert_eq!(env_after, env_before);
    assert_eq!(
        generation_after,
        generation + 1,
        "the new secret rolls the pods"
    );
    assert_eq!((replicas_after, image_after), (replicas, image));
    // The record is written now, from what was live.
    let r = record(&env, "old");
    assert_eq!(r["schemas"], serde_json::json!(["api"]));
    assert_eq!(r["grants"], "none");
    assert_eq!(r["replicas"], 3);
    assert_eq!(r["url_prefix"], "trains");
    assert_eq!(r["image"], "postgrest/postgrest:v13.0.4");
}

fn doctor_api_roles(env: &Env, app: &str) -> (i32, Value) {
    let out = env.run("uis-db-doctor", &[app, "--json"]);
    out.no_secret_on_stderr(&[&env.pg.password]);
    let j = out.json();
    let check = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "api-roles")
        .cloned()
        .expect("an api-roles check");
    (out.code, check)
}

#[test]
fn doctor_fails_on_privileged_wiring_whoever_made_it() {
    let env = Env::new();
    let db = configure(&env, "doc");
    env.run(
        "uis-postgrest-deploy",
        &["doc", "--schemas", "api", "--no-wait", "--json"],
    )
    .ok();
    let (_, c) = doctor_api_roles(&env, "doc");
    assert_eq!(c["status"], "pass", "{c}");

    // Someone grants the superuser to the authenticator by hand.
    let su = env.superuser();
    sql(
        &env,
        "postgres",
        &format!("grant {su} to doc_authenticator"),
    );
    let (code, c) = doctor_api_roles(&env, "doc");
    assert_eq!(code, 1);
    assert_eq!(c["status"], "fail", "{c}");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("doc_authenticator -> {su}")) && msg.contains("superuser rule"),
        "{msg}"
    );
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("REVOKE \"{su}\" FROM \"doc_authenticator\"")),
        "{c}"
    );
    sql(
        &env,
        "postgres",
        &format!("revoke {su} from doc_authenticator"),
    );

    // anon is made to own a table in the exposed schema.
    sql(&env, &db, "alter table api.trains owner to doc_web_anon");
    let (code, c) = doctor_api_roles(&env, "doc");
    assert_eq!(code, 1);
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("owns table api.trains"),
        "{c}"
    );
    sql(&env, &db, "alter table api.trains owner to doc");

    // authenticated gets BYPASSRLS.
    sql(&env, "postgres", "alter role doc_authenticated bypassrls");
    let (code, c) = doctor_api_roles(&env, "doc");
    assert_eq!(code, 1);
    assert!(c["message"].as_str().unwrap().contains("BYPASSRLS"), "{c}");
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("ALTER ROLE \"doc_authenticated\" NOBYPASSRLS"),
        "{c}"
    );
    sql(&env, "postgres", "alter role doc_authenticated nobypassrls");
    let (_, c) = doctor_api_roles(&env, "doc");
    assert_eq!(c["status"], "pass", "{c}");
}

/// `uis db configure --with-roles postgrest` follows the same rules as the
/// deploy: privileged API roles are refused before any change, and an
/// existing authenticator with a password of its own keeps it.
#[test]
fn configure_with_roles_postgrest_follows_the_same_rules() {
    let env = Env::new();
    let db = configure(&env, "cw");
    for flag in ["--anon-role", "--authenticated-role", "--authenticator"] {
        let before = grants(&env, &db);
        let out = env.run(
            "uis-db-configure",
            &[
                "cw",
                "--with-roles",
                "postgrest",
                flag,
                env.superuser(),
                "--json",
            ],
        );
        out.expect_code(1).no_secret_on_stderr(&[&env.pg.password]);
        let j = out.json();
        assert_eq!(j["phase"], "role", "{flag}: {}", out.stdout);
        assert!(
            j["detail"].as_str().unwrap().contains("(superuser rule)"),
            "{flag}: {}",
            out.stdout
        );
        assert_eq!(grants(&env, &db), before, "{flag}: nothing changed");
    }
    // The app's owner as anon: refused too (a usage error: one name for
    // two roles).
    let out = env.run(
        "uis-db-configure",
        &[
            "cw",
            "--with-roles",
            "postgrest",
            "--anon-role",
            "cw",
            "--json",
        ],
    );
    out.expect_code(2);
    assert_eq!(out.json()["phase"], "usage", "{}", out.stdout);
    // An authenticator with its own password: refused, the password works.
    sql(
        &env,
        "postgres",
        "create role ext_cw login noinherit password 'their-own-password-3'",
    );
    let out = env.run(
        "uis-db-configure",
        &[
            "cw",
            "--with-roles",
            "postgrest",
            "--authenticator",
            "ext_cw",
            "--json",
        ],
    );
    out.expect_code(1);
    let j = out.json();
    assert_eq!(j["phase"], "role", "{}", out.stdout);
    // A superuser admin reads that the role has a password (pg_authid) and
    // says how to hand it over; one that is no superuser (proxied) cannot
    // read it, and says to let the suite make its own authenticator.
    let hint = match env.topology {
        uis_e2e::Topology::InCluster => "PASSWORD NULL",
        uis_e2e::Topology::Proxied => "leave --authenticator out",
    };
    assert!(j["hint"].as_str().unwrap().contains(hint), "{}", out.stdout);
    let theirs = format!(
        "postgresql://ext_cw:their-own-password-3@127.0.0.1:{}/postgres",
        env.pg.port
    );
    env.psql(&[&theirs, "-c", "select 1"]).ok();
    // The default roles (created by the suite) still work.
    env.run(
        "uis-db-configure",
        &["cw", "--with-roles", "postgrest", "--json"],
    )
    .ok();
}
