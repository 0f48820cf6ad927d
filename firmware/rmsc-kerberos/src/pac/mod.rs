//! The MS-PAC logon-info decoder: turns the NDR-encoded KERB_VALIDATION_INFO that GSSAPI
//! exposes for a verified ticket into the caller's names and SIDs.
//!
//! This is pure parsing of bytes that come, in the end, from the network: no FFI, no unsafe,
//! and no input can make it panic or allocate more than the buffer could describe.

#[cfg(any(test, feature = "test-util"))]
mod encode;
mod error;
mod logon_info;
mod ndr;
mod sid;
#[cfg(test)]
mod tests;
mod unicode_string;

#[cfg(any(test, feature = "test-util"))]
pub use encode::{
    encode_logon_info, encode_logon_info_parts, LogonInfoParts, DEFAULT_GROUP_ATTRIBUTES,
};
pub use error::{PacError, PacErrorKind};
pub use logon_info::{decode_logon_info, LogonInfo};
pub use sid::{Sid, SidError, MAX_AUTHORITY, MAX_SUB_AUTHORITIES};
