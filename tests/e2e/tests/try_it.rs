//! The README's ways in without a cluster, run as a new user would (issue
//! 16): the "Try it without a cluster" block line by line in a fresh bash,
//! where every address the suite prints must answer, and `scripts/try`, the
//! set-up section's main-job command.

use std::path::{Path, PathBuf};
use std::process::Command;
use uis_e2e::{Out, output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lines of the README's fenced block after `heading`.
fn readme_block(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let after = &readme[readme.find(heading).expect(heading)..];
    let start = after.find("```\n").unwrap() + 4;
    let body = &after[start..];
    body[..body.find("```").unwrap()]
        .lines()
        .map(str::to_string)
        .collect()
}

/// `bash -c SCRIPT` at the project's root with a clean environment: no
/// KUBECONFIG, PG* or UIS_* of the caller, the suite NOT on PATH (only
/// UIS_BIN_DIR says where the built binaries are, so nothing is rebuilt).
fn fresh_bash(script: &str) -> Out {
    let mut c = Command::new("bash");
    c.args(["-c", script])
        .current_dir(root())
        .env_clear()
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
        )
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("UIS_BIN_DIR", uis_harness::bin_dir());
    if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
        c.env("CARGO_TARGET_DIR", t);
    }
    output(&mut c)
}

#[test]
fn the_readme_try_it_block_works_line_by_line_in_a_new_shell() {
    let tmp = tempfile::Builder::new()
        .prefix("uis-tryit-")
        .tempdir()
        .unwrap();
    let sb = tmp.path().join("sb");
    let lines = readme_block("## Try it without a cluster");
    assert!(lines.iter().any(|l| l.contains("/tmp/sb")), "{lines:?}");
    // Each line as written (the sandbox in this test's directory), echoed
    // before it runs so the output shows which line said what.
    let mut script = String::from("set -euo pipefail\n");
    for line in &lines {
        let line = line.replace("/tmp/sb", &sb.display().to_string());
        let shown = line.replace('\'', "'\\''");
        script.push_str(&format!("printf '+ %s\\n' '{shown}' >&2\n{line}\n"));
    }
    let out = fresh_bash(&script);
    // Whatever happened, the sandbox is stopped.
    let _ = Command::new(root().join("scripts/sandbox"))
        .arg("down")
        .arg(&sb)
        .output();
    out.ok();
    assert!(
        out.stderr.contains("railway is onboarded"),
        "{}",
        out.stderr
    );
    // `uis db creds railway --format url` names the sandbox's PostgreSQL,
    // and psql reached it there (5 events).
    let url = out
        .stdout
        .lines()
        .find(|l| l.starts_with("postgresql://"))
        .unwrap_or_else(|| panic!("no URL printed: {}", out.stdout));
    assert!(
        url.contains("@127.0.0.1:") && url.ends_with("/railway"),
        "{url}"
    );
    assert!(
        out.stdout.lines().any(|l| l.trim() == "5"),
        "psql through the printed URL: {}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_dir(&sb).unwrap().count(),
        0,
        "down empties it"
    );
}

#[test]
fn scripts_try_onboards_and_says_where_the_env_is() {
    let tmp = tempfile::Builder::new()
        .prefix("uis-try-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().join("try");
    let out = fresh_bash(&format!("scripts/try {}", dir.display()));
    let sb = dir.join("sandbox");
    // Then, in another new shell, what it printed works.
    let after = fresh_bash(&format!(
        "set -e; eval \"$(scripts/sandbox status {})\"; psql \"$(uis db creds railway --format url)\" -XAt -c 'select count(*) from railway.events'",
        sb.display()
    ));
    let _ = Command::new(root().join("scripts/sandbox"))
        .arg("down")
        .arg(&sb)
        .output();
    out.ok();
    let env_file = dir.join("railway/.env");
    assert!(
        out.stdout
            .contains(&format!("the app's .env        {}", env_file.display())),
        "{}",
        out.stdout
    );
    let env = std::fs::read_to_string(&env_file).unwrap();
    for key in [
        "POSTGREST_URL=",
        "JWT_SECRET=",
        "POSTGREST_ANON_JWT=",
        "POSTGREST_STAFF_JWT=",
    ] {
        assert!(env.contains(key), "{key} in .env");
    }
    assert!(out.stdout.contains("uis db psql railway"), "{}", out.stdout);
    after.ok();
    assert_eq!(after.stdout.trim(), "5");
}
