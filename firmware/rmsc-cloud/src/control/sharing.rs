//! The cloud calls of appliance pairing and the shared configuration
//! (`docs/upstream-contract.md`, "Shared configuration"): filing and reading join requests
//! (bearer or connector), answering them and reading/writing the sealed shared configuration
//! (connector only). The payloads are opaque here; `rmsc-pairing` seals and opens them.

use super::{bearer, check_etag, decode, parse_etag, status_error, to_json, Payload};
use super::{ConnectorApi, ControlClient};
use crate::error::CloudCallError;
use http::header::ETAG;
use http::{Method, StatusCode};
use rmsc_contract::{
    paths, JoinAnswer, JoinRecord, JoinRequest, SharedConfiguration, SharedConfigurationUpdate,
};
use std::time::Duration;

/// Result of a conditional shared-configuration read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedRead {
    /// The generation given is still current.
    Unchanged,
    /// Nobody has shared a configuration yet.
    Nothing,
    Current(SharedConfiguration),
}

/// Result of a shared-configuration write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedWrite {
    Written(SharedConfiguration),
    /// Another appliance wrote first; this is the generation it wrote.
    Conflict {
        current: u64,
    },
}

/// Result of answering a join request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerOutcome {
    Answered,
    /// Someone answered first.
    AlreadyAnswered,
    /// The request expired or was never filed.
    Gone,
}

fn read_record(
    operation: &'static str,
    status: StatusCode,
    body: &[u8],
) -> Result<Option<JoinRecord>, CloudCallError> {
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    decode(operation, status, body).map(Some)
}

impl ControlClient {
    /// Files a join request with a signed-in administrator's token.
    pub async fn file_join_request(
        &self,
        token: &str,
        request_id: &str,
        request: &JoinRequest,
    ) -> Result<JoinRecord, CloudCallError> {
        let payload = to_json("join request", request)?;
        self.endpoint
            .json(
                "join request",
                Method::PUT,
                &paths::join_request(request_id),
                &[bearer(token)],
                payload,
            )
            .await
    }

    /// Reads a join request (with its answer once there is one); `None` when it is gone.
    pub async fn read_join_request(
        &self,
        token: &str,
        request_id: &str,
    ) -> Result<Option<JoinRecord>, CloudCallError> {
        let (status, _, body) = self
            .endpoint
            .exchange(
                "join request",
                Method::GET,
                &paths::join_request(request_id),
                &[bearer(token)],
                Payload::None,
            )
            .await?;
        read_record("join request", status, &body)
    }
}

impl ConnectorApi {
    /// Reads a join request filed under an id this appliance's pairing code derives.
    pub async fn read_join_request(
        &self,
        request_id: &str,
    ) -> Result<Option<JoinRecord>, CloudCallError> {
        let (status, _, body) = self
            .endpoint
            .exchange(
                "join request",
                Method::GET,
                &paths::join_request(request_id),
                &[],
                Payload::None,
            )
            .await?;
        read_record("join request", status, &body)
    }

    /// Answers a join request.
    pub async fn answer_join_request(
        &self,
        request_id: &str,
        answer: &JoinAnswer,
    ) -> Result<AnswerOutcome, CloudCallError> {
        let payload = to_json("join answer", answer)?;
        let (status, _, body) = self
            .endpoint
            .exchange(
                "join answer",
                Method::PUT,
                &paths::join_answer(request_id),
                &[],
                payload,
            )
            .await?;
        match status {
            s if s.is_success() => Ok(AnswerOutcome::Answered),
            StatusCode::PRECONDITION_FAILED => Ok(AnswerOutcome::AlreadyAnswered),
            StatusCode::NOT_FOUND => Ok(AnswerOutcome::Gone),
            s => Err(status_error("join answer", s, &body)),
        }
    }

    /// Reads the shared configuration; with `known` it is conditional, with `wait` it
    /// long-polls.
    pub async fn read_shared(
        &self,
        known: Option<u64>,
        wait: Option<Duration>,
    ) -> Result<SharedRead, CloudCallError> {
        let (status, hdrs, body) = self
            .endpoint
            .conditional_get(
                "shared configuration",
                paths::SHARED_CONFIGURATION,
                known,
                wait,
            )
            .await?;
        match status {
            StatusCode::NOT_MODIFIED => Ok(SharedRead::Unchanged),
            StatusCode::NOT_FOUND => Ok(SharedRead::Nothing),
            _ => {
                let shared: SharedConfiguration = decode("shared configuration", status, &body)?;
                check_etag("shared configuration", &hdrs, shared.generation)?;
                Ok(SharedRead::Current(shared))
            }
        }
    }

    /// Writes the next generation of the shared configuration.
    pub async fn write_shared(
        &self,
        update: &SharedConfigurationUpdate,
    ) -> Result<SharedWrite, CloudCallError> {
        let payload = to_json("shared configuration", update)?;
        let (status, hdrs, body) = self
            .endpoint
            .exchange(
                "shared configuration",
                Method::PUT,
                paths::SHARED_CONFIGURATION,
                &[],
                payload,
            )
            .await?;
        if status == StatusCode::PRECONDITION_FAILED {
            let current = hdrs
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_etag)
                .unwrap_or(0);
            return Ok(SharedWrite::Conflict { current });
        }
        decode("shared configuration", status, &body).map(SharedWrite::Written)
    }
}
