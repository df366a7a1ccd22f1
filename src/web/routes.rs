//! The route table: the pages and the admins' console under one set of layers. Every POST passes
//! [`super::csrf::guard`] and every response carries [`security_headers`]; `/admin/*` needs the
//! admin role (else 403, in [`super::admin`]'s extractors). The server puts its own bound
//! (`server::bounded`) around the whole.

use super::page::not_found;
use super::{admin, agenda_sends, correct, csrf, data_return, pages, search, AppState};
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(correct::routes())
        .merge(search::routes())
        .merge(agenda_sends::routes())
        .merge(admin::routes())
        .merge(data_return::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .with_state(state)
}

/// Headers on every response: no scripts, frames, sniffing, referrers or caching (case pages and
/// exports included), and HSTS when the browser reached us over TLS ([`super::WebOptions::hsts`]).
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if state.hsts {
        h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
    }
    for (name, value) in [
        ("content-security-policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}
