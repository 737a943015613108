//! uis-db-psql through the stand-in's port-forward: the public corpora load
//! exactly as psql loads them, errors are located, and --jwt runs SQL as
//! PostgREST would (issues: script engine and uis-db-psql; JWT mint).

use std::path::PathBuf;
use uis_e2e::Env;

fn corpus(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora")
        .join(rel);
    assert!(
        p.exists(),
        "corpus {} is missing (the shared/ folder beside the project)",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

fn count(env: &Env, db: &str, sql: &str) -> i64 {
    env.pg.connect(db).query_one(sql, &[]).unwrap().get(0)
}

/// `pg_dump --no-owner`, or the catalogs read with SQL on a server newer
/// than the machine's pg_dump.
fn pg_dump(env: &Env, db: &str) -> String {
    env.pg.dump(db)
}

#[test]
fn pagila_loads_through_the_tunnel_like_psql() {
    let env = Env::new();
    let ours = env.pg.create_db("pagila_uis");
    let out = env.run(
        "uis-db-psql",
        &[
            "--as",
            "admin",
            "-d",
            &ours,
            "-1",
            "-f",
            &corpus("pagila/pagila-schema.sql"),
            "-f",
            &corpus("pagila/pagila-data.sql"),
        ],
    );
    out.ok().no_secret_on_stderr(&[&env.pg.password]);
    assert_eq!(count(&env, &ours, "select count(*) from rental"), 16044);
    assert_eq!(count(&env, &ours, "select count(*) from payment"), 16049);
    assert_eq!(count(&env, &ours, "select count(*) from film"), 1000);
    assert_eq!(
        count(
            &env,
            &ours,
            "select count(*) from pg_trigger where not tgisinternal"
        ),
        15
    );
    // The same database psql builds.
    let theirs = env.pg.create_db("pagila_psql");
    let mut args: Vec<String> = vec![
        "-X".into(),
        "-q".into(),
        "-1".into(),
        "-v".into(),
        "ON_ERROR_STOP=1".into(),
        "-d".into(),
        env.pg.url(&theirs),
    ];
    for f in ["pagila/pagila-schema.sql", "pagila/pagila-data.sql"] {
        args.push("-f".into());
        args.push(corpus(f));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    env.psql(&refs).ok();
    assert!(
        pg_dump(&env, &ours) == pg_dump(&env, &theirs),
        "pg_dump of the two databases differs"
    );
}

#[test]
fn the_pg_dump_15_file_with_restrict_loads() {
    let env = Env::new();
    let db = env.pg.create_db("pgdump15");
    // From stdin, as `kubectl uis-db-psql ... < file` would.
    let text = std::fs::read_to_string(corpus("pgdump15/pagila-pgdump15.sql")).unwrap();
    let out = env.run_stdin("uis-db-psql", &["--as", "admin", "-d", &db, "-1"], &text);
    out.ok();
    assert_eq!(count(&env, &db, "select count(*) from rental"), 16044);
    assert_eq!(count(&env, &db, "select count(*) from payment"), 16049);
}

#[test]
fn chinook_drops_creates_and_connects() {
    let env = Env::new();
    let out = env.run(
        "uis-db-psql",
        &[
            "--as",
            "admin",
            "-f",
            &corpus("chinook/Chinook_PostgreSql.sql"),
        ],
    );
    out.ok();
    assert_eq!(count(&env, "chinook", "select count(*) from track"), 3503);
    assert_eq!(
        count(&env, "chinook", "select count(*) from invoice_line"),
        2240
    );
}

#[test]
fn a_broken_statement_stops_at_its_line_and_one_transaction_rolls_back() {
    let env = Env::new();
    let dir = env.path("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let original = std::fs::read_to_string(corpus("pagila/pagila-schema.sql")).unwrap();
    let target = "CREATE TABLE public.actor (";
    let line = original
        .lines()
        .position(|l| l.starts_with(target))
        .unwrap()
        + 1;
    let broken = original
        .replacen(
            target,
            "CREATE TABLE public.actor (nonsense_type_x int, ",
            1,
        )
        .replacen(
            "CREATE TABLE public.actor (nonsense_type_x int, ",
            "CREATE TABLE public.actor (x nonsense_type_x, ",
            1,
        );
    let file = dir.join("schema-broken.sql");
    std::fs::write(&file, broken).unwrap();
    let file = file.to_string_lossy().into_owned();

    let db = env.pg.create_db("broken1");
    let out = env.run(
        "uis-db-psql",
        &["--as", "admin", "-d", &db, "-1", "-f", &file],
    );
    out.expect_code(3);
    assert!(
        out.stderr.contains(&format!("{file}:{line}:")),
        "names file:line {line}: {}",
        out.stderr
    );
    assert!(out.stderr.contains("SQLSTATE 42704"), "{}", out.stderr);
    assert_eq!(
        count(
            &env,
            &db,
            "select count(*) from pg_class where relnamespace = 'public'::regnamespace"
        ),
        0,
        "-1 leaves the database unchanged"
    );

    let db = env.pg.create_db("broken2");
    let out = env.run("uis-db-psql", &["--as", "admin", "-d", &db, "-f", &file]);
    out.expect_code(3);
    // Before the error: the sequence created just above actor exists; after it: nothing (film, rental...).
    assert_eq!(
        count(
            &env,
            &db,
            "select count(*) from pg_class where relname = 'actor_actor_id_seq'"
        ),
        1
    );
    assert_eq!(
        count(
            &env,
            &db,
            "select count(*) from pg_class where relname in ('actor', 'film', 'rental')"
        ),
        0
    );
}

#[test]
fn errors_in_included_files_unterminated_input_and_missing_files() {
    let env = Env::new();
    let dir = env.path("inc");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("main.sql"),
        "select 1;\n\\ir sub/part.sql\nselect 2;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("sub/part.sql"),
        "select 3;\n\nselect * from no_such_table;\n",
    )
    .unwrap();
    let out = env.run(
        "uis-db-psql",
        &[
            "--as",
            "admin",
            "-f",
            dir.join("main.sql").to_str().unwrap(),
        ],
    );
    out.expect_code(3);
    assert!(out.stderr.contains("sub/part.sql:3:"), "{}", out.stderr);
    assert!(out.stderr.contains("42P01"), "{}", out.stderr);

    for (text, what) in [
        ("select 1;\nselect 'never closed;\n", "2:8"),
        ("select 1;\nselect $tag$ body;\n", "2:8"),
        ("select 1;\n/* open comment\n", "2:1"),
    ] {
        let f = dir.join("u.sql");
        std::fs::write(&f, text).unwrap();
        let out = env.run("uis-db-psql", &["--as", "admin", "-f", f.to_str().unwrap()]);
        assert_ne!(out.code, 0);
        assert!(
            out.stderr.contains(&format!("u.sql:{what}")),
            "{text:?}: {}",
            out.stderr
        );
    }
    let out = env.run(
        "uis-db-psql",
        &[
            "--as",
            "admin",
            "-f",
            dir.join("missing.sql").to_str().unwrap(),
        ],
    );
    out.expect_code(1);
    assert_eq!(out.stderr.lines().count(), 2, "{}", out.stderr);
    assert!(out.stderr.contains("missing.sql"), "{}", out.stderr);
    assert!(out.stderr.contains("  hint: "), "{}", out.stderr);
}

#[test]
fn results_as_json_and_csv_in_command_order() {
    let env = Env::new();
    env.run("uis-db-configure", &["fmt", "--json"]).ok();
    let dir = env.path("f");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.sql"),
        "create table t(id int, name text);\ninsert into t values (1, 'a'), (2, 'b, \"c\"');\n",
    )
    .unwrap();
    let out = env.run(
        "uis-db-psql",
        &[
            "fmt",
            "-f",
            dir.join("a.sql").to_str().unwrap(),
            "-c",
            "select id, name from t order by id",
            "--format",
            "json",
        ],
    );
    out.ok();
    let rows: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows,
        vec![
            serde_json::json!({"id": 1, "name": "a"}),
            serde_json::json!({"id": 2, "name": "b, \"c\""})
        ]
    );
    let out = env.run(
        "uis-db-psql",
        &[
            "fmt",
            "-c",
            "select id, name from t order by id",
            "--format",
            "csv",
        ],
    );
    out.ok();
    assert_eq!(out.stdout, "id,name\n1,a\n2,\"b, \"\"c\"\"\"\n");
    // The owner is who runs it by default.
    let out = env.run(
        "uis-db-psql",
        &["fmt", "-c", "select current_user", "--format", "csv"],
    );
    assert_eq!(out.stdout, "current_user\nfmt\n");
}

#[test]
fn jwt_runs_sql_as_postgrest_would() {
    let env = Env::new();
    env.run(
        "uis-db-configure",
        &["rls", "--schemas", "app,auth", "--json"],
    )
    .ok();
    env.run(
        "uis-postgrest-deploy",
        &["rls", "--schemas", "app", "--json"],
    )
    .ok();
    let mut db = env.pg.connect("rls_db");
    db.batch_execute(
        "set role rls; -- the owner creates the tables, as the app's DDL would
         create table auth.capabilities(name text primary key);
         insert into auth.capabilities values ('registrations:read'), ('content:read');
         create table app.items(id int, public bool, capability text);
         insert into app.items values (1, true, null), (2, true, null), (3, false, 'registrations:read'), (4, false, 'content:read'), (5, false, 'content:read');
         alter table app.items enable row level security;
         grant usage on schema app to rls_authenticated;
         grant select on app.items to rls_authenticated;
         create policy anon_public on app.items for select to rls_web_anon using (public);
         create policy staff on app.items for select to rls_authenticated using (
           public or capability in (select json_array_elements_text(current_setting('request.jwt.claims', true)::json->'capabilities')));",
    )
    .unwrap();
    let mint = |args: &[&str]| {
        let mut a = vec!["rls"];
        a.extend_from_slice(args);
        let o = env.run("uis-jwt-mint", &a);
        o.ok();
        o.stdout.trim().to_string()
    };
    let anon = mint(&["--role", "anon"]);
    let staff = mint(&["--role", "authenticated"]);
    let limited = mint(&[
        "--role",
        "authenticated",
        "--capabilities",
        "registrations:read",
    ]);
    let counted = |token: &str| {
        let o = env.run(
            "uis-db-psql",
            &[
                "rls",
                "--jwt",
                token,
                "-c",
                "select count(*) from items",
                "--format",
                "csv",
            ],
        );
        o.ok();
        o.stdout.lines().nth(1).unwrap().to_string()
    };
    assert_eq!(counted(&anon), "2");
    assert_eq!(counted(&staff), "5");
    assert_eq!(counted(&limited), "3");
    // Rolled back unless --commit.
    let o = env.run(
        "uis-db-psql",
        &[
            "rls",
            "--jwt",
            &staff,
            "-c",
            "select current_user, current_setting('search_path')",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        o.stdout.lines().nth(1).unwrap(),
        "rls_authenticated,\"\"\"app\"\", public\""
    );
    // A token PostgREST would refuse is refused here too.
    let o = env.run(
        "uis-db-psql",
        &["rls", "--jwt", "not.a.token", "-c", "select 1"],
    );
    o.expect_code(1);
    assert!(o.stderr.contains("PGRST301"), "{}", o.stderr);
}
