//! Unit tests of envelope validation, field extraction and operation naming.

use super::*;
use crate::endpoints::find_endpoint;
use crate::request::request_envelope;

const S11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const S12: &str = "http://www.w3.org/2003/05/soap-envelope";
const LIC: &str = "http://microsoft.com/DRM/LicensingService";

fn acquire_license() -> &'static Operation {
    find_endpoint("licensing/license.asmx")
        .and_then(|e| e.operation("AcquireLicense"))
        .expect("operation")
}

fn check(body: &str) -> Result<EnvelopeInfo, EnvelopeError> {
    validate_request(body.as_bytes(), acquire_license())
}

fn env(soap_ns: &str, inner: &str) -> String {
    format!("<s:Envelope xmlns:s=\"{soap_ns}\">{inner}</s:Envelope>")
}

#[test]
fn minimal_envelopes_of_both_versions_validate() {
    let body = env(
        S11,
        &format!("<s:Body><AcquireLicense xmlns=\"{LIC}\"/></s:Body>"),
    );
    assert_eq!(
        check(&body),
        Ok(EnvelopeInfo {
            version: SoapVersion::V11,
            has_version_data: false
        })
    );
    let body = env(
        S12,
        &format!(
            "\n  <s:Header><v:VersionData xmlns:v=\"{LIC}\"/></s:Header>\n  \
             <s:Body>\n<l:AcquireLicense xmlns:l=\"{LIC}\"><l:x>1</l:x></l:AcquireLicense>\n</s:Body>\n"
        ),
    );
    assert_eq!(
        check(&body),
        Ok(EnvelopeInfo {
            version: SoapVersion::V12,
            has_version_data: true
        })
    );
}

#[test]
fn built_requests_validate_with_version_data() {
    let op = acquire_license();
    let body = request_envelope(SoapVersion::V11, op, "<RequestParams>&amp;</RequestParams>");
    let info = validate_request(body.as_bytes(), op).expect("valid");
    assert!(info.has_version_data);
}

#[test]
fn the_root_must_be_a_soap_envelope() {
    for body in [
        format!("<Envelope xmlns=\"urn:other\"><Body><AcquireLicense xmlns=\"{LIC}\"/></Body></Envelope>"),
        format!("<Envelope><Body><AcquireLicense xmlns=\"{LIC}\"/></Body></Envelope>"),
        format!("<s:Envelop xmlns:s=\"{S11}\"><s:Body/></s:Envelop>"),
        "<html><body>hi</body></html>".to_string(),
    ] {
        assert!(
            matches!(check(&body), Err(EnvelopeError::NotAnEnvelope { .. })),
            "{body}: {:?}",
            check(&body)
        );
    }
    // Namespace URIs are case-sensitive.
    let upper = env(&S11.to_uppercase(), "<s:Body/>");
    assert!(matches!(
        check(&upper),
        Err(EnvelopeError::NotAnEnvelope { .. })
    ));
}

#[test]
fn body_is_required_and_must_name_an_operation() {
    assert_eq!(check(&env(S11, "")), Err(EnvelopeError::NoBody));
    assert_eq!(check(&env(S11, "<s:Header/>")), Err(EnvelopeError::NoBody));
    assert_eq!(check(&env(S11, "<s:Body/>")), Err(EnvelopeError::EmptyBody));
    assert_eq!(
        check(&env(S11, "<s:Body> <!-- nothing --> </s:Body>")),
        Err(EnvelopeError::EmptyBody)
    );
}

#[test]
fn envelope_children_are_header_then_body_only() {
    let op = format!("<AcquireLicense xmlns=\"{LIC}\"/>");
    for inner in [
        format!("<s:Body>{op}</s:Body><s:Header/>"),
        format!("<s:Body>{op}</s:Body><s:Body>{op}</s:Body>"),
        format!("<s:Header/><s:Header/><s:Body>{op}</s:Body>"),
        format!("<s:Extra/><s:Body>{op}</s:Body>"),
        format!("<Body>{op}</Body>"),
        format!("<s:Body>{op}</s:Body><s:Trailer/>"),
    ] {
        assert!(
            matches!(
                check(&env(S11, &inner)),
                Err(EnvelopeError::UnexpectedElement {
                    parent: "Envelope",
                    ..
                })
            ),
            "{inner}: {:?}",
            check(&env(S11, &inner))
        );
    }
    // A SOAP 1.2 Body inside a SOAP 1.1 Envelope is a foreign element.
    let mixed = format!(
        "<s:Envelope xmlns:s=\"{S11}\" xmlns:t=\"{S12}\"><t:Body>{op}</t:Body></s:Envelope>"
    );
    assert!(matches!(
        check(&mixed),
        Err(EnvelopeError::UnexpectedElement { .. })
    ));
}

#[test]
fn stray_text_in_envelope_header_or_body_is_refused() {
    let op = format!("<AcquireLicense xmlns=\"{LIC}\"/>");
    let cases = [
        (format!("junk<s:Body>{op}</s:Body>"), "Envelope"),
        (
            format!("<s:Header>junk</s:Header><s:Body>{op}</s:Body>"),
            "Header",
        ),
        (format!("<s:Body>junk{op}</s:Body>"), "Body"),
        (format!("<s:Body>{op}<![CDATA[x]]></s:Body>"), "Body"),
    ];
    for (inner, parent) in cases {
        assert_eq!(
            check(&env(S11, &inner)),
            Err(EnvelopeError::UnexpectedText { parent }),
            "{inner}"
        );
    }
}

#[test]
fn wrong_operation_names_both_sides() {
    let body = env(
        S11,
        "<s:Body><AcquirePreLicense xmlns=\"http://microsoft.com/DRM/LicensingService\"/></s:Body>",
    );
    assert_eq!(
        check(&body),
        Err(EnvelopeError::WrongOperation {
            found: format!("{{{LIC}}}AcquirePreLicense"),
            expected: format!("{{{LIC}}}AcquireLicense"),
        })
    );
    let no_ns = env(S11, "<s:Body><AcquireLicense/></s:Body>");
    assert!(
        matches!(check(&no_ns), Err(EnvelopeError::WrongOperation { found, .. }) if found == "AcquireLicense")
    );
    let wrong_ns = env(S11, "<s:Body><AcquireLicense xmlns=\"urn:x\"/></s:Body>");
    assert!(matches!(
        check(&wrong_ns),
        Err(EnvelopeError::WrongOperation { .. })
    ));
}

#[test]
fn only_the_first_body_child_is_the_operation() {
    let body = env(
        S11,
        &format!("<s:Body><AcquireLicense xmlns=\"{LIC}\"/><Other xmlns=\"{LIC}\"/></s:Body>"),
    );
    assert!(check(&body).is_ok());
}

#[test]
fn hostile_documents_are_refused_before_structure() {
    let laughs = format!(
        "<!DOCTYPE s:Envelope [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]>{}",
        env(
            S11,
            &format!("<s:Body><AcquireLicense xmlns=\"{LIC}\">&b;</AcquireLicense></s:Body>")
        )
    );
    assert_eq!(check(&laughs), Err(EnvelopeError::DoctypeForbidden));
    let deep = env(
        S11,
        &format!(
            "<s:Body><AcquireLicense xmlns=\"{LIC}\">{}{}</AcquireLicense></s:Body>",
            "<x>".repeat(100),
            "</x>".repeat(100)
        ),
    );
    assert_eq!(
        check(&deep),
        Err(EnvelopeError::TooDeep { limit: MAX_DEPTH })
    );
    let truncated = env(S11, &format!("<s:Body><AcquireLicense xmlns=\"{LIC}\">"));
    assert!(matches!(
        check(&truncated),
        Err(EnvelopeError::NotXml { .. })
    ));
    assert_eq!(check(""), Err(EnvelopeError::Empty));
}

#[test]
fn error_messages_do_not_echo_unbounded_input() {
    let long = "A".repeat(100_000);
    let body = format!("<{long} xmlns=\"urn:{long}\"/>");
    let err = check(&body).expect_err("not an envelope");
    assert!(err.to_string().len() < 2_000, "{}", err.to_string().len());
}

#[test]
fn body_operation_name_reports_namespace_and_local_name() {
    let body = env(
        S12,
        &format!("<s:Body><p:GetServerInfo xmlns:p=\"{LIC}\"/></s:Body>"),
    );
    assert_eq!(
        body_operation_name(body.as_bytes()),
        Ok((LIC.to_string(), "GetServerInfo".to_string()))
    );
    let body = env(S12, "<s:Body><Bare/></s:Body>");
    assert_eq!(
        body_operation_name(body.as_bytes()),
        Ok((String::new(), "Bare".to_string()))
    );
    assert_eq!(
        body_operation_name(b"<a/>"),
        Err(EnvelopeError::NotAnEnvelope { found: "a".into() })
    );
}

#[test]
fn extract_text_reads_the_first_matching_element() {
    let body = br#"<r xmlns:p="urn:p"><a>skip</a><p:Field>one &amp; <![CDATA[<two>]]><i>three</i></p:Field><Field>second</Field></r>"#;
    assert_eq!(
        extract_text(body, "Field").as_deref(),
        Some("one & <two>three")
    );
    assert_eq!(extract_text(body, "a").as_deref(), Some("skip"));
    assert_eq!(extract_text(b"<r><e/></r>", "e").as_deref(), Some(""));
    assert_eq!(extract_text(body, "Missing"), None);
}

#[test]
fn extract_text_refuses_dtds_and_broken_input() {
    assert_eq!(
        extract_text(b"<!DOCTYPE r [<!ENTITY x 'y'>]><r><f>&x;</f></r>", "f"),
        None
    );
    assert_eq!(extract_text(b"<r><f>abc", "f"), None);
    assert_eq!(extract_text(b"<r><f>a&bogus;</f></r>", "f"), None);
    assert_eq!(extract_text(b"", "f"), None);
}

#[test]
fn extract_texts_reads_several_fields_in_one_walk_as_extract_text_would() {
    let body = br#"<r><Outer>a<Inner>b</Inner>c</Outer><Inner>second</Inner><Last>z</Last></r>"#;
    assert_eq!(
        extract_texts(body, ["Inner", "Outer", "Missing", "Last"]),
        [
            Some("b".to_owned()),
            Some("abc".to_owned()),
            None,
            Some("z".to_owned())
        ]
    );
    // An error after a field ends keeps that field; fields after the error are not read.
    assert_eq!(
        extract_texts(b"<r><a>1</a><b>2</c></r>", ["a", "b"]),
        [Some("1".to_owned()), None]
    );
    assert_eq!(extract_texts(b"", ["a"]), [None]);
    assert_eq!(
        extract_texts(body, ["Inner", "Inner"]),
        [Some("b".to_owned()), Some("b".to_owned())]
    );
}
