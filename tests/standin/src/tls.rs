//! Certificates and TLS for the stand-in: a throwaway CA (ECDSA P-256), a
//! server certificate for 127.0.0.1 / localhost and a client certificate
//! (CN `uis-test`, O `system:masters`) like k3s and Rancher Desktop hand out,
//! with keys written as SEC1 PEM (`BEGIN EC PRIVATE KEY`), plus the rustls
//! server configuration (HTTP/1.1 only, optional client certificates).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use anyhow::{Context, Result};
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Everything the stand-in needs to serve TLS and to write a kubeconfig.
#[derive(Clone)]
pub struct Pki {
    /// CA certificate, PEM.
    pub ca_pem: String,
    /// Client certificate, PEM.
    pub client_cert_pem: String,
    /// Client key, SEC1 PEM (`BEGIN EC PRIVATE KEY`).
    pub client_key_pem: String,
    ca_der: CertificateDer<'static>,
    server_cert_der: CertificateDer<'static>,
    server_key_pkcs8: Vec<u8>,
}

fn p256() -> Result<KeyPair> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("generating a P-256 key")
}

/// Builds SEC1 `ECPrivateKey` DER for a P-256 key out of ring's PKCS#8
/// (whose inner key omits the curve, which Go's parser would reject).
fn sec1_der(key: &KeyPair) -> Result<Vec<u8>> {
    let pkcs8 = key.serialized_der();
    let marker = [0x02, 0x01, 0x01, 0x04, 0x20];
    let at = pkcs8
        .windows(marker.len())
        .position(|w| w == marker)
        .context("no EC private key inside PKCS#8")?;
    let scalar = pkcs8
        .get(at + marker.len()..at + marker.len() + 32)
        .context("short EC private key")?;
    let public = key.public_key_raw();
    anyhow::ensure!(public.len() == 65, "unexpected P-256 public key size");
    let mut body = vec![0x02, 0x01, 0x01, 0x04, 0x20];
    body.extend_from_slice(scalar);
    body.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    body.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    body.extend_from_slice(public);
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    Ok(out)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

impl Pki {
    /// Generates a fresh CA, server and client certificate.
    pub fn generate() -> Result<Pki> {
        let ca_key = p256()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "kube-standin-ca");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

        let server_key = p256()?;
        let mut sp = CertificateParams::new(vec!["localhost".to_string()])?;
        sp.subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        sp.distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        sp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let server_cert = sp.signed_by(&server_key, &ca)?;

        let client_key = p256()?;
        let mut cp = CertificateParams::new(Vec::<String>::new())?;
        cp.distinguished_name.push(DnType::CommonName, "uis-test");
        cp.distinguished_name
            .push(DnType::OrganizationName, "system:masters");
        cp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        cp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let client_cert = cp.signed_by(&client_key, &ca)?;

        Ok(Pki {
            ca_pem: ca.pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: pem("EC PRIVATE KEY", &sec1_der(&client_key)?),
            ca_der: ca.der().clone(),
            server_cert_der: server_cert.der().clone(),
            server_key_pkcs8: server_key.serialize_der(),
        })
    }

    /// The rustls server configuration: HTTP/1.1 ALPN, client certificates
    /// optional but verified against the CA when presented.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone())?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()?;
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![self.server_cert_der.clone(), self.ca_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_pkcs8.clone())),
            )?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}
