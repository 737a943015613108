//! The reliability suite (issue 12): bad input to every binary, faults of
//! the API, the tunnel and PostgreSQL, and concurrent runs. Every case
//! asserts the exit code, one clear message naming the fix, no panic,
//! bounded time, no secret on stderr, and the state afterwards; the rows
//! make up docs/reliability.md (see uis_e2e::reliability).
//!
//! One module per table of the document (`names`, `files`, `cluster`,
//! `tokens`, `api`, `tunnel`, `concurrency`, in tests/reliability/), each a
//! [`Table`]: its set-up, and its rows built without running anything. The
//! macro [`table!`] makes of a table one test per row (named
//! `{binary}_{input}`, e.g. `reliability::names::configure_app_uppercase`;
//! run one alone with `cargo nextest run -p uis-e2e -E
//! 'test(=reliability::names::configure_app_uppercase)'`), the test `table`
//! that compares the rendered table with the document, and the test
//! `every_row_has_a_test`, which prints the list to paste when rows change.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use uis_e2e::reliability::{Case, Row, Table};
use uis_e2e::{Env, base64_encode};

/// `table!(TABLE; row_test_name, ...)`: the tests of one table, in a module
/// that defines `TABLE`. The names are its rows' names in order (the test
/// `every_row_has_a_test` checks it and prints them when they differ).
macro_rules! table {
    ($table:expr; $($name:ident),* $(,)?) => {
        /// The table in docs/reliability.md is what its rows render (none
        /// runs here); `UIS_BLESS=1` rewrites it.
        #[test]
        fn table() {
            uis_e2e::reliability::doc_table(&$table);
        }

        /// Every row has its test below, in the document's order.
        #[test]
        fn every_row_has_a_test() {
            uis_e2e::reliability::same_rows(&$table, &[$(stringify!($name)),*]);
        }

        $(
            #[test]
            fn $name() {
                uis_e2e::reliability::run_row(&$table, stringify!($name));
            }
        )*
    };
}

mod api;
mod cluster;
mod concurrency;
mod files;
mod names;
mod tokens;
mod tunnel;

/// What rows are built from: the temp dir their paths are under (a test's
/// own, or [`uis_e2e::reliability::DRY_TMP`] when only rendered) and the
/// JWT secret tokens are signed with.
pub struct Cx {
    pub tmp: PathBuf,
    pub jwt_secret: String,
}

impl Cx {
    /// Rows rendered without running.
    pub fn dry() -> Cx {
        Cx {
            tmp: PathBuf::from(uis_e2e::reliability::DRY_TMP),
            jwt_secret: "a-dry-run-secret-of-32-characters-or-more".into(),
        }
    }
    /// The rows of a test's env.
    pub fn of(env: &Env) -> Cx {
        Cx {
            tmp: env.dir.path().to_path_buf(),
            jwt_secret: String::new(),
        }
    }
    /// A path in the temp dir, as a string.
    pub fn p(&self, name: &str) -> String {
        self.tmp.join(name).to_string_lossy().into_owned()
    }
}

const APP_RULE: &str = "^[a-z][a-z0-9-]{0,40}$";
const EXISTING_APP_RULE: &str = "^[A-Za-z0-9_-]{1,63}$";
const NAME_RULE: &str = "^[a-z_][a-z0-9_]{0,62}$";

/// The bad names tried wherever a name is read.
fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("uppercase", "Shop".into()),
        ("space", "my shop".into()),
        ("double quote", "a\"b".into()),
        ("single quote", "a'b".into()),
        ("semicolon", "a;drop".into()),
        ("`..`", "..".into()),
        ("a path", "../etc".into()),
        ("control character", "a\u{1}b".into()),
        ("newline", "a\nb".into()),
        ("non-ASCII", "ærø".into()),
        ("64 characters", "a".repeat(64)),
        ("empty", String::new()),
        ("digit first", "1app".into()),
    ]
}

/// A configured app `shop` with PostgREST, through the real binaries.
fn shop(env: &Env) {
    env.run("uis-db-configure", &["shop", "--with-roles", "postgrest"])
        .ok();
    env.run("uis-postgrest-deploy", &["shop"]).ok();
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> String {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// Replaces one key of a Secret's data (None removes it); returns the old
/// object to put back.
fn edit_secret(
    env: &Env,
    ns: &str,
    name: &str,
    key: &str,
    value: Option<&str>,
) -> serde_json::Value {
    let old = env
        .standin
        .get("v1", "Secret", Some(ns), name)
        .unwrap_or_else(|| panic!("Secret {ns}/{name}"));
    let mut new = old.clone();
    match value {
        Some(v) => new["data"][key] = json!(v),
        None => {
            new["data"].as_object_mut().unwrap().remove(key);
        }
    }
    env.standin.put(new);
    old
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Files before the cut are in the ledger with their effects; the cut file
/// left nothing.
fn ledger(env: &Env) -> Vec<String> {
    env.pg
        .try_connect("shop_db")
        .ok()
        .and_then(|mut c| {
            c.query("select file_name from uis.seed_ledger order by 1", &[])
                .ok()
        })
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default()
}

fn count(env: &Env, db: &str, sql: &str) -> i64 {
    env.pg
        .connect(db)
        .query_one(sql, &[])
        .map(|r| r.get(0))
        .unwrap_or(-1)
}

/// A re-run reports nothing left to change, and the stored owner password
/// logs in.
fn converged(env: &Env, app: &str) {
    let out = env.run("uis-db-configure", &[app, "--dry-run", "--json"]);
    out.ok();
    let plan = out.json();
    assert_eq!(plan["sql"], json!([]), "{}", out.stdout);
    assert_eq!(
        plan["store"]["would_change"],
        json!(false),
        "{}",
        out.stdout
    );
    env.run("uis-db-psql", &[app, "-c", "select 1"]).ok();
}

/// The summary block: counts per kind over every table of the document,
/// and the floor the issue sets (100 bad inputs, 20 faults).
#[test]
fn summary_counts_every_row() {
    let doc = std::fs::read_to_string(uis_e2e::reliability::doc_path()).unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        if line.starts_with("| ") && cells.len() > 2 && cells[0][2..].parse::<u32>().is_ok() {
            *counts.entry(cells[1].to_string()).or_insert(0u32) += 1;
        }
    }
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let body = format!(
        "| Kind | Cases |\n|---|---|\n| bad input | {} |\n| fault | {} |\n| concurrency | {} |\n| total | {} |\n",
        get("bad input"),
        get("fault"),
        get("concurrency"),
        get("bad input") + get("fault") + get("concurrency")
    );
    uis_e2e::reliability::update_doc_block("summary", &body);
    assert!(get("bad input") >= 100, "{counts:?}");
    assert!(get("fault") >= 20, "{counts:?}");
    assert!(get("concurrency") >= 3, "{counts:?}");
}

/// The secret check every test relies on does catch a leak: a password
/// from a Secret, the superuser's, and a printed token.
#[test]
fn the_secret_check_catches_leaks() {
    let env = Env::new();
    shop(&env);
    let leaks = |text: String| {
        let mut c = std::process::Command::new("sh");
        c.arg("-c")
            .arg("printf '%s\\n' \"$LEAK\" >&2")
            .env("LEAK", text);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| uis_e2e::output(&mut c))).is_err()
    };
    let owner = env.run("uis-db-creds", &["shop", "--format", "url"]);
    let url = owner.stdout.trim().to_string();
    let password = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    assert!(
        leaks(format!("connecting with {password}")),
        "a stored password"
    );
    assert!(leaks(env.pg.password.clone()), "the superuser password");
    let token = env.run("uis-jwt-mint", &["shop", "--role", "shop_web_anon"]);
    assert!(
        leaks(format!("token {}", token.stdout.trim())),
        "a printed token"
    );
    assert!(!leaks("nothing secret here".into()));
}

/// A server that logs every statement (as some are set up to) never sees
/// a password: roles get SCRAM verifiers computed on this side.
#[test]
fn passwords_never_reach_the_server_log() {
    let pg: &'static uis_e2e::Pg = Box::leak(Box::new(uis_e2e::Pg::start().unwrap()));
    let mut c = pg.connect("postgres");
    c.batch_execute("ALTER SYSTEM SET log_statement = 'all'")
        .unwrap();
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    let env = Env::over(pg);
    shop(&env);
    env.run("uis-db-configure", &["shop", "--rotate"]).ok();
    env.run("uis-postgrest-deploy", &["shop", "--rotate-password"])
        .ok();
    let log = pg.log();
    assert!(
        log.contains("SCRAM-SHA-256$4096:"),
        "the log shows the statements"
    );
    uis_e2e::assert_no_known_secret("the PostgreSQL server log", &log);
}
