//! The token flags of `uis-jwt-mint` (`--exp`, `--claim`) turned into the
//! plain values `uis_postgrest::jwt` takes, and the messages that name those
//! flags: the JWT module itself knows no flag.

use serde_json::Value;
use std::time::Duration;
use uis_core::Failure;
use uis_ops::postgrest::jwt::ClaimConflict;

/// Longest lifetime [`parse_duration`] accepts; longer is almost surely a
/// typo, and `never` exists for the deliberate case.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Parses a token lifetime: a positive whole number with one unit (`90s`,
/// `15m`, `12h`, `30d`, `10y` where a year is 365 days), or `never` for no
/// `exp` at all (`Ok(None)`). A bare number is refused: `5` could mean
/// seconds or days, and guessing wrong mints a token that lives 86 400 times
/// too long or is dead on arrival.
///
/// Errors: a one-line message for clap (shown as the flag's error).
pub fn parse_duration(s: &str) -> Result<Option<Duration>, String> {
    const RULE: &str = "use a positive whole number and a unit s, m, h, d or y (365 days), \
                        e.g. 90s, 15m, 12h, 30d, 10y, or `never`";
    if s == "never" {
        return Ok(None);
    }
    if s.is_empty() {
        return Err(format!("empty duration: {RULE}"));
    }
    let unit_at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(unit_at);
    if digits.is_empty() {
        return Err(format!("invalid duration {s:?}: {RULE}"));
    }
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "y" => 365 * 86_400,
        "" => return Err(format!("duration {s:?} has no unit: {RULE}")),
        _ => return Err(format!("invalid duration unit in {s:?}: {RULE}")),
    };
    let too_long = || format!("duration {s:?} is longer than 100 years: {RULE}");
    // Digits only, so a parse failure can only be overflow.
    let n: u64 = digits.parse().map_err(|_| too_long())?;
    if n == 0 {
        return Err(format!(
            "duration {s:?} is zero: the token would be expired on arrival; {RULE}"
        ));
    }
    let secs = n.checked_mul(unit_secs).ok_or_else(too_long)?;
    let d = Duration::from_secs(secs);
    if d > MAX_DURATION {
        return Err(too_long());
    }
    Ok(Some(d))
}

/// Parses one `--claim KEY=JSON` argument. The value is JSON so numbers,
/// booleans, arrays and objects keep their type in the token; a bare word is
/// therefore refused rather than silently turned into a string.
///
/// Errors: a one-line message for clap (shown as the flag's error).
pub fn parse_claim_arg(s: &str) -> Result<(String, Value), String> {
    let Some((key, raw)) = s.split_once('=') else {
        return Err(format!(
            "--claim {s:?} has no `=`: use KEY=JSON, e.g. --claim 'tenant=\"acme\"' \
             or --claim 'level=3'"
        ));
    };
    if key.is_empty() || key.trim() != key {
        return Err(format!(
            "--claim {s:?} has an empty or space-padded key: use KEY=JSON, \
             e.g. --claim 'tenant=\"acme\"'"
        ));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => Ok((key.to_string(), v)),
        Err(e) => {
            // The example must stay one line whatever the key and value hold.
            let hint = if raw.is_empty() || raw.contains(char::is_control) {
                "acme"
            } else {
                raw
            };
            let key = if key.contains(char::is_control) {
                "KEY"
            } else {
                key
            };
            Err(format!(
                "--claim {key}: the value {raw:?} is not valid JSON ({e}); strings need \
                 JSON double quotes inside shell quotes, e.g. --claim '{key}=\"{hint}\"'"
            ))
        }
    }
}

/// The failure for an extra claim that fights the flags (a
/// [`ClaimConflict`] from `uis_postgrest::jwt::validate_extra`), naming the
/// flag that owns the claim: phase `usage` (exit 2).
pub fn claim_conflict(c: &ClaimConflict) -> Failure {
    let m = match c {
        ClaimConflict::SetByMinting(key) => format!(
            "--claim {key}=... is not allowed: `{key}` is set by the flags \
             (--role, --exp; iat is the minting time)"
        ),
        ClaimConflict::AlsoNamed(key) => {
            format!("--claim {key}=... conflicts with --{key}: give one or the other")
        }
        ClaimConflict::Repeated(key) => format!("--claim {key}=... is given more than once"),
    };
    Failure::usage(format!("invalid --claim: {m}")).hint(
        "role, exp and iat come from --role and --exp; other claims are --claim KEY=JSON, e.g. --claim 'tenant=\"acme\"'",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_good() {
        let d = |s| parse_duration(s).unwrap();
        assert_eq!(d("90s"), Some(Duration::from_secs(90)));
        assert_eq!(d("15m"), Some(Duration::from_secs(900)));
        assert_eq!(d("12h"), Some(Duration::from_secs(43_200)));
        assert_eq!(d("30d"), Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(d("10y"), Some(Duration::from_secs(3_650 * 86_400)));
        assert_eq!(d("100y"), Some(MAX_DURATION));
        assert_eq!(d("never"), None);
    }

    #[test]
    fn durations_bad() {
        for s in [
            "-1d",
            "10x",
            "1000000y",
            "",
            "5",
            "0m",
            "101y",
            "d",
            "1.5h",
            " 5m",
            "5m ",
            "5 m",
            "+5m",
            "5mm",
            "Never",
            "99999999999999999999999s",
            "999999999999999999d",
        ] {
            let e = parse_duration(s).expect_err(s);
            assert!(e.contains("e.g. 90s, 15m"), "{s:?}: {e}");
            assert!(!e.contains('\n'), "{s:?}: one line");
        }
    }

    #[test]
    fn claim_args() {
        assert_eq!(
            parse_claim_arg(r#"tenant="acme""#).unwrap(),
            ("tenant".into(), json!("acme"))
        );
        assert_eq!(parse_claim_arg("n=3").unwrap(), ("n".into(), json!(3)));
        assert_eq!(
            parse_claim_arg(r#"o={"a":[1,true,null]}"#).unwrap().1,
            json!({"a": [1, true, null]})
        );
        assert_eq!(parse_claim_arg(r#"x="a=b""#).unwrap().1, json!("a=b"));
        let e = parse_claim_arg("tenant=acme").unwrap_err();
        assert!(e.contains(r#"--claim 'tenant="acme"'"#), "{e}");
        assert!(!e.contains('\n'));
        assert!(
            parse_claim_arg("tenant=")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(parse_claim_arg("tenant").unwrap_err().contains("no `=`"));
        assert!(parse_claim_arg("=1").is_err());
        assert!(parse_claim_arg(" k=1").is_err());
    }

    #[test]
    fn conflicts_name_the_flags() {
        let m = |c| claim_conflict(&c).detail;
        assert!(m(ClaimConflict::SetByMinting("iat".into())).contains("set by the flags"));
        assert!(m(ClaimConflict::AlsoNamed("aud".into())).contains("--aud"));
        assert!(m(ClaimConflict::Repeated("t".into())).contains("more than once"));
    }
}
