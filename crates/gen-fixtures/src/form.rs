//! A word-processor document as blocks (headings, paragraphs, label/value tables, grids), and
//! the referral forms and DASH tables of several areas expressed in it. `docx` and `odf`
//! render the same blocks.

use crate::data::{question, Ans, Case, Dash};

/// How a ticked / unticked box is shown in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickStyle {
    /// "Yes" / "No" typed.
    YesNo,
    /// ☒ / ☐ typed as characters.
    Glyph,
    /// "X" / empty.
    X,
    /// "Ticked" / "Not ticked".
    Word,
    /// Word content-control checkboxes (w14:checkbox) with ☒ / ☐ shown.
    ContentControl,
    /// Legacy form-field checkboxes (FORMCHECKBOX with w:ffData).
    Legacy,
}

#[derive(Clone, Debug)]
pub enum Val {
    Text(String),
    Tick(bool),
}

pub fn t(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

#[derive(Clone, Debug)]
pub enum Block {
    Title(String),
    Para(String),
    Heading(String),
    /// Two columns: label | value.
    Kv(Vec<(String, Val)>),
    /// A table with a header row.
    Grid {
        header: Vec<String>,
        widths: Vec<u32>,
        rows: Vec<Vec<Val>>,
    },
}

/// The wording of one area's referral form.
pub struct Labels {
    pub title: &'static str,
    pub intro: &'static str,
    pub sec_referrer: &'static str,
    pub sec_reason: &'static str,
    pub sec_victim: &'static str,
    pub sec_perp: &'static str,
    pub sec_children: &'static str,
    pub sec_risk: &'static str,
    pub referrer_name: &'static str,
    pub agency: &'static str,
    pub role: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub date: &'static str,
    pub visible: &'static str,
    pub score: &'static str,
    pub pj: &'static str,
    pub rationale: &'static str,
    pub escalation: &'static str,
    pub callouts: &'static str,
    pub repeat: &'static str,
    pub v_name: &'static str,
    pub v_aliases: &'static str,
    pub v_dob: &'static str,
    pub v_gender: &'static str,
    pub v_address: &'static str,
    pub v_postcode: &'static str,
    pub v_phone: &'static str,
    pub v_aware: &'static str,
    pub v_language: &'static str,
    pub p_name: &'static str,
    pub p_dob: &'static str,
    pub p_address: &'static str,
    pub p_relationship: &'static str,
    pub summary: &'static str,
    pub dash_date: &'static str,
    pub police_ref: &'static str,
    pub agencies: &'static str,
    /// Children as a grid (name, DOB, school) instead of name | DOB rows.
    pub children_grid: bool,
    pub tick: TickStyle,
}

/// Kingsmere (the samples' layout A).
pub const KINGSMERE: Labels = Labels {
    title: "Kingsmere MARAC Referral Form",
    intro: "OFFICIAL-SENSITIVE when complete. Send with the DASH RIC to marac@marac.example.test (secure e-mail only).",
    sec_referrer: "1. Referrer details",
    sec_reason: "2. Reason for referral",
    sec_victim: "3. Victim details",
    sec_perp: "4. Perpetrator details",
    sec_children: "5. Children and other household members (name / date of birth)",
    sec_risk: "6. Risk summary",
    referrer_name: "Referrer name",
    agency: "Agency",
    role: "Role",
    email: "Email",
    phone: "Telephone",
    date: "Date of referral",
    visible: "Visible high risk (DASH score 14 or more)",
    score: "DASH score",
    pj: "Professional judgement",
    rationale: "Professional judgement rationale",
    escalation: "Potential escalation",
    callouts: "Number of police call-outs in last 12 months",
    repeat: "Repeat MARAC referral",
    v_name: "Name",
    v_aliases: "Aliases / other names",
    v_dob: "Date of birth",
    v_gender: "Gender",
    v_address: "Address",
    v_postcode: "Postcode",
    v_phone: "Safe contact number",
    v_aware: "Is the victim aware of the referral?",
    v_language: "Interpreter needed / language",
    p_name: "Name",
    p_dob: "Date of birth",
    p_address: "Address",
    p_relationship: "Relationship to victim",
    summary: "Summary of risk / current incident",
    dash_date: "Date DASH completed",
    police_ref: "Police reference (if known)",
    agencies: "Other agencies involved",
    children_grid: false,
    tick: TickStyle::YesNo,
};

/// Harrowfield: "client" wording, ☒ / ☐ glyphs.
pub const HARROWFIELD: Labels = Labels {
    title: "Harrowfield MARAC - Referral to the Multi-Agency Risk Assessment Conference",
    intro: "Please complete all sections. Incomplete referrals will be returned. Attach the DASH RIC.",
    sec_referrer: "Section A - About you (the referrer)",
    sec_reason: "Section B - Referral criteria (tick all that apply)",
    sec_victim: "Section C - Client details",
    sec_perp: "Section D - Alleged abuser",
    sec_children: "Section E - Children in the household",
    sec_risk: "Section F - Risk information",
    referrer_name: "Your name",
    agency: "Organisation",
    role: "Job title",
    email: "Secure email address",
    phone: "Contact telephone",
    date: "Date",
    visible: "Visible high risk - 14 or more ticks on the DASH",
    score: "Number of 'yes' ticks on DASH",
    pj: "Professional judgement",
    rationale: "If professional judgement, explain why the client is at high risk",
    escalation: "Potential escalation (3+ police call-outs in 12 months)",
    callouts: "Number of DA call-outs in the last 12 months",
    repeat: "Repeat referral (referred to Harrowfield MARAC in the last 12 months)",
    v_name: "Client name",
    v_aliases: "Also known as",
    v_dob: "Client DOB",
    v_gender: "Gender identity",
    v_address: "Current address",
    v_postcode: "Post code",
    v_phone: "Safe number",
    v_aware: "Client aware of referral?",
    v_language: "First language / interpreter",
    p_name: "Alleged abuser's name",
    p_dob: "D.O.B.",
    p_address: "Alleged abuser's address",
    p_relationship: "Relationship to client",
    summary: "Brief summary of current incident and risks",
    dash_date: "DASH completed on",
    police_ref: "Crime / incident number",
    agencies: "Agencies currently involved",
    children_grid: true,
    tick: TickStyle::Glyph,
};

/// Wexcombe: "person at risk" / "person causing harm", X marks.
pub const WEXCOMBE: Labels = Labels {
    title: "WEXCOMBE MULTI-AGENCY RISK ASSESSMENT CONFERENCE (MARAC) REFERRAL",
    intro: "Secure email only. Do not tell the person causing harm about this referral.",
    sec_referrer: "Referring agency",
    sec_reason: "Grounds for referral",
    sec_victim: "Person at risk",
    sec_perp: "Person causing harm",
    sec_children: "Children / dependants",
    sec_risk: "Risk summary",
    referrer_name: "Name of referrer",
    agency: "Referring agency",
    role: "Position",
    email: "E-mail",
    phone: "Phone",
    date: "Date of referral",
    visible: "Visible high risk",
    score: "DASH RIC score (number of Yes answers)",
    pj: "Professional judgement",
    rationale: "Rationale for professional judgement",
    escalation: "Potential escalation",
    callouts: "Police call-outs (last 12 months)",
    repeat: "Repeat MARAC",
    v_name: "Full name of person at risk",
    v_aliases: "Other names used",
    v_dob: "Date of birth (person at risk)",
    v_gender: "Sex",
    v_address: "Address",
    v_postcode: "Postcode",
    v_phone: "Safe telephone number",
    v_aware: "Has the person at risk been told about this referral?",
    v_language: "Language / interpreter required",
    p_name: "Name of person causing harm",
    p_dob: "Date of birth (person causing harm)",
    p_address: "Address of person causing harm",
    p_relationship: "Relationship to person at risk",
    summary: "Summary of the risks and the current incident",
    dash_date: "Date RIC completed",
    police_ref: "Police URN / occurrence number",
    agencies: "Other agencies involved",
    children_grid: true,
    tick: TickStyle::X,
};

/// An IDVA service's own form: "survivor" wording, "Ticked" / "Not ticked".
pub const SURVIVOR: Labels = Labels {
    title: "Referral to MARAC (IDVA service form)",
    intro: "Completed by the IDVA with the survivor's knowledge where it is safe.",
    sec_referrer: "IDVA / referrer",
    sec_reason: "Why are you referring?",
    sec_victim: "Survivor",
    sec_perp: "Perpetrator / alleged abuser",
    sec_children: "Children",
    sec_risk: "Summary",
    referrer_name: "Referrer",
    agency: "Service",
    role: "Role",
    email: "Email (secure)",
    phone: "Tel",
    date: "Referral date",
    visible: "Visible high risk (14+)",
    score: "DASH score",
    pj: "Professional judgement",
    rationale: "Professional judgement - rationale",
    escalation: "Escalation",
    callouts: "Police call-outs, past 12 months",
    repeat: "Repeat",
    v_name: "Survivor's name",
    v_aliases: "Known as",
    v_dob: "Survivor's date of birth",
    v_gender: "Gender",
    v_address: "Address (do not share with perpetrator)",
    v_postcode: "Postcode",
    v_phone: "Safe contact number",
    v_aware: "Survivor aware of referral",
    v_language: "Interpreter",
    p_name: "Perpetrator's name",
    p_dob: "Perpetrator's date of birth",
    p_address: "Perpetrator's address",
    p_relationship: "Relationship",
    summary: "Risk summary",
    dash_date: "Date of DASH",
    police_ref: "Police reference",
    agencies: "Agencies involved",
    children_grid: false,
    tick: TickStyle::Word,
};

/// Kingsmere's form with content-control checkboxes for the reasons (a newer template).
pub const KINGSMERE_CC: Labels = Labels { tick: TickStyle::ContentControl, ..KINGSMERE };

/// Harrowfield's older template with legacy form checkboxes.
pub const HARROWFIELD_LEGACY: Labels = Labels { tick: TickStyle::Legacy, ..HARROWFIELD };

fn opt_num(n: Option<u32>) -> Val {
    t(n.map(|x| x.to_string()).unwrap_or_default())
}

/// The referral form of `case` in the wording of `l`.
pub fn referral_form(case: &Case, l: &Labels) -> Vec<Block> {
    let r = &case.referrer;
    let rs = &case.reasons;
    let d = &case.demographics;
    let mut referrer: Vec<(String, Val)> = vec![
        (l.referrer_name.into(), t(r.name)),
        (l.agency.into(), t(r.agency)),
        (l.role.into(), t(r.role)),
        (l.email.into(), t(r.email)),
        (l.phone.into(), t(r.phone)),
        (l.date.into(), t(case.referral_date.slash())),
    ];
    referrer.extend(d.agency_type.map(|v| ("Agency type".to_string(), t(v))));
    let mut victim: Vec<(String, Val)> = vec![
        (l.v_name.into(), t(case.victim.full())),
        (l.v_aliases.into(), t(case.victim_aliases)),
        (l.v_dob.into(), t(case.victim_dob_text())),
        (l.v_gender.into(), t(case.gender)),
    ];
    for (label, value) in [("Ethnicity", d.ethnicity), ("Sexual orientation", d.sexual_orientation), ("Disability", d.disability)] {
        victim.extend(value.map(|v| (label.to_string(), t(v))));
    }
    victim.extend([
        (l.v_address.into(), t(case.address)),
        (l.v_postcode.into(), t(case.postcode)),
        (l.v_phone.into(), t(case.safe_phone)),
        (l.v_aware.into(), t(case.aware)),
        (l.v_language.into(), t(case.language)),
    ]);
    let mut perpetrator: Vec<(String, Val)> = vec![(l.p_name.into(), t(case.perp.full())), (l.p_dob.into(), t(case.perp_dob_text()))];
    perpetrator.extend(d.perp_age.map(|v| ("Age".to_string(), t(v))));
    perpetrator.extend([(l.p_address.into(), t(case.perp_address)), (l.p_relationship.into(), t(case.relationship))]);
    let mut b = vec![
        Block::Title(l.title.to_string()),
        Block::Para(l.intro.to_string()),
        Block::Heading(l.sec_referrer.to_string()),
        Block::Kv(referrer),
        Block::Heading(l.sec_reason.to_string()),
        Block::Kv(vec![
            (l.visible.into(), Val::Tick(rs.visible)),
            (l.score.into(), opt_num(rs.stated_score)),
            (l.pj.into(), Val::Tick(rs.pj)),
            (l.rationale.into(), t(rs.rationale.unwrap_or(""))),
            (l.escalation.into(), Val::Tick(rs.escalation)),
            (l.callouts.into(), opt_num(rs.callouts)),
            (l.repeat.into(), Val::Tick(rs.repeat)),
        ]),
        Block::Heading(l.sec_victim.to_string()),
        Block::Kv(victim),
        Block::Heading(l.sec_perp.to_string()),
        Block::Kv(perpetrator),
        Block::Heading(l.sec_children.to_string()),
    ];
    if let Some(count) = d.children_count {
        b.push(Block::Kv(vec![("Number of children in the household".into(), t(count))]));
    }
    if d.children_silent || (d.children_count.is_some() && case.children.is_empty()) {
        // Nothing more under the heading.
    } else if l.children_grid {
        let mut rows: Vec<Vec<Val>> =
            case.children.iter().map(|(name, dob)| vec![t(*name), t(dob.fmt(case.dob_fmt)), t("")]).collect();
        if rows.is_empty() {
            rows.push(vec![t("None"), t(""), t("")]);
        }
        b.push(Block::Grid {
            header: vec!["Name".into(), "Date of birth".into(), "School / nursery".into()],
            widths: vec![4000, 2200, 3600],
            rows,
        });
    } else if case.children.is_empty() {
        b.push(Block::Kv(vec![("None".into(), t(""))]));
    } else {
        b.push(Block::Kv(
            case.children.iter().map(|(name, dob)| (name.to_string(), t(dob.fmt(case.dob_fmt)))).collect(),
        ));
    }
    b.push(Block::Heading(l.sec_risk.to_string()));
    b.push(Block::Kv(vec![
        (l.summary.into(), t(case.summary)),
        (l.dash_date.into(), t(case.dash_date.fmt(case.dob_fmt))),
        (l.police_ref.into(), t(case.police_ref)),
        (l.agencies.into(), t(case.agencies)),
    ]));
    b
}

/// Words used for typed answers in a DOCX / ODT table.
pub fn typed_answer(a: Ans, dk: &'static str) -> &'static str {
    match a {
        Ans::Yes => "Yes",
        Ans::No => "No",
        Ans::Dk => dk,
        Ans::Blank => "",
        Ans::Both => "Yes/No",
    }
}

/// A DASH table with one typed answer per question.
pub fn dash_typed(dash: &Dash, abuser_first: Option<&str>, dk: &'static str, header: &str) -> Block {
    let rows = (1..=24)
        .map(|q| {
            vec![
                t(q.to_string()),
                t(question(q, abuser_first)),
                t(typed_answer(dash.answers[q - 1], dk)),
                t(dash.comment(q).unwrap_or("")),
            ]
        })
        .collect();
    Block::Grid {
        header: vec!["No".into(), "Question".into(), header.into(), "Comments".into()],
        widths: vec![600, 5600, 1500, 2100],
        rows,
    }
}

/// A DASH table with a tick box in each of Yes / No / Don't know.
pub fn dash_ticks(dash: &Dash, abuser_first: Option<&str>) -> Block {
    let rows = (1..=24)
        .map(|q| {
            let (y, no, dk) = match dash.answers[q - 1] {
                Ans::Yes => (true, false, false),
                Ans::No => (false, true, false),
                Ans::Dk => (false, false, true),
                Ans::Blank => (false, false, false),
                Ans::Both => (true, true, false),
            };
            vec![t(q.to_string()), t(question(q, abuser_first)), Val::Tick(y), Val::Tick(no), Val::Tick(dk)]
        })
        .collect();
    Block::Grid {
        header: vec!["".into(), "Question".into(), "Yes".into(), "No".into(), "Don't know".into()],
        widths: vec![500, 6200, 900, 900, 1300],
        rows,
    }
}

/// Header lines of a DASH document (victim, DOB, abuser).
pub fn dash_header(case: &Case, completed_by: &str) -> Block {
    Block::Kv(vec![
        ("Victim name".into(), t(case.victim.full())),
        ("Date of birth".into(), t(case.victim_dob_text())),
        ("Abuser name".into(), t(case.perp.full())),
        ("Date completed".into(), t(case.dash_date.slash())),
        ("Completed by".into(), t(completed_by)),
    ])
}
