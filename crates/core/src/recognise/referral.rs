//! The MARAC referral form recogniser: fields found by label synonyms within sections, whatever
//! the layout (two-column tables, label-above-value tables, "Label: value" paragraphs, PDF form
//! fields).
//!
//! A field belongs to the section it sits in: a table row or paragraph to the heading above it, a
//! PDF form field to what its own name, its alternate name and the heading printed above its box
//! say. A wrong value is worse than a blank: a value that is itself a label of the form is left
//! blank with an `Uncertain` problem, the victim's identity is never read from a field that names
//! the perpetrator, and a field is reported found-blank only where its label was found with an
//! empty value beside or under it.

use super::answer::{inline_checked, normalise_answer, parse_date, Answer, DateRead};
use super::topics::words;
use crate::document::{Block, Document, FieldKind, FormField, Problem, ProblemKind, CHECKED, UNCHECKED};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A part of the referral form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Referrer,
    Reason,
    Victim,
    Perpetrator,
    Children,
    Risk,
}

/// Every field the recogniser looks for, named as in the JSON output.
pub const FIELDS: &[&str] = &[
    "referrer.name", "referrer.agency", "referrer.role", "referrer.email", "referrer.phone", "referral_date",
    "reason.visible_high_risk", "reason.professional_judgement", "reason.potential_escalation", "reason.repeat",
    "stated_dash_score", "police_callouts", "professional_judgement_rationale",
    "victim.name", "victim.aliases", "victim.dob", "victim.gender", "victim.address", "victim.postcode",
    "victim.phone", "victim.safe_to_leave_message", "victim.aware_of_referral", "victim.interpreter",
    "perpetrator.name", "perpetrator.aliases", "perpetrator.dob", "perpetrator.address", "perpetrator.relationship",
    "risk_summary", "dash_date", "police_reference", "other_agencies", "marac_area", "local_authority",
    // What the SafeLives data return counts (`marac_intake::data_return`), read as written.
    "referrer.agency_type", "victim.age", "victim.ethnicity", "victim.sexual_orientation", "victim.disability", "perpetrator.age",
    "household.children",
];

/// Label synonyms: data with built-in defaults that an admin extends in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Synonyms {
    /// Words that open a section of the form, per section.
    pub sections: BTreeMap<Section, Vec<String>>,
    /// Labels per field (see [`FIELDS`]). A label written "victim: name" only counts inside that section.
    pub fields: BTreeMap<String, Vec<String>>,
}

impl Default for Synonyms {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let sections = BTreeMap::from([
            (Section::Referrer, s(&["referrer", "referring agency details", "referrer details", "details of referrer", "about you", "referring professional", "referring officer"])),
            (Section::Reason, s(&["reason for referral", "referral criteria", "reason for marac referral", "criteria"])),
            (Section::Victim, s(&["victim", "client", "person at risk", "survivor", "service user", "adult at risk", "young person at risk", "victim details", "injured party", "victim survivor", "adult experiencing harm"])),
            (Section::Perpetrator, s(&["perpetrator", "alleged abuser", "alleged perpetrator", "person causing harm", "abuser", "person using harm", "harm causer", "suspect", "offender", "alleged offender", "accused", "person causing concern", "person harming"])),
            (Section::Children, s(&["children", "household members", "children and other household members", "children in the household", "child", "dependants", "dependents", "children and young people"])),
            (Section::Risk, s(&["risk summary", "summary of risk", "current incident", "risk information", "risk"])),
        ]);
        // Phrases a label contains. "victim: name" counts only when the label or its section is
        // about the victim; the best-scoring field whose value has the right type wins.
        let f: &[(&str, &[&str])] = &[
            ("referrer.name", &["referrer name", "name of referrer", "referred by", "referring officer", "referrer: name", "referrer: officer"]),
            ("referrer.agency", &["referring agency", "referrer: agency", "referrer: organisation", "referrer: organization", "referrer: service", "referrer: team", "referrer: force"]),
            ("referrer.role", &["referrer: role", "referrer: job title", "referrer: position", "referrer: rank", "referrer: designation"]),
            ("referrer.email", &["referrer: email", "referrer: e mail", "referrer: email address"]),
            ("referrer.phone", &["referrer: telephone", "referrer: phone", "referrer: tel", "referrer: contact number", "referrer: mobile"]),
            ("referral_date", &["date of referral", "referral date", "date referred", "referrer: date"]),
            ("reason.visible_high_risk", &["visible high risk", "high risk dash", "14 or more"]),
            ("reason.professional_judgement", &["professional judgement", "professional judgment", "prof judgement", "prof judgment", "pj", "practitioner's judgement", "practitioner's judgment", "practitioner judgement", "professional concern"]),
            ("reason.potential_escalation", &["potential escalation", "escalation"]),
            ("reason.repeat", &["repeat marac", "repeat referral", "repeat"]),
            ("stated_dash_score", &["dash score", "score", "number of yes", "yes ticks", "yes answers", "number of ticks", "ticks", "total", "dash total", "how many yes"]),
            ("police_callouts", &["call outs", "callouts", "call out", "police incidents", "number of incidents", "incidents in the last 12 months", "police attendances", "attendances", "incidents reported to police", "incidents reported to the police"]),
            ("professional_judgement_rationale", &["rationale", "professional judgement", "professional judgment", "explain", "why", "reasons for", "describe", "concerns", "give details", "provide details", "if pj", "justification"]),
            ("victim.name", &["victim: name", "victim: full name", "victim: forename", "victim: forenames", "victim: surname", "victim: first name", "victim: last name", "victim: family name", "victim: given name", "victim: given names", "victim: middle name", "victim: christian name"]),
            ("victim.aliases", &["victim: alias", "victim: aliases", "victim: also known as", "victim: other names", "victim: known as", "victim: aka", "victim: previous names"]),
            ("victim.dob", &["victim: date of birth", "victim: dob", "victim: d o b", "victim: birth"]),
            ("victim.gender", &["victim: gender", "victim: sex"]),
            ("victim.address", &["victim: address"]),
            ("victim.postcode", &["victim: postcode", "victim: post code"]),
            ("victim.phone", &["safe contact number", "safe number", "safe telephone", "safe phone", "victim: telephone", "victim: phone", "victim: contact number", "victim: mobile", "victim: tel"]),
            ("victim.safe_to_leave_message", &["leave message", "leave a message", "leave messages", "voicemail", "victim: safe to leave"]),
            ("victim.aware_of_referral", &["aware of the referral", "aware of referral", "victim: aware", "know about the referral", "knows about the referral", "victim: consent"]),
            ("victim.interpreter", &["interpreter", "victim: language", "victim: first language"]),
            ("perpetrator.name", &["perpetrator: name", "perpetrator: full name", "perpetrator: forename", "perpetrator: forenames", "perpetrator: surname", "perpetrator: first name", "perpetrator: last name", "perpetrator: family name", "perpetrator: given name", "perpetrator: given names", "perpetrator: middle name", "perpetrator: christian name"]),
            ("perpetrator.aliases", &["perpetrator: alias", "perpetrator: aliases", "perpetrator: also known as", "perpetrator: other names", "perpetrator: known as", "perpetrator: aka"]),
            ("perpetrator.dob", &["perpetrator: date of birth", "perpetrator: dob", "perpetrator: d o b", "perpetrator: birth"]),
            ("perpetrator.address", &["perpetrator: address"]),
            ("perpetrator.relationship", &["relationship to victim", "relationship to client", "relationship to the victim", "perpetrator: relationship"]),
            ("risk_summary", &["summary", "current incident", "brief summary", "details of incident", "risk: details", "risk: information", "nature of abuse"]),
            ("dash_date", &["dash completed", "date dash", "date of dash", "date completed", "dash ric completed", "completed on", "date of assessment"]),
            ("police_reference", &["police reference", "crime reference", "crime number", "incident number", "occurrence number", "police ref", "crime incident number", "urn"]),
            ("other_agencies", &["other agencies", "agencies involved", "agencies currently involved", "agencies"]),
            ("marac_area", &["marac area", "which marac", "marac referred to", "marac being referred to", "marac referring to", "name of marac", "marac name", "marac location"]),
            // Never a bare "local authority": on a council's form that labels the referrer's agency.
            ("local_authority", &["victim: local authority", "victim: borough", "victim: council area", "local authority area", "local authority of residence"]),
            // The SafeLives data return's fields. Each is about one person, so a label counts only
            // in that person's section (or naming them), as the victim's gender does.
            ("referrer.agency_type", &["agency type", "type of agency", "referring agency type", "type of organisation", "type of organization", "referrer: sector", "agency category"]),
            ("victim.age", &["victim: age", "victim: age at referral", "victim: current age"]),
            ("victim.ethnicity", &["victim: ethnicity", "victim: ethnic origin", "victim: ethnic group", "victim: ethnic background", "victim: ethnicity code"]),
            ("victim.sexual_orientation", &["victim: sexual orientation", "victim: sexuality"]),
            ("victim.disability", &["victim: disability", "victim: disabled", "victim: disabilities", "victim: any disability", "victim: disability or impairment"]),
            ("perpetrator.age", &["perpetrator: age", "perpetrator: age at referral", "perpetrator: current age"]),
            // How many children the household has, as a number ("2", "none"): never a bare
            // "children" or "children in the household", which head the children's section, and
            // never a yes or no (a DASH question about children is not a count).
            ("household.children", &["number of children", "no of children", "how many children", "total number of children", "children: number", "children: how many"]),
        ];
        let fields = f.iter().map(|(k, v)| ((*k).to_owned(), s(v))).collect();
        Synonyms { sections, fields }
    }
}

impl Synonyms {
    /// Adds an admin's extra labels to the built-in ones.
    pub fn extend(&mut self, extra: &Synonyms) {
        for (k, v) in &extra.sections {
            self.sections.entry(*k).or_default().extend(v.iter().cloned());
        }
        for (k, v) in &extra.fields {
            self.fields.entry(k.clone()).or_default().extend(v.iter().cloned());
        }
    }

    /// Field keys that the synonyms name but the recogniser does not know: a configuration error.
    pub fn unknown_fields(&self) -> Vec<String> {
        self.fields.keys().filter(|k| !FIELDS.contains(&k.as_str())).cloned().collect()
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Child {
    pub name: String,
    pub dob: Option<NaiveDate>,
}

/// What the referral form says. Text values as written; dates, numbers and ticks normalised.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Referral {
    /// Text fields by key (see [`FIELDS`]).
    pub fields: BTreeMap<String, String>,
    pub victim_dob: Option<NaiveDate>,
    pub perpetrator_dob: Option<NaiveDate>,
    /// The reason-for-referral ticks: true ticked, false not ticked, absent when not on the form.
    pub reasons: BTreeMap<String, bool>,
    pub stated_dash_score: Option<u32>,
    pub police_callouts: Option<u32>,
    pub children: Vec<Child>,
    /// Where each field was read, for the coordinator.
    pub found_at: BTreeMap<String, String>,
    /// Which attachments it was read from.
    pub attachments: Vec<String>,
    /// Field keys (see [`FIELDS`]) whose label was found on the form with nothing written in it.
    pub blank: BTreeSet<String>,
    /// Field keys the reader left blank because it could not be sure of the value (a label read
    /// as a value, a value that may belong to another section). Each has an `Uncertain` problem;
    /// no automatic rejection may rest on these fields.
    pub uncertain: BTreeSet<String>,
    pub problems: Vec<Problem>,
}

impl Referral {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.reasons.is_empty() && self.children.is_empty() && self.blank.is_empty() && self.uncertain.is_empty()
    }

    /// Whether the form's victim was placed at all: a victim field was read, found blank, or
    /// found but left blank in doubt. When it was not, the layout is one the reader does not
    /// know, and nothing may be concluded from the victim's absence.
    pub fn victim_placed(&self) -> bool {
        let victim = |k: &String| k.starts_with("victim.");
        self.found_at.keys().any(victim) || self.blank.iter().any(victim) || self.uncertain.iter().any(victim)
    }
}

/// One label with its value, in document order.
struct Pair {
    label: String,
    value: String,
    at: String,
    /// The label of the cell before in the same row: "Name of victim: A | Date of birth: B"
    /// makes the date of birth the victim's.
    before: Option<String>,
    /// The section the source itself names (a form field's name, its alternate name or the
    /// heading printed above it), which outranks the section of the headings read so far.
    section: Option<Section>,
    /// Other labels of the same value (a form field's alternate name, the text beside it, its
    /// own name), tried in turn when `label` names no field.
    more: Vec<String>,
    /// Something about the source names the perpetrator: never a victim's identity.
    names_perpetrator: bool,
    /// An empty value here means the form was left blank (a text box, a table cell), not that
    /// the value lies somewhere the reader does not see (a PDF's printed label beside a box).
    blank_is_evidence: bool,
    /// The printed text of a PDF that has form fields: its labels stand beside the boxes that
    /// hold the values, so a label read where a value belongs is expected and dropped quietly
    /// (no doubt recorded).
    quiet: bool,
}

impl Pair {
    fn new(label: &str, value: &str, at: &str) -> Self {
        Pair {
            label: label.trim().to_owned(),
            value: value.trim().to_owned(),
            at: at.to_owned(),
            before: None,
            section: None,
            more: Vec::new(),
            names_perpetrator: false,
            blank_is_evidence: true,
            quiet: false,
        }
    }
}

enum Item {
    /// A line on its own: a heading when it is heading-like, else free text.
    Line(String),
    Pair(Pair),
    /// A table row: cells as written (children rows under a children heading).
    Row(Vec<String>),
}

/// Words that say a label, a field name or a heading is about the perpetrator.
const PERPETRATOR_WORDS: &[&str] = &[
    " perpetrator ", " perpetrators ", " perp ", " abuser ", " abusers ", " alleged ", " suspect ", " offender ",
    " person causing harm ", " person using harm ", " harm causer ", " accused ", " pch ", " puh ", " ap ",
];

/// Words a label is made of (and a name is not): a value made only of these is a label.
const LABEL_WORDS: &[&str] = &[
    "name", "names", "surname", "forename", "forenames", "first", "last", "family", "given", "middle", "full",
    "christian", "dob", "d", "o", "b", "date", "of", "birth", "age", "address", "postcode", "post", "code",
    "tel", "telephone", "phone", "mobile", "number", "ref", "reference", "crime", "occurrence", "incident",
    "child", "children", "gender", "sex", "email", "e", "mail", "relationship", "to", "victim", "perpetrator",
    "client", "referrer", "details", "contact", "nhs", "alias", "aliases", "aka", "signature", "signed", "id",
    "abuser", "suspect", "offender", "alleged", "dd", "mm", "yy", "yyyy", "s",
    "ethnicity", "ethnic", "origin", "sexual", "orientation", "sexuality", "disability", "disabilities",
];

/// Words that may stand beside a section's name in a heading: "3. Details of the victim".
const HEADING_FILLER: &[&str] = &[
    "details", "detail", "information", "info", "of", "the", "and", "or", "about", "for", "a", "an", "to",
    "be", "completed", "by", "your", "their", "her", "his", "form", "section", "part", "personal",
    "particulars", "data", "other", "members", "member", "s", "including", "main", "known", "any",
];

/// Words that make a line a field's label rather than a heading: "Victim name", "Relationship to victim".
const FIELD_WORDS: &[&str] = &[
    "name", "names", "surname", "forename", "forenames", "dob", "date", "birth", "age", "address", "postcode",
    "relationship", "phone", "telephone", "tel", "mobile", "number", "email", "gender", "sex", "school",
    "score", "aware", "consent", "language", "interpreter", "alias", "aliases", "ref", "reference",
    "ethnicity", "orientation", "sexuality", "disability",
];

/// Heading words spelt with a possessive s ("Victim's details" reads "victims details").
fn depossess(word: &str) -> &str {
    match word {
        "victims" | "perpetrators" | "abusers" | "referrers" | "clients" | "survivors" | "offenders" | "suspects" => {
            word.strip_suffix('s').unwrap_or(word)
        }
        _ => word,
    }
}

fn mark_text(mark: char) -> String {
    mark.to_string()
}

/// A cell or paragraph with inline checkboxes, split into (mark, label) pairs:
/// "☐ Visible high risk ☒ Professional judgement" gives two. `None` when it holds no box or
/// does not start with one.
fn split_marks(text: &str) -> Option<Vec<(char, String)>> {
    let t = text.trim();
    if !t.starts_with([CHECKED, UNCHECKED]) {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(mark) = rest.chars().next().filter(|c| *c == CHECKED || *c == UNCHECKED) {
        let after = &rest[mark.len_utf8()..];
        let end = after.find([CHECKED, UNCHECKED]).unwrap_or(after.len());
        out.push((mark, after[..end].trim().to_owned()));
        rest = &after[end..];
    }
    Some(out)
}

/// A form field's own name as words, its parts and abbreviations spelt out:
/// `Sec3_VictimDOB` → "sec 3 victim dob", `Perp_FullName` → "perpetrator full name".
fn name_words(name: &str) -> String {
    let mut spaced = String::new();
    let mut prev: Option<char> = None;
    for ch in name.chars() {
        if let Some(p) = prev {
            let camel = ch.is_uppercase() && p.is_lowercase();
            let digit = ch.is_ascii_digit() != p.is_ascii_digit() && ch.is_alphanumeric() && p.is_alphanumeric();
            if camel || digit {
                spaced.push(' ');
            }
        }
        spaced.push(ch);
        prev = Some(ch);
    }
    let w = norm(&spaced);
    let expanded: Vec<&str> = w
        .split(' ')
        .map(|t| match t {
            "perp" | "perps" => "perpetrator",
            "ap" => "alleged perpetrator",
            "pch" => "person causing harm",
            "puh" => "person using harm",
            "vic" | "ip" => "victim",
            "fname" | "firstname" => "first name",
            "sname" | "lname" | "lastname" => "surname",
            "forename" | "forenames" => t,
            "ref" => "ref",
            other => other,
        })
        .collect();
    expanded.join(" ")
}

/// The lower-case words of a text joined by single spaces ([`words`] without the spaces around).
fn norm(s: &str) -> String {
    let mut w = words(s);
    // `words` starts with a space and ends with at most one.
    if w.len() > 1 && w.ends_with(' ') {
        w.pop();
    }
    w.remove(0);
    w
}

/// Whether a label (already padded words) names the perpetrator.
fn says_perpetrator(padded: &str) -> bool {
    PERPETRATOR_WORDS.iter().any(|w| padded.contains(w))
}

/// The section a PDF form field's own name names: `Victim_Surname`, `perpetrator.dob`, `AP_Name`.
fn name_section(m: &Matcher, name: &str) -> Option<Section> {
    let w = pad(&name_words(name));
    if says_perpetrator(&w) {
        return Some(Section::Perpetrator);
    }
    m.section(&w)
}

/// Which part of a person's name a label asks for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum NamePart {
    Forenames,
    Middle,
    Surname,
}

fn name_part(label: &str) -> Option<NamePart> {
    let w = pad(&norm(label));
    let has = |list: &[&str]| list.iter().any(|p| w.contains(p));
    let surname = has(&[" surname ", " last name ", " family name ", " lastname "]);
    let forenames = has(&[" forename ", " forenames ", " first name ", " first names ", " given name ", " given names ", " christian name ", " firstname "]);
    let middle = has(&[" middle name ", " middle names "]);
    match (forenames, middle, surname) {
        (true, false, false) => Some(NamePart::Forenames),
        (false, true, false) => Some(NamePart::Middle),
        (false, false, true) => Some(NamePart::Surname),
        _ => None,
    }
}

/// The four reasons for referral, as keys of [`Referral::reasons`].
const REASONS: [&str; 4] = ["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"];

/// The reasons for referral a value names: a drop-down's choice, a typed "PJ", a list of codes
/// ("VHR, PE", "R").
fn reasons_named(value: &str) -> Vec<&'static str> {
    let w = pad(&norm(value));
    let mut out = Vec::new();
    let any = |list: &[&str]| list.iter().any(|p| w.contains(p));
    // One-letter and two-letter codes count only in a short list of codes, not in a sentence.
    let codes = norm(value).split(' ').filter(|t| !t.is_empty()).count() <= 6;
    if any(&[" professional judgement ", " professional judgment ", " prof judgement ", " prof judgment ", " pj ", " practitioners judgement ", " practitioners judgment ", " practitioner judgement ", " professional concern "]) {
        out.push("professional_judgement");
    }
    if any(&[" visible high risk ", " high risk ", " dash score ", " 14 or more ", " vhr "]) {
        out.push("visible_high_risk");
    }
    if any(&[" potential escalation ", " escalation "]) || (codes && any(&[" pe "])) {
        out.push("potential_escalation");
    }
    if any(&[" repeat "]) || (codes && any(&[" r ", " rep "])) {
        out.push("repeat");
    }
    out
}

/// A chosen value that chooses nothing: an empty drop-down, Word's placeholder text.
fn nothing_chosen(value: &str) -> bool {
    let w = norm(value);
    w.is_empty()
        || ["choose an item", "select", "please select", "select one", "select an option", "click or tap here to enter text", "none selected"]
            .contains(&w.as_str())
}

/// A label that asks which reason applies: "Reason for referral", "Criteria met".
/// A label that lists the codes to choose from may run longer ("Reason(s) for referral - codes
/// VHR, PJ, Escalation, Repeat").
fn asks_for_reason(label: &str) -> bool {
    let w = pad(&norm(label));
    let words = w.split(' ').filter(|t| !t.is_empty()).count();
    [" reason ", " reasons ", " criteria ", " criterion ", " grounds ", " basis "].iter().any(|p| w.contains(p))
        && (words <= 8 || (words <= 16 && reasons_named(label).len() >= 2))
}

impl Matcher {
    /// The section a heading-like line opens. Stricter than [`Matcher::section`]: the line is
    /// short, not a question, and says little besides a section's name ("3. Details of the
    /// victim", "Section E - Children in the household"); a field's label ("Victim name",
    /// "Relationship to victim") is not a heading.
    fn heading(&self, text: &str) -> Option<Section> {
        self.heading_left(text).filter(|(_, left)| *left <= 1).map(|(s, _)| s)
    }

    /// The section a line names, with how many words it says besides (fillers aside).
    fn heading_left(&self, text: &str) -> Option<(Section, usize)> {
        if let Some(seen) = self.headings_seen.borrow().get(text) {
            return *seen;
        }
        let answer = self.heading_left_uncached(text);
        let mut seen = self.headings_seen.borrow_mut();
        if seen.len() < 100_000 {
            seen.insert(text.to_owned(), answer);
        }
        answer
    }

    fn heading_left_uncached(&self, text: &str) -> Option<(Section, usize)> {
        if text.contains('?') || text.contains(CHECKED) || text.contains(UNCHECKED) {
            return None;
        }
        // What a heading says in brackets is a note on what to fill in: "(name / date of birth)".
        let w = norm(&crate::text::outside_brackets(text));
        let mut tokens: Vec<&str> = w.split(' ').filter(|t| !t.is_empty()).map(depossess).collect();
        // Leading numbering: "3", "section c", "part 2", "a".
        while let Some(first) = tokens.first() {
            let numbering = first.chars().all(|c| c.is_ascii_digit())
                || (first.len() == 1 && tokens.len() > 1)
                || matches!(*first, "section" | "part" | "sec");
            if !numbering {
                break;
            }
            tokens.remove(0);
            if matches!(tokens.first(), Some(t) if t.len() <= 2 && tokens.len() > 1) {
                tokens.remove(0);
            }
        }
        if tokens.is_empty() || tokens.len() > 10 {
            return None;
        }
        let joined = pad(&tokens.join(" "));
        let mut best: Option<(usize, Section)> = None;
        for (s, names) in &self.sections {
            let covered: usize = names.iter().filter(|n| contains_words(&joined, n)).map(|n| n.trim().split(' ').count()).max().unwrap_or(0);
            if covered > 0 && best.is_none_or(|b| covered > b.0) {
                best = Some((covered, *s));
            }
        }
        let (_, section) = best?;
        let names: Vec<&String> = self.sections.iter().filter(|(s, _)| *s == section).flat_map(|(_, n)| n).collect();
        let mut covered = vec![false; tokens.len()];
        for n in names.iter().filter(|n| contains_words(&joined, n)) {
            let words: Vec<&str> = n.trim().split(' ').collect();
            for start in 0..tokens.len() {
                if tokens.get(start..start + words.len()).is_some_and(|t| t == words.as_slice()) {
                    for c in covered.iter_mut().skip(start).take(words.len()) {
                        *c = true;
                    }
                }
            }
        }
        let left: Vec<&str> =
            tokens.iter().zip(&covered).filter(|(t, c)| !**c && !HEADING_FILLER.contains(t)).map(|(t, _)| *t).collect();
        if left.iter().any(|t| FIELD_WORDS.contains(t)) {
            return None;
        }
        Some((section, left.len()))
    }

    /// The field a label names whatever its value (for a blank value): the best-ranked one.
    fn key_for_blank(&self, label: &str, section: Option<Section>) -> Option<&str> {
        let known = self.blank_keys_seen.borrow().get(&section).and_then(|m| m.get(label).copied());
        let place = known.unwrap_or_else(|| {
            // Every key a phrase names is in `order` (see `Matcher::new`).
            let place = self.key_for_blank_uncached(label, section).and_then(|k| self.order.iter().position(|o| o == k));
            let mut seen = self.blank_keys_seen.borrow_mut();
            let seen = seen.entry(section).or_default();
            if seen.len() < 100_000 {
                seen.insert(label.to_owned(), place);
            }
            place
        });
        place.and_then(|i| self.order.get(i)).map(String::as_str)
    }

    fn key_for_blank_uncached(&self, label: &str, section: Option<Section>) -> Option<&str> {
        let w = norm(label);
        if w.is_empty() || w.len() > 160 {
            return None;
        }
        let w = pad(&w);
        let mut tries = vec![self.subject(label)];
        if !tries.contains(&section) {
            tries.push(section);
        }
        tries.into_iter().find_map(|s| self.ranked(&w, s).first().map(|r| r.2))
    }

    /// Whether a short text reads as a label of the form: it names a field, or it is made of
    /// label words only ("Child 1 name", "DOB", "Crime / occurrence ref").
    fn is_label(&self, text: &str) -> bool {
        if let Some(seen) = self.labels_seen.borrow().get(text) {
            return *seen;
        }
        let answer = self.is_label_uncached(text);
        let mut seen = self.labels_seen.borrow_mut();
        if seen.len() < 100_000 {
            seen.insert(text.to_owned(), answer);
        }
        answer
    }

    fn is_label_uncached(&self, text: &str) -> bool {
        let w = norm(text);
        let tokens: Vec<&str> = w.split(' ').filter(|t| !t.is_empty()).collect();
        if tokens.is_empty() || tokens.len() > 10 || text.contains([CHECKED, UNCHECKED]) {
            return false;
        }
        if tokens.iter().all(|t| t.chars().all(|c| c.is_ascii_digit())) {
            return false;
        }
        let vocabulary = tokens.iter().all(|t| LABEL_WORDS.contains(t) || (t.len() <= 2 && t.chars().all(|c| c.is_ascii_digit())));
        vocabulary || self.heading_left(text).is_some_and(|(_, left)| left == 0) || self.key_for_blank(text, None).is_some_and(|k| value_kind(k) == ValueKind::Text && tokens.len() <= 6 && self.covers(&w, k))
    }

    /// Whether a short text names a field (of any kind): "Number of police call-outs", "Surname".
    fn names_field(&self, text: &str) -> bool {
        let count = norm(text).split(' ').filter(|w| !w.is_empty()).count();
        (1..=12).contains(&count) && !text.contains('?') && self.key_for_blank(text, None).is_some()
    }

    /// Whether the phrases of `key` cover every word of `w` but fillers: "Police reference" is
    /// all label, "Police reference KP-25-004173" is not.
    fn covers(&self, w: &str, key: &str) -> bool {
        let padded = pad(w);
        let tokens: Vec<&str> = w.split(' ').filter(|t| !t.is_empty()).collect();
        let mut covered = vec![false; tokens.len()];
        for (_, _, phrase) in self.phrases.iter().filter(|(k, _, p)| k == key && contains_words(&padded, p)) {
            let words: Vec<&str> = phrase.trim().split(' ').collect();
            for start in 0..tokens.len() {
                if tokens.get(start..start + words.len()).is_some_and(|t| t == words.as_slice()) {
                    for c in covered.iter_mut().skip(start).take(words.len()) {
                        *c = true;
                    }
                }
            }
        }
        tokens.iter().zip(&covered).all(|(t, c)| *c || HEADING_FILLER.contains(t) || LABEL_WORDS.contains(t))
    }
}

/// Whether a field's label or name says anything: "Text12", "Check Box 3", "undefined" do not.
fn meaningful(label: &str) -> bool {
    const GENERIC: &[&str] = &[
        "text", "field", "textfield", "fill", "check", "box", "checkbox", "untitled", "undefined", "dropdown",
        "combo", "list", "radio", "button", "group", "form", "page", "row", "p", "f", "t", "tf", "cb", "txt",
    ];
    let w = norm(label);
    w.len() > 2 && w.split(' ').any(|t| !t.is_empty() && !GENERIC.contains(&t) && !t.chars().all(|c| c.is_ascii_digit()))
}

/// A PDF form field as a pair: its value (a tick for a checkbox), its labels (alternate name,
/// the text beside it, its own name as words) and the section its name, alternate name or the
/// heading above it names.
fn field_pair(m: &Matcher, f: &FormField) -> Pair {
    let value = match f.kind {
        FieldKind::Checkbox | FieldKind::Radio => match f.value.as_deref() {
            Some(v) if !v.eq_ignore_ascii_case("off") => {
                if f.kind == FieldKind::Radio { v.to_owned() } else { mark_text(CHECKED) }
            }
            _ => if f.kind == FieldKind::Radio { String::new() } else { mark_text(UNCHECKED) },
        },
        _ => f.value.clone().unwrap_or_default(),
    };
    let own = name_words(&f.name);
    // The alternate name says what the field is; a field's own name often does too
    // (`victim_dob`); the printed text left of the box may also hold its neighbours' labels.
    let mut labels: Vec<String> = Vec::new();
    for l in [f.label.clone(), Some(own.clone()), f.context.clone()].into_iter().flatten() {
        let l = l.trim().trim_end_matches(':').trim().to_owned();
        if meaningful(&l) && !labels.contains(&l) {
            labels.push(l);
        }
    }
    let heading = f.heading.as_deref().and_then(|h| m.heading(h));
    let tu = f.label.as_deref().and_then(|l| m.subject(l));
    let section = name_section(m, &f.name).or(tu).or(heading);
    let all = pad(&labels.iter().map(|l| norm(l)).collect::<Vec<_>>().join(" "));
    let names_perpetrator = says_perpetrator(&all) || section == Some(Section::Perpetrator);
    let mut labels = labels.into_iter();
    let label = labels.next().unwrap_or_default();
    Pair {
        label,
        value,
        at: format!("{}, field {}", f.at, f.name),
        before: None,
        section,
        more: labels.collect(),
        names_perpetrator,
        blank_is_evidence: matches!(f.kind, FieldKind::Text | FieldKind::Choice),
        quiet: false,
    }
}

/// A table row or a paragraph as pairs: "Label: value" cells, label | value | label | value,
/// a label with its value a few empty cells on (spreadsheets), ticked boxes with their labels.
/// A row of labels only is returned as `None`: it may head the row of values under it.
fn row_pairs(m: &Matcher, cells: &[String], at: &str) -> Option<Vec<Pair>> {
    let texts: Vec<&str> = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let mut out = Vec::new();
    if !texts.is_empty() && texts.iter().all(|c| label_value(c).is_some()) {
        // "Name of victim: A | Date of birth: B" - each cell its own pair.
        let mut before: Option<String> = None;
        for c in &texts {
            for (l, v) in pairs_in(c) {
                let mut p = Pair::new(l, v, at);
                p.before = before.clone();
                before = Some(l.to_owned());
                out.push(p);
            }
        }
        return Some(out);
    }
    let label_like: Vec<bool> =
        texts.iter().map(|c| !c.starts_with([CHECKED, UNCHECKED]) && (m.is_label(c) || m.names_field(c) || c.ends_with(':'))).collect();
    if texts.len() >= 2 && label_like.iter().all(|l| *l) && !(texts.len() == 2 && texts.first().is_some_and(|t| asks_for_reason(t))) {
        return None;
    }
    let mut open: Option<Pair> = None;
    for (i, c) in texts.iter().enumerate() {
        let waiting = open.as_ref().is_some_and(|p| p.value.is_empty());
        let marks = split_marks(c);
        // "☐  DASH score: 6" beside a label: the box is that label's value, the pair after it its own.
        if let Some([(mark, rest)]) = marks.as_deref().filter(|_| waiting && split_marks(c).is_some_and(|ms| ms.len() == 1)) {
            if let Some(mut p) = open.take_if(|_| label_value(rest).is_some()) {
                p.value = mark_text(*mark);
                out.push(p);
                for (l, v) in pairs_in(rest) {
                    out.push(Pair::new(l, v, at));
                }
                continue;
            }
        }
        // "☒" or "☒ Yes ☐ No" beside a label is its value.
        let answer_marks =
            marks.as_ref().is_some_and(|ms| ms.iter().all(|(_, l)| l.is_empty() || normalise_answer(l).is_some()));
        if let Some(marks) = marks.filter(|_| !(waiting && answer_marks)) {
            if let Some(p) = open.take() {
                out.push(p);
            }
            for (mark, label) in marks {
                if !label.is_empty() {
                    out.push(Pair::new(&label, &mark_text(mark), at));
                }
            }
            continue;
        }
        let starts_pair = i == 0 || label_like.get(i).copied().unwrap_or(false);
        match open.as_mut() {
            Some(p) if p.value.is_empty() && !(starts_pair && i > 0 && !asks_for_reason(&p.label)) => {
                p.value = (*c).to_owned();
                out.extend(open.take());
            }
            _ => {
                if let Some(p) = open.take() {
                    out.push(p);
                }
                if label_value(c).is_some() {
                    out.extend(pairs_in(c).into_iter().map(|(l, v)| Pair::new(l, v, at)));
                } else if let Some((label, n)) = count_with_label(m, c).filter(|_| i > 0) {
                    // "Visible high risk | No | DASH score 6": a count and its label in one cell.
                    out.push(Pair::new(label, n, at));
                } else if starts_pair {
                    open = Some(Pair::new(c.trim_end_matches(':'), "", at));
                } else if let Some(last) = out.last_mut() {
                    // Text beside a ticked box or a reason's Yes / No: "☒ Professional judgement |
                    // because ...", "Professional judgement | Yes | details".
                    let reason = m.key_for_blank(&last.label, None).is_some_and(|k| k.starts_with("reason."));
                    if last.value.starts_with([CHECKED, UNCHECKED]) || (reason && tick(&last.value).is_some()) {
                        match count_with_label(m, c) {
                            Some((label, n)) => out.push(Pair::new(label, n, at)),
                            None => out.push(Pair::new("", c, at)),
                        }
                    }
                }
            }
        }
    }
    out.extend(open);
    // A label whose value cell is empty in a grid: the row had empty cells after the label.
    Some(out)
}

fn items(m: &Matcher, doc: &Document) -> Vec<Item> {
    let mut out = Vec::new();
    for f in &doc.fields {
        out.push(Item::Pair(field_pair(m, f)));
    }
    // The printed labels of a form with fields stand beside the boxes that hold the values.
    let has_fields = !doc.fields.is_empty();
    let push_pair = |out: &mut Vec<Item>, mut p: Pair| {
        if has_fields {
            p.blank_is_evidence = false;
            p.quiet = true;
        }
        out.push(Item::Pair(p));
    };
    // A label on a line of its own, waiting for its value on the next line ("label above" forms).
    let mut above: Option<(String, String)> = None;
    // A label with nothing under it but the next label or a heading: not known to be blank (the
    // value may stand where this reader does not look), though an unticked reason reads false.
    let unanswered = |out: &mut Vec<Item>, (label, at): (String, String)| {
        let mut pair = Pair::new(&label, "", &at);
        pair.blank_is_evidence = false;
        push_pair(out, pair);
    };
    let owned: Vec<Block>;
    let blocks: &[Block] = if doc.blocks.iter().any(block_has_bracket_mark) {
        owned = doc.blocks.iter().cloned().map(bracket_marks_in).collect();
        &owned
    } else {
        &doc.blocks
    };
    for (i, block) in blocks.iter().enumerate() {
        if let Some(pending) = above.take() {
            let t = match block {
                Block::Paragraph(p) => Some((p.text.trim(), &p.at)),
                Block::Table(_) => None,
            };
            let after = match blocks.get(i + 1) {
                Some(Block::Paragraph(p)) => Some(p.text.trim()),
                _ => None,
            };
            match t.filter(|(t, _)| value_under(m, &pending.0, t, after)) {
                Some((value, at)) => {
                    push_pair(&mut out, Pair::new(&pending.0, value, at));
                    continue;
                }
                // An empty paragraph under the label before the next label or heading: the
                // form was left blank there.
                None if t.is_some_and(|(_, at)| empty_between(&pending.1, at)) => {
                    push_pair(&mut out, Pair::new(&pending.0, "", &pending.1));
                }
                None => unanswered(&mut out, pending),
            }
        }
        match block {
            Block::Paragraph(p) => {
                let t = p.text.trim();
                if let Some(marks) = split_marks(t) {
                    for (mark, label) in marks {
                        if !label.is_empty() {
                            push_pair(&mut out, Pair::new(&label, &mark_text(mark), &p.at));
                        }
                    }
                } else if label_value(t).is_some() {
                    for (l, v) in pairs_in(t) {
                        push_pair(&mut out, Pair::new(l, v, &p.at));
                    }
                } else if let Some(l) = t.strip_suffix(':').map(str::trim).filter(|l| m.names_field(l) || m.is_label(l) || asks_for_reason(l)) {
                    // "Professional judgement:" with nothing after it: the form was left blank there.
                    push_pair(&mut out, Pair::new(l, "", &p.at));
                } else if label_above(m, t) || repeats_reason_heading(m, out.last(), t) {
                    above = Some((t.to_owned(), p.at.clone()));
                } else if !t.is_empty() {
                    out.push(Item::Line(t.to_owned()));
                }
            }
            Block::Table(t) => {
                // A row of labels waiting for the row of values under it.
                let mut header: Option<(Vec<String>, String)> = None;
                // Where the rows of a PDF page start, in points: its labels stand there, and a
                // line that starts further right is the wrap of a value, not a label.
                let mut left = f32::INFINITY;
                // The answer each column stands for, under a header row "Criteria | Yes | No".
                let mut columns: Option<Vec<Option<Answer>>> = None;
                for row in &t.rows {
                    let at = format!("{}, {}", t.at, row.at);
                    if let Some(cols) = answer_columns(&row.cells) {
                        if let Some((labels, hat)) = header.take() {
                            let _ = flush_header(m, &mut out, &labels, &[], &hat, &hat, has_fields);
                        }
                        columns = Some(cols);
                        out.push(Item::Row(row.cells.clone()));
                        continue;
                    }
                    match columns.as_deref().map(|cols| marked_column(&row.cells, cols)) {
                        Some(Marked::One(label, answer)) => {
                            push_pair(&mut out, Pair::new(label, answer, &at));
                            continue;
                        }
                        // No box ticked, or more than one column marked: the row says nothing
                        // for certain.
                        Some(Marked::Unsure) => {
                            out.push(Item::Row(row.cells.clone()));
                            continue;
                        }
                        // Nothing in the answer columns: a reason neither Yes nor No is not
                        // answered; any other row (a label across the table, the text under it)
                        // is read as usual.
                        Some(Marked::Empty(label)) if m.names_field(label) && m.key_for_blank(label, None).is_some_and(|k| k.starts_with("reason.")) => {
                            out.push(Item::Row(row.cells.clone()));
                            continue;
                        }
                        Some(Marked::Empty(_) | Marked::NotMarks) | None => {}
                    }
                    let starts_left = row.spans.first().is_none_or(|s| s[0] <= left + LABEL_COLUMN_SLACK);
                    if let Some(s) = row.spans.first() {
                        left = left.min(s[0]);
                    }
                    let texts: Vec<&str> = row.cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
                    if texts.is_empty() {
                        // An empty row of values under a row of labels: the form was left blank.
                        if let Some((labels, hat)) = header.take() {
                            for l in labels.iter().filter(|l| !l.trim().is_empty()) {
                                push_pair(&mut out, Pair::new(l, "", &hat));
                            }
                        }
                        continue;
                    }
                    if let [one] = texts.as_slice() {
                        if let Some((labels, hat)) = header.take() {
                            if flush_header(m, &mut out, &labels, &row.cells, &hat, &at, has_fields) {
                                out.push(Item::Row(row.cells.clone()));
                                continue;
                            }
                        }
                        if let Some(marks) = split_marks(one) {
                            for (mark, label) in marks {
                                if !label.is_empty() {
                                    push_pair(&mut out, Pair::new(&label, &mark_text(mark), &at));
                                }
                            }
                        } else if label_value(one).is_some() {
                            for (l, v) in pairs_in(one) {
                                push_pair(&mut out, Pair::new(l, v, &at));
                            }
                        } else if let Some((l, n)) = glued_number(m, one).or_else(|| glued_after_bracket(m, one)) {
                            push_pair(&mut out, Pair::new(l, n, &at));
                        } else if row.cells.first().is_some_and(|c| c.trim() == *one)
                            && if row.cells.len() >= 2 {
                                m.is_label(one) || m.names_field(one)
                            } else {
                                starts_left && (label_above(m, one) || repeats_reason_heading(m, out.last(), one))
                            }
                        {
                            // A label with its value cell left empty (a sheet or a PDF line gives
                            // no cell for it at all), or a label (merged across the row) with its
                            // value in the row under it: the next row says.
                            header = Some((row.cells.clone(), at));
                        } else if row.cells.len() >= 2 && row.cells.first().is_some_and(|c| c.trim() == *one) && asks_for_reason(one) {
                            // "Criteria met | (empty)": the reasons' heading, or their list left
                            // blank. The row under it says which (see `flush_header`).
                            out.push(Item::Line((*one).to_owned()));
                            header = Some((row.cells.clone(), at));
                        } else {
                            out.push(Item::Line((*one).to_owned()));
                        }
                        continue;
                    }
                    match row_pairs(m, &row.cells, &at) {
                        None => {
                            if let Some((labels, hat)) = header.take() {
                                let _ = flush_header(m, &mut out, &labels, &row.cells, &hat, &at, has_fields);
                            }
                            out.push(Item::Row(row.cells.clone()));
                            header = Some((row.cells.clone(), at));
                        }
                        Some(pairs) => {
                            if let Some((labels, hat)) = header.take() {
                                if flush_header(m, &mut out, &labels, &row.cells, &hat, &at, has_fields) {
                                    out.push(Item::Row(row.cells.clone()));
                                    continue;
                                }
                            }
                            out.push(Item::Row(row.cells.clone()));
                            for p in pairs {
                                push_pair(&mut out, p);
                            }
                        }
                    }
                }
                if let Some((labels, hat)) = header.take() {
                    let _ = flush_header(m, &mut out, &labels, &[], &hat, &hat, has_fields);
                }
            }
        }
    }
    if let Some(pending) = above.take() {
        unanswered(&mut out, pending);
    }
    out
}

/// The answer each column of a header row stands for ("Criteria | Yes | No"): the first cell a
/// label, at least two answer words after it and nothing else. `None` for any other row.
fn answer_columns(cells: &[String]) -> Option<Vec<Option<Answer>>> {
    let first = cells.iter().position(|c| !c.trim().is_empty())?;
    if normalise_answer(&cells[first]).is_some() {
        return None;
    }
    let mut cols = vec![None; cells.len()];
    let mut seen = Vec::new();
    for (i, c) in cells.iter().enumerate().skip(first + 1) {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        // The words alone: "Yes", "No", "Don't know" (a lone "X" is a mark, not a header).
        let w = norm(c);
        if !matches!(w.as_str(), "yes" | "no" | "y" | "n" | "dk" | "dont know" | "not known" | "unknown") {
            return None;
        }
        let a = normalise_answer(c).filter(|a| *a != Answer::Blank)?;
        if seen.contains(&a) {
            return None;
        }
        seen.push(a);
        cols[i] = Some(a);
    }
    (seen.contains(&Answer::Yes) && seen.contains(&Answer::No)).then_some(cols)
}

/// What a row under an answer-columns header says.
enum Marked<'a> {
    /// One column marked: the row's label and the answer of that column, as a word.
    One(&'a str, &'static str),
    /// Boxes only, but none of them ticked, or several columns marked: nothing certain.
    Unsure,
    /// The label alone, nothing in the other cells.
    Empty(&'a str),
    /// Not a row of marks (a value typed across the columns, a merged cell): read as usual.
    NotMarks,
}

/// A row under "Criteria | Yes | No": which answer column holds the mark. Every cell but the
/// label must be a mark or empty, and the label must stand before the answer columns.
fn marked_column<'a>(cells: &'a [String], cols: &[Option<Answer>]) -> Marked<'a> {
    let Some(first) = cells.iter().position(|c| !c.trim().is_empty()) else { return Marked::NotMarks };
    if cols.iter().take(first + 1).any(Option::is_some) {
        return Marked::NotMarks;
    }
    let mut ticked: Vec<Answer> = Vec::new();
    let mut marks = 0;
    for (i, c) in cells.iter().enumerate().skip(first + 1) {
        let c = c.trim();
        if !c.is_empty() {
            marks += 1;
        }
        let on = match c {
            "" => false,
            _ if c.chars().all(|ch| matches!(ch, 'X' | 'x' | '✓' | '✔' | CHECKED | '■')) => true,
            _ if c.chars().all(|ch| matches!(ch, UNCHECKED | '□')) => false,
            _ => return Marked::NotMarks,
        };
        match cols.get(i).copied().flatten() {
            Some(a) if on => ticked.push(a),
            Some(_) => {}
            // A mark outside the answer columns: not this layout.
            None if on => return Marked::NotMarks,
            None => {}
        }
    }
    let label = cells[first].trim();
    if marks == 0 {
        return Marked::Empty(label);
    }
    match ticked.as_slice() {
        [Answer::Yes] => Marked::One(label, "Yes"),
        [Answer::No] => Marked::One(label, "No"),
        [Answer::DontKnow] => Marked::One(label, "Don't know"),
        _ => Marked::Unsure,
    }
}

/// Boxes typed as text: "[X]", "[x]", "[✓]" ticked, "[ ]", "[]" not.
const BRACKET_MARKS: [(&str, char); 6] = [("[X]", CHECKED), ("[x]", CHECKED), ("[✓]", CHECKED), ("[✔]", CHECKED), ("[ ]", UNCHECKED), ("[]", UNCHECKED)];

/// Box glyphs typed as characters that the readers leave as they are: a filled square is a
/// ticked box, an empty square one not ticked, as a person reads them.
const GLYPH_MARKS: [(char, char); 3] = [('■', CHECKED), ('□', UNCHECKED), ('☑', CHECKED)];

fn has_bracket_mark(text: &str) -> bool {
    (text.contains('[') && BRACKET_MARKS.iter().any(|(b, _)| text.contains(b)))
        || text.contains(|c| GLYPH_MARKS.iter().any(|(g, _)| *g == c))
        || marks_after_labels(text).is_some()
}

fn block_has_bracket_mark(block: &Block) -> bool {
    match block {
        Block::Paragraph(p) => has_bracket_mark(&p.text),
        Block::Table(t) => t.rows.iter().any(|r| r.cells.iter().any(|c| has_bracket_mark(c))),
    }
}

/// Boxes printed after their labels ("Visible high risk ☒ Professional judgement ☐"), turned
/// round to stand before them as the readers write them ("☒ Visible high risk ☐ Professional
/// judgement"). Only a text that does not start with a box and ends with one, whose every label
/// is a few words and none of them an answer ("Aware? Yes ☒ No ☐" is not turned), a question or
/// a "Label:" of its own.
fn marks_after_labels(text: &str) -> Option<String> {
    let t = text.trim();
    if t.starts_with([CHECKED, UNCHECKED]) || !t.ends_with([CHECKED, UNCHECKED]) || t.contains([':', '?']) {
        return None;
    }
    let mut out = String::new();
    let mut rest = t;
    while let Some(pos) = rest.find([CHECKED, UNCHECKED]) {
        let label = rest[..pos].trim();
        let count = norm(label).split(' ').filter(|w| !w.is_empty()).count();
        if label.is_empty() || count > 12 || normalise_answer(label).is_some() {
            return None;
        }
        let mark = rest[pos..].chars().next()?;
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(mark);
        out.push(' ');
        out.push_str(label);
        rest = &rest[pos + mark.len_utf8()..];
    }
    Some(out)
}

/// Boxes typed as text become the inline marks the readers write for real check boxes.
fn bracket_marks_in(mut block: Block) -> Block {
    let swap = |text: &mut String| {
        if has_bracket_mark(text) {
            for (b, mark) in BRACKET_MARKS {
                *text = text.replace(b, &mark.to_string());
            }
            for (g, mark) in GLYPH_MARKS {
                *text = text.replace(g, &mark.to_string());
            }
            if let Some(turned) = marks_after_labels(text) {
                *text = turned;
            }
        }
    };
    match &mut block {
        Block::Paragraph(p) => swap(&mut p.text),
        Block::Table(t) => t.rows.iter_mut().flat_map(|r| r.cells.iter_mut()).for_each(swap),
    }
    block
}

/// A count printed against its label with no space, as flat PDFs extract it: "Number of police
/// call-outs in the last 12 months3" is the label and 3.
fn glued_number<'a>(m: &Matcher, text: &'a str) -> Option<(&'a str, &'a str)> {
    let digits = text.len() - text.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (label, n) = text.split_at(text.len() - digits);
    let glued = digits > 0 && digits <= 2 && label.ends_with(|c: char| c.is_alphabetic());
    (glued && m.key(label, n, None).is_some_and(|k| value_kind(k) == ValueKind::Number)).then_some((label, n))
}

/// A count written with its label in one cell, as the details beside a reason's Yes: "4 police
/// call-outs in the last 12 months", "DASH score 6". Only where the words name a count's field.
fn count_with_label<'a>(m: &Matcher, text: &'a str) -> Option<(&'a str, &'a str)> {
    let text = text.trim();
    let (first, rest) = text.split_once(' ')?;
    if (1..=2).contains(&first.len()) && first.chars().all(|c| c.is_ascii_digit()) {
        let label = rest.trim();
        return m.key(label, first, None).is_some_and(|k| value_kind(k) == ValueKind::Number).then_some((label, first));
    }
    let (label, last) = text.rsplit_once(' ')?;
    let count = (1..=2).contains(&last.len()) && last.chars().all(|c| c.is_ascii_digit());
    (count && m.key(label, last, None).is_some_and(|k| value_kind(k) == ValueKind::Number)).then_some((label.trim(), last))
}

/// A value printed against the closing bracket of its label, as flat PDFs extract a long label
/// that runs into its value's column: "Referral criteria met (VHR / PJ / Repeat)VHR, PJ" is the
/// label and "VHR, PJ". Only where the text before the bracket names a field.
fn glued_after_bracket<'a>(m: &Matcher, text: &'a str) -> Option<(&'a str, &'a str)> {
    let close = text.match_indices(')').map(|(i, _)| i).find(|i| text.get(i + 1..).is_some_and(|v| v.starts_with(char::is_alphanumeric)))?;
    let (label, value) = (text.get(..=close)?, text.get(close + 1..)?);
    let glued = !label.contains(':');
    (glued && (m.names_field(label) || asks_for_reason(label))).then_some((label.trim(), value.trim()))
}

/// How far right of a PDF page's left edge of text a label may start, in points.
const LABEL_COLUMN_SLACK: f32 = 12.0;

/// A line that is a field's label and nothing else: short, no colon or question, not a heading.
fn label_above(m: &Matcher, t: &str) -> bool {
    !t.is_empty()
        && !t.contains([':', '?', CHECKED, UNCHECKED])
        && norm(t).split(' ').filter(|w| !w.is_empty()).count() <= 12
        && !numbered_heading(t)
        // "Referral criteria met (VHR / PJ / Escalation / Repeat)" reads as a heading but asks
        // for the reasons chosen on the line under it.
        && ((m.heading(t).is_none() && (m.names_field(t) || m.is_label(t))) || (asks_for_reason(t) && reasons_named(t).len() >= 2))
}

/// Whether an empty paragraph stood between two paragraphs, by their numbers (the Word and
/// OpenDocument readers count the empty ones they leave out).
fn empty_between(before: &str, after: &str) -> bool {
    use crate::readers::paragraph_number;
    paragraph_number(before).zip(paragraph_number(after)).is_some_and(|(a, b)| b > a.saturating_add(1))
}

/// A line asking for the reasons right under the heading of the reasons' section ("Referral
/// criteria", then "Reason for referral") or under the key to their codes ("VHR = visible high
/// risk, PJ = professional judgement, ..."): a section opened with nothing in it is not opened
/// again, so the line is the label of the choice written under it.
fn repeats_reason_heading(m: &Matcher, last: Option<&Item>, t: &str) -> bool {
    let reason_heading = |text: &str| m.heading(text) == Some(Section::Reason);
    let opens_reasons = |prev: &str| reason_heading(prev) || reasons_named(prev).len() >= 2;
    let after_opening = match last {
        Some(Item::Line(prev)) => opens_reasons(prev),
        // "Key | VHR = visible high risk, PJ = ...": a key written as a label and its value.
        Some(Item::Pair(p)) => reasons_named(&p.value).len() >= 2 && m.key_for_blank(&p.label, None).is_none(),
        _ => false,
    };
    after_opening && reason_heading(t) && asks_for_reason(t) && !t.contains(':')
}

/// Whether the line under a label is its value: not another label, a heading, a pair of its own
/// or a list of boxes with labels ("☒" and "☒ Yes ☐ No" are values).
fn value_under(m: &Matcher, label: &str, t: &str, after: Option<&str>) -> bool {
    if t.is_empty() {
        return false;
    }
    let is_mark = |t: &str| split_marks(t).is_some_and(|marks| marks.iter().all(|(_, l)| l.is_empty() || normalise_answer(l).is_some()));
    if split_marks(t).is_some() {
        return is_mark(t);
    }
    // The reasons chosen, under the label that asks for them: "PJ", "VHR, Repeat". A reason with
    // its own box or Yes / No under it is that box's label, not the choice.
    let names_other_field = m.key_for_blank(t, None).is_some_and(|k| !k.starts_with("reason."));
    let ticked_under = after.is_some_and(|a| is_mark(a) || normalise_answer(a).is_some());
    if asks_for_reason(label)
        && norm(t).split(' ').count() <= 6
        && !reasons_named(t).is_empty()
        && label_value(t).is_none()
        && !names_other_field
        && !ticked_under
    {
        return true;
    }
    // A sentence under a free-text field's label is its value even when it opens "Recent
    // escalation: he has ..." (a rationale is prose, not a pair of the form).
    let free_text_label = m.key_for_blank(label, None).is_some_and(|k| matches!(k, "professional_judgement_rationale" | "risk_summary"));
    if free_text_label && is_free_text(m, t) && norm(t).split(' ').count() > 12 {
        return true;
    }
    let own_pair = label_value(t).is_some_and(|(l, _)| m.names_field(l) || m.is_label(l));
    !label_above(m, t) && m.heading(t).is_none() && !numbered_heading(t) && !own_pair
}

/// A row of labels with the row under it: values by column when that row holds values. A row
/// of labels with no values under it is read as written: "Name | DOB" gives the name the
/// value "DOB", which the reader then knows is a label (a doubt, not a value).
fn flush_header(
    m: &Matcher,
    out: &mut Vec<Item>,
    labels: &[String],
    values: &[String],
    header_at: &str,
    values_at: &str,
    has_fields: bool,
) -> bool {
    // Two rows that each open with a reason's label are sibling rows of ticks, not labels and values.
    let reason = |t: Option<&String>| t.is_some_and(|t| m.key_for_blank(t, None).is_some_and(|k| k.starts_with("reason.")));
    let siblings = reason(labels.first()) && reason(values.first());
    let value_row = !values.is_empty() && !siblings && values.iter().all(|v| v.trim().is_empty() || !m.is_label(v));
    let label_texts: Vec<&str> = labels.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let value_texts: Vec<&str> = values.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    if let [label] = label_texts.as_slice() {
        // A reasons label with an empty cell beside it, over rows of their own (a tick box or a
        // reason's label in each): a heading, not a list left blank; the end of the table under
        // it says nothing either.
        if asks_for_reason(label)
            && (values.is_empty()
                || reason(values.iter().find(|v| !v.trim().is_empty()))
                || value_texts.first().is_some_and(|v| v.starts_with([CHECKED, UNCHECKED]) || split_marks(v).is_some()))
        {
            return false;
        }
        // One label on its row: the value under it is a short text that is not a label, a
        // heading or an instruction; a label or a heading under it (or nothing) leaves it blank;
        // anything else says nothing.
        let next = value_texts.as_slice();
        let short_value = match next {
            [v] => {
                let w = pad(&norm(v));
                norm(v).split(' ').count() <= 12
                    && !v.ends_with(':')
                    && !v.contains('?')
                    && !v.starts_with([CHECKED, UNCHECKED])
                    && ![" please ", " tick ", " complete ", " if "].iter().any(|x| w.contains(x))
                    && !m.is_label(v)
                    && !m.names_field(v)
                    && m.heading(v).is_none()
            }
            _ => false,
        };
        // The next row a label and value of its own ("Aliases / other names | None known") while
        // this label had an empty value cell beside it: this one was left blank.
        let label_words = |v: &str| {
            v.ends_with(['?', ':'])
                || norm(v).split(' ').any(|t| !t.is_empty() && (LABEL_WORDS.contains(&t) || FIELD_WORDS.contains(&t)))
        };
        let own_row = next.len() >= 2
            && labels.len() >= 2
            && values.first().is_some_and(|v| !v.trim().is_empty() && label_words(v));
        let labelled_next =
            own_row || next.is_empty() || next.first().is_some_and(|v| m.is_label(v) || m.names_field(v) || m.heading(v).is_some());
        // A free-text field's label across the row and its text under it, in a cell of its own
        // (often merged across the table): "Rationale for professional judgement" / "She ...".
        let free_text = match next {
            [v] if !short_value => {
                m.key_for_blank(label, None).is_some_and(|k| matches!(k, "professional_judgement_rationale" | "risk_summary"))
                    && is_free_text(m, v)
                    && norm(v).split(' ').count() > 12
            }
            _ => false,
        };
        let mut p = match next {
            [v] if short_value || free_text => Pair::new(label, v, values_at),
            _ if labelled_next => Pair::new(label, "", header_at),
            _ => return false,
        };
        if has_fields {
            p.blank_is_evidence = false;
            p.quiet = true;
        }
        out.push(Item::Pair(p));
        return short_value || free_text;
    }
    let mut emit = |mut p: Pair| {
        if has_fields {
            p.blank_is_evidence = false;
            p.quiet = true;
        }
        out.push(Item::Pair(p));
    };
    if value_row {
        for (i, l) in labels.iter().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let v = values.get(i).map(|v| v.trim()).unwrap_or_default();
            emit(Pair::new(l, v, values_at));
        }
    } else {
        let texts: Vec<&str> = labels.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
        let is_label = |t: &str| !t.starts_with([CHECKED, UNCHECKED]) && label_value(t).is_none() && (m.is_label(t) || m.names_field(t));
        let next_labelled = value_texts.first().is_some_and(|v| is_label(v) || m.heading(v).is_some());
        if texts.len() >= 2 && texts.iter().all(|t| is_label(t)) && next_labelled {
            // A row of labels with nothing beside or under them ("Surname | | Forename(s) |"),
            // then a row that opens with a label of its own: each was left blank.
            for l in texts {
                emit(Pair::new(l, "", header_at));
            }
        } else if let [l, v] = texts.as_slice() {
            let reason = |t: &str| m.key_for_blank(t, None).is_some_and(|k| k.starts_with("reason."));
            if reason(l) && label_value(v).is_none() && !v.starts_with([CHECKED, UNCHECKED]) && (m.is_label(v) || m.names_field(v)) {
                // "Professional judgement | Rationale ..." with nothing in either: both blank.
                emit(Pair::new(l, "", header_at));
                emit(Pair::new(v, "", header_at));
            } else {
                let mut p = Pair::new(l, v, header_at);
                p.blank_is_evidence = false;
                emit(p);
            }
        }
    }
    value_row
}
/// Every "Label: value" pair of one cell or paragraph: a line may hold two, set apart by a run
/// of spaces or a tab ("Name of victim: K.B.      Date: 26/06/2025"), and a value may carry
/// another in brackets ("Yes (police call-outs in last 12 months: 8)"), which is read as well.
fn pairs_in(text: &str) -> Vec<(&str, &str)> {
    let mut segments: Vec<&str> = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let gap = bytes.get(i) == Some(&b'\t') || (bytes.get(i) == Some(&b' ') && bytes.get(i + 1) == Some(&b' '));
        if gap {
            let mut j = i;
            while matches!(bytes.get(j), Some(b' ') | Some(b'\t')) {
                j += 1;
            }
            if let Some(seg) = text.get(start..i) {
                segments.push(seg);
            }
            start = j;
            i = j;
        } else {
            i += 1;
        }
    }
    if let Some(seg) = text.get(start..) {
        segments.push(seg);
    }
    // Segments that are not a pair of their own belong to the value before them; a cut is made
    // only where the text before it is a whole pair too.
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut cut: Vec<usize> = vec![0];
    let mut offset = 0;
    for seg in &segments {
        let at = text.get(offset..).and_then(|rest| rest.find(seg)).map(|p| p + offset).unwrap_or(offset);
        offset = at + seg.len();
        let last = cut.last().copied().unwrap_or(0);
        let whole_before = at > last && text.get(last..at).and_then(label_value).is_some();
        if whole_before && label_value(seg).is_some_and(|(l, _)| norm(l).split(' ').count() <= 6) {
            cut.push(at);
        }
    }
    cut.push(text.len());
    for w in cut.windows(2) {
        if let [a, b] = w {
            if let Some(pair) = text.get(*a..*b).and_then(label_value) {
                out.push(pair);
            }
        }
    }
    if out.is_empty() {
        out.extend(label_value(text));
    }
    let inner: Vec<(&str, &str)> = out
        .iter()
        .filter_map(|(_, v)| {
            let open = v.find('(')?;
            let close = v.rfind(')').filter(|c| *c > open)?;
            v.get(open + 1..close).and_then(label_value)
        })
        .collect();
    out.extend(inner);
    out
}

/// "Label: value" within one cell or paragraph.
fn label_value(text: &str) -> Option<(&str, &str)> {
    let (l, v) = text.split_once(':')?;
    let (l, v) = (l.trim(), v.trim());
    (!l.is_empty() && l.len() <= 60 && !v.is_empty()).then_some((l, v))
}

struct Matcher {
    sections: Vec<(Section, Vec<String>)>,
    /// (key, the subject it requires, phrase words), in declaration order.
    phrases: Vec<(String, Option<Section>, String)>,
    /// Field keys in declaration order, for ties.
    order: Vec<String>,
    /// Phrases by their first word: a label is only compared with the phrases its words start.
    by_first: HashMap<String, Vec<usize>>,
    /// What [`Matcher::is_label`] said of each text seen, for the many cells read twice.
    labels_seen: RefCell<HashMap<String, bool>>,
    /// Every section name as words, with its length padded (longer names win) and its section,
    /// in declaration order (the first of equally long names wins).
    section_names: Vec<(Vec<String>, usize, Section)>,
    /// Section names by their first word, as places in `section_names`.
    section_by_first: HashMap<String, Vec<usize>>,
    /// What [`Matcher::section`] said of each text seen: every label is asked several times.
    sections_seen: RefCell<HashMap<String, Option<Section>>>,
    /// What [`Matcher::heading_left`] said of each text seen.
    headings_seen: RefCell<HashMap<String, Option<(Section, usize)>>>,
    /// What [`Matcher::key_for_blank`] said of each label and section seen, as a place in `order`.
    blank_keys_seen: RefCell<HashMap<Option<Section>, PlacesSeen>>,
}

/// Texts with the place in `Matcher::order` of the field each names (`None`: no field).
type PlacesSeen = HashMap<String, Option<usize>>;

/// The kind of value a field holds: a label only matches when its value fits.
#[derive(PartialEq, Clone, Copy)]
enum ValueKind {
    Tick,
    Number,
    /// An age in years, written as one ("34", "17 years"): never the first number of a date.
    Age,
    /// How many children: a number or "none" ([`children_count`]), never yes or no.
    Count,
    Text,
}

fn value_kind(key: &str) -> ValueKind {
    match key {
        k if k.starts_with("reason.") => ValueKind::Tick,
        "stated_dash_score" | "police_callouts" => ValueKind::Number,
        "victim.age" | "perpetrator.age" => ValueKind::Age,
        "household.children" => ValueKind::Count,
        _ => ValueKind::Text,
    }
}

fn fits(kind: ValueKind, value: &str) -> bool {
    match kind {
        ValueKind::Tick => tick(value).is_some(),
        ValueKind::Number => number(value).is_some(),
        ValueKind::Age => age(value).is_some(),
        ValueKind::Count => children_count(value).is_some(),
        ValueKind::Text => !value.trim().is_empty() && !value.trim().starts_with([CHECKED, UNCHECKED]),
    }
}

/// Whether `needle` occurs in `hay` as whole words; both are padded with a space at each end.
fn contains_words(padded_hay: &str, padded_needle: &str) -> bool {
    padded_needle.len() > 2 && padded_hay.contains(padded_needle)
}

fn pad(s: &str) -> String {
    format!(" {s} ")
}

impl Matcher {
    fn new(syn: &Synonyms) -> Self {
        let sections: Vec<(Section, Vec<String>)> =
            syn.sections.iter().map(|(s, v)| (*s, v.iter().map(|x| pad(&norm(x))).collect())).collect();
        let mut section_names: Vec<(Vec<String>, usize, Section)> = Vec::new();
        let mut section_by_first: HashMap<String, Vec<usize>> = HashMap::new();
        for (s, names) in &sections {
            for n in names {
                let words: Vec<String> = n.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
                if let Some(first) = words.first() {
                    section_by_first.entry(first.clone()).or_default().push(section_names.len());
                    section_names.push((words, n.len(), *s));
                }
            }
        }
        let mut phrases = Vec::new();
        let mut order: Vec<String> = FIELDS.iter().map(|f| (*f).to_owned()).collect();
        for (key, list) in &syn.fields {
            if !order.contains(key) {
                order.push(key.clone());
            }
            for l in list {
                let (section, label) = match l.split_once(':') {
                    Some((s, rest)) => (section_named(s.trim()), rest),
                    None => (None, l.as_str()),
                };
                phrases.push((key.clone(), section, pad(&norm(label))));
            }
        }
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (_, _, phrase)) in phrases.iter().enumerate() {
            if let Some(first) = phrase.split(' ').find(|t| !t.is_empty()) {
                by_first.entry(first.to_owned()).or_default().push(i);
            }
        }
        Matcher {
            sections,
            section_names,
            section_by_first,
            phrases,
            order,
            by_first,
            labels_seen: RefCell::new(HashMap::new()),
            sections_seen: RefCell::new(HashMap::new()),
            headings_seen: RefCell::new(HashMap::new()),
            blank_keys_seen: RefCell::new(HashMap::new()),
        }
    }

    /// The section a heading opens, or the person a label is about.
    fn section(&self, heading: &str) -> Option<Section> {
        if let Some(seen) = self.sections_seen.borrow().get(heading) {
            return *seen;
        }
        let answer = self.section_uncached(heading);
        let mut seen = self.sections_seen.borrow_mut();
        if seen.len() < 100_000 {
            seen.insert(heading.to_owned(), answer);
        }
        answer
    }

    fn section_uncached(&self, heading: &str) -> Option<Section> {
        let w = norm(heading);
        // Strip a leading section number or letter: "3. Victim details", "Section C - Client".
        // A possessive names the person too: "Victim's date of birth".
        let w = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        let tokens: Vec<&str> = w.split(' ').filter(|t| !t.is_empty()).map(depossess).collect();
        // The longest name whose words stand in the text in a row; of equally long ones, the
        // first declared. (The words of a name from `section_by_first`, compared in place, are
        // what `contains_words` finds in the padded text: both are single-spaced words.)
        let mut best: Option<(usize, usize)> = None;
        for (start, first) in tokens.iter().enumerate() {
            for &i in self.section_by_first.get(*first).into_iter().flatten() {
                let Some((words, len, _)) = self.section_names.get(i) else { continue };
                let here = tokens.get(start..start + words.len()).is_some_and(|t| t.iter().zip(words).all(|(a, b)| a == b));
                if here && best.is_none_or(|b| *len > b.0 || (*len == b.0 && i < b.1)) {
                    best = Some((*len, i));
                }
            }
        }
        best.and_then(|(_, i)| self.section_names.get(i)).map(|n| n.2)
    }

    /// The person a label names itself: "Client DOB", "Alleged abuser's name".
    fn subject(&self, label: &str) -> Option<Section> {
        self.section(label).filter(|s| matches!(s, Section::Victim | Section::Perpetrator | Section::Referrer))
    }

    /// Fields ranked for a (padded) label read under `subject`: phrase lengths added up per field.
    fn ranked(&self, w: &str, subject: Option<Section>) -> Vec<(usize, usize, &str)> {
        let mut scores: Vec<(usize, usize, &str)> = Vec::new();
        let mut candidates: Vec<usize> =
            w.split(' ').filter(|t| !t.is_empty()).filter_map(|t| self.by_first.get(t)).flatten().copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        for (key, need, phrase) in candidates.into_iter().filter_map(|i| self.phrases.get(i)) {
            if need.is_some() && *need != subject {
                continue;
            }
            if contains_words(w, phrase) {
                let rank = self.order.iter().position(|k| k == key).unwrap_or(usize::MAX);
                match scores.iter_mut().find(|s| s.2 == key) {
                    Some(s) => s.0 += phrase.len() - 2,
                    None => scores.push((phrase.len() - 2, rank, key)),
                }
            }
        }
        scores.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scores
    }

    /// The field a label names, given its value and the section it sits in.
    fn key(&self, label: &str, value: &str, section: Option<Section>) -> Option<&str> {
        let w = norm(label);
        if w.is_empty() || w.len() > 160 {
            return None;
        }
        let w = pad(&w);
        let mut tries = vec![self.subject(label)];
        if !tries.contains(&section) {
            tries.push(section);
        }
        for subject in tries {
            let ranked = self.ranked(&w, subject);
            // A blank value says nothing about a lesser match: "Rationale: (blank)" must not
            // become an unticked professional judgement.
            let take = if value.trim().is_empty() { 1 } else { ranked.len() };
            if let Some(best) = ranked.into_iter().take(take).find(|(_, _, k)| fits(value_kind(k), value)) {
                return Some(best.2);
            }
        }
        None
    }
}

fn section_named(s: &str) -> Option<Section> {
    Some(match s.to_ascii_lowercase().as_str() {
        "referrer" => Section::Referrer,
        "reason" => Section::Reason,
        "victim" => Section::Victim,
        "perpetrator" => Section::Perpetrator,
        "children" => Section::Children,
        "risk" => Section::Risk,
        _ => return None,
    })
}

fn tick(value: &str) -> Option<bool> {
    if let Some(v) = inline_checked(value) {
        return Some(v.contains(&Answer::Yes));
    }
    match normalise_answer(value)? {
        Answer::Yes => Some(true),
        Answer::No | Answer::Blank => Some(false),
        Answer::DontKnow => None,
    }
}

fn number(value: &str) -> Option<u32> {
    let w = norm(value);
    let first = w.split(' ').next()?;
    if let Ok(n) = first.parse::<u32>() {
        return Some(n);
    }
    let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    words.iter().position(|x| *x == first).map(|n| n as u32)
}

/// An age in years as a form writes one: digits alone or followed by "years" ("17", "34 years
/// old", "16 yrs"), 0 to 120. Anything else (a date, "30s", "about 40", "not known") is no age.
pub fn age(value: &str) -> Option<u32> {
    let w = norm(value);
    let mut words = w.split(' ').filter(|t| !t.is_empty());
    let n: u32 = words.next().filter(|t| t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 3)?.parse().ok()?;
    let rest: Vec<&str> = words.collect();
    let unit = matches!(rest.as_slice(), [] | ["years"] | ["yrs"] | ["years", "old"] | ["yrs", "old"] | ["year", "old"]);
    (unit && n <= 120).then_some(n)
}

/// How many children a form says the household has: a number written as one ("2", "2
/// children", "two"), or none ("None", "None known", "No children", "Nil", "N/A", "0"); None for
/// anything else ("Yes", "Not known", a name). The data return counts from it.
pub fn children_count(value: &str) -> Option<u32> {
    const WORDS: [&str; 11] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    let w = norm(value);
    let tokens: Vec<&str> = w.split(' ').filter(|t| !t.is_empty()).collect();
    if matches!(tokens.as_slice(), ["none"] | ["none", "known"] | ["no", "children"] | ["nil"] | ["n", "a"] | ["not", "applicable"]) {
        return Some(0);
    }
    let (first, rest) = tokens.split_first()?;
    let n = if first.bytes().all(|b| b.is_ascii_digit()) && first.len() <= 2 { first.parse().ok()? } else { WORDS.iter().position(|x| x == first)? as u32 };
    (matches!(rest, [] | ["children"] | ["child"]) && n <= 30).then_some(n)
}

/// A line under the children's heading that says in words that the household has none
/// ("None", "No children", "N/A"; not a bare "0", which may be any number on the page).
fn says_no_children(text: &str) -> bool {
    children_count(text) == Some(0) && text.chars().any(char::is_alphabetic) && !text.chars().any(|c| c.is_ascii_digit())
}

/// Keys that say who the victim is: never read from a source that names the perpetrator.
const VICTIM_IDENTITY: &[&str] = &[
    "victim.name", "victim.aliases", "victim.dob", "victim.gender", "victim.address", "victim.postcode", "victim.phone",
    "victim.age", "victim.ethnicity", "victim.sexual_orientation", "victim.disability",
];

/// What one pass over the documents gathers before it becomes a [`Referral`].
#[derive(Default)]
struct Reading {
    r: Referral,
    /// Name parts per person ("victim" / "perpetrator"), first found kept.
    parts: BTreeMap<(String, NamePart), (String, String)>,
    /// Keys whose label was found with an empty value, with those labels (as words).
    blank: BTreeMap<String, Vec<String>>,
    /// Professional judgement was just ticked: the free text that follows is its rationale.
    pj_open: bool,
    /// Reasons not chosen where the form gives its reasons as values chosen from a list, with
    /// where that list was read: false unless read otherwise.
    not_chosen: BTreeMap<String, String>,
    /// The attachment being read (its place in the email) and whether the pair being stored
    /// sits in the victim's section (by heading, or its own label or field name).
    attachment: usize,
    in_victim: bool,
    /// Where the victim's name and date of birth were read: (attachment, in the victim's section).
    /// A header line of the DASH ("Name of victim: ...") gives way to the referral form's
    /// victim section; two sources alike in standing that disagree leave the field in doubt.
    identity_from: BTreeMap<String, (usize, bool)>,
    /// The same for the victim's name parts (surname, forenames).
    parts_from: Option<(usize, bool)>,
    /// Identity fields two attachments of equal standing give differently, with where.
    conflicts: BTreeMap<String, String>,
    /// Numbered child fields ("Child 1 name", "Child1DOB"): name and date of birth by number.
    numbered_children: BTreeMap<u32, (Option<String>, Option<NaiveDate>)>,
}

/// A numbered child's field: its number, and whether it holds the name (else the date of birth).
fn numbered_child(label: &str) -> Option<(u32, bool)> {
    // A question about children ("... (name of abuser) ... children?") is not a child's field.
    if label.contains('?') {
        return None;
    }
    let w = name_words(label);
    let tokens: Vec<&str> = w.split(' ').filter(|t| !t.is_empty()).collect();
    if tokens.len() > 6 || !tokens.iter().any(|t| matches!(*t, "child" | "children")) {
        return None;
    }
    let n = tokens.iter().find_map(|t| t.parse::<u32>().ok())?;
    let dob = tokens.iter().any(|t| matches!(*t, "dob" | "birth"));
    let name = tokens.iter().any(|t| matches!(*t, "name" | "names" | "fullname"));
    match (name, dob) {
        (true, false) => Some((n, true)),
        (false, true) => Some((n, false)),
        _ => None,
    }
}

/// Reads the referral form fields from the documents of one email, in attachment order.
/// `pivot_year` places two-digit years (the year the message arrived).
pub fn recognise(docs: &[(&str, &Document)], syn: &Synonyms, pivot_year: i32) -> Referral {
    let m = Matcher::new(syn);
    let mut g = Reading::default();
    for (index, (attachment, doc)) in docs.iter().enumerate() {
        g.attachment = index;
        let before = g.r.found_at.len() + g.r.children.len() + g.parts.len();
        let mut section = None;
        for item in items(&m, doc) {
            match item {
                Item::Line(text) => {
                    if let Some(s) = m.heading(&text) {
                        section = Some(s);
                        g.pj_open = false;
                    } else if numbered_heading(&text) {
                        // A numbered heading of a section the reader does not know ends the last one.
                        section = None;
                        g.pj_open = false;
                    } else if g.pj_open && is_free_text(&m, &text) {
                        rationale(&mut g, &text, "");
                    } else if section == Some(Section::Children) && says_no_children(&text) {
                        let mut none = Pair::new("children", &text, "the children's section");
                        none.quiet = true;
                        store(&m, &mut g, "household.children", &none, pivot_year);
                    }
                }
                Item::Row(cells) if section == Some(Section::Children) => child(&m, &mut g.r, &cells, pivot_year),
                Item::Row(..) => {}
                Item::Pair(p) => pair(&m, &mut g, &mut section, p, pivot_year),
            }
        }
        if g.r.found_at.len() + g.r.children.len() + g.parts.len() > before {
            g.r.attachments.push((*attachment).to_owned());
        }
    }
    finish(g)
}

/// "6. Other information", "Section F": a heading by its numbering, whatever it names.
fn numbered_heading(text: &str) -> bool {
    let t = text.trim();
    let w = norm(t);
    let tokens: Vec<&str> = w.split(' ').filter(|x| !x.is_empty()).collect();
    if tokens.len() < 2 || tokens.len() > 8 || t.contains('?') || t.contains(':') {
        return false;
    }
    let first = tokens.first().copied().unwrap_or_default();
    let numbered = (first.chars().all(|c| c.is_ascii_digit()) && t.starts_with(|c: char| c.is_ascii_digit()))
        || matches!(first, "section" | "part");
    // A heading names something after its number; a date ("18.12.72", "1963-04-12", "3 July
    // 1991") is a value, never a heading.
    let names_something = matches!(first, "section" | "part") || tokens.iter().skip(1).any(|t| t.chars().any(char::is_alphabetic));
    numbered
        && names_something
        && !tokens.iter().skip(1).any(|t| FIELD_WORDS.contains(t))
        && matches!(parse_date(t, 2000), DateRead::NotADate)
}

/// Text that can be a rationale: a few words of prose, not a label or a heading.
/// Prose of a dozen words or more is never a label; a shorter text must name no field at all
/// ("Number of police call-outs in last 12 months" is the next label, not a rationale).
fn is_free_text(m: &Matcher, text: &str) -> bool {
    let t = text.trim();
    let count = norm(t).split(' ').filter(|w| !w.is_empty()).count();
    let prose = t.chars().filter(|c| c.is_alphabetic()).count() >= 10
        && count >= 3
        && !t.ends_with(':')
        && !t.starts_with([CHECKED, UNCHECKED])
        && !m.is_label(t);
    prose && (count >= 12 || (m.key_for_blank(t, None).is_none() && m.heading(t).is_none() && !numbered_heading(t)))
}

fn rationale(g: &mut Reading, text: &str, at: &str) {
    g.pj_open = false;
    if g.r.found_at.contains_key("professional_judgement_rationale") {
        return;
    }
    g.r.fields.insert("professional_judgement_rationale".to_owned(), text.trim().to_owned());
    g.r.found_at.insert("professional_judgement_rationale".to_owned(), at.to_owned());
}

fn pair(m: &Matcher, g: &mut Reading, section: &mut Option<Section>, p: Pair, pivot_year: i32) {
    // Free text beside or under a ticked professional judgement, with no label or an unknown one.
    let value_is_mark = p.value.starts_with([CHECKED, UNCHECKED]);
    let in_section = p.section.or(*section);
    let row_subject = p.before.as_deref().and_then(|b| m.subject(b));
    // A form field's labels in turn (alternate name, own name, printed label) while they name
    // no field at all; a printed question or a long line is not a label.
    let mut labels = vec![p.label.clone()];
    labels.extend(p.more.iter().filter(|l| !l.contains('?') && norm(l).split(' ').count() <= 8).cloned());
    let names_a_field = |l: &String| m.key_for_blank(l, in_section).is_some() || m.key_for_blank(l, row_subject).is_some();
    let last = labels.iter().position(names_a_field).unwrap_or(0);
    labels.truncate(last + 1);
    let key = labels.iter().find_map(|l| {
        let found = m.key(l, &p.value, in_section).or_else(|| m.key(l, &p.value, row_subject));
        match found {
            Some(k) => Some(k.to_owned()),
            None if p.value.trim().is_empty() => m.key_for_blank(l, in_section).map(str::to_owned),
            None => None,
        }
    });
    // A drop-down or a typed reason: "Reason for referral: Professional judgement", "PJ". The
    // form gives its reasons as the values chosen from a list, so the others were not chosen
    // (read as false unless a tick elsewhere says otherwise); nothing chosen leaves all four blank.
    // A sentence under "If PJ, please give your reasons for concern" is the rationale, whatever
    // reasons its words name; a choice is a few words.
    let a_choice = norm(&p.value).split(' ').count() <= 8;
    if !value_is_mark && a_choice && labels.iter().any(|l| asks_for_reason(l)) {
        let named = reasons_named(&p.value);
        if !named.is_empty() {
            for reason in &named {
                g.r.reasons.insert((*reason).to_owned(), true);
                g.r.found_at.entry(format!("reason.{reason}")).or_insert_with(|| p.at.clone());
            }
            for reason in REASONS.iter().filter(|r| !named.contains(r)) {
                g.not_chosen.entry((*reason).to_owned()).or_insert_with(|| p.at.clone());
            }
            g.pj_open = named.contains(&"professional_judgement");
            return;
        }
        if nothing_chosen(&p.value) && p.blank_is_evidence && (key.is_none() || key.as_deref().is_some_and(|k| k.starts_with("reason."))) {
            for reason in REASONS {
                g.blank.entry(format!("reason.{reason}")).or_default().push(norm(&p.label));
            }
            g.pj_open = false;
            return;
        }
        // A label that lists the reasons to choose from ("Referral criteria met (VHR / PJ /
        // Escalation / Repeat)") is never one reason's tick box.
        if labels.iter().any(|l| reasons_named(l).len() >= 2) {
            return;
        }
    }
    if key.is_none() {
        if let Some((n, is_name)) = std::iter::once(&p.label).chain(&p.more).find_map(|l| numbered_child(l)) {
            let value = p.value.trim();
            let entry = g.numbered_children.entry(n).or_default();
            if is_name {
                let letters = value.chars().filter(|c| c.is_alphabetic()).count();
                let answer = normalise_answer(value).is_some();
                if letters >= 2 && !answer && !m.is_label(value) && matches!(parse_date(value, pivot_year), DateRead::NotADate) {
                    entry.0.get_or_insert_with(|| value.to_owned());
                }
            } else if let DateRead::Date(d) = parse_date(value, pivot_year) {
                entry.1.get_or_insert(d);
            }
            return;
        }
    }
    let Some(key) = key else {
        if g.pj_open && !value_is_mark && is_free_text(m, &p.value) {
            rationale(g, &p.value, &p.at);
            return;
        }
        if p.label.is_empty() {
            return;
        }
        if p.value.is_empty() {
            // A heading written as a table row with an empty value cell.
            if let Some(s) = m.heading(&p.label) {
                *section = Some(s);
                g.pj_open = false;
            }
        }
        return;
    };
    g.in_victim = in_section == Some(Section::Victim);
    if key == "reason.professional_judgement" && tick(&p.value) == Some(true) {
        store(m, g, &key, &p, pivot_year);
        g.pj_open = true;
        return;
    }
    if key == "professional_judgement_rationale" || key.starts_with("reason.") {
        store(m, g, &key, &p, pivot_year);
        if key == "professional_judgement_rationale" && !p.value.is_empty() {
            g.pj_open = false;
        }
        return;
    }
    g.pj_open = false;
    store(m, g, &key, &p, pivot_year);
}

/// Leaves a field blank because its value is in doubt, saying why (structure only).
fn doubt(g: &mut Reading, key: &str, why: &str, at: &str) {
    if g.r.uncertain.insert(key.to_owned()) {
        g.r.problems.push(Problem::new(ProblemKind::Uncertain, format!("{key}: {why} ({at})")));
    }
}

fn store(m: &Matcher, g: &mut Reading, key: &str, p: &Pair, pivot_year: i32) {
    if VICTIM_IDENTITY.contains(&key) && (p.names_perpetrator || says_perpetrator(&pad(&norm(&p.label)))) {
        return;
    }
    let value = p.value.trim();
    let text_key = value_kind(key) == ValueKind::Text;
    if text_key && (value.is_empty() || value == mark_text(UNCHECKED)) {
        if p.blank_is_evidence {
            g.blank.entry(key.to_owned()).or_default().push(norm(&p.label));
        }
        return;
    }
    let person = key.strip_suffix(".name").filter(|who| matches!(*who, "victim" | "perpetrator"));
    if text_key && key != "risk_summary" && key != "professional_judgement_rationale" && m.is_label(value) {
        if !p.quiet {
            doubt(g, key, "the value is the text of a label on the form", &p.at);
        }
        return;
    }
    // The same label again after it was found blank ("Name" under a heading the reader does not
    // know): the value may be someone else's.
    if VICTIM_IDENTITY.contains(&key) && g.blank.get(key).is_some_and(|seen| seen.contains(&norm(&p.label))) {
        if !p.quiet {
            doubt(g, key, "a second label of this field follows one left blank; the value may be another person's", &p.at);
        }
        return;
    }
    if key == "victim.name" && initials_only(value) {
        if !p.quiet {
            doubt(g, key, "the value is initials only, not a name", &p.at);
        }
        return;
    }
    if let Some(who) = person {
        if let Some(part) = name_part(&p.label).or_else(|| p.more.iter().find_map(|l| name_part(l))) {
            if who == "victim" {
                g.parts_from.get_or_insert((g.attachment, g.in_victim));
            }
            g.parts.entry((who.to_owned(), part)).or_insert_with(|| (value.to_owned(), p.at.clone()));
            return;
        }
    }
    if matches!(key, "victim.name" | "victim.dob") {
        let here = (g.attachment, g.in_victim);
        if let Some(&(attachment, in_victim)) = g.identity_from.get(key) {
            if attachment == here.0 || same_value(key, g.r.fields.get(key).map(String::as_str).unwrap_or_default(), value, pivot_year) {
                return;
            }
            match (in_victim, here.1) {
                // The attachment where the victim section was placed wins.
                (true, false) => return,
                (false, true) => {
                    g.r.fields.remove(key);
                    g.r.found_at.remove(key);
                    if key == "victim.dob" {
                        g.r.victim_dob = None;
                    }
                }
                _ => {
                    let at = g.r.found_at.get(key).cloned().unwrap_or_default();
                    g.conflicts.insert(key.to_owned(), format!("{at}; {}", p.at));
                    return;
                }
            }
        }
        g.identity_from.insert(key.to_owned(), here);
    }
    if g.r.found_at.contains_key(key) {
        return;
    }
    match key {
        k if k.starts_with("reason.") => {
            let Some(t) = tick(value) else { return };
            g.r.reasons.insert(k.trim_start_matches("reason.").to_owned(), t);
        }
        "stated_dash_score" => match number(value) {
            Some(n) if n <= 24 => g.r.stated_dash_score = Some(n),
            _ => return,
        },
        "police_callouts" => match number(value) {
            Some(n) => g.r.police_callouts = Some(n),
            None => return,
        },
        "victim.dob" | "perpetrator.dob" => {
            match parse_date(value, pivot_year) {
                DateRead::Date(d) => {
                    if key == "victim.dob" {
                        g.r.victim_dob = Some(d)
                    } else {
                        g.r.perpetrator_dob = Some(d)
                    }
                }
                DateRead::Impossible => g.r.problems.push(Problem::on_field(
                    ProblemKind::InvalidDate,
                    key,
                    format!("{key}: the date written does not exist ({})", p.at),
                )),
                DateRead::NotADate => g.r.problems.push(Problem::on_field(
                    ProblemKind::InvalidDate,
                    key,
                    format!("{key}: not a date ({})", p.at),
                )),
            }
            g.r.fields.insert(key.to_owned(), value.to_owned());
        }
        _ => {
            g.r.fields.insert(key.to_owned(), value.to_owned());
        }
    }
    g.r.found_at.insert(key.to_owned(), p.at.clone());
}

/// Whether two readings of an identity field say the same: equal dates, or equal names but for
/// case, spacing, punctuation and order ("PILKINGTON Megan" and "Megan Pilkington").
fn same_value(key: &str, a: &str, b: &str, pivot_year: i32) -> bool {
    if key.ends_with(".dob") {
        return match (parse_date(a, pivot_year), parse_date(b, pivot_year)) {
            (DateRead::Date(x), DateRead::Date(y)) => x == y,
            _ => norm(a) == norm(b),
        };
    }
    let sorted = |v: &str| {
        let mut w: Vec<String> = norm(v).split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect();
        w.sort();
        w
    };
    sorted(a) == sorted(b)
}

/// A name written as initials only ("K.B.", "K B", "KB"): not a name the reader can use.
fn initials_only(value: &str) -> bool {
    let tokens: Vec<&str> = value.split(|c: char| !c.is_alphabetic()).filter(|t| !t.is_empty()).collect();
    !tokens.is_empty()
        && (tokens.iter().all(|t| t.chars().count() == 1)
            || (tokens.len() == 1 && tokens.iter().all(|t| t.chars().count() <= 3 && t.chars().all(char::is_uppercase))))
}

/// Names from their parts (forenames first), found-blank and doubtful keys made true.
fn finish(mut g: Reading) -> Referral {
    for who in ["victim", "perpetrator"] {
        let key = format!("{who}.name");
        let parts: Vec<&(String, String)> = [NamePart::Forenames, NamePart::Middle, NamePart::Surname]
            .iter()
            .filter_map(|part| g.parts.get(&(who.to_owned(), *part)))
            .collect();
        if parts.is_empty() {
            continue;
        }
        let name = parts.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(" ");
        let at = parts.iter().map(|(_, at)| at.as_str()).collect::<Vec<_>>().join("; ");
        if who == "victim" && g.r.found_at.contains_key(&key) {
            // A full name read elsewhere too: the victim's section wins; equals in doubt.
            let full = (g.identity_from.get(&key).copied(), g.parts_from);
            let differ = !same_value(&key, g.r.fields.get(&key).map(String::as_str).unwrap_or_default(), &name, 0);
            match full {
                (Some((a, _)), Some((b, _))) if differ && a != b => match (full.0.is_some_and(|f| f.1), full.1.is_some_and(|f| f.1)) {
                    (true, false) => {}
                    (false, true) => {
                        g.r.fields.insert(key.clone(), name);
                        g.r.found_at.insert(key, at);
                    }
                    _ => {
                        let was = g.r.found_at.get(&key).cloned().unwrap_or_default();
                        g.conflicts.insert(key, format!("{was}; {at}"));
                    }
                },
                _ => {}
            }
            continue;
        }
        if !g.r.found_at.contains_key(&key) {
            g.r.fields.insert(key.clone(), name);
            g.r.found_at.insert(key, at);
        }
    }
    for (key, at) in std::mem::take(&mut g.conflicts) {
        g.r.fields.remove(&key);
        g.r.found_at.remove(&key);
        if key == "victim.dob" {
            g.r.victim_dob = None;
        }
        if g.r.uncertain.insert(key.clone()) {
            g.r.problems.push(Problem::new(
                ProblemKind::Uncertain,
                format!("{key}: two attachments give different values and neither is the referral form's victim section ({at})"),
            ));
        }
    }
    for (name, dob) in std::mem::take(&mut g.numbered_children).into_values() {
        if let Some(name) = name.filter(|n| !g.r.children.iter().any(|c| &c.name == n)) {
            g.r.children.push(Child { name, dob });
        }
    }
    for (reason, at) in std::mem::take(&mut g.not_chosen) {
        if !g.r.reasons.contains_key(&reason) {
            g.r.reasons.insert(reason.clone(), false);
            g.r.found_at.insert(format!("reason.{reason}"), format!("{at} (not the reason chosen)"));
        }
    }
    let found: BTreeSet<String> = g.r.found_at.keys().cloned().collect();
    // A value read elsewhere settles a doubt; a doubt is not a blank.
    let settled: Vec<String> = g.r.uncertain.intersection(&found).cloned().collect();
    for key in settled {
        g.r.uncertain.remove(&key);
        let prefix = format!("{key}: ");
        g.r.problems.retain(|p| !(p.kind == ProblemKind::Uncertain && p.detail.starts_with(&prefix)));
    }
    g.r.blank = g.blank.into_keys().filter(|k| !found.contains(k) && !g.r.uncertain.contains(k)).collect();
    g.r
}

fn child(m: &Matcher, r: &mut Referral, cells: &[String], pivot_year: i32) {
    let texts: Vec<&str> = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let Some(name) = texts.first() else { return };
    let header = norm(name);
    if ["name", "child", "children", "child name", "name of child", "full name", "none", "none known", "n a", "not applicable"]
        .contains(&header.as_str())
    {
        return;
    }
    // A child's name has letters, is not a label (the count's label neither), a number, a date,
    // a tick or a question.
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    let is_date = !matches!(parse_date(name, pivot_year), DateRead::NotADate);
    let counts_them = m.key_for_blank(name, Some(Section::Children)) == Some("household.children");
    if letters < 2 || is_date || counts_them || m.is_label(name) || name.contains('?') || name.starts_with([CHECKED, UNCHECKED]) || name.split_whitespace().count() > 6 {
        return;
    }
    let dob = texts.iter().skip(1).find_map(|t| match parse_date(t, pivot_year) {
        DateRead::Date(d) => Some(d),
        _ => None,
    });
    if dob.is_some() || texts.len() >= 2 {
        r.children.push(Child { name: (*name).to_owned(), dob });
    }
}
#[cfg(test)]
mod tests;
