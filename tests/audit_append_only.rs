//! The audit log is append-only in the application: no statement anywhere in the source updates
//! or deletes its rows (only `INSERT INTO audit_log`), and the store appends what the web queue
//! and the command line do. So is `rule_versions`, the rules changed in the web console.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs" || x == "sql") {
            out.push(p);
        }
    }
}

#[test]
fn nothing_in_the_application_updates_or_deletes_audit_records() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    sources(&root.join("migrations"), &mut files);
    assert!(files.len() > 20, "the sources were found");
    let mut writes = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        // The rules' versions are kept the same way: every change adds a row.
        for table in ["audit_log", "rule_versions"] {
            for bad in ["update ", "delete from ", "drop table ", "alter table ", "insert or replace into ", "replace into "] {
                assert!(!text.contains(&format!("{bad}{table}")), "{}: {bad}{table}", f.display());
            }
        }
        writes += text.matches("insert into audit_log").count();
    }
    assert_eq!(writes, 1, "one statement appends to the audit log (store/accounts.rs)");
    assert!(files.iter().any(|f| std::fs::read_to_string(f).unwrap().contains("INSERT INTO rule_versions")), "the rules' versions are written somewhere: the check above looked at them");
}
