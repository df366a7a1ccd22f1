//! The stored inspection (`messages.inspection`: the JSON of an `inspect::Inspection`) read back
//! once, typed, as exactly the parts the store and the web pages use: the envelope's subject and
//! references, the attachments' report, the DASH answers, the referral's fields with where each
//! was read, its children and the victim's date of birth, and the problems. Every part has a
//! default, so an older or erased inspection (strings blanked, shape kept) still reads; a stored
//! value of the wrong shape is an error at read. Pages call the accessors; nothing walks the JSON.

use crate::correct::{self, Checked, Correction, Target};
use crate::identity::PersonName;
use super::error::{Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The DASH questions named as high-risk markers (SafeLives numbering), most severe first:
/// strangulation, threats to kill, weapons, pregnancy.
pub const HIGH_RISK_QUESTIONS: [(u64, &str); 4] = [(15, "strangulation"), (14, "threats to kill"), (13, "weapons"), (9, "pregnancy")];

/// An answer's spelling in the stored inspection (`recognise::answer::Answer`, snake case).
const YES: &str = "yes";

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct StoredInspection {
    envelope: StoredEnvelope,
    attachments: Vec<StoredAttachment>,
    dash: Option<StoredDash>,
    referral: Option<StoredReferral>,
    problems: Vec<StoredProblem>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
struct StoredEnvelope {
    subject: Option<String>,
    references: Vec<String>,
}

/// One attachment as the case page lists it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct StoredAttachment {
    /// Where it sat in the message: "1", "forwarded 1 › 2".
    pub at: String,
    pub name: Option<String>,
    /// What the content was sniffed as (`sniff::FileKind`, snake case).
    pub kind: String,
    pub size: u64,
    /// `read`, `partial` or `unreadable`.
    pub outcome: String,
    /// What the recognisers found in it.
    pub recognised: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
struct StoredDash {
    answers: Vec<StoredAnswer>,
}

/// One DASH answer as the case page lists it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct StoredAnswer {
    pub question: u64,
    pub topic: String,
    /// `yes`, `no`, `dont_know` or `blank`.
    pub answer: String,
    pub comment: Option<String>,
    /// Where it was read.
    pub at: String,
    /// How the question was placed (`recognise::dash::FoundBy`, snake case: `wording`,
    /// `number`, `position`, `field`); None when it was not found.
    pub found_by: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
struct StoredReferral {
    fields: BTreeMap<String, String>,
    found_at: BTreeMap<String, String>,
    victim_dob: Option<String>,
    perpetrator_dob: Option<String>,
    children: Vec<StoredChild>,
    /// The reason-for-referral ticks by name (`visible_high_risk`, ...): absent when not on the form.
    reasons: BTreeMap<String, bool>,
    stated_dash_score: Option<u32>,
    police_callouts: Option<u32>,
}

/// A child in the household as the referral names them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct StoredChild {
    pub name: Option<String>,
    pub dob: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
struct StoredProblem {
    at: String,
    detail: String,
}

impl StoredInspection {
    /// Reads the stored JSON; an error (with the message's row) when it is not an inspection.
    pub fn parse(json: &str, message_row: i64) -> Result<StoredInspection> {
        serde_json::from_str(json).with_context(|| format!("message row {message_row}: reading the stored inspection"))
    }

    pub fn subject(&self) -> Option<&str> {
        self.envelope.subject.as_deref()
    }

    /// The Message-IDs of its `References` header.
    pub fn references(&self) -> &[String] {
        &self.envelope.references
    }

    pub fn attachments(&self) -> &[StoredAttachment] {
        &self.attachments
    }

    /// The DASH answers in SafeLives order (none when no DASH was read).
    pub fn answers(&self) -> &[StoredAnswer] {
        self.dash.as_ref().map_or(&[], |d| &d.answers)
    }

    /// A referral field by key (`victim.name`, `referrer.agency`, ...), as read.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.referral.as_ref().and_then(|r| r.fields.get(key)).map(String::as_str)
    }

    /// Every referral field read: key, value and where it was read (by key order).
    pub fn fields(&self) -> Vec<(String, String, Option<String>)> {
        let Some(r) = &self.referral else { return Vec::new() };
        r.fields.iter().map(|(k, v)| (k.clone(), v.clone(), r.found_at.get(k).cloned())).collect()
    }

    /// Where the referral field `key` was read (reasons and numbers too), when it was.
    pub fn found_at(&self, key: &str) -> Option<&str> {
        self.referral.as_ref().and_then(|r| r.found_at.get(key)).map(String::as_str)
    }

    /// A reason for referral (`visible_high_risk`, ...): ticked, not ticked, or not on the form.
    pub fn reason(&self, name: &str) -> Option<bool> {
        self.referral.as_ref().and_then(|r| r.reasons.get(name).copied())
    }

    /// The DASH score the referral form states, and the police call-outs it counts.
    pub fn stated_numbers(&self) -> (Option<u32>, Option<u32>) {
        self.referral.as_ref().map_or((None, None), |r| (r.stated_dash_score, r.police_callouts))
    }

    pub fn children(&self) -> &[StoredChild] {
        self.referral.as_ref().map_or(&[], |r| &r.children)
    }

    /// The victim's name as the referral gives it, when it reads as a name.
    pub fn victim_name(&self) -> Option<PersonName> {
        self.field("victim.name").and_then(|n| PersonName::parse(n).ok())
    }

    /// The victim's date of birth, when the referral gave one (an erased one reads as none).
    pub fn victim_dob(&self) -> Option<NaiveDate> {
        let dob = self.referral.as_ref()?.victim_dob.as_deref()?;
        NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok()
    }

    /// The perpetrator's date of birth, when the referral gave one.
    pub fn perpetrator_dob(&self) -> Option<NaiveDate> {
        let dob = self.referral.as_ref()?.perpetrator_dob.as_deref()?;
        NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok()
    }

    /// The reading as a coordinator corrected it: each of `corrections` (a target's key and the
    /// value given, oldest first: `store::corrections`) laid over what was read, as
    /// `correct::apply` lays it over a fresh reading (`pivot_year`: the year the message arrived).
    /// What reads the form for a purpose (the agenda, the data return, a search) reads this; the
    /// case page shows the reading and the corrections side by side. A correction that no longer
    /// checks (none should: each was checked when kept) is left out.
    pub fn corrected<'a>(mut self, corrections: impl IntoIterator<Item = (&'a str, &'a str)>, pivot_year: i32) -> StoredInspection {
        for (target, value) in corrections {
            let Some(target) = Target::parse(target) else { continue };
            let Ok(checked) = correct::check(&Correction { target, value: value.to_owned() }, pivot_year) else { continue };
            match (target, checked) {
                (Target::Dash(q), Checked::Answer(a)) => {
                    if let Some(answer) = self.dash.as_mut().and_then(|d| d.answers.iter_mut().find(|x| x.question == u64::from(q))) {
                        answer.answer = correct::answer_spelling(a).to_owned();
                        answer.found_by = Some("coordinator".to_owned());
                    }
                }
                (Target::Field(key), checked) => {
                    let r = self.referral.get_or_insert_with(StoredReferral::default);
                    let given = match checked {
                        Checked::Tick(t) => {
                            let name = key.trim_start_matches("reason.");
                            match t {
                                Some(t) => r.reasons.insert(name.to_owned(), t),
                                None => r.reasons.remove(name),
                            };
                            t.is_some()
                        }
                        Checked::Number(n) => {
                            if key == "stated_dash_score" {
                                r.stated_dash_score = n;
                            } else {
                                r.police_callouts = n;
                            }
                            n.is_some()
                        }
                        Checked::Text(value, date) => {
                            let date = date.map(|d| d.to_string());
                            if key == "victim.dob" {
                                r.victim_dob = date;
                            } else if key == "perpetrator.dob" {
                                r.perpetrator_dob = date;
                            }
                            let given = value.is_some();
                            match value {
                                Some(v) => r.fields.insert(key.to_owned(), v),
                                None => r.fields.remove(key),
                            };
                            given
                        }
                        Checked::Answer(_) => continue,
                    };
                    if given {
                        r.found_at.insert(key.to_owned(), correct::CORRECTED_AT.to_owned());
                    } else {
                        r.found_at.remove(key);
                    }
                }
                (Target::Dash(_), _) => {}
            }
        }
        self
    }

    /// Every problem as one line: "where: what".
    pub fn problem_lines(&self) -> Vec<String> {
        self.problems.iter().map(|p| format!("{}: {}", p.at, p.detail)).collect()
    }

    /// The named high-risk answers (see [`HIGH_RISK_QUESTIONS`]) marked Yes, most severe first.
    pub fn high_risk(&self) -> Vec<String> {
        let answers = self.answers();
        HIGH_RISK_QUESTIONS
            .iter()
            .filter(|(q, _)| answers.iter().any(|a| a.question == *q && a.answer == YES))
            .map(|(_, name)| (*name).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{inspect, InspectOptions};

    fn samples() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/triage")
    }

    #[test]
    fn an_inspection_reads_back_with_what_the_pages_use() {
        let labels: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(samples().join("labels.json")).unwrap()).unwrap();
        let opts = InspectOptions::with_clock(std::time::Instant::now);
        let mut read = 0;
        for lab in &labels {
            let raw = std::fs::read(samples().join(lab["file"].as_str().unwrap())).unwrap();
            let i = inspect(&raw, &opts);
            let json = serde_json::to_value(&i).unwrap();
            let stored = StoredInspection::parse(&json.to_string(), 1).unwrap();
            // What the case page's template reads of each part is what the JSON holds there.
            let same = |view: serde_json::Value, whole: Option<&serde_json::Value>, keys: &[&str]| {
                let whole = whole.and_then(|w| w.as_array()).cloned().unwrap_or_default();
                let view = view.as_array().cloned().unwrap_or_default();
                assert_eq!(view.len(), whole.len());
                for (v, w) in view.iter().zip(&whole) {
                    for k in keys {
                        assert_eq!(v[k], w[k], "{k}");
                    }
                }
            };
            same(serde_json::to_value(stored.attachments()).unwrap(), json.get("attachments"), &["at", "name", "kind", "size", "outcome", "recognised"]);
            same(serde_json::to_value(stored.answers()).unwrap(), Some(&json["dash"]["answers"]), &["question", "topic", "answer", "comment", "at", "found_by"]);
            same(serde_json::to_value(stored.children()).unwrap(), Some(&json["referral"]["children"]), &["name", "dob"]);
            assert_eq!(stored.subject(), i.envelope.subject.as_deref());
            assert_eq!(stored.references(), i.envelope.references.as_slice());
            assert_eq!(stored.attachments().len(), i.attachments.len());
            assert_eq!(stored.problem_lines().len(), i.problems.len());
            assert_eq!(stored.answers().len(), i.dash.as_ref().map_or(0, |d| d.answers.len()));
            if let Some(r) = &i.referral {
                assert_eq!(stored.victim_dob(), r.victim_dob);
                assert_eq!(stored.perpetrator_dob(), r.perpetrator_dob);
                assert_eq!(stored.field("victim.name"), r.get("victim.name"));
                assert_eq!(stored.children().len(), r.children.len());
                assert_eq!(stored.fields().len(), r.fields.len());
                assert_eq!(stored.stated_numbers(), (r.stated_dash_score, r.police_callouts));
                for (name, ticked) in &r.reasons {
                    assert_eq!(stored.reason(name), Some(*ticked));
                }
                read += usize::from(r.victim_dob.is_some() && !r.fields.is_empty());
            }
            if let Some(d) = &i.dash {
                let yes: Vec<u64> = d.answers.iter().filter(|a| a.answer == crate::recognise::answer::Answer::Yes).map(|a| u64::from(a.question)).collect();
                let named: Vec<String> = HIGH_RISK_QUESTIONS.iter().filter(|(q, _)| yes.contains(q)).map(|(_, n)| (*n).to_owned()).collect();
                assert_eq!(stored.high_risk(), named);
            }
        }
        assert!(read >= 5, "the samples have referrals with a victim read: {read}");
    }

    #[test]
    fn an_empty_or_erased_inspection_reads_as_nothing_and_a_wrong_shape_is_an_error() {
        let empty = StoredInspection::parse("{}", 1).unwrap();
        assert_eq!((empty.subject(), empty.answers().len(), empty.fields().len(), empty.victim_dob()), (None, 0, 0, None));
        let erased = r#"{"envelope":{"subject":""},"referral":{"fields":{"victim.name":""},"victim_dob":"","children":[{"name":"","dob":null}]},"dash":null}"#;
        let erased = StoredInspection::parse(erased, 2).unwrap();
        assert_eq!((erased.victim_name(), erased.victim_dob(), erased.children().len()), (None, None, 1));
        let e = StoredInspection::parse(r#"{"attachments":{"at":"1"}}"#, 3).unwrap_err();
        assert!(format!("{e:#}").contains("message row 3"), "{e:#}");
        assert!(StoredInspection::parse("not json", 4).is_err());
    }

    #[test]
    fn corrections_are_laid_over_the_reading_as_the_coordinator_gave_them() {
        let json = r#"{"dash":{"answers":[{"question":3,"topic":"t","answer":"blank","at":""},{"question":4,"topic":"u","answer":"no","at":"row 4","found_by":"wording"}]},
            "referral":{"fields":{"victim.name":"Ann Smith","police_reference":"AB/1","victim.ethnicity":"Whit"},"found_at":{"victim.name":"1 › p1","police_reference":"1 › p2","victim.ethnicity":"1 › p3"},
            "reasons":{"repeat":true},"stated_dash_score":13}}"#;
        let read = StoredInspection::parse(json, 1).unwrap();
        let kept = [
            ("dash.3", "yes"), ("victim.dob", "03/07/91"), ("police_reference", "CD 2"), ("victim.ethnicity", " "), ("reason.repeat", "no"),
            ("stated_dash_score", "15"), ("victim.shoe_size", "9"), ("victim.dob", "31/02/1990"), ("dash.4", "perhaps"),
        ];
        let c = read.clone().corrected(kept, 2025);
        assert_eq!((c.answers()[0].answer.as_str(), c.answers()[0].found_by.as_deref()), ("yes", Some("coordinator")));
        assert_eq!(c.answers()[1].answer, "no", "a value that does not check is left out");
        assert_eq!(c.victim_dob(), NaiveDate::from_ymd_opt(1991, 7, 3), "a two-digit year placed by the arrival's; the impossible date after it left out");
        assert_eq!(c.field("victim.dob"), Some("03/07/91"));
        assert_eq!((c.field("police_reference"), c.found_at("police_reference")), (Some("CD 2"), Some(crate::correct::CORRECTED_AT)));
        assert_eq!((c.field("victim.ethnicity"), c.found_at("victim.ethnicity")), (None, None), "emptied: the form leaves it blank");
        assert_eq!((c.reason("repeat"), c.stated_numbers().0), (Some(false), Some(15)));
        assert_eq!(c.field("victim.name"), Some("Ann Smith"));
        assert_eq!(read.field("police_reference"), Some("AB/1"), "the reading itself is not changed");
        assert_eq!(read.clone().corrected([], 2025), read);
    }
}
