//! uis-jwt-mint against a deployed app: tokens, capabilities, role checks,
//! verification with PostgREST's messages, .env wiring, and the JSON chain of
//! the design card (issues: JWT mint; worked example's chaining).

use std::process::{Command, Stdio};
use uis_e2e::{Env, bin, output};

fn deploy(env: &Env, app: &str, extra: &[&str]) {
    env.run(
        "uis-db-configure",
        &[app, "--schemas", "app,auth", "--json"],
    )
    .ok();
    let mut c = env.admin_connect(&format!("{}_db", app.replace('-', "_")));
    c.batch_execute("create table auth.capabilities(name text primary key); insert into auth.capabilities values ('c'), ('a'), ('b');").unwrap();
    let mut args = vec![app, "--json"];
    args.extend_from_slice(extra);
    env.run("uis-postgrest-deploy", &args).ok();
}

fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn tokens_verify_with_an_independent_hs256_and_carry_capabilities() {
    let env = Env::new();
    deploy(&env, "rail", &[]);
    let anon = env.run("uis-jwt-mint", &["rail", "--role", "anon"]);
    anon.ok();
    let token = anon.stdout.trim().to_string();
    let c = claims_of(&token);
    assert_eq!(c["role"], "rail_web_anon");
    assert!(c["exp"].as_u64().unwrap() > c["iat"].as_u64().unwrap() + 9 * 365 * 86400);
    // The secret as the real kubectl reads it, checked with Python's hmac.
    let secret = match env.kubectl(&[
        "get",
        "secret",
        "rail-postgrest",
        "-n",
        "postgrest",
        "-o",
        "jsonpath={.data.PGRST_JWT_SECRET}",
    ]) {
        Some(k) => {
            use base64::Engine;
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(k.stdout.trim())
                    .unwrap(),
            )
            .unwrap()
        }
        None => return,
    };
    anon.no_secret_on_stderr(&[&secret]);
    let py = "import sys,hmac,hashlib,base64\nh,p,s=sys.argv[2].split('.')\nmac=hmac.new(sys.argv[1].encode(),(h+'.'+p).encode(),hashlib.sha256).digest()\nprint('ok' if base64.urlsafe_b64encode(mac).rstrip(b'=').decode()==s else 'bad')";
    let out = output(Command::new("python3").args(["-c", py, &secret, &token]));
    if out.code == 0 {
        assert_eq!(out.stdout.trim(), "ok");
        let out = output(Command::new("python3").args([
            "-c",
            py,
            "wrong-secret-wrong-secret-wrong-secret",
            &token,
        ]));
        assert_eq!(out.stdout.trim(), "bad");
    } else {
        uis_harness::missing_tool("python3", "the hmac cross-check");
    }

    // Staff: every capability, a subset, and an unknown one refused.
    let staff = env.run(
        "uis-jwt-mint",
        &["rail", "--role", "authenticated", "--format", "json"],
    );
    staff.ok();
    let j = staff.json();
    assert_eq!(
        j["claims"]["capabilities"],
        serde_json::json!(["a", "b", "c"])
    );
    assert_eq!(j["claims"]["role"], "rail_authenticated");
    let some = env.run(
        "uis-jwt-mint",
        &[
            "rail",
            "--role",
            "authenticated",
            "--capabilities",
            "a,b",
            "--format",
            "json",
        ],
    );
    some.ok();
    assert_eq!(
        some.json()["claims"]["capabilities"],
        serde_json::json!(["a", "b"])
    );
    let bad = env.run(
        "uis-jwt-mint",
        &["rail", "--role", "authenticated", "--capabilities", "z"],
    );
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("\"z\"") && bad.stderr.contains("valid: a, b, c"),
        "{}",
        bad.stderr
    );
    let none = env.run(
        "uis-jwt-mint",
        &[
            "rail",
            "--role",
            "authenticated",
            "--no-capabilities",
            "--format",
            "json",
        ],
    );
    assert!(none.json()["claims"].get("capabilities").is_none());
    let env_fmt = env.run(
        "uis-jwt-mint",
        &["rail", "--role", "authenticated", "--format", "env"],
    );
    assert!(
        env_fmt.stdout.starts_with("POSTGREST_STAFF_JWT=ey"),
        "{}",
        env_fmt.stdout
    );
}

#[test]
fn roles_not_granted_to_the_authenticator_are_refused_with_the_grant() {
    let env = Env::new();
    deploy(&env, "gr", &[]);
    env.pg
        .connect("postgres")
        .batch_execute("CREATE ROLE lonely NOLOGIN")
        .unwrap();
    let out = env.run("uis-jwt-mint", &["gr", "--role", "lonely"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("GRANT \"lonely\" TO \"gr_authenticator\";"),
        "{}",
        out.stderr
    );
    let out = env.run("uis-jwt-mint", &["gr", "--role", "ghost"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("role \"ghost\" does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn verify_answers_like_postgrest() {
    let env = Env::new();
    deploy(&env, "ver", &["--jwt-aud", "ver-app"]);
    let good = env.run("uis-jwt-mint", &["ver", "--role", "anon"]);
    good.ok();
    assert_eq!(claims_of(good.stdout.trim())["aud"], "ver-app");
    let ok = env.run("uis-jwt-mint", &["ver", "--verify", good.stdout.trim()]);
    ok.ok();
    assert_eq!(ok.json()["claims"]["role"], "ver_web_anon");

    // Expired: signed with the real secret via --secret-file, exp in the past.
    let secret = {
        let s = env
            .standin
            .get("v1", "Secret", Some("postgrest"), "ver-postgrest")
            .unwrap();
        use base64::Engine;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(s["data"]["PGRST_JWT_SECRET"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    let file = env.path("secret");
    std::fs::write(&file, &secret).unwrap();
    let expired = env.run(
        "uis-jwt-mint",
        &[
            "ver",
            "--role",
            "ver_web_anon",
            "--secret-file",
            file.to_str().unwrap(),
            "--claim",
            "exp=1000",
            "--aud",
            "ver-app",
        ],
    );
    // `exp` is the flags' own claim: refused as a --claim.
    expired.expect_code(2);
    let wrong_sig = {
        std::fs::write(&file, "another-secret-that-is-long-enough-0123456789").unwrap();
        env.run(
            "uis-jwt-mint",
            &[
                "ver",
                "--role",
                "ver_web_anon",
                "--secret-file",
                file.to_str().unwrap(),
            ],
        )
    };
    wrong_sig.ok();
    let out = env.run(
        "uis-jwt-mint",
        &["ver", "--verify", wrong_sig.stdout.trim()],
    );
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("No suitable key or wrong key type (PGRST301)"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["status"], "error");

    std::fs::write(&file, &secret).unwrap();
    let wrong_aud = env.run(
        "uis-jwt-mint",
        &[
            "ver",
            "--role",
            "ver_web_anon",
            "--secret-file",
            file.to_str().unwrap(),
            "--aud",
            "someone-else",
        ],
    );
    let out = env.run(
        "uis-jwt-mint",
        &["ver", "--verify", wrong_aud.stdout.trim()],
    );
    out.expect_code(1);
    assert!(
        out.stderr.contains("JWT not in audience (PGRST303)"),
        "{}",
        out.stderr
    );

    // An expired token: the same secret, an `exp` long past (the CLI refuses to mint one).
    let claims =
        serde_json::json!({"role": "ver_web_anon", "exp": 1_000_000_000u64, "aud": "ver-app"});
    let expired_token = uis_postgrest::jwt::mint(&secret, &claims).unwrap();
    let out = env.run("uis-jwt-mint", &["ver", "--verify", &expired_token]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("JWT expired (PGRST303)"),
        "{}",
        out.stderr
    );
    out.no_secret_on_stderr(&[&secret]);
    // Token from stdin.
    let out = env.run_stdin(
        "uis-jwt-mint",
        &["ver", "--verify"],
        &format!("{}\n", good.stdout.trim()),
    );
    out.ok();
}

#[test]
fn bad_durations_are_usage_errors() {
    let env = Env::new();
    for bad in ["-1d", "10x", "1000000y", ""] {
        let out = env.run("uis-jwt-mint", &["any", "--role", "anon", "--exp", bad]);
        out.expect_code(2);
        assert!(out.stderr.contains("--exp"), "{bad}: {}", out.stderr);
    }
}

#[test]
fn write_env_changes_only_its_four_keys() {
    let env = Env::new();
    deploy(&env, "envy", &[]);
    let file = env.path(".env");
    std::fs::write(
        &file,
        "# my app\nNEXT_PUBLIC_X=1\nJWT_SECRET=old\n\n# keep me\nOTHER='a b'\n",
    )
    .unwrap();
    let out = env.run(
        "uis-jwt-mint",
        &["envy", "--write-env", file.to_str().unwrap()],
    );
    out.ok();
    let changed = changed_keys(&out);
    assert_eq!(
        changed,
        [
            "JWT_SECRET",
            "POSTGREST_ANON_JWT",
            "POSTGREST_STAFF_JWT",
            "POSTGREST_URL"
        ]
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# my app\nNEXT_PUBLIC_X=1\nJWT_SECRET="),
        "{text}"
    );
    assert!(text.contains("\n# keep me\nOTHER='a b'\n"), "{text}");
    assert!(
        text.contains("POSTGREST_URL=http://api-envy.localhost\n"),
        "{text}"
    );
    let secret = uis_core::dotenv::read_value(&file, "JWT_SECRET").unwrap();
    out.no_secret_on_stderr(&[&secret]);
    assert!(!out.stdout.contains(&secret), "values are not printed");
    let staff = uis_core::dotenv::read_value(&file, "POSTGREST_STAFF_JWT").unwrap();
    assert_eq!(
        claims_of(&staff)["capabilities"],
        serde_json::json!(["a", "b", "c"])
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = env.run(
        "uis-jwt-mint",
        &["envy", "--write-env", file.to_str().unwrap()],
    );
    again.ok();
    let changed = changed_keys(&again);
    assert_eq!(changed, ["POSTGREST_ANON_JWT", "POSTGREST_STAFF_JWT"]);
    use std::os::unix::fs::PermissionsExt;
    let fresh = env.path("new.env");
    env.run(
        "uis-jwt-mint",
        &["envy", "--write-env", fresh.to_str().unwrap()],
    )
    .ok();
    assert_eq!(
        std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn the_design_cards_json_chain_works() {
    let env = Env::new();
    let script = format!(
        "set -o pipefail; '{}' demo --json | '{}' --schemas public --json | '{}' --role anon",
        bin("uis-db-configure").display(),
        bin("uis-postgrest-deploy").display(),
        bin("uis-jwt-mint").display()
    );
    let out = output(
        Command::new("bash")
            .args(["-c", &script])
            .env("KUBECONFIG", &env.kubeconfig)
            .env("HOME", env.dir.path())
            .stdin(Stdio::null()),
    );
    out.ok();
    let token = out.stdout.trim();
    assert!(token.starts_with("ey"), "{}", out.stdout);
    let verified = env.run("uis-jwt-mint", &["demo", "--verify", token]);
    verified.ok();
    assert_eq!(verified.json()["claims"]["role"], "demo_web_anon");
}

/// The sorted `changed` keys `--write-env` reported.
fn changed_keys(out: &uis_e2e::Out) -> Vec<String> {
    let mut keys: Vec<String> = out.json()["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}
