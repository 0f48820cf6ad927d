//! The Kerberos part of the benchmark (issue 3): against the Samba AD lab, a connector that
//! authenticates callers with real tickets over HTTPS, measured two ways:
//! K1, a new TLS connection and a new Kerberos authentication per request (as a server that
//! does not keep connections would); K2, 64 keep-alive TLS connections that authenticated
//! once and then send requests without tokens (as IIS-style per-connection auth allows).
//! The load generator makes a real GSSAPI initiation for every new connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use rmsc_e2e::ad::{negotiate_header, AdLab, AD_CONNECTOR_NAME};
use rmsc_e2e::Lab;
use rmsc_kerberos::Initiator;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_rustls::TlsConnector;

use crate::load::{Stats, Tally};
use crate::setup::{spawn_daemon, Daemon};

/// Accepts the connector's self-signed caller certificate: the benchmark measures the relay,
/// not certificate validation, and talks only to the daemon it started on loopback.
#[derive(Debug)]
struct BenchOnlyAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for BenchOnlyAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_connector() -> anyhow::Result<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(BenchOnlyAnyCertificate(provider)))
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Everything a worker needs to send one call.
#[derive(Clone)]
struct Caller {
    addr: SocketAddr,
    tls: TlsConnector,
    url_path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Caller {
    async fn connect(&self) -> anyhow::Result<Sender> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(AD_CONNECTOR_NAME)?;
        let tls = self.tls.connect(name, tcp).await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }

    async fn call(&self, sender: &mut Sender, token: Option<String>) -> anyhow::Result<()> {
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri(&self.url_path)
            .header("host", AD_CONNECTOR_NAME);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        sender.ready().await?;
        let response = sender
            .send_request(request.body(Full::new(self.body.clone()))?)
            .await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if status != hyper::StatusCode::OK {
            return Err(anyhow!(
                "status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        Ok(())
    }
}

/// A fresh token (new authenticator) on the blocking pool.
async fn token(initiator: &Arc<Initiator>) -> anyhow::Result<String> {
    let initiator = initiator.clone();
    let token =
        tokio::task::spawn_blocking(move || initiator.token_for(AD_CONNECTOR_NAME)).await??;
    Ok(negotiate_header(&token))
}

/// K1: each worker opens a TLS connection, authenticates, sends one call, closes; repeat.
async fn new_connection_per_call(
    caller: &Caller,
    initiators: &[Arc<Initiator>],
    duration: Duration,
) -> Stats {
    let start = Instant::now();
    let end = start + duration;
    let mut workers = Vec::new();
    for initiator in initiators {
        let caller = caller.clone();
        let initiator = initiator.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < end {
                let started = Instant::now();
                let outcome = async {
                    let header = token(&initiator).await?;
                    let mut sender = caller.connect().await?;
                    caller.call(&mut sender, Some(header)).await
                }
                .await;
                tally.record(started, outcome.map_err(|e| e.to_string()));
            }
            tally
        }));
    }
    Tally::join(workers).await.summarise(start.elapsed())
}

/// K2: `connections` keep-alive TLS connections, each authenticated by its first call.
async fn keep_alive_calls(
    caller: &Caller,
    initiators: &[Arc<Initiator>],
    connections: usize,
    duration: Duration,
) -> Stats {
    let mut senders = Vec::new();
    for index in 0..connections {
        let initiator = &initiators[index % initiators.len()];
        let opened = async {
            let header = token(initiator).await?;
            let mut sender = caller.connect().await?;
            caller.call(&mut sender, Some(header)).await?;
            anyhow::Ok(sender)
        }
        .await;
        match opened {
            Ok(sender) => senders.push(sender),
            Err(error) => eprintln!("K2: a connection failed to authenticate: {error}"),
        }
    }
    let start = Instant::now();
    let end = start + duration;
    let mut workers = Vec::new();
    for mut sender in senders {
        let caller = caller.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < end {
                let started = Instant::now();
                let outcome = caller.call(&mut sender, None).await;
                tally.record(started, outcome.map_err(|e| e.to_string()));
            }
            tally
        }));
    }
    Tally::join(workers).await.summarise(start.elapsed())
}

/// Starts a Kerberos connector against the AD lab and runs K1 and K2; returns markdown.
pub async fn run(
    ad: &AdLab,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    endpoint_path: &str,
    duration: Duration,
) -> anyhow::Result<String> {
    let lab = Lab::start().await.context("stand-in")?;
    let config = lab
        .config_text("")
        .replace("identity = \"test-header\"", "identity = \"kerberos\"");
    let daemon: Daemon = spawn_daemon(&lab, &config, &[("KRB5_CONFIG", ad.get("LAB_KRB5_CONF")?)])
        .await
        .context("Kerberos connector")?;
    ad.install_keytab(&daemon.connector).await?;
    ad.authorize_group(&daemon.connector, "Exchange Servers", "exchange")
        .await?;
    let caller = Caller {
        addr: daemon.https.context("no HTTPS caller listener")?,
        tls: tls_connector()?,
        url_path: endpoint_path.to_owned(),
        headers,
        body,
    };
    // One ticket cache per worker, as separate servers would have.
    let workers = 16;
    let accounts = ["EXCH01", "EXCH02", "EXCH03"];
    let initiators = (0..workers)
        .map(|i| ad.initiator(accounts[i % accounts.len()]).map(Arc::new))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Wait until the authorization reached the relay (list sync), then warm up.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let probe = async {
            let mut sender = caller.connect().await?;
            caller
                .call(&mut sender, Some(token(&initiators[0]).await?))
                .await
        }
        .await;
        match probe {
            Ok(()) => break,
            Err(error) if Instant::now() > deadline => {
                return Err(error.context("Kerberos probe call"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    eprintln!(
        "measuring K1 (new TLS connection + Kerberos per call) for {}s",
        duration.as_secs()
    );
    let k1 = new_connection_per_call(&caller, &initiators, duration).await;
    eprintln!(
        "measuring K2 (64 authenticated keep-alive connections) for {}s",
        duration.as_secs()
    );
    let k2 = keep_alive_calls(&caller, &initiators, 64, duration).await;
    let rss = crate::setup::rss_kib(daemon.child.id())?;
    drop(daemon);
    let row = |name: &str, unit: &str, s: &Stats| {
        format!(
            "| {name} | {:.0} {unit} | {:.2} | {:.2} | {:.2} | {}{} |\n",
            s.requests_per_sec,
            s.p50_us as f64 / 1000.0,
            s.p99_us as f64 / 1000.0,
            s.p999_us as f64 / 1000.0,
            s.errors,
            s.first_error
                .as_deref()
                .map(|e| format!(" ({})", e.chars().take(80).collect::<String>()))
                .unwrap_or_default()
        )
    };
    let mut out = String::from(
        "\n### Kerberos (Samba AD lab, HTTPS, real tickets)\n\n| workload | rate | p50 ms | p99 ms | p99.9 ms | errors |\n|---|---|---|---|---|---|\n",
    );
    out.push_str(&row(
        &format!("K1 new TLS connection + Kerberos auth per call ({workers} workers)"),
        "conn/s",
        &k1,
    ));
    out.push_str(&row(
        "K2 authenticated keep-alive, 64 connections",
        "req/s",
        &k2,
    ));
    out.push_str(&format!(
        "\nConnector RSS after the Kerberos runs: {:.1} MiB\n",
        rss as f64 / 1024.0
    ));
    Ok(out)
}
