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
mod tests {
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
}
