//! The fixtures themselves: who refers whom, with which forms, and what the truth is.

use crate::binary;
use crate::data::{Ans, Case, Dash, Person, Reasons, Referrer};
use crate::docx::{self, DocMeta};
use crate::form::{
    self, Block, Labels, HARROWFIELD, HARROWFIELD_LEGACY, KINGSMERE, KINGSMERE_CC, SURVIVOR, WEXCOMBE,
};
use crate::mail::{self, attach, attach_as, attach_raw_headers, multi, text_plain, Auth, Body, Env, Part};
use crate::manifest::Truth;
use crate::odf;
use crate::pdf::{self, DashHead, Flat, Info, PairOpts, RadioOpts};
use crate::util::{
    base64_lines, cp1252, date, latin1, png_gray, rfc2047_b, rfc2047_q, rfc2231_pct, stamp, Date, DateFmt, Stamp,
};
use crate::xlsx;
use crate::zipw;
use crate::Fixture;

// ---------------------------------------------------------------------------------------------
// The people. All fictional; phone numbers in Ofcom's drama ranges, postcodes in a non-existent
// area (ZY), domains under example.test.

const fn p(first: &'static str, last: &'static str, dob: Date) -> Person {
    Person { first, last, dob }
}

fn referrer(
    name: &'static str,
    role: &'static str,
    agency: &'static str,
    email: &'static str,
    phone: &'static str,
) -> Referrer {
    Referrer { name, role, agency, email, phone }
}

fn raman() -> Referrer {
    referrer(
        "DC Priya Raman",
        "Detective Constable, Public Protection Unit",
        "Kingsmere Police",
        "priya.raman@kingsmere.pnn.police.example.test",
        "01632 960147",
    )
}
fn ames() -> Referrer {
    referrer(
        "PC Jordan Ames",
        "Response Officer",
        "Kingsmere Police",
        "jordan.ames@kingsmere.pnn.police.example.test",
        "01632 960163",
    )
}
fn whitlock() -> Referrer {
    referrer(
        "PC Tom Whitlock",
        "Neighbourhood Officer",
        "Harrowfield Police",
        "tom.whitlock@harrowfield.pnn.police.example.test",
        "01632 960318",
    )
}
fn lowe() -> Referrer {
    referrer(
        "DS Karen Lowe",
        "Detective Sergeant, Domestic Abuse Unit",
        "Harrowfield Police",
        "karen.lowe@harrowfield.pnn.police.example.test",
        "01632 960322",
    )
}
fn okafor() -> Referrer {
    referrer(
        "Hannah Okafor",
        "Safeguarding Midwife",
        "Kingsmere Hospitals NHS Trust",
        "hannah.okafor@nhs.example.test",
        "01632 960245",
    )
}
fn shah() -> Referrer {
    referrer(
        "Dr Imran Shah",
        "GP Partner, Safeguarding Lead",
        "Ashby Vale Medical Practice",
        "imran.shah@nhs.example.test",
        "01632 960266",
    )
}
fn price() -> Referrer {
    referrer("Megan Price", "Senior IDVA", "Kingsmere IDVA Service", "megan.price@idva.example.test", "01632 960377")
}
fn doherty() -> Referrer {
    referrer(
        "Aisling Doherty",
        "IDVA",
        "Wexcombe Domestic Abuse Service",
        "aisling.doherty@idva.example.test",
        "01632 960381",
    )
}
fn forsyth() -> Referrer {
    referrer(
        "Daniel Forsyth",
        "Housing Options Officer",
        "Wexcombe Borough Council",
        "daniel.forsyth@wexcombe.gov.example.test",
        "01632 960421",
    )
}
fn hart() -> Referrer {
    referrer(
        "Nicola Hart",
        "Early Help Practitioner",
        "Wexcombe Borough Council",
        "nicola.hart@wexcombe.gov.example.test",
        "01632 960433",
    )
}
fn kerrigan() -> Referrer {
    referrer(
        "Rob Kerrigan",
        "Social Worker, Children's Services",
        "Kingsmere Council",
        "rob.kerrigan@kingsmere.gov.example.test",
        "01632 960455",
    )
}
fn beddoes() -> Referrer {
    referrer(
        "Joanne Beddoes",
        "Probation Officer",
        "Probation Service - Kingsmere",
        "joanne.beddoes@probation.cjsm.example.test",
        "01632 960502",
    )
}
fn ayre() -> Referrer {
    referrer(
        "PS Colin Ayre",
        "Police Sergeant, Public Protection Unit",
        "Kingsmere Police",
        "colin.ayre@kingsmere.pnn.police.example.test",
        "01632 960150",
    )
}
fn marsh_webmail() -> Referrer {
    referrer(
        "Lisa Marsh",
        "Family Support Worker",
        "Kingsmere Family Hub",
        "lisa.marsh1984@webmail.example.test",
        "07700 900982",
    )
}

const ADDRESSES: [&str; 12] = [
    "27 Ashdown Road, Kingsmere",
    "Flat 4, 12 Mill Lane, Kingsmere",
    "9 Orchard Close, Harrowfield",
    "53 Canal Street, Wexcombe",
    "2 Beacon Terrace, Kingsmere",
    "118 Station Road, Harrowfield",
    "Flat 11, Tannery Court, Wexcombe",
    "6 Larch Grove, Kingsmere",
    "31 Foundry Row, Harrowfield",
    "14 Meadow View, Wexcombe",
    "Flat 2, 88 High Street, Kingsmere",
    "47 Willow Crescent, Harrowfield",
];

const SUMMARIES: [&str; 6] = [
    "{v} reports that {p} assaulted them at home on {d}, punching them in the face and taking their phone. {p} has sent repeated threatening messages since and was arrested the same night; bail conditions not to contact {v}.",
    "{v} disclosed at an appointment that {p} has become more controlling since the baby was born: checking their phone, taking their bank card and stopping them seeing family. On {d} {p} grabbed {v} by the throat during an argument.",
    "Police attended on {d} after neighbours heard screaming. {v} had a cut above the eye and said {p} threw a mug at them. {p} had been drinking. {v} says the abuse has got worse since they tried to end the relationship.",
    "{v} has separated from {p}, who keeps turning up at their work and home and has threatened to kill them if they see anyone else. Over 40 calls and messages a day. Incident on {d}: {p} followed {v} home and damaged the front door.",
    "{p} was released from prison three months ago and has resumed contact with {v}. On {d} {p} forced entry to the address and made threats to harm {v} and the children. {v} is very frightened and wants support.",
    "{v} told their IDVA on {d} that {p} has threatened suicide if they leave and has previously strangled them. Financial abuse: {p} controls all money. {v} is isolated from friends and has low mood.",
];

fn summary(n: u32, v: &Person, perp: &Person, d: Date) -> &'static str {
    let s = SUMMARIES[n as usize % SUMMARIES.len()]
        .replace("{v}", v.first)
        .replace("{p}", perp.first)
        .replace("{d}", &d.slash());
    Box::leak(s.into_boxed_str())
}

/// The arrival moment of fixture `n`: spread over 2025, at varied times of day.
fn arrival(n: u32) -> Stamp {
    let day0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
    let d = day0 + chrono::TimeDelta::days(i64::from(n) * 6);
    use chrono::Datelike;
    stamp(d.year(), d.month(), d.day(), 8 + (n * 7) % 10, (n * 13) % 60, (n * 29 + 7) % 60)
}

#[allow(clippy::too_many_arguments)]
fn case(
    n: u32,
    area: &'static str,
    r: Referrer,
    victim: Person,
    perp: Person,
    relationship: &'static str,
    reasons: Reasons,
    dob_fmt: DateFmt,
) -> Case {
    let arrive = arrival(n).date();
    let incident = {
        let d =
            chrono::NaiveDate::from_ymd_opt(arrive.y, arrive.m, arrive.d).expect("date") - chrono::TimeDelta::days(2);
        use chrono::Datelike;
        date(d.year(), d.month(), d.day())
    };
    let dash_date = {
        let d =
            chrono::NaiveDate::from_ymd_opt(arrive.y, arrive.m, arrive.d).expect("date") - chrono::TimeDelta::days(1);
        use chrono::Datelike;
        date(d.year(), d.month(), d.day())
    };
    let children = if n.is_multiple_of(3) {
        vec![
            (Box::leak(format!("Mia {}", victim.last).into_boxed_str()) as &'static str, date(2016, 3, 8 + n % 20)),
            (Box::leak(format!("Alfie {}", victim.last).into_boxed_str()) as &'static str, date(2019, 11, 1 + n % 27)),
        ]
    } else if n % 3 == 1 {
        vec![(Box::leak(format!("Ruby {}", victim.last).into_boxed_str()) as &'static str, date(2021, 6, 2 + n % 25))]
    } else {
        Vec::new()
    };
    let code = match area {
        "Harrowfield" => "HP",
        "Wexcombe" => "WX",
        _ => "KP",
    };
    let summary = summary(n, &victim, &perp, incident);
    Case {
        area,
        referrer: r,
        referral_date: arrive,
        reasons,
        victim_aliases: "None known",
        gender: if victim.first == "Marcus" { "Male" } else { "Female" },
        address: ADDRESSES[n as usize % ADDRESSES.len()],
        postcode: Box::leak(
            format!(
                "ZY{} {}{}{}",
                n % 9 + 1,
                (n * 7) % 10,
                (b'A' + (n % 26) as u8) as char,
                (b'B' + ((n * 5) % 24) as u8) as char
            )
            .into_boxed_str(),
        ),
        safe_phone: Box::leak(format!("07700 900{:03}", 100 + n * 17 % 800).into_boxed_str()),
        aware: if n.is_multiple_of(4) { "No - not safe to inform at present" } else { "Yes" },
        language: if n.is_multiple_of(5) { "Yes / Polish" } else { "No / English" },
        perp_address: if n.is_multiple_of(2) { "Same as victim" } else { "No fixed abode" },
        relationship,
        perp,
        victim,
        children,
        summary,
        dash_date,
        police_ref: Box::leak(format!("{code}-25-{:06}", 4000 + n * 173).into_boxed_str()),
        agencies: if n.is_multiple_of(2) { "Children's Social Care; IDVA service" } else { "None known" },
        dob_fmt,
        demographics: Default::default(),
    }
}

fn visible(score: u32) -> Reasons {
    Reasons { visible: true, stated_score: Some(score), ..Reasons::default() }
}

// ---------------------------------------------------------------------------------------------
// Building blocks shared by the fixtures.

fn head(c: &Case) -> DashHead {
    DashHead {
        area: c.area.to_string(),
        victim: c.victim.full(),
        dob: c.victim.dob.slash(),
        abuser: c.perp.full(),
        completed: c.dash_date.slash(),
        by: c.referrer.plain_name(),
        agency: c.referrer.agency.to_string(),
    }
}

fn info(c: &Case, n: u32, title: &str) -> Info {
    Info {
        title: title.to_string(),
        author: c.referrer.plain_name(),
        creator: "Microsoft Word - DASH template",
        producer: "Generated fixture (lopdf)",
        created: arrival(n).minus_secs(20_000),
    }
}

fn meta(c: &Case, n: u32, title: &str) -> DocMeta {
    DocMeta { title: title.to_string(), author: c.referrer.plain_name(), created: arrival(n).minus_secs(5_000) }
}

fn referral_docx(c: &Case, n: u32, l: &Labels, split: bool) -> Vec<u8> {
    docx::docx(&form::referral_form(c, l), l.tick, split, &meta(c, n, l.title))
}

fn radio(c: &Case, n: u32, dash: &Dash, total: Option<u32>, exports: [&'static str; 3], pad: usize) -> Vec<u8> {
    assert!(total.is_none_or(|t| t == dash.counts().yes), "{n:03}: a DASH total field agrees with its answers");
    let opts = RadioOpts { exports, total, pad, table_xref: n.is_multiple_of(2), compress: !n.is_multiple_of(3) };
    pdf::save(pdf::dash_radio(
        &format!("fx{n}"),
        &head(c),
        dash,
        &opts,
        &info(c, n, "DASH Risk Identification Checklist"),
    ))
}

const YND: [&str; 3] = ["Yes", "No", "DK"];

fn signature(r: &Referrer) -> String {
    let footer = if r.email.contains("pnn.police") {
        "\nOFFICIAL-SENSITIVE. This e-mail and any attachments are intended for the addressee only. If received in error please notify the sender and delete it.\n"
    } else if r.email.contains("nhs.") {
        "\n********************************************************************\nThis message has been sent using a secure NHS e-mail service (example).\n********************************************************************\n"
    } else if r.email.contains(".gov.") {
        "\nThis email is confidential and may contain personal data. Council (example) secure email.\n"
    } else {
        ""
    };
    format!("--\n{}\n{}\n{}\nTel: {}\n{}", r.name, r.role, r.agency, r.phone, footer)
}

fn body(c: &Case, middle: &str) -> String {
    format!("Good morning,\n\n{middle}\n\nKind regards\n\n{}", signature(&c.referrer))
}

fn std_body(c: &Case) -> String {
    let score = c.reasons.stated_score.map(|s| format!(" DASH score {s}.")).unwrap_or_default();
    body(
        c,
        &format!(
            "Please find attached a MARAC referral and DASH RIC for {} following an incident on {}.{score}",
            c.victim.initials(),
            c.dash_date.slash()
        ),
    )
}

fn env_for(n: u32, slug: &str, r: &Referrer, subject: &str) -> Env {
    Env::new(&format!("{n:03}_{slug}"), arrival(n), r.name, r.email, subject)
}

fn subject(c: &Case) -> String {
    if c.referrer.email.contains("pnn.police") {
        format!("OFFICIAL-SENSITIVE: MARAC referral - {} - {}", c.victim.initials(), c.police_ref)
    } else {
        format!("MARAC referral - {}", c.victim.initials())
    }
}

struct Out {
    n: u32,
    slug: &'static str,
    desc: &'static str,
}

fn emit(o: Out, eml: Vec<u8>, truth: Truth) -> Fixture {
    // A stated score agrees with the checklist unless the fixture is about their disagreement.
    if let (Some(d), Some(s)) = (&truth.dash, truth.stated_dash_score) {
        assert!(d.yes == s || o.slug.contains("disagrees"), "{:03}: stated {s} but {} Yes", o.n, d.yes);
    }
    Fixture { file: format!("{:03}_{}.eml", o.n, o.slug), description: o.desc.to_string(), eml, truth }
}

/// The common case: text body plus attachments; the truth's attachment list comes from them.
fn send(o: Out, env: Env, text: &str, atts: Vec<mail::Attachment>, truth: Truth) -> Fixture {
    let truths = atts.iter().map(|a| a.truth.clone()).collect();
    let parts = atts.into_iter().map(|a| a.part).collect();
    let eml = env.mixed(text_plain(text), parts);
    emit(o, eml, truth.atts(truths))
}

/// Truth fields taken from a DASH header when the referral form cannot be read.
fn from_dash_header(mut t: Truth, c: &Case, total: Option<u32>) -> Truth {
    t.victim_name = Some(c.victim.full());
    t.victim_dob = Some(c.victim.dob.iso());
    t.perpetrator_name = Some(c.perp.full());
    t.stated_dash_score = total;
    t
}

/// Spellings for an answer column: varied across questions the way people type.
fn spelled(q: usize, a: Ans) -> &'static str {
    let yes = ["Yes", "YES", "y", "\u{2713}", "\u{2714}", "ticked", "Y", "yes"];
    let no = ["No", "N", "no", "NO"];
    let dk = ["Don't know", "DK", "Not known", "Unknown", "don't know", "N/K"];
    match a {
        Ans::Yes => yes[q % yes.len()],
        Ans::No => no[q % no.len()],
        Ans::Dk => dk[q % dk.len()],
        Ans::Blank => "",
        Ans::Both => "Yes/No",
    }
}

/// Spellings typed into PDF text fields (people rarely type symbols there).
fn spelled_pdf(q: usize, a: Ans) -> &'static str {
    let yes = ["Yes", "YES", "y", "Y", "yes"];
    let no = ["No", "N", "no", "NO"];
    let dk = ["DK", "Don't know", "Not known", "N/K", "Unknown"];
    match a {
        Ans::Yes => yes[q % yes.len()],
        Ans::No => no[q % no.len()],
        Ans::Dk => dk[q % dk.len()],
        Ans::Blank => "",
        Ans::Both => "Yes/No",
    }
}

fn plain_answers(_q: usize, a: Ans) -> &'static str {
    match a {
        Ans::Yes => "Yes",
        Ans::No => "No",
        Ans::Dk => "Don't know",
        Ans::Blank => "",
        Ans::Both => "Yes/No",
    }
}

// ---------------------------------------------------------------------------------------------
// The fixtures.

pub fn all() -> Vec<Fixture> {
    vec![
        f001(),
        f002(),
        f003(),
        f004(),
        f005(),
        f006(),
        f007(),
        f008(),
        f009(),
        f010(),
        f011(),
        f012(),
        f013(),
        f014(),
        f015(),
        f016(),
        f017(),
        f018(),
        f019(),
        f020(),
        f021(),
        f022(),
        f023(),
        f024(),
        f025(),
        f026(),
        f027(),
        f028(),
        f029(),
        f030(),
        f031(),
        f032(),
        f033(),
        f034(),
        f035(),
        f036(),
        f037(),
        f038(),
        f039(),
        f040(),
        f041(),
        f042(),
        f043(),
        f044(),
        f045(),
        f046(),
        f047(),
        f048(),
        f049(),
        f050(),
        f051(),
        f052(),
        f053(),
        f054(),
    ]
}

fn f001() -> Fixture {
    let n = 1;
    let o = Out { n, slug: "police_pdf_radio_visible15", desc: "Police referral: PDF DASH with radio groups q01..q24 (Yes/No/DK) and question text beside the widgets; DOCX referral, label/value tables." };
    let dash = Dash::parse("YYYYNY YNYYYY YYNNYN DNYDNY")
        .with_comments(&[(2, "Shaking throughout the visit."), (14, "Said he would 'end it for both of us'.")]);
    let c = case(
        n,
        "Kingsmere",
        raman(),
        p("Rebecca", "Hollins", date(1991, 7, 3)),
        p("Darren", "Hollins", date(1988, 11, 14)),
        "Husband",
        visible(15),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral - RH.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH RIC - RH.pdf", "pdf", None, &radio(&c, n, &dash, Some(15), YND, 0)),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"),
    )
}

fn f002() -> Fixture {
    let n = 2;
    let o = Out { n, slug: "nhs_pdf_radio_blanks_pj", desc: "NHS midwife: radio-group PDF DASH with five questions left blank (counted unknown); professional judgement with a written rationale; DOB written '19 February 1995'." };
    let dash = Dash::parse("YY-YNN YNYN-- YNNY-N YNDNYD");
    let reasons = Reasons {
        pj: true,
        stated_score: Some(9),
        rationale: Some("Pregnant (28 weeks), disclosed strangulation in the past month and is too frightened to answer every question. Recent escalation since the pregnancy became known."),
        ..Reasons::default()
    };
    let c = case(
        n,
        "Kingsmere",
        okafor(),
        p("Natasha", "Quinlan", date(1995, 2, 19)),
        p("Liam", "Carver", date(1993, 6, 2)),
        "Partner",
        reasons,
        DateFmt::Long,
    );
    let atts = vec![
        attach("MARAC Referral NQ.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, true)),
        attach("DASH NQ.pdf", "pdf", None, &radio(&c, n, &dash, Some(9), YND, 0)),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"),
    )
}

fn f003() -> Fixture {
    let n = 3;
    let o = Out { n, slug: "police_pdf_checkbox_pairs_reordered", desc: "Harrowfield police: PDF DASH with a separate checkbox per answer (Q3_Yes / Q3_No / Q3_DK, on-state /On), questions in the area's own order and numbering, the abuser's first name typed into the questions; 'client' referral wording with glyph ticks." };
    let dash = Dash::parse("YYYNYY YYNYYY NYYNYN YYDNYD");
    let c = case(
        n,
        "Harrowfield",
        whitlock(),
        p("Gemma", "Stott", date(1985, 11, 29)),
        p("Craig", "Stott", date(1982, 5, 16)),
        "Husband",
        visible(16),
        DateFmt::Slash,
    );
    let opts = PairOpts {
        order: vec![1, 2, 3, 5, 4, 6, 12, 8, 10, 11, 13, 14, 15, 16, 7, 9, 17, 18, 19, 20, 21, 22, 23, 24],
        abuser_first: Some("Craig"),
        field_name: pdf::pair_name_q_underscore,
        on: "On",
        title: "Harrowfield Community Safety Partnership - DASH RIC".to_string(),
    };
    let dash_pdf = pdf::save(pdf::dash_pairs("fx3", &head(&c), &dash, &opts, &info(&c, n, "DASH RIC")));
    let atts = vec![
        attach("Harrowfield MARAC referral GS.docx", "docx", None, &referral_docx(&c, n, &HARROWFIELD, false)),
        attach("GS DASH.pdf", "pdf", None, &dash_pdf),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_checkbox_pairs"),
    )
}

fn f004() -> Fixture {
    let n = 4;
    let o = Out { n, slug: "idva_pdf_checkbox_pairs_yes_state", desc: "IDVA: checkbox-pair PDF DASH with fields DASH_Qnn_Y/N/DK and on-state /Yes, three questions unticked; survivor-wording referral, DOB '7 July 1996', professional judgement with rationale." };
    let dash = Dash::parse("YNYYNY NYNNYY N-YNYN -YDNY-");
    let reasons = Reasons {
        pj: true,
        stated_score: Some(11),
        rationale: Some("Survivor minimises the abuse; perpetrator has a history of violence against two previous partners and has just been released from custody."),
        ..Reasons::default()
    };
    let c = case(
        n,
        "Kingsmere",
        price(),
        p("Sophie", "Leigh", date(1996, 7, 7)),
        p("Nathan", "Oakes", date(1994, 11, 23)),
        "Ex-partner",
        reasons,
        DateFmt::Long,
    );
    let opts = PairOpts {
        order: (1..=24).collect(),
        abuser_first: None,
        field_name: pdf::pair_name_dash,
        on: "Yes",
        title: "Kingsmere IDVA Service - Risk Identification Checklist".to_string(),
    };
    let dash_pdf = pdf::save(pdf::dash_pairs("fx4", &head(&c), &dash, &opts, &info(&c, n, "RIC")));
    let atts = vec![
        attach("IDVA MARAC referral - SL.docx", "docx", None, &referral_docx(&c, n, &SURVIVOR, false)),
        attach("RIC SL.pdf", "pdf", None, &dash_pdf),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_checkbox_pairs"),
    )
}

fn f005() -> Fixture {
    let n = 5;
    let o = Out { n, slug: "council_pdf_field_tree_notknown", desc: "Council housing: PDF DASH with a field tree DASH.Section1.Q1.. (radio export values Y / N / 'Not known'), some fields named by their whole question text, victim name saved as UTF-16BE 'Zoë Ní Bhriain'; exactly 14 Yes; 'person at risk' referral with ISO dates." };
    let dash = Dash::parse("YYYNYY YYNYYY NYDNYN YDNYDN");
    let c = case(
        n,
        "Wexcombe",
        forsyth(),
        p("Zoë", "Ní Bhriain", date(1989, 12, 8)),
        p("Keith", "Marlow", date(1984, 3, 27)),
        "Partner",
        visible(14),
        DateFmt::Iso,
    );
    let mut h = head(&c);
    h.dob = c.victim_dob_text();
    let dash_pdf =
        pdf::save(pdf::dash_tree("fx5", &h, &dash, &[2, 7, 11, 19], &info(&c, n, "Risk Identification Checklist")));
    let atts = vec![
        attach("WBC MARAC referral ZNB.docx", "docx", None, &referral_docx(&c, n, &WEXCOMBE, false)),
        attach("RIC ZNB.pdf", "pdf", None, &dash_pdf),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_tree"),
    )
}

fn f006() -> Fixture {
    let n = 6;
    let o = Out { n, slug: "police_pdf_text_answer_fields", desc: "Police: PDF DASH whose answers are typed into text fields answer_1..answer_24 ('Yes', 'y', 'NO', 'DK', 'N/K', blank...); potential escalation with 3 police call-outs, score 12." };
    let dash = Dash::parse("YYNYNY YYNYYN DNYYNN NDY-NY");
    let reasons = Reasons { escalation: true, callouts: Some(3), stated_score: Some(12), ..Reasons::default() };
    let c = case(
        n,
        "Kingsmere",
        ames(),
        p("Kerry-Ann", "Mitchell", date(1990, 10, 10)),
        p("Jason", "Rourke", date(1987, 4, 4)),
        "Ex-partner",
        reasons,
        DateFmt::Slash,
    );
    let dash_pdf = pdf::save(pdf::dash_text_fields("fx6", &head(&c), &dash, &spelled_pdf, &info(&c, n, "RIC")));
    let atts = vec![
        attach("MARAC referral KM.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("RIC - KM.pdf", "pdf", None, &dash_pdf),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_text"),
    )
}

fn f007() -> Fixture {
    let n = 7;
    let o = Out { n, slug: "police_pdf_flattened_x_columns", desc: "Police: flattened PDF DASH (no form) printed as a table No | Question | Yes | No | Don't know with an X in one column, abuser's first name in the questions, total printed; glyph-tick referral." };
    let dash = Dash::parse("YYYYYN YYNYYY YYYNYY DNYNDY");
    let c = case(
        n,
        "Harrowfield",
        lowe(),
        p("Danielle", "Frost", date(1988, 2, 28)),
        p("Kyle", "Mercer", date(1986, 9, 15)),
        "Partner",
        visible(17),
        DateFmt::Slash,
    );
    let dash_pdf = pdf::save(pdf::dash_flat(
        "fx7",
        &head(&c),
        &dash,
        Flat::XColumns,
        Some("Kyle"),
        Some(17),
        &info(&c, n, "DASH"),
    ));
    let atts = vec![
        attach("Referral DF.docx", "docx", None, &referral_docx(&c, n, &HARROWFIELD, true)),
        attach("DASH DF (printed).pdf", "pdf", None, &dash_pdf),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_flattened"),
    )
}

fn f008() -> Fixture {
    let n = 8;
    let o = Out { n, slug: "nhs_pdf_flattened_answer_column", desc: "GP: flattened PDF DASH with an Answer column of Yes / No / Not known and comments; referral with labels split over runs; professional judgement, score 8." };
    let dash = Dash::parse("NYYNYN NNYNNY NDNNYN YDNDYD").with_comments(&[
        (2, "Tearful, would not go home."),
        (13, "Kitchen knife mentioned, unclear."),
        (21, "Heavy drinking most days."),
    ]);
    let reasons = Reasons {
        pj: true,
        stated_score: Some(8),
        rationale: Some("Older victim with dementia-related care needs; husband is her only carer and has started locking her in. Very isolated; I believe she is at high risk of serious harm."),
        ..Reasons::default()
    };
    let c = case(
        n,
        "Kingsmere",
        shah(),
        p("Patricia", "O'Neill", date(1968, 3, 3)),
        p("Brian", "O'Neill", date(1965, 10, 1)),
        "Husband",
        reasons,
        DateFmt::Slash,
    );
    let dash_pdf =
        pdf::save(pdf::dash_flat("fx8", &head(&c), &dash, Flat::AnswerColumn, None, None, &info(&c, n, "DASH")));
    let atts = vec![
        attach("MARAC referral PO.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, true)),
        attach("DASH PO.pdf", "pdf", None, &dash_pdf),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_flattened"),
    )
}

fn f009() -> Fixture {
    let n = 9;
    let o = Out { n, slug: "police_pdf_scanned_dash", desc: "Police: the DASH is a scanned page (one image, no text, no form) -> no readable DASH; the DOCX referral states score 15." };
    let c = case(
        n,
        "Kingsmere",
        raman(),
        p("Chloe", "Barraclough", date(2001, 8, 8)),
        p("Ryan", "Fenwick", date(1999, 2, 2)),
        "Boyfriend",
        visible(15),
        DateFmt::Slash,
    );
    let scan = pdf::save(pdf::scanned("fx9", &info(&c, n, "Scan")));
    let atts = vec![
        attach("MARAC referral - CB.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("Scan_20250218_0931.pdf", "pdf", Some("scanned"), &scan),
    ];
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, Truth::empty().referral(&c))
}

fn f010() -> Fixture {
    let n = 10;
    let o = Out { n, slug: "nhs_pdf_encrypted_dash", desc: "NHS: the DASH PDF is encrypted with a user password (RC4 128-bit) -> no readable DASH; referral states score 14." };
    let dash = Dash::parse("YYYYYY YNYYYN YNNNNY DNYNNY");
    let c = case(
        n,
        "Kingsmere",
        okafor(),
        p("Fatima", "Begum", date(1992, 12, 21)),
        p("Abdul", "Karim", date(1989, 6, 6)),
        "Husband",
        visible(14),
        DateFmt::Slash,
    );
    let mut doc = pdf::dash_radio(
        "fx10",
        &head(&c),
        &dash,
        &RadioOpts { exports: YND, total: Some(14), pad: 0, table_xref: true, compress: true },
        &info(&c, n, "DASH"),
    );
    pdf::encrypt(&mut doc, "Kingsmere2025", "owner-secret");
    let atts = vec![
        attach("MARAC Referral FB.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH FB (protected).pdf", "pdf", Some("encrypted"), &pdf::save(doc)),
    ];
    let text = body(&c, "Please find attached a MARAC referral and DASH for F.B. The DASH is password protected; I will phone through the password.");
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &text, atts, Truth::empty().referral(&c))
}

fn f011() -> Fixture {
    let n = 11;
    let o = Out { n, slug: "idva_xlsx_dash_behind_cover_sheet", desc: "IDVA: XLSX DASH on the second sheet behind an instructions cover sheet, answer column Yes / No / Don't know; survivor referral, DOB '2 October 1999'." };
    let dash = Dash::parse("YYYYNY YNYYYY NYNNYN YNNYDN");
    let c = case(
        n,
        "Wexcombe",
        doherty(),
        p("Aoife", "Brennan", date(1999, 10, 2)),
        p("Conor", "Walsh", date(1997, 1, 30)),
        "Ex-partner",
        visible(14),
        DateFmt::Long,
    );
    let atts = vec![
        attach("MARAC referral (IDVA) AB.docx", "docx", None, &referral_docx(&c, n, &SURVIVOR, false)),
        attach(
            "AB DASH.xlsx",
            "xlsx",
            None,
            &xlsx::answer_column(&head(&c), &dash, &plain_answers, true, arrival(n).minus_secs(7200)),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "xlsx_answer_column"),
    )
}

fn f012() -> Fixture {
    let n = 12;
    let o = Out { n, slug: "council_xlsx_x_marks_merged_title", desc: "Council early help: XLSX DASH with merged title cells and marks (X, x, ✓, ✔) under Yes / No / Don't know columns, two rows unmarked; potential escalation with 4 call-outs." };
    let dash = Dash::parse("YNYNYY NDNYYN YNDNY- YNDY-N");
    let reasons = Reasons { escalation: true, callouts: Some(4), stated_score: Some(10), ..Reasons::default() };
    let c = case(
        n,
        "Wexcombe",
        hart(),
        p("Leanne", "Cartwright", date(1994, 3, 18)),
        p("Dean", "Ashcroft", date(1990, 7, 27)),
        "Partner",
        reasons,
        DateFmt::Iso,
    );
    let marks = |q: usize| ["X", "x", "\u{2713}", "\u{2714}", "X"][q % 5];
    let atts = vec![
        attach("MARAC referral - LC.docx", "docx", None, &referral_docx(&c, n, &WEXCOMBE, false)),
        attach(
            "LC risk checklist.xlsx",
            "xlsx",
            None,
            &xlsx::x_columns(&head(&c), &dash, &marks, Some("Dean"), arrival(n).minus_secs(9000)),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "xlsx_x_columns"),
    )
}

fn f013() -> Fixture {
    let n = 13;
    let o = Out { n, slug: "police_xlsx_answer_spellings", desc: "Police: XLSX DASH answer column typed every which way (Yes, YES, y, ✓, ✔, ticked, N, no, DK, Not known, Unknown, N/K, blank)." };
    let dash = Dash::parse("YYYYYY YNYDYY YNDYNY N-YNDY");
    let c = case(
        n,
        "Kingsmere",
        ames(),
        p("Hayley", "Dunmore", date(1987, 6, 25)),
        p("Lee", "Dunmore", date(1986, 4, 8)),
        "Husband",
        visible(15),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral HD.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach(
            "DASH HD.xlsx",
            "xlsx",
            None,
            &xlsx::answer_column(&head(&c), &dash, &spelled, false, arrival(n).minus_secs(4000)),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "xlsx_answer_column"),
    )
}

fn dash_doc(c: &Case, n: u32, title: &str, table: Block, tick: form::TickStyle) -> Vec<u8> {
    let blocks = vec![
        Block::Title(format!("{} - {title}", c.area)),
        Block::Para("Domestic Abuse, Stalking and Honour Based Violence Risk Identification Checklist. OFFICIAL-SENSITIVE when complete.".into()),
        form::dash_header(c, &c.referrer.plain_name()),
        table,
    ];
    docx::docx(&blocks, tick, false, &meta(c, n, title))
}

fn f014() -> Fixture {
    let n = 14;
    let o = Out { n, slug: "nhs_docx_dash_typed", desc: "NHS: DOCX DASH with a table of typed answers (Yes / No / Don't know); professional judgement with rationale, score 12." };
    let dash = Dash::parse("YYYNNY NYYNYY NYNNYN YDNYDN")
        .with_comments(&[(9, "Baby born 4 months ago."), (12, "Checks her phone, controls money.")]);
    let reasons = Reasons {
        pj: true,
        stated_score: Some(12),
        rationale: Some("New baby, recent escalation and a threat made in front of the health visitor."),
        ..Reasons::default()
    };
    let c = case(
        n,
        "Kingsmere",
        okafor(),
        p("Amira", "Haddad", date(1998, 9, 30)),
        p("Samir", "Haddad", date(1994, 1, 11)),
        "Husband",
        reasons,
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral AH.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach(
            "DASH AH.docx",
            "docx",
            None,
            &dash_doc(
                &c,
                n,
                "DASH RIC",
                form::dash_typed(&dash, None, "Don't know", "Yes / No / Don't know"),
                form::TickStyle::YesNo,
            ),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "docx_typed"),
    )
}

fn f015() -> Fixture {
    let n = 15;
    let o = Out { n, slug: "idva_docx_dash_content_controls", desc: "IDVA: DOCX DASH with content-control checkboxes (w:sdt + w14:checkbox, w14:checked 1/0/true/false, ☒/☐ shown) under Yes / No / Don't know." };
    let dash = Dash::parse("YYYYYN YYNYYY YDYYNY DNNYNY");
    let c = case(
        n,
        "Kingsmere",
        price(),
        p("Jade", "Whitfield", date(1997, 2, 9)),
        p("Aaron", "Pryce", date(1996, 6, 30)),
        "Ex-partner",
        visible(16),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("Referral JW.docx", "docx", None, &referral_docx(&c, n, &SURVIVOR, false)),
        attach(
            "DASH JW.docx",
            "docx",
            None,
            &dash_doc(&c, n, "DASH checklist", form::dash_ticks(&dash, None), form::TickStyle::ContentControl),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "docx_content_controls"),
    )
}

fn f016() -> Fixture {
    let n = 16;
    let o = Out { n, slug: "police_docx_dash_legacy_checkboxes", desc: "Police: DOCX DASH with legacy FORMCHECKBOX fields (state from w:default, w:checked w:val=\"0\" overriding default 1, bare <w:checked/>); the referral's reason boxes are legacy checkboxes too; two questions unticked." };
    let dash = Dash::parse("YYYNYY -YNYYY NYNNYN Y-DYYN");
    let c = case(
        n,
        "Harrowfield",
        whitlock(),
        p("Sarah-Jane", "Tolley", date(1982, 9, 9)),
        p("Gavin", "Royle", date(1980, 12, 31)),
        "Partner",
        visible(14),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral SJT.docx", "docx", None, &referral_docx(&c, n, &HARROWFIELD_LEGACY, false)),
        attach(
            "DASH SJT.docx",
            "docx",
            None,
            &dash_doc(&c, n, "DASH RIC", form::dash_ticks(&dash, Some("Gavin")), form::TickStyle::Legacy),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "docx_legacy_checkboxes"),
    )
}

fn f017() -> Fixture {
    let n = 17;
    let o = Out { n, slug: "council_docx_referral_with_dash_inside", desc: "Children's services: one DOCX holds both the referral form (reasons as content-control checkboxes) and the DASH as a typed table ('Not known'), abuser's first name typed." };
    let dash = Dash::parse("YYYYYY YYNYYY YYNYYN YYNYDN");
    let c = case(
        n,
        "Kingsmere",
        kerrigan(),
        p("Stacey", "Vaughan", date(1992, 11, 3)),
        p("Ricky", "Doyle", date(1990, 9, 27)),
        "Ex-partner",
        visible(18),
        DateFmt::Slash,
    );
    let mut blocks = form::referral_form(&c, &KINGSMERE_CC);
    blocks.push(Block::Heading("7. DASH Risk Identification Checklist".into()));
    blocks.push(Block::Para("Answer every question with the victim: Yes, No or Not known.".into()));
    blocks.push(form::dash_typed(&dash, Some("Ricky"), "Not known", "Answer"));
    let combined = docx::docx(&blocks, KINGSMERE_CC.tick, false, &meta(&c, n, "MARAC referral and DASH"));
    let atts = vec![attach("MARAC referral and DASH - SV.docx", "docx", None, &combined)];
    let text = body(
        &c,
        "Please find attached our referral to MARAC for S.V.; the DASH is included at the end of the form (score 18).",
    );
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &text,
        atts,
        Truth::empty().referral(&c).dash(&dash, "docx_typed"),
    )
}

fn f018() -> Fixture {
    let n = 18;
    let o = Out { n, slug: "idva_ods_dash_odt_referral", desc: "IDVA using LibreOffice: ODS DASH (mimetype first and stored, merged title, repeated empty cells) and ODT referral with ☒/☐ ticks." };
    let dash = Dash::parse("YYYYYY NYNYYY YYNYNN DYNYYY");
    let c = case(
        n,
        "Harrowfield",
        doherty(),
        p("Emma", "Kowalczyk", date(1993, 5, 20)),
        p("Tomasz", "Kowalczyk", date(1991, 2, 14)),
        "Husband",
        visible(17),
        DateFmt::Slash,
    );
    let atts = vec![
        attach(
            "MARAC referral EK.odt",
            "odt",
            None,
            &odf::odt(&form::referral_form(&c, &HARROWFIELD), HARROWFIELD.title, arrival(n).minus_secs(3000)),
        ),
        attach("DASH EK.ods", "ods", None, &odf::ods_dash(&head(&c), &dash, None, arrival(n).minus_secs(3600))),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "ods"),
    )
}

fn f019() -> Fixture {
    let n = 19;
    let o = Out { n, slug: "probation_xlsx_referral_and_dash_one_workbook", desc: "Probation (cjsm): one XLSX workbook with a 'Referral' sheet (label / value) and a 'DASH RIC' sheet; repeat referral with a low score (6)." };
    let dash = Dash::parse("NYNNNY NYNNNN YNNNYD NYNDNN");
    let reasons = Reasons { repeat: true, stated_score: Some(6), ..Reasons::default() };
    let c = case(
        n,
        "Kingsmere",
        beddoes(),
        p("Kirsty", "Lamb", date(1984, 7, 19)),
        p("Paul", "Lamb", date(1981, 10, 10)),
        "Husband (separated)",
        reasons,
        DateFmt::Slash,
    );
    let atts = vec![attach(
        "MARAC referral and DASH - KL.xlsx",
        "xlsx",
        None,
        &xlsx::referral_and_dash(&c, &KINGSMERE, &dash, arrival(n).minus_secs(6000)),
    )];
    let text = body(&c, "Repeat referral for K.L. - further incident this week while the perpetrator is on licence. Referral and DASH are on separate tabs of the attached workbook.");
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &text,
        atts,
        Truth::empty().referral(&c).dash(&dash, "xlsx_answer_column"),
    )
}

fn f020() -> Fixture {
    let n = 20;
    let o = Out { n, slug: "police_forwarded_referral", desc: "Police DA unit forwards a neighbourhood officer's referral: the original e-mail (PDF radio DASH + DOCX referral) is attached as message/rfc822." };
    let dash = Dash::parse("YYYYYY YYYNYY NYNNYN DNYNYY");
    let c = case(
        n,
        "Harrowfield",
        whitlock(),
        p("Claire", "Dobson", date(1975, 11, 11)),
        p("Steven", "Dobson", date(1972, 1, 19)),
        "Husband",
        visible(16),
        DateFmt::Slash,
    );
    let inner_atts = vec![
        attach("MARAC referral CD.docx", "docx", None, &referral_docx(&c, n, &HARROWFIELD, false)),
        attach("DASH CD.pdf", "pdf", None, &radio(&c, n, &dash, Some(16), YND, 0)),
    ];
    let truths: Vec<_> = inner_atts.iter().map(|a| a.truth.clone()).collect();
    let inner_date = arrival(n).minus_secs(26 * 3600);
    let inner = {
        let mut parts = vec![text_plain(&body(
            &c,
            "Sarge - referral and DASH for C.D. attached, score 16. Can you send it on to MARAC please? Thanks",
        ))];
        parts.extend(inner_atts.into_iter().map(|a| a.part));
        let mut m = multi("mixed", "_000_inner_HP7F3A21C0_", parts);
        let ct = m.headers.remove(0);
        let mut headers = vec![
            ("From".to_string(), format!("{} <{}>", c.referrer.name, c.referrer.email)),
            ("To".to_string(), format!("{} <{}>", lowe().name, lowe().email)),
            ("Subject".to_string(), subject(&c)),
            ("Date".to_string(), inner_date.rfc5322()),
            ("Message-ID".to_string(), "<DB9PR06MB7A1C0F3E22@DB9PR06MB7A1C.eurprd06.exch.example.test>".to_string()),
            ("MIME-Version".to_string(), "1.0".to_string()),
        ];
        headers.push(ct);
        Part { headers, body: m.body }
    };
    let rfc822 = Part {
        headers: vec![
            ("Content-Type".into(), "message/rfc822".into()),
            ("Content-Disposition".into(), "attachment".into()),
        ],
        body: Body::Bytes(inner.to_bytes()),
    };
    let fwd = lowe();
    let mut env = Env::new("020_fwd", arrival(n), fwd.name, fwd.email, &format!("FW: {}", subject(&c)));
    env.subject_plain = env.subject.clone();
    let text = format!("Hi MARAC team,\n\nForwarding PC Whitlock's referral for C.D. below - please treat as a referral from the DA Unit.\n\nThanks\n\n{}", signature(&fwd));
    let eml = env.mixed(text_plain(&text), vec![rfc822]);
    let mut t = Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio").atts(truths);
    t.forwarded = true;
    emit(o, eml, t)
}

fn f021() -> Fixture {
    let n = 21;
    let o = Out { n, slug: "nhs_quoted_printable_body", desc: "GP practice: UTF-8 body in quoted-printable (soft line breaks, £, é, curly quotes); victim born 29 February 1992; XLSX answer-column DASH." };
    let dash = Dash::parse("YYYYNY YNYYYY YNNYYY NDYNYN");
    let c = case(
        n,
        "Kingsmere",
        shah(),
        p("Yasmin", "Clarke", date(1992, 2, 29)),
        p("Jermaine", "Clarke", date(1990, 8, 14)),
        "Husband",
        visible(16),
        DateFmt::Slash,
    );
    let text = body(&c, "Please find attached a MARAC referral and DASH for Y.C. – she attended the surgery today with bruising to her arms and told me her husband “won’t let her leave”. She has no access to money (he took her bank card and £300 cash). She asked that we only call her on the safe number given; her café manager is aware and supportive. This line is deliberately long so that the quoted-printable encoding has to insert soft line breaks in the middle of it.");
    let atts = vec![
        attach("MARAC referral YC.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach(
            "DASH YC.xlsx",
            "xlsx",
            None,
            &xlsx::answer_column(&head(&c), &dash, &plain_answers, false, arrival(n).minus_secs(3000)),
        ),
    ];
    let truths = atts.iter().map(|a| a.truth.clone()).collect();
    let env = env_for(n, "a", &c.referrer, &subject(&c));
    let mut parts = vec![mail::text_qp(&text)];
    parts.extend(atts.into_iter().map(|a| a.part));
    let eml = env.message(multi("mixed", &env.boundary(1), parts));
    emit(o, eml, Truth::empty().referral(&c).dash(&dash, "xlsx_answer_column").atts(truths))
}

fn f022() -> Fixture {
    let n = 22;
    let o = Out { n, slug: "idva_rfc2231_filenames", desc: "IDVA: non-ASCII attachment names in RFC 2231 form, one as filename*=UTF-8''... and one split as filename*0*= / filename*1*= continuations (no name parameter in Content-Type)." };
    let dash = Dash::parse("YYYNYY YYYNYN YYDYNY NYNNYN");
    let c = case(
        n,
        "Kingsmere",
        price(),
        p("Siobhán", "Ó Ceallaigh", date(1986, 6, 17)),
        p("Declan", "Fahy", date(1983, 9, 9)),
        "Partner",
        visible(15),
        DateFmt::Slash,
    );
    let ref_name = "MARAC referral – Siobhán Ó Ceallaigh.docx";
    let dash_name = "DASH RIC – Siobhán Ó Ceallaigh – completed 11.03.2025.pdf";
    let enc = rfc2231_pct(dash_name);
    let cut = enc.find("%C3%93").expect("split point");
    let a1 = attach_raw_headers(
        ref_name,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
        format!("attachment;\r\n filename*=UTF-8''{}", rfc2231_pct(ref_name)),
        "docx",
        None,
        &referral_docx(&c, n, &SURVIVOR, false),
    );
    let a2 = attach_raw_headers(
        dash_name,
        "application/pdf".into(),
        format!("attachment;\r\n filename*0*=UTF-8''{};\r\n filename*1*={}", &enc[..cut], &enc[cut..]),
        "pdf",
        None,
        &radio(&c, n, &dash, Some(15), YND, 0),
    );
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        vec![a1, a2],
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"),
    )
}

fn f023() -> Fixture {
    let n = 23;
    let o = Out { n, slug: "council_rfc2047_filename", desc: "Council: XLSX DASH whose file name is RFC 2047-encoded (=?UTF-8?B?...?=) in both name and filename parameters; Polish names with diacritics; X-column DASH." };
    let dash = Dash::parse("YYYYNN YYNYYY YNYNYY DYNNYN");
    let c = case(
        n,
        "Wexcombe",
        forsyth(),
        p("Łucja", "Nowak", date(1997, 4, 14)),
        p("Paweł", "Zieliński", date(1995, 7, 30)),
        "Partner",
        visible(15),
        DateFmt::Iso,
    );
    let name = "Ocena ryzyka DASH – Łucja Nowak.xlsx";
    let enc = rfc2047_b(name);
    let marks = |_q: usize| "X";
    let a2 = attach_raw_headers(
        name,
        format!("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\r\n name=\"{enc}\""),
        format!("attachment;\r\n filename=\"{enc}\""),
        "xlsx",
        None,
        &xlsx::x_columns(&head(&c), &dash, &marks, None, arrival(n).minus_secs(3000)),
    );
    let atts = vec![attach("MARAC referral LN.docx", "docx", None, &referral_docx(&c, n, &WEXCOMBE, false)), a2];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "xlsx_x_columns"),
    )
}

fn f024() -> Fixture {
    let n = 24;
    let o = Out { n, slug: "police_cp1252_subject_latin1_body", desc: "Police: Subject encoded =?windows-1252?Q?...?= (en dash, é, right quote); text body in ISO-8859-1, 8bit; radio PDF DASH." };
    let dash = Dash::parse("YYYYNY YNYYYY YNYYNN DYNNYN");
    let c = case(
        n,
        "Kingsmere",
        raman(),
        p("Renée", "Dubois", date(1993, 1, 25)),
        p("Mark", "Tennant", date(1990, 12, 12)),
        "Ex-partner",
        visible(15),
        DateFmt::Slash,
    );
    let subj_text = format!("MARAC referral – Renée D. – {}’s case", c.police_ref);
    let mut env = env_for(n, "a", &c.referrer, &rfc2047_q("windows-1252", &cp1252(&subj_text)));
    env.subject_plain = env.subject.clone();
    let text = body(&c, "Please find attached a MARAC referral and DASH for Renée D. (score 15). She has been offered a place at the refuge; the café where she works is aware. Costs of £120 for a new phone were covered by victim support.");
    let text_part = Part {
        headers: vec![
            ("Content-Type".into(), "text/plain; charset=\"iso-8859-1\"".into()),
            ("Content-Transfer-Encoding".into(), "8bit".into()),
        ],
        body: Body::Bytes(latin1(&text.replace('\n', "\r\n")).into_iter().chain(*b"\r\n").collect()),
    };
    let atts = vec![
        attach("MARAC referral RD.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH RD.pdf", "pdf", None, &radio(&c, n, &dash, Some(15), YND, 0)),
    ];
    let truths = atts.iter().map(|a| a.truth.clone()).collect();
    let mut parts = vec![text_part];
    parts.extend(atts.into_iter().map(|a| a.part));
    let eml = env.message(multi("mixed", &env.boundary(1), parts));
    emit(o, eml, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio").atts(truths))
}

fn f025() -> Fixture {
    let n = 25;
    let o = Out { n, slug: "nhs_misleading_names_octet_stream", desc: "NHS: attachments declared application/octet-stream with misleading names: a DOCX referral named 'referral.dat' and an XLSX DASH named 'DASH.xls' (kinds come from content)." };
    let dash = Dash::parse("YYYNYY YNYYYN YYNYYN DNYNNY");
    let c = case(
        n,
        "Kingsmere",
        okafor(),
        p("Bethany", "Marsh", date(2000, 1, 15)),
        p("Josh", "Pennock", date(1998, 3, 22)),
        "Boyfriend",
        visible(15),
        DateFmt::Slash,
    );
    let atts = vec![
        attach_as("referral.dat", "application/octet-stream", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach_as(
            "DASH.xls",
            "application/vnd.ms-excel",
            "xlsx",
            None,
            &xlsx::answer_column(&head(&c), &dash, &plain_answers, false, arrival(n).minus_secs(3000)),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "xlsx_answer_column"),
    )
}

fn f026() -> Fixture {
    let n = 26;
    let o = Out { n, slug: "police_large_15mb_pdf", desc: "Police: a valid radio-group PDF DASH of about 15 MB (an uncompressed letterhead image), under the 25 MB attachment limit, must be read normally." };
    let dash = Dash::parse("YYYYYY YYNYYN YYNYNY DNYNNY");
    let c = case(
        n,
        "Kingsmere",
        ames(),
        p("Laura", "Finch", date(1989, 8, 31)),
        p("Michael", "Finch", date(1985, 5, 5)),
        "Husband",
        visible(16),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral LF.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH LF (scanned letterhead).pdf", "pdf", None, &radio(&c, n, &dash, Some(16), YND, 15 * 1024 * 1024)),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"),
    )
}

fn f027() -> Fixture {
    let n = 27;
    let o = Out { n, slug: "police_corrupt_pdf_dash", desc: "Police: the DASH PDF is corrupt (valid header, garbage body, no objects or trailer) -> no readable DASH; referral readable, score 16 stated." };
    let c = case(
        n,
        "Harrowfield",
        lowe(),
        p("Helen", "Ashworth", date(1970, 6, 14)),
        p("Graham", "Ashworth", date(1968, 3, 9)),
        "Husband",
        visible(16),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral HA.docx", "docx", None, &referral_docx(&c, n, &HARROWFIELD, false)),
        attach("DASH HA.pdf", "pdf", Some("corrupt"), &pdf::corrupt("fx27")),
    ];
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, Truth::empty().referral(&c))
}

fn f028() -> Fixture {
    let n = 28;
    let o = Out { n, slug: "nhs_truncated_docx_referral", desc: "NHS: the referral DOCX is truncated (cut mid-archive, no central directory) -> unreadable; the XLSX DASH is fine and names the victim and abuser." };
    let dash = Dash::parse("YYYYNY YNYYYN YYNYNN DNYNNY");
    let c = case(
        n,
        "Kingsmere",
        okafor(),
        p("Nadia", "Rahman", date(1990, 4, 26)),
        p("Tariq", "Rahman", date(1987, 8, 8)),
        "Husband",
        visible(14),
        DateFmt::Slash,
    );
    let full = referral_docx(&c, n, &KINGSMERE, false);
    let truncated = full[..full.len() * 11 / 20].to_vec();
    let atts = vec![
        attach("MARAC referral NR.docx", "docx", Some("truncated"), &truncated),
        attach(
            "DASH NR.xlsx",
            "xlsx",
            None,
            &xlsx::answer_column(&head(&c), &dash, &plain_answers, false, arrival(n).minus_secs(3000)),
        ),
    ];
    let t = from_dash_header(Truth::empty(), &c, None).dash(&dash, "xlsx_answer_column");
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, t)
}

fn f029() -> Fixture {
    let n = 29;
    let o = Out { n, slug: "idva_zip_bomb_docx", desc: "A .docx that is a decompression bomb (word/document.xml inflates to 80 MB of zeros from ~80 KB) -> limit exceeded; the PDF DASH beside it is readable (total 15); male victim." };
    let dash = Dash::parse("YYYYNY YNYYYY YNNYYY DNNNYN");
    let c = case(
        n,
        "Kingsmere",
        price(),
        p("Marcus", "Webb", date(1983, 5, 12)),
        p("Adele", "Webb", date(1985, 8, 19)),
        "Wife",
        visible(15),
        DateFmt::Slash,
    );
    let bomb =
        zipw::bomb_docx(80_000_000, docx::CONTENT_TYPES.as_bytes().to_vec(), docx::PACKAGE_RELS.as_bytes().to_vec());
    let atts = vec![
        attach("MARAC referral - MW.docx", "docx", Some("limit_exceeded"), &bomb),
        attach("DASH RIC - MW.pdf", "pdf", None, &radio(&c, n, &dash, Some(15), YND, 0)),
    ];
    let t = from_dash_header(Truth::empty(), &c, Some(15)).dash(&dash, "pdf_acroform_radio");
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, t)
}

fn logo() -> Vec<u8> {
    let (w, h) = (48u32, 16u32);
    let px: Vec<u8> = (0..w * h).map(|i| if (i % w) / 6 % 2 == (i / w) / 4 % 2 { 60 } else { 230 }).collect();
    png_gray(w, h, &px)
}

fn f030() -> Fixture {
    let n = 30;
    let o = Out { n, slug: "police_tnef_winmail_dat", desc: "Police sent in Outlook rich text: the only attachment is winmail.dat (TNEF: RTF body and a signature image) -> nothing readable, must go to a person." };
    let r = whitlock();
    let env = env_for(n, "a", &r, "OFFICIAL-SENSITIVE: MARAC referral - JM");
    let rtf = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Calibri;}}\\f0\\fs22 Please find attached the MARAC referral and DASH for J.M.\\par}";
    let win = binary::tnef(
        "OFFICIAL-SENSITIVE: MARAC referral - JM",
        arrival(n).minus_secs(90),
        rtf,
        "image001.png",
        &logo(),
    );
    let text = format!(
        "Good afternoon,\n\nPlease find attached the MARAC referral and DASH for J.M.\n\nThanks\n\n{}",
        signature(&r)
    );
    let atts = vec![attach("winmail.dat", "tnef", Some("unsupported"), &win)];
    send(o, env, &text, atts, Truth::empty())
}

fn f031() -> Fixture {
    let n = 31;
    let o = Out { n, slug: "council_legacy_doc_referral", desc: "Children's services: referral as a legacy Word 97-2003 .doc (CFB with WordDocument stream) -> unsupported; flattened X-column PDF DASH readable (total printed)." };
    let dash = Dash::parse("YYYYYN YNYYYN YYNYNY NYDNNY");
    let c = case(
        n,
        "Kingsmere",
        kerrigan(),
        p("Jasmine", "Ford", date(1996, 5, 3)),
        p("Carl", "Ingham", date(1993, 10, 17)),
        "Partner",
        visible(15),
        DateFmt::Slash,
    );
    let text_doc = format!(
        "Kingsmere MARAC Referral Form\rVictim: {}\rDate of birth: {}\rPerpetrator: {}\rDASH score: 15\r",
        c.victim.full(),
        c.victim.dob.slash(),
        c.perp.full()
    );
    let atts = vec![
        attach("MARAC referral JF.doc", "doc", Some("unsupported"), &binary::legacy_doc(&text_doc)),
        attach(
            "DASH JF.pdf",
            "pdf",
            None,
            &pdf::save(pdf::dash_flat("fx31", &head(&c), &dash, Flat::XColumns, None, Some(15), &info(&c, n, "DASH"))),
        ),
    ];
    let t = from_dash_header(Truth::empty(), &c, Some(15)).dash(&dash, "pdf_flattened");
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, t)
}

fn f032() -> Fixture {
    let n = 32;
    let o = Out { n, slug: "police_password_protected_xlsx", desc: "Police: the DASH is a password-protected Excel file (CFB with EncryptionInfo / EncryptedPackage) -> encrypted; referral states 15." };
    let c = case(
        n,
        "Kingsmere",
        ames(),
        p("Ellie", "Marchant", date(1995, 9, 1)),
        p("Scott", "Marchant", date(1992, 4, 20)),
        "Husband",
        visible(15),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral EM.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach_as(
            "DASH RIC - EM.xlsx",
            mail::mime_for("xlsx"),
            "encrypted_office",
            Some("encrypted"),
            &binary::encrypted_office(0xE11E, 9_870),
        ),
    ];
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, Truth::empty().referral(&c))
}

fn f033() -> Fixture {
    let n = 33;
    let o = Out { n, slug: "police_out_of_office", desc: "Out-of-office auto-reply (Auto-Submitted: auto-replied, X-Auto-Response-Suppress) from a police officer: never answered." };
    let r = raman();
    let mut env = env_for(n, "a", &r, "Out of Office: MARAC agenda - March meeting");
    env.has_attach = false;
    env.extra = vec![
        ("Auto-Submitted".into(), "auto-replied".into()),
        ("X-Auto-Response-Suppress".into(), "All".into()),
        ("In-Reply-To".into(), "<marac-agenda-2025-07@marac.example.test>".into()),
    ];
    let text = "Thank you for your e-mail. I am on annual leave until Monday 14 July with no access to e-mail.\n\nFor urgent domestic abuse matters please contact the Public Protection Unit on 01632 960100.\n";
    let eml = env.message(text_plain(text));
    let mut t = Truth::empty();
    t.signals = vec!["auto_reply"];
    emit(o, eml, t)
}

fn f034() -> Fixture {
    let n = 34;
    let o = Out { n, slug: "council_outlook_automatic_reply", desc: "Outlook 'Automatic reply:' with X-Auto-Response-Suppress: All and no Auto-Submitted header: still an auto-reply." };
    let r = forsyth();
    let mut env = env_for(n, "a", &r, "Automatic reply: MARAC referral - ZNB - acknowledgement MRC-2025-0005");
    env.has_attach = false;
    env.extra = vec![
        ("X-Auto-Response-Suppress".into(), "All".into()),
        ("In-Reply-To".into(), "<ack-0005@marac.example.test>".into()),
    ];
    let text = "I am out of the office until 1 August. For housing emergencies call 01632 960400.\n\nDaniel Forsyth\nWexcombe Borough Council\n";
    let eml = env.message(text_plain(text));
    let mut t = Truth::empty();
    t.signals = vec!["auto_reply"];
    emit(o, eml, t)
}

fn f035() -> Fixture {
    let n = 35;
    let o = Out { n, slug: "nhs_delivery_status_notification", desc: "Bounce: multipart/report; report-type=delivery-status from MAILER-DAEMON about an acknowledgement the MARAC inbox sent." };
    let mut env = Env::new(
        "035_dsn",
        arrival(n),
        "Mail Delivery System",
        "MAILER-DAEMON@nhs.example.test",
        "Undelivered Mail Returned to Sender",
    );
    env.outlook = false;
    env.has_attach = false;
    let explain = "This is the mail system at host mail.nhs.example.test.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n<nurse.leaver@nhs.example.test>: host mail.nhs.example.test[198.51.100.40] said:\n    550 5.1.1 <nurse.leaver@nhs.example.test>: Recipient address rejected: User\n    unknown in virtual mailbox table\n";
    let status = format!(
        "Reporting-MTA: dns; mail.nhs.example.test\nX-Postfix-Queue-ID: 4F2A11C0B7\nArrival-Date: {}\n\nFinal-Recipient: rfc822; nurse.leaver@nhs.example.test\nOriginal-Recipient: rfc822;nurse.leaver@nhs.example.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <nurse.leaver@nhs.example.test>: Recipient\n    address rejected: User unknown in virtual mailbox table\n",
        arrival(n).minus_secs(40).rfc5322()
    );
    let orig = format!(
        "From: Kingsmere MARAC <marac@marac.example.test>\nTo: nurse.leaver@nhs.example.test\nSubject: MARAC referral received - MRC-2025-0031\nDate: {}\nMessage-ID: <ack-0031@marac.example.test>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\n",
        arrival(n).minus_secs(45).rfc5322()
    );
    let part = |ct: &str, text: &str| Part {
        headers: vec![("Content-Type".into(), ct.into())],
        body: Body::Bytes(mail::crlf(text)),
    };
    let report = Part {
        headers: vec![(
            "Content-Type".into(),
            format!("multipart/report; report-type=delivery-status;\r\n\tboundary=\"{}\"", env.boundary(1)),
        )],
        body: Body::Multi {
            boundary: env.boundary(1),
            preamble: Some("This is a MIME-encapsulated message.\r\n".into()),
            parts: vec![
                Part {
                    headers: vec![
                        ("Content-Description".into(), "Notification".into()),
                        ("Content-Type".into(), "text/plain; charset=us-ascii".into()),
                    ],
                    body: Body::Bytes(mail::crlf(explain)),
                },
                part("message/delivery-status", &status),
                part("text/rfc822-headers", &orig),
            ],
        },
    };
    let eml = env.message(report);
    let mut t = Truth::empty();
    t.signals = vec!["dsn"];
    emit(o, eml, t)
}

fn f036() -> Fixture {
    let n = 36;
    let o = Out {
        n,
        slug: "idva_mailing_list",
        desc: "Practitioner mailing-list post (List-Id, List-Unsubscribe, Precedence: list): never answered.",
    };
    let mut env = Env::new(
        "036_list",
        arrival(n),
        "DA Practitioners Network",
        "da-practitioners@lists.idva.example.test",
        "[DA-Practitioners] Reminder: quarterly MARAC data return due Friday",
    );
    env.outlook = false;
    env.has_attach = false;
    env.extra = vec![
        ("Sender".into(), "da-practitioners-bounces@lists.idva.example.test".into()),
        ("List-Id".into(), "DA practitioners network <da-practitioners.lists.idva.example.test>".into()),
        ("List-Unsubscribe".into(), "<mailto:da-practitioners-leave@lists.idva.example.test>".into()),
        ("List-Post".into(), "<mailto:da-practitioners@lists.idva.example.test>".into()),
        ("Precedence".into(), "list".into()),
    ];
    let text = "Dear colleagues,\n\nA reminder that the quarterly MARAC data return is due this Friday. Please send totals only - no names or case details.\n\nThe network team\n\n_______________________________________________\nda-practitioners mailing list\n";
    let eml = env.message(text_plain(text));
    let mut t = Truth::empty();
    t.signals = vec!["list"];
    emit(o, eml, t)
}

fn f037() -> Fixture {
    let n = 37;
    let o = Out { n, slug: "police_stated_score_disagrees", desc: "Police: the referral (and e-mail) state DASH score 16 and tick visible high risk, but the checklist has 12 Yes; the DASH's own total field is empty." };
    let dash = Dash::parse("YYYNNY NYYNYY NYNNYN YDNNDY");
    let c = case(
        n,
        "Kingsmere",
        raman(),
        p("Tanya", "Gould", date(1986, 1, 7)),
        p("Shane", "Gould", date(1984, 2, 16)),
        "Husband",
        visible(16),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral TG.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH TG.pdf", "pdf", None, &radio(&c, n, &dash, None, YND, 0)),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"),
    )
}

fn f038() -> Fixture {
    let n = 38;
    let o = Out { n, slug: "idva_conflicting_answer", desc: "IDVA: checkbox-pair PDF DASH where question 5 has both Yes and No ticked (conflicting: counted unknown, listed in conflicting_questions)." };
    let dash = Dash::parse("YYYYBY NYNYYY NYYNYN DNNYNY");
    let c = case(
        n,
        "Wexcombe",
        doherty(),
        p("Kelly", "Ashdown", date(1991, 12, 1)),
        p("Warren", "Bligh", date(1989, 6, 13)),
        "Ex-partner",
        visible(14),
        DateFmt::Long,
    );
    let opts = PairOpts {
        order: (1..=24).collect(),
        abuser_first: Some("Warren"),
        field_name: pdf::pair_name_dash,
        on: "Yes",
        title: "Wexcombe Domestic Abuse Service - DASH RIC".to_string(),
    };
    let atts = vec![
        attach("MARAC referral KA.docx", "docx", None, &referral_docx(&c, n, &SURVIVOR, false)),
        attach(
            "DASH KA.pdf",
            "pdf",
            None,
            &pdf::save(pdf::dash_pairs("fx38", &head(&c), &dash, &opts, &info(&c, n, "DASH"))),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_checkbox_pairs"),
    )
}

fn f039() -> Fixture {
    let n = 39;
    let o = Out { n, slug: "webmail_sender_complete_referral", desc: "A complete referral (DASH 15) sent from a non-secure webmail address (authentication passes for webmail.example.test): readable, but must be quarantined later." };
    let dash = Dash::parse("YYYYNY YNYYYY YNYYNN DYNNYN");
    let c = case(
        n,
        "Kingsmere",
        marsh_webmail(),
        p("Donna", "Tate", date(1983, 3, 30)),
        p("Ian", "Tate", date(1980, 11, 2)),
        "Husband",
        visible(15),
        DateFmt::Slash,
    );
    let mut env = env_for(n, "a", &c.referrer, "marac referral");
    env.outlook = false;
    let atts = vec![
        attach("referral donna.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("dash donna.pdf", "pdf", None, &radio(&c, n, &dash, Some(15), YND, 0)),
    ];
    let text = "Hi, sending this from my own email as our system is down. Referral and DASH attached for Donna, score 15.\nLisa\n";
    send(o, env, text, atts, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"))
}

fn f040() -> Fixture {
    let n = 40;
    let o = Out { n, slug: "police_reply_to_secure_and_cc", desc: "Police sergeant: Reply-To the PPU team mailbox (secure) and a Cc to a colleague; the same victim as 001 with DOB written '3rd Jul 1991'." };
    let dash = Dash::parse("YYYYYY NYNYYY YNYNYN DNYYNY");
    let c = case(
        n,
        "Kingsmere",
        ayre(),
        p("Rebecca", "Hollins", date(1991, 7, 3)),
        p("Darren", "Hollins", date(1988, 11, 14)),
        "Husband",
        visible(16),
        DateFmt::Ordinal,
    );
    let mut env = env_for(n, "a", &c.referrer, &subject(&c));
    env.reply_to = Some("Kingsmere PPU Referrals <ppu.referrals@kingsmere.pnn.police.example.test>".into());
    env.cc = Some("DC Priya Raman <priya.raman@kingsmere.pnn.police.example.test>".into());
    let atts = vec![
        attach("MARAC referral RH (2).docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH RH (2).pdf", "pdf", None, &radio(&c, n, &dash, Some(16), YND, 0)),
    ];
    send(o, env, &std_body(&c), atts, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"))
}

fn f041() -> Fixture {
    let n = 41;
    let o = Out { n, slug: "nhs_reply_to_nonsecure", desc: "GP: Reply-To a personal webmail address (not secure) and a Cc to the practice manager; otherwise a complete referral." };
    let dash = Dash::parse("YYYYYY YYYYYY YNYYYY YYNYNY");
    let c = case(
        n,
        "Kingsmere",
        shah(),
        p("Rachel", "Denby", date(1979, 4, 9)),
        p("Martin", "Denby", date(1977, 7, 22)),
        "Husband",
        visible(21),
        DateFmt::Slash,
    );
    let mut env = env_for(n, "a", &c.referrer, &subject(&c));
    env.reply_to = Some("Imran Shah <imran.shah.gp@webmail.example.test>".into());
    env.cc = Some("Practice Manager <ashbyvale.manager@nhs.example.test>".into());
    let atts = vec![
        attach("MARAC referral RD.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH RD.pdf", "pdf", None, &radio(&c, n, &dash, Some(21), YND, 0)),
    ];
    send(o, env, &std_body(&c), atts, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"))
}

fn f042() -> Fixture {
    let n = 42;
    let o = Out { n, slug: "nhs_no_attachments", desc: "NHS: 'please find attached' but nothing is attached." };
    let r = okafor();
    let mut env = env_for(n, "a", &r, "MARAC referral - VP");
    env.has_attach = false;
    let text = format!("Hello,\n\nPlease find attached a MARAC referral and DASH for V.P. who I saw in clinic this morning.\n\nKind regards\n\n{}", signature(&r));
    let eml = env.message(text_plain(&text));
    emit(o, eml, Truth::empty())
}

fn spoof_case(n: u32, r: Referrer, v: Person, perp: Person, answers: &str) -> (Case, Dash) {
    let dash = Dash::parse(answers);
    let yes = dash.counts().yes;
    (case(n, "Kingsmere", r, v, perp, "Partner", visible(yes), DateFmt::Slash), dash)
}

fn f043() -> Fixture {
    let n = 43;
    let o = Out { n, slug: "police_dmarc_fail", desc: "A complete referral (DASH 19) claiming to be from Kingsmere Police but mx.marac.example.test recorded dmarc=fail (spf and dkim fail): readable, must be quarantined later." };
    let (c, dash) = spoof_case(
        n,
        raman(),
        p("Amber", "Sykes", date(1994, 8, 18)),
        p("Reece", "Hatton", date(1992, 12, 5)),
        "YYYYYN YYYYYY YNYYYY YDNYYN",
    );
    let mut env = env_for(n, "a", &c.referrer, &subject(&c));
    env.auth = Auth::DmarcFail;
    let atts = vec![
        attach("MARAC referral AS.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH AS.pdf", "pdf", None, &radio(&c, n, &dash, c.reasons.stated_score, YND, 0)),
    ];
    send(o, env, &std_body(&c), atts, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"))
}

fn f044() -> Fixture {
    let n = 44;
    let o = Out { n, slug: "police_foreign_authserv_dmarc_fail", desc: "Authentication passes at mx.marac.example.test; a second Authentication-Results header from another authserv-id (filter.<sender domain>) says dmarc=fail and must be ignored." };
    let (c, dash) = spoof_case(
        n,
        ames(),
        p("Lydia", "Pearce", date(1988, 5, 27)),
        p("Owen", "Pearce", date(1986, 1, 3)),
        "YYYNNY YNYYYN YNYYNN DYNYYN",
    );
    let mut env = env_for(n, "a", &c.referrer, &subject(&c));
    env.auth = Auth::PassWithForeignFail;
    let atts = vec![
        attach("MARAC referral LP.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("DASH LP.pdf", "pdf", None, &radio(&c, n, &dash, c.reasons.stated_score, YND, 0)),
    ];
    send(o, env, &std_body(&c), atts, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"))
}

fn f045() -> Fixture {
    let n = 45;
    let o = Out { n, slug: "council_spf_dkim_fail", desc: "Council address with spf=fail and dkim=fail (dmarc=none) at mx.marac.example.test; every DASH answer Yes (24): readable, must be quarantined later." };
    let (c, dash) = spoof_case(
        n,
        hart(),
        p("Megan", "Rudd", date(1997, 10, 24)),
        p("Kieran", "Lusk", date(1995, 3, 11)),
        "YYYYYY YYYYYY YYYYYY YYYYYY",
    );
    let mut env = env_for(n, "a", &c.referrer, &subject(&c));
    env.auth = Auth::SpfDkimFail;
    let atts = vec![
        attach("MARAC referral MR.docx", "docx", None, &referral_docx(&c, n, &WEXCOMBE, false)),
        attach("DASH MR.pdf", "pdf", None, &radio(&c, n, &dash, c.reasons.stated_score, YND, 0)),
    ];
    send(o, env, &std_body(&c), atts, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"))
}

fn f046() -> Fixture {
    let n = 46;
    let o = Out { n, slug: "idva_repeat_referral_same_victim", desc: "IDVA: repeat MARAC referral (repeat ticked, score 7) for the victim of 001/040, DOB written '3.7.91'; typed DOCX DASH." };
    let dash = Dash::parse("YNYNNY NNYNNY NNNYNN DYNNDN");
    let reasons = Reasons { repeat: true, stated_score: Some(7), ..Reasons::default() };
    let c = case(
        n,
        "Kingsmere",
        price(),
        p("Rebecca", "Hollins", date(1991, 7, 3)),
        p("Darren", "Hollins", date(1988, 11, 14)),
        "Husband",
        reasons,
        DateFmt::DotShort,
    );
    let atts = vec![
        attach("Repeat referral RH.docx", "docx", None, &referral_docx(&c, n, &SURVIVOR, false)),
        attach(
            "DASH RH.docx",
            "docx",
            None,
            &dash_doc(
                &c,
                n,
                "DASH",
                form::dash_typed(&dash, Some("Darren"), "Don't know", "Answer"),
                form::TickStyle::YesNo,
            ),
        ),
    ];
    let text = body(&c, "Repeat referral for R.H. - a further incident on Saturday (threats made outside her work). Referral and DASH attached.");
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &text,
        atts,
        Truth::empty().referral(&c).dash(&dash, "docx_typed"),
    )
}

fn f047() -> Fixture {
    let n = 47;
    let o = Out { n, slug: "police_pj_without_rationale", desc: "Police: professional judgement ticked with an empty rationale (incomplete), score 10, content-control reason boxes." };
    let dash = Dash::parse("YNYYNY NYNNYY NYNNYN NDNNDY");
    let reasons = Reasons { pj: true, stated_score: Some(10), ..Reasons::default() };
    let c = case(
        n,
        "Kingsmere",
        ames(),
        p("Holly", "Brennan", date(1999, 1, 21)),
        p("Callum", "Reid", date(1998, 9, 9)),
        "Boyfriend",
        reasons,
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral HB.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE_CC, false)),
        attach("DASH HB.pdf", "pdf", None, &radio(&c, n, &dash, Some(10), YND, 0)),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio"),
    )
}

fn f048() -> Fixture {
    let n = 48;
    let o = Out { n, slug: "police_escalation_five_callouts", desc: "Police: potential escalation ticked with 5 call-outs in 12 months, DASH only 6 Yes (flattened answer-column PDF)." };
    let dash = Dash::parse("NYYNNN YNNNYN NNNNYN DNNYDN");
    let reasons = Reasons { escalation: true, callouts: Some(5), stated_score: Some(6), ..Reasons::default() };
    let c = case(
        n,
        "Harrowfield",
        whitlock(),
        p("Toni", "Garside", date(1987, 12, 14)),
        p("Wayne", "Garside", date(1985, 2, 27)),
        "Husband",
        reasons,
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral TG.docx", "docx", None, &referral_docx(&c, n, &HARROWFIELD, false)),
        attach(
            "DASH TG.pdf",
            "pdf",
            None,
            &pdf::save(pdf::dash_flat(
                "fx48",
                &head(&c),
                &dash,
                Flat::AnswerColumn,
                Some("Wayne"),
                Some(6),
                &info(&c, n, "DASH"),
            )),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "pdf_flattened"),
    )
}

fn f049() -> Fixture {
    let n = 49;
    let o = Out { n, slug: "nhs_html_body_inline_logo_and_notes", desc: "NHS: multipart/related HTML + text body with an inline signature logo (image001.png), a text notes attachment, radio PDF DASH with export values Yes / No / Unknown." };
    let dash = Dash::parse("YYYYNY YNDYYY YNYYNN DYNYYY");
    let c = case(
        n,
        "Kingsmere",
        okafor(),
        p("Georgia", "Platt", date(2002, 6, 6)),
        p("Kai", "Moran", date(2000, 4, 1)),
        "Partner",
        visible(16),
        DateFmt::Slash,
    );
    let env = env_for(n, "a", &c.referrer, &subject(&c));
    let plain = std_body(&c);
    let html = format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><p>Good morning,</p><p>Please find attached a MARAC referral and DASH RIC for {} &#8211; score 16.</p><p>Kind regards</p><p>{}<br>{}<br>{}</p><p><img src=\"cid:image001.png@01DB8C2A.5E3F1B20\" width=\"48\" height=\"16\" alt=\"logo\"></p></body></html>",
        c.victim.initials(),
        c.referrer.name,
        c.referrer.role,
        c.referrer.agency
    );
    let img = Part {
        headers: vec![
            ("Content-Type".into(), "image/png; name=\"image001.png\"".into()),
            ("Content-Description".into(), "image001.png".into()),
            ("Content-Disposition".into(), "inline; filename=\"image001.png\"".into()),
            ("Content-ID".into(), "<image001.png@01DB8C2A.5E3F1B20>".into()),
            ("Content-Transfer-Encoding".into(), "base64".into()),
        ],
        body: Body::Bytes(base64_lines(&logo(), 76)),
    };
    let related = multi(
        "related",
        &env.boundary(2),
        vec![multi("alternative", &env.boundary(3), vec![mail::text_qp(&plain), mail::text_html_qp(&html)]), img],
    );
    let notes = "Case notes (for the coordinator)\n- Safe to call between 9 and 3 on the safe number.\n- Perpetrator works nights.\n";
    let atts = vec![
        attach("MARAC referral GP.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE_CC, false)),
        attach("DASH GP.pdf", "pdf", None, &radio(&c, n, &dash, Some(16), ["Yes", "No", "Unknown"], 0)),
        attach_as("case notes.txt", "text/plain; charset=\"us-ascii\"", "text", None, &mail::crlf(notes)),
    ];
    let mut truths = vec![crate::manifest::Att { name: "image001.png".into(), kind: "image", problem: None }];
    truths.extend(atts.iter().map(|a| a.truth.clone()));
    let mut parts = vec![related];
    parts.extend(atts.into_iter().map(|a| a.part));
    let eml = env.message(multi("mixed", &env.boundary(1), parts));
    emit(o, eml, Truth::empty().referral(&c).dash(&dash, "pdf_acroform_radio").atts(truths))
}

fn f050() -> Fixture {
    let n = 50;
    let o = Out { n, slug: "police_dash_only_no_referral_form", desc: "Police: only a partly completed radio PDF DASH is attached (18 questions unanswered, total 4), no referral form; victim and abuser come from the DASH header, stated score from its total field." };
    let dash = Dash::parse("YY-Y-- -N---- -N---- Y-----");
    let c = case(
        n,
        "Kingsmere",
        raman(),
        p("Nicole", "Vance", date(1993, 3, 16)),
        p("Jamie", "Cole", date(1991, 7, 7)),
        "Ex-partner",
        Reasons::default(),
        DateFmt::Slash,
    );
    let atts = vec![attach("DASH RIC - NV.pdf", "pdf", None, &radio(&c, n, &dash, Some(4), YND, 0))];
    let text = body(&c, "DASH attached for N.V. - she was only able to answer a few questions before she had to leave. Referral form to follow.");
    let t = from_dash_header(Truth::empty(), &c, Some(4)).dash(&dash, "pdf_acroform_radio");
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &text, atts, t)
}

fn f051() -> Fixture {
    let n = 51;
    let o = Out {
        n,
        slug: "idva_referral_only_no_dash",
        desc: "IDVA: only the referral form is attached (claims visible high risk, score 15); no DASH.",
    };
    let c = case(
        n,
        "Kingsmere",
        price(),
        p("Tasha", "Millward", date(1990, 9, 19)),
        p("Rhys", "Talbot", date(1988, 5, 1)),
        "Partner",
        visible(15),
        DateFmt::Long,
    );
    let atts = vec![attach("MARAC referral TM.docx", "docx", None, &referral_docx(&c, n, &SURVIVOR, false))];
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &std_body(&c), atts, Truth::empty().referral(&c))
}

fn f052() -> Fixture {
    let n = 52;
    let o = Out { n, slug: "council_docx_dash_typed_not_known", desc: "Council: DOCX DASH table with typed answers 'Not known' and blanks, abuser's first name in the questions; 'person at risk' referral with ISO dates, escalation with 3 call-outs and visible high risk." };
    let dash = Dash::parse("YYYYYY YNYYYY -NYYNY DYYN-Y");
    let reasons =
        Reasons { visible: true, stated_score: Some(17), escalation: true, callouts: Some(3), ..Reasons::default() };
    let c = case(
        n,
        "Wexcombe",
        hart(),
        p("Carys", "Pugh", date(1998, 2, 2)),
        p("Dylan", "Rowlands", date(1996, 11, 11)),
        "Ex-partner",
        reasons,
        DateFmt::Iso,
    );
    let atts = vec![
        attach("MARAC referral CP.docx", "docx", None, &referral_docx(&c, n, &WEXCOMBE, true)),
        attach(
            "RIC CP.docx",
            "docx",
            None,
            &dash_doc(
                &c,
                n,
                "Risk Identification Checklist",
                form::dash_typed(&dash, Some("Dylan"), "Not known", "Y / N / Not known"),
                form::TickStyle::YesNo,
            ),
        ),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "docx_typed"),
    )
}

fn f053() -> Fixture {
    let n = 53;
    let o = Out { n, slug: "council_xls_biff8_dash", desc: "Council: DASH as a legacy Excel 97-2003 .xls (BIFF8 workbook in a compound file: SST strings, LABELSST / NUMBER cells), answer column with Yes / No / Don't know / blank." };
    let dash = Dash::parse("YYNYNY YNYYNY -YNNYN DNYY-N");
    let reasons = Reasons { pj: true, stated_score: Some(12), rationale: Some("Victim has learning disabilities and relies on the perpetrator for care; recent threats with a knife reported by the day centre."), ..Reasons::default() };
    let c = case(
        n,
        "Wexcombe",
        forsyth(),
        p("Sian", "Hughes", date(1981, 10, 28)),
        p("Gareth", "Hughes", date(1979, 5, 4)),
        "Brother",
        reasons,
        DateFmt::Iso,
    );
    let h = head(&c);
    let mut cells: Vec<(u16, u16, binary::XlsCell)> =
        vec![(0, 0, binary::XlsCell::Text(format!("{} - DASH Risk Identification Checklist", c.area)))];
    for (i, (l, v)) in [
        ("Victim name", &h.victim),
        ("Victim DOB", &h.dob),
        ("Abuser name", &h.abuser),
        ("Date completed", &h.completed),
        ("Completed by", &h.by),
    ]
    .iter()
    .enumerate()
    {
        cells.push((2 + i as u16, 0, binary::XlsCell::Text(l.to_string())));
        cells.push((2 + i as u16, 1, binary::XlsCell::Text(v.to_string())));
    }
    for (col, t) in ["No", "Question", "Answer", "Comments"].iter().enumerate() {
        cells.push((8, col as u16, binary::XlsCell::Text(t.to_string())));
    }
    for q in 1..=24u16 {
        let r = 8 + q;
        cells.push((r, 0, binary::XlsCell::Number(f64::from(q))));
        cells.push((r, 1, binary::XlsCell::Text(crate::data::question(q as usize, None))));
        let a = plain_answers(q as usize, dash.answers[q as usize - 1]);
        if !a.is_empty() {
            cells.push((r, 2, binary::XlsCell::Text(a.to_string())));
        }
    }
    let atts = vec![
        attach("MARAC referral SH.docx", "docx", None, &referral_docx(&c, n, &WEXCOMBE, false)),
        attach("DASH SH.xls", "xls", None, &binary::xls("DASH", &h.by, &cells)),
    ];
    send(
        o,
        env_for(n, "a", &c.referrer, &subject(&c)),
        &std_body(&c),
        atts,
        Truth::empty().referral(&c).dash(&dash, "xls_answer_column"),
    )
}

/// A phone photo of a paper form: grey paper, dark text lines, answer boxes.
fn photo_of_form() -> Vec<u8> {
    let (w, h) = (180u32, 250u32);
    let mut rng = crate::util::Rng::new(0xF070);
    let mut px = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let shade = 150 + (x + y) / 8; // uneven light across the page
            let line = y > 20 && y < 240 && y % 9 < 2 && x > 12 && x < 110 + (y * 13 % 30);
            let boxed = y > 40 && y < 240 && y % 9 < 5 && [125u32, 140, 155].iter().any(|&c| x >= c && x < c + 5);
            let v = if line || boxed { 40 + rng.below(30) as u32 } else { shade.min(235) - rng.below(12) as u32 };
            px.push(v as u8);
        }
    }
    png_gray(w, h, &px)
}

fn f054() -> Fixture {
    let n = 54;
    let o = Out { n, slug: "police_dash_photographed_png", desc: "Police: the DASH is a phone photo of the paper form attached as a PNG (an image of a form: scanned, no readable DASH); the DOCX referral states score 14." };
    let c = case(
        n,
        "Kingsmere",
        ames(),
        p("Roxanne", "Hurst", date(1991, 4, 2)),
        p("Lewis", "Kemp", date(1989, 12, 19)),
        "Partner",
        visible(14),
        DateFmt::Slash,
    );
    let atts = vec![
        attach("MARAC referral RH.docx", "docx", None, &referral_docx(&c, n, &KINGSMERE, false)),
        attach("IMG_2041.png", "image", Some("scanned"), &photo_of_form()),
    ];
    let text =
        body(&c, "Referral attached. I only had a paper DASH with me so I have attached a photo of it - score 14.");
    send(o, env_for(n, "a", &c.referrer, &subject(&c)), &text, atts, Truth::empty().referral(&c))
}
