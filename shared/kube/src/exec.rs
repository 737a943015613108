//! `pods/exec` into the database pod, for the users who have no local
//! psql (friction F3): psql in the pod, on a terminal.

use crate::cluster::Cluster;
use futures::SinkExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::TerminalSize;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use uis_core::Failure;
use uis_core::error::Phase;

/// Runs an interactive psql in pod `ns/pod` through `pods/exec` with a
/// terminal, as `user` on `database` at the pod's own `127.0.0.1:port`
/// (the provider's PostgreSQL port, as the tunnel uses it: StackGres'
/// 5433, its 5432 being PgBouncer), wired to this process's stdin and
/// stdout, and returns psql's exit code.
///
/// The password travels as the first line of stdin, never in argv, and
/// only after the pod's shell has turned its terminal's echo off.
///
/// As `kubectl exec -it`: when stdin is a terminal it is in raw mode for
/// the session (put back on every way out: the end, an error, a panic's
/// unwinding, SIGTERM/SIGHUP/SIGINT, which return 128 + the signal), so
/// keys (Ctrl-C and Ctrl-D included) go to psql as bytes; the terminal's
/// size is sent at the start and on every SIGWINCH.
///
/// Errors: phase `cluster` when exec is refused; `exec` when the stream
/// lacks stdin/stdout, the shell does not start within 30 s, or a write
/// fails.
pub async fn psql_in_pod(
    cluster: &Cluster,
    ns: &str,
    pod: &str,
    user: &str,
    database: &str,
    port: u16,
    password: &str,
) -> Result<i32, Failure> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    // The password travels as the first line of stdin, never in argv. The
    // pod's terminal would echo it: the script turns echo off first and
    // says so with a marker line, and only then is the password sent.
    let script = "stty -echo 2>/dev/null; echo UIS-READY; IFS= read -r PGPASSWORD; stty echo 2>/dev/null; export PGPASSWORD; exec psql -h 127.0.0.1 -p \"$3\" -U \"$1\" -d \"$2\"";
    let port = port.to_string();
    let cmd = vec!["sh", "-c", script, "sh", user, database, port.as_str()];
    let params = AttachParams::interactive_tty();
    let mut attached = pods
        .exec(pod, cmd, &params)
        .await
        .map_err(|e| cluster.explain(&format!("exec into pod {ns}/{pod}"), e))?;
    let mut stdin = attached
        .stdin()
        .ok_or_else(|| Failure::new(Phase::Exec, "no stdin on the exec stream"))?;
    let mut stdout = attached
        .stdout()
        .ok_or_else(|| Failure::new(Phase::Exec, "no stdout on the exec stream"))?;
    // Wait for the marker (echo is off by then); what follows it is psql's.
    let mut seen = Vec::new();
    let rest = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stdout.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::other(
                    "the pod's shell ended before it was ready",
                ));
            }
            seen.extend_from_slice(&buf[..n]);
            // A terminal ends the line with \r\n, a pipe with \n.
            if let Some(at) = seen.windows(9).position(|w| w == b"UIS-READY")
                && let Some(nl) = seen[at..].iter().position(|b| *b == b'\n')
            {
                return Ok(seen[at + nl + 1..].to_vec());
            }
        }
    })
    .await
    .map_err(|_| {
        Failure::new(
            Phase::Exec,
            format!("the shell in pod {ns}/{pod} did not start within 30 s"),
        )
    })?
    .map_err(|e| Failure::new(Phase::Exec, format!("exec into pod {ns}/{pod}: {e}")))?;
    stdin
        .write_all(format!("{password}\n").as_bytes())
        .await
        .map_err(|e| Failure::new(Phase::Exec, e.to_string()))?;
    // From here on the keys go to the pod's terminal as they are typed:
    // the local terminal in raw mode (restored when `raw` drops, on every
    // way out of this function, a panic's unwinding included), so psql's
    // echo is the only one, Ctrl-C reaches psql as a byte and cancels the
    // query, and its line editing sees every key.
    let raw = RawTerminal::enter();
    let mut out = tokio::io::stdout();
    let _ = out.write_all(&rest).await;
    let _ = out.flush().await;
    let status = attached.take_status();
    let mut resize = attached.terminal_size();
    if let Some(tx) = resize.as_mut()
        && let Some(size) = local_size()
    {
        let _ = tx.send(size).await;
    }
    let keys = read_stdin_on_a_thread();
    let signal = interrupted(
        ns,
        pod,
        attached_session(&mut stdin, &mut stdout, &mut out, keys, resize),
    )
    .await;
    drop(raw);
    if let Some(code) = signal {
        return Ok(code);
    }
    let code = match status {
        Some(s) => match s.await {
            Some(st) if st.status.as_deref() == Some("Success") => 0,
            Some(st) => st
                .details
                .and_then(|d| d.causes)
                .and_then(|c| {
                    c.into_iter()
                        .find(|c| c.reason.as_deref() == Some("ExitCode"))
                })
                .and_then(|c| c.message)
                .and_then(|m| m.parse().ok())
                .unwrap_or(1),
            None => 0,
        },
        None => 0,
    };
    Ok(code)
}

/// The local terminal (stdin) in raw mode while this lives; `None` when
/// stdin is not a terminal. Dropping it puts back the settings it found.
struct RawTerminal {
    saved: rustix::termios::Termios,
}

impl RawTerminal {
    fn enter() -> Option<Self> {
        use rustix::termios::{OptionalActions, isatty, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        if !isatty(&stdin) {
            return None;
        }
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(Self { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        use rustix::termios::{OptionalActions, tcsetattr};
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// The local terminal's size (of stdin, else stdout), if either is one.
fn local_size() -> Option<TerminalSize> {
    let ws = rustix::termios::tcgetwinsize(std::io::stdin())
        .or_else(|_| rustix::termios::tcgetwinsize(std::io::stdout()))
        .ok()?;
    (ws.ws_col > 0 && ws.ws_row > 0).then_some(TerminalSize {
        width: ws.ws_col,
        height: ws.ws_row,
    })
}

/// This process's stdin, read on a plain thread (a blocked read there does
/// not hold up the end of the program, as one in tokio's pool would) and
/// handed over in chunks; the channel closes at end of input.
fn read_stdin_on_a_thread() -> tokio::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Bridges the session until the pod's output ends: keys to the pod,
/// output to the terminal, and the terminal's size on every SIGWINCH.
async fn attached_session(
    stdin: &mut (impl AsyncWrite + Unpin),
    stdout: &mut (impl AsyncRead + Unpin),
    out: &mut (impl AsyncWrite + Unpin),
    mut keys: tokio::sync::mpsc::Receiver<Vec<u8>>,
    mut resize: Option<futures::channel::mpsc::Sender<TerminalSize>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut winch = signal(SignalKind::window_change()).ok();
    let mut keys_open = true;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            n = stdout.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    let _ = out.flush().await;
                }
            },
            chunk = keys.recv(), if keys_open => match chunk {
                Some(chunk) => {
                    if stdin.write_all(&chunk).await.is_err() {
                        keys_open = false;
                    }
                }
                None => {
                    keys_open = false;
                    let _ = stdin.shutdown().await;
                }
            },
            Some(()) = async {
                match winch.as_mut() {
                    Some(w) => w.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some(tx) = resize.as_mut()
                    && let Some(size) = local_size()
                {
                    let _ = tx.send(size).await;
                }
            }
        }
    }
}

/// Runs `session`, unless SIGTERM, SIGHUP or SIGINT comes first: then the
/// session is dropped (so the caller restores the terminal) and the exit
/// code a shell gives for that signal is returned.
async fn interrupted(ns: &str, pod: &str, session: impl Future<Output = ()>) -> Option<i32> {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        (SignalKind::terminate(), 15, "SIGTERM"),
        (SignalKind::hangup(), 1, "SIGHUP"),
        (SignalKind::interrupt(), 2, "SIGINT"),
    ];
    let mut streams = Vec::new();
    for (kind, num, name) in kinds {
        if let Ok(s) = signal(kind) {
            streams.push((s, num, name));
        }
    }
    if streams.is_empty() {
        session.await;
        return None;
    }
    let any = futures::future::select_all(streams.iter_mut().map(|(s, num, name)| {
        Box::pin(async move {
            s.recv().await;
            (*num, *name)
        })
    }));
    tokio::select! {
        () = session => None,
        ((num, name), _, _) = any => {
            eprintln!("\r\nuis: {name}: left psql in pod {ns}/{pod}");
            Some(128 + num)
        }
    }
}
