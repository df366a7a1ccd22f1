//! What every page shares: rendering a template with the signed-in user and CSRF token, a plain
//! message page, the 404 page, and the error type of a handler (logged, a plain 500).

use super::auth::Signed;
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;

/// An unexpected error: logged (its message names no personal data: store and template errors
/// only), and a plain 500 page.
pub struct PageError(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        tracing::error!(error = %format!("{:#}", self.0), "A web request failed.");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
    }
}

pub(super) type Page = Result<Response, PageError>;

pub(super) fn v<T: serde::Serialize>(x: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

pub(super) fn render(state: &AppState, name: &str, signed: Option<&Signed>, ctx: minijinja::Value) -> Result<Html<String>, PageError> {
    let base = context! {
        area => state.cfg().file.area.clone(),
        user => signed.map(|s| context! { name => s.name(), role => s.session.user.role.as_str() }),
        csrf => signed.map(|s| s.session.csrf_token.clone()),
    };
    let html = state.templates.get_template(name)?.render(context! { ..ctx, ..base })?;
    Ok(Html(html))
}

pub(super) fn message(state: &AppState, signed: Option<&Signed>, status: StatusCode, title: &str, text: &str) -> Page {
    Ok((status, render(state, "message.html", signed, context! { title, text })?).into_response())
}

pub(super) async fn not_found(State(state): State<AppState>, signed: Signed) -> Page {
    message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no such page.")
}
