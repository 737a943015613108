//! uis-db-creds and uis-db-tunnel against the stand-in and the real
//! PostgreSQL, read back with the real psql and kubectl (issue: creds,
//! tunnel and the cluster access layer).

use std::process::Stdio;
use std::time::{Duration, Instant};
use uis_e2e::{Env, bin, output};

#[test]
fn admin_password_comes_from_urbalurba_secrets() {
    let env = Env::new();
    let out = env.run("uis-db-creds", &["--admin"]);
    out.ok().no_secret_on_stderr(&[&env.pg.password]);
    let j = out.json();
    assert_eq!(j["password"], env.admin_password());
    assert_eq!(j["username"], "postgres");
    assert_eq!(j["database"], "postgres");
    assert_eq!(
        j["source"],
        "Secret default/urbalurba-secrets key PGPASSWORD"
    );
    assert_eq!(j["local"]["host"], "localhost");
    assert_eq!(j["local"]["port"], 35432);
    assert_eq!(j["cluster"]["host"], "postgresql.default.svc.cluster.local");
    assert!(out.stderr.contains("urbalurba-secrets"), "{}", out.stderr);
    // The same value the real kubectl reads from the cluster.
    if let Some(k) = env.kubectl(&[
        "get",
        "secret",
        "urbalurba-secrets",
        "-n",
        "default",
        "-o",
        "jsonpath={.data.PGPASSWORD}",
    ]) {
        k.ok();
        assert_eq!(
            k.stdout.trim(),
            uis_e2e::base64_encode(env.admin_password().as_bytes())
        );
    }
}

#[test]
fn admin_falls_back_to_the_bitnami_secret_then_fails_naming_both() {
    if uis_e2e::in_cluster_only("the Bitnami chart's Secret postgresql exists only in-cluster") {
        return;
    }
    let env = Env::new();
    assert!(
        env.standin
            .delete("v1", "Secret", Some("default"), "urbalurba-secrets")
    );
    let out = env.run("uis-db-creds", &["--admin"]);
    out.ok().no_secret_on_stderr(&[&env.pg.password]);
    assert_eq!(out.json()["password"], env.pg.password.as_str());
    assert_eq!(
        out.json()["source"],
        "Secret default/postgresql key postgres-password"
    );
    assert!(
        out.stderr.contains("urbalurba-secrets"),
        "says it fell back: {}",
        out.stderr
    );

    assert!(
        env.standin
            .delete("v1", "Secret", Some("default"), "postgresql")
    );
    let out = env.run("uis-db-creds", &["--admin"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("urbalurba-secrets") && out.stderr.contains("default/postgresql"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint:") && out.stderr.contains("kubectl create secret generic"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["status"], "error");
}

#[test]
fn every_format_and_psql_through_the_tunnel() {
    let env = Env::new();
    let (owner, db, password) = env.configure_app_by_hand("creds-fmt");
    let fmt = |f: &str, extra: &[&str]| {
        let mut args = vec!["creds-fmt", "--format", f];
        args.extend_from_slice(extra);
        let o = env.run("uis-db-creds", &args);
        o.ok().no_secret_on_stderr(&[&password]);
        o.stdout.trim_end().to_string()
    };
    let json: serde_json::Value = serde_json::from_str(&fmt("json", &[])).unwrap();
    assert_eq!(json["username"], owner.as_str());
    assert_eq!(json["password"], password.as_str());
    assert_eq!(json["database"], db.as_str());
    assert_eq!(json["role"], "owner");
    assert_eq!(
        fmt("url", &[]),
        format!("postgresql://{owner}:{password}@localhost:35432/{db}")
    );
    assert_eq!(
        fmt("url", &["--cluster"]),
        format!("postgresql://{owner}:{password}@postgresql.default.svc.cluster.local:5432/{db}")
    );
    assert_eq!(
        fmt("pgpass", &[]),
        format!("localhost:35432:{db}:{owner}:{password}")
    );
    assert_eq!(
        fmt("jdbc", &[]),
        format!("jdbc:postgresql://localhost:35432/{db}?user={owner}&password={password}")
    );
    assert_eq!(
        fmt("libpq", &[]),
        format!("host=localhost port=35432 dbname={db} user={owner} password={password}")
    );
    let env_lines = fmt("env", &[]);
    let lines: Vec<&str> = env_lines.lines().collect();
    assert!(
        lines.contains(&format!("export PGUSER={owner}").as_str()),
        "{env_lines}"
    );
    assert!(
        lines.contains(&format!("export PGPASSWORD={password}").as_str()),
        "{env_lines}"
    );
    assert!(
        env_lines.starts_with("export DATABASE_URL=postgresql://"),
        "{env_lines}"
    );

    // psql with the --format url output, pointed at the tunnel's local port.
    let tunnel = env.tunnel(&["creds-fmt"]);
    let port = tunnel.info["port"].as_u64().unwrap().to_string();
    let url = fmt("url", &["--local-address", &format!("127.0.0.1:{port}")]);
    assert_eq!(url, tunnel.url());
    let q = env.psql(&[&url, "-At", "-c", "select current_user || '@' || current_database() || ':' || count(*) from generate_series(1, 5000)"]);
    q.ok();
    assert_eq!(q.stdout.trim(), format!("{owner}@{db}:5000"));
    // Real bytes went through the stand-in's port-forward.
    assert!(
        env.standin.request_count(&format!(
            "/api/v1/namespaces/default/pods/{}/portforward",
            env.pg_pod
        )) >= 1
    );

    // --direct: the same URL shape, straight to the server.
    let direct = format!("127.0.0.1:{}", env.pg.port);
    let url = fmt("url", &["--local-address", &direct]);
    let q = env.psql(&[&url, "-At", "-c", "select current_user"]);
    q.ok();
    assert_eq!(q.stdout.trim(), owner);
}

#[test]
fn admin_url_through_the_tunnel_runs_a_query() {
    let env = Env::new();
    let tunnel = env.tunnel(&["--admin"]);
    let q = env.psql(&[
        &tunnel.url(),
        "-At",
        "-c",
        "select current_setting('is_superuser')",
    ]);
    drop(tunnel);
    q.ok();
    // On the proxied topology `postgres` is no superuser (managed server).
    let want = match env.topology {
        uis_e2e::Topology::InCluster => "on",
        uis_e2e::Topology::Proxied => "off",
    };
    assert_eq!(q.stdout.trim(), want);
}

#[test]
fn bad_app_names_are_usage_errors() {
    let env = Env::new();
    let long = "a".repeat(64);
    // `Railway` is a name UIS allows (an existing app): looked up, not refused.
    for bad in [
        "Rail.way",
        "my app",
        "a;b",
        "a'b",
        "../x",
        "",
        long.as_str(),
    ] {
        let out = env.run("uis-db-creds", &[bad]);
        out.expect_code(2);
        assert!(
            out.stderr.contains("^[a-z][a-z0-9-]{0,40}$"),
            "{bad:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn unconfigured_app_says_configure_it() {
    let env = Env::new();
    let out = env.run("uis-db-creds", &["nosuchapp"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("uis db configure nosuchapp"),
        "{}",
        out.stderr
    );
}

#[test]
fn cluster_access_failures_are_one_line_and_quick() {
    let env = Env::new();
    let check = |out: uis_e2e::Out, needle: &str| {
        out.expect_code(1);
        assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
        assert!(
            out.stderr.contains(needle),
            "wanted {needle:?} in {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    };
    // Missing kubeconfig.
    let missing = env.path("nope/kubeconfig");
    check(
        output(
            env.cmd("uis-db-creds")
                .arg("--admin")
                .env("KUBECONFIG", &missing),
        ),
        "KUBECONFIG names no existing file",
    );
    check(
        output(
            env.cmd("uis-db-creds")
                .args(["--admin", "--kubeconfig"])
                .arg(&missing),
        ),
        "does not exist",
    );
    // No kubeconfig at all.
    check(
        output(
            env.cmd("uis-db-creds")
                .arg("--admin")
                .env_remove("KUBECONFIG"),
        ),
        "no kubeconfig",
    );
    // Wrong context.
    check(
        env.run("uis-db-creds", &["--admin", "--context", "nonesuch"]),
        "context \"nonesuch\" is not in the kubeconfig",
    );
    // Unreachable API: a port nothing listens on.
    let text = std::fs::read_to_string(&env.kubeconfig).unwrap();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = env.standin.url();
    let moved = env.path("dead-kubeconfig");
    std::fs::write(
        &moved,
        text.replace(&url, &format!("https://127.0.0.1:{dead}")),
    )
    .unwrap();
    let start = Instant::now();
    check(
        output(
            env.cmd("uis-db-creds")
                .args(["--admin", "--request-timeout", "3"])
                .env("KUBECONFIG", &moved),
        ),
        "cannot reach the Kubernetes API",
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    // An API that never answers: the request timeout bounds it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    std::fs::write(
        &moved,
        text.replace(&url, &format!("https://127.0.0.1:{silent_port}")),
    )
    .unwrap();
    let start = Instant::now();
    check(
        output(
            env.cmd("uis-db-creds")
                .args(["--admin", "--request-timeout", "2"])
                .env("KUBECONFIG", &moved),
        ),
        "did not answer within 2 s",
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(silent);
}

#[test]
fn closed_pipe_is_success() {
    let env = Env::new();
    let script = format!(
        "set -o pipefail; '{}' --admin | head -c1",
        bin("uis-db-creds").display()
    );
    let out = output(
        std::process::Command::new("bash")
            .args(["-c", &script])
            .env("KUBECONFIG", &env.kubeconfig)
            .env("HOME", env.dir.path())
            .stdin(Stdio::null()),
    );
    out.ok();
    assert_eq!(out.stdout, "{");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn list_shows_configured_apps() {
    let env = Env::new();
    env.configure_app_by_hand("list-a");
    env.configure_app_by_hand("list-b");
    let out = env.run("uis-db-creds", &["--list"]);
    out.ok();
    assert_eq!(out.json()["apps"], serde_json::json!(["list-a", "list-b"]));
}

#[test]
fn app_comes_from_piped_json() {
    let env = Env::new();
    let (owner, _, password) = env.configure_app_by_hand("piped-app");
    let out = env.run_stdin(
        "uis-db-creds",
        &["--format", "url"],
        "{\"app\":\"piped-app\",\"status\":\"ok\"}\n",
    );
    out.ok().no_secret_on_stderr(&[&password]);
    assert!(
        out.stdout
            .starts_with(&format!("postgresql://{owner}:{password}@")),
        "{}",
        out.stdout
    );
}
