//! The admin certificate and the HTTPS listener, over real sockets on 127.0.0.1.

use crate::{serve_with_limits, AdminTls, CertSource, ConsoleEnv, ServeLimits};
use axum::http::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rmsc_store::Store;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// An empty request body.
type Empty = http_body_util::Empty<axum::body::Bytes>;

fn client_config(trusted: &[CertificateDer<'static>]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trusted {
        roots.add(cert.clone()).expect("trust anchor");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// GETs `path` over a fresh TLS connection; returns the status, the CSP header and the
/// leaf certificate the server presented.
async fn https_get(
    addr: std::net::SocketAddr,
    trusted: &[CertificateDer<'static>],
    path: &str,
) -> (StatusCode, Option<String>, CertificateDer<'static>) {
    let connector = tokio_rustls::TlsConnector::from(client_config(trusted));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let tls = connector.connect(name, tcp).await.expect("handshake");
    let leaf = tls.get_ref().1.peer_certificates().expect("peer certs")[0].clone();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .expect("http handshake");
    let driver = tokio::spawn(connection);
    let request = Request::get(path)
        .header(header::HOST, "localhost")
        .body(Empty::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let csp = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status();
    drop(sender);
    driver.abort();
    (status, csp, leaf)
}

#[tokio::test]
async fn the_self_signed_certificate_is_made_once_and_shown_on_the_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = Store::open(dir.path()).expect("store");
    let console = ConsoleEnv::new(dir.path());
    let first = AdminTls::load_or_create(&store, "rmsc01.contoso.com", &console)
        .await
        .expect("tls");
    let info = first.info();
    assert_eq!(info.source, CertSource::SelfSigned);
    assert_eq!(info.fingerprint_sha256.len(), 32 * 3 - 1);
    let text = std::fs::read_to_string(console.path()).expect("console.env");
    assert!(text.contains(&format!("ADMIN_CERT_SHA256={}", info.fingerprint_sha256)));

    let again = AdminTls::load_or_create(&store, "rmsc01.contoso.com", &console)
        .await
        .expect("tls again");
    assert_eq!(again.info(), info);
}

#[tokio::test]
async fn a_replacement_needs_a_matching_key_and_takes_effect_without_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = Store::open(dir.path()).expect("store");
    let console = ConsoleEnv::new(dir.path());
    let tls = AdminTls::load_or_create(&store, "localhost", &console)
        .await
        .expect("tls");
    let original = tls.info();
    let first_chain = tls.certificate_chain();

    let auth = crate::AdminAuth::start(
        store.clone(),
        rmsc_telemetry::Events::new(store.clone()),
        console.clone(),
        Arc::new(crate::SystemClock),
        crate::AuthConfig {
            password_cost: crate::PasswordCost::cheapest(),
            ..crate::AuthConfig::default()
        },
    )
    .await
    .expect("auth");
    let router = crate::router(crate::WebAdminState::new(auth), axum::Router::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let server = tokio::spawn(serve_with_limits(
        vec![listener],
        tls.server_config().expect("config"),
        router,
        stop.clone(),
        ServeLimits {
            grace: Duration::from_secs(2),
            ..ServeLimits::default()
        },
    ));

    let (status, csp, leaf) = https_get(addr, &first_chain, "/api/v1/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csp.as_deref(), Some(crate::headers::CSP));
    assert_eq!(leaf, first_chain[0]);

    // An uploaded certificate whose key does not match is refused; the old one stays.
    let other_key = rcgen::KeyPair::generate().expect("key");
    let new_key = rcgen::KeyPair::generate().expect("key");
    let new_cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&new_key)
        .expect("cert");
    let mismatch = tls
        .replace(&new_cert.pem(), &other_key.serialize_pem())
        .await;
    assert!(mismatch.is_err());
    assert_eq!(tls.info(), original);

    let replaced = tls
        .replace(&new_cert.pem(), &new_key.serialize_pem())
        .await
        .expect("replace");
    assert_eq!(replaced.source, CertSource::Uploaded);
    assert_ne!(replaced.fingerprint_sha256, original.fingerprint_sha256);
    let text = std::fs::read_to_string(console.path()).expect("console.env");
    assert!(text.contains(&replaced.fingerprint_sha256));
    let new_chain = vec![new_cert.der().clone()];
    let (status, _, leaf) = https_get(addr, &new_chain, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(leaf, new_chain[0]);

    // The replacement survives a restart.
    let reloaded = AdminTls::load_or_create(&store, "localhost", &console)
        .await
        .expect("reload");
    assert_eq!(reloaded.info(), replaced);

    stop.cancel();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.is_finished() {
        assert!(Instant::now() < deadline, "server did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.await.expect("server task");
}
