//! Signed answers: each tenant signs a small XML payload in every SOAP answer with Ed25519, so
//! tests can prove that an answer came from the cloud untouched. Issuance licenses travel as a
//! "signed blob": base64 of the payload bytes followed by the 64-byte signature.

use std::collections::BTreeMap;
use std::io::Read;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::Reader;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use rmsc_contract::signed_answer::{NAMESPACE, PAYLOAD_ELEMENT, SIGNATURE_ELEMENT};

/// Length of an Ed25519 signature.
const SIGNATURE_LEN: usize = 64;
/// Root element of every signed payload.
pub const PAYLOAD_ROOT: &str = "SignedAnswer";

/// A tenant's signing key.
pub struct TenantKey {
    pair: Ed25519KeyPair,
    public_b64: String,
}

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
#[error("Ed25519 key generation failed")]
pub struct KeyError;

impl TenantKey {
    /// A fresh random key.
    pub fn generate() -> Result<TenantKey, KeyError> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyError)?;
        let public_b64 = B64.encode(pair.public_key().as_ref());
        Ok(TenantKey { pair, public_b64 })
    }

    /// The public key, base64 (what `TenantInfo::signing_key` carries).
    pub fn public_b64(&self) -> &str {
        &self.public_b64
    }

    /// The raw 32-byte public key.
    pub fn public_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// `<SignedPayload>` and `<Signature>` elements for a payload.
    pub fn signed_elements(&self, payload: &[u8]) -> String {
        let signature = self.pair.sign(payload);
        format!(
            "<{PAYLOAD_ELEMENT} xmlns=\"{NAMESPACE}\">{}</{PAYLOAD_ELEMENT}><{SIGNATURE_ELEMENT} xmlns=\"{NAMESPACE}\">{}</{SIGNATURE_ELEMENT}>",
            B64.encode(payload),
            B64.encode(signature.as_ref())
        )
    }

    /// The signed blob of a payload: base64(payload || signature).
    pub fn blob(&self, payload: &[u8]) -> String {
        let signature = self.pair.sign(payload);
        let mut bytes = Vec::with_capacity(payload.len() + SIGNATURE_LEN);
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(signature.as_ref());
        B64.encode(bytes)
    }
}

/// Builds a payload document: `<SignedAnswer xmlns="...">` with one child element per field.
#[derive(Debug)]
pub struct PayloadBuilder {
    xml: String,
}

impl Default for PayloadBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PayloadBuilder {
    pub fn new() -> PayloadBuilder {
        let mut xml = String::with_capacity(512);
        xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><");
        xml.push_str(PAYLOAD_ROOT);
        xml.push_str(" xmlns=\"");
        xml.push_str(NAMESPACE);
        xml.push_str("\">");
        PayloadBuilder { xml }
    }

    /// Adds a field; `name` must be an XML name (callers pass literals), the value is escaped.
    pub fn field(mut self, name: &str, value: &str) -> PayloadBuilder {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self.xml.push_str(&quick_xml::escape::escape(value));
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    pub fn finish(mut self) -> String {
        self.xml.push_str("</");
        self.xml.push_str(PAYLOAD_ROOT);
        self.xml.push('>');
        self.xml
    }
}

/// A verified payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAnswer {
    /// The exact bytes that were signed.
    pub payload: Vec<u8>,
    /// The payload's fields (child elements of the root), by element name.
    pub fields: BTreeMap<String, String>,
}

impl SignedAnswer {
    /// One field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Why an answer or a blob did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the answer has no {0} element")]
    Missing(&'static str),
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    #[error("the signing key is not a base64 Ed25519 public key")]
    BadKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the signed payload is not a well-formed payload document")]
    Payload,
    #[error("the gzip-compressed answer could not be decompressed")]
    Gzip,
}

fn decode_key(signing_key_b64: &str) -> Result<Vec<u8>, VerifyError> {
    let key = B64
        .decode(signing_key_b64.trim())
        .map_err(|_| VerifyError::BadKey)?;
    if key.len() != 32 {
        return Err(VerifyError::BadKey);
    }
    Ok(key)
}

fn verify_bytes(payload: &[u8], signature: &[u8], key: &[u8]) -> Result<SignedAnswer, VerifyError> {
    UnparsedPublicKey::new(&ED25519, key)
        .verify(payload, signature)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(SignedAnswer {
        payload: payload.to_vec(),
        fields: parse_payload(payload)?,
    })
}

/// Finds `SignedPayload` and `Signature` in a SOAP answer (gzip-compressed or not), verifies
/// the signature with the tenant key and returns the payload fields.
pub fn verify_signed_answer(
    body: &[u8],
    signing_key_b64: &str,
) -> Result<SignedAnswer, VerifyError> {
    let key = decode_key(signing_key_b64)?;
    let inflated;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .map_err(|_| VerifyError::Gzip)?;
        inflated = out;
        &inflated[..]
    } else {
        body
    };
    let payload =
        element_text(body, PAYLOAD_ELEMENT).ok_or(VerifyError::Missing(PAYLOAD_ELEMENT))?;
    let signature =
        element_text(body, SIGNATURE_ELEMENT).ok_or(VerifyError::Missing(SIGNATURE_ELEMENT))?;
    let payload = B64
        .decode(payload.trim())
        .map_err(|_| VerifyError::Base64(PAYLOAD_ELEMENT))?;
    let signature = B64
        .decode(signature.trim())
        .map_err(|_| VerifyError::Base64(SIGNATURE_ELEMENT))?;
    verify_bytes(&payload, &signature, &key)
}

/// Opens a signed blob (base64 of payload || signature) with a raw 32-byte public key.
pub fn open_blob(blob_b64: &str, public_key: &[u8]) -> Result<SignedAnswer, VerifyError> {
    let bytes = B64
        .decode(blob_b64.trim())
        .map_err(|_| VerifyError::Base64("signed blob"))?;
    if bytes.len() <= SIGNATURE_LEN {
        return Err(VerifyError::BadSignature);
    }
    let (payload, signature) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    verify_bytes(payload, signature, public_key)
}

/// Opens a signed blob with a base64 public key (what `TenantInfo::signing_key` carries).
pub fn verify_blob(blob_b64: &str, signing_key_b64: &str) -> Result<SignedAnswer, VerifyError> {
    open_blob(blob_b64, &decode_key(signing_key_b64)?)
}

/// The text of the first element with this local name, unescaped; `None` if absent or if the
/// document is not well-formed before it.
pub fn element_text(xml: &[u8], local_name: &str) -> Option<String> {
    let mut reader = Reader::from_reader(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start)
                if !inside && start.local_name().as_ref() == local_name.as_bytes() =>
            {
                inside = true;
            }
            Event::Empty(start)
                if !inside && start.local_name().as_ref() == local_name.as_bytes() =>
            {
                return Some(String::new());
            }
            Event::Text(t) if inside => text.push_str(&t.unescape().ok()?),
            Event::CData(t) if inside => text.push_str(std::str::from_utf8(&t).ok()?),
            Event::End(end) if inside && end.local_name().as_ref() == local_name.as_bytes() => {
                return Some(text);
            }
            Event::Start(_) if inside => return None,
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Reads the child elements of a payload document's root into a map.
fn parse_payload(payload: &[u8]) -> Result<BTreeMap<String, String>, VerifyError> {
    let mut reader = Reader::from_reader(payload);
    let mut fields = BTreeMap::new();
    let mut depth = 0usize;
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event().map_err(|_| VerifyError::Payload)? {
            Event::Start(start) => {
                depth += 1;
                if depth == 1 && start.local_name().as_ref() != PAYLOAD_ROOT.as_bytes() {
                    return Err(VerifyError::Payload);
                }
                if depth == 2 {
                    let name = std::str::from_utf8(start.local_name().as_ref())
                        .map_err(|_| VerifyError::Payload)?
                        .to_owned();
                    current = Some((name, String::new()));
                }
            }
            Event::Empty(start) if depth == 1 => {
                let name = std::str::from_utf8(start.local_name().as_ref())
                    .map_err(|_| VerifyError::Payload)?
                    .to_owned();
                fields.insert(name, String::new());
            }
            Event::Text(t) => {
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(&t.unescape().map_err(|_| VerifyError::Payload)?);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some((name, value)) = current.take() {
                        fields.insert(name, value);
                    }
                }
                depth = depth.checked_sub(1).ok_or(VerifyError::Payload)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || fields.is_empty() {
        return Err(VerifyError::Payload);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> String {
        PayloadBuilder::new()
            .field("tenant", "t1")
            .field("caller_account", "CONTOSO\\EXCH01$ <&>")
            .finish()
    }

    #[test]
    fn signed_elements_verify_inside_any_envelope() {
        let key = TenantKey::generate().expect("key");
        let body = format!(
            "<Envelope><Body><R>{}</R></Body></Envelope>",
            key.signed_elements(payload().as_bytes())
        );
        let answer = verify_signed_answer(body.as_bytes(), key.public_b64()).expect("verifies");
        assert_eq!(answer.get("tenant"), Some("t1"));
        assert_eq!(answer.get("caller_account"), Some("CONTOSO\\EXCH01$ <&>"));
        assert_eq!(answer.payload, payload().as_bytes());
    }

    #[test]
    fn tampered_payload_or_other_key_fails() {
        let key = TenantKey::generate().expect("key");
        let other = TenantKey::generate().expect("key");
        let body = key.signed_elements(payload().as_bytes());
        assert_eq!(
            verify_signed_answer(body.as_bytes(), other.public_b64()),
            Err(VerifyError::BadSignature)
        );
        let forged = body.replacen(
            "<SignedPayload xmlns=\"urn:rms-connector-appliance:signed-answer\">",
            "<SignedPayload xmlns=\"urn:rms-connector-appliance:signed-answer\">AAAA",
            1,
        );
        assert!(verify_signed_answer(forged.as_bytes(), key.public_b64()).is_err());
        assert_eq!(
            verify_signed_answer(b"<x/>", key.public_b64()),
            Err(VerifyError::Missing("SignedPayload"))
        );
        assert_eq!(
            verify_signed_answer(b"<x/>", "short"),
            Err(VerifyError::BadKey)
        );
    }

    #[test]
    fn gzip_answers_verify() {
        use std::io::Write;
        let key = TenantKey::generate().expect("key");
        let body = key.signed_elements(payload().as_bytes());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body.as_bytes()).expect("write");
        let compressed = gz.finish().expect("finish");
        assert!(verify_signed_answer(&compressed, key.public_b64()).is_ok());
    }

    #[test]
    fn blobs_round_trip_and_reject_tampering() {
        let key = TenantKey::generate().expect("key");
        let blob = key.blob(payload().as_bytes());
        let opened = open_blob(&blob, key.public_bytes()).expect("opens");
        assert_eq!(opened.get("tenant"), Some("t1"));
        assert!(verify_blob(&blob, key.public_b64()).is_ok());
        let mut raw = B64.decode(&blob).expect("b64");
        raw[10] ^= 1;
        assert_eq!(
            open_blob(&B64.encode(raw), key.public_bytes()),
            Err(VerifyError::BadSignature)
        );
        assert!(open_blob("!!", key.public_bytes()).is_err());
        assert!(open_blob("AAAA", key.public_bytes()).is_err());
    }

    #[test]
    fn element_text_finds_prefixed_elements_and_unescapes() {
        let xml = b"<a:Env xmlns:a=\"x\"><a:Owner>bob &amp; co</a:Owner><Empty/></a:Env>";
        assert_eq!(element_text(xml, "Owner").as_deref(), Some("bob & co"));
        assert_eq!(element_text(xml, "Empty").as_deref(), Some(""));
        assert_eq!(element_text(xml, "Missing"), None);
        assert_eq!(element_text(b"<<<", "Owner"), None);
    }
}
