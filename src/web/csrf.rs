//! CSRF tokens. Every POST, whatever its route, passes [`guard`]: its form must carry the field
//! `csrf` equal to the session's token (or, for the sign-in form, before any session exists, to
//! the one-time value of the sign-in cookie). Missing or wrong: 403, audited in aggregate
//! ([`super::refusals`]). A body over [`MAX_FORM_BYTES`]: 413.

use super::auth::{self, read_cookie};
use super::refusals::Kind;
use super::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const FIELD: &str = "csrf";
/// Largest form accepted (a rejection reason is the longest field).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-marac_login"
    } else {
        "marac_login"
    }
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok()?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        state.refusals.record(&state.store, state.clock.now(), Kind::BodyTooLarge, &auth::client_of(&parts, &state), Some(parts.uri.path())).await;
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large\n").into_response();
    };
    let sent = form_field(&bytes, FIELD);
    let mut actor = None;
    let expected = if parts.uri.path() == "/login" {
        read_cookie(&parts.headers, login_cookie_name(state.secure_cookies)).map(str::to_owned)
    } else {
        match auth::session_of(&parts, &state).await {
            Ok(s) => s.map(|s| {
                actor = Some(s.user.name);
                s.csrf_token
            }),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "Reading a web session failed.");
                None
            }
        }
    };
    match (&sent, &expected) {
        (Some(sent), Some(expected)) if !expected.is_empty() && auth::same(sent, expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        _ => {
            let client = auth::client_of(&parts, &state);
            let kind = if sent.is_none() { Kind::CsrfMissing } else { Kind::CsrfWrong };
            match &actor {
                // A signed-in user is known: their refusal is theirs, one row each.
                Some(name) => {
                    let (at, path) = (crate::clock::stamp(state.clock.now()), super::audit::truncated(parts.uri.path()));
                    let detail = if sent.is_none() { "no token" } else { "wrong token" };
                    let audit = crate::store::accounts::Audit { at: &at, actor: name, action: kind.action(), object: Some(&path), client: Some(&client), detail: Some(detail) };
                    if let Err(e) = state.store.audit(&audit).await {
                        tracing::error!(error = %format!("{e:#}"), "Writing the audit log failed.");
                    }
                }
                None => state.refusals.record(&state.store, state.clock.now(), kind, &client, Some(parts.uri.path())).await,
            }
            (StatusCode::FORBIDDEN, "forbidden: this form's security token is missing or out of date; reload the page and try again\n").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(super::form_field(b"a=1&csrf=ab%20c&b=2", "csrf").as_deref(), Some("ab c"));
        assert_eq!(super::form_field(b"a=1", "csrf"), None);
    }
}
