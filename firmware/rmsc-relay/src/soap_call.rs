//! One SOAP call from a caller: authenticate, check the SOAPAction against the path,
//! authorize against the list, read and validate the body, then relay it to the cloud with
//! the caller's identity and role, streaming the answer back. Any refusal happens before a
//! single byte goes upstream.

use crate::body::{read_bounded, BodyError, IdleTimeoutBody};
use crate::reply::{Fault, RelayBody};
use crate::server::ConnCtx;
use crate::state::RelayState;
use bytes::Bytes;
use http::header::{self, HeaderName, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rmsc_cloud::CloudCallError;
use rmsc_contract::caller_headers;
use rmsc_identity::{authorize, AuthOutcome, CallerIdentity, RefusalReason};
use rmsc_soap::{
    check_action, requested_action, validate_request, Endpoint, Operation, SoapVersion,
};
use rmsc_telemetry::{EventId, Outcome};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

const EX_SOAP: &str = "System.Web.Services.Protocols.SoapException";
const EX_AUTHN: &str =
    "Microsoft.RightsManagementServices.Connector.AuthenticationRequiredException";
const EX_AUTHZ: &str = "Microsoft.RightsManagementServices.Connector.UnauthorizedServerException";
const EX_TOO_LARGE: &str = "Microsoft.RightsManagementServices.Connector.RequestTooLargeException";
const EX_UNAVAILABLE: &str =
    "Microsoft.RightsManagementServices.Connector.CloudServiceUnavailableException";
const EX_NOT_REGISTERED: &str =
    "Microsoft.RightsManagementServices.Connector.NotConfiguredException";

/// Request headers that travel upstream unchanged; everything else (notably `Authorization`,
/// hop-by-hop headers and any `x-rms-caller-*` a caller might forge) is dropped.
const FORWARDED_REQUEST_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::ACCEPT_ENCODING,
    header::CONTENT_ENCODING,
    header::ACCEPT,
    header::USER_AGENT,
];
const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");
/// The identity headers the cloud trusts from registered connectors; constants, so that
/// building them per request neither parses nor allocates their names.
const CALLER_ACCOUNT: HeaderName = HeaderName::from_static(caller_headers::ACCOUNT);
const CALLER_SID: HeaderName = HeaderName::from_static(caller_headers::SID);
const CALLER_ROLE: HeaderName = HeaderName::from_static(caller_headers::ROLE);
const CALLER_MATCHED_ENTRY: HeaderName = HeaderName::from_static(caller_headers::MATCHED_ENTRY);
/// Response headers that travel back to the caller unchanged.
const FORWARDED_RESPONSE_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LENGTH,
    header::VARY,
    header::CACHE_CONTROL,
];

/// How the call ended, for metrics.
struct Finish {
    operation: String,
    role: &'static str,
    outcome: Outcome,
}

pub async fn handle(
    state: &Arc<RelayState>,
    conn: &ConnCtx,
    endpoint: &'static Endpoint,
    request: Request<Incoming>,
) -> Response<RelayBody> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let mut finish = Finish {
        operation: "unknown".into(),
        role: "none",
        outcome: Outcome::BadRequest,
    };
    let mut cloud_time = Duration::ZERO;
    let response = match process(
        state,
        conn,
        endpoint,
        &parts.headers,
        body,
        &mut finish,
        &mut cloud_time,
    )
    .await
    {
        Ok(response) => response,
        Err((version, fault)) => fault.into_response(version),
    };
    state
        .metrics
        .request(&finish.operation, finish.role, finish.outcome);
    state
        .metrics
        .processing_time(started.elapsed().saturating_sub(cloud_time));
    response
}

type Refusal = (SoapVersion, Fault);

async fn process(
    state: &Arc<RelayState>,
    conn: &ConnCtx,
    endpoint: &'static Endpoint,
    headers: &HeaderMap,
    body: Incoming,
    finish: &mut Finish,
    cloud_time: &mut Duration,
) -> Result<Response<RelayBody>, Refusal> {
    let soap_action = headers.get(&SOAP_ACTION).and_then(|v| v.to_str().ok());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let action = requested_action(soap_action, content_type);
    let version = action.as_ref().map(|(v, _)| *v).unwrap_or(SoapVersion::V11);

    // Authentication first, as IIS does: an anonymous caller learns nothing else.
    let (identity, mutual_auth) = authenticate(state, conn, headers, finish)
        .await
        .map_err(|f| (version, f))?;

    let operation = action
        .map_err(|e| e.to_string())
        .and_then(|(_, a)| check_action(endpoint, &a).map_err(|e| e.to_string()))
        .map_err(|why| {
            (
                version,
                Fault::client(
                    StatusCode::BAD_REQUEST,
                    EX_SOAP,
                    format!("Server did not recognize the value of HTTP Header SOAPAction: {why}"),
                ),
            )
        })?;
    finish.operation = operation.label();

    let list = state.sync.current();
    let Some(grant) = authorize(&identity, &list.entries) else {
        finish.outcome = Outcome::Forbidden;
        if state
            .seen
            .let_through_for("2001", &identity.sid, Duration::from_secs(60))
        {
            state
                .events
                .record(
                    EventId::UnauthorizedAccess,
                    format!("Unauthorized access attempt by {} from {}: the account is not on the authorized-server list.", identity.account, conn.peer.ip()),
                    &[("account", &identity.account), ("sid", &identity.sid), ("address", &conn.peer.ip().to_string())],
                )
                .await;
        }
        return Err((
            version,
            Fault::client(
                StatusCode::FORBIDDEN,
                EX_AUTHZ,
                format!(
                    "The account {} is not authorized to use this connector.",
                    identity.account
                ),
            ),
        ));
    };
    let role = grant.role;
    let matched = grant
        .entry
        .sid
        .clone()
        .unwrap_or_else(|| grant.entry.account.clone());
    finish.role = role.as_str();

    let Some(api) = state.cloud.connector() else {
        finish.outcome = Outcome::Unavailable;
        return Err((
            version,
            Fault::server(
                StatusCode::SERVICE_UNAVAILABLE,
                EX_NOT_REGISTERED,
                "The connector is not registered with the cloud service yet.",
            )
            .retry_after(state.limits.retry_after_secs),
        ));
    };

    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = read_bounded(
        body,
        declared,
        state.limits.max_body_bytes,
        state.limits.body_idle_timeout,
        &state.body_budget,
    )
    .await
    .map_err(|e| (version, body_fault(&e, state.limits.retry_after_secs)))?;
    if body.bytes.is_empty() {
        return Err((
            version,
            Fault::client(StatusCode::BAD_REQUEST, EX_SOAP, "The request has no body."),
        ));
    }
    validate(state, headers, &body.bytes, operation).map_err(|why| {
        (
            version,
            Fault::client(StatusCode::BAD_REQUEST, EX_SOAP, why),
        )
    })?;

    note_first_contacts(state, conn, &identity).await;

    let path = endpoint.full_path();
    let sent = Instant::now();
    // Built per attempt rather than cloned: a retry on a fresh connection is rare.
    let upstream_headers = || upstream_headers(headers, &identity, role.as_str(), &matched);
    let result = api
        .relay()
        .forward(&path, upstream_headers, body.bytes.clone())
        .await;
    *cloud_time = sent.elapsed();
    state
        .metrics
        .cloud_response_time(&finish.operation, *cloud_time);
    drop(body);
    match result {
        Ok(upstream) if is_cloud_failure(upstream.status()) => {
            finish.outcome = Outcome::CloudError;
            tracing::warn!(status = %upstream.status(), operation = %operation, "cloud answered with a failure status");
            Err((
                version,
                unavailable(state, "The cloud service is unavailable."),
            ))
        }
        Ok(upstream) => {
            finish.outcome = Outcome::Relayed;
            Ok(relay_response(
                upstream,
                mutual_auth,
                api.relay().body_idle_timeout(),
            ))
        }
        Err(error) => {
            finish.outcome = Outcome::CloudError;
            log_cloud_error(&error, operation);
            Err((
                version,
                unavailable(
                    state,
                    "The cloud service could not be reached. Try again later.",
                ),
            ))
        }
    }
}

async fn authenticate(
    state: &Arc<RelayState>,
    conn: &ConnCtx,
    headers: &HeaderMap,
    finish: &mut Finish,
) -> Result<(Arc<CallerIdentity>, Option<HeaderValue>), Fault> {
    match state.identity.authenticate(headers, &conn.auth).await {
        AuthOutcome::Authenticated {
            identity,
            response_header,
        } => Ok((identity, response_header)),
        AuthOutcome::Refused {
            status,
            www_authenticate,
            reason,
        } => {
            finish.outcome = Outcome::Unauthenticated;
            if reason != RefusalReason::NoCredentials {
                tracing::info!(peer = %conn.peer, reason = ?reason, "caller authentication refused");
                if state.seen.let_through(
                    &format!("2000|{}|{}", conn.peer.ip(), reason.label()),
                    Duration::from_secs(60),
                ) {
                    let detail = format!("{reason:?}");
                    state
                        .events
                        .record(
                            EventId::NoValidIdentity,
                            format!(
                                "Request without a valid Windows identity from {}: {}",
                                conn.peer.ip(),
                                reason.caller_message()
                            ),
                            &[
                                ("address", &conn.peer.ip().to_string()),
                                ("reason", reason.label()),
                                ("detail", &detail),
                            ],
                        )
                        .await;
                }
            }
            let mut fault = Fault::client(status, EX_AUTHN, reason.caller_message());
            fault.www_authenticate = www_authenticate;
            Err(fault)
        }
    }
}

fn body_fault(error: &BodyError, retry_after: u32) -> Fault {
    match error {
        BodyError::TooLarge { limit } => Fault::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            EX_TOO_LARGE,
            format!("The request body is larger than the connector accepts ({limit} bytes)."),
        ),
        BodyError::Stalled(_) => Fault::client(
            StatusCode::REQUEST_TIMEOUT,
            EX_SOAP,
            "The request body was not received in time.",
        ),
        BodyError::OverBudget => Fault::server(
            StatusCode::SERVICE_UNAVAILABLE,
            EX_UNAVAILABLE,
            "The connector is busy. Try again shortly.",
        )
        .retry_after(retry_after),
        BodyError::Broken(_) => Fault::client(
            StatusCode::BAD_REQUEST,
            EX_SOAP,
            "The request body could not be read.",
        ),
    }
}

/// Checks the envelope; a gzip- or deflate-encoded body is inflated (bounded) for the check
/// only, and the original bytes go upstream untouched.
fn validate(
    state: &RelayState,
    headers: &HeaderMap,
    body: &Bytes,
    operation: &Operation,
) -> Result<(), String> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let limit = state.limits.max_decompressed_bytes as u64;
    let inflated;
    let plain: &[u8] = match encoding.as_str() {
        "identity" | "" => body,
        "gzip" | "x-gzip" => {
            inflated = inflate(flate2::read::GzDecoder::new(&body[..]), limit)?;
            &inflated
        }
        "deflate" => {
            inflated = inflate(flate2::read::ZlibDecoder::new(&body[..]), limit)?;
            &inflated
        }
        other => return Err(format!("Unsupported Content-Encoding {other:?}.")),
    };
    validate_request(plain, operation).map(|_| ()).map_err(|e| {
        format!(
            "The request is not a valid SOAP message for {}: {e}",
            operation.name
        )
    })
}

fn inflate(reader: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|_| "The compressed request body is corrupt.".to_owned())?;
    if out.len() as u64 > limit {
        return Err("The request body is too large once decompressed.".to_owned());
    }
    Ok(out)
}

/// Events 1002 (first contact of an authorized server) and 2002 (plain HTTP), each once per
/// account. The in-memory check keeps the store off the request path after the first time.
async fn note_first_contacts(state: &RelayState, conn: &ConnCtx, identity: &CallerIdentity) {
    if state
        .seen
        .let_through_for("1002", &identity.sid, Duration::MAX)
    {
        state
            .events
            .record_first(
                "authorized-server",
                &identity.sid,
                EventId::AuthorizedServerFirstSeen,
                format!(
                    "Authorized server {} connected for the first time from {}.",
                    identity.account,
                    conn.peer.ip()
                ),
                &[
                    ("account", &identity.account),
                    ("sid", &identity.sid),
                    ("computer", &conn.peer.ip().to_string()),
                ],
            )
            .await;
    }
    if !conn.secure
        && state
            .seen
            .let_through_for("2002", &identity.sid, Duration::MAX)
    {
        state
            .events
            .record_first(
                "plain-http",
                &identity.sid,
                EventId::PlainHttpClient,
                format!(
                    "{} uses plain HTTP; configure it to use the HTTPS connector URL.",
                    identity.account
                ),
                &[("account", &identity.account), ("sid", &identity.sid)],
            )
            .await;
    }
}

fn upstream_headers(
    headers: &HeaderMap,
    identity: &CallerIdentity,
    role: &'static str,
    matched: &str,
) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(10);
    for name in FORWARDED_REQUEST_HEADERS {
        if let Some(value) = headers.get(&name) {
            out.insert(name, value.clone());
        }
    }
    // The caller's own value (a cheap clone of hyper's bytes), when it is the visible ASCII
    // the SOAPAction check read.
    if let Some(action) = headers.get(&SOAP_ACTION).filter(|v| v.to_str().is_ok()) {
        out.insert(SOAP_ACTION, action.clone());
    }
    let mut put = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    put(CALLER_ACCOUNT, &identity.account);
    put(CALLER_SID, &identity.sid);
    put(CALLER_MATCHED_ENTRY, matched);
    out.insert(CALLER_ROLE, HeaderValue::from_static(role));
    out
}

/// 502/503/504 and similar mean the cloud could not serve; a 500 carrying a SOAP fault is the
/// cloud's answer to the call and goes back to the caller as is.
fn is_cloud_failure(status: StatusCode) -> bool {
    status.is_server_error() && status != StatusCode::INTERNAL_SERVER_ERROR
}

fn unavailable(state: &RelayState, message: &str) -> Fault {
    Fault::server(StatusCode::SERVICE_UNAVAILABLE, EX_UNAVAILABLE, message)
        .retry_after(state.limits.retry_after_secs)
}

fn log_cloud_error(error: &CloudCallError, operation: &Operation) {
    tracing::warn!(%error, operation = %operation, retry_safe = error.retry_safe(), side = "upstream", "relay to the cloud failed");
}

fn relay_response(
    upstream: Response<Incoming>,
    mutual_auth: Option<HeaderValue>,
    idle: Duration,
) -> Response<RelayBody> {
    let (parts, body) = upstream.into_parts();
    let mut response = Response::new(IdleTimeoutBody::new(body, idle).boxed());
    *response.status_mut() = parts.status;
    for name in FORWARDED_RESPONSE_HEADERS {
        if let Some(value) = parts.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(token) = mutual_auth {
        response.headers_mut().insert(WWW_AUTHENTICATE, token);
    }
    response
}
