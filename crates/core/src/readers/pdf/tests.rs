//! PDFs built in code with lopdf, read back through [`super::read`].

use super::read;
use crate::document::{Block, Document, FieldKind, FormField, ProblemKind, CHECKED};
use crate::limits::{Deadline, Limits};
use lopdf::{dictionary, Dictionary, Object, ObjectId, Stream, StringFormat};
use std::time::Duration;

/// Builds a small PDF: one Helvetica (WinAnsi) font as /F1, pages, an AcroForm.
struct Builder {
    doc: lopdf::Document,
    pages_id: ObjectId,
    pages: Vec<ObjectId>,
    fields: Vec<Object>,
    font_id: ObjectId,
    acroform: Dictionary,
}

fn name(s: &str) -> Object {
    Object::Name(s.as_bytes().to_vec())
}

fn string(s: &str) -> Object {
    Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
}

fn rect(r: [f32; 4]) -> Object {
    Object::Array(r.iter().map(|v| Object::Real(*v)).collect())
}

impl Builder {
    fn new() -> Self {
        let mut doc = lopdf::Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => "Helvetica",
            "Encoding" => "WinAnsiEncoding",
        });
        Builder { doc, pages_id, pages: Vec::new(), fields: Vec::new(), font_id, acroform: Dictionary::new() }
    }

    fn resources(&self) -> Dictionary {
        dictionary! { "Font" => dictionary! { "F1" => self.font_id } }
    }

    /// A page whose content is `ops`, with /F1 in its resources.
    fn page(&mut self, ops: &str) -> ObjectId {
        let resources = self.resources();
        self.page_with(ops.as_bytes().to_vec(), resources)
    }

    fn page_with(&mut self, content: Vec<u8>, resources: Dictionary) -> ObjectId {
        let content_id = self.doc.add_object(Stream::new(Dictionary::new(), content));
        let id = self.doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => self.pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content_id,
            "Resources" => resources,
        });
        self.pages.push(id);
        id
    }

    fn add_annot(&mut self, page: ObjectId, annot: ObjectId) {
        if let Ok(Object::Dictionary(d)) = self.doc.get_object_mut(page) {
            let mut list = d.get(b"Annots").and_then(Object::as_array).cloned().unwrap_or_default();
            list.push(Object::Reference(annot));
            d.set("Annots", list);
        }
    }

    /// A widget on `page` at `r`, with on-state `state` (and Off), showing `as_state`.
    fn widget(&mut self, page: ObjectId, r: [f32; 4], state: &str, as_state: &str) -> ObjectId {
        let ap = self.doc.add_object(Stream::new(Dictionary::new(), b"0 0 10 10 re f".to_vec()));
        let mut n = Dictionary::new();
        n.set(state.as_bytes().to_vec(), ap);
        n.set("Off", ap);
        let id = self.doc.add_object(dictionary! {
            "Type" => "Annot",
            "Subtype" => "Widget",
            "Rect" => rect(r),
            "P" => page,
            "AS" => name(as_state),
            "AP" => dictionary! { "N" => n },
        });
        self.add_annot(page, id);
        id
    }

    /// A top-level field; its kids get /Parent set.
    fn field(&mut self, mut dict: Dictionary, kids: &[ObjectId]) -> ObjectId {
        if !kids.is_empty() {
            dict.set("Kids", kids.iter().map(|k| Object::Reference(*k)).collect::<Vec<_>>());
        }
        let id = self.doc.add_object(dict);
        for kid in kids {
            if let Ok(Object::Dictionary(d)) = self.doc.get_object_mut(*kid) {
                d.set("Parent", id);
            }
        }
        self.fields.push(Object::Reference(id));
        id
    }

    /// A radio group `t` with one widget per (state, rect), selecting `v`.
    fn radio(&mut self, page: ObjectId, t: &str, v: Option<&str>, states: &[(&str, [f32; 4])]) -> ObjectId {
        let kids: Vec<ObjectId> =
            states.iter().map(|(s, r)| self.widget(page, *r, s, if Some(*s) == v { s } else { "Off" })).collect();
        let mut dict = dictionary! { "FT" => "Btn", "Ff" => (1i64 << 15) | (1 << 14), "T" => string(t) };
        if let Some(v) = v {
            dict.set("V", name(v));
        }
        self.field(dict, &kids)
    }

    /// The document encrypted (RC4, 128-bit) with `user` as the user password.
    fn finish_encrypted(self, user: &str) -> Vec<u8> {
        let mut doc = lopdf::Document::load_mem(&self.finish()).expect("test PDF reloads");
        doc.trailer.set("ID", vec![Object::String(vec![7; 16], StringFormat::Hexadecimal); 2]);
        let version = lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "owner secret",
            user_password: user,
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        };
        let state = lopdf::EncryptionState::try_from(version).expect("encryption state");
        doc.encrypt(&state).expect("test PDF encrypts");
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).expect("test PDF is written");
        bytes
    }

    fn finish(mut self) -> Vec<u8> {
        let kids: Vec<Object> = self.pages.iter().map(|p| Object::Reference(*p)).collect();
        let count = kids.len() as i64;
        self.doc.objects.insert(
            self.pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
        );
        let mut catalog = dictionary! { "Type" => "Catalog", "Pages" => self.pages_id };
        if !self.fields.is_empty() || !self.acroform.is_empty() {
            let mut acroform = std::mem::take(&mut self.acroform);
            acroform.set("Fields", std::mem::take(&mut self.fields));
            let id = self.doc.add_object(acroform);
            catalog.set("AcroForm", id);
        }
        let catalog_id = self.doc.add_object(catalog);
        self.doc.trailer.set("Root", catalog_id);
        let mut bytes = Vec::new();
        self.doc.save_to(&mut bytes).expect("test PDF is written");
        bytes
    }
}

fn read_default(bytes: &[u8]) -> Document {
    read(bytes, &Limits::default(), Deadline::after(Duration::from_secs(30), std::time::Instant::now))
}

fn field<'d>(doc: &'d Document, name: &str) -> &'d FormField {
    doc.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no field {name} in {:#?}", doc.fields))
}

fn rows(doc: &Document, page: usize) -> Vec<Vec<String>> {
    let at = format!("page {page}");
    doc.blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.at == at => Some(t.rows.iter().map(|r| r.cells.clone()).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

fn kinds(doc: &Document) -> Vec<ProblemKind> {
    doc.problems.iter().map(|p| p.kind).collect()
}

fn row_rects(x: &[f32], y: f32) -> Vec<[f32; 4]> {
    x.iter().map(|x| [*x, y, x + 12.0, y + 12.0]).collect()
}

#[test]
fn radio_groups_read_their_export_values_and_options() {
    let mut b = Builder::new();
    let page = b.page("BT /F1 9 Tf 40 700 Td (DASH) Tj ET");
    let r = row_rects(&[360.0, 388.0, 416.0], 690.0);
    b.radio(page, "q01", Some("Yes"), &[("Yes", r[0]), ("No", r[1]), ("DK", r[2])]);
    let r = row_rects(&[360.0, 388.0], 660.0);
    // No /V: the selected widget's /AS decides.
    let q2 = b.radio(page, "q02", None, &[("Y", r[0]), ("N", r[1])]);
    if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(q2) {
        d.remove(b"V");
    }
    let kids = b.doc.get_dictionary(q2).unwrap().get(b"Kids").unwrap().as_array().unwrap().clone();
    if let Ok(Object::Dictionary(w)) = b.doc.get_object_mut(kids[1].as_reference().unwrap()) {
        w.set("AS", name("N"));
    }
    let r = row_rects(&[360.0], 630.0);
    b.radio(page, "q03", Some("Off"), &[("On", r[0])]);
    // A custom export value whose name has a #E9 escape (é in Latin-1) and a space (#20).
    let r = row_rects(&[360.0, 388.0], 600.0);
    b.radio(page, "q04", Some("Oui\u{e9} tout"), &[("Oui\u{e9} tout", r[0]), ("Non", r[1])]);
    // lopdf writes names with #xx escapes; make the name bytes Latin-1 as real files have them.
    let q4 = b.fields.last().unwrap().as_reference().unwrap();
    let latin1 = b"Oui\xE9 tout".to_vec();
    if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(q4) {
        d.set("V", Object::Name(latin1.clone()));
    }
    let kids = b.doc.get_dictionary(q4).unwrap().get(b"Kids").unwrap().as_array().unwrap().clone();
    let w0 = kids[0].as_reference().unwrap();
    let ap = b.doc.add_object(Stream::new(Dictionary::new(), Vec::new()));
    if let Ok(Object::Dictionary(w)) = b.doc.get_object_mut(w0) {
        let mut n = Dictionary::new();
        n.set("Off", ap);
        n.set(latin1.clone(), ap);
        w.set("AP", dictionary! { "N" => n });
        w.set("AS", Object::Name(latin1));
    }

    let doc = read_default(&b.finish());
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    let q1 = field(&doc, "q01");
    assert_eq!(q1.kind, FieldKind::Radio);
    assert_eq!(q1.value.as_deref(), Some("Yes"));
    assert_eq!(q1.options, ["Yes", "No", "DK"]);
    assert_eq!(q1.at, "page 1");
    let q2 = field(&doc, "q02");
    assert_eq!(q2.value.as_deref(), Some("N"));
    assert_eq!(q2.options, ["Y", "N"]);
    let q3 = field(&doc, "q03");
    assert_eq!(q3.value, None);
    assert_eq!(q3.options, ["On"]);
    let q4 = field(&doc, "q04");
    assert_eq!(q4.value.as_deref(), Some("Ouié tout"));
    assert_eq!(q4.options, ["Ouié tout", "Non"]);
}

#[test]
fn checkbox_pairs_per_question() {
    let mut b = Builder::new();
    let page = b.page("");
    for (t, on) in [("q1_yes", true), ("q1_no", false), ("q2_yes", false), ("q2_no", true)] {
        let w = b.widget(page, [300.0, 700.0, 310.0, 710.0], "Yes", if on { "Yes" } else { "Off" });
        let mut d = dictionary! { "FT" => "Btn", "T" => string(t), "V" => name(if on { "Yes" } else { "Off" }) };
        // Merge the widget into the field, as many producers do: one dictionary for both.
        for (k, v) in b.doc.get_dictionary(w).unwrap().iter() {
            d.set(k.clone(), v.clone());
        }
        b.doc.objects.remove(&w);
        let id = b.doc.add_object(d);
        b.fields.push(Object::Reference(id));
        b.add_annot(page, id);
    }
    let doc = read_default(&b.finish());
    let values: Vec<(&str, FieldKind, Option<&str>)> =
        doc.fields.iter().map(|f| (f.name.as_str(), f.kind, f.value.as_deref())).collect();
    assert_eq!(
        values,
        [
            ("q1_yes", FieldKind::Checkbox, Some("Yes")),
            ("q1_no", FieldKind::Checkbox, None),
            ("q2_yes", FieldKind::Checkbox, None),
            ("q2_no", FieldKind::Checkbox, Some("Yes")),
        ]
    );
    assert!(doc.fields.iter().all(|f| f.options == ["Yes"] && f.at == "page 1"));
}

#[test]
fn hierarchical_names_inherit_type_flags_and_value() {
    let mut b = Builder::new();
    let page = b.page("");
    let r = row_rects(&[360.0, 388.0], 700.0);
    let w1 = b.widget(page, r[0], "Yes", "Off");
    let w2 = b.widget(page, r[1], "No", "No");
    let q1 = b.doc.add_object(dictionary! {
        "T" => string("q1"),
        "TU" => string("Has the current incident resulted in injury?"),
        "V" => name("No"),
        "Kids" => vec![w1.into(), w2.into()],
    });
    let comments = b.doc.add_object(dictionary! {
        "T" => string("comments"),
        "FT" => "Tx",
        "V" => Object::String(lopdf::text_string("Zoë Ó'Brien").as_str().unwrap().to_vec(), StringFormat::Hexadecimal),
        "Rect" => rect([450.0, 700.0, 550.0, 712.0]),
        "Subtype" => "Widget",
    });
    b.add_annot(page, comments);
    let dash = b.field(dictionary! { "T" => string("dash"), "FT" => "Btn", "Ff" => 1i64 << 15 }, &[q1, comments]);
    for (kid, parent) in [(w1, q1), (w2, q1)] {
        if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(kid) {
            d.set("Parent", parent);
        }
    }
    if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(q1) {
        d.set("Parent", dash);
    }
    let doc = read_default(&b.finish());
    assert_eq!(doc.fields.len(), 2, "{:#?}", doc.fields);
    let q1 = field(&doc, "dash.q1");
    assert_eq!(q1.kind, FieldKind::Radio);
    assert_eq!(q1.value.as_deref(), Some("No"));
    assert_eq!(q1.label.as_deref(), Some("Has the current incident resulted in injury?"));
    assert_eq!(q1.options, ["Yes", "No"]);
    let c = field(&doc, "dash.comments");
    assert_eq!(c.kind, FieldKind::Text);
    assert_eq!(c.value.as_deref(), Some("Zoë Ó'Brien"));
    assert_eq!(c.label, None);
}

#[test]
fn context_is_the_question_text_left_of_the_widgets() {
    let mut b = Builder::new();
    let page = b.page(
        "BT /F1 8 Tf 1 0 0 1 42 700 Tm (1) Tj ET
         BT /F1 8 Tf 1 0 0 1 65 700 Tm (Has the current incident resulted in injury?) Tj ET
         BT /F1 8 Tf 1 0 0 1 65 690 Tm (\\(Say what the injury is.\\)) Tj ET
         BT /F1 8 Tf 1 0 0 1 375 700 Tm (Yes) Tj ET
         BT /F1 8 Tf 1 0 0 1 65 660 Tm (Are you very frightened?) Tj ET",
    );
    let r = row_rects(&[360.0, 388.0, 416.0], 697.0);
    b.radio(page, "q01", Some("Yes"), &[("Yes", r[0]), ("No", r[1]), ("DK", r[2])]);
    let r = row_rects(&[360.0, 388.0, 416.0], 620.0);
    b.radio(page, "q02", None, &[("Yes", r[0]), ("No", r[1]), ("DK", r[2])]);
    let doc = read_default(&b.finish());
    assert_eq!(field(&doc, "q01").context.as_deref(), Some("1 Has the current incident resulted in injury?"));
    assert_eq!(field(&doc, "q02").context, None);
    assert_eq!(field(&doc, "q02").value, None);
}

#[test]
fn flattened_table_comes_out_as_rows_and_cells() {
    let mut b = Builder::new();
    b.page(
        "BT /F1 8 Tf
         1 0 0 1 40 700 Tm (No.) Tj 1 0 0 1 65 700 Tm (Question) Tj 1 0 0 1 360 700 Tm (Answer) Tj 1 0 0 1 445 700 Tm (Comments) Tj
         1 0 0 1 42 680 Tm (1) Tj 1 0 0 1 65 680 Tm (Has the current incident resulted in injury?) Tj
         1 0 0 1 360 680 Tm (Yes) Tj 1 0 0 1 445 680 Tm (comment) Tj
         1 0 0 1 42 660 Tm (2) Tj 1 0 0 1 65 660 Tm [(Are) -250 (you very) -20 ( frigh) 10 (tened?)] TJ
         1 0 0 1 360 660.8 Tm [(No) -9000 (Bruises to arm)] TJ
         ET",
    );
    let doc = read_default(&b.finish());
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    assert_eq!(
        rows(&doc, 1),
        [
            vec!["No.", "Question", "Answer", "Comments"],
            vec!["1", "Has the current incident resulted in injury?", "Yes", "comment"],
            vec!["2", "Are you very frightened?", "No", "Bruises to arm"],
        ]
    );
}

#[test]
fn text_in_form_xobjects_counts_and_cycles_are_cut() {
    let mut b = Builder::new();
    let font = b.font_id;
    let form_id = b.doc.new_object_id();
    let form = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 500.into(), 100.into()],
            "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 100.into(), 0.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Fm" => form_id } },
        },
        b"BT /F1 10 Tf 1 0 0 1 0 50 Tm (Inside the form) Tj ET /Fm Do".to_vec(),
    );
    b.doc.objects.insert(form_id, Object::Stream(form));
    let mut resources = b.resources();
    resources.set("XObject", dictionary! { "Fm" => form_id });
    b.page_with(b"q 1 0 0 1 0 600 cm /Fm Do Q BT /F1 10 Tf 1 0 0 1 100 500 Tm (Below) Tj ET".to_vec(), resources);
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Inside the form"], vec!["Below"]]);
}

#[test]
fn type0_font_with_to_unicode_decodes() {
    let mut b = Builder::new();
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0001> <005A> <0002> <006F> endbfchar
1 beginbfrange <0003> <0004> [<00EB> <0020>] endbfrange
endcmap end end";
    let to_unicode = b.doc.add_object(Stream::new(Dictionary::new(), cmap.to_vec()));
    let descendant = b.doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "ABCDEF+Arial",
        "DW" => 600, "W" => vec![1.into(), vec![611.into(), 556.into()].into()],
    });
    let font = b.doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "ABCDEF+Arial", "Encoding" => "Identity-H",
        "DescendantFonts" => vec![descendant.into()], "ToUnicode" => to_unicode,
    });
    b.page_with(
        b"BT /F2 12 Tf 1 0 0 1 50 700 Tm <0001000200030004> Tj ET".to_vec(),
        dictionary! { "Font" => dictionary! { "F2" => font } },
    );
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Zoë"]]);
}

#[test]
fn image_only_pdf_is_scanned() {
    let mut b = Builder::new();
    let image = b.doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        vec![0x80],
    ));
    b.page_with(
        b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(),
        dictionary! { "XObject" => dictionary! { "Im0" => image } },
    );
    let doc = read_default(&b.finish());
    assert!(doc.is_empty());
    assert_eq!(kinds(&doc), [ProblemKind::Scanned]);
    assert_eq!(doc.problems[0].detail, "no text layer: scanned or image-only");
}

#[test]
fn encrypt_entry_that_cannot_be_decrypted_is_encrypted() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Secret) Tj ET");
    let encrypt = b.doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 2, "R" => 3, "Length" => 128, "P" => -3904,
        "O" => Object::String(vec![0x11; 32], StringFormat::Hexadecimal),
        "U" => Object::String(vec![0x22; 32], StringFormat::Hexadecimal),
    });
    b.doc.trailer.set("Encrypt", encrypt);
    b.doc.trailer.set("ID", vec![Object::String(vec![1; 16], StringFormat::Hexadecimal); 2]);
    let doc = read_default(&b.finish());
    assert!(doc.is_empty());
    assert_eq!(kinds(&doc), [ProblemKind::Encrypted]);
}

#[test]
fn garbage_is_corrupt() {
    let doc = read_default(b"this is not a PDF at all, just some text that was attached\n");
    assert_eq!(kinds(&doc), [ProblemKind::Corrupt]);
    let doc = read_default(&[0u8; 0]);
    assert_eq!(kinds(&doc), [ProblemKind::Corrupt]);
    let doc = read_default(b"%PDF-1.4\n\x00\x01\x02 garbage garbage\n");
    assert!(doc.is_empty());
    assert!(matches!(kinds(&doc).as_slice(), [ProblemKind::Corrupt] | [ProblemKind::Truncated]), "{:?}", doc.problems);
}

#[test]
fn truncated_file_is_reported() {
    let mut b = Builder::new();
    for i in 0..6 {
        b.page(&format!("BT /F1 10 Tf 50 700 Td (Page {i} of the checklist) Tj ET"));
    }
    let bytes = b.finish();
    let cut = &bytes[..bytes.len() * 2 / 3];
    let doc = read_default(cut);
    assert!(kinds(&doc).contains(&ProblemKind::Truncated), "{:?}", doc.problems);
    // Whatever was recovered is still returned.
    let doc = read_default(&bytes[..bytes.len() - 40]);
    assert!(kinds(&doc).contains(&ProblemKind::Truncated), "{:?}", doc.problems);
}

#[test]
fn page_limit_reads_the_first_pages_and_says_so() {
    let mut b = Builder::new();
    for i in 1..=3 {
        b.page(&format!("BT /F1 10 Tf 50 700 Td (Page {i}) Tj ET"));
    }
    let limits = Limits { max_pdf_pages: 2, ..Limits::default() };
    let doc = read(&b.finish(), &limits, Deadline::after(Duration::from_secs(30), std::time::Instant::now));
    assert_eq!(doc.blocks.len(), 2);
    assert_eq!(rows(&doc, 2), [vec!["Page 2"]]);
    assert_eq!(kinds(&doc), [ProblemKind::LimitExceeded]);
}

#[test]
fn field_tree_cycles_and_depth_are_bounded() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Form) Tj ET");
    // A field whose kid is itself, and a chain deeper than the limit.
    let looped = b.doc.new_object_id();
    b.doc.objects.insert(
        looped,
        Object::Dictionary(dictionary! { "T" => string("loop"), "FT" => "Tx", "Kids" => vec![looped.into()] }),
    );
    b.fields.push(looped.into());
    let mut child: Option<ObjectId> = None;
    for i in 0..40 {
        let mut d = dictionary! { "T" => string(&format!("n{i}")), "FT" => "Tx" };
        match child {
            Some(c) => d.set("Kids", vec![c.into()]),
            None => d.set("V", string("deep")),
        }
        child = Some(b.doc.add_object(d));
    }
    b.fields.push(child.unwrap().into());
    let doc = read_default(&b.finish());
    assert!(kinds(&doc).contains(&ProblemKind::LimitExceeded), "{:?}", doc.problems);
    assert!(doc.fields.iter().all(|f| f.name.len() < 400));
}

#[test]
fn xfa_without_fields_is_unsupported() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Please wait...) Tj ET");
    let xfa = b.doc.add_object(Stream::new(Dictionary::new(), b"<xdp:xdp/>".to_vec()));
    b.acroform.set("XFA", xfa);
    let doc = read_default(&b.finish());
    assert_eq!(kinds(&doc), [ProblemKind::Unsupported]);
    assert_eq!(rows(&doc, 1), [vec!["Please wait..."]]);
}

#[test]
fn expired_deadline_is_a_timeout() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Text) Tj ET");
    let doc = read(&b.finish(), &Limits::default(), Deadline::after(Duration::ZERO, std::time::Instant::now));
    assert!(kinds(&doc).contains(&ProblemKind::Timeout), "{:?}", doc.problems);
}

#[test]
fn widget_page_found_through_annots_and_zapf_dingbats_ticks() {
    let mut b = Builder::new();
    b.page("");
    let zapf = b.doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "ZapfDingbats" });
    let mut resources = b.resources();
    resources.set("Font", dictionary! { "F1" => b.font_id, "ZaDb" => zapf });
    let page2 = b.page_with(
        b"BT /ZaDb 10 Tf 1 0 0 1 50 700 Tm (4) Tj /F1 10 Tf 1 0 0 1 62 700 Tm (Yes) Tj ET".to_vec(),
        resources,
    );
    let w = b.widget(page2, [300.0, 700.0, 310.0, 710.0], "On", "On");
    if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(w) {
        d.remove(b"P");
    }
    b.field(dictionary! { "FT" => "Btn", "T" => string("agree") }, &[w]);
    let doc = read_default(&b.finish());
    let agree = field(&doc, "agree");
    assert_eq!(agree.at, "page 2");
    assert_eq!(agree.value.as_deref(), Some("On"));
    assert_eq!(agree.context.as_deref(), Some(format!("{CHECKED} Yes").as_str()));
}

#[test]
fn rotated_page_reads_left_to_right() {
    let mut b = Builder::new();
    // Text drawn upwards in user space reads left to right on a page shown rotated 90°.
    let page = b.page("BT /F1 10 Tf 0 1 -1 0 300 100 Tm (Rotated) Tj 0 1 -1 0 300 200 Tm (line) Tj ET");
    if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(page) {
        d.set("Rotate", 90);
    }
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Rotated", "line"]]);
}

#[test]
fn widgets_listed_in_fields_under_an_unlisted_parent_join_their_parent() {
    let mut b = Builder::new();
    let page = b.page("");
    let parent = b.doc.add_object(dictionary! {
        "FT" => "Btn", "Ff" => 1i64 << 15, "T" => string("veg"), "V" => name("Potato"),
    });
    for (state, y) in [("Carrot", 700.0), ("Potato", 680.0)] {
        let w = b.widget(page, [300.0, y, 310.0, y + 10.0], state, "Off");
        if let Ok(Object::Dictionary(d)) = b.doc.get_object_mut(w) {
            d.set("Parent", parent);
        }
        b.fields.push(w.into());
    }
    let doc = read_default(&b.finish());
    assert_eq!(doc.fields.len(), 1, "{:#?}", doc.fields);
    let veg = field(&doc, "veg");
    assert_eq!(veg.kind, FieldKind::Radio);
    assert_eq!(veg.value.as_deref(), Some("Potato"));
    assert_eq!(veg.options, ["Carrot", "Potato"]);
}

#[test]
fn an_inherited_value_copied_into_many_fields_is_bounded() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Form) Tj ET");
    let big = "x".repeat(60 * 1024);
    let kids: Vec<ObjectId> = (0..400)
        .map(|i| {
            b.doc.add_object(dictionary! { "T" => string(&format!("k{i}")), "Rect" => rect([0.0, 0.0, 1.0, 1.0]) })
        })
        .collect();
    b.field(dictionary! { "T" => string("big"), "FT" => "Tx", "V" => string(&big) }, &kids);
    let doc = read_default(&b.finish());
    assert!(kinds(&doc).contains(&ProblemKind::LimitExceeded), "{:?}", doc.problems);
    assert!(doc.fields.len() < 400 && doc.fields.len() > 100, "{}", doc.fields.len());
    assert!(doc.problems.iter().all(|p| !p.detail.contains("xxxx")));
}

#[test]
fn forms_painting_forms_twice_per_level_are_capped() {
    // Level k paints level k+1 twice: 2^30 paintings without a cap.
    let mut b = Builder::new();
    let font = b.font_id;
    let ids: Vec<ObjectId> = (0..30).map(|_| b.doc.new_object_id()).collect();
    for (k, id) in ids.iter().enumerate() {
        let (content, xobjects) = match ids.get(k + 1) {
            Some(next) => (b"/N Do /N Do".to_vec(), dictionary! { "N" => *next }),
            None => (b"BT /F1 10 Tf 50 700 Td (leaf) Tj ET".to_vec(), Dictionary::new()),
        };
        let form = Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Form",
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => xobjects } },
            content,
        );
        b.doc.objects.insert(*id, Object::Stream(form));
    }
    let mut resources = b.resources();
    resources.set("XObject", dictionary! { "F0" => ids[0] });
    b.page_with(b"/F0 Do".to_vec(), resources);
    let started = std::time::Instant::now();
    let doc = read_default(&b.finish());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(kinds(&doc).contains(&ProblemKind::LimitExceeded), "{:?}", doc.problems);
}

#[test]
fn to_unicode_range_over_every_code_is_not_expanded() {
    // lopdf's own ToUnicode reader walks such a range code by code.
    let mut b = Builder::new();
    let cmap = b"1 begincodespacerange <00000000> <FFFFFFFF> endcodespacerange
1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange";
    let to_unicode = b.doc.add_object(Stream::new(Dictionary::new(), cmap.to_vec()));
    let encoding = b.doc.add_object(Stream::new(Dictionary::new(), cmap.to_vec()));
    let font = b.doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "Bomb", "ToUnicode" => to_unicode,
        "Encoding" => encoding,
    });
    b.page_with(
        b"BT /F9 10 Tf 50 700 Td <0000000000000001> Tj ET".to_vec(),
        dictionary! { "Font" => dictionary! { "F9" => font } },
    );
    let started = std::time::Instant::now();
    let doc = read_default(&b.finish());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(rows(&doc, 1), [vec!["AB"]]);
}

#[test]
fn simple_font_with_a_huge_to_unicode_range_does_not_reach_lopdfs_reader() {
    let mut b = Builder::new();
    let cmap = b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange";
    let to_unicode = b.doc.add_object(Stream::new(Dictionary::new(), cmap.to_vec()));
    for encoding in ["WinAnsiEncoding", "Identity-H"] {
        let font = b.doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "Arial", "ToUnicode" => to_unicode,
            "Encoding" => encoding,
        });
        b.page_with(
            b"BT /F9 10 Tf 50 700 Td (Hi) Tj ET".to_vec(),
            dictionary! { "Font" => dictionary! { "F9" => font } },
        );
    }
    let started = std::time::Instant::now();
    let doc = read_default(&b.finish());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(rows(&doc, 1), [vec!["Hi"]]);
}

#[test]
fn page_tree_with_a_cycle_and_a_lying_count_ends() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Only page) Tj ET");
    let bytes = b.finish();
    let mut doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages_id = doc.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap();
    if let Ok(Object::Dictionary(pages)) = doc.get_object_mut(pages_id) {
        let mut kids = pages.get(b"Kids").unwrap().as_array().unwrap().clone();
        kids.push(Object::Reference(pages_id));
        pages.set("Kids", kids);
        pages.set("Count", 213_804_087);
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    let doc = read_default(&out);
    assert_eq!(rows(&doc, 1), [vec!["Only page"]]);
}

#[test]
fn unbalanced_graphics_state_saves_are_bounded() {
    let mut b = Builder::new();
    let mut content = "q ".repeat(100_000);
    content.push_str("BT /F1 10 Tf 50 700 Td (Deep) Tj ET ");
    content.push_str(&"Q ".repeat(200_000));
    content.push_str("BT /F1 10 Tf 50 600 Td (After) Tj ET");
    b.page(&content);
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Deep"], vec!["After"]]);
    let limits: Vec<_> = doc.problems.iter().filter(|p| p.kind == ProblemKind::LimitExceeded).collect();
    assert_eq!(limits.len(), 1, "one problem for the saves past the stack: {:?}", doc.problems);
    assert!(limits[0].detail.contains("graphics states nest deeper than 256"), "{}", limits[0].detail);
}

#[test]
fn balanced_graphics_state_saves_within_the_stack_are_no_problem() {
    let mut b = Builder::new();
    let content = format!("{}BT /F1 10 Tf 50 700 Td (Deep) Tj ET {}", "q ".repeat(256), "Q ".repeat(256));
    b.page(&content);
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Deep"]]);
    assert!(doc.problems.iter().all(|p| p.kind != ProblemKind::LimitExceeded), "{:?}", doc.problems);
}

#[test]
fn a_scanned_page_among_text_pages_is_reported() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Referral form) Tj ET");
    let image = b.doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        vec![0x80],
    ));
    b.page_with(
        b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(),
        dictionary! { "XObject" => dictionary! { "Im0" => image } },
    );
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Referral form"]]);
    assert_eq!(kinds(&doc), [ProblemKind::Scanned]);
    assert_eq!(doc.problems[0].detail, "1 of 2 pages have no text layer: scanned or image-only (page 2)");
}

#[test]
fn encrypted_with_an_empty_user_password_is_read_and_with_a_password_is_not() {
    let build = || {
        let mut b = Builder::new();
        let page = b.page("BT /F1 10 Tf 50 700 Td (Victim name:) Tj ET");
        let w = b.widget(page, [150.0, 696.0, 300.0, 712.0], "On", "Off");
        b.field(dictionary! { "FT" => "Tx", "T" => string("victim_name"), "V" => string("Claire") }, &[w]);
        b
    };
    let doc = read_default(&build().finish_encrypted(""));
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    assert_eq!(rows(&doc, 1), [vec!["Victim name:"]]);
    let name = field(&doc, "victim_name");
    assert_eq!(name.value.as_deref(), Some("Claire"));
    assert_eq!(name.context.as_deref(), Some("Victim name:"));

    let doc = read_default(&build().finish_encrypted("user secret"));
    assert!(doc.is_empty());
    assert_eq!(kinds(&doc), [ProblemKind::Encrypted]);
}

#[test]
fn mutated_pdfs_never_panic() {
    // Deterministic damage to a small form: flipped bytes, cuts, deletions and copied chunks.
    let mut b = Builder::new();
    let page = b.page(
        "q 1 0 0 1 0 0 cm BT /F1 8 Tf 1 0 0 1 42 700 Tm (1) Tj 1 0 0 1 65 700 Tm [(Has the) -250 (incident)] TJ ET Q",
    );
    let r = row_rects(&[360.0, 388.0, 416.0], 697.0);
    b.radio(page, "q01", Some("Yes"), &[("Yes", r[0]), ("No", r[1]), ("DK", r[2])]);
    let seed = b.finish();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pick = |n: u64, len: usize| (n % len.max(1) as u64) as usize;
    for _ in 0..400 {
        let mut m = seed.clone();
        for _ in 0..1 + next() % 6 {
            let pos = pick(next(), m.len());
            match next() % 4 {
                0 => {
                    if let Some(byte) = m.get_mut(pos) {
                        *byte = next() as u8;
                    }
                }
                1 => m.truncate(pos.max(16)),
                2 => {
                    let end = (pos + pick(next(), 64)).min(m.len());
                    m.drain(pos..end);
                }
                _ => {
                    let from = pick(next(), m.len());
                    let chunk: Vec<u8> = m.iter().skip(from).take(pick(next(), 200)).copied().collect();
                    m.splice(pos..pos, chunk);
                }
            }
        }
        let doc = std::panic::catch_unwind(|| read_default(&m));
        let doc = doc.unwrap_or_else(|_| panic!("reader panicked on a mutated PDF"));
        assert!(!doc.is_empty() || !doc.problems.is_empty());
    }
}

#[test]
fn damaged_content_stream_keeps_what_came_before_and_says_so() {
    let mut b = Builder::new();
    b.page("BT /F1 10 Tf 50 700 Td (Before) Tj ET } ) BT /F1 10 Tf 50 600 Td (After) Tj ET");
    let doc = read_default(&b.finish());
    assert_eq!(rows(&doc, 1), [vec!["Before"]]);
    assert_eq!(kinds(&doc), [ProblemKind::Corrupt]);
}

/// A text field `t` with value `v` and one widget at `r` on `page`.
fn text_field(b: &mut Builder, page: ObjectId, t: &str, v: &str, r: [f32; 4]) {
    let w = b.widget(page, r, "On", "Off");
    b.field(dictionary! { "FT" => "Tx", "T" => string(t), "V" => string(v) }, &[w]);
}

#[test]
fn heading_is_the_section_line_above_the_widget_not_a_label() {
    // Victim details: labels left of the boxes; Alleged perpetrator: labels above the boxes,
    // two rows of them; then a second page with no heading at all.
    let mut b = Builder::new();
    let page = b.page(
        "BT /F1 12 Tf 1 0 0 1 42 780 Tm (3. Victim details) Tj ET
         BT /F1 9 Tf 1 0 0 1 42 760 Tm (Surname) Tj ET
         BT /F1 9 Tf 1 0 0 1 42 740 Tm (Forename\\(s\\)) Tj ET
         BT /F1 12 Tf 1 0 0 1 42 700 Tm (4. Alleged perpetrator) Tj ET
         BT /F1 9 Tf 1 0 0 1 42 680 Tm (Full name) Tj ET
         BT /F1 9 Tf 1 0 0 1 300 680 Tm (Date of birth) Tj ET
         BT /F1 9 Tf 1 0 0 1 42 650 Tm (Address) Tj ET",
    );
    text_field(&mut b, page, "Text1", "Hollins", [150.0, 756.0, 400.0, 770.0]);
    text_field(&mut b, page, "Text2", "Rebecca", [150.0, 736.0, 400.0, 750.0]);
    text_field(&mut b, page, "Text3", "Darren Hollins", [42.0, 664.0, 280.0, 678.0]);
    text_field(&mut b, page, "Text4", "14/11/1988", [300.0, 664.0, 500.0, 678.0]);
    text_field(&mut b, page, "Text5", "No fixed abode", [42.0, 634.0, 280.0, 648.0]);
    let blank = b.page("BT /F1 9 Tf 1 0 0 1 42 760 Tm (Notes) Tj ET");
    text_field(&mut b, blank, "Text6", "", [150.0, 756.0, 400.0, 770.0]);
    let doc = read_default(&b.finish());
    let heading = |name: &str| field(&doc, name).heading.clone();
    assert_eq!(heading("Text1").as_deref(), Some("3. Victim details"));
    assert_eq!(heading("Text2").as_deref(), Some("3. Victim details"));
    assert_eq!(field(&doc, "Text2").context.as_deref(), Some("Forename(s)"));
    // "Full name" / "Date of birth" / "Address" are labels above boxes, not headings.
    assert_eq!(heading("Text3").as_deref(), Some("4. Alleged perpetrator"));
    assert_eq!(heading("Text4").as_deref(), Some("4. Alleged perpetrator"));
    assert_eq!(heading("Text5").as_deref(), Some("4. Alleged perpetrator"));
    // A box with nothing left of it is labelled by the line just above it, across its width.
    assert_eq!(field(&doc, "Text3").context.as_deref(), Some("Full name"));
    assert_eq!(field(&doc, "Text4").context.as_deref(), Some("Date of birth"));
    assert_eq!(field(&doc, "Text5").context.as_deref(), Some("Address"));
    // "Notes" is beside the box (a label), and nothing is above it: no heading.
    assert_eq!(heading("Text6"), None);
}

#[test]
fn button_widgets_carry_their_own_export_value_and_place_across_the_page() {
    // A radio group with Acrobat's bare choice numbers under a printed Yes / No / Don't know
    // header: the recogniser needs each widget's export value and where it sits.
    let mut b = Builder::new();
    let page = b.page(
        "BT /F1 8 Tf 1 0 0 1 358 720 Tm (Yes) Tj ET
         BT /F1 8 Tf 1 0 0 1 388 720 Tm (No) Tj ET
         BT /F1 8 Tf 1 0 0 1 414 720 Tm (Don't know) Tj ET
         BT /F1 8 Tf 1 0 0 1 65 700 Tm (Has the current incident resulted in injury?) Tj ET",
    );
    let r = row_rects(&[360.0, 388.0, 416.0], 697.0);
    b.radio(page, "q01", Some("2"), &[("1", r[0]), ("2", r[1]), ("3", r[2])]);
    let doc = read_default(&b.finish());
    let q1 = field(&doc, "q01");
    let exports: Vec<Option<&str>> = q1.widgets.iter().map(|w| w.export.as_deref()).collect();
    assert_eq!(exports, [Some("1"), Some("2"), Some("3")]);
    let Some(Block::Table(t)) = doc.blocks.first() else { panic!("no table: {doc:#?}") };
    let header = &t.rows[0];
    assert_eq!(header.cells, ["Yes", "No", "Don't know"]);
    for (w, span) in q1.widgets.iter().zip(&header.spans) {
        let middle = (w.x[0] + w.x[1]) / 2.0;
        assert!(middle >= span[0] - 6.0 && middle <= span[1] + 6.0, "widget {:?} not under header {:?}", w.x, span);
    }
    // A text field has no widget boxes to carry.
    assert!(doc.fields.iter().all(|f| f.kind != FieldKind::Text || f.widgets.is_empty()));
}

/// A page whose content stream is compressed and decompresses to `size` bytes: its text, then
/// spaces.
fn padded_page(b: &mut Builder, text: &str, size: usize) {
    let mut content = format!("BT /F1 10 Tf 50 700 Td ({text}) Tj ET\n").into_bytes();
    content.resize(size, b' ');
    let mut stream = Stream::new(Dictionary::new(), content);
    stream.compress().expect("test stream compresses");
    let content_id = b.doc.add_object(stream);
    let id = b.doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => b.pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => b.resources(),
    });
    b.pages.push(id);
}

#[test]
fn decompressed_bytes_are_one_budget_for_the_whole_document_not_one_per_page() {
    // Each page decompresses to just under the limit, which used to be granted afresh per page.
    let limit = 256 * 1024;
    let mut b = Builder::new();
    for i in 1..=6 {
        padded_page(&mut b, &format!("Page {i}"), limit - 1024);
    }
    let bytes = b.finish();
    assert!(bytes.len() < limit, "the file itself is small: {} bytes", bytes.len());
    let limits = Limits { max_decompressed_bytes: limit as u64, ..Limits::default() };
    let doc = read(&bytes, &limits, Deadline::after(Duration::from_secs(30), std::time::Instant::now));
    // The first page fits; the second would pass the document's total and stops the reading.
    assert_eq!(rows(&doc, 1), [vec!["Page 1"]]);
    assert_eq!(doc.blocks.len(), 1, "{:?}", doc.blocks);
    let limit_problems: Vec<&str> =
        doc.problems.iter().filter(|p| p.kind == ProblemKind::LimitExceeded).map(|p| p.detail.as_str()).collect();
    assert_eq!(limit_problems, ["the PDF decompresses to more than 256 KB in all: reading stopped on page 2 of 6"]);

    // With room for all of them, all are read and nothing is said.
    let roomy = Limits { max_decompressed_bytes: 6 * limit as u64, ..Limits::default() };
    let doc = read(&bytes, &roomy, Deadline::after(Duration::from_secs(30), std::time::Instant::now));
    assert_eq!(doc.blocks.len(), 6);
    assert_eq!(rows(&doc, 6), [vec!["Page 6"]]);
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
}

/// A one-page PDF written with object streams, holding `annots` link annotations on its page.
fn object_stream_pdf(annots: usize) -> Vec<u8> {
    let mut b = Builder::new();
    let page = b.page("BT /F1 10 Tf 50 700 Td (Hello) Tj ET");
    for i in 0..annots {
        let annot = b.doc.add_object(dictionary! {
            "Type" => "Annot",
            "Subtype" => "Link",
            "StructParent" => i as i64,
            "Rect" => rect([42.0, 746.0, 44.0, 750.0]),
            "QuadPoints" => rect([42.0, 749.75, 43.3375, 749.75]),
            "A" => dictionary! { "Type" => "Action", "S" => "URI", "URI" => string("https://example.com/") },
        });
        b.add_annot(page, annot);
    }
    let plain = b.finish();
    let mut doc = lopdf::Document::load_mem(&plain).expect("test PDF reloads");
    let mut bytes = Vec::new();
    doc.save_modern(&mut bytes).expect("test PDF is written with object streams");
    bytes
}

#[test]
fn objects_in_object_streams_are_read() {
    let bytes = object_stream_pdf(20);
    assert!(crate::sniff::find(&bytes, b"/ObjStm").is_some(), "the test PDF has object streams");
    let doc = read_default(&bytes);
    assert_eq!(rows(&doc, 1), [vec!["Hello"]]);
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
}

#[test]
fn many_small_objects_in_an_object_stream_are_refused_before_they_are_parsed() {
    // The shape of pdfjs-bug1978317.pdf: a small file whose object streams hold thousands of
    // small dictionaries, each many times its text once parsed.
    let bytes = object_stream_pdf(3_000);
    let limits = Limits { max_pdf_object_bytes: 1024 * 1024, ..Limits::default() };
    let doc = read(&bytes, &limits, Deadline::after(Duration::from_secs(30), std::time::Instant::now));
    assert!(doc.blocks.is_empty() && doc.fields.is_empty());
    assert_eq!(doc.problems.len(), 1, "{:?}", doc.problems);
    assert_eq!(doc.problems[0].kind, ProblemKind::LimitExceeded);
    assert_eq!(doc.problems[0].detail, "PDF's objects would take more than 1 MB in memory once parsed: it was not read");

    let limits = Limits { max_pdf_objects: 1_000, ..Limits::default() };
    let doc = read(&bytes, &limits, Deadline::after(Duration::from_secs(30), std::time::Instant::now));
    assert_eq!(doc.problems[0].detail, "PDF has more than 1000 objects: it was not read");

    // The same file within the default budget is read.
    let doc = read_default(&bytes);
    assert_eq!(rows(&doc, 1), [vec!["Hello"]]);
}
