//! A small content-stream interpreter: enough of the graphics and text state to place every
//! shown word on the page. Output is a list of [`Run`]s (one per word) in display space, plus
//! what the page paints besides text (images, paths) for the scanned-document test.
//!
//! Bounded: the operator loop checks the deadline, form XObjects are followed to
//! `limits.max_depth` with a stack of the forms being painted (cycles are cut), the number of
//! form paintings, the q/Q stack and the number of runs are capped, and the decompressed bytes
//! (page contents, form XObjects, fonts) are drawn from the document's one allowance.

use super::fonts::Font;
use crate::limits::pdf::{MAX_FORM_PAINTS, MAX_GSTATE_STACK, MAX_RUNS, STRICT_PARSE_MAX};
use super::object::{deref, number, stream_bytes, StreamError};
use crate::document::{Problem, ProblemKind};
use crate::limits::{Deadline, Limits};
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::HashMap;
use std::rc::Rc;

/// Operators between two looks at the clock.
const DEADLINE_EVERY: u32 = 256;
const DAMAGED: &str = "a content stream is damaged; its text was read up to the damage";

/// One word as printed on the page, in display space (y up, points).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Run {
    pub x0: f32,
    pub x1: f32,
    /// Baseline.
    pub y: f32,
    /// Font size in display space.
    pub size: f32,
    pub text: String,
}

impl Run {
    /// The vertical middle of the glyphs (baseline plus about a third of the size).
    pub fn middle(&self) -> f32 {
        self.y + 0.3 * self.size
    }
}

/// What one page paints.
#[derive(Debug, Default)]
pub(super) struct PageContent {
    pub runs: Vec<Run>,
    pub images: bool,
    pub paths: usize,
    /// Glyphs whose font gives no way to know their text.
    pub undecodable: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Matrix {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub e: f32,
    pub f: f32,
}

impl Matrix {
    pub const IDENTITY: Matrix = Matrix { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: 0.0, f: 0.0 };

    fn translate(tx: f32, ty: f32) -> Matrix {
        Matrix { e: tx, f: ty, ..Matrix::IDENTITY }
    }

    /// `self` then `next` (row-vector convention: self × next).
    pub fn then(&self, next: &Matrix) -> Matrix {
        Matrix {
            a: self.a * next.a + self.b * next.c,
            b: self.a * next.b + self.b * next.d,
            c: self.c * next.a + self.d * next.c,
            d: self.c * next.b + self.d * next.d,
            e: self.e * next.a + self.f * next.c + next.e,
            f: self.e * next.b + self.f * next.d + next.f,
        }
    }

    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f)
    }

    fn from_numbers(values: &[f32]) -> Option<Matrix> {
        match values {
            [a, b, c, d, e, f] => Some(Matrix { a: *a, b: *b, c: *c, d: *d, e: *e, f: *f }),
            _ => None,
        }
    }

    /// The display orientation of a page with `/Rotate` (clockwise degrees).
    pub fn rotation(degrees: i64) -> Matrix {
        match degrees.rem_euclid(360) {
            90 => Matrix { a: 0.0, b: -1.0, c: 1.0, d: 0.0, e: 0.0, f: 0.0 },
            180 => Matrix { a: -1.0, b: 0.0, c: 0.0, d: -1.0, e: 0.0, f: 0.0 },
            270 => Matrix { a: 0.0, b: 1.0, c: -1.0, d: 0.0, e: 0.0, f: 0.0 },
            _ => Matrix::IDENTITY,
        }
    }
}

#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f32,
    char_spacing: f32,
    word_spacing: f32,
    /// Horizontal scaling as a fraction (Tz / 100).
    scale: f32,
    leading: f32,
    rise: f32,
}

impl GState {
    fn new(ctm: Matrix) -> GState {
        GState { ctm, font: None, size: 0.0, char_spacing: 0.0, word_spacing: 0.0, scale: 1.0, leading: 0.0, rise: 0.0 }
    }
}

/// Text matrices; they live in a text object, not in the graphics state.
struct TextPos {
    tm: Matrix,
    tlm: Matrix,
}

/// The word being built while glyphs are shown.
struct Word {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    text: String,
}

/// Reads the content of pages and the forms they paint, for one document.
pub(super) struct Interpreter<'a> {
    doc: &'a Document,
    max_depth: usize,
    deadline: Deadline,
    fonts: HashMap<ObjectId, Rc<Font>>,
    /// Fonts written directly into a resource dictionary, by the dictionary's address (the
    /// document does not change while it is read).
    inline_fonts: HashMap<usize, Rc<Font>>,
    fallback: Rc<Font>,
    /// Decoded form XObjects of the current page.
    forms: HashMap<ObjectId, Rc<Vec<u8>>>,
    /// Decompressed bytes still allowed for the rest of the document: page contents, form
    /// XObjects and fonts all draw from it.
    budget: usize,
    /// A stream did not fit in what was left of the allowance: the pages after this one are not
    /// read.
    pub spent_out: bool,
    form_paints: usize,
    runs_total: usize,
    ops: u32,
    pub timed_out: bool,
    pub problems: Vec<Problem>,
}

impl<'a> Interpreter<'a> {
    /// `allowance`: the decompressed bytes the document may still use.
    pub fn new(doc: &'a Document, limits: &Limits, deadline: Deadline, allowance: usize) -> Self {
        Interpreter {
            doc,
            max_depth: limits.max_depth,
            deadline,
            fonts: HashMap::new(),
            inline_fonts: HashMap::new(),
            fallback: Rc::new(Font::fallback()),
            forms: HashMap::new(),
            budget: allowance,
            spent_out: false,
            form_paints: 0,
            runs_total: 0,
            ops: 0,
            timed_out: false,
            problems: Vec::new(),
        }
    }

    /// The decompressed bytes the document may still use.
    pub fn allowance(&self) -> usize {
        self.budget
    }

    fn problem(&mut self, kind: ProblemKind, detail: String) {
        if !self.problems.iter().any(|p| p.kind == kind && p.detail == detail) {
            self.problems.push(Problem::new(kind, detail));
        }
    }

    /// Interprets one page's content streams. `base` maps default user space to display space.
    pub fn page(&mut self, page_id: ObjectId, resources: Option<&'a Dictionary>, base: Matrix) -> PageContent {
        let mut out = PageContent::default();
        self.forms.clear();
        let data = match self.doc.get_page_content_with_limit(page_id, self.budget) {
            Ok(data) => data,
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
                // Said once for the document, by the caller, with the page it stopped on.
                self.spent_out = true;
                return out;
            }
            Err(_) => return out,
        };
        self.budget = self.budget.saturating_sub(data.len());
        let mut stack = Vec::new();
        self.run(&data, resources, GState::new(base), 0, &mut stack, &mut out);
        out
    }

    fn run(
        &mut self,
        data: &[u8],
        resources: Option<&'a Dictionary>,
        start: GState,
        depth: usize,
        forms_open: &mut Vec<ObjectId>,
        out: &mut PageContent,
    ) {
        let mut gs = start;
        let mut saved: Vec<GState> = Vec::new();
        let mut unsaved_pushes = 0usize;
        let mut text = TextPos { tm: Matrix::IDENTITY, tlm: Matrix::IDENTITY };
        let mut nums: Vec<f32> = Vec::with_capacity(6);

        // A stream that parses whole is read from the parse; one that does not is damaged, and
        // lopdf's lenient reading then stops quietly at the damage: that is said. Large streams
        // are read lenient only, one operator at a time, to keep memory flat.
        let operations: Box<dyn Iterator<Item = lopdf::Result<Operation>>> = if data.len() <= STRICT_PARSE_MAX {
            match Content::decode_strict(data) {
                Ok(content) => Box::new(content.operations.into_iter().map(Ok)),
                Err(_) => {
                    self.problem(ProblemKind::Corrupt, DAMAGED.to_string());
                    Box::new(Content::decode_iter(data))
                }
            }
        } else {
            Box::new(Content::decode_iter(data))
        };
        for op in operations {
            self.ops = self.ops.wrapping_add(1);
            if self.ops.is_multiple_of(DEADLINE_EVERY) && self.deadline.expired() {
                self.timed_out = true;
            }
            if self.timed_out || self.runs_total >= MAX_RUNS {
                return;
            }
            let Ok(op) = op else {
                // What came before the damage is kept.
                self.problem(ProblemKind::Corrupt, DAMAGED.to_string());
                return;
            };
            nums.clear();
            nums.extend(op.operands.iter().map(|o| number(o).filter(|v| v.is_finite()).unwrap_or(0.0)));
            let n = |i: usize| nums.get(i).copied().unwrap_or(0.0);
            match op.operator.as_str() {
                "q" => {
                    if saved.len() < MAX_GSTATE_STACK {
                        saved.push(gs.clone());
                    } else {
                        self.problem(
                            ProblemKind::LimitExceeded,
                            format!("graphics states nest deeper than {MAX_GSTATE_STACK}; text inside them may be misplaced"),
                        );
                        unsaved_pushes += 1;
                    }
                }
                "Q" => {
                    if unsaved_pushes > 0 {
                        unsaved_pushes -= 1;
                    } else if let Some(prev) = saved.pop() {
                        gs = prev;
                    }
                }
                "cm" => {
                    if let Some(m) = Matrix::from_numbers(&nums) {
                        gs.ctm = m.then(&gs.ctm);
                    }
                }
                "BT" => text = TextPos { tm: Matrix::IDENTITY, tlm: Matrix::IDENTITY },
                "Tf" => {
                    gs.size = n(1);
                    gs.font = op.operands.first().and_then(|o| o.as_name().ok()).map(|name| self.font(resources, name));
                }
                "Tc" => gs.char_spacing = n(0),
                "Tw" => gs.word_spacing = n(0),
                "Tz" => gs.scale = n(0) / 100.0,
                "TL" => gs.leading = n(0),
                "Ts" => gs.rise = n(0),
                "Td" => next_line(&mut text, n(0), n(1)),
                "TD" => {
                    gs.leading = -n(1);
                    next_line(&mut text, n(0), n(1));
                }
                "Tm" => {
                    if let Some(m) = Matrix::from_numbers(&nums) {
                        text = TextPos { tm: m, tlm: m };
                    }
                }
                "T*" => next_line(&mut text, 0.0, -gs.leading),
                "Tj" => {
                    if let Some(Object::String(s, _)) = op.operands.first() {
                        self.show(s, &gs, &mut text, out);
                    }
                }
                "'" => {
                    next_line(&mut text, 0.0, -gs.leading);
                    if let Some(Object::String(s, _)) = op.operands.first() {
                        self.show(s, &gs, &mut text, out);
                    }
                }
                "\"" => {
                    gs.word_spacing = n(0);
                    gs.char_spacing = n(1);
                    next_line(&mut text, 0.0, -gs.leading);
                    if let Some(Object::String(s, _)) = op.operands.get(2) {
                        self.show(s, &gs, &mut text, out);
                    }
                }
                "TJ" => {
                    if let Some(Object::Array(items)) = op.operands.first() {
                        for item in items {
                            match item {
                                Object::String(s, _) => self.show(s, &gs, &mut text, out),
                                other => {
                                    let adjust = number(other).filter(|v| v.is_finite()).unwrap_or(0.0);
                                    let tx = -adjust / 1000.0 * gs.size * gs.scale;
                                    text.tm = Matrix::translate(tx, 0.0).then(&text.tm);
                                }
                            }
                        }
                    }
                }
                "Do" => {
                    if let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) {
                        self.paint(resources, name, &gs, depth, forms_open, out);
                    }
                }
                "BI" => out.images = true,
                "f" | "F" | "f*" | "S" | "s" | "B" | "B*" | "b" | "b*" => out.paths = out.paths.saturating_add(1),
                _ => {}
            }
        }
    }

    fn font(&mut self, resources: Option<&'a Dictionary>, name: &[u8]) -> Rc<Font> {
        let doc = self.doc;
        let entry = resources
            .and_then(|r| deref(doc, r.get(b"Font").ok()))
            .and_then(|o| o.as_dict().ok())
            .and_then(|fonts| fonts.get(name).ok());
        match entry {
            Some(Object::Reference(id)) => {
                if let Some(font) = self.fonts.get(id) {
                    return Rc::clone(font);
                }
                let font = match doc.get_object(*id).and_then(Object::as_dict) {
                    Ok(dict) => Rc::new(Font::load(doc, dict, &mut self.budget)),
                    Err(_) => Rc::clone(&self.fallback),
                };
                self.fonts.insert(*id, Rc::clone(&font));
                font
            }
            Some(Object::Dictionary(dict)) => {
                let key = std::ptr::from_ref(dict) as usize;
                if let Some(font) = self.inline_fonts.get(&key) {
                    return Rc::clone(font);
                }
                let font = Rc::new(Font::load(doc, dict, &mut self.budget));
                self.inline_fonts.insert(key, Rc::clone(&font));
                font
            }
            _ => Rc::clone(&self.fallback),
        }
    }

    /// Shows one string: advances the text matrix glyph by glyph and records each word.
    fn show(&mut self, bytes: &[u8], gs: &GState, text: &mut TextPos, out: &mut PageContent) {
        let font = gs.font.clone().unwrap_or_else(|| Rc::clone(&self.fallback));
        let m = text.tm.then(&gs.ctm);
        let size = gs.size * (m.c * m.c + m.d * m.d).sqrt();
        // Only text that reads left to right in display space makes lines.
        let horizontal = m.a > 0.0 && m.b.abs() <= 0.2 * m.a && size.is_finite() && size > 0.0;
        let mut advance = 0.0f32;
        let mut word: Option<Word> = None;
        let mut undecodable = 0usize;
        let mut finished: Vec<Word> = Vec::new();
        font.glyphs(bytes, |g| {
            let step =
                (g.width * gs.size + gs.char_spacing + if g.word_space { gs.word_spacing } else { 0.0 }) * gs.scale;
            let step = if step.is_finite() { step } else { 0.0 };
            match g.text {
                Some(t) if !t.chars().any(char::is_whitespace) && horizontal => {
                    let visible =
                        t.chars().filter(|c| !c.is_control() && !matches!(c, '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'));
                    let mut visible = visible.peekable();
                    if visible.peek().is_none() {
                        undecodable += 1;
                    } else {
                        let (x, y) = m.apply(advance, gs.rise);
                        let (x_end, _) = m.apply(advance + step, gs.rise);
                        let w = word.get_or_insert_with(|| Word { x0: x, x1: x, y, size, text: String::new() });
                        w.text.extend(visible);
                        w.x1 = x_end.max(w.x1);
                    }
                }
                Some(_) => {
                    if let Some(w) = word.take() {
                        finished.push(w);
                    }
                }
                None => {
                    undecodable += 1;
                    if let Some(w) = word.take() {
                        finished.push(w);
                    }
                }
            }
            advance += step;
        });
        if let Some(w) = word.take() {
            finished.push(w);
        }
        out.undecodable = out.undecodable.saturating_add(undecodable);
        for w in finished {
            if !(w.x0.is_finite() && w.x1.is_finite() && w.y.is_finite()) {
                continue;
            }
            if self.runs_total >= MAX_RUNS {
                self.problem(
                    ProblemKind::LimitExceeded,
                    format!("text layer has more than {MAX_RUNS} words; the rest was not read"),
                );
                break;
            }
            self.runs_total += 1;
            out.runs.push(Run { x0: w.x0, x1: w.x1, y: w.y, size: w.size, text: w.text });
        }
        text.tm = Matrix::translate(advance, 0.0).then(&text.tm);
    }

    /// `Do`: images are noted; form XObjects are interpreted in place.
    fn paint(
        &mut self,
        resources: Option<&'a Dictionary>,
        name: &[u8],
        gs: &GState,
        depth: usize,
        forms_open: &mut Vec<ObjectId>,
        out: &mut PageContent,
    ) {
        let doc = self.doc;
        let Some(id) = resources
            .and_then(|r| deref(doc, r.get(b"XObject").ok()))
            .and_then(|o| o.as_dict().ok())
            .and_then(|x| x.get(name).ok())
            .and_then(|o| o.as_reference().ok())
        else {
            return;
        };
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else { return };
        match deref(doc, stream.dict.get(b"Subtype").ok()).and_then(|o| o.as_name().ok()) {
            Some(b"Image") => {
                out.images = true;
                return;
            }
            Some(b"Form") => {}
            _ => return,
        }
        if forms_open.contains(&id) {
            // A form that paints itself, directly or through others: the cycle is cut here.
            return;
        }
        if depth >= self.max_depth {
            self.problem(
                ProblemKind::LimitExceeded,
                format!("form XObjects nested deeper than {} levels", self.max_depth),
            );
            return;
        }
        if self.form_paints >= MAX_FORM_PAINTS {
            self.problem(ProblemKind::LimitExceeded, format!("more than {MAX_FORM_PAINTS} form XObjects painted"));
            return;
        }
        self.form_paints += 1;
        let data = match self.forms.get(&id) {
            Some(d) => Rc::clone(d),
            None => {
                let bytes = match stream_bytes(stream, usize::MAX, &mut self.budget) {
                    Ok(bytes) => bytes,
                    Err(StreamError::TooLarge) => {
                        self.spent_out = true;
                        return;
                    }
                    Err(StreamError::Broken) => return,
                };
                let d = Rc::new(bytes);
                self.forms.insert(id, Rc::clone(&d));
                d
            }
        };
        let matrix = deref(doc, stream.dict.get(b"Matrix").ok())
            .and_then(|o| o.as_array().ok())
            .map(|a| a.iter().map(|o| number(o).filter(|v| v.is_finite()).unwrap_or(0.0)).collect::<Vec<f32>>())
            .and_then(|v| Matrix::from_numbers(&v))
            .unwrap_or(Matrix::IDENTITY);
        let form_resources =
            deref(doc, stream.dict.get(b"Resources").ok()).and_then(|o| o.as_dict().ok()).or(resources);
        let mut inner = gs.clone();
        inner.ctm = matrix.then(&gs.ctm);
        forms_open.push(id);
        self.run(&data, form_resources, inner, depth + 1, forms_open, out);
        forms_open.pop();
    }
}

fn next_line(text: &mut TextPos, tx: f32, ty: f32) {
    text.tlm = Matrix::translate(tx, ty).then(&text.tlm);
    text.tm = text.tlm;
}
