//! The one clock, and the one text form of instants in the database.
//!
//! The wall clock is read here and nowhere else in the service: [`Clock::system`] is made once
//! at the edge (`main`, which hands it to `run`, `serve` and the commands) and passed down to
//! the mailbox, the outbox sender, the retention purge and the web state, which read
//! [`Clock::now`] once per unit of work (a message, a batch, a request) and hand that instant to
//! the stages and to the store as a `now` argument. Tests use [`Clock::fixed`], which stands
//! still until it is [`Clock::set`] or [`Clock::advance`]d. (Monotonic `Instant`s, for time limits
//! and budgets, are not instants of record and stay where they are used.)
//!
//! Every timestamp column holds [`stamp`]'s form: UTC, milliseconds, `Z`, always 24 characters
//! (`2026-01-14T09:02:03.120Z`), so equal formats compare as text in time order and SQL may
//! `ORDER BY` and compare them directly. [`parse`] reads it back (and, for the append-only
//! tables whose rows migration 16 could not rewrite, the RFC 3339 forms written before it).

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

/// The format of [`stamp`]: fixed width, so that text order is time order.
pub const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Where instants come from: the system's clock, or (in tests) one that moves only when told.
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    Fixed(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// The system's wall clock. Made once, at the edge.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock standing at `at` until it is set or advanced (every clone shares the setting).
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Source::Fixed(Arc::new(Mutex::new(at))))
    }

    /// The instant now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Fixed(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Today's date where the service runs (its local time zone): the day meetings, the
    /// dashboard's weeks and imports are counted in.
    pub fn today(&self) -> NaiveDate {
        local_day(self.now())
    }

    /// Moves a fixed clock to `at`. A system clock cannot be set: this does nothing to it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Fixed(t) = &self.0 {
            *t.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    /// Moves a fixed clock on by `by` (does nothing to the system clock).
    pub fn advance(&self, by: chrono::Duration) {
        if let Source::Fixed(t) = &self.0 {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            *t += by;
        }
    }
}

/// The date of `t` where the service runs (its local time zone).
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&chrono::Local).date_naive()
}

/// The one stored text form of an instant: UTC, milliseconds, `Z` ([`FORMAT`]).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

/// Reads a stored instant: [`stamp`]'s form, or an RFC 3339 time with an offset (rows of the
/// append-only tables written before migration 16). None for anything else.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc())
}

/// The time zone of every time shown to a person (pages, agendas, exports): the UK's, GMT in
/// winter and BST (GMT+1) in summer, from the tz database (`chrono-tz`). JSON keeps UTC.
pub const UK: chrono_tz::Tz = chrono_tz::Europe::London;

/// `t` as a person in the UK reads it: local time, day and month in words, 24-hour clock
/// (`Tue 14 Jan 2025, 10:02`).
pub fn uk(t: DateTime<Utc>) -> String {
    t.with_timezone(&UK).format("%a %-d %b %Y, %H:%M").to_string()
}

/// A stored instant ([`parse`]'s forms) as [`uk`] shows it; a plain date (`2025-01-14`) as
/// `Tue 14 Jan 2025`; anything else as it is (a wrong value is worse than the raw one).
pub fn uk_text(s: &str) -> String {
    if let Some(t) = parse(s) {
        return uk(t);
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d.format("%a %-d %b %Y").to_string(),
        Err(_) => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_fixed_width_and_sort_as_instants() {
        let a = DateTime::parse_from_rfc3339("2026-01-02T09:59:59.999+00:00").unwrap().to_utc();
        let b = DateTime::parse_from_rfc3339("2026-01-02T11:00:00+01:00").unwrap().to_utc();
        let c = DateTime::parse_from_rfc3339("2026-01-02T05:00:00.5-05:00").unwrap().to_utc();
        assert_eq!(stamp(a), "2026-01-02T09:59:59.999Z");
        assert_eq!(stamp(b), "2026-01-02T10:00:00.000Z");
        assert_eq!(stamp(c), "2026-01-02T10:00:00.500Z");
        assert!(stamp(a) < stamp(b) && stamp(b) < stamp(c));
        assert!([a, b, c].iter().all(|t| stamp(*t).len() == 24));
    }

    #[test]
    fn parse_reads_the_stamp_and_older_offset_forms() {
        let t = DateTime::parse_from_rfc3339("2025-01-14T09:02:03.123Z").unwrap().to_utc();
        assert_eq!(parse(&stamp(t)), Some(t));
        assert_eq!(parse("2025-01-14T10:02:03.123+01:00"), Some(t));
        assert_eq!(parse("2025-01-14"), None);
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn uk_times_are_local_with_gmt_and_bst() {
        // 14 January: GMT, the same as UTC.
        assert_eq!(uk_text("2025-01-14T10:02:03.000Z"), "Tue 14 Jan 2025, 10:02");
        // 14 July: BST, an hour ahead; an offset form is read as its instant.
        assert_eq!(uk_text("2025-07-14T09:02:00.000Z"), "Mon 14 Jul 2025, 10:02");
        assert_eq!(uk_text("2025-07-14T11:02:00+02:00"), "Mon 14 Jul 2025, 10:02");
        // The changes: 01:00 UTC on the last Sunday of March and of October.
        assert_eq!(uk_text("2025-03-30T00:59:00Z"), "Sun 30 Mar 2025, 00:59");
        assert_eq!(uk_text("2025-03-30T01:00:00Z"), "Sun 30 Mar 2025, 02:00");
        assert_eq!(uk_text("2025-10-26T00:59:00Z"), "Sun 26 Oct 2025, 01:59");
        assert_eq!(uk_text("2025-10-26T01:00:00Z"), "Sun 26 Oct 2025, 01:00");
        assert_eq!(uk_text("2025-01-14"), "Tue 14 Jan 2025");
        assert_eq!(uk_text("not a time"), "not a time");
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told_and_its_clones_follow() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z").unwrap().to_utc();
        let clock = Clock::fixed(t0);
        let other = clock.clone();
        assert_eq!(clock.now(), t0);
        clock.advance(chrono::Duration::minutes(90));
        assert_eq!(other.now(), t0 + chrono::Duration::minutes(90));
        other.set(t0);
        assert_eq!(clock.now(), t0);
    }
}
