//! Small deterministic helpers: encodings, checksums, a seeded generator, timestamps.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use sha2::{Digest, Sha256};

/// Upper-case hex of the SHA-256 of `seed`, cut to `n` characters. Used for every "random"
/// identifier (Message-IDs, queue ids, boundaries), so ids are unique per fixture and stable.
pub fn hexid(seed: &str, n: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    let mut out = hex.clone();
    let mut round = 1;
    while out.len() < n {
        let more = Sha256::digest(format!("{seed}#{round}").as_bytes());
        out.extend(more.iter().map(|b| format!("{b:02X}")));
        round += 1;
    }
    out.truncate(n);
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A tiny fixed-seed generator (SplitMix64) for filler bytes: never used for anything a
/// reader must get right.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 without line breaks.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { B64[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { B64[n as usize & 63] as char } else { '=' });
    }
    out
}

/// Base64 in lines of `width` characters, each ended by CRLF, as MIME bodies are written.
pub fn base64_lines(bytes: &[u8], width: usize) -> Vec<u8> {
    let flat = base64(bytes);
    let mut out = Vec::with_capacity(flat.len() + flat.len() / width * 2 + 2);
    for line in flat.as_bytes().chunks(width) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Quoted-printable (RFC 2045) of already-encoded bytes; `text` lines are split on LF and
/// written with CRLF; soft breaks keep lines at most 76 characters.
pub fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut cur: Vec<u8> = Vec::new();
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let trailing_space = (b == b' ' || b == b'\t') && last;
            let enc: Vec<u8> = if trailing_space || b == b'=' || !(0x20..0x7F).contains(&b) && b != b'\t' {
                format!("={b:02X}").into_bytes()
            } else {
                vec![b]
            };
            if cur.len() + enc.len() > 75 {
                out.extend_from_slice(&cur);
                out.extend_from_slice(b"=\r\n");
                cur.clear();
            }
            cur.extend_from_slice(&enc);
        }
        out.extend_from_slice(&cur);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Text to windows-1252 bytes (the characters the fixtures use); anything else becomes '?'.
pub fn cp1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20AC}' => 0x80,
            '\u{201A}' => 0x82,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            c if (c as u32) < 0x80 => c as u8,
            c if (0xA0..=0xFF).contains(&(c as u32)) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Text to ISO-8859-1 bytes; anything outside Latin-1 becomes '?'.
pub fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 0x100 { c as u32 as u8 } else { b'?' }).collect()
}

/// RFC 2047 B-encoding of a UTF-8 string.
pub fn rfc2047_b(s: &str) -> String {
    format!("=?UTF-8?B?{}?=", base64(s.as_bytes()))
}

/// RFC 2047 Q-encoding of bytes in the named charset.
pub fn rfc2047_q(charset: &str, bytes: &[u8]) -> String {
    let mut out = format!("=?{charset}?Q?");
    for &b in bytes {
        match b {
            b' ' => out.push('_'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b',' | b':' => out.push(b as char),
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out.push_str("?=");
    out
}

/// RFC 2231 percent-encoding of a UTF-8 value (attribute-char set of RFC 2231).
pub fn rfc2231_pct(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'!' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// CRC-32 (IEEE), for PNG chunks.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// zlib wrapper around stored (uncompressed) deflate blocks: valid everywhere, no codec needed.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    if data.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    let chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// An 8-bit greyscale PNG.
pub fn png_gray(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width as usize + 1) * height as usize);
    for row in pixels.chunks(width as usize) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &zlib_stored(&raw));
    chunk(b"IEND", &[]);
    out
}

/// XML text escaping.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A calendar date (dates of birth, referral dates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    pub y: i32,
    pub m: u32,
    pub d: u32,
}

pub const fn date(y: i32, m: u32, d: u32) -> Date {
    Date { y, m, d }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// How a date is written on a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFmt {
    /// 03/07/1991
    Slash,
    /// 3.7.91
    DotShort,
    /// 1991-07-03
    Iso,
    /// 3 July 1991
    Long,
    /// 3rd Jul 1991
    Ordinal,
}

impl Date {
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
    pub fn slash(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.d, self.m, self.y)
    }
    pub fn fmt(&self, f: DateFmt) -> String {
        let month = MONTHS[self.m as usize - 1];
        match f {
            DateFmt::Slash => self.slash(),
            DateFmt::DotShort => format!("{}.{}.{:02}", self.d, self.m, self.y % 100),
            DateFmt::Iso => self.iso(),
            DateFmt::Long => format!("{} {} {}", self.d, month, self.y),
            DateFmt::Ordinal => {
                let suffix = match self.d {
                    1 | 21 | 31 => "st",
                    2 | 22 => "nd",
                    3 | 23 => "rd",
                    _ => "th",
                };
                format!("{}{} {} {}", self.d, suffix, &month[..3], self.y)
            }
        }
    }
}

/// A moment with a fixed UTC offset, written the RFC 5322 way.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub at: NaiveDateTime,
    /// Offset from UTC in hours (0 in winter, 1 in British summer time).
    pub offset_h: i32,
}

pub fn stamp(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Stamp {
    let at = NaiveDate::from_ymd_opt(y, mo, d).and_then(|x| x.and_hms_opt(h, mi, s)).expect("valid fixture date");
    // British summer time, close enough for fixtures: April to October.
    let offset_h = if (4..=10).contains(&mo) { 1 } else { 0 };
    Stamp { at, offset_h }
}

impl Stamp {
    pub fn minus_secs(&self, s: i64) -> Stamp {
        Stamp { at: self.at - TimeDelta::seconds(s), offset_h: self.offset_h }
    }
    pub fn rfc5322(&self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MON: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let d = self.at.date();
        let t = self.at.time();
        use chrono::Timelike;
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} {}{:02}00",
            DAYS[d.weekday().num_days_from_monday() as usize],
            d.day(),
            MON[d.month0() as usize],
            d.year(),
            t.hour(),
            t.minute(),
            t.second(),
            if self.offset_h < 0 { '-' } else { '+' },
            self.offset_h.abs()
        )
    }
    pub fn date(&self) -> Date {
        let d = self.at.date();
        Date { y: d.year(), m: d.month(), d: d.day() }
    }
    /// PDF date string, e.g. D:20250204094702+00'00'.
    pub fn pdf(&self) -> String {
        use chrono::Timelike;
        let d = self.at.date();
        let t = self.at.time();
        format!(
            "D:{:04}{:02}{:02}{:02}{:02}{:02}+{:02}'00'",
            d.year(),
            d.month(),
            d.day(),
            t.hour(),
            t.minute(),
            t.second(),
            self.offset_h
        )
    }
    /// W3CDTF in UTC, as Office and OpenDocument metadata write it.
    pub fn w3c(&self) -> String {
        let utc = self.at - TimeDelta::hours(i64::from(self.offset_h));
        utc.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
