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
