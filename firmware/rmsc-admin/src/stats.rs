//! What the dashboard reads: request counters and uptime (the UI computes rates from two
//! samples), the tenant's other appliances, and the whole event log as a text file.

use crate::error::AdminError;
use crate::ops::{unix_now, Admin};
use rmsc_store::EventFilter;
use serde::Serialize;
use std::fmt::Write as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A connector whose heartbeat is older than this is shown as unhealthy.
const HEARTBEAT_STALE_SECS: i64 = 120;

/// One request counter.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RequestStat {
    pub operation: String,
    pub role: String,
    pub outcome: String,
    pub count: u64,
}

/// The `GET /api/v1/stats` answer.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub requests: Vec<RequestStat>,
    pub uptime_secs: u64,
}

/// One appliance of the tenant, as the cloud last heard from it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApplianceInfo {
    pub name: String,
    pub connector_name: String,
    pub connector_id: String,
    pub version: String,
    pub address: String,
    /// Unix seconds of the last heartbeat; 0 if none yet.
    pub last_seen: i64,
    pub healthy: bool,
}

/// The whole event log, oldest first, one line per event.
pub fn events_text(events: &[rmsc_store::EventRecord]) -> String {
    let mut out = String::new();
    for event in events.iter().rev() {
        let when = OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.time) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| event.time.to_string());
        let level = serde_json::to_value(event.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        // One event per line: newlines inside a message would split it.
        let message = event.message.replace(['\r', '\n'], " ");
        let _ = write!(out, "{when}\t{level}\t{}\t{message}", event.id);
        for (key, value) in &event.fields {
            let _ = write!(out, "\t{key}={}", value.replace(['\r', '\n', '\t'], " "));
        }
        out.push_str("\r\n");
    }
    out
}

impl Admin {
    /// Request counters since the daemon started, and its uptime.
    pub fn stats(&self) -> Stats {
        let requests = self
            .appliance
            .get()
            .map(|a| a.metrics.request_counts())
            .unwrap_or_default()
            .into_iter()
            .map(|c| RequestStat {
                operation: c.operation,
                role: c.role,
                outcome: c.outcome,
                count: c.count,
            })
            .collect();
        Stats {
            requests,
            uptime_secs: self.started.elapsed().as_secs(),
        }
    }

    /// The tenant's connectors; empty while this appliance is not registered.
    pub async fn appliances(&self) -> Result<Vec<ApplianceInfo>, AdminError> {
        let Some(api) = self.cloud.connector() else {
            return Ok(Vec::new());
        };
        let now = unix_now();
        Ok(api
            .connectors()
            .await?
            .into_iter()
            .map(|c| ApplianceInfo {
                healthy: c.ready && c.last_seen > 0 && now - c.last_seen <= HEARTBEAT_STALE_SECS,
                name: c.appliance_name,
                connector_name: c.connector_name,
                connector_id: c.connector_id,
                version: c.version,
                address: c.address,
                last_seen: c.last_seen,
            })
            .collect())
    }

    /// Every event as a text file.
    pub fn events_download(&self) -> Result<String, AdminError> {
        let all = self.store.events(&EventFilter::default())?;
        Ok(events_text(&all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmsc_store::{EventLevel, EventRecord};
    use std::collections::BTreeMap;

    #[test]
    fn events_are_written_oldest_first_one_per_line() {
        let newer = EventRecord {
            seq: 2,
            time: 1_700_000_001_000,
            id: 4002,
            level: EventLevel::Info,
            message: "alice did\nthings".into(),
            fields: BTreeMap::from([("actor".to_owned(), "alice".to_owned())]),
        };
        let older = EventRecord {
            seq: 1,
            time: 1_700_000_000_000,
            id: 1001,
            level: EventLevel::Warning,
            message: "started".into(),
            fields: BTreeMap::new(),
        };
        let text = events_text(&[newer, older]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("2023-11-14T22:13:20Z\twarning\t1001\tstarted"));
        assert!(lines[1].ends_with("alice did things\tactor=alice"));
    }
}
