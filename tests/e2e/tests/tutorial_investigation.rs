//! The onboarding investigation's own commands, run as written with `uis`
//! for `./uis` (issue 21): its five-command tutorial (bucket A.3) verbatim,
//! where the schema file runs as the superuser and the seeds as the app's
//! owner with no grant written by the user; the other forms it and UIS's
//! CLI use (`uis configure postgrest`, `uis undeploy postgrest`, `uis
//! secrets get postgres-admin`, `uis connect postgresql`, `uis postgresql
//! verify`, `uis postgrest verify`), through the `uis` dispatcher and the
//! kubectl plugin links; and a database named as UIS allows (`atlas-t`).

use std::process::{Command, Stdio};
use uis_e2e::{Env, output};

/// The tutorial of bucket A.3 of the investigation, `./uis` as `uis` and
/// `<myapp>` as `myapp`, exactly as it is written there.
const TUTORIAL: &str = "\
uis configure postgresql --app myapp --database myapp --json
uis db psql postgresql --app myapp --as admin -f schema.sql # (after A.2)
uis db seed postgresql --app myapp seeds/ # (after A.2)
uis deploy postgrest --app myapp
uis db jwt mint --app myapp --role anon --exp 10y > .env.anon
";

/// A schema file as customers write it: schemas, tables with sequences,
/// a function, the PostgREST roles, their grants; no grant to the owner.
const SCHEMA: &str = "\
CREATE SCHEMA IF NOT EXISTS myapp;
CREATE TABLE IF NOT EXISTS myapp.item (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE IF NOT EXISTS public.note (id serial PRIMARY KEY, body text);
CREATE OR REPLACE FUNCTION myapp.item_count() RETURNS bigint LANGUAGE sql AS 'select count(*) from myapp.item';
";

fn sh(env: &Env, dir: &std::path::Path, path: &str, script: &str) -> uis_e2e::Out {
    output(
        Command::new("bash")
            .args(["-c", script])
            .current_dir(dir)
            .env("PATH", path)
            .env("KUBECONFIG", &env.kubeconfig)
            .env("HOME", env.dir.path())
            .stdin(Stdio::null()),
    )
}

fn path_with_suite() -> String {
    format!(
        "{}:{}",
        uis_harness::bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn the_investigations_tutorial_runs_as_written() {
    let env = Env::new();
    env.standin.register_ingressroute_crd();
    let work = env.path("myapp");
    std::fs::create_dir_all(work.join("seeds")).unwrap();
    std::fs::write(work.join("schema.sql"), SCHEMA).unwrap();
    std::fs::write(
        work.join("seeds/01-items.sql"),
        "INSERT INTO myapp.item (name) VALUES ('a'), ('b');\n",
    )
    .unwrap();
    std::fs::write(
        work.join("seeds/02-notes.sql"),
        "INSERT INTO public.note (body) VALUES ('n');\nSELECT myapp.item_count();\n",
    )
    .unwrap();
    let path = path_with_suite();
    for cmd in TUTORIAL.lines() {
        let out = sh(&env, &work, &path, cmd);
        assert_eq!(
            out.code, 0,
            "`{cmd}` failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        assert!(
            !out.stderr.contains(&env.pg.password),
            "`{cmd}` printed the superuser password on stderr"
        );
    }
    // The schema was made by the superuser, the seeds ran as the owner.
    let mut c = env.pg.connect("myapp");
    let row = c
        .query_one(
            "select (select tableowner::text from pg_tables where schemaname = 'myapp' and tablename = 'item'),
                    (select count(*) from myapp.item), (select count(*) from public.note)",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("postgres"));
    assert_eq!((row.get::<_, i64>(1), row.get::<_, i64>(2)), (2, 1));
    let token = std::fs::read_to_string(work.join(".env.anon")).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "{token}");
    // The doctor finds the owner can write every table.
    let ow = env
        .run("uis-db-doctor", &["myapp", "--json"])
        .doctor_check("owner-writes");
    assert_eq!(ow["status"], "pass", "{ow}");
    // A table the superuser made unwritable for the owner: doctor warns.
    c.batch_execute("CREATE TABLE myapp.locked (id int); REVOKE ALL ON myapp.locked FROM myapp")
        .unwrap();
    let ow = env
        .run("uis-db-doctor", &["myapp", "--json"])
        .doctor_check("owner-writes");
    assert_eq!(ow["status"], "warn", "{ow}");
    assert!(
        ow["message"].as_str().unwrap().contains("myapp.locked"),
        "{ow}"
    );
}

#[test]
fn uis_command_forms_run_through_the_dispatcher() {
    let env = Env::new();
    env.standin.register_ingressroute_crd();
    let work = env.path("w");
    std::fs::create_dir_all(&work).unwrap();
    let path = path_with_suite();
    let run = |cmd: &str| {
        let out = sh(&env, &work, &path, cmd);
        assert_eq!(
            out.code, 0,
            "`{cmd}` failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out
    };
    let j = |o: &uis_e2e::Out| -> serde_json::Value { serde_json::from_str(&o.stdout).unwrap() };
    let out = run("uis configure postgresql --app railway --database railway --json");
    assert_eq!(j(&out)["database"], "railway");
    std::fs::write(
        work.join("01-roles.sql"),
        "CREATE SCHEMA IF NOT EXISTS railway;\n",
    )
    .unwrap();
    run("uis db psql postgresql --app railway --as admin -f 01-roles.sql");
    // Roles and Secret, no Deployment.
    let out = run(
        "uis configure postgrest --app railway --schemas railway --url-prefix api-railway --json",
    );
    assert_eq!(j(&out)["roles"]["authenticator"], "railway_authenticator");
    assert!(
        env.standin
            .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
            .is_some()
    );
    assert!(env.postgrest_deployment("railway").is_none());
    run("uis deploy postgrest --app railway");
    assert!(env.postgrest_deployment("railway").is_some());
    let out = run("uis db jwt mint --app railway --role anon --exp 10y");
    assert_eq!(out.stdout.trim().split('.').count(), 3);
    let out = run("uis secrets get postgres-admin --service postgresql --json");
    assert_eq!(j(&out)["username"], "postgres");
    let out = sh(
        &env,
        &work,
        &path,
        "echo 'select current_database() as db;' | uis connect postgresql railway --format csv",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "db\nrailway");
    let out = run("uis postgresql verify --json");
    assert_eq!(j(&out)["status"], "pass", "{}", out.stdout);
    let out = run("uis postgrest verify --app railway --json");
    assert_eq!(j(&out)["app"], "railway");
    run("uis undeploy postgrest --app railway");
    assert!(env.postgrest_deployment("railway").is_none());

    // The kubectl plugin links take the same forms.
    let Some(kubectl) = uis_e2e::need_tool("kubectl") else {
        return;
    };
    let links = env.path("links");
    std::fs::create_dir_all(&links).unwrap();
    std::os::unix::fs::symlink(
        uis_harness::bin("uis-db-psql"),
        links.join("kubectl-uis_db_psql"),
    )
    .unwrap();
    let out = output(
        Command::new(kubectl)
            .args([
                "uis-db-psql",
                "postgresql",
                "--app",
                "railway",
                "--format",
                "csv",
                "-c",
                "select 1 as one",
            ])
            .env("PATH", format!("{}:{path}", links.display()))
            .env("KUBECONFIG", &env.kubeconfig)
            .env("HOME", env.dir.path())
            .stdin(Stdio::null()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "one\n1");
}

#[test]
fn a_database_named_as_uis_allows_works_everywhere() {
    let env = Env::new();
    let password = uis_harness::pg::random_alnum(32);
    let mut c = env.pg.connect("postgres");
    for sql in [
        format!("CREATE USER atlas WITH PASSWORD '{password}'"),
        "CREATE DATABASE \"atlas-t\" OWNER atlas".to_string(),
    ] {
        c.batch_execute(&sql).unwrap();
    }
    uis_e2e::remember_secret(&password);
    // `./uis configure postgresql --app atlas --database atlas-t` printed
    // the password once and stored nothing: configure issues a new one,
    // loudly.
    let out = env.run(
        "uis-db-configure",
        &["atlas", "--database", "atlas-t", "--json"],
    );
    out.ok();
    assert_eq!(out.json()["database"], "atlas-t");
    assert!(
        out.json()["local"]["database_url"]
            .as_str()
            .unwrap()
            .ends_with("/atlas-t")
    );
    let seeds = env.path("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(
        seeds.join("01.sql"),
        "CREATE TABLE t (id int); INSERT INTO t VALUES (1);\n",
    )
    .unwrap();
    env.run("uis-db-seed", &["atlas", seeds.to_str().unwrap()])
        .ok();
    let q = env.run(
        "uis-db-psql",
        &[
            "atlas",
            "--format",
            "csv",
            "-c",
            "select current_database() as d, count(*) as n from t",
        ],
    );
    q.ok();
    assert_eq!(q.stdout.trim(), "d,n\natlas-t,1");
    let creds = env.run("uis-db-creds", &["atlas", "--format", "url"]);
    creds.ok();
    assert!(
        creds.stdout.trim().ends_with("/atlas-t"),
        "{}",
        creds.stdout
    );
    let pw = out.json()["password"].as_str().unwrap().to_string();
    let url = format!("postgresql://atlas:{pw}@127.0.0.1:{}/atlas-t", env.pg.port);
    env.psql(&[&url, "-c", "select 1"]).ok();
    let d = env.run("uis-db-doctor", &["atlas", "--json"]);
    for id in [
        "database",
        "owner-privileges",
        "credential-store",
        "owner-writes",
    ] {
        let c = d.doctor_check(id);
        assert_eq!(c["status"], "pass", "{c}");
    }
    let dep = env.run("uis-postgrest-deploy", &["atlas", "--dry-run", "--json"]);
    dep.ok();
    // A database the suite would create still follows the strict rule.
    let bad = env.run("uis-db-configure", &["other", "--database", "new-db"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("invalid --database"), "{}", bad.stderr);
}
