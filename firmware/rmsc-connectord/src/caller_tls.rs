//! The HTTPS certificate of the caller listeners. In order of preference: the certificate an
//! administrator installed through the admin API (sealed in the store), the certificate files
//! of the configuration, or a self-signed certificate made once and kept in the store (its
//! key sealed), so callers see the same certificate across restarts until a real one is
//! installed. The rustls configuration resolves the certificate through a
//! [`LiveCertificate`], which the admin API replaces without a restart.

use anyhow::{anyhow, Context};
use rmsc_admin::{LiveCertificate, INITIAL_CERT_SETTING, INITIAL_KEY_SECRET};
use rmsc_store::Store;
use std::path::Path;
use std::sync::Arc;

/// The caller listeners' TLS set-up: the rustls configuration and the handle that swaps its
/// certificate.
pub struct CallerTls {
    pub server_config: Arc<rustls::ServerConfig>,
    pub live: Arc<LiveCertificate>,
}

/// Builds the rustls server configuration of the caller HTTPS listeners.
pub async fn server_config(
    store: &Store,
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    name: &str,
) -> anyhow::Result<CallerTls> {
    let certificate = match rmsc_admin::installed_caller_certificate(store)? {
        Some(installed) => {
            if cert_file.is_some() {
                tracing::warn!("callers.tls_cert_file is ignored: an administrator installed a certificate through the admin API");
            }
            installed
        }
        None => {
            let (cert_pem, key_pem) = match (cert_file, key_file) {
                (Some(cert), Some(key)) => (
                    std::fs::read_to_string(cert)
                        .with_context(|| format!("reading {}", cert.display()))?,
                    std::fs::read_to_string(key)
                        .with_context(|| format!("reading {}", key.display()))?,
                ),
                _ => self_signed(store, name).await?,
            };
            rmsc_certs::parse_pem_bundle(format!("{cert_pem}\n{key_pem}").as_bytes())
                .map_err(|e| anyhow!("the HTTPS certificate and key are unusable: {e}"))?
        }
    };
    let live = LiveCertificate::new(certificate)
        .map_err(|e| anyhow!("the HTTPS certificate is unusable: {e}"))?;
    Ok(CallerTls {
        server_config: build(live.clone())?,
        live,
    })
}

/// A rustls configuration that asks `live` for the certificate of every handshake.
fn build(live: Arc<LiveCertificate>) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let mut config = rmsc_certs::server_config(live)?;
    // HTTP/1.1 only: Negotiate authentication over HTTP/2 is poorly supported by Windows clients.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

async fn self_signed(store: &Store, name: &str) -> anyhow::Result<(String, String)> {
    if let (Some(cert), Some(key)) = (
        store.setting::<String>(INITIAL_CERT_SETTING)?,
        store.secret(INITIAL_KEY_SECRET)?,
    ) {
        let key = key
            .expose_str()
            .ok_or_else(|| anyhow!("stored HTTPS key is not PEM"))?
            .to_owned();
        return Ok((cert, key));
    }
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned(), "localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key)?;
    let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
    store
        .put_secret(INITIAL_KEY_SECRET, key_pem.as_bytes())
        .await?;
    store.set_setting(INITIAL_CERT_SETTING, &cert_pem).await?;
    tracing::info!(%name, "made a self-signed HTTPS certificate for the caller listeners");
    Ok((cert_pem, key_pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_initial_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _) = Store::open(dir.path()).expect("store");
        let first = server_config(&store, None, None, "rmsc01.contoso.com")
            .await
            .expect("tls");
        let second = server_config(&store, None, None, "rmsc01.contoso.com")
            .await
            .expect("tls");
        assert_eq!(first.live.fingerprint(), second.live.fingerprint());
        assert_eq!(
            first.server_config.alpn_protocols,
            vec![b"http/1.1".to_vec()]
        );
        assert!(first.server_config.ignore_client_order);
    }
}
