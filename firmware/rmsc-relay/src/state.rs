//! Everything a caller request needs, passed explicitly to the handlers.

use crate::limits::RelayLimits;
use crate::readiness::Readiness;
use crate::seen::Seen;
use rmsc_cloud::{Cloud, ListSync};
use rmsc_identity::IdentitySource;
use rmsc_store::Store;
use rmsc_telemetry::{Events, Metrics};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Shared state of the caller listeners.
pub struct RelayState {
    pub(crate) identity: Arc<dyn IdentitySource>,
    pub(crate) cloud: Arc<Cloud>,
    pub(crate) sync: Arc<ListSync>,
    pub(crate) store: Store,
    pub(crate) events: Events,
    pub(crate) metrics: Metrics,
    pub(crate) readiness: Arc<Readiness>,
    pub(crate) limits: RelayLimits,
    pub(crate) body_budget: Arc<Semaphore>,
    pub(crate) seen: Seen,
}

impl RelayState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        identity: Arc<dyn IdentitySource>,
        cloud: Arc<Cloud>,
        sync: Arc<ListSync>,
        store: Store,
        events: Events,
        metrics: Metrics,
        readiness: Arc<Readiness>,
        limits: RelayLimits,
    ) -> Arc<Self> {
        Arc::new(Self {
            body_budget: Arc::new(Semaphore::new(limits.body_memory_budget)),
            identity,
            cloud,
            sync,
            store,
            events,
            metrics,
            readiness,
            limits,
            seen: Seen::new(50_000),
        })
    }
}
