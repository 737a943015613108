//! Where PostgreSQL lives (issue 22): each provider seeded as its operator
//! keeps it (a primary and two replica pods with its labels, a replica
//! first by name; the primary on one real server, the replicas on another),
//! detected automatically; the suite connects to the primary only and says
//! which pod; credentials come from the operator's Secrets; two providers
//! at once are an error naming `--provider`; CloudNativePG without
//! superuser access names the setting to enable, while the app's own
//! login (Secret `<c>-app`) still works. The Railway onboarding runs on
//! every provider in the sandbox and writes docs/providers.md's results
//! table (`UIS_BLESS=1`).

use std::time::Instant;
use uis_e2e::{Env, Out, ProviderEnv, output};

/// The port of the server a command reached, from `select inet_server_port()`.
fn server_port(out: &Out) -> u16 {
    out.ok();
    out.stdout
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{}\n{}", out.stdout, out.stderr))
}

/// Runs `select inet_server_port()` as the superuser (`--as admin`).
fn admin_port(env: &ProviderEnv, extra: &[&str]) -> Out {
    let mut args = vec![
        "--as",
        "admin",
        "--format",
        "csv",
        "-c",
        "select inet_server_port()",
    ];
    args.extend_from_slice(extra);
    env.run("uis-db-psql", &args)
}

/// The primary among three pods (a replica first by name), detected with
/// no flag, reached by psql and by the tunnel; the superuser's login from
/// the operator's Secret; the in-cluster address is its read-write Service.
fn primary_and_credentials(provider: &str, tweak: impl FnOnce(&mut uis_e2e::ProviderSeed)) {
    let env = Env::with_provider(provider, |s| {
        s.replicas = 2;
        tweak(s);
    });
    let primary = env.pods[0].clone();
    let mut names = env.pods.clone();
    names.sort();
    assert_ne!(names[0], primary, "a replica must come first by name");

    let out = admin_port(&env, &[]);
    assert_eq!(server_port(&out), env.pg.port, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("uis: provider {provider}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("uis: primary pod default/{primary} (")),
        "{}",
        out.stderr
    );

    // Credentials: where the operator keeps them, and the JSON says which
    // provider.
    let out = env.run("uis-db-creds", &["--admin", "--json"]);
    out.ok();
    let j = out.json();
    assert_eq!(j["provider"], provider, "{}", out.stdout);
    assert_eq!(j["username"], "postgres");
    assert_eq!(j["password"], env.pg.password.as_str());
    let (secret, service, port) = match provider {
        "cnpg" => ("Secret default/pg-superuser key password", "pg-rw", 5432),
        "zalando" => (
            "Secret default/postgres.pg.credentials.postgresql.acid.zalan.do key password",
            "pg",
            5432,
        ),
        "pgo" => (
            "Secret default/pg-pguser-postgres key password",
            "pg-primary",
            5432,
        ),
        "stackgres" => ("Secret default/pg key superuser-password", "pg", 5433),
        _ => (
            "Secret default/urbalurba-secrets key PGPASSWORD",
            "postgresql",
            5432,
        ),
    };
    assert_eq!(j["source"], secret, "{}", out.stdout);
    let out = env.run("uis-db-creds", &["--admin", "--format", "url", "--cluster"]);
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("@{service}.default.svc.cluster.local:{port}/")),
        "{}",
        out.stdout
    );

    // The tunnel forwards each connection to the primary; after a
    // failover (the operator relabels the pods) the next connection goes
    // to the new primary.
    let tunnel = env.tunnel(&["--admin"]);
    assert_eq!(tunnel.info["provider"], provider);
    let url = tunnel.url();
    let port_via = |url: &str| -> u16 {
        let mut c =
            postgres::Client::connect(url, postgres::NoTls).expect("connect through the tunnel");
        let row = c
            .query_one("select inet_server_port()", &[])
            .expect("query");
        row.get::<_, i32>(0) as u16
    };
    assert_eq!(port_via(&url), env.pg.port);
    let replica = env.pods[1].clone();
    failover(&env, &primary, &replica);
    assert_eq!(
        port_via(&url),
        env.replica.port,
        "the tunnel must follow the new primary"
    );
}

/// Swaps the role labels of `old` and `new` as the operator would after
/// a failover.
fn failover(env: &ProviderEnv, old: &str, new: &str) {
    let mut a = env
        .standin
        .get("v1", "Pod", Some("default"), old)
        .expect("old primary");
    let mut b = env
        .standin
        .get("v1", "Pod", Some("default"), new)
        .expect("replica");
    let la = a["metadata"]["labels"].clone();
    let lb = b["metadata"]["labels"].clone();
    for (k, v) in la.as_object().expect("labels") {
        if lb.get(k).is_some_and(|w| w != v) {
            a["metadata"]["labels"][k] = lb[k].clone();
            b["metadata"]["labels"][k] = v.clone();
        }
    }
    env.standin.put(a);
    env.standin.put(b);
}

#[test]
fn bitnami_primary_and_credentials() {
    primary_and_credentials("bitnami", |_| {});
}

#[test]
fn cnpg_primary_and_credentials() {
    primary_and_credentials("cnpg", |_| {});
}

#[test]
fn cnpg_older_role_label() {
    primary_and_credentials("cnpg", |s| s.legacy_roles = true);
}

#[test]
fn zalando_primary_and_credentials() {
    primary_and_credentials("zalando", |_| {});
}

#[test]
fn pgo_primary_and_credentials() {
    primary_and_credentials("pgo", |_| {});
}

#[test]
fn stackgres_primary_and_credentials() {
    primary_and_credentials("stackgres", |_| {});
}

#[test]
fn no_primary_names_the_pods_and_their_roles() {
    let env = Env::with_provider("zalando", |s| s.replicas = 2);
    let primary = env.pods[0].clone();
    let mut pod = env
        .standin
        .get("v1", "Pod", Some("default"), &primary)
        .expect("primary");
    pod["metadata"]["labels"]["spilo-role"] = "replica".into();
    env.standin.put(pod);
    let out = admin_port(&env, &[]);
    out.expect_code(1);
    for want in [
        "no primary among the zalando pods",
        "pg-0 (spilo-role=replica",
        "pg-1 (spilo-role=replica",
        "spilo-role=master",
    ] {
        assert!(out.stderr.contains(want), "{want}:\n{}", out.stderr);
    }
}

#[test]
fn uis_proxied_is_detected_and_reached() {
    let env = Env::with_provider("uis-proxied", |_| {});
    let out = admin_port(&env, &[]);
    assert_eq!(server_port(&out), env.pg.port);
    assert!(
        out.stderr
            .contains("uis: provider uis-proxied (detected from pods postgresql-"),
        "{}",
        out.stderr
    );
    let out = env.run("uis-db-creds", &["--admin", "--json"]);
    out.ok();
    assert_eq!(out.json()["provider"], "uis-proxied");
    assert_eq!(
        out.json()["source"],
        "Secret default/urbalurba-secrets key PGPASSWORD"
    );
}

#[test]
fn external_is_reached_directly_with_a_named_secret() {
    let env = Env::with_provider("external", |_| {});
    let direct = format!("127.0.0.1:{}", env.pg.port);
    let out = admin_port(
        &env,
        &["--direct", &direct, "--admin-secrets", "pg-admin/password"],
    );
    assert_eq!(server_port(&out), env.pg.port);
    assert!(
        out.stderr.contains("uis: provider external ("),
        "{}",
        out.stderr
    );
    let out = env.run(
        "uis-db-creds",
        &[
            "--admin",
            "--json",
            "--provider",
            "external",
            "--direct",
            &direct,
            "--admin-secrets",
            "pg-admin/password",
        ],
    );
    out.ok();
    assert_eq!(out.json()["provider"], "external");
    assert_eq!(out.json()["source"], "Secret default/pg-admin key password");
    // external without an address is a usage error naming --direct.
    let out = env.run("uis-db-creds", &["--admin", "--provider", "external"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--direct HOST:PORT"), "{}", out.stderr);
}

#[test]
fn two_providers_are_an_error_naming_the_choices() {
    let env = Env::with_provider("cnpg", |_| {});
    // A UIS pod beside the CloudNativePG cluster.
    env.standin.seed_uis(env.pg.addr(), &env.pg.password);
    let out = admin_port(&env, &[]);
    out.expect_code(1);
    for want in [
        "found more than one PostgreSQL in namespace default",
        "bitnami (pods postgresql-0)",
        "cnpg (cluster pg) (pods pg-0, pg-1)",
        "--provider bitnami|cnpg",
        "UIS_PROVIDER",
    ] {
        assert!(out.stderr.contains(want), "{want}:\n{}", out.stderr);
    }
    // Either choice then works, by flag or by variable.
    let out = admin_port(&env, &["--provider", "cnpg"]);
    assert_eq!(server_port(&out), env.pg.port);
    assert!(
        out.stderr
            .contains("uis: provider cnpg (cluster pg) (--provider"),
        "{}",
        out.stderr
    );
    let out = output(
        env.cmd("uis-db-psql")
            .args([
                "--as",
                "admin",
                "--format",
                "csv",
                "-c",
                "select inet_server_port()",
            ])
            .env("UIS_PROVIDER", "bitnami"),
    );
    assert_eq!(server_port(&out), env.pg.port);
    assert!(
        out.stderr.contains("uis: provider bitnami (--provider"),
        "{}",
        out.stderr
    );
    // A provider that is not there is named as missing.
    let out = admin_port(&env, &["--provider", "zalando"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("--provider zalando: no pod of the Zalando operator"),
        "{}",
        out.stderr
    );
}

#[test]
fn cnpg_without_superuser_access_names_the_fix_and_the_app_login_works() {
    let app_pw = uis_harness::pg::random_alnum(32);
    let env = Env::with_provider("cnpg", |s| {
        s.superuser_access = false;
        s.app = Some(("app".into(), app_pw.clone(), "app".into()));
    });
    uis_e2e::remember_secret(&app_pw);
    let mut c = env.pg.connect("postgres");
    c.batch_execute(&format!("CREATE ROLE app LOGIN PASSWORD '{app_pw}'"))
        .expect("the app login CNPG makes");
    c.batch_execute("CREATE DATABASE app OWNER app")
        .expect("the app database CNPG makes");
    let out = admin_port(&env, &[]);
    out.expect_code(1);
    for want in [
        "no superuser password for provider cnpg: Secret default/pg-superuser not found",
        "spec.enableSuperuserAccess: true",
        "it is not set",
        "kubectl patch clusters.postgresql.cnpg.io pg -n default --type merge -p '{\"spec\":{\"enableSuperuserAccess\":true}}'",
        "Secret default/pg-app",
    ] {
        assert!(out.stderr.contains(want), "{want}:\n{}", out.stderr);
    }
    // The app paths: the operator's app Secret, APP = the cluster's name.
    let out = env.run(
        "uis-db-psql",
        &[
            "pg",
            "--format",
            "csv",
            "-c",
            "select current_user || '@' || current_database() || ':' || inet_server_port()",
        ],
    );
    out.ok();
    assert!(
        out.stdout.contains(&format!("app@app:{}", env.pg.port)),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let out = env.run("uis-db-creds", &["app", "--json"]);
    out.ok();
    let j = out.json();
    assert_eq!(j["username"], "app");
    assert_eq!(j["database"], "app");
    assert_eq!(j["source"], "Secret default/pg-app key password");
}

/// The Railway onboarding (examples/railway/onboard.sh --sandbox) on one
/// provider, in a sandbox of its own (`UIS_SANDBOX_PROVIDER`), detected
/// with no flag; its row of docs/providers.md's results table is what this
/// run saw (`UIS_BLESS=1` rewrites the row).
fn railway_on(provider: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin_dir = uis_harness::bin_dir();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let start = Instant::now();
    let mut cmd = std::process::Command::new(root.join("examples/railway/onboard.sh"));
    cmd.arg("--sandbox")
        .env("PATH", &path)
        .env("UIS_BIN_DIR", &bin_dir)
        .env_remove("KUBECONFIG");
    for (k, _) in std::env::vars() {
        let keep = ["UIS_BIN_DIR", "UIS_PG_VERSION", "UIS_PG_CACHE"];
        if k.starts_with("PG") || k.starts_with("UIS_") && !keep.contains(&k.as_str()) {
            cmd.env_remove(k);
        }
    }
    cmd.env("UIS_SANDBOX_PROVIDER", provider);
    let out = output(&mut cmd);
    let ok = out.code == 0 && out.stderr.contains("railway is onboarded");
    let detected = out.stderr.contains(&format!("uis: provider {provider}"));
    eprintln!(
        "{provider}: {} in {:?}",
        if ok { "ok" } else { "FAILED" },
        start.elapsed()
    );
    assert!(ok && detected, "{provider}:\n{}", out.stderr);
    // The pod the connections went to: the primary (pod index 1 of the
    // sandbox's operator clusters), never the replica.
    let primary = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("uis: primary pod "))
        .map(|l| l.split(" (").next().unwrap_or(l).to_string());
    let how = match provider {
        "uis-proxied" => "the proxy pod (no replica)".to_string(),
        "external" => "--direct, no pod".to_string(),
        _ => {
            let p = primary.unwrap_or_else(|| panic!("no primary pod line:\n{}", out.stderr));
            assert!(p.ends_with("-1"), "not the primary: {p}\n{}", out.stderr);
            format!("primary {p} (of 2 pods)")
        }
    };
    let row = format!("| {provider} | yes | onboarded, doctor run | {how} |");
    check_row(&root.join("docs/providers.md"), provider, &row);
}

macro_rules! railway {
    ($($name:ident: $provider:literal,)*) => {
        mod railway {
            $(
                #[test]
                fn $name() {
                    super::railway_on($provider);
                }
            )*
        }
    };
}

railway! {
    bitnami: "bitnami",
    uis_proxied: "uis-proxied",
    cnpg: "cnpg",
    zalando: "zalando",
    pgo: "pgo",
    stackgres: "stackgres",
    external: "external",
}

/// Compares (or, with `UIS_BLESS=1`, writes) `provider`'s row of the
/// results table of `doc` (the line starting `| provider |`). Tests run in
/// processes of their own: blessing takes a lock file first.
fn check_row(doc: &std::path::Path, provider: &str, row: &str) {
    let prefix = format!("| {provider} |");
    let bless = std::env::var("UIS_BLESS").is_ok_and(|v| v == "1");
    let lock = doc.with_extension("md.lock");
    let _guard = bless.then(|| {
        for _ in 0..600 {
            if std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
                .is_ok()
            {
                return Lock(lock.clone());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{} stays locked", lock.display());
    });
    let text = std::fs::read_to_string(doc).expect("docs/providers.md");
    const END: &str = "<!-- /providers-table -->";
    let Some(table_at) = text.find(RESULTS_BEGIN) else {
        panic!("docs/providers.md lacks the results table");
    };
    let current = text[table_at..]
        .lines()
        .find(|l| l.starts_with(&prefix))
        .map(str::to_string);
    if current.as_deref() == Some(row) {
        return;
    }
    assert!(
        bless,
        "docs/providers.md's row for {provider} differs from this run (UIS_BLESS=1 rewrites it):\n{row}\nwas: {current:?}"
    );
    let mut rows: Vec<String> = text[table_at + RESULTS_BEGIN.len()..]
        .lines()
        .take_while(|l| !l.starts_with(END))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| provider |"))
        .filter(|l| !l.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    rows.push(row.to_string());
    let order = [
        "bitnami",
        "uis-proxied",
        "cnpg",
        "zalando",
        "pgo",
        "stackgres",
        "external",
    ];
    rows.sort_by_key(|r| {
        order
            .iter()
            .position(|p| r.starts_with(&format!("| {p} |")))
            .unwrap_or(99)
    });
    let end = text.find(END).expect("end marker");
    let new = format!(
        "{}{RESULTS_BEGIN}| provider | detected with no flag | Railway onboarding | connections went to |\n|---|---|---|---|\n{}\n{}",
        &text[..table_at],
        rows.join("\n"),
        &text[end..]
    );
    std::fs::write(doc, new).expect("write docs/providers.md");
}

const RESULTS_BEGIN: &str =
    "<!-- providers-table: written by tests/e2e/tests/providers.rs (UIS_BLESS=1) -->\n";

struct Lock(std::path::PathBuf);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The checks of `uis-db-doctor APP --json` by id: (status, message, fix).
fn doctor_checks(
    env: &Env,
    extra: &[&str],
) -> std::collections::BTreeMap<String, (String, String, String)> {
    let mut args = vec!["shop", "--json"];
    args.extend_from_slice(extra);
    let out = env.run("uis-db-doctor", &args);
    let j = out.json();
    let mut m = std::collections::BTreeMap::new();
    for c in j["checks"].as_array().expect("checks") {
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        m.insert(s("id"), (s("status"), s("message"), s("fix")));
    }
    m
}

#[test]
fn doctor_reports_provider_topology_primary_and_admin() {
    let env = Env::with_provider("cnpg", |s| s.replicas = 2);
    env.configure_app_by_hand("shop");
    let m = doctor_checks(&env, &[]);
    let (status, msg, _) = &m["provider"];
    assert_eq!(status, "pass", "{m:?}");
    assert!(
        msg.contains(
            "provider cnpg: operator cluster pg (Cluster postgresql.cnpg.io/v1); Service pg-rw:5432"
        ),
        "{msg}"
    );
    let (status, msg, _) = &m["primary"];
    assert_eq!(status, "pass", "{m:?}");
    assert!(
        msg.contains(&format!(
            "connections go to pod default/{} (cnpg.io/instanceRole=primary; 3 pods",
            env.pods[0]
        )),
        "{msg}"
    );
    let (status, msg, _) = &m["admin"];
    assert_eq!(status, "pass", "{m:?}");
    assert!(msg.contains("admin postgres is a superuser"), "{msg}");

    // No primary: the check fails naming the pods, with the fix.
    let mut pod = env
        .standin
        .get("v1", "Pod", Some("default"), &env.pods[0])
        .expect("primary");
    pod["metadata"]["labels"]["cnpg.io/instanceRole"] = "replica".into();
    env.standin.put(pod);
    let m = doctor_checks(&env, &[]);
    let (status, msg, fix) = &m["primary"];
    assert_eq!(status, "fail", "{m:?}");
    assert!(msg.contains("no primary among the cnpg pods"), "{msg}");
    assert!(
        fix.contains("kubectl get pods -n default -l cnpg.io/cluster=pg"),
        "{fix}"
    );

    // Two providers: the provider check fails naming --provider.
    env.standin.seed_uis(env.pg.addr(), &env.pg.password);
    let m = doctor_checks(&env, &[]);
    let (status, _, fix) = &m["provider"];
    assert_eq!(status, "fail", "{m:?}");
    assert!(fix.contains("--provider bitnami|cnpg"), "{fix}");
}
