//! Fuzzes the MS-PAC logon-info decoder (rmsc_kerberos::decode_logon_info) on arbitrary
//! bytes: it must never panic, and whatever it accepts must be self-consistent and survive
//! an encode/decode round trip through the test-util encoder.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmsc_kerberos::pac::{decode_logon_info, encode_logon_info};

fuzz_target!(|data: &[u8]| {
    let Ok(info) = decode_logon_info(data) else {
        return;
    };
    assert_eq!(
        Ok(&info.user_sid),
        info.domain_sid.with_rid(info.user_id).as_ref(),
        "user SID is the domain SID plus UserId"
    );
    for (i, sid) in info.group_sids.iter().enumerate() {
        assert!(
            !info.group_sids[..i].contains(sid),
            "group {sid} listed twice"
        );
    }
    let again = decode_logon_info(&encode_logon_info(&info));
    assert_eq!(
        again.as_ref(),
        Ok(&info),
        "re-encoded logon info decodes alike"
    );
});
