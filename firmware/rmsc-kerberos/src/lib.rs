//! Kerberos caller authentication: HTTP Negotiate (SPNEGO) through MIT GSSAPI, the MS-PAC
//! decoder that turns the verified PAC into SIDs, keytab parsing and installation.

pub mod gss;
mod install;
pub mod keytab;
pub mod negotiate;
pub mod pac;
mod source;

#[cfg(feature = "initiator")]
pub use gss::Initiator;
pub use gss::{AcceptorCredential, FailureKind, GssError};
pub use install::{InstallError, KeytabInstaller};
pub use pac::{decode_logon_info, LogonInfo, PacError, PacErrorKind, Sid, SidError};
pub use source::KerberosSource;
