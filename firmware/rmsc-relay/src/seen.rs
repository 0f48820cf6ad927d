//! Remembers recent keys in memory, to record "first time" events without a store lookup per
//! request and to rate-limit warning events that a misconfigured caller would otherwise raise
//! on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bounded map from key to when it was last let through.
pub struct Seen {
    capacity: usize,
    entries: Mutex<Entries>,
}

/// Keys grouped by kind, so that a per-request check looks up the subject as it is instead
/// of formatting a `kind|subject` string first.
#[derive(Default)]
struct Entries {
    len: usize,
    by_kind: HashMap<&'static str, HashMap<String, Instant>>,
}

impl Seen {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(Entries::default()),
        }
    }

    /// True if `key` was not let through within `window` (and records it now). When full,
    /// the map is cleared: at worst an event is recorded twice, never an unbounded map.
    pub fn let_through(&self, key: &str, window: Duration) -> bool {
        self.let_through_for("", key, window)
    }

    /// [`Seen::let_through`] for the key `kind|subject`, without building it.
    pub fn let_through_for(&self, kind: &'static str, subject: &str, window: Duration) -> bool {
        let Ok(mut entries) = self.entries.lock() else {
            return true;
        };
        let now = Instant::now();
        if let Some(last) = entries.by_kind.get(kind).and_then(|m| m.get(subject)) {
            if now.duration_since(*last) < window {
                return false;
            }
        }
        if entries.len >= self.capacity {
            entries.by_kind.clear();
            entries.len = 0;
        }
        let fresh = entries
            .by_kind
            .entry(kind)
            .or_default()
            .insert(subject.to_owned(), now)
            .is_none();
        if fresh {
            entries.len += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_through_once_per_window_and_stays_bounded() {
        let seen = Seen::new(2);
        assert!(seen.let_through("a", Duration::from_secs(60)));
        assert!(!seen.let_through("a", Duration::from_secs(60)));
        assert!(seen.let_through("b", Duration::from_secs(60)));
        assert!(seen.let_through("c", Duration::from_secs(60)));
        assert!(seen.let_through("a", Duration::ZERO));
    }

    #[test]
    fn kinds_are_separate_and_share_the_bound() {
        let seen = Seen::new(3);
        assert!(seen.let_through_for("1002", "S-1", Duration::MAX));
        assert!(!seen.let_through_for("1002", "S-1", Duration::MAX));
        assert!(seen.let_through_for("2002", "S-1", Duration::MAX));
        assert!(seen.let_through_for("1002", "S-2", Duration::MAX));
        // Full: the next new key clears everything, so S-1 counts as new again.
        assert!(seen.let_through_for("1002", "S-3", Duration::MAX));
        assert!(seen.let_through_for("1002", "S-1", Duration::MAX));
    }
}
