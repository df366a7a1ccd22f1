//! The operators' listener (`[metrics] listen`, default `127.0.0.1:9184`): plain HTTP,
//! unauthenticated, three routes and nothing else:
//! - `GET /metrics`: the Prometheus text format ([`super::render`]);
//! - `GET /healthz`: 200 while the process answers at all;
//! - `GET /readyz`: 200 when the database answers and, for `run`, every mailbox this instance
//!   watches is logged in ([`super::mailboxes_ready`]); else 503 with a one-line reason.
//!
//! Served by `run` (for the life of the process: a changed `[metrics]` takes a restart) and by
//! `serve`. A listener that cannot bind is the caller's to log; the mail keeps flowing without it.

use crate::clock::Clock;
use crate::store::Store;
use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Which command serves: `run` is ready only with its mailboxes connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Run,
    Serve,
}

#[derive(Clone)]
struct Endpoints {
    store: Store,
    clock: Clock,
    role: Role,
}

/// Longest a request may take (a scrape reads the database within [`super::DATABASE_DEADLINE`]).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Longest `/readyz` waits for the database.
pub const PING_DEADLINE: Duration = Duration::from_secs(2);

/// Binds `listen` (port 0 picks a free one) and serves until `stop` on a task. Returns the bound
/// address and the task.
pub async fn start(listen: SocketAddr, store: Store, clock: Clock, role: Role, stop: CancellationToken) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    super::recorder();
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("metrics.listen: cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(axum::middleware::from_fn(bounded))
        .with_state(Endpoints { store, clock, role });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await {
            tracing::error!(error = %e, "The metrics listener failed.");
        }
    });
    Ok((addr, task))
}

/// Every request answered within [`REQUEST_DEADLINE`] (503 otherwise).
async fn bounded(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(req)).await {
        Ok(res) => res,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "timed out\n").into_response(),
    }
}

async fn metrics(State(e): State<Endpoints>) -> Response {
    let body = super::render(&e.store, &e.clock).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn healthz() -> Response {
    (StatusCode::OK, "alive\n").into_response()
}

async fn readyz(State(e): State<Endpoints>) -> Response {
    let not_ready = |why: String| (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")).into_response();
    match tokio::time::timeout(PING_DEADLINE, e.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return not_ready("database unreachable".to_owned()),
        Err(_) => return not_ready(format!("database did not answer within {} s", PING_DEADLINE.as_secs())),
    }
    if e.role == Role::Run {
        if let Err(why) = super::mailboxes_ready() {
            return not_ready(why);
        }
    }
    (StatusCode::OK, "ready\n").into_response()
}

/// [`start`] on the configuration's `[metrics] listen`, logging the address; None when the
/// listener is turned off, or could not start (logged as an error: the mail side goes on
/// without it).
pub async fn start_configured(cfg: &crate::config::Config, store: &Store, clock: &Clock, role: Role, stop: CancellationToken) -> Option<tokio::task::JoinHandle<()>> {
    let listen = match cfg.file.metrics.address() {
        Ok(Some(a)) => a,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, "The metrics listener is not started.");
            return None;
        }
    };
    match start(listen, store.clone(), clock.clone(), role, stop).await {
        Ok((addr, task)) => {
            tracing::info!(url = %format!("http://{addr}"), "The metrics endpoint is listening.");
            Some(task)
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "The metrics listener could not start; the service goes on without /metrics, /healthz and /readyz.");
            None
        }
    }
}
