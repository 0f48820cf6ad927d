//! Validation of complete SOAP request bodies before they are relayed.
//!
//! The relay buffers each (bounded) request body and checks it here, so malformed or hostile
//! input is answered with a client fault locally and never reaches the cloud. The checks are
//! structural only: a well-formed UTF-8 document without DTD, whose root is a SOAP 1.1 or 1.2
//! `Envelope` holding an optional `Header` and a `Body` whose first child is the operation
//! named by the SOAPAction. The operation's content is the cloud's business.

use crate::action::SoapVersion;
use crate::endpoints::Operation;
use crate::sanitize::bytes_for_error;
use crate::xml::{Node, Walker};

/// Deepest element nesting accepted. Real requests (XrML certificates inside a SOAP body)
/// stay below 30.
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document.
pub const MAX_ELEMENTS: usize = 50_000;
/// Most attributes (namespace declarations included) accepted on one element.
pub const MAX_ATTRIBUTES: usize = 64;
/// Most namespace declarations in scope at once; bounds the cost of resolving each name.
pub const MAX_NAMESPACES_IN_SCOPE: usize = 256;

/// Local name of the protocol's version header.
const VERSION_DATA: &[u8] = b"VersionData";

/// What a valid request envelope told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeInfo {
    /// SOAP version of the envelope namespace.
    pub version: SoapVersion,
    /// Whether the `Header` holds a `VersionData` element.
    pub has_version_data: bool,
}

/// Why a request body is not an acceptable SOAP envelope. Every variant is the caller's
/// fault; messages never include more than a bounded, escaped excerpt of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the request body is empty")]
    Empty,
    #[error("the request body is not UTF-8 (invalid byte at offset {position})")]
    NotUtf8 { position: usize },
    #[error("the XML declaration names encoding {encoding:?}; only UTF-8 is accepted")]
    UnsupportedEncoding { encoding: String },
    #[error("the request body is not well-formed XML at offset {position}: {reason}")]
    NotXml { position: u64, reason: String },
    #[error("document type declarations (DTD) are not accepted")]
    DoctypeForbidden,
    #[error("processing instructions are not accepted in SOAP messages")]
    ProcessingInstructionForbidden,
    #[error("elements are nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the document has more than {limit} elements")]
    TooManyElements { limit: usize },
    #[error("an element has more than {limit} attributes")]
    TooManyAttributes { limit: usize },
    #[error("more than {limit} namespace declarations are in scope")]
    TooManyNamespaces { limit: usize },
    #[error("the root element {found} is not a SOAP 1.1 or 1.2 Envelope")]
    NotAnEnvelope { found: String },
    #[error("unexpected element {found} in {parent}")]
    UnexpectedElement { parent: &'static str, found: String },
    #[error("unexpected text in {parent}")]
    UnexpectedText { parent: &'static str },
    #[error("the envelope has no Body")]
    NoBody,
    #[error("the Body is empty: it names no operation")]
    EmptyBody,
    #[error("the Body holds operation {found}, but the SOAPAction names {expected}")]
    WrongOperation { found: String, expected: String },
}

/// Checks that `body` is a complete, acceptable SOAP envelope for `expected`.
pub fn validate_request(body: &[u8], expected: &Operation) -> Result<EnvelopeInfo, EnvelopeError> {
    let scan = scan(body)?;
    let ns = expected.service.namespace().as_bytes();
    if scan.op_ns.as_deref() != Some(ns) || scan.op_local != expected.name.as_bytes() {
        return Err(EnvelopeError::WrongOperation {
            found: clark(scan.op_ns.as_deref(), &scan.op_local),
            expected: format!("{{{}}}{}", expected.service.namespace(), expected.name),
        });
    }
    Ok(EnvelopeInfo {
        version: scan.version,
        has_version_data: scan.has_version_data,
    })
}

/// The namespace (empty when none) and local name of the operation element in a valid
/// envelope's `Body`; the cloud stand-in dispatches on it.
pub fn body_operation_name(body: &[u8]) -> Result<(String, String), EnvelopeError> {
    let scan = scan(body)?;
    let ns = String::from_utf8_lossy(scan.op_ns.as_deref().unwrap_or_default()).into_owned();
    Ok((ns, String::from_utf8_lossy(&scan.op_local).into_owned()))
}

/// The text content (all character data, descendants included) of the first element whose
/// local name is `local_name`, or `None` when there is none or the document is not
/// acceptable XML up to the end of that element.
pub fn extract_text(body: &[u8], local_name: &str) -> Option<String> {
    let [text] = extract_texts(body, [local_name]);
    text
}

/// [`extract_text`] for several names in one walk of the document: the cloud stand-in reads
/// three optional fields of every relayed call, and each walk of a 4 KB body costs about as
/// much as the rest of its XML handling. Entry `i` of the answer is what
/// `extract_text(body, local_names[i])` answers; elements may nest inside each other.
pub fn extract_texts<const N: usize>(body: &[u8], local_names: [&str; N]) -> [Option<String>; N] {
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    let Ok(mut walker) = Walker::new(body) else {
        return found;
    };
    // Open captures: which name, the depth its element started at, the text so far.
    let mut open: Vec<(usize, usize, String)> = Vec::new();
    let mut pending = N;
    while pending > 0 {
        let Ok(Some(node)) = walker.next_node() else {
            break;
        };
        match node {
            Node::Start { local, .. } => {
                for (index, name) in local_names.iter().enumerate() {
                    let capturing = open.iter().any(|(i, _, _)| *i == index);
                    if found[index].is_none() && !capturing && local == name.as_bytes() {
                        open.push((index, walker.depth(), String::new()));
                    }
                }
            }
            Node::Text(text) => {
                for (_, _, out) in &mut open {
                    out.push_str(&text);
                }
            }
            Node::End => {
                let depth = walker.depth() + 1;
                while let Some((index, _, out)) = open.pop_if(|(_, started, _)| *started == depth) {
                    found[index] = Some(out);
                    pending -= 1;
                }
            }
        }
    }
    found
}

/// What [`scan`] found in a structurally valid envelope.
struct Scan {
    version: SoapVersion,
    has_version_data: bool,
    op_ns: Option<Vec<u8>>,
    op_local: Vec<u8>,
}

/// Where the scanner is, as a child of `Envelope`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    BeforeHeader,
    InHeader,
    AfterHeader,
    InBody,
    AfterBody,
}

/// Walks the whole document, checking the envelope structure.
fn scan(body: &[u8]) -> Result<Scan, EnvelopeError> {
    let mut walker = Walker::new(body)?;
    let mut version = None;
    let mut section = Section::BeforeHeader;
    let mut has_version_data = false;
    let mut operation: Option<(Option<Vec<u8>>, Vec<u8>)> = None;
    while let Some(node) = walker.next_node()? {
        // Depth after the node: a Start at depth 1 is the root, 2 a child of Envelope, ...
        let depth = walker.depth();
        match node {
            Node::Start { ns, local } => match depth {
                1 => {
                    let v = ns
                        .as_deref()
                        .and_then(SoapVersion::from_envelope_namespace)
                        .filter(|_| local == b"Envelope");
                    version = Some(v.ok_or_else(|| EnvelopeError::NotAnEnvelope {
                        found: clark(ns.as_deref(), &local),
                    })?);
                }
                2 => {
                    let soap_ns = version.map(|v| v.envelope_namespace().as_bytes());
                    let in_soap_ns = ns.as_deref() == soap_ns;
                    section = match (section, in_soap_ns, local.as_slice()) {
                        (Section::BeforeHeader, true, b"Header") => Section::InHeader,
                        (Section::BeforeHeader | Section::AfterHeader, true, b"Body") => {
                            Section::InBody
                        }
                        _ => {
                            return Err(EnvelopeError::UnexpectedElement {
                                parent: "Envelope",
                                found: clark(ns.as_deref(), &local),
                            })
                        }
                    };
                }
                3 if section == Section::InHeader => {
                    has_version_data |= local == VERSION_DATA;
                }
                3 if section == Section::InBody && operation.is_none() => {
                    operation = Some((ns, local));
                }
                _ => {}
            },
            Node::End => match (depth, section) {
                (1, Section::InHeader) => section = Section::AfterHeader,
                (1, Section::InBody) => section = Section::AfterBody,
                _ => {}
            },
            Node::Text(text) => {
                let parent = match (depth, section) {
                    (1, _) => Some("Envelope"),
                    (2, Section::InHeader) => Some("Header"),
                    (2, Section::InBody) => Some("Body"),
                    _ => None,
                };
                if let Some(parent) = parent {
                    if !text.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
                        return Err(EnvelopeError::UnexpectedText { parent });
                    }
                }
            }
        }
    }
    // The walker only returns `None` after a complete root element, so `version` is set.
    let version = version.ok_or(EnvelopeError::NoBody)?;
    if section != Section::AfterBody {
        return Err(EnvelopeError::NoBody);
    }
    let (op_ns, op_local) = operation.ok_or(EnvelopeError::EmptyBody)?;
    Ok(Scan {
        version,
        has_version_data,
        op_ns,
        op_local,
    })
}

/// `{namespace}local` (James Clark notation), or `local` without a namespace, escaped.
fn clark(ns: Option<&[u8]>, local: &[u8]) -> String {
    match ns {
        Some(ns) => format!("{{{}}}{}", bytes_for_error(ns), bytes_for_error(local)),
        None => bytes_for_error(local),
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
