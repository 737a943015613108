//! Bad tokens for `jwt mint --verify` and `psql --jwt`.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "tokens",
    prepare,
    dry: Cx::dry,
    rows,
};

fn prepare(env: &Env) -> Cx {
    shop(env);
    let secret = env
        .standin
        .reader()
        .secret_data()
        .into_iter()
        .find(|(id, k, _)| id == "postgrest/shop-postgrest" && k == "PGRST_JWT_SECRET")
        .map(|(_, _, v)| v)
        .expect("the JWT secret");
    Cx {
        jwt_secret: secret,
        ..Cx::of(env)
    }
}

fn rows(cx: &Cx) -> Vec<Row> {
    let mut rows = Vec::new();
    let secret = &cx.jwt_secret;
    let sign =
        |claims: serde_json::Value, key: &str| uis_postgrest::jwt::mint(key, &claims).unwrap();
    let expired = sign(
        json!({"role": "shop_authenticated", "exp": now() - 120}),
        secret,
    );
    let forged = sign(
        json!({"role": "shop_authenticated", "exp": now() + 600}),
        "another-secret-that-is-long-enough-123",
    );
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none_alg = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&json!({"role": "shop_authenticated"}))
    );
    let future_iat = sign(
        json!({"role": "shop_authenticated", "iat": now() + 3600, "exp": now() + 7200}),
        secret,
    );
    let ghost_role = sign(json!({"role": "ghost", "exp": now() + 600}), secret);
    // None of them may be echoed back on stderr.
    let tokens: Vec<String> = [&expired, &forged, &none_alg, &future_iat, &ghost_role]
        .into_iter()
        .cloned()
        .collect();
    let remember = move |_: &Env| {
        for t in &tokens {
            uis_e2e::remember_secret(t);
        }
    };
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("expired token", expired, vec!["JWT expired"]),
        ("token signed with another secret", forged, vec!["PGRST301"]),
        ("alg none", none_alg, vec!["unsupported encoding algorithm"]),
        ("not a JWT", "abc.def".into(), vec!["JWT"]),
        (
            "issued in the future",
            future_iat,
            vec!["JWT issued at future"],
        ),
        ("role that does not exist", ghost_role, vec!["ghost"]),
    ];
    for (what, token, says) in &cases {
        rows.push(
            Row::check(
                Case::bad(
                    format!("--verify: {what}"),
                    "uis-jwt-mint",
                    &["shop", "--verify", token],
                )
                .code(1)
                .says(says),
            )
            .before(remember.clone()),
        );
    }
    for (what, token, says) in cases.iter().take(3) {
        rows.push(
            Row::check(
                Case::bad(
                    format!("--jwt: {what}"),
                    "uis-db-psql",
                    &["shop", "--jwt", token, "-c", "select 1"],
                )
                .code(1)
                .says(says),
            )
            .before(remember.clone()),
        );
    }
    rows.push(
        Row::check(
            Case::bad(
                "--verify: empty token on stdin",
                "uis-jwt-mint",
                &["shop", "--verify"],
            )
            .stdin("")
            .code(1)
            .says(&["token"]),
        )
        .before(remember),
    );
    rows
}

table!(
    TABLE;
    jwt_mint_verify_expired_token,
    jwt_mint_verify_token_signed_with_another_secret,
    jwt_mint_verify_alg_none,
    jwt_mint_verify_not_a_jwt,
    jwt_mint_verify_issued_in_the_future,
    jwt_mint_verify_role_that_does_not_exist,
    psql_jwt_expired_token,
    psql_jwt_token_signed_with_another_secret,
    psql_jwt_alg_none,
    jwt_mint_verify_empty_token_on_stdin,
);
