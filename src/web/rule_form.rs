//! The rule sections as forms: each key of a section as an ordinary control (a number, yes or
//! no, one of a few words, a line of text, a list with one item per line, a date), read back
//! into the section's TOML, which is then checked and saved exactly as the TOML editor's is
//! ([`super::admin`]). Pure: a section's table in, the fields out; the fields sent back, a table
//! out, or the field that could not be read.
//!
//! The keys come from the deployment's section as in force (defaults included), plus the
//! optional keys a section may leave out ([`OPTIONAL`]). An area's section is a partial one:
//! a field left empty takes the deployment's value, shown beside it.

use serde::Serialize;
use toml::{Table, Value};

/// How a field is edited.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    /// A whole number (`step` 1) or any number.
    Number { step: &'static str },
    YesNo,
    /// One of a few words (the TOML's own spellings).
    Choice { options: Vec<&'static str> },
    /// Any of a few words, as a list.
    Choices { options: Vec<&'static str> },
    Text,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// Text over several lines (a reply's body).
    LongText,
    /// A list, one item per line.
    Lines,
    /// Not editable as a form (a list of tables): kept as it is; the TOML view edits it.
    Fixed,
}

/// One control of the form.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The key within the section, dotted for a nested table (`acknowledgement.subject`).
    pub key: String,
    /// The form field's name: `f.` and the key.
    pub name: String,
    pub label: String,
    pub control: Control,
    /// What the control shows: the number, `yes`/`no`, the text, the list's lines.
    pub value: String,
    /// The chosen words of a [`Control::Choices`].
    pub chosen: Vec<String>,
    /// An area's field: the deployment's value, taken when the field is left empty.
    pub inherited: Option<String>,
}

/// Keys a section may leave out (absent from its table when unset), with their controls.
const OPTIONAL: &[(&str, &str)] = &[("senders", "dns_resolver"), ("schedule", "nth"), ("schedule", "anchor")];

/// The words a key takes, where it takes a few (the configuration's enums).
fn choices(kind: &str, key: &str) -> Option<Vec<&'static str>> {
    Some(match (kind, key) {
        ("threshold", "repeat_from") => vec!["last_referral", "last_meeting"],
        ("threshold", "dash_required") => vec!["when_visible_high_risk", "always"],
        ("threshold", "forms") => vec!["any", "both", "dash_alone"],
        ("senders", "receiving_server") => vec!["rfc8601", "exchange_online"],
        ("senders", "verify_dkim") => vec!["never", "when_no_results"],
        ("schedule", "kind") => vec!["weekly", "fortnightly", "monthly"],
        ("schedule", "weekday") => vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        ("schedule", "nth") => vec!["1", "2", "3", "4", "last"],
        ("agenda", "bank_holidays") => vec!["england_and_wales", "scotland", "northern_ireland", "none"],
        _ => return None,
    })
}

/// The words a list of a key takes, where it takes a few.
fn multi_choices(kind: &str, key: &str) -> Option<Vec<&'static str>> {
    match (kind, key) {
        ("threshold", "criteria") => Some(vec!["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"]),
        _ => None,
    }
}

fn is_date_key(kind: &str, key: &str) -> bool {
    kind == "schedule" && key == "anchor"
}

fn date_list(kind: &str, key: &str) -> bool {
    (kind == "schedule" && (key == "skip" || key == "add")) || (kind == "agenda" && (key == "holidays" || key == "not_holidays"))
}

/// A key's words for its label: `repeat_window_days` → "Repeat window days".
fn label(key: &str) -> String {
    let words = key.replace(['_', '.'], " ");
    let mut c = words.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Every key of `table`, nested tables flattened to dotted keys, in the table's order.
fn flatten(table: &Table, prefix: &str, out: &mut Vec<(String, Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Table(t) => flatten(t, &key, out),
            other => out.push((key, other.clone())),
        }
    }
}

fn lookup<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut v = table.get(parts.next()?)?;
    for p in parts {
        v = v.as_table()?.get(p)?;
    }
    Some(v)
}

fn insert(table: &mut Table, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            table.insert(key.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = table.entry(head.to_owned()).or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(t) = inner {
                insert(t, rest, value);
            }
        }
    }
}

/// The control of a key, from the value it has in the deployment's section (its type).
fn control(kind: &str, key: &str, schema: Option<&Value>) -> Control {
    if let Some(options) = choices(kind, key) {
        return Control::Choice { options };
    }
    if let Some(options) = multi_choices(kind, key) {
        return Control::Choices { options };
    }
    if is_date_key(kind, key) {
        return Control::Date;
    }
    match schema {
        Some(Value::Integer(_)) => Control::Number { step: "1" },
        Some(Value::Float(_)) => Control::Number { step: "any" },
        Some(Value::Boolean(_)) => Control::YesNo,
        Some(Value::String(s)) if s.contains('\n') || key.ends_with("body") => Control::LongText,
        Some(Value::Array(items)) if items.iter().all(|i| !matches!(i, Value::Table(_) | Value::Array(_))) => Control::Lines,
        Some(Value::Array(_)) => Control::Fixed,
        _ => Control::Text,
    }
}

/// A value as its control shows it.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join("\n"),
        Value::Table(_) => String::new(),
    }
}

fn words_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

/// The form of a section of kind `kind` (`threshold`, ...). `schema` is the deployment's
/// section as in force (every key, defaults included); `values` what the form shows (the
/// section as saved or as typed); `area`: the section is an area's, whose empty fields take
/// the deployment's values.
pub fn fields(kind: &str, schema: &Table, values: &Table, area: bool) -> Vec<Field> {
    let mut keys = Vec::new();
    flatten(schema, "", &mut keys);
    for (k, key) in OPTIONAL {
        if *k == kind && !keys.iter().any(|(have, _)| have == key) {
            keys.push(((*key).to_owned(), Value::String(String::new())));
        }
    }
    keys.into_iter()
        .map(|(key, schema_value)| {
            let control = control(kind, &key, Some(&schema_value));
            let own = lookup(values, &key);
            let value = own.map(shown).unwrap_or_default();
            let chosen = if matches!(control, Control::Choices { .. }) { words_of(own) } else { Vec::new() };
            let inherited = area.then(|| shown(&schema_value));
            Field { name: format!("f.{key}"), label: label(&key), control, value, chosen, inherited, key }
        })
        .collect()
}

/// The fields as sent, shown again (after a field could not be read).
pub fn fields_as_sent(kind: &str, schema: &Table, sent: &[(String, String)], area: bool) -> Vec<Field> {
    let mut out = fields(kind, schema, &Table::new(), area);
    for f in &mut out {
        let mine: Vec<&str> = sent.iter().filter(|(k, _)| *k == f.name).map(|(_, v)| v.as_str()).collect();
        if matches!(f.control, Control::Choices { .. }) {
            f.chosen = mine.iter().map(|s| (*s).to_owned()).collect();
        } else {
            f.value = mine.first().map(|s| (*s).to_owned()).unwrap_or_default();
        }
    }
    out
}

/// The fields that could not be read, in words naming each.
#[derive(Debug, PartialEq)]
pub struct FieldError(pub String);

/// The section's table from the form sent: each field read by its control. An area's empty
/// field is left out (the deployment's value applies); an empty optional key is left out; a
/// [`Control::Fixed`] key keeps `values`' value (the section as it was). Every field that
/// cannot be read is named, not only the first.
pub fn table_from(kind: &str, schema: &Table, values: &Table, sent: &[(String, String)], area: bool) -> Result<Table, FieldError> {
    let mut out = Table::new();
    let mut wrong = Vec::new();
    for f in fields(kind, schema, values, area) {
        match read_field(kind, schema, values, sent, area, &f) {
            Ok(Some(value)) => insert(&mut out, &f.key, value),
            Ok(None) => {}
            Err(FieldError(why)) => wrong.push(why),
        }
    }
    if !wrong.is_empty() {
        return Err(FieldError(wrong.join("; ")));
    }
    // A key the form does not know (none today) is kept as it was, never dropped.
    let mut had = Vec::new();
    flatten(values, "", &mut had);
    for (key, v) in had {
        if lookup(&out, &key).is_none() && lookup(schema, &key).is_none() && !OPTIONAL.iter().any(|(k, o)| *k == kind && *o == key) {
            insert(&mut out, &key, v);
        }
    }
    Ok(out)
}

/// One field of the form sent: its value, none (left out of the section), or why it cannot be read.
fn read_field(kind: &str, schema: &Table, values: &Table, sent: &[(String, String)], area: bool, f: &Field) -> Result<Option<Value>, FieldError> {
    let mine: Vec<&str> = sent.iter().filter(|(k, _)| *k == f.name).map(|(_, v)| v.as_str()).collect();
    let text = mine.first().map(|s| s.replace("\r\n", "\n")).unwrap_or_default();
    let optional = OPTIONAL.iter().any(|(k, key)| *k == kind && *key == f.key);
    let empty = text.trim().is_empty();
    let value = match &f.control {
        Control::Fixed => match lookup(values, &f.key) {
            Some(v) => v.clone(),
            None => return Ok(None),
        },
        // Checkboxes: none ticked is an empty list; an area's box "the deployment's" ticked
        // leaves the key out.
        Control::Choices { options } => {
            if area && mine.iter().any(|v| *v == "inherit") {
                return Ok(None);
            }
            let chosen: Vec<Value> = mine.iter().filter(|v| options.contains(v)).map(|v| Value::String((*v).to_owned())).collect();
            if let Some(bad) = mine.iter().find(|v| !options.contains(v) && **v != "inherit") {
                return Err(FieldError(format!("{}: \"{bad}\" is not one of {}", f.label, options.join(", "))));
            }
            Value::Array(chosen)
        }
        _ if empty && (area || optional) => return Ok(None),
        Control::Number { step } => {
            let t = text.trim();
            if *step == "1" {
                Value::Integer(t.parse().map_err(|_| FieldError(format!("{}: a whole number is needed, not \"{t}\"", f.label)))?)
            } else {
                Value::Float(t.parse().map_err(|_| FieldError(format!("{}: a number is needed, not \"{t}\"", f.label)))?)
            }
        }
        Control::YesNo => match text.trim() {
            "yes" => Value::Boolean(true),
            "no" => Value::Boolean(false),
            other => return Err(FieldError(format!("{}: yes or no, not \"{other}\"", f.label))),
        },
        Control::Choice { options } => {
            let t = text.trim();
            if !options.contains(&t) {
                return Err(FieldError(format!("{}: \"{t}\" is not one of {}", f.label, options.join(", "))));
            }
            match t.parse::<i64>() {
                Ok(n) => Value::Integer(n),
                Err(_) => Value::String(t.to_owned()),
            }
        }
        Control::Lines => {
            let numbers = matches!(lookup(schema, &f.key).and_then(Value::as_array).and_then(|a| a.first()), Some(Value::Integer(_)));
            let mut items = Vec::new();
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if numbers {
                    items.push(Value::Integer(line.parse().map_err(|_| FieldError(format!("{}: each line a whole number, not \"{line}\"", f.label)))?));
                } else {
                    if date_list(kind, &f.key) && chrono::NaiveDate::parse_from_str(line, "%Y-%m-%d").is_err() {
                        return Err(FieldError(format!("{}: each line a date as YYYY-MM-DD, not \"{line}\"", f.label)));
                    }
                    items.push(Value::String(line.to_owned()));
                }
            }
            Value::Array(items)
        }
        Control::Date => {
            let t = text.trim();
            if chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_err() {
                return Err(FieldError(format!("{}: a date as YYYY-MM-DD, not \"{t}\"", f.label)));
            }
            Value::String(t.to_owned())
        }
        Control::Text | Control::LongText => Value::String(if matches!(f.control, Control::Text) { text.trim().to_owned() } else { text }),
    };
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    fn sent(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const THRESHOLD: &str = "dash_score = 14\nescalation_callouts = 3\nrepeat_window_days = 365\nrepeat_from = \"last_referral\"\ncriteria = [\"visible_high_risk\", \"repeat\"]\ndash_required = \"when_visible_high_risk\"\nforms = \"any\"\nrequired_fields = []\n";

    #[test]
    fn each_key_has_the_control_of_its_type_and_its_value() {
        let s = table(THRESHOLD);
        let f = fields("threshold", &s, &s, false);
        let by = |k: &str| f.iter().find(|f| f.key == k).unwrap().clone();
        assert_eq!(by("dash_score").control, Control::Number { step: "1" });
        assert_eq!(by("dash_score").value, "14");
        assert!(matches!(by("repeat_from").control, Control::Choice { .. }));
        assert_eq!(by("criteria").chosen, vec!["visible_high_risk", "repeat"]);
        assert_eq!(by("required_fields").control, Control::Lines);
        assert_eq!(by("dash_score").name, "f.dash_score");
        assert_eq!(by("repeat_window_days").label, "Repeat window days");
    }

    #[test]
    fn the_form_sent_back_is_the_section_with_the_changes() {
        let s = table(THRESHOLD);
        let form = sent(&[
            ("f.dash_score", "12"),
            ("f.escalation_callouts", "3"),
            ("f.repeat_window_days", "365"),
            ("f.repeat_from", "last_meeting"),
            ("f.criteria", "visible_high_risk"),
            ("f.criteria", "professional_judgement"),
            ("f.dash_required", "always"),
            ("f.forms", "both"),
            ("f.required_fields", "victim_name\r\n\r\n victim_dob \n"),
        ]);
        let t = table_from("threshold", &s, &s, &form, false).unwrap();
        assert_eq!(t["dash_score"].as_integer(), Some(12));
        assert_eq!(t["repeat_from"].as_str(), Some("last_meeting"));
        assert_eq!(words_of(t.get("criteria")), vec!["visible_high_risk", "professional_judgement"]);
        assert_eq!(words_of(t.get("required_fields")), vec!["victim_name", "victim_dob"]);
        assert_eq!(t["forms"].as_str(), Some("both"));
    }

    #[test]
    fn a_field_that_cannot_be_read_is_named_and_nothing_is_made() {
        let s = table(THRESHOLD);
        let e = table_from("threshold", &s, &s, &sent(&[("f.dash_score", "fourteen")]), false).unwrap_err();
        assert!(e.0.contains("Dash score") && e.0.contains("fourteen"), "{e:?}");
        let e = table_from("threshold", &s, &s, &sent(&[("f.dash_score", "14"), ("f.escalation_callouts", "3"), ("f.repeat_window_days", "1"), ("f.repeat_from", "yesterday"), ("f.dash_required", "always"), ("f.forms", "any")]), false).unwrap_err();
        assert!(e.0.contains("Repeat from"), "{e:?}");
    }

    #[test]
    fn an_areas_empty_fields_take_the_deployments_values() {
        let s = table(THRESHOLD);
        let own = table("dash_score = 12\n");
        let f = fields("threshold", &s, &own, true);
        let score = f.iter().find(|f| f.key == "dash_score").unwrap();
        assert_eq!((score.value.as_str(), score.inherited.as_deref()), ("12", Some("14")));
        let form = sent(&[("f.dash_score", "11"), ("f.escalation_callouts", ""), ("f.repeat_from", ""), ("f.criteria", "inherit")]);
        let t = table_from("threshold", &s, &own, &form, true).unwrap();
        assert_eq!(t, table("dash_score = 11\n"), "only what the area sets");
    }

    #[test]
    fn the_schedule_takes_dates_and_its_optional_keys() {
        let s = table("kind = \"monthly\"\nweekday = \"tue\"\nnth = 2\ncutoff_days = 0\nskip = []\nadd = []\n");
        let f = fields("schedule", &s, &s, false);
        assert!(f.iter().any(|f| f.key == "anchor" && f.control == Control::Date), "the anchor is offered though unset");
        let form = sent(&[("f.kind", "fortnightly"), ("f.weekday", "wed"), ("f.nth", ""), ("f.anchor", "2025-01-15"), ("f.cutoff_days", "2"), ("f.skip", "2025-12-24"), ("f.add", "")]);
        let t = table_from("schedule", &s, &s, &form, false).unwrap();
        assert_eq!(t, table("kind = \"fortnightly\"\nweekday = \"wed\"\nanchor = \"2025-01-15\"\ncutoff_days = 2\nskip = [\"2025-12-24\"]\nadd = []\n"));
        let bad = sent(&[("f.kind", "monthly"), ("f.weekday", "tue"), ("f.nth", "last"), ("f.cutoff_days", "0"), ("f.skip", "24/12/2025")]);
        assert!(table_from("schedule", &s, &s, &bad, false).unwrap_err().0.contains("YYYY-MM-DD"));
        let last = sent(&[("f.kind", "monthly"), ("f.weekday", "tue"), ("f.nth", "last"), ("f.cutoff_days", "0")]);
        assert_eq!(table_from("schedule", &s, &s, &last, false).unwrap()["nth"].as_str(), Some("last"));
    }

    #[test]
    fn nested_tables_are_dotted_keys_and_multiline_text_stays_whole() {
        let s = table("from = \"marac@example.gov.uk\"\nask_referrer_to_attend = false\n[acknowledgement]\nsubject = \"Re: {their_subject}\"\nbody = \"Thank you.\\n\\n{reasons}\\n\"\n");
        let f = fields("replies", &s, &s, false);
        let body = f.iter().find(|f| f.key == "acknowledgement.body").unwrap();
        assert_eq!(body.control, Control::LongText);
        assert_eq!(f.iter().find(|f| f.key == "ask_referrer_to_attend").unwrap().control, Control::YesNo);
        let form = sent(&[("f.from", " marac@example.gov.uk "), ("f.ask_referrer_to_attend", "yes"), ("f.acknowledgement.subject", "Received"), ("f.acknowledgement.body", "Line one\r\n\r\nLine two\r\n")]);
        let t = table_from("replies", &s, &s, &form, false).unwrap();
        assert_eq!(t["from"].as_str(), Some("marac@example.gov.uk"));
        assert_eq!(t["ask_referrer_to_attend"].as_bool(), Some(true));
        assert_eq!(t["acknowledgement"]["body"].as_str(), Some("Line one\n\nLine two\n"));
    }
}
