//! Fonts: how the bytes of a shown string split into character codes, what text each code
//! stands for, and how far each glyph advances.
//!
//! Simple fonts (Type1, TrueType, Type3) decode through lopdf's [`Encoding`] machinery (base
//! encodings and `/Differences`), turned into a 256-entry table once per font. `/ToUnicode`
//! maps, which take precedence, go through the bounded reader in [`super::cmap`]. Widths come
//! from `/Widths` or `/W` when present, else from the metrics of the standard fonts, else from an
//! estimate; they only serve to place words, never to decide text.

use super::cmap::{CMap, Codespace};
use super::glyphs::glyph_name_text;
use super::object::{deref, number, stream_bytes};
use crate::limits::pdf::{MAX_CID_WIDTHS, MAX_CMAP_BYTES};
use crate::document::{CHECKED, UNCHECKED};
use lopdf::{Dictionary, Document, Encoding, Object};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    None,
    ZapfDingbats,
    Wingdings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metrics {
    Helvetica,
    HelveticaBold,
    Times,
    Courier,
    Unknown,
}

#[derive(Debug)]
enum CodeSplit {
    One,
    Two,
    Space(Vec<Codespace>, usize),
}

#[derive(Debug)]
enum Widths {
    None,
    Simple { first: u32, widths: Vec<f32>, missing: f32 },
    Cid { default: f32, single: HashMap<u32, f32>, ranges: Vec<(u32, u32, f32)> },
}

/// One font, ready to decode shown strings.
#[derive(Debug)]
pub(super) struct Font {
    split: CodeSplit,
    to_unicode: Option<CMap>,
    /// Text of each single-byte code, for simple fonts.
    table: Option<Vec<Option<Box<str>>>>,
    /// Codes are UTF-16BE (Type0 fonts with a predefined UCS-2 CMap).
    utf16: bool,
    symbol: Symbol,
    widths: Widths,
    /// Glyph space to text space: 0.001, or a Type3 font's FontMatrix.
    scale: f32,
    metrics: Metrics,
}

/// One glyph of a shown string.
pub(super) struct Glyph<'t> {
    /// The glyph's text, `None` when the font gives no way to know it.
    pub text: Option<&'t str>,
    /// Advance in text space for a font size of 1.
    pub width: f32,
    /// A single-byte code 32: word spacing (Tw) applies.
    pub word_space: bool,
}

impl Font {
    /// The font used when a page shows text without a usable font: WinAnsi, Helvetica metrics.
    pub fn fallback() -> Font {
        let table = Some(simple_table_from(&Encoding::SimpleEncoding(b"WinAnsiEncoding")));
        Font {
            split: CodeSplit::One,
            to_unicode: None,
            table,
            utf16: false,
            symbol: Symbol::None,
            widths: Widths::None,
            scale: 0.001,
            metrics: Metrics::Helvetica,
        }
    }

    /// Reads a font dictionary. Never fails: what cannot be read falls back to defaults.
    /// `budget` is the decompression allowance left for this document; it is charged here.
    pub fn load(doc: &Document, dict: &Dictionary, budget: &mut usize) -> Font {
        let subtype = name_of(doc, dict, b"Subtype").unwrap_or_default();
        let base_font = name_of(doc, dict, b"BaseFont").unwrap_or_default();
        let symbol = symbol_kind(&base_font);
        let to_unicode = deref(doc, dict.get(b"ToUnicode").ok())
            .and_then(|o| o.as_stream().ok())
            .and_then(|s| stream_bytes(s, MAX_CMAP_BYTES, budget).ok())
            .map(|bytes| CMap::parse(&bytes))
            .filter(|m| !m.is_empty());

        if subtype == b"Type0" {
            let encoding = deref(doc, dict.get(b"Encoding").ok());
            let (split, utf16) = match encoding {
                Some(Object::Name(n)) if n.starts_with(b"Identity") => (CodeSplit::Two, false),
                Some(Object::Name(n)) if contains(n, b"UCS2") || contains(n, b"UTF16") => (CodeSplit::Two, true),
                Some(Object::Stream(s)) => {
                    let cs = stream_bytes(s, MAX_CMAP_BYTES, budget).ok().map(|b| CMap::parse(&b).codespace);
                    (split_from(cs.unwrap_or_default(), 2), false)
                }
                _ => {
                    let cs = to_unicode.as_ref().map(|m| m.codespace.clone()).unwrap_or_default();
                    (split_from(cs, 2), false)
                }
            };
            let descendant = deref(doc, dict.get(b"DescendantFonts").ok())
                .and_then(|o| o.as_array().ok())
                .and_then(|a| deref(doc, a.first()))
                .and_then(|o| o.as_dict().ok());
            let widths = descendant.map(|d| cid_widths(doc, d)).unwrap_or(Widths::None);
            return Font {
                split,
                to_unicode,
                table: None,
                utf16,
                symbol,
                widths,
                scale: 0.001,
                metrics: Metrics::Unknown,
            };
        }

        let table = match symbol {
            Symbol::ZapfDingbats | Symbol::Wingdings => Some(symbol_table(symbol)),
            Symbol::None => Some(simple_table(doc, dict)),
        };
        let scale = if subtype == b"Type3" { type3_scale(doc, dict) } else { 0.001 };
        Font {
            split: CodeSplit::One,
            to_unicode,
            table,
            utf16: false,
            symbol,
            widths: simple_widths(doc, dict),
            scale,
            metrics: metrics_for(&base_font),
        }
    }

    /// Calls `f` for each glyph of a shown string, in order.
    pub fn glyphs(&self, bytes: &[u8], mut f: impl FnMut(Glyph<'_>)) {
        let mut pos = 0usize;
        let mut text = String::new();
        while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
            let len = self.code_len(rest).clamp(1, rest.len().min(4));
            let code = rest.iter().take(len).fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            text.clear();
            let known = self.decode(len as u8, code, &mut text);
            let width = self.width(code, if known { Some(text.as_str()) } else { None });
            f(Glyph { text: known.then_some(text.as_str()), width, word_space: len == 1 && code == 32 });
            pos += len;
        }
    }

    fn code_len(&self, rest: &[u8]) -> usize {
        match &self.split {
            CodeSplit::One => 1,
            CodeSplit::Two => 2,
            CodeSplit::Space(ranges, default) => (1..=4usize)
                .find(|n| ranges.iter().any(|r| usize::from(r.len) == *n && r.matches(rest)))
                .unwrap_or(*default),
        }
    }

    fn decode(&self, len: u8, code: u32, out: &mut String) -> bool {
        if let Some(map) = &self.to_unicode {
            let start = out.len();
            if map.lookup(len, code, out) || (len == 1 && map.lookup(2, code, out)) {
                let mapped: String = out.get(start..).unwrap_or_default().chars().map(|c| self.normalise(c)).collect();
                out.truncate(start);
                out.push_str(&mapped);
                return true;
            }
        }
        if self.utf16 && len == 2 {
            if let Some(c) = char::from_u32(code) {
                out.push(self.normalise(c));
                return true;
            }
            return false;
        }
        if len == 1 {
            if let Some(s) = self.table.as_ref().and_then(|t| t.get(code as usize)).and_then(|s| s.as_deref()) {
                out.extend(s.chars().map(|c| self.normalise(c)));
                return true;
            }
        }
        false
    }

    /// Checkbox glyphs become the document's inline markers.
    fn normalise(&self, c: char) -> char {
        let c = match (self.symbol, u32::from(c)) {
            // Symbol fonts mapped to the private use area by their ToUnicode (Word does this).
            (Symbol::Wingdings, 0xF020..=0xF0FF) => wingdings((u32::from(c) & 0xFF) as u8).unwrap_or(c),
            (Symbol::ZapfDingbats, 0xF020..=0xF0FF) => dingbat((u32::from(c) & 0xFF) as u8).unwrap_or(c),
            _ => c,
        };
        if c == '\u{2611}' {
            CHECKED
        } else {
            c
        }
    }

    fn width(&self, code: u32, text: Option<&str>) -> f32 {
        let declared = match &self.widths {
            Widths::None => None,
            Widths::Simple { first, widths, missing } => code
                .checked_sub(*first)
                .and_then(|i| widths.get(i as usize))
                .copied()
                .filter(|w| *w > 0.0)
                .or(Some(*missing).filter(|w| *w > 0.0)),
            Widths::Cid { default, single, ranges } => single.get(&code).copied().or_else(|| {
                let idx = ranges.partition_point(|(lo, _, _)| *lo <= code);
                idx.checked_sub(1)
                    .and_then(|i| ranges.get(i))
                    .filter(|(_, hi, _)| code <= *hi)
                    .map(|(_, _, w)| *w)
                    .or(Some(*default))
            }),
        };
        match declared {
            Some(w) => sane(w * self.scale, 0.5),
            None => self.estimate(text),
        }
    }

    fn estimate(&self, text: Option<&str>) -> f32 {
        let Some(text) = text else { return 0.5 };
        let mut total = 0.0f32;
        for c in text.chars() {
            total += match self.metrics {
                Metrics::Courier => 600.0,
                Metrics::Helvetica | Metrics::HelveticaBold | Metrics::Times => {
                    let table = match self.metrics {
                        Metrics::HelveticaBold => &HELVETICA_BOLD,
                        Metrics::Times => &TIMES_ROMAN,
                        _ => &HELVETICA,
                    };
                    let i = (u32::from(c)).wrapping_sub(32) as usize;
                    table.get(i).map_or(if self.metrics == Metrics::Times { 500.0 } else { 556.0 }, |w| f32::from(*w))
                }
                Metrics::Unknown if c == ' ' => 278.0,
                Metrics::Unknown => 500.0,
            } / 1000.0;
        }
        if text.is_empty() {
            0.5
        } else {
            total
        }
    }
}

fn split_from(codespace: Vec<Codespace>, default: usize) -> CodeSplit {
    if codespace.is_empty() {
        if default == 1 {
            CodeSplit::One
        } else {
            CodeSplit::Two
        }
    } else {
        let shortest = codespace.iter().map(|c| usize::from(c.len)).min().unwrap_or(default);
        CodeSplit::Space(codespace, shortest.max(1))
    }
}

fn simple_table_from(encoding: &Encoding<'_>) -> Vec<Option<Box<str>>> {
    (0u8..=255)
        .map(|b| encoding.bytes_to_string(&[b]).ok().filter(|s| !s.is_empty()).map(String::into_boxed_str))
        .collect()
}

/// The 256 codes of a simple font, through lopdf's encodings. The base encoding and each
/// `/Differences` name are resolved separately, so one glyph name lopdf does not know costs
/// that code only (lopdf would otherwise drop the whole encoding for StandardEncoding).
fn simple_table(doc: &Document, dict: &Dictionary) -> Vec<Option<Box<str>>> {
    let encoding = deref(doc, dict.get(b"Encoding").ok());
    let base_name: Option<Vec<u8>> = match encoding {
        Some(Object::Name(n)) => Some(n.clone()),
        Some(Object::Dictionary(d)) => {
            deref(doc, d.get(b"BaseEncoding").ok()).and_then(|o| o.as_name().ok()).map(<[u8]>::to_vec)
        }
        _ => None,
    };
    // A copy without /ToUnicode: lopdf would otherwise parse it with its unbounded reader.
    let mut base = Dictionary::new();
    base.set("Type", Object::Name(b"Font".to_vec()));
    if let Some(name) = base_name {
        base.set("Encoding", Object::Name(name));
    }
    let mut table = match base.get_font_encoding(doc) {
        Ok(enc) => simple_table_from(&enc),
        Err(_) => Vec::new(),
    };
    if table.iter().all(Option::is_none) {
        table = simple_table_from(&Encoding::SimpleEncoding(b"WinAnsiEncoding"));
    }
    if let Some(Object::Dictionary(d)) = encoding {
        if let Some(diffs) = deref(doc, d.get(b"Differences").ok()).and_then(|o| o.as_array().ok()) {
            let mut code: i64 = 0;
            for item in diffs.iter().take(4096) {
                match item {
                    Object::Integer(c) => code = *c,
                    Object::Name(name) => {
                        if let Some(slot) = usize::try_from(code).ok().and_then(|c| table.get_mut(c)) {
                            if let Some(text) = glyph_name_text(name) {
                                *slot = Some(text.into_boxed_str());
                            }
                        }
                        code = code.saturating_add(1);
                    }
                    _ => {}
                }
            }
        }
    }
    table
}

fn symbol_table(symbol: Symbol) -> Vec<Option<Box<str>>> {
    (0u8..=255)
        .map(|b| {
            let c = match symbol {
                Symbol::ZapfDingbats => dingbat(b),
                Symbol::Wingdings => wingdings(b),
                Symbol::None => None,
            };
            c.map(|c| c.to_string().into_boxed_str())
        })
        .collect()
}

/// ZapfDingbats codes that mark a box as ticked in flattened forms: check marks, crosses,
/// bullets, filled squares and diamonds. Other dingbats carry no text.
fn dingbat(b: u8) -> Option<char> {
    match b {
        b'3' | b'4' | b'5' | b'6' | b'7' | b'8' | b'l' | b'n' | b'u' => Some(CHECKED),
        b'o' | b'p' | b'q' | b'r' => Some(UNCHECKED),
        b' ' => Some(' '),
        _ => None,
    }
}

/// Wingdings box glyphs: 0xFD ☒, 0xFE ☑, 0x78 ⌧ ticked; 0xA8 ◻, 0x6F □, 0x71 ❑ empty.
fn wingdings(b: u8) -> Option<char> {
    match b {
        0xFD | 0xFE | 0x78 => Some(CHECKED),
        0xA8 | 0x6F | 0x71 => Some(UNCHECKED),
        0xFC => Some('✓'),
        0xFB => Some('✗'),
        b' ' => Some(' '),
        _ => None,
    }
}

fn symbol_kind(base_font: &[u8]) -> Symbol {
    if contains(base_font, b"Dingbats") {
        Symbol::ZapfDingbats
    } else if contains(base_font, b"Wingdings") {
        Symbol::Wingdings
    } else {
        Symbol::None
    }
}

fn metrics_for(base_font: &[u8]) -> Metrics {
    let bold = contains(base_font, b"Bold") || contains(base_font, b"Black") || contains(base_font, b"Heavy");
    if contains(base_font, b"Courier") || contains(base_font, b"Mono") {
        Metrics::Courier
    } else if contains(base_font, b"Helvetica") || contains(base_font, b"Arial") {
        if bold {
            Metrics::HelveticaBold
        } else {
            Metrics::Helvetica
        }
    } else if contains(base_font, b"Times") {
        Metrics::Times
    } else {
        Metrics::Unknown
    }
}

fn simple_widths(doc: &Document, dict: &Dictionary) -> Widths {
    let Some(widths) = deref(doc, dict.get(b"Widths").ok()).and_then(|o| o.as_array().ok()) else {
        return Widths::None;
    };
    let first = deref(doc, dict.get(b"FirstChar").ok()).and_then(number).unwrap_or(0.0);
    let first = if first.is_finite() && (0.0..=255.0).contains(&first) { first as u32 } else { 0 };
    let widths: Vec<f32> =
        widths.iter().take(256).map(|w| deref(doc, Some(w)).and_then(number).map_or(0.0, |w| sane(w, 0.0))).collect();
    let missing = deref(doc, dict.get(b"FontDescriptor").ok())
        .and_then(|o| o.as_dict().ok())
        .and_then(|d| deref(doc, d.get(b"MissingWidth").ok()))
        .and_then(number)
        .map_or(0.0, |w| sane(w, 0.0));
    Widths::Simple { first, widths, missing }
}

fn cid_widths(doc: &Document, dict: &Dictionary) -> Widths {
    let default = deref(doc, dict.get(b"DW").ok()).and_then(number).map_or(1000.0, |w| sane(w, 1000.0));
    let mut single = HashMap::new();
    let mut ranges = Vec::new();
    if let Some(w) = deref(doc, dict.get(b"W").ok()).and_then(|o| o.as_array().ok()) {
        let mut items = w.iter().map(|o| deref(doc, Some(o)));
        let mut count = 0usize;
        while let Some(Some(first)) = items.next() {
            if count >= MAX_CID_WIDTHS {
                break;
            }
            let Some(first) = number(first).filter(|f| f.is_finite() && *f >= 0.0) else { break };
            let first = first as u32;
            match items.next() {
                Some(Some(Object::Array(list))) => {
                    for (i, w) in list.iter().enumerate().take(MAX_CID_WIDTHS) {
                        let w = deref(doc, Some(w)).and_then(number).map_or(default, |w| sane(w, default));
                        single.insert(first.saturating_add(i as u32), w);
                        count += 1;
                    }
                }
                Some(Some(last)) => {
                    let Some(last) = number(last).filter(|f| f.is_finite() && *f >= 0.0) else { break };
                    let w = items.next().flatten().and_then(number).map_or(default, |w| sane(w, default));
                    ranges.push((first, last as u32, w));
                    count += 1;
                }
                _ => break,
            }
        }
    }
    ranges.sort_by_key(|(lo, _, _)| *lo);
    Widths::Cid { default, single, ranges }
}

fn type3_scale(doc: &Document, dict: &Dictionary) -> f32 {
    deref(doc, dict.get(b"FontMatrix").ok())
        .and_then(|o| o.as_array().ok())
        .and_then(|a| a.first())
        .and_then(number)
        .map(f32::abs)
        .filter(|a| a.is_finite() && *a > 0.0 && *a < 10.0)
        .unwrap_or(0.001)
}

fn sane(w: f32, default: f32) -> f32 {
    if w.is_finite() && (0.0..=100_000.0).contains(&w) {
        w
    } else {
        default
    }
}

fn name_of(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<Vec<u8>> {
    deref(doc, dict.get(key).ok()).and_then(|o| o.as_name().ok()).map(<[u8]>::to_vec)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

// Advance widths of the standard fonts for ASCII 32..=126, from the Adobe AFM files.
#[rustfmt::skip]
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];
#[rustfmt::skip]
const TIMES_ROMAN: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278,
    500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444,
    921, 722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722,
    556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611, 333, 278, 333, 469, 500,
    333, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500,
    500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 480, 200, 480, 541,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(font: &Font, bytes: &[u8]) -> (String, f32) {
        let mut s = String::new();
        let mut w = 0.0;
        font.glyphs(bytes, |g| {
            s.push_str(g.text.unwrap_or("?"));
            w += g.width;
        });
        (s, w)
    }

    #[test]
    fn winansi_helvetica_decodes_and_measures() {
        let doc = Document::new();
        let mut font = Dictionary::new();
        font.set("Type", Object::Name(b"Font".to_vec()));
        font.set("Subtype", Object::Name(b"Type1".to_vec()));
        font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
        font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        let mut budget = usize::MAX;
        let f = Font::load(&doc, &font, &mut budget);
        let (s, w) = texts(&f, b"Zo\xEB \x80");
        assert_eq!(s, "Zoë €");
        // Z 611 + o 556 + ë 556 (default) + space 278 + € 556 (default)
        assert!((w - 2.557).abs() < 0.01, "{w}");
    }

    #[test]
    fn differences_with_unknown_names_keep_the_rest() {
        let doc = Document::new();
        let mut enc = Dictionary::new();
        enc.set("BaseEncoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        enc.set(
            "Differences",
            Object::Array(vec![
                Object::Integer(65),
                Object::Name(b"eacute".to_vec()),
                Object::Name(b"g1234".to_vec()),
                Object::Name(b"uni263A".to_vec()),
            ]),
        );
        let mut font = Dictionary::new();
        font.set("Subtype", Object::Name(b"TrueType".to_vec()));
        font.set("Encoding", Object::Dictionary(enc));
        let mut budget = usize::MAX;
        let f = Font::load(&doc, &font, &mut budget);
        assert_eq!(texts(&f, b"ABCD").0, "éB☺D");
    }

    #[test]
    fn zapf_dingbats_check_is_the_checked_marker() {
        let doc = Document::new();
        let mut font = Dictionary::new();
        font.set("Subtype", Object::Name(b"Type1".to_vec()));
        font.set("BaseFont", Object::Name(b"ZapfDingbats".to_vec()));
        let mut budget = usize::MAX;
        let f = Font::load(&doc, &font, &mut budget);
        assert_eq!(texts(&f, b"4").0, CHECKED.to_string());
    }
}
