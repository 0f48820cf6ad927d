//! The admin listener's certificate: a self-signed one made on first start (names: the host
//! name and `localhost`; key sealed in the store), or one the administrator installed. It is
//! held behind a lock and handed to rustls by a resolver, so a new certificate takes effect on
//! the next handshake without a restart.

use crate::console::ConsoleEnv;
use crate::error::WebAdminError;
use rmsc_store::Store;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

/// Sealed secret holding the certificate chain and the key as one PEM text, so the pair is
/// always replaced together.
const PAIR_SECRET: &str = "admin-tls";
const SOURCE_SETTING: &str = "admin-tls-source";

/// Where the admin certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertSource {
    SelfSigned,
    Uploaded,
}

/// The certificate in use, as shown to an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub source: CertSource,
    /// SHA-256 of the leaf certificate, upper-case hex pairs joined by `:` (as browsers show).
    pub fingerprint_sha256: String,
}

struct Current {
    key: Arc<CertifiedKey>,
    info: CertInfo,
}

/// The rustls resolver over the swappable certificate.
struct Resolver {
    current: RwLock<Arc<Current>>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

impl Resolver {
    fn get(&self) -> Arc<Current> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn set(&self, next: Current) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.get().key))
    }
}

/// The admin listener's TLS. Cheap to clone; clones share the certificate.
#[derive(Clone)]
pub struct AdminTls {
    resolver: Arc<Resolver>,
    store: Store,
    console: ConsoleEnv,
    hostname: String,
}

impl fmt::Debug for AdminTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminTls")
            .field("hostname", &self.hostname)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of `der` as `AB:CD:...`.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses a PEM chain and key and checks they belong together.
fn certified_key(cert_pem: &str, key_pem: &str) -> Result<(CertifiedKey, String), WebAdminError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WebAdminError::Certificate(format!("unreadable certificate PEM: {e:?}")))?;
    let leaf = chain
        .first()
        .ok_or_else(|| WebAdminError::Certificate("no certificate in the PEM".into()))?;
    let print = fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| WebAdminError::Certificate(format!("unreadable private key PEM: {e:?}")))?;
    let certified =
        CertifiedKey::from_der(chain, key, &rmsc_certs::crypto_provider()).map_err(|e| {
            WebAdminError::Certificate(format!("certificate and key do not match: {e}"))
        })?;
    Ok((certified, print))
}

fn self_signed_pem(hostname: &str) -> Result<(String, String), WebAdminError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut names = vec![hostname.to_owned()];
    if hostname != "localhost" {
        names.push("localhost".to_owned());
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    // Ten years: an appliance must not lock its administrator out with an expired
    // certificate; the browser asks to trust a self-signed one by fingerprint anyway.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

impl AdminTls {
    /// Loads the stored certificate, or makes, stores and logs a self-signed one for
    /// `hostname` (plus `localhost`). Writes the fingerprint to `console.env`.
    pub async fn load_or_create(
        store: &Store,
        hostname: &str,
        console: &ConsoleEnv,
    ) -> Result<Self, WebAdminError> {
        let stored = match store.secret(PAIR_SECRET)? {
            Some(pair) => {
                let source = store
                    .setting::<CertSource>(SOURCE_SETTING)?
                    .unwrap_or(CertSource::SelfSigned);
                match pair.expose_str().map(|pem| certified_key(pem, pem)) {
                    Some(Ok(loaded)) => Some((loaded, source)),
                    Some(Err(error)) => {
                        tracing::warn!(%error, "stored admin certificate unusable; making a new self-signed one");
                        None
                    }
                    None => {
                        tracing::warn!(
                            "stored admin certificate is not PEM; making a new self-signed one"
                        );
                        None
                    }
                }
            }
            None => None,
        };
        let ((key, print), source) = match stored {
            Some(found) => {
                tracing::info!(fingerprint_sha256 = %found.0 .1, "admin listener certificate");
                found
            }
            None => {
                let (cert_pem, key_pem) = self_signed_pem(hostname)?;
                let loaded = certified_key(&cert_pem, &key_pem)?;
                persist(store, &cert_pem, &key_pem, CertSource::SelfSigned).await?;
                tracing::info!(%hostname, fingerprint_sha256 = %loaded.1, "made a self-signed certificate for the admin listener");
                (loaded, CertSource::SelfSigned)
            }
        };
        console.set_cert_fingerprint(&print).await?;
        Ok(AdminTls {
            resolver: Arc::new(Resolver {
                current: RwLock::new(Arc::new(Current {
                    key: Arc::new(key),
                    info: CertInfo {
                        source,
                        fingerprint_sha256: print,
                    },
                })),
            }),
            store: store.clone(),
            console: console.clone(),
            hostname: hostname.to_owned(),
        })
    }

    /// A rustls server configuration that always presents the current certificate;
    /// HTTP/1.1 by ALPN.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, WebAdminError> {
        let mut config = rmsc_certs::server_config(self.resolver.clone())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The certificate in use.
    pub fn info(&self) -> CertInfo {
        self.resolver.get().info.clone()
    }

    /// The chain in use (leaf first), e.g. for a client that pins it.
    pub fn certificate_chain(&self) -> Vec<CertificateDer<'static>> {
        self.resolver.get().key.cert.clone()
    }

    /// Installs an administrator's certificate chain and key (PEM). Checked, stored (key
    /// sealed), then used from the next handshake on; on any error the old one stays.
    pub async fn replace(&self, cert_pem: &str, key_pem: &str) -> Result<CertInfo, WebAdminError> {
        self.install(cert_pem, key_pem, CertSource::Uploaded).await
    }

    /// Goes back to a fresh self-signed certificate.
    pub async fn regenerate_self_signed(&self) -> Result<CertInfo, WebAdminError> {
        let (cert, key) = self_signed_pem(&self.hostname)?;
        self.install(&cert, &key, CertSource::SelfSigned).await
    }

    async fn install(
        &self,
        cert_pem: &str,
        key_pem: &str,
        source: CertSource,
    ) -> Result<CertInfo, WebAdminError> {
        let (key, print) = certified_key(cert_pem, key_pem)?;
        persist(&self.store, cert_pem, key_pem, source).await?;
        let info = CertInfo {
            source,
            fingerprint_sha256: print,
        };
        self.resolver.set(Current {
            key: Arc::new(key),
            info: info.clone(),
        });
        tracing::info!(fingerprint_sha256 = %info.fingerprint_sha256, ?source, "admin listener certificate replaced");
        self.console
            .set_cert_fingerprint(&info.fingerprint_sha256)
            .await?;
        Ok(info)
    }
}

async fn persist(
    store: &Store,
    cert_pem: &str,
    key_pem: &str,
    source: CertSource,
) -> Result<(), WebAdminError> {
    let mut pair = String::with_capacity(cert_pem.len() + key_pem.len() + 1);
    pair.push_str(cert_pem.trim_end());
    pair.push('\n');
    pair.push_str(key_pem);
    store.put_secret(PAIR_SECRET, pair.as_bytes()).await?;
    // Only a label: a crash before this line shows the wrong source, never a broken pair.
    store.set_setting(SOURCE_SETTING, &source).await?;
    Ok(())
}
