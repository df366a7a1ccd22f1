//! The shared sample referrals (../shared/samples, present beside a checkout on the team's
//! machines, absent on a bare clone): `inspect` must read the DASH counts given in labels.json.

use marac_intake::inspect::{inspect, InspectOptions};
use std::path::Path;

#[test]
fn samples_dash_counts_match_labels() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples");
    let Ok(labels) = std::fs::read_to_string(dir.join("labels.json")) else {
        eprintln!("skipped: {} not present", dir.display());
        return;
    };
    let labels: serde_json::Value = serde_json::from_str(&labels).expect("labels.json is JSON");
    let opts = InspectOptions::with_clock(std::time::Instant::now);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for label in labels.as_array().expect("an array") {
        let file = label["file"].as_str().expect("file");
        let expect = &label["expect"];
        let raw = std::fs::read(dir.join(file)).expect("sample readable");
        let got = inspect(&raw, &opts);
        for (key, want) in [("yes", &expect["dash_yes"]), ("no", &expect["dash_no"]), ("unknown", &expect["dash_unknown"])] {
            let Some(want) = want.as_u64() else { continue };
            checked += 1;
            let have = got.dash.as_ref().map(|d| u64::from(match key {
                "yes" => d.yes,
                "no" => d.no,
                _ => d.unknown,
            }));
            if have != Some(want) {
                wrong.push(format!("{file}: dash.{key} = {have:?}, label says {want}"));
            }
        }
    }
    assert!(checked > 0, "labels.json names no DASH counts");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
