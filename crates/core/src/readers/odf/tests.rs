use super::*;
use crate::document::ProblemKind::*;
use crate::readers::archive::tests::zip;
use std::time::Duration;

const NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:form="urn:oasis:names:tc:opendocument:xmlns:form:1.0" xmlns:xml="http://www.w3.org/XML/1998/namespace" office:version="1.2""#;

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

fn package(mime: &str, manifest: &str, body: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}><office:body>{body}</office:body></office:document-content>"#
    );
    zip(&[
        ("mimetype", mime.as_bytes()),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

fn odt(text: &str) -> Vec<u8> {
    package("application/vnd.oasis.opendocument.text", MANIFEST, &format!("<office:text>{text}</office:text>"))
}

fn ods(sheets: &str) -> Vec<u8> {
    package(
        "application/vnd.oasis.opendocument.spreadsheet",
        MANIFEST,
        &format!("<office:spreadsheet>{sheets}</office:spreadsheet>"),
    )
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(10), std::time::Instant::now)
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

fn row_at(t: &Table) -> Vec<&str> {
    t.rows.iter().map(|r| r.at.as_str()).collect()
}

fn kinds(doc: &Document) -> Vec<ProblemKind> {
    doc.problems.iter().map(|p| p.kind).collect()
}

fn cell(text: &str) -> String {
    format!("<table:table-cell office:value-type=\"string\"><text:p>{text}</text:p></table:table-cell>")
}

#[test]
fn odt_paragraphs_tables_and_merged_cells() {
    let body = format!(
        r#"<text:h text:outline-level="1">MARAC   referral</text:h>
            <text:p>Victim<text:s text:c="2"/>details<text:tab/>(confidential)<text:line-break/>second line</text:p>
            <text:list><text:list-item><text:p>listed</text:p></text:list-item></text:list>
            <table:table table:name="Table1"><table:table-column table:number-columns-repeated="3"/>
              <table:table-row>{}{}{}</table:table-row>
              <table:table-row><table:table-cell table:number-columns-spanned="2"><text:p>Address</text:p></table:table-cell><table:covered-table-cell/>{}</table:table-row>
              <table:table-row>{}<table:table-cell><text:p>line 1</text:p><text:p>line 2</text:p></table:table-cell></table:table-row>
            </table:table>
            <text:p>Footnote<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>not here</text:p></text:note-body></text:note> done</text:p>"#,
        cell("Name"),
        cell("Zoë Ångström"),
        cell("東京"),
        cell("52 Sefton Street"),
        cell(""),
    );
    let doc = read_odt(&odt(&body), &Limits::default(), deadline());
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    assert_eq!(
        paragraphs(&doc),
        ["MARAC referral", "Victim  details\t(confidential)\nsecond line", "listed", "Footnote done"]
    );
    let t = tables(&doc);
    assert_eq!(t[0].at, "table 1");
    assert_eq!(
        cells(t[0]),
        [vec!["Name", "Zoë Ångström", "東京"], vec!["Address", "", "52 Sefton Street"], vec!["", "line 1\nline 2"]]
    );
    match &doc.blocks[4] {
        Block::Paragraph(p) => assert_eq!(p.at, "paragraph 4"),
        other => panic!("expected the paragraph after the table, got {other:?}"),
    }
}

#[test]
fn a_value_left_blank_is_kept_and_a_merged_heading_is_one_cell() {
    let rows = format!(
        r#"<table:table-row><table:table-cell table:number-columns-spanned="2"><text:p>Referral criteria</text:p></table:table-cell><table:covered-table-cell/></table:table-row>
              <table:table-row>{}<table:table-cell/></table:table-row>
              <table:table-row>{}{}<table:table-cell table:number-columns-repeated="3"/></table:table-row>"#,
        cell("Criteria met"),
        cell("DASH score"),
        cell("13"),
    );
    let text = read_odt(&odt(&format!(r#"<table:table table:name="T">{rows}</table:table>"#)), &Limits::default(), deadline());
    assert_eq!(cells(tables(&text)[0]), [vec!["Referral criteria"], vec!["Criteria met", ""], vec!["DASH score", "13"]]);
    let sheet = read_ods(&ods(&format!(r#"<table:table table:name="S">{rows}</table:table>"#)), &Limits::default(), deadline());
    assert_eq!(cells(tables(&sheet)[0]), [vec!["Referral criteria"], vec!["Criteria met"], vec!["DASH score", "13"]]);
}

#[test]
fn odt_form_checkboxes_and_typed_glyphs() {
    let body = r#"<office:forms><form:form form:name="Standard">
              <form:checkbox form:name="yes" xml:id="control1" form:id="control1" form:label="Yes" form:current-state="checked"/>
              <form:checkbox form:name="no" xml:id="control2" form:id="control2" form:label="No"/>
              <form:radio form:name="dk" xml:id="control3" form:label="Don't know" form:current-selected="false"/>
              <form:text form:name="name" xml:id="control4" form:current-value="Jane Doe"/>
              <form:listbox form:name="agency" xml:id="control5"><form:option form:label="Police"/><form:option form:label="Housing" form:current-selected="true"/></form:listbox>
              <form:text form:name="empty" xml:id="control6"/>
            </form:form></office:forms>
            <text:p>Name: <draw:control draw:control="control4"/></text:p>
            <text:p>Agency: <draw:control draw:control="control5"/><draw:control draw:control="control6"/></text:p>
            <text:p>Q1 <draw:control draw:control="control1"/><draw:control draw:control="control2"/><draw:control draw:control="control3"/></text:p>
            <text:p>☒ Yes ☐ No ☑ Don't know</text:p>"#;
    let doc = read_odt(&odt(body), &Limits::default(), deadline());
    assert_eq!(
        paragraphs(&doc),
        ["Name: Jane Doe", "Agency: Housing", "Q1 ☒ Yes ☐ No ☐ Don't know", "☒ Yes ☐ No ☒ Don't know"]
    );
}

#[test]
fn ods_sheets_with_real_row_numbers_and_repeats() {
    let sheet = format!(
        r#"<table:table table:name="DASH">
              <table:table-column table:number-columns-repeated="16384"/>
              <table:table-row>{}{}{}</table:table-row>
              <table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
              <table:table-row><table:table-cell table:number-columns-repeated="3"/>{}<table:table-cell table:number-columns-repeated="10000"/></table:table-row>
              <table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="2"><text:p>X</text:p></table:table-cell></table:table-row>
              <table:table-row><table:table-cell office:value-type="float" office:value="14"/><table:table-cell office:value-type="date" office:date-value="1991-07-03"/><table:covered-table-cell/><table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell></table:table-row>
              <table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
            </table:table>
            <table:table table:name="Empty"><table:table-row><table:table-cell/></table:table-row></table:table>"#,
        cell("No"),
        cell("Question"),
        cell("Answer"),
        cell("far"),
    );
    let doc = read_ods(&ods(&sheet), &Limits::default(), deadline());
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    let t = tables(&doc);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].at, "sheet 'DASH'");
    assert_eq!(
        cells(t[0]),
        [
            vec!["No", "Question", "Answer"],
            vec!["", "", "", "far"],
            vec!["X", "X"],
            vec!["X", "X"],
            vec!["14", "1991-07-03", "", "TRUE"],
        ]
    );
    assert_eq!(row_at(t[0]), ["row 1", "row 1000002", "row 1000003", "row 1000004", "row 1000005"]);
    assert_eq!(t[1].at, "sheet 'Empty'");
    assert!(t[1].rows.is_empty());
}

#[test]
fn ods_huge_repeats_of_content_are_capped_and_reported() {
    // calamine issue 594: one non-empty cell repeated a billion times in a billion rows.
    let sheet = r#"<table:table table:name="Sheet1"><table:table-row table:number-rows-repeated="999999999"><table:table-cell table:number-columns-repeated="999999999" office:value-type="string"><text:p>X</text:p></table:table-cell></table:table-row></table:table>"#;
    let started = std::time::Instant::now();
    let doc = read_ods(&ods(sheet), &Limits::default(), deadline());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(kinds(&doc).contains(&LimitExceeded), "{:?}", doc.problems);
    let total: usize = tables(&doc).iter().flat_map(|t| &t.rows).map(|r| r.cells.len()).sum();
    assert!(total <= Limits::default().max_sheet_cells, "{total} cells materialised");
    // With a higher cell limit, the repeat cap is what stops it.
    let limits = Limits { max_sheet_cells: usize::MAX, ..Limits::default() };
    let doc = read_ods(&ods(sheet), &limits, deadline());
    assert_eq!(kinds(&doc), [LimitExceeded]);
    let t = tables(&doc);
    assert_eq!(t[0].rows.len() as u64, MAX_REPEAT);
    assert_eq!(t[0].rows[0].cells.len() as u64, MAX_REPEAT);
}

#[test]
fn ods_repeats_of_long_text_are_bounded_by_bytes() {
    // 64 KiB of text repeated 1024 × 1024 times would be 64 GiB.
    let long = "A".repeat(64 * 1024);
    let sheet = format!(
        r#"<table:table table:name="S"><table:table-row table:number-rows-repeated="1024"><table:table-cell table:number-columns-repeated="1024"><text:p>{long}</text:p></table:table-cell></table:table-row></table:table>"#
    );
    let doc = read_ods(&ods(&sheet), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), [LimitExceeded]);
    assert!(doc.problems[0].detail.contains("bytes"), "{}", doc.problems[0].detail);
    let bytes: usize = tables(&doc).iter().flat_map(|t| &t.rows).flat_map(|r| &r.cells).map(String::len).sum();
    assert!(bytes as u64 <= Limits::default().max_decompressed_bytes);
}

#[test]
fn ods_cell_limit_is_a_problem() {
    let sheet = format!("<table:table table:name=\"S\"><table:table-row>{}{}</table:table-row><table:table-row>{}{}</table:table-row></table:table>", cell("a"), cell("b"), cell("c"), cell("d"));
    let limits = Limits { max_sheet_cells: 3, ..Limits::default() };
    let doc = read_ods(&ods(&sheet), &limits, deadline());
    assert_eq!(kinds(&doc), [LimitExceeded]);
    assert_eq!(cells(tables(&doc)[0]), [vec!["a", "b"], vec!["c"]]);
}

#[test]
fn encrypted_package_is_reported() {
    let manifest = r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="1234"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/><manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:iteration-count="1024" manifest:salt="x"/></manifest:encryption-data></manifest:file-entry></manifest:manifest>"#;
    let bytes = package("application/vnd.oasis.opendocument.text", manifest, "<office:text/>");
    assert_eq!(kinds(&read_odt(&bytes, &Limits::default(), deadline())), [Encrypted]);
    assert_eq!(kinds(&read_ods(&bytes, &Limits::default(), deadline())), [Encrypted]);
}

#[test]
fn another_kind_of_opendocument_is_unsupported() {
    let bytes = package("application/vnd.oasis.opendocument.presentation", MANIFEST, "<office:presentation/>");
    let doc = read_odt(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), [Unsupported]);
    assert!(doc.problems[0].detail.contains("presentation"));
    let doc = read_ods(&odt("<text:p>x</text:p>"), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), [Unsupported]);
}

#[test]
fn broken_packages_are_typed_problems() {
    let doc = read_odt(b"PK\x03\x04 not really a zip", &Limits::default(), deadline());
    assert_eq!(doc.problems.len(), 1);
    assert!(matches!(doc.problems[0].kind, Corrupt | Truncated), "{:?}", doc.problems);
    let no_content = zip(&[("mimetype", b"application/vnd.oasis.opendocument.text")]);
    assert_eq!(kinds(&read_odt(&no_content, &Limits::default(), deadline())), [Corrupt]);
    let whole = odt("<text:p>Name: Jane</text:p>");
    let doc = read_odt(&whole[..whole.len() - 30], &Limits::default(), deadline());
    assert!(doc.blocks.is_empty());
    assert_eq!(doc.problems.len(), 1);
}

#[test]
fn odt_entity_bomb_is_not_expanded() {
    let content = format!(
        r#"<?xml version="1.0"?><!DOCTYPE office:document-content [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><office:document-content {NS}><office:body><office:text><text:p>x&c;y</text:p></office:text></office:body></office:document-content>"#
    );
    let bytes =
        zip(&[("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", content.as_bytes())]);
    let doc = read_odt(&bytes, &Limits::default(), deadline());
    assert_eq!(paragraphs(&doc), ["xy"]);
    assert_eq!(kinds(&doc), [Unsupported]);
}

#[test]
fn nested_odt_table_rows_follow_their_row() {
    let body = format!(
        r#"<table:table><table:table-row>{}<table:table-cell><table:table><table:table-row>{}{}</table:table-row></table:table></table:table-cell></table:table-row><table:table-row>{}</table:table-row></table:table>"#,
        cell("outer"),
        cell("in1"),
        cell("in2"),
        cell("last"),
    );
    let doc = read_odt(&odt(&body), &Limits::default(), deadline());
    let t = tables(&doc);
    assert_eq!(t.len(), 1);
    // The cell that holds the nested table has no text of its own: an empty cell.
    assert_eq!(cells(t[0]), [vec!["outer", ""], vec!["in1", "in2"], vec!["last"]]);
    assert_eq!(row_at(t[0]), ["row 1", "row 1 / row 1", "row 2"]);
}

#[test]
fn ods_header_rows_and_row_groups_are_rows() {
    let sheet = format!(
        r#"<table:table table:name="DASH"><table:table-header-rows><table:table-row>{}{}</table:table-row></table:table-header-rows><table:table-row-group><table:table-row>{}{}</table:table-row></table:table-row-group></table:table>"#,
        cell("Question"),
        cell("Answer"),
        cell("Injury?"),
        cell("Yes"),
    );
    let doc = read_ods(&ods(&sheet), &Limits::default(), deadline());
    let t = tables(&doc);
    assert_eq!(cells(t[0]), [["Question", "Answer"], ["Injury?", "Yes"]]);
    assert_eq!(row_at(t[0]), ["row 1", "row 2"]);
}

#[test]
fn expired_deadline_is_a_timeout() {
    let rows = format!("<table:table-row>{}</table:table-row>", cell("x")).repeat(2_000);
    let doc = read_ods(
        &ods(&format!("<table:table table:name=\"S\">{rows}</table:table>")),
        &Limits::default(),
        Deadline::after(Duration::ZERO, std::time::Instant::now),
    );
    assert_eq!(kinds(&doc), [Timeout]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever happens to content.xml, the reader neither panics nor comes back empty-handed.
    #[test]
    fn mangled_content_gives_content_or_a_problem(
        cut in 0usize..3000,
        edits in proptest::collection::vec((0usize..3000, proptest::prelude::any::<u8>()), 0..8),
        insert in proptest::prelude::prop_oneof!["<text:p>", "</table:table-row>", "<table:table>", "&x;", "<!--", "\u{0}", r#"<table:table-row table:number-rows-repeated="99999999">"#],
        spreadsheet in proptest::prelude::any::<bool>(),
    ) {
        let body = format!(
            r#"<office:forms><form:form><form:checkbox xml:id="c1" form:label="Yes" form:current-state="checked"/></form:form></office:forms><text:p>Name <draw:control draw:control="c1"/></text:p><table:table table:name="S"><table:table-row table:number-rows-repeated="3">{}<table:covered-table-cell/>{}</table:table-row></table:table>"#,
            cell("Q1"),
            cell("Yes"),
        );
        let content = format!(r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}><office:body><office:text>{body}</office:text></office:body></office:document-content>"#);
        let mut xml = content.into_bytes();
        for (at, byte) in edits {
            let at = at % xml.len();
            xml[at] = byte;
        }
        let at = cut % xml.len();
        let mut mangled = xml[..at].to_vec();
        mangled.extend_from_slice(insert.as_bytes());
        mangled.extend_from_slice(&xml[at..]);
        let bytes = zip(&[("content.xml", &mangled)]);
        let doc = if spreadsheet {
            read_ods(&bytes, &Limits::default(), deadline())
        } else {
            read_odt(&bytes, &Limits::default(), deadline())
        };
        proptest::prop_assert!(!doc.blocks.is_empty() || !doc.problems.is_empty());
    }
}

#[test]
fn deep_nesting_is_a_limit() {
    let body = format!("{}x{}", "<text:span>".repeat(10_000), "</text:span>".repeat(10_000));
    let doc = read_odt(&odt(&format!("<text:p>{body}</text:p>")), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), [LimitExceeded]);
}
