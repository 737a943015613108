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
    for (path, url) in found_v6.iter().filter(|(p, _)| p.contains("local")) {
        assert!(
            url.contains(&format!("@[::1]:{}/", env.pg.port)),
            "{path}: {url:?}"
        );
    }
    let mut jobs = Vec::new();
    for (path, url) in found.iter().chain(&found_v6) {
        let login = path.contains("local") && url.contains("@127.0.0.1:");
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
