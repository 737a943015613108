//! `uis db configure APP --owner-createrole` (F1 on PostgreSQL 16+): the
//! owner gets CREATEROLE, so the design card's
//! `kubectl uis-db-psql railway < 01-roles.sql` runs as the owner; 16
//! limits CREATEROLE to the roles it creates, so the owner cannot escalate;
//! before 16 the flag is refused with the reason. Role and database DDL
//! refused to the owner ends with the hint to add `--as admin` (issue 23).
//! Runs on every version (scripts/pg-matrix).

use uis_e2e::Env;

fn roles_sql() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/railway/db/01-roles.sql");
    std::fs::read_to_string(p).unwrap()
}

fn createrole(env: &Env, role: &str) -> bool {
    env.pg
        .connect("postgres")
        .query_one(
            "select rolcreaterole from pg_roles where rolname = $1",
            &[&role],
        )
        .unwrap()
        .get(0)
}

#[test]
fn owner_createrole_on_16_and_newer_refused_before() {
    let env = Env::new();
    let v16 = env.pg.server_version_num() >= 160000;
    let args = [
        "railway",
        "--database",
        "railway",
        "--schemas",
        "railway",
        "--owner-createrole",
        "--json",
    ];
    let out = env.run("uis-db-configure", &args);
    if !v16 {
        assert_eq!(out.code, 1, "{}", out.stderr);
        for part in [
            "--owner-createrole needs PostgreSQL 16",
            "Restrict the privileges of CREATEROLE",
            "nothing was changed",
            "--as admin",
        ] {
            assert!(out.stderr.contains(part), "{part}: {}", out.stderr);
        }
        let n: i64 = env
            .pg
            .connect("postgres")
            .query_one(
                "select count(*) from pg_roles where rolname = 'railway'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 0);
        return;
    }
    out.ok();
    let j = out.json();
    assert_eq!(j["owner_createrole"], true);
    assert_eq!(j["next_steps"][0], "uis db psql railway -f db/01-roles.sql");
    assert!(createrole(&env, "railway"));

    // The design card: the role DDL as the owner, from stdin.
    let out = env.run_stdin("uis-db-psql", &["railway"], &roles_sql());
    out.ok();
    let mut c = env.pg.connect("postgres");
    let row = c
        .query_one(
            "select pg_has_role('authenticator', 'anon', 'MEMBER'),
                    (select string_agg(rolname, ',' order by rolname) from pg_roles
                      where rolname in ('authenticator', 'anon', 'authenticated'))",
            &[],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "anon,authenticated,authenticator");

    // 16's limits: no role the owner did not create, no attribute it lacks.
    for sql in [
        "GRANT pg_execute_server_program TO railway",
        "ALTER ROLE postgres PASSWORD 'x'",
        "CREATE ROLE sneaky CREATEDB",
    ] {
        let out = env.run("uis-db-psql", &["railway", "-c", sql]);
        assert_eq!(out.code, 3, "{sql}: {}", out.stderr);
        assert!(
            out.stderr.contains("permission denied"),
            "{sql}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("--as admin"), "{sql}: {}", out.stderr);
    }

    // A re-run without the flag keeps it, and says so.
    let plain = [
        "railway",
        "--database",
        "railway",
        "--schemas",
        "railway",
        "--json",
    ];
    let again = env.run("uis-db-configure", &plain);
    again.ok();
    assert_eq!(again.json()["owner_createrole"], true);
    assert_eq!(again.json()["changes"], serde_json::json!([]));
    assert!(createrole(&env, "railway"));
    // --no-owner-createrole takes it away.
    let mut off = plain.to_vec();
    off.push("--no-owner-createrole");
    let out = env.run("uis-db-configure", &off);
    out.ok();
    assert_eq!(out.json()["owner_createrole"], false);
    assert!(!createrole(&env, "railway"));
}

#[test]
fn role_and_database_ddl_as_the_owner_hint_at_as_admin() {
    let env = Env::new();
    let v16 = env.pg.server_version_num() >= 160000;
    env.run(
        "uis-db-configure",
        &["shop", "--database", "shop", "--schemas", "shop", "--json"],
    )
    .ok();
    let roles = env.path("roles.sql");
    std::fs::write(&roles, roles_sql().replace("railway", "shop")).unwrap();
    let roles = roles.to_str().unwrap();
    let out = env.run("uis-db-psql", &["shop", "-f", roles]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let want = format!(
        "hint: role DDL needs the admin: add --as admin: `uis db psql shop -f {roles} --as admin`"
    );
    assert!(out.stderr.contains(&want), "{want}\n{}", out.stderr);
    // On 16+ the owner could run it with --owner-createrole.
    assert_eq!(
        out.stderr
            .contains("uis db configure shop --owner-createrole"),
        v16,
        "{}",
        out.stderr
    );
    // The same as a seed directory.
    let dir = env.path("db");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(roles, dir.join("01-roles.sql")).unwrap();
    let out = env.run("uis-db-seed", &["shop", dir.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let want = format!(
        "add --as admin: `uis db seed shop {} --as admin`",
        dir.display()
    );
    assert!(out.stderr.contains(&want), "{want}\n{}", out.stderr);
    // Database DDL: the admin only.
    let out = env.run("uis-db-psql", &["shop", "-c", "CREATE DATABASE other"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("hint: database DDL needs the admin: add --as admin"),
        "{}",
        out.stderr
    );
    // With --as admin it runs.
    env.run(
        "uis-db-seed",
        &["shop", dir.to_str().unwrap(), "--as", "admin"],
    )
    .ok();
}
