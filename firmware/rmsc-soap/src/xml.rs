//! A hardened pull parser over a complete XML document held in memory.
//!
//! quick-xml is a fast tokenizer, not a validator: it leaves attribute syntax, entity
//! references, text outside the root and document-level rules to its caller. This walker
//! adds those checks and the resource limits, so that every consumer in the crate (envelope
//! validation, field extraction) sees only well-formed, bounded input. DTDs are refused
//! outright, which is what makes entity expansion (XXE, billion laughs) impossible.

use crate::envelope::{
    EnvelopeError, MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_NAMESPACES_IN_SCOPE,
};
use crate::sanitize::{bytes_for_error, for_error};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::borrow::Cow;

/// One checked piece of the document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Node<'i> {
    /// An element starts (self-closing elements yield `Start` then `End`).
    Start {
        /// The namespace URI, `None` when the element is in no namespace.
        ns: Option<Vec<u8>>,
        local: Vec<u8>,
    },
    /// The innermost open element ends.
    End,
    /// Character data inside the root element, entity references resolved (CDATA included).
    /// Borrowed from the input unless a reference had to be replaced, so that large text
    /// (a 64 KB license request is mostly one text node) is never copied.
    Text(Cow<'i, str>),
}

/// Walks a document and yields [`Node`]s, or the first reason the document is unacceptable.
pub(crate) struct Walker<'i> {
    reader: NsReader<&'i [u8]>,
    /// Namespace declarations made by each open element, to keep the in-scope total.
    declared: Vec<usize>,
    in_scope: usize,
    elements: usize,
    seen_event: bool,
    root_closed: bool,
}

impl<'i> Walker<'i> {
    /// Checks the encoding and the character repertoire of the whole document, then prepares
    /// to walk it.
    pub(crate) fn new(body: &'i [u8]) -> Result<Walker<'i>, EnvelopeError> {
        if body.is_empty() {
            return Err(EnvelopeError::Empty);
        }
        let text = std::str::from_utf8(body).map_err(|e| EnvelopeError::NotUtf8 {
            position: e.valid_up_to(),
        })?;
        if let Some((position, c)) = first_non_xml_char(text) {
            return Err(not_xml(
                position as u64,
                &format!("character U+{:04X} is not allowed in XML", u32::from(c)),
            ));
        }
        let mut reader = NsReader::from_reader(body);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = true;
        config.allow_unmatched_ends = false;
        config.trim_text(false);
        Ok(Walker {
            reader,
            declared: Vec::new(),
            in_scope: 0,
            elements: 0,
            seen_event: false,
            root_closed: false,
        })
    }

    /// Number of currently open elements.
    pub(crate) fn depth(&self) -> usize {
        self.declared.len()
    }

    /// The next node, or `None` at the end of a complete document.
    pub(crate) fn next_node(&mut self) -> Result<Option<Node<'i>>, EnvelopeError> {
        loop {
            let first = !self.seen_event;
            self.seen_event = true;
            let (resolved, event) = match self.reader.read_resolved_event() {
                Ok(pair) => pair,
                Err(e) => return Err(not_xml(self.reader.error_position(), &e.to_string())),
            };
            let ns = match (&event, resolved) {
                (Event::Start(_), ResolveResult::Bound(ns)) => Some(ns.as_ref().to_vec()),
                (Event::Start(_), ResolveResult::Unknown(prefix)) => {
                    return Err(self.here(&format!(
                        "element prefix `{}` is not declared",
                        bytes_for_error(&prefix)
                    )))
                }
                _ => None,
            };
            match event {
                Event::Decl(decl) => {
                    if !first {
                        return Err(self.here("XML declaration is not at the start"));
                    }
                    if let Some(encoding) = decl.encoding() {
                        let encoding = encoding.map_err(|e| self.here(&e.to_string()))?;
                        if !encoding.eq_ignore_ascii_case(b"utf-8") {
                            return Err(EnvelopeError::UnsupportedEncoding {
                                encoding: bytes_for_error(&encoding),
                            });
                        }
                    }
                }
                Event::DocType(_) => return Err(EnvelopeError::DoctypeForbidden),
                Event::PI(_) => return Err(EnvelopeError::ProcessingInstructionForbidden),
                Event::Comment(_) => {}
                Event::Text(text) => {
                    if self.depth() == 0 {
                        if !is_xml_whitespace(&text) {
                            return Err(self.here("text outside the root element"));
                        }
                        continue;
                    }
                    let unescaped = text.unescape().map_err(|e| self.here(&e.to_string()))?;
                    // Borrowed text is a slice of the document, whose characters `new` has
                    // checked; only text with replaced references needs another look.
                    if let Cow::Owned(replaced) = &unescaped {
                        if let Some(c) = replaced.chars().find(|&c| !is_xml_char(c)) {
                            return Err(self.here(&format!(
                                "character reference to U+{:04X} is not allowed in XML",
                                u32::from(c)
                            )));
                        }
                    }
                    return Ok(Some(Node::Text(unescaped)));
                }
                Event::CData(data) => {
                    if self.depth() == 0 {
                        return Err(self.here("CDATA outside the root element"));
                    }
                    let text = data.decode().map_err(|e| self.here(&e.to_string()))?;
                    return Ok(Some(Node::Text(text)));
                }
                Event::Start(start) => {
                    if self.root_closed {
                        return Err(self.here("content after the root element"));
                    }
                    self.open(&start)?;
                    return Ok(Some(Node::Start {
                        ns,
                        local: start.local_name().as_ref().to_vec(),
                    }));
                }
                // quick-xml already matched the end tag's name against the open element.
                Event::End(_) => {
                    let declared = self.declared.pop().unwrap_or(0);
                    self.in_scope = self.in_scope.saturating_sub(declared);
                    if self.declared.is_empty() {
                        self.root_closed = true;
                    }
                    return Ok(Some(Node::End));
                }
                // expand_empty_elements turns every Empty into Start + End.
                Event::Empty(_) => return Err(self.here("unexpected self-closing element")),
                Event::Eof => {
                    if !self.declared.is_empty() {
                        return Err(self.here("the document ends inside an element"));
                    }
                    if !self.root_closed {
                        return Err(self.here("the document has no root element"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Applies the limits and attribute checks to a start tag and records it as open.
    fn open(&mut self, start: &BytesStart<'_>) -> Result<(), EnvelopeError> {
        if self.depth() >= MAX_DEPTH {
            return Err(EnvelopeError::TooDeep { limit: MAX_DEPTH });
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(EnvelopeError::TooManyElements {
                limit: MAX_ELEMENTS,
            });
        }
        let mut count = 0usize;
        let mut declarations = 0usize;
        // Duplicate checks are quadratic in the attribute count, hence the count limit is
        // applied while iterating, before the cost can grow.
        for attribute in start.attributes().with_checks(true) {
            count += 1;
            if count > MAX_ATTRIBUTES {
                return Err(EnvelopeError::TooManyAttributes {
                    limit: MAX_ATTRIBUTES,
                });
            }
            let attribute = attribute.map_err(|e| self.here(&e.to_string()))?;
            attribute
                .unescape_value()
                .map_err(|e| self.here(&e.to_string()))?;
            if attribute.key.as_namespace_binding().is_some() {
                declarations += 1;
                continue;
            }
            if let (ResolveResult::Unknown(prefix), _) =
                self.reader.resolve_attribute(attribute.key)
            {
                return Err(self.here(&format!(
                    "attribute prefix `{}` is not declared",
                    bytes_for_error(&prefix)
                )));
            }
        }
        self.in_scope += declarations;
        if self.in_scope > MAX_NAMESPACES_IN_SCOPE {
            return Err(EnvelopeError::TooManyNamespaces {
                limit: MAX_NAMESPACES_IN_SCOPE,
            });
        }
        self.declared.push(declarations);
        Ok(())
    }

    fn here(&self, reason: &str) -> EnvelopeError {
        not_xml(self.reader.buffer_position(), reason)
    }
}

fn not_xml(position: u64, reason: &str) -> EnvelopeError {
    EnvelopeError::NotXml {
        position,
        reason: for_error(reason),
    }
}

/// The byte offset and value of the first character of `text` outside the `Char` production.
///
/// Equivalent to testing [`is_xml_char`] on every character, but works on bytes: in valid
/// UTF-8 the only excluded characters are the C0 controls other than tab, LF and CR (one byte
/// below 0x20) and U+FFFE/U+FFFF (`EF BF BE`/`EF BF BF`). Blocks without such a byte, i.e.
/// nearly all of any real document, are passed over with a branch-free test the compiler
/// vectorizes, which matters because every relayed request body is checked.
fn first_non_xml_char(text: &str) -> Option<(usize, char)> {
    const BLOCK: usize = 64;
    let bytes = text.as_bytes();
    let suspect = |b: u8| b < 0x20 || b == 0xEF;
    for (index, block) in bytes.chunks(BLOCK).enumerate() {
        if !block.iter().fold(false, |any, &b| any | suspect(b)) {
            continue;
        }
        let start = index * BLOCK;
        for (offset, &b) in block.iter().enumerate() {
            let position = start + offset;
            if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') {
                return Some((position, char::from(b)));
            }
            if b == 0xEF {
                // A lead byte: the character is whole in `text`, whatever the block boundary.
                if let Some(c) = text.get(position..).and_then(|rest| rest.chars().next()) {
                    if !is_xml_char(c) {
                        return Some((position, c));
                    }
                }
            }
        }
    }
    None
}

/// The `Char` production of XML 1.0 (surrogates cannot occur in a Rust `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

fn is_xml_whitespace(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Every node of `body`, for tests.
#[cfg(test)]
pub(crate) fn nodes(body: &[u8]) -> Result<Vec<Node<'_>>, EnvelopeError> {
    let mut walker = Walker::new(body)?;
    let mut out = Vec::new();
    while let Some(node) = walker.next_node()? {
        out.push(node);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
