//! The web queue in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs), driven through chromedriver with fantoccini over plain HTTP on
//! 127.0.0.1. The `marac-intake` binary itself serves a fresh SQLite database filled by triaging
//! `fixtures/triage/`, with users made by `marac-intake user add`. Screenshots of the queue and a
//! case page (and the dashboard and the rules) are written to `docs/` with `UPDATE_SCREENSHOTS=1`
//! (else to a scratch folder).

use crate::support::{free_port, totp, web_fixture, Scratch};

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use marac_intake::decide::{OutboxKind, Outcome, ReplyKind};
use web_fixture::{samples_config, triaged_store, PASSWORD};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process killed (and reaped) when dropped, whatever the test did.
pub(crate) struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}


fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_marac-intake")
}

/// `marac-intake user add`, the password through `--password-file` or piped on standard input,
/// the TOTP secret through `--totp-secret-file` when given.
pub(crate) fn add_user(config: &Path, db: &str, name: &str, role: &str, password_file: Option<&Path>, totp_secret_file: Option<&Path>) {
    let mut cmd = Command::new(bin());
    cmd.args(["user", "add", name, "--role", role, "--config"]).arg(config).args(["--db", db]);
    if let Some(f) = password_file {
        cmd.arg("--password-file").arg(f);
    }
    if let Some(f) = totp_secret_file {
        cmd.arg("--totp-secret-file").arg(f);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if password_file.is_none() {
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "user add {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `marac-intake serve` on 127.0.0.1 port 0; its base URL from the line it prints.
pub(crate) fn serve(config: &Path, db: &str) -> (Running, String) {
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .args(["--db", db])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("marac-intake: serving on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30)).expect("serve prints its address within 30 s");
    (running, url)
}

pub(crate) fn chromedriver() -> (Running, u16) {
    assert!(Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(), "this test needs Debian's chromium and chromium-driver: apt-get install -y --no-install-recommends chromium chromium-driver (.ci/run does)");
    let port = free_port();
    let child = Command::new(CHROMEDRIVER).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    (running, port)
}

pub(crate) async fn browser(port: u16, profile: &Path, downloads: &Path) -> Client {
    let args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1280,1000".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    let prefs = serde_json::json!({ "download.default_directory": downloads.display().to_string(), "download.prompt_for_download": false });
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args, "prefs": prefs }));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session through chromedriver")
}

pub(crate) async fn path_of(c: &Client) -> String {
    let u = c.current_url().await.unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

/// Signs in with the password and the code of the authenticator app, computed from the secret
/// the user enrolled (`totp::SECRET` unless they set up another).
pub(crate) async fn sign_in(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(password).await.unwrap();
    let code = totp::code(base, user, &totp::secret_of(base, user)).await;
    c.find(Locator::Css("input[name=code]")).await.unwrap().send_keys(&code).await.unwrap();
    c.find(Locator::Css("form.login button[type=submit]")).await.unwrap().click().await.unwrap();
    // Signed in: the browser leaves the sign-in page (a refusal shows it again), and every page
    // then has the sign-out form. The sign-in page itself may show one already (signed in as
    // someone else), so the URL is waited for first.
    wait_for_path(c, |p| !p.starts_with("/login"), "a page other than /login").await;
    wait_for(c, "form.signout").await;
}

/// The coordinator `coord` (the fixtures' password, the authenticator secret `totp::SECRET`)
/// added to `db`, the web queue served on it and a Chromium signed in as them, downloading into
/// `scratch/downloads`. The server and the driver stop when their `Running` is dropped: bind them.
pub(crate) struct SignedIn {
    pub(crate) c: Client,
    pub(crate) base: String,
    pub(crate) server: Running,
    pub(crate) driver: Running,
}

pub(crate) async fn coordinator_signed_in(scratch: &Path, config: &Path, db: &str) -> SignedIn {
    let secret = scratch.join("totp-secret");
    std::fs::write(&secret, format!("{}\n", totp::SECRET)).unwrap();
    add_user(config, db, "coord", "coordinator", None, Some(&secret));
    let (server, base) = serve(config, db);
    let (driver, port) = chromedriver();
    let downloads = scratch.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let c = browser(port, &scratch.join("profile"), &downloads).await;
    sign_in(&c, &base, "coord", PASSWORD).await;
    SignedIn { c, base, server, driver }
}

/// Waits (at most 10 s) until the browser is at a path (with its query) that `want` accepts: a
/// click's new page has arrived, not only the page it was made on.
pub(crate) async fn wait_for_path(c: &Client, want: impl Fn(&str) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let path = path_of(c).await;
        if want(&path) {
            return;
        }
        assert!(Instant::now() < deadline, "still at {path} after 10 s, waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for exactly this path and query.
async fn wait_for_exact(c: &Client, want: &str) {
    wait_for_path(c, |p| p == want, want).await;
}

/// Waits (at most 10 s) until the page that a click led to shows `css`.
pub(crate) async fn wait_for(c: &Client, css: &str) {
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} on the page within 10 s: {e}"));
}

pub(crate) fn screenshot(name: &str, png: &[u8], scratch: &Path) {
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}: a real screenshot");
    let dir = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() { Path::new(env!("CARGO_MANIFEST_DIR")).join("docs") } else { scratch.to_path_buf() };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_work_the_queue_in_chromium() {
    let scratch = Scratch::new("web-browser");
    std::fs::create_dir_all(scratch.0.join("profile")).unwrap();
    let db = format!("sqlite://{}/t.db", scratch.0.display());
    let (store, _) = triaged_store(&db).await;
    let (config, _) = samples_config();
    let pw = scratch.0.join("coord-password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let secret = scratch.0.join("totp-secret");
    std::fs::write(&secret, format!("{}\n", totp::SECRET)).unwrap();
    add_user(&config, &db, "coord", "coordinator", Some(&pw), Some(&secret));
    add_user(&config, &db, "boss", "admin", None, Some(&secret));

    let (_server, base) = serve(&config, &db);
    let (_driver, port) = chromedriver();
    let downloads = scratch.0.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let c = browser(port, &scratch.0.join("profile"), &downloads).await;

    // Signed out, a case is out of reach: the browser lands on the sign-in form.
    c.goto(&format!("{base}/case/MARAC-2026-0002")).await.unwrap();
    assert_eq!(path_of(&c).await, "/login");
    assert!(c.find(Locator::Css("label[for=username]")).await.is_ok(), "labelled inputs");

    sign_in(&c, &base, "coord", PASSWORD).await;
    assert_eq!(path_of(&c).await, "/", "{}", c.source().await.unwrap());
    // The queue in the store's order: review items, quarantined, then cases by meeting and risk.
    let queue = store.queue().await.unwrap();
    let mut shown = Vec::new();
    for row in c.find_all(Locator::Css("tr[data-ref]")).await.unwrap() {
        shown.push(row.attr("data-ref").await.unwrap().unwrap());
    }
    assert_eq!(shown, queue.iter().map(|r| r.reference.clone()).collect::<Vec<_>>());
    let first_review = queue.iter().position(|r| r.outcome == Outcome::Review).unwrap();
    let first_pending = queue.iter().position(|r| r.outcome == Outcome::Accepted).unwrap();
    assert!(first_review < first_pending);
    let heading = c.find(Locator::Css("h2#review")).await.unwrap().text().await.unwrap();
    assert!(heading.starts_with("Needs a decision"), "{heading}");
    screenshot("queue.png", &c.screenshot().await.unwrap(), &scratch.0);

    // Open the first case listed for a meeting: its referral, DASH answers and replies.
    let pending = &queue[first_pending];
    let case_ref = pending.case_ref.clone().unwrap();
    c.find(Locator::Css(&format!("a[href='/case/{case_ref}']"))).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, &format!("/case/{case_ref}")).await;
    wait_for(&c, "table.dash").await;
    assert_eq!(path_of(&c).await, format!("/case/{case_ref}"));
    assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), format!("Case {case_ref}"));
    let answers = c.find_all(Locator::Css("table.dash tbody tr")).await.unwrap();
    assert_eq!(answers.len(), 24, "the 24 DASH answers");
    assert!(c.find(Locator::Css("tr[data-kind=acknowledgement]")).await.is_ok(), "its acknowledgement is shown");
    screenshot("case.png", &c.screenshot().await.unwrap(), &scratch.0);
    // Its first attachment downloads as it was received, byte for byte.
    let message_ref = c.find(Locator::Css("a[href$='/original.eml']")).await.unwrap().attr("href").await.unwrap().unwrap();
    let message_ref = message_ref.trim_start_matches("/case/").trim_end_matches("/original.eml").to_owned();
    let sent = store.history().await.unwrap().into_iter().find(|m| m.reference == message_ref).and_then(|m| m.file).expect("the case's message, triaged from a file");
    let first = marac_intake::mime::parse(&std::fs::read(&sent).unwrap(), &marac_intake::limits::Limits::default()).attachments.remove(0);
    c.find(Locator::Css(&format!("a[href='/case/{message_ref}/attachment/0']"))).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let got = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(&downloads).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{message_ref}-")) && !n.to_string_lossy().ends_with(".crdownload"))).collect();
        if let Some(p) = done.first() {
            tokio::time::sleep(Duration::from_millis(300)).await;
            break std::fs::read(p).unwrap();
        }
        assert!(Instant::now() < deadline, "the attachment was not downloaded within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(got, first.bytes, "the attachment as received");

    // Export the agenda of that case's meeting from the meetings page; the workbook lists the
    // meeting's cases in the queue's order, under a header row.
    let meeting = pending.meeting_date.clone().unwrap();
    c.goto(&format!("{base}/meetings")).await.unwrap();
    c.find(Locator::Css(&format!("tr[data-date='{meeting}'] a[href$='agenda.xlsx']"))).await.unwrap().click().await.unwrap();
    let file = downloads.join(format!("marac-agenda-{meeting}.xlsx"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "the agenda was not downloaded within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&file).expect("the downloaded agenda opens");
    let range = wb.worksheet_range(&format!("MARAC {meeting}")).unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][..3], ["Reference", "Victim", "Year of birth"]);
    let listed: Vec<String> = queue.iter().filter(|r| r.outcome == Outcome::Accepted && r.meeting_date.as_deref() == Some(meeting.as_str())).map(|r| r.case_ref.clone().unwrap()).collect();
    assert_eq!(rows[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(), listed);
    assert!(rows[1..].iter().all(|r| r[1].ends_with('.')), "victims by initials: {rows:?}");

    // Resolve a review item: reject it with a reason; the reply is in the outbox, shown on the page.
    let items: Vec<_> = queue.iter().filter(|r| r.outcome == Outcome::Review && !r.reply_to.is_empty()).collect();
    assert!(items.len() >= 2, "two review items with a secure sender");
    let item = items[0];
    c.goto(&format!("{base}/case/{}", item.reference)).await.unwrap();
    c.find(Locator::Id("d-reject")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("d-reason")).await.unwrap().send_keys("Please send the DASH again without a password.").await.unwrap();
    c.find(Locator::Css("form.decide button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, &format!("/case/{}?decided=reject", item.reference)).await;
    wait_for(&c, "p.notice").await;
    let status = c.find(Locator::Css("tr[data-kind=rejection] td.status")).await.unwrap().text().await.unwrap();
    assert!(status.starts_with("pending"), "{status}");
    let outbox = store.outbox().await.unwrap();
    assert!(outbox.iter().any(|o| o.kind == OutboxKind::Reply(ReplyKind::Rejection) && o.recipient == item.reply_to[0] && o.status == "pending"));

    // The same form with its CSRF token removed is refused, and nothing is recorded.
    let other = items[1];
    c.goto(&format!("{base}/case/{}", other.reference)).await.unwrap();
    c.execute("document.querySelector('form.decide input[name=csrf]').remove()", vec![]).await.unwrap();
    c.find(Locator::Id("d-reject")).await.unwrap().click().await.unwrap();
    c.find(Locator::Id("d-reason")).await.unwrap().send_keys("x").await.unwrap();
    c.find(Locator::Css("form.decide button[type=submit]")).await.unwrap().click().await.unwrap();
    let case_page = format!("/case/{}", other.reference);
    wait_for_path(&c, |p| p != case_page, "the refusal page").await;
    wait_for(&c, "pre").await;
    let refused = c.source().await.unwrap();
    assert!(refused.contains("forbidden"), "refused without its token: {refused}");
    assert_eq!(store.outbox().await.unwrap().len(), outbox.len());
    assert!(store.queue().await.unwrap().iter().any(|r| r.reference == other.reference), "still waiting for a decision");

    // The dashboard draws the weeks and counts the outcomes.
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    assert!(c.find(Locator::Css("figure svg[role=img]")).await.is_ok(), "the weekly chart");
    let accepted = store.history().await.unwrap().iter().filter(|m| m.outcome == Outcome::Accepted).count();
    let outcomes = c.find(Locator::Id("outcomes")).await.unwrap().text().await.unwrap();
    assert!(outcomes.contains(&format!("Accepted\n{accepted}")), "{outcomes}");
    screenshot("dashboard.png", &c.screenshot().await.unwrap(), &scratch.0);

    // A coordinator cannot reach the admin pages.
    c.goto(&format!("{base}/admin/audit")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("forbidden") && !page.contains("<h1>Audit log</h1>"));

    // Sign out: the case is out of reach again.
    c.goto(&format!("{base}/")).await.unwrap();
    c.find(Locator::Css("form.signout button")).await.unwrap().click().await.unwrap();
    wait_for(&c, "form.login").await;
    assert_eq!(path_of(&c).await, "/login");
    c.goto(&format!("{base}/case/{case_ref}")).await.unwrap();
    assert_eq!(path_of(&c).await, "/login");

    // The admin changes the DASH threshold with the section's form (a number field), checks
    // it, sees it as it would read, saves it; the rules page shows it in force, stored as
    // version 1 over the file. The TOML stays as the advanced view.
    sign_in(&c, &base, "boss", PASSWORD).await;
    c.goto(&format!("{base}/admin/rules")).await.unwrap();
    c.find(Locator::Css("a[href='/admin/rules/threshold']")).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, "/admin/rules/threshold").await;
    wait_for(&c, "form.rule-form").await;
    let score = c.find(Locator::Css("form.rule-form input[name='f.dash_score'][type=number]")).await.unwrap();
    assert_eq!(score.prop("value").await.unwrap().as_deref(), Some("14"));
    let id = score.attr("id").await.unwrap().unwrap();
    assert!(c.find(Locator::Css(&format!("label[for='{id}']"))).await.is_ok(), "a labelled field");
    assert!(c.find(Locator::Css("form.rule-form select[name='f.repeat_from']")).await.is_ok(), "a choice is a list to pick from");
    assert!(c.find(Locator::Css("form.rule-form input[type=checkbox][name='f.criteria'][value=repeat]")).await.unwrap().prop("checked").await.unwrap().as_deref() == Some("true"), "the criteria applied are ticked");
    let toml_view = c.find(Locator::Css("details.advanced textarea#rule-body")).await.unwrap();
    assert!(!toml_view.is_displayed().await.unwrap(), "the TOML is the advanced view, folded");
    score.clear().await.unwrap();
    score.send_keys("12").await.unwrap();
    c.find(Locator::Css("form.rule-form button[value=check]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "section.preview-section").await;
    let preview = c.find(Locator::Css("section.preview-section")).await.unwrap().text().await.unwrap();
    assert!(preview.contains("12 Yes answers or more"), "{preview}");
    assert_eq!(store.rules_version().await.unwrap(), 0, "a check saves nothing");
    screenshot("rules-edit.png", &c.screenshot().await.unwrap(), &scratch.0);
    c.find(Locator::Css("form.rule-form button[value=save]")).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, "/admin/rules/threshold?done=version%201").await;
    wait_for(&c, "p.notice").await;
    assert!(store.rule_layer().await.unwrap().sections["threshold"].contains("dash_score = 12"));
    c.goto(&format!("{base}/admin/rules")).await.unwrap();
    let threshold = c.find(Locator::Css("section[data-section=threshold]")).await.unwrap().text().await.unwrap();
    assert!(threshold.contains("Changed here: version 1, by boss") && threshold.contains("12 Yes answers or more"), "{threshold}");
    screenshot("rules.png", &c.screenshot().await.unwrap(), &scratch.0);

    // The admin reads the audit log: the views, the decision and the rule change, by whom.
    c.goto(&format!("{base}/admin/audit")).await.unwrap();
    let log = c.find(Locator::Css("main table")).await.unwrap().text().await.unwrap();
    assert!(log.contains(&format!("coord case.view {case_ref}")), "{log}");
    assert!(log.contains(&format!("coord review.reject {}", item.reference)));
    assert!(log.contains("boss rules.change threshold"), "{log}");

    // A user whose authenticator app was reset on the command line (a lost phone) sets up a new
    // one at their next sign-in: after the password, a QR code and the key as text; a code
    // computed from that key confirms it; the ten recovery codes are shown once.
    add_user(&config, &db, "kim", "coordinator", Some(&pw), Some(&secret));
    let out = Command::new(bin()).args(["user", "reset-totp", "kim", "--config"]).arg(&config).args(["--db", &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(store.users().await.unwrap().iter().any(|u| u.name == "kim" && !u.totp));
    c.goto(&format!("{base}/")).await.unwrap();
    c.find(Locator::Css("form.signout button")).await.unwrap().click().await.unwrap();
    wait_for(&c, "form.login").await;
    c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys("kim").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Css("form.login button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "form.enrol").await;
    assert!(c.find(Locator::Css("figure.totp-qr svg[role=img]")).await.is_ok(), "the QR code");
    let key = c.find(Locator::Id("totp-secret")).await.unwrap().text().await.unwrap().replace(' ', "");
    assert_ne!(key, totp::SECRET, "a new secret");
    screenshot("enrol.png", &c.screenshot().await.unwrap(), &scratch.0);
    c.find(Locator::Css("form.enrol input[name=code]")).await.unwrap().send_keys("000000").await.unwrap();
    c.find(Locator::Css("form.enrol button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "p.error").await;
    assert!(c.find(Locator::Css("form.enrol")).await.is_ok(), "a wrong code: the same page, with the error");
    totp::remember(&base, "kim", &key);
    let code = totp::code(&base, "kim", &key).await;
    c.find(Locator::Css("form.enrol input[name=code]")).await.unwrap().send_keys(&code).await.unwrap();
    c.find(Locator::Css("form.enrol button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "ol.recovery-codes").await;
    assert_eq!(c.find_all(Locator::Css("ol.recovery-codes li code")).await.unwrap().len(), 10);
    c.find(Locator::Css("a.continue")).await.unwrap().click().await.unwrap();
    wait_for(&c, "h2#review").await;
    assert_eq!(path_of(&c).await, "/");
    // Signed out, kim signs in again with the password and the app's next code.
    c.find(Locator::Css("form.signout button")).await.unwrap().click().await.unwrap();
    wait_for(&c, "form.login").await;
    sign_in(&c, &base, "kim", PASSWORD).await;
    assert_eq!(path_of(&c).await, "/");
    assert!(store.audit_log(20).await.unwrap().iter().any(|e| e.action == "user.totp_reset" && e.actor == "cli" && e.object.as_deref() == Some("kim")));

    c.close().await.unwrap();
}

/// Correcting what was read (issue 16).
mod correct;
mod search;
