//! What the suite prints and writes, read by the clients apps really use
//! (issue 25): every `uis db creds` format, every URL of
//! `uis db configure --json` and `uis jwt mint --write-env` against a table of
//! `.env` files as people have them. The readers: the machine's psql (libpq)
//! and bash, and, installed once per CI run by `scripts/clients` (a cache
//! outside the repository), psycopg 3 (with its own libpq), SQLAlchemy,
//! python-dotenv, node-postgres, pg-connection-string, dotenv, dotenv-expand
//! and Next.js's `@next/env`. Each is run once per table
//! (`clients/read.py`, `clients/read.js`), not once per case.
//!
//! Not for: the formats' shapes (tests/e2e/tests/creds.rs) or the `.env`
//! editor's own rules (the unit tests and the fuzz tests of uis-core).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use uis_e2e::{Env, base64_encode, output, psql_path};

/// The installed clients (`scripts/clients`).
struct Clients {
    python: PathBuf,
    node_path: PathBuf,
}

/// Where `scripts/clients` installs, in its order: `UIS_CLIENTS_CACHE`,
/// `/var/cache/uis/clients` (as root), `$XDG_CACHE_HOME` or `~/.cache`.
fn cache_candidates() -> Vec<PathBuf> {
    let mut c = Vec::new();
    if let Some(d) = std::env::var_os("UIS_CLIENTS_CACHE") {
        c.push(PathBuf::from(d));
        return c;
    }
    c.push(PathBuf::from("/var/cache/uis/clients"));
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME") {
        c.push(PathBuf::from(x).join("uis/clients"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        c.push(PathBuf::from(h).join(".cache/uis/clients"));
    }
    c
}

/// The clients, or `None` after saying loudly why they are skipped: the
/// one allowed case is `scripts/clients` having recorded that the machine
/// has no network to the registries; otherwise a missing install fails
/// under CI.
fn clients() -> Option<Clients> {
    for dir in cache_candidates() {
        if dir.join("READY").is_file() {
            return Some(Clients {
                python: dir.join("venv/bin/python"),
                node_path: dir.join("node/node_modules"),
            });
        }
        if let Ok(why) = std::fs::read_to_string(dir.join("OFFLINE")) {
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! SKIPPING the client tests: scripts/clients recorded {}\n\
                 !!! ({}): psycopg, SQLAlchemy, python-dotenv, pg, dotenv... were NOT run\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
                why.trim(),
                dir.join("OFFLINE").display()
            );
            return None;
        }
    }
    uis_e2e::missing("the real clients (run scripts/clients to install them)");
    None
}

impl Clients {
    /// Runs `clients/read.py` and `clients/read.js` over `jobs` (one
    /// process each) and returns, per job, both answers merged.
    fn read(&self, env: &Env, jobs: &[Value]) -> Vec<BTreeMap<String, Value>> {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
        let file = env.path(&format!("jobs-{}.json", uis_harness::pg::random_alnum(6)));
        std::fs::write(&file, serde_json::to_string(jobs).unwrap()).unwrap();
        let py = output(
            Command::new(&self.python)
                .arg(here.join("read.py"))
                .arg(&file)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", env.dir.path())
                .stdin(Stdio::null()),
        );
        assert_eq!(py.code, 0, "read.py failed: {}", py.stderr);
        let js = output(
            Command::new("node")
                .arg(here.join("read.js"))
                .arg(&file)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", env.dir.path())
                .env("NODE_PATH", &self.node_path)
                .stdin(Stdio::null()),
        );
        assert_eq!(js.code, 0, "read.js failed: {}", js.stderr);
        let py: Vec<BTreeMap<String, Value>> = serde_json::from_str(&py.stdout).unwrap();
        let js: Vec<BTreeMap<String, Value>> = serde_json::from_str(&js.stdout).unwrap();
        py.into_iter()
            .zip(js)
            .map(|(mut a, b)| {
                a.extend(b);
                a
            })
            .collect()
    }
}

/// `{"ok": V}` → V, else a panic naming the reader and its error.
#[track_caller]
fn ok<'a>(answers: &'a BTreeMap<String, Value>, reader: &str, what: &str) -> &'a Value {
    let a = answers
        .get(reader)
        .unwrap_or_else(|| panic!("{what}: no answer from {reader}"));
    match a.get("ok") {
        Some(v) => v,
        None => panic!("{what}: {reader} failed: {}", a["error"]),
    }
}

/// A stored role with `password` (LOGIN, CONNECT on the app's database),
/// the way `uis db configure` leaves one in the credential store.
struct Role {
    name: String,
    password: String,
}

/// Passwords with every printable ASCII character, whitespace of each
/// kind libpq splits on, leading and trailing blanks, a non-ASCII letter,
/// and a generated one.
fn passwords() -> Vec<String> {
    let printable: String = (0x20u8..=0x7e).map(char::from).collect();
    vec![
        format!("{printable}é"),
        "tab\there\nnew line 'single' \"double\" back\\slash é".to_string(),
        "  blanks around  ".to_string(),
        "%41%zz@:/?#[]&=+;,$HOME`id`".to_string(),
        uis_harness::pg::random_alnum(32),
    ]
}

/// Creates an app `app` by hand (owner = first role) with one LOGIN role
/// per password, each stored in the app's credential-store Secret.
fn app_with_roles(env: &Env, app: &str) -> (String, Vec<Role>) {
    let db = format!("{}_db", app.replace('-', "_"));
    let roles: Vec<Role> = passwords()
        .into_iter()
        .enumerate()
        .map(|(i, password)| Role {
            name: format!("{}_r{i}", app.replace('-', "_")),
            password,
        })
        .collect();
    let mut c = env.pg.connect("postgres");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\""))
        .unwrap();
    for r in &roles {
        c.batch_execute(&format!(
            "DROP ROLE IF EXISTS \"{0}\"; CREATE ROLE \"{0}\" LOGIN PASSWORD {1}",
            r.name,
            uis_core::app::quote_literal(&r.password)
        ))
        .unwrap();
    }
    c.batch_execute(&format!(
        "CREATE DATABASE \"{db}\" OWNER \"{}\"",
        roles[0].name
    ))
    .unwrap();
    let record = json!({
        "app": app, "database": db, "owner": roles[0].name,
        "schemas": [], "extensions": [], "roles": {},
        "created_roles": roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
    });
    let mut data = serde_json::Map::new();
    data.insert(
        "app.json".into(),
        base64_encode(record.to_string().as_bytes()).into(),
    );
    for r in &roles {
        data.insert(
            format!("password.{}", r.name),
            base64_encode(r.password.as_bytes()).into(),
        );
    }
    env.standin.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("uis-db-{app}"), "namespace": "default",
            "labels": {"app.kubernetes.io/managed-by": "uis", "app.kubernetes.io/instance": app,
                       "app.kubernetes.io/component": "db-credentials"}},
        "type": "Opaque", "data": data,
    }));
    (db, roles)
}

/// `uis-db-creds APP --role ROLE --format FORMAT --local-address ADDR`.
fn creds(env: &Env, app: &str, role: &Role, format: &str, local: &str) -> uis_e2e::Out {
    let out = env.run(
        "uis-db-creds",
        &[
            app,
            "--role",
            &role.name,
            "--format",
            format,
            "--local-address",
            local,
        ],
    );
    out.no_secret_on_stderr(&[&role.password]);
    out
}

/// psql (the machine's libpq) with a clean environment plus `vars`.
fn psql_as(args: &[&str], vars: &[(&str, &str)]) -> uis_e2e::Out {
    let mut c = Command::new(psql_path());
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .args(args)
        .args([
            "-X",
            "-At",
            "-c",
            "select current_user || '@' || current_database()",
        ])
        .stdin(Stdio::null());
    output(&mut c)
}

#[test]
fn every_creds_format_is_read_exactly_and_logs_in() {
    let Some(clients) = clients() else { return };
    let env = Env::new();
    let app = "cli-creds";
    let (db, roles) = app_with_roles(&env, app);
    let local = format!("127.0.0.1:{}", env.pg.port);
    let port = env.pg.port.to_string();
    let mut jobs = Vec::new();
    // (job index, role index, what the job checks)
    let mut expect: Vec<(usize, usize, &str)> = Vec::new();
    let mut env_files = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        let who = format!("{}@{db}", r.name);
        let text = |f: &str| {
            let o = creds(&env, app, r, f, &local);
            o.ok();
            o.stdout.strip_suffix('\n').unwrap().to_string()
        };
        let url = text("url");
        // libpq itself (psql) with the URL and the keyword string.
        for conn in [url.clone(), text("libpq")] {
            let q = psql_as(&[&conn], &[]);
            assert_eq!(
                (q.code, q.stdout.trim()),
                (0, who.as_str()),
                "psql {conn:?}: {}",
                q.stderr
            );
        }
        expect.push((jobs.len(), i, "url"));
        jobs.push(json!({"kind": "url", "url": url, "login": true}));
        expect.push((jobs.len(), i, "libpq"));
        jobs.push(json!({"kind": "conninfo", "conninfo": text("libpq"), "login": true}));
        expect.push((jobs.len(), i, "jdbc"));
        jobs.push(json!({"kind": "url", "url": text("jdbc"), "login": false}));
        let json_out: Value = serde_json::from_str(&text("json")).unwrap();
        assert_eq!(json_out["password"], r.password.as_str());
        expect.push((jobs.len(), i, "json"));
        jobs.push(json!({"kind": "json", "json": json_out}));
        expect.push((jobs.len(), i, "json-url"));
        jobs.push(json!({"kind": "url", "url": json_out["local"]["database_url"], "login": true}));
        // pgpass: psql, psycopg and node-postgres find the password in it.
        let pgpass = creds(&env, app, r, "pgpass", &local);
        if r.password.contains('\n') {
            pgpass.expect_code(2);
            assert!(
                pgpass.stderr.contains("password contains a line break")
                    && pgpass
                        .stderr
                        .contains("--format json, url, env, libpq or jdbc"),
                "{}",
                pgpass.stderr
            );
        } else {
            pgpass.ok();
            let file = env.path(&format!("pgpass-{i}"));
            std::fs::write(&file, &pgpass.stdout).unwrap();
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            let q = psql_as(
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-d",
                    &db,
                    "-U",
                    &r.name,
                    "-w",
                ],
                &[("PGPASSFILE", file.to_str().unwrap())],
            );
            assert_eq!(
                (q.code, q.stdout.trim()),
                (0, who.as_str()),
                "psql with pgpass {i}: {}",
                q.stderr
            );
            expect.push((jobs.len(), i, "pgpass"));
            jobs.push(json!({"kind": "pgpass", "file": file, "host": "127.0.0.1",
                "port": env.pg.port, "dbname": db, "user": r.name}));
        }
        env_files.push(text("env"));
    }

    // The documented line, in a clean bash: psql sees the variables, and
    // so do the Python and Node clients started from that shell.
    let script = env.path("eval-env.sh");
    let mut sh = String::from("set -u\n");
    for (i, e) in env_files.iter().enumerate() {
        let f = env.path(&format!("creds-{i}.env"));
        std::fs::write(&f, e).unwrap();
        sh.push_str(&format!(
            "( eval \"$(cat '{0}')\"; psql -X -At -c \"select current_user || '@' || current_database()\"; env -0 > '{0}.environ' )\n",
            f.display()
        ));
    }
    std::fs::write(&script, sh).unwrap();
    let psql_dir = psql_path().parent().unwrap().to_path_buf();
    let b = output(
        Command::new("bash")
            .arg(&script)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", psql_dir.display()))
            .stdin(Stdio::null()),
    );
    let logins: Vec<&str> = b.stdout.lines().collect();
    let want: Vec<String> = roles.iter().map(|r| format!("{}@{db}", r.name)).collect();
    assert_eq!(
        logins, want,
        "eval \"$(uis db creds ... --format env)\"; psql: {}",
        b.stderr
    );
    for (i, _) in roles.iter().enumerate() {
        let raw = std::fs::read(env.path(&format!("creds-{i}.env.environ"))).unwrap();
        let environ: BTreeMap<String, String> = raw
            .split(|b| *b == 0)
            .filter(|v| !v.is_empty())
            .filter_map(|v| {
                let s = String::from_utf8(v.to_vec()).unwrap();
                let (k, v) = s.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect();
        assert_eq!(environ["PGPASSWORD"], roles[i].password, "env {i}");
        expect.push((jobs.len(), i, "environ"));
        jobs.push(json!({"kind": "environ", "environ": environ}));
    }

    // IPv6: every URL form brackets the address; the parsers agree on it.
    let v6 = format!("[::1]:{}", env.pg.port);
    let r0 = &roles[0];
    let v6_url = creds(&env, app, r0, "url", &v6)
        .stdout
        .trim_end()
        .to_string();
    let v6_jdbc = creds(&env, app, r0, "jdbc", &v6)
        .stdout
        .trim_end()
        .to_string();
    let v6_libpq = creds(&env, app, r0, "libpq", &v6)
        .stdout
        .trim_end()
        .to_string();
    assert!(
        v6_url.contains(&format!("@[::1]:{}/", env.pg.port)),
        "{v6_url}"
    );
    assert!(
        v6_jdbc.starts_with(&format!("jdbc:postgresql://[::1]:{}/", env.pg.port)),
        "{v6_jdbc}"
    );
    let v6_jobs = [
        json!({"kind": "url", "url": v6_url, "login": false}),
        json!({"kind": "url", "url": v6_jdbc, "login": false}),
        json!({"kind": "conninfo", "conninfo": v6_libpq, "login": false}),
    ];
    let first_v6 = jobs.len();
    jobs.extend(v6_jobs);

    let answers = clients.read(&env, &jobs);
    for (j, i, what) in expect {
        let r = &roles[i];
        let who = Value::from(format!("{}@{db}", r.name));
        let a = &answers[j];
        let ctx = format!("{what} of role {i}");
        match what {
            "url" | "json-url" => {
                let libpq = ok(a, "libpq", &ctx);
                assert_eq!(libpq["password"], r.password.as_str(), "{ctx}: libpq");
                assert_eq!(libpq["user"], r.name.as_str(), "{ctx}: libpq");
                assert_eq!(libpq["dbname"], db.as_str(), "{ctx}: libpq");
                let sa = ok(a, "sqlalchemy", &ctx);
                assert_eq!(sa["password"], r.password.as_str(), "{ctx}: SQLAlchemy");
                assert_eq!(sa["username"], r.name.as_str(), "{ctx}: SQLAlchemy");
                assert_eq!(sa["database"], db.as_str(), "{ctx}: SQLAlchemy");
                let pcs = ok(a, "pg-connection-string", &ctx);
                assert_eq!(
                    pcs["password"],
                    r.password.as_str(),
                    "{ctx}: pg-connection-string"
                );
                assert_eq!(pcs["user"], r.name.as_str(), "{ctx}: pg-connection-string");
                for login in ["psycopg_login", "sqlalchemy_login", "pg_login"] {
                    assert_eq!(ok(a, login, &ctx), &who, "{ctx}: {login}");
                }
            }
            "libpq" => {
                assert_eq!(
                    ok(a, "libpq", &ctx)["password"],
                    r.password.as_str(),
                    "{ctx}"
                );
                assert_eq!(ok(a, "psycopg_login", &ctx), &who, "{ctx}");
            }
            "jdbc" => {
                let u = ok(a, "whatwg", &ctx);
                assert_eq!(u["query"]["password"], r.password.as_str(), "{ctx}");
                assert_eq!(u["query"]["user"], r.name.as_str(), "{ctx}");
                assert_eq!(u["database"], db.as_str(), "{ctx}");
            }
            "json" => {
                assert_eq!(ok(a, "psycopg_login", &ctx), &who, "{ctx}");
                assert_eq!(ok(a, "pg_login", &ctx), &who, "{ctx}");
            }
            "pgpass" => {
                assert_eq!(ok(a, "psycopg_login", &ctx), &who, "{ctx}");
                assert_eq!(ok(a, "pg_login", &ctx), &who, "{ctx}");
            }
            "environ" => {
                for login in ["psycopg_login", "database_url_login", "pg_login"] {
                    assert_eq!(ok(a, login, &ctx), &who, "{ctx}: {login}");
                }
            }
            other => unreachable!("{other}"),
        }
    }
    let port = Value::from(env.pg.port.to_string());
    let (url, jdbc, libpq) = (
        &answers[first_v6],
        &answers[first_v6 + 1],
        &answers[first_v6 + 2],
    );
    assert_eq!(ok(url, "libpq", "IPv6 url")["host"], "::1");
    assert_eq!(ok(url, "libpq", "IPv6 url")["port"], port);
    assert_eq!(ok(url, "sqlalchemy", "IPv6 url")["host"], "::1");
    assert_eq!(ok(url, "sqlalchemy", "IPv6 url")["port"], env.pg.port);
    assert_eq!(ok(url, "pg-connection-string", "IPv6 url")["host"], "::1");
    assert_eq!(ok(url, "pg-connection-string", "IPv6 url")["port"], port);
    assert_eq!(
        ok(url, "libpq", "IPv6 url")["password"],
        r0.password.as_str()
    );
    assert_eq!(ok(jdbc, "whatwg", "IPv6 jdbc")["host"], "[::1]");
    assert_eq!(ok(jdbc, "whatwg", "IPv6 jdbc")["port"], port);
    assert_eq!(ok(libpq, "libpq", "IPv6 libpq")["host"], "::1");
    assert_eq!(
        ok(libpq, "libpq", "IPv6 libpq")["password"],
        r0.password.as_str()
    );
}

#[test]
fn every_url_of_configure_json_is_read_exactly_and_logs_in() {
    let Some(clients) = clients() else { return };
    let env = Env::new();
    let local = format!("127.0.0.1:{}", env.pg.port);
    let first = env.run(
        "uis-db-configure",
        &[
            "cli-conf",
            "--with-roles",
            "postgrest",
            "--local-address",
            &local,
            "--json",
        ],
    );
    first.ok();
    let v6 = env.run(
        "uis-db-configure",
        &[
            "cli-conf",
            "--with-roles",
            "postgrest",
            "--local-address",
            &format!("[::1]:{}", env.pg.port),
            "--json",
        ],
    );
    v6.ok();
    // Every postgresql:// string anywhere in the output.
    fn urls(v: &Value, path: String, out: &mut Vec<(String, String)>) {
        match v {
            Value::String(s) if s.starts_with("postgres") && s.contains("://") => {
                out.push((path, s.clone()))
            }
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| urls(v, format!("{path}.{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| urls(v, format!("{path}[{i}]"), out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    urls(&first.json(), String::new(), &mut found);
    let mut found_v6 = Vec::new();
    urls(&v6.json(), String::new(), &mut found_v6);
    assert!(found.len() >= 2, "{found:?}");
    assert_eq!(found.len(), found_v6.len());
    // `.local` is UIS's form (host.docker.internal, for containers); the
    // suite's own local form, which --local-address sets, is `.localhost`.
    for (path, url) in found_v6.iter().filter(|(p, _)| p.starts_with(".localhost")) {
        assert!(
            url.contains(&format!("@[::1]:{}/", env.pg.port)),
            "{path}: {url:?}"
        );
    }
    let mut jobs = Vec::new();
    for (path, url) in found.iter().chain(&found_v6) {
        let login = path.starts_with(".localhost") && url.contains("@127.0.0.1:");
        jobs.push(json!({"kind": "url", "url": url, "login": login}));
    }
    let answers = clients.read(&env, &jobs);
    for ((path, url), a) in found.iter().chain(&found_v6).zip(&answers) {
        let libpq = ok(a, "libpq", path);
        let sa = ok(a, "sqlalchemy", path);
        let pcs = ok(a, "pg-connection-string", path);
        // The three parsers agree with each other on every field.
        assert_eq!(libpq["password"], sa["password"], "{path}");
        assert_eq!(pcs["password"], sa["password"], "{path}");
        assert_eq!(libpq["host"], sa["host"], "{path}");
        assert_eq!(pcs["host"], sa["host"], "{path}");
        assert_eq!(libpq["user"], sa["username"], "{path}");
        assert_eq!(libpq["dbname"], sa["database"], "{path}");
        if url.contains("[::1]") {
            assert_eq!(sa["host"], "::1", "{path}: {url:?}");
        }
        if a.contains_key("psycopg_login") {
            let who = ok(a, "psycopg_login", path);
            assert_eq!(who, ok(a, "sqlalchemy_login", path), "{path}");
            assert_eq!(who, ok(a, "pg_login", path), "{path}");
            let q = psql_as(&[url], &[]);
            assert_eq!(
                q.stdout.trim(),
                who.as_str().unwrap(),
                "psql {path}: {}",
                q.stderr
            );
        }
    }
    assert!(
        answers
            .iter()
            .filter(|a| a.contains_key("psycopg_login"))
            .count()
            >= 1,
        "no local URL logged in: {found:?}"
    );
}

/// The keys `uis jwt mint --write-env` manages.
const MANAGED: [&str; 4] = [
    "POSTGREST_URL",
    "JWT_SECRET",
    "POSTGREST_ANON_JWT",
    "POSTGREST_STAFF_JWT",
];

/// The `.env` readers, as named in the answers (`bash` is `set -a; . FILE`).
const DOTENV_READERS: [&str; 5] = ["dotenv", "dotenv-expand", "next", "python-dotenv", "bash"];

/// A starting `.env` as people have them.
struct StartFile {
    name: &'static str,
    /// `None`: no file yet.
    text: Option<&'static str>,
    /// A warning `--write-env` must give about it before the edit.
    warns: Option<&'static str>,
    /// Readers that cannot read the written values exactly in such a file
    /// (the warning says why).
    inexact: &'static [&'static str],
    /// Readers whose reading of the other keys an edit may change, because
    /// they already misread the file (the warning says why).
    misread: &'static [&'static str],
}

fn start_files() -> Vec<StartFile> {
    let f = |name, text, warns, inexact| StartFile {
        name,
        text: Some(text),
        warns,
        inexact,
        misread: &[],
    };
    vec![
        StartFile {
            name: "missing",
            text: None,
            warns: None,
            inexact: &[],
            misread: &[],
        },
        f("empty", "", None, &[]),
        f(
            "comments-export-quotes",
            "# my app\n\nexport NODE_ENV=production\nNAME='single quoted'  # a comment\nTITLE=\"double quoted\"\nJWT_SECRET=old # rotated by uis\n  export POSTGREST_URL='http://old'\n",
            None,
            &[],
        ),
        f(
            "variables",
            "BASE=http://example.test\nAPI=${BASE}/api\nBARE=$BASE/x\nLITERAL='$BASE'\n",
            Some("`$` variable"),
            &[],
        ),
        f(
            "multi-line",
            "CERT=\"-----BEGIN X-----\nabc\n-----END X-----\"\nKEY='line one\nline two'\nPOSTGREST_ANON_JWT=\"old\nvalue\"\nAFTER=1\n",
            None,
            &[],
        ),
        f(
            "crlf",
            "A=1\r\nJWT_SECRET=old\r\nB='x y'\r\n",
            Some("CRLF line endings"),
            &["bash"],
        ),
        f(
            "crlf-no-final-newline",
            "A=1\r\nB=2",
            Some("CRLF line endings"),
            &["bash"],
        ),
        f("bom-comment", "\u{feff}# settings\nA=1\n", None, &[]),
        f(
            "bom-key",
            "\u{feff}FIRST=1\nSECOND=2\n",
            Some("byte-order mark"),
            &[],
        ),
        f(
            "duplicates",
            "JWT_SECRET=a\nDUP=1\nJWT_SECRET=b\nDUP=2\nPOSTGREST_URL=u\nexport POSTGREST_URL=v\n",
            None,
            &[],
        ),
        f("no-final-newline", "A=1\nB='two'", None, &[]),
        // python-dotenv reads `\'` as an escaped quote: WIN runs on until
        // the next `'` in the file, wherever the edit puts one.
        StartFile {
            misread: &["python-dotenv"],
            ..f(
                "windows-path",
                "WIN='C:\\dir\\'\nNEXT=1\n",
                Some("backslash in single quotes"),
                &["python-dotenv"],
            )
        },
        f(
            "unquoted-specials",
            "HASH=x#y\nSPACED = 1\nTPL=`hello`\n",
            Some("inside an unquoted value"),
            &[],
        ),
    ]
}

/// JWT secrets (32+ characters, as PostgREST wants): every printable ASCII
/// character but `$` and `'` with a tab, a newline and a non-ASCII letter
/// (single quotes carry it); every one but `$`, `"`, `\` and the backtick,
/// with a `'` (double quotes carry it); and a generated one (bare).
fn writable_secrets() -> Vec<String> {
    let printable = |skip: &str| -> String {
        (0x20u8..=0x7e)
            .map(char::from)
            .filter(|c| !skip.contains(*c))
            .collect()
    };
    vec![
        format!("{}\tnew\nline é", printable("$'")),
        format!("{} é\nx", printable("$\"\\`")),
        uis_harness::pg::random_alnum(40),
    ]
}

/// Secrets no quoting carries to every reader, and the character the
/// refusal must name.
fn unwritable_secrets() -> Vec<(String, &'static str)> {
    vec![
        (
            format!(
                "starts-like-a-secret-{}-$HOME",
                uis_harness::pg::random_alnum(8)
            ),
            "`$`",
        ),
        (
            format!("it's \"quoted\" {}", uis_harness::pg::random_alnum(24)),
            "`\"`",
        ),
        (
            format!("carriage\rreturn {}", uis_harness::pg::random_alnum(24)),
            "carriage return",
        ),
    ]
}

/// Sets the app's deployed JWT secret (Secret postgrest/APP-postgrest).
fn set_jwt_secret(env: &Env, app: &str, secret: &str) {
    let name = format!("{app}-postgrest");
    let mut s = env
        .standin
        .get("v1", "Secret", Some("postgrest"), &name)
        .expect("the PostgREST Secret");
    s["data"]["PGRST_JWT_SECRET"] = base64_encode(secret.as_bytes()).into();
    assert!(!env.standin.put(s).is_null());
}

/// Every key and value each `.env` reader sees in the file `dir/.env`:
/// one bash for all `dirs`, plus the Python and Node readers.
fn read_env_files(
    env: &Env,
    clients: &Clients,
    dirs: &[PathBuf],
) -> Vec<BTreeMap<String, Option<BTreeMap<String, Value>>>> {
    let jobs: Vec<Value> = dirs
        .iter()
        .map(|d| json!({"kind": "dotenv", "path": d.join(".env")}))
        .collect();
    let answers = clients.read(env, &jobs);
    // bash: `set -a; . ./.env` in a subshell per file, its environment
    // dumped (minus what bash sets itself).
    let script = env.path(&format!("source-{}.sh", uis_harness::pg::random_alnum(6)));
    let mut sh = String::new();
    for d in dirs {
        sh.push_str(&format!(
            "( cd '{0}' && set -a && . ./.env; env -0 > '{0}.bash' ) >/dev/null 2>&1\n",
            d.display()
        ));
    }
    std::fs::write(&script, sh).unwrap();
    output(
        Command::new("bash")
            .arg(&script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null()),
    );
    let own = ["PWD", "OLDPWD", "SHLVL", "_", "PATH"];
    dirs.iter()
        .zip(answers)
        .map(|(d, a)| {
            let mut per: BTreeMap<String, Option<BTreeMap<String, Value>>> = BTreeMap::new();
            for reader in ["dotenv", "dotenv-expand", "next", "python-dotenv"] {
                let m = a[reader]
                    .get("ok")
                    .and_then(|v| v.as_object())
                    .map(|o| o.clone().into_iter().collect());
                per.insert(reader.to_string(), m);
            }
            let dump = std::fs::read(format!("{}.bash", d.display())).unwrap_or_default();
            let mut m = BTreeMap::new();
            for v in dump.split(|b| *b == 0).filter(|v| !v.is_empty()) {
                let s = String::from_utf8_lossy(v).to_string();
                if let Some((k, v)) = s.split_once('=')
                    && !own.contains(&k)
                {
                    m.insert(k.to_string(), Value::from(v));
                }
            }
            per.insert("bash".to_string(), Some(m));
            per
        })
        .collect()
}

#[test]
fn write_env_is_read_exactly_by_every_dotenv_reader() {
    let Some(clients) = clients() else { return };
    let env = Env::new();
    let app = "cli-env";
    env.run("uis-db-configure", &[app, "--schemas", "app", "--json"])
        .ok();
    env.run("uis-postgrest-deploy", &[app, "--json"]).ok();
    let direct = format!("127.0.0.1:{}", env.pg.port);
    let files = start_files();
    let secrets = writable_secrets();
    // (file, secret index, case dir)
    let mut cases = Vec::new();
    let mut dirs = Vec::new();
    for (si, secret) in secrets.iter().enumerate() {
        set_jwt_secret(&env, app, secret);
        for (fi, f) in files.iter().enumerate() {
            let dir = env.path(&format!("case-{si}-{fi}"));
            let before = dir.join("before");
            let after = dir.join("after");
            std::fs::create_dir_all(&before).unwrap();
            std::fs::create_dir_all(&after).unwrap();
            if let Some(t) = f.text {
                std::fs::write(before.join(".env"), t).unwrap();
                std::fs::write(after.join(".env"), t).unwrap();
            } else {
                // Read as an empty file by every reader.
                std::fs::write(before.join(".env"), "").unwrap();
            }
            let target = after.join(".env");
            // --direct: straight to the server, no port-forward per run.
            let out = env.run(
                "uis-jwt-mint",
                &[
                    app,
                    "--write-env",
                    target.to_str().unwrap(),
                    "--direct",
                    &direct,
                ],
            );
            out.ok().no_secret_on_stderr(&[secret]);
            let warned = out.stderr.contains("readers (");
            match f.warns {
                Some(w) => assert!(
                    out.stderr.contains(w),
                    "{}: no warning {w:?}: {}",
                    f.name,
                    out.stderr
                ),
                None => assert!(!warned, "{}: warned: {}", f.name, out.stderr),
            }
            cases.push((fi, si));
            dirs.push(before);
            dirs.push(after);
        }
    }
    let read = read_env_files(&env, &clients, &dirs);
    let in_cluster = uis_postgrest::in_cluster_url(app);
    let mut checked = 0;
    for (n, &(fi, si)) in cases.iter().enumerate() {
        let f = &files[fi];
        let (before, after) = (&read[2 * n], &read[2 * n + 1]);
        let ctx = format!("file {} with secret {si}", f.name);
        let mut tokens: BTreeMap<&str, Value> = BTreeMap::new();
        for reader in DOTENV_READERS {
            let (Some(b), Some(a)) = (&before[reader], &after[reader]) else {
                panic!("{ctx}: {reader} cannot read the file: {before:?} {after:?}");
            };
            // Every other key as before.
            let others = |m: &BTreeMap<String, Value>| -> BTreeMap<String, Value> {
                m.iter()
                    .filter(|(k, _)| !MANAGED.contains(&k.trim_start_matches('\u{feff}')))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            };
            if !f.misread.contains(&reader) {
                assert_eq!(
                    others(a),
                    others(b),
                    "{ctx}: {reader} reads the other keys differently after the edit"
                );
            }
            if f.inexact.contains(&reader) {
                continue;
            }
            // The suite's values exactly.
            assert_eq!(
                a.get("JWT_SECRET"),
                Some(&Value::from(secrets[si].as_str())),
                "{ctx}: {reader}"
            );
            let url = a
                .get("POSTGREST_URL")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            assert!(
                url == in_cluster || url.starts_with("http://") || url.starts_with("https://"),
                "{ctx}: {reader}: {url:?}"
            );
            for k in ["POSTGREST_ANON_JWT", "POSTGREST_STAFF_JWT", "POSTGREST_URL"] {
                let v = a.get(k).cloned().unwrap_or(Value::Null);
                assert!(
                    k == "POSTGREST_URL"
                        || v.as_str()
                            .is_some_and(|t| t.starts_with("eyJ") && t.split('.').count() == 3),
                    "{ctx}: {reader}: {k} = {v}"
                );
                let agreed = tokens.entry(k).or_insert_with(|| v.clone());
                assert_eq!(&v, agreed, "{ctx}: {reader} reads {k} unlike the others");
            }
            checked += 1;
        }
    }
    assert!(checked >= cases.len() * 4, "{checked}");
}

#[test]
fn write_env_refuses_a_secret_no_quoting_carries() {
    let env = Env::new();
    let app = "cli-refuse";
    env.run("uis-db-configure", &[app, "--schemas", "app", "--json"])
        .ok();
    env.run("uis-postgrest-deploy", &[app, "--json"]).ok();
    let file = env.path(".env");
    let before = "# keep\nA=1\r\nJWT_SECRET=old";
    for (secret, names) in unwritable_secrets() {
        set_jwt_secret(&env, app, &secret);
        std::fs::write(&file, before).unwrap();
        let out = env.run(
            "uis-jwt-mint",
            &[app, "--write-env", file.to_str().unwrap()],
        );
        out.expect_code(1).no_secret_on_stderr(&[&secret]);
        assert!(
            out.stderr.contains(names) && out.stderr.contains("JWT_SECRET"),
            "{names}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("--rotate-jwt-secret"), "{}", out.stderr);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            before,
            "{names}: file changed"
        );
    }
    // --env-name names the --format env variable; --write-env's are fixed.
    let out = env.run(
        "uis-jwt-mint",
        &[
            app,
            "--write-env",
            file.to_str().unwrap(),
            "--env-name",
            "X",
        ],
    );
    out.expect_code(2);
    assert!(out.stderr.contains("--env-name"), "{}", out.stderr);
}
