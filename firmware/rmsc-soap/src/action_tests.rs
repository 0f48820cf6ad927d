//! Unit tests of SOAPAction and Content-Type parsing and action checks.

use super::*;
use crate::endpoints::find_endpoint;

const LICENSE: &str = "http://microsoft.com/DRM/LicensingService/AcquireLicense";

#[test]
fn soap11_reads_quoted_and_bare_soapaction_headers() {
    let quoted = format!("\"{LICENSE}\"");
    let got = requested_action(Some(&quoted), Some("text/xml; charset=utf-8"));
    assert_eq!(got, Ok((SoapVersion::V11, LICENSE.to_string())));
    let got = requested_action(Some(LICENSE), Some("TEXT/XML"));
    assert_eq!(got, Ok((SoapVersion::V11, LICENSE.to_string())));
}

#[test]
fn soap11_without_or_with_empty_soapaction_is_missing() {
    assert_eq!(
        requested_action(None, Some("text/xml")),
        Err(ActionError::Missing)
    );
    assert_eq!(
        requested_action(Some("\"\""), Some("text/xml")),
        Err(ActionError::Missing)
    );
    assert_eq!(
        requested_action(Some("  "), Some("text/xml")),
        Err(ActionError::Missing)
    );
}

#[test]
fn soap11_unbalanced_quotes_are_malformed() {
    for header in ["\"abc", "abc\"", "\"", "\"a\"b\"", "a b"] {
        assert_eq!(
            requested_action(Some(header), Some("text/xml")),
            Err(ActionError::Malformed),
            "{header}"
        );
    }
}

#[test]
fn soap12_reads_the_action_parameter() {
    let ct = format!("application/soap+xml; charset=utf-8; action=\"{LICENSE}\"");
    assert_eq!(
        requested_action(None, Some(&ct)),
        Ok((SoapVersion::V12, LICENSE.to_string()))
    );
    let ct = format!("application/soap+xml;ACTION={LICENSE};charset=utf-8");
    assert_eq!(
        requested_action(None, Some(&ct)),
        Ok((SoapVersion::V12, LICENSE.to_string()))
    );
}

#[test]
fn soap12_quoted_parameter_may_hold_semicolons_and_escapes() {
    let ct = r#"application/soap+xml; x="a;b\"c"; action="urn:x""#;
    assert_eq!(
        requested_action(None, Some(ct)),
        Ok((SoapVersion::V12, "urn:x".to_string()))
    );
}

#[test]
fn soap12_falls_back_to_soapaction_header() {
    let got = requested_action(Some(LICENSE), Some("application/soap+xml"));
    assert_eq!(got, Ok((SoapVersion::V12, LICENSE.to_string())));
    assert_eq!(
        requested_action(None, Some("application/soap+xml")),
        Err(ActionError::Missing)
    );
}

#[test]
fn content_type_problems_are_reported() {
    assert_eq!(
        requested_action(Some(LICENSE), None),
        Err(ActionError::NoContentType)
    );
    assert!(matches!(
        requested_action(Some(LICENSE), Some("application/json")),
        Err(ActionError::UnsupportedContentType { .. })
    ));
    assert_eq!(
        requested_action(None, Some("application/soap+xml; action=\"unterminated")),
        Err(ActionError::Malformed)
    );
    assert_eq!(
        requested_action(None, Some("application/soap+xml; noequals")),
        Err(ActionError::Malformed)
    );
}

#[test]
fn check_action_accepts_the_endpoints_operations() {
    let e = find_endpoint("licensing/license.asmx").expect("endpoint");
    assert_eq!(
        check_action(e, LICENSE).map(|op| op.name),
        Ok("AcquireLicense")
    );
    let pre = "http://microsoft.com/DRM/LicensingService/AcquirePreLicense";
    assert_eq!(
        check_action(e, pre).map(|op| op.name),
        Ok("AcquirePreLicense")
    );
}

#[test]
fn check_action_tolerates_quotes_and_a_trailing_slash() {
    let e = find_endpoint("licensing/license.asmx").expect("endpoint");
    assert!(check_action(e, &format!("\"{LICENSE}\"")).is_ok());
    assert!(check_action(e, &format!("{LICENSE}/")).is_ok());
    assert!(check_action(e, &format!("\"{LICENSE}/\"")).is_ok());
}

#[test]
fn check_action_is_case_sensitive() {
    let e = find_endpoint("licensing/license.asmx").expect("endpoint");
    let upper = LICENSE.replace("microsoft", "Microsoft");
    assert!(matches!(
        check_action(e, &upper),
        Err(ActionError::UnknownOperation { .. })
    ));
    let lower_op = LICENSE.replace("AcquireLicense", "acquirelicense");
    assert!(matches!(
        check_action(e, &lower_op),
        Err(ActionError::UnknownOperation { .. })
    ));
}

#[test]
fn check_action_tells_wrong_endpoint_from_unknown() {
    let e = find_endpoint("certification/ServerCertification.asmx").expect("endpoint");
    assert_eq!(
        check_action(e, LICENSE),
        Err(ActionError::WrongEndpoint {
            action: LICENSE.to_string(),
            path: "/_wmcs/certification/ServerCertification.asmx".to_string(),
        })
    );
    assert_eq!(
        check_action(e, "urn:nothing"),
        Err(ActionError::UnknownOperation {
            action: "urn:nothing".to_string()
        })
    );
    assert_eq!(check_action(e, ""), Err(ActionError::Missing));
    assert_eq!(check_action(e, "\"\""), Err(ActionError::Missing));
}

#[test]
fn errors_bound_and_escape_the_action() {
    let e = find_endpoint("licensing/license.asmx").expect("endpoint");
    let hostile = format!("evil\r\nInjected: yes{}", "x".repeat(10_000));
    let Err(ActionError::UnknownOperation { action }) = check_action(e, &hostile) else {
        panic!("expected UnknownOperation");
    };
    assert!(!action.contains('\n') && !action.contains('\r'));
    assert!(action.len() < 1_000);
}

#[test]
fn every_operation_round_trips_through_both_versions() {
    for endpoint in crate::endpoints::ENDPOINTS {
        for op in endpoint.operations {
            let action = op.soap_action();
            let (_, got) = requested_action(Some(&action), Some("text/xml")).expect("1.1");
            assert_eq!(check_action(endpoint, &got), Ok(op));
            let ct = format!("application/soap+xml; action=\"{action}\"");
            let (_, got) = requested_action(None, Some(&ct)).expect("1.2");
            assert_eq!(check_action(endpoint, &got), Ok(op));
        }
    }
}

#[test]
fn request_headers_built_per_version_parse_back() {
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let ct = version.request_content_type(LICENSE);
        let header = version.soap_action_header(LICENSE);
        assert_eq!(
            requested_action(header.as_deref(), Some(&ct)),
            Ok((version, LICENSE.to_string()))
        );
    }
}
