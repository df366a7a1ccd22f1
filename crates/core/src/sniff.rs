//! What a file is, decided from its bytes, never from its name or declared MIME type.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    /// Excel binary workbook (.xlsb): recognised, not read.
    Xlsb,
    Xls,
    Ods,
    Odt,
    /// Legacy Word 97-2003 binary document: recognised, not read.
    Doc,
    /// An Office file in an encrypted (password-protected) CFB container.
    EncryptedOffice,
    /// Outlook's winmail.dat.
    Tnef,
    /// A zip archive that is none of the office formats.
    Zip,
    /// Another OLE compound file.
    Cfb,
    Image,
    Text,
    Unknown,
}

const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const TNEF_MAGIC: &[u8] = &[0x78, 0x9F, 0x3E, 0x22];

pub fn sniff(bytes: &[u8]) -> FileKind {
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_some() {
        return FileKind::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes);
    }
    if bytes.starts_with(CFB_MAGIC) {
        return sniff_cfb(bytes);
    }
    if bytes.starts_with(TNEF_MAGIC) {
        return FileKind::Tnef;
    }
    if bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"GIF8")
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
    {
        return FileKind::Image;
    }
    if looks_like_text(head) {
        return FileKind::Text;
    }
    FileKind::Unknown
}

fn sniff_zip(bytes: &[u8]) -> FileKind {
    // The central directory lists entry names in clear; searching for them needs no decompression.
    // An OpenDocument file starts with an uncompressed `mimetype` entry naming its type.
    if bytes.len() > 38 && &bytes[30..38] == b"mimetype" {
        let tail = &bytes[38..bytes.len().min(38 + 80)];
        if find(tail, b"opendocument.text").is_some() {
            return FileKind::Odt;
        }
        if find(tail, b"opendocument.spreadsheet").is_some() {
            return FileKind::Ods;
        }
    }
    // The main part's name varies (word/document2.xml); its content type does not.
    let word_package = find(bytes, b"word/").is_some() && find(bytes, b"[Content_Types].xml").is_some() && find(bytes, b"xl/").is_none();
    if find(bytes, b"word/document.xml").is_some() || word_package {
        FileKind::Docx
    } else if find(bytes, b"xl/workbook.xml").is_some() {
        FileKind::Xlsx
    } else if find(bytes, b"xl/workbook.bin").is_some() {
        FileKind::Xlsb
    } else if find(bytes, b"content.xml").is_some() {
        // OpenDocument without a leading mimetype entry: decided by the reader from content.xml.
        if find(bytes, b"opendocument.spreadsheet").is_some() {
            FileKind::Ods
        } else {
            FileKind::Odt
        }
    } else {
        FileKind::Zip
    }
}

fn sniff_cfb(bytes: &[u8]) -> FileKind {
    // Directory entry names are UTF-16LE, and writers differ in case ("Workbook", "WORKBOOK").
    // When several appear (a workbook with an embedded Word object), the main stream's entry comes
    // first in the directory.
    let at = |name: &str| find_wide_ignore_case(bytes, name);
    if at("EncryptedPackage").is_some() {
        return FileKind::EncryptedOffice;
    }
    let word = at("WordDocument");
    let book = at("Workbook").or_else(|| at("Book"));
    match (word, book) {
        (Some(w), Some(b)) if b < w => FileKind::Xls,
        (Some(_), _) => FileKind::Doc,
        (None, Some(_)) => FileKind::Xls,
        (None, None) => FileKind::Cfb,
    }
}

/// Position of an ASCII name written in UTF-16LE, ignoring ASCII case.
fn find_wide_ignore_case(hay: &[u8], name: &str) -> Option<usize> {
    let wide: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    if hay.len() < wide.len() {
        return None;
    }
    hay.windows(wide.len()).position(|w| w.iter().zip(&wide).all(|(a, b)| a.eq_ignore_ascii_case(b)))
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let bad = head.iter().filter(|&&b| b < 0x09 || (0x0E..0x20).contains(&b)).count();
    bad * 100 < head.len()
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_with_leading_junk_is_pdf() {
        assert_eq!(sniff(b"\r\n%PDF-1.4\n..."), FileKind::Pdf);
    }

    #[test]
    fn tnef_and_cfb_are_told_apart() {
        assert_eq!(sniff(&[0x78, 0x9F, 0x3E, 0x22, 1, 0]), FileKind::Tnef);
        let mut doc = CFB_MAGIC.to_vec();
        doc.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(sniff(&doc), FileKind::Doc);
        let mut enc = CFB_MAGIC.to_vec();
        enc.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(sniff(&enc), FileKind::EncryptedOffice);
    }

    #[test]
    fn cfb_names_in_any_case_and_the_main_stream_first() {
        let wide = |n: &str| n.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let mut upper = CFB_MAGIC.to_vec();
        upper.extend(wide("WORKBOOK"));
        assert_eq!(sniff(&upper), FileKind::Xls);
        let mut embedded = CFB_MAGIC.to_vec();
        embedded.extend(wide("Workbook"));
        embedded.extend(wide("WordDocument"));
        assert_eq!(sniff(&embedded), FileKind::Xls);
    }

    #[test]
    fn plain_text_and_binary() {
        assert_eq!(sniff(b"hello, this is text\n"), FileKind::Text);
        assert_eq!(sniff(&[0u8, 1, 2, 3, 4, 5, 6, 7]), FileKind::Unknown);
    }
}
