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

/// `scripts/sandbox up DIR --topology proxied` builds UIS's proxied
/// topology: the proxy Deployment's pod (owned by its ReplicaSet), no
/// Bitnami Secret, a real socat between the pod's port 5432 and a server
/// on which `postgres` is no superuser; psql in the pod reaches the server
/// only through 127.0.0.1 (no socket); doctor names the topology; `down`
/// stops socat by its PID.
#[test]
fn sandbox_proxied_is_uis_with_an_external_server() {
    let dir = tempfile::Builder::new()
        .prefix("uis-sandbox-")
        .tempdir()
        .unwrap();
    let sb = dir.path().join("sb");
    let script = root().join("scripts/sandbox");
    let bins = uis_e2e::bin("kube-standin").parent().unwrap().to_path_buf();
    let up = output(
        Command::new(&script)
            .args(["up"])
            .arg(&sb)
            .args(["--topology", "proxied"])
            .env("UIS_BIN_DIR", &bins)
            .env_remove("UIS_TOPOLOGY"),
    );
    up.ok();
    assert!(up.stderr.contains("(topology proxied)"), "{}", up.stderr);
    let read = |f: &str| {
        std::fs::read_to_string(sb.join(f))
            .unwrap()
            .trim()
            .to_string()
    };
    let (pg_port, socat_port, socat_pid) = (read("pg.port"), read("socat.port"), read("socat.pid"));
    assert!(
        up.stdout.contains(&format!("export PGPORT={socat_port}\n")),
        "{}",
        up.stdout
    );
    // psql as the sandbox says, through socat to the server: postgres is
    // no superuser there; kubectl shows the Deployment's pod and no
    // Bitnami Secret; psql in the pod needs -h 127.0.0.1 (no socket).
    let session = format!(
        "set -e; eval \"$({script} status {sb})\"; export HOME={home}; \
         psql -X -At -d postgres -c \"select current_user, rolsuper, rolcreaterole, rolcreatedb, inet_server_port() from pg_roles where rolname = current_user\"; \
         pod=$(kubectl get pod -l app.kubernetes.io/name=postgresql -o jsonpath='{{.items[0].metadata.name}}'); echo \"pod=$pod\"; \
         kubectl get pod \"$pod\" -o jsonpath='owner={{.metadata.ownerReferences[0].kind}}/{{.metadata.ownerReferences[0].name}} first={{.spec.containers[0].name}}'; echo; \
         kubectl get deployment postgresql -o name; \
         kubectl get secret postgresql -o name 2>&1 || true; \
         kubectl exec \"$pod\" -- psql -U postgres -d postgres -Atc 'select 1' 2>&1 && echo socket-answered || echo no-socket; \
         kubectl exec \"$pod\" -- env PGPASSWORD=\"$PGPASSWORD\" psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select inet_server_port()'; \
         uis-db-doctor --server --json",
        script = script.display(),
        sb = sb.display(),
        home = dir.path().display(),
    );
    let ran = output(
        Command::new("bash")
            .args(["-c", &session])
            .env("UIS_BIN_DIR", &bins),
    );
    ran.ok();
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("postgres|f|t|t|{pg_port}"),
        "{}",
        ran.stdout
    );
    let pod = lines[1].strip_prefix("pod=").unwrap();
    assert!(
        pod.starts_with("postgresql-") && pod != "postgresql-0",
        "{pod}"
    );
    let rs = pod.rsplit_once('-').unwrap().0;
    assert_eq!(lines[2], format!("owner=ReplicaSet/{rs} first=postgresql"));
    assert_eq!(lines[3], "deployment.apps/postgresql");
    assert!(lines[4].contains("NotFound"), "{}", ran.stdout);
    assert!(ran.stdout.contains("no-socket"), "{}", ran.stdout);
    assert_eq!(lines[lines.len() - 2], pg_port, "{}", ran.stdout);
    let doctor: serde_json::Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    let topology = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "topology")
        .unwrap_or_else(|| panic!("no topology check: {doctor}"));
    assert!(
        topology["message"].as_str().unwrap().starts_with(&format!(
            "proxied (external server): pod default/{pod} of Deployment postgresql"
        )),
        "{topology}"
    );
    assert_eq!(doctor["status"], "pass", "{doctor}");

    let down = output(Command::new(&script).arg("down").arg(&sb));
    down.ok();
    assert_eq!(std::fs::read_dir(&sb).unwrap().count(), 0, "DIR is empty");
    assert!(
        !std::path::Path::new(&format!("/proc/{socat_pid}")).exists(),
        "socat {socat_pid} still runs"
    );
    for p in [&pg_port, &socat_port] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", p.parse::<u16>().unwrap())).is_err(),
            "port {p} still listening"
        );
    }
}
