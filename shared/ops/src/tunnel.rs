//! `uis-db-tunnel`: a local port that reaches PostgreSQL through a
//! port-forward over the Kubernetes API, for psql, GUI clients and local
//! tools (frictions F3, C.2); the forwarding itself is `uis_kube::tunnel`.

use crate::session::{Session, Who};
use serde::Serialize;
use std::net::SocketAddr;
use uis_core::Failure;

/// The open tunnel, as printed: where to connect and as whom (the URL
/// holds the password: printing it is this command's job).
#[derive(Debug, Serialize)]
pub struct Report {
    pub app: Option<String>,
    /// `admin`, `owner`, or the role kind or name asked for.
    pub role: String,
    pub username: String,
    pub database: String,
    pub host: String,
    pub port: u16,
    pub database_url: String,
    /// How PostgreSQL is reached (`through a port-forward to pod NS/NAME`).
    pub via: String,
}

/// Opens the local port (127.0.0.1:`port`, 0 for any free one) and resolves
/// the login of `who` for the printed URL. The port forwards until the
/// session is dropped: call [`wait_for_interrupt`] to keep it open.
///
/// Errors: phase `usage` when `--direct` is set (there is nothing to
/// forward); the login's failures (see [`Session::login_for`]); `tunnel`
/// or `locate` when the pod cannot be found or the port not bound.
pub fn open(
    session: &mut Session,
    app: Option<&str>,
    who: &Who,
    port: u16,
) -> Result<Report, Failure> {
    if session.locator.direct.is_some() {
        return Err(Failure::usage(
            "--direct makes no tunnel: connect to that address yourself",
        ));
    }
    let found = session.login_for(app, who, None)?;
    let ep = session.endpoint_on(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let login = found.login;
    let tls = session.tls()?;
    let params = uis_core::creds::TlsParams::from_options(&session.tls_options()?);
    Ok(Report {
        app: app.map(str::to_string),
        role: found.kind,
        database_url: tunnel_url(&login, &ep, &params, tls.server_name()),
        username: login.user,
        database: login.database,
        host: ep.host,
        port: ep.port,
        via: session.via(),
    })
}

/// The URL of the local port, with the TLS settings given. For
/// `verify-full` the host is the name the certificate carries (the
/// Service's) and `hostaddr=` the local address, as libpq reads it
/// (connect to `hostaddr`, check `host`; libpq docs 34.1.2).
fn tunnel_url(
    login: &crate::pg::Login,
    ep: &crate::pg::Endpoint,
    params: &uis_core::creds::TlsParams,
    server_name: &str,
) -> String {
    let full = params.sslmode == Some(uis_core::tls::SslMode::VerifyFull) && server_name != ep.host;
    let host = if full { server_name } else { &ep.host };
    let mut url =
        uis_core::creds::url(&login.user, &login.password, host, ep.port, &login.database);
    let mut query: Vec<String> = Vec::new();
    if full {
        query.push(format!("hostaddr={}", ep.host));
    }
    query.extend(params.url_pairs());
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    url
}

/// Blocks until Ctrl-C or SIGTERM, forwarding meanwhile; returns an error
/// when the tunnel gave up because the pod selector matched no pod for
/// longer than its timeout (`uis_kube::tunnel::NO_POD_TIMEOUT`, or
/// `UIS_TUNNEL_NO_POD_TIMEOUT` seconds).
///
/// Errors: phase `tunnel` when no pod matched for too long.
pub fn wait_for_interrupt(session: &Session) -> Result<(), Failure> {
    let gone = session.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("install SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => None,
                _ = term.recv() => None,
                why = session.tunnel_gone() => Some(why),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => None,
                why = session.tunnel_gone() => Some(why),
            }
        }
    });
    match gone {
        None => Ok(()),
        Some(why) => Err(Failure::new(
            uis_core::error::Phase::Tunnel,
            format!("the tunnel stopped: {why}"),
        )
        .hint(format!(
            "is PostgreSQL deployed and its pods labelled {}? `kubectl get pods -n {} -l {}`; then start the tunnel again",
            session.locator.selector, session.locator.namespace, session.locator.selector
        ))),
    }
}
