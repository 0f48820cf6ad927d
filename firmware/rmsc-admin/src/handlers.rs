//! Thin axum handlers of the appliance routes (certificate, directory, server configuration,
//! backup, settings, maintenance, statistics); the route table is in `api.rs`.

use crate::api::actor;
use crate::backup::BackupFile;
use crate::cert_view::CertificateStatus;
use crate::certificate::{CertificateUpload, CsrCreated};
use crate::directory::{DirectoryHit, DirectorySettings};
use crate::error::AdminError;
use crate::network::NetworkSettings;
use crate::ops::Admin;
use crate::proxy::{ProxySettings, ProxyTest, ProxyUpdate};
use crate::stats::{ApplianceInfo, Stats};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

type Shared = State<Arc<Admin>>;

/// A file download: the body with its type and an attachment disposition.
fn attachment(file_name: &str, content_type: &str, body: Vec<u8>) -> Response {
    // File names come from this crate and its libraries, but keep the header safe regardless.
    let safe: String = file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn certificate_status(
    State(admin): Shared,
) -> Result<Json<CertificateStatus>, AdminError> {
    Ok(Json(admin.certificate_status()?))
}

pub(crate) async fn certificate_upload(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<CertificateUpload>,
) -> Result<Json<CertificateStatus>, AdminError> {
    Ok(Json(
        admin.upload_certificate(body, &actor(&headers)).await?,
    ))
}

pub(crate) async fn certificate_csr(
    State(admin): Shared,
    headers: HeaderMap,
) -> Result<Json<CsrCreated>, AdminError> {
    Ok(Json(admin.create_csr(&actor(&headers)).await?))
}

pub(crate) async fn certificate_self_signed(
    State(admin): Shared,
    headers: HeaderMap,
) -> Result<Json<CertificateStatus>, AdminError> {
    Ok(Json(admin.self_signed_certificate(&actor(&headers)).await?))
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
}

pub(crate) async fn directory_search(
    State(admin): Shared,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<DirectoryHit>>, AdminError> {
    Ok(Json(admin.directory_search(&query.q, &query.kind).await?))
}

pub(crate) async fn directory_settings(
    State(admin): Shared,
) -> Result<Json<DirectorySettings>, AdminError> {
    Ok(Json(admin.directory_settings()?))
}

pub(crate) async fn set_directory_settings(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<DirectorySettings>,
) -> Result<Json<DirectorySettings>, AdminError> {
    Ok(Json(
        admin.set_directory_settings(body, &actor(&headers)).await?,
    ))
}

#[derive(Deserialize)]
pub(crate) struct ServerConfigQuery {
    #[serde(default)]
    role: String,
    #[serde(default = "default_format")]
    format: String,
    #[serde(default = "default_scheme")]
    scheme: String,
}

fn default_format() -> String {
    "reg".into()
}
fn default_scheme() -> String {
    "https".into()
}

pub(crate) async fn server_config(
    State(admin): Shared,
    Query(query): Query<ServerConfigQuery>,
) -> Result<Response, AdminError> {
    let file = admin.server_config(&query.role, &query.format, &query.scheme)?;
    Ok(attachment(&file.file_name, file.content_type, file.bytes))
}

#[derive(Deserialize)]
pub(crate) struct BackupBody {
    passphrase: String,
}

pub(crate) async fn backup(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<BackupBody>,
) -> Result<Response, AdminError> {
    let BackupFile { file_name, bytes } = admin.backup(&body.passphrase, &actor(&headers)).await?;
    Ok(attachment(&file_name, "application/octet-stream", bytes))
}

#[derive(Deserialize)]
pub(crate) struct RestoreBody {
    passphrase: String,
    backup_base64: String,
}

pub(crate) async fn restore(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<RestoreBody>,
) -> Result<StatusCode, AdminError> {
    admin
        .restore(&body.passphrase, &body.backup_base64, &actor(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn network_settings(
    State(admin): Shared,
) -> Result<Json<NetworkSettings>, AdminError> {
    Ok(Json(admin.network_settings()?))
}

pub(crate) async fn set_network_settings(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<NetworkSettings>,
) -> Result<Json<NetworkSettings>, AdminError> {
    Ok(Json(
        admin.set_network_settings(body, &actor(&headers)).await?,
    ))
}

pub(crate) async fn proxy_settings(
    State(admin): Shared,
) -> Result<Json<ProxySettings>, AdminError> {
    Ok(Json(admin.proxy_settings()?))
}

pub(crate) async fn set_proxy_settings(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<ProxyUpdate>,
) -> Result<Json<ProxySettings>, AdminError> {
    Ok(Json(
        admin.set_proxy_settings(body, &actor(&headers)).await?,
    ))
}

pub(crate) async fn proxy_test(State(admin): Shared) -> Result<Json<ProxyTest>, AdminError> {
    Ok(Json(admin.test_proxy().await?))
}

pub(crate) async fn reboot(
    State(admin): Shared,
    headers: HeaderMap,
) -> Result<StatusCode, AdminError> {
    admin.reboot(&actor(&headers)).await?;
    Ok(StatusCode::ACCEPTED)
}

pub(crate) async fn shutdown(
    State(admin): Shared,
    headers: HeaderMap,
) -> Result<StatusCode, AdminError> {
    admin.shutdown(&actor(&headers)).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub(crate) struct FactoryResetBody {
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn factory_reset(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<FactoryResetBody>,
) -> Result<StatusCode, AdminError> {
    admin.factory_reset(&body.confirm, &actor(&headers)).await?;
    Ok(StatusCode::ACCEPTED)
}

pub(crate) async fn stats(State(admin): Shared) -> Json<Stats> {
    Json(admin.stats())
}

pub(crate) async fn appliances(
    State(admin): Shared,
) -> Result<Json<Vec<ApplianceInfo>>, AdminError> {
    Ok(Json(admin.appliances().await?))
}

pub(crate) async fn events_download(State(admin): Shared) -> Result<Response, AdminError> {
    let text = admin.events_download()?;
    Ok(attachment(
        "rmsc-events.txt",
        "text/plain; charset=utf-8",
        text.into_bytes(),
    ))
}
