//! Generated secrets: role passwords and JWT signing keys.
//!
//! Every value is drawn from `[A-Za-z0-9]` only, so it can be spliced into a
//! connection URI, a libpq string, a pgpass line or a `.env` file without any
//! escaping (friction F9: `+` and `/` from base64 broke PostgREST's URI).

use rand::RngExt;
use rand::distr::Alphanumeric;

/// Length of role passwords (about 190 bits).
pub const PASSWORD_LEN: usize = 32;
/// Length of JWT secrets (PostgREST needs at least 32).
pub const JWT_SECRET_LEN: usize = 64;

/// `len` characters of `[A-Za-z0-9]` from the OS-seeded thread RNG
/// (rand's `Alphanumeric` distribution: uniform over the 62 characters).
pub fn generate(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new role password.
pub fn password() -> String {
    generate(PASSWORD_LEN)
}

/// True when `s` only uses the URL-safe alphabet the suite generates.
pub fn is_url_safe(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_passwords_are_url_safe_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let pw = password();
            assert!(pw.len() >= 32 && is_url_safe(&pw), "{pw}");
            let url = crate::creds::url("app_authenticator", &pw, "host", 5432, "app_db");
            let cfg: postgres::Config = url.parse().expect("URL parses");
            assert_eq!(cfg.get_password(), Some(pw.as_bytes()));
            assert_eq!(cfg.get_ports(), &[5432]);
            assert!(seen.insert(pw), "duplicate password");
        }
    }

    #[test]
    fn jwt_secrets_are_long_enough_for_postgrest() {
        let s = generate(JWT_SECRET_LEN);
        assert_eq!(s.len(), 64);
        assert!(is_url_safe(&s));
    }
}
