//! A PAC_LOGON_INFO built by hand from MS-PAC 2.5 and MS-RPCE 2.2.5, byte by byte, so that
//! the decoder is checked against the specification and not only against our own encoder.
//! Samba's NDR printer (`ndr_print` of `krb5pac.PAC_LOGON_INFO_CTR`) shows the same values
//! for this vector as `decodes_hand_built_vector` expects.

use super::hex;
use crate::pac::{decode_logon_info, encode_logon_info_parts, LogonInfoParts, Sid};

/// Offsets in the comments are absolute; the structure starts at 0x014.
pub(super) fn hand_built_logon_info() -> Vec<u8> {
    hex(&[
        // 0x000 Common Type Header: version 1, little-endian, length 8, filler.
        "01 10 08 00 cc cc cc cc",
        // 0x008 Private Header: ObjectBufferLength 0x1d0 (0x1cc of data padded to 8), filler.
        "d0 01 00 00 00 00 00 00",
        // 0x010 referent id of the top-level unique pointer.
        "00 00 02 00",
        // 0x014 LogonTime, LogoffTime (never), KickOffTime (never), PasswordLastSet,
        //       PasswordCanChange, PasswordMustChange (never): FILETIME = low u32, high u32.
        "78 56 34 12 00 00 d9 01",
        "ff ff ff ff ff ff ff 7f",
        "ff ff ff ff ff ff ff 7f",
        "00 30 21 10 00 00 d9 01",
        "00 30 21 10 00 00 d9 01",
        "ff ff ff ff ff ff ff 7f",
        // 0x044 EffectiveName: Length 10, MaximumLength 10, pointer 0x00020004.
        "0a 00 0a 00 04 00 02 00",
        // 0x04c FullName: Length 26, MaximumLength 26, pointer 0x00020008.
        "1a 00 1a 00 08 00 02 00",
        // 0x054 LogonScript: empty but with a pointer, as Windows writes it.
        "00 00 00 00 0c 00 02 00",
        // 0x05c ProfilePath, 0x064 HomeDirectory, 0x06c HomeDirectoryDrive: NULL pointers.
        "00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00",
        // 0x074 LogonCount 12, BadPasswordCount 0.
        "0c 00 00 00",
        // 0x078 UserId 1104, 0x07c PrimaryGroupId 513.
        "50 04 00 00 01 02 00 00",
        // 0x080 GroupCount 2, 0x084 GroupIds pointer 0x00020010.
        "02 00 00 00 10 00 02 00",
        // 0x088 UserFlags: EXTRA_SIDS (0x20) | RESOURCE_GROUPS (0x200).
        "20 02 00 00",
        // 0x08c UserSessionKey, 16 bytes.
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        // 0x09c LogonServer: Length 6, MaximumLength 8, pointer 0x00020014.
        "06 00 08 00 14 00 02 00",
        // 0x0a4 LogonDomainName: Length 14, MaximumLength 14, pointer 0x00020018.
        "0e 00 0e 00 18 00 02 00",
        // 0x0ac LogonDomainId pointer 0x0002001c.
        "1c 00 02 00",
        // 0x0b0 Reserved1 (2 x u32).
        "00 00 00 00 00 00 00 00",
        // 0x0b8 UserAccountControl: NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD, 0x0bc SubAuthStatus.
        "10 02 00 00 00 00 00 00",
        // 0x0c0 LastSuccessfulILogon, 0x0c8 LastFailedILogon.
        "00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00",
        // 0x0d0 FailedILogonCount, 0x0d4 Reserved3.
        "00 00 00 00 00 00 00 00",
        // 0x0d8 SidCount 1, 0x0dc ExtraSids pointer 0x00020020.
        "01 00 00 00 20 00 02 00",
        // 0x0e0 ResourceGroupDomainSid pointer 0x00020024.
        "24 00 02 00",
        // 0x0e4 ResourceGroupCount 1, 0x0e8 ResourceGroupIds pointer 0x00020028.
        "01 00 00 00 28 00 02 00",
        // 0x0ec EffectiveName referent: MaxCount 5, Offset 0, ActualCount 5, "alice", pad 2.
        "05 00 00 00 00 00 00 00 05 00 00 00",
        "61 00 6c 00 69 00 63 00 65 00 00 00",
        // 0x104 FullName referent: 13 units "Alice Liddell", pad 2.
        "0d 00 00 00 00 00 00 00 0d 00 00 00",
        "41 00 6c 00 69 00 63 00 65 00 20 00 4c 00 69 00 64 00 64 00 65 00 6c 00 6c 00 00 00",
        // 0x12c LogonScript referent: an empty conformant varying array.
        "00 00 00 00 00 00 00 00 00 00 00 00",
        // 0x138 GroupIds referent: MaxCount 2, {513, 7}, {1105, 7}.
        "02 00 00 00",
        "01 02 00 00 07 00 00 00",
        "51 04 00 00 07 00 00 00",
        // 0x14c LogonServer referent: MaxCount 4, Offset 0, ActualCount 3, "DC1", pad 2.
        "04 00 00 00 00 00 00 00 03 00 00 00",
        "44 00 43 00 31 00 00 00",
        // 0x160 LogonDomainName referent: 7 units "CONTOSO", pad 2.
        "07 00 00 00 00 00 00 00 07 00 00 00",
        "43 00 4f 00 4e 00 54 00 4f 00 53 00 4f 00 00 00",
        // 0x17c LogonDomainId referent, an RPC_SID: MaxCount 4, Revision 1, count 4,
        //       authority 5 (big-endian), 21, 3623811015, 3361044348, 30300820.
        "04 00 00 00 01 04 00 00 00 00 00 05",
        "15 00 00 00 c7 f7 fe d7 7c 77 55 c8 94 5a ce 01",
        // 0x198 ExtraSids referent: MaxCount 1, {Sid pointer 0x0002002c, Attributes 7}.
        "01 00 00 00 2c 00 02 00 07 00 00 00",
        // 0x1a4 ExtraSids[0].Sid referent: S-1-18-1.
        "01 00 00 00 01 01 00 00 00 00 00 12 01 00 00 00",
        // 0x1b4 ResourceGroupDomainSid referent: S-1-5-21-1-2-3.
        "04 00 00 00 01 04 00 00 00 00 00 05",
        "15 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00",
        // 0x1d0 ResourceGroupIds referent: MaxCount 1, {1300, 7}.
        "01 00 00 00 14 05 00 00 07 00 00 00",
        // 0x1dc padding of the object buffer to a multiple of 8 (ends at 0x1e0).
        "00 00 00 00",
    ])
}

fn sid(text: &str) -> Sid {
    text.parse().expect("test SID is valid")
}

const DOMAIN: &str = "S-1-5-21-3623811015-3361044348-30300820";

#[test]
fn hand_built_vector_has_the_sizes_its_comments_claim() {
    let buf = hand_built_logon_info();
    assert_eq!(buf.len(), 0x1e0);
    assert_eq!(&buf[0x17c..0x180], &[4, 0, 0, 0]);
}

#[test]
fn decodes_hand_built_vector() {
    let info = decode_logon_info(&hand_built_logon_info()).expect("valid PAC");
    assert_eq!(info.effective_name, "alice");
    assert_eq!(info.full_name, "Alice Liddell");
    assert_eq!(info.logon_server, "DC1");
    assert_eq!(info.logon_domain_name, "CONTOSO");
    assert_eq!(info.user_id, 1104);
    assert_eq!(info.primary_group_id, 513);
    assert_eq!(info.domain_sid, sid(DOMAIN));
    assert_eq!(info.user_sid.to_string(), format!("{DOMAIN}-1104"));
    assert_eq!(info.user_flags, 0x220);
    assert_eq!(info.user_account_control, 0x210);
    let groups: Vec<String> = info.group_sids.iter().map(Sid::to_string).collect();
    assert_eq!(
        groups,
        [
            format!("{DOMAIN}-513"),
            format!("{DOMAIN}-1105"),
            "S-1-18-1".to_owned(),
            "S-1-5-21-1-2-3-1300".to_owned(),
        ]
    );
}

/// The parts that the hand-built vector describes.
pub(super) fn hand_built_parts() -> LogonInfoParts {
    LogonInfoParts {
        effective_name: "alice".into(),
        full_name: "Alice Liddell".into(),
        logon_script: String::new(),
        profile_path: String::new(),
        home_directory: String::new(),
        home_directory_drive: String::new(),
        logon_server: "DC1".into(),
        logon_domain_name: "CONTOSO".into(),
        user_id: 1104,
        primary_group_id: 513,
        domain_sid: Some(sid(DOMAIN)),
        group_ids: vec![(513, 7), (1105, 7)],
        user_flags: 0x220,
        user_account_control: 0x210,
        extra_sids: vec![(sid("S-1-18-1"), 7)],
        resource_group_domain_sid: Some(sid("S-1-5-21-1-2-3")),
        resource_group_ids: vec![(1300, 7)],
        null_pointers_for_empty: false,
    }
}

#[test]
fn encoder_and_hand_built_vector_decode_alike() {
    let encoded = encode_logon_info_parts(&hand_built_parts());
    assert_eq!(
        decode_logon_info(&encoded),
        decode_logon_info(&hand_built_logon_info())
    );
}

#[test]
fn encoder_writes_sids_and_memberships_byte_for_byte_as_built_by_hand() {
    // Referent ids and string slots differ between the two vectors, but the RPC_SID and
    // GROUP_MEMBERSHIP referents have one correct encoding, which both must share.
    let encoded = encode_logon_info_parts(&hand_built_parts());
    let hand = hand_built_logon_info();
    assert_eq!(encoded.get(..8), hand.get(..8), "common type header");
    for (name, range) in [
        ("GroupIds", 0x138..0x14c),
        ("LogonDomainId", 0x17c..0x198),
        ("ExtraSids[0].Sid", 0x1a4..0x1b4),
        ("resource groups", 0x1b4..0x1dc),
    ] {
        let expected = &hand[range];
        assert!(
            encoded.windows(expected.len()).any(|w| w == expected),
            "{name} encodes as built by hand"
        );
    }
}
