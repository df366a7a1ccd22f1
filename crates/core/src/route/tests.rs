use super::*;
use crate::config::{parse, Config, ConfigFile};
use crate::mime::{Envelope, Mailbox};
use crate::recognise::referral::Referral;

fn three() -> Config {
    parse(crate::config::areas::tests::THREE, Vec::new()).and_then(ConfigFile::build).unwrap()
}

/// A message sent to `to`, its form saying `fields` (key, value).
fn message(to: &[&str], fields: &[(&str, &str)]) -> Inspection {
    let mut r = Referral::default();
    for (k, v) in fields {
        r.fields.insert((*k).into(), (*v).into());
    }
    Inspection {
        message_sha256: String::new(),
        size: 0,
        envelope: Envelope { to: to.iter().map(|a| Mailbox { name: None, address: (*a).into() }).collect(), ..Envelope::default() },
        signals: vec![],
        refers: crate::mime::Refers::default(),
        attachments: vec![],
        dash: None,
        referral: if fields.is_empty() { None } else { Some(r) },
        problems: vec![],
    }
}

/// The areas of the force's shared mailbox (north and south).
fn shared(c: &Config) -> Vec<&Area> {
    let north = c.area("north").unwrap();
    c.areas.iter().filter(|a| a.mailbox() == north.mailbox()).collect()
}

fn routed_to(r: &Routed) -> Option<String> {
    match r {
        Routed::Area { area, .. } => Some(area.id.clone()),
        Routed::Unknown { .. } => None,
    }
}

#[test]
fn a_mailbox_of_one_area_is_that_areas() {
    let c = three();
    let east = [c.area("east").unwrap()];
    let r = route(&east, &message(&["someone@else.example.test"], &[("marac_area", "North Kingsmere")]));
    assert_eq!(routed_to(&r).as_deref(), Some("east"), "the form's sign does not move it out of its only area");
}

#[test]
fn each_sign_alone_routes_a_shared_mailboxs_referral() {
    let c = three();
    let areas = shared(&c);
    let shared_address = "marac-team@example.test";
    for (to, fields, area, by) in [
        (vec!["North-MARAC@example.test"], vec![], "north", "the address it was sent to"),
        (vec![shared_address], vec![("marac_area", "north kingsmere marac")], "north", "the MARAC named on the referral form"),
        (vec![shared_address], vec![("marac_area", "MARAC: South Kingsmere")], "south", "the MARAC named on the referral form"),
        (vec![shared_address], vec![("local_authority", "Kingsmere South District Council.")], "south", "the local authority"),
        (vec![shared_address], vec![("victim.postcode", "km2 7xy")], "north", "postcode district"),
        (vec![shared_address], vec![("victim.address", "4 Hill Road, Kingsmere, KM9 1AA")], "south", "postcode district"),
        (vec![shared_address], vec![("victim.address", "4 Hill Road, Kingsmere KM94AB")], "south", "postcode district"),
    ] {
        let r = route(&areas, &message(&to, &fields));
        assert_eq!(routed_to(&r).as_deref(), Some(area), "{to:?} {fields:?}: {r:?}");
        let Routed::Area { why, .. } = r else { unreachable!() };
        assert!(why.contains(by), "{why}");
    }
}

#[test]
fn signs_that_agree_route_and_signs_that_disagree_go_to_a_coordinator() {
    let c = three();
    let areas = shared(&c);
    let agree = route(&areas, &message(&["north-marac@example.test"], &[("marac_area", "North Kingsmere"), ("victim.postcode", "KM1 2AB")]));
    assert_eq!(routed_to(&agree).as_deref(), Some("north"));
    let disagree = route(&areas, &message(&["north-marac@example.test"], &[("victim.postcode", "KM9 2AB")]));
    let Routed::Unknown { why } = disagree else { panic!("{disagree:?}") };
    assert!(why.contains("disagree") && why.contains("North Kingsmere") && why.contains("South Kingsmere"), "{why}");
    assert!(!why.contains("KM9") && !why.to_lowercase().contains("km9"), "the reason names the sign, not the victim's postcode: {why}");
}

#[test]
fn no_sign_or_an_unknown_one_goes_to_a_coordinator_never_to_a_guess() {
    let c = three();
    let areas = shared(&c);
    for m in [
        message(&["marac-team@example.test"], &[]),
        message(&["marac-team@example.test"], &[("marac_area", "Westport")]),
        message(&["marac-team@example.test"], &[("victim.address", "4 Hill Road, Kingsmere")]),
        message(&["marac-team@example.test"], &[("victim.postcode", "KM3 1AA")]),
    ] {
        let r = route(&areas, &m);
        let Routed::Unknown { why } = r else { panic!("{r:?}") };
        assert!(why.contains("could not be told") && why.contains("North Kingsmere, South Kingsmere"), "{why}");
    }
    let none: Vec<&Area> = Vec::new();
    assert!(matches!(route(&none, &message(&[], &[])), Routed::Unknown { .. }));
}

#[test]
fn a_postcode_is_only_read_whole_at_the_end_of_an_address() {
    assert_eq!(postcode_district("KM1 4AB").as_deref(), Some("km1"));
    assert_eq!(postcode_district("12 High St, Town, ec1a 1bb").as_deref(), Some("ec1a"));
    assert_eq!(postcode_district("12 High St, Town, EC1A1BB").as_deref(), Some("ec1a"));
    for none in ["KM1", "12 High St", "Flat 4AB", "KM1 4A", "", "KM1 4AB, Kingsmere"] {
        assert_eq!(postcode_district(none), None, "{none:?}");
    }
}
