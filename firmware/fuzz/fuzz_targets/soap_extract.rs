//! Fuzzes field extraction (rmsc_soap::extract_text and extract_texts) and operation naming
//! (rmsc_soap::body_operation_name), which the cloud stand-in runs on relayed bodies.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_soap::{body_operation_name, extract_text, extract_texts};

fuzz_target!(|input: (&str, &str, &[u8])| {
    let (first, second, body) = input;
    let one = extract_text(body, first);
    // One walk for two names reads what two walks read, whatever the nesting or errors.
    assert_eq!(
        extract_texts(body, [first, second]),
        [one, extract_text(body, second)],
        "extract_texts disagrees with extract_text"
    );
    if let Ok((_, operation)) = body_operation_name(body) {
        // The whole document is valid, so the operation element's text can be read.
        assert!(
            extract_text(body, &operation).is_some(),
            "operation {operation:?} found but its text is not"
        );
    }
});
