//! Administration: the operations an administrator performs (cloud sign-in, registration,
//! the authorized-server list, status, events) and the JSON API that exposes them. The
//! command line (over a local socket) and the web UI call the same [`Admin`] operations.

mod api;
mod error;
mod kerberos;
mod list_edit;
mod ops;

pub use api::router;
pub use error::AdminError;
pub use kerberos::{KerberosControl, KeytabStatus, MAX_KEYTAB_BYTES};
pub use list_edit::NewEntry;
pub use ops::{Admin, AdminConfig, DeviceSignIn, SignedIn, Status};
