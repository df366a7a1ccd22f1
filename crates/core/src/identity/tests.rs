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
