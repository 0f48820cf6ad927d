//! The records the store keeps: registration, authorized list, events.

use crate::error::StoreError;
use crate::seal::Sealer;
use crate::secret::Secret;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Associated data that binds the sealed private key to the registration record.
const REGISTRATION_KEY_LABEL: &[u8] = b"registration:key_pem";

/// The connector's registration with the cloud: its identity and credential.
///
/// Deliberately not `Serialize`: the private key must never be written in clear. `Debug`
/// prints the key as `Secret(..)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub connector_id: String,
    pub tenant_id: String,
    pub connector_name: String,
    pub cloud_url: String,
    pub rms_url: String,
    pub relay_url: String,
    /// Ed25519 public key (base64) that signs the tenant's SOAP answers.
    pub signing_key: String,
    pub certificate_pem: String,
    pub ca_pem: String,
    /// PKCS#8 PEM of the connector's private key; sealed on disk.
    pub key_pem: Secret,
    /// Certificate expiry, Unix seconds.
    pub not_after: i64,
    /// Unix seconds.
    pub registered_at: i64,
    /// Administrator account that registered the connector.
    pub registered_by: String,
}

/// The on-disk form of [`Registration`]: identical except that the key is sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredRegistration {
    connector_id: String,
    tenant_id: String,
    connector_name: String,
    cloud_url: String,
    rms_url: String,
    relay_url: String,
    signing_key: String,
    certificate_pem: String,
    ca_pem: String,
    /// Base64 of the sealed PEM (nonce, ciphertext, tag).
    key_pem_sealed: String,
    not_after: i64,
    registered_at: i64,
    registered_by: String,
}

impl StoredRegistration {
    /// Seals the key of `r` for storage.
    pub(crate) fn seal(r: &Registration, sealer: &Sealer) -> Result<Self, StoreError> {
        let sealed = sealer.seal(REGISTRATION_KEY_LABEL, r.key_pem.expose())?;
        Ok(StoredRegistration {
            connector_id: r.connector_id.clone(),
            tenant_id: r.tenant_id.clone(),
            connector_name: r.connector_name.clone(),
            cloud_url: r.cloud_url.clone(),
            rms_url: r.rms_url.clone(),
            relay_url: r.relay_url.clone(),
            signing_key: r.signing_key.clone(),
            certificate_pem: r.certificate_pem.clone(),
            ca_pem: r.ca_pem.clone(),
            key_pem_sealed: B64.encode(sealed),
            not_after: r.not_after,
            registered_at: r.registered_at,
            registered_by: r.registered_by.clone(),
        })
    }

    /// Opens the sealed key and returns the registration.
    pub(crate) fn unseal(self, sealer: &Sealer) -> Result<Registration, StoreError> {
        let sealed_error = || StoreError::Sealed {
            name: "registration key".to_owned(),
        };
        let sealed = B64
            .decode(&self.key_pem_sealed)
            .map_err(|_| sealed_error())?;
        let key_pem = sealer
            .open(REGISTRATION_KEY_LABEL, &sealed, "registration key")
            .map_err(|_| sealed_error())?;
        Ok(Registration {
            connector_id: self.connector_id,
            tenant_id: self.tenant_id,
            connector_name: self.connector_name,
            cloud_url: self.cloud_url,
            rms_url: self.rms_url,
            relay_url: self.relay_url,
            signing_key: self.signing_key,
            certificate_pem: self.certificate_pem,
            ca_pem: self.ca_pem,
            key_pem,
            not_after: self.not_after,
            registered_at: self.registered_at,
            registered_by: self.registered_by,
        })
    }
}

/// The authorized-server list as last fetched from the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredList {
    pub list: rmsc_contract::AuthorizedList,
    /// When it was stored, Unix seconds.
    pub fetched_at: i64,
}

/// Severity of an event; ordered `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    Info,
    Warning,
    Error,
}

/// An event to append to the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// Catalogue number of the event.
    pub id: u16,
    pub level: EventLevel,
    pub message: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// An event as stored, with its sequence number and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Grows by one per event, also across restarts.
    pub seq: u64,
    /// Unix milliseconds.
    pub time: i64,
    pub id: u16,
    pub level: EventLevel,
    pub message: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// Which events [`crate::Store::events`] returns (all conditions must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Only events at this level or above.
    #[serde(default)]
    pub min_level: Option<EventLevel>,
    /// Only events with this catalogue number.
    #[serde(default)]
    pub id: Option<u16>,
    /// Case-insensitive substring of the message or of a field name or value.
    #[serde(default)]
    pub text: Option<String>,
    /// Only events older than this sequence number (for paging backwards).
    #[serde(default)]
    pub before_seq: Option<u64>,
    /// Most events to return; 0 means no limit (the log is bounded anyway).
    #[serde(default)]
    pub limit: usize,
}

impl EventFilter {
    /// Whether `event` passes the level, id and text conditions. `needle` is the
    /// lower-cased text, computed once per query.
    pub(crate) fn matches(&self, event: &EventRecord, needle: Option<&str>) -> bool {
        if self.min_level.is_some_and(|min| event.level < min) {
            return false;
        }
        if self.id.is_some_and(|id| event.id != id) {
            return false;
        }
        match needle {
            None => true,
            Some(needle) => {
                event.message.to_lowercase().contains(needle)
                    || event.fields.iter().any(|(k, v)| {
                        k.to_lowercase().contains(needle) || v.to_lowercase().contains(needle)
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(level: EventLevel, message: &str) -> EventRecord {
        EventRecord {
            seq: 1,
            time: 0,
            id: 7,
            level,
            message: message.to_owned(),
            fields: BTreeMap::from([("Server".to_owned(), "EXCH01$".to_owned())]),
        }
    }

    #[test]
    fn levels_are_ordered_and_lowercase_on_the_wire() {
        assert!(EventLevel::Info < EventLevel::Warning && EventLevel::Warning < EventLevel::Error);
        assert_eq!(
            serde_json::to_string(&EventLevel::Warning).expect("json"),
            "\"warning\""
        );
    }

    #[test]
    fn filter_checks_level_id_and_text_in_message_and_fields() {
        let event = record(EventLevel::Warning, "Caller Denied");
        let f = EventFilter::default();
        assert!(f.matches(&event, None));
        let f = EventFilter {
            min_level: Some(EventLevel::Error),
            ..Default::default()
        };
        assert!(!f.matches(&event, None));
        let f = EventFilter {
            id: Some(8),
            ..Default::default()
        };
        assert!(!f.matches(&event, None));
        assert!(f.matches(
            &EventRecord {
                id: 8,
                ..event.clone()
            },
            None
        ));
        assert!(EventFilter::default().matches(&event, Some("denied")));
        assert!(EventFilter::default().matches(&event, Some("exch01")));
        assert!(EventFilter::default().matches(&event, Some("server")));
        assert!(!EventFilter::default().matches(&event, Some("sharepoint")));
    }
}
