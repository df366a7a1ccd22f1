//! For targets whose code under test contains third-party panics by design (`mime::parse`,
//! `inspect::read_contained`, `readers::sheet`): libfuzzer-sys aborts on every panic, even one
//! that `catch_unwind` would contain, so the first such panic would end the run.
//!
//! [`let_third_party_panics_unwind`] lets a panic raised inside a third-party crate (its location
//! under the cargo registry) unwind to that containment, which reports it as a `ParserPanic`
//! problem; each such location is printed once. Any other panic is still a crash: one in our code
//! aborts here, and an uncontained third-party one aborts in libfuzzer-sys's own `catch_unwind`
//! around the target.

use std::collections::HashSet;
use std::sync::Mutex;

pub fn let_third_party_panics_unwind() {
    let abort = std::panic::take_hook();
    let seen: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    std::panic::set_hook(Box::new(move |info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        if at.contains("/.cargo/registry/") {
            if seen.lock().map(|mut s| s.insert(at.clone())).unwrap_or(false) {
                eprintln!("contained third-party panic at {at}: {info}");
            }
            return;
        }
        abort(info);
    }));
}
