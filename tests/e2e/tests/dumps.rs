//! pg_dump's plain output loads through uis-db-psql and uis-db-seed exactly
//! as psql loads it (issue 16). The input is the project's own: the fixture
//! database (`tests/fixtures/dumps/fixture.sql`, built with the machine's
//! psql) dumped at test time by the machine's pg_dump in every plain style
//! (default, `--inserts`, `--column-inserts`, `--clean --if-exists`, `-C`).
//! psql is the oracle: each load is compared with psql's load of the same
//! file by exit code and by a snapshot of the database (catalog plus a
//! checksum of every table's rows), and with the source database's data.
//! Also: a hand-written file that drops, creates and `\c`s its own database
//! (the Chinook shape), a dump split into schema and data seed files, and a
//! broken dump, which must stop at the line psql stops at.

use std::path::{Path, PathBuf};
use uis_e2e::{Env, Out};
use uis_harness::fixture::{self, Style, assert_same};

/// psql as the oracle: `psql -X -q -v ON_ERROR_STOP=1 [EXTRA] -d DB -f FILE`,
/// as the admin `uis-db-psql --as admin` logs in as (on proxied no
/// superuser).
fn psql_load(env: &Env, db: &str, extra: &[&str], file: &Path) -> Out {
    let url = env.admin_url(db);
    let file = file.to_string_lossy();
    let mut args = vec!["-v", "ON_ERROR_STOP=1"];
    args.extend_from_slice(extra);
    args.extend(["-d", url.as_str(), "-f", file.as_ref()]);
    env.psql(&args)
}

/// `uis-db-psql [ARGS] --as admin -f FILE` through the tunnel (ARGS: an
/// app, `-d DB`, `-1`).
fn uis_load(env: &Env, extra: &[&str], file: &Path) -> Out {
    let file = file.to_string_lossy();
    let mut args = extra.to_vec();
    args.extend(["--as", "admin"]);
    args.extend(["-f", file.as_ref()]);
    env.run("uis-db-psql", &args)
}

/// `uis-db-seed APP DIR --as admin --json [EXTRA]`.
fn seed(env: &Env, app: &str, dir: &Path, extra: &[&str]) -> Out {
    let dir = dir.to_string_lossy();
    let mut args = vec![app, dir.as_ref(), "--as", "admin", "--json"];
    args.extend_from_slice(extra);
    env.run("uis-db-seed", &args)
}

/// Configures `app` (its database `APP_db`, dashes as underscores) and
/// returns the database's name. Every loader gets a database made the same
/// way, so their snapshots can be compared.
fn app_db(env: &Env, app: &str) -> String {
    env.run("uis-db-configure", &[app, "--json"]).ok();
    format!("{}_db", app.replace('-', "_"))
}

/// Why the fixture's dumps mean nothing on the proxied topology
/// ([`uis_e2e::in_cluster_only`]).
const FIXTURE_NEEDS_A_SUPERUSER: &str = "the fixture (tests/fixtures/dumps/fixture.sql) needs a superuser or BYPASSRLS role to be made (rows in a table with FORCE ROW LEVEL SECURITY), and its dumps give objects to that superuser (OWNER TO) and set row_security = off, which only such a role may load; postgres there is neither and cannot make itself one (psql as that admin fails on them too); the dump-shaped file that needs no superuser (dumps::a_file_that_drops_creates_and_connects_to_its_database) runs there";

fn write(path: PathBuf, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn drop_db(env: &Env, db: &str) {
    env.pg
        .connect("postgres")
        .batch_execute(&format!("DROP DATABASE \"{db}\" WITH (FORCE)"))
        .unwrap_or_else(|e| panic!("drop {db}: {e}"));
}

/// The fixture's dump in `style`: psql, uis-db-psql and uis-db-seed load it
/// into databases made alike; all three exit 0 and give the same database,
/// holding the source's rows. `--clean` dumps are loaded twice (the second
/// load drops what the first made); `-C` dumps create the source's
/// database by name, so the source is dropped first and each load's
/// database is snapshotted and dropped in turn.
fn loads_like_psql(style: Style) {
    if uis_e2e::in_cluster_only(FIXTURE_NEEDS_A_SUPERUSER) {
        return;
    }
    let env = Env::new();
    let name = style.name();
    let source = fixture::create(env.pg, &format!("fx_{name}"));
    let text = fixture::dump(env.pg, &source, style);
    // The rows pg_dump read (on 16+, from a PostgreSQL 15 copy of the
    // fixture: the machine's pg_dump 15 cannot dump newer servers).
    let expected = fixture::dumped_snapshot(env.pg, &source);
    assert!(expected.rows() > 4000, "the fixture has its rows");
    let file = write(env.path(&format!("{name}.sql")), &text);
    let creates = style == Style::Create;
    let again = style == Style::Clean;
    // Where a load ends up: its app's database, or the source's name.
    let target = |app_db: &str| {
        if creates {
            source.clone()
        } else {
            app_db.to_string()
        }
    };
    if creates {
        drop_db(&env, &source);
    }

    // psql.
    let psql_db = app_db(&env, &format!("d-{name}-psql"));
    let theirs = psql_load(&env, &psql_db, &[], &file);
    if creates && theirs.code != 0 {
        fails_like_psql(&env, &source, &file, &theirs);
        return;
    }
    theirs.ok();
    if again {
        psql_load(&env, &psql_db, &[], &file).ok();
    }
    let by_psql = fixture::snapshot(env.pg, &target(&psql_db));
    assert_eq!(
        by_psql.data, expected.data,
        "psql loads the source's rows back"
    );
    if creates {
        drop_db(&env, &source);
    }

    // uis-db-psql: the same exit code, stdout (psql prints set_config's
    // row) and database.
    let app = format!("d-{name}-uis");
    let uis_db = app_db(&env, &app);
    let ours = uis_load(&env, &[&app], &file);
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (theirs.code, theirs.stdout.as_str()),
        "uis-db-psql exits and prints as psql does; stderr:\n{}",
        ours.stderr
    );
    if again {
        uis_load(&env, &[&app], &file).ok();
    }
    assert_same(
        &by_psql,
        "psql",
        &fixture::snapshot(env.pg, &target(&uis_db)),
        "uis-db-psql",
    );
    if creates {
        drop_db(&env, &source);
    }

    // uis-db-seed: one file, in its own transaction unless it creates a
    // database (the seed's documented first line).
    let app = format!("d-{name}-seed");
    let seed_db = app_db(&env, &app);
    let dir = env.path(&format!("seed-{name}"));
    let header = if creates {
        "-- uis:no-transaction\n"
    } else {
        ""
    };
    write(dir.join("01-dump.sql"), &format!("{header}{text}"));
    let out = seed(&env, &app, &dir, &[]);
    out.ok();
    assert_eq!(out.json()["applied"], serde_json::json!(["01-dump.sql"]));
    if again {
        seed(&env, &app, &dir, &["--reapply", "01-dump.sql"]).ok();
    }
    assert_same(
        &by_psql,
        "psql",
        &fixture::snapshot(env.pg, &target(&seed_db)),
        "uis-db-seed",
    );
    // The ledger is in the app's database, whichever database the file
    // connected to.
    let ledger: i64 = env
        .pg
        .connect(&seed_db)
        .query_one("select count(*) from uis.seed_ledger", &[])
        .unwrap()
        .get(0);
    assert_eq!(ledger, 1);
}

/// A `-C` dump that psql cannot load: uis-db-psql and uis-db-seed fail as
/// psql does, at the same line with the same error, and create nothing.
/// The one known case: pg_dump writes the `CREATE DATABASE` options of its
/// own version, and pg_dump 15+ writes `LOCALE_PROVIDER` (the option came
/// with PostgreSQL 15, release notes: "Allow ICU collations to be set as the
/// default for clusters and databases"), which a PostgreSQL 14 server
/// rejects; any other failure of psql fails the test.
fn fails_like_psql(env: &Env, source: &str, file: &Path, theirs: &Out) {
    let server = env.pg.major();
    let dump = uis_harness::pg::client_major("pg_dump").expect("pg_dump's version");
    assert!(
        server < dump,
        "psql could not load pg_dump {dump}'s -C dump into PostgreSQL {server}:\n{}",
        theirs.stderr
    );
    // psql: `psql:FILE:LINE: ERROR:  TEXT`.
    let (line, text) = theirs
        .stderr
        .lines()
        .find_map(|l| {
            let (place, text) = l.split_once(": ERROR:  ")?;
            Some((place.rsplit(':').next()?.to_string(), text.to_string()))
        })
        .unwrap_or_else(|| panic!("psql names the error:\n{}", theirs.stderr));
    eprintln!(
        "note: pg_dump {dump}'s -C dump does not load into PostgreSQL {server} (psql: {text} at line {line}); uis-db-psql and uis-db-seed are compared with psql's failure"
    );
    let exists = |db: &str| {
        env.pg
            .connect("postgres")
            .query_opt("select 1 from pg_database where datname = $1", &[&db])
            .unwrap()
            .is_some()
    };
    assert!(!exists(source), "psql's failed load created {source}");
    let at_line = |out: &Out| {
        out.stderr
            .lines()
            .any(|l| l.contains(&text) && l.contains(&format!(":{line}:")))
    };
    let app = "d-create-uis";
    app_db(env, app);
    let ours = uis_load(env, &[app], file);
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (theirs.code, theirs.stdout.as_str()),
        "uis-db-psql exits and prints as psql does; stderr:\n{}",
        ours.stderr
    );
    assert!(
        at_line(&ours),
        "uis-db-psql stops where psql stops ({text} at line {line}):\n{}",
        ours.stderr
    );
    assert!(
        !exists(source),
        "uis-db-psql's failed load created {source}"
    );
    let app = "d-create-seed";
    let seed_db = app_db(env, app);
    let dir = env.path("seed-create");
    let text_of_file = std::fs::read_to_string(file).unwrap();
    // The header line moves the dump's lines down by one.
    write(
        dir.join("01-dump.sql"),
        &format!("-- uis:no-transaction\n{text_of_file}"),
    );
    let out = seed(env, app, &dir, &[]);
    assert_ne!(out.code, 0, "uis-db-seed fails as psql does");
    let seeded_line = line.parse::<usize>().unwrap() + 1;
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains(&text) && l.contains(&format!(":{seeded_line}:"))),
        "uis-db-seed stops where psql stops ({text}):\n{}",
        out.stderr
    );
    assert!(
        !exists(source),
        "uis-db-seed's failed load created {source}"
    );
    let mut c = env.pg.connect(&seed_db);
    let has_ledger: bool = c
        .query_one("select to_regclass('uis.seed_ledger') is not null", &[])
        .unwrap()
        .get(0);
    let ledger: i64 = if has_ledger {
        c.query_one("select count(*) from uis.seed_ledger", &[])
            .unwrap()
            .get(0)
    } else {
        0
    };
    assert_eq!(ledger, 0, "a file that failed is not in the ledger");
}

#[test]
fn plain_dump_loads_like_psql() {
    loads_like_psql(Style::Plain);
}

#[test]
fn inserts_dump_loads_like_psql() {
    loads_like_psql(Style::Inserts);
}

#[test]
fn column_inserts_dump_loads_like_psql() {
    loads_like_psql(Style::ColumnInserts);
}

#[test]
fn clean_if_exists_dump_loads_twice_like_psql() {
    loads_like_psql(Style::Clean);
}

#[test]
fn create_dump_creates_connects_and_loads_like_psql() {
    loads_like_psql(Style::Create);
}

#[test]
fn a_dump_in_one_transaction_and_from_stdin() {
    if uis_e2e::in_cluster_only(FIXTURE_NEEDS_A_SUPERUSER) {
        return;
    }
    let env = Env::new();
    let source = fixture::create(env.pg, "fx_one");
    let text = fixture::dump(env.pg, &source, Style::Plain);
    let file = write(env.path("one.sql"), &text);
    let theirs = env.admin_db("one_psql");
    psql_load(&env, &theirs, &["-1"], &file).ok();
    let by_psql = fixture::snapshot(env.pg, &theirs);
    let ours = env.admin_db("one_uis");
    uis_load(&env, &["-d", &ours, "-1"], &file)
        .ok()
        .no_secret_on_stderr(&[&env.pg.password]);
    assert_same(
        &by_psql,
        "psql -1",
        &fixture::snapshot(env.pg, &ours),
        "uis-db-psql -1",
    );
    // From stdin, as `kubectl uis-db-psql ... < dump.sql` would.
    let piped = env.admin_db("one_stdin");
    env.run_stdin("uis-db-psql", &["--as", "admin", "-d", &piped, "-1"], &text)
        .ok();
    assert_same(
        &by_psql,
        "psql -1",
        &fixture::snapshot(env.pg, &piped),
        "uis-db-psql -1 < dump",
    );
}

#[test]
fn schema_and_data_dumps_as_two_seed_files() {
    if uis_e2e::in_cluster_only(FIXTURE_NEEDS_A_SUPERUSER) {
        return;
    }
    // `pg_dump --schema-only` then `--data-only --disable-triggers` (the
    // schema's triggers exist when the data loads): two seed files, each in
    // its own transaction, against psql loading the same two files.
    let env = Env::new();
    let source = fixture::create(env.pg, "fx_two");
    let dir = env.path("two");
    let schema = write(
        dir.join("01-schema.sql"),
        &fixture::dump_with(env.pg, &source, &["--schema-only"]),
    );
    let data = write(
        dir.join("02-data.sql"),
        &fixture::dump_with(env.pg, &source, &["--data-only", "--disable-triggers"]),
    );
    let theirs = app_db(&env, "d-two-psql");
    psql_load(&env, &theirs, &["-1"], &schema).ok();
    psql_load(&env, &theirs, &["-1"], &data).ok();
    let ours = app_db(&env, "d-two");
    let out = seed(&env, "d-two", &dir, &[]);
    out.ok();
    assert_eq!(
        out.json()["applied"],
        serde_json::json!(["01-schema.sql", "02-data.sql"])
    );
    let by_psql = fixture::snapshot(env.pg, &theirs);
    assert!(by_psql.rows() > 4000, "the data file loaded");
    assert_same(
        &by_psql,
        "psql",
        &fixture::snapshot(env.pg, &ours),
        "uis-db-seed",
    );
}

/// The plain dump with `bad` inserted before the line starting with `at`;
/// returns the file and the 1-based line of `bad`.
fn broken_dump(env: &Env, text: &str, at: &str, bad: &str) -> (PathBuf, usize) {
    let mut lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with(at))
        .unwrap_or_else(|| panic!("no line starts with {at:?}"));
    lines.insert(i, bad);
    let file = write(env.path("broken.sql"), &(lines.join("\n") + "\n"));
    (file, i + 1)
}

#[test]
fn a_broken_dump_stops_where_psql_stops() {
    if uis_e2e::in_cluster_only(FIXTURE_NEEDS_A_SUPERUSER) {
        return;
    }
    let env = Env::new();
    let source = fixture::create(env.pg, "fx_broken");
    let text = fixture::dump(env.pg, &source, Style::Plain);
    // Inside the run of CREATE TABLEs, after the types and functions.
    let (file, line) = broken_dump(
        &env,
        &text,
        "CREATE TABLE inventory.item (",
        "CREATE TABLE inventory.oops (x nonsense_type_x);",
    );
    let shown = file.to_string_lossy().into_owned();
    for extra in [&[][..], &["-1"][..]] {
        let theirs = env.admin_db("broken_psql");
        let p = psql_load(&env, &theirs, extra, &file);
        p.expect_code(3);
        assert!(
            p.stderr.contains(&format!("{shown}:{line}: ERROR:")),
            "psql names line {line}: {}",
            p.stderr
        );
        let ours = env.admin_db("broken_uis");
        let mut args = vec!["-d", ours.as_str()];
        args.extend_from_slice(extra);
        let u = uis_load(&env, &args, &file);
        u.expect_code(3);
        assert!(
            u.stderr.contains(&format!("{shown}:{line}:")) && u.stderr.contains("SQLSTATE 42704"),
            "uis-db-psql names line {line}: {}",
            u.stderr
        );
        // Without -1 what came before stays, as with psql; with -1 nothing.
        let (a, b) = (
            fixture::snapshot(env.pg, &theirs),
            fixture::snapshot(env.pg, &ours),
        );
        assert_same(&a, "psql", &b, "uis-db-psql");
        let made_schemas = a.catalog.iter().any(|l| l.starts_with("schema inventory "));
        assert_eq!(made_schemas, extra.is_empty(), "{extra:?}");
    }
}

#[test]
fn a_file_that_drops_creates_and_connects_to_its_database() {
    // The Chinook shape: DROP/CREATE DATABASE uis_music, `\c uis_music;`,
    // multi-row INSERTs of UTF-8 text; as the superuser, not in one
    // transaction. Run twice: the second run drops what the first made.
    let env = Env::new();
    let file = fixture::fixtures_dir().join("dumps/drop-create-connect.sql");
    let theirs = psql_load(&env, "postgres", &[], &file);
    theirs.ok();
    let by_psql = fixture::snapshot(env.pg, "uis_music");
    assert_eq!(by_psql.rows(), 31);
    for _ in 0..2 {
        let ours = uis_load(&env, &[], &file);
        assert_eq!(
            (ours.code, ours.stdout.as_str()),
            (0, ""),
            "{}",
            ours.stderr
        );
        assert_same(
            &by_psql,
            "psql",
            &fixture::snapshot(env.pg, "uis_music"),
            "uis-db-psql",
        );
    }
    let mut c = env.pg.connect("uis_music");
    let name: String = c
        .query_one("select name from artist where artist_id = 5", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "坂本龍一");
}
