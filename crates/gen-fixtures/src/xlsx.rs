//! DASH (and referral) workbooks written with rust_xlsxwriter, with a fixed creation date.

use crate::data::{question, Ans, Case, Dash};
use crate::form::Labels;
use crate::pdf::DashHead;
use crate::util::Stamp;
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

fn props(author: &str, at: Stamp) -> DocProperties {
    use chrono::{Datelike, Timelike};
    let d = at.at;
    let when = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
        .and_then(|x| x.and_hms(d.hour() as u16, d.minute() as u8, d.second() as f64))
        .expect("valid date");
    DocProperties::new().set_author(author).set_creation_datetime(&when)
}

fn bold() -> Format {
    Format::new().set_bold()
}

fn boxed() -> Format {
    Format::new().set_border(FormatBorder::Thin).set_text_wrap()
}

fn head_rows(ws: &mut Worksheet, first_row: u32, head: &DashHead) -> Result<(), XlsxError> {
    for (i, (l, v)) in [
        ("Victim name", &head.victim),
        ("Victim DOB", &head.dob),
        ("Abuser name", &head.abuser),
        ("Date completed", &head.completed),
        ("Completed by", &head.by),
        ("Agency", &head.agency),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(first_row + i as u32, 0, *l, &bold())?;
        ws.write_string(first_row + i as u32, 1, v.as_str())?;
    }
    Ok(())
}

/// No | Question | Answer | Comments, answers written with `spell`; blanks are styled empty
/// cells. With `cover`, the DASH is the second sheet behind an instructions sheet.
pub fn answer_column(
    head: &DashHead,
    dash: &Dash,
    spell: &dyn Fn(usize, Ans) -> &'static str,
    cover: bool,
    at: Stamp,
) -> Vec<u8> {
    answer_column_without(head, dash, spell, cover, at, None)
}

/// [`answer_column`] with the row of question `left_out` (1-based) missing altogether, as when a
/// referrer deletes a row: a reader finds 23 questions.
pub fn answer_column_without(
    head: &DashHead,
    dash: &Dash,
    spell: &dyn Fn(usize, Ans) -> &'static str,
    cover: bool,
    at: Stamp,
    left_out: Option<usize>,
) -> Vec<u8> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        wb.set_properties(&props(&head.by, at));
        if cover {
            let ws = wb.add_worksheet();
            ws.set_name("Cover")?;
            ws.set_column_width(0, 90)?;
            ws.write_string_with_format(
                0,
                0,
                format!("{} MARAC - DASH Risk Identification Checklist", head.area),
                &bold(),
            )?;
            ws.write_string(2, 0, "How to use this workbook")?;
            ws.write_string(3, 0, "1. Complete the checklist on the 'DASH' sheet with the victim, in private.")?;
            ws.write_string(4, 0, "2. Answer Yes, No or Don't know for every question. Add context in Comments.")?;
            ws.write_string(
                5,
                0,
                "3. 14 or more 'Yes' answers = visible high risk. Refer to MARAC with the referral form.",
            )?;
            ws.write_string(7, 0, "Version 4.2 (local). OFFICIAL-SENSITIVE when complete.")?;
        }
        let ws = wb.add_worksheet();
        ws.set_name("DASH")?;
        ws.set_column_width(0, 6)?;
        ws.set_column_width(1, 80)?;
        ws.set_column_width(2, 12)?;
        ws.set_column_width(3, 45)?;
        ws.write_string_with_format(
            0,
            0,
            format!("{} MARAC - DASH Risk Identification Checklist", head.area),
            &bold().set_font_size(13),
        )?;
        head_rows(ws, 2, head)?;
        let hdr = bold().set_border(FormatBorder::Thin).set_background_color(Color::RGB(0xE8DAEF));
        for (c, h) in ["No", "Question", "Answer", "Comments"].iter().enumerate() {
            ws.write_string_with_format(9, c as u16, *h, &hdr)?;
        }
        for q in (1..=24usize).filter(|q| Some(*q) != left_out) {
            let r = 9 + q as u32 - u32::from(left_out.is_some_and(|l| q > l));
            ws.write_number_with_format(r, 0, q as f64, &boxed())?;
            ws.write_string_with_format(r, 1, question(q, None), &boxed())?;
            let a = spell(q, dash.answers[q - 1]);
            if a.is_empty() {
                ws.write_blank(r, 2, &boxed())?;
            } else {
                ws.write_string_with_format(r, 2, a, &boxed().set_align(FormatAlign::Center))?;
            }
            match dash.comment(q) {
                Some(c) => ws.write_string_with_format(r, 3, c, &boxed())?,
                None => ws.write_blank(r, 3, &boxed())?,
            };
        }
        wb.save_to_buffer()
    };
    build().expect("xlsx")
}

/// Merged title cells; Q | Question | Yes | No | Don't know | Comments with a mark in one of the
/// three answer columns (`mark` gives the mark used for question q).
pub fn x_columns(
    head: &DashHead,
    dash: &Dash,
    mark: &dyn Fn(usize) -> &'static str,
    abuser_first: Option<&str>,
    at: Stamp,
) -> Vec<u8> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        wb.set_properties(&props(&head.by, at));
        let ws = wb.add_worksheet();
        ws.set_name("Risk checklist")?;
        for (c, w) in [5.0, 70.0, 8.0, 8.0, 11.0, 40.0].iter().enumerate() {
            ws.set_column_width(c as u16, *w)?;
        }
        let title = bold()
            .set_font_size(14)
            .set_align(FormatAlign::Center)
            .set_background_color(Color::RGB(0x0D5574))
            .set_font_color(Color::White);
        ws.merge_range(0, 0, 0, 5, &format!("{} Domestic Abuse Partnership", head.area), &title)?;
        ws.merge_range(
            1,
            0,
            1,
            5,
            "SafeLives DASH Risk Identification Checklist - mark X in one column per question",
            &bold().set_align(FormatAlign::Center),
        )?;
        let lab = bold();
        for (i, (l, v)) in [
            ("Name of victim", &head.victim),
            ("DOB", &head.dob),
            ("Name of abuser", &head.abuser),
            ("Date", &head.completed),
        ]
        .iter()
        .enumerate()
        {
            let r = 3 + i as u32;
            ws.write_string_with_format(r, 1, *l, &lab)?;
            ws.merge_range(r, 2, r, 5, v.as_str(), &Format::new())?;
        }
        let hdr = bold()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_background_color(Color::RGB(0xD9D9D9));
        for (c, h) in ["Q", "Question", "Yes", "No", "Don't know", "Comments"].iter().enumerate() {
            ws.write_string_with_format(8, c as u16, *h, &hdr)?;
        }
        let centred = boxed().set_align(FormatAlign::Center);
        for q in 1..=24usize {
            let r = 8 + q as u32;
            ws.write_number_with_format(r, 0, q as f64, &boxed())?;
            ws.write_string_with_format(r, 1, question(q, abuser_first), &boxed())?;
            let cols: &[u16] = match dash.answers[q - 1] {
                Ans::Yes => &[2],
                Ans::No => &[3],
                Ans::Dk => &[4],
                Ans::Blank => &[],
                Ans::Both => &[2, 3],
            };
            for c in 2..=4u16 {
                if cols.contains(&c) {
                    ws.write_string_with_format(r, c, mark(q), &centred)?;
                } else {
                    ws.write_blank(r, c, &centred)?;
                }
            }
            match dash.comment(q) {
                Some(cm) => ws.write_string_with_format(r, 5, cm, &boxed())?,
                None => ws.write_blank(r, 5, &boxed())?,
            };
        }
        ws.write_string_with_format(34, 1, "Total ticks in the Yes column", &bold())?;
        wb.save_to_buffer()
    };
    build().expect("xlsx")
}

/// One workbook holding both the referral form (label / value) and the DASH (answer column).
pub fn referral_and_dash(case: &Case, l: &Labels, dash: &Dash, at: Stamp) -> Vec<u8> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        wb.set_properties(&props(case.referrer.name, at));
        let ws = wb.add_worksheet();
        ws.set_name("Referral")?;
        ws.set_column_width(0, 48)?;
        ws.set_column_width(1, 70)?;
        let mut r = 0u32;
        let blocks = crate::form::referral_form(case, l);
        for b in &blocks {
            match b {
                crate::form::Block::Title(s) => {
                    ws.write_string_with_format(r, 0, s.as_str(), &bold().set_font_size(14))?;
                    r += 2;
                }
                crate::form::Block::Para(s) => {
                    ws.write_string(r, 0, s.as_str())?;
                    r += 1;
                }
                crate::form::Block::Heading(s) => {
                    r += 1;
                    ws.write_string_with_format(r, 0, s.as_str(), &bold().set_background_color(Color::RGB(0xDDEBF7)))?;
                    r += 1;
                }
                crate::form::Block::Kv(rows) => {
                    for (label, v) in rows {
                        ws.write_string(r, 0, label.as_str())?;
                        let text = match v {
                            crate::form::Val::Text(s) => s.clone(),
                            crate::form::Val::Tick(on) => {
                                if *on {
                                    "Yes".into()
                                } else {
                                    "No".into()
                                }
                            }
                        };
                        if !text.is_empty() {
                            ws.write_string(r, 1, text)?;
                        }
                        r += 1;
                    }
                }
                crate::form::Block::Grid { header, rows, .. } => {
                    for (c, h) in header.iter().enumerate() {
                        ws.write_string_with_format(r, c as u16, h.as_str(), &bold())?;
                    }
                    r += 1;
                    for row in rows {
                        for (c, v) in row.iter().enumerate() {
                            if let crate::form::Val::Text(s) = v {
                                if !s.is_empty() {
                                    ws.write_string(r, c as u16, s.as_str())?;
                                }
                            }
                        }
                        r += 1;
                    }
                }
            }
        }
        let ws = wb.add_worksheet();
        ws.set_name("DASH RIC")?;
        ws.set_column_width(1, 80)?;
        ws.write_string_with_format(0, 0, "DASH Risk Identification Checklist", &bold())?;
        for (c, h) in ["No", "Question", "Answer", "Comments"].iter().enumerate() {
            ws.write_string_with_format(2, c as u16, *h, &bold())?;
        }
        for q in 1..=24usize {
            let r = 2 + q as u32;
            ws.write_number(r, 0, q as f64)?;
            ws.write_string(r, 1, question(q, Some(case.perp.first)))?;
            let a = match dash.answers[q - 1] {
                Ans::Yes => "Yes",
                Ans::No => "No",
                Ans::Dk => "Not known",
                Ans::Blank => "",
                Ans::Both => "Yes/No",
            };
            if !a.is_empty() {
                ws.write_string(r, 2, a)?;
            }
            if let Some(c) = dash.comment(q) {
                ws.write_string(r, 3, c)?;
            }
        }
        wb.save_to_buffer()
    };
    build().expect("xlsx")
}
