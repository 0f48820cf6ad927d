//! Kerberos caller authentication: SPNEGO through MIT GSSAPI and the MS-PAC decoder.

pub mod pac;

pub use pac::{decode_logon_info, LogonInfo, PacError, PacErrorKind, Sid, SidError};
