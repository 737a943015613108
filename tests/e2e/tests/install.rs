//! `install.sh` and the `uis` dispatcher, as a person uses them: install the
//! built binaries into a temp prefix, run `uis ...` and `kubectl uis-...`
//! with only that prefix's bin on PATH, then uninstall and find nothing of
//! the suite left. Also: the dispatcher passes arguments, stdin, exit codes
//! and signals through (it execs the program), finds third-party `uis-*`
//! programs on PATH, and suggests near commands.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use uis_e2e::{Env, Out, output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `install.sh ARGS...` with the debug binaries the test command built.
fn install_sh(args: &[&str]) -> Out {
    output(
        Command::new("bash")
            .arg(root().join("install.sh"))
            .args(args)
            .env("PATH", system_path())
            .stdin(Stdio::null()),
    )
}

/// The system's directories (kubectl, sh, sleep), without the build's.
fn system_path() -> &'static str {
    "/usr/local/bin:/usr/bin:/bin"
}

/// A command run from `bin` with PATH = `bin` then the system's, and a
/// HOME of its own (kubectl writes a cache there).
fn in_prefix(bin: &Path, home: &Path, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("UIS_") || k == "KUBECONFIG" {
            c.env_remove(k);
        }
    }
    c.env("PATH", format!("{}:{}", bin.display(), system_path()))
        .env("HOME", home)
        .stdin(Stdio::null());
    c
}

/// Every file and link under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn kubectl() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/kubectl");
    if p.exists() {
        Some(p)
    } else {
        uis_harness::missing_tool("/usr/bin/kubectl", "the kubectl plugin checks");
        None
    }
}

#[test]
fn install_use_and_uninstall() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // Something of the user's in the prefix, which uninstall must keep.
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::write(prefix.join("bin/mytool"), "#!/bin/sh\n").unwrap();
    let from = uis_harness::bin_dir();
    let p = prefix.to_str().unwrap();

    let out = install_sh(&["--prefix", p, "--from", from.to_str().unwrap()]);
    out.ok();
    assert!(
        out.stderr.contains("is not on your PATH"),
        "install.sh should say the bin dir is not on PATH:\n{}",
        out.stderr
    );
    let bin = prefix.join("bin");
    for name in [
        "uis",
        "uis-db-creds",
        "uis-db-configure",
        "uis-db-tunnel",
        "uis-onboard",
        "uis-postgrest-deploy",
    ] {
        assert!(bin.join(name).is_file(), "{name} installed");
        let link = bin.join(format!("kubectl-{}", name.replace('-', "_")));
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new(name),
            "{link:?}"
        );
        assert!(prefix.join(format!("share/man/man1/{name}.1")).is_file());
        assert!(
            prefix
                .join(format!("share/bash-completion/completions/{name}"))
                .is_file()
        );
        assert!(
            prefix
                .join(format!("share/zsh/site-functions/_{name}"))
                .is_file()
        );
        assert!(
            prefix
                .join(format!("share/fish/vendor_completions.d/{name}.fish"))
                .is_file()
        );
    }
    // The bash file UIS's CLI sources (docs/integration/uis.md), as
    // shipped, not executable (it is sourced), and working from there: a
    // bash that sources the installed copy runs the installed programs.
    let sourced = prefix.join("share/uis-suite/uis-suite.bash");
    assert_eq!(
        std::fs::read(&sourced).expect("share/uis-suite/uis-suite.bash installed"),
        std::fs::read(root().join("contrib/uis/uis-suite.bash")).unwrap(),
        "the installed file is contrib/uis/uis-suite.bash"
    );
    let mode = std::fs::metadata(&sourced).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "sourced, not run: {mode:o}");
    let out = output(in_prefix(&bin, &home, "bash").args([
        "-c",
        "set -eu; . \"$1\"; uis_suite_run db creds --help; uis_suite_commands",
        "bash",
        sourced.to_str().unwrap(),
    ]));
    out.ok();
    assert!(out.stdout.contains("Usage: uis-db-creds"), "{}", out.stdout);
    assert!(
        out.stdout.lines().any(|l| l == "db configure"),
        "uis_suite_commands lists the installed programs:\n{}",
        out.stdout
    );
    let out = install_sh(&["--prefix", p, "--from", from.to_str().unwrap()]);
    assert!(
        out.stderr.contains("share/uis-suite/uis-suite.bash"),
        "install.sh names where the file went:\n{}",
        out.stderr
    );
    let installed = files_under(&prefix);

    // Re-running is safe and installs the same set.
    install_sh(&["--prefix", p, "--from", from.to_str().unwrap()]).ok();
    assert_eq!(files_under(&prefix), installed);

    let uis = bin.join("uis");
    // `uis db creds --help` is uis-db-creds's own help.
    let out = output(in_prefix(&bin, &home, &uis).args(["db", "creds", "--help"]));
    out.ok();
    assert!(out.stdout.contains("Usage: uis-db-creds"), "{}", out.stdout);
    assert!(out.stdout.contains("superuser"), "{}", out.stdout);
    // `uis help db creds` too.
    let out = output(in_prefix(&bin, &home, &uis).args(["help", "db", "creds"]));
    out.ok();
    assert!(out.stdout.contains("Usage: uis-db-creds"), "{}", out.stdout);

    // `uis help`, `uis` and `uis --help` list the commands with descriptions.
    for args in [&["help"][..], &[], &["--help"]] {
        let out = output(in_prefix(&bin, &home, &uis).args(args));
        out.ok();
        for cmd in [
            "uis db creds",
            "uis db configure",
            "uis db tunnel",
            "uis postgrest deploy",
        ] {
            assert!(
                out.stdout.contains(cmd),
                "`uis {args:?}` lists {cmd}:\n{}",
                out.stdout
            );
        }
        let creds_line = out
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("uis db creds"))
            .unwrap();
        assert!(
            creds_line.contains("credentials"),
            "a description: {creds_line}"
        );
    }
    let out = output(in_prefix(&bin, &home, &uis).arg("--version"));
    out.ok();
    assert!(out.stdout.starts_with("uis "), "{}", out.stdout);

    // Unknown commands: exit 2 (usage), the error, and suggestions.
    let out = output(in_prefix(&bin, &home, &uis).arg("nonesuch"));
    out.expect_code(2);
    assert!(
        out.stderr.contains("error: unknown command \"nonesuch\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("uis db creds"),
        "lists the commands: {}",
        out.stderr
    );
    let out = output(in_prefix(&bin, &home, &uis).args(["db", "cred", "railway"]));
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown command \"db cred\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `uis db creds`"),
        "{}",
        out.stderr
    );

    // kubectl finds the same programs through the kubectl-uis_* links.
    if let Some(kubectl) = kubectl() {
        let out = output(in_prefix(&bin, &home, &kubectl).args(["uis-db-creds", "--help"]));
        out.ok();
        assert!(
            out.stdout.contains("superuser"),
            "the suite's help:\n{}",
            out.stdout
        );
        let out = output(in_prefix(&bin, &home, &kubectl).args(["plugin", "list"]));
        for name in [
            "kubectl-uis_db_creds",
            "kubectl-uis_db_configure",
            "kubectl-uis_postgrest_deploy",
        ] {
            assert!(
                out.stdout.contains(&bin.join(name).display().to_string()),
                "kubectl plugin list shows {name}:\n{}\n{}",
                out.stdout,
                out.stderr
            );
        }
    }

    // Uninstall removes exactly what was installed.
    let out = install_sh(&["--uninstall", "--prefix", p]);
    out.ok();
    assert_eq!(
        files_under(&prefix),
        ["bin/mytool"],
        "only the user's file is left"
    );
    assert!(
        !prefix.join("share").exists(),
        "the directories install.sh made are gone"
    );
    // A second uninstall says there is nothing to remove, in one line.
    let out = install_sh(&["--uninstall", "--prefix", p]);
    out.expect_code(1);
    assert!(
        out.stderr
            .starts_with("install.sh: error: nothing to uninstall"),
        "{}",
        out.stderr
    );
}

#[test]
fn install_errors_are_one_line_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("prefix");
    let out = install_sh(&[
        "--prefix",
        p.to_str().unwrap(),
        "--from",
        tmp.path().to_str().unwrap(),
    ]);
    out.expect_code(1);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("is missing; build every binary"),
        "{}",
        out.stderr
    );
    assert!(
        !p.exists(),
        "nothing is installed when binaries are missing"
    );
    let out = install_sh(&["--bogus"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("run ./install.sh --help"),
        "{}",
        out.stderr
    );
}

/// A shell-script plugin in `dir`.
fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn dispatch_passes_arguments_stdin_exit_codes_and_signals_through() {
    let uis = uis_harness::bin("uis");
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    script(&plugins, "uis-zz", "echo \"zz:$*\"; exit 7");
    script(&plugins, "uis-zz-top", "echo \"top:$*\"; cat; exit 9");
    script(&plugins, "uis-zz-sleep", "echo $$; exec sleep 30");
    let run = |args: &[&str]| {
        let mut c = in_prefix(&plugins, tmp.path(), &uis);
        c.args(args);
        c
    };

    // The longest match wins; the rest are the program's arguments.
    let out = output(&mut run(&["zz", "other", "--flag", "x y"]));
    out.expect_code(7);
    assert_eq!(out.stdout, "zz:other --flag x y\n");
    let mut child = run(&["zz", "top", "a"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(9));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "top:a\nfrom stdin\n");

    // exec: the program is the process `uis` started, so signals reach it.
    let mut child = run(&["zz", "sleep"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim(),
        child.id().to_string(),
        "same pid: uis exec'd the program"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(15));
    std::fs::remove_file(plugins.join("uis-zz-sleep")).unwrap();

    // The suite's own binary (beside uis): exit codes and stdin pass through.
    let out = output(&mut run(&["db", "creds", "Bad.app"]));
    out.expect_code(2);
    assert!(
        out.stderr.contains("invalid APP \"Bad.app\""),
        "{}",
        out.stderr
    );
    let mut child = run(&["db", "creds"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"app\":\"Bad.app\"}\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "piped JSON reached uis-db-creds");
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid APP \"Bad.app\""));

    // Third-party programs on PATH are listed too.
    let out = output(&mut run(&["help"]));
    out.ok();
    assert!(out.stdout.contains("uis zz top"), "{}", out.stdout);

    // A closed stdout is not a panic.
    let mut child = run(&["help"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

#[test]
fn uis_db_creds_list_runs_against_the_cluster() {
    let env = Env::new();
    let uis = uis_harness::bin("uis");
    let (owner, _db, _pw) = env.configure_app_by_hand("dispatch-app");
    let mut c = env.cmd("uis");
    c.args(["db", "creds", "--list"]);
    assert_eq!(c.get_program(), uis.as_os_str());
    let out = output(&mut c);
    out.ok();
    let apps = out.json()["apps"].clone();
    assert!(
        apps.as_array().unwrap().iter().any(|a| a == "dispatch-app"),
        "{apps} (owner {owner})"
    );
    // A failure's exit code comes through: no such kubeconfig.
    let out = output(
        env.cmd("uis")
            .args(["db", "creds", "--list", "--kubeconfig"])
            .arg(env.path("missing-kubeconfig")),
    );
    out.expect_code(1);
    assert!(out.stderr.contains("error:"), "{}", out.stderr);
}
