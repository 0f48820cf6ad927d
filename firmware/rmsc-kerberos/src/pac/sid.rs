//! Security identifiers (MS-DTYP 2.4.2): the value type, its string form, and its NDR form.

use std::fmt;
use std::str::FromStr;

use super::error::{PacError, PacErrorKind};
use super::ndr::NdrReader;

/// Most sub-authorities a SID may carry (MS-DTYP 2.4.2).
pub const MAX_SUB_AUTHORITIES: usize = 15;
/// Largest identifier authority: it is a 48-bit big-endian value.
pub const MAX_AUTHORITY: u64 = (1 << 48) - 1;
/// Authorities below this print in decimal; larger ones in hexadecimal (MS-DTYP 2.4.2.1).
const DECIMAL_AUTHORITY_LIMIT: u64 = 1 << 32;

/// A security identifier such as `S-1-5-21-3623811015-3361044348-30300820-1013`.
///
/// Ordering is by revision, then authority, then sub-authorities, which groups the SIDs of one
/// domain together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    revision: u8,
    authority: u64,
    sub_authorities: Vec<u32>,
}

/// A SID could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    /// More than 15 sub-authorities.
    #[error("{0} sub-authorities, at most 15 allowed")]
    TooManySubAuthorities(usize),
    /// Identifier authority does not fit in 48 bits.
    #[error("identifier authority {0:#x} does not fit in 48 bits")]
    AuthorityTooLarge(u64),
    /// Revision other than 1, the only one Windows defines.
    #[error("revision {0} is not 1")]
    UnsupportedRevision(u8),
    /// The text is not of the form `S-<revision>-<authority>(-<sub-authority>)*`.
    #[error("not a SID string: {0:?}")]
    Syntax(String),
}

impl Sid {
    /// Builds a SID, checking the limits of MS-DTYP 2.4.2.
    pub fn new(revision: u8, authority: u64, sub_authorities: Vec<u32>) -> Result<Self, SidError> {
        if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(SidError::TooManySubAuthorities(sub_authorities.len()));
        }
        if authority > MAX_AUTHORITY {
            return Err(SidError::AuthorityTooLarge(authority));
        }
        Ok(Self {
            revision,
            authority,
            sub_authorities,
        })
    }

    /// The SID revision (always 1 in practice).
    pub fn revision(&self) -> u8 {
        self.revision
    }

    /// The 48-bit identifier authority (5 for `NT AUTHORITY`).
    pub fn authority(&self) -> u64 {
        self.authority
    }

    /// The sub-authorities, domain identifier first and relative id last.
    pub fn sub_authorities(&self) -> &[u32] {
        &self.sub_authorities
    }

    /// The last sub-authority, which is the relative id (RID) of an account or group SID.
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }

    /// This SID with one more sub-authority: a domain SID plus a RID gives the account's SID.
    pub fn with_rid(&self, rid: u32) -> Result<Self, SidError> {
        let mut sub_authorities = Vec::with_capacity(self.sub_authorities.len() + 1);
        sub_authorities.extend_from_slice(&self.sub_authorities);
        sub_authorities.push(rid);
        Self::new(self.revision, self.authority, sub_authorities)
    }

    /// The RID when this SID is `domain` plus exactly one sub-authority.
    pub fn rid_in(&self, domain: &Sid) -> Option<u32> {
        let (rid, prefix) = self.sub_authorities.split_last()?;
        (self.revision == domain.revision
            && self.authority == domain.authority
            && prefix == domain.sub_authorities.as_slice())
        .then_some(*rid)
    }

    /// Reads an NDR RPC_SID (MS-DTYP 2.4.2.3) behind a pointer: the conformance count hoisted
    /// in front, then Revision, SubAuthorityCount, the big-endian authority and the
    /// sub-authorities.
    pub(crate) fn read_ndr(r: &mut NdrReader<'_>, field: &'static str) -> Result<Self, PacError> {
        let count_offset = r.offset();
        let max_count = r.u32(field)?;
        let revision_offset = r.offset();
        let revision = r.u8(field)?;
        let count = r.u8(field)?;
        if u32::from(count) != max_count {
            return Err(PacError::new(
                field,
                count_offset,
                PacErrorKind::CountMismatch {
                    declared: u32::from(count),
                    found: max_count,
                },
            ));
        }
        if usize::from(count) > MAX_SUB_AUTHORITIES {
            return Err(PacError::new(
                field,
                revision_offset + 1,
                SidError::TooManySubAuthorities(usize::from(count)).into(),
            ));
        }
        if revision != 1 {
            return Err(PacError::new(
                field,
                revision_offset,
                SidError::UnsupportedRevision(revision).into(),
            ));
        }
        let authority_bytes: [u8; 6] = r.array(field)?;
        let authority = authority_bytes
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        r.check_fits(max_count, 4, field)?;
        let sub_authorities = (0..count)
            .map(|_| r.u32(field))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(revision, authority, sub_authorities)
            .map_err(|e| PacError::new(field, revision_offset, e.into()))
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-", self.revision)?;
        if self.authority < DECIMAL_AUTHORITY_LIMIT {
            write!(f, "{}", self.authority)?;
        } else {
            write!(f, "0x{:012X}", self.authority)?;
        }
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl FromStr for Sid {
    type Err = SidError;

    /// Parses `S-1-5-21-…`; the authority may also be hexadecimal (`0x…`) as Windows prints
    /// authorities of 2^32 and above.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || SidError::Syntax(s.to_owned());
        let mut parts = s.split('-');
        match parts.next() {
            Some("S" | "s") => {}
            _ => return Err(syntax()),
        }
        let revision = parts
            .next()
            .and_then(parse_decimal)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or_else(syntax)?;
        let authority_text = parts.next().ok_or_else(syntax)?;
        let authority = match authority_text
            .strip_prefix("0x")
            .or_else(|| authority_text.strip_prefix("0X"))
        {
            Some(hex) if !hex.is_empty() && hex.len() <= 12 => {
                u64::from_str_radix(hex, 16).map_err(|_| syntax())?
            }
            Some(_) => return Err(syntax()),
            None => parse_decimal(authority_text).ok_or_else(syntax)?,
        };
        let sub_authorities = parts
            .map(|p| parse_decimal(p).and_then(|v| u32::try_from(v).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(syntax)?;
        Self::new(revision, authority, sub_authorities)
    }
}

/// Digits only: `u64::from_str` alone would also accept a leading `+`.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_domain_account_sid() {
        let text = "S-1-5-21-3623811015-3361044348-30300820-1013";
        let sid: Sid = text.parse().expect("valid SID");
        assert_eq!(sid.authority(), 5);
        assert_eq!(sid.rid(), Some(1013));
        assert_eq!(sid.to_string(), text);
    }

    #[test]
    fn large_authority_prints_in_hex() {
        let sid = Sid::new(1, 0x1234_5678_9abc, vec![7]).expect("valid");
        assert_eq!(sid.to_string(), "S-1-0x123456789ABC-7");
        assert_eq!(sid.to_string().parse::<Sid>().expect("round trip"), sid);
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "",
            "S",
            "S-1",
            "X-1-5",
            "S-1-5-",
            "S-1--5",
            "S-+1-5",
            "S-1-5-4294967296",
            "S-256-5",
            "S-1-0x1000000000000",
            "S-1-281474976710656",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        ] {
            assert!(bad.parse::<Sid>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn with_rid_and_rid_in_are_inverse() {
        let domain: Sid = "S-1-5-21-1-2-3".parse().expect("valid");
        let user = domain.with_rid(1104).expect("room for a RID");
        assert_eq!(user.to_string(), "S-1-5-21-1-2-3-1104");
        assert_eq!(user.rid_in(&domain), Some(1104));
        assert_eq!(domain.rid_in(&domain), None);
        let full = Sid::new(1, 5, vec![1; 15]).expect("15 is allowed");
        assert_eq!(full.with_rid(1), Err(SidError::TooManySubAuthorities(16)));
    }

    #[test]
    fn reads_ndr_rpc_sid() {
        // MaxCount 1, Revision 1, count 1, authority 18 big-endian, sub-authority 1.
        let buf = [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 18, 1, 0, 0, 0];
        let sid = Sid::read_ndr(&mut NdrReader::new(&buf), "Sid").expect("valid");
        assert_eq!(sid.to_string(), "S-1-18-1");
    }

    #[test]
    fn ndr_sid_count_mismatch_is_refused() {
        let buf = [2, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 18, 1, 0, 0, 0];
        let err = Sid::read_ndr(&mut NdrReader::new(&buf), "Sid").expect_err("mismatch");
        assert_eq!(err.offset, 0);
        assert!(matches!(err.kind, PacErrorKind::CountMismatch { .. }));
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(
            revision in any::<u8>(),
            authority in 0..=MAX_AUTHORITY,
            subs in proptest::collection::vec(any::<u32>(), 0..=MAX_SUB_AUTHORITIES),
        ) {
            let sid = Sid::new(revision, authority, subs).expect("within limits");
            prop_assert_eq!(sid.to_string().parse::<Sid>(), Ok(sid));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = text.parse::<Sid>();
        }
    }
}
