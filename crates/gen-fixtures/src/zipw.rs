//! Zip archives with fixed timestamps and a fixed entry order (OOXML and OpenDocument packages).

use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

#[derive(Clone, Copy)]
pub enum Method {
    Stored,
    Deflated,
}

fn options(m: Method) -> SimpleFileOptions {
    let base = SimpleFileOptions::default()
        .last_modified_time(DateTime::from_date_and_time(2024, 11, 4, 9, 30, 0).unwrap_or_default())
        .unix_permissions(0o644);
    match m {
        Method::Stored => base.compression_method(CompressionMethod::Stored),
        Method::Deflated => base.compression_method(CompressionMethod::Deflated).compression_level(Some(6)),
    }
}

/// A zip of `entries` in the given order.
pub fn zip(entries: &[(&str, Vec<u8>, Method)]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, m) in entries {
        w.start_file(*name, options(*m)).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A package named like a Word document whose `word/document.xml` inflates from ~80 KB to
/// `size` bytes of zeros: a decompression bomb.
pub fn bomb_docx(size: usize, content_types: Vec<u8>, rels: Vec<u8>) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("[Content_Types].xml", options(Method::Deflated)).expect("zip entry");
    w.write_all(&content_types).expect("zip write");
    w.start_file("_rels/.rels", options(Method::Deflated)).expect("zip entry");
    w.write_all(&rels).expect("zip write");
    w.start_file("word/document.xml", options(Method::Deflated).compression_level(Some(9))).expect("zip entry");
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let k = left.min(zeros.len());
        w.write_all(&zeros[..k]).expect("zip write");
        left -= k;
    }
    w.finish().expect("zip finish").into_inner()
}
