use super::*;
use crate::document::ProblemKind::*;
use std::time::Duration;

use crate::readers::archive::tests::zip;

const NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml""#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

/// A DOCX whose body is `body` (WordprocessingML, prefixes w, w14, mc, wps, v bound).
pub(crate) fn docx_with(prolog: &str, body: &str) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}<w:document {NS}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    zip(&[
        ("[Content_Types].xml", b"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
        ("_rels/.rels", RELS.as_bytes()),
        ("word/document.xml", document.as_bytes()),
    ])
}

fn docx(body: &str) -> Vec<u8> {
    docx_with("", body)
}

fn read(bytes: &[u8]) -> Document {
    read_docx(bytes, &Limits::default(), Deadline::after(Duration::from_secs(10), std::time::Instant::now))
}

fn p(text: &str) -> String {
    format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
}

fn tc(inner: &str) -> String {
    format!("<w:tc><w:tcPr><w:tcW w:w=\"4000\" w:type=\"dxa\"/></w:tcPr>{inner}</w:tc>")
}

fn table(rows: &[&[&str]]) -> String {
    let rows: String = rows
        .iter()
        .map(|cells| format!("<w:tr>{}</w:tr>", cells.iter().map(|c| tc(&p(c))).collect::<String>()))
        .collect();
    format!("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/></w:tblPr><w:tblGrid><w:gridCol/></w:tblGrid>{rows}</w:tbl>")
}

fn paragraphs(doc: &Document) -> Vec<&str> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph(p) => Some(p.text.as_str()),
            Block::Table(_) => None,
        })
        .collect()
}

fn tables(doc: &Document) -> Vec<&Table> {
    doc.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Table(t) => Some(t),
            Block::Paragraph(_) => None,
        })
        .collect()
}

fn cells(t: &Table) -> Vec<Vec<&str>> {
    t.rows.iter().map(|r| r.cells.iter().map(String::as_str).collect()).collect()
}

fn kinds(doc: &Document) -> Vec<ProblemKind> {
    doc.problems.iter().map(|p| p.kind).collect()
}

/// A content-control checkbox showing an MS Gothic glyph, as Word 2010+ writes it.
fn sdt_checkbox(val: &str, glyph: &str) -> String {
    format!(
        r#"<w:sdt><w:sdtPr><w:id w:val="1"/><w14:checkbox><w14:checked w14:val="{val}"/><w14:checkedState w14:val="2612" w14:font="MS Gothic"/><w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr><w:t>{glyph}</w:t></w:r></w:sdtContent></w:sdt>"#
    )
}

fn run(text: &str) -> String {
    format!("<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r>")
}

/// A legacy FORMCHECKBOX field with the given `w:checkBox` children.
fn ff_checkbox(inner: &str) -> String {
    format!(
        r#"<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/><w:calcOnExit w:val="0"/><w:checkBox><w:sizeAuto/>{inner}</w:checkBox></w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#
    )
}

fn sym(font: &str, code: &str) -> String {
    format!(r#"<w:r><w:sym w:font="{font}" w:char="{code}"/></w:r>"#)
}

#[test]
fn two_column_label_value_tables_come_out_row_by_row() {
    let body = format!(
        "{}{}{}",
        p("1. Victim details"),
        table(&[&["Name", "Jane Doe"], &["Date of birth", "03/07/1991"], &["Postcode", "ZY2 4QA"]]),
        p("Signed")
    );
    let doc = read(&docx(&body));
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    assert_eq!(paragraphs(&doc), ["1. Victim details", "Signed"]);
    let t = tables(&doc);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].at, "table 1");
    assert_eq!(cells(t[0]), [["Name", "Jane Doe"], ["Date of birth", "03/07/1991"], ["Postcode", "ZY2 4QA"]]);
    assert_eq!(t[0].rows[2].at, "row 3");
    match &doc.blocks[0] {
        Block::Paragraph(p) => assert_eq!(p.at, "paragraph 1"),
        other => panic!("expected a paragraph, got {other:?}"),
    }
    match &doc.blocks[2] {
        Block::Paragraph(p) => assert_eq!(p.at, "paragraph 2"),
        other => panic!("expected a paragraph, got {other:?}"),
    }
}

#[test]
fn dash_table_with_typed_answers() {
    let body = table(&[
        &["No", "Question", "Yes/No/Don't know", "Comments"],
        &["1", "Has the current incident resulted in injury?", "Yes", "Bruising to arms"],
        &["2", "Is the victim very frightened?", "Don't know", ""],
        &["3", "What are you afraid of?", "No", ""],
    ]);
    let doc = read(&docx(&body));
    let t = tables(&doc);
    assert_eq!(
        cells(t[0]),
        [
            ["No", "Question", "Yes/No/Don't know", "Comments"],
            ["1", "Has the current incident resulted in injury?", "Yes", "Bruising to arms"],
            ["2", "Is the victim very frightened?", "Don't know", ""],
            ["3", "What are you afraid of?", "No", ""],
        ]
    );
}

#[test]
fn content_control_checkboxes_give_marks_and_no_repeated_glyph() {
    let body = format!(
        "<w:p>{}{}{}{}{}{}</w:p><w:p>{}{}{}{}</w:p>",
        sdt_checkbox("1", "☒"),
        run(" Yes "),
        sdt_checkbox("0", "☐"),
        run(" No "),
        sdt_checkbox("false", "☐"),
        run(" Don't know"),
        sdt_checkbox("true", "☒"),
        run("Yes"),
        sdt_checkbox("0", "☐"),
        run("No"),
    );
    let doc = read(&docx(&body));
    assert_eq!(paragraphs(&doc), ["☒ Yes ☐ No ☐ Don't know", "☒ Yes ☐ No"]);
}

#[test]
fn content_control_checkbox_without_checked_element_is_unchecked() {
    let body = r#"<w:p><w:sdt><w:sdtPr><w14:checkbox><w14:checkedState w14:val="2612"/></w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:t>☐</w:t></w:r></w:sdtContent></w:sdt><w:r><w:t xml:space="preserve"> Yes</w:t></w:r></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["☐ Yes"]);
}

#[test]
fn content_control_checkbox_in_a_cell_of_a_dash_row() {
    let row = format!(
        "<w:tr>{}{}{}{}</w:tr>",
        tc(&p("5")),
        tc(&p("Are you feeling depressed or having suicidal thoughts?")),
        tc(&format!("<w:p>{}</w:p>", sdt_checkbox("1", "☒"))),
        tc(&format!("<w:p>{}</w:p>", sdt_checkbox("0", "☐"))),
    );
    let doc = read(&docx(&format!("<w:tbl>{row}</w:tbl>")));
    assert_eq!(cells(tables(&doc)[0]), [["5", "Are you feeling depressed or having suicidal thoughts?", "☒", "☐"]]);
}

#[test]
fn legacy_form_checkboxes_checked_overrides_default() {
    let body = format!(
        "<w:p>{}{}</w:p><w:p>{}{}</w:p><w:p>{}{}</w:p><w:p>{}{}</w:p><w:p>{}{}</w:p>",
        // default checked, but w:checked val=0: unchecked
        ff_checkbox(r#"<w:default w:val="1"/><w:checked w:val="0"/>"#),
        run(" A"),
        // bare <w:checked/>: checked
        ff_checkbox(r#"<w:default w:val="0"/><w:checked/>"#),
        run(" B"),
        // only w:default="1": checked
        ff_checkbox(r#"<w:default w:val="1"/>"#),
        run(" C"),
        // w:checked w:val="false": unchecked
        ff_checkbox(r#"<w:checked w:val="false"/>"#),
        run(" D"),
        // nothing said: unchecked
        ff_checkbox(""),
        run(" E"),
    );
    let doc = read(&docx(&body));
    assert_eq!(paragraphs(&doc), ["☐ A", "☒ B", "☒ C", "☐ D", "☐ E"]);
    let all: String = paragraphs(&doc).concat();
    assert!(!all.contains("FORMCHECKBOX"), "field code leaked: {all}");
}

#[test]
fn legacy_checkbox_answers_in_one_line() {
    let body = format!(
        "<w:p>{}{}{}{}{}{}</w:p>",
        ff_checkbox(r#"<w:default w:val="0"/><w:checked/>"#),
        run(" Yes "),
        ff_checkbox(r#"<w:default w:val="0"/>"#),
        run(" No "),
        ff_checkbox(r#"<w:default w:val="1"/><w:checked w:val="0"/>"#),
        run(" Don't know"),
    );
    assert_eq!(paragraphs(&read(&docx(&body))), ["☒ Yes ☐ No ☐ Don't know"]);
}

#[test]
fn wingdings_symbols_become_marks() {
    let body = format!(
        "<w:p>{}{}{}{}{}{}</w:p><w:p>{}{}{}{}{}{}</w:p>",
        sym("Wingdings", "F0FE"),
        run(" Yes "),
        sym("Wingdings", "F0A8"),
        run(" No "),
        sym("Wingdings", "F06F"),
        run(" Don't know"),
        sym("Wingdings", "F078"),
        run("Yes "),
        sym("Wingdings", "F0FD"),
        run("No "),
        sym("MS Gothic", "2610"),
        run("Don't know"),
    );
    let doc = read(&docx(&body));
    assert_eq!(paragraphs(&doc), ["☒ Yes ☐ No ☐ Don't know", "☒ Yes ☒ No ☐ Don't know"]);
}

#[test]
fn wingdings_run_text_becomes_marks() {
    let body = r#"<w:p><w:r><w:rPr><w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr><w:t>&#xFE;</w:t></w:r><w:r><w:t xml:space="preserve"> Yes </w:t></w:r><w:r><w:rPr><w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr><w:t>o</w:t></w:r><w:r><w:t xml:space="preserve"> No ☑ Maybe</w:t></w:r></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["☒ Yes ☐ No ☒ Maybe"]);
}

#[test]
fn formtext_fields_give_their_result_without_the_field_code() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">Victim name: </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Text1"/><w:enabled/><w:textInput><w:default w:val="Type here"/></w:textInput></w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>Jane</w:t></w:r><w:r><w:t xml:space="preserve"> Doe</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p><w:p><w:r><w:t xml:space="preserve">Empty: </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:textInput/></w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>&#x2002;&#x2002;&#x2002;&#x2002;&#x2002;</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#;
    let doc = read(&docx(body));
    assert_eq!(paragraphs(&doc), ["Victim name: Jane Doe", "Empty:"]);
}

#[test]
fn a_field_left_open_does_not_hide_the_rest_of_the_document() {
    let body = format!(
        r#"<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:t>lost</w:t></w:r></w:p>{}"#,
        p("still here")
    );
    assert_eq!(paragraphs(&read(&docx(&body))), ["still here"]);
}

#[test]
fn wingdings_glyph_of_a_checkbox_control_is_not_doubled() {
    let body = r#"<w:p><w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="1"/></w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr><w:t>x</w:t></w:r></w:sdtContent></w:sdt><w:r><w:t xml:space="preserve"> Yes</w:t></w:r></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["☒ Yes"]);
}

#[test]
fn legacy_dropdown_gives_its_selected_entry() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">Gender: </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:ddList><w:result w:val="1"/><w:listEntry w:val="Male"/><w:listEntry w:val="Female"/></w:ddList></w:ffData></w:fldChar></w:r><w:r><w:instrText> FORMDROPDOWN </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["Gender: Female"]);
}

#[test]
fn grid_span_and_vertical_merge_keep_columns_aligned() {
    let body = r#"<w:tbl>
            <w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>C</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>D</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>E</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>F</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>G</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr><w:tc><w:tcPr><w:vMerge w:val="continue"/></w:tcPr><w:p><w:r><w:t>stale</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>H</w:t></w:r></w:p></w:tc></w:tr>
        </w:tbl>"#;
    let doc = read(&docx(body));
    assert_eq!(
        cells(tables(&doc)[0]),
        [vec!["A", "", "B"], vec!["C", "D", "E"], vec!["", "F", "G"], vec!["", "", "H"]]
    );
}

#[test]
fn cell_paragraphs_are_joined_with_newlines() {
    let body = format!(
        "<w:tbl><w:tr>{}{}</w:tr></w:tbl>",
        tc(&p("Address")),
        tc(&format!("{}<w:p/>{}", p("52 Sefton Street"), p("Kingsmere")))
    );
    assert_eq!(cells(tables(&read(&docx(&body)))[0]), [["Address", "52 Sefton Street\nKingsmere"]]);
}

#[test]
fn nested_table_rows_follow_the_row_that_holds_them() {
    let inner = table(&[&["Q1", "Yes"], &["Q2", "No"]]);
    let body = format!(
        "<w:tbl><w:tr>{}{}</w:tr><w:tr>{}{}</w:tr></w:tbl>",
        tc(&p("DASH")),
        tc(&format!("{}{}<w:p/>", p("answers below"), inner)),
        tc(&p("Score")),
        tc(&p("14")),
    );
    let doc = read(&docx(&body));
    let t = tables(&doc);
    assert_eq!(t.len(), 1, "the nested table is not a block of its own");
    assert_eq!(
        cells(t[0]),
        [vec!["DASH", "answers below"], vec!["Q1", "Yes"], vec!["Q2", "No"], vec!["Score", "14"]]
    );
    let at: Vec<&str> = t[0].rows.iter().map(|r| r.at.as_str()).collect();
    assert_eq!(at, ["row 1", "row 1 / row 1", "row 1 / row 2", "row 2"]);
}

#[test]
fn non_ascii_text_survives() {
    let doc = read(&docx(&p("Zoë Ångström – Łódź, 東京 &amp; “quotes” &#x263A;")));
    assert_eq!(paragraphs(&doc), ["Zoë Ångström – Łódź, 東京 & “quotes” ☺"]);
}

#[test]
fn tracked_changes_hidden_text_tabs_and_breaks() {
    let body = r#"<w:p><w:r><w:t>Name:</w:t></w:r><w:r><w:tab/><w:t>Jane</w:t></w:r><w:del w:id="1" w:author="x"><w:r><w:delText>Joan</w:delText></w:r></w:del><w:ins w:id="2" w:author="x"><w:r><w:t xml:space="preserve"> Doe</w:t></w:r></w:ins><w:r><w:rPr><w:vanish/></w:rPr><w:t>secret</w:t></w:r><w:r><w:br/><w:t>line two</w:t></w:r></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["Name:\tJane Doe\nline two"]);
}

#[test]
fn placeholder_text_of_an_empty_content_control_is_not_an_answer() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">Name: </w:t></w:r><w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:r><w:t>Click or tap here to enter text.</w:t></w:r></w:sdtContent></w:sdt></w:p><w:p><w:r><w:t xml:space="preserve">Agency: </w:t></w:r><w:sdt><w:sdtPr><w:alias w:val="agency"/></w:sdtPr><w:sdtContent><w:r><w:t>Police</w:t></w:r></w:sdtContent></w:sdt></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["Name:", "Agency: Police"]);
}

#[test]
fn alternate_content_text_box_is_read_once() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">Anchor </w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>In the box</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>In the box</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"#;
    assert_eq!(paragraphs(&read(&docx(body))), ["In the box", "Anchor"]);
}

#[test]
fn main_part_is_found_through_the_package_relationships() {
    let rels = RELS.replace("word/document.xml", "/word/main.xml");
    let document = format!(r#"<w:document {NS}><w:body>{}</w:body></w:document>"#, p("moved"));
    let bytes = zip(&[("_rels/.rels", rels.as_bytes()), ("word/main.xml", document.as_bytes())]);
    assert_eq!(paragraphs(&read(&bytes)), ["moved"]);
}

#[test]
fn entity_bomb_is_not_expanded() {
    let prolog = r#"<!DOCTYPE w:document [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
<!ENTITY xxe SYSTEM "file:///etc/passwd">
]>"#;
    let body = "<w:p><w:r><w:t>before &lol9; after &xxe; &amp; end</w:t></w:r></w:p>";
    let started = std::time::Instant::now();
    let doc = read(&docx_with(prolog, body));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(paragraphs(&doc), ["before  after  & end"]);
    assert_eq!(kinds(&doc), [Unsupported]);
    assert!(doc.problems[0].detail.contains("left unexpanded: 2"), "{}", doc.problems[0].detail);
}

#[test]
fn deep_nesting_is_a_limit_not_a_stack_overflow() {
    let depth = 100_000;
    let body = format!(
        "{}{}{}",
        "<w:sdt><w:sdtContent>".repeat(depth),
        p("deep"),
        "</w:sdtContent></w:sdt>".repeat(depth)
    );
    let doc = read(&docx(&body));
    assert_eq!(kinds(&doc), [LimitExceeded]);
    assert!(doc.problems[0].detail.contains("deeper than 256"), "{}", doc.problems[0].detail);
    // Shallow nesting within the limit is fine.
    let body =
        format!("{}{}{}", "<w:sdt><w:sdtContent>".repeat(40), p("fine"), "</w:sdtContent></w:sdt>".repeat(40));
    assert_eq!(paragraphs(&read(&docx(&body))), ["fine"]);
}

#[test]
fn expired_deadline_is_a_timeout() {
    let body = p("x").repeat(2_000);
    let doc = read_docx(&docx(&body), &Limits::default(), Deadline::after(Duration::ZERO, std::time::Instant::now));
    assert_eq!(kinds(&doc), [Timeout]);
}

#[test]
fn table_cells_count_against_the_cell_limit() {
    let body = table(&[&["a", "b"], &["c", "d"], &["e", "f"]]);
    let limits = Limits { max_sheet_cells: 4, ..Limits::default() };
    let doc = read_docx(&docx(&body), &limits, Deadline::after(Duration::from_secs(10), std::time::Instant::now));
    assert_eq!(kinds(&doc), [LimitExceeded]);
    assert_eq!(cells(tables(&doc)[0]), [["a", "b"], ["c", "d"]]);
}

#[test]
fn garbage_and_truncated_packages_are_typed_problems() {
    let doc = read(b"this is not a zip file at all, just text");
    assert_eq!(kinds(&doc), [Corrupt]);
    let whole = docx(&p("Name: Jane Doe"));
    let doc = read(&whole[..whole.len() / 2]);
    assert_eq!(doc.blocks, []);
    assert!(matches!(kinds(&doc)[..], [Corrupt] | [Truncated]), "{:?}", doc.problems);
    let doc = read(&[]);
    assert_eq!(doc.problems.len(), 1);
}

#[test]
fn broken_xml_keeps_what_was_read() {
    let document =
        format!(r#"<w:document {NS}><w:body>{}{}<w:p><w:r><w:t>cut he"#, p("first"), table(&[&["Name", "Jane"]]));
    let bytes = zip(&[("_rels/.rels", RELS.as_bytes()), ("word/document.xml", document.as_bytes())]);
    let doc = read(&bytes);
    assert_eq!(kinds(&doc), [Truncated]);
    assert_eq!(paragraphs(&doc), ["first", "cut he"]);
    assert_eq!(cells(tables(&doc)[0]), [["Name", "Jane"]]);
    let document = format!(r#"<w:document {NS}><w:body>{}</w:p></w:body></w:document>"#, p("ok"));
    let bytes = zip(&[("_rels/.rels", RELS.as_bytes()), ("word/document.xml", document.as_bytes())]);
    let doc = read(&bytes);
    assert_eq!(kinds(&doc), [Corrupt]);
    assert_eq!(paragraphs(&doc), ["ok"]);
    assert!(!doc.problems[0].detail.contains("ok"));
}

#[test]
fn a_package_without_a_document_part_is_corrupt() {
    let doc = read(&zip(&[("_rels/.rels", RELS.as_bytes())]));
    assert_eq!(kinds(&doc), [Corrupt]);
}

#[test]
fn an_image_only_document_is_reported_as_scanned() {
    let body = r#"<w:p><w:r><w:drawing><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData><pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"/></a:graphicData></a:graphic></w:drawing></w:r></w:p>"#;
    assert_eq!(kinds(&read(&docx(body))), [Scanned]);
    assert_eq!(kinds(&read(&docx("<w:p/>"))), [Unrecognised]);
}

#[test]
fn content_in_other_parts_or_formats_is_reported() {
    let body = format!(
        r#"{}<w:altChunk r:id="rId9" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/><w:p><w:r><w:object><o:OLEObject xmlns:o="urn:schemas-microsoft-com:office:office" Type="Embed" ProgID="Excel.Sheet.12" ShapeID="_x0000_i1025"/></w:object></w:r></w:p>"#,
        p("See the attached DASH")
    );
    let doc = read(&docx(&body));
    assert_eq!(paragraphs(&doc), ["See the attached DASH"]);
    assert_eq!(kinds(&doc), [Unsupported, Unsupported]);
    assert!(doc.problems[1].detail.contains("Excel.Sheet.12"));
    // An embedded equation or picture is not a document.
    let body = r#"<w:p><w:r><w:t>x</w:t><w:object><o:OLEObject xmlns:o="urn:schemas-microsoft-com:office:office" ProgID="Equation.3"/></w:object></w:r></w:p>"#;
    assert!(read(&docx(body)).problems.is_empty());
}

/// A referral-like document exercising every construct the walker knows.
fn rich_document_xml() -> String {
    let body = format!(
        "{}{}<w:p>{}{}{}{}{}</w:p>{}",
        p("Referral"),
        table(&[&["Name", "Jane"], &["DOB", "03/07/1991"]]),
        sdt_checkbox("1", "☒"),
        run(" Yes "),
        ff_checkbox(r#"<w:default w:val="1"/><w:checked w:val="0"/>"#),
        sym("Wingdings", "F0FE"),
        run(" No"),
        r#"<mc:AlternateContent><mc:Choice Requires="wps"><w:p><w:r><w:t>box</w:t></w:r></w:p></mc:Choice><mc:Fallback><w:p/></mc:Fallback></mc:AlternateContent>"#,
    );
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><w:document {NS}><w:body>{body}</w:body></w:document>"#)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever happens to the XML (cut short, bytes overwritten, markup inserted), the reader
    /// neither panics nor comes back empty-handed.
    #[test]
    fn mangled_document_xml_gives_content_or_a_problem(
        cut in 0usize..2000,
        edits in proptest::collection::vec((0usize..2000, proptest::prelude::any::<u8>()), 0..8),
        insert in proptest::prelude::prop_oneof!["<w:p>", "</w:tc>", "<w:tbl>", "&lol;", "<!--", "]]>", "<w:fldChar w:fldCharType=\"begin\"/>", "\u{0}"],
    ) {
        let mut xml = rich_document_xml().into_bytes();
        for (at, byte) in edits {
            let at = at % xml.len();
            xml[at] = byte;
        }
        let at = cut % xml.len();
        let mut mangled = xml[..at].to_vec();
        mangled.extend_from_slice(insert.as_bytes());
        mangled.extend_from_slice(&xml[at..]);
        let bytes = zip(&[("_rels/.rels", RELS.as_bytes()), ("word/document.xml", &mangled)]);
        let doc = read(&bytes);
        proptest::prop_assert!(!doc.blocks.is_empty() || !doc.problems.is_empty());
    }
}

#[test]
fn finish_text_spaces_marks() {
    assert_eq!(paragraph::finish_text("☒Yes☐No ☐ Don't know "), "☒ Yes ☐ No ☐ Don't know");
    assert_eq!(paragraph::finish_text("Yes☒\t☐"), "Yes ☒\t☐");
    assert_eq!(paragraph::finish_text("☒☐"), "☒ ☐");
}
