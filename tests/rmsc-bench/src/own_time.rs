//! The connector's own account of a measurement: the delta of its Prometheus histograms
//! (`rmsc_connector_processing_seconds`, the time it spends on a request excluding the cloud,
//! and `rmsc_cloud_response_seconds`) between two scrapes of its `/metrics`. It separates
//! what the relay itself spends from what the machine adds around it (wake-ups of other
//! CPUs, the load generator's own scheduling), which the end-to-end difference cannot.

use std::collections::BTreeMap;

use anyhow::Context;
use bytes::Bytes;
use rmsc_e2e::Connector;

/// The connector's time histogram.
pub const PROCESSING: &str = "rmsc_connector_processing_seconds";
/// The cloud's response time histogram, as the connector measured it.
pub const CLOUD: &str = "rmsc_cloud_response_seconds";

/// Cumulative bucket counts of one histogram, summed over its label sets, by upper bound
/// in microseconds (`u64::MAX` for `+Inf`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Buckets(BTreeMap<u64, u64>);

impl Buckets {
    /// Reads histogram `name` out of Prometheus text exposition.
    pub fn parse(text: &str, name: &str) -> Self {
        let prefix = format!("{name}_bucket{{");
        let mut buckets = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(&prefix) else {
                continue;
            };
            let Some((labels, count)) = rest.rsplit_once("} ") else {
                continue;
            };
            let Some(le) = labels
                .split(',')
                .find_map(|l| l.trim().strip_prefix("le=\""))
                .and_then(|v| v.strip_suffix('"'))
            else {
                continue;
            };
            let bound = if le == "+Inf" {
                u64::MAX
            } else {
                match le.parse::<f64>() {
                    Ok(seconds) => (seconds * 1e6).round() as u64,
                    Err(_) => continue,
                }
            };
            let Ok(count) = count.trim().parse::<f64>() else {
                continue;
            };
            *buckets.entry(bound).or_insert(0) += count as u64;
        }
        Self(buckets)
    }

    /// What was observed between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Buckets) -> Buckets {
        Buckets(
            self.0
                .iter()
                .map(|(&bound, &count)| {
                    let before = earlier.0.get(&bound).copied().unwrap_or(0);
                    (bound, count.saturating_sub(before))
                })
                .collect(),
        )
    }

    /// Observations counted.
    pub fn count(&self) -> u64 {
        self.0.get(&u64::MAX).copied().unwrap_or(0)
    }

    /// The upper bound (µs) of the bucket holding quantile `q`: the quantile is at most that.
    /// `None` without observations or when it lies past the last finite bucket.
    pub fn quantile_bound_us(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil() as u64;
        self.0
            .iter()
            .find(|(_, &cumulative)| cumulative >= rank)
            .map(|(&bound, _)| bound)
            .filter(|&bound| bound != u64::MAX)
    }
}

/// Both histograms at one moment.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub processing: Buckets,
    pub cloud: Buckets,
}

impl Snapshot {
    /// Scrapes the connector's `/metrics`.
    pub async fn scrape(connector: &Connector) -> anyhow::Result<Self> {
        let answer = connector
            .send_to(connector.ops, "GET", "/metrics", &[], Bytes::new())
            .await
            .context("GET /metrics")?;
        anyhow::ensure!(answer.status == 200, "GET /metrics: {}", answer.status);
        let text = answer.text();
        Ok(Self {
            processing: Buckets::parse(&text, PROCESSING),
            cloud: Buckets::parse(&text, CLOUD),
        })
    }

    /// What was observed between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            processing: self.processing.since(&earlier.processing),
            cloud: self.cloud.since(&earlier.cloud),
        }
    }

    /// One markdown sentence: the connector's own p50/p99 and the cloud's, as bucket bounds.
    pub fn describe(&self, during: &str) -> String {
        let bound = |b: &Buckets, q: f64| {
            b.quantile_bound_us(q)
                .map_or("over the last bucket".to_owned(), |us| format!("≤ {us} µs"))
        };
        format!(
            "The connector's own metrics during {during} ({} requests): its processing time \
             (excluding the cloud) p50 {}, p99 {}; the cloud's response time as it saw it p50 {}, \
             p99 {} (histogram bucket bounds, factor 2 apart).",
            self.processing.count(),
            bound(&self.processing, 0.5),
            bound(&self.processing, 0.99),
            bound(&self.cloud, 0.5),
            bound(&self.cloud, 0.99),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE rmsc_connector_processing_seconds histogram\n\
rmsc_connector_processing_seconds_sum 0.5\n\
rmsc_connector_processing_seconds_count 100\n\
rmsc_connector_processing_seconds_bucket{le=\"0.0001\"} 60\n\
rmsc_connector_processing_seconds_bucket{le=\"0.0002\"} 98\n\
rmsc_connector_processing_seconds_bucket{le=\"0.0004\"} 100\n\
rmsc_connector_processing_seconds_bucket{le=\"+Inf\"} 100\n\
rmsc_cloud_response_seconds_bucket{operation=\"Certify\",le=\"0.0001\"} 1\n\
rmsc_cloud_response_seconds_bucket{operation=\"Certify\",le=\"+Inf\"} 3\n\
rmsc_cloud_response_seconds_bucket{operation=\"AcquireLicense\",le=\"0.0001\"} 2\n\
rmsc_cloud_response_seconds_bucket{operation=\"AcquireLicense\",le=\"+Inf\"} 2\n";

    #[test]
    fn buckets_sum_label_sets_and_give_quantile_bounds() {
        let p = Buckets::parse(TEXT, PROCESSING);
        assert_eq!(p.count(), 100);
        assert_eq!(p.quantile_bound_us(0.5), Some(100));
        assert_eq!(p.quantile_bound_us(0.99), Some(400));
        let c = Buckets::parse(TEXT, CLOUD);
        assert_eq!(c.count(), 5);
        assert_eq!(c.quantile_bound_us(0.5), Some(100));
        assert_eq!(
            c.quantile_bound_us(0.99),
            None,
            "past the last finite bucket"
        );
    }

    #[test]
    fn a_delta_counts_only_what_came_after() {
        let before = Buckets::parse(TEXT, PROCESSING);
        let after = Buckets::parse(
            &TEXT
                .replace("} 100", "} 200")
                .replace("} 98", "} 190")
                .replace("} 60", "} 70"),
            PROCESSING,
        );
        let delta = after.since(&before);
        assert_eq!(delta.count(), 100);
        assert_eq!(delta.quantile_bound_us(0.5), Some(200));
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let b = Buckets::parse(
            "rmsc_connector_processing_seconds_bucket{le=\"x\"} 1\nnonsense\n",
            PROCESSING,
        );
        assert_eq!(b.count(), 0);
        assert_eq!(b.quantile_bound_us(0.5), None);
    }
}
