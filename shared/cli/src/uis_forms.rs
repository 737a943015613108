//! The argument forms of UIS's own CLI and of the onboarding investigation,
//! accepted by every binary beside its own: `--app NAME` for the positional
//! APP, a service word before it (`uis db psql postgresql --app railway`,
//! `uis db seed postgresql --app railway seeds/`), and `--service WORD`
//! (`uis secrets get postgres-admin --service postgresql`), which names the
//! one service the suite serves and is dropped.
//!
//! The rewrite happens before clap parses, so it works the same through the
//! `uis` dispatcher, the kubectl plugin links and a direct call.

use std::ffi::OsString;

/// The service words UIS puts before `--app` (`./uis configure postgresql`,
/// `./uis db psql postgresql`).
pub const SERVICE_WORDS: [&str; 2] = ["postgresql", "postgrest"];

/// `argv` (program name first) with `--app NAME` / `--app=NAME` turned into
/// the first positional argument (replacing a service word in that place),
/// and `--service WORD` / `--service=WORD` removed. Without `--app`, a
/// service word stays (it is an app name then). Arguments after `--` are
/// left alone.
pub fn rewrite(argv: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let args: Vec<OsString> = argv.into_iter().collect();
    if args.is_empty() {
        return args;
    }
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut app: Option<OsString> = None;
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if i >= 1 && i < end {
            let s = a.to_string_lossy();
            if s == "--app" && i + 1 < end {
                app = Some(args[i + 1].clone());
                i += 2;
                continue;
            }
            if let Some(v) = s.strip_prefix("--app=") {
                app = Some(OsString::from(v));
                i += 1;
                continue;
            }
            if s == "--service" && i + 1 < end {
                i += 2;
                continue;
            }
            if s.starts_with("--service=") {
                i += 1;
                continue;
            }
        }
        out.push(a.clone());
        i += 1;
    }
    let Some(app) = app else {
        return out;
    };
    if out
        .get(1)
        .is_some_and(|a| SERVICE_WORDS.iter().any(|w| a == *w))
    {
        out[1] = app;
    } else {
        out.insert(1, app);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        rewrite(s.split(' ').map(OsString::from))
            .iter()
            .map(|a| a.to_string_lossy().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn uis_forms_become_the_suites() {
        assert_eq!(
            r("uis-db-psql postgresql --app railway --as admin -f 01-roles.sql"),
            "uis-db-psql railway --as admin -f 01-roles.sql"
        );
        assert_eq!(
            r("uis-db-seed postgresql --app railway seeds/"),
            "uis-db-seed railway seeds/"
        );
        assert_eq!(
            r("uis-jwt-mint --app railway --role anon --exp 10y"),
            "uis-jwt-mint railway --role anon --exp 10y"
        );
        assert_eq!(
            r("uis-db-configure --app=railway --database railway --json"),
            "uis-db-configure railway --database railway --json"
        );
        assert_eq!(
            r("uis-db-creds --admin --service postgresql"),
            "uis-db-creds --admin"
        );
        // Today's forms are untouched.
        assert_eq!(
            r("uis-db-psql railway -c select"),
            "uis-db-psql railway -c select"
        );
        assert_eq!(
            r("uis-db-psql postgresql -c x"),
            "uis-db-psql postgresql -c x"
        );
        assert_eq!(
            r("uis-db-psql railway -- --app x"),
            "uis-db-psql railway -- --app x"
        );
    }
}
