//! The SafeLives quarterly MARAC data return: per meeting of a quarter, the counts SafeLives asks
//! for, from what the referral forms say. Pure: the cases in (`store::data_return`), counts and
//! their JSON, CSV and XLSX out.
//!
//! Nothing is guessed. Each demographic count has an `_unknown` beside it: the cases whose form
//! did not say, or said it in words this module does not know ("prefer not to say", "White", a
//! gender it cannot place). The rules, in the order the return lists them:
//! 1. `cases`: the cases listed for the meeting, as the agenda lists them (closed ones left out).
//! 2. `repeats`: cases decided as repeats (the repeat criterion met against the history).
//! 3. `police_referrals` / `partner_referrals`: the referring agency's type when the form gives
//!    one, else the agency's name: police when it says police or constabulary, a partner agency
//!    otherwise; `referrals_agency_unknown` when the form gives neither.
//! 4. `children`: the children in the household: the number the form states ("Number of
//!    children: 2", "None" under the children's heading), or the children it names when it names
//!    more; `children_unknown` counts the cases whose form neither names a child nor says how
//!    many (or none).
//! 5. `racially_minoritised`: every ethnic group but White British (English, Welsh, Scottish,
//!    Northern Irish, British) counts, white minorities too (Irish, Gypsy or Irish Traveller,
//!    Roma, any other White background); "White" alone, or a word not known, is unknown.
//! 6. `lgbt`: a sexual orientation other than heterosexual, or a gender that says trans or
//!    non-binary; heterosexual (with a gender that does not) is not; anything else unknown.
//! 7. `disabled`: "yes" (or a named disability or impairment) counts, "no" / "none" does not.
//! 8. `male`: the victim's gender or sex read as male (trans men too); female, non-binary and
//!    other are not; anything else unknown.
//! 9. `aged_16_17`: the victim's age on the day the referral arrived, from the date of birth,
//!    else from an age written as one; neither given: `age_unknown`.
//! 10. `perpetrators_under_18`: the same for the perpetrator.
//!
//! A quarter is a calendar quarter: 2025Q1 is January to March 2025.

use crate::store::data_return::ReturnCase;
use crate::recognise::referral::{age, children_count};
use anyhow::{bail, Result};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, FormatBorder, Workbook};
use serde::Serialize;

/// A calendar quarter, `2025Q1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    q: u32,
}

impl Quarter {
    /// `2025Q1` (also `2025-Q1`, `2025q1`); else an error saying the form.
    pub fn parse(s: &str) -> Result<Quarter> {
        let t = s.trim().to_ascii_uppercase().replace('-', "");
        let parsed = t.split_once('Q').and_then(|(y, q)| Some((y.parse::<i32>().ok()?, q.parse::<u32>().ok()?)));
        match parsed {
            Some((year, q)) if (1..=4).contains(&q) && (2000..=2100).contains(&year) && t.len() == 6 => Ok(Quarter { year, q }),
            _ => bail!("not a quarter: {s:?} (write it as 2025Q1: the year, Q and 1 to 4)"),
        }
    }

    /// The quarter a day falls in.
    pub fn of(day: NaiveDate) -> Quarter {
        Quarter { year: day.year(), q: day.month0() / 3 + 1 }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.q - 1) * 3 + 1, 1).expect("a quarter's first day")
    }

    pub fn last_day(self) -> NaiveDate {
        let next = if self.q == 4 { NaiveDate::from_ymd_opt(self.year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(self.year, self.q * 3 + 1, 1) };
        next.expect("the next quarter's first day").pred_opt().expect("a quarter's last day")
    }

    pub fn previous(self) -> Quarter {
        if self.q == 1 { Quarter { year: self.year - 1, q: 4 } } else { Quarter { year: self.year, q: self.q - 1 } }
    }

    pub fn next(self) -> Quarter {
        if self.q == 4 { Quarter { year: self.year + 1, q: 1 } } else { Quarter { year: self.year, q: self.q + 1 } }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

/// One meeting's counts (the JSON's field names and order are a contract: `meeting_date`,
/// `cases`, `repeats`, `police_referrals`, `partner_referrals`, `children` first).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MeetingReturn {
    pub meeting_date: String,
    pub cases: u32,
    pub repeats: u32,
    pub police_referrals: u32,
    pub partner_referrals: u32,
    pub referrals_agency_unknown: u32,
    pub children: u32,
    pub children_unknown: u32,
    pub racially_minoritised: u32,
    pub racially_minoritised_unknown: u32,
    pub lgbt: u32,
    pub lgbt_unknown: u32,
    pub disabled: u32,
    pub disabled_unknown: u32,
    pub male: u32,
    pub male_unknown: u32,
    pub aged_16_17: u32,
    pub age_unknown: u32,
    pub perpetrators_under_18: u32,
    pub perpetrator_age_unknown: u32,
}

/// The return for a quarter: its meetings in date order (`--json` prints exactly this).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataReturn {
    pub quarter: String,
    pub meetings: Vec<MeetingReturn>,
}

/// The columns of the CSV and XLSX, in the return's order: (title, the count's key).
pub const COLUMNS: [(&str, &str); 20] = [
    ("Meeting date", "meeting_date"),
    ("Cases discussed", "cases"),
    ("Repeat cases", "repeats"),
    ("Referrals from police", "police_referrals"),
    ("Referrals from partner agencies", "partner_referrals"),
    ("Referring agency not known", "referrals_agency_unknown"),
    ("Children in the household", "children"),
    ("Cases with children not known", "children_unknown"),
    ("Victims from racially minoritised communities", "racially_minoritised"),
    ("Ethnicity not known", "racially_minoritised_unknown"),
    ("LGBT+ victims", "lgbt"),
    ("Sexual orientation not known", "lgbt_unknown"),
    ("Victims with a disability", "disabled"),
    ("Disability not known", "disabled_unknown"),
    ("Male victims", "male"),
    ("Gender not known", "male_unknown"),
    ("Victims aged 16-17", "aged_16_17"),
    ("Victim's age not known", "age_unknown"),
    ("Perpetrators under 18", "perpetrators_under_18"),
    ("Perpetrator's age not known", "perpetrator_age_unknown"),
];

impl MeetingReturn {
    /// The counts in [`COLUMNS`] order, after the meeting date.
    pub fn counts(&self) -> [u32; 19] {
        [
            self.cases,
            self.repeats,
            self.police_referrals,
            self.partner_referrals,
            self.referrals_agency_unknown,
            self.children,
            self.children_unknown,
            self.racially_minoritised,
            self.racially_minoritised_unknown,
            self.lgbt,
            self.lgbt_unknown,
            self.disabled,
            self.disabled_unknown,
            self.male,
            self.male_unknown,
            self.aged_16_17,
            self.age_unknown,
            self.perpetrators_under_18,
            self.perpetrator_age_unknown,
        ]
    }

    fn add(&mut self, c: &ReturnCase) {
        let field = |k: &str| c.fields.get(k).map(String::as_str);
        let tally = |yes: &mut u32, unknown: &mut u32, v: Option<bool>| match v {
            Some(true) => *yes += 1,
            Some(false) => {}
            None => *unknown += 1,
        };
        self.cases += 1;
        self.repeats += u32::from(c.repeat);
        match referred_by(field("referrer.agency_type"), field("referrer.agency")) {
            Some(Source::Police) => self.police_referrals += 1,
            Some(Source::Partner) => self.partner_referrals += 1,
            None => self.referrals_agency_unknown += 1,
        }
        let stated = field("household.children").and_then(children_count);
        match (stated, c.children as u32) {
            (None, 0) => self.children_unknown += 1,
            (stated, named) => self.children += stated.unwrap_or(0).max(named),
        }
        tally(&mut self.racially_minoritised, &mut self.racially_minoritised_unknown, field("victim.ethnicity").and_then(minoritised));
        tally(&mut self.lgbt, &mut self.lgbt_unknown, lgbt(field("victim.sexual_orientation"), field("victim.gender")));
        tally(&mut self.disabled, &mut self.disabled_unknown, field("victim.disability").and_then(disabled));
        tally(&mut self.male, &mut self.male_unknown, field("victim.gender").and_then(male));
        let victim_age = years(c.victim_dob, field("victim.age"), c.referred);
        tally(&mut self.aged_16_17, &mut self.age_unknown, victim_age.map(|a| (16..=17).contains(&a)));
        let perpetrator_age = years(c.perpetrator_dob, field("perpetrator.age"), c.referred);
        tally(&mut self.perpetrators_under_18, &mut self.perpetrator_age_unknown, perpetrator_age.map(|a| a < 18));
    }

    fn total(meetings: &[MeetingReturn]) -> MeetingReturn {
        let mut t = MeetingReturn { meeting_date: "Quarter total".into(), ..MeetingReturn::default() };
        for m in meetings {
            let sum = |a: &mut u32, b: u32| *a += b;
            sum(&mut t.cases, m.cases);
            sum(&mut t.repeats, m.repeats);
            sum(&mut t.police_referrals, m.police_referrals);
            sum(&mut t.partner_referrals, m.partner_referrals);
            sum(&mut t.referrals_agency_unknown, m.referrals_agency_unknown);
            sum(&mut t.children, m.children);
            sum(&mut t.children_unknown, m.children_unknown);
            sum(&mut t.racially_minoritised, m.racially_minoritised);
            sum(&mut t.racially_minoritised_unknown, m.racially_minoritised_unknown);
            sum(&mut t.lgbt, m.lgbt);
            sum(&mut t.lgbt_unknown, m.lgbt_unknown);
            sum(&mut t.disabled, m.disabled);
            sum(&mut t.disabled_unknown, m.disabled_unknown);
            sum(&mut t.male, m.male);
            sum(&mut t.male_unknown, m.male_unknown);
            sum(&mut t.aged_16_17, m.aged_16_17);
            sum(&mut t.age_unknown, m.age_unknown);
            sum(&mut t.perpetrators_under_18, m.perpetrators_under_18);
            sum(&mut t.perpetrator_age_unknown, m.perpetrator_age_unknown);
        }
        t
    }
}

impl DataReturn {
    /// Counts `cases` (each listed for a meeting of the quarter) per meeting, by date.
    pub fn count(quarter: Quarter, cases: &[ReturnCase]) -> DataReturn {
        let mut meetings: Vec<MeetingReturn> = Vec::new();
        let mut sorted: Vec<&ReturnCase> = cases.iter().filter(|c| Quarter::of(c.meeting) == quarter).collect();
        sorted.sort_by_key(|c| c.meeting);
        for c in sorted {
            let date = c.meeting.to_string();
            if meetings.last().is_none_or(|m| m.meeting_date != date) {
                meetings.push(MeetingReturn { meeting_date: date, ..MeetingReturn::default() });
            }
            if let Some(m) = meetings.last_mut() {
                m.add(c);
            }
        }
        DataReturn { quarter: quarter.to_string(), meetings }
    }

    /// The quarter's totals, as one more row.
    pub fn total(&self) -> MeetingReturn {
        MeetingReturn::total(&self.meetings)
    }

    /// The return as CSV (RFC 4180): a header row of [`COLUMNS`]' titles, a row per meeting (its
    /// date in UK form, 14/01/2025), the quarter's total last.
    pub fn csv(&self) -> String {
        // The titles hold no comma, quote or formula sign; the cells are a date and numbers.
        let mut out = COLUMNS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(",");
        out.push_str("\r\n");
        for m in self.meetings.iter().chain(std::iter::once(&self.total())) {
            let day = NaiveDate::parse_from_str(&m.meeting_date, "%Y-%m-%d").map_or_else(|_| m.meeting_date.clone(), |d| d.format("%d/%m/%Y").to_string());
            let mut cells = vec![day];
            cells.extend(m.counts().iter().map(u32::to_string));
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The return as XLSX: a sheet named after the quarter, the header frozen, meeting dates as
    /// dates, counts as numbers, the quarter's total in bold.
    pub fn xlsx(&self, area: &str) -> Result<Vec<u8>> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(format!("Data return {}", self.quarter))?;
        let header = Format::new().set_bold().set_text_wrap().set_background_color("D9E1F2").set_border_bottom(FormatBorder::Thin);
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let bold = Format::new().set_bold();
        ws.write_string(0, 0, format!("SafeLives MARAC data return, {} — {area}", self.quarter))?;
        for (col, (title, _)) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(1, col as u16, *title, &header)?;
            ws.set_column_width(col as u16, if col == 0 { 14.0 } else { 16.0 })?;
        }
        ws.set_freeze_panes(2, 1)?;
        let mut row = 2;
        for m in &self.meetings {
            match NaiveDate::parse_from_str(&m.meeting_date, "%Y-%m-%d") {
                Ok(d) => ws.write_datetime_with_format(row, 0, rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?, &date)?,
                Err(_) => ws.write_string(row, 0, &m.meeting_date)?,
            };
            for (i, n) in m.counts().iter().enumerate() {
                ws.write_number(row, i as u16 + 1, f64::from(*n))?;
            }
            row += 1;
        }
        let total = self.total();
        ws.write_string_with_format(row, 0, &total.meeting_date, &bold)?;
        for (i, n) in total.counts().iter().enumerate() {
            ws.write_number_with_format(row, i as u16 + 1, f64::from(*n), &bold)?;
        }
        Ok(wb.save_to_buffer()?)
    }
}

/// The area a return is for: `area` (an `[areas.ID]`), or the deployment's only area when none
/// is named. Its id and its name.
pub fn area_of(c: &crate::config::Config, area: Option<&str>) -> Result<(String, String)> {
    let ids = || c.areas.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ");
    let found = match (area, c.areas.as_slice()) {
        (Some(id), _) => c.area(id).ok_or_else(|| anyhow::anyhow!("no area {id:?} in the configuration (its areas: {})", ids()))?,
        (None, [only]) => only,
        (None, _) => bail!("this deployment has several areas ({}): name the one the return is for with --area", ids()),
    };
    Ok((found.id.clone(), found.name().to_owned()))
}

/// Who referred: the police, or a partner agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Police,
    Partner,
}

/// Words, lower case, split at anything but a letter, a digit or `+`.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase().split(|c: char| !(c.is_alphanumeric() || c == '+')).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Whether `text` says it is not known (or will not say).
fn says_unknown(w: &[String]) -> bool {
    let has = |x: &str| w.iter().any(|t| t == x);
    w.is_empty()
        || has("unknown")
        || has("known") && (has("not") || has("none"))
        || has("prefer") && has("not")
        || has("declined")
        || has("refused")
        || has("undisclosed")
        || has("disclosed") && has("not")
        || has("stated") && has("not")
        || has("dk")
        || has("n") && has("k")
        || has("know") && (has("don") || has("dont") || has("not"))
        || w == ["n", "a"]
        || w == ["na"]
}

/// The referral's source, from the agency's type, else its name (rule 3).
pub fn referred_by(agency_type: Option<&str>, agency: Option<&str>) -> Option<Source> {
    let police = |w: &[String]| w.iter().any(|t| t == "police" || t == "constabulary" || t == "pnn");
    for text in [agency_type, agency].into_iter().flatten() {
        let w = words(text);
        if says_unknown(&w) {
            continue;
        }
        return Some(if police(&w) { Source::Police } else { Source::Partner });
    }
    None
}

/// Whether the victim is male (rule 8); None when the form does not say in words known here.
pub fn male(gender: &str) -> Option<bool> {
    let w = words(gender);
    let has = |x: &str| w.iter().any(|t| t == x);
    if says_unknown(&w) {
        return None;
    }
    let male = has("male") || has("m") || has("man") || has("boy") || has("transman");
    let not_male = has("female") || has("f") || has("woman") || has("girl") || has("transwoman") || has("binary") || has("nonbinary") || has("enby")
        || has("other") || has("agender") || has("genderfluid") || has("fluid");
    match (male, not_male) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Whether the victim is LGBT+ (rule 6).
pub fn lgbt(orientation: Option<&str>, gender: Option<&str>) -> Option<bool> {
    let gw = gender.map(words).unwrap_or_default();
    let g = |x: &str| gw.iter().any(|t| t == x);
    let gender_says = g("trans") || g("transgender") || g("transman") || g("transwoman") || g("binary") || g("nonbinary") || g("enby") || g("genderfluid") || g("agender");
    if gender_says {
        return Some(true);
    }
    let w = words(orientation?);
    if says_unknown(&w) {
        return None;
    }
    let has = |x: &str| w.iter().any(|t| t == x);
    if has("not") || has("non") {
        return None;
    }
    let lgb = ["gay", "lesbian", "bisexual", "bi", "pansexual", "pan", "queer", "asexual", "homosexual", "lgbt", "lgbt+", "lgbtq", "lgbtq+", "lgbtqia+", "lgb"].iter().any(|x| has(x));
    let straight = has("heterosexual") || has("straight");
    match (lgb, straight) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Whether the victim has a disability (rule 7).
pub fn disabled(text: &str) -> Option<bool> {
    let w = words(text);
    if says_unknown(&w) {
        return None;
    }
    if w == ["not", "disabled"] {
        return Some(false);
    }
    let first = w.first().map(String::as_str);
    // "Not registered disabled", "without a diagnosis": a negation this module does not parse.
    if w.iter().any(|t| t == "not" || t == "without" || t == "non") {
        return None;
    }
    if matches!(first, Some("yes" | "y")) {
        return Some(true);
    }
    if matches!(first, Some("no" | "n" | "none")) {
        return Some(false);
    }
    let named = ["disability", "disabilities", "disabled", "impairment", "impaired", "deaf", "blind", "wheelchair", "autism", "autistic", "learning", "mobility"];
    w.iter().any(|t| named.contains(&t.as_str())).then_some(true)
}

/// Whether the victim is from a racially minoritised community (rule 5).
pub fn minoritised(ethnicity: &str) -> Option<bool> {
    let w = words(ethnicity);
    if says_unknown(&w) {
        return None;
    }
    let has = |x: &str| w.iter().any(|t| t == x);
    let white_minority = ["other", "irish", "gypsy", "traveller", "roma", "european", "eastern", "polish", "romanian", "lithuanian", "portuguese", "italian", "spanish", "bulgarian", "latvian"];
    let minority = [
        "black", "asian", "mixed", "multiple", "arab", "chinese", "indian", "pakistani", "bangladeshi", "african", "caribbean", "gypsy", "traveller", "roma", "kurdish",
        "turkish", "latin", "latino", "latina", "somali", "iranian", "filipino", "japanese", "korean", "vietnamese", "sikh",
    ];
    // A group named beside "White" ("Mixed - White and Black African") is a minority's.
    if w.iter().any(|t| minority.contains(&t.as_str())) {
        return Some(true);
    }
    // "Any other ethnic group", "Other ethnic background" (not White): a minority's.
    if !has("white") && has("other") && (has("ethnic") || has("group") || has("background")) {
        return Some(true);
    }
    if has("white") {
        let british = has("british") || has("english") || has("welsh") || has("scottish") || has("northern") && has("irish");
        // "White - English/Welsh/Scottish/Northern Irish/British" names the whole census group.
        let other_white = w.iter().any(|t| white_minority.contains(&t.as_str()) && !(t == "irish" && has("northern")));
        return match (british, other_white) {
            (true, false) => Some(false),
            (false, true) => Some(true),
            _ => None,
        };
    }
    None
}

/// Age in whole years on `on`, from the date of birth, else from an age written as one.
pub fn years(dob: Option<NaiveDate>, written: Option<&str>, on: NaiveDate) -> Option<u32> {
    match dob {
        Some(d) if d <= on => on.years_since(d),
        Some(_) => None,
        None => written.and_then(age),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn quarters() {
        let q = Quarter::parse("2025Q1").unwrap();
        assert_eq!((q.first_day().to_string(), q.last_day().to_string(), q.to_string()), ("2025-01-01".into(), "2025-03-31".into(), "2025Q1".into()));
        let q4 = Quarter::parse("2024-q4").unwrap();
        assert_eq!((q4.last_day().to_string(), q4.next().to_string(), q.previous().to_string()), ("2024-12-31".into(), "2025Q1".into(), "2024Q4".into()));
        assert_eq!(Quarter::of(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()).to_string(), "2025Q2");
        for bad in ["2025Q5", "2025Q0", "2025", "Q1", "25Q1", "2025Q12", "abcdQ1"] {
            assert!(Quarter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn demographics_are_read_or_unknown_never_guessed() {
        for (g, want) in [("Male", Some(true)), ("M", Some(true)), ("Trans man", Some(true)), ("Female", Some(false)), ("Non-binary", Some(false)), ("F", Some(false)), ("Not known", None), ("Prefer not to say", None), ("", None), ("Xyz", None)] {
            assert_eq!(male(g), want, "{g}");
        }
        for (e, want) in [
            ("White British", Some(false)),
            ("White - English/Welsh/Scottish/Northern Irish/British", Some(false)),
            ("White Irish", Some(true)),
            ("Gypsy or Irish Traveller", Some(true)),
            ("White - any other White background", Some(true)),
            ("Black British - Caribbean", Some(true)),
            ("Asian or Asian British: Pakistani", Some(true)),
            ("Mixed / multiple ethnic groups", Some(true)),
            ("Mixed - White and Black African", Some(true)),
            ("White and Asian", Some(true)),
            ("White", None),
            ("British", None),
            ("Any other ethnic group", Some(true)),
            ("Not stated", None),
            ("Prefer not to say", None),
        ] {
            assert_eq!(minoritised(e), want, "{e}");
        }
        for (o, g, want) in [
            (Some("Heterosexual"), Some("Female"), Some(false)),
            (Some("Straight"), None, Some(false)),
            (Some("Lesbian"), Some("Female"), Some(true)),
            (Some("Bisexual"), None, Some(true)),
            (Some("Gay"), Some("Male"), Some(true)),
            (None, Some("Transgender woman"), Some(true)),
            (Some("Heterosexual"), Some("Non-binary"), Some(true)),
            (None, Some("Female"), None),
            (Some("Not known"), Some("Female"), None),
            (Some("Prefer not to say"), None, None),
            (Some("Not heterosexual"), None, None),
        ] {
            assert_eq!(lgbt(o, g), want, "{o:?} {g:?}");
        }
        for (d, want) in [("Yes", Some(true)), ("Yes - mobility", Some(true)), ("Learning disability", Some(true)), ("No", Some(false)), ("None", Some(false)), ("None known", None), ("Not known", None), ("Don't know", None), ("", None), ("Maybe", None), ("Not disabled", Some(false)), ("Not registered disabled", None)] {
            assert_eq!(disabled(d), want, "{d}");
        }
        for (t, a, want) in [
            (Some("Police"), None, Some(Source::Police)),
            (Some("Health"), Some("Kingsmere Police"), Some(Source::Partner)),
            (None, Some("Kingsmere Constabulary"), Some(Source::Police)),
            (None, Some("Kingsmere IDVA Service"), Some(Source::Partner)),
            (Some("Not known"), Some("Kingsmere Police"), Some(Source::Police)),
            (None, None, None),
            (Some(""), Some("Unknown"), None),
        ] {
            assert_eq!(referred_by(t, a), want, "{t:?} {a:?}");
        }
        let on = NaiveDate::from_ymd_opt(2025, 2, 10).unwrap();
        assert_eq!(years(NaiveDate::from_ymd_opt(2008, 2, 11), None, on), Some(16), "a day before the 17th birthday");
        assert_eq!(years(NaiveDate::from_ymd_opt(2008, 2, 10), Some("40"), on), Some(17), "the date of birth wins over the age");
        assert_eq!(years(None, Some("17 years"), on), Some(17));
        assert_eq!(years(None, Some("17/03/1990"), on), None);
        assert_eq!(years(NaiveDate::from_ymd_opt(2026, 1, 1), None, on), None, "born after the referral: no age");
    }

    fn case(meeting: (i32, u32, u32), fields: &[(&str, &str)], repeat: bool, children: usize) -> ReturnCase {
        let meeting = NaiveDate::from_ymd_opt(meeting.0, meeting.1, meeting.2).unwrap();
        ReturnCase {
            case_ref: "MARAC-2025-0001".into(),
            area: "kingsmere".into(),
            meeting,
            referred: meeting - chrono::Duration::days(7),
            repeat,
            children,
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<BTreeMap<_, _>>(),
            victim_dob: None,
            perpetrator_dob: None,
        }
    }

    #[test]
    fn counts_per_meeting_in_date_order_with_a_total() {
        let cases = [
            case((2025, 2, 12), &[("referrer.agency", "Kingsmere Police"), ("victim.gender", "Male"), ("victim.age", "17")], true, 2),
            case((2025, 1, 15), &[("referrer.agency", "IDVA"), ("victim.gender", "Female"), ("victim.ethnicity", "White British")], false, 1),
            case((2025, 1, 15), &[("victim.ethnicity", "Black African"), ("perpetrator.age", "16")], false, 0),
            case((2025, 4, 2), &[("victim.gender", "Male")], false, 0),
        ];
        let r = DataReturn::count(Quarter::parse("2025Q1").unwrap(), &cases);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["quarter"], "2025Q1");
        let m = &json["meetings"];
        assert_eq!(m.as_array().unwrap().len(), 2, "April is another quarter: {json}");
        assert_eq!((m[0]["meeting_date"].as_str(), m[0]["cases"].as_u64(), m[0]["partner_referrals"].as_u64(), m[0]["referrals_agency_unknown"].as_u64()), (Some("2025-01-15"), Some(2), Some(1), Some(1)));
        assert_eq!((m[0]["racially_minoritised"].as_u64(), m[0]["racially_minoritised_unknown"].as_u64(), m[0]["male_unknown"].as_u64(), m[0]["perpetrators_under_18"].as_u64()), (Some(1), Some(0), Some(1), Some(1)));
        assert_eq!((m[1]["repeats"].as_u64(), m[1]["police_referrals"].as_u64(), m[1]["children"].as_u64(), m[1]["male"].as_u64(), m[1]["aged_16_17"].as_u64()), (Some(1), Some(1), Some(2), Some(1), Some(1)));
        let keys: Vec<&str> = m[0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), COLUMNS.len());
        assert!(COLUMNS.iter().all(|(_, k)| keys.contains(k)), "{keys:?}");
        let total = r.total();
        assert_eq!((total.cases, total.children, total.male, total.male_unknown), (3, 3, 1, 1));
        assert_eq!((m[0]["children"].as_u64(), m[0]["children_unknown"].as_u64()), (Some(1), Some(1)), "a form naming no child and saying nothing of them: not known");
        let csv = r.csv();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(lines[0].starts_with("Meeting date,Cases discussed,Repeat cases,") && lines[3].starts_with("Quarter total,3,1,"), "{csv}");
        assert!(lines[1].starts_with("15/01/2025,2,"), "the meeting's date in UK form: {csv}");
    }

    #[test]
    fn children_are_the_number_stated_or_the_children_named_and_otherwise_not_known() {
        let on = (2025, 1, 15);
        let cases = [
            case(on, &[("household.children", "3")], false, 1),
            case(on, &[("household.children", "None")], false, 0),
            case(on, &[("household.children", "1")], false, 2),
            case(on, &[], false, 2),
            case(on, &[], false, 0),
            case(on, &[("household.children", "Yes")], false, 0),
        ];
        let r = DataReturn::count(Quarter::parse("2025Q1").unwrap(), &cases);
        let m = &r.meetings[0];
        // 3 stated (one named), none stated, 2 named (one stated), 2 named; two not known.
        assert_eq!((m.children, m.children_unknown), (3 + 2 + 2, 2));
    }
}
