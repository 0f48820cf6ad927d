//! SOAPAction handling: which SOAP version a request speaks, which action it asks for, and
//! whether that action belongs to the endpoint it was posted to.
//!
//! SOAP 1.1 names the action in the `SOAPAction` header; SOAP 1.2 moved it into the `action`
//! parameter of `Content-Type: application/soap+xml`. Both are read here so the relay can
//! refuse a misdirected call before it buffers or relays the body.

use crate::endpoints::{all_operations, Endpoint, Operation};
use crate::sanitize::for_error;

/// Envelope namespace of SOAP 1.1.
pub const SOAP11_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Envelope namespace of SOAP 1.2.
pub const SOAP12_ENVELOPE_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// The SOAP version of a request or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoapVersion {
    V11,
    V12,
}

impl SoapVersion {
    /// The `Content-Type` of a message in this version (without an `action` parameter).
    pub fn content_type(self) -> &'static str {
        match self {
            SoapVersion::V11 => "text/xml; charset=utf-8",
            SoapVersion::V12 => "application/soap+xml; charset=utf-8",
        }
    }

    /// The namespace of `Envelope`, `Header`, `Body` and `Fault` in this version.
    pub fn envelope_namespace(self) -> &'static str {
        match self {
            SoapVersion::V11 => SOAP11_ENVELOPE_NS,
            SoapVersion::V12 => SOAP12_ENVELOPE_NS,
        }
    }

    /// The `Content-Type` of a request for `action`: SOAP 1.2 carries the action in it, SOAP
    /// 1.1 in a separate `SOAPAction` header (see [`SoapVersion::soap_action_header`]).
    pub fn request_content_type(self, action: &str) -> String {
        match self {
            SoapVersion::V11 => self.content_type().to_string(),
            SoapVersion::V12 => format!("{}; action=\"{action}\"", self.content_type()),
        }
    }

    /// The `SOAPAction` header value a request for `action` carries, if this version uses one.
    pub fn soap_action_header(self, action: &str) -> Option<String> {
        match self {
            SoapVersion::V11 => Some(format!("\"{action}\"")),
            SoapVersion::V12 => None,
        }
    }

    /// The version whose envelope namespace is `ns`, compared exactly (URIs are case-sensitive).
    pub fn from_envelope_namespace(ns: &[u8]) -> Option<SoapVersion> {
        if ns == SOAP11_ENVELOPE_NS.as_bytes() {
            Some(SoapVersion::V11)
        } else if ns == SOAP12_ENVELOPE_NS.as_bytes() {
            Some(SoapVersion::V12)
        } else {
            None
        }
    }
}

/// Why a request's action cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// No action was given (missing or empty `SOAPAction`, no `action` parameter).
    #[error("the request names no SOAP action")]
    Missing,
    /// The action header or parameter cannot be parsed.
    #[error("the SOAP action is malformed")]
    Malformed,
    /// The request has no `Content-Type`, so its SOAP version is unknown.
    #[error("the request has no Content-Type")]
    NoContentType,
    /// The `Content-Type` is neither `text/xml` (SOAP 1.1) nor `application/soap+xml` (SOAP 1.2).
    #[error(
        "unsupported Content-Type {content_type:?}: expected text/xml or application/soap+xml"
    )]
    UnsupportedContentType { content_type: String },
    /// The action is not an operation of any service.
    #[error("unknown SOAP action {action:?}")]
    UnknownOperation { action: String },
    /// The action is a real operation, but not one of the endpoint it was posted to.
    #[error("SOAP action {action:?} is not served at {path}")]
    WrongEndpoint { action: String, path: String },
}

/// Reads the SOAP version and the requested action from a request's headers.
///
/// SOAP 1.1 (`text/xml`) takes the `SOAPAction` header, quoted or not. SOAP 1.2
/// (`application/soap+xml`) takes the `action` parameter of the content type, falling back to
/// a `SOAPAction` header because some 1.2 clients send one instead.
pub fn requested_action(
    soap_action_header: Option<&str>,
    content_type: Option<&str>,
) -> Result<(SoapVersion, String), ActionError> {
    let content_type = content_type.ok_or(ActionError::NoContentType)?;
    let (media_type, params) = parse_content_type(content_type)?;
    let version = if media_type.eq_ignore_ascii_case("text/xml") {
        SoapVersion::V11
    } else if media_type.eq_ignore_ascii_case("application/soap+xml") {
        SoapVersion::V12
    } else {
        return Err(ActionError::UnsupportedContentType {
            content_type: for_error(content_type),
        });
    };
    let from_content_type = match version {
        SoapVersion::V11 => None,
        SoapVersion::V12 => params
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("action"))
            .map(|(_, value)| value),
    };
    let action = match (from_content_type, soap_action_header) {
        (Some(action), _) => action,
        (None, Some(header)) => unquote(header)?,
        (None, None) => return Err(ActionError::Missing),
    };
    if action.is_empty() {
        return Err(ActionError::Missing);
    }
    if action
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '"')
    {
        return Err(ActionError::Malformed);
    }
    Ok((version, action))
}

/// Checks that `action` names one of `endpoint`'s operations and returns that operation.
///
/// The comparison is exact (namespace URIs and operation names are case-sensitive), after
/// removing surrounding quotes and one trailing slash, which some clients add.
pub fn check_action(endpoint: &Endpoint, action: &str) -> Result<&'static Operation, ActionError> {
    let trimmed = action.trim();
    if trimmed.is_empty() {
        return Err(ActionError::Missing);
    }
    let normalized = normalize_action(trimmed);
    if normalized.is_empty() {
        return Err(ActionError::Missing);
    }
    let matches = |op: &&'static Operation| op.has_soap_action(normalized);
    if let Some(op) = endpoint.operations.iter().find(matches) {
        return Ok(op);
    }
    if all_operations().iter().any(matches) {
        return Err(ActionError::WrongEndpoint {
            action: for_error(action),
            path: endpoint.full_path(),
        });
    }
    Err(ActionError::UnknownOperation {
        action: for_error(action),
    })
}

/// Strips one pair of surrounding quotes and one trailing slash.
fn normalize_action(action: &str) -> &str {
    let unquoted = action
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(action);
    unquoted.strip_suffix('/').unwrap_or(unquoted)
}

/// The value of a `SOAPAction` header: surrounding whitespace removed, then one pair of quotes.
/// An unbalanced quote is malformed; `""` is an empty (missing) action.
fn unquote(header: &str) -> Result<String, ActionError> {
    let value = header.trim();
    let starts = value.starts_with('"');
    let ends = value.len() >= 2 && value.ends_with('"');
    match (starts, ends) {
        (true, true) => Ok(value[1..value.len() - 1].to_string()),
        (false, false) => Ok(value.to_string()),
        _ => Err(ActionError::Malformed),
    }
}

/// One `name=value` parameter of a header, the value unquoted.
type Parameter = (String, String);

/// Splits a `Content-Type` into its media type and its parameters (names as given, values
/// unquoted). Quoted values may contain `;` and backslash escapes (RFC 9110 section 5.6.4).
fn parse_content_type(value: &str) -> Result<(&str, Vec<Parameter>), ActionError> {
    let (media_type, mut rest) = match value.find(';') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, ""),
    };
    let media_type = media_type.trim();
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=').ok_or(ActionError::Malformed)?;
        let name = rest[..eq].trim().to_string();
        if name.is_empty() || name.contains(';') {
            return Err(ActionError::Malformed);
        }
        rest = rest[eq + 1..].trim_start();
        let (param_value, after) = if let Some(quoted) = rest.strip_prefix('"') {
            read_quoted(quoted)?
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            (rest[..end].trim().to_string(), &rest[end..])
        };
        let after = after.trim_start();
        if !(after.is_empty() || after.starts_with(';')) {
            return Err(ActionError::Malformed);
        }
        params.push((name, param_value));
        rest = after;
    }
    Ok((media_type, params))
}

/// Reads a quoted string whose opening quote is already consumed; returns it and the rest.
fn read_quoted(s: &str) -> Result<(String, &str), ActionError> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, escaped)) => out.push(escaped),
                None => return Err(ActionError::Malformed),
            },
            _ => out.push(c),
        }
    }
    Err(ActionError::Malformed)
}

#[cfg(test)]
#[path = "action_tests.rs"]
mod tests;
