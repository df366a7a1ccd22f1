//! Inputs found by fuzzing (`fuzz/`, see BENCHMARKS.md), minimised with `cargo fuzz tmin`, so
//! that each stays harmless.

use marac_intake::document::ProblemKind;
use marac_intake::inspect::{inspect, InspectOptions};
use marac_intake::limits::{Deadline, Limits};
use marac_intake::readers::sheet;
use std::io::{Cursor, Read, Write};

/// Target `message`: a multipart message whose `message/rfc822` part holds a second
/// `message/rfc822` part header and a stray boundary line. mail-parser 0.11.9 reaches
/// `debug_assert!(false, "Invalid part ID, could not find multipart.")`
/// (src/parsers/message.rs:485), which panics only where debug assertions are on (this test
/// build, `cargo fuzz`); a release build skips the check. Either way no panic escapes
/// `mime::parse`, and where the assertion fires the message is reported as `ParserPanic`.
/// (Fictional names; derived from `mailparser-thirdparty-015.eml` in the shared corpus.)
const MAIL_PARSER_PART_ID: &str = concat!(
    "Sent from a@example.test\n",
    "Organization: Example\n",
    "Content-Type: multipart/mixed;\n",
    " boundary=\"=_2d98f6c3ddf4b54299ae2604b2717254\"\n",
    "Envelope-TR4XeI2/NAJzKHZedan den Defaults.\n",
    "\n",
    "Regards\n",
    "\n",
    "--\n",
    "A Person\n",
    "Inha\n",
    "--=_2d98f6c3ddf4b54299ae2604b2717254\n",
    "Content-Transfer-Encoding: 8bit\n",
    "Content-Type: message/rfc822;\n",
    " name=training-mail.txt\n",
    "Content-Disposition: attachment;\n",
    " filename=training-mail.txt;\n",
    " size=2231\n",
    "\n",
    "Delived: from exampleontent-Transfer-Encoding: 8bit\n",
    "Content-Type: message/rfc822;\n",
    " name=of.txt;\n",
    " size=2429\n",
    "\n",
    "Delivered-To: user@example.test\n",
    "X-Spam-Status: No\n",
    "Receir its\r\n",
    "attachments, if any.  Thank you.\r\n",
    "\r\n",
    "--=Response-Stipart/alternative;\n",
    "boundary=\"b1UedpiSJ22k9KJibNOeWYnUU0lAAdQj81VXUNhh4Q\"\n",
    "Content-Transfer-Encoding: 8bit\n",
    "--=_2d98f6c3ddf4b54299ae2604b2717254--\n",
);

#[test]
fn mail_parser_part_id_assertion_is_contained() {
    let raw = MAIL_PARSER_PART_ID.as_bytes();
    let email = marac_intake::mime::parse(raw, &Limits::default());
    let inspection = inspect(raw, &InspectOptions::with_clock(std::time::Instant::now));
    if cfg!(debug_assertions) {
        assert!(email.problems.iter().any(|p| p.kind == ProblemKind::ParserPanic), "{:?}", email.problems);
        assert!(inspection.problems.iter().any(|p| p.place == marac_intake::inspect::Place::Message && p.problem.kind == ProblemKind::ParserPanic));
        assert!(inspection.has_blocking_problem(), "a person must read it");
    }
}

/// Target `sheet`: calamine 0.38.0 reads cell references and the sheet dimension with unchecked
/// `u32` arithmetic in src/xlsx/mod.rs: a row number (`row * 10 + digit`, line 3112, first hit
/// on an unmodified corpus file,
/// `sheets/poi-clusterfuzz-testcase-minimized-POIXSSFFuzzer-5937385319563264.xlsx`), a column
/// (`col * 26 + letter`, lines 3096-3097) and a dimension whose end is before its start
/// (`end - start`, line 3048). Each panics where overflow checks are on (this test build,
/// `cargo fuzz`) and wraps in a release build; `readers::sheet` contains the panic. Here each in
/// a workbook built for the test.
#[test]
fn calamine_cell_reference_overflows_are_contained() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "Yes").unwrap();
    let base = wb.save_to_buffer().unwrap();
    for (case, sheet_data) in [
        ("row number", r#"<sheetData><row r="99999999999"><c t="inlineStr"><is><t>Yes</t></is></c></row></sheetData>"#),
        ("column", r#"<sheetData><row r="1"><c r="ZZZZZZZZZZ1" t="inlineStr"><is><t>Yes</t></is></c></row></sheetData>"#),
        ("dimension", r#"<dimension ref="B2:A1"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Yes</t></is></c></row></sheetData>"#),
    ] {
        let worksheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet_data}</worksheet>"#
        );
        let bytes = with_entry(&base, "xl/worksheets/sheet1.xml", worksheet.as_bytes());
        let limits = Limits::default();
        let doc = sheet::read_xlsx(&bytes, &limits, Deadline::after(limits.time_per_attachment(), std::time::Instant::now));
        if cfg!(debug_assertions) {
            assert!(doc.problems.iter().any(|p| p.kind == ProblemKind::ParserPanic), "{case}: {:?}", doc.problems);
        }
    }
}

/// Rewrites one entry of a zip, keeping the others.
fn with_entry(zip_bytes: &[u8], name: &str, content: &[u8]) -> Vec<u8> {
    let mut input = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..input.len() {
        let mut f = input.by_index(i).unwrap();
        let entry = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.start_file(entry.as_str(), options).unwrap();
        out.write_all(if entry == name { content } else { &data }).unwrap();
    }
    out.finish().unwrap().into_inner()
}
