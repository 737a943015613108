//! TLS settings for PostgreSQL connections, as libpq names them: `sslmode`,
//! `sslrootcert`, `sslcert`, `sslkey` (libpq docs, "Parameter Key Words"
//! and "SSL Support", table 34.1 "SSL Mode Descriptions",
//! <https://www.postgresql.org/docs/current/libpq-ssl.html>). Plain data and
//! the rules that need no TLS library; the connector that applies them is
//! `uis_ops::pg::tls`.
//!
//! Not for the Kubernetes API's TLS (kube's own client does that).

use crate::Failure;
use std::path::PathBuf;

/// libpq's `sslmode` (table 34.1): how much TLS a connection insists on.
///
/// | mode | eavesdropping protection | MITM protection |
/// |---|---|---|
/// | `disable` | no | no |
/// | `allow` | maybe (plain first, TLS only if the server refuses plain) | no |
/// | `prefer` (default) | maybe (TLS first, plain if TLS fails) | no |
/// | `require` | yes | no (but as `verify-ca` when a root CA file exists) |
/// | `verify-ca` | yes | depends on CA policy (chain checked, not the name) |
/// | `verify-full` | yes | yes (chain and host name checked) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Every mode, weakest first.
    pub const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    /// The libpq spelling (`verify-full`).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Parses the libpq spelling.
    ///
    /// Errors: the accepted values, as libpq's `invalid sslmode value`.
    pub fn parse(s: &str) -> Result<SslMode, String> {
        SslMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "invalid sslmode value {s:?}: expected one of disable, allow, prefer, require, verify-ca, verify-full"
                )
            })
    }

    /// Whether the server's certificate chain is checked against a root CA.
    pub fn verifies(self) -> bool {
        self >= SslMode::VerifyCa
    }

    /// Whether a connection without TLS is refused.
    pub fn requires_tls(self) -> bool {
        self >= SslMode::Require
    }
}

impl serde::Serialize for SslMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the trusted root certificates come from (libpq's `sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of one or more certificates.
    File(PathBuf),
    /// libpq's `sslrootcert=system` (PostgreSQL 16+): the operating
    /// system's trusted roots.
    System,
    /// PEM text read elsewhere (a Kubernetes Secret), with where it came
    /// from for messages (`Secret default/pgc-ca key ca.crt`).
    Pem { pem: Vec<u8>, source: String },
}

impl RootCert {
    /// Parses a `sslrootcert` value: `system` or a file path.
    pub fn parse(s: &str) -> RootCert {
        if s == "system" {
            RootCert::System
        } else {
            RootCert::File(PathBuf::from(s))
        }
    }

    /// For messages: the path, `system`, or the Secret.
    pub fn describe(&self) -> String {
        match self {
            RootCert::File(p) => p.display().to_string(),
            RootCert::System => "system".into(),
            RootCert::Pem { source, .. } => source.clone(),
        }
    }
}

/// A Kubernetes Secret key holding a CA certificate in PEM
/// (`--sslrootcert-secret [NS/]NAME[/KEY]`, key `ca.crt` by default, as
/// CloudNativePG's `<cluster>-ca` and cert-manager's Secrets have it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// `None`: the PostgreSQL namespace.
    pub namespace: Option<String>,
    pub name: String,
    pub key: String,
}

impl SecretRef {
    /// The key CloudNativePG and cert-manager put the CA certificate in.
    pub const DEFAULT_KEY: &'static str = "ca.crt";

    /// Parses `NAME`, `NAME/KEY` or `NS/NAME/KEY`: as `--admin-secrets`
    /// names a Secret (SECRET/KEY, in the PostgreSQL namespace), with an
    /// optional namespace in front when three parts are given.
    ///
    /// Errors: the accepted shapes with an example.
    pub fn parse(s: &str) -> Result<SecretRef, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || {
            format!(
                "invalid Secret reference {s:?}: expected NAME, NAME/KEY or NAMESPACE/NAME/KEY, e.g. pgc-ca/ca.crt"
            )
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        match parts.as_slice() {
            [name] => Ok(SecretRef {
                namespace: None,
                name: name.to_string(),
                key: Self::DEFAULT_KEY.into(),
            }),
            [name, key] => Ok(SecretRef {
                namespace: None,
                name: name.to_string(),
                key: key.to_string(),
            }),
            [ns, name, key] => Ok(SecretRef {
                namespace: Some(ns.to_string()),
                name: name.to_string(),
                key: key.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

/// The TLS settings of a connection: what the flags and `PGSSL*` variables
/// said. Files are read when connecting, not here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `None`: not given (libpq's default, `prefer`; `verify-full` with
    /// `sslrootcert=system`, as libpq 16+).
    pub mode: Option<SslMode>,
    /// `None`: `~/.postgresql/root.crt` when it exists (libpq's default).
    pub root_cert: Option<RootCert>,
    /// A Secret to read the root CA from (takes the place of `root_cert`
    /// once read, by the session that can reach the cluster).
    pub root_cert_secret: Option<SecretRef>,
    /// Client certificate (PEM); `None`: `~/.postgresql/postgresql.crt`
    /// when it exists.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM); `None`:
    /// `~/.postgresql/postgresql.key`.
    pub client_key: Option<PathBuf>,
    /// The name the server's certificate must carry for `verify-full` and
    /// the SNI sent (libpq's `host` when `hostaddr` gives the address).
    /// `None`: the host connected to; through the port-forward, the
    /// Service's in-cluster name (`SERVICE.NS.svc.cluster.local`).
    pub server_name: Option<String>,
}

/// libpq's directory of default TLS files: `~/.postgresql` (on Windows
/// `%APPDATA%\postgresql`).
pub fn default_dir() -> Option<PathBuf> {
    #[cfg(windows)]
    let home = std::env::var_os("APPDATA").map(|d| PathBuf::from(d).join("postgresql"));
    #[cfg(not(windows))]
    let home = std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".postgresql"));
    home
}

/// `name` in [`default_dir`] when that file exists (`root.crt`,
/// `postgresql.crt`, `postgresql.key`: libpq's defaults).
pub fn default_file(name: &str) -> Option<PathBuf> {
    default_dir().map(|d| d.join(name)).filter(|p| p.is_file())
}

impl TlsOptions {
    /// The mode in effect and the root certificates it uses, as libpq
    /// decides them (libpq docs 34.19.1 and 34.19.3):
    /// - no mode given: `prefer`, or `verify-full` with `sslrootcert=system`;
    /// - `require` with a root CA file (given, or `~/.postgresql/root.crt`
    ///   existing) behaves as `verify-ca`;
    /// - `sslrootcert=system` with a mode weaker than `verify-full` is an
    ///   error (libpq 16: "weak sslmode may not be used with
    ///   sslrootcert=system");
    /// - `verify-ca`/`verify-full` without any root certificate is an error
    ///   naming the file libpq would have read.
    ///
    /// Errors: phase `usage` (exit 2) for the two errors above.
    pub fn effective(&self) -> Result<(SslMode, Option<RootCert>), Failure> {
        let root = self.root_cert.clone().or_else(|| {
            if self.mode.is_none_or(|m| m >= SslMode::Require) {
                default_file("root.crt").map(RootCert::File)
            } else {
                None
            }
        });
        let mode = match (self.mode, &root) {
            (None, Some(RootCert::System)) => SslMode::VerifyFull,
            (None, _) => SslMode::Prefer,
            (Some(SslMode::Require), Some(_)) => SslMode::VerifyCa,
            (Some(m), _) => m,
        };
        if matches!(root, Some(RootCert::System)) && mode != SslMode::VerifyFull {
            return Err(Failure::usage(format!(
                "weak sslmode {:?} may not be used with sslrootcert=system (use \"verify-full\")",
                mode.as_str()
            )));
        }
        if mode.verifies() && root.is_none() {
            let path = default_dir()
                .map(|d| d.join("root.crt").display().to_string())
                .unwrap_or_else(|| "~/.postgresql/root.crt".into());
            return Err(Failure::usage(format!(
                "sslmode {mode} needs a root certificate and {path:?} does not exist"
            ))
            .hint(
                "give the CA with --sslrootcert FILE (PGSSLROOTCERT), --sslrootcert-secret NAME[/KEY] or --sslrootcert system; or use --sslmode require, which does not check the certificate",
            ));
        }
        Ok((mode, root))
    }

    /// The client certificate and key files: given, or libpq's defaults
    /// (`~/.postgresql/postgresql.crt` and `postgresql.key`) when that
    /// certificate exists; `None` sends no certificate. A given file that
    /// does not exist is an error when connecting (libpq skips it silently).
    pub fn client_files(&self) -> Option<(PathBuf, PathBuf)> {
        let cert = self
            .client_cert
            .clone()
            .or_else(|| default_file("postgresql.crt"))?;
        let key = self
            .client_key
            .clone()
            .or_else(|| default_dir().map(|d| d.join("postgresql.key")))
            .unwrap_or_else(|| PathBuf::from("postgresql.key"));
        Some((cert, key))
    }

    /// Whether any setting differs from libpq's defaults (so the
    /// credential formats say nothing when nothing was asked).
    pub fn is_default(&self) -> bool {
        self.mode.is_none()
            && self.root_cert.is_none()
            && self.root_cert_secret.is_none()
            && self.client_cert.is_none()
            && self.client_key.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_and_order() {
        for m in SslMode::ALL {
            assert_eq!(SslMode::parse(m.as_str()), Ok(m));
        }
        assert!(SslMode::parse("verify_full").is_err());
        assert!(SslMode::VerifyCa.verifies() && !SslMode::Require.verifies());
        assert!(SslMode::Require.requires_tls() && !SslMode::Prefer.requires_tls());
        assert_eq!(SslMode::default(), SslMode::Prefer);
    }

    #[test]
    fn require_with_a_root_cert_is_verify_ca() {
        let o = TlsOptions {
            mode: Some(SslMode::Require),
            root_cert: Some(RootCert::File("/x/ca.pem".into())),
            ..Default::default()
        };
        assert_eq!(o.effective().unwrap().0, SslMode::VerifyCa);
    }

    #[test]
    fn system_roots_default_to_verify_full_and_refuse_weaker_modes() {
        let mut o = TlsOptions {
            root_cert: Some(RootCert::System),
            ..Default::default()
        };
        assert_eq!(o.effective().unwrap().0, SslMode::VerifyFull);
        o.mode = Some(SslMode::VerifyCa);
        assert!(o.effective().is_err());
    }

    #[test]
    fn secret_refs() {
        assert_eq!(
            SecretRef::parse("pgc-ca").unwrap(),
            SecretRef {
                namespace: None,
                name: "pgc-ca".into(),
                key: "ca.crt".into()
            }
        );
        assert_eq!(
            SecretRef::parse("db/pgc-ca/tls.crt")
                .unwrap()
                .namespace
                .as_deref(),
            Some("db")
        );
        assert!(SecretRef::parse("a//b").is_err());
        assert!(SecretRef::parse("a/b/c/d").is_err());
    }
}
