//! The two encryptions: the pairing answer (X25519 to the joiner's ephemeral key, MACed with
//! the pairing code) and the shared configuration (AES-256-GCM under the group key).

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

use crate::code::{hkdf_fill, PairingKeys};
use crate::PairingError;

/// Bytes of an X25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Bytes of the group key.
pub const GROUP_KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const SHARED_AAD: &[u8] = b"rmsc-shared-v1";

/// The key every appliance of a connector holds; it encrypts the shared configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupKey([u8; GROUP_KEY_LEN]);

impl std::fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupKey(..)")
    }
}

impl Drop for GroupKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl GroupKey {
    pub fn generate() -> Result<Self, PairingError> {
        let mut key = [0u8; GROUP_KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| PairingError::Random)?;
        Ok(Self(key))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PairingError> {
        let key: [u8; GROUP_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| PairingError::Malformed("group key"))?;
        Ok(Self(key))
    }

    /// For sealing in the appliance's store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn aead(&self) -> Result<LessSafeKey, PairingError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| PairingError::Malformed("group key"))
    }
}

/// The joining appliance's one-time key pair; the private half never leaves memory and is
/// used once.
pub struct JoinerKey {
    private: EphemeralPrivateKey,
    public: [u8; PUBLIC_KEY_LEN],
}

impl std::fmt::Debug for JoinerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinerKey").finish_non_exhaustive()
    }
}

fn ephemeral() -> Result<(EphemeralPrivateKey, [u8; PUBLIC_KEY_LEN]), PairingError> {
    let rng = SystemRandom::new();
    let private = EphemeralPrivateKey::generate(&X25519, &rng).map_err(|_| PairingError::Random)?;
    let public = private
        .compute_public_key()
        .map_err(|_| PairingError::Random)?;
    let public: [u8; PUBLIC_KEY_LEN] = public
        .as_ref()
        .try_into()
        .map_err(|_| PairingError::Random)?;
    Ok((private, public))
}

impl JoinerKey {
    pub fn generate() -> Result<Self, PairingError> {
        let (private, public) = ephemeral()?;
        Ok(Self { private, public })
    }

    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.public
    }
}

/// The answer to a join request, as the cloud carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedAnswer {
    /// The answering appliance's ephemeral public key.
    pub public_key: Vec<u8>,
    pub sealed: Vec<u8>,
    pub mac: Vec<u8>,
}

fn proof_input(joiner_public: &[u8]) -> Vec<u8> {
    [b"join\0".as_slice(), joiner_public].concat()
}

/// HMAC proving that the join request for `joiner_public` was made by someone who saw the code.
pub fn join_proof(keys: &PairingKeys, joiner_public: &[u8]) -> Vec<u8> {
    hmac::sign(&keys.mac_key, &proof_input(joiner_public))
        .as_ref()
        .to_vec()
}

/// Checks a join request's proof.
pub fn verify_join_proof(
    keys: &PairingKeys,
    joiner_public: &[u8],
    proof: &[u8],
) -> Result<(), PairingError> {
    if joiner_public.len() != PUBLIC_KEY_LEN {
        return Err(PairingError::Malformed("join request"));
    }
    hmac::verify(&keys.mac_key, &proof_input(joiner_public), proof)
        .map_err(|_| PairingError::NotAuthentic("join request"))
}

fn answer_mac_input(answer_public: &[u8], joiner_public: &[u8], sealed: &[u8]) -> Vec<u8> {
    [b"answer\0".as_slice(), answer_public, joiner_public, sealed].concat()
}

/// AES key both sides derive from the X25519 agreement, bound to both public keys.
fn answer_key(
    keys: &PairingKeys,
    shared: &[u8],
    answer_public: &[u8],
    joiner_public: &[u8],
) -> Result<LessSafeKey, PairingError> {
    let info = [b"answer\0".as_slice(), answer_public, joiner_public].concat();
    let mut key = [0u8; 32];
    hkdf_fill(keys.request_id.as_bytes(), shared, &info, &mut key)?;
    let aead = UnboundKey::new(&AES_256_GCM, &key).map(LessSafeKey::new);
    key.zeroize();
    aead.map_err(|_| PairingError::Malformed("answer key"))
}

/// Encrypts `secret` to the joiner's public key and MACs it with the pairing code.
pub fn seal_answer(
    keys: &PairingKeys,
    joiner_public: &[u8],
    secret: &[u8],
) -> Result<SealedAnswer, PairingError> {
    if joiner_public.len() != PUBLIC_KEY_LEN {
        return Err(PairingError::Malformed("join request"));
    }
    let (private, public) = ephemeral()?;
    let peer = UnparsedPublicKey::new(&X25519, joiner_public);
    let key = agreement::agree_ephemeral(private, &peer, |shared| {
        answer_key(keys, shared, &public, joiner_public)
    })
    .map_err(|_| PairingError::Malformed("join request"))??;
    let mut sealed = secret.to_vec();
    // Each answer key is fresh (new ephemeral key), so a fixed nonce is never reused.
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
        Aad::from(keys.request_id.as_bytes()),
        &mut sealed,
    )
    .map_err(|_| PairingError::Malformed("answer"))?;
    let mac = hmac::sign(
        &keys.mac_key,
        &answer_mac_input(&public, joiner_public, &sealed),
    );
    Ok(SealedAnswer {
        public_key: public.to_vec(),
        sealed,
        mac: mac.as_ref().to_vec(),
    })
}

/// Checks the answer came from the appliance showing the code, then decrypts it.
pub fn open_answer(
    keys: &PairingKeys,
    joiner: JoinerKey,
    answer: &SealedAnswer,
) -> Result<Vec<u8>, PairingError> {
    if answer.public_key.len() != PUBLIC_KEY_LEN || answer.sealed.len() < TAG_LEN {
        return Err(PairingError::Malformed("pairing answer"));
    }
    hmac::verify(
        &keys.mac_key,
        &answer_mac_input(&answer.public_key, &joiner.public, &answer.sealed),
        &answer.mac,
    )
    .map_err(|_| PairingError::NotAuthentic("pairing answer"))?;
    let peer = UnparsedPublicKey::new(&X25519, answer.public_key.as_slice());
    let joiner_public = joiner.public;
    let key = agreement::agree_ephemeral(joiner.private, &peer, |shared| {
        answer_key(keys, shared, &answer.public_key, &joiner_public)
    })
    .map_err(|_| PairingError::Malformed("pairing answer"))??;
    let mut buffer = answer.sealed.clone();
    let plain_len = key
        .open_in_place(
            Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
            Aad::from(keys.request_id.as_bytes()),
            &mut buffer,
        )
        .map_err(|_| PairingError::NotAuthentic("pairing answer"))?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

fn shared_aad(generation: u64) -> Vec<u8> {
    [SHARED_AAD, &generation.to_be_bytes()].concat()
}

/// Encrypts the shared configuration of `generation`: random nonce, then ciphertext and tag.
pub fn seal_shared(
    group: &GroupKey,
    generation: u64,
    plaintext: &[u8],
) -> Result<Vec<u8>, PairingError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| PairingError::Random)?;
    let mut body = plaintext.to_vec();
    group
        .aead()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(shared_aad(generation).as_slice()),
            &mut body,
        )
        .map_err(|_| PairingError::Malformed("shared configuration"))?;
    Ok([nonce.as_slice(), &body].concat())
}

/// Decrypts the shared configuration; refused unless it was sealed for this `generation`.
pub fn open_shared(
    group: &GroupKey,
    generation: u64,
    sealed: &[u8],
) -> Result<Vec<u8>, PairingError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(PairingError::Malformed("shared configuration"));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| PairingError::Malformed("shared configuration"))?;
    let mut buffer = body.to_vec();
    let plain_len = group
        .aead()?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(shared_aad(generation).as_slice()),
            &mut buffer,
        )
        .map_err(|_| PairingError::NotAuthentic("shared configuration"))?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PairingCode;
    use proptest::prelude::*;

    fn keys(text: &str) -> PairingKeys {
        PairingCode::parse(text)
            .expect("code")
            .keys()
            .expect("keys")
    }

    #[test]
    fn the_joiner_opens_an_answer_made_with_the_same_code() {
        let shown = keys("ABCD-EFGH-JKMN-PQRS");
        let joiner = JoinerKey::generate().expect("key");
        let proof = join_proof(&shown, &joiner.public_key());
        verify_join_proof(&shown, &joiner.public_key(), &proof).expect("proof");
        let answer = seal_answer(&shown, &joiner.public_key(), b"group key bytes").expect("seal");
        let opened = open_answer(&shown, joiner, &answer).expect("open");
        assert_eq!(opened, b"group key bytes");
    }

    #[test]
    fn a_wrong_code_or_swapped_key_is_detected() {
        let shown = keys("ABCD-EFGH-JKMN-PQRS");
        let typed_wrong = keys("ABCD-EFGH-JKMN-PQRT");
        let joiner = JoinerKey::generate().expect("key");
        let proof = join_proof(&typed_wrong, &joiner.public_key());
        assert_eq!(
            verify_join_proof(&shown, &joiner.public_key(), &proof),
            Err(PairingError::NotAuthentic("join request"))
        );
        // A cloud that substitutes its own key cannot make a valid proof for it.
        let intruder = JoinerKey::generate().expect("key");
        assert!(verify_join_proof(&shown, &intruder.public_key(), &proof).is_err());
        // An answer re-sealed by someone without the code fails its MAC.
        let mut answer = seal_answer(&shown, &joiner.public_key(), b"secret").expect("seal");
        answer.sealed[0] ^= 1;
        assert_eq!(
            open_answer(&shown, joiner, &answer),
            Err(PairingError::NotAuthentic("pairing answer"))
        );
    }

    #[test]
    fn an_answer_for_another_joiner_does_not_open() {
        let shown = keys("ABCD-EFGH-JKMN-PQRS");
        let joiner = JoinerKey::generate().expect("key");
        let other = JoinerKey::generate().expect("key");
        let answer = seal_answer(&shown, &other.public_key(), b"secret").expect("seal");
        assert!(open_answer(&shown, joiner, &answer).is_err());
    }

    #[test]
    fn shared_configuration_is_bound_to_its_generation_and_key() {
        let group = GroupKey::generate().expect("key");
        let sealed = seal_shared(&group, 7, b"{\"x\":1}").expect("seal");
        assert_eq!(open_shared(&group, 7, &sealed).expect("open"), b"{\"x\":1}");
        assert!(open_shared(&group, 8, &sealed).is_err());
        let other = GroupKey::generate().expect("key");
        assert!(open_shared(&other, 7, &sealed).is_err());
        assert!(open_shared(&group, 7, &sealed[..20]).is_err());
        let copy = GroupKey::from_bytes(group.as_bytes()).expect("bytes");
        assert_eq!(copy, group);
        assert!(GroupKey::from_bytes(&[0u8; 31]).is_err());
    }

    proptest! {
        #[test]
        fn hostile_answers_are_refused_without_panics(
            public in proptest::collection::vec(any::<u8>(), 0..40),
            sealed in proptest::collection::vec(any::<u8>(), 0..80),
            mac in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let shown = keys("ABCD-EFGH-JKMN-PQRS");
            let joiner = JoinerKey::generate().expect("key");
            let answer = SealedAnswer { public_key: public, sealed, mac };
            prop_assert!(open_answer(&shown, joiner, &answer).is_err());
        }

        #[test]
        fn hostile_shared_blobs_are_refused_without_panics(
            sealed in proptest::collection::vec(any::<u8>(), 0..100),
            generation in any::<u64>(),
        ) {
            let group = GroupKey::generate().expect("key");
            prop_assert!(open_shared(&group, generation, &sealed).is_err());
        }
    }
}
