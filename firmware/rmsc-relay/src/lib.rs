//! The caller-facing side of the connector: listeners on the caller ports (HTTP and HTTPS),
//! the `/_wmcs/` endpoints, caller authentication through an [`IdentitySource`], authorization
//! against the authorized-server list, and the relay of each SOAP call to the cloud.
//!
//! Invariant: **only this crate talks to callers**, and the admin UI never listens here.
//!
//! [`IdentitySource`]: rmsc_identity::IdentitySource

mod body;
mod caller_io;
mod connection;
mod limits;
mod readiness;
mod reply;
mod routes;
mod seen;
mod server;
mod soap_call;
mod state;

pub use limits::RelayLimits;
pub use readiness::{Readiness, ReadyReport};
pub use server::{serve_callers, CallerListener};
pub use state::RelayState;
