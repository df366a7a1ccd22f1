//! The text conventions of a paragraph, shared by the DOCX and OpenDocument readers: checkbox
//! glyphs and symbol-font characters become [`CHECKED`] / [`UNCHECKED`] marks, a finished
//! paragraph has one space between a mark and the text beside it, and a document with no text
//! says why.

use crate::document::{Problem, ProblemKind, CHECKED, UNCHECKED};

/// Characters a checkbox control displays for its state.
pub fn is_box_glyph(c: char) -> bool {
    matches!(c, '☐' | '☑' | '☒' | '⊠' | '□' | '■' | '✓' | '✔' | '✗' | '✘' | '\u{F000}'..='\u{F0FF}')
}

/// What a symbol character (`w:sym`, or a character in a symbol-font run) shows, as text:
/// box glyphs become checkbox marks; other symbol-font pictures are dropped.
pub fn symbol_glyph(font: &str, code: u32) -> Option<char> {
    let font = font.trim().to_ascii_lowercase();
    let low = if (0xF000..=0xF0FF).contains(&code) { code - 0xF000 } else { code };
    if font.starts_with("wingdings 2") {
        return match low {
            0x52..=0x54 => Some(CHECKED),
            0x2A | 0xA3 => Some(UNCHECKED),
            0x50 => Some('✓'),
            0x4F => Some('✗'),
            _ => None,
        };
    }
    if font.starts_with("wingdings") {
        return match low {
            0x78 | 0xFD | 0xFE => Some(CHECKED),
            0x6F | 0x71 | 0x72 | 0xA8 => Some(UNCHECKED),
            0xFC => Some('✓'),
            0xFB => Some('✗'),
            _ => None,
        };
    }
    match char::from_u32(code) {
        Some(c) if !('\u{E000}'..='\u{F8FF}').contains(&c) => Some(normalise_glyph(c)),
        _ => None,
    }
}

/// A ticked box is always [`CHECKED`].
fn normalise_glyph(c: char) -> char {
    match c {
        '☑' | '⊠' | '🗹' | '🗷' => CHECKED,
        c => c,
    }
}

/// Appends text with box glyphs normalised.
pub fn push_normalised(buf: &mut String, s: &str) {
    buf.extend(s.chars().map(normalise_glyph));
}

/// A finished paragraph: marks separated from adjacent text by one space, ends trimmed.
pub fn finish_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let is_mark = c == CHECKED || c == UNCHECKED;
        if is_mark && out.chars().next_back().is_some_and(|p| !p.is_whitespace()) {
            out.push(' ');
        }
        out.push(c);
        if is_mark && chars.peek().is_some_and(|n| !n.is_whitespace()) {
            out.push(' ');
        }
    }
    out.trim().to_string()
}

/// Why a document gave no text at all.
pub fn no_text_problem(saw_images: bool) -> Problem {
    if saw_images {
        Problem::new(ProblemKind::Scanned, "document has images but no text")
    } else {
        Problem::new(ProblemKind::Unrecognised, "document has no text")
    }
}
