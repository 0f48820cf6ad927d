//! Fuzzes certificate uploads: rmsc_certs::parse_pem_bundle and parse_pfx on arbitrary
//! bytes, then check() and the PEM round trip on whatever they accept.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_certs::{check, parse_pem_bundle, parse_pfx, Uploaded};

/// What the checks must hold for anything a reader accepted.
fn exercise(uploaded: Uploaded) {
    assert!(
        !uploaded.chain().is_empty(),
        "accepted an upload without a certificate"
    );
    let report = check(
        &uploaded,
        "fixture.contoso.com",
        time::OffsetDateTime::UNIX_EPOCH,
    );
    assert_eq!(report.chain.len(), uploaded.chain().len());
    let again = parse_pem_bundle(uploaded.to_pem().as_bytes()).expect("own PEM reads back");
    assert_eq!(again.chain().len(), uploaded.chain().len());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(uploaded) = parse_pem_bundle(data) {
        exercise(uploaded);
    }
    // The fixtures' password, so seeds made from them reach the decrypted contents.
    for password in ["fixture-password", ""] {
        if let Ok(uploaded) = parse_pfx(data, password) {
            exercise(uploaded);
        }
    }
});
