//! `Secret`: bytes that are zeroed when dropped and never printed.

use std::fmt;

/// Secret bytes (private keys, keytabs). The buffer is overwritten with zeros on drop and
/// `Debug` prints only `Secret(..)`, so a secret cannot leak through logs by accident.
#[derive(Clone, Default)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Takes ownership of `bytes`; no copy is left behind.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The secret bytes. Callers should not keep copies longer than needed.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as UTF-8 text (for PEM), if it is valid UTF-8.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Number of secret bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Mutable access for filling the buffer in place (decryption, random keys).
    pub(crate) fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Shortens the secret, zeroing the bytes cut off first.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.0.len() {
            for byte in self.0[len..].iter_mut() {
                *byte = 0;
            }
            std::hint::black_box(&mut self.0);
            self.0.truncate(len);
        }
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text.into_bytes())
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.as_bytes().to_vec())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl PartialEq for Secret {
    /// Compares without an early exit, so timing does not reveal where two secrets differ.
    fn eq(&self, other: &Self) -> bool {
        if self.0.len() != other.0.len() {
            return false;
        }
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Secret {}

impl Drop for Secret {
    fn drop(&mut self) {
        for byte in self.0.iter_mut() {
            *byte = 0;
        }
        // Keeps the optimiser from removing the writes to memory that is about to be freed.
        std::hint::black_box(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = Secret::from("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn equality_compares_contents_and_length() {
        assert_eq!(Secret::from("abc"), Secret::from("abc"));
        assert_ne!(Secret::from("abc"), Secret::from("abd"));
        assert_ne!(Secret::from("abc"), Secret::from("abcd"));
    }

    #[test]
    fn exposes_text_only_when_utf8() {
        assert_eq!(Secret::from("pem").expose_str(), Some("pem"));
        assert_eq!(Secret::new(vec![0xff, 0xfe]).expose_str(), None);
        assert_eq!(Secret::from("pem").len(), 3);
        assert!(Secret::default().is_empty());
    }
}
