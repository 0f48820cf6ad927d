//! The HTTP Negotiate wrapper (RFC 4559) and a look inside the token before GSSAPI sees it:
//! which mechanisms the caller offers. That is how an NTLM attempt is recognised and answered
//! with an explanation instead of an opaque GSSAPI failure. Parses untrusted bytes: every
//! length is checked, nothing panics, and it has a fuzz target.

use base64::Engine;
use http::header::AUTHORIZATION;
use http::HeaderMap;

/// The largest token accepted, decoded. Windows' MaxTokenSize is 48,000 bytes (about 64 KB
/// once base64-encoded); the margin covers accounts in very many groups.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A mechanism a SPNEGO initiator offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// Kerberos 5 (1.2.840.113554.1.2.2).
    Kerberos,
    /// Kerberos under Microsoft's legacy OID (1.2.840.48018.1.2.2), which Windows lists first.
    KerberosMicrosoft,
    /// NTLMSSP (1.3.6.1.4.1.311.2.2.10).
    Ntlm,
    /// NegoEx or anything else.
    Other,
}

impl Mechanism {
    fn from_oid(oid: &[u8]) -> Self {
        match oid {
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02] => Mechanism::Kerberos,
            [0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02] => Mechanism::KerberosMicrosoft,
            [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a] => Mechanism::Ntlm,
            _ => Mechanism::Other,
        }
    }

    fn is_kerberos(self) -> bool {
        matches!(self, Mechanism::Kerberos | Mechanism::KerberosMicrosoft)
    }
}

/// What a Negotiate token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare NTLMSSP message.
    Ntlm,
    /// A bare Kerberos GSS token.
    Kerberos,
    /// A SPNEGO NegTokenInit offering these mechanisms.
    SpnegoInit {
        mechanisms: Vec<Mechanism>,
        /// An optimistic token for the first mechanism is included.
        has_mech_token: bool,
    },
    /// A SPNEGO NegTokenResp: a later leg of a negotiation.
    SpnegoResponse,
}

impl TokenKind {
    /// True when the caller offers no Kerberos at all: the NTLM-only case the connector
    /// explains instead of failing opaquely.
    pub fn is_ntlm_only(&self) -> bool {
        match self {
            TokenKind::Ntlm => true,
            TokenKind::SpnegoInit { mechanisms, .. } => {
                mechanisms.contains(&Mechanism::Ntlm) && !mechanisms.iter().any(|m| m.is_kerberos())
            }
            TokenKind::Kerberos | TokenKind::SpnegoResponse => false,
        }
    }
}

/// Why an Authorization header or token was not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the NTLM authentication scheme was used")]
    NtlmScheme,
    #[error("the Authorization header is not valid text")]
    NotText,
    #[error("the Negotiate token is not valid base64")]
    NotBase64,
    #[error("the Negotiate token is empty")]
    Empty,
    #[error("the Negotiate token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the Negotiate token is not a GSS-API token: {0}")]
    NotGssToken(&'static str),
}

/// The decoded Negotiate token of a request: `Ok(None)` when there is no Negotiate (or NTLM)
/// Authorization header at all.
pub fn negotiate_token(headers: &HeaderMap) -> Result<Option<Vec<u8>>, TokenError> {
    for value in headers.get_all(AUTHORIZATION) {
        let text = value.to_str().map_err(|_| TokenError::NotText)?.trim();
        let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
        if scheme.eq_ignore_ascii_case("NTLM") {
            return Err(TokenError::NtlmScheme);
        }
        if !scheme.eq_ignore_ascii_case("Negotiate") {
            continue;
        }
        let encoded = rest.trim();
        if encoded.is_empty() {
            return Err(TokenError::Empty);
        }
        if encoded.len() > MAX_TOKEN_BYTES / 3 * 4 + 4 {
            return Err(TokenError::TooLarge);
        }
        let token = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| TokenError::NotBase64)?;
        return Ok(Some(token));
    }
    Ok(None)
}

/// A DER reader over a byte slice; every read is bounds-checked.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads one tag-length-value; returns the tag and the value.
    fn next(&mut self) -> Result<(u8, &'a [u8]), TokenError> {
        let (&tag, after_tag) = self
            .rest
            .split_first()
            .ok_or(TokenError::NotGssToken("truncated"))?;
        let (&first, mut after_len) = after_tag
            .split_first()
            .ok_or(TokenError::NotGssToken("truncated length"))?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(TokenError::NotGssToken("unsupported length form"));
            }
            if after_len.len() < count {
                return Err(TokenError::NotGssToken("truncated length"));
            }
            let (digits, rest) = after_len.split_at(count);
            after_len = rest;
            digits
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        if after_len.len() < length {
            return Err(TokenError::NotGssToken("length beyond the token"));
        }
        let (value, rest) = after_len.split_at(length);
        self.rest = rest;
        Ok((tag, value))
    }
}

const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];

/// Classifies a decoded Negotiate token.
pub fn classify(token: &[u8]) -> Result<TokenKind, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    if token.starts_with(b"NTLMSSP\0") {
        return Ok(TokenKind::Ntlm);
    }
    let mut outer = Der::new(token);
    let (tag, body) = outer.next()?;
    match tag {
        // [APPLICATION 0] InitialContextToken: the mechanism OID, then its token.
        0x60 => {
            let mut inner = Der::new(body);
            let (oid_tag, oid) = inner.next()?;
            if oid_tag != 0x06 {
                return Err(TokenError::NotGssToken("no mechanism OID"));
            }
            if oid == KRB5_OID {
                return Ok(TokenKind::Kerberos);
            }
            if oid != SPNEGO_OID {
                return Err(TokenError::NotGssToken("unknown mechanism"));
            }
            let (init_tag, init) = inner.next()?;
            if init_tag != 0xa0 {
                return Err(TokenError::NotGssToken("no NegTokenInit"));
            }
            neg_token_init(init)
        }
        // [1] NegTokenResp: a continuation leg.
        0xa1 => Ok(TokenKind::SpnegoResponse),
        _ => Err(TokenError::NotGssToken("unknown token type")),
    }
}

fn neg_token_init(wrapped: &[u8]) -> Result<TokenKind, TokenError> {
    let (seq_tag, seq) = Der::new(wrapped).next()?;
    if seq_tag != 0x30 {
        return Err(TokenError::NotGssToken("NegTokenInit is not a sequence"));
    }
    let mut fields = Der::new(seq);
    let mut mechanisms = Vec::new();
    let mut has_mech_token = false;
    while !fields.is_empty() {
        let (tag, value) = fields.next()?;
        match tag {
            0xa0 => {
                let (list_tag, list) = Der::new(value).next()?;
                if list_tag != 0x30 {
                    return Err(TokenError::NotGssToken("mechTypes is not a sequence"));
                }
                let mut oids = Der::new(list);
                while !oids.is_empty() {
                    let (oid_tag, oid) = oids.next()?;
                    if oid_tag != 0x06 {
                        return Err(TokenError::NotGssToken("mechTypes holds a non-OID"));
                    }
                    // Bounded by the token size; a real list has two to four entries.
                    if mechanisms.len() < 32 {
                        mechanisms.push(Mechanism::from_oid(oid));
                    }
                }
            }
            0xa2 => has_mech_token = true,
            _ => {}
        }
    }
    if mechanisms.is_empty() {
        return Err(TokenError::NotGssToken("no mechanisms offered"));
    }
    Ok(TokenKind::SpnegoInit {
        mechanisms,
        has_mech_token,
    })
}

#[cfg(test)]
#[path = "negotiate_tests.rs"]
mod tests;
