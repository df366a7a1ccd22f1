//! The 24 DASH RIC questions, found by topic rather than by number or exact wording: areas number
//! and order them differently, police forms word them differently, and referrers type the
//! abuser's first name over the placeholder.

/// Question number (1..=24) in the SafeLives order, and a short name for people.
pub const TOPICS: [&str; 24] = [
    "current incident caused injury",
    "very frightened",
    "what the victim is afraid of",
    "isolated from family and friends",
    "depressed or suicidal thoughts",
    "separation in the past year",
    "conflict over child contact",
    "stalking, texting, calling, harassment",
    "pregnant or recent baby",
    "abuse happening more often",
    "abuse getting worse",
    "control or excessive jealousy",
    "weapons or objects used to hurt",
    "threats to kill",
    "strangulation, choking, suffocation, drowning",
    "sexual abuse",
    "another person threatening or feared",
    "abuser has hurt anyone else",
    "mistreated an animal or pet",
    "financial issues or dependence",
    "abuser's drugs, alcohol, mental health",
    "abuser threatened or attempted suicide",
    "broken bail, injunction or agreement",
    "abuser in trouble with police, criminal history",
];

/// One clue: every stem must start a word of the text (stems may contain spaces to match phrases).
struct Clue {
    all: &'static [&'static str],
    weight: i32,
}

const fn c(all: &'static [&'static str], weight: i32) -> Clue {
    Clue { all, weight }
}

/// Clues per question; a negative weight argues against the question. A stem ending in `$` must be
/// the whole word (with a plural or verb ending: "pet$" is "pet", "pets", not "Peter"; "bail$" is
/// not "Bailey"), for stems that start common first names typed over the placeholder.
const CLUES: [&[Clue]; 24] = [
    // 1 injury
    &[c(&["injur"], 4), c(&["current incident"], 2), c(&["hurt", "incident"], 3), c(&["afraid"], -5), c(&["further injur"], -6), c(&["weapon"], -5), c(&["anyone else"], -4),
      c(&["fear"], -4), c(&["other"], -2)],
    // 2 frightened
    &[c(&["frighten"], 6), c(&["scared"], 5), c(&["afraid of"], -3), c(&["other person"], -6), c(&["anyone else"], -4), c(&["someone else"], -3), c(&["further"], -3)],
    // 3 afraid of what
    &[c(&["afraid of"], 5), c(&["what are you afraid"], 3), c(&["what is", "afraid"], 2), c(&["further injur"], 4), c(&["further violence"], 4), c(&["fear of"], 3), c(&["afraid"], 2),
      c(&["fears further"], 4), c(&["what", "fear"], 2),
      c(&["other person"], -8), c(&["anyone else"], -6), c(&["someone else"], -6), c(&["threaten"], -3), c(&["others"], -6), c(&["third party"], -8)],
    // 4 isolated
    &[c(&["isolat"], 6), c(&["isolt"], 6), c(&["stop", "seeing"], 3), c(&["friends"], 1), c(&["family"], 1)],
    // 5 depressed
    &[c(&["depress"], 6), c(&["suicidal thought"], 5), c(&["feeling low"], 3), c(&["self harm"], 3), c(&["low mood"], 4)],
    // 6 separation
    &[c(&["separat"], 6), c(&["seperat"], 6), c(&["split up"], 5), c(&["end the relationship"], 4), c(&["ended the relationship"], 4), c(&["left the relationship"], 4)],
    // 7 child contact
    &[c(&["child contact"], 7), c(&["contact", "child"], 5), c(&["conflict over"], 3), c(&["text"], -3), c(&["stalk"], -4), c(&["bail$"], -4), c(&["injunction"], -4)],
    // 8 stalking
    &[c(&["stalk"], 6), c(&["harass"], 5), c(&["harrass"], 5), c(&["follow"], 3), c(&["text"], 2), c(&["call"], 1), c(&["constantly"], 2)],
    // 9 pregnancy
    &[c(&["pregnan"], 7), c(&["baby"], 5), c(&["babies"], 5), c(&["18 months"], 3)],
    // 10 more often
    &[c(&["more often"], 7), c(&["frequen"], 6), c(&["happening more"], 6)],
    // 11 worse
    &[c(&["worse"], 7), c(&["escalat"], 6), c(&["more serious"], 5), c(&["severity"], 4), c(&["frequen"], -3)],
    // 12 control, jealousy
    &[c(&["control"], 5), c(&["jealous"], 6), c(&["coerci"], 4)],
    // 13 weapons
    &[c(&["weapon"], 8), c(&["objects to hurt"], 5), c(&["object"], 2), c(&["knife"], 5), c(&["knives"], 5)],
    // 14 threats to kill
    &[c(&["kill$"], 8), c(&["threat"], 1)],
    // 15 strangulation
    &[c(&["strangl"], 8), c(&["strangul"], 8), c(&["chok"], 7), c(&["suffocat"], 7), c(&["drown"], 6), c(&["throttl"], 6), c(&["asphyxi"], 6), c(&["non fatal"], 4)],
    // 16 sexual
    &[c(&["sexual"], 8), c(&["sex$"], 5), c(&["rape$"], 6), c(&["raped"], 6)],
    // 17 another person
    &[c(&["other person"], 6), c(&["another person"], 6), c(&["anyone else", "threaten"], 6), c(&["someone else", "threaten"], 5), c(&["anyone else", "afraid"], 6), c(&["anyone else", "fear"], 5), c(&["other person", "afraid"], 3),
      c(&["third party"], 6), c(&["fear", "others"], 5), c(&["feared"], 2), c(&["other people"], 4),
      c(&["kill$"], -8), c(&["hurt anyone"], -8), c(&["hurt others"], -8), c(&["harm"], -4), c(&["suicid"], -6)],
    // 18 hurt anyone else
    &[c(&["hurt anyone"], 8), c(&["hurt", "anyone else"], 6), c(&["hurt", "someone else"], 4), c(&["harmed anyone"], 7), c(&["hurt", "children"], 3), c(&["hurt", "previous partner"], 4),
      c(&["hurt others"], 8), c(&["hurt other"], 6), c(&["harm", "others"], 7), c(&["harmed other"], 6), c(&["violen", "others"], 6), c(&["violen", "towards other"], 6),
      c(&["sexual"], -8), c(&["weapon"], -8), c(&["kill$"], -6)],
    // 19 animal
    &[c(&["animal"], 8), c(&["pet$"], 6)],
    // 20 financial
    &[c(&["financ"], 8), c(&["money"], 5), c(&["dependent on"], 3), c(&["lost", "job"], 3), c(&["economic"], 6)],
    // 21 drugs, alcohol, mental health
    &[c(&["drug"], 6), c(&["alcohol"], 6), c(&["mental health"], 5), c(&["substance"], 5)],
    // 22 abuser suicide
    &[c(&["suicid"], 6), c(&["attempted suicide"], 4), c(&["threatened", "suicide"], 3), c(&["depress"], -10), c(&["suicidal thought"], -6)],
    // 23 bail, injunction
    &[c(&["bail$"], 8), c(&["injunction"], 8), c(&["court order"], 6), c(&["non molestation"], 6), c(&["formal agreement"], 6), c(&["breach"], 3), c(&["breached"], 3)],
    // 24 police, criminal history
    &[c(&["criminal"], 7), c(&["trouble with the police"], 7), c(&["police", "trouble"], 5), c(&["convict"], 5), c(&["police record"], 6), c(&["police history"], 6),
      c(&["known to police"], 6), c(&["known to the police"], 6), c(&["offending"], 4), c(&["bail$"], -6), c(&["injunction"], -6)],
];

/// Lower-case words of a text, punctuation as spaces, with a leading space so that " stem" finds
/// a stem at the start of a word. Apostrophes join ("don't" is "dont"). Every recogniser reads
/// text through this, many times per cell: ASCII, by far the most common, takes a short path.
pub fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    out.push(' ');
    let mut last_space = true;
    for ch in text.chars() {
        if ch.is_ascii() {
            word_char(ch.to_ascii_lowercase(), &mut out, &mut last_space);
        } else {
            for lower in ch.to_lowercase() {
                word_char(lower, &mut out, &mut last_space);
            }
        }
    }
    out
}

/// One lower-cased character of [`words`]: kept, dropped (an apostrophe, a NUL) or a word break.
fn word_char(ch: char, out: &mut String, last_space: &mut bool) {
    if matches!(ch, '’' | '\'' | '\0') {
        return;
    }
    if ch.is_alphanumeric() {
        out.push(ch);
        *last_space = false;
    } else if !*last_space {
        out.push(' ');
        *last_space = true;
    }
}

/// A text split into words once, for many stem look-ups.
struct Words<'a> {
    list: Vec<&'a str>,
    /// Which first bytes the words start with: a stem whose first byte is absent cannot match.
    first: [bool; 256],
}

impl<'a> Words<'a> {
    fn new(joined: &'a str) -> Self {
        let list: Vec<&str> = joined.split(' ').filter(|w| !w.is_empty()).collect();
        let mut first = [false; 256];
        for w in &list {
            first[usize::from(w.as_bytes()[0])] = true;
        }
        Words { list, first }
    }

    /// Whether a stem starts a word; a stem of several words must match them in sequence.
    fn has(&self, stem: &str) -> bool {
        if !stem.as_bytes().first().is_some_and(|b| self.first[usize::from(*b)]) {
            return false;
        }
        let k = stem.split(' ').count();
        if k == 1 {
            return self.list.iter().any(|w| starts(w, stem));
        }
        // Several words: all but the last equal, the last a prefix ("further injur"). The last
        // is tried first: it rules out most places.
        let Some((head, last)) = stem.rsplit_once(' ') else { return false };
        self.list
            .windows(k)
            .any(|ws| ws.last().is_some_and(|w| starts(w, last)) && head.split(' ').zip(ws).all(|(s, w)| *w == s))
    }
}

/// Whether a word starts with a stem: exactly, as a whole word for a `$` stem, or with one typing
/// slip for a long stem ("seperated", "alchohol", "jelous", "frightend").
fn starts(word: &str, stem: &str) -> bool {
    if let Some(whole) = stem.strip_suffix('$') {
        return word.strip_prefix(whole).is_some_and(|end| matches!(end, "" | "s" | "ed" | "ing" | "d" | "es" | "led" | "ling" | "ls"));
    }
    word.starts_with(stem) || (stem.len() >= MIN_FUZZY_STEM && !NOT_FUZZY.contains(&stem) && one_slip(word, stem))
}

/// Stems shorter than this must be spelt right: a slip in a short stem makes another word.
const MIN_FUZZY_STEM: usize = 7;
/// Long stems a slip turns into a common word ("strangl" → "strange").
const NOT_FUZZY: [&str; 2] = ["strangl", "strangul"];

/// Whether the word begins with the stem with one letter added, dropped, changed or two swapped
/// (the first letter always right).
fn one_slip(word: &str, stem: &str) -> bool {
    let (w, s) = (word.as_bytes(), stem.as_bytes());
    if w.len() + 1 < s.len() || w.first() != s.first() || !stem.is_ascii() {
        return false;
    }
    // The word's prefix as long as the stem, one shorter, or one longer.
    [s.len(), s.len() - 1, s.len() + 1].iter().filter(|&&n| n <= w.len()).any(|&n| within_one(&w[..n], s))
}

/// Damerau distance at most one.
fn within_one(a: &[u8], b: &[u8]) -> bool {
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).take(3).collect();
        return match diff.as_slice() {
            [] | [_] => true,
            [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
            _ => false,
        };
    }
    let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
    if long.len() != short.len() + 1 {
        return false;
    }
    let i = (0..short.len()).find(|&i| long[i] != short[i]).unwrap_or(short.len());
    long[i + 1..] == short[i..]
}

/// Scores of a text against every question, index 0 = question 1.
pub fn scores(text: &str) -> [i32; 24] {
    let joined = words(text);
    let w = Words::new(&joined);
    let mut out = [0; 24];
    for (q, clues) in CLUES.iter().enumerate() {
        for clue in clues.iter() {
            if clue.all.iter().all(|s| w.has(s)) {
                out[q] += clue.weight;
            }
        }
    }
    out
}

/// Texts kept in [`best`]'s per-thread memo before it is emptied: a form's cells are asked about
/// several times (header, question, wrapped line), and the answer never changes.
const BEST_MEMO_ENTRIES: usize = 4096;

thread_local! {
    static BEST_MEMO: std::cell::RefCell<std::collections::HashMap<String, Option<(usize, i32)>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The question a text asks, as (number 1..=24, score), when one question clearly wins.
pub fn best(text: &str) -> Option<(usize, i32)> {
    // Short risk-factor labels ("Injury", "Pet") are questions too; shorter texts are not.
    if text.len() < 3 || !text.contains(char::is_alphabetic) {
        return None;
    }
    if let Some(known) = BEST_MEMO.with(|m| m.borrow().get(text).copied()) {
        return known;
    }
    let found = best_uncached(text);
    BEST_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= BEST_MEMO_ENTRIES {
            m.clear();
        }
        if text.len() <= 1024 {
            m.insert(text.to_owned(), found);
        }
    });
    found
}

fn best_uncached(text: &str) -> Option<(usize, i32)> {
    let s = scores(text);
    let mut order: Vec<usize> = (0..24).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(s[i]));
    let (top, second) = (s[order[0]], s[order[1]]);
    (top >= 4 && top > second).then_some((order[0] + 1, top))
}

/// A question number written in a label or field name: "q01", "Q3_Yes", "Question 12", "12.".
pub fn number_in(label: &str) -> Option<usize> {
    let lower = label.to_lowercase();
    let mut found = None;
    for (i, _) in lower.match_indices(['q', 'n']) {
        let rest = &lower[i..];
        let rest = rest
            .strip_prefix("question")
            .or_else(|| rest.strip_prefix("qu"))
            .or_else(|| rest.strip_prefix("q"))
            .or_else(|| rest.strip_prefix("no"))
            .unwrap_or("");
        let rest = rest.trim_start_matches([' ', '_', '.', '-', '#']);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.len() <= 2 {
            // Word boundary before the marker: "dash.q1", "Q1", " question 3".
            let before = lower[..i].chars().last();
            if before.is_none_or(|c| !c.is_alphabetic()) {
                found = digits.parse().ok();
                break;
            }
        }
    }
    found.filter(|n| (1..=24).contains(n))
}

/// A leading question number on a text: "1.", "12)", "Q3".
pub fn leading_number(text: &str) -> Option<usize> {
    let t = text.trim_start();
    let t = t.strip_prefix(['q', 'Q']).unwrap_or(t);
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    let after = t[digits.len()..].chars().next();
    if after.is_none_or(|c| matches!(c, '.' | ')' | ' ' | ':' | '\t')) {
        digits.parse().ok().filter(|n| (1..=24).contains(n))
    } else {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The SafeLives wording, the police wording, and local variants with a name typed in.
    const WORDINGS: &[(usize, &str)] = &[
        (1, "Has the current incident resulted in injury? (Please state what and whether this is the first injury.)"),
        (1, "Has the current incident left you injured?"),
        (2, "Are you very frightened?"),
        (2, "Is the victim very frightened?"),
        (3, "What are you afraid of? Is it further injury or violence? (Please give an indication of what you think (name of abuser(s)) might do and to whom)"),
        (3, "What is the victim afraid of? Is it further injury or violence?"),
        (4, "Do you feel isolated from family/friends i.e. does (name of abuser(s)) try to stop you from seeing friends/family/doctor or others?"),
        (5, "Are you feeling depressed or having suicidal thoughts?"),
        (6, "Have you separated or tried to separate from (name of abuser(s)) within the past year?"),
        (7, "Is there conflict over child contact?"),
        (8, "Does (name of abuser(s)) constantly text, call, contact, follow, stalk or harass you?"),
        (8, "Does Gary constantly text, call, contact, follow, stalk or harass you?"),
        (9, "Are you pregnant or have you recently had a baby (within the last 18 months)?"),
        (10, "Is the abuse happening more often?"),
        (11, "Is the abuse getting worse?"),
        (12, "Does (name of abuser(s)) try to control everything you do and/or are they excessively jealous?"),
        (13, "Has (name of abuser(s)) ever used weapons or objects to hurt you?"),
        (14, "Has (name of abuser(s)) ever threatened to kill you or someone else and you believed them?"),
        (15, "Has (name of abuser(s)) ever attempted to strangle / choke / suffocate / drown you?"),
        (16, "Does (name of abuser(s)) do or say things of a sexual nature that make you feel bad or that physically hurt you or someone else?"),
        (17, "Is there any other person that has threatened you or that you are afraid of?"),
        (18, "Do you know if (name of abuser(s)) has hurt anyone else? (Please specify whom including the children, siblings or elderly relatives. Consider HBV.)"),
        (19, "Has (name of abuser(s)) ever mistreated an animal or the family pet?"),
        (20, "Are there any financial issues? For example, are you dependent on (name of abuser(s)) for money/have they recently lost their job/other financial issues?"),
        (21, "Has (name of abuser(s)) had problems in the past year with drugs (prescription or other), alcohol or mental health leading to problems in leading a normal life?"),
        (22, "Has (name of abuser(s)) ever threatened or attempted suicide?"),
        (23, "Has (name of abuser(s)) ever broken bail/an injunction and/or formal agreement for when they can see you and/or the children?"),
        (24, "Do you know if (name of abuser(s)) has ever been in trouble with the police or has a criminal history?"),
        (24, "Has Ryan ever been in trouble with the police or does he have a criminal history?"),
    ];

    #[test]
    fn every_wording_finds_its_question() {
        for (q, text) in WORDINGS {
            assert_eq!(best(text).map(|b| b.0), Some(*q), "{text}: {:?}", scores(text));
        }
    }

    /// Third person with the names typed in, as many areas print it.
    pub(crate) const THIRD_PERSON: [&str; 24] = [
        "Has the current incident resulted in injury to Karen?",
        "Is Karen very frightened?",
        "What is Karen afraid of? Is it further injury or violence?",
        "Does Karen feel isolated from family/friends i.e. does Darren try to stop her from seeing friends/family/doctor or others?",
        "Is Karen feeling depressed or having suicidal thoughts?",
        "Has Karen separated or tried to separate from Darren within the past year?",
        "Is there conflict over child contact?",
        "Does Darren constantly text, call, contact, follow, stalk or harass Karen?",
        "Is Karen pregnant or has she recently had a baby (within the last 18 months)?",
        "Is the abuse happening more often?",
        "Is the abuse getting worse?",
        "Does Darren try to control everything Karen does and/or is he excessively jealous?",
        "Has Darren ever used weapons or objects to hurt Karen?",
        "Has Darren ever threatened to kill Karen or someone else and she believed him?",
        "Has Darren ever attempted to strangle / choke / suffocate / drown Karen?",
        "Does Darren do or say things of a sexual nature that make Karen feel bad or that physically hurt her or someone else?",
        "Is there any other person that has threatened Karen or that she is afraid of?",
        "Does the victim know if Darren has hurt anyone else?",
        "Has Darren ever mistreated an animal or the family pet?",
        "Are there any financial issues? For example, is Karen dependent on Darren for money?",
        "Has Darren had problems in the past year with drugs (prescription or other), alcohol or mental health?",
        "Has Darren ever threatened or attempted suicide?",
        "Has Darren ever broken bail/an injunction and/or formal agreement for when he can see Karen and/or the children?",
        "Does the victim know if Darren has ever been in trouble with the police or has a criminal history?",
    ];

    /// Short risk-factor labels from a police record system.
    pub(crate) const LABELS: [&str; 24] = [
        "Injury", "Very frightened", "Fear of further injury/violence", "Isolation", "Depression/suicidal thoughts", "Separation",
        "Child contact conflict", "Stalking/harassment", "Pregnancy/new baby", "Abuse more frequent", "Abuse escalating",
        "Controlling/jealous behaviour", "Weapons used", "Threats to kill", "Strangulation/choking", "Sexual abuse",
        "Other person feared", "Abuser has hurt others", "Animal abuse", "Financial issues", "Abuser substance misuse/mental health",
        "Abuser suicide threats", "Breach of bail/order", "Abuser criminal history",
    ];

    /// Another record system's labels, terser, with its own words.
    const OTHER_LABELS: [&str; 24] = [
        "Injuries sustained", "Victim scared", "Fears further violence", "Isolated", "Depressed / suicidal", "Separated (last 12 months)",
        "Child contact issues", "Harassment", "Pregnant", "Frequency increasing", "Severity increasing", "Jealousy / coercive control",
        "Use of weapons", "Threats to kill", "Non-fatal strangulation", "Rape / sexual assault", "Third party threat",
        "Violence to others", "Cruelty to pets", "Economic abuse / money", "Drugs / alcohol / mental health", "Suicide threats (perpetrator)",
        "Breached bail / court order", "Previous convictions",
    ];

    /// Typing slips and spellings seen on forms (one slip per word).
    const SLIPS: &[(usize, &str)] = &[
        (2, "Are you very frightend?"),
        (4, "Does Tom stop you seeing friends? Do you feel isolted?"),
        (6, "Have you seperated from Tom in the past year?"),
        (8, "Does Tom harrass you?"),
        (9, "Are you pregant or have you had a baby in the last 18 months?"),
        (12, "Is Tom excesively jelous?"),
        (15, "Strangulation"),
        (21, "Does Tom have problems with alchohol?"),
        (21, "Has Tom had problems with acohol or drugs in the past year?"),
    ];

    #[test]
    fn every_question_in_three_wordings_and_other_labels() {
        for (set, name) in [(&THIRD_PERSON, "third person"), (&LABELS, "labels"), (&OTHER_LABELS, "other labels")] {
            for (k, text) in set.iter().enumerate() {
                assert_eq!(best(text).map(|b| b.0), Some(k + 1), "{name}: {text}: {:?}", scores(text));
            }
        }
        for (q, text) in SLIPS {
            assert_eq!(best(text).map(|b| b.0), Some(*q), "{text}: {:?}", scores(text));
        }
    }

    #[test]
    fn first_names_that_start_like_a_topic_do_not_decide_it() {
        // Peter is not a pet, Bailey is not bail, Killian is not a threat to kill.
        assert_eq!(best("Is Peter's partner very frightened?").map(|b| b.0), Some(2));
        assert_eq!(best("Has Bailey ever threatened to kill Karen or someone else?").map(|b| b.0), Some(14));
        assert_eq!(best("Does Killian constantly text, call, follow or harass Karen?").map(|b| b.0), Some(8));
        assert_eq!(best("Has Sexton ever mistreated an animal or pet?").map(|b| b.0), Some(19));
        assert_eq!(best("Is Strange very frightened?").map(|b| b.0), Some(2));
    }

    /// [`words`] as it was first written, one character at a time through `char::to_lowercase`:
    /// the short path for ASCII must give the same words.
    fn words_as_first_written(text: &str) -> String {
        let mut out = String::from(" ");
        let mut last_space = true;
        for ch in text.chars().flat_map(char::to_lowercase) {
            if matches!(ch, '’' | '\'' | '\0') {
                continue;
            }
            if ch.is_alphanumeric() {
                out.push(ch);
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
        }
        out
    }

    #[test]
    fn words_are_lower_case_words_with_apostrophes_joined() {
        assert_eq!(words("Don't KNOW / n.k."), " dont know n k ");
        assert_eq!(words("Victim’s D.O.B"), " victims d o b");
        // The Kelvin sign lower-cases to an ASCII k; a dotted capital I to an i and a combining
        // dot, which is no letter. A NUL is dropped.
        assert_eq!(words("\u{212A}aren İsa\0x"), " karen i sax");
        assert_eq!(words(""), " ");
        assert_eq!(words("--"), " ");
    }

    proptest::proptest! {
        #[test]
        fn words_are_as_first_written(text in proptest::prelude::any::<String>(), ascii in "[ -~]{0,40}") {
            proptest::prop_assert_eq!(words(&text), words_as_first_written(&text));
            proptest::prop_assert_eq!(words(&ascii), words_as_first_written(&ascii));
        }
    }

    #[test]
    fn one_slip_is_one_letter() {
        assert!(one_slip("seperated", "separat"));
        assert!(one_slip("alchohol", "alcohol"));
        assert!(one_slip("jelous", "jealous"));
        assert!(!one_slip("express", "depress"));
        assert!(!one_slip("dpe", "depress"));
        assert!(!one_slip("sepxxxated", "separat"));
    }

    #[test]
    fn non_questions_find_nothing() {
        for text in ["Victim name", "Date of birth", "Agency", "Comments", "Referrer name", "Total", "Name", "Age", "Yes", "No", "DK",
            "Notes", "Police", "Date of incident", "Section 2", "Signed", "Abuser", "Risk factors"] {
            assert_eq!(best(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_in_labels() {
        assert_eq!(number_in("q01"), Some(1));
        assert_eq!(number_in("Q3_Yes"), Some(3));
        assert_eq!(number_in("Question 12"), Some(12));
        assert_eq!(number_in("DASH.Section1.Q7"), Some(7));
        assert_eq!(number_in("q25"), None);
        assert_eq!(number_in("victim_name"), None);
        assert_eq!(leading_number("12. Is the abuse"), Some(12));
        assert_eq!(leading_number("1991 was"), None);
    }
}
