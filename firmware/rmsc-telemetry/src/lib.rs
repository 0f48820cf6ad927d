//! Observability: the original connector's event catalogue (same ids, so existing monitoring
//! rules keep working), a recorder that writes each event to the store and to the log, and
//! the Prometheus metrics of the relay.

mod events;
mod metrics;

pub use events::{EventId, Events};
pub use metrics::{Metrics, Outcome, RequestCount};
