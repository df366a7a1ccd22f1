//! The fictional content of the corpus: DASH question wording, answer sets, people, referrals.

use crate::util::{Date, DateFmt};

/// The 24 DASH RIC questions in the standard order, with the printed placeholder for the
/// abuser's name.
pub const QUESTIONS: [&str; 24] = [
    "Has the current incident left you injured? (Say what the injury is and whether this is the first time.)",
    "Are you very frightened right now?",
    "What are you afraid of? Is it further injury or violence?",
    "Do you feel isolated from family or friends, i.e. does (name of abuser) try to stop you seeing them?",
    "Are you feeling depressed or having thoughts of suicide?",
    "Have you separated, or tried to separate, from (name of abuser) within the past year?",
    "Is there conflict over contact with the children?",
    "Does (name of abuser) keep texting, calling, contacting, following, stalking or harassing you?",
    "Are you pregnant, or have you had a baby in the last 18 months?",
    "Is the abuse happening more often than before?",
    "Is the abuse getting worse?",
    "Does (name of abuser) try to control everything you do, or are they excessively jealous?",
    "Has (name of abuser) ever used a weapon or an object to hurt you?",
    "Has (name of abuser) ever threatened to kill you or someone else, and did you believe it?",
    "Has (name of abuser) ever tried to strangle, choke, suffocate or drown you?",
    "Does (name of abuser) do or say things of a sexual nature that make you feel bad or that hurt you or someone else?",
    "Is there another person who has threatened you, or whom you are afraid of?",
    "Do you know if (name of abuser) has hurt anyone else (children, relatives, a previous partner, a stranger)?",
    "Has (name of abuser) ever mistreated an animal or the family pet?",
    "Are there financial issues, e.g. are you dependent on (name of abuser) for money, or have they recently lost their job?",
    "In the past year, has (name of abuser) had problems with drugs, alcohol or mental health that affect daily life?",
    "Has (name of abuser) ever threatened or attempted suicide?",
    "Has (name of abuser) ever broken bail, an injunction or a formal agreement about seeing you or the children?",
    "Do you know whether (name of abuser) has ever been in trouble with the police or has a criminal history?",
];

/// A second area's wording of the same 24 questions (third person, as some agencies print it).
pub const QUESTIONS_ALT: [&str; 24] = [
    "Has the current incident resulted in an injury to the victim?",
    "Is the victim very frightened?",
    "What is the victim afraid of - further injury or violence?",
    "Does the victim feel isolated from family and friends (does the abuser stop them seeing people)?",
    "Is the victim feeling depressed or having suicidal thoughts?",
    "Has the victim separated or tried to separate from the abuser within the past year?",
    "Is there conflict over child contact?",
    "Does the abuser constantly text, call, contact, follow, stalk or harass the victim?",
    "Is the victim pregnant or has she had a baby in the past 18 months?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Does the abuser try to control everything the victim does and/or are they excessively jealous?",
    "Has the abuser ever used weapons or objects to hurt the victim?",
    "Has the abuser ever threatened to kill the victim or someone else, and did the victim believe them?",
    "Has the abuser ever attempted to strangle, choke, suffocate or drown the victim?",
    "Does the abuser do or say things of a sexual nature that make the victim feel bad or that physically hurt them or someone else?",
    "Is there any other person who has threatened the victim or whom the victim is afraid of?",
    "Does the victim know if the abuser has hurt anyone else (children, siblings, elderly relatives, strangers, previous partners)?",
    "Has the abuser ever mistreated an animal or the family pet?",
    "Are there any financial issues (is the victim dependent on the abuser for money, has the abuser recently lost their job)?",
    "Has the abuser had problems in the past year with drugs, alcohol or mental health leading to problems in leading a normal life?",
    "Has the abuser ever threatened or attempted suicide?",
    "Has the abuser ever broken bail, an injunction or any formal agreement about when they can see the victim or the children?",
    "Does the victim know if the abuser has ever been in trouble with the police or has a criminal history?",
];

/// Question `n` (1-based) with the placeholder replaced by a typed first name, as referrers do.
pub fn question(n: usize, abuser_first: Option<&str>) -> String {
    let q = QUESTIONS[n - 1];
    match abuser_first {
        Some(name) => q.replace("(name of abuser)", name),
        None => q.to_string(),
    }
}

/// One answer on a checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ans {
    Yes,
    No,
    /// Don't know / Not known, written or ticked.
    Dk,
    /// Left unanswered.
    Blank,
    /// Both Yes and No marked (a conflicting answer).
    Both,
}

/// A completed checklist: the 24 answers in the standard question order, with comments.
#[derive(Clone, Debug)]
pub struct Dash {
    pub answers: [Ans; 24],
    pub comments: Vec<(usize, &'static str)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub yes: u32,
    pub no: u32,
    pub unknown: u32,
}

impl Dash {
    /// From 24 letters: Y yes, N no, D don't know, - blank, B both Yes and No. Spaces ignored.
    pub fn parse(s: &str) -> Dash {
        let v: Vec<Ans> = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                'Y' => Ans::Yes,
                'N' => Ans::No,
                'D' => Ans::Dk,
                '-' => Ans::Blank,
                'B' => Ans::Both,
                other => panic!("bad answer letter {other:?}"),
            })
            .collect();
        let answers: [Ans; 24] = v.try_into().expect("exactly 24 answers");
        Dash { answers, comments: Vec::new() }
    }

    pub fn with_comments(mut self, c: &[(usize, &'static str)]) -> Dash {
        self.comments = c.to_vec();
        self
    }

    pub fn comment(&self, n: usize) -> Option<&'static str> {
        self.comments.iter().find(|(q, _)| *q == n).map(|(_, c)| *c)
    }

    /// What a correct reader sees: a question marked both Yes and No is not an answer, so it
    /// counts as unknown (and is listed as conflicting).
    pub fn counts(&self) -> Counts {
        let mut c = Counts { yes: 0, no: 0, unknown: 0 };
        for a in self.answers {
            match a {
                Ans::Yes => c.yes += 1,
                Ans::No => c.no += 1,
                Ans::Dk | Ans::Blank | Ans::Both => c.unknown += 1,
            }
        }
        c
    }

    pub fn conflicting(&self) -> Vec<u32> {
        (1..=24).filter(|&n| self.answers[n as usize - 1] == Ans::Both).collect()
    }
}

/// A fictional person.
#[derive(Clone, Debug)]
pub struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub dob: Date,
}

impl Person {
    pub fn full(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
    /// ASCII initials, as people type them into subject lines.
    pub fn initials(&self) -> String {
        let fold = |c: char| match c {
            'Á' | 'À' | 'Â' | 'Ä' => 'A',
            'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
            'Ó' | 'Ò' | 'Ô' | 'Ö' => 'O',
            'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
            'Ł' => 'L',
            'Ś' => 'S',
            'Ż' | 'Ź' => 'Z',
            c if c.is_ascii() => c,
            _ => 'X',
        };
        let f = self.first.chars().next().map(fold).unwrap_or('X');
        let l = self.last.chars().find(|c| c.is_alphabetic()).map(fold).unwrap_or('X');
        format!("{f}{l}")
    }
}

/// The professional who refers.
#[derive(Clone, Debug)]
pub struct Referrer {
    /// As signed, e.g. "DC Sarah Ellis".
    pub name: &'static str,
    pub role: &'static str,
    pub agency: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
}

impl Referrer {
    pub fn domain(&self) -> &'static str {
        self.email.split('@').nth(1).unwrap_or("example.test")
    }
    /// The display name without a rank or title.
    pub fn plain_name(&self) -> String {
        let titles = ["DC", "PC", "DS", "PS", "Dr", "Sgt"];
        let mut words: Vec<&str> = self.name.split(' ').collect();
        if words.len() > 2 && titles.contains(&words[0]) {
            words.remove(0);
        }
        words.join(" ")
    }
}

/// The reason-for-referral section.
#[derive(Clone, Debug, Default)]
pub struct Reasons {
    pub visible: bool,
    /// The DASH score written on the referral form.
    pub stated_score: Option<u32>,
    pub pj: bool,
    pub rationale: Option<&'static str>,
    pub escalation: bool,
    pub callouts: Option<u32>,
    pub repeat: bool,
}

impl Reasons {
    pub fn ticked(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.visible {
            v.push("visible_high_risk");
        }
        if self.pj {
            v.push("professional_judgement");
        }
        if self.escalation {
            v.push("potential_escalation");
        }
        if self.repeat {
            v.push("repeat");
        }
        v
    }
}

/// What the SafeLives data return counts that most forms here do not ask: each row is left off
/// the form when None (so the corpus's forms stay as they were), and what is written in place of
/// the perpetrator's date of birth when it is not known.
#[derive(Clone, Debug, Default)]
pub struct Demographics {
    /// "Agency type", in the referrer's section.
    pub agency_type: Option<&'static str>,
    /// "Ethnicity", "Sexual orientation", "Disability", in the victim's section.
    pub ethnicity: Option<&'static str>,
    pub sexual_orientation: Option<&'static str>,
    pub disability: Option<&'static str>,
    /// Written instead of the perpetrator's date of birth ("Not known").
    pub perp_dob_written: Option<&'static str>,
    /// "Age", in the perpetrator's section.
    pub perp_age: Option<&'static str>,
    /// "Number of children in the household", first in the children's section (then no "None"
    /// is written when no child is named).
    pub children_count: Option<&'static str>,
    /// Nothing under the children's heading at all: no names, no count, no "None".
    pub children_silent: bool,
}

/// Everything a referral form says.
#[derive(Clone, Debug)]
pub struct Case {
    pub area: &'static str,
    pub referrer: Referrer,
    pub referral_date: Date,
    pub reasons: Reasons,
    pub victim: Person,
    pub victim_aliases: &'static str,
    pub gender: &'static str,
    pub address: &'static str,
    pub postcode: &'static str,
    pub safe_phone: &'static str,
    pub aware: &'static str,
    pub language: &'static str,
    pub perp: Person,
    pub perp_address: &'static str,
    pub relationship: &'static str,
    pub children: Vec<(&'static str, Date)>,
    pub summary: &'static str,
    pub dash_date: Date,
    pub police_ref: &'static str,
    pub agencies: &'static str,
    /// How dates of birth are written on this form.
    pub dob_fmt: DateFmt,
    pub demographics: Demographics,
}

impl Case {
    pub fn victim_dob_text(&self) -> String {
        self.victim.dob.fmt(self.dob_fmt)
    }
    pub fn perp_dob_text(&self) -> String {
        match self.demographics.perp_dob_written {
            Some(written) => written.to_owned(),
            None => self.perp.dob.fmt(self.dob_fmt),
        }
    }
}
