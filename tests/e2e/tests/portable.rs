//! The JSON chaining of the suite where there is no Linux `/proc` (macOS,
//! the BSDs; issue 26): the JSON one command prints reaches the next whatever
//! kind of file the next one's stdin is (a pipe from the previous process, a
//! regular file, a Unix socket), and `/dev/null` or a terminal give no
//! defaults and never make a command wait for input. Each data-carrying case
//! runs twice: as is, and in a private mount namespace whose `/proc` is an
//! empty tmpfs, which is how a Mac looks to the binary (needs root and
//! `unshare`; fails under CI when that is not possible, skips loudly
//! elsewhere). Not for the scripts (shellcheck in `.ci/run`) or completions
//! (`completions.rs`).

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use uis_e2e::{Env, Out, bin, output};

/// Whether a command can be run with an empty `/proc`: root, `unshare` and
/// a mount namespace are all there. Probed once per test process.
fn can_hide_proc() -> bool {
    static OK: OnceLock<Result<(), String>> = OnceLock::new();
    let probe = OK.get_or_init(|| {
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg("mount -t tmpfs uis-no-proc /proc && test ! -e /proc/self")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("unshare: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    });
    match probe {
        Ok(()) => true,
        Err(why) => {
            uis_e2e::missing(&format!(
                "a mount namespace with an empty /proc (unshare as root: {why})"
            ));
            false
        }
    }
}

/// `cmd` run in a private mount namespace with an empty tmpfs on `/proc`,
/// as a Mac has none: same program, arguments and environment.
fn without_proc(cmd: &Command) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs uis-no-proc /proc && exec "$0" "$@""#)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// How a command is run: as is, or with `/proc` hidden.
#[derive(Clone, Copy, PartialEq)]
enum Proc {
    Mounted,
    Hidden,
}

impl Proc {
    /// The binary `name` with `args` in `env`, run this way.
    fn cmd(self, env: &Env, name: &str, args: &[&str]) -> Command {
        let mut c = env.cmd(name);
        c.args(args);
        match self {
            Proc::Mounted => c,
            Proc::Hidden => without_proc(&c),
        }
    }

    /// False (with the CI failure or the loud skip) when this way cannot run here.
    fn available(self) -> bool {
        self == Proc::Mounted || can_hide_proc()
    }
}

/// Runs `stages` as a shell pipeline would (each stdout a pipe into the
/// next stdin; the first reads /dev/null) and returns what the last one did,
/// with every stage's stderr. Panics when an earlier stage fails, as
/// `set -o pipefail` would.
fn pipeline(env: &Env, how: Proc, stages: &[&[&str]]) -> Out {
    let log_path = env.path(&format!(
        "pipeline-{}.log",
        uis_harness::pg::random_alnum(6)
    ));
    let log = std::fs::File::create(&log_path).expect("stderr log");
    let mut children = Vec::new();
    let mut stdin = Some(Stdio::null());
    for (i, stage) in stages.iter().enumerate() {
        let mut c = how.cmd(env, stage[0], &stage[1..]);
        c.stdin(stdin.take().expect("the previous stage's stdout"))
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("stderr log"));
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", stage[0]));
        if i + 1 < stages.len() {
            stdin = Some(Stdio::from(child.stdout.take().expect("piped stdout")));
        }
        children.push(child);
    }
    let last = children.pop().expect("at least one stage");
    let o = last.wait_with_output().expect("wait for the last stage");
    let codes: Vec<i32> = children
        .into_iter()
        .map(|mut c| c.wait().expect("wait").code().unwrap_or(-1))
        .collect();
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    uis_e2e::assert_no_known_secret("the pipeline's stderr", &stderr);
    assert!(
        codes.iter().all(|c| *c == 0),
        "an earlier stage failed ({codes:?}):\n{stderr}"
    );
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr,
    }
}

/// What `uis-db-configure APP --json` prints: what the next command reads.
fn configure_json(env: &Env, app: &str) -> Vec<u8> {
    let out = env.run("uis-db-configure", &[app, "--json"]);
    out.ok();
    assert_eq!(out.json()["app"], app);
    out.stdout.into_bytes()
}

/// `uis-db-creds --format url`, no APP, with `stdin`.
fn creds_url(env: &Env, how: Proc, stdin: Stdio) -> Out {
    output(
        how.cmd(env, "uis-db-creds", &["--format", "url"])
            .stdin(stdin),
    )
}

/// The app's owner URL on stdout: APP came from stdin.
#[track_caller]
fn is_owner_url(out: &Out, app: &str) {
    out.ok();
    let owner = app.replace('-', "_");
    assert!(
        out.stdout.starts_with(&format!("postgresql://{owner}:"))
            && out.stdout.trim_end().ends_with(&format!("/{owner}_db")),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
}

/// `uis-db-configure APP --json | uis-db-creds --format url`.
fn from_a_pipe(how: Proc, app: &str) {
    if !how.available() {
        return;
    }
    let env = Env::new();
    let out = pipeline(
        &env,
        how,
        &[
            &["uis-db-configure", app, "--json"],
            &["uis-db-creds", "--format", "url"],
        ],
    );
    is_owner_url(&out, app);
}

/// `uis-db-configure APP --json > app.json; uis-db-creds --format url < app.json`.
fn from_a_file(how: Proc, app: &str) {
    if !how.available() {
        return;
    }
    let env = Env::new();
    let path = env.path("app.json");
    std::fs::write(&path, configure_json(&env, app)).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    is_owner_url(&creds_url(&env, how, Stdio::from(file)), app);
}

/// stdin one end of a connected Unix socket (as a supervisor or `socat`
/// hands it over), configure's JSON written into the other end.
fn from_a_socket(how: Proc, app: &str) {
    if !how.available() {
        return;
    }
    let env = Env::new();
    let json = configure_json(&env, app);
    let (mut ours, theirs) = UnixStream::pair().expect("socketpair");
    ours.write_all(&json).unwrap();
    ours.shutdown(std::net::Shutdown::Write).unwrap();
    let stdin = Stdio::from(std::os::fd::OwnedFd::from(theirs));
    is_owner_url(&creds_url(&env, how, stdin), app);
    drop(ours);
}

#[test]
fn app_from_a_pipe() {
    from_a_pipe(Proc::Mounted, "port-pipe");
}

#[test]
fn app_from_a_pipe_without_proc() {
    from_a_pipe(Proc::Hidden, "port-pipe-np");
}

#[test]
fn app_from_a_regular_file() {
    from_a_file(Proc::Mounted, "port-file");
}

#[test]
fn app_from_a_regular_file_without_proc() {
    from_a_file(Proc::Hidden, "port-file-np");
}

#[test]
fn app_from_a_unix_socket() {
    from_a_socket(Proc::Mounted, "port-sock");
}

#[test]
fn app_from_a_unix_socket_without_proc() {
    from_a_socket(Proc::Hidden, "port-sock-np");
}

/// The design card's chain, every process without `/proc`:
/// `uis-db-configure APP --json | uis-postgrest-deploy --schemas public --json | uis-jwt-mint --role anon`.
#[test]
fn the_design_cards_chain_without_proc() {
    if !Proc::Hidden.available() {
        return;
    }
    let env = Env::new();
    let out = pipeline(
        &env,
        Proc::Hidden,
        &[
            &["uis-db-configure", "port-chain", "--json"],
            &["uis-postgrest-deploy", "--schemas", "public", "--json"],
            &["uis-jwt-mint", "--role", "anon"],
        ],
    );
    out.ok();
    let token = out.stdout.trim();
    assert!(token.starts_with("ey"), "{}", out.stdout);
    let verified = env.run("uis-jwt-mint", &["port-chain", "--verify", token]);
    verified.ok();
    assert_eq!(verified.json()["claims"]["role"], "port_chain_web_anon");
}

/// `/dev/null` carries no defaults: the command asks for APP (usage error).
#[test]
fn dev_null_gives_no_defaults() {
    let env = Env::new();
    for how in [Proc::Mounted, Proc::Hidden] {
        if !how.available() {
            continue;
        }
        let out = creds_url(&env, how, Stdio::null());
        out.expect_code(2);
        assert!(out.stderr.contains("give APP"), "{}", out.stderr);
    }
}

/// On a terminal (a pseudo-terminal from util-linux `script`, its input kept
/// open and silent) the command asks for APP at once instead of waiting for
/// the person to type JSON.
#[test]
fn a_terminal_gives_no_defaults_and_is_never_read() {
    let Some(script) = uis_e2e::need_tool("script") else {
        return;
    };
    let env = Env::new();
    let cmd = format!("'{}' --format url", bin("uis-db-creds").display());
    let mut child = Command::new(script)
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", env.dir.path())
        .env("TERM", "dumb")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    // Held open and never written: a read of the terminal would block.
    let keyboard = child.stdin.take();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for script(1)") {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(20) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.is_none() {
        let _ = child.kill();
    }
    drop(keyboard);
    let o = child.wait_with_output().expect("wait for script(1)");
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    uis_e2e::assert_no_known_secret("the terminal of uis-db-creds", &text);
    let status =
        status.unwrap_or_else(|| panic!("still waiting after 20 s for terminal input:\n{text}"));
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("give APP"), "{text}");
}

/// Shell constructs and tool flags a Mac lacks: bash 3.2 (macOS's
/// `/bin/bash`, which `#!/usr/bin/env bash` finds unless Homebrew's is
/// first) and BSD userland. Each with what to use instead.
const NOT_ON_A_MAC: &[(&str, &str)] = &[
    ("declare -A", "associative arrays are bash 4"),
    ("local -A", "associative arrays are bash 4"),
    ("typeset -A", "associative arrays are bash 4"),
    ("declare -n", "namerefs are bash 4.3"),
    ("local -n", "namerefs are bash 4.3"),
    ("mapfile", "bash 4: use a while read loop"),
    ("readarray", "bash 4: use a while read loop"),
    ("coproc", "bash 4"),
    ("wait -n", "bash 4.3"),
    ("|&", "bash 4: use 2>&1 |"),
    ("&>>", "bash 4: use >>FILE 2>&1"),
    (",,}", "case conversion is bash 4: use tr"),
    ("^^}", "case conversion is bash 4: use tr"),
    ("[-1]", "negative subscripts are bash 4.3"),
    ("globstar", "bash 4"),
    ("lastpipe", "bash 4.2"),
    ("${EPOCH", "bash 5"),
    ("readlink -f", "GNU only: cd \"$(dirname ...)\" && pwd"),
    (
        "sed -i ",
        "GNU and BSD differ: sed -i.bak ..., then rm the .bak",
    ),
    (
        "sed -i'",
        "GNU and BSD differ: sed -i.bak ..., then rm the .bak",
    ),
    (
        "sed -i\"",
        "GNU and BSD differ: sed -i.bak ..., then rm the .bak",
    ),
    ("grep -P", "GNU only: grep -E"),
    ("date -d", "GNU only"),
    ("stat -c", "GNU only (BSD: stat -f)"),
    ("stat --", "GNU only"),
    ("install -D", "GNU only: mkdir -p, then install"),
    ("cp --", "long options are GNU only (cp -- is fine)"),
    ("mktemp --", "long options are GNU only"),
    ("xargs -r", "GNU only"),
    ("sort -V", "not in every macOS sort"),
    ("head -n -", "GNU only"),
    ("-printf", "GNU find only"),
    ("timeout ", "GNU coreutils only"),
    ("nproc", "GNU coreutils only: getconf _NPROCESSORS_ONLN"),
    ("sha256sum", "GNU coreutils only: shasum -a 256"),
    ("md5sum", "GNU coreutils only"),
    ("tr -dc", "BSD tr stops on random bytes unless LC_ALL=C"),
];

/// The lines of `text` (a shell script) that use something of
/// [`NOT_ON_A_MAC`], as "LINE: `WHAT`: WHY". Full-line comments are skipped;
/// a word must start the line or follow a non-word character.
fn not_on_a_mac(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        for (what, why) in NOT_ON_A_MAC {
            if *what == "cp --" && line.contains("cp -- ") {
                continue;
            }
            if *what == "tr -dc" && line.contains("LC_ALL=C tr -dc") {
                continue;
            }
            let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            let hit = line.match_indices(what).any(|(i, _)| {
                let starts = what.starts_with(|c: char| c.is_ascii_alphanumeric());
                let ends = what.ends_with(|c: char| c.is_ascii_alphanumeric());
                (!starts || line[..i].chars().next_back().is_none_or(|c| !is_word(c)))
                    && (!ends
                        || line[i + what.len()..]
                            .chars()
                            .next()
                            .is_none_or(|c| !is_word(c)))
            });
            if hit {
                found.push(format!("{}: `{what}`: {why}", n + 1));
            }
        }
    }
    found
}

/// Every file in the repository (outside target/ and .git/) that starts
/// with a `#!` naming sh or bash.
fn shell_scripts(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = e.path();
            let name = e.file_name();
            if e.file_type().unwrap().is_dir() {
                if name != "target" && name != ".git" && name != "node_modules" {
                    stack.push(path);
                }
                continue;
            }
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
            let first = String::from_utf8_lossy(first);
            if first.starts_with("#!")
                && (first.contains("bash") || first.ends_with("/sh") || first.ends_with(" sh"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The scripts people run (install.sh, scripts/sandbox, examples/*/onboard.sh,
/// bench/run, .ci/run...) use only what bash 3.2 and BSD tools share.
/// shellcheck (in .ci/run) checks the rest.
#[test]
fn scripts_use_only_what_bash_3_2_and_bsd_tools_share() {
    // The check itself finds what it looks for.
    assert_eq!(
        not_on_a_mac("here=$(readlink -f .)\n# readlink -f in a comment\nx=${y,,}\n"),
        vec![
            "1: `readlink -f`: GNU only: cd \"$(dirname ...)\" && pwd".to_string(),
            "3: `,,}`: case conversion is bash 4: use tr".to_string(),
        ]
    );
    assert!(not_on_a_mac("nproc_x=1; cp -- a b; LC_ALL=C tr -dc a-z").is_empty());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scripts = shell_scripts(&root);
    for wanted in [
        "install.sh",
        "scripts/sandbox",
        "examples/railway/onboard.sh",
    ] {
        assert!(
            scripts.iter().any(|p| p.ends_with(wanted)),
            "{wanted} not found among {scripts:?}"
        );
    }
    let mut problems = Vec::new();
    for path in &scripts {
        let text = std::fs::read_to_string(path).unwrap();
        for p in not_on_a_mac(&text) {
            problems.push(format!(
                "{}:{p}",
                path.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "not on a Mac:\n  {}",
        problems.join("\n  ")
    );
}
