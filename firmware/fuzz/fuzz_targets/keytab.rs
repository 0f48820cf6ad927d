//! Fuzzes the keytab parser and validator (rmsc_kerberos::keytab) on arbitrary bytes: an
//! uploaded keytab must never panic them, and whatever parses must validate without panicking
//! and summarise only keys that the keytab really holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_kerberos::keytab::{parse, validate, EncType};

fuzz_target!(|data: &[u8]| {
    let Ok(keytab) = parse(data) else {
        return;
    };
    let host = keytab
        .entries
        .first()
        .and_then(|e| e.principal.components.get(1).cloned())
        .unwrap_or_else(|| "rmsconnector.contoso.test".to_owned());
    if let Ok(summary) = validate(&keytab, &host) {
        assert!(
            summary.enctypes.iter().any(|e| e.is_aes()),
            "accepted without AES"
        );
        for enctype in &summary.enctypes {
            assert!(
                keytab
                    .entries
                    .iter()
                    .any(|e| EncType(e.enctype) == *enctype && e.kvno == summary.kvno),
                "summary lists {enctype} that no entry of kvno {} holds",
                summary.kvno
            );
        }
    }
});
