//! Usage documentation that is also a test: the trycmd cases in tests/cmd/
//! (`--help` and the common errors, exit codes and messages), run against
//! the built binaries with no cluster reachable.

#[test]
fn cli_cases() {
    let cases = trycmd::TestCases::new();
    for bin in [
        "uis-db-psql",
        "uis-db-creds",
        "uis-db-seed",
        "uis-jwt-mint",
        "uis-db-configure",
    ] {
        cases.register_bin(bin, uis_harness::bin(bin));
    }
    cases
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("HOME", "/nonexistent")
        .case(concat!(env!("CARGO_MANIFEST_DIR"), "/../cmd/*.trycmd"));
}

/// `-v NAME=VALUE` with a name psql refuses is refused the same way: psql
/// (the oracle, run here on the same argument) exits 1 with `invalid
/// variable name` before it connects, and so does uis-db-psql; names psql
/// accepts get past the check in both.
#[test]
fn variable_names_are_refused_as_psql_refuses_them() {
    let psql = which_psql();
    for (name, valid) in [
        ("bad name", false),
        ("", false),
        ("a-b", false),
        ("a.b", false),
        ("a:b", false),
        ("a$b", false),
        ("a_b", true),
        ("Abc9", true),
        ("æøå", true),
    ] {
        let arg = format!("{name}=1");
        let oracle = uis_e2e::output(
            std::process::Command::new(&psql)
                .args(["-X", "-h", "/nonexistent", "-v", &arg, "-c", "select 1"])
                .env_remove("PGHOST"),
        );
        let refused_by_psql = oracle.stderr.contains("invalid variable name");
        assert_eq!(
            refused_by_psql, !valid,
            "psql on {name:?}: {}",
            oracle.stderr
        );
        if refused_by_psql {
            assert_eq!(oracle.code, 1, "psql's exit code for {name:?}");
        }
        let ours = uis_e2e::output(
            std::process::Command::new(uis_harness::bin("uis-db-psql"))
                .args(["--as", "admin", "-v", &arg, "-c", "select 1"])
                .env("KUBECONFIG", "/nonexistent/kubeconfig")
                .env("HOME", "/nonexistent"),
        );
        if valid {
            assert!(
                !ours.stderr.contains("invalid variable name"),
                "{name:?} is valid: {}",
                ours.stderr
            );
        } else {
            assert_eq!(ours.code, 1, "exit code for {name:?}: {}", ours.stderr);
            assert!(
                ours.stderr
                    .contains(&format!("error: invalid variable name: {name:?}")),
                "{name:?}: {}",
                ours.stderr
            );
        }
    }
}

fn which_psql() -> std::path::PathBuf {
    which::which("psql").expect("psql (the oracle) is on PATH: apt-get install postgresql-client")
}
