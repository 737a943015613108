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

/// Who psql in the pod logs in as: user, database, the server's port in
/// the pod (5432; StackGres 5433, behind PgBouncer on 5432), and the
/// password (sent on stdin, never in argv).
/// No `Debug`: it holds the password.
#[derive(Clone, Copy)]
pub struct PodLogin<'a> {
    pub user: &'a str,
    pub database: &'a str,
    pub port: u16,
    pub password: &'a str,
}

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
/// the session (put back on every way out, before anything more is
/// printed: the end, a lost connection, a closed output pipe, an error, a
/// panic (its message is printed after), SIGTERM/SIGHUP/SIGINT/SIGQUIT,
/// which return 128 + the signal), so keys (Ctrl-C and Ctrl-D included)
/// go to psql as bytes; the terminal's size is sent at the start and on
/// every SIGWINCH. A non-zero exit code of psql is said on stderr, as
/// kubectl's "command terminated with exit code N"; a closed output pipe
/// (`| head`) ends the session with 0.
///
/// Errors: phase `cluster` when exec is refused; `exec` when the stream
/// lacks stdin/stdout, the shell does not start within 30 s, a write
/// fails, or the connection to the API server breaks during the session
/// (kubectl exits 1 there too).
pub async fn psql_in_pod(
    cluster: &Cluster,
    ns: &str,
    pod: &str,
    login: PodLogin<'_>,
    psql_args: &[String],
) -> Result<i32, Failure> {
    let PodLogin {
        user,
        database,
        port,
        password,
    } = login;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    // The password travels as the first line of stdin, never in argv. The
    // pod's terminal would echo it: the script turns echo off first and
    // says so with a marker line, and only then is the password sent.
    let script = "stty -echo 2>/dev/null; echo UIS-READY; IFS= read -r PGPASSWORD; stty echo 2>/dev/null; export PGPASSWORD; u=$1 d=$2 p=$3; shift 3; exec psql -h 127.0.0.1 -p \"$p\" -U \"$u\" -d \"$d\" \"$@\"";
    let port = port.to_string();
    // psql's own arguments (`-v NAME=VALUE`) follow as positional
    // parameters, so no value is ever parsed by the pod's shell.
    let mut cmd = vec!["sh", "-c", script, "sh", user, database, port.as_str()];
    cmd.extend(psql_args.iter().map(String::as_str));
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
    // The window's size first, so the pod's terminal has it before psql
    // starts (kubectl sends it once its stream is up, and a command may see
    // 80x24 for a moment).
    let mut resize = attached.terminal_size();
    if let Some(tx) = resize.as_mut()
        && let Some(size) = local_size()
    {
        let _ = tx.send(size).await;
    }
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
    // Keys go to the pod from a task of their own: a write to a stream
    // whose connection is gone never completes, and must not hold up the
    // loop that notices it is gone.
    let keys = read_stdin_on_a_thread();
    let forward = tokio::spawn(forward_keys(keys, stdin));
    let end = interrupted(attached_session(&mut stdout, &mut out, resize, status)).await;
    forward.abort();
    // Messages from here on go to a terminal in its own mode again.
    drop(raw);
    match end {
        End::Exited(code) => {
            if code != 0 {
                // As kubectl's "command terminated with exit code N".
                eprintln!("uis: psql in pod {ns}/{pod} ended with exit code {code}");
            }
            Ok(code)
        }
        // Nobody reads the output any more (`| head`): a broken pipe is
        // not a failure (STYLE.md); psql in the pod ends with the stream.
        End::OutputClosed => Ok(0),
        End::Signal(signal) => {
            // The cursor is where psql left it, often after its prompt.
            eprintln!("\nuis: {}: left psql in pod {ns}/{pod}", signal.name);
            Ok(128 + signal.number)
        }
        End::Lost => {
            let why = match tokio::time::timeout(std::time::Duration::from_secs(2), attached.join())
                .await
            {
                Ok(Err(e)) => format!(": {e}"),
                _ => String::new(),
            };
            // The error goes on a line of its own, not after psql's prompt.
            eprintln!();
            Err(Failure::new(
                Phase::Exec,
                format!("the connection to the Kubernetes API closed during the session with psql in pod {ns}/{pod}{why}"),
            )
            .hint(format!(
                "run the command again; `kubectl get pod -n {ns} {pod}` shows whether the pod is still there"
            )))
        }
    }
}

/// How an attached session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// psql in the pod ended with this exit code (0 also when the API
    /// server closed the stream without a status, as kubectl takes it).
    Exited(i32),
    /// The connection to the API server broke before psql ended.
    Lost,
    /// Writing psql's output here failed (a closed pipe).
    OutputClosed,
    /// This signal came to this process.
    Signal(Signal),
}

/// A signal that ends the session, as kubectl's terminal handling takes
/// them (SIGHUP, SIGINT, SIGQUIT, SIGTERM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Signal {
    /// Its number (POSIX: the same on Linux and macOS).
    number: i32,
    /// Its name, as `kill -l` spells it with `SIG` in front.
    name: &'static str,
}

/// The exit code in the stream's closing Status: 0 for `Success`, the
/// `ExitCode` cause for `NonZeroExitCode`, else 1.
fn exit_code(st: k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> i32 {
    if st.status.as_deref() == Some("Success") {
        return 0;
    }
    st.details
        .and_then(|d| d.causes)
        .and_then(|c| {
            c.into_iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message)
        .and_then(|m| m.parse().ok())
        .unwrap_or(1)
}

/// Sends each chunk of keys to the pod's stdin; closes it at the end of
/// local input.
async fn forward_keys(
    mut keys: tokio::sync::mpsc::Receiver<Vec<u8>>,
    mut stdin: impl AsyncWrite + Unpin,
) {
    while let Some(chunk) = keys.recv().await {
        if stdin.write_all(&chunk).await.is_err() {
            return;
        }
    }
    let _ = stdin.shutdown().await;
}

/// The local terminal (stdin) in raw mode while this lives; `None` when
/// stdin is not a terminal. Dropping it puts back the settings it found.
/// While it lives, a panic puts them back before its message is printed
/// (the message would otherwise go to a raw terminal, each line starting
/// where the last one ended).
struct RawTerminal {
    saved: std::sync::Arc<std::sync::Mutex<Option<rustix::termios::Termios>>>,
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
        let saved = std::sync::Arc::new(std::sync::Mutex::new(Some(saved)));
        let for_panic = saved.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore(&for_panic);
            previous(info)
        }));
        tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(Self { saved })
    }
}

/// Puts back the settings in `saved`, once (the first caller takes them).
fn restore(saved: &std::sync::Mutex<Option<rustix::termios::Termios>>) {
    use rustix::termios::{OptionalActions, tcsetattr};
    let taken = saved.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(t) = taken {
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &t);
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        restore(&self.saved);
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

/// Bridges the session until it ends: output to the terminal, and the
/// terminal's size on every SIGWINCH. It ends when psql's status comes
/// (after the output before it is written), when the stream ends, or
/// when the connection to the API server breaks: kube's stream then
/// neither ends the output nor sends a status, so a status channel that
/// closes while the output stays open is the sign.
async fn attached_session(
    stdout: &mut (impl AsyncRead + Unpin),
    out: &mut (impl AsyncWrite + Unpin),
    mut resize: Option<futures::channel::mpsc::Sender<TerminalSize>>,
    status: Option<
        impl Future<Output = Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>>,
    >,
) -> End {
    use futures::FutureExt;
    use tokio::signal::unix::{SignalKind, signal};
    let mut winch = signal(SignalKind::window_change()).ok();
    let mut status = match status {
        Some(s) => s.boxed_local(),
        None => std::future::pending().boxed_local(),
    };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            n = stdout.read(&mut buf) => match n {
                Ok(0) | Err(_) => {
                    // The stream's output is over; its status follows at once.
                    return match tokio::time::timeout(std::time::Duration::from_secs(5), status).await {
                        Ok(Some(st)) => End::Exited(exit_code(st)),
                        Ok(None) | Err(_) => End::Exited(0),
                    };
                }
                Ok(n) => {
                    if out.write_all(&buf[..n]).await.is_err() || out.flush().await.is_err() {
                        return End::OutputClosed;
                    }
                }
            },
            st = &mut status => {
                return match st {
                    // psql ended: write what it printed last, up to the end
                    // of the output, which follows the status at once.
                    Some(st) => {
                        let code = exit_code(st);
                        let rest = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                            loop {
                                match stdout.read(&mut buf).await {
                                    Ok(0) | Err(_) => return true,
                                    Ok(n) => {
                                        if out.write_all(&buf[..n]).await.is_err() {
                                            return false;
                                        }
                                    }
                                }
                            }
                        })
                        .await;
                        let _ = out.flush().await;
                        match rest {
                            Ok(false) => End::OutputClosed,
                            _ => End::Exited(code),
                        }
                    }
                    // The stream's task is over with no status: what it
                    // had read is here already; the output ended (a close
                    // without a status) or stays open (a broken connection).
                    None => loop {
                        match stdout.read(&mut buf).now_or_never() {
                            Some(Ok(0)) | Some(Err(_)) => break End::Exited(0),
                            Some(Ok(n)) => {
                                if out.write_all(&buf[..n]).await.is_err() {
                                    break End::OutputClosed;
                                }
                            }
                            None => {
                                let _ = out.flush().await;
                                break End::Lost;
                            }
                        }
                    },
                };
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

/// Runs `session`, unless SIGTERM, SIGHUP, SIGINT or SIGQUIT comes first
/// (the signals kubectl restores the terminal for): then the session is
/// dropped, so the caller restores the terminal and says which signal.
async fn interrupted(session: impl Future<Output = End>) -> End {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        (SignalKind::terminate(), 15, "SIGTERM"),
        (SignalKind::hangup(), 1, "SIGHUP"),
        (SignalKind::interrupt(), 2, "SIGINT"),
        (SignalKind::quit(), 3, "SIGQUIT"),
    ];
    let mut streams = Vec::new();
    for (kind, number, name) in kinds {
        if let Ok(s) = signal(kind) {
            streams.push((s, Signal { number, name }));
        }
    }
    if streams.is_empty() {
        return session.await;
    }
    let any = futures::future::select_all(streams.iter_mut().map(|(s, sig)| {
        Box::pin(async move {
            s.recv().await;
            *sig
        })
    }));
    tokio::select! {
        end = session => end,
        (sig, _, _) = any => End::Signal(sig),
    }
}
