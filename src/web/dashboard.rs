//! The dashboard's figures (pure: the store's rows and today in, numbers and an SVG out):
//! referrals per week, outcomes, the repeat rate, time from arrival to reply, outbox trouble.

use crate::config::Criterion;
use crate::decide::Outcome;
use crate::store::cases::DashboardData;
use crate::clock::parse;
use chrono::{Datelike, Duration, NaiveDate};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Monday of each of [`WEEKS`] weeks (see [`summarise`]), with the referrals that arrived in it.
    pub weeks: Vec<(String, usize)>,
    pub accepted: usize,
    pub rejected: usize,
    pub review: usize,
    pub quarantined: usize,
    pub ignored: usize,
    /// Share of accepted referrals that are repeats, in percent (none accepted: None).
    pub repeat_rate: Option<f64>,
    /// Minutes from arrival to the reply being sent: median and 95th percentile.
    pub reply_median_min: Option<f64>,
    pub reply_p95_min: Option<f64>,
    pub replies_sent: usize,
    pub outbox: Vec<(String, i64)>,
    pub chart: String,
}

pub const WEEKS: i64 = 12;

fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    Some(sorted[((sorted.len() as f64 - 1.0) * p).round() as usize])
}

/// `weeks` are the [`WEEKS`] weeks up to the latest referral's (or today's, with none; never
/// after today), so a quiet spell or a history imported from the past still shows its figures.
pub fn summarise(d: &DashboardData, today: NaiveDate) -> Summary {
    let latest = d.messages.iter().filter(|m| m.1 != Outcome::Ignored).filter_map(|m| parse(&m.0)).map(|t| t.date_naive()).max();
    let this_week = monday(latest.map_or(today, |l| l.min(today)));
    let mut weeks: Vec<(NaiveDate, usize)> = (0..WEEKS).rev().map(|i| (this_week - Duration::weeks(i), 0)).collect();
    let (mut accepted, mut rejected, mut review, mut quarantined, mut ignored, mut repeats) = (0, 0, 0, 0, 0, 0);
    for (arrived, outcome, criteria) in &d.messages {
        match outcome {
            Outcome::Accepted => {
                accepted += 1;
                if criteria.contains(&Criterion::Repeat) {
                    repeats += 1;
                }
            }
            Outcome::Rejected => rejected += 1,
            Outcome::Review => review += 1,
            Outcome::Quarantined => quarantined += 1,
            Outcome::Ignored => {
                ignored += 1;
                continue;
            }
        }
        if let Some(at) = parse(arrived) {
            let m = monday(at.date_naive());
            if let Some(w) = weeks.iter_mut().find(|(d, _)| *d == m) {
                w.1 += 1;
            }
        }
    }
    let mut delays: Vec<f64> = d
        .replies
        .iter()
        .filter_map(|(a, s)| Some((parse(s)? - parse(a)?).num_seconds() as f64 / 60.0))
        .filter(|m| *m >= 0.0)
        .collect();
    delays.sort_by(f64::total_cmp);
    let weeks: Vec<(String, usize)> = weeks.into_iter().map(|(d, n)| (d.to_string(), n)).collect();
    Summary {
        chart: chart(&weeks),
        weeks,
        accepted,
        rejected,
        review,
        quarantined,
        ignored,
        repeat_rate: (accepted > 0).then(|| 100.0 * repeats as f64 / accepted as f64),
        reply_median_min: percentile(&delays, 0.5),
        reply_p95_min: percentile(&delays, 0.95),
        replies_sent: delays.len(),
        outbox: d.outbox.clone(),
    }
}

/// A bar per week, server-rendered SVG (numbers and dates only; the table beside it says the same).
pub fn chart(weeks: &[(String, usize)]) -> String {
    let max = weeks.iter().map(|w| w.1).max().unwrap_or(0).max(1);
    let (bar, gap, height) = (36, 8, 120);
    let width = weeks.len() * (bar + gap) + gap;
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"chart-title\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\"><title id=\"chart-title\">Referrals per week, {} weeks</title>", height + 40, height + 40, weeks.len());
    for (i, (week, n)) in weeks.iter().enumerate() {
        let h = n * height / max;
        let x = gap + i * (bar + gap);
        svg.push_str(&format!(
            "<g><title>week of {week}: {n}</title><rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"#0b3d91\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#111\">{n}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#111\">{}</text></g>",
            height - h + 14,
            x + bar / 2,
            height - h + 10,
            x + bar / 2,
            height + 30,
            week.get(5..).unwrap_or(week)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_outcomes_repeats_and_reply_times() {
        let day = NaiveDate::from_ymd_opt(2026, 2, 4).unwrap(); // a Wednesday
        let d = DashboardData {
            messages: vec![
                ("2026-02-02T09:00:00+00:00".into(), Outcome::Accepted, vec![Criterion::Repeat]),
                ("2026-02-03T09:00:00+00:00".into(), Outcome::Accepted, vec![Criterion::VisibleHighRisk]),
                ("2026-01-28T09:00:00+00:00".into(), Outcome::Rejected, vec![]),
                ("2026-01-28T10:00:00+00:00".into(), Outcome::Ignored, vec![]),
                ("2025-01-01T10:00:00+00:00".into(), Outcome::Review, vec![]),
            ],
            replies: vec![("2026-02-02T09:00:00+00:00".into(), "2026-02-02T09:01:00Z".into()), ("2026-02-03T09:00:00+00:00".into(), "2026-02-03T09:10:00Z".into())],
            outbox: vec![("failed".into(), 1)],
        };
        let s = summarise(&d, day);
        assert_eq!(s.weeks.len(), 12);
        assert_eq!(s.weeks[11], ("2026-02-02".to_owned(), 2));
        assert_eq!(summarise(&d, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).weeks[11].0, "2026-02-02", "up to the latest referral");
        assert_eq!(summarise(&d, NaiveDate::from_ymd_opt(2026, 1, 29).unwrap()).weeks[11].0, "2026-01-26", "never after today");
        assert_eq!(s.weeks[10], ("2026-01-26".to_owned(), 1), "ignored messages are not referrals");
        assert_eq!((s.accepted, s.rejected, s.review, s.ignored), (2, 1, 1, 1));
        assert_eq!(s.repeat_rate, Some(50.0));
        assert_eq!((s.reply_median_min, s.reply_p95_min, s.replies_sent), (Some(10.0), Some(10.0), 2));
        assert!(s.chart.starts_with("<svg") && s.chart.contains("week of 2026-02-02: 2"));
    }
}
