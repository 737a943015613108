//! Small helpers shared by the stand-in's modules: Status error bodies,
//! RFC 3339 timestamps (`jiff`), random names and uids (`uuid`), JSON path
//! access.

use rand::RngExt as _;
use serde_json::{Value, json};

/// An API error, rendered as a `metav1.Status` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Status reason, e.g. `NotFound`.
    pub reason: String,
    /// Human readable message.
    pub message: String,
    /// Optional `details` object.
    pub details: Option<Value>,
}

impl ApiError {
    /// A new error without details.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }
    /// 404 for a named object of `resource` (plural, with group suffix if any).
    pub fn not_found(resource: &str, name: &str) -> ApiError {
        ApiError {
            code: 404,
            reason: "NotFound".into(),
            message: format!("{resource} \"{name}\" not found"),
            details: Some(json!({"name": name, "kind": resource})),
        }
    }
    /// 409 AlreadyExists.
    pub fn already_exists(resource: &str, name: &str) -> ApiError {
        ApiError {
            code: 409,
            reason: "AlreadyExists".into(),
            message: format!("{resource} \"{name}\" already exists"),
            details: Some(json!({"name": name, "kind": resource})),
        }
    }
    /// 422 Invalid.
    pub fn invalid(kind: &str, name: &str, field: &str, msg: &str) -> ApiError {
        ApiError {
            code: 422,
            reason: "Invalid".into(),
            message: format!("{kind} \"{name}\" is invalid: {field}: {msg}"),
            details: Some(json!({"name": name, "kind": kind,
                "causes": [{"reason": "FieldValueInvalid", "message": msg, "field": field}]})),
        }
    }
    /// 400 BadRequest.
    pub fn bad_request(msg: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", msg)
    }
    /// The Status body.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message,
            "reason": self.reason, "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

/// Current time as RFC 3339 (seconds, UTC), like Kubernetes timestamps.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random v4 UUID string.
pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `n` characters from the alphabet Kubernetes uses for generated names.
pub fn random_suffix(n: usize) -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHA[rng.random_range(0..ALPHA.len())] as char)
        .collect()
}

/// Is `s` a DNS-1123 subdomain (lowercase alphanumerics, `-`, `.`, at most 253)?
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Is `s` a DNS-1123 label (at most 63, no dots)?
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns1123_subdomain(s)
}

/// Reads a string at a dotted path (`metadata.name`, `status.phase`).
pub fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    let mut cur = v;
    for p in path.split('.') {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// Text form of a scalar at a dotted path (strings, numbers, booleans).
pub fn scalar_at(v: &Value, path: &str) -> Option<String> {
    let mut cur = v;
    for p in path.split('.') {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
