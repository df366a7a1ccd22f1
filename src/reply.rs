//! Reply composition (pure): acknowledgement, rejection or holding reply as an RFC 5322 message,
//! built with lettre's message builder. Addressed only to the decided recipient (never a Cc),
//! threaded with `In-Reply-To`/`References`, marked `Auto-Submitted: auto-replied` (RFC 3834) so
//! auto-responders do not answer it, and carrying no personal data beyond what the referrer sent:
//! the reference, the meeting date and the reasons.

use crate::config::{Config, Template};
use crate::decide::ReplyKind;
use crate::mime::Envelope;
use chrono::{DateTime, FixedOffset, NaiveDate};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;

/// `Auto-Submitted: auto-replied` (RFC 3834).
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".to_owned())
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

/// A composed reply, ready for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub kind: ReplyKind,
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
    /// The case reference (accepted) or our reference for the message (rejected, review).
    pub reference: &'a str,
    /// Our reference for the incoming message: makes the reply's Message-ID unique.
    pub message_ref: &'a str,
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
    let (subject, body) = template.render(&[
        ("area", c.file.area.as_str()),
        ("reference", input.reference),
        ("meeting_date", meeting.as_str()),
        ("reasons", reasons.as_str()),
        ("their_subject", their_subject.as_str()),
    ]);
    let from: Mailbox = format!("{} MARAC <{}>", c.file.area, c.file.replies.from)
        .parse()
        .map_err(|_| ReplyError::Address("replies.from".into()))?;
    let to: Mailbox = input.to.parse().map_err(|_| ReplyError::Address("recipient".into()))?;
    let domain = c.file.replies.from.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let message_id = format!("<{}.{}@{}>", input.kind.as_str(), input.message_ref.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-"), domain);
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(subject.clone())
        .message_id(Some(message_id.clone()))
        .date(std::time::SystemTime::from(input.now))
        .header(AutoSubmitted)
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
    Ok(Reply { kind: input.kind, to: input.to.to_owned(), subject, message_id, raw })
}
