//! The listener and the connection loop: HTTP/1.1 through hyper, over TLS (rustls, ring) when a
//! certificate is configured. Each connection gets its peer address as axum's `ConnectInfo`.
//! A stop finishes the requests in hand (at most [`DRAIN`]) and closes the connections.
//!
//! The edge is bounded (`[web]`, see [`crate::config::WebEdge`]):
//! - at most `max_connections` connections (TLS handshakes included) at once: one more is closed
//!   as soon as it is accepted, never queued;
//! - a TLS handshake within [`HANDSHAKE`]; each request's headers, and on a kept-alive connection
//!   the next request, within `idle_timeout_secs` (hyper's header timeout runs while idle too);
//! - a request, body included, answered within `request_timeout_secs` ([`bounded`]: 408), and a
//!   body over [`csrf::MAX_FORM_BYTES`] refused (413) from its `Content-Length`, or when read;
//! - each refusal counted in aggregate ([`super::refusals`]), flushed every
//!   [`super::refusals::FLUSH`] and at stop.

use super::refusals::Kind;
use super::{auth, csrf, routes, AppState, WebOptions};
use anyhow::{Context, Result};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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
pub const HANDSHAKE: Duration = Duration::from_secs(10);

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
        let edge = state.edge;
        let app = routes::router(state.clone()).layer(axum::middleware::from_fn_with_state(state.clone(), bounded));
        let permits = Arc::new(tokio::sync::Semaphore::new(edge.max_connections));
        let mut flush = tokio::time::interval(super::refusals::FLUSH);
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let (tcp, peer) = tokio::select! {
                _ = stop.cancelled() => break,
                _ = flush.tick() => {
                    state.refusals.flush(&state.store, state.clock.now(), false).await;
                    continue;
                }
                accepted = self.tcp.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "A web connection could not be accepted.");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                drop(tcp);
                let state = state.clone();
                // In the connections' set, so that a stop waits for its audit row to be written.
                conns.spawn(async move { state.refusals.record(&state.store, state.clock.now(), Kind::TooManyConnections, &peer.ip().to_string(), None).await });
                continue;
            };
            let (app, tls, stop) = (app.clone(), self.tls.clone(), stop.clone());
            conns.spawn(async move {
                let _permit = permit;
                match tls {
                    None => connection(tcp, peer, app, edge.idle_timeout, stop).await,
                    Some(tls) => match tokio::time::timeout(HANDSHAKE, tls.accept(tcp)).await {
                        Ok(Ok(stream)) => connection(stream, peer, app, edge.idle_timeout, stop).await,
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
        state.refusals.flush(&state.store, state.clock.now(), true).await;
        Ok(())
    }
}

async fn connection<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: I, peer: SocketAddr, app: axum::Router, idle: Duration, stop: CancellationToken) {
    let svc = app.map_request(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
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

/// The outermost layer of every route: a body announced over [`csrf::MAX_FORM_BYTES`] is refused
/// (413) before it is read, and a request not answered within `request_timeout_secs` (a body
/// dripping in, say) is cut off (408). Both close the connection and are counted.
pub(super) async fn bounded(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let announced = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > csrf::MAX_FORM_BYTES as u64) {
        state.refusals.record(&state.store, state.clock.now(), Kind::BodyTooLarge, &auth::client_of(&parts, &state), Some(parts.uri.path())).await;
        return (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONNECTION, "close")], "request body too large\n").into_response();
    }
    let (client, path) = (auth::client_of(&parts, &state), parts.uri.path().to_owned());
    match tokio::time::timeout(state.edge.request_timeout, next.run(Request::from_parts(parts, body))).await {
        Ok(res) => res,
        Err(_) => {
            state.refusals.record(&state.store, state.clock.now(), Kind::RequestTimeout, &client, Some(&path)).await;
            (StatusCode::REQUEST_TIMEOUT, [(header::CONNECTION, "close")], "request timeout\n").into_response()
        }
    }
}

fn acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    crate::tls::install_crypto_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("web.tls_cert_file {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("web.tls_cert_file {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("web.tls_key_file {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).context("web TLS certificate and key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
