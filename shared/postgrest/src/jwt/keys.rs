//! The forms of PostgREST's `jwt-secret` (v14.10, `Config.hs`
//! `decodeSecret`/`parseSecret`, and the `jose-jwt` library it uses for
//! JWKs): a plain secret (an HS256 key of at least 32 bytes), the same
//! base64-encoded when `jwt-secret-is-base64` is true, a JSON Web Key, or a
//! JSON Web Key Set. Parsed here into the [`KeySet`] PostgREST builds, with
//! jose-jwt's rules for which key may check which token.
//!
//! Not modelled: `@path` secrets (the suite writes the value itself), and
//! signatures the RustCrypto stack cannot check (ES512 on P-521, Ed448):
//! such keys are kept so the messages can name them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

/// How the configured secret was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretForm {
    /// A plain string: its bytes are one HS256 key.
    Plain,
    /// Base64 (`jwt-secret-is-base64`): the decoded bytes are one HS256 key.
    Base64,
    /// One JSON Web Key.
    Jwk,
    /// A JSON Web Key Set (`{"keys": [...]}`).
    Jwks,
}

impl SecretForm {
    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            SecretForm::Plain => "a plain secret",
            SecretForm::Base64 => "a base64 secret",
            SecretForm::Jwk => "a JWK",
            SecretForm::Jwks => "a JWK set",
        }
    }
}

/// An elliptic curve a JWK may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

/// A key's material, as jose-jwt's `Jwk` constructors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// `oct`, or the key PostgREST makes from a plain/base64 secret.
    Symmetric(Vec<u8>),
    /// `RSA`: modulus and exponent (big-endian), and whether `d` is there.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        private: Option<Vec<u8>>,
    },
    /// `EC`: the curve and the point; `d` when private.
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
        private: Option<Vec<u8>>,
    },
    /// `OKP` with `crv` Ed25519: the public key; `d` when private.
    Ed25519 {
        x: Vec<u8>,
        private: Option<Vec<u8>>,
    },
    /// `OKP` with `crv` Ed448 (PostgREST checks it; this suite cannot).
    Ed448,
    /// A JWK whose `kty` or `alg` jose-jwt does not know: kept, never used.
    Unsupported,
}

/// One key of the set, with the JWK parameters that decide which tokens it
/// may check (`kid`, `use`, `alg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub material: Material,
    pub kid: Option<String>,
    /// `use`: `Some(true)` for `enc` (never checks a signature).
    pub for_encryption: bool,
    /// `alg`, when the JWK names one.
    pub alg: Option<String>,
}

impl Key {
    /// What kind of key this is, for messages.
    pub fn describe(&self) -> String {
        let base = match &self.material {
            Material::Symmetric(_) => "symmetric (oct)",
            Material::Rsa { private: None, .. } => "RSA public",
            Material::Rsa { .. } => "RSA private",
            Material::Ec { private: None, .. } => "EC public",
            Material::Ec { .. } => "EC private",
            Material::Ed25519 { private: None, .. } => "Ed25519 public",
            Material::Ed25519 { .. } => "Ed25519 private",
            Material::Ed448 => "Ed448",
            Material::Unsupported => "unsupported",
        };
        match &self.kid {
            Some(k) => format!("{base} key {k:?}"),
            None => format!("{base} key"),
        }
    }

    /// The algorithms this key may check, by its type and `alg`
    /// (jose-jwt `canDecodeJws` without the `kid` test).
    pub fn algorithms(&self) -> Vec<&'static str> {
        if self.for_encryption {
            return vec![];
        }
        let by_type: &[&'static str] = match &self.material {
            Material::Symmetric(_) => &["HS256", "HS384", "HS512"],
            Material::Rsa { .. } => &["RS256", "RS384", "RS512"],
            Material::Ec { .. } => &["ES256", "ES384", "ES512"],
            Material::Ed25519 { .. } | Material::Ed448 => &["EdDSA"],
            Material::Unsupported => &[],
        };
        // OKP keys are EdDSA whatever their `alg` says (jose-jwt's jwkAlg).
        let okp = matches!(self.material, Material::Ed25519 { .. } | Material::Ed448);
        by_type
            .iter()
            .copied()
            .filter(|a| okp || self.alg.as_deref().is_none_or(|k| k == *a))
            .collect()
    }

    /// Whether this key may check a token with header `alg` and `kid`.
    pub fn can_check(&self, alg: &str, kid: Option<&str>) -> bool {
        let kid_ok = match kid {
            None => true,
            Some(k) => self.kid.as_deref() == Some(k),
        };
        kid_ok && self.algorithms().contains(&alg)
    }
}

/// What PostgREST builds from `jwt-secret`: the keys tokens are checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    pub form: SecretForm,
    pub keys: Vec<Key>,
}

impl KeySet {
    /// The symmetric key to sign with when there is one (the first).
    pub fn symmetric(&self) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| matches!(k.material, Material::Symmetric(_)) && !k.for_encryption)
    }

    /// The kinds of keys, for messages: "RSA public key \"k1\", ...".
    pub fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(Key::describe).collect();
        format!("{} ({})", self.form.describe(), keys.join(", "))
    }
}

/// Why a secret is refused, in PostgREST's words where it has them.
pub const MSG_SHORT: &str = "The JWT secret must be at least 32 characters long.";

/// Parses `jwt-secret` as PostgREST v14 does: base64-decoded first when
/// `is_base64`, then a JWK set, else one JWK, else a plain secret of at
/// least 32 bytes (counted in bytes, after decoding). JSON that is neither
/// a valid JWK nor a valid set is a plain secret, as in PostgREST.
///
/// Errors: the message PostgREST fails to start with.
pub fn parse_secret(secret: &str, is_base64: bool) -> Result<KeySet, String> {
    let (bytes, plain_form) = if is_base64 {
        (decode_base64_secret(secret)?, SecretForm::Base64)
    } else {
        (secret.as_bytes().to_vec(), SecretForm::Plain)
    };
    if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
        if let Some(keys) = parse_jwks(&v) {
            return Ok(KeySet {
                form: SecretForm::Jwks,
                keys,
            });
        }
        if let Some(key) = v.as_object().and_then(|o| parse_jwk(o).ok()) {
            return Ok(KeySet {
                form: SecretForm::Jwk,
                keys: vec![key],
            });
        }
    }
    if bytes.len() < 32 {
        return Err(MSG_SHORT.into());
    }
    Ok(KeySet {
        form: plain_form,
        keys: vec![Key {
            material: Material::Symmetric(bytes),
            kid: None,
            for_encryption: false,
            alg: Some("HS256".into()),
        }],
    })
}

/// PostgREST's `decodeB64`: `_`→`/`, `-`→`+`, `.`→`=`, surrounding white
/// space stripped, then strict padded base64 (base64-bytestring `decode`).
fn decode_base64_secret(secret: &str) -> Result<Vec<u8>, String> {
    let s: String = secret
        .trim()
        .chars()
        .map(|c| match c {
            '_' => '/',
            '-' => '+',
            '.' => '=',
            c => c,
        })
        .collect();
    STANDARD.decode(s.as_bytes()).map_err(|e| {
        format!("jwt-secret-is-base64 is true but the secret is not valid base64 ({e})")
    })
}

/// A JWK set: an object whose `keys` is an array of valid JWKs (one bad
/// key makes the whole text something else, as aeson's generic parser).
fn parse_jwks(v: &Value) -> Option<Vec<Key>> {
    let keys = v.as_object()?.get("keys")?.as_array()?;
    keys.iter()
        .map(|k| k.as_object().ok_or(()).and_then(parse_jwk))
        .collect::<Result<Vec<_>, ()>>()
        .ok()
}

/// jose-jwt's algorithm names (`Jose.Jwa.algs`).
const JOSE_ALGS: [&str; 17] = [
    "none",
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "RSA1_5",
    "RSA-OAEP",
    "RSA-OAEP-256",
    "A128KW",
    "A192KW",
    "A256KW",
];

/// One JWK, as jose-jwt's `parseJwk`: an unknown `kty` or `alg` gives an
/// unsupported key (kept, never used); a known one must have the right
/// parameters or the text is not a JWK at all (`Err`).
fn parse_jwk(o: &Map<String, Value>) -> Result<Key, ()> {
    let alg_known = match o.get("alg") {
        None | Some(Value::Null) => true,
        Some(Value::String(a)) => JOSE_ALGS.contains(&a.as_str()),
        Some(_) => false,
    };
    let kty = match o.get("kty") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if ["RSA", "OKP", "EC", "oct"].contains(&k.as_str()) => {
            Some(k.as_str())
        }
        Some(_) => {
            return Ok(unsupported());
        }
    };
    if !alg_known {
        return Ok(unsupported());
    }
    // From here aeson's generic JwkData parser: kty is required and every
    // field has its type.
    let kty = kty.ok_or(())?;
    let bytes = |name: &str| -> Result<Option<Vec<u8>>, ()> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => URL_SAFE_NO_PAD.decode(s).map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    };
    let text = |name: &str| -> Result<Option<String>, ()> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(()),
        }
    };
    let [n, e, d, p, q, dp, dq, qi, k, x, y] =
        ["n", "e", "d", "p", "q", "dp", "dq", "qi", "k", "x", "y"];
    let (n, e, d, p, q, dp, dq, qi, k, x, y) = (
        bytes(n)?,
        bytes(e)?,
        bytes(d)?,
        bytes(p)?,
        bytes(q)?,
        bytes(dp)?,
        bytes(dq)?,
        bytes(qi)?,
        bytes(k)?,
        bytes(x)?,
        bytes(y)?,
    );
    let crv = text("crv")?;
    let kid = text("kid")?;
    let alg = text("alg")?;
    text("x5u")?;
    text("x5t")?;
    match o.get("x5c") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
        Some(_) => return Err(()),
    }
    let for_encryption = match text("use")?.as_deref() {
        None | Some("sig") => false,
        Some("enc") => true,
        Some(_) => return Err(()),
    };
    // jose-jwt's createJwk checks `isNothing (sequence [...])`: an error only
    // when EVERY listed parameter is present.
    let all = |v: &[&Option<Vec<u8>>]| v.iter().all(|o| o.is_some());
    let rsa_private_all = all(&[&p, &q, &dp, &dq, &qi]);
    let no_ec = crv.is_none() && !(x.is_some() && y.is_some());
    let material = match kty {
        "RSA" => {
            let (n, e) = (n.ok_or(())?, e.ok_or(())?);
            if !no_ec {
                return Err(());
            }
            match d {
                None if rsa_private_all => return Err(()),
                None => Material::Rsa {
                    n,
                    e,
                    private: None,
                },
                Some(d) => Material::Rsa {
                    n,
                    e,
                    private: Some(d),
                },
            }
        }
        "oct" => {
            let k = k.ok_or(())?;
            if all(&[&n, &e, &d, &p, &q, &dp, &dq, &qi]) || !no_ec {
                return Err(());
            }
            Material::Symmetric(k)
        }
        "OKP" => {
            let crv = crv.ok_or(())?;
            let x = x.ok_or(())?;
            if all(&[&n, &e, &p, &q, &dp, &dq, &qi]) {
                return Err(());
            }
            match crv.as_str() {
                "Ed25519" => {
                    let x: [u8; 32] = x.try_into().map_err(|_| ())?;
                    if let Some(d) = &d {
                        let d: [u8; 32] = d.as_slice().try_into().map_err(|_| ())?;
                        let derived = ed25519_dalek::SigningKey::from_bytes(&d).verifying_key();
                        if derived.to_bytes() != x {
                            return Err(());
                        }
                    }
                    Material::Ed25519 {
                        x: x.to_vec(),
                        private: d,
                    }
                }
                "Ed448" => {
                    if x.len() != 57 || d.as_ref().is_some_and(|d| d.len() != 57) {
                        return Err(());
                    }
                    Material::Ed448
                }
                _ => return Err(()),
            }
        }
        _ => {
            // EC
            let curve = match crv.ok_or(())?.as_str() {
                "P-256" => Curve::P256,
                "P-384" => Curve::P384,
                "P-521" => Curve::P521,
                _ => return Err(()),
            };
            let (x, y) = (x.ok_or(())?, y.ok_or(())?);
            if all(&[&n, &e, &p, &q, &dp, &dq, &qi]) {
                return Err(());
            }
            Material::Ec {
                curve,
                x,
                y,
                private: d,
            }
        }
    };
    Ok(Key {
        material,
        kid,
        for_encryption,
        alg,
    })
}

fn unsupported() -> Key {
    Key {
        material: Material::Unsupported,
        kid: None,
        for_encryption: false,
        alg: None,
    }
}

/// Whether `sig` (base64url, unpadded) is `key`'s signature of `message`
/// under `alg`. `Err` with a reason when this suite cannot check it
/// (ES512, Ed448) or the key material is unusable.
pub fn check_signature(key: &Key, alg: &str, message: &[u8], sig: &str) -> Result<bool, String> {
    use jsonwebtoken::{Algorithm, DecodingKey};
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let algorithm = match alg {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => return Err(format!("this suite cannot check {other} signatures")),
    };
    let dk = match &key.material {
        Material::Symmetric(b) => DecodingKey::from_secret(b),
        Material::Rsa { n, e, .. } => DecodingKey::from_rsa_raw_components(n, e),
        Material::Ec { curve, x, y, .. } => {
            let want = match curve {
                Curve::P256 => ("ES256", 32),
                Curve::P384 => ("ES384", 48),
                Curve::P521 => return Err("this suite cannot check P-521 (ES512) keys".into()),
            };
            if alg != want.0 || x.len() != want.1 || y.len() != want.1 {
                // jose-jwt would try, and the point would not verify.
                return Ok(false);
            }
            DecodingKey::from_ec_components(&b64(x), &b64(y)).map_err(|e| e.to_string())?
        }
        Material::Ed25519 { x, .. } => {
            DecodingKey::from_ed_components(&b64(x)).map_err(|e| e.to_string())?
        }
        Material::Ed448 => return Err("this suite cannot check Ed448 signatures".into()),
        Material::Unsupported => return Ok(false),
    };
    // A malformed signature or point is simply "does not verify".
    Ok(jsonwebtoken::crypto::verify(sig, message, &dk, algorithm).unwrap_or(false))
}

/// A private key to sign with (`--key-file`): PEM (PKCS#8, PKCS#1 RSA,
/// SEC1 EC) or a private JWK.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// `RS256`, `ES256`, `ES384` or `EdDSA`.
    pub alg: &'static str,
    /// The JWK `kid`, when the key file is a JWK that has one.
    pub kid: Option<String>,
    encoding: jsonwebtoken::EncodingKey,
    /// The public half, to find the deployed key it matches.
    pub public: Material,
}

impl SigningKey {
    /// Reads a private key from the text of a key file.
    ///
    /// Errors: why the text is not a usable private key.
    pub fn parse(text: &str) -> Result<SigningKey, String> {
        let t = text.trim();
        if t.starts_with('{') {
            let v: Value = serde_json::from_str(t).map_err(|e| format!("not valid JSON: {e}"))?;
            let o = v.as_object().ok_or("a JWK must be a JSON object")?;
            let key = parse_jwk(o).map_err(|_| "not a valid JWK".to_string())?;
            let mut sk = SigningKey::from_material(&key.material)?;
            sk.kid = key.kid;
            return Ok(sk);
        }
        if t.starts_with("-----BEGIN") {
            return SigningKey::from_pem(t);
        }
        Err("not a PEM private key (-----BEGIN PRIVATE KEY-----) nor a JWK (JSON)".into())
    }

    fn from_pem(pem: &str) -> Result<SigningKey, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        if pem.contains("PUBLIC KEY-----") {
            return Err("this is a public key; minting needs the private key".into());
        }
        let rsa_key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .ok()
            .or_else(|| rsa::RsaPrivateKey::from_pkcs1_pem(pem).ok());
        if let Some(k) = rsa_key {
            return SigningKey::rsa(&k.n().to_bytes_be(), &k.e().to_bytes_be(), &k);
        }
        if let Ok(k) =
            p256::SecretKey::from_pkcs8_pem(pem).or_else(|_| p256::SecretKey::from_sec1_pem(pem))
        {
            return SigningKey::from_material(&Material::Ec {
                curve: Curve::P256,
                x: vec![],
                y: vec![],
                private: Some(k.to_bytes().to_vec()),
            });
        }
        if let Ok(k) =
            p384::SecretKey::from_pkcs8_pem(pem).or_else(|_| p384::SecretKey::from_sec1_pem(pem))
        {
            return SigningKey::from_material(&Material::Ec {
                curve: Curve::P384,
                x: vec![],
                y: vec![],
                private: Some(k.to_bytes().to_vec()),
            });
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return SigningKey::from_material(&Material::Ed25519 {
                x: k.verifying_key().to_bytes().to_vec(),
                private: Some(k.to_bytes().to_vec()),
            });
        }
        Err("not an RSA, EC P-256/P-384 or Ed25519 private key in PEM".into())
    }

    fn rsa(n: &[u8], e: &[u8], k: &rsa::RsaPrivateKey) -> Result<SigningKey, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let der = k.to_pkcs1_der().map_err(|e| e.to_string())?;
        Ok(SigningKey {
            alg: "RS256",
            kid: None,
            encoding: jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
            public: Material::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
                private: None,
            },
        })
    }

    fn from_material(m: &Material) -> Result<SigningKey, String> {
        use p256::pkcs8::EncodePrivateKey as _;
        match m {
            Material::Rsa {
                n,
                e,
                private: Some(d),
            } => {
                use rsa::BigUint;
                let k = rsa::RsaPrivateKey::from_components(
                    BigUint::from_bytes_be(n),
                    BigUint::from_bytes_be(e),
                    BigUint::from_bytes_be(d),
                    vec![],
                )
                .map_err(|e| format!("unusable RSA key: {e}"))?;
                SigningKey::rsa(n, e, &k)
            }
            Material::Ec {
                curve: Curve::P256,
                private: Some(d),
                ..
            } => {
                let k = p256::SecretKey::from_slice(d).map_err(|e| format!("unusable P-256 key: {e}"))?;
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&k.public_key(), false);
                let der = k.to_pkcs8_der().map_err(|e| e.to_string())?;
                Ok(SigningKey {
                    alg: "ES256",
                    kid: None,
                    encoding: jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
                    public: Material::Ec {
                        curve: Curve::P256,
                        x: point.x().map(|x| x.to_vec()).unwrap_or_default(),
                        y: point.y().map(|y| y.to_vec()).unwrap_or_default(),
                        private: None,
                    },
                })
            }
            Material::Ec {
                curve: Curve::P384,
                private: Some(d),
                ..
            } => {
                let k = p384::SecretKey::from_slice(d).map_err(|e| format!("unusable P-384 key: {e}"))?;
                let point = p384::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&k.public_key(), false);
                let der = k.to_pkcs8_der().map_err(|e| e.to_string())?;
                Ok(SigningKey {
                    alg: "ES384",
                    kid: None,
                    encoding: jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
                    public: Material::Ec {
                        curve: Curve::P384,
                        x: point.x().map(|x| x.to_vec()).unwrap_or_default(),
                        y: point.y().map(|y| y.to_vec()).unwrap_or_default(),
                        private: None,
                    },
                })
            }
            Material::Ed25519 {
                x,
                private: Some(d),
            } => {
                use ed25519_dalek::pkcs8::EncodePrivateKey as _;
                let d: [u8; 32] = d.as_slice().try_into().map_err(|_| "unusable Ed25519 key")?;
                let k = ed25519_dalek::SigningKey::from_bytes(&d);
                let der = k.to_pkcs8_der().map_err(|e| e.to_string())?;
                Ok(SigningKey {
                    alg: "EdDSA",
                    kid: None,
                    encoding: jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
                    public: Material::Ed25519 {
                        x: x.clone(),
                        private: None,
                    },
                })
            }
            Material::Symmetric(_) => Err("a symmetric (oct) JWK is a shared secret, not a private key: put it in the deployed secret and leave --key-file out".into()),
            Material::Ec { curve: Curve::P521, .. } => Err("this suite cannot sign with P-521 (ES512) keys".into()),
            Material::Ed448 => Err("this suite cannot sign with Ed448 keys".into()),
            Material::Unsupported => Err("a JWK of a type PostgREST does not support".into()),
            _ => Err("this JWK has no private part (\"d\"): minting needs the private key".into()),
        }
    }

    /// Signs `message` (`header.payload`), returning the base64url signature.
    ///
    /// Errors: the crypto library's reason.
    pub fn sign(&self, message: &[u8]) -> Result<String, String> {
        let alg = match self.alg {
            "RS256" => jsonwebtoken::Algorithm::RS256,
            "ES256" => jsonwebtoken::Algorithm::ES256,
            "ES384" => jsonwebtoken::Algorithm::ES384,
            _ => jsonwebtoken::Algorithm::EdDSA,
        };
        jsonwebtoken::crypto::sign(message, &self.encoding, alg).map_err(|e| e.to_string())
    }

    /// Whether `key` (a deployed key) is this key's public half.
    pub fn matches(&self, key: &Key) -> bool {
        let strip = |m: &Material| match m {
            Material::Rsa { n, e, .. } => Material::Rsa {
                n: trim0(n),
                e: trim0(e),
                private: None,
            },
            Material::Ec { curve, x, y, .. } => Material::Ec {
                curve: *curve,
                x: x.clone(),
                y: y.clone(),
                private: None,
            },
            Material::Ed25519 { x, .. } => Material::Ed25519 {
                x: x.clone(),
                private: None,
            },
            other => other.clone(),
        };
        strip(&key.material) == strip(&self.public)
    }
}

fn trim0(b: &[u8]) -> Vec<u8> {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b[i..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_secrets_count_bytes() {
        // 11 characters, 33 bytes: PostgREST counts bytes.
        let s = "ææææææææææææææææx";
        assert!(s.chars().count() < 32 && s.len() >= 32);
        assert_eq!(parse_secret(s, false).unwrap().form, SecretForm::Plain);
        assert_eq!(parse_secret(&"x".repeat(31), false).unwrap_err(), MSG_SHORT);
    }

    #[test]
    fn base64_secrets_decode_first() {
        let raw = [7u8; 32];
        let enc = STANDARD.encode(raw);
        let ks = parse_secret(&enc, true).unwrap();
        assert_eq!(ks.form, SecretForm::Base64);
        assert_eq!(ks.keys[0].material, Material::Symmetric(raw.to_vec()));
        // URL-safe characters and '.' padding are accepted, as PostgREST.
        let url = URL_SAFE_NO_PAD.encode([0xfbu8; 33]);
        assert!(parse_secret(&url, true).is_ok());
        // 44 characters that decode to 31 bytes are too short.
        assert_eq!(
            parse_secret(&STANDARD.encode([1u8; 31]), true).unwrap_err(),
            MSG_SHORT
        );
        assert!(parse_secret("not base64!", true).is_err());
    }

    #[test]
    fn json_forms() {
        let oct = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"short")}).to_string();
        let ks = parse_secret(&oct, false).unwrap();
        assert_eq!(ks.form, SecretForm::Jwk);
        assert_eq!(ks.keys[0].material, Material::Symmetric(b"short".to_vec()));
        assert_eq!(ks.keys[0].algorithms(), ["HS256", "HS384", "HS512"]);
        let set = json!({"keys": [{"kty": "oct", "k": "YWJj", "kid": "a"}, {"kty": "XYZ"}]});
        let ks = parse_secret(&set.to_string(), false).unwrap();
        assert_eq!(ks.form, SecretForm::Jwks);
        assert_eq!(ks.keys[1].material, Material::Unsupported);
        // JSON that is no JWK is a plain secret (when long enough).
        let other = json!({"hello": "this is not a key at all, just json"}).to_string();
        assert_eq!(parse_secret(&other, false).unwrap().form, SecretForm::Plain);
        // A JWK with a bad parameter is not a JWK either.
        assert!(parse_secret(&json!({"kty": "RSA", "n": "AQAB"}).to_string(), false).is_err());
        // An `enc` key checks nothing.
        let enc = json!({"kty": "oct", "k": "YWJj", "use": "enc"}).to_string();
        assert!(
            parse_secret(&enc, false).unwrap().keys[0]
                .algorithms()
                .is_empty()
        );
    }

    #[test]
    fn kid_and_alg_rules() {
        let k = Key {
            material: Material::Symmetric(vec![1]),
            kid: Some("a".into()),
            for_encryption: false,
            alg: Some("HS384".into()),
        };
        assert!(k.can_check("HS384", None));
        assert!(k.can_check("HS384", Some("a")));
        assert!(!k.can_check("HS384", Some("b")));
        assert!(!k.can_check("HS256", None));
        let no_kid = Key { kid: None, ..k };
        assert!(!no_kid.can_check("HS384", Some("a")));
    }
}
