//! What the benchmark needs besides the daemon (`daemon.rs`): TLS client configurations, a
//! second connector registration used to call the stand-in directly with mutual TLS, and the
//! caller headers the connector would add.

use std::sync::Arc;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use rmsc_contract::{caller_headers, RegisterRequest, RegisterResponse, TokenResponse};
use rmsc_e2e::{Lab, ADMIN, ADMIN_PASSWORD, EXCH01, EXCHANGE_GROUP_SID};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::load::{http_client, HttpClient};

/// The resident set size of a process, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).context("read /proc status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// A rustls client configuration trusting `ca_pem`, presenting `identity` if given.
pub fn tls_config(
    ca_pem: &str,
    identity: Option<(&str, &str)>,
) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.context("ca pem")?).context("add root")?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("protocol versions")?
    .with_root_certificates(roots);
    Ok(match identity {
        Some((cert_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .context("cert pem")?;
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).context("key pem")?;
            builder
                .with_client_auth_cert(chain, key)
                .context("client auth")?
        }
        None => builder.with_no_client_auth(),
    })
}

/// Percent-encodes a form value (everything but unreserved characters).
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post(
    client: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
) -> anyhow::Result<Bytes> {
    let mut request = hyper::Request::builder().method("POST").uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body)))?)
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(anyhow!(
            "POST {url}: {status} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}

/// A second connector registration: its credentials and the tenant's relay URL.
pub struct Registration {
    pub cert_pem: String,
    pub key_pem: String,
    pub tenant_id: String,
    pub relay_url: String,
}

/// Registers a second connector with the stand-in's control API (as the admin, password
/// grant), as the direct caller and the peers use it.
pub async fn register_direct(lab: &Lab) -> anyhow::Result<Registration> {
    let base = lab.standin.base_url();
    let plain = http_client(tls_config(lab.standin.ca_pem(), None)?, 2);
    let form = format!(
        "grant_type=password&username={}&password={}",
        form_encode(ADMIN),
        form_encode(ADMIN_PASSWORD)
    );
    let token = post(
        &plain,
        &format!("{base}/oauth2/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    )
    .await?;
    let token: TokenResponse = serde_json::from_slice(&token).context("token answer")?;
    let key =
        rmsc_cloud::new_connector_key("bench-direct.contoso.test").context("connector key")?;
    let request = RegisterRequest {
        connector_name: "bench-direct.contoso.test".into(),
        appliance_name: "bench-direct".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        csr_pem: key.csr_pem,
    };
    let auth = format!("Bearer {}", token.access_token);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let answer = post(
        &plain,
        &format!("{base}/api/v1/connectors"),
        &headers,
        serde_json::to_string(&request)?,
    )
    .await?;
    let answer: RegisterResponse =
        serde_json::from_slice(&answer).context("registration answer")?;
    Ok(Registration {
        cert_pem: answer.certificate_pem,
        key_pem: key.key_pem,
        relay_url: format!("{base}/tenants/{}", answer.tenant_id),
        tenant_id: answer.tenant_id,
    })
}

/// Registers a second connector and returns a client presenting its certificate plus the
/// tenant's relay URL.
pub async fn direct_client(lab: &Lab, connections: usize) -> anyhow::Result<(HttpClient, String)> {
    let registration = register_direct(lab).await?;
    let tls = tls_config(
        lab.standin.ca_pem(),
        Some((&registration.cert_pem, &registration.key_pem)),
    )?;
    Ok((http_client(tls, connections), registration.relay_url))
}

/// The caller headers the connector adds after authenticating and authorizing EXCH01.
pub fn direct_caller_headers() -> anyhow::Result<Vec<(HeaderName, HeaderValue)>> {
    [
        (caller_headers::ACCOUNT, EXCH01.0),
        (caller_headers::SID, EXCH01.1),
        (caller_headers::ROLE, "exchange"),
        (caller_headers::MATCHED_ENTRY, EXCHANGE_GROUP_SID),
    ]
    .into_iter()
    .map(|(name, value)| Ok((HeaderName::from_static(name), HeaderValue::from_str(value)?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_the_awkward_password() {
        assert_eq!(form_encode("Adm1n&<>\"'pass"), "Adm1n%26%3C%3E%22%27pass");
        assert_eq!(form_encode("a@b.test"), "a%40b.test");
    }

    #[test]
    fn rss_of_this_process_is_positive() {
        assert!(rss_kib(std::process::id()).expect("own rss") > 0);
    }
}
