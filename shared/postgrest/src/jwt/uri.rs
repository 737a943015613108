//! PostgREST's `jwt-aud` rule (v14.10 `Config.hs` `optStringOrURI`): any
//! string, but one that contains `:` must be an RFC 3986 URI, as Haskell's
//! `Network.URI.isURI` checks it (an absolute URI with an optional
//! fragment). PostgREST refuses to start otherwise.

/// PostgREST's start-up message for a bad `jwt-aud`.
pub const MSG_BAD_AUD: &str = "jwt-aud should be a string or a valid URI";

/// Whether PostgREST accepts `aud` as `jwt-aud`.
pub fn valid_jwt_aud(aud: &str) -> bool {
    !aud.contains(':') || is_uri(aud)
}

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c)
}

fn sub_delim(c: u8) -> bool {
    b"!$&'()*+,;=".contains(&c)
}

/// `*( allowed / pct-encoded )` over all of `s`.
fn all_chars(s: &[u8], allowed: impl Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if i + 2 >= s.len() || !(s[i + 1].is_ascii_hexdigit() && s[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
        } else if allowed(s[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn pchar(c: u8) -> bool {
    unreserved(c) || sub_delim(c) || c == b':' || c == b'@'
}

/// A path: segments of pchars separated by `/`.
fn path_chars(s: &[u8]) -> bool {
    all_chars(s, |c| pchar(c) || c == b'/')
}

/// RFC 3986 `absolute-URI [ "#" fragment ]`.
pub fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let scheme = &b[..colon];
    if scheme.is_empty()
        || !scheme[0].is_ascii_alphabetic()
        || !scheme
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
    {
        return false;
    }
    let rest = &b[colon + 1..];
    // Split off "#fragment" and "?query".
    let (rest, fragment) = match rest.iter().position(|&c| c == b'#') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (hier, query) = match rest.iter().position(|&c| c == b'?') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let qf_ok =
        |p: Option<&[u8]>| p.is_none_or(|p| all_chars(p, |c| pchar(c) || c == b'/' || c == b'?'));
    if !qf_ok(query) || !qf_ok(fragment) {
        return false;
    }
    if let Some(after) = hier.strip_prefix(b"//") {
        let end = after.iter().position(|&c| c == b'/').unwrap_or(after.len());
        let (authority, path) = after.split_at(end);
        authority_ok(authority) && path_chars(path)
    } else {
        // path-absolute, path-rootless or path-empty: "//" excluded above;
        // a leading "/" must not be followed by another.
        path_chars(hier)
    }
}

/// `[ userinfo "@" ] host [ ":" port ]`.
fn authority_ok(a: &[u8]) -> bool {
    let (userinfo, hostport) = match a.iter().position(|&c| c == b'@') {
        Some(i) => (Some(&a[..i]), &a[i + 1..]),
        None => (None, a),
    };
    if let Some(u) = userinfo
        && !all_chars(u, |c| unreserved(c) || sub_delim(c) || c == b':')
    {
        return false;
    }
    let (host, port) = if hostport.first() == Some(&b'[') {
        let Some(close) = hostport.iter().position(|&c| c == b']') else {
            return false;
        };
        let literal = &hostport[1..close];
        if !ip_literal_ok(literal) {
            return false;
        }
        let after = &hostport[close + 1..];
        match after.first() {
            None => return true,
            Some(b':') => (&[][..], &after[1..]),
            Some(_) => return false,
        }
    } else {
        match hostport.iter().position(|&c| c == b':') {
            Some(i) => (&hostport[..i], &hostport[i + 1..]),
            None => (hostport, &[][..]),
        }
    };
    all_chars(host, |c| unreserved(c) || sub_delim(c)) && port.iter().all(u8::is_ascii_digit)
}

/// IPv6address or IPvFuture.
fn ip_literal_ok(l: &[u8]) -> bool {
    if let Some(rest) = l.strip_prefix(b"v").or_else(|| l.strip_prefix(b"V")) {
        let Some(dot) = rest.iter().position(|&c| c == b'.') else {
            return false;
        };
        return dot > 0
            && rest[..dot].iter().all(u8::is_ascii_hexdigit)
            && rest.len() > dot + 1
            && rest[dot + 1..]
                .iter()
                .all(|&c| unreserved(c) || sub_delim(c) || c == b':');
    }
    std::str::from_utf8(l).is_ok_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences() {
        for ok in [
            "api",
            "my api",
            "a:hey",
            "urn:example:api",
            "https://api.example.com",
            "https://api.example.com:8443/v1?x=1#f",
            "http://[::1]:3000/",
            "http://user:pw@host",
            "mailto:a@b.c",
            "http://%41bc",
            "a:",
        ] {
            assert!(valid_jwt_aud(ok), "{ok}");
        }
        for bad in [
            "http://[bad",
            "https://my api",
            "1a:x",
            ":x",
            "http://a b",
            "http://h:port",
            "http://h/%zz",
            "a:b c",
            "http://[::1]x",
            "x:%4",
        ] {
            assert!(!valid_jwt_aud(bad), "{bad}");
        }
    }
}
