//! The world an integration test runs the suite's binaries in: a throwaway
//! PostgreSQL the test has to itself (leased, see `uis_harness::Lease`), a
//! Kubernetes API stand-in of the test's own (seeded like a UIS cluster, so
//! faults never leak between tests), a kubeconfig and a HOME in a temp dir,
//! and helpers to run the binaries, the real `kubectl` and the real `psql`
//! and read what they did.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

pub mod rbac;
pub mod reliability;

pub use kube_standin::{ProviderSeed, Reader, StandIn, StandInOptions};
pub use uis_harness::{Pg, Topology, bin, topology};

/// One test's cluster, in the topology of the run ([`topology`]:
/// `UIS_TOPOLOGY=proxied` seeds UIS's proxied topology, with a real socat
/// between the pod's port-forward and the server).
pub struct Env {
    /// The server; `pg.connect` logs in as its superuser (`postgres`
    /// in-cluster, [`uis_harness::PROXIED_SUPERUSER`] on proxied), which
    /// tests use to read back what the suite did.
    pub pg: &'static Pg,
    pub standin: StandIn,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    pub topology: Topology,
    /// The database pod: `postgresql-0`, or the proxy Deployment's pod.
    pub pg_pod: String,
    /// The password of `postgres` that the Secrets hold (`pg.password`
    /// in-cluster; on proxied the non-superuser `postgres` role's own).
    admin_password: String,
    /// The socat of the proxied topology, killed when the Env drops.
    _socat: Option<Socat>,
    /// The lease of `pg` when [`Env::new`] took one; given back last.
    lease: Option<uis_harness::Lease>,
}

/// A socat process the Env started (UIS's proxy container): killed and
/// reaped on drop.
struct Socat(std::process::Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `socat` listening on a free 127.0.0.1 port and forwarding each
/// connection to `to`, as the proxy pod's socat container does; returns it
/// once it accepts connections.
fn start_socat(to: std::net::SocketAddr) -> (Socat, std::net::SocketAddr) {
    let socat = need_tool("socat")
        .unwrap_or_else(|| panic!("UIS_TOPOLOGY=proxied needs socat (apt-get install socat)"));
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&socat)
            .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"))
            .arg(format!("TCP:{to}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn socat");
        let mut socat = Socat(child);
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if matches!(socat.0.try_wait(), Ok(Some(_))) {
                break; // the port was taken meanwhile: another one
            }
            if std::net::TcpStream::connect(addr).is_ok() {
                return (socat, addr);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = socat.0.kill();
    }
    panic!("socat did not listen on 127.0.0.1");
}

/// Marks a test that means nothing on the proxied topology: on proxied it
/// says so on stderr, adds `TEST<TAB>REASON` to the file named by
/// `UIS_NOT_APPLICABLE_LOG` (scripts/pg-matrix counts and lists them in
/// docs/compatibility.md) and returns true, and the test returns; on
/// in-cluster it returns false and the test runs.
pub fn in_cluster_only(reason: &str) -> bool {
    if topology() != Topology::Proxied {
        return false;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_string();
    eprintln!("note: {test} does not apply to the proxied topology: {reason}");
    if let Some(log) = std::env::var_os("UIS_NOT_APPLICABLE_LOG") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("open {}: {e}", Path::new(&log).display()));
        f.write_all(format!("{test}\t{reason}\n").as_bytes())
            .expect("write UIS_NOT_APPLICABLE_LOG");
    }
    true
}

/// What a command did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout parsed as one JSON value (the last non-empty line when several).
    pub fn json(&self) -> serde_json::Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    /// Panics when any of `secrets` appears on stderr.
    #[track_caller]
    pub fn no_secret_on_stderr(&self, secrets: &[&str]) -> &Self {
        for s in secrets {
            assert!(
                s.is_empty() || !self.stderr.contains(s),
                "a secret reached stderr:\n{}",
                self.stderr
            );
        }
        self
    }
}

/// Runs `cmd` to the end and returns what it did. Every command run this
/// way (and every [`Env::run`]) is checked: its stderr must hold none of the
/// secrets this test process knows of (see [`assert_no_known_secret`]).
pub fn output(cmd: &mut Command) -> Out {
    let o = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    Out::checked(o, &format!("{cmd:?}"))
}

impl From<std::process::Output> for Out {
    fn from(o: std::process::Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Out {
    /// What `what` did, after remembering the tokens it printed and checking
    /// its stderr for every known secret.
    #[track_caller]
    fn checked(o: std::process::Output, what: &str) -> Out {
        let out = Out::from(o);
        remember_tokens(&out.stdout);
        assert_no_known_secret(&format!("stderr of {what}"), &out.stderr);
        out
    }
}

/// Where secrets live in this test process: the stand-ins of every [`Env`]
/// (their Secrets), the superuser passwords, and every JWT any command
/// printed on stdout.
static SECRETS: Mutex<Vec<Reader>> = Mutex::new(Vec::new());
static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Adds a value that must never appear on stderr or in a log.
pub fn remember_secret(value: &str) {
    let mut k = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !k.iter().any(|v| v == value) {
        k.push(value.to_string());
    }
}

/// Remembers every JWT-shaped word (`eyJ...`.`...`.`...`) of `text`.
fn remember_tokens(text: &str) {
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))) {
        let parts: Vec<&str> = word.split('.').collect();
        if word.starts_with("eyJ") && parts.len() == 3 && parts.iter().all(|p| p.len() >= 8) {
            remember_secret(word);
        }
    }
}

/// Does a Secret key hold a secret (rather than a name or a URL built from
/// one that is checked on its own)?
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    (k.contains("password") || k.contains("secret") || k.contains("token"))
        && !k.ends_with("_uri")
        && !k.ends_with("url")
}

/// Every secret known right now: passwords and JWT secrets held in the
/// Secrets of every stand-in of this process, superuser passwords, the
/// tokens printed so far and those a test registered (values shorter than 8
/// characters are skipped), each as is and in base64.
pub fn known_secrets() -> Vec<String> {
    let mut all = KNOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for r in SECRETS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        for (_, key, value) in r.secret_data() {
            if is_secret_key(&key) && !all.contains(&value) {
                all.push(value);
            }
        }
    }
    all.retain(|v| v.len() >= 8);
    // Their base64 forms too (as in a Secret's data or a dump of one).
    let encoded: Vec<String> = all.iter().map(|v| base64_encode(v.as_bytes())).collect();
    all.extend(encoded);
    all
}

/// Panics when `text` (a stream or a log, named by `what`) holds any of
/// [`known_secrets`].
#[track_caller]
pub fn assert_no_known_secret(what: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    for s in known_secrets() {
        assert!(
            !text.contains(&s),
            "a secret ({}... , {} characters) reached {what}:\n{text}",
            &s[..4],
            s.len()
        );
    }
}

/// A provider's world ([`Env::seeded`]) is its own, whatever the run's
/// topology: its superuser is `postgres`, with `password`. On a proxied run
/// the server's bootstrap superuser is [`uis_harness::PROXIED_SUPERUSER`],
/// so `postgres` is made a superuser beside it (as that superuser); on an
/// in-cluster run nothing changes.
fn provider_superuser(pg: &Pg, password: &str) {
    if topology() != Topology::Proxied {
        return;
    }
    make_role_postgres(pg, "SUPERUSER LOGIN", password)
        .expect("make postgres the provider's superuser");
}

/// Creates the role `postgres` with `attributes` and `password` (as a
/// SCRAM verifier), or alters it to them when it exists, connected as the
/// server's bootstrap superuser.
fn make_role_postgres(pg: &Pg, attributes: &str, password: &str) -> Result<(), postgres::Error> {
    let verifier = uis_harness::pg::scram_verifier(password);
    let mut c = pg.connect("postgres");
    let exists = c
        .query_opt("select 1 from pg_roles where rolname = 'postgres'", &[])?
        .is_some();
    let verb = if exists { "ALTER" } else { "CREATE" };
    c.batch_execute(&format!(
        "{verb} ROLE postgres {attributes} PASSWORD '{verifier}'"
    ))
}

impl Env {
    /// A stand-in seeded with the UIS objects, over a PostgreSQL of this
    /// test's own for as long as the `Env` lives ([`Pg::lease`]: in one
    /// process, as under `cargo test`, tests do not share objects).
    pub fn new() -> Env {
        let lease = Pg::lease();
        let mut env = Env::over(lease.pg());
        env.lease = Some(lease);
        env
    }

    /// A stand-in seeded by `seed` (instead of the UIS objects) over `pg`,
    /// in-cluster whatever the run's topology (the providers' worlds).
    pub fn seeded(pg: &'static Pg, seed: impl FnOnce(&StandIn)) -> Env {
        provider_superuser(pg, &pg.password);
        let standin = StandIn::start(StandInOptions::default()).expect("start the stand-in");
        remember_secret(&pg.password);
        seed(&standin);
        Env::finish(
            pg,
            standin,
            Topology::InCluster,
            "postgresql-0".to_string(),
            pg.password.clone(),
            None,
        )
    }

    /// The same over a PostgreSQL of the test's own (for tests that stop
    /// or restart it): `Env::over(Box::leak(Box::new(Pg::start()?)))`.
    ///
    /// On the proxied topology the server stands for the external one: its
    /// role `postgres` is (re)made LOGIN NOSUPERUSER CREATEROLE CREATEDB
    /// with a password of its own, which only the Secret holds, and the
    /// pod's port 5432 reaches the server through a socat of this Env's.
    pub fn over(pg: &'static Pg) -> Env {
        let topology = topology();
        let standin = StandIn::start(StandInOptions::default()).expect("start the stand-in");
        remember_secret(&pg.password);
        let (admin_password, pg_pod, socat) = match topology {
            Topology::InCluster => {
                standin.seed_uis(pg.addr(), &pg.password);
                (pg.password.clone(), "postgresql-0".to_string(), None)
            }
            Topology::Proxied => {
                let password = uis_harness::pg::random_alnum(32);
                remember_secret(&password);
                make_role_postgres(pg, "LOGIN NOSUPERUSER CREATEROLE CREATEDB", &password)
                    .expect("make postgres a managed-service admin");
                let (socat, addr) = start_socat(pg.addr());
                let pod = standin.seed_uis_proxied(addr, &password);
                (password, pod, Some(socat))
            }
        };
        Env::finish(pg, standin, topology, pg_pod, admin_password, socat)
    }

    /// The Env of a seeded stand-in: its kubeconfig in a temp dir, its
    /// Secrets' values registered for the leak checks.
    fn finish(
        pg: &'static Pg,
        standin: StandIn,
        topology: Topology,
        pg_pod: String,
        admin_password: String,
        socat: Option<Socat>,
    ) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        standin
            .write_kubeconfig(&kubeconfig)
            .expect("write kubeconfig");
        SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(standin.reader());
        Env {
            pg,
            standin,
            dir,
            kubeconfig,
            topology,
            pg_pod,
            admin_password,
            _socat: socat,
            lease: None,
        }
    }

    /// The name of the server's own superuser: `postgres` in-cluster,
    /// [`uis_harness::PROXIED_SUPERUSER`] on proxied, where `postgres` is
    /// the CREATEROLE CREATEDB admin the suite is given and no superuser.
    /// For a test's set-up and for the privileged role a test hands the
    /// suite to check that it refuses it; the suite itself is never told
    /// it (`env.pg.connect` logs in as it).
    pub fn superuser(&self) -> &str {
        &self.pg.user
    }

    /// The password of `postgres` as the cluster's Secrets hold it (what
    /// `uis db creds --admin` prints).
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// A connection to `db` as `postgres`, the admin the suite is told of:
    /// the superuser in-cluster, a CREATEROLE CREATEDB role on proxied. For
    /// what a test does as the cluster's admin (the provider's superuser
    /// never makes objects in an app's database).
    pub fn admin_connect(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host(&self.pg.host)
            .port(self.pg.port)
            .user("postgres")
            .password(&self.admin_password)
            .dbname(db)
            .connect_timeout(std::time::Duration::from_secs(5))
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {db} as postgres: {e}"))
    }

    /// A new database (named after `prefix`, as [`Pg::create_db`]) that
    /// the admin `postgres` owns, for SQL run with `--as admin` and for
    /// psql run beside it as the same role ([`Env::admin_url`]): in-cluster
    /// the superuser `postgres` creates it; on proxied it is then given to
    /// `postgres`, as a database that CREATEDB admin made itself would be.
    pub fn admin_db(&self, prefix: &str) -> String {
        let db = self.pg.create_db(prefix);
        if self.topology == Topology::Proxied {
            self.pg
                .connect("postgres")
                .batch_execute(&format!("ALTER DATABASE \"{db}\" OWNER TO postgres"))
                .unwrap_or_else(|e| panic!("give {db} to postgres: {e}"));
        }
        db
    }

    /// The URL of `db` as the admin `postgres` with the password the
    /// Secrets hold: the role `uis-db-psql --as admin` logs in as, for the
    /// real psql run as the same role (in-cluster it is [`Pg::url`]).
    pub fn admin_url(&self, db: &str) -> String {
        format!(
            "postgresql://postgres:{}@{}:{}/{db}",
            self.admin_password, self.pg.host, self.pg.port
        )
    }

    /// A temp path inside this test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// One of the suite's binaries with this env's KUBECONFIG and HOME, no
    /// stdin, and no `UIS_*` variables leaking in from the caller.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        for (k, _) in std::env::vars() {
            if k.starts_with("UIS_") || k.starts_with("PG") || k == "KUBECONFIG" {
                c.env_remove(k);
            }
        }
        c.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// Runs a binary with `args`.
    pub fn run(&self, name: &str, args: &[&str]) -> Out {
        output(self.cmd(name).args(args))
    }

    /// Runs a binary with `stdin` as its standard input.
    pub fn run_stdin(&self, name: &str, args: &[&str], stdin: &str) -> Out {
        use std::io::Write;
        let mut child = self
            .cmd(name)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut pipe = child.stdin.take().expect("stdin");
        let input = stdin.to_string();
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
        let o = child.wait_with_output().expect("wait");
        let _ = writer.join();
        Out::checked(o, name)
    }

    /// Starts `uis-db-tunnel ARGS` and returns it once it printed its JSON
    /// line (`port`, `database_url`...). The tunnel stops when dropped.
    pub fn tunnel(&self, args: &[&str]) -> Tunnel {
        use std::io::BufRead;
        let log = self.path(&format!("tunnel-{}.log", uis_harness::pg::random_alnum(6)));
        let mut child = self
            .cmd("uis-db-tunnel")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("tunnel log"))
            .spawn()
            .expect("spawn uis-db-tunnel");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("read the tunnel's JSON line");
        let info = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("uis-db-tunnel printed no JSON ({e}): {line:?}"));
        Tunnel { child, info, log }
    }

    /// The machine's real kubectl against this env, or `None` (with a note)
    /// when it is not installed; under CI a missing kubectl fails the test.
    pub fn kubectl(&self, args: &[&str]) -> Option<Out> {
        let path = which_kubectl()?;
        let home = self.path("kubectl-home");
        std::fs::create_dir_all(&home).ok();
        Some(output(
            Command::new(path)
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .arg("--cache-dir")
                .arg(home.join("cache"))
                .args(args)
                .env("HOME", &home)
                .env_remove("KUBECONFIG")
                .stdin(Stdio::null()),
        ))
    }

    /// Runs the real psql with `args` (no PG* variables from the caller).
    pub fn psql(&self, args: &[&str]) -> Out {
        let mut c = Command::new(psql_path());
        for (k, _) in std::env::vars() {
            if k.starts_with("PG") {
                c.env_remove(k);
            }
        }
        output(c.args(args).arg("-X").arg("-q").stdin(Stdio::null()))
    }

    /// Stores an app in the credential store the way `uis db configure`
    /// does, with a LOGIN owner role and database created for real.
    pub fn configure_app_by_hand(&self, app: &str) -> (String, String, String) {
        let owner = app.replace('-', "_");
        let db = format!("{owner}_db");
        let password: String = uis_harness::pg::random_alnum(32);
        let mut c = self.pg.connect("postgres");
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{db}\""),
            format!("DROP ROLE IF EXISTS \"{owner}\""),
            format!("CREATE ROLE \"{owner}\" LOGIN PASSWORD '{password}'"),
            format!("CREATE DATABASE \"{db}\" OWNER \"{owner}\""),
        ] {
            c.batch_execute(&sql).expect("create role and database");
        }
        let record = serde_json::json!({
            "app": app, "database": db, "owner": owner,
            "schemas": [], "extensions": [], "roles": {}, "created_roles": [owner],
        });
        let b64 = |s: &str| base64_encode(s.as_bytes());
        self.standin.put(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": format!("uis-db-{app}"), "namespace": "default",
                "labels": {"app.kubernetes.io/managed-by": "uis", "app.kubernetes.io/instance": app,
                           "app.kubernetes.io/component": "db-credentials"}},
            "type": "Opaque",
            "data": {"app.json": b64(&record.to_string()), format!("password.{owner}"): b64(&password)},
        }));
        (owner, db, password)
    }
}

/// An [`Env`] seeded with one provider's objects ([`StandIn::seed_provider`]):
/// the primary pod forwards to [`Env::pg`], the replica pods to a second
/// server of the test's own whose `postgres` password is made the same
/// (and given back when dropped), so only `inet_server_port()` tells them
/// apart.
pub struct ProviderEnv {
    pub env: Env,
    /// The replicas' server.
    pub replica: uis_harness::Lease,
    /// The pod names, the primary's first.
    pub pods: Vec<String>,
    pub seed: ProviderSeed,
}

impl std::ops::Deref for ProviderEnv {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl Drop for ProviderEnv {
    fn drop(&mut self) {
        let _ = self.replica.try_connect("postgres").or_else(|_| {
            let mut cfg = postgres::Config::new();
            cfg.host(&self.replica.host)
                .port(self.replica.port)
                .user("postgres")
                .password(self.env.pg.password.as_str())
                .dbname("postgres");
            cfg.connect(postgres::NoTls).and_then(|mut c| {
                c.batch_execute(&format!(
                    "ALTER ROLE postgres PASSWORD '{}'",
                    self.replica.password
                ))?;
                Ok(c)
            })
        });
    }
}

impl Env {
    /// The world of `provider` (see [`ProviderEnv`]); `tweak` changes the
    /// seed (replicas, superuser access, the app login) before it is
    /// applied.
    pub fn with_provider(provider: &str, tweak: impl FnOnce(&mut ProviderSeed)) -> ProviderEnv {
        let lease = Pg::lease();
        let replica = Pg::lease();
        let pg = lease.pg();
        provider_superuser(replica.pg(), &pg.password);
        replica
            .connect("postgres")
            .batch_execute(&format!("ALTER ROLE postgres PASSWORD '{}'", pg.password))
            .expect("give the replica the primary's superuser password");
        let mut seed = ProviderSeed::new(provider, pg.addr(), replica.addr(), &pg.password);
        tweak(&mut seed);
        let mut pods = Vec::new();
        let mut env = Env::seeded(pg, |s| pods = s.seed_provider(&seed));
        env.lease = Some(lease);
        ProviderEnv {
            env,
            replica,
            pods,
            seed,
        }
    }
}

/// util-linux `script`, which gives a command a pseudo-terminal, or None.
pub fn script_path() -> Option<&'static str> {
    ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

impl Env {
    /// Runs `uis-db-psql --as admin` on a pseudo-terminal (util-linux
    /// `script`) with `PATH` set to `path`, types `input` after 1.5 s as a
    /// person would, and returns the exit code and everything the terminal
    /// showed (checked for secrets). None when `script` is missing.
    pub fn psql_on_a_terminal(&self, path: &str, input: &str) -> Option<(i32, String)> {
        use std::io::Write;
        let script = script_path()?;
        let cmd = format!("'{}' --as admin", bin("uis-db-psql").display());
        let mut child = Command::new(script)
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env("PATH", path)
            .env("TERM", "dumb")
            .env("SHELL", "/bin/sh")
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env_remove("PGPASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script(1) from util-linux");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_string();
        let writer = std::thread::spawn(move || {
            // Give psql a moment to start before typing, as a person would.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let _ = stdin.write_all(input.as_bytes());
            std::thread::sleep(std::time::Duration::from_millis(1500));
        });
        let out = child.wait_with_output().expect("wait for script(1)");
        let _ = writer.join();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_no_known_secret("the terminal of uis-db-psql", &text);
        Some((out.status.code().unwrap_or(-1), text))
    }
}

/// A running `uis-db-tunnel`; killed when dropped, and then its stderr
/// (kept in a log file) is checked for secrets.
pub struct Tunnel {
    child: std::process::Child,
    log: PathBuf,
    /// The JSON line it printed.
    pub info: serde_json::Value,
}

impl Tunnel {
    /// Its `database_url`.
    pub fn url(&self) -> String {
        self.info["database_url"]
            .as_str()
            .expect("database_url")
            .to_string()
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            assert_no_known_secret("the tunnel's stderr", &log);
        }
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

fn which_kubectl() -> Option<PathBuf> {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join("kubectl");
        if p.exists() {
            return Some(p);
        }
    }
    uis_harness::missing_tool("kubectl", "the kubectl read-back");
    None
}

/// The real psql: PATH, else the server's bin dir.
pub fn psql_path() -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join("psql");
        if p.exists() {
            return p;
        }
    }
    uis_harness::pg::find_bin_dir()
        .map(|d| d.join("psql"))
        .unwrap_or_else(|_| Path::new("psql").to_path_buf())
}

/// Standard base64 (for Secret data).
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A program a test needs, found on PATH. When it is missing the test
/// fails under CI (`CI` set: `.ci/run` installs it), and elsewhere says
/// loudly on stderr that it is skipped and returns None.
#[track_caller]
pub fn need_tool(name: &str) -> Option<PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        missing(name);
    }
    found
}

/// Fails the test under CI, else notes on stderr that it is skipped.
#[track_caller]
pub fn missing(what: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{what} is not available, and CI must run this test (.ci/run installs it)");
    }
    eprintln!("note: {what} is not available; SKIPPING this test (it fails under CI)");
}

impl Env {
    /// PostgREST's Deployment of `app` in the stand-in, if there: the name
    /// `uis-postgrest-deploy` gives it (`APP-postgrest`, namespace
    /// `postgrest`).
    pub fn postgrest_deployment(&self, app: &str) -> Option<serde_json::Value> {
        self.standin.get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            &format!("{app}-postgrest"),
        )
    }
}

impl Out {
    /// The check `id` in the `checks` of `uis-db-doctor --json`'s output;
    /// panics with the output when there is none.
    #[track_caller]
    pub fn doctor_check(&self, id: &str) -> serde_json::Value {
        let j = self.json();
        j["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("no {id} check: {j}"))
    }
}
