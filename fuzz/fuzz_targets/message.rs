//! Whole messages through the MIME stage and the recognisers (readers run contained, as in production).
#![no_main]
use libfuzzer_sys::fuzz_target;
use marac_intake::inspect::{inspect, InspectOptions};

fuzz_target!(|data: &[u8]| {
    let opts = InspectOptions::default();
    let _ = marac_intake::mime::parse(data, &opts.limits);
    let _ = inspect(data, &opts);
});
