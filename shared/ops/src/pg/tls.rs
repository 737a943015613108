//! TLS for the sync `postgres` client with rustls (no OpenSSL), applying
//! libpq's `sslmode` rules (libpq docs 34.19 "SSL Support", table 34.1
//! "SSL Mode Descriptions"; the fallbacks as libpq's `PQconnectPoll` in
//! `fe-connect.c` makes them):
//! - `disable`: plain only.
//! - `allow`: plain first; when the server answers that attempt with an
//!   error (a `hostssl`-only pg_hba, say), once more with TLS, unverified.
//! - `prefer` (the default): TLS when the server offers it (SSLRequest
//!   answered `S`), unverified; when the handshake or the login over TLS
//!   fails, once more without TLS. A server without TLS (`N`) is used plain.
//! - `require`: TLS or nothing, the certificate not checked (unless a root
//!   CA file exists: then as `verify-ca`, see
//!   [`uis_core::tls::TlsOptions::effective`]).
//! - `verify-ca`: TLS, the chain checked against `sslrootcert`.
//! - `verify-full`: also the host name: the certificate must name
//!   [`Tls::server_name`] (the SNI sent too, when it is a name).
//!
//! Client certificates (`sslcert`/`sslkey`) are sent in every mode that
//! speaks TLS. SCRAM channel binding (`tls-server-end-point`, RFC 5929) is
//! offered over TLS as libpq's `channel_binding=prefer` does.
//!
//! Not here: which flags set what (`uis_cli`), where the Service name
//! comes from (`Session`).

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use serde::Serialize;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use uis_core::Failure;
use uis_core::error::Phase;
use uis_core::tls::{RootCert, SslMode, TlsOptions};

/// What a connection ended up with, for `doctor` and messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsState {
    /// The mode in effect (after libpq's `require` + root CA rule).
    pub sslmode: SslMode,
    /// Whether the connection is encrypted.
    pub in_use: bool,
    /// `TLSv1_3` or `TLSv1_2` when in use.
    pub protocol: Option<String>,
    /// What was checked of the server's certificate.
    pub verified: Verified,
    /// The name checked (`verify-full`) and sent as SNI.
    pub server_name: String,
}

/// How much of the server's certificate was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verified {
    /// Not checked (`prefer`, `require`, `allow`) or no TLS.
    No,
    /// The chain up to a trusted root (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    ChainAndName,
}

/// A ready TLS setup: the rustls configuration for the effective mode and
/// the name the server's certificate is checked against.
#[derive(Clone)]
pub struct Tls {
    mode: SslMode,
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    server_name_text: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("mode", &self.mode)
            .field("server_name", &self.server_name_text)
            .finish()
    }
}

impl Tls {
    /// The setup `opts` asks for, checking certificates against
    /// `opts.server_name` or else `default_server_name` (the host
    /// connected to, or the Service's in-cluster name through the tunnel).
    /// Reads the root, client certificate and key files now.
    ///
    /// Errors: phase `usage` (exit 2) for libpq's mode/root rules (see
    /// [`TlsOptions::effective`]), a server name that is neither a DNS name
    /// nor an IP address, or a root/certificate/key file that cannot be read
    /// or holds no PEM certificate/key (the message names the file and the
    /// flag); a key file readable by group or others, as libpq refuses it.
    pub fn new(opts: &TlsOptions, default_server_name: &str) -> Result<Tls, Failure> {
        let (mode, root) = opts.effective()?;
        let name = opts
            .server_name
            .clone()
            .unwrap_or_else(|| default_server_name.to_string());
        let server_name = ServerName::try_from(name.clone()).map_err(|_| {
            Failure::usage(format!(
                "TLS server name {name:?} is neither a DNS name nor an IP address"
            ))
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Failure::new(Phase::Internal, format!("TLS setup: {e}")))?;
        let check = if mode.verifies() {
            let roots = load_roots(root.as_ref().expect("effective() checked"))?;
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| Failure::usage(format!("sslrootcert: {e}")))?;
            if mode == SslMode::VerifyFull {
                CertCheck::ChainAndName(webpki)
            } else {
                CertCheck::Chain(webpki)
            }
        } else {
            CertCheck::Any
        };
        let verifier = Arc::new(Verifier { provider, check });
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match opts.client_files() {
            Some((cert, key)) => {
                let chain = load_certs(&cert, "--sslcert")?;
                let key = load_key(&key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| Failure::usage(format!("sslcert/sslkey: {e}")))?
            }
            None => builder.with_no_client_auth(),
        };
        // libpq 17+ sends ALPN "postgresql" (required by direct TLS
        // negotiation); older servers ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        // SNI only for names: rustls sends none for an IP address, as libpq.
        Ok(Tls {
            mode,
            config: Arc::new(config),
            server_name,
            server_name_text: name,
        })
    }

    /// The effective `sslmode`.
    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// The name the certificate is checked against (and SNI).
    pub fn server_name(&self) -> &str {
        &self.server_name_text
    }

    /// Connects `config` (its own `ssl_mode` is overridden) following the
    /// mode's rules and fallbacks (see the module docs), returning the
    /// client and what TLS it got.
    ///
    /// Errors: the last attempt's `postgres::Error` (a refused
    /// certificate is a TLS error whose source names rustls' reason).
    pub fn connect(
        &self,
        config: &postgres::Config,
    ) -> Result<(postgres::Client, TlsState), postgres::Error> {
        use postgres::config::SslMode as Wire;
        let plain = |c: &postgres::Config| {
            let mut c = c.clone();
            c.ssl_mode(Wire::Disable);
            c.connect(postgres::NoTls)
                .map(|client| (client, self.state(None)))
        };
        let tls = |c: &postgres::Config, wire: Wire| {
            let mut c = c.clone();
            c.ssl_mode(wire);
            let probe = Arc::new(Mutex::new(Handshake::NotTried));
            let result = c.connect(MakeRustls {
                tls: self.clone(),
                probe: probe.clone(),
            });
            let seen = probe
                .lock()
                .map(|h| h.clone())
                .unwrap_or(Handshake::NotTried);
            (result, seen)
        };
        match self.mode {
            SslMode::Disable => plain(config),
            SslMode::Allow => match plain(config) {
                Err(first) if first.as_db_error().is_some() => {
                    let (r, seen) = tls(config, Wire::Require);
                    r.map(|client| (client, self.state(seen.protocol())))
                        .map_err(|second| pick_error(first, second))
                }
                r => r,
            },
            SslMode::Prefer => {
                let (r, seen) = tls(config, Wire::Prefer);
                match (r, &seen) {
                    (Ok(client), _) => Ok((client, self.state(seen.protocol()))),
                    // Handshake failed, or the server refused the login
                    // over TLS: libpq retries once without TLS.
                    (Err(e), Handshake::Tried) if e.as_db_error().is_some() || is_tls_error(&e) => {
                        plain(config).map_err(|second| pick_error(e, second))
                    }
                    (Err(e), Handshake::Done(_)) if e.as_db_error().is_some() => {
                        plain(config).map_err(|second| pick_error(e, second))
                    }
                    (Err(e), _) => Err(e),
                }
            }
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                let (r, seen) = tls(config, Wire::Require);
                r.map(|client| (client, self.state(seen.protocol())))
            }
        }
    }

    fn state(&self, protocol: Option<String>) -> TlsState {
        let in_use = protocol.is_some();
        TlsState {
            sslmode: self.mode,
            in_use,
            protocol,
            verified: match (in_use, self.mode) {
                (true, SslMode::VerifyFull) => Verified::ChainAndName,
                (true, SslMode::VerifyCa) => Verified::Chain,
                _ => Verified::No,
            },
            server_name: self.server_name_text.clone(),
        }
    }
}

/// Which error of two attempts (`allow`, `prefer`) to report: the second,
/// unless pg_hba refused it only for its encryption (`no pg_hba.conf entry
/// ... no encryption` / `SSL encryption`), when the first says more (a
/// wrong password over TLS, say). libpq prints both; one is enough here.
fn pick_error(first: postgres::Error, second: postgres::Error) -> postgres::Error {
    let refused_for_encryption = second
        .as_db_error()
        .is_some_and(|d| d.code().code() == "28000" && d.message().contains("encryption"));
    if refused_for_encryption {
        first
    } else {
        second
    }
}

/// Whether a connection error came from the TLS layer (handshake,
/// certificate) rather than the network or the server.
fn is_tls_error(e: &postgres::Error) -> bool {
    // tokio-postgres has no public kind accessor; its TLS errors say so.
    e.to_string().contains("TLS")
}

/// What happened to the handshake of one attempt.
#[derive(Debug, Clone)]
enum Handshake {
    NotTried,
    Tried,
    /// Done, with the protocol version.
    Done(String),
}

impl Handshake {
    fn protocol(&self) -> Option<String> {
        match self {
            Handshake::Done(p) => Some(p.clone()),
            _ => None,
        }
    }
}

/// The root CA certificate(s) in PEM from a Kubernetes Secret key, e.g.
/// CloudNativePG's `<cluster>-ca` key `ca.crt`, for `--sslrootcert-secret`
/// and for provider detection that knows where the operator publishes its
/// CA. `r.namespace` `None` means `default_namespace` (the PostgreSQL
/// namespace). Only reads; the PEM is checked when connecting.
///
/// Errors: phase `cluster` for API failures (403 included); `locate` when
/// the Secret or the key does not exist, naming both and the flag.
pub async fn root_cert_from_secret(
    cluster: &uis_kube::Cluster,
    default_namespace: &str,
    r: &uis_core::tls::SecretRef,
) -> Result<RootCert, Failure> {
    use k8s_openapi::api::core::v1::Secret;
    let ns = r.namespace.as_deref().unwrap_or(default_namespace);
    let secrets: kube::Api<Secret> = kube::Api::namespaced(cluster.client.clone(), ns);
    let what = format!("reading Secret {ns}/{}", r.name);
    let found = cluster.call(&what, secrets.get_opt(&r.name)).await?;
    let Some(secret) = found else {
        return Err(Failure::new(
            Phase::Locate,
            format!("the CA Secret {ns}/{} does not exist", r.name),
        )
        .hint(format!(
            "name the Secret holding the server's CA with --sslrootcert-secret [NS/]NAME[/KEY]; `kubectl get secrets -n {ns}` lists them"
        )));
    };
    let pem = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&r.key))
        .map(|v| v.0.clone())
        .ok_or_else(|| {
            let keys: Vec<String> = secret
                .data
                .as_ref()
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            Failure::new(
                Phase::Locate,
                format!(
                    "Secret {ns}/{} has no key {:?} (keys: {})",
                    r.name,
                    r.key,
                    keys.join(", ")
                ),
            )
            .hint("give the key: --sslrootcert-secret NAME/KEY")
        })?;
    Ok(RootCert::Pem {
        pem,
        source: format!("Secret {ns}/{} key {}", r.name, r.key),
    })
}

/// The same TLS settings for libpq (a local psql): `PGSSLMODE`,
/// `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY` for what was given, and, when
/// the certificate is checked against a name other than the address
/// connected to (through the tunnel), `PGHOST` = that name and
/// `PGHOSTADDR` = the address: libpq connects to `hostaddr` and checks
/// `host` (libpq docs 34.1.2, `hostaddr`). A CA read from a Secret is
/// written to a temporary file (mode 0600) that lives as long as the value.
///
/// Errors: phase `internal` when the temporary file cannot be written.
pub fn libpq_env(opts: &TlsOptions, server_name: &str, address: &str) -> Result<LibpqEnv, Failure> {
    let mut env = LibpqEnv::default();
    if let Some(m) = opts.mode {
        env.vars.push(("PGSSLMODE".into(), m.as_str().into()));
    }
    match &opts.root_cert {
        Some(RootCert::File(p)) => env
            .vars
            .push(("PGSSLROOTCERT".into(), p.display().to_string())),
        Some(RootCert::System) => env.vars.push(("PGSSLROOTCERT".into(), "system".into())),
        Some(RootCert::Pem { pem, .. }) => {
            let path = std::env::temp_dir().join(format!("uis-ca-{}.crt", std::process::id()));
            write_private(&path, pem).map_err(|e| {
                Failure::new(
                    Phase::Internal,
                    format!("cannot write the CA to {}: {e}", path.display()),
                )
            })?;
            env.vars
                .push(("PGSSLROOTCERT".into(), path.display().to_string()));
            env.temp = Some(path);
        }
        None => {}
    }
    if let Some(p) = &opts.client_cert {
        env.vars.push(("PGSSLCERT".into(), p.display().to_string()));
    }
    if let Some(p) = &opts.client_key {
        env.vars.push(("PGSSLKEY".into(), p.display().to_string()));
    }
    if server_name != address {
        env.vars.push(("PGHOST".into(), server_name.into()));
        env.vars.push(("PGHOSTADDR".into(), address.into()));
    }
    Ok(env)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)?.write_all(bytes)
}

/// libpq variables from [`libpq_env`]; removes its temporary CA file when
/// dropped.
#[derive(Debug, Default)]
pub struct LibpqEnv {
    /// (name, value), to set on the child process (after `PGHOST`).
    pub vars: Vec<(String, String)>,
    temp: Option<std::path::PathBuf>,
}

impl Drop for LibpqEnv {
    fn drop(&mut self) {
        if let Some(p) = &self.temp {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn load_roots(root: &RootCert) -> Result<RootCertStore, Failure> {
    let mut store = RootCertStore::empty();
    let certs = match root {
        RootCert::File(p) => load_certs(p, "--sslrootcert")?,
        RootCert::Pem { pem, source } => {
            let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| Failure::usage(format!("{source}: not PEM certificates: {e}")))?;
            if certs.is_empty() {
                return Err(Failure::usage(format!("{source} holds no PEM certificate")));
            }
            certs
        }
        RootCert::System => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                return Err(Failure::usage(
                    "sslrootcert=system: the system has no trusted root certificates",
                )
                .hint("install the CA bundle (ca-certificates), or give --sslrootcert FILE"));
            }
            found.certs
        }
    };
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(Failure::usage(format!(
            "sslrootcert {}: no usable CA certificate",
            root.describe()
        )));
    }
    Ok(store)
}

fn load_certs(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::usage(format!("{flag} {}: cannot read: {e}", path.display())))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::usage(format!("{flag} {}: not PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Failure::usage(format!(
            "{flag} {}: no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            // libpq (fe-secure-openssl.c): u=rw (0600) or less when owned
            // by the user, u=rw,g=r (0640) or less when owned by root.
            let allowed = if m.uid() == 0 { 0o640 } else { 0o600 };
            if m.mode() & 0o777 & !allowed != 0 {
                return Err(Failure::usage(format!(
                    "private key file {} has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root",
                    path.display()
                ))
                .hint(format!("chmod 0600 {}", path.display())));
            }
        }
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::usage(format!("--sslkey {}: cannot read: {e}", path.display())))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        Failure::usage(format!(
            "--sslkey {}: no PEM private key: {e}",
            path.display()
        ))
    })
}

/// The server certificate check of one sslmode. The handshake's signatures
/// are checked in every mode (the server holds the key of the certificate
/// it sent), with the provider's algorithms, as rustls's
/// `WebPkiServerVerifier` checks them.
#[derive(Debug)]
struct Verifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    check: CertCheck,
}

/// What [`Verifier`] checks of the certificate itself.
#[derive(Debug)]
enum CertCheck {
    /// `allow`/`prefer`/`require`: any certificate.
    Any,
    /// `verify-ca`: the chain only; a name mismatch is accepted, as libpq's
    /// verify-ca skips the host name check.
    Chain(Arc<WebPkiServerVerifier>),
    /// `verify-full`: the chain and the host name.
    ChainAndName(Arc<WebPkiServerVerifier>),
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (webpki, check_name) = match &self.check {
            CertCheck::Any => return Ok(ServerCertVerified::assertion()),
            CertCheck::Chain(webpki) => (webpki, false),
            CertCheck::ChainAndName(webpki) => (webpki, true),
        };
        // webpki checks the chain first, the name last: a name error means
        // the chain was good.
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !check_name => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The `MakeTlsConnect` handed to `postgres::Config::connect`; records the
/// handshake's outcome in `probe` for the fallback rules.
struct MakeRustls {
    tls: Tls,
    probe: Arc<Mutex<Handshake>>,
}

impl MakeTlsConnect<postgres::Socket> for MakeRustls {
    type Stream = RustlsStream;
    type TlsConnect = ConnectRustls;
    type Error = io::Error;

    fn make_tls_connect(&mut self, _domain: &str) -> Result<ConnectRustls, io::Error> {
        // The name is ours, not the configured host: through the tunnel the
        // host is 127.0.0.1 but the certificate names the Service.
        Ok(ConnectRustls {
            tls: self.tls.clone(),
            probe: self.probe.clone(),
        })
    }
}

struct ConnectRustls {
    tls: Tls,
    probe: Arc<Mutex<Handshake>>,
}

impl TlsConnect<postgres::Socket> for ConnectRustls {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream, io::Error>> + Send>>;

    fn connect(self, stream: postgres::Socket) -> Self::Future {
        Box::pin(async move {
            if let Ok(mut p) = self.probe.lock() {
                *p = Handshake::Tried;
            }
            let connector = tokio_rustls::TlsConnector::from(self.tls.config.clone());
            let s = connector
                .connect(self.tls.server_name.clone(), stream)
                .await?;
            let protocol = s
                .get_ref()
                .1
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            if let Ok(mut p) = self.probe.lock() {
                *p = Handshake::Done(protocol);
            }
            Ok(RustlsStream(Box::new(s)))
        })
    }
}

/// A TLS connection to the server.
pub struct RustlsStream(Box<tokio_rustls::client::TlsStream<postgres::Socket>>);

impl TlsStream for RustlsStream {
    /// `tls-server-end-point` (RFC 5929 section 4.1): the hash of the
    /// server's certificate with its signature's hash function, SHA-256
    /// for MD5 and SHA-1 (and for anything unrecognized, as PostgreSQL's
    /// server does for the common algorithms).
    fn channel_binding(&self) -> ChannelBinding {
        match self
            .0
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
        {
            Some(cert) => ChannelBinding::tls_server_end_point(end_point_hash(cert)),
            None => ChannelBinding::none(),
        }
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

/// The RFC 5929 hash of a DER certificate.
fn end_point_hash(cert: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    match signature_oid(cert) {
        // sha384WithRSAEncryption, ecdsa-with-SHA384
        Some(oid) if oid == OID_RSA_SHA384 || oid == OID_ECDSA_SHA384 => {
            sha2::Sha384::digest(cert).to_vec()
        }
        // sha512WithRSAEncryption, ecdsa-with-SHA512
        Some(oid) if oid == OID_RSA_SHA512 || oid == OID_ECDSA_SHA512 => {
            sha2::Sha512::digest(cert).to_vec()
        }
        _ => sha2::Sha256::digest(cert).to_vec(),
    }
}

const OID_RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const OID_RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const OID_ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];

/// The `signatureAlgorithm` OID of a DER certificate
/// (`SEQUENCE { tbsCertificate, SEQUENCE { OID, ... }, BIT STRING }`).
fn signature_oid(der: &[u8]) -> Option<&[u8]> {
    /// (tag, contents, rest) of the DER element at the start of `b`.
    fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, b) = b.split_first()?;
        let (&len0, b) = b.split_first()?;
        let (len, b) = if len0 < 0x80 {
            (len0 as usize, b)
        } else {
            let n = (len0 & 0x7f) as usize;
            if n == 0 || n > 4 || b.len() < n {
                return None;
            }
            let len = b[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize);
            (len, &b[n..])
        };
        (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
    }
    let (0x30, cert, _) = element(der)? else {
        return None;
    };
    let (_, _tbs, rest) = element(cert)?;
    let (0x30, alg, _) = element(rest)? else {
        return None;
    };
    let (0x06, oid, _) = element(alg)? else {
        return None;
    };
    Some(oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_oid_of_a_generated_certificate() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["db.example".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert_eq!(signature_oid(cert.der()), Some(OID_ECDSA_SHA384));
        assert_eq!(end_point_hash(cert.der()).len(), 48);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["db.example".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert_eq!(end_point_hash(cert.der()).len(), 32);
        assert_eq!(signature_oid(b"\x30\x85"), None);
    }
}
