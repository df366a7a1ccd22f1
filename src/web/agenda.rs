//! A meeting's agenda for the agencies' representatives, as XLSX (rust_xlsxwriter: a header row,
//! frozen under it, column widths, dates of birth as real dates) and CSV: rows in, bytes out
//! (pure). And its sending to the agencies' designated officers (`[agenda]`): [`send`] (a
//! coordinator's, from the meeting page) and [`send_due`] (the schedule's, from `run`), which
//! build the XLSX from the store and queue one outbox row of kind `agenda` per officer.
//!
//! With `agenda_names = "initials"` (the default: the agenda leaves the building) every person
//! it names, victim and perpetrator, is given by initials, and the victim's date of birth by its
//! year alone (the column is then headed "Year of birth"). `full` gives names and dates whole.
//! An agenda sent by email never lists a restricted case: those are shared by hand.

use super::audit::csv_cell;
use crate::config::{AgendaNames, Area, Config, Officer};
use crate::reply::{compose_agenda, AgendaInput};
use crate::store::agenda::{AgendaRequest, BY_SCHEDULE};
use crate::store::cases::AgendaRow;
use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook};

/// The columns agencies expect, with their widths in characters.
pub const COLUMNS: [(&str, f64); 9] = [
    ("Reference", 18.0),
    ("Victim", 24.0),
    ("Date of birth", 14.0),
    ("Perpetrator", 24.0),
    ("Children", 10.0),
    ("Referring agency", 28.0),
    ("Criteria", 34.0),
    ("Repeat", 8.0),
    ("DASH score", 11.0),
];

/// "Rebecca Hollins" → "R. H."; words without a letter are left out.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphabetic())).map(|c| format!("{}.", c.to_uppercase())).collect::<Vec<_>>().join(" ")
}

/// The column titles: [`COLUMNS`], with "Year of birth" where only the year is given.
pub fn titles(names: AgendaNames) -> Vec<&'static str> {
    COLUMNS.iter().map(|(t, _)| if *t == "Date of birth" && names == AgendaNames::Initials { "Year of birth" } else { *t }).collect()
}

fn person(name: &str, names: AgendaNames) -> String {
    match names {
        AgendaNames::Full => name.to_owned(),
        AgendaNames::Initials => initials(name),
    }
}

fn victim(row: &AgendaRow, names: AgendaNames) -> String {
    person(&row.victim_name, names)
}

fn perpetrator(row: &AgendaRow, names: AgendaNames) -> String {
    row.perpetrator.as_deref().map(|p| person(p, names)).unwrap_or_default()
}

fn criteria(row: &AgendaRow) -> String {
    row.criteria.iter().map(|c| c.as_str().replace('_', " ")).collect::<Vec<_>>().join(", ")
}

pub fn xlsx(meeting: NaiveDate, rows: &[AgendaRow], names: AgendaNames) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(format!("MARAC {meeting}"))?;
    let header = Format::new().set_bold().set_background_color("D9E1F2").set_border_bottom(FormatBorder::Thin);
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (col, ((_, width), title)) in COLUMNS.iter().zip(titles(names)).enumerate() {
        ws.write_string_with_format(0, col as u16, title, &header)?;
        ws.set_column_width(col as u16, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.case_ref)?;
        ws.write_string(row, 1, victim(r, names))?;
        match (r.victim_dob, names) {
            (Some(d), AgendaNames::Full) => {
                ws.write_datetime_with_format(row, 2, ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?, &date)?;
            }
            (Some(d), AgendaNames::Initials) => {
                ws.write_number(row, 2, d.year() as f64)?;
            }
            (None, _) => {}
        }
        ws.write_string(row, 3, perpetrator(r, names))?;
        ws.write_number(row, 4, r.children as f64)?;
        ws.write_string(row, 5, r.agency.as_deref().unwrap_or(""))?;
        ws.write_string(row, 6, criteria(r))?;
        ws.write_string(row, 7, if r.repeat { "Yes" } else { "No" })?;
        if let Some(s) = r.dash_score {
            ws.write_number(row, 8, s as f64)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// The same columns as CSV (RFC 4180; dates of birth as the UK writes them, DD/MM/YYYY, or the year alone; cells a spreadsheet would read as a
/// formula are defused).
pub fn csv(rows: &[AgendaRow], names: AgendaNames) -> String {
    let mut out = titles(names).join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            r.case_ref.clone(),
            victim(r, names),
            r.victim_dob.map(|d| if names == AgendaNames::Initials { d.year().to_string() } else { d.format("%d/%m/%Y").to_string() }).unwrap_or_default(),
            perpetrator(r, names),
            r.children.to_string(),
            r.agency.clone().unwrap_or_default(),
            criteria(r),
            (if r.repeat { "Yes" } else { "No" }).to_owned(),
            r.dash_score.map(|s| s.to_string()).unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// How the deployment's agendas name people: `[web] agenda_names` (initials when unset).
pub fn names(deployment: &Config) -> AgendaNames {
    deployment.file.web.as_ref().map(|w| w.agenda_names).unwrap_or_default()
}

/// The agenda of `area`'s meeting on `meeting`, queued for `officers` (see
/// [`Store::queue_agenda`]): the cases listed, less every restricted case, as XLSX named as
/// `[web] agenda_names` says. Returns the officers it was queued for.
#[allow(clippy::too_many_arguments)]
pub async fn send(store: &Store, deployment: &Config, area: &Area, meeting: NaiveDate, officers: &[Officer], only_new: bool, by: &str, client: Option<&str>, now: DateTime<Utc>) -> Result<Vec<Officer>> {
    let hidden = store.hidden_for_agencies(&area.id).await?;
    let mut rows = store.agenda(meeting, Some(&area.id), &hidden).await?;
    rows.retain(|r| !hidden.hides(Some(&r.case_ref)));
    if only_new && rows.is_empty() {
        // The schedule sends no empty agenda: it goes once a case is listed, if before the day.
        return Ok(Vec::new());
    }
    let names = names(deployment);
    let bytes = xlsx(meeting, &rows, names)?;
    let sent_at = now.with_timezone(&crate::clock::UK).fixed_offset();
    let request = AgendaRequest { area: &area.id, meeting, officers, cases: rows.len(), only_new, requested_by: by, client };
    let queued = store
        .queue_agenda(&request, now, |officer, sequence| {
            let input = AgendaInput {
                to: &officer.address,
                agency: &officer.agency,
                area_id: &area.id,
                meeting,
                cases: rows.len(),
                xlsx: &bytes,
                initials: names == AgendaNames::Initials,
                sequence,
                now: sent_at,
            };
            compose_agenda(&input, &area.config).map_err(|e| e.to_string())
        })
        .await?;
    Ok(queued)
}

/// The schedule's sends at `now`: for each area, each meeting whose agenda is due
/// ([`marac_core::agenda::AgendaPlan::due`], in UK local time) and lists a case goes to each of
/// the area's officers who have not had it. Returns how many agendas were queued; an area whose send fails
/// is logged (no names) and tried again at the next call.
pub async fn send_due(store: &Store, deployment: &Config, now: DateTime<Utc>) -> usize {
    let local = now.with_timezone(&crate::clock::UK).naive_local();
    let mut queued = 0;
    for area in &deployment.areas {
        let plan = &area.config.agenda;
        for meeting in plan.due(&area.config.schedule, local) {
            // Read first (no workbook built, no write taken) whether anyone is still to have it:
            // a meeting stays due until its day, and this runs every minute.
            let wanting: Vec<Officer> = match store.agenda_had(&area.id, meeting).await {
                Ok(had) => plan.officers.iter().filter(|o| !had.contains(&o.address.to_ascii_lowercase())).cloned().collect(),
                Err(e) => {
                    tracing::error!(area = %area.id, meeting = %meeting, error = %format!("{e:#}"), "Could not read which officers had a meeting's agenda; it is tried again shortly.");
                    continue;
                }
            };
            if wanting.is_empty() {
                continue;
            }
            match send(store, deployment, area, meeting, &wanting, true, BY_SCHEDULE, None, now).await {
                Ok(sent) if !sent.is_empty() => {
                    tracing::info!(area = %area.id, meeting = %meeting, officers = sent.len(), "A meeting's agenda was queued for the agencies' officers.");
                    queued += sent.len();
                }
                Ok(_) => {}
                Err(e) => tracing::error!(area = %area.id, meeting = %meeting, error = %format!("{e:#}"), "A meeting's agenda could not be queued for the agencies' officers; it is tried again shortly."),
            }
        }
    }
    queued
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn row() -> AgendaRow {
        AgendaRow {
            case_ref: "MARAC-2026-0001".into(),
            status: "pending".into(),
            victim_name: "Rebecca  Hollins".into(),
            victim_dob: NaiveDate::from_ymd_opt(1991, 7, 3),
            perpetrator: Some("=Darren Hollins".into()),
            children: 2,
            agency: Some("Kingsmere Police".into()),
            criteria: vec![crate::config::Criterion::VisibleHighRisk, crate::config::Criterion::Repeat],
            repeat: true,
            dash_score: Some(15),
        }
    }

    #[test]
    fn initials_only_unless_configured() {
        assert_eq!(initials("Rebecca  Hollins"), "R. H.");
        assert_eq!(initials("ÉLODIE o'neil-smith 3"), "É. O.");
        let c = csv(&[row()], AgendaNames::Initials);
        assert!(c.starts_with("Reference,Victim,Year of birth,Perpetrator,Children,Referring agency,Criteria,Repeat,DASH score\r\n"));
        assert!(c.contains("MARAC-2026-0001,R. H.,1991,D. H.,2,Kingsmere Police,\"visible high risk, repeat\",Yes,15\r\n"), "{c}");
        for whole in ["Rebecca", "Darren", "Hollins", "07-03", "03/07", "1991-"] {
            assert!(!c.contains(whole), "{whole} in {c}");
        }
        let full = csv(&[row()], AgendaNames::Full);
        assert!(full.starts_with("Reference,Victim,Date of birth,"));
        assert!(full.contains(",Rebecca  Hollins,03/07/1991,'=Darren Hollins,"), "{full}");
    }

    #[test]
    fn the_initials_workbook_gives_initials_and_the_year_of_birth_only() {
        let bytes = xlsx(NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(), &[row()], AgendaNames::Initials).unwrap();
        let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("MARAC 2026-02-10").unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows[0][2], Data::String("Year of birth".into()));
        assert_eq!((&rows[1][1], &rows[1][2], &rows[1][3]), (&Data::String("R. H.".into()), &Data::Float(1991.0), &Data::String("D. H.".into())));
    }

    #[test]
    fn the_workbook_reads_back_with_a_header_and_real_dates() {
        let bytes = xlsx(NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(), &[row()], AgendaNames::Full).unwrap();
        let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("MARAC 2026-02-10").unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].iter().map(|c| c.to_string()).collect::<Vec<_>>(), COLUMNS.iter().map(|(t, _)| t.to_string()).collect::<Vec<_>>());
        assert_eq!(rows[1][0], Data::String("MARAC-2026-0001".into()));
        assert_eq!(rows[1][1], Data::String("Rebecca  Hollins".into()));
        match &rows[1][2] {
            Data::DateTime(d) => {
                assert!(d.is_datetime());
                let serial = (NaiveDate::from_ymd_opt(1991, 7, 3).unwrap() - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64;
                assert_eq!(d.as_f64(), serial);
            }
            other => panic!("the date of birth is a date cell, not {other:?}"),
        }
        assert_eq!(rows[1][8], Data::Float(15.0));
    }
}
