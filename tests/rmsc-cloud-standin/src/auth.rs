//! Who is calling: a bearer token from the OAuth endpoints, or a connector identified by the
//! client certificate of its TLS connection (looked up by fingerprint, so only certificates
//! this stand-in issued count, and only while unexpired and unrevoked).

use axum::http::{header, HeaderMap, StatusCode};
use rmsc_contract::ErrorCode;
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::http_util::ApiError;
use crate::state::TokenInfo;

/// Facts about the TLS connection a request arrived on, put in the request extensions.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// SHA-256 of the client certificate, if one was presented and chained to the connector CA.
    pub peer_fingerprint: Option<[u8; 32]>,
    /// Cancelling it drops the connection (used by the `reset` fault).
    pub kill: CancellationToken,
}

/// An authenticated caller of the control plane.
#[derive(Debug, Clone)]
pub enum Principal {
    User(TokenInfo),
    Connector { id: String, tenant_id: String },
}

impl Principal {
    pub fn tenant_id(&self) -> &str {
        match self {
            Principal::User(token) => &token.tenant_id,
            Principal::Connector { tenant_id, .. } => tenant_id,
        }
    }

    /// For audit fields such as `added_by`.
    pub fn audit_name(&self) -> String {
        match self {
            Principal::User(token) => token.account.clone(),
            Principal::Connector { id, .. } => format!("connector:{id}"),
        }
    }
}

/// Which credentials an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Bearer,
    Mtls,
    Either,
}

fn invalid_token(description: &str) -> ApiError {
    ApiError {
        bearer_challenge: true,
        ..ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            description,
        )
    }
}

pub fn unknown_connector() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::UnknownConnector,
        "no valid connector client certificate on this connection",
    )
}

/// The bearer token of a request: `Ok(None)` without an Authorization header.
fn bearer(ctx: &Ctx, headers: &HeaderMap) -> Result<Option<TokenInfo>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| invalid_token("the Authorization header is not a bearer token"))?;
    let mut registry = ctx.state.registry();
    match registry.tokens.get(token) {
        Some(info) if info.expires_at > std::time::Instant::now() => Ok(Some(info.clone())),
        Some(_) => {
            registry.tokens.remove(token);
            Err(invalid_token("the token expired"))
        }
        None => Err(invalid_token("unknown token")),
    }
}

/// The connector behind the connection's client certificate: `(connector id, tenant id)`.
pub fn connector(ctx: &Ctx, conn: Option<&ConnInfo>) -> Option<(String, String)> {
    let fingerprint = conn?.peer_fingerprint?;
    let registry = ctx.state.registry();
    let cert = registry.certs.get(&fingerprint)?;
    if cert.not_after <= time::OffsetDateTime::now_utc().unix_timestamp() {
        return None;
    }
    let connector = registry.connectors.get(&cert.connector_id)?;
    (!connector.revoked).then(|| {
        (
            connector.info.connector_id.clone(),
            connector.tenant_id.clone(),
        )
    })
}

/// Authenticates a request with the credentials the endpoint accepts. A bearer token, when
/// sent, takes precedence over the connection's certificate.
pub fn principal(
    ctx: &Ctx,
    headers: &HeaderMap,
    conn: Option<&ConnInfo>,
    accept: Accept,
) -> Result<Principal, ApiError> {
    if accept != Accept::Mtls {
        if let Some(token) = bearer(ctx, headers)? {
            return Ok(Principal::User(token));
        }
    }
    if accept != Accept::Bearer {
        if let Some((id, tenant_id)) = connector(ctx, conn) {
            return Ok(Principal::Connector { id, tenant_id });
        }
        let presented = conn.is_some_and(|c| c.peer_fingerprint.is_some());
        if accept == Accept::Mtls || presented {
            return Err(unknown_connector());
        }
    }
    Err(invalid_token("a bearer token is required"))
}
