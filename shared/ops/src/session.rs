//! One command's connection to the world: the tokio runtime, the cluster
//! client (made on first use), the PostgreSQL locator, and the endpoint the
//! sync `postgres` client connects to (a tunnel opened on first use, or the
//! `--direct` address).
//!
//! The runtime is multi-threaded so the tunnel keeps forwarding on its worker
//! threads while the caller's thread runs the sync client (the runtime rule of
//! rust-stack.md: never create, use or drop a `postgres::Client` inside
//! `block_on`).

use crate::pg::{Endpoint, Login};
use std::future::Future;
use std::net::SocketAddr;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_kube::locate::{Admin, Locator};
use uis_kube::store::{self, AppRecord};
use uis_kube::tunnel::Tunnel;
use uis_kube::{Cluster, ClusterConfig};

pub struct Session {
    rt: tokio::runtime::Runtime,
    cluster_config: ClusterConfig,
    cluster: Option<Cluster>,
    pub locator: Locator,
    admin: Option<Admin>,
    tunnel: Option<(Tunnel, String)>,
}

impl Session {
    /// A session for `cluster_config` and `locator`; nothing is contacted
    /// yet.
    ///
    /// Errors: phase `internal` when the tokio runtime cannot start.
    pub fn new(cluster_config: ClusterConfig, locator: Locator) -> Result<Session, Failure> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failure::new(Phase::Internal, format!("cannot start the runtime: {e}")))?;
        Ok(Session {
            rt,
            cluster_config,
            cluster: None,
            locator,
            admin: None,
            tunnel: None,
        })
    }

    /// Runs async work on the session's runtime. Never call the sync
    /// `postgres` client inside `f`.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The cluster client, made on first use.
    pub fn cluster(&mut self) -> Result<Cluster, Failure> {
        if self.cluster.is_none() {
            let c = self.rt.block_on(Cluster::connect(&self.cluster_config))?;
            self.cluster = Some(c);
        }
        Ok(self.cluster.clone().expect("set above"))
    }

    /// The superuser login (password from the admin Secret chain).
    pub fn admin(&mut self) -> Result<Admin, Failure> {
        if self.admin.is_none() {
            let cluster = self.cluster()?;
            let admin = self.rt.block_on(self.locator.admin(&cluster))?;
            self.admin = Some(admin);
        }
        Ok(self.admin.clone().expect("set above"))
    }

    /// The app's record in the credential store, or the `configure` hint.
    pub fn app(&mut self, app: &str) -> Result<AppRecord, Failure> {
        self.app_opt(app)?.ok_or_else(|| {
            Failure::new(
                Phase::Store,
                format!(
                    "app {app:?} is not configured (no Secret {}/{})",
                    self.locator.namespace,
                    store::secret_name(app)
                ),
            )
            .hint(format!(
                "create its database first: `uis db configure {app}`"
            ))
        })
    }

    /// The app's record, `None` when never configured.
    pub fn app_opt(&mut self, app: &str) -> Result<Option<AppRecord>, Failure> {
        let cluster = self.cluster()?;
        let ns = self.locator.namespace.clone();
        self.rt.block_on(store::read(&cluster, &ns, app))
    }

    /// Where the sync client connects: `--direct`, or the tunnel (opened on
    /// first use, on a free local port).
    pub fn endpoint(&mut self) -> Result<Endpoint, Failure> {
        self.endpoint_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Like [`Session::endpoint`], with the tunnel listening on `bind`.
    pub fn endpoint_on(&mut self, bind: SocketAddr) -> Result<Endpoint, Failure> {
        if let Some((host, port)) = &self.locator.direct {
            return Ok(Endpoint {
                host: host.clone(),
                port: *port,
            });
        }
        if self.tunnel.is_none() {
            let cluster = self.cluster()?;
            let pod = self.rt.block_on(self.locator.pod(&cluster))?;
            let ns = self.locator.namespace.clone();
            let port = self.locator.port;
            let tunnel = self
                .rt
                .block_on(async { Tunnel::open(&cluster, &ns, &pod, port, bind).await })?;
            self.tunnel = Some((tunnel, pod));
        }
        let (t, _) = self.tunnel.as_ref().expect("set above");
        Ok(Endpoint {
            host: t.addr().ip().to_string(),
            port: t.addr().port(),
        })
    }

    /// Describes the path to the database for messages.
    pub fn via(&self) -> String {
        match (&self.locator.direct, &self.tunnel) {
            (Some((h, p)), _) => format!("at {h}:{p} (--direct)"),
            (None, Some((_, pod))) => format!(
                "through the port-forward to pod {}/{pod}",
                self.locator.namespace
            ),
            _ => "through the port-forward".to_string(),
        }
    }

    /// Connects the sync client as `login`, explaining failures (including
    /// the port-forward's own error when the tunnel broke).
    pub fn connect(
        &mut self,
        login: &Login,
        application_name: &str,
    ) -> Result<postgres::Client, Failure> {
        let ep = self.endpoint()?;
        self.connect_config(&crate::pg::config(&ep, login, application_name), login)
    }

    /// Connects with a configuration the caller built (from
    /// [`crate::pg::config`] at [`Session::endpoint`], with a notice channel,
    /// say), explaining failures like [`Session::connect`].
    pub fn connect_config(
        &self,
        config: &postgres::Config,
        login: &Login,
    ) -> Result<postgres::Client, Failure> {
        crate::pg::connect_config(config, login, &self.via()).map_err(|mut f| {
            // Exit 2 is a connection that never reached PostgreSQL (not a
            // refusal by the server): the port-forward may know why.
            if f.code == 2
                && let Some((t, _)) = &self.tunnel
                && let Some(pf) = t.last_error()
            {
                f.detail = format!("{}; {pf}", f.detail);
            }
            f
        })
    }

    /// A superuser connection to `database`.
    pub fn connect_admin(
        &mut self,
        database: &str,
        application_name: &str,
    ) -> Result<postgres::Client, Failure> {
        let admin = self.admin()?;
        let login = Login {
            user: admin.user,
            password: admin.password,
            database: database.to_string(),
        };
        self.connect(&login, application_name)
    }

    /// The login for `--as owner|admin|ROLE`: the superuser (for the app's
    /// database, `database`, or `postgres` without an app), or a role whose
    /// password the app's credential store holds (`owner` by default).
    pub fn login_as(
        &mut self,
        app: Option<&str>,
        as_role: &str,
        database: Option<&str>,
    ) -> Result<Login, Failure> {
        uis_core::app::validate_ident("--as", as_role)?;
        if as_role == "admin" {
            let admin = self.admin()?;
            let database = match (database, app) {
                (Some(d), _) => d.to_string(),
                (None, Some(app)) => self.app(app)?.database,
                (None, None) => "postgres".to_string(),
            };
            return Ok(Login {
                user: admin.user,
                password: admin.password,
                database,
            });
        }
        let Some(app) = app else {
            return Err(Failure::usage(format!(
                "give APP to run as {as_role:?}, or --as admin for the superuser"
            )));
        };
        let rec = self.app(app)?;
        let user = rec.resolve_role(as_role);
        let password = rec.passwords.get(&user).cloned().ok_or_else(|| {
            let stored: Vec<&str> = rec.passwords.keys().map(String::as_str).collect();
            Failure::new(
                Phase::Store,
                format!("no stored password for role {user:?} of app {app:?} (stored: {})", stored.join(", ")),
            )
            .hint(format!("run as the owner (default) or the superuser: --as admin (`uis db creds {app} --role ROLE` lists what is stored)"))
        })?;
        Ok(Login {
            user,
            password,
            database: database.map(str::to_string).unwrap_or(rec.database),
        })
    }

    /// Whether `user` can log in with `password` (a stored password still
    /// matches the role).
    pub fn login_works(&mut self, user: &str, password: &str, database: &str) -> bool {
        let login = Login {
            user: user.to_string(),
            password: password.to_string(),
            database: database.to_string(),
        };
        self.connect(&login, "uis-login-check").is_ok()
    }
}
