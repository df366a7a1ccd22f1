//! The spreadsheet readers (XLSX, XLS, ODS) on raw bytes, chosen by the first byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marac_intake::limits::{Deadline, Limits};
use marac_intake::readers::sheet;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let limits = Limits::default();
    let deadline = Deadline::after(limits.time_per_attachment());
    let doc = match which % 3 {
        0 => sheet::read_xlsx(bytes, &limits, deadline),
        1 => sheet::read_xls(bytes, &limits, deadline),
        _ => sheet::read_ods(bytes, &limits, deadline),
    };
    let _ = marac_intake::recognise::dash::recognise(&doc, "1");
});
