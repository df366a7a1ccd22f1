//! The second confirmation of an irreversible action (close, mark heard, discard, merge,
//! split). The case page's forms carry a required checkbox (`confirm=yes`); a POST without it
//! (a form sent without the box ticked, a one-click request from elsewhere) does nothing and is
//! answered with a page asking again, with the same fields and the box to tick. No script: the
//! CSP forbids them.

use super::auth::Signed;
use super::page::{render, Page};
use super::AppState;
use axum::response::IntoResponse;
use minijinja::context;

/// The value of the confirming checkbox.
pub const CONFIRMED: &str = "yes";

/// Whether the form's `confirm` field says yes.
pub fn confirmed(confirm: &str) -> bool {
    confirm == CONFIRMED
}

/// What the confirmation page shows and sends again.
pub struct Ask<'a> {
    /// The action in a few words ("close the case").
    pub what: &'a str,
    /// What it does and what cannot be undone.
    pub explain: &'a str,
    /// Where the form posts (the same handler).
    pub action: String,
    /// The form's own fields, sent again.
    pub fields: Vec<(&'a str, String)>,
    /// Where Cancel goes.
    pub back: String,
}

/// The page asking again (200: nothing was done).
pub fn ask(state: &AppState, signed: &Signed, a: Ask<'_>) -> Page {
    let fields: Vec<(String, String)> = a.fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let ctx = context! { what => a.what.to_owned(), explain => a.explain.to_owned(), action => a.action, fields, back => a.back };
    Ok(render(state, "confirm.html", Some(signed), ctx)?.into_response())
}
