//! Real-world SQL files (issue 18, kinds 1, 2, 8, 9, 10, 11): byte-order
//! marks, the server's CONTEXT and notice fields, the session kept after a
//! failed COPY, client encodings, and seed files isolated from each other
//! and from the ledger. psql is the oracle: each input runs through psql and
//! through uis-db-psql (or uis-db-seed) on databases made alike, compared by
//! exit code, stdout, stderr (server messages, without the location prefix
//! each prints its own way) and a snapshot of the resulting database.

use std::path::Path;
use uis_e2e::{Env, Out, output, psql_path};
use uis_harness::fixture::{self, assert_same};

/// One input: files written into a fresh directory (the first is run with
/// `-f`), extra arguments for both, environment for both.
struct Case<'a> {
    name: &'a str,
    files: Vec<(&'a str, Vec<u8>)>,
    psql_args: Vec<&'a str>,
    uis_args: Vec<&'a str>,
    env: Vec<(&'a str, &'a str)>,
    /// Compare stderr too (off when psql prints it in another encoding).
    stderr: bool,
}

impl<'a> Case<'a> {
    fn new(name: &'a str, main: &[u8]) -> Case<'a> {
        Case {
            name,
            files: vec![("main.sql", main.to_vec())],
            psql_args: vec!["-v", "ON_ERROR_STOP=1"],
            uis_args: vec![],
            env: vec![],
            stderr: true,
        }
    }
    fn file(mut self, name: &'a str, text: &[u8]) -> Self {
        self.files.push((name, text.to_vec()));
        self
    }
    fn args(mut self, both: &[&'a str], uis: &[&'a str]) -> Self {
        self.psql_args.extend_from_slice(both);
        self.uis_args.extend_from_slice(both);
        self.uis_args.extend_from_slice(uis);
        self
    }
    fn continue_on_error(mut self) -> Self {
        self.psql_args
            .retain(|a| *a != "-v" && *a != "ON_ERROR_STOP=1");
        self.uis_args.push("--continue-on-error");
        self
    }
    fn env(mut self, k: &'a str, v: &'a str) -> Self {
        self.env.push((k, v));
        self
    }
    fn no_stderr(mut self) -> Self {
        self.stderr = false;
        self
    }
}

/// The server's lines of stderr, whoever printed them: without psql's
/// `psql:FILE:LINE: ` and uis's `error: FILE:LINE:COL: ` prefixes, the
/// SQLSTATE uis appends, psql's `LINE n:` excerpt and caret, and uis's
/// STATEMENT line and own `  hint:` advice.
fn server_lines(stderr: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut skip_caret = false;
    for l in stderr.lines() {
        if skip_caret {
            skip_caret = false;
            if l.trim_start().starts_with('^') {
                continue;
            }
        }
        if l.starts_with("LINE ") {
            skip_caret = true;
            continue;
        }
        // uis's own notes (which login it used).
        if l.starts_with("STATEMENT:  ") || l.starts_with("uis: ") || l.starts_with("  hint: ") {
            continue;
        }
        let mut l = l.strip_prefix("error: ").unwrap_or(l).to_string();
        for lead in ["psql:", ""] {
            if let Some(rest) = l.strip_prefix(lead) {
                // FILE:LINE: or FILE:LINE:COL:
                let parts: Vec<&str> = rest.splitn(4, ':').collect();
                let num = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
                if parts.len() == 4 && num(parts[1]) && num(parts[2]) {
                    l = parts[3].trim_start().to_string();
                    break;
                }
                if parts.len() >= 3 && num(parts[1]) && !lead.is_empty() {
                    l = parts[2..].join(":").trim_start().to_string();
                    break;
                }
            }
        }
        if let Some(i) = l.find(" (SQLSTATE ") {
            l.truncate(i);
        }
        v.push(l);
    }
    v
}

/// Runs `case` through psql and uis-db-psql; both must exit, print and
/// leave the database the same. Returns (psql, uis).
fn same_as_psql(env: &Env, case: Case) -> (Out, Out) {
    let dir = env.path(case.name);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in &case.files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let main = case.files[0].0;
    let theirs_db = env.admin_db(&format!("{}_psql", case.name));
    let ours_db = env.admin_db(&format!("{}_uis", case.name));
    let url = env.admin_url(&theirs_db);
    let mut psql = std::process::Command::new(psql_path());
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            psql.env_remove(k);
        }
    }
    psql.current_dir(&dir)
        .args(["-X", "-q"])
        .args(&case.psql_args)
        .args(["-d", &url, "-f", main])
        .envs(case.env.iter().copied())
        .stdin(std::process::Stdio::null());
    let theirs = output(&mut psql);
    let mut uis = env.cmd("uis-db-psql");
    uis.current_dir(&dir)
        .args(["--as", "admin", "-d", &ours_db])
        .args(&case.uis_args)
        .args(["-f", main])
        .envs(case.env.iter().copied());
    let ours = output(&mut uis);
    let both = format!(
        "{}: psql exit {}\n{}{}\nuis exit {}\n{}{}",
        case.name, theirs.code, theirs.stdout, theirs.stderr, ours.code, ours.stdout, ours.stderr
    );
    assert_eq!(ours.code, theirs.code, "exit codes differ: {both}");
    assert_eq!(ours.stdout, theirs.stdout, "stdout differs: {both}");
    if case.stderr {
        assert_eq!(
            server_lines(&ours.stderr),
            server_lines(&theirs.stderr),
            "stderr differs: {both}"
        );
    }
    assert_same(
        &fixture::snapshot(env.pg, &theirs_db),
        "psql",
        &fixture::snapshot(env.pg, &ours_db),
        "uis-db-psql",
    );
    (theirs, ours)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn bom(text: &str) -> Vec<u8> {
    [BOM, text.as_bytes()].concat()
}

#[test]
fn byte_order_marks_are_skipped_where_psql_skips_them() {
    let env = Env::new();
    // The example, and the rest of the file after it.
    same_as_psql(
        &env,
        Case::new(
            "bom_file",
            &bom("create table t(x int);\ninsert into t values (1);\nselect x from t;\n"),
        ),
    );
    // A meta-command on the first line, and a first-line comment.
    same_as_psql(
        &env,
        Case::new("bom_meta", &bom("\\echo hi\ncreate table t(x int);\n")),
    );
    same_as_psql(
        &env,
        Case::new(
            "bom_comment",
            &bom("-- a comment\ncreate table t(x int);\n"),
        ),
    );
    // In files reached by \i and \ir, each its own first line.
    same_as_psql(
        &env,
        Case::new(
            "bom_include",
            &bom("\\i a.sql\n\\ir sub/b.sql\nselect 3;\n"),
        )
        .file("a.sql", &bom("create table a(x int);\n"))
        .file("sub/b.sql", &bom("create table b(x int);\n")),
    )
    .1
    .ok();
    // Only at the very start: a BOM on a later line, or a second BOM, is
    // text the server refuses (psql stops there too).
    let (_, ours) = same_as_psql(
        &env,
        Case::new(
            "bom_later",
            b"create table t(x int);\n\xEF\xBB\xBFinsert into t values (1);\n",
        ),
    );
    ours.expect_code(3);
    same_as_psql(
        &env,
        Case::new(
            "bom_twice",
            &bom(&String::from_utf8(bom("select 1;\n")).unwrap()),
        ),
    );
    // Not in UTF8: a LATIN1 client sends the three bytes as text.
    same_as_psql(
        &env,
        Case::new("bom_latin1", &bom("create table t(x int);\n"))
            .env("PGCLIENTENCODING", "LATIN1")
            .no_stderr(),
    )
    .1
    .expect_code(3);
    // From stdin.
    let db = env.admin_db("bom_stdin");
    let text = String::from_utf8(bom("create table s(x int);\n")).unwrap();
    env.run_stdin("uis-db-psql", &["--as", "admin", "-d", &db], &text)
        .ok();
    let n: i64 = env
        .pg
        .connect(&db)
        .query_one("select count(*) from pg_class where relname = 's'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

fn copy_300_rows() -> String {
    let mut s = String::from("create table t(id int, c numeric);\ncopy t from stdin;\n");
    for i in 1..=300 {
        if i == 217 {
            s.push_str(&format!("{i}\tn/a\n"));
        } else {
            s.push_str(&format!("{i}\t{i}.5\n"));
        }
    }
    s.push_str("\\.\ninsert into t values (0, 0);\n");
    s
}

#[test]
fn server_context_detail_and_hint_are_printed_as_psql_prints_them() {
    let env = Env::new();
    // The example: the bad row is named.
    let (_, ours) = same_as_psql(&env, Case::new("ctx_copy", copy_300_rows().as_bytes()));
    assert!(
        ours.stderr
            .contains("CONTEXT:  COPY t, line 217, column c: \"n/a\""),
        "{}",
        ours.stderr
    );
    // PL/pgSQL stacks, an internal QUERY, notices and warnings with DETAIL
    // and HINT, going on after each error.
    let plpgsql = "create function f() returns int language plpgsql as $$\nbegin\n  raise notice 'hello %', 1 using detail = 'the detail', hint = 'the hint';\n  raise warning 'careful' using detail = 'warned';\n  return 1/0;\nend $$;\nselect f();\ndo $$ begin perform 1/0; end $$;\ndo $$ begin execute 'select * from nowhere'; end $$;\ncreate function g() returns int language sql as 'select f()';\nselect g();\ndo $$ begin raise exception 'custom' using detail = 'd', hint = 'h', errcode = '22023'; end $$;\n";
    let (_, ours) = same_as_psql(
        &env,
        Case::new("ctx_plpgsql", plpgsql.as_bytes()).continue_on_error(),
    );
    assert!(
        ours.stderr
            .contains("PL/pgSQL function f() line 5 at RETURN"),
        "{}",
        ours.stderr
    );
    // Stopping at the first: a bad row in CSV COPY data.
    same_as_psql(
        &env,
        Case::new(
            "ctx_csv",
            b"create table t(a int, b date);\ncopy t from stdin with (format csv);\n1,2024-01-01\n2,not a date\n\\.\n",
        ),
    );
}

#[test]
fn the_session_survives_a_failed_copy() {
    let env = Env::new();
    // The example: after the failed COPY the search_path and the
    // temporary table are still there, so the table lands in schema s.
    // (\copy from a file: psql 15 runs a failed inline COPY's data lines
    // as SQL, where uis skips them; that is a difference of its own.)
    let text = "create schema s;\nset search_path = s;\ncreate temp table tmp(x int);\ninsert into tmp values (1);\n\\copy nope from 'data.txt'\ncreate table after_copy(x int);\ninsert into after_copy select x from tmp;\nshow search_path;\n";
    same_as_psql(
        &env,
        Case::new("keep_copy", text.as_bytes())
            .file("data.txt", b"1\n")
            .continue_on_error(),
    );
    // A COPY that fails in its data, then the same checks.
    let text = "create schema s;\nset search_path = s;\ncreate temp table tmp(x int);\ncreate table t(x int);\ncopy t from stdin;\n1\nbad\n\\.\ncreate table after_copy(x int);\ninsert into after_copy select count(*) from tmp;\nshow search_path;\n";
    same_as_psql(
        &env,
        Case::new("keep_data", text.as_bytes()).continue_on_error(),
    );
    // A \copy from a missing table, and one in a -1 transaction: the
    // server aborted it, later statements fail as in psql.
    let text = "create table t(x int);\nset search_path = public;\n\\copy nope from 'data.txt'\ninsert into t values (1);\n";
    same_as_psql(
        &env,
        Case::new("keep_one_tx", text.as_bytes())
            .file("data.txt", b"1\n")
            .continue_on_error()
            .args(&["-1"], &[]),
    );
}

#[test]
fn a_lost_connection_is_said_and_exits_2() {
    let env = Env::new();
    let db = env.admin_db("lost");
    let out = env.run(
        "uis-db-psql",
        &[
            "--as",
            "admin",
            "-d",
            &db,
            "--continue-on-error",
            "-c",
            "select pg_terminate_backend(pg_backend_pid())",
            "-c",
            "select 1",
        ],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("terminat") || out.stderr.contains("connection"),
        "{}",
        out.stderr
    );
}

const LATIN1_CAFE: &[u8] = b"create table t(s text);\nSET client_encoding = 'LATIN1';\ninsert into t values ('caf\xe9'), ('\xc0 bient\xf4t');\nselect s from t order by s;\n";

#[test]
fn files_in_other_encodings_store_what_psql_stores() {
    let env = Env::new();
    // The example, with and without -1.
    same_as_psql(&env, Case::new("enc_latin1", LATIN1_CAFE));
    same_as_psql(
        &env,
        Case::new("enc_latin1_tx", LATIN1_CAFE).args(&["-1"], &[]),
    );
    // A UTF-8 file that says LATIN1: psql stores what the bytes mean in
    // LATIN1; with -1 too (batching must not change the result).
    let utf8_says_latin1 = "create table t(s text);\nset client_encoding = 'LATIN1';\ninsert into t values ('café');\n";
    same_as_psql(&env, Case::new("enc_mislabel", utf8_says_latin1.as_bytes()));
    same_as_psql(
        &env,
        Case::new("enc_mislabel_tx", utf8_says_latin1.as_bytes()).args(&["-1"], &[]),
    );
    // SET NAMES, \encoding, PGCLIENTENCODING, WIN1252 and LATIN9 (€),
    // COPY data, and back to UTF8.
    same_as_psql(
        &env,
        Case::new(
            "enc_names",
            b"create table t(s text);\nset names 'WIN1252';\ninsert into t values ('\x80 \xe9');\nset client_encoding = 'UTF8';\ninsert into t values ('\xc3\xa9');\n",
        ),
    );
    same_as_psql(
        &env,
        Case::new(
            "enc_meta",
            b"create table t(s text);\n\\encoding LATIN9\n\\encoding\ninsert into t values ('\xa4');\ncopy t from stdin;\nd\xe9j\xe0\n\\.\n\\echo \xe9t\xe9\n",
        ),
    );
    same_as_psql(
        &env,
        Case::new(
            "enc_env",
            b"create table t(s text);\ninsert into t values ('\xe9');\nselect s from t;\n",
        )
        .env("PGCLIENTENCODING", "LATIN1"),
    );
    // Variables interpolate as text of the file's encoding.
    same_as_psql(
        &env,
        Case::new(
            "enc_vars",
            b"create table t(s text);\nset client_encoding = 'LATIN1';\n\\set v '\xe9t\xe9'\ninsert into t values (:'v');\n",
        ),
    );
    // Not valid UTF-8 and no encoding said: the server's error at that
    // statement, what ran before stays (as with psql), and with
    // --continue-on-error the next statements run.
    let bad = b"create table t(s text);\ninsert into t values ('ok');\ninsert into t values ('caf\xe9');\ninsert into t values ('after');\n";
    let (_, ours) = same_as_psql(&env, Case::new("enc_invalid", bad));
    ours.expect_code(3);
    assert!(
        ours.stderr
            .contains("invalid byte sequence for encoding \"UTF8\""),
        "{}",
        ours.stderr
    );
    same_as_psql(&env, Case::new("enc_invalid_go", bad).continue_on_error());
    same_as_psql(&env, Case::new("enc_invalid_tx", bad).args(&["-1"], &[]));
    // A byte WIN1252 lacks: the server's error.
    same_as_psql(
        &env,
        Case::new(
            "enc_unmapped",
            b"create table t(s text);\nset client_encoding = 'WIN1252';\ninsert into t values ('\x81');\n",
        ),
    );
    // An encoding uis cannot split safely is refused, clearly, before the
    // statements after it run.
    let db = env.admin_db("enc_sjis");
    let dir = env.path("enc_sjis");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("f.sql");
    std::fs::write(
        &f,
        "create table t(s text);\nset client_encoding = 'SJIS';\ninsert into t values ('x');\n",
    )
    .unwrap();
    let out = env.run(
        "uis-db-psql",
        &["--as", "admin", "-d", &db, "-f", f.to_str().unwrap()],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains("SJIS is not supported"),
        "{}",
        out.stderr
    );
    let n: i64 = env
        .pg
        .connect(&db)
        .query_one("select count(*) from t", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

// ---- seeds ----

fn seed(env: &Env, app: &str, dir: &Path, extra: &[&str]) -> Out {
    let dir = dir.to_string_lossy();
    let mut args = vec![app, dir.as_ref(), "--json"];
    args.extend_from_slice(extra);
    env.run("uis-db-seed", &args)
}

fn write(dir: &Path, name: &str, text: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn seed_files_with_a_bom_keep_their_first_line_directive() {
    let env = Env::new();
    env.run("uis-db-configure", &["bomseed", "--json"]).ok();
    let dir = env.path("bomseed");
    write(
        &dir,
        "01-t.sql",
        &bom("create table t(x int);\ninsert into t values (1);\n"),
    );
    // CONCURRENTLY runs only outside a transaction: the directive must be
    // seen behind the BOM.
    write(
        &dir,
        "02-idx.sql",
        &bom("-- uis:no-transaction\ncreate index concurrently t_x on t(x);\n"),
    );
    let out = seed(&env, "bomseed", &dir, &[]);
    out.ok();
    assert_eq!(
        out.json()["applied"],
        serde_json::json!(["01-t.sql", "02-idx.sql"])
    );
}

#[test]
fn seed_files_are_isolated_from_each_other_and_from_the_ledger() {
    let env = Env::new();
    env.run(
        "uis-db-configure",
        &["iso", "--schemas", "iso,other", "--json"],
    )
    .ok();
    let mut db = env.pg.connect("iso_db");
    db.batch_execute("create role iso_reader nologin; grant iso_reader to iso; grant usage, create on schema other to iso_reader")
        .unwrap();
    let dir = env.path("iso");
    // File 1 changes role, search_path, a GUC, a variable and makes a temp
    // table; file 2 must see none of it, as psql run on it alone.
    write(
        &dir,
        "01-set.sql",
        b"set role iso_reader;\nset search_path = other;\nset statement_timeout = '1s';\n\\set v from_one\ncreate temp table scratch(x int);\ncreate table made_by_reader(x int);\n",
    );
    write(
        &dir,
        "02-next.sql",
        b"create table iso.by_owner as select current_user as who, current_setting('statement_timeout') as timeout, current_schemas(false)::text as path, (select count(*) from pg_class where relname = 'scratch') as temps, :'v' as v;\n",
    );
    let out = seed(&env, "iso", &dir, &[]);
    // psql's :'v' is left as text when v is unset, a syntax error there;
    // so file 2 fails the same way psql alone would.
    out.expect_code(3);
    assert!(out.stderr.contains("02-next.sql:1:"), "{}", out.stderr);
    write(
        &dir,
        "02-next.sql",
        b"create table iso.by_owner as select current_user as who, current_setting('statement_timeout') as timeout, current_schemas(false)::text as path, (select count(*) from pg_class where relname = 'scratch') as temps;\n",
    );
    seed(&env, "iso", &dir, &[]).ok();
    let row = db
        .query_one(
            "select who::text, timeout, path, temps from iso.by_owner",
            &[],
        )
        .unwrap();
    let got: (String, String, String, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(got.0, "iso", "file 2 runs as the login");
    assert_eq!(got.1, "0", "no GUC from file 1");
    assert!(
        !got.2.contains("other"),
        "no search_path from file 1: {}",
        got.2
    );
    assert_eq!(got.3, 0, "no temp table from file 1");
    // The ledger was written, as the login, for both files.
    let by: Vec<String> = db
        .query(
            "select applied_by from uis.seed_ledger order by file_name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(by, ["iso", "iso"]);
    let owner: String = db
        .query_one(
            "select tableowner::text from pg_tables where tablename = 'made_by_reader'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(owner, "iso_reader");
    // An error names the file and line.
    write(
        &dir,
        "03-bad.sql",
        b"select 1;\nset role iso_reader;\nselect * from nowhere;\n",
    );
    let out = seed(&env, "iso", &dir, &[]);
    out.expect_code(3);
    assert!(out.stderr.contains("03-bad.sql:3:"), "{}", out.stderr);
}

#[test]
fn line_ends_and_byte_order_marks_are_not_drift() {
    let env = Env::new();
    env.run("uis-db-configure", &["ends", "--json"]).ok();
    let dir = env.path("ends");
    let lf = "create table t(x int);\ninsert into t values (1);\n";
    write(&dir, "01.sql", lf.as_bytes());
    seed(&env, "ends", &dir, &[]).ok();
    for (what, text) in [
        ("CRLF", lf.replace('\n', "\r\n").into_bytes()),
        ("BOM", bom(lf)),
        ("BOM and CRLF", bom(&lf.replace('\n', "\r\n"))),
        ("LF again", lf.as_bytes().to_vec()),
    ] {
        write(&dir, "01.sql", &text);
        let out = seed(&env, "ends", &dir, &[]);
        assert_eq!(out.code, 0, "{what}: {}", out.stderr);
        assert_eq!(
            out.json()["skipped"],
            serde_json::json!(["01.sql"]),
            "{what}"
        );
    }
    // A real edit is still drift.
    write(&dir, "01.sql", lf.replace("(1)", "(2)").as_bytes());
    let out = seed(&env, "ends", &dir, &[]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("changed after it was applied"),
        "{}",
        out.stderr
    );
    // A ledger written before (SHA-256 of the raw bytes of a CRLF file)
    // still matches the unchanged file.
    let crlf = lf.replace('\n', "\r\n");
    write(&dir, "01.sql", crlf.as_bytes());
    let raw = sha256_hex(crlf.as_bytes());
    env.pg
        .connect("ends_db")
        .execute("update uis.seed_ledger set sha256 = $1", &[&raw])
        .unwrap();
    let out = seed(&env, "ends", &dir, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["skipped"], serde_json::json!(["01.sql"]));
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn seed_files_in_other_encodings_load_as_psql_loads_them() {
    let env = Env::new();
    env.run("uis-db-configure", &["encseed", "--json"]).ok();
    let dir = env.path("encseed");
    write(&dir, "01-latin1.sql", LATIN1_CAFE);
    // The next file starts in UTF8 again.
    write(
        &dir,
        "02-utf8.sql",
        "insert into t values ('é');\n".as_bytes(),
    );
    seed(&env, "encseed", &dir, &[]).ok();
    let psql_db = env.admin_db("encseed_psql");
    let url = env.admin_url(&psql_db);
    for f in ["01-latin1.sql", "02-utf8.sql"] {
        let p = dir.join(f);
        env.psql(&[
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &url,
            "-f",
            p.to_str().unwrap(),
        ])
        .ok();
    }
    let rows = |db: &str| -> Vec<String> {
        env.pg
            .connect(db)
            .query("select s from t order by s", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(rows("encseed_db"), rows(&psql_db));
    let mut theirs = rows(&psql_db);
    theirs.sort();
    assert_eq!(theirs, ["café", "À bientôt", "é"]);
}
