//! XML plumbing shared by the DOCX and OpenDocument readers: a guarded event reader (element
//! depth capped at `max_depth × `[`crate::limits::xml::DEPTH_FACTOR`], the deadline checked, no
//! entity expanded but the five predefined ones and character references), the walker both
//! readers drive over it, and the decoding of a part's bytes. It knows nothing of either format
//! beyond the namespaces they use.

use crate::document::{Problem, ProblemKind};
use crate::limits::{Deadline, Limits};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;
use std::borrow::Cow;

/// Events between two deadline checks.
const CHECK_EVERY: u32 = 512;

/// The namespaces the readers care about, recognised by URI whatever their prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// No namespace (unprefixed attributes, unqualified elements).
    None,
    W,
    W14,
    Mc,
    Rels,
    Drawing,
    Vml,
    /// `urn:schemas-microsoft-com:office:office` (OLE objects in Word).
    OfficeVml,
    Office,
    Text,
    Table,
    Form,
    Draw,
    Manifest,
    Xml,
    Other,
}

fn classify(res: &ResolveResult<'_>) -> Ns {
    let uri = match res {
        ResolveResult::Bound(ns) => ns.0,
        ResolveResult::Unbound => return Ns::None,
        ResolveResult::Unknown(_) => return Ns::Other,
    };
    match uri {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        | "http://purl.oclc.org/ooxml/wordprocessingml/main" => Ns::W,
        "http://schemas.microsoft.com/office/word/2010/wordml" => Ns::W14,
        "http://schemas.openxmlformats.org/markup-compatibility/2006" => Ns::Mc,
        "http://schemas.openxmlformats.org/package/2006/relationships" => Ns::Rels,
        "http://schemas.openxmlformats.org/drawingml/2006/main"
        | "http://schemas.openxmlformats.org/drawingml/2006/picture"
        | "http://purl.oclc.org/ooxml/drawingml/main" => Ns::Drawing,
        "urn:schemas-microsoft-com:vml" => Ns::Vml,
        "urn:schemas-microsoft-com:office:office" => Ns::OfficeVml,
        "urn:oasis:names:tc:opendocument:xmlns:office:1.0" => Ns::Office,
        "urn:oasis:names:tc:opendocument:xmlns:text:1.0" => Ns::Text,
        "urn:oasis:names:tc:opendocument:xmlns:table:1.0" => Ns::Table,
        "urn:oasis:names:tc:opendocument:xmlns:form:1.0" => Ns::Form,
        "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" => Ns::Draw,
        "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" => Ns::Manifest,
        "http://www.w3.org/XML/1998/namespace" => Ns::Xml,
        _ => Ns::Other,
    }
}

pub enum Item<'i> {
    Start(Ns, BytesStart<'i>),
    End,
    Text(Cow<'i, str>),
}

/// quick-xml's namespace-aware reader with the limits of this product: depth, deadline, and
/// no entity expansion. Empty elements come as Start + End.
pub struct XmlReader<'i> {
    reader: NsReader<&'i [u8]>,
    part: &'static str,
    depth: usize,
    max_depth: usize,
    deadline: Deadline,
    events: u32,
    unexpanded: usize,
    dtd_entities: bool,
}

impl<'i> XmlReader<'i> {
    pub fn new(text: &'i str, part: &'static str, limits: &Limits, deadline: Deadline) -> Self {
        let mut reader = NsReader::from_str(text);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        XmlReader {
            reader,
            part,
            depth: 0,
            max_depth: limits.max_depth.saturating_mul(crate::limits::xml::DEPTH_FACTOR).max(1),
            deadline,
            events: 0,
            unexpanded: 0,
            dtd_entities: false,
        }
    }

    /// The next element start, element end or piece of text; `Ok(None)` at the end.
    pub fn next(&mut self) -> Result<Option<Item<'i>>, Problem> {
        loop {
            self.events = self.events.wrapping_add(1);
            if self.events.is_multiple_of(CHECK_EVERY) && self.deadline.expired() {
                return Err(Problem::new(ProblemKind::Timeout, format!("reading the {} took too long", self.part)));
            }
            let (res, event) = match self.reader.read_resolved_event() {
                Ok((res, event)) => (classify(&res), event),
                Err(e) => return Err(self.xml_error(&e)),
            };
            match event {
                Event::Start(e) => {
                    self.depth += 1;
                    if self.depth > self.max_depth {
                        return Err(Problem::new(
                            ProblemKind::LimitExceeded,
                            format!("XML elements in the {} nest deeper than {}", self.part, self.max_depth),
                        ));
                    }
                    return Ok(Some(Item::Start(res, e)));
                }
                // Not produced with expand_empty_elements; handled the same way regardless.
                Event::Empty(_) => continue,
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Some(Item::End));
                }
                Event::Text(t) => return Ok(Some(Item::Text(t.xml10_content()))),
                Event::CData(t) => return Ok(Some(Item::Text(t.xml10_content()))),
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        return Ok(Some(Item::Text(Cow::Owned(c.to_string()))));
                    }
                    match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => return Ok(Some(Item::Text(Cow::Borrowed(s)))),
                        None => self.unexpanded += 1,
                    }
                }
                Event::DocType(t) => {
                    if t.contains("ENTITY") {
                        self.dtd_entities = true;
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(Problem::new(
                            ProblemKind::Truncated,
                            format!("the {} ends inside an element", self.part),
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn xml_error(&self, e: &quick_xml::Error) -> Problem {
        use quick_xml::errors::IllFormedError;
        let pos = self.reader.error_position();
        let what = match e {
            quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_)) => {
                return Problem::new(ProblemKind::Truncated, format!("the {} ends inside an element", self.part));
            }
            quick_xml::Error::Syntax(_) => "syntax error",
            quick_xml::Error::IllFormed(_) => "mismatched tags",
            quick_xml::Error::InvalidAttr(_) => "invalid attribute",
            quick_xml::Error::Encoding(_) => "bad encoding",
            quick_xml::Error::Escape(_) => "bad reference",
            quick_xml::Error::Namespace(_) => "namespace error",
            quick_xml::Error::Io(_) => "read error",
        };
        Problem::new(
            ProblemKind::Corrupt,
            format!("the {} is not well-formed XML ({what} near byte {pos})", self.part),
        )
    }

    /// The value of attribute `ns:local`, predefined and character references resolved.
    /// For [`Ns::None`] and the Word namespace, an unprefixed attribute of that name also counts.
    pub fn attr(&self, e: &BytesStart<'_>, ns: Ns, local: &str) -> Option<String> {
        for a in e.attributes().with_checks(false).flatten() {
            let (res, name) = self.reader.resolver().resolve_attribute(a.key);
            if name.as_ref() != local {
                continue;
            }
            let a_ns = classify(&res);
            if a_ns == ns || (a_ns == Ns::None && ns == Ns::W) {
                return a.normalized_value(XmlVersion::Implicit1_0).ok().map(Cow::into_owned);
            }
        }
        None
    }

    /// A problem when entity references were met and left unexpanded.
    pub fn entity_problem(&self) -> Option<Problem> {
        (self.dtd_entities || self.unexpanded > 0).then(|| {
            Problem::new(
                ProblemKind::Unsupported,
                format!(
                    "the {} uses XML entities (DTD declared: {}, references left unexpanded: {})",
                    self.part,
                    if self.dtd_entities { "yes" } else { "no" },
                    self.unexpanded
                ),
            )
        })
    }
}

/// A walker over the elements of one XML part (the DOCX and OpenDocument readers each have
/// one), driven by [`walk`]. The walker says what an element means when it starts (`open`),
/// what its end does (`close`) and what text does; it keeps the stack of open elements and
/// the skip marker itself, since its own decisions look at them: while `skip_from` is
/// `Some(n)`, an element opened when the stack had `n` entries is being skipped, with
/// everything inside it.
pub trait Walk {
    type El;
    /// What an element inside a skipped one is pushed as.
    const SKIPPED: Self::El;
    fn els(&mut self) -> &mut Vec<Self::El>;
    fn skip_from(&mut self) -> &mut Option<usize>;
    /// An element starts (not inside a skipped one): what it is to the walker.
    fn open(&mut self, reader: &XmlReader<'_>, ns: Ns, e: &BytesStart<'_>) -> Self::El;
    /// An element ends (not inside a skipped one), or was left open when reading stopped.
    fn close(&mut self, el: Self::El);
    /// Character data, not inside a skipped element.
    fn text(&mut self, t: &str);
    /// The reader failed (bad XML, a limit, the deadline); reading stops there.
    fn problem(&mut self, p: Problem);
    /// Whether the walker has had enough (a limit reached): checked after each event it saw.
    fn stopped(&self) -> bool;
}

/// Feeds the events of `reader` to `walker` until the end, an error or the walker stops;
/// then closes whatever was left open (a broken or cut document, a limit), so that what was
/// read is kept.
pub fn walk<W: Walk>(walker: &mut W, reader: &mut XmlReader<'_>) {
    loop {
        match reader.next() {
            Ok(Some(Item::Start(ns, e))) => {
                if walker.skip_from().is_some() {
                    walker.els().push(W::SKIPPED);
                    continue;
                }
                let el = walker.open(reader, ns, &e);
                walker.els().push(el);
            }
            Ok(Some(Item::End)) => {
                let Some(el) = walker.els().pop() else { continue };
                if let Some(n) = *walker.skip_from() {
                    if walker.els().len() <= n {
                        *walker.skip_from() = None;
                    }
                    continue;
                }
                walker.close(el);
            }
            Ok(Some(Item::Text(t))) => {
                if walker.skip_from().is_none() {
                    walker.text(&t);
                }
            }
            Ok(None) => break,
            Err(p) => {
                walker.problem(p);
                break;
            }
        }
        if walker.stopped() {
            break;
        }
    }
    *walker.skip_from() = None;
    while let Some(el) = walker.els().pop() {
        walker.close(el);
    }
}

/// The local name of an element.
pub fn local<'a>(e: &'a BytesStart<'_>) -> &'a str {
    let name = e.name();
    let full: &'a str = name.0;
    full.rsplit(':').next().unwrap_or(full)
}

/// XML bytes as text: a BOM honoured, invalid UTF-8 replaced (and reported).
pub fn decode<'a>(raw: &'a [u8], part: &str, problems: &mut Vec<Problem>) -> Cow<'a, str> {
    if let Some(rest) = raw.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode(rest, part, problems);
    }
    let utf16 = |le: bool| -> Cow<'a, str> {
        let units = raw[2..].chunks_exact(2).map(|p| {
            let pair = [p.first().copied().unwrap_or(0), p.get(1).copied().unwrap_or(0)];
            if le {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        Cow::Owned(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect())
    };
    if raw.starts_with(&[0xFF, 0xFE]) {
        return utf16(true);
    }
    if raw.starts_with(&[0xFE, 0xFF]) {
        return utf16(false);
    }
    match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            problems.push(Problem::new(ProblemKind::Corrupt, format!("the {part} is not valid UTF-8")));
            String::from_utf8_lossy(raw)
        }
    }
}

/// OOXML on/off values: absent or "1"/"true"/"on" is on.
pub fn on_off(val: Option<&str>) -> bool {
    !matches!(val.map(str::trim), Some("0" | "false" | "off" | "False" | "FALSE"))
}
