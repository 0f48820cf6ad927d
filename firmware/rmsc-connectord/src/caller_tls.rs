//! The HTTPS certificate of the caller listeners: the administrator's certificate files, or
//! a self-signed certificate made once and kept in the store (its key sealed), so callers see
//! the same certificate across restarts until a real one is installed.

use anyhow::{anyhow, Context};
use rmsc_store::Store;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

const KEY_SECRET: &str = "caller-tls-key";
const CERT_SETTING: &str = "caller-tls-cert";

/// Builds the rustls server configuration of the caller HTTPS listeners.
pub async fn server_config(
    store: &Store,
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    name: &str,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let (cert_pem, key_pem) = match (cert_file, key_file) {
        (Some(cert), Some(key)) => (
            std::fs::read_to_string(cert).with_context(|| format!("reading {}", cert.display()))?,
            std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?,
        ),
        _ => self_signed(store, name).await?,
    };
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile_certs(&cert_pem)?;
    let key = private_key(&key_pem)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the HTTPS certificate and key do not match or are unusable")?;
    // HTTP/1.1 only: Negotiate authentication over HTTP/2 is poorly supported by Windows clients.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

async fn self_signed(store: &Store, name: &str) -> anyhow::Result<(String, String)> {
    if let (Some(cert), Some(key)) = (
        store.setting::<String>(CERT_SETTING)?,
        store.secret(KEY_SECRET)?,
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
    store.put_secret(KEY_SECRET, key_pem.as_bytes()).await?;
    store.set_setting(CERT_SETTING, &cert_pem).await?;
    tracing::info!(%name, "made a self-signed HTTPS certificate for the caller listeners");
    Ok((cert_pem, key_pem))
}

fn rustls_pemfile_certs(pem: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = rustls::pki_types::pem::PemObject::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .map_err(|e| anyhow!("invalid certificate PEM: {e:?}"))?;
    if certs.is_empty() {
        return Err(anyhow!("no certificate in the HTTPS certificate file"));
    }
    Ok(certs)
}

fn private_key(pem: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
        .map_err(|e| anyhow!("invalid private key PEM: {e:?}"))
}
