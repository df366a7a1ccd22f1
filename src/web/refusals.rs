//! Refusals an anonymous client can cause at will (a form without its CSRF token, a body too
//! large or too slow, one connection too many), audited in aggregate so that a flood cannot fill
//! the audit log or the service log:
//! 1. the first refusal of a kind (action and reason) from a client opens a window of [`WINDOW`]
//!    and is audited at once, with a count of 1;
//! 2. the refusals that follow in the window are only counted; when it closes (checked every
//!    [`FLUSH`], and at stop) one more row carries their count, and one WARN line per action
//!    gives the total;
//! 3. at most [`MAX_CLIENTS`] windows are open at once: refusals beyond are counted under the
//!    client `(many)`;
//! 4. a path is stored truncated to [`super::audit::MAX_PATH_BYTES`].
//!
//! So each kind costs at most two rows per client per minute. The detail reads `REASON; count N`.

use super::audit::truncated;
use crate::store::accounts::Audit;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(60);
pub const FLUSH: Duration = Duration::from_secs(5);
pub const MAX_CLIENTS: usize = 1000;

/// What was refused: the audit action and its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    CsrfMissing,
    CsrfWrong,
    BodyTooLarge,
    RequestTimeout,
    TooManyConnections,
}

impl Kind {
    pub fn action(self) -> &'static str {
        match self {
            Kind::CsrfMissing | Kind::CsrfWrong => "csrf.refused",
            Kind::BodyTooLarge => "request.too_large",
            Kind::RequestTimeout => "request.timeout",
            Kind::TooManyConnections => "connection.refused",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Kind::CsrfMissing => "no token",
            Kind::CsrfWrong => "wrong token",
            Kind::BodyTooLarge => "body too large",
            Kind::RequestTimeout => "request too slow",
            Kind::TooManyConnections => "too many connections",
        }
    }
}

struct Tally {
    opened: Instant,
    /// Refusals after the first (which was audited when the window opened).
    more: u64,
    path: Option<String>,
}

/// A row to write.
struct Row {
    kind: Kind,
    client: String,
    path: Option<String>,
    count: u64,
}

#[derive(Default)]
pub struct Refusals {
    open: Mutex<HashMap<(Kind, String), Tally>>,
}

impl Refusals {
    /// Counts one refusal made at `now`; audits it at once when it opens a window.
    pub async fn record(&self, store: &Store, now: DateTime<Utc>, kind: Kind, client: &str, path: Option<&str>) {
        let first = self.count(kind, client, path, Instant::now());
        if let Some(row) = first {
            write(store, now, &[row]).await;
        }
    }

    /// The counting of [`Refusals::record`]: the row to write now, if this opens a window.
    fn count(&self, kind: Kind, client: &str, path: Option<&str>, now: Instant) -> Option<Row> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let client = if open.len() >= MAX_CLIENTS && !open.contains_key(&(kind, client.to_owned())) { "(many)" } else { client };
        match open.get_mut(&(kind, client.to_owned())) {
            Some(t) => {
                t.more += 1;
                None
            }
            None => {
                let path = path.map(truncated);
                open.insert((kind, client.to_owned()), Tally { opened: now, more: 0, path: path.clone() });
                Some(Row { kind, client: client.to_owned(), path, count: 1 })
            }
        }
    }

    /// Closes the windows older than [`WINDOW`] (all of them with `all`), writing a row for each
    /// that counted more than its first refusal (audited at `now`), and one WARN line per action.
    pub async fn flush(&self, store: &Store, now: DateTime<Utc>, all: bool) {
        let rows = self.close(Instant::now(), all);
        write(store, now, &rows).await;
    }

    fn close(&self, now: Instant, all: bool) -> Vec<Row> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let due: Vec<(Kind, String)> = open.iter().filter(|(_, t)| all || now.duration_since(t.opened) >= WINDOW).map(|(k, _)| k.clone()).collect();
        due.into_iter()
            .filter_map(|key| {
                let t = open.remove(&key)?;
                (t.more > 0).then_some(Row { kind: key.0, client: key.1, path: t.path, count: t.more })
            })
            .collect()
    }
}

async fn write(store: &Store, now: DateTime<Utc>, rows: &[Row]) {
    let at = crate::clock::stamp(now);
    let mut totals: HashMap<&'static str, u64> = HashMap::new();
    for r in rows {
        *totals.entry(r.kind.action()).or_default() += r.count;
        let detail = format!("{}; count {}", r.kind.reason(), r.count);
        let audit = Audit { at: &at, actor: "(unknown)", action: r.kind.action(), object: r.path.as_deref(), client: Some(&r.client), detail: Some(&detail) };
        if let Err(e) = store.audit(&audit).await {
            tracing::error!(error = %format!("{e:#}"), "Writing the audit log failed.");
        }
    }
    for (action, count) in totals {
        tracing::warn!(action, count, "Requests from anonymous clients were refused (counted in the audit log).");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::audit::MAX_PATH_BYTES;

    #[test]
    fn a_flood_is_one_row_when_it_starts_and_one_with_its_count_when_the_window_closes() {
        let r = Refusals::default();
        let t0 = Instant::now();
        let long = "/x".repeat(30_000);
        let first = r.count(Kind::CsrfMissing, "192.0.2.1", Some(&long), t0).expect("the first is written at once");
        assert_eq!((first.count, first.path.as_ref().map(String::len)), (1, Some(MAX_PATH_BYTES)));
        for _ in 0..2999 {
            assert!(r.count(Kind::CsrfMissing, "192.0.2.1", Some(&long), t0).is_none());
        }
        assert!(r.count(Kind::CsrfWrong, "192.0.2.1", None, t0).is_some(), "another reason is another window");
        assert!(r.close(t0 + Duration::from_secs(59), false).is_empty(), "the window is still open");
        let rows = r.close(t0 + WINDOW, false);
        assert_eq!(rows.len(), 1, "the wrong-token window counted nothing more");
        assert_eq!((rows[0].kind, rows[0].count), (Kind::CsrfMissing, 2999));
        assert!(r.count(Kind::CsrfMissing, "192.0.2.1", None, t0 + WINDOW).is_some(), "a new window");
    }

    #[test]
    fn windows_are_bounded_whatever_the_number_of_clients() {
        let r = Refusals::default();
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS + 500) {
            r.count(Kind::TooManyConnections, &format!("2001:db8::{i:x}"), None, t0);
        }
        assert_eq!(r.open.lock().unwrap().len(), MAX_CLIENTS + 1, "the rest under (many)");
        let rows = r.close(t0, true);
        assert_eq!(rows.iter().map(|r| (r.client.as_str(), r.count)).collect::<Vec<_>>(), vec![("(many)", 499)]);
    }

    #[test]
    fn paths_are_cut_on_a_character_boundary() {
        assert_eq!(truncated("/short"), "/short");
        let s = format!("/{}", "é".repeat(150));
        let t = truncated(&s);
        assert!(t.len() <= MAX_PATH_BYTES && s.starts_with(&t) && t.len() >= MAX_PATH_BYTES - 1);
    }
}
