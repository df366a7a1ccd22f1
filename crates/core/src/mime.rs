//! Stage 1: raw message bytes → [`Email`]: envelope, signals, bodies and every attachment,
//! including those inside forwarded messages. Pure: bytes in, values out. mail-parser panics on
//! some crafted input (its issues 120 and 145); the panic is contained and becomes a problem.

use crate::document::{Problem, ProblemKind};
use crate::limits::Limits;
use crate::limits::mime::{LAST_REFERENCES, MAX_ARC_INSTANCES};
use crate::sniff::{sniff, FileKind};
use chrono::{DateTime, FixedOffset, NaiveDate};
use mail_parser::{Address, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// One email as read from its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Email {
    pub envelope: Envelope,
    pub signals: Vec<Signal>,
    /// The Message-IDs it refers to, for recognising our own replies when they come back.
    #[serde(skip_serializing_if = "Refers::is_empty")]
    pub refers: Refers,
    /// The first text/plain body (converted from HTML when only HTML was sent).
    #[serde(skip)]
    pub body_text: String,
    pub attachments: Vec<Attachment>,
    pub problems: Vec<Problem>,
    /// sha256 of the raw message, lowercase hex.
    pub sha256: String,
    pub size: usize,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Envelope {
    pub from: Option<Mailbox>,
    pub sender: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The Date: header.
    pub date: Option<DateTime<FixedOffset>>,
    /// The date of the topmost Received: header: when our own server accepted the message.
    pub received: Option<DateTime<FixedOffset>>,
    pub return_path: Option<String>,
    /// Every Authentication-Results header, topmost first, in the order they were written (none
    /// dropped or merged: which ones the receiving server wrote is decided later, by position,
    /// from the configuration).
    pub authentication_results: Vec<AuthResults>,
    /// The ARC sets (RFC 8617) a hub added, if any.
    #[serde(skip_serializing_if = "ArcHeaders::is_empty")]
    pub arc: ArcHeaders,
    /// How many originator headers the message has: more than one From (or Sender, or
    /// Reply-To) is a forgery's sign, since checkers and readers may judge different ones.
    pub originators: Originators,
    /// Our own DKIM check of the message, when one was made: never here (parsing is pure), set by
    /// `triage` from `marac_intake::dkim` before the decision, and judged by `crate::trust`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_dkim: Option<OwnDkim>,
}

/// What our own DKIM check found (`marac_intake::dkim`): facts only, judged by `crate::trust`. Domains
/// and results, never an address or anything of the message's content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum OwnDkim {
    /// The check ran to its end: each DKIM-Signature's result, and the From domain's DMARC
    /// verdict resting on them (on DKIM alone: SPF is the SMTP receiver's check).
    Checked { signatures: Vec<OwnSignature>, dmarc: Verdict, dmarc_detail: String },
    /// It could not run to its end (no answer from the resolver in time, say): why, as the end
    /// of a sentence.
    NotChecked { why: String },
}

/// One DKIM-Signature as we checked it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OwnSignature {
    /// Its `d=`, lower-cased (empty when the header could not be read).
    pub domain: String,
    pub verdict: Verdict,
    /// Why it did not pass, in words (empty on a pass).
    pub detail: String,
}

/// A DKIM or DMARC result (RFC 8601 names).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Neutral,
    TempError,
    PermError,
    None,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Neutral => "neutral",
            Verdict::TempError => "temperror",
            Verdict::PermError => "permerror",
            Verdict::None => "none",
        }
    }
}

/// Counts of the originator headers (RFC 5322 §3.6 allows one of each).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Originators {
    pub from_headers: usize,
    /// Addresses in the first From header (a From listing several is refused by DMARC).
    pub from_addresses: usize,
    pub sender_headers: usize,
    pub reply_to_headers: usize,
}

/// The ARC headers of a message (RFC 8617), as written: which instance a trusted sealer added
/// is decided later, from the configuration. Not verified here: the receiving server's
/// `arc=` result says whether the chain holds.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ArcHeaders {
    /// (instance `i=`, sealing domain `d=`, chain validation `cv=`), topmost first.
    pub seals: Vec<ArcSeal>,
    /// `ARC-Authentication-Results`, each with its instance, topmost first.
    pub results: Vec<(u32, AuthResults)>,
}

impl ArcHeaders {
    pub fn is_empty(&self) -> bool {
        self.seals.is_empty() && self.results.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ArcSeal {
    pub instance: u32,
    /// The sealer's domain, lower-cased.
    pub domain: String,
    /// `none`, `pass` or `fail`, lower-cased.
    pub cv: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// The domain part, lower-cased.
    pub fn domain(&self) -> Option<String> {
        self.address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())
    }
}

/// One Authentication-Results header (RFC 8601).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuthResults {
    /// Lower-cased; empty when the header names none (Exchange Online writes it so).
    pub authserv_id: String,
    pub results: Vec<AuthResult>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuthResult {
    /// spf, dkim, dmarc, arc, iprev, auth, ... lower-cased.
    pub method: String,
    /// pass, fail, softfail, neutral, none, temperror, permerror, policy, ... lower-cased.
    pub result: String,
    /// ptype.property=value pairs, e.g. ("header.from", "example.test").
    pub properties: Vec<(String, String)>,
}

impl AuthResults {
    /// The results of one method, e.g. every `dkim` result.
    pub fn of<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a AuthResult> + 'a {
        self.results.iter().filter(move |r| r.method == method)
    }
}

/// The Message-IDs a message refers to, lower-cased and without angle brackets, so that the
/// store can recognise our own replies (their Message-IDs are ours) when they come back. At most
/// [`crate::limits::MAX_REFERRED_IDS`] in all, each listed once.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Refers {
    /// The message this one is about. For a delivery status notification (a bounce): the
    /// Message-ID of the returned original (a `message/rfc822` or `text/rfc822-headers` part, or
    /// else a `Message-ID:` line quoted in the report's text) and the report's own In-Reply-To.
    /// For any other message: its In-Reply-To.
    pub about: Vec<String>,
    /// Further up the thread: References, and the returned original's In-Reply-To and References.
    pub thread: Vec<String>,
    /// The `Action` of each recipient in a `message/delivery-status` part (`failed`, `delayed`,
    /// `delivered`, ...), lower-cased.
    pub dsn_actions: Vec<String>,
}

impl Refers {
    pub fn is_empty(&self) -> bool {
        self.about.is_empty() && self.thread.is_empty() && self.dsn_actions.is_empty()
    }

    /// Whether a delivery status notification reports a failure: true unless every recipient's
    /// `Action` is a delay or a success (a report without a readable `Action` counts as a failure).
    pub fn reports_failure(&self) -> bool {
        self.dsn_actions.is_empty() || self.dsn_actions.iter().any(|a| a == "failed")
    }

    fn add(&mut self, about: bool, id: &str) {
        let Some(id) = normalise_message_id(id) else { return };
        if self.about.contains(&id) || (!about && self.thread.contains(&id)) {
            return;
        }
        if self.about.len() + self.thread.len() >= crate::limits::MAX_REFERRED_IDS {
            return;
        }
        if about {
            self.thread.retain(|t| *t != id);
            self.about.push(id);
        } else {
            self.thread.push(id);
        }
    }
}

/// A Message-ID as the store keeps it: without angle brackets or surrounding space,
/// lower-cased. `None` when it cannot be one (empty, no `@`, spaces inside, over 250 bytes).
pub fn normalise_message_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    if id.is_empty() || id.len() > 250 || !id.contains('@') || id.contains(char::is_whitespace) || id.contains(['<', '>']) {
        return None;
    }
    Some(id.to_ascii_lowercase())
}

/// The normalised Message-ID in a message's header block (for messages of our own, such as the
/// outbox's), if it has one. Never panics.
pub fn header_message_id(raw: &[u8]) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::default().parse_headers(raw).and_then(|m| m.message_id().and_then(normalise_message_id))))
        .ok()
        .flatten()
}

/// Why a message is not a person writing to us.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Signal {
    pub kind: SignalKind,
    /// What showed it: the header and its value (never subject text beyond the matched prefix).
    pub evidence: String,
    /// The header field that showed it, when one did (`Auto-Submitted`, `X-Auto-Response-Suppress`,
    /// ...): what a later stage asks instead of reading `evidence`.
    #[serde(skip)]
    pub header: Option<&'static str>,
}

/// The header asking for no automatic replies (Exchange): on its own, no auto-reply.
pub const X_AUTO_RESPONSE_SUPPRESS: &str = "X-Auto-Response-Suppress";

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// An automatic reply (out of office, autoresponder): RFC 3834 and vendor headers.
    AutoReply,
    /// A delivery status notification (bounce).
    Dsn,
    /// Mailing-list or bulk mail.
    List,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// Position for a person: "2", or "forwarded 1 › 2" for one inside a forwarded message.
    pub at: String,
    /// Decoded file name (RFC 2047 / RFC 2231), if any.
    pub name: Option<String>,
    /// The MIME type the sender declared; informational only.
    pub declared_type: String,
    /// Shown inside the body (Content-Disposition inline, or referenced by Content-ID): a logo
    /// or signature image rather than a document sent for us to read.
    pub inline: bool,
    /// What the bytes are.
    pub kind: FileKind,
    pub size: usize,
    pub sha256: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// Reads one raw message. Never panics; whatever could not be read is in `problems`.
pub fn parse(raw: &[u8], limits: &Limits) -> Email {
    let mut email = Email {
        envelope: Envelope::default(),
        signals: Vec::new(),
        refers: Refers::default(),
        body_text: String::new(),
        attachments: Vec::new(),
        problems: Vec::new(),
        sha256: sha256_hex(raw),
        size: raw.len(),
    };
    let headers_only = raw.len() > limits.max_message_bytes;
    if headers_only {
        email.problems.push(Problem::new(
            ProblemKind::LimitExceeded,
            format!("message is {} bytes, limit {}; only its headers were read", raw.len(), limits.max_message_bytes),
        ));
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let parser = MessageParser::default();
        let msg = if headers_only { parser.parse_headers(raw) } else { parser.parse(raw) };
        msg.map(|m| read_message(&m, limits, headers_only))
    }));
    match parsed {
        Ok(Some(read)) => {
            email.envelope = read.envelope;
            email.signals = read.signals;
            email.refers = read.refers;
            email.body_text = read.body_text;
            email.attachments = read.attachments;
            email.problems.extend(read.problems);
        }
        Ok(None) => email.problems.push(Problem::new(ProblemKind::Corrupt, "not an RFC 5322 message")),
        Err(_) => email.problems.push(Problem::new(
            ProblemKind::ParserPanic,
            "the MIME parser failed on this message; it needs a person to read it",
        )),
    }
    email
}

struct Read {
    envelope: Envelope,
    signals: Vec<Signal>,
    refers: Refers,
    body_text: String,
    attachments: Vec<Attachment>,
    problems: Vec<Problem>,
}

fn read_message(msg: &Message<'_>, limits: &Limits, headers_only: bool) -> Read {
    let envelope = envelope(msg);
    let mut signals = signals(msg, &envelope);
    let dsn = signals.iter().any(|s| s.kind == SignalKind::Dsn);
    let refers = refers(msg, &envelope, dsn && !headers_only);
    let mut read = Read {
        envelope,
        signals: Vec::new(),
        refers,
        body_text: String::new(),
        attachments: Vec::new(),
        problems: Vec::new(),
    };
    if !headers_only {
        read.body_text = body_text(msg);
        let mut walk = Walk { limits, out: &mut read.attachments, problems: &mut read.problems, truncated: false };
        walk.message(msg, "", 0);
        if walk.truncated {
            read.problems.push(Problem::new(
                ProblemKind::LimitExceeded,
                format!("more than {} attachments; the rest were not read", limits.max_attachments),
            ));
        }
        if msg.parts.iter().any(|p| p.is_encoding_problem) {
            read.problems.push(Problem::new(ProblemKind::Corrupt, "a MIME part has a broken transfer encoding"));
        }
    }
    signals.dedup_by(|a, b| a.kind == b.kind && a.evidence == b.evidence);
    read.signals = signals;
    read
}

struct Walk<'a> {
    limits: &'a Limits,
    out: &'a mut Vec<Attachment>,
    problems: &'a mut Vec<Problem>,
    truncated: bool,
}

impl Walk<'_> {
    fn message(&mut self, msg: &Message<'_>, prefix: &str, depth: usize) {
        let mut forwarded = 0;
        for (index, part) in msg.parts.iter().enumerate() {
            // Bodies are not attachments: the first text and html bodies stay in the message.
            let is_body = msg.text_body.contains(&(index as u32)) || msg.html_body.contains(&(index as u32));
            match &part.body {
                PartType::Message(inner) => {
                    forwarded += 1;
                    if depth + 1 > self.limits.max_depth {
                        self.problems.push(Problem::new(
                            ProblemKind::LimitExceeded,
                            format!("forwarded messages nested deeper than {}", self.limits.max_depth),
                        ));
                        continue;
                    }
                    let prefix = format!("{prefix}forwarded {forwarded} › ");
                    self.message(inner, &prefix, depth + 1);
                }
                PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                    // Report parts of a bounce (message/delivery-status, text/rfc822-headers) are
                    // not attachments; a nameless part of another type still is.
                    let report_part = part.attachment_name().is_none()
                        && part.content_type().is_some_and(|ct| {
                            ct.ctype().eq_ignore_ascii_case("message")
                                || ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
                        });
                    if !report_part {
                        self.push(part, bytes, prefix);
                    }
                }
                PartType::Text(text) | PartType::Html(text) if !is_body => {
                    // A text part sent as an attachment (a .txt or .csv). Declared charsets were
                    // already decoded; the bytes are UTF-8.
                    if part.attachment_name().is_some()
                        || part.content_disposition().is_some_and(|d| d.is_attachment())
                    {
                        self.push(part, text.as_bytes(), prefix);
                    }
                }
                _ => {}
            }
        }
    }

    fn push(&mut self, part: &mail_parser::MessagePart<'_>, bytes: &[u8], prefix: &str) {
        if self.out.len() >= self.limits.max_attachments {
            self.truncated = true;
            return;
        }
        let declared_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let kind = sniff(bytes);
        let inline = part.content_disposition().is_some_and(|d| d.is_inline())
            || (part.content_id().is_some() && !part.content_disposition().is_some_and(|d| d.is_attachment()));
        self.out.push(Attachment {
            at: format!("{prefix}{}", self.out.len() + 1),
            name: part.attachment_name().map(clean_name),
            declared_type,
            inline,
            kind,
            size: bytes.len(),
            sha256: sha256_hex(bytes),
            bytes: bytes.to_vec(),
        });
    }
}

/// File names come from the sender: strip path components and control characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

fn envelope(msg: &Message<'_>) -> Envelope {
    // mail-parser's accessors return the last of repeated headers; a DMARC checker judges the
    // first From, so the first is the one read (and repeats are counted).
    let first = |is: fn(&HeaderName<'_>) -> bool| msg.headers().iter().find(|h| is(&h.name)).and_then(|h| h.value().as_address());
    let count = |name: &str| msg.headers_raw().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count();
    let from = first(|n| matches!(n, HeaderName::From));
    Envelope {
        from: from.and_then(first_mailbox),
        sender: first(|n| matches!(n, HeaderName::Sender)).and_then(first_mailbox),
        reply_to: first(|n| matches!(n, HeaderName::ReplyTo)).map(mailboxes).unwrap_or_default(),
        to: msg.to().map(mailboxes).unwrap_or_default(),
        cc: msg.cc().map(mailboxes).unwrap_or_default(),
        subject: msg.subject().map(str::to_owned),
        message_id: msg.message_id().map(str::to_owned),
        in_reply_to: text_list(msg.in_reply_to()),
        references: text_list(msg.references()),
        date: msg.date().and_then(to_chrono),
        received: topmost_received_date(msg),
        return_path: match msg.return_path() {
            HeaderValue::Text(t) => Some(t.to_string()),
            HeaderValue::TextList(l) => l.first().map(|t| t.to_string()),
            _ => msg.header_raw(HeaderName::ReturnPath).map(|r| r.trim().trim_matches(['<', '>']).to_owned()),
        },
        authentication_results: raw_values(msg, "Authentication-Results").iter().filter_map(|h| parse_authentication_results(h)).collect(),
        arc: arc_headers(msg),
        originators: Originators {
            from_headers: count("From"),
            from_addresses: from.map(|a| a.iter().count()).unwrap_or(0),
            sender_headers: count("Sender"),
            reply_to_headers: count("Reply-To"),
        },
        own_dkim: None,
    }
}

/// The ARC-Seal and ARC-Authentication-Results headers, topmost first, at most 50 of each
/// (RFC 8617 allows instances 1 to 50).
fn arc_headers(msg: &Message<'_>) -> ArcHeaders {
    let instance = |tag: &str| tag.trim().strip_prefix("i=").and_then(|n| n.trim().parse::<u32>().ok()).filter(|n| (1..=50).contains(n));
    let mut arc = ArcHeaders::default();
    for v in raw_values(msg, "ARC-Seal").iter().take(MAX_ARC_INSTANCES) {
        let clean = strip_comments(v);
        let mut seal = ArcSeal { instance: 0, domain: String::new(), cv: String::new() };
        for tag in clean.split(';') {
            let Some((k, val)) = tag.split_once('=') else { continue };
            let val: String = val.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
            match k.trim().to_ascii_lowercase().as_str() {
                "i" => seal.instance = instance(&format!("i={val}")).unwrap_or(0),
                "d" => seal.domain = val,
                "cv" => seal.cv = val,
                _ => {}
            }
        }
        if seal.instance > 0 && !seal.domain.is_empty() {
            arc.seals.push(seal);
        }
    }
    for v in raw_values(msg, "ARC-Authentication-Results").iter().take(MAX_ARC_INSTANCES) {
        // "i=1; authserv-id; method=result ..."
        let Some((i, rest)) = v.split_once(';') else { continue };
        if let (Some(i), Some(results)) = (instance(i), parse_authentication_results(rest)) {
            arc.results.push((i, results));
        }
    }
    arc
}

/// Raw values of a header that mail-parser may not have parsed as text.
fn raw_values(msg: &Message<'_>, name: &str) -> Vec<String> {
    msg.headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| unfold(v))
        .collect()
}

fn unfold(v: &str) -> String {
    v.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

fn first_mailbox(a: &Address<'_>) -> Option<Mailbox> {
    mailboxes(a).into_iter().next()
}

fn mailboxes(a: &Address<'_>) -> Vec<Mailbox> {
    a.iter()
        .filter_map(|addr| {
            let address = addr.address()?.trim();
            if address.is_empty() {
                return None;
            }
            Some(Mailbox { name: addr.name().map(str::to_owned), address: address.to_owned() })
        })
        .collect()
}

fn text_list(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn to_chrono(d: &mail_parser::DateTime) -> Option<DateTime<FixedOffset>> {
    let date = NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?;
    let time = date.and_hms_opt(u32::from(d.hour), u32::from(d.minute), u32::from(d.second))?;
    let secs = (i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60) * if d.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(secs)?;
    time.and_local_timezone(offset).single()
}

fn topmost_received_date(msg: &Message<'_>) -> Option<DateTime<FixedOffset>> {
    // mail-parser's accessor returns the last occurrence; the topmost header is the first.
    let first = msg.headers().iter().find(|h| matches!(h.name, HeaderName::Received));
    if let Some(d) = first.and_then(|h| h.value().as_received()).and_then(|r| r.date.as_ref()).and_then(to_chrono) {
        return Some(d);
    }
    // mail-parser could not read the whole header: the date is what follows the last ';'.
    let raw = raw_values(msg, "Received").into_iter().next()?;
    let (_, date) = raw.rsplit_once(';')?;
    mail_parser::DateTime::parse_rfc822(date.trim()).as_ref().and_then(to_chrono)
}

fn body_text(msg: &Message<'_>) -> String {
    msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
}

fn signals(msg: &Message<'_>, env: &Envelope) -> Vec<Signal> {
    let mut out = Vec::new();
    let mut add = |kind, header: Option<&'static str>, evidence: String| out.push(Signal { kind, evidence, header });
    let header = |name: &str| raw_values(msg, name).into_iter().next().map(|v| v.trim().to_owned());

    if let Some(v) = header("Auto-Submitted") {
        let token = v.split([';', '(', ' ']).next().unwrap_or("").trim().to_ascii_lowercase();
        if token != "no" {
            add(SignalKind::AutoReply, Some("Auto-Submitted"), format!("Auto-Submitted: {}", short(&v)));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", X_AUTO_RESPONSE_SUPPRESS] {
        if let Some(v) = header(name) {
            add(SignalKind::AutoReply, Some(name), format!("{name}: {}", short(&v)));
        }
    }
    if let Some(v) = header("Precedence") {
        let lower = v.to_ascii_lowercase();
        if ["bulk", "junk", "list", "auto_reply"].iter().any(|p| lower.starts_with(p)) {
            let kind = if lower.starts_with("auto_reply") { SignalKind::AutoReply } else { SignalKind::List };
            add(kind, Some("Precedence"), format!("Precedence: {}", short(&v)));
        }
    }
    if let Some(v) = header("List-Id") {
        add(SignalKind::List, Some("List-Id"), format!("List-Id: {}", short(&v)));
    }
    if header("List-Unsubscribe").is_some() && header("List-Id").is_none() {
        add(SignalKind::List, Some("List-Unsubscribe"), "List-Unsubscribe present".to_owned());
    }
    if let Some(subject) = &env.subject {
        if let Some(prefix) = auto_reply_subject_prefix(subject) {
            add(SignalKind::AutoReply, Some("Subject"), format!("Subject starts with \"{prefix}\""));
        }
    }
    if msg.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        add(SignalKind::Dsn, Some("Content-Type"), "Content-Type: multipart/report".to_owned());
    }
    if msg.parts.iter().any(|p| {
        p.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
        })
    }) {
        add(SignalKind::Dsn, None, "message/delivery-status part".to_owned());
    }
    if let Some(from) = &env.from {
        let local = from.address.split('@').next().unwrap_or("").to_ascii_lowercase();
        if local == "mailer-daemon" || local == "postmaster" {
            add(SignalKind::Dsn, Some("From"), format!("From: {local}@…"));
        }
    }
    if env.return_path.as_deref().is_some_and(|r| r.trim().is_empty() || r.trim() == "<>") {
        // A null reverse-path alone is not a bounce (some notifications use it), but with a
        // report or daemon sender it confirms one; record it only as supporting evidence.
        if out.iter().any(|s| s.kind == SignalKind::Dsn) {
            out.push(Signal { kind: SignalKind::Dsn, evidence: "Return-Path: <>".to_owned(), header: Some("Return-Path") });
        }
    }
    out
}

/// The Message-IDs `msg` refers to (see [`Refers`]). For a bounce (`dsn`) the returned
/// original is looked for among the top-level parts; the report's text is searched for quoted
/// header lines only when no such part names a Message-ID. Bounded: at most
/// [`crate::limits::MAX_REFERRED_IDS`] ids, [`crate::limits::MAX_REPORT_SCAN_BYTES`] read per
/// part and the last 8 References of each header.
fn refers(msg: &Message<'_>, env: &Envelope, dsn: bool) -> Refers {
    let last = |v: &[String]| v[v.len().saturating_sub(LAST_REFERENCES)..].to_vec();
    let mut r = Refers::default();
    if dsn {
        for part in msg.parts.iter().skip(1).take(64) {
            let subtype = part.content_type().map(|ct| (ct.ctype().to_ascii_lowercase(), ct.subtype().unwrap_or("").to_ascii_lowercase()));
            let Some((ctype, sub)) = subtype else { continue };
            match (&part.body, ctype.as_str(), sub.as_str()) {
                (PartType::Message(inner), _, _) => {
                    if let Some(id) = inner.message_id() {
                        r.add(true, id);
                    }
                    for id in text_list(inner.in_reply_to()).iter().chain(&last(&text_list(inner.references()))) {
                        r.add(false, id);
                    }
                }
                (_, "text" | "message", "rfc822-headers" | "global-headers") | (_, "message", "rfc822" | "global") => {
                    let bytes = part.contents();
                    // The part's last header line ends at the boundary, without a line break of
                    // its own: end the block, or the parser drops that line.
                    let mut head = bytes[..bytes.len().min(crate::limits::MAX_REPORT_SCAN_BYTES)].to_vec();
                    head.extend_from_slice(b"\r\n\r\n");
                    if let Some(h) = MessageParser::default().parse_headers(&head) {
                        if let Some(id) = h.message_id() {
                            r.add(true, id);
                        }
                        for id in text_list(h.in_reply_to()).iter().chain(&last(&text_list(h.references()))) {
                            r.add(false, id);
                        }
                    }
                }
                (_, "message", "delivery-status" | "global-delivery-status") => {
                    let bytes = part.contents();
                    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(crate::limits::MAX_REPORT_SCAN_BYTES)]);
                    for line in text.lines() {
                        if let Some((name, value)) = line.split_once(':') {
                            if name.trim().eq_ignore_ascii_case("action") && r.dsn_actions.len() < 16 {
                                let action = value.split(['(', ';']).next().unwrap_or("").trim().to_ascii_lowercase();
                                if !action.is_empty() {
                                    r.dsn_actions.push(action);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if r.about.is_empty() {
            // Many MTAs quote the original's headers in the report's text instead.
            let mut budget = crate::limits::MAX_REPORT_SCAN_BYTES;
            for id in &msg.text_body {
                let Some(text) = msg.part(*id).and_then(|p| p.text_contents()) else { continue };
                let text = &text[..floor_char_boundary(text, budget)];
                budget -= text.len();
                let (about, thread) = quoted_header_ids(text);
                for id in about {
                    r.add(true, &id);
                }
                for id in thread {
                    r.add(false, &id);
                }
            }
        }
    }
    for id in &env.in_reply_to {
        r.add(true, id);
    }
    for id in last(&env.references) {
        r.add(false, &id);
    }
    r
}

/// The largest index at most `n` that is a character boundary of `s`.
fn floor_char_boundary(s: &str, n: usize) -> usize {
    let mut i = n.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Message-IDs named by header lines quoted in a bounce report's text (`Message-ID:` lines, then
/// `In-Reply-To:` and `References:` lines with their folded continuations), each line possibly
/// indented or quoted with `>`. Returns (Message-IDs, In-Reply-To and References ids).
pub fn quoted_header_ids(text: &str) -> (Vec<String>, Vec<String>) {
    let (mut about, mut thread) = (Vec::new(), Vec::new());
    let mut current: Option<bool> = None;
    for line in text.lines() {
        let folded = line.starts_with([' ', '\t']);
        let bare = line.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
        let name = bare.split_once(':').map(|(n, _)| n.trim().to_ascii_lowercase());
        let value = match name.as_deref() {
            Some("message-id") => {
                current = Some(true);
                bare.split_once(':').map(|(_, v)| v)
            }
            Some("in-reply-to" | "references") => {
                current = Some(false);
                bare.split_once(':').map(|(_, v)| v)
            }
            _ if folded && current.is_some() && bare.starts_with('<') => Some(bare),
            _ => {
                current = None;
                None
            }
        };
        let (Some(v), Some(is_about)) = (value, current) else { continue };
        for token in v.split('<').skip(1) {
            let Some((id, _)) = token.split_once('>') else { continue };
            if is_about { about.push(id.to_owned()) } else { thread.push(id.to_owned()) }
        }
    }
    (about, thread)
}

const AUTO_REPLY_PREFIXES: &[&str] = &[
    "automatic reply:",
    "auto reply:",
    "auto-reply:",
    "autoreply:",
    "auto response:",
    "out of office:",
    "out of office reply",
    "out of the office:",
    "réponse automatique",
    "abwesenheitsnotiz",
    "automatische antwort",
];

/// The auto-reply prefix of a subject ("Automatic reply:", "Out of Office:"), if any.
pub fn auto_reply_subject_prefix(subject: &str) -> Option<&'static str> {
    let lower = subject.trim_start().to_lowercase();
    AUTO_REPLY_PREFIXES.iter().copied().find(|p| lower.starts_with(p))
}

fn short(v: &str) -> String {
    v.chars().take(60).collect()
}

/// Parses one Authentication-Results header value (RFC 8601). Comments are dropped; unknown
/// syntax is skipped rather than guessed. A header that starts with a result instead of an
/// authserv-id (Exchange Online's form: `spf=pass ...; dmarc=pass ...; compauth=pass ...`) is
/// read with an empty `authserv_id`. None only when the value is empty.
pub fn parse_authentication_results(value: &str) -> Option<AuthResults> {
    let clean = strip_comments(value);
    let mut parts = split_outside_quotes(&clean, ';');
    let head = parts.first()?.clone();
    let first_word = head.split_whitespace().next()?.to_ascii_lowercase();
    let authserv_id = if first_word.contains('=') {
        String::new()
    } else {
        parts.remove(0);
        first_word
    };
    let mut results = Vec::new();
    for resinfo in parts {
        let mut tokens = split_outside_quotes(&resinfo, ' ').into_iter().filter(|t| !t.is_empty());
        let Some(first) = tokens.next() else { continue };
        let Some((method, result)) = first.split_once('=') else { continue };
        let method = method.split('/').next().unwrap_or(method).trim().to_ascii_lowercase();
        if method.is_empty() || method == "none" {
            continue;
        }
        let mut properties = Vec::new();
        for t in tokens {
            if let Some((k, v)) = t.split_once('=') {
                let k = k.trim().to_ascii_lowercase();
                if k == "reason" {
                    continue;
                }
                properties.push((k, v.trim().replace('"', "")));
            }
        }
        results.push(AuthResult { method, result: result.trim().to_ascii_lowercase(), properties });
    }
    Some(AuthResults { authserv_id, results })
}

fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            c if depth == 0 => out.push(if c == '\t' || c == '\r' || c == '\n' { ' ' } else { c }),
            _ => {}
        }
    }
    out
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == sep && !quoted {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out.into_iter().map(|p| p.trim().to_owned()).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &str = "Received: from a.example.test by mx.marac.example.test; Tue, 04 Feb 2025 09:47:02 +0000\r\n\
Received: from b by a; Tue, 04 Feb 2025 09:46:00 +0000\r\n\
Authentication-Results: mx.marac.example.test;\r\n\tdkim=pass (2048-bit key) header.d=x.example.test header.b=abc;\r\n\tspf=pass (sender ok) smtp.mailfrom=a@x.example.test;\r\n\tdmarc=pass (p=NONE) header.from=x.example.test\r\n\
From: A Person <a@x.example.test>\r\n\
Reply-To: b@y.example.test\r\n\
Cc: c@z.example.test, d@z.example.test\r\n\
Subject: =?windows-1252?Q?Referral_=96_caf=E9?=\r\n\
Message-ID: <id1@x.example.test>\r\n\
Date: Tue, 04 Feb 2025 09:44:10 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 body\r\n\
--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n filename*0*=UTF-8''R%C3%A9f%C3%A9;\r\n filename*1*=rral.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n\
--b1--\r\n";

    #[test]
    fn envelope_and_legacy_charsets() {
        let e = parse(SIMPLE.as_bytes(), &Limits::default());
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        let env = &e.envelope;
        assert_eq!(env.from.as_ref().unwrap().address, "a@x.example.test");
        assert_eq!(env.reply_to[0].address, "b@y.example.test");
        assert_eq!(env.cc.len(), 2);
        assert_eq!(env.subject.as_deref(), Some("Referral – café"));
        assert_eq!(env.message_id.as_deref(), Some("id1@x.example.test"));
        assert_eq!(env.received.unwrap().to_rfc3339(), "2025-02-04T09:47:02+00:00");
        assert_eq!(env.date.unwrap().to_rfc3339(), "2025-02-04T09:44:10+00:00");
        assert!(e.body_text.contains("Café body"));
        assert!(e.signals.is_empty());
    }

    #[test]
    fn rfc2231_continuation_name_and_content_sniffing() {
        let e = parse(SIMPLE.as_bytes(), &Limits::default());
        assert_eq!(e.attachments.len(), 1);
        let a = &e.attachments[0];
        assert_eq!(a.name.as_deref(), Some("Référral.pdf"));
        assert_eq!(a.declared_type, "application/octet-stream");
        assert_eq!(a.kind, FileKind::Pdf);
    }

    #[test]
    fn authentication_results_per_rfc8601() {
        let r = parse_authentication_results(
            "mx.marac.example.test 1; dkim=pass (good sig) header.d=a.test; spf=fail smtp.mailfrom=\"x;y\"@a.test; dmarc=fail (p=reject) header.from=a.test",
        )
        .unwrap();
        assert_eq!(r.authserv_id, "mx.marac.example.test");
        let methods: Vec<_> = r.results.iter().map(|r| (r.method.as_str(), r.result.as_str())).collect();
        assert_eq!(methods, vec![("dkim", "pass"), ("spf", "fail"), ("dmarc", "fail")]);
        assert_eq!(r.results[1].properties[0].1, "x;y@a.test");
        assert!(parse_authentication_results("mx.example.test; none").unwrap().results.is_empty());
    }

    #[test]
    fn exchange_online_results_without_an_authserv_id_are_read() {
        let r = parse_authentication_results(
            "spf=pass (sender IP is 198.51.100.7)\r\n smtp.mailfrom=x.test; dkim=pass (signature was verified)\r\n header.d=x.test;dmarc=pass action=none\r\n header.from=x.test;compauth=pass reason=100",
        )
        .unwrap();
        assert_eq!(r.authserv_id, "", "none written");
        let methods: Vec<_> = r.results.iter().map(|r| (r.method.as_str(), r.result.as_str())).collect();
        assert_eq!(methods, vec![("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass"), ("compauth", "pass")]);
        assert!(r.results[2].properties.contains(&("header.from".into(), "x.test".into())));
    }

    #[test]
    fn the_first_from_is_read_and_repeated_originators_counted() {
        let m = "Authentication-Results: mx.test; dmarc=pass header.from=a.test\r\n\
Authentication-Results: mx.test; dmarc=pass header.from=forged.test\r\n\
From: First <one@a.test>\r\nFrom: Second <two@b.test>\r\nReply-To: r@a.test\r\nReply-To: s@b.test\r\nSender: x@a.test\r\n\r\nHi\r\n";
        let e = parse(m.as_bytes(), &Limits::default()).envelope;
        assert_eq!(e.from.unwrap().address, "one@a.test", "the From a DMARC checker judges");
        assert_eq!(e.originators, Originators { from_headers: 2, from_addresses: 1, sender_headers: 1, reply_to_headers: 2 });
        assert_eq!(e.reply_to[0].address, "r@a.test");
        let order: Vec<_> = e.authentication_results.iter().map(|a| a.results[0].properties[0].1.as_str()).collect();
        assert_eq!(order, vec!["a.test", "forged.test"], "every header, topmost first, none merged");

        let group = "From: one@a.test, two@b.test\r\n\r\nHi\r\n";
        assert_eq!(parse(group.as_bytes(), &Limits::default()).envelope.originators.from_addresses, 2);
    }

    #[test]
    fn arc_sets_are_read() {
        let m = "ARC-Seal: i=2; a=rsa-sha256; t=1; cv=pass;\r\n d=Hub.example.test; s=s1; b=abc\r\n\
ARC-Authentication-Results: i=2; mx.hub.example.test; dkim=pass header.d=a.test; dmarc=pass header.from=a.test\r\n\
ARC-Seal: i=1; cv=none; d=first.example.test; s=s; b=x\r\n\
ARC-Seal: i=99; cv=none; d=bogus.test; b=x\r\n\
From: one@a.test\r\n\r\nHi\r\n";
        let arc = parse(m.as_bytes(), &Limits::default()).envelope.arc;
        assert_eq!(arc.seals, vec![
            ArcSeal { instance: 2, domain: "hub.example.test".into(), cv: "pass".into() },
            ArcSeal { instance: 1, domain: "first.example.test".into(), cv: "none".into() },
        ], "an instance over 50 is not one");
        assert_eq!(arc.results.len(), 1);
        assert_eq!((arc.results[0].0, arc.results[0].1.authserv_id.as_str()), (2, "mx.hub.example.test"));
    }

    #[test]
    fn auto_replies_bounces_and_lists_are_signalled() {
        let ooo = "From: a@x.test\r\nAuto-Submitted: auto-replied\r\nSubject: Automatic reply: referral\r\n\r\nAway\r\n";
        let e = parse(ooo.as_bytes(), &Limits::default());
        assert_eq!(e.signals.iter().filter(|s| s.kind == SignalKind::AutoReply).count(), 2);

        let no = "From: a@x.test\r\nAuto-Submitted: no\r\nSubject: Referral\r\n\r\nHi\r\n";
        assert!(parse(no.as_bytes(), &Limits::default()).signals.is_empty());

        let dsn = "From: MAILER-DAEMON@mx.test\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--x--\r\n";
        let e = parse(dsn.as_bytes(), &Limits::default());
        assert!(e.signals.iter().any(|s| s.kind == SignalKind::Dsn));

        let list = "From: a@x.test\r\nList-Id: <news.x.test>\r\nPrecedence: bulk\r\n\r\nHi\r\n";
        let e = parse(list.as_bytes(), &Limits::default());
        assert_eq!(e.signals.iter().filter(|s| s.kind == SignalKind::List).count(), 2);
    }

    #[test]
    fn forwarded_message_attachments_are_found() {
        let inner = "From: orig@x.test\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--i\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n--i--\r\n";
        let outer = format!("From: fwd@y.test\r\nSubject: Fw: inner\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--o--\r\n");
        let e = parse(outer.as_bytes(), &Limits::default());
        assert_eq!(e.attachments.len(), 1, "{:?}", e.attachments);
        assert_eq!(e.attachments[0].at, "forwarded 1 › 1");
        assert_eq!(e.attachments[0].kind, FileKind::Pdf);
    }

    #[test]
    fn oversized_message_reads_headers_only() {
        let limits = Limits { max_message_bytes: 100, ..Limits::default() };
        let e = parse(SIMPLE.as_bytes(), &limits);
        assert_eq!(e.problems[0].kind, ProblemKind::LimitExceeded);
        assert!(e.attachments.is_empty());
        assert_eq!(e.envelope.from.unwrap().address, "a@x.example.test");
    }

    /// A bounce as Postfix writes it: explanation, delivery-status, and the returned headers.
    fn postfix_bounce(action: &str, text_extra: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mail.x.test (Mail Delivery System)\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Message-ID: <20260120.B1@mail.x.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n{text_extra}\r\n\
--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.x.test\r\n\r\nFinal-Recipient: rfc822; a@x.test\r\nAction: {action}\r\nStatus: 5.1.1\r\n\
--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Kingsmere MARAC <marac@marac.test>\r\nTo: a@x.test\r\n\
Message-ID: <Acknowledgement.IN-2026-00003@marac.test>\r\nIn-Reply-To: <ref-1@x.test>\r\nReferences: <ref-0@x.test>\r\n <ref-1@x.test>\r\n\
--r--\r\n"
        )
    }

    #[test]
    fn a_message_refers_to_its_in_reply_to_and_references() {
        let m = "From: a@x.test\r\nMessage-ID: <m@x.test>\r\nIn-Reply-To: <Rejection.IN-2026-00001@marac.test>\r\nReferences: <r0@x.test> <rejection.in-2026-00001@marac.test>\r\n\r\nThanks\r\n";
        let e = parse(m.as_bytes(), &Limits::default());
        assert_eq!(e.refers.about, vec!["rejection.in-2026-00001@marac.test"], "lower-cased, without brackets");
        assert_eq!(e.refers.thread, vec!["r0@x.test"], "listed once, under about");
        assert!(e.refers.dsn_actions.is_empty());
        assert!(e.refers.reports_failure(), "no report: nothing says it is only a delay");
        let plain = parse(SIMPLE.as_bytes(), &Limits::default());
        assert!(plain.refers.is_empty());
    }

    #[test]
    fn a_bounce_refers_to_the_returned_original() {
        let e = parse(postfix_bounce("failed", "").as_bytes(), &Limits::default());
        assert!(e.signals.iter().any(|s| s.kind == SignalKind::Dsn));
        assert_eq!(e.refers.about, vec!["acknowledgement.in-2026-00003@marac.test"]);
        assert_eq!(e.refers.thread, vec!["ref-1@x.test", "ref-0@x.test"]);
        assert_eq!(e.refers.dsn_actions, vec!["failed"]);
        assert!(e.refers.reports_failure());
        assert!(e.attachments.is_empty(), "report parts are not attachments");
    }

    #[test]
    fn a_returned_part_wins_over_header_lines_in_the_report_text() {
        let e = parse(postfix_bounce("failed", "Message-ID: <other@x.test>").as_bytes(), &Limits::default());
        assert_eq!(e.refers.about, vec!["acknowledgement.in-2026-00003@marac.test"]);
        assert!(!e.refers.thread.contains(&"other@x.test".to_owned()));
    }

    #[test]
    fn a_delay_warning_is_not_a_failure() {
        let e = parse(postfix_bounce("delayed", "").as_bytes(), &Limits::default());
        assert_eq!(e.refers.dsn_actions, vec!["delayed"]);
        assert!(!e.refers.reports_failure());
        let mixed = Refers { dsn_actions: vec!["delayed".into(), "failed".into()], ..Refers::default() };
        assert!(mixed.reports_failure());
    }

    #[test]
    fn a_bounce_returning_the_whole_message_refers_to_it() {
        let m = "From: postmaster@mx.y.test\r\nSubject: Undeliverable: MARAC referral received\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nDelivery has failed.\r\n\
--r\r\nContent-Type: message/rfc822\r\n\r\nFrom: marac@marac.test\r\nTo: a@y.test\r\nMessage-ID: <holding.in-2026-00007@marac.test>\r\n\
In-Reply-To: <orig@y.test>\r\nSubject: x\r\n\r\nWe have received your referral.\r\n\
--r--\r\n";
        let e = parse(m.as_bytes(), &Limits::default());
        assert_eq!(e.refers.about, vec!["holding.in-2026-00007@marac.test"]);
        assert_eq!(e.refers.thread, vec!["orig@y.test"]);
    }

    #[test]
    fn a_bounce_quoting_the_headers_in_its_text_refers_to_them() {
        // A one-part bounce, as qmail and older Exim write them.
        let m = "From: MAILER-DAEMON@mx.z.test\r\nSubject: failure notice\r\nContent-Type: text/plain\r\n\r\n\
Sorry, I couldn't deliver your message.\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n\
Return-Path: <>\r\n   Message-ID: <notice.in-2026-00002@marac.test>\r\n> References: <t1@z.test>\r\n\t<t2@z.test>\r\nSubject: x\r\n\t<not-a-reference@z.test>\r\n";
        let e = parse(m.as_bytes(), &Limits::default());
        assert!(e.signals.iter().any(|s| s.kind == SignalKind::Dsn));
        assert_eq!(e.refers.about, vec!["notice.in-2026-00002@marac.test"]);
        assert_eq!(e.refers.thread, vec!["t1@z.test", "t2@z.test"]);
    }

    #[test]
    fn only_a_bounce_is_searched_for_a_returned_original() {
        // A person forwarding one of our replies: not a bounce, so its inner Message-ID is not
        // taken (the outer one is still checked by the store against our replies).
        let m = "From: a@x.test\r\nSubject: Fw: referral received\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: text/plain\r\n\r\nMessage-ID: <quoted@x.test>\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n\
From: marac@marac.test\r\nMessage-ID: <acknowledgement.in-2026-00001@marac.test>\r\n\r\nReceived.\r\n--o--\r\n";
        assert!(parse(m.as_bytes(), &Limits::default()).refers.is_empty());
    }

    #[test]
    fn references_are_bounded() {
        let many: String = (0..500).map(|i| format!(" <r{i}@x.test>")).collect();
        let m = format!("From: a@x.test\r\nIn-Reply-To: <r499@x.test>\r\nReferences:{many}\r\n\r\nHi\r\n");
        let e = parse(m.as_bytes(), &Limits::default());
        assert_eq!(e.refers.about, vec!["r499@x.test"]);
        assert_eq!(e.refers.thread, (492..499).map(|i| format!("r{i}@x.test")).collect::<Vec<_>>(), "the last 8, less the one already listed");

        // Header lines beyond the scanned part of a report's text are not read.
        let pad = "x".repeat(crate::limits::MAX_REPORT_SCAN_BYTES);
        let m = format!("From: MAILER-DAEMON@mx.z.test\r\nContent-Type: text/plain\r\n\r\n{pad}\r\nMessage-ID: <late@z.test>\r\n");
        assert!(parse(m.as_bytes(), &Limits::default()).refers.about.is_empty());
        let ids: String = (0..100).map(|i| format!("Message-ID: <m{i}@z.test>\r\n")).collect();
        let m = format!("From: MAILER-DAEMON@mx.z.test\r\nContent-Type: text/plain\r\n\r\n{ids}");
        assert_eq!(parse(m.as_bytes(), &Limits::default()).refers.about.len(), crate::limits::MAX_REFERRED_IDS);
    }

    #[test]
    fn message_ids_are_normalised_or_refused() {
        assert_eq!(normalise_message_id(" <A.B@X.Test> ").as_deref(), Some("a.b@x.test"));
        assert_eq!(normalise_message_id("no-at-sign"), None);
        assert_eq!(normalise_message_id("<a b@x.test>"), None);
        assert_eq!(normalise_message_id("<>"), None);
        assert_eq!(normalise_message_id(&format!("<{}@x.test>", "a".repeat(300))), None);
    }

    #[test]
    fn attachment_count_limit_is_a_problem() {
        let limits = Limits { max_attachments: 0, ..Limits::default() };
        let e = parse(SIMPLE.as_bytes(), &limits);
        assert!(e.attachments.is_empty());
        assert!(e.problems.iter().any(|p| p.kind == ProblemKind::LimitExceeded));
    }
}
