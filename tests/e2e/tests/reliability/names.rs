//! Bad names wherever a name is read: APP in every binary, the names the
//! suite creates, Kubernetes names.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "names",
    prepare,
    dry: Cx::dry,
    rows,
};

fn prepare(env: &Env) -> Cx {
    std::fs::create_dir_all(env.path("db")).unwrap();
    Cx::of(env)
}

fn rows(cx: &Cx) -> Vec<Row> {
    let mut rows = Vec::new();
    let seed_dir = cx.p("db");
    for (what, name) in bad_names() {
        let n = name.as_str();
        let per_bin: [(&str, Vec<&str>); 8] = [
            ("uis-db-configure", vec![n]),
            ("uis-db-creds", vec![n]),
            ("uis-db-tunnel", vec![n]),
            ("uis-db-psql", vec![n, "-c", "select 1"]),
            ("uis-db-seed", vec![n, &seed_dir]),
            ("uis-postgrest-deploy", vec![n]),
            ("uis-jwt-mint", vec![n, "--role", "web_anon"]),
            ("uis-db-doctor", vec![n]),
        ];
        // A name UIS allows (`Shop`, `1app`) is looked up: not configured
        // here. `uis-db-configure` of such a new app refuses it with the
        // stricter rule of the names the suite creates (docs/reference/names.md).
        let uis_allows = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !name.is_empty()
            && name.len() <= 63;
        for (bin, args) in per_bin {
            let case = Case::bad(format!("APP: {what}"), bin, &args);
            rows.push(match (uis_allows, bin) {
                (true, "uis-db-configure") => Row::check(case.says(&["invalid APP", APP_RULE])),
                // doctor reports it as its failing `database` check, in
                // its JSON on stdout, with the fix.
                (true, "uis-db-doctor") => Row::custom(
                    case.code(1)
                        .says(&["is not configured", "uis db configure"]),
                    doctor_not_configured,
                ),
                (true, "uis-jwt-mint") => {
                    Row::check(case.code(1).says(&["is not deployed", "hint:"]))
                }
                (true, _) => Row::check(case.code(1).says(&["is not configured", "hint:"])),
                (false, _) => Row::check(case.says(&["invalid APP", EXISTING_APP_RULE])),
            });
        }
    }
    // Names the suite creates.
    for (what, name) in bad_names() {
        if name == "1app" {
            continue;
        }
        rows.push(Row::check(
            Case::bad(
                format!("--owner: {what}"),
                "uis-db-configure",
                &["shop", "--owner", &name],
            )
            .says(&["invalid --owner", NAME_RULE]),
        ));
    }
    for (what, flag, value) in [
        ("--database with a space", "--database", "My DB"),
        ("--database with a dash", "--database", "my-db"),
        ("--schemas with uppercase", "--schemas", "Api"),
        ("--schemas with an empty item", "--schemas", "api,,x"),
        ("--authenticator with a quote", "--authenticator", "auth\"x"),
        ("--anon-role: 64 characters", "--anon-role", &"a".repeat(64)),
    ] {
        let field = if flag == "--schemas" { "schema" } else { flag };
        rows.push(Row::check(
            Case::bad(what, "uis-db-configure", &["shop", flag, value])
                .says(&[&format!("invalid {field}")]),
        ));
    }
    rows.push(Row::check(
        Case::bad(
            "--secret-name-prefix: uppercase and `_`",
            "uis-db-configure",
            &[
                "shop",
                "--namespace",
                "default",
                "--secret-name-prefix",
                "My_App",
            ],
        )
        .says(&["invalid --secret-name-prefix", "e.g. `railway`"]),
    ));
    rows.push(Row::check(
        Case::bad(
            "--namespace: a path",
            "uis-db-configure",
            &["shop", "--namespace", "a/b", "--secret-name-prefix", "x"],
        )
        .says(&[
            "invalid value 'a/b' for '--namespace <NS>'",
            "e.g. `default`",
        ]),
    ));
    for (what, bin, args, says) in [
        (
            "--anon-role with a space",
            "uis-postgrest-deploy",
            vec!["shop", "--anon-role", "web anon"],
            "invalid --anon-role",
        ),
        (
            "--schemas with `;`",
            "uis-postgrest-deploy",
            vec!["shop", "--schemas", "api;drop"],
            "invalid schema",
        ),
        (
            "--as with a newline",
            "uis-db-psql",
            vec!["shop", "--as", "a\nb", "-c", "select 1"],
            "invalid value",
        ),
        (
            "--as empty",
            "uis-db-seed",
            vec!["shop", "--as", "", "db"],
            "invalid value",
        ),
        (
            "--role: 64 characters",
            "uis-db-creds",
            vec!["shop", "--role", &"r".repeat(64)],
            "invalid value",
        ),
        (
            "--role empty",
            "uis-db-tunnel",
            vec!["shop", "--role", ""],
            "invalid value",
        ),
        (
            "--role with a control character",
            "uis-jwt-mint",
            vec!["shop", "--role", "a\u{7}"],
            "invalid value",
        ),
        (
            "--pg-namespace: a path",
            "uis-db-creds",
            vec!["shop", "--pg-namespace", "default/secrets"],
            "must be a Kubernetes name",
        ),
        (
            "--pg-service: uppercase",
            "uis-db-creds",
            vec!["shop", "--pg-service", "PostgreSQL"],
            "must be a Kubernetes name",
        ),
    ] {
        rows.push(Row::check(Case::bad(what, bin, &args).says(&[says])));
    }
    rows
}

table!(
    TABLE;
    configure_app_uppercase,
    creds_app_uppercase,
    tunnel_app_uppercase,
    psql_app_uppercase,
    seed_app_uppercase,
    postgrest_deploy_app_uppercase,
    jwt_mint_app_uppercase,
    doctor_app_uppercase,
    configure_app_space,
    creds_app_space,
    tunnel_app_space,
    psql_app_space,
    seed_app_space,
    postgrest_deploy_app_space,
    jwt_mint_app_space,
    doctor_app_space,
    configure_app_double_quote,
    creds_app_double_quote,
    tunnel_app_double_quote,
    psql_app_double_quote,
    seed_app_double_quote,
    postgrest_deploy_app_double_quote,
    jwt_mint_app_double_quote,
    doctor_app_double_quote,
    configure_app_single_quote,
    creds_app_single_quote,
    tunnel_app_single_quote,
    psql_app_single_quote,
    seed_app_single_quote,
    postgrest_deploy_app_single_quote,
    jwt_mint_app_single_quote,
    doctor_app_single_quote,
    configure_app_semicolon,
    creds_app_semicolon,
    tunnel_app_semicolon,
    psql_app_semicolon,
    seed_app_semicolon,
    postgrest_deploy_app_semicolon,
    jwt_mint_app_semicolon,
    doctor_app_semicolon,
    configure_app_dotdot,
    creds_app_dotdot,
    tunnel_app_dotdot,
    psql_app_dotdot,
    seed_app_dotdot,
    postgrest_deploy_app_dotdot,
    jwt_mint_app_dotdot,
    doctor_app_dotdot,
    configure_app_a_path,
    creds_app_a_path,
    tunnel_app_a_path,
    psql_app_a_path,
    seed_app_a_path,
    postgrest_deploy_app_a_path,
    jwt_mint_app_a_path,
    doctor_app_a_path,
    configure_app_control_character,
    creds_app_control_character,
    tunnel_app_control_character,
    psql_app_control_character,
    seed_app_control_character,
    postgrest_deploy_app_control_character,
    jwt_mint_app_control_character,
    doctor_app_control_character,
    configure_app_newline,
    creds_app_newline,
    tunnel_app_newline,
    psql_app_newline,
    seed_app_newline,
    postgrest_deploy_app_newline,
    jwt_mint_app_newline,
    doctor_app_newline,
    configure_app_non_ascii,
    creds_app_non_ascii,
    tunnel_app_non_ascii,
    psql_app_non_ascii,
    seed_app_non_ascii,
    postgrest_deploy_app_non_ascii,
    jwt_mint_app_non_ascii,
    doctor_app_non_ascii,
    configure_app_64_characters,
    creds_app_64_characters,
    tunnel_app_64_characters,
    psql_app_64_characters,
    seed_app_64_characters,
    postgrest_deploy_app_64_characters,
    jwt_mint_app_64_characters,
    doctor_app_64_characters,
    configure_app_empty,
    creds_app_empty,
    tunnel_app_empty,
    psql_app_empty,
    seed_app_empty,
    postgrest_deploy_app_empty,
    jwt_mint_app_empty,
    doctor_app_empty,
    configure_app_digit_first,
    creds_app_digit_first,
    tunnel_app_digit_first,
    psql_app_digit_first,
    seed_app_digit_first,
    postgrest_deploy_app_digit_first,
    jwt_mint_app_digit_first,
    doctor_app_digit_first,
    configure_owner_uppercase,
    configure_owner_space,
    configure_owner_double_quote,
    configure_owner_single_quote,
    configure_owner_semicolon,
    configure_owner_dotdot,
    configure_owner_a_path,
    configure_owner_control_character,
    configure_owner_newline,
    configure_owner_non_ascii,
    configure_owner_64_characters,
    configure_owner_empty,
    configure_database_with_a_space,
    configure_database_with_a_dash,
    configure_schemas_with_uppercase,
    configure_schemas_with_an_empty_item,
    configure_authenticator_with_a_quote,
    configure_anon_role_64_characters,
    configure_secret_name_prefix_uppercase_and,
    configure_namespace_a_path,
    postgrest_deploy_anon_role_with_a_space,
    postgrest_deploy_schemas_with,
    psql_as_with_a_newline,
    seed_as_empty,
    creds_role_64_characters,
    tunnel_role_empty,
    jwt_mint_role_with_a_control_character,
    creds_pg_namespace_a_path,
    creds_pg_service_uppercase,
);

/// `uis-db-doctor APP` of an app that is not configured: exit 1, the
/// `database` check fails naming the fix, nothing changes.
fn doctor_not_configured(env: &Env, case: &Case) {
    let before = uis_e2e::reliability::snapshot(env);
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let out = env.run(&case.bin, &args);
    out.expect_code(case.code);
    let j = out.json();
    let db = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "database")
        .cloned()
        .unwrap_or_else(|| panic!("a database check: {j}"));
    assert_eq!(db["status"], "fail", "{j}");
    let message = db["message"].as_str().unwrap_or_default();
    let fix = db["fix"].as_str().unwrap_or_default();
    for (text, part) in [(message, &case.says[0]), (fix, &case.says[1])] {
        assert!(text.contains(part.as_str()), "{part:?} in {j}");
    }
    assert_eq!(fix, format!("uis db configure {}", case.args[0]));
    let after = uis_e2e::reliability::snapshot(env);
    assert_eq!(before.cluster, after.cluster, "the cluster changed");
    assert_eq!(before.catalog, after.catalog, "the database changed");
    uis_e2e::assert_no_known_secret(&case.bin, &out.stderr);
}
