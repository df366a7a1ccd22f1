//! The variation corpus (issue 11, item 6): referral emails in DASH and referral-form layouts
//! designed here from the domain (not from the product's recognisers), crossed with the three
//! wordings of the questions, the ways an answer is marked, field arrangements, date spellings
//! and identity variations, each with its truth.
//!
//! Reproducible from a seed: the same seed gives the same bytes. Written by
//! `cargo bench --bench fidelity` into `target/fidelity/` (never committed) and sampled in memory
//! by `tests/it/fidelity.rs`. `score.rs` (included by both with `#[path]`) compares what the product
//! decided and read with the truth.
//!
//! The truth follows the domain rules with `config/samples.toml`: threshold 14 Yes; professional
//! judgement only with a rationale; 3+ police call-outs; a referral for a victim whose case still
//! waits for its meeting (monthly, second Tuesday, pending up to and including the meeting day) is
//! accepted and linked; a referral within 365 days of the last one, once that case was heard, is a
//! repeat; blank victim name and date of birth on forms that have those fields is a rejection.
//! Nothing arrives on a meeting day, and only referrals without a criterion of their own follow an
//! earlier one, so the truth never rests on a rule's edge that the domain leaves open.

pub mod dash;
pub mod referral;
pub mod words;

use crate::mail::{attach, text_plain, Attachment, Env};
use crate::util::{date, Date, DateFmt, Rng, Stamp};
use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use serde::Serialize;
use std::collections::BTreeMap;

/// One answer of the generated checklists (every question is answered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum A {
    Yes,
    No,
    Dk,
}

/// A person of the corpus as the truth knows them.
#[derive(Clone, Debug)]
pub struct Person {
    /// Truth key: the same person keeps it across referrals.
    pub key: String,
    pub first: String,
    pub middle: Option<String>,
    pub last: String,
    pub dob: Date,
}

/// How a name is written on one form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NameStyle {
    /// "Kirsty Dalgleish"
    Plain,
    /// "DALGLEISH, Kirsty"
    SurnameComma,
    /// "DALGLEISH Kirsty"
    SurnameCaps,
}

/// A name as written on one form: the whole text, and its parts for forms with separate fields.
#[derive(Clone, Debug, Serialize)]
pub struct WrittenName {
    pub full: String,
    pub forenames: String,
    pub surname: String,
}

pub fn write_name(first: &str, middle: Option<&str>, last: &str, style: NameStyle) -> WrittenName {
    let forenames = match middle {
        Some(m) => format!("{first} {m}"),
        None => first.to_string(),
    };
    let full = match style {
        NameStyle::Plain => format!("{forenames} {last}"),
        NameStyle::SurnameComma => format!("{}, {forenames}", last.to_uppercase()),
        NameStyle::SurnameCaps => format!("{} {forenames}", last.to_uppercase()),
    };
    WrittenName { full, forenames, surname: last.to_string() }
}

/// The reasons for referral as the referrer gave them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Reasons {
    pub visible: bool,
    pub stated_score: Option<u32>,
    pub pj: bool,
    pub rationale: Option<String>,
    pub escalation: bool,
    pub callouts: Option<u32>,
    pub repeat: bool,
}

/// Everything one referral says (both forms).
#[derive(Clone, Debug)]
pub struct Referral {
    pub victim: Person,
    /// The victim's name as written on these forms (identity variations applied).
    pub victim_name: WrittenName,
    pub victim_dob_text: String,
    /// Name and date of birth left blank on both forms.
    pub identity_blank: bool,
    pub perp_first: String,
    pub perp_name: WrittenName,
    pub perp_dob: Date,
    /// The perpetrator's date of birth is left blank.
    pub perp_dob_blank: bool,
    pub postcode: String,
    pub address: String,
    pub phone: String,
    pub children: Vec<(String, String)>,
    pub referrer: Referrer,
    pub referral_date: Date,
    pub reasons: Reasons,
    pub answers: [A; 24],
    pub comments: Vec<(usize, String)>,
    pub dob_fmt: DateFmt,
}

/// The generator's referrer, the same professional the golden fixtures use.
pub use crate::data::Referrer;

pub const REFERRERS: [Referrer; 6] = [
    Referrer { name: "DC Owen Pryor", role: "Detective Constable", agency: "Kingsmere Police", email: "owen.pryor@kingsmere.pnn.police.example.test", phone: "01632 960611" },
    Referrer { name: "Ruth Akinola", role: "Safeguarding Nurse", agency: "Kingsmere Hospitals NHS Trust", email: "ruth.akinola@nhs.example.test", phone: "01632 960622" },
    Referrer { name: "Tomasz Nowak", role: "IDVA", agency: "Kingsmere IDVA Service", email: "tomasz.nowak@idva.example.test", phone: "01632 960633" },
    Referrer { name: "Helen Marr", role: "Housing Options Officer", agency: "Kingsmere Council", email: "helen.marr@kingsmere.gov.example.test", phone: "01632 960644" },
    Referrer { name: "Gareth Lloyd", role: "Probation Officer", agency: "Probation Service", email: "gareth.lloyd@probation.cjsm.example.test", phone: "01632 960655" },
    Referrer { name: "PS Nadia Qureshi", role: "Police Sergeant", agency: "Kingsmere Police", email: "nadia.qureshi@kingsmere.pnn.police.example.test", phone: "01632 960617" },
];

impl Referral {
    pub fn yes(&self) -> u32 {
        self.answers.iter().filter(|a| **a == A::Yes).count() as u32
    }
    pub fn counts(&self) -> (u32, u32, u32) {
        let y = self.yes();
        let n = self.answers.iter().filter(|a| **a == A::No).count() as u32;
        (y, n, 24 - y - n)
    }
    pub fn comment(&self, q: usize) -> Option<&str> {
        self.comments.iter().find(|(n, _)| *n == q).map(|(_, c)| c.as_str())
    }
    /// Name and DOB as shown (blank when the identity is left out).
    pub fn shown_name(&self) -> WrittenName {
        if self.identity_blank {
            WrittenName { full: String::new(), forenames: String::new(), surname: String::new() }
        } else {
            self.victim_name.clone()
        }
    }
    pub fn shown_dob(&self) -> String {
        if self.identity_blank {
            String::new()
        } else {
            self.victim_dob_text.clone()
        }
    }
    pub fn shown_perp_dob(&self) -> String {
        if self.perp_dob_blank {
            String::new()
        } else {
            self.perp_dob.fmt(self.dob_fmt)
        }
    }
}

/// What a correct triage decides and a correct reader reads.
#[derive(Clone, Debug, Serialize)]
pub struct Truth {
    pub outcome: &'static str,
    pub criteria: Vec<&'static str>,
    /// new / linked / none
    pub case: &'static str,
    pub victim_key: Option<String>,
    pub dash: (u32, u32, u32),
    /// The victim's name as it should be read (None: blank on the forms).
    pub victim_name: Option<String>,
    /// ISO date of birth (None: blank on the forms).
    pub victim_dob: Option<String>,
    /// Other referral fields: key → expected value (None: blank on the form).
    pub fields: BTreeMap<&'static str, Option<String>>,
    pub notes: String,
}

/// One generated email.
pub struct Email {
    pub file: String,
    pub dash_layout: &'static str,
    pub referral_layout: &'static str,
    pub wording: &'static str,
    /// How dates of birth are written on its forms.
    pub dob_style: &'static str,
    pub arrived: Stamp,
    pub eml: Vec<u8>,
    pub truth: Truth,
}

/// What kind of first referral a person gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Visible,
    Below,
    PjRationale,
    PjNoRationale,
    Escalation,
    EscalationTooFew,
    VisibleAndPj,
    NoIdentity,
}

/// How a follow-up writes the same victim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdVar {
    Same,
    Typo,
    Transposed,
    MiddleName,
    SurnameFirst,
    SurnameSpacing,
}

const IDVARS: [IdVar; 6] = [IdVar::Typo, IdVar::Transposed, IdVar::MiddleName, IdVar::SurnameFirst, IdVar::SurnameSpacing, IdVar::Same];

const FIRST: [&str; 40] = [
    "Kirsty", "Amelia", "Bethany", "Chloe", "Danielle", "Eleanor", "Fiona", "Gemma", "Hannah", "Isobel", "Jasmine", "Katrina",
    "Lauren", "Megan", "Natalie", "Olivia", "Paige", "Rachel", "Samantha", "Tamsin", "Ursula", "Victoria", "Wendy", "Yvonne",
    "Zara", "Abigail", "Bridget", "Caroline", "Deborah", "Esther", "Francesca", "Georgina", "Harriet", "Imogen", "Joanna",
    "Kimberley", "Lucinda", "Marianne", "Nicola", "Philippa",
];
const LAST: [&str; 50] = [
    "Dalgleish", "Ashworth", "Brennan", "Cartwright", "Donnelly", "Eastwood", "Fairclough", "Gallagher", "Hargreaves", "Iveson",
    "Jennings", "Kershaw", "Lomax", "Merriman", "Nuttall", "Ormerod", "Pickering", "Quinlan", "Rothwell", "Sutcliffe",
    "Thornton", "Underwood", "Varley", "Whitworth", "Yardley", "Hale-Pennington", "Ackroyd", "Birtwistle", "Crowther",
    "Dewhurst", "Entwistle", "Fothergill", "Greenhalgh", "Holroyd", "Illingworth", "Jagger", "Kilner", "Lister", "Mossop",
    "Nettleton", "Oldroyd", "Pilkington", "Ramsbottom", "Smith-Jones", "Tattersall", "Uttley", "Wadsworth", "Ainsworth",
    "Blackburn", "Clegg",
];
const MIDDLE: [&str; 6] = ["Louise", "Marie", "Jane", "Anne", "Elizabeth", "Rose"];
const PERP_FIRST: [&str; 10] = ["Darren", "Gavin", "Stuart", "Lewis", "Mark", "Robert", "Craig", "Wayne", "Jason", "Lee"];
const PERP_LAST: [&str; 10] = ["Hexley", "Tamblin", "Oakes", "Verity", "Crane", "Pollard", "Rudd", "Bramley", "Cotter", "Swales"];
const CHILD: [&str; 8] = ["Mason", "Ruby", "Tyler", "Poppy", "Alfie", "Evie", "Kian", "Lily"];
const RATIONALES: [&str; 4] = [
    "She minimises what happens; he was released from custody last week and has a conviction for assaulting a previous partner.",
    "Recent escalation: he has started to follow her to work and has threatened to take the children abroad.",
    "She is isolated, pregnant and terrified; the score does not reflect the coercive control described.",
    "Threats with a knife reported by a neighbour; she withdrew her statement out of fear.",
];

/// A victim's date of birth, distinct for every `i` below 15,991 (between 1962 and 2005).
fn dob_of(i: u32, shift: i64) -> Date {
    days_after((1962, 1, 3), (i64::from(i) * 29) % 15_991 + shift)
}

fn days_after(from: (i32, u32, u32), days: i64) -> Date {
    let d = NaiveDate::from_ymd_opt(from.0, from.1, from.2).expect("date") + TimeDelta::days(days);
    date(d.year(), d.month(), d.day())
}

fn person(i: u32) -> Person {
    let a = (i % 40) as usize;
    let b = ((7 * a as u32 + 31 * (i / 40)) % 50) as usize;
    Person { key: format!("P{i:04}"), first: FIRST[a].to_string(), middle: None, last: LAST[b].to_string(), dob: dob_of(i, 0) }
}

/// The second Tuesday of the month of `d`.
fn second_tuesday(y: i32, m: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(y, m, 1).expect("date");
    let off = (7 + Weekday::Tue.num_days_from_monday() as i64 - first.weekday().num_days_from_monday() as i64) % 7;
    first + TimeDelta::days(off + 7)
}

/// The meeting a case accepted on `d` waits for: the next second Tuesday on or after `d`.
pub fn meeting_for(d: NaiveDate) -> NaiveDate {
    let this = second_tuesday(d.year(), d.month());
    if this >= d {
        this
    } else {
        let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
        second_tuesday(y, m)
    }
}

fn is_meeting_day(d: NaiveDate) -> bool {
    second_tuesday(d.year(), d.month()) == d
}

fn pick<'a, T>(rng: &mut Rng, v: &'a [T]) -> &'a T {
    &v[rng.below(v.len() as u64) as usize]
}

fn answers(rng: &mut Rng, yes: u32, dk: u32) -> [A; 24] {
    let mut order: Vec<usize> = (0..24).collect();
    for i in (1..24).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut out = [A::No; 24];
    for (k, q) in order.iter().enumerate() {
        if (k as u32) < yes {
            out[*q] = A::Yes;
        } else if (k as u32) < yes + dk {
            out[*q] = A::Dk;
        }
    }
    out
}

/// One planned email before rendering.
struct Plan {
    at: NaiveDate,
    minute: u32,
    person: Person,
    idvar: IdVar,
    kind: Option<Kind>,
    /// A follow-up of an earlier referral (no criterion of its own).
    follow_up: bool,
    notes: String,
}

fn typo(s: &str, k: u64) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let i = 1 + (k as usize % (c.len() - 2));
    c[i] = if c[i] == 'e' { 'a' } else { 'e' };
    c.into_iter().collect()
}

fn transpose(s: &str, k: u64) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let i = 1 + (k as usize % (c.len() - 2));
    if c[i] == c[i + 1] {
        c.swap(i - 1, i);
    } else {
        c.swap(i, i + 1);
    }
    c.into_iter().collect()
}

/// Everything about one corpus: its emails in arrival order.
pub fn corpus(seed: u64, at_least: usize) -> Vec<Email> {
    let mut rng = Rng::new(seed);
    let mut plans: Vec<Plan> = Vec::new();
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
    let mut i: u32 = 0;
    let mut namesakes = 0u32;
    let mut accepted_count = 0usize;
    let mut follow_count = 0usize;
    // Each person: a first referral, sometimes a linked follow-up and a repeat later.
    while plans.len() < at_least {
        let mut day = start + TimeDelta::days(i64::from(i) * 26 / 20);
        if is_meeting_day(day) {
            day += TimeDelta::days(1);
        }
        let kind = match rng.below(100) {
            0..=29 => Kind::Visible,
            30..=42 => Kind::Below,
            43..=54 => Kind::PjRationale,
            55..=59 => Kind::PjNoRationale,
            60..=71 => Kind::Escalation,
            72..=76 => Kind::EscalationTooFew,
            77..=83 => Kind::VisibleAndPj,
            84..=88 => Kind::NoIdentity,
            _ => Kind::Visible,
        };
        let mut p = person(i);
        if rng.below(5) == 0 {
            p.middle = Some(pick(&mut rng, &MIDDLE).to_string());
        }
        let accepted = matches!(kind, Kind::Visible | Kind::PjRationale | Kind::Escalation | Kind::VisibleAndPj);
        plans.push(Plan { at: day, minute: rng.below(480) as u32, person: p.clone(), idvar: IdVar::Same, kind: Some(kind), follow_up: false, notes: format!("{kind:?} first referral") });
        if accepted {
            // In turn: three second referrals within days (the victim written another way each
            // time), a repeat after the case was heard, a namesake with another date of birth.
            let turn = accepted_count % 8;
            accepted_count += 1;
            if turn < 3 {
                let idvar = IDVARS[follow_count % IDVARS.len()];
                follow_count += 1;
                let mut d = day + TimeDelta::days(2 + rng.below(9) as i64);
                if is_meeting_day(d) {
                    d += TimeDelta::days(1);
                }
                plans.push(Plan { at: d, minute: rng.below(480) as u32, person: p.clone(), idvar, kind: None, follow_up: true, notes: format!("second referral of {} ({idvar:?})", p.key) });
            } else if turn == 3 {
                let mut d = meeting_for(day) + TimeDelta::days(3 + rng.below(60) as i64);
                if is_meeting_day(d) {
                    d += TimeDelta::days(1);
                }
                let idvar = *pick(&mut rng, &[IdVar::Same, IdVar::SurnameFirst, IdVar::MiddleName]);
                plans.push(Plan { at: d, minute: rng.below(480) as u32, person: p.clone(), idvar, kind: None, follow_up: true, notes: format!("repeat referral of {} ({idvar:?})", p.key) });
            } else if turn == 4 {
                namesakes += 1;
                let mut d = day + TimeDelta::days(1 + rng.below(20) as i64);
                if is_meeting_day(d) {
                    d += TimeDelta::days(1);
                }
                let q = Person { key: format!("N{namesakes:04}"), dob: dob_of(i, 11), middle: None, ..p.clone() };
                plans.push(Plan { at: d, minute: rng.below(480) as u32, person: q, idvar: IdVar::Same, kind: Some(Kind::Visible), follow_up: false, notes: format!("same name as {}, another date of birth: a different person", p.key) });
            }
        }
        i += 1;
    }
    plans.sort_by_key(|p| (p.at, p.minute));
    let mut out = Vec::new();
    // History of accepted referrals per truth key: (referral day, meeting day).
    let mut history: BTreeMap<String, Vec<(NaiveDate, NaiveDate)>> = BTreeMap::new();
    for (n, plan) in plans.iter().enumerate() {
        out.push(build(n as u32, plan, &mut rng, &mut history, seed));
    }
    out
}

fn build(n: u32, plan: &Plan, rng: &mut Rng, history: &mut BTreeMap<String, Vec<(NaiveDate, NaiveDate)>>, seed: u64) -> Email {
    let p = &plan.person;
    let (yes, dk, mut reasons, identity_blank) = match plan.kind {
        None => {
            let y = rng.below(10) as u32;
            (y, rng.below(4) as u32, Reasons { stated_score: Some(y), ..Reasons::default() }, false)
        }
        Some(k) => {
            let low = 3 + rng.below(11) as u32;
            let high = 14 + rng.below(7) as u32;
            let rationale = Some(pick(rng, &RATIONALES).to_string());
            match k {
                Kind::Visible => (high, rng.below(4) as u32, Reasons { visible: true, stated_score: Some(high), ..Reasons::default() }, false),
                Kind::NoIdentity => (high, 1, Reasons { visible: true, stated_score: Some(high), ..Reasons::default() }, true),
                Kind::Below => (low, rng.below(4) as u32, Reasons { stated_score: Some(low), ..Reasons::default() }, false),
                Kind::PjRationale => (low, 2, Reasons { stated_score: Some(low), pj: true, rationale, ..Reasons::default() }, false),
                Kind::PjNoRationale => (low, 2, Reasons { stated_score: Some(low), pj: true, ..Reasons::default() }, false),
                Kind::Escalation => (low, 1, Reasons { stated_score: Some(low), escalation: true, callouts: Some(3 + rng.below(4) as u32), ..Reasons::default() }, false),
                Kind::EscalationTooFew => (low, 1, Reasons { stated_score: Some(low), escalation: true, callouts: Some(1 + rng.below(2) as u32), ..Reasons::default() }, false),
                Kind::VisibleAndPj => (high, 0, Reasons { visible: true, stated_score: Some(high), pj: true, rationale, ..Reasons::default() }, false),
            }
        }
    };
    if reasons.stated_score.is_some() && rng.below(6) == 0 {
        reasons.stated_score = None;
    }
    let answers = answers(rng, yes, dk);
    let dob_fmt = *pick(rng, &[DateFmt::Slash, DateFmt::DotShort, DateFmt::Long, DateFmt::Ordinal, DateFmt::Iso]);
    // The name as written on this referral.
    let (first, middle, last, style) = match plan.idvar {
        IdVar::Same => (p.first.clone(), p.middle.clone(), p.last.clone(), *pick(rng, &[NameStyle::Plain, NameStyle::Plain, NameStyle::SurnameComma, NameStyle::SurnameCaps])),
        IdVar::Typo => (typo(&p.first, rng.next_u64()), p.middle.clone(), p.last.clone(), NameStyle::Plain),
        IdVar::Transposed => (transpose(&p.first, rng.next_u64()), p.middle.clone(), p.last.clone(), NameStyle::Plain),
        // A middle name added where the first referral had none, left out where it had one.
        IdVar::MiddleName => (p.first.clone(), if p.middle.is_some() { None } else { Some("Louise".to_string()) }, p.last.clone(), NameStyle::Plain),
        IdVar::SurnameFirst => (p.first.clone(), p.middle.clone(), p.last.clone(), NameStyle::SurnameComma),
        IdVar::SurnameSpacing => (p.first.to_uppercase(), p.middle.clone(), p.last.replace('-', " ").to_uppercase(), NameStyle::Plain),
    };
    let victim_name = write_name(&first, middle.as_deref(), &last, style);
    let perp_first = pick(rng, &PERP_FIRST).to_string();
    let perp_last = pick(rng, &PERP_LAST).to_string();
    let perp_style = *pick(rng, &[NameStyle::Plain, NameStyle::SurnameCaps]);
    let perp_name = write_name(&perp_first, None, &perp_last, perp_style);
    let perp_dob = days_after((1960, 1, 1), i64::from(n) * 37 % 12_000);
    let children: Vec<(String, String)> = (0..rng.below(3))
        .map(|k| {
            let c = CHILD[((n as u64 + k) % 8) as usize];
            (format!("{c} {perp_last}"), days_after((2010, 1, 1), (i64::from(n) * 13 + k as i64 * 400) % 4_000).fmt(dob_fmt))
        })
        .collect();
    let referrer = pick(rng, &REFERRERS).clone();
    let at = plan.at;
    let referral = Referral {
        victim: p.clone(),
        victim_dob_text: p.dob.fmt(dob_fmt),
        victim_name,
        identity_blank,
        perp_first,
        perp_name,
        perp_dob,
        perp_dob_blank: rng.below(5) == 0,
        postcode: format!("ZY{} {}{}{}", n % 9 + 1, n % 10, (b'A' + (n % 26) as u8) as char, (b'D' + ((n * 7) % 22) as u8) as char),
        address: format!("{} {} Road, Kingsmere", 1 + n % 90, pick(rng, &["Quarry", "Dock", "Elm", "Chapel", "Bridge", "Heath"])),
        phone: format!("07700 900{:03}", n % 1000),
        children,
        referrer,
        referral_date: date(at.year(), at.month(), at.day()),
        reasons,
        answers,
        comments: if rng.below(2) == 0 { vec![(1, "Bruising to the face and arms.".to_string()), (14, "Said he would kill her if she left.".to_string())] } else { Vec::new() },
        dob_fmt,
    };
    let wording = *pick(rng, &words::WORDINGS);
    // Layouts in turn, so that a short sample already uses every one, and each DASH layout meets
    // every referral layout in turn.
    let (d, k) = (n as usize % dash::LAYOUTS.len(), n as usize / dash::LAYOUTS.len());
    let dl = dash::LAYOUTS[d];
    let rl = referral::LAYOUTS[(d + k) % referral::LAYOUTS.len()];
    let arrived = {
        let t = at.and_hms_opt(8 + plan.minute / 60, plan.minute % 60, (n * 7 % 60) as u32).expect("time");
        let offset_h = if (4..=10).contains(&at.month()) { 1 } else { 0 };
        Stamp { at: t, offset_h }
    };
    let mut truth = truth(&referral, plan, history);
    let (dash_att, printed_total) = dash::render(dl, &referral, wording, rng, &format!("{seed}/{n}"), arrived);
    // A score left blank on the referral form is still stated by a checklist that prints its total.
    if let Some(score @ None) = truth.fields.get_mut("stated_dash_score") {
        *score = printed_total.map(|t| t.to_string());
    }
    let ref_att = referral::render(rl, &referral, rng, &format!("{seed}/{n}"), arrived);
    let eml = message(n, seed, &referral, arrived, vec![ref_att, dash_att]);
    Email {
        file: format!("{n:04}_{}_{}.eml", dl.0, rl.0),
        dash_layout: dl.0,
        referral_layout: rl.0,
        wording: wording.0,
        dob_style: match dob_fmt {
            DateFmt::Slash => "14/11/1987",
            DateFmt::DotShort => "14.11.87",
            DateFmt::Long => "14 November 1987",
            DateFmt::Ordinal => "14th Nov 1987",
            DateFmt::Iso => "1987-11-14",
        },
        arrived,
        eml,
        truth,
    }
}

fn truth(r: &Referral, plan: &Plan, history: &mut BTreeMap<String, Vec<(NaiveDate, NaiveDate)>>) -> Truth {
    let (y, no, unk) = r.counts();
    let mut fields: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
    fields.insert("perpetrator.name", Some(r.perp_name.full.clone()));
    fields.insert("perpetrator.dob", (!r.perp_dob_blank).then(|| r.perp_dob.iso()));
    fields.insert("victim.postcode", Some(r.postcode.clone()));
    fields.insert("referrer.email", Some(r.referrer.email.to_string()));
    fields.insert("stated_dash_score", r.reasons.stated_score.map(|s| s.to_string()));
    fields.insert("police_callouts", r.reasons.callouts.map(|s| s.to_string()));
    let victim_name = (!r.identity_blank).then(|| r.victim_name.full.clone());
    let victim_dob = (!r.identity_blank).then(|| r.victim.dob.iso());
    let mut t = Truth { outcome: "rejected", criteria: Vec::new(), case: "none", victim_key: None, dash: (y, no, unk), victim_name, victim_dob, fields, notes: plan.notes.clone() };
    if r.identity_blank {
        t.notes += ": victim name and date of birth blank on both forms, rejected";
        return t;
    }
    t.victim_key = Some(r.victim.key.clone());
    let day = plan.at;
    let past = history.entry(r.victim.key.clone()).or_default();
    if let Some(&(last_ref, meeting)) = past.last() {
        if meeting >= day {
            t.outcome = "accepted";
            t.case = "linked";
            t.notes += ": the case still waits for its meeting, linked";
            past.push((day, meeting));
            return t;
        }
        if (day - last_ref).num_days() <= 365 {
            t.outcome = "accepted";
            t.case = "new";
            t.criteria = vec!["repeat"];
            t.notes += ": heard within the last 365 days, a repeat";
            past.push((day, meeting_for(day)));
            return t;
        }
    }
    assert!(!plan.follow_up || past.is_empty() || plan.kind.is_some(), "a follow-up always has an earlier referral");
    let rs = &r.reasons;
    let mut criteria = Vec::new();
    if y >= 14 {
        criteria.push("visible_high_risk");
    }
    if rs.pj && rs.rationale.is_some() {
        criteria.push("professional_judgement");
    }
    if rs.escalation && rs.callouts.unwrap_or(0) >= 3 {
        criteria.push("potential_escalation");
    }
    if !criteria.is_empty() {
        t.outcome = "accepted";
        t.case = "new";
        t.criteria = criteria;
        past.push((day, meeting_for(day)));
    }
    t
}

fn message(n: u32, seed: u64, r: &Referral, at: Stamp, atts: Vec<Attachment>) -> Vec<u8> {
    let initials: String = [r.victim.first.chars().next(), r.victim.last.chars().next()].iter().flatten().collect();
    let subject = format!("MARAC referral - {initials}");
    let env = Env::new(&format!("variation/{seed}/{n}"), at, r.referrer.name, r.referrer.email, &subject);
    let score = r.reasons.stated_score.map(|s| format!(" DASH score {s}.")).unwrap_or_default();
    let text = format!(
        "Good morning,\n\nPlease find attached a MARAC referral and DASH RIC for {initials}.{score}\n\nKind regards\n\n--\n{}\n{}\n{}\nTel: {}\n",
        r.referrer.name, r.referrer.role, r.referrer.agency, r.referrer.phone
    );
    env.mixed(text_plain(&text), atts.into_iter().map(|a| a.part).collect())
}

/// Workbook properties with a fixed creation time (rust_xlsxwriter would write the clock's).
pub fn xlsx_props(author: &str, at: Stamp) -> rust_xlsxwriter::DocProperties {
    use chrono::Timelike;
    let d = at.at;
    let when = rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
        .and_then(|x| x.and_hms(d.hour() as u16, d.minute() as u8, d.second() as f64))
        .expect("valid date");
    rust_xlsxwriter::DocProperties::new().set_author(author).set_creation_datetime(&when)
}

/// An attachment of `kind` (docx, odt, pdf, xlsx, ods) named `name`.
pub fn att(name: &str, kind: &'static str, bytes: &[u8]) -> Attachment {
    attach(name, kind, None, bytes)
}

/// The fixed sample `tests/it/fidelity.rs` runs: the corpus of seed 11, cut where every layout has
/// been used at least 3 times and every identity variation appears.
pub fn sample() -> Vec<Email> {
    corpus(11, 60)
}

/// `manifest.json` of a corpus: file, layouts, wording and truth per email.
pub fn manifest_json(emails: &[Email]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Entry<'a> {
        file: &'a str,
        dash_layout: &'a str,
        referral_layout: &'a str,
        wording: &'a str,
        arrived: String,
        truth: &'a Truth,
    }
    let v: Vec<Entry> = emails
        .iter()
        .map(|e| Entry { file: &e.file, dash_layout: e.dash_layout, referral_layout: e.referral_layout, wording: e.wording, arrived: arrived(e.arrived), truth: &e.truth })
        .collect();
    serde_json::to_vec_pretty(&v).expect("manifest")
}

/// RFC 3339 arrival time.
pub fn arrived(at: Stamp) -> String {
    format!("{}{:+03}:00", at.at.format("%Y-%m-%dT%H:%M:%S"), at.offset_h)
}
