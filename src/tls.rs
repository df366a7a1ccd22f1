//! The TLS set-up shared by every network edge (IMAP, SMTP, the OAuth token endpoint, the web
//! server): ring as the one rustls crypto provider, and the client's roots.

/// Installs ring as the one rustls crypto provider (idempotent; call at start-up).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A TLS client configuration trusting the bundled web roots plus the CA certificates (PEM) in
/// `ca_file`, if set; `key` names that key in errors (`imap.ca_file`).
pub fn client_config(ca_file: Option<&std::path::Path>, key: &str) -> anyhow::Result<rustls::ClientConfig> {
    use anyhow::Context;
    use rustls_pki_types::pem::PemObject;
    install_crypto_provider();
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(ca) = ca_file {
        for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).with_context(|| format!("{key} {}", ca.display()))? {
            roots.add(cert.with_context(|| format!("{key} {}", ca.display()))?).with_context(|| format!("{key}: not a usable CA certificate"))?;
        }
    }
    Ok(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}
