//! The appliance's on-disk state in sled: sealed credentials, authorized list, settings, events.
//!
//! This is the only crate that uses sled. Layout under the data directory:
//!
//! - `machine.key`: 32 random bytes (mode 0600) that seal every secret, kept outside the
//!   database so a database rebuilt after corruption can still read `recovery.sealed`.
//! - `store/`: the sled database, one tree per concern.
//! - `recovery.sealed`: a sealed copy of the registration and the settings, rewritten
//!   atomically whenever they change; a store rebuilt after corruption is refilled from it.
//! - `store.corrupt-<unix-ts>`: up to three databases set aside because they could not be
//!   opened, kept for diagnosis.
//!
//! Every write is flushed to disk before its `async fn` returns `Ok`.

mod error;
mod events;
mod fsutil;
mod model;
mod open;
mod recovery;
mod seal;
mod secret;
mod store;

pub use error::StoreError;
pub use model::{EventFilter, EventLevel, EventRecord, NewEvent, Registration, StoredList};
pub use open::{OpenOutcome, StoreOptions};
pub use seal::{MACHINE_KEY_FILE, MACHINE_KEY_LEN};
pub use secret::Secret;
pub use store::Store;

/// How many events the log keeps by default; older ones are dropped.
pub const EVENT_CAPACITY: usize = 10_000;

/// Directory of the sled database inside the data directory.
pub const STORE_DIR: &str = "store";

/// File name of the sealed recovery copy inside the data directory.
pub const RECOVERY_FILE: &str = "recovery.sealed";

#[cfg(test)]
mod tests;
