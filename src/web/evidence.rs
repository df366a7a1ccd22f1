//! The person and the evidence, as the case page shows them above every action (issue 16): the
//! referral's fields by section (victim, perpetrator, referrer, reasons for referral), each as
//! read, where it was read and as a coordinator corrected it; the children; the 24 DASH answers
//! with their comments and how and where each was read; the corrections kept; and the choices
//! of the correction forms ([`super::correct`]). Read from the stored inspection
//! (`store::view::StoredInspection`) and the corrections (`store::corrections`); nothing here
//! writes, and the page that shows it audits the view.

use super::page::PageError;
use super::AppState;
use crate::correct::Target;
use crate::decide::Outcome;
use crate::store::cases::CaseView;
use crate::store::corrections::CorrectionRow;
use serde_json::{json, Value};

/// The referral's fields as the case page groups them: (section id, title, fields with their
/// names for people). Every field the reader knows (`recognise::referral::FIELDS`) is here, the
/// data return's among them, so each can be checked and corrected.
const SECTIONS: &[(&str, &str, &[(&str, &str)])] = &[
    ("victim", "Victim", &[
        ("victim.name", "Name"), ("victim.aliases", "Aliases"), ("victim.dob", "Date of birth"), ("victim.gender", "Gender"),
        ("victim.address", "Address"), ("victim.postcode", "Postcode"), ("victim.phone", "Phone safe to use"),
        ("victim.safe_to_leave_message", "Safe to leave a message"), ("victim.aware_of_referral", "Aware of the referral"),
        ("victim.interpreter", "Interpreter / language"), ("local_authority", "Local authority"),
        ("victim.age", "Age"), ("victim.ethnicity", "Ethnicity"), ("victim.sexual_orientation", "Sexual orientation"),
        ("victim.disability", "Disability"), ("household.children", "Number of children in the household"),
    ]),
    ("perpetrator", "Perpetrator", &[
        ("perpetrator.name", "Name"), ("perpetrator.aliases", "Aliases"), ("perpetrator.dob", "Date of birth"),
        ("perpetrator.address", "Address"), ("perpetrator.relationship", "Relationship to the victim"), ("perpetrator.age", "Age"),
    ]),
    ("referrer", "Referrer", &[
        ("referrer.name", "Name"), ("referrer.agency", "Agency"), ("referrer.agency_type", "Type of agency"), ("referrer.role", "Role"), ("referrer.email", "Email"),
        ("referrer.phone", "Phone"), ("referral_date", "Date of referral"), ("marac_area", "MARAC referred to"),
    ]),
    ("reasons", "Reasons for referral", &[
        ("reason.visible_high_risk", "Visible high risk"), ("reason.professional_judgement", "Professional judgement"),
        ("professional_judgement_rationale", "Rationale for professional judgement"),
        ("reason.potential_escalation", "Potential escalation"), ("police_callouts", "Police call-outs in the last 12 months"),
        ("reason.repeat", "Repeat MARAC"), ("stated_dash_score", "DASH score stated on the form"), ("dash_date", "DASH completed on"),
        ("risk_summary", "Summary of the risk"), ("police_reference", "Police reference"), ("other_agencies", "Other agencies involved"),
    ]),
];

/// How a DASH answer was placed, for people.
fn found_by_words(found_by: Option<&str>) -> &'static str {
    match found_by {
        Some("wording") => "by its wording",
        Some("number") => "by its number",
        Some("position") => "by its position between two questions",
        Some("field") => "from a form field",
        Some("coordinator") => "given by a coordinator",
        _ => "not found",
    }
}

pub(super) fn answer_words(a: &str) -> &'static str {
    match a {
        "yes" => "Yes",
        "no" => "No",
        "dont_know" => "Don't know",
        "blank" => "not answered",
        _ => "",
    }
}

/// A value as the page shows it: a tick as ticked / not ticked, an answer in words.
pub(super) fn shown(target: Target, value: &str) -> String {
    match target {
        Target::Dash(_) => answer_words(value).to_owned(),
        Target::Field(f) if f.starts_with("reason.") => match value {
            "yes" => "ticked".into(),
            "no" => "not ticked".into(),
            "" => "left blank".into(),
            other => other.to_owned(),
        },
        _ if value.is_empty() => "left blank".into(),
        _ => value.to_owned(),
    }
}

/// The latest correction of each target, for the page.
fn latest<'a>(corrections: &'a [CorrectionRow], key: &str) -> Option<&'a CorrectionRow> {
    corrections.iter().rev().find(|c| c.target == key)
}

/// What the case page shows of the person and the evidence: the referral's fields by section
/// (each as read, where, and as corrected), the children, the 24 DASH answers with their comments
/// and how and where each was read, the corrections kept, and the choices of the correction forms.
pub(super) async fn evidence(state: &AppState, view: &CaseView) -> Result<Value, PageError> {
    let i = &view.inspection;
    let corrections = match &view.message {
        Some(m) => state.store.corrections_of(m.row).await?,
        None => Vec::new(),
    };
    let (stated, callouts) = i.stated_numbers();
    let sections: Vec<Value> = SECTIONS
        .iter()
        .map(|(id, title, fields)| {
            let rows: Vec<Value> = fields
                .iter()
                .map(|(key, name)| {
                    let read = match *key {
                        k if k.starts_with("reason.") => i.reason(k.trim_start_matches("reason.")).map(|t| if t { "ticked" } else { "not ticked" }.to_owned()),
                        "stated_dash_score" => stated.map(|n| n.to_string()),
                        "police_callouts" => callouts.map(|n| n.to_string()),
                        k => i.field(k).map(str::to_owned),
                    };
                    let target = Target::parse(key);
                    let corrected = latest(&corrections, key).zip(target).map(|(c, t)| json!({"value": shown(t, &c.corrected), "by": c.corrected_by, "at": c.corrected_at}));
                    json!({"key": key, "name": name, "read": read, "at": i.found_at(key), "corrected": corrected})
                })
                .collect();
            json!({"id": id, "title": title, "rows": rows})
        })
        .collect();
    let answers: Vec<Value> = i
        .answers()
        .iter()
        .map(|a| {
            let key = format!("dash.{}", a.question);
            let corrected = latest(&corrections, &key).map(|c| json!({"value": answer_words(&c.corrected), "by": c.corrected_by, "at": c.corrected_at}));
            json!({
                "question": a.question, "topic": a.topic, "answer": a.answer, "answer_words": answer_words(&a.answer), "comment": a.comment,
                "at": a.at, "found_by": found_by_words(a.found_by.as_deref()), "corrected": corrected,
            })
        })
        .collect();
    let kept: Vec<Value> = corrections
        .iter()
        .map(|c| {
            let target = Target::parse(&c.target);
            let what = target.map(|t| t.describe()).unwrap_or_else(|| c.target.clone());
            let show = |s: &str| target.map(|t| shown(t, s)).unwrap_or_else(|| s.to_owned());
            json!({
                "target": c.target, "what": what, "original": c.original.as_deref().map(show).unwrap_or_else(|| "nothing read".into()),
                "corrected": show(&c.corrected), "label": c.label, "by": c.corrected_by, "at": c.corrected_at,
                "field": target.and_then(Target::field),
            })
        })
        .collect();
    let targets: Vec<Value> = SECTIONS.iter().flat_map(|(_, title, fields)| fields.iter().map(move |(k, n)| json!({"key": k, "name": format!("{title}: {n}")}))).collect();
    let questions: Vec<Value> = (1..=24u8).map(|q| json!({"key": Target::Dash(q).key(), "name": Target::Dash(q).describe()})).collect();
    let correctable = view.message.as_ref().is_some_and(|m| matches!(m.outcome, Outcome::Review | Outcome::Rejected | Outcome::Accepted));
    Ok(json!({
        "sections": sections, "children": i.children(), "answers": answers, "corrections": kept, "targets": targets,
        "questions": questions, "correctable": correctable, "has_dash": !i.answers().is_empty(),
    }))
}

#[cfg(test)]
mod tests {
    use super::SECTIONS;
    use crate::recognise::referral::FIELDS;

    #[test]
    fn every_field_the_reader_knows_is_on_the_case_page_once() {
        let shown: Vec<&str> = SECTIONS.iter().flat_map(|(_, _, fields)| fields.iter().map(|(k, _)| *k)).collect();
        for key in FIELDS {
            assert_eq!(shown.iter().filter(|s| *s == key).count(), 1, "{key} on the case page");
        }
        assert_eq!(shown.len(), FIELDS.len(), "only the reader's fields: {shown:?}");
    }
}
