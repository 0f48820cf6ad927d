//! Fault injection: a plan set at run time makes the stand-in answer an HTTP status, drop the
//! connection, stall, or answer late, for relay calls, control calls or both. The
//! `/_standin/*` endpoints are never faulted, so a test can always clear a plan.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which requests a plan hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// SOAP calls relayed under `/tenants/<id>/_wmcs/...`.
    Relay,
    /// Everything else: OAuth, registration, authorized list, the device page.
    Control,
    #[default]
    All,
}

/// What happens to a hit request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// Answer normally (with the plan's latency only).
    #[default]
    None,
    /// Answer this HTTP status with a `service_unavailable` JSON body.
    Status(u16),
    /// Drop the connection without an answer.
    Reset,
    /// Never answer, until the client or the stand-in closes the connection.
    Stall,
}

/// A fault plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FaultPlan {
    #[serde(default)]
    pub scope: FaultScope,
    #[serde(default)]
    pub mode: FaultMode,
    /// Delay before the request is handled (or before the fault strikes).
    #[serde(default)]
    pub latency_ms: u64,
    /// How many requests the plan hits; `None` until cleared.
    #[serde(default)]
    pub remaining: Option<u32>,
}

/// Why a plan was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FaultPlanError {
    #[error("status {0} is not an HTTP status between 100 and 599")]
    BadStatus(u16),
    #[error("latency_ms {0} exceeds one hour")]
    LatencyTooLong(u64),
}

impl FaultPlan {
    /// Checks that the plan can be carried out.
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        if let FaultMode::Status(code) = self.mode {
            if !(100..=599).contains(&code) {
                return Err(FaultPlanError::BadStatus(code));
            }
        }
        if self.latency_ms > 3_600_000 {
            return Err(FaultPlanError::LatencyTooLong(self.latency_ms));
        }
        Ok(())
    }

    /// Whether the plan hits requests of `scope` (which is `Relay` or `Control`).
    fn hits(&self, scope: FaultScope) -> bool {
        self.scope == FaultScope::All || self.scope == scope
    }
}

/// The fault that strikes one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strike {
    pub mode: FaultMode,
    pub latency: Duration,
}

/// The current plan.
#[derive(Default)]
pub struct FaultSwitch {
    plan: Mutex<Option<FaultPlan>>,
}

impl FaultSwitch {
    pub fn set(&self, plan: FaultPlan) {
        *self.lock() = Some(plan);
    }

    pub fn clear(&self) {
        *self.lock() = None;
    }

    pub fn current(&self) -> Option<FaultPlan> {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<FaultPlan>> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides the fault for one request of `scope`, counting it against `remaining`.
    pub fn strike(&self, scope: FaultScope) -> Option<Strike> {
        let mut guard = self.lock();
        let plan = guard.as_mut()?;
        if !plan.hits(scope) {
            return None;
        }
        let strike = Strike {
            mode: plan.mode,
            latency: Duration::from_millis(plan.latency_ms),
        };
        match plan.remaining {
            Some(0) => {
                *guard = None;
                return None;
            }
            Some(1) => *guard = None,
            Some(n) => plan.remaining = Some(n - 1),
            None => {}
        }
        Some(strike)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_from_the_documented_json() {
        let plan: FaultPlan =
            serde_json::from_str(r#"{"scope":"relay","mode":{"status":503},"remaining":2}"#)
                .expect("parse");
        assert_eq!(plan.mode, FaultMode::Status(503));
        assert_eq!(plan.scope, FaultScope::Relay);
        let plan: FaultPlan = serde_json::from_str(r#"{"mode":"reset"}"#).expect("parse");
        assert_eq!(
            (plan.scope, plan.mode, plan.remaining),
            (FaultScope::All, FaultMode::Reset, None)
        );
        let plan: FaultPlan = serde_json::from_str(r#"{"latency_ms":250}"#).expect("parse");
        assert_eq!(plan.mode, FaultMode::None);
    }

    #[test]
    fn remaining_counts_down_and_clears_the_plan() {
        let switch = FaultSwitch::default();
        switch.set(FaultPlan {
            scope: FaultScope::Relay,
            mode: FaultMode::Reset,
            latency_ms: 0,
            remaining: Some(2),
        });
        assert_eq!(switch.strike(FaultScope::Control), None);
        assert!(switch.strike(FaultScope::Relay).is_some());
        assert!(switch.strike(FaultScope::Relay).is_some());
        assert_eq!(switch.strike(FaultScope::Relay), None);
        assert_eq!(switch.current(), None);
    }

    #[test]
    fn unlimited_plans_last_until_cleared() {
        let switch = FaultSwitch::default();
        switch.set(FaultPlan {
            mode: FaultMode::Stall,
            ..FaultPlan::default()
        });
        for _ in 0..5 {
            assert!(switch.strike(FaultScope::Control).is_some());
        }
        switch.clear();
        assert_eq!(switch.strike(FaultScope::Control), None);
    }

    #[test]
    fn bad_plans_are_refused() {
        let bad = FaultPlan {
            mode: FaultMode::Status(42),
            ..FaultPlan::default()
        };
        assert_eq!(bad.validate(), Err(FaultPlanError::BadStatus(42)));
        assert!(FaultPlan::default().validate().is_ok());
    }
}
