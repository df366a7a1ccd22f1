//! Whole messages through the MIME stage and the recognisers (readers run contained, as in
//! production). A panic inside a third-party parser is contained and reported (see `contained`).
#![no_main]
mod contained;

use libfuzzer_sys::fuzz_target;
use marac_intake::inspect::{inspect, InspectOptions};

fuzz_target!(
    init: contained::let_third_party_panics_unwind(),
    |data: &[u8]| {
        let opts = InspectOptions::with_clock(std::time::Instant::now);
        let _ = marac_intake::mime::parse(data, &opts.limits);
        let _ = inspect(data, &opts);
    }
);
