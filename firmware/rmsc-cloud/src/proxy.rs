//! The outbound web proxy for every cloud connection: when one is set, a new connection is
//! a TCP connection to the proxy and an HTTP `CONNECT host:port` tunnel (RFC 9110 §9.3.6), with
//! Basic credentials when given; TLS to the cloud then runs end to end inside the tunnel, so
//! the proxy sees neither the client certificate's key nor the traffic. Without a proxy the
//! connection is direct. The route is read per new connection, so a change applies at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::Service;

/// A proxy's answer to CONNECT is a status line and a few headers.
const MAX_CONNECT_ANSWER: usize = 8 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where cloud connections go through.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyRoute {
    pub host: String,
    pub port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`, if the proxy wants credentials.
    pub credentials: Option<String>,
}

impl std::fmt::Debug for ProxyRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRoute")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials.as_ref().map(|_| "(set)"))
            .finish()
    }
}

pub(crate) type SharedRoute = Arc<RwLock<Option<ProxyRoute>>>;

/// Connects directly or through the current proxy.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    pub(crate) direct: HttpConnector,
    pub(crate) route: SharedRoute,
    /// Deadline for the CONNECT exchange (the TCP connect has the connector's own).
    pub(crate) timeout: Duration,
}

impl Service<Uri> for ProxyConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.direct.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        let route = self.route.read().ok().and_then(|r| r.clone());
        let mut direct = self.direct.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let Some(route) = route else {
                return direct.call(target).await.map_err(Into::into);
            };
            let host = target.host().ok_or("the cloud URL has no host")?.to_owned();
            let port = target.port_u16().unwrap_or(443);
            let proxy: Uri = format!("http://{}:{}", bracketed(&route.host), route.port).parse()?;
            let io = direct.call(proxy).await.map_err(|e| {
                format!(
                    "the proxy {}:{} cannot be reached: {e}",
                    route.host, route.port
                )
            })?;
            let mut tcp = io.into_inner();
            let target = format!("{}:{port}", bracketed(&host));
            tokio::time::timeout(
                timeout,
                tunnel(&mut tcp, &target, route.credentials.as_deref()),
            )
            .await
            .map_err(|_| format!("the proxy did not answer CONNECT {target} in time"))??;
            Ok(TokioIo::new(tcp))
        })
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Sends CONNECT and reads the proxy's answer head; a 2xx leaves the stream as the tunnel.
async fn tunnel(
    stream: &mut TcpStream,
    target: &str,
    credentials: Option<&str>,
) -> Result<(), BoxError> {
    use base64::Engine as _;
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(credentials) = credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(credentials);
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    // Byte by byte up to the blank line: nothing of the tunnel may be read here (the cloud
    // speaks only after our TLS hello, but a proxy could pipeline).
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_ANSWER {
            return Err("the proxy's answer to CONNECT is too long".into());
        }
        let byte = stream
            .read_u8()
            .await
            .map_err(|e| format!("the proxy closed the connection during CONNECT {target}: {e}"))?;
        head.push(byte);
    }
    let text = String::from_utf8_lossy(&head);
    let status = text
        .lines()
        .next()
        .filter(|line| line.starts_with("HTTP/1."))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("the proxy did not answer like an HTTP proxy")?;
    match status {
        200..=299 => Ok(()),
        407 => {
            Err("the proxy wants credentials (407): check the proxy user name and password".into())
        }
        other => Err(format!("the proxy refused CONNECT {target} (HTTP {other})").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A proxy that answers CONNECT with `status` and records what it was asked.
    async fn one_shot_proxy(status: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                head.push(stream.read_u8().await.expect("read"));
            }
            stream
                .write_all(format!("HTTP/1.1 {status}\r\nServer: test\r\n\r\n").as_bytes())
                .await
                .expect("write");
            String::from_utf8_lossy(&head).into_owned()
        });
        (port, task)
    }

    #[tokio::test]
    async fn connect_sends_the_target_and_credentials_and_accepts_2xx() {
        let (port, asked) = one_shot_proxy("200 Connection established").await;
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
        tunnel(&mut stream, "cloud.example:443", Some("user:p@ss"))
            .await
            .expect("tunnel");
        let asked = asked.await.expect("proxy");
        assert!(
            asked.starts_with("CONNECT cloud.example:443 HTTP/1.1\r\n"),
            "{asked}"
        );
        assert!(
            asked.contains("Proxy-Authorization: Basic dXNlcjpwQHNz\r\n"),
            "{asked}"
        );
    }

    #[tokio::test]
    async fn refusals_say_why() {
        for (status, expected) in [
            ("407 Proxy Authentication Required", "credentials"),
            ("403 Forbidden", "HTTP 403"),
        ] {
            let (port, _asked) = one_shot_proxy(status).await;
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
            let error = tunnel(&mut stream, "cloud.example:443", None)
                .await
                .expect_err("refused");
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
