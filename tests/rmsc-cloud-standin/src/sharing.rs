//! What a connector's appliances share through the cloud: join requests filed under an id
//! derived from a pairing code (the joiner files with its bearer token or certificate, the
//! appliance showing the code answers over mutual TLS), and the sealed shared configuration
//! with generation-checked writes and a long-poll read. The cloud only stores these bytes; it
//! cannot read or forge them (see `rmsc-pairing`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use rmsc_contract::{
    ErrorCode, JoinAnswer, JoinRecord, JoinRequest, SharedConfiguration, SharedConfigurationUpdate,
    JOIN_REQUEST_TTL_SECS,
};

use crate::auth::{principal, Accept, ConnInfo, Principal};
use crate::authorized::{changed_within, none_match_hits, with_etag, WaitQuery};
use crate::context::Ctx;
use crate::http_util::{cloud_error, invalid_request, json, ApiError};
use crate::state::Tenant;

/// Join requests a tenant may have open at once.
const MAX_OPEN_JOINS: usize = 32;
/// Largest sealed shared configuration accepted (a certificate chain and a keytab fit easily).
const MAX_SHARED_BYTES: usize = 256 * 1024;
/// Largest sealed pairing answer (a group key and a connector name).
const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// A join request and when it lapses.
pub struct StoredJoin {
    pub record: JoinRecord,
    pub expires: Instant,
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Who calls (with the credentials `accept` allows) and their tenant.
fn caller(
    ctx: &Ctx,
    headers: &HeaderMap,
    conn: Option<&ConnInfo>,
    accept: Accept,
) -> Result<(Principal, Arc<Tenant>), ApiError> {
    let who = principal(ctx, headers, conn, accept)?;
    let tenant = ctx
        .state
        .tenant_by_id(who.tenant_id())
        .cloned()
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such tenant")
        })?;
    Ok((who, tenant))
}

/// Base64 of exactly `len` bytes (or at most `max` when `len` is 0).
fn check_b64(field: &str, value: &str, len: usize, max: usize) -> Result<(), String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| format!("{field} must be base64"))?;
    let fits = if len > 0 {
        decoded.len() == len
    } else {
        !decoded.is_empty() && decoded.len() <= max
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{field} has the wrong length"))
    }
}

fn valid_request_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn no_such_request() -> Response {
    cloud_error(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such join request (expired or never filed)",
    )
}

fn prune(joins: &mut std::collections::HashMap<String, StoredJoin>) {
    let now = Instant::now();
    joins.retain(|_, j| j.expires > now);
}

/// `PUT /api/v1/join-requests/{id}`: bearer (a signed-in administrator on the joining
/// appliance) or connector.
pub async fn file_request(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    Path(id): Path<String>,
    body: Result<Json<JoinRequest>, JsonRejection>,
) -> Response {
    let (who, tenant) = match caller(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(pair) => pair,
        Err(e) => return e.into_response(),
    };
    if !valid_request_id(&id) {
        return invalid_request("the join request id must be 32 hex digits");
    }
    let Ok(Json(request)) = body else {
        return invalid_request("the body must be a JoinRequest in JSON");
    };
    if let Err(r) = check_b64("public_key", &request.public_key, 32, 0) {
        return invalid_request(r);
    }
    if let Err(r) = check_b64("proof", &request.proof, 32, 0) {
        return invalid_request(r);
    }
    if request.appliance_name.len() > 253 || request.appliance_name.chars().any(char::is_control) {
        return invalid_request("appliance_name must be a host name");
    }
    let record = JoinRecord {
        request_id: id.clone(),
        requested_by: who.audit_name(),
        requested_at: now_unix(),
        request,
        answer: None,
        answered_by: None,
    };
    let mut joins = tenant.joins.lock().unwrap_or_else(|p| p.into_inner());
    prune(&mut joins);
    if !joins.contains_key(&id) && joins.len() >= MAX_OPEN_JOINS {
        return cloud_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "too many open join requests; try again in a few minutes",
        );
    }
    // Filing again (a joiner that restarted) replaces the request and any answer to it.
    joins.insert(
        id,
        StoredJoin {
            record: record.clone(),
            expires: Instant::now() + Duration::from_secs(JOIN_REQUEST_TTL_SECS),
        },
    );
    json(StatusCode::CREATED, &record)
}

/// `GET /api/v1/join-requests/{id}`.
pub async fn read_request(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    Path(id): Path<String>,
) -> Response {
    let (_, tenant) = match caller(&ctx, &headers, conn.as_deref(), Accept::Either) {
        Ok(pair) => pair,
        Err(e) => return e.into_response(),
    };
    let mut joins = tenant.joins.lock().unwrap_or_else(|p| p.into_inner());
    prune(&mut joins);
    match joins.get(&id) {
        Some(join) => json(StatusCode::OK, &join.record),
        None => no_such_request(),
    }
}

/// `PUT /api/v1/join-requests/{id}/answer`: only a registered connector answers.
pub async fn answer_request(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    Path(id): Path<String>,
    body: Result<Json<JoinAnswer>, JsonRejection>,
) -> Response {
    let (who, tenant) = match caller(&ctx, &headers, conn.as_deref(), Accept::Mtls) {
        Ok(pair) => pair,
        Err(e) => return e.into_response(),
    };
    let Ok(Json(answer)) = body else {
        return invalid_request("the body must be a JoinAnswer in JSON");
    };
    for (field, value, len, max) in [
        ("public_key", &answer.public_key, 32, 0),
        ("mac", &answer.mac, 32, 0),
        ("sealed", &answer.sealed, 0, MAX_ANSWER_BYTES),
    ] {
        if let Err(r) = check_b64(field, value, len, max) {
            return invalid_request(r);
        }
    }
    let mut joins = tenant.joins.lock().unwrap_or_else(|p| p.into_inner());
    prune(&mut joins);
    let Some(join) = joins.get_mut(&id) else {
        return no_such_request();
    };
    if join.record.answer.is_some() {
        return cloud_error(
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::PreconditionFailed,
            "this join request has already been answered",
        );
    }
    join.record.answer = Some(answer);
    join.record.answered_by = Some(who.audit_name());
    json(StatusCode::OK, &join.record)
}

fn shared_response(shared: &Option<Arc<SharedConfiguration>>) -> Response {
    match shared {
        Some(s) => with_etag(json(StatusCode::OK, s.as_ref()), s.generation),
        None => with_etag(
            cloud_error(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no shared configuration yet",
            ),
            0,
        ),
    }
}

/// `GET /api/v1/shared-configuration`: `If-None-Match` with `?wait=N` long-polls.
pub async fn read_shared(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    query: Result<Query<WaitQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (_, tenant) = match caller(&ctx, &headers, conn.as_deref(), Accept::Mtls) {
        Ok(pair) => pair,
        Err(e) => return e.into_response(),
    };
    let Ok(Query(query)) = query else {
        return invalid_request("wait must be a number of seconds");
    };
    let mut changes = tenant.shared.subscribe();
    let current = changes.borrow_and_update().clone();
    let generation = current.as_ref().map_or(0, |s| s.generation);
    if !none_match_hits(&headers, generation) {
        return shared_response(&current);
    }
    match changed_within(&mut changes, query.wait).await {
        Some(newer) => shared_response(&newer),
        None => with_etag(StatusCode::NOT_MODIFIED.into_response(), generation),
    }
}

/// `PUT /api/v1/shared-configuration`: the next generation, or 412 with the current one.
pub async fn write_shared(
    State(ctx): State<Arc<Ctx>>,
    headers: HeaderMap,
    conn: Option<Extension<ConnInfo>>,
    body: Result<Json<SharedConfigurationUpdate>, JsonRejection>,
) -> Response {
    let (who, tenant) = match caller(&ctx, &headers, conn.as_deref(), Accept::Mtls) {
        Ok(pair) => pair,
        Err(e) => return e.into_response(),
    };
    let Ok(Json(update)) = body else {
        return invalid_request("the body must be a SharedConfigurationUpdate in JSON");
    };
    if let Err(r) = check_b64("sealed", &update.sealed, 0, MAX_SHARED_BYTES) {
        return invalid_request(r);
    }
    let written = SharedConfiguration {
        generation: update.generation,
        sealed: update.sealed,
        updated_by: who.audit_name(),
        updated_at: now_unix(),
    };
    let mut current_generation = 0;
    let accepted = tenant.shared.send_if_modified(|shared| {
        current_generation = shared.as_ref().map_or(0, |s| s.generation);
        if written.generation != current_generation + 1 {
            return false;
        }
        *shared = Some(Arc::new(written.clone()));
        true
    });
    if accepted {
        with_etag(json(StatusCode::OK, &written), written.generation)
    } else {
        with_etag(
            cloud_error(
                StatusCode::PRECONDITION_FAILED,
                ErrorCode::PreconditionFailed,
                "another appliance wrote first: read the current generation and write the next",
            ),
            current_generation,
        )
    }
}
