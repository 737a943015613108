//! Every JWT secret form PostgREST accepts (issue 19), in `uis jwt mint`,
//! `--verify`, `uis db psql --jwt` and the doctor: a plain secret counted in
//! bytes, base64, a JWK, a JWK set (RS256, ES256, EdDSA tokens), `pgrst.*`
//! settings on the authenticator role; role claims that are not strings;
//! a configured role claim key; `--jwt-aud` values; CORS origins.
//!
//! Tokens are built by an independent implementation,
//! `tests/fixtures/jwt/sign.py` (Python's hmac for HS*, the `openssl`
//! command-line tool for RS256/ES256/EdDSA), with the test key pairs in
//! `tests/fixtures/jwt/`.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use uis_e2e::{Env, Out, base64_encode, need_tool, output};

fn fixture(name: &str) -> PathBuf {
    uis_harness::fixture::fixtures_dir().join("jwt").join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// The roles of a deployed app.
struct App {
    name: String,
    authenticator: String,
    anon: String,
    authenticated: String,
    db: String,
}

fn deploy(env: &Env, app: &str, extra: &[&str]) -> App {
    env.run("uis-db-configure", &[app, "--schemas", "app", "--json"])
        .ok();
    let mut args = vec![app, "--json"];
    args.extend_from_slice(extra);
    let out = env.run("uis-postgrest-deploy", &args);
    out.ok();
    let j = out.json();
    App {
        name: app.to_string(),
        authenticator: j["roles"]["authenticator"].as_str().unwrap().into(),
        anon: j["roles"]["anon"].as_str().unwrap().into(),
        authenticated: j["roles"]["authenticated"].as_str().unwrap().into(),
        db: j["database"].as_str().unwrap().into(),
    }
}

fn secret_of(env: &Env, app: &str) -> Value {
    env.standin
        .get(
            "v1",
            "Secret",
            Some("postgrest"),
            &format!("{app}-postgrest"),
        )
        .unwrap()
}

/// Sets (or with `None` removes) one key of the app's Secret.
fn set_setting(env: &Env, app: &str, key: &str, value: Option<&str>) {
    let mut s = secret_of(env, app);
    let data = s["data"].as_object_mut().unwrap();
    match value {
        Some(v) => data.insert(key.into(), base64_encode(v.as_bytes()).into()),
        None => data.remove(key),
    };
    env.standin.put(s);
}

fn setting(env: &Env, app: &str, key: &str) -> Option<String> {
    use base64::Engine;
    secret_of(env, app)["data"][key].as_str().map(|v| {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(v).unwrap()).unwrap()
    })
}

/// Whether python3 and openssl are there (fails under CI when not).
fn tools() -> bool {
    need_tool("python3").is_some() && need_tool("openssl").is_some()
}

/// A token signed by `sign.py`: HS* with `key` as raw bytes, else with the
/// PEM fixture `key`.
fn sign(alg: &str, key: &[u8], header: Value, payload: Value) -> String {
    let key_arg = if alg.starts_with("HS") {
        key.iter().map(|b| format!("{b:02x}")).collect::<String>()
    } else {
        fixture(std::str::from_utf8(key).unwrap())
            .display()
            .to_string()
    };
    let out = output(Command::new("python3").arg(fixture("sign.py")).args([
        alg,
        &key_arg,
        &header.to_string(),
        &payload.to_string(),
    ]));
    assert_eq!(out.code, 0, "sign.py: {}", out.stderr);
    out.stdout.trim().to_string()
}

fn hs256(key: &[u8], payload: Value) -> String {
    sign("HS256", key, json!({"alg": "HS256", "typ": "JWT"}), payload)
}

fn verify(env: &Env, app: &str, token: &str) -> Out {
    env.run("uis-jwt-mint", &[app, "--verify", token])
}

/// `select current_user` as PostgREST would run it for `token`.
fn psql_as(env: &Env, app: &str, token: &str) -> Out {
    env.run(
        "uis-db-psql",
        &[
            app,
            "--jwt",
            token,
            "--format",
            "csv",
            "-c",
            "select current_user",
        ],
    )
}

/// The role `select current_user` ran as (the command must succeed).
#[track_caller]
fn ran_as(env: &Env, app: &str, token: &str) -> String {
    let out = psql_as(env, app, token);
    out.ok();
    out.stdout.lines().last().unwrap_or_default().to_string()
}

#[track_caller]
fn refused(out: &Out, says: &str) {
    assert_ne!(out.code, 0, "accepted:\n{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(says),
        "wanted {says:?} in:\n{}",
        out.stderr
    );
}

#[track_caller]
fn valid(out: &Out) -> Value {
    out.ok();
    let j = out.json();
    assert_eq!(j["status"], "valid", "{j}");
    j["claims"].clone()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn plain_secrets_count_bytes_and_base64_secrets_are_decoded() {
    if !tools() {
        return;
    }
    let env = Env::new();
    let app = deploy(&env, "plainb", &[]);
    // 17 characters, 33 bytes: PostgREST counts bytes, so this is valid.
    let wide = "ææææææææææææææææx";
    assert!(wide.chars().count() < 32 && wide.len() >= 32);
    set_setting(&env, &app.name, "PGRST_JWT_SECRET", Some(wide));
    let t = hs256(wide.as_bytes(), json!({"role": app.anon}));
    valid(&verify(&env, &app.name, &t));
    assert_eq!(ran_as(&env, &app.name, &t), app.anon);
    let minted = env.run("uis-jwt-mint", &[&app.name, "--role", "anon"]);
    minted.ok();
    valid(&verify(&env, &app.name, minted.stdout.trim()));
    // Deploy keeps it (it counted characters before).
    env.run("uis-postgrest-deploy", &[&app.name, "--json"]).ok();
    assert_eq!(
        setting(&env, &app.name, "PGRST_JWT_SECRET").as_deref(),
        Some(wide)
    );
    // 31 bytes are refused everywhere, with PostgREST's message.
    set_setting(&env, &app.name, "PGRST_JWT_SECRET", Some(&"s".repeat(31)));
    refused(
        &env.run("uis-jwt-mint", &[&app.name, "--role", "anon"]),
        "The JWT secret must be at least 32 characters long.",
    );
    refused(
        &psql_as(&env, &app.name, &t),
        "The JWT secret must be at least 32 characters long.",
    );

    // Base64: the decoded bytes (not UTF-8 here) are the key.
    let key: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
    let b64 = base64_encode(&key);
    set_setting(&env, &app.name, "PGRST_JWT_SECRET", Some(&b64));
    set_setting(&env, &app.name, "PGRST_JWT_SECRET_IS_BASE64", Some("true"));
    let good = hs256(&key, json!({"role": app.authenticated}));
    valid(&verify(&env, &app.name, &good));
    // A re-deploy keeps both (and binds the flag into the pods).
    env.run("uis-postgrest-deploy", &[&app.name, "--json"]).ok();
    assert_eq!(
        setting(&env, &app.name, "PGRST_JWT_SECRET").as_deref(),
        Some(&*b64)
    );
    let (_, checks) = doctor(&env, &app.name);
    assert_eq!(checks["anon-token"].0, "pass", "{checks:?}");
    assert_eq!(checks["jwt-secret"].0, "pass", "{checks:?}");
    assert_eq!(ran_as(&env, &app.name, &good), app.authenticated);
    // Keyed on the base64 text itself: refused.
    let on_text = hs256(b64.as_bytes(), json!({"role": app.anon}));
    refused(
        &verify(&env, &app.name, &on_text),
        "No suitable key or wrong key type (PGRST301)",
    );
    // uis jwt mint signs with the decoded bytes: the independent check.
    let minted = env.run(
        "uis-jwt-mint",
        &[&app.name, "--role", "anon", "--format", "json"],
    );
    minted.ok();
    let j = minted.json();
    let again = hs256(&key, j["claims"].clone());
    assert_eq!(again, j["token"].as_str().unwrap());
    // 24 bytes after decoding are too short, though the text has 32.
    set_setting(
        &env,
        &app.name,
        "PGRST_JWT_SECRET",
        Some(&base64_encode(&[7u8; 24])),
    );
    refused(
        &env.run("uis-jwt-mint", &[&app.name, "--role", "anon"]),
        "at least 32 characters",
    );
    let (_, checks) = doctor(&env, &app.name);
    assert_eq!(checks["jwt-secret"].0, "fail", "{checks:?}");
    // Rotation makes a plain secret, and turns the base64 flag off.
    env.run(
        "uis-postgrest-deploy",
        &[&app.name, "--rotate-jwt-secret", "--json"],
    )
    .ok();
    assert_eq!(
        setting(&env, &app.name, "PGRST_JWT_SECRET_IS_BASE64").as_deref(),
        Some("false")
    );
    let fresh = setting(&env, &app.name, "PGRST_JWT_SECRET").unwrap();
    let minted = env.run(
        "uis-jwt-mint",
        &[&app.name, "--role", "anon", "--format", "json"],
    );
    minted.ok();
    let j = minted.json();
    assert_eq!(
        hs256(fresh.as_bytes(), j["claims"].clone()),
        j["token"].as_str().unwrap()
    );
    // Offline: --secret-file with --secret-is-base64.
    let file = env.path("secret.b64");
    std::fs::write(&file, format!("{b64}\n")).unwrap();
    let off = env.run(
        "uis-jwt-mint",
        &[
            &app.name,
            "--role",
            "anon",
            "--secret-file",
            file.to_str().unwrap(),
            "--secret-is-base64",
            "--format",
            "json",
        ],
    );
    off.ok();
    let j = off.json();
    assert_eq!(
        hs256(&key, j["claims"].clone()),
        j["token"].as_str().unwrap()
    );
}

/// The doctor's checks as id → (status, fix).
fn doctor(env: &Env, app: &str) -> (i32, std::collections::BTreeMap<String, (String, String)>) {
    let out = env.run("uis-db-doctor", &[app, "--json"]);
    let j = out.json();
    let mut m = std::collections::BTreeMap::new();
    for c in j["checks"].as_array().unwrap() {
        m.insert(
            c["id"].as_str().unwrap().to_string(),
            (
                c["status"].as_str().unwrap().to_string(),
                format!(
                    "{} | {}",
                    c["message"].as_str().unwrap_or_default(),
                    c["fix"].as_str().unwrap_or_default()
                ),
            ),
        );
    }
    (out.code, m)
}

#[test]
fn jwk_and_jwks_secrets_verify_asymmetric_tokens_and_mint_with_the_private_key() {
    if !tools() {
        return;
    }
    let env = Env::new();
    let app = deploy(&env, "jwks", &[]);
    let jwks = fixture_text("public.jwks");
    set_setting(&env, &app.name, "PGRST_JWT_SECRET", Some(jwks.trim()));
    let claims = json!({"role": app.authenticated, "exp": now() + 600});
    for (alg, key, kid) in [
        ("RS256", "rsa-private.pem", Some("rsa-1")),
        ("RS256", "rsa-private.pem", None),
        ("ES256", "ec-private.pem", Some("ec-1")),
        ("EdDSA", "ed25519-private.pem", None),
    ] {
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(k) = kid {
            header["kid"] = k.into();
        }
        let t = sign(alg, key.as_bytes(), header, claims.clone());
        let c = valid(&verify(&env, &app.name, &t));
        assert_eq!(c["role"], app.authenticated.as_str(), "{alg}");
        assert_eq!(ran_as(&env, &app.name, &t), app.authenticated, "{alg}");
    }
    // A kid no key has, the wrong key pair, an HS256 token keyed on the JSON.
    let wrong_kid = sign(
        "RS256",
        b"rsa-private.pem",
        json!({"alg": "RS256", "kid": "ec-1"}),
        claims.clone(),
    );
    refused(&verify(&env, &app.name, &wrong_kid), "No suitable key");
    let other = sign(
        "RS256",
        b"rsa-other-private.pem",
        json!({"alg": "RS256"}),
        claims.clone(),
    );
    refused(&verify(&env, &app.name, &other), "No suitable key");
    for text in [jwks.as_str(), jwks.trim()] {
        let on_json = hs256(text.as_bytes(), claims.clone());
        refused(&verify(&env, &app.name, &on_json), "No suitable key");
        refused(&psql_as(&env, &app.name, &on_json), "No suitable key");
    }

    // Minting needs the private key, and says so.
    let no_key = env.run("uis-jwt-mint", &[&app.name, "--role", "anon"]);
    refused(&no_key, "--key-file");
    assert!(no_key.stderr.contains("public keys"), "{}", no_key.stderr);
    for key in [
        "rsa-private.pem",
        "rsa-private.jwk",
        "ec-private.pem",
        "ed25519-private.pem",
    ] {
        let out = env.run(
            "uis-jwt-mint",
            &[
                &app.name,
                "--role",
                "authenticated",
                "--no-capabilities",
                "--key-file",
                fixture(key).to_str().unwrap(),
            ],
        );
        out.ok();
        let t = out.stdout.trim();
        valid(&verify(&env, &app.name, t));
        assert_eq!(ran_as(&env, &app.name, t), app.authenticated);
        if key == "rsa-private.pem" {
            // The same bytes as openssl's own RS256 (deterministic PKCS#1 v1.5).
            let mut parts = t.split('.');
            let (h, p) = (parts.next().unwrap(), parts.next().unwrap());
            use base64::Engine;
            let dec = |s: &str| {
                serde_json::from_slice::<Value>(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(s)
                        .unwrap(),
                )
                .unwrap()
            };
            let header = dec(h);
            assert_eq!(header["kid"], "rsa-1", "{header}");
            assert_eq!(header["alg"], "RS256");
            let theirs = sign("RS256", b"rsa-private.pem", header, dec(p));
            // sign.py re-serialises the JSON: compare the signature over
            // the same header and payload text instead.
            let again = output(
                Command::new("python3")
                    .arg(fixture("sign.py"))
                    .args(["RS256", fixture("rsa-private.pem").to_str().unwrap()])
                    .arg(
                        String::from_utf8(
                            base64::engine::general_purpose::URL_SAFE_NO_PAD
                                .decode(h)
                                .unwrap(),
                        )
                        .unwrap(),
                    )
                    .arg(
                        String::from_utf8(
                            base64::engine::general_purpose::URL_SAFE_NO_PAD
                                .decode(p)
                                .unwrap(),
                        )
                        .unwrap(),
                    ),
            );
            assert_eq!(again.stdout.trim(), t, "openssl signs the same bytes");
            valid(&verify(&env, &app.name, &theirs));
        }
    }
    let other = env.run(
        "uis-jwt-mint",
        &[
            &app.name,
            "--role",
            "anon",
            "--key-file",
            fixture("rsa-other-private.pem").to_str().unwrap(),
        ],
    );
    refused(&other, "not the private half of any key");
    // The doctor understands the set, and cannot mint its test token.
    let (_, checks) = doctor(&env, &app.name);
    assert_eq!(checks["jwt-secret"].0, "pass", "{checks:?}");
    assert!(checks["jwt-secret"].1.contains("a JWK set"), "{checks:?}");
    assert_eq!(checks["anon-token"].0, "skip", "{checks:?}");

    // One JWK.
    set_setting(
        &env,
        &app.name,
        "PGRST_JWT_SECRET",
        Some(fixture_text("rsa-public.jwk").trim()),
    );
    let t = sign(
        "RS256",
        b"rsa-private.pem",
        json!({"alg": "RS256"}),
        claims.clone(),
    );
    valid(&verify(&env, &app.name, &t));
    // An "oct" JWK is a symmetric key: its decoded "k", of any length.
    use base64::Engine;
    let k = b"a short symmetric key";
    let oct =
        json!({"kty": "oct", "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k)});
    set_setting(&env, &app.name, "PGRST_JWT_SECRET", Some(&oct.to_string()));
    valid(&verify(&env, &app.name, &hs256(k, claims.clone())));
    let hs512 = sign("HS512", k, json!({"alg": "HS512"}), claims.clone());
    valid(&verify(&env, &app.name, &hs512));
    refused(
        &verify(
            &env,
            &app.name,
            &hs256(oct.to_string().as_bytes(), claims.clone()),
        ),
        "No suitable key",
    );
    let minted = env.run(
        "uis-jwt-mint",
        &[&app.name, "--role", "anon", "--format", "json"],
    );
    minted.ok();
    let j = minted.json();
    assert_eq!(hs256(k, j["claims"].clone()), j["token"].as_str().unwrap());
}

#[test]
fn role_claims_that_are_not_strings_are_refused_and_a_claim_key_is_honoured() {
    if !tools() {
        return;
    }
    let env = Env::new();
    let app = deploy(&env, "claims", &[]);
    let key = setting(&env, &app.name, "PGRST_JWT_SECRET").unwrap();
    let key = key.as_bytes();
    for (value, text) in [
        (json!(5), "5"),
        (Value::Null, "null"),
        (json!(true), "true"),
        (json!([app.anon]), &*format!("[\"{}\"]", app.anon)),
        (
            json!({"name": app.anon}),
            &*format!("{{\"name\":\"{}\"}}", app.anon),
        ),
    ] {
        let t = hs256(key, json!({"role": value}));
        let says = format!("role \"{text}\" does not exist (22023)");
        let v = verify(&env, &app.name, &t);
        refused(&v, &says);
        assert!(v.stderr.contains("not a string"), "{}", v.stderr);
        let p = psql_as(&env, &app.name, &t);
        refused(&p, &says);
        assert!(!p.stdout.contains(&app.anon), "ran as anon: {}", p.stdout);
    }
    // No role claim at all: the anon role, as PostgREST.
    let t = hs256(key, json!({"sub": "x"}));
    assert_eq!(ran_as(&env, &app.name, &t), app.anon);

    // A configured claim key.
    set_setting(
        &env,
        &app.name,
        "PGRST_JWT_ROLE_CLAIM_KEY",
        Some(".realm_access.roles[0]"),
    );
    let t = hs256(
        key,
        json!({"role": "ignored", "realm_access": {"roles": [app.authenticated]}}),
    );
    assert_eq!(ran_as(&env, &app.name, &t), app.authenticated);
    let t = hs256(key, json!({"role": app.authenticated}));
    assert_eq!(ran_as(&env, &app.name, &t), app.anon);
    // A re-deploy keeps the key and binds it into the pods.
    env.run("uis-postgrest-deploy", &[&app.name, "--json"]).ok();
    assert_eq!(
        setting(&env, &app.name, "PGRST_JWT_ROLE_CLAIM_KEY").as_deref(),
        Some(".realm_access.roles[0]")
    );
    let d = env
        .standin
        .get(
            "apps/v1",
            "Deployment",
            Some("postgrest"),
            "claims-postgrest",
        )
        .unwrap();
    assert!(
        d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "PGRST_JWT_ROLE_CLAIM_KEY"
                && e["valueFrom"]["secretKeyRef"]["key"] == "PGRST_JWT_ROLE_CLAIM_KEY"),
        "{d}"
    );
    let t = hs256(key, json!({"realm_access": {"roles": [7]}}));
    refused(&psql_as(&env, &app.name, &t), "role \"7\" does not exist");
    let minted = env.run(
        "uis-jwt-mint",
        &[
            &app.name,
            "--role",
            "authenticated",
            "--no-capabilities",
            "--format",
            "json",
        ],
    );
    minted.ok();
    let j = minted.json();
    assert_eq!(
        j["claims"]["realm_access"]["roles"][0],
        app.authenticated.as_str()
    );
    assert_eq!(
        ran_as(&env, &app.name, j["token"].as_str().unwrap()),
        app.authenticated
    );
    // A filter path.
    set_setting(
        &env,
        &app.name,
        "PGRST_JWT_ROLE_CLAIM_KEY",
        Some(".groups[?(@ ==^ \"_authenticated\")]"),
    );
    let t = hs256(key, json!({"groups": ["x", app.authenticated]}));
    assert_eq!(ran_as(&env, &app.name, &t), app.authenticated);
    // A key PostgREST cannot parse.
    set_setting(&env, &app.name, "PGRST_JWT_ROLE_CLAIM_KEY", Some("role"));
    refused(
        &env.run("uis-jwt-mint", &[&app.name, "--role", "anon"]),
        "failed to parse role-claim-key value (role)",
    );
}

#[test]
fn jwt_aud_values_are_checked_as_postgrest_does() {
    if !tools() {
        return;
    }
    let env = Env::new();
    env.run("uis-db-configure", &["aud", "--schemas", "app", "--json"])
        .ok();
    for bad in ["http://[bad", "https://my api"] {
        let out = env.run("uis-postgrest-deploy", &["aud", "--jwt-aud", bad, "--json"]);
        out.expect_code(2);
        assert!(
            out.stderr
                .contains("jwt-aud should be a string or a valid URI"),
            "{}",
            out.stderr
        );
    }
    for good in ["a:hey", "urn:example:api"] {
        env.run(
            "uis-postgrest-deploy",
            &["aud", "--jwt-aud", good, "--json"],
        )
        .ok();
        assert_eq!(setting(&env, "aud", "PGRST_JWT_AUD").as_deref(), Some(good));
    }
    let key = setting(&env, "aud", "PGRST_JWT_SECRET").unwrap();
    let key = key.as_bytes();
    let with = |aud: Value| hs256(key, json!({"aud": aud}));
    valid(&verify(&env, "aud", &with(json!("urn:example:api"))));
    valid(&verify(&env, "aud", &with(json!(["x", "urn:example:api"]))));
    valid(&verify(&env, "aud", &with(json!([]))));
    valid(&verify(&env, "aud", &hs256(key, json!({}))));
    refused(
        &verify(&env, "aud", &with(json!("a:hey"))),
        "JWT not in audience (PGRST303)",
    );
    refused(
        &verify(&env, "aud", &with(json!(5))),
        "The JWT 'aud' claim must be a string or an array of strings",
    );
    refused(
        &psql_as(&env, "aud", &with(json!(["other"]))),
        "JWT not in audience",
    );
    // Minted tokens carry the deployed audience.
    let minted = env.run(
        "uis-jwt-mint",
        &["aud", "--role", "anon", "--format", "json"],
    );
    assert_eq!(minted.json()["claims"]["aud"], "urn:example:api");
}

#[test]
fn pgrst_settings_on_the_authenticator_role_win_over_the_secret() {
    if !tools() {
        return;
    }
    let env = Env::new();
    let app = deploy(&env, "indb", &[]);
    let env_key = setting(&env, &app.name, "PGRST_JWT_SECRET").unwrap();
    let role_key = "a-role-wide-secret-set-with-alter-role-0123456789";
    let db_key = "a-per-database-secret-set-with-alter-role-in-database";
    let mut admin = env.pg.connect("postgres");
    let auth = format!("\"{}\"", app.authenticator);
    admin
        .batch_execute(&format!(
            "ALTER ROLE {auth} SET pgrst.jwt_secret = '{role_key}'"
        ))
        .unwrap();
    let by_env = hs256(env_key.as_bytes(), json!({"role": app.anon}));
    let by_role = hs256(role_key.as_bytes(), json!({"role": app.anon}));
    refused(&verify(&env, &app.name, &by_env), "No suitable key");
    valid(&verify(&env, &app.name, &by_role));
    assert_eq!(ran_as(&env, &app.name, &by_role), app.anon);
    let minted = env.run(
        "uis-jwt-mint",
        &[&app.name, "--role", "anon", "--format", "json"],
    );
    minted.ok();
    assert!(
        minted.stderr.contains("pgrst.jwt_secret"),
        "{}",
        minted.stderr
    );
    let j = minted.json();
    assert_eq!(
        hs256(role_key.as_bytes(), j["claims"].clone()),
        j["token"].as_str().unwrap()
    );
    let (_, checks) = doctor(&env, &app.name);
    assert_eq!(checks["jwt-db-config"].0, "fail", "{checks:?}");
    assert!(
        checks["jwt-db-config"].1.contains("RESET pgrst.jwt_secret"),
        "{checks:?}"
    );
    assert_eq!(checks["anon-token"].0, "pass", "{checks:?}");
    // The per-database setting wins over the role-wide one; a setting on
    // the database alone is not read.
    admin
        .batch_execute(&format!(
            "ALTER ROLE {auth} IN DATABASE \"{}\" SET pgrst.jwt_secret = '{db_key}'; ALTER DATABASE \"{}\" SET pgrst.jwt_aud = 'never-read'",
            app.db, app.db
        ))
        .unwrap();
    refused(&verify(&env, &app.name, &by_role), "No suitable key");
    valid(&verify(
        &env,
        &app.name,
        &hs256(db_key.as_bytes(), json!({"aud": "x"})),
    ));
    // Other pgrst.* settings: the audience and the role claim key.
    admin
        .batch_execute(&format!(
            "ALTER ROLE {auth} SET pgrst.jwt_aud = 'db-aud'; ALTER ROLE {auth} SET pgrst.jwt_role_claim_key = '.app_role'"
        ))
        .unwrap();
    refused(
        &verify(
            &env,
            &app.name,
            &hs256(db_key.as_bytes(), json!({"aud": "x"})),
        ),
        "JWT not in audience",
    );
    let t = hs256(
        db_key.as_bytes(),
        json!({"aud": "db-aud", "app_role": app.authenticated}),
    );
    assert_eq!(ran_as(&env, &app.name, &t), app.authenticated);
    // PGRST_DB_CONFIG=false: PostgREST reads none of them.
    set_setting(&env, &app.name, "PGRST_DB_CONFIG", Some("false"));
    valid(&verify(&env, &app.name, &by_env));
    admin
        .batch_execute(&format!(
            "ALTER ROLE {auth} RESET ALL; ALTER ROLE {auth} IN DATABASE \"{}\" RESET ALL",
            app.db
        ))
        .unwrap();
    set_setting(&env, &app.name, "PGRST_DB_CONFIG", None);
    let (_, checks) = doctor(&env, &app.name);
    assert_eq!(checks["jwt-db-config"].0, "pass", "{checks:?}");
}

#[test]
fn cors_origins_are_unset_for_any_origin_and_a_list_restricts_them() {
    let env = Env::new();
    let key = "PGRST_SERVER_CORS_ALLOWED_ORIGINS";
    let app = deploy(&env, "cors", &[]);
    // PostgREST v14.10: empty is unset (Config.hs optString), and unset
    // means any origin (Cors.hs); "*" would be matched literally.
    assert_eq!(setting(&env, &app.name, key).as_deref(), Some(""));
    env.run(
        "uis-postgrest-deploy",
        &[
            "cors",
            "--cors-origins",
            "https://a.example,https://b.example:8443",
            "--json",
        ],
    )
    .ok();
    assert_eq!(
        setting(&env, "cors", key).as_deref(),
        Some("https://a.example,https://b.example:8443")
    );
    // A re-run keeps them.
    env.run("uis-postgrest-deploy", &["cors", "--json"]).ok();
    assert_eq!(
        setting(&env, "cors", key).as_deref(),
        Some("https://a.example,https://b.example:8443")
    );
    for bad in ["*", "https://a.example/", "a.example"] {
        let out = env.run(
            "uis-postgrest-deploy",
            &["cors", "--cors-origins", bad, "--json"],
        );
        out.expect_code(2);
        assert!(out.stderr.contains("--cors-origins"), "{}", out.stderr);
    }
    // A Secret written by an older version with "*": a re-run drops it.
    set_setting(&env, "cors", key, Some("*"));
    env.run("uis-postgrest-deploy", &["cors", "--json"]).ok();
    assert_eq!(setting(&env, "cors", key).as_deref(), Some(""));
}
