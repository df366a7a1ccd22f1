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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(s: &str) -> PersonName {
        PersonName::parse(s).expect("a valid name")
    }

    fn dob() -> NaiveDate {
        NaiveDate::from_ymd_opt(1991, 7, 3).expect("a real date")
    }

    fn matches(a: &str, b: &str) -> Option<MatchReason> {
        same_person(&name(a), dob(), &name(b), dob())
    }

    fn key(s: &str) -> String {
        name(s).key()
    }

    #[test]
    fn parse_refuses_empty_blank_letterless_and_overlong_names() {
        assert_eq!(PersonName::parse(""), Err(NameError::Empty));
        assert_eq!(PersonName::parse(" \t\n "), Err(NameError::Empty));
        assert_eq!(PersonName::parse("-- ' ."), Err(NameError::NoLetters));
        assert_eq!(
            PersonName::parse(&"a".repeat(201)),
            Err(NameError::TooLong { chars: 201 })
        );
        assert!(PersonName::parse(&"a".repeat(200)).is_ok());
        // The limit counts characters, not bytes, and ignores surrounding whitespace.
        assert!(PersonName::parse(&format!("  {}  ", "é".repeat(200))).is_ok());
    }

    #[test]
    fn errors_never_quote_the_name() {
        let err = PersonName::parse(&"Pennington".repeat(30)).expect_err("too long");
        assert!(!err.to_string().to_lowercase().contains("pennington"));
    }

    #[test]
    fn debug_does_not_print_the_name() {
        let shown = format!("{:?}", name("Claire Pennington"));
        assert!(!shown.to_lowercase().contains("claire"), "{shown}");
        assert!(!shown.to_lowercase().contains("pennington"), "{shown}");
    }

    #[test]
    fn key_folds_case_spacing_and_diacritics() {
        assert_eq!(key("  Claire   PENNINGTON "), "claire pennington");
        assert_eq!(key("Zoë Ní Bhriain"), "zoe ni bhriain");
        assert_eq!(key("José Müller"), "jose muller");
        // Precomposed and decomposed forms agree.
        assert_eq!(key("Zo\u{00EB}"), key("Zoe\u{0308}"));
        assert_eq!(key("Łukasz Wójcik"), "lukasz wojcik");
        assert_eq!(key("Søren Æbelø"), "soren aebelo");
        assert_eq!(key("Strauß"), "strauss");
        // Compatibility forms: full-width letters, ligatures.
        assert_eq!(key("ＣＬＡＩＲＥ ﬁnch"), "claire finch");
    }

    #[test]
    fn key_handles_punctuation() {
        assert_eq!(key("O'Brien"), "obrien");
        assert_eq!(key("O’Brien"), "obrien");
        assert_eq!(key("Smith-Jones"), "smith jones");
        assert_eq!(key("Smith – Jones"), "smith jones");
        assert_eq!(key("J.P. Smith"), "j p smith");
        assert_eq!(key("St. John"), "st john");
    }

    #[test]
    fn key_turns_surname_comma_forename_round() {
        assert_eq!(key("PENNINGTON, Claire"), "claire pennington");
        assert_eq!(key("Pennington,Claire Louise"), "claire louise pennington");
        assert_eq!(key("SMITH-JONES, Mary, Ann"), "mary ann smith jones");
        // A comma with nothing on one side is only punctuation.
        assert_eq!(key("Claire Pennington,"), "claire pennington");
        assert_eq!(key(", Claire"), "claire");
    }

    #[test]
    fn other_names_written_beside_the_name_are_not_part_of_it() {
        assert_eq!(key("Karen Smith (née Jones)"), "karen smith");
        assert_eq!(key("Karen Smith aka Kaz Smith"), "karen smith");
        assert_eq!(key("SMITH, Karen (known as Kaz)"), "karen smith");
        assert_eq!(key("Karen Smith nee Jones"), "karen smith");
        assert_eq!(key("(not known)"), "not known", "nothing else: kept as written");
        assert_eq!(matches("Karen Smith (née Jones)", "Karen Smith"), Some(MatchReason::Normalised));
    }

    #[test]
    fn key_drops_titles() {
        assert_eq!(key("Mrs Claire Pennington"), "claire pennington");
        assert_eq!(key("Mrs. Claire Pennington"), "claire pennington");
        assert_eq!(key("MS CLAIRE PENNINGTON"), "claire pennington");
        assert_eq!(key("PENNINGTON, Miss Claire"), "claire pennington");
        assert_eq!(key("Dr Mx Sam Lee"), "sam lee");
        // Nothing but a title: kept, since dropping it would leave no name.
        assert_eq!(key("Mrs"), "mrs");
        // Words that merely start like a title are names.
        assert_eq!(key("Drew Mrsic"), "drew mrsic");
    }

    #[test]
    fn as_written_keeps_the_original_spelling() {
        assert_eq!(name("  Zoë O'Brien ").as_written(), "Zoë O'Brien");
    }

    #[test]
    fn exact_and_normalised() {
        assert_eq!(
            matches("Claire Pennington", "  Claire Pennington "),
            Some(MatchReason::Exact)
        );
        assert_eq!(
            matches("Claire Pennington", "claire  pennington"),
            Some(MatchReason::Normalised)
        );
        assert_eq!(
            matches("Zoë O'Brien", "Zoe OBrien"),
            Some(MatchReason::Normalised)
        );
        assert_eq!(
            matches("Mary Smith-Jones", "Mary Smith Jones"),
            Some(MatchReason::Normalised)
        );
        assert_eq!(
            matches("PENNINGTON, Claire", "Claire Pennington"),
            Some(MatchReason::Normalised)
        );
        assert_eq!(
            matches("Mrs Claire Pennington", "Claire Pennington"),
            Some(MatchReason::Normalised)
        );
    }

    #[test]
    fn a_different_date_of_birth_is_a_different_person() {
        let other = NaiveDate::from_ymd_opt(1991, 3, 7).expect("a real date");
        let a = name("Claire Pennington");
        assert_eq!(same_person(&a, dob(), &a, other), None);
        assert_eq!(same_person(&a, dob(), &a, dob()), Some(MatchReason::Exact));
    }

    #[test]
    fn double_barrelled_surnames_stay_whole() {
        let d = NaiveDate::from_ymd_opt(1990, 5, 6).unwrap();
        let n = |s: &str| PersonName::parse(s).unwrap();
        assert_eq!(same_person(&n("Siân Hael-Pennington"), d, &n("Siân Hale-Pennington"), d), Some(MatchReason::OneLetterTypo));
        assert_eq!(same_person(&n("Siân Pennington"), d, &n("Siân Hale-Pennington"), d), None);
        assert_eq!(same_person(&n("Siân Hale Pennington"), d, &n("Siân Hale-Pennington"), d), Some(MatchReason::Normalised));
        assert_eq!(same_person(&n("HALE-PENNINGTON Siân"), d, &n("Siân Hale-Pennington"), d), Some(MatchReason::TokenOrder));
        assert_eq!(same_person(&n("Siân Mair Hale-Pennington"), d, &n("Siân Hale-Pennington"), d), Some(MatchReason::MiddleNameDiffers));
    }

    #[test]
    fn middle_name_added_dropped_or_initialled() {
        use MatchReason::MiddleNameDiffers;
        assert_eq!(
            matches("Claire Louise Pennington", "Claire Pennington"),
            Some(MiddleNameDiffers)
        );
        assert_eq!(
            matches("Claire Pennington", "Claire Louise Pennington"),
            Some(MiddleNameDiffers)
        );
        assert_eq!(
            matches("Claire L Pennington", "Claire Louise Pennington"),
            Some(MiddleNameDiffers)
        );
        assert_eq!(
            matches("Claire L. Pennington", "Claire Pennington"),
            Some(MiddleNameDiffers)
        );
        assert_eq!(
            matches("Claire Louise Anne Pennington", "Claire Anne Pennington"),
            Some(MiddleNameDiffers)
        );
        assert_eq!(
            matches("PENNINGTON Claire Louise", "Claire Pennington"),
            Some(MiddleNameDiffers)
        );
        assert_eq!(
            matches("PENNINGTON, Claire Louise", "Claire Pennington"),
            Some(MiddleNameDiffers)
        );
    }

    #[test]
    fn different_middle_names_do_not_match() {
        assert_eq!(
            matches("Claire Louise Pennington", "Claire Anne Pennington"),
            None
        );
        assert_eq!(matches("Claire L Pennington", "Claire A Pennington"), None);
        // Middle names in another order are the same words in another order.
        assert_eq!(
            matches(
                "Claire Louise Anne Pennington",
                "Claire Anne Louise Pennington"
            ),
            Some(MatchReason::TokenOrder)
        );
    }

    #[test]
    fn token_order() {
        use MatchReason::TokenOrder;
        assert_eq!(
            matches("PENNINGTON Claire", "Claire Pennington"),
            Some(TokenOrder)
        );
        assert_eq!(
            matches("Pennington Claire", "Claire Pennington"),
            Some(TokenOrder)
        );
        assert_eq!(
            matches("PENNINGTON Claire", "Claire PENNINGTON"),
            Some(TokenOrder)
        );
        assert_eq!(
            matches("Louise Claire Pennington", "Claire Louise Pennington"),
            Some(TokenOrder)
        );
    }

    #[test]
    fn one_letter_typos() {
        use MatchReason::OneLetterTypo;
        assert_eq!(
            matches("Clare Pennington", "Claire Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Claire Penington", "Claire Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Claire Pennignton", "Claire Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Claire Penmington", "Claire Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Jonathon Pennington", "Jonathan Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Kathrine Pennington", "Katherine Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Cliare Pennington", "Claire Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(matches("Helen Ward", "Helen Word"), Some(OneLetterTypo));
        // A short forename: a neighbouring key is a slip of the finger.
        assert_eq!(matches("Jsde Pennington", "Jade Pennington"), Some(OneLetterTypo));
        // Two letters swapped at the end, with the surname written first.
        assert_eq!(matches("GALLAGHER, Amelia", "Amelai Gallagher"), Some(OneLetterTypo));
        assert_eq!(matches("Kimberley Gallagher", "Kimberlye Gallagher"), Some(OneLetterTypo));
        assert_eq!(matches("Kate Pennington", "Kste Pennington"), Some(OneLetterTypo));
        // A letter replaced inside a short forename, with the surname and date of birth equal.
        assert_eq!(matches("Zera Rothwell", "Zara Rothwell"), Some(OneLetterTypo));
        assert_eq!(matches("Jane Pennington", "June Pennington"), Some(OneLetterTypo));
        assert_eq!(matches("Amy Pennington", "Amu Pennington"), None, "three letters are too few");
        assert_eq!(
            matches("Łukasz Nowak", "Lukasz Nowak"),
            Some(MatchReason::Normalised)
        );
        assert_eq!(
            matches("PENINGTON Claire", "Claire Pennington"),
            Some(OneLetterTypo)
        );
        assert_eq!(
            matches("Claire Louise Penington", "Claire Louise Pennington"),
            Some(OneLetterTypo)
        );
    }

    #[test]
    fn no_typo_match_when_it_would_be_a_guess() {
        // Both forename and surname differ.
        assert_eq!(matches("Clare Penington", "Claire Pennington"), None);
        // An initial against a full name, even one letter apart.
        assert_eq!(matches("C Pennington", "Cl Pennington"), None);
        assert_eq!(matches("C Pennington", "Claire Pennington"), None);
        // Short names one letter apart at their start or end are usually different names.
        assert_eq!(matches("Mark Pennington", "Mary Pennington"), None);
        assert_eq!(matches("Eva Pennington", "Ava Pennington"), None);
        assert_eq!(matches("Claire Lee", "Claire Lea"), None);
        // Twins are often named in pairs that differ at the start or end of the forename.
        assert_eq!(matches("Louis Pennington", "Louise Pennington"), None);
        assert_eq!(matches("Paul Pennington", "Paula Pennington"), None);
        assert_eq!(matches("Maria Pennington", "Marie Pennington"), None);
        assert_eq!(matches("Helen Pennington", "Ellen Pennington"), None);
        assert_eq!(matches("Daniel Pennington", "Daniela Pennington"), None);
        // The price: a variant spelling at the end of a forename is a split, merged by hand.
        assert_eq!(matches("Sara Pennington", "Sarah Pennington"), None);
        // Two letters apart.
        assert_eq!(matches("Claire Pennington", "Claire Penningtan1"), None);
        // A typo and a middle name at once.
        assert_eq!(
            matches("Clare Louise Pennington", "Claire Pennington"),
            None
        );
        // A typo in the middle name.
        assert_eq!(
            matches("Claire Louise Pennington", "Claire Luise Pennington"),
            None
        );
        // A single word is never compared by typo.
        assert_eq!(matches("Claire", "Clare"), None);
    }

    #[test]
    fn different_people_do_not_match() {
        assert_eq!(matches("Claire Pennington", "Sarah Jones"), None);
        assert_eq!(matches("Claire Pennington", "Claire Jones"), None);
        assert_eq!(matches("Claire Pennington", "Sarah Pennington"), None);
        assert_eq!(matches("Claire Pennington", "Pennington"), None);
    }

    #[test]
    fn single_edit_classifies() {
        let e = |a: &str, b: &str| {
            single_edit(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(e("abcd", "abxd"), Some(Edit::Substitution));
        assert_eq!(e("abcd", "abd"), Some(Edit::InsertionOrDeletion));
        assert_eq!(e("abd", "abcd"), Some(Edit::InsertionOrDeletion));
        assert_eq!(e("abcd", "abdc"), Some(Edit::Transposition));
        assert_eq!(e("abcd", "abcd"), None);
        assert_eq!(e("abcd", "badc"), None);
        assert_eq!(e("aaaa", "aaa"), Some(Edit::InsertionOrDeletion));
    }

    #[test]
    fn reasons_serialise_snake_case_and_describe_themselves() {
        let all = [
            MatchReason::Exact,
            MatchReason::Normalised,
            MatchReason::MiddleNameDiffers,
            MatchReason::OneLetterTypo,
            MatchReason::TokenOrder,
        ];
        let json: Vec<String> = all
            .iter()
            .map(|r| serde_json::to_string(r).expect("serialises"))
            .collect();
        assert_eq!(
            json,
            [
                "\"exact\"",
                "\"normalised\"",
                "\"middle_name_differs\"",
                "\"one_letter_typo\"",
                "\"token_order\""
            ]
        );
        for r in all {
            let back: MatchReason =
                serde_json::from_str(&serde_json::to_string(&r).expect("serialises"))
                    .expect("deserialises");
            assert_eq!(back, r);
            assert!(r.describe().ends_with('.'));
            assert!(r.describe().starts_with("Same date of birth"));
        }
    }

    #[test]
    fn candidates_key_is_the_iso_date() {
        assert_eq!(candidates_key(dob()), "1991-07-03");
        assert_eq!(
            candidates_key(NaiveDate::from_ymd_opt(5, 1, 2).expect("a real date")),
            "0005-01-02"
        );
    }

    // ---- property tests ----

    /// A lower-case word of 4 to 10 letters that is not a title.
    fn word() -> impl Strategy<Value = String> {
        "[a-z]{4,10}".prop_filter("not a title", |w| !TITLES.contains(&w.as_str()))
    }

    fn capitalised(w: &str) -> String {
        let mut cs = w.chars();
        match cs.next() {
            Some(c) => c.to_uppercase().chain(cs).collect(),
            None => String::new(),
        }
    }

    /// Forename, optional middle names, surname.
    fn full_name() -> impl Strategy<Value = Vec<String>> {
        (word(), prop::collection::vec(word(), 0..3), word()).prop_map(|(f, mids, s)| {
            let mut v = vec![f];
            v.extend(mids);
            v.push(s);
            v
        })
    }

    fn written(words: &[String]) -> String {
        words
            .iter()
            .map(|w| capitalised(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn date() -> impl Strategy<Value = NaiveDate> {
        (0u64..40_000).prop_map(|n| {
            NaiveDate::from_ymd_opt(1920, 1, 1)
                .and_then(|d| d.checked_add_days(chrono::Days::new(n)))
                .expect("in range")
        })
    }

    /// Accented forms of a letter, precomposed and decomposed.
    fn accented(c: char, pick: u8) -> String {
        let options: &[&str] = match c {
            'a' => &["á", "à", "â", "ä", "å", "a\u{0301}"],
            'e' => &["é", "è", "ê", "ë", "e\u{0308}"],
            'i' => &["í", "ì", "î", "ï"],
            'o' => &["ó", "ò", "ô", "ö", "õ"],
            'u' => &["ú", "ù", "û", "ü"],
            'c' => &["ç"],
            'n' => &["ñ"],
            _ => &[],
        };
        if options.is_empty() {
            c.to_string()
        } else {
            options[usize::from(pick) % options.len()].to_string()
        }
    }

    /// The same name written differently: case, spacing, accents, apostrophes, hyphens, a title.
    fn variant() -> impl Strategy<Value = (Vec<String>, String)> {
        (
            full_name(),
            prop::collection::vec(any::<u8>(), 64),
            prop::collection::vec(0usize..6, 8),
            any::<bool>(),
            " {0,3}",
            " {0,3}",
        )
            .prop_map(|(words, noise, seps, title, lead, trail)| {
                let separators = [" ", "  ", "\t", "-", " - ", "\u{00A0}"];
                let mut out = String::new();
                out.push_str(&lead);
                if title {
                    out.push_str("Mrs. ");
                }
                let mut n = noise.iter().cycle();
                for (i, w) in words.iter().enumerate() {
                    if i > 0 {
                        out.push_str(separators[seps[i % seps.len()]]);
                    }
                    for c in w.chars() {
                        let r = *n.next().unwrap_or(&0);
                        let mut piece = if r % 5 == 0 {
                            accented(c, r / 5)
                        } else {
                            c.to_string()
                        };
                        if r % 3 == 0 {
                            piece = piece.to_uppercase();
                        }
                        out.push_str(&piece);
                        if r % 17 == 0 {
                            out.push('\'');
                        }
                    }
                }
                out.push_str(&trail);
                (words, out)
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = PersonName::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_long_unicode(s in "\\PC{0,300}") {
            let _ = PersonName::parse(&s);
        }

        #[test]
        fn keys_are_tidy_and_stable(s in "\\PC{1,60}") {
            if let Ok(n) = PersonName::parse(&s) {
                let k = n.key();
                prop_assert!(!k.is_empty());
                prop_assert_eq!(k.trim(), k.as_str());
                prop_assert!(!k.contains("  "));
                prop_assert_eq!(k.to_lowercase(), k.clone());
                prop_assert!(!k.contains(['-', '\'', ',', '.']));
                // Reading a key again gives the same key.
                let again = PersonName::parse(&k).map(|n| n.key());
                prop_assert_eq!(again, Ok(k.clone()));
            }
        }

        #[test]
        fn same_person_is_symmetric(
            a in "\\PC{1,30}",
            b in "\\PC{1,30}",
            d1 in date(),
            same_day in any::<bool>(),
            d2 in date(),
        ) {
            let d2 = if same_day { d1 } else { d2 };
            if let (Ok(a), Ok(b)) = (PersonName::parse(&a), PersonName::parse(&b)) {
                prop_assert_eq!(same_person(&a, d1, &b, d2), same_person(&b, d2, &a, d1));
            }
        }

        #[test]
        fn same_person_is_symmetric_on_near_names(
            words in full_name(),
            edit in 0usize..7,
            other in word(),
            pos in any::<prop::sample::Index>(),
            d in date(),
        ) {
            let a = written(&words);
            let mut w2 = words.clone();
            let b = match edit {
                0 => a.to_uppercase(),
                1 => { w2.insert(1, other); written(&w2) }
                2 => { w2.rotate_left(1); written(&w2) }
                3 => {
                    let last = w2.len() - 1;
                    let mut cs: Vec<char> = w2[last].chars().collect();
                    let i = pos.index(cs.len());
                    cs[i] = if cs[i] == 'z' { 'y' } else { 'z' };
                    w2[last] = cs.into_iter().collect();
                    written(&w2)
                }
                4 => {
                    let last = w2.len() - 1;
                    let s = w2[last].to_uppercase();
                    w2.truncate(last);
                    format!("{s} {}", written(&w2))
                }
                5 => { w2[0] = other; written(&w2) }
                _ => { let i = pos.index(w2[0].len()); w2[0].remove(i); written(&w2) }
            };
            let (a, b) = (name(&a), name(&b));
            prop_assert_eq!(same_person(&a, d, &b, d), same_person(&b, d, &a, d));
        }

        #[test]
        fn a_different_dob_never_matches(a in "\\PC{1,30}", same_name in any::<bool>(), b in "\\PC{1,30}", d1 in date(), d2 in date()) {
            prop_assume!(d1 != d2);
            let b = if same_name { a.clone() } else { b };
            if let (Ok(a), Ok(b)) = (PersonName::parse(&a), PersonName::parse(&b)) {
                prop_assert_eq!(same_person(&a, d1, &b, d2), None);
            }
        }

        #[test]
        fn written_variants_always_match((words, variant) in variant(), d in date()) {
            let plain = name(&written(&words));
            let other = name(&variant);
            prop_assert_eq!(plain.key(), other.key());
            let reason = same_person(&plain, d, &other, d);
            prop_assert!(
                matches!(reason, Some(MatchReason::Exact | MatchReason::Normalised)),
                "{:?} for {:?}", reason, variant
            );
        }

        #[test]
        fn surname_comma_forename_always_matches(words in full_name(), d in date()) {
            let (surname, forenames) = words.split_last().expect("two words at least");
            let comma = format!("{}, {}", surname.to_uppercase(), written(forenames));
            prop_assert_eq!(
                same_person(&name(&written(&words)), d, &name(&comma), d),
                Some(MatchReason::Normalised)
            );
        }

        #[test]
        fn surname_first_in_capitals_always_matches(words in full_name(), d in date()) {
            let (surname, forenames) = words.split_last().expect("two words at least");
            let caps = format!("{} {}", surname.to_uppercase(), written(forenames));
            prop_assert_eq!(
                same_person(&name(&written(&words)), d, &name(&caps), d),
                Some(MatchReason::TokenOrder)
            );
        }

        #[test]
        fn adding_or_dropping_a_middle_name_matches(
            words in full_name(),
            middle in word(),
            at in any::<prop::sample::Index>(),
            initial in any::<bool>(),
            d in date(),
        ) {
            let mut longer = words.clone();
            let i = 1 + at.index(words.len() - 1);
            let inserted = if initial { middle[..1].to_owned() } else { middle };
            longer.insert(i, inserted);
            let (a, b) = (name(&written(&words)), name(&written(&longer)));
            prop_assert_eq!(same_person(&a, d, &b, d), Some(MatchReason::MiddleNameDiffers));
            prop_assert_eq!(same_person(&b, d, &a, d), Some(MatchReason::MiddleNameDiffers));
        }

        #[test]
        fn one_letter_substitution_in_a_surname_matches(
            words in full_name(),
            at in any::<prop::sample::Index>(),
            letter in prop::char::range('a', 'z'),
            d in date(),
        ) {
            let last = words.len() - 1;
            let mut cs: Vec<char> = words[last].chars().collect();
            let i = at.index(cs.len());
            prop_assume!(cs[i] != letter);
            cs[i] = letter;
            let mut changed = words.clone();
            changed[last] = cs.into_iter().collect();
            prop_assume!(!TITLES.contains(&changed[last].as_str()));
            let (a, b) = (name(&written(&words)), name(&written(&changed)));
            prop_assert_eq!(same_person(&a, d, &b, d), Some(MatchReason::OneLetterTypo));
        }

        #[test]
        fn one_letter_dropped_from_a_surname_matches(
            words in full_name(),
            at in any::<prop::sample::Index>(),
            d in date(),
        ) {
            let last = words.len() - 1;
            prop_assume!(words[last].len() > MIN_TYPO_CHARS);
            let mut changed = words.clone();
            changed[last].remove(at.index(words[last].len()));
            prop_assume!(!TITLES.contains(&changed[last].as_str()));
            let (a, b) = (name(&written(&words)), name(&written(&changed)));
            prop_assert_eq!(same_person(&a, d, &b, d), Some(MatchReason::OneLetterTypo));
        }

        #[test]
        fn one_letter_inserted_inside_a_forename_matches(
            words in full_name(),
            at in any::<prop::sample::Index>(),
            letter in prop::char::range('a', 'z'),
            d in date(),
        ) {
            // Anywhere but before the first or after the last letter.
            let i = 1 + at.index(words[0].len() - 1);
            let mut changed = words.clone();
            changed[0].insert(i, letter);
            let (a, b) = (name(&written(&words)), name(&written(&changed)));
            prop_assert_eq!(same_person(&a, d, &b, d), Some(MatchReason::OneLetterTypo));
        }

        #[test]
        fn a_forename_changed_at_its_end_never_matches(
            words in full_name(),
            letter in prop::char::range('a', 'z'),
            d in date(),
        ) {
            // Doubling the last letter is a typo inside the name (`Anna`/`Annna`), not at its end.
            prop_assume!(!words[0].ends_with(letter));
            let mut changed = words.clone();
            changed[0].push(letter);
            let (a, b) = (name(&written(&words)), name(&written(&changed)));
            prop_assert_eq!(same_person(&a, d, &b, d), None);
        }

        #[test]
        fn unrelated_first_and_last_names_never_match(a in full_name(), b in full_name(), d in date()) {
            prop_assume!(b.iter().all(|w| !a.contains(w)));
            let (x, y) = (name(&written(&a)), name(&written(&b)));
            prop_assert_eq!(same_person(&x, d, &y, d), None);
        }

        #[test]
        fn changing_forename_and_surname_never_matches(
            words in full_name(),
            first in word(),
            last in word(),
            d in date(),
        ) {
            let n = words.len() - 1;
            prop_assume!(first != words[0] && last != words[n]);
            prop_assume!(!words.contains(&first) && !words.contains(&last));
            let mut changed = words.clone();
            changed[0] = first;
            changed[n] = last;
            let (a, b) = (name(&written(&words)), name(&written(&changed)));
            prop_assert_eq!(same_person(&a, d, &b, d), None);
        }

        #[test]
        fn single_edit_agrees_with_strsim(a in "[abc]{0,6}", b in "[abc]{0,6}") {
            let ours = single_edit(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
            prop_assert_eq!(ours.is_some(), strsim::osa_distance(&a, &b) == 1, "{} {}", a, b);
        }
    }
}
