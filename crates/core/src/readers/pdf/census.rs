//! Loading a PDF within one budget for the whole document: the bytes its object streams
//! decompress to, the number of its objects and the memory they take once parsed.
//!
//! lopdf parses every object of the file, and every object stream whole, before any of our code
//! sees the document: a 1.5 MB file whose one object stream holds 65,000 small dictionaries
//! parses to 480 MB of objects. lopdf calls a filter with each object as it loads it, and with
//! each object stream *before* it parses the stream's members. The census is that filter: it
//! decodes each object stream itself (drawing from the document's decompression allowance, and
//! handing lopdf the decoded bytes so nothing is decoded twice), estimates what the members will
//! take, and stops the load at the first object that would pass a limit. A load that was stopped
//! is refused whole: a partial object graph is not a document anyone can trust.
//!
//! lopdf's filter is a plain `fn`, so the running totals live in a thread-local for the duration
//! of one [`load`] on the calling thread (each reader has its own thread).
//!
//! Not covered: a PDF encrypted with an empty user password, which lopdf decrypts through its own
//! path without the filter; there each stream is capped instead (see [`load`]).

use crate::limits::Limits;
use lopdf::{LoadOptions, Object, ObjectId, Stream};
use std::cell::RefCell;
use std::collections::HashSet;

/// Estimated memory of one parsed value (number, name, string, array, dictionary entry): the
/// size of a lopdf `Object` with its share of the map or vector that holds it and of the
/// allocator's overhead. Measured: the 3.2 million values of `pdfjs-bug1978317.pdf` took
/// about 470 MB, about 146 bytes each with their text.
const VALUE_BYTES: u64 = 128;
/// For an encrypted file, which lopdf loads without the census: the largest a single stream may
/// decompress to is the object budget divided by this (a value takes at least two bytes of text).
const ENCRYPTED_STREAM_SHARE: u64 = VALUE_BYTES / 2;

/// Why a load was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cut {
    /// More indirect objects than `max_pdf_objects`.
    Objects,
    /// The parsed objects would take more than `max_pdf_object_bytes`.
    ObjectBytes,
    /// The object streams decompress to more than `max_decompressed_bytes` in all.
    Decompressed,
}

/// A document loaded within the budget, and what loading it used of the decompression allowance.
pub(super) struct Loaded {
    pub doc: lopdf::Document,
    pub decompressed: u64,
}

/// Why a load gave no document.
pub(super) enum Failed {
    Cut(Cut),
    Lopdf(lopdf::Error),
}

struct Census {
    decompressed: u64,
    decompress_limit: u64,
    objects: usize,
    object_limit: usize,
    bytes: u64,
    byte_limit: u64,
    /// Members of the object stream admitted last: lopdf hands them to the filter right after
    /// the stream, and they were counted with it.
    members: HashSet<u32>,
    cut: Option<Cut>,
}

thread_local! {
    static CENSUS: RefCell<Option<Census>> = const { RefCell::new(None) };
}

/// Loads a PDF within the document's budget. Like lopdf's own loader, a file whose page tree
/// does not load is read again with its cross-reference table rebuilt by scanning (lopdf skips
/// that step when a filter is given).
pub(super) fn load(bytes: &[u8], limits: &Limits) -> Result<Loaded, Failed> {
    let first = load_once(bytes, limits, false)?;
    let needs_rebuild = first.doc.xref_recovery != Some(lopdf::xref::XrefRecovery::Reconstructed)
        && !first.doc.trailer.has(b"Encrypt")
        && !page_tree_loaded(&first.doc);
    if !needs_rebuild {
        return Ok(first);
    }
    match load_once(bytes, limits, true) {
        Ok(rebuilt)
            if rebuilt.doc.xref_recovery == Some(lopdf::xref::XrefRecovery::Reconstructed)
                && page_tree_loaded(&rebuilt.doc) =>
        {
            Ok(rebuilt)
        }
        Err(Failed::Cut(cut)) => Err(Failed::Cut(cut)),
        _ => Ok(first),
    }
}

fn load_once(bytes: &[u8], limits: &Limits, force_reconstruct: bool) -> Result<Loaded, Failed> {
    let mut per_stream = limits.max_decompressed_bytes;
    if crate::sniff::find(bytes, b"/Encrypt").is_some() {
        // lopdf decrypts such a file without calling the filter: cap each stream so that no one
        // object stream can parse to more than the object budget.
        per_stream = per_stream.min(limits.max_pdf_object_bytes / ENCRYPTED_STREAM_SHARE);
    }
    let options = LoadOptions {
        filter: Some(admit),
        max_decompressed_size: Some(usize::try_from(per_stream).unwrap_or(usize::MAX)),
        force_reconstruct,
        ..LoadOptions::default()
    };
    CENSUS.with_borrow_mut(|c| {
        *c = Some(Census {
            decompressed: 0,
            decompress_limit: limits.max_decompressed_bytes,
            objects: 0,
            object_limit: limits.max_pdf_objects,
            bytes: 0,
            byte_limit: limits.max_pdf_object_bytes,
            members: HashSet::new(),
            cut: None,
        })
    });
    let loaded = lopdf::Document::load_mem_with_options(bytes, options);
    let census = CENSUS.with_borrow_mut(Option::take);
    let (cut, decompressed) = census.map(|c| (c.cut, c.decompressed)).unwrap_or((None, 0));
    if let Some(cut) = cut {
        return Err(Failed::Cut(cut));
    }
    loaded.map(|doc| Loaded { doc, decompressed }).map_err(Failed::Lopdf)
}

/// lopdf's filter: keeps the object when the document's budget allows it.
///
/// lopdf 0.47 uses the returned object for a member of an object stream, but for an object
/// read from the file it keeps its own (the one passed in, perhaps changed) and only looks
/// whether something was returned: there a placeholder is returned, so that nothing is cloned.
fn admit(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    CENSUS.with_borrow_mut(|c| match c {
        None => Some((id, std::mem::replace(object, Object::Null))),
        Some(c) => match c.admit(id, object) {
            Admit::No => None,
            Admit::Member => Some((id, std::mem::replace(object, Object::Null))),
            Admit::Top => Some((id, Object::Null)),
        },
    })
}

enum Admit {
    No,
    /// A member of the object stream admitted last.
    Member,
    /// An object read from the file itself.
    Top,
}

impl Census {
    fn admit(&mut self, id: ObjectId, object: &mut Object) -> Admit {
        if self.cut.is_some() {
            // The load is refused: keep nothing more.
            return Admit::No;
        }
        if id.1 == 0 && self.members.remove(&id.0) {
            return Admit::Member;
        }
        self.members.clear();
        let kept = match object {
            Object::Stream(stream) if stream.dict.has_type(b"ObjStm") => self.object_stream(stream),
            other => self.charge(1, weight(other)),
        };
        if kept { Admit::Top } else { Admit::No }
    }

    fn charge(&mut self, objects: usize, bytes: u64) -> bool {
        self.objects = self.objects.saturating_add(objects);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.objects > self.object_limit {
            self.cut = Some(Cut::Objects);
        } else if self.bytes > self.byte_limit {
            self.cut = Some(Cut::ObjectBytes);
        }
        self.cut.is_none()
    }

    /// An object stream, before lopdf parses it: decoded here within what is left of the
    /// allowance, its members counted from its index and their values from its text.
    fn object_stream(&mut self, stream: &mut Stream) -> bool {
        let left = self.decompress_limit.saturating_sub(self.decompressed);
        let content = match stream.get_plain_content_with_limit(usize::try_from(left).unwrap_or(usize::MAX)) {
            Ok(content) => content,
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
                self.cut = Some(Cut::Decompressed);
                return false;
            }
            // lopdf finds it broken too, and skips it.
            Err(_) => return self.charge(1, weight_of_dict(&stream.dict)),
        };
        self.decompressed = self.decompressed.saturating_add(content.len() as u64);
        let first = stream
            .dict
            .get(b"First")
            .and_then(Object::as_i64)
            .ok()
            .and_then(|f| usize::try_from(f).ok())
            .unwrap_or(0)
            .min(content.len());
        let (index, body) = content.split_at(first);
        let numbers: Vec<u32> = index
            .split(|b| b.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
            .filter_map(|t| std::str::from_utf8(t).ok()?.parse().ok())
            .collect();
        let members: Vec<u32> = numbers.chunks_exact(2).map(|pair| pair[0]).collect();
        let cost = values(body)
            .saturating_mul(VALUE_BYTES)
            .saturating_add(content.len() as u64)
            .saturating_add(weight_of_dict(&stream.dict));
        if !self.charge(members.len().saturating_add(1), cost) {
            return false;
        }
        self.members = members.into_iter().collect();
        // lopdf parses the decoded bytes as they are, without decoding them again.
        stream.set_plain_content(content);
        true
    }
}

/// How many values a stretch of PDF syntax holds, at most: tokens are counted, and every
/// delimiter counts as one (an overestimate for strings with spaces in them).
fn values(text: &[u8]) -> u64 {
    let mut n = 0u64;
    let mut in_token = false;
    for &b in text {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0' => in_token = false,
            b'/' | b'[' | b']' | b'<' | b'>' | b'(' | b')' | b'{' | b'}' => {
                n += 1;
                in_token = false;
            }
            _ => {
                if !in_token {
                    n += 1;
                }
                in_token = true;
            }
        }
    }
    n
}

/// Estimated memory of one parsed object, its nested values and stream bytes included.
///
/// Called for every object of the file, so values without nested ones are counted where they
/// are met, and only arrays and dictionaries inside the object wait on a stack (which most
/// objects never need, and which is then never allocated).
fn weight(object: &Object) -> u64 {
    let mut total = 0u64;
    let mut stack: Vec<&Object> = Vec::new();
    let mut next = Some(object);
    while let Some(o) = next {
        total = total.saturating_add(VALUE_BYTES);
        let mut inner = |v, key: usize, total: &mut u64| {
            *total = total.saturating_add(key as u64);
            match leaf_weight(v) {
                Some(w) => *total = total.saturating_add(w),
                None => stack.push(v),
            }
        };
        match o {
            Object::Name(b) | Object::String(b, _) => total = total.saturating_add(b.len() as u64),
            Object::Array(items) => items.iter().for_each(|v| inner(v, 0, &mut total)),
            Object::Dictionary(d) => d.iter().for_each(|(k, v)| inner(v, k.len(), &mut total)),
            Object::Stream(s) => {
                total = total.saturating_add(s.content.len() as u64);
                s.dict.iter().for_each(|(k, v)| inner(v, k.len(), &mut total));
            }
            _ => {}
        }
        next = stack.pop();
    }
    total
}

/// The weight of a value with no values inside it; `None` for an array, dictionary or stream.
fn leaf_weight(value: &Object) -> Option<u64> {
    match value {
        Object::Array(_) | Object::Dictionary(_) | Object::Stream(_) => None,
        Object::Name(b) | Object::String(b, _) => Some(VALUE_BYTES.saturating_add(b.len() as u64)),
        _ => Some(VALUE_BYTES),
    }
}

fn weight_of_dict(dict: &lopdf::Dictionary) -> u64 {
    dict.iter().fold(VALUE_BYTES, |t, (k, v)| t.saturating_add(k.len() as u64).saturating_add(weight(v)))
}

/// Whether the catalog leads to the root of a page tree, as lopdf checks before rebuilding.
fn page_tree_loaded(doc: &lopdf::Document) -> bool {
    doc.catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .and_then(|root| doc.get_dictionary(root))
        .and_then(|root| root.get_deref(b"Kids", doc))
        .and_then(Object::as_array)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_counts_tokens_and_delimiters() {
        // Nine delimiters, seven tokens.
        assert_eq!(values(b"<< /Type /Annot /Rect [ 42 746 44 750 ] >>"), 16);
        assert_eq!(values(b"0 0 0"), 3);
        assert_eq!(values(b""), 0);
    }

    #[test]
    fn weight_counts_nested_values_and_bytes() {
        let inner = Object::Array(vec![Object::Integer(1), Object::Integer(2)]);
        let mut dict = lopdf::Dictionary::new();
        dict.set("K", inner);
        // The dictionary, its array and two integers; one byte of key.
        assert_eq!(weight(&Object::Dictionary(dict)), 4 * VALUE_BYTES + 1);
    }

    #[test]
    fn weight_counts_streams_strings_and_deep_nesting() {
        let mut dict = lopdf::Dictionary::new();
        dict.set("Name", Object::Name(b"Helv".to_vec()));
        let stream = Object::Stream(Stream::new(dict, b"0123456789".to_vec()));
        // The stream, its dictionary's name (key 4 bytes, value 4) and the /Length that
        // `Stream::new` adds (key 6 bytes), and 10 bytes of content.
        assert_eq!(weight(&stream), 3 * VALUE_BYTES + 4 + 4 + 6 + 10);
        // [[[ (ab) ]]]: three arrays and a string of two bytes.
        let deep = Object::Array(vec![Object::Array(vec![Object::Array(vec![Object::string_literal("ab")])])]);
        assert_eq!(weight(&deep), 4 * VALUE_BYTES + 2);
    }
}
