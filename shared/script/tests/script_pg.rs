//! The script engine against a real PostgreSQL: the fixture database's
//! pg_dump output (made at test time) and a file that creates and connects
//! to its own database load to the same database as psql builds,
//! errors land at the right file:line with the right exit code, and the
//! meta-commands real files use behave as in psql.

use std::path::{Path, PathBuf};
use uis_harness::Pg;
use uis_script::{ErrorKind, Format, Options, PgConnector, Runner, ScriptError, Source, Summary};

mod pg_common;

use pg_common::{config, drop_create_connect, dump, fixture_dump, tool};
use uis_harness::fixture::{self, Style, assert_same};

struct Run {
    result: Result<Summary, ScriptError>,
    out: String,
    info: String,
}

fn run(pg: &Pg, db: &str, options: Options, sources: Vec<Source>) -> Run {
    let cfg = config(pg, db);
    let client = cfg.connect(postgres::NoTls).expect("connect");
    let mut runner = Runner::new(client, Box::new(PgConnector::new(cfg)), options);
    let (mut out, mut info) = (Vec::new(), Vec::new());
    let result = runner.run(sources, &mut out, &mut info);
    Run {
        result,
        out: String::from_utf8(out).unwrap(),
        info: String::from_utf8(info).unwrap(),
    }
}

fn text(name: &str, sql: &str) -> Source {
    Source::Reader {
        name: name.into(),
        reader: Box::new(std::io::Cursor::new(sql.as_bytes().to_vec())),
    }
}

fn one_tx() -> Options {
    Options {
        single_transaction: true,
        ..Options::default()
    }
}

fn count(pg: &Pg, db: &str, sql: &str) -> i64 {
    pg.connect(db).query_one(sql, &[]).unwrap().get(0)
}

fn table_exists(pg: &Pg, db: &str, table: &str) -> bool {
    let sql = format!("select count(*) from pg_class where relname = '{table}'");
    count(pg, db, &sql) == 1
}

#[test]
fn fixture_dumps_load_in_one_transaction_like_psql() {
    let pg = Pg::shared();
    let tmp = tempfile::tempdir().unwrap();
    for style in [
        Style::Plain,
        Style::Inserts,
        Style::ColumnInserts,
        Style::Clean,
    ] {
        let file = fixture_dump(pg, style, tmp.path());
        let ours = pg.create_db("script_dump");
        let r = run(pg, &ours, one_tx(), vec![Source::File(file.clone())]);
        let summary = r.result.unwrap_or_else(|e| panic!("{style:?}: {e}"));
        assert_eq!(summary.errors, 0);
        assert!(summary.statements > 100);
        assert_eq!(r.info, "", "quiet on success");

        let theirs = pg.create_db("script_dump_psql");
        let out = tool(pg, "psql")
            .args([
                "-X",
                "-q",
                "-1",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &theirs,
                "-f",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // psql prints set_config's and setval's result rows; so do we, identically.
        assert_eq!(r.out, String::from_utf8_lossy(&out.stdout), "{style:?}");
        let by_psql = fixture::snapshot(pg, &theirs);
        assert!(by_psql.rows() > 4000, "{style:?}");
        assert_same(
            &by_psql,
            "psql",
            &fixture::snapshot(pg, &ours),
            &format!("the engine ({style:?})"),
        );
        assert_eq!(dump(pg, &ours), dump(pg, &theirs), "{style:?}");
    }
}

#[test]
fn a_file_that_drops_creates_and_connects_on_its_own_server() {
    // The file hard-codes database `uis_music`: a server of its own.
    let pg = Pg::start().unwrap();
    let r = run(
        &pg,
        "postgres",
        Options::default(),
        vec![Source::File(drop_create_connect())],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count(&pg, "uis_music", "select count(*) from track"), 12);
    assert_eq!(count(&pg, "uis_music", "select count(*) from artist"), 10);
}

/// The fixture's plain dump with a failing statement inserted before a known
/// line (after the types and functions, among the tables).
fn broken_schema(pg: &Pg, tmp: &Path) -> (PathBuf, u64) {
    let file = fixture_dump(pg, Style::Plain, tmp);
    let src = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<&str> = src.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("CREATE TABLE inventory.item ("))
        .unwrap();
    lines.insert(at, "SELECT * FROM no_such_table;");
    let path = tmp.join("broken.sql");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, at as u64 + 1)
}

#[test]
fn a_broken_corpus_file_fails_at_its_line_and_rolls_back_in_one_transaction() {
    let pg = Pg::shared();
    let tmp = tempfile::tempdir().unwrap();
    let (path, line) = broken_schema(pg, tmp.path());

    let db = pg.create_db("script_broken_1");
    let e = run(pg, &db, one_tx(), vec![Source::File(path.clone())])
        .result
        .unwrap_err();
    assert_eq!(
        (e.line, e.column, e.sqlstate.as_deref(), e.exit_code()),
        (line, 15, Some("42P01"), 3)
    );
    assert_eq!(e.file, path.display().to_string());
    assert_eq!(e.statement.as_deref(), Some("SELECT * FROM no_such_table;"));
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!(
            "{}:{line}:15: ERROR:  relation \"no_such_table\" does not exist (SQLSTATE 42P01)",
            path.display()
        )),
        "{shown}"
    );
    // Everything rolled back: not even the enum created before it.
    assert_eq!(
        count(
            pg,
            &db,
            "select count(*) from pg_type where typname = 'mood'"
        ),
        0
    );

    let db = pg.create_db("script_broken_2");
    let e = run(pg, &db, Options::default(), vec![Source::File(path)])
        .result
        .unwrap_err();
    assert_eq!((e.line, e.exit_code()), (line, 3));
    // What came before stays; nothing after ran.
    assert_eq!(
        count(
            pg,
            &db,
            "select count(*) from pg_type where typname = 'mood'"
        ),
        1
    );
    assert!(!table_exists(pg, &db, "item"));
}

#[test]
fn an_error_in_an_ir_file_is_located_in_that_file() {
    let pg = Pg::shared();
    let db = pg.create_db("script_ir");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    std::fs::write(
        tmp.path().join("main.sql"),
        "create table t (x int);\n\\ir sub/one.sql\ninsert into t values (9);\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("sub/one.sql"), "\\ir two.sql\n").unwrap();
    std::fs::write(
        tmp.path().join("sub/two.sql"),
        "insert into t values (1);\n\n  insert into t values ('x');\n",
    )
    .unwrap();
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![Source::File(tmp.path().join("main.sql"))],
    )
    .result
    .unwrap_err();
    assert!(e.file.ends_with("sub/two.sql"), "{}", e.file);
    assert_eq!(
        (e.line, e.column, e.sqlstate.as_deref()),
        (3, 25, Some("22P02"))
    );
    assert_eq!(count(pg, &db, "select count(*) from t"), 1);
}

#[test]
fn unterminated_quote_dollar_comment_and_copy_send_nothing_of_the_half_statement() {
    let pg = Pg::shared();
    for (i, (tail, what, line, col)) in [
        (
            "insert into t values (2);\nselect 'oops;\n",
            "quoted string",
            3,
            8,
        ),
        (
            "insert into t values (2);\ncreate function f() returns int as $b$ select 1;\n",
            "dollar-quoted string",
            3,
            36,
        ),
        (
            "insert into t values (2);\n/* open\n insert into t values (3);\n",
            "/* comment",
            3,
            1,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let db = pg.create_db(&format!("script_unterminated_{i}"));
        let sql = format!("create table t (x int);\n{tail}");
        let e = run(pg, &db, Options::default(), vec![text("cut.sql", &sql)])
            .result
            .unwrap_err();
        assert!(e.message.contains(what), "{e}");
        assert_eq!(
            (e.file.as_str(), e.line, e.column, e.exit_code()),
            ("cut.sql", line, col, 3),
            "{e}"
        );
        // The statements before ran; nothing of the half statement did.
        assert_eq!(count(pg, &db, "select count(*) from t"), 1, "{e}");
    }
}

#[test]
fn variables_if_branches_echo_and_set() {
    let pg = Pg::shared();
    let db = pg.create_db("script_vars");
    let sql = r#"\set tbl 'my t'
\set greeting hello ' ' world
\echo :greeting :'tbl' :"tbl"
create table :"tbl" (x text);
\if :{?nope}
  insert into :"tbl" values ('skipped');
  \gset this is never run
\elif yes
  insert into :"tbl" values (:'greeting');
  \if off
    insert into :"tbl" values ('nested skip');
  \else
    insert into :"tbl" values ('nested else');
  \endif
\else
  insert into :"tbl" values ('else skipped');
\endif
\unset greeting
insert into :"tbl" values (':greeting' || :'greeting');
"#;
    let mut opts = Options {
        on_error_stop: false,
        format: Format::Csv,
        ..Options::default()
    };
    opts.variables.set("x", "1");
    let r = run(
        pg,
        &db,
        opts,
        vec![
            text("vars.sql", sql),
            Source::Command("select x from \"my t\" order by 1;".into()),
        ],
    );
    let summary = r.result.unwrap();
    // The last insert fails (unset :'greeting' is left as is): reported, not fatal.
    assert_eq!(summary.errors, 1, "{}", r.info);
    assert!(r.info.starts_with("vars.sql:19:"), "{}", r.info);
    assert_eq!(
        r.out,
        "hello world 'my t' \"my t\"\nx\nhello world\nnested else\n"
    );
}

#[test]
fn unknown_meta_command_is_a_script_error_and_one_transaction_rolls_back() {
    let pg = Pg::shared();
    let db = pg.create_db("script_meta");
    let e = run(
        pg,
        &db,
        one_tx(),
        vec![text("m.sql", "create table t (x int);\nselect 1 \\foo\n")],
    )
    .result
    .unwrap_err();
    // psql: "invalid command \foo", exit 3 under ON_ERROR_STOP.
    assert_eq!(
        (e.kind, e.exit_code(), e.line, e.column),
        (ErrorKind::Script, 3, 2, 10)
    );
    assert!(e.message.contains("invalid command \\foo"), "{e}");
    assert!(!table_exists(pg, &db, "t"));
}

#[test]
fn bad_if_goes_on_and_unterminated_if_is_a_script_error() {
    let pg = Pg::shared();
    let db = pg.create_db("script_badif");
    // psql reports `\if maybe`, takes the branch as false and goes on.
    let r = run(
        pg,
        &db,
        Options::default(),
        vec![text(
            "a.sql",
            "\\if maybe\n\\echo no\n\\else\n\\echo yes\n\\endif\n",
        )],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.out, "yes\n");
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![text("b.sql", "select 1;\n\\if true\nselect 2;\n")],
    )
    .result
    .unwrap_err();
    // At the last line read, as psql.
    assert_eq!((e.exit_code(), e.line), (3, 3));
    assert!(e.message.contains("\\endif"), "{e}");
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![text("c.sql", "\\endif\n")],
    )
    .result
    .unwrap_err();
    assert_eq!(e.exit_code(), 3);
}

#[test]
fn restricted_mode_refuses_other_meta_commands() {
    let pg = Pg::shared();
    let db = pg.create_db("script_restrict");
    let ok = run(
        pg,
        &db,
        Options::default(),
        vec![text(
            "r.sql",
            "\\restrict abc123\nselect 1;\n\\unrestrict abc123\n\\echo done\n",
        )],
    );
    assert_eq!(ok.result.unwrap().errors, 0);
    assert!(ok.out.ends_with("done\n"));
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![text("r.sql", "\\restrict abc123\n\\echo no\n")],
    )
    .result
    .unwrap_err();
    assert_eq!((e.exit_code(), e.line), (3, 2));
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![text("r.sql", "\\restrict abc123\n\\unrestrict other\n")],
    )
    .result
    .unwrap_err();
    assert_eq!((e.exit_code(), e.line), (3, 2));
}

#[test]
fn on_error_stop_off_reports_and_continues() {
    let pg = Pg::shared();
    let db = pg.create_db("script_continue");
    let sql = "create table t (x int);\ninsert into t values ('a');\ncopy nope from stdin;\ndrop table t;\n\\.\ninsert into t values (2);\n";
    let r = run(
        pg,
        &db,
        Options {
            on_error_stop: false,
            ..Options::default()
        },
        vec![text("c.sql", sql)],
    );
    assert_eq!(
        r.result.unwrap(),
        Summary {
            statements: 4,
            errors: 2
        },
        "{}",
        r.info
    );
    assert!(r.info.contains("c.sql:2:"), "{}", r.info);
    assert!(
        r.info.contains("c.sql:3:") && r.info.contains("42P01"),
        "{}",
        r.info
    );
    // The failed COPY's data (`drop table t;`) was skipped, not run as SQL.
    assert_eq!(count(pg, &db, "select count(*) from t"), 1);
}

#[test]
fn copy_in_out_and_client_side_copy() {
    let pg = Pg::shared();
    let db = pg.create_db("script_copy");
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("in.csv");
    std::fs::write(&csv, "7,\"seven, 7\"\n").unwrap();
    let out_file = tmp.path().join("out.txt");
    let sql = format!(
        "create table t (n int, s text);\nCOPY t (n, s) FROM STDIN WITH (FORMAT csv);\n1,\"multi\nline\"\n2,b;c\n\\.\n\\copy t from '{}' with csv\n\\copy t from stdin\n3\tthree\n\\.\ncopy (select n from t order by n) to stdout;\n\\copy (select s from t where n = 2) to '{}'\n",
        csv.display(),
        out_file.display()
    );
    let r = run(pg, &db, Options::default(), vec![text("copy.sql", &sql)]);
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.out, "1\n2\n3\n7\n");
    assert_eq!(std::fs::read_to_string(out_file).unwrap(), "b;c\n");
    let s: String = pg
        .connect(&db)
        .query_one("select s from t where n = 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(s, "multi\nline");
}

#[test]
fn a_bad_copy_row_is_reported_at_the_copy_statement() {
    let pg = Pg::shared();
    let db = pg.create_db("script_copybad");
    let sql = "create table t (n int);\n\ncopy t from stdin;\n1\nx\n\\.\nselect 1;\n";
    let e = run(pg, &db, Options::default(), vec![text("d.sql", sql)])
        .result
        .unwrap_err();
    assert_eq!(
        (e.line, e.sqlstate.as_deref(), e.exit_code()),
        (3, Some("22P02"), 3),
        "{e}"
    );
    assert_eq!(count(pg, &db, "select count(*) from t"), 0);
}

#[test]
fn standard_conforming_strings_follows_the_server() {
    let pg = Pg::shared();
    let db = pg.create_db("script_scs");
    let sql = "SET standard_conforming_strings = off;\nselect 'a\\';b' as v;\nSET standard_conforming_strings = on;\nselect 'c\\' as v;\n";
    let r = run(
        pg,
        &db,
        Options {
            format: Format::Json,
            ..Options::default()
        },
        vec![text("s.sql", sql)],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.out, "{\"v\":\"a';b\"}\n{\"v\":\"c\\\\\"}\n");
}

#[test]
fn table_output_matches_psql() {
    let pg = Pg::shared();
    let db = pg.create_db("script_table");
    let sql = "select 'a'::text as x, 'bcd' as \"longer header\", null::text as n union all select 'ıñtl', '', 'z';\nselect 'one' as only where false;\n";
    let r = run(pg, &db, Options::default(), vec![text("t.sql", sql)]);
    r.result.unwrap();
    // Through a file: psql -c would print only the last result.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("t.sql"), sql).unwrap();
    let psql_f = tool(pg, "psql")
        .args(["-X", "-q", "-d", &db, "-f"])
        .arg(tmp.path().join("t.sql"))
        .output()
        .unwrap();
    assert!(psql_f.status.success());
    assert_eq!(r.out, String::from_utf8_lossy(&psql_f.stdout));
}

#[test]
fn a_killed_connection_exits_2() {
    let pg = Pg::shared();
    let db = pg.create_db("script_killed");
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![text(
            "k.sql",
            "select pg_terminate_backend(pg_backend_pid());\nselect 1;\n",
        )],
    )
    .result
    .unwrap_err();
    assert_eq!(
        (e.kind, e.exit_code()),
        (ErrorKind::ConnectionLost, 2),
        "{e}"
    );
}

#[test]
fn missing_included_file_is_a_script_error() {
    let pg = Pg::shared();
    let db = pg.create_db("script_missing");
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![text("m.sql", "select 1;\n\\i /nonexistent/x.sql\n")],
    )
    .result
    .unwrap_err();
    // psql: exit 3 under ON_ERROR_STOP (a failed meta-command).
    assert_eq!((e.exit_code(), e.file.as_str(), e.line), (3, "m.sql", 2));
}

#[test]
fn notices_tags_and_echo_go_to_info() {
    let pg = Pg::shared();
    let db = pg.create_db("script_info");
    let mut cfg = config(pg, &db);
    let rx = uis_script::notice_channel(&mut cfg);
    let client = cfg.connect(postgres::NoTls).unwrap();
    let opts = Options {
        verbose: true,
        echo: true,
        ..Options::default()
    };
    let mut runner = Runner::new(client, Box::new(PgConnector::new(cfg)), opts).with_notices(rx);
    let (mut out, mut info) = (Vec::new(), Vec::new());
    let sql = "create table t (x int);\ninsert into t values (1), (2);\ndo $$ begin raise notice 'hello %', 1; end $$;\n";
    runner
        .run(vec![text("n.sql", sql)], &mut out, &mut info)
        .unwrap();
    let info = String::from_utf8(info).unwrap();
    assert_eq!(
        info,
        "create table t (x int);\nCREATE TABLE\ninsert into t values (1), (2);\nINSERT 0 2\n\
         do $$ begin raise notice 'hello %', 1; end $$;\nNOTICE:  hello 1\nDO\n"
    );
}

#[test]
fn begin_atomic_functions_reach_the_server_whole() {
    let pg = Pg::shared();
    let db = pg.create_db("script_atomic");
    let sql = "create table t (x int);\n\
               CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  INSERT INTO t VALUES (a);\n  SELECT CASE WHEN a > 0 THEN a ELSE 0 END;\nEND;\n\
               CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (10); INSERT INTO t VALUES (20); END;\n\
               select f(5) as v;\ncall p();\nselect sum(x) as s from t;\n";
    let r = run(
        pg,
        &db,
        Options {
            format: Format::Json,
            ..Options::default()
        },
        vec![text("a.sql", sql)],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.out, "{\"v\":5}\n{\"s\":35}\n");
}

#[test]
fn connect_switches_database_and_dash_keeps() {
    let pg = Pg::shared();
    let a = pg.create_db("script_conn_a");
    let b = pg.create_db("script_conn_b");
    let sql = format!(
        "select current_database() as d;\n\\c {b};\nselect current_database() as d;\n\\connect - postgres\nselect current_database() as d;\n\\c \"{a}\"\nselect current_database() as d;\n"
    );
    let r = run(
        pg,
        &a,
        Options {
            format: Format::Csv,
            ..Options::default()
        },
        vec![text("c.sql", &sql)],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.out, format!("d\n{a}\nd\n{b}\nd\n{b}\nd\n{a}\n"));
    let e = run(
        pg,
        &a,
        Options::default(),
        vec![text("c.sql", "\\c no_such_db\n")],
    )
    .result
    .unwrap_err();
    assert_eq!(
        (e.exit_code(), e.line, e.sqlstate.as_deref()),
        (3, 1, Some("3D000")),
        "{e}"
    );
}

#[test]
fn command_sources_run_after_files_and_quit_stops_everything() {
    let pg = Pg::shared();
    let db = pg.create_db("script_cmd");
    let r = run(
        pg,
        &db,
        Options {
            format: Format::Csv,
            ..Options::default()
        },
        vec![
            Source::Command("select 1 as a; select 2 as b".into()),
            text("q.sql", "select 3 as c;\n\\q\nselect 4 as d;\n"),
            Source::Command("select 5 as e".into()),
        ],
    );
    assert_eq!(r.result.unwrap().statements, 3);
    assert_eq!(r.out, "a\n1\nb\n2\nc\n3\n");
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![
            Source::Command("select 1;".into()),
            Source::Command("select nope;".into()),
        ],
    )
    .result
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), ("<command 2>", 1, 8));
}

#[test]
fn same_output_as_psql() {
    let pg = Pg::shared();
    let fixture = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/script/features.sql"
    ));
    let ours = pg.create_db("script_same_ours");
    let r = run(
        pg,
        &ours,
        Options::default(),
        vec![Source::File(fixture.clone())],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    // On PostgreSQL 18 with an older psql, psql plays the script against a
    // server of its own version (the fixture has a CSV COPY ended by `\.`).
    let oracle = pg.oracle_for_psql();
    let oracle_pg = oracle.as_ref().unwrap_or(pg);
    let theirs = oracle_pg.create_db("script_same_psql");
    let out = tool(oracle_pg, "psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &theirs, "-f"])
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(r.info, "");
    let psql = String::from_utf8_lossy(&out.stdout);
    for (i, (a, b)) in r.out.lines().zip(psql.lines()).enumerate() {
        assert_eq!(a, b, "line {}", i + 1);
    }
    assert_eq!(r.out, psql);
    if oracle.is_some() {
        // Two servers of different versions: compare what both can read.
        assert_eq!(pg.catalog_dump(&ours), oracle_pg.catalog_dump(&theirs));
    } else {
        assert_eq!(dump(pg, &ours), dump(pg, &theirs));
    }
}

#[test]
fn a_copy_that_fails_to_start_keeps_one_transaction_failed() {
    // Like psql -1 without ON_ERROR_STOP: after the failure every later
    // statement fails too, and the final COMMIT rolls everything back.
    let pg = Pg::shared();
    let db = pg.create_db("script_copy_tx");
    let sql = "create table t (x int);\ncopy nope from stdin;\n1\n\\.\ninsert into t values (1);\n";
    let opts = Options {
        on_error_stop: false,
        single_transaction: true,
        ..Options::default()
    };
    let r = run(pg, &db, opts, vec![text("tx.sql", sql)]);
    assert_eq!(r.result.unwrap().errors, 2, "{}", r.info);
    assert!(
        r.info.contains("tx.sql:5:") && r.info.contains("25P02"),
        "{}",
        r.info
    );
    assert!(!table_exists(pg, &db, "t"));

    // Without -1 the session goes on: statements after the COPY run.
    let db = pg.create_db("script_copy_notx");
    let r = run(
        pg,
        &db,
        Options {
            on_error_stop: false,
            ..Options::default()
        },
        vec![text("tx.sql", sql)],
    );
    assert_eq!(r.result.unwrap().errors, 1, "{}", r.info);
    assert_eq!(count(pg, &db, "select count(*) from t"), 1);
}

#[test]
fn a_missing_source_file_names_itself() {
    let pg = Pg::shared();
    let db = pg.create_db("script_nofile");
    let e = run(
        pg,
        &db,
        Options::default(),
        vec![Source::File("/nonexistent/seed.sql".into())],
    )
    .result
    .unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        e.to_string(),
        "/nonexistent/seed.sql: No such file or directory (os error 2)"
    );
}

#[test]
fn include_is_relative_to_the_working_directory() {
    // cargo runs tests in the crate root.
    let pg = Pg::shared();
    let db = pg.create_db("script_i");
    let r = run(
        pg,
        &db,
        Options {
            format: Format::Csv,
            ..Options::default()
        },
        vec![text(
            "<stdin>",
            "\\i tests/fixtures/script/include_me.sql\n\\echo :from_include\n",
        )],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.out, "included\nyes\nyes\n");
}

#[test]
fn json_values_are_typed_when_the_statement_can_be_described() {
    let pg = Pg::shared();
    let db = pg.create_db("script_json");
    let sql = "select 1::int as i, 2.50::numeric as n, 'NaN'::float8 as f, true as b, '{\"a\": [1]}'::jsonb as j, null::int as z, 'x' as t;\n\
               select 1 as one \\; select true as yes;\n";
    let r = run(
        pg,
        &db,
        Options {
            format: Format::Json,
            ..Options::default()
        },
        vec![text("j.sql", sql)],
    );
    r.result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.out,
        "{\"i\":1,\"n\":2.50,\"f\":\"NaN\",\"b\":true,\"j\":{\"a\": [1]},\"z\":null,\"t\":\"x\"}\n\
         {\"one\":\"1\"}\n{\"yes\":\"t\"}\n"
    );
}
