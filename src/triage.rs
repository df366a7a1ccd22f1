//! The one place the stages are wired for one message: inspect (pure) → our own DKIM check (an
//! edge, only when due) → history look-up → decide (pure) → case, message, decision and outbox
//! reply written in one transaction (with, when configured, the coordinators' notice of a review
//! or quarantine item, and the bounced mark on the outbox row a bounce reports). The `triage` command and the mailbox service both come
//! through [`triage_message`].

use crate::config::{Area, Config};
use crate::decide::{decide, notice_category, CaseAction, Category, Decision, Outcome, ReplyKind, KNOWN_IN_ANOTHER_AREA, KNOWN_IN_ANOTHER_AREA_NOTE};
use crate::route::{route, Routed};
use crate::identity::PersonName;
use crate::inspect::{inspect, InspectOptions, Inspection};
use crate::reply::{compose_notice, to_referrer, NoticeInput};
use crate::sniff::FileKind;
use crate::store::{Action, CaseWrite, MessageRecord, NewMessage, Store, StoreError, Victim};
use chrono::{DateTime, Datelike, FixedOffset};

/// Why a message was not decided, by what the caller does about it ([`TriageError::action`]).
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The database failed: its own [`Action`] says whether to try again or stop.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// This message's own trouble (its reading ended without an answer, its reply cannot be
    /// built for the sender's address, its reading does not serialise): others are unaffected,
    /// and this one is parked for a coordinator.
    #[error("{0}")]
    Message(String),
}

impl TriageError {
    pub fn action(&self) -> Action {
        match self {
            TriageError::Store(e) => e.action(),
            TriageError::Message(_) => Action::Park,
        }
    }
}

impl From<crate::reply::ReplyError> for TriageError {
    fn from(e: crate::reply::ReplyError) -> Self {
        TriageError::Message(format!("composing the reply: {e}"))
    }
}

impl From<serde_json::Error> for TriageError {
    fn from(e: serde_json::Error) -> Self {
        TriageError::Message(format!("keeping what was read: {e}"))
    }
}

/// When the message arrived: the topmost `Received:` date (our server's), else `Date:`.
pub fn arrival(i: &Inspection) -> Option<DateTime<FixedOffset>> {
    i.envelope.received.or(i.envelope.date)
}

/// How the configuration reads messages.
pub fn inspect_options(c: &Config) -> InspectOptions {
    InspectOptions { limits: c.file.limits.clone(), synonyms: c.synonyms.clone(), clock: std::time::Instant::now }
}

/// Reads a message on a blocking thread: reading is CPU work bounded by the limits (seconds at
/// worst), kept off the async threads so the service goes on answering signals, the watchdog and
/// the IMAP keep-alive meanwhile. Independent of the history, so several can run at once.
pub fn read(raw: std::sync::Arc<Vec<u8>>, opts: InspectOptions) -> tokio::task::JoinHandle<Inspection> {
    tokio::task::spawn_blocking(move || inspect(&raw, &opts))
}

/// Our own DKIM check (`crate::dkim`, DNS and cryptography, bounded by `timeout`), made before
/// the decision and before the database's write lock is taken, only when `trust` wants it: the
/// configuration asks for it and the receiving server recorded no results. Its facts go on the
/// envelope; `decide` (through `trust`) judges them.
pub async fn own_dkim(inspection: &mut Inspection, raw: &[u8], c: &Config, timeout: std::time::Duration) {
    let s = &c.file.senders;
    if !crate::trust::wants_own_dkim(&inspection.envelope, s) {
        return;
    }
    inspection.envelope.own_dkim = Some(match s.dns_resolver_addr() {
        Some(resolver) => crate::dkim::check(raw, crate::dkim::DkimSettings { resolver, timeout }).await,
        None => crate::mime::OwnDkim::NotChecked { why: "no DNS resolver is configured (senders.dns_resolver)".into() },
    });
}

/// Triages one raw message as if it arrived at `arrived` (default: from its headers, else `now`)
/// and commits the outcome. Sends nothing: a reply due is left in the outbox.
pub async fn triage_message(raw: &[u8], file: Option<&str>, arrived: Option<DateTime<FixedOffset>>, now: DateTime<FixedOffset>, c: &Config, store: &Store) -> Result<MessageRecord, TriageError> {
    let inspection = read(std::sync::Arc::new(raw.to_vec()), inspect_options(c)).await.map_err(|e| TriageError::Message(format!("reading the message: {e}")))?;
    decide_and_commit(inspection, raw, file, arrived, now, c, None, store).await
}

/// The areas a message arriving in `mailbox` may be for ([`crate::config::Area::mailbox`]); every
/// area for files given to the `triage` command (None).
pub fn candidates<'a>(c: &'a Config, mailbox: Option<&str>) -> Vec<&'a Area> {
    c.areas.iter().filter(|a| mailbox.is_none_or(|m| a.mailbox() == m)).collect()
}

/// The history look-up, the decision and its writes for a message already read (its decisions
/// must be made in arrival order: each may depend on the one before). `raw` is kept with them.
/// The message is routed first, among the areas of `mailbox` ([`candidates`]): it is looked up
/// and decided by its area's rules. One whose area cannot be told is decided by the top level's
/// and waits for a coordinator ([`Decision::area_not_told`]).
#[allow(clippy::too_many_arguments)]
pub async fn decide_and_commit(mut inspection: Inspection, raw: &[u8], file: Option<&str>, arrived: Option<DateTime<FixedOffset>>, now: DateTime<FixedOffset>, c: &Config, mailbox: Option<&str>, store: &Store) -> Result<MessageRecord, TriageError> {
    let candidates = candidates(c, mailbox);
    let (area, ac, unplaced) = match route(&candidates, &inspection) {
        Routed::Area { area, .. } => (area.id.as_str(), &area.config, None),
        Routed::Unknown { why } => ("", c, Some(why)),
    };
    own_dkim(&mut inspection, raw, ac, crate::dkim::TIMEOUT).await;
    let arrived = arrived.or_else(|| arrival(&inspection)).unwrap_or(now);
    let day = arrived.date_naive();
    let referral = inspection.referral.as_ref();
    let victim = Victim {
        name: referral.and_then(|r| r.get("victim.name")).and_then(|n| PersonName::parse(n).ok()),
        dob: referral.and_then(|r| r.victim_dob),
    };
    let hashes: Vec<String> = inspection
        .attachments
        .iter()
        .filter(|a| !matches!(a.kind, FileKind::Image | FileKind::Text | FileKind::Unknown))
        .map(|a| a.sha256.clone())
        .collect();

    let mut tx = store.begin().await?;
    let mut found = tx.look_up(inspection.envelope.message_id.as_deref(), &inspection.refers, &inspection.message_sha256, &hashes, &victim, area, day).await?;
    let mut decision: Decision = decide(&inspection, &found.history, ac, day);
    // What the coordinators read beside the decision's reasons, never the referrer: why the area
    // could not be told, and that the victim is known to another area.
    let mut notes: Vec<String> = Vec::new();
    if let Some(why) = unplaced {
        if decision.area_not_told() {
            notes.push(why);
        }
    }
    if found.history.known_in_another_area && !decision.reasons.iter().any(|r| r == KNOWN_IN_ANOTHER_AREA) {
        notes.push(KNOWN_IN_ANOTHER_AREA_NOTE.to_owned());
    }
    let stored_reasons: Vec<String> = decision.reasons.iter().chain(&notes).cloned().collect();
    if matches!(decision.category, Some(Category::ReplyBounced | Category::NoticeBounced)) {
        // A bounce is not a referral: whatever its returned parts name, it is tied to nobody.
        found.person = None;
    }

    let case = match &decision.case {
        CaseAction::None => CaseWrite::None,
        CaseAction::Linked { .. } => CaseWrite::Linked,
        CaseAction::New => CaseWrite::New {
            victim_name: victim.name.as_ref().map(|n| n.as_written().to_owned()).unwrap_or_else(|| "(name not given)".into()),
            victim_key: victim.name.as_ref().map(PersonName::key).unwrap_or_default(),
            dob: victim.dob,
            meeting: ac.schedule.next_meeting(day),
            reference_format: ac.file.case.clone(),
        },
    };
    let reference = tx.message_reference(day.year()).await?;
    let inspection_json = serde_json::to_string(&inspection)?;
    let message = NewMessage {
        area,
        message_id: inspection.envelope.message_id.as_deref(),
        sha256: &inspection.message_sha256,
        arrived,
        file,
        outcome: decision.outcome,
        criteria: decision.criteria.clone(),
        reasons: &stored_reasons,
        dash: inspection.dash.as_ref().map(|d| (d.yes, d.no, d.unknown)),
        reply_kind: decision.reply,
        reply_to: &decision.reply_to,
        inspection_json: &inspection_json,
        attachments: inspection.attachments.iter().map(|a| (a.sha256.as_str(), format!("{:?}", a.kind).to_lowercase(), a.name.as_deref(), a.size)).collect(),
    };
    let written = tx.write(&reference, &message, &found, case, now.to_utc()).await?;
    if area.is_empty() {
        // Shown to the users of the areas it may be for, who place it.
        tx.keep_candidates(written.row, &candidates.iter().map(|a| a.id.as_str()).collect::<Vec<_>>()).await?;
    }
    if let (Outcome::Review, None, Some(name), Some(dob)) = (decision.outcome, &written.person_ref, &victim.name, victim.dob) {
        tx.keep_review_victim(written.row, name, dob).await?;
    }
    if raw.len() <= c.file.limits.max_message_bytes {
        tx.keep_source(written.row, raw).await?;
    }

    if decision.reply != ReplyKind::None {
        if let Some(to) = decision.reply_to.first() {
            let reply = to_referrer(decision.reply, to, &inspection.envelope, &written.reference, &decision.reasons_for_referrer(), day, now, ac)?;
            tx.queue_reply(written.row, &reply, now.to_utc()).await?;
        }
    }
    if !decision.bounced.is_empty() {
        tx.mark_bounced(&decision.bounced, &crate::clock::stamp(now.to_utc())).await?;
    }
    let notice_to = c.file.smtp.as_ref().and_then(|s| s.coordinators_notice_to.as_deref());
    if let (Some(to), Some(category)) = (notice_to, notice_category(&decision)) {
        let notice = compose_notice(&NoticeInput { to, message_ref: &written.reference, outcome: decision.outcome, category, now }, ac)?;
        tx.queue_reply(written.row, &notice, now.to_utc()).await?;
    }
    let record = tx.record(written.row).await?;
    tx.commit().await?;
    Ok(record)
}

/// Records a message that could not be decided (an error that is not the database's: the reply
/// could not be built for its sender's address, say) as a `review` item with no reply, so one bad
/// message never stops the mailbox and is never lost: a coordinator reads it. Only the message's
/// identifiers are read from it; nothing is inspected again. It is the area's of `candidates`
/// (the mailbox's areas) when there is one, else a coordinator of one of them places it.
pub async fn record_unprocessable(raw: &[u8], file: Option<&str>, arrived: Option<DateTime<FixedOffset>>, now: DateTime<FixedOffset>, candidates: &[&Area], store: &Store) -> Result<MessageRecord, StoreError> {
    let email = crate::mime::parse(raw, &crate::limits::Limits::default());
    let arrived = arrived.unwrap_or(now);
    let sha = crate::mime::sha256_hex(raw);
    let reasons = vec!["this message could not be processed automatically (an internal error while deciding it): a coordinator must read it and answer the referrer; no reply was sent".to_owned()];
    let mut tx = store.begin().await?;
    let reference = tx.message_reference(arrived.year()).await?;
    let area = match candidates {
        [only] => only.id.as_str(),
        _ => "",
    };
    let message = NewMessage {
        area,
        message_id: email.envelope.message_id.as_deref(),
        sha256: &sha,
        arrived,
        file,
        outcome: Outcome::Review,
        criteria: Vec::new(),
        reasons: &reasons,
        dash: None,
        reply_kind: ReplyKind::None,
        reply_to: &[],
        inspection_json: "{}",
        attachments: Vec::new(),
    };
    let written = tx.write(&reference, &message, &crate::store::Found::default(), CaseWrite::None, now.to_utc()).await?;
    if area.is_empty() {
        tx.keep_candidates(written.row, &candidates.iter().map(|a| a.id.as_str()).collect::<Vec<_>>()).await?;
    }
    if raw.len() <= crate::limits::Limits::default().max_message_bytes {
        tx.keep_source(written.row, raw).await?;
    }
    let record = tx.record(written.row).await?;
    tx.commit().await?;
    Ok(record)
}
