//! Tests of the keytab parser and validator: lab keytabs, hand-built files, truncation and
//! arbitrary input.

use super::*;
use proptest::prelude::*;

/// Exported by `samba-tool domain exportkeytab` from the lab (AES256 + AES128, kvno 2).
const CONNECTOR_KEYTAB: &[u8] = include_bytes!("../tests/fixtures/connector.keytab");
/// The lab's RC4-only service account (msDS-SupportedEncryptionTypes = 4).
const RC4_KEYTAB: &[u8] = include_bytes!("../tests/fixtures/rc4-only.keytab");

/// One hand-built entry; `kvno32` is appended when given.
struct Spec<'a> {
    components: Vec<&'a str>,
    realm: &'a str,
    kvno8: u8,
    kvno32: Option<u32>,
    enctype: u16,
    key_len: u16,
}

fn spec(host: &'static str, kvno: u8, enctype: u16) -> Spec<'static> {
    Spec {
        components: if host == "EXCH01$" {
            vec![host]
        } else {
            vec!["HTTP", host]
        },
        realm: "CONTOSO.COM",
        kvno8: kvno,
        kvno32: None,
        enctype,
        key_len: if enctype == 17 { 16 } else { 32 },
    }
}

fn counted(out: &mut Vec<u8>, text: &str, le: bool) {
    put16(
        out,
        u16::try_from(text.len()).expect("short test string"),
        le,
    );
    out.extend_from_slice(text.as_bytes());
}

fn put16(out: &mut Vec<u8>, v: u16, le: bool) {
    out.extend_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() });
}

fn put32(out: &mut Vec<u8>, v: u32, le: bool) {
    out.extend_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() });
}

fn record(s: &Spec<'_>, v1: bool) -> Vec<u8> {
    let mut r = Vec::new();
    let count = u16::try_from(s.components.len()).expect("few components") + u16::from(v1);
    put16(&mut r, count, v1);
    counted(&mut r, s.realm, v1);
    for c in &s.components {
        counted(&mut r, c, v1);
    }
    if !v1 {
        put32(&mut r, 1, false);
    }
    put32(&mut r, 1_700_000_000, v1);
    r.push(s.kvno8);
    put16(&mut r, s.enctype, v1);
    put16(&mut r, s.key_len, v1);
    r.extend(std::iter::repeat_n(0xAB, usize::from(s.key_len)));
    if let Some(k) = s.kvno32 {
        put32(&mut r, k, v1);
    }
    r
}

fn keytab_v2(specs: &[Spec<'_>]) -> Vec<u8> {
    let mut out = vec![0x05, 0x02];
    for s in specs {
        let r = record(s, false);
        put32(
            &mut out,
            u32::try_from(r.len()).expect("small record"),
            false,
        );
        out.extend(r);
    }
    out
}

#[test]
fn parses_lab_connector_keytab() {
    let keytab = parse(CONNECTOR_KEYTAB).expect("lab keytab parses");
    assert_eq!(keytab.entries.len(), 2);
    let first = &keytab.entries[0];
    assert_eq!(
        first.principal.to_string(),
        "HTTP/rmsconnector.contoso.test@CONTOSO.TEST"
    );
    assert_eq!(first.kvno, 2);
    assert_eq!(first.enctype, 18);
    assert_eq!(first.key_len, 32);
    assert_eq!(keytab.entries[1].enctype, 17);
    assert_eq!(keytab.entries[1].key_len, 16);
    assert_eq!(keytab.principals().len(), 1);
}

#[test]
fn lab_connector_keytab_is_valid_for_its_host_in_any_case() {
    let keytab = parse(CONNECTOR_KEYTAB).expect("lab keytab parses");
    let summary = validate(&keytab, "RMSConnector.Contoso.Test").expect("valid");
    assert_eq!(
        summary.principal,
        "HTTP/rmsconnector.contoso.test@CONTOSO.TEST"
    );
    assert_eq!(summary.realm, "CONTOSO.TEST");
    assert_eq!(summary.kvno, 2);
    assert_eq!(
        summary.enctypes,
        vec![EncType::AES256_SHA1, EncType::AES128_SHA1]
    );
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
}

#[test]
fn lab_rc4_keytab_is_refused_with_instructions() {
    let keytab = parse(RC4_KEYTAB).expect("lab keytab parses");
    assert_eq!(keytab.entries[0].enctype, 23);
    let problem = validate(&keytab, "rc4.contoso.test").expect_err("RC4 only");
    assert!(matches!(problem, KeytabProblem::Rc4Only { .. }));
    let message = problem.to_string();
    for needle in [
        "rc4-hmac",
        "msDS-SupportedEncryptionTypes to 24",
        "Set-ADUser",
        "AES256-SHA1",
        "kvno",
    ] {
        assert!(message.contains(needle), "{needle:?} missing in {message}");
    }
}

#[test]
fn keytab_for_another_host_is_the_wrong_principal() {
    let keytab = parse(CONNECTOR_KEYTAB).expect("lab keytab parses");
    let problem = validate(&keytab, "rms.contoso.com").expect_err("other host");
    assert_eq!(
        problem,
        KeytabProblem::WrongPrincipal {
            found: "HTTP/rmsconnector.contoso.test@CONTOSO.TEST".into(),
            expected: "HTTP/rms.contoso.com".into(),
        }
    );
}

#[test]
fn computer_account_keytab_is_the_wrong_principal() {
    let bytes = keytab_v2(&[spec("EXCH01$", 2, 18)]);
    let problem = validate(&parse(&bytes).expect("parses"), "rms.contoso.com");
    assert!(matches!(problem, Err(KeytabProblem::WrongPrincipal { .. })));
}

#[test]
fn header_only_keytab_has_no_entries() {
    let keytab = parse(&[0x05, 0x02]).expect("empty keytab parses");
    assert_eq!(validate(&keytab, "x"), Err(KeytabProblem::NoEntries));
}

#[test]
fn mixed_kvnos_keep_the_highest_and_warn() {
    let bytes = keytab_v2(&[
        spec("rms.contoso.com", 3, 18),
        spec("rms.contoso.com", 4, 18),
        spec("rms.contoso.com", 4, 17),
        spec("rms.contoso.com", 3, 17),
    ]);
    let summary = validate(&parse(&bytes).expect("parses"), "rms.contoso.com").expect("valid");
    assert_eq!(summary.kvno, 4);
    assert_eq!(
        summary.enctypes,
        vec![EncType::AES256_SHA1, EncType::AES128_SHA1]
    );
    assert_eq!(
        summary.warnings,
        vec![KeytabWarning::MixedKvno {
            kept: 4,
            ignored: vec![3]
        }]
    );
}

#[test]
fn rc4_beside_aes_and_foreign_principals_are_warnings() {
    let bytes = keytab_v2(&[
        spec("rms.contoso.com", 2, 18),
        spec("rms.contoso.com", 2, 23),
        spec("EXCH01$", 2, 18),
    ]);
    let summary = validate(&parse(&bytes).expect("parses"), "rms.contoso.com.").expect("valid");
    assert_eq!(
        summary.warnings,
        vec![
            KeytabWarning::WeakKeysPresent(vec![EncType::RC4_HMAC]),
            KeytabWarning::OtherPrincipals(vec!["EXCH01$@CONTOSO.COM".into()]),
        ]
    );
    assert!(summary.warnings[0].to_string().contains("rc4-hmac"));
}

#[test]
fn newest_aes_kvno_wins_even_when_an_older_one_was_rc4() {
    let bytes = keytab_v2(&[
        spec("rms.contoso.com", 2, 23),
        spec("rms.contoso.com", 3, 18),
    ]);
    let summary = validate(&parse(&bytes).expect("parses"), "rms.contoso.com").expect("valid");
    assert_eq!(summary.kvno, 3);
    assert_eq!(summary.enctypes, vec![EncType::AES256_SHA1]);
}

#[test]
fn non_zero_kvno32_overrides_the_8_bit_kvno() {
    let mut big = spec("rms.contoso.com", 4, 18);
    big.kvno32 = Some(260);
    let mut zero = spec("rms.contoso.com", 7, 18);
    zero.kvno32 = Some(0);
    let keytab = parse(&keytab_v2(&[big, zero])).expect("parses");
    assert_eq!(keytab.entries[0].kvno, 260);
    assert_eq!(keytab.entries[1].kvno, 7);
}

#[test]
fn holes_are_skipped_and_a_zero_size_ends_the_file() {
    let mut bytes = vec![0x05, 0x02];
    put32(&mut bytes, (-5i32) as u32, false);
    bytes.extend([0; 5]);
    let entry = keytab_v2(&[spec("rms.contoso.com", 2, 18)]);
    bytes.extend(&entry[2..]);
    put32(&mut bytes, 0, false);
    bytes.extend(b"garbage after the terminator");
    let keytab = parse(&bytes).expect("parses");
    assert_eq!(keytab.entries.len(), 1);
    assert_eq!(keytab.entries[0].principal.name(), "HTTP/rms.contoso.com");
}

#[test]
fn version_0501_is_little_endian_and_counts_the_realm() {
    let mut bytes = vec![0x05, 0x01];
    let r = record(&spec("rms.contoso.com", 5, 17), true);
    put32(&mut bytes, u32::try_from(r.len()).expect("small"), true);
    bytes.extend(r);
    let keytab = parse(&bytes).expect("parses");
    let entry = &keytab.entries[0];
    assert_eq!(entry.principal.components, vec!["HTTP", "rms.contoso.com"]);
    assert_eq!(entry.principal.realm, "CONTOSO.COM");
    assert_eq!((entry.kvno, entry.enctype, entry.key_len), (5, 17, 16));
}

#[test]
fn negative_enctypes_are_sign_extended() {
    let keytab = parse(&keytab_v2(&[spec("rms.contoso.com", 1, 0xFF80)])).expect("parses");
    assert_eq!(keytab.entries[0].enctype, -128);
    assert_eq!(EncType(-128).to_string(), "enctype -128");
}

#[test]
fn wrong_magic_and_oversize_files_are_refused() {
    assert_eq!(parse(b"\x05\x03"), Err(KeytabError::BadVersion(0x0503)));
    assert_eq!(parse(b"PK\x03\x04"), Err(KeytabError::BadVersion(0x504b)));
    assert!(matches!(parse(b"\x05"), Err(KeytabError::Truncated { .. })));
    let mut huge = vec![0x05, 0x02];
    huge.resize(MAX_KEYTAB_SIZE + 1, 0);
    assert!(matches!(parse(&huge), Err(KeytabError::TooLarge { .. })));
}

#[test]
fn impossible_counts_and_texts_are_refused() {
    let mut no_components = spec("rms.contoso.com", 1, 18);
    no_components.components = vec![];
    assert!(matches!(
        parse(&keytab_v2(&[no_components])),
        Err(KeytabError::BadValue {
            field: "component count",
            ..
        })
    ));
    let many = ["a"; MAX_COMPONENTS + 1];
    let mut too_many = spec("rms.contoso.com", 1, 18);
    too_many.components = many.to_vec();
    assert!(parse(&keytab_v2(&[too_many])).is_err());
    let mut empty_realm = spec("rms.contoso.com", 1, 18);
    empty_realm.realm = "";
    assert!(matches!(
        parse(&keytab_v2(&[empty_realm])),
        Err(KeytabError::BadValue { field: "realm", .. })
    ));
    let mut bytes = keytab_v2(&[spec("rms.contoso.com", 1, 18)]);
    let realm_start = 2 + 4 + 2 + 2;
    bytes[realm_start] = 0xFF;
    assert!(matches!(
        parse(&bytes),
        Err(KeytabError::NotText { field: "realm", .. })
    ));
}

#[test]
fn entry_size_larger_than_the_file_is_truncation() {
    let mut bytes = vec![0x05, 0x02];
    put32(&mut bytes, i32::MAX as u32, false);
    bytes.extend([0; 16]);
    assert!(matches!(
        parse(&bytes),
        Err(KeytabError::Truncated { field: "entry", .. })
    ));
    let mut hole = vec![0x05, 0x02];
    put32(&mut hole, i32::MIN as u32, false);
    assert!(parse(&hole).is_err());
}

#[test]
fn too_many_entries_are_refused() {
    let mut bytes = vec![0x05, 0x02];
    let entry = keytab_v2(&[spec("a", 1, 18)]);
    for _ in 0..=MAX_ENTRIES {
        bytes.extend(&entry[2..]);
    }
    assert_eq!(parse(&bytes), Err(KeytabError::TooManyEntries(MAX_ENTRIES)));
}

#[test]
fn principal_text_escapes_separators() {
    let p = Principal {
        components: vec!["HTTP".into(), "a/b@c".into()],
        realm: "R".into(),
    };
    assert_eq!(p.to_string(), "HTTP/a\\/b\\@c@R");
}

/// Cutting a keytab anywhere is either an error or, exactly at an entry boundary, a keytab
/// with the entries before the cut.
fn check_every_truncation(bytes: &[u8]) {
    let full = parse(bytes).expect("the whole file parses");
    let mut boundaries = vec![2];
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        let size = i32::from_be_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes"));
        pos += 4 + size.unsigned_abs() as usize;
        boundaries.push(pos);
    }
    for cut in 0..bytes.len() {
        match parse(&bytes[..cut]) {
            Ok(partial) => {
                let index = boundaries.iter().position(|b| *b == cut);
                let index = index.unwrap_or_else(|| panic!("cut at {cut} parsed"));
                assert_eq!(partial.entries, full.entries[..index]);
            }
            Err(_) => assert!(!boundaries.contains(&cut) || cut < 2, "cut at {cut}"),
        }
    }
}

#[test]
fn truncation_at_every_offset_is_detected() {
    check_every_truncation(CONNECTOR_KEYTAB);
    check_every_truncation(RC4_KEYTAB);
    let mut with_kvno32 = spec("rms.contoso.com", 1, 18);
    with_kvno32.kvno32 = Some(300);
    check_every_truncation(&keytab_v2(&[with_kvno32, spec("x", 2, 17)]));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(keytab) = parse(&bytes) {
            let _ = validate(&keytab, "rms.contoso.com");
        }
    }

    #[test]
    fn arbitrary_entries_after_a_valid_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        v1 in any::<bool>(),
    ) {
        let mut bytes = vec![0x05, if v1 { 0x01 } else { 0x02 }];
        bytes.extend(body);
        if let Ok(keytab) = parse(&bytes) {
            let _ = validate(&keytab, "rms.contoso.com");
        }
    }

    #[test]
    fn mutated_lab_keytab_never_panics(index in 0usize..198, value in any::<u8>()) {
        let mut bytes = CONNECTOR_KEYTAB.to_vec();
        if let Some(b) = bytes.get_mut(index) {
            *b = value;
        }
        if let Ok(keytab) = parse(&bytes) {
            let _ = validate(&keytab, "rmsconnector.contoso.test");
        }
    }
}
