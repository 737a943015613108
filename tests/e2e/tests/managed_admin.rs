//! The whole onboarding with a non-superuser admin, as managed PostgreSQL
//! has (Azure's admin is LOGIN NOSUPERUSER CREATEROLE CREATEDB; CloudNativePG
//! without superuser access): configure, the Railway DDL as the admin, the
//! data as the owner, PostgREST's roles, tokens, `psql --as admin`, doctor,
//! and purge; a configure that fails half-way is finished by the next run;
//! an untrusted extension names the provider's allow-list (issue 22). Runs
//! on every PostgreSQL version (scripts/pg-matrix): 16 changed what
//! CREATEROLE may do (ADMIN on the roles it creates, without SET/INHERIT).

use std::path::PathBuf;
use std::process::Command;
use uis_e2e::{Env, Out, output};

const ADMIN: &str = "cloudadmin";

/// An admin role LOGIN NOSUPERUSER CREATEROLE CREATEDB (created by the
/// server's superuser, as the provider does) with its password in Secret
/// `cloudadmin` key `password`.
fn managed(env: &Env, extra: &str) -> String {
    let pw = uis_harness::pg::random_alnum(32);
    uis_e2e::remember_secret(&pw);
    env.pg
        .connect("postgres")
        .batch_execute(&format!(
            "CREATE ROLE {ADMIN} LOGIN NOSUPERUSER CREATEROLE {extra} PASSWORD '{pw}'"
        ))
        .unwrap();
    env.standin.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": ADMIN, "namespace": "default"},
        "data": {"password": uis_e2e::base64_encode(pw.as_bytes())},
    }));
    pw
}

/// A binary run with the managed admin (`UIS_PG_SUPERUSER`,
/// `UIS_ADMIN_SECRETS`, as a user would export them).
fn run(env: &Env, bin: &str, args: &[&str]) -> Out {
    let mut c: Command = env.cmd(bin);
    c.args(args)
        .env("UIS_PG_SUPERUSER", ADMIN)
        .env("UIS_ADMIN_SECRETS", format!("{ADMIN}/password"));
    output(&mut c)
}

fn railway_db(env: &Env) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway/db");
    let dst = env.path("db");
    copy_dir(&src, &dst);
    dst
}

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

fn count(env: &Env, token: &str, sql: &str) -> String {
    let out = run(
        env,
        "uis-db-psql",
        &["railway", "--jwt", token, "-c", sql, "--format", "csv"],
    );
    out.ok();
    out.stdout.lines().last().unwrap_or("").to_string()
}

#[test]
fn a_non_superuser_admin_onboards_railway_and_purges_it() {
    let env = Env::new();
    let admin_pw = managed(&env, "CREATEDB");
    let secrets = [admin_pw.as_str(), env.pg.password.as_str()];
    let db = railway_db(&env);
    let db = db.to_str().unwrap();
    let configure = [
        "railway",
        "--database",
        "railway",
        "--owner",
        "railway_owner",
        "--schemas",
        "railway,auth",
        "--extensions",
        "citext",
        "--json",
    ];
    let out = run(&env, "uis-db-configure", &configure);
    out.ok().no_secret_on_stderr(&secrets);
    assert_eq!(out.json()["admin"]["username"], ADMIN);
    let again = run(&env, "uis-db-configure", &configure);
    again.ok();
    assert_eq!(
        again.json()["changes"],
        serde_json::json!([]),
        "{}",
        again.stdout
    );

    // The Railway DDL as the admin (01-roles.sql creates PostgREST's roles,
    // 02 on run SET ROLE railway_owner), the data as the owner.
    run(
        &env,
        "uis-db-seed",
        &["railway", db, "--as", "admin", "--json"],
    )
    .ok()
    .no_secret_on_stderr(&secrets);
    let seeds = format!("{db}/seeds");
    run(&env, "uis-db-seed", &["railway", &seeds, "--json"]).ok();
    // The DDL's own `authenticator`: this admin cannot read pg_authid, so it
    // cannot tell whether that role has a password of its own; the suite
    // never changes one it did not issue, so it refuses and says why.
    let deploy = |authenticator: Option<&str>| {
        let mut args = vec!["railway", "--schemas", "railway"];
        if let Some(a) = authenticator {
            args.extend(["--authenticator", a]);
        }
        args.extend([
            "--anon-role",
            "anon",
            "--authenticated-role",
            "authenticated",
            "--grants",
            "none",
            "--json",
        ]);
        run(&env, "uis-postgrest-deploy", &args)
    };
    let out = deploy(Some("authenticator"));
    out.expect_code(1).no_secret_on_stderr(&secrets);
    assert_eq!(out.json()["phase"], "role", "{}", out.stdout);
    assert!(
        out.json()["detail"]
            .as_str()
            .unwrap()
            .contains("cannot read whether the role has a password"),
        "{}",
        out.stdout
    );
    // The suite's own authenticator (railway_authenticator) it can own.
    let out = deploy(None);
    out.ok().no_secret_on_stderr(&secrets);

    let mint = |args: &[&str]| {
        let o = run(&env, "uis-jwt-mint", args);
        o.ok();
        o.stdout.trim().to_string()
    };
    let anon = mint(&["railway", "--role", "anon"]);
    let staff = mint(&["railway", "--role", "authenticated"]);
    assert_eq!(count(&env, &anon, "select count(*) from events"), "3");
    assert_eq!(
        count(&env, &staff, "select count(*) from registrations"),
        "6"
    );

    // psql as the admin: a role the admin creates and grants, and who it is.
    let out = run(
        &env,
        "uis-db-psql",
        &[
            "railway",
            "--as",
            "admin",
            "--format",
            "csv",
            "-c",
            "CREATE ROLE railway_report NOLOGIN",
            "-c",
            "GRANT railway_report TO railway_authenticator",
            "-c",
            "select current_user, current_setting('is_superuser')",
        ],
    );
    out.ok().no_secret_on_stderr(&secrets);
    assert!(
        out.stdout.contains(&format!("{ADMIN},off")),
        "{}",
        out.stdout
    );

    // doctor: healthy, and says the admin is no superuser.
    let out = run(&env, "uis-db-doctor", &["railway", "--json"]);
    out.no_secret_on_stderr(&secrets);
    let j = out.json();
    let checks = j["checks"].as_array().unwrap();
    let failed: Vec<_> = checks.iter().filter(|c| c["status"] == "fail").collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let admin = checks
        .iter()
        .find(|c| c["id"] == "admin")
        .unwrap_or_else(|| panic!("no admin check: {checks:#?}"));
    assert!(
        admin["message"]
            .as_str()
            .unwrap()
            .contains("not a superuser"),
        "{admin}"
    );
    if let Ok(v) = std::env::var("UIS_PG_VERSION")
        && !v.is_empty()
    {
        let want = format!("(PostgreSQL {v}.");
        assert!(
            admin["message"].as_str().unwrap().contains(&want),
            "{want}: {admin}"
        );
    }
    assert_eq!(out.code, 0, "{}", out.stderr);

    // Purge: PostgREST first, then the database and the roles it created.
    run(
        &env,
        "uis-postgrest-deploy",
        &["railway", "--purge", "--yes", "--json"],
    )
    .ok();
    let out = run(
        &env,
        "uis-db-configure",
        &["railway", "--purge", "--yes", "--json"],
    );
    out.ok();
    let mut c = env.pg.connect("postgres");
    let left: i64 = c
        .query_one(
            "select (select count(*) from pg_database where datname = 'railway')
                  + (select count(*) from pg_roles where rolname = 'railway_owner')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    // The admin is what it was.
    let row = c
        .query_one(
            "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = $1",
            &[&ADMIN],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, bool>(0), row.get(1), row.get(2)),
        (false, true, true)
    );
}

/// Configure fails at CREATE DATABASE (the admin lacks CREATEDB): the roles
/// and the Secret it made are what the re-run builds on, once the provider
/// grants CREATEDB.
#[test]
fn a_configure_that_fails_half_way_is_finished_by_the_next_run() {
    let env = Env::new();
    managed(&env, "NOCREATEDB");
    let args = ["half", "--schemas", "half", "--json"];
    let out = run(&env, "uis-db-configure", &args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("CREATE DATABASE"), "{}", out.stderr);
    assert!(out.stderr.contains("CREATEDB"), "{}", out.stderr);
    env.pg
        .connect("postgres")
        .batch_execute(&format!("ALTER ROLE {ADMIN} CREATEDB"))
        .unwrap();
    let out = run(&env, "uis-db-configure", &args);
    out.ok();
    let password = out.json()["password"].as_str().unwrap().to_string();
    let url = format!(
        "postgresql://half:{password}@127.0.0.1:{}/half_db",
        env.pg.port
    );
    let q = env.psql(&[&url, "-At", "-c", "create table half.t(id int)"]);
    q.ok();
    let again = run(&env, "uis-db-configure", &args);
    again.ok();
    assert_eq!(again.json()["changes"], serde_json::json!([]));
}

/// An extension only a superuser may create (not trusted) gets an error
/// that names the provider's allow-list, before any change.
#[test]
fn an_untrusted_extension_names_the_allow_list() {
    let env = Env::new();
    managed(&env, "CREATEDB");
    let out = run(
        &env,
        "uis-db-configure",
        &["ext", "--extensions", "dblink", "--json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    for part in ["dblink", "not trusted", "azure.extensions"] {
        assert!(out.stderr.contains(part), "{part}: {}", out.stderr);
    }
    let mut c = env.pg.connect("postgres");
    let n: i64 = c
        .query_one("select count(*) from pg_roles where rolname = 'ext'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "nothing was changed");
}

/// `uis postgrest deploy` creates PostgREST's roles (default names) and
/// their grants with the managed admin; doctor passes; purge drops them.
#[test]
fn postgrest_deploy_creates_its_roles_with_a_non_superuser_admin() {
    let env = Env::new();
    managed(&env, "CREATEDB");
    run(
        &env,
        "uis-db-configure",
        &["shop", "--schemas", "shop", "--json"],
    )
    .ok();
    run(
        &env,
        "uis-db-psql",
        &[
            "shop",
            "-c",
            "create table shop.items(id int); insert into shop.items values (1), (2)",
        ],
    )
    .ok();
    let out = run(
        &env,
        "uis-postgrest-deploy",
        &["shop", "--schemas", "shop", "--json"],
    );
    out.ok();
    let anon = run(&env, "uis-jwt-mint", &["shop", "--role", "anon"]);
    anon.ok();
    let token = anon.stdout.trim().to_string();
    let out = run(
        &env,
        "uis-db-psql",
        &[
            "shop",
            "--jwt",
            &token,
            "-c",
            "select count(*) from shop.items",
            "--format",
            "csv",
        ],
    );
    out.ok();
    assert_eq!(out.stdout.lines().last(), Some("2"), "{}", out.stdout);
    let out = run(&env, "uis-db-doctor", &["shop", "--json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    run(&env, "uis-postgrest-deploy", &["shop", "--purge", "--yes"]).ok();
    run(&env, "uis-db-configure", &["shop", "--purge", "--yes"]).ok();
    let left: i64 = env
        .pg
        .connect("postgres")
        .query_one(
            "select count(*) from pg_roles where rolname like 'shop%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

/// From 16, `createrole_self_grant = 'set, inherit'` (as a provider may
/// set for its admin) makes CREATE ROLE also grant the new role to its
/// creator: configure's own `GRANT owner TO admin` then meets an existing
/// membership, and a re-run and the purge still finish. Before 16 the
/// setting does not exist.
#[test]
fn createrole_self_grant_on_16_and_newer() {
    let env = Env::new();
    managed(&env, "CREATEDB");
    let set = env.pg.connect("postgres").batch_execute(&format!(
        "ALTER ROLE {ADMIN} SET createrole_self_grant = 'set, inherit'"
    ));
    let v16: u32 = env.pg.server_version_num();
    if v16 < 160000 {
        let e = set.expect_err("createrole_self_grant is new in 16");
        let m = e.as_db_error().map(|d| d.message().to_string());
        assert!(
            m.as_deref().unwrap_or("").contains("createrole_self_grant"),
            "{e:?}"
        );
        return;
    }
    set.unwrap();
    let args = ["selfgrant", "--schemas", "selfgrant", "--json"];
    run(&env, "uis-db-configure", &args).ok();
    let again = run(&env, "uis-db-configure", &args);
    again.ok();
    assert_eq!(again.json()["changes"], serde_json::json!([]));
    run(&env, "uis-db-configure", &["selfgrant", "--purge", "--yes"]).ok();
}
