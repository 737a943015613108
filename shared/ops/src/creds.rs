//! `uis-db-creds`: the login of an app's role or of the PostgreSQL
//! superuser (frictions F2, F6, C.1), or the list of configured apps. Only
//! reads: the admin Secret chain and the app's credential-store Secret.
//!
//! The formats themselves are [`uis_core::creds`]: this module finds the
//! values.

use crate::session::Session;
use uis_core::Failure;
pub use uis_core::creds::{Creds, Format};
use uis_core::error::Phase;

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
    let loc = session.locator.clone();
    let local = loc.local.clone();
    let in_cluster = (loc.cluster_host(), loc.port);
    if opts.admin {
        let database = match &opts.app {
            Some(a) => session.app(a)?.database,
            None => "postgres".to_string(),
        };
        let admin = session.admin()?;
        return Ok(Creds {
            app: opts.app.clone(),
            role: "admin".into(),
            username: admin.user,
            password: admin.password,
            database,
            local,
            cluster: in_cluster,
            source: admin.source,
        });
    }
    let Some(app) = opts.app.clone() else {
        return Err(Failure::usage(
            "give APP (e.g. `uis-db-creds railway`), or --admin for the superuser",
        ));
    };
    let rec = session.app(&app)?;
    let kind = opts.role.clone().unwrap_or_else(|| "owner".into());
    let username = rec.resolve_role(&kind);
    let Some(password) = rec.passwords.get(&username).cloned() else {
        let known: Vec<&str> = rec.passwords.keys().map(String::as_str).collect();
        return Err(Failure::new(
            Phase::Store,
            format!(
                "no stored password for role {username:?} of app {app:?} (stored: {})",
                known.join(", ")
            ),
        )
        .hint(format!(
            "roles get stored passwords when the suite creates them: `uis db configure {app} --with-roles postgrest` or `uis postgrest deploy {app}`"
        )));
    };
    Ok(Creds {
        app: Some(app.clone()),
        role: kind,
        source: format!(
            "Secret {}/{} key password.{}",
            loc.namespace,
            uis_kube::store::secret_name(&app),
            username
        ),
        username,
        password,
        database: rec.database.clone(),
        local,
        cluster: in_cluster,
    })
}
