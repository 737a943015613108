//! TLS to PostgreSQL (issue 22): every sslmode of libpq against a real
//! server with `ssl = on` and a `hostssl`-only pg_hba, and against one
//! without TLS, with certificates made here (a CA of the test's own, a
//! wrong CA, certificates for the right and a wrong host name). psql is the
//! reference: for each case it runs with the same sslmode and sslrootcert
//! on the same server, and the suite must succeed or fail as psql does
//! (and, when connected, be encrypted exactly when psql is).

use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use uis_e2e::{Env, Out, Pg, output, psql_path};
use uis_harness::tls::{Issued, TestCa, hba};

/// The in-cluster name of the stand-in's PostgreSQL Service.
const SERVICE_HOST: &str = "postgresql.default.svc.cluster.local";

/// Whether the session itself is encrypted (`t`/`f`), asked by both clients.
const SELECT_SSL: &str = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";

/// A TLS server of the test's own with `server`'s certificate and
/// `hba_lines`, its env, and the CA files `ca.crt` (the right one) and
/// `wrong-ca.crt` in the test's directory.
struct World {
    env: Env,
    ca: PathBuf,
    wrong_ca: PathBuf,
}

fn world(server_names: &[&str], hba_lines: Option<&str>) -> (World, TestCa) {
    let pg: &'static Pg = Box::leak(Box::new(Pg::start().expect("start PostgreSQL")));
    let ca = TestCa::new("uis-test-ca").unwrap();
    if let Some(lines) = hba_lines {
        pg.enable_tls(&ca.server(server_names).unwrap(), Some(&ca), lines)
            .expect("turn TLS on");
    }
    let env = Env::over(pg);
    let ca_path = env.path("ca.crt");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let wrong = env.path("wrong-ca.crt");
    std::fs::write(&wrong, TestCa::new("wrong-ca").unwrap().pem()).unwrap();
    (
        World {
            env,
            ca: ca_path,
            wrong_ca: wrong,
        },
        ca,
    )
}

/// `select ssl` of the session, as the suite's psql connects with `args`
/// (`--direct HOST:PORT` added when `direct` names a host).
fn uis_ssl(w: &World, direct: Option<&str>, args: &[&str]) -> (Out, Option<bool>) {
    let port = w.env.pg.port.to_string();
    let d = direct.map(|h| format!("{h}:{port}"));
    let mut all: Vec<&str> = vec!["--as", "admin", "--format", "json", "-c", SELECT_SSL];
    if let Some(d) = &d {
        all.extend(["--direct", d]);
    }
    all.extend(args);
    let out = w.env.run("uis-db-psql", &all);
    let ssl = (out.code == 0).then(|| out.json()["ssl"].as_bool().expect("ssl column"));
    (out, ssl)
}

/// The same through the real psql (libpq) at `host`, with `conninfo`
/// keywords added (`sslmode=... sslrootcert=...`).
fn psql_ssl(w: &World, host: &str, conninfo: &str) -> (Out, Option<bool>) {
    let pg = w.env.pg;
    let dsn = format!(
        "host={host} port={} user=postgres dbname=postgres connect_timeout=10 {conninfo}",
        pg.port
    );
    // The admin the suite logs in as (on proxied no superuser).
    psql_ssl_conn(w, &dsn, Some(w.env.admin_password()))
}

/// `select ssl` of the session, as the real psql connects with `conn` (a
/// URL or `keyword=value` string; `password` as PGPASSWORD when given).
/// Every PG* variable of the machine is removed and HOME is the test's, so
/// no `~/.postgresql` of the machine is read.
fn psql_ssl_conn(w: &World, conn: &str, password: Option<&str>) -> (Out, Option<bool>) {
    let mut c = Command::new(psql_path());
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            c.env_remove(k);
        }
    }
    c.args(["-X", "-At", "-c", SELECT_SSL, conn])
        .env("HOME", w.env.dir.path())
        .stdin(Stdio::null());
    if let Some(password) = password {
        c.env("PGPASSWORD", password);
    }
    let out = output(&mut c);
    let ssl = (out.code == 0).then(|| out.stdout.trim() == "t");
    (out, ssl)
}

/// One case: the suite (flags `uis`) and psql (keywords `libpq`) at `host`
/// directly; both connect or both fail; when `want` is `Some(ssl)` they
/// connect with that encryption, when `None` they fail.
#[track_caller]
fn same_as_psql(w: &World, host: &str, uis: &[&str], libpq: &str, want: Option<bool>) {
    let (u, u_ssl) = uis_ssl(w, Some(host), uis);
    let (p, p_ssl) = psql_ssl(w, host, libpq);
    assert_eq!(
        u_ssl, p_ssl,
        "uis {uis:?} and psql `{libpq}` differ\nuis stderr: {}\npsql stderr: {}",
        u.stderr, p.stderr
    );
    assert_eq!(
        u_ssl, want,
        "uis {uis:?}: wanted {want:?}\nstdout: {}\nstderr: {}",
        u.stdout, u.stderr
    );
    if want.is_none() {
        // A refusal is a connection error (exit 1 when the server refused,
        // 2 when it was never reached) with a hint, never a panic.
        assert!(u.code == 1 || u.code == 2, "{}", u.stderr);
        assert!(u.stderr.contains("hint:"), "{}", u.stderr);
    }
}

#[test]
fn each_sslmode_against_a_hostssl_only_server_as_psql() {
    let (w, _) = world(&["localhost", SERVICE_HOST], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let wrong = w.wrong_ca.to_str().unwrap();
    let ip = "127.0.0.1";
    // disable: pg_hba has no line for a plain connection.
    same_as_psql(&w, ip, &["--sslmode", "disable"], "sslmode=disable", None);
    // allow: plain first, refused, then TLS.
    same_as_psql(&w, ip, &["--sslmode", "allow"], "sslmode=allow", Some(true));
    // prefer (the default) and require: TLS, certificate not checked.
    same_as_psql(&w, ip, &[], "", Some(true));
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "prefer"],
        "sslmode=prefer",
        Some(true),
    );
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "require"],
        "sslmode=require",
        Some(true),
    );
    // verify-ca: the chain is checked, the name (127.0.0.1 is not in the
    // certificate) is not.
    let (flags, kw) = (
        ["--sslmode", "verify-ca", "--sslrootcert", ca],
        format!("sslmode=verify-ca sslrootcert={ca}"),
    );
    same_as_psql(&w, ip, &flags, &kw, Some(true));
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "verify-ca", "--sslrootcert", wrong],
        &format!("sslmode=verify-ca sslrootcert={wrong}"),
        None,
    );
    // require with a root certificate is verify-ca (libpq 34.19.1).
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "require", "--sslrootcert", wrong],
        &format!("sslmode=require sslrootcert={wrong}"),
        None,
    );
    // verify-full: the right CA and a name the certificate carries...
    same_as_psql(
        &w,
        "localhost",
        &["--sslmode", "verify-full", "--sslrootcert", ca],
        &format!("sslmode=verify-full sslrootcert={ca}"),
        Some(true),
    );
    // ...but not 127.0.0.1 (a wrong host name), nor a wrong CA.
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "verify-full", "--sslrootcert", ca],
        &format!("sslmode=verify-full sslrootcert={ca}"),
        None,
    );
    same_as_psql(
        &w,
        "localhost",
        &["--sslmode", "verify-full", "--sslrootcert", wrong],
        &format!("sslmode=verify-full sslrootcert={wrong}"),
        None,
    );
    // verify-ca without any root certificate: refused before connecting,
    // as libpq does (no ~/.postgresql/root.crt in the test's HOME).
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "verify-ca"],
        "sslmode=verify-ca",
        None,
    );
}

#[test]
fn messages_name_the_cause_and_the_fix() {
    let (w, _) = world(&["localhost"], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let (out, _) = uis_ssl(&w, Some("127.0.0.1"), &["--sslmode", "disable"]);
    assert!(out.stderr.contains("only over TLS"), "{}", out.stderr);
    let (out, _) = uis_ssl(
        &w,
        Some("127.0.0.1"),
        &["--sslmode", "verify-full", "--sslrootcert", ca],
    );
    assert!(out.stderr.contains("\"127.0.0.1\""), "{}", out.stderr);
    assert!(out.stderr.contains("--tls-server-name"), "{}", out.stderr);
    // --tls-server-name names what the certificate must carry.
    let (out, ssl) = uis_ssl(
        &w,
        Some("127.0.0.1"),
        &[
            "--sslmode",
            "verify-full",
            "--sslrootcert",
            ca,
            "--tls-server-name",
            "localhost",
        ],
    );
    assert_eq!(ssl, Some(true), "{}", out.stderr);
    // PGSSLMODE and PGSSLROOTCERT are read as libpq reads them.
    let out = output(
        w.env
            .cmd("uis-db-psql")
            .args(["--as", "admin", "-c", "select 1", "--direct"])
            .arg(format!("127.0.0.1:{}", w.env.pg.port))
            .env("PGSSLMODE", "verify-full")
            .env("PGSSLROOTCERT", ca),
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = output(
        w.env
            .cmd("uis-db-psql")
            .args(["--as", "admin", "-c", "select 1", "--direct"])
            .arg(format!("localhost:{}", w.env.pg.port))
            .env("PGSSLMODE", "verify-full")
            .env("PGSSLROOTCERT", ca),
    );
    out.ok();
    // A bad value is a usage error naming the values.
    let out = w.env.run(
        "uis-db-psql",
        &["--as", "admin", "-c", "select 1", "--sslmode", "verify"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("verify-full"), "{}", out.stderr);
}

#[test]
fn each_sslmode_against_a_server_without_tls_as_psql() {
    let (w, _) = world(&[], None);
    let ca = w.ca.to_str().unwrap();
    let ip = "127.0.0.1";
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "disable"],
        "sslmode=disable",
        Some(false),
    );
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "allow"],
        "sslmode=allow",
        Some(false),
    );
    same_as_psql(&w, ip, &[], "", Some(false));
    same_as_psql(&w, ip, &["--sslmode", "require"], "sslmode=require", None);
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "verify-full", "--sslrootcert", ca],
        &format!("sslmode=verify-full sslrootcert={ca}"),
        None,
    );
    let (out, _) = uis_ssl(&w, Some(ip), &["--sslmode", "require"]);
    assert!(
        out.stderr.contains("does not support TLS"),
        "{}",
        out.stderr
    );
}

#[test]
fn prefer_falls_back_to_plain_when_the_server_refuses_tls_logins() {
    // ssl on, but pg_hba accepts only plain connections (hostnossl): the
    // login over TLS is refused and libpq's prefer tries again without.
    let (w, _) = world(&["localhost"], Some(hba::NO_SSL));
    let ip = "127.0.0.1";
    same_as_psql(&w, ip, &[], "", Some(false));
    same_as_psql(&w, ip, &["--sslmode", "require"], "sslmode=require", None);
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "allow"],
        "sslmode=allow",
        Some(false),
    );
}

#[test]
fn client_certificates_as_psql() {
    let (w, ca) = world(&["localhost"], Some(hba::CERT));
    let client: Issued = ca.client("postgres").unwrap();
    let cert = w.env.path("client.crt");
    let key = w.env.path("client.key");
    std::fs::write(&cert, &client.cert_pem).unwrap();
    uis_harness::tls::write_private(&key, &client.key_pem).unwrap();
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let ip = "127.0.0.1";
    same_as_psql(&w, ip, &["--sslmode", "require"], "sslmode=require", None);
    let (out, _) = uis_ssl(&w, Some(ip), &["--sslmode", "require"]);
    assert!(out.stderr.contains("--sslcert"), "{}", out.stderr);
    same_as_psql(
        &w,
        ip,
        &["--sslmode", "require", "--sslcert", c, "--sslkey", k],
        &format!("sslmode=require sslcert={c} sslkey={k}"),
        Some(true),
    );
    // A key others can read is refused, as libpq refuses it.
    let open_key = w.env.path("open.key");
    std::fs::write(&open_key, &client.key_pem).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = open_key.to_str().unwrap();
    let (out, _) = uis_ssl(
        &w,
        Some(ip),
        &["--sslmode", "require", "--sslcert", c, "--sslkey", o],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("group or world access"),
        "{}",
        out.stderr
    );
}

#[test]
fn verify_full_through_the_tunnel_checks_the_service_name() {
    // The tunnel's address is 127.0.0.1, but the certificate is checked
    // against the Service's in-cluster name (and sent as SNI).
    let (w, _) = world(&[SERVICE_HOST], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let (out, ssl) = uis_ssl(&w, None, &["--sslmode", "verify-full", "--sslrootcert", ca]);
    assert_eq!(ssl, Some(true), "{}", out.stderr);
    // The CA from a Secret, as CloudNativePG publishes it (<cluster>-ca).
    w.env.standin.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "pgc-ca", "namespace": "default"},
        "data": {"ca.crt": uis_e2e::base64_encode(std::fs::read(&w.ca).unwrap().as_slice())},
    }));
    let (out, ssl) = uis_ssl(
        &w,
        None,
        &["--sslmode", "verify-full", "--sslrootcert-secret", "pgc-ca"],
    );
    assert_eq!(ssl, Some(true), "{}", out.stderr);
    let (out, _) = uis_ssl(
        &w,
        None,
        &[
            "--sslmode",
            "verify-full",
            "--sslrootcert-secret",
            "pgc-ca/tls.crt",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no key \"tls.crt\""), "{}", out.stderr);

    // A certificate for another name is refused through the tunnel.
    let (w, _) = world(&["postgresql.other.svc.cluster.local"], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let (out, ssl) = uis_ssl(&w, None, &["--sslmode", "verify-full", "--sslrootcert", ca]);
    assert_eq!(ssl, None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains(SERVICE_HOST), "{}", out.stderr);
    // verify-ca does not check the name.
    let (out, ssl) = uis_ssl(&w, None, &["--sslmode", "verify-ca", "--sslrootcert", ca]);
    assert_eq!(ssl, Some(true), "{}", out.stderr);
}

#[test]
fn doctor_reports_the_tls_state() {
    let (w, _) = world(&[SERVICE_HOST], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let tls_check = |args: &[&str]| {
        let mut all = vec!["--server", "--json"];
        all.extend(args);
        let out = w.env.run("uis-db-doctor", &all);
        (out.code, out.doctor_check("tls"))
    };
    let (code, c) = tls_check(&["--sslmode", "verify-full", "--sslrootcert", ca]);
    assert_eq!((code, c["status"].as_str()), (0, Some("pass")), "{c}");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains("verified, chain and name") && m.contains(SERVICE_HOST),
        "{m}"
    );
    let (_, c) = tls_check(&[]);
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains("TLS in use") && m.contains("not verified"),
        "{m}"
    );
    // Direct to an address that is not loopback... is not available here;
    // a plain server through the tunnel passes and says so.
    let (w2, _) = world(&[], None);
    let c = w2
        .env
        .run("uis-db-doctor", &["--server", "--json"])
        .doctor_check("tls");
    assert_eq!(c["status"], "pass", "{c}");
    assert!(c["message"].as_str().unwrap().starts_with("no TLS"), "{c}");
}

#[test]
fn creds_carry_the_sslmode_and_psql_connects_with_them() {
    let (w, _) = world(&["localhost"], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let local = format!("localhost:{}", w.env.pg.port);
    let base = ["--admin", "--local-address", &local];
    // Nothing asked: no sslmode in the URL (libpq's default, prefer).
    let out = w
        .env
        .run("uis-db-creds", &[&base[..], &["--format", "url"]].concat());
    out.ok();
    assert!(!out.stdout.contains("sslmode"), "{}", out.stdout);
    let tls = ["--sslmode", "verify-full", "--sslrootcert", ca];
    for format in ["url", "libpq"] {
        let out = w.env.run(
            "uis-db-creds",
            &[&base[..], &tls[..], &["--format", format]].concat(),
        );
        out.ok();
        let conn = out.stdout.trim();
        assert!(
            conn.contains("sslmode") && conn.contains("verify-full"),
            "{conn}"
        );
        // psql reads the same string: encrypted, certificate and name checked.
        let (p, _) = psql_ssl_conn(&w, conn, None);
        p.ok();
        assert_eq!(p.stdout.trim(), "t", "{format}");
    }
    let out = w.env.run(
        "uis-db-creds",
        &[&base[..], &tls[..], &["--format", "env"]].concat(),
    );
    assert!(
        out.stdout.contains("export PGSSLMODE=verify-full\n"),
        "{}",
        out.stdout
    );
    let out = w.env.run(
        "uis-db-creds",
        &[&base[..], &tls[..], &["--format", "pgpass"]].concat(),
    );
    out.ok();
    assert!(!out.stdout.contains("ssl"), "{}", out.stdout);
    assert!(
        out.stderr.contains("PGSSLMODE=verify-full"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_tunnel_url_checks_the_service_name_for_psql() {
    // uis-db-tunnel's URL for verify-full names the Service as host and the
    // local port as hostaddr: psql checks the certificate against the
    // Service's name while connecting to 127.0.0.1.
    let (w, _) = world(&[SERVICE_HOST], Some(hba::SSL_ONLY));
    let ca = w.ca.to_str().unwrap();
    let t = w
        .env
        .tunnel(&["--admin", "--sslmode", "verify-full", "--sslrootcert", ca]);
    let url = t.url();
    assert!(url.contains(&format!("@{SERVICE_HOST}:")), "{url}");
    assert!(
        url.contains("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert="),
        "{url}"
    );
    let (p, ssl) = psql_ssl_conn(&w, &url, None);
    assert_eq!(ssl, Some(true), "{}", p.stderr);
    // The plain URL (no sslmode asked) stays as it was.
    let t2 = w.env.tunnel(&["--admin"]);
    assert!(!t2.url().contains('?'), "{}", t2.url());
}

#[test]
fn a_wrong_password_over_tls_is_reported_as_such() {
    // prefer: the login over TLS fails, the plain retry is refused by the
    // hostssl-only pg_hba; the message is the password's, not pg_hba's.
    let (w, _) = world(&["localhost"], Some(hba::SSL_ONLY));
    w.env.standin.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "wrong-admin", "namespace": "default"},
        "data": {"password": uis_e2e::base64_encode(b"not-the-password-at-all")},
    }));
    let (out, ssl) = uis_ssl(
        &w,
        Some("127.0.0.1"),
        &["--admin-secrets", "wrong-admin/password"],
    );
    assert_eq!(ssl, None);
    assert!(
        out.stderr.contains("password authentication failed"),
        "{}",
        out.stderr
    );
}

#[test]
fn cloudnative_pg_cluster_ca_is_used_for_verify_modes() {
    // CloudNativePG: the read-write Service is `<c>-rw` and the cluster's CA
    // is in Secret `<c>-ca` (key ca.crt). With --sslmode verify-full and no
    // CA given, the suite checks the server against that CA and that name.
    let host = "pg-rw.default.svc.cluster.local";
    let pg: &'static Pg = Box::leak(Box::new(Pg::start().expect("start PostgreSQL")));
    let ca = TestCa::new("cnpg-cluster-ca").unwrap();
    pg.enable_tls(&ca.server(&[host]).unwrap(), Some(&ca), hba::SSL_ONLY)
        .expect("turn TLS on");
    let env = Env::seeded(pg, |s| {
        s.seed_provider(&uis_e2e::ProviderSeed::new(
            "cnpg",
            pg.addr(),
            pg.addr(),
            &pg.password,
        ));
    });
    let select = [
        "--as",
        "admin",
        "--format",
        "json",
        "-c",
        SELECT_SSL,
        "--sslmode",
        "verify-full",
    ];
    // No `pg-ca` Secret yet: refused before connecting, naming the Secret
    // and the flag.
    let out = env.run("uis-db-psql", &select);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("default/pg-ca") && out.stderr.contains("--sslrootcert-secret"),
        "{}",
        out.stderr
    );
    env.standin.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "pg-ca", "namespace": "default", "labels": {"cnpg.io/cluster": "pg"}},
        "data": {"ca.crt": uis_e2e::base64_encode(ca.pem().as_bytes())},
    }));
    let out = env.run("uis-db-psql", &select);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["ssl"], json!(true), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("the server's CA from Secret default/pg-ca"),
        "{}",
        out.stderr
    );
    // A CA given by flag wins over the cluster's: a wrong one is refused.
    let wrong = env.path("wrong-ca.crt");
    std::fs::write(&wrong, TestCa::new("wrong-ca").unwrap().pem()).unwrap();
    let mut with_wrong = select.to_vec();
    with_wrong.extend(["--sslrootcert", wrong.to_str().unwrap()]);
    let out = env.run("uis-db-psql", &with_wrong);
    assert_ne!(out.code, 0, "{}", out.stderr);
    // Without a verifying mode the Secret is not read (nothing printed).
    let out = env.run("uis-db-psql", &select[..6]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("pg-ca"), "{}", out.stderr);
}
