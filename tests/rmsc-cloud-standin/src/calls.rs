//! The record of relayed calls (accepted, refused, faulted), so tests can assert what reached
//! the cloud and with which caller identity.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How a relayed call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Answered with a signed result.
    Ok,
    /// Answered with a SOAP fault.
    Fault,
    /// Refused before the SOAP layer (no valid connector certificate, missing caller headers).
    Refused,
    /// Hit by an injected fault (stand-in only; `status` 0 for reset and stall).
    Injected,
}

/// One relayed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    pub seq: u64,
    /// Unix milliseconds when the call arrived.
    pub time_ms: i64,
    /// Tenant id from the relay URL.
    pub tenant: String,
    /// Connector id from the client certificate, empty when none was valid.
    pub connector_id: String,
    pub caller_account: String,
    pub caller_sid: String,
    pub role: String,
    /// `Service.Operation`, or the request path when no operation could be determined.
    pub operation: String,
    pub outcome: CallOutcome,
    pub status: u16,
}

/// Bounded log of calls: the oldest are dropped so that long benchmarks do not grow memory.
pub struct CallLog {
    seq: AtomicU64,
    capacity: usize,
    records: Mutex<VecDeque<CallRecord>>,
}

impl CallLog {
    pub fn new(capacity: usize) -> CallLog {
        CallLog {
            seq: AtomicU64::new(0),
            capacity: capacity.max(1),
            records: Mutex::new(VecDeque::new()),
        }
    }

    /// Appends a record, assigning its sequence number and time.
    pub fn record(&self, mut record: CallRecord) {
        record.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        record.time_ms = now_ms();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() >= self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// A copy of every record kept, oldest first.
    pub fn snapshot(&self) -> Vec<CallRecord> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.iter().cloned().collect()
    }

    /// Forgets every record (sequence numbers keep growing).
    pub fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(op: &str) -> CallRecord {
        CallRecord {
            seq: 0,
            time_ms: 0,
            tenant: "t".into(),
            connector_id: "c".into(),
            caller_account: "a".into(),
            caller_sid: "s".into(),
            role: "exchange".into(),
            operation: op.into(),
            outcome: CallOutcome::Ok,
            status: 200,
        }
    }

    #[test]
    fn records_are_numbered_bounded_and_clearable() {
        let log = CallLog::new(2);
        log.record(record("a"));
        log.record(record("b"));
        log.record(record("c"));
        let calls = log.snapshot();
        assert_eq!(
            calls
                .iter()
                .map(|c| c.operation.as_str())
                .collect::<Vec<_>>(),
            ["b", "c"]
        );
        assert_eq!(calls[1].seq, 3);
        assert!(calls[0].time_ms > 0);
        log.clear();
        assert!(log.snapshot().is_empty());
        log.record(record("d"));
        assert_eq!(log.snapshot()[0].seq, 4);
    }
}
