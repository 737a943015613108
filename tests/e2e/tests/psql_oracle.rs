//! Real-world SQL files behave in uis-db-psql (and uis-db-seed) as in psql
//! (issue 18, kinds 3-7 and 12). psql is the oracle: each input runs through
//! the machine's psql and through uis-db-psql, each on a fresh database,
//! and the two must agree on the exit code, stdout, the messages on stderr
//! (each psql `ERROR`/`error`/`WARNING` text at its line; uis prints no
//! command tags and adds a column and a SQLSTATE) and a snapshot of the
//! resulting database (catalog plus a checksum of every table's rows).
//! Where the input is a seed file too, uis-db-seed must leave the same data.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use uis_e2e::{Env, Out, psql_path};
use uis_harness::fixture::{self, assert_same};

/// How both sides run the input.
#[derive(Clone, Copy)]
struct Mode {
    /// `-v ON_ERROR_STOP=1` (psql) / the default (uis); off:
    /// psql's default / `--continue-on-error`.
    stop: bool,
    /// `-1`.
    one: bool,
    /// The input on stdin instead of `-f FILE`.
    stdin: bool,
}

const STOP: Mode = Mode {
    stop: true,
    one: false,
    stdin: false,
};
const GO_ON: Mode = Mode {
    stop: false,
    one: false,
    stdin: false,
};
const ONE: Mode = Mode {
    stop: true,
    one: true,
    stdin: false,
};
const STDIN: Mode = Mode {
    stop: true,
    one: false,
    stdin: true,
};

fn output(c: &mut Command, stdin: Option<&[u8]>) -> Out {
    let mut child = c
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let o = child.wait_with_output().expect("wait");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn psql_on(pg: &uis_harness::Pg, db: &str, file: &Path, mode: Mode, extra: &[&str]) -> Out {
    psql_at(&pg.url(db), file, mode, extra)
}

/// psql at `url` (a database and the role to log in as).
fn psql_at(url: &str, file: &Path, mode: Mode, extra: &[&str]) -> Out {
    let mut c = Command::new(psql_path());
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            c.env_remove(k);
        }
    }
    c.current_dir(file.parent().unwrap());
    c.args(["-X", "-q", "-d", url]);
    if mode.stop {
        c.args(["-v", "ON_ERROR_STOP=1"]);
    }
    if mode.one {
        c.arg("-1");
    }
    c.args(extra);
    if mode.stdin {
        let input = std::fs::read(file).unwrap();
        output(&mut c, Some(&input))
    } else {
        c.arg("-f").arg(file);
        output(&mut c, None)
    }
}

fn uis(env: &Env, db: &str, file: &Path, mode: Mode, extra: &[&str]) -> Out {
    let mut c = env.cmd("uis-db-psql");
    c.current_dir(file.parent().unwrap());
    c.args(["--as", "admin", "-d", db]);
    if !mode.stop {
        c.arg("--continue-on-error");
    }
    if mode.one {
        c.arg("-1");
    }
    c.args(extra);
    if mode.stdin {
        let input = std::fs::read(file).unwrap();
        output(&mut c, Some(&input))
    } else {
        c.arg("-f").arg(file);
        output(&mut c, None)
    }
}

/// psql's located messages: (line, text, is an error) of
/// `psql:FILE:LINE: LEVEL: text`.
fn psql_messages(stderr: &str) -> Vec<(String, String, bool)> {
    let mut v = Vec::new();
    for l in stderr.lines() {
        let Some(rest) = l.strip_prefix("psql:") else {
            continue;
        };
        // FILE:LINE: rest
        let mut parts = rest.splitn(3, ':');
        let (Some(_file), Some(line), Some(msg)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let msg = msg.trim_start();
        for (p, error) in [
            ("ERROR:  ", true),
            ("error: ", true),
            ("WARNING:  ", false),
            ("warning: ", false),
        ] {
            if let Some(text) = msg.strip_prefix(p) {
                v.push((line.to_string(), text.to_string(), error));
            }
        }
    }
    v
}

/// Runs `sql` through psql and uis-db-psql and compares them. Returns
/// both outputs for further checks.
fn same(env: &Env, name: &str, sql: &str, mode: Mode) -> (Out, Out) {
    same_with(env, env.pg, name, sql.as_bytes(), mode, &[])
}

/// [`same`] with psql run on `oracle` (the test's server, or a server of
/// psql's own version where the test's server behaves differently on
/// purpose) and uis-db-psql on the test's server, with `extra` arguments
/// for both.
fn same_with(
    env: &Env,
    oracle: &uis_harness::Pg,
    name: &str,
    sql: &[u8],
    mode: Mode,
    extra: &[&str],
) -> (Out, Out) {
    let dir = env.path(&format!("oracle-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.sql");
    std::fs::write(&file, sql).unwrap();
    // uis-db-psql --as admin in a database the admin owns; psql as the
    // same role in one made alike (on proxied the admin is no superuser),
    // or as the superuser of a server of psql's own version.
    let ours_db = env.admin_db("o_uis");
    let (theirs_db, theirs) = if std::ptr::eq(oracle, env.pg) {
        let db = env.admin_db("o_psql");
        let out = psql_at(&env.admin_url(&db), &file, mode, extra);
        (db, out)
    } else {
        let db = oracle.create_db("o_psql");
        let out = psql_on(oracle, &db, &file, mode, extra);
        (db, out)
    };
    let ours = uis(env, &ours_db, &file, mode, extra);
    let input = String::from_utf8_lossy(sql);
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (theirs.code, theirs.stdout.as_str()),
        "{name}: uis-db-psql exits and prints as psql does\n--- input:\n{input}\n--- psql stderr:\n{}\n--- uis stderr:\n{}",
        theirs.stderr,
        ours.stderr
    );
    let lines: Vec<&str> = input.lines().collect();
    for (line, text, error) in psql_messages(&theirs.stderr) {
        // psql locates an error in COPY data at the line where the data
        // ended (`\.` or the end of input); uis at the COPY statement (see
        // docs/reference/psql-differences.md).
        let n: usize = line.parse().unwrap_or(0);
        let copy_end = lines
            .get(n.wrapping_sub(1))
            .is_none_or(|l| l.trim_end() == "\\.")
            || n + 1 >= lines.len();
        let error = error && !copy_end;
        // Errors at the same line; warnings (which uis prints without a
        // place) by their text.
        assert!(
            ours.stderr
                .lines()
                .any(|l| l.contains(&text) && (!error || l.contains(&format!(":{line}:")))),
            "{name}: psql said {text:?} at line {line}; uis-db-psql did not\n--- input:\n{input}\n--- psql stderr:\n{}\n--- uis stderr:\n{}",
            theirs.stderr,
            ours.stderr
        );
    }
    assert_same(
        &fixture::snapshot(oracle, &theirs_db),
        "psql",
        &fixture::snapshot(env.pg, &ours_db),
        &format!("uis-db-psql ({name})"),
    );
    (theirs, ours)
}

/// The same input as a seed file: uis-db-seed leaves the data psql leaves.
fn seed_like_psql(env: &Env, name: &str, sql: &str) {
    seed_like_psql_on(env, env.pg, name, sql)
}

/// [`seed_like_psql`] with psql run on `oracle` (a server of psql's own
/// version where the test's server behaves differently on purpose).
fn seed_like_psql_on(env: &Env, oracle: &uis_harness::Pg, name: &str, sql: &str) {
    let dir = env.path(&format!("oracle-seed-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.sql");
    std::fs::write(&file, sql).unwrap();
    let theirs_db = oracle.create_db("o_psql_seed");
    let theirs = psql_on(oracle, &theirs_db, &file, ONE, &[]);
    assert_eq!(theirs.code, 0, "{name}: psql -1: {}", theirs.stderr);
    let app = format!("o-{name}");
    env.run("uis-db-configure", &[&app, "--json"]).ok();
    let app_db = format!("{}_db", app.replace('-', "_"));
    let seeds = dir.join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(seeds.join("01-input.sql"), sql).unwrap();
    let seeds = seeds.to_string_lossy().into_owned();
    env.run("uis-db-seed", &[&app, &seeds, "--as", "admin", "--json"])
        .ok();
    assert_eq!(
        fixture::snapshot(env.pg, &app_db).data,
        fixture::snapshot(oracle, &theirs_db).data,
        "{name}: uis-db-seed leaves the data psql -1 leaves"
    );
}

fn file_text(env: &Env, name: &str, file: &str) -> String {
    let p: PathBuf = env.path(&format!("oracle-{name}")).join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Kind 3: `standard_conforming_strings` changed by anything, not only a
/// statement that names it; in batches (`-1`, seed) too.
#[test]
fn standard_conforming_strings_follows_the_server() {
    let env = Env::new();
    let cases: &[(&str, &str)] = &[
        // The example: SET LOCAL ends at COMMIT.
        (
            "set_local_commit",
            "create table t(x text);\nbegin;\nset local standard_conforming_strings = off;\ncommit;\ninsert into t values ('C:\\temp\\');\nselect * from t;\n",
        ),
        (
            "set_off_then_reset",
            "create table t(x text);\nset standard_conforming_strings = off;\nreset standard_conforming_strings;\ninsert into t values ('C:\\temp\\');\n",
        ),
        (
            "rollback_undoes_set",
            "create table t(x text);\nbegin;\nset standard_conforming_strings = off;\nrollback;\ninsert into t values ('a\\');\n",
        ),
        // A function turns it off without naming it in the statement.
        (
            "set_config_in_a_function",
            "create table t(x text);\ncreate function f() returns text language sql as $$ select set_config('standard_conforming_strings', 'off', false) $$;\nselect f() is not null as changed;\ninsert into t values ('it\\'s; still one string');\nselect * from t;\n",
        ),
        // A function with a SET clause restores the value on exit.
        (
            "function_set_clause",
            "create table t(x text);\ncreate function g() returns int language sql set standard_conforming_strings = off as 'select 1';\nselect g();\ninsert into t values ('C:\\temp\\');\n",
        ),
        // In a DO block, amid statements that are batched with -1.
        (
            "do_block_in_a_batch",
            "create table t(x text);\ninsert into t values ('a');\ndo $$ begin perform set_config('standard_conforming_strings', 'off', false); end $$;\ninsert into t values ('b\\'c');\ninsert into t values ('d');\ndo $$ begin perform set_config('standard_conforming_strings', 'on', false); end $$;\ninsert into t values ('e\\');\n",
        ),
        // Off from the start (ALTER DATABASE, then a new session).
        (
            "database_default_off",
            "create table t(x text);\nselect current_database() as db \\gset\nalter database :\"db\" set standard_conforming_strings = off;\n\\c :db\ninsert into t values ('f\\'g');\nalter database :\"db\" reset standard_conforming_strings;\n",
        ),
        // E'' strings never depend on it.
        (
            "escape_strings",
            "create table t(x text);\nset standard_conforming_strings = off;\ninsert into t values (E'h\\'i');\nset standard_conforming_strings = on;\ninsert into t values (E'j\\'k'), ('l\\');\n",
        ),
    ];
    for (name, sql) in cases {
        same(&env, name, sql, STOP);
        // With -1 the ALTER DATABASE is not committed before `\c`.
        if *name != "database_default_off" {
            same(&env, &format!("{name}_1"), sql, ONE);
        }
    }
    for (name, sql) in cases.iter().filter(|(n, _)| {
        [
            "set_config_in_a_function",
            "do_block_in_a_batch",
            "escape_strings",
        ]
        .contains(n)
    }) {
        seed_like_psql(&env, &name.replace('_', "-"), sql);
    }
}

/// Kind 4: COPY data ends at a `\.` line or the end of input, whatever the
/// format and quoting, as psql 15's handleCopyIn.
#[test]
fn copy_data_ends_where_psql_ends_it() {
    let env = Env::new();
    let cases: &[(&str, &str, Mode)] = &[
        // The examples.
        (
            "eof_without_marker",
            "create table t(x text);\ncopy t from stdin;\na\nb",
            STOP,
        ),
        (
            "eof_without_marker_nl",
            "create table t(x text);\ncopy t from stdin;\na\nb\n",
            STOP,
        ),
        (
            "eof_without_marker_stdin",
            "create table t(x text);\ncopy t from stdin;\na\nb\n",
            STDIN,
        ),
        (
            "eof_without_marker_1",
            "create table t(x text);\ncopy t from stdin;\na\nb\n",
            ONE,
        ),
        (
            "csv_custom_quote",
            "create table t(x text);\ncopy t from stdin with (format csv, quote '''');\na\"b\n\\.\ninsert into t values ('after');\nselect * from t;\n",
            STOP,
        ),
        (
            "text_with_double_quote",
            "create table t(x text, y text);\ncopy t from stdin with (format text);\na\"b\tc\n\\.\ninsert into t values ('after', 'csv');\nselect * from t;\n",
            STOP,
        ),
        (
            "old_syntax_csv",
            "create table t(x text, y text);\ncopy t from stdin with csv quote as '|';\n|a\"b|,c\n\\.\ncopy t from stdin csv;\n\"x,\"\"y\",z\n\\.\nselect * from t order by 1;\n",
            STOP,
        ),
        (
            "csv_escape",
            "create table t(x text, y text);\ncopy t (x, y) from stdin (format csv, escape '\\', header true);\nx,y\n\"a\\\"b\",c\n\\.\nselect * from t;\n",
            STOP,
        ),
        // A `\.` line inside a quoted CSV field ends the data (the server
        // then reports the unterminated field).
        (
            "marker_inside_csv_quote",
            "create table t(x text);\ninsert into t values ('before');\ncopy t from stdin csv;\n\"a\n\\.\nb\"\n\\.\nselect 1;\n",
            STOP,
        ),
        // `\.` at the very end without a newline is data.
        (
            "marker_without_newline",
            "create table t(x text);\ncopy t from stdin;\na\n\\.",
            STOP,
        ),
        (
            "crlf_marker",
            "create table t(x text);\r\ncopy t from stdin;\r\na\r\n\\.\r\nselect count(*) from t;\r\n",
            STOP,
        ),
        (
            "client_copy_eof",
            "create table t(x text);\n\\copy t from stdin\na\nb\n",
            STOP,
        ),
    ];
    // From PostgreSQL 18 the server reads a `\.` line as data in CSV
    // (18 release notes: COPY FROM no longer treats `\.` as the end of CSV
    // data), and psql 18 stopped sending it; uis does not send it either,
    // while the oracle here is psql 15, which still does. On 18+ the CSV
    // cases are compared with psql 15 on a PostgreSQL 15 server, the
    // pairing whose behaviour uis keeps (docs/reference/psql-differences.md).
    let server: u32 = env.pg.server_version_num();
    let mut older: Option<uis_harness::Pg> = None;
    for (name, sql, mode) in cases {
        let csv_marker = sql.to_ascii_lowercase().contains("csv") && sql.contains("\\.\n");
        if server >= 180000 && csv_marker {
            let old = older.get_or_insert_with(|| {
                let major = uis_harness::pg::client_major("psql").expect("psql's version");
                let bin = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
                eprintln!("{name}: compared with psql {major} on a PostgreSQL {major} server (18+ takes psql {major}'s `\\.` as CSV data)");
                uis_harness::Pg::start_with(&bin).expect("a PostgreSQL server of psql's version")
            });
            same_with(&env, old, name, sql.as_bytes(), *mode, &[]);
        } else {
            same(&env, name, sql, *mode);
        }
    }
    let oracle = older.as_ref().unwrap_or(env.pg);
    seed_like_psql_on(
        &env,
        oracle,
        "copy-csv-quote",
        "create table t(x text);\ncopy t from stdin with (format csv, quote '''');\na\"b\n\\.\ninsert into t values ('after');\n",
    );
    seed_like_psql(
        &env,
        "copy-eof",
        "create table t(x text);\ncopy t from stdin;\na\nb\n",
    );
}

/// Kind 5: `\\` ends a meta-command's arguments; any other unquoted
/// backslash starts the next meta-command.
#[test]
fn double_backslash_ends_meta_command_arguments() {
    let env = Env::new();
    let cases: &[(&str, &str)] = &[
        ("issue_example", "\\set v 5 \\\\ select :v;\n"),
        (
            "two_commands",
            "\\echo x\\echo y\n\\set a 1 \\\\\\set b 2\n\\echo :a :b\n",
        ),
        (
            "quoted_backslashes",
            "\\echo 'a\\\\b\\'c' \"c\\\\d\" e \\\\ select 2 as two;\n",
        ),
        (
            "sql_after_separator_spans_lines",
            "create table t(x int);\n\\set n 3 \\\\ insert into t\nvalues (:n);\nselect * from t;\n",
        ),
        (
            "copy_takes_whole_line",
            "create table t(x text);\n\\copy t from stdin \\\\ x\na\n\\.\nselect count(*) from t;\n",
        ),
    ];
    for (name, sql) in cases {
        same(&env, name, sql, STOP);
    }
}

/// Kind 6: `\g`, `\gx`, `\gset`, `\gexec` and the printing and output
/// meta-commands, as psql runs them.
#[test]
fn query_meta_commands_as_psql() {
    let env = Env::new();
    let cases: &[(&str, &str, Mode)] = &[
        (
            "gset",
            "select 1 as a, null as b, 'x y' as c \\gset\n\\echo :a :b :c\nselect 2 as a \\gset p_\n\\echo :p_a\n\\set b 9\nselect null as b \\gset\n\\echo :b\n",
            STOP,
        ),
        (
            "gset_no_rows",
            "select 1 where false \\gset\n\\echo after\n",
            STOP,
        ),
        (
            "gset_no_rows_go_on",
            "select 1 where false \\gset\n\\echo after\n",
            GO_ON,
        ),
        (
            "gset_two_rows",
            "select 1 as a union all select 2 \\gset\n\\echo after\n",
            STOP,
        ),
        ("gset_bad_name", "select 1 as \"c d\" \\gset\n", STOP),
        (
            "gexec",
            "select 'create table g1(x int)', null, 'insert into g1 values (1)' union all select 'select * from g1', 'select 2 as two', null \\gexec\nselect count(*) from g1;\n",
            STOP,
        ),
        (
            "gexec_error",
            "select 'select 1/0' \\gexec\n\\echo notreached\n",
            STOP,
        ),
        (
            "gexec_error_go_on",
            "select 'select 1/0', 'select 3 as three' \\gexec\n\\echo reached\n",
            GO_ON,
        ),
        (
            "g_and_previous_query",
            "\\g\nselect 3 as a;\n\\g\nselect 4 as b\n\\g\n",
            STOP,
        ),
        (
            "gx_and_x",
            "select 'long value here' as a, 12345 as bbbbbbbbbbbb, null as c \\gx\nselect 1 as a where false \\gx\nselect E'x\\ny' as a, 2 as b \\gx\n\\x\nselect 1 as a, 2 as b union all select 3, 4;\n\\x off\nselect 5 as c;\n",
            STOP,
        ),
        (
            "pset_and_t_and_a",
            "\\pset null NUL\nselect null as n, 'a,b' as m;\n\\pset format csv\nselect null as n, 'a,b' as m;\n\\pset format unaligned\nselect null as n, 'a,b' as m;\n\\t\nselect 1 as a;\n\\t\n\\pset footer off\nselect 1 as a;\n\\pset footer on\n\\x\n\\t\nselect 1 as a, 2 as b union all select 3, 4;\n\\t\n\\a\nselect 1 as a, 2 as b union all select 3, 4;\n\\x\nselect 1 as a where false;\n\\pset format csv\n\\t on\nselect 1 as a;\n\\t off\n\\x on\nselect 1 as a, 2 as b;\n",
            STOP,
        ),
        ("pset_unknown", "\\pset foo\n\\echo after\n", STOP),
        (
            "qecho_warn_o",
            "\\qecho hello\n\\warn warned\n\\o out.txt\nselect 7;\n\\qecho toout\n\\echo tostdout\n\\o\n\\echo after\n",
            STOP,
        ),
        (
            "g_to_file",
            "select 1 as a, 2 as b \\g g.txt\n\\echo ok\n",
            STOP,
        ),
        (
            "getenv_setenv",
            "\\setenv UIS_ORACLE_X hello\n\\getenv v UIS_ORACLE_X\n\\echo :v\n\\getenv w UIS_ORACLE_UNSET_VAR\n\\echo :w\n",
            STOP,
        ),
    ];
    for (name, sql, mode) in cases {
        same(&env, name, sql, *mode);
    }
    // The files psql and uis wrote (each ran in its own directory... the
    // same one: the second run overwrote the first; compare with psql's
    // text by running psql again alone).
    for (name, file, want) in [
        (
            "qecho_warn_o",
            "out.txt",
            " ?column? \n----------\n        7\n(1 row)\n\ntoout\n",
        ),
        (
            "g_to_file",
            "g.txt",
            " a | b \n---+---\n 1 | 2\n(1 row)\n\n",
        ),
    ] {
        assert_eq!(file_text(&env, name, file), want, "{name}: {file}");
    }
}

/// Kind 6: what the engine refuses is a script error with a reason.
#[test]
fn refused_meta_commands_say_why() {
    let env = Env::new();
    for (cmd, why) in [
        ("\\conninfo", "port-forward"),
        ("\\! ls", "shell"),
        ("\\dt", "interactive"),
        ("\\g |cat", "pipes"),
        ("\\o |cat", "pipes"),
        ("\\set x `echo hi`", "backquote"),
        ("\\pset border 2", "border"),
    ] {
        let dir = env.path("refused");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("r.sql");
        std::fs::write(&file, format!("select 1 as a\n{cmd}\n\\echo after\n")).unwrap();
        let db = env.admin_db("o_refused");
        let out = uis(&env, &db, &file, STOP, &[]);
        assert_eq!(out.code, 3, "{cmd}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{cmd}: {}", out.stderr);
        assert!(!out.stdout.contains("after"), "{cmd}: {}", out.stdout);
    }
}

/// Kind 7: meta-command errors exit 3 under ON_ERROR_STOP and are passed
/// over without it; `\if maybe` is reported and taken as false.
#[test]
fn meta_command_errors_exit_as_psql() {
    let env = Env::new();
    let cases: &[(&str, &str)] = &[
        (
            "missing_include",
            "select 1 as one;\n\\i /nonexistent/x.sql\nselect 2 as two;\n",
        ),
        (
            "missing_include_relative",
            "\\ir nope.sql\nselect 2 as two;\n",
        ),
        ("unclosed_if", "\\if true\nselect 1 as one;\n"),
        ("stray_endif", "\\endif\nselect 1 as one;\n"),
        ("stray_else", "\\else\nselect 1 as one;\n"),
        ("unknown_meta", "\\foo\nselect 1 as one;\n"),
        (
            "if_maybe",
            "\\if maybe\nselect 1 as one;\n\\elif yes\nselect 2 as two;\n\\else\nselect 3 as three;\n\\endif\nselect 4 as four;\n",
        ),
        (
            "if_maybe_nested",
            "\\if false\n\\if maybe\n\\endif\n\\else\n\\if sure\n\\echo no\n\\else\n\\echo yes\n\\endif\n\\endif\n",
        ),
    ];
    for (name, sql) in cases {
        same(&env, name, sql, STOP);
        same(&env, &format!("{name}_go_on"), sql, GO_ON);
    }
}

/// Kind 12: invalid variable names on the command line are refused.
#[test]
fn invalid_variable_names_are_refused_as_psql() {
    let env = Env::new();
    for bad in ["bad name=1", "=1", "a-b=1"] {
        let dir = env.path("vars");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("v.sql");
        std::fs::write(&file, "select 1 as one;\n").unwrap();
        let db = env.admin_db("o_vars");
        let theirs = psql_at(&env.admin_url(&db), &file, STOP, &["-v", bad]);
        let ours = uis(&env, &db, &file, STOP, &["-v", bad]);
        assert_eq!(
            (ours.code, ours.stdout.as_str()),
            (theirs.code, theirs.stdout.as_str()),
            "-v {bad:?}: psql said {}; uis said {}",
            theirs.stderr,
            ours.stderr
        );
    }
}
