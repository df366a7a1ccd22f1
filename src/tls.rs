//! The TLS set-up shared by every network edge (IMAP, SMTP, the web server): ring as the one
//! rustls crypto provider.

/// Installs ring as the one rustls crypto provider (idempotent; call at start-up).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
