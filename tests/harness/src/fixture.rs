//! The project's own test inputs for the script engine: the fixture database
//! (`tests/fixtures/dumps/fixture.sql`, loaded with the machine's real psql),
//! its plain-format dumps made at test time with the machine's real pg_dump
//! in each [`Style`], and a [`snapshot`] of a database (catalog plus a
//! checksum of every table's rows) to compare a load by the suite with a
//! load by psql.
//!
//! Not a dump parser and not a second loader: psql and pg_dump do the work,
//! the suite's binaries are what the tests compare with them.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::Pg;

/// `tests/fixtures` of the repository.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// The SQL file that builds the fixture database.
pub fn sql_path() -> PathBuf {
    fixtures_dir().join("dumps/fixture.sql")
}

/// A pg_dump plain-format variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `pg_dump` (COPY blocks).
    Plain,
    /// `pg_dump --inserts`.
    Inserts,
    /// `pg_dump --column-inserts`.
    ColumnInserts,
    /// `pg_dump --clean --if-exists` (DROP ... IF EXISTS first).
    Clean,
    /// `pg_dump -C` (CREATE DATABASE, then `\connect` to it).
    Create,
}

impl Style {
    pub const ALL: [Style; 5] = [
        Style::Plain,
        Style::Inserts,
        Style::ColumnInserts,
        Style::Clean,
        Style::Create,
    ];

    /// The pg_dump flags of this style.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            Style::Plain => &[],
            Style::Inserts => &["--inserts"],
            Style::ColumnInserts => &["--column-inserts"],
            Style::Clean => &["--clean", "--if-exists"],
            Style::Create => &["-C"],
        }
    }

    /// A short name for database and file names.
    pub fn name(self) -> &'static str {
        match self {
            Style::Plain => "plain",
            Style::Inserts => "inserts",
            Style::ColumnInserts => "colinserts",
            Style::Clean => "clean",
            Style::Create => "create",
        }
    }
}

/// A PostgreSQL client program (`psql`, `pg_dump`) of the server's version
/// (its bin dir, else /usr/bin), aimed at `pg`, with no `PG*` variable of
/// the caller leaking in.
pub fn client(pg: &Pg, name: &str) -> Command {
    let path = if pg.bin_dir.join(name).exists() {
        pg.bin_dir.join(name)
    } else {
        PathBuf::from("/usr/bin").join(name)
    };
    let mut c = Command::new(path);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            c.env_remove(k);
        }
    }
    c.envs(pg.libpq_env()).env("PGCONNECT_TIMEOUT", "10");
    c
}

/// The one global object the fixture creates (a role) must not be created
/// twice at once on one server.
static LOADING: Mutex<()> = Mutex::new(());

/// Creates a database named after `prefix` and loads the fixture into it
/// with psql; returns its name.
pub fn create(pg: &Pg, prefix: &str) -> String {
    let db = pg.create_db(prefix);
    load(pg, &db);
    CREATED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(db.clone());
    db
}

/// The fixture databases [`create`] made, by name: what [`dump_with`] may
/// remake on the [`dump_server`].
static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Loads the fixture into the empty database `db` with psql.
fn load(pg: &Pg, db: &str) {
    let _one = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    let out = client(pg, "psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f"])
        .arg(sql_path())
        .output()
        .expect("run psql");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "psql -f {}: exit {:?}\n{}{}",
        sql_path().display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pg_dump` of `db` in `style`, as it wrote it (with its `\restrict` lines).
pub fn dump(pg: &Pg, db: &str, style: Style) -> String {
    dump_with(pg, db, style.args())
}

/// A server of pg_dump's own major version, for dumping the fixture when
/// the server under test is newer than the machine's pg_dump (pg_dump
/// refuses newer servers; bookworm has no pg_dump newer than 15). Started
/// once per process; `None` when pg_dump can dump `pg`.
fn dump_server(pg: &Pg) -> Option<&'static Pg> {
    static DUMP: OnceLock<Pg> = OnceLock::new();
    let why = pg.pg_dump_fits().err()?;
    Some(DUMP.get_or_init(|| {
        let client = crate::pg::client_major("pg_dump").unwrap_or_else(|| panic!("{why}"));
        let bin = PathBuf::from(format!("/usr/lib/postgresql/{client}/bin"));
        eprintln!(
            "note: {why}: the fixture is dumped from a PostgreSQL {client} server, made from the same fixture.sql"
        );
        Pg::start_with(&bin)
            .unwrap_or_else(|e| panic!("start PostgreSQL {client} for pg_dump: {e:#}"))
    }))
}

/// The [`snapshot`] of the database pg_dump read for [`dump_with`] (call it
/// after): `db` on `pg`, or its copy on the [`dump_server`] when `pg` is
/// newer than pg_dump. Its rows are what a load must give back (the two
/// copies differ in `now()` defaults filled at load time).
pub fn dumped_snapshot(pg: &Pg, db: &str) -> Snapshot {
    snapshot(dump_server(pg).unwrap_or(pg), db)
}

/// `pg_dump ARGS -d db`, as it wrote it. `db` is a fixture database
/// ([`create`]). When `pg` is newer than pg_dump, the same fixture is made
/// under the same name on a server of pg_dump's version ([`dump_server`])
/// and dumped there: pg_dump's plain output of an older server is what a
/// user loads into a newer one (its `CREATE ... ` and `\connect` name the
/// same database), and the tests compare the load with the fixture on `pg`.
pub fn dump_with(pg: &Pg, db: &str, args: &[&str]) -> String {
    let pg = match dump_server(pg) {
        None => pg,
        Some(older) => {
            assert!(
                CREATED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .any(|d| d == db),
                "{db} is not a fixture database: only those can be dumped from PostgreSQL {}",
                older.major()
            );
            let exists = older
                .connect("postgres")
                .query_opt("select 1 from pg_database where datname = $1", &[&db])
                .expect("pg_database")
                .is_some();
            if !exists {
                older
                    .connect("postgres")
                    .batch_execute(&format!("CREATE DATABASE \"{db}\""))
                    .unwrap_or_else(|e| panic!("create database {db}: {e}"));
                load(older, db);
            }
            older
        }
    };
    let out = client(pg, "pg_dump")
        .args(args)
        .args(["-d", db])
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("pg_dump writes UTF-8")
}

/// One line per catalog object of the user's schemas (kind, name, owner,
/// ACL, comment, definition), sorted. Schema `uis` (the seed ledger) and
/// the system schemas are left out.
const CATALOG: &str = r#"
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
   WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'uis')
     AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp%'
)
SELECT line FROM (
  SELECT format('schema %I owner=%s acl=%s comment=%L', n.nspname,
                pg_get_userbyid(n.nspowner), n.nspacl, obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace n JOIN ns ON ns.oid = n.oid
  UNION ALL
  SELECT format('relation %I.%I kind=%s owner=%s acl=%s rls=%s force=%s populated=%s persistence=%s comment=%L',
                ns.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relacl,
                c.relrowsecurity, c.relforcerowsecurity, c.relispopulated, c.relpersistence,
                obj_description(c.oid, 'pg_class'))
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT format('column %I.%I.%I %s notnull=%s default=%s identity=%s generated=%s acl=%s comment=%L',
                ns.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attacl,
                col_description(c.oid, a.attnum))
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN ns ON ns.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('constraint %I.%I %I %s', ns.nspname, coalesce(c.relname, t.typname), co.conname,
                pg_get_constraintdef(co.oid))
    FROM pg_constraint co
    JOIN ns ON ns.oid = co.connamespace
    LEFT JOIN pg_class c ON c.oid = co.conrelid
    LEFT JOIN pg_type t ON t.oid = co.contypid
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('policy %I.%I %I %s %s roles=%s using=%s check=%s', schemaname, tablename,
                policyname, permissive, cmd, roles, qual, with_check)
    FROM pg_policies WHERE schemaname IN (SELECT nspname FROM ns)
  UNION ALL
  SELECT format('function %s kind=%s owner=%s acl=%s comment=%L definition=%s',
                p.oid::regprocedure, p.prokind, pg_get_userbyid(p.proowner), p.proacl,
                obj_description(p.oid, 'pg_proc'),
                CASE WHEN p.prokind = 'a' THEN '-' ELSE pg_get_functiondef(p.oid) END)
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
  UNION ALL
  SELECT format('aggregate %s sfunc=%s stype=%s init=%L', a.aggfnoid::regprocedure, a.aggtransfn,
                format_type(a.aggtranstype, NULL), a.agginitval)
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN ns ON ns.oid = p.pronamespace
  UNION ALL
  SELECT format('type %I.%I type=%s owner=%s base=%s notnull=%s default=%s comment=%L',
                ns.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner),
                format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                obj_description(t.oid, 'pg_type'))
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
   WHERE t.typtype IN ('e', 'd', 'r', 'm')
      OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  UNION ALL
  SELECT format('enum %s %s %L', e.enumtypid::regtype, row_number() OVER
                  (PARTITION BY e.enumtypid ORDER BY e.enumsortorder), e.enumlabel)
    FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN ns ON ns.oid = t.typnamespace
  UNION ALL
  SELECT format('view %I.%I %s', ns.nspname, c.relname, pg_get_viewdef(c.oid))
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT format('sequence %I.%I start=%s increment=%s last=%s', schemaname, sequencename,
                start_value, increment_by, last_value)
    FROM pg_sequences WHERE schemaname IN (SELECT nspname FROM ns)
  UNION ALL
  SELECT format('partition %s of %s %s', c.oid::regclass, i.inhparent::regclass,
                pg_get_expr(c.relpartbound, c.oid))
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN ns ON ns.oid = c.relnamespace
) AS s(line)
ORDER BY line COLLATE "C"
"#;

/// Every populated table and materialized view of the user's schemas.
const TABLES: &str = r#"
SELECT t FROM (
  SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'm') AND c.relispopulated
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'uis')
     AND n.nspname NOT LIKE 'pg\_toast%'
) AS s(t)
ORDER BY t COLLATE "C"
"#;

/// What a loaded database holds: its catalog (see [`CATALOG`]) and, for
/// every table and populated materialized view, its row count and the MD5
/// of its rows' text sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub catalog: Vec<String>,
    pub data: Vec<String>,
}

/// The [`Snapshot`] of `db`.
pub fn snapshot(pg: &Pg, db: &str) -> Snapshot {
    let mut c = pg.connect(db);
    // Superusers bypass RLS anyway; be explicit for FORCE'd tables.
    c.batch_execute("SET row_security = off")
        .expect("row_security");
    // The database's owner (an app's owner role, named after the app) as
    // `<db owner>` in ACLs, so loads into two apps' databases compare:
    // `uis db configure` grants the owner default privileges on what the
    // superuser creates there.
    let owner: Option<String> = c
        .query_one(
            "select r.rolname::text from pg_database d join pg_roles r on r.oid = d.datdba
              where d.datname = current_database() and not r.rolsuper",
            &[],
        )
        .ok()
        .map(|r| r.get(0));
    let catalog = c
        .query(CATALOG, &[])
        .expect("catalog snapshot")
        .iter()
        .map(|r| {
            let line = r.get::<_, String>(0);
            match &owner {
                Some(o) => line
                    .replace(&format!("{{{o}="), "{<db owner>=")
                    .replace(&format!(",{o}="), ",<db owner>="),
                None => line,
            }
        })
        .collect();
    let tables: Vec<String> = c
        .query(TABLES, &[])
        .expect("table list")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let data = tables
        .iter()
        .map(|t| {
            let sql = format!(
                "SELECT count(*), md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text COLLATE \"C\"), '')) FROM {t} AS x"
            );
            let row = c.query_one(&sql, &[]).expect("table checksum");
            format!(
                "data {t} rows={} md5={}",
                row.get::<_, i64>(0),
                row.get::<_, String>(1)
            )
        })
        .collect();
    Snapshot { catalog, data }
}

impl Snapshot {
    /// `None` when equal, else the lines only in `self` (`-`) and only in
    /// `other` (`+`), at most 40 of them.
    pub fn diff(&self, other: &Snapshot) -> Option<String> {
        let mut out = String::new();
        let mut n = 0;
        for (a, b) in [(&self.catalog, &other.catalog), (&self.data, &other.data)] {
            for l in a.iter().filter(|l| !b.contains(l)) {
                n += 1;
                if n <= 40 {
                    let _ = writeln!(out, "- {l}");
                }
            }
            for l in b.iter().filter(|l| !a.contains(l)) {
                n += 1;
                if n <= 40 {
                    let _ = writeln!(out, "+ {l}");
                }
            }
        }
        (self != other).then(|| format!("{n} lines differ:\n{out}"))
    }

    /// The data lines' row counts summed (to check a load is not empty).
    pub fn rows(&self) -> i64 {
        self.data
            .iter()
            .filter_map(|l| {
                l.split(" rows=")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<i64>()
                    .ok()
            })
            .sum()
    }
}

/// Panics, naming both loads, when two snapshots differ.
#[track_caller]
pub fn assert_same(expected: &Snapshot, expected_by: &str, got: &Snapshot, got_by: &str) {
    if let Some(d) = expected.diff(got) {
        panic!(
            "the database {got_by} loaded differs from the one {expected_by} loaded (- {expected_by}, + {got_by}): {d}"
        );
    }
}
