//! The outbound web proxy setting (`http://host:port`, optional user name and password, the
//! password sealed) and its connection test: a CONNECT to the cloud service through it. Every
//! cloud connection uses it (`rmsc_cloud::ProxyRoute`): set at start-up from the store and
//! again whenever an administrator changes it.

use crate::error::AdminError;
use crate::network::is_host_name;
use crate::ops::Admin;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PROXY_SETTING: &str = "appliance.proxy";
pub(crate) const PROXY_PASSWORD_SECRET: &str = "appliance.proxy.password";
/// The whole test (connect, CONNECT, answer) must finish within this.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A proxy's answer to CONNECT is a status line and a few headers.
const MAX_ANSWER: usize = 8 * 1024;

/// The proxy as stored and shown (never with the password).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxySettings {
    /// `http://host:port`, or empty for a direct connection.
    pub url: String,
    #[serde(default)]
    pub username: String,
    /// A password is stored (it is never shown).
    #[serde(default)]
    pub password_set: bool,
}

/// A change of the proxy: `password` absent keeps the stored one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProxyUpdate {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
}

/// Result of the connection test.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProxyTest {
    pub ok: bool,
    pub latency_ms: Option<u64>,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::InvalidSetting {
        field,
        message: message.into(),
    }
}

/// `http://host:port` (a trailing `/` tolerated) → (host, port).
pub(crate) fn parse_proxy_url(url: &str) -> Result<(String, u16), AdminError> {
    let bad = || {
        invalid(
            "url",
            "Enter the proxy as http://host:port (credentials go in the fields below).",
        )
    };
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(bad)?;
    let host_ok = host.parse::<std::net::Ipv4Addr>().is_ok() || is_host_name(host);
    if !host_ok {
        return Err(bad());
    }
    Ok((host.to_ascii_lowercase(), port))
}

fn check_credential(field: &'static str, value: &str) -> Result<(), AdminError> {
    if value.len() > 256 || value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "Use at most 256 characters and no control characters.",
        ));
    }
    Ok(())
}

/// Sends CONNECT `target` through the proxy at `proxy` and reads the status code.
async fn connect_through(
    proxy: (&str, u16),
    target: &str,
    credentials: Option<(&str, &str)>,
) -> Result<u16, String> {
    let mut stream = TcpStream::connect(proxy)
        .await
        .map_err(|e| format!("The proxy {}:{} cannot be reached: {e}.", proxy.0, proxy.1))?;
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, password)) = credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("The proxy closed the connection: {e}."))?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() < MAX_ANSWER {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("The proxy closed the connection: {e}."))?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("The proxy did not answer like an HTTP proxy.")?;
    Ok(status)
}

/// The stored proxy as the cloud client's route (`None`: direct).
pub fn stored_proxy_route(
    store: &rmsc_store::Store,
) -> Result<Option<rmsc_cloud::ProxyRoute>, AdminError> {
    let settings: ProxySettings = store.setting(PROXY_SETTING)?.unwrap_or_default();
    if settings.url.is_empty() {
        return Ok(None);
    }
    let (host, port) = parse_proxy_url(&settings.url)?;
    let password = store.secret(PROXY_PASSWORD_SECRET)?;
    let credentials = (!settings.username.is_empty()).then(|| {
        format!(
            "{}:{}",
            settings.username,
            password.as_ref().and_then(|p| p.expose_str()).unwrap_or("")
        )
    });
    Ok(Some(rmsc_cloud::ProxyRoute {
        host,
        port,
        credentials,
    }))
}

impl Admin {
    /// Points the cloud client at the stored proxy and drops pooled connections made the
    /// other way, so the next cloud call already takes the new route.
    async fn apply_proxy(&self) -> Result<(), AdminError> {
        self.cloud.set_proxy(stored_proxy_route(&self.store)?);
        if let Some(registration) = self.store.registration()? {
            // Best effort: without it the pooled connections still close within the pool's
            // idle timeout, and new ones already take the new route.
            if let Err(error) = self.cloud.install_registration(&registration) {
                tracing::warn!(%error, "could not drop the pooled cloud connections");
            }
        }
        Ok(())
    }

    /// The proxy setting, without the password.
    pub fn proxy_settings(&self) -> Result<ProxySettings, AdminError> {
        let mut settings: ProxySettings = self.store.setting(PROXY_SETTING)?.unwrap_or_default();
        settings.password_set = self.store.secret(PROXY_PASSWORD_SECRET)?.is_some();
        Ok(settings)
    }

    /// Stores the proxy; an empty URL removes it with its credentials.
    pub async fn set_proxy_settings(
        &self,
        update: ProxyUpdate,
        actor: &str,
    ) -> Result<ProxySettings, AdminError> {
        let url = update.url.trim().to_owned();
        let username = update.username.trim().to_owned();
        if url.is_empty() {
            self.store.remove_setting(PROXY_SETTING).await?;
            self.store.remove_secret(PROXY_PASSWORD_SECRET).await?;
            self.apply_proxy().await?;
            self.record_change(actor, "proxy_settings", "removed the web proxy")
                .await;
            return self.proxy_settings();
        }
        let (host, port) = parse_proxy_url(&url)?;
        check_credential("username", &username)?;
        if let Some(password) = &update.password {
            check_credential("password", password)?;
        }
        let stored = ProxySettings {
            url: format!("http://{host}:{port}"),
            username,
            password_set: false,
        };
        match update.password.as_deref() {
            Some("") => self.store.remove_secret(PROXY_PASSWORD_SECRET).await?,
            Some(password) => {
                self.store
                    .put_secret(PROXY_PASSWORD_SECRET, password.as_bytes())
                    .await?
            }
            None => {}
        }
        self.store.set_setting(PROXY_SETTING, &stored).await?;
        self.apply_proxy().await?;
        self.record_change(
            actor,
            "proxy_settings",
            &format!("set the web proxy to {}", stored.url),
        )
        .await;
        self.proxy_settings()
    }

    /// Connects to the cloud service through the proxy (or directly when none is set).
    pub async fn test_proxy(&self) -> Result<ProxyTest, AdminError> {
        let base = &self.cloud.options().base_url;
        let host = base.host_str().unwrap_or_default().to_owned();
        let port = base.port_or_known_default().unwrap_or(443);
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let settings = self.proxy_settings()?;
        let started = Instant::now();
        let result = if settings.url.is_empty() {
            let connect = TcpStream::connect((host.as_str(), port));
            match tokio::time::timeout(TEST_TIMEOUT, connect).await {
                Ok(Ok(_)) => Ok("No proxy is set: the appliance connected directly.".to_owned()),
                Ok(Err(e)) => Err(format!(
                    "No proxy is set and {target} cannot be reached directly: {e}."
                )),
                Err(_) => Err(format!(
                    "No proxy is set and {target} did not answer in time."
                )),
            }
        } else {
            let (proxy_host, proxy_port) = parse_proxy_url(&settings.url)?;
            let password = self.store.secret(PROXY_PASSWORD_SECRET)?;
            let password = password.as_ref().and_then(|p| p.expose_str()).unwrap_or("");
            let credentials =
                (!settings.username.is_empty()).then_some((settings.username.as_str(), password));
            let attempt = connect_through((&proxy_host, proxy_port), &target, credentials);
            match tokio::time::timeout(TEST_TIMEOUT, attempt).await {
                Err(_) => Err(format!("The proxy did not answer within {} seconds.", TEST_TIMEOUT.as_secs())),
                Ok(Err(message)) => Err(message),
                Ok(Ok(200..=299)) => Ok(format!("The proxy opened a connection to {target}.")),
                Ok(Ok(407)) => Err("The proxy wants credentials: check the user name and password.".to_owned()),
                Ok(Ok(status)) => Err(format!("The proxy refused the connection to {target} (HTTP {status}); allow it in the proxy.")),
            }
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(match result {
            Ok(message) => ProxyTest {
                ok: true,
                latency_ms: Some(latency_ms),
                message,
            },
            Err(message) => ProxyTest {
                ok: false,
                latency_ms: None,
                message,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_http_host_and_port_only() {
        assert_eq!(
            parse_proxy_url("http://Proxy.contoso.com:8080/").ok(),
            Some(("proxy.contoso.com".into(), 8080))
        );
        assert!(parse_proxy_url("http://10.0.0.1:3128").is_ok());
        for bad in [
            "https://p:1",
            "http://p",
            "http://u:p@h:1",
            "http://h:0",
            "http://h:1/path",
            "p:80",
        ] {
            assert!(parse_proxy_url(bad).is_err(), "{bad} must be refused");
        }
    }

    #[tokio::test]
    async fn connect_reports_the_proxy_status_and_sends_credentials() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = vec![0u8; 2048];
            let n = socket.read(&mut buf).await.expect("read");
            socket
                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                .await
                .expect("write");
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        let status = connect_through(("127.0.0.1", port), "cloud.example:443", Some(("u", "p")))
            .await
            .expect("answer");
        assert_eq!(status, 407);
        let request = server.await.expect("server");
        assert!(request.starts_with("CONNECT cloud.example:443 HTTP/1.1\r\n"));
        assert!(request.contains("Proxy-Authorization: Basic dTpw"));
    }
}
