//! Fuzzes the HTTP Negotiate wrapper handling (rmsc_kerberos::negotiate): the Authorization
//! header parser and the SPNEGO/GSS token classifier see attacker bytes before GSSAPI does.
//! Neither may panic; a token the classifier accepts as NTLM-only never mentions Kerberos.

#![no_main]

use http::{header::AUTHORIZATION, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use rmsc_kerberos::negotiate::{classify, negotiate_token, Mechanism, TokenKind};

fuzz_target!(|data: &[u8]| {
    if let Ok(kind) = classify(data) {
        if let TokenKind::SpnegoInit { mechanisms, .. } = &kind {
            assert!(!mechanisms.is_empty(), "an offer lists mechanisms");
            if kind.is_ntlm_only() {
                assert!(!mechanisms.contains(&Mechanism::Kerberos));
            }
        }
    }
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        if let Ok(Some(token)) = negotiate_token(&headers) {
            let _ = classify(&token);
        }
    }
});
