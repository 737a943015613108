//! The tunnel: a listener on 127.0.0.1 whose every accepted connection opens
//! a new port-forward (WebSocket, through the Kubernetes API) to the database
//! pod. It is the only bridge between the cluster and PostgreSQL: clients
//! (the sync `postgres` crate, psql, a GUI) connect to its local address as
//! if the database were there, and need neither `pods/exec` nor an exposed
//! port.
//!
//! Runs on the caller's tokio runtime; the sync `postgres` client must be
//! created, used and dropped off that runtime (the `postgres` crate's runtime rule, see `uis_ops::session`),
//! which the binaries do by calling it from their main thread.

use crate::cluster::Cluster;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
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
    ) -> Result<Tunnel, Failure> {
        let listener = TcpListener::bind(bind).await.map_err(|e| {
            Failure::new(Phase::Tunnel, format!("cannot listen on {bind}: {e}"))
                .hint("choose another local port with --port")
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::new(Phase::Tunnel, e.to_string()))?;
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
        let last_error = Arc::new(Mutex::new(None));
        let errors = last_error.clone();
        let pod = pod.to_string();
        let ns = namespace.to_string();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let pods = pods.clone();
                let pod = pod.clone();
                let ns = ns.clone();
                let errors = errors.clone();
                tokio::spawn(async move {
                    if let Err(e) = forward(pods, &pod, port, tcp).await {
                        let msg = format!("port-forward to pod {ns}/{pod} port {port}: {e}");
                        *errors.lock().expect("not poisoned") = Some(msg);
                    }
                });
            }
        });
        Ok(Tunnel {
            addr,
            last_error,
            task,
        })
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
    }
}

async fn forward(pods: Api<Pod>, pod: &str, port: u16, mut tcp: TcpStream) -> Result<(), String> {
    let mut pf = pods
        .portforward(pod, &[port])
        .await
        .map_err(|e| one_line(&e))?;
    let mut upstream = pf
        .take_stream(port)
        .ok_or_else(|| "the port-forward has no stream".to_string())?;
    let mut error = pf.take_error(port).map(Box::pin);
    // An error from the kubelet (nothing listens on the pod's port, ...)
    // ends the forward at once, whatever the server does with the stream.
    let copied = {
        let copy = tokio::io::copy_bidirectional(&mut tcp, &mut upstream);
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
    drop(tcp);
    if let Some(err) = error
        && let Some(msg) = err.await
    {
        return Err(msg);
    }
    let _ = pf.join().await;
    copied.map(|_| ()).map_err(|e| e.to_string())
}
