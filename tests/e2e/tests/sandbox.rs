//! The sandbox script people use to try the suite without a cluster, and the
//! tunnel's behaviour when the port-forward breaks (issue: foundation).

use std::process::Command;
use std::time::{Duration, Instant};
use uis_e2e::{Env, output};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn sandbox_up_psql_down_leaves_nothing() {
    let dir = tempfile::Builder::new()
        .prefix("uis-sandbox-")
        .tempdir()
        .unwrap();
    let sb = dir.path().join("sb");
    let script = root().join("scripts/sandbox");
    let up = output(Command::new(&script).arg("up").arg(&sb).env(
        "UIS_BIN_DIR",
        uis_e2e::bin("kube-standin").parent().unwrap(),
    ));
    up.ok();
    // UIS_PG_VERSION (inherited) picks the sandbox's PostgreSQL.
    if let Ok(v) = std::env::var("UIS_PG_VERSION")
        && !v.is_empty()
    {
        let want = format!("sandbox: PostgreSQL {v}.");
        assert!(up.stderr.contains(&want), "{want}: {}", up.stderr);
    }
    for line in up.stdout.lines() {
        assert!(
            line.starts_with("export "),
            "stdout carries only export lines: {line:?}"
        );
    }
    for var in ["KUBECONFIG", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD"] {
        assert!(
            up.stdout.contains(&format!("export {var}=")),
            "{var}: {}",
            up.stdout
        );
    }
    // eval "$(scripts/sandbox up DIR)"; psql -d postgres -c 'select 1'
    let session = format!(
        "set -e; eval \"$({} up {})\"; psql -X -At -d postgres -c 'select 1'; kubectl --cache-dir {}/kc get secret urbalurba-secrets -o name 2>/dev/null || true",
        script.display(),
        sb.display(),
        dir.path().display()
    );
    let ran = output(Command::new("bash").args(["-c", &session]).env(
        "UIS_BIN_DIR",
        uis_e2e::bin("kube-standin").parent().unwrap(),
    ));
    ran.ok();
    assert!(ran.stdout.starts_with("1\n"), "{}", ran.stdout);
    let port: u16 = std::fs::read_to_string(sb.join("pg.port"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let url = std::fs::read_to_string(sb.join("standin.ready")).unwrap();
    let api_port: u16 = url.trim().rsplit(':').next().unwrap().parse().unwrap();
    let down = output(Command::new(&script).arg("down").arg(&sb));
    down.ok();
    assert_eq!(std::fs::read_dir(&sb).unwrap().count(), 0, "DIR is empty");
    for p in [port, api_port] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", p)).is_err(),
            "port {p} still listening"
        );
    }
}

#[test]
fn a_dropped_tunnel_is_an_error_within_seconds() {
    let env = Env::new();
    let tunnel = env.tunnel(&["--admin"]);
    let url = tunnel.url();
    // Healthy first, then cut after 20 kB of traffic.
    env.psql(&[&url, "-c", "select 1"]).ok();
    env.standin.faults().set_drop_tunnel_after(Some(20_000));
    let start = Instant::now();
    let q = env.psql(&[
        &url,
        "-At",
        "-c",
        "select repeat('x', 1000) from generate_series(1, 1000)",
    ]);
    let took = start.elapsed();
    drop(tunnel);
    assert_ne!(q.code, 0, "the query cannot succeed through a cut tunnel");
    assert!(
        q.stderr.contains("server closed the connection") || q.stderr.contains("connection"),
        "{}",
        q.stderr
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
