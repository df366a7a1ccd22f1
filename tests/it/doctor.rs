//! `marac-intake doctor` against a real Dovecot and Postfix on 127.0.0.1: a good configuration
//! passes every check (TLS, logins, capabilities, folders) and exits 0; a broken one fails the
//! broken checks with a fix each and exits 1. The TLS checks trust what the service trusts: the
//! system's roots (here `SSL_CERT_FILE`, as `update-ca-certificates` would make them) plus
//! `ca_file`, so a CA added to the system is trusted without `ca_file`.

use crate::support::mailservers::{self, Dovecot, Postfix};
use crate::support::{free_port, Scratch};
use std::path::Path;
use std::process::{Command, Stdio};

const SERVICE: &str = "marac@marac.example.test";

/// Runs `doctor` with `config/samples.toml` and `env`; its exit code and standard output.
fn doctor(env: &[(String, String)]) -> (i32, String) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_marac-intake"))
        .args(["doctor", "--config"])
        .arg(&config)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), stdout)
}

/// The line of the checklist that starts with `mark` and names `what`.
fn line<'a>(out: &'a str, mark: &str, what: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(mark) && l.contains(what)).unwrap_or_else(|| panic!("no `{mark} … {what}` line in:\n{out}"))
}

/// The fix printed under the check `what`.
fn fix_of<'a>(out: &'a str, what: &str) -> &'a str {
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| l.contains(what)).unwrap_or_else(|| panic!("no {what} in:\n{out}"));
    lines.get(at + 1).filter(|l| l.trim_start().starts_with("fix: ")).unwrap_or_else(|| panic!("no fix under {what} in:\n{out}"))
}

fn env_for(dovecot: &Dovecot, postfix: &Postfix, data: &Scratch) -> Vec<(String, String)> {
    let mut env = mailservers::service_env(dovecot, postfix, SERVICE);
    env.push(("MARAC__DATA_DIR".into(), data.0.display().to_string()));
    env
}

fn without(env: &[(String, String)], keys: &[&str]) -> Vec<(String, String)> {
    env.iter().filter(|(k, _)| !keys.contains(&k.as_str())).cloned().collect()
}

#[test]
fn a_good_configuration_passes_every_check_and_a_broken_one_says_what_to_fix() {
    let dovecot = Dovecot::start(&[SERVICE]);
    let postfix = Postfix::start(&dovecot);
    let data = Scratch::new("doctor");
    let env = env_for(&dovecot, &postfix, &data);

    let (code, out) = doctor(&env);
    assert_eq!(code, 0, "a good configuration:\n{out}");
    assert!(!out.contains("[FAIL]"), "{out}");
    line(&out, "[ ok ]", "configuration");
    assert!(line(&out, "[ ok ]", "database").contains("takes writes"), "{out}");
    let imap = format!("IMAP {SERVICE}@127.0.0.1:{} INBOX", dovecot.imaps_port);
    assert!(line(&out, "[ ok ]", &format!("{imap} TLS")).contains("TLS 1.3"), "{out}");
    line(&out, "[ ok ]", &format!("{imap} login"));
    assert!(line(&out, "[ ok ]", &format!("{imap} capabilities")).contains("IDLE yes, MOVE yes"), "{out}");
    line(&out, "[ ok ]", &format!("{imap} folder"));
    // A fresh account has none of the outcome folders yet: `run` makes them.
    assert!(line(&out, "[warn]", &format!("{imap} outcome folders")).contains("missing: "), "{out}");
    assert!(fix_of(&out, &format!("{imap} outcome folders")).contains("`run` creates them"), "{out}");
    let smtp = format!("SMTP {SERVICE}@127.0.0.1:{}", postfix.submission_port);
    assert!(line(&out, "[ ok ]", &format!("{smtp} TLS")).contains("verified against the system's roots and ca_file"), "{out}");
    assert!(line(&out, "[ ok ]", &format!("{smtp} login")).contains("nothing sent"), "{out}");
    assert!(!out.contains("Subject") && !postfix.log().contains("status=sent"), "doctor sends nothing");

    // Broken: a wrong IMAP password, and nothing listening where SMTP should be.
    let wrong = data.0.join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let mut broken = without(&env, &["MARAC__IMAP__PASSWORD_FILE", "MARAC__SMTP__PORT"]);
    broken.push(("MARAC__IMAP__PASSWORD_FILE".into(), wrong.display().to_string()));
    broken.push(("MARAC__SMTP__PORT".into(), free_port().to_string()));
    let (code, out) = doctor(&broken);
    assert_eq!(code, 1, "a broken configuration:\n{out}");
    line(&out, "[ ok ]", &format!("{imap} TLS"));
    line(&out, "[FAIL]", &format!("{imap} login"));
    assert!(fix_of(&out, &format!("{imap} login")).contains("imap.password_file"), "{out}");
    assert!(!out.contains("not-the-password"), "a secret is never printed:\n{out}");
    let dead = format!("SMTP {SERVICE}@127.0.0.1:");
    line(&out, "[FAIL]", &dead);
    assert!(fix_of(&out, &dead).contains("smtp.host and smtp.port"), "{out}");

    // A configuration that does not load: one failure, and nothing else tried.
    let (code, out) = doctor(&[("MARAC__IMAP__TLS".into(), "sometimes".into())]);
    assert_eq!(code, 1, "{out}");
    assert!(line(&out, "[FAIL]", "configuration").contains("cannot be used"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with('[')).count(), 1, "{out}");
}

/// The CA the servers' certificates come from is trusted when the system trusts it (here
/// `SSL_CERT_FILE`), with no `ca_file`; a system that does not trust it fails the TLS checks,
/// with the fix naming both ways to trust it.
#[test]
fn a_ca_the_system_trusts_needs_no_ca_file_and_an_untrusted_one_is_named() {
    let dovecot = Dovecot::start(&[SERVICE]);
    let postfix = Postfix::start(&dovecot);
    let data = Scratch::new("doctor-roots");
    let env = without(&env_for(&dovecot, &postfix, &data), &["MARAC__IMAP__CA_FILE", "MARAC__SMTP__CA_FILE"]);

    let mut trusting = env.clone();
    trusting.push(("SSL_CERT_FILE".into(), dovecot.ca_file.display().to_string()));
    let (code, out) = doctor(&trusting);
    assert_eq!(code, 0, "the system trusts the CA:\n{out}");
    let imap = format!("IMAP {SERVICE}@127.0.0.1:{} INBOX", dovecot.imaps_port);
    assert!(line(&out, "[ ok ]", &format!("{imap} TLS")).ends_with("verified against the system's roots"), "{out}");
    line(&out, "[ ok ]", &format!("{imap} login"));
    line(&out, "[ ok ]", "SMTP");

    // Another CA in the system store: the servers' certificates are not trusted.
    let other = Scratch::new("doctor-other-ca");
    let (other_ca, _, _) = mailservers::make_certificates(&other.0);
    let mut distrusting = env.clone();
    distrusting.push(("SSL_CERT_FILE".into(), other_ca.display().to_string()));
    let (code, out) = doctor(&distrusting);
    assert_eq!(code, 1, "{out}");
    line(&out, "[FAIL]", &format!("{imap} TLS"));
    assert!(fix_of(&out, &format!("{imap} TLS")).contains("update-ca-certificates") && fix_of(&out, &format!("{imap} TLS")).contains("imap.ca_file"), "{out}");
    let smtp_tls = format!("SMTP {SERVICE}@127.0.0.1:{} TLS", postfix.submission_port);
    line(&out, "[FAIL]", &smtp_tls);
    assert!(fix_of(&out, &smtp_tls).contains("smtp.ca_file"), "{out}");
}
