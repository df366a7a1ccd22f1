//! The audit log is append-only in the application: no statement anywhere in the source updates
//! its rows (only `INSERT INTO audit_log`), and the store appends what the web queue and the
//! command line do. One statement deletes: the retention purge's, of the oldest records up to a
//! purge anchor it records first (`store/retention.rs`; the database's trigger refuses anything
//! above the anchor, and `tests/it/audit_chain.rs` checks the trigger and the chain). Migration 14
//! only adds the hash columns. So is `rule_versions`, the rules changed in the web console.

use std::path::Path;

#[test]
fn nothing_in_the_application_updates_or_deletes_audit_records() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = crate::support::sources::files(&root.join("src"), &["rs", "sql"]);
    files.extend(crate::support::sources::files(&root.join("migrations"), &["rs", "sql"]));
    assert!(files.len() > 20, "the sources were found");
    let mut writes = 0;
    let mut deletes = Vec::new();
    for f in &files {
        let mut text = std::fs::read_to_string(f).unwrap().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        let name = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if name == "migrations/0014_retention_audit_chain.sql" {
            // Adding the hash columns changes no recorded value; nothing else is altered.
            let added = text.matches("alter table audit_log add column ").count();
            assert_eq!(added, 2, "migration 14 adds prev_hash and hash");
            text = text.replace("alter table audit_log add column ", "");
        }
        if text.contains("delete from audit_log") {
            deletes.push((name.clone(), text.matches("delete from audit_log").count()));
            text = text.replace("delete from audit_log where id <= $1", "");
        }
        // The rules' versions are kept the same way: every change adds a row.
        for table in ["audit_log", "rule_versions", "audit_anchors"] {
            for bad in ["update ", "delete from ", "drop table ", "alter table ", "insert or replace into ", "replace into "] {
                assert!(!text.contains(&format!("{bad}{table}")), "{name}: {bad}{table}");
            }
        }
        writes += text.matches("insert into audit_log").count();
    }
    assert_eq!(writes, 1, "one statement appends to the audit log (store/accounts.rs)");
    assert_eq!(deletes, vec![("src/store/retention.rs".to_owned(), 1)], "one statement deletes audit records: the retention purge's, up to its anchor");
    assert!(files.iter().any(|f| std::fs::read_to_string(f).unwrap().contains("INSERT INTO rule_versions")), "the rules' versions are written somewhere: the check above looked at them");
}
