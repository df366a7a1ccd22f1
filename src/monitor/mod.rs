//! What operators see of the service: Prometheus metrics, health, and systemd's status line.
//!
//! - Typed events ([`decided`], [`reader_problems`], [`outbox_attempt`], [`mailbox_watching`],
//!   [`imap_connected`], [`pass_done`], [`token_read`]): the one place each writes its counter or
//!   gauge (and, for a decision, its log line). They are cheap and never fail: a process that
//!   serves no `/metrics` (the `triage` command) records into nothing.
//! - [`recorder`]: the process's one recorder (`metrics` with `metrics-exporter-prometheus`),
//!   installed by `run` and `serve`; [`render`] is a scrape: the database's gauges
//!   ([`crate::store::gauges`]) are read then, and the text format rendered by the exporter.
//! - [`server`]: `/metrics`, `/healthz` and `/readyz` on `[metrics] listen`.
//! - [`status_line`]: what `systemctl status` shows (`STATUS=`).
//!
//! Labels are area ids, outcome names, outbox statuses, problem kinds and mailbox names made of
//! area ids: never an address, a name, a subject or anything read from a message.

pub mod server;

use crate::clock::Clock;
use crate::inspect::Located;
use crate::store::gauges::Gauges;
use crate::store::{MessageRecord, Store};
use chrono::{DateTime, Utc};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The metrics' names, as the alert rules (`ops/prometheus/`) and the README name them.
pub mod names {
    /// Counter: messages decided and committed, by `outcome` and `area` (empty: not told).
    pub const DECIDED: &str = "marac_messages_decided_total";
    /// Histogram: from a message's bytes in hand to its decision committed, in seconds.
    pub const DECISION_SECONDS: &str = "marac_decision_duration_seconds";
    /// Counter: problems the readers reported, by `kind` ([`crate::document::ProblemKind`]).
    pub const READER_PROBLEMS: &str = "marac_reader_problems_total";
    /// Counter: outbox send attempts by `result` (sent, deferred, failed, refused, expired, waiting).
    pub const OUTBOX_ATTEMPTS: &str = "marac_outbox_attempts_total";
    /// Gauge (from the database at each scrape): outbox rows by `status`.
    pub const OUTBOX_ROWS: &str = "marac_outbox_rows";
    /// Gauge (from the database): how long the oldest reply not yet handed over has waited; 0 when none.
    pub const OUTBOX_OLDEST_UNSENT: &str = "marac_outbox_oldest_unsent_age_seconds";
    /// Gauge (from the database): messages waiting in review for a coordinator.
    pub const REVIEW_WAITING: &str = "marac_review_waiting";
    /// Gauge (from the database): how long the oldest of them has waited; 0 when none.
    pub const REVIEW_OLDEST: &str = "marac_review_oldest_age_seconds";
    /// Gauge: 1 when the database answered this scrape, else 0.
    pub const DATABASE_UP: &str = "marac_database_up";
    /// Gauge per `mailbox`: 1 while this instance is logged in to it, else 0.
    pub const IMAP_CONNECTED: &str = "marac_imap_connected";
    /// Gauge per `mailbox`: 1 while this instance holds its lease (watches it), else 0.
    pub const MAILBOX_WATCHED: &str = "marac_mailbox_watched";
    /// Gauge per `mailbox`: when a pass over it last finished (Unix seconds).
    pub const LAST_PASS: &str = "marac_mailbox_last_pass_timestamp_seconds";
    /// Gauge per `service` (imap, smtp): seconds until the OAuth2 token read last expires. Absent
    /// when no token with a readable expiry (a JWT's `exp`) is in use.
    pub const TOKEN_EXPIRY: &str = "marac_token_expiry_seconds";

    /// Every name above (a histogram's series add `_bucket`, `_sum` and `_count`).
    pub const ALL: [&str; 13] = [
        DECIDED,
        DECISION_SECONDS,
        READER_PROBLEMS,
        OUTBOX_ATTEMPTS,
        OUTBOX_ROWS,
        OUTBOX_OLDEST_UNSENT,
        REVIEW_WAITING,
        REVIEW_OLDEST,
        DATABASE_UP,
        IMAP_CONNECTED,
        MAILBOX_WATCHED,
        LAST_PASS,
        TOKEN_EXPIRY,
    ];
}
use names::*;

/// The decision latency histogram's buckets, in seconds.
pub const DECISION_BUCKETS: [f64; 12] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed at the first call (by `run` and `serve` at start); later
/// calls return the same handle.
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DECISION_SECONDS.to_owned()), &DECISION_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("Another metrics recorder was installed first; /metrics shows only the database's gauges.");
        }
        describe_counter!(DECIDED, "Messages decided and committed, by outcome and area.");
        describe_histogram!(DECISION_SECONDS, Unit::Seconds, "From a message's bytes in hand to its decision committed.");
        describe_counter!(READER_PROBLEMS, "Problems the attachment readers reported, by kind.");
        describe_counter!(OUTBOX_ATTEMPTS, "Outbox send attempts, by result.");
        describe_gauge!(OUTBOX_ROWS, "Outbox rows, by status (read from the database at each scrape).");
        describe_gauge!(OUTBOX_OLDEST_UNSENT, Unit::Seconds, "How long the oldest reply not yet handed to the server has waited (0 when none).");
        describe_gauge!(REVIEW_WAITING, "Messages waiting in review for a coordinator.");
        describe_gauge!(REVIEW_OLDEST, Unit::Seconds, "How long the oldest review item has waited (0 when none).");
        describe_gauge!(DATABASE_UP, "1 when the database answered this scrape.");
        describe_gauge!(IMAP_CONNECTED, "1 while this instance is logged in to the mailbox.");
        describe_gauge!(MAILBOX_WATCHED, "1 while this instance holds the mailbox's lease and watches it.");
        describe_gauge!(LAST_PASS, Unit::Seconds, "When a pass over the mailbox last finished (Unix time).");
        describe_gauge!(TOKEN_EXPIRY, Unit::Seconds, "Seconds until the OAuth2 token in use expires (absent when unknown).");
        handle
    })
}

/// What the process knows of one mailbox it watches or waits to watch.
#[derive(Debug, Clone, Default)]
struct MailboxHealth {
    /// This instance holds its lease.
    watching: bool,
    connected: bool,
    /// When it was last logged in (monotonic; for readiness).
    connected_at: Option<Instant>,
}

static MAILBOXES: Mutex<BTreeMap<String, MailboxHealth>> = Mutex::new(BTreeMap::new());
/// Messages decided since the process started (for the status line).
static DECIDED_SINCE_START: AtomicU64 = AtomicU64::new(0);
/// When each service's token expires (Unix seconds), if known.
static TOKENS: Mutex<BTreeMap<&'static str, i64>> = Mutex::new(BTreeMap::new());

fn mailboxes() -> std::sync::MutexGuard<'static, BTreeMap<String, MailboxHealth>> {
    MAILBOXES.lock().unwrap_or_else(|p| p.into_inner())
}

/// The mailboxes of the configuration in force (at each start of the mailbox task): the ones no
/// longer configured are forgotten, a new one starts unconnected, and one watched before keeps
/// when it was last logged in (a reload's reconnection is within [`RECONNECT_GRACE`]).
pub fn mailboxes_expected(labels: &[String]) {
    let mut m = mailboxes();
    m.retain(|k, _| labels.contains(k));
    for l in labels {
        if !m.contains_key(l) {
            m.insert(l.clone(), MailboxHealth::default());
            gauge!(IMAP_CONNECTED, "mailbox" => l.clone()).set(0.0);
            gauge!(MAILBOX_WATCHED, "mailbox" => l.clone()).set(0.0);
        }
    }
}

/// This instance took (true) or gave up (false) the mailbox's lease.
pub fn mailbox_watching(label: &str, watching: bool) {
    let mut m = mailboxes();
    let h = m.entry(label.to_owned()).or_default();
    h.watching = watching;
    gauge!(MAILBOX_WATCHED, "mailbox" => label.to_owned()).set(if watching { 1.0 } else { 0.0 });
    if !watching {
        h.connected = false;
        gauge!(IMAP_CONNECTED, "mailbox" => label.to_owned()).set(0.0);
    }
}

/// This instance logged in to the mailbox (true) or lost or closed the session (false).
pub fn imap_connected(label: &str, connected: bool) {
    let mut m = mailboxes();
    let h = m.entry(label.to_owned()).or_default();
    h.connected = connected;
    if connected {
        h.connected_at = Some(Instant::now());
    }
    gauge!(IMAP_CONNECTED, "mailbox" => label.to_owned()).set(if connected { 1.0 } else { 0.0 });
}

/// A pass over the mailbox finished at `now`.
pub fn pass_done(label: &str, now: DateTime<Utc>) {
    gauge!(LAST_PASS, "mailbox" => label.to_owned()).set(now.timestamp_millis() as f64 / 1000.0);
}

/// A message was decided and committed (`took`: from its bytes in hand to the commit): the log
/// line, the counter and the latency histogram.
pub fn decided(uid: u32, record: &MessageRecord, took: Duration) {
    tracing::info!(uid, reference = %record.reference, outcome = record.outcome.as_str(), area = %record.area, took_ms = took.as_millis() as u64, "message decided");
    counter!(DECIDED, "outcome" => record.outcome.as_str(), "area" => record.area.clone()).increment(1);
    histogram!(DECISION_SECONDS).record(took.as_secs_f64());
    DECIDED_SINCE_START.fetch_add(1, Ordering::Relaxed);
}

/// The problems the readers reported for one message, counted by kind.
pub fn reader_problems(problems: &[Located]) {
    for p in problems {
        counter!(READER_PROBLEMS, "kind" => p.problem.kind.as_str()).increment(1);
    }
}

/// One outbox attempt ended with `result` (the outbox's own spelling of it).
pub fn outbox_attempt(result: &'static str) {
    counter!(OUTBOX_ATTEMPTS, "result" => result).increment(1);
}

/// An OAuth2 bearer token for `service` (`imap`, `smtp`) was read: when it is a JWT with an
/// `exp` claim (Microsoft's are), its expiry is kept for [`TOKEN_EXPIRY`]. Nothing else of the
/// token is read or kept, and nothing is verified (the server does that).
pub fn token_read(service: &'static str, token: &str) {
    let mut t = TOKENS.lock().unwrap_or_else(|p| p.into_inner());
    match jwt_expiry(token) {
        Some(exp) => {
            t.insert(service, exp);
        }
        None => {
            t.remove(service);
        }
    }
}

/// The `exp` claim (Unix seconds) of a JWT's payload, if `token` is a JWT that has one.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    use base64::Engine;
    let mut parts = token.trim().split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 16 * 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

/// How long a watched mailbox may be without a session before `/readyz` says so: a reconnection
/// after a server restart or a network blip is not worth an alarm.
pub const RECONNECT_GRACE: Duration = Duration::from_secs(120);

/// Whether every mailbox this instance watches is logged in (or was within [`RECONNECT_GRACE`]);
/// mailboxes another instance watches (their lease is elsewhere) do not count. The reason names
/// the mailbox otherwise.
pub fn mailboxes_ready() -> Result<(), String> {
    ready(&mailboxes(), Instant::now())
}

fn ready(m: &BTreeMap<String, MailboxHealth>, now: Instant) -> Result<(), String> {
    for (label, h) in m.iter() {
        if !h.watching || h.connected {
            continue;
        }
        match h.connected_at {
            Some(at) if now.saturating_duration_since(at) < RECONNECT_GRACE => continue,
            Some(_) => return Err(format!("mailbox {label} not connected for over {} s", RECONNECT_GRACE.as_secs())),
            None => return Err(format!("mailbox {label} not connected yet")),
        }
    }
    Ok(())
}

/// The line `systemctl status` shows: "watching 2 mailboxes; 14 decided, 0 waiting to send".
/// `gauges` is None when the database did not answer.
pub fn status_line(gauges: Option<&Gauges>) -> String {
    let (watched, connected) = {
        let m = mailboxes();
        (m.values().filter(|h| h.watching).count(), m.values().filter(|h| h.watching && h.connected).count())
    };
    status(watched, connected, DECIDED_SINCE_START.load(Ordering::Relaxed), gauges)
}

fn status(watched: usize, connected: usize, decided: u64, gauges: Option<&Gauges>) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "es" };
    let mut line = if connected == watched {
        format!("watching {watched} mailbox{}", plural(watched))
    } else {
        format!("watching {watched} mailbox{}, {} not connected", plural(watched), watched - connected)
    };
    line.push_str(&format!("; {decided} decided"));
    match gauges {
        Some(g) => line.push_str(&format!(", {} waiting to send", crate::store::gauges::UNSENT.iter().map(|s| g.outbox_rows(s)).sum::<i64>())),
        None => line.push_str(", database not answering"),
    }
    if let Some(g) = gauges.filter(|g| g.review > 0) {
        line.push_str(&format!(", {} in review", g.review));
    }
    line
}

/// How long a scrape waits for the database's figures.
pub const DATABASE_DEADLINE: Duration = Duration::from_secs(5);

/// The database's figures, or None when it did not answer within [`DATABASE_DEADLINE`].
pub async fn read_gauges(store: &Store) -> Option<Gauges> {
    match tokio::time::timeout(DATABASE_DEADLINE, store.gauges()).await {
        Ok(Ok(g)) => Some(g),
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "The monitoring figures could not be read from the database.");
            None
        }
        Err(_) => {
            tracing::warn!(deadline_s = DATABASE_DEADLINE.as_secs(), "The database did not give the monitoring figures in time.");
            None
        }
    }
}

/// A scrape: the database's gauges as they are now (at `clock`'s now), the tokens' time left,
/// then the whole text format.
pub async fn render(store: &Store, clock: &Clock) -> String {
    let handle = recorder();
    let now = clock.now();
    let g = read_gauges(store).await;
    gauge!(DATABASE_UP).set(if g.is_some() { 1.0 } else { 0.0 });
    if let Some(g) = &g {
        set_database_gauges(g, now);
    }
    for (service, exp) in TOKENS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        gauge!(TOKEN_EXPIRY, "service" => *service).set((*exp - now.timestamp()) as f64);
    }
    handle.run_upkeep();
    handle.render()
}

/// The outbox statuses always shown (0 when none), so an alert on one has a series to read.
pub const OUTBOX_STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "refused"];

fn set_database_gauges(g: &Gauges, now: DateTime<Utc>) {
    for s in OUTBOX_STATUSES {
        gauge!(OUTBOX_ROWS, "status" => s).set(g.outbox_rows(s) as f64);
    }
    for (s, n) in g.outbox.iter().filter(|(s, _)| !OUTBOX_STATUSES.contains(&s.as_str())) {
        gauge!(OUTBOX_ROWS, "status" => s.clone()).set(*n as f64);
    }
    gauge!(OUTBOX_OLDEST_UNSENT).set(age(g.oldest_unsent.as_deref(), now));
    gauge!(REVIEW_WAITING).set(g.review as f64);
    gauge!(REVIEW_OLDEST).set(age(g.oldest_review.as_deref(), now));
}

/// Seconds from the stored instant `at` to `now`; 0 when there is none.
fn age(at: Option<&str>, now: DateTime<Utc>) -> f64 {
    at.and_then(crate::clock::parse).map_or(0.0, |t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwt_gives_its_expiry_and_anything_else_gives_none() {
        use base64::Engine;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!("{}.{}.{}", enc(r#"{"alg":"RS256"}"#), enc(r#"{"aud":"https://outlook.office365.com","exp":1893456000}"#), enc("sig"));
        assert_eq!(jwt_expiry(&jwt), Some(1_893_456_000));
        assert_eq!(jwt_expiry("ya29.opaque-google-token"), None);
        assert_eq!(jwt_expiry(&format!("{}.{}.{}", enc("{}"), enc(r#"{"sub":"x"}"#), enc("s"))), None);
        assert_eq!(jwt_expiry("a.b.c.d"), None);
    }

    #[test]
    fn ages_are_seconds_since_the_stored_instant_and_zero_without_one() {
        let now = crate::clock::parse("2026-12-06T10:00:30.500Z").unwrap();
        assert_eq!(age(Some("2026-12-06T10:00:00.000Z"), now), 30.5);
        assert_eq!(age(None, now), 0.0);
    }

    #[test]
    fn the_status_line_says_mailboxes_decisions_replies_waiting_and_review() {
        let g = Gauges { outbox: vec![("pending".into(), 2), ("sending".into(), 1), ("sent".into(), 40)], review: 3, ..Gauges::default() };
        assert_eq!(status(2, 2, 14, Some(&Gauges::default())), "watching 2 mailboxes; 14 decided, 0 waiting to send");
        assert_eq!(status(1, 1, 14, Some(&g)), "watching 1 mailbox; 14 decided, 3 waiting to send, 3 in review");
        assert_eq!(status(2, 1, 0, None), "watching 2 mailboxes, 1 not connected; 0 decided, database not answering");
    }

    #[test]
    fn ready_when_every_mailbox_watched_here_is_logged_in_or_was_a_moment_ago() {
        let now = Instant::now() + Duration::from_secs(1000);
        let h = |watching, connected, ago: Option<u64>| MailboxHealth { watching, connected, connected_at: ago.map(|s| now - Duration::from_secs(s)) };
        let of = |list: Vec<(&str, MailboxHealth)>| list.into_iter().map(|(l, h)| (l.to_owned(), h)).collect::<BTreeMap<_, _>>();
        assert_eq!(ready(&of(vec![]), now), Ok(()));
        assert_eq!(ready(&of(vec![("east", h(true, true, Some(500))), ("north+south", h(false, false, None))]), now), Ok(()), "another instance's lease is not ours to watch");
        assert_eq!(ready(&of(vec![("east", h(true, false, Some(30)))]), now), Ok(()), "reconnecting within the grace");
        assert_eq!(ready(&of(vec![("east", h(true, false, Some(500)))]), now), Err("mailbox east not connected for over 120 s".into()));
        assert_eq!(ready(&of(vec![("east", h(true, false, None))]), now), Err("mailbox east not connected yet".into()));
    }

    #[test]
    fn every_problem_kind_is_counted_under_its_serialized_spelling() {
        use crate::document::ProblemKind::*;
        for k in [Encrypted, Scanned, Corrupt, Truncated, LimitExceeded, Unsupported, ParserPanic, Timeout, Unrecognised, ConflictingMarks, InvalidDate, ScoreMismatch, Uncertain] {
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().to_owned()));
        }
    }
}
