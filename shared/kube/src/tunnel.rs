//! The tunnel: a listener on 127.0.0.1 whose every accepted connection opens
//! a new port-forward (WebSocket, through the Kubernetes API) to the database
//! pod. It is the only bridge between the cluster and PostgreSQL: clients
//! (the sync `postgres` crate, psql, a GUI) connect to its local address as
//! if the database were there, and need neither `pods/exec` nor an exposed
//! port.
//!
//! With [`Follow`], the pod is found again (by the locator's selector, a
//! ready pod first) for every new connection, so the tunnel outlives the
//! pod it started with: after the pod is deleted and replaced (same or new
//! name), the next connection reaches the new one. A forward failure is
//! reported on stderr at once (with the pod's name and what to do) when
//! asked, and when the selector matches no pod at all (or, on an
//! operator's cluster, none labelled primary) for longer than
//! [`Follow::no_pod_timeout`] (default [`NO_POD_TIMEOUT`], 60 s; the
//! environment variable `UIS_TUNNEL_NO_POD_TIMEOUT` in seconds overrides it)
//! the tunnel says so through [`Tunnel::gone`] and its owner exits.
//!
//! Runs on the caller's tokio runtime; the sync `postgres` client must be
//! created, used and dropped off that runtime (the `postgres` crate's runtime rule, see `uis_ops::session`),
//! which the binaries do by calling it from their main thread.

use crate::cluster::Cluster;
use crate::locate::Locator;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::error::one_line;

/// A running tunnel; dropping it stops accepting (open connections end when
/// their peers close).
pub struct Tunnel {
    addr: SocketAddr,
    last_error: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
    watcher: Option<tokio::task::JoinHandle<()>>,
    gone: tokio::sync::watch::Receiver<Option<String>>,
}

/// How long the selector may match no pod before a following tunnel gives
/// up (overridden by `UIS_TUNNEL_NO_POD_TIMEOUT`, seconds).
pub const NO_POD_TIMEOUT: Duration = Duration::from_secs(60);

/// Find the pod again for every connection (see the module doc).
#[derive(Debug, Clone)]
pub struct Follow {
    /// Where the pods are and their selector.
    pub locator: Locator,
    /// Print each forward failure on stderr as it happens.
    pub report: bool,
    /// Give up when the selector matched nothing for this long.
    pub no_pod_timeout: Duration,
}

impl Follow {
    /// Following `locator`'s selector, with the timeout from
    /// `UIS_TUNNEL_NO_POD_TIMEOUT` or [`NO_POD_TIMEOUT`].
    pub fn new(locator: &Locator, report: bool) -> Follow {
        let no_pod_timeout = std::env::var("UIS_TUNNEL_NO_POD_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(NO_POD_TIMEOUT);
        Follow {
            locator: locator.clone(),
            report,
            no_pod_timeout,
        }
    }
}

fn say(msg: &str) {
    uis_core::output::note(msg);
}

impl Tunnel {
    /// Listens on `bind` (port 0 for any free port) and forwards to
    /// `pod:port` in `namespace`. Must be called on a multi-thread runtime
    /// that keeps running while the caller works.
    pub async fn open(
        cluster: &Cluster,
        namespace: &str,
        pod: &str,
        port: u16,
        bind: SocketAddr,
        follow: Option<Follow>,
    ) -> Result<Tunnel, Failure> {
        let listener = TcpListener::bind(bind).await.map_err(|e| {
            Failure::new(Phase::Tunnel, format!("cannot listen on {bind}: {e}"))
                .hint("choose another local port with --port")
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::new(Phase::Tunnel, e.to_string()))?;
        let last_error = Arc::new(Mutex::new(None));
        let errors = last_error.clone();
        let pod = pod.to_string();
        let ns = namespace.to_string();
        let (gone_tx, gone) = tokio::sync::watch::channel(None);
        let watcher = follow
            .clone()
            .map(|f| tokio::spawn(watch_selector(cluster.clone(), f, gone_tx)));
        let mut cluster = cluster.clone();
        let task = tokio::spawn(async move {
            let mut last_pod = pod;
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                // A credential near its expiry (exec plugin, token file) is
                // fetched again before the next forward.
                match cluster.fresh().await {
                    Ok(c) => cluster = c,
                    Err(e) => {
                        let msg = format!("cannot renew the cluster credentials: {}", e.detail);
                        if follow.as_ref().is_some_and(|f| f.report) {
                            say(&format!(
                                "uis: {msg}; the connection was closed. {}",
                                e.hint.clone().unwrap_or_default()
                            ));
                        }
                        *errors.lock().expect("not poisoned") = Some(msg);
                        drop(tcp);
                        continue;
                    }
                }
                let target = match &follow {
                    None => last_pod.clone(),
                    Some(f) => match f.locator.pod(&cluster).await {
                        Ok(p) => {
                            if p != last_pod && f.report {
                                say(&format!(
                                    "uis: forwarding new connections to pod {ns}/{p} (was {last_pod})"
                                ));
                            }
                            last_pod = p.clone();
                            p
                        }
                        Err(e) => {
                            // No pod matched (phase locate), or the API
                            // server (or the proxy to it) did not answer.
                            let msg = if e.phase == Phase::Locate {
                                format!("no pod to forward a new connection to: {}", e.detail)
                            } else {
                                format!("cannot look up the pod for a new connection: {}", e.detail)
                            };
                            if f.report {
                                say(&format!(
                                    "uis: {msg}; the connection was closed. {}",
                                    e.hint.clone().unwrap_or_default()
                                ));
                            }
                            *errors.lock().expect("not poisoned") = Some(msg);
                            drop(tcp);
                            continue;
                        }
                    },
                };
                let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &ns);
                let ns = ns.clone();
                let errors = errors.clone();
                let report = follow
                    .as_ref()
                    .map(|f| (f.report, f.locator.selector.clone()));
                let access = cluster.clone();
                tokio::spawn(async move {
                    // The client's connection stays open until the failure
                    // is recorded, so whoever sees it closed can read why.
                    let mut tcp = tcp;
                    if let Err(e) = forward(pods, &target, port, &mut tcp).await {
                        let msg = format!("port-forward to pod {ns}/{target} port {port}: {e}");
                        if let Some((true, selector)) = &report {
                            let advice = match refused_code(&msg) {
                                // The access is refused, not the pod gone.
                                Some(code @ (401 | 403)) => access.refusal_hint(code, &msg),
                                _ => format!(
                                    "if the pod is restarting, the next connection goes to its replacement once it is ready (`kubectl get pods -n {ns} -l {selector}`)"
                                ),
                            };
                            say(&format!("uis: {msg}; {advice}"));
                        }
                        *errors.lock().expect("not poisoned") = Some(msg);
                    }
                    drop(tcp);
                });
            }
        });
        Ok(Tunnel {
            addr,
            last_error,
            task,
            watcher,
            gone,
        })
    }

    /// Resolves with the reason once a following tunnel gave up (the
    /// selector matched no pod for longer than its timeout); never for a
    /// tunnel to a fixed pod.
    pub async fn gone(&self) -> String {
        let mut rx = self.gone.clone();
        loop {
            if let Some(why) = rx.borrow().clone() {
                return why;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The local address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The last port-forward failure, to explain a failed connection.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().expect("not poisoned").clone()
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(w) = &self.watcher {
            w.abort();
        }
    }
}

/// Lists the selector's pods every 2 s; sends the reason when none matched
/// for longer than the timeout. A failed list (the API unreachable) is not
/// "no pod" and does not count.
async fn watch_selector(
    mut cluster: Cluster,
    follow: Follow,
    gone: tokio::sync::watch::Sender<Option<String>>,
) {
    let params = kube::api::ListParams::default().labels(&follow.locator.selector);
    let mut since: Option<Instant> = None;
    loop {
        tokio::time::sleep(
            Duration::from_secs(2).min(follow.no_pod_timeout / 2 + Duration::from_millis(100)),
        )
        .await;
        if let Ok(c) = cluster.fresh().await {
            cluster = c;
        }
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &follow.locator.namespace);
        let Ok(list) = pods.list(&params).await else {
            continue;
        };
        // An operator's pods with none labelled primary (a failover that
        // never finished) leave nothing to forward to either.
        if list.items.iter().any(|p| follow.locator.may_be_primary(p)) {
            since = None;
            continue;
        }
        let start = *since.get_or_insert_with(Instant::now);
        if start.elapsed() >= follow.no_pod_timeout {
            let why = if list.items.is_empty() {
                format!(
                    "no pod in namespace {} has labels {} for {} s",
                    follow.locator.namespace,
                    follow.locator.selector,
                    follow.no_pod_timeout.as_secs()
                )
            } else {
                format!(
                    "no pod with labels {} in namespace {} has been the primary for {} s (`kubectl get pods -n {} -l {} --show-labels`)",
                    follow.locator.selector,
                    follow.locator.namespace,
                    follow.no_pod_timeout.as_secs(),
                    follow.locator.namespace,
                    follow.locator.selector
                )
            };
            let _ = gone.send(Some(why));
            return;
        }
    }
}

async fn forward(pods: Api<Pod>, pod: &str, port: u16, tcp: &mut TcpStream) -> Result<(), String> {
    let mut pf = pods
        .portforward(pod, &[port])
        .await
        .map_err(|e| forward_refused(&e))?;
    let mut upstream = pf
        .take_stream(port)
        .ok_or_else(|| "the port-forward has no stream".to_string())?;
    let mut error = pf.take_error(port).map(Box::pin);
    // An error from the kubelet (nothing listens on the pod's port, ...)
    // ends the forward at once, whatever the server does with the stream.
    let copied = {
        let copy = tokio::io::copy_bidirectional(tcp, &mut upstream);
        tokio::pin!(copy);
        match error.as_mut() {
            Some(err) => tokio::select! {
                c = &mut copy => c,
                msg = err.as_mut() => match msg {
                    Some(msg) => return Err(msg),
                    None => {
                        error = None;
                        copy.await
                    }
                },
            },
            None => copy.await,
        }
    };
    drop(upstream);
    // Closed for the client as before (the caller drops it after
    // recording any failure).
    let _ = tokio::io::AsyncWriteExt::shutdown(tcp).await;
    if let Some(err) = error
        && let Some(msg) = err.await
    {
        return Err(msg);
    }
    let _ = pf.join().await;
    copied.map(|_| ()).map_err(|e| e.to_string())
}

/// A port-forward that could not start, in one line: an answer of the API
/// server as `MESSAGE (HTTP CODE)` (no debug dump of its Status), read back
/// by [`refused_code`]; anything else as the error says it.
fn forward_refused(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => format!(
            "the API server refused it: {} (HTTP {})",
            status.message, status.code
        ),
        other => one_line(other),
    }
}

/// The HTTP code of a port-forward the API server refused (401, 403, ...),
/// from a [`Tunnel::last_error`] text; None when it failed otherwise.
pub fn refused_code(last_error: &str) -> Option<u16> {
    let rest = &last_error[last_error.find("the API server refused it: ")?..];
    let code = rest.rsplit("(HTTP ").next()?.strip_suffix(')')?;
    code.parse().ok()
}
