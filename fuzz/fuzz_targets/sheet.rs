//! The spreadsheet readers (XLSX, XLS, ODS) on raw bytes, chosen by the first byte. The readers
//! contain calamine's panics themselves (`readers::sheet::contain`): such a panic is reported,
//! not a finding (see `contained`); a panic in our code still is.
#![no_main]
mod contained;

use libfuzzer_sys::fuzz_target;
use marac_intake::limits::{Deadline, Limits};
use marac_intake::readers::sheet;

fuzz_target!(
    init: contained::let_third_party_panics_unwind(),
    |data: &[u8]| {
        let Some((&which, bytes)) = data.split_first() else { return };
        let limits = Limits::default();
        let deadline = Deadline::after(limits.time_per_attachment(), std::time::Instant::now);
        let doc = match which % 3 {
            0 => sheet::read_xlsx(bytes, &limits, deadline),
            1 => sheet::read_xls(bytes, &limits, deadline),
            _ => sheet::read_ods(bytes, &limits, deadline),
        };
        let _ = marac_intake::recognise::dash::recognise(&doc, "1");
    }
);
