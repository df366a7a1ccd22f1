//! The UK's bank holidays, worked out by rule for each of its three calendars, so that "working
//! days" (the agenda's `working_days_before`) mean what they mean in the office without an admin
//! typing the year's holidays in. Pure: a date in, yes or no out.
//!
//! The rules (as GOV.UK publishes the dates; a holiday on a Saturday or Sunday gives the next
//! weekday not already a holiday instead):
//! - England and Wales: New Year's Day, Good Friday, Easter Monday, the early May bank holiday
//!   (first Monday of May), the spring bank holiday (last Monday of May), the summer bank holiday
//!   (last Monday of August), Christmas Day and Boxing Day.
//! - Scotland: New Year's Day and 2 January, Good Friday, the first Monday of May, the last
//!   Monday of May, the first Monday of August, St Andrew's Day (30 November), Christmas Day and
//!   Boxing Day.
//! - Northern Ireland: England and Wales's, with St Patrick's Day (17 March) and the Battle of
//!   the Boyne (12 July).
//!
//! One-off holidays and the years a holiday was moved (a coronation, a jubilee, VE Day in 2020)
//! follow no rule: the configuration lists them (`agenda.holidays`).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Which calendar's bank holidays are not working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankHolidays {
    #[default]
    EnglandAndWales,
    Scotland,
    NorthernIreland,
    /// None by rule: only the days the configuration lists.
    None,
}

impl BankHolidays {
    /// The configuration's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BankHolidays::EnglandAndWales => "england_and_wales",
            BankHolidays::Scotland => "scotland",
            BankHolidays::NorthernIreland => "northern_ireland",
            BankHolidays::None => "none",
        }
    }

    /// For people: "England and Wales".
    pub fn describe(self) -> &'static str {
        match self {
            BankHolidays::EnglandAndWales => "England and Wales",
            BankHolidays::Scotland => "Scotland",
            BankHolidays::NorthernIreland => "Northern Ireland",
            BankHolidays::None => "no calendar",
        }
    }

    /// Whether `day` is a bank holiday of this calendar.
    pub fn contains(self, day: NaiveDate) -> bool {
        self.of_year(day.year()).contains(&day)
    }

    /// The bank holidays of `year`, in date order (none outside the years chrono can place).
    pub fn of_year(self, year: i32) -> Vec<NaiveDate> {
        let (Some(easter), Some(jan1)) = (easter_sunday(year), NaiveDate::from_ymd_opt(year, 1, 1)) else { return Vec::new() };
        let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
        let fixed = |m: u32, d: u32| date(m, d).into_iter().collect::<Vec<_>>();
        let good_friday = easter.checked_sub_days(Days::new(2));
        let easter_monday = easter.checked_add_days(Days::new(1));
        let may_first = nth_monday(year, 5, 1);
        let may_last = last_monday(year, 5);
        let (mut days, observed): (Vec<Option<NaiveDate>>, Vec<Vec<NaiveDate>>) = match self {
            BankHolidays::None => return Vec::new(),
            BankHolidays::EnglandAndWales => (vec![good_friday, easter_monday, may_first, may_last, last_monday(year, 8)], vec![vec![jan1], fixed(12, 25), fixed(12, 26)]),
            BankHolidays::Scotland => {
                (vec![good_friday, may_first, may_last, nth_monday(year, 8, 1)], vec![vec![jan1], fixed(1, 2), fixed(11, 30), fixed(12, 25), fixed(12, 26)])
            }
            BankHolidays::NorthernIreland => (
                vec![good_friday, easter_monday, may_first, may_last, last_monday(year, 8)],
                vec![vec![jan1], fixed(3, 17), fixed(7, 12), fixed(12, 25), fixed(12, 26)],
            ),
        };
        // Each fixed holiday in date order: on a weekend, the next weekday not yet taken.
        let mut taken: Vec<NaiveDate> = days.iter().flatten().copied().collect();
        for day in observed.into_iter().flatten() {
            let mut d = day;
            while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) || taken.contains(&d) {
                let Some(next) = d.succ_opt() else { break };
                d = next;
            }
            taken.push(d);
            days.push(Some(d));
        }
        let mut out: Vec<NaiveDate> = days.into_iter().flatten().collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Easter Sunday of `year` (the Gregorian computus, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let (b, c) = (year.div_euclid(100), year.rem_euclid(100));
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The `n`th Monday (1-based) of `month`.
fn nth_monday(year: i32, month: u32, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, n)
}

/// The last Monday of `month`.
fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(year, month + 1, 1)? };
    let mut d = first_next.pred_opt()?;
    while d.weekday() != Weekday::Mon {
        d = d.pred_opt()?;
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(list: &[&str]) -> Vec<NaiveDate> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn easter_falls_where_the_calendar_has_it() {
        for (year, day) in [(2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28"), (2038, "2038-04-25"), (2285, "2285-03-22")] {
            assert_eq!(easter_sunday(year), day.parse().ok(), "{year}");
        }
    }

    /// The dates GOV.UK publishes (www.gov.uk/bank-holidays), for years with no one-off holiday.
    #[test]
    fn england_and_wales_as_published() {
        let e = BankHolidays::EnglandAndWales;
        assert_eq!(e.of_year(2025), days(&["2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"]));
        assert_eq!(e.of_year(2026), days(&["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"]));
        // Christmas on a Saturday, Boxing Day on a Sunday: Monday 27 and Tuesday 28.
        assert_eq!(e.of_year(2021)[6..], days(&["2021-12-27", "2021-12-28"]));
        // Christmas on a Sunday: Boxing Day on Monday 26, Christmas's day on Tuesday 27; New
        // Year's Day on a Sunday: Monday 2 January.
        assert_eq!(e.of_year(2022)[6..], days(&["2022-12-26", "2022-12-27"]));
        assert_eq!(e.of_year(2023)[0], "2023-01-02".parse::<NaiveDate>().unwrap());
        assert!(e.contains("2026-04-06".parse().unwrap()) && !e.contains("2026-04-07".parse().unwrap()));
    }

    #[test]
    fn scotland_and_northern_ireland_have_their_own() {
        let s = BankHolidays::Scotland.of_year(2026);
        assert_eq!(s, days(&["2026-01-01", "2026-01-02", "2026-04-03", "2026-05-04", "2026-05-25", "2026-08-03", "2026-11-30", "2026-12-25", "2026-12-28"]));
        // 2025: 1 and 2 January a Wednesday and Thursday; St Andrew's Day a Sunday: Monday 1 December.
        assert!(BankHolidays::Scotland.contains("2025-12-01".parse().unwrap()));
        assert!(!BankHolidays::Scotland.contains("2026-04-06".parse().unwrap()), "no Easter Monday");
        let ni = BankHolidays::NorthernIreland.of_year(2026);
        assert_eq!(ni, days(&["2026-01-01", "2026-03-17", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-07-13", "2026-08-31", "2026-12-25", "2026-12-28"]));
        assert!(BankHolidays::None.of_year(2026).is_empty());
    }
}
