//! The coordinators' pages: signing in and out, the account, the queue, a case and its
//! downloads, meetings and their agendas, the dashboard. Every page needs a session (else a
//! redirect to `/login`; `/queue.json` answers 401), every view of a case and every change is
//! audited; the routing and its guards are [`super::routes`].

use super::audit as actions;
use super::auth::{self, cookie, session_cookie_name, Signed};
use crate::clock::stamp;
use super::page::{message, render, v, Page, PageError};
use super::{confirm, csrf, templates, AppState};
use crate::decide::{Outcome, ReplyKind};
use crate::identity::PersonName;
use crate::mime::Envelope;
use crate::reply::to_referrer;
use super::totp;
use crate::store::accounts::{AttemptOutcome, Audit, Enrolment, Refusal, User};
use crate::store::cases::{QueueFilter, RiskSignals};
use crate::store::subjects::{Access, HiddenCases};
use crate::store::{MessageRecord, Victim};
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use minijinja::context;
use serde::Deserialize;
use serde_json::Value;
use std::sync::OnceLock;

/// The pages' routes (merged by [`super::routes::router`] with the admins' console).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account_page).post(account_change))
        .route("/", get(queue))
        .route("/queue.json", get(queue_json))
        .route("/case/{reference}", get(case_page))
        .route("/case/{reference}/attachment/{n}", get(attachment))
        .route("/case/{reference}/original.eml", get(original))
        .route("/case/{reference}/decide", post(decide))
        .route("/case/{reference}/quarantine", post(quarantine))
        .route("/case/{reference}/status", post(case_status))
        .route("/case/{reference}/person", post(case_person))
        .route("/case/{reference}/break-glass", post(break_glass))
        .route("/dashboard", get(dashboard_page))
        .route("/meetings", get(meetings_page))
        .route("/meetings/{date}", get(meeting_page))
        .route("/meetings/{date}/agenda.xlsx", get(agenda_xlsx))
        .route("/meetings/{date}/agenda.csv", get(agenda_csv))
        .route("/style.css", get(style))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], templates::STYLE).into_response()
}

// ---- signing in and out

async fn login_form(State(state): State<AppState>, req: Request) -> Page {
    let (parts, _) = req.into_parts();
    if auth::session_of(&parts, &state).await?.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let kept = auth::read_cookie(&parts.headers, csrf::login_cookie_name(state.secure_cookies)).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).map(str::to_owned);
    login_page(&state, StatusCode::OK, None, kept)
}

/// The sign-in form. Its token is kept while the browser holds one (a second tab, or a request
/// for a missing page redirected here, must not invalidate the form already shown).
fn login_page(state: &AppState, status: StatusCode, error: Option<&str>, kept: Option<String>) -> Page {
    let token = kept.unwrap_or_else(auth::random_token);
    let html = render(state, "login.html", None, context! { login_csrf => token.clone(), error })?;
    let set = cookie(csrf::login_cookie_name(state.secure_cookies), &token, state.secure_cookies, Some(30 * 60));
    Ok((status, [(header::SET_COOKIE, set)], html).into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    /// `enrol` on the page that confirms a new authenticator app; else the sign-in form.
    #[serde(default)]
    step: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// The authenticator app's code, or a recovery code.
    #[serde(default)]
    code: String,
}

/// A hash to verify against when the user does not exist, so that the answer takes as long.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| auth::hash_password("not anybody's password at all").expect("hashing"))
}

const WRONG: &str = "The user name, password or code is wrong, or the account is disabled.";
const BUSY: &str = "The server is busy. Try again in a moment.";

fn too_many(r: &Refusal) -> String {
    format!("Too many failed attempts. Try again in {}, or ask an admin.", auth::wait_in_words(r.wait))
}

/// Signing in: the attempt is counted first (refused when the throttle says so: see
/// [`auth::admit`]), then the password is checked (a few at a time), then the second factor: the
/// code of the user's authenticator app (each code accepted once) or one of their recovery codes.
/// A user who has not set up an authenticator app is shown its QR code and secret instead, and
/// signs in by confirming a code from it ([`enrol`]). Every failure gets the same answer.
async fn login(State(state): State<AppState>, req: Request) -> Page {
    let (parts, body) = req.into_parts();
    let client = auth::client_of(&parts, &state);
    // The CSRF guard let this through, so the sign-in cookie is there and equals the form's token.
    let login_token = auth::read_cookie(&parts.headers, csrf::login_cookie_name(state.secure_cookies)).map(str::to_owned);
    let enrol_token = auth::read_cookie(&parts.headers, auth::enrol_cookie_name(state.secure_cookies)).map(str::to_owned);
    let Ok(Form(form)) = Form::<LoginForm>::from_request(Request::from_parts(parts, body), &state).await else {
        return login_page(&state, StatusCode::BAD_REQUEST, Some("Enter your user name and password."), None);
    };
    if form.step == "enrol" {
        return enrol(&state, &client, enrol_token, login_token, &form.code).await;
    }
    let username: String = form.username.trim().chars().take(64).collect();
    if username.is_empty() {
        return login_page(&state, StatusCode::BAD_REQUEST, Some("Enter your user name and password."), None);
    }
    let now = state.clock.now();
    let at = stamp(now);
    let attempt = match auth::begin_attempt(&state, &username, &client, now).await? {
        Ok(id) => id,
        Err(refused) => {
            tracing::warn!(address_wide = refused.address_wide, "A sign-in was refused: too many failures for the account or the address.");
            return login_page(&state, StatusCode::TOO_MANY_REQUESTS, Some(&too_many(&refused)), None);
        }
    };
    let found = state.store.user_for_login(&username).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| dummy_hash().to_owned());
    let password = form.password;
    let Some(ok) = auth::argon2_bounded(move || auth::verify_password(&password, &hash)).await? else {
        state.store.finish_attempt(attempt, AttemptOutcome::Unchecked).await?;
        tracing::warn!("A sign-in was refused: every password check was busy.");
        return login_page(&state, StatusCode::SERVICE_UNAVAILABLE, Some(BUSY), None);
    };
    let failed = |detail: Option<&'static str>| {
        let (state, username, client, at) = (state.clone(), username.clone(), client.clone(), at.clone());
        async move {
            state.store.finish_attempt(attempt, AttemptOutcome::Failed).await?;
            state.store.audit(&Audit { at: &at, actor: &username, action: "login.failed", object: None, client: Some(&client), detail }).await?;
            login_page(&state, StatusCode::UNAUTHORIZED, Some(WRONG), None)
        }
    };
    let user = match found {
        Some((user, _)) if ok && !user.disabled => user,
        _ => return failed(None).await,
    };
    let Some(secret) = state.store.totp_secret(user.id).await? else {
        state.store.finish_attempt(attempt, AttemptOutcome::Ok).await?;
        return start_enrolment(&state, &user, login_token, &at).await;
    };
    let secret = totp::Secret::from_base32(&secret).map_err(|e| anyhow::anyhow!("the stored TOTP secret of a user: {e}"))?;
    let signed_in_by = if totp::is_recovery_code(&form.code) {
        state.store.use_recovery_code(user.id, &totp::recovery_hash(&form.code), &at).await?.map(|left| Some(format!("recovery code ({left} left)")))
    } else {
        match secret.matching_step(&form.code, now.timestamp().max(0) as u64) {
            Some(step) if state.store.use_totp_step(user.id, step as i64).await? => Some(None),
            _ => None,
        }
    };
    let Some(detail) = signed_in_by else { return failed(Some("code")).await };
    state.store.finish_attempt(attempt, AttemptOutcome::Ok).await?;
    let token = auth::random_token();
    state.store.create_session(&user, &auth::token_hash(&token), &auth::random_token(), &at, &client, detail.as_deref()).await?;
    // After a recovery code, the account page says how many are left.
    let mut res = Redirect::to(if detail.is_some() { "/account" } else { "/" }).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, cookie(session_cookie_name(state.secure_cookies), &token, state.secure_cookies, None).parse()?);
    h.append(header::SET_COOKIE, cookie(csrf::login_cookie_name(state.secure_cookies), "", state.secure_cookies, Some(0)).parse()?);
    Ok(res)
}

/// The first sign-in after the password: a new secret, shown as a QR code and as text, kept
/// with a token in the browser's enrolment cookie until a code from it confirms it.
async fn start_enrolment(state: &AppState, user: &User, login_token: Option<String>, at: &str) -> Page {
    let secret = totp::Secret::generate();
    let token = auth::random_token();
    state.store.start_enrolment(user.id, &auth::token_hash(&token), &secret.to_base32(), at).await?;
    let set = cookie(auth::enrol_cookie_name(state.secure_cookies), &token, state.secure_cookies, Some(auth::ENROLMENT_TIME.as_secs()));
    let page = enrol_page(state, StatusCode::OK, &user.name, &secret, login_token, None)?;
    Ok(([(header::SET_COOKIE, set)], page).into_response())
}

fn enrol_page(state: &AppState, status: StatusCode, name: &str, secret: &totp::Secret, login_token: Option<String>, error: Option<&str>) -> Page {
    let issuer = format!("MARAC {}", state.cfg().file.area);
    let qr = totp::qr_svg(&secret.otpauth_uri(&issuer, name))?;
    let text = secret.to_base32();
    let grouped: Vec<&str> = text.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    let login_csrf = login_token.unwrap_or_default();
    let ctx = context! { qr => minijinja::Value::from_safe_string(qr), secret => grouped.join(" "), name, issuer, login_csrf, error };
    Ok((status, render(state, "enrol.html", None, ctx)?).into_response())
}

/// Confirms the authenticator app with a code from it: the second factor is kept, ten
/// recovery codes are made and shown (once), and the session opens. Counted by the throttle as a
/// sign-in attempt.
async fn enrol(state: &AppState, client: &str, enrol_token: Option<String>, login_token: Option<String>, code: &str) -> Page {
    let now = state.clock.now();
    let at = stamp(now);
    let since = stamp(now - chrono::Duration::from_std(auth::ENROLMENT_TIME).expect("small"));
    let found = match &enrol_token {
        Some(t) => state.store.enrolment(&auth::token_hash(t), &since).await?,
        None => None,
    };
    let (Some(token), Some((user, secret))) = (enrol_token, found) else {
        return login_page(state, StatusCode::BAD_REQUEST, Some("The setup of your authenticator app has expired. Sign in again."), None);
    };
    let attempt = match auth::begin_attempt(state, &user.name, client, now).await? {
        Ok(id) => id,
        Err(refused) => return login_page(state, StatusCode::TOO_MANY_REQUESTS, Some(&too_many(&refused)), None),
    };
    let secret = totp::Secret::from_base32(&secret).map_err(|e| anyhow::anyhow!("the TOTP secret of an enrolment: {e}"))?;
    let Some(step) = secret.matching_step(code, now.timestamp().max(0) as u64) else {
        state.store.finish_attempt(attempt, AttemptOutcome::Failed).await?;
        state.store.audit(&Audit { at: &at, actor: &user.name, action: "login.failed", object: None, client: Some(client), detail: Some("enrolment code") }).await?;
        let error = "That code is not the one the app shows now. Check that your phone's clock is right, and type the code shown now.";
        return enrol_page(state, StatusCode::UNAUTHORIZED, &user.name, &secret, login_token, Some(error));
    };
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let session = auth::random_token();
    let (session_hash, csrf_token) = (auth::token_hash(&session), auth::random_token());
    let enrolment = Enrolment {
        enrolment_token_hash: &auth::token_hash(&token),
        user: &user,
        secret: &secret.to_base32(),
        step: step as i64,
        recovery_hashes: &hashes,
        session_token_hash: &session_hash,
        csrf_token: &csrf_token,
        now: &at,
        client,
    };
    if !state.store.complete_enrolment(&enrolment).await? {
        state.store.finish_attempt(attempt, AttemptOutcome::Failed).await?;
        return login_page(state, StatusCode::CONFLICT, Some("Your authenticator app was set up meanwhile (in another window?). Sign in again."), None);
    }
    state.store.finish_attempt(attempt, AttemptOutcome::Ok).await?;
    tracing::info!(user = %user.name, "A user set up their authenticator app.");
    let html = render(state, "recovery.html", None, context! { codes })?;
    let mut res = (StatusCode::OK, html).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, cookie(session_cookie_name(state.secure_cookies), &session, state.secure_cookies, None).parse()?);
    h.append(header::SET_COOKIE, cookie(csrf::login_cookie_name(state.secure_cookies), "", state.secure_cookies, Some(0)).parse()?);
    h.append(header::SET_COOKIE, cookie(auth::enrol_cookie_name(state.secure_cookies), "", state.secure_cookies, Some(0)).parse()?);
    Ok(res)
}

use axum::extract::FromRequest;

async fn logout(State(state): State<AppState>, signed: Signed) -> Page {
    let at = stamp(state.clock.now());
    state.store.end_session(signed.session.id, Some(signed.audit(&at, "logout", None))).await?;
    let clear = cookie(session_cookie_name(state.secure_cookies), "", state.secure_cookies, Some(0));
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

/// The signed-in user's own account: a new password, and how many recovery codes are left.
async fn account_page(State(state): State<AppState>, signed: Signed) -> Page {
    account_view(&state, &signed, StatusCode::OK, None).await
}

async fn account_view(state: &AppState, signed: &Signed, status: StatusCode, error: Option<&str>) -> Page {
    let recovery_left = state.store.recovery_codes_left(signed.session.user.id).await?;
    Ok((status, render(state, "account.html", Some(signed), context! { error, recovery_left })?).into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// A new password for oneself, after the current one. The check of the current password is a
/// sign-in attempt: counted before it is made, throttled, a few at a time, and a wrong one is a
/// failure (so a session left open cannot be used to guess it). Every session of the user ends,
/// this one too.
async fn account_change(State(state): State<AppState>, signed: Signed, Form(form): Form<PasswordForm>) -> Page {
    let now = state.clock.now();
    let at = stamp(now);
    let name = signed.name().to_owned();
    let attempt = match auth::begin_attempt(&state, &name, &signed.client, now).await? {
        Ok(id) => id,
        Err(refused) => return account_view(&state, &signed, StatusCode::TOO_MANY_REQUESTS, Some(&too_many(&refused))).await,
    };
    let Some((_, hash)) = state.store.user_for_login(&name).await? else {
        state.store.finish_attempt(attempt, AttemptOutcome::Unchecked).await?;
        return account_view(&state, &signed, StatusCode::NOT_FOUND, Some("Your account is gone.")).await;
    };
    let current = form.current;
    let Some(ok) = auth::argon2_bounded(move || auth::verify_password(&current, &hash)).await? else {
        state.store.finish_attempt(attempt, AttemptOutcome::Unchecked).await?;
        return account_view(&state, &signed, StatusCode::SERVICE_UNAVAILABLE, Some(BUSY)).await;
    };
    if !ok {
        state.store.finish_attempt(attempt, AttemptOutcome::Failed).await?;
        state.store.audit(&Audit { at: &at, actor: &name, action: "login.failed", object: None, client: Some(&signed.client), detail: Some("password change") }).await?;
        return account_view(&state, &signed, StatusCode::UNAUTHORIZED, Some("The current password is wrong.")).await;
    }
    state.store.finish_attempt(attempt, AttemptOutcome::Ok).await?;
    if form.password != form.password_again {
        return account_view(&state, &signed, StatusCode::BAD_REQUEST, Some("The two new passwords differ.")).await;
    }
    let password = form.password;
    let Some(hashed) = auth::argon2_bounded(move || auth::hash_password(&password)).await? else {
        return account_view(&state, &signed, StatusCode::SERVICE_UNAVAILABLE, Some(BUSY)).await;
    };
    let Ok(hash) = hashed else {
        return account_view(&state, &signed, StatusCode::BAD_REQUEST, Some("A password needs at least 12 characters.")).await;
    };
    state.store.set_password_by(&name, &hash, &at, &name, Some(&signed.client)).await?;
    let clear = cookie(session_cookie_name(state.secure_cookies), "", state.secure_cookies, Some(0));
    let page = message(&state, None, StatusCode::OK, "Password changed", "Your password was changed and every session of yours has ended. Sign in again with the new password.")?;
    Ok(([(header::SET_COOKIE, clear)], page).into_response())
}

// ---- the queue

/// Cases listed for meetings shown on one page (in order; the filters narrow the list; the
/// others are on the next pages).
pub const PENDING_SHOWN: usize = 200;

fn row(r: &MessageRecord, s: &RiskSignals) -> Value {
    serde_json::json!({
        "reference": r.reference, "arrived": r.arrived, "reasons": r.reasons, "agency": s.agency, "meeting_date": r.meeting_date,
        "case_ref": r.case_ref, "repeat": s.repeat, "dash_yes": r.dash.map(|d| d.0), "high_risk": s.high_risk, "children": s.children,
        "criteria": r.criteria,
    })
}

/// Items waiting for a decision (in review, in quarantine) shown on one page of each list.
pub const WAITING_SHOWN: usize = 200;

/// `?review_page=N&quarantine_page=N`: the pages of the two lists waiting for a decision (the
/// pending list's is `page`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct WaitingPages {
    #[serde(default, deserialize_with = "super::paging::lenient")]
    review_page: Option<usize>,
    #[serde(default, deserialize_with = "super::paging::lenient")]
    quarantine_page: Option<usize>,
}

async fn queue(State(state): State<AppState>, signed: Signed, Query(f): Query<QueueFilter>, Query(page): Query<super::paging::PageParam>, Query(waiting): Query<WaitingPages>) -> Page {
    let at = stamp(state.clock.now());
    let hidden = hidden_for(&state, &signed, &at).await?;
    let skip = page.page.unwrap_or(1).saturating_sub(1).saturating_mul(PENDING_SHOWN);
    let (kept, pending_total) = state.store.queue_page_at(&f, Some(PENDING_SHOWN as i64), skip.min(i64::MAX as usize) as i64, &hidden).await?;
    let query = serde_urlencoded::to_string(&f).unwrap_or_default();
    // A page's address keeps the filters and the page each list is on.
    let address = |pending: Option<usize>, review: Option<usize>, quarantine: Option<usize>| {
        let mut parts: Vec<String> = Some(query.clone()).filter(|q| !q.is_empty()).into_iter().collect();
        parts.extend([("page", pending), ("review_page", review), ("quarantine_page", quarantine)].iter().filter_map(|(k, n)| n.map(|n| format!("{k}={n}"))));
        format!("/?{}", parts.join("&"))
    };
    let pager = super::paging::Pager::new(page.page, PENDING_SHOWN, pending_total, |n| address(Some(n), waiting.review_page, waiting.quarantine_page));
    // A page past the end shows the last one.
    let (kept, pending_total) = if pager.offset() != skip { state.store.queue_page_at(&f, Some(PENDING_SHOWN as i64), pager.offset() as i64, &hidden).await? } else { (kept, pending_total) };
    state.store.audit(&signed.audit(&at, actions::QUEUE_VIEW, None)).await?;
    let mut meetings: Vec<String> = state.store.meetings_with_cases(&hidden).await?.into_iter().map(|m| m.date).collect();
    meetings.dedup();
    // The two lists waiting for a decision come whole with every page of the pending list; each
    // is shown a page at a time, its pages linked (the filters kept).
    let part = |o: Outcome, wanted: Option<usize>, link: &dyn Fn(usize) -> String| {
        let all: Vec<Value> = kept.iter().filter(|(r, _)| r.outcome == o).map(|(r, s)| row(r, s)).collect();
        let pager = super::paging::Pager::new(wanted, WAITING_SHOWN, all.len(), link);
        (pager.slice(&all).to_vec(), all.len(), pager)
    };
    let (review, review_total, review_pager) = part(Outcome::Review, waiting.review_page, &|n| address(page.page, Some(n), waiting.quarantine_page));
    let (quarantined, quarantined_total, quarantine_pager) = part(Outcome::Quarantined, waiting.quarantine_page, &|n| address(page.page, waiting.review_page, Some(n)));
    let pending: Vec<Value> = kept.iter().filter(|(r, _)| !matches!(r.outcome, Outcome::Review | Outcome::Quarantined)).map(|(r, s)| row(r, s)).collect();
    let criteria: Vec<&str> = crate::config::Criterion::ALL.iter().map(|c| c.as_str()).collect();
    Ok(render(
        &state,
        "queue.html",
        Some(&signed),
        context! {
            review => v(review), review_total, review_pager => v(&review_pager), quarantined => v(quarantined), quarantined_total,
            quarantine_pager => v(&quarantine_pager), pending => v(pending), pending_total, pager => v(&pager), meetings, criteria, f => v(&f)
        },
    )?
    .into_response())
}

/// Exactly what `marac-intake queue --json` prints, as one JSON array.
/// Restricted cases the user may not see are left out, as on the page.
pub async fn queue_json(State(state): State<AppState>, signed: Signed) -> Page {
    let at = stamp(state.clock.now());
    let hidden = hidden_for(&state, &signed, &at).await?;
    let records: Vec<MessageRecord> = state.store.queue_page_hiding(&QueueFilter::default(), None, &hidden).await?.0.into_iter().map(|(r, _)| r).collect();
    state.store.audit(&Audit { detail: Some("json"), ..signed.audit(&at, actions::QUEUE_VIEW, None) }).await?;
    Ok(Json(records.iter().map(|r| r.to_json(false)).collect::<Vec<_>>()).into_response())
}

// ---- the case page and decisions

#[derive(Deserialize)]
struct CaseQuery {
    #[serde(default)]
    decided: Option<String>,
    /// A search for the other record of this victim, for the merge form (audited as a search).
    #[serde(default)]
    find: Option<String>,
}

async fn case_page(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Query(q): Query<CaseQuery>) -> Page {
    let at = stamp(state.clock.now());
    let access = match state.store.access(&reference, signed.session.user.id, &at).await? {
        Access::Restricted { .. } => return refuse_restricted(&state, &signed, &reference, &at).await,
        Access::OtherArea => return other_area(&state, &signed, &reference, &at).await,
        a => a,
    };
    let Some(mut view) = state.store.case_view(&reference).await? else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no message or case with that reference.");
    };
    // The victim's other cases that are restricted to others stay out of sight.
    let hidden = hidden_for(&state, &signed, &at).await?;
    view.messages.retain(|m| !hidden.hides(m.case_ref.as_deref()));
    view.referrals.retain(|r| !hidden.hides(Some(&r.case_ref)));
    view.outbox.retain(|(_, m, _)| view.messages.iter().any(|x| &x.reference == m));
    state.store.audit(&signed.audit(&at, actions::CASE_VIEW, Some(&reference))).await?;
    let i = &view.inspection;
    let fields = i.fields();
    let problems = i.problem_lines();
    let title = match (&view.case, &view.message) {
        (Some(c), _) if c.reference == reference => format!("Case {}", c.reference),
        _ => format!("Message {reference}"),
    };
    let notice = match q.decided.as_deref() {
        Some("accept") => Some("Accepted. The acknowledgement is in the outbox."),
        Some("reject") => Some("Rejected. The reply is in the outbox."),
        Some("place") => Some("Placed in the area: it now waits for a decision by that area's rules."),
        Some("release") => Some("Released from quarantine: it now waits for a decision."),
        Some("discard") => Some("Discarded: it stays recorded as ignored, with no reply."),
        Some("heard") => Some("Marked heard."),
        Some("close") => Some("Closed."),
        Some("move") => Some("Moved to another meeting."),
        Some("merge") => Some("Merged: the other record's cases and messages are now this victim's."),
        Some("split") => Some("Split: this case is now a victim of its own."),
        Some("unmerge") => Some("Merge undone: the other record's cases and messages are its own again."),
        Some("reopen") => Some("Reopened: the case is pending again."),
        Some("unheard") => Some("Undone: the case is pending again."),
        Some("break-glass") => Some("Break-glass access granted: it is recorded with your reason, and the admins are told."),
        Some("corrected") => Some("Corrected: your correction is kept beside what was read, and the decision on it is recorded (its reply, if any, is in the outbox)."),
        Some("synonym") => Some("The label was added to the field's synonyms: the reader knows it from now on."),
        _ => None,
    };
    let today = state.clock.today();
    let deployment = state.cfg();
    let message_area = view.message.as_ref().map(|m| m.area.clone()).unwrap_or_default();
    let area = deployment.area(&message_area);
    let cfg = deployment.of_area(&message_area);
    let upcoming: Vec<String> = cfg.schedule.meetings_between(today, today + chrono::Duration::days(180)).iter().map(|d| d.to_string()).collect();
    // A review item whose area could not be told: the areas it may be for that are the user's.
    let place_areas: Vec<Value> = match &view.message {
        Some(m) if m.area.is_empty() && m.outcome == crate::decide::Outcome::Review => {
            state
                .store
                .candidates_of(m.row)
                .await?
                .iter()
                .filter(|c| hidden.sees_area(c))
                .filter_map(|c| deployment.area(c))
                .map(|a| serde_json::json!({"id": a.id, "name": a.name()}))
                .collect()
        }
        _ => Vec::new(),
    };
    let area_name = area.filter(|_| deployment.areas.len() > 1).map(|a| a.name().to_owned());
    let outbox: Vec<Value> = view.outbox.iter().map(|(e, m, a)| serde_json::json!({"entry": e, "message_ref": m, "attempts": a})).collect();
    let kept = match &view.message {
        Some(m) => state.store.has_message_source(&m.reference).await?,
        None => false,
    };
    let restriction = match &view.case {
        Some(c) => state.store.restrictions().await?.into_iter().find(|r| r.case_ref == c.reference),
        None => None,
    };
    let break_glass_until = match access {
        Access::BreakGlass { until } => Some(until),
        _ => None,
    };
    let evidence = super::evidence::evidence(&state, &view).await?;
    // The merge form: the merges that can be undone, and the records a search found.
    let merges = match &view.case {
        Some(c) => state.store.merges_into(&c.person_ref).await?,
        None => Vec::new(),
    };
    let find = q.find.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned);
    let mut merge_candidates: Vec<crate::store::search::SearchHit> = Vec::new();
    if let (Some(f), Some(c)) = (&find, &view.case) {
        for h in super::search::run(&state, &signed, f, "merge form, ").await?.unwrap_or_default() {
            if h.victim_ref.as_ref().is_some_and(|p| *p != c.person_ref && !merge_candidates.iter().any(|x| x.victim_ref.as_ref() == Some(p))) {
                merge_candidates.push(h);
            }
        }
    }
    let ctx = context! {
        evidence => v(&evidence),
        merges => v(&merges), find, merge_candidates => v(&merge_candidates),
        restriction => v(&restriction), break_glass_until,
        attachments => v(i.attachments()), kept,
        title, notice, case => v(&view.case), m => v(&view.message), decisions => v(&view.decisions), fields => v(&fields),
        children => v(i.children()), answers => v(i.answers()), problems,
        messages => v(&view.messages), referrals => v(&view.referrals), outbox => v(&outbox), upcoming,
        place_areas => v(&place_areas), area_name,
    };
    Ok(render(&state, "case.html", Some(&signed), ctx)?.into_response())
}

#[derive(Deserialize)]
struct DecideForm {
    /// The area a review item whose area could not be told is placed in (decision `place`).
    #[serde(default)]
    area: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<DecideForm>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    let deployment = state.cfg();
    let mut tx = state.store.begin().await?;
    let Some(item) = tx.review_item(&reference).await? else {
        return message(&state, Some(&signed), StatusCode::CONFLICT, "Already decided", "This message is not (or no longer) waiting for a decision.");
    };
    // Decided by its area's rules (the top level's while its area is not told).
    let cfg = deployment.of_area(&item.record.area);
    let now = state.clock.now();
    let (at, today) = (stamp(now), crate::clock::local_day(now));
    let i = &item.inspection;
    let original = Envelope {
        message_id: item.record.message_id.clone(),
        subject: i.subject().map(str::to_owned),
        references: i.references().to_vec(),
        ..Envelope::default()
    };
    let (kind, reasons, action, detail) = match form.decision.as_str() {
        "place" => {
            let at_now = stamp(now);
            let hidden = hidden_for(&state, &signed, &at_now).await?;
            let area = form.area.trim();
            let candidates = tx.candidates_of(item.record.row).await?;
            if !item.record.area.is_empty() || !candidates.iter().any(|a| a == area) || !hidden.sees_area(area) || deployment.area(area).is_none() {
                return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose an area", "Choose one of your areas that this referral may be for.");
            }
            tx.place_in_area(&item, area).await?;
            tx.audit(&Audit { detail: Some(area), ..signed.audit(&at_now, actions::REVIEW_PLACE, Some(&reference)) }).await?;
            tx.commit().await?;
            tracing::info!(reference = %reference, area = %area, user = %signed.name(), "A review item was placed in an area.");
            return Ok(Redirect::to(&format!("/case/{reference}?decided=place")).into_response());
        }
        "accept" if item.record.area.is_empty() => {
            return message(&state, Some(&signed), StatusCode::CONFLICT, "Place it in an area first", "Which MARAC this referral is for could not be told: place it in one of its areas, then accept it.");
        }
        "accept" => {
            let (name, dob) = (i.victim_name(), i.victim_dob());
            if name.is_none() && dob.is_none() {
                return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Cannot accept", "Neither the victim's name nor their date of birth could be read from this message: reject it and ask the referrer to send the referral again.");
            }
            let victim = Victim { name: name.clone(), dob };
            let written = name.as_ref().map(|n| n.as_written().to_owned()).unwrap_or_else(|| "(name not given)".into());
            let key = name.as_ref().map(PersonName::key).unwrap_or_default();
            let accepted = tx.accept_review(&item, &victim, &written, &key, cfg.schedule.next_meeting(today), &cfg.file.case, signed.name(), &at, today).await?;
            (ReplyKind::Acknowledgement, Vec::new(), actions::REVIEW_ACCEPT, accepted.case_ref)
        }
        "reject" => {
            let reason = form.reason.trim();
            if reason.is_empty() || reason.chars().count() > 2000 {
                return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "A reason is needed", "Write the reason for the rejection (at most 2,000 characters): it is sent to the referrer.");
            }
            let reasons = vec![reason.to_owned()];
            tx.reject_review(&item, &reasons, signed.name(), &at).await?;
            (ReplyKind::Rejection, reasons, actions::REVIEW_REJECT, String::new())
        }
        _ => return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose a decision", "Choose accept or reject."),
    };
    if let Some(to) = item.record.reply_to.first() {
        let reply = to_referrer(kind, to, &original, &item.record.reference, &reasons, today, now.fixed_offset(), cfg)?;
        tx.queue_reply(item.record.row, &reply, now).await?;
    }
    tx.audit(&Audit { detail: Some(&detail).filter(|d| !d.is_empty()).map(String::as_str), ..signed.audit(&at, action, Some(&reference)) }).await?;
    tx.commit().await?;
    tracing::info!(reference = %reference, decision = %form.decision, user = %signed.name(), "A review item was decided.");
    Ok(Redirect::to(&format!("/case/{reference}?decided={}", form.decision)).into_response())
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    meeting: String,
    #[serde(default)]
    other: String,
    /// `yes` when the irreversible action was confirmed ([`super::confirm`]).
    #[serde(default)]
    confirm: String,
    /// The merge to undo (`unmerge`).
    #[serde(default)]
    merge: String,
}

/// The page asking again for an irreversible action posted without its confirmation; None
/// when it was confirmed or is not irreversible.
fn unconfirmed(state: &AppState, signed: &Signed, reference: &str, path: &str, form: &ActionForm) -> Option<Page> {
    if confirm::confirmed(&form.confirm) {
        return None;
    }
    let (what, explain) = match form.action.as_str() {
        "heard" => ("mark the case heard", "The case leaves the meeting's list as heard. (Undo heard makes it pending again.)"),
        "close" => ("close the case", "The case is closed and leaves every agenda. (It can be reopened.)"),
        "discard" => ("discard the message", "It stays on record as ignored and no reply is ever sent to its sender. This cannot be undone."),
        "merge" => ("merge the two victim records", "Every case, message and referral of the other record becomes this victim's, and identity matching finds them as one person from now on. (The merge can be undone from the case page.)"),
        "split" => ("split this case off", "This case, its messages and referrals move to a new victim record of their own."),
        _ => return None,
    };
    let mut fields = vec![("action", form.action.clone())];
    for (k, v) in [("meeting", &form.meeting), ("other", &form.other)] {
        if !v.is_empty() {
            fields.push((k, v.clone()));
        }
    }
    Some(confirm::ask(state, signed, confirm::Ask { what, explain, action: format!("/case/{reference}/{path}"), fields, back: format!("/case/{reference}") }))
}

/// Merge this case's victim with another record of the same person, or split this case off to
/// a victim of its own (a wrong match).
async fn case_person(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<ActionForm>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    if let Some(ask) = unconfirmed(&state, &signed, &reference, "person", &form) {
        return ask;
    }
    let mut tx = state.store.begin().await?;
    let Some(case) = tx.case_for_update(&reference).await? else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no case with that reference.");
    };
    let at = stamp(state.clock.now());
    let (action, detail) = match form.action.as_str() {
        "merge" => {
            let this: i64 = tx.case_person(case.id).await?;
            let Some(other) = tx.person_by_ref(form.other.trim()).await?.filter(|o| *o != this) else {
                return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "No such victim", "Give the reference (P000123) of another victim record.");
            };
            let (kept, emptied) = tx.merge_people_undoably(this, other, signed.name(), &at).await?;
            (actions::PERSON_MERGE, format!("{emptied} into {kept}"))
        }
        "unmerge" => {
            let this: i64 = tx.case_person(case.id).await?;
            let undone = match form.merge.trim().parse::<i64>() {
                Ok(id) => tx.undo_merge(id, this, &at).await?,
                Err(_) => None,
            };
            let Some((kept, restored)) = undone else {
                return message(&state, Some(&signed), StatusCode::CONFLICT, "No such merge", "That merge into this victim's record is not in force (undone already, or another record's).");
            };
            (actions::PERSON_UNMERGE, format!("{restored} out of {kept}"))
        }
        "split" => match tx.split_case(case.id, &at).await? {
            Some((old, new)) => (actions::PERSON_SPLIT, format!("{old} -> {new}")),
            None => return message(&state, Some(&signed), StatusCode::CONFLICT, "Nothing to split", "This victim has no other case: there is nothing to split it from."),
        },
        _ => return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose an action", "Choose merge, split or undo a merge."),
    };
    tx.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, action, Some(&case.reference)) }).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/case/{reference}?decided={}", form.action)).into_response())
}

/// Release a quarantined message to the review queue, or discard it (recorded as ignored).
async fn quarantine(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<ActionForm>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    if let Some(ask) = unconfirmed(&state, &signed, &reference, "quarantine", &form) {
        return ask;
    }
    let mut tx = state.store.begin().await?;
    let Some(item) = tx.quarantined_item(&reference).await? else {
        return message(&state, Some(&signed), StatusCode::CONFLICT, "Not quarantined", "This message is not (or no longer) quarantined.");
    };
    let at = stamp(state.clock.now());
    let action = match form.action.as_str() {
        "release" => {
            tx.release_quarantined(&item, signed.name(), &at).await?;
            actions::QUARANTINE_RELEASE
        }
        "discard" => {
            tx.discard_quarantined(&item, signed.name(), &at).await?;
            actions::QUARANTINE_DISCARD
        }
        _ => return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose an action", "Choose release or discard."),
    };
    tx.audit(&signed.audit(&at, action, Some(&reference))).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/case/{reference}?decided={}", form.action)).into_response())
}

/// Mark a pending case heard, close it (both confirmed), or move it to another meeting of the
/// schedule; make a heard case pending again (`unheard`), or reopen a closed one (`reopen`).
async fn case_status(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<ActionForm>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    if let Some(ask) = unconfirmed(&state, &signed, &reference, "status", &form) {
        return ask;
    }
    let mut tx = state.store.begin().await?;
    let Some(case) = tx.case_for_update(&reference).await? else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no case with that reference.");
    };
    let at = stamp(state.clock.now());
    let undo = match form.action.as_str() {
        "unheard" => Some(("heard", actions::CASE_UNHEARD)),
        "reopen" => Some(("closed", actions::CASE_REOPEN)),
        _ => None,
    };
    if let Some((from, action)) = undo {
        if !tx.reopen_case(case.id, from).await? {
            return message(&state, Some(&signed), StatusCode::CONFLICT, "Not changed", &format!("This case is {}, not {from}.", case.status));
        }
        tx.audit(&Audit { detail: Some(&format!("{from} -> pending")), ..signed.audit(&at, action, Some(&case.reference)) }).await?;
        tx.commit().await?;
        return Ok(Redirect::to(&format!("/case/{reference}?decided={}", form.action)).into_response());
    }
    if case.status != "pending" {
        return message(&state, Some(&signed), StatusCode::CONFLICT, "Not pending", "This case has been heard or closed already.");
    }
    let (action, detail) = match form.action.as_str() {
        "heard" => {
            tx.set_case_status(case.id, "heard").await?;
            (actions::CASE_HEARD, None)
        }
        "close" => {
            tx.set_case_status(case.id, "closed").await?;
            (actions::CASE_CLOSE, None)
        }
        "move" => {
            let today = state.clock.today();
            let meetings = state.cfg().schedule.meetings_between(today, today + chrono::Duration::days(366));
            let Some(date) = chrono::NaiveDate::parse_from_str(form.meeting.trim(), "%Y-%m-%d").ok().filter(|d| meetings.contains(d)) else {
                return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose a meeting", "Choose one of the coming meetings of the schedule.");
            };
            tx.move_case(case.id, date).await?;
            (actions::CASE_MOVE, Some(format!("{} -> {date}", case.meeting_date.as_deref().unwrap_or("none"))))
        }
        _ => return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose an action", "Choose heard, close or move."),
    };
    tx.audit(&Audit { detail: detail.as_deref(), ..signed.audit(&at, action, Some(&case.reference)) }).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/case/{reference}?decided={}", form.action)).into_response())
}

// ---- the original attachments

/// The message `reference` as received, or a page saying it was not kept.
async fn source_of(state: &AppState, signed: &Signed, reference: &str) -> Result<Result<Vec<u8>, Response>, PageError> {
    match state.store.message_source(reference).await? {
        Some(raw) => Ok(Ok(raw)),
        None => Ok(Err(message(
            state,
            Some(signed),
            StatusCode::NOT_FOUND,
            "Not kept",
            "There is no message with that reference kept as received (one recorded before originals were kept, an imported referral, or one over the size limit). The mailbox's folders hold every message.",
        )?)),
    }
}

/// A download of untrusted content: never shown in our origin (no type a browser would render),
/// named for the file system.
fn download(bytes: Vec<u8>, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, "application/octet-stream".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// A file name made of the sender's name for it, kept to letters, digits, space, `.`, `-`, `_`
/// (at most 80 characters), prefixed with our message reference; else `REF-attachment-N.EXT`.
fn download_name(reference: &str, name: Option<&str>, n: usize, kind: crate::sniff::FileKind) -> String {
    let cleaned: String = name.unwrap_or("").chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_') { c } else { '_' }).take(80).collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    if cleaned.chars().any(|c| c.is_ascii_alphanumeric()) {
        return format!("{reference}-{cleaned}");
    }
    let ext = serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_owned)).filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_lowercase())).unwrap_or_else(|| "bin".into());
    format!("{reference}-attachment-{}.{ext}", n + 1)
}

/// One attachment of a message as it was received (the n-th of the case page's list), audited
/// by its position and kind (its name can be personal: not in the audit log).
async fn attachment(State(state): State<AppState>, signed: Signed, Path((reference, n)): Path<(String, usize)>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    let raw = match source_of(&state, &signed, &reference).await? {
        Ok(raw) => raw,
        Err(page) => return Ok(page),
    };
    let limits = state.cfg().file.limits.clone();
    let email = tokio::task::spawn_blocking(move || crate::mime::parse(&raw, &limits)).await?;
    let Some(a) = email.attachments.into_iter().nth(n) else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "That message has no such attachment.");
    };
    let at = stamp(state.clock.now());
    let detail = format!("attachment {} ({})", a.at, serde_json::to_value(a.kind).ok().and_then(|k| k.as_str().map(str::to_owned)).unwrap_or_default());
    state.store.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::ATTACHMENT_DOWNLOAD, Some(&reference)) }).await?;
    let name = download_name(&reference, a.name.as_deref(), n, a.kind);
    Ok(download(a.bytes, &name))
}

/// The whole message as it was received (.eml), audited.
async fn original(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    let raw = match source_of(&state, &signed, &reference).await? {
        Ok(raw) => raw,
        Err(page) => return Ok(page),
    };
    let at = stamp(state.clock.now());
    state.store.audit(&signed.audit(&at, actions::MESSAGE_DOWNLOAD, Some(&reference))).await?;
    let name = download_name(&reference, Some("original.eml"), 0, crate::sniff::FileKind::Text);
    Ok(download(raw, &name))
}

// ---- meetings and the agenda

fn agenda_names(state: &AppState) -> crate::config::AgendaNames {
    super::agenda::names(&state.cfg())
}

fn meeting_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The schedule's coming meetings and every meeting with cases listed, with their counts.
/// Meetings shown on one page of the meetings list (by date; the page holding the next one is
/// shown first).
pub const MEETINGS_SHOWN: usize = 100;

/// Each area's meetings (of the areas the user works in): its schedule's next ones and every
/// meeting with cases listed. With one area, as it always was; with several, each meeting names
/// its area and its links carry `?area=ID`.
async fn meetings_page(State(state): State<AppState>, signed: Signed, Query(page): Query<super::paging::PageParam>) -> Page {
    let today = state.clock.today();
    // Counted without the restricted cases closed to this user (as their agendas are).
    let hidden = hidden_for(&state, &signed, &stamp(state.clock.now())).await?;
    let listed = state.store.meetings_with_cases(&hidden).await?;
    let deployment = state.cfg();
    let several = deployment.areas.len() > 1;
    let mut meetings: Vec<Value> = Vec::new();
    for area in deployment.areas.iter().filter(|a| hidden.sees_area(&a.id)) {
        let mut dates: Vec<String> = area.config.schedule.meetings_between(today, today + chrono::Duration::days(180)).iter().map(|d| d.to_string()).collect();
        dates.extend(listed.iter().filter(|m| m.area == area.id).map(|m| m.date.clone()));
        dates.sort();
        dates.dedup();
        for d in dates {
            let cases = listed.iter().find(|m| m.date == d && m.area == area.id).map_or(0, |m| m.cases);
            let query = if several { format!("?area={}", area.id) } else { String::new() };
            meetings.push(serde_json::json!({ "date": d, "cases": cases, "past": d.as_str() < today.to_string().as_str(), "area": if several { Some(area.name()) } else { None }, "query": query }));
        }
    }
    meetings.sort_by(|a, b| a["date"].as_str().cmp(&b["date"].as_str()).then(a["area"].as_str().cmp(&b["area"].as_str())));
    // Past meetings with cases still open add up over the years: a page at a time, the one with
    // the next meeting first.
    let upcoming = meetings.iter().position(|m| m["past"] == false).unwrap_or(meetings.len().saturating_sub(1));
    let wanted = page.page.or(Some(upcoming / MEETINGS_SHOWN + 1));
    let pager = super::paging::Pager::new(wanted, MEETINGS_SHOWN, meetings.len(), |n| format!("/meetings?page={n}"));
    let schedule = format!("{:?}", deployment.file.schedule.kind).to_lowercase();
    Ok(render(&state, "meetings.html", Some(&signed), context! { meetings => v(pager.slice(&meetings)), pager => v(&pager), schedule, several })?.into_response())
}

/// `?area=ID`: one area's meeting of that date (else every one of the user's areas).
#[derive(Deserialize, Default)]
struct MeetingQuery {
    area: Option<String>,
    /// After a send by hand: how many officers it was queued for.
    sent: Option<usize>,
}

async fn meeting_page(State(state): State<AppState>, signed: Signed, Path(date): Path<String>, Query(q): Query<MeetingQuery>) -> Page {
    let Some(day) = meeting_date(&date) else { return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "That is not a meeting date.") };
    let at = stamp(state.clock.now());
    let rows = match agenda_for(&state, &signed, day, q.area.as_deref(), &at).await? {
        Ok(rows) => rows,
        Err(refused) => return Ok(refused),
    };
    state.store.audit(&signed.audit(&at, actions::MEETING_VIEW, Some(&date))).await?;
    let officers = super::agenda_sends::section(&state, day, q.area.as_deref()).await?;
    let query = q.area.as_deref().map(|a| format!("?area={a}")).unwrap_or_default();
    let sent = q.sent;
    Ok(render(&state, "meeting.html", Some(&signed), context! { date, rows => v(&rows), officers => v(&officers), query, sent })?.into_response())
}

async fn agenda_xlsx(State(state): State<AppState>, signed: Signed, Path(date): Path<String>, Query(q): Query<MeetingQuery>) -> Page {
    let Some(day) = meeting_date(&date) else { return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "That is not a meeting date.") };
    let at = stamp(state.clock.now());
    let rows = match agenda_for(&state, &signed, day, q.area.as_deref(), &at).await? {
        Ok(rows) => rows,
        Err(refused) => return Ok(refused),
    };
    let bytes = super::agenda::xlsx(day, &rows, agenda_names(&state))?;
    state.store.audit(&Audit { detail: Some("xlsx"), ..signed.audit(&at, actions::AGENDA_EXPORT, Some(&date)) }).await?;
    let disposition = format!("attachment; filename=\"marac-agenda-{day}.xlsx\"");
    Ok(([(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

async fn agenda_csv(State(state): State<AppState>, signed: Signed, Path(date): Path<String>, Query(q): Query<MeetingQuery>) -> Page {
    let Some(day) = meeting_date(&date) else { return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "That is not a meeting date.") };
    let at = stamp(state.clock.now());
    let rows = match agenda_for(&state, &signed, day, q.area.as_deref(), &at).await? {
        Ok(rows) => rows,
        Err(refused) => return Ok(refused),
    };
    state.store.audit(&Audit { detail: Some("csv"), ..signed.audit(&at, actions::AGENDA_EXPORT, Some(&date)) }).await?;
    let disposition = format!("attachment; filename=\"marac-agenda-{day}.csv\"");
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], super::agenda::csv(&rows, agenda_names(&state))).into_response())
}

async fn dashboard_page(State(state): State<AppState>, signed: Signed) -> Page {
    // The figures leave out the restricted cases closed to this user.
    let hidden = hidden_for(&state, &signed, &stamp(state.clock.now())).await?;
    let data = state.store.dashboard_data(&hidden).await?;
    let s = super::dashboard::summarise(&data, state.clock.today());
    // The admins' notice of break-glass accesses to restricted cases, until one marks each seen.
    let break_glass = if signed.is_admin() { state.store.break_glass_unseen().await? } else { Vec::new() };
    Ok(render(&state, "dashboard.html", Some(&signed), context! { s => v(&s), break_glass => v(&break_glass) })?.into_response())
}

// ---- restricted cases

/// The restricted cases `signed` may not see now.
async fn hidden_for(state: &AppState, signed: &Signed, at: &str) -> Result<HiddenCases, PageError> {
    Ok(state.store.hidden_cases(signed.session.user.id, at).await?)
}

/// A meeting's agenda (of `area`, else of all of `signed`'s areas) without the restricted cases
/// they may not see; another area's (or one that does not exist) is refused as not found.
async fn agenda_for(state: &AppState, signed: &Signed, day: chrono::NaiveDate, area: Option<&str>, at: &str) -> Result<Result<Vec<crate::store::cases::AgendaRow>, Response>, PageError> {
    let hidden = hidden_for(state, signed, at).await?;
    if let Some(a) = area {
        if !hidden.sees_area(a) || state.cfg().area(a).is_none() {
            return Ok(Err(message(state, Some(signed), StatusCode::NOT_FOUND, "Not found", "There is no such meeting.")?));
        }
    }
    let mut rows = state.store.agenda(day, area, &hidden).await?;
    rows.retain(|r| !hidden.hides(Some(&r.case_ref)));
    Ok(Ok(rows))
}

/// The "restricted" page (403) when `reference` is a restricted case (or one of its messages)
/// closed to `signed`; None when they may see it.
pub(super) async fn restricted(state: &AppState, signed: &Signed, reference: &str) -> Result<Option<Response>, PageError> {
    let at = stamp(state.clock.now());
    match state.store.access(reference, signed.session.user.id, &at).await? {
        Access::Restricted { .. } => Ok(Some(refuse_restricted(state, signed, reference, &at).await?)),
        Access::OtherArea => Ok(Some(other_area(state, signed, reference, &at).await?)),
        _ => Ok(None),
    }
}

/// Another area's case, message or person: answered as a reference that does not exist (404),
/// so that nothing tells whether it does; the refusal is audited.
async fn other_area(state: &AppState, signed: &Signed, reference: &str, at: &str) -> Page {
    state.store.audit(&Audit { detail: Some("another area"), ..signed.audit(at, actions::ACCESS_REFUSED, Some(reference)) }).await?;
    message(state, Some(signed), StatusCode::NOT_FOUND, "Not found", "There is no message or case with that reference.")
}

/// 403, audited, with the break-glass form.
async fn refuse_restricted(state: &AppState, signed: &Signed, reference: &str, at: &str) -> Page {
    state.store.audit(&Audit { detail: Some("restricted case"), ..signed.audit(at, actions::ACCESS_REFUSED, Some(reference)) }).await?;
    let minutes = crate::config::WebConfig::break_glass(state.cfg().file.web.as_ref()).as_secs().div_ceil(60);
    Ok((StatusCode::FORBIDDEN, render(state, "restricted.html", Some(signed), context! { reference, minutes })?).into_response())
}

#[derive(Deserialize)]
struct BreakGlassForm {
    #[serde(default)]
    reason: String,
}

/// Break the glass: a user not named on a restricted case gives a reason and may see it for
/// `web.break_glass_secs`; recorded in the audit log with the reason, and listed on the admins'
/// dashboard until one of them marks it seen.
async fn break_glass(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<BreakGlassForm>) -> Page {
    let now = state.clock.now();
    let at = stamp(now);
    match state.store.access(&reference, signed.session.user.id, &at).await? {
        Access::Restricted { .. } => {}
        Access::OtherArea => return other_area(&state, &signed, &reference, &at).await,
        _ => return Ok(Redirect::to(&format!("/case/{reference}")).into_response()),
    }
    let reason = form.reason.trim();
    if reason.chars().count() < 10 || reason.chars().count() > 1000 {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "A reason is needed", "Say why you need to see this restricted case (10 to 1,000 characters): it is recorded and the admins are told.");
    }
    let duration = crate::config::WebConfig::break_glass(state.cfg().file.web.as_ref());
    let until = stamp(now + chrono::Duration::from_std(duration)?);
    state.store.break_glass(&reference, signed.session.user.id, reason, &until, &signed.audit(&at, actions::BREAK_GLASS, Some(&reference))).await?;
    tracing::warn!(reference = %reference, user = %signed.name(), "A user broke the glass of a restricted case.");
    Ok(Redirect::to(&format!("/case/{reference}?decided=break-glass")).into_response())
}
