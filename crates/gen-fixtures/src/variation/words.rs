//! The three wordings of the 24 questions and the spellings of answers and marks.

use super::A;
use crate::data::QUESTIONS;

/// A wording: its name and question `q` (1-based) given the abuser's first name.
pub type Wording = (&'static str, fn(usize, &str) -> String);

pub const WORDINGS: [Wording; 3] = [("second_person", second_person), ("third_person_named", third_person), ("risk_factor_labels", labels)];

/// SafeLives' own wording, the "(name of abuser)" placeholder left as printed.
fn second_person(q: usize, _abuser: &str) -> String {
    QUESTIONS[q - 1].to_string()
}

/// Third person, as some agencies print it, with the abuser's first name typed in.
const THIRD: [&str; 24] = [
    "Has the current incident resulted in injury to the victim? (Please state what and whether this is the first injury.)",
    "Is the victim very frightened?",
    "What is the victim afraid of? Is it further injury or violence?",
    "Does the victim feel isolated from family/friends, i.e. does {A} try to stop them from seeing friends or family?",
    "Is the victim feeling depressed or having suicidal thoughts?",
    "Has the victim separated or tried to separate from {A} within the past year?",
    "Is there conflict over child contact?",
    "Does {A} constantly text, call, contact, follow, stalk or harass the victim?",
    "Is the victim pregnant or has she had a baby in the past 18 months?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Does {A} try to control everything the victim does and/or is {A} excessively jealous?",
    "Has {A} ever used weapons or objects to hurt the victim?",
    "Has {A} ever threatened to kill the victim or someone else and did the victim believe them?",
    "Has {A} ever attempted to strangle, choke, suffocate or drown the victim?",
    "Does {A} do or say things of a sexual nature that make the victim feel bad or that physically hurt them or someone else?",
    "Is there any other person who has threatened the victim or that the victim is afraid of?",
    "Does the victim know if {A} has hurt anyone else?",
    "Has {A} ever mistreated an animal or the family pet?",
    "Are there any financial issues? For example, is the victim dependent on {A} for money, or has {A} recently lost their job?",
    "Has {A} had problems in the past year with drugs (prescription or other), alcohol or mental health leading to problems in leading a normal life?",
    "Has {A} ever threatened or attempted suicide?",
    "Has {A} ever broken bail, an injunction and/or formal agreement for when they can see the victim and/or the children?",
    "Does the victim know if {A} has ever been in trouble with the police or has a criminal history?",
];

fn third_person(q: usize, abuser: &str) -> String {
    THIRD[q - 1].replace("{A}", abuser)
}

/// Short risk-factor labels, as police record systems print them.
const LABELS: [&str; 24] = [
    "Current incident resulted in injury",
    "Victim very frightened",
    "Afraid of further injury or violence",
    "Isolated from family / friends",
    "Depression / suicidal thoughts",
    "Separation (within past year)",
    "Conflict over child contact",
    "Stalking / harassment (texting, calling, following)",
    "Pregnancy / new baby (last 18 months)",
    "Abuse happening more often",
    "Abuse getting worse",
    "Controlling behaviour / excessive jealousy",
    "Use of weapons or objects to hurt",
    "Threats to kill",
    "Strangulation / choking / suffocation / drowning",
    "Sexual abuse",
    "Other person threatened victim / victim afraid of",
    "Abuser has hurt others",
    "Animal / pet abuse",
    "Financial issues / dependence",
    "Abuser drugs / alcohol / mental health problems",
    "Abuser threatened or attempted suicide",
    "Breach of bail / injunction / agreement",
    "Abuser criminal history / trouble with police",
];

fn labels(q: usize, _abuser: &str) -> String {
    LABELS[q - 1].to_string()
}

/// The topic sub-headings some forms group the questions under (first question of each group).
pub const GROUPS: [(usize, &str); 5] = [
    (1, "Section 1: Current situation"),
    (7, "Section 2: Children and pregnancy, frequency and escalation"),
    (12, "Section 3: The abuser's behaviour"),
    (17, "Section 4: Others at risk"),
    (20, "Section 5: The abuser's circumstances and history"),
];

/// Typed answer spellings: (yes, no, don't know) per house style.
pub const TYPED: [[&str; 3]; 7] = [
    ["Yes", "No", "Don't know"],
    ["Y", "N", "DK"],
    ["yes", "no", "not known"],
    ["YES", "NO", "UNKNOWN"],
    ["Yes", "No", "Not known"],
    ["Y", "N", "Unknown"],
    ["Yes", "No", "DK"],
];

pub fn typed(a: A, set: &[&'static str; 3]) -> &'static str {
    match a {
        A::Yes => set[0],
        A::No => set[1],
        A::Dk => set[2],
    }
}

/// Marks put under a Yes / No / Don't know column.
pub const MARKS: [&str; 5] = ["\u{2713}", "\u{2714}", "x", "X", "\u{2612}"];

/// The column headers of the three answer columns.
pub const COLUMNS: [[&str; 3]; 3] = [["Yes", "No", "Don't know"], ["Y", "N", "DK"], ["YES", "NO", "NOT KNOWN"]];

/// How a question is numbered on the form (q is 1-based).
pub fn number(style: u64, q: usize) -> String {
    match style % 4 {
        0 => q.to_string(),
        1 => format!("Q{q}"),
        2 => format!("{q}."),
        _ => String::new(),
    }
}
