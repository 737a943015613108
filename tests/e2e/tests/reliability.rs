//! The reliability suite (issue 12): bad input to every binary, faults of
//! the API, the tunnel and PostgreSQL, and concurrent runs. Every case
//! asserts the exit code, one clear message naming the fix, no panic,
//! bounded time, no secret on stderr, and the state afterwards; the rows
//! make up docs/reliability.md (see uis_e2e::reliability).

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use uis_e2e::reliability::{Case, Kind, Section, snapshot};
use uis_e2e::{Env, base64_encode};

const APP_RULE: &str = "^[a-z][a-z0-9-]{0,40}$";
const NAME_RULE: &str = "^[a-z_][a-z0-9_]{0,62}$";

/// The bad names tried wherever a name is read.
fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("uppercase", "Shop".into()),
        ("space", "my shop".into()),
        ("double quote", "a\"b".into()),
        ("single quote", "a'b".into()),
        ("semicolon", "a;drop".into()),
        ("`..`", "..".into()),
        ("a path", "../etc".into()),
        ("control character", "a\u{1}b".into()),
        ("newline", "a\nb".into()),
        ("non-ASCII", "ærø".into()),
        ("64 characters", "a".repeat(64)),
        ("empty", String::new()),
        ("digit first", "1app".into()),
    ]
}

/// A configured app `shop` with PostgREST, through the real binaries.
fn shop(env: &Env) {
    env.run("uis-db-configure", &["shop", "--with-roles", "postgrest"])
        .ok();
    env.run("uis-postgrest-deploy", &["shop"]).ok();
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> String {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn bad_names_for_every_binary() {
    let env = Env::new();
    let mut s = Section::new("names", env.dir.path());
    let seed_dir = env.path("db");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let seed_dir = seed_dir.to_string_lossy().into_owned();
    for (what, name) in bad_names() {
        let n = name.as_str();
        let per_bin: [(&str, Vec<&str>); 8] = [
            ("uis-db-configure", vec![n]),
            ("uis-db-creds", vec![n]),
            ("uis-db-tunnel", vec![n]),
            ("uis-db-psql", vec![n, "-c", "select 1"]),
            ("uis-db-seed", vec![n, &seed_dir]),
            ("uis-postgrest-deploy", vec![n]),
            ("uis-jwt-mint", vec![n, "--role", "web_anon"]),
            ("uis-db-doctor", vec![n]),
        ];
        for (bin, args) in per_bin {
            s.check(
                &env,
                Case::bad(format!("APP: {what}"), bin, &args).says(&["invalid APP", APP_RULE]),
            );
        }
    }
    // Names the suite creates.
    for (what, name) in bad_names() {
        if name == "1app" {
            continue;
        }
        s.check(
            &env,
            Case::bad(
                format!("--owner: {what}"),
                "uis-db-configure",
                &["shop", "--owner", &name],
            )
            .says(&["invalid --owner", NAME_RULE]),
        );
    }
    for (what, flag, value) in [
        ("--database with a space", "--database", "My DB"),
        ("--database with a dash", "--database", "my-db"),
        ("--schemas with uppercase", "--schemas", "Api"),
        ("--schemas with an empty item", "--schemas", "api,,x"),
        ("--authenticator with a quote", "--authenticator", "auth\"x"),
        ("--anon-role: 64 characters", "--anon-role", &"a".repeat(64)),
    ] {
        let field = if flag == "--schemas" { "schema" } else { flag };
        s.check(
            &env,
            Case::bad(what, "uis-db-configure", &["shop", flag, value])
                .says(&[&format!("invalid {field}")]),
        );
    }
    s.check(
        &env,
        Case::bad(
            "--secret-name-prefix: uppercase and `_`",
            "uis-db-configure",
            &[
                "shop",
                "--namespace",
                "default",
                "--secret-name-prefix",
                "My_App",
            ],
        )
        .says(&["invalid --secret-name-prefix", "e.g. `railway`"]),
    );
    s.check(
        &env,
        Case::bad(
            "--namespace: a path",
            "uis-db-configure",
            &["shop", "--namespace", "a/b", "--secret-name-prefix", "x"],
        )
        .says(&[
            "invalid value 'a/b' for '--namespace <NS>'",
            "e.g. `default`",
        ]),
    );
    for (what, bin, args, says) in [
        (
            "--anon-role with a space",
            "uis-postgrest-deploy",
            vec!["shop", "--anon-role", "web anon"],
            "invalid --anon-role",
        ),
        (
            "--schemas with `;`",
            "uis-postgrest-deploy",
            vec!["shop", "--schemas", "api;drop"],
            "invalid schema",
        ),
        (
            "--as with a newline",
            "uis-db-psql",
            vec!["shop", "--as", "a\nb", "-c", "select 1"],
            "invalid value",
        ),
        (
            "--as empty",
            "uis-db-seed",
            vec!["shop", "--as", "", "db"],
            "invalid value",
        ),
        (
            "--role: 64 characters",
            "uis-db-creds",
            vec!["shop", "--role", &"r".repeat(64)],
            "invalid value",
        ),
        (
            "--role empty",
            "uis-db-tunnel",
            vec!["shop", "--role", ""],
            "invalid value",
        ),
        (
            "--role with a control character",
            "uis-jwt-mint",
            vec!["shop", "--role", "a\u{7}"],
            "invalid value",
        ),
        (
            "--pg-namespace: a path",
            "uis-db-creds",
            vec!["shop", "--pg-namespace", "default/secrets"],
            "must be a Kubernetes name",
        ),
        (
            "--pg-service: uppercase",
            "uis-db-creds",
            vec!["shop", "--pg-service", "PostgreSQL"],
            "must be a Kubernetes name",
        ),
    ] {
        s.check(&env, Case::bad(what, bin, &args).says(&[says]));
    }
    s.finish();
}

#[test]
fn bad_files_flags_and_stdin() {
    let env = Env::new();
    shop(&env);
    let mut s = Section::new("files", env.dir.path());
    let dir = env.path("in");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_string_lossy().into_owned();
    let missing = format!("{d}/missing.sql");
    let latin1 = write(&dir.join("latin1.sql"), b"select 'bl\xe5b\xe6r';\n");
    let nul = write(&dir.join("nul.sql"), b"select 1;\0\n");
    let unterminated = write(&dir.join("open.sql"), "select 'never closed;\n");
    let badmeta = write(&dir.join("meta.sql"), "\\gexec\n");
    // psql -f
    for (what, file, code, says) in [
        ("-f: missing file", missing.as_str(), 1, "No such file"),
        ("-f: a directory", d.as_str(), 1, "Is a directory"),
        (
            "-f: unreadable (EIO)",
            "/proc/self/mem",
            1,
            "Input/output error",
        ),
        (
            "-f: not UTF-8 (Latin-1)",
            latin1.as_str(),
            3,
            "not valid UTF-8",
        ),
        ("-f: a NUL byte", nul.as_str(), 3, "nul.sql:1"),
        (
            "-f: unterminated quoted string",
            unterminated.as_str(),
            3,
            "unterminated",
        ),
        (
            "-f: unsupported meta-command",
            badmeta.as_str(),
            1,
            "meta.sql:1",
        ),
    ] {
        s.check(
            &env,
            Case::bad(what, "uis-db-psql", &["shop", "-f", file])
                .code(code)
                .says(&[says]),
        );
    }
    // A huge single line works.
    let huge = format!("select length('{}');\n", "x".repeat(32 << 20));
    let huge = write(&dir.join("huge.sql"), huge);
    s.check(
        &env,
        Case::bad(
            "-f: one 32 MiB line",
            "uis-db-psql",
            &["shop", "-f", &huge, "--format", "csv"],
        )
        .code(0)
        .says(&["33554432"]),
    );
    let lines = std::fs::read_to_string(&huge).unwrap();
    s.check(
        &env,
        Case::bad(
            "stdin: one 32 MiB line",
            "uis-db-psql",
            &["shop", "--format", "csv"],
        )
        .stdin(lines)
        .code(0)
        .says(&["33554432"]),
    );
    s.check(
        &env,
        Case::bad(
            "stdin: not UTF-8",
            "uis-db-psql",
            &["shop", "-1", "-c", "select 1", "-f", "-"],
        )
        .stdin(b"create table t(x text);\ninsert into t values ('\xff');\n".to_vec())
        .code(3)
        .says(&["<stdin>:2", "not valid UTF-8"]),
    );
    for (what, args, says) in [
        (
            "-v without `=`",
            vec!["shop", "-v", "noequals", "-c", "select 1"],
            "NAME=VALUE",
        ),
        (
            "--format unknown",
            vec!["shop", "--format", "yaml", "-c", "select 1"],
            "possible values",
        ),
        (
            "-c and --jwt without APP",
            vec!["--jwt", "x", "-c", "select 1"],
            "APP",
        ),
    ] {
        s.check(&env, Case::bad(what, "uis-db-psql", &args).says(&[says]));
    }
    // Seed directories.
    let seed_missing = format!("{d}/nodir");
    let seed_file = latin1.clone();
    let with_dir = env.path("seed-with-dir");
    write(&with_dir.join("01-a.sql"), "create table a(x int);\n");
    std::fs::create_dir_all(with_dir.join("02-b.sql")).unwrap();
    let with_latin1 = env.path("seed-latin1");
    write(&with_latin1.join("01-a.sql"), "create table a(x int);\n");
    write(
        &with_latin1.join("02-b.sql"),
        b"insert into a values (1); -- gr\xf8d\n",
    );
    for (what, dir, says) in [
        (
            "DIR missing",
            seed_missing.clone(),
            "cannot read seed directory",
        ),
        ("DIR is a file", seed_file, "Not a directory"),
        (
            "a directory named *.sql in DIR",
            with_dir.to_string_lossy().into_owned(),
            "is not a regular file",
        ),
        (
            "a seed file not in UTF-8",
            with_latin1.to_string_lossy().into_owned(),
            "02-b.sql:1: not valid UTF-8",
        ),
    ] {
        s.check(
            &env,
            Case::bad(what, "uis-db-seed", &["shop", &dir])
                .code(1)
                .says(&[says, "hint:"]),
        );
    }
    let good = write(&env.path("seed-good/01-a.sql"), "select 1;\n");
    let good = good.trim_end_matches("/01-a.sql").to_string();
    s.check(
        &env,
        Case::bad(
            "--reapply a file not in DIR",
            "uis-db-seed",
            &["shop", &good, "--reapply", "zz.sql"],
        )
        .says(&["zz.sql"]),
    );
    // uis-jwt-mint files.
    let short = write(&dir.join("short-secret"), "too-short");
    let empty = write(&dir.join("empty-secret"), "");
    for (what, args, code, says) in [
        (
            "--secret-file missing",
            vec!["shop", "--role", "shop_web_anon", "--secret-file", &missing],
            1,
            "cannot read --secret-file",
        ),
        (
            "--secret-file is a directory",
            vec!["shop", "--role", "shop_web_anon", "--secret-file", &d],
            1,
            "Is a directory",
        ),
        (
            "--secret-file: 9 characters",
            vec!["shop", "--role", "shop_web_anon", "--secret-file", &short],
            1,
            "at least 32 characters",
        ),
        (
            "--secret-file empty",
            vec!["shop", "--role", "shop_web_anon", "--secret-file", &empty],
            1,
            "at least 32 characters",
        ),
        (
            "--write-env into a directory",
            vec!["shop", "--write-env", &d],
            1,
            "Is a directory",
        ),
        (
            "--write-env under a missing directory",
            vec!["shop", "--write-env", &format!("{seed_missing}/x/.env")],
            1,
            "No such file",
        ),
    ] {
        s.check(
            &env,
            Case::bad(what, "uis-jwt-mint", &args)
                .code(code)
                .says(&[says]),
        );
    }
    // Out-of-range and malformed flag values.
    let flags: Vec<(&str, &str, Vec<&str>, &str)> = vec![
        (
            "--pg-port 70000",
            "uis-db-creds",
            vec!["shop", "--pg-port", "70000"],
            "not in 0..=65535",
        ),
        (
            "--port 70000",
            "uis-db-tunnel",
            vec!["shop", "--port", "70000"],
            "not in 0..=65535",
        ),
        (
            "--port -1",
            "uis-db-tunnel",
            vec!["shop", "--port", "-1"],
            "unexpected argument",
        ),
        (
            "--request-timeout abc",
            "uis-db-creds",
            vec!["shop", "--request-timeout", "abc"],
            "invalid digit",
        ),
        (
            "--replicas 0",
            "uis-postgrest-deploy",
            vec!["shop", "--replicas", "0"],
            "not in 1..=100",
        ),
        (
            "--replicas 1000",
            "uis-postgrest-deploy",
            vec!["shop", "--replicas", "1000"],
            "not in 1..=100",
        ),
        (
            "--timeout -5",
            "uis-postgrest-deploy",
            vec!["shop", "--timeout", "-5"],
            "unexpected argument",
        ),
        (
            "--url-prefix with a dot",
            "uis-postgrest-deploy",
            vec!["shop", "--url-prefix", "api.evil"],
            "invalid --url-prefix",
        ),
        (
            "--grants unknown",
            "uis-postgrest-deploy",
            vec!["shop", "--grants", "everything"],
            "possible values",
        ),
        (
            "--exp 0s",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--exp", "0s"],
            "is zero",
        ),
        (
            "--exp -5m",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--exp", "-5m"],
            "invalid duration",
        ),
        (
            "--exp 5 (no unit)",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--exp", "5"],
            "a unit",
        ),
        (
            "--exp 101y",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--exp", "101y"],
            "longer than 100 years",
        ),
        (
            "--exp 99999999999999999999s",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--exp", "99999999999999999999s"],
            "--exp",
        ),
        (
            "--claim without `=`",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--claim", "tenant"],
            "KEY=JSON",
        ),
        (
            "--claim with bad JSON",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--claim", "x={bad"],
            "not valid JSON",
        ),
        (
            "--claim role=... (reserved)",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--claim", "role=\"x\""],
            "--role",
        ),
        (
            "--aud empty",
            "uis-jwt-mint",
            vec!["shop", "--role", "r", "--aud", ""],
            "--aud is empty",
        ),
        (
            "--direct without a port",
            "uis-db-creds",
            vec!["shop", "--direct", "localhost"],
            "HOST:PORT",
        ),
        (
            "--local-address port 99999",
            "uis-db-creds",
            vec!["shop", "--local-address", "localhost:99999"],
            "HOST:PORT",
        ),
        (
            "--admin-secrets without `/`",
            "uis-db-creds",
            vec!["--admin", "--admin-secrets", "postgresql"],
            "SECRET/KEY",
        ),
        (
            "--purge without --yes",
            "uis-db-configure",
            vec!["shop", "--purge"],
            "--yes",
        ),
        (
            "--purge without --yes",
            "uis-postgrest-deploy",
            vec!["shop", "--purge"],
            "--yes",
        ),
        (
            "unknown flag",
            "uis-db-seed",
            vec!["shop", "--frobnicate"],
            "unexpected argument",
        ),
        (
            "unknown subcommand",
            "uis",
            vec!["db", "frobnicate"],
            "uis help",
        ),
    ];
    for (what, bin, args, says) in flags {
        s.check(&env, Case::bad(what, bin, &args).says(&[says]));
    }
    // JSON on stdin, read when APP is missing.
    for (what, bin, input, says) in [
        (
            "stdin: truncated JSON",
            "uis-db-creds",
            b"{\"app\": \"sh".to_vec(),
            "not a JSON object",
        ),
        (
            "stdin: a JSON array",
            "uis-db-tunnel",
            b"[1, 2]".to_vec(),
            "not a JSON object",
        ),
        (
            "stdin: binary bytes",
            "uis-postgrest-deploy",
            vec![0xff, 0xfe, 0, 1],
            "not a JSON object",
        ),
        (
            "stdin: app is a number",
            "uis-jwt-mint",
            b"{\"app\": 5}".to_vec(),
            "APP",
        ),
        (
            "stdin: app breaks the rule",
            "uis-db-doctor",
            b"{\"app\": \"Bad App\"}".to_vec(),
            "invalid APP",
        ),
        ("stdin: empty", "uis-db-creds", Vec::new(), "APP"),
    ] {
        let args: &[&str] = if bin == "uis-jwt-mint" {
            &["--role", "r"]
        } else {
            &[]
        };
        s.check(&env, Case::bad(what, bin, args).stdin(input).says(&[says]));
    }
    s.finish();
}
