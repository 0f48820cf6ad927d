//! Test helpers: a rustls HTTP client (optionally with a connector certificate), sign-in and
//! registration shortcuts, and relay calls with caller headers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rcgen::{CertificateParams, KeyPair};
use rmsc_cloud_standin::{RunningStandin, Standin, StandinConfig};
use rmsc_contract::{caller_headers, RegisterRequest, RegisterResponse, TokenResponse};
use rmsc_soap::Operation;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub const ADMIN: &str = "admin@contoso.test";
pub const ADMIN_PASSWORD: &str = rmsc_cloud_standin::ADMIN_PASSWORD;
pub const PASSWORD: &str = rmsc_cloud_standin::DEFAULT_PASSWORD;

/// An answer, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body {:?}: {e}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn error_code(&self) -> String {
        let v: serde_json::Value = self.json();
        v["error"].as_str().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// A client of one stand-in.
#[derive(Clone)]
pub struct TestClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    pub base: String,
}

fn tls_config(ca_pem: &str, identity: Option<(&str, &str)>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("ca pem")).expect("add root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots);
    match identity {
        Some((cert_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("cert pem");
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).expect("key pem");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        }
        None => builder.with_no_client_auth(),
    }
}

impl TestClient {
    pub fn new(standin: &RunningStandin) -> TestClient {
        Self::build(standin, None)
    }

    pub fn with_identity(standin: &RunningStandin, cert_pem: &str, key_pem: &str) -> TestClient {
        Self::build(standin, Some((cert_pem, key_pem)))
    }

    /// A client of a stand-in known only by its URL and root CA (e.g. the binary).
    pub fn for_url(base: &str, ca_pem: &str) -> TestClient {
        Self::build_raw(base, ca_pem, None)
    }

    fn build(standin: &RunningStandin, identity: Option<(&str, &str)>) -> TestClient {
        Self::build_raw(standin.base_url(), standin.ca_pem(), identity)
    }

    fn build_raw(base: &str, ca_pem: &str, identity: Option<(&str, &str)>) -> TestClient {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(ca_pem, identity))
            .https_only()
            .enable_http1()
            .build();
        TestClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            base: base.to_owned(),
        }
    }

    /// Sends a request to `url` (absolute) or `path` (relative to the base).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Resp {
        self.try_send(method, path, headers, body)
            .await
            .expect("request failed")
    }

    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Resp, String> {
        let url = if path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.into()))
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::GET, path, headers, Bytes::new()).await
    }

    pub async fn form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await
    }

    pub async fn json<T: serde::Serialize>(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        value: &T,
    ) -> Resp {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(method, path, &all, serde_json::to_vec(value).expect("json"))
            .await
    }
}

/// Starts a stand-in with a tweak of the default config.
pub async fn start_with(tweak: impl FnOnce(&mut StandinConfig)) -> RunningStandin {
    let mut config = StandinConfig::default();
    tweak(&mut config);
    Standin::start(config).await.expect("stand-in starts")
}

pub async fn start() -> RunningStandin {
    start_with(|_| {}).await
}

/// Password sign-in that must succeed.
pub async fn token(client: &TestClient, user: &str, password: &str) -> String {
    let resp = client
        .form(
            "/oauth2/token",
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json::<TokenResponse>().access_token
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A new key and CSR: `(key pem, csr pem)`.
pub fn csr() -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let csr = CertificateParams::default()
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");
    (key.serialize_pem(), csr)
}

/// A registered connector with a client that presents its certificate.
pub struct Registered {
    pub answer: RegisterResponse,
    pub key_pem: String,
    pub client: TestClient,
}

pub async fn register(standin: &RunningStandin, client: &TestClient, token: &str) -> Registered {
    let (key_pem, csr_pem) = csr();
    let request = RegisterRequest {
        connector_name: "rmsconnector.contoso.test".into(),
        appliance_name: "appliance-1".into(),
        version: "0.1.0".into(),
        csr_pem,
    };
    let auth = bearer(token);
    let resp = client
        .json(
            Method::POST,
            "/api/v1/connectors",
            &[("authorization", &auth)],
            &request,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let answer: RegisterResponse = resp.json();
    let client = TestClient::with_identity(standin, &answer.certificate_pem, &key_pem);
    Registered {
        answer,
        key_pem,
        client,
    }
}

/// Signs in as the admin and registers a connector.
pub async fn admin_connector(standin: &RunningStandin) -> Registered {
    let client = TestClient::new(standin);
    let token = token(&client, ADMIN, ADMIN_PASSWORD).await;
    register(standin, &client, &token).await
}

/// The caller headers of an on-premises server.
pub fn caller(
    account: &'static str,
    sid: &'static str,
    role: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        (caller_headers::ACCOUNT, account),
        (caller_headers::SID, sid),
        (caller_headers::ROLE, role),
    ]
}

pub const EXCHANGE: (&str, &str, &str) = ("CONTOSO\\EXCH01$", "S-1-5-21-1-2-3-1101", "exchange");
pub const SHAREPOINT: (&str, &str, &str) = ("CONTOSO\\spfarm", "S-1-5-21-1-2-3-1102", "sharepoint");
pub const FILESERVER: (&str, &str, &str) = ("CONTOSO\\FS01$", "S-1-5-21-1-2-3-1103", "fileserver");

/// Finds the operation by name at an endpoint path.
pub fn op(path: &str, name: &str) -> &'static Operation {
    rmsc_soap::find_endpoint(path)
        .and_then(|e| e.operation(name))
        .unwrap_or_else(|| panic!("{path} {name}"))
}

/// A relayed SOAP 1.1 call.
pub async fn relay(
    client: &TestClient,
    standin: &RunningStandin,
    path: &str,
    operation: &Operation,
    inner: &str,
    who: (&'static str, &'static str, &'static str),
    extra_headers: &[(&str, &str)],
) -> Resp {
    let info = standin.tenant_info("contoso").expect("contoso");
    let url = format!("{}/_wmcs/{path}", info.relay_url);
    let action = format!("\"{}\"", operation.soap_action());
    let mut headers = caller(who.0, who.1, who.2);
    headers.push(("content-type", "text/xml; charset=utf-8"));
    headers.push(("soapaction", &action));
    headers.extend_from_slice(extra_headers);
    client
        .send(
            Method::POST,
            &url,
            &headers,
            rmsc_cloud_standin::sample_request(operation, inner),
        )
        .await
}

/// Polls `check` until it returns `Some`, or panics at the deadline.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < end,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
