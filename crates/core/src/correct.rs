//! A coordinator's corrections of what was read, laid over an [`Inspection`] before it is decided
//! again: one DASH answer, or one referral field. Pure: the web layer keeps each correction
//! beside the reading (the original is never changed in the store), reads the message again,
//! applies every correction kept for it here, in order, and calls `decide` on the result.
//!
//! What a correction settles is settled structurally, never by reading a problem's text: a DASH
//! answer given removes the problems about that question (`Problem::question`), a field given
//! removes the problems about that field (`Problem::field`) and its doubt (`Referral::uncertain`)
//! or its blank (`Referral::blank`). A value that cannot stand for the field (an answer that is
//! not Yes, No or Don't know, a date that does not exist, a score over 24) is refused, never
//! guessed: a wrong value is worse than a blank.

use crate::document::ProblemKind;
use crate::inspect::{Inspection, Place};
use crate::recognise::answer::{dash_answer, parse_date, Answer, DateRead};
use crate::recognise::dash::FoundBy;
use crate::recognise::referral::{Referral, FIELDS};
use crate::recognise::topics::TOPICS;
use chrono::NaiveDate;

/// Where a correction came from, shown as where the value was read.
pub const CORRECTED_AT: &str = "corrected by a coordinator";

/// Longest value a coordinator may give a field (a risk summary is the longest in practice).
pub const MAX_VALUE_CHARS: usize = 4000;

/// What a correction is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The answer to DASH question 1..=24.
    Dash(u8),
    /// A referral field, by its key in `recognise::referral::FIELDS`.
    Field(&'static str),
}

impl Target {
    /// From its stored spelling ([`Target::key`]): `dash.7`, or a field key (`victim.name`).
    pub fn parse(s: &str) -> Option<Target> {
        let s = s.trim();
        if let Some(n) = s.strip_prefix("dash.") {
            let q: u8 = n.trim_start_matches('q').parse().ok()?;
            return (1..=24).contains(&q).then_some(Target::Dash(q));
        }
        FIELDS.iter().find(|f| **f == s).map(|f| Target::Field(*f))
    }

    /// The one spelling: the `corrections.target` column, the forms' values and the audit detail.
    pub fn key(self) -> String {
        match self {
            Target::Dash(q) => format!("dash.{q}"),
            Target::Field(f) => f.to_owned(),
        }
    }

    /// For people: "DASH question 7 (conflict over child contact)", "victim: name".
    pub fn describe(self) -> String {
        match self {
            Target::Dash(q) => format!("DASH question {q} ({})", TOPICS[usize::from(q) - 1]),
            Target::Field(f) => f.replace('_', " ").replace('.', ": "),
        }
    }

    /// The victim's name or date of birth: a correction of either matches the victim again.
    pub fn is_identity(self) -> bool {
        matches!(self, Target::Field("victim.name" | "victim.dob"))
    }

    /// A referral field whose label a form may print in a way the reader does not know: one an
    /// admin can add to the synonyms (every field is; DASH questions are not).
    pub fn field(self) -> Option<&'static str> {
        match self {
            Target::Field(f) => Some(f),
            Target::Dash(_) => None,
        }
    }
}

/// One correction: the target and the value the coordinator read on the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub target: Target,
    pub value: String,
}

/// Why a correction cannot be applied; each says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A DASH answer was given but no DASH was read from this message.
    NoDash,
    NotAnAnswer,
    NotADate,
    NotANumber,
    NotATick,
    TooLong,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::NoDash => "no DASH checklist was read from this message, so none of its answers can be corrected: decide it by hand",
            Refused::NotAnAnswer => "a DASH answer is Yes, No or Don't know",
            Refused::NotADate => "that is not a date (write it as 03/07/1991)",
            Refused::NotANumber => "that is not a number (a DASH score is 0 to 24)",
            Refused::NotATick => "a reason for referral is ticked (yes) or not (no)",
            Refused::TooLong => "that value is too long",
        })
    }
}

impl std::error::Error for Refused {}

/// A DASH answer's spelling, as the stored inspection and the forms write it.
pub fn answer_spelling(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::DontKnow => "dont_know",
        Answer::Blank => "blank",
    }
}

/// What was read for `target`, as text (a DASH answer's spelling, a tick as yes/no, a number);
/// None when nothing was.
pub fn read(i: &Inspection, target: Target) -> Option<String> {
    match target {
        Target::Dash(q) => i.dash.as_ref()?.answers.iter().find(|a| a.question == q).map(|a| answer_spelling(a.answer).to_owned()),
        Target::Field(f) => {
            let r = i.referral.as_ref()?;
            match f {
                k if k.starts_with("reason.") => r.reasons.get(k.trim_start_matches("reason.")).map(|t| if *t { "yes" } else { "no" }.to_owned()),
                "stated_dash_score" => r.stated_dash_score.map(|n| n.to_string()),
                "police_callouts" => r.police_callouts.map(|n| n.to_string()),
                _ => r.get(f).map(str::to_owned),
            }
        }
    }
}

/// A correction's value as checked for its target: what a reading takes in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// A DASH answer (never blank: a coordinator answers).
    Answer(Answer),
    /// A reason for referral ticked or not (None: left blank on the form).
    Tick(Option<bool>),
    /// The stated DASH score or the call-outs (None: left blank).
    Number(Option<u32>),
    /// A field's text (None: left blank), with the date it gives when it is a date of birth.
    Text(Option<String>, Option<NaiveDate>),
}

/// Checks `c`'s value for its target (`pivot_year` places a two-digit year, as the reader does:
/// the year the message arrived). The one reading of a correction's value: applied to a fresh
/// reading here ([`apply`]) and laid over a stored one by the store.
pub fn check(c: &Correction, pivot_year: i32) -> Result<Checked, Refused> {
    let value = c.value.trim();
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(Refused::TooLong);
    }
    let cleared = value.is_empty();
    Ok(match c.target {
        Target::Dash(_) => Checked::Answer(match value {
            "yes" => Answer::Yes,
            "no" => Answer::No,
            "dont_know" => Answer::DontKnow,
            other => dash_answer(other).filter(|a| *a != Answer::Blank).ok_or(Refused::NotAnAnswer)?,
        }),
        Target::Field(k) if k.starts_with("reason.") => Checked::Tick(if cleared { None } else { Some(tick(value).ok_or(Refused::NotATick)?) }),
        Target::Field("stated_dash_score") => Checked::Number(if cleared { None } else { Some(number(value, 24)?) }),
        Target::Field("police_callouts") => Checked::Number(if cleared { None } else { Some(number(value, 10_000)?) }),
        Target::Field(_) if cleared => Checked::Text(None, None),
        Target::Field("victim.dob" | "perpetrator.dob") => match parse_date(value, pivot_year) {
            DateRead::Date(d) => Checked::Text(Some(value.to_owned()), Some(d)),
            _ => return Err(Refused::NotADate),
        },
        Target::Field(_) => Checked::Text(Some(value.to_owned()), None),
    })
}

/// Applies `c` to the inspection (`pivot_year` as for [`check`]). A refused value leaves the
/// reading as it was.
pub fn apply(i: &mut Inspection, c: &Correction, pivot_year: i32) -> Result<(), Refused> {
    let checked = check(c, pivot_year)?;
    match (c.target, checked) {
        (Target::Dash(q), Checked::Answer(a)) => apply_answer(i, q, a),
        (Target::Field(f), checked) => {
            apply_field(i, f, checked);
            Ok(())
        }
        (Target::Dash(_), _) => Err(Refused::NotAnAnswer),
    }
}

/// Applies each correction in turn; the first refused stops.
pub fn apply_all(i: &mut Inspection, cs: &[Correction], pivot_year: i32) -> Result<(), Refused> {
    cs.iter().try_for_each(|c| apply(i, c, pivot_year))
}

fn apply_answer(i: &mut Inspection, q: u8, answer: Answer) -> Result<(), Refused> {
    let d = i.dash.as_mut().ok_or(Refused::NoDash)?;
    let a = d.answers.iter_mut().find(|a| a.question == q).ok_or(Refused::NoDash)?;
    a.answer = answer;
    a.found_by = Some(FoundBy::Coordinator);
    if a.at.is_empty() {
        a.at = CORRECTED_AT.to_owned();
    }
    let count = |x: Answer| d.answers.iter().filter(|a| a.answer == x).count() as u8;
    let (yes, no, dont_know, blank) = (count(Answer::Yes), count(Answer::No), count(Answer::DontKnow), count(Answer::Blank));
    (d.yes, d.no, d.dont_know, d.blank, d.unknown) = (yes, no, dont_know, blank, dont_know + blank);
    // Settled: the problems about this question, and "read only in part" once enough are placed.
    let partial = d.is_partial();
    let settled = |p: &crate::document::Problem| p.question == Some(q) || (!partial && p.question.is_none() && p.kind == ProblemKind::Unrecognised);
    d.problems.retain(|p| !settled(p));
    i.problems.retain(|l| !(l.place == Place::Dash && settled(&l.problem)));
    Ok(())
}

/// A tick written as a coordinator would: yes/no and their usual spellings.
fn tick(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "yes" | "y" | "ticked" | "true" | "x" => Some(true),
        "no" | "n" | "not ticked" | "false" => Some(false),
        _ => None,
    }
}

fn number(value: &str, max: u32) -> Result<u32, Refused> {
    value.parse::<u32>().ok().filter(|n| *n <= max).ok_or(Refused::NotANumber)
}

fn apply_field(i: &mut Inspection, key: &'static str, checked: Checked) {
    let r: &mut Referral = i.referral.get_or_insert_with(Referral::default);
    let cleared = match checked {
        Checked::Tick(t) => {
            let name = key.trim_start_matches("reason.").to_owned();
            match t {
                Some(t) => r.reasons.insert(name, t),
                None => r.reasons.remove(&name),
            };
            t.is_none()
        }
        Checked::Number(n) => {
            if key == "stated_dash_score" {
                r.stated_dash_score = n;
            } else {
                r.police_callouts = n;
            }
            n.is_none()
        }
        Checked::Text(value, date) => {
            if key == "victim.dob" {
                r.victim_dob = date;
            } else if key == "perpetrator.dob" {
                r.perpetrator_dob = date;
            }
            match &value {
                Some(v) => r.fields.insert(key.to_owned(), v.clone()),
                None => r.fields.remove(key),
            };
            value.is_none()
        }
        Checked::Answer(_) => return,
    };
    if cleared {
        r.found_at.remove(key);
        r.blank.insert(key.to_owned());
    } else {
        r.found_at.insert(key.to_owned(), CORRECTED_AT.to_owned());
        r.blank.remove(key);
    }
    r.uncertain.remove(key);
    r.problems.retain(|p| p.field.as_deref() != Some(key));
    i.problems.retain(|l| !(l.place == Place::Referral && l.problem.field.as_deref() == Some(key)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Problem;
    use crate::inspect::Located;
    use crate::recognise::dash::{Dash, DashAnswer};

    /// An inspection whose DASH has 13 Yes, 10 No and question `missing` not found.
    fn with_missing(missing: u8) -> Inspection {
        let answers: Vec<DashAnswer> = (1..=24u8)
            .map(|q| DashAnswer {
                question: q,
                topic: TOPICS[usize::from(q) - 1],
                answer: if q == missing { Answer::Blank } else if q <= 14 { Answer::Yes } else { Answer::No },
                comment: None,
                found_by: (q != missing).then_some(FoundBy::Wording),
                at: if q == missing { String::new() } else { format!("row {q}") },
            })
            .collect();
        let p = Problem::on_question(ProblemKind::Unrecognised, missing, "question not found");
        let dash = Dash { yes: 13, no: 10, unknown: 1, dont_know: 0, blank: 1, stated_total: None, answers, attachment: "2".into(), problems: vec![p.clone()] };
        let mut i = crate::inspect::inspect(b"From: a@b.test\r\n\r\nhello\r\n", &crate::inspect::InspectOptions::with_clock(std::time::Instant::now));
        i.dash = Some(dash);
        i.problems.push(Located { place: Place::Dash, problem: p });
        i.problems.push(Located { place: Place::Dash, problem: Problem::on_question(ProblemKind::ConflictingMarks, 20, "two marks") });
        i
    }

    #[test]
    fn a_missing_answer_given_is_counted_and_its_problem_settled_but_no_other() {
        let mut i = with_missing(3);
        assert_eq!(read(&i, Target::Dash(3)).as_deref(), Some("blank"));
        apply(&mut i, &Correction { target: Target::Dash(3), value: "yes".into() }, 2025).unwrap();
        let d = i.dash.as_ref().unwrap();
        assert_eq!((d.yes, d.no, d.unknown, d.blank), (14, 10, 0, 0));
        assert_eq!(d.answers[2].found_by, Some(FoundBy::Coordinator));
        assert_eq!(d.answers[2].at, CORRECTED_AT);
        assert!(d.problems.is_empty());
        assert_eq!(i.problems.iter().filter(|l| l.place == Place::Dash).map(|l| l.problem.question).collect::<Vec<_>>(), vec![Some(20)], "question 20's own problem stays");
        // Spelled as a form would, too; nonsense is refused and changes nothing.
        apply(&mut i, &Correction { target: Target::Dash(3), value: "Don't know".into() }, 2025).unwrap();
        assert_eq!(i.dash.as_ref().unwrap().yes, 13);
        let before = i.dash.clone();
        assert_eq!(apply(&mut i, &Correction { target: Target::Dash(3), value: "maybe".into() }, 2025), Err(Refused::NotAnAnswer));
        assert_eq!(i.dash, before);
    }

    #[test]
    fn a_field_given_replaces_what_was_read_and_settles_its_doubt() {
        let mut i = with_missing(3);
        i.dash = None;
        assert_eq!(apply(&mut i, &Correction { target: Target::Dash(1), value: "yes".into() }, 2025), Err(Refused::NoDash));
        let mut r = Referral::default();
        r.uncertain.insert("victim.dob".into());
        r.problems.push(Problem::on_field(ProblemKind::Uncertain, "victim.dob", "label read as a value"));
        i.referral = Some(r);
        i.problems.push(Located { place: Place::Referral, problem: Problem::on_field(ProblemKind::Uncertain, "victim.dob", "label read as a value") });
        assert_eq!(apply(&mut i, &Correction { target: Target::Field("victim.dob"), value: "31/02/1990".into() }, 2025), Err(Refused::NotADate));
        apply(&mut i, &Correction { target: Target::Field("victim.dob"), value: "3 July 1991".into() }, 2025).unwrap();
        let r = i.referral.as_ref().unwrap();
        assert_eq!(r.victim_dob, chrono::NaiveDate::from_ymd_opt(1991, 7, 3));
        assert_eq!(r.found_at["victim.dob"], CORRECTED_AT);
        assert!(r.uncertain.is_empty() && r.problems.is_empty());
        assert!(!i.problems.iter().any(|l| l.place == Place::Referral));
        apply(&mut i, &Correction { target: Target::Field("reason.professional_judgement"), value: "yes".into() }, 2025).unwrap();
        apply(&mut i, &Correction { target: Target::Field("police_callouts"), value: "4".into() }, 2025).unwrap();
        assert_eq!(read(&i, Target::Field("reason.professional_judgement")).as_deref(), Some("yes"));
        assert_eq!(read(&i, Target::Field("police_callouts")).as_deref(), Some("4"));
        assert_eq!(apply(&mut i, &Correction { target: Target::Field("stated_dash_score"), value: "25".into() }, 2025), Err(Refused::NotANumber));
        // Emptied: the form leaves it blank.
        apply(&mut i, &Correction { target: Target::Field("victim.dob"), value: " ".into() }, 2025).unwrap();
        let r = i.referral.as_ref().unwrap();
        assert_eq!((r.victim_dob, r.blank.contains("victim.dob")), (None, true));
    }

    #[test]
    fn targets_have_one_spelling() {
        for t in [Target::Dash(1), Target::Dash(24), Target::Field("victim.name"), Target::Field("reason.repeat")] {
            assert_eq!(Target::parse(&t.key()), Some(t));
        }
        assert_eq!(Target::parse("dash.q07"), Some(Target::Dash(7)));
        assert_eq!((Target::parse("dash.25"), Target::parse("dash.0"), Target::parse("victim.shoe_size")), (None, None, None));
        assert!(Target::Field("victim.name").is_identity() && !Target::Field("perpetrator.name").is_identity());
    }
}
