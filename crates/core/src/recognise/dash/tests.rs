use super::*;
use crate::document::{Block, Row, Table, WidgetBox};

/// The SafeLives wording with the abuser's name typed in.
pub(crate) const QUESTIONS: [&str; 24] = [
    "Has the current incident resulted in injury?",
    "Are you very frightened?",
    "What are you afraid of? Is it further injury or violence?",
    "Do you feel isolated from family/friends i.e. does Dan try to stop you from seeing friends/family/doctor or others?",
    "Are you feeling depressed or having suicidal thoughts?",
    "Have you separated or tried to separate from Dan within the past year?",
    "Is there conflict over child contact?",
    "Does Dan constantly text, call, contact, follow, stalk or harass you?",
    "Are you pregnant or have you recently had a baby (within the last 18 months)?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Does Dan try to control everything you do and/or are they excessively jealous?",
    "Has Dan ever used weapons or objects to hurt you?",
    "Has Dan ever threatened to kill you or someone else and you believed them?",
    "Has Dan ever attempted to strangle / choke / suffocate / drown you?",
    "Does Dan do or say things of a sexual nature that make you feel bad or that physically hurt you or someone else?",
    "Is there any other person that has threatened you or that you are afraid of?",
    "Do you know if Dan has hurt anyone else?",
    "Has Dan ever mistreated an animal or the family pet?",
    "Are there any financial issues? For example, are you dependent on Dan for money?",
    "Has Dan had problems in the past year with drugs (prescription or other), alcohol or mental health?",
    "Has Dan ever threatened or attempted suicide?",
    "Has Dan ever broken bail/an injunction and/or formal agreement for when they can see you and/or the children?",
    "Do you know if Dan has ever been in trouble with the police or has a criminal history?",
];

fn row(i: usize, cells: &[&str]) -> Row {
    Row { at: format!("row {i}"), cells: cells.iter().map(|s| (*s).to_owned()).collect(), spans: Vec::new() }
}

fn doc(tables: Vec<Table>) -> Document {
    Document { blocks: tables.into_iter().map(Block::Table).collect(), ..Document::default() }
}

fn counts(d: &Dash) -> (u8, u8, u8) {
    (d.yes, d.no, d.unknown)
}

#[test]
fn answer_column_in_any_order() {
    // Reversed order, numbered from 24 down: found by topic, not position.
    let answers = ["Yes", "no", "DK", "", "y", "N", "Not known", "✓"];
    let mut rows = vec![row(1, &["No", "Question", "Answer", "Comments"])];
    for (k, q) in QUESTIONS.iter().enumerate().rev() {
        let n = (k + 1).to_string();
        let position = rows.len() + 1;
        rows.push(row(position, &[&n, q, answers[k % answers.len()], if k == 0 { "broken wrist" } else { "" }]));
    }
    let d = recognise(&doc(vec![Table { at: "sheet 'DASH'".into(), rows }]), "1").expect("a DASH");
    // Per 8 answers: yes: Yes, y, ✓ = 3; no: no, N = 2; unknown: DK, blank, Not known = 3.
    assert_eq!(counts(&d), (9, 6, 9));
    assert_eq!(d.answers[0].comment.as_deref(), Some("broken wrist"));
    assert_eq!(d.answers[0].at, "sheet 'DASH', row 25");
    assert!(d.problems.is_empty(), "{:?}", d.problems);
}

#[test]
fn marks_under_yes_no_dont_know_columns() {
    let mut rows = vec![row(1, &["", "Question", "Yes", "No", "Don't know", "Comments"])];
    for (k, q) in QUESTIONS.iter().enumerate() {
        let mark = ["X", "", ""];
        let cells: [&str; 3] = match k % 3 {
            0 => mark,
            1 => ["", "x", ""],
            _ => ["", "", "✔"],
        };
        rows.push(row(k + 2, &[&(k + 1).to_string(), q, cells[0], cells[1], cells[2], ""]));
    }
    let d = recognise(&doc(vec![Table { at: "page 1".into(), rows }]), "2").unwrap();
    assert_eq!(counts(&d), (8, 8, 8));
}

#[test]
fn header_carries_over_to_a_continuation_page() {
    let header = row(1, &["Question", "Yes", "No", "DK"]);
    let mut p1 = vec![header];
    let mut p2 = vec![];
    for (k, q) in QUESTIONS.iter().enumerate() {
        let r = row(k + 2, &[q, "X", "", ""]);
        if k < 12 { p1.push(r) } else { p2.push(r) }
    }
    let d = recognise(&doc(vec![Table { at: "page 1".into(), rows: p1 }, Table { at: "page 2".into(), rows: p2 }]), "1").unwrap();
    assert_eq!(counts(&d), (24, 0, 0));
}

#[test]
fn inline_checkboxes_and_conflicts() {
    let mut rows = Vec::new();
    for (k, q) in QUESTIONS.iter().enumerate() {
        let a = match k {
            0 => "☒ Yes ☒ No ☐ Don't know",
            1..=10 => "☒ Yes ☐ No ☐ Don't know",
            _ => "☐ Yes ☒ No ☐ Don't know",
        };
        rows.push(row(k + 1, &[q, a]));
    }
    let d = recognise(&doc(vec![Table { at: "table 2".into(), rows }]), "1").unwrap();
    assert_eq!(counts(&d), (10, 13, 1));
    assert!(d.problems.iter().any(|p| p.kind == ProblemKind::ConflictingMarks));
}

#[test]
fn a_missing_question_is_a_problem_not_a_guess() {
    let rows = QUESTIONS.iter().enumerate().filter(|(k, _)| *k != 14).map(|(k, q)| row(k, &[q, "Yes"])).collect();
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert_eq!(counts(&d), (23, 0, 1));
    assert!(d.problems.iter().any(|p| p.kind == ProblemKind::Unrecognised && p.detail.contains("question 15")));
}

#[test]
fn a_referral_form_alone_is_not_a_dash() {
    let rows = vec![
        row(1, &["Name", "A Person"]),
        row(2, &["Summary of risk", "Threatened to kill her and strangled her; police called; weapons at home."]),
        row(3, &["Police reference", "KP-1"]),
    ];
    assert!(recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").is_none());
}

fn field(name: &str, kind: FieldKind, value: Option<&str>, options: &[&str], context: Option<&str>) -> FormField {
    FormField {
        name: name.into(),
        label: None,
        context: context.map(str::to_owned),
        heading: None,
        kind,
        value: value.map(str::to_owned),
        options: options.iter().map(|s| (*s).to_owned()).collect(),
        widgets: Vec::new(),
        at: "page 1".into(),
    }
}

#[test]
fn radio_groups_by_number_with_export_values() {
    let mut fields = Vec::new();
    for k in 0..24 {
        let v = ["Yes", "No", "DK", "Off"][k % 4];
        fields.push(field(&format!("q{:02}", k + 1), FieldKind::Radio, Some(v), &["Yes", "No", "DK"], None));
        fields.push(field(&format!("q{:02}_comments", k + 1), FieldKind::Text, Some(if k == 2 { "scared" } else { "" }), &[], None));
    }
    fields.push(field("total_yes", FieldKind::Text, Some("6"), &[], None));
    let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
    assert_eq!(counts(&d), (6, 6, 12));
    assert_eq!(d.stated_total, Some(6));
    assert_eq!(d.answers[2].comment.as_deref(), Some("scared"));
}

#[test]
fn checkbox_pairs_found_by_page_text_in_another_order() {
    let mut fields = Vec::new();
    // Field numbers are this area's own; the printed question decides.
    for (k, q) in QUESTIONS.iter().enumerate().rev() {
        let n = 24 - k;
        let yes = k % 2 == 0;
        fields.push(field(&format!("Q{n}_Yes"), FieldKind::Checkbox, yes.then_some("On"), &["On"], Some(q)));
        fields.push(field(&format!("Q{n}_No"), FieldKind::Checkbox, (!yes).then_some("On"), &["On"], Some(&format!("{q} Yes"))));
    }
    let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
    assert_eq!(counts(&d), (12, 12, 0));
    assert_eq!(d.answers[0].answer, Answer::Yes);
    assert_eq!(d.answers[1].answer, Answer::No);
}

#[test]
fn unreadable_custom_export_values_are_a_problem() {
    let fields: Vec<_> = (0..24)
        .map(|k| field(&format!("q{}", k + 1), FieldKind::Radio, Some(if k == 0 { "Choice7" } else { "Yes" }), &[], None))
        .collect();
    let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
    assert_eq!(counts(&d), (23, 0, 1));
    assert!(d.problems.iter().any(|p| p.kind == ProblemKind::Unrecognised && p.detail.contains("question 1 ")));
}

/// A PDF page's printed header "Question | Yes | No | Don't know" with its cells' extents.
fn header_page(page: usize) -> Block {
    Block::Table(Table {
        at: format!("page {page}"),
        rows: vec![Row {
            at: "line 1".into(),
            cells: vec!["Question".into(), "Yes".into(), "No".into(), "Don't know".into()],
            spans: vec![[62.0, 100.0], [398.0, 410.0], [443.0, 453.0], [488.0, 525.0]],
        }],
    })
}

/// Widgets at the generator's columns: x = 400, 445, 490, 11 points wide.
fn at_column(k: usize, export: &str) -> WidgetBox {
    let x = [400.0, 445.0, 490.0][k];
    WidgetBox { export: Some(export.into()), x: [x, x + 11.0] }
}

/// The answers as columns 0 / 1 / 2 (Yes / No / Don't know) for question k.
fn column_of(k: usize) -> usize {
    [0, 1, 1, 2][k % 4]
}

/// 24 questions of three check boxes each, every box's on-state "Yes", named only by number.
fn anonymous_check_boxes() -> Vec<FormField> {
    let mut fields = Vec::new();
    for (k, q) in QUESTIONS.iter().enumerate() {
        for col in 0..3 {
            let ticked = column_of(k) == col;
            let mut f = field(&format!("Check Box {}", k * 3 + col + 1), FieldKind::Checkbox, ticked.then_some("Yes"), &["Yes"], Some(q));
            f.widgets = vec![at_column(col, "Yes")];
            fields.push(f);
        }
    }
    fields
}

#[test]
fn check_boxes_whose_on_state_is_yes_are_read_by_the_column_header_above_them() {
    // Regression (pdf_checkboxes): every box's export value is "Yes", so all 24 read as Yes.
    let doc = Document { blocks: vec![header_page(1)], fields: anonymous_check_boxes(), ..Document::default() };
    let d = recognise(&doc, "1").unwrap();
    assert_eq!(counts(&d), (6, 12, 6), "{:#?}", d.problems);
    assert!(d.problems.is_empty(), "{:#?}", d.problems);
    assert_eq!(d.answers[1].answer, Answer::No);
    assert_eq!(d.answers[3].answer, Answer::DontKnow);
}

#[test]
fn check_boxes_nothing_names_are_unread_never_yes() {
    // The same boxes with no header printed on their page: nothing says which box is which.
    let doc = Document { blocks: vec![header_page(2)], fields: anonymous_check_boxes(), ..Document::default() };
    let d = recognise(&doc, "1").unwrap();
    assert_eq!(d.yes, 0, "a box nothing names must never count as Yes");
    assert_eq!(d.problems.iter().filter(|p| p.kind == ProblemKind::Unrecognised && p.detail.contains("could not be read")).count(), 24);
}

#[test]
fn check_box_names_with_the_answer_after_the_question_number() {
    // "q01y" / "q01n" / "q01dk", on-state "Yes" for all: the letters after the number tell.
    let mut fields = Vec::new();
    for (k, q) in QUESTIONS.iter().enumerate() {
        for (col, suffix) in ["y", "n", "dk"].iter().enumerate() {
            let ticked = column_of(k) == col;
            fields.push(field(&format!("q{:02}{suffix}", k + 1), FieldKind::Checkbox, ticked.then_some("Yes"), &["Yes"], Some(q)));
        }
    }
    let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
    assert_eq!(counts(&d), (6, 12, 6), "{:#?}", d.problems);
    assert_eq!(answer_word_in("q01dk"), Some(Some(Answer::DontKnow)));
    assert_eq!(answer_word_in("Check Box 37"), None);
}

#[test]
fn distinct_export_values_name_the_boxes_of_a_question() {
    // One box per answer, each with its own on-state (Yes / No / DK), names saying nothing.
    let mut fields = Vec::new();
    for (k, q) in QUESTIONS.iter().enumerate() {
        for (col, export) in ["Yes", "No", "DK"].iter().enumerate() {
            let ticked = column_of(k) == col;
            fields.push(field(&format!("Box{}", k * 3 + col), FieldKind::Checkbox, ticked.then_some(*export), &[export], Some(q)));
        }
    }
    let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
    assert_eq!(counts(&d), (6, 12, 6), "{:#?}", d.problems);
}

fn numbered_radios() -> Vec<FormField> {
    QUESTIONS
        .iter()
        .enumerate()
        .map(|(k, q)| {
            let chosen = ["1", "2", "3"][column_of(k)];
            let mut f = field(&format!("q{:02}", k + 1), FieldKind::Radio, Some(chosen), &["1", "2", "3"], Some(q));
            f.widgets = (0..3).map(|c| at_column(c, ["1", "2", "3"][c])).collect();
            f
        })
        .collect()
}

#[test]
fn radio_groups_with_bare_choice_numbers_are_read_by_their_columns() {
    let doc = Document { blocks: vec![header_page(1)], fields: numbered_radios(), ..Document::default() };
    let d = recognise(&doc, "1").unwrap();
    assert_eq!(counts(&d), (6, 12, 6), "{:#?}", d.problems);
    assert!(d.problems.is_empty(), "{:#?}", d.problems);
}

#[test]
fn radio_groups_with_bare_choice_numbers_and_no_header_stay_unread() {
    // No header on their page, or two widgets under one header word: the numbers tell nothing.
    let doc = Document { blocks: vec![header_page(3)], fields: numbered_radios(), ..Document::default() };
    let d = recognise(&doc, "1").unwrap();
    assert_eq!((d.yes, d.no, d.dont_know), (0, 0, 0));
    let mut squeezed = numbered_radios();
    for f in &mut squeezed {
        f.widgets[2] = at_column(1, "3");
    }
    let d = recognise(&Document { blocks: vec![header_page(1)], fields: squeezed, ..Document::default() }, "1").unwrap();
    assert_eq!((d.yes, d.no, d.dont_know), (0, 0, 0), "{:#?}", d.answers);
}

/// The checklist as a sheet: header, then one row per question with `answer(k)` and, when
/// given, a comment.
fn answer_column_sheet(header: &[&str], answer: impl Fn(usize) -> &'static str, comment: impl Fn(usize) -> &'static str) -> Table {
    let mut rows = vec![row(1, header)];
    for (k, q) in QUESTIONS.iter().enumerate() {
        rows.push(row(k + 2, &[q, answer(k), comment(k)]));
    }
    Table { at: "sheet 'DASH'".into(), rows }
}

#[test]
fn a_yes_no_dont_know_header_with_an_apostrophe_is_an_answer_column() {
    // "Yes/No/Don't know" folds to "yes no dont know": it was not taken for a header, so a
    // comment naming another question ("breached the order") became the row's question.
    let t = answer_column_sheet(&["Question", "Yes/No/Don't know", "Comment"], |k| if k == 4 { "Yes" } else { "No" }, |k| {
        if k == 4 { "breached non-molestation order twice" } else { "" }
    });
    let d = recognise(&doc(vec![t]), "1").unwrap();
    assert_eq!(counts(&d), (1, 23, 0), "{:#?}", d.problems);
    assert_eq!(d.answers[4].answer, Answer::Yes);
    for h in ["Y / N / DK", "Yes or No", "yes no don t know"] {
        assert!(names_the_answers(&topics::words(h)), "{h}");
    }
    for h in ["Yes", "Notes", "Known to police"] {
        assert!(!names_the_answers(&topics::words(h)), "{h}");
    }
}

#[test]
fn a_comment_after_the_answer_never_names_the_row_s_question() {
    // No header at all: question | answer | comment, the comment worded like question 23.
    let mut rows = Vec::new();
    for (k, q) in QUESTIONS.iter().enumerate() {
        let comment = if k == 4 { "breached non-molestation order twice" } else { "" };
        rows.push(row(k + 1, &[q, if k == 4 { "Yes" } else { "No" }, comment]));
    }
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert_eq!(counts(&d), (1, 23, 0), "{:#?}", d.problems);
    assert_eq!(d.answers[4].comment.as_deref(), Some("breached non-molestation order twice"));
}

#[test]
fn an_unanswered_question_is_its_own_row_not_the_end_of_the_one_above() {
    // Questions 17 and 19 left unmarked in a grid: each was joined to the question above as
    // if it wrapped, and the question above was then placed as the wrong one.
    let mut rows = vec![row(1, &["Question", "Yes", "No", "Don't know"])];
    for (k, q) in QUESTIONS.iter().enumerate() {
        let marks: [&str; 3] = match k {
            16 | 18 => ["", "", ""],
            _ if k % 3 == 0 => ["✔", "", ""],
            _ => ["", "✔", ""],
        };
        rows.push(row(k + 2, &[q, marks[0], marks[1], marks[2]]));
    }
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert_eq!(d.answers[15].answer, Answer::Yes, "question 16 keeps its own row: {:#?}", d.answers[15]);
    assert_eq!(d.answers[16].found_by, Some(FoundBy::Wording));
    assert_eq!(d.answers[18].found_by, Some(FoundBy::Wording));
    assert_eq!((d.answers[16].answer, d.answers[18].answer), (Answer::Blank, Answer::Blank));
    assert!(d.problems.iter().all(|p| !p.detail.contains("not found")), "{:#?}", d.problems);
    // A real wrap still joins: a lower-case continuation line.
    let wrapped = Table {
        at: "page 1".into(),
        rows: vec![row(1, &["Is the abuse getting", "Yes"]), row(2, &["worse?"])],
    };
    let mut out = Vec::new();
    from_table(&wrapped, None, 1, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].text, "Is the abuse getting worse?");
}

#[test]
fn a_total_row_is_not_the_answer_of_the_last_question() {
    // Question 24 printed with no answer, then "Total score | 13": the 13 was read as its
    // answer, which could not be read.
    let mut rows = vec![row(1, &["#", "Question", "Response"])];
    for (k, q) in QUESTIONS.iter().enumerate() {
        let n = (k + 1).to_string();
        rows.push(row(k + 2, &[&n, q, if k == 23 { "" } else if k < 13 { "Yes" } else { "No" }]));
    }
    rows.push(row(26, &["", "Total score (number of Yes responses)", "13"]));
    let d = recognise(&doc(vec![Table { at: "page 1".into(), rows }]), "1").unwrap();
    assert_eq!(d.answers[23].answer, Answer::Blank);
    assert!(!d.problems.iter().any(|p| p.detail.contains("could not be read")), "{:#?}", d.problems);
    assert_eq!(d.stated_total, Some(13));
}

#[test]
fn a_third_radio_state_beside_y_and_n_is_don_t_know() {
    let fields: Vec<FormField> = QUESTIONS
        .iter()
        .enumerate()
        .map(|(k, q)| field(&format!("dash_q{}", k + 1), FieldKind::Radio, Some(["Y", "N", "U"][k % 3]), &["Y", "N", "U"], Some(q)))
        .collect();
    let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
    assert_eq!((d.yes, d.no, d.dont_know), (8, 8, 8), "{:#?}", d.problems);
    // N/A beside Y and N, or a third state with no yes/no beside it, stays unread.
    let odd = field("q1", FieldKind::Radio, Some("NA"), &["Y", "N", "NA"], None);
    assert_eq!(third_of_yes_no(&odd, "NA"), None);
    let odd = field("q1", FieldKind::Radio, Some("U"), &["A", "B", "U"], None);
    assert_eq!(third_of_yes_no(&odd, "U"), None);
}

use crate::recognise::topics::tests::{LABELS, THIRD_PERSON};

fn all_by(d: &Dash, by: FoundBy) -> bool {
    d.answers.iter().all(|a| a.found_by == Some(by))
}

#[test]
fn the_three_wordings_give_all_24_questions() {
    for (name, set) in [("second person", &QUESTIONS), ("third person", &THIRD_PERSON), ("labels", &LABELS)] {
        // Unnumbered, so that only the wording places them.
        let rows = set.iter().enumerate().map(|(k, q)| row(k + 1, &[q, if k < 15 { "Yes" } else { "No" }])).collect();
        let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap_or_else(|| panic!("{name}: no DASH"));
        assert_eq!(counts(&d), (15, 9, 0), "{name}: {:?}", d.problems);
        assert!(d.problems.is_empty(), "{name}: {:?}", d.problems);
        assert!(all_by(&d, FoundBy::Wording), "{name}");
        assert_eq!(d.answers[17].at, "table 1, row 18", "{name}: question 18 on its own row");
    }
}

#[test]
fn an_unknown_wording_between_two_known_questions_is_placed_by_position() {
    let mut qs: Vec<&str> = QUESTIONS.to_vec();
    qs[17] = "Has he ever gone for anybody in the family or a former girlfriend?";
    qs[9] = "Is it happening every week now?";
    let rows = qs.iter().enumerate().map(|(k, q)| row(k + 1, &[q, if k == 17 || k == 9 { "Yes" } else { "No" }])).collect();
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(counts(&d), (2, 22, 0));
    for q in [10, 18] {
        let a = &d.answers[q - 1];
        assert_eq!((a.answer, a.found_by), (Answer::Yes, Some(FoundBy::Position)), "question {q}");
        assert_eq!(a.at, format!("table 1, row {q} (by position)"));
    }
    assert_eq!(d.answers[0].found_by, Some(FoundBy::Wording));
}

#[test]
fn nothing_is_placed_by_position_at_the_ends_or_where_rows_and_gaps_differ() {
    let mut qs: Vec<&str> = QUESTIONS.to_vec();
    // First and last questions in words we do not know: nothing anchors them on one side.
    qs[0] = "Was she hurt in what happened this time?";
    qs[23] = "Any previous for him?";
    let mut rows: Vec<Row> = qs.iter().enumerate().map(|(k, q)| row(k + 1, &[q, "Yes"])).collect();
    // Question 12's row is lost and an extra unknown row sits between 11 and 13: two rows of
    // unknown wording (one is not a question) for one gap would be a guess.
    rows[11] = row(12, &["Does he go through her phone?", "Yes"]);
    rows.insert(12, row(99, &["Anything else you want to add?", "No"]));
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    for q in [1, 12, 24] {
        assert_eq!(d.answers[q - 1].found_by, None, "question {q}");
        assert_eq!(d.answers[q - 1].answer, Answer::Blank);
        assert!(d.problems.iter().any(|p| p.detail.starts_with(&format!("question {q} "))), "{q}: {:?}", d.problems);
    }
    assert_eq!(d.yes, 21);
}

#[test]
fn sub_headings_totals_and_comments_between_questions_are_skipped() {
    let mut rows = vec![row(1, &["Question", "Yes", "No", "Don't know", "Comments"])];
    for (k, q) in QUESTIONS.iter().enumerate() {
        if k == 8 {
            rows.push(row(100, &["Section 2: about the abuser", "", "", "", ""]));
        }
        if k == 16 {
            rows.push(row(101, &["Please record anything else the victim told you below.", "", "", "", ""]));
        }
        rows.push(row(k + 2, &[q, if k % 2 == 0 { "✗" } else { "" }, if k % 2 == 1 { "x" } else { "" }, "", ""]));
    }
    rows.push(row(200, &["Total 'yes' answers", "12", "", "", ""]));
    let d = recognise(&doc(vec![Table { at: "page 1".into(), rows }]), "1").unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(counts(&d), (12, 12, 0), "✗ under the Yes column is a mark");
    assert_eq!(d.stated_total, Some(12));
}

#[test]
fn a_checklist_split_over_small_tables_and_paragraphs_is_one_checklist() {
    // Five tables of at most five questions, each under its own section heading.
    let mut blocks = vec![Block::Paragraph(crate::document::Paragraph { text: "DASH Risk Identification Checklist".into(), at: "paragraph 1".into() })];
    for (t, chunk) in THIRD_PERSON.chunks(5).enumerate() {
        blocks.push(Block::Paragraph(crate::document::Paragraph { text: format!("Section {}", t + 1), at: format!("paragraph {}", t + 2) }));
        let rows = chunk.iter().enumerate().map(|(k, q)| row(k + 1, &[q, "☐ Yes ☒ No ☐ DK"])).collect();
        blocks.push(Block::Table(Table { at: format!("table {}", t + 1), rows }));
    }
    let d = recognise(&Document { blocks, ..Document::default() }, "1").expect("a DASH");
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(counts(&d), (0, 24, 0));
}

fn para(i: usize, text: &str) -> Block {
    Block::Paragraph(crate::document::Paragraph { text: text.into(), at: format!("paragraph {i}") })
}

#[test]
fn a_flat_print_out_in_paragraphs_with_answers_on_the_line_or_below() {
    let mut blocks = vec![para(0, "DASH RIC"), para(0, "Please tick one box for each question.")];
    for (k, q) in QUESTIONS.iter().enumerate() {
        match k % 3 {
            0 => blocks.push(para(k, &format!("{}. {q} ☒ Yes ☐ No ☐ Don't know", k + 1))),
            1 => {
                blocks.push(para(k, &format!("{}. {q}", k + 1)));
                blocks.push(para(k, "☐ Yes ☒ No ☐ Don't know"));
            }
            _ => {
                blocks.push(para(k, &format!("Q{} {q}", k + 1)));
                blocks.push(para(k, "Don't know"));
            }
        }
    }
    let d = recognise(&Document { blocks, ..Document::default() }, "1").expect("a DASH");
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!((d.yes, d.no, d.dont_know), (8, 8, 8));
}

#[test]
fn every_way_of_marking_an_answer_in_a_table() {
    // (answer cells after the question, expected answer; None = unread, a problem)
    let cases: [(&[&str], Option<Answer>); 16] = [
        (&["☐ Yes", "☒ No", "☐ DK"], Some(Answer::No)),
        (&["☒ Yes", "☐ No", "☐ DK"], Some(Answer::Yes)),
        (&["☐\nYes\n☐\nNo\n☒\nDK"], Some(Answer::DontKnow)),
        (&["YES."], Some(Answer::Yes)),
        (&["N/K"], Some(Answer::DontKnow)),
        (&["D/K"], Some(Answer::DontKnow)),
        (&["not known"], Some(Answer::DontKnow)),
        (&["Unknown"], Some(Answer::DontKnow)),
        (&["Y"], Some(Answer::Yes)),
        (&["✔"], Some(Answer::Yes)),
        (&["N/A"], None),
        (&["✗"], None),
        (&["X"], None),
        (&["Yes / No"], None),
        (&["☐ Yes ☐ No ☒ N/A"], None),
        (&["No", "see notes"], Some(Answer::No)),
    ];
    assert!(names_answers("Y / N / DK") && names_answers("yes or no") && !names_answers("no contact since May"));
    let mut rows = Vec::new();
    for (k, q) in QUESTIONS.iter().enumerate() {
        let mut cells = vec![*q];
        cells.extend_from_slice(cases.get(k).map_or(&["Yes"][..], |c| c.0));
        rows.push(row(k + 1, &cells));
    }
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    for (k, (cells, want)) in cases.iter().enumerate() {
        let got = d.answers[k].answer;
        let problem = d.problems.iter().any(|p| p.detail.starts_with(&format!("the answer to question {} ", k + 1)));
        match want {
            Some(a) => assert!(got == *a && !problem, "{cells:?}: {got:?}"),
            None => assert!(got == Answer::Blank && problem, "{cells:?}: {got:?}, {:?}", d.problems),
        }
    }
}

#[test]
fn labelled_boxes_in_a_cell_spanning_yes_no_dk_columns_go_by_their_labels() {
    let mut rows = vec![row(1, &["Question", "Yes", "No", "DK"])];
    for (k, q) in QUESTIONS.iter().enumerate() {
        let cells: [&str; 3] = match k {
            0..=3 => ["☐ Yes ☒ No ☐ DK", "", ""],
            4..=5 => ["☐", "☒ ticked", "☐"],
            _ => ["☒ Yes ☐ No ☐ DK", "", ""],
        };
        rows.push(row(k + 2, &[q, cells[0], cells[1], cells[2]]));
    }
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert_eq!(counts(&d), (18, 6, 0));
}

#[test]
fn a_dash_title_with_too_few_answers_is_a_dash_with_problems_not_no_dash() {
    for title in ["DASH Risk Identification Checklist", "DASH RIC",
        "Domestic Abuse, Stalking and Harassment and Honour Based Violence (DASH) Risk Identification Checklist",
        "SafeLives DASH Risk Checklist (2009)"] {
        let blocks = vec![para(1, title), para(2, "Name of victim"), para(3, "Signed")];
        let d = recognise(&Document { blocks, ..Document::default() }, "2").unwrap_or_else(|| panic!("{title}: no DASH"));
        assert_eq!((d.yes, d.unknown), (0, 24));
        assert!(d.problems[0].detail.contains("looks like a DASH") && d.problems[0].kind == ProblemKind::Unrecognised);
        assert_eq!(d.problems.iter().filter(|p| p.detail.contains("was not found")).count(), 24);
    }
    // Eight questions with answers and no title: several topics make it a DASH too.
    let rows = QUESTIONS.iter().take(8).enumerate().map(|(k, q)| row(k, &[q, "Yes"])).collect();
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").expect("looks like a DASH");
    assert_eq!(d.yes, 8);
    assert!(d.problems.iter().any(|p| p.detail.contains("only 8 of its 24")));
}

#[test]
fn a_referral_form_that_mentions_the_dash_is_not_a_dash() {
    let blocks = vec![
        para(1, "MARAC Referral Form"),
        para(2, "Please attach the DASH RIC"),
        Block::Table(Table {
            at: "table 1".into(),
            rows: vec![
                row(1, &["DASH score", "15"]),
                row(2, &["DASH Risk Identification Checklist completed?", "Yes"]),
                row(3, &["Date DASH completed", "01/02/2025"]),
                row(4, &["Summary of risk", "He threatened to kill her and she is very frightened; he has been stalking her."]),
                row(5, &["Is the victim pregnant?", "No"]),
            ],
        }),
    ];
    assert!(recognise(&Document { blocks: blocks.clone(), ..Document::default() }, "1").is_none());
    for text in ["DASH score: 16", "Please attach the DASH RIC", "DASH RIC completed", "See attached DASH checklist", "DASH",
        "OFFICIAL-SENSITIVE when complete. Send with the DASH RIC to marac@example.test (secure e-mail only).",
        "Has a DASH risk checklist been done with the victim?", "MARAC referral form and DASH RIC"] {
        assert!(!is_dash_title(text), "{text}");
    }
}

#[test]
fn out_of_order_numbered_rows_and_an_out_of_order_row_in_an_ordered_form() {
    // One question printed at the end, out of order: placed by its wording.
    let mut rows: Vec<Row> = QUESTIONS.iter().enumerate().filter(|(k, _)| *k != 6).map(|(k, q)| row(k, &[q, "Yes"])).collect();
    rows.push(row(30, &[QUESTIONS[6], "No"]));
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!((d.answers[6].answer, d.answers[6].found_by), (Answer::No, Some(FoundBy::Wording)));
}

#[test]
fn a_numbered_question_in_words_we_do_not_know_is_placed_by_its_number() {
    let mut rows = vec![row(1, &["No", "Question", "Answer"])];
    for (k, q) in QUESTIONS.iter().enumerate() {
        let q = if k == 11 { "Does he go through her phone and tell her what to wear?" } else { q };
        rows.push(row(k + 2, &[&(k + 1).to_string(), q, if k == 11 { "Yes" } else { "No" }]));
    }
    let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!((d.answers[11].answer, d.answers[11].found_by), (Answer::Yes, Some(FoundBy::Number)));
    assert_eq!(d.answers[11].at, "table 1, row 13");
}

#[test]
fn the_checklist_s_own_rows_win_over_a_referral_form_s_risk_questions_before_it() {
    let referral = Table {
        at: "table 1".into(),
        rows: vec![row(1, &["Victim name", "A Person"]), row(2, &["Is the victim pregnant?", "No"]), row(3, &["Is the abuse getting worse?", "No"])],
    };
    let dash_rows = QUESTIONS.iter().enumerate().map(|(k, q)| row(k + 1, &[q, "Yes"])).collect();
    let d = recognise(&doc(vec![referral, Table { at: "table 2".into(), rows: dash_rows }]), "1").unwrap();
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(d.yes, 24);
    assert!(d.answers.iter().all(|a| a.at.starts_with("table 2")));
}

#[test]
fn printed_in_another_order_after_a_referral_form_the_checklist_s_rows_still_win() {
    let referral = Table { at: "table 1".into(), rows: vec![row(1, &["Is the victim pregnant?", "No"]), row(2, &["Is the abuse getting worse?", "No"])] };
    // Unnumbered and in reverse: only the wording places them, and the referral's rows word
    // two of them the same way.
    let rows = QUESTIONS.iter().enumerate().rev().map(|(k, q)| row(k + 1, &[q, "Yes"])).collect();
    let d = recognise(&doc(vec![referral, Table { at: "table 2".into(), rows }]), "1").unwrap();
    assert_eq!(d.yes, 24, "{:?}", d.answers.iter().map(|a| &a.at).collect::<Vec<_>>());
}

proptest::proptest! {
    /// Whatever rows, paragraphs and marks a document holds, recognition never panics, counts
    /// 24 answers, and places a question by position only between two placed by wording or number.
    #[test]
    fn any_document_gives_24_answers_and_anchored_positions(
        picks in proptest::collection::vec((0usize..60, 0usize..14, proptest::bool::ANY), 0..60)
    ) {
        let marks = ["Yes", "No", "DK", "", "x", "✗", "N/A", "☐ Yes ☒ No ☐ DK", "☒", "Yes / No", "Total 12", "12", "?", "Y"];
        let mut blocks = Vec::new();
        let mut rows = Vec::new();
        for (k, (q, m, in_paragraph)) in picks.iter().enumerate() {
            let text = match q {
                0..=23 => QUESTIONS[*q],
                24..=47 => LABELS[q - 24],
                48 => "DASH Risk Identification Checklist",
                49 => "Does he go through her phone?",
                50 => "Section 2",
                _ => "Some other question we do not know?",
            };
            if *in_paragraph {
                blocks.push(para(k, &format!("{text} {}", marks[*m])));
            } else {
                rows.push(row(k, &[text, marks[*m]]));
            }
        }
        blocks.push(Block::Table(Table { at: "table 1".into(), rows }));
        if let Some(d) = recognise(&Document { blocks, ..Document::default() }, "1") {
            proptest::prop_assert_eq!(d.answers.len(), 24);
            proptest::prop_assert_eq!(usize::from(d.yes + d.no + d.unknown), 24);
            let placed: Vec<(usize, Option<FoundBy>)> = d.answers.iter().map(|a| (a.question as usize, a.found_by)).collect();
            for (q, by) in &placed {
                if *by == Some(FoundBy::Position) {
                    let anchor = |r: &[(usize, Option<FoundBy>)]| r.iter().any(|(_, b)| matches!(b, Some(FoundBy::Wording | FoundBy::Number)));
                    proptest::prop_assert!(anchor(&placed[..q - 1]) && anchor(&placed[*q..]));
                }
            }
        }
    }
}

/// A legacy Word form check box (`FORMCHECKBOX`): `checked` None = no `w:checked` element.
fn ff(checked: Option<&str>, default: &str) -> String {
    let checked = match checked {
        None => String::new(),
        Some("") => "<w:checked/>".to_owned(),
        Some(v) => format!(r#"<w:checked w:val="{v}"/>"#),
    };
    format!(
        r#"<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/><w:calcOnExit w:val="0"/><w:checkBox><w:sizeAuto/><w:default w:val="{default}"/>{checked}</w:checkBox></w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t></w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#
    )
}

fn wt(text: &str) -> String {
    format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

fn wtc(inner: &str) -> String {
    format!(r#"<w:tc><w:tcPr><w:tcW w:w="3000" w:type="dxa"/></w:tcPr>{inner}</w:tc>"#)
}

/// Issue 11: a DOCX DASH whose answers are three legacy FORMCHECKBOX fields in one cell, each
/// followed by its label, was read but not recognised as a DASH, with no problem reported.
#[test]
fn docx_dash_with_three_legacy_form_checkboxes_in_one_cell() {
    use crate::limits::{Deadline, Limits};
    // One answer ticked per row, in every way Word writes a ticked or an empty box.
    let ticked = [ff(Some(""), "0"), ff(Some("1"), "0"), ff(Some("true"), "0"), ff(None, "1")];
    let empty = [ff(Some("0"), "1"), ff(Some("false"), "0"), ff(None, "0")];
    let mut rows = format!("<w:tr>{}{}{}</w:tr>", wtc(&format!("<w:p>{}</w:p>", wt("Question"))), wtc(&format!("<w:p>{}</w:p>", wt("Yes / No / DK"))), wtc(&format!("<w:p>{}</w:p>", wt("Comments"))));
    for (k, q) in THIRD_PERSON.iter().enumerate() {
        let pick = k % 3; // 0 Yes, 1 No, 2 DK
        let boxes: Vec<String> = (0..3).map(|b| if b == pick { ticked[k % 4].clone() } else { empty[(k + b) % 3].clone() }).collect();
        // Half the rows in one paragraph, half with each box and label in its own paragraph.
        let cell = if k % 2 == 0 {
            format!("<w:p>{}{}{}{}{}{}</w:p>", boxes[0], wt(" Yes "), boxes[1], wt(" No "), boxes[2], wt(" DK"))
        } else {
            format!("<w:p>{}{}</w:p><w:p>{}{}</w:p><w:p>{}{}</w:p>", boxes[0], wt("Yes"), boxes[1], wt("No"), boxes[2], wt("DK"))
        };
        rows.push_str(&format!("<w:tr>{}{}{}</w:tr>", wtc(&format!("<w:p>{}</w:p>", wt(&format!("{}. {q}", k + 1)))), wtc(&cell), wtc("<w:p/>")));
    }
    let body = format!(
        "<w:p>{}</w:p><w:p>{}</w:p><w:tbl>{rows}</w:tbl><w:p>{}</w:p><w:p>{}</w:p><w:p>{}</w:p>",
        wt("DASH Risk Identification Checklist"),
        wt("To be completed with the victim."),
        wt("Total number of yes answers"),
        wt("Signed"),
        wt("Date")
    );
    let bytes = crate::readers::word::tests::docx_with("", &body);
    let read = crate::readers::word::read_docx(&bytes, &Limits::default(), Deadline::after(std::time::Duration::from_secs(10), std::time::Instant::now));
    assert_eq!(read.blocks.len(), 6, "the issue's shape: six blocks");
    let d = recognise(&read, "2").expect("a DASH");
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!((d.yes, d.no, d.dont_know), (8, 8, 8));
    assert!(all_by(&d, FoundBy::Wording));
}
