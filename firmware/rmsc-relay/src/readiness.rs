//! Readiness for load balancers: ready when registered, the authorized list is fresh and the
//! cloud answers, and not draining. Liveness (`/healthz`) is simply "the process answers".

use rmsc_cloud::{Cloud, ListSync};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyReport {
    pub ready: bool,
    /// Why not, in words an administrator understands; empty when ready.
    pub reasons: Vec<String>,
}

impl ReadyReport {
    pub fn to_json(&self) -> String {
        json!({ "ready": self.ready, "reasons": self.reasons }).to_string()
    }
}

/// Shared readiness state.
pub struct Readiness {
    draining: AtomicBool,
    cloud: Arc<Cloud>,
    sync: Arc<ListSync>,
}

impl Readiness {
    pub fn new(cloud: Arc<Cloud>, sync: Arc<ListSync>) -> Self {
        Self {
            draining: AtomicBool::new(false),
            cloud,
            sync,
        }
    }

    /// From now on report not ready (shutdown has begun).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn report(&self) -> ReadyReport {
        let mut reasons = Vec::new();
        if self.is_draining() {
            reasons.push("shutting down".to_owned());
        }
        if self.cloud.connector().is_none() {
            reasons.push("not registered with the cloud".to_owned());
        } else {
            let health = self.sync.health();
            if !health.fresh {
                let why = health
                    .last_error
                    .unwrap_or_else(|| "not confirmed yet".to_owned());
                reasons.push(format!("authorized-server list not current: {why}"));
            }
        }
        ReadyReport {
            ready: reasons.is_empty(),
            reasons,
        }
    }
}
