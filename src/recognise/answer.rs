//! Answer and date normalisation: the many ways a referrer writes Yes, No, Don't know or a date.

use crate::document::{CHECKED, UNCHECKED};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    DontKnow,
    Blank,
}

/// Lower-cases, folds typographic quotes and drops surrounding punctuation.
fn fold(s: &str) -> String {
    let s = s.trim().to_lowercase().replace(['’', '‘', '`'], "'");
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ':' | ';' | ',' | '*' | '-' | '–' | '(' | ')' | '[' | ']'))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn word(s: &str) -> Option<Answer> {
    Some(match s {
        "" => Answer::Blank,
        "yes" | "y" | "yes." | "✓" | "✔" | "☑" | "☒" | "x" | "ticked" | "tick" | "true" | "yes, ticked" | "checked" | "selected" => Answer::Yes,
        "no" | "n" | "false" | "n/a" | "na" | "not applicable" | "none" | "nil" | "not ticked" | "unticked" | "not checked"
        | "unchecked" | "not selected" => Answer::No,
        "don't know" | "dont know" | "do not know" | "don't know/not known" | "dk" | "d/k" | "d.k" | "not known"
        | "n/k" | "nk" | "unknown" | "unsure" | "not sure" | "don't know / not known" | "?" | "dnk" => {
            Answer::DontKnow
        }
        _ => return None,
    })
}

/// Reads an answer written as text. `None` when the text is not an answer at all (it may be a
/// comment or an unreadable mark); a person must then look.
pub fn normalise_answer(text: &str) -> Option<Answer> {
    let f = fold(text);
    if let Some(a) = word(&f) {
        return Some(a);
    }
    // "Yes - broken wrist", "No (not since May)", "Don't know, will check": the answer comes first.
    for sep in [" - ", " – ", " (", ", ", ": ", "; ", " / "] {
        if let Some((head, _)) = f.split_once(sep) {
            if let Some(a) = word(fold(head).as_str()).filter(|a| *a != Answer::Blank) {
                return Some(a);
            }
        }
    }
    None
}

/// Whether a cell under a Yes / No / Don't know column holds a mark. `None` when its text is
/// neither a mark nor empty.
pub fn is_mark(text: &str) -> Option<bool> {
    let f = fold(text);
    match f.as_str() {
        "" | "☐" | "false" | "0" | "□" | "o" => Some(false),
        "x" | "✓" | "✔" | "☑" | "☒" | "✗" | "✘" | "yes" | "y" | "ticked" | "tick" | "true" | "1" | "•" | "●" | "■"
        | "xx" => Some(true),
        _ => None,
    }
}

/// Inline checkboxes in a cell ("☒ Yes ☐ No ☐ Don't know"): the answers whose box is ticked.
/// `None` when the text holds no checkbox at all.
pub fn inline_checked(text: &str) -> Option<Vec<Answer>> {
    if !text.contains(CHECKED) && !text.contains(UNCHECKED) {
        return None;
    }
    let mut ticked = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find([CHECKED, UNCHECKED]) {
        let checked = rest[pos..].starts_with(CHECKED);
        let after = &rest[pos + CHECKED.len_utf8()..];
        let end = after.find([CHECKED, UNCHECKED]).unwrap_or(after.len());
        if checked {
            match normalise_answer(&after[..end]) {
                Some(Answer::Blank) | None => ticked.push(Answer::Yes),
                Some(a) => ticked.push(a),
            }
        }
        rest = after;
    }
    ticked.dedup();
    Some(ticked)
}

/// A date read from a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateRead {
    Date(NaiveDate),
    /// Looks like a date but cannot exist (31/02/1990, month 13).
    Impossible,
    /// Not a date.
    NotADate,
}

/// Words a written date may carry that say nothing of the date: "14th of November 1987",
/// "Sat 14 Nov 1987", "DOB 14/11/1987".
const DATE_FILLER: &[&str] = &[
    "of", "the", "on", "dob", "born", "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur",
    "thurs", "thursday", "fri", "friday", "sat", "saturday", "sun", "sunday",
];

/// Words of an age written after a date: "(38 yrs)", "aged 38", "38 years old".
const AGE_WORDS: &[&str] = &["age", "aged", "yrs", "yr", "years", "year", "old", "y", "o", "approx"];

/// Eight digits as one date: day first (`14111987`) or year first (`19871114`), only when
/// exactly one of the two readings is a real date.
fn eight_digits(s: &str) -> DateRead {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return DateRead::NotADate;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let read = |y: Option<u32>, m: Option<u32>, d: Option<u32>| {
        let (y, m, d) = (y?, m?, d?);
        (1000..=9999).contains(&y).then(|| NaiveDate::from_ymd_opt(y as i32, m, d)).flatten()
    };
    let day_first = read(n(4..8), n(2..4), n(0..2));
    let year_first = read(n(0..4), n(4..6), n(6..8));
    match (day_first, year_first) {
        (Some(d), None) | (None, Some(d)) => DateRead::Date(d),
        _ => DateRead::NotADate,
    }
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// Reads a UK-style date: 03/07/1991, 3.7.91, 03-07-1991, 1991-07-03, 3 July 1991, 3rd Jul 1991,
/// July 3rd 1991. Two-digit years are placed in the century that makes them not later than
/// `pivot_year` (the year the message arrived), as a date of birth must be.
pub fn parse_date(text: &str, pivot_year: i32) -> DateRead {
    let t = text.trim().to_lowercase();
    if t.is_empty() || t.len() > 40 {
        return DateRead::NotADate;
    }
    let mut tokens: Vec<&str> = t
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty() && !DATE_FILLER.contains(s))
        .collect();
    // "14111987": eight digits, day first, or "19871114", year first, when only one reads.
    if let [one] = tokens.as_slice() {
        return eight_digits(one);
    }
    // "14/11/1987 (38)", "14.11.87 aged 38", "14 Nov 1987 - 38 yrs": a date, then its age.
    if tokens.len() > 3 {
        let rest = &tokens[3..];
        let is_age = |s: &&str| AGE_WORDS.contains(s) || (s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit()));
        if !rest.iter().all(is_age) {
            return DateRead::NotADate;
        }
        tokens.truncate(3);
    }
    let num = |s: &str| -> Option<i64> {
        let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = &s[digits.len()..];
        if digits.is_empty() || digits.len() > 4 || !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
            return None;
        }
        digits.parse().ok()
    };
    let month = |s: &str| -> Option<i64> {
        if s.len() < 3 {
            return None;
        }
        MONTHS.iter().position(|m| s.starts_with(m)).map(|i| i as i64 + 1).filter(|_| {
            // "march", "mar", "sept" are months; "marmalade" is not.
            let full = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december"];
            full.iter().any(|f| f.starts_with(s)) || s == "sept"
        })
    };
    let year = |y: i64, digits: usize| -> i64 {
        if digits <= 2 {
            let century = i64::from(pivot_year) / 100 * 100;
            let candidate = century + y;
            if candidate > i64::from(pivot_year) {
                candidate - 100
            } else {
                candidate
            }
        } else {
            y
        }
    };
    let (d, m, y) = match tokens.as_slice() {
        [a, b, c] => match (num(a), month(b), num(b), num(c), month(a)) {
            // 1991-07-03
            (Some(y), _, Some(m), Some(d), _) if a.len() == 4 => (d, m, y),
            // 3 July 1991
            (Some(d), Some(m), _, Some(y), _) => (d, m, year(y, c.len())),
            // 03/07/1991
            (Some(d), None, Some(m), Some(y), _) if c.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()) => {
                (d, m, year(y, c.len()))
            }
            // July 3rd 1991
            (None, _, Some(d), Some(y), Some(m)) => (d, m, year(y, c.len())),
            _ => return DateRead::NotADate,
        },
        _ => return DateRead::NotADate,
    };
    if !(1..=31).contains(&d) || !(1..=12).contains(&m) || !(1000..=9999).contains(&y) {
        return if (1..=99).contains(&d) && (1..=99).contains(&m) { DateRead::Impossible } else { DateRead::NotADate };
    }
    match NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32) {
        Some(date) => DateRead::Date(date),
        None => DateRead::Impossible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings() {
        for s in ["Yes", "YES", "y", "✓", "✔", "X", "☒", "ticked", " yes ", "Yes - broken wrist"] {
            assert_eq!(normalise_answer(s), Some(Answer::Yes), "{s}");
        }
        for s in ["No", "N", "no.", "No (not since May)"] {
            assert_eq!(normalise_answer(s), Some(Answer::No), "{s}");
        }
        for s in ["Don't know", "DON’T KNOW", "DK", "Not known", "Unknown", "n/k", "Dont know"] {
            assert_eq!(normalise_answer(s), Some(Answer::DontKnow), "{s}");
        }
        assert_eq!(normalise_answer(""), Some(Answer::Blank));
        assert_eq!(normalise_answer("  "), Some(Answer::Blank));
        assert_eq!(normalise_answer("perhaps later"), None);
    }

    #[test]
    fn inline_boxes() {
        assert_eq!(inline_checked("☒ Yes ☐ No ☐ Don't know"), Some(vec![Answer::Yes]));
        assert_eq!(inline_checked("☐ Yes ☒ No ☐ DK"), Some(vec![Answer::No]));
        assert_eq!(inline_checked("☐ Yes ☐ No ☐ DK"), Some(vec![]));
        assert_eq!(inline_checked("☒ Yes ☒ No"), Some(vec![Answer::Yes, Answer::No]));
        assert_eq!(inline_checked("Yes"), None);
    }

    #[test]
    fn uk_dates() {
        let d = NaiveDate::from_ymd_opt(1991, 7, 3).unwrap();
        for s in ["03/07/1991", "3.7.91", "1991-07-03", "3 July 1991", "3rd Jul 1991", "03-07-1991", "July 3rd 1991", "3/7/91"] {
            assert_eq!(parse_date(s, 2025), DateRead::Date(d), "{s}");
        }
        assert_eq!(parse_date("31/02/1990", 2025), DateRead::Impossible);
        assert_eq!(parse_date("12/13/1990", 2025), DateRead::Impossible);
        assert_eq!(parse_date("not known", 2025), DateRead::NotADate);
        assert_eq!(parse_date("01/02/24", 2025), DateRead::Date(NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()));
        assert_eq!(parse_date("01/02/30", 2025), DateRead::Date(NaiveDate::from_ymd_opt(1930, 2, 1).unwrap()));
    }

    #[test]
    fn a_date_of_birth_in_every_uk_written_form() {
        let d = NaiveDate::from_ymd_opt(1987, 11, 14).unwrap();
        for s in [
            "14/11/1987", "14.11.87", "14 November 1987", "14th Nov 1987", "1987-11-14", "14th of November 1987",
            "14-Nov-1987", "14 Nov. 1987", "November 14th, 1987", "Sat 14 November 1987", "14/11/1987 (38)",
            "14/11/1987 (38 yrs)", "14.11.1987 aged 38", "14 November 1987 - 38 years old", "DOB 14/11/1987",
            "14111987", "19871114", "14 / 11 / 1987",
        ] {
            assert_eq!(parse_date(s, 2026), DateRead::Date(d), "{s}");
        }
        // Two dates, or a date with more than an age after it, is not one date of birth.
        for s in ["14/11/1987 or 15/11/1987", "14/11/1987 approx unknown", "20111201"] {
            assert!(!matches!(parse_date(s, 2026), DateRead::Date(_)), "{s}");
        }
    }

    proptest! {
        #[test]
        fn answers_ignore_case_and_spacing(idx in 0usize..6, upper in any::<bool>(), pad in 0usize..3) {
            let words = ["yes", "no", "don't know", "dk", "not known", "unknown"];
            let want = [Answer::Yes, Answer::No, Answer::DontKnow, Answer::DontKnow, Answer::DontKnow, Answer::DontKnow];
            let mut w = words[idx].to_string();
            if upper { w = w.to_uppercase(); }
            let s = format!("{}{}{}", " ".repeat(pad), w, " ".repeat(pad));
            prop_assert_eq!(normalise_answer(&s), Some(want[idx]));
        }

        #[test]
        fn answers_never_panic(s in "\\PC{0,40}") {
            let _ = normalise_answer(&s);
            let _ = is_mark(&s);
            let _ = inline_checked(&s);
            let _ = parse_date(&s, 2025);
        }

        #[test]
        fn every_uk_form_of_a_date_reads_back(days in 0i64..40_000, style in 0usize..6) {
            let date = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let text = match style {
                0 => date.format("%d/%m/%Y").to_string(),
                1 => date.format("%-d.%-m.%Y").to_string(),
                2 => date.format("%Y-%m-%d").to_string(),
                3 => date.format("%-d %B %Y").to_string(),
                4 => date.format("%-d %b %Y").to_string(),
                _ => date.format("%d-%m-%Y").to_string(),
            };
            prop_assert_eq!(parse_date(&text, 2030), DateRead::Date(date));
        }

        #[test]
        fn impossible_days_are_never_dates(month in 1u32..=12, year in 1920i32..2020) {
            let text = format!("32/{month:02}/{year}");
            prop_assert_ne!(parse_date(&text, 2025), DateRead::NotADate);
            prop_assert!(!matches!(parse_date(&text, 2025), DateRead::Date(_)));
        }
    }
}
