//! The meeting page's agenda for the agencies' designated officers (`[agenda]`): who they are,
//! when the agenda goes by itself, who had it when (each send with its delivery, from the
//! outbox), and `POST /meetings/{date}/agenda/send` to send it by hand: to every officer, or
//! again to one. Sending needs the confirming box (else the page asking again); it is audited
//! as `agenda.send` with the transaction that queues it ([`crate::store::Store::queue_agenda`]).

use super::auth::Signed;
use super::confirm::{self, Ask};
use super::page::{message, Page, PageError};
use super::AppState;
use crate::clock::uk_text;
use crate::config::{Area, Officer};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use axum::Router;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/meetings/{date}/agenda/send", post(send_by_hand))
}

/// The area a meeting page is about: the one asked for, or the deployment's only one.
fn area_of<'a>(deployment: &'a crate::config::Config, asked: Option<&str>) -> Option<&'a Area> {
    match asked {
        Some(id) => deployment.area(id),
        None if deployment.areas.len() == 1 => deployment.areas.first(),
        None => None,
    }
}

/// What the meeting page shows of the agenda's sending (None: a page of several areas' cases,
/// where no one area's officers apply).
pub(super) async fn section(state: &AppState, day: NaiveDate, asked: Option<&str>) -> Result<Option<Value>, PageError> {
    let deployment = state.cfg();
    let Some(area) = area_of(&deployment, asked) else { return Ok(None) };
    let plan = &area.config.agenda;
    let today = state.clock.today();
    let send_day = plan.send_day(day);
    let goes = send_day
        .filter(|_| plan.automatic)
        .map(|d| format!("{} at {} (UK time), {} working days before the meeting", uk_text(&d.to_string()), plan.send_at.format("%H:%M"), plan.working_days_before));
    let sends: Vec<Value> = state
        .store
        .agenda_sends(&area.id, day)
        .await?
        .into_iter()
        .map(|s| {
            let shown = |t: &Option<String>| t.as_deref().map(uk_text);
            json!({
                "agency": s.agency, "recipient": s.recipient, "cases": s.cases,
                "by": if s.requested_by == crate::store::agenda::BY_SCHEDULE { "the schedule".to_owned() } else { s.requested_by.clone() },
                "queued": uk_text(&s.requested_at), "status": if s.bounced_at.is_some() { "bounced".to_owned() } else { s.status.clone() },
                "sent": shown(&s.sent_at), "attempts": s.attempts, "error": s.last_error,
            })
        })
        .collect();
    let restricted = state.store.restricted_on_agenda(&area.id, day).await?;
    let goes_passed = send_day.is_some_and(|d| d < today);
    Ok(Some(json!({ "area": area.id, "officers": plan.officers, "goes": goes, "goes_passed": goes_passed, "sends": sends, "restricted": restricted, "past": day < today })))
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    area: String,
    /// `all`, or one officer's address (to send again).
    #[serde(default)]
    to: String,
    #[serde(default)]
    confirm: String,
}

async fn send_by_hand(State(state): State<AppState>, signed: Signed, Path(date): Path<String>, Form(form): Form<SendForm>) -> Page {
    let Some(day) = NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok() else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "That is not a meeting date.");
    };
    let now = state.clock.now();
    let at = crate::clock::stamp(now);
    let deployment = state.cfg();
    let asked = Some(form.area.trim()).filter(|a| !a.is_empty());
    let hidden = state.store.hidden_cases(signed.session.user.id, &at).await?;
    let Some(area) = area_of(&deployment, asked).filter(|a| hidden.sees_area(&a.id)) else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no such meeting.");
    };
    let page = format!("/meetings/{day}?area={}", area.id);
    if day < state.clock.today() {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "That meeting has passed", "An agenda is sent only for a meeting still to come.");
    }
    // A date the schedule does not hold is a meeting only while cases are listed for it.
    if !area.config.schedule.is_meeting_day(day) && state.store.agenda(day, Some(&area.id), &crate::store::hidden::HiddenCases::none()).await?.is_empty() {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no meeting on that date.");
    }
    let plan = &area.config.agenda;
    let to = form.to.trim();
    let officers: Vec<Officer> = plan.officers.iter().filter(|o| to == "all" || o.address.eq_ignore_ascii_case(to)).cloned().collect();
    if officers.is_empty() {
        let why = if plan.officers.is_empty() {
            "No designated officers are named for this area: an admin names them in the rules console, under agenda (one line each, \"Agency <address>\")."
        } else {
            "That address is not one of the area's designated officers."
        };
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "No one to send it to", why);
    }
    if !confirm::confirmed(&form.confirm) {
        let what = if officers.len() == 1 { format!("send the agenda to {}", officers[0].address) } else { format!("send the agenda to {} officers", officers.len()) };
        let explain = format!(
            "The agenda of {} lists the people to be discussed (named as the configuration says) and goes by secure email to each officer named. It cannot be called back once sent.",
            uk_text(&day.to_string())
        );
        let fields = vec![("area", area.id.clone()), ("to", to.to_owned())];
        return confirm::ask(&state, &signed, Ask { what: &what, explain: &explain, action: format!("/meetings/{day}/agenda/send"), fields, back: page });
    }
    let queued = super::agenda::send(&state.store, &deployment, area, day, &officers, false, signed.name(), Some(&signed.client), now).await?;
    tracing::info!(user = %signed.name(), area = %area.id, meeting = %day, officers = queued.len(), "A coordinator sent a meeting's agenda to the agencies' officers.");
    Ok(Redirect::to(&format!("{page}&sent={}", queued.len())).into_response())
}
