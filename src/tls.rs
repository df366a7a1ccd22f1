//! The TLS set-up shared by every network edge (IMAP, SMTP, the OAuth token endpoint, PostgreSQL,
//! the web server): ring as the one rustls crypto provider, and the certificates a client trusts.

use anyhow::{Context, Result};
use rustls::pki_types::{pem::PemObject, CertificateDer};
use std::path::Path;

/// Installs ring as the one rustls crypto provider (idempotent; call at start-up).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What a client trusts: the system's roots and the configured `ca_file`'s certificates.
pub struct TrustAnchors {
    /// The system's roots (what `update-ca-certificates` keeps in `/etc/ssl/certs`, or
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), without those rustls cannot use (as rustls
    /// skips them in a system store).
    pub system: Vec<CertificateDer<'static>>,
    /// The certificates of `ca_file`: each must be usable.
    pub configured: Vec<CertificateDer<'static>>,
}

/// The certificates a client of `section` (`imap`, `smtp`) trusts: the system's roots plus the
/// PEM file `ca_file`. A system store that cannot be read is not an error when `ca_file` gives
/// something to trust; with neither, the error says what to install.
pub fn trust_anchors(ca_file: Option<&Path>, section: &str) -> Result<TrustAnchors> {
    let system = rustls_native_certs::load_native_certs();
    let mut configured = Vec::new();
    if let Some(ca) = ca_file {
        for cert in CertificateDer::pem_file_iter(ca).with_context(|| format!("{section}.ca_file {}", ca.display()))? {
            configured.push(cert.with_context(|| format!("{section}.ca_file {}: not a PEM certificate", ca.display()))?);
        }
        anyhow::ensure!(!configured.is_empty(), "{section}.ca_file {}: no certificate in it", ca.display());
    }
    if system.certs.is_empty() && configured.is_empty() {
        let why = system.errors.first().map(|e| format!(" ({e})")).unwrap_or_default();
        anyhow::bail!("{section}: no CA certificate to trust: the system has none{why} and {section}.ca_file is not set (install ca-certificates, or set ca_file)");
    }
    let usable = |c: &CertificateDer<'static>| rustls::RootCertStore::empty().add(c.clone()).is_ok();
    Ok(TrustAnchors { system: system.certs.into_iter().filter(usable).collect(), configured })
}

/// [`trust_anchors`] as a rustls root store.
pub fn root_store(ca_file: Option<&Path>, section: &str) -> Result<rustls::RootCertStore> {
    let anchors = trust_anchors(ca_file, section)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in anchors.system {
        roots.add(cert).context("a system CA certificate")?;
    }
    for cert in anchors.configured {
        roots.add(cert).with_context(|| format!("{section}.ca_file: not a usable CA certificate"))?;
    }
    Ok(roots)
}

/// A TLS client configuration trusting [`root_store`]: the system's roots plus `ca_file`.
pub fn client_config(ca_file: Option<&Path>, section: &str) -> Result<rustls::ClientConfig> {
    install_crypto_provider();
    let roots = root_store(ca_file, section)?;
    Ok(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}
