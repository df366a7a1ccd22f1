//! Developer aid: prints the neutral document shape of each attachment of an email.
//! `cargo run --example dump_doc -- FILE.eml`
use marac_intake::inspect::read_contained;
use marac_intake::limits::Limits;

fn main() {
    for f in std::env::args().skip(1) {
        let raw = std::fs::read(&f).expect("read");
        let email = marac_intake::mime::parse(&raw, &Limits::default());
        for a in &email.attachments {
            println!("== {} {:?} {:?}", a.at, a.name, a.kind);
            let d = read_contained(a.kind, &a.bytes, &Limits::default(), std::time::Instant::now);
            println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
        }
    }
}
