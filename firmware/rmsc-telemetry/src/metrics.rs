//! Prometheus metrics of the connector: the counters and histograms that stand in for the
//! original's performance counters (request rates, connector processing time, cloud response
//! time, time since the last authorized-list update).

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a relayed request ended, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Relayed and answered by the cloud (whatever the SOAP result).
    Relayed,
    /// Refused: no valid identity.
    Unauthenticated,
    /// Refused: not on the authorized list.
    Forbidden,
    /// Refused: the request itself was bad (path, SOAPAction, XML, size).
    BadRequest,
    /// The cloud failed or timed out.
    CloudError,
    /// The appliance was overloaded or not ready.
    Unavailable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Relayed => "relayed",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Forbidden => "forbidden",
            Outcome::BadRequest => "bad_request",
            Outcome::CloudError => "cloud_error",
            Outcome::Unavailable => "unavailable",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    role: String,
    outcome: String,
}

/// One request counter as the admin API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCount {
    pub operation: String,
    pub role: String,
    pub outcome: String,
    pub count: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// Label sets seen so far: prometheus-client cannot enumerate a family's members, and
    /// the admin API reads the counters back. Bounded by operations x roles x outcomes.
    request_labels: RwLock<HashSet<RequestLabels>>,
    processing: Histogram,
    cloud_response: Family<OperationLabel, Histogram, fn() -> Histogram>,
    open_connections: Gauge,
    parked_connections: Gauge,
    list_entries: Gauge,
    list_age: Gauge,
    list_updated_at: AtomicI64,
}

/// Handle to the metric families; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~26 s: the connector's own time is sub-millisecond, the cloud's is not.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 19,
    ))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("rmsc");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Caller requests by operation, role and outcome",
            requests.clone(),
        );
        let processing = latency_histogram();
        registry.register(
            "connector_processing_seconds",
            "Time the connector itself spends on a request, excluding the cloud",
            processing.clone(),
        );
        let cloud_response =
            Family::<OperationLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "cloud_response_seconds",
            "Time from sending a relayed request to the cloud's response headers",
            cloud_response.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "caller_connections",
            "Open caller connections",
            open_connections.clone(),
        );
        let parked_connections = Gauge::default();
        registry.register(
            "caller_connections_parked",
            "Open caller connections idle between requests, holding no HTTP buffers",
            parked_connections.clone(),
        );
        let list_entries = Gauge::default();
        registry.register(
            "authorized_entries",
            "Entries of the authorized-server list",
            list_entries.clone(),
        );
        let list_age = Gauge::default();
        registry.register(
            "authorized_list_age_seconds",
            "Seconds since the authorized-server list was last confirmed current with the cloud (-1: never)",
            list_age.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                request_labels: RwLock::new(HashSet::new()),
                processing,
                cloud_response,
                open_connections,
                parked_connections,
                list_entries,
                list_age,
                list_updated_at: AtomicI64::new(0),
            }),
        }
    }

    /// Counts one caller request.
    pub fn request(&self, operation: &str, role: &str, outcome: Outcome) {
        let labels = RequestLabels {
            operation: operation.to_owned(),
            role: role.to_owned(),
            outcome: outcome.as_str().to_owned(),
        };
        self.inner.requests.get_or_create(&labels).inc();
        let known = self
            .inner
            .request_labels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&labels);
        if !known {
            self.inner
                .request_labels
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(labels);
        }
    }

    /// Every request counter, sorted by operation, role and outcome.
    pub fn request_counts(&self) -> Vec<RequestCount> {
        let labels: Vec<RequestLabels> = self
            .inner
            .request_labels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        let mut counts: Vec<RequestCount> = labels
            .into_iter()
            .map(|l| {
                let count = self.inner.requests.get_or_create(&l).get();
                RequestCount {
                    operation: l.operation,
                    role: l.role,
                    outcome: l.outcome,
                    count,
                }
            })
            .collect();
        counts.sort_by(|a, b| {
            (&a.operation, &a.role, &a.outcome).cmp(&(&b.operation, &b.role, &b.outcome))
        });
        counts
    }

    /// Records the connector's own processing time of one request.
    pub fn processing_time(&self, d: Duration) {
        self.inner.processing.observe(d.as_secs_f64());
    }

    /// Records the cloud's response time for one relayed request.
    pub fn cloud_response_time(&self, operation: &str, d: Duration) {
        self.inner
            .cloud_response
            .get_or_create(&OperationLabel {
                operation: operation.to_owned(),
            })
            .observe(d.as_secs_f64());
    }

    /// Tracks open caller connections; the guard decrements on drop.
    pub fn connection_opened(&self) -> ConnectionGuard {
        self.inner.open_connections.inc();
        ConnectionGuard {
            metrics: self.clone(),
        }
    }

    /// Tracks a caller connection parked while idle; the guard decrements on drop.
    pub fn connection_parked(&self) -> ParkedGuard {
        self.inner.parked_connections.inc();
        ParkedGuard {
            metrics: self.clone(),
        }
    }

    /// Records that the authorized list was confirmed current now, with `entries` entries.
    pub fn list_confirmed(&self, entries: usize) {
        self.inner
            .list_entries
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
        self.inner
            .list_updated_at
            .store(unix_now(), Ordering::Relaxed);
    }

    /// Seconds since the list was last confirmed, or `None` if never.
    pub fn list_age_secs(&self) -> Option<i64> {
        match self.inner.list_updated_at.load(Ordering::Relaxed) {
            0 => None,
            at => Some((unix_now() - at).max(0)),
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.inner.list_age.set(self.list_age_secs().unwrap_or(-1));
        let mut out = String::new();
        if encode(&mut out, &self.inner.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Decrements the open-connections gauge when the connection ends.
pub struct ConnectionGuard {
    metrics: Metrics,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.metrics.inner.open_connections.dec();
    }
}

/// Decrements the parked-connections gauge when the connection wakes or ends.
pub struct ParkedGuard {
    metrics: Metrics,
}

impl Drop for ParkedGuard {
    fn drop(&mut self) {
        self.metrics.inner.parked_connections.dec();
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_list_age() {
        let m = Metrics::new();
        m.request(
            "LicensingService.AcquireLicense",
            "exchange",
            Outcome::Relayed,
        );
        m.request(
            "LicensingService.AcquireLicense",
            "exchange",
            Outcome::Relayed,
        );
        m.processing_time(Duration::from_micros(150));
        let before = m.render();
        assert!(before.contains("rmsc_authorized_list_age_seconds -1"));
        m.list_confirmed(3);
        let text = m.render();
        assert!(text.contains(
            "rmsc_requests_total{operation=\"LicensingService.AcquireLicense\",role=\"exchange\",outcome=\"relayed\"} 2"
        ));
        assert!(text.contains("rmsc_authorized_entries 3"));
        assert!(text.contains("rmsc_authorized_list_age_seconds 0"));
        let guard = m.connection_opened();
        assert!(m.render().contains("rmsc_caller_connections 1"));
        drop(guard);
        assert!(m.render().contains("rmsc_caller_connections 0"));
    }

    #[test]
    fn request_counts_read_back_every_counter() {
        let m = Metrics::new();
        assert!(m.request_counts().is_empty());
        m.request("B.Op", "exchange", Outcome::Relayed);
        m.request("A.Op", "sharepoint", Outcome::Forbidden);
        m.request("B.Op", "exchange", Outcome::Relayed);
        let counts = m.request_counts();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].operation, "A.Op");
        assert_eq!(counts[0].outcome, "forbidden");
        assert_eq!(counts[0].count, 1);
        assert_eq!(counts[1].role, "exchange");
        assert_eq!(counts[1].count, 2);
    }
}
