//! The PDF reader on raw bytes, without panic containment: any panic is a finding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marac_intake::limits::{Deadline, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let doc = marac_intake::readers::pdf::read(data, &limits, Deadline::after(limits.time_per_attachment(), std::time::Instant::now));
    let _ = marac_intake::recognise::dash::recognise(&doc, "1");
});
