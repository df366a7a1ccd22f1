//! The test harness itself: a real Postfix accepts submission (STARTTLS and implicit TLS, AUTH
//! through Dovecot's SASL, certificate from the harness CA) and delivers by LMTP into the
//! recipient's Dovecot mailbox, where IMAP reads it back.

use crate::support;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use support::mailservers::{Dovecot, Postfix, PASSWORD};

const SERVICE: &str = "marac@marac.example.test";
const REFERRER: &str = "referrer@kingsmere.pnn.police.example.test";

async fn submit(dovecot: &Dovecot, port: u16, implicit: bool, subject: &str) {
    let pem = std::fs::read(&dovecot.ca_file).unwrap();
    let params = TlsParameters::builder("localhost".into()).add_root_certificate(Certificate::from_pem(&pem).unwrap()).build_rustls().unwrap();
    let tls = if implicit { Tls::Wrapper(params) } else { Tls::Required(params) };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(tls)
        .credentials(Credentials::new(SERVICE.into(), PASSWORD.into()))
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let envelope = lettre::address::Envelope::new(Some(SERVICE.parse().unwrap()), vec![REFERRER.parse().unwrap()]).unwrap();
    let raw = format!("From: <{SERVICE}>\r\nTo: <{REFERRER}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@marac.example.test>\r\n\r\nHello.\r\n");
    transport.send_raw(&envelope, raw.as_bytes()).await.expect("submission accepted");
}

#[tokio::test]
async fn postfix_submission_delivers_into_the_recipients_dovecot_mailbox() {
    let dovecot = Dovecot::start(&[SERVICE, REFERRER]);
    let postfix = Postfix::start(&dovecot);
    submit(&dovecot, postfix.submission_port, false, "starttls").await;
    submit(&dovecot, postfix.smtps_port, true, "implicit").await;
    let mut inbox = Vec::new();
    for _ in 0..200 {
        inbox = dovecot.list_folder(REFERRER, "INBOX").await;
        if inbox.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let subjects: Vec<bool> = ["Subject: starttls", "Subject: implicit"].iter().map(|s| inbox.iter().any(|m| String::from_utf8_lossy(m).contains(s))).collect();
    assert_eq!(subjects, [true, true], "both messages delivered; postfix log:\n{}", postfix.log());
    assert!(dovecot.list_folder(SERVICE, "INBOX").await.is_empty(), "nothing went to the sender");
}

/// Failed logins from 127.0.0.1 do not slow the next login (no auth penalty, which would grow
/// 2, 4, 8 s per failure): tests that try wrong passwords stay fast and independent. Dovecot
/// still answers each failure after about half a second.
#[tokio::test]
async fn failed_logins_carry_no_penalty() {
    let dovecot = Dovecot::start(&[SERVICE]);
    for attempt in 0..4 {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imap_port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let started = std::time::Instant::now();
        assert!(client.login(SERVICE, "wrong").await.is_err());
        assert!(started.elapsed() < Duration::from_millis(1500), "failed login {attempt} took {:?}", started.elapsed());
    }
    let started = std::time::Instant::now();
    dovecot.session(SERVICE).await.logout().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(1500), "the good login took {:?}", started.elapsed());
}
