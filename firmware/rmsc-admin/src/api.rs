//! The JSON API over [`Admin`]. The daemon serves it on a local socket for the command line;
//! the web UI mounts the same router behind its session authentication, which then sets the
//! acting administrator.

use crate::error::AdminError;
use crate::handlers as h;
use crate::kerberos::KeytabStatus;
use crate::list_edit::NewEntry;
use crate::ops::{Admin, DeviceSignIn, SignedIn, Status};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rmsc_contract::{AuthorizedList, DeviceCodeResponse};
use rmsc_store::{EventFilter, EventLevel, EventRecord};
use serde::Deserialize;
use std::sync::Arc;

/// Header naming the acting administrator; set by the trusted front end (the local socket
/// is root-only; the web UI sets it from its session).
pub const ACTOR_HEADER: &str = "x-rmsc-actor";

type Shared = State<Arc<Admin>>;

pub fn router(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/signin/password", post(sign_in_password))
        .route("/api/v1/signin/device", post(start_device))
        .route("/api/v1/signin/device/poll", post(poll_device))
        .route("/api/v1/registration", post(register).delete(deregister))
        .route("/api/v1/authorized", get(list).post(add))
        .route("/api/v1/authorized/{key}", delete(remove))
        .route("/api/v1/events", get(events))
        .route(
            "/api/v1/keytab",
            get(keytab_status).put(keytab_upload).delete(keytab_remove),
        )
        .route("/api/v1/events/download", get(h::events_download))
        .route("/api/v1/stats", get(h::stats))
        .route("/api/v1/appliances", get(h::appliances))
        .route(
            "/api/v1/pairing",
            get(crate::pairing_api::status)
                .post(crate::pairing_api::start)
                .delete(crate::pairing_api::cancel),
        )
        .route("/api/v1/join", post(crate::pairing_api::join))
        .route(
            "/api/v1/certificate",
            get(h::certificate_status).post(h::certificate_upload),
        )
        .route("/api/v1/certificate/csr", post(h::certificate_csr))
        .route(
            "/api/v1/certificate/self-signed",
            post(h::certificate_self_signed),
        )
        .route("/api/v1/directory/search", get(h::directory_search))
        .route(
            "/api/v1/settings/directory",
            get(h::directory_settings).put(h::set_directory_settings),
        )
        .route("/api/v1/serverconfig", get(h::server_config))
        .route("/api/v1/backup", post(h::backup))
        .route("/api/v1/restore", post(h::restore))
        .route(
            "/api/v1/settings/network",
            get(h::network_settings).put(h::set_network_settings),
        )
        .route(
            "/api/v1/settings/proxy",
            get(h::proxy_settings).put(h::set_proxy_settings),
        )
        .route("/api/v1/settings/proxy/test", post(h::proxy_test))
        .route("/api/v1/maintenance/reboot", post(h::reboot))
        .route("/api/v1/maintenance/shutdown", post(h::shutdown))
        .route("/api/v1/maintenance/factory-reset", post(h::factory_reset))
        .with_state(admin)
}

pub(crate) fn actor(headers: &HeaderMap) -> String {
    headers
        .get(ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|a| !a.is_empty() && a.len() <= 128)
        .unwrap_or("console")
        .to_owned()
}

async fn status(State(admin): Shared) -> Json<Status> {
    Json(admin.status())
}

#[derive(Deserialize)]
struct PasswordSignIn {
    username: String,
    password: String,
}

async fn sign_in_password(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<PasswordSignIn>,
) -> Result<Json<SignedIn>, AdminError> {
    Ok(Json(
        admin
            .sign_in_password(&body.username, &body.password, &actor(&headers))
            .await?,
    ))
}

async fn start_device(State(admin): Shared) -> Result<Json<DeviceCodeResponse>, AdminError> {
    Ok(Json(admin.start_device_sign_in().await?))
}

#[derive(Deserialize)]
struct DevicePollBody {
    device_code: String,
}

async fn poll_device(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<DevicePollBody>,
) -> Result<Json<DeviceSignIn>, AdminError> {
    Ok(Json(
        admin
            .poll_device_sign_in(&body.device_code, &actor(&headers))
            .await?,
    ))
}

#[derive(Deserialize)]
struct RegisterBody {
    connector_name: String,
}

async fn register(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<RegisterBody>,
) -> Result<Json<Status>, AdminError> {
    Ok(Json(
        admin
            .register(&body.connector_name, &actor(&headers))
            .await?,
    ))
}

async fn deregister(State(admin): Shared, headers: HeaderMap) -> Result<StatusCode, AdminError> {
    admin.deregister(&actor(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(State(admin): Shared) -> Json<AuthorizedList> {
    Json(admin.authorized_list())
}

async fn add(
    State(admin): Shared,
    headers: HeaderMap,
    Json(entry): Json<NewEntry>,
) -> Result<Json<AuthorizedList>, AdminError> {
    Ok(Json(admin.authorize_add(entry, &actor(&headers)).await?))
}

async fn remove(
    State(admin): Shared,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<AuthorizedList>, AdminError> {
    Ok(Json(admin.authorize_remove(&key, &actor(&headers)).await?))
}

#[derive(Deserialize)]
struct EventQuery {
    level: Option<EventLevel>,
    id: Option<u16>,
    text: Option<String>,
    before: Option<u64>,
    limit: Option<usize>,
}

async fn events(
    State(admin): Shared,
    Query(q): Query<EventQuery>,
) -> Result<Json<Vec<EventRecord>>, AdminError> {
    let filter = EventFilter {
        min_level: q.level,
        id: q.id,
        text: q.text,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100).min(10_000),
    };
    Ok(Json(admin.events(&filter)?))
}

async fn keytab_status(State(admin): Shared) -> Result<Json<KeytabStatus>, AdminError> {
    Ok(Json(admin.keytab_status()?))
}

async fn keytab_upload(
    State(admin): Shared,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<KeytabStatus>, AdminError> {
    Ok(Json(
        admin.upload_keytab(body.to_vec(), &actor(&headers)).await?,
    ))
}

async fn keytab_remove(State(admin): Shared, headers: HeaderMap) -> Result<StatusCode, AdminError> {
    admin.remove_keytab(&actor(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}
