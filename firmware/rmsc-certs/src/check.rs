//! Checks an uploaded certificate against the connector name, the clock, its key and its
//! chain, and describes it for the admin UI.

use std::fmt;

use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Certificate;

use crate::keys::{public_key_of, same_public_key};
use crate::names::{name_matches, validate_connector_name};
use crate::parse::{is_ca, parse_cert};
use crate::Uploaded;

/// A certificate expiring in fewer days than this earns a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The certificate should not be used (callers will refuse it).
    Error,
    /// Usable now, but the administrator should act soon.
    Warning,
}

/// One thing wrong with an uploaded certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// No certificate name covers the connector name.
    NameMismatch {
        connector_name: String,
        cert_names: Vec<String>,
    },
    /// The leaf's validity ended.
    Expired { not_after: OffsetDateTime },
    /// The leaf's validity has not started.
    NotYetValid { not_before: OffsetDateTime },
    /// The leaf expires within [`EXPIRY_WARNING_DAYS`].
    ExpiresSoon { days: i64 },
    /// The private key is not the key of the leaf certificate (or cannot be read).
    KeyMismatch,
    /// Certificate `position` (0 = leaf) is not issued and signed by the next one, or a
    /// certificate of the chain is unusable.
    BadChain {
        position: usize,
        subject: String,
        reason: String,
    },
}

impl CertProblem {
    /// A stable code for the admin API.
    pub fn code(&self) -> &'static str {
        match self {
            CertProblem::NameMismatch { .. } => "name_mismatch",
            CertProblem::Expired { .. } => "expired",
            CertProblem::NotYetValid { .. } => "not_yet_valid",
            CertProblem::ExpiresSoon { .. } => "expires_soon",
            CertProblem::KeyMismatch => "key_mismatch",
            CertProblem::BadChain { .. } => "bad_chain",
        }
    }

    /// Whether the problem blocks using the certificate.
    pub fn severity(&self) -> Severity {
        match self {
            CertProblem::ExpiresSoon { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for CertProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertProblem::NameMismatch {
                connector_name,
                cert_names,
            } if cert_names.is_empty() => write!(
                f,
                "the certificate names no DNS host (it has no subject alternative name, and callers ignore the common name); request one for {connector_name}"
            ),
            CertProblem::NameMismatch {
                connector_name,
                cert_names,
            } => write!(
                f,
                "the certificate is for {} but the connector name is {connector_name}; request a certificate for {connector_name} or change the connector name",
                cert_names.join(", ")
            ),
            CertProblem::Expired { not_after } => write!(
                f,
                "the certificate expired on {}; upload a renewed certificate",
                date(*not_after)
            ),
            CertProblem::NotYetValid { not_before } => write!(
                f,
                "the certificate is valid only from {}; check the appliance clock (NTP) or wait",
                date(*not_before)
            ),
            CertProblem::ExpiresSoon { days } => write!(
                f,
                "the certificate expires in {days} day(s); renew it before then"
            ),
            CertProblem::KeyMismatch => f.write_str(
                "the private key does not belong to the certificate; upload the key that was used to request it",
            ),
            CertProblem::BadChain {
                position,
                subject,
                reason,
            } => write!(
                f,
                "the certificate chain is broken at certificate {} ({subject}): {reason}; include the intermediate certificates in issuing order",
                position + 1
            ),
        }
    }
}

/// One certificate of the chain as the admin UI lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub subject: String,
    pub issuer: String,
    pub not_after: OffsetDateTime,
    pub fingerprint_sha256: String,
}

/// Everything the admin UI shows about the certificate, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertReport {
    pub subject: String,
    pub dns_names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// SHA-256 of the leaf DER, upper-case hex pairs separated by colons.
    pub fingerprint_sha256: String,
    /// The whole chain, leaf first.
    pub chain: Vec<ChainLink>,
    pub problems: Vec<CertProblem>,
}

impl CertReport {
    /// True when no problem of [`Severity::Error`] was found.
    pub fn is_usable(&self) -> bool {
        self.problems
            .iter()
            .all(|problem| problem.severity() == Severity::Warning)
    }

    /// The code of the first blocking problem, for the API's 400 answer.
    pub fn first_error_code(&self) -> Option<&'static str> {
        self.problems
            .iter()
            .find(|problem| problem.severity() == Severity::Error)
            .map(CertProblem::code)
    }
}

/// Checks `uploaded` for use as the HTTPS certificate of `connector_name` at time `now`.
pub fn check(uploaded: &Uploaded, connector_name: &str, now: OffsetDateTime) -> CertReport {
    let parsed: Vec<Option<X509Certificate<'_>>> = uploaded
        .chain()
        .iter()
        .map(|der| parse_cert(der).ok())
        .collect();
    let chain: Vec<ChainLink> = uploaded
        .chain()
        .iter()
        .zip(&parsed)
        .map(|(der, cert)| ChainLink {
            subject: cert
                .as_ref()
                .map(|c| c.subject().to_string())
                .unwrap_or_default(),
            issuer: cert
                .as_ref()
                .map(|c| c.issuer().to_string())
                .unwrap_or_default(),
            not_after: cert
                .as_ref()
                .map(|c| c.validity().not_after.to_datetime())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            fingerprint_sha256: fingerprint(der.as_ref()),
        })
        .collect();
    let mut problems = Vec::new();
    // Uploaded is only built from parsed certificates, so the leaf is there; stay total anyway.
    let Some(Some(leaf)) = parsed.first() else {
        problems.push(CertProblem::BadChain {
            position: 0,
            subject: String::new(),
            reason: "the certificate cannot be read".into(),
        });
        return CertReport {
            subject: String::new(),
            dns_names: Vec::new(),
            not_before: OffsetDateTime::UNIX_EPOCH,
            not_after: OffsetDateTime::UNIX_EPOCH,
            fingerprint_sha256: String::new(),
            chain,
            problems,
        };
    };

    let dns_names = dns_names(leaf);
    let host = validate_connector_name(connector_name)
        .unwrap_or_else(|_| connector_name.to_ascii_lowercase());
    if !dns_names.iter().any(|name| name_matches(name, &host)) {
        problems.push(CertProblem::NameMismatch {
            connector_name: host,
            cert_names: dns_names.clone(),
        });
    }

    let not_before = leaf.validity().not_before.to_datetime();
    let not_after = leaf.validity().not_after.to_datetime();
    if now < not_before {
        problems.push(CertProblem::NotYetValid { not_before });
    } else if now > not_after {
        problems.push(CertProblem::Expired { not_after });
    } else {
        let days = (not_after - now).whole_days();
        if days < EXPIRY_WARNING_DAYS {
            problems.push(CertProblem::ExpiresSoon { days });
        }
    }

    let key_matches = public_key_of(uploaded.key())
        .map(|spki| same_public_key(leaf.public_key().raw, &spki))
        .unwrap_or(false);
    if !key_matches {
        problems.push(CertProblem::KeyMismatch);
    }

    problems.extend(chain_problems(&parsed, now));

    CertReport {
        subject: leaf.subject().to_string(),
        dns_names,
        not_before,
        not_after,
        fingerprint_sha256: fingerprint(uploaded.chain()[0].as_ref()),
        chain,
        problems,
    }
}

/// Each certificate must be issued by the next one, signed with its key, and that next one
/// must be a CA still within its validity.
fn chain_problems(parsed: &[Option<X509Certificate<'_>>], now: OffsetDateTime) -> Vec<CertProblem> {
    let mut problems = Vec::new();
    for (position, pair) in parsed.windows(2).enumerate() {
        let (Some(cert), Some(issuer)) = (&pair[0], &pair[1]) else {
            problems.push(CertProblem::BadChain {
                position,
                subject: String::new(),
                reason: "a certificate cannot be read".into(),
            });
            continue;
        };
        let reason = if cert.issuer().as_raw() != issuer.subject().as_raw() {
            Some(format!(
                "it was issued by {} but the next certificate is {}",
                cert.issuer(),
                issuer.subject()
            ))
        } else if cert.verify_signature(Some(issuer.public_key())).is_err() {
            Some(format!(
                "its signature does not verify with the key of {}",
                issuer.subject()
            ))
        } else if !is_ca(issuer) {
            Some(format!(
                "{} is not a certificate authority",
                issuer.subject()
            ))
        } else if now > issuer.validity().not_after.to_datetime() {
            Some(format!("{} has expired", issuer.subject()))
        } else {
            None
        };
        if let Some(reason) = reason {
            problems.push(CertProblem::BadChain {
                position,
                subject: cert.subject().to_string(),
                reason,
            });
        }
    }
    problems
}

fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// SHA-256 as `AB:CD:...`, the form browsers and Windows' certificate dialog show.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn date(when: OffsetDateTime) -> String {
    format!("{} (UTC)", when.date())
}
