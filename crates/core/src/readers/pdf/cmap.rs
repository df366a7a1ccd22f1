//! A small, bounded reader for CMaps: the `/ToUnicode` map of a font and the codespace of an
//! embedded `/Encoding` CMap.
//!
//! lopdf has its own ToUnicode parser, but it expands every `bfrange` code by code when it builds
//! its reverse map, so a single range `<00000000> <FFFFFFFF>` in a crafted file costs billions of
//! steps. Here ranges stay ranges: lookups are a hash probe or a binary search, and the number of
//! entries read is capped.

use std::collections::HashMap;
use crate::limits::pdf::{MAX_CMAP_ENTRIES, MAX_CMAP_HEX_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Codespace {
    pub len: u8,
    lo: [u8; 4],
    hi: [u8; 4],
}

impl Codespace {
    /// Whether the first `len` bytes of `bytes` fall in this range, byte by byte (ISO 32000-1,
    /// 9.7.6.2).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let n = usize::from(self.len);
        let Some(head) = bytes.get(..n) else { return false };
        head.iter().enumerate().all(|(i, b)| {
            let lo = self.lo.get(i).copied().unwrap_or(0);
            let hi = self.hi.get(i).copied().unwrap_or(0xFF);
            lo <= *b && *b <= hi
        })
    }
}

#[derive(Debug)]
enum Target {
    /// The destination of the range start; the last UTF-16 unit grows with the code.
    Base(Vec<u16>),
    /// One destination per code of the range.
    List(Vec<Box<str>>),
}

#[derive(Debug)]
struct Range {
    len: u8,
    lo: u32,
    hi: u32,
    target: Target,
}

#[derive(Debug, Default)]
pub(super) struct CMap {
    pub codespace: Vec<Codespace>,
    chars: HashMap<(u8, u32), Box<str>>,
    /// Sorted by (len, lo) after parsing.
    ranges: Vec<Range>,
}

impl CMap {
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty() && self.ranges.is_empty()
    }

    /// Appends the text of one character code to `out`; false when the map does not know it.
    pub fn lookup(&self, len: u8, code: u32, out: &mut String) -> bool {
        if let Some(s) = self.chars.get(&(len, code)) {
            out.push_str(s);
            return true;
        }
        let idx = self.ranges.partition_point(|r| (r.len, r.lo) <= (len, code));
        let Some(range) = idx.checked_sub(1).and_then(|i| self.ranges.get(i)) else { return false };
        if range.len != len || code < range.lo || code > range.hi {
            return false;
        }
        let delta = code - range.lo;
        match &range.target {
            Target::Base(units) => {
                let mut units = units.clone();
                if let Some(last) = units.last_mut() {
                    // Truncation to u16 is the rule: only the last unit is incremented.
                    *last = last.wrapping_add(delta as u16);
                }
                out.push_str(&String::from_utf16_lossy(&units));
                true
            }
            Target::List(list) => match usize::try_from(delta).ok().and_then(|i| list.get(i)) {
                Some(s) => {
                    out.push_str(s);
                    true
                }
                None => false,
            },
        }
    }

    /// Reads the CMap program. Unknown operators and damaged parts are skipped.
    pub fn parse(data: &[u8]) -> CMap {
        let mut cmap = CMap::default();
        let mut lex = Lexer { data, pos: 0 };
        let mut budget = MAX_CMAP_ENTRIES;
        while let Some(tok) = lex.next() {
            let Tok::Word(word) = tok else { continue };
            match word {
                b"begincodespacerange" => {
                    let items = lex.items(b"endcodespacerange", &mut budget);
                    for pair in items.chunks_exact(2) {
                        if let [Item::Hex(lo), Item::Hex(hi)] = pair {
                            if let Some(cs) = codespace(lo, hi) {
                                cmap.codespace.push(cs);
                            }
                        }
                    }
                }
                b"beginbfchar" => {
                    let items = lex.items(b"endbfchar", &mut budget);
                    for pair in items.chunks_exact(2) {
                        let [Item::Hex(src), dst] = pair else { continue };
                        let (Some(key), Some(text)) = (source_code(src), item_text(dst)) else { continue };
                        cmap.chars.insert(key, text.into_boxed_str());
                    }
                }
                b"beginbfrange" => {
                    let items = lex.items(b"endbfrange", &mut budget);
                    for triple in items.chunks_exact(3) {
                        let [Item::Hex(lo), Item::Hex(hi), dst] = triple else { continue };
                        let (Some((len, lo)), Some((hi_len, hi))) = (source_code(lo), source_code(hi)) else {
                            continue;
                        };
                        if len != hi_len || hi < lo {
                            continue;
                        }
                        let target = match dst {
                            Item::Hex(bytes) => Target::Base(utf16_units(bytes)),
                            Item::Array(list) => Target::List(
                                list.iter()
                                    .map(|b| String::from_utf16_lossy(&utf16_units(b)).into_boxed_str())
                                    .collect(),
                            ),
                            Item::Name(_) | Item::Other => continue,
                        };
                        cmap.ranges.push(Range { len, lo, hi, target });
                    }
                }
                _ => {}
            }
            if budget == 0 {
                break;
            }
        }
        cmap.ranges.sort_by_key(|r| (r.len, r.lo));
        cmap
    }
}

fn codespace(lo: &[u8], hi: &[u8]) -> Option<Codespace> {
    if lo.is_empty() || lo.len() > 4 || lo.len() != hi.len() {
        return None;
    }
    let mut cs = Codespace { len: lo.len() as u8, lo: [0; 4], hi: [0xFF; 4] };
    for (i, (l, h)) in lo.iter().zip(hi).enumerate() {
        if let Some(slot) = cs.lo.get_mut(i) {
            *slot = *l;
        }
        if let Some(slot) = cs.hi.get_mut(i) {
            *slot = *h;
        }
    }
    Some(cs)
}

fn source_code(bytes: &[u8]) -> Option<(u8, u32)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    let value = bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
    Some((bytes.len() as u8, value))
}

/// A destination string is UTF-16BE; a lone byte is taken as one code unit.
fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    if bytes.len() == 1 {
        return bytes.iter().map(|b| u16::from(*b)).collect();
    }
    bytes
        .chunks_exact(2)
        .filter_map(|c| match c {
            [a, b] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        })
        .collect()
}

fn item_text(item: &Item) -> Option<String> {
    match item {
        Item::Hex(bytes) => Some(String::from_utf16_lossy(&utf16_units(bytes))),
        Item::Name(name) => super::glyphs::glyph_name_text(name),
        Item::Array(_) | Item::Other => None,
    }
}

#[derive(Debug)]
enum Item {
    Hex(Vec<u8>),
    Array(Vec<Vec<u8>>),
    Name(Vec<u8>),
    Other,
}

enum Tok<'a> {
    Hex(Vec<u8>),
    Name(&'a [u8]),
    Word(&'a [u8]),
    ArrOpen,
    ArrClose,
    Other,
}

pub(super) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_delim(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0C' | b'\0')
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        loop {
            let b = self.peek()?;
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        let b = self.peek()?;
        self.pos += 1;
        Some(match b {
            b'<' if self.peek() == Some(b'<') => {
                self.pos += 1;
                Tok::Other
            }
            b'<' => Tok::Hex(self.hex()),
            b'>' => {
                if self.peek() == Some(b'>') {
                    self.pos += 1;
                }
                Tok::Other
            }
            b'[' => Tok::ArrOpen,
            b']' => Tok::ArrClose,
            b'(' => {
                self.skip_literal();
                Tok::Other
            }
            b'/' => Tok::Name(self.regular()),
            b'{' | b'}' | b')' => Tok::Other,
            _ => {
                self.pos -= 1;
                let word = self.regular();
                if word.is_empty() {
                    // Not reachable for a non-delimiter, but never loop on no progress.
                    self.pos += 1;
                    Tok::Other
                } else {
                    Tok::Word(word)
                }
            }
        })
    }

    fn regular(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_space(c) || is_delim(c) {
                break;
            }
            self.pos += 1;
        }
        self.data.get(start..self.pos).unwrap_or_default()
    }

    fn hex(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == b'>' {
                break;
            }
            let Some(v) = (c as char).to_digit(16) else { continue };
            let v = v as u8;
            match high.take() {
                Some(h) => {
                    if out.len() < MAX_CMAP_HEX_BYTES {
                        out.push((h << 4) | v);
                    }
                }
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            if out.len() < MAX_CMAP_HEX_BYTES {
                out.push(h << 4);
            }
        }
        out
    }

    fn skip_literal(&mut self) {
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// The operands between a `begin…` keyword and its `end` keyword.
    fn items(&mut self, end: &[u8], budget: &mut usize) -> Vec<Item> {
        let mut items = Vec::new();
        while let Some(tok) = self.next() {
            if *budget == 0 {
                break;
            }
            *budget -= 1;
            match tok {
                Tok::Word(w) if w == end => break,
                // A new section without the end of this one: the map is damaged, keep what we have.
                Tok::Word(w) if w.starts_with(b"begin") => break,
                Tok::Word(_) | Tok::Other | Tok::ArrClose => items.push(Item::Other),
                Tok::Hex(h) => items.push(Item::Hex(h)),
                Tok::Name(n) => items.push(Item::Name(n.to_vec())),
                Tok::ArrOpen => {
                    let mut list = Vec::new();
                    while let Some(t) = self.next() {
                        match t {
                            Tok::Hex(h) if *budget > 0 => {
                                *budget -= 1;
                                list.push(h);
                            }
                            Tok::ArrClose => break,
                            Tok::Word(w) if w == end => {
                                items.push(Item::Array(list));
                                return items;
                            }
                            _ => {}
                        }
                    }
                    items.push(Item::Array(list));
                }
            }
        }
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0003> <0020> <0011> <00E9> endbfchar
2 beginbfrange <0024> <0026> <0041> <0030> <0031> [<005A> <D83DDE00>] endbfrange
3 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn chars_ranges_and_arrays_decode() {
        let cmap = CMap::parse(SAMPLE);
        assert_eq!(cmap.codespace.len(), 1);
        let mut s = String::new();
        for code in [0x24, 0x25, 0x26, 0x03, 0x11, 0x30, 0x31] {
            assert!(cmap.lookup(2, code, &mut s), "code {code:#x}");
        }
        assert_eq!(s, "ABC é\u{5A}😀");
        assert!(!cmap.lookup(2, 0x99, &mut s));
        assert!(!cmap.lookup(1, 0x24, &mut s));
        // The 4-byte range covering every code is held as one range, not expanded.
        let mut t = String::new();
        assert!(cmap.lookup(4, 0xFFFF_FFFF, &mut t));
    }

    #[test]
    fn codespace_matches_byte_by_byte() {
        let cmap = CMap::parse(b"2 begincodespacerange <00> <80> <8140> <9FFC> endcodespacerange");
        assert_eq!(cmap.codespace.len(), 2);
        assert!(cmap.codespace[0].matches(&[0x41]));
        assert!(!cmap.codespace[0].matches(&[0x81]));
        assert!(cmap.codespace[1].matches(&[0x81, 0x50]));
        assert!(!cmap.codespace[1].matches(&[0x81]));
    }

    #[test]
    fn garbage_does_not_panic() {
        for input in [&b"<<<<[[[((("[..], b"beginbfrange <", b"beginbfchar <01> [", b"\\", b">>>>>"] {
            let _ = CMap::parse(input);
        }
    }
}
