//! The SafeLives quarterly data return in the web queue: `/data-return?quarter=2025Q1` (the
//! counts per meeting and the quarter's total, linked from the meetings page) and its exports,
//! `/data-return.csv` and `/data-return.xlsx`, in the return's layout (`crate::data_return`).
//! Every view and export is audited (object: the quarter; detail: the area, and the format). The
//! counts leave out the restricted cases closed to the user, as the meetings' counts do; with
//! several areas, `?area=ID` picks one of the user's (else their first).

use super::audit as actions;
use super::auth::Signed;
use super::page::{message, render, v, Page};
use super::AppState;
use crate::clock::stamp;
use crate::data_return::{DataReturn, Quarter, COLUMNS};
use crate::store::accounts::Audit;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/data-return", get(page))
        .route("/data-return.csv", get(csv))
        .route("/data-return.xlsx", get(xlsx))
}

/// `?quarter=2025Q1&area=ID`, both optional: this quarter, the user's first area.
#[derive(Deserialize, Default)]
struct ReturnQuery {
    quarter: Option<String>,
    area: Option<String>,
}

/// What a request asks for, checked: the quarter, the area (id, name), the user's areas, the return.
struct Asked {
    quarter: Quarter,
    area: (String, String),
    areas: Vec<(String, String)>,
    several: bool,
    data: DataReturn,
}

/// The return `q` asks for, or the page that says why not (a quarter not written as one: 400;
/// an area not the user's, or none: 404).
async fn asked(state: &AppState, signed: &Signed, q: &ReturnQuery, at: &str) -> Result<Result<Asked, axum::response::Response>, super::page::PageError> {
    let quarter = match q.quarter.as_deref().filter(|s| !s.trim().is_empty()) {
        None => Quarter::of(state.clock.today()),
        Some(s) => match Quarter::parse(s) {
            Ok(q) => q,
            Err(_) => return Ok(Err(message(state, Some(signed), StatusCode::BAD_REQUEST, "Not a quarter", "Write the quarter as 2025Q1: the year, Q and 1 to 4.")?)),
        },
    };
    let hidden = state.store.hidden_cases(signed.session.user.id, at).await?;
    let cfg = state.cfg();
    let areas: Vec<(String, String)> = cfg.areas.iter().filter(|a| hidden.sees_area(&a.id)).map(|a| (a.id.clone(), a.name().to_owned())).collect();
    let area = match q.area.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => areas.iter().find(|a| a.0 == id).cloned(),
        None => areas.first().cloned(),
    };
    let Some(area) = area else { return Ok(Err(message(state, Some(signed), StatusCode::NOT_FOUND, "Not found", "There is no such area.")?)) };
    let cases = state.store.return_cases(quarter.first_day(), quarter.last_day(), Some(&area.0), &hidden).await?;
    let data = DataReturn::count(quarter, &cases);
    Ok(Ok(Asked { quarter, area, several: cfg.areas.len() > 1, areas, data }))
}

async fn page(State(state): State<AppState>, signed: Signed, Query(q): Query<ReturnQuery>) -> Page {
    let at = stamp(state.clock.now());
    let a = match asked(&state, &signed, &q, &at).await? {
        Ok(a) => a,
        Err(refused) => return Ok(refused),
    };
    state.store.audit(&Audit { detail: Some(&a.area.0), ..signed.audit(&at, actions::DATA_RETURN_VIEW, Some(&a.data.quarter)) }).await?;
    let query = |quarter: Quarter| if a.several { format!("?quarter={quarter}&area={}", a.area.0) } else { format!("?quarter={quarter}") };
    let titles: Vec<&str> = COLUMNS.iter().map(|(t, _)| *t).collect();
    let keys: Vec<&str> = COLUMNS.iter().map(|(_, k)| *k).collect();
    let rows: Vec<(String, Vec<u32>)> = a.data.meetings.iter().map(|m| (m.meeting_date.clone(), m.counts().to_vec())).collect();
    let total = a.data.total().counts().to_vec();
    let areas: Vec<(String, String, String)> = a.areas.iter().map(|(id, name)| (id.clone(), name.clone(), format!("?quarter={}&area={id}", a.quarter))).collect();
    Ok(render(
        &state,
        "data_return.html",
        Some(&signed),
        context! {
            quarter => a.data.quarter.clone(), from => a.quarter.first_day().to_string(), to => a.quarter.last_day().to_string(),
            area_name => a.area.1.clone(), several => a.several, areas => v(&areas),
            titles => v(&titles), keys => v(&keys), rows => v(&rows), total => v(&total),
            here => query(a.quarter), previous => query(a.quarter.previous()), next => query(a.quarter.next()),
        },
    )?
    .into_response())
}

async fn csv(State(state): State<AppState>, signed: Signed, Query(q): Query<ReturnQuery>) -> Page {
    let at = stamp(state.clock.now());
    let a = match asked(&state, &signed, &q, &at).await? {
        Ok(a) => a,
        Err(refused) => return Ok(refused),
    };
    let detail = format!("{} csv", a.area.0);
    state.store.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::DATA_RETURN_EXPORT, Some(&a.data.quarter)) }).await?;
    let disposition = format!("attachment; filename=\"marac-data-return-{}-{}.csv\"", a.area.0, a.data.quarter);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], a.data.csv()).into_response())
}

async fn xlsx(State(state): State<AppState>, signed: Signed, Query(q): Query<ReturnQuery>) -> Page {
    let at = stamp(state.clock.now());
    let a = match asked(&state, &signed, &q, &at).await? {
        Ok(a) => a,
        Err(refused) => return Ok(refused),
    };
    let bytes = a.data.xlsx(&a.area.1)?;
    let detail = format!("{} xlsx", a.area.0);
    state.store.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::DATA_RETURN_EXPORT, Some(&a.data.quarter)) }).await?;
    let disposition = format!("attachment; filename=\"marac-data-return-{}-{}.xlsx\"", a.area.0, a.data.quarter);
    Ok(([(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}
