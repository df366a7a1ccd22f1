//! OpenDocument readers (ODT text documents, ODS spreadsheets) by hand with zip + quick-xml: one
//! walker over `content.xml` serves both, since both keep their text in `text:p` and their grids in
//! `table:table`.
//!
//! The package is checked first: an encrypted package (`manifest:encryption-data` in
//! `META-INF/manifest.xml`) is [`ProblemKind::Encrypted`]; a `mimetype` naming another kind of
//! document (a presentation, a drawing…) is [`ProblemKind::Unsupported`]. Only `content.xml` is
//! read: headers and footers (in `styles.xml`) are not.
//!
//! The shape it produces ([`Document`]):
//! - ODT: paragraphs (`text:p`, `text:h`, list items) outside tables → `"paragraph N"`; tables →
//!   `"table N"`. ODS: one table per sheet, `"sheet 'NAME'"`, every sheet present even when empty.
//! - rows are `"row N"` with their real 1-based number: empty rows are not emitted but counted, so
//!   `table:number-rows-repeated` moves the count on without materialising anything;
//! - cells: their paragraphs joined with "\n"; without text, `office:value` (or the date, time,
//!   boolean or string value); `table:covered-table-cell` (the positions a merged cell covers) → "";
//!   trailing empty cells are dropped (in an ODT, one written on its own after a non-empty cell
//!   is kept as "": a value left blank), empty cells before a non-empty one are "";
//! - repeats of **non-empty** rows and cells are materialised up to [`MAX_REPEAT`] copies each, and
//!   no cell is placed beyond column [`MAX_COLUMNS`]; past those caps the rest is reported as
//!   [`ProblemKind::LimitExceeded`]. Every materialised cell (padding included) counts against
//!   `max_sheet_cells`, and the text of materialised cells and `text:s` spaces against
//!   `max_decompressed_bytes` (repeats multiply text); reaching either stops the reading with a
//!   `LimitExceeded` problem;
//! - nested tables (a table inside a cell) are flattened as in the Word reader: their rows follow
//!   the row that contains them, labelled `"row 3 / row 1"`;
//! - form controls, at the place of their `draw:control`: a `form:checkbox` (`form:current-state`)
//!   or `form:radio` (`form:current-selected`) becomes ☒/☐ followed by the control's label; a text,
//!   date, number or combo box gives its current value; a list box its selected entries joined
//!   with ", ". ☐ ☒ ☑ typed as text come through as text (☑ as ☒);
//! - skipped: notes (footnotes, endnotes), annotations, tracked-change records (deleted text),
//!   text marked hidden, validation messages, index templates.
//!
//! White space in paragraphs follows ODF: runs of spaces, tabs and newlines in the XML collapse to
//! one space; `text:s`, `text:tab` and `text:line-break` give spaces, "\t" and "\n".

use crate::document::{Block, Document, Paragraph, Problem, ProblemKind, Row, Table, CHECKED, UNCHECKED};
use crate::limits::{Deadline, Limits};
use crate::limits::odf::{MAX_COLUMNS, MAX_CONTROLS, MAX_REPEAT, MAX_SPACES};
use crate::readers::archive::Archive;
use crate::readers::paragraph;
use crate::readers::xml::{self, Item, Ns, XmlReader};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Spreadsheet,
}

impl Mode {
    fn mime(self) -> &'static str {
        match self {
            Mode::Text => "application/vnd.oasis.opendocument.text",
            Mode::Spreadsheet => "application/vnd.oasis.opendocument.spreadsheet",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Mode::Text => "text document",
            Mode::Spreadsheet => "spreadsheet",
        }
    }
}

pub fn read_odt(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    read(bytes, limits, deadline, Mode::Text)
}

pub fn read_ods(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    read(bytes, limits, deadline, Mode::Spreadsheet)
}

fn read(bytes: &[u8], limits: &Limits, deadline: Deadline, mode: Mode) -> Document {
    let mut archive = match Archive::open(bytes, limits) {
        Ok(a) => a,
        Err(p) => return Document { problems: vec![p], ..Document::default() },
    };
    match archive.read("META-INF/manifest.xml") {
        Ok(Some(raw)) if manifest_encrypted(&raw, limits, deadline) => {
            return Document::with_problem(ProblemKind::Encrypted, "password-protected OpenDocument file");
        }
        Ok(_) => {}
        Err(p) => return Document { problems: vec![p], ..Document::default() },
    }
    match archive.read("mimetype") {
        Ok(Some(raw)) => {
            let mime = String::from_utf8_lossy(&raw);
            let mime = mime.trim();
            if !mime.starts_with(mode.mime()) {
                let shown = if mime.len() <= 80 && mime.chars().all(|c| c.is_ascii_graphic()) {
                    mime
                } else {
                    "an unknown type"
                };
                return Document::with_problem(
                    ProblemKind::Unsupported,
                    format!("OpenDocument file is {shown}, not a {}", mode.noun()),
                );
            }
        }
        Ok(None) => {}
        Err(p) => return Document { problems: vec![p], ..Document::default() },
    }
    let raw = match archive.read("content.xml") {
        Ok(Some(raw)) => raw,
        Ok(None) => return Document::with_problem(ProblemKind::Corrupt, "OpenDocument package has no content.xml"),
        Err(p) => return Document { problems: vec![p], ..Document::default() },
    };
    let mut doc = Document::default();
    let text = xml::decode(&raw, "content part", &mut doc.problems);
    let controls = if text.contains("forms") { form_controls(&text, limits, deadline) } else { HashMap::new() };
    let mut walker = Odf::new(mode, limits, controls);
    let mut reader = XmlReader::new(&text, "content part", limits, deadline);
    xml::walk(&mut walker, &mut reader);
    walker.finish_problems();
    doc.problems.append(&mut walker.problems);
    doc.problems.extend(reader.entity_problem());
    doc.blocks = walker.blocks;
    if doc.blocks.is_empty() && doc.problems.is_empty() {
        doc.problems.push(paragraph::no_text_problem(walker.saw_images));
    }
    doc
}

fn manifest_encrypted(raw: &[u8], limits: &Limits, deadline: Deadline) -> bool {
    let mut ignored = Vec::new();
    let text = xml::decode(raw, "manifest", &mut ignored);
    let mut reader = XmlReader::new(&text, "manifest", limits, deadline);
    while let Ok(Some(item)) = reader.next() {
        if let Item::Start(Ns::Manifest, e) = item {
            if xml::local(&e) == "encryption-data" {
                return true;
            }
        }
    }
    false
}

/// First pass over content.xml: what each control of `office:forms` shows, by the ids a
/// `draw:control` may refer to, wherever in the document the forms are declared. A checkbox or a
/// radio button shows its mark and label; a text, date, number or combo box its current value; a
/// list box its selected entries.
fn form_controls(text: &str, limits: &Limits, deadline: Deadline) -> HashMap<String, String> {
    let mut controls: HashMap<String, String> = HashMap::new();
    // The list box being read: its ids, and the entries selected so far.
    let mut listbox: Option<(Vec<String>, Vec<String>)> = None;
    let mut reader = XmlReader::new(text, "content part", limits, deadline);
    while let Ok(Some(item)) = reader.next() {
        let Item::Start(Ns::Form, e) = item else { continue };
        let attr = |name: &str| reader.attr(&e, Ns::Form, name);
        let name = xml::local(&e);
        if name == "option" {
            let selected = attr("current-selected").or_else(|| attr("selected"));
            if let (Some((_, entries)), true) = (listbox.as_mut(), selected.is_some_and(|s| s.trim() == "true")) {
                entries.extend(attr("label").or_else(|| attr("value")));
            }
            continue;
        }
        let shown = match name {
            "checkbox" => {
                let state = attr("current-state").or_else(|| attr("state"));
                Some(mark(state.is_some_and(|s| s.trim() == "checked"), attr("label")))
            }
            "radio" => {
                let selected = attr("current-selected").or_else(|| attr("selected"));
                Some(mark(selected.is_some_and(|s| s.trim() == "true"), attr("label")))
            }
            "text" | "textarea" | "formatted-text" | "combobox" | "date" | "time" | "number" => {
                Some(attr("current-value").or_else(|| attr("value")).unwrap_or_default())
            }
            "listbox" => None,
            _ => continue,
        };
        if let Some((ids, entries)) = listbox.take() {
            insert_control(&mut controls, ids, &entries.join(", "));
        }
        let ids: Vec<String> = [reader.attr(&e, Ns::Xml, "id"), attr("id")].into_iter().flatten().collect();
        match shown {
            Some(shown) => insert_control(&mut controls, ids, &shown),
            None => listbox = Some((ids, Vec::new())),
        }
    }
    if let Some((ids, entries)) = listbox.take() {
        insert_control(&mut controls, ids, &entries.join(", "));
    }
    controls
}

fn insert_control(controls: &mut HashMap<String, String>, ids: Vec<String>, shown: &str) {
    for id in ids {
        if controls.len() < MAX_CONTROLS {
            controls.insert(id, shown.to_string());
        }
    }
}

/// A checkbox or radio button as text: its mark, then its label.
fn mark(checked: bool, label: Option<String>) -> String {
    let mut s = String::from(if checked { CHECKED } else { UNCHECKED });
    if let Some(label) = label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        s.push(' ');
        s.push_str(label);
    }
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    P,
    /// A text-namespace element inside a paragraph whose character data is paragraph text.
    Inline,
    Table,
    Row,
    Cell,
    Other,
}

enum Frame {
    P(ParaBuf),
    Tbl(TableBuf),
}

struct ParaBuf {
    text: String,
    /// The text so far ends in collapsible white space (or is empty): more white space is dropped.
    last_ws: bool,
    hidden: bool,
}

struct TableBuf {
    /// "table N" or "sheet 'NAME'"; None for a nested table.
    at: Option<String>,
    rows: Vec<Row>,
    /// Rows consumed so far, repeats included.
    row_no: u64,
    row: Option<RowBuf>,
    nested: Vec<Row>,
}

struct RowBuf {
    repeat: u64,
    cells: Vec<String>,
    /// Bytes of text in `cells`.
    bytes: usize,
    /// Columns consumed so far, repeats included.
    col: u64,
    cell: Option<CellBuf>,
}

struct CellBuf {
    repeat: u64,
    covered: bool,
    paragraphs: Vec<String>,
    value: Option<String>,
}

/// What may be materialised from one document: cells (padding included) against
/// `max_sheet_cells`, and the bytes of text that repeats and `text:s` could multiply against
/// `max_decompressed_bytes` (without repeats, text is never larger than the XML it came from).
struct Budget {
    cells: usize,
    max_cells: usize,
    bytes: usize,
    max_bytes: usize,
    cells_hit: bool,
    bytes_hit: bool,
}

impl Budget {
    fn new(limits: &Limits) -> Self {
        Budget {
            cells: 0,
            max_cells: limits.max_sheet_cells,
            bytes: 0,
            max_bytes: usize::try_from(limits.max_decompressed_bytes).unwrap_or(usize::MAX),
            cells_hit: false,
            bytes_hit: false,
        }
    }

    fn hit(&self) -> bool {
        self.cells_hit || self.bytes_hit
    }

    /// Whether `cells` more cells and `bytes` more bytes would fit (a row being built, counted
    /// when it is emitted).
    fn fits(&mut self, cells: usize, bytes: usize) -> bool {
        let too_many = self.cells.saturating_add(cells) > self.max_cells;
        let too_big = self.bytes.saturating_add(bytes) > self.max_bytes;
        self.cells_hit |= too_many;
        self.bytes_hit |= too_big;
        !too_many && !too_big
    }

    /// Like [`Budget::fits`], and counts them when they fit.
    fn take(&mut self, cells: usize, bytes: usize) -> bool {
        if !self.fits(cells, bytes) {
            return false;
        }
        self.cells += cells;
        self.bytes += bytes;
        true
    }
}

struct Odf {
    mode: Mode,
    controls: HashMap<String, String>,
    blocks: Vec<Block>,
    problems: Vec<Problem>,
    els: Vec<El>,
    skip_from: Option<usize>,
    frames: Vec<Frame>,
    body_paragraphs: usize,
    tables: usize,
    budget: Budget,
    repeat_capped: bool,
    columns_capped: bool,
    saw_images: bool,
}

impl Odf {
    fn new(mode: Mode, limits: &Limits, controls: HashMap<String, String>) -> Self {
        Odf {
            mode,
            controls,
            blocks: Vec::new(),
            problems: Vec::new(),
            els: Vec::new(),
            skip_from: None,
            frames: Vec::new(),
            body_paragraphs: 0,
            tables: 0,
            budget: Budget::new(limits),
            repeat_capped: false,
            columns_capped: false,
            saw_images: false,
        }
    }

    fn finish_problems(&mut self) {
        if self.budget.cells_hit {
            self.problems
                .push(Problem::new(ProblemKind::LimitExceeded, format!("more than {} cells", self.budget.max_cells)));
        }
        if self.budget.bytes_hit {
            self.problems.push(Problem::new(
                ProblemKind::LimitExceeded,
                format!("repeated content expands to more than {} bytes", self.budget.max_bytes),
            ));
        }
        if self.repeat_capped {
            self.problems.push(Problem::new(
                ProblemKind::LimitExceeded,
                format!("a non-empty row or cell is repeated more than {MAX_REPEAT} times; the rest was not read"),
            ));
        }
        if self.columns_capped {
            self.problems.push(Problem::new(
                ProblemKind::LimitExceeded,
                format!("cells beyond column {MAX_COLUMNS} were not read"),
            ));
        }
    }

    fn skip(&mut self) -> El {
        self.skip_from = Some(self.els.len());
        El::Other
    }
}

impl xml::Walk for Odf {
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
            Ns::Text => match name {
                "p" | "h" => {
                    self.frames.push(Frame::P(ParaBuf { text: String::new(), last_ws: true, hidden: false }));
                    El::P
                }
                "s" => {
                    let n = reader
                        .attr(e, Ns::Text, "c")
                        .and_then(|c| c.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .min(MAX_SPACES);
                    if self.budget.take(0, n) {
                        self.push_literal(&" ".repeat(n));
                    }
                    El::Other
                }
                "tab" => {
                    self.push_literal("\t");
                    El::Other
                }
                "line-break" => {
                    self.push_literal("\n");
                    El::Other
                }
                "hidden-text" if is_hidden(reader, e) => self.skip(),
                "hidden-paragraph" => {
                    if is_hidden(reader, e) {
                        if let Some(Frame::P(p)) = self.frames.last_mut() {
                            p.hidden = true;
                        }
                    }
                    El::Other
                }
                "note" | "tracked-changes" | "changed-region" => self.skip(),
                n if n.ends_with("-decls") || n.ends_with("-source") => self.skip(),
                _ => El::Inline,
            },
            Ns::Table => match name {
                "table" => {
                    let nested = self.frames.iter().any(|f| matches!(f, Frame::Tbl(_)));
                    let at = if nested {
                        None
                    } else {
                        self.tables += 1;
                        Some(match self.mode {
                            Mode::Text => format!("table {}", self.tables),
                            Mode::Spreadsheet => {
                                let name = reader.attr(e, Ns::Table, "name").unwrap_or_default();
                                format!("sheet '{name}'")
                            }
                        })
                    };
                    self.frames.push(Frame::Tbl(TableBuf {
                        at,
                        rows: Vec::new(),
                        row_no: 0,
                        row: None,
                        nested: Vec::new(),
                    }));
                    El::Table
                }
                "table-row" => {
                    let repeat = repeat_attr(reader, e, "number-rows-repeated");
                    if let Some(Frame::Tbl(t)) = self.frames.last_mut() {
                        t.row = Some(RowBuf { repeat, cells: Vec::new(), bytes: 0, col: 0, cell: None });
                    }
                    El::Row
                }
                "table-cell" | "covered-table-cell" => {
                    let repeat = repeat_attr(reader, e, "number-columns-repeated");
                    let value = ["value", "date-value", "time-value", "boolean-value", "string-value"]
                        .iter()
                        .find_map(|a| reader.attr(e, Ns::Office, a))
                        .filter(|v| !v.trim().is_empty());
                    let covered = name == "covered-table-cell";
                    if let Some(Frame::Tbl(TableBuf { row: Some(row), .. })) = self.frames.last_mut() {
                        row.cell = Some(CellBuf { repeat, covered, paragraphs: Vec::new(), value });
                    }
                    El::Cell
                }
                "content-validations"
                | "tracked-changes"
                | "named-expressions"
                | "database-ranges"
                | "data-pilot-tables"
                | "dde-links"
                | "calculation-settings"
                | "label-ranges"
                | "consolidation"
                | "table-source" => self.skip(),
                _ => El::Other,
            },
            Ns::Office => match name {
                "annotation" | "annotation-end" | "forms" | "scripts" | "font-face-decls" | "automatic-styles"
                | "styles" | "master-styles" | "event-listeners" | "settings" | "meta" => self.skip(),
                _ => El::Other,
            },
            Ns::Draw => {
                match name {
                    "control" => {
                        let control =
                            reader.attr(e, Ns::Draw, "control").and_then(|id| self.controls.get(&id).cloned());
                        if let Some(c) = control {
                            self.control(c);
                        }
                    }
                    "image" => self.saw_images = true,
                    _ => {}
                }
                El::Other
            }
            _ => El::Other,
        }
    }

    fn close(&mut self, el: El) {
        match el {
            El::P => {
                if let Some(Frame::P(p)) = self.frames.pop() {
                    let text = if p.hidden { String::new() } else { paragraph::finish_text(&p.text) };
                    self.deliver_paragraph(text);
                }
            }
            El::Cell => self.finish_cell(),
            El::Row => self.finish_row(),
            El::Table => {
                // A row left open by a cut document.
                self.finish_row();
                if let Some(Frame::Tbl(mut t)) = self.frames.pop() {
                    t.rows.append(&mut t.nested);
                    self.deliver_table(t);
                }
            }
            El::Inline | El::Other => {}
        }
    }

    /// Only character data directly inside a paragraph, or inside a text element within one, is text.
    fn text(&mut self, t: &str) {
        if matches!(self.els.last(), Some(El::P | El::Inline)) {
            if let Some(Frame::P(p)) = self.frames.last_mut() {
                push_collapsed(p, t);
            }
        }
    }

    fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }

    fn stopped(&self) -> bool {
        self.budget.hit()
    }
}

impl Odf {
    /// What a form control shows, at its place in the text.
    fn control(&mut self, s: String) {
        if s.trim().is_empty() {
            return;
        }
        match self.frames.last_mut() {
            Some(Frame::P(p)) => {
                if !p.text.is_empty() && !p.last_ws {
                    p.text.push(' ');
                }
                paragraph::push_normalised(&mut p.text, &s);
                p.text.push(' ');
                p.last_ws = true;
            }
            _ => self.deliver_paragraph(s),
        }
    }

    fn push_literal(&mut self, s: &str) {
        if let Some(Frame::P(p)) = self.frames.last_mut() {
            p.text.push_str(s);
            p.last_ws = false;
        }
    }

    fn finish_cell(&mut self) {
        let Some(Frame::Tbl(TableBuf { row: Some(row), .. })) = self.frames.last_mut() else { return };
        let Some(cell) = row.cell.take() else { return };
        let text = if cell.covered {
            String::new()
        } else if !cell.paragraphs.is_empty() {
            cell.paragraphs.join("\n")
        } else {
            cell.value.unwrap_or_default()
        };
        let start = row.col;
        row.col = row.col.saturating_add(cell.repeat);
        // A text document's table cell left empty beside a label ("Criteria met | "): kept, so
        // that a blank value is told from a heading merged across the row (whose covered cells
        // are dropped). A sheet's trailing empties are formatting and are dropped.
        let blank_value = self.mode == Mode::Text && !cell.covered && cell.repeat == 1 && !row.cells.is_empty();
        if text.is_empty() && !blank_value {
            return;
        }
        if start >= MAX_COLUMNS {
            self.columns_capped = true;
            return;
        }
        let room = MAX_COLUMNS - start;
        let copies = cell.repeat.min(MAX_REPEAT).min(room);
        if copies < cell.repeat {
            if cell.repeat > MAX_REPEAT {
                self.repeat_capped = true;
            } else {
                self.columns_capped = true;
            }
        }
        let pad = usize::try_from(start).unwrap_or(usize::MAX).saturating_sub(row.cells.len());
        let copies = usize::try_from(copies).unwrap_or(0);
        let bytes = row.bytes.saturating_add(text.len().saturating_mul(copies));
        if !self.budget.fits(row.cells.len().saturating_add(pad).saturating_add(copies), bytes) {
            return;
        }
        row.bytes = bytes;
        row.cells.extend(std::iter::repeat_n(String::new(), pad));
        row.cells.extend(std::iter::repeat_n(text, copies));
    }

    fn finish_row(&mut self) {
        if let Some(Frame::Tbl(TableBuf { row: Some(row), .. })) = self.frames.last() {
            if row.cell.is_some() {
                self.finish_cell();
            }
        }
        let Some(Frame::Tbl(t)) = self.frames.last_mut() else { return };
        let Some(row) = t.row.take() else { return };
        let first = t.row_no.saturating_add(1);
        t.row_no = t.row_no.saturating_add(row.repeat);
        if !row.cells.is_empty() {
            let copies = row.repeat.min(MAX_REPEAT);
            if copies < row.repeat {
                self.repeat_capped = true;
            }
            for i in 0..copies {
                if !self.budget.take(row.cells.len(), row.bytes) {
                    break;
                }
                t.rows.push(Row { at: format!("row {}", first.saturating_add(i)), cells: row.cells.clone(), spans: Vec::new() });
            }
        }
        t.rows.append(&mut t.nested);
    }

    fn deliver_paragraph(&mut self, text: String) {
        let cell = self.frames.iter_mut().rev().find_map(|f| match f {
            Frame::Tbl(t) => Some(t.row.as_mut().and_then(|r| r.cell.as_mut())),
            Frame::P(_) => None,
        });
        match cell {
            Some(Some(cell)) => {
                if !text.is_empty() {
                    cell.paragraphs.push(text);
                }
            }
            Some(None) => {}
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
        match (outer, t.at) {
            (Some(outer), _) => {
                let n = outer.row_no.saturating_add(1);
                outer
                    .nested
                    .extend(t.rows.into_iter().map(|r| Row { at: format!("row {n} / {}", r.at), cells: r.cells, spans: r.spans }));
            }
            (None, at) => {
                if !t.rows.is_empty() || self.mode == Mode::Spreadsheet {
                    let at = at.unwrap_or_else(|| format!("table {}", self.tables));
                    self.blocks.push(Block::Table(Table { at, rows: t.rows }));
                }
            }
        }
    }
}

fn is_hidden(reader: &XmlReader<'_>, e: &quick_xml::events::BytesStart<'_>) -> bool {
    reader.attr(e, Ns::Text, "is-hidden").is_some_and(|v| v.trim() == "true")
}

fn repeat_attr(reader: &XmlReader<'_>, e: &quick_xml::events::BytesStart<'_>, name: &str) -> u64 {
    reader.attr(e, Ns::Table, name).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1).max(1)
}

/// Character data of a paragraph, white space collapsed as ODF prescribes.
fn push_collapsed(p: &mut ParaBuf, s: &str) {
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !p.last_ws {
                p.text.push(' ');
                p.last_ws = true;
            }
        } else {
            paragraph::push_normalised(&mut p.text, c.encode_utf8(&mut [0u8; 4]));
            p.last_ws = false;
        }
    }
}

#[cfg(test)]
mod tests;
