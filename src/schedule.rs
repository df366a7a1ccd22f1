//! The MARAC meeting schedule: on which days the meeting sits, and which meeting hears a referral.
//!
//! Pure: dates in, dates out. No clock and no time zone: every date is a calendar date in the
//! area's local time, and the caller turns an arrival time into one before asking.
//!
//! # The schedule
//! Two steps, as for all configuration: [`ScheduleConfig`] is what the administrator wrote,
//! [`ScheduleConfig::validate`] builds a [`Schedule`] or names the key that is wrong.
//! - `weekly`: every `weekday`.
//! - `fortnightly`: every other `weekday`, on the 14-day grid through `anchor`, the date of any
//!   one meeting (before or after the dates asked about; the grid runs both ways).
//! - `monthly`: the `nth` `weekday` of each month, `nth` being 1, 2, 3, 4 or `"last"`.
//! - `skip` lists regular meeting dates that are cancelled; `add` lists one-off meetings on days
//!   that are not regular meeting dates. A date that would change nothing (skipping a day with
//!   no meeting, adding a day that already has one) is refused as a probable typing error.
//!
//! # Which meeting hears a referral ([`Schedule::next_meeting`])
//! A referral must arrive **more than `cutoff_days` days before** a meeting to be heard at it:
//! it goes to the first meeting day `D` with `D > arrived + cutoff_days`.
//! - With `cutoff_days = 0`: a referral arriving the day before a meeting is heard at it; one
//!   arriving **on** a meeting day goes to the **following** meeting.
//! - With `cutoff_days = 3`: a referral arriving 4 days before a meeting is heard at it; one
//!   arriving 3 days before (or later) goes to the following meeting.
//!
//! # Bounds
//! - [`Schedule::meetings_between`] returns at most [`MAX_MEETINGS`] dates: the earliest ones.
//! - [`Schedule::next_meeting`] looks at most [`HORIZON_DAYS`] days past the first day a meeting
//!   could hear the referral, and answers `None` when there is no meeting in that window (or the
//!   dates leave the calendar's range).
//! - `cutoff_days` is at most [`MAX_CUTOFF_DAYS`]; `skip` and `add` hold at most
//!   [`MAX_LISTED_DATES`] dates each.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// Most dates [`Schedule::meetings_between`] returns.
pub const MAX_MEETINGS: usize = 1000;

/// How far [`Schedule::next_meeting`] looks, in days past the first eligible day (two years).
pub const HORIZON_DAYS: u64 = 731;

/// Largest `cutoff_days` accepted.
pub const MAX_CUTOFF_DAYS: u32 = 90;

/// Most dates accepted in each of `skip` and `add`.
pub const MAX_LISTED_DATES: usize = 500;

/// How often the meeting sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    Weekly,
    Fortnightly,
    Monthly,
}

impl fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScheduleKind::Weekly => "weekly",
            ScheduleKind::Fortnightly => "fortnightly",
            ScheduleKind::Monthly => "monthly",
        })
    }
}

/// A day of the week as written in the configuration: `"mon"` … `"sun"` (or in full,
/// `"monday"` … `"sunday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DayOfWeek {
    #[serde(rename = "mon", alias = "monday")]
    Mon,
    #[serde(rename = "tue", alias = "tuesday")]
    Tue,
    #[serde(rename = "wed", alias = "wednesday")]
    Wed,
    #[serde(rename = "thu", alias = "thursday")]
    Thu,
    #[serde(rename = "fri", alias = "friday")]
    Fri,
    #[serde(rename = "sat", alias = "saturday")]
    Sat,
    #[serde(rename = "sun", alias = "sunday")]
    Sun,
}

impl DayOfWeek {
    pub fn weekday(self) -> Weekday {
        match self {
            DayOfWeek::Mon => Weekday::Mon,
            DayOfWeek::Tue => Weekday::Tue,
            DayOfWeek::Wed => Weekday::Wed,
            DayOfWeek::Thu => Weekday::Thu,
            DayOfWeek::Fri => Weekday::Fri,
            DayOfWeek::Sat => Weekday::Sat,
            DayOfWeek::Sun => Weekday::Sun,
        }
    }
}

/// The English name of a weekday, for messages.
fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Which weekday of the month a monthly meeting falls on. Written `1` … `4`, `"first"` …
/// `"fourth"`, or `"last"` (also `-1`). A fifth weekday is not offered: most months have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl Nth {
    fn word(self) -> &'static str {
        match self {
            Nth::First => "first",
            Nth::Second => "second",
            Nth::Third => "third",
            Nth::Fourth => "fourth",
            Nth::Last => "last",
        }
    }

    /// Whether `d` is this occurrence of its weekday in its month.
    fn holds(self, d: NaiveDate) -> bool {
        let week = d.day0() / 7; // 0 for days 1-7, 1 for 8-14, ...
        match self {
            Nth::First => week == 0,
            Nth::Second => week == 1,
            Nth::Third => week == 2,
            Nth::Fourth => week == 3,
            Nth::Last => d
                .checked_add_days(Days::new(7))
                .is_none_or(|next| next.month() != d.month()),
        }
    }
}

impl Serialize for Nth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Nth::First => s.serialize_u8(1),
            Nth::Second => s.serialize_u8(2),
            Nth::Third => s.serialize_u8(3),
            Nth::Fourth => s.serialize_u8(4),
            Nth::Last => s.serialize_str("last"),
        }
    }
}

impl<'de> Deserialize<'de> for Nth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NthVisitor;
        impl Visitor<'_> for NthVisitor {
            type Value = Nth;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("1, 2, 3, 4 or \"last\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Nth, E> {
                match v {
                    1 => Ok(Nth::First),
                    2 => Ok(Nth::Second),
                    3 => Ok(Nth::Third),
                    4 => Ok(Nth::Fourth),
                    -1 => Ok(Nth::Last),
                    _ => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Nth, E> {
                match i64::try_from(v) {
                    Ok(v) => self.visit_i64(v),
                    Err(_) => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Nth, E> {
                // Strings too, so that an environment variable can set it.
                match v.trim().to_ascii_lowercase().as_str() {
                    "1" | "first" => Ok(Nth::First),
                    "2" | "second" => Ok(Nth::Second),
                    "3" | "third" => Ok(Nth::Third),
                    "4" | "fourth" => Ok(Nth::Fourth),
                    "-1" | "last" => Ok(Nth::Last),
                    _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(NthVisitor)
    }
}

/// The meeting schedule as the administrator wrote it (the `[schedule]` section). Build a
/// [`Schedule`] with [`ScheduleConfig::validate`]. Dates are ISO (`2025-01-14`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub kind: ScheduleKind,
    pub weekday: DayOfWeek,
    /// Monthly only: which `weekday` of the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<Nth>,
    /// Fortnightly only: the date of one meeting, on `weekday`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<NaiveDate>,
    /// A referral must arrive more than this many days before a meeting to be heard at it.
    /// Absent means 0: anything that arrives before the meeting day is heard.
    #[serde(default)]
    pub cutoff_days: u32,
    /// Regular meetings that are cancelled.
    #[serde(default)]
    pub skip: Vec<NaiveDate>,
    /// One-off meetings on days that are not regular meeting days.
    #[serde(default)]
    pub add: Vec<NaiveDate>,
}

/// What is wrong with a [`ScheduleConfig`]. The message starts with the offending key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule.anchor: a fortnightly schedule needs the date of one of its meetings")]
    MissingAnchor,
    #[error(
        "schedule.anchor: {anchor} is a {}, not a {}",
        weekday_name(anchor.weekday()),
        weekday_name(*expected)
    )]
    AnchorOnWrongWeekday {
        anchor: NaiveDate,
        expected: Weekday,
    },
    #[error(
        "schedule.nth: a monthly schedule needs which {} of the month: 1, 2, 3, 4 or \"last\"",
        weekday_name(*weekday)
    )]
    MissingNth { weekday: Weekday },
    #[error("schedule.{key}: only a {takes_it} schedule takes {key}; this one is {kind}")]
    NotForThisKind {
        key: &'static str,
        takes_it: ScheduleKind,
        kind: ScheduleKind,
    },
    #[error("schedule.cutoff_days: {days} days is more than the limit of {MAX_CUTOFF_DAYS}")]
    CutoffTooLong { days: u32 },
    #[error("schedule.{key}: {count} dates listed, more than the limit of {MAX_LISTED_DATES}")]
    TooManyDates { key: &'static str, count: usize },
    #[error(
        "schedule.skip: {date} is not a regular meeting day (a {}; meetings are {rule})",
        weekday_name(date.weekday())
    )]
    SkipNotAMeeting { date: NaiveDate, rule: String },
    #[error("schedule.add: {date} is already a regular meeting day (meetings are {rule})")]
    AddAlreadyAMeeting { date: NaiveDate, rule: String },
}

impl ScheduleError {
    /// The configuration key at fault, without the `schedule.` prefix.
    pub fn key(&self) -> &'static str {
        match self {
            ScheduleError::MissingAnchor | ScheduleError::AnchorOnWrongWeekday { .. } => "anchor",
            ScheduleError::MissingNth { .. } => "nth",
            ScheduleError::NotForThisKind { key, .. } | ScheduleError::TooManyDates { key, .. } => {
                key
            }
            ScheduleError::CutoffTooLong { .. } => "cutoff_days",
            ScheduleError::SkipNotAMeeting { .. } => "skip",
            ScheduleError::AddAlreadyAMeeting { .. } => "add",
        }
    }
}

impl ScheduleConfig {
    /// Checks the configuration and builds the schedule. See the module documentation.
    pub fn validate(&self) -> Result<Schedule, ScheduleError> {
        let weekday = self.weekday.weekday();
        let not_for = |key, takes_it| ScheduleError::NotForThisKind {
            key,
            takes_it,
            kind: self.kind,
        };
        if self.kind != ScheduleKind::Monthly && self.nth.is_some() {
            return Err(not_for("nth", ScheduleKind::Monthly));
        }
        if self.kind != ScheduleKind::Fortnightly && self.anchor.is_some() {
            return Err(not_for("anchor", ScheduleKind::Fortnightly));
        }
        let rule = match self.kind {
            ScheduleKind::Weekly => Rule::Weekly { weekday },
            ScheduleKind::Fortnightly => {
                let anchor = self.anchor.ok_or(ScheduleError::MissingAnchor)?;
                if anchor.weekday() != weekday {
                    return Err(ScheduleError::AnchorOnWrongWeekday {
                        anchor,
                        expected: weekday,
                    });
                }
                Rule::Fortnightly { anchor }
            }
            ScheduleKind::Monthly => {
                let nth = self.nth.ok_or(ScheduleError::MissingNth { weekday })?;
                Rule::Monthly { weekday, nth }
            }
        };
        if self.cutoff_days > MAX_CUTOFF_DAYS {
            return Err(ScheduleError::CutoffTooLong {
                days: self.cutoff_days,
            });
        }
        for (key, list) in [("skip", &self.skip), ("add", &self.add)] {
            if list.len() > MAX_LISTED_DATES {
                return Err(ScheduleError::TooManyDates {
                    key,
                    count: list.len(),
                });
            }
        }
        if let Some(&date) = self.skip.iter().find(|d| !rule.holds(**d)) {
            return Err(ScheduleError::SkipNotAMeeting {
                date,
                rule: rule.to_string(),
            });
        }
        if let Some(&date) = self.add.iter().find(|d| rule.holds(**d)) {
            return Err(ScheduleError::AddAlreadyAMeeting {
                date,
                rule: rule.to_string(),
            });
        }
        Ok(Schedule {
            rule,
            cutoff_days: self.cutoff_days,
            skip: self.skip.iter().copied().collect(),
            add: self.add.iter().copied().collect(),
        })
    }
}

/// The regular pattern of meetings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Weekly { weekday: Weekday },
    Fortnightly { anchor: NaiveDate },
    Monthly { weekday: Weekday, nth: Nth },
}

impl Rule {
    fn weekday(self) -> Weekday {
        match self {
            Rule::Weekly { weekday } | Rule::Monthly { weekday, .. } => weekday,
            Rule::Fortnightly { anchor } => anchor.weekday(),
        }
    }

    /// Whether the pattern puts a meeting on `d` (before `skip` and `add`).
    fn holds(self, d: NaiveDate) -> bool {
        if d.weekday() != self.weekday() {
            return false;
        }
        match self {
            Rule::Weekly { .. } => true,
            Rule::Fortnightly { anchor } => (d - anchor).num_days().rem_euclid(14) == 0,
            Rule::Monthly { nth, .. } => nth.holds(d),
        }
    }

    /// Days between candidates: every candidate is on the right weekday (and, fortnightly, on
    /// the grid); monthly candidates are then filtered with [`Rule::holds`].
    fn step(self) -> Days {
        match self {
            Rule::Fortnightly { .. } => Days::new(14),
            Rule::Weekly { .. } | Rule::Monthly { .. } => Days::new(7),
        }
    }

    /// The first candidate on or after `from`; `None` past the end of the calendar.
    fn first_candidate(self, from: NaiveDate) -> Option<NaiveDate> {
        let offset = match self {
            Rule::Fortnightly { anchor } => (anchor - from).num_days().rem_euclid(14),
            Rule::Weekly { weekday } | Rule::Monthly { weekday, .. } => {
                (i64::from(weekday.num_days_from_monday())
                    - i64::from(from.weekday().num_days_from_monday()))
                .rem_euclid(7)
            }
        };
        from.checked_add_days(Days::new(offset.unsigned_abs()))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rule::Weekly { weekday } => write!(f, "every {}", weekday_name(weekday)),
            Rule::Fortnightly { anchor } => {
                write!(
                    f,
                    "every other {}, including {anchor}",
                    weekday_name(anchor.weekday())
                )
            }
            Rule::Monthly { weekday, nth } => {
                write!(
                    f,
                    "on the {} {} of each month",
                    nth.word(),
                    weekday_name(weekday)
                )
            }
        }
    }
}

/// A validated meeting schedule. Built by [`ScheduleConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    rule: Rule,
    cutoff_days: u32,
    skip: BTreeSet<NaiveDate>,
    add: BTreeSet<NaiveDate>,
}

impl Schedule {
    /// A referral must arrive more than this many days before a meeting to be heard at it.
    pub fn cutoff_days(&self) -> u32 {
        self.cutoff_days
    }

    /// Whether the meeting sits on `d`: a regular meeting not skipped, or an added one.
    pub fn is_meeting_day(&self, d: NaiveDate) -> bool {
        self.add.contains(&d) || (self.rule.holds(d) && !self.skip.contains(&d))
    }

    /// The meeting days from `from` to `to`, both included, in order: skipped dates left out,
    /// added dates put in. At most [`MAX_MEETINGS`], the earliest; empty when `from > to`.
    pub fn meetings_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        if from > to {
            return Vec::new();
        }
        let mut out: Vec<NaiveDate> = self.regular_between(from, to).take(MAX_MEETINGS).collect();
        out.extend(self.add.range(from..=to));
        out.sort_unstable();
        out.dedup();
        out.truncate(MAX_MEETINGS);
        out
    }

    /// The meeting that hears a referral arriving on `arrived`: the first meeting day `D` with
    /// `D > arrived + cutoff_days`. A referral arriving on a meeting day therefore goes to the
    /// following meeting. `None` when no meeting falls within [`HORIZON_DAYS`] days of the first
    /// eligible day.
    pub fn next_meeting(&self, arrived: NaiveDate) -> Option<NaiveDate> {
        let earliest = arrived.checked_add_days(Days::new(u64::from(self.cutoff_days) + 1))?;
        let latest = earliest
            .checked_add_days(Days::new(HORIZON_DAYS))
            .unwrap_or(NaiveDate::MAX);
        let regular = self.regular_between(earliest, latest).next();
        let added = self.add.range(earliest..=latest).next().copied();
        regular.into_iter().chain(added).min()
    }

    /// Regular meetings from `from` to `to`, both included, skipped ones left out, in order.
    fn regular_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = NaiveDate> + '_ {
        let step = self.rule.step();
        std::iter::successors(self.rule.first_candidate(from), move |d| {
            d.checked_add_days(step)
        })
        .take_while(move |d| *d <= to)
        .filter(move |d| self.rule.holds(*d) && !self.skip.contains(d))
    }
}

impl fmt::Display for Schedule {
    /// What `check-config` prints: the pattern, the cut-off, and the exceptions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "meetings {}", self.rule)?;
        write!(
            f,
            "; a referral is heard at a meeting if it arrives more than {} day{} before it",
            self.cutoff_days,
            if self.cutoff_days == 1 { "" } else { "s" }
        )?;
        let list = |set: &BTreeSet<NaiveDate>| {
            set.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.skip.is_empty() {
            write!(f, "; cancelled: {}", list(&self.skip))?;
        }
        if !self.add.is_empty() {
            write!(f, "; added: {}", list(&self.add))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    fn config(kind: ScheduleKind, weekday: DayOfWeek) -> ScheduleConfig {
        ScheduleConfig {
            kind,
            weekday,
            nth: None,
            anchor: None,
            cutoff_days: 0,
            skip: Vec::new(),
            add: Vec::new(),
        }
    }

    fn second_tuesday() -> ScheduleConfig {
        ScheduleConfig {
            nth: Some(Nth::Second),
            ..config(ScheduleKind::Monthly, DayOfWeek::Tue)
        }
    }

    fn build(c: &ScheduleConfig) -> Schedule {
        c.validate().expect("a valid schedule")
    }

    #[test]
    fn monthly_second_tuesday_2025() {
        let s = build(&second_tuesday());
        let got = s.meetings_between(ymd(2025, 1, 1), ymd(2025, 12, 31));
        let expected = [
            ymd(2025, 1, 14),
            ymd(2025, 2, 11),
            ymd(2025, 3, 11),
            ymd(2025, 4, 8),
            ymd(2025, 5, 13),
            ymd(2025, 6, 10),
            ymd(2025, 7, 8),
            ymd(2025, 8, 12),
            ymd(2025, 9, 9),
            ymd(2025, 10, 14),
            ymd(2025, 11, 11),
            ymd(2025, 12, 9),
        ];
        assert_eq!(got, expected);
        // The same dates from chrono's own calendar.
        for (m, d) in (1..=12).zip(expected) {
            assert_eq!(
                NaiveDate::from_weekday_of_month_opt(2025, m, Weekday::Tue, 2),
                Some(d)
            );
        }
    }

    #[test]
    fn monthly_last_and_fourth_differ_in_five_week_months() {
        let last = build(&ScheduleConfig {
            nth: Some(Nth::Last),
            ..config(ScheduleKind::Monthly, DayOfWeek::Fri)
        });
        let fourth = build(&ScheduleConfig {
            nth: Some(Nth::Fourth),
            ..config(ScheduleKind::Monthly, DayOfWeek::Fri)
        });
        // January 2025 has five Fridays (3, 10, 17, 24, 31); February four.
        assert_eq!(
            last.meetings_between(ymd(2025, 1, 1), ymd(2025, 2, 28)),
            [ymd(2025, 1, 31), ymd(2025, 2, 28)]
        );
        assert_eq!(
            fourth.meetings_between(ymd(2025, 1, 1), ymd(2025, 2, 28)),
            [ymd(2025, 1, 24), ymd(2025, 2, 28)]
        );
        // The last day of a leap February.
        let thursday = build(&ScheduleConfig {
            nth: Some(Nth::Last),
            ..config(ScheduleKind::Monthly, DayOfWeek::Thu)
        });
        assert!(thursday.is_meeting_day(ymd(2024, 2, 29)));
        assert!(!thursday.is_meeting_day(ymd(2024, 2, 22)));
        assert_eq!(
            thursday.next_meeting(ymd(2024, 2, 28)),
            Some(ymd(2024, 2, 29))
        );
        assert_eq!(
            thursday.next_meeting(ymd(2024, 2, 29)),
            Some(ymd(2024, 3, 28))
        );
    }

    #[test]
    fn weekly() {
        let s = build(&config(ScheduleKind::Weekly, DayOfWeek::Mon));
        assert_eq!(
            s.meetings_between(ymd(2025, 1, 1), ymd(2025, 1, 31)),
            [
                ymd(2025, 1, 6),
                ymd(2025, 1, 13),
                ymd(2025, 1, 20),
                ymd(2025, 1, 27)
            ]
        );
        // Both ends included.
        assert_eq!(
            s.meetings_between(ymd(2025, 1, 6), ymd(2025, 1, 13)),
            [ymd(2025, 1, 6), ymd(2025, 1, 13)]
        );
        // Across the end of the year.
        assert_eq!(s.next_meeting(ymd(2024, 12, 30)), Some(ymd(2025, 1, 6)));
        assert_eq!(s.next_meeting(ymd(2024, 12, 31)), Some(ymd(2025, 1, 6)));
    }

    #[test]
    fn fortnightly_from_an_anchor_both_ways() {
        let s = build(&ScheduleConfig {
            anchor: Some(ymd(2025, 1, 14)),
            ..config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
        });
        assert_eq!(
            s.meetings_between(ymd(2024, 12, 20), ymd(2025, 2, 28)),
            [
                ymd(2024, 12, 31),
                ymd(2025, 1, 14),
                ymd(2025, 1, 28),
                ymd(2025, 2, 11),
                ymd(2025, 2, 25)
            ]
        );
        assert!(!s.is_meeting_day(ymd(2025, 1, 21)));
        assert_eq!(s.next_meeting(ymd(2025, 1, 14)), Some(ymd(2025, 1, 28)));
        assert_eq!(s.next_meeting(ymd(2025, 1, 13)), Some(ymd(2025, 1, 14)));
    }

    #[test]
    fn skip_and_add() {
        let s = build(&ScheduleConfig {
            skip: vec![ymd(2025, 12, 9)],
            add: vec![ymd(2025, 12, 16), ymd(2025, 12, 16)],
            ..second_tuesday()
        });
        assert!(!s.is_meeting_day(ymd(2025, 12, 9)));
        assert!(s.is_meeting_day(ymd(2025, 12, 16)));
        assert_eq!(
            s.meetings_between(ymd(2025, 11, 1), ymd(2026, 1, 31)),
            [ymd(2025, 11, 11), ymd(2025, 12, 16), ymd(2026, 1, 13)]
        );
        assert_eq!(s.next_meeting(ymd(2025, 11, 11)), Some(ymd(2025, 12, 16)));
        assert_eq!(s.next_meeting(ymd(2025, 12, 8)), Some(ymd(2025, 12, 16)));
        assert_eq!(s.next_meeting(ymd(2025, 12, 16)), Some(ymd(2026, 1, 13)));
        // An added date before the regular one wins.
        let early = build(&ScheduleConfig {
            add: vec![ymd(2025, 2, 3)],
            ..second_tuesday()
        });
        assert_eq!(early.next_meeting(ymd(2025, 1, 20)), Some(ymd(2025, 2, 3)));
    }

    #[test]
    fn cutoff_zero_boundaries() {
        let s = build(&second_tuesday());
        // The meeting of 2025-02-11.
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 10)),
            Some(ymd(2025, 2, 11)),
            "the day before"
        );
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 11)),
            Some(ymd(2025, 3, 11)),
            "on the day"
        );
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 12)),
            Some(ymd(2025, 3, 11)),
            "the day after"
        );
    }

    #[test]
    fn cutoff_three_boundaries() {
        let s = build(&ScheduleConfig {
            cutoff_days: 3,
            ..second_tuesday()
        });
        assert_eq!(s.cutoff_days(), 3);
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 7)),
            Some(ymd(2025, 2, 11)),
            "4 days before"
        );
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 8)),
            Some(ymd(2025, 3, 11)),
            "3 days before"
        );
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 10)),
            Some(ymd(2025, 3, 11)),
            "the day before"
        );
        assert_eq!(
            s.next_meeting(ymd(2025, 2, 11)),
            Some(ymd(2025, 3, 11)),
            "on the day"
        );
        // A cut-off that reaches past the following meeting.
        assert_eq!(s.next_meeting(ymd(2025, 3, 8)), Some(ymd(2025, 4, 8)));
    }

    #[test]
    fn month_ends() {
        let s = build(&second_tuesday());
        assert_eq!(s.next_meeting(ymd(2024, 12, 31)), Some(ymd(2025, 1, 14)));
        assert_eq!(s.next_meeting(ymd(2025, 1, 31)), Some(ymd(2025, 2, 11)));
        assert_eq!(s.next_meeting(ymd(2025, 2, 28)), Some(ymd(2025, 3, 11)));
        assert_eq!(s.next_meeting(ymd(2024, 2, 29)), Some(ymd(2024, 3, 12)));
        // A cut-off that crosses the end of the month.
        let c = build(&ScheduleConfig {
            cutoff_days: 14,
            ..second_tuesday()
        });
        assert_eq!(c.next_meeting(ymd(2025, 1, 27)), Some(ymd(2025, 2, 11)));
        assert_eq!(c.next_meeting(ymd(2025, 1, 28)), Some(ymd(2025, 3, 11)));
    }

    #[test]
    fn meetings_between_is_bounded_and_ordered() {
        let s = build(&config(ScheduleKind::Weekly, DayOfWeek::Mon));
        let all = s.meetings_between(ymd(2000, 1, 1), ymd(2100, 1, 1));
        assert_eq!(all.len(), MAX_MEETINGS);
        assert_eq!(all[0], ymd(2000, 1, 3));
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(s
            .meetings_between(ymd(2025, 2, 1), ymd(2025, 1, 1))
            .is_empty());
        // The whole calendar: bounded, no overflow.
        assert_eq!(
            s.meetings_between(NaiveDate::MIN, NaiveDate::MAX).len(),
            MAX_MEETINGS
        );
        let f = build(&ScheduleConfig {
            anchor: Some(ymd(2025, 1, 14)),
            ..config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
        });
        assert!(
            f.meetings_between(NaiveDate::MAX - Days::new(30), NaiveDate::MAX)
                .len()
                <= 3
        );
    }

    #[test]
    fn next_meeting_at_the_end_of_the_calendar_is_none() {
        let s = build(&ScheduleConfig {
            cutoff_days: 90,
            ..second_tuesday()
        });
        assert_eq!(s.next_meeting(NaiveDate::MAX), None);
        assert_eq!(s.next_meeting(NaiveDate::MAX - Days::new(60)), None);
    }

    #[test]
    fn next_meeting_is_none_when_every_meeting_in_the_horizon_is_cancelled() {
        let mondays: Vec<NaiveDate> = (0..110)
            .map(|w| ymd(2025, 1, 6) + Days::new(7 * w))
            .collect();
        let s = build(&ScheduleConfig {
            skip: mondays,
            ..config(ScheduleKind::Weekly, DayOfWeek::Mon)
        });
        assert_eq!(s.next_meeting(ymd(2025, 1, 1)), None);
        // Past the cancelled stretch (its last Monday is 2027-02-08), meetings resume.
        assert_eq!(s.next_meeting(ymd(2027, 2, 1)), Some(ymd(2027, 2, 15)));
    }

    #[test]
    fn validation_names_the_key() {
        let wrong_anchor = ScheduleConfig {
            anchor: Some(ymd(2025, 1, 8)),
            ..config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
        };
        let err = wrong_anchor.validate().expect_err("a Wednesday anchor");
        assert_eq!(
            err.to_string(),
            "schedule.anchor: 2025-01-08 is a Wednesday, not a Tuesday"
        );
        assert_eq!(err.key(), "anchor");

        let err = config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
            .validate()
            .expect_err("no anchor");
        assert_eq!(err, ScheduleError::MissingAnchor);
        assert!(err.to_string().starts_with("schedule.anchor: "));

        let err = config(ScheduleKind::Monthly, DayOfWeek::Tue)
            .validate()
            .expect_err("no nth");
        assert_eq!(
            err.to_string(),
            "schedule.nth: a monthly schedule needs which Tuesday of the month: 1, 2, 3, 4 or \"last\""
        );

        let err = ScheduleConfig {
            nth: Some(Nth::First),
            ..config(ScheduleKind::Weekly, DayOfWeek::Mon)
        }
        .validate()
        .expect_err("nth on a weekly schedule");
        assert_eq!(
            err.to_string(),
            "schedule.nth: only a monthly schedule takes nth; this one is weekly"
        );

        let err = ScheduleConfig {
            anchor: Some(ymd(2025, 1, 14)),
            ..second_tuesday()
        }
        .validate()
        .expect_err("anchor on a monthly schedule");
        assert_eq!(err.key(), "anchor");

        let err = ScheduleConfig {
            cutoff_days: 91,
            ..second_tuesday()
        }
        .validate()
        .expect_err("cutoff");
        assert_eq!(
            err.to_string(),
            "schedule.cutoff_days: 91 days is more than the limit of 90"
        );
        assert!(ScheduleConfig {
            cutoff_days: 90,
            ..second_tuesday()
        }
        .validate()
        .is_ok());

        let err = ScheduleConfig {
            skip: vec![ymd(2025, 2, 12)],
            ..second_tuesday()
        }
        .validate()
        .expect_err("skip of a day without a meeting");
        assert_eq!(
            err.to_string(),
            "schedule.skip: 2025-02-12 is not a regular meeting day (a Wednesday; meetings are on \
             the second Tuesday of each month)"
        );

        let err = ScheduleConfig {
            add: vec![ymd(2025, 2, 11)],
            ..second_tuesday()
        }
        .validate()
        .expect_err("add of a regular meeting day");
        assert_eq!(err.key(), "add");
        assert!(err
            .to_string()
            .starts_with("schedule.add: 2025-02-11 is already a regular meeting day"));

        let many: Vec<NaiveDate> = (0..501)
            .map(|w| ymd(2025, 1, 6) + Days::new(7 * w))
            .collect();
        let err = ScheduleConfig {
            skip: many,
            ..config(ScheduleKind::Weekly, DayOfWeek::Mon)
        }
        .validate()
        .expect_err("too many dates");
        assert_eq!(
            err,
            ScheduleError::TooManyDates {
                key: "skip",
                count: 501
            }
        );
    }

    #[test]
    fn reads_toml() {
        let c: ScheduleConfig = toml::from_str(
            r#"
            kind = "monthly"
            weekday = "tue"
            nth = 2
            skip = ["2025-12-09"]
            add = ["2025-12-16"]
            "#,
        )
        .expect("parses");
        assert_eq!(c.cutoff_days, 0);
        assert_eq!(c.nth, Some(Nth::Second));
        let s = build(&c);
        assert_eq!(s.next_meeting(ymd(2025, 12, 1)), Some(ymd(2025, 12, 16)));

        let last: ScheduleConfig = toml::from_str(
            "kind = \"monthly\"\nweekday = \"friday\"\nnth = \"last\"\ncutoff_days = 3",
        )
        .expect("parses");
        assert_eq!(
            (last.weekday, last.nth, last.cutoff_days),
            (DayOfWeek::Fri, Some(Nth::Last), 3)
        );

        let f: ScheduleConfig =
            toml::from_str("kind = \"fortnightly\"\nweekday = \"wed\"\nanchor = \"2025-01-08\"")
                .expect("parses");
        assert!(f.validate().is_ok());
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        for bad in [
            "kind = \"monthly\"\nweekday = \"tue\"\nnth = 2\ncutof_days = 3",
            "kind = \"daily\"\nweekday = \"tue\"",
            "kind = \"weekly\"\nweekday = \"tues\"",
            "kind = \"monthly\"\nweekday = \"tue\"\nnth = 5",
            "kind = \"monthly\"\nweekday = \"tue\"\nnth = 0",
            "kind = \"monthly\"\nweekday = \"tue\"\nnth = \"fifth\"",
            "kind = \"weekly\"\nweekday = \"tue\"\ncutoff_days = -1",
            "kind = \"weekly\"\nweekday = \"tue\"\nskip = [\"2025-02-30\"]",
            "weekday = \"tue\"",
        ] {
            assert!(
                toml::from_str::<ScheduleConfig>(bad).is_err(),
                "accepted: {bad}"
            );
        }
    }

    #[test]
    fn nth_reads_numbers_words_and_strings() {
        let read = |s: &str| serde_json::from_str::<Nth>(s).ok();
        assert_eq!(read("1"), Some(Nth::First));
        assert_eq!(read("4"), Some(Nth::Fourth));
        assert_eq!(read("-1"), Some(Nth::Last));
        assert_eq!(read("\"last\""), Some(Nth::Last));
        assert_eq!(read("\"LAST\""), Some(Nth::Last));
        assert_eq!(read("\"2\""), Some(Nth::Second));
        assert_eq!(read("\"third\""), Some(Nth::Third));
        assert_eq!(read("5"), None);
        assert_eq!(read("18446744073709551615"), None);
        assert_eq!(read("2.0"), None);
    }

    #[test]
    fn json_round_trip() {
        let c = ScheduleConfig {
            cutoff_days: 2,
            skip: vec![ymd(2025, 12, 9)],
            add: vec![ymd(2025, 12, 16)],
            ..second_tuesday()
        };
        let json = serde_json::to_value(&c).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "monthly", "weekday": "tue", "nth": 2, "cutoff_days": 2,
                "skip": ["2025-12-09"], "add": ["2025-12-16"]
            })
        );
        let back: ScheduleConfig = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, c);
    }

    #[test]
    fn display_says_what_was_understood() {
        let s = build(&ScheduleConfig {
            cutoff_days: 1,
            skip: vec![ymd(2025, 12, 9)],
            add: vec![ymd(2025, 12, 16)],
            ..second_tuesday()
        });
        assert_eq!(
            s.to_string(),
            "meetings on the second Tuesday of each month; a referral is heard at a meeting if it \
             arrives more than 1 day before it; cancelled: 2025-12-09; added: 2025-12-16"
        );
    }

    // ---- property tests ----

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0u64..20_000).prop_map(|n| ymd(2000, 1, 1) + Days::new(n))
    }

    fn day_of_week() -> impl Strategy<Value = DayOfWeek> {
        prop::sample::select(vec![
            DayOfWeek::Mon,
            DayOfWeek::Tue,
            DayOfWeek::Wed,
            DayOfWeek::Thu,
            DayOfWeek::Fri,
            DayOfWeek::Sat,
            DayOfWeek::Sun,
        ])
    }

    fn nth() -> impl Strategy<Value = Nth> {
        prop::sample::select(vec![
            Nth::First,
            Nth::Second,
            Nth::Third,
            Nth::Fourth,
            Nth::Last,
        ])
    }

    /// A valid pattern of one of `kinds`, without exceptions.
    fn plain_of(kinds: Vec<ScheduleKind>) -> impl Strategy<Value = ScheduleConfig> {
        (
            prop::sample::select(kinds),
            day_of_week(),
            nth(),
            day(),
            0..=10u32,
        )
            .prop_map(|(kind, weekday, nth, anchor_near, cutoff)| {
                let mut c = ScheduleConfig {
                    cutoff_days: cutoff,
                    ..config(kind, weekday)
                };
                match kind {
                    ScheduleKind::Weekly => {}
                    ScheduleKind::Fortnightly => {
                        let w = weekday.weekday();
                        let ahead = (7 + w.num_days_from_monday()
                            - anchor_near.weekday().num_days_from_monday())
                            % 7;
                        c.anchor = Some(anchor_near + Days::new(u64::from(ahead)));
                    }
                    ScheduleKind::Monthly => c.nth = Some(nth),
                }
                c
            })
    }

    fn plain() -> impl Strategy<Value = ScheduleConfig> {
        plain_of(vec![
            ScheduleKind::Weekly,
            ScheduleKind::Fortnightly,
            ScheduleKind::Monthly,
        ])
    }

    /// A valid schedule with some regular meetings skipped and some days added, near `day()`.
    fn schedule() -> impl Strategy<Value = Schedule> {
        (
            plain(),
            day(),
            prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            prop::collection::vec(0u64..400, 0..6),
        )
            .prop_map(|(c, around, skips, adds)| {
                let base = build(&c);
                let window = base.meetings_between(around, around + Days::new(400));
                let mut skip: Vec<NaiveDate> = skips
                    .iter()
                    .map(|i| window[i.index(window.len())])
                    .collect();
                skip.sort();
                skip.dedup();
                let add: Vec<NaiveDate> = adds
                    .iter()
                    .map(|n| around + Days::new(*n))
                    .filter(|d| !base.is_meeting_day(*d))
                    .collect();
                build(&ScheduleConfig { skip, add, ..c })
            })
    }

    proptest! {
        #[test]
        fn next_meeting_is_the_first_eligible_meeting(s in schedule(), d in day()) {
            let next = s.next_meeting(d);
            prop_assert!(next.is_some(), "the generated schedules always meet within two years");
            if let Some(next) = next {
                prop_assert!(next > d);
                prop_assert!(next > d + Days::new(u64::from(s.cutoff_days())));
                prop_assert!(s.is_meeting_day(next));
                let skipped = s.meetings_between(d + Days::new(u64::from(s.cutoff_days()) + 1), next - Days::new(1));
                prop_assert!(skipped.is_empty(), "passed over {:?}", skipped);
            }
        }

        #[test]
        fn next_meeting_is_monotonic(s in schedule(), d in day(), later in 0u64..100) {
            let e = d + Days::new(later);
            if let (Some(a), Some(b)) = (s.next_meeting(d), s.next_meeting(e)) {
                prop_assert!(a <= b);
            }
        }

        #[test]
        fn meetings_between_is_exactly_the_meeting_days(s in schedule(), from in day(), len in 0u64..400) {
            let to = from + Days::new(len);
            let got = s.meetings_between(from, to);
            let expected: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).filter(|d| s.is_meeting_day(*d)).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn monthly_agrees_with_chrono(weekday in day_of_week(), n in 1u8..=4, d in day()) {
            let nth = [Nth::First, Nth::Second, Nth::Third, Nth::Fourth][usize::from(n - 1)];
            let s = build(&ScheduleConfig { nth: Some(nth), ..config(ScheduleKind::Monthly, weekday) });
            let expected = NaiveDate::from_weekday_of_month_opt(d.year(), d.month(), weekday.weekday(), n);
            prop_assert_eq!(s.is_meeting_day(d), expected == Some(d));
        }

        #[test]
        fn monthly_meets_once_a_month(c in plain_of(vec![ScheduleKind::Monthly]), d in day()) {
            let s = build(&c);
            let first = ymd(d.year(), d.month(), 1);
            let last = (first + chrono::Months::new(1)) - Days::new(1);
            prop_assert_eq!(s.meetings_between(first, last).len(), 1);
        }

        #[test]
        fn regular_meetings_are_evenly_spaced(
            c in plain_of(vec![ScheduleKind::Weekly, ScheduleKind::Fortnightly]),
            d in day(),
        ) {
            let gap = if c.kind == ScheduleKind::Weekly { 7 } else { 14 };
            let s = build(&c);
            let m = s.meetings_between(d, d + Days::new(200));
            prop_assert!(m.windows(2).all(|w| (w[1] - w[0]).num_days() == gap));
            prop_assert!(m.iter().all(|x| x.weekday() == c.weekday.weekday()));
        }

        #[test]
        fn config_round_trips_through_toml(c in plain()) {
            let text = toml::to_string(&c).expect("serialises");
            let back: ScheduleConfig = toml::from_str(&text).expect("deserialises");
            prop_assert_eq!(back, c);
        }
    }
}
