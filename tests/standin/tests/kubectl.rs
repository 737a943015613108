//! The machine's real kubectl as an independent client of the stand-in
//! (discovery, get with jsonpath, server-side apply, list of Deployments,
//! exec over WebSocket), plus the `kube-standin` binary started the way the
//! sandbox script starts it. kubectl tests are skipped, with a note, when
//! kubectl is not on PATH, and fail then when `CI` is set.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine as _;
use kube_standin::{StandIn, StandInOptions};
use serde_json::json;

fn have_kubectl() -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("kubectl").is_file()))
        .unwrap_or(false);
    if !found {
        // Under CI a skip would pass silently: fail instead (.ci/run makes
        // sure kubectl is there). The same rule as uis_harness::missing_tool.
        let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
        assert!(
            !ci,
            "kubectl is not on PATH and CI is set: the kubectl cross-check cannot be skipped here"
        );
        eprintln!("note: kubectl is not on PATH; skipping the kubectl cross-check");
    }
    found
}

struct Kubectl {
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(s: &StandIn) -> Kubectl {
        let dir = tempfile::tempdir().expect("tempdir");
        s.write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("kubeconfig");
        Kubectl { dir }
    }
    fn run(&self, args: &[&str]) -> Output {
        let d = self.dir.path();
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(d.join("kubeconfig"))
            .arg("--cache-dir")
            .arg(d.join("cache"))
            .args(args)
            .env("HOME", d)
            .env_remove("KUBECONFIG")
            .output()
            .expect("run kubectl")
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_string_lossy().into_owned()
    }
}

#[test]
fn kubectl_reads_and_applies() {
    if !have_kubectl() {
        return;
    }
    let s = StandIn::start(StandInOptions::default()).expect("start");
    s.seed_uis("127.0.0.1:5432".parse().expect("addr"), "s3cret pw");
    let k = Kubectl::new(&s);

    let ns = k.ok(&["get", "ns"]);
    for n in ["default", "kube-system", "postgrest"] {
        assert!(ns.contains(n), "{ns}");
    }
    let pw = k.ok(&[
        "get",
        "secret",
        "urbalurba-secrets",
        "-n",
        "default",
        "-o",
        "jsonpath={.data.PGPASSWORD}",
    ]);
    assert_eq!(
        pw,
        base64::engine::general_purpose::STANDARD.encode("s3cret pw")
    );
    let pods = k.ok(&[
        "get",
        "pods",
        "-n",
        "default",
        "-l",
        "app.kubernetes.io/name=postgresql",
        "-o",
        "name",
    ]);
    assert_eq!(pods.trim(), "pod/postgresql-0");

    let secret = k.file("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: from-kubectl\n  namespace: postgrest\nstringData:\n  DATABASE_URL: postgres://a@b/c\n");
    let out = k.ok(&["apply", "--server-side", "--validate=false", "-f", &secret]);
    assert!(
        out.contains("secret/from-kubectl serverside-applied"),
        "{out}"
    );
    let got = k.ok(&[
        "get",
        "secret",
        "from-kubectl",
        "-n",
        "postgrest",
        "-o",
        "jsonpath={.data.DATABASE_URL}",
    ]);
    assert_eq!(
        got,
        base64::engine::general_purpose::STANDARD.encode("postgres://a@b/c")
    );
    // Apply again (idempotent), then the library sees the object.
    k.ok(&["apply", "--server-side", "--validate=false", "-f", &secret]);
    assert!(
        s.get("v1", "Secret", Some("postgrest"), "from-kubectl")
            .is_some()
    );

    s.put(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app-postgrest", "namespace": "postgrest"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "postgrest/postgrest:v14.10"}]}}}}));
    let deps = k.ok(&["get", "deploy", "-n", "postgrest"]);
    assert!(deps.contains("app-postgrest"), "{deps}");
    let avail = k.ok(&[
        "get",
        "deploy",
        "app-postgrest",
        "-n",
        "postgrest",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Available\")].status}",
    ]);
    assert_eq!(avail, "True");

    // kubectl exec speaks WebSocket v5 since 1.31.
    let out = k.ok(&[
        "exec",
        "-n",
        "default",
        "postgresql-0",
        "--",
        "sh",
        "-c",
        "echo $PGUSER",
    ]);
    assert_eq!(out, "postgres\n");

    k.ok(&["delete", "secret", "from-kubectl", "-n", "postgrest"]);
    let o = k.run(&["get", "secret", "from-kubectl", "-n", "postgrest"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("NotFound"));
}

fn wait_for(p: &Path) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn binary_starts_seeds_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "binpw\n").expect("pw");
    let kc = dir.path().join("kubeconfig");
    let ready = dir.path().join("ready");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-standin"))
        .arg("--kubeconfig-out")
        .arg(&kc)
        .args([
            "--seed-uis",
            "--pg-addr",
            "127.0.0.1:5432",
            "--pg-password-file",
        ])
        .arg(&pw)
        .arg("--ready-file")
        .arg(&ready)
        .spawn()
        .expect("spawn");
    assert!(wait_for(&ready), "ready file");
    let url = std::fs::read_to_string(&ready).expect("ready");
    let text = std::fs::read_to_string(&kc).expect("kubeconfig");
    assert!(text.contains(&format!("server: {}", url.trim())));
    assert!(text.contains("client-key-data:") && text.contains("current-context: standin"));
    if have_kubectl() {
        let o = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kc)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args([
                "get",
                "secret",
                "postgresql",
                "-o",
                "jsonpath={.data.postgres-password}",
            ])
            .env("HOME", dir.path())
            .output()
            .expect("kubectl");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            base64::engine::general_purpose::STANDARD.encode("binpw")
        );
    }
    let st = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(st.success());
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "kube-standin did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_immutable_secret_keeps_its_values_as_the_api_server_keeps_them() {
    if !have_kubectl() {
        return;
    }
    let s = StandIn::start(StandInOptions::default()).expect("start");
    let k = Kubectl::new(&s);
    s.put(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "imm", "namespace": "default"}, "data": {"K": "djE="}}));
    k.ok(&["patch", "secret", "imm", "-p", r#"{"immutable":true}"#]);
    // A new value (dry run too: validation runs first) and taking the mark
    // off are refused with the API server's words; metadata may change.
    for args in [
        &[
            "patch",
            "secret",
            "imm",
            "-p",
            r#"{"stringData":{"K":"v2"}}"#,
        ][..],
        &[
            "patch",
            "secret",
            "imm",
            "--dry-run=server",
            "-p",
            r#"{"data":{"K":"djI="}}"#,
        ][..],
        &["patch", "secret", "imm", "-p", r#"{"immutable":false}"#][..],
    ] {
        let o = k.run(args);
        assert!(!o.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("Secret \"imm\" is invalid")
                && err.contains("Forbidden: field is immutable when `immutable` is set"),
            "{args:?}: {err}"
        );
    }
    k.ok(&["label", "secret", "imm", "team=a"]);
    let got = k.ok(&["get", "secret", "imm", "-o", "jsonpath={.data.K}"]);
    assert_eq!(got, base64::engine::general_purpose::STANDARD.encode("v1"));
    // The way out: delete and create again (kubectl replace --force).
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "kubectl --kubeconfig {0}/kubeconfig --cache-dir {0}/cache get secret imm -o yaml | sed '/^immutable: true$/d' | kubectl --kubeconfig {0}/kubeconfig --cache-dir {0}/cache replace --force --validate=false -f -",
            k.dir.path().display()
        ))
        .env("HOME", k.dir.path())
        .env_remove("KUBECONFIG")
        .output()
        .expect("sh");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    k.ok(&[
        "patch",
        "secret",
        "imm",
        "-p",
        r#"{"stringData":{"K":"v2"}}"#,
    ]);
    let got = k.ok(&["get", "secret", "imm", "-o", "jsonpath={.data.K}"]);
    assert_eq!(got, base64::engine::general_purpose::STANDARD.encode("v2"));
}
