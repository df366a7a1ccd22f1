//! Finding a person: `/search?q=` (a page of results at a time) and `/search.json?q=` (every
//! result: a list of objects with `case_ref`, `victim_ref`, `why` and more). The query is read
//! by `marac_core::search`, the candidates fetched by `Store::search`, only among what the user
//! may see. Each search is audited as `search` with what the query was read as and how many
//! were found, never the query itself (it is personal data); nothing is logged.

use super::audit as actions;
use super::auth::Signed;
use super::page::{render, v, Page};
use super::paging::{link, PageParam, Pager};
use super::AppState;
use crate::clock::stamp;
use crate::store::accounts::Audit;
use crate::store::search::SearchHit;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use marac_core::search::Query as SearchQuery;
use minijinja::context;
use serde::Deserialize;

/// Results shown on one page.
pub const PER_PAGE: usize = 50;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search_page)).route("/search.json", get(search_json))
}

#[derive(Deserialize, Default)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

/// What a query was read as, for the audit record (`name, police reference`).
fn read_as(q: &SearchQuery) -> String {
    let mut kinds = vec!["reference"];
    if q.dob.is_some() {
        kinds.push("date of birth");
    }
    if q.name.is_some() {
        kinds.push("name");
    }
    if q.police_ref.is_some() {
        kinds.push("police reference");
    }
    if q.postcode.is_some() {
        kinds.push("postcode");
    }
    kinds.join(", ")
}

/// The search, audited; None for an empty query (nothing searched, nothing recorded).
pub(super) async fn run(state: &AppState, signed: &Signed, raw: &str, how: &str) -> Result<Option<Vec<SearchHit>>, super::page::PageError> {
    let now = state.clock.now();
    let Some(q) = SearchQuery::read(raw, crate::clock::local_day(now).year()) else { return Ok(None) };
    let at = stamp(now);
    let hidden = state.store.hidden_cases(signed.session.user.id, &at).await?;
    let hits = state.store.search(&q, &hidden).await?;
    let detail = format!("{how}read as {}; {} found", read_as(&q), hits.len());
    state.store.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::SEARCH, None) }).await?;
    Ok(Some(hits))
}

async fn search_page(State(state): State<AppState>, signed: Signed, Query(p): Query<SearchParams>, Query(page): Query<PageParam>) -> Page {
    let q = p.q.trim().to_owned();
    let hits = run(&state, &signed, &q, "").await?;
    let searched = hits.is_some();
    let hits = hits.unwrap_or_default();
    let query = serde_urlencoded::to_string([("q", &q)]).unwrap_or_default();
    let pager = Pager::new(page.page, PER_PAGE, hits.len(), |n| link("/search", &query, n));
    let shown = pager.slice(&hits);
    Ok(render(&state, "search.html", Some(&signed), context! { q, searched, hits => v(shown), pager => v(&pager) })?.into_response())
}

async fn search_json(State(state): State<AppState>, signed: Signed, Query(p): Query<SearchParams>) -> Page {
    let hits = run(&state, &signed, &p.q, "json, ").await?.unwrap_or_default();
    Ok(Json(hits).into_response())
}
