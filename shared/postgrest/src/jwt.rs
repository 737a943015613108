//! PostgREST JWTs: mint tokens from the secret the caller hands in, and
//! verify tokens with the same rules, order and error messages as PostgREST
//! v13+/v14, so the suite can tell a user *before* they hit the API why a
//! token would be refused.
//!
//! Every form of `jwt-secret` PostgREST accepts is modelled ([`keys`]): a
//! plain secret, base64 (`jwt-secret-is-base64`), a JWK or a JWK set; so is
//! the role claim key ([`claim_path`]) and the `jwt-aud` rule ([`uri`]).
//!
//! This module is pure: it reads no clock (callers pass `now` in Unix
//! seconds), no cluster, no file, no environment.

pub mod claim_path;
pub mod keys;
pub mod uri;

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
pub use keys::{KeySet, SecretForm, SigningKey};
use serde_json::{Map, Value};

/// PostgREST (13.0.0+) refuses to start with a shorter plain secret. It
/// counts bytes (`BS.length`), after base64 decoding when that is on.
pub const MIN_SECRET_LEN: usize = 32;

/// PostgREST tolerates this much clock skew on `exp`, `nbf` and `iat`.
pub const ALLOWED_SKEW_SECS: i64 = 30;

/// Claims minting always sets itself ([`MintSpec::role`], [`MintSpec::exp`],
/// and `iat`, the minting time); an extra claim must not set them.
const FLAG_CLAIMS: [&str; 3] = ["role", "iat", "exp"];

/// The header every minted token carries, byte for byte. Written by hand
/// (jsonwebtoken's `Header` serialises `typ` first) so tokens look like the
/// ones PostgREST's documentation shows.
const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// An error in PostgREST's terms: `code` is the PGRST code it would answer
/// with (or `jwt-secret` for a secret PostgREST would refuse at start-up),
/// `message` its exact message.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtError {
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for JwtError {}

/// PGRST301: the token could not be decoded or its signature is wrong.
const DECODE: &str = "PGRST301";
/// PGRST303: the token is authentic but its claims are refused.
const CLAIMS: &str = "PGRST303";
/// Not a PGRST code: PostgREST refuses such a secret at start-up.
const SECRET: &str = "jwt-secret";

fn err(code: &'static str, message: impl Into<String>) -> JwtError {
    JwtError {
        code,
        message: message.into(),
    }
}

// The messages PostgREST's `JwtDecodeErr` and `JwtClaimsErr` render.
const MSG_EMPTY: &str = "Empty JWT is sent in Authorization header";
const MSG_BAD_ALG: &str = "Wrong or unsupported encoding algorithm";
const MSG_KEY: &str = "No suitable key or wrong key type";
const MSG_CRYPTO: &str = "JWT cryptographic operation failed";
const MSG_PARSING_CLAIMS: &str = "Parsing claims failed";

/// Fails exactly when PostgREST would refuse `secret` as `jwt-secret`
/// (with `jwt-secret-is-base64` false).
///
/// Errors: a [`JwtError`] saying why PostgREST would refuse it.
pub fn check_secret(secret: &str) -> Result<(), JwtError> {
    key_set(secret, false).map(|_| ())
}

/// The keys PostgREST builds from `jwt-secret` ([`keys::parse_secret`]).
///
/// Errors: a [`JwtError`] (code `jwt-secret`) with PostgREST's start-up
/// message.
pub fn key_set(secret: &str, is_base64: bool) -> Result<KeySet, JwtError> {
    keys::parse_secret(secret, is_base64).map_err(|m| err(SECRET, m))
}

/// What to put in a minted token: the named claims, then `extra`, further
/// claims in order (each a key and its JSON value).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MintSpec {
    pub role: String,
    /// Lifetime; `None` mints a token without `exp` (never expires).
    pub exp: Option<Duration>,
    pub aud: Option<String>,
    pub sub: Option<String>,
    pub capabilities: Option<Vec<String>>,
    pub extra: Vec<(String, Value)>,
}

/// Why an extra claim of a [`MintSpec`] is refused (see [`validate_extra`]).
/// Carries the claim's key; a caller names its own flags in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimConflict {
    /// `role`, `iat` or `exp`: always set from the named fields.
    SetByMinting(String),
    /// `aud`, `sub` or `capabilities` while the named field is also set.
    AlsoNamed(String),
    /// The same key twice among the extra claims.
    Repeated(String),
}

impl fmt::Display for ClaimConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimConflict::SetByMinting(k) => write!(f, "claim `{k}` is set by minting itself"),
            ClaimConflict::AlsoNamed(k) => {
                write!(f, "claim `{k}` is given twice (named and extra)")
            }
            ClaimConflict::Repeated(k) => write!(f, "extra claim `{k}` is given more than once"),
        }
    }
}

impl std::error::Error for ClaimConflict {}

/// Refuses extra claims that would fight the named fields: `role`, `iat`
/// and `exp` always (minting always sets them), `aud`, `sub` and
/// `capabilities` when the matching field is also set, and any key given
/// twice. An extra `aud` without [`MintSpec::aud`] is allowed, since it is
/// the only way to mint an array audience.
///
/// Errors: the first [`ClaimConflict`], in `extra`'s order.
pub fn validate_extra(spec: &MintSpec) -> Result<(), ClaimConflict> {
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &spec.extra {
        if FLAG_CLAIMS.contains(&key.as_str()) {
            return Err(ClaimConflict::SetByMinting(key.clone()));
        }
        let named = match key.as_str() {
            "aud" => spec.aud.is_some(),
            "sub" => spec.sub.is_some(),
            "capabilities" => spec.capabilities.is_some(),
            _ => false,
        };
        if named {
            return Err(ClaimConflict::AlsoNamed(key.clone()));
        }
        if seen.contains(&key.as_str()) {
            return Err(ClaimConflict::Repeated(key.clone()));
        }
        seen.push(key);
    }
    Ok(())
}

/// Builds the claims object for `spec` at `now` (Unix seconds). Does not
/// validate: call [`validate_extra`] first; should an extra claim collide
/// anyway, the flags win.
pub fn claims(spec: &MintSpec, now: u64) -> Value {
    let mut m = Map::new();
    for (k, v) in &spec.extra {
        m.insert(k.clone(), v.clone());
    }
    m.insert("role".into(), Value::from(spec.role.clone()));
    m.insert("iat".into(), Value::from(now));
    if let Some(d) = spec.exp {
        m.insert("exp".into(), Value::from(now.saturating_add(d.as_secs())));
    }
    if let Some(aud) = &spec.aud {
        m.insert("aud".into(), Value::from(aud.clone()));
    }
    if let Some(sub) = &spec.sub {
        m.insert("sub".into(), Value::from(sub.clone()));
    }
    if let Some(caps) = &spec.capabilities {
        m.insert("capabilities".into(), Value::from(caps.clone()));
    }
    Value::Object(m)
}

/// Signs `claims` (a JSON object) with HS256 under a plain `secret`.
/// Refuses a secret PostgREST would refuse, since such a token could never
/// be accepted.
///
/// Errors: a [`JwtError`] when the secret is unusable or signing fails.
pub fn mint(secret: &str, claims: &Value) -> Result<String, JwtError> {
    mint_with(&key_set(secret, false)?, None, claims)
}

/// Not a PGRST code: minting needs a key the deployed secret does not hold.
pub const NEEDS_KEY: &str = "needs-key-file";
/// Not a PGRST code: this suite cannot check the signature (ES512, Ed448).
pub const UNCHECKED: &str = "unchecked";

/// Signs `claims` so that PostgREST, configured with `keys`, accepts the
/// signature: with `signer` (a private key) when given, else with the
/// set's symmetric key (HS256 unless that key's JWK names HS384/HS512).
/// A token signed with `signer` is checked against `keys` before it is
/// returned, and its header names the `kid` of the key it matches.
///
/// Errors: [`NEEDS_KEY`] when `keys` hold only public keys and no `signer`
/// is given, or `signer` matches none of them; PGRST303 for claims that
/// are not an object.
pub fn mint_with(
    keys: &KeySet,
    signer: Option<&SigningKey>,
    claims: &Value,
) -> Result<String, JwtError> {
    if !claims.is_object() {
        return Err(err(CLAIMS, MSG_PARSING_CLAIMS));
    }
    let payload = serde_json::to_vec(claims).map_err(|_| err(CLAIMS, MSG_PARSING_CLAIMS))?;
    let header = |alg: &str, kid: Option<&String>| -> String {
        match kid {
            None if alg == "HS256" => HS256_HEADER.to_string(),
            None => format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            Some(k) => serde_json::json!({"alg": alg, "kid": k, "typ": "JWT"}).to_string(),
        }
    };
    let encode = |h: &str| {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(h),
            URL_SAFE_NO_PAD.encode(&payload)
        )
    };
    if let Some(signer) = signer {
        let Some(matching) = keys.keys.iter().find(|k| signer.matches(k)) else {
            return Err(err(
                NEEDS_KEY,
                format!(
                    "the --key-file key ({} private) is not the private half of any key of the configured secret, {}: PostgREST would answer 401 \"{MSG_KEY}\"",
                    signer.alg,
                    keys.describe()
                ),
            ));
        };
        let kid = signer.kid.as_ref().or(matching.kid.as_ref());
        let message = encode(&header(signer.alg, kid));
        let sig = signer
            .sign(message.as_bytes())
            .map_err(|e| err(DECODE, format!("{MSG_CRYPTO}: {e}")))?;
        let token = format!("{message}.{sig}");
        // Checked as PostgREST will (kid, use and alg of the deployed key).
        check_signature(keys, &token)?;
        return Ok(token);
    }
    let Some(key) = keys.symmetric() else {
        return Err(err(
            NEEDS_KEY,
            format!(
                "the configured secret is {}: PostgREST checks tokens with its public keys and cannot sign; minting needs the matching private key: --key-file PATH (PEM or JWK)",
                keys.describe()
            ),
        ));
    };
    let keys::Key {
        material: keys::Material::Symmetric(bytes),
        ..
    } = key
    else {
        return Err(err(NEEDS_KEY, "no symmetric key"));
    };
    let alg = key
        .algorithms()
        .first()
        .copied()
        .filter(|_| key.alg.is_some())
        .unwrap_or("HS256");
    let algorithm = match alg {
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        _ => Algorithm::HS256,
    };
    let message = encode(&header(alg, key.kid.as_ref()));
    let ek = EncodingKey::from_secret(bytes);
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &ek, algorithm)
        .map_err(|e| err(DECODE, format!("{MSG_CRYPTO}: {e}")))?;
    Ok(format!("{message}.{sig}"))
}

/// Decodes one base64url (unpadded) segment, as PostgREST's parser does:
/// any failure there is its "cryptographic operation failed".
fn b64(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| err(DECODE, MSG_CRYPTO))
}

/// Splits into the three segments, with PostgREST's first two checks.
fn split3(token: &str) -> Result<[&str; 3], JwtError> {
    if token.is_empty() {
        return Err(err(DECODE, MSG_EMPTY));
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts[..] {
        [h, p, s] => Ok([h, p, s]),
        _ => Err(err(
            DECODE,
            format!("Expected 3 parts in JWT; got {}", parts.len()),
        )),
    }
}

fn claims_object(payload: &[u8]) -> Result<Value, JwtError> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(err(CLAIMS, MSG_PARSING_CLAIMS)),
    }
}

/// Signature algorithms PostgREST's JOSE library can parse. With a plain
/// secret its only key is an HS256 key, so every other one of these is "no
/// suitable key"; an alg outside this list fails header parsing instead.
const KNOWN_JWS_ALGS: [&str; 10] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA",
];

/// Verifies `token` against a plain `secret` at `now` (Unix seconds) the
/// way PostgREST v13+ does, in its order, and returns the claims; see
/// [`verify_with`].
///
/// Errors: the [`JwtError`] PostgREST would answer with.
pub fn verify(
    secret: &str,
    token: &str,
    expected_aud: Option<&str>,
    now: u64,
) -> Result<Value, JwtError> {
    verify_with(&key_set(secret, false)?, token, expected_aud, now)
}

/// Verifies `token` against `keys` (any form of `jwt-secret`) at `now`
/// (Unix seconds) the way PostgREST v13+ does, in its order, and returns
/// the claims.
///
/// `expected_aud` is PostgREST's `jwt-aud`: when set, a string `aud` must
/// equal it and an array must contain it; a missing, null or empty `aud`
/// passes. A present `aud` of the wrong type fails even when it is unset.
///
/// Deliberately matches PostgREST where it is surprising: `exp`, `nbf` and
/// `iat` that are JSON numbers but not whole (or out of 64-bit range) count
/// as 0, so such an `exp` is expired; `null` counts as absent.
///
/// Errors: the [`JwtError`] PostgREST would answer with, or [`UNCHECKED`]
/// for a signature this suite cannot check.
pub fn verify_with(
    keys: &KeySet,
    token: &str,
    expected_aud: Option<&str>,
    now: u64,
) -> Result<Value, JwtError> {
    let payload = check_signature(keys, token)?;
    let claims = claims_object(&payload)?;
    check_claims(&claims, expected_aud, now)?;
    Ok(claims)
}

/// The signature checks of [`verify_with`]; returns the decoded payload.
fn check_signature(keys: &KeySet, token: &str) -> Result<Vec<u8>, JwtError> {
    let [h64, p64, s64] = split3(token)?;

    // Header: PostgREST's parser needs base64url JSON with a known `alg`;
    // anything else is its catch-all "cryptographic operation failed".
    let header: Value = serde_json::from_slice(&b64(h64)?).map_err(|_| err(DECODE, MSG_CRYPTO))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| err(DECODE, MSG_CRYPTO))?;
    let payload = b64(p64)?;
    if alg == "none" {
        return Err(err(DECODE, MSG_BAD_ALG));
    }
    // A header with `enc` is a JWE, which needs five segments.
    if !KNOWN_JWS_ALGS.contains(&alg) || header.get("enc").is_some() {
        return Err(err(DECODE, MSG_CRYPTO));
    }
    let kid = match header.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(err(DECODE, MSG_CRYPTO)),
    };
    b64(s64)?;
    // jose-jwt: the keys that suit the header (type, alg, kid, use); none
    // is "no suitable key"; each is tried, none verifying is the same.
    let message = &token[..h64.len() + 1 + p64.len()];
    let mut unchecked = None;
    for key in keys.keys.iter().filter(|k| k.can_check(alg, kid)) {
        match keys::check_signature(key, alg, message.as_bytes(), s64) {
            Ok(true) => return Ok(payload),
            Ok(false) => {}
            Err(why) => unchecked = Some(why),
        }
    }
    match unchecked {
        Some(why) => Err(err(UNCHECKED, why)),
        None => Err(err(DECODE, MSG_KEY)),
    }
}

/// Why PostgREST would not run a verified token's request as a role.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleError {
    /// The role claim is there but not a JSON string: PostgREST sends its
    /// JSON text to `SET ROLE`, which fails (no role has such a name).
    NotString { path: String, value: Value },
    /// No role claim and no anon role configured.
    AnonDisabled,
}

impl RoleError {
    /// PostgREST's answer: `role "<json>" does not exist` (SQLSTATE 22023,
    /// HTTP 401), or PGRST302.
    pub fn postgrest_error(&self) -> JwtError {
        match self {
            RoleError::NotString { value, .. } => {
                err("22023", format!("role \"{value}\" does not exist"))
            }
            RoleError::AnonDisabled => err("PGRST302", "Anonymous access is disabled"),
        }
    }
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.postgrest_error();
        match self {
            RoleError::NotString { path, value } => write!(
                f,
                "the role claim {path} is {value}, not a string: PostgREST runs SET ROLE with its JSON text and answers 401 {} ({})",
                e.message, e.code
            ),
            RoleError::AnonDisabled => write!(
                f,
                "the token has no role claim and no anon role is configured: PostgREST answers 401 {} ({})",
                e.message, e.code
            ),
        }
    }
}

impl std::error::Error for RoleError {}

/// The role PostgREST runs a verified token's request as: the string at
/// `path` in `claims`, else (no such claim) the anon role.
///
/// Errors: [`RoleError`] for a claim that is not a string, or no claim and
/// no anon role.
pub fn request_role(
    claims: &Value,
    path: &claim_path::ClaimPath,
    anon_role: Option<&str>,
) -> Result<String, RoleError> {
    match path.find(claims) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(RoleError::NotString {
            path: path.to_string(),
            value: other.clone(),
        }),
        None => anon_role
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .ok_or(RoleError::AnonDisabled),
    }
}

/// PostgREST reads time claims as any JSON number and converts with
/// `toBoundedInteger`, defaulting to 0 when that fails.
fn time_claim(claims: &Value, name: &str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(if let Some(i) = n.as_i64() {
            i
        } else if n.as_u64().is_some() {
            0 // beyond i64
        } else {
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
                    f as i64
                }
                _ => 0,
            }
        })),
        Some(_) => Err(err(
            CLAIMS,
            format!("The JWT '{name}' claim must be a number"),
        )),
    }
}

/// The claim checks, first failure wins, in PostgREST's order: exp, nbf,
/// iat, aud.
fn check_claims(claims: &Value, expected_aud: Option<&str>, now: u64) -> Result<(), JwtError> {
    let now = i128::from(now);
    let skew = i128::from(ALLOWED_SKEW_SECS);
    if let Some(exp) = time_claim(claims, "exp")?
        && now - skew > i128::from(exp)
    {
        return Err(err(CLAIMS, "JWT expired"));
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && now + skew < i128::from(nbf)
    {
        return Err(err(CLAIMS, "JWT not yet valid"));
    }
    if let Some(iat) = time_claim(claims, "iat")?
        && now + skew < i128::from(iat)
    {
        return Err(err(CLAIMS, "JWT issued at future"));
    }
    let matches = |a: &str| expected_aud.is_none_or(|want| a == want);
    let aud_ok = match claims.get("aud") {
        None | Some(Value::Null) => true,
        Some(Value::String(a)) => matches(a),
        Some(Value::Array(items)) => {
            let mut strs = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) => strs.push(s),
                    None => return Err(aud_type_error()),
                }
            }
            strs.is_empty() || strs.into_iter().any(matches)
        }
        Some(_) => return Err(aud_type_error()),
    };
    if !aud_ok {
        return Err(err(CLAIMS, "JWT not in audience"));
    }
    Ok(())
}

fn aud_type_error() -> JwtError {
    err(
        CLAIMS,
        "The JWT 'aud' claim must be a string or an array of strings",
    )
}

/// The claims of `token` without checking signature or claims: for display
/// only (e.g. showing what a rejected token says). Never trust the result.
///
/// Errors: a [`JwtError`] for a malformed token (PostgREST's PGRST301 texts).
pub fn decode_unverified(token: &str) -> Result<Value, JwtError> {
    let [_, p64, _] = split3(token)?;
    claims_object(&b64(p64)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
    const NOW: u64 = 1_700_000_000;

    fn spec(role: &str) -> MintSpec {
        MintSpec {
            role: role.into(),
            ..MintSpec::default()
        }
    }

    fn tok(c: Value) -> String {
        mint(SECRET, &c).unwrap()
    }

    fn code_msg(r: Result<Value, JwtError>) -> (&'static str, String) {
        let e = r.unwrap_err();
        (e.code, e.message)
    }

    /// A token with an arbitrary header and payload, signed correctly.
    fn raw_token(header: &str, payload: &str) -> String {
        let msg = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{msg}.{sig}")
    }

    #[test]
    fn secret_length() {
        assert!(check_secret(&"x".repeat(32)).is_ok());
        let e = check_secret(&"x".repeat(31)).unwrap_err();
        assert_eq!(
            e.message,
            "The JWT secret must be at least 32 characters long."
        );
        assert!(mint("short", &json!({})).is_err());
        assert!(verify("short", "a.b.c", None, NOW).is_err());
    }

    #[test]
    fn error_display() {
        let e = err(CLAIMS, "JWT expired");
        assert_eq!(e.to_string(), "JWT expired (PGRST303)");
        let _: &dyn std::error::Error = &e;
    }

    #[test]
    fn claims_minimal_and_full() {
        let c = claims(&spec("web_anon"), NOW);
        assert_eq!(c, json!({"role": "web_anon", "iat": NOW}));

        let s = MintSpec {
            role: "app".into(),
            exp: Some(Duration::from_secs(900)),
            aud: Some("api".into()),
            sub: Some("alice".into()),
            capabilities: Some(vec!["read".into(), "write".into()]),
            extra: vec![("tenant".into(), json!("acme")), ("lvl".into(), json!(3))],
        };
        validate_extra(&s).unwrap();
        assert_eq!(
            claims(&s, NOW),
            json!({"role": "app", "iat": NOW, "exp": NOW + 900, "aud": "api",
                   "sub": "alice", "capabilities": ["read", "write"],
                   "tenant": "acme", "lvl": 3})
        );
        let empty_caps = MintSpec {
            capabilities: Some(vec![]),
            ..spec("r")
        };
        assert_eq!(claims(&empty_caps, NOW)["capabilities"], json!([]));
    }

    #[test]
    fn extra_claims_validation() {
        for k in ["role", "iat", "exp"] {
            let s = MintSpec {
                extra: vec![(k.into(), json!(1))],
                ..spec("r")
            };
            let e = validate_extra(&s).unwrap_err();
            assert_eq!(e, ClaimConflict::SetByMinting(k.into()));
        }
        let s = MintSpec {
            aud: Some("a".into()),
            extra: vec![("aud".into(), json!(["a", "b"]))],
            ..spec("r")
        };
        assert_eq!(
            validate_extra(&s).unwrap_err(),
            ClaimConflict::AlsoNamed("aud".into())
        );
        let s = MintSpec {
            extra: vec![("aud".into(), json!(["a", "b"]))],
            ..spec("r")
        };
        assert!(validate_extra(&s).is_ok());
        let s = MintSpec {
            extra: vec![("t".into(), json!(1)), ("t".into(), json!(2))],
            ..spec("r")
        };
        assert_eq!(
            validate_extra(&s).unwrap_err(),
            ClaimConflict::Repeated("t".into())
        );
        // Should validation be skipped, the flags still win.
        let s = MintSpec {
            extra: vec![("role".into(), json!("postgres"))],
            ..spec("r")
        };
        assert_eq!(claims(&s, NOW)["role"], json!("r"));
    }

    #[test]
    fn mint_shape_and_round_trip() {
        let s = MintSpec {
            exp: Some(Duration::from_secs(60)),
            aud: Some("api".into()),
            ..spec("web_user")
        };
        let c = claims(&s, NOW);
        let t = mint(SECRET, &c).unwrap();
        let [h, _, _] = split3(&t).unwrap();
        assert_eq!(b64(h).unwrap(), HS256_HEADER.as_bytes());
        assert_eq!(verify(SECRET, &t, Some("api"), NOW).unwrap(), c);
        assert_eq!(verify(SECRET, &t, None, NOW).unwrap(), c);
        assert_eq!(decode_unverified(&t).unwrap(), c);
        assert!(mint(SECRET, &json!([1])).is_err());
    }

    #[test]
    fn agrees_with_jsonwebtoken_decode() {
        // An independent path through the crate: its own decode must accept
        // our token and see the same claims.
        let c = json!({"role": "r", "iat": NOW});
        let t = tok(c.clone());
        use jsonwebtoken::DecodingKey;
        let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let d = jsonwebtoken::decode::<Value>(
            t.as_bytes(),
            &DecodingKey::from_secret(SECRET.as_bytes()),
            &v,
        )
        .unwrap();
        assert_eq!(d.claims, c);
    }

    #[test]
    fn tampered_and_wrong_secret() {
        let t = tok(json!({"role": "web_user", "iat": NOW}));
        let [h, _, s] = split3(&t).unwrap();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"role":"postgres","iat":1700000000}"#);
        let bad = format!("{h}.{forged}.{s}");
        assert_eq!(
            code_msg(verify(SECRET, &bad, None, NOW)),
            (DECODE, MSG_KEY.into())
        );
        // The forged claims still show for display.
        assert_eq!(decode_unverified(&bad).unwrap()["role"], json!("postgres"));
        let other = "another-secret-that-is-long-enough-0000";
        assert_eq!(
            code_msg(verify(other, &t, None, NOW)),
            (DECODE, MSG_KEY.into())
        );
        // A flipped signature character.
        let mut chars: Vec<char> = t.chars().collect();
        let last = chars.len() - 2;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let t2: String = chars.into_iter().collect();
        assert_eq!(verify(SECRET, &t2, None, NOW).unwrap_err().code, DECODE);
    }

    #[test]
    fn malformed_tokens() {
        assert_eq!(
            code_msg(verify(SECRET, "", None, NOW)),
            (DECODE, MSG_EMPTY.into())
        );
        for (t, n) in [
            ("abc", 1),
            ("a.b", 2),
            ("a.b.c.d", 4),
            ("a.b.c.d.e", 5),
            ("..", 3),
        ] {
            let r = verify(SECRET, t, None, NOW);
            if n == 3 {
                assert_eq!(code_msg(r), (DECODE, MSG_CRYPTO.into()));
            } else {
                assert_eq!(
                    code_msg(r),
                    (DECODE, format!("Expected 3 parts in JWT; got {n}"))
                );
            }
        }
        assert!(decode_unverified("a.b").is_err());
        // Header that is not base64 / not JSON / has no alg.
        let t = tok(json!({"role": "r"}));
        let [_, p, s] = split3(&t).unwrap();
        for h in [
            "!!!",
            &URL_SAFE_NO_PAD.encode("nope"),
            &URL_SAFE_NO_PAD.encode("{}"),
        ] {
            let bad = format!("{h}.{p}.{s}");
            assert_eq!(
                code_msg(verify(SECRET, &bad, None, NOW)),
                (DECODE, MSG_CRYPTO.into())
            );
        }
        // Padded base64 is not base64url-unpadded.
        let bad = format!("{t}=");
        assert_eq!(verify(SECRET, &bad, None, NOW).unwrap_err().code, DECODE);
    }

    #[test]
    fn algorithms() {
        let none = raw_token(r#"{"alg":"none"}"#, r#"{"role":"r"}"#);
        assert_eq!(
            code_msg(verify(SECRET, &none, None, NOW)),
            (DECODE, MSG_BAD_ALG.into())
        );
        // Known algorithms other than HS256 find no suitable key, even
        // HS512: PostgREST's key from a plain secret is HS256-only.
        for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA"] {
            let t = raw_token(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"role":"r"}"#);
            assert_eq!(
                code_msg(verify(SECRET, &t, None, NOW)),
                (DECODE, MSG_KEY.into()),
                "{alg}"
            );
        }
        for h in [
            r#"{"alg":"XX1"}"#,
            r#"{"alg":5}"#,
            r#"{"alg":"HS256","enc":"A128GCM"}"#,
        ] {
            let t = raw_token(h, r#"{"role":"r"}"#);
            assert_eq!(
                code_msg(verify(SECRET, &t, None, NOW)),
                (DECODE, MSG_CRYPTO.into()),
                "{h}"
            );
        }
        // A header without typ is fine.
        let t = raw_token(r#"{"alg":"HS256"}"#, r#"{"role":"r"}"#);
        assert!(verify(SECRET, &t, None, NOW).is_ok());
    }

    #[test]
    fn payload_must_be_an_object() {
        for p in ["[1]", "\"x\"", "not json"] {
            let t = raw_token(HS256_HEADER, p);
            assert_eq!(
                code_msg(verify(SECRET, &t, None, NOW)),
                (CLAIMS, MSG_PARSING_CLAIMS.into())
            );
        }
    }

    #[test]
    fn exp_skew_edges() {
        let v = |exp: Value| verify(SECRET, &tok(json!({"exp": exp})), None, NOW);
        assert!(v(json!(NOW + 1)).is_ok());
        assert!(v(json!(NOW - 29)).is_ok());
        assert!(v(json!(NOW - 30)).is_ok());
        assert_eq!(code_msg(v(json!(NOW - 31))), (CLAIMS, "JWT expired".into()));
        assert_eq!(
            code_msg(v(json!("1900000000"))),
            (CLAIMS, "The JWT 'exp' claim must be a number".into())
        );
        assert!(v(Value::Null).is_ok());
        // PostgREST quirks: non-whole or out-of-range numbers count as 0.
        assert_eq!(
            v(json!(2_000_000_000.5)).unwrap_err().message,
            "JWT expired"
        );
        assert_eq!(v(json!(u64::MAX)).unwrap_err().message, "JWT expired");
        assert!(v(json!(2e9)).is_ok());
    }

    #[test]
    fn nbf_and_iat_skew_edges() {
        let v = |c: Value| verify(SECRET, &tok(c), None, NOW);
        assert!(v(json!({"nbf": NOW + 30})).is_ok());
        assert_eq!(
            code_msg(v(json!({"nbf": NOW + 31}))),
            (CLAIMS, "JWT not yet valid".into())
        );
        assert!(v(json!({"iat": NOW + 30})).is_ok());
        assert_eq!(
            code_msg(v(json!({"iat": NOW + 31}))),
            (CLAIMS, "JWT issued at future".into())
        );
        assert_eq!(
            v(json!({"nbf": true})).unwrap_err().message,
            "The JWT 'nbf' claim must be a number"
        );
        assert_eq!(
            v(json!({"iat": "now"})).unwrap_err().message,
            "The JWT 'iat' claim must be a number"
        );
        // Order: exp is reported before nbf and iat.
        assert_eq!(
            v(json!({"exp": 1, "nbf": NOW + 999, "iat": NOW + 999}))
                .unwrap_err()
                .message,
            "JWT expired"
        );
        // Old iat and nbf are fine.
        assert!(v(json!({"iat": 0, "nbf": 0})).is_ok());
    }

    #[test]
    fn audience_forms() {
        let v = |aud: Option<Value>, want: Option<&str>| {
            let mut c = json!({"role": "r"});
            if let Some(a) = aud {
                c["aud"] = a;
            }
            verify(SECRET, &tok(c), want, NOW)
        };
        let not_in = (CLAIMS, "JWT not in audience".to_string());
        let wrong_type = (
            CLAIMS,
            "The JWT 'aud' claim must be a string or an array of strings".to_string(),
        );
        // Expected audience configured.
        assert!(v(Some(json!("api")), Some("api")).is_ok());
        assert_eq!(code_msg(v(Some(json!("web")), Some("api"))), not_in);
        assert!(v(Some(json!(["web", "api"])), Some("api")).is_ok());
        assert_eq!(code_msg(v(Some(json!(["web"])), Some("api"))), not_in);
        assert!(v(Some(json!([])), Some("api")).is_ok());
        assert!(v(Some(Value::Null), Some("api")).is_ok());
        assert!(v(None, Some("api")).is_ok());
        assert_eq!(code_msg(v(Some(json!(5)), Some("api"))), wrong_type);
        assert_eq!(
            code_msg(v(Some(json!(["api", 5])), Some("api"))),
            wrong_type
        );
        // Not configured: any string or array passes, wrong types still fail.
        assert!(v(Some(json!("anything")), None).is_ok());
        assert!(v(Some(json!(["a", "b"])), None).is_ok());
        assert_eq!(code_msg(v(Some(json!({"a": 1})), None)), wrong_type);
        // Exact, case-sensitive match.
        assert_eq!(code_msg(v(Some(json!("API")), Some("api"))), not_in);
    }
}
