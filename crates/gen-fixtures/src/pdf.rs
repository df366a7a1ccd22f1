//! PDF DASH forms built object by object with lopdf: fillable (radio groups, checkbox pairs,
//! hierarchical fields, text fields), flattened, scanned, encrypted, padded and corrupt.

use crate::data::{question, Ans, Dash, QUESTIONS_ALT};
use crate::util::{cp1252, hexid, Rng, Stamp};
use lopdf::xref::XrefType;
use lopdf::{
    dictionary, Dictionary, Document, EncryptionState, EncryptionVersion, Object, ObjectId, Permissions, Stream,
    StringFormat,
};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;

/// Helvetica advance widths for ' '..='~' (AFM units per 1000).
const HELV: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];

pub fn text_width(s: &str, size: f32) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| {
            let i = c as u32;
            if (32..=126).contains(&i) {
                u32::from(HELV[(i - 32) as usize])
            } else {
                556
            }
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Greedy word wrap to `width` points.
pub fn wrap(s: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let candidate = if cur.is_empty() { word.to_string() } else { format!("{cur} {word}") };
        if text_width(&candidate, size) > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        } else {
            cur = candidate;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A number as a content stream writes it: at most two decimals, no trailing zeros.
pub fn n(x: f32) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A literal string in a content stream, WinAnsi-encoded, with escapes.
pub fn lit(s: &str) -> String {
    let mut out = String::from("(");
    for b in cp1252(s) {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7E => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push(')');
    out
}

/// A page content stream under construction.
#[derive(Default)]
pub struct Canvas {
    pub ops: String,
}

impl Canvas {
    pub fn text(&mut self, font: &str, size: f32, x: f32, y: f32, s: &str) {
        self.ops += &format!("BT /{font} {} Tf 1 0 0 1 {} {} Tm {} Tj ET\n", n(size), n(x), n(y), lit(s));
    }
    /// Several lines in one text object, moved with T* as word processors write them.
    pub fn lines(&mut self, font: &str, size: f32, x: f32, y: f32, leading: f32, lines: &[String]) {
        self.ops += &format!("BT /{font} {} Tf {} TL {} {} Td\n", n(size), n(leading), n(x), n(y));
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                self.ops += "T* ";
            }
            self.ops += &format!("{} Tj\n", lit(l));
        }
        self.ops += "ET\n";
    }
    pub fn fill(&mut self, rgb: (f32, f32, f32), x: f32, y: f32, w: f32, h: f32) {
        self.ops +=
            &format!("{} {} {} rg {} {} {} {} re f 0 g\n", n(rgb.0), n(rgb.1), n(rgb.2), n(x), n(y), n(w), n(h));
    }
    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, gray: f32) {
        self.ops += &format!("{} G 0.5 w {} {} m {} {} l S 0 G\n", n(gray), n(x1), n(y), n(x2), n(y));
    }
    pub fn vline(&mut self, x: f32, y1: f32, y2: f32, gray: f32) {
        self.ops += &format!("{} G 0.5 w {} {} m {} {} l S 0 G\n", n(gray), n(x), n(y1), n(x), n(y2));
    }
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.ops += &format!("0.5 w {} {} {} {} re S\n", n(x), n(y), n(w), n(h));
    }
}

pub struct Info {
    pub title: String,
    pub author: String,
    pub creator: &'static str,
    pub producer: &'static str,
    pub created: Stamp,
}

/// A document under construction: fonts, pages, form fields.
pub struct Pdf {
    pub doc: Document,
    pages_id: ObjectId,
    pages: Vec<ObjectId>,
    pub fields: Vec<ObjectId>,
    fonts: Dictionary,
    pub helv: ObjectId,
    compress: bool,
    seed: String,
}

fn reals(v: &[f32]) -> Object {
    Object::Array(v.iter().map(|&x| Object::Real((x * 100.0).round() / 100.0)).collect())
}

fn name(s: &str) -> Object {
    Object::Name(s.as_bytes().to_vec())
}

/// A PDF text string: PDFDocEncoding when the text is ASCII or Latin-1 (where it agrees with
/// PDFDocEncoding), UTF-16BE otherwise.
fn string(s: &str) -> Object {
    if s.chars().all(|c| (c as u32) < 0x80 || (0xA0..=0xFF).contains(&(c as u32))) {
        Object::String(s.chars().map(|c| c as u32 as u8).collect(), StringFormat::Literal)
    } else {
        utf16_string(s)
    }
}

/// A UTF-16BE text string with its byte-order mark, as form fillers save non-Latin values.
pub fn utf16_string(s: &str) -> Object {
    let mut v = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_be_bytes());
    }
    Object::String(v, StringFormat::Hexadecimal)
}

impl Pdf {
    pub fn new(seed: &str, table_xref: bool, compress: bool) -> Pdf {
        let mut doc = Document::with_version(if table_xref { "1.4" } else { "1.6" });
        doc.reference_table.cross_reference_type =
            if table_xref { XrefType::CrossReferenceTable } else { XrefType::CrossReferenceStream };
        let pages_id = doc.new_object_id();
        let f1 = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let f2 = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold", "Encoding" => "WinAnsiEncoding",
        });
        let helv = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Name" => "Helv", "Encoding" => "WinAnsiEncoding",
        });
        let fonts = dictionary! { "F1" => f1, "F2" => f2 };
        Pdf { doc, pages_id, pages: Vec::new(), fields: Vec::new(), fonts, helv, compress, seed: seed.to_string() }
    }

    pub fn reserve(&mut self) -> ObjectId {
        self.doc.new_object_id()
    }

    pub fn add_page(&mut self, page_id: ObjectId, canvas: Canvas, annots: Vec<ObjectId>, xobjects: Option<Dictionary>) {
        let mut stream = Stream::new(Dictionary::new(), canvas.ops.into_bytes());
        if self.compress {
            let _ = stream.compress();
        }
        let contents = self.doc.add_object(stream);
        let mut resources =
            dictionary! { "Font" => self.fonts.clone(), "ProcSet" => vec![name("PDF"), name("Text"), name("ImageB")] };
        if let Some(x) = xobjects {
            resources.set("XObject", x);
        }
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => self.pages_id,
            "MediaBox" => reals(&[0.0, 0.0, PAGE_W, PAGE_H]),
            "Contents" => contents,
            "Resources" => resources,
        };
        if !annots.is_empty() {
            page.set("Annots", Object::Array(annots.into_iter().map(Object::Reference).collect()));
        }
        self.doc.objects.insert(page_id, Object::Dictionary(page));
        self.pages.push(page_id);
    }

    /// A form XObject used as a widget appearance.
    pub fn appearance(&mut self, w: f32, h: f32, ops: &str, with_font: bool) -> ObjectId {
        let mut dict = dictionary! {
            "Type" => "XObject", "Subtype" => "Form", "FormType" => 1,
            "BBox" => reals(&[0.0, 0.0, w, h]),
            "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 0.into(), 0.into()],
        };
        if with_font {
            dict.set("Resources", dictionary! { "Font" => dictionary! { "Helv" => self.helv } });
        }
        self.doc.add_object(Stream::new(dict, ops.as_bytes().to_vec()))
    }

    /// On and off appearances for a tick box of side `s`: (on, off).
    pub fn box_appearances(&mut self, s: f32, round: bool) -> (ObjectId, ObjectId) {
        let frame = format!("q 1 g 0 0 {0} {0} re f 0 G 0.6 w 0.3 0.3 {1} {1} re S Q\n", n(s), n(s - 0.6));
        let mark =
            if round {
                let c = s / 2.0;
                let r = s / 4.0;
                let k = r * 0.5523;
                format!(
                "q 0.1 g {} {} m {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c f Q\n",
                n(c + r), n(c),
                n(c + r), n(c + k), n(c + k), n(c + r), n(c), n(c + r),
                n(c - k), n(c + r), n(c - r), n(c + k), n(c - r), n(c),
                n(c - r), n(c - k), n(c - k), n(c - r), n(c), n(c - r),
                n(c + k), n(c - r), n(c + r), n(c - k), n(c + r), n(c)
            )
            } else {
                format!("q 0.1 G 1.4 w 2.5 2.5 m {0} {0} l 2.5 {0} m {0} 2.5 l S Q\n", n(s - 2.5))
            };
        let on = self.appearance(s, s, &(frame.clone() + &mark), false);
        let off = self.appearance(s, s, &frame, false);
        (on, off)
    }

    /// A single-widget text field; `value` is the /V object, `shown` the text in its appearance.
    pub fn text_field(
        &mut self,
        page: ObjectId,
        t: &str,
        value: Object,
        shown: &str,
        rect: [f32; 4],
        size: f32,
    ) -> ObjectId {
        let w = rect[2] - rect[0];
        let h = rect[3] - rect[1];
        let mut ops = format!(
            "0.96 0.96 0.98 rg 0 0 {} {} re f 0.5 G 0.5 w 0.25 0.25 {} {} re S\n/Tx BMC q 1 1 {} {} re W n\n",
            n(w),
            n(h),
            n(w - 0.5),
            n(h - 0.5),
            n(w - 2.0),
            n(h - 2.0)
        );
        if !shown.is_empty() {
            ops += &format!("BT /Helv {} Tf 0.1 g 2 {} Td {} Tj ET\n", n(size), n((h - size) / 2.0 + 1.0), lit(shown));
        }
        ops += "Q EMC\n";
        let ap = self.appearance(w, h, &ops, true);
        let id = self.doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "FT" => "Tx", "F" => 4,
            "T" => string(t), "V" => value, "DA" => Object::string_literal(format!("/Helv {} Tf 0.1 g", n(size))),
            "Rect" => reals(&rect), "P" => page, "AP" => dictionary! { "N" => ap },
            "MK" => dictionary! { "BC" => reals(&[0.5, 0.5, 0.5]), "BG" => reals(&[0.96, 0.96, 0.98]) },
        });
        self.fields.push(id);
        id
    }

    /// A radio group: one widget per export value; `chosen` indexes `exports`.
    /// Returns (field, widgets). The field is not added to /Fields (the caller decides where it
    /// hangs in the tree).
    #[allow(clippy::too_many_arguments)]
    pub fn radio_group(
        &mut self,
        page: ObjectId,
        t: &str,
        tu: Option<&str>,
        exports: &[&str],
        rects: &[[f32; 4]],
        chosen: Option<usize>,
        ap: (ObjectId, ObjectId),
    ) -> (ObjectId, Vec<ObjectId>) {
        let field = self.reserve();
        let mut kids = Vec::new();
        for (i, (e, r)) in exports.iter().zip(rects).enumerate() {
            let state = if chosen == Some(i) { name(e) } else { name("Off") };
            let mut normal = Dictionary::new();
            normal.set(e.as_bytes().to_vec(), ap.0);
            normal.set("Off", ap.1);
            let kid = self.doc.add_object(dictionary! {
                "Type" => "Annot", "Subtype" => "Widget", "F" => 4, "Parent" => field, "P" => page,
                "Rect" => reals(r), "AS" => state, "AP" => dictionary! { "N" => normal },
                "MK" => dictionary! { "BC" => reals(&[0.0, 0.0, 0.0]), "BG" => reals(&[1.0, 1.0, 1.0]), "CA" => Object::string_literal("l") },
            });
            kids.push(kid);
        }
        let mut dict = dictionary! {
            "FT" => "Btn", "Ff" => 49152, "T" => string(t),
            "Kids" => Object::Array(kids.iter().map(|&k| Object::Reference(k)).collect()),
        };
        if let Some(tu) = tu {
            dict.set("TU", string(tu));
        }
        if let Some(c) = chosen {
            dict.set("V", name(exports[c]));
        }
        self.doc.objects.insert(field, Object::Dictionary(dict));
        (field, kids)
    }

    /// A checkbox whose field and widget are one dictionary.
    pub fn checkbox(
        &mut self,
        page: ObjectId,
        t: &str,
        on: &str,
        checked: bool,
        rect: [f32; 4],
        ap: (ObjectId, ObjectId),
    ) -> ObjectId {
        let state = if checked { name(on) } else { name("Off") };
        let mut normal = Dictionary::new();
        normal.set(on.as_bytes().to_vec(), ap.0);
        normal.set("Off", ap.1);
        let id = self.doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "FT" => "Btn", "F" => 4, "T" => string(t),
            "V" => state.clone(), "AS" => state, "Rect" => reals(&rect), "P" => page,
            "AP" => dictionary! { "N" => normal },
            "MK" => dictionary! { "CA" => Object::string_literal("8") },
        });
        self.fields.push(id);
        id
    }

    pub fn finish(mut self, info: &Info, acroform: bool) -> Document {
        let kids: Vec<Object> = self.pages.iter().map(|&p| Object::Reference(p)).collect();
        let count = kids.len() as i64;
        self.doc.objects.insert(
            self.pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
        );
        let mut catalog = dictionary! { "Type" => "Catalog", "Pages" => self.pages_id };
        if acroform {
            let fields: Vec<Object> = self.fields.iter().map(|&f| Object::Reference(f)).collect();
            let form = self.doc.add_object(dictionary! {
                "Fields" => fields,
                "DA" => Object::string_literal("/Helv 0 Tf 0 g"),
                "DR" => dictionary! { "Font" => dictionary! { "Helv" => self.helv } },
            });
            catalog.set("AcroForm", form);
        }
        let catalog = self.doc.add_object(catalog);
        let info_id = self.doc.add_object(dictionary! {
            "Title" => string(&info.title), "Author" => string(&info.author),
            "Creator" => string(info.creator), "Producer" => string(info.producer),
            "CreationDate" => Object::string_literal(info.created.pdf()), "ModDate" => Object::string_literal(info.created.pdf()),
        });
        self.doc.trailer.set("Root", catalog);
        self.doc.trailer.set("Info", info_id);
        let id = hex_bytes(&hexid(&format!("{}/pdfid", self.seed), 32));
        self.doc.trailer.set(
            "ID",
            vec![Object::String(id.clone(), StringFormat::Hexadecimal), Object::String(id, StringFormat::Hexadecimal)],
        );
        self.doc
    }
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or(0)).collect()
}

pub fn save(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("write PDF to memory");
    out
}

/// Header data printed at the top of a DASH.
pub struct DashHead {
    pub area: String,
    pub victim: String,
    pub dob: String,
    pub abuser: String,
    pub completed: String,
    pub by: String,
    pub agency: String,
}

/// Row placement of a table that may run over pages.
struct Row {
    page: usize,
    top: f32,
    h: f32,
    lines: Vec<String>,
}

fn layout_rows(
    texts: &[String],
    first_top: f32,
    next_top: f32,
    bottom: f32,
    width: f32,
    size: f32,
    min_h: f32,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut page = 0;
    let mut top = first_top;
    for t in texts {
        let lines = wrap(t, size, width);
        let h = (lines.len() as f32 * (size + 2.2) + 7.0).max(min_h);
        if top - h < bottom {
            page += 1;
            top = next_top;
        }
        rows.push(Row { page, top, h, lines });
        top -= h;
    }
    rows
}

fn band(c: &mut Canvas, title: &str, subtitle: &str, colour: (f32, f32, f32)) {
    c.fill(colour, 0.0, 779.53, PAGE_W, 62.36);
    c.ops += "1 g\n";
    c.text("F2", 14.0, 42.52, 807.87, title);
    c.text("F1", 10.0, 42.52, 790.87, subtitle);
    c.ops += "0 g\n";
}

fn footer(c: &mut Canvas, text: &str, page: usize, pages: usize) {
    c.text("F1", 7.0, 42.52, 28.35, &format!("{text} - page {} of {}", page + 1, pages));
}

/// Options of the radio-group layout (layout A: q01..q24, export values per question).
pub struct RadioOpts {
    pub exports: [&'static str; 3],
    /// Value typed into the "Total 'Yes' answers" field; None leaves it empty.
    pub total: Option<u32>,
    /// Bytes of an uncompressed white image painted as a letterhead (to make a large file).
    pub pad: usize,
    pub table_xref: bool,
    pub compress: bool,
}

/// Layout A: fillable radio groups `q01`..`q24` with /TU "Question N", question text on the page.
pub fn dash_radio(seed: &str, head: &DashHead, dash: &Dash, opts: &RadioOpts, info: &Info) -> Document {
    let mut pdf = Pdf::new(seed, opts.table_xref, opts.compress);
    let texts: Vec<String> = (1..=24).map(|i| question(i, None)).collect();
    let rows = layout_rows(&texts, 662.0, 752.6, 60.0, 285.0, 8.0, 22.7);
    let pages = rows.last().map_or(1, |r| r.page + 1);
    let page_ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut canvases: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    let mut annots: Vec<Vec<ObjectId>> = vec![Vec::new(); pages];
    let ap = pdf.box_appearances(12.76, false);
    let cols = [360.0, 388.35, 416.69];

    for (p, c) in canvases.iter_mut().enumerate() {
        band(
            c,
            &format!("{} MARAC", head.area),
            "DASH Risk Identification Checklist (RIC) - OFFICIAL-SENSITIVE when complete",
            (0.36, 0.17, 0.44),
        );
        let hy = if p == 0 { 666.14 } else { 756.85 };
        c.fill((0.91, 0.85, 0.94), 39.69, hy - 4.25, 515.91, 17.0);
        for (x, label) in [
            (42.52, "No."),
            (65.2, "Question"),
            (cols[0], "Yes"),
            (cols[1], "No"),
            (cols[2], "DK"),
            (445.04, "Comments"),
        ] {
            c.text("F2", 8.0, x, hy, label);
        }
    }
    // Header fields on page 1.
    let c0 = &mut canvases[0];
    for (x, y, label) in [
        (42.52, 761.1, "Victim name:"),
        (325.98, 761.1, "Victim DOB:"),
        (42.52, 738.43, "Abuser name:"),
        (325.98, 738.43, "Date completed:"),
        (42.52, 715.75, "Completed by:"),
        (325.98, 715.75, "Agency:"),
    ] {
        c0.text("F1", 8.5, x, y, label);
    }
    c0.text("F1", 7.5, 42.52, 683.15, "Tick one box per question. Yes = risk present. Total the number of 'Yes' answers. 14 or more = visible high risk: refer to MARAC.");
    for (t, v, rect) in [
        ("victim_name", &head.victim, [110.55, 756.85, 308.98, 773.86]),
        ("victim_dob", &head.dob, [394.02, 756.85, 479.06, 773.86]),
        ("abuser_name", &head.abuser, [110.55, 734.17, 308.98, 751.18]),
        ("date_completed", &head.completed, [394.02, 734.17, 479.06, 751.18]),
        ("completed_by", &head.by, [110.55, 711.5, 308.98, 728.5]),
        ("agency", &head.agency, [394.02, 711.5, 535.75, 728.5]),
    ] {
        let id = pdf.text_field(page_ids[0], t, string(v), v, rect, 8.5);
        annots[0].push(id);
    }

    for (i, row) in rows.iter().enumerate() {
        let q = i + 1;
        let c = &mut canvases[row.page];
        c.text("F2", 8.0, 42.52, row.top - 10.0, &q.to_string());
        for (k, l) in row.lines.iter().enumerate() {
            c.text("F1", 8.0, 65.2, row.top - 10.0 - k as f32 * 10.2, l);
        }
        c.hline(39.69, 555.59, row.top - row.h, 0.83);
        let chosen = match dash.answers[i] {
            Ans::Yes => Some(0),
            Ans::No => Some(1),
            Ans::Dk => Some(2),
            Ans::Blank => None,
            Ans::Both => panic!("a radio group cannot hold two answers"),
        };
        let rects: Vec<[f32; 4]> = cols.iter().map(|&x| [x, row.top - 16.5, x + 12.76, row.top - 3.74]).collect();
        let page = page_ids[row.page];
        let (field, kids) = pdf.radio_group(
            page,
            &format!("q{q:02}"),
            Some(&format!("Question {q}")),
            &opts.exports,
            &rects,
            chosen,
            ap,
        );
        pdf.fields.push(field);
        annots[row.page].extend(kids);
        let comment = dash.comment(q).unwrap_or("");
        let id = pdf.text_field(
            page,
            &format!("q{q:02}_comments"),
            string(comment),
            comment,
            [445.04, row.top - row.h + 2.0, 552.76, row.top - 2.0],
            6.0,
        );
        annots[row.page].push(id);
    }
    let last = rows.last().expect("24 rows");
    let ty = last.top - last.h - 24.0;
    canvases[last.page].text("F2", 9.0, 42.52, ty, "Total 'Yes' answers:");
    let total = opts.total.map(|t| t.to_string()).unwrap_or_default();
    let id = pdf.text_field(
        page_ids[last.page],
        "total_yes",
        string(&total),
        &total,
        [150.24, ty - 5.0, 192.76, ty + 12.0],
        9.0,
    );
    annots[last.page].push(id);

    let mut xobjects = None;
    if opts.pad > 0 {
        // A letterhead image saved uncompressed: a big, highly compressible stream.
        let w = 4000usize;
        let h = opts.pad.div_ceil(w);
        let img = Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            vec![0xFF; w * h],
        );
        let img_id = pdf.doc.add_object(img);
        canvases[0].ops += "q 40 0 0 37.5 515 30 cm /Logo Do Q\n";
        xobjects = Some(dictionary! { "Logo" => img_id });
    }
    for (p, mut c) in canvases.into_iter().enumerate() {
        footer(&mut c, &format!("{} MARAC DASH RIC v3.1", head.area), p, pages);
        let x = if p == 0 { xobjects.take() } else { None };
        pdf.add_page(page_ids[p], c, std::mem::take(&mut annots[p]), x);
    }
    pdf.finish(info, true)
}

/// Options of the checkbox-pair layout (a separate checkbox per answer).
pub struct PairOpts {
    /// Standard question numbers in the order this form prints them; the form numbers them 1..24.
    pub order: Vec<usize>,
    /// Typed into the question text in place of "(name of abuser)".
    pub abuser_first: Option<&'static str>,
    /// Field name for form question `k` and column 0 (Yes), 1 (No), 2 (Don't know).
    pub field_name: fn(usize, usize) -> String,
    /// The on-state name of every checkbox (/On or /Yes).
    pub on: &'static str,
    pub title: String,
}

pub fn pair_name_q_underscore(k: usize, col: usize) -> String {
    format!("Q{k}_{}", ["Yes", "No", "DK"][col])
}

pub fn pair_name_dash(k: usize, col: usize) -> String {
    format!("DASH_Q{k:02}_{}", ["Y", "N", "DK"][col])
}

/// Layout B: checkbox pairs (Yes / No / Don't know), questions in the form's own order.
pub fn dash_pairs(seed: &str, head: &DashHead, dash: &Dash, opts: &PairOpts, info: &Info) -> Document {
    let mut pdf = Pdf::new(seed, true, true);
    let texts: Vec<String> = opts.order.iter().map(|&q| question(q, opts.abuser_first)).collect();
    let rows = layout_rows(&texts, 640.0, 770.0, 70.0, 330.0, 8.5, 24.0);
    let pages = rows.last().map_or(1, |r| r.page + 1);
    let page_ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut canvases: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    let mut annots: Vec<Vec<ObjectId>> = vec![Vec::new(); pages];
    let ap = pdf.box_appearances(11.0, false);
    let cols = [430.0, 470.0, 510.0];

    let c0 = &mut canvases[0];
    c0.text("F2", 13.0, 40.0, 800.0, &opts.title);
    c0.text(
        "F1",
        8.0,
        40.0,
        786.0,
        "Domestic Abuse, Stalking and Honour Based Violence (DASH 2009) Risk Identification Checklist",
    );
    for (y, label) in [
        (760.0, "Name of person at risk"),
        (740.0, "Date of birth"),
        (720.0, "Name of person causing harm"),
        (700.0, "Date checklist completed"),
    ] {
        c0.text("F1", 9.0, 40.0, y, label);
    }
    for (t, v, y) in [
        ("VictimName", &head.victim, 756.0),
        ("VictimDOB", &head.dob, 736.0),
        ("PerpName", &head.abuser, 716.0),
        ("DateCompleted", &head.completed, 696.0),
    ] {
        let id = pdf.text_field(page_ids[0], t, string(v), v, [190.0, y, 400.0, y + 14.0], 9.0);
        annots[0].push(id);
    }
    c0.text(
        "F1",
        7.5,
        40.0,
        676.0,
        "Please tick the appropriate box for each question. Use the comments box at the end to give context.",
    );
    for (p, c) in canvases.iter_mut().enumerate() {
        let hy = if p == 0 { 652.0 } else { 782.0 };
        for (x, label) in [
            (40.0, "Q"),
            (62.0, "Question"),
            (cols[0] - 3.0, "YES"),
            (cols[1] - 1.0, "NO"),
            (cols[2] - 10.0, "DON'T KNOW"),
        ] {
            c.text("F2", 8.0, x, hy, label);
        }
        c.hline(38.0, 560.0, hy - 4.0, 0.2);
    }
    for (k0, row) in rows.iter().enumerate() {
        let k = k0 + 1;
        let q = opts.order[k0];
        let c = &mut canvases[row.page];
        c.text("F1", 8.5, 40.0, row.top - 11.0, &format!("{k}."));
        c.lines("F1", 8.5, 62.0, row.top - 11.0, 10.7, &row.lines);
        c.hline(38.0, 560.0, row.top - row.h, 0.6);
        let marks = match dash.answers[q - 1] {
            Ans::Yes => [true, false, false],
            Ans::No => [false, true, false],
            Ans::Dk => [false, false, true],
            Ans::Blank => [false, false, false],
            Ans::Both => [true, true, false],
        };
        for (col, &x) in cols.iter().enumerate() {
            let rect = [x, row.top - 15.0, x + 11.0, row.top - 4.0];
            let id = pdf.checkbox(page_ids[row.page], &(opts.field_name)(k, col), opts.on, marks[col], rect, ap);
            annots[row.page].push(id);
        }
    }
    let last = rows.last().expect("rows");
    let y = last.top - last.h - 20.0;
    canvases[last.page].text("F1", 8.0, 40.0, y, "Total number of YES ticks (14+ = refer to MARAC):");
    for (p, mut c) in canvases.into_iter().enumerate() {
        footer(&mut c, "DASH RIC (local version)", p, pages);
        pdf.add_page(page_ids[p], c, std::mem::take(&mut annots[p]), None);
    }
    pdf.finish(info, true)
}

/// Layout C: a field tree DASH.Section1.Q1 .. with radio export values Y / N / "Not known",
/// some fields named by their whole question text, the victim's name saved as UTF-16BE.
pub fn dash_tree(seed: &str, head: &DashHead, dash: &Dash, text_named: &[usize], info: &Info) -> Document {
    let mut pdf = Pdf::new(seed, false, true);
    let texts: Vec<String> = QUESTIONS_ALT.iter().map(|s| s.to_string()).collect();
    let rows = layout_rows(&texts, 650.0, 770.0, 60.0, 300.0, 8.0, 21.0);
    let pages = rows.last().map_or(1, |r| r.page + 1);
    let page_ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut canvases: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    let mut annots: Vec<Vec<ObjectId>> = vec![Vec::new(); pages];
    let ap = pdf.box_appearances(11.0, true);
    let exports = ["Y", "N", "Not known"];
    let cols = [400.0, 440.0, 490.0];

    band(
        &mut canvases[0],
        &format!("{} Domestic Abuse Partnership", head.area),
        "Risk Identification Checklist for use by IDVAs and other practitioners",
        (0.05, 0.33, 0.45),
    );
    let root = pdf.reserve();
    let details = pdf.reserve();
    let mut detail_kids = Vec::new();
    for (label, y) in
        [("Victim's name", 752.0), ("Date of birth", 734.0), ("Abuser's name", 716.0), ("Assessment date", 698.0)]
    {
        canvases[0].text("F1", 8.5, 40.0, y + 3.0, label);
    }
    let victim_value = if head.victim.is_ascii() { string(&head.victim) } else { utf16_string(&head.victim) };
    for (t, v, shown, y) in [
        ("VictimName", victim_value, head.victim.clone(), 752.0),
        ("DOB", string(&head.dob), head.dob.clone(), 734.0),
        ("AbuserName", string(&head.abuser), head.abuser.clone(), 716.0),
        ("AssessmentDate", string(&head.completed), head.completed.clone(), 698.0),
    ] {
        let id = pdf.text_field(page_ids[0], t, v, &shown, [150.0, y, 380.0, y + 14.0], 8.5);
        pdf.fields.pop();
        if let Ok(d) = pdf.doc.get_object_mut(id).and_then(Object::as_dict_mut) {
            d.set("Parent", details);
        }
        annots[0].push(id);
        detail_kids.push(Object::Reference(id));
    }
    pdf.doc.objects.insert(
        details,
        Object::Dictionary(dictionary! { "T" => string("Details"), "Parent" => root, "Kids" => detail_kids }),
    );

    for (p, c) in canvases.iter_mut().enumerate() {
        let hy = if p == 0 { 664.0 } else { 784.0 };
        for (x, label) in
            [(40.0, "#"), (58.0, "Question"), (cols[0], "Y"), (cols[1], "N"), (cols[2] - 8.0, "Not known")]
        {
            c.text("F2", 8.0, x, hy, label);
        }
    }
    let sections = [(1usize, 8usize), (9, 16), (17, 24)];
    let mut section_ids = Vec::new();
    for (s, &(from, to)) in sections.iter().enumerate() {
        let sec = pdf.reserve();
        let mut kids = Vec::new();
        for q in from..=to {
            let row = &rows[q - 1];
            let c = &mut canvases[row.page];
            c.text("F1", 8.0, 40.0, row.top - 10.0, &q.to_string());
            for (k, l) in row.lines.iter().enumerate() {
                c.text("F1", 8.0, 58.0, row.top - 10.0 - k as f32 * 10.2, l);
            }
            c.hline(38.0, 560.0, row.top - row.h, 0.75);
            let chosen = match dash.answers[q - 1] {
                Ans::Yes => Some(0),
                Ans::No => Some(1),
                Ans::Dk => Some(2),
                Ans::Blank => None,
                Ans::Both => panic!("radio"),
            };
            let rects: Vec<[f32; 4]> = cols.iter().map(|&x| [x, row.top - 14.0, x + 11.0, row.top - 3.0]).collect();
            let t = if text_named.contains(&q) { QUESTIONS_ALT[q - 1].to_string() } else { format!("Q{q}") };
            let (field, widgets) = pdf.radio_group(page_ids[row.page], &t, None, &exports, &rects, chosen, ap);
            if let Ok(d) = pdf.doc.get_object_mut(field).and_then(Object::as_dict_mut) {
                d.set("Parent", sec);
            }
            annots[row.page].extend(widgets);
            kids.push(Object::Reference(field));
        }
        pdf.doc.objects.insert(
            sec,
            Object::Dictionary(
                dictionary! { "T" => string(&format!("Section{}", s + 1)), "Parent" => root, "Kids" => kids },
            ),
        );
        section_ids.push(Object::Reference(sec));
    }
    let mut root_kids = vec![Object::Reference(details)];
    root_kids.extend(section_ids);
    pdf.doc.objects.insert(root, Object::Dictionary(dictionary! { "T" => string("DASH"), "Kids" => root_kids }));
    pdf.fields.push(root);
    for (p, mut c) in canvases.into_iter().enumerate() {
        footer(&mut c, &format!("{} DAP RIC", head.area), p, pages);
        pdf.add_page(page_ids[p], c, std::mem::take(&mut annots[p]), None);
    }
    pdf.finish(info, true)
}

/// Text fields for answers: each question has one field `answer_N` holding typed text.
pub fn dash_text_fields(
    seed: &str,
    head: &DashHead,
    dash: &Dash,
    spellings: &dyn Fn(usize, Ans) -> &'static str,
    info: &Info,
) -> Document {
    let mut pdf = Pdf::new(seed, true, false);
    let texts: Vec<String> = (1..=24).map(|i| question(i, None)).collect();
    let rows = layout_rows(&texts, 690.0, 780.0, 55.0, 330.0, 8.0, 20.0);
    let pages = rows.last().map_or(1, |r| r.page + 1);
    let page_ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut canvases: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    let mut annots: Vec<Vec<ObjectId>> = vec![Vec::new(); pages];
    canvases[0].text("F2", 12.0, 40.0, 805.0, &format!("{} - SafeLives DASH risk checklist", head.area));
    canvases[0].text("F1", 8.0, 40.0, 790.0, "Type Yes, No or Don't know in the answer box for each question.");
    for (label, t, v, y) in [
        ("Victim", "Victim", &head.victim, 760.0),
        ("DOB", "VictimDOB", &head.dob, 742.0),
        ("Perpetrator", "Perpetrator", &head.abuser, 724.0),
        ("Completed by", "Officer", &head.by, 706.0),
    ] {
        canvases[0].text("F1", 8.5, 40.0, y + 3.0, label);
        let id = pdf.text_field(page_ids[0], t, string(v), v, [120.0, y, 330.0, y + 14.0], 8.5);
        annots[0].push(id);
    }
    for (i, row) in rows.iter().enumerate() {
        let q = i + 1;
        let c = &mut canvases[row.page];
        c.text("F1", 8.0, 40.0, row.top - 10.0, &format!("{q}."));
        for (k, l) in row.lines.iter().enumerate() {
            c.text("F1", 8.0, 58.0, row.top - 10.0 - k as f32 * 10.2, l);
        }
        c.hline(38.0, 560.0, row.top - row.h, 0.8);
        let v = spellings(q, dash.answers[i]);
        let id = pdf.text_field(
            page_ids[row.page],
            &format!("answer_{q}"),
            string(v),
            v,
            [400.0, row.top - 15.0, 470.0, row.top - 2.0],
            8.0,
        );
        annots[row.page].push(id);
    }
    for (p, mut c) in canvases.into_iter().enumerate() {
        footer(&mut c, "RIC", p, pages);
        pdf.add_page(page_ids[p], c, std::mem::take(&mut annots[p]), None);
    }
    pdf.finish(info, true)
}

/// How a flattened table shows the answers.
pub enum Flat {
    /// No | Question | Yes | No | Don't know, with an "X" in one column.
    XColumns,
    /// No | Question | Answer | Comments, with the answer typed.
    AnswerColumn,
}

/// A flattened ("printed to PDF") DASH: answers are page text, there is no form.
pub fn dash_flat(
    seed: &str,
    head: &DashHead,
    dash: &Dash,
    style: Flat,
    abuser_first: Option<&str>,
    total: Option<u32>,
    info: &Info,
) -> Document {
    let mut pdf = Pdf::new(seed, false, true);
    let texts: Vec<String> = (1..=24).map(|i| question(i, abuser_first)).collect();
    let qwidth = match style {
        Flat::XColumns => 300.0,
        Flat::AnswerColumn => 280.0,
    };
    let rows = layout_rows(&texts, 668.0, 780.0, 60.0, qwidth, 8.5, 19.0);
    let pages = rows.last().map_or(1, |r| r.page + 1);
    let page_ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut canvases: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    let c0 = &mut canvases[0];
    c0.text("F2", 12.0, 40.0, 800.0, &format!("{} Domestic Abuse Risk Identification Checklist (DASH)", head.area));
    c0.text("F1", 9.0, 40.0, 770.0, &format!("Name of victim: {}", head.victim));
    c0.text("F1", 9.0, 330.0, 770.0, &format!("Date of birth: {}", head.dob));
    c0.text("F1", 9.0, 40.0, 755.0, &format!("Name of alleged perpetrator: {}", head.abuser));
    c0.text("F1", 9.0, 330.0, 755.0, &format!("Date completed: {}", head.completed));
    c0.text("F1", 9.0, 40.0, 740.0, &format!("Completed by: {} ({})", head.by, head.agency));
    let (headers, xs): (Vec<&str>, Vec<f32>) = match style {
        Flat::XColumns => (vec!["No", "Question", "Yes", "No", "Don't know"], vec![40.0, 62.0, 395.0, 440.0, 480.0]),
        Flat::AnswerColumn => (vec!["No", "Question", "Answer", "Comments"], vec![40.0, 62.0, 360.0, 420.0]),
    };
    for (p, c) in canvases.iter_mut().enumerate() {
        let hy = if p == 0 { 682.0 } else { 794.0 };
        c.fill((0.85, 0.85, 0.85), 38.0, hy - 5.0, 522.0, 16.0);
        for (x, l) in xs.iter().zip(&headers) {
            c.text("F2", 8.5, *x, hy, l);
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let q = i + 1;
        let c = &mut canvases[row.page];
        let base = row.top - 11.0;
        c.text("F1", 8.5, 40.0, base, &q.to_string());
        c.lines("F1", 8.5, 62.0, base, 10.7, &row.lines);
        c.hline(38.0, 560.0, row.top - row.h, 0.7);
        match style {
            Flat::XColumns => {
                for x in [390.0, 432.0, 474.0, 530.0] {
                    c.vline(x, row.top, row.top - row.h, 0.7);
                }
                let cols: &[usize] = match dash.answers[i] {
                    Ans::Yes => &[2],
                    Ans::No => &[3],
                    Ans::Dk => &[4],
                    Ans::Blank => &[],
                    Ans::Both => &[2, 3],
                };
                for &col in cols {
                    c.text("F2", 10.0, xs[col] + 6.0, base, "X");
                }
            }
            Flat::AnswerColumn => {
                let a = match dash.answers[i] {
                    Ans::Yes => "Yes",
                    Ans::No => "No",
                    Ans::Dk => "Not known",
                    Ans::Blank => "",
                    Ans::Both => "Yes / No",
                };
                if !a.is_empty() {
                    c.text("F1", 8.5, xs[2], base, a);
                }
                if let Some(com) = dash.comment(q) {
                    let lines = wrap(com, 7.0, 135.0);
                    c.lines("F1", 7.0, xs[3], base, 8.5, &lines);
                }
            }
        }
    }
    let last = rows.last().expect("rows");
    if let Some(t) = total {
        canvases[last.page].text("F2", 9.0, 40.0, last.top - last.h - 20.0, &format!("Total 'Yes' answers: {t}"));
    }
    for (p, mut c) in canvases.into_iter().enumerate() {
        footer(&mut c, "Printed from case management system", p, pages);
        pdf.add_page(page_ids[p], c, Vec::new(), None);
    }
    pdf.finish(info, false)
}

/// A scanned DASH: one page that only paints a grey image (no text layer, no form).
pub fn scanned(seed: &str, info: &Info) -> Document {
    let mut pdf = Pdf::new(seed, true, false);
    let (w, h) = (212usize, 300usize);
    let mut rng = Rng::new(0x5CA7);
    let mut px = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let paper = 226 + (rng.below(18) as u8);
            // Dark bands where printed lines of text would be, boxes in the answer columns.
            let in_text_line = y > 30 && y < 285 && (y % 11) < 3 && x > 18 && x < 140 + (y * 7 % 40);
            let in_box = y > 60 && y < 285 && (y % 11) < 6 && [150usize, 165, 180].iter().any(|&c| x >= c && x < c + 6);
            px[y * w + x] = if in_text_line || in_box { 70 + (rng.below(40) as u8) } else { paper };
        }
    }
    let mut img = Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        px,
    );
    let _ = img.compress();
    let img_id = pdf.doc.add_object(img);
    let page = pdf.reserve();
    let c = Canvas { ops: format!("q {} 0 0 {} 0 0 cm /Im1 Do Q\n", n(PAGE_W), n(PAGE_H)) };
    pdf.add_page(page, c, Vec::new(), Some(dictionary! { "Im1" => img_id }));
    pdf.finish(info, false)
}

/// Encrypts with the standard security handler (RC4 128-bit, revision 3) and a user password.
pub fn encrypt(doc: &mut Document, user: &str, owner: &str) {
    let state = EncryptionState::try_from(EncryptionVersion::V2 {
        document: doc,
        owner_password: owner,
        user_password: user,
        key_length: 128,
        permissions: Permissions::PRINTABLE | Permissions::FILLABLE,
    })
    .expect("encryption parameters");
    doc.encrypt(&state).expect("encrypt");
    // Revision 3 pads /U with 16 arbitrary bytes that lopdf draws at random: fix them.
    if let Ok(Object::Reference(id)) = doc.trailer.get(b"Encrypt").cloned() {
        if let Ok(Object::Dictionary(d)) = doc.get_object_mut(id) {
            if let Ok(Object::String(u, _)) = d.get_mut(b"U") {
                for b in u.iter_mut().skip(16) {
                    *b = 0;
                }
            }
        }
    }
}

/// A file that starts like a PDF and is garbage after its header (damaged in transit): no
/// object, no cross-reference table, no trailer can be recovered from it.
pub fn corrupt(seed: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\r\n%\xE2\xE3\xCF\xD3\r\n".to_vec();
    let mut rng = Rng::new(u64::from_str_radix(&hexid(seed, 12), 16).unwrap_or(1));
    // Filler with no '%', no "obj" and no "trailer" by construction (bytes >= 0x80 only).
    out.extend(rng.bytes(7000).into_iter().map(|b| b | 0x80));
    out.extend_from_slice(b"\r\n%%EOF\r\n");
    out
}
