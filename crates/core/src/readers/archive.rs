//! Bounded access to zip containers (DOCX, XLSX, ODS, ODT): entry count, decompressed size and
//! compression ratio are checked against [`Limits`] before and while reading, so a zip bomb is a
//! typed problem and never an allocation.

use crate::document::{Problem, ProblemKind};
use crate::limits::Limits;
use std::io::{Cursor, Read};
use zip::ZipArchive;

pub struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    limits: &'a Limits,
    /// Bytes decompressed so far from this archive, across entries.
    spent: u64,
}

impl<'a> Archive<'a> {
    pub fn open(bytes: &'a [u8], limits: &'a Limits) -> Result<Self, Problem> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            let p = zip_problem(&e);
            // A file that starts as a zip but has no end record was cut short; anything else
            // without one is not a zip at all.
            if p.kind == ProblemKind::Truncated && !bytes.starts_with(b"PK\x03\x04") {
                Problem::new(ProblemKind::Corrupt, "not a zip archive")
            } else {
                p
            }
        })?;
        if zip.len() > limits.max_zip_entries {
            return Err(Problem::new(
                ProblemKind::LimitExceeded,
                format!("archive has {} entries, limit {}", zip.len(), limits.max_zip_entries),
            ));
        }
        Ok(Archive { zip, limits, spent: 0 })
    }

    /// Names of all entries, in archive order.
    pub fn names(&self) -> Vec<String> {
        self.zip.file_names().filter_map(Result::ok).map(|n| n.into_owned()).collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// Declared sizes checked up front: total uncompressed size and the ratio of every entry.
    /// Used before handing the bytes to a third-party reader that opens the zip itself.
    pub fn check_declared_sizes(&mut self) -> Result<(), Problem> {
        let mut total: u64 = 0;
        for i in 0..self.zip.len() {
            let f = self.zip.by_index_raw(i).map_err(|e| zip_problem(&e))?;
            if f.encrypted() {
                return Err(Problem::new(ProblemKind::Encrypted, "zip entry is encrypted"));
            }
            let (size, compressed) = (f.size(), f.compressed_size());
            drop(f);
            total = total.saturating_add(size);
            self.check_ratio(size, compressed)?;
        }
        if total > self.limits.max_decompressed_bytes {
            return Err(self.too_big(total));
        }
        // The third-party reader decompresses them; the message's budget counts them now.
        super::meter::add(total);
        Ok(())
    }

    /// Reads one entry, or `Ok(None)` when it is absent. Reading stops at the limits whatever the
    /// entry claims about its own size.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, Problem> {
        let Some(index) = self.zip.index_for_name(name) else { return Ok(None) };
        let f = self.zip.by_index(index).map_err(|e| zip_problem(&e))?;
        if f.encrypted() {
            return Err(Problem::new(ProblemKind::Encrypted, "zip entry is encrypted"));
        }
        let compressed = f.compressed_size();
        let budget = self.limits.max_decompressed_bytes.saturating_sub(self.spent);
        let ratio_cap = compressed.max(1).saturating_mul(self.limits.max_compression_ratio).max(64 * 1024);
        let cap = budget.min(ratio_cap);
        let mut out = Vec::with_capacity(f.size().min(cap).min(1 << 20) as usize);
        let read = f.take(cap + 1).read_to_end(&mut out);
        if let Err(e) = read {
            return Err(Problem::new(ProblemKind::Corrupt, format!("zip entry unreadable: {}", io_kind(&e))));
        }
        let n = out.len() as u64;
        if n > cap {
            return Err(if n > budget {
                self.too_big(self.spent + n)
            } else {
                Problem::new(
                    ProblemKind::LimitExceeded,
                    format!("zip entry expands more than {}x", self.limits.max_compression_ratio),
                )
            });
        }
        self.spent += n;
        super::meter::add(n);
        Ok(Some(out))
    }

    fn check_ratio(&self, size: u64, compressed: u64) -> Result<(), Problem> {
        // Small entries are exempt: a 40-byte entry of repeated spaces compresses 100x legitimately.
        if size > 64 * 1024 && size / compressed.max(1) > self.limits.max_compression_ratio {
            return Err(Problem::new(
                ProblemKind::LimitExceeded,
                format!("zip entry expands more than {}x", self.limits.max_compression_ratio),
            ));
        }
        Ok(())
    }

    fn too_big(&self, n: u64) -> Problem {
        Problem::new(
            ProblemKind::LimitExceeded,
            format!("archive expands to more than {} bytes (at least {n})", self.limits.max_decompressed_bytes),
        )
    }
}

fn zip_problem(e: &zip::result::ZipError) -> Problem {
    use zip::result::ZipError;
    match e {
        ZipError::UnsupportedArchive(m) if m.contains("ncrypt") || m.contains("assword") => {
            Problem::new(ProblemKind::Encrypted, "zip archive is encrypted")
        }
        ZipError::UnsupportedArchive(m) => Problem::new(ProblemKind::Unsupported, format!("zip: {m}")),
        ZipError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Problem::new(ProblemKind::Truncated, "zip archive ends early")
        }
        ZipError::Io(e) => Problem::new(ProblemKind::Corrupt, format!("zip: {}", io_kind(e))),
        // Sniffing saw a zip header; no end-of-central-directory record means the file was cut short.
        ZipError::InvalidArchive(m) if m.contains("EOCD") || m.to_ascii_lowercase().contains("end of central directory") => {
            Problem::new(ProblemKind::Truncated, "zip archive ends early (no central directory)")
        }
        ZipError::InvalidArchive(m) => Problem::new(ProblemKind::Corrupt, format!("not a valid zip archive: {m}")),
        other => Problem::new(ProblemKind::Corrupt, format!("zip: {other}")),
    }
}

fn io_kind(e: &std::io::Error) -> String {
    // The io error text can quote data in some decoders; keep only its kind.
    format!("{:?}", e.kind())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    /// A zip archive of the given entries (deflated), as office packages are.
    pub(crate) fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            let stored = *name == "mimetype";
            let method = if stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(*name, options).expect("start entry");
            w.write_all(data).expect("write entry");
        }
        w.finish().expect("finish zip").into_inner()
    }
}
