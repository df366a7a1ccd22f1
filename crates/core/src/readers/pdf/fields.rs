//! AcroForm fields: `/Root /AcroForm /Fields`, down through `/Kids`, to the terminal fields,
//! with `/FT`, `/V`, `/DV` and `/Ff` inherited. Kids without `/T` are the widgets (the boxes on
//! the page) of their parent field. Reference cycles are cut with a set of visited objects and
//! the walk stops at `limits.max_depth`.

use super::object::{deref, number, stream_bytes};
use crate::limits::pdf::{MAX_FIELDS, MAX_FIELD_NAME_CHARS, MAX_FIELD_OPTIONS, MAX_FIELD_STRING_BYTES, MAX_FIELD_TEXT, MAX_FIELD_VALUE_BYTES};
use crate::document::{FieldKind, FormField, Problem, ProblemKind};
use crate::limits::{Deadline, Limits};
use lopdf::{decode_text_string, Dictionary, Document, Object, ObjectId};
use std::collections::{HashMap, HashSet};

const RADIO: i64 = 1 << 15;
const PUSHBUTTON: i64 = 1 << 16;

/// Where pages and annotations are: built from the pages that were read.
#[derive(Debug, Default)]
pub(super) struct PageIndex {
    pub by_id: HashMap<ObjectId, usize>,
    pub annots: HashMap<ObjectId, usize>,
}

/// A widget box: its page (1-based) when known, and its rectangle in default user space.
#[derive(Debug, Clone)]
pub(super) struct Widget {
    pub page: Option<usize>,
    pub rect: Option<[f32; 4]>,
    /// A button widget's on-state export value (by index through /Opt when the states are numbers).
    pub export: Option<String>,
}

/// One terminal field with the widgets it was found through.
#[derive(Debug)]
pub(super) struct Field {
    pub field: FormField,
    pub widgets: Vec<Widget>,
}

/// What the form holds.
#[derive(Debug, Default)]
pub(super) struct Form {
    pub fields: Vec<Field>,
    /// The form carries an XFA (XML Forms Architecture) description.
    pub xfa: bool,
    pub timed_out: bool,
    /// A limit stopped the walk: no more fields are read.
    full: bool,
    /// Bytes of text kept so far.
    spent: usize,
}

#[derive(Clone, Default)]
struct Inherited<'a> {
    ft: Option<&'a [u8]>,
    v: Option<&'a Object>,
    dv: Option<&'a Object>,
    ff: Option<i64>,
}

struct Walk<'a, 'p> {
    doc: &'a Document,
    pages: &'p PageIndex,
    max_depth: usize,
    deadline: Deadline,
    visited: HashSet<ObjectId>,
    form: Form,
    /// Decompressed bytes the document may still use (a value kept in a stream draws from it).
    allowance: &'p mut usize,
    problems: &'p mut Vec<Problem>,
}

pub(super) fn read(
    doc: &Document,
    pages: &PageIndex,
    limits: &Limits,
    deadline: Deadline,
    allowance: &mut usize,
    problems: &mut Vec<Problem>,
) -> Form {
    let Some(acroform) =
        doc.catalog().ok().and_then(|root| deref(doc, root.get(b"AcroForm").ok())).and_then(|o| o.as_dict().ok())
    else {
        return Form::default();
    };
    let mut walk = Walk {
        doc,
        pages,
        max_depth: limits.max_depth,
        deadline,
        visited: HashSet::new(),
        form: Form { xfa: acroform.has(b"XFA"), ..Form::default() },
        allowance,
        problems,
    };
    if let Some(fields) = deref(doc, acroform.get(b"Fields").ok()).and_then(|o| o.as_array().ok()) {
        // /Fields should list root fields only, but some producers list kids too: those are
        // read through their parent, and only on their own when the parent did not reach them.
        let has_parent =
            |f: &Object| deref(doc, Some(f)).and_then(|o| o.as_dict().ok()).is_some_and(|d| d.has(b"Parent"));
        for field in fields.iter().filter(|f| !has_parent(f)) {
            walk.node(field, None, &Inherited::default(), 0);
        }
        walk.orphans(fields.iter().filter(|f| has_parent(f)));
    }
    walk.form
}

impl<'a> Walk<'a, '_> {
    fn limit(&mut self, detail: String) {
        if !self.problems.iter().any(|p| p.kind == ProblemKind::LimitExceeded && p.detail == detail) {
            self.problems.push(Problem::new(ProblemKind::LimitExceeded, detail));
        }
    }

    /// Resolves a field or kid entry to its dictionary, marking it visited. `None` when it is
    /// not a dictionary or was seen before (a reference cycle or a field listed twice).
    fn enter(&mut self, obj: &'a Object) -> Option<(Option<ObjectId>, &'a Dictionary)> {
        let (id, target) = self.doc.dereference(obj).ok()?;
        let dict = target.as_dict().ok()?;
        if let Some(id) = id {
            if !self.visited.insert(id) {
                return None;
            }
        }
        Some((id, dict))
    }

    fn node(&mut self, obj: &'a Object, parent: Option<&str>, inherited: &Inherited<'a>, depth: usize) {
        if self.form.full {
            return;
        }
        if self.form.timed_out || self.deadline.expired() {
            self.form.timed_out = true;
            return;
        }
        if depth > self.max_depth {
            self.limit(format!("form field tree deeper than {} levels", self.max_depth));
            return;
        }
        let doc = self.doc;
        let Some((id, dict)) = self.enter(obj) else { return };
        let partial =
            deref(doc, dict.get(b"T").ok()).map(text).map(|t| t.chars().take(MAX_FIELD_NAME_CHARS).collect::<String>());
        let name = match (parent, partial) {
            (Some(p), Some(t)) if !p.is_empty() => format!("{p}.{t}"),
            (_, Some(t)) => t,
            (Some(p), None) => p.to_string(),
            (None, None) => String::new(),
        };
        let here = Inherited {
            ft: deref(doc, dict.get(b"FT").ok()).and_then(|o| o.as_name().ok()).or(inherited.ft),
            v: dict.get(b"V").ok().or(inherited.v),
            dv: dict.get(b"DV").ok().or(inherited.dv),
            ff: deref(doc, dict.get(b"Ff").ok()).and_then(|o| o.as_i64().ok()).or(inherited.ff),
        };
        let kids = deref(doc, dict.get(b"Kids").ok()).and_then(|o| o.as_array().ok());
        let mut widgets: Vec<(Option<ObjectId>, &'a Dictionary)> = Vec::new();
        let mut field_kids: Vec<&'a Object> = Vec::new();
        match kids {
            Some(kids) => {
                for kid in kids {
                    let Some(kid_dict) = deref(doc, Some(kid)).and_then(|o| o.as_dict().ok()) else { continue };
                    if kid_dict.has(b"T") || kid_dict.has(b"Kids") {
                        field_kids.push(kid);
                    } else if let Some((kid_id, kid_dict)) = self.enter(kid) {
                        widgets.push((kid_id, kid_dict));
                    }
                }
            }
            // A field with no kids is its own widget (merged field and widget dictionary).
            None => widgets.push((id, dict)),
        }
        for kid in &field_kids {
            self.node(kid, Some(&name), &here, depth + 1);
        }
        if !field_kids.is_empty() && widgets.is_empty() {
            return;
        }
        let field = self.terminal(dict, name, &here, &widgets);
        self.push(field);
    }

    fn push(&mut self, field: Field) {
        let f = &field.field;
        let size = f.name.len()
            + f.label.as_ref().map_or(0, String::len)
            + f.value.as_ref().map_or(0, String::len)
            + f.options.iter().map(String::len).sum::<usize>();
        self.form.spent = self.form.spent.saturating_add(size);
        if self.form.fields.len() >= MAX_FIELDS {
            self.form.full = true;
            self.limit(format!("form has more than {MAX_FIELDS} fields; the rest were not read"));
        } else if self.form.spent > MAX_FIELD_TEXT {
            self.form.full = true;
            self.limit(format!("form fields hold more than {MAX_FIELD_TEXT} bytes of text; the rest were not read"));
        } else {
            self.form.fields.push(field);
        }
    }

    /// Entries of /Fields with a /Parent that the walk from the roots did not reach (the parent
    /// is not in /Fields, or does not list them in its /Kids): read under their parent's name
    /// and inherited attributes, widgets of one parent together as one field.
    fn orphans(&mut self, entries: impl Iterator<Item = &'a Object>) {
        let doc = self.doc;
        let mut groups: Vec<(ObjectId, Vec<&'a Object>)> = Vec::new();
        let mut group_of: HashMap<ObjectId, usize> = HashMap::new();
        for entry in entries {
            let Ok((Some(id), _)) = doc.dereference(entry) else { continue };
            if self.visited.contains(&id) {
                continue;
            }
            let parent =
                doc.get_dictionary(id).ok().and_then(|d| d.get(b"Parent").ok()).and_then(|p| p.as_reference().ok());
            let Some(parent) = parent.filter(|p| *p != id) else {
                // Its own parent, or a parent that is not a reference: read it as a root.
                self.node(entry, None, &Inherited::default(), 0);
                continue;
            };
            match group_of.get(&parent).and_then(|i| groups.get_mut(*i)) {
                Some((_, list)) => list.push(entry),
                None => {
                    group_of.insert(parent, groups.len());
                    groups.push((parent, vec![entry]));
                }
            }
        }
        for (parent_id, entries) in groups {
            let Ok(parent) = doc.get_dictionary(parent_id) else { continue };
            // Ancestors from the parent up, at most max_depth of them, each once.
            let mut chain: Vec<&'a Dictionary> = vec![parent];
            let mut seen = HashSet::from([parent_id]);
            let mut node = parent;
            while chain.len() <= self.max_depth {
                let Some(up) = node.get(b"Parent").ok().and_then(|p| p.as_reference().ok()) else { break };
                if !seen.insert(up) {
                    break;
                }
                let Ok(up_dict) = doc.get_dictionary(up) else { break };
                chain.push(up_dict);
                node = up_dict;
            }
            let mut inherited = Inherited::default();
            let mut names: Vec<String> = Vec::new();
            for dict in chain.iter().rev() {
                inherited = Inherited {
                    ft: deref(doc, dict.get(b"FT").ok()).and_then(|o| o.as_name().ok()).or(inherited.ft),
                    v: dict.get(b"V").ok().or(inherited.v),
                    dv: dict.get(b"DV").ok().or(inherited.dv),
                    ff: deref(doc, dict.get(b"Ff").ok()).and_then(|o| o.as_i64().ok()).or(inherited.ff),
                };
                if let Some(t) = deref(doc, dict.get(b"T").ok()).map(text) {
                    names.push(t);
                }
            }
            let name = names.join(".");
            let mut widgets = Vec::new();
            for entry in entries {
                let Some(dict) = deref(doc, Some(entry)).and_then(|o| o.as_dict().ok()) else { continue };
                if dict.has(b"T") || dict.has(b"Kids") {
                    self.node(entry, Some(&name), &inherited, chain.len());
                } else if let Some(widget) = self.enter(entry) {
                    widgets.push(widget);
                }
            }
            if !widgets.is_empty() && !self.form.full && self.visited.insert(parent_id) {
                let field = self.terminal(parent, name, &inherited, &widgets);
                self.push(field);
            }
        }
    }

    fn terminal(
        &mut self,
        dict: &'a Dictionary,
        name: String,
        inherited: &Inherited<'a>,
        widgets: &[(Option<ObjectId>, &'a Dictionary)],
    ) -> Field {
        let doc = self.doc;
        let flags = inherited.ff.unwrap_or(0);
        let kind = match inherited.ft {
            Some(b"Tx") => FieldKind::Text,
            Some(b"Ch") => FieldKind::Choice,
            Some(b"Btn") if flags & PUSHBUTTON != 0 => FieldKind::Other,
            Some(b"Btn") if flags & RADIO != 0 => FieldKind::Radio,
            Some(b"Btn") => FieldKind::Checkbox,
            _ => FieldKind::Other,
        };
        let opt: Vec<String> = deref(doc, dict.get(b"Opt").ok())
            .and_then(|o| o.as_array().ok())
            .map(|list| {
                list.iter()
                    .take(MAX_FIELD_OPTIONS)
                    .filter_map(|o| match deref(doc, Some(o)) {
                        // [export display]: the export value is what /V holds.
                        Some(Object::Array(pair)) => deref(doc, pair.first()).map(text),
                        Some(other) => Some(text(other)),
                        None => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Buttons with /Opt name their states by index ("0", "1", ...).
        let by_index = |state: String| -> String {
            state.parse::<usize>().ok().and_then(|i| opt.get(i)).cloned().unwrap_or(state)
        };
        let (value, options) = match kind {
            FieldKind::Checkbox | FieldKind::Radio => {
                let from_v = inherited.v.and_then(|v| deref(doc, Some(v))).and_then(|v| match v {
                    Object::Name(n) => Some(name_text(n)),
                    Object::String(..) => Some(text(v)),
                    _ => None,
                });
                let selected = match from_v {
                    Some(v) => Some(v),
                    None => widgets.iter().find_map(|(_, w)| {
                        deref(doc, w.get(b"AS").ok())
                            .and_then(|o| o.as_name().ok())
                            .map(name_text)
                            .filter(|s| s != "Off")
                    }),
                };
                let value = selected.filter(|s| !s.trim().is_empty() && s != "Off").map(by_index);
                let mut options: Vec<String> = Vec::new();
                for (_, w) in widgets {
                    for state in on_states(doc, w) {
                        let state = by_index(state);
                        if options.len() < MAX_FIELD_OPTIONS && !options.contains(&state) {
                            options.push(state);
                        }
                    }
                }
                (value, options)
            }
            FieldKind::Text | FieldKind::Choice => {
                let v = inherited.v.or(inherited.dv);
                let value = v.and_then(|v| self.value_text(v)).filter(|s| !s.trim().is_empty());
                let options = if kind == FieldKind::Choice { opt.clone() } else { Vec::new() };
                (value, options)
            }
            FieldKind::Other => (None, Vec::new()),
        };
        let label = deref(doc, dict.get(b"TU").ok()).map(text).filter(|s| !s.trim().is_empty());
        let is_button = matches!(kind, FieldKind::Checkbox | FieldKind::Radio);
        let boxes: Vec<Widget> = widgets
            .iter()
            .map(|(id, w)| Widget {
                page: self.page_of(*id, w),
                rect: rect(doc, w),
                export: if is_button { on_states(doc, w).into_iter().next().map(by_index) } else { None },
            })
            .collect();
        let at = match boxes.iter().find_map(|w| w.page) {
            Some(p) => format!("page {p}"),
            None => "page ?".to_string(),
        };
        Field { field: FormField { name, label, context: None, heading: None, kind, value, options, widgets: Vec::new(), at }, widgets: boxes }
    }

    fn value_text(&mut self, v: &'a Object) -> Option<String> {
        let doc = self.doc;
        match deref(doc, Some(v))? {
            s @ Object::String(..) => Some(text(s)),
            Object::Name(n) => Some(name_text(n)),
            Object::Integer(i) => Some(i.to_string()),
            Object::Real(r) => Some(r.to_string()),
            Object::Array(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .take(MAX_FIELD_OPTIONS)
                    .filter_map(|i| self.value_text(i))
                    .filter(|s| !s.is_empty())
                    .collect();
                Some(parts.join(", "))
            }
            Object::Stream(s) => {
                let bytes = stream_bytes(s, MAX_FIELD_VALUE_BYTES, self.allowance).ok()?;
                Some(text(&Object::String(bytes, lopdf::StringFormat::Literal)))
            }
            _ => None,
        }
    }

    fn page_of(&self, id: Option<ObjectId>, widget: &Dictionary) -> Option<usize> {
        widget
            .get(b"P")
            .ok()
            .and_then(|p| p.as_reference().ok())
            .and_then(|p| self.pages.by_id.get(&p))
            .or_else(|| id.and_then(|id| self.pages.annots.get(&id)))
            .copied()
    }
}

/// The names of a widget's appearance states other than Off, in the order the file lists them.
fn on_states(doc: &Document, widget: &Dictionary) -> Vec<String> {
    deref(doc, widget.get(b"AP").ok())
        .and_then(|o| o.as_dict().ok())
        .and_then(|ap| deref(doc, ap.get(b"N").ok()))
        .and_then(|o| o.as_dict().ok())
        .map(|n| n.iter().filter(|(k, _)| k.as_slice() != b"Off").map(|(k, _)| name_text(k)).collect())
        .unwrap_or_default()
}

fn rect(doc: &Document, widget: &Dictionary) -> Option<[f32; 4]> {
    let list = deref(doc, widget.get(b"Rect").ok())?.as_array().ok()?;
    let v: Vec<f32> = list.iter().filter_map(|o| deref(doc, Some(o)).and_then(number)).collect();
    match v.as_slice() {
        [a, b, c, d] if [a, b, c, d].iter().all(|x| x.is_finite()) => {
            Some([a.min(*c), b.min(*d), a.max(*c), b.max(*d)])
        }
        _ => None,
    }
}

/// A text string (PDFDocEncoding, UTF-16BE or UTF-8 with BOM); bytes that do not decode are
/// read as Latin-1 rather than lost.
pub(super) fn text(obj: &Object) -> String {
    match obj {
        Object::String(bytes, _) if bytes.len() > MAX_FIELD_STRING_BYTES => {
            // An even length keeps UTF-16 whole.
            let head = bytes.get(..MAX_FIELD_STRING_BYTES).unwrap_or_default().to_vec();
            text(&Object::String(head, lopdf::StringFormat::Literal))
        }
        Object::String(bytes, _) => match decode_text_string(obj) {
            Ok(s) => s,
            Err(_) => match bytes.strip_prefix(b"\xFE\xFF") {
                Some(utf16) => {
                    let units: Vec<u16> = utf16
                        .chunks_exact(2)
                        .filter_map(|c| match c {
                            [a, b] => Some(u16::from_be_bytes([*a, *b])),
                            _ => None,
                        })
                        .collect();
                    String::from_utf16_lossy(&units)
                }
                None => match bytes.strip_prefix(b"\xEF\xBB\xBF") {
                    Some(utf8) => String::from_utf8_lossy(utf8).into_owned(),
                    None => latin1(bytes),
                },
            },
        },
        Object::Name(n) => name_text(n),
        _ => String::new(),
    }
}

/// A name object's bytes (already un-escaped from #xx by lopdf): UTF-8 when valid, else Latin-1.
pub(super) fn name_text(bytes: &[u8]) -> String {
    let bytes = bytes.get(..bytes.len().min(MAX_FIELD_STRING_BYTES)).unwrap_or_default();
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => latin1(bytes),
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}
