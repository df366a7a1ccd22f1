use super::*;
use crate::config::parse;
use crate::inspect::{AttachmentReport, Inspection, Outcome as ReadOutcome, Place};
use crate::mime::{Envelope, Mailbox};
use crate::recognise::dash::Dash;
use crate::recognise::referral::Referral;
use proptest::prelude::*;

fn config(threshold: u8, callouts: u32) -> Config {
    config_with(threshold, callouts, "")
}

/// `config` with more `[threshold]` keys (`extra`, TOML lines).
fn config_with(threshold: u8, callouts: u32, extra: &str) -> Config {
    let text = format!(
        "area = \"T\"\n[threshold]\ndash_score = {threshold}\nescalation_callouts = {callouts}\n{extra}\n\
             [senders]\nallow = [\"*.pnn.police.example.test\"]\ntrusted_authserv_id = \"mx.example.test\"\n\
             [schedule]\nkind = \"weekly\"\nweekday = \"tue\"\n[replies]\nfrom = \"marac@example.test\"\n"
    );
    parse(&text, Vec::new()).unwrap().build().unwrap()
}

/// A referral from a secure sender: a form (attachment 1) naming the victim, with its four
/// reason boxes found (professional judgement ticked when `pj` is given), and a DASH
/// (attachment 2) with `yes` Yes answers.
fn referral(yes: u8, callouts: Option<u32>, pj: Option<&str>) -> Inspection {
    let mut r = Referral::default();
    r.fields.insert("victim.name".into(), "A Person".into());
    r.found_at.insert("victim.name".into(), "table 3, row 1".into());
    r.attachments = vec!["1".into()];
    for k in ["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"] {
        r.reasons.insert(k.into(), false);
    }
    r.police_callouts = callouts;
    if let Some(text) = pj {
        r.reasons.insert("professional_judgement".into(), true);
        r.fields.insert("professional_judgement_rationale".into(), text.into());
    }
    let attachment = |at: &str, found: &'static str| AttachmentReport {
        at: at.into(),
        name: None,
        declared_type: "application/pdf".into(),
        inline: false,
        kind: FileKind::Pdf,
        size: 1,
        sha256: String::new(),
        outcome: ReadOutcome::Read,
        problems: vec![],
        recognised: vec![found],
        blocks: 1,
        fields: 0,
    };
    Inspection {
        message_sha256: String::new(),
        size: 0,
        envelope: Envelope {
            from: Some(Mailbox { name: None, address: "pc@x.pnn.police.example.test".into() }),
            // Proven: the receiving server recorded an aligned DMARC pass.
            authentication_results: vec![crate::mime::parse_authentication_results("mx.example.test; dmarc=pass header.from=x.pnn.police.example.test").unwrap()],
            originators: crate::mime::Originators { from_headers: 1, from_addresses: 1, sender_headers: 0, reply_to_headers: 0 },
            ..Envelope::default()
        },
        signals: vec![],
        refers: crate::mime::Refers::default(),
        attachments: vec![attachment("1", "referral"), attachment("2", "dash")],
        dash: Some(Dash {
            yes,
            no: 24 - yes,
            unknown: 0,
            dont_know: 0,
            blank: 0,
            stated_total: None,
            answers: vec![],
            attachment: "2".into(),
            problems: vec![],
        }),
        referral: Some(r),
        problems: vec![],
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()
}

proptest! {
    /// Visible high risk is exactly "Yes answers at or above the threshold".
    #[test]
    fn threshold_decides_exactly(threshold in 1u8..=24, yes in 0u8..=24) {
        let d = decide(&referral(yes, None, None), &History::default(), &config(threshold, 3), day());
        if yes >= threshold {
            prop_assert_eq!(d.outcome, Outcome::Accepted);
            prop_assert_eq!(d.criteria, vec![Criterion::VisibleHighRisk]);
            prop_assert_eq!(d.reply, ReplyKind::Acknowledgement);
        } else {
            prop_assert_eq!(d.outcome, Outcome::Rejected);
            prop_assert!(d.reasons.iter().any(|r| r.contains(&threshold.to_string())));
        }
    }

    /// Escalation is exactly "call-outs at or above the threshold", whatever the score below it.
    #[test]
    fn escalation_decides_exactly(threshold in 1u32..10, callouts in 0u32..12, yes in 0u8..14) {
        let d = decide(&referral(yes, Some(callouts), None), &History::default(), &config(14, threshold), day());
        prop_assert_eq!(d.outcome == Outcome::Accepted, callouts >= threshold);
    }

    /// A repeat qualifies whatever the score, within the window counted from the last referral.
    #[test]
    fn repeat_window_counts_from_the_last_referral(days_ago in 0i64..800, yes in 0u8..14) {
        let h = History {
            person: Some(PersonHistory { pending_case: None, last_referral: Some((day() - chrono::Duration::days(days_ago), true)), last_heard: None }),
            ..History::default()
        };
        let d = decide(&referral(yes, None, None), &h, &config(14, 3), day());
        prop_assert_eq!(d.outcome == Outcome::Accepted, days_ago <= 365);
    }
}

/// A person last referred `referred` days before `day()`, that case heard (or not) at a meeting
/// `heard_at` days before `day()` (None: its date is not recorded).
fn heard(referred: i64, was_heard: bool, heard_at: Option<i64>) -> History {
    let ago = |days| day() - chrono::Duration::days(days);
    History { person: Some(PersonHistory { pending_case: None, last_referral: Some((ago(referred), was_heard)), last_heard: heard_at.map(ago) }), ..History::default() }
}

fn last_meeting() -> Config {
    config_with(14, 3, "repeat_from = \"last_meeting\"\n")
}

proptest! {
    /// With `repeat_from = "last_meeting"`, the window is counted from the meeting that heard
    /// the last case, which is on or after its referral; the default still counts from the
    /// referral, whatever the meeting's date.
    #[test]
    fn repeat_window_counts_from_the_meeting_when_asked(referred in 0i64..800, gap in 0i64..120, yes in 0u8..14) {
        let met = gap.min(referred);
        let h = heard(referred, true, Some(referred - met));
        let d = decide(&referral(yes, None, None), &h, &last_meeting(), day());
        prop_assert_eq!(d.outcome == Outcome::Accepted, referred - met <= 365, "{:?}", d.reasons);
        let d = decide(&referral(yes, None, None), &h, &config(14, 3), day());
        prop_assert_eq!(d.outcome == Outcome::Accepted, referred <= 365, "{:?}", d.reasons);
    }
}

#[test]
fn a_repeat_from_the_last_meeting_says_which_meeting() {
    // Referred 300 days ago, heard 240 days ago: outside the window from the referral of 200
    // days, inside it from the meeting.
    let c = config_with(14, 3, "repeat_from = \"last_meeting\"\nrepeat_window_days = 250\n");
    let d = decide(&referral(3, None, None), &heard(300, true, Some(240)), &c, day());
    assert_eq!((d.outcome, d.criteria.clone()), (Outcome::Accepted, vec![Criterion::Repeat]), "{:?}", d.reasons);
    assert_eq!(d.reasons, vec!["repeat: last heard at the MARAC of 2024-07-06, 240 days ago (window 250 days)".to_owned()]);
    let from_referral = config_with(14, 3, "repeat_window_days = 250\n");
    assert_eq!(decide(&referral(3, None, None), &heard(300, true, Some(240)), &from_referral, day()).outcome, Outcome::Rejected);
    let d = decide(&referral(3, None, None), &heard(200, true, Some(190)), &from_referral, day());
    assert_eq!(d.reasons, vec!["repeat: last referred 200 days ago (window 250 days)".to_owned()], "the default's words are today's");
}

#[test]
fn a_last_case_not_heard_yet_is_never_a_repeat() {
    for c in [config(14, 3), last_meeting()] {
        for h in [heard(30, false, None), heard(30, false, Some(10))] {
            let d = decide(&referral(3, None, None), &h, &c, day());
            assert!(!d.criteria.contains(&Criterion::Repeat), "{:?}", d.reasons);
            assert_eq!(d.outcome, Outcome::Rejected, "below the threshold and no repeat: {:?}", d.reasons);
        }
    }
}

#[test]
fn a_meeting_whose_date_is_not_recorded_is_counted_from_its_referral() {
    let d = decide(&referral(3, None, None), &heard(100, true, None), &last_meeting(), day());
    assert_eq!(d.outcome, Outcome::Accepted);
    assert!(d.reasons[0].contains("last referred 100 days ago") && d.reasons[0].contains("not recorded"), "{:?}", d.reasons);
    assert_eq!(decide(&referral(3, None, None), &heard(400, true, None), &last_meeting(), day()).outcome, Outcome::Rejected);
}

#[test]
fn a_repeat_not_found_names_what_the_window_is_counted_from() {
    let mut i = referral(3, None, None);
    i.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
    i.referral.as_mut().unwrap().reasons.insert("professional_judgement".into(), true);
    let failed = |c: &Config| criterion_grounds(&i, c).into_iter().find(|g| g.0 == Ground::RepeatNotFound).map(|g| g.1).unwrap();
    assert!(failed(&config(14, 3)).contains("no earlier referral of this person to this MARAC within the last 365 days"));
    assert!(failed(&last_meeting()).contains("no case of this person heard at this MARAC within the last 365 days"));
}

// ---- threshold.forms: which documents a referral must carry

/// `referral` without its DASH: the form alone (attachment 1).
fn form_only(mut i: Inspection) -> Inspection {
    i.dash = None;
    i.attachments.truncate(1);
    i
}

/// A DASH with `yes` Yes answers and no referral form (attachment 2 only).
fn dash_only(yes: u8) -> Inspection {
    let mut i = referral(yes, None, None);
    i.referral = None;
    i.attachments.remove(0);
    i
}

fn forms(value: &str) -> Config {
    config_with(14, 3, &format!("forms = \"{value}\"\n"))
}

const PJ: &str = "escalating threats after separation";

#[test]
fn forms_any_is_todays_behaviour() {
    let cases = [
        referral(16, None, None),
        referral(5, None, None),
        form_only(referral(5, None, Some(PJ))),
        form_only(referral(5, None, None)),
        form_only(referral(5, Some(4), None)),
        dash_only(16),
        dash_only(5),
    ];
    for i in &cases {
        for h in [History::default(), heard(100, true, None)] {
            assert_eq!(decide(i, &h, &forms("any"), day()), decide(i, &h, &config(14, 3), day()));
        }
    }
    // Today: a DASH alone goes to a coordinator, whatever its score.
    for yes in [16, 5] {
        let d = decide(&dash_only(yes), &History::default(), &config(14, 3), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding), "{:?}", d.reasons);
        assert!(!d.reasons.iter().any(|r| r == BOTH_FORM_TO_SEND), "{:?}", d.reasons);
    }
}

#[test]
fn both_forms_a_missing_dash_is_a_rejection_that_names_it_when_no_criterion_is_met() {
    let d = decide(&form_only(referral(5, None, None)), &History::default(), &forms("both"), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Rejected, ReplyKind::Rejection), "{:?}", d.reasons);
    assert_eq!(d.grounds, vec![Ground::DashMissing]);
    assert!(d.reasons[0].contains("needs the completed MARAC referral form and a completed DASH RIC") && d.reasons[0].contains("please attach the DASH"), "{:?}", d.reasons);
    // By default, the same referral is rejected on its failed criterion, not for the DASH.
    let today = decide(&form_only(referral(5, None, None)), &History::default(), &config(14, 3), day());
    assert_eq!(today.grounds, vec![Ground::NoCriterion]);
}

#[test]
fn both_forms_a_missing_dash_is_never_an_automatic_rejection_of_a_referral_that_qualifies() {
    // Professional judgement, escalation, a repeat: accepted, and the coordinator told to ask
    // for the DASH, as when visible high risk is claimed without one.
    for (i, h, met) in [
        (form_only(referral(5, None, Some(PJ))), History::default(), Criterion::ProfessionalJudgement),
        (form_only(referral(5, Some(4), None)), History::default(), Criterion::PotentialEscalation),
        (form_only(referral(5, None, None)), heard(100, true, None), Criterion::Repeat),
    ] {
        let d = decide(&i, &h, &forms("both"), day());
        assert_eq!((d.outcome, d.criteria.clone()), (Outcome::Accepted, vec![met]), "{:?}", d.reasons);
        assert!(d.reasons.iter().any(|r| r.contains("needs the referral form and a DASH") && r.contains("please ask the referrer for the DASH")), "{:?}", d.reasons);
        let today = decide(&i, &h, &config(14, 3), day());
        assert_eq!((today.outcome, today.criteria), (Outcome::Accepted, vec![met]));
    }
    // `dash_required = "always"` still rejects as it did.
    let always = config_with(14, 3, "forms = \"both\"\ndash_required = \"always\"\n");
    let d = decide(&form_only(referral(5, None, Some(PJ))), &History::default(), &always, day());
    assert_eq!((d.outcome, d.grounds), (Outcome::Rejected, vec![Ground::DashMissing]));
}

#[test]
fn both_forms_a_missing_dash_is_not_rejected_while_an_attachment_may_be_it() {
    let mut i = form_only(referral(5, None, None));
    let mut other = i.attachments[0].clone();
    other.at = "2".into();
    other.recognised.clear();
    i.attachments.push(other);
    let d = decide(&i, &History::default(), &forms("both"), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding), "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.contains("attachment 2 (a PDF) could not be recognised")), "{:?}", d.reasons);
}

#[test]
fn both_forms_a_missing_referral_form_is_asked_for_in_a_holding_reply_never_a_rejection() {
    for yes in [16, 5] {
        let d = decide(&dash_only(yes), &History::default(), &forms("both"), day());
        assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding), "{:?}", d.reasons);
        assert!(d.reasons_for_referrer().iter().any(|r| r == BOTH_FORM_TO_SEND), "{:?}", d.reasons);
    }
    // An attachment nobody recognised may be the form: not asked for, a coordinator reads it.
    let mut i = dash_only(16);
    let mut other = i.attachments[0].clone();
    other.at = "1".into();
    other.recognised.clear();
    i.attachments.insert(0, other);
    let d = decide(&i, &History::default(), &forms("both"), day());
    assert_eq!(d.outcome, Outcome::Review);
    assert!(!d.reasons.iter().any(|r| r == BOTH_FORM_TO_SEND), "{:?}", d.reasons);
    // Both forms there: decided as ever.
    assert_eq!(decide(&referral(16, None, None), &History::default(), &forms("both"), day()).criteria, vec![Criterion::VisibleHighRisk]);
    assert_eq!(decide(&referral(5, None, None), &History::default(), &forms("both"), day()).grounds, vec![Ground::BelowThreshold]);
}

#[test]
fn a_dash_alone_that_meets_the_threshold_is_enough_where_the_area_says_so() {
    let d = decide(&dash_only(16), &History::default(), &forms("dash_alone"), day());
    assert_eq!((d.outcome, d.case.clone(), d.reply), (Outcome::Accepted, CaseAction::New, ReplyKind::Acknowledgement), "{:?}", d.reasons);
    assert_eq!(d.criteria, vec![Criterion::VisibleHighRisk]);
    assert!(d.reasons.iter().any(|r| r.contains("accepted on the DASH alone")), "{:?}", d.reasons);
    // Required fields are the form's: there is none to read them from.
    let strict = config_with(14, 3, "forms = \"dash_alone\"\nrequired_fields = [\"referrer.email\"]\n");
    assert_eq!(decide(&dash_only(16), &History::default(), &strict, day()).outcome, Outcome::Accepted);
    // Below the threshold, or not read in full: a coordinator, never a rejection.
    let d = decide(&dash_only(13), &History::default(), &forms("dash_alone"), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding), "{:?}", d.reasons);
    let mut partial = dash_only(16);
    let p = Problem::new(ProblemKind::Unrecognised, "the answer to question 3 could not be read");
    partial.dash.as_mut().unwrap().problems.push(p.clone());
    partial.problems.push(Located { place: Place::Dash, problem: p });
    assert_eq!(decide(&partial, &History::default(), &forms("dash_alone"), day()).outcome, Outcome::Review);
    // With a referral form, as ever.
    for i in [referral(16, None, None), referral(5, None, None), form_only(referral(5, None, Some(PJ)))] {
        assert_eq!(decide(&i, &History::default(), &forms("dash_alone"), day()), decide(&i, &History::default(), &config(14, 3), day()));
    }
}

#[test]
fn nothing_unreadable_is_ever_rejected() {
    let mut i = referral(3, None, None);
    i.attachments[1].kind = FileKind::Pdf;
    i.problems.push(crate::inspect::Located {
        place: Place::Attachment("2".into()),
        problem: crate::document::Problem::new(crate::document::ProblemKind::Encrypted, "x"),
    });
    let d = decide(&i, &History::default(), &config(14, 3), day());
    assert_eq!(d.outcome, Outcome::Review);
    assert_eq!(d.reply, ReplyKind::Holding);
}

#[test]
fn a_suppress_header_alone_never_hides_a_referral() {
    let mut i = referral(16, None, None);
    i.signals.push(crate::mime::Signal { kind: SignalKind::AutoReply, evidence: "X-Auto-Response-Suppress: All".into(), header: Some(crate::mime::X_AUTO_RESPONSE_SUPPRESS) });
    let d = decide(&i, &History::default(), &config(14, 3), day());
    assert_eq!(d.outcome, Outcome::Review);
    assert_eq!(d.reply, ReplyKind::None);
    i.signals.push(crate::mime::Signal { kind: SignalKind::AutoReply, evidence: "Auto-Submitted: auto-replied".into(), header: Some("Auto-Submitted") });
    assert_eq!(decide(&i, &History::default(), &config(14, 3), day()).outcome, Outcome::Ignored);
}

/// A claimed repeat the history does not confirm goes to a person, and the referrer cannot
/// tell from the outcome or the words whether the person is known: an unknown person and
/// one last referred too long ago get the same decision and the same reply.
#[test]
fn an_unconfirmed_repeat_goes_to_a_person_whatever_the_history_holds() {
    let mut i = referral(5, None, None);
    i.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
    let unknown = decide(&i, &History::default(), &config(14, 3), day());
    assert_eq!((unknown.outcome, unknown.reply), (Outcome::Review, ReplyKind::Holding));
    let known_but_old = History {
        person: Some(PersonHistory { pending_case: None, last_referral: Some((day() - chrono::Duration::days(400), true)), last_heard: None }),
        ..History::default()
    };
    let known = decide(&i, &known_but_old, &config(14, 3), day());
    assert_eq!((known.outcome, known.reply), (Outcome::Review, ReplyKind::Holding));
    assert_eq!(known.reasons_for_referrer(), unknown.reasons_for_referrer());
    assert!(known.reasons.iter().any(|r| r == REPEAT_TO_CHECK));
}

#[test]
fn a_holding_reply_never_says_an_earlier_referral_of_the_person_waits() {
    let h = History { earlier_review: true, ..History::default() };
    let d = decide(&referral(3, None, None), &h, &config(14, 3), day());
    assert!(d.reasons.iter().any(|r| r == READ_WITH_EARLIER), "coordinators see why: {:?}", d.reasons);
    let told = d.reasons_for_referrer();
    assert!(!told.iter().any(|r| r == READ_WITH_EARLIER || r.contains("same person") || r.contains("already received")), "{told:?}");
    assert!(told.iter().any(|r| r == BEFORE_DECIDED));
}

#[test]
fn a_referral_is_not_rejected_while_an_earlier_one_of_the_same_victim_waits_for_review() {
    let h = History { earlier_review: true, ..History::default() };
    let d = decide(&referral(3, None, None), &h, &config(14, 3), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
    assert!(d.grounds.is_empty());
    assert!(!d.reasons.iter().any(|r| r.contains("known") || r.contains("earlier referral of this")), "the holding reply names nobody: {:?}", d.reasons);
    // One that qualifies on its own is accepted as before.
    assert_eq!(decide(&referral(16, None, None), &h, &config(14, 3), day()).outcome, Outcome::Accepted);
}

/// A victim known to another MARAC of the deployment: a would-be rejection waits for a
/// coordinator, who is told why; the referrer is told nothing of it.
#[test]
fn a_victim_known_to_another_area_is_not_rejected_and_the_referrer_is_not_told() {
    let h = History { known_in_another_area: true, ..History::default() };
    let d = decide(&referral(3, None, None), &h, &config(14, 3), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
    assert!(d.reasons.iter().any(|r| r == KNOWN_IN_ANOTHER_AREA), "{:?}", d.reasons);
    let told = d.reasons_for_referrer();
    assert!(!told.iter().any(|r| r.contains("another MARAC") || r.contains("known")), "{told:?}");
    assert!(told.iter().any(|r| r == BEFORE_DECIDED));
    // One that qualifies on its own is accepted as before (triage notes the flag for coordinators).
    assert_eq!(decide(&referral(16, None, None), &h, &config(14, 3), day()).outcome, Outcome::Accepted);
}

#[test]
fn professional_judgement_needs_a_rationale() {
    let with = decide(&referral(5, None, Some("escalating threats after separation")), &History::default(), &config(14, 3), day());
    assert_eq!(with.criteria, vec![Criterion::ProfessionalJudgement]);
    let without = decide(&referral(5, None, Some("")), &History::default(), &config(14, 3), day());
    assert_eq!(without.outcome, Outcome::Rejected);
    assert!(without.reasons.iter().any(|r| r.contains("rationale")));
}

/// A rationale box the reader did not find may hold a rationale: no rejection rests on it.
#[test]
fn a_rationale_box_not_found_is_not_a_missing_rationale() {
    let mut i = referral(5, None, Some(""));
    let r = i.referral.as_mut().unwrap();
    r.fields.remove("professional_judgement_rationale");
    r.blank.remove("professional_judgement_rationale");
    let d = decide(&i, &History::default(), &config(14, 3), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding), "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.contains("rationale box could not be found")), "{:?}", d.reasons);
    // Found and blank: the rejection stands.
    i.referral.as_mut().unwrap().blank.insert("professional_judgement_rationale".into());
    assert_eq!(decide(&i, &History::default(), &config(14, 3), day()).outcome, Outcome::Rejected);
}

fn ours(id: i64, kind: &str) -> OurReply {
    OurReply { outbox_id: id, kind: kind.parse().expect("an outbox kind"), reference: format!("IN-2025-{id:05}") }
}

/// A bounce from a mail server that is not on the allowlist.
fn bounce_message(actions: &[&str]) -> Inspection {
    let mut i = referral(0, None, None);
    i.attachments.clear();
    i.dash = None;
    i.referral = None;
    i.envelope.from = Some(Mailbox { name: None, address: "MAILER-DAEMON@mx.elsewhere.test".into() });
    i.signals = vec![crate::mime::Signal { kind: SignalKind::Dsn, evidence: "Content-Type: multipart/report".into(), header: Some("Content-Type") }];
    i.refers.dsn_actions = actions.iter().map(|a| a.to_string()).collect();
    i
}

fn referring(links: Vec<(OurReply, Link)>) -> History {
    History { referred: links, ..History::default() }
}

#[test]
fn our_own_reply_coming_back_is_ignored_before_anything_else() {
    // Even carrying a qualifying referral, with no auto-reply header left on it.
    let h = History { own_reply: Some(ours(3, "acknowledgement")), ..History::default() };
    let d = decide(&referral(16, None, None), &h, &config(14, 3), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Ignored, ReplyKind::None));
    assert!(d.reasons[0].contains("our own reply came back") && d.reasons[0].contains("IN-2025-00003"), "{:?}", d.reasons);
    assert_eq!(notice_category(&d), None);
}

#[test]
fn a_bounce_of_our_reply_is_reviewed_without_a_reply_and_marks_it() {
    let h = referring(vec![(ours(7, "acknowledgement"), Link::About), (ours(2, "rejection"), Link::Thread)]);
    let d = decide(&bounce_message(&["failed"]), &h, &config(14, 3), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::None), "reviewed, not quarantined, never answered");
    assert!(d.reply_to.is_empty());
    assert_eq!(d.bounced, vec![7], "only the returned original is marked");
    assert_eq!(d.category, Some(Category::ReplyBounced));
    assert_eq!(notice_category(&d), Some(Category::ReplyBounced));
    assert_eq!(d.reasons.len(), 1);
    assert!(d.reasons[0].contains("IN-2025-00007") && d.reasons[0].contains("an acknowledgement") && d.reasons[0].contains("another way"), "{:?}", d.reasons);
    assert!(!d.reasons[0].contains('@'), "no addresses in the reason");
}

#[test]
fn a_bounce_naming_our_reply_only_up_its_thread_is_reviewed_without_marking_it() {
    let h = referring(vec![(ours(2, "holding"), Link::Thread)]);
    let d = decide(&bounce_message(&[]), &h, &config(14, 3), day());
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::None));
    assert!(d.bounced.is_empty());
    assert!(d.reasons[0].contains("IN-2025-00002") && d.reasons[0].contains("further up its thread"), "{:?}", d.reasons);
}

#[test]
fn a_bounced_notice_is_reviewed_but_never_noticed_again() {
    let d = decide(&bounce_message(&["failed"]), &referring(vec![(ours(9, "notice"), Link::About)]), &config(14, 3), day());
    assert_eq!((d.outcome, d.category, d.bounced.clone()), (Outcome::Review, Some(Category::NoticeBounced), vec![9]));
    assert!(d.reasons[0].contains("coordinators_notice_to"), "{:?}", d.reasons);
    assert_eq!(notice_category(&d), None, "a notice about a notice that bounced would loop");
}

#[test]
fn bounces_and_auto_replies_that_are_not_failures_of_ours_stay_ignored() {
    let c = config(14, 3);
    let nothing_of_ours = decide(&bounce_message(&["failed"]), &History::default(), &c, day());
    assert_eq!((nothing_of_ours.outcome, nothing_of_ours.reply), (Outcome::Ignored, ReplyKind::None));
    let h = referring(vec![(ours(7, "acknowledgement"), Link::About)]);
    assert_eq!(decide(&bounce_message(&["delayed"]), &h, &c, day()).outcome, Outcome::Ignored, "a delay warning: the server still tries");
    let copy = History { duplicate_message: true, ..h.clone() };
    let d = decide(&bounce_message(&["failed"]), &copy, &c, day());
    assert_eq!((d.outcome, d.bounced.len()), (Outcome::Ignored, 0), "the same bounce again is only a duplicate");
    // An out-of-office answering our acknowledgement is not a bounce.
    let mut ooo = bounce_message(&[]);
    ooo.signals = vec![crate::mime::Signal { kind: SignalKind::AutoReply, evidence: "Auto-Submitted: auto-replied".into(), header: Some("Auto-Submitted") }];
    let d = decide(&ooo, &h, &c, day());
    assert_eq!((d.outcome, d.bounced.len()), (Outcome::Ignored, 0));
}

#[test]
fn an_unproven_sender_is_quarantined_with_no_reply() {
    let (c, none) = (config(14, 3), History::default());
    let proven = referral(16, None, None);
    assert_eq!(decide(&proven, &none, &c, day()).outcome, Outcome::Accepted);
    let headers = |h: &[&str]| {
        let mut i = proven.clone();
        i.envelope.authentication_results = h.iter().map(|h| crate::mime::parse_authentication_results(h).unwrap()).collect();
        i
    };
    for (i, why) in [
        (headers(&[]), "no authentication results"),
        (headers(&["mx.example.test; spf=softfail smtp.mailfrom=x.pnn.police.example.test; dmarc=none header.from=x.pnn.police.example.test"]), "dmarc=none"),
        (headers(&["mx.example.test; dmarc=temperror header.from=x.pnn.police.example.test"]), "dmarc=temperror"),
        (headers(&["mx.elsewhere.test; dmarc=pass header.from=x.pnn.police.example.test"]), "no authentication results"),
        (headers(&["mx.example.test; dmarc=pass header.from=y.pnn.police.example.test"]), "another domain"),
        (headers(&["mx.example.test; spf=pass smtp.mailfrom=x.pnn.police.example.test; dkim=pass header.d=x.pnn.police.example.test"]), "no DMARC pass"),
    ] {
        let d = decide(&i, &none, &c, day());
        assert_eq!((d.outcome, d.reply, d.category), (Outcome::Quarantined, ReplyKind::None, Some(Category::AuthenticationFailed)), "{why}");
        assert!(d.reply_to.is_empty(), "{why}");
        assert!(d.reasons.iter().any(|r| r.starts_with("the sender could not be verified") && r.contains(why)), "{why}: {:?}", d.reasons);
    }
    let mut two_from = proven.clone();
    two_from.envelope.originators.from_headers = 2;
    let d = decide(&two_from, &none, &c, day());
    assert_eq!((d.outcome, d.reply), (Outcome::Quarantined, ReplyKind::None));
}

#[test]
fn a_reply_to_goes_only_to_the_same_organisation() {
    let (c, none) = (config(14, 3), History::default());
    let with_reply_to = |a: &str| {
        let mut i = referral(16, None, None);
        i.envelope.reply_to = vec![Mailbox { name: None, address: a.into() }];
        i.envelope.originators.reply_to_headers = 1;
        decide(&i, &none, &c, day()).reply_to
    };
    assert_eq!(with_reply_to("Team@x.pnn.police.example.test"), vec!["team@x.pnn.police.example.test"]);
    assert_eq!(with_reply_to("dmo@othershire.pnn.police.example.test"), vec!["pc@x.pnn.police.example.test"], "another allowlisted organisation: the From");
    assert_eq!(with_reply_to("me@webmail.test"), vec!["pc@x.pnn.police.example.test"]);
}

#[test]
fn every_review_and_quarantine_has_a_category_for_the_notice() {
    let c = config(14, 3);
    let none = History::default();
    assert_eq!(notice_category(&decide(&referral(16, None, None), &none, &c, day())), None, "accepted: no notice");
    assert_eq!(notice_category(&decide(&referral(3, None, None), &none, &c, day())), None, "rejected: no notice");

    let mut webmail = referral(16, None, None);
    webmail.envelope.from = Some(Mailbox { name: None, address: "someone@webmail.test".into() });
    assert_eq!(notice_category(&decide(&webmail, &none, &c, day())), Some(Category::SenderNotAllowlisted));

    let mut dmarc = referral(16, None, None);
    dmarc.envelope.authentication_results = vec![crate::mime::parse_authentication_results("mx.example.test; dmarc=fail header.from=x").unwrap()];
    assert_eq!(notice_category(&decide(&dmarc, &none, &c, day())), Some(Category::AuthenticationFailed));
    // Both: the sender comes first.
    webmail.envelope.authentication_results = dmarc.envelope.authentication_results.clone();
    assert_eq!(notice_category(&decide(&webmail, &none, &c, day())), Some(Category::SenderNotAllowlisted));

    let mut encrypted = referral(3, None, None);
    encrypted.problems.push(crate::inspect::Located { place: Place::Attachment("2".into()), problem: crate::document::Problem::new(ProblemKind::Encrypted, "x") });
    encrypted.problems.push(crate::inspect::Located { place: Place::Dash, problem: crate::document::Problem::new(ProblemKind::ConflictingMarks, "x") });
    assert_eq!(notice_category(&decide(&encrypted, &none, &c, day())), Some(Category::UnreadableAttachment), "the most specific category");

    let mut too_big = referral(3, None, None);
    too_big.problems.push(crate::inspect::Located { place: Place::Message, problem: crate::document::Problem::new(ProblemKind::LimitExceeded, "x") });
    assert_eq!(notice_category(&decide(&too_big, &none, &c, day())), Some(Category::UnreadableMessage));

    let mut mismatch = referral(12, None, None);
    mismatch.referral.as_mut().unwrap().stated_dash_score = Some(16);
    assert_eq!(notice_category(&decide(&mismatch, &none, &c, day())), Some(Category::NeedsDecision));

    let mut repeat = referral(5, None, None);
    repeat.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
    assert_eq!(notice_category(&decide(&repeat, &none, &c, day())), Some(Category::NeedsDecision));
}

// ---- Issue 11: doubt is never a rejection ----

use crate::document::Problem;
use crate::inspect::Located;
use crate::recognise::answer::Answer;
use crate::recognise::dash::DashAnswer;

fn report(at: &str, kind: FileKind, found: &[&'static str]) -> AttachmentReport {
    AttachmentReport {
        at: at.into(),
        name: Some("Jane Victim referral.docx".into()),
        declared_type: "application/octet-stream".into(),
        inline: false,
        kind,
        size: 1,
        sha256: String::new(),
        outcome: ReadOutcome::Read,
        problems: vec![],
        recognised: found.to_vec(),
        blocks: 1,
        fields: 0,
    }
}

/// Sample 005's shape: one Word attachment recognised as the referral form, visible high risk
/// ticked with a stated score of 15, no DASH.
fn form_alone() -> Inspection {
    let mut i = referral(0, None, None);
    i.dash = None;
    i.attachments = vec![report("1", FileKind::Docx, &["referral"])];
    let r = i.referral.as_mut().unwrap();
    r.reasons.insert("visible_high_risk".into(), true);
    r.stated_dash_score = Some(15);
    i
}

/// Leaves a referral field blank in doubt, as the reader does: value gone, key in `uncertain`,
/// an `Uncertain` problem.
fn doubt(i: &mut Inspection, key: &str) {
    let r = i.referral.as_mut().unwrap();
    r.fields.remove(key);
    r.found_at.remove(key);
    r.blank.remove(key);
    match key {
        "victim.dob" => r.victim_dob = None,
        "stated_dash_score" => r.stated_dash_score = None,
        "police_callouts" => r.police_callouts = None,
        k => {
            if let Some(reason) = k.strip_prefix("reason.") {
                r.reasons.remove(reason);
            }
        }
    }
    r.uncertain.insert(key.to_owned());
    let p = Problem::new(ProblemKind::Uncertain, format!("{key}: the value is the text of a label on the form"));
    r.problems.push(p.clone());
    i.problems.push(Located { place: Place::Referral, problem: p });
}

/// Leaves a referral field found blank on the form: value gone, key in `blank`.
fn blank(i: &mut Inspection, key: &str) {
    let r = i.referral.as_mut().unwrap();
    r.fields.remove(key);
    r.found_at.remove(key);
    match key {
        "victim.dob" => r.victim_dob = None,
        "police_callouts" => r.police_callouts = None,
        _ => {}
    }
    r.blank.insert(key.to_owned());
}

fn go(i: &Inspection) -> Decision {
    decide(i, &History::default(), &config(14, 3), day())
}

fn all_reasons(d: &Decision) -> String {
    d.reasons.join(" | ")
}

#[test]
fn a_form_alone_claiming_high_risk_is_still_rejected_for_the_missing_dash() {
    let d = go(&form_alone());
    assert_eq!((d.outcome, d.reply), (Outcome::Rejected, ReplyKind::Rejection), "{:?}", d.reasons);
    assert_eq!(d.grounds, vec![Ground::DashMissing]);
    let text = all_reasons(&d).to_lowercase();
    assert!(text.contains("dash") && text.contains("checklist") && text.contains("missing"), "{text}");
}

#[test]
fn an_unrecognised_document_turns_the_missing_dash_rejection_into_a_review_naming_it() {
    let mut i = form_alone();
    i.attachments.push(report("2", FileKind::Docx, &[]));
    let d = go(&i);
    assert_eq!((d.outcome, d.reply, d.category), (Outcome::Review, ReplyKind::Holding, Some(Category::NeedsDecision)));
    assert!(d.grounds.is_empty(), "a review has no grounds");
    let text = all_reasons(&d);
    assert!(text.contains("attachment 2 (a Word document) could not be recognised as a MARAC referral form or a DASH checklist"), "{text}");
    assert!(text.contains("a coordinator will read it") && text.contains("Word or PDF"), "{text}");
    assert!(!text.to_lowercase().contains("missing"), "never told the DASH is missing: {text}");
    assert!(!text.contains("Jane") && !text.contains(".docx"), "the attachment by position and type, never its file name: {text}");
}

#[test]
fn an_unrecognised_document_turns_any_rejection_into_a_review() {
    let mut below = referral(5, None, None);
    assert_eq!(go(&below).outcome, Outcome::Rejected);
    below.attachments.push(report("3", FileKind::Pdf, &[]));
    let d = go(&below);
    assert_eq!(d.outcome, Outcome::Review);
    assert!(all_reasons(&d).contains("attachment 3 (a PDF)"), "{:?}", d.reasons);
    // It stops no acceptance.
    let mut high = referral(16, None, None);
    high.attachments.push(report("3", FileKind::Pdf, &[]));
    assert_eq!(go(&high).outcome, Outcome::Accepted);
}

#[test]
fn high_risk_claimed_without_a_dash_and_any_attachment_unrecognised_is_a_review() {
    // A text file is not a document kind, but with visible high risk claimed and no DASH read
    // it may be the checklist.
    let mut i = form_alone();
    i.attachments.push(report("2", FileKind::Text, &[]));
    let d = go(&i);
    assert_eq!(d.outcome, Outcome::Review, "{:?}", d.reasons);
    assert!(all_reasons(&d).contains("attachment 2 (a text file)") && all_reasons(&d).contains("visible high risk is claimed"), "{:?}", d.reasons);
    // Without the claim, a text file beside a complete referral changes nothing.
    let mut low = referral(5, None, None);
    low.attachments.push(report("3", FileKind::Text, &[]));
    assert_eq!(go(&low).outcome, Outcome::Rejected);
}

#[test]
fn a_dash_read_only_in_part_is_a_review_never_dash_missing() {
    let mut i = referral(9, None, None);
    let d = i.dash.as_mut().unwrap();
    d.no -= 10;
    d.blank = 10;
    d.unknown = 10;
    for q in 15..=24 {
        let p = Problem::new(ProblemKind::Unrecognised, format!("question {q} was not found on the checklist; counted as unknown"));
        d.problems.push(p.clone());
        i.problems.push(Located { place: Place::Dash, problem: p });
    }
    let r = i.referral.as_mut().unwrap();
    r.reasons.insert("visible_high_risk".into(), true);
    let d = go(&i);
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
    assert!(!all_reasons(&d).to_lowercase().contains("missing"), "{:?}", d.reasons);
    // And reported against its attachment with no DASH at all: still no rejection.
    let mut j = form_alone();
    j.attachments.push(report("2", FileKind::Xlsx, &[]));
    j.problems.push(Located { place: Place::Attachment("2".into()), problem: Problem::new(ProblemKind::Unrecognised, "looks like a DASH checklist; 6 of 24 answers read") });
    assert_eq!(go(&j).outcome, Outcome::Review);
}

#[test]
fn blank_victim_name_and_date_of_birth_are_rejected_asking_for_them() {
    let mut i = referral(16, None, None);
    blank(&mut i, "victim.name");
    blank(&mut i, "victim.dob");
    let d = go(&i);
    assert_eq!((d.outcome, d.reply), (Outcome::Rejected, ReplyKind::Rejection), "{:?}", d.reasons);
    assert_eq!(d.grounds, vec![Ground::VictimMissing]);
    let text = all_reasons(&d);
    assert!(text.contains("we cannot tell who the victim is") && text.contains("victim's name and date of birth"), "{text}");
}

#[test]
fn a_victim_not_found_blank_is_a_review_never_a_rejection() {
    // No victim field placed at all: a layout the reader does not know.
    let mut unplaced = referral(16, None, None);
    let r = unplaced.referral.as_mut().unwrap();
    r.fields.remove("victim.name");
    r.found_at.remove("victim.name");
    assert!(!r.victim_placed());
    let d = go(&unplaced);
    assert_eq!((d.outcome, d.reply), (Outcome::Review, ReplyKind::Holding));
    assert!(all_reasons(&d).contains("the victim's details could not be found on the referral form: a coordinator will read it"), "{:?}", d.reasons);
    // The victim placed, the name found blank, the date of birth not found at all.
    let mut half = referral(16, None, None);
    blank(&mut half, "victim.name");
    assert_eq!(go(&half).outcome, Outcome::Review);
    // No referral form recognised, only a DASH.
    let mut dash_only = referral(16, None, None);
    dash_only.referral = None;
    dash_only.attachments.remove(0);
    let d = go(&dash_only);
    assert_eq!(d.outcome, Outcome::Review);
    assert!(all_reasons(&d).contains("no MARAC referral form was recognised"), "{:?}", d.reasons);
}

#[test]
fn no_attachments_is_still_rejected() {
    let mut i = referral(0, None, None);
    i.attachments.clear();
    i.dash = None;
    i.referral = None;
    let d = go(&i);
    assert_eq!((d.outcome, d.grounds.clone()), (Outcome::Rejected, vec![Ground::NoAttachments]));
    assert!(all_reasons(&d).contains("attach"));
}

#[test]
fn an_uncertain_victim_name_blocks_the_victim_rejection() {
    let mut i = referral(16, None, None);
    doubt(&mut i, "victim.name");
    blank(&mut i, "victim.dob");
    let d = go(&i);
    assert_eq!(d.outcome, Outcome::Review);
    let text = all_reasons(&d);
    assert!(text.contains("victim's name could not be read for certain"), "{text}");
    assert!(!text.contains("A Person"), "field names only, never values: {text}");
}

#[test]
fn an_uncertain_required_field_blocks_its_rejection() {
    let c = config_with(14, 3, "required_fields = [\"referrer.email\"]");
    let missing = decide(&referral(16, None, None), &History::default(), &c, day());
    assert_eq!((missing.outcome, missing.grounds.clone()), (Outcome::Rejected, vec![Ground::RequiredField("referrer.email".into())]));
    let mut i = referral(16, None, None);
    doubt(&mut i, "referrer.email");
    let d = decide(&i, &History::default(), &c, day());
    assert_eq!(d.outcome, Outcome::Review);
    assert!(all_reasons(&d).contains("\"referrer email\" could not be read for certain"), "{:?}", d.reasons);
    // A required victim field with no victim placed is not certain either.
    let c = config_with(14, 3, "required_fields = [\"victim.postcode\"]");
    let mut unplaced = referral(16, None, None);
    unplaced.referral.as_mut().unwrap().victim_dob = NaiveDate::from_ymd_opt(1990, 1, 1);
    unplaced.referral.as_mut().unwrap().found_at.clear();
    assert_eq!(decide(&unplaced, &History::default(), &c, day()).outcome, Outcome::Review);
}

#[test]
fn an_uncertain_field_that_could_meet_a_criterion_blocks_the_no_criterion_rejection() {
    for key in CRITERION_FIELDS {
        let mut i = referral(5, None, None);
        doubt(&mut i, key);
        let d = go(&i);
        assert_eq!(d.outcome, Outcome::Review, "{key}: {:?}", d.reasons);
        assert!(all_reasons(&d).contains("could not be read for certain"), "{key}: {:?}", d.reasons);
    }
}

#[test]
fn an_uncertain_field_no_ground_rests_on_neither_blocks_a_rejection_nor_an_acceptance() {
    let mut low = referral(5, None, None);
    doubt(&mut low, "perpetrator.name");
    let d = go(&low);
    assert_eq!((d.outcome, d.grounds.clone()), (Outcome::Rejected, vec![Ground::BelowThreshold]));
    let mut high = referral(16, None, None);
    doubt(&mut high, "victim.dob");
    doubt(&mut high, "professional_judgement_rationale");
    assert_eq!(go(&high).outcome, Outcome::Accepted);
}

#[test]
fn a_professional_judgement_box_not_found_blocks_the_no_criterion_rejection() {
    let mut i = referral(5, None, None);
    i.referral.as_mut().unwrap().reasons.remove("professional_judgement");
    let d = go(&i);
    assert_eq!(d.outcome, Outcome::Review);
    assert!(all_reasons(&d).contains("professional judgement box could not be found"), "{:?}", d.reasons);
    // Found and left unticked: a certain rejection.
    let mut unticked = referral(5, None, None);
    blank(&mut unticked, "reason.professional_judgement");
    unticked.referral.as_mut().unwrap().reasons.remove("professional_judgement");
    assert_eq!(go(&unticked).outcome, Outcome::Rejected);
}

#[test]
fn a_certain_hard_ground_does_not_hide_a_doubt_about_the_criteria() {
    // A repeat the history does not know is a review; blanking the victim's details must not
    // turn it into a rejection.
    let mut i = referral(5, None, None);
    i.referral.as_mut().unwrap().reasons.insert("repeat".into(), true);
    assert_eq!(go(&i).outcome, Outcome::Review);
    blank(&mut i, "victim.name");
    blank(&mut i, "victim.dob");
    assert_eq!(go(&i).outcome, Outcome::Review);
}

#[test]
fn a_damaged_file_is_called_damaged_or_unreadable() {
    for kind in [ProblemKind::Corrupt, ProblemKind::Truncated] {
        let mut i = referral(16, None, None);
        i.problems.push(Located { place: Place::Attachment("2".into()), problem: Problem::new(kind, "not a valid workbook") });
        let d = go(&i);
        assert_eq!((d.outcome, d.category), (Outcome::Review, Some(Category::UnreadableAttachment)));
        assert!(all_reasons(&d).contains("attachment 2 (a PDF): damaged or unreadable"), "{:?}", d.reasons);
    }
}

#[test]
fn a_stated_score_read_in_doubt_beside_a_dash_blocks_every_rejection() {
    // Found by the property below: the form's score disagreed with the DASH (a review); read
    // in doubt instead, the disagreement was gone and a blank victim was rejected.
    let mut i = referral(23, None, None);
    i.referral.as_mut().unwrap().stated_dash_score = Some(0);
    blank(&mut i, "victim.name");
    blank(&mut i, "victim.dob");
    assert_eq!(go(&i).outcome, Outcome::Review);
    doubt(&mut i, "stated_dash_score");
    let d = go(&i);
    assert_eq!(d.outcome, Outcome::Review, "{:?}", d.reasons);
    assert!(all_reasons(&d).contains("stated DASH score could not be read for certain"), "{:?}", d.reasons);
    // It still stops no acceptance.
    let mut high = referral(16, None, None);
    doubt(&mut high, "stated_dash_score");
    assert_eq!(go(&high).outcome, Outcome::Accepted);
}

#[test]
fn grounds_serialise_with_the_field_they_name() {
    let json = serde_json::to_value(vec![Ground::DashMissing, Ground::RequiredField("referrer.email".into())]).unwrap();
    assert_eq!(json, serde_json::json!([{ "ground": "dash_missing" }, { "ground": "required_field", "field": "referrer.email" }]));
}

// ---- The property: mutations that only remove information or add doubt ----

/// A referral as a referrer sends it: the parts the generator varies.
#[derive(Debug, Clone)]
struct Sent {
    yes: Option<u8>,
    vhr: bool,
    stated: Option<u32>,
    /// Professional judgement: not ticked, ticked with a rationale, ticked without.
    pj: Option<bool>,
    escalation: bool,
    callouts: Option<u32>,
    repeat: bool,
    name: bool,
    dob: bool,
    email: bool,
    /// 0: unknown person; 1: referred 100 days ago, heard 90; 2: referred 500 days ago, heard
    /// 360; 3: a pending case.
    history: u8,
    required_email: bool,
    dash_always: bool,
    /// `threshold.forms`: 0 any, 1 both, 2 dash_alone.
    forms: u8,
    last_meeting: bool,
}

fn sent() -> impl Strategy<Value = Sent> {
    (
        (proptest::option::weighted(0.8, 0u8..=24), any::<bool>(), proptest::option::of(0u32..=24), proptest::option::of(any::<bool>())),
        (any::<bool>(), proptest::option::of(0u32..=6), proptest::bool::weighted(0.2)),
        (proptest::bool::weighted(0.85), proptest::bool::weighted(0.85), any::<bool>()),
        (0u8..4, proptest::bool::weighted(0.3), proptest::bool::weighted(0.2)),
        (0u8..3, any::<bool>()),
    )
        .prop_map(|((yes, vhr, stated, pj), (escalation, callouts, repeat), (name, dob, email), (history, required_email, dash_always), (forms, last_meeting))| Sent {
            yes,
            vhr,
            stated,
            pj,
            escalation,
            callouts,
            repeat,
            name,
            dob,
            email,
            history,
            required_email,
            dash_always,
            forms,
            last_meeting,
        })
}

fn inspection_of(s: &Sent) -> Inspection {
    let mut i = referral(s.yes.unwrap_or(0), s.callouts, None);
    let r = i.referral.as_mut().unwrap();
    r.reasons.insert("visible_high_risk".into(), s.vhr);
    r.reasons.insert("potential_escalation".into(), s.escalation);
    r.reasons.insert("repeat".into(), s.repeat);
    r.stated_dash_score = s.stated;
    if let Some(with_rationale) = s.pj {
        r.reasons.insert("professional_judgement".into(), true);
        if with_rationale {
            r.fields.insert("professional_judgement_rationale".into(), "escalating threats since the separation".into());
        } else {
            r.blank.insert("professional_judgement_rationale".into());
        }
    }
    if s.dob {
        r.victim_dob = NaiveDate::from_ymd_opt(1990, 5, 17);
        r.found_at.insert("victim.dob".into(), "table 3, row 2".into());
    } else {
        r.blank.insert("victim.dob".into());
    }
    if !s.name {
        r.fields.remove("victim.name");
        r.found_at.remove("victim.name");
        r.blank.insert("victim.name".into());
    }
    if s.email {
        r.fields.insert("referrer.email".into(), "pc@x.pnn.police.example.test".into());
        r.found_at.insert("referrer.email".into(), "table 1, row 4".into());
    } else {
        r.blank.insert("referrer.email".into());
    }
    match &mut i.dash {
        Some(d) if s.yes.is_some() => {
            d.answers = (1..=24u8)
                .map(|q| DashAnswer {
                    question: q,
                    topic: crate::recognise::topics::TOPICS[usize::from(q) - 1],
                    answer: if q <= d.yes { Answer::Yes } else { Answer::No },
                    comment: None,
                    at: format!("row {q}"),
                    found_by: Some(crate::recognise::dash::FoundBy::Wording),
                })
                .collect();
        }
        _ => {
            i.dash = None;
            i.attachments.truncate(1);
        }
    }
    i
}

fn history_of(s: &Sent) -> History {
    let ago = |days| Some((day() - chrono::Duration::days(days), true));
    let on = |days| Some(day() - chrono::Duration::days(days));
    let person = |last_referral, last_heard, pending_case| Some(PersonHistory { pending_case, last_referral, last_heard });
    History {
        person: match s.history {
            1 => person(ago(100), on(90), None),
            // A repeat counted from the meeting, not from the referral.
            2 => person(ago(500), on(360), None),
            3 => person(ago(20), None, Some(CaseSummary { reference: "MARAC-2025-0001".into(), meeting_date: None })),
            _ => None,
        },
        ..History::default()
    }
}

fn config_of(s: &Sent) -> Config {
    let mut extra = String::new();
    if s.required_email {
        extra.push_str("required_fields = [\"referrer.email\"]\n");
    }
    if s.dash_always {
        extra.push_str("dash_required = \"always\"\n");
    }
    extra.push_str(["forms = \"any\"\n", "forms = \"both\"\n", "forms = \"dash_alone\"\n"][usize::from(s.forms)]);
    if s.last_meeting {
        extra.push_str("repeat_from = \"last_meeting\"\n");
    }
    config_with(14, 3, &extra)
}

/// Fields a mutation may find blank (only when they were read).
const BLANKABLE: &[&str] = &["victim.name", "victim.dob", "professional_judgement_rationale", "police_callouts", "referrer.email"];
/// Fields a mutation may leave blank in doubt: the victim's and two others, then every field
/// a criterion is read from.
fn doubtable() -> Vec<&'static str> {
    [&["victim.name", "victim.dob", "referrer.email", "perpetrator.name"][..], CRITERION_FIELDS].concat()
}
const BLOCKING: &[ProblemKind] = &[
    ProblemKind::Encrypted,
    ProblemKind::Scanned,
    ProblemKind::Corrupt,
    ProblemKind::Truncated,
    ProblemKind::LimitExceeded,
    ProblemKind::Unsupported,
    ProblemKind::ParserPanic,
    ProblemKind::Timeout,
    ProblemKind::Unrecognised,
    ProblemKind::ConflictingMarks,
    ProblemKind::ScoreMismatch,
];
/// Where a mutation adds a problem (`place`).
const PLACES: &[&str] = &["attachment 1", "attachment 2", "dash", "referral", "message"];

fn place(p: &str) -> Place {
    match p {
        "dash" => Place::Dash,
        "referral" => Place::Referral,
        "message" => Place::Message,
        at => Place::Attachment(at.trim_start_matches("attachment ").to_owned()),
    }
}

/// A change that only removes information or adds doubt.
#[derive(Debug, Clone)]
enum Mutation {
    /// These questions' answers were not read: each becomes blank with an `Unrecognised` problem.
    DropAnswers(Vec<u8>),
    /// The DASH was not recognised at all (its attachment is then recognised as nothing).
    LoseDash,
    /// A field that was read is found blank instead.
    Blank(usize),
    /// A field is left blank in doubt, with its `Uncertain` problem.
    Doubt(usize),
    /// An attachment is recognised as nothing.
    Unrecognise(usize),
    /// A blocking problem somewhere.
    Block(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        proptest::collection::vec(1u8..=24, 1..24).prop_map(Mutation::DropAnswers),
        Just(Mutation::LoseDash),
        (0..BLANKABLE.len()).prop_map(Mutation::Blank),
        (0..doubtable().len()).prop_map(Mutation::Doubt),
        (0usize..2).prop_map(Mutation::Unrecognise),
        (0..BLOCKING.len(), 0..PLACES.len()).prop_map(|(k, p)| Mutation::Block(k, p)),
    ]
}

fn mutate(i: &mut Inspection, m: &Mutation) {
    match m {
        Mutation::DropAnswers(questions) => {
            let Some(d) = i.dash.as_mut() else { return };
            for q in questions {
                let a = &mut d.answers[usize::from(*q) - 1];
                match a.answer {
                    Answer::Blank => continue,
                    Answer::Yes => d.yes -= 1,
                    Answer::No => d.no -= 1,
                    Answer::DontKnow => {
                        d.dont_know -= 1;
                        d.unknown -= 1;
                    }
                }
                a.answer = Answer::Blank;
                d.blank += 1;
                d.unknown += 1;
                let p = Problem::new(ProblemKind::Unrecognised, format!("the answer to question {q} could not be read"));
                d.problems.push(p.clone());
                i.problems.push(Located { place: Place::Dash, problem: p });
            }
        }
        Mutation::LoseDash => {
            if let Some(d) = i.dash.take() {
                for a in i.attachments.iter_mut().filter(|a| a.at == d.attachment) {
                    a.recognised.retain(|r| *r != "dash");
                }
            }
        }
        Mutation::Blank(k) => {
            let key = BLANKABLE[*k];
            let r = i.referral.as_ref().unwrap();
            let read = match key {
                "victim.dob" => r.victim_dob.is_some(),
                "police_callouts" => r.police_callouts.is_some(),
                k => r.fields.contains_key(k),
            };
            if read && !r.uncertain.contains(key) {
                blank(i, key);
            }
        }
        Mutation::Doubt(k) => doubt(i, doubtable()[*k]),
        Mutation::Unrecognise(n) => {
            if let Some(a) = i.attachments.get_mut(*n) {
                a.recognised.clear();
            }
        }
        Mutation::Block(k, p) => {
            let problem = Problem::new(BLOCKING[*k], "added by the property test");
            if PLACES[*p] == "dash" {
                if let Some(d) = i.dash.as_mut() {
                    d.problems.push(problem.clone());
                }
            }
            i.problems.push(Located { place: place(PLACES[*p]), problem });
        }
    }
}

/// Every rejection rests only on what was read for certain; no other decision has grounds.
fn grounds_are_certain(i: &Inspection, d: &Decision) -> Result<(), TestCaseError> {
    if d.outcome != Outcome::Rejected {
        prop_assert!(d.grounds.is_empty(), "a {:?} with grounds {:?}", d.outcome, d.grounds);
        return Ok(());
    }
    prop_assert!(!d.grounds.is_empty(), "a rejection without grounds: {:?}", d.reasons);
    prop_assert_eq!(d.grounds.len(), d.reasons.len(), "one reason per ground");
    let uncertain = i.referral.as_ref().map(|r| r.uncertain.clone()).unwrap_or_default();
    let blocking = |ps: &[Problem]| ps.iter().any(|p| p.kind.blocks_automatic_decision());
    for g in &d.grounds {
        for f in g.rests_on() {
            prop_assert!(!uncertain.contains(f), "{:?} rests on {} read in doubt", g, f);
        }
        match g {
            Ground::DashMissing => {
                prop_assert!(i.dash.is_none());
                prop_assert!(
                    i.attachments.iter().filter(|a| DOCUMENT_KINDS.contains(&a.kind)).all(|a| !a.recognised.is_empty()),
                    "DASH missing with an attachment nobody recognised"
                );
                prop_assert!(!partial_dash(i), "DASH missing beside a DASH read in part");
            }
            Ground::BelowThreshold => {
                let dash = i.dash.as_ref();
                prop_assert!(dash.is_some_and(|d| !blocking(&d.problems)), "below the threshold on a DASH not read in full");
                prop_assert!(!i.has_blocking_problem());
            }
            Ground::VictimMissing => {
                let r = i.referral.as_ref().unwrap();
                prop_assert!(r.blank.contains("victim.name") && r.blank.contains("victim.dob"), "victim missing without both found blank");
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// No mutation that only removes information or adds doubt turns a review into a
    /// rejection, and every rejection on the way rests only on certain things.
    #[test]
    fn doubt_never_turns_a_review_into_a_rejection(s in sent(), mutations in proptest::collection::vec(mutation(), 1..5)) {
        let (h, c) = (history_of(&s), config_of(&s));
        let mut i = inspection_of(&s);
        let first = decide(&i, &h, &c, day());
        grounds_are_certain(&i, &first)?;
        // Once a review, at any step, never a rejection after more mutations.
        let mut reviewed = first.outcome == Outcome::Review;
        for m in &mutations {
            mutate(&mut i, m);
            let after = decide(&i, &h, &c, day());
            grounds_are_certain(&i, &after)?;
            if reviewed {
                prop_assert_ne!(after.outcome, Outcome::Rejected, "{:?} after {:?}: {:?}", s, mutations, after.reasons);
            }
            reviewed |= after.outcome == Outcome::Review;
        }
    }
}

// ---- stored spellings: each enum read back from the one spelling it is stored with

/// Every variant's spelling parses back to it, the spellings are distinct, and serde writes the
/// same spelling (`--json` and the templates see what the database holds).
fn round_trips<T>(all: &[T], spell: fn(T) -> &'static str)
where
    T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr<Err = crate::text::UnknownSpelling>,
{
    for v in all {
        assert_eq!(spell(*v).parse::<T>(), Ok(*v), "{v:?}");
    }
    let spellings: std::collections::BTreeSet<&str> = all.iter().map(|v| spell(*v)).collect();
    assert_eq!(spellings.len(), all.len(), "two variants share a spelling");
}

#[test]
fn every_outcome_reads_back_from_its_stored_spelling() {
    round_trips(&Outcome::ALL, Outcome::as_str);
    for o in Outcome::ALL {
        assert_eq!(serde_json::to_value(o).unwrap(), o.as_str(), "serde and as_str spell {o:?} alike");
    }
    assert_eq!("accepted".parse::<Outcome>(), Ok(Outcome::Accepted), "databases written before keep reading");
    assert_eq!("quarantined".parse::<Outcome>(), Ok(Outcome::Quarantined));
}

#[test]
fn every_reply_kind_and_outbox_kind_reads_back_from_its_stored_spelling() {
    round_trips(&ReplyKind::ALL, ReplyKind::as_str);
    for k in ReplyKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str(), "serde and as_str spell {k:?} alike");
    }
    round_trips(&OutboxKind::ALL, OutboxKind::as_str);
    for k in OutboxKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert_eq!("notice".parse::<OutboxKind>(), Ok(OutboxKind::Notice));
    assert_eq!("agenda".parse::<OutboxKind>(), Ok(OutboxKind::Agenda));
    assert_eq!("acknowledgement".parse::<OutboxKind>(), Ok(OutboxKind::Reply(ReplyKind::Acknowledgement)));
    assert!("none".parse::<OutboxKind>().is_err(), "no outbox row is of kind none");
}

#[test]
fn every_category_reads_back_from_its_spelling() {
    round_trips(&Category::ALL, Category::as_str);
}

#[test]
fn a_stored_spelling_that_names_no_variant_is_an_error_naming_it() {
    let e = "Accepted".parse::<Outcome>().unwrap_err();
    assert_eq!(e, crate::text::UnknownSpelling { kind: "outcome", value: "Accepted".into() }, "spellings are exact: no case folding");
    assert_eq!(e.to_string(), "\"Accepted\" is not a known outcome");
    assert!("".parse::<ReplyKind>().is_err());
    assert!("reply bounced ".parse::<Category>().is_err());
    assert!("bounce".parse::<OutboxKind>().is_err());
}

// ---- structured problems and signals: decide asks fields, never reads display text

#[test]
fn an_impossible_victim_date_of_birth_is_known_by_its_field_not_its_wording() {
    let with = |problem: Problem| {
        let mut i = referral(15, None, None);
        i.referral.as_mut().unwrap().problems.push(problem.clone());
        i.problems.push(Located { place: Place::Referral, problem });
        decide(&i, &History::default(), &config(14, 3), day())
    };
    const SENTENCE: &str = "the victim's date of birth cannot be read as a real date";
    let on_field = with(Problem::on_field(ProblemKind::InvalidDate, "victim.dob", "the date written does not exist (table 3, row 2)"));
    assert_eq!(on_field.outcome, Outcome::Review, "{:?}", on_field.reasons);
    assert!(on_field.reasons.iter().any(|r| r == SENTENCE), "{:?}", on_field.reasons);
    let worded_only = with(Problem::new(ProblemKind::InvalidDate, "victim.dob: the date written does not exist"));
    assert!(!worded_only.reasons.iter().any(|r| r == SENTENCE), "a detail's wording decides nothing: {:?}", worded_only.reasons);
    let perpetrator = with(Problem::on_field(ProblemKind::InvalidDate, "perpetrator.dob", "victim.dob"));
    assert!(!perpetrator.reasons.iter().any(|r| r == SENTENCE), "{:?}", perpetrator.reasons);
}

#[test]
fn a_problem_of_an_attachment_is_placed_by_its_position_and_written_as_before() {
    let located = Located { place: Place::Attachment("forwarded 1 › 2".into()), problem: Problem::new(ProblemKind::Encrypted, "x") };
    assert_eq!(serde_json::to_value(&located).unwrap(), serde_json::json!({"at": "attachment forwarded 1 › 2", "kind": "encrypted", "detail": "x"}));
    assert_eq!(located.place.attachment(), Some("forwarded 1 › 2"));
    for (place, at) in [(Place::Message, "message"), (Place::Dash, "dash"), (Place::Referral, "referral")] {
        assert_eq!(place.to_string(), at);
        assert_eq!(place.attachment(), None);
    }
}
