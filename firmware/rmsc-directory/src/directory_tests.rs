//! Tests of the directory client that need no domain controller: configuration checks and
//! the unreachable and timed-out paths against local sockets.

use super::*;
use std::path::PathBuf;
use std::time::Instant;

fn connector_keytab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rmsc-kerberos/tests/fixtures/connector.keytab")
}

fn config(url: String) -> DirectoryConfig {
    let mut config = DirectoryConfig::new(
        vec![url],
        DirectoryAuth::Keytab {
            path: connector_keytab(),
            principal: None,
        },
    );
    config.connect_timeout = Duration::from_millis(500);
    config.operation_timeout = Duration::from_millis(300);
    config
}

#[test]
fn server_host_is_taken_from_ldap_urls_only() {
    assert_eq!(
        server_host("ldap://dc1.contoso.com").ok().as_deref(),
        Some("dc1.contoso.com")
    );
    assert_eq!(
        server_host("ldap://169.254.1.2:389/").ok().as_deref(),
        Some("169.254.1.2")
    );
    assert_eq!(server_host("ldap://[::1]:389").ok().as_deref(), Some("::1"));
    assert!(matches!(
        server_host("ldaps://dc1"),
        Err(DirectoryError::Config(_))
    ));
    assert!(matches!(
        server_host("dc1.contoso.com"),
        Err(DirectoryError::Config(_))
    ));
}

#[test]
fn keytab_principal_is_the_first_in_the_file() {
    assert_eq!(
        keytab_principal(&connector_keytab()).ok().as_deref(),
        Some("HTTP/rmsconnector.contoso.test@CONTOSO.TEST")
    );
    assert!(matches!(
        keytab_principal(Path::new("/nonexistent/keytab")),
        Err(DirectoryError::Config(_))
    ));
}

#[tokio::test]
async fn no_url_is_a_configuration_error() {
    let mut cfg = config("ldap://127.0.0.1".into());
    cfg.ldap_urls.clear();
    let err = Directory::connect(cfg).await.expect_err("no URL");
    assert!(matches!(err, DirectoryError::Config(_)), "{err}");
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    let err = Directory::connect(config(format!("ldap://{addr}")))
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, DirectoryError::Unreachable(_)), "{err}");
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("local address");
    // Accepts and holds the connection without ever answering.
    let holder = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let started = Instant::now();
    let err = Directory::connect(config(format!("ldap://{addr}")))
        .await
        .expect_err("no answer");
    holder.abort();
    assert!(matches!(err, DirectoryError::TimedOut(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn missing_keytab_is_a_configuration_error() {
    let mut cfg = config("ldap://127.0.0.1".into());
    cfg.auth = DirectoryAuth::Keytab {
        path: "/nonexistent/keytab".into(),
        principal: None,
    };
    let err = Directory::connect(cfg).await.expect_err("no keytab");
    assert!(matches!(err, DirectoryError::Config(_)), "{err}");
}
