//! Finding a person: what a coordinator typed in the search box, read as the things it may be,
//! and whether a stored name, postcode or police reference answers it, with the reason.
//!
//! Pure: text in, verdicts out. No I/O, no clock. The store fetches the candidates (the
//! people of the user's areas, the references, the forms' fields) and asks these functions.
//!
//! # Reading the query ([`Query::read`])
//! One query may be several things at once, and each is tried:
//! - a date of birth: any UK form [`crate::recognise::answer::parse_date`] reads (`14/01/1985`,
//!   `14 Jan 1985`) and ISO (`1985-01-14`); two-digit years are placed not later than the year
//!   given (today's);
//! - a reference (ours, of a message `IN-2025-00001`, a case or a victim `P000002`): the query
//!   upper-cased, compared whole;
//! - a police reference: the letters and digits of a query that has a digit, compared with the
//!   form's police reference's letters and digits, case aside (`CR/12345/25` is `cr 12345 25`);
//! - a postcode: a query shaped like a UK postcode, spaces and case aside; a whole postcode
//!   (`SW1A 1AA`) is compared whole, an outward code alone (`SW1A`) with the outward code;
//! - a name: a query that reads as a [`PersonName`], compared as [`name_match`] says.
//!
//! # When a name answers ([`name_match`])
//! Both names are normalised as identity matching does ([`PersonName::key`]: case, accents,
//! titles, punctuation and `SURNAME, Forename` aside). Every word of the query must then answer
//! a different word of the name, in any order:
//! 1. the same word;
//! 2. the start of it, when the query's word has at least [`MIN_PREFIX_CHARS`] letters
//!    (`Penn` finds `Pennington`);
//! 3. a close spelling: at most [`max_edits`] letters inserted, dropped, replaced or two
//!    neighbours swapped (Damerau–Levenshtein, the bound growing with the word:
//!    `Pennigton`, `Clarie`).
//!
//! The reason says which held for the weakest word. A date of birth is never needed for a name
//! search, and a name never loosens a date's: dates are compared whole.

use crate::identity::PersonName;
use chrono::NaiveDate;

/// Longest query read, in characters; a longer one is cut.
pub const MAX_QUERY_CHARS: usize = 100;

/// Shortest query word that finds the names it begins.
pub const MIN_PREFIX_CHARS: usize = 3;

/// How many edits a query word of `chars` letters may be from a name's word: none under 4
/// letters (`Lee` is not `Lea`), one up to 7, two from 8.
pub fn max_edits(chars: usize) -> usize {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// What a query may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The query upper-cased and trimmed, for references.
    pub reference: String,
    pub dob: Option<NaiveDate>,
    /// Letters and digits, upper-cased, when the query has a digit (a police reference).
    pub police_ref: Option<String>,
    pub postcode: Option<Postcode>,
    pub name: Option<PersonName>,
}

/// A UK postcode, or its outward part alone, upper-cased without spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postcode {
    Full(String),
    Outward(String),
}

/// How a name answered the query: the weakest rule any word needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameMatch {
    Exact,
    Prefix,
    CloseSpelling,
}

impl NameMatch {
    pub fn describe(self) -> &'static str {
        match self {
            NameMatch::Exact => "name matches",
            NameMatch::Prefix => "name begins with what was typed",
            NameMatch::CloseSpelling => "name is a close spelling of what was typed",
        }
    }
}

impl Query {
    /// Reads a query; `this_year` places two-digit years. None for an empty query.
    pub fn read(raw: &str, this_year: i32) -> Option<Query> {
        let text: String = raw.trim().chars().take(MAX_QUERY_CHARS).collect();
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let dob = match crate::recognise::answer::parse_date(text, this_year) {
            crate::recognise::answer::DateRead::Date(d) => Some(d),
            _ => None,
        };
        let compact: String = text.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
        let police_ref = (dob.is_none() && compact.chars().any(|c| c.is_ascii_digit()) && compact.len() >= 3).then(|| compact.clone());
        let postcode = if dob.is_none() { postcode(text) } else { None };
        let name = if text.chars().any(char::is_alphabetic) && !text.chars().any(|c| c.is_ascii_digit()) { PersonName::parse(text).ok() } else { None };
        Some(Query { reference: text.to_uppercase(), dob, police_ref, postcode, name })
    }
}

/// `text` as a UK postcode (`SW1A 1AA`, `m1 1ae`) or an outward code (`SW1A`, `M1`); None for
/// anything else.
pub fn postcode(text: &str) -> Option<Postcode> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if outward(&compact) {
        return Some(Postcode::Outward(compact));
    }
    if compact.len() >= 5 {
        let (out, inward) = compact.split_at(compact.len() - 3);
        let b = inward.as_bytes();
        if outward(out) && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic() {
            return Some(Postcode::Full(compact));
        }
    }
    None
}

/// An outward code: one or two letters, a digit, then a digit or a letter or nothing.
fn outward(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if !(1..=2).contains(&letters) || b.len() < letters + 1 || b.len() > letters + 2 {
        return false;
    }
    b[letters].is_ascii_digit() && b[letters + 1..].iter().all(u8::is_ascii_alphanumeric)
}

impl Postcode {
    /// Whether the postcodes written in `text` (a postcode field, or an address ending in one)
    /// answer this one.
    pub fn found_in(&self, text: &str) -> bool {
        postcodes_in(text).iter().any(|b| match self {
            Postcode::Full(a) => a == b,
            Postcode::Outward(a) => outward_of(b) == a,
        })
    }

    /// The key this is looked up by in the search keys ([`form_keys`]).
    pub fn key(&self) -> (&'static str, &str) {
        match self {
            Postcode::Full(p) => (KEY_POSTCODE, p),
            Postcode::Outward(p) => (KEY_POSTCODE_DISTRICT, p),
        }
    }
}

/// The whole postcodes written in `text`, upper-cased without spaces, each once. A postcode is
/// written as one word or two; every word and every pair is looked at.
pub fn postcodes_in(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let mut seen: Vec<String> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let pair = words.get(i + 1).map(|next| format!("{w}{next}"));
        for candidate in std::iter::once(*w).chain(pair.as_deref()) {
            if let Some(Postcode::Full(p)) = postcode(candidate) {
                if !seen.contains(&p) {
                    seen.push(p);
                }
            }
        }
    }
    seen
}

/// The outward code of a whole postcode (upper-cased, no spaces): all but its last three.
fn outward_of(full: &str) -> &str {
    &full[..full.len().saturating_sub(3)]
}

/// The search key kinds: a police reference's letters and digits, a whole postcode, and a
/// postcode's outward code (its district).
pub const KEY_POLICE_REFERENCE: &str = "police_reference";
pub const KEY_POSTCODE: &str = "postcode";
pub const KEY_POSTCODE_DISTRICT: &str = "postcode_district";

/// What a form can be found by that only the form says, as (kind, key) pairs: the police
/// reference (letters and digits, upper-cased) and every whole postcode in the victim's postcode
/// and address, with its outward code. The store keeps these beside each message so that a
/// search reads only the messages that have the key; [`police_ref_matches`] and
/// [`Postcode::found_in`] still decide, so a key can narrow a search, never answer one.
pub fn form_keys(police_reference: Option<&str>, victim_places: &[Option<&str>]) -> std::collections::BTreeSet<(&'static str, String)> {
    let mut keys = std::collections::BTreeSet::new();
    if let Some(p) = police_reference.map(police_ref_key).filter(|p| !p.is_empty()) {
        keys.insert((KEY_POLICE_REFERENCE, p));
    }
    for text in victim_places.iter().flatten() {
        for p in postcodes_in(text) {
            keys.insert((KEY_POSTCODE_DISTRICT, outward_of(&p).to_owned()));
            keys.insert((KEY_POSTCODE, p));
        }
    }
    keys
}

/// A police reference's letters and digits, upper-cased: how it is compared.
pub fn police_ref_key(written: &str) -> String {
    written.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase()
}

/// Whether a police reference as written on a form answers the query's (letters and digits,
/// case aside, equal).
pub fn police_ref_matches(query: &str, written: &str) -> bool {
    let w = police_ref_key(written);
    !w.is_empty() && w == query
}

/// Whether the name whose key is `key` ([`PersonName::key`]) answers the query's name, and how.
/// See the module documentation.
pub fn name_match(query: &PersonName, key: &str) -> Option<NameMatch> {
    let q: Vec<String> = query.key().split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
    let mut words: Vec<Option<&str>> = key.split(' ').filter(|w| !w.is_empty()).map(Some).collect();
    if q.is_empty() || q.len() > words.len() {
        return None;
    }
    let mut worst = NameMatch::Exact;
    // Each query word takes the best still-free word of the name (exact first), longest
    // query words first so a short one does not take a long one's only partner.
    let mut order: Vec<&String> = q.iter().collect();
    order.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    for w in order {
        let best = words
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.and_then(|n| word_match(w, n)).map(|m| (m, i)))
            .min()?;
        words[best.1] = None;
        worst = worst.max(best.0);
    }
    Some(worst)
}

fn word_match(q: &str, n: &str) -> Option<NameMatch> {
    if q == n {
        return Some(NameMatch::Exact);
    }
    let chars = q.chars().count();
    if chars >= MIN_PREFIX_CHARS && n.starts_with(q) {
        return Some(NameMatch::Prefix);
    }
    let bound = max_edits(chars.min(n.chars().count()));
    (bound > 0 && strsim::damerau_levenshtein(q, n) <= bound).then_some(NameMatch::CloseSpelling)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PersonName {
        PersonName::parse(s).unwrap()
    }

    fn key(s: &str) -> String {
        name(s).key()
    }

    #[test]
    fn names_are_found_through_typos_swaps_order_and_case() {
        let k = key("Claire Louise PENNINGTON");
        assert_eq!(name_match(&name("claire pennington"), &k), Some(NameMatch::Exact));
        assert_eq!(name_match(&name("Pennington, Claire"), &k), Some(NameMatch::Exact));
        assert_eq!(name_match(&name("Clarie Penington"), &k), Some(NameMatch::CloseSpelling), "swapped letters and one dropped");
        assert_eq!(name_match(&name("Pennigton"), &k), Some(NameMatch::CloseSpelling));
        assert_eq!(name_match(&name("Penn"), &k), Some(NameMatch::Prefix));
        assert_eq!(name_match(&name("Zoë"), &key("Zoe Smith")), Some(NameMatch::Exact), "accents aside");
        assert_eq!(name_match(&name("Mrs Smith"), &key("Zoe Smith")), Some(NameMatch::Exact), "titles aside");
    }

    #[test]
    fn unrelated_names_and_short_words_are_not_found() {
        let k = key("Claire Pennington");
        assert_eq!(name_match(&name("Jones"), &k), None);
        assert_eq!(name_match(&name("Claire Jones"), &k), None, "every word must answer");
        assert_eq!(name_match(&name("Lea"), &key("Lee Smith")), None, "no edits under four letters");
        assert_eq!(name_match(&name("Pxnnxngton"), &k), Some(NameMatch::CloseSpelling), "two edits in a long word");
        assert_eq!(name_match(&name("Pxnnxngtxn"), &k), None, "three are too many");
        assert_eq!(name_match(&name("Claire Claire"), &k), None, "one name word answers one query word");
        assert_eq!(name_match(&name("Claire Anne Pennington Smith"), &k), None);
    }

    #[test]
    fn queries_are_read_as_what_they_may_be() {
        let q = Query::read(" 14/01/1985 ", 2026).unwrap();
        assert_eq!(q.dob, NaiveDate::from_ymd_opt(1985, 1, 14));
        assert!(q.name.is_none() && q.police_ref.is_none() && q.postcode.is_none());
        assert_eq!(Query::read("1985-01-14", 2026).unwrap().dob, NaiveDate::from_ymd_opt(1985, 1, 14));
        let q = Query::read("in-2025-00001", 2026).unwrap();
        assert_eq!(q.reference, "IN-2025-00001");
        assert_eq!(q.police_ref.as_deref(), Some("IN202500001"));
        let q = Query::read("sw1a 1aa", 2026).unwrap();
        assert_eq!(q.postcode, Some(Postcode::Full("SW1A1AA".into())));
        assert_eq!(Query::read("M1", 2026).unwrap().postcode, Some(Postcode::Outward("M1".into())));
        assert_eq!(Query::read("Smith", 2026).unwrap().postcode, None);
        assert!(Query::read("   ", 2026).is_none());
    }

    #[test]
    fn postcodes_are_found_in_addresses_and_police_references_by_their_characters() {
        let full = postcode("SW1A 1AA").unwrap();
        assert!(full.found_in("10 Downing Street, London SW1A 1AA"));
        assert!(full.found_in("sw1a1aa"));
        assert!(!full.found_in("London SW1A 2AA"));
        assert!(postcode("SW1A").unwrap().found_in("London, SW1A 2AA"));
        assert!(!postcode("SW1").unwrap().found_in("London, SW1A 2AA"), "an outward code is compared whole");
        assert!(police_ref_matches("CR1234525", "cr/12345/25"));
        assert!(!police_ref_matches("CR1234525", "CR/12345/26"));
    }

    /// A key found for a form is the key a query answering it looks up: whatever a query finds
    /// by reading every form, it finds by its key.
    #[test]
    fn a_forms_keys_hold_every_query_that_answers_it() {
        let keys = form_keys(Some(" cr/12345/25 "), &[Some("ZY1 2AB"), Some("4 Mill Lane, Kingsmere ZY9 9QQ"), None]);
        let want: Vec<(&str, &str)> = vec![
            (KEY_POLICE_REFERENCE, "CR1234525"),
            (KEY_POSTCODE, "ZY12AB"),
            (KEY_POSTCODE, "ZY99QQ"),
            (KEY_POSTCODE_DISTRICT, "ZY1"),
            (KEY_POSTCODE_DISTRICT, "ZY9"),
        ];
        let mut got: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want);
        for (query, place) in [("ZY1 2AB", "ZY1 2AB"), ("zy12ab", "ZY1 2AB"), ("ZY9", "4 Mill Lane, Kingsmere ZY9 9QQ"), ("zy9 9qq", "Kingsmere, zy99qq")] {
            let p = postcode(query).unwrap();
            assert!(p.found_in(place), "{query} in {place}");
            let (kind, key) = p.key();
            assert!(form_keys(None, &[Some(place)]).contains(&(kind, key.to_owned())), "{query} looks up a key of {place}");
        }
        assert!(form_keys(Some("--"), &[Some("no postcode here")]).is_empty(), "a reference with no letters or digits is no key");
    }
}
