//! The reliability suite (issue 12): bad input to every binary, faults of
//! the API, the tunnel and PostgreSQL, and concurrent runs. Every case
//! asserts the exit code, one clear message naming the fix, no panic,
//! bounded time, no secret on stderr, and the state afterwards; the rows
//! make up docs/reliability.md (see uis_e2e::reliability).

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use uis_e2e::reliability::{Case, Section};
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
        (
            "-f: a directory",
            d.as_str(),
            1,
            "is a directory, not a file",
        ),
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
    let open_quote = write(&dir.join("open.env"), "API_URL=\"http://x\nOTHER=1\n");
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
            "--write-env: a quote never closed in the file",
            vec!["shop", "--write-env", &open_quote],
            1,
            "never closed",
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
            "from 1 to 65535",
        ),
        (
            "--port 70000",
            "uis-db-tunnel",
            vec!["shop", "--port", "70000"],
            "from 0 (any free one) to 65535",
        ),
        (
            "--port -1",
            "uis-db-tunnel",
            vec!["shop", "--port", "-1"],
            "from 0 (any free one) to 65535",
        ),
        (
            "--request-timeout abc",
            "uis-db-creds",
            vec!["shop", "--request-timeout", "abc"],
            "whole seconds",
        ),
        (
            "--request-timeout 0",
            "uis-db-psql",
            vec!["shop", "--request-timeout", "0", "-c", "select 1"],
            "whole seconds from 1",
        ),
        (
            "--replicas 0",
            "uis-postgrest-deploy",
            vec!["shop", "--replicas", "0"],
            "from 1 to 100",
        ),
        (
            "--replicas 1000",
            "uis-postgrest-deploy",
            vec!["shop", "--replicas", "1000"],
            "from 1 to 100",
        ),
        (
            "--timeout -5",
            "uis-postgrest-deploy",
            vec!["shop", "--timeout", "-5"],
            "whole seconds",
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

/// Replaces one key of a Secret's data (None removes it); returns the old
/// object to put back.
fn edit_secret(
    env: &Env,
    ns: &str,
    name: &str,
    key: &str,
    value: Option<&str>,
) -> serde_json::Value {
    let old = env
        .standin
        .get("v1", "Secret", Some(ns), name)
        .unwrap_or_else(|| panic!("Secret {ns}/{name}"));
    let mut new = old.clone();
    match value {
        Some(v) => new["data"][key] = json!(v),
        None => {
            new["data"].as_object_mut().unwrap().remove(key);
        }
    }
    env.standin.put(new);
    old
}

fn restore(env: &Env, old: serde_json::Value) {
    env.standin.put(old);
}

#[test]
fn bad_cluster_configuration_and_secrets() {
    let env = Env::new();
    shop(&env);
    let mut s = Section::new("cluster", env.dir.path());
    let garbage = write(&env.path("kc-garbage"), "apiVersion: v1\nclusters: [\n");
    let empty = write(&env.path("kc-empty"), "");
    let dir = env.path("kc-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.to_string_lossy().into_owned();
    let good = std::fs::read_to_string(&env.kubeconfig).unwrap();
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let unreachable = write(
        &env.path("kc-closed"),
        good.replace(
            &format!("127.0.0.1:{}", env.standin.port()),
            &format!("127.0.0.1:{closed_port}"),
        ),
    );
    let other = uis_e2e::StandIn::start(Default::default()).unwrap();
    let wrong_ca = write(
        &env.path("kc-wrong-ca"),
        other.kubeconfig().replace(&other.url(), &env.standin.url()),
    );
    let wrong_token = write(
        &env.path("kc-wrong-token"),
        env.standin
            .token_kubeconfig()
            .replace(&env.standin.token(), "not-the-token"),
    );
    for (what, kc, says) in [
        (
            "KUBECONFIG: not YAML",
            garbage.as_str(),
            vec!["cannot read kubeconfig", "hint:"],
        ),
        (
            "KUBECONFIG: empty file",
            empty.as_str(),
            vec!["kubeconfig", "hint:"],
        ),
        (
            "KUBECONFIG: a directory",
            dir.as_str(),
            vec!["Is a directory", "hint:"],
        ),
        (
            "KUBECONFIG: no such file",
            "/nonexistent/kubeconfig",
            vec!["names no existing file", "hint:"],
        ),
        (
            "KUBECONFIG: API port closed",
            unreachable.as_str(),
            vec!["127.0.0.1", "hint:"],
        ),
        (
            "KUBECONFIG: another cluster's CA",
            wrong_ca.as_str(),
            vec!["certificate", "hint:"],
        ),
        (
            "KUBECONFIG: a revoked token",
            wrong_token.as_str(),
            vec!["401", "hint:"],
        ),
    ] {
        s.check(
            &env,
            Case::bad(what, "uis-db-creds", &["shop"])
                .env("KUBECONFIG", kc)
                .code(1)
                .says(&says)
                .within(Duration::from_secs(15)),
        );
    }
    s.check(
        &env,
        Case::bad(
            "no KUBECONFIG and no ~/.kube/config",
            "uis-db-creds",
            &["shop"],
        )
        .env("KUBECONFIG", "")
        .code(1)
        .says(&["kubeconfig", "hint:"]),
    );
    s.check(
        &env,
        Case::bad(
            "--context unknown",
            "uis-db-creds",
            &["shop", "--context", "nope"],
        )
        .code(1)
        .says(&["context \"nope\" is not in the kubeconfig", "hint:"]),
    );
    s.check(
        &env,
        Case::bad(
            "--kubeconfig missing",
            "uis-db-psql",
            &["shop", "--kubeconfig", "/nonexistent", "-c", "select 1"],
        )
        .code(1)
        .says(&["/nonexistent", "hint:"]),
    );

    // Secrets with missing keys, bad values or bad contents.
    let store = "uis-db-shop";
    let cases: [(&str, &str, Option<&str>, &[&str]); 4] = [
        (
            "credential store: app.json is not JSON",
            "app.json",
            Some("bm90IGpzb24="),
            &["uis-db-shop", "hint:"],
        ),
        (
            "credential store: app.json missing",
            "app.json",
            None,
            &["uis-db-shop", "hint:"],
        ),
        (
            "credential store: the owner's password missing",
            "password.shop",
            None,
            &["shop", "hint:"],
        ),
        (
            "credential store: a value not base64",
            "password.shop",
            Some("%%%not-base64%%%"),
            &["uis-db-shop", "hint:"],
        ),
    ];
    for (what, key, value, says) in cases {
        let old = edit_secret(&env, "default", store, key, value);
        s.check(
            &env,
            Case::bad(what, "uis-db-creds", &["shop"])
                .code(1)
                .says(says),
        );
        restore(&env, old);
    }
    // Superuser password: both Secrets lose their key, or hold an empty one.
    let a = edit_secret(&env, "default", "urbalurba-secrets", "PGPASSWORD", None);
    let b = edit_secret(&env, "default", "postgresql", "postgres-password", None);
    s.check(
        &env,
        Case::bad(
            "superuser Secrets without their keys",
            "uis-db-creds",
            &["--admin"],
        )
        .code(1)
        .says(&["urbalurba-secrets", "postgres-password", "hint:"]),
    );
    restore(&env, a);
    restore(&env, b);
    let a = edit_secret(&env, "default", "urbalurba-secrets", "PGPASSWORD", Some(""));
    let b = edit_secret(&env, "default", "postgresql", "postgres-password", Some(""));
    s.check(
        &env,
        Case::bad(
            "superuser Secrets with empty passwords",
            "uis-db-psql",
            &["--as", "admin", "-c", "select 1"],
        )
        .code(1)
        .says(&["urbalurba-secrets", "hint:"]),
    );
    restore(&env, a);
    restore(&env, b);
    let a = edit_secret(
        &env,
        "default",
        "urbalurba-secrets",
        "PGPASSWORD",
        Some(&base64_encode(b"wrong-password-123")),
    );
    s.check(
        &env,
        Case::bad(
            "superuser Secret with a wrong password",
            "uis-db-configure",
            &["other"],
        )
        .code(1)
        .says(&["password authentication failed", "hint:"]),
    );
    restore(&env, a);
    // The PostgREST Secret.
    for (what, value, says) in [
        (
            "PostgREST Secret without its JWT secret",
            None,
            vec!["PGRST_JWT_SECRET", "hint:"],
        ),
        (
            "PostgREST JWT secret of 10 characters",
            Some(base64_encode(b"0123456789")),
            vec!["at least 32 characters", "hint:"],
        ),
    ] {
        let old = edit_secret(
            &env,
            "postgrest",
            "shop-postgrest",
            "PGRST_JWT_SECRET",
            value.as_deref(),
        );
        s.check(
            &env,
            Case::bad(what, "uis-jwt-mint", &["shop", "--role", "shop_web_anon"])
                .code(1)
                .says(&says),
        );
        restore(&env, old);
    }
    s.finish();
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn bad_tokens() {
    let env = Env::new();
    shop(&env);
    let mut s = Section::new("tokens", env.dir.path());
    let secret = env
        .standin
        .reader()
        .secret_data()
        .into_iter()
        .find(|(id, k, _)| id == "postgrest/shop-postgrest" && k == "PGRST_JWT_SECRET")
        .map(|(_, _, v)| v)
        .expect("the JWT secret");
    let sign = |claims: serde_json::Value, key: &str| shared::jwt::mint(key, &claims).unwrap();
    let expired = sign(
        json!({"role": "shop_authenticated", "exp": now() - 120}),
        &secret,
    );
    let forged = sign(
        json!({"role": "shop_authenticated", "exp": now() + 600}),
        "another-secret-that-is-long-enough-123",
    );
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none_alg = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&json!({"role": "shop_authenticated"}))
    );
    let future_iat = sign(
        json!({"role": "shop_authenticated", "iat": now() + 3600, "exp": now() + 7200}),
        &secret,
    );
    let ghost_role = sign(json!({"role": "ghost", "exp": now() + 600}), &secret);
    // None of them may be echoed back on stderr.
    for t in [&expired, &forged, &none_alg, &future_iat, &ghost_role] {
        uis_e2e::remember_secret(t);
    }
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("expired token", expired, vec!["JWT expired"]),
        ("token signed with another secret", forged, vec!["PGRST301"]),
        ("alg none", none_alg, vec!["unsupported encoding algorithm"]),
        ("not a JWT", "abc.def".into(), vec!["JWT"]),
        (
            "issued in the future",
            future_iat,
            vec!["JWT issued at future"],
        ),
        ("role that does not exist", ghost_role, vec!["ghost"]),
    ];
    for (what, token, says) in &cases {
        s.check(
            &env,
            Case::bad(
                format!("--verify: {what}"),
                "uis-jwt-mint",
                &["shop", "--verify", token],
            )
            .code(1)
            .says(says),
        );
    }
    for (what, token, says) in cases.iter().take(3) {
        s.check(
            &env,
            Case::bad(
                format!("--jwt: {what}"),
                "uis-db-psql",
                &["shop", "--jwt", token, "-c", "select 1"],
            )
            .code(1)
            .says(says),
        );
    }
    s.check(
        &env,
        Case::bad(
            "--verify: empty token on stdin",
            "uis-jwt-mint",
            &["shop", "--verify"],
        )
        .stdin("")
        .code(1)
        .says(&["token"]),
    );
    s.finish();
}

#[test]
fn kubernetes_api_faults() {
    let env = Env::new();
    shop(&env);
    let mut s = Section::new("api", env.dir.path());
    let f = env.standin.faults();
    let secrets = "/api/v1/namespaces/default/secrets";
    let pods = "/api/v1/namespaces/default/pods";
    write(&env.path("db/01-a.sql"), "create table a(x int);\n");
    let dbdir = env.path("db").to_string_lossy().into_owned();
    for (what, method, prefix, status, bin, args, says, code) in [
        (
            "403 reading Secrets",
            Some("GET"),
            secrets,
            403,
            "uis-db-creds",
            vec!["shop"],
            vec!["403", "hint:"],
            1,
        ),
        (
            "500 reading Secrets",
            Some("GET"),
            secrets,
            500,
            "uis-db-creds",
            vec!["shop"],
            vec!["500", "safe to run again"],
            1,
        ),
        (
            "503 reading Secrets, retried",
            Some("GET"),
            secrets,
            503,
            "uis-db-creds",
            vec!["--admin", "--request-timeout", "2"],
            vec!["did not answer within 2 s", "503", "hint:"],
            1,
        ),
        (
            "429 reading Secrets, retried",
            Some("GET"),
            secrets,
            429,
            "uis-db-psql",
            vec!["shop", "--request-timeout", "2", "-c", "select 1"],
            vec!["429", "hint:"],
            1,
        ),
        (
            "403 listing pods",
            Some("GET"),
            pods,
            403,
            "uis-db-psql",
            vec!["shop", "-c", "select 1"],
            vec!["403", "hint:"],
            1,
        ),
        (
            "500 on port-forward",
            None,
            "/api/v1/namespaces/default/pods/postgresql-0/portforward",
            500,
            "uis-db-psql",
            vec!["shop", "-c", "select 1"],
            vec!["port-forward"],
            2,
        ),
        (
            "403 writing Secrets (new app)",
            Some("PATCH"),
            secrets,
            403,
            "uis-db-configure",
            vec!["newapp"],
            vec!["403", "hint:"],
            1,
        ),
        (
            "500 writing Secrets (new app)",
            Some("PATCH"),
            secrets,
            500,
            "uis-db-configure",
            vec!["newapp"],
            vec!["500", "safe to run again"],
            1,
        ),
        (
            "401 on every request",
            None,
            "/api",
            401,
            "uis-db-seed",
            vec!["shop", &dbdir],
            vec!["401", "hint:"],
            1,
        ),
        (
            "500 reading the PostgREST Secret",
            Some("GET"),
            "/api/v1/namespaces/postgrest/secrets",
            500,
            "uis-jwt-mint",
            vec!["shop", "--role", "shop_web_anon"],
            vec!["500", "safe to run again"],
            1,
        ),
        (
            "403 on Deployments (deploy --status)",
            Some("GET"),
            "/apis/apps/v1/namespaces/postgrest/deployments",
            403,
            "uis-postgrest-deploy",
            vec!["shop", "--status"],
            vec!["403"],
            1,
        ),
    ] {
        f.set_fail(method, prefix, status);
        let out = s.check(
            &env,
            Case::fault(format!("API answers {what}"), bin, &args)
                .says(&says)
                .code(code),
        );
        f.clear();
        assert!(
            out.stderr
                .lines()
                .filter(|l| !l.starts_with("uis:"))
                .count()
                <= 3,
            "{}",
            out.stderr
        );
    }
    // A read that only improves the output fails: said, and the rest goes on.
    f.set_fail(
        Some("GET"),
        "/apis/traefik.io/v1alpha1/namespaces/postgrest/ingressroutes",
        403,
    );
    let envfile = env.path("app.env").to_string_lossy().into_owned();
    let out = s.check(
        &env,
        Case::fault(
            "API answers 403 reading the IngressRoute",
            "uis-jwt-mint",
            &["shop", "--write-env", &envfile],
        )
        .code(0)
        .says(&["\"status\":\"ok\""])
        .after(".env written with the in-cluster URL, and a warning on stderr (checked)"),
    );
    f.clear();
    assert!(
        out.stderr.contains("warning: cannot read IngressRoute"),
        "{}",
        out.stderr
    );
    assert!(
        std::fs::read_to_string(&envfile)
            .unwrap()
            .contains("svc.cluster.local"),
        "the in-cluster URL"
    );
    // A slow API: within the timeout it works; past it, a clear timeout.
    f.set_api_latency(Duration::from_millis(300));
    s.check(
        &env,
        Case::fault(
            "API answers after 300 ms (default timeout)",
            "uis-db-creds",
            &["shop", "--format", "url"],
        )
        .code(0)
        .says(&["postgresql://shop:"]),
    );
    f.set_api_latency(Duration::from_secs(5));
    s.check(
        &env,
        Case::fault(
            "API answers after 5 s, --request-timeout 1",
            "uis-db-creds",
            &["shop", "--request-timeout", "1"],
        )
        .says(&["--request-timeout"])
        .within(Duration::from_secs(4)),
    );
    s.check(
        &env,
        Case::fault(
            "API answers after 5 s, --request-timeout 1",
            "uis-postgrest-deploy",
            &["shop", "--request-timeout", "1"],
        )
        .says(&["--request-timeout"])
        .within(Duration::from_secs(8)),
    );
    f.clear();
    // A Deployment write fails after the database side was done: partial,
    // said plainly, and a re-run completes it.
    f.set_fail(
        Some("PATCH"),
        "/apis/apps/v1/namespaces/postgrest/deployments",
        500,
    );
    let case = Case::fault("API answers 500 writing the Deployment (new app)", "uis-postgrest-deploy", &["shop2"])
        .says(&["500", "already done: the database roles and grants", "the Secret", "safe to run again"])
        .after("roles and Secret `shop2-postgrest` written, no Deployment; the error says so; a re-run completes (checked)");
    env.run("uis-db-configure", &["shop2"]).ok();
    let out = s.check(&env, case);
    f.clear();
    assert!(
        env.standin
            .get(
                "apps/v1",
                "Deployment",
                Some("postgrest"),
                "shop2-postgrest"
            )
            .is_none(),
        "{}",
        out.stderr
    );
    assert!(
        env.standin
            .get("v1", "Secret", Some("postgrest"), "shop2-postgrest")
            .is_some(),
        "the Secret was written"
    );
    assert_eq!(
        count(
            &env,
            "postgres",
            "select count(*) from pg_roles where rolname = 'shop2_authenticator'"
        ),
        1,
        "the roles were made"
    );
    env.run("uis-postgrest-deploy", &["shop2"]).ok();
    assert!(
        env.standin
            .get(
                "apps/v1",
                "Deployment",
                Some("postgrest"),
                "shop2-postgrest"
            )
            .is_some()
    );
    s.finish();
}

/// Files before the cut are in the ledger with their effects; the cut file
/// left nothing.
fn ledger(env: &Env) -> Vec<String> {
    env.pg
        .try_connect("shop_db")
        .ok()
        .and_then(|mut c| {
            c.query("select file_name from uis.seed_ledger order by 1", &[])
                .ok()
        })
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
        .unwrap_or_default()
}

fn count(env: &Env, db: &str, sql: &str) -> i64 {
    env.pg
        .connect(db)
        .query_one(sql, &[])
        .map(|r| r.get(0))
        .unwrap_or(-1)
}

/// A re-run reports nothing left to change, and the stored owner password
/// logs in.
fn converged(env: &Env, app: &str) {
    let out = env.run("uis-db-configure", &[app, "--dry-run", "--json"]);
    out.ok();
    let plan = out.json();
    assert_eq!(plan["sql"], json!([]), "{}", out.stdout);
    assert_eq!(
        plan["store"]["would_change"],
        json!(false),
        "{}",
        out.stdout
    );
    env.run("uis-db-psql", &[app, "-c", "select 1"]).ok();
}

#[test]
fn tunnel_and_postgres_faults() {
    let pg: &'static uis_e2e::Pg = Box::leak(Box::new(uis_e2e::Pg::start().unwrap()));
    let env = Env::over(pg);
    env.run("uis-db-configure", &["shop"]).ok();
    let mut s = Section::new("tunnel", env.dir.path());
    let f = env.standin.faults();
    let dir = env.path("db");
    write(
        &dir.join("01-table.sql"),
        "create schema shop; create table shop.items(id int primary key, name text);\n",
    );
    let mut big = String::from("copy shop.items (id, name) from stdin;\n");
    for i in 0..20_000 {
        big.push_str(&format!("{i}\tname-{i}-xxxxxxxxxxxxxxxxxxxxxxxx\n"));
    }
    big.push_str("\\.\n");
    write(&dir.join("02-big.sql"), &big);
    write(
        &dir.join("03-after.sql"),
        "insert into shop.items values (-1, 'after');\n",
    );
    let d = dir.to_string_lossy().into_owned();
    for n in [3_000u64, 300_000, 600_000] {
        f.set_drop_tunnel_after(Some(n));
        let case = Case::fault(
            format!("tunnel dropped after {n} bytes"),
            "uis-db-seed",
            &["shop", &d],
        )
        .code(2)
        .says(&["connection", "again"])
        .after(
            "files before the cut applied and in the ledger, the cut file rolled back (checked)",
        );
        s.check(&env, case);
        f.clear();
        let applied = ledger(&env);
        let items = count(&env, "shop_db", "select count(*) from shop.items");
        let expected = if applied.contains(&"02-big.sql".to_string()) {
            20_000
        } else if applied.is_empty() {
            -1
        } else {
            0
        };
        assert_eq!(items, expected, "after a cut at {n}: ledger {applied:?}");
    }
    env.run("uis-db-seed", &["shop", &d]).ok();
    assert_eq!(
        count(&env, "shop_db", "select count(*) from shop.items"),
        20_001
    );

    // configure and deploy of new apps, cut at several points: a re-run
    // converges to one run's state.
    let mut partial = 0;
    for n in [1_000u64, 3_000, 4_500, 5_000] {
        let app = format!("cut{n}");
        f.set_drop_tunnel_after(Some(n));
        let case = Case::fault(
            format!("tunnel dropped after {n} bytes"),
            "uis-db-configure",
            &[&app, "--with-roles", "postgrest"],
        )
        .code(2)
        .says(&["connection", "again"])
        .after("a prefix of the plan is done: the passwords are stored before any role is made (checked); a re-run completes, then plans no change (checked)");
        s.check(&env, case);
        f.clear();
        let roles = count(
            &env,
            "postgres",
            &format!("select count(*) from pg_roles where rolname like '{app}%'"),
        );
        let db = count(
            &env,
            "postgres",
            &format!("select count(*) from pg_database where datname = '{app}_db'"),
        );
        let stored = env
            .standin
            .get("v1", "Secret", Some("default"), &format!("uis-db-{app}"))
            .is_some();
        assert!(
            roles == 0 || stored,
            "roles made before their passwords were stored"
        );
        assert_eq!(db, 0, "the database comes after the roles");
        if stored || roles > 0 {
            partial += 1;
        }
        env.run("uis-db-configure", &[&app, "--with-roles", "postgrest"])
            .ok();
        converged(&env, &app);
    }
    assert!(partial >= 1, "no cut landed after the first write");
    env.run("uis-db-configure", &["web", "--with-roles", "postgrest"])
        .ok();
    for n in [2_000u64, 4_000] {
        f.set_drop_tunnel_after(Some(n));
        let case = Case::fault(
            format!("tunnel dropped after {n} bytes"),
            "uis-postgrest-deploy",
            &["web"],
        )
        .code(2)
        .says(&["connection", "again"])
        .after("the database steps before the cut are done, nothing in the cluster yet (checked); a re-run completes and a third changes nothing (checked)");
        s.check(&env, case);
        f.clear();
        assert!(
            env.standin
                .get("apps/v1", "Deployment", Some("postgrest"), "web-postgrest")
                .is_none()
                && env
                    .standin
                    .get("v1", "Secret", Some("postgrest"), "web-postgrest")
                    .is_none(),
            "the cluster objects come after the database side"
        );
    }
    let out = env.run("uis-postgrest-deploy", &["web", "--json"]);
    out.ok();
    let again = env.run("uis-postgrest-deploy", &["web", "--json"]);
    assert_eq!(again.json()["changes"], json!([]), "{}", again.stdout);

    // One transaction cut in the middle commits nothing.
    f.set_drop_tunnel_after(Some(200_000));
    let before = count(&env, "shop_db", "select count(*) from shop.items");
    let big_file = write(
        &env.path("big2.sql"),
        big.replace(
            "copy shop.items",
            "delete from shop.items where id >= 0;\ncopy shop.items",
        ),
    );
    s.check(
        &env,
        Case::fault(
            "tunnel dropped after 200000 bytes of `-1 -f`",
            "uis-db-psql",
            &["shop", "-1", "-f", &big_file],
        )
        .code(2)
        .says(&["connection"])
        .after("nothing committed: row count as before (checked)"),
    );
    f.clear();
    assert_eq!(
        count(&env, "shop_db", "select count(*) from shop.items"),
        before
    );
    // A slow network works, only slower.
    f.set_frame_latency(Duration::from_millis(20));
    s.check(
        &env,
        Case::fault(
            "20 ms per tunnel frame",
            "uis-db-psql",
            &[
                "shop",
                "--format",
                "csv",
                "-c",
                "select count(*) from shop.items",
            ],
        )
        .code(0)
        .says(&["20001"]),
    );
    // A stalled tunnel: the login is bounded.
    f.set_frame_latency(Duration::from_secs(30));
    s.check(
        &env,
        Case::fault(
            "30 s per tunnel frame, PGCONNECT_TIMEOUT=2",
            "uis-db-psql",
            &["shop", "-c", "select 1"],
        )
        .env("PGCONNECT_TIMEOUT", "2")
        .code(2)
        .says(&["did not complete the login", "within 2 s", "hint:"])
        .within(Duration::from_secs(10)),
    );
    f.clear();
    // The pod's port refuses connections.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    env.standin
        .set_pod_forward("default", "postgresql-0", 5432, closed);
    s.check(
        &env,
        Case::fault(
            "nothing listens on the pod's port",
            "uis-db-psql",
            &["shop", "-c", "select 1"],
        )
        .code(2)
        .says(&["port-forward", "hint:"]),
    );
    env.standin
        .set_pod_forward("default", "postgresql-0", 5432, pg.addr());
    // The pod is not Running.
    let pod = env
        .standin
        .get("v1", "Pod", Some("default"), "postgresql-0")
        .unwrap();
    let mut pending = pod.clone();
    pending["status"]["phase"] = json!("Pending");
    pending["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    env.standin.put(pending);
    s.check(
        &env,
        Case::fault(
            "the PostgreSQL pod is Pending",
            "uis-db-psql",
            &["shop", "-c", "select 1"],
        )
        .says(&["postgresql-0 is not ready (phase Pending)", "hint:"]),
    );
    env.standin
        .delete("v1", "Pod", Some("default"), "postgresql-0");
    s.check(
        &env,
        Case::fault("no PostgreSQL pod", "uis-db-seed", &["shop", &d])
            .says(&["app.kubernetes.io/name=postgresql", "hint:"]),
    );
    env.standin.put(pod);
    env.standin
        .set_pod_forward("default", "postgresql-0", 5432, pg.addr());

    // PostgreSQL restarts in the middle of a run.
    write(
        &dir.join("04-slow.sql"),
        "select pg_sleep(3);\ninsert into shop.items values (-2, 'slow');\n",
    );
    write(
        &dir.join("05-last.sql"),
        "insert into shop.items values (-3, 'last');\n",
    );
    let restart_in = |secs: f64| {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(secs));
            pg.restart().expect("restart PostgreSQL");
        })
    };
    let t = restart_in(1.5);
    s.check(
        &env,
        Case::fault("PostgreSQL restarted during a seed file", "uis-db-seed", &["shop", &d])
            .code(2)
            .says(&["04-slow.sql", "again"])
            .after("earlier files kept, the running file rolled back and not in the ledger (checked); a re-run applies it (checked)"),
    );
    t.join().unwrap();
    assert!(!ledger(&env).contains(&"04-slow.sql".to_string()));
    env.run("uis-db-seed", &["shop", &d]).ok();
    assert_eq!(
        count(
            &env,
            "shop_db",
            "select count(*) from shop.items where id in (-2, -3)"
        ),
        2
    );
    let t = restart_in(1.5);
    let slow = write(
        &env.path("slow.sql"),
        "select 1;\nselect pg_sleep(3);\nselect 2;\n",
    );
    s.check(
        &env,
        Case::fault(
            "PostgreSQL restarted during `psql -f`",
            "uis-db-psql",
            &["shop", "-f", &slow],
        )
        .code(2)
        .says(&["slow.sql:2", "connection"])
        .after("nothing written (the file only reads)"),
    );
    t.join().unwrap();
    // PostgreSQL down: what needs only the cluster still works.
    pg.stop();
    s.check(
        &env,
        Case::fault(
            "PostgreSQL down: credentials",
            "uis-db-creds",
            &["shop", "--format", "url"],
        )
        .code(0)
        .says(&["postgresql://shop:"])
        .after("nothing to compare: the server is down"),
    );
    s.check(
        &env,
        Case::fault(
            "PostgreSQL down: a query",
            "uis-db-psql",
            &["shop", "-c", "select 1"],
        )
        .code(2)
        .says(&["cannot connect", "hint:"])
        .after("nothing to compare: the server is down"),
    );
    s.finish();
}

/// Runs `bin ARGS` twice at once, each bounded to a minute; both outputs.
fn twice(env: &Env, bin: &str, args: &[&str]) -> (uis_e2e::Out, uis_e2e::Out) {
    let one = || {
        let mut cmd = env.cmd(bin);
        cmd.args(args);
        let (out, _) = uis_e2e::reliability::run_bounded(&mut cmd, None, CONCURRENT_MAX);
        uis_e2e::reliability::assert_one_clear_message(&out, &[], bin);
        out
    };
    std::thread::scope(|sc| {
        let a = sc.spawn(one);
        let b = sc.spawn(one);
        (a.join().unwrap(), b.join().unwrap())
    })
}

/// The bound on each of two concurrent runs.
const CONCURRENT_MAX: Duration = Duration::from_secs(60);

#[test]
fn concurrent_runs_end_like_one() {
    let env = Env::new();
    let mut s = Section::new("concurrency", env.dir.path());
    let conc = |what: &str, bin: &str, args: &[&str], after: &str| Case {
        kind: uis_e2e::reliability::Kind::Concurrency,
        ..Case::bad(what, bin, args)
            .code(0)
            .after(after)
            .within(CONCURRENT_MAX)
    };

    // Two configures of a new app.
    let (a, b) = twice(
        &env,
        "uis-db-configure",
        &["duo", "--with-roles", "postgrest,readonly", "--json"],
    );
    a.ok();
    b.ok();
    converged(&env, "duo");
    let (pa, pb) = (a.json()["password"].clone(), b.json()["password"].clone());
    assert_eq!(pa, pb, "both runs report the one stored owner password");
    s.push(
        &conc("two `configure` of a new app at once", "uis-db-configure", &["duo", "--with-roles", "postgrest,readonly"], "one app: both print the same stored password, it logs in, a third run plans no change (checked)"),
        0,
    );

    // Two seeds.
    let dir = env.path("db");
    write(
        &dir.join("01-t.sql"),
        "create table t(id int); select pg_sleep(0.3);\n",
    );
    write(
        &dir.join("02-rows.sql"),
        "insert into t select generate_series(1, 10);\n",
    );
    let d = dir.to_string_lossy().into_owned();
    let (a, b) = twice(&env, "uis-db-seed", &["duo", &d]);
    a.ok();
    b.ok();
    assert_eq!(
        count(&env, "duo_db", "select count(*) from t"),
        10,
        "no file ran twice"
    );
    assert!(
        a.stderr.contains("waiting") || b.stderr.contains("waiting"),
        "{}\n{}",
        a.stderr,
        b.stderr
    );
    s.push(
        &conc("two `seed` of one app at once", "uis-db-seed", &["duo", "db"], "each file applied once (row count checked); the second run says it waits, then skips what the first applied"),
        0,
    );

    // Two deploys of a new PostgREST.
    let (a, b) = twice(&env, "uis-postgrest-deploy", &["duo", "--json"]);
    a.ok();
    b.ok();
    let again = env.run("uis-postgrest-deploy", &["duo", "--json"]);
    assert_eq!(again.json()["changes"], json!([]), "{}", again.stdout);
    let deployments = env.standin.list("apps/v1", "Deployment", Some("postgrest"));
    assert_eq!(deployments.len(), 1);
    // The JWT secret the Deployment reads is the one tokens are minted with,
    // and the authenticator password in the Secret logs in.
    let token = env.run("uis-jwt-mint", &["duo", "--role", "duo_web_anon"]);
    token.ok();
    env.run("uis-jwt-mint", &["duo", "--verify", token.stdout.trim()])
        .ok();
    let creds = env.run(
        "uis-db-creds",
        &["duo", "--role", "authenticator", "--format", "url"],
    );
    creds.ok();
    env.run(
        "uis-db-psql",
        &["duo", "--as", "authenticator", "-c", "select current_user"],
    )
    .ok();
    s.push(
        &conc("two `postgrest deploy` of a new app at once", "uis-postgrest-deploy", &["duo"], "one Deployment; a minted token verifies against the deployed secret; the authenticator logs in with its stored password; a third run changes nothing (checked)"),
        0,
    );
    // Two rotations of the JWT secret at once end with one secret in use.
    let (a, b) = twice(
        &env,
        "uis-postgrest-deploy",
        &["duo", "--rotate-jwt-secret", "--json"],
    );
    a.ok();
    b.ok();
    let token = env.run("uis-jwt-mint", &["duo", "--role", "duo_web_anon"]);
    env.run("uis-jwt-mint", &["duo", "--verify", token.stdout.trim()])
        .ok();
    s.push(
        &conc("two `--rotate-jwt-secret` at once", "uis-postgrest-deploy", &["duo", "--rotate-jwt-secret"], "one secret in use: a token minted after both verifies against the deployed Secret (checked)"),
        0,
    );
    s.finish();
}

/// The summary block: counts per kind over every table of the document,
/// and the floor the issue sets (100 bad inputs, 20 faults).
#[test]
fn summary_counts_every_row() {
    let doc = std::fs::read_to_string(uis_e2e::reliability::doc_path()).unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        if line.starts_with("| ") && cells.len() > 2 && cells[0][2..].parse::<u32>().is_ok() {
            *counts.entry(cells[1].to_string()).or_insert(0u32) += 1;
        }
    }
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let body = format!(
        "| Kind | Cases |\n|---|---|\n| bad input | {} |\n| fault | {} |\n| concurrency | {} |\n| total | {} |\n",
        get("bad input"),
        get("fault"),
        get("concurrency"),
        get("bad input") + get("fault") + get("concurrency")
    );
    uis_e2e::reliability::update_doc_block("summary", &body);
    assert!(get("bad input") >= 100, "{counts:?}");
    assert!(get("fault") >= 20, "{counts:?}");
    assert!(get("concurrency") >= 3, "{counts:?}");
}

/// The secret check every test relies on does catch a leak: a password
/// from a Secret, the superuser's, and a printed token.
#[test]
fn the_secret_check_catches_leaks() {
    let env = Env::new();
    shop(&env);
    let leaks = |text: String| {
        let mut c = std::process::Command::new("sh");
        c.arg("-c")
            .arg("printf '%s\\n' \"$LEAK\" >&2")
            .env("LEAK", text);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| uis_e2e::output(&mut c))).is_err()
    };
    let owner = env.run("uis-db-creds", &["shop", "--format", "url"]);
    let url = owner.stdout.trim().to_string();
    let password = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    assert!(
        leaks(format!("connecting with {password}")),
        "a stored password"
    );
    assert!(leaks(env.pg.password.clone()), "the superuser password");
    let token = env.run("uis-jwt-mint", &["shop", "--role", "shop_web_anon"]);
    assert!(
        leaks(format!("token {}", token.stdout.trim())),
        "a printed token"
    );
    assert!(!leaks("nothing secret here".into()));
}

/// A server that logs every statement (as some are set up to) never sees
/// a password: roles get SCRAM verifiers computed on this side.
#[test]
fn passwords_never_reach_the_server_log() {
    let pg: &'static uis_e2e::Pg = Box::leak(Box::new(uis_e2e::Pg::start().unwrap()));
    let mut c = pg.connect("postgres");
    c.batch_execute("ALTER SYSTEM SET log_statement = 'all'")
        .unwrap();
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    let env = Env::over(pg);
    shop(&env);
    env.run("uis-db-configure", &["shop", "--rotate"]).ok();
    env.run("uis-postgrest-deploy", &["shop", "--rotate-password"])
        .ok();
    let log = pg.log();
    assert!(
        log.contains("SCRAM-SHA-256$4096:"),
        "the log shows the statements"
    );
    uis_e2e::assert_no_known_secret("the PostgreSQL server log", &log);
}
