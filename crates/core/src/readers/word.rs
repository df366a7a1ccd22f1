//! The DOCX reader, by hand with zip + quick-xml (ODT is read by [`crate::readers::odf`]).
//!
//! What the DOCX reader reads: the main document part (found through `_rels/.rels`, normally
//! `word/document.xml`). Headers, footers, footnotes, endnotes and comments live in other parts and
//! are not read: referral forms keep their questions and answers in the body.
//!
//! The shape it produces ([`Document`]):
//! - body paragraphs outside tables → `Block::Paragraph { at: "paragraph N" }`, N counting every
//!   body paragraph (empty ones are counted but not emitted);
//! - tables → `Block::Table { at: "table N" }`, rows `at: "row N"` (every `w:tr` counted);
//!   a cell's text is its paragraphs joined with "\n"; a horizontally merged cell (`w:gridSpan`)
//!   keeps its text in the first position and "" in the positions it covers; a vertically merged
//!   continuation cell (`w:vMerge` without `restart`) is "" ; `w:gridBefore` adds leading "" cells;
//! - **nested tables** are flattened: the rows of a table inside a cell are appended to the outer
//!   table right after the row that contains it, labelled `"row 3 / row 1"` (outer row / inner row);
//!   the containing cell keeps only its own paragraphs;
//! - text boxes (`w:txbxContent`) give paragraphs of their own, delivered to the enclosing cell or to
//!   the body just before the paragraph that anchors them; of an `mc:AlternateContent`, only the
//!   first `mc:Choice` is read (the `mc:Fallback` repeats the same text);
//! - checkboxes become [`CHECKED`] / [`UNCHECKED`] at their position, with a space between a mark and
//!   adjacent text: content controls (`w14:checkbox`; their displayed glyph is not repeated), legacy
//!   form fields (`w:ffData/w:checkBox`, `w:checked` over `w:default`), `w:sym` symbol glyphs and
//!   runs set in Wingdings, and literal ☐ ☒ ☑ characters;
//! - legacy form fields: the field code (`w:instrText`) is never output; a FORMTEXT's result (the
//!   runs between `separate` and `end`) is its value; a FORMDROPDOWN gives its selected entry;
//! - content controls still showing their placeholder ("Click or tap here to enter text.") give "";
//! - deleted text (`w:del`, `w:moveFrom`) and hidden text (`w:vanish`) are skipped, inserted text
//!   kept; `w:tab` → "\t", `w:br`/`w:cr` → "\n". Only direct run formatting is looked at:
//!   text hidden, or set in Wingdings, through a character style is read as plain text.
//!
//! Content that is there but not read is said so, as [`ProblemKind::Unsupported`]: `w:altChunk`
//! imports (HTML, RTF, another DOCX) and embedded documents (OLE objects whose ProgID is a Word,
//! Excel, Acrobat or packaged file: a DASH embedded in the referral form). A document with no text
//! at all is [`ProblemKind::Scanned`] when it holds pictures, [`ProblemKind::Unrecognised`] otherwise.
//!
//! Safety: zip access through [`Archive`] (entry count, size and ratio limits); XML through
//! [`xml::XmlReader`], which caps element depth at `max_depth × `[`crate::limits::xml::DEPTH_FACTOR`], checks the deadline, and never
//! expands entities other than the five predefined ones and character references (a DTD declaring
//! entities, or references to undeclared ones, is reported as a problem and the references dropped).
//! Table cells count against `max_sheet_cells`. Problems describe structure only, never text.

use crate::document::{Block, Document, Paragraph, Problem, ProblemKind, Row, Table, CHECKED, UNCHECKED};
use crate::limits::{Deadline, Limits};
use crate::limits::word::{MAX_FIELDS, MAX_INSTR, MAX_SPAN};
use crate::readers::archive::Archive;
use crate::readers::paragraph;
use crate::readers::xml::{self, Item, Ns, XmlReader};

pub fn read_docx(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    let mut archive = match Archive::open(bytes, limits) {
        Ok(a) => a,
        Err(p) => return Document { problems: vec![p], ..Document::default() },
    };
    let mut doc = Document::default();
    let part = main_part(&mut archive, limits, deadline);
    let raw = match archive.read(&part) {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            doc.problems.push(Problem::new(ProblemKind::Corrupt, "Word package has no main document part"));
            return doc;
        }
        Err(p) => {
            doc.problems.push(p);
            return doc;
        }
    };
    let text = xml::decode(&raw, "main document part", &mut doc.problems);
    let mut walker = Docx::new(limits);
    let mut reader = XmlReader::new(&text, "main document part", limits, deadline);
    xml::walk(&mut walker, &mut reader);
    doc.problems.append(&mut walker.problems);
    doc.problems.extend(walker.unread_content_problems());
    doc.problems.extend(reader.entity_problem());
    doc.blocks = walker.blocks;
    if doc.blocks.is_empty() && doc.problems.is_empty() {
        doc.problems.push(paragraph::no_text_problem(walker.saw_images));
    }
    doc
}

/// The main document part named by the package relationships, or `word/document.xml`.
fn main_part(archive: &mut Archive<'_>, limits: &Limits, deadline: Deadline) -> String {
    const DEFAULT: &str = "word/document.xml";
    let Ok(Some(raw)) = archive.read("_rels/.rels") else { return DEFAULT.to_string() };
    let mut ignored = Vec::new();
    let text = xml::decode(&raw, "package relationships", &mut ignored);
    let mut reader = XmlReader::new(&text, "package relationships", limits, deadline);
    let mut found = None;
    while let Ok(Some(item)) = reader.next() {
        if let Item::Start(Ns::Rels, e) = item {
            if xml::local(&e) != "Relationship" {
                continue;
            }
            let is_main = reader.attr(&e, Ns::None, "Type").is_some_and(|t| t.ends_with("/officeDocument"));
            if let (true, Some(target)) = (is_main, reader.attr(&e, Ns::None, "Target")) {
                found = Some(target.trim_start_matches('/').to_string());
                break;
            }
        }
    }
    match found {
        Some(name) if archive.contains(&name) => name,
        _ => DEFAULT.to_string(),
    }
}

/// What an open element means to the walker; pushed on Start, handled again on End.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    P,
    R,
    RPr,
    T,
    InstrText,
    Tbl,
    Tr,
    TrPr,
    Tc,
    TcPr,
    Sdt,
    SdtPr,
    SdtContent,
    FldBegin,
    FfCheckBox,
    DdList,
    Alt,
    Other,
}

enum Frame {
    P(String),
    Tbl(TableBuf),
}

#[derive(Default)]
struct TableBuf {
    /// "table N" for a top-level table; None for a nested one.
    number: Option<usize>,
    rows: Vec<Row>,
    /// `w:tr` seen so far (the current row's number while one is open).
    tr_count: usize,
    row: Option<Vec<String>>,
    cell: Option<CellBuf>,
    /// Rows of nested tables waiting for the current row to end.
    nested: Vec<Row>,
}

struct CellBuf {
    paragraphs: Vec<String>,
    span: usize,
    covered: bool,
}

#[derive(Default)]
struct Run {
    hidden: bool,
    /// A symbol font (Wingdings…) set on the run: its characters are pictures, not letters.
    symbol_font: Option<String>,
}

#[derive(Default)]
struct Field {
    instr: String,
    /// After `separate`: the field's result is being shown.
    in_result: bool,
    checkbox: Option<FfCheckBox>,
    dropdown: Option<DropDown>,
    mark_done: bool,
    result_text: bool,
}

#[derive(Default)]
struct FfCheckBox {
    default: Option<bool>,
    checked: Option<bool>,
}

#[derive(Default)]
struct DropDown {
    entries: Vec<String>,
    result: Option<usize>,
    default: Option<usize>,
}

#[derive(Default)]
struct Sdt {
    checkbox: Option<bool>,
    /// Glyphs the control declares for its states (w14:checkedState / w14:uncheckedState).
    glyphs: Vec<char>,
    placeholder: bool,
}

struct Docx<'l> {
    limits: &'l Limits,
    blocks: Vec<Block>,
    problems: Vec<Problem>,
    els: Vec<El>,
    /// While Some(n): inside a skipped element opened when `els` had n entries.
    skip_from: Option<usize>,
    frames: Vec<Frame>,
    body_paragraphs: usize,
    tables: usize,
    cells: usize,
    run: Run,
    fields: Vec<Field>,
    sdts: Vec<Sdt>,
    pending_mark: Option<char>,
    /// Per open mc:AlternateContent: whether a branch has been taken.
    alt: Vec<bool>,
    saw_images: bool,
    /// `w:altChunk` parts (content imported from HTML, RTF, another DOCX…): not read.
    alt_chunks: usize,
    /// ProgIDs of embedded documents (OLE objects that are spreadsheets, documents, PDFs).
    embedded: Vec<String>,
    stop: bool,
}

impl<'l> Docx<'l> {
    fn new(limits: &'l Limits) -> Self {
        Docx {
            limits,
            blocks: Vec::new(),
            problems: Vec::new(),
            els: Vec::new(),
            skip_from: None,
            frames: Vec::new(),
            body_paragraphs: 0,
            tables: 0,
            cells: 0,
            run: Run::default(),
            fields: Vec::new(),
            sdts: Vec::new(),
            pending_mark: None,
            alt: Vec::new(),
            saw_images: false,
            alt_chunks: 0,
            embedded: Vec::new(),
            stop: false,
        }
    }

    /// Content the document holds but this reader does not read.
    fn unread_content_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.alt_chunks > 0 {
            problems.push(Problem::new(
                ProblemKind::Unsupported,
                format!("document imports {} part(s) of another format (altChunk) that are not read", self.alt_chunks),
            ));
        }
        if !self.embedded.is_empty() {
            problems.push(Problem::new(
                ProblemKind::Unsupported,
                format!("document embeds other documents that are not read ({})", self.embedded.join(", ")),
            ));
        }
        problems
    }

    fn skip(&mut self) -> El {
        self.skip_from = Some(self.els.len());
        El::Other
    }

    fn parent(&self) -> Option<El> {
        self.els.last().copied()
    }

    fn inside(&self, el: El) -> bool {
        self.els.iter().rev().any(|e| *e == el)
    }
}

impl xml::Walk for Docx<'_> {
    type El = El;
    const SKIPPED: El = El::Other;

    fn els(&mut self) -> &mut Vec<El> {
        &mut self.els
    }

    fn skip_from(&mut self) -> &mut Option<usize> {
        &mut self.skip_from
    }

    fn open(&mut self, reader: &XmlReader<'_>, ns: Ns, e: &quick_xml::events::BytesStart<'_>) -> El {
        let name = xml::local(e);
        match ns {
            Ns::W => {}
            Ns::W14 => {
                if self.inside(El::SdtPr) {
                    match name {
                        "checkbox" => self.sdt_checkbox(None),
                        "checked" => {
                            let on = xml::on_off(reader.attr(e, Ns::W14, "val").as_deref());
                            self.sdt_checkbox(Some(on));
                        }
                        "checkedState" | "uncheckedState" => {
                            let glyph = reader
                                .attr(e, Ns::W14, "val")
                                .and_then(|v| u32::from_str_radix(v.trim(), 16).ok())
                                .and_then(char::from_u32);
                            if let (Some(sdt), Some(g)) = (self.sdts.last_mut(), glyph) {
                                if sdt.glyphs.len() < 8 {
                                    sdt.glyphs.push(g);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                return El::Other;
            }
            Ns::Mc => {
                return match name {
                    "AlternateContent" => {
                        self.alt.push(false);
                        El::Alt
                    }
                    "Choice" | "Fallback" => match self.alt.last_mut() {
                        Some(taken) if !*taken => {
                            *taken = true;
                            El::Other
                        }
                        _ => self.skip(),
                    },
                    _ => El::Other,
                };
            }
            Ns::Drawing => {
                if name == "blip" || name == "pic" {
                    self.saw_images = true;
                }
                return El::Other;
            }
            Ns::Vml => {
                if name == "imagedata" {
                    self.saw_images = true;
                }
                return El::Other;
            }
            Ns::OfficeVml => {
                if name == "OLEObject" {
                    let prog_id = reader.attr(e, Ns::None, "ProgID").unwrap_or_default();
                    if is_document_prog_id(&prog_id) && self.embedded.len() < 8 && !self.embedded.contains(&prog_id) {
                        self.embedded.push(prog_id);
                    }
                }
                return El::Other;
            }
            _ => return El::Other,
        }
        let val = || reader.attr(e, Ns::W, "val");
        match name {
            "p" => {
                let mut text = String::new();
                if let Some(mark) = self.pending_mark.take() {
                    text.push(mark);
                }
                self.frames.push(Frame::P(text));
                El::P
            }
            "r" => {
                self.run = Run::default();
                El::R
            }
            "rPr" if self.parent() == Some(El::R) => El::RPr,
            "vanish" | "specVanish" if self.parent() == Some(El::RPr) => {
                self.run.hidden = xml::on_off(val().as_deref());
                El::Other
            }
            "rFonts" if self.parent() == Some(El::RPr) => {
                let font =
                    ["ascii", "hAnsi"].iter().filter_map(|a| reader.attr(e, Ns::W, a)).find(|f| is_symbol_font(f));
                self.run.symbol_font = font;
                El::Other
            }
            "t" => El::T,
            "instrText" => El::InstrText,
            "tab" | "ptab" if self.parent() == Some(El::R) => {
                self.emit_run_text("\t");
                El::Other
            }
            "br" | "cr" if self.parent() == Some(El::R) => {
                self.emit_run_text("\n");
                El::Other
            }
            "noBreakHyphen" if self.parent() == Some(El::R) => {
                self.emit_run_text("-");
                El::Other
            }
            "sym" => {
                let font = reader.attr(e, Ns::W, "font").unwrap_or_default();
                let code = reader.attr(e, Ns::W, "char").and_then(|c| u32::from_str_radix(c.trim(), 16).ok());
                if let Some(glyph) = code.and_then(|c| paragraph::symbol_glyph(&font, c)) {
                    if !self.in_checkbox_sdt() {
                        let mut s = [0u8; 4];
                        self.emit_run_text(glyph.encode_utf8(&mut s));
                    }
                }
                El::Other
            }
            "fldChar" => self.fld_char(reader.attr(e, Ns::W, "fldCharType").as_deref()),
            "checkBox" if self.inside(El::FldBegin) => {
                if let Some(f) = self.fields.last_mut() {
                    f.checkbox = Some(FfCheckBox::default());
                }
                El::FfCheckBox
            }
            "default" if self.parent() == Some(El::FfCheckBox) => {
                let on = xml::on_off(val().as_deref());
                if let Some(cb) = self.fields.last_mut().and_then(|f| f.checkbox.as_mut()) {
                    cb.default = Some(on);
                }
                El::Other
            }
            "checked" if self.parent() == Some(El::FfCheckBox) => {
                let on = xml::on_off(val().as_deref());
                if let Some(cb) = self.fields.last_mut().and_then(|f| f.checkbox.as_mut()) {
                    cb.checked = Some(on);
                }
                El::Other
            }
            "ddList" if self.inside(El::FldBegin) => {
                if let Some(f) = self.fields.last_mut() {
                    f.dropdown = Some(DropDown::default());
                }
                El::DdList
            }
            "result" | "default" | "listEntry" if self.parent() == Some(El::DdList) => {
                let v = val();
                if let Some(dd) = self.fields.last_mut().and_then(|f| f.dropdown.as_mut()) {
                    match name {
                        "result" => dd.result = v.and_then(|v| v.trim().parse().ok()),
                        "default" => dd.default = v.and_then(|v| v.trim().parse().ok()),
                        _ if dd.entries.len() < 256 => dd.entries.push(v.unwrap_or_default()),
                        _ => {}
                    }
                }
                El::Other
            }
            "tbl" => {
                let nested = self.frames.iter().any(|f| matches!(f, Frame::Tbl(_)));
                let number = if nested {
                    None
                } else {
                    self.tables += 1;
                    Some(self.tables)
                };
                self.frames.push(Frame::Tbl(TableBuf { number, ..TableBuf::default() }));
                El::Tbl
            }
            "tr" => {
                if let Some(Frame::Tbl(t)) = self.frames.last_mut() {
                    t.tr_count += 1;
                    t.row = Some(Vec::new());
                    t.cell = None;
                }
                El::Tr
            }
            "trPr" => El::TrPr,
            "gridBefore" if self.parent() == Some(El::TrPr) => {
                let n = val().and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0).min(MAX_SPAN);
                for _ in 0..n {
                    self.push_cell(String::new());
                }
                El::Other
            }
            "tc" => {
                if let Some(Frame::Tbl(t)) = self.frames.last_mut() {
                    if t.row.is_none() {
                        t.row = Some(Vec::new());
                    }
                    t.cell = Some(CellBuf { paragraphs: Vec::new(), span: 1, covered: false });
                }
                El::Tc
            }
            "tcPr" => El::TcPr,
            "gridSpan" | "vMerge" | "hMerge" if self.parent() == Some(El::TcPr) => {
                let v = val();
                if let Some(Frame::Tbl(TableBuf { cell: Some(c), .. })) = self.frames.last_mut() {
                    match name {
                        "gridSpan" => {
                            c.span = v.and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(1).clamp(1, MAX_SPAN)
                        }
                        _ => c.covered = v.is_none_or(|v| v.trim() == "continue"),
                    }
                }
                El::Other
            }
            "sdt" => {
                self.sdts.push(Sdt::default());
                El::Sdt
            }
            "sdtPr" => El::SdtPr,
            "showingPlcHdr" if self.parent() == Some(El::SdtPr) => {
                let on = xml::on_off(val().as_deref());
                if let Some(sdt) = self.sdts.last_mut() {
                    sdt.placeholder = on;
                }
                El::Other
            }
            // Some producers write the checkbox control in the main namespace.
            "checkbox" if self.inside(El::SdtPr) => {
                self.sdt_checkbox(None);
                El::Other
            }
            "sdtContent" => {
                if let Some(checked) = self.sdts.last().and_then(|s| s.checkbox) {
                    self.emit_mark(checked);
                }
                El::SdtContent
            }
            "del" | "moveFrom" | "pPr" | "sectPr" | "sdtEndPr" | "tblPr" | "tblGrid" | "fldData" | "delInstrText"
            | "delText" => self.skip(),
            "altChunk" => {
                self.alt_chunks += 1;
                El::Other
            }
            _ => El::Other,
        }
    }

    fn close(&mut self, el: El) {
        match el {
            El::P => {
                // A field whose instruction never ended is broken: it must not hide the rest of the
                // document (no instruction spans paragraphs).
                while self.fields.last().is_some_and(|f| !f.in_result) {
                    self.fields.pop();
                }
                if let Some(Frame::P(text)) = self.frames.pop() {
                    self.deliver_paragraph(paragraph::finish_text(&text));
                }
            }
            El::R => self.run = Run::default(),
            El::Tc => {
                let cell = match self.frames.last_mut() {
                    Some(Frame::Tbl(t)) => t.cell.take(),
                    _ => None,
                };
                if let Some(c) = cell {
                    let text = if c.covered { String::new() } else { c.paragraphs.join("\n") };
                    self.push_cell(text);
                    for _ in 1..c.span {
                        self.push_cell(String::new());
                    }
                }
            }
            El::Tr => {
                if let Some(Frame::Tbl(t)) = self.frames.last_mut() {
                    finish_row(t);
                }
            }
            El::Tbl => {
                if let Some(Frame::Tbl(mut t)) = self.frames.pop() {
                    finish_row(&mut t);
                    t.rows.append(&mut t.nested);
                    self.deliver_table(t);
                }
            }
            El::FldBegin => {
                let mark = self.fields.last_mut().and_then(|f| {
                    let cb = f.checkbox.as_ref()?;
                    f.mark_done = true;
                    Some(cb.checked.or(cb.default).unwrap_or(false))
                });
                if let Some(checked) = mark {
                    self.emit_mark(checked);
                }
            }
            El::Sdt => {
                // A checkbox mark still waiting for a paragraph does not outlive its control.
                let was_checkbox = self.sdts.pop().is_some_and(|s| s.checkbox.is_some());
                if was_checkbox {
                    self.pending_mark = None;
                }
            }
            El::Alt => {
                self.alt.pop();
            }
            _ => {}
        }
    }

    fn text(&mut self, t: &str) {
        match self.parent() {
            Some(El::T) => {}
            Some(El::InstrText) => {
                if let Some(f) = self.fields.last_mut() {
                    let room = MAX_INSTR.saturating_sub(f.instr.len());
                    f.instr.extend(t.chars().take(room));
                }
                return;
            }
            _ => return,
        }
        if self.text_suppressed() {
            return;
        }
        let mut out = String::with_capacity(t.len());
        let symbol_font = self.run.symbol_font.clone();
        let checkbox_glyphs: Option<Vec<char>> =
            self.sdts.iter().rev().find(|s| s.checkbox.is_some()).map(|s| s.glyphs.clone());
        for c in t.chars() {
            // The displayed glyph of a checkbox control: its state is already written.
            let control_glyph =
                |c: char| checkbox_glyphs.as_ref().is_some_and(|g| g.contains(&c) || paragraph::is_box_glyph(c));
            if control_glyph(c) {
                continue;
            }
            let shown = match &symbol_font {
                Some(font) => paragraph::symbol_glyph(font, c as u32),
                None => Some(c),
            };
            match shown {
                Some(g) if control_glyph(g) => {}
                Some(g) => out.push(g),
                None => {}
            }
        }
        if let Some(f) = self.fields.last_mut() {
            if f.in_result && !out.is_empty() {
                f.result_text = true;
            }
        }
        self.emit_text(&out);
    }

    fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }

    fn stopped(&self) -> bool {
        self.stop
    }
}

impl Docx<'_> {
    fn sdt_checkbox(&mut self, checked: Option<bool>) {
        if let Some(sdt) = self.sdts.last_mut() {
            sdt.checkbox = Some(checked.unwrap_or(sdt.checkbox.unwrap_or(false)));
        }
    }

    fn fld_char(&mut self, kind: Option<&str>) -> El {
        match kind.map(str::trim) {
            Some("begin") => {
                if self.fields.len() < MAX_FIELDS {
                    self.fields.push(Field::default());
                    return El::FldBegin;
                }
                El::Other
            }
            Some("separate") => {
                if let Some(f) = self.fields.last_mut() {
                    f.in_result = true;
                }
                El::Other
            }
            Some("end") => {
                if let Some(f) = self.fields.pop() {
                    self.end_field(f);
                }
                El::Other
            }
            _ => El::Other,
        }
    }

    fn end_field(&mut self, f: Field) {
        if f.mark_done {
            return;
        }
        let instr = f.instr.trim_start().to_ascii_uppercase();
        if instr.starts_with("FORMCHECKBOX") {
            self.emit_mark(false);
        } else if let Some(dd) = f.dropdown {
            if !f.result_text {
                let i = dd.result.or(dd.default).unwrap_or(0);
                if let Some(entry) = dd.entries.get(i) {
                    let entry = entry.clone();
                    self.emit_text(&entry);
                }
            }
        }
    }

    fn push_cell(&mut self, text: String) {
        if self.cells >= self.limits.max_sheet_cells {
            if !self.stop {
                self.problems.push(Problem::new(
                    ProblemKind::LimitExceeded,
                    format!("more than {} table cells", self.limits.max_sheet_cells),
                ));
                self.stop = true;
            }
            return;
        }
        if let Some(Frame::Tbl(TableBuf { row: Some(row), .. })) = self.frames.last_mut() {
            row.push(text);
            self.cells += 1;
        }
    }

    fn deliver_paragraph(&mut self, text: String) {
        let cell = self.frames.iter_mut().rev().find_map(|f| match f {
            Frame::Tbl(t) => Some(t.cell.as_mut()),
            Frame::P(_) => None,
        });
        match cell {
            Some(Some(cell)) => {
                if !text.is_empty() {
                    cell.paragraphs.push(text);
                }
            }
            Some(None) => {} // a paragraph between cells: not part of any cell
            None => {
                self.body_paragraphs += 1;
                if !text.is_empty() {
                    let at = format!("paragraph {}", self.body_paragraphs);
                    self.blocks.push(Block::Paragraph(Paragraph { text, at }));
                }
            }
        }
    }

    fn deliver_table(&mut self, t: TableBuf) {
        let outer = self.frames.iter_mut().rev().find_map(|f| match f {
            Frame::Tbl(t) => Some(t),
            Frame::P(_) => None,
        });
        match outer {
            Some(outer) => {
                let n = outer.tr_count;
                outer
                    .nested
                    .extend(t.rows.into_iter().map(|r| Row { at: format!("row {n} / {}", r.at), cells: r.cells, spans: r.spans }));
            }
            None => {
                if !t.rows.is_empty() {
                    let at = format!("table {}", t.number.unwrap_or(self.tables));
                    self.blocks.push(Block::Table(Table { at, rows: t.rows }));
                }
            }
        }
    }

    fn in_checkbox_sdt(&self) -> bool {
        self.sdts.iter().any(|s| s.checkbox.is_some())
    }

    fn text_suppressed(&self) -> bool {
        self.run.hidden || self.fields.iter().any(|f| !f.in_result) || self.sdts.iter().any(|s| s.placeholder)
    }

    /// Text a run element stands for (a tab, a break, a symbol), unless the run is not shown.
    fn emit_run_text(&mut self, s: &str) {
        if !self.text_suppressed() {
            self.emit_text(s);
        }
    }

    fn emit_text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Frame::P(text)) = self.frames.last_mut() {
            paragraph::push_normalised(text, s);
        }
    }

    fn emit_mark(&mut self, checked: bool) {
        let mark = if checked { CHECKED } else { UNCHECKED };
        // A checkbox inside another field's instruction is not displayed.
        let outer_fields = self.fields.len().saturating_sub(1);
        if self.fields.iter().take(outer_fields).any(|f| !f.in_result) {
            return;
        }
        match self.frames.last_mut() {
            Some(Frame::P(text)) => text.push(mark),
            _ => self.pending_mark = Some(mark),
        }
    }
}

fn finish_row(t: &mut TableBuf) {
    if let Some(cell) = t.cell.take() {
        // A cell left open by a cut document.
        if let Some(row) = t.row.as_mut() {
            row.push(if cell.covered { String::new() } else { cell.paragraphs.join("\n") });
        }
    }
    if let Some(cells) = t.row.take().filter(|c| !c.is_empty()) {
        t.rows.push(Row { at: format!("row {}", t.tr_count), cells, spans: Vec::new() });
    }
    t.rows.append(&mut t.nested);
}

/// Whether an OLE object's ProgID names a document (whose content would be part of the referral).
fn is_document_prog_id(prog_id: &str) -> bool {
    let known = ["Word.", "Excel.", "AcroExch.", "Acrobat.", "Package", "opendocument.", "soffice."];
    prog_id.len() <= 48
        && prog_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        && known.iter().any(|k| prog_id.starts_with(k))
}

fn is_symbol_font(font: &str) -> bool {
    font.trim().to_ascii_lowercase().starts_with("wingdings")
}

#[cfg(test)]
pub(crate) mod tests;
