//! The bounded event log and "first seen" tracking.

use crate::error::StoreError;
use crate::model::{EventFilter, EventRecord, NewEvent};
use crate::store::Store;

/// Unix milliseconds now.
fn now_ms() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// Key of a (scope, key) pair in the seen tree; the length prefix keeps ("ab","c") and
/// ("a","bc") apart.
fn seen_key(scope: &str, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + scope.len() + key.len());
    out.extend_from_slice(&(scope.len() as u64).to_be_bytes());
    out.extend_from_slice(scope.as_bytes());
    out.extend_from_slice(key.as_bytes());
    out
}

/// The sequence number following the newest stored event, so numbering continues across
/// restarts.
pub(crate) fn next_seq_after(events: &sled::Tree) -> Result<u64, StoreError> {
    match events.last()? {
        Some((key, _)) => {
            let bytes: [u8; 8] = key.as_ref().try_into().unwrap_or([0xff; 8]);
            Ok(u64::from_be_bytes(bytes).saturating_add(1))
        }
        None => Ok(0),
    }
}

impl Store {
    /// Appends an event, dropping the oldest ones beyond the capacity, and returns it as
    /// stored.
    pub async fn append_event(&self, event: NewEvent) -> Result<EventRecord, StoreError> {
        let tree = &self.inner.trees.events;
        let mut next = self.inner.next_event_seq.lock().await;
        let seq = *next;
        let record = EventRecord {
            seq,
            time: now_ms(),
            id: event.id,
            level: event.level,
            message: event.message,
            fields: event.fields,
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| StoreError::codec("event", e))?;
        let mut batch = sled::Batch::default();
        batch.insert(&seq.to_be_bytes(), bytes);
        // Everything below `oldest_kept` falls out of the ring; normally one key.
        let capacity = self.inner.event_capacity as u64;
        let oldest_kept = (seq + 1).saturating_sub(capacity);
        for key in tree.range(..oldest_kept.to_be_bytes()).keys() {
            batch.remove(key?);
        }
        tree.apply_batch(batch)?;
        *next = seq + 1;
        drop(next);
        self.flush().await?;
        Ok(record)
    }

    /// Events passing `filter`, newest first. A record that does not decode is skipped
    /// (and logged) rather than hiding the rest of the log.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let tree = &self.inner.trees.events;
        let needle = filter.text.as_ref().map(|t| t.to_lowercase());
        let iter = match filter.before_seq {
            Some(before) => tree.range(..before.to_be_bytes()),
            None => tree.iter(),
        };
        let mut out = Vec::new();
        for item in iter.rev() {
            let (key, value) = item?;
            let record: EventRecord = match serde_json::from_slice(&value) {
                Ok(record) => record,
                Err(e) => {
                    tracing::warn!(key = ?key, error = %e, "skipping undecodable event");
                    continue;
                }
            };
            if filter.matches(&record, needle.as_deref()) {
                out.push(record);
                if filter.limit != 0 && out.len() >= filter.limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Returns true the first time it is called for a (scope, key) pair, false ever after,
    /// also across restarts.
    pub async fn mark_first_seen(&self, scope: &str, key: &str) -> Result<bool, StoreError> {
        let stamp = time::OffsetDateTime::now_utc()
            .unix_timestamp()
            .to_be_bytes();
        let swapped = self.inner.trees.seen.compare_and_swap(
            seen_key(scope, key),
            None as Option<&[u8]>,
            Some(&stamp[..]),
        )?;
        match swapped {
            Ok(()) => {
                self.flush().await?;
                Ok(true)
            }
            Err(_already_there) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keys_do_not_collide_across_the_scope_boundary() {
        assert_ne!(seen_key("ab", "c"), seen_key("a", "bc"));
    }
}
