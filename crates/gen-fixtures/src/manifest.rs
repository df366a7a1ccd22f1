//! The manifest: what a correct reader must see in each fixture.

use crate::data::{Case, Counts, Dash};
use serde::Serialize;

#[derive(Serialize, Clone, Debug)]
pub struct Entry {
    pub file: String,
    pub description: String,
    pub truth: Truth,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct DashCounts {
    pub yes: u32,
    pub no: u32,
    pub unknown: u32,
}

impl From<Counts> for DashCounts {
    fn from(c: Counts) -> Self {
        DashCounts { yes: c.yes, no: c.no, unknown: c.unknown }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Att {
    pub name: String,
    pub kind: &'static str,
    pub problem: Option<&'static str>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Truth {
    pub dash: Option<DashCounts>,
    pub dash_format: Option<&'static str>,
    pub attachments: Vec<Att>,
    pub victim_name: Option<String>,
    pub victim_dob: Option<String>,
    pub perpetrator_name: Option<String>,
    pub stated_dash_score: Option<u32>,
    pub police_callouts: Option<u32>,
    pub reasons_ticked: Vec<&'static str>,
    pub pj_rationale_present: bool,
    pub signals: Vec<&'static str>,
    pub forwarded: bool,
    pub conflicting_questions: Vec<u32>,
}

impl Truth {
    /// Nothing readable: no forms, no signals.
    pub fn empty() -> Truth {
        Truth {
            dash: None,
            dash_format: None,
            attachments: Vec::new(),
            victim_name: None,
            victim_dob: None,
            perpetrator_name: None,
            stated_dash_score: None,
            police_callouts: None,
            reasons_ticked: Vec::new(),
            pj_rationale_present: false,
            signals: Vec::new(),
            forwarded: false,
            conflicting_questions: Vec::new(),
        }
    }

    /// What a readable referral form says.
    pub fn referral(mut self, case: &Case) -> Truth {
        self.victim_name = Some(case.victim.full());
        self.victim_dob = Some(case.victim.dob.iso());
        self.perpetrator_name = Some(case.perp.full());
        self.stated_dash_score = case.reasons.stated_score;
        self.police_callouts = case.reasons.callouts;
        self.reasons_ticked = case.reasons.ticked();
        self.pj_rationale_present = case.reasons.rationale.is_some_and(|r| !r.trim().is_empty());
        self
    }

    /// What a readable checklist says.
    pub fn dash(mut self, dash: &Dash, format: &'static str) -> Truth {
        self.dash = Some(dash.counts().into());
        self.dash_format = Some(format);
        self.conflicting_questions = dash.conflicting();
        self
    }

    pub fn atts(mut self, atts: Vec<Att>) -> Truth {
        self.attachments = atts;
        self
    }
}
