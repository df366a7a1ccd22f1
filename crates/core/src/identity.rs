//! Matching victims across referrals: is the person named in this referral someone already seen?
//!
//! Pure: names and dates in, a verdict out. No I/O, no clock.
//!
//! # How the store uses it
//! People are looked up by date of birth only ([`candidates_key`], an indexed column), which
//! returns the few people born that day; [`same_person`] then runs over those candidates. The
//! cost of a look-up therefore does not grow with the history.
//!
//! # Reading a name ([`PersonName::parse`] and [`PersonName::key`])
//! - Surrounding whitespace is ignored. An empty name, a name without a letter or digit, and a name
//!   longer than [`MAX_NAME_CHARS`] characters are refused.
//! - Other names written beside the name are set aside: text in brackets (`Karen Smith (née
//!   Jones)`) and everything after `aka`, `also known as`, `née` or `formerly`.
//! - `SURNAME, Forename` (a comma with text on both sides) is read as `Forename SURNAME`.
//! - Unicode compatibility forms are unfolded (NFKD) and the accents on Latin letters removed
//!   (`Zoë` → `zoe`, `Ní` → `ni`); the Latin letters that carry a stroke or are ligatures are
//!   spelled plainly (`Ł` → `l`, `ø` → `o`, `ß` → `ss`, `æ` → `ae`). Marks in other scripts are
//!   kept: there they often tell two letters apart.
//! - Everything is lower-cased. Apostrophes vanish (`O'Brien` → `obrien`); hyphens, dots, commas
//!   and any other punctuation separate words (`Smith-Jones` → `smith jones`, `J.P.` → `j p`);
//!   runs of whitespace count as one space.
//! - The titles Mr, Mrs, Ms, Miss, Mx and Dr are dropped wherever they stand, unless the name is
//!   nothing but titles.
//!
//! A surname written first in capitals without a comma (`PENNINGTON Claire`) keeps its written
//! order in the key; the rules below read it as `Claire PENNINGTON` when comparing first and last
//! names. The capitals are taken as a surname marker only when the leading words are all in
//! capitals (two letters or more each) and a later word has a lower-case letter.
//!
//! # When two records are the same person ([`same_person`])
//! The dates of birth must be equal: the same name with another date of birth is another person,
//! always. Then the names must agree by one of these rules, tried in this order; the first that
//! holds is the [`MatchReason`] recorded with the match:
//! 1. [`MatchReason::Exact`]: the names as written are equal (surrounding whitespace aside).
//! 2. [`MatchReason::Normalised`]: the keys are equal.
//! 3. [`MatchReason::MiddleNameDiffers`]: the same forename and surname, and the middle names of
//!    one are those of the other with some added or dropped, or written as initials
//!    (`Claire Louise Pennington`, `Claire Pennington`, `Claire L Pennington`).
//! 4. [`MatchReason::TokenOrder`]: the same words in another order (`PENNINGTON Claire`).
//! 5. [`MatchReason::OneLetterTypo`]: the same number of words, the same middle names, and either
//!    the forename or the surname (never both) differs by one letter inserted, dropped, replaced
//!    or swapped with its neighbour (`Clare`/`Claire`, `Penington`/`Pennington`). Both spellings
//!    must have at least [`MIN_TYPO_CHARS`] letters, so an initial never matches a full name and
//!    `Lee` never matches `Lea`. A forename is held to more, because twins share a surname and a
//!    date of birth and are often named in pairs one letter apart: unless it swaps two
//!    neighbouring letters (`Amelai`/`Amelia`), the edit must keep the
//!    forename's first and last letters (so `Louis`/`Louise`, `Paul`/`Paula`, `Maria`/`Marie`
//!    and `Helen`/`Ellen` stay apart, and so, at the cost of a split, do `Sara`/`Sarah` and
//!    `Mark`/`Mary`). A letter replaced inside a forename is a typo however short the name
//!    (`Zera`/`Zara`, `Jsde`/`Jade`): with the date of birth and the surname equal, a split there
//!    costs more than a merge, since the second referral of a case still waiting for its meeting
//!    would be decided alone (and, below the threshold, rejected) instead of joining the case,
//!    while a merge is shown with its reason and is undone by hand.
//!
//! Everything is symmetric: `same_person(a, b)` and `same_person(b, a)` give the same answer.
//! The rules are conservative on purpose: joining two people's histories (a false merge) is worse
//! than seeing one person twice, which a coordinator can merge by hand.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longest name accepted, in characters, surrounding whitespace excluded.
pub const MAX_NAME_CHARS: usize = 200;

/// Shortest spelling, in characters, on either side of a one-letter typo.
pub const MIN_TYPO_CHARS: usize = 4;

/// Titles dropped from names (compared after normalisation, so `Mrs.` and `MRS` are included).
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr"];

/// Why a name was refused. The messages never quote the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is {chars} characters long; the limit is {MAX_NAME_CHARS}")]
    TooLong { chars: usize },
    #[error("the name has no letters or digits")]
    NoLetters,
}

/// A person's name as written in a referral, with its normalised words.
///
/// Once you hold one, it is non-empty, at most [`MAX_NAME_CHARS`] characters, and has at least one
/// word. `Debug` does not print the name, so a stray `{:?}` cannot put it in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName {
    /// As written, surrounding whitespace removed.
    written: String,
    /// Normalised words, in the order of the key.
    words: Vec<String>,
    /// The same words, forenames first, as far as the writing tells: equal to `words` unless the
    /// surname was written first in capitals without a comma.
    forename_first: Vec<String>,
    /// How many tokens at the end of `forename_first` form the surname: a double-barrelled
    /// surname ("Hale-Pennington") is one surname of two tokens, never a middle name and a surname.
    surname: usize,
}

impl PersonName {
    /// Reads a name. See the module documentation for the rules.
    pub fn parse(raw: &str) -> Result<PersonName, NameError> {
        let written = raw.trim();
        if written.is_empty() {
            return Err(NameError::Empty);
        }
        let chars = written.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NameError::TooLong { chars });
        }

        // "Karen Smith (née Jones)", "Karen Smith aka Kaz": other names are not this name.
        let own = own_name(written);
        // "SURNAME, Forename" → "Forename SURNAME". Further commas are plain separators.
        let (text, comma_reordered) = match own.split_once(',') {
            Some((surname, forenames)) if has_word(surname) && has_word(forenames) => {
                (format!("{forenames} {surname}"), true)
            }
            _ => (own.clone(), false),
        };

        let mut words: Vec<Word> = text
            .split_whitespace()
            .map(Word::read)
            .filter(|w| !w.tokens.is_empty())
            .collect();
        drop_titles(&mut words);

        let tokens: Vec<String> = words
            .iter()
            .flat_map(|w| w.tokens.iter().cloned())
            .collect();
        if tokens.is_empty() {
            return Err(NameError::NoLetters);
        }
        let (forename_first, surname) = if comma_reordered {
            (tokens.clone(), words.last().map_or(1, |w| w.tokens.len()))
        } else {
            surname_last(&words, &tokens)
        };
        // At least one token is a forename.
        let surname = surname.clamp(1, forename_first.len().saturating_sub(1).max(1));
        Ok(PersonName {
            written: written.to_owned(),
            words: tokens,
            forename_first,
            surname,
        })
    }

    /// The normalised name: lower case, accents and titles removed, punctuation turned into
    /// single spaces, `SURNAME, Forename` turned round. Two names with the same key are the same
    /// name.
    pub fn key(&self) -> String {
        self.words.join(" ")
    }

    /// The name as written (surrounding whitespace removed). Personal data: never log it.
    pub fn as_written(&self) -> &str {
        &self.written
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({} words, redacted)", self.words.len())
    }
}

/// Why two records were taken to be the same person; stored with the match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    Exact,
    Normalised,
    MiddleNameDiffers,
    OneLetterTypo,
    TokenOrder,
}

impl MatchReason {
    /// One sentence for the case record, saying what was compared.
    pub fn describe(self) -> &'static str {
        match self {
            MatchReason::Exact => "Same date of birth and the same name as written.",
            MatchReason::Normalised => {
                "Same date of birth and the same name once case, spacing, accents, punctuation \
                 and titles are set aside."
            }
            MatchReason::MiddleNameDiffers => {
                "Same date of birth, forename and surname; a middle name is added, dropped or \
                 written as an initial."
            }
            MatchReason::OneLetterTypo => {
                "Same date of birth; the forename or the surname differs by one letter, as a \
                 typing error would."
            }
            MatchReason::TokenOrder => {
                "Same date of birth and the same names in another order, such as the surname \
                 written first."
            }
        }
    }
}

/// Whether two records name the same person, and why. `None` when they are different people or
/// when the names are too far apart to say; see the module documentation for the rules.
pub fn same_person(
    a_name: &PersonName,
    a_dob: NaiveDate,
    b_name: &PersonName,
    b_dob: NaiveDate,
) -> Option<MatchReason> {
    if a_dob != b_dob {
        return None;
    }
    if a_name.written == b_name.written {
        return Some(MatchReason::Exact);
    }
    if a_name.words == b_name.words {
        return Some(MatchReason::Normalised);
    }
    if a_name.forename_first.len() < 2 || b_name.forename_first.len() < 2 {
        return None;
    }
    let (a, b) = (parts(a_name), parts(b_name));
    if middle_names_differ(a, b) {
        return Some(MatchReason::MiddleNameDiffers);
    }
    if same_multiset(&a_name.words, &b_name.words) {
        return Some(MatchReason::TokenOrder);
    }
    if one_letter_typo(a, b) {
        return Some(MatchReason::OneLetterTypo);
    }
    None
}

/// The key the store indexes people by: the date of birth in ISO form (`1991-07-03`). A look-up
/// fetches the people with this key, then [`same_person`] decides among them. A name is never
/// part of it, so a misspelt name still finds its candidates.
pub fn candidates_key(dob: NaiveDate) -> String {
    dob.format("%Y-%m-%d").to_string()
}

/// One whitespace-separated word as written, split into normalised tokens.
struct Word {
    tokens: Vec<String>,
    /// Written in capitals: at least two letters, all upper case.
    capitals: bool,
    /// Has at least one lower-case letter.
    lower: bool,
}

impl Word {
    fn read(raw: &str) -> Word {
        let letters = raw.chars().filter(|c| c.is_alphabetic()).count();
        let capitals = letters >= 2
            && raw
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase);
        let lower = raw.chars().any(char::is_lowercase);

        let mut tokens = Vec::new();
        let mut current = String::new();
        for c in fold(raw) {
            if c.is_alphanumeric() || is_combining_mark(c) {
                current.push(c);
            } else if is_apostrophe(c) {
                // O'Brien → obrien
            } else if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            tokens.push(current);
        }
        Word {
            tokens,
            capitals,
            lower,
        }
    }
}

/// Lower case, NFKD, accents on Latin letters removed, a few Latin letters spelled plainly.
/// Lower-cased both before (so that a capital's lower-case form decides whether it is Latin) and
/// after (compatibility forms can unfold into capitals: `㎒` → `MHz`).
fn fold(raw: &str) -> impl Iterator<Item = char> + '_ {
    let mut after_latin = false;
    raw.chars()
        .flat_map(char::to_lowercase)
        .nfkd()
        .filter(move |&c| {
            if is_combining_mark(c) {
                !after_latin
            } else {
                after_latin = is_latin(c);
                true
            }
        })
        .flat_map(char::to_lowercase)
        .flat_map(|c| {
            let plain: &'static str = match c {
                'ł' => "l",
                'ø' => "o",
                'đ' | 'ð' => "d",
                'ħ' => "h",
                'ŧ' => "t",
                'ı' => "i",
                'ß' => "ss",
                'æ' => "ae",
                'œ' => "oe",
                'þ' => "th",
                _ => "",
            };
            let one = if plain.is_empty() { Some(c) } else { None };
            one.into_iter().chain(plain.chars())
        })
}

/// In one of the Latin blocks (Basic Latin to Latin Extended-B, Latin Extended Additional, -C,
/// -D and -E).
fn is_latin(c: char) -> bool {
    matches!(u32::from(c), 0..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xAB30..=0xAB6F)
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}'
    )
}

fn has_word(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// The name without what a form adds beside it: text in brackets ("(née Jones)", "(known as
/// Kaz)") and everything after "aka", "a.k.a.", "also known as", "née", "nee" or "formerly".
/// Unchanged when nothing would be left.
fn own_name(written: &str) -> String {
    let out = crate::text::outside_brackets(written);
    let lower = out.to_lowercase();
    let mut end = out.len();
    for marker in [" aka ", " a.k.a. ", " a.k.a ", " also known as ", " née ", " nee ", " formerly "] {
        if let Some(i) = format!("{lower} ").find(marker) {
            // Lower-casing can change byte lengths outside ASCII: cut only where both agree.
            if out.is_char_boundary(i) && lower.len() == out.len() {
                end = end.min(i);
            }
        }
    }
    let own = out[..end].trim();
    if own.chars().any(char::is_alphanumeric) { own.to_owned() } else { written.to_owned() }
}

/// Drops title tokens, unless nothing else would be left.
fn drop_titles(words: &mut Vec<Word>) {
    let is_title = |t: &String| TITLES.contains(&t.as_str());
    let others = words
        .iter()
        .flat_map(|w| &w.tokens)
        .filter(|t| !is_title(t))
        .count();
    if others == 0 {
        return;
    }
    for w in words.iter_mut() {
        w.tokens.retain(|t| !is_title(t));
    }
    words.retain(|w| !w.tokens.is_empty());
}

/// The tokens with a leading surname in capitals moved to the end (`PENNINGTON Claire` →
/// `claire pennington`); the tokens unchanged when the writing gives no such sign.
/// The tokens forenames first, and how many tokens at the end are the surname.
fn surname_last(words: &[Word], tokens: &[String]) -> (Vec<String>, usize) {
    let leading = words.iter().take_while(|w| w.capitals).count();
    if leading == 0 || !words[leading..].iter().any(|w| w.lower) {
        return (tokens.to_vec(), words.last().map_or(1, |w| w.tokens.len()));
    }
    let moved: usize = words[..leading].iter().map(|w| w.tokens.len()).sum();
    let mut out = tokens[moved..].to_vec();
    out.extend_from_slice(&tokens[..moved]);
    (out, moved)
}

/// A name split into forename, middle tokens and surname tokens.
fn parts(name: &PersonName) -> (&str, &[String], &[String]) {
    let t = &name.forename_first;
    let s = name.surname.min(t.len().saturating_sub(1));
    (t[0].as_str(), &t[1..t.len() - s], &t[t.len() - s..])
}

/// Same first and last tokens; the middle tokens of one are those of the other with some
/// dropped, or written as initials.
fn middle_names_differ(a: (&str, &[String], &[String]), b: (&str, &[String], &[String])) -> bool {
    // The same forename and the same whole surname; only the middle may differ.
    if a.0 != b.0 || a.2 != b.2 || a.1 == b.1 {
        return false;
    }
    let (a_mid, b_mid) = (a.1, b.1);
    let (short, long) = if a_mid.len() <= b_mid.len() {
        (a_mid, b_mid)
    } else {
        (b_mid, a_mid)
    };
    // Greedy earliest matching is optimal for a subsequence test, whatever the relation.
    let mut rest = long.iter();
    short.iter().all(|s| rest.any(|l| same_or_initial(s, l)))
}

/// Equal, or one is a single letter that starts the other.
fn same_or_initial(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let initial = |short: &str, long: &str| {
        let mut cs = short.chars();
        matches!((cs.next(), cs.next()), (Some(_), None)) && long.starts_with(short)
    };
    initial(a, b) || initial(b, a)
}

fn same_multiset(a: &[String], b: &[String]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// Same word count and middle names; exactly one of forename and surname differs, by one
/// acceptable edit.
fn one_letter_typo(a: (&str, &[String], &[String]), b: (&str, &[String], &[String])) -> bool {
    if a.1 != b.1 {
        return false;
    }
    // A double-barrelled surname is compared whole: "Hael-Pennington" is one edit from
    // "Hale-Pennington", and "Pennington" is not a typo of either.
    let (a_sur, b_sur) = (a.2.join(" "), b.2.join(" "));
    match (a.0 == b.0, a_sur == b_sur) {
        (true, false) => surname_typo(&a_sur, &b_sur),
        (false, true) => forename_typo(a.0, b.0),
        _ => false,
    }
}

/// One edit apart, both at least [`MIN_TYPO_CHARS`] long.
fn surname_typo(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    a.len().min(b.len()) >= MIN_TYPO_CHARS && single_edit(&a, &b).is_some()
}

/// One edit apart, both at least [`MIN_TYPO_CHARS`] long, and first and last letters untouched
/// unless two neighbouring letters were swapped.
fn forename_typo(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().min(b.len()) < MIN_TYPO_CHARS {
        return false;
    }
    // Two neighbouring letters swapped, anywhere (`Amelai`/`Amelia`): the same letters, which no
    // pair of twins' names is.
    if single_edit(&a, &b) == Some(Edit::Transposition) {
        return true;
    }
    if a.first() != b.first() || a.last() != b.last() {
        return false;
    }
    single_edit(&a, &b).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Substitution,
    InsertionOrDeletion,
    Transposition,
}

/// The edit that turns `a` into `b`, when exactly one does (optimal string alignment distance 1).
fn single_edit(a: &[char], b: &[char]) -> Option<Edit> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    match (a_mid.len(), b_mid.len()) {
        (1, 1) => Some(Edit::Substitution),
        (0, 1) | (1, 0) => Some(Edit::InsertionOrDeletion),
        (2, 2) if a_mid[0] == b_mid[1] && a_mid[1] == b_mid[0] => Some(Edit::Transposition),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
