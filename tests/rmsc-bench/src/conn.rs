//! One caller's connection as the Kerberos and comparison benchmarks make it: TCP, TLS
//! (rustls, full handshakes), an HTTP/1.1 connection of its own, and, for targets that
//! authenticate, a real GSSAPI initiation whose `Negotiate` token goes with the first request.
//! Unlike the pooled client of `load.rs`, the caller decides when a connection is new.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use rmsc_e2e::ad::{negotiate_header, AdLab, AD_CONNECTOR_NAME};
pub use rmsc_e2e::tls::{any_server_tls, full_handshakes};
use rmsc_kerberos::Initiator;
use rustls::pki_types::ServerName;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Callers with their own ticket caches, as separate servers would have.
#[derive(Clone)]
pub struct Kerberos {
    pub initiators: Vec<Arc<Initiator>>,
}

impl Kerberos {
    /// `count` initiators for the lab's Exchange servers in turn: EXCH01 and EXCH02 are
    /// direct members of "Exchange Servers", EXCH03 a nested one.
    pub fn exchange_servers(ad: &AdLab, count: usize) -> anyhow::Result<Self> {
        let accounts = ["EXCH01", "EXCH02", "EXCH03"];
        let initiators = (0..count.max(1))
            .map(|i| {
                ad.initiator_in_memory(accounts[i % accounts.len()])
                    .map(Arc::new)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { initiators })
    }

    /// A fresh `Negotiate` header (new authenticator) from initiator `index`. Made inline:
    /// with the tickets in memory it is CPU work of about 100 µs, as a TLS handshake is, and
    /// a hop to the blocking pool and back cost the load generator more (the connector's
    /// accept measured the same, see rmsc-kerberos `source.rs`). An initiator's first token
    /// also fetches the service ticket from the KDC: a few milliseconds, once, while warming.
    pub fn token(&self, index: usize) -> anyhow::Result<String> {
        let initiator = &self.initiators[index % self.initiators.len()];
        let token = initiator.token_for(AD_CONNECTOR_NAME)?;
        Ok(negotiate_header(&token))
    }
}

/// Everything a worker needs to open connections to one target and send one call.
#[derive(Clone)]
pub struct Caller {
    pub addr: SocketAddr,
    pub tls: TlsConnector,
    /// TLS server name (SNI) and `Host`.
    pub server_name: String,
    pub url_path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// `Some` for targets that authenticate callers with Kerberos.
    pub kerberos: Option<Kerberos>,
}

impl Caller {
    /// A new TCP connection with its TLS handshake done.
    async fn tls_stream(&self) -> anyhow::Result<TlsStream<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(self.server_name.clone())?;
        Ok(self.tls.connect(name, tcp).await?)
    }

    /// A new TCP and TLS connection with its HTTP/1.1 connection task.
    pub async fn connect(&self) -> anyhow::Result<Sender> {
        let tls = self.tls_stream().await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// The TLS version and cipher suite this target chooses for the load generator's offer.
    pub async fn tls_choice(&self) -> anyhow::Result<String> {
        let tls = self.tls_stream().await?;
        let session = tls.get_ref().1;
        let version = session
            .protocol_version()
            .map_or("?".to_owned(), |v| format!("{v:?}"));
        let suite = session
            .negotiated_cipher_suite()
            .map_or("?".to_owned(), |s| format!("{:?}", s.suite()));
        Ok(format!("{version} {suite}"))
    }

    /// Sends the call on `sender`, with `authorization` if given; `Ok` only for a 200 whose
    /// body was read completely.
    pub async fn call(
        &self,
        sender: &mut Sender,
        authorization: Option<String>,
    ) -> anyhow::Result<()> {
        self.call_with(sender, authorization, self.body.clone())
            .await
    }

    /// As [`Caller::call`] with another body.
    pub async fn call_with(
        &self,
        sender: &mut Sender,
        authorization: Option<String>,
        body: Bytes,
    ) -> anyhow::Result<()> {
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri(&self.url_path)
            .header("host", &self.server_name);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(token) = authorization {
            request = request.header("authorization", token);
        }
        sender.ready().await?;
        let response = sender.send_request(request.body(Full::new(body))?).await?;
        let status = response.status();
        let mut body = response.into_body();
        if status != hyper::StatusCode::OK {
            let body = body.collect().await?.to_bytes();
            return Err(anyhow!(
                "status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        // Read to the end without gathering the frames into one buffer: the load generator
        // shares its CPU with the stand-in, and every copy it makes is taken from the target.
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok(())
    }

    /// The `Authorization` header a new connection's first request carries, if any.
    pub fn first_authorization(&self, index: usize) -> anyhow::Result<Option<String>> {
        self.kerberos.as_ref().map(|k| k.token(index)).transpose()
    }

    /// A new connection whose first call (with a token, for a Kerberos target) succeeded:
    /// an authenticated keep-alive connection.
    pub async fn open(&self, index: usize) -> anyhow::Result<Sender> {
        let authorization = self.first_authorization(index)?;
        let mut sender = self.connect().await?;
        self.call(&mut sender, authorization).await?;
        Ok(sender)
    }

    /// Polls until one authenticated call succeeds or `deadline` passes (the authorization
    /// may take a list sync to reach a connector).
    pub async fn probe(&self, deadline: std::time::Duration) -> anyhow::Result<()> {
        let end = std::time::Instant::now() + deadline;
        loop {
            match self.open(0).await {
                Ok(_) => return Ok(()),
                Err(error) if std::time::Instant::now() > end => {
                    return Err(error.context(format!("probe of {}", self.addr)));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
        }
    }
}

/// A TLS client configuration trusting `ca_pem` and presenting a client certificate, with
/// full handshakes; for calling the stand-in directly.
pub fn direct_tls(ca_pem: &str, cert_pem: &str, key_pem: &str) -> anyhow::Result<TlsConnector> {
    let config = crate::setup::tls_config(ca_pem, Some((cert_pem, key_pem)))
        .context("direct TLS configuration")?;
    Ok(full_handshakes(config))
}
