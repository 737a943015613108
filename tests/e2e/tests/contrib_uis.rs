//! contrib/uis/uis-suite.bash, the file UIS's own CLI sources so that
//! `./uis db psql ...` runs the suite's `uis-db-psql` (issue 21): run in a
//! real bash, the longest `uis-*` name on PATH wins, arguments, stdin and
//! the exit code pass through, an unknown command returns 127 silently,
//! and the file is shellcheck clean (bash 3.2 constructs are checked for
//! every shell file by `portable::scripts_use_only_what_bash_3_2_and_bsd_tools_share`).

use std::process::{Command, Stdio};
use uis_e2e::output;

fn file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/uis/uis-suite.bash")
}

fn fake(dir: &std::path::Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `script` in bash after sourcing the file, with PATH = `path`.
fn bash(path: &str, script: &str, stdin: &str) -> uis_e2e::Out {
    use std::io::Write;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -eu; . {}; {script}",
            uis_core::creds::shell_quote(&file().display().to_string())
        ))
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    uis_e2e::Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn uis_cli_runs_the_suite_through_the_sourced_file() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake(&bin, "uis-db", "echo \"uis-db: $*\"");
    fake(
        &bin,
        "uis-db-psql",
        "echo \"uis-db-psql: $# args: $*\"; cat; exit 3",
    );
    // Not a program: no executable bit.
    std::fs::write(bin.join("uis-db-psql-x"), "#!/bin/sh\necho no\n").unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());

    // The longest name wins; arguments (with spaces), stdin and the exit
    // code pass through.
    let o = bash(
        &path,
        "rc=0; uis_suite_run db psql railway -c 'select 1' || rc=$?; echo \"rc=$rc\"",
        "from stdin\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "uis-db-psql: 3 args: railway -c select 1\nfrom stdin\nrc=3\n"
    );
    let o = bash(&path, "uis_suite_run db psql x y", "");
    assert_eq!(o.code, 3);
    // A shorter name when the longer does not exist.
    let o = bash(&path, "uis_suite_run db creds railway", "");
    assert_eq!(o.stdout, "uis-db: creds railway\n");
    // A word with a character no program name has ends the name.
    let o = bash(&path, "uis_suite_run db ../psql", "");
    assert_eq!(o.stdout, "uis-db: ../psql\n");
    // Unknown: 127 and nothing printed, for the caller's own message.
    let o = bash(
        &path,
        "rc=0; uis_suite_run nosuch thing || rc=$?; echo \"rc=$rc\"",
        "",
    );
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("rc=127\n", ""));
    let o = bash(&path, "rc=0; uis_suite_run || rc=$?; echo \"rc=$rc\"", "");
    assert_eq!(o.stdout, "rc=127\n");
    // The listing for UIS's help.
    let o = bash(&path, "uis_suite_commands", "");
    assert_eq!(o.stdout, "db\ndb psql\n", "{}", o.stderr);

    // With the suite's real programs: `./uis db creds --help`.
    let real = format!("{}:/usr/bin:/bin", uis_harness::bin_dir().display());
    let o = bash(&real, "uis_suite_run db creds --help", "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Usage: uis-db-creds"), "{}", o.stdout);
}

#[test]
fn the_sourced_file_is_shellcheck_clean() {
    // need_tool fails the test under CI when shellcheck is missing.
    let Some(sc) = uis_e2e::need_tool("shellcheck") else {
        return;
    };
    let o = output(Command::new(sc).arg("-s").arg("bash").arg(file()));
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}
