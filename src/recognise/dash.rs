//! The DASH RIC recogniser: 24 questions found by topic in form fields or table rows, answers
//! normalised, each with its comment and where it was read.

use super::answer::{inline_checked, is_mark, normalise_answer, Answer};
use super::topics::{self, TOPICS};
use crate::document::{Document, FieldKind, FormField, Problem, ProblemKind, Row, Table};
use serde::Serialize;

/// Fewer recognised questions than this and a document is not taken for a DASH.
const MIN_QUESTIONS: usize = 12;
/// Fewer distinct questions than this in one table and the table is not a DASH table.
const MIN_TABLE_QUESTIONS: usize = 6;
/// Longer cells are free text (a risk summary), not a question.
const MAX_QUESTION_CHARS: usize = 400;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dash {
    pub yes: u8,
    pub no: u8,
    /// Don't know and blank together, so that yes + no + unknown = 24.
    pub unknown: u8,
    pub dont_know: u8,
    pub blank: u8,
    /// The total written on the checklist itself, when there is one.
    pub stated_total: Option<u32>,
    /// The 24 answers in SafeLives order.
    pub answers: Vec<DashAnswer>,
    /// Which attachment it was read from ("2", "forwarded 1 › 1").
    pub attachment: String,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DashAnswer {
    pub question: u8,
    pub topic: &'static str,
    pub answer: Answer,
    pub comment: Option<String>,
    /// Where it was read, for the coordinator: "page 1, field q01", "sheet 'DASH', row 14".
    pub at: String,
}

/// One question's reading before the 24 are put together.
#[derive(Debug, Clone)]
struct Reading {
    /// The question's text as read (several lines joined when it wraps).
    text: String,
    question: usize,
    score: i32,
    answers: Vec<Answer>,
    unreadable: bool,
    comment: Option<String>,
    at: String,
}

/// Reads a DASH from one document, if it holds one.
pub fn recognise(doc: &Document, attachment: &str) -> Option<Dash> {
    let (from_fields, fields_total) = from_fields(&doc.fields);
    let (from_tables, tables_total) = from_tables(doc);
    let (readings, stated_total) = if distinct(&from_fields) >= distinct(&from_tables) {
        (from_fields, fields_total.or(tables_total))
    } else {
        (from_tables, tables_total.or(fields_total))
    };
    if distinct(&readings) < MIN_QUESTIONS {
        return None;
    }
    Some(assemble(readings, stated_total, attachment))
}

fn distinct(readings: &[Reading]) -> usize {
    let mut seen = [false; 25];
    readings.iter().for_each(|r| seen[r.question] = true);
    seen.iter().filter(|s| **s).count()
}

fn assemble(mut readings: Vec<Reading>, stated_total: Option<u32>, attachment: &str) -> Dash {
    let mut problems = Vec::new();
    let mut answers = Vec::with_capacity(24);
    readings.sort_by_key(|r| std::cmp::Reverse(r.score));
    for q in 1..=24usize {
        let mine: Vec<&Reading> = readings.iter().filter(|r| r.question == q).collect();
        if mine.is_empty() {
            problems.push(Problem::new(
                ProblemKind::Unrecognised,
                format!("question {q} ({}) was not found on the checklist; counted as unknown", TOPICS[q - 1]),
            ));
            answers.push(DashAnswer { question: q as u8, topic: TOPICS[q - 1], answer: Answer::Blank, comment: None, at: String::new() });
            continue;
        };
        let mut marked: Vec<Answer> = Vec::new();
        let mut unreadable = false;
        let mut comment = None;
        let mut at = Vec::new();
        for r in &mine {
            for a in &r.answers {
                if *a != Answer::Blank && !marked.contains(a) {
                    marked.push(*a);
                }
            }
            unreadable |= r.unreadable;
            if comment.is_none() {
                comment = r.comment.clone();
            }
            if !at.contains(&r.at) {
                at.push(r.at.clone());
            }
        }
        let answer = match marked.as_slice() {
            [] => Answer::Blank,
            [one] => *one,
            _ => {
                problems.push(Problem::new(
                    ProblemKind::ConflictingMarks,
                    format!("question {q} ({}) has more than one answer marked", TOPICS[q - 1]),
                ));
                Answer::Blank
            }
        };
        if unreadable && marked.is_empty() {
            problems.push(Problem::new(
                ProblemKind::Unrecognised,
                format!("the answer to question {q} ({}) could not be read", TOPICS[q - 1]),
            ));
        }
        answers.push(DashAnswer { question: q as u8, topic: TOPICS[q - 1], answer, comment, at: at.join("; ") });
    }
    let count = |a: Answer| answers.iter().filter(|x| x.answer == a).count() as u8;
    let (yes, no, dont_know, blank) = (count(Answer::Yes), count(Answer::No), count(Answer::DontKnow), count(Answer::Blank));
    Dash {
        yes,
        no,
        unknown: dont_know + blank,
        dont_know,
        blank,
        stated_total,
        answers,
        attachment: attachment.to_owned(),
        problems,
    }
}

// ---------------------------------------------------------------------------------------------
// Form fields (PDF AcroForm)

fn humanise(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = ch.is_lowercase();
        out.push(if matches!(ch, '_' | '.' | '-') { ' ' } else { ch });
    }
    out
}

/// The answer a checkbox stands for, from the last word of its name or label ("Q3_Yes", "q3.dk").
fn answer_word_in(name: &str) -> Option<Answer> {
    let last = name.rsplit(['_', '.', ' ', '-']).next().unwrap_or("");
    match normalise_answer(last) {
        Some(Answer::Blank) | None => None,
        some => some,
    }
}

fn is_comment_name(s: &str) -> bool {
    let w = topics::words(s);
    [" comment", " note", " detail", " info"].iter().any(|k| w.contains(k))
}

fn is_total_name(s: &str) -> bool {
    let w = topics::words(s);
    [" total", " score", " number of yes"].iter().any(|k| w.contains(k))
}

fn field_question(f: &FormField, seen: &mut std::collections::HashMap<String, Option<(usize, i32)>>) -> Option<(usize, i32)> {
    let name = humanise(&f.name);
    let texts = [f.label.as_deref(), Some(name.as_str()), f.context.as_deref()];
    // Widgets of one row share their context; score each text once.
    let by_topic = texts
        .iter()
        .flatten()
        .filter_map(|t| *seen.entry((*t).to_owned()).or_insert_with(|| topics::best(t)))
        .max_by_key(|b| b.1);
    by_topic.or_else(|| {
        topics::number_in(&f.name).or_else(|| f.label.as_deref().and_then(topics::number_in)).map(|n| (n, 1))
    })
}

fn from_fields(fields: &[FormField]) -> (Vec<Reading>, Option<u32>) {
    let mut readings = Vec::new();
    let mut total = None;
    let mut comments: Vec<(usize, String)> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for f in fields {
        let name_and_label = format!("{} {}", humanise(&f.name), f.label.as_deref().unwrap_or(""));
        if f.kind == FieldKind::Text && is_total_name(&name_and_label) && topics::number_in(&f.name).is_none() {
            if let Some(n) = f.value.as_deref().and_then(|v| v.trim().parse::<u32>().ok()) {
                total = Some(n);
            }
            continue;
        }
        let Some((question, score)) = field_question(f, &mut seen) else { continue };
        let at = format!("{}, field {}", f.at, f.name);
        if f.kind == FieldKind::Text && is_comment_name(&name_and_label) {
            if let Some(v) = f.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                comments.push((question, v.to_owned()));
            }
            continue;
        }
        let value = f.value.as_deref().map(str::trim).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("off"));
        let (answers, unreadable) = match f.kind {
            FieldKind::Checkbox => {
                let meaning = answer_word_in(&f.name)
                    .or_else(|| f.label.as_deref().and_then(answer_word_in))
                    .or_else(|| f.options.first().and_then(|o| normalise_answer(o)).filter(|a| *a != Answer::Blank && *a != Answer::Yes))
                    .unwrap_or(Answer::Yes);
                (if value.is_some() { vec![meaning] } else { vec![] }, false)
            }
            FieldKind::Radio | FieldKind::Choice | FieldKind::Text => match value {
                None => (vec![], false),
                Some(v) => match normalise_answer(v).or_else(|| normalise_answer(&v.to_lowercase().replace(['_', '-'], " "))) {
                    Some(Answer::Blank) => (vec![], false),
                    Some(a) => (vec![a], false),
                    None if f.kind == FieldKind::Text => continue,
                    None => (vec![], true),
                },
            },
            FieldKind::Other => continue,
        };
        readings.push(Reading { text: String::new(), question, score, answers, unreadable, comment: None, at });
    }
    for (q, c) in comments {
        if let Some(r) = readings.iter_mut().find(|r| r.question == q && r.comment.is_none()) {
            r.comment = Some(c);
        }
    }
    (readings, total)
}

// ---------------------------------------------------------------------------------------------
// Tables (Word, spreadsheets, the text layer of flattened PDFs)

#[derive(Debug, Clone, Default)]
struct Columns {
    yes: Option<usize>,
    no: Option<usize>,
    dont_know: Option<usize>,
    answer: Option<usize>,
    comment: Option<usize>,
    /// The header cells' extents across the page, when the table has no grid (PDF text).
    spans: Vec<[f32; 2]>,
}

impl Columns {
    fn has_marks(&self) -> bool {
        [self.yes, self.no, self.dont_know].iter().filter(|c| c.is_some()).count() >= 2
    }
}

fn header(cells: &[String], spans: &[[f32; 2]]) -> Option<Columns> {
    let mut cols = Columns { spans: spans.to_vec(), ..Columns::default() };
    for (i, cell) in cells.iter().enumerate() {
        let w = topics::words(cell);
        let w = w.trim();
        match w {
            "yes" | "y" => cols.yes = Some(i),
            "no" | "n" => cols.no = Some(i),
            "don t know" | "dont know" | "dk" | "not known" | "unknown" | "don t know not known" | "n k" | "do not know" => {
                cols.dont_know = Some(i)
            }
            "answer" | "response" | "yes no" | "yes no dk" | "yes no don t know" | "y n dk" | "y n" => cols.answer = Some(i),
            _ if w.starts_with("comment") || w.starts_with("notes") || w.starts_with("details") || w.starts_with("further info") => {
                cols.comment = Some(i)
            }
            _ => {}
        }
    }
    (cols.has_marks() || cols.answer.is_some()).then_some(cols)
}

fn from_tables(doc: &Document) -> (Vec<Reading>, Option<u32>) {
    let mut all = Vec::new();
    let mut total = None;
    let mut carried: Option<Columns> = None;
    for table in doc.blocks.iter().filter_map(|b| match b {
        crate::document::Block::Table(t) => Some(t),
        _ => None,
    }) {
        let (readings, cols, t) = from_table(table, carried.clone());
        total = total.or(t);
        if distinct(&readings) >= MIN_TABLE_QUESTIONS {
            all.extend(readings);
            if cols.is_some() {
                carried = cols;
            }
        }
    }
    (assign(all), total)
}

fn from_table(table: &Table, carried: Option<Columns>) -> (Vec<Reading>, Option<Columns>, Option<u32>) {
    let mut cols = carried;
    let mut readings: Vec<Reading> = Vec::new();
    let mut total = None;
    for row in &table.rows {
        if let Some(h) = header(&row.cells, &row.spans) {
            cols = Some(h);
            continue;
        }
        let aligned;
        let row = match cols.as_ref().filter(|c| !c.spans.is_empty() && row.spans.len() == row.cells.len()) {
            Some(c) => {
                aligned = Row { at: row.at.clone(), cells: align(&row.cells, &row.spans, &c.spans), spans: c.spans.clone() };
                &aligned
            }
            None => row,
        };
        // A question cell: the best-scoring cell that is not an answer column.
        let mut best: Option<(usize, usize, i32)> = None;
        for (i, cell) in row.cells.iter().enumerate() {
            if cell.chars().count() > MAX_QUESTION_CHARS || cols.as_ref().is_some_and(|c| Some(i) == c.comment) {
                continue;
            }
            let found = topics::best(cell).or_else(|| {
                // A numbered question whose wording we do not know: only its number speaks.
                (cell.len() > 15 && cell.contains('?')).then(|| topics::leading_number(cell).map(|n| (n, 1))).flatten()
            });
            if let Some((q, score)) = found {
                if best.is_none_or(|b| score > b.2) {
                    best = Some((i, q, score));
                }
            }
        }
        // A wrapped question: a lone line with no number and no mark continues the row above.
        let filled: Vec<&String> = row.cells.iter().filter(|c| !c.trim().is_empty()).collect();
        if let (Some(prev), [line]) = (readings.last_mut(), filled.as_slice()) {
            let text = line.trim();
            if topics::leading_number(text).is_none() && normalise_answer(text).is_none() && inline_checked(text).is_none() && !prev.text.is_empty() {
                let joined = format!("{} {text}", prev.text);
                if let Some((q, sc)) = topics::best(&joined) {
                    prev.question = q;
                    prev.score = sc;
                }
                prev.text = joined;
                continue;
            }
        }
        let Some((qcell, question, score)) = best else {
            if total.is_none() {
                total = row_total(&row.cells);
            }
            continue;
        };
        let (answers, unreadable, comment) = read_row(&row.cells, qcell, cols.as_ref());
        readings.push(Reading { text: row.cells[qcell].clone(), question, score, answers, unreadable, comment, at: format!("{}, {}", table.at, row.at) });
    }
    (readings, cols, total)
}

/// Places the cells of a gridless row (PDF text) under the header cells they sit below: each cell
/// goes to the header column its middle is nearest to, so an "X" printed under "No" lands in the
/// No column however many cells precede it.
fn align(cells: &[String], spans: &[[f32; 2]], header: &[[f32; 2]]) -> Vec<String> {
    let mut out = vec![String::new(); header.len()];
    for (text, span) in cells.iter().zip(spans) {
        let middle = (span[0] + span[1]) / 2.0;
        let distance = |h: &[f32; 2]| if middle < h[0] { h[0] - middle } else if middle > h[1] { middle - h[1] } else { 0.0 };
        // A long cell (a question) starts in its own column even when it runs under the next ones.
        let by_start = |h: &[f32; 2]| (span[0] - h[0]).abs();
        let long = span[1] - span[0] > 3.0 * header.iter().map(|h| h[1] - h[0]).fold(0.0, f32::max);
        let best = (0..header.len())
            .filter(|&j| header[j][0].is_finite() && header[j][1].is_finite())
            .min_by(|&a, &b| {
                let (da, db) = if long { (by_start(&header[a]), by_start(&header[b])) } else { (distance(&header[a]), distance(&header[b])) };
                da.total_cmp(&db)
            });
        if let Some(j) = best {
            if !out[j].is_empty() {
                out[j].push(' ');
            }
            out[j].push_str(text);
        }
    }
    out
}

/// "Total | 16", "DASH score: 16" rows.
fn row_total(cells: &[String]) -> Option<u32> {
    let label = cells.iter().position(|c| is_total_name(c) && c.len() < 60)?;
    cells[label + 1..]
        .iter()
        .chain(std::iter::once(&cells[label]))
        .find_map(|c| c.rsplit([' ', ':']).next().and_then(|n| n.trim().parse::<u32>().ok()))
        .filter(|n| *n <= 24)
}

fn read_row(cells: &[String], qcell: usize, cols: Option<&Columns>) -> (Vec<Answer>, bool, Option<String>) {
    let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(String::as_str);
    let mut comment = cols.and_then(|c| cell(c.comment)).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(c) = cols.filter(|c| c.has_marks()) {
        let mut answers = Vec::new();
        let mut unreadable = false;
        for (col, a) in [(c.yes, Answer::Yes), (c.no, Answer::No), (c.dont_know, Answer::DontKnow)] {
            match cell(col).map(|t| inline_checked(t).map(|v| !v.is_empty()).or_else(|| is_mark(t))) {
                Some(Some(true)) => answers.push(a),
                Some(None) => unreadable = true,
                _ => {}
            }
        }
        let unreadable = unreadable && answers.is_empty();
        return (answers, unreadable, comment);
    }
    if let Some(text) = cols.and_then(|c| cell(c.answer)) {
        return match inline_checked(text).or_else(|| normalise_answer(text).map(|a| vec![a])) {
            Some(v) => (v.into_iter().filter(|a| *a != Answer::Blank).collect(), false, comment),
            None => (vec![], true, comment),
        };
    }
    // No header: the first cell after the question that reads as an answer or holds checkboxes.
    let mut answers = None;
    for (i, text) in cells.iter().enumerate().skip(qcell + 1) {
        if answers.is_none() {
            if let Some(v) = inline_checked(text) {
                answers = Some(v);
                continue;
            }
            match normalise_answer(text) {
                Some(Answer::Blank) => continue,
                Some(a) if text.chars().count() <= 40 => {
                    answers = Some(vec![a]);
                    continue;
                }
                _ => {}
            }
        }
        if comment.is_none() && !text.trim().is_empty() && i != qcell {
            comment = Some(text.trim().to_owned());
        }
    }
    // The answer may sit in the question cell itself: "... harass you? ☒ Yes ☐ No" or "...? Yes".
    let answers = answers.or_else(|| inline_checked(&cells[qcell])).or_else(|| {
        let tail = cells[qcell].rsplit_once('?').map(|(_, t)| t.trim())?;
        normalise_answer(tail).filter(|a| *a != Answer::Blank).map(|a| vec![a])
    });
    (answers.unwrap_or_default(), false, comment)
}

/// One row per question: the best-scoring row keeps a question; a row that loses its question to
/// a better one is dropped (it is counted once, and a missing question is reported later).
fn assign(mut readings: Vec<Reading>) -> Vec<Reading> {
    readings.sort_by_key(|r| std::cmp::Reverse(r.score));
    let mut taken = [false; 25];
    let mut out = Vec::with_capacity(24);
    for r in readings {
        if !taken[r.question] {
            taken[r.question] = true;
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, Row, Table};

    /// The SafeLives wording with the abuser's name typed in.
    pub(crate) const QUESTIONS: [&str; 24] = [
        "Has the current incident resulted in injury?",
        "Are you very frightened?",
        "What are you afraid of? Is it further injury or violence?",
        "Do you feel isolated from family/friends i.e. does Dan try to stop you from seeing friends/family/doctor or others?",
        "Are you feeling depressed or having suicidal thoughts?",
        "Have you separated or tried to separate from Dan within the past year?",
        "Is there conflict over child contact?",
        "Does Dan constantly text, call, contact, follow, stalk or harass you?",
        "Are you pregnant or have you recently had a baby (within the last 18 months)?",
        "Is the abuse happening more often?",
        "Is the abuse getting worse?",
        "Does Dan try to control everything you do and/or are they excessively jealous?",
        "Has Dan ever used weapons or objects to hurt you?",
        "Has Dan ever threatened to kill you or someone else and you believed them?",
        "Has Dan ever attempted to strangle / choke / suffocate / drown you?",
        "Does Dan do or say things of a sexual nature that make you feel bad or that physically hurt you or someone else?",
        "Is there any other person that has threatened you or that you are afraid of?",
        "Do you know if Dan has hurt anyone else?",
        "Has Dan ever mistreated an animal or the family pet?",
        "Are there any financial issues? For example, are you dependent on Dan for money?",
        "Has Dan had problems in the past year with drugs (prescription or other), alcohol or mental health?",
        "Has Dan ever threatened or attempted suicide?",
        "Has Dan ever broken bail/an injunction and/or formal agreement for when they can see you and/or the children?",
        "Do you know if Dan has ever been in trouble with the police or has a criminal history?",
    ];

    fn row(i: usize, cells: &[&str]) -> Row {
        Row { at: format!("row {i}"), cells: cells.iter().map(|s| (*s).to_owned()).collect(), spans: Vec::new() }
    }

    fn doc(tables: Vec<Table>) -> Document {
        Document { blocks: tables.into_iter().map(Block::Table).collect(), ..Document::default() }
    }

    fn counts(d: &Dash) -> (u8, u8, u8) {
        (d.yes, d.no, d.unknown)
    }

    #[test]
    fn answer_column_in_any_order() {
        // Reversed order, numbered from 24 down: found by topic, not position.
        let answers = ["Yes", "no", "DK", "", "y", "N", "Not known", "✓"];
        let mut rows = vec![row(1, &["No", "Question", "Answer", "Comments"])];
        for (k, q) in QUESTIONS.iter().enumerate().rev() {
            let n = (k + 1).to_string();
            let position = rows.len() + 1;
            rows.push(row(position, &[&n, q, answers[k % answers.len()], if k == 0 { "broken wrist" } else { "" }]));
        }
        let d = recognise(&doc(vec![Table { at: "sheet 'DASH'".into(), rows }]), "1").expect("a DASH");
        // Per 8 answers: yes: Yes, y, ✓ = 3; no: no, N = 2; unknown: DK, blank, Not known = 3.
        assert_eq!(counts(&d), (9, 6, 9));
        assert_eq!(d.answers[0].comment.as_deref(), Some("broken wrist"));
        assert_eq!(d.answers[0].at, "sheet 'DASH', row 25");
        assert!(d.problems.is_empty(), "{:?}", d.problems);
    }

    #[test]
    fn marks_under_yes_no_dont_know_columns() {
        let mut rows = vec![row(1, &["", "Question", "Yes", "No", "Don't know", "Comments"])];
        for (k, q) in QUESTIONS.iter().enumerate() {
            let mark = ["X", "", ""];
            let cells: [&str; 3] = match k % 3 {
                0 => mark,
                1 => ["", "x", ""],
                _ => ["", "", "✔"],
            };
            rows.push(row(k + 2, &[&(k + 1).to_string(), q, cells[0], cells[1], cells[2], ""]));
        }
        let d = recognise(&doc(vec![Table { at: "page 1".into(), rows }]), "2").unwrap();
        assert_eq!(counts(&d), (8, 8, 8));
    }

    #[test]
    fn header_carries_over_to_a_continuation_page() {
        let header = row(1, &["Question", "Yes", "No", "DK"]);
        let mut p1 = vec![header];
        let mut p2 = vec![];
        for (k, q) in QUESTIONS.iter().enumerate() {
            let r = row(k + 2, &[q, "X", "", ""]);
            if k < 12 { p1.push(r) } else { p2.push(r) }
        }
        let d = recognise(&doc(vec![Table { at: "page 1".into(), rows: p1 }, Table { at: "page 2".into(), rows: p2 }]), "1").unwrap();
        assert_eq!(counts(&d), (24, 0, 0));
    }

    #[test]
    fn inline_checkboxes_and_conflicts() {
        let mut rows = Vec::new();
        for (k, q) in QUESTIONS.iter().enumerate() {
            let a = match k {
                0 => "☒ Yes ☒ No ☐ Don't know",
                1..=10 => "☒ Yes ☐ No ☐ Don't know",
                _ => "☐ Yes ☒ No ☐ Don't know",
            };
            rows.push(row(k + 1, &[q, a]));
        }
        let d = recognise(&doc(vec![Table { at: "table 2".into(), rows }]), "1").unwrap();
        assert_eq!(counts(&d), (10, 13, 1));
        assert!(d.problems.iter().any(|p| p.kind == ProblemKind::ConflictingMarks));
    }

    #[test]
    fn a_missing_question_is_a_problem_not_a_guess() {
        let rows = QUESTIONS.iter().enumerate().filter(|(k, _)| *k != 14).map(|(k, q)| row(k, &[q, "Yes"])).collect();
        let d = recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").unwrap();
        assert_eq!(counts(&d), (23, 0, 1));
        assert!(d.problems.iter().any(|p| p.kind == ProblemKind::Unrecognised && p.detail.contains("question 15")));
    }

    #[test]
    fn a_referral_form_alone_is_not_a_dash() {
        let rows = vec![
            row(1, &["Name", "A Person"]),
            row(2, &["Summary of risk", "Threatened to kill her and strangled her; police called; weapons at home."]),
            row(3, &["Police reference", "KP-1"]),
        ];
        assert!(recognise(&doc(vec![Table { at: "table 1".into(), rows }]), "1").is_none());
    }

    fn field(name: &str, kind: FieldKind, value: Option<&str>, options: &[&str], context: Option<&str>) -> FormField {
        FormField {
            name: name.into(),
            label: None,
            context: context.map(str::to_owned),
            heading: None,
            kind,
            value: value.map(str::to_owned),
            options: options.iter().map(|s| (*s).to_owned()).collect(),
            at: "page 1".into(),
        }
    }

    #[test]
    fn radio_groups_by_number_with_export_values() {
        let mut fields = Vec::new();
        for k in 0..24 {
            let v = ["Yes", "No", "DK", "Off"][k % 4];
            fields.push(field(&format!("q{:02}", k + 1), FieldKind::Radio, Some(v), &["Yes", "No", "DK"], None));
            fields.push(field(&format!("q{:02}_comments", k + 1), FieldKind::Text, Some(if k == 2 { "scared" } else { "" }), &[], None));
        }
        fields.push(field("total_yes", FieldKind::Text, Some("6"), &[], None));
        let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
        assert_eq!(counts(&d), (6, 6, 12));
        assert_eq!(d.stated_total, Some(6));
        assert_eq!(d.answers[2].comment.as_deref(), Some("scared"));
    }

    #[test]
    fn checkbox_pairs_found_by_page_text_in_another_order() {
        let mut fields = Vec::new();
        // Field numbers are this area's own; the printed question decides.
        for (k, q) in QUESTIONS.iter().enumerate().rev() {
            let n = 24 - k;
            let yes = k % 2 == 0;
            fields.push(field(&format!("Q{n}_Yes"), FieldKind::Checkbox, yes.then_some("On"), &["On"], Some(q)));
            fields.push(field(&format!("Q{n}_No"), FieldKind::Checkbox, (!yes).then_some("On"), &["On"], Some(&format!("{q} Yes"))));
        }
        let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
        assert_eq!(counts(&d), (12, 12, 0));
        assert_eq!(d.answers[0].answer, Answer::Yes);
        assert_eq!(d.answers[1].answer, Answer::No);
    }

    #[test]
    fn unreadable_custom_export_values_are_a_problem() {
        let fields: Vec<_> = (0..24)
            .map(|k| field(&format!("q{}", k + 1), FieldKind::Radio, Some(if k == 0 { "Choice7" } else { "Yes" }), &[], None))
            .collect();
        let d = recognise(&Document { fields, ..Document::default() }, "1").unwrap();
        assert_eq!(counts(&d), (23, 0, 1));
        assert!(d.problems.iter().any(|p| p.kind == ProblemKind::Unrecognised && p.detail.contains("question 1 ")));
    }
}
