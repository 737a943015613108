//! uis-db-psql through the stand-in's port-forward: errors are located, and
//! --jwt runs SQL as PostgREST would (issues: script engine and uis-db-psql;
//! JWT mint). pg_dump output loading as psql loads it: dumps.rs.

use uis_e2e::Env;

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
