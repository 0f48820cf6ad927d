//! The decoder's error: which field of PAC_LOGON_INFO was wrong, where, and how.

/// A PAC_LOGON_INFO buffer could not be decoded.
///
/// `field` is the MS-PAC 2.5 field name (deferred data is named after the pointer that led to
/// it) and `offset` is the byte offset into the buffer where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PAC_LOGON_INFO {field} at offset {offset}: {kind}")]
pub struct PacError {
    /// Field being decoded.
    pub field: &'static str,
    /// Byte offset into the decoded buffer.
    pub offset: usize,
    /// What was wrong.
    pub kind: PacErrorKind,
}

impl PacError {
    pub(crate) fn new(field: &'static str, offset: usize, kind: PacErrorKind) -> Self {
        Self {
            field,
            offset,
            kind,
        }
    }
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacErrorKind {
    /// The buffer ends before the field does.
    #[error("buffer ends: {needed} bytes needed, {available} available")]
    Truncated { needed: usize, available: usize },
    /// A header or marker has a value this decoder does not accept.
    #[error("unexpected value {found:#x}, expected {expected:#x}")]
    UnexpectedValue { found: u32, expected: u32 },
    /// An array count cannot fit in the rest of the buffer.
    #[error("count {count} cannot fit in the remaining {remaining} bytes")]
    CountTooLarge { count: u32, remaining: usize },
    /// An array's NDR count disagrees with the count the structure declares.
    #[error("count {found} disagrees with the declared count {declared}")]
    CountMismatch { declared: u32, found: u32 },
    /// An RPC_UNICODE_STRING's Length is odd or larger than its MaximumLength.
    #[error("string Length {length} is odd or exceeds MaximumLength {maximum}")]
    BadStringLength { length: u16, maximum: u16 },
    /// A conformant varying array starts at a nonzero offset, which PACs never use.
    #[error("array offset {0} is not zero")]
    NonZeroArrayOffset(u32),
    /// The UTF-16 text has unpaired surrogates.
    #[error("text is not valid UTF-16")]
    InvalidUtf16,
    /// A pointer that must be present is NULL, or data is declared behind a NULL pointer.
    #[error("pointer is NULL but {0}")]
    NullPointer(&'static str),
    /// A SID is malformed.
    #[error("invalid SID: {0}")]
    InvalidSid(#[from] crate::pac::SidError),
}
