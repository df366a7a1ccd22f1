//! Referral-form layouts: label | value tables (DOCX, ODT), labels above values, "Label: value"
//! paragraphs, four-column tables with labels beside values, a referral sheet (XLSX), a flat PDF
//! and a fillable PDF with separate victim surname / forename fields and a perpetrator full-name
//! field below them. Sections, reasons and the rationale's place vary.
//!
//! Five more present the reasons for referral as other areas' forms do, in other words
//! ("professional judgment", "practitioner's judgement", "Escalation (3+ incidents)"): a criteria
//! table with Yes / No columns and the rationale in a merged cell (DOCX); "which criteria does
//! this referral meet? (tick all that apply)" with several boxes to a paragraph, before or after
//! their labels (ODT); the criteria as a row of column headers with one row of marks under them
//! (XLSX); check boxes with opaque names ("Check Box12") and their labels printed beside them
//! (PDF); a drop-down or police codes with the rationale under a heading of its own (DOCX).

use super::{att, Referral};
use crate::docx::{self, DocMeta};
use crate::form::{t, Block, TickStyle, Val};
use crate::mail::Attachment;
use crate::odf;
use crate::pdf::{self, Canvas, Info, Pdf};
use crate::util::{Rng, Stamp};
use lopdf::{dictionary, Object, ObjectId};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

#[path = "referral_more.rs"]
mod more;

pub const LAYOUTS: [(&str, &str); 14] = [
    ("docx_label_value", "Word, two-column label | value tables under section headings"),
    ("odt_label_value", "OpenDocument text, two-column label | value tables"),
    ("docx_label_above", "Word, each label on its own line above its value"),
    ("docx_label_colon", "Word, 'Label: value' paragraphs"),
    ("odt_label_colon", "OpenDocument text, 'Label: value' paragraphs"),
    ("docx_four_columns", "Word, four-column tables, labels beside values (split names)"),
    ("xlsx_sheet", "Excel referral sheet, labels in column A, values in B (and C | D)"),
    ("pdf_flat", "flat PDF, labels to the left of values"),
    ("pdf_fields", "fillable PDF: Victim_Surname / Victim_Forename, Perp_FullName below, Child1_Name"),
    ("docx_criteria_yes_no", "Word, criteria table with Yes / No columns, rationale in a merged cell"),
    ("odt_tick_all", "OpenDocument text, 'tick all that apply' with several boxes to a paragraph"),
    ("xlsx_criteria_across", "Excel, the criteria as column headers with one row of marks under them"),
    ("pdf_opaque_boxes", "fillable PDF, check boxes named 'Check Box12' with their labels printed beside"),
    ("docx_dropdown_codes", "Word, a drop-down reason or police codes, the rationale under its own heading"),
];

/// One line of a form: a label and its value, or two such pairs side by side.
enum Row {
    Pair(String, Val),
    Quad(String, Val, String, Val),
}

struct Section {
    heading: String,
    rows: Vec<Row>,
}

fn pair(l: &str, v: Val) -> Row {
    Row::Pair(l.to_string(), v)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reasons {
    Ticks,
    YesCell,
    Dropdown,
    Typed,
}

fn opt(n: Option<u32>) -> Val {
    t(n.map(|x| x.to_string()).unwrap_or_default())
}

/// The form's content in sections.
fn sections(r: &Referral, rng: &mut Rng, quad: bool, split_name: bool) -> Vec<Section> {
    let sec = |v: &[&str], rng: &mut Rng| v[rng.below(v.len() as u64) as usize].to_string();
    let rs = &r.reasons;
    let mut style = [Reasons::Ticks, Reasons::YesCell, Reasons::Dropdown, Reasons::Typed][rng.below(4) as usize];
    let count = [rs.visible, rs.pj, rs.escalation, rs.repeat].iter().filter(|b| **b).count();
    if style == Reasons::Dropdown && count > 1 {
        style = Reasons::Ticks;
    }
    let beside = quad && rng.below(2) == 0;
    let tick = |on: bool| match style {
        Reasons::YesCell => t(if on { "Yes" } else { "" }),
        _ => Val::Tick(on),
    };
    let rationale = t(rs.rationale.clone().unwrap_or_default());
    let mut reasons = Vec::new();
    match style {
        Reasons::Ticks | Reasons::YesCell => {
            reasons.push(pair("Visible high risk (14 or more ticks on the DASH)", tick(rs.visible)));
            if beside {
                reasons.push(Row::Quad("Professional judgement".into(), tick(rs.pj), "Rationale for professional judgement".into(), rationale));
            } else {
                reasons.push(pair("Professional judgement", tick(rs.pj)));
                reasons.push(pair("If professional judgement, please explain why", rationale));
            }
            reasons.push(pair("Potential escalation", tick(rs.escalation)));
            reasons.push(pair("Repeat MARAC referral", tick(rs.repeat)));
        }
        Reasons::Dropdown => {
            let chosen = if rs.visible {
                "Visible high risk"
            } else if rs.pj {
                "Professional judgement"
            } else if rs.escalation {
                "Potential escalation"
            } else if rs.repeat {
                "Repeat"
            } else {
                "Choose an item."
            };
            reasons.push(pair("Reason for referral", t(chosen)));
            reasons.push(pair("Professional judgement rationale", rationale));
        }
        Reasons::Typed => {
            // Codes named in the label, or short codes explained by a key above the field.
            let short = rng.below(2) == 0;
            let names = if short { ["VHR", "PJ", "PE", "R"] } else { ["VHR", "PJ", "Escalation", "Repeat"] };
            let on = [rs.visible, rs.pj, rs.escalation, rs.repeat];
            let codes: Vec<&str> = names.iter().zip(on).filter(|(_, on)| *on).map(|(n, _)| *n).collect();
            let sep = [", ", " / ", " "][rng.below(3) as usize];
            if short {
                reasons.push(pair("Key", t("VHR = visible high risk (DASH 14+), PJ = professional judgement, PE = potential escalation, R = repeat")));
                reasons.push(pair(&sec(&["Criteria met", "MARAC criteria", "Criteria"], rng), t(codes.join(sep))));
                reasons.push(pair("PJ rationale", rationale));
            } else {
                reasons.push(pair("Referral criteria met (VHR / PJ / Escalation / Repeat)", t(codes.join(sep))));
                reasons.push(pair("Rationale (required for PJ)", rationale));
            }
        }
    }
    reasons.push(pair("DASH score", opt(rs.stated_score)));
    reasons.push(pair("Number of police call-outs in the last 12 months", opt(rs.callouts)));

    let name = r.shown_name();
    let mut victim = Vec::new();
    if split_name {
        if quad {
            victim.push(Row::Quad("Surname".into(), t(name.surname.clone()), "Forename(s)".into(), t(name.forenames.clone())));
        } else {
            victim.push(pair("Surname", t(name.surname.clone())));
            victim.push(pair("Forename(s)", t(name.forenames.clone())));
        }
    } else {
        victim.push(pair(&sec(&["Name", "Full name", "Name of victim"], rng), t(name.full.clone())));
    }
    if quad {
        victim.push(Row::Quad("Date of birth".into(), t(r.shown_dob()), "Gender".into(), t("Female")));
    } else {
        victim.push(pair("Date of birth", t(r.shown_dob())));
        victim.push(pair("Gender", t("Female")));
    }
    victim.push(pair("Address", t(r.address.clone())));
    victim.push(pair("Postcode", t(r.postcode.clone())));
    victim.push(pair("Safe contact number", t(r.phone.clone())));

    let mut perp = vec![pair("Name", t(r.perp_name.full.clone()))];
    perp.push(pair("Date of birth", t(r.shown_perp_dob())));
    perp.push(pair("Relationship to victim", t("Ex-partner")));

    let mut children: Vec<Row> = Vec::new();
    for (k, (n, d)) in r.children.iter().enumerate() {
        if quad {
            children.push(Row::Quad(format!("Child {} name", k + 1), t(n.clone()), "DOB".into(), t(d.clone())));
        } else {
            children.push(pair(&format!("Child {} name", k + 1), t(n.clone())));
            children.push(pair(&format!("Child {} date of birth", k + 1), t(d.clone())));
        }
    }
    if children.is_empty() {
        children.push(pair("Child 1 name", t("")));
    }
    let ref_ = &r.referrer;
    vec![
        Section {
            heading: sec(&["Referrer details", "Referring agency", "About you (the referrer)"], rng),
            rows: vec![
                pair("Referrer name", t(ref_.name)),
                pair("Agency", t(ref_.agency)),
                pair("Role", t(ref_.role)),
                pair("Email", t(ref_.email)),
                pair("Telephone", t(ref_.phone)),
                pair("Date of referral", t(r.referral_date.slash())),
            ],
        },
        Section { heading: sec(&["Reason for referral", "Referral criteria"], rng), rows: reasons },
        Section { heading: sec(&["Victim details", "Person at risk", "Client details"], rng), rows: victim },
        Section { heading: sec(&["Perpetrator details", "Alleged perpetrator", "Person causing harm"], rng), rows: perp },
        Section { heading: sec(&["Children and other household members", "Children in the household"], rng), rows: children },
        Section {
            heading: "Risk summary".into(),
            rows: vec![pair("Summary of the current incident", t("Assault at home; threats to kill reported. Police attended.")), pair("Date DASH completed", t(r.referral_date.slash()))],
        },
    ]
}

fn tick_text(v: &Val) -> String {
    match v {
        Val::Text(s) => s.clone(),
        Val::Tick(on) => (if *on { "\u{2612}" } else { "\u{2610}" }).to_string(),
    }
}

fn pairs(rows: &[Row]) -> Vec<(String, Val)> {
    let mut out = Vec::new();
    for r in rows {
        match r {
            Row::Pair(l, v) => out.push((l.clone(), v.clone())),
            Row::Quad(a, b, c, d) => {
                out.push((a.clone(), b.clone()));
                out.push((c.clone(), d.clone()));
            }
        }
    }
    out
}

const TITLES: [&str; 3] = ["MARAC Referral Form", "Referral to the Multi-Agency Risk Assessment Conference (MARAC)", "MARAC REFERRAL - OFFICIAL SENSITIVE"];

pub fn render(layout: (&'static str, &'static str), r: &Referral, rng: &mut Rng, seed: &str, at: Stamp) -> Attachment {
    let title = TITLES[rng.below(3) as usize];
    let tick = [TickStyle::Glyph, TickStyle::ContentControl, TickStyle::Legacy, TickStyle::X, TickStyle::YesNo][rng.below(5) as usize];
    let split = rng.below(2) == 0;
    let name = format!("MARAC referral {}", r.referral_date.iso());
    let meta = DocMeta { title: title.to_string(), author: r.referrer.name.to_string(), created: at.minus_secs(4_000) };
    let head = |blocks: &mut Vec<Block>| {
        blocks.push(Block::Title(title.to_string()));
        blocks.push(Block::Para("Send with the DASH RIC by secure email only. Do not tell the perpetrator about this referral.".into()));
    };
    match layout.0 {
        "docx_label_value" | "odt_label_value" => {
            let mut blocks = Vec::new();
            head(&mut blocks);
            for s in sections(r, rng, false, split) {
                blocks.push(Block::Heading(s.heading));
                blocks.push(Block::Kv(pairs(&s.rows)));
            }
            if layout.0 == "docx_label_value" {
                att(&format!("{name}.docx"), "docx", &docx::docx(&blocks, tick, rng.below(2) == 0, &meta))
            } else {
                att(&format!("{name}.odt"), "odt", &odf::odt(&blocks, title, at))
            }
        }
        "docx_label_above" => {
            let mut blocks = Vec::new();
            head(&mut blocks);
            for s in sections(r, rng, false, split) {
                blocks.push(Block::Heading(s.heading));
                for (l, v) in pairs(&s.rows) {
                    blocks.push(Block::Heading(l));
                    blocks.push(Block::Para(tick_text(&v)));
                }
            }
            att(&format!("{name}.docx"), "docx", &docx::docx(&blocks, TickStyle::Glyph, false, &meta))
        }
        "docx_label_colon" | "odt_label_colon" => {
            let mut blocks = Vec::new();
            head(&mut blocks);
            for s in sections(r, rng, false, split) {
                blocks.push(Block::Heading(s.heading));
                for (l, v) in pairs(&s.rows) {
                    blocks.push(Block::Para(format!("{l}: {}", tick_text(&v))));
                }
            }
            if layout.0 == "docx_label_colon" {
                att(&format!("{name}.docx"), "docx", &docx::docx(&blocks, TickStyle::Glyph, false, &meta))
            } else {
                att(&format!("{name}.odt"), "odt", &odf::odt(&blocks, title, at))
            }
        }
        "docx_four_columns" => {
            let mut blocks = Vec::new();
            head(&mut blocks);
            for s in sections(r, rng, true, true) {
                let rows = s
                    .rows
                    .into_iter()
                    .map(|row| match row {
                        Row::Pair(l, v) => vec![t(l), v, t(""), t("")],
                        Row::Quad(a, b, c, d) => vec![t(a), b, t(c), d],
                    })
                    .collect();
                blocks.push(Block::Grid { header: vec![s.heading, "".into(), "".into(), "".into()], widths: vec![2200, 2800, 2000, 2800], rows });
            }
            att(&format!("{name}.docx"), "docx", &docx::docx(&blocks, tick, false, &meta))
        }
        "xlsx_sheet" => {
            let quad = rng.below(2) == 0;
            att(&format!("{name}.xlsx"), "xlsx", &xlsx(title, sections(r, rng, quad, split), r, at).expect("xlsx"))
        }
        "pdf_flat" => att(&format!("{name}.pdf"), "pdf", &pdf_flat(title, r, sections(r, rng, true, split), seed, at)),
        "pdf_fields" => att(&format!("{name}.pdf"), "pdf", &pdf_fields(title, r, rng.below(2) == 0, seed, at)),
        "docx_criteria_yes_no" | "odt_tick_all" | "xlsx_criteria_across" | "pdf_opaque_boxes" | "docx_dropdown_codes" => {
            more::render(layout.0, title, r, rng, seed, at, &meta, &name)
        }
        other => panic!("unknown referral layout {other}"),
    }
}

fn xlsx(title: &str, secs: Vec<Section>, r: &Referral, at: Stamp) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&super::xlsx_props(r.referrer.name, at.minus_secs(4_000)));
    let ws = wb.add_worksheet();
    ws.set_name("Referral")?;
    let bold = Format::new().set_bold();
    ws.set_column_width(0, 45)?;
    ws.set_column_width(1, 40)?;
    ws.write_string_with_format(0, 0, title, &bold)?;
    let mut row = 2u32;
    for s in secs {
        ws.write_string_with_format(row, 0, &s.heading, &bold)?;
        row += 1;
        for r in s.rows {
            let cells: Vec<(String, Val)> = match r {
                Row::Pair(l, v) => vec![(l, v)],
                Row::Quad(a, b, c, d) => vec![(a, b), (c, d)],
            };
            for (k, (l, v)) in cells.into_iter().enumerate() {
                ws.write_string(row, 2 * k as u16, l)?;
                let s = match v {
                    Val::Text(s) => s,
                    Val::Tick(on) => (if on { "Yes" } else { "No" }).to_string(),
                };
                if !s.is_empty() {
                    ws.write_string(row, 2 * k as u16 + 1, s)?;
                }
            }
            row += 1;
        }
        row += 1;
    }
    wb.save_to_buffer()
}

fn info(title: &str, r: &Referral, at: Stamp) -> Info {
    Info { title: title.to_string(), author: r.referrer.name.to_string(), creator: "Microsoft Word", producer: "Microsoft: Print To PDF", created: at.minus_secs(4_000) }
}

fn pdf_flat(title: &str, r: &Referral, secs: Vec<Section>, seed: &str, at: Stamp) -> Vec<u8> {
    let mut pdf = Pdf::new(&format!("{seed}/ref"), false, true);
    let mut pages: Vec<Canvas> = vec![Canvas::default()];
    let mut y = 800.0;
    pages[0].text("F2", 13.0, 40.0, y, title);
    y -= 24.0;
    let line = |pages: &mut Vec<Canvas>, y: &mut f32, h: f32| {
        if *y - h < 50.0 {
            pages.push(Canvas::default());
            *y = 800.0;
        }
        *y -= h;
    };
    for s in secs {
        line(&mut pages, &mut y, 22.0);
        let c = pages.last_mut().expect("page");
        c.fill((0.85, 0.85, 0.9), 38.0, y - 4.0, 520.0, 15.0);
        c.text("F2", 10.0, 40.0, y, &s.heading);
        for row in s.rows {
            let cells: Vec<(String, Val)> = match row {
                Row::Pair(l, v) => vec![(l, v)],
                Row::Quad(a, b, c, d) => vec![(a, b), (c, d)],
            };
            let value_lines: Vec<Vec<String>> = cells.iter().map(|(_, v)| pdf::wrap(&tick_text(v).replace(['\u{2612}', '\u{2610}'], ""), 8.5, if cells.len() == 1 { 320.0 } else { 110.0 })).collect();
            let n = value_lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
            line(&mut pages, &mut y, 6.0 + 10.5 * n as f32);
            let c = pages.last_mut().expect("page");
            for (k, (l, v)) in cells.iter().enumerate() {
                let x = 40.0 + 260.0 * k as f32;
                c.text("F2", 8.5, x, y, l);
                let vx = if cells.len() == 1 { 230.0 } else { x + 130.0 };
                match v {
                    Val::Tick(on) => c.text("F2", 9.0, vx, y, if *on { "X" } else { "" }),
                    Val::Text(_) => c.lines("F1", 8.5, vx, y, 10.5, &value_lines[k]),
                }
            }
        }
    }
    let ids: Vec<ObjectId> = (0..pages.len()).map(|_| pdf.reserve()).collect();
    for (p, c) in pages.into_iter().enumerate() {
        pdf.add_page(ids[p], c, Vec::new(), None);
    }
    pdf::save(pdf.finish(&info(title, r, at), false))
}

fn pdf_fields(title: &str, r: &Referral, combo: bool, seed: &str, at: Stamp) -> Vec<u8> {
    let mut pdf = Pdf::new(&format!("{seed}/ref"), true, true);
    let page = pdf.reserve();
    let mut c = Canvas::default();
    let mut annots = Vec::new();
    let ap = pdf.box_appearances(10.0, false);
    c.text("F2", 13.0, 40.0, 805.0, title);
    let rs = &r.reasons;
    let name = r.shown_name();
    let mut y = 780.0;
    let heading = |c: &mut Canvas, y: &mut f32, s: &str| {
        *y -= 8.0;
        c.text("F2", 10.0, 40.0, *y, s);
        *y -= 16.0;
    };
    let text = |pdf: &mut Pdf, c: &mut Canvas, annots: &mut Vec<ObjectId>, y: &mut f32, label: &str, field: &str, v: &str, tall: bool| {
        c.text("F1", 8.5, 40.0, *y, label);
        let h = if tall { 40.0 } else { 13.0 };
        let id = pdf.text_field(page, field, Object::string_literal(v.to_string()), &v.chars().take(70).collect::<String>(), [200.0, *y - 3.0 - (h - 13.0), 555.0, *y + 10.0], 8.0);
        annots.push(id);
        *y -= h + 4.0;
    };
    heading(&mut c, &mut y, "1. Referrer");
    text(&mut pdf, &mut c, &mut annots, &mut y, "Name", "Ref_Name", r.referrer.name, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Agency", "Ref_Agency", r.referrer.agency, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Email", "Ref_Email", r.referrer.email, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Telephone", "Ref_Tel", r.referrer.phone, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Date of referral", "Referral_Date", &r.referral_date.slash(), false);
    let chosen = [(rs.visible, "Visible high risk"), (rs.pj, "Professional judgement"), (rs.escalation, "Potential escalation"), (rs.repeat, "Repeat")];
    let ticked: Vec<&str> = chosen.iter().filter(|(on, _)| *on).map(|(_, l)| *l).collect();
    if ticked.len() <= 1 && combo {
        // One reason chosen from a drop-down list (a combo box) instead of tick boxes.
        heading(&mut c, &mut y, "2. Reason for referral");
        c.text("F1", 8.5, 40.0, y, "Main reason for referral");
        let value = ticked.first().copied().unwrap_or("");
        let opts: Vec<Object> = ["", "Visible high risk", "Professional judgement", "Potential escalation", "Repeat"].iter().map(|o| Object::string_literal(*o)).collect();
        let ap = pdf.appearance(355.0, 13.0, "0.96 0.96 0.98 rg 0 0 355 13 re f\n", false);
        let id = pdf.doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "FT" => "Ch", "Ff" => 131_072, "F" => 4,
            "T" => Object::string_literal("Reason_for_referral"), "V" => Object::string_literal(value), "Opt" => opts,
            "DA" => Object::string_literal("/Helv 8 Tf 0 g"),
            "Rect" => vec![200.into(), Object::Real(y - 3.0), 555.into(), Object::Real(y + 10.0)],
            "P" => page, "AP" => dictionary! { "N" => ap },
        });
        pdf.fields.push(id);
        annots.push(id);
        y -= 18.0;
    } else {
        heading(&mut c, &mut y, "2. Reason for referral (tick all that apply)");
    }
    for (label, field, on) in [
        ("Visible high risk (DASH 14+)", "Reason_VHR", rs.visible),
        ("Professional judgement", "Reason_PJ", rs.pj),
        ("Potential escalation", "Reason_Escalation", rs.escalation),
        ("Repeat MARAC", "Reason_Repeat", rs.repeat),
    ]
    .into_iter()
    .filter(|_| ticked.len() > 1 || !combo)
    {
        c.text("F1", 8.5, 58.0, y, label);
        let id = pdf.checkbox(page, field, "Yes", on, [40.0, y - 2.0, 50.0, y + 8.0], ap);
        annots.push(id);
        y -= 14.0;
    }
    text(&mut pdf, &mut c, &mut annots, &mut y, "Professional judgement rationale", "PJ_Rationale", rs.rationale.as_deref().unwrap_or(""), true);
    text(&mut pdf, &mut c, &mut annots, &mut y, "DASH score", "DASH_Score", &rs.stated_score.map(|s| s.to_string()).unwrap_or_default(), false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Police call-outs (last 12 months)", "Callouts_12m", &rs.callouts.map(|s| s.to_string()).unwrap_or_default(), false);
    heading(&mut c, &mut y, "3. Victim");
    text(&mut pdf, &mut c, &mut annots, &mut y, "Surname", "Victim_Surname", &name.surname, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Forename(s)", "Victim_Forename", &name.forenames, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Date of birth", "Victim_DOB", &r.shown_dob(), false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Address", "Victim_Address", &r.address, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Postcode", "Victim_Postcode", &r.postcode, false);
    heading(&mut c, &mut y, "4. Perpetrator");
    text(&mut pdf, &mut c, &mut annots, &mut y, "Full name", "Perp_FullName", &r.perp_name.full, false);
    text(&mut pdf, &mut c, &mut annots, &mut y, "Date of birth", "Perp_DOB", &r.shown_perp_dob(), false);
    heading(&mut c, &mut y, "5. Children");
    for k in 0..2 {
        let (n, d) = r.children.get(k).cloned().unwrap_or_default();
        text(&mut pdf, &mut c, &mut annots, &mut y, &format!("Child {} name", k + 1), &format!("Child{}_Name", k + 1), &n, false);
        text(&mut pdf, &mut c, &mut annots, &mut y, &format!("Child {} DOB", k + 1), &format!("Child{}_DOB", k + 1), &d, false);
    }
    pdf.add_page(page, c, annots, None);
    pdf::save(pdf.finish(&Info { creator: "Adobe Acrobat Pro", producer: "Adobe Acrobat Pro 2020", ..info(title, r, at) }, true))
}
