//! JSON handlers of pairing: the code shown on a serving appliance and the join on a new one
//! (`docs/admin-api.md`, "Pairing").

use crate::api::actor;
use crate::error::AdminError;
use crate::ops::Admin;
use crate::pairing::{JoinOutcome, PairingOffer, PairingStatus};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

type Shared = State<Arc<Admin>>;

pub(crate) async fn status(State(admin): Shared) -> Result<Json<PairingStatus>, AdminError> {
    Ok(Json(admin.pairing_status()?))
}

pub(crate) async fn start(
    State(admin): Shared,
    headers: HeaderMap,
) -> Result<Json<PairingOffer>, AdminError> {
    Ok(Json(admin.start_pairing(&actor(&headers)).await?))
}

pub(crate) async fn cancel(State(admin): Shared, headers: HeaderMap) -> StatusCode {
    admin.cancel_pairing(&actor(&headers)).await;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub(crate) struct JoinBody {
    code: String,
}

pub(crate) async fn join(
    State(admin): Shared,
    headers: HeaderMap,
    Json(body): Json<JoinBody>,
) -> Result<Json<JoinOutcome>, AdminError> {
    Ok(Json(admin.join(&body.code, &actor(&headers)).await?))
}
