//! The MARAC referral form recogniser: fields found by label synonyms within sections, whatever
//! the layout (two-column tables, "Label: value" paragraphs, PDF form fields).

use super::answer::{inline_checked, normalise_answer, parse_date, Answer, DateRead};
use super::topics::words;
use crate::document::{Block, Document, FieldKind, Problem, ProblemKind, CHECKED, UNCHECKED};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
            (Section::Referrer, s(&["referrer", "referring agency details", "referrer details", "your details", "details of referrer"])),
            (Section::Reason, s(&["reason for referral", "referral criteria", "reason for marac referral", "criteria"])),
            (Section::Victim, s(&["victim", "client", "person at risk", "survivor", "service user", "adult at risk", "victim details"])),
            (Section::Perpetrator, s(&["perpetrator", "alleged abuser", "alleged perpetrator", "person causing harm", "abuser", "alleged perpetrator details"])),
            (Section::Children, s(&["children", "household members", "children and other household members", "child"])),
            (Section::Risk, s(&["risk summary", "summary of risk", "current incident", "risk", "summary"])),
        ]);
        let f: &[(&str, &[&str])] = &[
            ("referrer.name", &["referrer name", "name of referrer", "referred by", "referring officer", "referrer", "referrer: name", "referrer: your name", "referrer: officer name"]),
            ("referrer.agency", &["referring agency", "agency of referrer", "referrer agency", "referrer: agency", "referrer: organisation", "referrer: service", "referrer: agency organisation"]),
            ("referrer.role", &["referrer role", "referrer job title", "referrer: role", "referrer: job title", "referrer: position", "referrer: rank role"]),
            ("referrer.email", &["referrer email", "referrer e mail", "referrer: email", "referrer: e mail", "referrer: email address", "referrer: secure email"]),
            ("referrer.phone", &["referrer telephone", "referrer phone", "referrer: telephone", "referrer: phone", "referrer: tel", "referrer: contact number", "referrer: telephone number"]),
            ("referral_date", &["date of referral", "referral date", "referrer: date", "date referred"]),
            ("reason.visible_high_risk", &["visible high risk", "high risk dash", "dash 14 or more", "visible high risk dash score 14 or more", "dash score 14"]),
            ("reason.professional_judgement", &["professional judgement", "professional judgment", "professional judgement pj"]),
            ("reason.potential_escalation", &["potential escalation", "escalation"]),
            ("reason.repeat", &["repeat marac referral", "repeat marac", "repeat referral", "repeat case", "repeat"]),
            ("stated_dash_score", &["dash score", "dash total", "total dash score", "dash risk score", "number of yes answers", "total number of yes", "total yes", "score", "reason: score"]),
            ("police_callouts", &["number of police call outs in last 12 months", "number of police call outs", "police call outs", "police callouts", "call outs in last 12 months", "number of call outs", "police incidents in last 12 months", "number of police incidents", "police call outs last 12 months"]),
            ("professional_judgement_rationale", &["professional judgement rationale", "professional judgment rationale", "rationale for professional judgement", "rationale", "reason for professional judgement", "professional judgement reasons", "if professional judgement please explain", "professional judgement details"]),
            ("victim.name", &["victim name", "name of victim", "victim s name", "client name", "client s name", "survivor name", "person at risk name", "name of person at risk", "victim full name", "victim: name", "victim: full name", "victim: name of victim"]),
            ("victim.aliases", &["victim aliases", "victim: aliases", "victim: aliases other names", "victim: other names", "victim: alias", "victim: also known as"]),
            ("victim.dob", &["victim dob", "victim date of birth", "victim d o b", "client dob", "victim: date of birth", "victim: dob", "victim: d o b"]),
            ("victim.gender", &["victim gender", "victim: gender", "victim: sex"]),
            ("victim.address", &["victim address", "victim: address", "victim: current address", "victim: home address"]),
            ("victim.postcode", &["victim postcode", "victim: postcode", "victim: post code"]),
            ("victim.phone", &["safe contact number", "safe telephone number", "safe number", "victim: safe contact number", "victim: telephone", "victim: phone", "victim: contact number"]),
            ("victim.safe_to_leave_message", &["safe to leave message", "safe to leave a message", "victim: safe to leave messages", "victim: is it safe to leave a message", "victim: safe to leave message"]),
            ("victim.aware_of_referral", &["is the victim aware of the referral", "victim aware of referral", "aware of the referral", "aware of referral", "victim: aware of referral", "does the victim know about the referral"]),
            ("victim.interpreter", &["interpreter needed language", "interpreter needed", "interpreter", "victim: language", "victim: first language"]),
            ("perpetrator.name", &["perpetrator name", "name of perpetrator", "alleged abuser name", "abuser name", "name of abuser", "person causing harm name", "perpetrator full name", "perpetrator: name", "perpetrator: full name"]),
            ("perpetrator.aliases", &["perpetrator aliases", "perpetrator: aliases", "perpetrator: aliases other names", "perpetrator: other names", "perpetrator: alias"]),
            ("perpetrator.dob", &["perpetrator dob", "perpetrator date of birth", "abuser dob", "perpetrator: date of birth", "perpetrator: dob", "perpetrator: d o b"]),
            ("perpetrator.address", &["perpetrator address", "perpetrator: address"]),
            ("perpetrator.relationship", &["relationship to victim", "relationship to the victim", "relationship", "perpetrator: relationship", "perpetrator: relationship to victim"]),
            ("risk_summary", &["summary of risk current incident", "summary of risk", "risk summary", "summary of current incident", "current incident", "brief summary", "reason for referral details", "risk: summary", "summary"]),
            ("dash_date", &["date dash completed", "date dash ric completed", "date of dash", "dash completed", "date the dash was completed", "date completed"]),
            ("police_reference", &["police reference if known", "police reference", "crime reference", "police ref", "occurrence number", "crime number"]),
            ("other_agencies", &["other agencies involved", "other agencies", "agencies involved"]),
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
    pub problems: Vec<Problem>,
}

impl Referral {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.reasons.is_empty() && self.children.is_empty()
    }
}

/// One label with its value, in document order.
struct Pair {
    label: String,
    value: String,
    at: String,
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
        out.push(Item::Pair(Pair { label, value, at: format!("{}, field {}", f.at, f.name) }));
    }
    for block in &doc.blocks {
        match block {
            Block::Paragraph(p) => {
                let t = p.text.trim();
                match t.split_once(':') {
                    Some((l, v)) if !l.trim().is_empty() && l.len() <= 60 && !v.trim().is_empty() => {
                        out.push(Item::Pair(Pair { label: l.trim().to_owned(), value: v.trim().to_owned(), at: p.at.clone() }))
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
                                out.push(Item::Pair(Pair { label: l.trim().to_owned(), value: v.trim().to_owned(), at }))
                            }
                            _ if one.starts_with([CHECKED, UNCHECKED]) => out.push(Item::Pair(Pair {
                                label: one.trim_start_matches([CHECKED, UNCHECKED]).trim().to_owned(),
                                value: one.chars().next().map(String::from).unwrap_or_default(),
                                at,
                            })),
                            _ => out.push(Item::Heading((*one).to_owned())),
                        },
                        _ => {
                            out.push(Item::Row(row.cells.clone()));
                            // label | value | label | value
                            for pair in row.cells.chunks(2) {
                                if let [l, v] = pair {
                                    if !l.trim().is_empty() {
                                        out.push(Item::Pair(Pair { label: l.trim().to_owned(), value: v.trim().to_owned(), at: at.clone() }));
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
    /// (key, section it requires, label words)
    labels: Vec<(String, Option<Section>, String)>,
}

impl Matcher {
    fn new(syn: &Synonyms) -> Self {
        let sections = syn.sections.iter().map(|(s, v)| (*s, v.iter().map(|x| norm(x)).collect())).collect();
        let mut labels = Vec::new();
        for (key, list) in &syn.fields {
            for l in list {
                let (section, label) = match l.split_once(':') {
                    Some((s, rest)) => (section_named(s.trim()), rest),
                    None => (None, l.as_str()),
                };
                labels.push((key.clone(), section, norm(label)));
            }
        }
        // Longer labels first: "victim date of birth" before "date of birth".
        labels.sort_by_key(|l| std::cmp::Reverse(l.2.len()));
        Matcher { sections, labels }
    }

    fn section(&self, heading: &str) -> Option<Section> {
        let w = norm(heading);
        // Strip a leading section number: "3. Victim details".
        let w = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        let padded = format!(" {w} ");
        let mut best: Option<(usize, Section)> = None;
        for (s, names) in &self.sections {
            for n in names {
                if padded.contains(&format!(" {n} ")) && best.is_none_or(|b| n.len() > b.0) {
                    best = Some((n.len(), *s));
                }
            }
        }
        best.map(|b| b.1)
    }

    fn key(&self, label: &str, section: Option<Section>) -> Option<&str> {
        let w = norm(label);
        if w.is_empty() || w.len() > 120 {
            return None;
        }
        for (key, need, l) in &self.labels {
            if need.is_some() && *need != section {
                continue;
            }
            // The whole label, or the label followed by a qualifier: "Date of birth (if known)".
            if w == *l || (w.starts_with(l.as_str()) && w.as_bytes().get(l.len()) == Some(&b' ') && l.len() * 2 >= w.len()) {
                return Some(key);
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
                    if let Some(key) = m.key(&p.label, section) {
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
                .map(|(i, r)| Row { at: format!("row {}", i + 1), cells: r.iter().map(|s| (*s).to_owned()).collect() })
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
