//! Bad files, flag values and stdin: psql's -f, seed directories, the JWT
//! files, out-of-range flags, JSON on stdin.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "files",
    prepare,
    dry: Cx::dry,
    rows,
};

/// One line of 32 MiB, in `$TMP/in/huge.sql` (written by its row only).
fn huge() -> String {
    format!("select length('{}');\n", "x".repeat(32 << 20))
}

fn prepare(env: &Env) -> Cx {
    shop(env);
    let dir = env.path("in");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir.join("latin1.sql"), b"select 'bl\xe5b\xe6r';\n");
    write(&dir.join("nul.sql"), b"select 1;\0\n");
    write(&dir.join("open.sql"), "select 'never closed;\n");
    write(&dir.join("meta.sql"), "\\foo\n");
    let with_dir = env.path("seed-with-dir");
    write(&with_dir.join("01-a.sql"), "create table a(x int);\n");
    std::fs::create_dir_all(with_dir.join("02-b.sql")).unwrap();
    let with_latin1 = env.path("seed-latin1");
    write(&with_latin1.join("01-a.sql"), "create table a(x int);\n");
    write(
        &with_latin1.join("02-b.sql"),
        b"insert into a values (1); -- gr\xf8d\n",
    );
    write(&env.path("seed-good/01-a.sql"), "select 1;\n");
    write(&dir.join("open.env"), "API_URL=\"http://x\nOTHER=1\n");
    write(&dir.join("short-secret"), "too-short");
    write(&dir.join("empty-secret"), "");
    Cx::of(env)
}

fn rows(cx: &Cx) -> Vec<Row> {
    let mut rows = Vec::new();
    let d = cx.p("in");
    let missing = format!("{d}/missing.sql");
    let latin1 = cx.p("in/latin1.sql");
    let nul = cx.p("in/nul.sql");
    let unterminated = cx.p("in/open.sql");
    let badmeta = cx.p("in/meta.sql");
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
            // The server's error for those bytes, as psql gets it.
            "invalid byte sequence for encoding \"UTF8\"",
        ),
        ("-f: a NUL byte", nul.as_str(), 3, "nul.sql:1"),
        (
            "-f: unterminated quoted string",
            unterminated.as_str(),
            3,
            "unterminated",
        ),
        (
            "-f: invalid meta-command",
            badmeta.as_str(),
            3,
            "meta.sql:1",
        ),
    ] {
        rows.push(Row::check(
            Case::bad(what, "uis-db-psql", &["shop", "-f", file])
                .code(code)
                .says(&[says]),
        ));
    }
    // A huge single line works.
    let huge_path = cx.tmp.join("in/huge.sql");
    let huge_file = huge_path.to_string_lossy().into_owned();
    rows.push(
        Row::check(
            Case::bad(
                "-f: one 32 MiB line",
                "uis-db-psql",
                &["shop", "-f", &huge_file, "--format", "csv"],
            )
            .code(0)
            .says(&["33554432"]),
        )
        .before(move |_| {
            write(&huge_path, huge());
        }),
    );
    rows.push(Row::check(
        Case::bad(
            "stdin: one 32 MiB line",
            "uis-db-psql",
            &["shop", "--format", "csv"],
        )
        .stdin(huge())
        .code(0)
        .says(&["33554432"]),
    ));
    rows.push(Row::check(
        Case::bad(
            "stdin: not UTF-8",
            "uis-db-psql",
            &["shop", "-1", "-c", "select 1", "-f", "-"],
        )
        .stdin(b"create table t(x text);\ninsert into t values ('\xff');\n".to_vec())
        .code(3)
        .says(&["<stdin>:2", "invalid byte sequence for encoding"]),
    ));
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
        rows.push(Row::check(
            Case::bad(what, "uis-db-psql", &args).says(&[says]),
        ));
    }
    // Seed directories.
    let seed_missing = format!("{d}/nodir");
    let seed_file = latin1.clone();
    for (what, dir, says) in [
        (
            "DIR missing",
            seed_missing.clone(),
            "cannot read seed directory",
        ),
        ("DIR is a file", seed_file, "Not a directory"),
        (
            "a directory named *.sql in DIR",
            cx.p("seed-with-dir"),
            "is not a regular file",
        ),
        (
            "a seed file not in UTF-8",
            cx.p("seed-latin1"),
            "02-b.sql:1: not valid UTF-8",
        ),
    ] {
        rows.push(Row::check(
            Case::bad(what, "uis-db-seed", &["shop", &dir])
                .code(1)
                .says(&[says, "hint:"]),
        ));
    }
    let good = cx.p("seed-good");
    rows.push(Row::check(
        Case::bad(
            "--reapply a file not in DIR",
            "uis-db-seed",
            &["shop", &good, "--reapply", "zz.sql"],
        )
        .says(&["zz.sql"]),
    ));
    // uis-jwt-mint files.
    let open_quote = cx.p("in/open.env");
    let short = cx.p("in/short-secret");
    let empty = cx.p("in/empty-secret");
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
        rows.push(Row::check(
            Case::bad(what, "uis-jwt-mint", &args)
                .code(code)
                .says(&[says]),
        ));
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
        rows.push(Row::check(Case::bad(what, bin, &args).says(&[says])));
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
        rows.push(Row::check(
            Case::bad(what, bin, args).stdin(input).says(&[says]),
        ));
    }
    rows
}

table!(
    TABLE;
    psql_f_missing_file,
    psql_f_a_directory,
    psql_f_unreadable_eio,
    psql_f_not_utf_8_latin_1,
    psql_f_a_nul_byte,
    psql_f_unterminated_quoted_string,
    psql_f_invalid_meta_command,
    psql_f_one_32_mib_line,
    psql_stdin_one_32_mib_line,
    psql_stdin_not_utf_8,
    psql_v_without,
    psql_format_unknown,
    psql_c_and_jwt_without_app,
    seed_dir_missing,
    seed_dir_is_a_file,
    seed_a_directory_named_sql_in_dir,
    seed_a_seed_file_not_in_utf_8,
    seed_reapply_a_file_not_in_dir,
    jwt_mint_secret_file_missing,
    jwt_mint_secret_file_is_a_directory,
    jwt_mint_secret_file_9_characters,
    jwt_mint_secret_file_empty,
    jwt_mint_write_env_a_quote_never_closed_in_the_file,
    jwt_mint_write_env_into_a_directory,
    jwt_mint_write_env_under_a_missing_directory,
    creds_pg_port_70000,
    tunnel_port_70000,
    tunnel_port_1,
    creds_request_timeout_abc,
    psql_request_timeout_0,
    postgrest_deploy_replicas_0,
    postgrest_deploy_replicas_1000,
    postgrest_deploy_timeout_5,
    postgrest_deploy_url_prefix_with_a_dot,
    postgrest_deploy_grants_unknown,
    jwt_mint_exp_0s,
    jwt_mint_exp_5m,
    jwt_mint_exp_5_no_unit,
    jwt_mint_exp_101y,
    jwt_mint_exp_99999999999999999999s,
    jwt_mint_claim_without,
    jwt_mint_claim_with_bad_json,
    jwt_mint_claim_role_reserved,
    jwt_mint_aud_empty,
    creds_direct_without_a_port,
    creds_local_address_port_99999,
    creds_admin_secrets_without,
    configure_purge_without_yes,
    postgrest_deploy_purge_without_yes,
    seed_unknown_flag,
    uis_unknown_subcommand,
    creds_stdin_truncated_json,
    tunnel_stdin_a_json_array,
    postgrest_deploy_stdin_binary_bytes,
    jwt_mint_stdin_app_is_a_number,
    doctor_stdin_app_breaks_the_rule,
    creds_stdin_empty,
);
