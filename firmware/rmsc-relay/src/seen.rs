//! Remembers recent keys in memory, to record "first time" events without a store lookup per
//! request and to rate-limit warning events that a misconfigured caller would otherwise raise
//! on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bounded map from key to when it was last let through.
pub struct Seen {
    capacity: usize,
    entries: Mutex<HashMap<String, Instant>>,
}

impl Seen {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// True if `key` was not let through within `window` (and records it now). When full,
    /// the map is cleared: at worst an event is recorded twice, never an unbounded map.
    pub fn let_through(&self, key: &str, window: Duration) -> bool {
        let Ok(mut map) = self.entries.lock() else {
            return true;
        };
        let now = Instant::now();
        if let Some(last) = map.get(key) {
            if now.duration_since(*last) < window {
                return false;
            }
        }
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key.to_owned(), now);
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
}
