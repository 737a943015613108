//! psql in the database pod as `kubectl exec -it` gives it (issue 20, item
//! 7): `uis-db-psql` with no local psql, on a real terminal (a tmux pane
//! the test types into, reads and resizes). The local terminal is in raw
//! mode for the session and put back after, whatever ends it; keys are
//! echoed once (by the pod's terminal); Ctrl-C cancels the running query
//! and the session goes on; the window size reaches the pod's terminal,
//! and so do its changes. The stand-in gives exec with `tty=true` a real
//! pseudo-terminal. The ways a session can end besides `\q` (each signal
//! kubectl handles, a broken connection to the API server, psql killed in
//! the pod, a closed output pipe) put the terminal back too; where kubectl
//! does the same, the test runs `kubectl exec -it` on the same kubeconfig
//! in the same pane setup and expects the same.
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
        // A socket of its own per pane: a test may start one after another
        // while the last one's server is still going away.
        static PANES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = PANES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pane = Pane {
            socket: dir.join(format!("tmux-{n}.sock")),
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

    /// Pastes `text` at once (a tmux buffer, as a terminal's paste).
    fn paste(&self, dir: &Path, text: &str) {
        let file = dir.join("paste.txt");
        std::fs::write(&file, text).expect("write the paste");
        self.tmux(&["load-buffer", "-b", "paste", &file.display().to_string()]);
        self.tmux(&["paste-buffer", "-d", "-b", "paste"]);
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
    framed(&uis_program(env, &env.kubeconfig))
}

/// `uis-db-psql --as admin` on `kubeconfig`, with no psql on its PATH.
fn uis_program(env: &Env, kubeconfig: &Path) -> String {
    let bin = uis_harness::bin("uis-db-psql");
    format!(
        "exec /usr/bin/env KUBECONFIG={} HOME={} PATH=/nonexistent TERM=xterm {} --as admin",
        q(&kubeconfig.display().to_string()),
        q(&env.dir.path().display().to_string()),
        q(&bin.display().to_string()),
    )
}

/// `uis-db-psql --as admin ARGS` with the local psql on its PATH (so
/// psql runs here, through the port-forward).
fn local_program(env: &Env, args: &str) -> String {
    let psql = uis_e2e::psql_path();
    let psql_dir = psql.parent().expect("psql's directory");
    format!(
        "exec /usr/bin/env KUBECONFIG={} HOME={} PATH={}:/usr/bin:/bin TERM=xterm {} --as admin {args}",
        q(&env.kubeconfig.display().to_string()),
        q(&env.dir.path().display().to_string()),
        q(&psql_dir.display().to_string()),
        q(&uis_harness::bin("uis-db-psql").display().to_string()),
    )
}

/// psql on its own, as the admin straight to the test's server, with
/// ARGS: the reference for the local-psql session.
fn psql_alone_program(env: &Env, args: &str) -> String {
    format!(
        "exec /usr/bin/env HOME={} PGPASSWORD={} TERM=xterm {} -h {} -p {} -U postgres -d postgres {args}",
        q(&env.dir.path().display().to_string()),
        q(env.admin_password()),
        q(&uis_e2e::psql_path().display().to_string()),
        q(&env.pg.host),
        env.pg.port,
    )
}

/// `kubectl exec -it` into the database pod on `kubeconfig`, running
/// psql there as the admin (the password in the pod's command line: a
/// test's own credential), as a user without this suite would.
fn kubectl_program(env: &Env, kubectl: &str, kubeconfig: &Path) -> String {
    let inner = format!(
        "PGPASSWORD={} exec psql -h 127.0.0.1 -p 5432 -U {} -d postgres",
        q(env.admin_password()),
        q("postgres"),
    );
    format!(
        "exec /usr/bin/env HOME={} {} --kubeconfig {} exec -it -n default {} -- sh -c {}",
        q(&env.dir.path().display().to_string()),
        q(kubectl),
        q(&kubeconfig.display().to_string()),
        q(&env.pg_pod),
        q(&inner),
    )
}

/// The pane's shell line around `program` (a `/bin/sh` command that
/// `exec`s the program): the terminal's settings before, the program's
/// pid, the program, its exit code and the settings after; the pane
/// stays open to be read. The pane's shell has no job control, so a
/// Ctrl-C that reaches the program's process group reaches it too: it
/// traps SIGINT (a handler, which the program does not inherit, unlike an
/// ignored signal) to live on, as an interactive shell would.
fn framed(program: &str) -> String {
    format!(
        "trap : INT; echo BEFORE=$(/bin/stty -g); /bin/sh -c {}; echo EXIT=$?; echo AFTER=$(/bin/stty -g); exec /bin/sleep 900",
        q(&format!("echo PID=$$; {program}"))
    )
}

fn kubectl_path() -> Option<&'static str> {
    ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Starts `program` framed in a pane and waits for psql's prompt.
fn start_program(env: &Env, program: &str) -> Pane {
    let pane = Pane::start(env.dir.path(), 100, 30, &framed(program)).expect("tmux");
    pane.wait_for_prompt(START);
    pane
}

/// Waits for the program in `pane` to end; asserts the terminal's
/// settings are those from before it; returns the exit code and the text.
fn ended_and_put_back(pane: &Pane, what: &str) -> (String, String) {
    let text = pane.wait_for(&format!("{what}: the program's end"), STEP, |t| {
        t.contains("AFTER=")
    });
    let before = value(&text, "BEFORE").expect("settings before");
    assert_eq!(
        value(&text, "AFTER").as_deref(),
        Some(before.as_str()),
        "{what}: the terminal's settings are put back:\n{text}"
    );
    // The code's digits: the line may hold what was left of a prompt the
    // program's end wrote over (`EXIT=143=# `).
    let code = value(&text, "EXIT").expect("exit code");
    let code = code.chars().take_while(char::is_ascii_digit).collect();
    (code, text)
}

/// Sends `signal` (a `kill` name) to the program in `pane`.
fn signal(pane: &Pane, signal: &str) {
    let pid = value(&pane.text(), "PID").expect("the program's pid");
    let status = Command::new("/bin/kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// A TCP relay on loopback to the stand-in that the test can cut, as a
/// network drop does: every relayed connection is shut at once.
struct Relay {
    port: u16,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn to(target: std::net::SocketAddr) -> Relay {
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::<TcpStream>::new()));
        let keep = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let mut open = keep.lock().unwrap();
                for s in [&client, &server] {
                    open.push(s.try_clone().expect("clone a relayed socket"));
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Relay { port, open }
    }

    /// Shuts every connection relayed so far, both ways.
    fn cut(&self) {
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A relay to the stand-in and a copy of the test's kubeconfig (named
/// `name`) whose server is the relay (the same certificate: it is for
/// 127.0.0.1).
fn relayed(env: &Env, name: &str) -> (Relay, PathBuf) {
    let text = std::fs::read_to_string(&env.kubeconfig).expect("read the kubeconfig");
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server:"))
        .expect("a server in the kubeconfig")
        .trim()
        .trim_matches('"')
        .to_string();
    let addr: std::net::SocketAddr = server
        .strip_prefix("https://")
        .expect("an https server")
        .trim_end_matches('/')
        .parse()
        .expect("the server is IP:PORT");
    let relay = Relay::to(addr);
    let path = env.dir.path().join(name);
    let text = text.replace(&server, &format!("https://127.0.0.1:{}", relay.port));
    std::fs::write(&path, text).expect("write the relayed kubeconfig");
    (relay, path)
}

/// The value after `KEY=` on the pane's first line that holds it (it may
/// follow what the program left on the line, e.g. psql's prompt).
fn value(text: &str, key: &str) -> Option<String> {
    let key = format!("{key}=");
    text.lines()
        .find_map(|l| l.find(&key).map(|at| &l[at + key.len()..]))
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

/// Every signal kubectl puts the terminal back for (SIGHUP, SIGINT,
/// SIGQUIT, SIGTERM) ends the session with the terminal as it was, and
/// 128 + the signal; kubectl exec -it, signalled the same way on the same
/// kubeconfig, puts it back too (it exits 1).
#[test]
fn every_signal_kubectl_handles_puts_the_terminal_back() {
    let env = Env::new();
    let Some(kubectl) = kubectl_path() else {
        uis_harness::missing_tool("kubectl", "the kubectl exec -it comparison");
        return;
    };
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    for (sig, number) in [("HUP", 1), ("INT", 2), ("QUIT", 3), ("TERM", 15)] {
        let pane = start_program(&env, &uis_program(&env, &env.kubeconfig));
        let before = value(&pane.text(), "BEFORE").expect("settings before");
        assert_ne!(pane.settings(), before, "SIG{sig}: raw during the session");
        signal(&pane, sig);
        let (code, text) = ended_and_put_back(&pane, &format!("uis-db-psql, SIG{sig}"));
        assert_eq!(code, (128 + number).to_string(), "SIG{sig}:\n{text}");
        assert!(
            text.contains(&format!(
                "uis: SIG{sig}: left psql in pod default/{}",
                env.pg_pod
            )),
            "SIG{sig}: says so:\n{text}"
        );
        drop(pane);
        let pane = start_program(&env, &kubectl_program(&env, kubectl, &env.kubeconfig));
        assert_ne!(
            pane.settings(),
            before,
            "kubectl, SIG{sig}: raw during the session"
        );
        signal(&pane, sig);
        ended_and_put_back(&pane, &format!("kubectl exec -it, SIG{sig}"));
    }
}

/// The connection to the API server breaks mid-session (a relay between
/// the client and the stand-in is cut): the session ends at once with exit
/// code 1, an error naming the pod, and the terminal put back, as kubectl
/// exec -it does on the same relay; it does not hang in raw mode, where
/// Ctrl-C is only a byte for the pod.
#[test]
fn a_broken_api_connection_ends_the_session_as_kubectl_does() {
    let env = Env::new();
    let Some(kubectl) = kubectl_path() else {
        uis_harness::missing_tool("kubectl", "the kubectl exec -it comparison");
        return;
    };
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    let (relay, kubeconfig) = relayed(&env, "relayed-uis.kubeconfig");
    let pane = start_program(&env, &uis_program(&env, &kubeconfig));
    relay.cut();
    let (code, text) = ended_and_put_back(&pane, "uis-db-psql, connection cut");
    assert_eq!(code, "1", "{text}");
    assert!(
        text.contains(&format!(
            "the connection to the Kubernetes API closed during the session with psql in pod default/{}",
            env.pg_pod
        )),
        "{text}"
    );
    drop(pane);
    let (relay, kubeconfig) = relayed(&env, "relayed-kubectl.kubeconfig");
    let pane = start_program(&env, &kubectl_program(&env, kubectl, &kubeconfig));
    relay.cut();
    let (code, text) = ended_and_put_back(&pane, "kubectl exec -it, connection cut");
    assert_eq!(code, "1", "kubectl exits 1 too:\n{text}");
}

/// psql killed in the pod (SIGKILL, as when its container is killed): the
/// session ends with the code the exec stream reports, 137, said on
/// stderr, and the terminal put back; kubectl exec -it gives the same code
/// and says "command terminated with exit code 137".
#[test]
fn psql_killed_in_the_pod_gives_its_exit_code_as_kubectl_does() {
    let env = Env::new();
    let Some(kubectl) = kubectl_path() else {
        uis_harness::missing_tool("kubectl", "the kubectl exec -it comparison");
        return;
    };
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    for (who, program) in [
        ("uis-db-psql", uis_program(&env, &env.kubeconfig)),
        (
            "kubectl exec -it",
            kubectl_program(&env, kubectl, &env.kubeconfig),
        ),
    ] {
        let pane = start_program(&env, &program);
        // `\!` runs a shell whose parent is psql.
        pane.type_text("\\! kill -KILL $PPID");
        pane.keys("Enter");
        let (code, text) = ended_and_put_back(&pane, who);
        assert_eq!(code, "137", "{who}:\n{text}");
        assert!(
            text.contains("exit code 137"),
            "{who} says the code:\n{text}"
        );
    }
}

/// stdin on the terminal, stdout into a pipe whose reader goes away
/// (`| head -c 300`): the session ends when psql's output can no longer be
/// written, and the terminal is put back (kubectl exec -it dies of SIGPIPE
/// here and leaves it raw, so it is no reference for this case).
#[test]
fn a_closed_output_pipe_ends_the_session_and_puts_the_terminal_back() {
    let env = Env::new();
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    let program = format!(
        "{} | /usr/bin/head -c 300 >/dev/null",
        uis_program(&env, &env.kubeconfig).trim_start_matches("exec ")
    );
    let pane = Pane::start(env.dir.path(), 100, 30, &framed(&program)).expect("tmux");
    // psql's banner and prompt go into the pipe: wait for the pod's psql.
    pane.wait_for("psql in the pod", START, |t| {
        t.contains("no local psql; running psql in pod")
    });
    // No pager in the pod: its keys would be commands there (`s` saves
    // to a file) if the session went on.
    pane.type_text("\\pset pager off");
    pane.keys("Enter");
    let start = Instant::now();
    loop {
        pane.type_text("select repeat('y', 2000);");
        pane.keys("Enter");
        std::thread::sleep(Duration::from_secs(2));
        if pane.text().contains("AFTER=") || start.elapsed() > STEP {
            break;
        }
    }
    ended_and_put_back(&pane, "uis-db-psql | head");
}

/// What a person does at psql's prompt works as with kubectl exec -it on
/// the same kubeconfig: line editing (Ctrl-A, Ctrl-E, the arrow keys),
/// history (Up), UTF-8 typed and shown (æøå, an emoji), 10 kB pasted at
/// once on one line, a pager quit with `q`, and `\q` ending with 0.
#[test]
fn editing_history_utf8_and_a_long_paste_as_with_kubectl() {
    let env = Env::new();
    let Some(kubectl) = kubectl_path() else {
        uis_harness::missing_tool("kubectl", "the kubectl exec -it comparison");
        return;
    };
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    let long = "abcdefghij".repeat(1000);
    for (who, program) in [
        ("uis-db-psql", uis_program(&env, &env.kubeconfig)),
        (
            "kubectl exec -it",
            kubectl_program(&env, kubectl, &env.kubeconfig),
        ),
    ] {
        let pane = start_program(&env, &program);
        pane.type_text("\\pset pager off");
        pane.keys("Enter");
        pane.wait_for_prompt(STEP);
        // Typed without its first letter and its end: Ctrl-A goes to the
        // start, Ctrl-E to the end; Left twice and a letter in the middle.
        pane.type_text("elect 'ab' || 'd' as edite");
        pane.keys("C-a");
        pane.type_text("s");
        pane.keys("C-e");
        pane.type_text("d;");
        for _ in 0..13 {
            pane.keys("Left");
        }
        pane.type_text("c");
        pane.keys("Enter");
        pane.wait_for(&format!("{who}: the edited line's result"), STEP, |t| {
            t.lines().any(|l| l.trim() == "abcd")
        });
        pane.wait_for_prompt(STEP);
        // Up brings the line back; Enter runs it again.
        pane.keys("Up");
        pane.keys("Enter");
        pane.wait_for(&format!("{who}: the recalled line's result"), STEP, |t| {
            t.lines().filter(|l| l.trim() == "abcd").count() == 2
        });
        pane.wait_for_prompt(STEP);
        pane.type_text("select 'æøå 😀' as typed, length('æøå 😀') as chars;");
        pane.keys("Enter");
        let text = pane.wait_for(&format!("{who}: the UTF-8 result"), STEP, |t| {
            t.lines()
                .any(|l| l.contains("æøå 😀 |") && l.trim_end().ends_with('5'))
        });
        assert!(
            text.contains("select 'æøå 😀' as typed"),
            "{who}: the typed line shows as typed:\n{text}"
        );
        pane.wait_for_prompt(STEP);
        pane.paste(
            env.dir.path(),
            &format!("select length('{long}') as pasted;"),
        );
        pane.keys("Enter");
        pane.wait_for(&format!("{who}: the pasted line's result"), STEP, |t| {
            t.lines().any(|l| l.trim() == "10000")
        });
        pane.wait_for_prompt(STEP);
        // The pager takes the keys while it shows, then gives them back.
        pane.type_text("\\pset pager always");
        pane.keys("Enter");
        pane.wait_for_prompt(STEP);
        pane.type_text("select g as paged from generate_series(1, 500) g;");
        pane.keys("Enter");
        pane.wait_for(&format!("{who}: the pager"), STEP, |t| {
            let last = t.trim_end().lines().last().unwrap_or("");
            !(last.ends_with("=#") || last.ends_with("=>")) && t.contains("paged")
        });
        pane.type_text("q");
        pane.wait_for_prompt(STEP);
        pane.type_text("\\pset pager off");
        pane.keys("Enter");
        pane.wait_for_prompt(STEP);
        pane.type_text("select 'after the pager' as back;");
        pane.keys("Enter");
        pane.wait_for(&format!("{who}: the prompt after the pager"), STEP, |t| {
            t.lines().any(|l| l.trim() == "after the pager")
        });
        pane.wait_for_prompt(STEP);
        pane.type_text("\\q");
        pane.keys("Enter");
        let (code, text) = ended_and_put_back(&pane, who);
        assert_eq!(code, "0", "{who}:\n{text}");
    }
}

/// With a local psql, `uis db psql` runs it through its port-forward: a
/// Ctrl-C at the terminal signals this process too (the same process
/// group), which must not end (the tunnel psql talks through would go with
/// it). Ctrl-C cancels the running query and the session goes on, as with
/// psql run on its own against the same server, the reference run here
/// the same way.
#[test]
fn with_a_local_psql_ctrl_c_cancels_the_query_as_psql_alone_does() {
    let env = Env::new();
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    let (uis, alone) = (local_program(&env, ""), psql_alone_program(&env, ""));
    for (who, program) in [("uis-db-psql with a local psql", uis), ("psql", alone)] {
        let pane = start_program(&env, &program);
        pane.type_text("select pg_sleep(30);");
        pane.keys("Enter");
        pane.wait_for(&format!("{who}: the query's echo"), STEP, |t| {
            t.contains("select pg_sleep(30);") && !t.trim_end().ends_with("=#")
        });
        std::thread::sleep(Duration::from_millis(1500));
        pane.keys("C-c");
        pane.wait_for(&format!("{who}: the cancel"), STEP, |t| {
            t.contains("canceling statement due to user request")
        });
        pane.wait_for_prompt(STEP);
        pane.type_text("select 6 * 7 as still_here;");
        pane.keys("Enter");
        let text = pane.wait_for(&format!("{who}: the next query's result"), STEP, |t| {
            t.lines().any(|l| l.trim() == "42") || t.contains("AFTER=")
        });
        assert!(
            !text.contains("EXIT="),
            "{who}: the session goes on:\n{text}"
        );
        pane.keys("C-d");
        let (code, text) = ended_and_put_back(&pane, who);
        assert_eq!(code, "0", "{who}:\n{text}");
    }
}

/// With a local psql, SIGTERM or SIGHUP sent to `uis db psql` alone (not
/// to psql) is passed on to psql, which puts the terminal back as it ends,
/// and `uis` ends after it with 128 + the signal: psql is not left on the
/// terminal with the shell, its tunnel gone. psql run on its own, sent the
/// same signal, is the reference: the same code, the terminal put back.
#[test]
fn with_a_local_psql_sigterm_and_sighup_end_psql_too() {
    let env = Env::new();
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    let (uis, alone) = (local_program(&env, ""), psql_alone_program(&env, ""));
    for (sig, number) in [("TERM", 15), ("HUP", 1)] {
        for (who, program) in [("uis-db-psql with a local psql", &uis), ("psql", &alone)] {
            let pane = start_program(&env, program);
            let pid = value(&pane.text(), "PID").expect("the program's pid");
            // The program's children (Linux: the test runs there).
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            if program == &uis {
                assert!(!children.trim().is_empty(), "{who}: psql is its child");
            }
            signal(&pane, sig);
            let (code, text) = ended_and_put_back(&pane, &format!("{who}, SIG{sig}"));
            assert_eq!(code, (128 + number).to_string(), "{who}, SIG{sig}:\n{text}");
            for child in children.split_whitespace() {
                assert!(
                    !Path::new(&format!("/proc/{child}")).exists()
                        || std::fs::read_to_string(format!("/proc/{child}/stat"))
                            .is_ok_and(|s| s.contains(") Z ")),
                    "{who}, SIG{sig}: its child {child} (psql) still runs:\n{text}"
                );
            }
        }
    }
}

/// stdin not a terminal (SQL piped in), stdout and stderr on one, no
/// local psql: `uis db psql` runs the SQL itself and asks the API server
/// for no terminal (no `pods/exec` at all, so no `tty=true`), as `kubectl
/// exec -i` without `-t` asks for none; the terminal is left as it was.
#[test]
fn stdin_not_a_terminal_asks_for_no_terminal() {
    let env = Env::new();
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    env.standin.clear_request_log();
    let program = format!(
        "printf 'select 40 + 2 as answer;\\n' | {}",
        uis_program(&env, &env.kubeconfig).trim_start_matches("exec ")
    );
    let pane = Pane::start(env.dir.path(), 100, 30, &framed(&program)).expect("tmux");
    let (code, text) = ended_and_put_back(&pane, "SQL piped in");
    assert_eq!(code, "0", "{text}");
    assert!(text.lines().any(|l| l.trim() == "42"), "{text}");
    let log = env.standin.request_log();
    assert!(
        !log.iter()
            .any(|(_, path, query)| path.ends_with("/exec") || query.contains("tty=true")),
        "no exec, no terminal asked for: {log:?}"
    );
    assert!(
        log.iter()
            .any(|(_, path, _)| path.ends_with("/portforward")),
        "the SQL went through the port-forward: {log:?}"
    );
}

/// `-v NAME=VALUE` reaches the interactive psql as `psql -v` does (psql
/// run on its own with the same `-v` is the reference, `:'NAME'` quoting
/// included), in the pod and with a local psql; the flags that shape a
/// script (`-1`, `--continue-on-error`, `--format`, `-e`, `--verbose`)
/// are refused with exit 2 and a hint, not ignored.
#[test]
fn psql_variables_reach_the_session_and_script_flags_are_refused() {
    let env = Env::new();
    if tmux_path().is_none() {
        uis_harness::missing_tool("tmux", "the raw-terminal tests of psql in the pod");
        return;
    }
    let value = "it's æ; $HOME";
    let set = format!("-v greeting={}", q(value));
    let in_pod = format!("{} {set}", uis_program(&env, &env.kubeconfig));
    let local = local_program(&env, &set);
    let alone = psql_alone_program(&env, &set);
    let mut seen = Vec::new();
    for (who, program) in [
        ("in the pod", in_pod),
        ("local psql", local),
        ("psql", alone),
    ] {
        let pane = start_program(&env, &program);
        pane.type_text("select :'greeting' as said;");
        pane.keys("Enter");
        let text = pane.wait_for(&format!("{who}: the variable's value"), STEP, |t| {
            t.contains("(1 row)") || t.contains("ERROR")
        });
        let row = text
            .lines()
            .find(|l| l.contains("it's"))
            .map(|l| l.trim().to_string());
        assert_eq!(row.as_deref(), Some(value), "{who}:\n{text}");
        seen.push(row);
        pane.keys("C-d");
        let (code, text) = ended_and_put_back(&pane, who);
        assert_eq!(code, "0", "{who}:\n{text}");
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");

    for flag in [
        "-1",
        "--continue-on-error",
        "--format csv",
        "-e",
        "--verbose",
    ] {
        let program = format!("{} {flag}", uis_program(&env, &env.kubeconfig));
        let pane = Pane::start(env.dir.path(), 200, 30, &framed(&program)).expect("tmux");
        let (code, text) = ended_and_put_back(&pane, flag);
        assert_eq!(code, "2", "{flag}:\n{text}");
        assert!(
            text.contains("applies to SQL given with -c, -f or on standard input")
                && text.contains("at psql's prompt"),
            "{flag}:\n{text}"
        );
    }
}
