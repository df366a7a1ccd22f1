//! The Word readers (DOCX, ODT) on raw bytes, chosen by the first byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marac_intake::limits::{Deadline, Limits};
use marac_intake::readers::{odf, word};
use marac_intake::recognise::referral::Synonyms;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let limits = Limits::default();
    let deadline = Deadline::after(limits.time_per_attachment(), std::time::Instant::now);
    let doc = if which % 2 == 0 {
        word::read_docx(bytes, &limits, deadline)
    } else {
        odf::read_odt(bytes, &limits, deadline)
    };
    let _ = marac_intake::recognise::dash::recognise(&doc, "1");
    let _ = marac_intake::recognise::referral::recognise(&[("1", &doc)], &Synonyms::default(), 2025);
});
