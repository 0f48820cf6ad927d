//! The administrator account: username and Argon2id password hash, kept as a store setting,
//! and the password rules.

use crate::error::WebAdminError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

/// Store setting holding the administrator account (`{"username","password_hash"}`).
pub const ACCOUNT_SETTING: &str = "webadmin-account";

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Longest password accepted, in bytes: bounds the hashing work a request can cause.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Longest username accepted.
const MAX_USERNAME_CHARS: usize = 64;

/// The stored administrator account.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct AdminAccount {
    pub(crate) username: String,
    /// PHC string (`$argon2id$v=19$m=...`), which carries its own parameters and salt.
    pub(crate) password_hash: String,
}

/// Argon2id cost parameters for new hashes. Verification always uses the parameters
/// stored in the hash, so changing these does not lock anyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    /// OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordCost {
    /// The cheapest parameters Argon2 allows, so tests do not spend seconds hashing.
    pub const fn cheapest() -> Self {
        PasswordCost {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// Hashes `password` with Argon2id and a fresh random salt. CPU- and memory-heavy: call it
/// on the blocking pool.
pub(crate) fn hash(password: &str, cost: PasswordCost) -> Result<String, WebAdminError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| WebAdminError::PasswordHash(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebAdminError::PasswordHash(e.to_string()))
}

/// Whether `password` matches the PHC string `stored`. An unreadable hash never matches.
/// CPU- and memory-heavy: call it on the blocking pool.
pub(crate) fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Why a new password is refused, for a person to read; `None` if it is acceptable.
pub(crate) fn weakness(password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some("Choose a password of at least 12 characters.")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("Choose a password of at most 1024 bytes.")
    } else if password.chars().any(char::is_control) {
        Some("The password must not contain control characters.")
    } else {
        None
    }
}

/// Whether `username` is acceptable: 1 to 64 of `A-Z a-z 0-9 . _ @ -`. The restriction keeps
/// the name safe in headers, logs and the audit trail.
pub(crate) fn valid_username(username: &str) -> bool {
    !username.is_empty()
        && username.chars().count() <= MAX_USERNAME_CHARS
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery", PasswordCost::cheapest()).expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterx", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let a = hash("correct horse battery", PasswordCost::cheapest()).expect("hash");
        let b = hash("correct horse battery", PasswordCost::cheapest()).expect("hash");
        assert_ne!(a, b);
    }

    #[test]
    fn short_and_control_character_passwords_are_weak() {
        assert!(weakness("short").is_some());
        assert!(weakness("elevenchars").is_some());
        assert!(weakness("twelve chars").is_none());
        assert!(weakness("twelve\nchars!").is_some());
        assert!(weakness(&"x".repeat(2000)).is_some());
    }

    #[test]
    fn usernames_are_limited_to_a_safe_alphabet() {
        assert!(valid_username("admin"));
        assert!(valid_username("ops.admin@contoso-1"));
        assert!(!valid_username(""));
        assert!(!valid_username("ad min"));
        assert!(!valid_username("admin\r\n"));
        assert!(!valid_username(&"a".repeat(65)));
    }
}
