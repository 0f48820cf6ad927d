//! Pairing codes: 16 Crockford base32 characters (80 bits), shown in groups of four. Typing
//! mistakes the alphabet is known for (O for 0, I and L for 1) are forgiven.

use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

use crate::PairingError;

/// Characters in a code, without separators.
pub const CODE_LEN: usize = 16;
const CODE_BYTES: usize = 10;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Domain separation for everything derived from a code.
const SALT: &[u8] = b"rmsc-pairing-v1";

/// A pairing code. Its bytes are wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode([u8; CODE_BYTES]);

impl std::fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairingCode(..)")
    }
}

impl Drop for PairingCode {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// What a code derives: the id under which the cloud files the join request, and the key
/// that authenticates both directions.
pub struct PairingKeys {
    /// 32 lowercase hex characters.
    pub request_id: String,
    pub(crate) mac_key: ring::hmac::Key,
}

impl std::fmt::Debug for PairingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairingKeys")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

pub(crate) fn hkdf_fill(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), PairingError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| PairingError::Malformed("key derivation"))
}

impl PairingCode {
    /// A fresh random code.
    pub fn generate() -> Result<Self, PairingError> {
        let mut bytes = [0u8; CODE_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| PairingError::Random)?;
        Ok(Self(bytes))
    }

    /// Reads what an administrator typed.
    pub fn parse(text: &str) -> Result<Self, PairingError> {
        let mut bits: u128 = 0;
        let mut count = 0usize;
        for c in text.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            let value = ALPHABET
                .iter()
                .position(|&a| char::from(a) == c)
                .ok_or(PairingError::MalformedCode)?;
            count += 1;
            if count > CODE_LEN {
                return Err(PairingError::MalformedCode);
            }
            bits = (bits << 5) | value as u128;
        }
        if count != CODE_LEN {
            return Err(PairingError::MalformedCode);
        }
        let mut bytes = [0u8; CODE_BYTES];
        bytes.copy_from_slice(&bits.to_be_bytes()[16 - CODE_BYTES..]);
        bits.zeroize();
        Ok(Self(bytes))
    }

    /// The code as shown: `XXXX-XXXX-XXXX-XXXX`.
    pub fn display(&self) -> String {
        let mut word = [0u8; 16];
        word[16 - CODE_BYTES..].copy_from_slice(&self.0);
        let mut bits = u128::from_be_bytes(word);
        let mut chars = [0u8; CODE_LEN];
        for slot in chars.iter_mut().rev() {
            *slot = ALPHABET[(bits & 31) as usize];
            bits >>= 5;
        }
        let mut out = String::with_capacity(CODE_LEN + 3);
        for (i, c) in chars.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(*c));
        }
        word.zeroize();
        out
    }

    /// The request id and MAC key this code stands for.
    pub fn keys(&self) -> Result<PairingKeys, PairingError> {
        let mut id = [0u8; 16];
        hkdf_fill(SALT, &self.0, b"request id", &mut id)?;
        let mut mac = [0u8; 32];
        hkdf_fill(SALT, &self.0, b"mac key", &mut mac)?;
        let mac_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &mac);
        mac.zeroize();
        Ok(PairingKeys {
            request_id: id.iter().map(|b| format!("{b:02x}")).collect(),
            mac_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_codes_read_back_and_differ() {
        let a = PairingCode::generate().expect("random");
        let b = PairingCode::generate().expect("random");
        assert_ne!(a, b);
        let shown = a.display();
        assert_eq!(shown.len(), CODE_LEN + 3);
        assert_eq!(PairingCode::parse(&shown).expect("parse"), a);
        assert_eq!(
            PairingCode::parse(&shown.to_lowercase().replace('-', " ")).expect("parse"),
            a
        );
    }

    #[test]
    fn confusable_letters_are_forgiven() {
        let code = PairingCode::parse("0000-1111-2222-3333").expect("parse");
        assert_eq!(
            PairingCode::parse("OOOO-IIII-2222-3333").expect("parse"),
            code
        );
        assert_eq!(
            PairingCode::parse("oooo-llll-2222-3333").expect("parse"),
            code
        );
    }

    #[test]
    fn wrong_lengths_and_characters_are_refused() {
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRS-T",
            "ABCD-EFGH-JKMN-PQRU",
            "ABCD-EFGH-JKMN-PQR!",
        ] {
            assert_eq!(
                PairingCode::parse(bad),
                Err(PairingError::MalformedCode),
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_depend_on_the_code() {
        let a = PairingCode::parse("ABCD-EFGH-JKMN-PQRS").expect("parse");
        let b = PairingCode::parse("ABCD-EFGH-JKMN-PQRT").expect("parse");
        let (ka, kb) = (a.keys().expect("keys"), b.keys().expect("keys"));
        assert_eq!(ka.request_id.len(), 32);
        assert_ne!(ka.request_id, kb.request_id);
        assert_eq!(ka.request_id, a.keys().expect("keys").request_id);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = PairingCode::parse(&text);
        }

        #[test]
        fn display_round_trips(bytes in any::<[u8; CODE_BYTES]>()) {
            let code = PairingCode(bytes);
            prop_assert_eq!(PairingCode::parse(&code.display()).expect("parse"), code);
        }
    }
}
