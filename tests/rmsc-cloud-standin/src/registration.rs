//! Connector registrations: register from a CSR (bearer), renew (mutual TLS), deregister,
//! list, and heartbeats.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rmsc_contract::{
    ConnectorInfo, ErrorCode, Heartbeat, RegisterRequest, RegisterResponse, RenewRequest,
};

use crate::auth::{principal, unknown_connector, Accept, ConnInfo, Principal};
use crate::context::Ctx;
use crate::http_util::{cloud_error, invalid_request, json, ApiError};
use crate::state::{CertRecord, Connector};
use crate::tls::TlsError;

const MAX_NAME_LEN: usize = 255;

fn check_name(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.len() > MAX_NAME_LEN || value.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_request(format!(
            "{field} must be 1 to {MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(())
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn not_found() -> Response {
    cloud_error(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such connector",
    )
}

/// Signs a CSR for `connector_id` and remembers the certificate.
fn issue(
    ctx: &Ctx,
    csr_pem: &str,
    connector_id: &str,
    tenant_id: &str,
) -> Result<RegisterResponse, ApiError> {
    let validity = Duration::from_secs(ctx.config.cert_validity_secs);
    let cert = ctx
        .connector_ca
        .sign_csr(csr_pem, connector_id, validity)
        .map_err(|e| match e {
            TlsError::BadCsr => ApiError::invalid_request("csr_pem is not a valid PKCS#10 request"),
            other => {
                tracing::error!(error = %other, "signing a connector certificate failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::ServiceUnavailable,
                    "signing failed",
                )
            }
        })?;
    ctx.state.registry().certs.insert(
        cert.fingerprint,
        CertRecord {
            connector_id: connector_id.to_owned(),
            not_after: cert.not_after,
        },
    );
    Ok(RegisterResponse {
        connector_id: connector_id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        certificate_pem: cert.pem,
        ca_pem: ctx.connector_ca_pem.clone(),
        not_after: cert.not_after,
    })
}

/// `POST /api/v1/connectors` (bearer).
pub async fn register(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Response {
    let who = match principal(&ctx, &headers, conn.as_deref(), Accept::Bearer) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Ok(Json(request)) = body else {
        return invalid_request("expected a JSON RegisterRequest");
    };
    for (field, value) in [
        ("connector_name", &request.connector_name),
        ("appliance_name", &request.appliance_name),
        ("version", &request.version),
    ] {
        if let Err(e) = check_name(field, value) {
            return e.into_response();
        }
    }
    let connector_id = uuid::Uuid::new_v4().to_string();
    let tenant_id = who.tenant_id().to_owned();
    let answer = match issue(&ctx, &request.csr_pem, &connector_id, &tenant_id) {
        Ok(answer) => answer,
        Err(e) => return e.into_response(),
    };
    ctx.state.registry().connectors.insert(
        connector_id.clone(),
        Connector {
            info: ConnectorInfo {
                connector_id: connector_id.clone(),
                connector_name: request.connector_name,
                appliance_name: request.appliance_name,
                version: request.version,
                address: String::new(),
                ready: false,
                last_seen: 0,
                not_after: answer.not_after,
            },
            tenant_id,
            revoked: false,
        },
    );
    tracing::info!(%connector_id, by = %who.audit_name(), "connector registered");
    json(StatusCode::OK, &answer)
}

/// The connector on this connection, which must be the one named in the path.
fn same_connector(
    ctx: &Ctx,
    headers: &HeaderMap,
    conn: Option<&ConnInfo>,
    id: &str,
) -> Result<String, ApiError> {
    match principal(ctx, headers, conn, Accept::Mtls)? {
        Principal::Connector { id: own, tenant_id } if own == id => Ok(tenant_id),
        _ => Err(unknown_connector()),
    }
}

/// `POST /api/v1/connectors/{id}/renew` (mutual TLS with the current certificate).
pub async fn renew(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    body: Result<Json<RenewRequest>, JsonRejection>,
) -> Response {
    let tenant_id = match same_connector(&ctx, &headers, conn.as_deref(), &id) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let Ok(Json(request)) = body else {
        return invalid_request("expected a JSON RenewRequest");
    };
    let answer = match issue(&ctx, &request.csr_pem, &id, &tenant_id) {
        Ok(answer) => answer,
        Err(e) => return e.into_response(),
    };
    if let Some(connector) = ctx.state.registry().connectors.get_mut(&id) {
        connector.info.not_after = answer.not_after;
    }
    tracing::info!(connector_id = %id, "connector certificate renewed");
    json(StatusCode::OK, &answer)
}

/// `DELETE /api/v1/connectors/{id}` (the connector itself, or a bearer of its tenant).
pub async fn deregister(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
) -> Response {
    let who = match principal(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if matches!(&who, Principal::Connector { id: own, .. } if own != &id) {
        return unknown_connector().into_response();
    }
    let mut registry = ctx.state.registry();
    match registry.connectors.get_mut(&id) {
        Some(c) if c.tenant_id == who.tenant_id() && !c.revoked => {
            c.revoked = true;
            drop(registry);
            tracing::info!(connector_id = %id, by = %who.audit_name(), "connector deregistered");
            StatusCode::NO_CONTENT.into_response()
        }
        _ => not_found(),
    }
}

/// `GET /api/v1/connectors` (a connector or a bearer of the tenant).
pub async fn list(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
) -> Response {
    match principal(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(who) => json(StatusCode::OK, &ctx.state.connectors(who.tenant_id())),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/connectors/{id}/heartbeat` (mutual TLS).
pub async fn heartbeat(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    body: Result<Json<Heartbeat>, JsonRejection>,
) -> Response {
    if let Err(e) = same_connector(&ctx, &headers, conn.as_deref(), &id) {
        return e.into_response();
    }
    let Ok(Json(beat)) = body else {
        return invalid_request("expected a JSON Heartbeat");
    };
    if let Some(connector) = ctx.state.registry().connectors.get_mut(&id) {
        connector.info.appliance_name = beat.appliance_name;
        connector.info.version = beat.version;
        connector.info.address = beat.address;
        connector.info.ready = beat.ready;
        connector.info.last_seen = now_unix();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Revokes a registration from the lib API; `false` if unknown or already revoked.
pub fn revoke(ctx: &Ctx, id: &str) -> bool {
    let mut registry = ctx.state.registry();
    match registry.connectors.get_mut(id) {
        Some(c) if !c.revoked => {
            c.revoked = true;
            true
        }
        _ => false,
    }
}
