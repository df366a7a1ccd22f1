//! The alert rules in `ops/prometheus/`: `promtool check rules` accepts them, their unit tests
//! (`promtool test rules`, the test file beside them) pass, and every metric they read is one the
//! service exports ([`marac_intake::monitor::names`]). promtool comes with Debian's
//! `prometheus` package, which `.ci/run` installs; without it the promtool checks are skipped,
//! saying so.

use crate::support::prometheus::installed;
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/prometheus")
}

const RULES: &str = "marac-intake.rules.yml";
const TESTS: &str = "marac-intake.rules.test.yml";

#[test]
fn metrics_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(promtool) = installed("promtool") else {
        eprintln!("skipped: promtool is not installed (Debian package `prometheus`, which .ci/run installs)");
        return;
    };
    let run = |args: &[&str]| {
        let out = Command::new(&promtool).args(args).current_dir(dir()).output().expect("promtool runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
        text
    };
    let checked = run(&["check", "rules", RULES]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = run(&["test", "rules", TESTS]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

#[test]
fn metrics_alert_rules_read_only_what_the_service_exports_and_every_alert_is_tested() {
    let rules = std::fs::read_to_string(dir().join(RULES)).unwrap();
    let tests = std::fs::read_to_string(dir().join(TESTS)).unwrap();
    let exported = |name: &str| {
        marac_intake::monitor::names::ALL.iter().any(|n| name == *n || [format!("{n}_bucket"), format!("{n}_sum"), format!("{n}_count")].iter().any(|s| s == name))
    };
    let mut read = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("marac_") {
            assert!(exported(word), "{RULES} reads {word}, which the service does not export");
            read += 1;
        }
    }
    assert!(read >= 8, "the rules read the service's metrics");
    let alerts: Vec<&str> = rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
    assert_eq!(alerts.len(), 9, "{alerts:?}");
    for a in alerts {
        assert!(tests.contains(&format!("alertname: {a}\n        exp_alerts:\n          - exp_labels")), "{TESTS} shows {a} firing");
    }
}
