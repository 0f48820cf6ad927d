//! Login rate limiting: failed attempts are counted per client (an IPv4 address, or the /64
//! of an IPv6 one) and in total over a sliding window; once either count is reached, attempts
//! are refused until the oldest failure leaves the window. The table is bounded.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// Limits on failed sign-in (and setup-code) attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Failures allowed per client within `window`.
    pub per_client: usize,
    /// Failures allowed from everyone together within `window` (a spread-out guessing
    /// attack); the console's password reset still works when this trips.
    pub global: usize,
    /// The sliding window.
    pub window: Duration,
    /// Clients tracked at most; beyond it new clients count only towards `global`.
    pub max_tracked_clients: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_client: 5,
            global: 100,
            window: Duration::from_secs(5 * 60),
            max_tracked_clients: 4096,
        }
    }
}

/// The counters.
pub(crate) struct LoginLimiter {
    config: RateLimitConfig,
    per_client: HashMap<IpAddr, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

/// The key a client is counted under: one IPv6 host usually holds a whole /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn prune(list: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while list
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        list.pop_front();
    }
}

/// How long until `list` drops below `limit`, if it is at the limit.
fn wait(
    list: &VecDeque<Instant>,
    limit: usize,
    now: Instant,
    window: Duration,
) -> Option<Duration> {
    if list.len() < limit {
        return None;
    }
    let oldest = list.get(list.len() - limit)?;
    Some((*oldest + window).saturating_duration_since(now))
}

impl LoginLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        LoginLimiter {
            config,
            per_client: HashMap::new(),
            global: VecDeque::new(),
        }
    }

    /// Starts an attempt: refused with the time to wait, or counted as a failure right away
    /// (so parallel attempts cannot slip past the limit while a hash is checked) until
    /// [`LoginLimiter::succeeded`] takes it back.
    pub(crate) fn begin(&mut self, ip: IpAddr, now: Instant) -> Result<Instant, Duration> {
        let window = self.config.window;
        let key = client_key(ip);
        prune(&mut self.global, now, window);
        if let Some(list) = self.per_client.get_mut(&key) {
            prune(list, now, window);
        }
        let client_wait = self
            .per_client
            .get(&key)
            .and_then(|list| wait(list, self.config.per_client, now, window));
        let global_wait = wait(&self.global, self.config.global, now, window);
        if let Some(delay) = client_wait.max(global_wait) {
            return Err(delay.max(Duration::from_secs(1)));
        }
        self.global.push_back(now);
        if !self.per_client.contains_key(&key)
            && self.per_client.len() >= self.config.max_tracked_clients
        {
            self.per_client.retain(|_, list| {
                prune(list, now, window);
                !list.is_empty()
            });
        }
        if self.per_client.contains_key(&key)
            || self.per_client.len() < self.config.max_tracked_clients
        {
            self.per_client.entry(key).or_default().push_back(now);
        }
        Ok(now)
    }

    /// The attempt begun at `started` succeeded: it is not a failure, and the client's
    /// earlier failures are forgiven.
    pub(crate) fn succeeded(&mut self, ip: IpAddr, started: Instant) {
        self.per_client.remove(&client_key(ip));
        if let Some(pos) = self.global.iter().rposition(|t| *t == started) {
            self.global.remove(pos);
        }
    }

    /// Whether the client is now at its limit (for a one-time audit note).
    pub(crate) fn client_blocked(&self, ip: IpAddr) -> bool {
        self.per_client
            .get(&client_key(ip))
            .is_some_and(|list| list.len() >= self.config.per_client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    #[test]
    fn the_sixth_attempt_within_the_window_is_refused_until_the_first_ages_out() {
        let mut limiter = LoginLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(limiter.begin(ip(1), t0 + Duration::from_secs(i)).is_ok());
        }
        let wait = limiter
            .begin(ip(1), t0 + Duration::from_secs(10))
            .expect_err("limited");
        assert_eq!(wait, Duration::from_secs(290));
        assert!(limiter.begin(ip(2), t0 + Duration::from_secs(10)).is_ok());
        assert!(limiter.begin(ip(1), t0 + Duration::from_secs(300)).is_ok());
    }

    #[test]
    fn success_forgives_the_clients_failures() {
        let mut limiter = LoginLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        for _ in 0..4 {
            assert!(limiter.begin(ip(1), t0).is_ok());
        }
        let started = limiter.begin(ip(1), t0).expect("fifth");
        limiter.succeeded(ip(1), started);
        assert!(limiter.begin(ip(1), t0).is_ok());
    }

    #[test]
    fn the_global_limit_stops_a_spread_out_attack() {
        let config = RateLimitConfig {
            global: 3,
            ..RateLimitConfig::default()
        };
        let mut limiter = LoginLimiter::new(config);
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(limiter.begin(ip(i), t0).is_ok());
        }
        assert!(limiter.begin(ip(99), t0).is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(client_key(mapped), ip(1));
    }

    #[test]
    fn the_table_stays_bounded() {
        let config = RateLimitConfig {
            max_tracked_clients: 2,
            global: 1000,
            ..RateLimitConfig::default()
        };
        let mut limiter = LoginLimiter::new(config);
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(limiter.begin(ip(i), t0).is_ok());
        }
        assert!(limiter.per_client.len() <= 2);
    }
}
