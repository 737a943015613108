//! A bad cluster configuration (kubeconfig, context) and Secrets with
//! missing keys, bad values or bad contents.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "cluster",
    prepare,
    dry: Cx::dry,
    rows,
};

fn prepare(env: &Env) -> Cx {
    shop(env);
    write(&env.path("kc-garbage"), "apiVersion: v1\nclusters: [\n");
    write(&env.path("kc-empty"), "");
    std::fs::create_dir_all(env.path("kc-dir")).unwrap();
    let good = std::fs::read_to_string(&env.kubeconfig).unwrap();
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    write(
        &env.path("kc-closed"),
        good.replace(
            &format!("127.0.0.1:{}", env.standin.port()),
            &format!("127.0.0.1:{closed_port}"),
        ),
    );
    let other = uis_e2e::StandIn::start(Default::default()).unwrap();
    write(
        &env.path("kc-wrong-ca"),
        other.kubeconfig().replace(&other.url(), &env.standin.url()),
    );
    write(
        &env.path("kc-wrong-token"),
        env.standin
            .token_kubeconfig()
            .replace(&env.standin.token(), "not-the-token"),
    );
    Cx::of(env)
}

fn rows(cx: &Cx) -> Vec<Row> {
    let mut rows = Vec::new();
    let garbage = cx.p("kc-garbage");
    let empty = cx.p("kc-empty");
    let dir = cx.p("kc-dir");
    let unreachable = cx.p("kc-closed");
    let wrong_ca = cx.p("kc-wrong-ca");
    let wrong_token = cx.p("kc-wrong-token");
    for (what, kc, says) in [
        (
            "KUBECONFIG: not YAML",
            garbage.as_str(),
            vec!["cannot read kubeconfig", "hint:"],
        ),
        (
            "KUBECONFIG: empty file",
            empty.as_str(),
            vec!["kubeconfig", "hint:"],
        ),
        (
            "KUBECONFIG: a directory",
            dir.as_str(),
            vec!["Is a directory", "hint:"],
        ),
        (
            "KUBECONFIG: no such file",
            "/nonexistent/kubeconfig",
            vec!["names no existing file", "hint:"],
        ),
        (
            "KUBECONFIG: API port closed",
            unreachable.as_str(),
            vec!["127.0.0.1", "hint:"],
        ),
        (
            "KUBECONFIG: another cluster's CA",
            wrong_ca.as_str(),
            vec!["certificate", "hint:"],
        ),
        (
            "KUBECONFIG: a revoked token",
            wrong_token.as_str(),
            vec!["401", "hint:"],
        ),
    ] {
        rows.push(Row::check(
            Case::bad(what, "uis-db-creds", &["shop"])
                .env("KUBECONFIG", kc)
                .code(1)
                .says(&says)
                .within(Duration::from_secs(15)),
        ));
    }
    rows.push(Row::check(
        Case::bad(
            "no KUBECONFIG and no ~/.kube/config",
            "uis-db-creds",
            &["shop"],
        )
        .env("KUBECONFIG", "")
        .code(1)
        .says(&["kubeconfig", "hint:"]),
    ));
    rows.push(Row::check(
        Case::bad(
            "--context unknown",
            "uis-db-creds",
            &["shop", "--context", "nope"],
        )
        .code(1)
        .says(&["context \"nope\" is not in the kubeconfig", "hint:"]),
    ));
    rows.push(Row::check(
        Case::bad(
            "--kubeconfig missing",
            "uis-db-psql",
            &["shop", "--kubeconfig", "/nonexistent", "-c", "select 1"],
        )
        .code(1)
        .says(&["/nonexistent", "hint:"]),
    ));

    // Secrets with missing keys, bad values or bad contents.
    let store = "uis-db-shop";
    let cases: [(&str, &str, Option<&str>, &[&str]); 4] = [
        (
            "credential store: app.json is not JSON",
            "app.json",
            Some("bm90IGpzb24="),
            &["uis-db-shop", "hint:"],
        ),
        (
            "credential store: app.json missing",
            "app.json",
            None,
            &["uis-db-shop", "hint:"],
        ),
        (
            "credential store: the owner's password missing",
            "password.shop",
            None,
            &["shop", "hint:"],
        ),
        (
            "credential store: a value not base64",
            "password.shop",
            Some("%%%not-base64%%%"),
            &["uis-db-shop", "hint:"],
        ),
    ];
    for (what, key, value, says) in cases {
        let value = value.map(str::to_string);
        rows.push(
            Row::check(
                Case::bad(what, "uis-db-creds", &["shop"])
                    .code(1)
                    .says(says),
            )
            .before(move |env| {
                edit_secret(env, "default", store, key, value.as_deref());
            }),
        );
    }
    // Superuser password: both Secrets lose their key, or hold an empty one.
    rows.push(
        Row::check(
            Case::bad(
                "superuser Secrets without their keys",
                "uis-db-creds",
                &["--admin"],
            )
            .code(1)
            .says(&["urbalurba-secrets", "Secret default/postgresql", "hint:"]),
        )
        .then(|env, out| {
            // In-cluster the Bitnami Secret is there without its key; on
            // proxied there is none.
            let second = match env.topology {
                uis_e2e::Topology::InCluster => {
                    "key postgres-password in Secret default/postgresql not found"
                }
                uis_e2e::Topology::Proxied => "and Secret default/postgresql not found",
            };
            assert!(out.stderr.contains(second), "{}", out.stderr);
        })
        .before(|env| {
            edit_secret(env, "default", "urbalurba-secrets", "PGPASSWORD", None);
            // The Bitnami chart's Secret (none on proxied).
            if env.topology == uis_e2e::Topology::InCluster {
                edit_secret(env, "default", "postgresql", "postgres-password", None);
            }
        }),
    );
    rows.push(
        Row::check(
            Case::bad(
                "superuser Secrets with empty passwords",
                "uis-db-psql",
                &["--as", "admin", "-c", "select 1"],
            )
            .code(1)
            .says(&["urbalurba-secrets", "hint:"]),
        )
        .before(|env| {
            edit_secret(env, "default", "urbalurba-secrets", "PGPASSWORD", Some(""));
            // The Bitnami chart's Secret (none on proxied).
            if env.topology == uis_e2e::Topology::InCluster {
                edit_secret(env, "default", "postgresql", "postgres-password", Some(""));
            }
        }),
    );
    rows.push(
        Row::check(
            Case::bad(
                "superuser Secret with a wrong password",
                "uis-db-configure",
                &["other"],
            )
            .code(1)
            .says(&["password authentication failed", "hint:"]),
        )
        .before(|env| {
            edit_secret(
                env,
                "default",
                "urbalurba-secrets",
                "PGPASSWORD",
                Some(&base64_encode(b"wrong-password-123")),
            );
        }),
    );
    // The PostgREST Secret.
    for (what, value, says) in [
        (
            "PostgREST Secret without its JWT secret",
            None,
            vec!["PGRST_JWT_SECRET", "hint:"],
        ),
        (
            "PostgREST JWT secret of 10 characters",
            Some(base64_encode(b"0123456789")),
            vec!["at least 32 characters", "hint:"],
        ),
    ] {
        rows.push(
            Row::check(
                Case::bad(what, "uis-jwt-mint", &["shop", "--role", "shop_web_anon"])
                    .code(1)
                    .says(&says),
            )
            .before(move |env| {
                edit_secret(
                    env,
                    "postgrest",
                    "shop-postgrest",
                    "PGRST_JWT_SECRET",
                    value.as_deref(),
                );
            }),
        );
    }
    rows
}

table!(
    TABLE;
    creds_kubeconfig_not_yaml,
    creds_kubeconfig_empty_file,
    creds_kubeconfig_a_directory,
    creds_kubeconfig_no_such_file,
    creds_kubeconfig_api_port_closed,
    creds_kubeconfig_another_cluster_s_ca,
    creds_kubeconfig_a_revoked_token,
    creds_no_kubeconfig_and_no_kube_config,
    creds_context_unknown,
    psql_kubeconfig_missing,
    creds_credential_store_app_json_is_not_json,
    creds_credential_store_app_json_missing,
    creds_credential_store_the_owner_s_password_missing,
    creds_credential_store_a_value_not_base64,
    creds_superuser_secrets_without_their_keys,
    psql_superuser_secrets_with_empty_passwords,
    configure_superuser_secret_with_a_wrong_password,
    jwt_mint_postgrest_secret_without_its_jwt_secret,
    jwt_mint_postgrest_jwt_secret_of_10_characters,
);
