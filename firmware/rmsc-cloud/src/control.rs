//! The control-plane calls of the upstream contract (`docs/upstream-contract.md`): sign-in
//! and discovery with a bearer token, and the registered connector's own calls over mutual
//! TLS (authorized list, renewal, deregistration, heartbeat).

use crate::client::{CloudOptions, HttpClient};
use crate::error::{CloudCallError, CloudFailure};
use crate::relay::RelayClient;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use rmsc_contract::{
    etag_for, grant, parse_etag, paths, AuthorizedEntry, AuthorizedList, AuthorizedListUpdate,
    CloudError, ConnectorInfo, DeviceCodeResponse, Heartbeat, RegisterRequest, RegisterResponse,
    RenewRequest, TenantInfo, TokenResponse, CLIENT_ID,
};
use rmsc_store::Registration;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Largest control-plane answer accepted; lists of thousands of entries fit easily.
mod sharing;
pub use sharing::{AnswerOutcome, SharedRead, SharedWrite};

const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// A request body and how it is encoded.
enum Payload {
    None,
    Json(Vec<u8>),
    Form(String),
}

/// A plain HTTPS client bound to the cloud's base URL.
#[derive(Clone)]
struct Endpoint {
    options: Arc<CloudOptions>,
    http: HttpClient,
}

impl Endpoint {
    fn url(&self, path: &str) -> Result<Url, CloudCallError> {
        self.options
            .base_url
            .join(path)
            .map_err(|e| CloudCallError::new("url", CloudFailure::Protocol(e.to_string())))
    }

    /// Sends one request and returns status, headers and the whole (bounded) body.
    async fn send(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        headers: &[(&str, String)],
        payload: Payload,
        timeout: Duration,
    ) -> Result<(StatusCode, HeaderMap, Bytes), CloudCallError> {
        let fail = |failure| CloudCallError::new(operation, failure);
        let mut builder = Request::builder().method(method).uri(url.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        let body = match payload {
            Payload::None => Bytes::new(),
            Payload::Json(bytes) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                Bytes::from(bytes)
            }
            Payload::Form(text) => {
                builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(text)
            }
        };
        let request = builder
            .body(Full::new(body))
            .map_err(|e| fail(CloudFailure::Protocol(e.to_string())))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| fail(classify(&e)))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| fail(CloudFailure::Transport(e.to_string())))?
                .to_bytes();
            Ok((parts.status, parts.headers, bytes))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| fail(CloudFailure::Timeout))?
    }

    /// Sends a request to `path` with the usual response timeout.
    async fn exchange(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        payload: Payload,
    ) -> Result<(StatusCode, HeaderMap, Bytes), CloudCallError> {
        let url = self.url(path)?;
        self.send(
            operation,
            method,
            url,
            headers,
            payload,
            self.options.response_timeout,
        )
        .await
    }

    /// Sends a request and decodes a JSON answer, mapping error statuses to the contract's errors.
    async fn json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        payload: Payload,
    ) -> Result<T, CloudCallError> {
        let (status, _, body) = self
            .exchange(operation, method, path, headers, payload)
            .await?;
        decode(operation, status, &body)
    }
}

impl Endpoint {
    /// A `GET` of `path` that is conditional on `known` (If-None-Match) and, with `wait`,
    /// long-polls: the shape of both the list and the shared-configuration reads.
    async fn conditional_get(
        &self,
        operation: &'static str,
        path: &str,
        known: Option<u64>,
        wait: Option<Duration>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), CloudCallError> {
        let mut url = self.url(path)?;
        let mut timeout = self.options.response_timeout;
        if let Some(wait) = wait {
            url.query_pairs_mut()
                .append_pair("wait", &wait.as_secs().to_string());
            timeout += wait;
        }
        let headers: Vec<(&str, String)> = known
            .map(|v| (IF_NONE_MATCH.as_str(), etag_for(v)))
            .into_iter()
            .collect();
        self.send(
            operation,
            Method::GET,
            url,
            &headers,
            Payload::None,
            timeout,
        )
        .await
    }
}

/// Refuses an answer whose `ETag` names another version than its body.
fn check_etag(
    operation: &'static str,
    headers: &HeaderMap,
    version: u64,
) -> Result<(), CloudCallError> {
    let etag = headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_etag);
    if etag.is_some_and(|v| v != version) {
        return Err(CloudCallError::new(
            operation,
            CloudFailure::Protocol("ETag and version disagree".into()),
        ));
    }
    Ok(())
}

pub(crate) fn classify(error: &hyper_util::client::legacy::Error) -> CloudFailure {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_connect() {
        CloudFailure::Connect(text)
    } else {
        CloudFailure::Transport(text)
    }
}

fn decode<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    body: &[u8],
) -> Result<T, CloudCallError> {
    if status.is_success() {
        return serde_json::from_slice(body)
            .map_err(|e| CloudCallError::new(operation, CloudFailure::Protocol(e.to_string())));
    }
    Err(status_error(operation, status, body))
}

fn status_error(operation: &'static str, status: StatusCode, body: &[u8]) -> CloudCallError {
    CloudCallError::new(
        operation,
        CloudFailure::Status {
            status: status.as_u16(),
            error: serde_json::from_slice::<CloudError>(body).ok(),
        },
    )
}

fn to_json<T: Serialize>(operation: &'static str, value: &T) -> Result<Payload, CloudCallError> {
    serde_json::to_vec(value)
        .map(Payload::Json)
        .map_err(|e| CloudCallError::new(operation, CloudFailure::Protocol(e.to_string())))
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

/// Result of one poll of the device-code grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll {
    Pending,
    SlowDown,
    Done(TokenResponse),
}

/// Anonymous (bearer-token) control-plane calls: used before the appliance is registered.
#[derive(Clone)]
pub struct ControlClient {
    endpoint: Endpoint,
}

impl ControlClient {
    pub(crate) fn new(options: Arc<CloudOptions>, http: HttpClient) -> Self {
        Self {
            endpoint: Endpoint { options, http },
        }
    }

    /// Password grant. The password is form-encoded, so every character is allowed.
    pub async fn sign_in_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<TokenResponse, CloudCallError> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", grant::PASSWORD)
            .append_pair("client_id", CLIENT_ID)
            .append_pair("username", username)
            .append_pair("password", password)
            .finish();
        self.endpoint
            .json(
                "token",
                Method::POST,
                paths::TOKEN,
                &[],
                Payload::Form(form),
            )
            .await
    }

    /// Starts the device-code grant (RFC 8628).
    pub async fn start_device_code(&self) -> Result<DeviceCodeResponse, CloudCallError> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", CLIENT_ID)
            .finish();
        self.endpoint
            .json(
                "devicecode",
                Method::POST,
                paths::DEVICE_CODE,
                &[],
                Payload::Form(form),
            )
            .await
    }

    /// Polls the device-code grant once.
    pub async fn poll_device_code(&self, device_code: &str) -> Result<DevicePoll, CloudCallError> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", grant::DEVICE_CODE)
            .append_pair("client_id", CLIENT_ID)
            .append_pair("device_code", device_code)
            .finish();
        match self
            .endpoint
            .json(
                "token",
                Method::POST,
                paths::TOKEN,
                &[],
                Payload::Form(form),
            )
            .await
        {
            Ok(token) => Ok(DevicePoll::Done(token)),
            Err(e) => match e.code() {
                Some(rmsc_contract::ErrorCode::AuthorizationPending) => Ok(DevicePoll::Pending),
                Some(rmsc_contract::ErrorCode::SlowDown) => Ok(DevicePoll::SlowDown),
                _ => Err(e),
            },
        }
    }

    /// Tenant discovery.
    pub async fn tenant(&self, token: &str) -> Result<TenantInfo, CloudCallError> {
        self.endpoint
            .json(
                "tenant",
                Method::GET,
                paths::TENANT,
                &[bearer(token)],
                Payload::None,
            )
            .await
    }

    /// Registers this appliance from a CSR.
    pub async fn register(
        &self,
        token: &str,
        request: &RegisterRequest,
    ) -> Result<RegisterResponse, CloudCallError> {
        let payload = to_json("register", request)?;
        self.endpoint
            .json(
                "register",
                Method::POST,
                paths::CONNECTORS,
                &[bearer(token)],
                payload,
            )
            .await
    }

    /// Reads the authorized list with an administrator's token (before registration).
    pub async fn authorized_list(&self, token: &str) -> Result<AuthorizedList, CloudCallError> {
        self.endpoint
            .json(
                "list",
                Method::GET,
                paths::AUTHORIZED_SERVERS,
                &[bearer(token)],
                Payload::None,
            )
            .await
    }
}

/// Result of a conditional list read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRead {
    /// The version given is still current.
    Unchanged,
    Changed(AuthorizedList),
}

/// Result of a conditional list write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListWrite {
    Written(AuthorizedList),
    /// Someone else wrote first: re-read and apply the edit again.
    Conflict,
}

/// Calls a registered connector makes with its client certificate.
pub struct ConnectorApi {
    endpoint: Endpoint,
    relay: RelayClient,
    connector_id: String,
    /// Cloud clock minus ours, in seconds, from the `Date` of the last list answer (Kerberos
    /// fails beyond 5 minutes, so the dashboard shows it); `i64::MIN` until read.
    clock_skew_secs: std::sync::atomic::AtomicI64,
}

impl ConnectorApi {
    pub(crate) fn new(
        options: Arc<CloudOptions>,
        http: HttpClient,
        registration: &Registration,
    ) -> Self {
        Self {
            relay: RelayClient::new(options.clone(), http.clone(), &registration.relay_url),
            endpoint: Endpoint { options, http },
            connector_id: registration.connector_id.clone(),
            clock_skew_secs: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }

    /// The cloud's clock minus this appliance's, as last read; `None` before the first read.
    pub fn clock_skew_secs(&self) -> Option<i64> {
        let skew = self
            .clock_skew_secs
            .load(std::sync::atomic::Ordering::Relaxed);
        (skew != i64::MIN).then_some(skew)
    }

    /// Reads the `Date` header of an answer just received.
    fn note_cloud_clock(&self, headers: &HeaderMap) {
        let Some(cloud) = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        else {
            return;
        };
        let now = std::time::SystemTime::now();
        let skew = match cloud.duration_since(now) {
            Ok(ahead) => ahead.as_secs() as i64,
            Err(behind) => -(behind.duration().as_secs() as i64),
        };
        self.clock_skew_secs
            .store(skew, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn connector_id(&self) -> &str {
        &self.connector_id
    }

    /// The pooled client that relays SOAP calls.
    pub fn relay(&self) -> &RelayClient {
        &self.relay
    }

    /// Reads the list; with `known` it is conditional, with `wait` it long-polls.
    pub async fn read_list(
        &self,
        known: Option<u64>,
        wait: Option<Duration>,
    ) -> Result<ListRead, CloudCallError> {
        let (status, hdrs, body) = self
            .endpoint
            .conditional_get("list", paths::AUTHORIZED_SERVERS, known, wait)
            .await?;
        self.note_cloud_clock(&hdrs);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(ListRead::Unchanged);
        }
        let list: AuthorizedList = decode("list", status, &body)?;
        check_etag("list", &hdrs, list.version)?;
        Ok(ListRead::Changed(list))
    }

    /// Replaces the list if it is still at `version`.
    pub async fn write_list(
        &self,
        version: u64,
        entries: Vec<AuthorizedEntry>,
    ) -> Result<ListWrite, CloudCallError> {
        let payload = to_json("list", &AuthorizedListUpdate { entries })?;
        let headers = [(IF_MATCH.as_str(), etag_for(version))];
        let (status, _, body) = self
            .endpoint
            .exchange(
                "list",
                Method::PUT,
                paths::AUTHORIZED_SERVERS,
                &headers,
                payload,
            )
            .await?;
        if status == StatusCode::PRECONDITION_FAILED {
            return Ok(ListWrite::Conflict);
        }
        decode("list", status, &body).map(ListWrite::Written)
    }

    /// Asks for a new certificate for a fresh key.
    pub async fn renew(&self, csr_pem: &str) -> Result<RegisterResponse, CloudCallError> {
        let payload = to_json(
            "renew",
            &RenewRequest {
                csr_pem: csr_pem.to_owned(),
            },
        )?;
        self.endpoint
            .json(
                "renew",
                Method::POST,
                &paths::connector_renew(&self.connector_id),
                &[],
                payload,
            )
            .await
    }

    /// Removes this registration from the cloud.
    pub async fn deregister(&self) -> Result<(), CloudCallError> {
        let (status, _, body) = self
            .endpoint
            .exchange(
                "deregister",
                Method::DELETE,
                &paths::connector(&self.connector_id),
                &[],
                Payload::None,
            )
            .await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(status_error("deregister", status, &body))
        }
    }

    /// Tells the cloud this appliance is alive (for the tenant's list of appliances).
    pub async fn heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), CloudCallError> {
        let payload = to_json("heartbeat", heartbeat)?;
        let (status, _, body) = self
            .endpoint
            .exchange(
                "heartbeat",
                Method::POST,
                &paths::connector_heartbeat(&self.connector_id),
                &[],
                payload,
            )
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(status_error("heartbeat", status, &body))
        }
    }

    /// Every connector registered for the tenant.
    pub async fn connectors(&self) -> Result<Vec<ConnectorInfo>, CloudCallError> {
        self.endpoint
            .json(
                "connectors",
                Method::GET,
                paths::CONNECTORS,
                &[],
                Payload::None,
            )
            .await
    }
}
