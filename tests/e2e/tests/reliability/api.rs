//! Faults of the Kubernetes API: error statuses, a read that only improves
//! the output, latency, and a write failing after the database side.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "api",
    prepare,
    dry: Cx::dry,
    rows,
};

fn prepare(env: &Env) -> Cx {
    shop(env);
    write(&env.path("db/01-a.sql"), "create table a(x int);\n");
    Cx::of(env)
}

fn rows(cx: &Cx) -> Vec<Row> {
    let mut rows = Vec::new();
    let secrets = "/api/v1/namespaces/default/secrets";
    let pods = "/api/v1/namespaces/default/pods";
    let dbdir = cx.p("db");
    for (what, method, prefix, status, bin, args, says, code) in [
        (
            "403 reading Secrets",
            Some("GET"),
            secrets,
            403,
            "uis-db-creds",
            vec!["shop"],
            vec!["403", "hint:"],
            1,
        ),
        (
            "500 reading Secrets",
            Some("GET"),
            secrets,
            500,
            "uis-db-creds",
            vec!["shop"],
            vec!["500", "safe to run again"],
            1,
        ),
        (
            "503 reading Secrets, retried",
            Some("GET"),
            secrets,
            503,
            "uis-db-creds",
            vec!["--admin", "--request-timeout", "2"],
            vec!["did not answer within 2 s", "503", "hint:"],
            1,
        ),
        (
            "429 reading Secrets, retried",
            Some("GET"),
            secrets,
            429,
            "uis-db-psql",
            vec!["shop", "--request-timeout", "2", "-c", "select 1"],
            vec!["429", "hint:"],
            1,
        ),
        (
            "403 listing pods",
            Some("GET"),
            pods,
            403,
            "uis-db-psql",
            vec!["shop", "-c", "select 1"],
            vec!["403", "hint:"],
            1,
        ),
        (
            "500 on port-forward",
            None,
            "/api/v1/namespaces/default/pods/postgresql-0/portforward",
            500,
            "uis-db-psql",
            vec!["shop", "-c", "select 1"],
            vec!["port-forward"],
            2,
        ),
        (
            "403 writing Secrets (new app)",
            Some("PATCH"),
            secrets,
            403,
            "uis-db-configure",
            vec!["newapp"],
            vec!["403", "hint:"],
            1,
        ),
        (
            "500 writing Secrets (new app)",
            Some("PATCH"),
            secrets,
            500,
            "uis-db-configure",
            vec!["newapp"],
            vec!["500", "safe to run again"],
            1,
        ),
        (
            "401 on every request",
            None,
            "/api",
            401,
            "uis-db-seed",
            vec!["shop", &dbdir],
            vec!["401", "hint:"],
            1,
        ),
        (
            "500 reading the PostgREST Secret",
            Some("GET"),
            "/api/v1/namespaces/postgrest/secrets",
            500,
            "uis-jwt-mint",
            vec!["shop", "--role", "shop_web_anon"],
            vec!["500", "safe to run again"],
            1,
        ),
        (
            "403 on Deployments (deploy --status)",
            Some("GET"),
            "/apis/apps/v1/namespaces/postgrest/deployments",
            403,
            "uis-postgrest-deploy",
            vec!["shop", "--status"],
            vec!["403"],
            1,
        ),
    ] {
        rows.push(
            Row::check(
                Case::fault(format!("API answers {what}"), bin, &args)
                    .says(&says)
                    .code(code),
            )
            // The port-forward's path names the run's database pod.
            .before(move |env| {
                let prefix = prefix.replace("postgresql-0", &env.pg_pod);
                env.standin.faults().set_fail(method, &prefix, status)
            })
            .then(|_, out| {
                assert!(
                    out.stderr
                        .lines()
                        .filter(|l| !l.starts_with("uis:"))
                        .count()
                        <= 3,
                    "{}",
                    out.stderr
                );
            }),
        );
    }
    // A read that only improves the output fails: said, and the rest goes on.
    let envfile = cx.p("app.env");
    let written = cx.tmp.join("app.env");
    rows.push(
        Row::check(
            Case::fault(
                "API answers 403 reading the IngressRoute",
                "uis-jwt-mint",
                &["shop", "--write-env", &envfile],
            )
            .code(0)
            .says(&["\"status\":\"ok\""])
            .after(".env written with the in-cluster URL, and a warning on stderr (checked)"),
        )
        .before(|env| {
            env.standin.faults().set_fail(
                Some("GET"),
                "/apis/traefik.io/v1alpha1/namespaces/postgrest/ingressroutes",
                403,
            )
        })
        .then(move |_, out| {
            assert!(
                out.stderr.contains("warning: cannot read IngressRoute"),
                "{}",
                out.stderr
            );
            assert!(
                std::fs::read_to_string(&written)
                    .unwrap()
                    .contains("svc.cluster.local"),
                "the in-cluster URL"
            );
        }),
    );
    // A slow API: within the timeout it works; past it, a clear timeout.
    rows.push(
        Row::check(
            Case::fault(
                "API answers after 300 ms (default timeout)",
                "uis-db-creds",
                &["shop", "--format", "url"],
            )
            .code(0)
            .says(&["postgresql://shop:"]),
        )
        .before(|env| {
            env.standin
                .faults()
                .set_api_latency(Duration::from_millis(300))
        }),
    );
    let slow = |env: &Env| env.standin.faults().set_api_latency(Duration::from_secs(5));
    rows.push(
        Row::check(
            Case::fault(
                "API answers after 5 s, --request-timeout 1",
                "uis-db-creds",
                &["shop", "--request-timeout", "1"],
            )
            .says(&["--request-timeout"])
            .within(Duration::from_secs(4)),
        )
        .before(slow),
    );
    rows.push(
        Row::check(
            Case::fault(
                "API answers after 5 s, --request-timeout 1",
                "uis-postgrest-deploy",
                &["shop", "--request-timeout", "1"],
            )
            .says(&["--request-timeout"])
            .within(Duration::from_secs(8)),
        )
        .before(slow),
    );
    // A Deployment write the API refuses: every write is tried first (a
    // server-side-apply dry run, before the database side), so nothing is
    // done, the error says so, and a re-run completes it.
    let case = Case::fault("API answers 500 writing the Deployment (new app)", "uis-postgrest-deploy", &["shop2"])
        .says(&["500", "(dry run)", "nothing was changed", "safe to run again"])
        .after("nothing written: no roles, no Secret `shop2-postgrest`, no Deployment (its dry run, before any change, was refused); the error says so; a re-run completes (checked)");
    rows.push(
        Row::check(case)
            .before(|env| {
                env.run("uis-db-configure", &["shop2"]).ok();
                env.standin.faults().set_fail(
                    Some("PATCH"),
                    "/apis/apps/v1/namespaces/postgrest/deployments",
                    500,
                );
            })
            .then(|env, out| {
                assert!(
                    env.postgrest_deployment("shop2").is_none(),
                    "{}",
                    out.stderr
                );
                assert!(
                    env.standin
                        .get("v1", "Secret", Some("postgrest"), "shop2-postgrest")
                        .is_none(),
                    "no Secret was written"
                );
                assert_eq!(
                    count(
                        env,
                        "postgres",
                        "select count(*) from pg_roles where rolname = 'shop2_authenticator'"
                    ),
                    0,
                    "no role was made"
                );
                env.run("uis-postgrest-deploy", &["shop2"]).ok();
                assert!(env.postgrest_deployment("shop2").is_some());
            }),
    );
    rows
}

table!(
    TABLE;
    creds_api_answers_403_reading_secrets,
    creds_api_answers_500_reading_secrets,
    creds_api_answers_503_reading_secrets_retried,
    psql_api_answers_429_reading_secrets_retried,
    psql_api_answers_403_listing_pods,
    psql_api_answers_500_on_port_forward,
    configure_api_answers_403_writing_secrets_new_app,
    configure_api_answers_500_writing_secrets_new_app,
    seed_api_answers_401_on_every_request,
    jwt_mint_api_answers_500_reading_the_postgrest_secret,
    postgrest_deploy_api_answers_403_on_deployments_deploy_status,
    jwt_mint_api_answers_403_reading_the_ingressroute,
    creds_api_answers_after_300_ms_default_timeout,
    creds_api_answers_after_5_s_request_timeout_1,
    postgrest_deploy_api_answers_after_5_s_request_timeout_1,
    postgrest_deploy_api_answers_500_writing_the_deployment_new_app,
);
