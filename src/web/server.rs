//! The listener and the connection loop: HTTP/1.1 through hyper, over TLS (rustls, ring) when a
//! certificate is configured. Each connection gets its peer address as axum's `ConnectInfo`.
//! A stop finishes the requests in hand (at most [`DRAIN`]) and closes the connections.

use super::{pages, AppState, WebOptions};
use anyhow::{Context, Result};
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Longest wait for requests in hand after a stop.
pub const DRAIN: Duration = Duration::from_secs(5);
const HANDSHAKE: Duration = Duration::from_secs(10);
const HEADER_READ: Duration = Duration::from_secs(30);

/// A bound listener, ready to serve.
pub struct Listener {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
}

impl Listener {
    /// Binds the address and reads the certificate (so errors show before anything is served).
    pub async fn bind(opts: &WebOptions) -> Result<Listener> {
        let tls = match &opts.tls {
            Some((cert, key)) => Some(acceptor(cert, key)?),
            None => None,
        };
        let tcp = TcpListener::bind(opts.listen).await.with_context(|| format!("listening on {}", opts.listen))?;
        Ok(Listener { tcp, tls })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.tcp.local_addr()?)
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Serves until `stop` is cancelled.
    pub async fn serve(self, state: AppState, stop: CancellationToken) -> Result<()> {
        let app = pages::router(state);
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let (tcp, peer) = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = self.tcp.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "A web connection could not be accepted.");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let (app, tls, stop) = (app.clone(), self.tls.clone(), stop.clone());
            conns.spawn(async move {
                match tls {
                    None => connection(tcp, peer, app, stop).await,
                    Some(tls) => match tokio::time::timeout(HANDSHAKE, tls.accept(tcp)).await {
                        Ok(Ok(stream)) => connection(stream, peer, app, stop).await,
                        _ => tracing::debug!("A TLS handshake failed or timed out."),
                    },
                }
            });
            while conns.try_join_next().is_some() {}
        }
        let drained = async { while conns.join_next().await.is_some() {} };
        if tokio::time::timeout(DRAIN, drained).await.is_err() {
            conns.abort_all();
        }
        Ok(())
    }
}

async fn connection<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: I, peer: SocketAddr, app: axum::Router, stop: CancellationToken) {
    let svc = app.map_request(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(svc));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}

fn acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    crate::mailbox::install_crypto_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("web.tls_cert_file {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("web.tls_cert_file {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("web.tls_key_file {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).context("web TLS certificate and key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
