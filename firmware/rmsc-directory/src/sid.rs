//! The binary form of a SID as LDAP returns it in `objectSid` (MS-DTYP 2.4.2.2): revision,
//! sub-authority count, a 48-bit big-endian authority, then little-endian sub-authorities.

use rmsc_kerberos::Sid;

/// Decodes an `objectSid` value; `None` when the bytes are not exactly one valid SID.
pub fn decode_sid(bytes: &[u8]) -> Option<Sid> {
    let (&revision, rest) = bytes.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let authority = rest.get(..6)?;
    let subs = rest.get(6..)?;
    if subs.len() != usize::from(count) * 4 {
        return None;
    }
    let authority = authority
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let sub_authorities = subs
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Sid::new(revision, authority, sub_authorities).ok()
}

/// Encodes a SID in the binary form, for an `(objectSid=...)` filter.
pub fn encode_sid(sid: &Sid) -> Vec<u8> {
    let subs = sid.sub_authorities();
    let mut out = Vec::with_capacity(8 + 4 * subs.len());
    out.push(sid.revision());
    // Sid::new caps the count at 15, so it fits a byte.
    out.push(u8::try_from(subs.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&sid.authority().to_be_bytes()[2..]);
    for sub in subs {
        out.extend_from_slice(&sub.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// objectSid of a lab account, as ldapsearch prints it in base64
    /// (AQUAAAAAAAUVAAAAX0w3ixIEnyaXSMAdVAQAAA==).
    const EXCH01: [u8; 28] = [
        1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x5f, 0x4c, 0x37, 0x8b, 0x12, 0x04, 0x9f, 0x26, 0x97,
        0x48, 0xc0, 0x1d, 0x54, 0x04, 0, 0,
    ];

    #[test]
    fn decodes_a_domain_account_sid() {
        let sid = decode_sid(&EXCH01).expect("valid SID");
        assert_eq!(
            sid.to_string(),
            "S-1-5-21-2335657055-647955474-499140759-1108"
        );
        assert_eq!(encode_sid(&sid), EXCH01);
    }

    #[test]
    fn decodes_well_known_sids() {
        let everyone = decode_sid(&[1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]).expect("S-1-1-0");
        assert_eq!(everyone.to_string(), "S-1-1-0");
    }

    #[test]
    fn malformed_values_are_refused() {
        assert_eq!(decode_sid(&[]), None);
        assert_eq!(decode_sid(&EXCH01[..27]), None);
        let mut long = EXCH01.to_vec();
        long.push(0);
        assert_eq!(decode_sid(&long), None);
        let mut too_many = vec![1, 16, 0, 0, 0, 0, 0, 5];
        too_many.extend([0; 64]);
        assert_eq!(decode_sid(&too_many), None);
    }

    #[test]
    fn every_prefix_of_a_sid_is_refused_without_panic() {
        for cut in 0..EXCH01.len() {
            assert_eq!(decode_sid(&EXCH01[..cut]), None, "cut at {cut}");
        }
    }
}
