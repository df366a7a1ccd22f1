//! Which area a message is for: the stage between reading and deciding, in a deployment of
//! several MARACs ([`crate::config::areas`]). A mailbox of one area is that area's. In a mailbox
//! shared by several, each sign the message carries (the address it was sent to, the referral
//! form's MARAC and local authority fields, the victim's postcode district) names the areas it
//! is for; the message goes to an area only when the signs it carries all name that one area.
//! No sign, or signs naming two areas, and the message is a coordinator's to place: the product
//! never guesses an area, since the wrong MARAC is as bad as none.

use crate::config::areas::{fold, fold_marac, is_postcode_district, Area};
use crate::inspect::Inspection;

/// Where a message goes.
#[derive(Debug, Clone)]
pub enum Routed<'a> {
    /// To this area; `why` says by what (for coordinators: no personal data, only which sign).
    Area { area: &'a Area, why: String },
    /// No area can be told: `why` says so for coordinators.
    Unknown { why: String },
}

/// The sign kinds, as the reasons name them.
const RECIPIENT: &str = "the address it was sent to";
const FORM_AREA: &str = "the MARAC named on the referral form";
const LOCAL_AUTHORITY: &str = "the local authority on the referral form";
const POSTCODE: &str = "the victim's postcode district";

/// The area for `inspection` among `candidates` (the areas whose mailbox it arrived in; every
/// area for files given to the `triage` command).
pub fn route<'a>(candidates: &[&'a Area], inspection: &Inspection) -> Routed<'a> {
    match candidates {
        [] => return Routed::Unknown { why: "no area of this deployment takes referrals from this mailbox".into() },
        [only] => return Routed::Area { area: only, why: "the only area of its mailbox".into() },
        _ => {}
    }
    let signs = signs(inspection);
    let mut named: Vec<(&str, &'a Area)> = Vec::new();
    for (kind, value) in &signs {
        for a in candidates {
            let r = &a.route;
            let hit = match *kind {
                RECIPIENT => r.recipients.iter().any(|x| x.trim().eq_ignore_ascii_case(value)),
                FORM_AREA => r.form_areas.iter().any(|x| fold_marac(x) == *value),
                LOCAL_AUTHORITY => r.local_authorities.iter().any(|x| fold(x) == *value),
                _ => r.postcode_districts.iter().any(|x| fold(x) == *value),
            };
            if hit && !named.iter().any(|(k, b)| k == kind && b.id == a.id) {
                named.push((kind, a));
            }
        }
    }
    let mut areas: Vec<&'a Area> = Vec::new();
    for (_, a) in &named {
        if !areas.iter().any(|b| b.id == a.id) {
            areas.push(a);
        }
    }
    let by = |a: &Area| named.iter().filter(|(_, b)| b.id == a.id).map(|(k, _)| *k).collect::<Vec<_>>().join(" and ");
    match areas.as_slice() {
        [area] => Routed::Area { area, why: format!("by {}", by(area)) },
        [] => {
            let looked: Vec<&str> = [RECIPIENT, FORM_AREA, LOCAL_AUTHORITY, POSTCODE].into_iter().collect();
            let read = if signs.is_empty() { "none of them was read".to_owned() } else { format!("what was read ({}) is no area's", signs.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")) };
            Routed::Unknown {
                why: format!(
                    "the MARAC area could not be told: this mailbox takes referrals for {}, and the signs that tell them apart ({}) did not name one: {read}; a coordinator must place it",
                    names(candidates),
                    looked.join(", ")
                ),
            }
        }
        several => Routed::Unknown {
            why: format!(
                "the MARAC area could not be told: the signs disagree ({}); a coordinator must place it",
                several.iter().map(|a| format!("{} points to {}", by(a), a.name())).collect::<Vec<_>>().join("; ")
            ),
        },
    }
}

fn names(areas: &[&Area]) -> String {
    areas.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

/// The signs a message carries, each folded as its kind compares: the To and Cc addresses, the
/// form's MARAC and local authority, and the victim's postcode district (the postcode field, else
/// a postcode at the end of the address). A field read in doubt is no sign (the recogniser leaves
/// it blank).
fn signs(i: &Inspection) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for m in i.envelope.to.iter().chain(&i.envelope.cc) {
        out.push((RECIPIENT, m.address.trim().to_ascii_lowercase()));
    }
    if let Some(r) = &i.referral {
        if let Some(v) = r.get("marac_area").map(fold_marac).filter(|v| !v.is_empty()) {
            out.push((FORM_AREA, v));
        }
        if let Some(v) = r.get("local_authority").map(fold).filter(|v| !v.is_empty()) {
            out.push((LOCAL_AUTHORITY, v));
        }
        let district = r.get("victim.postcode").and_then(postcode_district).or_else(|| r.get("victim.address").and_then(postcode_district));
        if let Some(d) = district {
            out.push((POSTCODE, d));
        }
    }
    out
}

/// The district (outward code) of the full UK postcode at the end of `text`, folded: `KM1 4AB`
/// gives `km1`. Only a whole postcode counts (outward code, then a digit and two letters).
pub fn postcode_district(text: &str) -> Option<String> {
    let words: Vec<String> = text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_ascii_uppercase()).collect();
    let inward = |w: &str| w.len() == 3 && w.as_bytes()[0].is_ascii_digit() && w.as_bytes()[1..].iter().all(u8::is_ascii_alphabetic);
    match words.as_slice() {
        [.., out, inn] if is_postcode_district(out) && inward(inn) => Some(fold(out)),
        [.., joined] if joined.len() >= 5 && inward(&joined[joined.len() - 3..]) && is_postcode_district(&joined[..joined.len() - 3]) => Some(fold(&joined[..joined.len() - 3])),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
