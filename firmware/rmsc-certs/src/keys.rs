//! Private keys: whether rustls can use them, and the public key they belong to.
//!
//! rustls' ring provider is the one that will serve the key, so asking it both validates
//! the key (type, curve, RSA size) and yields the SubjectPublicKeyInfo to compare with the
//! leaf certificate's.

use rustls::pki_types::PrivateKeyDer;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::CertError;

/// The DER SubjectPublicKeyInfo that matches `key`, or why rustls cannot use the key.
pub fn public_key_of(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, CertError> {
    let signing = rustls::crypto::ring::sign::any_supported_type(key)
        .map_err(|_| CertError::UnusableKey("unsupported type or size".into()))?;
    let spki = signing
        .public_key()
        .ok_or_else(|| CertError::UnusableKey("its public key is unknown".into()))?;
    Ok(spki.as_ref().to_vec())
}

/// Whether two DER SubjectPublicKeyInfos hold the same key. Compares the algorithm and the
/// key bits rather than raw bytes, because encoders differ in optional parameters (such as
/// RSA's NULL) without the key being different.
pub fn same_public_key(a: &[u8], b: &[u8]) -> bool {
    match (
        SubjectPublicKeyInfo::from_der(a),
        SubjectPublicKeyInfo::from_der(b),
    ) {
        (Ok((_, a)), Ok((_, b))) => {
            a.algorithm.algorithm == b.algorithm.algorithm
                && a.subject_public_key.data == b.subject_public_key.data
        }
        _ => false,
    }
}
