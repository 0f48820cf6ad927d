//! Reading uploads: PEM bundles, PFX (PKCS#12) files and certificates for a pending CSR.
//!
//! Every reader ends in [`assemble`], which puts the leaf (the certificate of the uploaded
//! key) first and follows issuer names from there, so the checks and rustls see the chain in
//! the order TLS sends it, whatever order the file used.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls_pemfile::Item;
use x509_parser::prelude::X509Certificate;

use crate::keys::{public_key_of, same_public_key};
use crate::{CertError, Uploaded};

/// Largest upload accepted (PEM or PFX): a long RSA chain is about 10 KiB.
pub const MAX_UPLOAD_BYTES: usize = 256 * 1024;
/// Most certificates accepted in one upload (leaf, intermediates, root).
pub const MAX_CERTIFICATES: usize = 10;

/// DER of the scrypt OID (1.3.6.1.4.1.11591.4.11): the PKCS#12 reader allows scrypt up to
/// 1 GiB of memory, too much for the appliance; Windows and openssl never write it.
const SCRYPT_OID_DER: &[u8] = &[
    0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B,
];

fn check_size(bytes: &[u8]) -> Result<(), CertError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(CertError::TooLarge {
            limit_kib: MAX_UPLOAD_BYTES / 1024,
        });
    }
    Ok(())
}

/// Reads a PEM bundle: the leaf, its chain and one unencrypted private key (PKCS#8,
/// PKCS#1 or SEC1), in any order.
pub fn parse_pem_bundle(pem: &[u8]) -> Result<Uploaded, CertError> {
    let (certs, keys) = read_pem(pem)?;
    let mut keys = keys.into_iter();
    let key = keys.next().ok_or(CertError::NoPrivateKey)?;
    if keys.next().is_some() {
        return Err(CertError::MultipleKeys);
    }
    assemble(certs, key)
}

/// Reads the certificate (and chain) issued for a CSR made by [`crate::generate_csr`],
/// joining it with the key that stayed on the appliance.
pub fn complete_csr(cert_pem: &[u8], key_pkcs8_der: &[u8]) -> Result<Uploaded, CertError> {
    let (certs, keys) = read_pem(cert_pem)?;
    if !keys.is_empty() {
        // A key in the answer to our CSR cannot be ours; refuse rather than guess.
        return Err(CertError::MultipleKeys);
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8_der.to_vec()));
    assemble(certs, key)
}

/// Reads a PFX / PKCS#12 file as Windows or openssl export it.
pub fn parse_pfx(der: &[u8], password: &str) -> Result<Uploaded, CertError> {
    check_size(der)?;
    if der
        .windows(SCRYPT_OID_DER.len())
        .any(|window| window == SCRYPT_OID_DER)
    {
        return Err(CertError::UnsupportedPfx("scrypt".into()));
    }
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password).map_err(pfx_error)?;
    let mut keys = archive.keys.into_iter();
    let key = keys.next().ok_or(CertError::NoPrivateKey)?;
    if keys.next().is_some() {
        return Err(CertError::MultipleKeys);
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key.as_der().to_vec()));
    let certs = archive
        .certs
        .into_iter()
        .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
        .collect();
    assemble(certs, key)
}

fn pfx_error(err: p12_keystore::error::Error) -> CertError {
    use p12_keystore::error::Error as E;
    match err {
        // A MAC mismatch is what a wrong password looks like; a bad padding after
        // decryption is what it looks like in files without a MAC.
        E::MacError(_) | E::UnpadError => CertError::WrongPassword,
        E::UnsupportedEncryptionScheme | E::UnsupportedMacAlgorithm => {
            CertError::UnsupportedPfx("its encryption or integrity algorithm".into())
        }
        E::UnsupportedContentType | E::UnsupportedCertificateType => {
            CertError::UnsupportedPfx("its content type".into())
        }
        E::InvalidParameters => CertError::UnsupportedPfx("its key-derivation parameters".into()),
        E::Pkcs5Error(_) => CertError::WrongPassword,
        _ => CertError::Unreadable {
            what: "a PFX (PKCS#12) file",
        },
    }
}

type PemContents = (Vec<CertificateDer<'static>>, Vec<PrivateKeyDer<'static>>);

fn read_pem(pem: &[u8]) -> Result<PemContents, CertError> {
    check_size(pem)?;
    let text = String::from_utf8_lossy(pem);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(CertError::EncryptedKey);
    }
    let mut certs = Vec::new();
    let mut keys = Vec::new();
    let mut rest = pem;
    loop {
        let next =
            rustls_pemfile::read_one_from_slice(rest).map_err(|_| CertError::Unreadable {
                what: "PEM (BEGIN/END blocks of base64)",
            })?;
        let Some((item, remaining)) = next else {
            break;
        };
        rest = remaining;
        match item {
            Item::X509Certificate(cert) => certs.push(cert),
            Item::Pkcs8Key(key) => keys.push(PrivateKeyDer::Pkcs8(key)),
            Item::Pkcs1Key(key) => keys.push(PrivateKeyDer::Pkcs1(key)),
            Item::Sec1Key(key) => keys.push(PrivateKeyDer::Sec1(key)),
            // CRLs, CSRs and public keys in the bundle are harmless; they are not served.
            _ => {}
        }
        if certs.len() > MAX_CERTIFICATES {
            return Err(CertError::TooManyCertificates {
                limit: MAX_CERTIFICATES,
            });
        }
    }
    Ok((certs, keys))
}

/// Orders `certs` leaf first, then each issuer after the certificate it issued; certificates
/// that fit nowhere go last, where the chain check reports them.
fn assemble(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Uploaded, CertError> {
    let key_spki = public_key_of(&key)?;
    let mut certs = dedup(certs);
    if certs.is_empty() {
        return Err(CertError::NoCertificate);
    }
    if certs.len() > MAX_CERTIFICATES {
        return Err(CertError::TooManyCertificates {
            limit: MAX_CERTIFICATES,
        });
    }
    let parsed = certs
        .iter()
        .enumerate()
        .map(|(index, der)| {
            parse_cert(der).map_err(|_| CertError::BadCertificate { index: index + 1 })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let leaf = parsed
        .iter()
        .position(|cert| same_public_key(cert.public_key().raw, &key_spki))
        .or_else(|| parsed.iter().position(|cert| !is_ca(cert)))
        .unwrap_or(0);
    let mut order = vec![leaf];
    let mut current = leaf;
    while let Some(next) = (0..parsed.len()).find(|&candidate| {
        !order.contains(&candidate)
            && parsed[candidate].subject().as_raw() == parsed[current].issuer().as_raw()
            && parsed[current].subject().as_raw() != parsed[current].issuer().as_raw()
    }) {
        order.push(next);
        current = next;
    }
    let leftovers: Vec<usize> = (0..parsed.len())
        .filter(|index| !order.contains(index))
        .collect();
    order.extend(leftovers);
    drop(parsed);

    let mut slots: Vec<Option<CertificateDer<'static>>> = certs.drain(..).map(Some).collect();
    let ordered = order
        .into_iter()
        .filter_map(|index| slots.get_mut(index).and_then(Option::take))
        .collect();
    Ok(Uploaded::new(ordered, key))
}

fn dedup(certs: Vec<CertificateDer<'static>>) -> Vec<CertificateDer<'static>> {
    let mut unique: Vec<CertificateDer<'static>> = Vec::with_capacity(certs.len());
    for cert in certs {
        if !unique.iter().any(|seen| seen.as_ref() == cert.as_ref()) {
            unique.push(cert);
        }
    }
    unique
}

pub(crate) fn parse_cert<'a>(
    der: &'a CertificateDer<'_>,
) -> Result<X509Certificate<'a>, x509_parser::nom::Err<x509_parser::error::X509Error>> {
    x509_parser::parse_x509_certificate(der.as_ref()).map(|(_, cert)| cert)
}

pub(crate) fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}
