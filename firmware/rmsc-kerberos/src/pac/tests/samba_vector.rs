//! A PAC_LOGON_INFO marshalled by a second, independent NDR implementation: Samba's
//! pidl-generated code (python3-samba 4.x, `ndr_pack` of a `krb5pac.PAC_DATA` holding one
//! PAC_TYPE_LOGON_INFO buffer, cut out at the buffer's offset and size). It carries the same
//! logon information as the hand-built vector, so both must decode to the same value.

use super::fixed_vector::hand_built_logon_info;
use super::hex;
use crate::pac::decode_logon_info;

/// 464 bytes: headers with ObjectBufferLength 0x1c0, then 448 bytes of NDR data. Samba sets
/// LogonDomainName's MaximumLength to Length + 2 and writes zero timestamps.
fn samba_logon_info() -> Vec<u8> {
    hex(&[
        "01 10 08 00 cc cc cc cc c0 01 00 00 00 00 00 00",
        "00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "00 00 00 00 0a 00 0a 00 04 00 02 00 1a 00 1a 00",
        "08 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 50 04 00 00 01 02 00 00",
        "02 00 00 00 0c 00 02 00 20 02 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 00 00 00 00 06 00 08 00",
        "10 00 02 00 0e 00 10 00 14 00 02 00 18 00 02 00",
        "00 00 00 00 00 00 00 00 10 02 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "00 00 00 00 00 00 00 00 01 00 00 00 1c 00 02 00",
        "20 00 02 00 01 00 00 00 24 00 02 00 05 00 00 00",
        "00 00 00 00 05 00 00 00 61 00 6c 00 69 00 63 00",
        "65 00 00 00 0d 00 00 00 00 00 00 00 0d 00 00 00",
        "41 00 6c 00 69 00 63 00 65 00 20 00 4c 00 69 00",
        "64 00 64 00 65 00 6c 00 6c 00 00 00 02 00 00 00",
        "01 02 00 00 07 00 00 00 51 04 00 00 07 00 00 00",
        "04 00 00 00 00 00 00 00 03 00 00 00 44 00 43 00",
        "31 00 00 00 08 00 00 00 00 00 00 00 07 00 00 00",
        "43 00 4f 00 4e 00 54 00 4f 00 53 00 4f 00 00 00",
        "04 00 00 00 01 04 00 00 00 00 00 05 15 00 00 00",
        "c7 f7 fe d7 7c 77 55 c8 94 5a ce 01 01 00 00 00",
        "28 00 02 00 07 00 00 00 01 00 00 00 01 01 00 00",
        "00 00 00 12 01 00 00 00 04 00 00 00 01 04 00 00",
        "00 00 00 05 15 00 00 00 01 00 00 00 02 00 00 00",
        "03 00 00 00 01 00 00 00 14 05 00 00 07 00 00 00",
    ])
}

#[test]
fn samba_marshalled_vector_decodes_like_the_hand_built_one() {
    let samba = decode_logon_info(&samba_logon_info()).expect("Samba's PAC decodes");
    let hand = decode_logon_info(&hand_built_logon_info()).expect("hand-built PAC decodes");
    assert_eq!(samba, hand);
    assert_eq!(samba.logon_domain_name, "CONTOSO");
}
