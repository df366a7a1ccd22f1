//! The fidelity check shared by `tests/it/fidelity.rs` and `benches/fidelity.rs` (which includes
//! this file with `#[path]`): triage every email of a variation corpus in
//! arrival order into a fresh store, inspect it, and compare decision, DASH counts and referral
//! fields with the truth. A field is right, blank (nothing read where the form has a value: the
//! referral goes to review, which is allowed) or WRONG (a value that is not the form's).
//! Names compare as the identity rules would: case, spacing and punctuation aside, and
//! "SURNAME, Forename" = "Forename Surname"; no typo tolerance (a misread letter is wrong).

use crate::gen::variation::{arrived, Email, Truth};
use chrono::DateTime;
use marac_intake::config::Config;
use marac_intake::store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    Right,
    Blank,
    Wrong,
}

/// What the product decided and read for one email.
#[derive(Clone, Debug, Serialize)]
pub struct Got {
    pub outcome: String,
    pub criteria: Vec<String>,
    pub case: String,
    pub victim_ref: Option<String>,
    pub dash: Option<(i64, i64, i64)>,
    pub reasons: Vec<String>,
    pub victim_name: Option<String>,
    pub victim_dob: Option<String>,
    pub fields: BTreeMap<&'static str, Option<String>>,
}

/// One email compared.
#[derive(Clone, Debug, Serialize)]
pub struct Scored {
    pub file: String,
    pub dash_layout: &'static str,
    pub referral_layout: &'static str,
    pub wording: &'static str,
    pub truth: Truth,
    pub got: Got,
    pub decision_right: bool,
    pub wrongful_rejection: bool,
    pub dash_exact: bool,
    pub victim_name: Verdict,
    pub victim_dob: Verdict,
    pub fields: BTreeMap<&'static str, Verdict>,
}

/// Lower case, punctuation to spaces, "SURNAME, Forename" turned round, words sorted.
pub fn name_key(s: &str) -> Vec<String> {
    let turned = match s.split_once(',') {
        Some((a, b)) => format!("{b} {a}"),
        None => s.to_string(),
    };
    let mut words: Vec<String> = turned
        .chars()
        .map(|c| if c.is_alphanumeric() { c.to_lowercase().next().unwrap_or(c) } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    words.sort();
    words
}

fn norm(key: &str, s: &str) -> String {
    match key {
        "perpetrator.name" => name_key(s).join(" "),
        "victim.postcode" => s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase(),
        _ => s.trim().to_lowercase(),
    }
}

fn verdict(want: Option<&str>, got: Option<&str>, eq: impl Fn(&str, &str) -> bool) -> Verdict {
    let got = got.filter(|g| !g.trim().is_empty());
    match (want, got) {
        (None, None) => Verdict::Right,
        (None, Some(_)) => Verdict::Wrong,
        (Some(_), None) => Verdict::Blank,
        (Some(w), Some(g)) if eq(w, g) => Verdict::Right,
        _ => Verdict::Wrong,
    }
}

/// Triages and inspects every email in order (into `store`, which should be fresh).
pub async fn run(emails: &[Email], cfg: &Config, store: &Store) -> Vec<Scored> {
    let opts = marac_intake::triage::inspect_options(cfg);
    let mut out = Vec::new();
    for e in emails {
        let at = DateTime::parse_from_rfc3339(&arrived(e.arrived)).expect("arrival time");
        let ins = marac_intake::inspect::inspect(&e.eml, &opts);
        let rec = marac_intake::triage::triage_message(&e.eml, Some(&e.file), Some(at), at, cfg, store).await;
        let r = ins.referral.as_ref();
        let text = |k: &str| r.and_then(|r| r.get(k)).map(str::to_string);
        let mut fields = BTreeMap::new();
        fields.insert("perpetrator.name", text("perpetrator.name"));
        fields.insert("perpetrator.dob", r.and_then(|r| r.perpetrator_dob).map(|d| d.to_string()));
        fields.insert("victim.postcode", text("victim.postcode"));
        fields.insert("referrer.email", text("referrer.email"));
        fields.insert("stated_dash_score", r.and_then(|r| r.stated_dash_score).map(|s| s.to_string()));
        fields.insert("police_callouts", r.and_then(|r| r.police_callouts).map(|s| s.to_string()));
        let (outcome, criteria, case, victim_ref, dash, reasons) = match rec {
            Ok(m) => (m.outcome.as_str().to_owned(), m.criteria.iter().map(|c| c.as_str().to_owned()).collect(), m.case, m.victim_ref, m.dash, m.reasons),
            Err(err) => (format!("error: {err:#}"), Vec::new(), "none".into(), None, None, Vec::new()),
        };
        let got = Got {
            outcome,
            criteria,
            case,
            victim_ref,
            dash,
            reasons,
            victim_name: text("victim.name"),
            victim_dob: r.and_then(|r| r.victim_dob).map(|d| d.to_string()),
            fields,
        };
        out.push(score(e, got));
    }
    out
}

fn score(e: &Email, got: Got) -> Scored {
    let t = &e.truth;
    let mut decision_right = got.outcome == t.outcome;
    if t.outcome == "accepted" {
        let want: BTreeSet<&str> = t.criteria.iter().copied().collect();
        let have: BTreeSet<&str> = got.criteria.iter().map(String::as_str).collect();
        decision_right &= want == have && got.case == t.case;
    }
    let wrongful_rejection = t.outcome != "rejected" && got.outcome == "rejected";
    let dash_exact = got.dash == Some((i64::from(t.dash.0), i64::from(t.dash.1), i64::from(t.dash.2)));
    let victim_name = verdict(t.victim_name.as_deref(), got.victim_name.as_deref(), |w, g| name_key(w) == name_key(g));
    let victim_dob = verdict(t.victim_dob.as_deref(), got.victim_dob.as_deref(), |w, g| w == g);
    let fields = t
        .fields
        .iter()
        .map(|(k, want)| {
            let g = got.fields.get(k).cloned().flatten();
            (*k, verdict(want.as_deref(), g.as_deref(), |w, g| norm(k, w) == norm(k, g)))
        })
        .collect();
    Scored {
        file: e.file.clone(),
        dash_layout: e.dash_layout,
        referral_layout: e.referral_layout,
        wording: e.wording,
        truth: t.clone(),
        got,
        decision_right,
        wrongful_rejection,
        dash_exact,
        victim_name,
        victim_dob,
        fields,
    }
}

/// Counts over a group of emails.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    pub emails: usize,
    pub decisions_right: usize,
    pub wrongful_rejections: usize,
    pub dash_exact: usize,
    /// right, blank, wrong
    pub victim_name: [usize; 3],
    pub victim_dob: [usize; 3],
    pub all_fields: [usize; 3],
}

fn bump(v: &mut [usize; 3], x: Verdict) {
    v[match x {
        Verdict::Right => 0,
        Verdict::Blank => 1,
        Verdict::Wrong => 2,
    }] += 1;
}

impl Tally {
    pub fn add(&mut self, s: &Scored) {
        self.emails += 1;
        self.decisions_right += usize::from(s.decision_right);
        self.wrongful_rejections += usize::from(s.wrongful_rejection);
        self.dash_exact += usize::from(s.dash_exact);
        bump(&mut self.victim_name, s.victim_name);
        bump(&mut self.victim_dob, s.victim_dob);
        bump(&mut self.all_fields, s.victim_name);
        bump(&mut self.all_fields, s.victim_dob);
        for v in s.fields.values() {
            bump(&mut self.all_fields, *v);
        }
    }
}

/// Identity across emails: truth keys read as more than one victim (splits) and victim
/// references holding more than one truth key (merges).
pub fn identity(scored: &[Scored]) -> (Vec<String>, Vec<String>) {
    let mut by_key: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut by_ref: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in scored {
        if let (Some(k), Some(r)) = (s.truth.victim_key.as_deref(), s.got.victim_ref.as_deref()) {
            by_key.entry(k).or_default().insert(r);
            by_ref.entry(r).or_default().insert(k);
        }
    }
    let splits = by_key.iter().filter(|(_, v)| v.len() > 1).map(|(k, v)| format!("victim {k} split into {v:?}")).collect();
    let merges = by_ref.iter().filter(|(_, v)| v.len() > 1).map(|(r, v)| format!("victim reference {r} merges {v:?}")).collect();
    (splits, merges)
}

/// The table: one line per group, then the total.
pub fn table(scored: &[Scored], title: &str, group: impl Fn(&Scored) -> &'static str) -> String {
    let mut groups: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    for s in scored {
        groups.entry(group(s)).or_default().add(s);
        all.add(s);
    }
    let f3 = |v: [usize; 3]| format!("{:>4} {:>4} {:>4}", v[0], v[1], v[2]);
    let mut out = format!(
        "{title:<24} {:>6} {:>9} {:>8} {:>7}   {:>14}   {:>14}   {:>14}\n{:<24} {:>6} {:>9} {:>8} {:>7}   {:>14}   {:>14}   {:>14}\n",
        "emails", "decisions", "wrongful", "DASH", "victim name", "victim DOB", "all fields", "", "", "right", "reject.", "exact", "ok blnk WRNG", "ok blnk WRNG", "ok blnk WRNG"
    );
    for (name, t) in groups.iter().chain(std::iter::once((&"TOTAL", &all))) {
        out += &format!(
            "{name:<24} {:>6} {:>9} {:>8} {:>7}   {}   {}   {}\n",
            t.emails,
            t.decisions_right,
            t.wrongful_rejections,
            t.dash_exact,
            f3(t.victim_name),
            f3(t.victim_dob),
            f3(t.all_fields)
        );
    }
    out
}

/// One line per failure worth a person's attention: wrong decisions (wrongful rejections
/// marked), wrong victim names / dates of birth, inexact DASH counts.
pub fn failures(scored: &[Scored]) -> Vec<String> {
    let mut out = Vec::new();
    for s in scored {
        let at = format!("{} [{} / {} / {}]", s.file, s.dash_layout, s.referral_layout, s.wording);
        if !s.decision_right {
            out.push(format!(
                "{at}: {}decision {} {:?} case {} != expected {} {:?} case {} (reasons: {})",
                if s.wrongful_rejection { "WRONGFUL REJECTION: " } else { "" },
                s.got.outcome,
                s.got.criteria,
                s.got.case,
                s.truth.outcome,
                s.truth.criteria,
                s.truth.case,
                s.got.reasons.join(" | ")
            ));
        }
        if s.victim_name == Verdict::Wrong {
            out.push(format!("{at}: WRONG victim name {:?}, expected {:?}", s.got.victim_name, s.truth.victim_name));
        }
        if s.victim_dob == Verdict::Wrong {
            out.push(format!("{at}: WRONG victim DOB {:?}, expected {:?}", s.got.victim_dob, s.truth.victim_dob));
        }
        if !s.dash_exact {
            out.push(format!("{at}: DASH {:?} != expected {:?} (yes, no, unknown)", s.got.dash, s.truth.dash));
        }
    }
    out
}
