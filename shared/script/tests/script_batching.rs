//! Statement batching in the script engine (`Runner::batching`): the
//! fixture's pg_dump output and broken files run batched and unbatched must give the same
//! output, notices, errors (file:line:column, SQLSTATE, statement), exit
//! codes and databases (pg_dump), and batching must really put many
//! statements in one round trip inside a transaction and none outside.

use std::path::{Path, PathBuf};
use uis_harness::Pg;
use uis_script::{Options, PgConnector, Runner, ScriptError, Source, Summary, notice_channel};

mod pg_common;

use pg_common::{config, drop_create_connect, dump, fixture_dump};
use uis_harness::fixture::Style;

#[derive(Debug)]
struct Run {
    result: Result<Summary, ScriptError>,
    out: String,
    info: String,
}

/// What must not differ between batched and unbatched runs.
fn observable(r: &Run) -> String {
    let result = match &r.result {
        Ok(s) => format!("ok {s:?}"),
        Err(e) => format!(
            "err exit={} kind={:?} at={}:{}:{} sqlstate={:?} statement={:?} shown={e}",
            e.exit_code(),
            e.kind,
            e.file,
            e.line,
            e.column,
            e.sqlstate,
            e.statement
        ),
    };
    format!("{result}\n--- out\n{}--- info\n{}", r.out, r.info)
}

enum Tx {
    None,
    Single,
    Caller,
}

fn run(pg: &Pg, db: &str, tx: &Tx, batching: bool, sources: Vec<Source>) -> Run {
    let mut cfg = config(pg, db);
    let rx = notice_channel(&mut cfg);
    let mut client = cfg.connect(postgres::NoTls).expect("connect");
    if matches!(tx, Tx::Caller) {
        client.batch_execute("BEGIN").unwrap();
    }
    let options = Options {
        single_transaction: matches!(tx, Tx::Single),
        ..Options::default()
    };
    let mut runner = Runner::new(client, Box::new(PgConnector::new(cfg)), options)
        .with_notices(rx)
        .batching(batching)
        .caller_transaction(matches!(tx, Tx::Caller));
    let (mut out, mut info) = (Vec::new(), Vec::new());
    let result = runner.run(sources, &mut out, &mut info);
    if matches!(tx, Tx::Caller) {
        // The caller ends its transaction: commit what succeeded.
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        runner.client().batch_execute(end).unwrap();
    }
    Run {
        result,
        out: String::from_utf8(out).unwrap(),
        info: String::from_utf8(info).unwrap(),
    }
}

/// Run `files` batched and unbatched on fresh databases and compare
/// everything; returns the batched run.
fn both_ways(pg: &Pg, prefix: &str, tx: Tx, files: &[PathBuf]) -> Run {
    let sources = || files.iter().cloned().map(Source::File).collect::<Vec<_>>();
    let db_on = pg.create_db(&format!("{prefix}_b"));
    let on = run(pg, &db_on, &tx, true, sources());
    let db_off = pg.create_db(&format!("{prefix}_u"));
    let off = run(pg, &db_off, &tx, false, sources());
    // The database names differ; nothing else may.
    assert_eq!(
        observable(&on).replace(&db_on, "DB"),
        observable(&off).replace(&db_off, "DB"),
        "batched vs unbatched output of {prefix}"
    );
    assert_eq!(
        dump(pg, &db_on),
        dump(pg, &db_off),
        "batched vs unbatched database of {prefix}"
    );
    on
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn dumps_load_the_same_batched_and_unbatched() {
    let pg = Pg::shared();
    let tmp = tempfile::tempdir().unwrap();
    for style in [Style::Plain, Style::Inserts] {
        let file = fixture_dump(pg, style, tmp.path());
        let r = both_ways(pg, &format!("batch_{}", style.name()), Tx::Single, &[file]);
        r.result.unwrap();
    }
    // The drop/create/connect file creates and connects to its own
    // database first: run the rest (tables and multi-row INSERTs) in the
    // test's databases.
    let text = std::fs::read_to_string(drop_create_connect()).unwrap();
    let at = text.find("\\c uis_music;").unwrap();
    let rest = text[at..].split_once('\n').unwrap().1;
    let path = write(tmp.path(), "music-tables.sql", rest);
    let r = both_ways(pg, "batch_music", Tx::Single, &[path]);
    assert!(r.result.unwrap().statements > 5);
    // Autocommit: nothing batched, same result.
    let schema = fixture_dump(pg, Style::Clean, tmp.path());
    let r = both_ways(pg, "batch_clean_auto", Tx::None, &[schema]);
    r.result.unwrap();
}

/// Many batchable statements with notices, then `bad` at a known line.
fn broken(prefix_rows: usize, bad: &str, after: &str) -> (String, u64) {
    let mut s = String::from("CREATE TABLE t (id int PRIMARY KEY, v text);\n");
    for i in 0..prefix_rows {
        if i % 500 == 7 {
            s.push_str(&format!(
                "DO $$BEGIN RAISE NOTICE 'row %', {i}; END$$;\nDROP TABLE IF EXISTS missing_{i};\n"
            ));
        }
        s.push_str(&format!("INSERT INTO t VALUES ({i}, 'v{i}');\n"));
    }
    let line = s.lines().count() as u64 + 1;
    s.push_str(bad);
    s.push('\n');
    s.push_str(after);
    (s, line)
}

#[test]
fn errors_in_a_batch_are_reported_at_the_failing_statement() {
    let pg = Pg::shared();
    let tmp = tempfile::tempdir().unwrap();
    let after = "INSERT INTO t VALUES (-1, 'after');\n\\echo not reached\nINSERT INTO t VALUES (-2, 'after');\n";
    let cases: Vec<(&str, usize, &str)> = vec![
        // No error position: a unique violation in the first batch.
        ("dup", 40, "  INSERT INTO t VALUES (3, 'again');"),
        // A syntax error stops a whole multi-statement message before any
        // of it runs: the statements before it must still run (notices).
        ("syntax", 600, "INSERT INTO t VALUES (1000000 'x');"),
        // A position inside a later statement.
        ("missing", 30, "INSERT INTO nowhere VALUES (1);"),
        // In the second batch (more than 2,000 statements before it).
        ("second_batch", 4500, "INSERT INTO t VALUES (4000, 'dup');"),
        // An error raised after notices of the same statement.
        (
            "do_block",
            20,
            "DO $$BEGIN RAISE NOTICE 'before'; RAISE EXCEPTION 'boom' USING HINT = 'h'; END$$;",
        ),
        // Statement at the end of the file, no semicolon, trailing comment.
        ("no_semicolon", 10, "CREATE TABLE t (x int) -- again"),
    ];
    for (name, rows, bad) in cases {
        let tail = if name == "no_semicolon" { "" } else { after };
        let (text, line) = broken(rows, bad, tail);
        let path = write(tmp.path(), &format!("{name}.sql"), &text);
        for (tx, label) in [(Tx::Single, "1"), (Tx::Caller, "caller")] {
            let r = both_ways(
                pg,
                &format!("batch_{name}_{label}"),
                tx,
                std::slice::from_ref(&path),
            );
            let e = r.result.unwrap_err();
            assert_eq!((e.line, e.exit_code()), (line, 3), "{name}: {e}");
            assert!(!r.out.contains("not reached"), "{name}");
        }
    }
}

#[test]
fn a_script_that_commits_itself_keeps_autocommit_after_the_commit() {
    let pg = Pg::shared();
    let tmp = tempfile::tempdir().unwrap();
    let mut s = String::from("CREATE TABLE t (id int PRIMARY KEY);\n");
    for i in 0..50 {
        s.push_str(&format!("INSERT INTO t VALUES ({i});\n"));
    }
    s.push_str("COMMIT;\n");
    for i in 50..100 {
        s.push_str(&format!("INSERT INTO t VALUES ({i});\n"));
    }
    s.push_str("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1000);\n");
    let path = write(tmp.path(), "commits.sql", &s);
    let r = both_ways(pg, "batch_commits", Tx::Single, &[path]);
    assert_eq!(r.result.unwrap_err().line, 103);
}

#[test]
fn meta_commands_and_printed_results_keep_their_order() {
    let pg = Pg::shared();
    let tmp = tempfile::tempdir().unwrap();
    let inc = write(
        tmp.path(),
        "inc.sql",
        "INSERT INTO t VALUES (10);\nINSERT INTO t VALUES (11);\nSELECT count(*) AS n FROM t;\n",
    );
    let text = format!(
        "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n\
         \\echo two\nSELECT count(*) AS n FROM t;\nINSERT INTO t VALUES (3) RETURNING id;\n\
         \\set x 5\nINSERT INTO t VALUES (:x);\nINSERT INTO t VALUES (6);\n\\i {}\n\
         \\if false\nINSERT INTO t VALUES (99);\n\\endif\n\
         COPY t FROM stdin;\n7\n\\.\nINSERT INTO t VALUES (8);\nINSERT INTO t VALUES (9);\n\
         SET search_path = public;\nDROP TABLE IF EXISTS nothing_here;\nSELECT sum(id) FROM t;\n",
        inc.display()
    );
    let path = write(tmp.path(), "order.sql", &text);
    for (tx, label) in [
        (Tx::Single, "1"),
        (Tx::Caller, "caller"),
        (Tx::None, "auto"),
    ] {
        let r = both_ways(
            pg,
            &format!("batch_order_{label}"),
            tx,
            std::slice::from_ref(&path),
        );
        r.result.unwrap();
        assert!(r.out.contains("two\n"), "{}", r.out);
        assert!(r.out.contains(" 62\n"), "{}", r.out);
        assert!(r.info.contains("does not exist, skipping"), "{}", r.info);
    }
}

/// `statement_timestamp()` is the time the server received the message,
/// so statements sharing one message share it.
fn distinct_timestamps(pg: &Pg, tx: Tx, batching: bool) -> i64 {
    let mut s = String::from("CREATE TABLE ts (at timestamptz);\n");
    for _ in 0..300 {
        s.push_str("INSERT INTO ts VALUES (statement_timestamp());\n");
        // Make each unbatched round trip visibly distinct in time.
        s.push_str("DO $$BEGIN PERFORM pg_sleep(0.0001); END$$;\n");
    }
    let db = pg.create_db("batch_ts");
    let r = run(
        pg,
        &db,
        &tx,
        batching,
        vec![Source::Reader {
            name: "ts.sql".into(),
            reader: Box::new(std::io::Cursor::new(s.into_bytes())),
        }],
    );
    r.result.unwrap();
    pg.connect(&db)
        .query_one("SELECT count(DISTINCT at) FROM ts", &[])
        .unwrap()
        .get(0)
}

#[test]
fn batching_sends_many_statements_per_round_trip_only_in_a_transaction() {
    let pg = Pg::shared();
    assert!(distinct_timestamps(pg, Tx::Single, true) <= 3);
    assert!(distinct_timestamps(pg, Tx::Caller, true) <= 3);
    assert!(distinct_timestamps(pg, Tx::Single, false) > 250);
    assert!(distinct_timestamps(pg, Tx::None, true) > 250);
}
