//! Property tests: the parsers never panic on arbitrary input, and everything the crate
//! builds (requests, faults, escaped text) is accepted back by its own validators.

use proptest::prelude::*;
use rmsc_soap::{
    body_operation_name, check_action, escape_xml, extract_text, fault, request_envelope,
    requested_action, validate_request, FaultKind, Operation, SoapVersion, ENDPOINTS,
};

fn every_operation() -> Vec<&'static Operation> {
    ENDPOINTS.iter().flat_map(|e| e.operations.iter()).collect()
}

fn version() -> impl Strategy<Value = SoapVersion> {
    prop_oneof![Just(SoapVersion::V11), Just(SoapVersion::V12)]
}

fn kind() -> impl Strategy<Value = FaultKind> {
    prop_oneof![Just(FaultKind::Client), Just(FaultKind::Server)]
}

/// What `escape_xml` turns a string into once parsed back: characters XML cannot carry
/// become U+FFFD.
fn as_xml_carries(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            _ => c,
        })
        .collect()
}

/// A valid request with bytes overwritten, removed or inserted at chosen places.
fn mutated_request() -> impl Strategy<Value = Vec<u8>> {
    let ops = every_operation();
    (
        0..ops.len(),
        version(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(move |(i, v, edits)| {
            let mut body = request_envelope(v, ops[i], "<a b=\"c\">d&amp;e</a>").into_bytes();
            for (at, byte, how) in edits {
                let pos = at.index(body.len());
                match how {
                    0 => body[pos] = byte,
                    1 => {
                        body.remove(pos);
                    }
                    _ => body.insert(pos, byte),
                }
            }
            body
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn validate_request_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        for op in every_operation() {
            let _ = validate_request(&body, op);
        }
        let _ = body_operation_name(&body);
        let _ = extract_text(&body, "a");
    }

    #[test]
    fn validate_request_never_panics_on_mutated_envelopes(body in mutated_request()) {
        for op in every_operation() {
            let _ = validate_request(&body, op);
        }
        let _ = body_operation_name(&body);
        let _ = extract_text(&body, "a");
    }

    #[test]
    fn built_requests_validate_for_every_operation(v in version(), text in any::<String>()) {
        let inner = format!("<Field attr=\"{0}\">{0}</Field>", escape_xml(&text));
        for endpoint in ENDPOINTS {
            for op in endpoint.operations {
                let body = request_envelope(v, op, &inner);
                let info = validate_request(body.as_bytes(), op)
                    .map_err(|e| TestCaseError::fail(format!("{op}: {e}")))?;
                prop_assert_eq!(info.version, v);
                prop_assert!(info.has_version_data);
                let field = extract_text(body.as_bytes(), "Field");
                prop_assert_eq!(field, Some(as_xml_carries(&text)));
            }
        }
    }

    #[test]
    fn faults_are_well_formed_for_any_text(v in version(), k in kind(), t in any::<String>(), m in any::<String>()) {
        let body = fault(v, k, &t, &m);
        let name = body_operation_name(&body);
        prop_assert_eq!(name, Ok((v.envelope_namespace().to_string(), "Fault".to_string())));
    }

    #[test]
    fn action_parsing_never_panics(header in proptest::option::of(any::<String>()), ct in proptest::option::of(any::<String>())) {
        if let Ok((_, action)) = requested_action(header.as_deref(), ct.as_deref()) {
            for endpoint in ENDPOINTS {
                let _ = check_action(endpoint, &action);
            }
        }
        if let Some(header) = header {
            let _ = check_action(&ENDPOINTS[0], &header);
        }
    }
}
