//! Fuzzes field extraction (rmsc_soap::extract_text) and operation naming
//! (rmsc_soap::body_operation_name), which the cloud stand-in runs on relayed bodies.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_soap::{body_operation_name, extract_text};

fuzz_target!(|input: (&str, &[u8])| {
    let (local_name, body) = input;
    let _ = extract_text(body, local_name);
    if let Ok((_, operation)) = body_operation_name(body) {
        // The whole document is valid, so the operation element's text can be read.
        assert!(
            extract_text(body, &operation).is_some(),
            "operation {operation:?} found but its text is not"
        );
    }
});
