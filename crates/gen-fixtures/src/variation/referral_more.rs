//! Five more referral-form layouts, each giving the reasons for referral as a form of another
//! area does, in that area's words. The people's sections are those of [`super::sections`]; only
//! the reasons are drawn here. The truth is what a careful reader sees on the page: a mark under
//! Yes, a ticked box beside its label, the one reason chosen in a drop-down, the codes typed.

use super::super::{att, Referral};
use super::{pairs, sections, Section};
use crate::docx::{self, DocMeta};
use crate::form::{Block, Val};
use crate::mail::Attachment;
use crate::odf;
use crate::pdf::{self, Canvas, Info, Pdf};
use crate::util::{xml, Rng, Stamp};
use crate::zipw::zip;
use lopdf::{Object, ObjectId};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

/// The words one area prints for the reasons.
struct Words {
    visible: &'static str,
    pj: &'static str,
    escalation: &'static str,
    repeat: &'static str,
    rationale: &'static str,
    callouts: &'static str,
    score: &'static str,
}

fn pick(rng: &mut Rng, v: &[&'static str]) -> &'static str {
    v[rng.below(v.len() as u64) as usize]
}

fn words(rng: &mut Rng) -> Words {
    Words {
        visible: pick(rng, &["Visible high risk (14+ ticks on DASH)", "High risk on the DASH (14 or more Yes)", "Visible high risk"]),
        pj: pick(rng, &["Professional judgment", "Practitioner's judgement", "Professional judgement / professional concern", "PJ referral"]),
        escalation: pick(rng, &["Potential escalation", "Escalation (3+ incidents)", "Potential escalation criteria met", "Escalation - 3 or more police call-outs in 12 months"]),
        repeat: pick(rng, &["Repeat MARAC referral", "Repeat (referred in the last 12 months)", "Repeat case"]),
        rationale: pick(rng, &["Rationale for professional judgement / concerns", "Rationale for professional judgment", "Practitioner's rationale / concerns", "If PJ, please give your reasons for concern"]),
        callouts: pick(rng, &["No. of DA incidents reported to police in last 12 months", "Police call outs (12 months)", "Number of police call-outs in the last 12 months", "Police attendances for DA (last 12 months)"]),
        score: pick(rng, &["DASH score", "DASH RIC score (number of Yes answers)", "Total DASH score"]),
    }
}

fn num(n: Option<u32>) -> String {
    n.map(|x| x.to_string()).unwrap_or_default()
}

/// The four reasons with their printed labels and whether each was chosen.
fn four(w: &Words, r: &Referral) -> [(&'static str, bool); 4] {
    let rs = &r.reasons;
    [(w.visible, rs.visible), (w.pj, rs.pj), (w.escalation, rs.escalation), (w.repeat, rs.repeat)]
}

#[allow(clippy::too_many_arguments)]
pub fn render(layout: &str, title: &str, r: &Referral, rng: &mut Rng, seed: &str, at: Stamp, meta: &DocMeta, name: &str) -> Attachment {
    let split = rng.below(2) == 0;
    let secs = sections(r, rng, false, split);
    let w = words(rng);
    match layout {
        "docx_criteria_yes_no" => att(&format!("{name}.docx"), "docx", &criteria_yes_no(title, &secs, &w, r, rng, meta)),
        "odt_tick_all" => att(&format!("{name}.odt"), "odt", &tick_all(title, secs, &w, r, rng, at)),
        "xlsx_criteria_across" => att(&format!("{name}.xlsx"), "xlsx", &across(title, secs, &w, r, rng, at).expect("xlsx")),
        "pdf_opaque_boxes" => att(&format!("{name}.pdf"), "pdf", &opaque_boxes(title, &w, r, seed, at)),
        "docx_dropdown_codes" => att(&format!("{name}.docx"), "docx", &dropdown_codes(title, &secs, &w, r, rng, meta)),
        other => panic!("unknown referral layout {other}"),
    }
}

// ---- Word, written by hand: cells spanning columns, marks, drop-downs ----

fn run(s: &str, bold: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let rpr = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    format!(r#"<w:r>{rpr}<w:t xml:space="preserve">{}</w:t></w:r>"#, xml(s))
}

fn para(content: &str) -> String {
    format!("<w:p>{content}</w:p>")
}

fn tc(width: u32, span: u32, content: &str, shade: bool) -> String {
    let span = if span > 1 { format!(r#"<w:gridSpan w:val="{span}"/>"#) } else { String::new() };
    let shd = if shade { r#"<w:shd w:val="clear" w:color="auto" w:fill="DCE6F1"/>"# } else { "" };
    format!(r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{span}{shd}</w:tcPr><w:p>{content}</w:p></w:tc>"#)
}

fn table(widths: &[u32], rows: &[String]) -> String {
    let grid: String = widths.iter().map(|w| format!(r#"<w:gridCol w:w="{w}"/>"#)).collect();
    let total: u32 = widths.iter().sum();
    let rows: String = rows.iter().map(|r| format!("<w:tr>{r}</w:tr>")).collect();
    format!(
        r#"<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{total}" w:type="dxa"/><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl><w:p/>"#
    )
}

fn heading(s: &str) -> String {
    format!(r#"<w:p><w:pPr><w:keepNext/></w:pPr><w:r><w:rPr><w:b/><w:sz w:val="24"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#, xml(s))
}

/// A Word content-control check box showing ☒ / ☐.
fn content_check(on: bool, k: u32) -> String {
    format!(
        concat!(
            r#"<w:sdt><w:sdtPr><w:id w:val="-{}"/><w14:checkbox><w14:checked w14:val="{}"/>"#,
            r#"<w14:checkedState w14:val="2612" w14:font="MS Gothic"/><w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>"#,
            r#"<w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr><w:t>{}</w:t></w:r></w:sdtContent></w:sdt>"#
        ),
        1_800_000_000 + k * 7919,
        u8::from(on),
        if on { "\u{2612}" } else { "\u{2610}" }
    )
}

/// The people's sections as Word label | value tables (ticks as typed Yes / No).
fn people_docx(secs: &[Section]) -> String {
    let mut body = String::new();
    for s in secs.iter().filter(|s| !is_reasons(s)) {
        body += &heading(&s.heading);
        let rows: Vec<String> = pairs(&s.rows)
            .into_iter()
            .map(|(l, v)| {
                let v = match v {
                    Val::Text(s) => s,
                    Val::Tick(on) => (if on { "Yes" } else { "No" }).to_string(),
                };
                tc(3400, 1, &run(&l, true), true) + &tc(6400, 1, &run(&v, false), false)
            })
            .collect();
        body += &table(&[3400, 6400], &rows);
    }
    body
}

/// The section [`sections`] made for the reasons (its second): replaced in these layouts.
fn is_reasons(s: &Section) -> bool {
    matches!(s.heading.as_str(), "Reason for referral" | "Referral criteria")
}

fn package(title: &str, body: &str, meta: &DocMeta) -> Vec<u8> {
    let head = para(&format!(r#"<w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r>"#, xml(title)))
        + &para(&run("OFFICIAL-SENSITIVE when complete. Send by secure email with the DASH RIC. Do not share with the perpetrator.", false));
    zip(&docx::parts(docx::document_xml(&(head + body)), meta))
}

/// How the marks of a Yes / No table are made.
#[derive(Clone, Copy)]
enum YesNoMark {
    /// "X" under the column that applies, the other cell empty.
    X,
    /// "✓" under the column that applies.
    Tick,
    /// A content-control box in each column, the one that applies ticked.
    Boxes,
}

/// Criteria table: "Criteria | Yes | No", a mark under one of them; the score and call-outs on
/// rows of their own; the rationale's label across the table and the rationale in a merged
/// cell under it.
fn criteria_yes_no(title: &str, secs: &[Section], w: &Words, r: &Referral, rng: &mut Rng, meta: &DocMeta) -> Vec<u8> {
    let mark = [YesNoMark::X, YesNoMark::Tick, YesNoMark::Boxes][rng.below(3) as usize];
    let widths = [5800, 2000, 2000];
    let mut k = 0;
    let mut cell = |on: bool| {
        k += 1;
        match mark {
            YesNoMark::X => run(if on { "X" } else { "" }, true),
            YesNoMark::Tick => run(if on { "\u{2713}" } else { "" }, false),
            YesNoMark::Boxes => content_check(on, k),
        }
    };
    let mut rows = vec![tc(5800, 1, &run("Criteria (please mark Yes or No for each)", true), true) + &tc(2000, 1, &run("Yes", true), true) + &tc(2000, 1, &run("No", true), true)];
    for (label, on) in four(w, r) {
        let yes = cell(on);
        let no = cell(!on);
        rows.push(tc(5800, 1, &run(label, false), false) + &tc(2000, 1, &yes, false) + &tc(2000, 1, &no, false));
    }
    rows.push(tc(5800, 1, &run(w.score, false), false) + &tc(4000, 2, &run(&num(r.reasons.stated_score), false), false));
    rows.push(tc(5800, 1, &run(w.callouts, false), false) + &tc(4000, 2, &run(&num(r.reasons.callouts), false), false));
    rows.push(tc(9800, 3, &run(w.rationale, true), true));
    rows.push(tc(9800, 3, &run(r.reasons.rationale.as_deref().unwrap_or(""), false), false));
    let mut body = String::new();
    for s in secs {
        if is_reasons(s) {
            body += &heading(&s.heading);
            body += &table(&widths, &rows);
        }
    }
    let people = people_docx(secs);
    // Referrer first, then the criteria, then the people (as `sections` orders them).
    let (referrer, rest) = people.split_at(people.find("</w:tbl><w:p/>").map(|i| i + "</w:tbl><w:p/>".len()).unwrap_or(0));
    package(title, &format!("{referrer}{body}{rest}"), meta)
}

/// A drop-down content control showing `shown` (Word's placeholder when nothing is chosen).
fn dropdown(shown: &str, items: &[&str], k: u32) -> String {
    let list: String = items.iter().map(|i| format!(r#"<w:listItem w:displayText="{0}" w:value="{0}"/>"#, xml(i))).collect();
    let placeholder = shown == "Choose an item.";
    let ph = if placeholder { r#"<w:showingPlcHdr/>"# } else { "" };
    format!(
        r#"<w:sdt><w:sdtPr><w:alias w:val="Reason"/><w:id w:val="{}"/>{ph}<w:dropDownList><w:listItem w:value=""/>{list}</w:dropDownList></w:sdtPr><w:sdtContent><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:sdtContent></w:sdt>"#,
        900_000 + k,
        xml(shown)
    )
}

/// "Reason for referral" with a drop-down (one reason) or police codes typed (several), the score
/// and call-outs beside their labels, and the rationale as paragraphs under a heading of its own.
fn dropdown_codes(title: &str, secs: &[Section], w: &Words, r: &Referral, rng: &mut Rng, meta: &DocMeta) -> Vec<u8> {
    let rs = &r.reasons;
    let chosen: Vec<(&str, &str)> = [(rs.visible, "Visible High Risk (DASH 14+)", "VHR"), (rs.pj, "Professional Judgement", "PJ"), (rs.escalation, "Potential Escalation", "Escalation"), (rs.repeat, "Repeat Referral", "Repeat")]
        .into_iter()
        .filter(|c| c.0)
        .map(|c| (c.1, c.2))
        .collect();
    let items = ["Visible High Risk (DASH 14+)", "Professional Judgement", "Potential Escalation", "Repeat Referral"];
    let codes = chosen.len() > 1 || rng.below(3) == 0;
    let reason_row = if codes {
        let label = pick(rng, &["Referral reason (PJ / VHR / Escalation / Repeat)", "Reason(s) for referral - codes VHR, PJ, Escalation, Repeat"]);
        let v: Vec<&str> = chosen.iter().map(|c| c.1).collect();
        tc(3400, 1, &run(label, true), true) + &tc(6400, 1, &run(&v.join(" / "), false), false)
    } else {
        let shown = chosen.first().map(|c| c.0).unwrap_or("Choose an item.");
        tc(3400, 1, &run("Reason for referral", true), true) + &tc(6400, 1, &dropdown(shown, &items, rng.below(1000) as u32), false)
    };
    let rows = vec![
        reason_row,
        tc(3400, 1, &run(w.score, true), true) + &tc(6400, 1, &run(&num(rs.stated_score), false), false),
        tc(3400, 1, &run(w.callouts, true), true) + &tc(6400, 1, &run(&num(rs.callouts), false), false),
    ];
    let mut body = String::new();
    for s in secs {
        if is_reasons(s) {
            body += &heading(&s.heading);
            body += &table(&[3400, 6400], &rows);
            body += &heading(w.rationale);
            match rs.rationale.as_deref() {
                // The rationale in two paragraphs, as people write it.
                Some(text) => match text.split_once("; ") {
                    Some((a, b)) => body += &(para(&run(&format!("{a};"), false)) + &para(&run(b, false))),
                    None => body += &para(&run(text, false)),
                },
                None => body += "<w:p/>",
            }
        }
    }
    let people = people_docx(secs);
    let (referrer, rest) = people.split_at(people.find("</w:tbl><w:p/>").map(|i| i + "</w:tbl><w:p/>".len()).unwrap_or(0));
    package(title, &format!("{referrer}{body}{rest}"), meta)
}

// ---- OpenDocument text: boxes typed in the paragraph, several to a line ----

/// "Which criteria does this referral meet? (tick all that apply)", then the reasons two to a
/// paragraph, each box before or after its label (☒ / ☐, or ■ / □), set apart by tabs.
fn tick_all(title: &str, secs: Vec<Section>, w: &Words, r: &Referral, rng: &mut Rng, at: Stamp) -> Vec<u8> {
    let (on_glyph, off_glyph) = [("\u{2612}", "\u{2610}"), ("\u{25A0}", "\u{25A1}"), ("\u{2611}", "\u{2610}")][rng.below(3) as usize];
    let after = rng.below(2) == 0;
    let rs = &r.reasons;
    let mut blocks = vec![Block::Title(title.to_string()), Block::Para("Send with the DASH RIC by secure email only. Do not tell the perpetrator about this referral.".into())];
    for s in secs {
        if !is_reasons(&s) {
            blocks.push(Block::Heading(s.heading));
            blocks.push(Block::Kv(pairs(&s.rows)));
            continue;
        }
        blocks.push(Block::Heading(s.heading));
        blocks.push(Block::Para(pick(rng, &["Which criteria does this referral meet? (tick all that apply)", "Please tick the criteria met (tick all that apply)"]).into()));
        let boxes: Vec<String> = four(w, r)
            .iter()
            .map(|(label, on)| {
                let g = if *on { on_glyph } else { off_glyph };
                if after {
                    format!("{label} {g}")
                } else {
                    format!("{g} {label}")
                }
            })
            .collect();
        for two in boxes.chunks(2) {
            blocks.push(Block::Para(two.join("\t\t")));
        }
        blocks.push(Block::Para(format!("{}: {}", w.score, num(rs.stated_score))));
        blocks.push(Block::Para(format!("{}: {}", w.callouts, num(rs.callouts))));
        blocks.push(Block::Heading(w.rationale.to_string()));
        blocks.push(Block::Para(rs.rationale.clone().unwrap_or_default()));
    }
    odf::odt(&blocks, title, at)
}

// ---- Excel: the criteria across a header row ----

fn across(title: &str, secs: Vec<Section>, w: &Words, r: &Referral, rng: &mut Rng, at: Stamp) -> Result<Vec<u8>, XlsxError> {
    let (on, off) = [("X", ""), ("Yes", "No"), ("Y", "N"), ("\u{2713}", "")][rng.below(4) as usize];
    let rs = &r.reasons;
    let mut wb = Workbook::new();
    wb.set_properties(&super::super::xlsx_props(r.referrer.name, at.minus_secs(4_000)));
    let ws = wb.add_worksheet();
    ws.set_name("MARAC referral")?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for c in 0..4 {
        ws.set_column_width(c, 28)?;
    }
    ws.write_string_with_format(0, 0, title, &bold)?;
    let mut row = 2u32;
    for s in secs {
        ws.write_string_with_format(row, 0, &s.heading, &bold)?;
        row += 1;
        if is_reasons(&s) {
            ws.write_string(row, 0, "Mark the criteria met")?;
            row += 1;
            for (c, (label, chosen)) in four(w, r).iter().enumerate() {
                ws.write_string_with_format(row, c as u16, *label, &bold)?;
                let m = if *chosen { on } else { off };
                if !m.is_empty() {
                    ws.write_string(row + 1, c as u16, m)?;
                }
            }
            row += 2;
            ws.write_string(row, 0, w.score)?;
            if let Some(n) = rs.stated_score {
                ws.write_number(row, 1, n)?;
            }
            row += 1;
            ws.write_string(row, 0, w.callouts)?;
            if let Some(n) = rs.callouts {
                ws.write_number(row, 1, n)?;
            }
            row += 1;
            ws.write_string_with_format(row, 0, w.rationale, &bold)?;
            row += 1;
            ws.merge_range(row, 0, row + 2, 3, rs.rationale.as_deref().unwrap_or(""), &wrap)?;
            row += 4;
            continue;
        }
        for (l, v) in pairs(&s.rows) {
            ws.write_string(row, 0, l)?;
            let v = match v {
                Val::Text(s) => s,
                Val::Tick(on) => (if on { "Yes" } else { "No" }).to_string(),
            };
            if !v.is_empty() {
                ws.write_string(row, 1, v)?;
            }
            row += 1;
        }
        row += 1;
    }
    wb.save_to_buffer()
}

// ---- PDF: check boxes named by the authoring tool, labels printed beside them ----

fn opaque_boxes(title: &str, w: &Words, r: &Referral, seed: &str, at: Stamp) -> Vec<u8> {
    let mut pdf = Pdf::new(&format!("{seed}/ref"), true, true);
    let page = pdf.reserve();
    let mut c = Canvas::default();
    let mut annots: Vec<ObjectId> = Vec::new();
    let ap = pdf.box_appearances(10.0, false);
    c.text("F2", 13.0, 40.0, 805.0, title);
    let rs = &r.reasons;
    let name = r.shown_name();
    let mut y = 780.0;
    let mut k = 0u32;
    let heading = |c: &mut Canvas, y: &mut f32, s: &str| {
        *y -= 8.0;
        c.text("F2", 10.0, 40.0, *y, s);
        *y -= 16.0;
    };
    // Text fields named "Text1", "Text2", ... as Acrobat names them, the label printed left.
    let mut text = |pdf: &mut Pdf, c: &mut Canvas, annots: &mut Vec<ObjectId>, y: &mut f32, label: &str, v: &str, tall: bool, above: bool| {
        k += 1;
        let h = if tall { 40.0 } else { 13.0 };
        let x = if above {
            c.text("F2", 8.5, 40.0, *y, label);
            *y -= 15.0;
            40.0
        } else {
            c.text("F1", 8.5, 40.0, *y, label);
            260.0
        };
        let id = pdf.text_field(page, &format!("Text{k}"), Object::string_literal(v.to_string()), &v.chars().take(70).collect::<String>(), [x, *y - 3.0 - (h - 13.0), 555.0, *y + 10.0], 8.0);
        annots.push(id);
        *y -= h + 4.0;
    };
    heading(&mut c, &mut y, "Referrer details");
    text(&mut pdf, &mut c, &mut annots, &mut y, "Referrer name", r.referrer.name, false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Agency", r.referrer.agency, false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Email", r.referrer.email, false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Date of referral", &r.referral_date.slash(), false, false);
    heading(&mut c, &mut y, "Referral criteria (tick all that apply)");
    for (n, (label, on)) in four(w, r).iter().enumerate() {
        c.text("F1", 8.5, 58.0, y, label);
        let id = pdf.checkbox(page, &format!("Check Box{}", 12 + n), "Yes", *on, [40.0, y - 2.0, 50.0, y + 8.0], ap);
        annots.push(id);
        y -= 14.0;
    }
    text(&mut pdf, &mut c, &mut annots, &mut y, w.score, &num(rs.stated_score), false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, w.callouts, &num(rs.callouts), false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, w.rationale, rs.rationale.as_deref().unwrap_or(""), true, true);
    heading(&mut c, &mut y, "Victim details");
    text(&mut pdf, &mut c, &mut annots, &mut y, "Full name", &name.full, false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Date of birth", &r.shown_dob(), false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Address", &r.address, false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Postcode", &r.postcode, false, false);
    heading(&mut c, &mut y, "Perpetrator details");
    text(&mut pdf, &mut c, &mut annots, &mut y, "Full name", &r.perp_name.full, false, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Date of birth", &r.shown_perp_dob(), false, false);
    pdf.add_page(page, c, annots, None);
    let info = Info { title: title.to_string(), author: r.referrer.name.to_string(), creator: "Adobe Acrobat Pro", producer: "Adobe Acrobat Pro 2020", created: at.minus_secs(4_000) };
    pdf::save(pdf.finish(&info, true))
}
