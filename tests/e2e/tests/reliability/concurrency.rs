//! Two runs of one command at once end like one run.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "concurrency",
    prepare: Cx::of,
    dry: Cx::dry,
    rows,
};

/// Runs `bin ARGS` twice at once, each bounded to a minute; both outputs.
fn twice(env: &Env, bin: &str, args: &[&str]) -> (uis_e2e::Out, uis_e2e::Out) {
    let one = || {
        let mut cmd = env.cmd(bin);
        cmd.args(args);
        let (out, _) = uis_e2e::reliability::run_bounded(&mut cmd, None, CONCURRENT_MAX);
        uis_e2e::reliability::assert_one_clear_message(&out, &[], bin);
        out
    };
    std::thread::scope(|sc| {
        let a = sc.spawn(one);
        let b = sc.spawn(one);
        (a.join().unwrap(), b.join().unwrap())
    })
}

/// The bound on each of two concurrent runs.
const CONCURRENT_MAX: Duration = Duration::from_secs(60);

/// The app `duo` as the first row leaves it.
fn duo(env: &Env) {
    env.run(
        "uis-db-configure",
        &["duo", "--with-roles", "postgrest,readonly"],
    )
    .ok();
}

fn rows(_: &Cx) -> Vec<Row> {
    let conc = |what: &str, bin: &str, args: &[&str], after: &str| Case {
        kind: uis_e2e::reliability::Kind::Concurrency,
        ..Case::bad(what, bin, args)
            .code(0)
            .after(after)
            .within(CONCURRENT_MAX)
    };
    vec![
        // Two configures of a new app.
        Row::custom(
            conc(
                "two `configure` of a new app at once",
                "uis-db-configure",
                &["duo", "--with-roles", "postgrest,readonly"],
                "one app: both print the same stored password, it logs in, a third run plans no change (checked)",
            ),
            |env, _| {
                let (a, b) = twice(
                    env,
                    "uis-db-configure",
                    &["duo", "--with-roles", "postgrest,readonly", "--json"],
                );
                a.ok();
                b.ok();
                converged(env, "duo");
                let (pa, pb) = (a.json()["password"].clone(), b.json()["password"].clone());
                assert_eq!(pa, pb, "both runs report the one stored owner password");
            },
        ),
        // Two seeds.
        Row::custom(
            conc(
                "two `seed` of one app at once",
                "uis-db-seed",
                &["duo", "db"],
                "each file applied once (row count checked); the second run says it waits, then skips what the first applied",
            ),
            |env, _| {
                duo(env);
                let dir = env.path("db");
                write(
                    &dir.join("01-t.sql"),
                    "create table t(id int); select pg_sleep(0.3);\n",
                );
                write(
                    &dir.join("02-rows.sql"),
                    "insert into t select generate_series(1, 10);\n",
                );
                let d = dir.to_string_lossy().into_owned();
                let (a, b) = twice(env, "uis-db-seed", &["duo", &d]);
                a.ok();
                b.ok();
                assert_eq!(
                    count(env, "duo_db", "select count(*) from t"),
                    10,
                    "no file ran twice"
                );
                assert!(
                    a.stderr.contains("waiting") || b.stderr.contains("waiting"),
                    "{}\n{}",
                    a.stderr,
                    b.stderr
                );
            },
        ),
        // Two deploys of a new PostgREST.
        Row::custom(
            conc(
                "two `postgrest deploy` of a new app at once",
                "uis-postgrest-deploy",
                &["duo"],
                "one Deployment; a minted token verifies against the deployed secret; the authenticator logs in with its stored password; a third run changes nothing (checked)",
            ),
            |env, _| {
                duo(env);
                let (a, b) = twice(env, "uis-postgrest-deploy", &["duo", "--json"]);
                a.ok();
                b.ok();
                let again = env.run("uis-postgrest-deploy", &["duo", "--json"]);
                assert_eq!(again.json()["changes"], json!([]), "{}", again.stdout);
                let deployments = env.standin.list("apps/v1", "Deployment", Some("postgrest"));
                assert_eq!(deployments.len(), 1);
                // The JWT secret the Deployment reads is the one tokens are minted with,
                // and the authenticator password in the Secret logs in.
                let token = env.run("uis-jwt-mint", &["duo", "--role", "duo_web_anon"]);
                token.ok();
                env.run("uis-jwt-mint", &["duo", "--verify", token.stdout.trim()])
                    .ok();
                let creds = env.run(
                    "uis-db-creds",
                    &["duo", "--role", "authenticator", "--format", "url"],
                );
                creds.ok();
                env.run(
                    "uis-db-psql",
                    &["duo", "--as", "authenticator", "-c", "select current_user"],
                )
                .ok();
            },
        ),
        // Two rotations of the JWT secret at once end with one secret in use.
        Row::custom(
            conc(
                "two `--rotate-jwt-secret` at once",
                "uis-postgrest-deploy",
                &["duo", "--rotate-jwt-secret"],
                "one secret in use: a token minted after both verifies against the deployed Secret (checked)",
            ),
            |env, _| {
                duo(env);
                env.run("uis-postgrest-deploy", &["duo"]).ok();
                let (a, b) = twice(
                    env,
                    "uis-postgrest-deploy",
                    &["duo", "--rotate-jwt-secret", "--json"],
                );
                a.ok();
                b.ok();
                let token = env.run("uis-jwt-mint", &["duo", "--role", "duo_web_anon"]);
                env.run("uis-jwt-mint", &["duo", "--verify", token.stdout.trim()])
                    .ok();
            },
        ),
    ]
}

table!(
    TABLE;
    configure_two_configure_of_a_new_app_at_once,
    seed_two_seed_of_one_app_at_once,
    postgrest_deploy_two_postgrest_deploy_of_a_new_app_at_once,
    postgrest_deploy_two_rotate_jwt_secret_at_once,
);
