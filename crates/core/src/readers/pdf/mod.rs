//! PDF reader: bytes → [`Document`], through lopdf.
//!
//! - `fields`: every terminal AcroForm field, with its value, its options, its page and the
//!   question text printed beside its widgets (`context`).
//! - `blocks`: the text layer, one [`Table`](crate::document::Table) per page and one row per
//!   printed line, split into cells at column gaps. A small content-stream interpreter places
//!   the words (`content`), fonts decode them (`fonts`, `cmap`), `layout` makes lines and cells.
//!   Text inside form XObjects counts; annotation appearances (field values) do not.
//! - `problems`: encrypted, scanned, XFA-only, damaged, truncated, limits, time.
//!
//! Bounded: objects, pages, nesting, decompressed bytes, words and time are all capped by
//! [`Limits`] and the [`Deadline`]; nothing is allocated from a length read from the file. The
//! decompressed bytes and the parsed objects are budgets for the whole document: the load
//! (`census`), every page, form XObject and font, and the field values all draw from one
//! allowance of `max_decompressed_bytes`.

mod census;
mod cmap;
mod content;
mod fields;
mod fonts;
mod glyphs;
mod layout;
mod object;
#[cfg(test)]
mod tests;

use crate::document::{Block, Document, FieldKind, Problem, ProblemKind, WidgetBox};
use crate::limits::{Deadline, Limits};
use content::{Interpreter, Matrix, PageContent};
use fields::PageIndex;
use object::deref;
use lopdf::{Dictionary, Object, ObjectId};

/// Longest heading, in characters: a longer line is text, not a heading.
const MAX_HEADING_CHARS: usize = 80;
/// Vertical slack around a widget's band when looking for its question text, in points.
const BAND_SLACK: f32 = 3.0;
/// Horizontal slack: text may end this far past the widget's left edge.
const LEFT_SLACK: f32 = 2.0;
/// Paths painted with no text at all: the page is a drawing of text, not text.
const MANY_PATHS: usize = 50;

/// Reads one PDF. Never panics on its own account and never fails outright: what could not be
/// read is in `problems`, and what was read before a limit or the deadline is kept.
pub fn read(bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    let (doc, mut allowance) = match open(bytes, limits) {
        Ok(opened) => opened,
        Err(problem) => return Document { problems: vec![problem], ..Document::default() },
    };
    let out = read_document(&doc, bytes, limits, deadline, &mut allowance);
    let granted = usize::try_from(limits.max_decompressed_bytes).unwrap_or(usize::MAX);
    super::meter::add(granted.saturating_sub(allowance) as u64);
    out
}

fn read_document(
    doc: &lopdf::Document,
    bytes: &[u8],
    limits: &Limits,
    deadline: Deadline,
    allowance: &mut usize,
) -> Document {
    let mut out = Document::default();
    if !has_eof_marker(bytes) {
        out.problems.push(Problem::new(
            ProblemKind::Truncated,
            "PDF ends early: no end-of-file marker; content may be missing",
        ));
    }
    let page_ids = pages_to_read(doc, limits, &mut out.problems);
    let (pages, pages_timed_out) = read_pages(doc, &page_ids, limits, deadline, allowance, &mut out.problems);

    let index = page_index(doc, &page_ids);
    let mut form = fields::read(doc, &index, limits, deadline, allowance, &mut out.problems);
    let timed_out = pages_timed_out || form.timed_out;
    if timed_out {
        out.problems.push(Problem::new(
            ProblemKind::Timeout,
            format!("reading stopped at the time limit after {} of {} pages", pages.len(), page_ids.len()),
        ));
    }
    for field in &mut form.fields {
        field.field.context = context(&field.widgets, &pages);
        // A lone check box with nothing printed left of it is labelled on its right.
        if field.field.context.is_none() && field.field.kind == FieldKind::Checkbox && field.widgets.len() == 1 {
            field.field.context = label_right(&field.widgets, &pages);
        }
        if matches!(field.field.kind, FieldKind::Checkbox | FieldKind::Radio) {
            field.field.widgets = widget_boxes(&field.widgets, &pages);
        }
    }
    // A text box with nothing printed left of it is labelled by the line just above it (a tall
    // box under "Rationale for professional judgement"), unless that line labels another field.
    let labels: Vec<String> = form.fields.iter().filter_map(|f| f.field.context.clone()).collect();
    for field in &mut form.fields {
        if field.field.context.is_none() && field.field.kind == FieldKind::Text && field.widgets.len() == 1 {
            field.field.context = label_over(&field.widgets, &pages).filter(|l| !labels.contains(l));
        }
    }
    let headings = Headings::new(&form.fields, &pages);
    for field in &mut form.fields {
        field.field.heading = headings.above(&field.widgets, &pages);
    }
    out.blocks = pages
        .iter()
        .enumerate()
        .filter_map(|(i, (content, _))| layout::table(i + 1, &content.runs))
        .map(Block::Table)
        .collect();

    let has_text = !out.blocks.is_empty();
    let has_values = form.fields.iter().any(|f| f.field.value.is_some());
    let xfa_only = form.xfa && form.fields.is_empty();
    out.fields = form.fields.into_iter().map(|f| f.field).collect();
    if let Some(problem) = classify(&pages, page_ids.len(), has_text, has_values, xfa_only, !out.fields.is_empty()) {
        // After a timeout, missing text says nothing about the file; after damage, it is no news.
        let damage_known = problem.kind == ProblemKind::Corrupt && out.problems.iter().any(|p| p.kind == problem.kind);
        if (!timed_out || problem.kind == ProblemKind::Unsupported) && !damage_known {
            out.problems.push(problem);
        }
    }
    out
}

/// Loads the document and refuses what must not be read further: a file lopdf cannot load,
/// one it could not decrypt with the empty password, one with too many objects or objects too
/// large in all. Returns the document and the decompression allowance its load left.
fn open(bytes: &[u8], limits: &Limits) -> Result<(lopdf::Document, usize), Problem> {
    let loaded = census::load(bytes, limits).map_err(|failed| match failed {
        census::Failed::Cut(cut) => cut_problem(cut, limits),
        census::Failed::Lopdf(e) => load_problem(&e, bytes, limits),
    })?;
    let doc = loaded.doc;
    let allowance = usize::try_from(limits.max_decompressed_bytes.saturating_sub(loaded.decompressed)).unwrap_or(usize::MAX);
    // lopdf opens files whose user password is empty and then drops /Encrypt from the trailer.
    if doc.trailer.has(b"Encrypt") {
        return Err(Problem::new(
            ProblemKind::Encrypted,
            "password-protected PDF: it cannot be opened without its password",
        ));
    }
    if doc.objects.len() > limits.max_pdf_objects {
        return Err(Problem::new(
            ProblemKind::LimitExceeded,
            format!("PDF has {} objects, limit {}", doc.objects.len(), limits.max_pdf_objects),
        ));
    }
    Ok((doc, allowance))
}

/// A load stopped by the document's budget. The whole file is refused: what lopdf had parsed
/// up to there is not a document.
fn cut_problem(cut: census::Cut, limits: &Limits) -> Problem {
    let detail = match cut {
        census::Cut::Objects => format!("PDF has more than {} objects: it was not read", limits.max_pdf_objects),
        census::Cut::ObjectBytes => format!(
            "PDF's objects would take more than {} in memory once parsed: it was not read",
            crate::limits::in_megabytes(limits.max_pdf_object_bytes)
        ),
        census::Cut::Decompressed => format!(
            "PDF's object streams decompress to more than {} in all: it was not read",
            crate::limits::in_megabytes(limits.max_decompressed_bytes)
        ),
    };
    Problem::new(ProblemKind::LimitExceeded, detail)
}

/// The pages to read, in order: the page tree is walked (its /Count is never trusted) and
/// stopped one page past the limit, which is then a problem.
fn pages_to_read(doc: &lopdf::Document, limits: &Limits, problems: &mut Vec<Problem>) -> Vec<ObjectId> {
    let mut page_ids: Vec<ObjectId> = doc.page_iter().take(limits.max_pdf_pages.saturating_add(1)).collect();
    if page_ids.len() > limits.max_pdf_pages {
        page_ids.truncate(limits.max_pdf_pages);
        problems.push(Problem::new(
            ProblemKind::LimitExceeded,
            format!(
                "PDF has more than {} pages; only the first {} were read",
                limits.max_pdf_pages, limits.max_pdf_pages
            ),
        ));
    }
    page_ids
}

/// Interprets the pages' content; stops at the deadline, keeping the page it was reading.
/// Returns each page's words (sorted for band lookups) with its display matrix, and whether
/// time ran out.
fn read_pages(
    doc: &lopdf::Document,
    page_ids: &[ObjectId],
    limits: &Limits,
    deadline: Deadline,
    allowance: &mut usize,
    problems: &mut Vec<Problem>,
) -> (Vec<(PageContent, Matrix)>, bool) {
    let mut interpreter = Interpreter::new(doc, limits, deadline, *allowance);
    let mut pages = Vec::with_capacity(page_ids.len().min(1024));
    let mut timed_out = false;
    for page_id in page_ids {
        if deadline.expired() {
            timed_out = true;
            break;
        }
        let dict = doc.get_dictionary(*page_id).ok();
        let resources = dict.and_then(|d| inherited(doc, d, b"Resources")).and_then(|o| o.as_dict().ok());
        let rotate = dict.and_then(|d| inherited(doc, d, b"Rotate")).and_then(|o| o.as_i64().ok()).unwrap_or(0);
        let base = Matrix::rotation(rotate);
        let mut content = interpreter.page(*page_id, resources, base);
        layout::sort_for_bands(&mut content.runs);
        pages.push((content, base));
        if interpreter.timed_out {
            timed_out = true;
            break;
        }
        if interpreter.spent_out {
            problems.push(Problem::new(
                ProblemKind::LimitExceeded,
                format!(
                    "the PDF decompresses to more than {} in all: reading stopped on page {} of {}",
                    crate::limits::in_megabytes(limits.max_decompressed_bytes),
                    pages.len(),
                    page_ids.len()
                ),
            ));
            break;
        }
    }
    *allowance = interpreter.allowance();
    problems.append(&mut interpreter.problems);
    (pages, timed_out)
}

/// What kind of PDF this is when it is not an ordinary one: XFA-only, scanned, unreadable fonts,
/// blank or broken. `None` for a PDF whose text layer and fields can be trusted as read.
fn classify(
    pages: &[(PageContent, Matrix)],
    page_count: usize,
    has_text: bool,
    has_values: bool,
    xfa_only: bool,
    has_fields: bool,
) -> Option<Problem> {
    if xfa_only {
        return Some(Problem::new(
            ProblemKind::Unsupported,
            "XFA form (dynamic XML form) without AcroForm fields: its answers cannot be read; print it to PDF or send the form as a static PDF",
        ));
    }
    if has_text || has_values {
        // Some pages may still be scans (a DASH printed, filled by hand and scanned, appended).
        let scanned: Vec<String> = pages
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.images && c.runs.is_empty())
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        if scanned.is_empty() {
            return None;
        }
        let shown: Vec<&str> = scanned.iter().take(10).map(String::as_str).collect();
        let more = if scanned.len() > shown.len() { ", ..." } else { "" };
        return Some(Problem::new(
            ProblemKind::Scanned,
            format!(
                "{} of {} pages have no text layer: scanned or image-only (page {}{more})",
                scanned.len(),
                pages.len(),
                shown.join(", ")
            ),
        ));
    }
    let images = pages.iter().any(|(c, _)| c.images);
    let drawn = pages.iter().map(|(c, _)| c.paths).sum::<usize>() >= MANY_PATHS;
    let undecodable = pages.iter().map(|(c, _)| c.undecodable).sum::<usize>();
    Some(if page_count == 0 {
        Problem::new(ProblemKind::Corrupt, "no pages found: the page tree is missing or damaged")
    } else if undecodable > 0 {
        Problem::new(
            ProblemKind::Unsupported,
            format!("text uses fonts without a Unicode mapping ({undecodable} glyphs): it cannot be read"),
        )
    } else if images {
        Problem::new(ProblemKind::Scanned, "no text layer: scanned or image-only")
    } else if drawn {
        Problem::new(ProblemKind::Scanned, "no text layer: text drawn as shapes or image-only")
    } else if !has_fields {
        Problem::new(ProblemKind::Corrupt, "blank PDF: no text, form fields or images on any page")
    } else {
        // A blank form: its empty fields are the content; the recognisers report what is missing.
        return None;
    })
}

/// A load error as a problem. The detail names the kind of damage, never lopdf's message
/// (which can quote dictionary keys or strings from the file).
fn load_problem(e: &lopdf::Error, bytes: &[u8], limits: &Limits) -> Problem {
    use lopdf::Error as E;
    match e {
        E::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => Problem::new(
            ProblemKind::LimitExceeded,
            format!("a stream decompresses beyond {} bytes", limits.max_decompressed_bytes),
        ),
        E::Decryption(_) | E::InvalidPassword | E::UnsupportedSecurityHandler(_) | E::AlreadyEncrypted => {
            Problem::new(ProblemKind::Encrypted, "encrypted PDF that cannot be opened")
        }
        _ if find(tail(bytes, 64 * 1024), b"/Encrypt").is_some() => {
            Problem::new(ProblemKind::Encrypted, "encrypted PDF that cannot be opened")
        }
        E::Parse(lopdf::ParseError::InvalidFileHeader) => {
            Problem::new(ProblemKind::Corrupt, "not a PDF: no valid header")
        }
        _ if !has_eof_marker(bytes) => Problem::new(
            ProblemKind::Truncated,
            "PDF ends early: no end-of-file marker and the structure cannot be read",
        ),
        E::Parse(_) | E::Xref(_) | E::InvalidOffset(_) | E::MissingXrefEntry => {
            Problem::new(ProblemKind::Corrupt, "PDF structure cannot be read: damaged cross-reference data")
        }
        _ => Problem::new(ProblemKind::Corrupt, "PDF structure cannot be read"),
    }
}

fn tail(bytes: &[u8], n: usize) -> &[u8] {
    bytes.get(bytes.len().saturating_sub(n)..).unwrap_or_default()
}

fn has_eof_marker(bytes: &[u8]) -> bool {
    find(tail(bytes, 4096), b"%%EOF").is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    crate::sniff::find(hay, needle)
}

/// A page attribute that may be inherited from the page tree (`/Resources`, `/Rotate`).
fn inherited<'a>(doc: &'a lopdf::Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..64 {
        if let Some(value) = deref(doc, node.get(key).ok()) {
            return Some(value);
        }
        node = deref(doc, node.get(b"Parent").ok())?.as_dict().ok()?;
    }
    None
}

fn page_index(doc: &lopdf::Document, page_ids: &[ObjectId]) -> PageIndex {
    let mut index = PageIndex::default();
    for (i, id) in page_ids.iter().enumerate() {
        index.by_id.entry(*id).or_insert(i + 1);
        let annots = doc
            .get_dictionary(*id)
            .ok()
            .and_then(|page| deref(doc, page.get(b"Annots").ok()))
            .and_then(|o| o.as_array().ok());
        for annot in annots.into_iter().flatten() {
            if let Ok(annot_id) = annot.as_reference() {
                index.annots.entry(annot_id).or_insert(i + 1);
            }
        }
    }
    index
}

/// The text printed left of a field's widgets, on the page of its first placed widget.
fn context(widgets: &[fields::Widget], pages: &[(PageContent, Matrix)]) -> Option<String> {
    let page = widgets.iter().find_map(|w| w.page.filter(|_| w.rect.is_some()))?;
    let (content, base) = pages.get(page.checked_sub(1)?)?;
    let mut y_lo = f32::INFINITY;
    let mut y_hi = f32::NEG_INFINITY;
    let mut x_min = f32::INFINITY;
    for rect in widgets.iter().filter(|w| w.page == Some(page)).filter_map(|w| w.rect) {
        // Widget rectangles are in default user space; the words are in display space.
        let [x0, y0, x1, y1] = rect;
        for (x, y) in [(x0, y0), (x0, y1), (x1, y0), (x1, y1)] {
            let (dx, dy) = base.apply(x, y);
            y_lo = y_lo.min(dy);
            y_hi = y_hi.max(dy);
            x_min = x_min.min(dx);
        }
    }
    if !(y_lo.is_finite() && y_hi.is_finite() && x_min.is_finite()) {
        return None;
    }
    layout::band_text(&content.runs, y_lo - BAND_SLACK, y_hi + BAND_SLACK, x_min + LEFT_SLACK)
}

/// The first cell printed right of a check box on its line ("☐ Professional judgement"): the
/// label of a box that has none to its left.
fn label_right(widgets: &[fields::Widget], pages: &[(PageContent, Matrix)]) -> Option<String> {
    let w = widgets.first()?;
    let (page, rect) = (w.page?, w.rect?);
    let (content, base) = pages.get(page.checked_sub(1)?)?;
    let [x0, y0, x1, y1] = display_box(rect, base)?;
    let lo = content.runs.partition_point(|r| r.middle() < y0 - BAND_SLACK);
    let hi = content.runs.partition_point(|r| r.middle() <= y1 + BAND_SLACK);
    // Words starting right of the box, no further than a short gap from it.
    let right = content.runs.get(lo..hi).unwrap_or_default().iter().filter(|r| r.x0 >= x1 - LEFT_SLACK && r.x0 >= x0);
    let line = layout::lines(right).into_iter().next()?;
    let (text, span) = layout::cells(&line).into_iter().next()?;
    (span[0] - x1 <= 3.0 * (x1 - x0).max(8.0) && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// The line printed just above a box and across its width, no further above it than one and a
/// half lines: the label of a box that has none to its left (the rule [`Headings`] uses to tell
/// such a label from a heading).
fn label_over(widgets: &[fields::Widget], pages: &[(PageContent, Matrix)]) -> Option<String> {
    let w = widgets.first()?;
    let (page, rect) = (w.page?, w.rect?);
    let (content, base) = pages.get(page.checked_sub(1)?)?;
    let [x0, _, x1, top] = display_box(rect, base)?;
    let near = content.runs.iter().filter(|r| r.y > top && r.y - top <= 1.5 * r.size + 2.0);
    // `lines` runs top to bottom: the last line is the nearest above the box.
    let line = layout::lines(near).pop()?;
    let (text, _) = layout::cells(&line).into_iter().find(|(_, span)| span[0] < x1 && x0 < span[1])?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The widgets of a button on the page of its first placed widget, with their export values and
/// their extents across the page in display space (where the header words' spans are).
fn widget_boxes(widgets: &[fields::Widget], pages: &[(PageContent, Matrix)]) -> Vec<WidgetBox> {
    let Some(page) = widgets.iter().find_map(|w| w.page.filter(|_| w.rect.is_some())) else { return Vec::new() };
    let Some((_, base)) = page.checked_sub(1).and_then(|i| pages.get(i)) else { return Vec::new() };
    widgets
        .iter()
        .filter(|w| w.page == Some(page))
        .filter_map(|w| {
            let [x0, _, x1, _] = display_box(w.rect?, base)?;
            Some(WidgetBox { export: w.export.clone(), x: [x0, x1] })
        })
        .collect()
}

/// A widget's box in display space, and whether text is printed left of it on its line.
struct Placed {
    page: usize,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    labelled_left: bool,
}

/// The printed lines and the widget boxes of every page, for finding the heading above a field:
/// per page, the heading-like lines (baseline, text), lowest first.
struct Headings {
    pages: Vec<Vec<(f32, String)>>,
}

/// A widget's rectangle in display space.
fn display_box(rect: [f32; 4], base: &Matrix) -> Option<[f32; 4]> {
    let [x0, y0, x1, y1] = rect;
    let mut b = [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY];
    for (x, y) in [(x0, y0), (x0, y1), (x1, y0), (x1, y1)] {
        let (dx, dy) = base.apply(x, y);
        b = [b[0].min(dx), b[1].min(dy), b[2].max(dx), b[3].max(dy)];
    }
    b.iter().all(|v| v.is_finite()).then_some(b)
}

impl Headings {
    /// A line is heading-like when it is one cell of at most [`MAX_HEADING_CHARS`], with no
    /// widget on its line (a label beside a box) and no unlabelled widget just under it (a
    /// label above a box).
    fn new(fields: &[fields::Field], pages: &[(PageContent, Matrix)]) -> Self {
        let mut widgets: Vec<Placed> = Vec::new();
        for w in fields.iter().flat_map(|f| &f.widgets) {
            let (Some(page), Some(rect)) = (w.page, w.rect) else { continue };
            let Some((content, base)) = page.checked_sub(1).and_then(|i| pages.get(i)) else { continue };
            let Some([x0, y0, x1, y1]) = display_box(rect, base) else { continue };
            let labelled_left = layout::band_has_text(&content.runs, y0 - BAND_SLACK, y1 + BAND_SLACK, x0 + LEFT_SLACK);
            widgets.push(Placed { page, x0, y0, x1, y1, labelled_left });
        }
        if widgets.is_empty() {
            return Headings { pages: Vec::new() };
        }
        let pages = pages
            .iter()
            .enumerate()
            .map(|(i, (content, _))| {
                let on_page: Vec<&Placed> = widgets.iter().filter(|w| w.page == i + 1).collect();
                if on_page.is_empty() {
                    return Vec::new();
                }
                let mut found: Vec<(f32, String)> = layout::lines(&content.runs)
                    .iter()
                    .filter_map(|line| {
                        let first = line.first()?;
                        let y = first.y;
                        let size = line.iter().map(|r| r.size).fold(0.0, f32::max);
                        let x0 = line.iter().map(|r| r.x0).fold(f32::INFINITY, f32::min);
                        let x1 = line.iter().map(|r| r.x1).fold(f32::NEG_INFINITY, f32::max);
                        let middle = y + 0.3 * size;
                        let beside = on_page.iter().any(|w| middle >= w.y0 - BAND_SLACK && middle <= w.y1 + BAND_SLACK);
                        let over = on_page.iter().any(|w| {
                            !w.labelled_left && w.y1 < y && y - w.y1 <= 1.5 * size + 2.0 && w.x0 < x1 && x0 < w.x1
                        });
                        if beside || over || !y.is_finite() {
                            return None;
                        }
                        match layout::cells(line).as_slice() {
                            [(one, _)] if one.chars().count() <= MAX_HEADING_CHARS => Some((y, one.clone())),
                            _ => None,
                        }
                    })
                    .collect();
                found.sort_by(|a, b| a.0.total_cmp(&b.0));
                found
            })
            .collect();
        Headings { pages }
    }

    /// The nearest heading-like line above a field's first placed widget.
    fn above(&self, widgets: &[fields::Widget], pages: &[(PageContent, Matrix)]) -> Option<String> {
        let (page, rect) = widgets.iter().find_map(|w| Some((w.page?, w.rect?)))?;
        let (_, base) = pages.get(page.checked_sub(1)?)?;
        let [_, _, _, top] = display_box(rect, base)?;
        let lines = self.pages.get(page - 1)?;
        let first_above = lines.partition_point(|(y, _)| *y <= top);
        lines.get(first_above).map(|(_, text)| text.clone())
    }
}
