//! The reliability suite's machinery: run a binary on a bad input or under a
//! fault, assert what a user is promised (the exit code, one clear message
//! naming the fix, no panic, bounded time, no secret on stderr, and the
//! database and the cluster unchanged, or in the documented partial state),
//! and record one row per case for `docs/reliability.md`.
//!
//! Each table of the document is a [`Table`]: a function that builds its
//! [`Row`]s (a [`Case`] each, and how to run it) from a context, without
//! running anything. From one table, `tests/reliability.rs` makes
//!
//! - a test per row ([`run_row`]): a fresh [`Env`], the table's set-up, the
//!   row's case run and asserted, and its rendered line compared with its
//!   line of the document, so the first failing row hides no other and one
//!   row can be run alone;
//! - a test of the whole table ([`doc_table`]): the rows rendered (with temp
//!   paths as `$TMP`) and compared with the block between
//!   `<!-- reliability:NAME -->` and `<!-- /reliability:NAME -->` in
//!   `docs/reliability.md`. With `UIS_BLESS=1` it rewrites that block
//!   instead: the document is produced by the suite and cannot drift from it;
//! - a test that every row has its test ([`same_rows`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Env, Out, assert_no_known_secret};

/// What a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BadInput,
    Fault,
    Concurrency,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::BadInput => "bad input",
            Kind::Fault => "fault",
            Kind::Concurrency => "concurrency",
        }
    }
}

/// The state a case must leave.
#[derive(Debug, Clone)]
pub enum After {
    /// The database and the cluster exactly as before (compared).
    Unchanged,
    /// A documented state the caller checks itself (the text goes in the doc).
    Documented(String),
}

/// One bad input or fault: a binary, its arguments and what must happen.
#[derive(Debug, Clone)]
pub struct Case {
    pub kind: Kind,
    /// The input or fault, for people.
    pub what: String,
    pub bin: String,
    pub args: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    pub envs: Vec<(String, String)>,
    pub code: i32,
    /// Substrings of stderr (of stdout when `code` is 0) the case asserts.
    pub says: Vec<String>,
    pub after: After,
    pub max: Duration,
}

impl Case {
    /// A bad input to `bin ARGS`: by default exit 2, state unchanged, 30 s.
    pub fn bad(what: impl Into<String>, bin: &str, args: &[&str]) -> Case {
        Case {
            kind: Kind::BadInput,
            what: what.into(),
            bin: bin.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            stdin: None,
            envs: Vec::new(),
            code: 2,
            says: Vec::new(),
            after: After::Unchanged,
            max: Duration::from_secs(30),
        }
    }
    /// A fault during `bin ARGS`: by default exit 1.
    pub fn fault(what: impl Into<String>, bin: &str, args: &[&str]) -> Case {
        Case {
            kind: Kind::Fault,
            code: 1,
            ..Case::bad(what, bin, args)
        }
    }
    pub fn code(mut self, code: i32) -> Case {
        self.code = code;
        self
    }
    pub fn says(mut self, parts: &[&str]) -> Case {
        self.says.extend(parts.iter().map(|s| s.to_string()));
        self
    }
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Case {
        self.stdin = Some(bytes.into());
        self
    }
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Case {
        self.envs.push((k.to_string(), v.into()));
        self
    }
    pub fn after(mut self, documented: impl Into<String>) -> Case {
        self.after = After::Documented(documented.into());
        self
    }
    pub fn within(mut self, max: Duration) -> Case {
        self.max = max;
        self
    }
}

/// One row of the document, as rendered.
#[derive(Debug, Clone)]
pub struct DocRow {
    pub kind: Kind,
    pub command: String,
    pub what: String,
    pub code: i32,
    pub says: String,
    pub after: String,
    /// The bound on its run time, in seconds.
    pub within: u64,
}

/// What the database and the cluster hold: compare two to see a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub cluster: Vec<String>,
    pub catalog: Vec<String>,
}

/// The cluster's objects (with resourceVersions) and the catalog: roles with
/// their attributes, memberships, settings and a digest of their password;
/// databases with owner and ACL; and in each database its schemas,
/// relations, functions, extensions, policies, owners, ACLs, default
/// privileges and the row counts of user tables (the seed ledger too).
pub fn snapshot(env: &Env) -> Snapshot {
    Snapshot {
        cluster: env.standin.snapshot(),
        catalog: catalog(env),
    }
}

fn catalog(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    let mut c = env.pg.connect("postgres");
    for r in c
        .query(
            "select format('role %s login=%s super=%s inherit=%s createrole=%s createdb=%s conn=%s until=%s pw=%s',
                    rolname, rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolconnlimit,
                    coalesce(rolvaliduntil::text, '-'), coalesce(md5(rolpassword), '-'))
               from pg_authid
             union all
             select format('member %s of %s admin=%s', m.rolname, r.rolname, a.admin_option)
               from pg_auth_members a join pg_roles r on r.oid = a.roleid join pg_roles m on m.oid = a.member
             union all
             select format('setting %s/%s %s', coalesce(r.rolname, '*'), coalesce(d.datname, '*'), s.setconfig)
               from pg_db_role_setting s left join pg_roles r on r.oid = s.setrole
               left join pg_database d on d.oid = s.setdatabase
             order by 1",
            &[],
        )
        .expect("roles")
    {
        out.push(r.get::<_, String>(0));
    }
    let dbs: Vec<(String, String)> = c
        .query(
            "select datname, datdba::regrole::text || ' acl=' || coalesce(datacl::text, '') from pg_database where not datistemplate order by 1",
            &[],
        )
        .expect("databases")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (db, owner_acl) in dbs {
        out.push(format!("database {db} owner={owner_acl}"));
        let Ok(mut d) = env.pg.try_connect(&db) else {
            out.push(format!("database {db} unreachable"));
            continue;
        };
        for r in d
            .query(
                "select 'schema ' || nspname || ' owner=' || nspowner::regrole::text || ' acl=' || coalesce(nspacl::text, '') from pg_namespace
                  where nspname !~ '^(pg_|information_schema)'
                 union all
                 select 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' owner=' || c.relowner::regrole::text || ' acl=' || coalesce(c.relacl::text, '')
                   from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname !~ '^(pg_|information_schema)'
                 union all
                 select 'default acl ' || defaclrole::regrole::text || ' ' || defaclnamespace::regnamespace::text || ' ' || defaclobjtype::text || ' ' || defaclacl::text
                   from pg_default_acl
                 union all
                 select 'extension ' || extname from pg_extension
                 union all
                 select 'function ' || n.nspname || '.' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                  where n.nspname !~ '^(pg_|information_schema)'
                 union all
                 select 'policy ' || polname from pg_policy
                 order by 1",
                &[],
            )
            .expect("catalog")
        {
            out.push(format!("{db}: {}", r.get::<_, String>(0)));
        }
        let tables: Vec<String> = d
            .query(
                "select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where c.relkind = 'r' and n.nspname !~ '^(pg_|information_schema)' order by 1",
                &[],
            )
            .expect("tables")
            .iter()
            .map(|r| r.get(0))
            .collect();
        for t in tables {
            let n: i64 = d
                .query_one(&format!("select count(*) from {t}"), &[])
                .map(|r| r.get(0))
                .unwrap_or(-1);
            out.push(format!("{db}: rows {t} = {n}"));
        }
    }
    out
}

/// Runs `cmd` (stdin from `stdin`, or none) and kills it after `max`;
/// panics when it had to be killed.
pub fn run_bounded(cmd: &mut Command, stdin: Option<&[u8]>, max: Duration) -> (Out, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let o = match rx.recv_timeout(max) {
        Ok(o) => o.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{cmd:?} still ran after {max:?}: it hangs");
        }
    };
    (Out::from(o), started.elapsed())
}

/// What a message that names its fix contains (one of these): a hint, an
/// example, the valid values, or (for an unknown argument) the usage line.
pub const FIX_POINTERS: &[&str] = &["hint:", "HINT:", "e.g.", "possible values", "Usage:"];

/// The promises every failing command keeps, whatever the cause.
#[track_caller]
pub fn assert_one_clear_message(out: &Out, says: &[String], context: &str) {
    for bad in ["panicked at", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(
            !out.stderr.contains(bad) && !out.stdout.contains(bad),
            "{context}: a panic\n{}",
            out.stderr
        );
    }
    let stream = if out.code == 0 {
        &out.stdout
    } else {
        &out.stderr
    };
    for s in says {
        assert!(
            stream.contains(s.as_str()),
            "{context}: the message lacks {s:?}\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }
    if out.code != 0 {
        let errors = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:") || l.starts_with("error["))
            .count();
        assert_eq!(
            errors, 1,
            "{context}: wanted exactly one error message\n{}",
            out.stderr
        );
        // The message points at the fix: a hint, an example, the valid
        // values, or the usage.
        assert!(
            FIX_POINTERS.iter().any(|p| out.stderr.contains(p)),
            "{context}: the message names no fix (none of {FIX_POINTERS:?})\n{}",
            out.stderr
        );
    }
    assert_no_known_secret(context, &out.stderr);
}

/// Runs a case in `env` and asserts all of it; returns what it did for
/// further checks (the documented state, when not `Unchanged`).
#[track_caller]
pub fn check(env: &Env, case: &Case) -> Out {
    let before = matches!(case.after, After::Unchanged).then(|| snapshot(env));
    let mut cmd = env.cmd(&case.bin);
    cmd.args(&case.args);
    for (k, v) in &case.envs {
        cmd.env(k, v);
    }
    let (out, _) = run_bounded(&mut cmd, case.stdin.as_deref(), case.max);
    let context = format!(
        "{} ({})",
        display(env.dir.path(), &case.bin, &case.args),
        case.what
    );
    assert_eq!(
        out.code, case.code,
        "{context}: exit code {} (wanted {})\nstdout:\n{}\nstderr:\n{}",
        out.code, case.code, out.stdout, out.stderr
    );
    assert_one_clear_message(&out, &case.says, &context);
    if let Some(before) = before {
        let after = snapshot(env);
        assert_eq!(
            before.cluster, after.cluster,
            "{context}: the cluster changed"
        );
        assert_eq!(
            before.catalog, after.catalog,
            "{context}: the database changed"
        );
    }
    out
}

/// Rows of one part of the document.
pub struct Section {
    name: String,
    rows: Vec<DocRow>,
    tmp: PathBuf,
}

impl Section {
    /// A section named `name` (the marker in docs/reliability.md); paths
    /// under `tmp` are shown as `$TMP`.
    pub fn new(name: &str, tmp: &Path) -> Section {
        Section {
            name: name.to_string(),
            rows: Vec::new(),
            tmp: tmp.to_path_buf(),
        }
    }

    /// Records a case whose run and assertions the caller did itself.
    pub fn push(&mut self, case: &Case, code: i32) {
        self.rows.push(DocRow {
            kind: case.kind,
            command: self.display(&case.bin, &case.args),
            what: case.what.clone(),
            code,
            says: case
                .says
                .iter()
                .map(|s| format!("`{}`", s.replace('`', "'")))
                .collect::<Vec<_>>()
                .join(" … "),
            after: match &case.after {
                After::Unchanged => "unchanged (compared)".into(),
                After::Documented(d) => d.clone(),
            },
            within: case.max.as_secs(),
        });
    }

    /// `bin 'arg' ...` as [`display`] shows it, with this section's `tmp`.
    pub fn display(&self, bin: &str, args: &[String]) -> String {
        display(&self.tmp, bin, args)
    }

    /// The section as a Markdown table (header, then one line per row).
    pub fn render(&self) -> String {
        let mut t = String::from(
            "| # | Kind | Command | Input or fault | Exit | Message asserted | State afterwards | Within |\n|---|---|---|---|---|---|---|---|\n",
        );
        for (i, r) in self.rows.iter().enumerate() {
            t.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} s |\n",
                i + 1,
                r.kind.label(),
                cell(&format!("`{}`", r.command.replace('`', "'"))),
                cell(&r.what),
                r.code,
                cell(&r.says),
                cell(&r.after),
                r.within
            ));
        }
        t
    }

    /// Compares the rendered section with docs/reliability.md (or writes it
    /// there with `UIS_BLESS=1`).
    pub fn finish(self) {
        let table = self.render();
        update_doc_block(&self.name, &table);
    }
}

/// The command that rewrites the document's tables (run it twice when the
/// number of rows changed: the summary counts the tables).
pub const BLESS: &str = "UIS_BLESS=1 cargo nextest run -p uis-e2e -E 'test(/^reliability::(.*::table|summary_counts_every_row)$/)'";

/// Checks (or with `UIS_BLESS=1` rewrites) one marked block of
/// docs/reliability.md.
pub fn update_doc_block(name: &str, body: &str) {
    let path = doc_path();
    let open = format!("<!-- reliability:{name} -->\n");
    let close = format!("<!-- /reliability:{name} -->");
    let bless = std::env::var_os("UIS_BLESS").is_some_and(|v| v == "1");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    lock.lock().expect("lock docs/reliability.md");
    let doc = std::fs::read_to_string(&path).expect("read docs/reliability.md");
    let (Some(a), Some(b)) = (doc.find(&open), doc.find(&close)) else {
        panic!(
            "docs/reliability.md lacks the markers {open:?} and {close:?}: add them where this section goes"
        );
    };
    let current = &doc[a + open.len()..b];
    if current == body {
        return;
    }
    if bless {
        let new = format!("{}{}{}", &doc[..a + open.len()], body, &doc[b..]);
        std::fs::write(&path, new).expect("write docs/reliability.md");
        return;
    }
    panic!(
        "docs/reliability.md section {name:?} is not what the suite produced; run\n  {BLESS}\nand review the diff. The suite produced:\n{body}"
    );
}

/// The document's path.
pub fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reliability.md")
}

/// `bin 'arg' ...` as a shell would need it, paths under `tmp` as `$TMP`
/// and tokens (which differ at each run) as `$TOKEN`; cut at 90 characters.
pub fn display(tmp: &Path, bin: &str, args: &[String]) -> String {
    let tmp = tmp.to_string_lossy().into_owned();
    let mut s = bin.to_string();
    for a in args {
        let a = if a.starts_with("eyJ") && a.matches('.').count() == 2 {
            "$TOKEN".to_string()
        } else {
            a.replace(&tmp, "$TMP")
        };
        s.push(' ');
        s.push_str(&shell_quote(&a));
    }
    if s.chars().count() > 90 {
        s = s.chars().take(87).collect::<String>() + "...";
    }
    s
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Single quotes when needed; control characters as `$'\xNN'`.
pub fn shell_quote(a: &str) -> String {
    if a.chars().any(|c| c.is_control()) {
        let mut s = String::from("$'");
        for c in a.chars() {
            match c {
                '\n' => s.push_str("\\n"),
                '\'' => s.push_str("\\'"),
                '\\' => s.push_str("\\\\"),
                c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
                c => s.push(c),
            }
        }
        s.push('\'');
        return s;
    }
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+$".contains(c))
    {
        return a.to_string();
    }
    format!("'{}'", a.replace('\'', "'\\''"))
}

/// One row of a table: the name of its test, the case it documents, and
/// what its test does besides [`check`]ing the case.
pub struct Row {
    /// The test's name: `{binary}_{input}`, e.g. `configure_app_uppercase`
    /// (see [`test_name`]), unless [`Row::named`].
    pub name: String,
    pub case: Case,
    before: Vec<Before>,
    then: Vec<Then>,
    custom: Option<Custom>,
}

/// A row's set-up ([`Row::before`]).
type Before = Box<dyn Fn(&Env)>;
/// A row's assertions ([`Row::then`]).
type Then = Box<dyn Fn(&Env, &Out)>;
/// A row's own run ([`Row::custom`]).
type Custom = Box<dyn Fn(&Env, &Case)>;

impl Row {
    /// A row whose test runs `case` with [`check`].
    pub fn check(case: Case) -> Row {
        Row {
            name: test_name(&case),
            case,
            before: Vec::new(),
            then: Vec::new(),
            custom: None,
        }
    }
    /// A row whose test runs and asserts `case` itself, with `run` (a case
    /// that takes two commands at once, say); the case only documents it.
    pub fn custom(case: Case, run: impl Fn(&Env, &Case) + 'static) -> Row {
        Row {
            custom: Some(Box::new(run)),
            ..Row::check(case)
        }
    }
    /// Another name for its test.
    pub fn named(mut self, name: &str) -> Row {
        self.name = name.to_string();
        self
    }
    /// Something to do before the case runs: inject a fault, edit a Secret.
    pub fn before(mut self, f: impl Fn(&Env) + 'static) -> Row {
        self.before.push(Box::new(f));
        self
    }
    /// Assertions after the case ran and passed [`check`] (the stand-in's
    /// faults are cleared by then).
    pub fn then(mut self, f: impl Fn(&Env, &Out) + 'static) -> Row {
        self.then.push(Box::new(f));
        self
    }

    /// Runs the row in `env`: its set-up, the case, its assertions.
    pub fn run(&self, env: &Env) {
        for f in &self.before {
            f(env);
        }
        if let Some(run) = &self.custom {
            run(env, &self.case);
            return;
        }
        let out = check(env, &self.case);
        env.standin.faults().clear();
        for f in &self.then {
            f(env, &out);
        }
    }
}

/// `{binary}_{input}` in snake case: the binary without `uis-db-`/`uis-`,
/// then the words of the case's input (`` `..` `` reads `dotdot`), e.g.
/// `configure_app_uppercase`, `psql_f_missing_file`.
pub fn test_name(case: &Case) -> String {
    let bin = case
        .bin
        .strip_prefix("uis-db-")
        .or_else(|| case.bin.strip_prefix("uis-"))
        .unwrap_or(&case.bin);
    let text = format!("{bin} {}", case.what.replace("`..`", "dotdot"));
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// Where a table's rows are rendered from when nothing runs: their temp
/// paths start here, and show as `$TMP` as a real run's do.
pub const DRY_TMP: &str = "/nonexistent/uis-reliability-dry-run";

/// One table of the document.
pub struct Table<C> {
    /// Its marker in docs/reliability.md.
    pub name: &'static str,
    /// The table's set-up in a fresh env (an app configured, files
    /// written); returns the context its rows are built from.
    pub prepare: fn(&Env) -> C,
    /// The context for rendering without running (paths under [`DRY_TMP`]).
    pub dry: fn() -> C,
    /// The rows, in the document's order. Builds cases only: runs nothing.
    pub rows: fn(&C) -> Vec<Row>,
}

/// The test of one row: a fresh env, the table's set-up, the row run and
/// asserted; then its line, rendered as the table renders it, must be the
/// document's line for that row.
pub fn run_row<C>(table: &Table<C>, name: &str) {
    let env = Env::new();
    let cx = (table.prepare)(&env);
    let rows = (table.rows)(&cx);
    let Some(i) = rows.iter().position(|r| r.name == name) else {
        panic!(
            "the table {:?} has no row named {name:?} (see its every_row_has_a_test)",
            table.name
        )
    };
    rows[i].run(&env);
    let mut s = Section::new(table.name, env.dir.path());
    for r in &rows {
        s.push(&r.case, r.case.code);
    }
    let rendered = s.render();
    let line = rendered.lines().nth(2 + i).expect("the row's line");
    let doc = doc_block(table.name);
    assert_eq!(
        doc.lines().nth(2 + i),
        Some(line),
        "row {} of the table {:?} in docs/reliability.md is not this row; if the change is deliberate, run\n  {BLESS}",
        i + 1,
        table.name
    );
}

/// The test of a whole table: its rows rendered without running and
/// compared with the document (rewritten with `UIS_BLESS=1`).
pub fn doc_table<C>(table: &Table<C>) {
    let mut s = Section::new(table.name, Path::new(DRY_TMP));
    for r in (table.rows)(&(table.dry)()) {
        s.push(&r.case, r.case.code);
    }
    s.finish();
}

/// Every row of `table` has a test of its name in `tests` (the list the
/// test module makes its row tests from), in order, and names are unique.
pub fn same_rows<C>(table: &Table<C>, tests: &[&str]) {
    let rows: Vec<String> = (table.rows)(&(table.dry)())
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        assert!(
            seen.insert(r),
            "two rows of {:?} are named {r:?}: name one with Row::named",
            table.name
        );
    }
    assert!(
        rows == tests,
        "the row tests of the table {:?} are not its rows; list them as:\n    {},",
        table.name,
        rows.join(",\n    ")
    );
}

/// The body of the block `name` of docs/reliability.md.
pub fn doc_block(name: &str) -> String {
    let doc = std::fs::read_to_string(doc_path()).expect("read docs/reliability.md");
    let open = format!("<!-- reliability:{name} -->\n");
    let close = format!("<!-- /reliability:{name} -->");
    let (Some(a), Some(b)) = (doc.find(&open), doc.find(&close)) else {
        panic!("docs/reliability.md lacks the markers {open:?} and {close:?}");
    };
    doc[a + open.len()..b].to_string()
}
