use super::*;
use rust_xlsxwriter::{ExcelDateTime as WriterDate, Format, Workbook};
use std::io::{Read, Write};
use std::time::Duration;

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(10), std::time::Instant::now)
}

fn xlsx(build: impl FnOnce(&mut Workbook)) -> Vec<u8> {
    let mut workbook = Workbook::new();
    build(&mut workbook);
    workbook.save_to_buffer().expect("test workbook")
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

/// Rows of one table as (at, cells), for comparisons that show positions.
fn rows(table: &Table) -> Vec<(&str, Vec<&str>)> {
    table.rows.iter().map(|r| (r.at.as_str(), r.cells.iter().map(String::as_str).collect())).collect()
}

fn kinds(doc: &Document) -> Vec<ProblemKind> {
    doc.problems.iter().map(|p| p.kind).collect()
}

const DASH_QUESTIONS: [&str; 3] = [
    "Has the current incident resulted in injury?",
    "Are you very frightened?",
    "What are you afraid of? Is it further injury or violence?",
];

#[test]
fn dash_behind_a_cover_sheet_is_read_in_workbook_order() {
    let bytes = xlsx(|wb| {
        let cover = wb.add_worksheet().set_name("Cover").unwrap();
        cover.write_string(0, 0, "MARAC referral: read the guidance first").unwrap();
        let dash = wb.add_worksheet().set_name("DASH").unwrap();
        dash.write_string(0, 0, "No").unwrap();
        dash.write_string(0, 1, "Question").unwrap();
        dash.write_string(1, 0, "1").unwrap();
        dash.write_string(1, 1, DASH_QUESTIONS[0]).unwrap();
        dash.write_string(1, 2, "Yes").unwrap();
        wb.add_worksheet().set_name("Notes").unwrap();
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(doc.problems, vec![]);
    let t = tables(&doc);
    let at: Vec<&str> = t.iter().map(|t| t.at.as_str()).collect();
    assert_eq!(at, ["sheet 'Cover'", "sheet 'DASH'", "sheet 'Notes'"]);
    assert_eq!(rows(t[0]), vec![("row 1", vec!["MARAC referral: read the guidance first"])]);
    assert_eq!(rows(t[1]), vec![("row 1", vec!["No", "Question"]), ("row 2", vec!["1", DASH_QUESTIONS[0], "Yes"])]);
    assert!(t[2].rows.is_empty());
}

#[test]
fn answer_column_layout_keeps_positions_and_skips_empty_rows() {
    let bytes = xlsx(|wb| {
        let ws = wb.add_worksheet().set_name("DASH RIC").unwrap();
        for (col, h) in ["No", "Question", "Answer", "Comments"].iter().enumerate() {
            ws.write_string(0, col as u16, *h).unwrap();
        }
        // Row 2 left empty on purpose; answers start on row 3.
        for (i, q) in DASH_QUESTIONS.iter().enumerate() {
            let row = 2 + i as u32;
            ws.write_number(row, 0, (i + 1) as f64).unwrap();
            ws.write_string(row, 1, *q).unwrap();
        }
        ws.write_string(2, 2, "Yes").unwrap();
        ws.write_string(2, 3, "bruising to left arm").unwrap();
        ws.write_string(3, 2, "No").unwrap();
        // Question 3 unanswered but commented: the answer cell stays an empty string.
        ws.write_string(4, 3, "further violence").unwrap();
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(doc.problems, vec![]);
    assert_eq!(
        rows(tables(&doc)[0]),
        vec![
            ("row 1", vec!["No", "Question", "Answer", "Comments"]),
            ("row 3", vec!["1", DASH_QUESTIONS[0], "Yes", "bruising to left arm"]),
            ("row 4", vec!["2", DASH_QUESTIONS[1], "No"]),
            ("row 5", vec!["3", DASH_QUESTIONS[2], "", "further violence"]),
        ]
    );
}

#[test]
fn marks_under_yes_no_dont_know_columns_stay_as_typed() {
    let bytes = xlsx(|wb| {
        let ws = wb.add_worksheet();
        for (col, h) in ["No", "Question", "Yes", "No", "Don't know", "Comments"].iter().enumerate() {
            ws.write_string(0, col as u16, *h).unwrap();
        }
        let marks = [(2, "X"), (3, "✓"), (4, "✔"), (2, "☒"), (3, "ticked")];
        for (i, (col, mark)) in marks.iter().enumerate() {
            let row = 1 + i as u32;
            ws.write_number(row, 0, (i + 1) as f64).unwrap();
            ws.write_string(row, 1, format!("question {}", i + 1)).unwrap();
            ws.write_string(row, *col, *mark).unwrap();
        }
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(
        rows(tables(&doc)[0]),
        vec![
            ("row 1", vec!["No", "Question", "Yes", "No", "Don't know", "Comments"]),
            ("row 2", vec!["1", "question 1", "X"]),
            ("row 3", vec!["2", "question 2", "", "✓"]),
            ("row 4", vec!["3", "question 3", "", "", "✔"]),
            ("row 5", vec!["4", "question 4", "☒"]),
            ("row 6", vec!["5", "question 5", "", "ticked"]),
        ]
    );
}

#[test]
fn merged_question_text_stays_in_its_first_cell() {
    let bytes = xlsx(|wb| {
        let ws = wb.add_worksheet();
        let plain = Format::new();
        ws.write_string(0, 0, "No").unwrap();
        ws.merge_range(0, 1, 0, 2, "Question", &plain).unwrap();
        ws.write_string(0, 3, "Answer").unwrap();
        ws.write_number(1, 0, 1.0).unwrap();
        ws.merge_range(1, 1, 1, 2, DASH_QUESTIONS[0], &plain).unwrap();
        ws.write_string(1, 3, "Yes").unwrap();
        // A section title merged over two rows and four columns.
        ws.merge_range(3, 0, 4, 3, "Section 2", &plain).unwrap();
        ws.write_string(5, 0, "after").unwrap();
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(doc.problems, vec![]);
    assert_eq!(
        rows(tables(&doc)[0]),
        vec![
            ("row 1", vec!["No", "Question", "", "Answer"]),
            ("row 2", vec!["1", DASH_QUESTIONS[0], "", "Yes"]),
            ("row 4", vec!["Section 2"]),
            ("row 6", vec!["after"]),
        ]
    );
}

#[test]
fn a_covered_cell_never_duplicates_and_fills_an_empty_anchor() {
    let cell = |col: u32, text: &str| (col, text.to_string());
    let mut rows = BTreeMap::new();
    rows.insert(0, vec![cell(0, "1"), cell(1, "question"), cell(2, "stray copy"), cell(3, "Yes")]);
    rows.insert(1, vec![cell(2, "moved text")]);
    apply_merge(&mut rows, &Dimensions { start: (0, 1), end: (0, 2) });
    // Anchor empty (B2), text only in a covered cell (C2): it moves to the anchor.
    apply_merge(&mut rows, &Dimensions { start: (1, 1), end: (1, 2) });
    assert_eq!(rows[&0], vec![cell(0, "1"), cell(1, "question"), cell(3, "Yes")]);
    assert_eq!(rows[&1], vec![cell(1, "moved text")]);
}

#[test]
fn numbers_dates_booleans_and_whitespace() {
    let bytes = xlsx(|wb| {
        let ws = wb.add_worksheet();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let stamp = Format::new().set_num_format("dd/mm/yyyy hh:mm");
        let time = Format::new().set_num_format("hh:mm");
        ws.write_number(0, 0, 14.0).unwrap();
        ws.write_number(0, 1, 2.5).unwrap();
        ws.write_number(0, 2, -3.0).unwrap();
        ws.write_number(0, 3, 0.1).unwrap();
        ws.write_number(0, 4, 123456789.0).unwrap();
        ws.write_datetime_with_format(1, 0, WriterDate::from_ymd(1991, 7, 3).unwrap(), &date).unwrap();
        let at = WriterDate::from_ymd(2024, 3, 5).unwrap().and_hms(14, 30, 0).unwrap();
        ws.write_datetime_with_format(1, 1, at, &stamp).unwrap();
        let midnight = WriterDate::from_ymd(2024, 2, 29).unwrap().and_hms(0, 0, 0).unwrap();
        ws.write_datetime_with_format(1, 2, midnight, &stamp).unwrap();
        ws.write_datetime_with_format(1, 3, WriterDate::from_hms(9, 5, 0).unwrap(), &time).unwrap();
        ws.write_boolean(2, 0, true).unwrap();
        ws.write_boolean(2, 1, false).unwrap();
        ws.write_string(2, 2, "Yes   \t").unwrap();
        ws.write_string(2, 3, "  indented").unwrap();
        ws.write_string(2, 4, "   ").unwrap();
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(doc.problems, vec![]);
    assert_eq!(
        rows(tables(&doc)[0]),
        vec![
            ("row 1", vec!["14", "2.5", "-3", "0.1", "123456789"]),
            ("row 2", vec!["1991-07-03", "2024-03-05T14:30:00", "2024-02-29", "09:05:00"]),
            ("row 3", vec!["TRUE", "FALSE", "Yes", "  indented"]),
        ]
    );
}

#[test]
fn display_of_values_the_writer_cannot_make() {
    assert_eq!(data_text(&Data::Error(CellErrorType::Div0)).as_deref(), Some("#DIV/0!"));
    assert_eq!(data_text(&Data::Error(CellErrorType::NA)).as_deref(), Some("#N/A"));
    assert_eq!(data_text(&Data::Int(7)).as_deref(), Some("7"));
    assert_eq!(data_text(&Data::Float(1e20)).as_deref(), Some("100000000000000000000"));
    assert_eq!(data_text(&Data::Float(0.30000000000000004)).as_deref(), Some("0.30000000000000004"));
    assert_eq!(data_text(&Data::DateTimeIso("1991-07-03T00:00:00".into())).as_deref(), Some("1991-07-03"));
    assert_eq!(data_text(&Data::DateTimeIso("1991-07-03T10:15:00".into())).as_deref(), Some("1991-07-03T10:15:00"));
    let span = ExcelDateTime::new(1.5, calamine::ExcelDateTimeType::TimeDelta, false);
    assert_eq!(data_text(&Data::DateTime(span)).as_deref(), Some("36:00:00"));
    assert_eq!(data_text(&Data::Empty), None);
}

#[test]
fn non_ascii_text_is_kept_exactly() {
    let texts = ["Zoë Ní Bhriain", "Don’t know", "Łódź – ul. Żeromskiego", "جميلة", "名前", "😀 emoji"];
    let bytes = xlsx(|wb| {
        let ws = wb.add_worksheet().set_name("Référé").unwrap();
        for (i, t) in texts.iter().enumerate() {
            ws.write_string(0, i as u16, *t).unwrap();
        }
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    let t = tables(&doc);
    assert_eq!(t[0].at, "sheet 'Référé'");
    assert_eq!(rows(t[0]), vec![("row 1", texts.to_vec())]);
}

#[test]
fn garbage_is_a_typed_problem_not_a_panic() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for doc in [
        read_xlsx(&garbage, &Limits::default(), deadline()),
        read_xls(&garbage, &Limits::default(), deadline()),
        read_xlsx(&[], &Limits::default(), deadline()),
        read_xls(&[], &Limits::default(), deadline()),
    ] {
        assert!(doc.blocks.is_empty());
        assert_eq!(kinds(&doc), vec![ProblemKind::Corrupt], "{doc:?}");
    }
}

#[test]
fn truncated_xlsx_is_reported_as_truncated() {
    let bytes = xlsx(|wb| {
        wb.add_worksheet().write_string(0, 0, "Yes").unwrap();
    });
    for cut in [bytes.len() / 2, bytes.len() - 30, 100] {
        let doc = read_xlsx(&bytes[..cut], &Limits::default(), deadline());
        assert!(doc.blocks.is_empty());
        assert_eq!(kinds(&doc), vec![ProblemKind::Truncated], "cut at {cut}: {doc:?}");
    }
}

#[test]
fn cell_limit_stops_reading_and_keeps_what_was_read() {
    let bytes = xlsx(|wb| {
        let first = wb.add_worksheet();
        for row in 0..10 {
            first.write_string(row, 0, "a").unwrap();
            first.write_string(row, 1, "b").unwrap();
        }
        wb.add_worksheet().write_string(0, 0, "never reached").unwrap();
    });
    let limits = Limits { max_sheet_cells: 7, ..Limits::default() };
    let doc = read_xlsx(&bytes, &limits, deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::LimitExceeded]);
    let t = tables(&doc);
    assert_eq!(t.len(), 1);
    let cells: usize = t[0].rows.iter().map(|r| r.cells.len()).sum();
    assert_eq!(cells, 7);
}

#[test]
fn far_right_cells_are_dropped_with_a_problem() {
    let bytes = xlsx(|wb| {
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "kept").unwrap();
        ws.write_string(0, 16_383, "column XFD").unwrap();
        ws.write_string(1, 300, "column KO").unwrap();
    });
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::LimitExceeded]);
    assert_eq!(rows(tables(&doc)[0]), vec![("row 1", vec!["kept"])]);
}

#[test]
fn expired_deadline_is_a_timeout() {
    let bytes = xlsx(|wb| {
        wb.add_worksheet().write_string(0, 0, "x").unwrap();
    });
    let doc = read_xlsx(&bytes, &Limits::default(), Deadline::after(Duration::ZERO, std::time::Instant::now));
    assert_eq!(kinds(&doc), vec![ProblemKind::Timeout]);
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

#[test]
fn shared_string_count_is_checked_before_calamine_reserves_it() {
    let bytes = xlsx(|wb| {
        wb.add_worksheet().write_string(0, 0, "Yes").unwrap();
    });
    let sst = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="999999999999"><si><t>Yes</t></si></sst>"#;
    let doc = read_xlsx(&with_entry(&bytes, "xl/sharedStrings.xml", sst), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::LimitExceeded], "{doc:?}");
    // An honest count reads as usual.
    let honest = String::from_utf8_lossy(sst).replace("999999999999", "1");
    let doc =
        read_xlsx(&with_entry(&bytes, "xl/sharedStrings.xml", honest.as_bytes()), &Limits::default(), deadline());
    assert_eq!(rows(tables(&doc)[0]), vec![("row 1", vec!["Yes"])]);
}

#[test]
fn a_flood_of_empty_styles_is_refused() {
    let bytes = xlsx(|wb| {
        wb.add_worksheet().write_string(0, 0, "Yes").unwrap();
    });
    let mut styles = String::from(
        r#"<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>"#,
    );
    styles.push_str(&"<xf/>".repeat(250_000));
    styles.push_str("</cellXfs></styleSheet>");
    let doc = read_xlsx(&with_entry(&bytes, "xl/styles.xml", styles.as_bytes()), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::LimitExceeded], "{doc:?}");
}

// ---- XLS: BIFF8 records in a compound file, built by hand -----------------------------

fn record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend((data.len() as u16).to_le_bytes());
    r.extend(data);
    r
}

fn bof(kind: u16) -> Vec<u8> {
    let mut d = vec![0x00, 0x06];
    d.extend(kind.to_le_bytes());
    d.extend([0u8; 12]);
    record(0x0809, &d)
}

fn label(row: u16, col: u16, text: &str) -> Vec<u8> {
    let mut d = Vec::new();
    for v in [row, col, 0, text.len() as u16] {
        d.extend(v.to_le_bytes());
    }
    d.push(0); // 8-bit characters
    d.extend(text.bytes());
    record(0x0204, &d)
}

fn number(row: u16, col: u16, value: f64) -> Vec<u8> {
    let mut d = Vec::new();
    for v in [row, col, 0] {
        d.extend(v.to_le_bytes());
    }
    d.extend(value.to_le_bytes());
    record(0x0203, &d)
}

fn merge(first_row: u16, last_row: u16, first_col: u16, last_col: u16) -> Vec<u8> {
    let mut d = 1u16.to_le_bytes().to_vec();
    for v in [first_row, last_row, first_col, last_col] {
        d.extend(v.to_le_bytes());
    }
    record(0x00E5, &d)
}

/// A BIFF8 workbook stream: globals (with `extra` records), then one substream per sheet.
fn biff(sheets: &[(&str, Vec<Vec<u8>>)], extra: &[Vec<u8>]) -> Vec<u8> {
    let bound = |offset: u32, name: &str| {
        let mut d = offset.to_le_bytes().to_vec();
        d.extend([0, 0, name.len() as u8, 0]);
        d.extend(name.bytes());
        record(0x0085, &d)
    };
    let globals_len = bof(5).len()
        + extra.iter().map(Vec::len).sum::<usize>()
        + sheets.iter().map(|(n, _)| bound(0, n).len()).sum::<usize>()
        + 4;
    let mut bodies = Vec::new();
    let mut offsets = Vec::new();
    for (_, records) in sheets {
        offsets.push((globals_len + bodies.len()) as u32);
        bodies.extend(bof(0x10));
        bodies.extend(records.concat());
        bodies.extend(record(0x000A, &[]));
    }
    let mut stream = bof(5);
    stream.extend(extra.concat());
    for ((name, _), offset) in sheets.iter().zip(offsets) {
        stream.extend(bound(offset, name));
    }
    stream.extend(record(0x000A, &[]));
    stream.extend(bodies);
    stream
}

const END: u32 = 0xFFFF_FFFE;
const FREE: u32 = 0xFFFF_FFFF;

/// A version 3 compound file: FAT in sector 0, directory in sector 1, then the streams,
/// each padded to at least 4096 bytes so that it lives in regular sectors.
fn compound(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut fat = vec![0xFFFF_FFFD, END];
    let mut dir = vec![0u8; 512];
    let mut data = Vec::new();
    let entry = |dir: &mut [u8], i: usize, name: &str, kind: u8, start: u32, len: u32| {
        let e = &mut dir[i * 128..(i + 1) * 128];
        let units: Vec<u8> = name.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
        e[..units.len()].copy_from_slice(&units);
        e[64..66].copy_from_slice(&(units.len() as u16).to_le_bytes());
        e[66] = kind;
        for at in [68, 72, 76] {
            e[at..at + 4].copy_from_slice(&FREE.to_le_bytes());
        }
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&len.to_le_bytes());
    };
    entry(&mut dir, 0, "Root Entry", 5, END, 0);
    for (i, (name, content)) in streams.iter().enumerate() {
        let mut content = content.to_vec();
        content.resize(content.len().max(4096).div_ceil(512) * 512, 0);
        let first = 2 + data.len() as u32 / 512;
        let sectors = content.len() as u32 / 512;
        fat.extend((1..sectors).map(|k| first + k));
        fat.push(END);
        entry(&mut dir, i + 1, name, 2, first, content.len() as u32);
        data.extend(content);
    }
    assert!(fat.len() <= 128, "test compound file too large");
    fat.resize(128, FREE);
    let mut file = vec![0u8; 512];
    file[..8].copy_from_slice(&cfb::MAGIC);
    let mut put = |at: usize, v: &[u8]| file[at..at + v.len()].copy_from_slice(v);
    put(24, &0x3Eu16.to_le_bytes());
    put(26, &3u16.to_le_bytes());
    put(28, &0xFFFEu16.to_le_bytes());
    put(30, &9u16.to_le_bytes());
    put(32, &6u16.to_le_bytes());
    put(44, &1u32.to_le_bytes()); // FAT sectors
    put(48, &1u32.to_le_bytes()); // first directory sector
    put(56, &4096u32.to_le_bytes());
    put(60, &END.to_le_bytes());
    put(68, &END.to_le_bytes());
    let mut difat = 0u32.to_le_bytes().to_vec();
    difat.extend((1..109).flat_map(|_| FREE.to_le_bytes()));
    put(76, &difat);
    file.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
    file.extend(dir);
    file.extend(data);
    file
}

#[test]
fn xls_sheets_merges_and_numbers() {
    let dash = vec![
        label(0, 0, "No"),
        label(0, 1, "Question"),
        label(0, 3, "Answer"),
        merge(0, 0, 1, 2),
        number(1, 0, 1.0),
        label(1, 1, "Are you very frightened?"),
        label(1, 2, "stray copy in a covered cell"),
        label(1, 3, "Yes"),
        merge(1, 1, 1, 2),
        number(3, 0, 2.5),
    ];
    let bytes = compound(&[("Workbook", &biff(&[("Cover", vec![label(0, 0, "cover")]), ("DASH", dash)], &[]))]);
    let doc = read_xls(&bytes, &Limits::default(), deadline());
    assert_eq!(doc.problems, vec![]);
    let t = tables(&doc);
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].at.as_str(), rows(t[0])), ("sheet 'Cover'", vec![("row 1", vec!["cover"])]));
    assert_eq!(t[1].at, "sheet 'DASH'");
    assert_eq!(
        rows(t[1]),
        vec![
            ("row 1", vec!["No", "Question", "", "Answer"]),
            ("row 2", vec!["1", "Are you very frightened?", "", "Yes"]),
            ("row 4", vec!["2.5"]),
        ]
    );
}

#[test]
fn xls_two_far_apart_cells_are_refused_before_calamine_allocates_their_range() {
    // Two cells, A1 and the last cell of a 65536 x 65536 grid: calamine's dense range for
    // them is 4 billion cells, 128 GiB.
    let sheet = vec![number(0, 0, 1.0), number(0xFFFF, 0xFFFF, 2.0)];
    let bytes = compound(&[("Workbook", &biff(&[("Sheet1", sheet)], &[]))]);
    let doc = read_xls(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::LimitExceeded], "{doc:?}");
    assert!(doc.blocks.is_empty());
}

#[test]
fn xls_inverted_dimensions_are_refused() {
    let mut dims = 9u32.to_le_bytes().to_vec(); // first row 9
    dims.extend(3u32.to_le_bytes()); // last row + 1 = 3
    dims.extend([0, 0, 2, 0, 0, 0]);
    let sheet = vec![record(0x0200, &dims), number(0, 0, 1.0)];
    let doc = read_xls(&compound(&[("Workbook", &biff(&[("S", sheet)], &[]))]), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Corrupt], "{doc:?}");
}

#[test]
fn xls_without_sheets_says_so() {
    let doc = read_xls(&compound(&[("Workbook", &biff(&[], &[]))]), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Corrupt], "{doc:?}");
}

#[test]
fn xls_filepass_is_encrypted() {
    let filepass = record(0x002F, &[1, 0, 1, 0, 1, 0]);
    let bytes = compound(&[("Workbook", &biff(&[("S", vec![label(0, 0, "x")])], &[filepass]))]);
    let doc = read_xls(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Encrypted]);
}

#[test]
fn encrypted_ooxml_handed_to_the_xlsx_reader_is_encrypted() {
    let bytes = compound(&[("EncryptionInfo", b"info"), ("EncryptedPackage", b"package")]);
    let doc = read_xlsx(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Encrypted]);
    let doc = read_xls(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Encrypted]);
}

#[test]
fn xls_directory_chain_that_loops_is_corrupt_not_a_hang() {
    let mut bytes = compound(&[("Workbook", &biff(&[("S", vec![label(0, 0, "x")])], &[]))]);
    // FAT entry 1 (the directory sector) points back to itself.
    let fat_entry = 512 + 4;
    bytes[fat_entry..fat_entry + 4].copy_from_slice(&1u32.to_le_bytes());
    let doc = read_xls(&bytes, &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Corrupt], "{doc:?}");
}

#[test]
fn xls_without_a_workbook_stream_is_unsupported() {
    let doc = read_xls(&compound(&[("WordDocument", b"not a workbook")]), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Unsupported]);
}

#[test]
fn xls_record_running_past_the_stream_is_truncated() {
    // The last record declares 65,520 bytes; the stream holds a few thousand.
    let mut cut = label(0, 0, "x");
    cut[2..4].copy_from_slice(&0xFFF0u16.to_le_bytes());
    let mut stream = biff(&[("S", vec![label(1, 0, "y")])], &[]);
    stream.truncate(stream.len() - 4); // no EOF record
    stream.extend(cut);
    let doc = read_xls(&compound(&[("Workbook", &stream)]), &Limits::default(), deadline());
    assert_eq!(kinds(&doc), vec![ProblemKind::Truncated], "{doc:?}");
}
