//! The triage scenario corpus in `fixtures/triage/`: one message per decision rule, boundary and
//! precedence case of issue 3, with `labels.json` in the format of the shared samples
//! (`../shared/samples/labels.json`). `tests/it/triage_scenarios.rs` runs every message through the
//! real pipeline into a fresh SQLite database and compares the outcome with its label.
//!
//! Messages are triaged **in file order**, each as if it arrived at its topmost `Received:` date,
//! so the history-dependent scenarios are sequences. The area is `config/samples.toml`: Kingsmere
//! MARAC, monthly on the second Tuesday (2025-01-14, 02-11, 03-11, 04-08, 05-13, 06-10, …,
//! 2026-01-13), a case pending from acceptance until **and including** its meeting day, a repeat
//! window of 365 days counted from the victim's last referral.
//!
//! The attachments are small on purpose: DOCX referral forms and XLSX or DOCX checklists, built
//! with the generator's own builders. Every DOCX and XLSX carries the victim's name and a creation
//! time derived from its message's arrival, so no two referrals share an attachment by accident:
//! only scenario "resent same attachments" does, deliberately.
//!
//! The last scenarios are our own mail coming back: a step that builds one ([`FollowUp`]) sees
//! the scenarios before it, so it can name the reply triage queued for an earlier message. That
//! reply's Message-ID follows from our message reference (`IN-2026-00005` is the fifth message of
//! 2026, in file order) and the case reference from the cases opened before it.

use crate::binary;
use crate::data::{Ans, Case, Dash, Demographics, Person, Reasons, Referrer};
use crate::docx::{self, DocMeta};
use crate::form::{self, Block, Labels, Val, KINGSMERE, KINGSMERE_CC, SURVIVOR};
use crate::mail::{self, attach, attach_as, text_plain, Attachment, Auth, Body, Env, Part};
use crate::pdf::DashHead;
use crate::util::{date, hexid, stamp, Date, DateFmt, Stamp};
use crate::xlsx;
use chrono::Datelike;
use serde::Serialize;

/// One scenario: the message and what a correct triage decides.
pub struct Scenario {
    pub file: String,
    pub eml: Vec<u8>,
    pub label: Label,
}

/// One entry of `labels.json` (field names and order as in the shared samples).
#[derive(Serialize, Clone, Debug)]
pub struct Label {
    pub file: String,
    pub arrived: String,
    pub from: String,
    pub expect: Expect,
    pub notes: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Expect {
    pub outcome: &'static str,
    pub criteria: Vec<&'static str>,
    pub dash_yes: Option<u32>,
    pub dash_no: Option<u32>,
    pub dash_unknown: Option<u32>,
    pub case: &'static str,
    pub victim_key: Option<&'static str>,
    pub reply: &'static str,
    pub reply_to: Option<String>,
    pub reason_keywords: Vec<&'static str>,
}

/// Every scenario, in processing (file) order.
pub fn all() -> Vec<Scenario> {
    let steps: Vec<(&str, Kind)> = vec![
        ("police_seed_victim_l_accept15", Kind::Plain(s_seed_l)),
        ("nhs_seed_victim_w_accept16", Kind::Plain(s_seed_w)),
        ("idva_victim_l_after_meeting_repeat", Kind::Plain(s_l_repeat)),
        ("police_dash13_reject", Kind::Plain(s_dash13)),
        ("nhs_dash14_accept", Kind::Plain(s_dash14)),
        ("police_escalation_2_callouts_reject", Kind::Plain(s_callouts2)),
        ("police_escalation_3_callouts_accept", Kind::Plain(s_callouts3)),
        ("police_escalation_callouts_missing_reject", Kind::Plain(s_callouts_missing)),
        ("nhs_pj_no_rationale_reject", Kind::Plain(s_pj_without)),
        ("idva_pj_with_rationale_accept", Kind::Plain(s_pj_with)),
        ("council_victim_name_and_dob_missing_reject", Kind::Plain(s_no_identity)),
        ("police_visible_high_risk_without_dash_reject", Kind::Plain(s_no_dash)),
        ("police_escalation_4_without_dash_accept", Kind::Plain(s_escalation_no_dash)),
        ("nhs_no_attachments_reject", Kind::Plain(s_no_attachments)),
        ("police_victim_h_accept17", Kind::Plain(s_h_first)),
        ("nhs_victim_h_pending_low_score_linked", Kind::Plain(s_h_linked)),
        ("police_victim_i_accept15", Kind::Plain(s_i_first)),
        ("police_victim_h_pending_form_only_linked", Kind::Plain(s_h_form_only)),
        ("idva_victim_i_on_meeting_day_linked", Kind::Plain(s_i_meeting_day)),
        ("police_victim_i_day_after_meeting_repeat", Kind::Plain(s_i_day_after)),
        ("nhs_victim_v_accept16", Kind::Plain(s_v_first)),
        ("police_victim_v_surname_first_capitals_linked", Kind::Plain(s_v_capitals)),
        ("idva_victim_v_extra_middle_name_linked", Kind::Plain(s_v_middle)),
        ("council_victim_v_diacritics_dropped_linked", Kind::Plain(s_v_ascii)),
        ("nhs_victim_v_space_for_hyphen_linked", Kind::Plain(s_v_space)),
        ("police_victim_v_surname_typo_linked", Kind::Plain(s_v_typo)),
        ("idva_same_name_other_dob_new_person", Kind::Plain(s_v_other_dob)),
        ("police_victim_v_pending_encrypted_dash_review", Kind::Plain(s_v_encrypted)),
        ("probation_victim_j_no_dob_accept16", Kind::Plain(s_j_first)),
        ("probation_victim_j_same_attachments_resent_linked", Kind::Plain(s_j_resent)),
        ("nhs_victim_k_accept14", Kind::Plain(s_k_first)),
        ("nhs_victim_k_same_message_id_redelivered", Kind::Plain(s_k_redelivered)),
        ("webmail_out_of_office_ignored", Kind::Plain(s_out_of_office)),
        ("bounce_dsn_ignored", Kind::Plain(s_dsn)),
        ("lookalike_suffix_domain_quarantined", Kind::Plain(s_lookalike_suffix)),
        ("lookalike_prefix_domain_quarantined", Kind::Plain(s_lookalike_prefix)),
        ("police_dmarc_fail_quarantined", Kind::Plain(s_dmarc_fail)),
        ("council_spf_and_dkim_fail_quarantined", Kind::Plain(s_spf_dkim_fail)),
        ("police_foreign_authserv_fail_accept", Kind::Plain(s_foreign_fail)),
        ("webmail_encrypted_dash_quarantined", Kind::Plain(s_webmail_encrypted)),
        ("police_encrypted_dash_review", Kind::Plain(s_encrypted)),
        ("police_stated_score_disagrees_review", Kind::Plain(s_score_disagrees)),
        ("idva_conflicting_marks_review", Kind::Plain(s_conflicting)),
        ("police_reply_to_secure_cc_accept", Kind::Plain(s_reply_to_secure)),
        ("nhs_reply_to_webmail_cc_accept", Kind::Plain(s_reply_to_webmail)),
        ("nhs_victim_w_366_days_repeat_review", Kind::Plain(s_w_366)),
        ("idva_victim_l_364_days_repeat", Kind::Plain(s_l_364)),
        ("idva_victim_t_accept15", Kind::Plain(s_t)),
        ("our_acknowledgement_looped_back_ignored", follow(s_looped_back)),
        ("police_victim_u_accept16", Kind::Plain(s_u)),
        ("bounce_of_our_acknowledgement_review", follow(s_bounce_of_ours)),
    ];
    let mut out: Vec<Scenario> = Vec::new();
    let mut last_utc = None;
    for (i, (slug, f)) in steps.iter().enumerate() {
        let n = i as u32 + 1;
        let file = format!("{n:03}_{slug}.eml");
        let (eml, at, from, expect, notes) = match f {
            Kind::Plain(f) => f(n, slug),
            Kind::FollowUp(f) => f(n, slug, &out),
        };
        let utc = at.at - chrono::TimeDelta::hours(i64::from(at.offset_h));
        assert!(last_utc.is_none_or(|l| l <= utc), "{file}: arrives before the message triaged before it");
        last_utc = Some(utc);
        let label = Label { file: file.clone(), arrived: arrived(at), from, expect, notes: notes.to_string() };
        out.push(Scenario { file, eml, label });
    }
    out
}

/// A step of [`all`]: most build their message alone; a follow-up sees the scenarios before it.
enum Kind {
    Plain(Step),
    FollowUp(FollowUp),
}

fn follow(f: FollowUp) -> Kind {
    Kind::FollowUp(f)
}

/// `labels.json`: the labels in processing order, pretty-printed like the shared samples.
pub fn labels_json(scenarios: &[Scenario]) -> Vec<u8> {
    let labels: Vec<&Label> = scenarios.iter().map(|s| &s.label).collect();
    let mut out = serde_json::to_vec_pretty(&labels).expect("labels serialise");
    out.push(b'\n');
    out
}

/// Every file of `fixtures/triage/`: the messages, then `labels.json`.
pub fn files() -> Vec<(String, Vec<u8>)> {
    let scenarios = all();
    let labels = labels_json(&scenarios);
    let mut out: Vec<(String, Vec<u8>)> = scenarios.into_iter().map(|s| (s.file, s.eml)).collect();
    out.push(("labels.json".to_string(), labels));
    out
}

/// ISO 8601 with the offset, as `labels.json` writes `arrived`.
fn arrived(at: Stamp) -> String {
    format!("{}{:+03}:00", at.at.format("%Y-%m-%dT%H:%M:%S"), at.offset_h)
}

// ---------------------------------------------------------------------------------------------
// People. All fictional: phone numbers in Ofcom's drama range, postcodes in the non-existent ZY
// area, domains under example.test.

fn referrer(name: &'static str, role: &'static str, agency: &'static str, email: &'static str, phone: &'static str) -> Referrer {
    Referrer { name, role, agency, email, phone }
}

fn pryor() -> Referrer {
    referrer("DC Owen Pryor", "Detective Constable, Public Protection Unit", "Kingsmere Police", "owen.pryor@kingsmere.pnn.police.example.test", "01632 960611")
}
fn brand() -> Referrer {
    referrer("PC Alice Brand", "Response Officer", "Kingsmere Police", "alice.brand@kingsmere.pnn.police.example.test", "01632 960614")
}
fn akinola() -> Referrer {
    referrer("Ruth Akinola", "Safeguarding Nurse", "Kingsmere Hospitals NHS Trust", "ruth.akinola@nhs.example.test", "01632 960622")
}
fn nowak() -> Referrer {
    referrer("Tomasz Nowak", "IDVA", "Kingsmere IDVA Service", "tomasz.nowak@idva.example.test", "01632 960633")
}
fn marr() -> Referrer {
    referrer("Helen Marr", "Housing Options Officer", "Kingsmere Council", "helen.marr@kingsmere.gov.example.test", "01632 960644")
}
fn lloyd() -> Referrer {
    referrer("Gareth Lloyd", "Probation Officer", "Probation Service - Kingsmere", "gareth.lloyd@probation.cjsm.example.test", "01632 960655")
}
fn dawes_webmail() -> Referrer {
    referrer("Kelly Dawes", "Family Support Worker", "Kingsmere Family Hub", "kelly.dawes1990@webmail.example.test", "07700 900614")
}
/// A look-alike of the NHS domain: the real one is a suffix-free prefix of it.
fn akinola_suffix_lookalike() -> Referrer {
    Referrer { email: "ruth.akinola@nhs.example.test.evil.example", ..akinola() }
}
/// A look-alike of the NHS domain with letters in front.
fn akinola_prefix_lookalike() -> Referrer {
    Referrer { email: "ruth.akinola@evilnhs.example.test", ..akinola() }
}

const fn p(first: &'static str, last: &'static str, dob: Date) -> Person {
    Person { first, last, dob }
}

const L: Person = p("Lorna", "Fairweather", date(1986, 5, 2));
const W: Person = p("Bethany", "Colclough", date(1979, 11, 23));
const H: Person = p("Aaliyah", "Brookes", date(1997, 8, 30));
const I: Person = p("Kirsty", "Dalgleish", date(1990, 1, 17));
const V_DOB: Date = date(1993, 3, 14);
const V: Person = p("Siân", "Hale-Pennington", V_DOB);
const J: Person = p("Grace", "Adeyemi", date(1988, 6, 9));
const K: Person = p("Paula", "Ferreira", date(1994, 10, 5));

const ADDRESSES: [&str; 6] = [
    "5 Quarry Lane, Kingsmere",
    "Flat 7, 40 Dock Road, Kingsmere",
    "22 Elm Rise, Kingsmere",
    "3 Chapel Yard, Kingsmere",
    "Flat 1, 9 Bridge Street, Kingsmere",
    "61 Heath Avenue, Kingsmere",
];

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn days_before(at: Stamp, days: i64) -> Date {
    let d = at.at.date() - chrono::TimeDelta::days(days);
    date(d.year(), d.month(), d.day())
}

/// The referral form's content for a victim referred at `at`.
fn case(n: u32, at: Stamp, r: Referrer, victim: Person, perp: Person, reasons: Reasons, dob_fmt: DateFmt) -> Case {
    let incident = days_before(at, 2);
    Case {
        area: "Kingsmere",
        referrer: r,
        referral_date: at.date(),
        reasons,
        victim,
        victim_aliases: "None known",
        gender: "Female",
        address: ADDRESSES[n as usize % ADDRESSES.len()],
        postcode: leak(format!("ZY{} {}{}{}", n % 9 + 1, (n * 3) % 10, (b'A' + (n % 26) as u8) as char, (b'D' + ((n * 7) % 22) as u8) as char)),
        safe_phone: leak(format!("07700 900{:03}", 300 + n * 11 % 600)),
        aware: "Yes",
        language: "No / English",
        perp_address: "Same as victim",
        relationship: "Partner",
        children: Vec::new(),
        summary: leak(format!(
            "Incident on {}: {} assaulted the victim at home and made threats to kill. Police attended; {} was arrested and bailed not to contact the victim.",
            incident.slash(),
            perp.first,
            perp.first
        )),
        perp,
        dash_date: days_before(at, 1),
        police_ref: leak(format!("KP-{}-{:06}", at.at.year() % 100, 7000 + n * 37)),
        agencies: "IDVA service",
        dob_fmt,
        demographics: Default::default(),
    }
}

fn perp(n: u32) -> Person {
    const FIRST: [&str; 6] = ["Gavin", "Stuart", "Lewis", "Darren", "Mark", "Robert"];
    const LAST: [&str; 6] = ["Hexley", "Tamblin", "Oakes", "Verity", "Crane", "Pollard"];
    p(FIRST[n as usize % 6], LAST[(n as usize / 6) % 6], date(1980 + (n % 12) as i32, 1 + n % 12, 1 + n % 28))
}

/// Reasons with only the stated DASH score filled in (visible high risk ticked when it reaches 14).
fn stated(score: u32) -> Reasons {
    Reasons { visible: score >= 14, stated_score: Some(score), ..Reasons::default() }
}

/// A checklist with `yes` Yes answers, `dk` Don't know and the rest No, spread over the questions
/// by a fixed permutation rotated by `seed` (so two checklists with the same score differ).
fn dash(yes: u32, dk: u32, seed: u32) -> Dash {
    const ORDER: [usize; 24] = [13, 14, 0, 10, 7, 2, 22, 5, 19, 1, 16, 11, 8, 23, 4, 17, 3, 20, 12, 6, 21, 9, 18, 15];
    let mut letters = ['N'; 24];
    for (i, q) in ORDER.iter().cycle().skip(seed as usize % 24).take(24).enumerate() {
        if (i as u32) < yes {
            letters[*q] = 'Y';
        } else if (i as u32) < yes + dk {
            letters[*q] = 'D';
        }
    }
    let d = Dash::parse(&letters.iter().collect::<String>());
    assert_eq!(d.counts().yes, yes);
    d
}

// ---------------------------------------------------------------------------------------------
// Attachments.

fn meta(c: &Case, at: Stamp, title: &str) -> DocMeta {
    DocMeta { title: title.to_string(), author: c.referrer.plain_name(), created: at.minus_secs(5_400) }
}

/// The victim-section rows of a referral form with the given labels emptied (a form sent with
/// the name or the date of birth left blank).
fn blank_victim_rows(mut blocks: Vec<Block>, l: &Labels, labels: &[&str]) -> Vec<Block> {
    let mut in_victim = false;
    for b in &mut blocks {
        match b {
            Block::Heading(h) => in_victim = h == l.sec_victim,
            Block::Kv(rows) if in_victim => {
                for (label, v) in rows.iter_mut() {
                    if labels.contains(&label.as_str()) {
                        *v = Val::Text(String::new());
                    }
                }
            }
            _ => {}
        }
    }
    blocks
}

/// The DOCX referral form; `blank` names victim rows left empty.
fn referral(c: &Case, at: Stamp, l: &Labels, blank: &[&str]) -> Attachment {
    let blocks = blank_victim_rows(form::referral_form(c, l), l, blank);
    let bytes = docx::docx(&blocks, l.tick, false, &meta(c, at, l.title));
    attach(&format!("MARAC referral {}.docx", c.victim.initials()), "docx", None, &bytes)
}

/// The DASH's header rows; `name` and `dob` say whether the victim's name and date of birth are
/// filled in.
fn head(c: &Case, name: bool, dob: bool) -> DashHead {
    DashHead {
        area: c.area.to_string(),
        victim: if name { c.victim.full() } else { String::new() },
        dob: if dob { c.victim_dob_text() } else { String::new() },
        abuser: c.perp.full(),
        completed: c.dash_date.slash(),
        by: c.referrer.plain_name(),
        agency: c.referrer.agency.to_string(),
    }
}

fn plain(_q: usize, a: Ans) -> &'static str {
    match a {
        Ans::Yes => "Yes",
        Ans::No => "No",
        Ans::Dk => "Don't know",
        Ans::Blank => "",
        Ans::Both => "Yes/No",
    }
}

/// The DASH as an XLSX answer column (No | Question | Answer | Comments).
fn dash_xlsx(c: &Case, d: &Dash, at: Stamp) -> Attachment {
    dash_xlsx_head(c, d, at, true, true)
}

/// Like [`dash_xlsx`], with the victim's name or date of birth left blank in its header.
fn dash_xlsx_head(c: &Case, d: &Dash, at: Stamp, name: bool, dob: bool) -> Attachment {
    let bytes = xlsx::answer_column(&head(c, name, dob), d, &plain, false, at.minus_secs(7_200));
    attach(&format!("DASH RIC {}.xlsx", c.victim.initials()), "xlsx", None, &bytes)
}

/// The DASH as a DOCX table of typed answers.
fn dash_docx(c: &Case, d: &Dash, at: Stamp) -> Attachment {
    let blocks = vec![
        Block::Title(format!("{} - DASH RIC", c.area)),
        Block::Para("Domestic Abuse, Stalking and Honour Based Violence Risk Identification Checklist. OFFICIAL-SENSITIVE when complete.".into()),
        form::dash_header(c, &c.referrer.plain_name()),
        form::dash_typed(d, Some(c.perp.first), "Don't know", "Yes / No / Don't know"),
    ];
    let bytes = docx::docx(&blocks, form::TickStyle::YesNo, false, &meta(c, at, "DASH RIC"));
    attach(&format!("DASH {}.docx", c.victim.initials()), "docx", None, &bytes)
}

/// A password-protected Excel DASH (an OLE container holding an encrypted package).
fn dash_encrypted(c: &Case, seed: u64) -> Attachment {
    attach_as(
        &format!("DASH RIC {} (protected).xlsx", c.victim.initials()),
        mail::mime_for("xlsx"),
        "encrypted_office",
        Some("encrypted"),
        &binary::encrypted_office(seed, 8_192),
    )
}

// ---------------------------------------------------------------------------------------------
// Messages.

fn signature(r: &Referrer) -> String {
    format!("--\n{}\n{}\n{}\nTel: {}\n", r.name, r.role, r.agency, r.phone)
}

fn body(r: &Referrer, middle: &str) -> String {
    format!("Good morning,\n\n{middle}\n\nKind regards\n\n{}", signature(r))
}

fn std_text(c: &Case) -> String {
    let score = c.reasons.stated_score.map(|s| format!(" DASH score {s}.")).unwrap_or_default();
    body(&c.referrer, &format!("Please find attached a MARAC referral and DASH RIC for {} following an incident on {}.{score}", c.victim.initials(), c.dash_date.slash()))
}

fn subject(c: &Case) -> String {
    if c.referrer.email.contains("pnn.police") {
        format!("OFFICIAL-SENSITIVE: MARAC referral - {} - {}", c.victim.initials(), c.police_ref)
    } else {
        format!("MARAC referral - {}", c.victim.initials())
    }
}

fn env(n: u32, slug: &str, at: Stamp, r: &Referrer, subject: &str) -> Env {
    Env::new(&format!("triage/{n:03}_{slug}"), at, r.name, r.email, subject)
}

fn with_atts(env: &Env, text: &str, atts: Vec<Attachment>) -> Vec<u8> {
    env.mixed(text_plain(text), atts.into_iter().map(|a| a.part).collect())
}

/// What a scenario builds: the message, its arrival, the From address, the label and its notes.
type Built = (Vec<u8>, Stamp, String, Expect, &'static str);

/// A scenario builder, given its number and file-name slug.
type Step = fn(u32, &str) -> Built;

/// A scenario builder that also sees the scenarios before it (in file order).
type FollowUp = fn(u32, &str, &[Scenario]) -> Built;

/// A plain referral: the DOCX form and a DASH, from an authenticated sender.
fn referral_message(n: u32, slug: &str, at: Stamp, c: &Case, dash_att: Option<Attachment>) -> Vec<u8> {
    let e = env(n, slug, at, &c.referrer, &subject(c));
    let mut atts = vec![referral(c, at, &KINGSMERE, &[])];
    atts.extend(dash_att);
    with_atts(&e, &std_text(c), atts)
}

// ---------------------------------------------------------------------------------------------
// Expectations.

fn counts(d: Option<&Dash>) -> (Option<u32>, Option<u32>, Option<u32>) {
    match d.map(Dash::counts) {
        Some(c) => (Some(c.yes), Some(c.no), Some(c.unknown)),
        None => (None, None, None),
    }
}

#[allow(clippy::too_many_arguments)]
fn expect(outcome: &'static str, criteria: &[&'static str], d: Option<&Dash>, case: &'static str, key: Option<&'static str>, reply: &'static str, to: Option<&str>, kws: &[&'static str]) -> Expect {
    let (dash_yes, dash_no, dash_unknown) = counts(d);
    Expect {
        outcome,
        criteria: criteria.to_vec(),
        dash_yes,
        dash_no,
        dash_unknown,
        case,
        victim_key: key,
        reply,
        reply_to: to.map(str::to_string),
        reason_keywords: kws.to_vec(),
    }
}

fn accepted(criteria: &[&'static str], d: Option<&Dash>, case: &'static str, key: &'static str, to: &str) -> Expect {
    expect("accepted", criteria, d, case, Some(key), "acknowledgement", Some(to), &[])
}

fn rejected(d: Option<&Dash>, key: Option<&'static str>, to: &str, kws: &[&'static str]) -> Expect {
    expect("rejected", &[], d, "none", key, "rejection", Some(to), kws)
}

fn review(d: Option<&Dash>, key: &'static str, to: &str, kws: &[&'static str]) -> Expect {
    expect("review", &[], d, "none", Some(key), "holding", Some(to), kws)
}

/// Quarantined and ignored messages are not read for their content: no DASH counts, no victim.
fn untouched(outcome: &'static str, kws: &[&'static str]) -> Expect {
    expect(outcome, &[], None, "none", None, "none", None, kws)
}

const VHR: &str = "visible_high_risk";
const PJ: &str = "professional_judgement";
const ESC: &str = "potential_escalation";
const REPEAT: &str = "repeat";

const THRESHOLD_KWS: &[&str] = &["threshold", "14", "score"];
const SENDER_KWS: &[&str] = &["allowlist", "secure", "domain"];

// ---------------------------------------------------------------------------------------------
// History seeds for the 12-month window (January 2025; meetings 14 January and 11 February).

fn s_seed_l(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 1, 6, 9, 12, 41);
    let d = dash(15, 1, n);
    let c = case(n, at, pryor(), L, perp(n), stated(15), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "L", c.referrer.email), "Victim L's first referral, DASH 15: accepted, new case for the meeting of 14 January 2025. Seeds the repeat scenarios.")
}

fn s_seed_w(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 1, 8, 14, 3, 5);
    let d = dash(16, 0, n);
    let c = case(n, at, akinola(), W, perp(n), stated(16), DateFmt::Iso);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "W", c.referrer.email), "Victim W's only referral in 2025 (8 January), DASH 16: accepted, new case. Seeds the 366-day scenario.")
}

fn s_l_repeat(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 1, 20, 11, 30, 0);
    let d = dash(7, 2, n);
    let reasons = Reasons { repeat: true, stated_score: Some(7), ..Reasons::default() };
    let c = case(n, at, nowak(), L, perp(1), reasons, DateFmt::Long);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "Repeat MARAC referral for L.F.: a further incident at the weekend. Referral form and DASH attached.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &SURVIVOR, &[]), dash_docx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[REPEAT], Some(&d), "new", "L", c.referrer.email), "Victim L again on 20 January 2025, DASH 7; her case was heard on 14 January (6 days ago): a repeat whatever the score, new case. This is now L's LAST referral.")
}

// ---------------------------------------------------------------------------------------------
// The threshold and the hard rules (February 2025; meeting 11 February, then 11 March).

fn s_dash13(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 3, 10, 4, 12);
    let d = dash(13, 2, n);
    let c = case(n, at, brand(), p("Demi", "Rowntree", date(1999, 4, 11)), perp(n), stated(13), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), rejected(Some(&d), Some("A"), c.referrer.email, THRESHOLD_KWS), "Boundary: DASH 13 Yes, one below the threshold of 14, no other criterion: rejected, the reason names the threshold.")
}

fn s_dash14(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 4, 15, 40, 9);
    let d = dash(14, 3, n);
    let c = case(n, at, akinola(), p("Yasmin", "Tolland", date(1992, 12, 1)), perp(n), stated(14), DateFmt::Long);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "B", c.referrer.email), "Boundary: exactly 14 Yes: visible high risk, accepted, new case.")
}

fn escalation(n: u32, slug: &str, at: Stamp, callouts: u32, victim: Person) -> (Vec<u8>, Case, Dash) {
    let d = dash(6, 4, n);
    let reasons = Reasons { escalation: true, callouts: Some(callouts), stated_score: Some(6), ..Reasons::default() };
    let c = case(n, at, pryor(), victim, perp(n), reasons, DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, c, d)
}

fn s_callouts2(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 5, 9, 55, 30);
    let (eml, c, d) = escalation(n, slug, at, 2, p("Chantelle", "Imrie", date(1996, 2, 29)));
    (eml, at, c.referrer.email.into(), rejected(Some(&d), Some("C"), c.referrer.email, &["call-out", "callout", "call out"]), "Boundary: potential escalation claimed with 2 police call-outs (threshold 3), DASH 6: rejected, the reason names the call-outs.")
}

fn s_callouts3(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 6, 13, 17, 2);
    let (eml, c, d) = escalation(n, slug, at, 3, p("Roxanne", "Pelham", date(1989, 7, 19)));
    (eml, at, c.referrer.email.into(), accepted(&[ESC], Some(&d), "new", "D", c.referrer.email), "Boundary: potential escalation with exactly 3 police call-outs, DASH 6: accepted, new case.")
}

fn s_callouts_missing(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 6, 15, 50, 11);
    let d = dash(6, 2, n);
    let reasons = Reasons { escalation: true, callouts: None, stated_score: Some(6), ..Reasons::default() };
    let c = case(n, at, brand(), p("Kayleigh", "Ormerod", date(1998, 10, 15)), perp(n), reasons, DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), rejected(Some(&d), Some("C2"), c.referrer.email, &["call-out", "callout", "call out"]), "Potential escalation ticked but the number of police call-outs left blank, DASH 6: incomplete, rejected; the reason asks for the number of call-outs.")
}

fn s_pj_without(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 7, 11, 8, 45);
    let d = dash(8, 1, n);
    let reasons = Reasons { pj: true, stated_score: Some(8), ..Reasons::default() };
    let c = case(n, at, akinola(), p("Leah", "Dunsford", date(2000, 5, 25)), perp(n), reasons, DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &KINGSMERE_CC, &[]), dash_xlsx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), rejected(Some(&d), Some("E"), c.referrer.email, &["rationale"]), "Professional judgement ticked (content-control box) with the rationale left empty, DASH 8: incomplete, rejected; the reason asks for the rationale.")
}

fn s_pj_with(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 10, 16, 20, 14);
    let d = dash(8, 2, n);
    let reasons = Reasons {
        pj: true,
        stated_score: Some(8),
        rationale: Some("She minimises what happens; he has a conviction for assaulting a previous partner and was released last week. She is terrified and has no family nearby."),
        ..Reasons::default()
    };
    let c = case(n, at, nowak(), p("Ewa", "Lisowska", date(1985, 9, 3)), perp(n), reasons, DateFmt::Long);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &SURVIVOR, &[]), dash_docx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[PJ], Some(&d), "new", "F", c.referrer.email), "Professional judgement with a written rationale, DASH 8: accepted, new case.")
}

fn s_no_identity(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 12, 10, 31, 50);
    let d = dash(16, 0, n);
    let c = case(n, at, marr(), p("Unnamed", "Victim", date(1990, 1, 1)), perp(n), stated(16), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, "MARAC referral");
    let text = body(&c.referrer, "Please find attached a MARAC referral and DASH following a disclosure at a housing appointment. DASH score 16.");
    let atts = vec![referral(&c, at, &KINGSMERE, &[KINGSMERE.v_name, KINGSMERE.v_dob]), dash_xlsx_head(&c, &d, at, false, false)];
    let eml = with_atts(&e, &text, atts);
    (eml, at, c.referrer.email.into(), rejected(Some(&d), None, c.referrer.email, &["date of birth"]), "The victim's name and date of birth are blank on the form and on the DASH (DASH 16 otherwise qualifies): rejected, the reason asks for them.")
}

fn s_no_dash(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 13, 8, 49, 3);
    let c = case(n, at, brand(), p("Shannon", "Merrick", date(1993, 6, 6)), perp(n), stated(15), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, None);
    (eml, at, c.referrer.email.into(), rejected(None, Some("G"), c.referrer.email, &["dash", "checklist"]), "Visible high risk ticked with score 15 but only the referral form is attached, no DASH: rejected, the reason says the DASH is missing.")
}

fn s_escalation_no_dash(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 13, 14, 2, 38);
    let reasons = Reasons { visible: true, stated_score: Some(15), escalation: true, callouts: Some(4), ..Reasons::default() };
    let c = case(n, at, pryor(), p("Danielle", "Upton", date(1994, 9, 21)), perp(n), reasons, DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, None);
    (eml, at, c.referrer.email.into(), accepted(&[ESC], None, "new", "G2", c.referrer.email), "Visible high risk (15) ticked but no DASH attached, AND potential escalation with 4 police call-outs: the referral qualifies on escalation alone, which needs no DASH, so it is accepted (criteria: potential escalation only); the missing DASH is noted for the coordinator. See README: a qualifying referral is never rejected for a missing document another criterion does not need.")
}

fn s_no_attachments(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 14, 12, 2, 27);
    let r = akinola();
    let mut e = env(n, slug, at, &r, "MARAC referral - TM");
    e.has_attach = false;
    let eml = e.message(text_plain(&body(&r, "Please find attached a MARAC referral and DASH for T.M., seen in A&E last night.")));
    (eml, at, r.email.into(), rejected(None, None, r.email, &["attach"]), "'Please find attached' with nothing attached: rejected, the reason asks for the attachments.")
}

// ---------------------------------------------------------------------------------------------
// Pending cases, the meeting day and the day after (meeting 11 March 2025).

fn s_h_first(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 17, 9, 5, 36);
    let d = dash(17, 1, n);
    let c = case(n, at, pryor(), H, perp(n), stated(17), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "H", c.referrer.email), "Victim H, DASH 17: accepted, new case pending until the meeting of 11 March 2025.")
}

fn s_h_linked(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 2, 24, 14, 44, 18);
    let d = dash(4, 3, n);
    let reasons = Reasons { stated_score: Some(4), ..Reasons::default() };
    let c = case(n, at, akinola(), H, perp(13), reasons, DateFmt::Long);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "A.B. attended the emergency department yesterday. I understand police have already referred; sending our referral and DASH so the MARAC has the health information.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &KINGSMERE, &[]), dash_xlsx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[], Some(&d), "linked", "H", c.referrer.email), "A second referral for H before her meeting, DASH 4 and no criterion: joins H's pending case (linked, no second case); the acknowledgement quotes the existing case reference.")
}

fn s_i_first(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 3, 3, 10, 12, 0);
    let d = dash(15, 0, n);
    let c = case(n, at, pryor(), I, perp(n), stated(15), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "I", c.referrer.email), "Victim I, DASH 15: accepted, new case on the agenda of 11 March 2025.")
}

fn s_h_form_only(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 3, 4, 9, 41, 7);
    let c = case(n, at, brand(), H, perp(13), stated(15), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "Further to DC Pryor's referral for A.B.: our referral form after last night's call-out is attached. The DASH was completed by DC Pryor.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &KINGSMERE, &[])]);
    (eml, at, c.referrer.email.into(), accepted(&[], None, "linked", "H", c.referrer.email), "H's case is still pending (meeting 11 March 2025); a further referral form claiming visible high risk with no DASH attached: it adds information to the existing case (linked) rather than being rejected for the missing DASH - the case already qualifies.")
}

fn s_i_meeting_day(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 3, 11, 8, 15, 40);
    let d = dash(9, 2, n);
    let c = case(n, at, nowak(), I, perp(15), Reasons { stated_score: Some(9), ..Reasons::default() }, DateFmt::Iso);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "Ahead of today's MARAC: our referral and DASH for K.D., with what she told us last night.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &SURVIVOR, &[]), dash_docx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[], Some(&d), "linked", "I", c.referrer.email), "Arrives ON the meeting day (Tuesday 11 March 2025) for I, whose case is on that day's agenda: the case is still pending that day, so the referral is linked to it.")
}

fn s_i_day_after(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 3, 12, 17, 2, 55);
    let d = dash(3, 5, n);
    let c = case(n, at, brand(), I, perp(15), Reasons { stated_score: Some(3), ..Reasons::default() }, DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[REPEAT], Some(&d), "new", "I", c.referrer.email), "The day after I's case was heard (12 March 2025), a further incident, DASH 3, repeat not ticked: a repeat found from the history, accepted whatever the score, new case.")
}

// ---------------------------------------------------------------------------------------------
// One person written many ways (meeting 13 May 2025): every variant joins the pending case.

#[allow(clippy::too_many_arguments)]
fn variant(n: u32, slug: &str, at: Stamp, r: Referrer, first: &'static str, last: &'static str, fmt: DateFmt, yes: u32) -> (Vec<u8>, Case, Dash) {
    let d = dash(yes, 2, n);
    let c = case(n, at, r, p(first, last, V_DOB), perp(18), Reasons { stated_score: Some(yes), visible: yes >= 14, ..Reasons::default() }, fmt);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, c, d)
}

fn s_v_first(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 4, 14, 9, 27, 13);
    let (eml, c, d) = variant(n, slug, at, akinola(), V.first, V.last, DateFmt::Slash, 16);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "V", c.referrer.email), "Victim V 'Siân Hale-Pennington', DOB 14/03/1993, DASH 16: accepted, new case pending until 13 May 2025.")
}

fn s_v_capitals(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 4, 16, 11, 3, 31);
    let (eml, c, d) = variant(n, slug, at, pryor(), "HALE-PENNINGTON", "Siân", DateFmt::Iso, 10);
    (eml, at, c.referrer.email.into(), accepted(&[], Some(&d), "linked", "V", c.referrer.email), "V written 'HALE-PENNINGTON Siân' (surname first, in capitals), DOB 1993-03-14: the same person, linked to V's case.")
}

fn s_v_middle(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 4, 22, 15, 36, 8);
    let (eml, c, d) = variant(n, slug, at, nowak(), "Siân Carys", "Hale-Pennington", DateFmt::Long, 11);
    (eml, at, c.referrer.email.into(), accepted(&[], Some(&d), "linked", "V", c.referrer.email), "V with a middle name added, 'Siân Carys Hale-Pennington', DOB '14 March 1993': the same person, linked.")
}

fn s_v_ascii(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 4, 24, 10, 50, 22);
    let (eml, c, d) = variant(n, slug, at, marr(), "Sian", "Hale-Pennington", DateFmt::DotShort, 9);
    (eml, at, c.referrer.email.into(), accepted(&[], Some(&d), "linked", "V", c.referrer.email), "V without the circumflex, 'Sian Hale-Pennington', DOB '14.3.93': the same person, linked.")
}

fn s_v_space(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 4, 28, 13, 13, 13);
    let (eml, c, d) = variant(n, slug, at, akinola(), "Siân", "Hale Pennington", DateFmt::Ordinal, 12);
    (eml, at, c.referrer.email.into(), accepted(&[], Some(&d), "linked", "V", c.referrer.email), "V with a space for the hyphen, 'Siân Hale Pennington', DOB '14th Mar 1993': the same person, linked.")
}

fn s_v_typo(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 5, 1, 9, 40, 0);
    let (eml, c, d) = variant(n, slug, at, brand(), "Siân", "Hale-Penington", DateFmt::Slash, 15);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "linked", "V", c.referrer.email), "V with a one-letter typo in the surname, 'Siân Hale-Penington', DOB 14/03/1993, DASH 15: the same person, linked to the pending case (not a second case).")
}

fn s_v_other_dob(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 5, 6, 14, 25, 51);
    let d = dash(15, 1, n);
    let c = case(n, at, nowak(), p("Siân", "Hale-Pennington", date(1991, 3, 14)), perp(n), stated(15), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &SURVIVOR, &[]), dash_docx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "V2", c.referrer.email), "The same name as V but born 14/03/1991: a different person, DASH 15, accepted as a new case (not linked to V's).")
}

fn s_v_encrypted(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 5, 8, 12, 5, 50);
    let c = case(n, at, pryor(), V, perp(18), stated(17), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "A further incident for S.H-P. last night. Referral and DASH attached; the DASH is password protected, I will phone the password through.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &KINGSMERE, &[]), dash_encrypted(&c, 0x51A7)]);
    (eml, at, c.referrer.email.into(), review(None, "V", c.referrer.email, &["encrypted", "password"]), "V's case is pending, and this further referral's DASH is password-protected: something could not be read, so a person reviews it (review comes before linking), holding reply.")
}

// ---------------------------------------------------------------------------------------------
// Duplicates (meeting 10 June 2025).

fn j_at() -> Stamp {
    stamp(2025, 5, 19, 10, 2, 44)
}

/// J's referral form (date of birth not known to the referrer) and DASH, as first sent.
fn j_case_and_atts() -> (Case, Dash, Vec<Attachment>) {
    let n = 25;
    let d = dash(16, 2, n);
    let at = j_at();
    let c = case(n, at, lloyd(), J, perp(n), stated(16), DateFmt::Slash);
    let atts = vec![referral(&c, at, &KINGSMERE, &[KINGSMERE.v_dob]), dash_xlsx_head(&c, &d, at, true, false)];
    (c, d, atts)
}

fn s_j_first(n: u32, slug: &str) -> Built {
    let (c, d, atts) = j_case_and_atts();
    let e = env(n, slug, j_at(), &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), atts);
    (eml, j_at(), c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "J", c.referrer.email), "Victim J, date of birth left blank (not known to probation), DASH 16: accepted, new case. Without a date of birth J cannot be matched by identity, so only the attachments can link a re-send.")
}

fn s_j_resent(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 5, 22, 16, 58, 3);
    let (c, d, atts) = j_case_and_atts();
    let e = env(n, slug, at, &c.referrer, &format!("RESEND: {}", subject(&c)));
    let text = body(&c.referrer, "I sent the attached referral on Monday and have not had an acknowledgement, so I am sending it again. Could you confirm it has been received?");
    let eml = with_atts(&e, &text, atts);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "linked", "J", c.referrer.email), "The same two attachments (byte for byte) re-sent in a new email with a new Message-ID: linked to J's existing case, no second case; the acknowledgement quotes its reference.")
}

fn k_message(n: u32, slug: &str) -> (Vec<u8>, Stamp, Case, Dash) {
    let at = stamp(2025, 5, 27, 9, 14, 20);
    let d = dash(14, 0, n);
    let c = case(n, at, akinola(), K, perp(n), stated(14), DateFmt::Slash);
    (referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at))), at, c, d)
}

fn s_k_first(n: u32, slug: &str) -> Built {
    let (eml, at, c, d) = k_message(n, slug);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "K", c.referrer.email), "Victim K, DASH 14: accepted, new case.")
}

fn s_k_redelivered(n: u32, _slug: &str) -> Built {
    // The message of the scenario before, delivered again 25 minutes later (the sending server
    // retried): a new topmost Received header, every other byte the same, so the same Message-ID.
    let (first, at, c, _) = k_message(n - 1, "nhs_victim_k_accept14");
    let again = at.minus_secs(-25 * 60);
    let qid = hexid(&format!("triage/{n:03}/qid"), 14);
    let received = format!(
        "Received: from mail.nhs.example.test (mail.nhs.example.test [198.51.100.77])\r\n\tby {} (Postfix) with ESMTPS id {qid}\r\n\tfor <marac@marac.example.test>; {}\r\n",
        mail::MX,
        again.rfc5322()
    );
    let end = first_field_end(&first);
    let mut eml = received.into_bytes();
    eml.extend_from_slice(&first[end..]);
    (eml, again, c.referrer.email.into(), untouched("ignored", &["message-id", "already"]), "The previous message delivered a second time (same Message-ID, new Received header): one decision, one reply; this copy is ignored, no reply.")
}

/// The byte offset just past the first header field (with its folded lines).
fn first_field_end(eml: &[u8]) -> usize {
    let mut i = 0;
    loop {
        let nl = eml[i..].windows(2).position(|w| w == b"\r\n").expect("header line ends") + i + 2;
        if !matches!(eml.get(nl), Some(b' ' | b'\t')) {
            return nl;
        }
        i = nl;
    }
}

// ---------------------------------------------------------------------------------------------
// Ignored and quarantined (June 2025).

fn s_out_of_office(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 2, 8, 0, 31);
    let r = dawes_webmail();
    let mut e = env(n, slug, at, &r, "Automatic reply: MARAC - information request");
    e.outlook = false;
    e.has_attach = false;
    e.extra = vec![
        ("Auto-Submitted".into(), "auto-replied".into()),
        ("In-Reply-To".into(), "<info-request-2025-06@marac.example.test>".into()),
    ];
    let eml = e.message(text_plain("I am away from the office until Monday 9 June with no access to email. For anything urgent please call the Family Hub on 01632 960700.\n"));
    (eml, at, r.email.into(), untouched("ignored", &["automatic", "auto-repl", "out of office"]), "Out-of-office auto-reply (Auto-Submitted: auto-replied) from a NON-allowlisted webmail address: ignored, not quarantined (ignored comes first), and never answered.")
}

fn s_dsn(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 3, 11, 22, 9);
    let mut e = Env::new(&format!("triage/{n:03}_{slug}"), at, "Mail Delivery System", "MAILER-DAEMON@mail.idva.example.test", "Undelivered Mail Returned to Sender");
    e.outlook = false;
    e.has_attach = false;
    let explain = "This is the mail system at host mail.idva.example.test.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n<former.idva@idva.example.test>: host mail.idva.example.test[198.51.100.90] said:\n    550 5.1.1 <former.idva@idva.example.test>: Recipient address rejected: User\n    unknown in virtual mailbox table\n";
    let status = format!(
        "Reporting-MTA: dns; mail.idva.example.test\nArrival-Date: {}\n\nFinal-Recipient: rfc822; former.idva@idva.example.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 Recipient address rejected\n",
        at.minus_secs(40).rfc5322()
    );
    let orig = format!(
        "From: Kingsmere MARAC <marac@marac.example.test>\nTo: former.idva@idva.example.test\nSubject: MARAC referral received - MARAC-2025-0009\nDate: {}\nMessage-ID: <acknowledgement.in-2025-00009@marac.example.test>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\n",
        at.minus_secs(45).rfc5322()
    );
    let part = |ct: &str, text: &str| Part { headers: vec![("Content-Type".into(), ct.into())], body: Body::Bytes(mail::crlf(text)) };
    let report = Part {
        headers: vec![("Content-Type".into(), format!("multipart/report; report-type=delivery-status;\r\n\tboundary=\"{}\"", e.boundary(1)))],
        body: Body::Multi {
            boundary: e.boundary(1),
            preamble: Some("This is a MIME-encapsulated message.\r\n".into()),
            parts: vec![part("text/plain; charset=us-ascii", explain), part("message/delivery-status", &status), part("text/rfc822-headers", &orig)],
        },
    };
    let eml = e.message(report);
    (eml, at, e.from_addr.clone(), untouched("ignored", &["delivery status", "bounce", "undeliver"]), "A bounce (multipart/report; report-type=delivery-status), from a server that is not on the allowlist, of a message that is not one of our replies (no reply of ours has the returned Message-ID: IN-2025-00009 was answered with a rejection, not an acknowledgement): it refers to nothing of ours, so it is ignored, never answered. Compare the last scenario.")
}

/// A complete, qualifying referral (DASH 16) from `r`, with the given authentication.
fn complete(n: u32, slug: &str, at: Stamp, r: Referrer, victim: Person, auth: Auth) -> (Vec<u8>, Case) {
    let d = dash(16, 1, n);
    let c = case(n, at, r, victim, perp(n), stated(16), DateFmt::Slash);
    let mut e = env(n, slug, at, &c.referrer, &subject(&c));
    e.auth = auth;
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &KINGSMERE, &[]), dash_xlsx(&c, &d, at)]);
    (eml, c)
}

fn s_lookalike_suffix(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 4, 10, 10, 10);
    let (eml, c) = complete(n, slug, at, akinola_suffix_lookalike(), p("Jodie", "Ransome", date(1995, 1, 30)), Auth::Pass);
    (eml, at, c.referrer.email.into(), untouched("quarantined", SENDER_KWS), "A complete referral (DASH 16) from nhs.example.test.evil.example, a look-alike that merely starts with the allowlisted domain (and passes its own SPF/DKIM/DMARC): quarantined, no reply.")
}

fn s_lookalike_prefix(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 5, 13, 45, 0);
    let (eml, c) = complete(n, slug, at, akinola_prefix_lookalike(), p("Jodie", "Ransome", date(1995, 1, 30)), Auth::Pass);
    (eml, at, c.referrer.email.into(), untouched("quarantined", SENDER_KWS), "The same referral from evilnhs.example.test, a look-alike that merely ends with the allowlisted domain: quarantined, no reply.")
}

fn s_dmarc_fail(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 9, 9, 1, 17);
    let (eml, c) = complete(n, slug, at, pryor(), p("Abigail", "Thorne", date(1991, 8, 8)), Auth::DmarcFail);
    (eml, at, c.referrer.email.into(), untouched("quarantined", &["dmarc", "authentication"]), "From an allowlisted police address, but our own server (authserv-id mx.marac.example.test) recorded dmarc=fail: quarantined, no reply.")
}

fn s_spf_dkim_fail(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 11, 15, 30, 45);
    let (eml, c) = complete(n, slug, at, marr(), p("Abigail", "Thorne", date(1991, 8, 8)), Auth::SpfDkimFail);
    (eml, at, c.referrer.email.into(), untouched("quarantined", &["spf", "dkim", "authentication"]), "From an allowlisted council address; our server recorded spf=fail and dkim=fail (dmarc=none): quarantined, no reply.")
}

fn s_foreign_fail(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 12, 10, 0, 4);
    let d = dash(15, 0, n);
    let c = case(n, at, brand(), p("Naomi", "Sefton", date(1987, 3, 22)), perp(n), stated(15), DateFmt::Slash);
    let mut e = env(n, slug, at, &c.referrer, &subject(&c));
    e.auth = Auth::PassWithForeignFail;
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &KINGSMERE, &[]), dash_xlsx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "M", c.referrer.email), "Our server's Authentication-Results passes; a second header from another authserv-id (added upstream, forgeable) says dmarc=fail and is ignored: decided normally, DASH 15 accepted.")
}

fn s_webmail_encrypted(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 16, 19, 12, 33);
    let c = case(n, at, dawes_webmail(), p("Stacey", "Wren", date(1998, 11, 2)), perp(n), stated(15), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &KINGSMERE, &[]), dash_encrypted(&c, 0x7A11)]);
    (eml, at, c.referrer.email.into(), untouched("quarantined", SENDER_KWS), "A non-allowlisted webmail sender whose DASH is password-protected: quarantined (the sender rule comes before review), no reply, not a holding reply.")
}

fn s_encrypted(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 18, 11, 45, 19);
    let c = case(n, at, pryor(), p("Maria", "Kostova", date(1992, 4, 27)), perp(n), stated(15), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "Referral and DASH for M.K. attached. The DASH is password protected; I will phone the password through.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &KINGSMERE, &[]), dash_encrypted(&c, 0x5E7E)]);
    (eml, at, c.referrer.email.into(), review(None, "N", c.referrer.email, &["encrypted", "password"]), "A secure sender; the DASH is a password-protected Excel file and nothing else on the form qualifies (visible high risk 15 claimed): cannot be decided safely, review, holding reply. Never an automatic rejection.")
}

fn s_score_disagrees(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 20, 9, 33, 2);
    let d = dash(12, 2, n);
    let c = case(n, at, brand(), p("Holly", "Gaskell", date(1996, 7, 14)), perp(n), stated(16), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), review(Some(&d), "O", c.referrer.email, &["disagree", "mismatch", "differ", "inconsistent"]), "The form states DASH score 16 and ticks visible high risk, the checklist has 12 Yes: a person must look (review, holding reply), neither accepted on the stated score nor rejected on the counted one.")
}

fn s_conflicting(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 23, 14, 6, 58);
    let d = Dash::parse("YYYYBY NYNYYY NYYNYN DNNYNN");
    let c = case(n, at, nowak(), p("Carys", "Penhaligon", date(1984, 2, 12)), perp(n), Reasons { stated_score: None, visible: true, ..Reasons::default() }, DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let marks = |_q: usize| "X";
    let sheet = xlsx::x_columns(&head(&c, true, true), &d, &marks, Some(c.perp.first), at.minus_secs(3_600));
    let atts = vec![referral(&c, at, &SURVIVOR, &[]), attach(&format!("DASH {}.xlsx", c.victim.initials()), "xlsx", None, &sheet)];
    let eml = with_atts(&e, &std_text(&c), atts);
    (eml, at, c.referrer.email.into(), review(Some(&d), "P", c.referrer.email, &["more than one answer", "conflict", "inconsistent"]), "DASH with an X under both Yes and No for question 5 (13 clear Yes, the conflicting one would make 14): review, holding reply.")
}

fn s_reply_to_secure(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 25, 10, 20, 30);
    let d = dash(15, 1, n);
    let c = case(n, at, pryor(), p("Tia", "Blakemore", date(2001, 9, 9)), perp(n), stated(15), DateFmt::Slash);
    let mut e = env(n, slug, at, &c.referrer, &subject(&c));
    e.reply_to = Some("Public Protection Unit <ppu.referrals@kingsmere.pnn.police.example.test>".into());
    e.cc = Some("DS Karen Holt <karen.holt@kingsmere.pnn.police.example.test>, Tia's IDVA <tomasz.nowak@idva.example.test>".into());
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &KINGSMERE, &[]), dash_xlsx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "Q", "ppu.referrals@kingsmere.pnn.police.example.test"), "Reply-To is the unit's allowlisted mailbox: the acknowledgement goes there only, not to From; the two Cc addresses (both allowlisted) receive nothing.")
}

fn s_reply_to_webmail(n: u32, slug: &str) -> Built {
    let at = stamp(2025, 6, 27, 16, 48, 12);
    let d = dash(14, 2, n);
    let c = case(n, at, akinola(), p("Imogen", "Staveley", date(1990, 12, 31)), perp(n), stated(14), DateFmt::Slash);
    let mut e = env(n, slug, at, &c.referrer, &subject(&c));
    e.reply_to = Some("Ruth Akinola <ruthakinola@webmail.example.test>".into());
    e.cc = Some("Safeguarding Team <safeguarding.team@nhs.example.test>".into());
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &KINGSMERE, &[]), dash_xlsx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "R", c.referrer.email), "Reply-To is a webmail address, not on the allowlist: the acknowledgement goes to the authenticated From only; the allowlisted Cc receives nothing.")
}

// ---------------------------------------------------------------------------------------------
// The repeat window a year on (January 2026; meeting 13 January, then 10 February).

fn s_w_366(n: u32, slug: &str) -> Built {
    let at = stamp(2026, 1, 9, 10, 15, 0);
    let d = dash(5, 3, n);
    let reasons = Reasons { repeat: true, stated_score: Some(5), ..Reasons::default() };
    let c = case(n, at, akinola(), W, perp(2), reasons, DateFmt::Iso);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let text = body(&c.referrer, "Repeat referral for B.C., who was discussed at MARAC last January. A further incident this week; DASH 5.");
    let eml = with_atts(&e, &text, vec![referral(&c, at, &KINGSMERE, &[]), dash_xlsx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), review(Some(&d), "W", c.referrer.email, &["repeat", "coordinator"]), "W again on 9 January 2026, 366 days after her last referral (8 January 2025): outside the 365-day repeat window, DASH 5 and no other criterion. The referrer ticked 'repeat' and the history does not confirm it: a coordinator checks (review, holding reply), exactly as for a person the history does not know, so that the reply does not tell the referrer whether the person is known (issue 12).")
}

fn s_l_364(n: u32, slug: &str) -> Built {
    let at = stamp(2026, 1, 19, 9, 58, 26);
    let d = dash(5, 2, n);
    let c = case(n, at, nowak(), p("Lorna", "FAIRWEATHER", L.dob), perp(1), Reasons { stated_score: Some(5), ..Reasons::default() }, DateFmt::Iso);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &SURVIVOR, &[]), dash_docx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[REPEAT], Some(&d), "new", "L", c.referrer.email), "L again on 19 January 2026: 364 days after her LAST referral (20 January 2025; 378 after her first), that case heard: a repeat whatever the score (DASH 5, repeat not ticked), new case.")
}

// ---------------------------------------------------------------------------------------------
// Our own mail coming back (January 2026).

fn s_t(n: u32, slug: &str) -> Built {
    let at = stamp(2026, 1, 21, 10, 2, 44);
    let d = dash(15, 1, n);
    let c = case(n, at, nowak(), p("Rosalind", "Achterberg", date(1989, 9, 3)), perp(n), stated(15), DateFmt::Slash);
    let e = env(n, slug, at, &c.referrer, &subject(&c));
    let eml = with_atts(&e, &std_text(&c), vec![referral(&c, at, &SURVIVOR, &[]), dash_docx(&c, &d, at)]);
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "T", c.referrer.email), "Victim T, DASH 15: accepted, new case; the acknowledgement queued for it comes straight back in the next scenario.")
}

fn s_u(n: u32, slug: &str) -> Built {
    let at = stamp(2026, 1, 22, 14, 11, 5);
    let d = dash(16, 0, n);
    let c = case(n, at, brand(), p("Megan", "Quilliam", date(1995, 6, 21)), perp(n), stated(16), DateFmt::Slash);
    let eml = referral_message(n, slug, at, &c, Some(dash_xlsx(&c, &d, at)));
    (eml, at, c.referrer.email.into(), accepted(&[VHR], Some(&d), "new", "U", c.referrer.email), "Victim U, DASH 16: accepted, new case; the acknowledgement queued for it bounces in the next scenario.")
}

/// The reply triage queued for an earlier scenario, as the product composes it.
struct OurReply {
    message_id: String,
    to: String,
    subject: String,
    /// The referral's own Message-ID, which the reply answers.
    in_reply_to: String,
}

/// Our reply to the scenario `slug`: its Message-ID `<kind.in-YYYY-NNNNN@marac.example.test>` from
/// our message reference (messages are numbered per year of arrival, in file order), its subject
/// from the case reference (cases are numbered per year likewise; `config/samples.toml` keeps the
/// default templates and `MARAC-{year}-{seq:4}`).
fn our_reply(previous: &[Scenario], slug: &str) -> OurReply {
    let at = previous.iter().position(|s| s.file.ends_with(&format!("_{slug}.eml"))).unwrap_or_else(|| panic!("no earlier scenario {slug}"));
    let it = &previous[at];
    let year = &it.label.arrived[..4];
    let same_year = |s: &&Scenario| s.label.arrived.starts_with(year);
    let message_ref = previous[..=at].iter().filter(same_year).count();
    let cases = previous[..=at].iter().filter(same_year).filter(|s| s.label.expect.case == "new").count();
    assert_eq!(it.label.expect.reply, "acknowledgement", "{slug}: its reply is an acknowledgement of a new case");
    assert_eq!(it.label.expect.case, "new", "{slug}: its reply is an acknowledgement of a new case");
    let head_end = it.eml.windows(4).position(|w| w == b"\r\n\r\n").expect("header block ends");
    let head = String::from_utf8_lossy(&it.eml[..head_end]);
    let in_reply_to = head.split("\r\n").find_map(|l| l.strip_prefix("Message-ID: ")).expect("the referral has a Message-ID").to_string();
    OurReply {
        message_id: format!("<acknowledgement.in-{year}-{message_ref:05}@marac.example.test>"),
        to: it.label.expect.reply_to.clone().expect("a reply address"),
        subject: format!("MARAC referral received - MARAC-{year}-{cases:04}"),
        in_reply_to,
    }
}

/// A message built by `e`, but with the given Message-ID.
fn with_message_id(e: &Env, message_id: &str, mut body: Part) -> Vec<u8> {
    let ct = body.headers.iter().position(|(n, _)| n == "Content-Type").expect("body has a Content-Type");
    let (_, ct) = body.headers.remove(ct);
    let mut headers = e.headers(ct);
    for (name, value) in headers.iter_mut() {
        if name == "Message-ID" {
            *value = message_id.to_string();
        }
    }
    headers.extend(body.headers);
    Part { headers, body: body.body }.to_bytes()
}

fn s_looped_back(n: u32, slug: &str, previous: &[Scenario]) -> Built {
    let ours = our_reply(previous, "idva_victim_t_accept15");
    let at = stamp(2026, 1, 21, 10, 3, 30);
    let mut e = Env::new(&format!("triage/{n:03}_{slug}"), at, "Kingsmere MARAC", "marac@marac.example.test", &ours.subject);
    e.outlook = false;
    e.has_attach = false;
    e.transit_secs = 40;
    e.to = ours.to.clone();
    e.extra = vec![
        ("In-Reply-To".into(), ours.in_reply_to.clone()),
        ("References".into(), ours.in_reply_to.clone()),
        ("Auto-Submitted".into(), "auto-replied".into()),
        ("X-Auto-Response-Suppress".into(), "All".into()),
        ("Resent-From".into(), "Kingsmere IDVA Service <referrals@idva.example.test>".into()),
        ("Resent-To".into(), "marac@marac.example.test".into()),
        ("Resent-Date".into(), at.minus_secs(5).rfc5322()),
    ];
    let text = "Thank you. We have received your MARAC referral; its reference is in the subject line.\n\nKingsmere MARAC\n";
    let eml = with_message_id(&e, &ours.message_id, text_plain(text));
    // Relayed by the IDVA service's server, not ours: the trace fields name it.
    let eml = String::from_utf8(eml).expect("ASCII").replace("mail.marac.example.test", "mail.idva.example.test").replace("internal.marac.example.test", "internal.idva.example.test").into_bytes();
    (eml, at, e.from_addr.clone(), untouched("ignored", &["our own reply"]), "Our acknowledgement of the previous referral, redirected straight back to the MARAC inbox by a rule on the IDVA service's shared mailbox (Resent-* fields, our Message-ID): recognised as our own reply by its Message-ID and ignored, never answered (not quarantined, though marac.example.test is not on the allowlist).")
}

fn s_bounce_of_ours(n: u32, slug: &str, previous: &[Scenario]) -> Built {
    let ours = our_reply(previous, "police_victim_u_accept16");
    let at = stamp(2026, 1, 22, 14, 12, 40);
    let gateway = "mx2.securegateway.example.test";
    let mut e = Env::new(&format!("triage/{n:03}_{slug}"), at, "Mail Delivery System", &format!("MAILER-DAEMON@{gateway}"), "Undelivered Mail Returned to Sender");
    e.outlook = false;
    e.has_attach = false;
    e.transit_secs = 20;
    let explain = format!(
        "This is the mail system at host {gateway}.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n<{to}>: host\n    relay.kingsmere.pnn.police.example.test[198.51.100.61] said: 552 5.2.2\n    <{to}>: Mailbox full (in reply to RCPT TO command)\n",
        to = ours.to
    );
    let status = format!(
        "Reporting-MTA: dns; {gateway}\nArrival-Date: {}\n\nFinal-Recipient: rfc822; {to}\nOriginal-Recipient: rfc822;{to}\nAction: failed\nStatus: 5.2.2\nRemote-MTA: dns; relay.kingsmere.pnn.police.example.test\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\n",
        at.minus_secs(60).rfc5322(),
        to = ours.to
    );
    let orig = format!(
        "From: Kingsmere MARAC <marac@marac.example.test>\nTo: {}\nSubject: {}\nMessage-ID: {}\nIn-Reply-To: {}\nReferences: {}\nDate: {}\nAuto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n",
        ours.to,
        ours.subject,
        ours.message_id,
        ours.in_reply_to,
        ours.in_reply_to,
        at.minus_secs(62).rfc5322()
    );
    let part = |ct: &str, text: &str| Part { headers: vec![("Content-Type".into(), ct.into())], body: Body::Bytes(mail::crlf(text)) };
    let report = Part {
        headers: vec![("Content-Type".into(), format!("multipart/report; report-type=delivery-status;\r\n\tboundary=\"{}\"", e.boundary(1)))],
        body: Body::Multi {
            boundary: e.boundary(1),
            preamble: Some("This is a MIME-encapsulated message.\r\n".into()),
            parts: vec![part("text/plain; charset=us-ascii", &explain), part("message/delivery-status", &status), part("text/rfc822-headers", &orig)],
        },
    };
    let eml = e.message(report);
    let expect = expect("review", &[], None, "none", None, "none", None, &["could not be delivered", "bounce"]);
    (eml, at, e.from_addr.clone(), expect, "A bounce (multipart/report, Action: failed, the returned headers in a text/rfc822-headers part) of our acknowledgement of the previous referral, from a mail gateway that is not on the allowlist: review with NO reply (never a holding reply to a bounce), the outbox row of that acknowledgement marked bounced, and the reason asks a coordinator to reach the referrer another way. Reviewed, not quarantined: bounces come from mail servers.")
}

/// A referral like [`synthetic_referral`] (DASH of `yes` Yes answers, the form stating that
/// score) whose DASH spreadsheet has no row for the first question answered Yes: the reader
/// finds 23 questions and `yes - 1` Yes answers, and the message waits for a coordinator. Returns
/// the message and the question left out (1-based).
pub fn synthetic_referral_missing_answer(n: u32, at: Stamp, yes: u32) -> (Vec<u8>, usize) {
    const FIRST: [&str; 10] = ["Amy", "Beth", "Cara", "Dana", "Erin", "Faye", "Gina", "Hana", "Iris", "Jodie"];
    const LAST: [&str; 10] = ["Abbott", "Barlow", "Carver", "Dalton", "Ellery", "Fenwick", "Garrod", "Holt", "Ingram", "Jessop"];
    let first = leak(format!("{}{}", FIRST[n as usize % 10], n / 100));
    let victim = Person { first, last: LAST[(n as usize / 10) % 10], dob: date(1960 + (n % 40) as i32, 1 + n % 12, 1 + (n / 7) % 28) };
    let c = case(n, at, pryor(), victim, perp(n), stated(yes), DateFmt::Slash);
    let d = dash(yes, 2, n);
    let left_out = 1 + d.answers.iter().position(|a| *a == Ans::Yes).expect("a Yes answer");
    let bytes = xlsx::answer_column_without(&head(&c, true, true), &d, &plain, false, at.minus_secs(7_200), Some(left_out));
    let att = attach(&format!("DASH RIC {}.xlsx", c.victim.initials()), "xlsx", None, &bytes);
    (referral_message(n, &format!("missing{n}"), at, &c, Some(att)), left_out)
}

/// A synthetic referral for benchmarks: victim number `n` (a distinct name and date of birth per
/// `n`), arriving at `at`, with a DOCX referral form and an XLSX DASH of `yes` Yes answers.
pub fn synthetic_referral(n: u32, at: Stamp, yes: u32) -> Vec<u8> {
    const FIRST: [&str; 10] = ["Amy", "Beth", "Cara", "Dana", "Erin", "Faye", "Gina", "Hana", "Iris", "Jodie"];
    const LAST: [&str; 10] = ["Abbott", "Barlow", "Carver", "Dalton", "Ellery", "Fenwick", "Garrod", "Holt", "Ingram", "Jessop"];
    let first = leak(format!("{}{}", FIRST[n as usize % 10], n / 100));
    let last = LAST[(n as usize / 10) % 10];
    let dob = date(1960 + (n % 40) as i32, 1 + n % 12, 1 + (n / 7) % 28);
    let victim = Person { first, last, dob };
    let c = case(n, at, pryor(), victim, perp(n), stated(yes), DateFmt::Slash);
    let d = dash(yes, 2, n);
    let att = dash_xlsx(&c, &d, at);
    referral_message(n, &format!("bench{n}"), at, &c, Some(att))
}

/// One referral of the SafeLives data return's tests: a Kingsmere referral form (DOCX) and a DASH
/// of 15 Yes answers (XLSX), from the police or a partner agency, whose form says what is given
/// here. Victim `n` (below 100) has a name of their own; the test chooses the rest.
#[derive(Clone, Debug)]
pub struct ReturnReferral {
    pub n: u32,
    pub at: Stamp,
    /// Sent by a police officer (else by the NHS trust's nurse or the IDVA service, by `n`).
    pub police: bool,
    /// The referring agency as written on the form ("" leaves it blank).
    pub agency: &'static str,
    /// The victim's gender as written ("" leaves it blank).
    pub gender: &'static str,
    pub victim_dob: Date,
    /// None: "Not known" is written instead of a date.
    pub perp_dob: Option<Date>,
    /// Agency type, ethnicity, sexual orientation, disability, the perpetrator's age.
    pub demographics: Demographics,
    /// Children in the household, named on the form.
    pub children: u32,
}

impl ReturnReferral {
    /// The victim the form names.
    pub fn victim(&self) -> Person {
        const FIRST: [&str; 10] = ["Abigail", "Bronwen", "Cerys", "Delyth", "Eleri", "Ffion", "Gwenllian", "Heledd", "Iola", "Jemima"];
        const LAST: [&str; 10] = ["Ashworth", "Blakemore", "Cartwright", "Drinkwater", "Entwistle", "Fairbairn", "Greenhalgh", "Hollingworth", "Illingworth", "Jagger"];
        Person { first: FIRST[self.n as usize % 10], last: LAST[(self.n as usize / 10) % 10], dob: self.victim_dob }
    }

    /// The message as the referrer sends it.
    pub fn eml(&self) -> Vec<u8> {
        let r = match (self.police, self.n % 2) {
            (true, _) => pryor(),
            (false, 0) => akinola(),
            (false, _) => nowak(),
        };
        let r = Referrer { agency: self.agency, ..r };
        let mut perpetrator = perp(self.n);
        if let Some(d) = self.perp_dob {
            perpetrator.dob = d;
        }
        let mut c = case(self.n, self.at, r, self.victim(), perpetrator, stated(15), DateFmt::Slash);
        c.gender = self.gender;
        c.demographics = Demographics { perp_dob_written: self.perp_dob.map_or(Some("Not known"), |_| None), ..self.demographics.clone() };
        const CHILDREN: [&str; 4] = ["Oliver", "Amelia", "Harry", "Isla"];
        c.children = (0..self.children as usize).map(|i| (leak(format!("{} {}", CHILDREN[i % 4], c.victim.last)), date(2015 + i as i32, 1 + i as u32, 10))).collect();
        let d = dash(15, 1, self.n);
        let att = dash_xlsx(&c, &d, self.at);
        referral_message(self.n, &format!("return{}", self.n), self.at, &c, Some(att))
    }
}
