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
mod tests;
