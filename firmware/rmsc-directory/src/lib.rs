//! Directory browse over LDAP: resolve names to SIDs, search accounts, computers and groups.
//!
//! The admin UI uses it to pick the accounts and groups allowed to use the connector. The
//! connection authenticates with SASL GSSAPI using the connector's own keytab (credentials
//! acquired through MIT's credential store, no process-wide environment) and is sealed by
//! Kerberos, as Active Directory requires without TLS. Every value that comes from the user
//! is escaped into the filter; results are bounded in number and time.

mod config;
mod directory;
mod entry;
mod error;
mod filter;
mod gss;
mod sid;

pub use config::{DirectoryAuth, DirectoryConfig};
pub use directory::Directory;
pub use entry::{group_type, DirectoryEntry, EntryKind, GroupScope, KindFilter};
pub use error::DirectoryError;
pub use filter::{escape_value, MAX_QUERY_LEN};
pub use rmsc_kerberos::Sid;
pub use sid::{decode_sid, encode_sid};
