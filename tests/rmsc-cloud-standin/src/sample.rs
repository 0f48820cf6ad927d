//! Request bodies for tests and benchmarks: a valid envelope for any operation.

use rmsc_soap::{request_envelope, Operation, SoapVersion};

/// A valid SOAP 1.1 request for `op` whose operation element holds `extra_inner_xml`
/// (e.g. `<Owner>..</Owner>`, `<IssuanceLicense>..</IssuanceLicense>`, `<StandinPadTo>N</StandinPadTo>`).
pub fn sample_request(op: &Operation, extra_inner_xml: &str) -> String {
    sample_request_version(SoapVersion::V11, op, extra_inner_xml)
}

/// The same in a chosen SOAP version.
pub fn sample_request_version(
    version: SoapVersion,
    op: &Operation,
    extra_inner_xml: &str,
) -> String {
    request_envelope(version, op, extra_inner_xml)
}

/// Headers a SOAP request for `op` needs in `version`: `(Content-Type, SOAPAction or None)`.
pub fn sample_headers(version: SoapVersion, op: &Operation) -> (String, Option<String>) {
    match version {
        SoapVersion::V11 => (
            version.content_type().to_owned(),
            Some(format!("\"{}\"", op.soap_action())),
        ),
        SoapVersion::V12 => (
            format!(
                "{}; action=\"{}\"",
                version.content_type(),
                op.soap_action()
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmsc_soap::{check_action, requested_action, validate_request, ENDPOINTS};

    #[test]
    fn samples_validate_for_every_operation_in_both_versions() {
        for endpoint in ENDPOINTS {
            for op in endpoint.operations {
                for version in [SoapVersion::V11, SoapVersion::V12] {
                    let body =
                        sample_request_version(version, op, "<StandinPadTo>10</StandinPadTo>");
                    validate_request(body.as_bytes(), op).expect("valid body");
                    let (content_type, action) = sample_headers(version, op);
                    let (v, action) =
                        requested_action(action.as_deref(), Some(&content_type)).expect("action");
                    assert_eq!(v, version);
                    assert_eq!(check_action(endpoint, &action).expect("served"), op);
                }
            }
        }
    }
}
