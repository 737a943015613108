//! Cross-checks `uis_postgrest::jwt` against an independent HS256 implementation:
//! a few lines of Python's standard library (`hmac`, `hashlib`, `base64`).
//! Both directions: Python verifies what we mint, we verify what Python
//! mints. This guards against a mistake shared by our code and the
//! jsonwebtoken crate (both sides of our own round trip use the crate).
//!
//! Not a test of PostgREST itself; skipped, with a note, without python3
//! (under CI, where `.ci/run` installs it, a missing python3 fails).

use std::io::ErrorKind;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use uis_postgrest::jwt::{MintSpec, claims, mint, verify};

const SECRET: &str = "cross-check-secret-0123456789-abcdefghij";
const NOW: u64 = 1_700_000_000;

/// Runs `script` with `args`; `None` (after a note) when python3 is missing.
fn python(script: &str, args: &[&str]) -> Option<String> {
    match Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
    {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            uis_harness::missing_tool("python3", "the Python JWT cross-check");
            None
        }
        Err(e) => panic!("running python3: {e}"),
        Ok(out) => {
            assert!(
                out.status.success(),
                "python3 failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
        }
    }
}

const CHECK: &str = r#"
import sys, hmac, hashlib, base64, json
secret, token = sys.argv[1], sys.argv[2]
h, p, s = token.split('.')
assert '=' not in token, 'padding in token'
def d(x): return base64.urlsafe_b64decode(x + '=' * (-len(x) % 4))
mac = hmac.new(secret.encode(), (h + '.' + p).encode(), hashlib.sha256).digest()
print(json.dumps({'ok': hmac.compare_digest(mac, d(s)),
                  'header': json.loads(d(h)), 'claims': json.loads(d(p))}))
"#;

const MINT: &str = r#"
import sys, hmac, hashlib, base64, json
secret, claims = sys.argv[1], sys.argv[2]
def e(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
msg = e(b'{"alg":"HS256","typ":"JWT"}') + '.' + e(claims.encode())
sig = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).digest()
print(msg + '.' + e(sig))
"#;

#[test]
fn python_verifies_our_token() {
    let spec = MintSpec {
        role: "web_user".into(),
        exp: Some(Duration::from_secs(3600)),
        aud: Some("api".into()),
        sub: Some("ünïcode-sub".into()),
        capabilities: Some(vec!["read".into()]),
        extra: vec![("tenant".into(), json!({"id": 7}))],
    };
    let c = claims(&spec, NOW);
    let token = mint(SECRET, &c).unwrap();
    let Some(out) = python(CHECK, &[SECRET, &token]) else {
        return;
    };
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["ok"], json!(true), "Python rejects our signature");
    assert_eq!(out["header"], json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(out["claims"], c);

    // And Python notices a wrong secret, so the check above is not vacuous.
    let wrong = "another-secret-0123456789-abcdefghijklmn";
    let out: Value = serde_json::from_str(&python(CHECK, &[wrong, &token]).unwrap()).unwrap();
    assert_eq!(out["ok"], json!(false));
}

#[test]
fn we_verify_python_token() {
    let c = json!({"role": "web_user", "iat": NOW, "exp": NOW + 60, "aud": ["x", "api"]});
    let Some(token) = python(MINT, &[SECRET, &c.to_string()]) else {
        return;
    };
    assert_eq!(verify(SECRET, &token, Some("api"), NOW).unwrap(), c);
    let e = verify(
        "wrong-secret-0123456789-abcdefghijklmnop",
        &token,
        None,
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.message, "No suitable key or wrong key type");
    assert_eq!(e.code, "PGRST301");
}
