//! Brings up what the benchmark measures: the cloud stand-in in this process, the connector as
//! a separate process (so its CPU and memory are its own), and a second connector registration
//! used to call the stand-in directly with mutual TLS.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use rmsc_contract::{caller_headers, RegisterRequest, RegisterResponse, TokenResponse};
use rmsc_e2e::{Connector, Lab, ADMIN, ADMIN_PASSWORD, EXCH01, EXCHANGE_GROUP_SID};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::load::{http_client, HttpClient};

/// The connector daemon running as a child process; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub connector: Connector,
    /// The HTTPS caller listener.
    pub https: Option<SocketAddr>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // The benchmark owns this child; a failed kill means it already exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The e2e daemon binary, expected next to this benchmark's own binary.
fn daemon_path() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("current exe")?;
    let path = me.with_file_name("rmsc-e2e-daemon");
    if path.is_file() {
        Ok(path)
    } else {
        Err(anyhow!(
            "{} not found: run `cargo build --release -p rmsc-e2e --bins` first",
            path.display()
        ))
    }
}

/// Starts the daemon with the lab's configuration, sets it up and authorizes the test callers.
pub async fn start_daemon(lab: &Lab) -> anyhow::Result<Daemon> {
    let daemon = spawn_daemon(lab, &lab.config_text(""), &[]).await?;
    daemon
        .connector
        .authorize_defaults()
        .await
        .context("authorize")?;
    Ok(daemon)
}

/// Starts the daemon with `config` (TOML) and extra environment, and registers it.
pub async fn spawn_daemon(
    lab: &Lab,
    config: &str,
    env: &[(&str, String)],
) -> anyhow::Result<Daemon> {
    let config_path = lab.dir.path().join("connector.toml");
    std::fs::write(&config_path, config).context("write config")?;
    let mut child = Command::new(daemon_path()?)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["serve", "--config"])
        .arg(&config_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("spawn daemon")?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("daemon stdout"))?;
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).context("listening line")?;
    // Keep draining stdout so the daemon never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let listening: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("listening line {line:?}"))?;
    let addr = |key: &str| -> anyhow::Result<SocketAddr> {
        let v = &listening["listening"][key];
        let first = v.as_array().and_then(|a| a.first()).unwrap_or(v);
        first
            .as_str()
            .ok_or_else(|| anyhow!("no {key} address in {line:?}"))?
            .parse()
            .context("socket address")
    };
    let connector = Connector::from_addresses(None, addr("http")?, addr("ops")?, &lab.socket());
    let https = addr("https").ok();
    let daemon = Daemon {
        child,
        connector,
        https,
    };
    daemon.connector.set_up().await.context("set up")?;
    Ok(daemon)
}

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
