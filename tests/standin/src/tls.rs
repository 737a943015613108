//! Certificates and TLS for the stand-in: a throwaway CA (ECDSA P-256), a
//! server certificate for 127.0.0.1 / localhost and a client certificate
//! (CN `uis-test`, O `system:masters`) like k3s and Rancher Desktop hand out,
//! with keys written as SEC1 PEM (`BEGIN EC PRIVATE KEY`), plus the rustls
//! server configuration (HTTP/1.1 only, optional client certificates).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use anyhow::{Context, Result};
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

/// The key as SEC1 PEM (`BEGIN EC PRIVATE KEY`) with the curve named in
/// its parameters, which Go's parser needs (`p256`'s own SEC1 output leaves
/// them out): read from ring's PKCS#8 by `p256`, written by `sec1`.
fn sec1_pem(key: &KeyPair) -> Result<String> {
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::pkcs8::{AssociatedOid as _, DecodePrivateKey as _};
    use sec1::der::EncodePem as _;
    let secret = p256::SecretKey::from_pkcs8_der(&key.serialize_der())
        .map_err(|e| anyhow::anyhow!("reading a P-256 PKCS#8 key: {e}"))?;
    let private = secret.to_bytes();
    let public = secret.public_key().to_encoded_point(false);
    sec1::EcPrivateKey {
        private_key: &private,
        parameters: Some(sec1::EcParameters::NamedCurve(p256::NistP256::OID)),
        public_key: Some(public.as_bytes()),
    }
    .to_pem(sec1::der::pem::LineEnding::LF)
    .map_err(|e| anyhow::anyhow!("writing a P-256 key as SEC1: {e}"))
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
            client_key_pem: sec1_pem(&client_key)?,
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
