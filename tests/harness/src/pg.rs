//! A throwaway PostgreSQL server for tests: a fresh data directory,
//! `postgres` on a free 127.0.0.1 port, scram-sha-256 password login for the
//! superuser `postgres` with a random password.
//!
//! The data directory is a copy of a template made once with `initdb` (per
//! machine, user and PostgreSQL installation, in
//! `/tmp/uis-pg-template-*` or the temp dir when not root, under a file
//! lock): copying takes a third of the time of an `initdb`, and every test
//! process starts a server. The template's superuser password is replaced
//! (by a SCRAM verifier made here, so the password never reaches the
//! server) before the server is handed out.
//!
//! Clean-up does not depend on Rust destructors running. The server is
//! started by a small shell watchdog whose stdin is a pipe from the test
//! process: when that pipe closes (the `Pg` is dropped, the test process
//! ends, panics or is killed), the watchdog stops the server with a fast
//! shutdown and deletes the directory. PostgreSQL refuses to run as root, so
//! when the test runs as root the watchdog runs as the `postgres` OS user,
//! in a directory that user owns.

use anyhow::{Context, Result, bail};
use rand::RngExt;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The watchdog: copies the template data directory, runs postgres, then
/// waits for its stdin to close.
const WATCHDOG: &str = r#"
D="$1"; BIN="$2"; PORT="$3"; TEMPLATE="$4"
if ! cp -a "$TEMPLATE" "$D/data" >"$D/initdb.log" 2>&1 || ! chmod 700 "$D/data"; then
  echo failed > "$D/initdb.failed"
  read _ ; rm -rf "$D"; exit 1
fi
start() {
  "$BIN/postgres" -D "$D/data" -h 127.0.0.1 -p "$PORT" -k "$D" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=300 -c shared_buffers=64MB -c log_min_messages=warning \
    >>"$D/postgres.log" 2>&1 &
  pid=$!
  echo "$pid" > "$D/pid"
}
start
# "restart" stops the server (fast shutdown) and starts it again; any other
# line, or end of input, stops it for good.
while read -r cmd && [ "$cmd" = restart ]; do
  kill -INT "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  start
done
kill -INT "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$D"
"#;

/// A running throwaway server. Dropping it stops the server and deletes its
/// files.
pub struct Pg {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub bin_dir: PathBuf,
    dir: PathBuf,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
    /// The harness's own connections go through the Unix socket (set once
    /// TLS is on, see `crate::tls`).
    socket: std::sync::atomic::AtomicBool,
}

static SHARED: OnceLock<Pg> = OnceLock::new();
static DB_COUNTER: AtomicU32 = AtomicU32::new(0);
/// Servers a [`Lease`] gave back, waiting for the next test of this process.
static IDLE: Mutex<Vec<&'static Pg>> = Mutex::new(Vec::new());

/// A server one test has to itself until the lease is dropped; see
/// [`Pg::lease`]. Dereferences to the [`Pg`].
pub struct Lease {
    pg: &'static Pg,
}

impl Lease {
    /// The leased server, for as long as the process lives (the lease only
    /// says who uses it now).
    pub fn pg(&self) -> &'static Pg {
        self.pg
    }
}

impl std::ops::Deref for Lease {
    type Target = Pg;
    fn deref(&self) -> &Pg {
        self.pg
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(self.pg);
    }
}

impl Pg {
    /// One server per test process, started on first use. Tests share it and
    /// each creates its own database with [`Pg::create_db`].
    pub fn shared() -> &'static Pg {
        SHARED.get_or_init(|| Pg::start().expect("start the throwaway PostgreSQL"))
    }

    /// A server for one test alone, for tests that make fixed names (an app
    /// `shop`, its role and database) or compare the whole catalog. Under
    /// nextest, which runs each test in a process of its own, this is a new
    /// server per test process, as [`Pg::shared`]. Under `cargo test`, where
    /// the tests of a binary run on threads of one process, a server given
    /// back by an ended test is reset ([`Pg::reset`]: every database, role
    /// and setting a test made is dropped) and lent again, so tests neither
    /// see each other's objects nor pay for an `initdb` each.
    pub fn lease() -> Lease {
        loop {
            let idle = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(pg) = idle else { break };
            match pg.reset() {
                Ok(()) => return Lease { pg },
                // A server a test broke (stopped, or left unreachable) is not
                // lent again.
                Err(_) => pg.stop(),
            }
        }
        let pg = Pg::start().expect("start the throwaway PostgreSQL");
        Lease {
            pg: Box::leak(Box::new(pg)),
        }
    }

    /// Drops what tests made: every database but `postgres` and the
    /// templates, every role but the bootstrap superuser and the built-in
    /// `pg_*` roles (with what they own or were granted), every schema of
    /// the `postgres` database but a fresh `public`, and the settings of
    /// `ALTER SYSTEM` and `ALTER DATABASE`.
    pub fn reset(&self) -> Result<()> {
        let mut c = self.try_connect("postgres")?;
        let dbs: Vec<String> = c
            .query(
                "select datname::text from pg_database where not datistemplate and datname <> 'postgres'",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for db in dbs {
            c.batch_execute(&format!(
                "DROP DATABASE \"{}\" WITH (FORCE)",
                db.replace('"', "\"\"")
            ))?;
        }
        let roles: Vec<String> = c
            .query(
                "select rolname::text from pg_roles where rolname !~ '^pg_' and oid <> 10",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // Sessions of those roles in `postgres` would hold their objects.
        c.batch_execute(
            "select pg_terminate_backend(pid) from pg_stat_activity
              where pid <> pg_backend_pid() and backend_type = 'client backend'",
        )?;
        for role in &roles {
            let r = role.replace('"', "\"\"");
            c.batch_execute(&format!("DROP OWNED BY \"{r}\" CASCADE; DROP ROLE \"{r}\""))?;
        }
        let schemas: Vec<String> = c
            .query(
                "select nspname::text from pg_namespace
                  where nspname !~ '^pg_' and nspname <> 'information_schema'",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for schema in schemas {
            c.batch_execute(&format!(
                "DROP SCHEMA \"{}\" CASCADE",
                schema.replace('"', "\"\"")
            ))?;
        }
        c.batch_execute(&format!(
            "ALTER ROLE \"{}\" RESET ALL",
            self.user.replace('"', "\"\"")
        ))?;
        c.batch_execute(
            "CREATE SCHEMA public AUTHORIZATION pg_database_owner;
             GRANT USAGE ON SCHEMA public TO PUBLIC;
             ALTER DATABASE postgres RESET ALL;
             ALTER SYSTEM RESET ALL;
             SELECT pg_reload_conf();",
        )?;
        Ok(())
    }

    /// Start a new server of its own.
    pub fn start() -> Result<Pg> {
        Self::start_with(&find_bin_dir()?)
    }

    /// Start a new server from the binaries in `bin_dir` (e.g. one whose
    /// version matches an older client oracle: see [`Pg::oracle_for_psql`]).
    pub fn start_with(bin_dir: &Path) -> Result<Pg> {
        let mut last_err = None;
        for _ in 0..3 {
            match Self::start_once(bin_dir) {
                Ok(pg) => return Ok(pg),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.expect("tried at least once"))
    }

    fn start_once(bin_dir: &Path) -> Result<Pg> {
        let template = Template::get(bin_dir)?;
        let as_postgres_user = is_root();
        let dir = scratch_base().join(format!("uis-pg-{}", random_alnum(12).to_lowercase()));
        std::fs::create_dir(&dir).with_context(|| format!("create {}", dir.display()))?;
        let mut cmd = Command::new("sh");
        if as_postgres_user {
            let (uid, gid) = postgres_ids()?;
            chown_tree(&dir, uid, gid)?;
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        let port = free_port()?;
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("pg-watchdog")
            .arg(&dir)
            .arg(bin_dir)
            .arg(port.to_string())
            .arg(template.dir.join("data"))
            .current_dir(&dir)
            .env_remove("PGDATA")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().context("spawn the PostgreSQL watchdog (sh)")?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut pg = Pg {
            host: "127.0.0.1".into(),
            port,
            user: "postgres".into(),
            password: template.password,
            bin_dir: bin_dir.to_path_buf(),
            dir,
            watchdog: Mutex::new(Some((child, stdin))),
            socket: std::sync::atomic::AtomicBool::new(false),
        };
        pg.wait_ready()?;
        // A password of this server's own, sent as a verifier.
        let password = random_alnum(32);
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        pg.try_connect("postgres")?
            .batch_execute(&format!("ALTER ROLE postgres PASSWORD '{verifier}'"))?;
        pg.password = password;
        if crate::topology() == crate::Topology::Proxied {
            pg.rename_superuser(crate::PROXIED_SUPERUSER)?;
        }
        Ok(pg)
    }

    /// Renames the bootstrap superuser `postgres` to `name` (its password
    /// stays: SCRAM verifiers survive a rename), as an external server
    /// whose superuser is not `postgres` has it. A superuser cannot rename
    /// itself, so a temporary one does it and is dropped.
    fn rename_superuser(&mut self, name: &str) -> Result<()> {
        let tmp = format!("uis_tmp_{}", random_alnum(8).to_lowercase());
        let verifier = postgres_protocol::password::scram_sha_256(self.password.as_bytes());
        self.try_connect("postgres")?.batch_execute(&format!(
            "CREATE ROLE \"{tmp}\" SUPERUSER LOGIN PASSWORD '{verifier}'"
        ))?;
        postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&tmp)
            .password(&self.password)
            .dbname("postgres")
            .connect_timeout(Duration::from_secs(5))
            .connect(postgres::NoTls)?
            .batch_execute(&format!("ALTER ROLE postgres RENAME TO \"{name}\""))?;
        self.user = name.to_string();
        self.try_connect("postgres")?
            .batch_execute(&format!("DROP ROLE \"{tmp}\""))?;
        Ok(())
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.dir.join("initdb.failed").exists() {
                let log = std::fs::read_to_string(self.dir.join("initdb.log")).unwrap_or_default();
                bail!("copying the template data directory failed:\n{log}");
            }
            if let Ok(pid) = std::fs::read_to_string(self.dir.join("pid")) {
                let pid = pid.trim();
                if !pid.is_empty() && !Path::new(&format!("/proc/{pid}")).exists() {
                    let log =
                        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
                    bail!("postgres exited at start:\n{log}");
                }
                if self.try_connect("postgres").is_ok() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("postgres did not accept connections within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A superuser connection to `db`, or the error.
    pub fn try_connect(&self, db: &str) -> Result<postgres::Client, postgres::Error> {
        let socket = self.socket.load(Ordering::Relaxed);
        let mut c = postgres::Config::new();
        if socket {
            c.host_path(&self.dir);
        } else {
            c.host(&self.host);
        }
        c.port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(db)
            .connect_timeout(Duration::from_secs(5))
            .connect(postgres::NoTls)
    }

    /// The server's scratch directory (its Unix socket, its data directory
    /// `data/`; deleted with the server).
    pub(crate) fn scratch_dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the harness's own connections use the Unix socket.
    pub(crate) fn use_socket(&self) {
        self.socket.store(true, Ordering::Relaxed);
    }

    /// Hands files the test wrote to the server's OS user (when the test
    /// runs as root, the server runs as `postgres`); missing ones are
    /// skipped.
    pub(crate) fn give_to_server(&self, files: &[PathBuf]) -> Result<()> {
        if !is_root() {
            return Ok(());
        }
        let (uid, gid) = postgres_ids()?;
        for f in files.iter().filter(|f| f.exists()) {
            std::os::unix::fs::chown(f, Some(uid), Some(gid))
                .with_context(|| format!("chown {}", f.display()))?;
        }
        Ok(())
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A superuser connection to `db`.
    pub fn connect(&self, db: &str) -> postgres::Client {
        self.try_connect(db)
            .unwrap_or_else(|e| panic!("connect to database {db}: {e}"))
    }

    /// A superuser URL for `db` (the password is alphanumeric: no escaping).
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, db
        )
    }

    /// The server's `server_version_num`: major * 10000 + minor (e.g.
    /// 150014 for 15.14; PostgreSQL 10+ numbering), for tests that follow
    /// a version's release notes.
    pub fn server_version_num(&self) -> u32 {
        let v: String = self
            .connect("postgres")
            .query_one("select current_setting('server_version_num')", &[])
            .expect("server_version_num")
            .get(0);
        v.parse::<u32>().expect("a number")
    }

    /// The server's major version (14, 15, ... from `server_version_num`).
    pub fn major(&self) -> u32 {
        self.server_version_num() / 10000
    }

    /// Whether the machine's `pg_dump` can dump this server: pg_dump refuses
    /// servers of a newer major version than its own. `Err` says why not.
    pub fn pg_dump_fits(&self) -> Result<(), String> {
        let server = self.major();
        match client_major("pg_dump") {
            Some(client) if client >= server => Ok(()),
            Some(client) => Err(format!(
                "pg_dump {client} cannot dump a PostgreSQL {server} server \
                 (no newer postgresql-client in this machine's package sources)"
            )),
            None => Err("pg_dump is not installed (apt-get install postgresql-client)".into()),
        }
    }

    /// The schema and data of `db` as text, for comparing two databases:
    /// `pg_dump --no-owner` (without its `\\restrict` lines) when the
    /// machine's pg_dump can dump this server, else [`Pg::catalog_dump`]
    /// (pg_dump refuses servers newer than itself, and this machine's
    /// package sources have no pg_dump newer than 15).
    pub fn dump(&self, db: &str) -> String {
        if let Err(why) = self.pg_dump_fits() {
            eprintln!("note: comparing catalogs and data with SQL instead of pg_dump: {why}");
            return self.catalog_dump(db);
        }
        let out = Command::new(client_tool("pg_dump"))
            .args(["--no-owner", "-d", db])
            .envs(self.libpq_env())
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("run pg_dump");
        assert!(
            out.status.success(),
            "pg_dump {db}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("pg_dump output is UTF-8")
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What `pg_dump` would compare, read with SQL from the catalogs: every
    /// user schema's columns, constraints, indexes, views, functions,
    /// triggers, policies, types, sequences, grants, extensions, and each
    /// table's rows (count and md5 of the sorted rows). No OIDs, so two
    /// databases built alike give the same text.
    pub fn catalog_dump(&self, db: &str) -> String {
        let mut c = self.connect(db);
        let mut out = Vec::new();
        for (what, sql) in CATALOG_QUERIES {
            for row in c
                .query(*sql, &[])
                .unwrap_or_else(|e| panic!("catalog query {what} on {db}: {e}"))
            {
                out.push(format!("{what}: {}", row.get::<_, String>(0)));
            }
        }
        let tables: Vec<String> = c
            .query(
                "select format('%I.%I', n.nspname, k.relname) from pg_class k \
                 join pg_namespace n on n.oid = k.relnamespace \
                 where k.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') \
                 and n.nspname not like 'pg\\_%' order by 1",
                &[],
            )
            .expect("list tables")
            .iter()
            .map(|r| r.get(0))
            .collect();
        for t in tables {
            let row = c
                .query_one(
                    &format!(
                        "select count(*)::text || ' ' || coalesce(md5(string_agg(x, E'\\n' order by x)), '') \
                         from (select t::text as x from {t} t) s"
                    ),
                    &[],
                )
                .unwrap_or_else(|e| panic!("read {t} in {db}: {e}"));
            out.push(format!("rows {t}: {}", row.get::<_, String>(0)));
        }
        out.join("\n")
    }

    /// A server of psql's own major version, when psql is older than 18 and
    /// this server is 18 or newer; `None` when psql can talk to this one.
    /// PostgreSQL 18 no longer ends CSV `COPY FROM STDIN` at a `\\.` line;
    /// psql 18 stops sending that line, older psql still sends it, and the
    /// server then fails with `invalid input syntax` (PostgreSQL 18 release
    /// notes, "Prevent COPY FROM from treating \\. as an end-of-file marker
    /// when reading CSV files"). A script with such a COPY can only be
    /// played by an older psql against a server of its own version.
    pub fn oracle_for_psql(&self) -> Option<Pg> {
        let client = client_major("psql")?;
        if client >= 18 || self.major() < 18 {
            return None;
        }
        let bin = PathBuf::from(format!("/usr/lib/postgresql/{client}/bin"));
        eprintln!(
            "note: psql {client} cannot feed CSV COPY data to PostgreSQL {}: the psql oracle runs against PostgreSQL {client}",
            self.major()
        );
        Some(
            Pg::start_with(&bin)
                .unwrap_or_else(|e| panic!("start PostgreSQL {client} for the psql oracle: {e:#}")),
        )
    }

    /// Creates an empty database with a unique name starting with `prefix`.
    pub fn create_db(&self, prefix: &str) -> String {
        let n = DB_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{}_{}_{}_{}",
            prefix,
            std::process::id(),
            n,
            random_alnum(4).to_lowercase()
        );
        self.connect("postgres")
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        name
    }

    /// Environment for libpq tools (psql, pg_dump) pointing at this server.
    pub fn libpq_env(&self) -> Vec<(String, String)> {
        vec![
            ("PGHOST".into(), self.host.clone()),
            ("PGPORT".into(), self.port.to_string()),
            ("PGUSER".into(), self.user.clone()),
            ("PGPASSWORD".into(), self.password.clone()),
        ]
    }

    /// What the server wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// Restarts the server (fast shutdown, which ends every session, then
    /// a new start on the same port) and returns once it accepts
    /// connections again.
    pub fn restart(&self) -> Result<()> {
        let pid_file = self.dir.join("pid");
        let old = std::fs::read_to_string(&pid_file).unwrap_or_default();
        {
            let mut w = self.watchdog.lock().unwrap_or_else(|e| e.into_inner());
            let (_, stdin) = w.as_mut().context("the server was stopped")?;
            stdin.write_all(b"restart\n")?;
            stdin.flush()?;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::fs::read_to_string(&pid_file).unwrap_or_default() == old {
            if Instant::now() > deadline {
                bail!("postgres did not restart within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.wait_ready()
    }

    /// Stop the server and delete its files now, waiting for both.
    pub fn stop(&self) {
        let taken = self.watchdog.lock().map(|mut w| w.take()).unwrap_or(None);
        if let Some((mut child, mut stdin)) = taken {
            let _ = stdin.write_all(b"stop\n");
            drop(stdin);
            let _ = child.wait();
        }
        if self.dir.exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The catalog reads of [`Pg::catalog_dump`]: one text column each, sorted.
/// NOT NULL is read from the columns only: PostgreSQL 18 also stores it in
/// pg_constraint (contype 'n'; 18 release notes, "Store column NOT NULL
/// specifications in pg_constraint"), older versions do not.
const CATALOG_QUERIES: &[(&str, &str)] = &[
    (
        "schema",
        "select format('%s acl=%s', n.nspname, n.nspacl) from pg_namespace n where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1",
    ),
    ("extension", "select extname from pg_extension order by 1"),
    (
        "relation",
        "select format('%I.%I %s acl=%s', n.nspname, k.relname, k.relkind, k.relacl) from pg_class k join pg_namespace n on n.oid = k.relnamespace where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1",
    ),
    (
        "column",
        "select format('%s.%s.%s %s %s %s %s', table_schema, table_name, column_name, ordinal_position, data_type, is_nullable, column_default) from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema') order by 1",
    ),
    (
        "constraint",
        "select format('%s %s %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) from pg_constraint k join pg_namespace n on n.oid = k.connamespace where k.contype <> 'n' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1",
    ),
    (
        "index",
        "select format('%s.%s', schemaname, indexdef) from pg_indexes where schemaname not in ('pg_catalog', 'information_schema') order by 1",
    ),
    (
        "view",
        "select format('%s.%s %s', schemaname, viewname, definition) from pg_views where schemaname not in ('pg_catalog', 'information_schema') order by 1",
    ),
    (
        "function",
        "select pg_get_functiondef(p.oid) || format(' acl=%s', p.proacl) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.prokind in ('f', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e') order by 1",
    ),
    (
        "aggregate",
        "select format('%s(%s)', p.oid::regproc, pg_get_function_arguments(p.oid)) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.prokind = 'a' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1",
    ),
    (
        "trigger",
        "select pg_get_triggerdef(t.oid) from pg_trigger t where not t.tgisinternal order by 1",
    ),
    (
        "policy",
        "select format('%s.%s %s %s %s %s %s', schemaname, tablename, policyname, permissive, roles, qual, with_check) from pg_policies order by 1",
    ),
    (
        "type",
        "select format('%s %s %s', t.oid::regtype, t.typtype, (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid)) from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.typtype in ('e', 'd') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1",
    ),
    (
        "sequence",
        "select format('%s.%s %s', schemaname, sequencename, last_value) from pg_sequences order by 1",
    ),
    (
        "default acl",
        "select format('%s %s %s', defaclrole::regrole, defaclobjtype, defaclacl) from pg_default_acl order by 1",
    ),
];

/// The environment variable picking the server's major version.
pub const VERSION_VAR: &str = "UIS_PG_VERSION";

/// The server binaries: with `UIS_PG_VERSION=N`, those of PostgreSQL N
/// (`/usr/lib/postgresql/N/bin`, else the cache `scripts/pg-server N` fills;
/// the two look in the same places); without it, the newest
/// `/usr/lib/postgresql/N/bin` holding initdb and postgres, or the directory
/// of `initdb` on PATH. Never downloads: a missing version is an error that
/// names the script to run.
pub fn find_bin_dir() -> Result<PathBuf> {
    if let Some(v) = std::env::var_os(VERSION_VAR).filter(|v| !v.is_empty()) {
        let v = v.to_string_lossy().into_owned();
        let major: u32 = v
            .parse()
            .ok()
            .filter(|m| (14..=18).contains(m))
            .with_context(|| {
                format!("{VERSION_VAR}={v}: not a PostgreSQL major version from 14 to 18")
            })?;
        let mut tried = vec![PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"))];
        tried.extend(cache_dir().map(|c| c.join(major.to_string()).join("bin")));
        if let Some(bin) = tried.iter().find(|b| is_server_bin(b)) {
            return Ok(bin.clone());
        }
        let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "{VERSION_VAR}={major}: no PostgreSQL {major} server binaries in {}; \
             run `scripts/pg-server {major}` first (it fetches them once)",
            tried.join(" nor ")
        );
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            is_server_bin(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if is_server_bin(&dir) {
            return Ok(dir);
        }
    }
    bail!(
        "no PostgreSQL server binaries: install them (`apt-get install postgresql`) so that \
         /usr/lib/postgresql/*/bin/initdb exists, or set {VERSION_VAR}=N and run `scripts/pg-server N`"
    )
}

/// Where servers and templates go: `/tmp` when root (the `postgres` user
/// must reach it), else the temp dir.
fn scratch_base() -> PathBuf {
    if is_root() {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    }
}

/// A data directory made by `initdb` once, copied for each server.
struct Template {
    /// Holds `data/` and `password` (the template superuser's).
    dir: PathBuf,
    password: String,
}

impl Template {
    /// The template for `bin_dir`, made now (under a file lock, so that
    /// concurrent test processes make it once) when missing.
    fn get(bin_dir: &Path) -> Result<Template> {
        // initdb's flags below are part of the name: change one, bump v1.
        let key: String = format!("v1-{}-u{}", bin_dir.display(), is_root() as u8)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = scratch_base().join(format!("uis-pg-template-{key}"));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.with_extension("lock"))
            .context("create the PostgreSQL template's lock file")?;
        lock.lock().context("lock the PostgreSQL template")?;
        if !dir.join("ready").exists() {
            Template::make(bin_dir, &dir)?;
        }
        let password = std::fs::read_to_string(dir.join("password"))?;
        Ok(Template { dir, password })
    }

    fn make(bin_dir: &Path, dir: &Path) -> Result<()> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir(dir).with_context(|| format!("create {}", dir.display()))?;
        let password = random_alnum(32);
        std::fs::write(dir.join("pwfile"), format!("{password}\n"))?;
        let mut cmd = Command::new(bin_dir.join("initdb"));
        if is_root() {
            let (uid, gid) = postgres_ids()?;
            chown_tree(dir, uid, gid)?;
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        let out = cmd
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "-A", "scram-sha-256", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync", "--wal-segsize=1"])
            .arg(format!("--pwfile={}", dir.join("pwfile").display()))
            .current_dir(dir)
            .env_remove("PGDATA")
            .output()
            .context("run initdb")?;
        std::fs::remove_file(dir.join("pwfile"))?;
        if !out.status.success() {
            bail!(
                "initdb failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::write(dir.join("password"), &password)?;
        std::fs::write(dir.join("ready"), "")?;
        Ok(())
    }
}

fn is_server_bin(dir: &Path) -> bool {
    dir.join("initdb").exists() && dir.join("postgres").exists()
}

/// Where `scripts/pg-server` unpacks server binaries: `UIS_PG_CACHE`, else
/// `/var/cache/uis/pg` as root (the postgres OS user cannot enter /root),
/// else `${XDG_CACHE_HOME:-$HOME/.cache}/uis/pg`.
fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(c) = var("UIS_PG_CACHE") {
        return Some(c);
    }
    if is_root() {
        return Some(PathBuf::from("/var/cache/uis/pg"));
    }
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .map(|c| c.join("uis").join("pg"))
}

/// A PostgreSQL client program (`psql`, `pg_dump`): the server's bin dir
/// when it has one (the system packages do; the npm packages do not), else
/// PATH, else the newest `/usr/lib/postgresql/N/bin` that has it.
pub fn client_tool(name: &str) -> PathBuf {
    if let Ok(dir) = find_bin_dir()
        && dir.join(name).exists()
    {
        return dir.join(name);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join(name).exists() {
            return dir.join(name);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.exists().then_some((v, p))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, p)| p)
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The major version of a client program (`pg_dump --version`), if it runs.
pub fn client_major(name: &str) -> Option<u32> {
    let out = Command::new(client_tool(name))
        .arg("--version")
        .output()
        .ok()?;
    // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(2)?
        .split('.')
        .next()?
        .parse()
        .ok()
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    // The uid of this process, from /proc, without a libc dependency.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn postgres_ids() -> Result<(u32, u32)> {
    let out = Command::new("id").args(["-u", "postgres"]).output()?;
    let uid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("running as root, and there is no `postgres` OS user to run PostgreSQL as")?;
    let out = Command::new("id").args(["-g", "postgres"]).output()?;
    let gid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok((uid, gid))
}

fn chown_tree(dir: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    for e in std::fs::read_dir(dir)? {
        std::os::unix::fs::chown(e?.path(), Some(uid), Some(gid))?;
    }
    Ok(())
}

/// A SCRAM-SHA-256 verifier for `password`, for `ALTER ROLE ... PASSWORD`
/// without the password itself reaching the server.
pub fn scram_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// `n` random characters of `[A-Za-z0-9]`.
pub fn random_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_chosen_major_version() {
        let pg = Pg::start().unwrap();
        let want = match std::env::var(VERSION_VAR) {
            Ok(v) if !v.is_empty() => v.parse::<u32>().unwrap(),
            _ => find_bin_dir()
                .unwrap()
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str()?.parse().ok())
                .unwrap_or_else(|| pg.major()),
        };
        assert_eq!(pg.major(), want);
    }

    #[test]
    fn catalog_dump_sees_schema_and_data() {
        let pg = Pg::shared();
        let a = pg.create_db("cat_a");
        let b = pg.create_db("cat_b");
        let ddl = "create schema s; create table s.t (id int primary key, v text); \
                   create view s.w as select v from s.t; insert into s.t values (1, 'x')";
        pg.connect(&a).batch_execute(ddl).unwrap();
        pg.connect(&b).batch_execute(ddl).unwrap();
        assert_eq!(pg.catalog_dump(&a), pg.catalog_dump(&b));
        assert!(pg.catalog_dump(&a).contains("rows s.t: 1 "));
        pg.connect(&b)
            .batch_execute("update s.t set v = 'y'")
            .unwrap();
        assert_ne!(pg.catalog_dump(&a), pg.catalog_dump(&b), "data differs");
        pg.connect(&b)
            .batch_execute("alter table s.t add check (id > 0)")
            .unwrap();
        pg.connect(&a)
            .batch_execute("update s.t set v = 'y'")
            .unwrap();
        assert_ne!(
            pg.catalog_dump(&a),
            pg.catalog_dump(&b),
            "constraint differs"
        );
    }

    #[test]
    fn starts_logs_in_with_scram_and_cleans_up() {
        let pg = Pg::start().unwrap();
        let db = pg.create_db("harness");
        let mut c = pg.connect(&db);
        let row = c
            .query_one("select current_user::text, current_database()::text", &[])
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "postgres");
        assert_eq!(row.get::<_, String>(1), db);
        // Password login is enforced: a wrong password is refused.
        let wrong = postgres::Config::new()
            .host("127.0.0.1")
            .port(pg.port)
            .user("postgres")
            .password("wrong")
            .dbname("postgres")
            .connect(postgres::NoTls);
        assert!(wrong.is_err());
        let dir = pg.dir.clone();
        let port = pg.port;
        drop(c);
        drop(pg);
        assert!(!dir.exists(), "data directory removed");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nothing listens after drop"
        );
    }
}
