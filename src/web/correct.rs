//! Correcting what was read (issue 16): on a message's case page a coordinator gives one DASH
//! answer or one referral field as the form says it; the message is read again from the copy
//! kept as received, every correction kept for it is applied (`crate::correct`), its victim is
//! looked up again as triage looks up (`Tx::look_up_again`) and `decide` runs on the corrected
//! reading with the area's rules and the arrival date triage used. The outcome, its reasons, the
//! reply it would send (to the authenticated, allowlisted sender only, as triage's) and who the
//! victim matched are shown first ([`preview`]); nothing is kept until the coordinator confirms
//! ([`confirm`]): then the correction is kept beside the reading (the original is never
//! changed), the new decision of a review item or a rejected referral is recorded as a
//! coordinator's decision with its reply in the outbox, and both are audited, in one
//! transaction. A label the reader did not know can be added to the field's synonyms by the
//! deployment's admin from the same page ([`add_synonym`]), through the rules layer the console
//! uses. What the case page shows of the person and the evidence is [`super::evidence`].

use super::audit as actions;
use super::auth::{DeploymentAdmin, Signed};
use super::page::{message, render, v, Page, PageError};
use super::pages::restricted;
use super::AppState;
use crate::clock::stamp;
use crate::config::Config;
use crate::correct::{self, Correction, Target};
use crate::decide::{decide, CaseAction, Decision, Outcome, ReplyKind, KNOWN_IN_ANOTHER_AREA, KNOWN_IN_ANOTHER_AREA_NOTE};
use crate::identity::PersonName;
use crate::inspect::Inspection;
use crate::sniff::FileKind;
use crate::store::accounts::Audit;
use crate::store::corrections::{NewCorrection, Redecision};
use super::evidence::shown;
use crate::store::{CaseWrite, Found, MessageRecord, Tx, Victim};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use axum::Router;
use chrono::{Datelike, NaiveDate};
use minijinja::context;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/case/{reference}/correct", post(preview))
        .route("/case/{reference}/correct/confirm", post(confirm))
        .route("/case/{reference}/synonym", post(add_synonym))
}

#[derive(Deserialize)]
struct CorrectForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    value: String,
    /// How the form printed the field's label (optional).
    #[serde(default)]
    label: String,
}

/// Longest label kept.
const MAX_LABEL_CHARS: usize = 100;

/// The message decided again on its corrected reading, not yet kept.
struct Evaluated {
    inspection: Inspection,
    /// What the reader found for the target of this correction.
    original: Option<String>,
    found: Found,
    decision: Decision,
    /// The decision's reasons, then the coordinators' notes.
    stored_reasons: Vec<String>,
    victim: Victim,
    /// The day it arrived: what triage decided it as of, and its referral's date.
    day: NaiveDate,
    reply: Option<crate::reply::Reply>,
    /// The victim record made from this message alone (see `Tx::record_made_from`).
    made_from: Option<i64>,
}

/// Why a correction cannot go on, as a page (status, title, text).
type Refusal = (StatusCode, &'static str, String);

/// The message to correct and the correction asked for, checked before anything is read.
async fn checked(state: &AppState, reference: &str, form: &CorrectForm) -> Result<Result<(MessageRecord, Correction, Option<String>), Refusal>, PageError> {
    let Some(record) = state.store.message_to_correct(reference).await? else {
        return Ok(Err((StatusCode::NOT_FOUND, "Not found", "There is no message with that reference.".into())));
    };
    if !matches!(record.outcome, Outcome::Review | Outcome::Rejected | Outcome::Accepted) {
        return Ok(Err((StatusCode::CONFLICT, "Cannot be corrected", "Only a referral (a review item, a rejected or an accepted one) is corrected: release a quarantined message first.".into())));
    }
    if record.area.is_empty() {
        return Ok(Err((StatusCode::CONFLICT, "Place it in an area first", "Which MARAC this referral is for could not be told: place it in one of its areas, then correct it.".into())));
    }
    let Some(target) = Target::parse(&form.target) else {
        return Ok(Err((StatusCode::BAD_REQUEST, "Choose what to correct", "Choose a DASH question or a referral field.".into())));
    };
    let label = form.label.trim();
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Ok(Err((StatusCode::BAD_REQUEST, "Label too long", format!("Give the label as printed on the form, on one line (at most {MAX_LABEL_CHARS} characters)."))));
    }
    let label = Some(label.to_owned()).filter(|l| !l.is_empty() && target.field().is_some());
    Ok(Ok((record, Correction { target, value: form.value.trim().to_owned() }, label)))
}

/// Reads the message again from its copy as received (as triage reads it, with our own DKIM
/// check when due), outside any transaction.
async fn read_again(state: &AppState, record: &MessageRecord, cfg: &Config) -> Result<Result<Inspection, Refusal>, PageError> {
    let Some(raw) = state.store.message_source(&record.reference).await? else {
        return Ok(Err((
            StatusCode::CONFLICT,
            "Not kept as received",
            "This message was not kept as received (recorded before originals were kept, or over the size limit): it cannot be read again, so it cannot be decided again here. Decide it by hand.".into(),
        )));
    };
    let raw = std::sync::Arc::new(raw);
    let mut inspection = crate::triage::read(raw.clone(), crate::triage::inspect_options(cfg)).await?;
    crate::triage::own_dkim(&mut inspection, &raw, cfg, crate::dkim::TIMEOUT).await;
    Ok(Ok(inspection))
}

/// Applies the corrections kept and the new one, looks the victim up again and decides, inside
/// `tx` (which read `record` again: it must not have changed since it was checked).
async fn evaluate(state: &AppState, tx: &mut Tx, record: &MessageRecord, mut inspection: Inspection, new: &Correction, cfg: &Config) -> Result<Result<Evaluated, Refusal>, PageError> {
    let now = state.clock.now();
    let day = crate::triage::arrival(&inspection).map(|a| a.date_naive()).or_else(|| crate::clock::parse(&record.arrived).map(|a| a.date_naive())).unwrap_or_else(|| state.clock.today());
    let kept: Vec<Correction> = tx
        .corrections_for_update(record.row)
        .await?
        .iter()
        .filter_map(|c| Target::parse(&c.target).map(|target| Correction { target, value: c.corrected.clone() }))
        .collect();
    let original = correct::read(&inspection, new.target);
    let all: Vec<Correction> = kept.into_iter().chain(std::iter::once(new.clone())).collect();
    if let Err(e) = correct::apply_all(&mut inspection, &all, day.year()) {
        return Ok(Err((StatusCode::BAD_REQUEST, "Cannot use that value", format!("{}: {e}.", new.target.describe()))));
    }
    let referral = inspection.referral.as_ref();
    let victim = Victim {
        name: referral.and_then(|r| r.get("victim.name")).and_then(|n| PersonName::parse(n).ok()),
        dob: referral.and_then(|r| r.victim_dob),
    };
    // As triage: the documents' hashes find the case the same attachments went to; a message
    // with a case of its own would find that one.
    let hashes: Vec<String> = match record.case_ref {
        Some(_) => Vec::new(),
        None => inspection.attachments.iter().filter(|a| !matches!(a.kind, FileKind::Image | FileKind::Text | FileKind::Unknown)).map(|a| a.sha256.clone()).collect(),
    };
    let found = tx.look_up_again(record.row, &inspection.refers, &hashes, &victim, &record.area, day).await?;
    let decision = decide(&inspection, &found.history, cfg, day);
    let mut stored_reasons = decision.reasons.clone();
    if found.history.known_in_another_area && !decision.reasons.iter().any(|r| r == KNOWN_IN_ANOTHER_AREA) {
        stored_reasons.push(KNOWN_IN_ANOTHER_AREA_NOTE.to_owned());
    }
    // The reply goes where triage's would: the decision's recipients (the authenticated,
    // allowlisted sender), never anyone else; acknowledged with the next meeting from today.
    // A reply of the kind the message was given already (a holding reply, a rejection) is not
    // sent twice, and one still in review gets none: a coordinator is working on it.
    let reply = match (decision.reply, decision.reply_to.first()) {
        (ReplyKind::None, _) | (_, None) => None,
        _ if decision.outcome == Outcome::Review => None,
        (kind, _) if kind == record.reply_kind => None,
        (kind, Some(to)) => Some(crate::reply::to_referrer(kind, to, &inspection.envelope, &record.reference, &decision.reasons_for_referrer(), state.clock.today(), now.fixed_offset(), cfg)?),
    };
    let made_from = tx.record_made_from(record).await?;
    Ok(Ok(Evaluated { inspection, original, found, decision, stored_reasons, victim, day, reply, made_from }))
}

/// Whether confirming records the new decision: a review item or a rejected referral (no case
/// yet) decided again as accepted, rejected or review. An accepted referral keeps its case (the
/// correction is kept with it), and a decision to quarantine or ignore is not made here.
fn records_decision(record: &MessageRecord, d: &Decision) -> bool {
    matches!(record.outcome, Outcome::Review | Outcome::Rejected) && record.case_ref.is_none() && matches!(d.outcome, Outcome::Accepted | Outcome::Rejected | Outcome::Review)
}

/// Who the victim is as corrected, for people: the record matched and why, or a new one.
fn identity_words(e: &Evaluated) -> String {
    match (&e.found.person, &e.victim.name, e.victim.dob) {
        (Some(p), _, _) => format!("Matched the victim record {}: {}", p.reference, p.reason.describe()),
        (None, Some(_), Some(_)) => "No earlier record of this victim (by name and date of birth): a new victim record.".into(),
        _ => "Not matched: matching needs both the victim's name and date of birth.".into(),
    }
}

/// The victim record an accepted referral's identity correction is also kept on: the one made
/// from this referral alone, when the corrected identity is no other record's. A correction
/// never moves a case; a record other referrals also name keeps what it has.
fn follows(record: &MessageRecord, e: &Evaluated, new: &Correction, records: bool) -> Option<i64> {
    let held = record.victim_ref.as_deref().filter(|_| !records && record.outcome == Outcome::Accepted && new.target.is_identity())?;
    match &e.found.person {
        Some(p) if p.reference != held => None,
        _ => e.made_from,
    }
}

/// For an accepted referral whose victim's name or date of birth is corrected: whether its
/// victim record takes the correction too, and what the coordinator can do when the corrected
/// identity is another record's. None when it records a new decision.
fn identity_note(record: &MessageRecord, e: &Evaluated, new: &Correction, records: bool) -> Option<String> {
    let held = record.victim_ref.as_deref().filter(|_| !records && new.target.is_identity())?;
    if follows(record, e, new, records).is_some() {
        return Some(format!("The victim record {held} was made from this referral alone: it takes the corrected name and date of birth too (the agenda and a search then name the victim as corrected)."));
    }
    Some(match &e.found.person {
        Some(p) if p.reference != held => format!(
            "The case stays with the victim record {held}. The corrected name and date of birth match the record {} ({}): if they are the same person, merge the two records on the case page.",
            p.reference,
            p.reason.describe()
        ),
        _ => format!("The case stays with the victim record {held}, which other referrals name too: it keeps the name and date of birth it has; an admin corrects those on its Subjects page."),
    })
}

/// The history as the decision saw it, for people.
fn history_words(e: &Evaluated) -> Vec<String> {
    let h = &e.found.history;
    let mut out = Vec::new();
    if let Some(p) = &h.person {
        if let Some(c) = &p.pending_case {
            out.push(format!("The victim has a case waiting for its meeting: {}.", c.reference));
        }
        if let Some((on, heard)) = p.last_referral {
            out.push(format!("Last referred on {}{}.", crate::clock::uk_text(&on.to_string()), if heard { ", since heard" } else { "" }));
        }
    }
    if let Some(c) = &h.same_attachments_case {
        out.push(format!("The same attachments were sent before, for case {}.", c.reference));
    }
    if h.earlier_review {
        out.push("An earlier referral of the same victim is waiting for a coordinator's review.".into());
    }
    if h.known_in_another_area {
        out.push(KNOWN_IN_ANOTHER_AREA_NOTE.to_owned() + ".");
    }
    out
}

/// The reply's text as the referrer would read it.
fn reply_text(reply: &crate::reply::Reply) -> String {
    crate::mime::parse(reply.raw.as_bytes(), &crate::limits::Limits::default()).body_text
}

/// What a preview and a confirm both start from: the correction checked, the message read again
/// from its copy, and the decision it would get, worked out in a transaction in which the
/// message is still as it was (returned open: a confirm writes in it, a preview drops it).
struct Worked {
    record: MessageRecord,
    new: Correction,
    label: Option<String>,
    tx: Tx,
    e: Evaluated,
    deployment: std::sync::Arc<Config>,
}

async fn work_out(state: &AppState, reference: &str, form: &CorrectForm) -> Result<Result<Worked, Refusal>, PageError> {
    let (record, new, label) = match checked(state, reference, form).await? {
        Ok(x) => x,
        Err(refused) => return Ok(Err(refused)),
    };
    let deployment = state.cfg();
    let cfg = deployment.of_area(&record.area);
    let inspection = match read_again(state, &record, cfg).await? {
        Ok(i) => i,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut tx = state.store.begin().await?;
    let still = tx.message_to_correct(reference).await?;
    if still.as_ref() != Some(&record) {
        return Ok(Err((StatusCode::CONFLICT, "Changed meanwhile", "This message was decided or changed meanwhile: open it again.".to_owned())));
    }
    let e = match evaluate(state, &mut tx, &record, inspection, &new, cfg).await? {
        Ok(e) => e,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(Ok(Worked { record, new, label, tx, e, deployment }))
}

/// The outcome and reply a correction would give, before anything is kept; audited as a view
/// of the case.
async fn preview(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<CorrectForm>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    let Worked { record, new, label, tx, e, .. } = match work_out(&state, &reference, &form).await? {
        Ok(w) => w,
        Err((status, title, text)) => return message(&state, Some(&signed), status, title, &text),
    };
    // Nothing is kept: the look-up's transaction ends here, before the audit record is written.
    drop(tx);
    let at = stamp(state.clock.now());
    let detail = format!("preview of {}", new.target.key());
    state.store.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::CASE_CORRECT_PREVIEW, Some(&reference)) }).await?;
    let d = &e.decision;
    let case = match &d.case {
        CaseAction::None => "no case".to_owned(),
        CaseAction::Linked { .. } => "joins the victim's existing case".to_owned(),
        CaseAction::New => "a new case for the next meeting".to_owned(),
    };
    let dash = e.inspection.dash.as_ref().map(|d| (d.yes, d.no, d.unknown));
    let title = format!("Correct {reference}");
    let ctx = context! {
        reference, title,
        what => new.target.describe(), target => new.target.key(), value => new.value.clone(), label,
        original => e.original.as_deref().map(|o| shown(new.target, o)).unwrap_or_else(|| "nothing read".into()),
        corrected => shown(new.target, &new.value),
        outcome => d.outcome.as_str(), was => record.outcome.as_str(), criteria => d.criteria.iter().map(|c| c.as_str().replace('_', " ")).collect::<Vec<_>>(),
        reasons => e.stored_reasons.clone(), case, dash => v(dash),
        reply_kind => e.reply.as_ref().map(|_| d.reply.as_str()), reply_to => e.reply.as_ref().map(|r| r.to.clone()),
        reply_subject => e.reply.as_ref().map(|r| r.subject.clone()), reply_text => e.reply.as_ref().map(reply_text),
        identity => identity_words(&e), identity_changed => new.target.is_identity(), history => history_words(&e),
        identity_note => identity_note(&record, &e, &new, records_decision(&record, d)),
        records => records_decision(&record, d), arrived => crate::clock::uk_text(&e.day.to_string()),
    };
    Ok(render(&state, "correct.html", Some(&signed), ctx)?.into_response())
}

/// Keeps the correction, records the new decision with its reply (when it records one: see
/// [`records_decision`]) and the audit record, in one transaction.
async fn confirm(State(state): State<AppState>, signed: Signed, Path(reference): Path<String>, Form(form): Form<CorrectForm>) -> Page {
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    let Worked { record, new, label, mut tx, e, deployment } = match work_out(&state, &reference, &form).await? {
        Ok(w) => w,
        Err((status, title, text)) => return message(&state, Some(&signed), status, title, &text),
    };
    let cfg = deployment.of_area(&record.area);
    let now = state.clock.now();
    let at = stamp(now);
    let key = new.target.key();
    tx.add_correction(&NewCorrection { message_row: record.row, target: &key, original: e.original.as_deref(), corrected: &new.value, label: label.as_deref(), by: signed.name(), at: &at }).await?;
    let d = &e.decision;
    // The corrected reading as stored beside the decision: its signals, DASH counts and search keys.
    let inspection_json = serde_json::to_string(&e.inspection)?;
    let detail = if records_decision(&record, d) {
        let today = state.clock.today();
        let case = match &d.case {
            CaseAction::None => CaseWrite::None,
            CaseAction::Linked { .. } => CaseWrite::Linked,
            CaseAction::New => CaseWrite::New {
                victim_name: e.victim.name.as_ref().map(|n| n.as_written().to_owned()).unwrap_or_else(|| "(name not given)".into()),
                victim_key: e.victim.name.as_ref().map(PersonName::key).unwrap_or_default(),
                dob: e.victim.dob,
                meeting: cfg.schedule.next_meeting(today),
                reference_format: cfg.file.case.clone(),
            },
        };
        let redecision = Redecision {
            area: &record.area,
            outcome: d.outcome,
            criteria: &d.criteria,
            reasons: &e.stored_reasons,
            dash: e.inspection.dash.as_ref().map(|x| (x.yes, x.no, x.unknown)),
            reply_kind: d.reply,
            reply_to: &d.reply_to,
            case,
            inspection_json: &inspection_json,
            victim: &e.victim,
            referred_on: e.day,
            by: signed.name(),
            now: &at,
        };
        let placed = tx.record_redecision(&record, &e.found, &redecision).await?;
        if let Some(reply) = &e.reply {
            tx.queue_reply(record.row, reply, now).await?;
        }
        match placed.case_ref {
            Some(case) => format!("{key}; decided again: {} ({case})", d.outcome),
            None => format!("{key}; decided again: {}", d.outcome),
        }
    } else {
        if record.outcome == Outcome::Accepted {
            // The case stands; what orders the queue and the agenda follows the correction.
            let dash = e.inspection.dash.as_ref().map(|x| (x.yes, x.no, x.unknown));
            tx.record_corrected_reading(&record, dash, &inspection_json).await?;
        }
        match follows(&record, &e, &new, false) {
            Some(person) => {
                tx.set_person_identity(person, e.victim.name.as_ref(), e.victim.dob).await?;
                format!("{key}; kept with the {} referral and its victim record", record.outcome)
            }
            None => format!("{key}; kept with the {} referral", record.outcome),
        }
    };
    // A search finds the form by what the coordinator gave (the police reference, the postcode).
    tx.replace_search_keys(record.row, &inspection_json).await?;
    tx.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::CASE_CORRECT, Some(&reference)) }).await?;
    tx.commit().await?;
    tracing::info!(reference = %reference, target = %key, user = %signed.name(), "A coordinator corrected what was read.");
    Ok(Redirect::to(&format!("/case/{reference}?decided=corrected")).into_response())
}

#[derive(Deserialize)]
struct SynonymForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    label: String,
}

/// The deployment's admin adds a label a correction showed (as the form printed it) to the
/// field's synonyms: the `synonyms` rule section as in force with the label added, checked as
/// the console checks a section, kept as its next version (audited there), and in force at once.
async fn add_synonym(State(state): State<AppState>, DeploymentAdmin(signed): DeploymentAdmin, Path(reference): Path<String>, Form(form): Form<SynonymForm>) -> Page {
    use crate::store::rules::RuleChange;
    if let Some(refused) = restricted(&state, &signed, &reference).await? {
        return Ok(refused);
    }
    let Some(field) = Target::parse(&form.field).and_then(Target::field) else {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Choose a field", "Labels are added to a referral field's synonyms.");
    };
    let label = form.label.trim();
    if label.chars().count() < 2 || label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Give the label", &format!("Give the label as printed on the form, on one line (2 to {MAX_LABEL_CHARS} characters)."));
    }
    let cfg = state.cfg();
    let Some(path) = cfg.source.clone() else {
        return message(&state, Some(&signed), StatusCode::CONFLICT, "Rules fixed", "This server was started with a configuration that was not read from a file: its rules cannot be changed here.");
    };
    let mut synonyms = cfg.file.synonyms.clone();
    let labels = synonyms.fields.entry(field.to_owned()).or_default();
    if labels.iter().any(|l| l.trim().eq_ignore_ascii_case(label)) {
        return Ok(Redirect::to(&format!("/case/{reference}?decided=synonym")).into_response());
    }
    labels.push(label.to_owned());
    let body = toml::to_string(&synonyms)?;
    let text = tokio::fs::read_to_string(&path).await.map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let layer = state.store.rule_layer().await?.with("synonyms", Some(&body));
    if let Err(e) = crate::config::parse_layered(&text, &layer, std::env::vars()).and_then(|f| f.build()) {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Not added", &format!("The synonyms with that label do not validate: {e}"));
    }
    let base = state.store.rule_history("synonyms", 1).await?.first().map_or(0, |r| r.id);
    let at = stamp(state.clock.now());
    let note = format!("a label of {field} added from {reference}");
    match state.store.change_rule("synonyms", Some(&body), base, &note, signed.audit(&at, actions::RULES_CHANGE, None)).await? {
        RuleChange::Stale(_) => message(&state, Some(&signed), StatusCode::CONFLICT, "Changed meanwhile", "The synonyms were changed meanwhile: try again."),
        RuleChange::Saved(id) => {
            tracing::info!(user = signed.name(), version = id, "A label was added to the synonyms from a case.");
            match crate::rules::load(&path, &state.store).await {
                Ok(now) => state.live.set(std::sync::Arc::new(now)),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "The rules as stored do not validate; the web queue keeps the rules in force."),
            }
            Ok(Redirect::to(&format!("/case/{reference}?decided=synonym")).into_response())
        }
    }
}
