//! TLS for the throwaway PostgreSQL: certificates made in the test (a CA of
//! the test's own with rcgen, ECDSA P-256, keys as PKCS#8 PEM, which both
//! OpenSSL in the server and psql and rustls in the suite read), and
//! [`Pg::enable_tls`], which turns `ssl = on` and replaces `pg_hba.conf`
//! (a `hostssl`-only file, say). Once TLS is on, the harness's own
//! superuser connections use the server's Unix socket, so a `hostssl`-only
//! server stays usable for set-up and read-back.
//!
//! Not for the Kubernetes stand-in's TLS (`kube_standin::tls`).

use crate::pg::Pg;
use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use std::path::{Path, PathBuf};

/// A certificate authority of the test's own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

fn p256() -> Result<KeyPair> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("generating a P-256 key")
}

impl TestCa {
    /// A fresh CA named `cn`.
    pub fn new(cn: &str) -> Result<TestCa> {
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, cn);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Ok(TestCa {
            issuer: CertifiedIssuer::self_signed(p, p256()?)?,
        })
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (each a DNS name or an IP address,
    /// as subject alternative names; the first also the CN).
    pub fn server(&self, names: &[&str]) -> Result<Issued> {
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        for n in names {
            p.subject_alt_names
                .push(match n.parse::<std::net::IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName((*n).try_into()?),
                });
        }
        if let Some(first) = names.first() {
            p.distinguished_name.push(DnType::CommonName, *first);
        }
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(p)
    }

    /// A client certificate with CN `user` (what pg_hba's `cert` method
    /// maps to the role).
    pub fn client(&self, user: &str) -> Result<Issued> {
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name.push(DnType::CommonName, user);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(p)
    }

    fn sign(&self, p: CertificateParams) -> Result<Issued> {
        let key = p256()?;
        let cert = p.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Writes `contents` to `path` with mode 0600 (libpq and the server refuse
/// keys others can read).
pub fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// The pg_hba lines [`Pg::enable_tls`] writes after the Unix socket's.
pub mod hba {
    /// TLS only, password login (`hostssl`).
    pub const SSL_ONLY: &str = "hostssl all all 127.0.0.1/32 scram-sha-256\n";
    /// With or without TLS, password login.
    pub const ANY: &str = "host all all 127.0.0.1/32 scram-sha-256\n";
    /// Without TLS only (`hostnossl`).
    pub const NO_SSL: &str = "hostnossl all all 127.0.0.1/32 scram-sha-256\n";
    /// TLS with a client certificate whose CN is the role (`cert`).
    pub const CERT: &str = "hostssl all all 127.0.0.1/32 cert\n";
}

impl Pg {
    /// Turns TLS on with `server`'s certificate and key, trusting
    /// `client_ca` for client certificates when given, and replaces
    /// pg_hba.conf with a Unix-socket line for the harness and
    /// `hba_lines` (see [`hba`]); reloads. From now on the harness's own
    /// connections go through the socket.
    pub fn enable_tls(
        &self,
        server: &Issued,
        client_ca: Option<&TestCa>,
        hba_lines: &str,
    ) -> Result<()> {
        let dir = self.scratch_dir();
        let file = |name: &str| -> PathBuf { dir.join(name) };
        write_private(&file("server.crt"), &server.cert_pem)?;
        write_private(&file("server.key"), &server.key_pem)?;
        if let Some(ca) = client_ca {
            write_private(&file("client-ca.crt"), &ca.pem())?;
        }
        let data = dir.join("data");
        let hba = format!("local all all scram-sha-256\n{hba_lines}");
        write_private(&data.join("pg_hba.conf"), &hba)?;
        self.give_to_server(&[
            file("server.crt"),
            file("server.key"),
            file("client-ca.crt"),
            data.join("pg_hba.conf"),
        ])?;
        let mut c = self.try_connect("postgres")?;
        let q = |p: PathBuf| p.display().to_string().replace('\'', "''");
        let ca_file = if client_ca.is_some() {
            q(file("client-ca.crt"))
        } else {
            String::new()
        };
        for (name, value) in [
            ("ssl_cert_file", q(file("server.crt"))),
            ("ssl_key_file", q(file("server.key"))),
            ("ssl_ca_file", ca_file),
            ("ssl", "on".to_string()),
        ] {
            // One statement each: ALTER SYSTEM refuses a transaction block.
            c.batch_execute(&format!("ALTER SYSTEM SET {name} = '{value}'"))?;
        }
        self.use_socket();
        c.batch_execute("SELECT pg_reload_conf()")?;
        // The reload is asynchronous: wait until a new session sees ssl on.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let on: String = self
                .try_connect("postgres")?
                .query_one("SHOW ssl", &[])?
                .get(0);
            let hba_ok: bool = self
                .try_connect("postgres")?
                .query_one(
                    "select coalesce(bool_and(error is null), false) from pg_hba_file_rules",
                    &[],
                )?
                .get(0);
            anyhow::ensure!(hba_ok, "pg_hba.conf has errors:\n{hba}");
            if on == "on" {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "ssl did not turn on; server log:\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(())
    }
}
