//! The HTTPS certificate of the caller listeners (what Exchange, SharePoint and file servers
//! connect to): upload (PEM or PFX), a signing request whose key never leaves the appliance,
//! or a self-signed one. Every certificate is checked against the registered connector name
//! before anything changes; the accepted chain and key are sealed in the store and the
//! running listeners switch to them at once.

use crate::cert_view::{refused_by_report, status_view, CertificateStatus};
use crate::error::AdminError;
use crate::ops::{unix_now, Admin};
use base64::Engine as _;
use rmsc_certs::{CertError, Uploaded};
use rmsc_store::Store;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

/// Sealed secret: the certificate chain and key in use, as one PEM text.
pub(crate) const BUNDLE_SECRET: &str = "caller-tls.bundle";
/// Setting: where the certificate in use came from.
pub(crate) const SOURCE_SETTING: &str = "caller-tls.source";
/// Sealed secret: the key of a pending signing request (PKCS#8 DER).
const CSR_KEY_SECRET: &str = "caller-tls.csr-key";
/// Setting: the pending signing request.
const CSR_SETTING: &str = "caller-tls.csr";
/// The self-signed certificate the daemon makes at first start (before any admin choice).
pub const INITIAL_KEY_SECRET: &str = "caller-tls-key";
/// Setting holding the PEM certificate of the initial self-signed certificate.
pub const INITIAL_CERT_SETTING: &str = "caller-tls-cert";
/// Longest a PFX may take to decrypt (its key derivation can be made arbitrarily slow).
const PFX_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the certificate in use came from, and who installed it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CertificateSource {
    pub source: String,
    pub installed_by: String,
    pub installed_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingCsr {
    pub csr_pem: String,
    pub created_by: String,
    pub created_at: i64,
}

/// An upload: a PEM text (certificate, chain and key; or only the certificate of a pending
/// signing request), or a PFX file with its password.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertificateUpload {
    #[serde(default)]
    pub pem: Option<String>,
    #[serde(default)]
    pub pfx_base64: Option<String>,
    #[serde(default)]
    pub pfx_password: Option<String>,
}

/// Answer to a signing-request creation.
#[derive(Debug, Clone, Serialize)]
pub struct CsrCreated {
    pub csr_pem: String,
}

/// The certificate an administrator installed (upload, signing request, self-signed, or
/// restore), if any. The daemon prefers it to everything else at start-up.
pub fn installed_caller_certificate(store: &Store) -> Result<Option<Uploaded>, AdminError> {
    match store.secret(BUNDLE_SECRET)? {
        Some(bundle) => rmsc_certs::parse_pem_bundle(bundle.expose())
            .map(Some)
            .map_err(|e| AdminError::Internal(format!("The stored certificate is unusable: {e}"))),
        None => Ok(None),
    }
}

/// The certificate stored for the caller listeners, if any: the administrator's choice, else
/// the one the daemon made at first start.
pub fn stored_caller_certificate(store: &Store) -> Result<Option<Uploaded>, AdminError> {
    if let Some(installed) = installed_caller_certificate(store)? {
        return Ok(Some(installed));
    }
    if let (Some(cert), Some(key)) = (
        store.setting::<String>(INITIAL_CERT_SETTING)?,
        store.secret(INITIAL_KEY_SECRET)?,
    ) {
        let mut pem = cert.into_bytes();
        pem.extend_from_slice(b"\n");
        pem.extend_from_slice(key.expose());
        return rmsc_certs::parse_pem_bundle(&pem)
            .map(Some)
            .map_err(|e| AdminError::Internal(format!("The stored certificate is unusable: {e}")));
    }
    Ok(None)
}

/// A certificate library error as an API refusal with the library's stable code.
pub(crate) fn cert_refused(error: &CertError) -> AdminError {
    AdminError::Refused {
        code: error.code(),
        message: sentence(&error.to_string()),
    }
}

/// Library messages are clauses ("the file holds ..."); the UI shows sentences.
pub(crate) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.is_empty() && !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Reads a PFX on the blocking pool, bounded in time.
async fn read_pfx(der: Vec<u8>, password: String) -> Result<Uploaded, AdminError> {
    let task = tokio::task::spawn_blocking(move || rmsc_certs::parse_pfx(&der, &password));
    match tokio::time::timeout(PFX_TIMEOUT, task).await {
        Err(_) => Err(AdminError::Refused {
            code: "unreadable",
            message: "Reading the PFX file took too long; export it again with AES256-SHA256."
                .into(),
        }),
        Ok(Err(join)) => Err(AdminError::Internal(format!(
            "the PFX reader failed: {join}"
        ))),
        Ok(Ok(read)) => read.map_err(|e| cert_refused(&e)),
    }
}

impl Admin {
    /// The registered connector name, which every caller certificate must carry.
    pub(crate) fn connector_name(&self) -> Result<String, AdminError> {
        self.store
            .registration()?
            .map(|r| r.connector_name)
            .ok_or(AdminError::NotRegistered)
    }

    /// What the caller listeners present, checked against the connector name.
    pub fn certificate_status(&self) -> Result<CertificateStatus, AdminError> {
        let current = stored_caller_certificate(&self.store)?;
        let name = self.store.registration()?.map(|r| r.connector_name);
        let pending: Option<PendingCsr> = self.store.setting(CSR_SETTING)?;
        let source: Option<CertificateSource> = self.store.setting(SOURCE_SETTING)?;
        let source_name = match (&pending, &source, &current) {
            (Some(_), _, _) => Some("csr_pending".to_owned()),
            (None, Some(s), _) => Some(s.source.clone()),
            (None, None, Some(_)) => Some("self_signed".to_owned()),
            (None, None, None) => None,
        };
        let mut status = status_view(
            current.as_ref(),
            name.as_deref(),
            OffsetDateTime::now_utc(),
            source_name,
        );
        status.csr_pem = pending.map(|p| p.csr_pem);
        if let Some(source) = source {
            status.installed_by = Some(source.installed_by);
            status.installed_at = Some(source.installed_at);
        }
        Ok(status)
    }

    /// Installs an uploaded certificate; refused with the problem's code (and nothing
    /// changed) when it does not fit the connector.
    pub async fn upload_certificate(
        &self,
        upload: CertificateUpload,
        actor: &str,
    ) -> Result<CertificateStatus, AdminError> {
        let name = self.connector_name()?;
        let _guard = self.appliance()?.change_lock.lock().await;
        let uploaded = match (upload.pem, upload.pfx_base64) {
            (Some(pem), None) => self.read_pem(pem.as_bytes())?,
            (None, Some(b64)) => {
                let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|_| AdminError::Refused {
                        code: "unreadable",
                        message:
                            "The PFX file did not arrive intact (bad base64); upload it again."
                                .into(),
                    })?;
                read_pfx(der, upload.pfx_password.unwrap_or_default()).await?
            }
            _ => {
                return Err(AdminError::Invalid(
                    "Send either the PEM text, or the PFX file with its password.".into(),
                ))
            }
        };
        self.install_checked(uploaded, &name, "uploaded", actor)
            .await
    }

    /// PEM with a key, or just the certificate of the pending signing request.
    fn read_pem(&self, pem: &[u8]) -> Result<Uploaded, AdminError> {
        let has_key = String::from_utf8_lossy(pem).contains("PRIVATE KEY");
        if !has_key {
            if let Some(key) = self.store.secret(CSR_KEY_SECRET)? {
                return rmsc_certs::complete_csr(pem, key.expose()).map_err(|e| cert_refused(&e));
            }
        }
        rmsc_certs::parse_pem_bundle(pem).map_err(|e| cert_refused(&e))
    }

    /// Makes a key and a signing request for the connector name; the key stays sealed here
    /// until the signed certificate is uploaded.
    pub async fn create_csr(&self, actor: &str) -> Result<CsrCreated, AdminError> {
        let name = self.connector_name()?;
        let _guard = self.appliance()?.change_lock.lock().await;
        let (csr_pem, key_der) = rmsc_certs::generate_csr(&name).map_err(|e| cert_refused(&e))?;
        self.store.put_secret(CSR_KEY_SECRET, &key_der).await?;
        let pending = PendingCsr {
            csr_pem: csr_pem.clone(),
            created_by: actor.to_owned(),
            created_at: unix_now(),
        };
        self.store.set_setting(CSR_SETTING, &pending).await?;
        self.record_change(
            actor,
            "certificate_csr",
            &format!("created a certificate signing request for {name}"),
        )
        .await;
        Ok(CsrCreated { csr_pem })
    }

    /// Replaces the certificate with a new self-signed one for the connector name.
    pub async fn self_signed_certificate(
        &self,
        actor: &str,
    ) -> Result<CertificateStatus, AdminError> {
        let name = self.connector_name()?;
        let _guard = self.appliance()?.change_lock.lock().await;
        let (pem, key) = rmsc_certs::self_signed(&name, OffsetDateTime::now_utc())
            .map_err(|e| cert_refused(&e))?;
        let made = rmsc_certs::complete_csr(pem.as_bytes(), &key).map_err(|e| cert_refused(&e))?;
        self.install_checked(made, &name, "self_signed", actor)
            .await
    }

    /// Checks, then stores and activates. The caller holds the change lock.
    async fn install_checked(
        &self,
        certificate: Uploaded,
        connector_name: &str,
        source: &str,
        actor: &str,
    ) -> Result<CertificateStatus, AdminError> {
        let report = rmsc_certs::check(&certificate, connector_name, OffsetDateTime::now_utc());
        if let Some(refusal) = refused_by_report(&report) {
            return Err(refusal);
        }
        self.install_certificate(certificate, source, actor).await?;
        // The other appliances of the connector get it too.
        self.shared_item_changed(crate::sharing::SharedItem::Certificate)
            .await;
        self.record_change(
            actor,
            "certificate_install",
            &format!(
                "installed the {source} HTTPS certificate {} for {connector_name}",
                report.fingerprint_sha256
            ),
        )
        .await;
        self.certificate_status()
    }

    /// Stores an already checked certificate and switches the listeners to it; a pending
    /// signing request is dropped (the certificate it was for is no longer wanted).
    pub(crate) async fn install_certificate(
        &self,
        certificate: Uploaded,
        source: &str,
        actor: &str,
    ) -> Result<(), AdminError> {
        self.store
            .put_secret(BUNDLE_SECRET, certificate.to_pem().as_bytes())
            .await?;
        let record = CertificateSource {
            source: source.to_owned(),
            installed_by: actor.to_owned(),
            installed_at: unix_now(),
        };
        self.store.set_setting(SOURCE_SETTING, &record).await?;
        self.store.remove_secret(CSR_KEY_SECRET).await?;
        self.store.remove_setting(CSR_SETTING).await?;
        if let Some(live) = self
            .appliance
            .get()
            .and_then(|a| a.caller_certificate.as_ref())
        {
            live.replace(certificate)?;
        }
        Ok(())
    }

    /// Records an administrative change (event 4002) with its action name.
    pub(crate) async fn record_change(&self, actor: &str, action: &str, what: &str) {
        self.events
            .record(
                rmsc_telemetry::EventId::AdminAction,
                format!("{actor} {what}."),
                &[("actor", actor), ("action", action)],
            )
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_clauses_become_sentences() {
        assert_eq!(
            sentence("the PFX password is wrong"),
            "The PFX password is wrong."
        );
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
    }
}
