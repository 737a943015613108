//! `uis-db-creds`: the login of an app's role or of the PostgreSQL
//! superuser (frictions F2, F6, C.1), or the list of configured apps. Only
//! reads: the admin Secret chain and the app's credential-store Secret.
//!
//! The formats themselves are [`uis_core::creds`]: this module finds the
//! values.

use crate::session::{Session, Who};
use uis_core::Failure;
pub use uis_core::creds::{Creds, Format, TlsParams, shell_quote};

/// What `uis-db-creds` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The app; `None` only with `admin` (the superuser on `postgres`).
    pub app: Option<String>,
    /// The superuser instead of an app role.
    pub admin: bool,
    /// `owner` (default), a role kind of the app, or a stored role's name.
    pub role: Option<String>,
}

/// The names of the configured apps (Secrets the suite labelled in the
/// database namespace), sorted.
///
/// Errors: the API call's [`Failure`] (phase `cluster`).
pub fn list(session: &mut Session) -> Result<Vec<String>, Failure> {
    let cluster = session.cluster()?;
    let ns = session.locator.namespace.clone();
    session.block_on(uis_kube::store::list(&cluster, &ns))
}

/// The login `opts` asks for, at the local and the in-cluster address.
///
/// Errors: phase `usage` (exit 2) without an app or `admin`; `store` when
/// the app is not configured or holds no password for the role; `locate`
/// when no admin Secret has the superuser password; `cluster` for API
/// failures.
pub fn run(session: &mut Session, opts: &Options) -> Result<Creds, Failure> {
    if !opts.admin && opts.app.is_none() {
        return Err(Failure::usage(
            "give APP (e.g. `uis-db-creds railway`), or --admin for the superuser",
        ));
    }
    // The provider resolved first: its Service is the in-cluster address.
    session.cluster()?;
    let loc = session.locator.clone();
    let who = match (opts.admin, &opts.role) {
        (true, _) => Who::Admin,
        (false, role) => Who::Role(role.clone().unwrap_or_else(|| "owner".into())),
    };
    let found = session.login_for(opts.app.as_deref(), &who, None)?;
    Ok(Creds {
        app: opts.app.clone(),
        role: found.kind,
        username: found.login.user,
        password: found.login.password,
        database: found.login.database,
        local: loc.local.clone(),
        cluster: (loc.cluster_host(), loc.port),
        source: found.source,
        tls: TlsParams::from_options(&loc.tls),
    })
}
