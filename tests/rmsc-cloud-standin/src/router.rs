//! The HTTP routes of the stand-in: the upstream contract plus the `/_standin/` extensions,
//! behind the fault-injection middleware.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{middleware, Extension, Router};
use rmsc_contract::{paths, ErrorCode};

use crate::auth::{principal, Accept, ConnInfo};
use crate::context::Ctx;
use crate::http_util::{cloud_error, json};
use crate::{authorized, control, device_page, oauth, registration, relay, sharing};

/// `GET /api/v1/tenant`.
async fn tenant_info(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
) -> Response {
    let who = match principal(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match ctx.state.tenant_by_id(who.tenant_id()) {
        Some(tenant) => json(StatusCode::OK, &tenant.info()),
        None => cloud_error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such tenant"),
    }
}

async fn not_found() -> Response {
    cloud_error(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such endpoint",
    )
}

/// Every route, with shared state.
pub fn router(ctx: Arc<Ctx>) -> Router {
    let body_limit = ctx.config.max_body_bytes;
    Router::new()
        .route(paths::TOKEN, post(oauth::token))
        .route(paths::DEVICE_CODE, post(oauth::device_code))
        .route(
            paths::DEVICE_VERIFY,
            get(device_page::show).post(device_page::submit),
        )
        .route(paths::TENANT, get(tenant_info))
        .route(
            paths::CONNECTORS,
            post(registration::register).get(registration::list),
        )
        .route("/api/v1/connectors/{id}", delete(registration::deregister))
        .route("/api/v1/connectors/{id}/renew", post(registration::renew))
        .route(
            "/api/v1/connectors/{id}/heartbeat",
            post(registration::heartbeat),
        )
        .route(
            paths::AUTHORIZED_SERVERS,
            get(authorized::get).put(authorized::put),
        )
        .route(
            paths::SHARED_CONFIGURATION,
            get(sharing::read_shared).put(sharing::write_shared),
        )
        .route(
            "/api/v1/join-requests/{id}",
            get(sharing::read_request).put(sharing::file_request),
        )
        .route(
            "/api/v1/join-requests/{id}/answer",
            axum::routing::put(sharing::answer_request),
        )
        .route("/tenants/{tenant}/{*rest}", post(relay::relay))
        .route("/_standin/calls", get(control::calls))
        .route("/_standin/calls/clear", post(control::clear_calls))
        .route(
            "/_standin/faults",
            get(control::get_faults)
                .post(control::set_faults)
                .delete(control::clear_faults),
        )
        .route("/_standin/tenants", get(control::tenants))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            control::inject_faults,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(ctx)
}
