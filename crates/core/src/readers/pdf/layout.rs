//! Words → lines → cells. Words whose baselines agree (within about 2pt) make a line; lines go
//! top to bottom, words left to right. Within a line a small gap is a space and a wide gap (a
//! table column gap) starts a new cell.

use super::content::Run;
use crate::document::{Row, Table};

/// Baseline tolerance for one line, in points (grows a little with the font size).
fn line_tolerance(size: f32) -> f32 {
    2.0f32.max(0.15 * size)
}

/// A gap wider than this starts a new cell: a column gap, not a word space. Word spaces are
/// about a quarter to a third of the font size; column gaps in forms are a good deal wider.
fn cell_gap(size: f32) -> f32 {
    5.0f32.max(size)
}

/// A gap wider than this (and not a column gap) is a space between words.
fn space_gap(size: f32) -> f32 {
    0.12 * size
}

/// Groups runs into lines: top to bottom, each line's runs left to right.
pub(super) fn lines<'r>(runs: impl IntoIterator<Item = &'r Run>) -> Vec<Vec<&'r Run>> {
    let mut sorted: Vec<&Run> = runs.into_iter().collect();
    sorted.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    let mut lines: Vec<Vec<&Run>> = Vec::new();
    let mut line_y = f32::NAN;
    for run in sorted {
        let same = lines.last().is_some() && (line_y - run.y).abs() <= line_tolerance(run.size);
        match lines.last_mut() {
            Some(line) if same => line.push(run),
            _ => {
                line_y = run.y;
                lines.push(vec![run]);
            }
        }
    }
    for line in &mut lines {
        line.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    }
    lines
}

/// The size that spacing is judged by: the font size, unless the glyphs are much narrower than
/// it says (some producers scale glyphs down inside a large nominal size).
fn spacing_size(run: &Run) -> f32 {
    let chars = run.text.chars().count().max(1) as f32;
    let average = (run.x1 - run.x0) / chars;
    if average.is_finite() && average > 0.0 {
        run.size.min(2.0 * average)
    } else {
        run.size
    }
}

/// Dot leaders and fill-in rules: decoration, not text.
fn is_leader(c: char) -> bool {
    matches!(c, '.' | '…' | '_' | '·')
}

/// Removes dot leaders and fill-in rules (four or more leader characters, spaces between them
/// allowed; an ellipsis counts three) and the spaces they leave behind.
fn strip_leaders(cell: String) -> String {
    if !cell.chars().any(is_leader) && single_spaced(&cell) {
        // Nothing to remove: the usual cell, kept without copying it.
        return cell;
    }
    let chars: Vec<char> = cell.chars().collect();
    let mut out = String::with_capacity(cell.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if is_leader(c) {
            let mut j = i;
            let mut count = 0;
            while let Some(&d) = chars.get(j) {
                if is_leader(d) {
                    count += if d == '…' { 3 } else { 1 };
                } else if d != ' ' {
                    break;
                }
                j += 1;
            }
            if count >= 4 {
                out.push(' ');
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a text is already its words joined by single spaces (what `split_whitespace` and
/// `join(" ")` would make of it).
fn single_spaced(text: &str) -> bool {
    let mut after_space = true;
    for c in text.chars() {
        if c.is_whitespace() {
            if c != ' ' || after_space {
                return false;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    !after_space || text.is_empty()
}

/// The cells of one line (runs sorted left to right).
pub(super) fn cells(line: &[&Run]) -> Vec<(String, [f32; 2])> {
    // Words printed twice on top of themselves (fake bold, shadow) are kept once.
    let mut kept: Vec<&Run> = Vec::with_capacity(line.len());
    for run in line {
        let duplicate = kept.last().is_some_and(|p| {
            let width = (p.x1 - p.x0).max(0.05 * p.size);
            run.text == p.text && (run.x0 - p.x0).abs() < 0.25 * width
        });
        if !duplicate {
            kept.push(run);
        }
    }
    // Gaps before each word; those around dot leaders say nothing about word spacing.
    let leader: Vec<bool> = kept.iter().map(|r| r.text.chars().all(is_leader)).collect();
    let mut gaps = Vec::with_capacity(kept.len());
    let mut end = f32::NEG_INFINITY;
    for (i, run) in kept.iter().enumerate() {
        let near_leader = leader.get(i).copied().unwrap_or(false)
            || i.checked_sub(1).and_then(|p| leader.get(p)).copied().unwrap_or(false);
        gaps.push(if near_leader { f32::NAN } else { run.x0 - end });
        end = end.max(run.x1);
    }

    let mut sorted: Vec<f32> = gaps.iter().copied().filter(|g| g.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);

    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut start = f32::NAN;
    let mut end = f32::NEG_INFINITY;
    for (i, run) in kept.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).and_then(|p| kept.get(p)) {
            let size = spacing_size(prev).max(spacing_size(run));
            let gap = run.x0 - end;
            let is_leader = leader.get(i).copied().unwrap_or(false);
            let even = justified(&sorted, gaps.get(i).copied().unwrap_or(f32::NAN), size);
            // A word that starts well inside the text before it and runs on past it was placed on
            // its own: a value printed at its column over a label too long for its own.
            let placed_over = -gap > 0.5 * size && run.x1 > end + 0.5 * size && !cell.trim().is_empty();
            if (gap > cell_gap(size) && !is_leader && !even) || placed_over {
                cells.push((std::mem::take(&mut cell), [start, end]));
                start = f32::NAN;
            } else if gap > space_gap(size) && !cell.ends_with(' ') {
                cell.push(' ');
            }
        }
        if start.is_nan() {
            start = run.x0;
        }
        cell.push_str(&run.text);
        end = end.max(run.x1);
    }
    cells.push((cell, [start, end]));
    cells.into_iter().map(|(c, span)| (strip_leaders(c), span)).filter(|(c, _)| !c.is_empty()).collect()
}

/// Whether a wide gap is a stretched word space of justified text: at least two other gaps on
/// the line have the same width (justification spreads a line evenly), and it is not wider
/// than a few ems. `sorted` holds the line's gaps in increasing order.
fn justified(sorted: &[f32], gap: f32, size: f32) -> bool {
    if !gap.is_finite() || gap > 3.0 * size {
        return false;
    }
    let tolerance = (0.03 * size).max(0.3);
    let lo = sorted.partition_point(|g| *g < gap - tolerance);
    let hi = sorted.partition_point(|g| *g <= gap + tolerance);
    // The gap itself is among them.
    hi.saturating_sub(lo) >= 3
}

/// The text layer of one page as a table: one row per line.
pub(super) fn table(page: usize, runs: &[Run]) -> Option<Table> {
    let rows: Vec<Row> = lines(runs)
        .iter()
        .map(|line| cells(line))
        .filter(|cells| cells.iter().any(|c| !c.0.is_empty()))
        .enumerate()
        .map(|(i, cells)| {
            let (cells, spans) = cells.into_iter().unzip();
            Row { at: format!("line {}", i + 1), cells, spans }
        })
        .collect();
    if rows.is_empty() {
        None
    } else {
        Some(Table { at: format!("page {page}"), rows })
    }
}

/// The text printed in a horizontal band, left of `x_limit`: lines top to bottom, cells left to
/// right, joined with single spaces. `runs` are sorted by their vertical middle.
pub(super) fn band_text(runs: &[Run], y_lo: f32, y_hi: f32, x_limit: f32) -> Option<String> {
    let lo = runs.partition_point(|r| r.middle() < y_lo);
    let hi = runs.partition_point(|r| r.middle() <= y_hi);
    let selected = runs.get(lo..hi).unwrap_or_default().iter().filter(|r| r.x1 <= x_limit);
    let text =
        lines(selected).iter().flat_map(|line| cells(line)).map(|c| c.0).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        None
    } else {
        Some(text)
    }
}

/// Whether [`band_text`] would find any text in the band, without building it: a word with a
/// character that is not a leader always leaves text; words made only of leaders may not.
pub(super) fn band_has_text(runs: &[Run], y_lo: f32, y_hi: f32, x_limit: f32) -> bool {
    let lo = runs.partition_point(|r| r.middle() < y_lo);
    let hi = runs.partition_point(|r| r.middle() <= y_hi);
    let mut leaders_only = false;
    for run in runs.get(lo..hi).unwrap_or_default().iter().filter(|r| r.x1 <= x_limit) {
        if run.text.chars().any(|c| !is_leader(c) && !c.is_whitespace()) {
            return true;
        }
        leaders_only = true;
    }
    leaders_only && band_text(runs, y_lo, y_hi, x_limit).is_some()
}

/// Sorts runs by their vertical middle, as [`band_text`] needs.
pub(super) fn sort_for_bands(runs: &mut [Run]) {
    runs.sort_by(|a, b| a.middle().total_cmp(&b.middle()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x0: f32, x1: f32, y: f32, text: &str) -> Run {
        Run { x0, x1, y, size: 10.0, text: text.to_string() }
    }

    #[test]
    fn words_join_with_spaces_and_columns_split() {
        let runs = vec![
            run(100.0, 120.0, 700.0, "incident"),
            run(50.0, 70.0, 700.4, "Has"),
            run(72.5, 98.0, 699.0, "the"),
            run(300.0, 315.0, 700.0, "Yes"),
            run(20.0, 25.0, 700.0, "1"),
            run(120.0, 121.0, 700.0, "?"),
            run(50.0, 80.0, 680.0, "next"),
        ];
        let t = table(3, &runs).unwrap();
        assert_eq!(t.at, "page 3");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells, ["1", "Has the incident?", "Yes"]);
        assert_eq!(t.rows[0].at, "line 1");
        assert_eq!(t.rows[1].cells, ["next"]);
    }

    #[test]
    fn a_value_printed_over_the_end_of_a_long_label_is_a_cell_of_its_own() {
        // The label runs to x = 238; its value was placed at its column, x = 230.
        let label = [run(40.0, 120.0, 700.0, "Referral"), run(124.0, 205.0, 700.0, "criteria"), run(209.0, 238.0, 700.0, "met")];
        let line = [&label[0], &label[1], &label[2], &run(230.0, 250.0, 700.0, "VHR,"), &run(252.0, 262.0, 700.0, "PJ")];
        let got: Vec<String> = cells(&line).into_iter().map(|c| c.0).collect();
        assert_eq!(got, ["Referral criteria met", "VHR, PJ"]);
        // A mark printed inside the glyph before it (an overprinted box) stays where it is.
        let boxed = [&run(40.0, 48.0, 700.0, "\u{2610}"), &run(41.0, 47.0, 700.0, "X"), &run(52.0, 90.0, 700.0, "Repeat")];
        assert_eq!(cells(&boxed).len(), 1);
    }

    #[test]
    fn repeated_letters_are_not_taken_for_fake_bold() {
        // "Hello" shown glyph by glyph: the two l's are the same text side by side.
        let runs = vec![
            run(10.0, 17.2, 700.0, "H"),
            run(17.2, 22.8, 700.0, "e"),
            run(22.8, 25.0, 700.0, "l"),
            run(25.0, 27.2, 700.0, "l"),
            run(27.2, 32.8, 700.0, "o"),
            // Fake bold: the same word again, half a point to the right.
            run(50.0, 80.0, 700.0, "World"),
            run(50.5, 80.5, 700.0, "World"),
        ];
        assert_eq!(table(1, &runs).unwrap().rows[0].cells, ["Hello", "World"]);
    }

    #[test]
    fn justified_lines_stay_one_cell_and_leaders_go() {
        // Stretched word spaces, all the same width, wider than a column gap would need.
        let runs = vec![
            run(132.0, 172.0, 608.0, "condition"),
            run(180.3, 198.8, 608.0, "that"),
            run(207.1, 220.9, 608.0, "the"),
            run(229.2, 272.0, 608.0, "registrant"),
            run(400.0, 430.0, 608.0, "other"),
        ];
        assert_eq!(table(1, &runs).unwrap().rows[0].cells, ["condition that the registrant", "other"]);
        let leaders = vec![
            run(50.0, 120.0, 500.0, "Wages"),
            run(130.0, 132.0, 500.0, "."),
            run(140.0, 142.0, 500.0, "."),
            run(150.0, 152.0, 500.0, "."),
            run(160.0, 162.0, 500.0, "."),
            run(180.0, 186.0, 500.0, "7"),
            run(50.0, 80.0, 480.0, "Name:"),
            run(82.0, 150.0, 480.0, "__________"),
        ];
        let t = table(1, &leaders).unwrap();
        assert_eq!(t.rows[0].cells, ["Wages", "7"]);
        assert_eq!(t.rows[1].cells, ["Name:"]);
    }

    #[test]
    fn band_keeps_only_text_left_of_the_widget() {
        let mut runs =
            vec![run(50.0, 90.0, 700.0, "Question"), run(300.0, 320.0, 700.0, "Yes"), run(50.0, 90.0, 650.0, "Other")];
        sort_for_bands(&mut runs);
        assert_eq!(band_text(&runs, 695.0, 712.0, 250.0).as_deref(), Some("Question"));
        assert_eq!(band_text(&runs, 600.0, 612.0, 250.0), None);
    }

    #[test]
    fn band_has_text_agrees_with_band_text() {
        let mut runs = vec![
            run(50.0, 90.0, 700.0, "Question"),
            run(300.0, 320.0, 700.0, "Yes"),
            // Leaders alone: four dots make a rule and leave nothing, two dots stay.
            run(50.0, 52.0, 650.0, ".."),
            run(53.0, 55.0, 650.0, ".."),
            run(50.0, 52.0, 600.0, "."),
            run(50.0, 55.0, 550.0, "__"),
            run(70.0, 90.0, 550.0, "x"),
        ];
        sort_for_bands(&mut runs);
        for (y_lo, y_hi, x_limit) in
            [(695.0, 712.0, 250.0), (695.0, 712.0, 40.0), (645.0, 660.0, 250.0), (595.0, 610.0, 250.0), (545.0, 560.0, 60.0), (545.0, 560.0, 95.0), (0.0, 1.0, 999.0)]
        {
            assert_eq!(
                band_has_text(&runs, y_lo, y_hi, x_limit),
                band_text(&runs, y_lo, y_hi, x_limit).is_some(),
                "band {y_lo}..{y_hi} left of {x_limit}"
            );
        }
        assert!(!band_has_text(&runs, 645.0, 660.0, 250.0));
        assert!(band_has_text(&runs, 595.0, 610.0, 250.0));
    }

    #[test]
    fn cells_come_out_single_spaced_with_or_without_leaders() {
        assert_eq!(strip_leaders("Name of victim".to_string()), "Name of victim");
        assert_eq!(strip_leaders(" Name  of\tvictim ".to_string()), "Name of victim");
        assert_eq!(strip_leaders("Name ....... Rose".to_string()), "Name Rose");
        assert_eq!(strip_leaders(String::new()), "");
        assert!(single_spaced("a b") && single_spaced("") && !single_spaced("a  b") && !single_spaced("a ") && !single_spaced("\u{a0}a"));
    }

    #[test]
    fn nan_coordinates_do_not_panic() {
        let mut runs = vec![run(f32::NAN, 1.0, f32::NAN, "a"), run(1.0, f32::INFINITY, 3.0, "b")];
        sort_for_bands(&mut runs);
        let _ = table(1, &runs);
        let _ = band_text(&runs, f32::NAN, 1.0, f32::NAN);
    }
}
