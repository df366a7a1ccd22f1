//! DASH checklist layouts: fillable and flat PDFs, Word tables (typed answers, glyphs, content
//! controls, legacy form check boxes several to a cell), spreadsheets (answer column, marks under
//! columns), OpenDocument. Each takes the question texts of one wording.

use super::words::{self, Wording};
use super::{att, Referral, A};
use crate::docx::{self, DocMeta};
use crate::form::{t, Block, TickStyle, Val};
use crate::mail::Attachment;
use crate::odf;
use crate::pdf::{self, Canvas, Info, Pdf};
use crate::util::{xml, Rng, Stamp};
use crate::zipw::{zip, Method};
use lopdf::{Object, ObjectId};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

/// (id, what it is).
pub const LAYOUTS: [(&str, &str); 14] = [
    ("pdf_radio", "fillable PDF, one radio group per question, export values vary"),
    ("pdf_checkboxes", "fillable PDF, a check box per answer column"),
    ("pdf_flat_marks", "flat PDF table, a mark under Yes / No / Don't know"),
    ("pdf_flat_typed", "flat PDF table, typed answer column"),
    ("docx_typed", "Word table, typed answers"),
    ("docx_glyph_columns", "Word table, glyph boxes under three columns"),
    ("docx_content_controls", "Word table, content-control check boxes"),
    ("docx_legacy_in_cell", "Word table, three FORMCHECKBOX fields in one cell, each followed by its label"),
    ("docx_grouped_marks", "Word table under sub-headings, unnumbered, marks under columns"),
    ("docx_inline_glyphs", "Word table, one cell holding the three boxes and their labels as glyphs"),
    ("xlsx_answer_column", "Excel, typed answer column"),
    ("xlsx_mark_columns", "Excel, marks under Yes / No / Don't know columns"),
    ("ods_answer_column", "OpenDocument spreadsheet, typed answer column"),
    ("odt_mark_columns", "OpenDocument text table, marks under columns"),
];

const TITLES: [&str; 4] = [
    "DASH Risk Identification Checklist",
    "SafeLives Dash risk checklist",
    "Domestic Abuse, Stalking and Honour Based Violence (DASH) Risk Identification Checklist (RIC)",
    "DASH RIC - Risk Identification Checklist for use by IDVAs and other non-police agencies",
];

/// Header labels: (victim, dob, abuser, date).
const HEAD: [[&str; 4]; 3] = [
    ["Victim name", "Date of birth", "Abuser name", "Date completed"],
    ["Name of person at risk", "DOB", "Name of person causing harm", "Date of assessment"],
    ["Client", "Client DOB", "Alleged perpetrator", "Date"],
];

struct Ctx<'a> {
    r: &'a Referral,
    texts: Vec<String>,
    title: &'static str,
    head: [&'static str; 4],
    total: bool,
    comments: bool,
    numbering: u64,
    at: Stamp,
}

impl Ctx<'_> {
    fn head_rows(&self) -> Vec<(String, String)> {
        let r = self.r;
        vec![
            (self.head[0].to_string(), r.shown_name().full),
            (self.head[1].to_string(), r.shown_dob()),
            (self.head[2].to_string(), r.perp_name.full.clone()),
            (self.head[3].to_string(), r.referral_date.slash()),
        ]
    }
    fn comment(&self, q: usize) -> String {
        if self.comments {
            self.r.comment(q).unwrap_or("").to_string()
        } else {
            String::new()
        }
    }
    fn total_line(&self) -> Option<String> {
        self.total.then(|| format!("Total number of 'Yes' answers: {}", self.r.yes()))
    }
    fn meta(&self) -> DocMeta {
        DocMeta { title: self.title.to_string(), author: self.r.referrer.name.to_string(), created: self.at.minus_secs(3_600) }
    }
}

fn col(a: A) -> usize {
    match a {
        A::Yes => 0,
        A::No => 1,
        A::Dk => 2,
    }
}

/// The checklist as an attachment, with the total of Yes answers it prints (when it prints one).
pub fn render(layout: (&'static str, &'static str), r: &Referral, wording: Wording, rng: &mut Rng, seed: &str, at: Stamp) -> (Attachment, Option<u32>) {
    let texts: Vec<String> = (1..=24).map(|q| (wording.1)(q, &r.perp_first)).collect();
    let cx = Ctx {
        r,
        texts,
        title: TITLES[rng.below(4) as usize],
        head: HEAD[rng.below(3) as usize],
        total: rng.below(2) == 0,
        comments: rng.below(3) != 0,
        numbering: rng.below(4),
        at,
    };
    let typed = words::TYPED[rng.below(words::TYPED.len() as u64) as usize];
    let mark = words::MARKS[rng.below(words::MARKS.len() as u64) as usize];
    let columns = words::COLUMNS[rng.below(3) as usize];
    let name = format!("DASH RIC {}", r.referral_date.iso());
    let printed_total = cx.total.then(|| r.yes());
    let attachment = match layout.0 {
        "pdf_radio" => att(&format!("{name}.pdf"), "pdf", &pdf_fillable(&cx, seed, true, rng)),
        "pdf_checkboxes" => att(&format!("{name}.pdf"), "pdf", &pdf_fillable(&cx, seed, false, rng)),
        "pdf_flat_marks" => att(&format!("{name}.pdf"), "pdf", &pdf_flat(&cx, seed, Flat::Marks(mark, columns))),
        "pdf_flat_typed" => att(&format!("{name}.pdf"), "pdf", &pdf_flat(&cx, seed, Flat::Typed(typed))),
        "docx_typed" => {
            let rows = (1..=24).map(|q| vec![t(words::number(cx.numbering, q)), t(&cx.texts[q - 1]), t(words::typed(r.answers[q - 1], &typed)), t(cx.comment(q))]).collect();
            let grid = Block::Grid { header: vec!["No.".into(), "Question".into(), "Yes / No / Don't know".into(), "Comments".into()], widths: vec![700, 5400, 1600, 2100], rows };
            att(&format!("{name}.docx"), "docx", &docx_doc(&cx, grid, TickStyle::YesNo))
        }
        "docx_glyph_columns" | "docx_content_controls" => {
            let rows = (1..=24)
                .map(|q| {
                    let c = col(r.answers[q - 1]);
                    vec![t(words::number(cx.numbering, q)), t(&cx.texts[q - 1]), Val::Tick(c == 0), Val::Tick(c == 1), Val::Tick(c == 2), t(cx.comment(q))]
                })
                .collect();
            let header = vec!["".into(), "Question".into(), columns[0].into(), columns[1].into(), columns[2].into(), "Comments".into()];
            let grid = Block::Grid { header, widths: vec![500, 5000, 800, 800, 1100, 1700], rows };
            let tick = if layout.0 == "docx_glyph_columns" { TickStyle::Glyph } else { TickStyle::ContentControl };
            att(&format!("{name}.docx"), "docx", &docx_doc(&cx, grid, tick))
        }
        "docx_legacy_in_cell" => att(&format!("{name}.docx"), "docx", &docx_legacy(&cx)),
        "docx_grouped_marks" => {
            let mut rows = Vec::new();
            for q in 1..=24 {
                if let Some((_, g)) = words::GROUPS.iter().find(|(f, _)| *f == q) {
                    rows.push(vec![t(*g), t(""), t(""), t("")]);
                }
                let c = col(r.answers[q - 1]);
                let m = |k| t(if c == k { mark } else { "" });
                rows.push(vec![t(&cx.texts[q - 1]), m(0), m(1), m(2)]);
            }
            let grid = Block::Grid { header: vec!["Risk factor".into(), columns[0].into(), columns[1].into(), columns[2].into()], widths: vec![6400, 900, 900, 1300], rows };
            att(&format!("{name}.docx"), "docx", &docx_doc(&cx, grid, TickStyle::YesNo))
        }
        "docx_inline_glyphs" => {
            let rows = (1..=24)
                .map(|q| {
                    let c = col(r.answers[q - 1]);
                    let b = |k| if c == k { "\u{2612}" } else { "\u{2610}" };
                    let cell = format!("{} {}   {} {}   {} {}", b(0), columns[0], b(1), columns[1], b(2), columns[2]);
                    vec![t(words::number(cx.numbering, q)), t(&cx.texts[q - 1]), t(cell), t(cx.comment(q))]
                })
                .collect();
            let grid = Block::Grid { header: vec!["".into(), "Question".into(), "Answer".into(), "Comments".into()], widths: vec![500, 5000, 2600, 1700], rows };
            att(&format!("{name}.docx"), "docx", &docx_doc(&cx, grid, TickStyle::YesNo))
        }
        "xlsx_answer_column" => att(&format!("{name}.xlsx"), "xlsx", &xlsx(&cx, XlsxStyle::Typed(typed)).expect("xlsx")),
        "xlsx_mark_columns" => att(&format!("{name}.xlsx"), "xlsx", &xlsx(&cx, XlsxStyle::Marks(mark, columns)).expect("xlsx")),
        "ods_answer_column" => att(&format!("{name}.ods"), "ods", &ods(&cx, typed)),
        "odt_mark_columns" => {
            let rows = (1..=24)
                .map(|q| {
                    let c = col(r.answers[q - 1]);
                    let m = |k| t(if c == k { mark } else { "" });
                    vec![t(words::number(cx.numbering, q)), t(&cx.texts[q - 1]), m(0), m(1), m(2), t(cx.comment(q))]
                })
                .collect();
            let header = vec!["".into(), "Question".into(), columns[0].into(), columns[1].into(), columns[2].into(), "Comments".into()];
            let mut blocks = doc_head(&cx);
            blocks.push(Block::Grid { header, widths: vec![], rows });
            if let Some(tl) = cx.total_line() {
                blocks.push(Block::Para(tl));
            }
            att(&format!("{name}.odt"), "odt", &odf::odt(&blocks, cx.title, at))
        }
        other => panic!("unknown DASH layout {other}"),
    };
    (attachment, printed_total)
}

fn doc_head(cx: &Ctx) -> Vec<Block> {
    vec![
        Block::Title(cx.title.to_string()),
        Block::Para("OFFICIAL-SENSITIVE when complete. Ask every question; record Yes, No or Don't know.".into()),
        Block::Kv(cx.head_rows().into_iter().map(|(l, v)| (l, t(v))).collect()),
    ]
}

fn docx_doc(cx: &Ctx, grid: Block, tick: TickStyle) -> Vec<u8> {
    let mut blocks = doc_head(cx);
    blocks.push(grid);
    if let Some(tl) = cx.total_line() {
        blocks.push(Block::Para(tl));
    }
    docx::docx(&blocks, tick, false, &cx.meta())
}

fn w_run(text: &str, bold: bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    let rpr = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    format!(r#"<w:r>{rpr}<w:t xml:space="preserve">{}</w:t></w:r>"#, xml(text))
}

fn w_cell(width: u32, content: &str) -> String {
    format!(r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>{content}</w:p></w:tc>"#)
}

/// A legacy Word form check box (FORMCHECKBOX), in one of the ways Word records its state.
pub fn legacy_box(k: u32, on: bool) -> String {
    let state = match (on, k % 3) {
        (true, 0) => r#"<w:default w:val="1"/>"#,
        (true, 1) => r#"<w:default w:val="0"/><w:checked/>"#,
        (true, _) => r#"<w:default w:val="0"/><w:checked w:val="1"/>"#,
        (false, 0) => r#"<w:default w:val="0"/>"#,
        (false, 1) => r#"<w:default w:val="1"/><w:checked w:val="0"/>"#,
        (false, _) => r#"<w:default w:val="0"/><w:checked w:val="false"/>"#,
    };
    format!(
        concat!(
            r#"<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check{}"/><w:enabled/><w:calcOnExit w:val="0"/>"#,
            r#"<w:checkBox><w:sizeAuto/>{}</w:checkBox></w:ffData></w:fldChar></w:r>"#,
            r#"<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#
        ),
        k, state
    )
}

fn docx_legacy(cx: &Ctx) -> Vec<u8> {
    let mut body = format!(r#"<w:p><w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#, xml(cx.title));
    let tbl = |rows: String, grid: &str| format!(r#"<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl><w:p/>"#);
    let mut rows = String::new();
    for (l, v) in cx.head_rows() {
        rows += &format!("<w:tr>{}{}</w:tr>", w_cell(3400, &w_run(&l, true)), w_cell(6400, &w_run(&v, false)));
    }
    body += &tbl(rows, r#"<w:gridCol w:w="3400"/><w:gridCol w:w="6400"/>"#);
    let mut rows = format!("<w:tr>{}{}{}{}</w:tr>", w_cell(600, &w_run("Q", true)), w_cell(5200, &w_run("Question", true)), w_cell(2200, &w_run("Answer", true)), w_cell(1800, &w_run("Comments", true)));
    let mut k = 0;
    for q in 1..=24 {
        let c = col(cx.r.answers[q - 1]);
        let mut cell = String::new();
        for (i, label) in ["Yes", "No", "DK"].iter().enumerate() {
            k += 1;
            cell += &legacy_box(k, c == i);
            cell += &w_run(&format!(" {label}   "), false);
        }
        rows += &format!(
            "<w:tr>{}{}{}{}</w:tr>",
            w_cell(600, &w_run(&words::number(cx.numbering, q), false)),
            w_cell(5200, &w_run(&cx.texts[q - 1], false)),
            w_cell(2200, &cell),
            w_cell(1800, &w_run(&cx.comment(q), false))
        );
    }
    body += &tbl(rows, r#"<w:gridCol w:w="600"/><w:gridCol w:w="5200"/><w:gridCol w:w="2200"/><w:gridCol w:w="1800"/>"#);
    if let Some(tl) = cx.total_line() {
        body += &format!("<w:p>{}</w:p>", w_run(&tl, true));
    }
    zip(&docx::parts(docx::document_xml(&body), &cx.meta()))
}

enum Flat {
    Marks(&'static str, [&'static str; 3]),
    Typed([&'static str; 3]),
}

/// Rows of a table that may run over pages: (page, top, height, lines).
fn rows(texts: &[String], width: f32, size: f32, first_top: f32) -> Vec<(usize, f32, f32, Vec<String>)> {
    let mut out = Vec::new();
    let (mut page, mut top) = (0, first_top);
    for t in texts {
        let lines = pdf::wrap(t, size, width);
        let h = (lines.len() as f32 * (size + 2.0) + 8.0).max(20.0);
        if top - h < 60.0 {
            page += 1;
            top = 780.0;
        }
        out.push((page, top, h, lines));
        top -= h;
    }
    out
}

fn info(cx: &Ctx) -> Info {
    Info { title: cx.title.to_string(), author: cx.r.referrer.name.to_string(), creator: "Microsoft Word", producer: "Microsoft: Print To PDF", created: cx.at.minus_secs(3_000) }
}

fn pdf_head(c: &mut Canvas, cx: &Ctx) {
    c.text("F2", 12.0, 40.0, 805.0, cx.title);
    for (i, (l, v)) in cx.head_rows().into_iter().enumerate() {
        let y = 780.0 - 15.0 * i as f32;
        c.text("F2", 9.0, 40.0, y, &format!("{l}:"));
        c.text("F1", 9.0, 200.0, y, &v);
    }
}

fn pdf_flat(cx: &Ctx, seed: &str, style: Flat) -> Vec<u8> {
    let mut pdf = Pdf::new(seed, false, true);
    let rs = rows(&cx.texts, 300.0, 8.5, 700.0);
    let pages = rs.last().map_or(1, |r| r.0 + 1);
    let ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut cs: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    pdf_head(&mut cs[0], cx);
    let xs = [390.0, 435.0, 480.0];
    for (p, c) in cs.iter_mut().enumerate() {
        let hy = if p == 0 { 712.0 } else { 792.0 };
        c.text("F2", 8.5, 62.0, hy, "Question");
        match &style {
            Flat::Marks(_, cols) => {
                for (x, h) in xs.iter().zip(cols) {
                    c.text("F2", 8.5, *x, hy, h);
                }
            }
            Flat::Typed(_) => c.text("F2", 8.5, 390.0, hy, "Answer"),
        }
        c.text("F2", 8.5, 530.0, hy, "Notes");
    }
    for (i, (p, top, h, lines)) in rs.iter().enumerate() {
        let q = i + 1;
        let c = &mut cs[*p];
        let base = top - 11.0;
        let num = words::number(cx.numbering, q);
        if !num.is_empty() {
            c.text("F1", 8.5, 40.0, base, &num);
        }
        c.lines("F1", 8.5, 62.0, base, 10.5, lines);
        c.hline(38.0, 560.0, top - h, 0.7);
        let a = cx.r.answers[i];
        match &style {
            Flat::Marks(m, _) => c.text("F2", 10.0, xs[col(a)] + 6.0, base, &pdf_safe(m)),
            Flat::Typed(set) => c.text("F1", 8.5, 390.0, base, words::typed(a, set)),
        }
        let com = cx.comment(q);
        if !com.is_empty() {
            c.text("F1", 6.0, 530.0, base, &com.chars().take(12).collect::<String>());
        }
    }
    if let Some(tl) = cx.total_line() {
        let (p, top, h, _) = rs.last().expect("rows");
        cs[*p].text("F2", 9.0, 40.0, top - h - 20.0, &tl);
    }
    for (p, c) in cs.into_iter().enumerate() {
        pdf.add_page(ids[p], c, Vec::new(), None);
    }
    pdf::save(pdf.finish(&info(cx), false))
}

/// The standard fonts of a flat PDF have no ✓ / ✔ / ☒: printed they come out as a letter X.
fn pdf_safe(m: &str) -> String {
    if m.is_ascii() {
        m.to_string()
    } else {
        "X".to_string()
    }
}

fn pdf_fillable(cx: &Ctx, seed: &str, radio: bool, rng: &mut Rng) -> Vec<u8> {
    let mut pdf = Pdf::new(seed, rng.below(2) == 0, true);
    let rs = rows(&cx.texts, 300.0, 8.5, 690.0);
    let pages = rs.last().map_or(1, |r| r.0 + 1);
    let ids: Vec<ObjectId> = (0..pages).map(|_| pdf.reserve()).collect();
    let mut cs: Vec<Canvas> = (0..pages).map(|_| Canvas::default()).collect();
    let mut annots: Vec<Vec<ObjectId>> = vec![Vec::new(); pages];
    let c0 = &mut cs[0];
    c0.text("F2", 12.0, 40.0, 805.0, cx.title);
    let head_names = ["VictimName", "VictimDOB", "AbuserName", "DateCompleted"];
    for (i, (l, v)) in cx.head_rows().into_iter().enumerate() {
        let y = 780.0 - 18.0 * i as f32;
        cs[0].text("F2", 9.0, 40.0, y, &format!("{l}:"));
        let id = pdf.text_field(ids[0], head_names[i], Object::string_literal(v.clone()), &v, [200.0, y - 4.0, 420.0, y + 10.0], 9.0);
        annots[0].push(id);
    }
    // Export values as form designers leave them, down to Acrobat's bare choice numbers (the
    // column headers printed above the buttons then say which is which).
    let exports: [&str; 3] = [["Yes", "No", "DK"], ["Y", "N", "U"], ["Yes", "No", "Not known"], ["1", "2", "3"]][rng.below(4) as usize];
    let naming = rng.below(3);
    let on = if rng.below(2) == 0 { "Yes" } else { "On" };
    let xs = [400.0, 445.0, 490.0];
    let ap = pdf.box_appearances(11.0, radio);
    for (p, c) in cs.iter_mut().enumerate() {
        let hy = if p == 0 { 702.0 } else { 792.0 };
        c.text("F2", 8.5, 62.0, hy, "Question");
        for (x, h) in xs.iter().zip(["Yes", "No", "Don't know"]) {
            c.text("F2", 8.0, *x - 2.0, hy, h);
        }
    }
    for (i, (p, top, h, lines)) in rs.iter().enumerate() {
        let q = i + 1;
        let c = &mut cs[*p];
        let base = top - 11.0;
        let num = words::number(cx.numbering, q);
        if !num.is_empty() {
            c.text("F1", 8.5, 40.0, base, &num);
        }
        c.lines("F1", 8.5, 62.0, base, 10.5, lines);
        c.hline(38.0, 560.0, top - h, 0.7);
        let chosen = col(cx.r.answers[i]);
        let rects: Vec<[f32; 4]> = xs.iter().map(|&x| [x, top - 15.0, x + 11.0, top - 4.0]).collect();
        if radio {
            let t = match naming {
                0 => format!("q{q:02}"),
                1 => format!("Q{q}"),
                _ => format!("DASH_{q}"),
            };
            let (field, kids) = pdf.radio_group(ids[*p], &t, Some(&format!("Question {q}")), &exports, &rects, Some(chosen), ap);
            pdf.fields.push(field);
            annots[*p].extend(kids);
        } else {
            for (k, rect) in rects.iter().enumerate() {
                let t = match naming {
                    0 => format!("Q{q}_{}", ["Yes", "No", "DK"][k]),
                    1 => format!("q{q:02}{}", ["y", "n", "dk"][k]),
                    _ => format!("Check Box {}", (q - 1) * 3 + k + 1),
                };
                let id = pdf.checkbox(ids[*p], &t, on, chosen == k, *rect, ap);
                annots[*p].push(id);
            }
        }
    }
    if cx.total {
        let (p, top, h, _) = rs.last().expect("rows");
        let y = top - h - 20.0;
        cs[*p].text("F2", 9.0, 40.0, y, "Total 'Yes' answers:");
        let v = cx.r.yes().to_string();
        let id = pdf.text_field(ids[*p], "TotalYes", Object::string_literal(v.clone()), &v, [160.0, y - 4.0, 200.0, y + 10.0], 9.0);
        annots[*p].push(id);
    }
    for (p, c) in cs.into_iter().enumerate() {
        pdf.add_page(ids[p], c, std::mem::take(&mut annots[p]), None);
    }
    pdf::save(pdf.finish(&Info { creator: "Adobe Acrobat Pro", producer: "Adobe Acrobat Pro 2020", ..info(cx) }, true))
}

enum XlsxStyle {
    Typed([&'static str; 3]),
    Marks(&'static str, [&'static str; 3]),
}

fn xlsx(cx: &Ctx, style: XlsxStyle) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&super::xlsx_props(cx.r.referrer.name, cx.at.minus_secs(3_600)));
    let ws = wb.add_worksheet();
    ws.set_name("DASH")?;
    let bold = Format::new().set_bold();
    let boxed = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    ws.set_column_width(1, 70)?;
    ws.write_string_with_format(0, 0, cx.title, &bold)?;
    for (i, (l, v)) in cx.head_rows().into_iter().enumerate() {
        ws.write_string_with_format(2 + i as u32, 0, l, &bold)?;
        ws.write_string(2 + i as u32, 2, v)?;
    }
    let header: Vec<&str> = match &style {
        XlsxStyle::Typed(_) => vec!["Q", "Question", "Answer", "Comments"],
        XlsxStyle::Marks(_, c) => vec!["Q", "Question", c[0], c[1], c[2], "Comments"],
    };
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(7, c as u16, *h, &bold)?;
    }
    for q in 1..=24usize {
        let r = 7 + q as u32;
        let num = words::number(cx.numbering, q);
        if !num.is_empty() {
            ws.write_string_with_format(r, 0, num, &boxed)?;
        }
        ws.write_string_with_format(r, 1, &cx.texts[q - 1], &boxed)?;
        let a = cx.r.answers[q - 1];
        let com_col = match &style {
            XlsxStyle::Typed(set) => {
                ws.write_string_with_format(r, 2, words::typed(a, set), &boxed)?;
                3
            }
            XlsxStyle::Marks(m, _) => {
                ws.write_string_with_format(r, 2 + col(a) as u16, *m, &boxed)?;
                5
            }
        };
        let com = cx.comment(q);
        if !com.is_empty() {
            ws.write_string_with_format(r, com_col, com, &boxed)?;
        }
    }
    if cx.total {
        ws.write_string_with_format(33, 1, "Total 'Yes' answers", &bold)?;
        ws.write_number(33, 2, f64::from(cx.r.yes()))?;
    }
    wb.save_to_buffer()
}

fn ods_cell(s: &str) -> String {
    if s.is_empty() {
        "<table:table-cell/>".to_string()
    } else {
        format!(r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#, xml(s))
    }
}

fn ods(cx: &Ctx, set: [&'static str; 3]) -> Vec<u8> {
    let mut rows = format!("<table:table-row>{}</table:table-row>", ods_cell(cx.title));
    for (l, v) in cx.head_rows() {
        rows += &format!("<table:table-row>{}{}</table:table-row>", ods_cell(&l), ods_cell(&v));
    }
    rows += &format!("<table:table-row>{}{}{}{}</table:table-row>", ods_cell("No"), ods_cell("Question"), ods_cell("Answer"), ods_cell("Comments"));
    for q in 1..=24 {
        rows += &format!(
            "<table:table-row>{}{}{}{}</table:table-row>",
            ods_cell(&words::number(cx.numbering, q)),
            ods_cell(&cx.texts[q - 1]),
            ods_cell(words::typed(cx.r.answers[q - 1], &set)),
            ods_cell(&cx.comment(q))
        );
    }
    if let Some(tl) = cx.total_line() {
        rows += &format!("<table:table-row>{}</table:table-row>", ods_cell(&tl));
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:spreadsheet><table:table table:name="DASH"><table:table-column table:number-columns-repeated="4"/>{rows}</table:table></office:spreadsheet></office:body></office:document-content>
"#
    );
    let media = "application/vnd.oasis.opendocument.spreadsheet";
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="{media}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>
"#
    );
    zip(&[("mimetype", media.as_bytes().to_vec(), Method::Stored), ("content.xml", content.into_bytes(), Method::Deflated), ("META-INF/manifest.xml", manifest.into_bytes(), Method::Deflated)])
}
