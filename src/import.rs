//! `import-history`: the area's existing list of past referrals (CSV or XLSX), with the column
//! names from the configuration's `[import]` section, so repeats are found from day one.

use crate::config::Config;
use crate::document::Block;
use crate::identity::PersonName;
use crate::limits::Deadline;
use crate::recognise::answer::{parse_date, DateRead};
use crate::sniff::{sniff, FileKind};
use crate::store::{Imported, PastReferral, Store};
use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate};
use std::path::Path;

/// Reads the rows of a CSV or XLSX file: the first non-empty row is the header.
pub fn rows(bytes: &[u8], c: &Config) -> Result<Vec<Vec<String>>> {
    match sniff(bytes) {
        FileKind::Xlsx | FileKind::Xls | FileKind::Ods => {
            let limits = &c.file.limits;
            let doc = crate::readers::read(sniff(bytes), bytes, limits, Deadline::after(limits.time_per_attachment(), std::time::Instant::now));
            if let Some(p) = doc.problems.first() {
                bail!("the spreadsheet could not be read: {:?}: {}", p.kind, p.detail);
            }
            let table = doc.blocks.into_iter().find_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            });
            Ok(table.map(|t| t.rows.into_iter().map(|r| r.cells).collect()).unwrap_or_default())
        }
        FileKind::Text => Ok(parse_csv(&String::from_utf8_lossy(bytes))),
        other => bail!("not a CSV or spreadsheet file ({other:?})"),
    }
}

/// RFC 4180 CSV: quoted fields with doubled quotes, commas and newlines inside quotes.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.retain(|r| r.iter().any(|c| !c.trim().is_empty()));
    rows
}

/// Turns rows into past referrals. Errors name the row and column.
pub fn past_referrals(rows: &[Vec<String>], c: &Config, today: NaiveDate) -> Result<Vec<PastReferral>> {
    let Some((header, body)) = rows.split_first() else { bail!("the file is empty") };
    let m = &c.file.import;
    let col = |name: &str, key: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            .with_context(|| format!("no column named {name:?} (import.{key}); the columns are: {}", header.join(", ")))
    };
    let (name_c, dob_c, ref_date_c) = (col(&m.name, "name")?, col(&m.dob, "dob")?, col(&m.referral_date, "referral_date")?);
    let meeting_c = col(&m.meeting_date, "meeting_date").ok();
    let reference_c = col(&m.reference, "reference").ok();
    let cell = |r: &Vec<String>, i: usize| r.get(i).map(|s| s.trim().to_owned()).unwrap_or_default();
    let date = |text: &str, what: &str, line: usize| -> Result<Option<NaiveDate>> {
        if text.is_empty() {
            return Ok(None);
        }
        match parse_date(text, today.year()) {
            DateRead::Date(d) => Ok(Some(d)),
            _ => bail!("row {line}: the {what} is not a date"),
        }
    };
    let mut out = Vec::new();
    for (i, r) in body.iter().enumerate() {
        let line = i + 2;
        let Ok(name) = PersonName::parse(&cell(r, name_c)) else { bail!("row {line}: no name") };
        let dob = date(&cell(r, dob_c), "date of birth", line)?;
        let referred_on = date(&cell(r, ref_date_c), "referral date", line)?.with_context(|| format!("row {line}: no referral date"))?;
        let meeting = match meeting_c {
            Some(c) => date(&cell(r, c), "meeting date", line)?,
            None => None,
        };
        let reference = reference_c.map(|c| cell(r, c)).filter(|s| !s.is_empty()).unwrap_or_else(|| format!("IMPORT-{line}-{referred_on}"));
        out.push(PastReferral { name, dob, referred_on, meeting, reference });
    }
    Ok(out)
}

/// Imports a file in one transaction, today by `clock`.
/// The list is for `area` (an `[areas.ID]`), or the deployment's only area when none is named.
pub async fn import_file(path: &Path, c: &Config, area: Option<&str>, store: &Store, clock: &crate::clock::Clock) -> Result<Imported> {
    let ids = || c.areas.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ");
    let area = match (area, c.areas.as_slice()) {
        (Some(id), _) => c.area(id).map(|a| a.id.clone()).with_context(|| format!("no area {id:?} in the configuration (its areas: {})", ids()))?,
        (None, [only]) => only.id.clone(),
        (None, _) => anyhow::bail!("this deployment has several areas ({}): name the one the list is for with --area", ids()),
    };
    let (today, now) = (clock.today(), clock.now());
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let past = past_referrals(&rows(&bytes, c)?, c, today)?;
    let mut counts = Imported::default();
    let mut tx = store.begin().await?;
    for p in &past {
        tx.import_referral(p, &area, today, now, &mut counts).await?;
    }
    tx.commit().await?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_newlines() {
        let rows = parse_csv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n1,2,3");
        assert_eq!(rows, vec![vec!["a", "b", "c"], vec!["x, y", "say \"hi\"", "two\nlines"], vec!["1", "2", "3"]]);
    }
}
