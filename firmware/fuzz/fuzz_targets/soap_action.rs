//! Fuzzes SOAPAction and Content-Type parsing (rmsc_soap::requested_action) and action
//! checks against every endpoint (rmsc_soap::check_action) on arbitrary header values.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_soap::{check_action, requested_action, ENDPOINTS};

fuzz_target!(|input: (Option<&str>, Option<&str>)| {
    let (soap_action, content_type) = input;
    if let Ok((_, action)) = requested_action(soap_action, content_type) {
        assert!(!action.is_empty(), "an empty action was accepted");
        for endpoint in ENDPOINTS {
            if let Ok(op) = check_action(endpoint, &action) {
                assert!(endpoint.operations.contains(op));
            }
        }
    }
    if let Some(raw) = soap_action {
        for endpoint in ENDPOINTS {
            if let Ok(op) = check_action(endpoint, raw) {
                // Only quotes, surrounding whitespace and one trailing slash are tolerated.
                assert!(raw.contains(&op.soap_action()), "{raw:?} matched {op}");
            }
        }
    }
});
