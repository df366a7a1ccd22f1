//! The triage decision: a pure function of what was read ([`Inspection`]), what the history says
//! ([`History`]), the area's [`Config`] and the arrival date. No I/O.
//!
//! Precedence, first match wins (rule 10 stands in for the rejections of rules 7 and 9):
//! 1. `ignored` — the message's own Message-ID is one of our replies or notices: our own mail
//!    came back (forwarded, looped). No reply.
//! 2. `review` with **no** reply — a bounce (DSN) reporting a failure for one of our replies: the
//!    referrer may not have it, so a coordinator contacts them another way, and the outbox row is
//!    marked bounced (a sent row; one not yet sent is still sent, as its "bounce" was forged). Only the returned original's Message-ID (or the bounce's
//!    own In-Reply-To) marks a row; a bounce naming one of our replies only further up its thread
//!    is reviewed without marking anything. Not for a copy already processed, nor for a report
//!    that only says delivery is delayed. Before quarantine: bounces come from mail servers,
//!    which are not on the allowlist. (A bounce of a coordinators' notice is reviewed too, but
//!    never noticed again: that could loop.)
//! 3. `ignored` — auto-reply, bounce/DSN referring to nothing of ours, list mail, or a Message-ID
//!    already processed. No reply.
//!    (A message whose only sign is `X-Auto-Response-Suppress` but which carries attachments goes
//!    to `review` with no reply instead: it may be a referral sent by a system.)
//! 4. `quarantined` — sender not on the allowlist, or not proven: anything but an aligned
//!    `dmarc=pass` for the From domain recorded by the receiving server (or a trusted ARC
//!    sealer), with exactly one From (see [`crate::trust`]: fails closed). No reply.
//! 5. `review` — the content could not be read or decided safely (unreadable attachment, a
//!    contained parser panic, a limit hit, conflicting marks, an unrecognised question or a DASH
//!    read only in part, a stated score that disagrees with the checklist, an impossible date of
//!    birth, attachments in which neither a referral form nor a DASH was found). A holding reply.
//! 6. `accepted`, case `linked` — the same attachments were sent before, or the victim has a case
//!    still waiting for its meeting: the referral joins that case, whatever its score.
//! 7. `rejected` — hard grounds: no attachments; the victim's name and date of birth both found
//!    on the form and blank; a required field missing; visible high risk claimed without a DASH
//!    and no other criterion met (or no DASH where the area always requires one, unless the
//!    referral is a repeat).
//! 8. `accepted`, case `new` — no hard ground, and at least one enabled criterion met (a repeat
//!    qualifies whatever the score).
//! 9. `rejected` — no criterion met, each failed claim explained with how to fix it (a DASH score
//!    below the threshold, professional judgement without a rationale, too few call-outs, a
//!    repeat ticked with no earlier referral within the repeat window).
//! 10. `review` instead of the rejection of rule 7 or 9 whenever anything it rests on is in
//!    doubt (the failed criteria count whenever none is met, even beside a hard ground), in
//!    plain words naming fields and attachments, never values:
//!    - a document attachment in which neither form was recognised (by position and type: it
//!      may be the missing form), or, with visible high risk claimed and no DASH read, any
//!      attachment left unrecognised;
//!    - a field of the grounds read in doubt (`Referral::uncertain`): the victim's name or date
//!      of birth, a required field, or any field that could have met a criterion; and the
//!      stated DASH score beside a DASH, whatever the grounds (rule 5's check was not made);
//!    - the victim not found blank: no referral form recognised, no victim placed on it, or
//!      the name and date of birth not both found blank;
//!    - the professional judgement box not found on the form (its tick may be missed);
//!    - a repeat claimed for a person the history does not know (it may be incomplete);
//!    - an earlier referral of the same victim still waiting for a coordinator's review
//!      (`History::earlier_review`): they are decided together;
//!    - a DASH read only in part (already rule 5).
//!
//! A rejection rests only on what was read for certain: every rejection carries its typed
//! [`Ground`]s, each naming the inspection fields it rests on, and no other decision has any.
//! Never an automatic rejection when something could not be read: rules 5 and 10.
//!
//! Every `review` and `quarantined` decision carries a [`Category`] (what kind of attention it
//! needs, never its content): [`notice_category`] is what a coordinators' notice names.

use crate::config::{Config, Criterion, DashRequired};
use crate::document::ProblemKind;
use crate::inspect::{AttachmentReport, Inspection};
use crate::mime::SignalKind;
use crate::sniff::FileKind;
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Rejected,
    Review,
    Quarantined,
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Review => "review",
            Outcome::Quarantined => "quarantined",
            Outcome::Ignored => "ignored",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    Acknowledgement,
    Rejection,
    Holding,
    None,
}

impl ReplyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Acknowledgement => "acknowledgement",
            ReplyKind::Rejection => "rejection",
            ReplyKind::Holding => "holding",
            ReplyKind::None => "none",
        }
    }
}

/// What the case history says about this message and its victim, found by the store.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// A message with the same Message-ID was processed before.
    pub duplicate_message: bool,
    /// A case already holding exactly these attachments (the referrer sent them again).
    pub same_attachments_case: Option<CaseSummary>,
    /// The matched person, if any.
    pub person: Option<PersonHistory>,
    /// The message's own Message-ID is that of one of our replies or notices: it came back.
    pub own_reply: Option<OurReply>,
    /// Our replies and notices among the Message-IDs the message refers to, and how it names them.
    pub referred: Vec<(OurReply, Link)>,
    /// An earlier referral naming the same victim (matched as people are) is still waiting for
    /// a coordinator's review, or a person of the same name was recorded without a date of
    /// birth: this one is not rejected automatically.
    pub earlier_review: bool,
}

/// One message of ours in the outbox, found by its Message-ID.
#[derive(Debug, Clone, PartialEq)]
pub struct OurReply {
    pub outbox_id: i64,
    /// The outbox kind: `acknowledgement`, `rejection`, `holding` or `notice`.
    pub kind: String,
    /// Our reference for the message it answered (`IN-2026-00001`).
    pub reference: String,
}

/// How a message names one of ours (see [`crate::mime::Refers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// As the message it is about: a bounce's returned original, or its In-Reply-To.
    About,
    /// Only further up its thread (References, the returned original's In-Reply-To).
    Thread,
}

/// What kind of attention a `review` or `quarantined` decision needs: the words a coordinators'
/// notice carries instead of the reasons, which can quote content. Declared from the most to the
/// least specific: when several apply, the first is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ReplyBounced,
    /// A coordinators' notice bounced: reviewed, but never the subject of another notice.
    NoticeBounced,
    SenderNotAllowlisted,
    AuthenticationFailed,
    UnreadableAttachment,
    UnreadableMessage,
    NeedsDecision,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::ReplyBounced => "reply bounced",
            Category::NoticeBounced => "coordinators' notice bounced",
            Category::SenderNotAllowlisted => "sender not on the secure list",
            Category::AuthenticationFailed => "sender authentication failed",
            Category::UnreadableAttachment => "unreadable attachment",
            Category::UnreadableMessage => "unreadable message",
            Category::NeedsDecision => "needs a coordinator's decision",
        }
    }
}

/// The category a coordinators' notice names for this decision, if one is due: every `review`
/// and `quarantined` decision, except the review of a bounced notice (a notice about a notice
/// that cannot be delivered would only bounce again).
pub fn notice_category(d: &Decision) -> Option<Category> {
    match d.outcome {
        Outcome::Review | Outcome::Quarantined => match d.category.unwrap_or(Category::NeedsDecision) {
            Category::NoticeBounced => None,
            c => Some(c),
        },
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseSummary {
    pub reference: String,
    pub meeting_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PersonHistory {
    /// A case accepted and still waiting for its meeting.
    pub pending_case: Option<CaseSummary>,
    /// The date of the victim's last referral, and whether that case has been heard.
    pub last_referral: Option<(NaiveDate, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    New,
    Linked { reference: String },
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub criteria: Vec<Criterion>,
    pub case: CaseAction,
    /// Sentences for the referrer (rejections) and coordinators: what and how to fix.
    pub reasons: Vec<String>,
    pub reply: ReplyKind,
    /// The only addresses a reply goes to: the sender, or a Reply-To that is itself allowlisted.
    pub reply_to: Vec<String>,
    /// Why a coordinator must look: set on every `review` and `quarantined` decision.
    pub category: Option<Category>,
    /// The outbox rows this bounce reports as undelivered, marked bounced with the decision.
    pub bounced: Vec<i64>,
    /// What a rejection rests on, one ground per reason: set on every `rejected` decision, empty
    /// on every other. No ground rests on a field read in doubt (see [`Ground::rests_on`]).
    pub grounds: Vec<Ground>,
}

impl Decision {
    /// The reasons a reply to the referrer may carry: every reason but those that rest on what
    /// the history holds about the person, which are said in words that hold for anyone. A reply
    /// never tells the referrer whether the person is already known.
    pub fn reasons_for_referrer(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.reasons {
            let r = if r == READ_WITH_EARLIER { BEFORE_DECIDED } else { r.as_str() };
            if !out.iter().any(|o| o == r) {
                out.push(r.to_owned());
            }
        }
        out
    }
}

/// One ground of a rejection: a thing read for certain that the referral fails on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "ground", content = "field", rename_all = "snake_case")]
pub enum Ground {
    /// The message carries no attachment at all.
    NoAttachments,
    /// The victim's name and date of birth were found on the form, and both are blank.
    VictimMissing,
    /// A field of `threshold.required_fields` is missing from the referral form.
    RequiredField(String),
    /// No DASH was read where one is needed, and every document attachment was recognised.
    DashMissing,
    /// A DASH read in full scores below the threshold (and no other criterion is met).
    BelowThreshold,
    /// Professional judgement ticked without a rationale (and no other criterion is met).
    PjWithoutRationale,
    /// Potential escalation claimed with too few call-outs, or none given (and no other
    /// criterion is met).
    TooFewCallouts,
    /// Repeat ticked, and the history has no earlier referral within the window (and no other
    /// criterion is met).
    RepeatNotFound,
    /// No criterion is claimed or met.
    NoCriterion,
}

/// The referral form's fields a "no criterion met" rejection rests on: any of them read in
/// doubt could have met a criterion.
pub const CRITERION_FIELDS: &[&str] = &[
    "reason.visible_high_risk",
    "reason.professional_judgement",
    "reason.potential_escalation",
    "reason.repeat",
    "stated_dash_score",
    "police_callouts",
    "professional_judgement_rationale",
];

impl Ground {
    /// The inspection fields this ground was concluded from: referral form keys (as in
    /// `inspect --json`), `dash` (the checklist read) and `attachments` (what each attachment was
    /// recognised as).
    pub fn rests_on(&self) -> Vec<&str> {
        let criteria = CRITERION_FIELDS.iter().copied();
        match self {
            Ground::NoAttachments => vec!["attachments"],
            Ground::VictimMissing => vec!["victim.name", "victim.dob"],
            Ground::RequiredField(key) => vec![key.as_str()],
            // Needed because visible high risk is claimed and nothing else is met.
            Ground::DashMissing => ["dash", "attachments"].into_iter().chain(criteria).collect(),
            Ground::BelowThreshold => std::iter::once("dash").chain(criteria).collect(),
            Ground::PjWithoutRationale | Ground::TooFewCallouts | Ground::RepeatNotFound | Ground::NoCriterion => criteria.collect(),
        }
    }

    /// Whether this ground is one of rule 9's failed criteria.
    pub fn is_criterion(&self) -> bool {
        matches!(self, Ground::BelowThreshold | Ground::PjWithoutRationale | Ground::TooFewCallouts | Ground::RepeatNotFound | Ground::NoCriterion)
    }
}

/// The decision for one message arriving on `arrived`.
pub fn decide(i: &Inspection, h: &History, c: &Config, arrived: NaiveDate) -> Decision {
    let done = |outcome, reasons: Vec<String>| Decision {
        outcome,
        criteria: Vec::new(),
        case: CaseAction::None,
        reasons,
        reply: ReplyKind::None,
        reply_to: Vec::new(),
        category: None,
        bounced: Vec::new(),
        grounds: Vec::new(),
    };
    let flag = |outcome, found: Vec<(Category, String)>| Decision {
        category: found.iter().map(|f| f.0).min(),
        ..done(outcome, found.into_iter().map(|f| f.1).collect())
    };

    // 1. our own mail came back
    if let Some(r) = &h.own_reply {
        return done(Outcome::Ignored, vec![format!("our own reply came back (reference {}, {}): it is never answered", r.reference, kind_phrase(&r.kind))]);
    }
    // 2. a bounce of one of our replies
    if let Some(d) = bounce(i, h) {
        return d;
    }

    // 3. ignored
    let mut why: Vec<String> = i
        .signals
        .iter()
        .map(|s| match s.kind {
            SignalKind::AutoReply => format!("automatic reply ({})", s.evidence),
            SignalKind::Dsn => format!("delivery status notification ({})", s.evidence),
            SignalKind::List => format!("mailing-list or bulk mail ({})", s.evidence),
        })
        .collect();
    if h.duplicate_message {
        why.push("the same message (same Message-ID) was already processed".into());
    }
    // X-Auto-Response-Suppress asks us not to answer automatically; on its own it does not make
    // a message an auto-reply. With attachments it may be a genuine referral sent by a system:
    // a person decides, and nothing is sent.
    let only_suppress = !h.duplicate_message && !i.signals.is_empty() && i.signals.iter().all(|s| s.evidence.starts_with("X-Auto-Response-Suppress"));
    if only_suppress && !i.attachments.is_empty() {
        let quarantine = quarantine_reasons(i, c);
        if !quarantine.is_empty() {
            return flag(Outcome::Quarantined, quarantine);
        }
        let mut found: Vec<(Category, String)> = why.into_iter().map(|w| (Category::NeedsDecision, w)).collect();
        found.push((Category::NeedsDecision, "the message asks not to be answered automatically but carries attachments: a coordinator decides, and no automatic reply is sent".into()));
        return flag(Outcome::Review, found);
    }
    if !why.is_empty() {
        return done(Outcome::Ignored, why);
    }

    // 4. quarantined
    let quarantine = quarantine_reasons(i, c);
    if !quarantine.is_empty() {
        return flag(Outcome::Quarantined, quarantine);
    }
    let reply_to = reply_address(i, c);
    let with_reply = |mut d: Decision, kind| {
        d.reply = kind;
        d.reply_to = reply_to.clone();
        d
    };

    // 5. review
    let review = review_reasons(i);
    if !review.is_empty() {
        return with_reply(flag(Outcome::Review, review), ReplyKind::Holding);
    }

    let dash = i.dash.as_ref();
    let met = criteria_met(i, h, c, arrived);

    // 6. linked
    let linked = h
        .same_attachments_case
        .as_ref()
        .map(|cs| (cs, "the same attachments were received before"))
        .or_else(|| h.person.as_ref().and_then(|p| p.pending_case.as_ref()).map(|cs| (cs, "this person already has a case waiting for its meeting")));
    if let Some((case, why)) = linked {
        let mut d = done(Outcome::Accepted, vec![format!("{why}: linked to case {}", case.reference)]);
        d.criteria = met.iter().map(|m| m.0).collect();
        d.case = CaseAction::Linked { reference: case.reference.clone() };
        return with_reply(d, ReplyKind::Acknowledgement);
    }

    // 7–9. What a rejection would rest on. The hard grounds come first (rule 7); with none, a
    // referral meeting a criterion is accepted (rule 8); otherwise the failed criteria are the
    // grounds (rule 9). Whatever puts any of them in doubt makes the referral a review item.
    let hard = hard_grounds(i, c, &met);
    if hard.is_empty() && !met.is_empty() {
        // 8. accepted
        let mut reasons: Vec<String> = met.iter().map(|m| m.1.clone()).collect();
        if dash.is_none() && vhr_claimed(i, c) {
            reasons.push("note: visible high risk is claimed but no DASH was attached; accepted on the criteria above, please ask the referrer for the DASH".to_owned());
        }
        let mut d = done(Outcome::Accepted, reasons);
        d.criteria = met.iter().map(|m| m.0).collect();
        d.case = CaseAction::New;
        return with_reply(d, ReplyKind::Acknowledgement);
    }
    // The failed criteria are in question whenever none is met, even beside a hard ground: a
    // doubt about them (a field read in doubt, a repeat the history may not know) is a doubt
    // about the decision, so no mutation that only adds doubt turns a review into a rejection.
    let failed = if met.is_empty() { criterion_grounds(i, c) } else { Vec::new() };
    let considered: Vec<Ground> = hard.iter().chain(&failed).map(|g| g.0.clone()).collect();
    let doubt = doubts(i, h, c, &considered);
    if !doubt.is_empty() {
        return with_reply(flag(Outcome::Review, doubt), ReplyKind::Holding);
    }
    let chosen = if hard.is_empty() { failed } else { hard };
    let (grounds, reasons): (Vec<Ground>, Vec<String>) = chosen.into_iter().unzip();
    let mut d = done(Outcome::Rejected, reasons);
    d.grounds = grounds;
    with_reply(d, ReplyKind::Rejection)
}

/// Whether the form claims visible high risk: the box ticked, or a stated score at or above the
/// threshold.
fn vhr_claimed(i: &Inspection, c: &Config) -> bool {
    let r = i.referral.as_ref();
    let ticked = r.and_then(|r| r.reasons.get("visible_high_risk")).copied().unwrap_or(false);
    ticked || r.and_then(|r| r.stated_dash_score).is_some_and(|s| s >= u32::from(c.file.threshold.dash_score))
}

/// A field's value as read, when something was written in it.
fn read<'a>(i: &'a Inspection, key: &str) -> Option<&'a str> {
    i.referral.as_ref().and_then(|r| r.get(key)).map(str::trim).filter(|v| !v.is_empty())
}

/// Rule 7: the hard grounds, each with the sentence that tells the referrer how to fix it.
fn hard_grounds(i: &Inspection, c: &Config, met: &[(Criterion, String)]) -> Vec<(Ground, String)> {
    let t = &c.file.threshold;
    let referral = i.referral.as_ref();
    let mut hard = Vec::new();
    if i.attachments.is_empty() {
        hard.push((Ground::NoAttachments, "no attachments were received: please attach the completed MARAC referral form and the DASH risk checklist to your email".to_owned()));
        return hard;
    }
    let has_dob = referral.is_some_and(|r| r.victim_dob.is_some());
    if read(i, "victim.name").is_none() && !has_dob {
        hard.push((
            Ground::VictimMissing,
            "we cannot tell who the victim is: the victim's name and date of birth are blank on the referral form; please fill in the victim's name and date of birth and send the referral again".to_owned(),
        ));
    }
    for f in &t.required_fields {
        let present = match f.as_str() {
            "victim.dob" => has_dob,
            "perpetrator.dob" => referral.is_some_and(|r| r.perpetrator_dob.is_some()),
            "stated_dash_score" => referral.is_some_and(|r| r.stated_dash_score.is_some()),
            "police_callouts" => referral.is_some_and(|r| r.police_callouts.is_some()),
            k if k.starts_with("reason.") => referral.is_some_and(|r| r.reasons.contains_key(k.trim_start_matches("reason."))),
            k => read(i, k).is_some(),
        };
        if !present {
            hard.push((Ground::RequiredField(f.clone()), format!("the referral form has no \"{}\": please fill it in and send the referral again", field_name(f))));
        }
    }
    let vhr = vhr_claimed(i, c);
    let repeat = met.iter().any(|m| m.0 == Criterion::Repeat);
    // Claimed visible high risk rests on the DASH; a referral that meets another criterion
    // (professional judgement, escalation, a repeat) does not, so it is not rejected for the
    // missing checklist: the coordinator is told instead (rule 8).
    let dash_needed = match t.dash_required {
        DashRequired::Always => true,
        DashRequired::WhenVisibleHighRisk => vhr && met.is_empty(),
    };
    if dash_needed && i.dash.is_none() && !repeat {
        hard.push((
            Ground::DashMissing,
            if vhr {
                "the DASH risk checklist is missing: the referral claims visible high risk but no completed DASH was attached; please attach the completed DASH RIC".to_owned()
            } else {
                "the DASH risk checklist is missing: this MARAC needs a completed DASH RIC with every referral; please attach it".to_owned()
            },
        ));
    }
    hard
}

/// Rule 9: no criterion is met; each failed claim explained with how to fix it.
fn criterion_grounds(i: &Inspection, c: &Config) -> Vec<(Ground, String)> {
    let t = &c.file.threshold;
    let referral = i.referral.as_ref();
    let ticked = |k: &str| referral.and_then(|r| r.reasons.get(k)).copied().unwrap_or(false);
    let mut out = Vec::new();
    if let Some(d) = &i.dash {
        out.push((
            Ground::BelowThreshold,
            format!(
                "the DASH score is {} Yes answers, below this MARAC's threshold of {} for visible high risk: if you have serious concerns, tick professional judgement and give your rationale",
                d.yes, t.dash_score
            ),
        ));
    }
    if ticked("professional_judgement") && c.enabled(Criterion::ProfessionalJudgement) {
        out.push((Ground::PjWithoutRationale, "professional judgement is ticked but no rationale was given: please explain your concerns in the rationale box".to_owned()));
    }
    if ticked("potential_escalation") && c.enabled(Criterion::PotentialEscalation) {
        out.push((
            Ground::TooFewCallouts,
            match referral.and_then(|r| r.police_callouts) {
                Some(n) => format!(
                    "potential escalation is claimed with {n} police call-outs in the last 12 months; the threshold is {}: please check the number",
                    t.escalation_callouts
                ),
                None => format!(
                    "potential escalation is claimed but the number of police call-outs in the last 12 months is missing (the threshold is {}): please add it",
                    t.escalation_callouts
                ),
            },
        ));
    }
    if ticked("repeat") && c.enabled(Criterion::Repeat) {
        // Worded the same whether the person is unknown or was last referred too long ago, so
        // the reply says nothing about the history the referrer did not already state.
        out.push((
            Ground::RepeatNotFound,
            format!(
                "repeat MARAC is ticked, but no earlier referral of this person to this MARAC within the last {} days was found, so this referral has to meet another criterion on its own: if the person was referred before under another name or date of birth, please tell us in your reply",
                t.repeat_window_days
            ),
        ));
    }
    if out.is_empty() {
        out.push((
            Ground::NoCriterion,
            format!(
                "no referral criterion is met: a DASH score of {} or more, professional judgement with a rationale, or {} or more police call-outs in 12 months",
                t.dash_score, t.escalation_callouts
            ),
        ));
    }
    out
}

/// A claimed repeat that the history does not confirm: said whatever the history holds.
const REPEAT_TO_CHECK: &str = "repeat MARAC is ticked: a coordinator will check it against the earlier cases before this referral is decided";
/// An earlier referral of the same victim waits for a coordinator. For coordinators only: a
/// reply to the referrer says [`BEFORE_DECIDED`] instead (see [`Decision::reasons_for_referrer`]).
const READ_WITH_EARLIER: &str = "a coordinator will read this referral together with the referrals of the same person already received before it is decided";
/// What the referrer reads in place of a reason that rests on the history.
const BEFORE_DECIDED: &str = "a coordinator will read this referral before it is decided";

/// Everything that puts a would-be rejection on these grounds in doubt, each in plain words for
/// the referrer and the coordinator (fields and attachments by name and position, never a value).
/// Empty when the rejection rests only on what was read for certain.
fn doubts(i: &Inspection, h: &History, c: &Config, grounds: &[Ground]) -> Vec<(Category, String)> {
    let mut out: Vec<String> = Vec::new();
    // Nothing was attached: nothing was read, so nothing can have been misread.
    if grounds.is_empty() || grounds.contains(&Ground::NoAttachments) {
        return Vec::new();
    }
    let has = |g: &Ground| grounds.contains(g);
    let vhr_without_dash = i.dash.is_none() && vhr_claimed(i, c);

    // Attachments in which neither form was recognised: one of them may be the missing form. With
    // visible high risk claimed and no DASH read, any attachment may be the checklist.
    for a in &i.attachments {
        let document = DOCUMENT_KINDS.contains(&a.kind);
        let logo = a.inline && a.kind == FileKind::Image;
        if a.recognised.is_empty() && (document || (vhr_without_dash && !logo)) {
            out.push(unrecognised_sentence(a));
        }
    }
    if vhr_without_dash && !out.is_empty() {
        out.push("visible high risk is claimed but no DASH checklist was read: a coordinator will check whether an attachment is the checklist".to_owned());
    }
    if has(&Ground::DashMissing) && partial_dash(i) {
        out.push("an attachment looks like a DASH checklist but could not be read in full: a coordinator will read it".to_owned());
    }
    if has(&Ground::BelowThreshold) && i.dash.as_ref().is_some_and(|d| d.problems.iter().any(|p| p.kind.blocks_automatic_decision())) {
        out.push("the DASH checklist could not be read in full, so its score is not certain: a coordinator will read it".to_owned());
    }

    match i.referral.as_ref() {
        // Every ground but "no attachments" reads the form, or reads it as claiming nothing else.
        None => out.push(
            "no MARAC referral form was recognised in the attachments, so the victim's details and the reasons for referral could not be found: a coordinator will read it".to_owned(),
        ),
        Some(r) => {
            // Fields read in doubt, named (never their values).
            let mut uncertain: std::collections::BTreeSet<&str> =
                grounds.iter().flat_map(Ground::rests_on).filter(|f| r.uncertain.contains(*f)).collect();
            // The stated score is the check on the DASH's count (rule 5) that every later rule
            // relies on: read in doubt beside a DASH, that check was not made, so no rejection
            // goes out (an acceptance still may).
            if i.dash.is_some() && r.uncertain.contains("stated_dash_score") {
                uncertain.insert("stated_dash_score");
            }
            if !uncertain.is_empty() {
                let names: Vec<String> = uncertain.iter().map(|f| field_words(f)).collect();
                out.push(format!("the referral form's {} could not be read for certain: a coordinator will read it", names.join(", ")));
            }
            // The victim: a rejection asks for the name and date of birth only when both were
            // found on the form and are blank.
            let victim_in_doubt = ["victim.name", "victim.dob"].iter().any(|k| r.uncertain.contains(*k));
            let victim_blank = ["victim.name", "victim.dob"].iter().all(|k| r.blank.contains(*k));
            let victim_field_required = grounds.iter().any(|g| matches!(g, Ground::RequiredField(k) if k.starts_with("victim.")));
            if !victim_in_doubt && ((has(&Ground::VictimMissing) && !victim_blank) || (victim_field_required && !r.victim_placed())) {
                out.push("the victim's details could not be found on the referral form: a coordinator will read it".to_owned());
            }
            if grounds.iter().any(Ground::is_criterion) {
                let known = |k: &str| r.reasons.contains_key(k) || r.blank.contains(&format!("reason.{k}")) || r.uncertain.contains(&format!("reason.{k}"));
                // "No rationale" is certain only where the rationale box was found and is blank:
                // a box the reader did not find may hold one (a layout it does not know).
                if has(&Ground::PjWithoutRationale) && !r.blank.contains("professional_judgement_rationale") && !r.fields.contains_key("professional_judgement_rationale") {
                    out.push("the professional judgement rationale box could not be found on the referral form, so whether a rationale was given is not certain: a coordinator will read it".to_owned());
                }
                if c.enabled(Criterion::ProfessionalJudgement) && !known("professional_judgement") {
                    out.push("the professional judgement box could not be found on the referral form, so the reasons for referral are not certain: a coordinator will read it".to_owned());
                }
                // A repeat claimed but not found may be a gap in the history (not yet imported,
                // a name written differently): a person checks. Whatever the history holds, so
                // that neither the outcome nor the words tell the referrer whether the person
                // is known (a rejection here for a known person and a review for an unknown
                // one would answer that question).
                if has(&Ground::RepeatNotFound) {
                    out.push(REPEAT_TO_CHECK.to_owned());
                }
            }
        }
    }
    // An earlier referral of this victim waits for a coordinator: the two are decided together.
    // Worded so that the holding reply says nothing of who is known.
    if h.earlier_review {
        out.push(READ_WITH_EARLIER.to_owned());
    }
    let mut seen = std::collections::BTreeSet::new();
    out.into_iter().filter(|s| seen.insert(s.clone())).map(|s| (Category::NeedsDecision, s)).collect()
}

/// An attachment in which neither form was recognised, by position and detected type, and what
/// to send instead.
fn unrecognised_sentence(a: &AttachmentReport) -> String {
    format!(
        "attachment {} ({}) could not be recognised as a MARAC referral form or a DASH checklist: a coordinator will read it; if it is a scan, please send the completed forms as Word or PDF files",
        a.at,
        kind_phrase_of(a.kind)
    )
}

/// Whether something looks like a DASH that was not read in full: a question or answer the DASH
/// recogniser could not place, wherever it is reported.
fn partial_dash(i: &Inspection) -> bool {
    i.problems.iter().any(|p| p.problem.kind == ProblemKind::Unrecognised)
        || i.dash.as_ref().is_some_and(|d| d.problems.iter().any(|p| p.kind == ProblemKind::Unrecognised))
}

/// A field key as a sentence names it ("victim.dob" → "victim's date of birth").
fn field_words(key: &str) -> String {
    match key {
        "victim.name" => "victim's name".into(),
        "victim.dob" => "victim's date of birth".into(),
        "perpetrator.name" => "perpetrator's name".into(),
        "perpetrator.dob" => "perpetrator's date of birth".into(),
        "stated_dash_score" => "stated DASH score".into(),
        "police_callouts" => "number of police call-outs".into(),
        "professional_judgement_rationale" => "professional judgement rationale".into(),
        k if k.starts_with("reason.") => format!("{} box", field_name(k.trim_start_matches("reason."))),
        k => format!("\"{}\"", field_name(k)),
    }
}

/// An attachment's detected type as a sentence names it (never its file name).
fn kind_phrase_of(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Pdf => "a PDF",
        FileKind::Docx => "a Word document",
        FileKind::Doc => "a Word 97-2003 document",
        FileKind::Xlsx | FileKind::Xls => "an Excel workbook",
        FileKind::Xlsb => "an Excel binary workbook",
        FileKind::Ods => "an OpenDocument spreadsheet",
        FileKind::Odt => "an OpenDocument text document",
        FileKind::EncryptedOffice => "a password-protected Office document",
        FileKind::Tnef => "an Outlook winmail.dat file",
        FileKind::Zip => "a zip archive",
        FileKind::Cfb => "an Office compound file",
        FileKind::Image => "an image",
        FileKind::Text => "a text file",
        FileKind::Unknown => "a file of unknown type",
    }
}

fn field_name(key: &str) -> String {
    key.replace(['.', '_'], " ")
}

/// Rule 2: a bounce reporting that one of our replies (or notices) could not be delivered.
fn bounce(i: &Inspection, h: &History) -> Option<Decision> {
    let dsn = i.signals.iter().any(|s| s.kind == SignalKind::Dsn);
    if !dsn || h.duplicate_message || !i.refers.reports_failure() || h.referred.is_empty() {
        return None;
    }
    let about: Vec<&OurReply> = h.referred.iter().filter(|(_, l)| *l == Link::About).map(|(r, _)| r).collect();
    let (reasons, bounced): (Vec<String>, Vec<i64>) = if about.is_empty() {
        let reasons = h
            .referred
            .iter()
            .map(|(r, _)| format!(
                "a delivery failure report names a reply of ours (reference {}, {}) only further up its thread: the message that could not be delivered was not that reply; please check whether the referrer was reached",
                r.reference,
                kind_phrase(&r.kind)
            ))
            .collect();
        (reasons, Vec::new())
    } else {
        let reasons = about
            .iter()
            .map(|r| if r.kind == "notice" {
                format!("a notice we sent to the coordinators' address (reference {}) could not be delivered: please check smtp.coordinators_notice_to", r.reference)
            } else {
                format!(
                    "a reply we sent (reference {}, {}) could not be delivered: the referrer may not have received it; please contact them another way",
                    r.reference,
                    kind_phrase(&r.kind)
                )
            })
            .collect();
        (reasons, about.iter().map(|r| r.outbox_id).collect())
    };
    let named: Vec<&OurReply> = if about.is_empty() { h.referred.iter().map(|(r, _)| r).collect() } else { about };
    let only_notices = named.iter().all(|r| r.kind == "notice");
    Some(Decision {
        outcome: Outcome::Review,
        criteria: Vec::new(),
        case: CaseAction::None,
        reasons,
        reply: ReplyKind::None,
        reply_to: Vec::new(),
        category: Some(if only_notices { Category::NoticeBounced } else { Category::ReplyBounced }),
        bounced,
        grounds: Vec::new(),
    })
}

/// An outbox kind as a sentence names it.
fn kind_phrase(kind: &str) -> &'static str {
    match kind {
        "acknowledgement" => "an acknowledgement",
        "rejection" => "a rejection",
        "holding" => "a holding reply",
        "notice" => "a coordinators' notice",
        _ => "a reply",
    }
}

fn quarantine_reasons(i: &Inspection, c: &Config) -> Vec<(Category, String)> {
    let mut out = Vec::new();
    let env = &i.envelope;
    let sender = Category::SenderNotAllowlisted;
    match &env.from {
        None => out.push((sender, "the message has no From address".to_owned())),
        Some(from) if !c.allowlist.allows(&from.address) => out.push((
            sender,
            format!("the sender's domain ({}) is not on the secure-sender allowlist", from.domain().unwrap_or_else(|| "none".into())),
        )),
        Some(_) => {}
    }
    if let Some(s) = &env.sender {
        if env.from.as_ref().is_some_and(|f| !f.address.eq_ignore_ascii_case(&s.address)) && !c.allowlist.allows(&s.address) {
            out.push((sender, "the Sender header names an address that is not on the secure-sender allowlist".to_owned()));
        }
    }
    // Fail closed: only proof of the sender counts (see `crate::trust`).
    if let Err(why) = crate::trust::verify(env, &c.file.senders) {
        out.push((Category::AuthenticationFailed, why.0));
    }
    out
}

/// The From (proven by `quarantine_reasons` before any reply is due), or a Reply-To that is
/// allowlisted and in the same organisation's domain as the From. Never a Cc, never another
/// organisation: a forged From with a Reply-To elsewhere would otherwise learn about a case.
fn reply_address(i: &Inspection, c: &Config) -> Vec<String> {
    let env = &i.envelope;
    let Some(from) = env.from.as_ref().filter(|f| c.allowlist.allows(&f.address)) else { return Vec::new() };
    if let Some(rt) = env.reply_to.iter().find(|m| c.allowlist.allows(&m.address) && crate::trust::same_organisation(&from.address, &m.address, &c.allowlist)) {
        return vec![rt.address.to_ascii_lowercase()];
    }
    vec![from.address.to_ascii_lowercase()]
}

const DOCUMENT_KINDS: &[FileKind] = &[
    FileKind::Pdf,
    FileKind::Docx,
    FileKind::Xlsx,
    FileKind::Xlsb,
    FileKind::Xls,
    FileKind::Ods,
    FileKind::Odt,
    FileKind::Doc,
    FileKind::EncryptedOffice,
    FileKind::Tnef,
    FileKind::Zip,
    FileKind::Cfb,
];

fn review_reasons(i: &Inspection) -> Vec<(Category, String)> {
    let mut out = Vec::new();
    for p in &i.problems {
        if !p.problem.kind.blocks_automatic_decision() {
            continue;
        }
        let relevant = if let Some(at) = p.at.strip_prefix("attachment ") {
            // A document that could not be read stops the decision, and so does an image sent as an
            // attachment (a photographed form); an inline logo never reaches here.
            i.attachments.iter().find(|a| a.at == at).is_none_or(|a| DOCUMENT_KINDS.contains(&a.kind) || a.kind == FileKind::Image)
        } else {
            true
        };
        if relevant {
            let unreadable = matches!(
                p.problem.kind,
                ProblemKind::Encrypted
                    | ProblemKind::Scanned
                    | ProblemKind::Corrupt
                    | ProblemKind::Truncated
                    | ProblemKind::LimitExceeded
                    | ProblemKind::Unsupported
                    | ProblemKind::ParserPanic
                    | ProblemKind::Timeout
            );
            let category = match p.at.as_str() {
                _ if !unreadable => Category::NeedsDecision,
                at if at.starts_with("attachment ") => Category::UnreadableAttachment,
                "message" => Category::UnreadableMessage,
                _ => Category::NeedsDecision,
            };
            let what = match p.at.strip_prefix("attachment ").and_then(|at| i.attachments.iter().find(|a| a.at == at)) {
                Some(a) => format!("{} ({})", p.at, kind_phrase_of(a.kind)),
                None => p.at.clone(),
            };
            out.push((category, format!("{what}: {}", kind_sentence(p.problem.kind, &p.problem.detail))));
        }
    }
    if let Some(r) = &i.referral {
        if r.problems.iter().any(|p| p.kind == ProblemKind::InvalidDate && p.detail.starts_with("victim.dob")) {
            out.push((Category::NeedsDecision, "the victim's date of birth cannot be read as a real date".into()));
        }
    }
    if let Some(d) = &i.dash {
        let stated = i.referral.as_ref().and_then(|r| r.stated_dash_score).into_iter().chain(d.stated_total);
        for s in stated {
            if s != u32::from(d.yes) {
                out.push((Category::NeedsDecision, format!("the DASH score stated on the form ({s}) disagrees with the checklist, which has {} Yes answers", d.yes)));
                break;
            }
        }
    }
    let documents = i.attachments.iter().filter(|a| DOCUMENT_KINDS.contains(&a.kind)).count();
    let images = i.attachments.iter().filter(|a| a.kind == FileKind::Image).count();
    if out.is_empty() && !i.attachments.is_empty() && i.dash.is_none() && i.referral.is_none() {
        if documents == 0 && images > 0 {
            out.push((Category::UnreadableAttachment, "only images were attached: the forms may be scanned and need a person to read them".to_owned()));
        } else {
            out.push((Category::NeedsDecision, "neither a MARAC referral form nor a DASH checklist was recognised in the attachments: a coordinator will read them".to_owned()));
            out.extend(i.attachments.iter().filter(|a| DOCUMENT_KINDS.contains(&a.kind)).map(|a| (Category::NeedsDecision, unrecognised_sentence(a))));
        }
    }
    out
}

fn kind_sentence(kind: ProblemKind, detail: &str) -> String {
    let what = match kind {
        ProblemKind::Encrypted => "password-protected or encrypted",
        ProblemKind::Scanned => "a scanned image with no text",
        ProblemKind::Corrupt => "damaged or unreadable",
        ProblemKind::Truncated => "damaged or unreadable (the file is cut short)",
        ProblemKind::LimitExceeded => "too large or too complex to read safely",
        ProblemKind::Unsupported => "in a format that cannot be read",
        ProblemKind::ParserPanic => "unreadable (the reader failed)",
        ProblemKind::Timeout => "too slow to read",
        ProblemKind::Unrecognised => "not fully recognised",
        ProblemKind::ConflictingMarks => "marked inconsistently",
        ProblemKind::InvalidDate => "holding an impossible date",
        ProblemKind::ScoreMismatch => "inconsistent",
        ProblemKind::Uncertain => "not certain (left blank)",
    };
    format!("{what} ({detail})")
}

/// The enabled criteria this referral meets, each with its explanation.
fn criteria_met(i: &Inspection, h: &History, c: &Config, arrived: NaiveDate) -> Vec<(Criterion, String)> {
    let t = &c.file.threshold;
    let mut met = Vec::new();
    let referral = i.referral.as_ref();
    if let Some(d) = &i.dash {
        if c.enabled(Criterion::VisibleHighRisk) && d.yes >= t.dash_score {
            met.push((Criterion::VisibleHighRisk, format!("visible high risk: {} Yes answers on the DASH (threshold {})", d.yes, t.dash_score)));
        }
    }
    let pj_ticked = referral.and_then(|r| r.reasons.get("professional_judgement")).copied().unwrap_or(false);
    let rationale = referral.and_then(|r| r.get("professional_judgement_rationale")).map(str::trim).filter(|s| s.chars().filter(|c| c.is_alphabetic()).count() >= 10);
    if c.enabled(Criterion::ProfessionalJudgement) && pj_ticked && rationale.is_some() {
        met.push((Criterion::ProfessionalJudgement, "professional judgement, with a rationale".to_owned()));
    }
    if let Some(n) = referral.and_then(|r| r.police_callouts) {
        if c.enabled(Criterion::PotentialEscalation) && n >= t.escalation_callouts {
            met.push((Criterion::PotentialEscalation, format!("potential escalation: {n} police call-outs in the last 12 months (threshold {})", t.escalation_callouts)));
        }
    }
    if let Some((last, heard)) = h.person.as_ref().and_then(|p| p.last_referral) {
        let days = (arrived - last).num_days();
        if c.enabled(Criterion::Repeat) && heard && (0..=i64::from(t.repeat_window_days)).contains(&days) {
            met.push((Criterion::Repeat, format!("repeat: last referred {days} days ago (window {} days)", t.repeat_window_days)));
        }
    }
    met
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::inspect::{AttachmentReport, Inspection, Outcome as ReadOutcome};
    use crate::mime::{Envelope, Mailbox};
    use crate::recognise::dash::Dash;
    use crate::recognise::referral::Referral;
    use proptest::prelude::*;

    fn config(threshold: u8, callouts: u32) -> Config {
        config_with(threshold, callouts, "")
    }

    /// `config` with more `[threshold]` keys (`extra`, TOML lines).
    fn config_with(threshold: u8, callouts: u32, extra: &str) -> Config {
        let text = format!(
            "area = \"T\"\n[threshold]\ndash_score = {threshold}\nescalation_callouts = {callouts}\n{extra}\n\
             [senders]\nallow = [\"*.pnn.police.example.test\"]\ntrusted_authserv_id = \"mx.example.test\"\n\
             [schedule]\nkind = \"weekly\"\nweekday = \"tue\"\n[replies]\nfrom = \"marac@example.test\"\n"
        );
        parse(&text, Vec::new()).unwrap().build().unwrap()
    }

    /// A referral from a secure sender: a form (attachment 1) naming the victim, with its four
    /// reason boxes found (professional judgement ticked when `pj` is given), and a DASH
    /// (attachment 2) with `yes` Yes answers.
    fn referral(yes: u8, callouts: Option<u32>, pj: Option<&str>) -> Inspection {
        let mut r = Referral::default();
        r.fields.insert("victim.name".into(), "A Person".into());
        r.found_at.insert("victim.name".into(), "table 3, row 1".into());
        r.attachments = vec!["1".into()];
        for k in ["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"] {
            r.reasons.insert(k.into(), false);
        }
        r.police_callouts = callouts;
        if let Some(text) = pj {
            r.reasons.insert("professional_judgement".into(), true);
            r.fields.insert("professional_judgement_rationale".into(), text.into());
        }
        let attachment = |at: &str, found: &'static str| AttachmentReport {
            at: at.into(),
            name: None,
            declared_type: "application/pdf".into(),
            inline: false,
            kind: FileKind::Pdf,
            size: 1,
            sha256: String::new(),
            outcome: ReadOutcome::Read,
            problems: vec![],
            recognised: vec![found],
            blocks: 1,
            fields: 0,
        };
        Inspection {
            message_sha256: String::new(),
            size: 0,
            envelope: Envelope {
                from: Some(Mailbox { name: None, address: "pc@x.pnn.police.example.test".into() }),
                // Proven: the receiving server recorded an aligned DMARC pass.
                authentication_results: vec![crate::mime::parse_authentication_results("mx.example.test; dmarc=pass header.from=x.pnn.police.example.test").unwrap()],
                originators: crate::mime::Originators { from_headers: 1, from_addresses: 1, sender_headers: 0, reply_to_headers: 0 },
                ..Envelope::default()
            },
            signals: vec![],
            refers: crate::mime::Refers::default(),
            attachments: vec![attachment("1", "referral"), attachment("2", "dash")],
            dash: Some(Dash {
                yes,
                no: 24 - yes,
                unknown: 0,
                dont_know: 0,
                blank: 0,
                stated_total: None,
                answers: vec![],
                attachment: "2".into(),
                problems: vec![],
            }),
            referral: Some(r),
            problems: vec![],
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()
    }

    proptest! {
        /// Visible high risk is exactly "Yes answers at or above the threshold".
        #[test]
        fn threshold_decides_exactly(threshold in 1u8..=24, yes in 0u8..=24) {
            let d = decide(&referral(yes, None, None), &History::default(), &config(threshold, 3), day());
            if yes >= threshold {
                prop_assert_eq!(d.outcome, Outcome::Accepted);
                prop_assert_eq!(d.criteria, vec![Criterion::VisibleHighRisk]);
                prop_assert_eq!(d.reply, ReplyKind::Acknowledgement);
            } else {
                prop_assert_eq!(d.outcome, Outcome::Rejected);
                prop_assert!(d.reasons.iter().any(|r| r.contains(&threshold.to_string())));
            }
        }

        /// Escalation is exactly "call-outs at or above the threshold", whatever the score below it.
        #[test]
        fn escalation_decides_exactly(threshold in 1u32..10, callouts in 0u32..12, yes in 0u8..14) {
            let d = decide(&referral(yes, Some(callouts), None), &History::default(), &config(14, threshold), day());
            prop_assert_eq!(d.outcome == Outcome::Accepted, callouts >= threshold);
        }

        /// A repeat qualifies whatever the score, within the window counted from the last referral.
        #[test]
        fn repeat_window_counts_from_the_last_referral(days_ago in 0i64..800, yes in 0u8..14) {
            let h = History {
                person: Some(PersonHistory { pending_case: None, last_referral: Some((day() - chrono::Duration::days(days_ago), true)) }),
                ..History::default()
            };
            let d = decide(&referral(yes, None, None), &h, &config(14, 3), day());
            prop_assert_eq!(d.outcome == Outcome::Accepted, days_ago <= 365);
        }
    }

    #[test]
    fn nothing_unreadable_is_ever_rejected() {
        let mut i = referral(3, None, None);
        i.attachments[1].kind = FileKind::Pdf;
        i.problems.push(crate::inspect::Located {
            at: "attachment 2".into(),
            problem: crate::document::Problem::new(crate::document::ProblemKind::Encrypted, "x"),
        });
        let d = decide(&i, &History::default(), &config(14, 3), day());
        assert_eq!(d.outcome, Outcome::Review);
        assert_eq!(d.reply, ReplyKind::Holding);
    }

    #[test]
    fn a_suppress_header_alone_never_hides_a_referral() {
        let mut i = referral(16, None, None);
        i.signals.push(crate::mime::Signal { kind: SignalKind::AutoReply, evidence: "X-Auto-Response-Suppress: All".into() });
        let d = decide(&i, &History::default(), &config(14, 3), day());
        assert_eq!(d.outcome, Outcome::Review);
        assert_eq!(d.reply, ReplyKind::None);
        i.signals.push(crate::mime::Signal { kind: SignalKind::AutoReply, evidence: "Auto-Submitted: auto-replied".into() });
        assert_eq!(decide(&i, &History::default(), &config(14, 3), day()).outcome, Outcome::Ignored);
    }

    /// A claimed repeat the history does not confirm goes to a person, and the referrer cannot
    /// tell from the outcome or the words whether the person is known: an unknown person and
    /// one last referred too long ago get the same decision and the same reply.
    #[test]
    fn an_unconfirmed_repeat_goes_to_a_person_whatever_the_history_holds() {
        let mut i = referral(5, None, None);
        i.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
        let unknown = decide(&i, &History::default(), &config(14, 3), day());
        assert_eq!((unknown.outcome, unknown.reply), (Outcome::Review, ReplyKind::Holding));
        let known_but_old = History {
            person: Some(PersonHistory { pending_case: None, last_referral: Some((day() - chrono::Duration::days(400), true)) }),
            ..History::default()
        };
        let known = decide(&i, &known_but_old, &config(14, 3), day());
        assert_eq!((known.outcome, known.reply), (Outcome::Review, ReplyKind::Holding));
        assert_eq!(known.reasons_for_referrer(), unknown.reasons_for_referrer());
        assert!(known.reasons.iter().any(|r| r == REPEAT_TO_CHECK));
    }

    #[test]
    fn a_holding_reply_never_says_an_earlier_referral_of_the_person_waits() {
        let h = History { earlier_review: true, ..History::default() };
        let d = decide(&referral(3, None, None), &h, &config(14, 3), day());
        assert!(d.reasons.iter().any(|r| r == READ_WITH_EARLIER), "coordinators see why: {:?}", d.reasons);
        let told = d.reasons_for_referrer();
        assert!(!told.iter().any(|r| r == READ_WITH_EARLIER || r.contains("same person") || r.contains("already received")), "{told:?}");
        assert!(told.iter().any(|r| r == BEFORE_DECIDED));
    }

    #[test]
    fn a_referral_is_not_rejected_while_an_earlier_one_of_the_same_victim_waits_for_review() {
        let h = History { earlier_review: true, ..History::default() };
        let d = decide(&referral(3, None, None), &h, &config(14, 3), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
        assert!(d.grounds.is_empty());
        assert!(!d.reasons.iter().any(|r| r.contains("known") || r.contains("earlier referral of this")), "the holding reply names nobody: {:?}", d.reasons);
        // One that qualifies on its own is accepted as before.
        assert_eq!(decide(&referral(16, None, None), &h, &config(14, 3), day()).outcome, Outcome::Accepted);
    }

    #[test]
    fn professional_judgement_needs_a_rationale() {
        let with = decide(&referral(5, None, Some("escalating threats after separation")), &History::default(), &config(14, 3), day());
        assert_eq!(with.criteria, vec![Criterion::ProfessionalJudgement]);
        let without = decide(&referral(5, None, Some("")), &History::default(), &config(14, 3), day());
        assert_eq!(without.outcome, Outcome::Rejected);
        assert!(without.reasons.iter().any(|r| r.contains("rationale")));
    }

    /// A rationale box the reader did not find may hold a rationale: no rejection rests on it.
    #[test]
    fn a_rationale_box_not_found_is_not_a_missing_rationale() {
        let mut i = referral(5, None, Some(""));
        let r = i.referral.as_mut().unwrap();
        r.fields.remove("professional_judgement_rationale");
        r.blank.remove("professional_judgement_rationale");
        let d = decide(&i, &History::default(), &config(14, 3), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding), "{:?}", d.reasons);
        assert!(d.reasons.iter().any(|r| r.contains("rationale box could not be found")), "{:?}", d.reasons);
        // Found and blank: the rejection stands.
        i.referral.as_mut().unwrap().blank.insert("professional_judgement_rationale".into());
        assert_eq!(decide(&i, &History::default(), &config(14, 3), day()).outcome, Outcome::Rejected);
    }

    fn ours(id: i64, kind: &str) -> OurReply {
        OurReply { outbox_id: id, kind: kind.into(), reference: format!("IN-2025-{id:05}") }
    }

    /// A bounce from a mail server that is not on the allowlist.
    fn bounce_message(actions: &[&str]) -> Inspection {
        let mut i = referral(0, None, None);
        i.attachments.clear();
        i.dash = None;
        i.referral = None;
        i.envelope.from = Some(Mailbox { name: None, address: "MAILER-DAEMON@mx.elsewhere.test".into() });
        i.signals = vec![crate::mime::Signal { kind: SignalKind::Dsn, evidence: "Content-Type: multipart/report".into() }];
        i.refers.dsn_actions = actions.iter().map(|a| a.to_string()).collect();
        i
    }

    fn referring(links: Vec<(OurReply, Link)>) -> History {
        History { referred: links, ..History::default() }
    }

    #[test]
    fn our_own_reply_coming_back_is_ignored_before_anything_else() {
        // Even carrying a qualifying referral, with no auto-reply header left on it.
        let h = History { own_reply: Some(ours(3, "acknowledgement")), ..History::default() };
        let d = decide(&referral(16, None, None), &h, &config(14, 3), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Ignored, ReplyKind::None));
        assert!(d.reasons[0].contains("our own reply came back") && d.reasons[0].contains("IN-2025-00003"), "{:?}", d.reasons);
        assert_eq!(notice_category(&d), None);
    }

    #[test]
    fn a_bounce_of_our_reply_is_reviewed_without_a_reply_and_marks_it() {
        let h = referring(vec![(ours(7, "acknowledgement"), Link::About), (ours(2, "rejection"), Link::Thread)]);
        let d = decide(&bounce_message(&["failed"]), &h, &config(14, 3), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::None), "reviewed, not quarantined, never answered");
        assert!(d.reply_to.is_empty());
        assert_eq!(d.bounced, vec![7], "only the returned original is marked");
        assert_eq!(d.category, Some(Category::ReplyBounced));
        assert_eq!(notice_category(&d), Some(Category::ReplyBounced));
        assert_eq!(d.reasons.len(), 1);
        assert!(d.reasons[0].contains("IN-2025-00007") && d.reasons[0].contains("an acknowledgement") && d.reasons[0].contains("another way"), "{:?}", d.reasons);
        assert!(!d.reasons[0].contains('@'), "no addresses in the reason");
    }

    #[test]
    fn a_bounce_naming_our_reply_only_up_its_thread_is_reviewed_without_marking_it() {
        let h = referring(vec![(ours(2, "holding"), Link::Thread)]);
        let d = decide(&bounce_message(&[]), &h, &config(14, 3), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::None));
        assert!(d.bounced.is_empty());
        assert!(d.reasons[0].contains("IN-2025-00002") && d.reasons[0].contains("further up its thread"), "{:?}", d.reasons);
    }

    #[test]
    fn a_bounced_notice_is_reviewed_but_never_noticed_again() {
        let d = decide(&bounce_message(&["failed"]), &referring(vec![(ours(9, "notice"), Link::About)]), &config(14, 3), day());
        assert_eq!((d.outcome, d.category, d.bounced.clone()), (Outcome::Review, Some(Category::NoticeBounced), vec![9]));
        assert!(d.reasons[0].contains("coordinators_notice_to"), "{:?}", d.reasons);
        assert_eq!(notice_category(&d), None, "a notice about a notice that bounced would loop");
    }

    #[test]
    fn bounces_and_auto_replies_that_are_not_failures_of_ours_stay_ignored() {
        let c = config(14, 3);
        let nothing_of_ours = decide(&bounce_message(&["failed"]), &History::default(), &c, day());
        assert_eq!((nothing_of_ours.outcome, nothing_of_ours.reply), (Outcome::Ignored, ReplyKind::None));
        let h = referring(vec![(ours(7, "acknowledgement"), Link::About)]);
        assert_eq!(decide(&bounce_message(&["delayed"]), &h, &c, day()).outcome, Outcome::Ignored, "a delay warning: the server still tries");
        let copy = History { duplicate_message: true, ..h.clone() };
        let d = decide(&bounce_message(&["failed"]), &copy, &c, day());
        assert_eq!((d.outcome, d.bounced.len()), (Outcome::Ignored, 0), "the same bounce again is only a duplicate");
        // An out-of-office answering our acknowledgement is not a bounce.
        let mut ooo = bounce_message(&[]);
        ooo.signals = vec![crate::mime::Signal { kind: SignalKind::AutoReply, evidence: "Auto-Submitted: auto-replied".into() }];
        let d = decide(&ooo, &h, &c, day());
        assert_eq!((d.outcome, d.bounced.len()), (Outcome::Ignored, 0));
    }

    #[test]
    fn an_unproven_sender_is_quarantined_with_no_reply() {
        let (c, none) = (config(14, 3), History::default());
        let proven = referral(16, None, None);
        assert_eq!(decide(&proven, &none, &c, day()).outcome, Outcome::Accepted);
        let headers = |h: &[&str]| {
            let mut i = proven.clone();
            i.envelope.authentication_results = h.iter().map(|h| crate::mime::parse_authentication_results(h).unwrap()).collect();
            i
        };
        for (i, why) in [
            (headers(&[]), "no authentication results"),
            (headers(&["mx.example.test; spf=softfail smtp.mailfrom=x.pnn.police.example.test; dmarc=none header.from=x.pnn.police.example.test"]), "dmarc=none"),
            (headers(&["mx.example.test; dmarc=temperror header.from=x.pnn.police.example.test"]), "dmarc=temperror"),
            (headers(&["mx.elsewhere.test; dmarc=pass header.from=x.pnn.police.example.test"]), "no authentication results"),
            (headers(&["mx.example.test; dmarc=pass header.from=y.pnn.police.example.test"]), "another domain"),
            (headers(&["mx.example.test; spf=pass smtp.mailfrom=x.pnn.police.example.test; dkim=pass header.d=x.pnn.police.example.test"]), "no DMARC pass"),
        ] {
            let d = decide(&i, &none, &c, day());
            assert_eq!((d.outcome, d.reply, d.category), (Outcome::Quarantined, ReplyKind::None, Some(Category::AuthenticationFailed)), "{why}");
            assert!(d.reply_to.is_empty(), "{why}");
            assert!(d.reasons.iter().any(|r| r.starts_with("the sender could not be verified") && r.contains(why)), "{why}: {:?}", d.reasons);
        }
        let mut two_from = proven.clone();
        two_from.envelope.originators.from_headers = 2;
        let d = decide(&two_from, &none, &c, day());
        assert_eq!((d.outcome, d.reply), (Outcome::Quarantined, ReplyKind::None));
    }

    #[test]
    fn a_reply_to_goes_only_to_the_same_organisation() {
        let (c, none) = (config(14, 3), History::default());
        let with_reply_to = |a: &str| {
            let mut i = referral(16, None, None);
            i.envelope.reply_to = vec![Mailbox { name: None, address: a.into() }];
            i.envelope.originators.reply_to_headers = 1;
            decide(&i, &none, &c, day()).reply_to
        };
        assert_eq!(with_reply_to("Team@x.pnn.police.example.test"), vec!["team@x.pnn.police.example.test"]);
        assert_eq!(with_reply_to("dmo@othershire.pnn.police.example.test"), vec!["pc@x.pnn.police.example.test"], "another allowlisted organisation: the From");
        assert_eq!(with_reply_to("me@webmail.test"), vec!["pc@x.pnn.police.example.test"]);
    }

    #[test]
    fn every_review_and_quarantine_has_a_category_for_the_notice() {
        let c = config(14, 3);
        let none = History::default();
        assert_eq!(notice_category(&decide(&referral(16, None, None), &none, &c, day())), None, "accepted: no notice");
        assert_eq!(notice_category(&decide(&referral(3, None, None), &none, &c, day())), None, "rejected: no notice");

        let mut webmail = referral(16, None, None);
        webmail.envelope.from = Some(Mailbox { name: None, address: "someone@webmail.test".into() });
        assert_eq!(notice_category(&decide(&webmail, &none, &c, day())), Some(Category::SenderNotAllowlisted));

        let mut dmarc = referral(16, None, None);
        dmarc.envelope.authentication_results = vec![crate::mime::parse_authentication_results("mx.example.test; dmarc=fail header.from=x").unwrap()];
        assert_eq!(notice_category(&decide(&dmarc, &none, &c, day())), Some(Category::AuthenticationFailed));
        // Both: the sender comes first.
        webmail.envelope.authentication_results = dmarc.envelope.authentication_results.clone();
        assert_eq!(notice_category(&decide(&webmail, &none, &c, day())), Some(Category::SenderNotAllowlisted));

        let mut encrypted = referral(3, None, None);
        encrypted.problems.push(crate::inspect::Located { at: "attachment 2".into(), problem: crate::document::Problem::new(ProblemKind::Encrypted, "x") });
        encrypted.problems.push(crate::inspect::Located { at: "dash".into(), problem: crate::document::Problem::new(ProblemKind::ConflictingMarks, "x") });
        assert_eq!(notice_category(&decide(&encrypted, &none, &c, day())), Some(Category::UnreadableAttachment), "the most specific category");

        let mut too_big = referral(3, None, None);
        too_big.problems.push(crate::inspect::Located { at: "message".into(), problem: crate::document::Problem::new(ProblemKind::LimitExceeded, "x") });
        assert_eq!(notice_category(&decide(&too_big, &none, &c, day())), Some(Category::UnreadableMessage));

        let mut mismatch = referral(12, None, None);
        mismatch.referral.as_mut().unwrap().stated_dash_score = Some(16);
        assert_eq!(notice_category(&decide(&mismatch, &none, &c, day())), Some(Category::NeedsDecision));

        let mut repeat = referral(5, None, None);
        repeat.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
        assert_eq!(notice_category(&decide(&repeat, &none, &c, day())), Some(Category::NeedsDecision));
    }

    // ---- Issue 11: doubt is never a rejection ----

    use crate::document::Problem;
    use crate::inspect::Located;
    use crate::recognise::answer::Answer;
    use crate::recognise::dash::DashAnswer;

    fn report(at: &str, kind: FileKind, found: &[&'static str]) -> AttachmentReport {
        AttachmentReport {
            at: at.into(),
            name: Some("Jane Victim referral.docx".into()),
            declared_type: "application/octet-stream".into(),
            inline: false,
            kind,
            size: 1,
            sha256: String::new(),
            outcome: ReadOutcome::Read,
            problems: vec![],
            recognised: found.to_vec(),
            blocks: 1,
            fields: 0,
        }
    }

    /// Sample 005's shape: one Word attachment recognised as the referral form, visible high risk
    /// ticked with a stated score of 15, no DASH.
    fn form_alone() -> Inspection {
        let mut i = referral(0, None, None);
        i.dash = None;
        i.attachments = vec![report("1", FileKind::Docx, &["referral"])];
        let r = i.referral.as_mut().unwrap();
        r.reasons.insert("visible_high_risk".into(), true);
        r.stated_dash_score = Some(15);
        i
    }

    /// Leaves a referral field blank in doubt, as the reader does: value gone, key in `uncertain`,
    /// an `Uncertain` problem.
    fn doubt(i: &mut Inspection, key: &str) {
        let r = i.referral.as_mut().unwrap();
        r.fields.remove(key);
        r.found_at.remove(key);
        r.blank.remove(key);
        match key {
            "victim.dob" => r.victim_dob = None,
            "stated_dash_score" => r.stated_dash_score = None,
            "police_callouts" => r.police_callouts = None,
            k => {
                if let Some(reason) = k.strip_prefix("reason.") {
                    r.reasons.remove(reason);
                }
            }
        }
        r.uncertain.insert(key.to_owned());
        let p = Problem::new(ProblemKind::Uncertain, format!("{key}: the value is the text of a label on the form"));
        r.problems.push(p.clone());
        i.problems.push(Located { at: "referral".into(), problem: p });
    }

    /// Leaves a referral field found blank on the form: value gone, key in `blank`.
    fn blank(i: &mut Inspection, key: &str) {
        let r = i.referral.as_mut().unwrap();
        r.fields.remove(key);
        r.found_at.remove(key);
        match key {
            "victim.dob" => r.victim_dob = None,
            "police_callouts" => r.police_callouts = None,
            _ => {}
        }
        r.blank.insert(key.to_owned());
    }

    fn go(i: &Inspection) -> Decision {
        decide(i, &History::default(), &config(14, 3), day())
    }

    fn all_reasons(d: &Decision) -> String {
        d.reasons.join(" | ")
    }

    #[test]
    fn a_form_alone_claiming_high_risk_is_still_rejected_for_the_missing_dash() {
        let d = go(&form_alone());
        assert_eq!((d.outcome, d.reply), (Outcome::Rejected, ReplyKind::Rejection), "{:?}", d.reasons);
        assert_eq!(d.grounds, vec![Ground::DashMissing]);
        let text = all_reasons(&d).to_lowercase();
        assert!(text.contains("dash") && text.contains("checklist") && text.contains("missing"), "{text}");
    }

    #[test]
    fn an_unrecognised_document_turns_the_missing_dash_rejection_into_a_review_naming_it() {
        let mut i = form_alone();
        i.attachments.push(report("2", FileKind::Docx, &[]));
        let d = go(&i);
        assert_eq!((d.outcome, d.reply, d.category), (Outcome::Review, ReplyKind::Holding, Some(Category::NeedsDecision)));
        assert!(d.grounds.is_empty(), "a review has no grounds");
        let text = all_reasons(&d);
        assert!(text.contains("attachment 2 (a Word document) could not be recognised as a MARAC referral form or a DASH checklist"), "{text}");
        assert!(text.contains("a coordinator will read it") && text.contains("Word or PDF"), "{text}");
        assert!(!text.to_lowercase().contains("missing"), "never told the DASH is missing: {text}");
        assert!(!text.contains("Jane") && !text.contains(".docx"), "the attachment by position and type, never its file name: {text}");
    }

    #[test]
    fn an_unrecognised_document_turns_any_rejection_into_a_review() {
        let mut below = referral(5, None, None);
        assert_eq!(go(&below).outcome, Outcome::Rejected);
        below.attachments.push(report("3", FileKind::Pdf, &[]));
        let d = go(&below);
        assert_eq!(d.outcome, Outcome::Review);
        assert!(all_reasons(&d).contains("attachment 3 (a PDF)"), "{:?}", d.reasons);
        // It stops no acceptance.
        let mut high = referral(16, None, None);
        high.attachments.push(report("3", FileKind::Pdf, &[]));
        assert_eq!(go(&high).outcome, Outcome::Accepted);
    }

    #[test]
    fn high_risk_claimed_without_a_dash_and_any_attachment_unrecognised_is_a_review() {
        // A text file is not a document kind, but with visible high risk claimed and no DASH read
        // it may be the checklist.
        let mut i = form_alone();
        i.attachments.push(report("2", FileKind::Text, &[]));
        let d = go(&i);
        assert_eq!(d.outcome, Outcome::Review, "{:?}", d.reasons);
        assert!(all_reasons(&d).contains("attachment 2 (a text file)") && all_reasons(&d).contains("visible high risk is claimed"), "{:?}", d.reasons);
        // Without the claim, a text file beside a complete referral changes nothing.
        let mut low = referral(5, None, None);
        low.attachments.push(report("3", FileKind::Text, &[]));
        assert_eq!(go(&low).outcome, Outcome::Rejected);
    }

    #[test]
    fn a_dash_read_only_in_part_is_a_review_never_dash_missing() {
        let mut i = referral(9, None, None);
        let d = i.dash.as_mut().unwrap();
        d.no -= 10;
        d.blank = 10;
        d.unknown = 10;
        for q in 15..=24 {
            let p = Problem::new(ProblemKind::Unrecognised, format!("question {q} was not found on the checklist; counted as unknown"));
            d.problems.push(p.clone());
            i.problems.push(Located { at: "dash".into(), problem: p });
        }
        let r = i.referral.as_mut().unwrap();
        r.reasons.insert("visible_high_risk".into(), true);
        let d = go(&i);
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
        assert!(!all_reasons(&d).to_lowercase().contains("missing"), "{:?}", d.reasons);
        // And reported against its attachment with no DASH at all: still no rejection.
        let mut j = form_alone();
        j.attachments.push(report("2", FileKind::Xlsx, &[]));
        j.problems.push(Located { at: "attachment 2".into(), problem: Problem::new(ProblemKind::Unrecognised, "looks like a DASH checklist; 6 of 24 answers read") });
        assert_eq!(go(&j).outcome, Outcome::Review);
    }

    #[test]
    fn blank_victim_name_and_date_of_birth_are_rejected_asking_for_them() {
        let mut i = referral(16, None, None);
        blank(&mut i, "victim.name");
        blank(&mut i, "victim.dob");
        let d = go(&i);
        assert_eq!((d.outcome, d.reply), (Outcome::Rejected, ReplyKind::Rejection), "{:?}", d.reasons);
        assert_eq!(d.grounds, vec![Ground::VictimMissing]);
        let text = all_reasons(&d);
        assert!(text.contains("we cannot tell who the victim is") && text.contains("victim's name and date of birth"), "{text}");
    }

    #[test]
    fn a_victim_not_found_blank_is_a_review_never_a_rejection() {
        // No victim field placed at all: a layout the reader does not know.
        let mut unplaced = referral(16, None, None);
        let r = unplaced.referral.as_mut().unwrap();
        r.fields.remove("victim.name");
        r.found_at.remove("victim.name");
        assert!(!r.victim_placed());
        let d = go(&unplaced);
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
        assert!(all_reasons(&d).contains("the victim's details could not be found on the referral form: a coordinator will read it"), "{:?}", d.reasons);
        // The victim placed, the name found blank, the date of birth not found at all.
        let mut half = referral(16, None, None);
        blank(&mut half, "victim.name");
        assert_eq!(go(&half).outcome, Outcome::Review);
        // No referral form recognised, only a DASH.
        let mut dash_only = referral(16, None, None);
        dash_only.referral = None;
        dash_only.attachments.remove(0);
        let d = go(&dash_only);
        assert_eq!(d.outcome, Outcome::Review);
        assert!(all_reasons(&d).contains("no MARAC referral form was recognised"), "{:?}", d.reasons);
    }

    #[test]
    fn no_attachments_is_still_rejected() {
        let mut i = referral(0, None, None);
        i.attachments.clear();
        i.dash = None;
        i.referral = None;
        let d = go(&i);
        assert_eq!((d.outcome, d.grounds.clone()), (Outcome::Rejected, vec![Ground::NoAttachments]));
        assert!(all_reasons(&d).contains("attach"));
    }

    #[test]
    fn an_uncertain_victim_name_blocks_the_victim_rejection() {
        let mut i = referral(16, None, None);
        doubt(&mut i, "victim.name");
        blank(&mut i, "victim.dob");
        let d = go(&i);
        assert_eq!(d.outcome, Outcome::Review);
        let text = all_reasons(&d);
        assert!(text.contains("victim's name could not be read for certain"), "{text}");
        assert!(!text.contains("A Person"), "field names only, never values: {text}");
    }

    #[test]
    fn an_uncertain_required_field_blocks_its_rejection() {
        let c = config_with(14, 3, "required_fields = [\"referrer.email\"]");
        let missing = decide(&referral(16, None, None), &History::default(), &c, day());
        assert_eq!((missing.outcome, missing.grounds.clone()), (Outcome::Rejected, vec![Ground::RequiredField("referrer.email".into())]));
        let mut i = referral(16, None, None);
        doubt(&mut i, "referrer.email");
        let d = decide(&i, &History::default(), &c, day());
        assert_eq!(d.outcome, Outcome::Review);
        assert!(all_reasons(&d).contains("\"referrer email\" could not be read for certain"), "{:?}", d.reasons);
        // A required victim field with no victim placed is not certain either.
        let c = config_with(14, 3, "required_fields = [\"victim.postcode\"]");
        let mut unplaced = referral(16, None, None);
        unplaced.referral.as_mut().unwrap().victim_dob = NaiveDate::from_ymd_opt(1990, 1, 1);
        unplaced.referral.as_mut().unwrap().found_at.clear();
        assert_eq!(decide(&unplaced, &History::default(), &c, day()).outcome, Outcome::Review);
    }

    #[test]
    fn an_uncertain_field_that_could_meet_a_criterion_blocks_the_no_criterion_rejection() {
        for key in CRITERION_FIELDS {
            let mut i = referral(5, None, None);
            doubt(&mut i, key);
            let d = go(&i);
            assert_eq!(d.outcome, Outcome::Review, "{key}: {:?}", d.reasons);
            assert!(all_reasons(&d).contains("could not be read for certain"), "{key}: {:?}", d.reasons);
        }
    }

    #[test]
    fn an_uncertain_field_no_ground_rests_on_neither_blocks_a_rejection_nor_an_acceptance() {
        let mut low = referral(5, None, None);
        doubt(&mut low, "perpetrator.name");
        let d = go(&low);
        assert_eq!((d.outcome, d.grounds.clone()), (Outcome::Rejected, vec![Ground::BelowThreshold]));
        let mut high = referral(16, None, None);
        doubt(&mut high, "victim.dob");
        doubt(&mut high, "professional_judgement_rationale");
        assert_eq!(go(&high).outcome, Outcome::Accepted);
    }

    #[test]
    fn a_professional_judgement_box_not_found_blocks_the_no_criterion_rejection() {
        let mut i = referral(5, None, None);
        i.referral.as_mut().unwrap().reasons.remove("professional_judgement");
        let d = go(&i);
        assert_eq!(d.outcome, Outcome::Review);
        assert!(all_reasons(&d).contains("professional judgement box could not be found"), "{:?}", d.reasons);
        // Found and left unticked: a certain rejection.
        let mut unticked = referral(5, None, None);
        blank(&mut unticked, "reason.professional_judgement");
        unticked.referral.as_mut().unwrap().reasons.remove("professional_judgement");
        assert_eq!(go(&unticked).outcome, Outcome::Rejected);
    }

    #[test]
    fn a_certain_hard_ground_does_not_hide_a_doubt_about_the_criteria() {
        // A repeat the history does not know is a review; blanking the victim's details must not
        // turn it into a rejection.
        let mut i = referral(5, None, None);
        i.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
        assert_eq!(go(&i).outcome, Outcome::Review);
        blank(&mut i, "victim.name");
        blank(&mut i, "victim.dob");
        assert_eq!(go(&i).outcome, Outcome::Review);
    }

    #[test]
    fn a_damaged_file_is_called_damaged_or_unreadable() {
        for kind in [ProblemKind::Corrupt, ProblemKind::Truncated] {
            let mut i = referral(16, None, None);
            i.problems.push(Located { at: "attachment 2".into(), problem: Problem::new(kind, "not a valid workbook") });
            let d = go(&i);
            assert_eq!((d.outcome, d.category), (Outcome::Review, Some(Category::UnreadableAttachment)));
            assert!(all_reasons(&d).contains("attachment 2 (a PDF): damaged or unreadable"), "{:?}", d.reasons);
        }
    }

    #[test]
    fn a_stated_score_read_in_doubt_beside_a_dash_blocks_every_rejection() {
        // Found by the property below: the form's score disagreed with the DASH (a review); read
        // in doubt instead, the disagreement was gone and a blank victim was rejected.
        let mut i = referral(23, None, None);
        i.referral.as_mut().unwrap().stated_dash_score = Some(0);
        blank(&mut i, "victim.name");
        blank(&mut i, "victim.dob");
        assert_eq!(go(&i).outcome, Outcome::Review);
        doubt(&mut i, "stated_dash_score");
        let d = go(&i);
        assert_eq!(d.outcome, Outcome::Review, "{:?}", d.reasons);
        assert!(all_reasons(&d).contains("stated DASH score could not be read for certain"), "{:?}", d.reasons);
        // It still stops no acceptance.
        let mut high = referral(16, None, None);
        doubt(&mut high, "stated_dash_score");
        assert_eq!(go(&high).outcome, Outcome::Accepted);
    }

    #[test]
    fn grounds_serialise_with_the_field_they_name() {
        let json = serde_json::to_value(vec![Ground::DashMissing, Ground::RequiredField("referrer.email".into())]).unwrap();
        assert_eq!(json, serde_json::json!([{ "ground": "dash_missing" }, { "ground": "required_field", "field": "referrer.email" }]));
    }

    // ---- The property: mutations that only remove information or add doubt ----

    /// A referral as a referrer sends it: the parts the generator varies.
    #[derive(Debug, Clone)]
    struct Sent {
        yes: Option<u8>,
        vhr: bool,
        stated: Option<u32>,
        /// Professional judgement: not ticked, ticked with a rationale, ticked without.
        pj: Option<bool>,
        escalation: bool,
        callouts: Option<u32>,
        repeat: bool,
        name: bool,
        dob: bool,
        email: bool,
        /// 0: unknown person; 1: heard 100 days ago; 2: heard 500 days ago; 3: a pending case.
        history: u8,
        required_email: bool,
        dash_always: bool,
    }

    fn sent() -> impl Strategy<Value = Sent> {
        (
            (proptest::option::weighted(0.8, 0u8..=24), any::<bool>(), proptest::option::of(0u32..=24), proptest::option::of(any::<bool>())),
            (any::<bool>(), proptest::option::of(0u32..=6), proptest::bool::weighted(0.2)),
            (proptest::bool::weighted(0.85), proptest::bool::weighted(0.85), any::<bool>()),
            (0u8..4, proptest::bool::weighted(0.3), proptest::bool::weighted(0.2)),
        )
            .prop_map(|((yes, vhr, stated, pj), (escalation, callouts, repeat), (name, dob, email), (history, required_email, dash_always))| Sent {
                yes,
                vhr,
                stated,
                pj,
                escalation,
                callouts,
                repeat,
                name,
                dob,
                email,
                history,
                required_email,
                dash_always,
            })
    }

    fn inspection_of(s: &Sent) -> Inspection {
        let mut i = referral(s.yes.unwrap_or(0), s.callouts, None);
        let r = i.referral.as_mut().unwrap();
        r.reasons.insert("visible_high_risk".into(), s.vhr);
        r.reasons.insert("potential_escalation".into(), s.escalation);
        r.reasons.insert("repeat".into(), s.repeat);
        r.stated_dash_score = s.stated;
        if let Some(with_rationale) = s.pj {
            r.reasons.insert("professional_judgement".into(), true);
            if with_rationale {
                r.fields.insert("professional_judgement_rationale".into(), "escalating threats since the separation".into());
            } else {
                r.blank.insert("professional_judgement_rationale".into());
            }
        }
        if s.dob {
            r.victim_dob = NaiveDate::from_ymd_opt(1990, 5, 17);
            r.found_at.insert("victim.dob".into(), "table 3, row 2".into());
        } else {
            r.blank.insert("victim.dob".into());
        }
        if !s.name {
            r.fields.remove("victim.name");
            r.found_at.remove("victim.name");
            r.blank.insert("victim.name".into());
        }
        if s.email {
            r.fields.insert("referrer.email".into(), "pc@x.pnn.police.example.test".into());
            r.found_at.insert("referrer.email".into(), "table 1, row 4".into());
        } else {
            r.blank.insert("referrer.email".into());
        }
        match &mut i.dash {
            Some(d) if s.yes.is_some() => {
                d.answers = (1..=24u8)
                    .map(|q| DashAnswer {
                        question: q,
                        topic: crate::recognise::topics::TOPICS[usize::from(q) - 1],
                        answer: if q <= d.yes { Answer::Yes } else { Answer::No },
                        comment: None,
                        at: format!("row {q}"),
                        found_by: Some(crate::recognise::dash::FoundBy::Wording),
                    })
                    .collect();
            }
            _ => {
                i.dash = None;
                i.attachments.truncate(1);
            }
        }
        i
    }

    fn history_of(s: &Sent) -> History {
        let ago = |days| Some((day() - chrono::Duration::days(days), true));
        let person = |last_referral, pending_case| Some(PersonHistory { pending_case, last_referral });
        History {
            person: match s.history {
                1 => person(ago(100), None),
                2 => person(ago(500), None),
                3 => person(ago(20), Some(CaseSummary { reference: "MARAC-2025-0001".into(), meeting_date: None })),
                _ => None,
            },
            ..History::default()
        }
    }

    fn config_of(s: &Sent) -> Config {
        let mut extra = String::new();
        if s.required_email {
            extra.push_str("required_fields = [\"referrer.email\"]\n");
        }
        if s.dash_always {
            extra.push_str("dash_required = \"always\"\n");
        }
        config_with(14, 3, &extra)
    }

    /// Fields a mutation may find blank (only when they were read).
    const BLANKABLE: &[&str] = &["victim.name", "victim.dob", "professional_judgement_rationale", "police_callouts", "referrer.email"];
    /// Fields a mutation may leave blank in doubt: the victim's and two others, then every field
    /// a criterion is read from.
    fn doubtable() -> Vec<&'static str> {
        [&["victim.name", "victim.dob", "referrer.email", "perpetrator.name"][..], CRITERION_FIELDS].concat()
    }
    const BLOCKING: &[ProblemKind] = &[
        ProblemKind::Encrypted,
        ProblemKind::Scanned,
        ProblemKind::Corrupt,
        ProblemKind::Truncated,
        ProblemKind::LimitExceeded,
        ProblemKind::Unsupported,
        ProblemKind::ParserPanic,
        ProblemKind::Timeout,
        ProblemKind::Unrecognised,
        ProblemKind::ConflictingMarks,
        ProblemKind::ScoreMismatch,
    ];
    const PLACES: &[&str] = &["attachment 1", "attachment 2", "dash", "referral", "message"];

    /// A change that only removes information or adds doubt.
    #[derive(Debug, Clone)]
    enum Mutation {
        /// These questions' answers were not read: each becomes blank with an `Unrecognised` problem.
        DropAnswers(Vec<u8>),
        /// The DASH was not recognised at all (its attachment is then recognised as nothing).
        LoseDash,
        /// A field that was read is found blank instead.
        Blank(usize),
        /// A field is left blank in doubt, with its `Uncertain` problem.
        Doubt(usize),
        /// An attachment is recognised as nothing.
        Unrecognise(usize),
        /// A blocking problem somewhere.
        Block(usize, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            proptest::collection::vec(1u8..=24, 1..24).prop_map(Mutation::DropAnswers),
            Just(Mutation::LoseDash),
            (0..BLANKABLE.len()).prop_map(Mutation::Blank),
            (0..doubtable().len()).prop_map(Mutation::Doubt),
            (0usize..2).prop_map(Mutation::Unrecognise),
            (0..BLOCKING.len(), 0..PLACES.len()).prop_map(|(k, p)| Mutation::Block(k, p)),
        ]
    }

    fn mutate(i: &mut Inspection, m: &Mutation) {
        match m {
            Mutation::DropAnswers(questions) => {
                let Some(d) = i.dash.as_mut() else { return };
                for q in questions {
                    let a = &mut d.answers[usize::from(*q) - 1];
                    match a.answer {
                        Answer::Blank => continue,
                        Answer::Yes => d.yes -= 1,
                        Answer::No => d.no -= 1,
                        Answer::DontKnow => {
                            d.dont_know -= 1;
                            d.unknown -= 1;
                        }
                    }
                    a.answer = Answer::Blank;
                    d.blank += 1;
                    d.unknown += 1;
                    let p = Problem::new(ProblemKind::Unrecognised, format!("the answer to question {q} could not be read"));
                    d.problems.push(p.clone());
                    i.problems.push(Located { at: "dash".into(), problem: p });
                }
            }
            Mutation::LoseDash => {
                if let Some(d) = i.dash.take() {
                    for a in i.attachments.iter_mut().filter(|a| a.at == d.attachment) {
                        a.recognised.retain(|r| *r != "dash");
                    }
                }
            }
            Mutation::Blank(k) => {
                let key = BLANKABLE[*k];
                let r = i.referral.as_ref().unwrap();
                let read = match key {
                    "victim.dob" => r.victim_dob.is_some(),
                    "police_callouts" => r.police_callouts.is_some(),
                    k => r.fields.contains_key(k),
                };
                if read && !r.uncertain.contains(key) {
                    blank(i, key);
                }
            }
            Mutation::Doubt(k) => doubt(i, doubtable()[*k]),
            Mutation::Unrecognise(n) => {
                if let Some(a) = i.attachments.get_mut(*n) {
                    a.recognised.clear();
                }
            }
            Mutation::Block(k, p) => {
                let problem = Problem::new(BLOCKING[*k], "added by the property test");
                if PLACES[*p] == "dash" {
                    if let Some(d) = i.dash.as_mut() {
                        d.problems.push(problem.clone());
                    }
                }
                i.problems.push(Located { at: PLACES[*p].into(), problem });
            }
        }
    }

    /// Every rejection rests only on what was read for certain; no other decision has grounds.
    fn grounds_are_certain(i: &Inspection, d: &Decision) -> Result<(), TestCaseError> {
        if d.outcome != Outcome::Rejected {
            prop_assert!(d.grounds.is_empty(), "a {:?} with grounds {:?}", d.outcome, d.grounds);
            return Ok(());
        }
        prop_assert!(!d.grounds.is_empty(), "a rejection without grounds: {:?}", d.reasons);
        prop_assert_eq!(d.grounds.len(), d.reasons.len(), "one reason per ground");
        let uncertain = i.referral.as_ref().map(|r| r.uncertain.clone()).unwrap_or_default();
        let blocking = |ps: &[Problem]| ps.iter().any(|p| p.kind.blocks_automatic_decision());
        for g in &d.grounds {
            for f in g.rests_on() {
                prop_assert!(!uncertain.contains(f), "{:?} rests on {} read in doubt", g, f);
            }
            match g {
                Ground::DashMissing => {
                    prop_assert!(i.dash.is_none());
                    prop_assert!(
                        i.attachments.iter().filter(|a| DOCUMENT_KINDS.contains(&a.kind)).all(|a| !a.recognised.is_empty()),
                        "DASH missing with an attachment nobody recognised"
                    );
                    prop_assert!(!partial_dash(i), "DASH missing beside a DASH read in part");
                }
                Ground::BelowThreshold => {
                    let dash = i.dash.as_ref();
                    prop_assert!(dash.is_some_and(|d| !blocking(&d.problems)), "below the threshold on a DASH not read in full");
                    prop_assert!(!i.has_blocking_problem());
                }
                Ground::VictimMissing => {
                    let r = i.referral.as_ref().unwrap();
                    prop_assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "victim missing without both found blank");
                }
                _ => {}
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// No mutation that only removes information or adds doubt turns a review into a
        /// rejection, and every rejection on the way rests only on certain things.
        #[test]
        fn doubt_never_turns_a_review_into_a_rejection(s in sent(), mutations in proptest::collection::vec(mutation(), 1..5)) {
            let (h, c) = (history_of(&s), config_of(&s));
            let mut i = inspection_of(&s);
            let first = decide(&i, &h, &c, day());
            grounds_are_certain(&i, &first)?;
            // Once a review, at any step, never a rejection after more mutations.
            let mut reviewed = first.outcome == Outcome::Review;
            for m in &mutations {
                mutate(&mut i, m);
                let after = decide(&i, &h, &c, day());
                grounds_are_certain(&i, &after)?;
                if reviewed {
                    prop_assert_ne!(after.outcome, Outcome::Rejected, "{:?} after {:?}: {:?}", s, mutations, after.reasons);
                }
                reviewed |= after.outcome == Outcome::Review;
            }
        }
    }
}
