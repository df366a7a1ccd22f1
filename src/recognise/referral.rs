//! The MARAC referral form recogniser: fields found by label synonyms within sections, whatever
//! the layout (two-column tables, "Label: value" paragraphs, PDF form fields).

use super::answer::{inline_checked, normalise_answer, parse_date, Answer, DateRead};
use super::topics::words;
use crate::document::{Block, Document, FieldKind, Problem, ProblemKind, CHECKED, UNCHECKED};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
    "risk_summary", "dash_date", "police_reference", "other_agencies",
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
            (Section::Victim, s(&["victim", "client", "person at risk", "survivor", "service user", "adult at risk", "young person at risk", "victim details"])),
            (Section::Perpetrator, s(&["perpetrator", "alleged abuser", "alleged perpetrator", "person causing harm", "abuser", "person using harm", "harm causer"])),
            (Section::Children, s(&["children", "household members", "children and other household members", "children in the household", "child"])),
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
            ("reason.professional_judgement", &["professional judgement", "professional judgment"]),
            ("reason.potential_escalation", &["potential escalation", "escalation"]),
            ("reason.repeat", &["repeat marac", "repeat referral", "repeat"]),
            ("stated_dash_score", &["dash score", "score", "number of yes", "yes ticks", "yes answers", "number of ticks", "ticks", "total", "dash total", "how many yes"]),
            ("police_callouts", &["call outs", "callouts", "call out", "police incidents", "number of incidents", "incidents in the last 12 months", "police attendances", "attendances"]),
            ("professional_judgement_rationale", &["rationale", "professional judgement", "professional judgment", "explain", "why", "reasons for", "describe", "concerns"]),
            ("victim.name", &["victim: name", "victim: full name", "victim: forename"]),
            ("victim.aliases", &["victim: alias", "victim: aliases", "victim: also known as", "victim: other names", "victim: known as", "victim: aka", "victim: previous names"]),
            ("victim.dob", &["victim: date of birth", "victim: dob", "victim: d o b", "victim: birth"]),
            ("victim.gender", &["victim: gender", "victim: sex"]),
            ("victim.address", &["victim: address"]),
            ("victim.postcode", &["victim: postcode", "victim: post code"]),
            ("victim.phone", &["safe contact number", "safe number", "safe telephone", "safe phone", "victim: telephone", "victim: phone", "victim: contact number", "victim: mobile", "victim: tel"]),
            ("victim.safe_to_leave_message", &["leave message", "leave a message", "leave messages", "voicemail", "victim: safe to leave"]),
            ("victim.aware_of_referral", &["aware of the referral", "aware of referral", "victim: aware", "know about the referral", "knows about the referral", "victim: consent"]),
            ("victim.interpreter", &["interpreter", "victim: language", "victim: first language"]),
            ("perpetrator.name", &["perpetrator: name", "perpetrator: full name"]),
            ("perpetrator.aliases", &["perpetrator: alias", "perpetrator: aliases", "perpetrator: also known as", "perpetrator: other names", "perpetrator: known as", "perpetrator: aka"]),
            ("perpetrator.dob", &["perpetrator: date of birth", "perpetrator: dob", "perpetrator: d o b", "perpetrator: birth"]),
            ("perpetrator.address", &["perpetrator: address"]),
            ("perpetrator.relationship", &["relationship to victim", "relationship to client", "relationship to the victim", "perpetrator: relationship"]),
            ("risk_summary", &["summary", "current incident", "brief summary", "details of incident", "risk: details", "risk: information", "nature of abuse"]),
            ("dash_date", &["dash completed", "date dash", "date of dash", "date completed", "dash ric completed", "completed on", "date of assessment"]),
            ("police_reference", &["police reference", "crime reference", "crime number", "incident number", "occurrence number", "police ref", "crime incident number", "urn"]),
            ("other_agencies", &["other agencies", "agencies involved", "agencies currently involved", "agencies"]),
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
}

enum Item {
    Heading(String),
    Pair(Pair),
    /// A table row below a children heading: cells as written.
    Row(Vec<String>),
}

fn items(doc: &Document) -> Vec<Item> {
    let mut out = Vec::new();
    for f in &doc.fields {
        let label = f.label.clone().filter(|l| l.len() > 2).unwrap_or_else(|| humanise(&f.name));
        let value = match f.kind {
            FieldKind::Checkbox | FieldKind::Radio => match f.value.as_deref() {
                Some(v) if !v.eq_ignore_ascii_case("off") => {
                    if f.kind == FieldKind::Radio { v.to_owned() } else { CHECKED.to_string() }
                }
                _ => if f.kind == FieldKind::Radio { String::new() } else { UNCHECKED.to_string() },
            },
            _ => f.value.clone().unwrap_or_default(),
        };
        out.push(Item::Pair(Pair { label, value, at: format!("{}, field {}", f.at, f.name), before: None }));
    }
    for block in &doc.blocks {
        match block {
            Block::Paragraph(p) => {
                let t = p.text.trim();
                match t.split_once(':') {
                    Some((l, v)) if !l.trim().is_empty() && l.len() <= 60 && !v.trim().is_empty() => {
                        out.push(Item::Pair(Pair { label: l.trim().to_owned(), value: v.trim().to_owned(), at: p.at.clone(), before: None }))
                    }
                    _ if !t.is_empty() && t.len() <= 80 => out.push(Item::Heading(t.to_owned())),
                    _ => {}
                }
            }
            Block::Table(t) => {
                for row in &t.rows {
                    let at = format!("{}, {}", t.at, row.at);
                    let cells: Vec<&str> = row.cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
                    match cells.as_slice() {
                        [] => {}
                        [one] => match one.split_once(':') {
                            Some((l, v)) if l.len() <= 60 && !v.trim().is_empty() => {
                                out.push(Item::Pair(Pair { label: l.trim().to_owned(), value: v.trim().to_owned(), at, before: None }))
                            }
                            _ if one.starts_with([CHECKED, UNCHECKED]) => out.push(Item::Pair(Pair {
                                label: one.trim_start_matches([CHECKED, UNCHECKED]).trim().to_owned(),
                                value: one.chars().next().map(String::from).unwrap_or_default(),
                                at,
                                before: None,
                            })),
                            _ => out.push(Item::Heading((*one).to_owned())),
                        },
                        _ if cells.iter().all(|c| label_value(c).is_some()) => {
                            // "Name of victim: A | Date of birth: B" - each cell its own pair.
                            out.push(Item::Row(row.cells.clone()));
                            let mut before = None;
                            for c in &cells {
                                if let Some((l, v)) = label_value(c) {
                                    out.push(Item::Pair(Pair { label: l.to_owned(), value: v.to_owned(), at: at.clone(), before: before.clone() }));
                                    before = Some(l.to_owned());
                                }
                            }
                        }
                        _ => {
                            out.push(Item::Row(row.cells.clone()));
                            // label | value | label | value
                            for pair in row.cells.chunks(2) {
                                if let [l, v] = pair {
                                    if !l.trim().is_empty() {
                                        out.push(Item::Pair(Pair { label: l.trim().to_owned(), value: v.trim().to_owned(), at: at.clone(), before: None }));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// "Label: value" within one cell or paragraph.
fn label_value(text: &str) -> Option<(&str, &str)> {
    let (l, v) = text.split_once(':')?;
    let (l, v) = (l.trim(), v.trim());
    (!l.is_empty() && l.len() <= 60 && !v.is_empty()).then_some((l, v))
}

fn humanise(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for ch in name.rsplit('.').next().unwrap_or(name).chars() {
        if ch.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = ch.is_lowercase();
        out.push(if matches!(ch, '_' | '-') { ' ' } else { ch });
    }
    out
}

fn norm(s: &str) -> String {
    words(s).trim().to_owned()
}

struct Matcher {
    sections: Vec<(Section, Vec<String>)>,
    /// (key, the subject it requires, phrase words), in declaration order.
    phrases: Vec<(String, Option<Section>, String)>,
    /// Field keys in declaration order, for ties.
    order: Vec<String>,
}

/// The kind of value a field holds: a label only matches when its value fits.
#[derive(PartialEq, Clone, Copy)]
enum ValueKind {
    Tick,
    Number,
    Text,
}

fn value_kind(key: &str) -> ValueKind {
    match key {
        k if k.starts_with("reason.") => ValueKind::Tick,
        "stated_dash_score" | "police_callouts" => ValueKind::Number,
        _ => ValueKind::Text,
    }
}

fn fits(kind: ValueKind, value: &str) -> bool {
    match kind {
        ValueKind::Tick => tick(value).is_some(),
        ValueKind::Number => number(value).is_some(),
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
        let sections = syn.sections.iter().map(|(s, v)| (*s, v.iter().map(|x| pad(&norm(x))).collect())).collect();
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
        Matcher { sections, phrases, order }
    }

    /// The section a heading opens, or the person a label is about.
    fn section(&self, heading: &str) -> Option<Section> {
        let w = norm(heading);
        // Strip a leading section number or letter: "3. Victim details", "Section C - Client".
        let w = pad(w.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' '));
        let mut best: Option<(usize, Section)> = None;
        for (s, names) in &self.sections {
            for n in names {
                if contains_words(&w, n) && best.is_none_or(|b| n.len() > b.0) {
                    best = Some((n.len(), *s));
                }
            }
        }
        best.map(|b| b.1)
    }

    /// The person a label names itself: "Client DOB", "Alleged abuser's name".
    fn subject(&self, label: &str) -> Option<Section> {
        self.section(label).filter(|s| matches!(s, Section::Victim | Section::Perpetrator | Section::Referrer))
    }

    /// Fields ranked for a (padded) label read under `subject`: phrase lengths added up per field.
    fn ranked(&self, w: &str, subject: Option<Section>) -> Vec<(usize, usize, &str)> {
        let mut scores: Vec<(usize, usize, &str)> = Vec::new();
        for (key, need, phrase) in &self.phrases {
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

/// Reads the referral form fields from the documents of one email, in attachment order.
/// `pivot_year` places two-digit years (the year the message arrived).
pub fn recognise(docs: &[(&str, &Document)], syn: &Synonyms, pivot_year: i32) -> Referral {
    let m = Matcher::new(syn);
    let mut r = Referral::default();
    for (attachment, doc) in docs {
        let before = r.found_at.len() + r.children.len();
        let mut section = None;
        for item in items(doc) {
            match item {
                Item::Heading(h) => {
                    if let Some(s) = m.section(&h) {
                        section = Some(s);
                    }
                }
                Item::Row(cells) if section == Some(Section::Children) => child(&mut r, &cells, pivot_year),
                Item::Row(..) => {}
                Item::Pair(p) => {
                    let row_subject = p.before.as_deref().and_then(|b| m.subject(b));
                    if let Some(key) = m.key(&p.label, &p.value, section).or_else(|| m.key(&p.label, &p.value, row_subject)) {
                        let key = key.to_owned();
                        store(&mut r, &key, &p, pivot_year);
                    } else if let Some(s) = m.section(&p.label).filter(|_| p.value.is_empty() || norm(&p.label).len() > 12) {
                        // A heading written as a table row with an empty value cell.
                        if p.value.is_empty() {
                            section = Some(s);
                        }
                    }
                }
            }
        }
        if r.found_at.len() + r.children.len() > before {
            r.attachments.push((*attachment).to_owned());
        }
    }
    r
}

fn child(r: &mut Referral, cells: &[String], pivot_year: i32) {
    let texts: Vec<&str> = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let Some(name) = texts.first() else { return };
    let header = norm(name);
    if ["name", "child", "children", "child name", "name of child", "full name"].contains(&header.as_str()) {
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

fn store(r: &mut Referral, key: &str, p: &Pair, pivot_year: i32) {
    if r.found_at.contains_key(key) {
        return;
    }
    let value = p.value.trim();
    match key {
        k if k.starts_with("reason.") => {
            let Some(t) = tick(value) else { return };
            r.reasons.insert(k.trim_start_matches("reason.").to_owned(), t);
        }
        "stated_dash_score" => match number(value) {
            Some(n) if n <= 24 => r.stated_dash_score = Some(n),
            _ => return,
        },
        "police_callouts" => match number(value) {
            Some(n) => r.police_callouts = Some(n),
            None => return,
        },
        "victim.dob" | "perpetrator.dob" => {
            if value.is_empty() {
                return;
            }
            match parse_date(value, pivot_year) {
                DateRead::Date(d) => {
                    if key == "victim.dob" {
                        r.victim_dob = Some(d)
                    } else {
                        r.perpetrator_dob = Some(d)
                    }
                }
                DateRead::Impossible => r.problems.push(Problem::new(
                    ProblemKind::InvalidDate,
                    format!("{key}: the date written does not exist ({})", p.at),
                )),
                DateRead::NotADate => r.problems.push(Problem::new(
                    ProblemKind::InvalidDate,
                    format!("{key}: not a date ({})", p.at),
                )),
            }
            r.fields.insert(key.to_owned(), value.to_owned());
        }
        _ => {
            if value.is_empty() || value == UNCHECKED.to_string() {
                return;
            }
            r.fields.insert(key.to_owned(), value.to_owned());
        }
    }
    r.found_at.insert(key.to_owned(), p.at.clone());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Paragraph, Row, Table};

    fn table(rows: &[&[&str]]) -> Block {
        Block::Table(Table {
            at: "table 1".into(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| Row { at: format!("row {}", i + 1), cells: r.iter().map(|s| (*s).to_owned()).collect(), spans: Vec::new() })
                .collect(),
        })
    }

    fn para(t: &str) -> Block {
        Block::Paragraph(Paragraph { text: t.into(), at: "paragraph 1".into() })
    }

    #[test]
    fn two_column_form_with_sections() {
        let doc = Document {
            blocks: vec![
                para("1. Referrer details"),
                table(&[&["Referrer name", "PC A Officer"], &["Agency", "Police"], &["Email", "a@x.test"]]),
                para("2. Reason for referral"),
                table(&[
                    &["Visible high risk (DASH score 14 or more)", "Yes"],
                    &["DASH score", "16"],
                    &["Professional judgement", "No"],
                    &["Potential escalation", "☐"],
                    &["Number of police call-outs in last 12 months", "4 call-outs"],
                ]),
                para("3. Client details"),
                table(&[&["Name", "Jo Bloggs"], &["Date of birth", "3rd Jul 1991"]]),
                para("4. Person causing harm"),
                table(&[&["Name", "Sam Bloggs"], &["DOB", "31/02/1990"], &["Relationship to victim", "Partner"]]),
                para("5. Children and other household members"),
                table(&[&["Name", "Date of birth"], &["Kid One", "08/03/2016"]]),
            ],
            ..Document::default()
        };
        let r = recognise(&[("1", &doc)], &Synonyms::default(), 2025);
        assert_eq!(r.get("referrer.name"), Some("PC A Officer"));
        assert_eq!(r.get("referrer.agency"), Some("Police"));
        assert_eq!(r.get("victim.name"), Some("Jo Bloggs"));
        assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1991, 7, 3));
        assert_eq!(r.get("perpetrator.name"), Some("Sam Bloggs"));
        assert_eq!(r.perpetrator_dob, None);
        assert!(r.problems.iter().any(|p| p.kind == ProblemKind::InvalidDate && p.detail.starts_with("perpetrator.dob")));
        assert_eq!(r.reasons.get("visible_high_risk"), Some(&true));
        assert_eq!(r.reasons.get("professional_judgement"), Some(&false));
        assert_eq!(r.reasons.get("potential_escalation"), Some(&false));
        assert_eq!(r.stated_dash_score, Some(16));
        assert_eq!(r.police_callouts, Some(4));
        assert_eq!(r.children, vec![Child { name: "Kid One".into(), dob: NaiveDate::from_ymd_opt(2016, 3, 8) }]);
        assert_eq!(r.found_at.get("victim.name").map(String::as_str), Some("table 1, row 1"));
    }

    #[test]
    fn admin_synonyms_extend_the_defaults() {
        let doc = Document { blocks: vec![table(&[&["Adult experiencing harm", "Jo Bloggs"]])], ..Document::default() };
        assert_eq!(recognise(&[("1", &doc)], &Synonyms::default(), 2025).get("victim.name"), None);
        let mut syn = Synonyms::default();
        syn.extend(&Synonyms {
            sections: BTreeMap::new(),
            fields: BTreeMap::from([("victim.name".to_owned(), vec!["adult experiencing harm".to_owned()])]),
        });
        assert_eq!(recognise(&[("1", &doc)], &syn, 2025).get("victim.name"), Some("Jo Bloggs"));
        assert!(syn.unknown_fields().is_empty());
    }

    #[test]
    fn ticked_reason_rows_and_inline_labels() {
        let doc = Document {
            blocks: vec![
                para("Reason for referral"),
                table(&[&["☐ Visible high risk"], &["☒ Professional judgement"], &["Rationale: escalating threats"]]),
            ],
            ..Document::default()
        };
        let r = recognise(&[("1", &doc)], &Synonyms::default(), 2025);
        assert_eq!(r.reasons.get("visible_high_risk"), Some(&false));
        assert_eq!(r.reasons.get("professional_judgement"), Some(&true));
        assert_eq!(r.get("professional_judgement_rationale"), Some("escalating threats"));
    }
}
