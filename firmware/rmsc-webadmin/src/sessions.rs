//! Administrator sessions, in memory only (a restart signs everyone out): random 256-bit
//! ids, a CSRF token each, an idle timeout and an absolute lifetime, and a bounded table.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// What a valid session tells a request handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The signed-in administrator.
    pub user: String,
    /// The token state-changing requests must carry in `x-csrf-token`.
    pub csrf_token: String,
}

impl SessionView {
    /// Whether `presented` is this session's CSRF token (constant-time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        presented
            .as_bytes()
            .ct_eq(self.csrf_token.as_bytes())
            .into()
    }
}

struct Session {
    user: String,
    csrf_token: String,
    created: Instant,
    last_seen: Instant,
}

/// The session table.
pub(crate) struct Sessions {
    map: HashMap<String, Session>,
    max: usize,
    idle_timeout: Duration,
    lifetime: Duration,
}

/// 32 random bytes, URL-safe base64 (43 characters).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    pub(crate) fn new(max: usize, idle_timeout: Duration, lifetime: Duration) -> Self {
        Sessions {
            map: HashMap::new(),
            max: max.max(1),
            idle_timeout,
            lifetime,
        }
    }

    fn expired(&self, session: &Session, now: Instant) -> bool {
        now.saturating_duration_since(session.last_seen) > self.idle_timeout
            || now.saturating_duration_since(session.created) > self.lifetime
    }

    /// Starts a session for `user`; returns its id and view. When the table is full, expired
    /// sessions go first, then the one idle longest.
    pub(crate) fn create(&mut self, user: &str, now: Instant) -> (String, SessionView) {
        if self.map.len() >= self.max {
            self.purge(now);
        }
        while self.map.len() >= self.max {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => {
                    self.map.remove(&id);
                }
                None => break,
            }
        }
        let id = random_token();
        let session = Session {
            user: user.to_owned(),
            csrf_token: random_token(),
            created: now,
            last_seen: now,
        };
        let view = SessionView {
            user: session.user.clone(),
            csrf_token: session.csrf_token.clone(),
        };
        self.map.insert(id.clone(), session);
        (id, view)
    }

    /// The live session `id`, its idle timer restarted; an expired one is dropped.
    pub(crate) fn touch(&mut self, id: &str, now: Instant) -> Option<SessionView> {
        let expired = self.expired(self.map.get(id)?, now);
        if expired {
            self.map.remove(id);
            return None;
        }
        let session = self.map.get_mut(id)?;
        session.last_seen = now;
        Some(SessionView {
            user: session.user.clone(),
            csrf_token: session.csrf_token.clone(),
        })
    }

    pub(crate) fn remove(&mut self, id: &str) {
        self.map.remove(id);
    }

    /// Drops every session but `keep` (after a password change).
    pub(crate) fn retain_only(&mut self, keep: &str) {
        self.map.retain(|id, _| id == keep);
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    fn purge(&mut self, now: Instant) {
        let (idle, lifetime) = (self.idle_timeout, self.lifetime);
        self.map.retain(|_, s| {
            now.saturating_duration_since(s.last_seen) <= idle
                && now.saturating_duration_since(s.created) <= lifetime
        });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(15 * 60);
    const LIFE: Duration = Duration::from_secs(8 * 3600);

    #[test]
    fn ids_and_tokens_are_long_and_distinct() {
        let mut sessions = Sessions::new(4, IDLE, LIFE);
        let now = Instant::now();
        let (a, va) = sessions.create("admin", now);
        let (b, vb) = sessions.create("admin", now);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_ne!(va.csrf_token, vb.csrf_token);
        assert_ne!(a, va.csrf_token);
    }

    #[test]
    fn activity_keeps_a_session_alive_until_it_idles_out() {
        let mut sessions = Sessions::new(4, IDLE, LIFE);
        let t0 = Instant::now();
        let (id, _) = sessions.create("admin", t0);
        let t1 = t0 + Duration::from_secs(14 * 60);
        assert!(sessions.touch(&id, t1).is_some());
        assert!(sessions
            .touch(&id, t1 + Duration::from_secs(14 * 60))
            .is_some());
        assert!(sessions
            .touch(&id, t1 + Duration::from_secs(45 * 60))
            .is_none());
        assert_eq!(sessions.len(), 0);
    }

    #[test]
    fn the_absolute_lifetime_ends_even_a_busy_session() {
        let mut sessions = Sessions::new(4, IDLE, LIFE);
        let t0 = Instant::now();
        let (id, _) = sessions.create("admin", t0);
        let mut t = t0;
        while t - t0 < LIFE {
            t += Duration::from_secs(10 * 60);
            let alive = sessions.touch(&id, t).is_some();
            assert_eq!(alive, t - t0 <= LIFE);
        }
    }

    #[test]
    fn a_full_table_evicts_the_longest_idle_session() {
        let mut sessions = Sessions::new(2, IDLE, LIFE);
        let t0 = Instant::now();
        let (first, _) = sessions.create("a", t0);
        let (second, _) = sessions.create("b", t0 + Duration::from_secs(1));
        assert!(sessions
            .touch(&first, t0 + Duration::from_secs(2))
            .is_some());
        let (third, _) = sessions.create("c", t0 + Duration::from_secs(3));
        assert_eq!(sessions.len(), 2);
        let now = t0 + Duration::from_secs(4);
        assert!(sessions.touch(&second, now).is_none());
        assert!(sessions.touch(&first, now).is_some());
        assert!(sessions.touch(&third, now).is_some());
    }

    #[test]
    fn csrf_comparison_needs_the_exact_token() {
        let view = SessionView {
            user: "admin".into(),
            csrf_token: "abc".into(),
        };
        assert!(view.csrf_matches("abc"));
        assert!(!view.csrf_matches("abd"));
        assert!(!view.csrf_matches(""));
        assert!(!view.csrf_matches("abcd"));
    }
}
