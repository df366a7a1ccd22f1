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
    let lower = s.trim().to_lowercase();
    let s = if lower.contains(['’', '‘', '`']) { lower.replace(['’', '‘', '`'], "'") } else { lower };
    let mut out = String::with_capacity(s.len());
    let inner = s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ':' | ';' | ',' | '*' | '-' | '–' | '(' | ')' | '[' | ']' | '!'));
    for word in inner.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A whole answer written as a word. Not here, on purpose, because they are not safe to read:
/// "N/A" and "not applicable" (not a No: the question may not have been asked), and a lone "x" or
/// "✗" typed as the answer (a cross may mean ticked or may mean no). Under a Yes / No / Don't know
/// header a cross is a mark ([`is_mark`]). Welsh "ie" / "nage" are read; Welsh "na" is not, as
/// it is also how "N/A" is typed.
fn word(s: &str) -> Option<Answer> {
    Some(match s {
        "" => Answer::Blank,
        "yes" | "y" | "yes." | "✓" | "✔" | "☑" | "☒" | "ticked" | "tick" | "true" | "yes, ticked" | "checked" | "selected" | "yeah"
        | "yep" | "yup" | "ie" => Answer::Yes,
        "no" | "n" | "false" | "none" | "nil" | "not ticked" | "unticked" | "not checked" | "unchecked" | "not selected" | "nope"
        | "nah" | "nage" => Answer::No,
        "don't know" | "dont know" | "do not know" | "don't know/not known" | "dk" | "d/k" | "d.k" | "d k" | "not known"
        | "n/k" | "nk" | "n.k" | "unknown" | "unsure" | "not sure" | "don't know / not known" | "?" | "dnk" | "don't knw"
        | "dont no" | "don't no" | "unkown" | "unknwn" | "not know" | "dont' know" | "d/n" | "do not know/not known" => Answer::DontKnow,
        _ => return None,
    })
}

/// A tick-box value on a referral form: there a lone "x" is a tick and "N/A" is not ticked.
fn tick_word(s: &str) -> Option<Answer> {
    word(s).or(match s {
        "x" | "✗" | "✘" => Some(Answer::Yes),
        "n/a" | "na" | "not applicable" => Some(Answer::No),
        _ => None,
    })
}

/// Reads a tick-box value or a Yes / No written as text on a referral form. `None` when the text
/// is not an answer at all or names two answers ("Yes / No", an untouched template).
pub fn normalise_answer(text: &str) -> Option<Answer> {
    read_with(text, tick_word)
}

/// Reads a DASH answer written as text (a typed answer column, a text field). `None` when the text
/// is not an answer, is not safe to read (N/A, a lone cross) or names two answers: a person must
/// then look.
pub fn dash_answer(text: &str) -> Option<Answer> {
    read_with(text, word)
}

fn read_with(text: &str, words: fn(&str) -> Option<Answer>) -> Option<Answer> {
    let f = fold(text);
    if let Some(a) = words(&f) {
        return Some(a);
    }
    // "Yes - broken wrist", "No (not since May)", "Don't know, will check": the answer comes first.
    for sep in [" - ", " – ", " (", ", ", ": ", "; ", " / "] {
        if let Some((head, tail)) = f.split_once(sep) {
            if let Some(a) = words(fold(head).as_str()).filter(|a| *a != Answer::Blank) {
                // "Yes / No", "Y - N": two answers named, none chosen.
                let next = fold(tail.split([' ', '/', ',', ')']).next().unwrap_or(""));
                if words(&next).is_some_and(|b| b != a && b != Answer::Blank) {
                    return None;
                }
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

/// Inline checkboxes in a cell ("☒ Yes ☐ No ☐ Don't know"): the answers whose box is ticked (a
/// ticked box with no answer word after it is a Yes: a tick box on its own). `None` when the text
/// holds no checkbox at all.
pub fn inline_checked(text: &str) -> Option<Vec<Answer>> {
    let mut ticked: Vec<Answer> = boxes(text)?
        .into_iter()
        .filter(|(checked, _)| *checked)
        .map(|(_, label)| match normalise_answer(label) {
            Some(Answer::Blank) | None => Answer::Yes,
            Some(a) => a,
        })
        .collect();
    ticked.dedup();
    Some(ticked)
}

/// Inline checkboxes on a DASH answer ("☐ Yes ☐ No ☒ DK"): the answers ticked, and whether a
/// ticked box's label could not be read as an answer ("☒ N/A", "☒ Maybe": a person must look).
/// A ticked box with no label at all is a Yes (a one-box answer). `None` without any checkbox.
pub fn dash_checked(text: &str) -> Option<(Vec<Answer>, bool)> {
    let mut ticked = Vec::new();
    let mut unread = false;
    for (checked, label) in boxes(text)? {
        if !checked {
            continue;
        }
        // The label is the first words after the box: "☒ Yes (see notes)" is a Yes.
        match dash_answer(label) {
            Some(Answer::Blank) => ticked.push(Answer::Yes),
            Some(a) => ticked.push(a),
            None => unread = true,
        }
    }
    ticked.dedup();
    Some((ticked, unread))
}

/// The checkboxes of a text with the label after each, up to the next box.
fn boxes(text: &str) -> Option<Vec<(bool, &str)>> {
    if !text.contains(CHECKED) && !text.contains(UNCHECKED) {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find([CHECKED, UNCHECKED]) {
        let checked = rest[pos..].starts_with(CHECKED);
        let after = &rest[pos + CHECKED.len_utf8()..];
        let end = after.find([CHECKED, UNCHECKED]).unwrap_or(after.len());
        out.push((checked, &after[..end]));
        rest = after;
    }
    Some(out)
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
        for s in ["Yes", "YES", "YES.", "Yes!", "y", "✓", "✔", "☒", "ticked", " yes ", "Yes - broken wrist", "yep", "Yeah"] {
            assert_eq!(dash_answer(s), Some(Answer::Yes), "{s}");
            assert_eq!(normalise_answer(s), Some(Answer::Yes), "{s}");
        }
        for s in ["No", "N", "no.", "No (not since May)", "Nope", "None"] {
            assert_eq!(dash_answer(s), Some(Answer::No), "{s}");
        }
        for s in ["Don't know", "DON’T KNOW", "DK", "Not known", "Unknown", "n/k", "Dont know", "D/K", "N/K", "not known.", "unkown"] {
            assert_eq!(dash_answer(s), Some(Answer::DontKnow), "{s}");
        }
        assert_eq!(normalise_answer(""), Some(Answer::Blank));
        assert_eq!(normalise_answer("  "), Some(Answer::Blank));
        assert_eq!(normalise_answer("perhaps later"), None);
    }

    #[test]
    fn doubtful_spellings_are_not_read() {
        // N/A is not a No; a lone cross typed as the answer may mean ticked or no; a template left
        // as it was names every answer and chooses none.
        for s in ["N/A", "n/a", "NA", "not applicable", "N/A - male victim", "x", "X", "✗", "✘", "Yes / No", "Y / N", "Yes/No/DK",
            "Yes / No / Don't know", "No, yes", "maybe", "possibly", "probably"] {
            assert_eq!(dash_answer(s), None, "{s}");
        }
        // Beside a referral form's tick box, a cross is a tick and N/A is not ticked; a template
        // left as it was is still no answer.
        assert_eq!(normalise_answer("X"), Some(Answer::Yes));
        assert_eq!(normalise_answer("N/A"), Some(Answer::No));
        assert_eq!(normalise_answer("Yes / No"), None);
        // Under a Yes / No / Don't know header a cross is a mark.
        for s in ["x", "X", "✗", "✘", "✓", "✔", "☒"] {
            assert_eq!(is_mark(s), Some(true), "{s}");
        }
        assert_eq!(is_mark("N/A"), None);
        assert_eq!(is_mark(""), Some(false));
    }

    #[test]
    fn inline_boxes() {
        assert_eq!(inline_checked("☒ Yes ☐ No ☐ Don't know"), Some(vec![Answer::Yes]));
        assert_eq!(inline_checked("☐ Yes ☒ No ☐ DK"), Some(vec![Answer::No]));
        assert_eq!(inline_checked("☐ Yes ☐ No ☐ DK"), Some(vec![]));
        assert_eq!(inline_checked("☒ Yes ☒ No"), Some(vec![Answer::Yes, Answer::No]));
        assert_eq!(inline_checked("Yes"), None);
        assert_eq!(dash_checked("☐ Yes ☐ No ☒ DK"), Some((vec![Answer::DontKnow], false)));
        assert_eq!(dash_checked("☐\nYes\n☒\nNo\n☐\nDon't know"), Some((vec![Answer::No], false)));
        assert_eq!(dash_checked("☒"), Some((vec![Answer::Yes], false)));
        assert_eq!(dash_checked("☐ Yes ☐ No ☒ N/A"), Some((vec![], true)));
        assert_eq!(dash_checked("☐ Yes ☐ No"), Some((vec![], false)));
        assert_eq!(dash_checked("Yes"), None);
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
            let _ = dash_answer(&s);
            let _ = is_mark(&s);
            let _ = inline_checked(&s);
            let _ = dash_checked(&s);
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
