use super::*;
use crate::document::{Paragraph, Row, Table};

/// [`Matcher::section`] as it was first written: every section name looked for in the padded
/// text. Finding the names by their first word must give the same section.
fn section_as_first_written(m: &Matcher, heading: &str) -> Option<Section> {
    let w = norm(heading);
    let w = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
    let w = pad(&w.split(' ').map(depossess).collect::<Vec<_>>().join(" "));
    let mut best: Option<(usize, Section)> = None;
    for (s, names) in &m.sections {
        for n in names {
            if contains_words(&w, n) && best.is_none_or(|b| n.len() > b.0) {
                best = Some((n.len(), *s));
            }
        }
    }
    best.map(|b| b.1)
}

proptest::proptest! {
    #[test]
    fn sections_are_found_as_first_written(picks in proptest::collection::vec(0usize..40, 0..8), sep in "[ .:'/-]{1,2}") {
        const VOCABULARY: [&str; 40] = [
            "victim", "victim's", "Victims", "details", "of", "the", "person", "at", "risk", "causing", "harm", "alleged",
            "abuser", "perpetrator's", "3", "3.", "Section", "C", "referrer", "referring", "agency", "children", "in",
            "household", "members", "and", "other", "young", "people", "survivor", "client", "name", "DOB", "summary",
            "reason", "for", "referral", "criteria", "using", "",
        ];
        let heading = picks.iter().map(|&i| VOCABULARY[i]).collect::<Vec<_>>().join(&sep);
        let m = Matcher::new(&Synonyms::default());
        proptest::prop_assert_eq!(m.section(&heading), section_as_first_written(&m, &heading), "{}", heading);
    }
}

fn table(rows: &[&[&str]]) -> Block {
    Block::Table(Table {
        at: "table 1".into(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, r)| Row { at: format!("row {}", i + 1), cells: r.iter().map(|s| (*s).to_owned()).collect(), spans: Vec::new() })
            .collect(),
    })
}

fn para(t: &str) -> Block {
    Block::Paragraph(Paragraph { text: t.into(), at: "paragraph 1".into() })
}

#[test]
fn two_column_form_with_sections() {
    let doc = Document {
        blocks: vec![
            para("1. Referrer details"),
            table(&[&["Referrer name", "PC A Officer"], &["Agency", "Police"], &["Email", "a@x.test"]]),
            para("2. Reason for referral"),
            table(&[
                &["Visible high risk (DASH score 14 or more)", "Yes"],
                &["DASH score", "16"],
                &["Professional judgement", "No"],
                &["Potential escalation", "☐"],
                &["Number of police call-outs in last 12 months", "4 call-outs"],
            ]),
            para("3. Client details"),
            table(&[&["Name", "Jo Bloggs"], &["Date of birth", "3rd Jul 1991"]]),
            para("4. Person causing harm"),
            table(&[&["Name", "Sam Bloggs"], &["DOB", "31/02/1990"], &["Relationship to victim", "Partner"]]),
            para("5. Children and other household members"),
            table(&[&["Name", "Date of birth"], &["Kid One", "08/03/2016"]]),
        ],
        ..Document::default()
    };
    let r = recognise(&[("1", &doc)], &Synonyms::default(), 2025);
    assert_eq!(r.get("referrer.name"), Some("PC A Officer"));
    assert_eq!(r.get("referrer.agency"), Some("Police"));
    assert_eq!(r.get("victim.name"), Some("Jo Bloggs"));
    assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1991, 7, 3));
    assert_eq!(r.get("perpetrator.name"), Some("Sam Bloggs"));
    assert_eq!(r.perpetrator_dob, None);
    assert!(r.problems.iter().any(|p| p.kind == ProblemKind::InvalidDate && p.detail.starts_with("perpetrator.dob")));
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&true));
    assert_eq!(r.reasons.get("professional_judgement"), Some(&false));
    assert_eq!(r.reasons.get("potential_escalation"), Some(&false));
    assert_eq!(r.stated_dash_score, Some(16));
    assert_eq!(r.police_callouts, Some(4));
    assert_eq!(r.children, vec![Child { name: "Kid One".into(), dob: NaiveDate::from_ymd_opt(2016, 3, 8) }]);
    assert_eq!(r.found_at.get("victim.name").map(String::as_str), Some("table 1, row 1"));
}

#[test]
fn admin_synonyms_extend_the_defaults() {
    let doc = Document { blocks: vec![table(&[&["Adult experiencing harm", "Jo Bloggs"]])], ..Document::default() };
    assert_eq!(recognise(&[("1", &doc)], &Synonyms::default(), 2025).get("victim.name"), None);
    let mut syn = Synonyms::default();
    syn.extend(&Synonyms {
        sections: BTreeMap::new(),
        fields: BTreeMap::from([("victim.name".to_owned(), vec!["adult experiencing harm".to_owned()])]),
    });
    assert_eq!(recognise(&[("1", &doc)], &syn, 2025).get("victim.name"), Some("Jo Bloggs"));
    assert!(syn.unknown_fields().is_empty());
}

#[test]
fn ticked_reason_rows_and_inline_labels() {
    let doc = Document {
        blocks: vec![
            para("Reason for referral"),
            table(&[&["☐ Visible high risk"], &["☒ Professional judgement"], &["Rationale: escalating threats"]]),
        ],
        ..Document::default()
    };
    let r = recognise(&[("1", &doc)], &Synonyms::default(), 2025);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false));
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true));
    assert_eq!(r.get("professional_judgement_rationale"), Some("escalating threats"));
}

fn text_field(name: &str, label: Option<&str>, context: Option<&str>, heading: Option<&str>, value: &str) -> FormField {
    FormField {
        name: name.into(),
        label: label.map(str::to_owned),
        context: context.map(str::to_owned),
        heading: heading.map(str::to_owned),
        kind: FieldKind::Text,
        value: (!value.is_empty()).then(|| value.to_owned()),
        options: Vec::new(),
        widgets: Vec::new(),
        at: "page 1".into(),
    }
}

#[test]
fn a_cryptic_field_name_gives_way_to_the_printed_label() {
    let doc = fields(vec![
        text_field("S3_F1", None, Some("Surname"), Some("Victim details"), "Hollins"),
        text_field("S3_F2", None, Some("Forename"), Some("Victim details"), "Rebecca"),
        text_field("q01", Some("Question 1"), Some("Has the current incident resulted in injury?"), None, "Yes"),
    ]);
    let r = read(&doc);
    assert_eq!(r.get("victim.name"), Some("Rebecca Hollins"), "{r:#?}");
    assert_eq!(r.get("risk_summary"), None, "{r:#?}");
}

fn checkbox(name: &str, label: Option<&str>, ticked: bool) -> FormField {
    FormField {
        kind: FieldKind::Checkbox,
        value: ticked.then(|| "Yes".to_owned()),
        options: vec!["Yes".into()],
        ..text_field(name, label, None, None, "")
    }
}

fn fields(list: Vec<FormField>) -> Document {
    Document { fields: list, ..Document::default() }
}

fn read(doc: &Document) -> Referral {
    recognise(&[("1", doc)], &Synonyms::default(), 2025)
}

fn uncertain_about(r: &Referral, key: &str) -> bool {
    r.uncertain.contains(key)
        && r.problems.iter().any(|p| p.kind == ProblemKind::Uncertain && p.detail.starts_with(&format!("{key}: ")))
}

#[test]
fn acroform_victim_split_name_never_the_perpetrators_full_name() {
    // Field names say the section (the form in issue 11: victim surname and forename, the
    // perpetrator's full name below them).
    let by_name = fields(vec![
        text_field("Victim_Surname", None, None, None, "Hollins"),
        text_field("Victim_Forenames", None, None, None, "Rebecca"),
        text_field("Sec3_VictimDOB", None, None, None, "03/07/1991"),
        text_field("Perp_FullName", None, Some("Full name"), None, "Darren Hollins"),
        text_field("perpetrator.dob", None, None, None, "14/11/1988"),
    ]);
    // Generic names: the alternate names and the headings printed above say it.
    let by_heading = fields(vec![
        text_field("Text1", Some("Surname"), Some("Surname"), Some("3. Victim details"), "Hollins"),
        text_field("Text2", None, Some("Forename(s)"), Some("3. Victim details"), "Rebecca"),
        text_field("Text3", None, Some("Date of birth"), Some("3. Victim details"), "3 July 1991"),
        text_field("Text4", Some("Full name"), None, Some("4. Alleged perpetrator"), "Darren Hollins"),
        text_field("Text5", None, Some("Date of birth"), Some("4. Alleged perpetrator"), "14/11/1988"),
    ]);
    // Abbreviated prefixes: AP_ (alleged perpetrator), PCH_ (person causing harm).
    let abbreviated = fields(vec![
        text_field("AP_Name", None, None, None, "Darren Hollins"),
        text_field("PCH_DOB", None, None, None, "14/11/1988"),
        text_field("Client_FirstName", None, None, None, "Rebecca"),
        text_field("Client_MiddleName", None, None, None, "Jane"),
        text_field("Client_LastName", None, None, None, "Hollins"),
        text_field("Client_DOB", None, None, None, "1991-07-03"),
    ]);
    for (doc, victim) in [(&by_name, "Rebecca Hollins"), (&by_heading, "Rebecca Hollins"), (&abbreviated, "Rebecca Jane Hollins")] {
        let r = read(doc);
        assert_eq!(r.get("victim.name"), Some(victim), "{r:#?}");
        assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1991, 7, 3), "{r:#?}");
        assert_eq!(r.get("perpetrator.name"), Some("Darren Hollins"), "{r:#?}");
        assert_eq!(r.perpetrator_dob, NaiveDate::from_ymd_opt(1988, 11, 14), "{r:#?}");
        assert!(r.uncertain.is_empty() && r.blank.is_empty(), "{r:#?}");
    }
}

#[test]
fn blank_victim_is_found_blank_and_never_filled_from_the_perpetrator() {
    // AcroForm: the victim's boxes are empty, the perpetrator's are filled.
    let acro = fields(vec![
        text_field("Victim_Surname", None, None, None, ""),
        text_field("Victim_Forename", None, None, None, ""),
        text_field("Victim_DOB", None, None, None, ""),
        text_field("Text9", Some("Name"), None, Some("Person causing harm"), "Darren Hollins"),
        text_field("Text10", Some("Date of birth"), None, Some("Person causing harm"), "14/11/1988"),
    ]);
    // Two-column table with section headings.
    let table_doc = Document {
        blocks: vec![
            para("Victim details"),
            table(&[&["Name", ""], &["Date of birth", ""]]),
            para("Alleged perpetrator"),
            table(&[&["Name", "Darren Hollins"], &["Date of birth", "14/11/1988"]]),
        ],
        ..Document::default()
    };
    // Label-above-value table: the row of values under the labels is empty.
    let above = Document {
        blocks: vec![
            para("Section 3 - Victim"),
            table(&[&["Surname", "Forename(s)", "DOB"], &["", "", ""]]),
            para("Section 4 - Perpetrator"),
            table(&[&["Surname", "Forename(s)", "DOB"], &["Hollins", "Darren", "14/11/1988"]]),
        ],
        ..Document::default()
    };
    for doc in [&acro, &table_doc, &above] {
        let r = read(doc);
        assert_eq!(r.get("victim.name"), None, "{r:#?}");
        assert_eq!(r.victim_dob, None, "{r:#?}");
        assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
        assert!(r.victim_placed());
        assert_eq!(r.get("perpetrator.name"), Some("Darren Hollins"), "{r:#?}");
        assert_eq!(r.perpetrator_dob, NaiveDate::from_ymd_opt(1988, 11, 14));
    }
}

#[test]
fn a_layout_with_no_victim_field_is_not_found_blank() {
    let doc = Document {
        blocks: vec![para("Notes about the household"), table(&[&["Worker", "A Officer"], &["Team", "North"]])],
        fields: vec![text_field("Text1", None, None, None, "")],
        ..Document::default()
    };
    let r = read(&doc);
    assert!(!r.victim_placed());
    assert!(r.blank.is_empty() && r.uncertain.is_empty(), "{r:#?}");
}

#[test]
fn labels_read_as_values_are_doubts_not_values() {
    // The police form of issue 11: field values that are the form's own labels.
    let acro = fields(vec![
        text_field("Victim_Name", None, None, None, "Name"),
        text_field("Perp_Name", None, None, None, "DOB"),
        text_field("Victim_DOB", None, None, None, "Crime / occurrence ref"),
        text_field("Perp_DOB", None, None, None, "not sure"),
        text_field("Child1Name", None, None, None, "Child 1 name"),
    ]);
    let r = read(&acro);
    assert_eq!(r.get("victim.name"), None);
    assert_eq!(r.get("perpetrator.name"), None);
    assert_eq!(r.victim_dob, None);
    assert!(uncertain_about(&r, "victim.name"), "{r:#?}");
    assert!(uncertain_about(&r, "perpetrator.name"), "{r:#?}");
    assert!(uncertain_about(&r, "victim.dob"), "{r:#?}");
    // Not a label, not a date: the date problem as before.
    assert!(r.problems.iter().any(|p| p.kind == ProblemKind::InvalidDate && p.detail.starts_with("perpetrator.dob")));
    assert!(!r.blank.contains("victim.name"));
    assert!(r.children.is_empty());
    // No detail quotes a value.
    assert!(r.problems.iter().all(|p| !p.detail.contains("occurrence") && !p.detail.contains("Child 1")), "{:?}", r.problems);

    // A row of labels with no row of values under it: the victim's name is in doubt.
    let table_doc = Document {
        blocks: vec![para("Victim details"), table(&[&["Name", "Date of birth"]]), para("Perpetrator details"), table(&[&["Name", "Sam Bloggs"]])],
        ..Document::default()
    };
    let r = read(&table_doc);
    assert_eq!(r.get("victim.name"), None);
    assert!(uncertain_about(&r, "victim.name"), "{r:#?}");
    assert!(!r.blank.contains("victim.name"));
    assert_eq!(r.get("perpetrator.name"), Some("Sam Bloggs"));

    // "Label: value" paragraphs.
    let paras = Document {
        blocks: vec![para("About the victim"), para("Full name: Surname"), para("Date of birth: 03/07/1991")],
        ..Document::default()
    };
    let r = read(&paras);
    assert_eq!(r.get("victim.name"), None);
    assert!(uncertain_about(&r, "victim.name"), "{r:#?}");
    assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1991, 7, 3));
}

#[test]
fn printed_labels_of_a_pdf_with_fields_are_no_doubt() {
    // The text layer of a fillable PDF: labels side by side; the values are in the fields.
    let doc = Document {
        blocks: vec![table(&[&["Victim details"], &["Surname", "Forename(s)"], &["Date of birth"]])],
        fields: vec![
            text_field("Victim_Surname", None, None, None, "Hollins"),
            text_field("Victim_Forename", None, None, None, "Rebecca"),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.get("victim.name"), Some("Rebecca Hollins"));
    assert!(r.uncertain.is_empty() && r.problems.is_empty(), "{r:#?}");
    assert!(!r.blank.contains("victim.dob"), "a printed label beside a box is no evidence of a blank");
}

#[test]
fn split_names_in_tables_and_paragraphs() {
    let two_column = Document {
        blocks: vec![
            para("2. Client details"),
            table(&[&["Surname", "Hollins"], &["First name", "Rebecca"], &["Middle name", "Jane"], &["DOB", "03/07/1991"]]),
        ],
        ..Document::default()
    };
    let above = Document {
        blocks: vec![
            para("Victim"),
            table(&[&["Family name", "Given names", "Date of birth"], &["Hollins", "Rebecca Jane", "3rd July 1991"]]),
        ],
        ..Document::default()
    };
    let paras = Document {
        blocks: vec![para("Victim's details"), para("Last name: Hollins"), para("Forenames: Rebecca Jane"), para("D.O.B.: 03.07.91")],
        ..Document::default()
    };
    for doc in [&two_column, &above, &paras] {
        let r = read(doc);
        assert_eq!(r.get("victim.name"), Some("Rebecca Jane Hollins"), "{r:#?}");
        assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1991, 7, 3), "{r:#?}");
    }
    // Surname first as written stays as written.
    let doc = Document { blocks: vec![para("Victim"), table(&[&["Name", "HOLLINS, Rebecca"]])], ..Document::default() };
    assert_eq!(read(&doc).get("victim.name"), Some("HOLLINS, Rebecca"));
}

#[test]
fn a_label_merged_across_its_row_has_its_value_under_it() {
    // Word tables with the label merged across the row and the value in the row under it.
    let doc = Document {
        blocks: vec![
            para("Victim details"),
            table(&[&["Full name", ""], &["Rebecca Hollins", ""], &["Date of birth", ""], &["03/07/1991", ""], &["Address", ""], &["Please complete all fields", ""]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.get("victim.name"), Some("Rebecca Hollins"), "{r:#?}");
    assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1991, 7, 3));
    // An instruction under a label is neither its value nor evidence of a blank.
    assert_eq!(r.get("victim.address"), None);
    assert!(r.blank.is_empty(), "{r:#?}");
}

#[test]
fn a_second_name_label_after_a_blank_one_is_a_doubt() {
    // The perpetrator's heading is one the reader does not know: its "Name" must not fill
    // the victim's blank one.
    let doc = Document {
        blocks: vec![
            para("Victim"),
            table(&[&["Name", ""], &["Date of birth", ""]]),
            para("The other party"),
            table(&[&["Name", "Darren Hollins"], &["Date of birth", "14/11/1988"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.get("victim.name"), None, "{r:#?}");
    assert_eq!(r.victim_dob, None, "{r:#?}");
    assert!(uncertain_about(&r, "victim.name") && uncertain_about(&r, "victim.dob"), "{r:#?}");
    assert!(!r.blank.contains("victim.name"));
}

#[test]
fn professional_judgement_with_its_rationale_in_every_layout() {
    let why = "Threats to kill after separation and access to a knife; she is too frightened to answer the DASH.";
    // DOCX: a ticked box, the rationale in the free-text box under it.
    let ticked_then_box = Document {
        blocks: vec![para("Reason for referral"), table(&[&["☐ Visible high risk"], &["☒ Professional judgement"], &[why], &["☐ Potential escalation"]])],
        ..Document::default()
    };
    // "Yes" in a cell; the rationale under "Please explain".
    let yes_cell = Document {
        blocks: vec![table(&[&["Professional judgement", "Yes"], &["If professional judgement, please explain", why]])],
        ..Document::default()
    };
    // Paragraphs: several boxes on one line, the rationale in the paragraph after.
    let paragraphs = Document {
        blocks: vec![para("Reason for referral"), para("☐ Visible high risk ☒ Professional judgement ☐ Repeat"), para(why)],
        ..Document::default()
    };
    // Spreadsheet: the mark a few cells on, the rationale beside its label further on.
    let sheet = Document {
        blocks: vec![table(&[&["Professional judgement", "", "X"], &["Reasons for professional judgement", "", "", why]])],
        ..Document::default()
    };
    // Rationale beside the ticked box.
    let beside = Document { blocks: vec![table(&[&["☒ Professional judgement", why]])], ..Document::default() };
    // PDF: a ticked checkbox and an unlabelled text box after it.
    let pdf = fields(vec![
        checkbox("Check Box 1", Some("Visible high risk"), false),
        checkbox("Check Box 2", Some("Professional judgement"), true),
        text_field("Text7", None, None, None, why),
    ]);
    // PDF: a drop-down's choice, the rationale in a box labelled for it.
    let mut choice = text_field("ReasonForReferral", Some("Reason for referral"), None, None, "Professional judgement");
    choice.kind = FieldKind::Choice;
    let dropdown = fields(vec![choice, text_field("PJRationale", Some("If PJ, give details"), None, None, why)]);
    // A typed "PJ" in the reason cell.
    let typed = Document { blocks: vec![table(&[&["Reason for referral", "PJ"], &["Rationale", why]])], ..Document::default() };
    for (name, doc) in [
        ("ticked then box", &ticked_then_box),
        ("yes cell", &yes_cell),
        ("paragraphs", &paragraphs),
        ("sheet", &sheet),
        ("beside", &beside),
        ("pdf", &pdf),
        ("dropdown", &dropdown),
        ("typed", &typed),
    ] {
        let r = read(doc);
        assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{name}: {r:#?}");
        assert_eq!(r.get("professional_judgement_rationale"), Some(why), "{name}: {r:#?}");
    }
    let r = read(&paragraphs);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false));
    assert_eq!(r.reasons.get("repeat"), Some(&false));
}

#[test]
fn no_rationale_is_not_invented_from_the_next_label() {
    let doc = Document {
        blocks: vec![
            para("Reason for referral"),
            table(&[
                &["Professional judgement", "☒"],
                &["If professional judgement, give your rationale"],
                &["Number of police call-outs in last 12 months", ""],
                &["Repeat MARAC", "☐"],
            ]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true));
    assert_eq!(r.get("professional_judgement_rationale"), None, "{r:#?}");
    // Nor from an unticked box's neighbour.
    let pdf = fields(vec![checkbox("PJ", Some("Professional judgement"), false), text_field("Text7", None, None, None, "Some words written in a box here")]);
    assert_eq!(read(&pdf).get("professional_judgement_rationale"), None);
}

#[test]
fn escalation_with_its_call_outs_and_visible_high_risk_with_its_score() {
    let doc = Document {
        blocks: vec![table(&[&["Potential escalation", "☒", "Number of police call-outs in the last 12 months", "4"], &["Visible high risk", "Yes", "DASH score", "16"]])],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_eq!(r.police_callouts, Some(4));
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&true));
    assert_eq!(r.stated_dash_score, Some(16));
}

#[test]
fn children_rows_are_children_not_labels_numbers_or_questions() {
    let doc = Document {
        blocks: vec![
            para("Children in the household"),
            table(&[
                &["Child 1 name", "Child 1 DOB"],
                &["Ruby Hollins", "03/06/2021"],
                &["24", "Yes"],
                &["03/06/2019", "x"],
                &["Child 2 name", ""],
                &["Alfie Hollins", "7 Nov 2019", "St Mary's"],
            ]),
            para("Is there conflict over contact with the children?"),
            table(&[&["24", "Has the abuser ever been in trouble with the police?", "Yes"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(
        r.children,
        vec![
            Child { name: "Ruby Hollins".into(), dob: NaiveDate::from_ymd_opt(2021, 6, 3) },
            Child { name: "Alfie Hollins".into(), dob: NaiveDate::from_ymd_opt(2019, 11, 7) },
        ]
    );
}

#[test]
fn how_many_children_is_read_as_a_count_or_none_and_never_from_a_yes_or_no() {
    assert_eq!(
        ["2", "2 children", "two", "None", "None known", "No children", "Nil", "N/A", "0", "Yes", "No", "Not known", "Ruby Hollins", "31", "03/06/2021"].map(children_count),
        [Some(2), Some(2), Some(2), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0), None, None, None, None, None, None]
    );
    let read_children = |blocks: Vec<Block>| {
        let r = read(&Document { blocks, ..Document::default() });
        (r.get("household.children").map(str::to_owned), r.children.len())
    };
    // A count beside the names, in the children's section or anywhere.
    let counted = read_children(vec![
        para("5. Children in the household"),
        table(&[&["Number of children in the household", "2"], &["Name", "Date of birth"], &["Ruby Hollins", "03/06/2021"], &["Alfie Hollins", "07/11/2019"]]),
    ]);
    assert_eq!(counted, (Some("2".to_owned()), 2));
    // "None" on its own under the heading, as a row of a grid or a line.
    for none in [table(&[&["Name", "Date of birth", "School"], &["None", "", ""]]), para("None known")] {
        let (said, named) = read_children(vec![para("Children in the household"), none]);
        assert_eq!((said.as_deref().and_then(children_count), named), (Some(0), 0));
    }
    // A section that says nothing, a "None" that is not under the children's heading, a DASH
    // question about children answered No, a yes to "any children?": no count.
    let silent = [
        vec![para("Children in the household"), para("Risk summary"), table(&[&["Summary", "He follows her."]])],
        vec![para("Perpetrator details"), para("None")],
        vec![table(&[&["9", "Are there any children, step-children that aren't the abuser's in the household?", "No"]])],
        vec![table(&[&["Any children in the household?", "Yes"]])],
        vec![table(&[&["Number of children", "Yes"]])],
    ];
    for blocks in silent {
        assert_eq!(read_children(blocks.clone()), (None, 0), "{blocks:?}");
    }
}

#[test]
fn numbered_child_fields_are_children_and_their_labels_are_not() {
    let acro = fields(vec![
        text_field("Child1Name", None, None, None, "Ruby Hollins"),
        text_field("Child1DOB", None, None, None, "03/06/2021"),
        text_field("Child_2_Name", None, None, None, "Child 2 name"),
        text_field("Child_2_DOB", None, None, None, ""),
        text_field("Child3Name", None, None, None, "24"),
        text_field("q18", Some("18. Do you know if (name of abuser) has hurt anyone else (children, siblings)?"), None, None, "No"),
    ]);
    let two_column = Document {
        blocks: vec![table(&[&["Child 1 name", "Ruby Hollins"], &["Child 1 date of birth", "3 June 2021"], &["Child 2 name", ""]])],
        ..Document::default()
    };
    for doc in [&acro, &two_column] {
        let r = read(doc);
        assert_eq!(r.children, vec![Child { name: "Ruby Hollins".into(), dob: NaiveDate::from_ymd_opt(2021, 6, 3) }], "{r:#?}");
    }
}

#[test]
fn headings_are_headings_and_labels_are_not() {
    let m = Matcher::new(&Synonyms::default());
    assert_eq!(m.heading("3. Details of the victim"), Some(Section::Victim));
    assert_eq!(m.heading("Section E - Children in the household"), Some(Section::Children));
    assert_eq!(m.heading("5. Children and other household members (name / date of birth)"), Some(Section::Children));
    assert_eq!(m.heading("Victim's details"), Some(Section::Victim));
    assert_eq!(m.heading("Suspect details"), Some(Section::Perpetrator));
    assert_eq!(m.heading("Relationship to victim"), None);
    assert_eq!(m.heading("Victim name"), None);
    assert_eq!(m.heading("Is there conflict over contact with the children?"), None);
    assert!(m.is_label("Crime / occurrence ref") && m.is_label("DOB") && m.is_label("Child 1 name"));
    assert!(!m.is_label("Same as victim") && !m.is_label("Rose Child") && !m.is_label("Ref 123456"));
}

#[test]
fn codes_under_a_long_label_that_lists_them() {
    let doc = Document {
        blocks: vec![
            para("Reason for referral"),
            table(&[&["Reason(s) for referral - codes VHR, PJ, Escalation, Repeat", "VHR / PJ"], &["DASH RIC score (number of Yes answers)", "14"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("repeat"), Some(&false), "{r:#?}");
}

#[test]
fn one_reason_chosen_from_a_list_makes_the_others_not_chosen() {
    for (value, chosen) in [
        ("Potential escalation", "potential_escalation"),
        ("Escalation", "potential_escalation"),
        ("VHR", "visible_high_risk"),
        ("PE", "potential_escalation"),
        ("R", "repeat"),
        ("Repeat", "repeat"),
    ] {
        let doc = Document {
            blocks: vec![para("Referral criteria"), table(&[&["Reason for referral", value], &["DASH score", "5"]])],
            ..Document::default()
        };
        let r = read(&doc);
        for reason in REASONS {
            assert_eq!(r.reasons.get(reason), Some(&(reason == chosen)), "{value}: {reason}: {r:#?}");
            assert!(r.found_at.contains_key(&format!("reason.{reason}")), "{value}: {reason} has no place: {r:#?}");
        }
    }
    // A tick read elsewhere outranks "not chosen".
    let doc = Document {
        blocks: vec![table(&[&["Reason for referral", "Escalation"], &["Professional judgement", "☒"]])],
        ..Document::default()
    };
    assert_eq!(read(&doc).reasons.get("professional_judgement"), Some(&true));
}

#[test]
fn a_reason_list_with_nothing_chosen_is_found_blank() {
    let word = Document { blocks: vec![table(&[&["Reason for referral", "Choose an item."]])], ..Document::default() };
    let mut choice = text_field("Reason_for_referral", None, None, None, "");
    choice.kind = FieldKind::Choice;
    let pdf = fields(vec![choice]);
    for (name, doc) in [("word", &word), ("pdf", &pdf)] {
        let r = read(doc);
        assert!(r.reasons.values().all(|v| !v), "{name}: {r:#?}");
        for reason in REASONS {
            let key = format!("reason.{reason}");
            assert!(r.blank.contains(&key) || r.reasons.get(reason) == Some(&false), "{name}: {key}: {r:#?}");
        }
    }
}

#[test]
fn reason_labels_left_empty_are_read_as_not_ticked() {
    // "Label:" paragraphs with nothing after them (a Yes-cell form printed as lines).
    let colon = Document {
        blocks: vec![
            para("Reason for referral"),
            para("Visible high risk (14 or more ticks on the DASH):"),
            para("Professional judgement:"),
            para("If professional judgement, please explain why:"),
            para("Potential escalation: Yes"),
            para("Number of police call-outs in the last 12 months: 4"),
        ],
        ..Document::default()
    };
    let r = read(&colon);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_eq!(r.police_callouts, Some(4));
    assert_eq!(r.get("professional_judgement_rationale"), None);
    // A flat print-out: the label and the rationale's label side by side, nothing under them.
    let flat = Document {
        blocks: vec![table(&[
            &["Visible high risk (14 or more ticks on the DASH)", "", "", ""],
            &["Professional judgement", "", "Rationale for professional judgement", ""],
            &["Potential escalation", "X", "", ""],
        ])],
        ..Document::default()
    };
    let r = read(&flat);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_eq!(r.get("professional_judgement_rationale"), None, "{r:#?}");
}

#[test]
fn a_box_followed_by_its_own_label_and_value_in_one_cell() {
    let doc = Document {
        blocks: vec![
            para("2. Reason for referral"),
            table(&[
                &["Visible high risk (14 or more ticks on the DASH RIC)", "☐  DASH score: 6"],
                &["Professional judgement", "☒"],
                &["If professional judgement, please give your rationale", "Threats from the extended family after a refused marriage."],
                &["Potential escalation (3 or more police call-outs in 12 months)", "☐  Number of call-outs: 2"],
            ]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&false), "{r:#?}");
    assert_eq!(r.stated_dash_score, Some(6));
    assert_eq!(r.police_callouts, Some(2));
    assert!(r.get("professional_judgement_rationale").is_some());
}

#[test]
fn details_beside_a_reasons_yes_and_a_count_in_brackets() {
    let why = "He has bought a crossbow and threatened her if she leaves; she minimised throughout.";
    let grid = Document {
        blocks: vec![
            para("Referral criteria"),
            table(&[
                &["Criterion", "Yes / No", "Details"],
                &["Visible high risk", "No", "DASH score 6"],
                &["Professional judgement", "Yes", why],
                &["Potential escalation", "No", "0 police call-outs in the last 12 months"],
            ]),
        ],
        ..Document::default()
    };
    let r = read(&grid);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.get("professional_judgement_rationale"), Some(why), "{r:#?}");
    assert_eq!(r.stated_dash_score, Some(6), "{r:#?}");
    assert_eq!(r.police_callouts, Some(0), "{r:#?}");
    let yes = Document {
        blocks: vec![table(&[
            &["Criterion", "Yes / No", "Details"],
            &["Potential escalation", "Yes", "4 police call-outs in the last 12 months"],
            &["Repeat", "Yes", ""],
            &["Visible high risk", "No", "Seen at 14 Acacia Road"],
        ])],
        ..Document::default()
    };
    let r = read(&yes);
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_eq!(r.police_callouts, Some(4), "{r:#?}");
    assert_eq!(r.stated_dash_score, None, "{r:#?}");
    let lines = Document {
        blocks: vec![
            para("Referral criteria"),
            para("Professional judgement: No"),
            para("Potential escalation: Yes (police call-outs in last 12 months: 8)"),
        ],
        ..Document::default()
    };
    let r = read(&lines);
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_eq!(r.police_callouts, Some(8), "{r:#?}");
}

#[test]
fn a_dash_header_line_never_names_the_victim_over_the_referral_form() {
    let dash = Document {
        blocks: vec![para("SafeLives DASH Risk Identification Checklist"), para("Name of victim: K.B.        Date: 26/06/2025")],
        ..Document::default()
    };
    let referral = Document {
        blocks: vec![para("Victim details"), table(&[&["Full name", "Katharine Bell"], &["Date of birth", "12/03/1984"]])],
        ..Document::default()
    };
    // Either order of attachments: the referral form's victim section wins.
    for docs in [[("1", &dash), ("2", &referral)], [("1", &referral), ("2", &dash)]] {
        let r = recognise(&docs, &Synonyms::default(), 2025);
        assert_eq!(r.get("victim.name"), Some("Katharine Bell"), "{r:#?}");
        assert!(!r.uncertain.contains("victim.name"), "{r:#?}");
    }
    // Initials alone are no name: in doubt, never the value.
    let r = recognise(&[("1", &dash)], &Synonyms::default(), 2025);
    assert_eq!(r.get("victim.name"), None, "{r:#?}");
    assert!(r.uncertain.contains("victim.name"), "{r:#?}");
    // Two pairs on one line are both read.
    assert_eq!(pairs_in("Name of victim: K.B.        Date: 26/06/2025"), vec![("Name of victim", "K.B."), ("Date", "26/06/2025")]);
    assert_eq!(pairs_in("Summary:  he said: leave"), vec![("Summary", "he said: leave")]);
}

#[test]
fn two_attachments_that_disagree_on_the_victim_leave_it_in_doubt() {
    let dash = Document {
        blocks: vec![para("DASH RIC"), para("Name of victim: Jane Smith"), para("Victim's date of birth: 01/02/1980")],
        ..Document::default()
    };
    let referral = Document {
        blocks: vec![para("Victim details"), table(&[&["Surname", "Brown"], &["Forename(s)", "Ann"], &["Date of birth", "03/04/1985"]])],
        ..Document::default()
    };
    let r = recognise(&[("1", &dash), ("2", &referral)], &Synonyms::default(), 2025);
    assert_eq!(r.get("victim.name"), Some("Ann Brown"), "{r:#?}");
    assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1985, 4, 3), "{r:#?}");
    // Neither in a victim section: a disagreement nobody can settle.
    let other = Document { blocks: vec![para("Name of victim: Ann Brown"), para("Victim's date of birth: 03/04/1985")], ..Document::default() };
    let r = recognise(&[("1", &dash), ("2", &other)], &Synonyms::default(), 2025);
    assert_eq!(r.get("victim.name"), None, "{r:#?}");
    assert_eq!(r.victim_dob, None, "{r:#?}");
    assert!(r.uncertain.contains("victim.name") && r.uncertain.contains("victim.dob"), "{r:#?}");
    // The same person written two ways is no disagreement.
    let same = Document { blocks: vec![para("Name of victim: SMITH Jane"), para("Victim's date of birth: 1 February 1980")], ..Document::default() };
    let r = recognise(&[("1", &dash), ("2", &same)], &Synonyms::default(), 2025);
    assert_eq!(r.get("victim.name"), Some("Jane Smith"), "{r:#?}");
    assert!(r.uncertain.is_empty(), "{r:#?}");
}

#[test]
fn labels_on_their_own_lines_with_values_under_them() {
    let why = "She minimises what happens; he was released from custody last week.";
    let doc = Document {
        blocks: vec![
            para("About you (the referrer)"),
            para("Referrer name"),
            para("DC Owen Pryor"),
            para("Referral criteria"),
            para("Visible high risk (14 or more ticks on the DASH)"),
            para("Professional judgement"),
            para("☒"),
            para("If professional judgement, please explain why"),
            para(why),
            para("Potential escalation"),
            para("Repeat MARAC referral"),
            para("Yes"),
            para("Number of police call-outs in the last 12 months"),
            para("2"),
            para("Person at risk"),
            para("Surname"),
            para("Pilkington"),
            para("Forename(s)"),
            para("Megan"),
            para("Date of birth"),
            para("15th Jan 1963"),
            para("Person causing harm"),
            para("Name"),
            para("CRANE Lee"),
            para("Date of birth"),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.get("referrer.name"), Some("DC Owen Pryor"), "{r:#?}");
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.get("professional_judgement_rationale"), Some(why), "{r:#?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("repeat"), Some(&true), "{r:#?}");
    assert_eq!(r.police_callouts, Some(2));
    assert_eq!(r.get("victim.name"), Some("Megan Pilkington"), "{r:#?}");
    assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1963, 1, 15));
    assert_eq!(r.get("perpetrator.name"), Some("CRANE Lee"), "{r:#?}");
    // The perpetrator's date of birth with nothing under it: not read, and not claimed blank.
    assert_eq!(r.perpetrator_dob, None);
    assert!(!r.blank.contains("perpetrator.dob"), "{r:#?}");
}

#[test]
fn a_label_with_an_empty_value_cell_before_a_row_of_its_own_is_blank() {
    let doc = Document {
        blocks: vec![
            para("3. Victim details"),
            table(&[&["Name", ""], &["Aliases / other names", "None known"], &["Date of birth", ""], &["Gender", "Female"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
    // Values under a label merged across its row are values, not a row of their own.
    let split = Document { blocks: vec![para("3. Victim details"), table(&[&["Name", ""], &["Jane", "Smith"]])], ..Document::default() };
    assert!(!read(&split).blank.contains("victim.name"));
}

#[test]
fn boxes_typed_in_brackets_are_boxes() {
    let doc = Document {
        blocks: vec![table(&[
            &["REASON FOR REFERRAL"],
            &["Visible high risk", "[ ] DASH score: 12"],
            &["Professional judgement", "[ ]"],
            &["Rationale"],
            &["Potential escalation", "[X] Call-outs (12 months): 3"],
            &["Repeat", "[ ]"],
        ])],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:#?}");
    assert_eq!(r.police_callouts, Some(3), "{r:#?}");
    assert_eq!(r.stated_dash_score, Some(12), "{r:#?}");
}

#[test]
fn a_list_of_reasons_is_no_tick_and_its_choice_may_stand_under_it() {
    let doc = Document {
        blocks: vec![
            para("Referral criteria"),
            para("Referral criteria met (VHR / PJ / Escalation / Repeat)"),
            para("PJ"),
            para("Rationale (required for PJ)"),
            para("She is isolated, pregnant and terrified; the score does not reflect the control."),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("repeat"), Some(&false), "{r:#?}");
    assert!(r.get("professional_judgement_rationale").is_some(), "{r:#?}");
    // The list's label with nothing under it says nothing about any one reason.
    let empty = Document {
        blocks: vec![para("Referral criteria met (VHR / PJ / Escalation / Repeat)"), para("DASH score"), para("12")],
        ..Document::default()
    };
    let r = read(&empty);
    assert!(r.reasons.is_empty(), "{r:#?}");
    assert_eq!(r.stated_dash_score, Some(12));
}

#[test]
fn a_count_glued_to_its_label() {
    let doc = Document { blocks: vec![table(&[&["Number of police call-outs in the last 12 months3"]])], ..Document::default() };
    assert_eq!(read(&doc).police_callouts, Some(3));
    let prose = Document { blocks: vec![table(&[&["Seen by Dr Jones at clinic B2"]])], ..Document::default() };
    assert_eq!(read(&prose).police_callouts, None);
}

/// Paragraphs numbered as the Word reader numbers them: `None` is an empty paragraph, counted
/// but not delivered.
fn numbered(texts: &[Option<&str>]) -> Document {
    let blocks = texts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| Block::Paragraph(Paragraph { text: t.into(), at: format!("paragraph {}", i + 1) })))
        .collect();
    Document { blocks, ..Document::default() }
}

/// The lines of a flat PDF page: each cell with where it starts.
fn pdf_lines(rows: &[&[(f32, &str)]]) -> Block {
    Block::Table(Table {
        at: "page 1".into(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, r)| Row {
                at: format!("line {}", i + 1),
                cells: r.iter().map(|(_, t)| (*t).to_owned()).collect(),
                spans: r.iter().map(|(x, t)| [*x, *x + 4.0 * t.len() as f32]).collect(),
            })
            .collect(),
    })
}

#[test]
fn a_date_under_its_label_is_a_value_not_a_numbered_heading() {
    for (written, date) in [("18.12.72", (1972, 12, 18)), ("1963-04-12", (1963, 4, 12)), ("3 July 1991", (1991, 7, 3))] {
        let doc = Document { blocks: vec![para("Person at risk"), para("Name of victim"), para("Jane Smith"), para("Date of birth"), para(written), para("Gender"), para("Female")], ..Document::default() };
        let r = read(&doc);
        assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(date.0, date.1, date.2), "{written}: {r:#?}");
    }
    // Numbered headings are still headings: the name under "6. Other information" is nobody's.
    assert!(numbered_heading("6. Other information") && numbered_heading("Section 3") && !numbered_heading("18.12.72"));
}

#[test]
fn an_empty_paragraph_under_a_label_is_a_blank_field() {
    let doc = numbered(&[
        Some("Referral criteria"),
        Some("Referral criteria met (VHR / PJ / Escalation / Repeat)"),
        None,
        Some("Rationale (required for PJ)"),
        None,
        Some("Person at risk"),
        Some("Surname"),
        None,
        Some("Forename(s)"),
        None,
        Some("Date of birth"),
        None,
        Some("Gender"),
        Some("Female"),
    ]);
    let r = read(&doc);
    assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
    assert!(REASONS.iter().all(|k| r.blank.contains(&format!("reason.{k}"))), "{r:#?}");
    assert_eq!(r.get("victim.gender"), Some("Female"));
    // A label straight after a label, with no empty paragraph between: not known to be blank.
    let close = numbered(&[Some("Person at risk"), Some("Surname"), Some("Forename(s)"), Some("Date of birth"), Some("Gender"), Some("Female")]);
    let r = read(&close);
    assert!(!r.blank.contains("victim.name") && !r.blank.contains("victim.dob"), "{r:#?}");
}

#[test]
fn a_reason_label_repeating_its_section_heading_takes_the_choice_under_it() {
    let chosen = numbered(&[Some("Referral criteria"), Some("Reason for referral"), Some("Professional judgement"), Some("Professional judgement rationale"), Some("She is terrified of him.")]);
    let r = read(&chosen);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:#?}");
    let none = numbered(&[Some("Reason for referral"), Some("Reason for referral"), Some("Choose an item."), Some("DASH score"), Some("4")]);
    let r = read(&none);
    assert!(REASONS.iter().all(|k| r.blank.contains(&format!("reason.{k}"))), "{r:#?}");
    // A reason with its own box under it is that box's label, never the choice.
    let boxes = numbered(&[Some("Reason for referral"), Some("Reason for referral"), Some("Visible high risk"), Some("☐"), Some("Professional judgement"), Some("☒")]);
    let r = read(&boxes);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
}

#[test]
fn a_label_and_colon_with_nothing_after_it_is_blank() {
    let doc = Document { blocks: vec![para("Client details"), para("Surname:"), para("Forename(s):"), para("Date of birth:"), para("Gender: Female")], ..Document::default() };
    let r = read(&doc);
    assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
}

#[test]
fn a_label_alone_on_its_row_with_a_label_under_it_is_blank() {
    // A sheet or an OpenDocument table gives no cell for an empty value.
    let doc = Document {
        blocks: vec![
            para("Referral criteria"),
            table(&[&["Visible high risk (14 or more ticks on the DASH)"], &["Professional judgement"], &["If professional judgement, please explain why"], &["DASH score", "9"]]),
            para("Victim details"),
            table(&[&["Surname"], &["Forename(s)"], &["Date of birth"], &["Gender", "Female"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&false), "{r:#?}");
    assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
    // A reason list alone on its row (it reads like a heading) with a label under it.
    let list = Document { blocks: vec![table(&[&["Referral criteria"], &["Referral criteria met (VHR / PJ / Escalation / Repeat)"], &["Rationale (required for PJ)"], &["DASH score", "7"]])], ..Document::default() };
    let r = read(&list);
    assert!(REASONS.iter().all(|k| r.blank.contains(&format!("reason.{k}"))), "{r:#?}");
    // Its value under it is still its value.
    let above = Document { blocks: vec![para("Victim details"), table(&[&["Surname"], &["Pilkington"], &["Date of birth"], &["15/01/1963"]])], ..Document::default() };
    let r = read(&above);
    assert_eq!(r.get("victim.name"), Some("Pilkington"), "{r:#?}");
    assert_eq!(r.victim_dob, NaiveDate::from_ymd_opt(1963, 1, 15));
}

#[test]
fn a_row_of_labels_with_nothing_beside_them_before_a_row_of_its_own_is_blank() {
    let word = Document { blocks: vec![table(&[&["Victim details", "", "", ""], &["Surname", "", "Forename(s)", ""], &["Date of birth", "", "Gender", "Female"]])], ..Document::default() };
    let r = read(&word);
    assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
    assert!(!r.uncertain.contains("victim.name"), "{r:#?}");
    let pdf = Document {
        blocks: vec![pdf_lines(&[&[(40.0, "Client details")], &[(40.0, "Surname"), (300.0, "Forename(s)")], &[(40.0, "Date of birth"), (300.0, "Gender"), (430.0, "Female")]])],
        ..Document::default()
    };
    let r = read(&pdf);
    assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "{r:#?}");
    // A row of labels with its values under it is read by column.
    let values = Document { blocks: vec![para("Victim details"), table(&[&["Surname", "Forename(s)"], &["Pilkington", "Megan"]])], ..Document::default() };
    assert_eq!(read(&values).get("victim.name"), Some("Megan Pilkington"));
}

#[test]
fn the_wrapped_line_of_a_pdf_value_is_not_a_label() {
    // The rationale beside the ticked box wraps onto lines that start at its column, between
    // the labels of the next rows; one of them names a field ("score"). Read as a label, it
    // ended the professional judgement and its rationale was lost.
    let doc = Document {
        blocks: vec![pdf_lines(&[
            &[(40.0, "Reason for referral")],
            &[(40.0, "Visible high risk (14 or more ticks on the DASH)")],
            &[(40.0, "Professional judgement"), (170.0, "X"), (300.0, "Rationale for professional judgement")],
            &[(430.0, "and terrified; the score does")],
            &[(40.0, "Potential escalation")],
            &[(430.0, "not reflect the coercive")],
        ])],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert!(r.found_at.contains_key("professional_judgement_rationale"), "{r:#?}");
    assert_eq!(r.stated_dash_score, None);
}

#[test]
fn a_value_glued_to_its_labels_closing_bracket() {
    let doc = Document { blocks: vec![table(&[&["Referral criteria met (VHR / PJ / Escalation / Repeat)VHR, PJ"]])], ..Document::default() };
    let r = read(&doc);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("repeat"), Some(&false), "{r:#?}");
    // Prose with a bracket is not a label and its value.
    let prose = Document { blocks: vec![table(&[&["Seen at clinic (B2)Tuesday"]])], ..Document::default() };
    assert!(read(&prose).reasons.is_empty());
}

#[test]
fn a_mark_under_yes_or_no_columns_reads_as_that_column() {
    let rationale = "She minimises what happens; he was released from custody last week and has a conviction for assaulting a previous partner.";
    let doc = Document {
        blocks: vec![
            para("Referral criteria"),
            table(&[
                &["Criteria (please mark Yes or No for each)", "Yes", "No"],
                &["Visible high risk (14+ ticks on DASH)", "", "X"],
                &["Professional judgment", "X", ""],
                &["Escalation (3+ incidents)", "", "\u{2713}"],
                &["Repeat case", "X", "X"],
                &["DASH score", "9", ""],
                &["Rationale for professional judgement / concerns", "", ""],
                &[rationale, "", ""],
            ]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&false), "a mark under No: {r:?}");
    // Both columns marked: nothing certain, so the reason is not read at all.
    assert_eq!(r.reasons.get("repeat"), None, "{r:?}");
    assert_eq!(r.stated_dash_score, Some(9));
    assert_eq!(r.get("professional_judgement_rationale"), Some(rationale), "the rationale in the row under its label");
}

#[test]
fn boxes_after_their_labels_and_filled_squares_read_as_ticks() {
    let doc = Document {
        blocks: vec![
            para("Reason for referral"),
            para("Which criteria does this referral meet? (tick all that apply)"),
            para("Visible high risk \u{2610} Practitioner's judgement \u{2612}"),
            para("\u{25A0} Potential escalation \u{25A1} Repeat MARAC referral"),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.reasons.get("visible_high_risk"), Some(&false), "{r:?}");
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:?}");
    assert_eq!(r.reasons.get("repeat"), Some(&false), "{r:?}");
    // An answer after its question is not turned round.
    assert_eq!(marks_after_labels("Is the victim aware of the referral? Yes \u{2612} No \u{2610}"), None);
    assert_eq!(marks_after_labels("Aware of the referral Yes \u{2612} No \u{2610}"), None);
}

#[test]
fn a_criteria_cell_of_codes_under_a_key_is_read_and_left_blank_is_blank() {
    let form = |chosen: &str| Document {
        blocks: vec![
            para("Referral criteria"),
            para("Key: VHR = visible high risk (DASH 14+), PJ = professional judgement, PE = potential escalation, R = repeat"),
            table(&[&["Criteria met", chosen], &["DASH score", "13"], &["Police call-outs in last 12 months", "0"], &["PJ rationale", ""]]),
            para("Summary"),
        ],
        ..Document::default()
    };
    let r = read(&form(""));
    assert!(r.reasons.values().all(|v| !v), "{r:#?}");
    for reason in REASONS {
        let key = format!("reason.{reason}");
        assert!(r.blank.contains(&key) || r.reasons.get(reason) == Some(&false), "{key}: {r:#?}");
    }
    let r = read(&form("PJ, PE"));
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("potential_escalation"), Some(&true), "{r:#?}");
    assert_ne!(r.reasons.get("visible_high_risk"), Some(&true), "{r:#?}");
    assert_ne!(r.reasons.get("repeat"), Some(&true), "{r:#?}");
}

#[test]
fn criteria_codes_in_a_sheet_whose_empty_cells_are_not_there() {
    let key = "VHR = visible high risk (DASH 14+), PJ = professional judgement, PE = potential escalation, R = repeat";
    let sheet = |chosen: &[&str]| Document {
        blocks: vec![table(&[
            &["Referral criteria"],
            &["Key", key],
            chosen,
            &["PJ rationale"],
            &["DASH score", "8"],
            &["Number of police call-outs in the last 12 months"],
            &["Person at risk"],
            &["Surname", "Lomax"],
        ])],
        ..Document::default()
    };
    let r = read(&sheet(&["Criteria met"]));
    assert!(REASONS.iter().all(|x| r.blank.contains(&format!("reason.{x}")) || r.reasons.get(*x) == Some(&false)), "{r:#?}");
    assert_eq!(r.stated_dash_score, Some(8), "{r:#?}");
    let r = read(&sheet(&["Criteria met", "PJ R"]));
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    assert_eq!(r.reasons.get("repeat"), Some(&true), "{r:#?}");
    assert_ne!(r.reasons.get("visible_high_risk"), Some(&true), "{r:#?}");
}

#[test]
fn criteria_codes_in_paragraphs_colon_or_under_a_key() {
    let key = "VHR = visible high risk (DASH 14+), PJ = professional judgement, PE = potential escalation, R = repeat";
    let colon = |chosen: &str| numbered(&[Some("Referral criteria"), Some(&format!("Key: {key}")), Some(&format!("Criteria met: {chosen}")), Some("DASH score: 13")]);
    let above = |chosen: Option<&str>| numbered(&[Some("Referral criteria"), Some("Key"), Some(key), Some("Criteria met"), chosen, Some("DASH score"), Some("13")]);
    let all_blank = |r: &Referral| REASONS.iter().all(|x| r.blank.contains(&format!("reason.{x}")) || r.reasons.get(*x) == Some(&false));
    for (name, r) in [("colon", read(&colon(""))), ("above", read(&above(None)))] {
        assert!(all_blank(&r), "{name}: {r:#?}");
        assert_eq!(r.stated_dash_score, Some(13), "{name}: {r:#?}");
    }
    for (name, r) in [("colon", read(&colon("VHR / R"))), ("above", read(&above(Some("VHR / R"))))] {
        assert_eq!(r.reasons.get("visible_high_risk"), Some(&true), "{name}: {r:#?}");
        assert_eq!(r.reasons.get("repeat"), Some(&true), "{name}: {r:#?}");
        assert_ne!(r.reasons.get("professional_judgement"), Some(&true), "{name}: {r:#?}");
    }
}

#[test]
fn boxes_after_labels_two_to_a_line_and_the_reasons_for_concern_under_their_label() {
    let why = "Recent escalation: he has started to follow her to work and has threatened to take the children abroad.";
    let doc = numbered(&[
        Some("Reason for referral"),
        Some("Which criteria does this referral meet? (tick all that apply)"),
        Some("Visible high risk (14+ ticks on DASH) \u{2610} Professional judgement / professional concern \u{2612}"),
        Some("Escalation (3+ incidents) \u{2610} Repeat (referred in the last 12 months) \u{2610}"),
        Some("DASH RIC score (number of Yes answers): 12"),
        Some("Police attendances for DA (last 12 months):"),
        Some("If PJ, please give your reasons for concern"),
        Some(why),
        Some("Person at risk"),
    ]);
    let r = read(&doc);
    assert_eq!(r.reasons.get("professional_judgement"), Some(&true), "{r:#?}");
    for other in ["visible_high_risk", "potential_escalation", "repeat"] {
        assert_eq!(r.reasons.get(other), Some(&false), "{other}: {r:#?}");
    }
    assert_eq!(r.get("professional_judgement_rationale"), Some(why), "{r:#?}");
    assert_eq!(r.stated_dash_score, Some(12), "{r:#?}");
}

/// The fields the SafeLives data return counts, in a two-column form: each read in its person's
/// section only, the agency's type in the referrer's.
#[test]
fn the_data_returns_fields_are_read_in_their_sections() {
    let doc = Document {
        blocks: vec![
            para("1. Referrer details"),
            table(&[&["Referrer name", "PC A Officer"], &["Referring agency", "Kingsmere Police"], &["Agency type", "Police"]]),
            para("3. Victim details"),
            table(&[
                &["Name", "Jane Smith"],
                &["Date of birth", "03/07/1991"],
                &["Age", "33"],
                &["Gender", "Female"],
                &["Ethnicity", "Black British - Caribbean"],
                &["Sexual orientation", "Bisexual"],
                &["Disability", "Yes - mobility"],
            ]),
            para("4. Perpetrator details"),
            table(&[&["Name", "John Smith"], &["Date of birth", "Not known"], &["Age", "17 years"], &["Ethnicity", "White British"], &["Disability", "No"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.get("referrer.agency"), Some("Kingsmere Police"), "{r:#?}");
    assert_eq!(r.get("referrer.agency_type"), Some("Police"), "{r:#?}");
    assert_eq!(r.get("victim.age"), Some("33"));
    assert_eq!(r.get("victim.ethnicity"), Some("Black British - Caribbean"));
    assert_eq!(r.get("victim.sexual_orientation"), Some("Bisexual"));
    assert_eq!(r.get("victim.disability"), Some("Yes - mobility"));
    assert_eq!(r.get("perpetrator.age"), Some("17 years"));
    assert_eq!(r.found_at.get("victim.ethnicity").map(String::as_str), Some("table 1, row 5"), "{r:#?}");
    // The perpetrator's ethnicity and disability are never the victim's.
    assert_eq!(r.perpetrator_dob, None);
}

/// A victim field under the perpetrator's heading is nobody's; an age that is not written as
/// one (a date, a range, "not known") is not read; a label with nothing beside it is blank.
#[test]
fn the_data_returns_fields_are_never_guessed() {
    let doc = Document {
        blocks: vec![
            para("Perpetrator details"),
            table(&[&["Name", "John Smith"], &["Ethnicity", "White British"], &["Sexual orientation", "Heterosexual"], &["Age", "16/05/1990"]]),
            para("Victim details"),
            // An empty value cell is known to be blank when a label follows it (as for any field).
            table(&[&["Name", "Jane Smith"], &["Age", "30s"], &["Ethnicity", ""], &["Gender", "Female"], &["Disability", ""], &["Date of birth", "03/07/1991"]]),
        ],
        ..Document::default()
    };
    let r = read(&doc);
    assert_eq!(r.get("victim.ethnicity"), None, "{r:#?}");
    assert_eq!(r.get("victim.sexual_orientation"), None, "{r:#?}");
    assert_eq!(r.get("victim.age"), None, "{r:#?}");
    assert_eq!(r.get("perpetrator.age"), None, "a date is not an age: {r:#?}");
    assert!(r.blank.contains("victim.ethnicity") && r.blank.contains("victim.disability"), "{r:#?}");
    for (written, read) in [("17", Some(17)), ("16 yrs", Some(16)), ("34 years old", Some(34)), ("03/07/1991", None), ("about 40", None), ("30s", None), ("1991", None), ("Not known", None), ("", None)] {
        assert_eq!(age(written), read, "{written}");
    }
}

/// The new fields can be given more labels by an admin, like any other field.
#[test]
fn the_data_returns_fields_take_an_admins_synonyms() {
    let doc = Document { blocks: vec![para("Victim details"), table(&[&["Name", "Jane Smith"], &["Heritage", "Gypsy or Irish Traveller"]])], ..Document::default() };
    assert_eq!(read(&doc).get("victim.ethnicity"), None);
    let mut syn = Synonyms::default();
    syn.extend(&Synonyms { sections: BTreeMap::new(), fields: BTreeMap::from([("victim.ethnicity".to_owned(), vec!["victim: heritage".to_owned()])]) });
    assert!(syn.unknown_fields().is_empty());
    assert_eq!(recognise(&[("1", &doc)], &syn, 2025).get("victim.ethnicity"), Some("Gypsy or Irish Traveller"));
}
