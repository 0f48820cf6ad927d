//! Building request and response envelopes the way the protocol's clients and services do:
//! a `VersionData` header and the operation (or its response) as the single child of `Body`.
//! Tests, the cloud stand-in and the fuzz seeds use these.

use crate::action::SoapVersion;
use crate::endpoints::Operation;

/// Version range every envelope built here announces in its `VersionData` header.
pub const PROTOCOL_VERSION: &str = "1.0.0.0";

/// A request envelope for `op` whose operation element holds `inner_xml` verbatim
/// (the caller is responsible for it being well-formed and escaped).
pub fn request_envelope(version: SoapVersion, op: &Operation, inner_xml: &str) -> String {
    let ns = op.service.namespace();
    let name = op.name;
    envelope(
        version,
        ns,
        &format!("<{name} xmlns=\"{ns}\">{inner_xml}</{name}>"),
    )
}

/// A response envelope for `op`: `<OpResponse xmlns=ns><OpResult>inner_xml</OpResult></OpResponse>`.
pub fn response_envelope(version: SoapVersion, op: &Operation, inner_xml: &str) -> String {
    let ns = op.service.namespace();
    let name = op.name;
    envelope(
        version,
        ns,
        &format!(
            "<{name}Response xmlns=\"{ns}\"><{name}Result>{inner_xml}</{name}Result></{name}Response>"
        ),
    )
}

/// The envelope around a body element, with the `VersionData` header in `service_ns`.
fn envelope(version: SoapVersion, service_ns: &str, body_xml: &str) -> String {
    let soap_ns = version.envelope_namespace();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soap:Envelope xmlns:soap=\"{soap_ns}\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\
         <soap:Header><VersionData xmlns=\"{service_ns}\">\
         <MinimumVersion>{PROTOCOL_VERSION}</MinimumVersion>\
         <MaximumVersion>{PROTOCOL_VERSION}</MaximumVersion>\
         </VersionData></soap:Header>\
         <soap:Body>{body_xml}</soap:Body></soap:Envelope>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::ENDPOINTS;
    use crate::envelope::{body_operation_name, extract_text, validate_request};

    #[test]
    fn request_envelopes_validate_for_every_operation_and_version() {
        for endpoint in ENDPOINTS {
            for op in endpoint.operations {
                for version in [SoapVersion::V11, SoapVersion::V12] {
                    let body = request_envelope(version, op, "<x>1</x>");
                    let info = validate_request(body.as_bytes(), op).expect("valid");
                    assert_eq!(info.version, version);
                    assert!(info.has_version_data);
                }
            }
        }
    }

    #[test]
    fn response_envelopes_name_the_response_element() {
        let op = &ENDPOINTS[7].operations[0];
        let body = response_envelope(SoapVersion::V11, op, "<License>abc</License>");
        let (ns, local) = body_operation_name(body.as_bytes()).expect("valid");
        assert_eq!(ns, op.service.namespace());
        assert_eq!(local, format!("{}Response", op.name));
        assert_eq!(
            extract_text(body.as_bytes(), "License").as_deref(),
            Some("abc")
        );
        assert_eq!(
            extract_text(body.as_bytes(), "MinimumVersion").as_deref(),
            Some(PROTOCOL_VERSION)
        );
    }
}
