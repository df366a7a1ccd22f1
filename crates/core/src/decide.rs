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
//!    referral is a repeat; or no DASH and no criterion met where the area requires both forms,
//!    `threshold.forms = "both"`: one that meets a criterion is accepted and the coordinator
//!    told to ask for the DASH, as when visible high risk is claimed without one). With
//!    `forms = "dash_alone"`, a DASH with no referral form that meets the threshold has no hard
//!    ground (no victim or required field to read).
//! 8. `accepted`, case `new` — no hard ground, and at least one enabled criterion met (a repeat
//!    qualifies whatever the score: the victim's last case was heard, within the window counted
//!    from that referral or, with `threshold.repeat_from = "last_meeting"`, from the meeting
//!    that heard it).
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
//!    - (no referral form recognised, above, is also where `forms = "both"` asks for the form:
//!      in the holding reply, when every attachment was recognised as something else);
//!    - a DASH read only in part (already rule 5).
//!
//! A rejection rests only on what was read for certain: every rejection carries its typed
//! [`Ground`]s, each naming the inspection fields it rests on, and no other decision has any.
//! Never an automatic rejection when something could not be read: rules 5 and 10.
//!
//! Every `review` and `quarantined` decision carries a [`Category`] (what kind of attention it
//! needs, never its content): [`notice_category`] is what a coordinators' notice names.

use crate::config::{Config, Criterion, DashRequired, Forms, RepeatFrom};
use crate::document::ProblemKind;
use crate::inspect::{AttachmentReport, Inspection, Place};
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
    pub const ALL: [Outcome; 5] = [Outcome::Accepted, Outcome::Rejected, Outcome::Review, Outcome::Quarantined, Outcome::Ignored];

    /// The one spelling: the `outcome` columns, the mailbox's folders' keys, `--json`.
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

impl std::str::FromStr for Outcome {
    type Err = crate::text::UnknownSpelling;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::from_spelling(&Self::ALL, Self::as_str, "outcome", s)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
    pub const ALL: [ReplyKind; 4] = [ReplyKind::Acknowledgement, ReplyKind::Rejection, ReplyKind::Holding, ReplyKind::None];

    /// The one spelling: the `reply_kind` column and `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Acknowledgement => "acknowledgement",
            ReplyKind::Rejection => "rejection",
            ReplyKind::Holding => "holding",
            ReplyKind::None => "none",
        }
    }
}

impl std::str::FromStr for ReplyKind {
    type Err = crate::text::UnknownSpelling;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::from_spelling(&Self::ALL, Self::as_str, "reply kind", s)
    }
}

impl std::fmt::Display for ReplyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an outbox row carries: a reply to the referrer, the coordinators' notice, or a
/// meeting's agenda to an agency's designated officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    Reply(ReplyKind),
    Notice,
    Agenda,
}

impl OutboxKind {
    /// Every kind an outbox row can have (a reply of kind `none` is never queued).
    pub const ALL: [OutboxKind; 5] =
        [OutboxKind::Reply(ReplyKind::Acknowledgement), OutboxKind::Reply(ReplyKind::Rejection), OutboxKind::Reply(ReplyKind::Holding), OutboxKind::Notice, OutboxKind::Agenda];

    /// The outbox `kind` column: `acknowledgement`, `rejection`, `holding`, `notice` or `agenda`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Reply(k) => k.as_str(),
            OutboxKind::Notice => "notice",
            OutboxKind::Agenda => "agenda",
        }
    }

    /// A reply to a referrer's message: what the per-recipient hourly cap counts and holds
    /// (`smtp.max_replies_per_recipient_per_hour`, loop safety). A coordinators' notice and a
    /// meeting's agenda answer no one's mail, go only to configured addresses, and are neither
    /// held nor counted.
    pub fn is_reply(self) -> bool {
        matches!(self, OutboxKind::Reply(_))
    }
}

impl std::str::FromStr for OutboxKind {
    type Err = crate::text::UnknownSpelling;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::from_spelling(&Self::ALL, Self::as_str, "outbox kind", s)
    }
}

impl std::fmt::Display for OutboxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OutboxKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
    /// A person of another area of this deployment has the victim's name and date of birth: the
    /// coordinators are told (nothing of that area's case is used or shown), a would-be
    /// rejection waits for them, and the referrer is told nothing of it.
    pub known_in_another_area: bool,
}

/// One message of ours in the outbox, found by its Message-ID.
#[derive(Debug, Clone, PartialEq)]
pub struct OurReply {
    pub outbox_id: i64,
    pub kind: OutboxKind,
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
    /// Its MARAC area could not be told in a mailbox several areas share: a coordinator places it.
    AreaUnknown,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::ReplyBounced,
        Category::NoticeBounced,
        Category::SenderNotAllowlisted,
        Category::AuthenticationFailed,
        Category::UnreadableAttachment,
        Category::UnreadableMessage,
        Category::NeedsDecision,
        Category::AreaUnknown,
    ];

    /// The one spelling, as a coordinators' notice words it.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::ReplyBounced => "reply bounced",
            Category::NoticeBounced => "coordinators' notice bounced",
            Category::SenderNotAllowlisted => "sender not on the secure list",
            Category::AuthenticationFailed => "sender authentication failed",
            Category::UnreadableAttachment => "unreadable attachment",
            Category::UnreadableMessage => "unreadable message",
            Category::NeedsDecision => "needs a coordinator's decision",
            Category::AreaUnknown => "MARAC area not known",
        }
    }
}

impl std::str::FromStr for Category {
    type Err = crate::text::UnknownSpelling;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::from_spelling(&Self::ALL, Self::as_str, "category", s)
    }
}

/// What the referrer is told when the area could not be told (the signs, which may be the
/// victim's, are the coordinators' only).
pub const AREA_NOT_TOLD: &str = "we could not tell which MARAC this referral is for: a coordinator will place it before it is decided (naming the MARAC area on the referral form avoids this)";

impl Decision {
    /// This decision for a message whose area could not be told (`why`, for the coordinators):
    /// a referral that would have been accepted or rejected waits for a coordinator instead
    /// (a reply due becomes the holding reply); a review stays a review with the reason added;
    /// a quarantined or ignored message is left as it is. Returns whether it changed.
    pub fn area_not_told(&mut self) -> bool {
        match self.outcome {
            Outcome::Accepted | Outcome::Rejected => {
                self.outcome = Outcome::Review;
                self.category = Some(Category::AreaUnknown);
                self.criteria.clear();
                self.grounds.clear();
                self.case = CaseAction::None;
                if self.reply != ReplyKind::None {
                    self.reply = ReplyKind::Holding;
                }
                self.reasons = vec![AREA_NOT_TOLD.to_owned()];
                true
            }
            Outcome::Review if matches!(self.category, None | Some(Category::NeedsDecision)) => {
                self.reasons.push(AREA_NOT_TOLD.to_owned());
                true
            }
            _ => false,
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
    /// The date of the MARAC that heard the case of the victim's last referral: set only when
    /// that case has been heard and its meeting date is recorded (and not after the arrival).
    /// What `threshold.repeat_from = "last_meeting"` counts the window from.
    pub last_heard: Option<NaiveDate>,
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
            let r = if r == READ_WITH_EARLIER || r == KNOWN_IN_ANOTHER_AREA { BEFORE_DECIDED } else { r.as_str() };
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
        return done(Outcome::Ignored, vec![format!("our own reply came back (reference {}, {}): it is never answered", r.reference, kind_phrase(r.kind))]);
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
    let only_suppress = !h.duplicate_message && !i.signals.is_empty() && i.signals.iter().all(|s| s.header == Some(crate::mime::X_AUTO_RESPONSE_SUPPRESS));
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
        } else if dash.is_none() && c.file.threshold.forms == Forms::Both {
            reasons.push("note: this MARAC needs the referral form and a DASH with every referral, and no DASH was attached; accepted on the criteria above, please ask the referrer for the DASH".to_owned());
        }
        if i.referral.is_none() {
            // Only `forms = "dash_alone"` accepts without a referral form (rule 7).
            reasons.push("note: accepted on the DASH alone, as this MARAC allows; no referral form was attached, so the victim's details were not read: please add them to the case".to_owned());
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
    // A DASH alone that meets the threshold, where the area takes one: there is no form to read
    // a victim or a required field from (the coordinator adds them).
    let dash_alone = t.forms == Forms::DashAlone && referral.is_none() && met.iter().any(|m| m.0 == Criterion::VisibleHighRisk);
    if dash_alone {
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
    // Where the area requires both forms, a referral meeting no criterion is rejected for the
    // missing DASH as `always` rejects it; one meeting a criterion is not (the coordinator is
    // told, rule 8), as when visible high risk is claimed.
    let dash_needed = match t.dash_required {
        DashRequired::Always => true,
        DashRequired::WhenVisibleHighRisk => vhr && met.is_empty(),
    } || (t.forms == Forms::Both && met.is_empty());
    if dash_needed && i.dash.is_none() && !repeat {
        hard.push((
            Ground::DashMissing,
            if vhr {
                "the DASH risk checklist is missing: the referral claims visible high risk but no completed DASH was attached; please attach the completed DASH RIC".to_owned()
            } else if t.forms == Forms::Both {
                "the DASH risk checklist is missing: this MARAC needs the completed MARAC referral form and a completed DASH RIC with every referral; please attach the DASH".to_owned()
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
        let earlier = match t.repeat_from {
            RepeatFrom::LastReferral => "no earlier referral of this person to this MARAC",
            RepeatFrom::LastMeeting => "no case of this person heard at this MARAC",
        };
        out.push((
            Ground::RepeatNotFound,
            format!(
                "repeat MARAC is ticked, but {earlier} within the last {} days was found, so this referral has to meet another criterion on its own: if the person was referred before under another name or date of birth, please tell us in your reply",
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

/// Both forms required, and only the DASH (no referral form) among the attachments.
const BOTH_FORM_TO_SEND: &str = "the MARAC referral form is missing: this MARAC needs the completed MARAC referral form as well as the DASH with every referral; please send the referral form, quoting this reply's reference: a coordinator will review the referral meanwhile";

/// A claimed repeat that the history does not confirm: said whatever the history holds.
const REPEAT_TO_CHECK: &str = "repeat MARAC is ticked: a coordinator will check it against the earlier cases before this referral is decided";
/// An earlier referral of the same victim waits for a coordinator. For coordinators only: a
/// reply to the referrer says [`BEFORE_DECIDED`] instead (see [`Decision::reasons_for_referrer`]).
const READ_WITH_EARLIER: &str = "a coordinator will read this referral together with the referrals of the same person already received before it is decided";
/// The victim is known to another MARAC of this deployment. For coordinators only, as
/// [`READ_WITH_EARLIER`].
/// The coordinators' note beside a decision that did not wait for them (an acceptance) when the
/// victim is known to another MARAC of this deployment; never in a reply.
pub const KNOWN_IN_ANOTHER_AREA_NOTE: &str = "the victim is known to another MARAC in this deployment";
pub const KNOWN_IN_ANOTHER_AREA: &str = "the victim is known to another MARAC in this deployment (nothing of that case is shown here): a coordinator will read this referral before it is decided";
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
        None => {
            out.push(
                "no MARAC referral form was recognised in the attachments, so the victim's details and the reasons for referral could not be found: a coordinator will read it".to_owned(),
            );
            // Where both forms are required and every attachment was recognised as something
            // else, the form was not sent: the referrer is told which to send.
            let all_recognised = i.attachments.iter().all(|a| !a.recognised.is_empty() || (a.inline && a.kind == FileKind::Image));
            if c.file.threshold.forms == Forms::Both && all_recognised {
                out.push(BOTH_FORM_TO_SEND.to_owned());
            }
        }
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
    if h.known_in_another_area {
        out.push(KNOWN_IN_ANOTHER_AREA.to_owned());
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
                kind_phrase(r.kind)
            ))
            .collect();
        (reasons, Vec::new())
    } else {
        let reasons = about
            .iter()
            .map(|r| if r.kind == OutboxKind::Notice {
                format!("a notice we sent to the coordinators' address (reference {}) could not be delivered: please check smtp.coordinators_notice_to", r.reference)
            } else if r.kind == OutboxKind::Agenda {
                format!("an agenda we sent to a designated officer ({}) could not be delivered: the agency may not have received it; please check agenda.officers and send it again", r.reference)
            } else {
                format!(
                    "a reply we sent (reference {}, {}) could not be delivered: the referrer may not have received it; please contact them another way",
                    r.reference,
                    kind_phrase(r.kind)
                )
            })
            .collect();
        (reasons, about.iter().map(|r| r.outbox_id).collect())
    };
    let named: Vec<&OurReply> = if about.is_empty() { h.referred.iter().map(|(r, _)| r).collect() } else { about };
    let only_notices = named.iter().all(|r| r.kind == OutboxKind::Notice);
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
fn kind_phrase(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Reply(ReplyKind::Acknowledgement) => "an acknowledgement",
        OutboxKind::Reply(ReplyKind::Rejection) => "a rejection",
        OutboxKind::Reply(ReplyKind::Holding) => "a holding reply",
        OutboxKind::Notice => "a coordinators' notice",
        OutboxKind::Agenda => "a meeting's agenda",
        OutboxKind::Reply(ReplyKind::None) => "a reply",
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
        let relevant = if let Some(at) = p.place.attachment() {
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
            let category = match p.place {
                _ if !unreadable => Category::NeedsDecision,
                Place::Attachment(_) => Category::UnreadableAttachment,
                Place::Message => Category::UnreadableMessage,
                Place::Dash | Place::Referral => Category::NeedsDecision,
            };
            let what = match p.place.attachment().and_then(|at| i.attachments.iter().find(|a| a.at == at)) {
                Some(a) => format!("{} ({})", p.place, kind_phrase_of(a.kind)),
                None => p.place.to_string(),
            };
            out.push((category, format!("{what}: {}", kind_sentence(p.problem.kind, &p.problem.detail))));
        }
    }
    if let Some(r) = &i.referral {
        if r.problems.iter().any(|p| p.kind == ProblemKind::InvalidDate && p.field.as_deref() == Some("victim.dob")) {
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
    if let Some(p) = h.person.as_ref().filter(|_| c.enabled(Criterion::Repeat)) {
        if let Some(why) = repeat(p, t, arrived) {
            met.push((Criterion::Repeat, why));
        }
    }
    met
}

/// The repeat criterion: the victim's last case has been heard, and the window
/// (`threshold.repeat_window_days`) counted from its referral or from the meeting that heard it
/// (`threshold.repeat_from`) takes in `arrived`. A last case not heard yet is never a repeat.
/// When the meeting's date is not recorded, the referral's date is counted from: the meeting
/// came after it, so a referral inside the window means a meeting inside it too.
fn repeat(p: &PersonHistory, t: &crate::config::ThresholdConfig, arrived: NaiveDate) -> Option<String> {
    let (referred, heard) = p.last_referral?;
    if !heard {
        return None;
    }
    let window = i64::from(t.repeat_window_days);
    let within = |from: NaiveDate| Some((arrived - from).num_days()).filter(|d| (0..=window).contains(d));
    match (t.repeat_from, p.last_heard) {
        (RepeatFrom::LastReferral, _) => within(referred).map(|days| format!("repeat: last referred {days} days ago (window {window} days)")),
        (RepeatFrom::LastMeeting, Some(meeting)) => {
            within(meeting).map(|days| format!("repeat: last heard at the MARAC of {meeting}, {days} days ago (window {window} days)"))
        }
        (RepeatFrom::LastMeeting, None) => within(referred).map(|days| {
            format!("repeat: last referred {days} days ago and heard at a MARAC whose date is not recorded (window {window} days, counted from the referral)")
        }),
    }
}

#[cfg(test)]
mod tests;
