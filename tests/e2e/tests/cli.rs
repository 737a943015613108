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
