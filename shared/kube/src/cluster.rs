//! Cluster access following kubectl's rules: `--kubeconfig`, then
//! `KUBECONFIG` (a list of files, merged, missing ones skipped as kubectl
//! does), then `~/.kube/config`, then the in-cluster service account; the
//! context from `--context` or the file's current-context.
//!
//! Every API call goes through [`Cluster::call`], which bounds it with the
//! request timeout and turns kube's errors into one-line [`Failure`]s naming
//! the API server, the context and the file, with the fix. Long-lived
//! streams (port-forward) are deliberately not bounded by a read timeout.

use crate::{auth, proxy};
use k8s_openapi::NamespaceResourceScope;
use kube::config::Kubeconfig;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;
use uis_core::error::Phase;
use uis_core::error::{Failure, one_line};

/// How to reach the Kubernetes API: the settings of kubectl's
/// `--kubeconfig`, `--context` and `--request-timeout`.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The kubeconfig file; `None` follows `KUBECONFIG`, `~/.kube/config`,
    /// then the in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// The context; `None` is the file's current-context.
    pub context: Option<String>,
    /// The bound on any one API call.
    pub request_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            kubeconfig: None,
            context: None,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A connected (not yet contacted) Kubernetes client and where it came from.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// `context "x" in /path/kubeconfig`, or `in-cluster service account`.
    pub origin: String,
    /// The API server URL.
    pub server: String,
    pub timeout: Duration,
    /// The proxy every request goes through (credentials hidden), if any.
    pub proxy: Option<String>,
    /// What it was built from, to build it again ([`Cluster::fresh`]).
    config: ClusterConfig,
    /// When the credential should be fetched again (a token file's minute,
    /// an exec credential's expiry).
    refresh_at: Option<std::time::SystemTime>,
    /// Where the credential comes from (for what to do when refused).
    pub credential: auth::Source,
}

impl Cluster {
    /// Builds the client from the kubeconfig rules above. Reads files only;
    /// nothing is sent to the API server yet.
    pub async fn connect(args: &ClusterConfig) -> Result<Cluster, Failure> {
        let timeout = args.request_timeout;
        let (config, origin, refresh_at, credential) = load_config(args).await?;
        let server = config.cluster_url.to_string();
        let proxy = config.proxy_url.as_ref().map(|u| {
            proxy::Proxy {
                url: u.to_string(),
                source: proxy::ProxySource::Kubeconfig,
            }
            .shown()
        });
        let mut config = config;
        config.connect_timeout = Some(timeout);
        // kube's builder drops a SOCKS5 proxy's user and password.
        let built = match crate::socks::client_with_socks_login(&config) {
            Ok(Some(client)) => Ok(client),
            Ok(None) => kube::Client::try_from(config),
            Err(e) => Err(e),
        };
        let client = built.map_err(|e| {
            let hint = match (&e, &credential) {
                // The plugin's pair is checked when read; what is left is
                // a pair rustls cannot use (say, a key type it lacks).
                (kube::Error::RustlsTls(_), auth::Source::ExecPlugin { command, .. }) => format!(
                    "the client certificate and key that {command} (the exec plugin) printed cannot be used (or the cluster's certificate-authority-data cannot): update the plugin or log in again with it; `kubectl get ns` on the same kubeconfig shows what kubectl makes of them"
                ),
                (kube::Error::RustlsTls(_), _) => {
                    "check the certificate data of the context's cluster and user (certificate-authority-data, client-certificate-data, client-key-data): `kubectl config view --minify --raw`".to_string()
                }
                (kube::Error::Auth(_), _) => {
                    "check the credentials of the context's user (token, tokenFile, exec): `kubectl config view --minify`".to_string()
                }
                _ => "check the context's cluster, user and proxy-url: `kubectl config view --minify`".to_string(),
            };
            Failure::new(
                Phase::Cluster,
                format!("cannot build a Kubernetes client for {origin}: {}", one_line(&e)),
            )
            .hint(hint)
        })?;
        Ok(Cluster {
            client,
            origin,
            server,
            timeout,
            proxy,
            config: args.clone(),
            refresh_at,
            credential,
        })
    }

    /// This cluster, or a new client when its credential is due to be
    /// fetched again (an exec credential near its expiry, a token file
    /// read over a minute ago), for long-lived users such as the tunnel.
    ///
    /// Errors: as [`Cluster::connect`].
    pub async fn fresh(&self) -> Result<Cluster, Failure> {
        match self.refresh_at {
            Some(t) if std::time::SystemTime::now() >= t => Cluster::connect(&self.config).await,
            _ => Ok(self.clone()),
        }
    }

    /// Runs one API call with the request timeout, mapping errors to a
    /// [`Failure`] that says `what` was being done.
    pub async fn call<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.explain(what, e)),
            Err(_) => Err(self.timed_out(what)),
        }
    }

    /// A call that did not answer within the timeout, said as such.
    pub fn timed_out(&self, what: &str) -> Failure {
        // Through a proxy, the silence may be the proxy's: one that speaks
        // another protocol than its URL's scheme says waits forever.
        let (via, check) = match &self.proxy {
            Some(p) => (
                format!(" through the proxy {p}"),
                format!(
                    "does the proxy {p} answer, and speak what its scheme says (an HTTP proxy wants http://, a SOCKS proxy socks5://)? is the cluster running? `kubectl cluster-info`"
                ),
            ),
            None => (
                String::new(),
                "is the cluster running? `kubectl cluster-info`".to_string(),
            ),
        };
        Failure::new(
            Phase::Cluster,
            format!(
                "the Kubernetes API at {}{via} did not answer within {} s while {what} (answers 429, 503 and 504 are retried until then) ({})",
                self.server,
                self.timeout.as_secs(),
                self.origin
            ),
        )
        .hint(format!(
            "{check}; raise the limit with --request-timeout (now {} s)",
            self.timeout.as_secs()
        ))
    }

    /// What to do about an API refusal: for 401, the API server refused the
    /// credential of this context and how to get a current one (by where it
    /// comes from, [`auth::Source::refused_hint`]); for 403, the account may
    /// not do what the Status `message` says (an RBAC denial names the verb,
    /// resource and namespace) and the `kubectl auth can-i` that checks it.
    /// None for other codes.
    pub fn refusal_hint(&self, code: u16, message: &str) -> String {
        match code {
            401 => format!(
                "the API server {} refused the credentials of {} (Unauthorized): {}",
                self.server,
                self.origin,
                self.credential.refused_hint()
            ),
            _ => match Denial::parse(message) {
                Some(d) => format!(
                    "the account of {} may not {} {}: check with `{}`; a cluster admin grants it (deploy/rbac.yaml for operators, deploy/rbac-app.yaml for app developers; docs/security.md, \"Kubernetes permissions\")",
                    self.origin,
                    d.verb,
                    d.what(),
                    d.can_i()
                ),
                None => format!(
                    "the account of {} was refused this request: check with `kubectl auth can-i VERB RESOURCE -n NAMESPACE` for what the message names; a cluster admin grants it (deploy/rbac.yaml for operators, deploy/rbac-app.yaml for app developers; docs/security.md, \"Kubernetes permissions\")",
                    self.origin
                ),
            },
        }
    }

    /// Turns a kube error into a one-line failure with a fix.
    pub fn explain(&self, what: &str, e: kube::Error) -> Failure {
        match e {
            kube::Error::Api(status) => {
                let code = status.code;
                let msg = status.message.clone();
                let hint = match code {
                    401 | 403 => self.refusal_hint(code, &msg),
                    404 => format!(
                        "the object or API is not there on {}; check the namespace and names (`kubectl get` shows what exists)",
                        self.server
                    ),
                    409 => "another client changed it at the same time: run the same command again".to_string(),
                    429 | 500..=599 => format!(
                        "the API server ({}) failed or is overloaded; the steps before this one are done and the command is safe to run again; its health: `kubectl get --raw /readyz`",
                        self.server
                    ),
                    _ => format!(
                        "the API server ({}) answered {code}; `kubectl get --raw /readyz` shows its health",
                        self.server
                    ),
                };
                Failure::new(Phase::Cluster, format!("{what}: {msg} (HTTP {code})")).hint(hint)
            }
            other if one_line(&other).contains("deadline has elapsed") => self.timed_out(what),
            kube::Error::Auth(e) => Failure::new(
                Phase::Cluster,
                format!(
                    "the credentials of {} cannot be used while {what}: {}",
                    self.origin,
                    one_line(&e)
                ),
            )
            .hint("check the context's user (token, tokenFile, exec plugin) with `kubectl config view --minify`"),
            other => {
                let via = match &self.proxy {
                    Some(p) => format!(" through the proxy {p}"),
                    None => String::new(),
                };
                let mut text = one_line(&other);
                // The TLS to an https:// proxy failed on its certificate:
                // like client-go, the suite checks it against the cluster's
                // certificate authority (the system roots when the
                // kubeconfig gives none), and tls-server-name applies too.
                let proxy_cert = self.proxy.as_deref().is_some_and(|p| p.starts_with("https://"))
                    && text.contains("failed to create underlying connection")
                    && text.contains("certificate");
                let explained = self
                    .proxy
                    .as_deref()
                    .and_then(|p| proxy::explain(p, &self.server, &text));
                let hint = match (&self.proxy, explained) {
                    (Some(p), _) if proxy_cert => format!(
                        "the certificate of the proxy {p} is checked as kubectl checks it: against the cluster's certificate-authority(-data) (the system roots when the kubeconfig gives none), by the proxy's host name (or the cluster's tls-server-name); add the CA that signed the proxy's certificate to certificate-authority-data (a PEM bundle may hold several); `kubectl get ns` on the same kubeconfig fails the same way"
                    ),
                    // A login refused, a CONNECT refused, nothing at the
                    // proxy's address: said in words, with what to do.
                    (Some(_), Some((said, hint))) => {
                        text = format!("{said} ({text})");
                        hint
                    }
                    (Some(p), None) => format!(
                        "is the proxy {p} running and does it allow CONNECT to {}? (kubectl uses the same proxy: `kubectl cluster-info`); the kubeconfig's proxy-url or HTTPS_PROXY/NO_PROXY chose it",
                        self.server
                    ),
                    // The server answered, with a certificate the
                    // kubeconfig's CA does not vouch for: not a down cluster.
                    (None, _) if text.contains("invalid peer certificate") => format!(
                        "the API server's certificate is not what {} trusts (its certificate-authority-data / certificate-authority, and the server name or tls-server-name): the cluster was re-created or the kubeconfig is stale; get a current one (Rancher Desktop rewrites ~/.kube/config when it starts; AKS: `az aks get-credentials`); `kubectl get ns` on the same kubeconfig fails the same way",
                        self.origin
                    ),
                    // The server ended the handshake with an alert: with a
                    // client certificate, that is the certificate refused
                    // (Go's VerifyClientCertIfGiven: expired, another CA).
                    (None, _) if text.contains("received fatal alert") => match &self.credential {
                        auth::Source::ClientCertificate { .. } | auth::Source::ExecPlugin { .. } => format!(
                            "the API server {} refused the TLS handshake, which carries the client certificate of {}: {}",
                            self.server,
                            self.origin,
                            self.credential.refused_hint()
                        ),
                        _ => format!(
                            "the API server {} refused the TLS handshake of {}: check the cluster's server, certificate-authority-data and tls-server-name (`kubectl config view --minify`); `kubectl get ns` on the same kubeconfig fails the same way",
                            self.server, self.origin
                        ),
                    },
                    (None, _) if matches!(self.credential, auth::Source::ServiceAccount { .. }) => "this pod cannot reach the API server KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT name: check the pod's network policy and that those variables are the cluster's (`env | grep KUBERNETES_SERVICE`)".to_string(),
                    (None, _) => "is the cluster running and the context right? `kubectl cluster-info`, `kubectl config get-contexts`".to_string(),
                };
                Failure::new(
                    Phase::Cluster,
                    format!(
                        "cannot reach the Kubernetes API at {}{via} ({}) while {what}: {}",
                        self.server, self.origin, text
                    ),
                )
                .hint(hint)
            }
        }
    }
}

fn home_kubeconfig() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("config"))
}

/// How the kubeconfig rules resolved: files to read, or the in-cluster
/// service account.
enum Found {
    Files(Box<Kubeconfig>, String),
    InCluster,
}

/// The kube configuration, where it came from, when its credential is due
/// to be fetched again, and where that credential comes from.
type Loaded = (
    kube::Config,
    String,
    Option<std::time::SystemTime>,
    auth::Source,
);

async fn load_config(args: &ClusterConfig) -> Result<Loaded, Failure> {
    // client-go's DeferredLoadingClientConfig: an explicit --kubeconfig
    // must exist; KUBECONFIG's missing files are skipped (and ~/.kube/config
    // is not consulted when KUBECONFIG is set); when that leaves no
    // configuration and this is a pod (KUBERNETES_SERVICE_HOST/PORT set and
    // the service-account token mounted), the in-cluster config is used.
    let found = if let Some(path) = &args.kubeconfig {
        if !path.exists() {
            return Err(Failure::new(
                Phase::Cluster,
                format!("kubeconfig {} does not exist", path.display()),
            )
            .hint("pass the path of your cluster's kubeconfig with --kubeconfig, or leave it out to use $KUBECONFIG or ~/.kube/config"));
        }
        Found::Files(
            Box::new(read_files(std::slice::from_ref(path))?),
            path.display().to_string(),
        )
    } else if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let all: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = all.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            if auth::in_cluster_possible() {
                Found::InCluster
            } else {
                let shown: Vec<String> = all.iter().map(|p| p.display().to_string()).collect();
                return Err(Failure::new(
                    Phase::Cluster,
                    format!("KUBECONFIG names no existing file ({})", shown.join(", ")),
                )
                .hint("point KUBECONFIG at your cluster's kubeconfig, or pass --kubeconfig FILE"));
            }
        } else {
            let shown: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
            Found::Files(Box::new(read_files(&existing)?), shown.join(":"))
        }
    } else if let Some(path) = home_kubeconfig().filter(|p| p.exists()) {
        Found::Files(
            Box::new(read_files(std::slice::from_ref(&path))?),
            path.display().to_string(),
        )
    } else if auth::in_cluster_possible() {
        Found::InCluster
    } else {
        return Err(Failure::new(
            Phase::Cluster,
            "no kubeconfig: --kubeconfig is not given, KUBECONFIG is unset, ~/.kube/config does not exist, and this is not a pod in a cluster",
        )
        .hint("point KUBECONFIG at your cluster's kubeconfig (Rancher Desktop writes ~/.kube/config), or pass --kubeconfig FILE"));
    };
    let (kubeconfig, files) = match found {
        // An empty configuration counts as none (client-go's IsEmptyConfig).
        Found::Files(kc, _)
            if kc.clusters.is_empty()
                && kc.contexts.is_empty()
                && args.kubeconfig.is_none()
                && auth::in_cluster_possible() =>
        {
            drop(kc);
            return in_cluster().await;
        }
        Found::Files(kc, files) => (*kc, files),
        Found::InCluster => return in_cluster().await,
    };

    let context = match &args.context {
        Some(c) => c.clone(),
        None => kubeconfig.current_context.clone().ok_or_else(|| {
            Failure::new(
                Phase::Cluster,
                format!("the kubeconfig {files} has no current-context"),
            )
            .hint("pass --context NAME, or set one with `kubectl config use-context NAME`")
        })?,
    };
    let Some(ctx) = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.clone())
    else {
        let names: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(Failure::new(
            Phase::Cluster,
            format!(
                "context {context:?} is not in the kubeconfig {files} (it has: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )
        .hint(
            "pass --context with one of those names; list them with `kubectl config get-contexts`",
        ));
    };
    let origin = format!("context {context:?} in {files}");
    let bad = |what: String| {
        Failure::new(Phase::Cluster, format!("cannot use {origin}: {what}"))
            .hint("check it with `kubectl config view --minify`")
    };
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| {
            bad(format!(
                "it names cluster {:?}, which the file does not define",
                ctx.cluster
            ))
        })?;
    let server = cluster
        .server
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(format!("cluster {:?} has no server", ctx.cluster)))?;
    let url: http::Uri = server.parse().map_err(|e| {
        bad(format!(
            "the server {server:?} of cluster {:?} is not a URL: {e}",
            ctx.cluster
        ))
    })?;
    let user_name = ctx.user.clone().unwrap_or_default();
    // client-go does not fail on a missing user: no credentials then.
    let mut auth_info = kubeconfig
        .auth_infos
        .iter()
        .find(|u| u.name == user_name)
        .and_then(|u| u.auth_info.clone())
        .unwrap_or_default();
    if let Some(exec) = &mut auth_info.exec
        && exec.provide_cluster_info
    {
        exec.cluster = Some(
            (&cluster)
                .try_into()
                .map_err(|e| bad(format!("cluster {:?}: {}", ctx.cluster, one_line(&e))))?,
        );
    }
    let (refresh_at, credential) = auth::resolve(&mut auth_info, &user_name)
        .await
        .map_err(|(detail, hint)| Failure::new(Phase::Cluster, detail).hint(hint))?;

    let mut config = kube::Config::new(url);
    config.default_namespace = ctx.namespace.clone().unwrap_or_else(|| "default".into());
    config.accept_invalid_certs = cluster.insecure_skip_tls_verify.unwrap_or(false);
    config.disable_compression = cluster.disable_compression.unwrap_or(false);
    config.tls_server_name = cluster.tls_server_name.clone();
    config.root_cert = ca_certs(
        cluster.certificate_authority_data.as_deref(),
        cluster.certificate_authority.as_deref(),
    )
    .map_err(|e| {
        Failure::new(
            Phase::Cluster,
            format!("cannot use the certificate authority of cluster {:?} ({origin}): {e}", ctx.cluster),
        )
        .hint("fix certificate-authority or certificate-authority-data of that cluster (`kubectl config view --minify --raw`)")
    })?;
    config.auth_info = auth_info;
    config.proxy_url = proxy_for(&server, cluster.proxy_url.as_deref(), &origin)?;
    Ok((config, origin, refresh_at, credential))
}

/// The proxy for `server` by kubectl's rules ([`crate::proxy`]), as kube
/// takes it.
fn proxy_for(
    server: &str,
    kubeconfig_proxy: Option<&str>,
    origin: &str,
) -> Result<Option<http::Uri>, Failure> {
    let env = proxy::ProxyEnv::from_env();
    let chosen = proxy::choose(server, kubeconfig_proxy, &env).map_err(|e| {
        Failure::new(Phase::Cluster, format!("cannot use the proxy for {origin}: {e}"))
            .hint("fix proxy-url in the kubeconfig (`kubectl config view --minify`) or HTTPS_PROXY/HTTP_PROXY in the environment")
    })?;
    let Some(p) = chosen else {
        return Ok(None);
    };
    let uri = p.url.parse::<http::Uri>().map_err(|e| {
        Failure::new(
            Phase::Cluster,
            format!("cannot use the proxy {} from {}: {e}", p.shown(), p.source),
        )
        .hint("write it as scheme://host:port, scheme http, https or socks5")
    })?;
    Ok(Some(uri))
}

/// The DER certificates of a cluster's CA (inline base64 PEM or a file).
fn ca_certs(data: Option<&str>, file: Option<&str>) -> Result<Option<Vec<Vec<u8>>>, String> {
    use base64::Engine as _;
    let pem_bytes = match (
        data.filter(|d| !d.is_empty()),
        file.filter(|f| !f.is_empty()),
    ) {
        (Some(d), _) => base64::engine::general_purpose::STANDARD
            .decode(d.trim())
            .map_err(|e| format!("certificate-authority-data is not base64: {e}"))?,
        (None, Some(f)) => std::fs::read(f).map_err(|e| format!("cannot read {f}: {e}"))?,
        (None, None) => return Ok(None),
    };
    let certs: Vec<Vec<u8>> = pem::parse_many(&pem_bytes)
        .map_err(|e| format!("not PEM: {e}"))?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.into_contents())
        .collect();
    if certs.is_empty() {
        return Err("it holds no PEM CERTIFICATE".to_string());
    }
    Ok(Some(certs))
}

/// The in-cluster configuration as client-go builds it: the API server at
/// `KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT`, the mounted
/// service-account token (trimmed), CA and namespace.
async fn in_cluster() -> Result<Loaded, Failure> {
    let dir = auth::service_account_dir();
    let origin = format!("in-cluster service account ({})", dir.display());
    let fail = |what: String| {
        Failure::new(Phase::Cluster, format!("cannot use the {origin}: {what}"))
            .hint("mount a service account token (automountServiceAccountToken), or pass --kubeconfig FILE")
    };
    let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_default();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let server = format!("https://{host}:{port}");
    let url: http::Uri = server.parse().map_err(|e| {
        fail(format!(
            "KUBERNETES_SERVICE_HOST/PORT give no URL ({server}): {e}"
        ))
    })?;
    let token = auth::read_token_file(&dir.join("token")).map_err(fail)?;
    if token.bytes().any(|b| (b < 32 && b != b'\t') || b == 127) {
        return Err(fail(format!(
            "the token in {} holds a line break or another control character, which no HTTP header can carry",
            dir.join("token").display()
        )));
    }
    let mut config = kube::Config::new(url);
    let ca = dir.join("ca.crt");
    config.root_cert = ca_certs(None, Some(&ca.display().to_string())).map_err(fail)?;
    if let Ok(ns) = std::fs::read_to_string(dir.join("namespace"))
        && !ns.trim().is_empty()
    {
        config.default_namespace = ns.trim().to_string();
    }
    config.auth_info.token = Some(token.into());
    config.proxy_url = proxy_for(&server, None, &origin)?;
    // The kubelet rotates the projected token: read it again each minute.
    let refresh_at = std::time::SystemTime::now() + Duration::from_secs(60);
    let credential = auth::Source::ServiceAccount {
        token_file: dir.join("token"),
        namespace: config.default_namespace.clone(),
    };
    Ok((config, origin, Some(refresh_at), credential))
}

/// An RBAC denial as the API server words it (the authorizer's reason in
/// a 403 Status message): `secrets "x" is forbidden: User "u" cannot get
/// resource "secrets" in API group "" in the namespace "default"`.
#[derive(Debug, PartialEq, Eq)]
struct Denial {
    verb: String,
    /// `secrets`, `pods/portforward`.
    resource: String,
    group: String,
    namespace: Option<String>,
}

impl Denial {
    fn parse(message: &str) -> Option<Denial> {
        let quoted = |after: &str| -> Option<String> {
            let rest = &message[message.find(after)? + after.len()..];
            Some(rest[..rest.find('"')?].to_string())
        };
        let rest = &message[message.find(" cannot ")? + " cannot ".len()..];
        let verb = rest.split_whitespace().next()?.to_string();
        Some(Denial {
            verb,
            resource: quoted("resource \"")?,
            group: quoted("in API group \"").unwrap_or_default(),
            namespace: quoted("in the namespace \""),
        })
    }

    /// `secrets in namespace default`, `pods/portforward (group apps) ...`.
    fn what(&self) -> String {
        let mut s = self.resource.clone();
        if !self.group.is_empty() {
            s.push_str(&format!(" (API group {})", self.group));
        }
        match &self.namespace {
            Some(ns) => s.push_str(&format!(" in namespace {ns}")),
            None => s.push_str(" at the cluster scope"),
        }
        s
    }

    /// `kubectl auth can-i get secrets -n default`.
    fn can_i(&self) -> String {
        let (res, sub) = match self.resource.split_once('/') {
            Some((r, s)) => (r, format!("/{s}")),
            None => (self.resource.as_str(), String::new()),
        };
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        let ns = match &self.namespace {
            Some(ns) => format!(" -n {ns}"),
            None => String::new(),
        };
        format!("kubectl auth can-i {} {res}{group}{sub}{ns}", self.verb)
    }
}

fn read_files(paths: &[PathBuf]) -> Result<Kubeconfig, Failure> {
    let mut merged: Option<Kubeconfig> = None;
    for p in paths {
        let kc = Kubeconfig::read_from(p).map_err(|e| {
            Failure::new(
                Phase::Cluster,
                format!("cannot read kubeconfig {}: {}", p.display(), one_line(&e)),
            )
            .hint("fix or replace the file; `kubectl config view` shows what kubectl makes of it")
        })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| {
                Failure::new(
                    Phase::Cluster,
                    format!("cannot merge kubeconfig files: {e}"),
                )
            })?,
        });
    }
    Ok(merged.unwrap_or_default())
}

/// The API server's words for a change to an immutable Secret or
/// ConfigMap (422 Invalid; pkg/apis/core/validation, `ValidateSecretUpdate`).
pub const IMMUTABLE_REFUSAL: &str = "field is immutable when `immutable` is set";

/// The command that recreates an immutable Secret without the mark and
/// with every value it holds: `kubectl replace --force` deletes it and
/// creates it again from what `kubectl get` printed (kubectl clears the
/// resourceVersion; the server gives a new uid). Values are never printed:
/// they go from one kubectl to the other through the pipe.
pub fn recreate_secret_command(namespace: &str, name: &str) -> String {
    format!(
        "kubectl get secret {name} -n {namespace} -o yaml | sed '/^immutable: true$/d' | kubectl replace --force --validate=false -f -"
    )
}

/// A namespaced object type of the Kubernetes API (k8s-openapi's `Secret`,
/// `Deployment`, ...), as the typed calls of [`Cluster`] take it.
pub trait NamespacedResource:
    kube::Resource<Scope = NamespaceResourceScope, DynamicType: Default>
    + DeserializeOwned
    + Clone
    + Debug
{
}

impl<K> NamespacedResource for K where
    K: kube::Resource<Scope = NamespaceResourceScope, DynamicType: Default>
        + DeserializeOwned
        + Clone
        + Debug
{
}

impl Cluster {
    /// Server-side apply (field manager `uis`, forced) of a namespaced
    /// object; creates it when missing.
    ///
    /// Errors: [`Cluster::write_refused`]'s for a refused write (an
    /// immutable Secret, 403), else [`Cluster::explain`]'s.
    pub async fn apply<K>(&self, namespace: &str, obj: &K) -> Result<K, Failure>
    where
        K: NamespacedResource + serde::Serialize,
    {
        self.apply_with(namespace, obj, false).await
    }

    /// The same request as [`Cluster::apply`] with `dryRun=All`: the API
    /// server runs authorization, admission (webhooks included: every
    /// admissionregistration/v1 webhook declares its dry-run behaviour)
    /// and validation, and stores nothing. So a write that would be
    /// refused is refused here, before anything it depends on changes.
    ///
    /// Errors: as [`Cluster::apply`].
    pub async fn apply_dry_run<K>(&self, namespace: &str, obj: &K) -> Result<K, Failure>
    where
        K: NamespacedResource + serde::Serialize,
    {
        self.apply_with(namespace, obj, true).await
    }

    async fn apply_with<K>(&self, namespace: &str, obj: &K, dry_run: bool) -> Result<K, Failure>
    where
        K: NamespacedResource + serde::Serialize,
    {
        let name = obj.meta().name.clone().unwrap_or_default();
        let (api, mut what) = self.api_for::<K>(namespace, "applying", &name);
        if dry_run {
            what.push_str(" (dry run)");
        }
        let mut value =
            serde_json::to_value(obj).map_err(|e| Failure::new(Phase::Internal, e.to_string()))?;
        let dt = K::DynamicType::default();
        value["apiVersion"] = K::api_version(&dt).to_string().into();
        value["kind"] = K::kind(&dt).to_string().into();
        if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            meta.remove("namespace");
            meta.remove("resourceVersion");
            meta.remove("managedFields");
        }
        let kind = K::kind(&dt).to_string();
        let mut params = kube::api::PatchParams::apply("uis").force();
        if dry_run {
            params = params.dry_run();
        }
        match tokio::time::timeout(
            self.timeout,
            api.patch(&name, &params, &kube::api::Patch::Apply(value)),
        )
        .await
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                Err(self.write_refused(&kind, &K::plural(&dt), namespace, &name, &what, e))
            }
            Err(_) => Err(self.timed_out(&what)),
        }
    }

    /// A refused write of `kind` (`plural`, the resource) `namespace/name`,
    /// said with the remedy that works: an immutable Secret names the
    /// command that recreates it ([`recreate_secret_command`]), a 403 the
    /// permission to ask for and how to check it. Any other error is
    /// [`Cluster::explain`]'s.
    pub fn write_refused(
        &self,
        kind: &str,
        plural: &str,
        namespace: &str,
        name: &str,
        what: &str,
        e: kube::Error,
    ) -> Failure {
        let kube::Error::Api(status) = &e else {
            return self.explain(what, e);
        };
        let msg = status.message.clone();
        let code = status.code;
        if code == 422 && msg.contains(IMMUTABLE_REFUSAL) {
            let fix = if kind == "Secret" {
                format!(
                    "recreate it without the mark, keeping its values: `{}`; then run the same command again",
                    recreate_secret_command(namespace, name)
                )
            } else {
                format!(
                    "delete it and create it again without `immutable: true` (`kubectl get {plural} {name} -n {namespace} -o yaml`, edit, `kubectl replace --force -f FILE`); then run the same command again"
                )
            };
            return Failure::new(
                Phase::Cluster,
                format!(
                    "{kind} {namespace}/{name} is immutable (`immutable: true`): the API server refuses any change to its values ({msg}, HTTP 422)"
                ),
            )
            .hint(fix);
        }
        if code == 403 {
            return Failure::new(Phase::Cluster, format!("{what}: {msg} (HTTP 403)")).hint(format!(
                "the account of {} may not write {kind} {namespace}/{name}: check with `kubectl auth can-i patch {plural} -n {namespace}`; a cluster admin grants it (deploy/rbac.yaml is the Role the suite needs)",
                self.origin
            ));
        }
        self.explain(what, e)
    }

    /// Gets a namespaced object, `None` when missing.
    pub async fn get_opt<K>(&self, namespace: &str, name: &str) -> Result<Option<K>, Failure>
    where
        K: NamespacedResource,
    {
        let (api, what) = self.api_for::<K>(namespace, "reading", name);
        self.call(&what, api.get_opt(name)).await
    }

    /// Deletes a namespaced object; `false` when it was not there.
    pub async fn delete<K>(&self, namespace: &str, name: &str) -> Result<bool, Failure>
    where
        K: NamespacedResource,
    {
        let (api, what) = self.api_for::<K>(namespace, "deleting", name);
        match tokio::time::timeout(self.timeout, api.delete(name, &Default::default())).await {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(kube::Error::Api(s))) if s.code == 404 => Ok(false),
            Ok(Err(e)) => Err(self.explain(&what, e)),
            Err(_) => Err(self.timed_out(&what)),
        }
    }

    /// The API of `K` in `namespace`, and what a call on `namespace/name`
    /// does, for its errors: `verb` then the kind (`reading Secret
    /// default/railway`).
    fn api_for<K: NamespacedResource>(
        &self,
        namespace: &str,
        verb: &str,
        name: &str,
    ) -> (kube::Api<K>, String) {
        let api = kube::Api::namespaced(self.client.clone(), namespace);
        let what = format!(
            "{verb} {} {namespace}/{name}",
            K::kind(&K::DynamicType::default())
        );
        (api, what)
    }
}

#[cfg(test)]
mod tests {
    use super::Denial;

    #[test]
    fn rbac_denials_give_the_check_that_reproduces_them() {
        let d = Denial::parse(r#"secrets "uis-db-x" is forbidden: User "system:serviceaccount:ci:deployer" cannot get resource "secrets" in API group "" in the namespace "default""#).unwrap();
        assert_eq!(d.can_i(), "kubectl auth can-i get secrets -n default");
        assert_eq!(d.what(), "secrets in namespace default");
        let d = Denial::parse(r#"pods "postgresql-0" is forbidden: User "dev" cannot create resource "pods/portforward" in API group "" in the namespace "db""#).unwrap();
        assert_eq!(
            d.can_i(),
            "kubectl auth can-i create pods/portforward -n db"
        );
        let d = Denial::parse(r#"deployments.apps is forbidden: User "dev" cannot list resource "deployments" in API group "apps" in the namespace "postgrest""#).unwrap();
        assert_eq!(
            d.can_i(),
            "kubectl auth can-i list deployments.apps -n postgrest"
        );
        let d = Denial::parse(r#"ingressroutes.traefik.io is forbidden: User "dev" cannot list resource "ingressroutes" in API group "traefik.io" at the cluster scope"#).unwrap();
        assert_eq!(
            d.can_i(),
            "kubectl auth can-i list ingressroutes.traefik.io"
        );
        assert_eq!(
            d.what(),
            "ingressroutes (API group traefik.io) at the cluster scope"
        );
        // A webhook's or a fault's words name no permission.
        assert!(Denial::parse("admission webhook denied the request").is_none());
    }
}
