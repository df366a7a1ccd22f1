use super::*;
use crate::config::{parse, DashRequired};

/// A deployment of three MARACs: North and South share the force's mailbox (told apart by
/// their signs), East has a mailbox of its own and a stricter threshold.
pub(crate) const THREE: &str = r#"
area = "Northshire Police"
[threshold]
dash_score = 14
[senders]
allow = ["*.pnn.police.example.test"]
trusted_authserv_id = "mx.example.test"
[schedule]
kind = "weekly"
weekday = "tue"
[replies]
from = "marac@example.test"
[imap]
host = "imap.example.test"
port = 993
tls = "implicit"
username = "marac-team"
password_file = "/run/credentials/imap"
[areas.north]
name = "North Kingsmere"
[areas.north.case]
reference_format = "NK-{year}-{seq:04}"
[areas.north.route]
recipients = ["north-marac@example.test"]
form_areas = ["North Kingsmere"]
postcode_districts = ["KM1", "KM2"]
[areas.south]
name = "South Kingsmere"
[areas.south.case]
reference_format = "SK-{year}-{seq:04}"
[areas.south.route]
form_areas = ["South Kingsmere MARAC"]
local_authorities = ["Kingsmere South District Council"]
postcode_districts = ["KM9"]
[areas.south.schedule]
kind = "monthly"
weekday = "thu"
nth = 1
[areas.east]
name = "Eastwick"
[areas.east.threshold]
dash_score = 12
[areas.east.imap]
username = "eastwick-marac"
folder = "Referrals"
[areas.east.case]
reference_format = "EW-{year}-{seq:04}"
"#;

fn build(text: &str) -> Result<Config, ConfigError> {
    parse(text, Vec::new()).and_then(ConfigFile::build)
}

#[test]
fn a_file_without_areas_is_one_area_named_as_it_always_was() {
    let c = build(&THREE[..THREE.find("[areas.north]").unwrap()]).unwrap();
    assert_eq!(c.areas.len(), 1);
    assert_eq!(c.areas[0].id, DEFAULT_AREA);
    assert_eq!(c.areas[0].name(), "Northshire Police");
    assert!(c.areas[0].route.is_empty());
    assert_eq!(c.areas[0].config.file.threshold, c.file.threshold);
}

#[test]
fn each_area_is_the_top_level_with_its_own_sections_laid_over_key_by_key() {
    let c = build(THREE).unwrap();
    let ids: Vec<&str> = c.areas.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["east", "north", "south"]);
    let east = c.area("east").unwrap();
    assert_eq!(east.name(), "Eastwick");
    assert_eq!(east.config.file.threshold.dash_score, 12, "its own");
    assert_eq!(east.config.file.threshold.escalation_callouts, 3, "the rest of [threshold] still the default");
    assert_eq!(east.config.file.threshold.dash_required, DashRequired::WhenVisibleHighRisk);
    let imap = east.config.file.imap.as_ref().unwrap();
    assert_eq!((imap.host.as_str(), imap.username.as_str(), imap.folder.as_str()), ("imap.example.test", "eastwick-marac", "Referrals"), "host inherited, account and folder its own");
    assert_eq!(east.config.file.case.reference(2026, 7), "EW-2026-0007");
    let north = c.area("north").unwrap();
    assert_eq!(north.config.file.threshold.dash_score, 14);
    assert_eq!(north.config.file.replies.from, "marac@example.test");
    assert_eq!(north.mailbox(), c.area("south").unwrap().mailbox(), "north and south share the force's mailbox");
    assert_ne!(north.mailbox(), east.mailbox());
    let south = c.area("south").unwrap();
    assert!(south.config.file.schedule.nth.is_some() && north.config.file.schedule.nth.is_none());
    assert_ne!(format!("{:?}", south.config.schedule), format!("{:?}", north.config.schedule), "each its own meetings");
    assert!(south.config.areas.is_empty() && c.area("nowhere").is_none());
}

#[test]
fn an_area_is_validated_as_a_whole_file_and_its_errors_name_its_keys() {
    let e = build(&THREE.replace("dash_score = 12", "dash_score = 40")).unwrap_err();
    assert_eq!(e.key, "areas.east.threshold.dash_score", "{e}");
    let e = build(&THREE.replace("[areas.east.case]\nreference_format = \"EW-{year}-{seq:04}\"", "[areas.east.case]\nreference_format = \"EW-{year}\"")).unwrap_err();
    assert_eq!(e.key, "areas.east.case.reference_format", "{e}");
    let e = build(&THREE.replace("[areas.east.threshold]\ndash_score = 12", "[areas.east.threshold]\ndash_scor = 12")).unwrap_err();
    assert!(e.key.starts_with("areas.east.threshold"), "{e}");
    let e = build(&format!("{THREE}\n[areas.east.storage]\ndb_key_file = \"k\"\n")).unwrap_err();
    assert_eq!(e.key, "areas.east.storage", "{e}");
    assert!(e.reason.contains("deployment"), "{e}");
    let e = build(&THREE.replace("name = \"Eastwick\"\n", "")).unwrap_err();
    assert_eq!(e.key, "areas.east.name", "{e}");
    let e = build(&THREE.replace("[areas.east]", "[areas.East]").replace("[areas.east.", "[areas.East.")).unwrap_err();
    assert_eq!(e.key, "areas.East", "{e}");
    let e = build(&THREE.replace("postcode_districts = [\"KM9\"]", "postcode_districts = [\"KM9 4AB\"]")).unwrap_err();
    assert_eq!(e.key, "areas.south.route.postcode_districts[0]", "{e}");
    let e = build(&THREE.replace("postcode_districts = [\"KM9\"]", "postcode_districts = [\"km2\"]")).unwrap_err();
    assert_eq!(e.key, "areas.south.route.postcode_districts", "a sign two areas claim: {e}");
    let e = build(&THREE.replace("recipients = [\"north-marac@example.test\"]", "recipients = [\"north\"]")).unwrap_err();
    assert_eq!(e.key, "areas.north.route.recipients[0]", "{e}");
    let e = build(&THREE.replace("SK-{year}", "NK-{year}")).unwrap_err();
    assert_eq!(e.key, "areas.south.case.reference_format", "two areas numbering alike: {e}");
    let e = build(&THREE.replace("[areas.south.route]\n", "[areas.south.unrouted]\n")).unwrap_err();
    assert_eq!(e.key, "areas.south.unrouted", "{e}");
}

#[test]
fn areas_sharing_a_mailbox_must_each_say_how_they_are_told_apart() {
    let text = THREE.replace("[areas.south.route]\nform_areas = [\"South Kingsmere MARAC\"]\nlocal_authorities = [\"Kingsmere South District Council\"]\npostcode_districts = [\"KM9\"]\n", "");
    let e = build(&text).unwrap_err();
    assert_eq!(e.key, "areas.south.route", "{e}");
    assert!(e.reason.contains("north"), "{e}");
    // An area alone in its mailbox needs no route.
    let alone = text.replace("[areas.south]\nname = \"South Kingsmere\"\n", "[areas.south]\nname = \"South Kingsmere\"\n[areas.south.imap]\nfolder = \"South\"\n");
    assert_eq!(build(&alone).unwrap().areas.len(), 3);
}

#[test]
fn an_environment_override_reaches_one_area() {
    let c = parse(THREE, vec![("MARAC__AREAS__NORTH__THRESHOLD__DASH_SCORE".to_owned(), "16".to_owned())]).and_then(ConfigFile::build).unwrap();
    assert_eq!(c.area("north").unwrap().config.file.threshold.dash_score, 16);
    assert_eq!(c.area("south").unwrap().config.file.threshold.dash_score, 14);
}

#[test]
fn postcode_districts_are_outward_codes() {
    for ok in ["KM1", "km12", "W1A", "EC1A", "B3"] {
        assert!(is_postcode_district(ok), "{ok}");
    }
    for bad in ["", "1KM", "KMX", "KM123", "KM1 4AB", "ABC1"] {
        assert!(!is_postcode_district(bad), "{bad}");
    }
    assert_eq!(fold_marac("South Kingsmere MARAC"), fold_marac("marac: south kingsmere"));
}

/// [`THREE`] with the rule sections of `rules` from the database.
fn layered(rules: &crate::config::RuleLayer) -> Result<Config, ConfigError> {
    crate::config::from_text(THREE, std::path::Path::new("three.toml"), rules, Vec::new())
}

fn threshold(c: &Config, id: &str) -> (u8, u32) {
    let t = &c.area(id).unwrap().config.file.threshold;
    (t.dash_score, t.escalation_callouts)
}

#[test]
fn an_areas_rule_section_from_the_database_replaces_its_own_whole_over_the_deployments() {
    use crate::config::{section_toml, RuleLayer};
    let none = RuleLayer::default();
    let file = layered(&none).unwrap();
    assert_eq!((threshold(&file, "east"), threshold(&file, "north")), ((12, 3), (14, 3)));
    assert_eq!(section_toml(&file.file, "areas.east.threshold"), "dash_score = 12\n", "the editor starts from the area's own section");
    assert_eq!(section_toml(&file.file, "areas.north.threshold"), "", "North sets no threshold of its own");

    // East's own [threshold] is replaced whole: the file's dash_score = 12 goes, and East takes
    // the deployment's 14 for what the change does not set. The other areas are untouched.
    let rules = none.with("areas.east.threshold", Some("escalation_callouts = 5\n"));
    let c = layered(&rules).unwrap();
    assert_eq!((threshold(&c, "east"), threshold(&c, "north"), threshold(&c, "south")), ((14, 5), (14, 3), (14, 3)));
    assert_eq!((c.file.threshold.dash_score, c.file.threshold.escalation_callouts), (14, 3), "the deployment's own is unchanged");
    assert_eq!(section_toml(&c.file, "areas.east.threshold"), "escalation_callouts = 5\n");

    // A change of the deployment's section reaches every area where its own does not set the key.
    let both = rules.with("threshold", Some("dash_score = 16\n"));
    let c = layered(&both).unwrap();
    assert_eq!((threshold(&c, "east"), threshold(&c, "north")), ((16, 5), (16, 3)));

    // An area with no section of its own in the file gets one; other sections of an area too.
    let c = layered(&none.with("areas.north.folders", Some("review = \"North/Review\"\n"))).unwrap();
    let f = &c.area("north").unwrap().config.file.folders;
    assert_eq!((f.review.as_str(), f.accepted.as_str()), ("North/Review", "MARAC/Accepted"));
    assert_eq!(c.area("south").unwrap().config.file.folders.review, "MARAC/Review");

    // Reset: the file's own section again.
    let back = layered(&rules.with("areas.east.threshold", None)).unwrap();
    assert_eq!(threshold(&back, "east"), (12, 3));

    // An invalid value is named with its area's key, and the way back.
    let e = layered(&none.with("areas.east.threshold", Some("dash_score = 30"))).unwrap_err();
    assert_eq!(e.key, "areas.east.threshold.dash_score");
    assert!(e.reason.contains("web console") && e.reason.contains("marac-intake rules reset areas.east.threshold"), "{e}");
    let e = layered(&none.with("areas.east.threshold", Some("dash_scor = 13"))).unwrap_err();
    assert!(e.key.starts_with("areas.east.threshold"), "{e}");
    let e = layered(&none.with("areas.east.threshold", Some("dash_score = "))).unwrap_err();
    assert_eq!(e.key, "areas.east.threshold");
    assert!(e.reason.contains("line 1"), "{e}");
}

#[test]
fn an_unknown_area_or_section_is_refused_naming_it() {
    use crate::config::{parse_section, rule_section_in, RuleLayer, RuleSection};
    let file = parse(THREE, Vec::new()).unwrap();
    assert_eq!(rule_section_in(&file, "threshold").unwrap(), RuleSection::Deployment("threshold"));
    assert_eq!(rule_section_in(&file, "areas.east.replies").unwrap(), RuleSection::Area { id: "east", section: "replies" });

    // An area the file does not have: refused by name, saying which there are, whether it comes
    // from an admin or from the database (an area since removed from the file).
    let e = rule_section_in(&file, "areas.west.threshold").unwrap_err();
    assert_eq!(e.key, "areas.west.threshold");
    assert!(e.reason.contains("no area \"west\"") && e.reason.contains("east, north, south"), "{e}");
    let e = layered(&RuleLayer::default().with("areas.west.threshold", Some("dash_score = 12"))).unwrap_err();
    assert_eq!(e.key, "areas.west.threshold");
    assert!(e.reason.contains("no area \"west\"") && e.reason.contains("marac-intake rules reset areas.west.threshold"), "{e}");
    let one = parse("area = \"Testshire\"\n[schedule]\nkind = \"weekly\"\nweekday = \"mon\"\n[senders]\nallow = []\ntrusted_authserv_id = \"x\"\n[replies]\nfrom = \"a@b.test\"\n", Vec::new()).unwrap();
    assert!(rule_section_in(&one, "areas.east.threshold").unwrap_err().reason.contains("has no [areas.*]"));

    // Sections an area cannot change here, and names that are no section.
    let e = RuleSection::parse("areas.east.synonyms").unwrap_err();
    assert!(e.key == "areas.east.synonyms" && e.reason.contains("deployment's"), "{e}");
    for name in ["areas.east.imap", "areas.east.case", "areas.east.route", "areas.east.name", "areas.east", "areas..threshold", "areas.a.b.threshold", "areas.", "imap", "area", ""] {
        let e = RuleSection::parse(name).unwrap_err();
        assert_eq!(e.key, name, "{e}");
        assert!(parse_section(name, "").is_err(), "{name}");
    }
    let e = RuleSection::parse("areas.east.case").unwrap_err();
    assert!(e.reason.contains("\"case\"") && e.reason.contains("threshold, senders, schedule, folders, replies"), "{e}");
    assert!(parse_section("areas.east.threshold", "dash_score = 12").is_ok());
}

#[test]
fn the_database_url_names_sqlite_or_postgresql_never_a_password() {
    let base = &THREE[..THREE.find("[areas.north]").unwrap()];
    let with = |storage: &str| build(&format!("{base}\n[storage]\n{storage}\n"));
    let pg = "database_url = \"postgres://marac@db.example.test:5432/marac\"\ndb_key_file = \"db-key\"\ndata_key_file = \"data-key\"";
    assert_eq!(with(pg).unwrap().default_db_url(), "postgres://marac@db.example.test:5432/marac");
    assert!(build(base).unwrap().default_db_url().starts_with("sqlite://"), "the default stays a SQLite file");
    let e = with(&pg.replace("marac@", "marac:secret@")).unwrap_err();
    assert!(e.key == "storage.database_url" && e.reason.contains("PGPASSWORD"), "{e}");
    let e = with("database_url = \"postgres://marac@db.example.test/marac\"").unwrap_err();
    assert_eq!(e.key, "storage.data_key_file", "{e}");
    let e = with("database_url = \"mysql://x@y/z\"").unwrap_err();
    assert_eq!(e.key, "storage.database_url", "{e}");
}
