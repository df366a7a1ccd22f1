//! Recognisers over the neutral document shape: the DASH RIC ([`dash`]) and the referral form
//! ([`referral`]), with the answer and date normalisation they share ([`answer`]) and the DASH
//! question topics ([`topics`]). Pure functions of documents.

pub mod answer;
pub mod dash;
pub mod referral;
pub mod topics;

use crate::document::{Document, Problem, ProblemKind};
use dash::Dash;
use referral::{Referral, Synonyms};

/// What the attachments of one email were recognised as.
#[derive(Debug, Clone, Default)]
pub struct Recognised {
    pub dash: Option<Dash>,
    pub referral: Option<Referral>,
}

/// Recognises the DASH and the referral form among the documents of one email (attachment
/// position, document). A single document may hold both.
pub fn recognise(docs: &[(&str, &Document)], synonyms: &Synonyms, pivot_year: i32) -> Recognised {
    let mut dashes: Vec<Dash> = docs.iter().filter_map(|(at, d)| dash::recognise(d, at)).collect();
    // A document read in part only (a referral form with a few risk questions of its own, a
    // checklist we could not place) does not stand against a checklist read in full.
    if dashes.iter().any(|d| !d.is_partial()) {
        dashes.retain(|d| !d.is_partial());
    }
    // The most complete checklist wins; another that disagrees on the count is a problem.
    dashes.sort_by_key(|d| (d.problems.len(), std::cmp::Reverse(d.yes)));
    let mut dash = dashes.first().cloned();
    if let Some(d) = dash.as_mut() {
        if dashes.iter().skip(1).any(|o| o.yes != d.yes || o.no != d.no) {
            d.problems.push(Problem::new(
                ProblemKind::ScoreMismatch,
                "two DASH checklists were attached and their answers differ",
            ));
        }
    }
    let referral = referral::recognise(docs, synonyms, pivot_year);
    Recognised { dash, referral: (!referral.is_empty()).then_some(referral) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Block, Paragraph, Row, Table};

    fn rows(texts: &[&str], answer: &str) -> Block {
        let rows = texts
            .iter()
            .enumerate()
            .map(|(k, q)| Row { at: format!("row {}", k + 1), cells: vec![(*q).to_owned(), answer.to_owned()], spans: Vec::new() })
            .collect();
        Block::Table(Table { at: "table 1".into(), rows })
    }

    #[test]
    fn a_referral_form_with_risk_questions_of_its_own_does_not_stand_against_the_checklist() {
        let checklist = Document { blocks: vec![rows(&crate::recognise::topics::tests::LABELS, "Yes")], ..Document::default() };
        let referral = Document {
            blocks: vec![
                Block::Paragraph(Paragraph { text: "MARAC referral form".into(), at: "paragraph 1".into() }),
                rows(&["Is the victim pregnant?", "Is the victim very frightened?", "Has he threatened to kill her?", "Is there conflict over child contact?",
                    "Is the abuse getting worse?", "Does he have a criminal history?"], "No"),
            ],
            ..Document::default()
        };
        let alone = recognise(&[("1", &referral)], &Synonyms::default(), 2025);
        assert!(alone.dash.as_ref().is_some_and(|d| d.is_partial()), "six risk questions look like a DASH read in part");
        let both = recognise(&[("1", &referral), ("2", &checklist)], &Synonyms::default(), 2025);
        let d = both.dash.expect("the checklist");
        assert_eq!((d.yes, d.attachment.as_str()), (24, "2"));
        assert!(d.problems.is_empty(), "{:?}", d.problems);
    }
}
