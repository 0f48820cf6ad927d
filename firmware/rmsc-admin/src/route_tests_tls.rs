//! The live swap: a TLS listener built on [`crate::LiveCertificate`] serves the uploaded
//! certificate to the next handshake, without a restart.

use crate::test_support::{call, harness, register, test_ca, CONNECTOR};
use rustls::pki_types::ServerName;
use serde_json::json;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Serves TLS with `config` on 127.0.0.1 until the test ends.
async fn serve(config: rustls::ServerConfig) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tls.write_all(b"ok").await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn callers_get_the_uploaded_certificate_without_a_restart() {
    let h = harness().await;
    register(&h.store).await;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(h.live.clone());
    let addr = serve(server).await;

    let (ca, ca_key) = test_ca();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).expect("root");
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(client));
    let name = ServerName::try_from(CONNECTOR).expect("name");

    // The initial self-signed certificate is not trusted by a client of the CA.
    let stream = TcpStream::connect(addr).await.expect("connect");
    assert!(connector.connect(name.clone(), stream).await.is_err());

    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(vec![CONNECTOR.to_owned()]).expect("params");
    params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
    let leaf = params.signed_by(&leaf_key, &ca, &ca_key).expect("sign");
    let pem = format!("{}{}{}", leaf.pem(), ca.pem(), leaf_key.serialize_pem());
    let answer = call(
        &h.router,
        "POST",
        "/api/v1/certificate",
        Some(json!({ "pem": pem })),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json());

    let stream = TcpStream::connect(addr).await.expect("connect");
    let tls = connector.connect(name, stream).await.expect("trusted now");
    let (_, session) = tls.get_ref();
    let presented = session.peer_certificates().expect("certificates");
    assert_eq!(presented[0].as_ref(), leaf.der().as_ref());
}
