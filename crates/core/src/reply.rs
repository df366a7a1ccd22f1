//! Reply composition (pure): acknowledgement, rejection or holding reply as an RFC 5322 message,
//! built with lettre's message builder. Addressed only to the decided recipient (never a Cc),
//! threaded with `In-Reply-To`/`References`, marked `Auto-Submitted: auto-replied` (RFC 3834) so
//! auto-responders do not answer it, and carrying no personal data beyond what the referrer sent:
//! our reference for their message, the meeting date and the reasons. No placeholder can name
//! an existing case: `{reference}` is always the message's own reference, so an acknowledgement
//! reads the same whether or not the victim was already known.
//!
//! Also the coordinators' notice ([`compose_notice`]): to `smtp.coordinators_notice_to` only,
//! `Auto-Submitted: auto-generated`, carrying our message reference and a reason category and
//! nothing else (no name, no address, no subject, no reason text).
//!
//! Every message has a Message-ID derived from its kind and our message reference
//! (`<acknowledgement.in-2026-00001@domain>`), so that it is recognised if it comes back.

use crate::config::{Config, Template};
use crate::decide::{Category, Outcome, ReplyKind};
pub use crate::decide::OutboxKind;
use crate::mime::Envelope;
use chrono::{DateTime, FixedOffset, NaiveDate};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// `Auto-Submitted` (RFC 3834): `auto-replied` on replies, `auto-generated` on notices.
#[derive(Debug, Clone)]
struct AutoSubmitted(&'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(if s.trim().eq_ignore_ascii_case("auto-generated") { "auto-generated" } else { "auto-replied" }))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

/// Asks Exchange and others not to send automatic replies to this message.
#[derive(Debug, Clone)]
struct AutoResponseSuppress;

impl Header for AutoResponseSuppress {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoResponseSuppress)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".to_owned())
    }
}

/// A composed message, ready for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub kind: OutboxKind,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    /// The whole message as sent.
    pub raw: String,
}

pub struct ReplyInput<'a> {
    pub kind: ReplyKind,
    pub to: &'a str,
    pub original: &'a Envelope,
    /// Our reference for the incoming message: the `{reference}` every reply carries (never a
    /// case's: an acknowledgement must not tell whether the victim already had one), and what
    /// makes the reply's Message-ID unique.
    pub message_ref: &'a str,
    /// The meeting an acknowledgement names: the one a new case arriving now would go to.
    pub meeting: Option<NaiveDate>,
    pub reasons: &'a [String],
    pub now: DateTime<FixedOffset>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("no reply is sent for this decision")]
    NoReply,
    #[error("invalid address: {0}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// A reply to the referrer, composed the one way for triage and a coordinator's decision alike:
/// an acknowledgement quotes this message's own reference and the meeting a new case arriving
/// on `day` would go to (never a linked case's reference or date, so that it reads the same
/// whether the victim was known or not) and no reasons; any other reply gives `reasons`.
#[allow(clippy::too_many_arguments)]
pub fn to_referrer(kind: ReplyKind, to: &str, original: &Envelope, message_ref: &str, reasons: &[String], day: NaiveDate, now: DateTime<FixedOffset>, c: &Config) -> Result<Reply, ReplyError> {
    let ack = kind == ReplyKind::Acknowledgement;
    let meeting = if ack { c.schedule.next_meeting(day) } else { None };
    compose(&ReplyInput { kind, to, original, message_ref, meeting, reasons: if ack { &[] } else { reasons }, now }, c)
}

pub fn compose(input: &ReplyInput<'_>, c: &Config) -> Result<Reply, ReplyError> {
    let template: &Template = match input.kind {
        ReplyKind::Acknowledgement => &c.file.replies.acknowledgement,
        ReplyKind::Rejection => &c.file.replies.rejection,
        ReplyKind::Holding => &c.file.replies.holding,
        ReplyKind::None => return Err(ReplyError::NoReply),
    };
    let meeting = input.meeting.map(|d| d.format("%A %-d %B %Y").to_string()).unwrap_or_else(|| "the next meeting (date to be confirmed)".into());
    let reasons = input.reasons.iter().map(|r| format!("- {r}")).collect::<Vec<_>>().join("\n");
    let their_subject = input.original.subject.clone().unwrap_or_default();
    let attendance = attendance(input.kind, &meeting, c);
    let (subject, body) = template.render(&[
        ("area", c.file.area.as_str()),
        ("reference", input.message_ref),
        ("meeting_date", meeting.as_str()),
        ("reasons", reasons.as_str()),
        ("their_subject", their_subject.as_str()),
        ("attendance", attendance.as_str()),
    ]);
    let from: Mailbox = format!("{} MARAC <{}>", c.file.area, c.file.replies.from)
        .parse()
        .map_err(|_| ReplyError::Address("replies.from".into()))?;
    let to: Mailbox = input.to.parse().map_err(|_| ReplyError::Address("recipient".into()))?;
    let message_id = message_id(OutboxKind::Reply(input.kind), input.message_ref, c);
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(subject.clone())
        .message_id(Some(message_id.clone()))
        .date(std::time::SystemTime::from(input.now))
        .header(AutoSubmitted("auto-replied"))
        .header(AutoResponseSuppress)
        .header(ContentType::TEXT_PLAIN);
    if let Some(id) = &input.original.message_id {
        let id = format!("<{}>", id.trim_matches(['<', '>']));
        let mut refs: Vec<String> = input.original.references.iter().map(|r| format!("<{}>", r.trim_matches(['<', '>']))).collect();
        refs.push(id.clone());
        b = b.in_reply_to(id).references(refs.join(" "));
    }
    let msg = b.body(body).map_err(|e| ReplyError::Build(e.to_string()))?;
    let raw = String::from_utf8_lossy(&msg.formatted()).into_owned();
    Ok(Reply { kind: OutboxKind::Reply(input.kind), to: input.to.to_owned(), subject, message_id, raw })
}

/// What `{attendance}` says in a reply of `kind` for the meeting `meeting` (as the reply words
/// it): with `replies.ask_referrer_to_attend`, an acknowledgement's paragraph asking the referrer
/// to attend or send someone who knows the case, with the blank line after it; otherwise, and in
/// every other reply (a referral not accepted has no meeting to attend), nothing.
pub fn attendance(kind: ReplyKind, meeting: &str, c: &Config) -> String {
    if kind != ReplyKind::Acknowledgement || !c.file.replies.ask_referrer_to_attend {
        return String::new();
    }
    format!(
        "As the referring agency, please attend the meeting on {meeting}, or send a colleague who knows the case, \
so that what your agency knows is shared and the safety plan is agreed with you.\n\n"
    )
}

/// The Message-ID of our message of `kind` about the incoming message `message_ref`:
/// `<acknowledgement.in-2026-00001@domain-of-replies.from>`.
pub fn message_id(kind: OutboxKind, message_ref: &str, c: &Config) -> String {
    let domain = c.file.replies.from.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let local = message_ref.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    format!("<{}.{local}@{domain}>", kind.as_str())
}

/// What a coordinators' notice says: which message, what became of it and why in one category.
pub struct NoticeInput<'a> {
    /// `smtp.coordinators_notice_to`.
    pub to: &'a str,
    /// Our reference for the incoming message (`IN-2026-00001`).
    pub message_ref: &'a str,
    /// `review` or `quarantined`.
    pub outcome: Outcome,
    pub category: Category,
    pub now: DateTime<FixedOffset>,
}

/// The coordinators' notice for a review or quarantine item: the reference and the category,
/// no personal data (never the referrer's address, the subject, a name or the reasons).
pub fn compose_notice(input: &NoticeInput<'_>, c: &Config) -> Result<Reply, ReplyError> {
    let what = match input.outcome {
        Outcome::Review => "needs a coordinator's review",
        Outcome::Quarantined => "was quarantined",
        _ => return Err(ReplyError::NoReply),
    };
    let (reference, category) = (input.message_ref, input.category.as_str());
    let subject = format!("{} MARAC intake: {reference} {what} ({category})", c.file.area);
    // Short ASCII lines: sent as 7bit, readable as it is.
    let body = format!(
        "Message {reference} {what}.\nReason: {category}.\n\n\
         It is in the coordinators' queue (marac-intake queue),\nwith the full reasons.\n\n\
         This notice is sent automatically to the coordinators'\naddress. It carries no personal data and is not a reply\nto the sender.\n"
    );
    let message_id = message_id(OutboxKind::Notice, reference, c);
    let msg = generated(c, input.to, "smtp.coordinators_notice_to", &subject, &message_id, input.now)?
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| ReplyError::Build(e.to_string()))?;
    let raw = String::from_utf8_lossy(&msg.formatted()).into_owned();
    Ok(Reply { kind: OutboxKind::Notice, to: input.to.to_owned(), subject, message_id, raw })
}

/// The head of a message we send of our own accord (a notice, an agenda): from the MARAC, to
/// `to` alone (`key`: the setting that names it, for the error), `Auto-Submitted:
/// auto-generated`, automatic replies suppressed.
fn generated(c: &Config, to: &str, key: &str, subject: &str, message_id: &str, now: DateTime<FixedOffset>) -> Result<lettre::message::MessageBuilder, ReplyError> {
    let from: Mailbox = format!("{} MARAC <{}>", c.file.area, c.file.replies.from).parse().map_err(|_| ReplyError::Address("replies.from".into()))?;
    let to: Mailbox = to.parse().map_err(|_| ReplyError::Address(key.into()))?;
    Ok(Message::builder()
        .from(from)
        .to(to)
        .subject(subject.to_owned())
        .message_id(Some(message_id.to_owned()))
        .date(std::time::SystemTime::from(now))
        .header(AutoSubmitted("auto-generated"))
        .header(AutoResponseSuppress))
}

/// What a meeting's agenda to one designated officer says.
pub struct AgendaInput<'a> {
    /// The officer's address: on the allowlist, as `[agenda] officers` names it.
    pub to: &'a str,
    pub agency: &'a str,
    /// The area's id: with `meeting` and `sequence`, what makes the Message-ID unique.
    pub area_id: &'a str,
    pub meeting: NaiveDate,
    /// The cases on the agenda.
    pub cases: usize,
    /// The agenda as XLSX, attached.
    pub xlsx: &'a [u8],
    /// Whether people are named by initials (the default) or in full.
    pub initials: bool,
    /// This send's number among the meeting's agenda sends (1, 2, ...).
    pub sequence: i64,
    pub now: DateTime<FixedOffset>,
}

/// The XLSX media type.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A meeting's agenda to one agency's designated officer: a short covering note and the agenda
/// as an XLSX attachment, `Auto-Submitted: auto-generated`. The subject names the MARAC and the
/// meeting only; the people are in the attachment alone.
pub fn compose_agenda(input: &AgendaInput<'_>, c: &Config) -> Result<Reply, ReplyError> {
    let area = c.file.area.as_str();
    let day = input.meeting.format("%A %-d %B %Y");
    let subject = format!("{area} MARAC agenda: meeting of {day}");
    let named = if input.initials {
        "People are named by their initials, and victims by their year of birth."
    } else {
        "People are named in full, with victims' dates of birth."
    };
    let cases = match input.cases {
        1 => "1 case".to_owned(),
        n => format!("{n} cases"),
    };
    let body = format!(
        "To the designated MARAC officer for {agency},\n\n\
         The agenda of the {area} MARAC meeting of {day} is attached:\n{cases}, in the order they will be heard.\n{named}\n\n\
         Please research your agency's records for each case before the\nmeeting. The references are the MARAC's own.\n\n\
         This message was sent automatically to the officer named for your\nagency. Keep it within secure email; do not forward it elsewhere.\n",
        agency = input.agency
    );
    let message_id = message_id(OutboxKind::Agenda, &format!("{}-{}-{}", input.area_id, input.meeting, input.sequence), c);
    let attachment = Attachment::new(format!("marac-agenda-{}.xlsx", input.meeting))
        .body(input.xlsx.to_vec(), ContentType::parse(XLSX).map_err(|e| ReplyError::Build(e.to_string()))?);
    let msg = generated(c, input.to, "agenda.officers", &subject, &message_id, input.now)?
        .multipart(MultiPart::mixed().singlepart(SinglePart::plain(body)).singlepart(attachment))
        .map_err(|e| ReplyError::Build(e.to_string()))?;
    let raw = String::from_utf8_lossy(&msg.formatted()).into_owned();
    Ok(Reply { kind: OutboxKind::Agenda, to: input.to.to_owned(), subject, message_id, raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = "area = \"Kingsmere\"\n[senders]\nallow = [\"nhs.example.test\"]\ntrusted_authserv_id = \"mx.example.test\"\n\
                    [schedule]\nkind = \"weekly\"\nweekday = \"tue\"\n[replies]\nfrom = \"marac@Marac.example.test\"\n";
        crate::config::parse(text, Vec::new()).unwrap().build().unwrap()
    }

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-20T10:00:00+00:00").unwrap()
    }

    #[test]
    fn message_ids_follow_from_the_kind_and_our_reference() {
        let c = config();
        assert_eq!(message_id(OutboxKind::Reply(ReplyKind::Acknowledgement), "IN-2026-00003", &c), "<acknowledgement.in-2026-00003@Marac.example.test>");
        assert_eq!(message_id(OutboxKind::Notice, "IN-2026-00003", &c), "<notice.in-2026-00003@Marac.example.test>");
        let original = Envelope { message_id: Some("orig@nhs.example.test".into()), subject: Some("Referral for Jane Doe".into()), ..Envelope::default() };
        let input = ReplyInput {
            kind: ReplyKind::Holding,
            to: "a@nhs.example.test",
            original: &original,
            message_ref: "IN-2026-00003",
            meeting: None,
            reasons: &[],
            now: now(),
        };
        let r = compose(&input, &c).unwrap();
        assert_eq!(r.message_id, message_id(OutboxKind::Reply(ReplyKind::Holding), "IN-2026-00003", &c));
        assert!(r.raw.contains(&format!("Message-ID: {}", r.message_id)), "{}", r.raw);
        assert_eq!(crate::mime::header_message_id(r.raw.as_bytes()).as_deref(), Some("holding.in-2026-00003@marac.example.test"));
        assert!(r.raw.contains("Auto-Submitted: auto-replied"));
    }

    #[test]
    fn a_reply_to_the_referrer_is_composed_one_way_whoever_decided() {
        // An acknowledgement names the meeting a new case arriving that day goes to (weekly on
        // Tuesdays: Tuesday 20 January 2026 arrives for the 27th, or the 20th itself, by the
        // schedule's cut-off) and no reasons; a rejection names the reasons and no meeting.
        let mut c = config();
        c.file.replies.acknowledgement = Template { subject: "Ack {reference}".into(), body: "meeting {meeting_date}; reasons [{reasons}]".into() };
        c.file.replies.rejection = Template { subject: "Rej {reference}".into(), body: "meeting [{meeting_date}]; reasons {reasons}".into() };
        let original = Envelope::default();
        let day = NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let meeting = c.schedule.next_meeting(day).expect("a weekly meeting");
        let reasons = ["no DASH".to_owned()];
        let ack = to_referrer(ReplyKind::Acknowledgement, "a@nhs.example.test", &original, "IN-2026-00003", &reasons, day, now(), &c).unwrap();
        let with_meeting = compose(&ReplyInput { kind: ReplyKind::Acknowledgement, to: "a@nhs.example.test", original: &original, message_ref: "IN-2026-00003", meeting: Some(meeting), reasons: &[], now: now() }, &c).unwrap();
        assert_eq!(ack, with_meeting);
        assert!(!ack.raw.contains("no DASH"), "{}", ack.raw);
        let rej = to_referrer(ReplyKind::Rejection, "a@nhs.example.test", &original, "IN-2026-00003", &reasons, day, now(), &c).unwrap();
        assert!(rej.raw.contains("no DASH"), "{}", rej.raw);
        let without_meeting = compose(&ReplyInput { kind: ReplyKind::Rejection, to: "a@nhs.example.test", original: &original, message_ref: "IN-2026-00003", meeting: None, reasons: &reasons, now: now() }, &c).unwrap();
        assert_eq!(rej, without_meeting);
    }

    #[test]
    fn no_template_can_name_a_case_reference() {
        // `{reference}` is the message's own reference, whatever the template says: the input
        // has no other reference to give it.
        let mut c = config();
        c.file.replies.acknowledgement = Template { subject: "Ref {reference}".into(), body: "{reference} on {meeting_date}".into() };
        let original = Envelope::default();
        let input = ReplyInput {
            kind: ReplyKind::Acknowledgement,
            to: "a@nhs.example.test",
            original: &original,
            message_ref: "IN-2026-00009",
            meeting: NaiveDate::from_ymd_opt(2026, 2, 10),
            reasons: &[],
            now: now(),
        };
        let r = compose(&input, &c).unwrap();
        assert_eq!(r.subject, "Ref IN-2026-00009");
        assert!(r.raw.contains("IN-2026-00009 on Tuesday 10 February 2026"), "{}", r.raw);
        assert_eq!(crate::config::PLACEHOLDERS, &["area", "reference", "meeting_date", "reasons", "their_subject", "attendance"], "no placeholder for a case");
    }

    #[test]
    fn an_acknowledgement_asks_the_referrer_to_attend_only_when_the_area_asks() {
        const ASK: &str = "please attend the meeting on Tuesday 27 January 2026, or send a colleague who knows the case";
        let original = Envelope::default();
        let day = NaiveDate::from_ymd_opt(2026, 1, 21).unwrap();
        let reasons = ["no DASH".to_owned()];
        let body = |c: &Config, kind| {
            let r = to_referrer(kind, "a@nhs.example.test", &original, "IN-2026-00005", &reasons, day, now(), c).unwrap();
            r.raw.split_once("\r\n\r\n").unwrap().1.replace("\r\n", "\n").replace("=\n", "")
        };
        let off = config();
        let quiet = body(&off, ReplyKind::Acknowledgement);
        assert!(!quiet.contains("attend") && !quiet.contains("{attendance}"), "{quiet}");
        assert!(quiet.contains("about this case.\n\nThis is an automatic acknowledgement"), "no gap where the sentence would be: {quiet}");
        let mut on = config();
        on.file.replies.ask_referrer_to_attend = true;
        let asked = body(&on, ReplyKind::Acknowledgement);
        assert!(asked.contains(ASK), "{asked}");
        assert!(asked.contains("about this case.\n\nAs the referring agency, please attend"), "{asked}");
        assert!(asked.contains("agreed with you.\n\nThis is an automatic acknowledgement"), "{asked}");
        // Only an acknowledgement asks: a referral not accepted has no meeting to attend.
        on.file.replies.holding.body.push_str("{attendance}");
        on.file.replies.rejection.body.push_str("{attendance}");
        for kind in [ReplyKind::Holding, ReplyKind::Rejection] {
            let b = body(&on, kind);
            assert!(!b.contains("attend the meeting") && !b.contains("{attendance}"), "{kind:?}: {b}");
        }
    }

    #[test]
    fn a_notice_carries_the_reference_and_category_and_nothing_personal() {
        let c = config();
        let input = NoticeInput { to: "coordinators@marac.example.test", message_ref: "IN-2026-00004", outcome: Outcome::Review, category: Category::ReplyBounced, now: now() };
        let n = compose_notice(&input, &c).unwrap();
        assert_eq!(n.kind, OutboxKind::Notice);
        assert_eq!(n.kind.as_str(), "notice");
        assert_eq!(n.to, "coordinators@marac.example.test");
        assert!(n.subject.contains("IN-2026-00004") && n.subject.contains("reply bounced"), "{}", n.subject);
        let (head, body) = n.raw.split_once("\r\n\r\n").unwrap();
        assert!(body.contains("IN-2026-00004") && body.contains("reply bounced"), "{body}");
        assert!(!body.contains('@'), "no address in the body: {body}");
        assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
        assert!(head.contains("Content-Transfer-Encoding: 7bit"), "readable as it is: {head}");
        assert!(!head.to_ascii_lowercase().contains("in-reply-to") && !head.to_ascii_lowercase().contains("references:"), "not threaded to the sender's message: {head}");
        assert!(head.contains("To: coordinators@marac.example.test"), "{head}");
        assert!(!head.contains("Cc:") && !head.contains("Bcc:"));
        assert_eq!(n.message_id, "<notice.in-2026-00004@Marac.example.test>");

        let q = compose_notice(&NoticeInput { outcome: Outcome::Quarantined, category: Category::SenderNotAllowlisted, ..input }, &c).unwrap();
        assert!(q.subject.contains("quarantined") && q.subject.contains("sender not on the secure list"), "{}", q.subject);
        assert!(matches!(compose_notice(&NoticeInput { outcome: Outcome::Accepted, ..input }, &c), Err(ReplyError::NoReply)), "only review and quarantine items");
    }

    #[test]
    fn an_agenda_goes_to_its_officer_with_the_xlsx_attached_and_no_names_outside_it() {
        let c = config();
        let xlsx = b"PK\x03\x04 not really a workbook".to_vec();
        let input = AgendaInput {
            to: "dmo@nhs.example.test",
            agency: "Kingsmere NHS Trust",
            area_id: "default",
            meeting: NaiveDate::from_ymd_opt(2026, 1, 27).unwrap(),
            cases: 2,
            xlsx: &xlsx,
            initials: true,
            sequence: 3,
            now: now(),
        };
        let a = compose_agenda(&input, &c).unwrap();
        assert_eq!((a.kind, a.to.as_str()), (OutboxKind::Agenda, "dmo@nhs.example.test"));
        assert_eq!(a.subject, "Kingsmere MARAC agenda: meeting of Tuesday 27 January 2026");
        assert_eq!(a.message_id, "<agenda.default-2026-01-27-3@Marac.example.test>");
        let parsed = mail_parser::MessageParser::default().parse(a.raw.as_bytes()).unwrap();
        assert_eq!(parsed.to().and_then(|t| t.first()).and_then(|t| t.address()), Some("dmo@nhs.example.test"));
        assert!(parsed.cc().is_none() && parsed.bcc().is_none());
        assert_eq!(parsed.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
        let body = parsed.body_text(0).unwrap();
        assert!(body.contains("Kingsmere NHS Trust") && body.contains("2 cases") && body.contains("initials"), "{body}");
        assert_eq!(parsed.attachment_count(), 1);
        let att = parsed.attachment(0).unwrap();
        assert_eq!(mail_parser::MimeHeaders::attachment_name(att), Some("marac-agenda-2026-01-27.xlsx"));
        assert_eq!(att.contents(), &xlsx[..], "the workbook whole");
        let other = compose_agenda(&AgendaInput { sequence: 4, ..input }, &c).unwrap();
        assert_ne!(other.message_id, a.message_id, "each send its own Message-ID");
    }
}
