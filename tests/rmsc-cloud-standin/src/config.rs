//! Configuration of one stand-in instance; `Default` is what tests and the demo want.

use std::net::SocketAddr;

use crate::fixture::Fixture;

/// How to run a stand-in.
#[derive(Debug, Clone)]
pub struct StandinConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Tenants and users.
    pub fixture: Fixture,
    /// Minimum seconds between two device-code polls (advertised as `interval`).
    pub device_interval_secs: u64,
    /// Lifetime of a device code, seconds.
    pub device_code_lifetime_secs: u64,
    /// Validity of issued connector certificates, seconds.
    pub cert_validity_secs: u64,
    /// Lifetime of bearer tokens, seconds.
    pub token_lifetime_secs: u64,
    /// How many relayed calls the record keeps.
    pub max_calls_kept: usize,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
}

impl Default for StandinConfig {
    fn default() -> Self {
        StandinConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            fixture: Fixture::default(),
            device_interval_secs: 1,
            device_code_lifetime_secs: 900,
            cert_validity_secs: 30 * 86_400,
            token_lifetime_secs: 3600,
            max_calls_kept: 100_000,
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}
