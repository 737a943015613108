//! Rotations whose Secret write is refused (issue 20, item 6): with the
//! Secret a rotation writes made immutable by the real kubectl (or a write
//! refused by RBAC, a webhook or an API error), `uis postgrest deploy
//! --rotate-password` and `uis db configure --rotate` stop before the
//! role's password changes: the old password still logs in (psql), every
//! Secret keeps its values, and the error names the Secret and the remedy.
//! doctor's fix for an immutable PostgREST Secret is that remedy, and it
//! works when run as printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use uis_e2e::{Env, Out, output};

fn b64d(s: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .expect("base64"),
    )
    .expect("utf-8")
}

/// A Secret's `data` as the stand-in stores it (`None` when missing).
fn data(env: &Env, ns: &str, name: &str) -> Option<serde_json::Value> {
    env.standin
        .get("v1", "Secret", Some(ns), name)
        .map(|s| s["data"].clone())
}

/// Marks Secret `ns/name` immutable with the real kubectl (`kubectl patch
/// secret NAME -p '{"immutable":true}'`), else through the stand-in.
fn make_immutable(env: &Env, ns: &str, name: &str) {
    match env.kubectl(&[
        "patch",
        "secret",
        name,
        "-n",
        ns,
        "-p",
        r#"{"immutable":true}"#,
    ]) {
        Some(k) => {
            k.ok();
        }
        None => {
            let mut s = env.standin.get("v1", "Secret", Some(ns), name).unwrap();
            s["immutable"] = true.into();
            env.standin.put(s);
        }
    }
    let s = env.standin.get("v1", "Secret", Some(ns), name).unwrap();
    assert_eq!(s["immutable"], true, "{ns}/{name} is immutable");
}

/// `SELECT 1` over `url` (host, port and database as the cluster names
/// them, pointed at the test's server) with the real psql.
fn logs_in(env: &Env, url: &str) -> bool {
    let local = url.replace(
        "postgresql.default.svc.cluster.local:5432",
        &format!("127.0.0.1:{}", env.pg.port),
    );
    env.psql(&[&local, "-c", "select 1"]).code == 0
}

/// Runs `line` in `sh -c` as a person would paste it: the suite's
/// binaries and kubectl on PATH, this env's kubeconfig. `None` when
/// kubectl is not installed (a failure under CI).
fn shell(env: &Env, line: &str) -> Option<Out> {
    let kubectl = env.kubectl(&["version", "--client"])?;
    kubectl.ok();
    let mut path = vec![uis_harness::bin_dir()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let home: PathBuf = env.path("shell-home");
    std::fs::create_dir_all(&home).unwrap();
    Some(output(
        Command::new("sh")
            .args(["-c", line])
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("KUBECONFIG", &env.kubeconfig)
            .env("HOME", &home)
            .stdin(Stdio::null()),
    ))
}

/// doctor's checks by id: (status, message, fix).
fn doctor(env: &Env, app: &str) -> BTreeMap<String, (String, String, String)> {
    let out = env.run("uis-db-doctor", &[app, "--json"]);
    let j = out.json();
    let mut m = BTreeMap::new();
    for c in j["checks"].as_array().expect("checks") {
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        m.insert(s("id"), (s("status"), s("message"), s("fix")));
    }
    m
}

fn refused(out: &Out, says: &[&str]) {
    out.expect_code(1);
    for s in says {
        assert!(out.stderr.contains(s), "missing {s:?} in: {}", out.stderr);
    }
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["status"], "error", "{}", out.stdout);
    assert_eq!(j["phase"], "cluster", "{}", out.stdout);
}

const STORE_NS: &str = "default";

#[test]
fn deploy_rotate_password_into_an_immutable_secret_changes_nothing_and_doctor_names_the_remedy() {
    let env = Env::new();
    env.run("uis-db-configure", &["imm", "--json"]).ok();
    env.run("uis-postgrest-deploy", &["imm", "--json"]).ok();
    let secret = "imm-postgrest";
    let before = data(&env, "postgrest", secret).unwrap();
    let store_before = data(&env, STORE_NS, "uis-db-imm").unwrap();
    let old_uri = b64d(before["PGRST_DB_URI"].as_str().unwrap());
    assert!(logs_in(&env, &old_uri));
    make_immutable(&env, "postgrest", secret);

    let recreate = format!(
        "kubectl get secret {secret} -n postgrest -o yaml | sed '/^immutable: true$/d' | kubectl replace --force --validate=false -f -"
    );
    for flags in [&["--rotate-password"][..], &["--rotate-jwt-secret"][..]] {
        let mut args = vec!["imm"];
        args.extend_from_slice(flags);
        args.push("--json");
        let out = env.run("uis-postgrest-deploy", &args);
        refused(
            &out,
            &[
                "Secret postgrest/imm-postgrest is immutable",
                &recreate,
                "role imm_authenticator keeps its password",
            ],
        );
        assert_eq!(
            data(&env, "postgrest", secret).unwrap(),
            before,
            "{flags:?}"
        );
        assert_eq!(data(&env, STORE_NS, "uis-db-imm").unwrap(), store_before);
        assert!(logs_in(&env, &old_uri), "the old password still logs in");
    }
    // A re-run that changes no value still works on the immutable Secret.
    env.run("uis-postgrest-deploy", &["imm", "--json"]).ok();
    // Nothing is broken, so doctor passes db-uri.
    assert_eq!(doctor(&env, "imm")["db-uri"].0, "pass");

    // The password changed behind the suite's back: doctor's fix is the
    // remedy, then the rotation, and it works as printed.
    env.pg
        .connect("postgres")
        .batch_execute("ALTER ROLE imm_authenticator PASSWORD 'changedByHand0123456789abcdefXYZ'")
        .unwrap();
    assert!(!logs_in(&env, &old_uri));
    let m = doctor(&env, "imm");
    let (status, message, fix) = &m["db-uri"];
    assert_eq!(status, "fail");
    assert!(message.contains("is immutable"), "{message}");
    assert_eq!(
        fix,
        &format!("{recreate} && uis postgrest deploy imm --rotate-password")
    );
    let Some(ran) = shell(&env, fix) else {
        return;
    };
    ran.ok();
    let after = env
        .standin
        .get("v1", "Secret", Some("postgrest"), secret)
        .unwrap();
    assert!(after["immutable"].is_null(), "recreated without the mark");
    let new_uri = b64d(after["data"]["PGRST_DB_URI"].as_str().unwrap());
    assert_ne!(new_uri, old_uri);
    assert!(logs_in(&env, &new_uri));
    assert_eq!(
        after["data"]["PGRST_JWT_SECRET"], before["PGRST_JWT_SECRET"],
        "the recreated Secret kept its other values"
    );
    assert_eq!(doctor(&env, "imm")["db-uri"].0, "pass");
}

#[test]
fn deploy_rotate_password_refused_by_the_api_changes_nothing() {
    let env = Env::new();
    env.run("uis-db-configure", &["forbid", "--json"]).ok();
    env.run("uis-postgrest-deploy", &["forbid", "--json"]).ok();
    let before = data(&env, "postgrest", "forbid-postgrest").unwrap();
    let old_uri = b64d(before["PGRST_DB_URI"].as_str().unwrap());
    let path = "/api/v1/namespaces/postgrest/secrets/forbid-postgrest";
    // RBAC's 403, a webhook's denial (400), an API server error (500).
    for (code, says) in [
        (403, "kubectl auth can-i patch secrets -n postgrest"),
        (400, "injected fault"),
        (500, "injected fault"),
    ] {
        env.standin.faults().set_fail(Some("PATCH"), path, code);
        let out = env.run(
            "uis-postgrest-deploy",
            &["forbid", "--rotate-password", "--json"],
        );
        refused(&out, &[says, "forbid-postgrest"]);
        assert_eq!(data(&env, "postgrest", "forbid-postgrest").unwrap(), before);
        assert!(
            logs_in(&env, &old_uri),
            "HTTP {code}: the old password still logs in"
        );
        env.standin.faults().clear();
    }
    env.run(
        "uis-postgrest-deploy",
        &["forbid", "--rotate-password", "--json"],
    )
    .ok();
    assert!(
        !logs_in(&env, &old_uri),
        "rotated once the write is allowed"
    );
}

#[test]
fn configure_rotate_with_a_refused_secret_write_changes_nothing() {
    let env = Env::new();
    env.standin.put(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
    );
    let first = env.run(
        "uis-db-configure",
        &[
            "crot",
            "--namespace",
            "apps",
            "--secret-name-prefix",
            "crot",
            "--json",
        ],
    );
    first.ok();
    let url = first.json()["cluster"]["database_url"]
        .as_str()
        .unwrap()
        .to_string();
    let url_before = data(&env, "apps", "crot-db").unwrap();
    let store_before = data(&env, STORE_NS, "uis-db-crot").unwrap();
    assert!(logs_in(&env, &url));
    let unchanged = |env: &Env| {
        assert_eq!(data(env, "apps", "crot-db").unwrap(), url_before);
        assert_eq!(data(env, STORE_NS, "uis-db-crot").unwrap(), store_before);
        assert!(logs_in(env, &url), "the old password still logs in");
    };

    // The URL Secret refuses the write: forbidden, then immutable.
    let path = "/api/v1/namespaces/apps/secrets/crot-db";
    env.standin.faults().set_fail(Some("PATCH"), path, 403);
    let out = env.run("uis-db-configure", &["crot", "--rotate", "--json"]);
    refused(
        &out,
        &[
            "kubectl auth can-i patch secrets -n apps",
            "role crot keeps its password",
        ],
    );
    unchanged(&env);
    env.standin.faults().clear();

    make_immutable(&env, "apps", "crot-db");
    let recreate = "kubectl get secret crot-db -n apps -o yaml | sed '/^immutable: true$/d' | kubectl replace --force --validate=false -f -";
    let out = env.run("uis-db-configure", &["crot", "--rotate", "--json"]);
    refused(&out, &["Secret apps/crot-db is immutable", recreate]);
    unchanged(&env);

    // The remedy, as the error printed it.
    let Some(ran) = shell(&env, recreate) else {
        return;
    };
    ran.ok();
    assert_eq!(data(&env, "apps", "crot-db").unwrap(), url_before);

    // The credential store itself immutable: refused before any change.
    make_immutable(&env, STORE_NS, "uis-db-crot");
    let store_recreate = "kubectl get secret uis-db-crot -n default -o yaml | sed '/^immutable: true$/d' | kubectl replace --force --validate=false -f -";
    let out = env.run("uis-db-configure", &["crot", "--rotate", "--json"]);
    out.expect_code(1);
    for says in ["Secret default/uis-db-crot is immutable", store_recreate] {
        assert!(out.stderr.contains(says), "{says:?} in {}", out.stderr);
    }
    unchanged(&env);
    let out = env.run(
        "uis-postgrest-deploy",
        &["crot", "--rotate-password", "--json"],
    );
    out.expect_code(1);
    assert!(out.stderr.contains(store_recreate), "{}", out.stderr);
    unchanged(&env);
    shell(&env, store_recreate).unwrap().ok();
    assert_eq!(data(&env, STORE_NS, "uis-db-crot").unwrap(), store_before);
    let out = env.run("uis-db-configure", &["crot", "--rotate", "--json"]);
    out.ok();
    let new_url = out.json()["cluster"]["database_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(logs_in(&env, &new_url));
    assert!(!logs_in(&env, &url));
    assert_eq!(
        b64d(
            data(&env, "apps", "crot-db").unwrap()["DATABASE_URL"]
                .as_str()
                .unwrap()
        ),
        new_url
    );
}

#[test]
fn doctor_names_the_remedy_when_a_password_must_go_into_an_immutable_store() {
    let env = Env::new();
    env.run("uis-db-configure", &["dst", "--json"]).ok();
    // The owner's stored password is lost, and the store made immutable.
    let mut s = env
        .standin
        .get("v1", "Secret", Some(STORE_NS), "uis-db-dst")
        .unwrap();
    s["data"].as_object_mut().unwrap().remove("password.dst");
    env.standin.put(s);
    make_immutable(&env, STORE_NS, "uis-db-dst");
    let (status, message, fix) = doctor(&env, "dst")["credential-store"].clone();
    assert_eq!(status, "fail");
    assert!(
        message.contains("no stored password for dst") && message.contains("is immutable"),
        "{message}"
    );
    let command = "kubectl get secret uis-db-dst -n default -o yaml | sed '/^immutable: true$/d' | kubectl replace --force --validate=false -f - && uis db configure dst";
    assert_eq!(
        fix,
        format!("{command}  (re-issues and stores missing or stale passwords)")
    );
    // Without the remedy, configure is refused before any change.
    env.run("uis-db-configure", &["dst", "--json"])
        .expect_code(1);
    let Some(ran) = shell(&env, command) else {
        return;
    };
    ran.ok();
    assert_eq!(doctor(&env, "dst")["credential-store"].0, "pass");
}
