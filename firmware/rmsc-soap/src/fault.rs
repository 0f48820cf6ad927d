//! SOAP fault envelopes, shaped like the original service's: SOAP 1.1 `faultcode` plus a
//! `faultstring` of the form `<exception type>: <message>`, or the SOAP 1.2 `Code`/`Reason`
//! equivalent. Callers choose the text; nothing internal is added here.

use crate::action::SoapVersion;
use bytes::Bytes;

/// Namespace of the original service's exception types; a bare type name is placed in it.
pub const EXCEPTION_NAMESPACE: &str = "Microsoft.DigitalRightsManagement.Core";

/// Who is to blame for a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The request was wrong (SOAP 1.1 `Client`, SOAP 1.2 `Sender`).
    Client,
    /// The service failed (SOAP 1.1 `Server`, SOAP 1.2 `Receiver`).
    Server,
}

impl FaultKind {
    /// The fault code's local name in `version`.
    pub fn code(self, version: SoapVersion) -> &'static str {
        match (version, self) {
            (SoapVersion::V11, FaultKind::Client) => "Client",
            (SoapVersion::V11, FaultKind::Server) => "Server",
            (SoapVersion::V12, FaultKind::Client) => "Sender",
            (SoapVersion::V12, FaultKind::Server) => "Receiver",
        }
    }
}

/// HTTP status of a fault response: SOAP 1.1 always uses 500; the SOAP 1.2 HTTP binding
/// uses 400 for `Sender` faults and 500 for `Receiver` faults.
pub fn fault_status(version: SoapVersion, kind: FaultKind) -> u16 {
    match (version, kind) {
        (SoapVersion::V12, FaultKind::Client) => 400,
        _ => 500,
    }
}

/// A complete fault envelope. `exception_type` is a .NET type name such as
/// `Microsoft.DigitalRightsManagement.Core.ServerCertificationException`; a name without a
/// dot is placed in [`EXCEPTION_NAMESPACE`], and an empty one leaves just the message.
pub fn fault(version: SoapVersion, kind: FaultKind, exception_type: &str, message: &str) -> Bytes {
    let text = escape_xml(&fault_text(exception_type, message));
    let ns = version.envelope_namespace();
    let code = kind.code(version);
    let fault = match version {
        SoapVersion::V11 => format!(
            "<soap:Fault><faultcode>soap:{code}</faultcode>\
             <faultstring>{text}</faultstring><detail /></soap:Fault>"
        ),
        SoapVersion::V12 => format!(
            "<soap:Fault><soap:Code><soap:Value>soap:{code}</soap:Value></soap:Code>\
             <soap:Reason><soap:Text xml:lang=\"en\">{text}</soap:Text></soap:Reason>\
             <soap:Detail /></soap:Fault>"
        ),
    };
    Bytes::from(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soap:Envelope xmlns:soap=\"{ns}\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\
         <soap:Body>{fault}</soap:Body></soap:Envelope>"
    ))
}

/// The unescaped fault text: `<type>: <message>`.
fn fault_text(exception_type: &str, message: &str) -> String {
    let exception_type = exception_type.trim();
    if exception_type.is_empty() {
        message.to_string()
    } else if exception_type.contains('.') {
        format!("{exception_type}: {message}")
    } else {
        format!("{EXCEPTION_NAMESPACE}.{exception_type}: {message}")
    }
}

/// `s` escaped for XML text and attribute values (quoted with `"` or `'`). Characters XML
/// cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become U+FFFD, so the output is
/// always well-formed.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Escaped so that attribute-value normalization keeps them.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{body_operation_name, extract_text};

    #[test]
    fn soap11_fault_carries_code_and_typed_faultstring() {
        let body = fault(
            SoapVersion::V11,
            FaultKind::Server,
            "ServerCertificationException",
            "The caller is not authorized.",
        );
        let (ns, local) = body_operation_name(&body).expect("well-formed fault");
        assert_eq!(ns, SoapVersion::V11.envelope_namespace());
        assert_eq!(local, "Fault");
        assert_eq!(
            extract_text(&body, "faultcode").as_deref(),
            Some("soap:Server")
        );
        assert_eq!(
            extract_text(&body, "faultstring").as_deref(),
            Some(
                "Microsoft.DigitalRightsManagement.Core.ServerCertificationException: \
                 The caller is not authorized."
            )
        );
    }

    #[test]
    fn soap12_fault_uses_code_value_and_reason_text() {
        let body = fault(SoapVersion::V12, FaultKind::Client, "", "bad request");
        let (ns, _) = body_operation_name(&body).expect("well-formed fault");
        assert_eq!(ns, SoapVersion::V12.envelope_namespace());
        assert_eq!(extract_text(&body, "Value").as_deref(), Some("soap:Sender"));
        assert_eq!(extract_text(&body, "Text").as_deref(), Some("bad request"));
        assert_eq!(fault_status(SoapVersion::V12, FaultKind::Client), 400);
        assert_eq!(fault_status(SoapVersion::V11, FaultKind::Client), 500);
    }

    #[test]
    fn full_type_names_are_kept() {
        let body = fault(
            SoapVersion::V11,
            FaultKind::Client,
            "System.ArgumentException",
            "x",
        );
        assert_eq!(
            extract_text(&body, "faultstring").as_deref(),
            Some("System.ArgumentException: x")
        );
    }

    #[test]
    fn hostile_text_is_escaped_and_round_trips() {
        let message = "</faultstring><evil a=\"1\">&amp;'\u{0}\u{1b}]]>";
        let body = fault(SoapVersion::V11, FaultKind::Client, "<T>", message);
        let text = extract_text(&body, "faultstring").expect("well-formed");
        assert_eq!(
            text,
            "Microsoft.DigitalRightsManagement.Core.<T>: </faultstring><evil a=\"1\">&amp;'\u{FFFD}\u{FFFD}]]>"
        );
        assert!(extract_text(&body, "evil").is_none());
    }

    #[test]
    fn escape_xml_covers_markup_quotes_and_controls() {
        assert_eq!(escape_xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(escape_xml("\t\n\r\u{7}"), "&#9;&#10;&#13;\u{FFFD}");
        assert_eq!(escape_xml("héllo €"), "héllo €");
    }
}
