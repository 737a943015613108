//! Credentials for the API server as kubectl (client-go) gets them, done
//! here rather than by kube so the suite behaves as kubectl on the same
//! kubeconfig:
//!
//! - a token file (the user's `tokenFile`, the in-cluster service-account
//!   token) is read with surrounding white space trimmed, so a file ending
//!   in `\n` or `\r\n` works (client-go's `strings.TrimSpace`);
//! - an exec credential plugin (AKS `kubelogin`, EKS `aws eks get-token`)
//!   runs at most once per process for a given configuration while its
//!   credential has not expired (`expirationTimestamp`), with stderr going
//!   straight to the terminal as the plugin writes it, stdin given only when
//!   it is a terminal, and `KUBERNETES_EXEC_INFO` saying `interactive: true`
//!   only then. Its failures are told as kubectl tells them
//!   (`exec: executable X not found` with the `installHint`,
//!   `exec: executable X failed with exit code N`), never with the plugin's
//!   arguments, environment or output: those carry client secrets and
//!   tokens.
//!
//! Not for choosing the kubeconfig or the proxy (`cluster`, `proxy`).

use kube::config::{AuthInfo, ExecConfig, ExecInteractiveMode};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// A credential an exec plugin handed out.
#[derive(Clone)]
enum Credential {
    Token(String),
    Certificate { cert_pem: String, key_pem: String },
}

#[derive(Clone)]
struct Cached {
    credential: Credential,
    expires: Option<SystemTime>,
}

/// One credential per plugin configuration for the life of the process.
fn cache() -> &'static Mutex<HashMap<String, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Cached>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// Where the credential sent to the API server comes from: what a refusal
/// (HTTP 401) is about and how to get a new one. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The pod's mounted service-account token (in-cluster).
    ServiceAccount {
        token_file: std::path::PathBuf,
        /// The pod's namespace (the mounted `namespace` file).
        namespace: String,
    },
    /// The kubeconfig user's `tokenFile`.
    TokenFile { user: String, path: String },
    /// The kubeconfig user's inline `token`.
    Token { user: String },
    /// The kubeconfig user's `username`/`password`.
    Basic { user: String },
    /// The kubeconfig user's client certificate.
    ClientCertificate { user: String },
    /// What the kubeconfig user's exec plugin `command` printed.
    ExecPlugin { user: String, command: String },
    /// The `id-token` of the kubeconfig user's `auth-provider: oidc`.
    OidcIdToken { user: String },
    /// Nothing: the kubeconfig user has no credentials.
    Nothing { user: String },
}

impl Source {
    /// What to do when the API server refused this credential (HTTP 401):
    /// the credential named (never its value) and how to get a current one.
    pub fn refused_hint(&self) -> String {
        let same = "`kubectl get ns` on the same kubeconfig fails the same way";
        match self {
            Source::ServiceAccount {
                token_file,
                namespace,
            } => format!(
                "the pod's service-account token ({}) was refused: the service account was deleted or re-created, or the token expired; restart the pod so the kubelet mounts a current token (`kubectl get serviceaccounts -n {namespace}` shows the accounts)",
                token_file.display()
            ),
            Source::TokenFile { user, path } => format!(
                "the token in {path} (tokenFile of kubeconfig user {user:?}) is wrong or expired: write a current token into that file; {same}"
            ),
            Source::Token { user } => format!(
                "the token of kubeconfig user {user:?} is wrong or expired: get a current kubeconfig from the cluster (Rancher Desktop: restart it; AKS: `az aks get-credentials`, then `kubelogin convert-kubeconfig`); {same}"
            ),
            Source::Basic { user } => format!(
                "the username and password of kubeconfig user {user:?} are wrong (most clusters accept no passwords): get a current kubeconfig from the cluster; {same}"
            ),
            Source::ClientCertificate { user } => format!(
                "the client certificate of kubeconfig user {user:?} is expired or not signed by this cluster's CA: get a current kubeconfig (Rancher Desktop: restart it, it rewrites ~/.kube/config; k3s: copy /etc/rancher/k3s/k3s.yaml again); {same}"
            ),
            Source::ExecPlugin { user, command } => format!(
                "the credential that {command} (the exec plugin of kubeconfig user {user:?}) printed is wrong or expired: log in again with it (AKS: `az login`; EKS: `aws sso login`), then retry; {same}"
            ),
            Source::OidcIdToken { user } => format!(
                "the id-token of the oidc auth-provider of kubeconfig user {user:?} is wrong or expired: run `kubectl get ns` once (kubectl refreshes it with the refresh-token and writes it into the kubeconfig), or log in again with your identity provider's tool; {same}"
            ),
            Source::Nothing { user } => format!(
                "kubeconfig user {user:?} has no credentials (no token, tokenFile, client certificate or exec plugin): add them, or use the context your cluster's installer wrote (`kubectl config get-contexts`)"
            ),
        }
    }
}

/// How many times an exec plugin ran in this process (for tests of the
/// once-per-command rule and for `--verbose` style notes).
pub fn plugin_runs() -> usize {
    RUNS.load(std::sync::atomic::Ordering::Relaxed)
}
static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Reads a bearer token file as client-go does: white space around it
/// trimmed (a file written with `echo` or on Windows ends in `\n` or
/// `\r\n`).
///
/// Errors: the file cannot be read, or holds nothing but white space.
pub fn read_token_file(path: &Path) -> Result<String, String> {
    let raw = std::fs::read(path)
        .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
    let text = String::from_utf8(raw)
        .map_err(|_| format!("token file {} is not UTF-8 text", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(token.to_string())
}

/// Replaces a user's `tokenFile` and `exec` with the credential they give
/// (a token, or a client certificate and key), so kube only ever sees
/// static credentials. `user` names the kubeconfig user in errors.
///
/// Errors (words for a [`uis_core::Failure`]'s detail and hint): the token
/// file cannot be read; the plugin is missing, fails, or prints no usable
/// credential.
///
/// Returns when the credential should be fetched again (a minute from now
/// for a token file, as client-go reads it again each minute; the plugin's
/// `expirationTimestamp` for an exec credential; else never) and where it
/// came from.
pub async fn resolve(
    auth: &mut AuthInfo,
    user: &str,
) -> Result<(Option<SystemTime>, Source), (String, String)> {
    // client-go validates the context's exec block before any request
    // (clientcmd's validateAuthInfo), even when a token makes it unused.
    if let Some(exec) = &auth.exec {
        if auth.auth_provider.is_some() {
            return Err((
                format!(
                    "authProvider cannot be provided in combination with an exec plugin for {user}"
                ),
                format!(
                    "keep only the exec block of kubeconfig user {user:?} (`kubectl config view --minify`)"
                ),
            ));
        }
        validate_exec(exec, user)?;
    }
    let mut refresh = None;
    let mut source = None;
    if let Some(provider) = auth.auth_provider.take() {
        // client-go uses a token, a certificate or basic auth before an
        // auth-provider, which then does nothing.
        let static_credential = auth.token.is_some()
            || auth.token_file.as_deref().is_some_and(|f| !f.is_empty())
            || auth.client_certificate.is_some()
            || auth.client_certificate_data.is_some()
            || auth.username.is_some();
        if !static_credential {
            let token = auth_provider_token(&provider, user)?;
            auth.token = Some(token.into());
            source = Some(Source::OidcIdToken {
                user: user.to_string(),
            });
        }
    }
    if let Some(file) = auth.token_file.clone().filter(|f| !f.is_empty()) {
        // client-go: the file wins over an inline token when both are set,
        // and it is read again on use; here it is read once per command.
        match read_token_file(Path::new(&file)) {
            Ok(token) => {
                auth.token = Some(token.into());
                refresh = Some(SystemTime::now() + Duration::from_secs(60));
                source = Some(Source::TokenFile {
                    user: user.to_string(),
                    path: file.clone(),
                });
            }
            Err(e) if auth.token.is_none() => {
                return Err((
                    format!("the kubeconfig user {user:?}: {e}"),
                    format!(
                        "point tokenFile of user {user:?} at a readable file holding the token (`kubectl config view --minify` shows it)"
                    ),
                ));
            }
            Err(_) => {}
        }
        auth.token_file = None;
    }
    // client-go: a token, basic auth or a client certificate in the
    // kubeconfig is used before any exec plugin (which then never runs).
    if auth.token.is_some()
        || auth.username.is_some()
        || auth.client_certificate.is_some()
        || auth.client_certificate_data.is_some()
    {
        auth.exec = None;
    }
    let Some(exec) = auth.exec.take() else {
        let user = user.to_string();
        let source = source.unwrap_or_else(|| {
            if auth.token.is_some() {
                Source::Token { user }
            } else if auth.client_certificate.is_some() || auth.client_certificate_data.is_some() {
                Source::ClientCertificate { user }
            } else if auth.username.is_some() {
                Source::Basic { user }
            } else {
                Source::Nothing { user }
            }
        });
        check_token(auth, &source)?;
        return Ok((refresh, source));
    };
    let cached = exec_credential(&exec, user).await?;
    let source = Source::ExecPlugin {
        user: user.to_string(),
        command: exec.command.clone().unwrap_or_default(),
    };
    match cached.credential {
        Credential::Token(t) => auth.token = Some(t.into()),
        Credential::Certificate { cert_pem, key_pem } => {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD;
            auth.client_certificate = None;
            auth.client_key = None;
            auth.client_certificate_data = Some(b64.encode(cert_pem));
            auth.client_key_data = Some(b64.encode(key_pem).into());
        }
    }
    check_token(auth, &source)?;
    Ok((cached.expires.map(|t| t - Duration::from_secs(10)), source))
}

/// A token no HTTP header can carry (a line break or another control
/// character inside it: a YAML `|` block, a token file of two lines) is an
/// error naming where it came from, as kubectl fails on it (`net/http:
/// invalid header field value for "Authorization"`), never a panic in
/// the HTTP stack.
fn check_token(auth: &AuthInfo, source: &Source) -> Result<(), (String, String)> {
    use secrecy::ExposeSecret as _;
    let Some(token) = &auth.token else {
        return Ok(());
    };
    let bad = token
        .expose_secret()
        .bytes()
        .any(|b| (b < 32 && b != b'\t') || b == 127);
    if !bad {
        return Ok(());
    }
    let whose = match source {
        Source::TokenFile { user, path } => {
            format!("the token in {path} (tokenFile of kubeconfig user {user:?})")
        }
        Source::ExecPlugin { user, command } => format!(
            "the token that {command} (the exec plugin of kubeconfig user {user:?}) printed"
        ),
        Source::OidcIdToken { user } => {
            format!("the oidc id-token of kubeconfig user {user:?}")
        }
        Source::Token { user }
        | Source::Basic { user }
        | Source::ClientCertificate { user }
        | Source::Nothing { user } => format!("the token of kubeconfig user {user:?}"),
        Source::ServiceAccount { token_file, .. } => {
            format!("the service-account token in {}", token_file.display())
        }
    };
    Err((
        format!(
            "{whose} holds a line break or another control character, which no HTTP header can carry (kubectl: invalid header field value for \"Authorization\")"
        ),
        "write the token on one line: `token: eyJ...` in the kubeconfig (not a `|` block), or a token file holding only the token".to_string(),
    ))
}

/// The bearer token of a kubeconfig `auth-provider`, as kubectl 1.26 and
/// later has them: `oidc` sends its `id-token` while it is valid; `azure`
/// and `gcp` are gone from client-go, told in kubectl's words with the
/// plugin that replaced them. The suite never refreshes an oidc token (that
/// would rewrite the kubeconfig): kubectl does, once, then the suite uses it.
fn auth_provider_token(
    provider: &kube::config::AuthProviderConfig,
    user: &str,
) -> Result<String, (String, String)> {
    match provider.name.as_str() {
        "azure" => Err((
            "The azure auth plugin has been removed. Please use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.".to_string(),
            format!(
                "convert the kubeconfig user {user:?} to kubelogin: `kubelogin convert-kubeconfig -l azurecli` (after `az login`), or fetch a new one with `az aks get-credentials`"
            ),
        )),
        "gcp" => Err((
            "The gcp auth plugin has been removed. Please use the \"gke-gcloud-auth-plugin\" kubectl/client-go credential plugin instead.".to_string(),
            format!(
                "install gke-gcloud-auth-plugin (`gcloud components install gke-gcloud-auth-plugin`) and fetch the kubeconfig again with `gcloud container clusters get-credentials`; kubeconfig user {user:?} still names the old plugin"
            ),
        )),
        "oidc" => {
            let id_token = provider
                .config
                .get("id-token")
                .map(|t| t.trim())
                .filter(|t| !t.is_empty());
            let hint = format!(
                "run `kubectl get ns` once: kubectl refreshes the id-token of kubeconfig user {user:?} with its refresh-token and writes it into the kubeconfig; or log in again with your identity provider's tool"
            );
            let Some(id_token) = id_token else {
                return Err((
                    format!("the oidc auth-provider of kubeconfig user {user:?} has no id-token"),
                    hint,
                ));
            };
            match jwt_expiry(id_token) {
                None => Err((
                    format!(
                        "the id-token of the oidc auth-provider of kubeconfig user {user:?} is not a valid JWT"
                    ),
                    hint,
                )),
                Some(exp) if exp <= SystemTime::now() => Err((
                    format!(
                        "the id-token of the oidc auth-provider of kubeconfig user {user:?} has expired"
                    ),
                    hint,
                )),
                Some(_) => Ok(id_token.to_string()),
            }
        }
        other => Err((
            format!("no Auth Provider found for name {other:?}"),
            format!(
                "kubeconfig user {user:?} names an auth-provider kubectl does not have either: use the exec credential plugin your cluster documents"
            ),
        )),
    }
}

/// The `exp` of a JWT (not verified: the API server does that), None when
/// it is not a JWT with a numeric `exp`.
fn jwt_expiry(token: &str) -> Option<SystemTime> {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(exp.max(0.0)))
}

/// The exec plugin API versions client-go (1.24 and later) speaks.
const EXEC_API_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// client-go's checks of an exec block (clientcmd `validateAuthInfo`,
/// `exec.newAuthenticator`), in kubectl's words: a command, an apiVersion
/// it speaks, named env entries, and an `interactiveMode` for
/// `client.authentication.k8s.io/v1` (v1beta1 defaults to IfAvailable).
fn validate_exec(exec: &ExecConfig, user: &str) -> Result<(), (String, String)> {
    let fix = |what: &str| {
        format!(
            "{what} in users[].user.exec of kubeconfig user {user:?} (`kubectl config view --minify` shows it; the plugin's install guide gives the block)"
        )
    };
    if exec.command.as_deref().is_none_or(str::is_empty) {
        return Err((
            format!("command must be specified for {user} to use exec authentication plugin"),
            fix("set command"),
        ));
    }
    let Some(api_version) = exec.api_version.as_deref().filter(|v| !v.is_empty()) else {
        return Err((
            format!("apiVersion must be specified for {user} to use exec authentication plugin"),
            fix(
                "set apiVersion: client.authentication.k8s.io/v1 (or v1beta1, as the plugin prints)",
            ),
        ));
    };
    if exec
        .env
        .iter()
        .flatten()
        .any(|e| e.get("name").is_none_or(|n| n.is_empty()))
    {
        return Err((
            format!(
                "env variable name must be specified for {user} to use exec authentication plugin"
            ),
            fix("give every env entry a name"),
        ));
    }
    if api_version == EXEC_API_VERSIONS[0] && exec.interactive_mode.is_none() {
        return Err((
            format!(
                "interactiveMode must be specified for {user} to use exec authentication plugin"
            ),
            fix("set interactiveMode: IfAvailable (or Never, Always)"),
        ));
    }
    if !EXEC_API_VERSIONS.contains(&api_version) {
        return Err((
            format!("exec plugin: invalid apiVersion {api_version:?}"),
            fix(
                "set apiVersion to client.authentication.k8s.io/v1 or v1beta1 (the one the plugin prints; v1alpha1 is gone since Kubernetes 1.24)",
            ),
        ));
    }
    Ok(())
}

/// The cache key of a plugin configuration (never printed).
fn key(exec: &ExecConfig) -> String {
    serde_json::to_string(exec).unwrap_or_default()
}

async fn exec_credential(exec: &ExecConfig, user: &str) -> Result<Cached, (String, String)> {
    let key = key(exec);
    let now = SystemTime::now();
    if let Some(c) = cache().lock().expect("not poisoned").get(&key)
        && c.expires.is_none_or(|t| t > now + Duration::from_secs(10))
    {
        return Ok(c.clone());
    }
    let cached = run_plugin(exec, user).await?;
    cache()
        .lock()
        .expect("not poisoned")
        .insert(key, cached.clone());
    Ok(cached)
}

const INSTALL_HELP: &str = "It looks like you are trying to use a client-go credential plugin that is not installed.\n\nTo learn more about this feature, consult the documentation available at:\n      https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins";

async fn run_plugin(exec: &ExecConfig, user: &str) -> Result<Cached, (String, String)> {
    let Some(command) = exec.command.clone().filter(|c| !c.is_empty()) else {
        return Err((
            format!("the exec plugin of kubeconfig user {user:?} has no command"),
            "set users[].user.exec.command in the kubeconfig (`kubectl config view --minify`)"
                .to_string(),
        ));
    };
    let api_version = exec
        .api_version
        .clone()
        .unwrap_or_else(|| "client.authentication.k8s.io/v1beta1".to_string());
    let stdin_tty = std::io::stdin().is_terminal();
    let interactive = match exec.interactive_mode {
        Some(ExecInteractiveMode::Never) => false,
        Some(ExecInteractiveMode::Always) => {
            if !stdin_tty {
                return Err((
                    format!(
                        "getting credentials for kubeconfig user {user:?}: exec plugin cannot support interactive mode: standard input is not a terminal"
                    ),
                    "run the command on a terminal (the plugin asks for input), or log in first so the plugin needs none".to_string(),
                ));
            }
            true
        }
        _ => stdin_tty,
    };
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
    }
    let info = serde_json::json!({
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": spec,
    });
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(exec.args.iter().flatten());
    for e in exec.env.iter().flatten() {
        if let (Some(n), Some(v)) = (e.get("name"), e.get("value")) {
            cmd.env(n, v);
        }
    }
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    // The plugin's prompts (a device code, "press enter") reach the
    // terminal as it writes them; only its stdout is ours.
    cmd.stderr(Stdio::inherit());
    cmd.stdout(Stdio::piped());
    cmd.stdin(if interactive {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    cmd.kill_on_drop(true);
    RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Not `output()`: tokio's makes stderr a pipe whatever was set.
    let out = match cmd.spawn() {
        Ok(mut child) => {
            use tokio::io::AsyncReadExt as _;
            let mut stdout = Vec::new();
            if let Some(mut pipe) = child.stdout.take() {
                let _ = pipe.read_to_end(&mut stdout).await;
            }
            let status = child.wait().await.map_err(|e| {
                (
                    format!("getting credentials: exec: executable {command}: {e}"),
                    format!("check the exec plugin of the kubeconfig user {user:?}"),
                )
            })?;
            std::process::Output {
                status,
                stdout,
                stderr: Vec::new(),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut msg = format!(
                "getting credentials: exec: executable {command} not found\n\n{INSTALL_HELP}"
            );
            if let Some(hint) = exec.install_hint.as_deref().filter(|h| !h.is_empty()) {
                msg.push_str("\n\n");
                msg.push_str(hint);
            }
            return Err((
                msg,
                format!(
                    "install {command} (the kubeconfig user {user:?} logs in with it) or put it on PATH; kubectl needs it too"
                ),
            ));
        }
        Err(e) => {
            return Err((
                format!(
                    "getting credentials: exec: executable {command} could not be started: {e}"
                ),
                format!(
                    "check that {command} is an executable program (the kubeconfig user {user:?} logs in with it)"
                ),
            ));
        }
    };
    if !out.status.success() {
        use std::os::unix::process::ExitStatusExt as _;
        // kubectl says `exit code -1` for a plugin killed by a signal;
        // the signal is more use.
        let how = match (out.status.code(), out.status.signal()) {
            (Some(code), _) => format!("failed with exit code {code}"),
            (None, Some(sig)) => format!("was killed by signal {sig}"),
            (None, None) => "failed".to_string(),
        };
        return Err((
            format!("getting credentials: exec: executable {command} {how}"),
            "the plugin's own messages (above, on stderr) say why; log in again with it (AKS: `kubelogin`/`az login`, EKS: `aws sso login`), then retry; `kubectl get ns` on the same kubeconfig shows the same failure"
                .to_string(),
        ));
    }
    parse_credential(&out.stdout, &api_version).map_err(|e| {
        (
            format!("getting credentials: exec plugin {command} of kubeconfig user {user:?}: {e}"),
            "the plugin printed no usable ExecCredential on stdout; update it, or check its apiVersion in the kubeconfig".to_string(),
        )
    })
}

/// Reads the plugin's ExecCredential (JSON). Errors never quote the
/// output: it holds the credential.
fn parse_credential(stdout: &[u8], api_version: &str) -> Result<Cached, String> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .map_err(|_| "its output is not an ExecCredential JSON object".to_string())?;
    if v.get("kind").and_then(|k| k.as_str()) != Some("ExecCredential") {
        return Err("its output is not of kind ExecCredential".to_string());
    }
    if let Some(got) = v.get("apiVersion").and_then(|k| k.as_str())
        && got != api_version
    {
        return Err(format!(
            "it answered apiVersion {got}, the kubeconfig asked for {api_version}"
        ));
    }
    let status = v
        .get("status")
        .ok_or_else(|| "its ExecCredential has no status".to_string())?;
    let field = |k: &str| {
        status
            .get(k)
            .and_then(|x| x.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let expires = match field("expirationTimestamp") {
        Some(ts) => Some(
            parse_rfc3339(&ts)
                .ok_or_else(|| "its expirationTimestamp is not an RFC 3339 time".to_string())?,
        ),
        None => None,
    };
    let credential = match (
        field("token"),
        field("clientCertificateData"),
        field("clientKeyData"),
    ) {
        (_, Some(cert_pem), Some(key_pem)) => {
            // Checked here, so a bad pair is the plugin's fault in the
            // message, not the kubeconfig's certificate data.
            let tags = |text: &str| -> Vec<String> {
                pem::parse_many(text.as_bytes())
                    .map(|all| all.iter().map(|p| p.tag().to_string()).collect())
                    .unwrap_or_default()
            };
            if !tags(&cert_pem).iter().any(|t| t == "CERTIFICATE") {
                return Err("its clientCertificateData is not a PEM CERTIFICATE".to_string());
            }
            if !tags(&key_pem).iter().any(|t| t.ends_with("PRIVATE KEY")) {
                return Err("its clientKeyData is not a PEM PRIVATE KEY".to_string());
            }
            Credential::Certificate { cert_pem, key_pem }
        }
        (Some(token), _, _) => Credential::Token(token.trim().to_string()),
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err(
                "it returned only one of clientCertificateData and clientKeyData, not both"
                    .to_string(),
            );
        }
        _ => {
            return Err(
                "its ExecCredential status has neither a token nor clientCertificateData and clientKeyData"
                    .to_string(),
            );
        }
    };
    Ok(Cached {
        credential,
        expires,
    })
}

/// `2026-11-30T07:00:00Z` or with an offset / fraction, as a system time.
fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if s.len() < 20 {
        return None;
    }
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        r if r.len() == 6 && (r.starts_with('+') || r.starts_with('-')) => {
            let sign = if r.starts_with('-') { -1 } else { 1 };
            let oh: i64 = r.get(1..3)?.parse().ok()?;
            let om: i64 = r.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    if secs >= 0 {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64))
    } else {
        Some(SystemTime::UNIX_EPOCH)
    }
}

/// The in-cluster service account directory: `UIS_SERVICE_ACCOUNT_DIR`
/// when set (tests, unusual mounts), else the standard mount.
pub fn service_account_dir() -> std::path::PathBuf {
    std::env::var_os("UIS_SERVICE_ACCOUNT_DIR")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/var/run/secrets/kubernetes.io/serviceaccount".into())
}

/// client-go's `inClusterClientConfig.Possible`: both service variables
/// set and the token file present.
pub fn in_cluster_possible() -> bool {
    let set = |n: &str| std::env::var_os(n).is_some_and(|v| !v.is_empty());
    set("KUBERNETES_SERVICE_HOST")
        && set("KUBERNETES_SERVICE_PORT")
        && service_account_dir().join("token").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_are_trimmed() {
        let dir = std::env::temp_dir().join(format!("uis-kube-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, body) in [("lf", "abc\n"), ("crlf", "abc\r\n"), ("none", "abc")] {
            let p = dir.join(name);
            std::fs::write(&p, body).unwrap();
            assert_eq!(read_token_file(&p).unwrap(), "abc");
        }
        let p = dir.join("empty");
        std::fs::write(&p, "\r\n").unwrap();
        assert!(read_token_file(&p).unwrap_err().contains("empty"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn rfc3339_times() {
        let t = parse_rfc3339("1970-01-02T00:00:01Z").unwrap();
        assert_eq!(t, SystemTime::UNIX_EPOCH + Duration::from_secs(86_401));
        let t = parse_rfc3339("2000-03-01T01:00:00.123+01:00").unwrap();
        assert_eq!(t, SystemTime::UNIX_EPOCH + Duration::from_secs(951_868_800));
        assert!(parse_rfc3339("tomorrow").is_none());
    }

    #[test]
    fn exec_blocks_are_checked_as_client_go_checks_them() {
        let block = |yaml: &str| -> ExecConfig { serde_json::from_str(yaml).unwrap() };
        let says = |yaml: &str| validate_exec(&block(yaml), "u").err().map(|e| e.0);
        assert_eq!(
            says(
                r#"{"command":"k","apiVersion":"client.authentication.k8s.io/v1","interactiveMode":"Never"}"#
            ),
            None
        );
        assert_eq!(
            says(r#"{"command":"k","apiVersion":"client.authentication.k8s.io/v1beta1"}"#),
            None
        );
        for (yaml, want) in [
            (
                r#"{"apiVersion":"client.authentication.k8s.io/v1","interactiveMode":"Never"}"#,
                "command must be specified for u",
            ),
            (
                r#"{"command":"k","interactiveMode":"Never"}"#,
                "apiVersion must be specified for u",
            ),
            (
                r#"{"command":"k","apiVersion":"client.authentication.k8s.io/v1"}"#,
                "interactiveMode must be specified for u",
            ),
            (
                r#"{"command":"k","apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
                "invalid apiVersion",
            ),
            (
                r#"{"command":"k","apiVersion":"client.authentication.k8s.io/v1beta1","env":[{"name":"","value":"x"}]}"#,
                "env variable name must be specified for u",
            ),
        ] {
            let got = says(yaml).unwrap_or_default();
            assert!(got.contains(want), "{yaml}: {got}");
        }
    }

    #[test]
    fn refusals_name_the_credential_never_its_value() {
        let hint = Source::ExecPlugin {
            user: "aks".into(),
            command: "kubelogin".into(),
        }
        .refused_hint();
        assert!(
            hint.contains("kubelogin") && hint.contains("\"aks\""),
            "{hint}"
        );
        let hint = Source::TokenFile {
            user: "u".into(),
            path: "/t".into(),
        }
        .refused_hint();
        assert!(hint.contains("/t"), "{hint}");
    }

    #[test]
    fn credentials_never_quote_the_output() {
        let e = parse_credential(b"SECRET-TOKEN", "v").err().unwrap();
        assert!(!e.contains("SECRET"));
        let e = parse_credential(
            br#"{"kind":"ExecCredential","apiVersion":"v","status":{"token":"t","expirationTimestamp":"SECRET"}}"#,
            "v",
        )
        .err()
        .unwrap();
        assert!(!e.contains("SECRET"), "{e}");
        let ok = parse_credential(
            br#"{"kind":"ExecCredential","apiVersion":"v","status":{"token":"t1"}}"#,
            "v",
        )
        .unwrap();
        assert!(matches!(ok.credential, Credential::Token(t) if t == "t1"));
    }
}
