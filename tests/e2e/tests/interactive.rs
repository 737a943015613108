//! `uis-db-psql APP` on a terminal with no input: the local psql through the
//! tunnel, or, with no local psql, psql in the database pod through exec
//! (issue: uis-db-psql). A pseudo-terminal comes from util-linux `script`.

use std::io::Write;
use std::process::{Command, Stdio};
use uis_e2e::{Env, bin};

fn on_a_terminal(env: &Env, path: &str, input: &str) -> (i32, String) {
    let cmd = format!("'{}' --as admin", bin("uis-db-psql").display());
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("script");
    let mut child = Command::new(script)
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", env.dir.path())
        .env("PATH", path)
        .env("TERM", "dumb")
        .env("SHELL", "/bin/sh")
        .env_remove("PGHOST")
        .env_remove("PGPORT")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        // Give psql a moment to start before typing, as a person would.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = stdin.write_all(input.as_bytes());
        std::thread::sleep(std::time::Duration::from_millis(1500));
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn script_available() -> bool {
    Command::new("script").arg("--version").output().is_ok()
}

#[test]
fn local_psql_through_the_tunnel() {
    if !script_available() {
        eprintln!("note: script(1) is not installed; skipping");
        return;
    }
    let env = Env::new();
    let psql_dir = uis_e2e::psql_path().parent().unwrap().to_path_buf();
    let path = format!("{}:/usr/bin:/bin", psql_dir.display());
    let (code, text) = on_a_terminal(&env, &path, "select 40 + 2 as answer;\n\\q\n");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("through the port-forward"),
        "says which: {text}"
    );
    assert!(text.contains("42"), "{text}");
    assert!(
        !text.contains(&env.pg.password),
        "no password on the terminal"
    );
}

#[test]
fn psql_in_the_pod_when_there_is_no_local_one() {
    if !script_available() {
        eprintln!("note: script(1) is not installed; skipping");
        return;
    }
    let env = Env::new();
    // The binary sees no psql; the "pod" (the stand-in runs exec on this host) does.
    let (code, text) = on_a_terminal(&env, "/nonexistent", "select 40 + 2 as answer;\n\\q\n");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("no local psql; running psql in pod default/postgresql-0"),
        "{text}"
    );
    assert!(text.contains("42"), "{text}");
    // The marker that says the pod's echo is off is not shown, and the
    // password sent after it never reaches the terminal.
    assert!(!text.contains("UIS-READY"), "{text}");
    uis_e2e::assert_no_known_secret("the terminal", &text);
}
