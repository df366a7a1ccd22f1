//! Small helpers over lopdf's objects shared by the PDF reader's parts: numbers, references
//! followed, and stream content decoded within a cap and the document's decompression budget.

use lopdf::{Document, Object};

/// A number object (integer or real) as `f32`.
pub(super) fn number(o: &Object) -> Option<f32> {
    match o {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

/// The object a reference points to (or the object itself); None when missing or dangling.
pub(super) fn deref<'a>(doc: &'a Document, o: Option<&'a Object>) -> Option<&'a Object> {
    doc.dereference(o?).ok().map(|(_, o)| o)
}

/// Why a stream could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StreamError {
    /// It decompresses beyond what is allowed.
    TooLarge,
    /// Its filters fail on its data.
    Broken,
}

/// Decoded stream content, at most `cap` bytes and within the document's budget, which is
/// charged.
pub(super) fn stream_bytes(stream: &lopdf::Stream, cap: usize, budget: &mut usize) -> Result<Vec<u8>, StreamError> {
    let limit = cap.min(*budget);
    match stream.get_plain_content_with_limit(limit) {
        Ok(bytes) => {
            *budget = budget.saturating_sub(bytes.len());
            Ok(bytes)
        }
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => Err(StreamError::TooLarge),
        Err(_) => Err(StreamError::Broken),
    }
}
