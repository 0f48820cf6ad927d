//! Stand-in-only endpoints under `/_standin/` (not part of the upstream contract): the call
//! record, fault injection, and tenant facts. They are never faulted themselves.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rmsc_contract::{caller_headers, ErrorCode, TenantInfo};

use crate::auth::{connector, ConnInfo};
use crate::calls::{CallOutcome, CallRecord};
use crate::context::Ctx;
use crate::faults::{FaultMode, FaultPlan, FaultScope};
use crate::http_util::{cloud_error, invalid_request, json};

/// Path prefix of the stand-in's own endpoints.
pub const CONTROL_PREFIX: &str = "/_standin/";
/// Path prefix of relayed SOAP calls.
pub const RELAY_PREFIX: &str = "/tenants/";

/// `GET /_standin/calls`.
pub async fn calls(State(ctx): State<Arc<Ctx>>) -> Response {
    json(StatusCode::OK, &ctx.calls.snapshot())
}

/// `POST /_standin/calls/clear`.
pub async fn clear_calls(State(ctx): State<Arc<Ctx>>) -> Response {
    ctx.calls.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_standin/faults`: the current plan or `null`.
pub async fn get_faults(State(ctx): State<Arc<Ctx>>) -> Response {
    json(StatusCode::OK, &ctx.faults.current())
}

/// `POST /_standin/faults` with a [`FaultPlan`].
pub async fn set_faults(
    State(ctx): State<Arc<Ctx>>,
    plan: Result<Json<FaultPlan>, JsonRejection>,
) -> Response {
    let Ok(Json(plan)) = plan else {
        return invalid_request("expected a JSON FaultPlan");
    };
    if let Err(e) = plan.validate() {
        return invalid_request(e.to_string());
    }
    ctx.faults.set(plan);
    tracing::info!(?plan, "fault plan set");
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /_standin/faults`.
pub async fn clear_faults(State(ctx): State<Arc<Ctx>>) -> Response {
    ctx.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_standin/tenants`: every tenant's discovery answer by short name.
pub async fn tenants(State(ctx): State<Arc<Ctx>>) -> Response {
    let map: BTreeMap<String, TenantInfo> = ctx
        .state
        .tenants()
        .iter()
        .map(|t| (t.name.clone(), t.info()))
        .collect();
    json(StatusCode::OK, &map)
}

/// Middleware that applies the fault plan to every request outside `/_standin/`.
pub async fn inject_faults(
    State(ctx): State<Arc<Ctx>>,
    conn: Option<Extension<ConnInfo>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with(CONTROL_PREFIX) {
        return next.run(request).await;
    }
    let relay = path.starts_with(RELAY_PREFIX);
    let scope = if relay {
        FaultScope::Relay
    } else {
        FaultScope::Control
    };
    let Some(strike) = ctx.faults.strike(scope) else {
        return next.run(request).await;
    };
    if relay && strike.mode != FaultMode::None {
        record_injected(&ctx, conn.as_deref(), &request, strike.mode);
    }
    if !strike.latency.is_zero() {
        tokio::time::sleep(strike.latency).await;
    }
    match strike.mode {
        FaultMode::None => next.run(request).await,
        FaultMode::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            cloud_error(
                status,
                ErrorCode::ServiceUnavailable,
                format!("injected fault: HTTP {code}"),
            )
        }
        FaultMode::Reset => {
            // The connection task drops the connection when this fires; no answer is sent.
            if let Some(conn) = conn {
                conn.kill.cancel();
            }
            std::future::pending().await
        }
        FaultMode::Stall => std::future::pending().await,
    }
}

fn record_injected(ctx: &Ctx, conn: Option<&ConnInfo>, request: &Request, mode: FaultMode) {
    let headers = request.headers();
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let path = request.uri().path();
    let tenant = path
        .strip_prefix(RELAY_PREFIX)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let status = match mode {
        FaultMode::Status(code) => code,
        _ => 0,
    };
    ctx.calls.record(CallRecord {
        seq: 0,
        time_ms: 0,
        tenant,
        connector_id: connector(ctx, conn).map(|(id, _)| id).unwrap_or_default(),
        caller_account: text(caller_headers::ACCOUNT),
        caller_sid: text(caller_headers::SID),
        role: text(caller_headers::ROLE),
        operation: path.to_owned(),
        outcome: CallOutcome::Injected,
        status,
    });
}
