//! The worked example: examples/railway/onboard.sh --sandbox runs `uis
//! onboard` of examples/railway/uis.yaml twice (the second changes
//! nothing), the token checks and the doctor, in well under a minute once
//! built (issue: worked example).

use std::process::Command;
use std::time::{Duration, Instant};
use uis_e2e::output;

#[test]
fn railway_onboards_end_to_end_in_the_sandbox() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin_dir = uis_harness::bin_dir();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let start = Instant::now();
    let mut cmd = Command::new(root.join("examples/railway/onboard.sh"));
    cmd.arg("--sandbox")
        .env("PATH", path)
        .env("UIS_BIN_DIR", &bin_dir)
        .env_remove("KUBECONFIG");
    for (k, _) in std::env::vars() {
        // UIS_PG_VERSION (and its cache) pick the sandbox's server,
        // UIS_TOPOLOGY its topology.
        let keep = [
            "UIS_BIN_DIR",
            "UIS_PG_VERSION",
            "UIS_PG_CACHE",
            "UIS_TOPOLOGY",
        ];
        if k.starts_with("PG") || k.starts_with("UIS_") && !keep.contains(&k.as_str()) {
            cmd.env_remove(k);
        }
    }
    let out = output(&mut cmd);
    let took = start.elapsed();
    out.ok();
    for check in [
        "ok   a second run changes nothing",
        "ok   anon sees the public events: 3",
        "ok   full staff sees the registrations: 6",
        "ok   editor sees no registrations: 0",
        "railway is onboarded",
    ] {
        assert!(out.stderr.contains(check), "{check}:\n{}", out.stderr);
    }
    assert!(
        !out.stderr.contains("\"status\":\"fail\""),
        "{}",
        out.stderr
    );
    // doctor names the sandbox's topology (UIS_TOPOLOGY, inherited).
    let topology = match uis_e2e::topology() {
        uis_e2e::Topology::InCluster => "in-cluster: ",
        uis_e2e::Topology::Proxied => "proxied (external server): ",
    };
    assert!(out.stderr.contains(topology), "{topology}:\n{}", out.stderr);
    if let Ok(v) = std::env::var("UIS_PG_VERSION")
        && !v.is_empty()
    {
        let want = format!("sandbox: PostgreSQL {v}.");
        assert!(out.stderr.contains(&want), "{want}:\n{}", out.stderr);
    }
    assert!(took < Duration::from_secs(60), "took {took:?}");
}
