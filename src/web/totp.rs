//! The second factor: time-based one-time codes (RFC 6238: HMAC-SHA-1, 30-second steps, 6
//! digits), their secrets, the QR code an authenticator app scans, and the recovery codes.
//! Pure: the time is a parameter, and nothing here reads the clock, the network or the database.
//!
//! A [`Secret`] never prints (its `Debug` is redacted): it is shown once, on the enrolment page,
//! and kept in the database, never in a log line or an audit record.

use anyhow::{anyhow, bail, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now, for clocks that drift (RFC 6238 §5.2).
pub const SKEW_STEPS: u64 = 1;
/// Bytes of a generated secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// The shortest secret accepted (128 bits, RFC 4226's minimum).
pub const MIN_SECRET_BYTES: usize = 16;
/// Recovery codes made at enrolment, each usable once.
pub const RECOVERY_CODES: usize = 10;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A shared TOTP secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// 160 random bits.
    pub fn generate() -> Secret {
        let mut b = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut b).expect("the operating system's random source");
        Secret(b)
    }

    /// From base32 (RFC 4648; case, spaces, dashes and `=` padding ignored), at least 128 bits.
    /// The error never quotes the text.
    pub fn from_base32(text: &str) -> Result<Secret> {
        let bytes = base32_decode(text).ok_or_else(|| anyhow!("a TOTP secret is base32 (letters A-Z and digits 2-7)"))?;
        if bytes.len() < MIN_SECRET_BYTES {
            bail!("a TOTP secret needs at least {} bits (26 base32 characters)", MIN_SECRET_BYTES * 8);
        }
        Ok(Secret(bytes))
    }

    /// Base32 without padding, as authenticator apps take it.
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The code of `step`.
    pub fn code(&self, step: u64) -> String {
        format!("{:0width$}", hotp(&self.0, step, DIGITS), width = DIGITS as usize)
    }

    /// The step a code typed at `unix_seconds` belongs to, within [`SKEW_STEPS`] either side,
    /// if it is right (compared in constant time). Whether the step was used before is the
    /// caller's question (see `Store::use_totp_step`).
    pub fn matching_step(&self, typed: &str, unix_seconds: u64) -> Option<u64> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = step_at(unix_seconds);
        let mut found = None;
        for step in now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS {
            if super::auth::same(&self.code(step), &typed) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` address an authenticator app reads from the QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String { s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect() };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            enc(issuer),
            enc(account),
            self.to_base32(),
            enc(issuer)
        )
    }
}

/// The step of a moment.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// HOTP (RFC 4226) with HMAC-SHA-1: dynamic truncation, then `digits` decimal digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let at = usize::from(h[h.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([h[at] & 0x7f, h[at + 1], h[at + 2], h[at + 3]]);
    bin % 10u32.pow(digits)
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '=') {
        let v = BASE32.iter().position(|&x| x as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
            buffer &= (1 << bits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The QR code of `text` as an SVG element (black modules on white, a quiet zone of four), to
/// put inline in a page: no image request, nothing the content security policy must allow.
pub fn qr_svg(text: &str) -> Result<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| anyhow!("the text is too long for a QR code"))?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + 2 * border;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 {dim} {dim}\" width=\"{w}\" height=\"{w}\" role=\"img\" aria-label=\"QR code for your authenticator app\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        w = dim * 6
    ))
}

/// [`RECOVERY_CODES`] fresh recovery codes: 80 random bits each, written `xxxx-xxxx-xxxx-xxxx`
/// in lowercase base32.
pub fn recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 10];
            getrandom::fill(&mut b).expect("the operating system's random source");
            let s = base32_encode(&b).to_ascii_lowercase();
            format!("{}-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12], &s[12..16])
        })
        .collect()
}

/// Whether a typed code looks like a recovery code rather than a TOTP code.
pub fn is_recovery_code(typed: &str) -> bool {
    normal_recovery(typed).len() == 16
}

fn normal_recovery(typed: &str) -> String {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// What the database keeps of a recovery code: the sha256 (hex) of its 16 characters, however
/// the user spaced or cased them. (80 random bits need no slow hash.)
pub fn recovery_hash(typed: &str) -> String {
    Sha256::digest(normal_recovery(typed).as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: the 8-digit values; a 6-digit code is their last six.
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (t, want) in [(59u64, 94287082u32), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924), (2000000000, 69279037), (20000000000, 65353130)] {
            assert_eq!(hotp(key, step_at(t), 8), want, "T = {t}");
            let secret = Secret(key.to_vec());
            assert_eq!(secret.code(step_at(t)), format!("{:06}", want % 1_000_000), "T = {t}");
        }
    }

    #[test]
    fn rfc_4226_hotp_values() {
        let want = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, w) in want.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64, 6), *w);
        }
    }

    #[test]
    fn base32_round_trips_and_reads_what_apps_write() {
        let s = Secret(b"12345678901234567890".to_vec());
        assert_eq!(s.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(Secret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(), s);
        assert_eq!(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====").unwrap(), s);
        for _ in 0..20 {
            let g = Secret::generate();
            assert_eq!(Secret::from_base32(&g.to_base32()).unwrap(), g);
        }
        assert!(Secret::from_base32("GEZDGNBVGY3TQOJQ").is_err(), "80 bits are too few");
        let e = Secret::from_base32("not base32 at all 1890 !").unwrap_err().to_string();
        assert!(!e.contains("1890"), "the error never quotes the secret: {e}");
        assert_eq!(format!("{s:?}"), "Secret(..)");
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let s = Secret(b"12345678901234567890".to_vec());
        let t = 1_234_567_890;
        let now = step_at(t);
        assert_eq!(s.matching_step(&s.code(now), t), Some(now));
        assert_eq!(s.matching_step(&s.code(now - 1), t), Some(now - 1));
        assert_eq!(s.matching_step(&s.code(now + 1), t), Some(now + 1));
        assert_eq!(s.matching_step(&s.code(now - 2), t), None);
        assert_eq!(s.matching_step(&s.code(now + 2), t), None);
        assert_eq!(s.matching_step(&format!(" {} ", s.code(now)), t), Some(now));
        assert_eq!(s.matching_step("", t), None);
        assert_eq!(s.matching_step("12345", t), None);
        assert_eq!(s.matching_step("abcdef", t), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_hash_however_typed() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        let c = &codes[0];
        assert_eq!(c.len(), 19);
        assert!(is_recovery_code(c) && !is_recovery_code("123456"));
        assert_eq!(recovery_hash(c), recovery_hash(&c.to_ascii_uppercase().replace('-', " ")));
        assert_ne!(recovery_hash(c), recovery_hash(&codes[1]));
        assert!(!recovery_hash(c).contains(&c[..4]));
    }

    #[test]
    fn the_qr_code_is_an_inline_svg_of_the_otpauth_address() {
        let s = Secret(b"12345678901234567890".to_vec());
        let uri = s.otpauth_uri("MARAC Example", "co ord");
        assert_eq!(uri, "otpauth://totp/MARAC%20Example:co%20ord?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=MARAC%20Example&algorithm=SHA1&digits=6&period=30");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>") && svg.contains("<path d=\"M"), "{svg}");
        assert!(!svg.contains("GEZD"), "the secret is in the modules, not in the markup");
    }
}
