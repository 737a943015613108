//! Where PostgreSQL lives (issue 22): each provider seeded as its operator
//! keeps it (a primary and two replica pods with its labels, a replica
//! first by name; the primary on one real server, the replicas on another),
//! detected automatically; the suite connects to the primary only and says
//! which pod; credentials come from the operator's Secrets; two providers
//! at once are an error naming `--provider`; without a superuser Secret
//! (CloudNativePG without superuser access, PGO without `postgres` in
//! `spec.users`) the superuser's commands name the setting to enable, while
//! the app paths (psql, creds, seed) work with the operator's app Secret
//! (CNPG `<c>-app`, PGO `<c>-pguser-<user>`, Zalando's per-user Secret, in
//! the user's own namespace for a cross-namespace user); psql in a
//! StackGres pod reaches PostgreSQL's 5433, not PgBouncer's 5432. The
//! Railway onboarding runs on every provider in the sandbox and writes
//! docs/providers.md's results table (`UIS_BLESS=1`).
//!
//! Per-provider cases are tables run by [`cases!`], one test each.

use std::time::Instant;
use uis_e2e::{Env, Out, ProviderEnv, ProviderSeed, output};

/// One `#[test]` per case, in a module of its own: `cases!(module,
/// function, { name: (arguments), ... })` makes `module::name` calling
/// `function(arguments)`.
macro_rules! cases {
    ($module:ident, $run:path, { $($name:ident: ($($arg:expr),* $(,)?),)* }) => {
        mod $module {
            $(
                #[test]
                fn $name() {
                    $run($($arg),*);
                }
            )*
        }
    };
}

/// Fails unless `text` contains every one of `wants`, naming the first
/// missing.
fn assert_contains(text: &str, wants: &[&str]) {
    for want in wants {
        assert!(text.contains(want), "{want}:\n{text}");
    }
}

/// The port of the server a command reached, from `select inet_server_port()`.
fn server_port(out: &Out) -> u16 {
    out.ok();
    out.stdout
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{}\n{}", out.stdout, out.stderr))
}

/// `uis-db-psql` arguments that run `select inet_server_port()` as the
/// superuser.
const ADMIN_PORT: [&str; 6] = [
    "--as",
    "admin",
    "--format",
    "csv",
    "-c",
    "select inet_server_port()",
];

/// Runs `select inet_server_port()` as the superuser (`--as admin`).
fn admin_port(env: &ProviderEnv, extra: &[&str]) -> Out {
    let mut args = ADMIN_PORT.to_vec();
    args.extend_from_slice(extra);
    env.run("uis-db-psql", &args)
}

/// The primary among three pods (a replica first by name), detected with
/// no flag, reached by psql and by the tunnel; the superuser's login from
/// the operator's Secret; the in-cluster address is its read-write Service.
fn primary_and_credentials(provider: &str, tweak: fn(&mut ProviderSeed)) {
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
    assert_contains(
        &out.stderr,
        &[
            &format!("uis: provider {provider}"),
            &format!("uis: primary pod default/{primary} ("),
        ],
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
    assert_contains(
        &out.stdout,
        &[&format!("@{service}.default.svc.cluster.local:{port}/")],
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

cases!(primary_and_credentials, super::primary_and_credentials, {
    bitnami: ("bitnami", |_| {}),
    cnpg: ("cnpg", |_| {}),
    cnpg_older_role_label: ("cnpg", |s| s.legacy_roles = true),
    zalando: ("zalando", |_| {}),
    pgo: ("pgo", |_| {}),
    stackgres: ("stackgres", |_| {}),
});

/// Swaps the role labels of `old` and `new` as the operator would after
/// a failover.
fn failover(env: &ProviderEnv, old: &str, new: &str) {
    let pod = |name: &str| {
        env.standin
            .get("v1", "Pod", Some("default"), name)
            .unwrap_or_else(|| panic!("pod {name}"))
    };
    let (mut a, mut b) = (pod(old), pod(new));
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
    assert_contains(
        &out.stderr,
        &[
            "no primary among the zalando pods",
            "pg-0 (spilo-role=replica",
            "pg-1 (spilo-role=replica",
            "spilo-role=master",
        ],
    );
}

#[test]
fn uis_proxied_is_detected_and_reached() {
    let env = Env::with_provider("uis-proxied", |_| {});
    let out = admin_port(&env, &[]);
    assert_eq!(server_port(&out), env.pg.port);
    assert_contains(
        &out.stderr,
        &["uis: provider uis-proxied (detected from pods postgresql-"],
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
    let named: [&str; 4] = ["--direct", &direct, "--admin-secrets", "pg-admin/password"];
    let out = admin_port(&env, &named);
    assert_eq!(server_port(&out), env.pg.port);
    assert_contains(&out.stderr, &["uis: provider external ("]);
    let mut args = vec!["--admin", "--json", "--provider", "external"];
    args.extend_from_slice(&named);
    let out = env.run("uis-db-creds", &args);
    out.ok();
    assert_eq!(out.json()["provider"], "external");
    assert_eq!(out.json()["source"], "Secret default/pg-admin key password");
    // external without an address is a usage error naming --direct.
    let out = env.run("uis-db-creds", &["--admin", "--provider", "external"]);
    out.expect_code(2);
    assert_contains(&out.stderr, &["--direct HOST:PORT"]);
}

#[test]
fn two_providers_are_an_error_naming_the_choices() {
    let env = Env::with_provider("cnpg", |_| {});
    // A UIS pod beside the CloudNativePG cluster.
    env.standin.seed_uis(env.pg.addr(), &env.pg.password);
    let out = admin_port(&env, &[]);
    out.expect_code(1);
    assert_contains(
        &out.stderr,
        &[
            "found more than one PostgreSQL in namespace default",
            "bitnami (pods postgresql-0)",
            "cnpg (cluster pg) (pods pg-0, pg-1)",
            "--provider bitnami|cnpg",
            "UIS_PROVIDER",
        ],
    );
    // Either choice then works, by flag or by variable.
    let out = admin_port(&env, &["--provider", "cnpg"]);
    assert_eq!(server_port(&out), env.pg.port);
    assert_contains(
        &out.stderr,
        &["uis: provider cnpg (cluster pg) (--provider"],
    );
    let out = output(
        env.cmd("uis-db-psql")
            .args(ADMIN_PORT)
            .env("UIS_PROVIDER", "bitnami"),
    );
    assert_eq!(server_port(&out), env.pg.port);
    assert_contains(&out.stderr, &["uis: provider bitnami (--provider"]);
    // A provider that is not there is named as missing.
    let out = admin_port(&env, &["--provider", "zalando"]);
    out.expect_code(1);
    assert_contains(
        &out.stderr,
        &["--provider zalando: no pod of the Zalando operator"],
    );
}

/// An app login an operator made, and what the suite makes of it.
struct AppCase {
    provider: &'static str,
    /// APP as a person gives it.
    app: &'static str,
    /// The login's user as the operator's manifest names it (Zalando's
    /// cross-namespace user without its `namespace.`) and its database.
    user: &'static str,
    database: &'static str,
    /// Zalando with `enable_cross_namespace_secret`: the role is
    /// `NAMESPACE.user` and its Secret lives in NAMESPACE.
    namespace: Option<&'static str>,
    /// Where `creds` says the password came from.
    source: &'static str,
    /// With no superuser Secret (the seed without superuser access), what
    /// the superuser's commands say; `None` where the operator always
    /// keeps one (Zalando).
    no_superuser: Option<&'static [&'static str]>,
}

const CNPG_APP: AppCase = AppCase {
    provider: "cnpg",
    // APP = the cluster's name.
    app: "pg",
    user: "app",
    database: "app",
    namespace: None,
    source: "Secret default/pg-app key password",
    no_superuser: Some(&[
        "no superuser password for provider cnpg: Secret default/pg-superuser not found",
        "spec.enableSuperuserAccess: true",
        "it is not set",
        "kubectl patch clusters.postgresql.cnpg.io pg -n default --type merge -p '{\"spec\":{\"enableSuperuserAccess\":true}}'",
        "Secret default/pg-app",
    ]),
};

const PGO_APP: AppCase = AppCase {
    provider: "pgo",
    // APP = the user of spec.users: its own Secret <c>-pguser-<user>.
    app: "hippo",
    user: "hippo",
    database: "hippo",
    namespace: None,
    source: "Secret default/pg-pguser-hippo key password",
    no_superuser: Some(&[
        "no superuser password for provider pgo: Secret default/pg-pguser-postgres not found",
        "lists the user postgres: add `- name: postgres` to spec.users",
        "Secret default/pg-pguser-APP",
    ]),
};

const ZALANDO_APP: AppCase = AppCase {
    provider: "zalando",
    // `-` in APP is `_` in the user and `-` again in the Secret's name.
    app: "shop-app",
    user: "shop_app",
    database: "shop_app",
    namespace: None,
    source: "Secret default/shop-app.pg.credentials.postgresql.acid.zalan.do key password",
    no_superuser: None,
};

const ZALANDO_CROSS_NAMESPACE_APP: AppCase = AppCase {
    namespace: Some("appns"),
    source: "Secret appns/appns.shop-app.pg.credentials.postgresql.acid.zalan.do key password",
    ..ZALANDO_APP
};

/// The app paths with the operator's app Secret, for an app the suite
/// never configured: psql as APP reaches the login's database on the
/// primary, creds names the Secret, and seed as the owner applies a file
/// once (its ledger as the owner when no superuser Secret exists); the
/// superuser's commands say what to enable where the operator keeps none.
fn app_login_from_the_operators_secret(case: &AppCase) {
    let password = uis_harness::pg::random_alnum(32);
    let env = Env::with_provider(case.provider, |s| {
        s.superuser_access = case.no_superuser.is_none();
        s.app = Some((case.user.into(), password.clone(), case.database.into()));
        s.app_namespace = case.namespace.map(str::to_string);
    });
    uis_e2e::remember_secret(&password);
    let role = match case.namespace {
        Some(ns) => format!("{ns}.{}", case.user),
        None => case.user.to_string(),
    };
    // As the operator makes them (one statement each: CREATE DATABASE
    // cannot run in a transaction block).
    let mut c = env.pg.connect("postgres");
    for sql in [
        format!("CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"),
        format!("CREATE DATABASE \"{}\" OWNER \"{role}\"", case.database),
    ] {
        c.batch_execute(&sql)
            .expect("the app's login and database, as the operator makes them");
    }

    if let Some(wants) = case.no_superuser {
        let out = admin_port(&env, &[]);
        out.expect_code(1);
        assert_contains(&out.stderr, wants);
    }
    let out = env.run(
        "uis-db-psql",
        &[
            case.app,
            "--format",
            "csv",
            "-c",
            "select current_user || '@' || current_database() || ':' || inet_server_port()",
        ],
    );
    out.ok();
    assert_contains(
        &out.stdout,
        &[&format!("{role}@{}:{}", case.database, env.pg.port)],
    );
    assert_contains(
        &out.stderr,
        &[&format!(
            "using the login {} keeps in {} (user {role}, database {})",
            case.provider,
            case.source.trim_end_matches(" key password"),
            case.database
        )],
    );
    let out = env.run("uis-db-creds", &[case.app, "--json"]);
    out.ok();
    let j = out.json();
    assert_eq!(j["username"], role.as_str(), "{}", out.stdout);
    assert_eq!(j["password"], password.as_str());
    assert_eq!(j["database"], case.database);
    assert_eq!(j["source"], case.source);
    // Zalando: an admin of the manifest's users named with --pg-superuser
    // is read from its own Secret, a cross-namespace user's in its
    // namespace.
    if case.provider == "zalando" {
        let out = env.run(
            "uis-db-creds",
            &["--admin", "--pg-superuser", &role, "--json"],
        );
        out.ok();
        let j = out.json();
        assert_eq!(j["username"], role.as_str(), "{}", out.stdout);
        assert_eq!(j["password"], password.as_str());
        assert_eq!(j["source"], case.source);
    }

    // Seed as the owner: applied once, the table is the owner's.
    let dir = env.path("seeds");
    std::fs::create_dir_all(&dir).expect("seed dir");
    std::fs::write(
        dir.join("01-items.sql"),
        "CREATE TABLE items (id int primary key);\nINSERT INTO items VALUES (1), (2);\n",
    )
    .expect("seed file");
    let dir = dir.to_str().expect("utf-8 path");
    env.run("uis-db-seed", &[case.app, dir]).ok();
    let again = env.run("uis-db-seed", &[case.app, dir]);
    again.ok();
    assert_contains(&again.stderr, &["nothing to apply"]);
    let mut db = env.pg.connect(case.database);
    let row = db
        .query_one(
            "select tableowner::text, (select count(*) from items), \
                    (select count(*) from uis.seed_ledger where file_name = '01-items.sql') \
               from pg_tables where tablename = 'items'",
            &[],
        )
        .expect("the seeded table and its ledger row");
    let (owner, items, ledger): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((owner.as_str(), items, ledger), (role.as_str(), 2, 1));
}

cases!(app_login_from_the_operators_secret, super::app_login_from_the_operators_secret, {
    cnpg_without_superuser_access: (&super::CNPG_APP),
    pgo_without_superuser_access: (&super::PGO_APP),
    zalando: (&super::ZALANDO_APP),
    zalando_cross_namespace: (&super::ZALANDO_CROSS_NAMESPACE_APP),
});

/// psql in a StackGres pod (no local psql: the fallback through exec)
/// reaches PostgreSQL on the pod's 5433, as the tunnel does, not the
/// pod's 5432, PgBouncer (the stand-in's refuses every client, as the real
/// kubectl shows first).
#[test]
fn stackgres_psql_in_the_pod_reaches_postgresql_not_pgbouncer() {
    let env = Env::with_provider("stackgres", |_| {});
    let primary = env.pods[0].clone();
    let in_pod = |port: &str| {
        env.kubectl(&[
            "exec",
            &primary,
            "--",
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            "select inet_server_port()",
        ])
    };
    let Some(bouncer) = in_pod("5432") else {
        uis_harness::missing_tool("kubectl", "this test");
        return;
    };
    assert_ne!(bouncer.code, 0, "{}", bouncer.stdout);
    assert_contains(&bouncer.stderr, &["PgBouncer", "not PostgreSQL"]);
    let postgres = in_pod("5433").expect("kubectl");
    assert_eq!(server_port(&postgres), env.pg.port, "{}", postgres.stderr);

    let Some((code, text)) = env.psql_on_a_terminal(
        "/nonexistent",
        "select 'port:' || inet_server_port();\n\\q\n",
    ) else {
        uis_harness::missing_tool("script(1) (util-linux)", "this test");
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert_contains(
        &text,
        &[
            &format!("no local psql; running psql in pod default/{primary} (port 5433)"),
            &format!("port:{}", env.pg.port),
        ],
    );
    assert!(!text.contains("PgBouncer"), "{text}");
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

cases!(railway, super::railway_on, {
    bitnami: ("bitnami"),
    uis_proxied: ("uis-proxied"),
    cnpg: ("cnpg"),
    zalando: ("zalando"),
    pgo: ("pgo"),
    stackgres: ("stackgres"),
    external: ("external"),
});

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
    rows.sort_by_key(|r| {
        kube_standin::providers::PROVIDERS
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

/// Doctor's checks by id: (status, message, fix).
type Checks = std::collections::BTreeMap<String, (String, String, String)>;

/// The checks of `uis-db-doctor shop --json`.
fn doctor_checks(env: &Env) -> Checks {
    let out = env.run("uis-db-doctor", &["shop", "--json"]);
    let j = out.json();
    let mut m = std::collections::BTreeMap::new();
    for c in j["checks"].as_array().expect("checks") {
        let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
        m.insert(s("id"), (s("status"), s("message"), s("fix")));
    }
    m
}

/// Check `id` has `status`, its message every one of `message` and its fix
/// every one of `fix`.
fn expect_check(m: &Checks, id: &str, status: &str, message: &[&str], fix: &[&str]) {
    let (got, msg, fixed) = &m[id];
    assert_eq!(got, status, "{id}: {m:?}");
    assert_contains(msg, message);
    assert_contains(fixed, fix);
}

#[test]
fn doctor_reports_provider_topology_primary_and_admin() {
    let env = Env::with_provider("cnpg", |s| s.replicas = 2);
    env.configure_app_by_hand("shop");
    let m = doctor_checks(&env);
    expect_check(
        &m,
        "provider",
        "pass",
        &["provider cnpg: operator cluster pg (Cluster postgresql.cnpg.io/v1); Service pg-rw:5432"],
        &[],
    );
    expect_check(
        &m,
        "primary",
        "pass",
        &[&format!(
            "connections go to pod default/{} (cnpg.io/instanceRole=primary; 3 pods",
            env.pods[0]
        )],
        &[],
    );
    // The topology, from the same pod (CNPG's instances have no
    // controller the chart's or the proxy's would).
    expect_check(
        &m,
        "topology",
        "pass",
        &[&format!(
            "unknown: pod default/{} (no controller)",
            env.pods[0]
        )],
        &[],
    );
    expect_check(&m, "admin", "pass", &["admin postgres is a superuser"], &[]);

    // No primary: the check fails naming the pods, with the fix; the
    // topology cannot be told, from the same lookup.
    let mut pod = env
        .standin
        .get("v1", "Pod", Some("default"), &env.pods[0])
        .expect("primary");
    pod["metadata"]["labels"]["cnpg.io/instanceRole"] = "replica".into();
    env.standin.put(pod);
    let m = doctor_checks(&env);
    expect_check(
        &m,
        "primary",
        "fail",
        &["no primary among the cnpg pods"],
        &["kubectl get pods -n default -l cnpg.io/cluster=pg"],
    );
    expect_check(
        &m,
        "topology",
        "warn",
        &["cannot tell the topology: no primary among the cnpg pods"],
        &["kubectl get pods -n default -l cnpg.io/cluster=pg"],
    );

    // Two providers: the provider check fails naming --provider.
    env.standin.seed_uis(env.pg.addr(), &env.pg.password);
    expect_check(
        &doctor_checks(&env),
        "provider",
        "fail",
        &[],
        &["--provider bitnami|cnpg"],
    );
}
