//! Agendas to the agencies' designated officers (issue 16, item 6):
//! - by the schedule: with `[agenda] officers` and `working_days_before = 3`, a meeting's agenda
//!   is queued for each officer at 08:00 UK time three working days before it, not before, once
//!   (an officer added later has theirs at the next look), as kind `agenda` rows of the outbox
//!   with the XLSX attached, people by initials, restricted cases left out, audited as
//!   `agenda.send` by `schedule`; on SQLite and on PostgreSQL;
//! - an officer whose address is not on the allowlist is refused by the configuration;
//! - by hand in Chromium: the coordinator sends the meeting's agenda from the meeting page, the
//!   outbox sends it through a real Postfix into the two officers' Dovecot mailboxes, where the
//!   workbook is read back; the page then shows who had it when, and one officer has it again.

use crate::support::mailservers::{service_env, Dovecot, Postfix};
use crate::support::{postgres::Postgres, store_on, Scratch};
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Utc};
use marac_intake::config::{self, Config};
use marac_intake::decide::{OutboxKind, Outcome};
use marac_intake::store::Store;
use std::path::Path;

const POLICE_DMO: &str = "dmo@kingsmere.pnn.police.example.test";
const HEALTH_DMO: &str = "safeguarding@nhs.example.test";
/// Who sends the synthetic referrals (their acknowledgements go back to them).
const REFERRER: &str = "owen.pryor@kingsmere.pnn.police.example.test";

fn officers_section(extra: &str) -> String {
    format!("\n[agenda]\nofficers = [\"Kingsmere Police <{POLICE_DMO}>\", \"Kingsmere NHS Trust <{HEALTH_DMO}>\"{extra}]\nworking_days_before = 3\nsend_at = \"08:00\"\n")
}

fn samples_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml")).unwrap()
}

fn config_with(section: &str) -> Config {
    config::parse(&format!("{}{section}", samples_text()), Vec::new()).unwrap().build().unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Referral `n` (15 Yes answers) arriving at `when`, triaged into `store`: accepted.
async fn referral(store: &Store, cfg: &Config, n: u32, when: gen_fixtures::util::Stamp) -> marac_intake::store::MessageRecord {
    let raw = gen_fixtures::triage::synthetic_referral(n, when, 15);
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-06T12:00:00Z").unwrap();
    let record = marac_intake::triage::triage_message(&raw, None, None, now, cfg, store).await.expect("triage");
    assert_eq!(record.outcome, Outcome::Accepted, "referral {n}: {:?}", record.reasons);
    record
}

/// The agenda workbook of a message as sent: its one XLSX attachment's rows.
fn workbook_rows(raw: &[u8]) -> Vec<Vec<String>> {
    let parsed = mail_parser::MessageParser::default().parse(raw).expect("a message");
    assert_eq!(parsed.attachment_count(), 1, "one attachment");
    let bytes = parsed.attachment(0).unwrap().contents().to_vec();
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Float(f) => format!("{f}"),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_sends_each_meetings_agenda_once_three_working_days_before() {
    let scratch = Scratch::new("agenda-schedule");
    schedule_sends_on(None, &scratch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_sends_each_meetings_agenda_on_postgresql() {
    let Some(pg) = Postgres::start("agenda-schedule") else { return };
    let scratch = Scratch::new("agenda-schedule-pg");
    schedule_sends_on(Some(&pg), &scratch).await;
}

async fn schedule_sends_on(pg: Option<&Postgres>, scratch: &Scratch) {
    let store = store_on(pg, scratch, "agenda").await;
    let cfg = config_with(&officers_section(""));
    // Three referrals on Monday 5 January 2026: heard at the meeting of Tuesday 13 January (the
    // second Tuesday), whose agenda goes on Thursday 8 January, three working days before.
    let stamp = |h| gen_fixtures::util::stamp(2026, 1, 5, h, 0, 0);
    let records = [referral(&store, &cfg, 701, stamp(9)).await, referral(&store, &cfg, 702, stamp(10)).await, referral(&store, &cfg, 703, stamp(11)).await];
    let cases: Vec<String> = records.iter().map(|r| r.case_ref.clone().expect("a case")).collect();
    assert!(records.iter().all(|r| r.meeting_date.as_deref() == Some("2026-01-13")), "{:?}", records.iter().map(|r| &r.meeting_date).collect::<Vec<_>>());
    let audit = marac_intake::store::accounts::Audit { at: "2026-01-06T12:00:00.000Z", actor: "boss", action: "case.restrict", object: Some(&cases[2]), client: None, detail: None };
    store.add_user("named", marac_intake::store::accounts::Role::Coordinator, "x", None, "2026-01-06T12:00:00.000Z").await.unwrap();
    assert!(store.restrict_case(&cases[2], &["named".to_owned()], &audit).await.unwrap().is_ok());

    let send = marac_intake::web::agenda::send_due;
    assert_eq!(send(&store, &cfg, at("2026-01-07T17:00:00Z")).await, 0, "Wednesday: not yet");
    assert_eq!(send(&store, &cfg, at("2026-01-08T07:59:00Z")).await, 0, "Thursday before 08:00 UK time");
    assert_eq!(send(&store, &cfg, at("2026-01-08T08:00:00Z")).await, 2, "Thursday 08:00: one agenda to each officer");
    assert_eq!(send(&store, &cfg, at("2026-01-08T08:01:00Z")).await, 0, "each had it: not again");
    let added = config_with(&officers_section(", \"Kingsmere IDVA Service <lead@idva.example.test>\""));
    assert_eq!(send(&store, &added, at("2026-01-09T08:00:00Z")).await, 1, "an officer named later has theirs");
    assert_eq!(send(&store, &added, at("2026-01-12T20:00:00Z")).await, 0, "Monday evening: nothing new");
    assert_eq!(send(&store, &added, at("2026-02-05T08:00:00Z")).await, 0, "the February meeting lists no case: no empty agenda");

    let agendas: Vec<_> = store.outbox().await.unwrap().into_iter().filter(|o| o.kind == OutboxKind::Agenda).collect();
    let to: Vec<&str> = agendas.iter().map(|o| o.recipient.as_str()).collect();
    assert_eq!(to, [POLICE_DMO, HEALTH_DMO, "lead@idva.example.test"]);
    assert!(agendas.iter().all(|o| o.message_row.is_none() && o.status == "pending"), "{agendas:?}");
    let sends = store.agenda_sends("default", "2026-01-13".parse().unwrap()).await.unwrap();
    assert_eq!(sends.iter().map(|s| (s.agency.as_str(), s.cases, s.requested_by.as_str())).collect::<Vec<_>>(), [("Kingsmere Police", 2, "schedule"), ("Kingsmere NHS Trust", 2, "schedule"), ("Kingsmere IDVA Service", 2, "schedule")]);
    assert_eq!(store.restricted_on_agenda("default", "2026-01-13".parse().unwrap()).await.unwrap(), 1);

    // The message: to the officer alone, the workbook attached; people by initials and year of
    // birth, the restricted case left out, and no name anywhere in the message's text.
    let raw = store.outbox_raw(agendas[0].id).await.unwrap();
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
    assert_eq!(parsed.to().and_then(|t| t.first()).and_then(|t| t.address()), Some(POLICE_DMO));
    assert_eq!(parsed.subject(), Some("Kingsmere MARAC agenda: meeting of Tuesday 13 January 2026"));
    let rows = workbook_rows(raw.as_bytes());
    assert_eq!(rows[0][..3], ["Reference".to_owned(), "Victim".to_owned(), "Year of birth".to_owned()]);
    let listed: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(listed.len(), 2, "{rows:?}");
    assert!(listed.contains(&cases[0].as_str()) && listed.contains(&cases[1].as_str()) && !listed.contains(&cases[2].as_str()), "the restricted case is left out: {listed:?}");
    for r in &rows[1..] {
        assert!(r[1].len() <= 5 && r[1].contains('.'), "initials only: {r:?}");
    }
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("Kingsmere Police") && text.contains("2 cases"), "{text}");

    // Audited once per send, by the schedule, with counts and no names.
    let audit: Vec<(String, Option<String>, Option<String>)> =
        store.audit_log(100).await.unwrap().into_iter().filter(|e| e.action == "agenda.send").map(|e| (e.actor, e.object, e.detail)).collect();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|(actor, object, _)| actor == "schedule" && object.as_deref() == Some("2026-01-13 default")), "{audit:?}");
    let details: Vec<&str> = audit.iter().filter_map(|(_, _, d)| d.as_deref()).collect();
    assert!(details.contains(&"2 officers, 2 cases, by the schedule") && details.contains(&"1 officer, 2 cases, by the schedule"), "{details:?}");

    // The health officer's agenda bounces: a review item naming the meeting and the agency (no
    // reply), and the send shown bounced.
    let message_id = parsed_id(&store.outbox_raw(agendas[1].id).await.unwrap());
    let bounce = dsn(HEALTH_DMO, &message_id);
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-08T09:00:00Z").unwrap();
    let record = marac_intake::triage::triage_message(&bounce, None, None, now, &cfg, &store).await.expect("triage");
    assert_eq!(record.outcome, Outcome::Review, "{:?}", record.reasons);
    assert!(record.reasons.iter().any(|r| r.contains("an agenda we sent to a designated officer (meeting 2026-01-13, Kingsmere NHS Trust) could not be delivered")), "{:?}", record.reasons);
    let sends = store.agenda_sends("default", "2026-01-13".parse().unwrap()).await.unwrap();
    assert!(sends[1].bounced_at.is_some() && sends[0].bounced_at.is_none(), "{sends:?}");

    // Retention: a sent agenda's text goes after `outbox_days`, as a reply's does; its row stays.
    store.reply_attempted(agendas[0].id, "2026-01-08T08:01:00.000Z", &marac_intake::store::AttemptEnd::Sent, Some(250), Some("2.0.0 Ok")).await.unwrap();
    let purged = store.purge(&config::RetentionConfig::default(), at("2026-06-01T00:00:00Z"), "test").await.unwrap();
    assert!(purged.counts.detail().contains("outbox_copies=1"), "{}", purged.counts.detail());
    let emptied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'agenda' AND raw = ''").fetch_one(store.pool()).await.unwrap();
    assert_eq!(emptied, 1, "only the sent one; the pending ones keep theirs");
    assert_eq!(store.agenda_sends("default", "2026-01-13".parse().unwrap()).await.unwrap().len(), 3);
}

/// The Message-ID of a message of ours, as its header gives it (with its angle brackets).
fn parsed_id(raw: &str) -> String {
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
    format!("<{}>", parsed.message_id().expect("a Message-ID"))
}

/// A delivery failure report from the officer's gateway, returning the headers of `message_id`.
fn dsn(to: &str, message_id: &str) -> Vec<u8> {
    let text = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.nhs.example.test>\r\nTo: marac@marac.example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Date: Thu, 08 Jan 2026 08:05:00 +0000\r\nMessage-ID: <dsn-1@mx.nhs.example.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n<{to}>: 550 5.1.1 no such user\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.nhs.example.test\r\n\r\nFinal-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         --b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Kingsmere MARAC <marac@marac.example.test>\r\nTo: {to}\r\nMessage-ID: {message_id}\r\nSubject: Kingsmere MARAC agenda\r\n\
         --b1--\r\n"
    );
    text.into_bytes()
}

#[test]
fn an_officer_off_the_allowlist_is_refused_by_the_configuration() {
    let text = format!("{}\n[agenda]\nofficers = [\"Police <dmo@kingsmere.pnn.police.example.test>\", \"Elsewhere <someone@gmail.com>\"]\n", samples_text());
    let e = config::parse(&text, Vec::new()).unwrap().build().unwrap_err();
    assert_eq!(e.key, "agenda.officers[1]");
    assert!(e.reason.contains("not on the secure-sender allowlist"), "{}", e.reason);
}

/// The must-show: sent by hand in Chromium, delivered by a real Postfix into two officers'
/// Dovecot mailboxes (screenshot `docs/meeting-agenda.png` with `UPDATE_SCREENSHOTS=1`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_sends_the_agenda_to_two_officers_mailboxes_in_chromium() {
    use crate::web_browser::{coordinator_signed_in, path_of, screenshot, wait_for, SignedIn};
    use fantoccini::Locator;
    let scratch = Scratch::new("agenda-browser");
    std::fs::create_dir_all(scratch.0.join("profile")).unwrap();
    let dovecot = Dovecot::start(&["marac@marac.example.test", REFERRER, POLICE_DMO, HEALTH_DMO]);
    let postfix = Postfix::start(&dovecot);
    let config = scratch.0.join("marac.toml");
    std::fs::write(&config, format!("{}{}", samples_text(), officers_section(""))).unwrap();
    let db = format!("sqlite://{}/t.db", scratch.0.display());

    // Two referrals arriving now, by the real binary: on the agenda of the next meeting.
    let now = Utc::now() - chrono::Duration::hours(2);
    let when = gen_fixtures::util::Stamp { at: now.naive_utc(), offset_h: 0 };
    let mut files = Vec::new();
    for n in [801, 802] {
        let f = scratch.0.join(format!("{n}.eml"));
        std::fs::write(&f, gen_fixtures::triage::synthetic_referral(n, when, 15)).unwrap();
        files.push(f.display().to_string());
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake"))
        .args(["triage", "--json", "--config"])
        .arg(&config)
        .args(["--db", &db])
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "triage: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| l["outcome"] == "accepted"), "{lines:?}");
    let meeting = lines[0]["meeting_date"].as_str().expect("a meeting date").to_owned();
    let cases: Vec<String> = lines.iter().map(|l| l["case_ref"].as_str().unwrap().to_owned()).collect();

    let SignedIn { c, base, server: _server, driver: _driver } = coordinator_signed_in(&scratch.0, &config, &db).await;
    c.goto(&format!("{base}/meetings/{meeting}")).await.unwrap();
    wait_for(&c, "#officer-list").await;
    let officers = c.find(Locator::Css("#officer-list")).await.unwrap().text().await.unwrap();
    assert!(officers.contains("Kingsmere Police") && officers.contains(POLICE_DMO) && officers.contains(HEALTH_DMO), "{officers}");
    assert!(c.find(Locator::Css("#officers")).await.unwrap().text().await.unwrap().contains("Not sent yet"));

    // Sent by hand: the box ticked, then the button.
    c.find(Locator::Css("#c-send")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#send-agenda button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#agenda-sent").await;
    assert_eq!(path_of(&c).await, format!("/meetings/{meeting}?area=default&sent=2"));

    // The outbox sends it through Postfix into each officer's mailbox.
    let cfg = config::load(&config, service_env(&dovecot, &postfix, "marac@marac.example.test")).unwrap();
    let store = Store::open(&db).await.unwrap();
    let report = marac_intake::outbox::send_pending(&cfg, &store, Utc::now()).await.unwrap();
    assert_eq!(report.sent, 4, "the two acknowledgements and the two agendas: {report:?}; postfix log:\n{}", postfix.log());
    let agendas = store.outbox().await.unwrap().into_iter().filter(|o| o.kind == OutboxKind::Agenda);
    assert!(agendas.map(|o| o.status).all(|s| s == "sent"));
    for (dmo, agency) in [(POLICE_DMO, "Kingsmere Police"), (HEALTH_DMO, "Kingsmere NHS Trust")] {
        let mut inbox = Vec::new();
        for _ in 0..200 {
            inbox = dovecot.list_folder(dmo, "INBOX").await;
            if !inbox.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(inbox.len(), 1, "{dmo}: one agenda delivered; postfix log:\n{}", postfix.log());
        let parsed = mail_parser::MessageParser::default().parse(&inbox[0]).unwrap();
        assert_eq!(parsed.to().and_then(|t| t.first()).and_then(|t| t.address()), Some(dmo));
        assert!(parsed.body_text(0).unwrap().contains(agency));
        let rows = workbook_rows(&inbox[0]);
        let listed: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(listed.len(), 2, "{rows:?}");
        assert!(cases.iter().all(|c| listed.contains(&c.as_str())), "{listed:?}");
        assert!(rows[1..].iter().all(|r| r[1].contains('.') && r[1].len() <= 5), "initials: {rows:?}");
    }
    assert!(dovecot.list_folder("marac@marac.example.test", "INBOX").await.is_empty(), "nothing to anyone else");

    // Who had it when: each row sent, with its time.
    c.goto(&format!("{base}/meetings/{meeting}")).await.unwrap();
    wait_for(&c, "#agenda-sends").await;
    for dmo in [POLICE_DMO, HEALTH_DMO] {
        let row = c.find(Locator::Css(&format!("#agenda-sends tr[data-recipient=\"{dmo}\"]"))).await.unwrap();
        let status = row.find(Locator::Css("td.status")).await.unwrap().text().await.unwrap();
        let sent = row.find(Locator::Css("td.sent")).await.unwrap().text().await.unwrap();
        assert_eq!(status, "sent");
        assert!(sent.contains(&chrono::Local::now().format("%Y").to_string()) && sent.contains(':'), "a UK time: {sent}");
        assert!(row.text().await.unwrap().contains("coord"), "sent by the coordinator");
    }
    screenshot("meeting-agenda.png", &c.screenshot().await.unwrap(), &scratch.0);

    // Again, to the police officer alone: the page asks to confirm first.
    let row = c.find(Locator::Css(&format!("#agenda-sends tr[data-recipient=\"{POLICE_DMO}\"]"))).await.unwrap();
    row.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "form.confirm #c-confirm").await;
    c.find(Locator::Css("#c-confirm")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form.confirm button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "#agenda-sent").await;
    assert_eq!(path_of(&c).await, format!("/meetings/{meeting}?area=default&sent=1"));
    let agendas: Vec<_> = store.outbox().await.unwrap().into_iter().filter(|o| o.kind == OutboxKind::Agenda).collect();
    assert_eq!(agendas.iter().map(|o| o.recipient.as_str()).collect::<Vec<_>>(), [POLICE_DMO, HEALTH_DMO, POLICE_DMO]);
    let audit: Vec<(String, Option<String>)> = store.audit_log(100).await.unwrap().into_iter().filter(|e| e.action == "agenda.send").map(|e| (e.actor, e.detail)).collect();
    assert_eq!(audit, [("coord".to_owned(), Some("1 officer, 2 cases, by hand".to_owned())), ("coord".to_owned(), Some("2 officers, 2 cases, by hand".to_owned()))], "newest first");
}

/// `run` sends a due agenda by itself: weekly meetings and 5 working days (a week) before, so
/// the next meeting's agenda (and only the next's, where the referral triaged first is listed)
/// is due as the service starts; it reaches both officers' mailboxes through
/// Postfix, once, and the service's log says so without a name or an address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_sends_a_due_agenda_to_the_officers_by_itself() {
    use crate::run::{eventually, service_env as run_env, Daemon};
    use std::time::Duration;
    let scratch = Scratch::new("agenda-run");
    let dovecot = Dovecot::start(&["marac@marac.example.test", REFERRER, POLICE_DMO, HEALTH_DMO]);
    let postfix = Postfix::start(&dovecot);
    let weekly = samples_text().replace("kind = \"monthly\"\nweekday = \"tue\"\nnth = 2\n", "kind = \"weekly\"\nweekday = \"tue\"\n");
    assert!(weekly.contains("kind = \"weekly\""), "the samples' schedule as this test expects it");
    let config = scratch.0.join("marac.toml");
    std::fs::write(&config, format!("{weekly}{}", officers_section("").replace("working_days_before = 3\nsend_at = \"08:00\"", "working_days_before = 5\nsend_at = \"00:00\""))).unwrap();
    let db = scratch.0.join("run.db");
    // A referral arriving now, triaged before the service starts: on the next meeting's agenda
    // (the schedule sends no empty one).
    let when = gen_fixtures::util::Stamp { at: (chrono::Utc::now() - chrono::Duration::hours(2)).naive_utc(), offset_h: 0 };
    let referral = scratch.0.join("referral.eml");
    std::fs::write(&referral, gen_fixtures::triage::synthetic_referral(811, when, 15)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake"))
        .args(["triage", "--json", "--config"])
        .arg(&config)
        .args(["--db", &format!("sqlite://{}", db.display())])
        .arg(&referral)
        .output()
        .unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("\"accepted\""), "triage: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let mut daemon = Daemon::start(&config, &db, &run_env(&dovecot, &postfix), &scratch.0.join("run.log"), None);
    let both = eventually(Duration::from_secs(60), async || {
        dovecot.list_folder(POLICE_DMO, "INBOX").await.len() == 1 && dovecot.list_folder(HEALTH_DMO, "INBOX").await.len() == 1
    })
    .await;
    assert!(both, "each officer has the agenda; log:\n{}\npostfix:\n{}", daemon.log(), postfix.log());
    // Another look of the schedule's (and a restart's) sends nothing again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    daemon.signal("-TERM");
    assert!(daemon.wait_exit(Duration::from_secs(30)).is_some_and(|s| s.success()), "{}", daemon.log());
    let mut again = Daemon::start(&config, &db, &run_env(&dovecot, &postfix), &scratch.0.join("run2.log"), None);
    tokio::time::sleep(Duration::from_secs(3)).await;
    again.signal("-TERM");
    assert!(again.wait_exit(Duration::from_secs(30)).is_some());
    for dmo in [POLICE_DMO, HEALTH_DMO] {
        let inbox = dovecot.list_folder(dmo, "INBOX").await;
        assert_eq!(inbox.len(), 1, "{dmo}: once");
        assert!(String::from_utf8_lossy(&inbox[0]).contains("Auto-Submitted: auto-generated"));
    }
    let log = daemon.log();
    assert!(log.contains("A meeting's agenda was queued for the agencies' officers."), "{log}");
    assert!(!log.contains(POLICE_DMO) && !log.contains(HEALTH_DMO), "no address in the log: {log}");
}

/// Two areas, each with its own officers: each area's agenda lists its own cases only and goes
/// to its own officers only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_areas_agenda_goes_to_its_own_officers_with_its_own_cases() {
    let scratch = Scratch::new("agenda-areas");
    let officers = "\n[areas.north.agenda]\nofficers = [\"North Police <north.dmo@kingsmere.pnn.police.example.test>\"]\n\
                    [areas.south.agenda]\nofficers = [\"South Health <south.dmo@nhs.example.test>\"]\n";
    let path = scratch.0.join("areas.toml");
    std::fs::write(&path, format!("{}{}{officers}", samples_text(), crate::areas::AREAS)).unwrap();
    let cfg = config::load(&path, Vec::<(String, String)>::new()).unwrap();
    let store = store_on(None, &scratch, "agenda-areas").await;
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    let mut cases = Vec::new();
    for (file, to, n) in [("001_police_seed_victim_l_accept15.eml", "north-marac@marac.example.test", 1), ("050_police_victim_u_accept16.eml", "south-marac@marac.example.test", 2)] {
        let record = marac_intake::triage::triage_message(&crate::areas::sent_to(file, to, n), Some(file), None, now, &cfg, &store).await.unwrap();
        assert_eq!(record.outcome, Outcome::Accepted, "{:?}", record.reasons);
        cases.push((record.area.clone(), record.case_ref.clone().unwrap(), record.meeting_date.clone().unwrap()));
    }
    // At 08:00 on a day each meeting's agenda is due (three working days before it).
    let mut sent = 0;
    for (area, _, meeting) in &cases {
        let plan = &cfg.area(area).unwrap().config.agenda;
        let day = plan.send_day(meeting.parse().unwrap()).unwrap();
        sent += marac_intake::web::agenda::send_due(&store, &cfg, at(&format!("{day}T08:00:00Z"))).await;
    }
    assert_eq!(sent, 2, "one agenda per area's officer, none for a meeting with no case listed");
    for ((area, case, meeting), (other_case, dmo)) in cases.iter().zip([(&cases[1].1, "north.dmo@kingsmere.pnn.police.example.test"), (&cases[0].1, "south.dmo@nhs.example.test")]) {
        let sends = store.agenda_sends(area, meeting.parse().unwrap()).await.unwrap();
        assert_eq!(sends.iter().map(|s| s.recipient.as_str()).collect::<Vec<_>>(), [dmo], "{area}");
        let rows = workbook_rows(store.outbox_raw(sends[0].outbox_id).await.unwrap().as_bytes());
        let listed: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert!(listed.contains(&case.as_str()) && !listed.contains(&other_case.as_str()), "{area}: {listed:?}");
    }
}

/// Erasing a person withdraws the agendas not yet sent that list one of their cases (their
/// initials and year of birth are in the workbook): each is refused with the reason and its text
/// replaced, the erasure's audit record counts them, and an agenda already sent or of another
/// meeting is left as it is; the coordinator sends the meeting's agenda again by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_person_withdraws_the_agendas_not_yet_sent_that_list_them() {
    let pg = Postgres::start("agenda-erase");
    for pg in [None, pg.as_ref()] {
        erase_withdraws_on(pg).await;
    }
}

async fn erase_withdraws_on(pg: Option<&Postgres>) {
    let scratch = Scratch::new("agenda-erase");
    let store = store_on(pg, &scratch, "agenda_erase").await;
    let cfg = config_with(&officers_section(""));
    // Two referrals heard on Tuesday 13 January 2026, one on Tuesday 10 February.
    let january = [referral(&store, &cfg, 711, gen_fixtures::util::stamp(2026, 1, 5, 9, 0, 0)).await, referral(&store, &cfg, 712, gen_fixtures::util::stamp(2026, 1, 5, 10, 0, 0)).await];
    let february = referral(&store, &cfg, 713, gen_fixtures::util::stamp(2026, 1, 20, 9, 0, 0)).await;
    let (jan, feb): (chrono::NaiveDate, chrono::NaiveDate) = ("2026-01-13".parse().unwrap(), "2026-02-10".parse().unwrap());
    assert_eq!(february.meeting_date.as_deref(), Some("2026-02-10"));
    let area = &cfg.areas[0];
    let officers = &area.config.agenda.officers;
    let now = at("2026-01-08T09:00:00Z");
    for meeting in [jan, feb] {
        let queued = marac_intake::web::agenda::send(&store, &cfg, area, meeting, officers, false, "coordinator", None, now).await.unwrap();
        assert_eq!(queued.len(), 2);
    }
    let sends = |meeting| {
        let store = store.clone();
        async move { store.agenda_sends("default", meeting).await.unwrap() }
    };
    let (police_jan, health_jan) = {
        let s = sends(jan).await;
        (s[0].outbox_id, s[1].outbox_id)
    };
    // The police officer's January agenda has gone already.
    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = '2026-01-08T09:00:05.000Z' WHERE id = $1").bind(police_jan).execute(store.pool()).await.unwrap();
    let sent_text = store.outbox_raw(police_jan).await.unwrap();

    let person = january[0].victim_ref.clone().expect("a victim record");
    let audit = marac_intake::store::audit::Audit { at: "2026-01-08T09:01:00.000Z", actor: "boss", action: "subject.erase", object: Some(&person), client: None, detail: None };
    let erased = store.erase_subject(&person, "erasure request upheld", &audit).await.unwrap().expect("the person");
    assert_eq!(erased.agendas, 1, "the health officer's January agenda, not yet sent");

    let rows = store.outbox().await.unwrap();
    let status = |id: i64| rows.iter().find(|r| r.id == id).map(|r| (r.status.clone(), r.last_error.clone())).unwrap();
    assert_eq!(status(health_jan), ("refused".to_owned(), Some(marac_intake::store::subjects::AGENDA_ERASED.to_owned())));
    assert_eq!(store.outbox_raw(health_jan).await.unwrap(), marac_intake::store::subjects::TOMBSTONE, "its text is gone");
    assert_eq!(status(police_jan).0, "sent", "one already sent is the officer's");
    assert_eq!(store.outbox_raw(police_jan).await.unwrap(), sent_text);
    for s in sends(feb).await {
        assert_eq!(status(s.outbox_id).0, "pending", "February's agendas do not list them");
        assert_eq!(workbook_rows(store.outbox_raw(s.outbox_id).await.unwrap().as_bytes()).len(), 2, "February's one case");
    }
    let detail: Vec<String> = store.audit_log(100).await.unwrap().into_iter().filter(|e| e.action == "subject.erase").filter_map(|e| e.detail).collect();
    assert!(detail.len() == 1 && detail[0].contains("agendas withdrawn 1"), "{detail:?}");

    // Sent again by hand, the agenda still lists both January cases, the erased one by its
    // reference alone.
    let again = marac_intake::web::agenda::send(&store, &cfg, area, jan, &officers[1..], false, "coordinator", None, at("2026-01-08T09:05:00Z")).await.unwrap();
    assert_eq!(again.len(), 1);
    let resent = sends(jan).await.last().unwrap().outbox_id;
    let book = workbook_rows(store.outbox_raw(resent).await.unwrap().as_bytes());
    let erased_case = january[0].case_ref.clone().unwrap();
    let row = book.iter().find(|r| r[0] == erased_case).expect("the erased person's case is still on the agenda");
    assert!(row[1].trim().is_empty(), "no initials left: {row:?}");
}
