//! `POST <relay_url>/_wmcs/<endpoint>`: SOAP calls relayed by registered connectors. The
//! caller headers are trusted only here, behind a valid connector certificate of the tenant.
//! Every call is recorded, whether answered, faulted or refused.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use rmsc_contract::{caller_headers, ErrorCode, Role};
use rmsc_soap::{
    check_action, extract_texts, fault, fault_status, find_endpoint, requested_action,
    response_envelope, validate_request, FaultKind, SoapVersion,
};

use crate::auth::{connector, unknown_connector, ConnInfo};
use crate::authorized::valid_sid;
use crate::body::Chunks;
use crate::calls::{CallOutcome, CallRecord};
use crate::context::{Ctx, MAX_PAD_BYTES};
use crate::http_util::{cloud_error, invalid_request};
use crate::operations::{answer, Caller};

const PAD_OPEN: &str = "<StandinPadding>";
/// The request's `VersionData` elements that the answer repeats.
const VERSION_ELEMENTS: [&str; 2] = ["MinimumVersion", "MaximumVersion"];
const PAD_CLOSE: &str = "</StandinPadding>";

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    let text = std::str::from_utf8(value.as_bytes()).ok()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn soap_fault(version: SoapVersion, kind: FaultKind, exception: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(fault_status(version, kind))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(version.content_type()),
        )],
        fault(version, kind, exception, message),
    )
        .into_response()
}

/// Whether the client accepts a gzip-compressed answer.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// The caller asserted by the connector, or why the headers are not acceptable.
fn caller(headers: &HeaderMap) -> Result<Caller, String> {
    let account = header_text(headers, caller_headers::ACCOUNT)
        .ok_or("the caller account header is missing")?;
    let sid =
        header_text(headers, caller_headers::SID).ok_or("the caller SID header is missing")?;
    if !valid_sid(&sid) {
        return Err("the caller SID header is not a SID".to_owned());
    }
    let role: Role = header_text(headers, caller_headers::ROLE)
        .ok_or("the caller role header is missing")?
        .parse()
        .map_err(|e: rmsc_contract::UnknownRole| e.to_string())?;
    Ok(Caller { account, sid, role })
}

/// `POST /tenants/{tenant}/{*rest}`.
pub async fn relay(
    State(ctx): State<Arc<Ctx>>,
    Path((tenant_id, rest)): Path<(String, String)>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    body: Bytes,
) -> Response {
    let mut record = CallRecord {
        seq: 0,
        time_ms: 0,
        tenant: tenant_id.clone(),
        connector_id: String::new(),
        caller_account: header_text(&headers, caller_headers::ACCOUNT).unwrap_or_default(),
        caller_sid: header_text(&headers, caller_headers::SID).unwrap_or_default(),
        role: header_text(&headers, caller_headers::ROLE).unwrap_or_default(),
        operation: format!("/{rest}"),
        outcome: CallOutcome::Refused,
        status: 0,
    };
    let response = handle(
        &ctx,
        &tenant_id,
        &rest,
        &headers,
        conn.as_deref(),
        &body,
        &mut record,
    );
    record.status = response.status().as_u16();
    ctx.calls.record(record);
    response
}

fn handle(
    ctx: &Ctx,
    tenant_id: &str,
    rest: &str,
    headers: &HeaderMap,
    conn: Option<&ConnInfo>,
    body: &[u8],
    record: &mut CallRecord,
) -> Response {
    let Some(tenant) = ctx.state.tenant_by_id(tenant_id) else {
        return cloud_error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such tenant");
    };
    match connector(ctx, conn) {
        Some((id, owner)) if owner == tenant.tenant_id => record.connector_id = id,
        _ => return unknown_connector().into_response(),
    }
    let endpoint = rest
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("_wmcs/"))
        .and_then(|_| find_endpoint(rest));
    let Some(endpoint) = endpoint else {
        return cloud_error(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such service endpoint",
        );
    };
    let caller = match caller(headers) {
        Ok(c) => c,
        Err(problem) => return invalid_request(problem),
    };
    let soap_action = headers.get("soapaction").and_then(|v| v.to_str().ok());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    record.outcome = CallOutcome::Fault;
    let (version, action) = match requested_action(soap_action, content_type) {
        Ok(found) => found,
        Err(e) => return soap_fault(SoapVersion::V11, FaultKind::Client, "", &e.to_string()),
    };
    let op = match check_action(endpoint, &action) {
        Ok(op) => op,
        Err(e) => return soap_fault(version, FaultKind::Client, "", &e.to_string()),
    };
    record.operation = op.label();
    if let Err(e) = validate_request(body, op) {
        return soap_fault(version, FaultKind::Client, "", &e.to_string());
    }
    let inner = match answer(tenant, op, &caller, body) {
        Ok(inner) => inner,
        Err(refusal) => {
            return soap_fault(
                version,
                FaultKind::Server,
                refusal.exception_type,
                &refusal.message,
            )
        }
    };
    record.outcome = CallOutcome::Ok;
    // One walk of the request for the three optional fields the answer depends on.
    let [pad_to, minimum, maximum] = extract_texts(
        body,
        ["StandinPadTo", VERSION_ELEMENTS[0], VERSION_ELEMENTS[1]],
    );
    let pad_to = pad_to
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map(|n| n.min(MAX_PAD_BYTES));
    let chunks = build_answer(ctx, version, op, &inner, pad_to, [minimum, maximum]);
    let gzip = accepts_gzip(headers);
    let chunks = if gzip {
        match chunks.gzip() {
            Ok(c) => c,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    } else {
        chunks
    };
    let mut response = Response::new(Body::new(chunks));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(version.content_type()),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// The response envelope, with the request's `VersionData` copied (`versions`: the texts of
/// [`VERSION_ELEMENTS`] in the request, where present) and optional padding.
fn build_answer(
    ctx: &Ctx,
    version: SoapVersion,
    op: &rmsc_soap::Operation,
    inner: &str,
    pad_to: Option<usize>,
    versions: [Option<String>; 2],
) -> Chunks {
    let mut envelope = match pad_to {
        Some(_) => response_envelope(version, op, &format!("{inner}{PAD_OPEN}{PAD_CLOSE}")),
        None => response_envelope(version, op, inner),
    };
    for (element, value) in VERSION_ELEMENTS.into_iter().zip(versions) {
        if let Some(value) = value {
            let default = format!(
                "<{element}>{}</{element}>",
                rmsc_soap::request::PROTOCOL_VERSION
            );
            let copied = format!(
                "<{element}>{}</{element}>",
                rmsc_soap::escape_xml(value.trim())
            );
            if default != copied {
                envelope = envelope.replacen(&default, &copied, 1);
            }
        }
    }
    let envelope = Bytes::from(envelope);
    match (pad_to, find(&envelope, PAD_OPEN.as_bytes())) {
        (Some(target), Some(at)) => {
            let split = at + PAD_OPEN.len();
            let fill = target.saturating_sub(envelope.len()).min(ctx.padding.len());
            Chunks::new([
                envelope.slice(..split),
                ctx.padding.slice(..fill),
                envelope.slice(split..),
            ])
        }
        _ => Chunks::new([envelope]),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_accepted_unless_refused_with_q_zero() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("deflate, GZIP;q=0.5"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(!accepts_gzip(&h));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn caller_headers_are_required_and_checked() {
        let mut h = HeaderMap::new();
        assert!(caller(&h).is_err());
        h.insert(
            caller_headers::ACCOUNT,
            HeaderValue::from_static("CONTOSO\\EXCH01$"),
        );
        h.insert(
            caller_headers::SID,
            HeaderValue::from_static("S-1-5-21-1-2-3-1001"),
        );
        h.insert(caller_headers::ROLE, HeaderValue::from_static("Exchange"));
        assert_eq!(caller(&h).map(|c| c.role), Ok(Role::Exchange));
        h.insert(caller_headers::ROLE, HeaderValue::from_static("admin"));
        assert!(caller(&h).is_err());
        h.insert(caller_headers::ROLE, HeaderValue::from_static("sharepoint"));
        h.insert(caller_headers::SID, HeaderValue::from_static("nope"));
        assert!(caller(&h).is_err());
    }
}
