//! Targeted corruptions of the hand-built vector: each must fail with the right field, offset
//! and reason, never with a panic.

use super::fixed_vector::{hand_built_logon_info, hand_built_parts};
use crate::pac::{decode_logon_info, encode_logon_info_parts, PacError, PacErrorKind, Sid};

fn decode_patched(patches: &[(usize, &[u8])]) -> Result<crate::pac::LogonInfo, PacError> {
    let mut buf = hand_built_logon_info();
    for (offset, bytes) in patches {
        buf[*offset..*offset + bytes.len()].copy_from_slice(bytes);
    }
    decode_logon_info(&buf)
}

fn error_of(patches: &[(usize, &[u8])]) -> PacError {
    decode_patched(patches).expect_err("corrupted vector must not decode")
}

#[test]
fn every_truncation_is_an_error() {
    let buf = hand_built_logon_info();
    // The last 4 bytes are padding outside the declared data, but inside the object buffer.
    for len in 0..buf.len() {
        assert!(
            decode_logon_info(&buf[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn wrong_version_and_big_endian_are_refused() {
    let err = error_of(&[(0, &[2])]);
    assert_eq!(err.field, "CommonHeader.Version");
    let err = error_of(&[(1, &[0x00])]);
    assert_eq!(err.field, "CommonHeader.Endianness");
    assert_eq!(
        err.kind,
        PacErrorKind::UnexpectedValue {
            found: 0,
            expected: 0x10
        }
    );
}

#[test]
fn object_length_beyond_buffer_is_refused() {
    let err = error_of(&[(8, &[0xff, 0xff, 0xff, 0xff])]);
    assert_eq!(err.field, "PrivateHeader.ObjectBufferLength");
    assert!(matches!(err.kind, PacErrorKind::Truncated { .. }));
}

#[test]
fn object_length_shorter_than_data_stops_the_reader() {
    let err = error_of(&[(8, &[0x00, 0x01, 0, 0])]);
    assert!(matches!(err.kind, PacErrorKind::Truncated { .. }), "{err}");
}

#[test]
fn odd_or_oversized_string_length_is_refused() {
    let err = error_of(&[(0x044, &[0x09, 0x00])]);
    assert_eq!((err.field, err.offset), ("EffectiveName", 0x044));
    assert_eq!(
        err.kind,
        PacErrorKind::BadStringLength {
            length: 9,
            maximum: 10
        }
    );
    let err = error_of(&[(0x044, &[0x0c, 0x00])]);
    assert!(matches!(err.kind, PacErrorKind::BadStringLength { .. }));
}

#[test]
fn string_counts_must_match_lengths() {
    let err = error_of(&[(0x0ec, &[0x06])]);
    assert_eq!((err.field, err.offset), ("EffectiveName", 0x0ec));
    assert_eq!(
        err.kind,
        PacErrorKind::CountMismatch {
            declared: 5,
            found: 6
        }
    );
    let err = error_of(&[(0x0f0, &[0x01])]);
    assert_eq!(err.kind, PacErrorKind::NonZeroArrayOffset(1));
}

#[test]
fn unpaired_surrogate_is_refused() {
    let err = error_of(&[(0x0f8, &[0x00, 0xd8])]);
    assert_eq!((err.field, err.offset), ("EffectiveName", 0x0f8));
    assert_eq!(err.kind, PacErrorKind::InvalidUtf16);
}

#[test]
fn group_count_must_match_the_array() {
    let err = error_of(&[(0x080, &[0x03])]);
    assert_eq!((err.field, err.offset), ("GroupIds", 0x138));
    assert_eq!(
        err.kind,
        PacErrorKind::CountMismatch {
            declared: 3,
            found: 2
        }
    );
}

#[test]
fn huge_group_count_is_refused_without_allocating() {
    let huge = [0xff, 0xff, 0xff, 0x7f];
    let err = error_of(&[(0x080, &huge), (0x138, &huge)]);
    assert_eq!(err.field, "GroupIds");
    assert!(matches!(err.kind, PacErrorKind::CountTooLarge { .. }));
}

#[test]
fn group_count_behind_null_pointer_is_refused() {
    let err = error_of(&[(0x084, &[0, 0, 0, 0])]);
    assert_eq!((err.field, err.offset), ("GroupIds", 0x080));
    assert!(matches!(err.kind, PacErrorKind::NullPointer(_)));
}

#[test]
fn missing_domain_sid_is_refused() {
    let err = error_of(&[(0x0ac, &[0, 0, 0, 0])]);
    assert_eq!((err.field, err.offset), ("LogonDomainId", 0x0ac));
    assert!(matches!(err.kind, PacErrorKind::NullPointer(_)));
}

#[test]
fn sid_with_sixteen_sub_authorities_is_refused() {
    let err = error_of(&[(0x17c, &[16]), (0x181, &[16])]);
    assert_eq!(err.field, "LogonDomainId");
    assert!(matches!(err.kind, PacErrorKind::InvalidSid(_)), "{err}");
}

#[test]
fn null_extra_sid_entry_is_refused() {
    let err = error_of(&[(0x19c, &[0, 0, 0, 0])]);
    assert_eq!((err.field, err.offset), ("ExtraSids", 0x19c));
}

#[test]
fn resource_groups_without_their_domain_are_refused() {
    let mut parts = hand_built_parts();
    parts.resource_group_domain_sid = None;
    let err = decode_logon_info(&encode_logon_info_parts(&parts)).expect_err("no domain");
    assert_eq!(err.field, "ResourceGroupDomainSid");
}

#[test]
fn duplicate_groups_are_listed_once_in_first_seen_order() {
    let mut parts = hand_built_parts();
    let domain = parts
        .domain_sid
        .clone()
        .expect("hand-built parts have a domain");
    let domain_users = domain.with_rid(513).expect("room for a RID");
    parts.group_ids.push((513, 7));
    parts.extra_sids.insert(0, (domain_users.clone(), 7));
    let resource: Sid = "S-1-5-21-1-2-3".parse().expect("valid");
    parts
        .extra_sids
        .push((resource.with_rid(1300).expect("room"), 7));
    let info = decode_logon_info(&encode_logon_info_parts(&parts)).expect("valid PAC");
    let groups: Vec<String> = info.group_sids.iter().map(Sid::to_string).collect();
    assert_eq!(
        groups,
        [
            domain_users.to_string(),
            domain.with_rid(1105).expect("room").to_string(),
            "S-1-18-1".to_owned(),
            "S-1-5-21-1-2-3-1300".to_owned(),
        ]
    );
}

#[test]
fn null_pointers_for_empty_fields_decode_as_empty() {
    let mut parts = hand_built_parts();
    parts.full_name.clear();
    parts.group_ids.clear();
    parts.extra_sids.clear();
    parts.resource_group_domain_sid = None;
    parts.resource_group_ids.clear();
    parts.null_pointers_for_empty = true;
    let info = decode_logon_info(&encode_logon_info_parts(&parts)).expect("valid PAC");
    assert_eq!(info.full_name, "");
    assert!(info.group_sids.is_empty());
}

#[test]
fn trailing_bytes_after_the_object_buffer_are_ignored() {
    let mut buf = hand_built_logon_info();
    buf.extend_from_slice(&[0xaa; 8]);
    assert!(decode_logon_info(&buf).is_ok());
}
