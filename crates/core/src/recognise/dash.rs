//! The DASH RIC recogniser: the 24 questions in form fields, table rows or paragraphs, answers
//! read strictly, each with its comment, where it was read and how it was placed.
//!
//! Rows and paragraphs are candidates in reading order; they are placed on the 24 questions by a
//! monotone alignment (wording, printed number, order), so that an unknown wording between two
//! placed questions is placed by position, and sub-headings, totals and comments are skipped; a
//! form printed in another order is placed question by question. What cannot be placed or read is
//! blank with a problem, never guessed, and a document that looks like a DASH but cannot be read in
//! full is a DASH with problems, never "no DASH".

use super::answer::{dash_answer, dash_checked, inline_checked, is_mark, normalise_answer, Answer};
use super::topics::{self, TOPICS};
use crate::document::{Document, FieldKind, FormField, Problem, ProblemKind, Row, Table, CHECKED, UNCHECKED};
use serde::Serialize;
use std::collections::HashMap;

/// Fewer recognised questions than this and a document is not taken for a DASH.
pub const MIN_QUESTIONS: usize = 12;
/// A table (or run of paragraphs) naming this many questions holds the checklist: its rows are
/// preferred over a like-worded row elsewhere (a referral form's own risk questions).
const MIN_TABLE_QUESTIONS: usize = 6;
/// This many questions asked (with an answer or a question mark) and a document looks like a DASH
/// even when fewer than [`MIN_QUESTIONS`] could be placed.
const LOOKS_LIKE_QUESTIONS: usize = 6;
/// A DASH title is looked for in the first blocks only (a referral form names the DASH further down).
const TITLE_BLOCKS: usize = 4;
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

impl Dash {
    /// How many of the 24 questions were placed on the checklist (the rest are blank, each with a
    /// problem).
    pub fn questions_placed(&self) -> usize {
        self.answers.iter().filter(|a| a.found_by.is_some()).count()
    }

    /// Read in part only: a document that looks like a DASH but gave fewer than [`MIN_QUESTIONS`].
    pub fn is_partial(&self) -> bool {
        self.questions_placed() < MIN_QUESTIONS
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DashAnswer {
    pub question: u8,
    pub topic: &'static str,
    pub answer: Answer,
    pub comment: Option<String>,
    /// How the question was placed; `None` when it was not found.
    pub found_by: Option<FoundBy>,
    /// Where it was read, for the coordinator: "page 1, field q01", "sheet 'DASH', row 14"; it ends
    /// with " (by position)" when only its place between two known questions placed it.
    pub at: String,
}

/// How a question was placed on the checklist.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// Its wording names the question's topic.
    Wording,
    /// Only the question number printed with it.
    Number,
    /// Neither: it sits, in order, between two questions placed by wording or number.
    Position,
    /// A form field (PDF AcroForm), by its name, label or the text beside it.
    Field,
    /// Not read: a coordinator gave the answer (`crate::correct`).
    Coordinator,
}

/// One question's reading before the 24 are put together.
#[derive(Debug, Clone)]
struct Reading {
    question: usize,
    found_by: FoundBy,
    answers: Vec<Answer>,
    unreadable: bool,
    comment: Option<String>,
    at: String,
}

/// Reads a DASH from one document, if it holds one. A document that looks like a DASH (its title,
/// or several of the questions with answers) but could not be read in full is still a DASH, with a
/// problem per question not read: never "no DASH".
pub fn recognise(doc: &Document, attachment: &str) -> Option<Dash> {
    let (from_fields, fields_total) = from_fields(doc);
    let (cands, tables_total) = candidates(doc);
    let from_tables = place(&cands);
    let (readings, stated_total) = if distinct(&from_fields) >= distinct(&from_tables) {
        (from_fields, fields_total.or(tables_total))
    } else {
        (from_tables, tables_total.or(fields_total))
    };
    let found = distinct(&readings);
    if found >= MIN_QUESTIONS {
        return Some(assemble(readings, stated_total, attachment));
    }
    let asked = cands.iter().filter(|c| c.question_like && c.wording.is_some()).cloned().collect::<Vec<_>>();
    if !has_dash_title(doc) && distinct_wording(&asked) < LOOKS_LIKE_QUESTIONS {
        return None;
    }
    let mut dash = assemble(readings, stated_total, attachment);
    dash.problems.insert(
        0,
        Problem::new(
            ProblemKind::Unrecognised,
            format!("the attachment looks like a DASH checklist but only {found} of its 24 questions could be read"),
        ),
    );
    Some(dash)
}

/// A DASH title near the top of the document: "DASH Risk Identification Checklist", "DASH RIC",
/// "... (DASH) Risk Identification Checklist". A referral form that mentions the DASH ("DASH
/// score", "please attach the DASH RIC", "DASH completed") is not one.
fn has_dash_title(doc: &Document) -> bool {
    let texts = doc.blocks.iter().take(TITLE_BLOCKS).flat_map(|b| match b {
        crate::document::Block::Paragraph(p) => vec![p.text.as_str()],
        crate::document::Block::Table(t) => t.rows.iter().take(2).flat_map(|r| r.cells.iter().map(String::as_str)).collect(),
    });
    texts.into_iter().any(is_dash_title)
}

fn is_dash_title(text: &str) -> bool {
    let w = topics::words(text);
    let count = w.split(' ').filter(|x| !x.is_empty()).count();
    let has = |k: &str| w.contains(k);
    let named = has(" dash ") || w.ends_with(" dash") || has(" domestic abuse stalking");
    let checklist = has(" risk identification checklist") || has(" ric") && (w.ends_with(" ric") || has(" ric ")) || has(" checklist") || has(" risk checklist");
    let mention = [" score", " attach", " completed", " date", " please", " total", " referral", " enclosed", " see ", " yes", " no "]
        .iter()
        .any(|k| has(k) || w.ends_with(k.trim_end()));
    // A title is made of the title's own words: a sentence that names the DASH ("Send with the
    // DASH RIC to ...") is not one.
    let other = w.split(' ').filter(|x| !x.is_empty() && !TITLE_WORDS.contains(x)).count();
    named && checklist && !mention && count <= 24 && other <= 3 && !text.contains('?') && !text.contains(':') && !text.contains('@')
}

/// Words of the DASH's titles as areas print them.
const TITLE_WORDS: [&str; 31] = [
    "dash", "domestic", "abuse", "stalking", "and", "harassment", "honour", "based", "violence", "hbv", "risk", "identification",
    "checklist", "ric", "safelives", "the", "of", "form", "version", "v", "assessment", "caada", "2009", "model", "questions",
    "for", "use", "by", "idvas", "idva", "marac",
];

fn distinct(readings: &[Reading]) -> usize {
    let mut seen = [false; 25];
    readings.iter().for_each(|r| seen[r.question] = true);
    seen.iter().filter(|s| **s).count()
}

fn assemble(readings: Vec<Reading>, stated_total: Option<u32>, attachment: &str) -> Dash {
    let mut problems = Vec::new();
    let mut answers = Vec::with_capacity(24);
    for q in 1..=24usize {
        let mine: Vec<&Reading> = readings.iter().filter(|r| r.question == q).collect();
        if mine.is_empty() {
            problems.push(Problem::on_question(
                ProblemKind::Unrecognised,
                q as u8,
                format!("question {q} ({}) was not found on the checklist; counted as unknown", TOPICS[q - 1]),
            ));
            answers.push(DashAnswer {
                question: q as u8,
                topic: TOPICS[q - 1],
                answer: Answer::Blank,
                comment: None,
                found_by: None,
                at: String::new(),
            });
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
                problems.push(Problem::on_question(
                    ProblemKind::ConflictingMarks,
                    q as u8,
                    format!("question {q} ({}) has more than one answer marked", TOPICS[q - 1]),
                ));
                Answer::Blank
            }
        };
        if unreadable && marked.is_empty() {
            problems.push(Problem::on_question(
                ProblemKind::Unrecognised,
                q as u8,
                format!("the answer to question {q} ({}) could not be read", TOPICS[q - 1]),
            ));
        }
        let found_by = Some(mine[0].found_by);
        answers.push(DashAnswer { question: q as u8, topic: TOPICS[q - 1], answer, comment, found_by, at: at.join("; ") });
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

/// The answer a checkbox stands for, from the last word of its name or label ("Q3_Yes", "q3.dk"),
/// or the letters after its question number ("q03n", "Q3DK"). `Some(None)`: the word is one the
/// DASH does not read ("Q3_NA").
fn answer_word_in(name: &str) -> Option<Option<Answer>> {
    let last = name.rsplit(['_', '.', ' ', '-']).next().unwrap_or("");
    let word = |w: &str| match dash_answer(w) {
        Some(Answer::Blank) => None,
        None if is_not_applicable(w) => Some(None),
        None => None,
        some => Some(some),
    };
    word(last).or_else(|| {
        // "q01dk": the letters after the last digit, when a number comes before them.
        let after = last.rfind(|c: char| c.is_ascii_digit()).map(|i| &last[i + 1..])?;
        (!after.is_empty() && after.chars().all(|c| c.is_ascii_alphabetic())).then(|| word(after)).flatten()
    })
}

/// The Yes / No / Don't know column headers printed on each page ("page 2" → the headers' spans),
/// for reading a button by where its widget sits, as marks are read in a flat PDF.
fn column_headers(doc: &Document) -> HashMap<&str, Vec<Columns>> {
    let mut out: HashMap<&str, Vec<Columns>> = HashMap::new();
    for block in &doc.blocks {
        let crate::document::Block::Table(t) = block else { continue };
        for row in &t.rows {
            if row.spans.len() != row.cells.len() || row.spans.is_empty() {
                continue;
            }
            if let Some(cols) = header(&row.cells, &row.spans).filter(Columns::has_marks) {
                out.entry(t.at.as_str()).or_default().push(cols);
            }
        }
    }
    out
}

/// Farthest a widget's middle may lie from the header word above it, in points.
const COLUMN_REACH: f32 = 12.0;

/// The answer whose column header is printed above a widget spanning `x`: every header on the
/// page must agree, and the nearest column must be clearly nearer than the next.
fn answer_by_column(x: [f32; 2], headers: &[Columns]) -> Option<Answer> {
    let middle = (x[0] + x[1]) / 2.0;
    let mut found: Option<Answer> = None;
    for cols in headers {
        let mut near: Vec<(f32, Answer)> = [(cols.yes, Answer::Yes), (cols.no, Answer::No), (cols.dont_know, Answer::DontKnow)]
            .into_iter()
            .filter_map(|(i, a)| {
                let [h0, h1] = *cols.spans.get(i?)?;
                let d = if middle < h0 { h0 - middle } else if middle > h1 { middle - h1 } else { 0.0 };
                Some((d, a))
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        let here = match near.as_slice() {
            [(d, a), rest @ ..] if *d <= COLUMN_REACH && rest.first().is_none_or(|(d2, _)| *d2 - *d > COLUMN_REACH / 2.0) => *a,
            _ => return None,
        };
        if found.is_some_and(|f| f != here) {
            return None;
        }
        found = Some(here);
    }
    found
}

/// What a ticked box of question `question` stands for. A box's own on-state says nothing when
/// every box of the question has the same one ("Yes", "On"): its name, its /TU, its own distinct
/// export value or the column header printed above it tell; else a lone box is a Yes (a tick box
/// on its own) and one of several is unread (`Err`): never a guessed Yes.
fn checkbox_meaning(f: &FormField, siblings: &[&FormField], headers: Option<&Vec<Columns>>) -> Result<Option<Answer>, ()> {
    if let Some(m) = answer_word_in(&f.name).or_else(|| f.label.as_deref().and_then(answer_word_in)) {
        return Ok(m);
    }
    // Distinct export values across the question's boxes ("Yes" / "No" / "DK") name them.
    let export = |g: &FormField| g.options.first().and_then(|o| dash_answer(o)).filter(|a| *a != Answer::Blank);
    let exports: Vec<Option<Answer>> = siblings.iter().map(|g| export(g)).collect();
    let distinct = exports.iter().all(Option::is_some)
        && exports.iter().enumerate().all(|(i, a)| !exports[..i].contains(a));
    if siblings.len() > 1 && distinct {
        if let Some(a) = export(f) {
            return Ok(Some(a));
        }
    }
    // An export value other than a bare "Yes" ("No", "DK") names its box even alone.
    if let Some(a) = export(f).filter(|a| *a != Answer::Yes) {
        return Ok(Some(a));
    }
    if let (Some(headers), [w]) = (headers, f.widgets.as_slice()) {
        if let Some(a) = answer_by_column(w.x, headers) {
            return Ok(Some(a));
        }
    }
    if siblings.len() <= 1 {
        return Ok(Some(Answer::Yes));
    }
    Err(())
}

/// A button's value that is the third state beside a Yes and a No ("Y" / "N" / "U"): the DASH has
/// one other answer, and an unknown-style letter or abbreviation names it. N/A, or anything
/// longer, stays unread.
fn third_of_yes_no(f: &FormField, value: &str) -> Option<Answer> {
    if !matches!(f.kind, FieldKind::Radio | FieldKind::Choice) || f.options.len() != 3 {
        return None;
    }
    let read: Vec<Option<Answer>> = f.options.iter().map(|o| dash_answer(o)).collect();
    let others_yes_no = read.contains(&Some(Answer::Yes)) && read.contains(&Some(Answer::No));
    let is_third = f.options.iter().zip(&read).any(|(o, a)| o.trim() == value && a.is_none());
    let unknown_like = matches!(value.trim().to_lowercase().as_str(), "u" | "unk" | "d" | "nk" | "?" | "k" | "dunno");
    (others_yes_no && is_third && unknown_like).then_some(Answer::DontKnow)
}

/// A radio group's chosen export value read by the column its widget sits in, when the value
/// itself is not an answer ("1" / "2" / "3", "Choice2").
fn radio_by_column(f: &FormField, value: &str, headers: Option<&Vec<Columns>>) -> Option<Answer> {
    let headers = headers?;
    let mut chosen = f.widgets.iter().filter(|w| w.export.as_deref().is_some_and(|e| e.trim() == value));
    let w = chosen.next()?;
    if chosen.next().is_some() {
        return None;
    }
    // Every widget of the group must sit in its own column, or the columns tell nothing.
    let columns: Vec<Answer> = f.widgets.iter().filter_map(|w| answer_by_column(w.x, headers)).collect();
    let all_distinct = columns.len() == f.widgets.len() && columns.iter().enumerate().all(|(i, a)| !columns[..i].contains(a));
    all_distinct.then(|| answer_by_column(w.x, headers)).flatten()
}

fn is_not_applicable(s: &str) -> bool {
    matches!(s.trim().to_lowercase().as_str(), "na" | "n/a" | "n.a" | "not applicable" | "notapplicable")
}

fn is_comment_name(s: &str) -> bool {
    let w = topics::words(s);
    [" comment", " note", " detail", " info"].iter().any(|k| w.contains(k))
}

fn is_total_name(s: &str) -> bool {
    let w = topics::words(s);
    [" total", " score", " number of yes"].iter().any(|k| w.contains(k))
}

fn field_question(f: &FormField, seen: &mut HashMap<String, Option<(usize, i32)>>) -> Option<(usize, i32)> {
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

fn from_fields(doc: &Document) -> (Vec<Reading>, Option<u32>) {
    let fields = &doc.fields;
    let headers = column_headers(doc);
    let mut readings = Vec::new();
    let mut total = None;
    let mut comments: Vec<(usize, String)> = Vec::new();
    let mut seen = HashMap::new();
    // The fields that give answers, with their question; check boxes are read against the
    // other boxes of their question.
    let mut placed: Vec<(&FormField, usize)> = Vec::new();
    for f in fields {
        let name_and_label = format!("{} {}", humanise(&f.name), f.label.as_deref().unwrap_or(""));
        if f.kind == FieldKind::Text && is_total_name(&name_and_label) && topics::number_in(&f.name).is_none() {
            if let Some(n) = f.value.as_deref().and_then(|v| v.trim().parse::<u32>().ok()) {
                total = Some(n);
            }
            continue;
        }
        let Some((question, _)) = field_question(f, &mut seen) else { continue };
        if f.kind == FieldKind::Text && is_comment_name(&name_and_label) {
            if let Some(v) = f.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                comments.push((question, v.to_owned()));
            }
            continue;
        }
        placed.push((f, question));
    }
    for &(f, question) in &placed {
        let at = format!("{}, field {}", f.at, f.name);
        let page_headers = headers.get(f.at.as_str());
        let value = f.value.as_deref().map(str::trim).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("off"));
        let (answers, unreadable) = match f.kind {
            FieldKind::Checkbox => {
                let siblings: Vec<&FormField> =
                    placed.iter().filter(|(g, q)| *q == question && g.kind == FieldKind::Checkbox).map(|(g, _)| *g).collect();
                match (value, checkbox_meaning(f, &siblings, page_headers)) {
                    (None, _) => (vec![], false),
                    (Some(_), Ok(Some(a))) => (vec![a], false),
                    // A ticked "N/A" box: not a No, not a Yes; a ticked box nothing names.
                    (Some(_), Ok(None) | Err(())) => (vec![], true),
                }
            }
            FieldKind::Radio | FieldKind::Choice | FieldKind::Text => match value {
                None => (vec![], false),
                Some(v) => match dash_answer(v).or_else(|| dash_answer(&v.to_lowercase().replace(['_', '-'], " "))) {
                    Some(Answer::Blank) => (vec![], false),
                    Some(a) => (vec![a], false),
                    // Free text in a text field is not its answer; a short mark or N/A is unread.
                    None if f.kind == FieldKind::Text && v.chars().count() > 3 && !is_not_applicable(v) => continue,
                    None => match radio_by_column(f, v, page_headers)
                        .filter(|_| f.kind == FieldKind::Radio)
                        .or_else(|| third_of_yes_no(f, v))
                    {
                        Some(a) => (vec![a], false),
                        None => (vec![], true),
                    },
                },
            },
            FieldKind::Other => continue,
        };
        readings.push(Reading { question, found_by: FoundBy::Field, answers, unreadable, comment: None, at });
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

/// A header row: Yes / No / Don't know columns, or an answer column. A row holding check boxes is
/// never a header: "☐ Yes ☐ No ☒ DK" is an answer, though its words are a header's (issue 11: every
/// answer row of a DOCX with legacy check boxes was taken for a header, and no question was left).
fn header(cells: &[String], spans: &[[f32; 2]]) -> Option<Columns> {
    if cells.iter().any(|c| c.contains([CHECKED, UNCHECKED])) {
        return None;
    }
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
            "answer" | "response" => cols.answer = Some(i),
            _ if names_the_answers(w) => cols.answer = Some(i),
            _ if w.starts_with("comment") || w.starts_with("notes") || w.starts_with("details") || w.starts_with("further info") => {
                cols.comment = Some(i)
            }
            _ => {}
        }
    }
    let is_header = cols.has_marks() || cols.answer.is_some();
    // A question with "Yes / No" typed beside it is a row, not a header.
    (is_header && !cells.iter().any(|c| topics::best(c).is_some())).then_some(cols)
}

/// A header cell that lists the answers in one column: "Yes/No/Don't know", "Y / N / DK", "Yes or
/// No": answer words only, Yes and No among them (`w` as [`topics::words`] gives it).
fn names_the_answers(w: &str) -> bool {
    const ANSWER_WORDS: [&str; 16] =
        ["yes", "y", "no", "n", "dk", "don", "dont", "t", "do", "not", "know", "known", "unknown", "nk", "u", "or"];
    let list: Vec<&str> = w.split_whitespace().collect();
    list.iter().all(|x| ANSWER_WORDS.contains(x))
        && list.iter().any(|x| matches!(*x, "yes" | "y"))
        && list.iter().any(|x| matches!(*x, "no" | "n"))
}

/// A row of a table, or a paragraph, that may hold one question and its answer.
#[derive(Debug, Clone)]
struct Candidate {
    /// The question's text as read (several lines joined when it wraps).
    text: String,
    /// The question its wording names, with the clues' score.
    wording: Option<(usize, i32)>,
    /// The question number printed with it.
    number: Option<usize>,
    /// Worded like a question or carrying an answer: it can be placed by position.
    question_like: bool,
    answers: Vec<Answer>,
    unreadable: bool,
    comment: Option<String>,
    at: String,
    /// The table (or run of paragraphs) it is in.
    group: usize,
}

/// The candidates of a document in reading order (tables and paragraphs), with the total written
/// on it.
fn candidates(doc: &Document) -> (Vec<Candidate>, Option<u32>) {
    let mut out: Vec<Candidate> = Vec::new();
    let mut total = None;
    let mut carried: Option<Columns> = None;
    let mut group = 0;
    let mut last_was_paragraph = false;
    for block in &doc.blocks {
        match block {
            crate::document::Block::Table(table) => {
                group += 1;
                last_was_paragraph = false;
                let start = out.len();
                let (cols, t) = from_table(table, carried.clone(), group, &mut out);
                total = total.or(t);
                // The header carries to a continuation table only from a table of questions.
                if cols.is_some() && distinct_wording(&out[start..]) >= 3 {
                    carried = cols;
                }
            }
            crate::document::Block::Paragraph(p) => {
                if !last_was_paragraph {
                    group += 1;
                }
                last_was_paragraph = true;
                from_line(&p.text, &p.at, group, &mut out);
            }
        }
    }
    (out, total)
}

fn distinct_wording(cands: &[Candidate]) -> usize {
    let mut seen = [false; 25];
    cands.iter().filter_map(|c| c.wording).for_each(|w| seen[w.0] = true);
    seen.iter().filter(|s| **s).count()
}

fn from_table(table: &Table, carried: Option<Columns>, group: usize, out: &mut Vec<Candidate>) -> (Option<Columns>, Option<u32>) {
    let mut cols = carried;
    let mut total = None;
    let first_here = out.len();
    let mut previous_row: Option<usize> = None;
    for (r, row) in table.rows.iter().enumerate() {
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
        let at = format!("{}, {}", table.at, row.at);
        let qcell = question_cell(&row.cells, cols.as_ref());
        // A wrapped question: a lone line with no number and no mark continues the row above.
        let filled: Vec<&String> = row.cells.iter().filter(|c| !c.trim().is_empty()).collect();
        if let (true, [line]) = (out.len() > first_here, filled.as_slice()) {
            let text = line.trim();
            let prev = out.last_mut().filter(|p| !p.text.is_empty());
            if let Some(prev) = prev {
                if topics::leading_number(text).is_none()
                    && normalise_answer(text).is_none()
                    && inline_checked(text).is_none()
                    && !starts_another_question(text, prev.wording, row.spans.is_empty())
                {
                    let joined = format!("{} {text}", prev.text);
                    if let Some(found) = topics::best(&joined) {
                        prev.wording = Some(found);
                    }
                    prev.question_like |= joined.contains('?');
                    prev.text = joined;
                    previous_row = Some(r);
                    continue;
                }
            }
        }
        let Some((q, wording, number)) = qcell else {
            // A total row is never the answer of the question above it.
            let is_total = row_total(&row.cells).is_some() || row.cells.iter().any(|c| is_total_name(c) && c.len() < 60);
            // An answer on the line below its question.
            if let Some(prev) =
                out.last_mut().filter(|p| !is_total && previous_row == Some(r.wrapping_sub(1)) && p.answers.is_empty() && !p.unreadable)
            {
                let (answers, unreadable, _) = read_row(&row.cells, None, cols.as_ref());
                if !answers.is_empty() || unreadable {
                    prev.answers = answers;
                    prev.unreadable = unreadable;
                    prev.question_like = true;
                    continue;
                }
            }
            if total.is_none() {
                total = row_total(&row.cells);
            }
            continue;
        };
        let (answers, unreadable, comment) = read_row(&row.cells, Some(q), cols.as_ref());
        let text = row.cells[q].clone();
        let question_like = text.contains('?') || !answers.is_empty() || unreadable;
        out.push(Candidate { text, wording, number, question_like, answers, unreadable, comment, at, group });
        previous_row = Some(r);
    }
    (cols, total)
}

/// Whether a lone line under a question is a question of its own rather than the rest of the one
/// above: it starts with a capital and names another question, or (in a table with a grid, where
/// a wrapped question stays in its cell) it is a whole question ending in "?". A question left
/// unanswered is still a row ("Has ... mistreated an animal?" with no mark is not the end of the
/// question above it).
fn starts_another_question(text: &str, above: Option<(usize, i32)>, grid: bool) -> bool {
    if !text.chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    let names_another = topics::best(text).is_some_and(|(q, _)| above.is_none_or(|(a, _)| a != q));
    names_another || (grid && text.trim_end().ends_with('?'))
}

/// A paragraph: a question with its answer on the line ("1. Is the abuse getting worse? ☒ Yes ☐
/// No"), a question whose answer is on the next line, that answer, or the rest of a wrapped question.
fn from_line(text: &str, at: &str, group: usize, out: &mut Vec<Candidate>) {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_QUESTION_CHARS || is_dash_title(text) {
        return;
    }
    let cells = [text.to_owned()];
    let prev = out.last_mut().filter(|p| p.group == group && p.answers.is_empty() && !p.unreadable);
    let found = question_cell(&cells, None);
    if let Some(prev) = prev {
        // The answer on its own line under the question.
        if found.as_ref().is_none_or(|f| f.1.is_none() && f.2.is_none()) {
            let (answers, unreadable, _) = read_row(&cells, None, None);
            if !answers.is_empty() || unreadable {
                prev.answers = answers;
                prev.unreadable = unreadable;
                prev.question_like = true;
                return;
            }
        }
        // The rest of a question that wrapped onto the next paragraph.
        if found.as_ref().is_none_or(|f| f.1.is_none() && f.2.is_none()) && !prev.text.trim_end().ends_with('?') && prev.wording.is_none() {
            let joined = format!("{} {text}", prev.text);
            prev.wording = topics::best(&joined);
            prev.question_like |= joined.contains('?');
            prev.text = joined;
            return;
        }
    }
    let Some((_, wording, number)) = found else { return };
    let (answers, unreadable, comment) = read_row(&cells, Some(0), None);
    let question_like = text.contains('?') || !answers.is_empty() || unreadable;
    // A paragraph is a candidate when it asks or names something; prose that does neither is not.
    if wording.is_none() && number.is_none() && !question_like {
        return;
    }
    out.push(Candidate { text: text.to_owned(), wording, number, question_like, answers, unreadable, comment, at: at.to_owned(), group });
}

/// The cell of a row that holds the question: the one whose wording names a question best, else a
/// numbered question we cannot word, else the longest text that is not an answer. With the
/// question its wording names and the number printed with it.
/// A cell that holds an answer: a word ("Yes", "DK"), a mark ("✔", "X") or ticked boxes.
fn is_answer_cell(cell: &str) -> bool {
    dash_answer(cell).is_some_and(|a| a != Answer::Blank) || is_mark(cell) == Some(true) || inline_checked(cell).is_some()
}

fn question_cell(cells: &[String], cols: Option<&Columns>) -> Option<(usize, Option<(usize, i32)>, Option<usize>)> {
    let answer_columns = |i: usize| cols.is_some_and(|c| [c.comment, c.yes, c.no, c.dont_know, c.answer].contains(&Some(i)));
    let mut best: Option<(usize, usize, i32)> = None;
    let mut longest: Option<(usize, usize)> = None;
    for (i, cell) in cells.iter().enumerate() {
        let chars = cell.chars().count();
        if chars > MAX_QUESTION_CHARS || answer_columns(i) {
            continue;
        }
        // After a question and its answer comes the comment: its words ("breached the order")
        // never make it the row's question.
        if best.is_some() && is_answer_cell(cell) {
            break;
        }
        if let Some((q, score)) = topics::best(cell) {
            if best.is_none_or(|b| score > b.2) {
                best = Some((i, q, score));
            }
        }
        let letters = cell.chars().filter(|c| c.is_alphabetic()).count();
        // The cheap tests first: a cell no longer than the longest so far is never read as words.
        if letters >= 8 && longest.is_none_or(|l| chars > l.1) && dash_answer(cell).is_none() && !is_total_name(cell) {
            longest = Some((i, chars));
        }
    }
    let number_at = |q: usize| -> Option<usize> {
        // "12. Is the abuse ...", or a short number cell before the question: "12", "Q12", "12)".
        topics::leading_number(&cells[q]).or_else(|| {
            cells[..q].iter().rev().map(|c| c.trim()).find(|c| !c.is_empty() && c.len() <= 4).and_then(topics::leading_number)
        })
    };
    if let Some((i, q, score)) = best {
        return Some((i, Some((q, score)), number_at(i)));
    }
    let (i, _) = longest?;
    // A numbered question whose wording we do not know: only its number speaks, and only when it
    // reads as a question.
    let number = number_at(i).filter(|_| cells[i].len() > 15 && cells[i].contains('?'));
    Some((i, None, number))
}

/// How well a candidate fits a question, and by what; `None` when it must not be placed there.
fn fit(c: &Candidate, q: usize, dense: bool) -> Option<(i32, FoundBy)> {
    let bonus = if dense { 3 } else { 0 } + if c.number == Some(q) { 10 } else { 0 };
    match c.wording {
        Some((w, score)) if w == q => Some((20 + score.min(20) + bonus, FoundBy::Wording)),
        // Worded as another question: never placed here, whatever its number or position.
        Some(_) => None,
        None if c.number == Some(q) => Some((15 + bonus, FoundBy::Number)),
        None if c.question_like => Some((1, FoundBy::Position)),
        None => None,
    }
}

/// Places candidates on the 24 questions: a monotone alignment (questions come in order) scored by
/// wording, printed number and order, so that a question worded in a way we do not know, sitting
/// between two placed ones, is placed by its position. A form printed in another order is placed
/// question by question (the best row per question) when that places clearly more.
fn place(cands: &[Candidate]) -> Vec<Reading> {
    let n = cands.len();
    // The questions each table (or run of paragraphs) names, in one pass.
    let mut named: std::collections::HashMap<usize, [bool; 25]> = std::collections::HashMap::new();
    for c in cands {
        if let Some((q, _)) = c.wording {
            named.entry(c.group).or_insert([false; 25])[q] = true;
        }
    }
    let dense: Vec<bool> = cands
        .iter()
        .map(|c| named.get(&c.group).is_some_and(|seen| seen.iter().filter(|s| **s).count() >= MIN_TABLE_QUESTIONS))
        .collect();
    // score[i][q]: best over the first i candidates and the first q questions; O(candidates × 24).
    const SKIP_CANDIDATE: u8 = 0;
    const SKIP_QUESTION: u8 = 1;
    const MATCH: u8 = 2;
    let mut score = vec![[0i32; 25]; n + 1];
    let mut step = vec![[SKIP_CANDIDATE; 25]; n + 1];
    for i in 1..=n {
        for q in 1..=24 {
            let mut best = (score[i - 1][q], SKIP_CANDIDATE);
            if score[i][q - 1] > best.0 {
                best = (score[i][q - 1], SKIP_QUESTION);
            }
            if let Some((m, _)) = fit(&cands[i - 1], q, dense[i - 1]) {
                if score[i - 1][q - 1] + m > best.0 {
                    best = (score[i - 1][q - 1] + m, MATCH);
                }
            }
            score[i][q] = best.0;
            step[i][q] = best.1;
        }
    }
    let mut matched: Vec<(usize, usize, FoundBy)> = Vec::new();
    let (mut i, mut q) = (n, 24);
    while i > 0 && q > 0 {
        match step[i][q] {
            MATCH => {
                if let Some((_, by)) = fit(&cands[i - 1], q, dense[i - 1]) {
                    matched.push((i - 1, q, by));
                }
                i -= 1;
                q -= 1;
            }
            SKIP_QUESTION => q -= 1,
            _ => i -= 1,
        }
    }
    matched.reverse();
    let matched = anchored(cands, matched);
    let anchors = matched.iter().filter(|m| m.2 != FoundBy::Position).count();

    // The best row per question, in any order.
    let by_question = best_per_question(cands, &dense);
    let placed_any_order = by_question.iter().filter(|c| c.is_some()).count();
    let mut chosen: [Option<(usize, FoundBy)>; 25] = [None; 25];
    if anchors + 2 < placed_any_order {
        for (q, c) in by_question.iter().enumerate() {
            chosen[q] = c.map(|i| (i, found_by(&cands[i], q)));
        }
    } else {
        for (i, q, by) in &matched {
            chosen[*q] = Some((*i, *by));
        }
        // A question printed out of order, or placed by position where its own wording is elsewhere.
        let used: std::collections::HashSet<usize> = matched.iter().map(|m| m.0).collect();
        for (q, c) in by_question.iter().enumerate() {
            if let Some(i) = c.filter(|i| !used.contains(i)) {
                if chosen[q].is_none_or(|(_, by)| by == FoundBy::Position) {
                    chosen[q] = Some((i, found_by(&cands[i], q)));
                }
            }
        }
    }
    chosen
        .iter()
        .enumerate()
        .filter_map(|(q, c)| c.map(|(i, by)| (q, i, by)))
        .map(|(q, i, by)| {
            let c = &cands[i];
            let at = if by == FoundBy::Position { format!("{} (by position)", c.at) } else { c.at.clone() };
            Reading { question: q, found_by: by, answers: c.answers.clone(), unreadable: c.unreadable, comment: c.comment.clone(), at }
        })
        .collect()
}

fn found_by(c: &Candidate, q: usize) -> FoundBy {
    if c.wording.is_some_and(|w| w.0 == q) {
        FoundBy::Wording
    } else {
        FoundBy::Number
    }
}

/// Keeps a question placed by position only where it sits between two questions placed by wording
/// or number, and only when the candidates between those two fill exactly the questions between
/// them (one each, in order); otherwise those questions stay unplaced, for a person.
fn anchored(cands: &[Candidate], matched: Vec<(usize, usize, FoundBy)>) -> Vec<(usize, usize, FoundBy)> {
    let anchors: Vec<(usize, usize)> = matched.iter().filter(|m| m.2 != FoundBy::Position).map(|m| (m.0, m.1)).collect();
    matched
        .into_iter()
        .filter(|&(i, _, by)| {
            if by != FoundBy::Position {
                return true;
            }
            let before = anchors.iter().rev().find(|a| a.0 < i);
            let after = anchors.iter().find(|a| a.0 > i);
            let (Some(&(ia, qa)), Some(&(ib, qb))) = (before, after) else { return false };
            let between = cands[ia + 1..ib].iter().filter(|c| c.wording.is_none() && c.number.is_none() && c.question_like).count();
            between == qb - qa - 1
        })
        .collect()
}

/// For each question, the candidate that names it best by wording (or, failing that, by number):
/// the placement when the form is printed in another order.
/// A row in the checklist's own table wins over a like-worded row elsewhere.
fn best_per_question(cands: &[Candidate], dense: &[bool]) -> [Option<usize>; 25] {
    let mut best: [Option<(usize, i32)>; 25] = [None; 25];
    for (i, c) in cands.iter().enumerate() {
        let own = if dense[i] { 3 } else { 0 };
        let claim = match (c.wording, c.number) {
            (Some((q, score)), n) => Some((q, 10 + score + own + if n == Some(q) { 5 } else { 0 })),
            (None, Some(q)) => Some((q, 1)),
            (None, None) => None,
        };
        if let Some((q, score)) = claim {
            if best[q].is_none_or(|b| score > b.1) {
                best[q] = Some((i, score));
            }
        }
    }
    best.map(|b| b.map(|(i, _)| i))
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

/// The answer, whether a mark could not be read, and the comment of a row whose question is in
/// cell `qcell` (`None`: a row holding only an answer, under its question).
fn read_row(cells: &[String], qcell: Option<usize>, cols: Option<&Columns>) -> (Vec<Answer>, bool, Option<String>) {
    let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(String::as_str);
    let mut comment = cols.and_then(|c| cell(c.comment)).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(c) = cols.filter(|c| c.has_marks()) {
        let mut answers = Vec::new();
        let mut unreadable = false;
        for (col, a) in [(c.yes, Answer::Yes), (c.no, Answer::No), (c.dont_know, Answer::DontKnow)] {
            let Some(text) = cell(col) else { continue };
            // Labelled boxes in one cell spanning the columns ("☐ Yes ☒ No ☐ DK"): the labels
            // say which answer, not the column the cell starts in. One box in a column ("☒",
            // "☒ ticked") is that column's mark.
            let several_boxes = text.chars().filter(|c| *c == CHECKED || *c == UNCHECKED).count() >= 2;
            if let Some((v, unread)) = dash_checked(text).filter(|_| several_boxes) {
                unreadable |= unread;
                answers.extend(v.into_iter().filter(|x| !answers.contains(x)).collect::<Vec<_>>());
                continue;
            }
            match dash_checked(text).map(|(v, _)| Some(!v.is_empty())).unwrap_or_else(|| is_mark(text)) {
                Some(true) => {
                    if !answers.contains(&a) {
                        answers.push(a);
                    }
                }
                None => unreadable = true,
                Some(false) => {}
            }
        }
        let unreadable = unreadable && answers.is_empty();
        return (answers, unreadable, comment);
    }
    if let Some(text) = cols.and_then(|c| cell(c.answer)) {
        return match dash_checked(text) {
            Some((v, unread)) => (v, unread, comment),
            None => match dash_answer(text) {
                Some(a) => (Some(a).filter(|a| *a != Answer::Blank).into_iter().collect(), false, comment),
                None => (vec![], true, comment),
            },
        };
    }
    // No header: the cells after the question. Every cell of check boxes counts ("☐ Yes" | "☒ No"
    // | "☐ DK" in three cells); else the first cell that reads as an answer; a short mark that
    // does not ("x", "✗", "N/A") is unread.
    let from = qcell.map_or(0, |q| q + 1);
    let mut answers: Option<Vec<Answer>> = None;
    let mut unreadable = false;
    let mut boxes_seen = false;
    for text in cells.iter().skip(from) {
        if let Some((v, unread)) = dash_checked(text) {
            boxes_seen = true;
            unreadable |= unread;
            let all = answers.get_or_insert_with(Vec::new);
            for a in v {
                if !all.contains(&a) {
                    all.push(a);
                }
            }
            continue;
        }
        if answers.is_none() && !boxes_seen {
            match dash_answer(text) {
                Some(Answer::Blank) => continue,
                Some(a) if text.chars().count() <= 40 => {
                    answers = Some(vec![a]);
                    continue;
                }
                None if text.trim().chars().count() <= 3 || names_answers(text) => {
                    unreadable = true;
                    continue;
                }
                _ => {}
            }
        }
        if comment.is_none() && !text.trim().is_empty() {
            comment = Some(text.trim().to_owned());
        }
    }
    // The answer may sit in the question cell itself: "... harass you? ☒ Yes ☐ No" or "...? Yes".
    if answers.is_none() && !unreadable {
        if let Some(q) = qcell.and_then(|q| cells.get(q)) {
            if let Some((v, unread)) = dash_checked(q) {
                return (v, unread, comment);
            }
            if let Some(tail) = q.rsplit_once('?').map(|(_, t)| t.trim()).filter(|t| !t.is_empty()) {
                match dash_answer(tail) {
                    Some(Answer::Blank) => {}
                    Some(a) => answers = Some(vec![a]),
                    None if tail.chars().count() <= 3 => unreadable = true,
                    None => {}
                }
            }
        }
    }
    let answers = answers.unwrap_or_default();
    let unreadable = unreadable && answers.is_empty();
    (answers, unreadable, comment)
}

/// A short text that names answers without being one ("Yes / No", "Y/N/DK" left as printed,
/// "yes or no"): not a comment, an answer nobody can read.
fn names_answers(text: &str) -> bool {
    let w = topics::words(text);
    let mut words = w.split(' ').filter(|w| !w.is_empty()).peekable();
    text.chars().count() <= 40
        && words.peek().is_some()
        && words.all(|w| matches!(w, "yes" | "no" | "y" | "n" | "dk" | "na" | "don" | "dont" | "t" | "know" | "not" | "known" | "unknown" | "or"))
}

#[cfg(test)]
mod tests;
