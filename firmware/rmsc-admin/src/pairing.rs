//! Pairing: how a second appliance joins a connector without anybody copying private keys.
//! The appliance that already serves the connector shows a one-time code
//! ([`Admin::start_pairing`]); the administrator types it on the joining appliance
//! ([`Admin::join`]), which files a join request through the cloud with its one-time public
//! key and a proof that it saw the code. The first appliance's follower checks the proof and
//! answers with the group key and connector name, encrypted to that key and MACed with the
//! code; the joiner registers under that name and applies the shared configuration
//! (`sharing.rs`). The cloud carries every message and can read or forge none of them.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rmsc_cloud::{AnswerOutcome, SharedRead};
use rmsc_contract::{JoinAnswer, JoinRecord, JoinRequest, JOIN_REQUEST_TTL_SECS};
use rmsc_pairing::{GroupKey, JoinerKey, PairingCode, PairingError, PairingKeys, SealedAnswer};
use rmsc_telemetry::EventId;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::error::AdminError;
use crate::ops::{unix_now, Admin};

/// How long a joiner waits for the first appliance's answer.
const JOIN_WAIT: Duration = Duration::from_secs(60);
/// How often the joiner looks for the answer.
const JOIN_POLL: Duration = Duration::from_millis(500);
/// Appliances joined through this one that the status keeps.
const MAX_JOINED_SHOWN: usize = 16;

/// A code this appliance shows, until it is used, cancelled or expires.
pub(crate) struct ActivePairing {
    pub(crate) keys: PairingKeys,
    pub(crate) code: String,
    pub(crate) expires: Instant,
    pub(crate) expires_at: i64,
    pub(crate) created_by: String,
    /// A request whose proof failed, so it is not checked again every poll.
    pub(crate) refused_request_at: Option<i64>,
}

/// An appliance that joined with a code of this one.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JoinedAppliance {
    /// The joining appliance's name as it gave it.
    pub appliance_name: String,
    pub requested_by: String,
    pub joined_at: i64,
}

/// The code to show, answered once when it is made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PairingOffer {
    pub code: String,
    pub expires_at: i64,
    pub connector_name: String,
}

/// What the appliances page shows about pairing.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PairingStatus {
    pub active: bool,
    pub code: Option<String>,
    pub expires_at: Option<i64>,
    pub joined: Vec<JoinedAppliance>,
    pub sharing: crate::sharing::SharingStatus,
}

/// What a completed join installed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JoinOutcome {
    pub connector_name: String,
    pub certificate_installed: bool,
    pub keytab_installed: bool,
}

/// The plaintext of a pairing answer.
#[derive(Serialize, Deserialize)]
struct AnswerPlain {
    group_key: String,
    connector_name: String,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn pairing_refused(code: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::Refused {
        code,
        message: message.into(),
    }
}

fn code_error(error: PairingError) -> AdminError {
    match error {
        PairingError::MalformedCode => AdminError::InvalidSetting {
            field: "code",
            message: "Type the 16-character code shown on the first appliance, for example ABCD-EFGH-JKMN-PQRS.".into(),
        },
        PairingError::NotAuthentic(_) => pairing_refused(
            "not_authentic",
            "The answer was not made with this code: check the code and try again with a new one.",
        ),
        other => AdminError::Internal(other.to_string()),
    }
}

fn decode_answer(answer: &JoinAnswer) -> Result<SealedAnswer, AdminError> {
    let field = |v: &str| {
        B64.decode(v).map_err(|_| {
            pairing_refused(
                "not_authentic",
                "The answer arrived damaged; try again with a new code.",
            )
        })
    };
    Ok(SealedAnswer {
        public_key: field(&answer.public_key)?,
        sealed: field(&answer.sealed)?,
        mac: field(&answer.mac)?,
    })
}

impl Admin {
    /// Makes a one-time code for another appliance to join this connector. The first code
    /// also creates the group key and publishes this appliance's configuration.
    pub async fn start_pairing(&self, actor: &str) -> Result<PairingOffer, AdminError> {
        let connector_name = self.connector_name()?;
        if self.cloud.connector().is_none() {
            return Err(AdminError::NotRegistered);
        }
        if self.group_key()?.is_none() {
            let key = GroupKey::generate().map_err(|e| AdminError::Internal(e.to_string()))?;
            self.adopt_group_key(&key, true).await?;
        }
        let code = PairingCode::generate().map_err(|e| AdminError::Internal(e.to_string()))?;
        let keys = code
            .keys()
            .map_err(|e| AdminError::Internal(e.to_string()))?;
        let shown = code.display();
        let expires_at = unix_now() + JOIN_REQUEST_TTL_SECS as i64;
        *lock(&self.sharing.pairing) = Some(ActivePairing {
            keys,
            code: shown.clone(),
            expires: Instant::now() + Duration::from_secs(JOIN_REQUEST_TTL_SECS),
            expires_at,
            created_by: actor.to_owned(),
            refused_request_at: None,
        });
        self.sharing.wake.notify_one();
        self.record_change(
            actor,
            "pairing_code",
            "created a pairing code for another appliance",
        )
        .await;
        Ok(PairingOffer {
            code: shown,
            expires_at,
            connector_name,
        })
    }

    /// Withdraws the code shown, if any.
    pub async fn cancel_pairing(&self, actor: &str) {
        if lock(&self.sharing.pairing).take().is_some() {
            self.record_change(actor, "pairing_cancel", "withdrew the pairing code")
                .await;
        }
    }

    pub fn pairing_status(&self) -> Result<PairingStatus, AdminError> {
        let (active, code, expires_at) = match lock(&self.sharing.pairing).as_ref() {
            Some(p) if p.expires > Instant::now() => {
                (true, Some(p.code.clone()), Some(p.expires_at))
            }
            _ => (false, None, None),
        };
        Ok(PairingStatus {
            active,
            code,
            expires_at,
            joined: lock(&self.sharing.joined).clone(),
            sharing: self.sharing_status()?,
        })
    }

    /// The follower's pairing step: answers a join request filed under the active code.
    pub(crate) async fn answer_pending_join(&self) -> Result<(), AdminError> {
        let (request_id, stale) = match lock(&self.sharing.pairing).as_ref() {
            None => return Ok(()),
            Some(p) => (p.keys.request_id.clone(), p.expires <= Instant::now()),
        };
        if stale {
            lock(&self.sharing.pairing).take();
            return Ok(());
        }
        let Some(api) = self.cloud.connector() else {
            return Ok(());
        };
        let Some(record) = api.read_join_request(&request_id).await? else {
            return Ok(());
        };
        if record.answer.is_some() {
            return Ok(());
        }
        let sealed = {
            let pairing = lock(&self.sharing.pairing);
            let Some(pairing) = pairing.as_ref() else {
                return Ok(());
            };
            if pairing.refused_request_at == Some(record.requested_at) {
                return Ok(());
            }
            let public = B64.decode(&record.request.public_key).unwrap_or_default();
            let proof = B64.decode(&record.request.proof).unwrap_or_default();
            match rmsc_pairing::verify_join_proof(&pairing.keys, &public, &proof) {
                Err(error) => Err((error, record.requested_at)),
                Ok(()) => {
                    let key = self
                        .group_key()?
                        .ok_or_else(|| AdminError::Internal("the group key disappeared".into()))?;
                    let mut plain = serde_json::to_vec(&AnswerPlain {
                        group_key: B64.encode(key.as_bytes()),
                        connector_name: self.connector_name()?,
                    })
                    .map_err(|e| AdminError::Internal(e.to_string()))?;
                    let sealed = rmsc_pairing::seal_answer(&pairing.keys, &public, &plain)
                        .map_err(|e| AdminError::Internal(e.to_string()));
                    plain.zeroize();
                    Ok(sealed?)
                }
            }
        };
        let sealed = match sealed {
            Ok(s) => s,
            Err((error, requested_at)) => {
                if let Some(p) = lock(&self.sharing.pairing).as_mut() {
                    p.refused_request_at = Some(requested_at);
                }
                self.refused_join(&record, &error).await;
                return Ok(());
            }
        };
        let answer = JoinAnswer {
            public_key: B64.encode(&sealed.public_key),
            sealed: B64.encode(&sealed.sealed),
            mac: B64.encode(&sealed.mac),
        };
        match api.answer_join_request(&request_id, &answer).await? {
            AnswerOutcome::Answered => {
                let created_by = lock(&self.sharing.pairing)
                    .take()
                    .map(|p| p.created_by)
                    .unwrap_or_default();
                {
                    let mut joined = lock(&self.sharing.joined);
                    joined.insert(
                        0,
                        JoinedAppliance {
                            appliance_name: record.request.appliance_name.clone(),
                            requested_by: record.requested_by.clone(),
                            joined_at: unix_now(),
                        },
                    );
                    joined.truncate(MAX_JOINED_SHOWN);
                }
                self.events
                    .record(
                        EventId::AdminAction,
                        format!(
                            "The appliance {} joined this connector with the pairing code {created_by} created (request filed by {}).",
                            record.request.appliance_name, record.requested_by
                        ),
                        &[
                            ("actor", created_by.as_str()),
                            ("action", "pairing_joined"),
                            ("requested_by", record.requested_by.as_str()),
                        ],
                    )
                    .await;
            }
            AnswerOutcome::AlreadyAnswered | AnswerOutcome::Gone => {}
        }
        Ok(())
    }

    async fn refused_join(&self, record: &JoinRecord, error: &PairingError) {
        tracing::warn!(requested_by = %record.requested_by, %error, "join request refused");
        self.events
            .record(
                EventId::AdminAction,
                format!(
                    "A join request filed by {} did not prove knowledge of the pairing code and was not answered.",
                    record.requested_by
                ),
                &[
                    ("actor", record.requested_by.as_str()),
                    ("action", "pairing_refused"),
                ],
            )
            .await;
    }

    /// Joins the connector whose appliance shows `code`: registers under its name and
    /// installs its certificate and keytab. Needs a cloud sign-in.
    pub async fn join(&self, code: &str, actor: &str) -> Result<JoinOutcome, AdminError> {
        let code = PairingCode::parse(code).map_err(code_error)?;
        if self.group_key()?.is_some() {
            return Err(pairing_refused(
                "already_member",
                "This appliance already shares a connector's configuration. Reset it to join another.",
            ));
        }
        let token = self.cloud_token()?;
        let keys = code.keys().map_err(code_error)?;
        drop(code);
        let joiner = JoinerKey::generate().map_err(|e| AdminError::Internal(e.to_string()))?;
        let public = joiner.public_key();
        let request = JoinRequest {
            public_key: B64.encode(public),
            proof: B64.encode(rmsc_pairing::join_proof(&keys, &public)),
            appliance_name: self.config.appliance_name.clone(),
        };
        let control = self.cloud.control();
        control
            .file_join_request(&token, &keys.request_id, &request)
            .await?;
        let deadline = Instant::now() + JOIN_WAIT;
        let answer = loop {
            if let Some(JoinRecord {
                answer: Some(answer),
                ..
            }) = control.read_join_request(&token, &keys.request_id).await?
            {
                break answer;
            }
            if Instant::now() >= deadline {
                return Err(pairing_refused(
                    "no_answer",
                    "No appliance answered within a minute. Check that the code is the one the first appliance shows now, that it has not expired, and that the first appliance is running and connected to the cloud service.",
                ));
            }
            tokio::time::sleep(JOIN_POLL).await;
        };
        let mut plain = rmsc_pairing::open_answer(&keys, joiner, &decode_answer(&answer)?)
            .map_err(code_error)?;
        let parsed: Result<AnswerPlain, _> = serde_json::from_slice(&plain);
        plain.zeroize();
        let parsed = parsed.map_err(|_| {
            pairing_refused(
                "not_authentic",
                "The answer could not be read; try again with a new code.",
            )
        })?;
        let group_key = B64
            .decode(&parsed.group_key)
            .ok()
            .and_then(|k| GroupKey::from_bytes(&k).ok())
            .ok_or_else(|| {
                pairing_refused(
                    "not_authentic",
                    "The answer could not be read; try again with a new code.",
                )
            })?;
        match self.store.registration()? {
            None => {
                self.register(&parsed.connector_name, actor).await?;
            }
            Some(r) if r.connector_name.eq_ignore_ascii_case(&parsed.connector_name) => {}
            Some(r) => {
                return Err(pairing_refused(
                    "other_connector",
                    format!(
                        "The code belongs to the connector {}, but this appliance is registered as {}. Deregister it first.",
                        parsed.connector_name, r.connector_name
                    ),
                ))
            }
        }
        self.adopt_group_key(&group_key, false).await?;
        self.sync_shared_once(None).await?;
        self.record_change(
            actor,
            "pairing_join",
            &format!(
                "joined the connector {} with a pairing code",
                parsed.connector_name
            ),
        )
        .await;
        Ok(JoinOutcome {
            connector_name: parsed.connector_name,
            certificate_installed: crate::certificate::stored_caller_certificate(&self.store)?
                .is_some(),
            keytab_installed: self.keytab_bytes()?.is_some(),
        })
    }

    /// Follows the shared configuration and answers join requests until `shutdown`.
    pub async fn run_sharing(
        self: std::sync::Arc<Self>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = self.sharing_round(&shutdown) => outcome,
            };
            let pause = match outcome {
                Ok(true) => {
                    self.set_sharing_error(None);
                    backoff = Duration::from_secs(1);
                    Duration::ZERO
                }
                // Not registered or not a member yet: look again now and then, or when woken.
                Ok(false) => Duration::from_secs(5),
                Err(error) => {
                    tracing::warn!(%error, "shared configuration round failed");
                    self.set_sharing_error(Some(error.to_string()));
                    let pause = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    pause
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = self.sharing.wake.notified() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }

    /// Answers a pending join, publishes local changes, then waits for a newer generation (or
    /// a wake-up) and applies it. `Ok(false)` when there is nothing to follow yet.
    async fn sharing_round(
        &self,
        shutdown: &tokio_util::sync::CancellationToken,
    ) -> Result<bool, AdminError> {
        self.answer_pending_join().await?;
        let pairing = lock(&self.sharing.pairing).is_some();
        let (Some(api), Some(key)) = (self.cloud.connector(), self.group_key()?) else {
            if pairing {
                tokio::time::sleep(Duration::from_secs(1)).await;
                return Ok(true);
            }
            return Ok(false);
        };
        self.publish_shared(&api, &key).await?;
        // Short polls while a code is shown, so a joiner is answered within a second.
        let wait = if pairing {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(25)
        };
        let known = self.shared_state()?.generation;
        // Only the wait is interrupted (shutdown, a local change, a new code), never an apply.
        let read = tokio::select! {
            read = api.read_shared(Some(known), Some(wait)) => Some(read?),
            _ = self.sharing.wake.notified() => None,
            _ = shutdown.cancelled() => None,
        };
        if let Some(SharedRead::Current(shared)) = read {
            self.apply_shared(&key, &shared).await?;
        }
        Ok(true)
    }
}
