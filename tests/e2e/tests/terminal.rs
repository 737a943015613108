//! psql in the database pod as `kubectl exec -it` gives it (issue 20, item
//! 7): `uis-db-psql` with no local psql, on a real terminal (a tmux pane
//! the test types into, reads and resizes). The local terminal is in raw
//! mode for the session and put back after, whatever ends it; keys are
//! echoed once (by the pod's terminal); Ctrl-C cancels the running query
//! and the session goes on; the window size reaches the pod's terminal,
//! and so do its changes. The stand-in gives exec with `tty=true` a real
//! pseudo-terminal.
//!
//! Every wait polls the pane for what it expects, with generous limits, so
//! a loaded machine is slower but not flaky.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use uis_e2e::Env;

/// A tmux server of the test's own (its socket in the test's directory),
/// running one window; the server is killed when this drops.
struct Pane {
    socket: PathBuf,
}

impl Pane {
    /// Starts `shell_line` (run by /bin/sh) in a `cols`x`rows` window, or
    /// `None` when tmux is not installed.
    fn start(dir: &Path, cols: u16, rows: u16, shell_line: &str) -> Option<Pane> {
        let tmux = tmux_path()?;
        let pane = Pane {
            socket: dir.join("tmux.sock"),
        };
        let status = Command::new(tmux)
            .arg("-S")
            .arg(&pane.socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg(shell_line)
            .env("SHELL", "/bin/sh")
            .env_remove("TMUX")
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session");
        Some(pane)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new(tmux_path().expect("tmux"))
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's text, its scrollback included.
    fn text(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-2000"])
    }

    /// Types `text` literally. (tmux takes an argument ending in `;` for
    /// a command separator, so a final `;` goes as its byte.)
    fn type_text(&self, text: &str) {
        let (body, semicolon) = match text.strip_suffix(';') {
            Some(body) => (body, true),
            None => (text, false),
        };
        if !body.is_empty() {
            self.tmux(&["send-keys", "-l", body]);
        }
        if semicolon {
            self.tmux(&["send-keys", "-H", "3b"]);
        }
    }

    /// Presses the named keys (`Enter`, `C-c`).
    fn keys(&self, keys: &str) {
        self.tmux(&["send-keys", keys]);
    }

    /// Polls the pane until `done` holds for its text (up to `limit`);
    /// panics with the pane's text otherwise.
    fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if done(&text) {
                return text;
            }
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} for {what}; the pane shows:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The pane terminal's settings now (`stty -g` on it, from outside).
    fn settings(&self) -> String {
        let tty = self.tmux(&["display-message", "-p", "#{pane_tty}"]);
        let tty = std::fs::File::open(tty.trim()).expect("open the pane's terminal");
        let out = Command::new("/bin/stty")
            .arg("-g")
            .stdin(tty)
            .output()
            .expect("run stty");
        assert!(out.status.success(), "stty -g on the pane's terminal");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits for psql's prompt to be the last thing on the pane.
    fn wait_for_prompt(&self, limit: Duration) -> String {
        self.wait_for("psql's prompt", limit, |t| {
            let last = t.trim_end().lines().last().unwrap_or("");
            last.ends_with("=#") || last.ends_with("=>")
        })
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        if let Some(tmux) = tmux_path() {
            let _ = Command::new(tmux)
                .arg("-S")
                .arg(&self.socket)
                .arg("kill-server")
                .status();
        }
    }
}

fn tmux_path() -> Option<&'static str> {
    ["/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// A shell-quoted word.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The shell line for the pane: the terminal's settings before, the
/// program's pid (for the signal test), `uis-db-psql` with no psql on its
/// PATH (so psql runs in the pod), then its exit code and the terminal's
/// settings after; the pane stays open to be read.
fn shell_line(env: &Env) -> String {
    let bin = uis_harness::bin("uis-db-psql");
    let program = format!(
        "exec /usr/bin/env KUBECONFIG={} HOME={} PATH=/nonexistent TERM=xterm {} --as admin",
        q(&env.kubeconfig.display().to_string()),
        q(&env.dir.path().display().to_string()),
        q(&bin.display().to_string()),
    );
    format!(
        "echo BEFORE=$(/bin/stty -g); /bin/sh -c {}; echo EXIT=$?; echo AFTER=$(/bin/stty -g); exec /bin/sleep 900",
        q(&format!("echo PID=$$; {program}"))
    )
}

/// The value after `KEY=` on the pane's line that starts with it.
fn value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}=")))
        .map(|v| v.trim().to_string())
}

const START: Duration = Duration::from_secs(90);
const STEP: Duration = Duration::from_secs(60);

fn start(env: &Env, cols: u16, rows: u16) -> Option<Pane> {
    let Some(pane) = Pane::start(env.dir.path(), cols, rows, &shell_line(env)) else {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return None;
    };
    let text = pane.wait_for_prompt(START);
    assert!(
        text.contains("no local psql; running psql in pod"),
        "psql runs in the pod: {text}"
    );
    Some(pane)
}

#[test]
fn keys_are_echoed_once_and_the_terminal_is_put_back() {
    let env = Env::new();
    let Some(pane) = start(&env, 100, 30) else {
        return;
    };
    let line = "select 'ab' || 'cd' as joined;";
    pane.type_text(line);
    pane.keys("Enter");
    let text = pane.wait_for("the query's result", STEP, |t| t.contains("abcd"));
    assert_eq!(
        text.matches(line).count(),
        1,
        "the typed line shows once (the pod's echo only):\n{text}"
    );
    pane.type_text("\\q");
    pane.keys("Enter");
    let text = pane.wait_for("the program's end", STEP, |t| t.contains("AFTER="));
    assert_eq!(value(&text, "EXIT").as_deref(), Some("0"), "{text}");
    let before = value(&text, "BEFORE").expect("settings before");
    assert_eq!(
        value(&text, "AFTER").as_deref(),
        Some(before.as_str()),
        "the terminal's settings are put back:\n{text}"
    );
    assert!(!text.contains(&env.pg.password), "no password on the pane");
}

#[test]
fn ctrl_c_cancels_the_query_and_the_session_goes_on() {
    let env = Env::new();
    let Some(pane) = start(&env, 100, 30) else {
        return;
    };
    pane.type_text("select pg_sleep(30);");
    pane.keys("Enter");
    // The line has reached psql once the pod's terminal echoes it and the
    // cursor has left it; give psql a moment to send the query.
    pane.wait_for("the query's echo", STEP, |t| {
        t.contains("select pg_sleep(30);") && !t.trim_end().ends_with("=#")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    pane.keys("C-c");
    let text = pane.wait_for("the cancel", STEP, |t| {
        t.contains("canceling statement due to user request")
    });
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(25),
        "cancelled in {took:?}, not at the end of the sleep"
    );
    assert!(!text.contains("EXIT="), "the program goes on: {text}");
    pane.wait_for_prompt(STEP);
    pane.type_text("select 6 * 7 as still_here;");
    pane.keys("Enter");
    pane.wait_for("the next query's result", STEP, |t| {
        t.lines().any(|l| l.trim() == "42")
    });
    // Ctrl-D at the prompt ends psql, as on a local terminal.
    pane.keys("C-d");
    let text = pane.wait_for("the program's end", STEP, |t| t.contains("AFTER="));
    assert_eq!(value(&text, "EXIT").as_deref(), Some("0"), "{text}");
}

#[test]
fn the_window_size_and_its_changes_reach_the_pod() {
    let env = Env::new();
    let Some(pane) = start(&env, 100, 30) else {
        return;
    };
    pane.type_text("\\! stty size");
    pane.keys("Enter");
    pane.wait_for("the first size", STEP, |t| {
        t.lines().any(|l| l.trim() == "30 100")
    });
    pane.tmux(&["resize-window", "-x", "132", "-y", "41"]);
    // The pod's terminal follows once SIGWINCH has been forwarded; ask
    // until it says so.
    let start = Instant::now();
    loop {
        pane.type_text("\\! stty size");
        pane.keys("Enter");
        let seen = pane.wait_for_prompt(STEP);
        if seen.lines().any(|l| l.trim() == "41 132") {
            break;
        }
        assert!(
            start.elapsed() < STEP,
            "the pod's terminal did not follow the resize:\n{seen}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_signal_puts_the_terminal_back() {
    let env = Env::new();
    let Some(pane) = start(&env, 100, 30) else {
        return;
    };
    let text = pane.text();
    let before = value(&text, "BEFORE").expect("settings before");
    assert_ne!(
        pane.settings(),
        before,
        "the local terminal is in raw mode during the session"
    );
    let pid = value(&text, "PID").expect("the program's pid");
    let status = Command::new("/bin/kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(status.success());
    let text = pane.wait_for("the program's end", STEP, |t| t.contains("AFTER="));
    assert_eq!(value(&text, "EXIT").as_deref(), Some("143"), "{text}");
    assert_eq!(
        value(&text, "AFTER").as_deref(),
        Some(before.as_str()),
        "the terminal's settings are put back after SIGTERM:\n{text}"
    );
}

/// kubectl on the same kubeconfig and the same stand-in: `kubectl exec -it`
/// gets the window's size to the pod's terminal too (the stand-in's
/// pseudo-terminal and resize handling are what kubectl expects). kubectl
/// sends the size as its first resize message once the stream is up, so,
/// as with a kubelet, the command may start at the terminal's default
/// (80x24) and see the window's size a moment later: the pod's shell reads
/// the size until it changes from the default (for up to 30 s), and it
/// must then be the window's.
#[test]
fn kubectl_exec_it_sees_the_same_size() {
    let env = Env::new();
    let Some(kubectl) = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        uis_harness::missing_tool("kubectl", "the kubectl exec -it comparison");
        return;
    };
    let line = format!(
        "/usr/bin/env HOME={} {} --kubeconfig {} exec -it -n default {} -- sh -c 'i=0; while [ \"$(stty size)\" = \"24 80\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; stty size; echo KUBECTL-DONE'; exec /bin/sleep 900",
        q(&env.dir.path().display().to_string()),
        q(kubectl),
        q(&env.kubeconfig.display().to_string()),
        q(&env.pg_pod),
    );
    let Some(pane) = Pane::start(env.dir.path(), 100, 30, &line) else {
        uis_harness::missing_tool("tmux", "the kubectl exec -it comparison");
        return;
    };
    let text = pane.wait_for("kubectl's output", START, |t| t.contains("KUBECTL-DONE"));
    assert!(
        text.lines().any(|l| l.trim() == "30 100"),
        "kubectl exec -it: the pod's terminal is the window's size:\n{text}"
    );
}
