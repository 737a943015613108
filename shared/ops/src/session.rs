//! One command's connection to the world: the tokio runtime, the cluster
//! client (made on first use), the PostgreSQL locator, and the endpoint the
//! sync `postgres` client connects to (a tunnel opened on first use, or the
//! `--direct` address).
//!
//! The runtime is multi-threaded so the tunnel keeps forwarding on its worker
//! threads while the caller's thread runs the sync client (the runtime rule of
//! the `postgres` crate's rule (its `Client` runs its own runtime): never create, use or drop a `postgres::Client` inside
//! `block_on`).

use crate::pg::tls::{Tls, TlsState};
use crate::pg::{Endpoint, Login};
use std::future::Future;
use std::net::SocketAddr;
use uis_core::Failure;
use uis_core::error::Phase;
use uis_kube::locate::{Admin, Locator};
use uis_kube::store::{self, AppRecord};
use uis_kube::tunnel::{Follow, Tunnel};
use uis_kube::{Cluster, ClusterConfig};

/// Whose login a command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The PostgreSQL superuser (`--admin`, `--as admin`).
    Admin,
    /// `owner`, a role kind the app stores (`authenticator`, `readonly`
    /// ...), or a stored role's name.
    Role(String),
}

impl Who {
    /// `admin` is the superuser; anything else a role of the app.
    pub fn parse(s: &str) -> Who {
        if s == "admin" {
            Who::Admin
        } else {
            Who::Role(s.to_string())
        }
    }
}

/// A resolved login and where its password came from (never the value).
#[derive(Clone)]
pub struct AppLogin {
    /// `admin`, `owner`, or the role kind or name asked for.
    pub kind: String,
    pub login: Login,
    /// `Secret NS/NAME key KEY`.
    pub source: String,
}

pub struct Session {
    rt: tokio::runtime::Runtime,
    cluster_config: ClusterConfig,
    cluster: Option<Cluster>,
    pub locator: Locator,
    admin: Option<Admin>,
    tunnel: Option<(Tunnel, String)>,
    /// Print each port-forward failure on stderr as it happens (the
    /// tunnel command; others explain a failed connection instead).
    pub report_forward_errors: bool,
    /// The TLS setup, made with the first endpoint (see [`Session::tls`]),
    /// and the options it was made from (the Secret's CA read).
    tls: Option<(Tls, uis_core::tls::TlsOptions)>,
    /// What TLS the last connection got.
    tls_state: std::sync::Mutex<Option<TlsState>>,
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
            report_forward_errors: false,
            tls: None,
            tls_state: std::sync::Mutex::new(None),
        })
    }

    /// Runs async work on the session's runtime. Never call the sync
    /// `postgres` client inside `f`.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The cluster client, made on first use; then the provider is
    /// resolved ([`uis_kube::provider::resolve`]: auto-detected or as
    /// `--provider` says), so [`Session::locator`] holds the provider's
    /// selector, Service, port and Secrets from here on.
    pub fn cluster(&mut self) -> Result<Cluster, Failure> {
        if self.cluster.is_none() {
            let c = self.rt.block_on(Cluster::connect(&self.cluster_config))?;
            let resolved = self
                .rt
                .block_on(uis_kube::provider::resolve(&self.locator, &c))?;
            uis_core::output::set_provider(resolved.provider_name());
            self.locator = resolved;
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

    /// The app's record, `None` when never configured. An app the suite
    /// never configured but `./uis configure postgresql --namespace NS
    /// --secret-name-prefix P` did is read from the `DATABASE_URL` of the
    /// Secret UIS wrote ([`store::adopt`]): used as found, never stored
    /// here (`uis db configure APP` stores it, after checking it logs in).
    pub fn app_opt(&mut self, app: &str) -> Result<Option<AppRecord>, Failure> {
        let cluster = self.cluster()?;
        let ns = self.locator.namespace.clone();
        if let Some(rec) = self.rt.block_on(store::read(&cluster, &ns, app))? {
            return Ok(Some(rec));
        }
        let adopted = self.rt.block_on(store::adopt(&cluster, &ns, app))?;
        if adopted.is_none() {
            let from_operator = self.rt.block_on(uis_kube::provider::adopt_app_secret(
                &cluster,
                &self.locator,
                app,
            ))?;
            if let Some(r) = &from_operator {
                uis_core::output::note(format!(
                    "uis: app {app} is not in the suite's store; using the login {} keeps in Secret {} (user {}, database {})",
                    self.locator.provider_name(),
                    r.adopted_from.as_deref().unwrap_or_default(),
                    r.owner,
                    r.database
                ));
                return Ok(from_operator);
            }
        }
        if let Some(r) = &adopted {
            uis_core::output::note(format!(
                "uis: app {app} is not in the suite's store; using the login ./uis configure wrote in Secret {} (DATABASE_URL); `uis db configure {app}` adopts it",
                r.adopted_from.as_deref().unwrap_or_default()
            ));
        }
        Ok(adopted)
    }

    /// Where the sync client connects: `--direct`, or the tunnel (opened on
    /// first use, on a free local port).
    pub fn endpoint(&mut self) -> Result<Endpoint, Failure> {
        self.endpoint_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Like [`Session::endpoint`], with the tunnel listening on `bind`.
    /// Makes the TLS setup too ([`Session::tls`]), so a bad TLS flag fails
    /// before anything connects.
    pub fn endpoint_on(&mut self, bind: SocketAddr) -> Result<Endpoint, Failure> {
        self.tls()?;
        if let Some((host, port)) = &self.locator.direct {
            return Ok(Endpoint {
                host: host.clone(),
                port: *port,
            });
        }
        if self.tunnel.is_none() {
            let cluster = self.cluster()?;
            let chosen = self.rt.block_on(self.locator.primary(&cluster))?;
            if chosen.pods > 1 || self.locator.provider.is_some_and(|p| p.is_operator()) {
                uis_core::output::note(format!(
                    "uis: primary pod {}/{} ({}; {} pods with {})",
                    self.locator.namespace,
                    chosen.name,
                    chosen.role,
                    chosen.pods,
                    self.locator.selector
                ));
            }
            let pod = chosen.name;
            let ns = self.locator.namespace.clone();
            let port = self.locator.port;
            let tunnel = self.rt.block_on(async {
                let follow = Follow::new(&self.locator, self.report_forward_errors);
                Tunnel::open(&cluster, &ns, &pod, port, bind, Some(follow)).await
            })?;
            self.tunnel = Some((tunnel, pod));
        }
        let (t, _) = self.tunnel.as_ref().expect("set above");
        Ok(Endpoint {
            host: t.addr().ip().to_string(),
            port: t.addr().port(),
        })
    }

    /// The TLS setup of every connection, made on first use from
    /// `locator.tls` (change that before the first connection to set a CA
    /// or server name found elsewhere): the CA read from
    /// `--sslrootcert-secret` when given, and the name `verify-full` checks
    /// (and SNI): `--tls-server-name`, else the `--direct` host, else the
    /// Service's in-cluster name ([`Locator::cluster_host`]), since through
    /// the port-forward the address is 127.0.0.1 but the certificate names
    /// the Service.
    ///
    /// Errors: see [`Tls::new`] and [`crate::pg::tls::root_cert_from_secret`].
    pub fn tls(&mut self) -> Result<Tls, Failure> {
        Ok(self.tls_setup()?.0)
    }

    /// The TLS options in effect: `locator.tls` with the CA of
    /// `--sslrootcert-secret` read (for handing to psql as libpq settings).
    ///
    /// Errors: as [`Session::tls`].
    pub fn tls_options(&mut self) -> Result<uis_core::tls::TlsOptions, Failure> {
        Ok(self.tls_setup()?.1)
    }

    fn tls_setup(&mut self) -> Result<(Tls, uis_core::tls::TlsOptions), Failure> {
        if let Some(t) = &self.tls {
            return Ok(t.clone());
        }
        let mut opts = self.locator.tls.clone();
        if let Some(r) = opts.root_cert_secret.clone()
            && opts.root_cert.is_none()
        {
            let cluster = self.cluster()?;
            let ns = self.locator.namespace.clone();
            let root = self
                .rt
                .block_on(crate::pg::tls::root_cert_from_secret(&cluster, &ns, &r))?;
            opts.root_cert = Some(root);
        }
        // CloudNativePG publishes its cluster's CA in Secret `<c>-ca`, key
        // `ca.crt` (cloudnative-pg.io/documentation/current/certificates/).
        // With a verifying sslmode and no CA given (no flag, no libpq
        // `~/.postgresql/root.crt`), that is the CA to check against.
        if opts.root_cert.is_none()
            && opts.root_cert_secret.is_none()
            && matches!(
                opts.mode,
                Some(uis_core::tls::SslMode::VerifyCa | uis_core::tls::SslMode::VerifyFull)
            )
            && self.locator.direct.is_none()
            && uis_core::tls::default_file("root.crt").is_none()
        {
            let cluster = self.cluster()?;
            if self.locator.provider == Some(uis_kube::provider::Provider::Cnpg)
                && let Some(c) = self.locator.cluster_name.clone()
            {
                let ns = self.locator.namespace.clone();
                let r = uis_core::tls::SecretRef {
                    namespace: None,
                    name: format!("{c}-ca"),
                    key: uis_core::tls::SecretRef::DEFAULT_KEY.into(),
                };
                let root = self
                    .rt
                    .block_on(crate::pg::tls::root_cert_from_secret(&cluster, &ns, &r))?;
                uis_core::output::note(format!(
                    "uis: the server's CA from Secret {ns}/{c}-ca (CloudNativePG's cluster CA)"
                ));
                opts.root_cert = Some(root);
            }
        }
        let default_name = match &self.locator.direct {
            Some((host, _)) => host.clone(),
            None => self.locator.cluster_host(),
        };
        let tls = Tls::new(&opts, &default_name)?;
        self.tls = Some((tls.clone(), opts.clone()));
        Ok((tls, opts))
    }

    /// What TLS the last successful connection got (`None` before one).
    pub fn tls_state(&self) -> Option<TlsState> {
        self.tls_state.lock().ok().and_then(|s| s.clone())
    }

    /// Resolves with the reason once the tunnel gave up because the pod
    /// selector matched nothing for too long; pending without a tunnel.
    pub async fn tunnel_gone(&self) -> String {
        match &self.tunnel {
            Some((t, _)) => t.gone().await,
            None => std::future::pending().await,
        }
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
        let Some((tls, _)) = &self.tls else {
            return Err(Failure::new(
                Phase::Internal,
                "connect_config before endpoint: the TLS setup is made with the endpoint",
            ));
        };
        let (client, state) =
            crate::pg::connect_config(config, tls, login, &self.via()).map_err(|mut f| {
                // Exit 2 is a connection that never reached PostgreSQL (not a
                // refusal by the server): the port-forward may know why.
                if f.code == 2
                    && let Some((t, _)) = &self.tunnel
                    && let Some(pf) = t.last_error()
                {
                    f.detail = format!("{}; {pf}", f.detail);
                    // Refused by the API server (credentials, RBAC): the
                    // pod is fine, the access is not.
                    if let Some(code @ (401 | 403)) = uis_kube::tunnel::refused_code(&pf)
                        && let Some(c) = &self.cluster
                    {
                        f.hint = Some(c.refusal_hint(code, &pf));
                    }
                }
                // The superuser's password comes from an admin Secret the
                // suite only reads: no app rotation can fix it.
                if let Some(admin) = &self.admin
                    && admin.user == login.user
                    && admin.password == login.password
                    && f.detail.starts_with("password authentication failed")
                {
                    f.hint = Some(format!(
                        "the superuser password in {} does not match role {:?}: correct that Secret (a value written with `kubectl create secret generic NAME --from-literal=KEY=...` keeps no line break), or name the Secret that holds it with --admin-secrets SECRET/KEY (UIS_ADMIN_SECRETS)",
                        admin.source, admin.user
                    ));
                }
                f
            })?;
        if let Ok(mut s) = self.tls_state.lock() {
            *s = Some(state);
        }
        Ok(client)
    }

    /// A [`uis_script::PgConnector`] for `\connect` in scripts, with the
    /// session's TLS (call after [`Session::endpoint`]).
    pub fn script_connector(
        &mut self,
        config: postgres::Config,
    ) -> Result<uis_script::PgConnector, Failure> {
        let tls = self.tls()?;
        Ok(uis_script::PgConnector::with_connect(config, move |c| {
            tls.connect(c).map(|(client, _)| client)
        }))
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

    /// The login of `who` for an app's database: the superuser (password
    /// from the admin Secret chain) or a role whose password the app's
    /// credential store holds. The database is `database` when given, else
    /// the app's, else (the superuser without an app) `postgres`. The one
    /// place where APP + `--admin`/`--as`/`--role` become a login, for
    /// creds, tunnel and psql.
    ///
    /// Errors: phase `usage` (exit 2) for a role without an app or a role
    /// name with a control character; `store` when the app is not
    /// configured or stores no password for the role; `locate` when no
    /// admin Secret holds the superuser's password; `cluster` for API
    /// failures.
    pub fn login_for(
        &mut self,
        app: Option<&str>,
        who: &Who,
        database: Option<&str>,
    ) -> Result<AppLogin, Failure> {
        let kind = match who {
            Who::Admin => {
                let database = match (database, app) {
                    (Some(d), _) => d.to_string(),
                    (None, Some(app)) => self.app(app)?.database,
                    (None, None) => "postgres".to_string(),
                };
                let admin = self.admin()?;
                return Ok(AppLogin {
                    kind: "admin".into(),
                    login: Login {
                        user: admin.user,
                        password: admin.password,
                        database,
                    },
                    source: admin.source,
                });
            }
            Who::Role(kind) => kind,
        };
        uis_core::app::validate_ident("--as", kind)?;
        let Some(app) = app else {
            return Err(Failure::usage(format!(
                "give APP to run as {kind:?}, or --as admin for the superuser"
            )));
        };
        let rec = self.app(app)?;
        let user = rec.resolve_role(kind);
        let password = rec.passwords.get(&user).cloned().ok_or_else(|| {
            let stored: Vec<&str> = rec.passwords.keys().map(String::as_str).collect();
            Failure::new(
                Phase::Store,
                format!(
                    "no stored password for role {user:?} of app {app:?} (stored: {})",
                    stored.join(", ")
                ),
            )
            .hint(format!(
                "roles get stored passwords when the suite creates them: `uis db configure {app} --with-roles postgrest` or `uis postgrest deploy {app}`; the owner (default) and the superuser (--admin, --as admin) always work"
            ))
        })?;
        let source = match (&rec.adopted_from, &rec.adopted_key) {
            (Some(id), Some(key)) => format!("Secret {id} key {key}"),
            (Some(id), None) => format!("Secret {id} key DATABASE_URL"),
            (None, _) => format!(
                "Secret {}/{} key password.{user}",
                self.locator.namespace,
                store::secret_name(app)
            ),
        };
        Ok(AppLogin {
            kind: kind.clone(),
            login: Login {
                user,
                password,
                database: database.map(str::to_string).unwrap_or(rec.database),
            },
            source,
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
