//! Tests of the Negotiate header and token inspection with hand-built DER.

use super::*;
use http::HeaderValue;
use proptest::prelude::*;

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

const MS_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
const NTLM: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

fn spnego_init(mechs: &[&[u8]], mech_token: Option<&[u8]>) -> Vec<u8> {
    let list: Vec<u8> = mechs.iter().flat_map(|m| tlv(0x06, m)).collect();
    let mut fields = tlv(0xa0, &tlv(0x30, &list));
    if let Some(t) = mech_token {
        fields.extend(tlv(0xa2, &tlv(0x04, t)));
    }
    let init = tlv(0xa0, &tlv(0x30, &fields));
    let mut inner = tlv(0x06, SPNEGO_OID);
    inner.extend(init);
    tlv(0x60, &inner)
}

fn headers(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
    h
}

#[test]
fn windows_style_offer_is_kerberos() {
    let token = spnego_init(&[MS_KRB5, KRB5_OID, NTLM], Some(&[0x60, 0x00]));
    let kind = classify(&token).expect("classify");
    assert_eq!(
        kind,
        TokenKind::SpnegoInit {
            mechanisms: vec![
                Mechanism::KerberosMicrosoft,
                Mechanism::Kerberos,
                Mechanism::Ntlm
            ],
            has_mech_token: true,
        }
    );
    assert!(!kind.is_ntlm_only());
}

#[test]
fn ntlm_only_offers_are_recognised() {
    assert!(classify(b"NTLMSSP\0\x01\x00\x00\x00")
        .expect("ntlm")
        .is_ntlm_only());
    let token = spnego_init(&[NTLM], Some(b"NTLMSSP\0\x01"));
    assert!(classify(&token).expect("spnego ntlm").is_ntlm_only());
}

#[test]
fn bare_kerberos_and_responses() {
    let mut inner = tlv(0x06, KRB5_OID);
    inner.extend([0x01, 0x00]);
    assert_eq!(classify(&tlv(0x60, &inner)), Ok(TokenKind::Kerberos));
    assert_eq!(
        classify(&tlv(0xa1, &tlv(0x30, &[]))),
        Ok(TokenKind::SpnegoResponse)
    );
}

#[test]
fn garbage_and_truncation_are_errors() {
    assert_eq!(classify(&[]), Err(TokenError::Empty));
    assert!(classify(b"hello world").is_err());
    let token = spnego_init(&[KRB5_OID], Some(&[1, 2, 3]));
    for cut in 1..token.len() {
        assert!(classify(&token[..cut]).is_err(), "cut at {cut}");
    }
    // An unknown mechanism OID inside the GSS header.
    let mut inner = tlv(0x06, &[0x2a, 0x03]);
    inner.extend([0xa0, 0x00]);
    assert!(classify(&tlv(0x60, &inner)).is_err());
}

#[test]
fn header_parsing() {
    assert_eq!(negotiate_token(&HeaderMap::new()), Ok(None));
    assert_eq!(negotiate_token(&headers("Basic dXNlcjpwYXNz")), Ok(None));
    assert_eq!(
        negotiate_token(&headers("negotiate AQID")),
        Ok(Some(vec![1, 2, 3]))
    );
    assert_eq!(
        negotiate_token(&headers("NTLM TlRMTVNTUAABAAAA")),
        Err(TokenError::NtlmScheme)
    );
    assert_eq!(
        negotiate_token(&headers("Negotiate")),
        Err(TokenError::Empty)
    );
    assert_eq!(
        negotiate_token(&headers("Negotiate !!!")),
        Err(TokenError::NotBase64)
    );
    let huge = format!("Negotiate {}", "A".repeat(MAX_TOKEN_BYTES * 2));
    assert_eq!(negotiate_token(&headers(&huge)), Err(TokenError::TooLarge));
}

#[test]
fn a_64_kilobyte_header_is_accepted() {
    // Windows' largest tokens: 48,000 bytes, about 64 KB of base64.
    let encoded = base64::engine::general_purpose::STANDARD.encode(vec![0x60u8; 48_000]);
    assert!(encoded.len() >= 64_000);
    let token = negotiate_token(&headers(&format!("Negotiate {encoded}")))
        .expect("decoded")
        .expect("present");
    assert_eq!(token.len(), 48_000);
}

proptest! {
    #[test]
    fn classify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = classify(&bytes);
    }

    #[test]
    fn classify_never_panics_on_spnego_prefix(tail in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut token = spnego_init(&[KRB5_OID], None);
        token.truncate(8);
        token.extend(tail);
        let _ = classify(&token);
    }
}
