//! Areas: one deployment, several MARACs. Each `[areas.ID]` section is an area with its own
//! name and, where it sets them, its own threshold, senders, schedule, replies, case references,
//! folders and mailbox; what it does not set it takes from the file's top level, key by key (a
//! table in the area is laid over the top level's, a value or a list replaces it). A file with
//! no `[areas.*]` is one area, [`DEFAULT_AREA`], as it always was.
//!
//! Several areas may share one mailbox: each then says how its referrals are told apart
//! (`[areas.ID.route]`), and [`crate::route`] tells them apart.

use super::{err, Config, ConfigError, ConfigFile};
use serde::{Deserialize, Serialize};

/// The id of the one area of a file without `[areas.*]` sections: the rows of a database made
/// before areas belong to it.
pub const DEFAULT_AREA: &str = "default";

/// What an `[areas.ID]` section may set: its name, its routing, and the rule and mailbox
/// sections. The rest (data, limits, storage, web, retention, audit, the submission server, the
/// label synonyms) belongs to the deployment.
pub const AREA_KEYS: &[&str] = &["name", "route", "threshold", "senders", "schedule", "replies", "case", "folders", "agenda", "imap"];

/// How a referral that arrives in a mailbox shared with other areas is told to be this area's.
/// Every comparison ignores case, spaces and punctuation. A referral is routed to an area only
/// when every sign it carries points to that one area; none, or signs for two areas, and a
/// coordinator decides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    /// Recipient addresses (To or Cc) that are this area's, such as an alias of the shared
    /// mailbox (`north-marac@force.example`).
    pub recipients: Vec<String>,
    /// What the referral form's MARAC field says for this area (`"North Kingsmere"`). "MARAC"
    /// written around the name is ignored.
    pub form_areas: Vec<String>,
    /// What the referral form's local authority field says for this area.
    pub local_authorities: Vec<String>,
    /// The victim's postcode districts (the outward code: `KM1`, `KM12`) in this area.
    pub postcode_districts: Vec<String>,
}

impl RouteConfig {
    /// Whether this area says anything about telling its referrals apart.
    pub fn is_empty(&self) -> bool {
        self.recipients.is_empty() && self.form_areas.is_empty() && self.local_authorities.is_empty() && self.postcode_districts.is_empty()
    }
}

/// One MARAC of the deployment.
#[derive(Debug, Clone)]
pub struct Area {
    /// The id in the configuration (`[areas.ID]`), kept with every row of this area.
    pub id: String,
    pub route: RouteConfig,
    /// The area's configuration: the file's top level with the area's sections laid over it, its
    /// name as `area`. Its own `areas` is empty.
    pub config: Config,
}

impl Area {
    pub fn name(&self) -> &str {
        &self.config.file.area
    }

    /// The mailbox this area's referrals arrive in: the IMAP server, account and folder (empty
    /// when no mailbox is configured: the `triage` command's files).
    pub fn mailbox(&self) -> String {
        mailbox_key(self.config.file.imap.as_ref())
    }
}

/// A mailbox's name: `account@server:port/folder` (empty for none).
pub fn mailbox_key(imap: Option<&super::ImapConfig>) -> String {
    match imap {
        Some(i) => format!("{}@{}:{}/{}", i.username, i.host.to_ascii_lowercase(), i.port, i.folder),
        None => String::new(),
    }
}

/// Folds a name or code for comparison: lower case, letters and digits only.
pub fn fold(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A form's MARAC name folded, without "MARAC" written around it.
pub fn fold_marac(s: &str) -> String {
    let f = fold(s);
    let f = f.strip_suffix("marac").unwrap_or(&f);
    let f = f.strip_prefix("marac").unwrap_or(f);
    f.to_owned()
}

/// The areas of a file: its `[areas.*]` sections each laid over the top level and built, or the
/// file itself as the one area [`DEFAULT_AREA`].
pub(super) fn build_areas(file: &ConfigFile, top: &Config) -> Result<Vec<Area>, ConfigError> {
    if file.areas.is_empty() {
        return Ok(vec![Area { id: DEFAULT_AREA.to_owned(), route: RouteConfig::default(), config: top.clone() }]);
    }
    let mut base = toml::Value::try_from(file).map_err(|e| err("areas", format!("cannot be laid over the top level: {e}")))?;
    if let Some(t) = base.as_table_mut() {
        t.remove("areas");
    }
    let mut areas = Vec::new();
    for (id, table) in &file.areas {
        let at = |key: &str| if key.is_empty() { format!("areas.{id}") } else { format!("areas.{id}.{key}") };
        if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
            return Err(err(at(""), "an area's id is 1 to 32 characters: lower-case letters, digits, '-' and '_'"));
        }
        if let Some(k) = table.keys().find(|k| !AREA_KEYS.contains(&k.as_str())) {
            return Err(err(at(k), format!("is not something an area sets; an area sets {} (the rest is the deployment's, at the top level)", AREA_KEYS.join(", "))));
        }
        let name = match table.get("name") {
            Some(toml::Value::String(n)) if !n.trim().is_empty() => n.trim().to_owned(),
            _ => return Err(err(at("name"), "every area needs a name (as its replies and pages say it)")),
        };
        let route: RouteConfig = match table.get("route") {
            Some(v) => v.clone().try_into().map_err(|e: toml::de::Error| err(at("route"), e.message().to_owned()))?,
            None => RouteConfig::default(),
        };
        let mut merged = base.clone();
        let over: toml::Table = table.iter().filter(|(k, _)| !matches!(k.as_str(), "name" | "route")).map(|(k, v)| (k.clone(), v.clone())).collect();
        lay_over(&mut merged, toml::Value::Table(over));
        if let Some(t) = merged.as_table_mut() {
            t.insert("area".into(), toml::Value::String(name));
        }
        let area_file: ConfigFile = serde_path_to_error::deserialize(merged).map_err(|e| err(at(&e.path().to_string()), e.inner().to_string()))?;
        let config = area_file.build_one().map_err(|e| err(at(&e.key), e.reason))?;
        areas.push(Area { id: id.clone(), route, config });
    }
    check_routes(&areas)?;
    for (i, a) in areas.iter().enumerate() {
        if let Some(b) = areas[..i].iter().find(|b| b.config.file.case.reference_format == a.config.file.case.reference_format) {
            return Err(err(
                format!("areas.{}.case.reference_format", a.id),
                format!("is area {}'s too: case references are unique across the deployment, so each area numbers its cases in a format of its own", b.id),
            ));
        }
    }
    Ok(areas)
}

/// Lays `over` onto `base`: tables key by key, anything else replaced.
fn lay_over(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => lay_over(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Areas sharing a mailbox must each say how their referrals are told apart, and no sign may be
/// two areas' at once.
fn check_routes(areas: &[Area]) -> Result<(), ConfigError> {
    for a in areas {
        let sharing: Vec<&Area> = areas.iter().filter(|b| b.mailbox() == a.mailbox()).collect();
        if sharing.len() > 1 && a.route.is_empty() {
            return Err(err(
                format!("areas.{}.route", a.id),
                format!(
                    "is needed: the area shares its mailbox with {}, so its referrals must be told apart by recipients, form_areas, local_authorities or postcode_districts",
                    sharing.iter().filter(|b| b.id != a.id).map(|b| b.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        for b in sharing.iter().filter(|b| b.id > a.id) {
            let signs = |r: &RouteConfig| -> Vec<(&'static str, String)> {
                let mut v: Vec<(&'static str, String)> = Vec::new();
                v.extend(r.recipients.iter().map(|s| ("recipients", s.trim().to_ascii_lowercase())));
                v.extend(r.form_areas.iter().map(|s| ("form_areas", fold_marac(s))));
                v.extend(r.local_authorities.iter().map(|s| ("local_authorities", fold(s))));
                v.extend(r.postcode_districts.iter().map(|s| ("postcode_districts", fold(s))));
                v
            };
            let theirs = signs(&b.route);
            if let Some((key, value)) = signs(&a.route).into_iter().find(|s| theirs.contains(s)) {
                return Err(err(format!("areas.{}.route.{key}", b.id), format!("{value:?} is also area {}'s: a sign must point to one area", a.id)));
            }
        }
        for (i, d) in a.route.postcode_districts.iter().enumerate() {
            if !is_postcode_district(d) {
                return Err(err(format!("areas.{}.route.postcode_districts[{i}]", a.id), format!("{d:?} is not a postcode district (the outward code: \"KM1\", \"KM12\", \"W1A\")")));
            }
        }
        for (i, r) in a.route.recipients.iter().enumerate() {
            if !super::looks_like_address(r) {
                return Err(err(format!("areas.{}.route.recipients[{i}]", a.id), "must be an email address"));
            }
        }
    }
    Ok(())
}

/// Whether `s` is a UK postcode's outward code: one or two letters, a digit, then an optional
/// letter or digit.
pub fn is_postcode_district(s: &str) -> bool {
    let s = s.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let rest = &b[letters..];
    (1..=2).contains(&letters) && !rest.is_empty() && rest.len() <= 2 && rest[0].is_ascii_digit() && rest.iter().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
pub(crate) mod tests;
