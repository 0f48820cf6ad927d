//! Idle keep-alive connections are "parked" (served again without hyper's buffers) and woken
//! when the caller sends again: over plain HTTP and TLS the caller sees one uninterrupted
//! connection; a request split across a park is answered; a header that stops half-way is
//! still cut off by the header timeout; idle connections close after the keep-alive timeout.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rmsc_cloud_standin::{sample_headers, sample_request};
use rmsc_connectord::Config;
use rmsc_e2e::{eventually, identity, Connector, Lab, EXCH01, EXCHANGE_GROUP_SID};
use rmsc_soap::{find_endpoint, SoapVersion};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const PATH: &str = "/_wmcs/certification/ServerCertification.asmx";

/// A connector whose header timeout and keep-alive idle timeout are 3 s (it parks idle
/// connections after 250-500 ms).
async fn connector(lab: &Lab) -> Connector {
    let text = lab.config_text("").replace(
        "body_idle_timeout_secs = 2\n",
        "body_idle_timeout_secs = 2\nheader_read_timeout_secs = 3\nkeep_alive_idle_secs = 3\n",
    );
    let running = rmsc_connectord::run(Config::from_toml(&text).expect("config"))
        .await
        .expect("connector");
    Connector::new(running, lab.socket())
}

/// The value of an unlabelled gauge on the ops port.
async fn gauge(connector: &Connector, name: &str) -> i64 {
    let answer = connector
        .send_to(connector.ops, "GET", "/metrics", &[], Bytes::new())
        .await
        .expect("metrics");
    answer
        .text()
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing"))
}

async fn wait_gauge(connector: &Connector, name: &str, value: i64) {
    let reached = eventually(Duration::from_secs(8), || async {
        (gauge(connector, name).await == value).then_some(())
    })
    .await;
    assert!(reached.is_some(), "{name} never reached {value}");
}

/// One HTTP/1.1 connection of the test's own (not a pool): a failed request means the
/// connection was lost.
async fn one_connection<S>(io: S) -> SendRequest<Full<Bytes>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn certify(sender: &mut SendRequest<Full<Bytes>>) -> u16 {
    let op = &find_endpoint(PATH).expect("endpoint").operations[0];
    let (content_type, action) = sample_headers(SoapVersion::V11, op);
    let request = hyper::Request::post(PATH)
        .header("host", "connector")
        .header("content-type", content_type)
        .header("soapaction", action.expect("SOAP 1.1 action"))
        .header(
            "x-rmsc-test-identity",
            identity(EXCH01, &[EXCHANGE_GROUP_SID]),
        )
        .body(Full::new(Bytes::from(sample_request(op, ""))))
        .expect("request");
    let response = sender.send_request(request).await.expect("same connection");
    let status = response.status().as_u16();
    response.into_body().collect().await.expect("body");
    status
}

async fn park_and_wake<S>(connector: &Connector, io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut sender = one_connection(io).await;
    assert_eq!(certify(&mut sender).await, 200);
    wait_gauge(connector, "rmsc_caller_connections_parked", 1).await;
    assert_eq!(certify(&mut sender).await, 200, "woken by the next request");
    assert_eq!(gauge(connector, "rmsc_caller_connections_parked").await, 0);
    wait_gauge(connector, "rmsc_caller_connections_parked", 1).await;
    assert_eq!(certify(&mut sender).await, 200, "parked and woken twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_parked_and_served_again_over_http_and_tls() {
    let lab = Lab::start().await.expect("lab");
    let connector = connector(&lab).await;
    connector.set_up().await.expect("set up");
    connector.authorize_defaults().await.expect("authorize");

    let tcp = TcpStream::connect(connector.http).await.expect("connect");
    park_and_wake(&connector, tcp).await;

    let https = connector.running.as_ref().expect("running").addresses.https[0];
    let tcp = TcpStream::connect(https).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("connector").expect("name");
    let tls = rmsc_e2e::tls::any_server_tls()
        .expect("tls")
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    park_and_wake(&connector, tls).await;

    let calls = lab.standin.calls().len();
    assert_eq!(calls, 6, "every call relayed once");
    connector.shutdown().await;
}

/// Reads until `needle` has arrived or the stream ends; returns what was read.
async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            seen.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&seen).contains(needle) {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no {needle:?} within 10 s");
    String::from_utf8_lossy(&seen).into_owned()
}

const HEALTH: &str = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";

/// A connection whose first request was answered and whose second has begun: both were sent
/// in one write, so hyper holds the unfinished head when the connection goes quiet, and it is
/// handed back and replayed.
async fn answered_with_the_next_request_begun(connector: &Connector) -> TcpStream {
    let mut stream = TcpStream::connect(connector.http).await.expect("connect");
    stream
        .write_all(format!("{HEALTH}GET /heal").as_bytes())
        .await
        .expect("write");
    let first = read_until(&mut stream, "ok\n").await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_split_across_an_idle_period_is_answered() {
    let lab = Lab::start().await.expect("lab");
    let connector = connector(&lab).await;
    let mut stream = answered_with_the_next_request_begun(&connector).await;
    // Quiet for eight park periods (250 ms each): the unfinished head is handed back and
    // replayed once, and the connection, holding part of a request, is never parked; the
    // replay restarts the 3 s header timeout once, so the rest still arrives in time.
    let parked_meanwhile = eventually(Duration::from_secs(2), || async {
        (gauge(&connector, "rmsc_caller_connections_parked").await != 0).then_some(())
    })
    .await;
    assert!(parked_meanwhile.is_none(), "parked with half a request");
    stream
        .write_all(b"thz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let second = read_until(&mut stream, "ok\n").await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    assert!(
        !second.to_ascii_lowercase().contains("connection: close"),
        "{second}"
    );
    stream.write_all(HEALTH.as_bytes()).await.expect("write");
    let third = read_until(&mut stream, "ok\n").await;
    assert!(
        third.starts_with("HTTP/1.1 200"),
        "still kept alive: {third}"
    );
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_that_stops_half_way_is_still_cut_off() {
    let lab = Lab::start().await.expect("lab");
    let connector = connector(&lab).await;
    let mut stream = answered_with_the_next_request_begun(&connector).await;
    // Replaying the unfinished head must not restart the 3 s header timeout every time the
    // connection would park: the connector closes it (hyper answers 408 first).
    let started = std::time::Instant::now();
    let rest = read_until(&mut stream, "\u{0}never").await;
    assert!(
        rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
        "{rest}"
    );
    assert!(started.elapsed() < Duration::from_secs(9), "closed in time");
    connector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_silent_connections_are_closed() {
    let lab = Lab::start().await.expect("lab");
    let connector = connector(&lab).await;
    // Idle after a request: closed by the 3 s keep-alive timeout while parked.
    let mut used = TcpStream::connect(connector.http).await.expect("connect");
    used.write_all(HEALTH.as_bytes()).await.expect("write");
    assert!(read_until(&mut used, "ok\n")
        .await
        .starts_with("HTTP/1.1 200"));
    // Silent from the start: closed by the 3 s header timeout.
    let mut silent = TcpStream::connect(connector.http).await.expect("connect");
    wait_gauge(&connector, "rmsc_caller_connections_parked", 2).await;
    let started = std::time::Instant::now();
    assert_eq!(read_until(&mut used, "\u{0}never").await, "");
    assert_eq!(read_until(&mut silent, "\u{0}never").await, "");
    assert!(started.elapsed() < Duration::from_secs(8), "closed in time");
    wait_gauge(&connector, "rmsc_caller_connections", 0).await;
    assert_eq!(gauge(&connector, "rmsc_caller_connections_parked").await, 0);
    connector.shutdown().await;
}
