//! Pairing and shared-configuration cryptography for appliances of one connector. Pure
//! functions, no I/O: the cloud carries the bytes but can neither read nor forge them.
//!
//! - A **pairing code** (80 random bits, shown on the appliance that already holds the
//!   configuration, typed on the joining one) derives a request id and a MAC key
//!   ([`PairingCode::keys`]). The joiner proves it saw the code ([`join_proof`]); the answer is
//!   encrypted to the joiner's ephemeral X25519 key and MACed with the code
//!   ([`seal_answer`]/[`open_answer`]), so a cloud that swaps keys is detected.
//! - The answer carries the **group key**: AES-256-GCM over the shared configuration
//!   ([`seal_shared`]/[`open_shared`]), bound to its generation so an old copy cannot be
//!   passed off as a newer one.

mod code;
mod seal;

pub use code::{PairingCode, PairingKeys, CODE_LEN};
pub use seal::{
    join_proof, open_answer, open_shared, seal_answer, seal_shared, verify_join_proof, GroupKey,
    JoinerKey, SealedAnswer, GROUP_KEY_LEN, PUBLIC_KEY_LEN,
};

/// Why pairing bytes were refused. The messages are for administrators.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PairingError {
    #[error(
        "the pairing code must be {CODE_LEN} letters and digits (dashes and spaces are ignored)"
    )]
    MalformedCode,
    #[error("the {0} is damaged")]
    Malformed(&'static str),
    #[error("the {0} was not made with this pairing code or group key")]
    NotAuthentic(&'static str),
    #[error("the system random generator failed")]
    Random,
}
