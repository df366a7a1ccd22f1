//! The agenda sent to the agencies' designated MARAC officers (DMOs) before each meeting: who
//! they are and when it goes. Pure: dates and the local time in, dates out.
//!
//! `[agenda]` (a rule section, the deployment's and each area's):
//! - `officers`: one line per officer, `Agency name <address>`. Every address must be on the
//!   secure-sender allowlist (`senders.allow`) of the same configuration: the agenda names the
//!   people the meeting will discuss, and goes nowhere else.
//! - `automatic` (default true): whether the agenda goes by itself; with false only when a
//!   coordinator sends it.
//! - `working_days_before` (default 3, 1 to [`MAX_WORKING_DAYS`]): it goes that many working
//!   days before the meeting (Monday to Friday, less the bank holidays and `holidays`),
//! - `send_at` (default `"08:00"`): at that UK local time on that day, or as soon after it as
//!   the service runs, up to the day before the meeting (once a case is listed for it: the
//!   service sends no empty agenda).
//! - `bank_holidays` (default `england_and_wales`; `scotland`, `northern_ireland`, `none`): the
//!   calendar whose bank holidays are not working days, worked out by rule
//!   ([`crate::bank_holidays`]).
//! - `holidays`: more days that are not working days (a one-off bank holiday, a closure), at
//!   most [`MAX_HOLIDAYS`].
//! - `not_holidays`: days the calendar's rule makes bank holidays that are working days after
//!   all (the years a holiday moved: Monday 30 May 2022, when the spring bank holiday went to
//!   2 June), at most [`MAX_HOLIDAYS`]; a day the rule does not make a holiday is refused as a
//!   probable typing error.

use crate::bank_holidays::BankHolidays;
use crate::schedule::Schedule;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Most officers one configuration lists.
pub const MAX_OFFICERS: usize = 200;
/// Largest `working_days_before`.
pub const MAX_WORKING_DAYS: u32 = 20;
/// Most `holidays` listed.
pub const MAX_HOLIDAYS: usize = 500;
/// Longest agency name, in characters.
pub const MAX_AGENCY_CHARS: usize = 100;
/// How far ahead [`AgendaPlan::due`] looks for meetings whose send day has come, in days (20
/// working days and a run of holidays fit well within it).
pub const LOOKAHEAD_DAYS: u64 = 120;

/// What the administrator wrote (`[agenda]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AgendaConfig {
    /// `Agency name <address>`, one per designated officer.
    pub officers: Vec<String>,
    /// Whether the agenda goes by itself before each meeting.
    pub automatic: bool,
    /// How many working days before the meeting it goes.
    pub working_days_before: u32,
    /// The UK local time (`HH:MM`) it goes at on that day.
    pub send_at: String,
    /// The calendar whose bank holidays are not working days.
    pub bank_holidays: BankHolidays,
    /// More days that are not working days (one-off bank holidays, closures), `YYYY-MM-DD`.
    pub holidays: Vec<NaiveDate>,
    /// Days the calendar's rule makes bank holidays that are working days (a holiday moved).
    pub not_holidays: Vec<NaiveDate>,
}

impl Default for AgendaConfig {
    fn default() -> Self {
        AgendaConfig { officers: Vec::new(), automatic: true, working_days_before: 3, send_at: "08:00".to_owned(), bank_holidays: BankHolidays::default(), holidays: Vec::new(), not_holidays: Vec::new() }
    }
}

/// One designated officer: the agency they research records for, and their address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Officer {
    pub agency: String,
    /// As written, trimmed; compared without regard to case.
    pub address: String,
}

/// The built `[agenda]`: officers read, the time and the holidays checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaPlan {
    pub officers: Vec<Officer>,
    pub automatic: bool,
    pub working_days_before: u32,
    pub send_at: NaiveTime,
    pub bank_holidays: BankHolidays,
    pub holidays: BTreeSet<NaiveDate>,
    pub not_holidays: BTreeSet<NaiveDate>,
}

impl Default for AgendaPlan {
    fn default() -> Self {
        AgendaConfig::default().build(|_| true).expect("the default [agenda] is valid")
    }
}

/// Reads one `officers` line, `Agency name <address>`. The error says what is wrong with it.
pub fn officer(line: &str) -> Result<Officer, String> {
    let line = line.trim();
    let shape = || format!("{line:?} is not `Agency name <address>` (for example \"Kingsmere Police <dmo@kingsmere.pnn.police.uk>\")");
    let (agency, rest) = line.split_once('<').ok_or_else(shape)?;
    let address = rest.strip_suffix('>').ok_or_else(shape)?.trim();
    let agency = agency.trim();
    if agency.is_empty() {
        return Err(format!("{line:?} names no agency before the address"));
    }
    if agency.chars().count() > MAX_AGENCY_CHARS || agency.chars().any(|c| c.is_control() || c == '>' || c == '"') {
        return Err(format!("{line:?}: the agency's name must be at most {MAX_AGENCY_CHARS} characters of ordinary text"));
    }
    let plain = !address.is_empty() && !address.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"' | '(' | ')'));
    match address.rsplit_once('@') {
        Some((local, domain)) if plain && !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') => {}
        _ => return Err(format!("{line:?}: {address:?} is not an email address")),
    }
    Ok(Officer { agency: agency.to_owned(), address: address.to_owned() })
}

impl AgendaConfig {
    /// Checks the section and builds the plan. `allowed` is the same configuration's allowlist:
    /// an officer whose address it does not allow is refused. Errors are (key, reason), the key
    /// within `agenda`.
    pub fn build(&self, allowed: impl Fn(&str) -> bool) -> Result<AgendaPlan, (String, String)> {
        if self.officers.len() > MAX_OFFICERS {
            return Err(("officers".into(), format!("{} officers listed, more than the limit of {MAX_OFFICERS}", self.officers.len())));
        }
        let mut officers: Vec<Officer> = Vec::new();
        for (i, line) in self.officers.iter().enumerate() {
            let key = format!("officers[{i}]");
            let o = officer(line).map_err(|r| (key.clone(), r))?;
            if !allowed(&o.address) {
                return Err((key, format!("{} is not on the secure-sender allowlist (senders.allow): an agenda goes only to a secure address", o.address)));
            }
            if officers.iter().any(|p| p.address.eq_ignore_ascii_case(&o.address)) {
                return Err((key, format!("{} is listed twice", o.address)));
            }
            officers.push(o);
        }
        if !(1..=MAX_WORKING_DAYS).contains(&self.working_days_before) {
            return Err(("working_days_before".into(), format!("must be between 1 and {MAX_WORKING_DAYS}")));
        }
        let send_at = NaiveTime::parse_from_str(self.send_at.trim(), "%H:%M").map_err(|_| ("send_at".to_owned(), format!("{:?} is not a time of day as HH:MM (\"08:00\")", self.send_at)))?;
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(("holidays".into(), format!("{} dates listed, more than the limit of {MAX_HOLIDAYS}", self.holidays.len())));
        }
        if self.not_holidays.len() > MAX_HOLIDAYS {
            return Err(("not_holidays".into(), format!("{} dates listed, more than the limit of {MAX_HOLIDAYS}", self.not_holidays.len())));
        }
        if let Some(d) = self.not_holidays.iter().find(|d| !self.bank_holidays.contains(**d)) {
            return Err(("not_holidays".into(), format!("{d} is not a bank holiday of {} by its rule, so it is a working day already", self.bank_holidays.describe())));
        }
        if let Some(d) = self.not_holidays.iter().find(|d| self.holidays.contains(d)) {
            return Err(("not_holidays".into(), format!("{d} is listed in holidays too")));
        }
        Ok(AgendaPlan {
            officers,
            automatic: self.automatic,
            working_days_before: self.working_days_before,
            send_at,
            bank_holidays: self.bank_holidays,
            holidays: self.holidays.iter().copied().collect(),
            not_holidays: self.not_holidays.iter().copied().collect(),
        })
    }
}

impl AgendaPlan {
    /// Monday to Friday, not a listed holiday, and not a bank holiday (unless listed as moved).
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d) && (self.not_holidays.contains(&d) || !self.bank_holidays.contains(d))
    }

    /// The day the agenda of the meeting on `meeting` goes: `working_days_before` working days
    /// before it. None only when the calendar runs out.
    pub fn send_day(&self, meeting: NaiveDate) -> Option<NaiveDate> {
        let mut day = meeting;
        let mut counted = 0;
        // Each week has five weekdays; at most MAX_HOLIDAYS of them are listed holidays, and a
        // year has at most ten bank holidays.
        for _ in 0..(7 * MAX_WORKING_DAYS as usize + 2 * MAX_HOLIDAYS + 70) {
            if counted == self.working_days_before {
                return Some(day);
            }
            day = day.checked_sub_days(Days::new(1))?;
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        None
    }

    /// The meetings whose agenda is due to go by itself at `now` (UK local time): those after
    /// today whose send day and time have come, earliest first. None when the agenda does not go
    /// by itself or there is no one to send it to. Whether it already went is the store's to say.
    pub fn due(&self, schedule: &Schedule, now: NaiveDateTime) -> Vec<NaiveDate> {
        if !self.automatic || self.officers.is_empty() {
            return Vec::new();
        }
        let today = now.date();
        let (Some(first), Some(last)) = (today.checked_add_days(Days::new(1)), today.checked_add_days(Days::new(LOOKAHEAD_DAYS))) else { return Vec::new() };
        schedule
            .meetings_between(first, last)
            .into_iter()
            .filter(|m| self.send_day(*m).is_some_and(|s| s < today || (s == today && now.time() >= self.send_at)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ScheduleConfig;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// A plan counting only the `holidays` listed (no calendar's bank holidays).
    fn plan(officers: &[&str], days: u32, holidays: &[&str]) -> AgendaPlan {
        let c = AgendaConfig {
            officers: officers.iter().map(|s| s.to_string()).collect(),
            working_days_before: days,
            holidays: holidays.iter().map(|h| d(h)).collect(),
            bank_holidays: BankHolidays::None,
            ..AgendaConfig::default()
        };
        c.build(|a| a.ends_with(".pnn.police.uk") || a.ends_with("@nhs.net")).unwrap()
    }

    fn tuesdays() -> Schedule {
        let c: ScheduleConfig = toml::from_str("kind = \"weekly\"\nweekday = \"tue\"").unwrap();
        c.validate().unwrap()
    }

    #[test]
    fn an_officer_is_an_agency_and_a_secure_address() {
        assert_eq!(officer(" Kingsmere Police <dmo@kingsmere.pnn.police.uk> ").unwrap(), Officer { agency: "Kingsmere Police".into(), address: "dmo@kingsmere.pnn.police.uk".into() });
        for bad in ["dmo@kingsmere.pnn.police.uk", "<dmo@kingsmere.pnn.police.uk>", "Police <dmo>", "Police <a b@x.uk>", "Police <a@x.uk, b@x.uk>", "Police <a@x.uk", "Police <@x.uk>"] {
            assert!(officer(bad).is_err(), "{bad}");
        }
        let refused = |lines: &[&str]| AgendaConfig { officers: lines.iter().map(|s| s.to_string()).collect(), ..AgendaConfig::default() }.build(|a| a.ends_with("@nhs.net")).unwrap_err();
        let (key, why) = refused(&["Health <safeguarding@nhs.net>", "Police <dmo@gmail.com>"]);
        assert_eq!(key, "officers[1]");
        assert!(why.contains("dmo@gmail.com is not on the secure-sender allowlist"), "{why}");
        assert_eq!(refused(&["Health <a@nhs.net>", "Health again <A@NHS.net>"]).0, "officers[1]", "the same address twice");
        let bad_time = AgendaConfig { send_at: "8am".into(), ..AgendaConfig::default() }.build(|_| true).unwrap_err();
        assert_eq!(bad_time.0, "send_at");
        assert_eq!(AgendaConfig { working_days_before: 0, ..AgendaConfig::default() }.build(|_| true).unwrap_err().0, "working_days_before");
        assert_eq!(AgendaConfig { working_days_before: 21, ..AgendaConfig::default() }.build(|_| true).unwrap_err().0, "working_days_before");
    }

    #[test]
    fn the_send_day_counts_working_days_back_from_the_meeting() {
        let p = plan(&[], 3, &[]);
        // Tuesday 13 January 2026: Mon 12, Fri 9, Thu 8.
        assert_eq!(p.send_day(d("2026-01-13")), Some(d("2026-01-08")));
        // Thursday 15: Wed 14, Tue 13, Mon 12.
        assert_eq!(p.send_day(d("2026-01-15")), Some(d("2026-01-12")));
        // Good Friday 3 April and Easter Monday 6 April 2026 are not working days: Tue 7 April's
        // agenda goes Tue 31 March (Thu 2, Wed 1, Tue 31).
        let easter = plan(&[], 3, &["2026-04-03", "2026-04-06"]);
        assert_eq!(easter.send_day(d("2026-04-07")), Some(d("2026-03-31")));
        assert_eq!(plan(&[], 1, &[]).send_day(d("2026-01-12")), Some(d("2026-01-09")), "Monday's goes the Friday before");
    }

    #[test]
    fn bank_holidays_are_not_working_days_by_default_and_one_offs_are_listed() {
        // By default, England and Wales's: Easter 2026 as above, with nothing listed.
        let e = AgendaConfig::default().build(|_| true).unwrap();
        assert_eq!(e.bank_holidays, BankHolidays::EnglandAndWales);
        assert_eq!(e.send_day(d("2026-04-07")), Some(d("2026-03-31")));
        // Tuesday 29 December 2026: Christmas (Friday) and Boxing Day's Monday 28 are not
        // working days: Thu 24, Wed 23, Tue 22.
        assert_eq!(e.send_day(d("2026-12-29")), Some(d("2026-12-22")));
        // In Scotland, Easter Monday is a working day; 2 January is not.
        let scotland: AgendaConfig = toml::from_str("bank_holidays = \"scotland\"").unwrap();
        let s = scotland.build(|_| true).unwrap();
        assert_eq!(s.send_day(d("2026-04-07")), Some(d("2026-04-01")), "Mon 6, Thu 2, Wed 1");
        assert_eq!(s.send_day(d("2026-01-06")), Some(d("2025-12-30")), "Mon 5, Wed 31, Tue 30: 1 and 2 January are holidays");
        // A one-off (the coronation's Monday 8 May 2023) is listed beside the calendar's.
        let listed: AgendaConfig = toml::from_str("holidays = [\"2023-05-08\"]").unwrap();
        assert_eq!(listed.build(|_| true).unwrap().send_day(d("2023-05-10")), Some(d("2023-05-04")), "Tue 9, Fri 5, Thu 4");
        assert!(toml::from_str::<AgendaConfig>("bank_holidays = \"wales\"").is_err(), "a calendar it does not know is refused");
        // 2022: the spring bank holiday moved from Monday 30 May to Thursday 2 June (and Friday
        // 3 June was added). Listed so, Tuesday 7 June's agenda goes Tue 31 May (Mon 6, Wed 1,
        // Tue 31), and Wednesday 1 June's goes Fri 27 May (Tue 31, Mon 30: a working day that
        // year, Fri 27).
        let moved: AgendaConfig = toml::from_str("holidays = [\"2022-06-02\", \"2022-06-03\"]\nnot_holidays = [\"2022-05-30\"]").unwrap();
        let m = moved.build(|_| true).unwrap();
        assert_eq!(m.send_day(d("2022-06-07")), Some(d("2022-05-31")));
        assert_eq!(m.send_day(d("2022-06-01")), Some(d("2022-05-27")));
        let typo: AgendaConfig = toml::from_str("not_holidays = [\"2022-05-31\"]").unwrap();
        let (key, why) = typo.build(|_| true).unwrap_err();
        assert!(key == "not_holidays" && why.contains("not a bank holiday of England and Wales"), "{key}: {why}");
    }

    #[test]
    fn due_when_the_send_day_and_time_have_come_until_the_day_before() {
        let p = plan(&["Police <dmo@kingsmere.pnn.police.uk>"], 3, &[]);
        let s = tuesdays();
        assert!(p.due(&s, at("2026-01-07 23:59")).is_empty(), "Wednesday: not yet");
        assert!(p.due(&s, at("2026-01-08 07:59")).is_empty(), "Thursday before 08:00");
        assert_eq!(p.due(&s, at("2026-01-08 08:00")), [d("2026-01-13")]);
        assert_eq!(p.due(&s, at("2026-01-12 17:00")), [d("2026-01-13")], "late, while the meeting is still to come");
        assert!(p.due(&s, at("2026-01-13 08:00")).iter().all(|m| *m > d("2026-01-13")), "not on the meeting day itself");
        // With 20 working days, four Tuesdays are due at once (their send days have all come).
        let far = plan(&["Police <dmo@kingsmere.pnn.police.uk>"], 20, &[]);
        assert_eq!(far.due(&s, at("2026-01-08 09:00")).len(), 4);
        assert!(plan(&[], 3, &[]).due(&s, at("2026-01-08 09:00")).is_empty(), "no officers: nothing to send");
        let by_hand = AgendaPlan { automatic: false, ..p.clone() };
        assert!(by_hand.due(&s, at("2026-01-08 09:00")).is_empty(), "automatic = false: by hand only");
    }
}
