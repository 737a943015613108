//! Pod port-forward and exec over WebSocket (`v5.channel.k8s.io` /
//! `v4.channel.k8s.io`), framed as the kubelet does: every binary message is
//! `[channel, payload...]`. Port-forward bridges data channel 2i of port i
//! to a configured TCP target (after the 3-byte port headers on channels 2i
//! and 2i+1); exec runs the command on the host for exec-enabled pods, with
//! channels 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, 255 close.
//! With `tty=true` the command gets a real pseudo-terminal (its own session,
//! the terminal as its controlling one, so Ctrl-C from the client is a
//! SIGINT), and resize messages (`{"Width":..,"Height":..}`) set its size.
//! Tunnel faults (drop after N bytes, per-frame latency) are applied here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, frame::coding::CloseCode};

use crate::faults::Faults;
use crate::server::{Body, Query, Shared, error_response};
use crate::util::ApiError;

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Handles `pods/{name}/exec` and `pods/{name}/portforward`.
pub async fn handle(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    ns: &str,
    pod: &str,
    sub: &str,
    query: &Query,
) -> Response<Body> {
    let pod_obj = {
        let st = shared.store();
        st.resource("", "v1", "pods")
            .and_then(|r| st.get(&r, ns, pod).cloned())
    };
    let Some(pod_obj) = pod_obj else {
        return error_response(&ApiError::not_found("pods", pod));
    };
    let h = req.headers();
    let hv = |k: &str| {
        h.get_all(k)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
    };
    if !hv("upgrade").to_ascii_lowercase().contains("websocket") {
        return error_response(&ApiError::bad_request(
            "Upgrade request required (the stand-in speaks WebSocket only, not SPDY)",
        ));
    }
    let offered: Vec<String> = hv("sec-websocket-protocol")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let proto = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
        .into_iter()
        .find(|p| offered.iter().any(|o| o == p));
    let Some(proto) = proto else {
        return error_response(&ApiError::bad_request(
            "no supported subprotocol offered (v5.channel.k8s.io, v4.channel.k8s.io)",
        ));
    };
    let Some(key) = h.get("sec-websocket-key").map(|k| k.as_bytes().to_vec()) else {
        return error_response(&ApiError::bad_request("missing Sec-WebSocket-Key"));
    };
    let uid = pod_obj["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let faults = shared.faults.clone();
    let session: Box<dyn FnOnce(Ws) -> futures::future::BoxFuture<'static, ()> + Send> = if sub
        == "portforward"
    {
        let mut ports = Vec::new();
        for p in query.all("ports").iter().flat_map(|p| {
            p.split(',')
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        }) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => ports.push(n),
                _ => return error_response(&ApiError::bad_request(format!("invalid port {p:?}"))),
            }
        }
        if ports.is_empty() {
            return error_response(&ApiError::bad_request(
                "at least one port must be specified",
            ));
        }
        let targets: Vec<Option<SocketAddr>> = {
            let f = shared.forwards.lock().unwrap_or_else(|e| e.into_inner());
            ports
                .iter()
                .map(|p| f.get(&(ns.to_string(), pod.to_string(), *p)).copied())
                .collect()
        };
        let desc = (ns.to_string(), pod.to_string(), uid);
        Box::new(move |ws| Box::pin(portforward(ws, ports, targets, faults, desc)))
    } else {
        let env = shared
            .exec_env
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(ns.to_string(), pod.to_string()))
            .cloned();
        let Some(mut env) = env else {
            return error_response(&ApiError::new(
                403,
                "Forbidden",
                format!(
                    "pods \"{pod}\" is forbidden: exec is not supported by the stand-in for this pod (it is not exec-enabled)"
                ),
            ));
        };
        let ports: Vec<(u16, SocketAddr)> = {
            let f = shared.forwards.lock().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<(u16, SocketAddr)> = f
                .iter()
                .filter(|((n, p, _), _)| n == ns && p == pod)
                .map(|((_, _, port), to)| (*port, *to))
                .collect();
            v.sort();
            v
        };
        env.extend(crate::pod_net::exec_env(&shared.shim_dir, &ports));
        let command = query.all("command");
        if command.is_empty() {
            return error_response(&ApiError::bad_request(
                "you must specify at least 1 command",
            ));
        }
        let opts = ExecOpts {
            stdin: query.flag("stdin"),
            tty: query.flag("tty"),
            v5: proto.starts_with("v5"),
        };
        Box::new(move |ws| Box::pin(exec(ws, command, env, opts)))
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(up) = on_upgrade.await {
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(up), Role::Server, None).await;
            session(ws).await;
        }
    });
    let mut resp = Response::new(
        Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let hdr = resp.headers_mut();
    let val = |s: &str| {
        hyper::header::HeaderValue::from_str(s)
            .unwrap_or(hyper::header::HeaderValue::from_static(""))
    };
    hdr.insert("connection", val("Upgrade"));
    hdr.insert("upgrade", val("websocket"));
    hdr.insert(
        "sec-websocket-accept",
        val(&tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key)),
    );
    hdr.insert("sec-websocket-protocol", val(proto));
    resp
}

fn frame(ch: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Message::Binary(v.into())
}

/// Spawns the task owning the write half; it closes the socket properly
/// (flushing any Close) when every sender is gone.
fn writer(
    sink: futures::stream::SplitSink<Ws, Message>,
) -> (mpsc::UnboundedSender<Message>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let task = tokio::spawn(async move {
        let mut sink = sink;
        while let Some(m) = rx.recv().await {
            let is_close = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() {
                return;
            }
            if is_close {
                break;
            }
        }
        let _ = sink.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
    });
    (tx, task)
}

/// Counts tunnel bytes against the drop fault; returns how many of `n`
/// bytes may still pass and whether the tunnel must drop afterwards.
fn budget(faults: &Faults, count: &AtomicU64, n: usize) -> (usize, bool) {
    let before = count.fetch_add(n as u64, Ordering::SeqCst);
    match faults.drop_tunnel_after() {
        Some(limit) if before + n as u64 >= limit => {
            ((limit.saturating_sub(before) as usize).min(n), true)
        }
        _ => (n, false),
    }
}

async fn portforward(
    ws: Ws,
    ports: Vec<u16>,
    targets: Vec<Option<SocketAddr>>,
    faults: Faults,
    desc: (String, String, String),
) {
    let (sink, mut stream) = ws.split();
    let (tx, writer_task) = writer(sink);
    let (ns, pod, uid) = desc;
    let drop_now = Arc::new(Notify::new());
    let count = Arc::new(AtomicU64::new(0));
    let mut writers: Vec<Option<tokio::net::tcp::OwnedWriteHalf>> = Vec::new();
    let mut tasks = Vec::new();
    let (eof_tx, mut eof_rx) = mpsc::unbounded_channel::<usize>();
    let mut open = 0usize;
    for (i, port) in ports.iter().enumerate() {
        let [lo, hi] = port.to_le_bytes();
        let _ = tx.send(frame((2 * i) as u8, &[lo, hi]));
        let _ = tx.send(frame((2 * i + 1) as u8, &[lo, hi]));
    }
    for (i, (port, target)) in ports.iter().zip(targets).enumerate() {
        let err_ch = (2 * i + 1) as u8;
        let conn = match target {
            Some(addr) => tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("dial tcp4 {addr}: connect: {e}")),
            None => Err(format!(
                "dial tcp4 127.0.0.1:{port}: connect: connection refused"
            )),
        };
        match conn {
            Err(e) => {
                let msg = format!(
                    "error forwarding port {port} to pod {uid}, uid : failed to connect to localhost:{port} inside namespace \"{ns}/{pod}\", IPv4: {e} "
                );
                let _ = tx.send(frame(err_ch, msg.as_bytes()));
                writers.push(None);
            }
            Ok(sock) => {
                let _ = sock.set_nodelay(true);
                let (mut rd, wr) = sock.into_split();
                writers.push(Some(wr));
                open += 1;
                let (tx, faults, count, drop_now, eof_tx) = (
                    tx.clone(),
                    faults.clone(),
                    count.clone(),
                    drop_now.clone(),
                    eof_tx.clone(),
                );
                let ch = (2 * i) as u8;
                tasks.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; 32 * 1024];
                    loop {
                        match rd.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                let lat = faults.frame_latency();
                                if !lat.is_zero() {
                                    tokio::time::sleep(lat).await;
                                }
                                let (pass, drop) = budget(&faults, &count, n);
                                if pass > 0 && tx.send(frame(ch, &buf[..pass])).is_err() {
                                    break;
                                }
                                if drop {
                                    drop_now.notify_one();
                                    return;
                                }
                            }
                        }
                    }
                    let _ = eof_tx.send(i);
                }));
            }
        }
    }
    drop(eof_tx);
    let mut closing = false;
    let mut eofs = 0usize;
    let abrupt = loop {
        tokio::select! {
            _ = drop_now.notified() => break true,
            Some(_) = eof_rx.recv(), if !closing => {
                eofs += 1;
                if eofs >= open && open > 0 {
                    closing = true;
                    let _ = tx.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() })));
                }
            }
            msg = stream.next() => match msg {
                None | Some(Err(_)) => break false,
                Some(Ok(Message::Close(_))) => break false,
                Some(Ok(Message::Binary(b))) if b.len() > 1 => {
                    let ch = b[0] as usize;
                    if !ch.is_multiple_of(2) { continue; }
                    let Some(Some(w)) = writers.get_mut(ch / 2) else { continue };
                    let lat = faults.frame_latency();
                    if !lat.is_zero() {
                        tokio::time::sleep(lat).await;
                    }
                    let (pass, drop) = budget(&faults, &count, b.len() - 1);
                    if pass > 0 && w.write_all(&b[1..1 + pass]).await.is_err() {
                        writers[ch / 2] = None;
                    }
                    if drop {
                        break true;
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    };
    for t in &tasks {
        t.abort();
    }
    if abrupt {
        writer_task.abort();
        drop(stream);
        return;
    }
    drop(writers);
    drop(tx);
    // Keep reading so tungstenite completes the close handshake, then let
    // the writer flush it.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), writer_task).await;
}

struct ExecOpts {
    stdin: bool,
    tty: bool,
    v5: bool,
}

fn status_failure(message: String, reason: &str, causes: Value) -> Value {
    json!({"metadata": {}, "status": "Failure", "message": message, "reason": reason, "details": {"causes": causes}})
}

async fn exec(ws: Ws, command: Vec<String>, env: Vec<(String, String)>, opts: ExecOpts) {
    let (sink, mut stream) = ws.split();
    let (tx, writer_task) = writer(sink);
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..]).envs(env).kill_on_drop(true);
    let pty = if opts.tty {
        match open_pty(&mut cmd) {
            Ok(master) => Some(master),
            Err(e) => {
                let msg = format!(
                    "Internal error occurred: the stand-in could not open a pseudo-terminal: {e}"
                );
                let mut st =
                    status_failure(msg.clone(), "InternalError", json!([{"message": msg}]));
                st["code"] = json!(500);
                let _ = tx.send(frame(3, st.to_string().as_bytes()));
                let _ = tx.send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                })));
                drop(tx);
                let _ = tokio::time::timeout(Duration::from_secs(2), writer_task).await;
                return;
            }
        }
    } else {
        cmd.stdin(if opts.stdin {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        None
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let msg = format!(
                "Internal error occurred: error executing command in container: failed to exec in container: starting container process caused: exec: \"{}\": {e}",
                command[0]
            );
            let st = status_failure(msg.clone(), "InternalError", json!([{"message": msg}]));
            let mut st = st;
            st["code"] = json!(500);
            let _ = tx.send(frame(3, st.to_string().as_bytes()));
            let _ = tx.send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })));
            drop(tx);
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(_)) = stream.next().await {}
            })
            .await;
            let _ = tokio::time::timeout(Duration::from_secs(2), writer_task).await;
            return;
        }
    };
    // The parent's copies of the terminal's child side go with `cmd`, so
    // reading the master side ends (EIO) once the process and its
    // children have closed theirs.
    drop(cmd);
    type Reader = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
    type Writer = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;
    let (mut stdin, out, err): (Option<Writer>, Option<Reader>, Option<Reader>) = match &pty {
        Some(master) => {
            let reader = master.try_clone().map(std::fs::File::from);
            let writer = master.try_clone().map(std::fs::File::from);
            match (reader, writer) {
                (Ok(r), Ok(w)) => (
                    opts.stdin
                        .then(|| Box::new(tokio::fs::File::from_std(w)) as Writer),
                    Some(Box::new(tokio::fs::File::from_std(r)) as Reader),
                    None,
                ),
                _ => (None, None, None),
            }
        }
        None => (
            child.stdin.take().map(|w| Box::new(w) as Writer),
            child.stdout.take().map(|r| Box::new(r) as Reader),
            child.stderr.take().map(|r| Box::new(r) as Reader),
        ),
    };
    let err_ch = if opts.tty { 1 } else { 2 };
    let pump = |r: Option<Reader>, ch: u8, tx: mpsc::UnboundedSender<Message>| async move {
        let Some(mut r) = r else { return };
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = r.read(&mut buf).await {
            if n == 0 || tx.send(frame(ch, &buf[..n])).is_err() {
                break;
            }
        }
    };
    let proc_tx = tx.clone();
    let done = Arc::new(Notify::new());
    let done2 = done.clone();
    let proc_task = tokio::spawn(async move {
        tokio::join!(
            pump(out, 1, proc_tx.clone()),
            pump(err, err_ch, proc_tx.clone())
        );
        let status = match child.wait().await {
            Ok(s) if s.success() => json!({"metadata": {}, "status": "Success"}),
            Ok(s) => {
                let code = s.code().unwrap_or(
                    128 + std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(0),
                );
                status_failure(
                    format!(
                        "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                        command.join(" ")
                    ),
                    "NonZeroExitCode",
                    json!([{"reason": "ExitCode", "message": code.to_string()}]),
                )
            }
            Err(e) => status_failure(
                format!("error waiting for command: {e}"),
                "InternalError",
                json!([]),
            ),
        };
        let _ = proc_tx.send(frame(3, status.to_string().as_bytes()));
        let _ = proc_tx.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })));
        done2.notify_one();
    });
    let finished = loop {
        tokio::select! {
            _ = done.notified() => break true,
            msg = stream.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break false,
                Some(Ok(Message::Binary(b))) if !b.is_empty() => match b[0] {
                    0 => {
                        if let Some(w) = stdin.as_mut()
                            && w.write_all(&b[1..]).await.is_err() {
                                stdin = None;
                            }
                    }
                    4 => {
                        if let Some(master) = &pty {
                            resize(master, &b[1..]);
                        }
                    }
                    255 if opts.v5 && b.get(1) == Some(&0) => {
                        if let Some(mut w) = stdin.take() {
                            let _ = w.shutdown().await;
                        }
                    }
                    _ => {}
                },
                Some(Ok(_)) => {}
            },
        }
    };
    drop(stdin);
    drop(tx);
    if !finished {
        proc_task.abort();
        writer_task.abort();
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), writer_task).await;
}

/// Opens a pseudo-terminal and sets `cmd` up to run on it: its child side
/// as stdin, stdout and stderr, in a new session whose controlling
/// terminal it is. Returns the master side (80x24 until resized).
fn open_pty(cmd: &mut tokio::process::Command) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags, open};
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let child_side = open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rustix::termios::tcsetwinsize(
        &master,
        rustix::termios::Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )?;
    cmd.stdin(child_side.try_clone()?)
        .stdout(child_side.try_clone()?)
        .stderr(child_side);
    // SAFETY: between fork and exec only async-signal-safe system calls
    // are made (setsid, ioctl), with no allocation.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::setsid()?;
            rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())?;
            Ok(())
        });
    }
    Ok(master)
}

/// Applies a resize message (`{"Width":..,"Height":..}`) to the terminal.
fn resize(master: &std::os::fd::OwnedFd, msg: &[u8]) {
    let Ok(size) = serde_json::from_slice::<Value>(msg) else {
        return;
    };
    let dim = |k: &str| size[k].as_u64().and_then(|v| u16::try_from(v).ok());
    if let (Some(cols), Some(rows)) = (dim("Width"), dim("Height")) {
        let _ = rustix::termios::tcsetwinsize(
            master,
            rustix::termios::Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        );
    }
}
