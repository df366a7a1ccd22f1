//! Glyph names as text, outside any font: `uniXXXX`, `uXXXX`, and the names of the Adobe glyph
//! list that lopdf knows. Used by the fonts' `/Differences` and by the CMap reader, which may map
//! a code to a glyph name.

use lopdf::{Dictionary, Document, Encoding, Object};

/// Text for a glyph name outside any font: `uniXXXX`, `uXXXX`, and names lopdf knows.
pub(super) fn glyph_name_text(name: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(name).ok()?;
    if let Some(hex) = s.strip_prefix("uni").filter(|h| h.len() == 4) {
        return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).map(String::from);
    }
    if let Some(hex) = s.strip_prefix('u').filter(|h| (4..=6).contains(&h.len())) {
        if let Some(c) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            return Some(c.to_string());
        }
    }
    // Ask lopdf's glyph list through a one-entry /Differences.
    let mut encoding = Dictionary::new();
    encoding.set("Differences", Object::Array(vec![Object::Integer(65), Object::Name(name.to_vec())]));
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Encoding", Object::Dictionary(encoding));
    let empty = Document::new();
    match font.get_font_encoding(&empty) {
        Ok(enc @ Encoding::Differences(_)) => enc.bytes_to_string(&[65]).ok().filter(|t| !t.is_empty()),
        _ => None,
    }
}
