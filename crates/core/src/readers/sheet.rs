//! Spreadsheet readers: XLSX and XLS through calamine; ODS (owned by its own work item).
//!
//! Every worksheet becomes one [`Table`] at `sheet 'NAME'`, in workbook order (a DASH may sit
//! behind a cover sheet). Every non-empty row becomes one [`Row`] at `row N`, N the spreadsheet's
//! own 1-based row number. Its cells run from column A to the row's last non-empty column, with
//! `""` for empty cells so that positions stay true. Values are display strings: integral numbers
//! without a fraction ("14"), other numbers in Rust's shortest form, booleans TRUE/FALSE, dates
//! as ISO `YYYY-MM-DD` (with `THH:MM:SS` when not midnight), errors as Excel shows them
//! ("#DIV/0!"), text trimmed of trailing whitespace only. A merged region's text stays in its
//! top-left cell and the cells it covers are `""`. Checkbox marks typed into cells are text.
//!
//! calamine parses, but only after structural checks on the raw bytes, because calamine trusts
//! the sizes and counts a file declares:
//! - XLSX: the zip's declared sizes and ratios ([`Archive::check_declared_sizes`]), then the
//!   shared-string and style counts (calamine reserves what `uniqueCount` says and keeps one
//!   style per `<xf>`). Cells are streamed with [`Xlsx::worksheet_cells_reader`], so only
//!   non-empty cells are held, never a dense range.
//! - XLS: calamine decodes the whole workbook when it opens it, one dense range per sheet. Before
//!   that, [`cfb`] walks the compound file (every sector chain must end) and [`biff`] scans the
//!   records to estimate what calamine will allocate: over budget is a `LimitExceeded` problem.
//!
//! Panics inside calamine are contained: the tables read so far are kept and a `ParserPanic`
//! problem is added. Problem details name sheets by position, never by name: names are content.

use crate::document::{Block, Document, Problem, ProblemKind, Row, Table};
use crate::limits::{Deadline, Limits};
use crate::limits::sheet::{
    MAX_CELL_CHARS, MAX_COLUMNS, MAX_SHARED_STRINGS, MAX_STYLE_RECORDS, MAX_XLS_CONTINUES, MAX_XLS_FORMULA_WORK, MAX_XLS_SHEETS,
    XLS_MEMORY_BUDGET,
};
use crate::readers::archive::Archive;
use calamine::{
    CellErrorType, Data, DataRef, Dimensions, ExcelDateTime, Reader, SheetType, Xls, XlsError, Xlsx, XlsxError,
};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn read_xlsx(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    let mut doc = Document::default();
    contain(&mut doc, |doc| read_xlsx_into(bytes, limits, deadline, doc));
    doc
}

pub fn read_xls(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    let mut doc = Document::default();
    contain(&mut doc, |doc| read_xls_into(bytes, limits, deadline, doc));
    doc
}

pub fn read_ods(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    crate::readers::odf::read_ods(bytes, limits, deadline)
}

/// Runs a reader with panics contained: what it pushed into `doc` before a panic is kept.
fn contain(doc: &mut Document, read: impl FnOnce(&mut Document)) {
    if catch_unwind(AssertUnwindSafe(|| read(doc))).is_err() {
        doc.problems.push(Problem::new(
            ProblemKind::ParserPanic,
            "the spreadsheet parser failed on this file; sheets read before the failure are kept",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// XLSX

fn read_xlsx_into(bytes: &[u8], limits: &Limits, deadline: Deadline, doc: &mut Document) {
    if bytes.starts_with(&cfb::MAGIC) {
        doc.problems.push(compound_instead_of_zip(bytes));
        return;
    }
    if let Err(p) = Archive::open(bytes, limits).and_then(|mut a| a.check_declared_sizes()) {
        doc.problems.push(truncation_or(bytes, p));
        return;
    }
    if let Err(p) = xlsx_parts::check(bytes, deadline) {
        doc.problems.push(p);
        return;
    }
    let mut workbook = match Xlsx::new(Cursor::new(bytes)) {
        Ok(w) => w,
        Err(e) => {
            doc.problems.push(xlsx_problem(&e));
            return;
        }
    };
    read_worksheets(&mut workbook, limits, deadline, doc, xlsx_sheet);
}

/// One XLSX worksheet, its cells streamed; `None` for a sheet that is not a worksheet after all.
fn xlsx_sheet(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    sheet_no: usize,
    budget: &mut Budget<'_>,
    doc: &mut Document,
) -> Option<SheetRead> {
    let mut cells = SheetCells::default();
    let mut stop = None;
    let mut complete = false;
    match workbook.worksheet_cells_reader(name) {
        Err(XlsxError::NotAWorksheet(_)) => return None,
        Err(e) => doc.problems.push(in_sheet(sheet_no, xlsx_problem(&e))),
        Ok(mut reader) => loop {
            if let Err(s) = budget.check_time() {
                stop = Some(s);
                break;
            }
            match reader.next_cell() {
                Ok(Some(cell)) => {
                    let (row, col) = cell.get_position();
                    if let Err(s) = cells.add(row, col, ref_text(cell.get_value()), budget) {
                        stop = Some(s);
                        break;
                    }
                }
                Ok(None) => {
                    complete = true;
                    break;
                }
                Err(e) => {
                    doc.problems.push(in_sheet(sheet_no, xlsx_problem(&e)));
                    break;
                }
            }
        },
    }
    // Merged regions are listed after the cells; a sheet that broke off has none to read.
    let merges = if complete {
        workbook.merge_cells_by_sheet_name(name).unwrap_or_else(|e| {
            doc.problems.push(in_sheet(sheet_no, xlsx_problem(&e)));
            Vec::new()
        })
    } else {
        Vec::new()
    };
    Some(SheetRead { cells, merges, stop })
}

/// A compound (OLE) file handed to the XLSX reader: an encrypted OOXML package, or not XLSX.
fn compound_instead_of_zip(bytes: &[u8]) -> Problem {
    match cfb::Compound::open(bytes) {
        Ok(c) if c.has_entry("EncryptedPackage") => {
            Problem::new(ProblemKind::Encrypted, "password-protected workbook (encrypted package)")
        }
        Ok(_) => Problem::new(ProblemKind::Unsupported, "an OLE compound file, not a zip-based XLSX workbook"),
        Err(p) => p,
    }
}

/// A zip that starts like one but has no end-of-central-directory record was cut short.
fn truncation_or(bytes: &[u8], problem: Problem) -> Problem {
    const EOCD: &[u8] = b"PK\x05\x06";
    if problem.kind != ProblemKind::Corrupt || !bytes.starts_with(b"PK\x03\x04") {
        return problem;
    }
    // The EOCD record is 22 bytes plus a comment of at most 64 KiB, at the very end.
    let tail = bytes.get(bytes.len().saturating_sub(22 + 65_535)..).unwrap_or_default();
    if tail.windows(EOCD.len()).any(|w| w == EOCD) {
        problem
    } else {
        Problem::new(ProblemKind::Truncated, "zip archive ends early: no end of central directory")
    }
}

fn xlsx_problem(e: &XlsxError) -> Problem {
    use ProblemKind::{Corrupt, Encrypted, Unsupported};
    // calamine's messages can quote cell text, entity names or part names: describe, don't quote.
    match e {
        XlsxError::Password => Problem::new(Encrypted, "password-protected workbook"),
        XlsxError::Io(e) => io_problem(e),
        XlsxError::Zip(e) => zip_problem(e),
        XlsxError::Xml(quick_xml::Error::Io(e)) => io_problem(e),
        XlsxError::Xml(_) | XlsxError::XmlAttr(_) => Problem::new(Corrupt, "malformed XML in a workbook part"),
        XlsxError::Encoding(_) => Problem::new(Corrupt, "text encoding error in a workbook part"),
        XlsxError::Parse(_) | XlsxError::ParseFloat(_) | XlsxError::ParseInt(_) => {
            Problem::new(Corrupt, "unreadable number in a workbook part")
        }
        XlsxError::XmlEof(tag) => Problem::new(Corrupt, format!("XML part ends before </{tag}>")),
        XlsxError::UnexpectedNode(tag) => Problem::new(Corrupt, format!("unexpected XML element, expected {tag}")),
        XlsxError::FileNotFound(_) | XlsxError::WorksheetNotFound(_) => {
            Problem::new(Corrupt, "a workbook part is missing")
        }
        XlsxError::RelationshipNotFound => Problem::new(Corrupt, "a workbook relationship is missing"),
        XlsxError::Alphanumeric(_)
        | XlsxError::NumericColumn(_)
        | XlsxError::RangeWithoutColumnComponent
        | XlsxError::RangeWithoutRowComponent
        | XlsxError::ColumnNumberOverflow
        | XlsxError::RowNumberOverflow
        | XlsxError::DimensionCount(_) => Problem::new(Corrupt, "invalid cell reference"),
        XlsxError::CellTAttribute(_) => Problem::new(Corrupt, "unknown cell type"),
        XlsxError::CellError(_) => Problem::new(Corrupt, "unknown cell error value"),
        XlsxError::Unexpected(what) => Problem::new(Corrupt, format!("invalid workbook structure: {what}")),
        XlsxError::Unrecognized { typ: "sheet:type", .. } => {
            Problem::new(Unsupported, "workbook holds a sheet type the reader does not support (macro sheet)")
        }
        XlsxError::Unrecognized { typ, .. } => Problem::new(Corrupt, format!("unrecognised {typ}")),
        XlsxError::NotAWorksheet(_) => Problem::new(Unsupported, "sheet is not a worksheet"),
        XlsxError::Vba(_) => Problem::new(Corrupt, "unreadable macro project"),
        _ => Problem::new(Corrupt, "invalid workbook structure"),
    }
}

fn zip_problem(e: &zip::result::ZipError) -> Problem {
    use zip::result::ZipError;
    match e {
        ZipError::Io(e) => io_problem(e),
        ZipError::UnsupportedArchive(_) => Problem::new(ProblemKind::Unsupported, "unsupported zip feature"),
        _ => Problem::new(ProblemKind::Corrupt, "not a valid zip archive"),
    }
}

fn io_problem(e: &std::io::Error) -> Problem {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Problem::new(ProblemKind::Truncated, "a workbook part ends early"),
        std::io::ErrorKind::InvalidData => {
            Problem::new(ProblemKind::Corrupt, "a workbook part does not match its declared size or checksum")
        }
        kind => Problem::new(ProblemKind::Corrupt, format!("a workbook part is unreadable ({kind:?})")),
    }
}

/// Counts in the shared-string and style parts, checked before calamine sizes its vectors by them.
mod xlsx_parts {
    use super::*;
    use quick_xml::events::{BytesStart, Event};
    use std::io::BufReader;

    #[derive(Clone, Copy, PartialEq)]
    enum Part {
        SharedStrings,
        Styles,
    }

    pub(super) fn check(bytes: &[u8], deadline: Deadline) -> Result<(), Problem> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_problem(&e))?;
        for i in 0..zip.len() {
            // calamine looks its parts up case-insensitively; every candidate is checked.
            let part = match zip.by_index_raw(i).and_then(|f| f.name().map(|n| n.to_ascii_lowercase())) {
                Ok(name) => {
                    if name.ends_with("sharedstrings.xml") {
                        Part::SharedStrings
                    } else if name.ends_with("styles.xml") {
                        Part::Styles
                    } else {
                        continue;
                    }
                }
                Err(_) => continue,
            };
            // An unreadable entry is left for calamine to report in its own terms.
            let Ok(file) = zip.by_index(i) else { continue };
            scan(part, BufReader::new(file), deadline)?;
        }
        Ok(())
    }

    fn scan(part: Part, input: impl std::io::BufRead, deadline: Deadline) -> Result<(), Problem> {
        // The same reader settings as calamine's, so that both see the same elements.
        let mut xml = quick_xml::Reader::from_reader(input);
        let config = xml.config_mut();
        config.check_end_names = false;
        config.trim_text(false);
        config.check_comments = false;
        config.expand_empty_elements = true;
        let mut buf = Vec::new();
        let (mut records, mut events, mut declared_seen) = (0u64, 0u64, false);
        loop {
            buf.clear();
            events += 1;
            if events % 4096 == 0 && deadline.expired() {
                return Err(Problem::new(ProblemKind::Timeout, "time limit reached checking workbook parts"));
            }
            let start = match xml.read_event_into(&mut buf) {
                Ok(Event::Start(e)) => e,
                // Broken XML is calamine's to report, with the rest of the workbook's errors.
                Ok(Event::Eof) | Err(_) => return Ok(()),
                Ok(_) => continue,
            };
            let counted = match (part, start.local_name().as_ref()) {
                (Part::SharedStrings, "sst") if !declared_seen => {
                    declared_seen = true;
                    if declared_count(&start) > MAX_SHARED_STRINGS {
                        return Err(Problem::new(
                            ProblemKind::LimitExceeded,
                            format!("shared string table declares more than {MAX_SHARED_STRINGS} strings"),
                        ));
                    }
                    false
                }
                (Part::SharedStrings, "si") => true,
                (Part::Styles, "xf" | "font" | "fill" | "border" | "numFmt" | "dxf") => true,
                _ => false,
            };
            if counted {
                records += 1;
                let (limit, what) = match part {
                    Part::SharedStrings => (MAX_SHARED_STRINGS, "shared strings"),
                    Part::Styles => (MAX_STYLE_RECORDS, "style records"),
                };
                if records > limit {
                    return Err(Problem::new(
                        ProblemKind::LimitExceeded,
                        format!("workbook holds more than {limit} {what}"),
                    ));
                }
            }
        }
    }

    /// The `uniqueCount` of `<sst>`; a number too long to parse counts as huge.
    fn declared_count(e: &BytesStart<'_>) -> u64 {
        let mut most = 0u64;
        for attr in e.attributes().with_checks(false).flatten() {
            if attr.key.local_name().as_ref() == "uniqueCount" {
                let digits = attr.value.trim().trim_start_matches('+');
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    most = most.max(digits.parse::<u64>().unwrap_or(u64::MAX));
                }
            }
        }
        most
    }
}

// ---------------------------------------------------------------------------------------------
// XLS

fn read_xls_into(bytes: &[u8], limits: &Limits, deadline: Deadline, doc: &mut Document) {
    if let Err(p) = xls_precheck(bytes) {
        doc.problems.push(p);
        return;
    }
    let mut workbook = match Xls::new(Cursor::new(bytes)) {
        Ok(w) => w,
        Err(e) => {
            doc.problems.push(xls_problem(&e));
            return;
        }
    };
    read_worksheets(&mut workbook, limits, deadline, doc, xls_sheet);
}

/// One XLS worksheet, from the dense range calamine decoded; `None` when it could not be had.
fn xls_sheet(
    workbook: &mut Xls<Cursor<&[u8]>>,
    name: &str,
    sheet_no: usize,
    budget: &mut Budget<'_>,
    doc: &mut Document,
) -> Option<SheetRead> {
    // The pre-check bounded this range's size; it is a copy of calamine's, dropped below.
    let range = match workbook.worksheet_range(name) {
        Ok(r) => r,
        Err(e) => {
            doc.problems.push(in_sheet(sheet_no, xls_problem(&e)));
            return None;
        }
    };
    let merges = workbook.merge_cells_by_sheet_name(name).unwrap_or_default();
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut cells = SheetCells::default();
    let mut stop = None;
    for (n, (row, col, value)) in range.used_cells().enumerate() {
        if n % 256 == 0 {
            if let Err(s) = budget.check_time() {
                stop = Some(s);
                break;
            }
        }
        let at = u32::try_from(row).ok().and_then(|r| r.checked_add(top));
        let col = u32::try_from(col).ok().and_then(|c| c.checked_add(left));
        let (Some(row), Some(col)) = (at, col) else { continue };
        if let Err(s) = cells.add(row, col, data_text(value), budget) {
            stop = Some(s);
            break;
        }
    }
    drop(range);
    Some(SheetRead { cells, merges, stop })
}

/// Walks the compound file and scans the workbook stream before calamine decodes it whole.
fn xls_precheck(bytes: &[u8]) -> Result<(), Problem> {
    let compound = cfb::Compound::open(bytes)?;
    if compound.has_entry("EncryptedPackage") {
        return Err(Problem::new(ProblemKind::Encrypted, "password-protected Office document (encrypted package)"));
    }
    let stream = compound.workbook_stream()?;
    drop(compound);
    biff::check(&stream, bytes.len())
}

fn xls_problem(e: &XlsError) -> Problem {
    use ProblemKind::{Corrupt, Encrypted, Truncated, Unsupported};
    match e {
        XlsError::Password => Problem::new(Encrypted, "password-protected workbook"),
        XlsError::Io(e) => io_problem(e),
        // The compound structure was checked already; what calamine still rejects is the code page.
        XlsError::Cfb(c) if c.to_string().contains("odepage") => {
            Problem::new(Unsupported, "workbook text uses a code page the reader does not support")
        }
        XlsError::Cfb(_) => Problem::new(Corrupt, "invalid OLE compound file structure"),
        XlsError::StackLen | XlsError::InvalidFormula { .. } | XlsError::IfTab(_) | XlsError::Etpg(_) => {
            Problem::new(Corrupt, "malformed formula record")
        }
        XlsError::Unrecognized { typ, .. } => Problem::new(Corrupt, format!("unrecognised {typ}")),
        XlsError::Len { expected, found, typ } => {
            Problem::new(Corrupt, format!("{typ} record too short: {found} bytes, expected at least {expected}"))
        }
        XlsError::ContinueRecordTooShort => Problem::new(Corrupt, "a CONTINUE record is too short"),
        XlsError::EoStream(what) => Problem::new(Truncated, format!("workbook stream ends early ({what})")),
        XlsError::WorksheetNotFound(_) => Problem::new(Corrupt, "a worksheet listed in the workbook is missing"),
        XlsError::InvalidFormat { .. } => Problem::new(Corrupt, "invalid number format record"),
        XlsError::Vba(_) | XlsError::NoVba => Problem::new(Corrupt, "unreadable macro project"),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared by both formats: budget, cells of one sheet, merged regions, display strings.

/// Why reading stopped before the end of the workbook.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    Cells,
    Text,
    Timeout,
}

/// What is left to spend on one workbook: cells, output text, time.
struct Budget<'a> {
    limits: &'a Limits,
    deadline: Deadline,
    cells: usize,
    text: u64,
}

impl<'a> Budget<'a> {
    fn new(limits: &'a Limits, deadline: Deadline) -> Self {
        // The output text is bounded like the archive it came from: shared strings can repeat
        // one long string in every cell.
        Budget { limits, deadline, cells: limits.max_sheet_cells, text: limits.max_decompressed_bytes }
    }

    fn check_time(&self) -> Result<(), Stop> {
        if self.deadline.expired() {
            Err(Stop::Timeout)
        } else {
            Ok(())
        }
    }

    /// Spends one non-empty cell holding `text_len` bytes of text.
    fn spend(&mut self, text_len: usize) -> Result<(), Stop> {
        self.cells = self.cells.checked_sub(1).ok_or(Stop::Cells)?;
        self.text = self.text.checked_sub(text_len as u64).ok_or(Stop::Text)?;
        Ok(())
    }

    fn problem(&self, stop: Stop, sheet_no: usize) -> Problem {
        match stop {
            Stop::Cells => Problem::new(
                ProblemKind::LimitExceeded,
                format!(
                    "workbook has more than {} non-empty cells; reading stopped in sheet {sheet_no}",
                    self.limits.max_sheet_cells
                ),
            ),
            Stop::Text => Problem::new(
                ProblemKind::LimitExceeded,
                format!(
                    "workbook holds more than {} bytes of cell text; reading stopped in sheet {sheet_no}",
                    self.limits.max_decompressed_bytes
                ),
            ),
            Stop::Timeout => {
                Problem::new(ProblemKind::Timeout, format!("time limit reached; reading stopped in sheet {sheet_no}"))
            }
        }
    }
}

/// The non-empty cells of one sheet, by row, before merged regions are applied.
#[derive(Default)]
struct SheetCells {
    rows: BTreeMap<u32, Vec<(u32, String)>>,
    /// A non-empty cell right of [`MAX_COLUMNS`] was dropped.
    wide: bool,
    /// A cell's text was cut at [`MAX_CELL_CHARS`].
    long: bool,
}

impl SheetCells {
    /// Adds one cell; `None` is an empty cell. Every non-empty value spends budget, even text
    /// that turns out to be only whitespace, so that such cells cannot be used to stall a read.
    fn add(&mut self, row: u32, col: u32, value: Option<Cow<'_, str>>, budget: &mut Budget) -> Result<(), Stop> {
        let Some(value) = value else { return Ok(()) };
        if col >= MAX_COLUMNS {
            self.wide = true;
            return budget.spend(0);
        }
        let (text, cut) = clip(&value);
        self.long |= cut;
        budget.spend(text.len())?;
        if !text.is_empty() {
            self.rows.entry(row).or_default().push((col, text));
        }
        Ok(())
    }

    /// The sheet as a table, merged regions applied. Returns `Stop::Timeout` when time ran out
    /// while applying them (the table then has every cell, some covered ones not yet emptied).
    fn into_table(mut self, name: &str, merges: &[Dimensions], budget: &Budget) -> (Table, Option<Stop>) {
        for cells in self.rows.values_mut() {
            // Sorted by column; a position given twice keeps its last value.
            cells.sort_by_key(|(col, _)| *col);
            let mut kept: Vec<(u32, String)> = Vec::with_capacity(cells.len());
            for (col, text) in cells.drain(..) {
                match kept.last_mut() {
                    Some(last) if last.0 == col => last.1 = text,
                    _ => kept.push((col, text)),
                }
            }
            *cells = kept;
        }
        let mut stop = None;
        for (n, merge) in merges.iter().enumerate() {
            if n % 256 == 0 {
                if let Err(s) = budget.check_time() {
                    stop = Some(s);
                    break;
                }
            }
            apply_merge(&mut self.rows, merge);
        }
        let rows = self
            .rows
            .into_iter()
            .filter_map(|(row, cells)| {
                let last = cells.last()?.0;
                let mut out = vec![String::new(); last as usize + 1];
                for (col, text) in cells {
                    if let Some(slot) = out.get_mut(col as usize) {
                        *slot = text;
                    }
                }
                Some(Row { at: format!("row {}", u64::from(row) + 1), cells: out, spans: Vec::new() })
            })
            .collect();
        (Table { at: format!("sheet '{name}'"), rows }, stop)
    }
}

/// Empties the cells a merged region covers. Its text belongs in the top-left cell; when that
/// cell is empty but a covered one is not (some writers put it there), that text moves to the
/// top-left, so nothing is lost and nothing is duplicated.
fn apply_merge(rows: &mut BTreeMap<u32, Vec<(u32, String)>>, merge: &Dimensions) {
    let (top, bottom) = (merge.start.0.min(merge.end.0), merge.start.0.max(merge.end.0));
    let (left, right) = (merge.start.1.min(merge.end.1), merge.start.1.max(merge.end.1));
    if left >= MAX_COLUMNS || (top, left) == (bottom, right) {
        return;
    }
    let mut anchor_filled = false;
    let mut moved: Option<String> = None;
    for (&row, cells) in rows.range_mut(top..=bottom) {
        let mut kept = Vec::with_capacity(cells.len());
        for (col, text) in cells.drain(..) {
            if col < left || col > right {
                kept.push((col, text));
            } else if row == top && col == left {
                anchor_filled = true;
                kept.push((col, text));
            } else if moved.is_none() {
                moved = Some(text);
            }
        }
        *cells = kept;
    }
    if let (false, Some(text)) = (anchor_filled, moved) {
        let cells = rows.entry(top).or_default();
        let at = cells.partition_point(|(col, _)| *col < left);
        cells.insert(at, (left, text));
    }
}

/// What one worksheet gave: its non-empty cells, its merged regions, and why reading stopped in
/// it, if it did.
struct SheetRead {
    cells: SheetCells,
    merges: Vec<Dimensions>,
    stop: Option<Stop>,
}

/// The per-sheet loop of both formats: every worksheet in workbook order, read by `read_sheet`,
/// made a table, until the budget runs out. Only the reading of one sheet's cells differs, and
/// genuinely so: XLSX streams its cells ([`Xlsx::worksheet_cells_reader`], the sheet's merged
/// regions only after a complete read, a sheet that fails still giving its table) where XLS
/// walks the dense range calamine already decoded (a sheet that fails gives no table). That
/// part stays with each format (`xlsx_sheet`, `xls_sheet`); `read_sheet` returns `None` to
/// pass a sheet over without a table.
fn read_worksheets<RS, R>(
    workbook: &mut R,
    limits: &Limits,
    deadline: Deadline,
    doc: &mut Document,
    mut read_sheet: impl FnMut(&mut R, &str, usize, &mut Budget<'_>, &mut Document) -> Option<SheetRead>,
) where
    RS: Read + Seek,
    R: Reader<RS>,
{
    let sheets: Vec<(String, SheetType)> = workbook.sheets_metadata().iter().map(|s| (s.name.clone(), s.typ)).collect();
    let mut budget = Budget::new(limits, deadline);
    for (index, (name, typ)) in sheets.iter().enumerate() {
        let sheet_no = index + 1;
        if *typ != SheetType::WorkSheet {
            continue;
        }
        let Some(SheetRead { cells, merges, stop }) = read_sheet(workbook, name, sheet_no, &mut budget, doc) else {
            continue;
        };
        if finish_sheet(doc, cells, name, sheet_no, &merges, &budget, stop) {
            return;
        }
    }
    note_missing_worksheets(doc, sheets.len());
}

/// Pushes one sheet's table and its problems; true when reading must stop here.
fn finish_sheet(
    doc: &mut Document,
    cells: SheetCells,
    name: &str,
    sheet_no: usize,
    merges: &[Dimensions],
    budget: &Budget,
    stop: Option<Stop>,
) -> bool {
    let (wide, long) = (cells.wide, cells.long);
    let (table, late) = cells.into_table(name, merges, budget);
    doc.blocks.push(Block::Table(table));
    if wide {
        doc.problems.push(Problem::new(
            ProblemKind::LimitExceeded,
            format!("sheet {sheet_no}: cells right of column {MAX_COLUMNS} (IV) were not read"),
        ));
    }
    if long {
        doc.problems.push(Problem::new(
            ProblemKind::LimitExceeded,
            format!("sheet {sheet_no}: cell text longer than {MAX_CELL_CHARS} characters was cut"),
        ));
    }
    match stop.or(late) {
        Some(s) => {
            doc.problems.push(budget.problem(s, sheet_no));
            true
        }
        None => false,
    }
}

/// A workbook that gave neither a table nor a problem says why: it has nothing to read.
fn note_missing_worksheets(doc: &mut Document, sheets: usize) {
    if !doc.blocks.is_empty() || !doc.problems.is_empty() {
        return;
    }
    doc.problems.push(if sheets == 0 {
        Problem::new(ProblemKind::Corrupt, "workbook lists no sheets")
    } else {
        Problem::new(ProblemKind::Unsupported, "workbook has no worksheets, only chart, dialog or macro sheets")
    });
}

fn in_sheet(sheet_no: usize, p: Problem) -> Problem {
    Problem::new(p.kind, format!("sheet {sheet_no}: {}", p.detail))
}

/// At most [`MAX_CELL_CHARS`] characters, trailing whitespace trimmed; true when cut.
fn clip(text: &str) -> (String, bool) {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => (text.get(..end).unwrap_or_default().trim_end().to_owned(), true),
        None => (text.trim_end().to_owned(), false),
    }
}

fn ref_text<'a>(value: &'a DataRef<'_>) -> Option<Cow<'a, str>> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(s) => Cow::Borrowed(s.as_str()),
        DataRef::SharedString(s) => Cow::Borrowed(*s),
        DataRef::Int(i) => Cow::Owned(i.to_string()),
        DataRef::Float(f) => Cow::Owned(number(*f)),
        DataRef::Bool(b) => Cow::Borrowed(boolean(*b)),
        DataRef::DateTime(d) => Cow::Owned(date_time(d)),
        DataRef::DateTimeIso(s) => iso_date_time(s),
        DataRef::DurationIso(s) => Cow::Borrowed(s.as_str()),
        DataRef::Error(e) => Cow::Owned(error(e)),
    })
}

fn data_text(value: &Data) -> Option<Cow<'_, str>> {
    Some(match value {
        Data::Empty => return None,
        Data::String(s) => Cow::Borrowed(s.as_str()),
        Data::Int(i) => Cow::Owned(i.to_string()),
        Data::Float(f) => Cow::Owned(number(*f)),
        Data::Bool(b) => Cow::Borrowed(boolean(*b)),
        Data::DateTime(d) => Cow::Owned(date_time(d)),
        Data::DateTimeIso(s) => iso_date_time(s),
        Data::DurationIso(s) => Cow::Borrowed(s.as_str()),
        Data::Error(e) => Cow::Owned(error(e)),
    })
}

/// Integral values as integers ("14", not "14.0"); others in Rust's shortest round-trip form.
fn number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn boolean(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

fn error(e: &CellErrorType) -> String {
    e.to_string()
}

/// `YYYY-MM-DD`, with `THH:MM:SS` when not midnight; a bare time of day (serial below 1) as
/// `HH:MM:SS`; a duration as hours, minutes and seconds.
fn date_time(d: &ExcelDateTime) -> String {
    let serial = d.as_f64();
    if d.is_duration() {
        return duration(serial);
    }
    let (year, month, day, hour, minute, second, milli) = d.to_ymd_hms_milli();
    let time = if milli == 0 {
        format!("{hour:02}:{minute:02}:{second:02}")
    } else {
        format!("{hour:02}:{minute:02}:{second:02}.{milli:03}")
    };
    if (0.0..1.0).contains(&serial) {
        time
    } else if (hour, minute, second, milli) == (0, 0, 0, 0) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{time}")
    }
}

fn duration(days: f64) -> String {
    if !days.is_finite() {
        return number(days);
    }
    let seconds = (days * 86_400.0).round() as i64;
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// An ISO date-time cell (`t="d"`): the date alone when the time is midnight.
fn iso_date_time(s: &str) -> Cow<'_, str> {
    match s.split_once('T') {
        Some((date, time)) if time.chars().all(|c| matches!(c, '0' | ':' | '.' | 'Z')) => Cow::Borrowed(date),
        _ => Cow::Borrowed(s),
    }
}

// ---------------------------------------------------------------------------------------------
// XLS pre-checks: the compound file, then the BIFF records.

/// A bounded reader of OLE compound files (MS-CFB), used to check a file before calamine opens
/// it. It follows calamine's reading of the format (same header fields, same DIFAT, FAT and
/// directory walk, same stream lookup) but refuses what calamine would loop on or panic on: a
/// sector chain that never ends, a FAT index outside the FAT, a sector past the end of the file.
mod cfb {
    use super::*;

    pub(super) const MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
    const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
    const DIFSECT: u32 = 0xFFFF_FFFC;
    const MINI_SECTOR: usize = 64;
    const MINI_CUTOFF: u64 = 4096;

    pub(super) struct Compound<'a> {
        bytes: &'a [u8],
        /// Where sector 0 starts: right after the header, which fills a whole sector.
        header_len: usize,
        sector_size: usize,
        /// Highest sector id calamine accepts (`file length / sector size`).
        max_id: u32,
        fat: Vec<u32>,
        mini_fat: Vec<u32>,
        mini_stream: Vec<u8>,
        entries: Vec<Entry>,
    }

    struct Entry {
        name: String,
        start: u32,
        len: u64,
    }

    fn corrupt(detail: &str) -> Problem {
        Problem::new(ProblemKind::Corrupt, format!("OLE compound file: {detail}"))
    }

    impl<'a> Compound<'a> {
        pub(super) fn open(bytes: &'a [u8]) -> Result<Self, Problem> {
            let Some(header) = bytes.get(..512) else {
                return Err(if bytes.starts_with(&MAGIC) {
                    Problem::new(ProblemKind::Truncated, "OLE compound file ends inside its header")
                } else {
                    corrupt("not a compound file")
                });
            };
            if !header.starts_with(&MAGIC) {
                return Err(corrupt("not a compound file"));
            }
            let field = |at: usize| u32_at(header, at).unwrap_or(0);
            let version = u16_at(header, 26).unwrap_or(0);
            let sector_size = match u16_at(header, 30) {
                Some(0x09) => 512,
                Some(0x0C) => 4096,
                _ => return Err(corrupt("invalid sector size")),
            };
            if bytes.len() < sector_size {
                return Err(Problem::new(ProblemKind::Truncated, "OLE compound file ends inside its header"));
            }
            if u16_at(header, 32) != Some(6) {
                return Err(corrupt("invalid mini sector size"));
            }
            let (dir_start, mini_fat_start, mini_fat_sectors, difat_start) =
                (field(48), field(60), u64::from(field(64)), field(68));
            let mut compound = Compound {
                bytes,
                header_len: sector_size,
                sector_size,
                max_id: u32::try_from(bytes.len() / sector_size).unwrap_or(u32::MAX),
                fat: Vec::new(),
                mini_fat: Vec::new(),
                mini_stream: Vec::new(),
                entries: Vec::new(),
            };
            let most_sectors = compound.max_id as usize + 1;

            // The DIFAT: 109 entries in the header, then a chain whose last entry links on.
            let mut difat: Vec<u32> = u32s(header.get(76..512).unwrap_or_default()).collect();
            let (mut id, mut hops) = (difat_start, 0usize);
            while id < RESERVED_SECTORS {
                hops += 1;
                if hops > most_sectors {
                    return Err(corrupt("the DIFAT chain loops"));
                }
                difat.extend(u32s(compound.sector(id)?));
                id = difat.pop().ok_or_else(|| corrupt("empty DIFAT sector"))?;
            }
            let fat_sectors: Vec<u32> = difat.into_iter().filter(|&id| id < DIFSECT).collect();
            if fat_sectors.len() > most_sectors {
                return Err(corrupt("the DIFAT lists more FAT sectors than the file holds"));
            }
            let mut fat = Vec::new();
            for id in fat_sectors {
                fat.extend(u32s(compound.sector(id)?));
            }
            compound.fat = fat;

            let directory = compound.chain(dir_start, u64::MAX)?;
            compound.entries = directory
                .chunks_exact(128)
                .map(|c| Entry {
                    name: entry_name(c.get(..64).unwrap_or_default()),
                    start: u32_at(c, 116).unwrap_or(0),
                    len: if sector_size == 512 {
                        u64::from(u32_at(c, 120).unwrap_or(0))
                    } else {
                        u64_at(c, 120).unwrap_or(0)
                    },
                })
                .collect();
            let (root_start, root_len) = match compound.entries.first() {
                Some(root) if version == 3 || root.start != ENDOFCHAIN => (root.start, root.len),
                _ => return Err(corrupt("empty root directory")),
            };
            if mini_fat_sectors > 0 {
                compound.mini_stream = compound.chain(root_start, root_len)?;
                let mini_fat = compound.chain(mini_fat_start, mini_fat_sectors.saturating_mul(sector_size as u64))?;
                compound.mini_fat = u32s(&mini_fat).collect();
            }
            Ok(compound)
        }

        pub(super) fn has_entry(&self, name: &str) -> bool {
            self.entries.iter().any(|e| e.name.eq_ignore_ascii_case(name))
        }

        /// The stream calamine decodes: `Workbook`, else `Book` (BIFF5 and older).
        pub(super) fn workbook_stream(&self) -> Result<Vec<u8>, Problem> {
            match (self.stream("Workbook"), self.has_entry("Workbook")) {
                (Ok(stream), _) => Ok(stream),
                (Err(broken), true) => self.stream("Book").map_err(|_| broken),
                (Err(_), false) => self.stream("Book"),
            }
        }

        fn stream(&self, name: &str) -> Result<Vec<u8>, Problem> {
            let entry = self.entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
                Problem::new(ProblemKind::Unsupported, "compound file holds no Excel workbook stream")
            })?;
            if entry.len < MINI_CUTOFF {
                self.mini_chain(entry.start, entry.len)
            } else {
                self.chain(entry.start, entry.len)
            }
        }

        /// One sector; the last one of a file may be short.
        fn sector(&self, id: u32) -> Result<&'a [u8], Problem> {
            if id > self.max_id {
                return Err(corrupt("a sector lies past the end of the file"));
            }
            let start = self.header_len + id as usize * self.sector_size;
            let end = (start + self.sector_size).min(self.bytes.len());
            match self.bytes.get(start..end) {
                Some(s) if !s.is_empty() => Ok(s),
                _ => Err(Problem::new(ProblemKind::Truncated, "OLE compound file ends inside a sector chain")),
            }
        }

        /// `len` bytes along a FAT chain, or up to its end. A chain longer than the file has
        /// sectors loops: calamine would follow it until `len` (for the directory: forever).
        fn chain(&self, start: u32, len: u64) -> Result<Vec<u8>, Problem> {
            let (mut out, mut id, mut hops) = (Vec::new(), start, 0usize);
            while id != ENDOFCHAIN {
                hops += 1;
                if hops > self.max_id as usize + 1 {
                    return Err(corrupt("a sector chain loops"));
                }
                if append(&mut out, self.sector(id)?, len) {
                    break;
                }
                id = *self.fat.get(id as usize).ok_or_else(|| corrupt("a sector chain leaves the FAT"))?;
            }
            Ok(out)
        }

        fn mini_chain(&self, start: u32, len: u64) -> Result<Vec<u8>, Problem> {
            let (mut out, mut id, mut hops) = (Vec::new(), start, 0usize);
            let most = self.mini_stream.len() / MINI_SECTOR + 1;
            while id != ENDOFCHAIN {
                hops += 1;
                if hops > most {
                    return Err(corrupt("a mini sector chain loops"));
                }
                let from = id as usize * MINI_SECTOR;
                let to = (from + MINI_SECTOR).min(self.mini_stream.len());
                let sector = match self.mini_stream.get(from..to) {
                    Some(s) if !s.is_empty() => s,
                    _ => return Err(corrupt("a mini sector lies outside the mini stream")),
                };
                if append(&mut out, sector, len) {
                    break;
                }
                id = *self
                    .mini_fat
                    .get(id as usize)
                    .ok_or_else(|| corrupt("a mini sector chain leaves the mini FAT"))?;
            }
            Ok(out)
        }
    }

    /// Appends a sector, or what `len` still allows of it; true once `len` bytes are there.
    fn append(out: &mut Vec<u8>, sector: &[u8], len: u64) -> bool {
        let room = usize::try_from(len.saturating_sub(out.len() as u64)).unwrap_or(usize::MAX);
        out.extend_from_slice(sector.get(..sector.len().min(room)).unwrap_or_default());
        out.len() as u64 >= len
    }

    /// UTF-16LE, cut at the first NUL, as calamine reads directory names.
    fn entry_name(raw: &[u8]) -> String {
        let units = raw.as_chunks::<2>().0.iter().map(|&pair| u16::from_le_bytes(pair));
        char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).take_while(|&c| c != '\0').collect()
    }

    fn u32s(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
        bytes.as_chunks::<4>().0.iter().map(|&quad| u32::from_le_bytes(quad))
    }

    fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
        let b = bytes.get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// A scan of the BIFF records of a workbook stream, following calamine's `parse_workbook`
/// record by record, that estimates what calamine will allocate to decode it: the sparse cell
/// lists, one dense range per sheet (the bounding box of its cells, however few), the capacity
/// reserved from DIMENSIONS records, strings and formula text. The estimate is an upper bound
/// by construction; when it passes [`XLS_MEMORY_BUDGET`] the workbook is not handed over.
mod biff {
    use super::*;
    use std::collections::HashMap;

    /// Sizes of calamine's values (`Data`, `Cell<Data>`, `String`, `Dimensions`), in bytes.
    const DATA: u64 = 32;
    const CELL: u64 = 40;
    const STRING: u64 = 24;
    const MERGE: u64 = 16;

    fn corrupt(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::Corrupt, detail)
    }

    fn too_short(what: &str) -> Problem {
        corrupt(format!("{what} record too short"))
    }

    struct Record<'a> {
        typ: u16,
        data: &'a [u8],
        cont: Vec<&'a [u8]>,
        /// Bytes of the stream taken, headers and CONTINUE records included.
        size: usize,
    }

    /// calamine's record iterator: a record, then the CONTINUE records that follow it.
    struct Records<'a> {
        rest: &'a [u8],
    }

    impl<'a> Iterator for Records<'a> {
        type Item = Result<Record<'a>, Problem>;

        fn next(&mut self) -> Option<Self::Item> {
            if self.rest.is_empty() {
                return None;
            }
            Some(self.take())
        }
    }

    impl<'a> Records<'a> {
        fn take(&mut self) -> Result<Record<'a>, Problem> {
            let ends_early = || Problem::new(ProblemKind::Truncated, "workbook stream ends inside a record");
            let (typ, data, size) = self.split().ok_or_else(ends_early)?;
            let mut record = Record { typ, data, cont: Vec::new(), size };
            while self.rest.len() > 4 && u16_at(self.rest, 0) == Some(0x003C) {
                let (_, data, size) = self.split().ok_or_else(ends_early)?;
                record.cont.push(data);
                record.size += size;
                if record.cont.len() > MAX_XLS_CONTINUES {
                    return Err(Problem::new(
                        ProblemKind::LimitExceeded,
                        format!("a record is continued more than {MAX_XLS_CONTINUES} times"),
                    ));
                }
            }
            Ok(record)
        }

        fn split(&mut self) -> Option<(u16, &'a [u8], usize)> {
            let typ = u16_at(self.rest, 0)?;
            let len = usize::from(u16_at(self.rest, 2)?);
            let data = self.rest.get(4..4 + len)?;
            self.rest = self.rest.get(4 + len..)?;
            Some((typ, data, 4 + len))
        }
    }

    #[derive(Default, Clone, Copy)]
    struct BBox(Option<(u32, u32, u32, u32)>);

    impl BBox {
        fn add(&mut self, row: u32, col: u32) {
            self.0 = Some(match self.0 {
                None => (row, row, col, col),
                Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
            });
        }

        fn area(&self) -> u64 {
            self.0
                .map_or(0, |(r0, r1, c0, c1)| (u64::from(r1) - u64::from(r0) + 1) * (u64::from(c1) - u64::from(c0) + 1))
        }
    }

    /// What decoding one sheet costs calamine, in bytes.
    #[derive(Default, Clone, Copy)]
    struct SheetCost {
        /// Kept while the workbook is open: dense ranges, their strings, merged regions.
        kept: u64,
        /// Held only while the sheet is decoded: sparse cell lists and reserved capacity.
        passing: u64,
        /// Copied when the reader asks for the sheet's range.
        copied: u64,
        /// Stream bytes calamine walks for this sheet.
        scanned: u64,
    }

    /// `file_len` is the size of the compound file, which calamine keeps in memory as well.
    pub(super) fn check(stream: &[u8], file_len: usize) -> Result<(), Problem> {
        let mut offsets = Vec::new();
        let mut longest_name = 5u64; // "#REF!"
        let mut sst: Vec<u32> = Vec::new();
        let mut globals = (file_len + stream.len()) as u64; // calamine's copies of the file and the stream
        for record in (Records { rest: stream }) {
            let record = record?;
            let d = record.data;
            match record.typ {
                // FILEPASS: RC4 encryption, or XOR obfuscation calamine would decode as garbage.
                0x002F => {
                    return Err(Problem::new(ProblemKind::Encrypted, "password-protected workbook (FILEPASS record)"))
                }
                // BoundSheet8: offset of the sheet's substream, then its name.
                0x0085 => {
                    let offset = u32_at(d, 0).filter(|_| d.len() >= 6).ok_or_else(|| too_short("BOUNDSHEET"))?;
                    offsets.push(offset as usize);
                    longest_name = longest_name.max(u64::from(d.get(6).copied().unwrap_or(0)));
                    if offsets.len() > MAX_XLS_SHEETS {
                        return Err(Problem::new(
                            ProblemKind::LimitExceeded,
                            format!("workbook lists more than {MAX_XLS_SHEETS} sheets"),
                        ));
                    }
                }
                // Lbl: a defined name, which formulas print in full.
                0x0018 => longest_name = longest_name.max(u64::from(d.get(3).copied().unwrap_or(0))),
                // SST: calamine keeps every string; cells that refer to one get their own copy.
                0x00FC => {
                    sst = sst_lengths(&record)?;
                    let chars: u64 = sst.iter().map(|&c| u64::from(c)).sum();
                    globals = globals.saturating_add(2 * STRING * sst.len() as u64 + 3 * chars);
                }
                0x000A => break,
                _ => {}
            }
        }
        // A sheet or defined name printed in a formula, UTF-8 (3 bytes a character at most),
        // with the cell or area reference after it.
        let reference = 3 * longest_name + 32;

        let mut seen: HashMap<usize, SheetCost> = HashMap::new();
        let (mut kept, mut passing, mut copied, mut scanned, mut work) = (0u64, 0u64, 0u64, 0u64, 0u64);
        for offset in offsets {
            let cost = match seen.get(&offset) {
                Some(cost) => *cost,
                None => {
                    let cost = sheet_cost(stream, offset, &sst, reference, &mut work)?;
                    seen.insert(offset, cost);
                    cost
                }
            };
            kept = kept.saturating_add(cost.kept);
            passing = passing.max(cost.passing);
            copied = copied.max(cost.copied);
            scanned = scanned.saturating_add(cost.scanned);
        }
        if scanned > 4 * stream.len() as u64 + (1 << 20) {
            return Err(Problem::new(ProblemKind::LimitExceeded, "worksheets overlap in the workbook stream"));
        }
        if work > MAX_XLS_FORMULA_WORK {
            return Err(Problem::new(ProblemKind::LimitExceeded, "formulas too long to decode in time"));
        }
        // Decoding holds everything kept so far plus one sheet in passing; reading then copies
        // one sheet and builds its rows.
        let total = globals.saturating_add(kept).saturating_add(passing.max(copied.saturating_mul(2)));
        if total > XLS_MEMORY_BUDGET {
            return Err(Problem::new(
                ProblemKind::LimitExceeded,
                format!("workbook would need about {} MB to decode, limit {} MB", total >> 20, XLS_MEMORY_BUDGET >> 20),
            ));
        }
        Ok(())
    }

    /// Character counts of the shared strings, read as calamine's `parse_sst` reads them.
    fn sst_lengths(record: &Record<'_>) -> Result<Vec<u32>, Problem> {
        let bad = || corrupt("malformed shared string table");
        let mut r = Cursor2 { data: record.data.get(8..).ok_or_else(|| too_short("SST"))?, cont: &record.cont };
        let mut out = Vec::new();
        while !r.data.is_empty() || r.next_continue() {
            if r.data.is_empty() {
                out.push(0);
                continue;
            }
            let cch = u16_at(r.data, 0).ok_or_else(bad)?;
            let flags = *r.data.get(2).ok_or_else(bad)?;
            r.data = r.data.get(3..).ok_or_else(bad)?;
            let mut high_byte = flags & 0x1 != 0;
            let mut runs = 0usize;
            if flags & 0x8 != 0 {
                runs = usize::from(u16_at(r.data, 0).ok_or_else(bad)?);
                r.data = r.data.get(2..).ok_or_else(bad)?;
            }
            let mut ext = 0usize;
            if flags & 0x4 != 0 {
                // calamine reads an i32 and casts it: a negative size is a huge skip, an error.
                ext = usize::try_from(u32_at(r.data, 0).ok_or_else(bad)? as i32).map_err(|_| bad())?;
                r.data = r.data.get(4..).ok_or_else(bad)?;
            }
            let mut left = usize::from(cch);
            while left > 0 {
                let n = if high_byte { (r.data.len() / 2).min(left) } else { r.data.len().min(left) };
                r.data = r.data.get(if high_byte { 2 * n } else { n }..).ok_or_else(bad)?;
                left -= n;
                if left > 0 {
                    if !r.next_continue() {
                        return Err(bad());
                    }
                    high_byte = r.data.first().ok_or_else(bad)? & 0x1 != 0;
                    r.data = r.data.get(1..).ok_or_else(bad)?;
                }
            }
            r.skip(runs.checked_mul(4).ok_or_else(bad)?).ok_or_else(bad)?;
            r.skip(ext).ok_or_else(bad)?;
            out.push(u32::from(cch));
        }
        Ok(out)
    }

    /// A record's data and its CONTINUE records, consumed front to back.
    struct Cursor2<'a, 'b> {
        data: &'a [u8],
        cont: &'b [&'a [u8]],
    }

    impl Cursor2<'_, '_> {
        fn next_continue(&mut self) -> bool {
            match self.cont.split_first() {
                Some((first, rest)) => {
                    self.data = first;
                    self.cont = rest;
                    true
                }
                None => false,
            }
        }

        fn skip(&mut self, mut len: usize) -> Option<()> {
            while len > 0 {
                if self.data.is_empty() && !self.next_continue() {
                    return None;
                }
                let n = len.min(self.data.len());
                self.data = self.data.get(n..)?;
                len -= n;
            }
            Some(())
        }
    }

    fn sheet_cost(
        stream: &[u8],
        offset: usize,
        sst: &[u32],
        reference: u64,
        work: &mut u64,
    ) -> Result<SheetCost, Problem> {
        let sheet = stream.get(offset..).ok_or_else(|| corrupt("a sheet record points past the workbook stream"))?;
        let (mut cells, mut formulas) = (BBox::default(), BBox::default());
        let (mut n_cells, mut n_formulas, mut reserved, mut text, mut merges) = (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut cost = SheetCost::default();
        let mut formula_at = (0u32, 0u32);
        let (mut seen_bof, mut depth) = (false, 0usize);
        for record in (Records { rest: sheet }) {
            let record = record?;
            cost.scanned += record.size as u64;
            let d = record.data;
            if depth > 0 {
                // A nested substream (an embedded chart): calamine skips its records.
                match record.typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let at = |min: usize, what: &str| -> Result<(u32, u32), Problem> {
                if d.len() < min {
                    return Err(too_short(what));
                }
                Ok((u32::from(u16_at(d, 0).unwrap_or(0)), u32::from(u16_at(d, 2).unwrap_or(0))))
            };
            match record.typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x0200 => reserved = reserved.saturating_add(dimensions(d)?),
                0x0203 | 0x0205 | 0x027E => {
                    let (min, what) = match record.typ {
                        0x0203 => (14, "NUMBER"),
                        0x0205 => (8, "BOOLERR"),
                        _ => (10, "RK"),
                    };
                    let (row, col) = at(min, what)?;
                    cells.add(row, col);
                    n_cells += 1;
                }
                0x0204 | 0x00D6 => {
                    let (row, col) = at(6, "LABEL")?;
                    cells.add(row, col);
                    n_cells += 1;
                    // calamine reserves the declared length, whatever the record holds.
                    text += 3 * u64::from(u16_at(d, 6).unwrap_or(0));
                }
                0x0207 => {
                    cells.add(formula_at.0, formula_at.1);
                    n_cells += 1;
                    text += 3 * u64::from(u16_at(d, 0).unwrap_or(0));
                }
                0x00FD => {
                    let (row, col) = at(10, "LABELSST")?;
                    let index = u32_at(d, 6).unwrap_or(u32::MAX) as usize;
                    if let Some(&chars) = sst.get(index) {
                        cells.add(row, col);
                        n_cells += 1;
                        text += 3 * u64::from(chars);
                    }
                }
                0x00BD => {
                    let (row, first) = at(6, "MULRK")?;
                    let last = u32::from(u16_at(d, d.len() - 2).unwrap_or(0));
                    if last < first || d.len() as u64 != 6 + 6 * u64::from(last - first + 1) {
                        return Err(corrupt("malformed MULRK record"));
                    }
                    cells.add(row, first);
                    cells.add(row, last);
                    n_cells += u64::from(last - first + 1);
                }
                0x00E5 => {
                    let count = u64::from(u16_at(d, 0).ok_or_else(|| too_short("MERGECELLS"))?);
                    if (d.len() as u64) < 2 + 8 * count {
                        return Err(too_short("MERGECELLS"));
                    }
                    merges += count;
                }
                0x0006 => {
                    formula_at = at(20, "FORMULA")?;
                    cells.add(formula_at.0, formula_at.1);
                    formulas.add(formula_at.0, formula_at.1);
                    n_cells += 1;
                    n_formulas += 1;
                    let (chars, moved) = formula_text(d.get(20..).unwrap_or_default(), reference)?;
                    text += chars;
                    *work = work.saturating_add(moved);
                }
                0x000A => break,
                _ => {}
            }
        }
        let dense = DATA * cells.area() + STRING * formulas.area();
        cost.kept = dense.saturating_add(text).saturating_add(MERGE * merges);
        // Cell lists grow by doubling: up to twice their length, while the dense range is built.
        cost.passing =
            (2 * CELL * (n_cells + n_formulas)).saturating_add(CELL.saturating_mul(reserved)).saturating_add(dense);
        cost.copied = (DATA * cells.area()).saturating_add(text);
        Ok(cost)
    }

    /// Cells calamine reserves for a DIMENSIONS record, read as calamine reads it.
    fn dimensions(d: &[u8]) -> Result<u64, Problem> {
        let (first_row, last_row, mut first_col, last_col) = match d.len() {
            10 => (
                u32::from(u16_at(d, 0).unwrap_or(0)),
                u32::from(u16_at(d, 2).unwrap_or(0)),
                u32::from(u16_at(d, 4).unwrap_or(0)),
                u32::from(u16_at(d, 6).unwrap_or(0)),
            ),
            14 | 16 => (
                u32_at(d, 0).unwrap_or(0),
                u32_at(d, 4).unwrap_or(0),
                u32::from(u16_at(d, 8).unwrap_or(0)),
                u32::from(u16_at(d, 10).unwrap_or(0)),
            ),
            _ => return Err(corrupt("DIMENSIONS record has an invalid length")),
        };
        if first_col > 0xFF || last_col < first_col {
            first_col = 0;
        }
        if last_row == 0 || last_col == 0 {
            return Ok(1);
        }
        // calamine subtracts without checking: an inverted range panics, or in a release
        // build wraps to a reservation the allocator cannot meet (an abort, not an error).
        let rows = (last_row - 1).checked_sub(first_row).ok_or_else(|| corrupt("DIMENSIONS record is inverted"))?;
        let cols = (last_col - 1).checked_sub(first_col).ok_or_else(|| corrupt("DIMENSIONS record is inverted"))?;
        Ok((u64::from(rows) + 1).saturating_mul(u64::from(cols) + 1))
    }

    /// Upper bounds on the text calamine prints for one formula and on the bytes it moves
    /// doing so. Tokens are not decoded: every byte that could be a token is counted as one,
    /// so the bounds hold whatever the formula is.
    fn formula_text(rgce: &[u8], reference: u64) -> Result<(u64, u64), Problem> {
        let cce = usize::from(u16_at(rgce, 0).ok_or_else(|| too_short("FORMULA"))?);
        let tokens = rgce.get(2..2 + cce).ok_or_else(|| corrupt("a formula is longer than its record"))?;
        // 16 characters a byte covers function names, operators, parentheses and plain
        // references; 160 covers calamine's message for a formula it cannot decode.
        let mut chars = 160 + 16 * cce as u64;
        let mut spaces = 0u64;
        for (i, &b) in tokens.iter().enumerate() {
            match b {
                // PtgAttrSpace: up to 255 spaces, inserted one at a time.
                0x19 if matches!(tokens.get(i + 1), Some(0x40 | 0x41)) => {
                    spaces += u64::from(tokens.get(i + 3).copied().unwrap_or(0));
                }
                // Names and 3-D references print a sheet or defined name in full.
                0x23 | 0x43 | 0x63 | 0x39 | 0x59 | 0x79 | 0x3A..=0x3D | 0x5A..=0x5D | 0x7A..=0x7D => {
                    chars += reference;
                }
                _ => {}
            }
        }
        chars += spaces;
        Ok((chars, (cce as u64 + spaces).saturating_mul(chars)))
    }
}

#[cfg(test)]
mod tests;
