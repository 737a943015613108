//! The statement splitter, one lexical rule per test, without a server; a
//! property test that read boundaries never change what comes out; and the
//! fixture database's pg_dump output (made with the throwaway server, then
//! split without one) in psql's statements, COPY blocks and meta-commands.

use proptest::prelude::*;
use uis_script::{CopyKind, Item, LexError, Variables, split};
mod common;

use common::Chunky;
use std::io::{BufRead, Read};
use uis_harness::fixture::{self, Style};

fn items(sql: &str) -> Vec<Item> {
    split(sql.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("lexes")
}

fn stmts(sql: &str) -> Vec<String> {
    items(sql)
        .into_iter()
        .filter_map(|i| match i {
            Item::Statement(s) => Some(s.text),
            _ => None,
        })
        .collect()
}

fn stmts_with(sql: &str, vars: &[(&str, &str)]) -> Vec<String> {
    let vars: Variables = vars.iter().copied().collect();
    split(sql.as_bytes())
        .with_variables(vars)
        .map(|i| match i.unwrap() {
            Item::Statement(s) => s.text,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn semicolons_split_and_the_last_statement_needs_none() {
    assert_eq!(
        stmts("select 1; select 2;\nselect 3"),
        ["select 1;", "select 2;", "select 3"]
    );
}

#[test]
fn only_comments_and_blanks_send_nothing() {
    assert!(stmts("  \n-- nothing\n;;\n").is_empty());
    assert!(stmts("").is_empty());
}

#[test]
fn single_quotes_with_doubling() {
    assert_eq!(
        stmts("select 'a;''b'; select 2;"),
        ["select 'a;''b';", "select 2;"]
    );
}

#[test]
fn backslash_is_plain_in_standard_strings_but_escapes_in_e_strings() {
    assert_eq!(
        stmts(r"select 'a\'; select 2;"),
        [r"select 'a\';", "select 2;"]
    );
    assert_eq!(
        stmts(r"select E'a\';b'; select 2;"),
        [r"select E'a\';b';", "select 2;"]
    );
    assert_eq!(
        stmts(r"select e'\\'; select 2;"),
        [r"select e'\\';", "select 2;"]
    );
}

#[test]
fn standard_conforming_strings_off_escapes_plain_strings() {
    let got: Vec<String> = split(r"select 'a\';b'; select 2;".as_bytes())
        .with_standard_conforming_strings(false)
        .map(|i| match i.unwrap() {
            Item::Statement(s) => s.text,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, [r"select 'a\';b';", "select 2;"]);
}

#[test]
fn unicode_strings_and_identifiers_never_take_backslash_escapes() {
    let got: Vec<String> = split(r#"select U&'a\'; select U&"b\"; select 2;"#.as_bytes())
        .with_standard_conforming_strings(false)
        .map(|i| match i.unwrap() {
            Item::Statement(s) => s.text,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, [r"select U&'a\';", r#"select U&"b\";"#, "select 2;"]);
}

#[test]
fn bit_hex_and_national_strings() {
    assert_eq!(
        stmts("select B'1;0', X'f;f', N'x;y'; select 2;"),
        ["select B'1;0', X'f;f', N'x;y';", "select 2;"]
    );
}

#[test]
fn quoted_identifiers_with_doubling() {
    assert_eq!(
        stmts(r#"select 1 as "a;""b"; select 2;"#),
        [r#"select 1 as "a;""b";"#, "select 2;"]
    );
}

#[test]
fn dollar_quotes_with_tags() {
    assert_eq!(
        stmts("select $$a;b$$; select 2;"),
        ["select $$a;b$$;", "select 2;"]
    );
    // A different tag inside is just text; tags are case-sensitive.
    assert_eq!(
        stmts("select $f$ $$;$$ $F$; $f$; select 2;"),
        ["select $f$ $$;$$ $F$; $f$;", "select 2;"]
    );
    assert_eq!(
        stmts("create function f() returns int as $_$ select 1; $_$ language sql; select 2;"),
        [
            "create function f() returns int as $_$ select 1; $_$ language sql;",
            "select 2;"
        ]
    );
}

#[test]
fn positional_parameters_and_dollars_inside_identifiers_are_not_quotes() {
    assert_eq!(
        stmts("prepare p as select $1; select 2;"),
        ["prepare p as select $1;", "select 2;"]
    );
    assert_eq!(
        stmts("select a$b$c; select 2;"),
        ["select a$b$c;", "select 2;"]
    );
    assert_eq!(
        stmts("select x$$y; select 2;"),
        ["select x$$y;", "select 2;"]
    );
}

#[test]
fn nested_block_comments_and_line_comments() {
    assert_eq!(
        stmts("/* a /* b; */ c; */ select 1; select 2;"),
        ["/* a /* b; */ c; */ select 1;", "select 2;"]
    );
    // Leading -- comments are dropped (psql treats them as whitespace);
    // inside a statement they are kept and hide semicolons.
    assert_eq!(
        stmts("-- lead;\nselect 1 -- x;\n, 2;"),
        ["select 1 -- x;\n, 2;"]
    );
}

#[test]
fn begin_atomic_bodies_keep_their_semicolons() {
    let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 1 END;\nEND;\nselect 2;";
    let got = stmts(sql);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].ends_with("END;"));
    let got = stmts(
        "create or replace procedure p() begin atomic insert into t values (1); end; select 2;",
    );
    assert_eq!(got.len(), 2, "{got:?}");
    // Outside CREATE FUNCTION/PROCEDURE, BEGIN is a transaction.
    assert_eq!(
        stmts("BEGIN; select 1; END;"),
        ["BEGIN;", "select 1;", "END;"]
    );
}

#[test]
fn parentheses_hide_semicolons() {
    assert_eq!(
        stmts("select (1;2); select 3;"),
        ["select (1;2);", "select 3;"]
    );
}

#[test]
fn backslash_semicolon_joins_statements() {
    assert_eq!(
        stmts(r"select 1\; select 2; select 3;"),
        ["select 1; select 2;", "select 3;"]
    );
}

#[test]
fn variables_in_all_forms_outside_quotes_only() {
    let vars = [("v", "t"), ("s", "it's"), ("i", "My T")];
    assert_eq!(
        stmts_with(
            "select :v, :'s', :\"i\", :{?v}, :{?nope}, :nope, x::int, '\\:v', ':v', \":v\" from :v;",
            &vars
        ),
        ["select t, 'it''s', \"My T\", TRUE, FALSE, :nope, x::int, '\\:v', ':v', \":v\" from t;"]
    );
    assert_eq!(
        stmts_with("select $$:v$$ /* :v */ -- :v\n;", &vars),
        ["select $$:v$$ /* :v */ -- :v\n;"]
    );
    assert_eq!(stmts_with(r"select a\:v;", &vars), ["select a:v;"]);
    assert_eq!(stmts_with("select :'nope';", &vars), ["select :'nope';"]);
}

#[test]
fn meta_commands_take_the_rest_of_the_line_and_do_not_end_the_statement() {
    let got = items("select 1 \\echo hi there\n;\n\\set x 'a b' c\n\\c chinook;\n");
    let summary: Vec<String> = got
        .iter()
        .map(|i| match i {
            Item::Statement(s) => format!("S {}", s.text),
            Item::Meta(m) => format!("M {} [{}] {}:{}", m.name, m.args, m.pos.line, m.pos.column),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "M echo [hi there] 1:10",
            "S select 1 ;",
            "M set [x 'a b' c] 3:1",
            "M c [chinook;] 4:1"
        ]
    );
}

#[test]
fn copy_data_is_not_lexed_and_ends_at_backslash_dot() {
    let got = items("COPY t (a) FROM stdin;\n1\n2;'x\n\\.\nselect 1;\n");
    assert!(
        matches!(&got[0], Item::Statement(s) if s.copy == Some(CopyKind::FromStdin { csv: false }))
    );
    assert_eq!(got[1], Item::CopyData(b"1\n2;'x\n".to_vec()));
    assert_eq!(got[2], Item::CopyEnd);
    assert!(matches!(&got[3], Item::Statement(s) if s.text == "select 1;"));
    assert_eq!(got.len(), 4);
}

#[test]
fn copy_with_no_data_and_other_spellings() {
    let got = items("copy public.t from STDIN with (format csv, header);\n\\.\n");
    assert!(
        matches!(&got[0], Item::Statement(s) if s.copy == Some(CopyKind::FromStdin { csv: true }))
    );
    assert_eq!(got[1], Item::CopyEnd);
    let got = items("copy (select 1) to stdout;\ncopy t from '/x';\n");
    assert!(matches!(&got[0], Item::Statement(s) if s.copy == Some(CopyKind::ToStdout)));
    assert!(matches!(&got[1], Item::Statement(s) if s.copy.is_none()));
}

#[test]
fn a_backslash_dot_line_ends_copy_data_even_inside_a_csv_quote_as_psql() {
    // psql 15 does not parse CSV: the first `\.` line ends the data.
    let got = items("COPY t FROM STDIN WITH (FORMAT csv);\n\"a\n\\.\nselect 1;");
    assert_eq!(got[1], Item::CopyData(b"\"a\n".to_vec()));
    assert_eq!(got[2], Item::CopyEnd);
    assert!(matches!(&got[3], Item::Statement(s) if s.text == "select 1;"));
    // `quote ''''` and a lone `"`: the `\.` line still ends the data.
    let got = items(
        "copy t from stdin with (format csv, quote '''');\na\"b\n\\.\ninsert into t values ('after');\n",
    );
    assert_eq!(got[1], Item::CopyData(b"a\"b\n".to_vec()));
    assert_eq!(got[2], Item::CopyEnd);
    assert!(matches!(&got[3], Item::Statement(s) if s.text.starts_with("insert")));
}

#[test]
fn copy_data_ends_at_the_end_of_input_as_psql() {
    let got = items("copy t from stdin;\n1\n2");
    assert_eq!(got[1], Item::CopyData(b"1\n2".to_vec()));
    assert_eq!(got[2], Item::CopyEnd);
    assert_eq!(got.len(), 3);
    // A last `\.` without a newline is data (psql sends it; the server judges).
    let got = items("copy t from stdin;\n1\n\\.");
    assert_eq!(got[1], Item::CopyData(b"1\n\\.".to_vec()));
    assert_eq!(got[2], Item::CopyEnd);
    let got = items("copy t from stdin;\n");
    assert_eq!(got[1], Item::CopyEnd);
    // `\.` with CRLF ends it too.
    let got = items("copy t from stdin;\r\n1\r\n\\.\r\nselect 1;");
    assert_eq!(got[1], Item::CopyData(b"1\r\n".to_vec()));
    assert_eq!(got[2], Item::CopyEnd);
}

fn unterminated(sql: &str) -> (Vec<Item>, &'static str, u64, u64) {
    let mut ok = Vec::new();
    for i in split(sql.as_bytes()) {
        match i {
            Ok(i) => ok.push(i),
            Err(LexError::Unterminated { what, pos }) => return (ok, what, pos.line, pos.column),
            Err(e) => panic!("{e}"),
        }
    }
    panic!("no error for {sql:?}");
}

#[test]
fn unterminated_constructs_are_errors_where_they_open_and_send_nothing() {
    let (ok, what, l, c) = unterminated("select 1;\nselect 'abc;\n");
    assert_eq!((ok.len(), what, l, c), (1, "quoted string", 2, 8));
    let (ok, what, l, c) = unterminated("select 1;\n  select $x$ abc;\n");
    assert_eq!((ok.len(), what, l, c), (1, "dollar-quoted string", 2, 10));
    let (ok, what, l, c) = unterminated("select /* a /* b */ ;\n");
    assert_eq!((ok.len(), what, l, c), (0, "/* comment", 1, 8));
    let (ok, what, l, c) = unterminated("select 1 as \"x;\n");
    assert_eq!((ok.len(), what, l, c), (0, "quoted identifier", 1, 13));
}

#[test]
fn positions_lines_columns_and_error_locations() {
    let got = items("-- header\n\n  /* c */ select\n   1 +\n   x;");
    let Item::Statement(s) = &got[0] else {
        panic!()
    };
    // The comment is sent, but the statement starts at its first token.
    assert!(s.text.starts_with("/* c */"));
    assert_eq!((s.start.line, s.start.column), (3, 11));
    let x = s.text.chars().position(|c| c == 'x').unwrap() as u32 + 1;
    assert_eq!(s.locate(x), (5, 4));
    assert_eq!(s.first_line(), "select");
}

#[test]
fn non_ascii_columns_count_characters() {
    let got = items("select 'ıı', bad;");
    let Item::Statement(s) = &got[0] else {
        panic!()
    };
    let pos = s.text.chars().position(|c| c == 'b').unwrap() as u32 + 1;
    assert_eq!(s.locate(pos), (1, 14));
}

fn render(items: Vec<Result<Item, LexError>>) -> Vec<String> {
    items
        .into_iter()
        .map(|i| match i {
            Ok(Item::Statement(s)) => format!(
                "S {} @{}:{} {:?}",
                s.text, s.start.line, s.start.column, s.copy
            ),
            Ok(Item::Meta(m)) => format!("M {} {}", m.name, m.args),
            // Chunking of COPY data may differ; its bytes may not.
            Ok(Item::CopyData(d)) => format!("D {}", String::from_utf8_lossy(&d)),
            Ok(Item::CopyEnd) => "E".into(),
            Err(e) => format!("ERR {e} {:?}", e.pos()),
        })
        .collect()
}

const PIECES: &[&str] = &[
    "select 1;",
    " ",
    "\n",
    "'a;''b'",
    "E'x\\';y'",
    "U&'q\\'",
    "\"id;\"\"x\"",
    "$$ a; $ b $$",
    "$tag$ $$; $Tag$ $tag$",
    "$1",
    "a$b$c",
    "/* c /* n; */ ; */",
    "-- line; comment\n",
    "(1;2)",
    "\\;",
    "\\echo hi\n",
    ":v :'v' :\"v\" :{?v} x::int",
    ":w",
    "CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END;",
    "copy t from stdin;\n1\t;x\n\\.\n",
    "COPY t FROM STDIN (FORMAT csv);\n\"a\n\\.\n\"\n\\.\n",
    "ıñ",
    ";",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn read_boundaries_never_change_the_output(
        picks in prop::collection::vec(0..PIECES.len(), 0..40),
        sizes in prop::collection::vec(1usize..9, 1..20),
    ) {
        let text: String = picks.iter().map(|&i| PIECES[i]).collect();
        let vars: Variables = [("v", "val"), ("w", "(a;b) ; 'q")].into_iter().collect();
        let whole = render(split(text.as_bytes()).with_variables(vars.clone()).collect());
        let chunky = Chunky::new(text.as_bytes(), sizes);
        let pieces = render(split(chunky).with_variables(vars).collect());
        // Adjacent COPY data chunks may be cut differently: compare joined.
        prop_assert_eq!(join_data(whole), join_data(pieces));
    }
}

fn join_data(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if let (Some(last), Some(d)) = (out.last_mut(), s.strip_prefix("D "))
            && last.starts_with("D ")
        {
            last.push_str(d);
            continue;
        }
        out.push(s);
    }
    out
}

/// Generates `statements` INSERTs, then one COPY with `rows` data lines,
/// without ever holding the input in memory.
struct Generated {
    statements: u64,
    rows: u64,
    line: Vec<u8>,
    at: usize,
    n: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.line.len() {
            self.at = 0;
            self.line.clear();
            let n = self.n;
            self.n += 1;
            if n < self.statements {
                self.line.extend_from_slice(
                    format!("insert into t values ({n}, 'x;y', $$z$$); -- {n}\n").as_bytes(),
                );
            } else if n == self.statements {
                self.line.extend_from_slice(b"copy t from stdin;\n");
            } else if n <= self.statements + self.rows {
                self.line
                    .extend_from_slice(format!("{n}\tsome text that is long enough\n").as_bytes());
            } else if n == self.statements + self.rows + 1 {
                self.line.extend_from_slice(b"\\.\n");
            } else {
                return Ok(0);
            }
        }
        let k = (self.line.len() - self.at).min(buf.len());
        buf[..k].copy_from_slice(&self.line[self.at..self.at + k]);
        self.at += k;
        Ok(k)
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

#[test]
fn memory_stays_flat_on_a_large_input() {
    // ~20 MB of statements and ~80 MB of COPY data.
    let (statements, rows) = (400_000u64, 2_400_000u64);
    let input = Generated {
        statements,
        rows,
        line: Vec::new(),
        at: 0,
        n: 0,
    };
    let before = rss_kib();
    let (mut stmts, mut data, mut biggest) = (0u64, 0u64, 0usize);
    for item in split(std::io::BufReader::new(input)) {
        match item.unwrap() {
            Item::Statement(_) => stmts += 1,
            Item::CopyData(d) => {
                data += d.len() as u64;
                biggest = biggest.max(d.len());
            }
            _ => {}
        }
    }
    assert_eq!(stmts, statements + 1);
    assert!(data > 80_000_000, "{data}");
    assert!(biggest < 70 * 1024, "{biggest}");
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 20 * 1024, "RSS grew by {grown} KiB");
}

#[test]
fn raw_variable_values_are_lexed_again_like_psql() {
    let vars = [
        ("q", "select 1; select 2"),
        ("open", "'a;"),
        ("me", "x :me y"),
        ("cols", "a, b"),
    ];
    assert_eq!(
        stmts_with(
            "select :cols from t; :q; select :open' as s; select :me;",
            &vars
        ),
        [
            "select a, b from t;",
            "select 1;",
            "select 2;",
            "select 'a;' as s;",
            "select x :me y;"
        ]
    );
    // Columns after an interpolated value still point into the source.
    let vars: Variables = [("v", "123456")].into_iter().collect();
    let Some(Ok(Item::Statement(s))) = split("select :v, bad;".as_bytes())
        .with_variables(vars)
        .next()
    else {
        panic!()
    };
    let b = s.text.find("bad").unwrap() as u32 + 1;
    assert_eq!(s.locate(b), (1, 12));
}

/// (statements, COPY FROM STDIN blocks, data lines, meta-commands)
fn census(r: impl BufRead) -> (usize, usize, usize, Vec<String>) {
    let (mut s, mut c, mut d, mut m) = (0, 0, 0, Vec::new());
    for item in split(r) {
        match item.unwrap() {
            Item::Statement(st) => {
                s += 1;
                if matches!(st.copy, Some(CopyKind::FromStdin { .. })) {
                    c += 1;
                }
            }
            Item::CopyData(data) => d += data.iter().filter(|&&b| b == b'\n').count(),
            Item::Meta(meta) => m.push(format!("{} {}", meta.name, meta.args)),
            Item::CopyEnd => {}
        }
    }
    (s, c, d, m)
}

/// The fixture database's dump in `style`, made now by the machine's
/// pg_dump (the splitting itself needs no server).
fn fixture_dump(style: Style) -> String {
    let pg = uis_harness::Pg::shared();
    let db = fixture::create(pg, &format!("lex_{}", style.name()));
    fixture::dump(pg, &db, style)
}

/// The meta-commands pg_dump writes, as `NAME ARGS`, read off its output's
/// lines (`\restrict KEY` since the 2025 security releases, `\connect`).
fn dump_metas(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            ["\\restrict ", "\\unrestrict ", "\\connect "]
                .iter()
                .any(|m| l.starts_with(m))
        })
        .map(|l| l[1..].to_string())
        .collect()
}

#[test]
fn pg_dump_output_splits_as_psql_splits_it() {
    let text = fixture_dump(Style::Plain);
    let (statements, copies, lines, metas) = census(text.as_bytes());
    // One COPY block per table, as many as the dump has COPY lines.
    let copy_lines = text.lines().filter(|l| l.starts_with("COPY ")).count();
    assert_eq!(copies, copy_lines);
    assert!(copies >= 6, "{copies}");
    // One data line per row: 1,000 items, 3,000 lines, 200 events, ...
    assert!(lines > 4200, "{lines}");
    assert!(statements > 100, "{statements}");
    assert_eq!(metas, dump_metas(&text));

    // --inserts: a string holding a line `\.` is data, not the end of a
    // COPY, and one statement per row.
    let text = fixture_dump(Style::Inserts);
    assert!(text.contains("\n\\.\n"), "the dump has a `\\.` line");
    let (statements, copies, _, metas) = census(text.as_bytes());
    assert_eq!(copies, 0);
    assert!(statements > 4200, "{statements}");
    assert_eq!(metas, dump_metas(&text));

    // -C: CREATE DATABASE, then \connect to it.
    let text = fixture_dump(Style::Create);
    let (_, copies, _, metas) = census(text.as_bytes());
    assert_eq!(copies, copy_lines);
    assert!(metas.iter().any(|m| m.starts_with("connect ")), "{metas:?}");
    assert_eq!(metas, dump_metas(&text));

    // The hand-written drop/create/connect file: `\c NAME;`.
    let path = uis_harness::fixture::fixtures_dir().join("dumps/drop-create-connect.sql");
    let (_, _, _, metas) = census(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    assert_eq!(metas, ["c uis_music;"]);
}
