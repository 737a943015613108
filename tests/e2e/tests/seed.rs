//! uis-db-seed against the stand-in and the real PostgreSQL: order, once,
//! failures, a tunnel cut mid-file, concurrent runs and drift (issue: seed);
//! pg_dump output as seed files: dumps.rs.

use std::path::Path;
use std::process::Stdio;
use uis_e2e::Env;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn five(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write(dir, "01-schema.sql", "create schema shop;\n");
    write(
        dir,
        "02-tables.sql",
        "create table shop.items(id int primary key, name text);\n",
    );
    write(
        dir,
        "03-data.sql",
        "insert into shop.items values (1, 'a');\ninsert into shop.items values (2, 'b');\n",
    );
    write(
        dir,
        "04-more.sql",
        "copy shop.items (id, name) from stdin;\n3\tc\n4\td\n\\.\n",
    );
    write(
        dir,
        "05-view.sql",
        "create view shop.v as select count(*) as n from shop.items;\n",
    );
}

fn seed(env: &Env, dir: &Path, extra: &[&str]) -> uis_e2e::Out {
    let d = dir.to_string_lossy().into_owned();
    let mut args = vec!["shop", d.as_str(), "--json"];
    args.extend_from_slice(extra);
    env.run("uis-db-seed", &args)
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn items(env: &Env) -> i64 {
    env.pg
        .connect("shop_db")
        .query_one("select count(*) from shop.items", &[])
        .unwrap()
        .get(0)
}

#[test]
fn applies_in_order_each_once_and_then_only_new_files() {
    let env = Env::new();
    env.run("uis-db-configure", &["shop", "--json"]).ok();
    let dir = env.path("db");
    five(&dir);
    let out = seed(&env, &dir, &[]);
    out.ok();
    assert_eq!(
        names(&out.json()["applied"]),
        [
            "01-schema.sql",
            "02-tables.sql",
            "03-data.sql",
            "04-more.sql",
            "05-view.sql"
        ]
    );
    assert_eq!(items(&env), 4);
    // Ledger rows with checksums, written by the owner.
    let rows = env.pg.connect("shop_db").query("select file_name, length(sha256), applied_by from uis.seed_ledger where seed_set = 'db' order by 1", &[]).unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].get::<_, i32>(1), 64);
    assert_eq!(rows[0].get::<_, String>(2), "shop");

    let again = seed(&env, &dir, &[]);
    again.ok();
    assert_eq!(names(&again.json()["applied"]), Vec::<String>::new());
    assert_eq!(names(&again.json()["skipped"]).len(), 5);
    assert!(
        again.stderr.contains("nothing to apply"),
        "{}",
        again.stderr
    );
    assert_eq!(items(&env), 4);

    write(
        &dir,
        "06-extra.sql",
        "insert into shop.items values (5, 'e');\n",
    );
    let status = seed(&env, &dir, &["--status"]);
    status.ok();
    assert_eq!(names(&status.json()["pending"]), ["06-extra.sql"]);
    let more = seed(&env, &dir, &[]);
    more.ok();
    assert_eq!(names(&more.json()["applied"]), ["06-extra.sql"]);
    assert_eq!(items(&env), 5);
}

#[test]
fn a_failing_file_rolls_back_alone_and_stops_the_run() {
    let env = Env::new();
    env.run("uis-db-configure", &["shop", "--json"]).ok();
    let dir = env.path("db");
    five(&dir);
    write(
        &dir,
        "03-data.sql",
        "insert into shop.items values (1, 'a');\n\ninsert into shop.nope values (2, 'b');\n",
    );
    let out = seed(&env, &dir, &[]);
    assert_ne!(out.code, 0);
    let j = out.json();
    assert_eq!(names(&j["applied"]), ["01-schema.sql", "02-tables.sql"]);
    assert_eq!(j["failed"], "03-data.sql");
    assert!(out.stderr.contains("03-data.sql:3:"), "{}", out.stderr);
    assert_eq!(items(&env), 0, "nothing of 03 remains");
    let view: i64 = env
        .pg
        .connect("shop_db")
        .query_one("select count(*) from pg_views where viewname = 'v'", &[])
        .unwrap()
        .get(0);
    assert_eq!(view, 0, "05 not attempted");
    let recorded: i64 = env
        .pg
        .connect("shop_db")
        .query_one("select count(*) from uis.seed_ledger", &[])
        .unwrap()
        .get(0);
    assert_eq!(recorded, 2);
    // Fixed: 03-05 apply.
    write(
        &dir,
        "03-data.sql",
        "insert into shop.items values (1, 'a');\ninsert into shop.items values (2, 'b');\n",
    );
    let out = seed(&env, &dir, &[]);
    out.ok();
    assert_eq!(
        names(&out.json()["applied"]),
        ["03-data.sql", "04-more.sql", "05-view.sql"]
    );
    assert_eq!(items(&env), 4);
}

#[test]
fn a_tunnel_cut_mid_file_rolls_that_file_back() {
    let env = Env::new();
    env.run("uis-db-configure", &["shop", "--json"]).ok();
    let dir = env.path("db");
    std::fs::create_dir_all(&dir).unwrap();
    write(
        &dir,
        "01-table.sql",
        "create schema shop; create table shop.items(id int primary key, name text);\n",
    );
    let mut big = String::from("copy shop.items (id, name) from stdin;\n");
    for i in 0..20_000 {
        big.push_str(&format!("{i}\tname-{i}-xxxxxxxxxxxxxxxxxxxxxxxx\n"));
    }
    big.push_str("\\.\n");
    write(&dir, "02-big.sql", &big);
    write(
        &dir,
        "03-after.sql",
        "insert into shop.items values (-1, 'after');\n",
    );
    env.standin.faults().set_drop_tunnel_after(Some(200_000));
    let out = seed(&env, &dir, &[]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    env.standin.faults().clear();
    let recorded: Vec<String> = env
        .pg
        .connect("shop_db")
        .query("select file_name from uis.seed_ledger order by 1", &[])
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default();
    assert!(
        !recorded.contains(&"02-big.sql".to_string()),
        "{recorded:?}"
    );
    let partial: i64 = env
        .pg
        .connect("shop_db")
        .query_one("select count(*) from shop.items", &[])
        .map(|r| r.get(0))
        .unwrap_or(0);
    assert_eq!(partial, 0, "the cut file left nothing");
    let out = seed(&env, &dir, &[]);
    out.ok();
    assert_eq!(items(&env), 20_001, "a clean run's count: nothing twice");
}

#[test]
fn two_runs_at_once_end_like_one() {
    let env = Env::new();
    env.run("uis-db-configure", &["shop", "--json"]).ok();
    let dir = env.path("db");
    five(&dir);
    write(
        &dir,
        "02-tables.sql",
        "create table shop.items(id int, name text); select pg_sleep(0.5);\n",
    );
    let d = dir.to_string_lossy().into_owned();
    let spawn = || {
        env.cmd("uis-db-seed")
            .args(["shop", d.as_str(), "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let a = a.wait_with_output().unwrap();
    let b = b.wait_with_output().unwrap();
    for o in [&a, &b] {
        uis_e2e::assert_no_known_secret("a concurrent seed", &String::from_utf8_lossy(&o.stderr));
    }
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(items(&env), 4, "no file ran twice");
    let waited = String::from_utf8_lossy(&a.stderr).contains("waiting")
        || String::from_utf8_lossy(&b.stderr).contains("waiting");
    assert!(waited, "one run said it waits for the other");
    // --no-wait fails at once while the lock is held.
    let mut c = env.pg.connect("shop_db");
    c.execute("select pg_advisory_lock(hashtext('uis-seed:shop'))", &[])
        .unwrap();
    let out = seed(&env, &dir, &["--no-wait"]);
    out.expect_code(1);
    assert!(out.stderr.contains("in progress"), "{}", out.stderr);
}

#[test]
fn an_edited_applied_file_is_drift_and_nothing_applies() {
    let env = Env::new();
    env.run("uis-db-configure", &["shop", "--json"]).ok();
    let dir = env.path("db");
    five(&dir);
    seed(&env, &dir, &[]).ok();
    write(
        &dir,
        "02-tables.sql",
        "create table shop.items(id int primary key, name text, extra int);\n",
    );
    write(
        &dir,
        "06-new.sql",
        "insert into shop.items values (9, 'z');\n",
    );
    let out = seed(&env, &dir, &[]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("02-tables.sql changed after it was applied"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--reapply 02-tables.sql"),
        "{}",
        out.stderr
    );
    assert_eq!(items(&env), 4, "06 was not applied");
    let status = seed(&env, &dir, &["--dry-run"]);
    status.ok();
    assert_eq!(status.json()["changed"][0]["file"], "02-tables.sql");
    // A repeatable file re-applies when it changes.
    write(
        &dir,
        "02-tables.sql",
        "create table shop.items(id int primary key, name text);\n",
    );
    write(
        &dir,
        "07-view.sql",
        "-- uis:repeatable\ncreate or replace view shop.w as select 1 as one;\n",
    );
    seed(&env, &dir, &[]).ok();
    write(
        &dir,
        "07-view.sql",
        "-- uis:repeatable\ncreate or replace view shop.w as select 1 as one, 2 as two;\n",
    );
    let out = seed(&env, &dir, &[]);
    out.ok();
    assert_eq!(names(&out.json()["applied"]), ["07-view.sql"]);
}
