//! The one-time setup code of the first run: 16 random characters from Crockford's base32
//! alphabet (80 bits), shown as four groups of four, compared in constant time.

use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// Crockford's base32: no I, L, O or U, so a code read off a console is not misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 16;

/// A setup code. Not `Debug`, so it cannot slip into a log line by accident.
pub(crate) struct SetupCode {
    canonical: String,
}

impl SetupCode {
    /// A fresh random code.
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; LEN];
        OsRng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32, so masking keeps every character equally likely.
        let canonical = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        SetupCode { canonical }
    }

    /// The code as shown to a person: `XXXX-XXXX-XXXX-XXXX`.
    pub(crate) fn display(&self) -> String {
        let mut out = String::with_capacity(LEN + 3);
        for (i, c) in self.canonical.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// Whether `typed` is this code, ignoring case, dashes and spaces and accepting the
    /// look-alikes Crockford allows (O for 0, I and L for 1).
    pub(crate) fn matches(&self, typed: &str) -> bool {
        if typed.len() > 64 {
            return false;
        }
        let normalized: Vec<u8> = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .map(|c| u8::try_from(c).unwrap_or(0))
            .collect();
        normalized.ct_eq(self.canonical.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_four_groups_of_four_alphabet_characters() {
        let code = SetupCode::generate();
        let shown = code.display();
        let groups: Vec<&str> = shown.split('-').collect();
        assert_eq!(groups.len(), 4);
        for group in groups {
            assert_eq!(group.len(), 4);
            assert!(group.bytes().all(|b| ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn two_codes_differ() {
        assert_ne!(
            SetupCode::generate().canonical,
            SetupCode::generate().canonical
        );
    }

    #[test]
    fn matching_ignores_case_dashes_spaces_and_look_alikes() {
        let code = SetupCode {
            canonical: "01ABCDEF23456789".to_owned(),
        };
        assert!(code.matches("01AB-CDEF-2345-6789"));
        assert!(code.matches("olab cdef 2345 6789"));
        assert!(code.matches("OIabcdef23456789"));
        assert!(!code.matches("01AB-CDEF-2345-678"));
        assert!(!code.matches("01AB-CDEF-2345-6780"));
        assert!(!code.matches(""));
        assert!(!code.matches("01ABCDEF23456789é"));
    }
}
