//! Bounds on what a caller may cost the appliance: connections, header and body sizes,
//! memory held by buffered bodies, and how long a slow client may take.

use std::time::Duration;

/// Limits of the caller listeners. Every one has a default that suits a 1 GB appliance.
#[derive(Debug, Clone)]
pub struct RelayLimits {
    /// Open caller connections at most; further connections wait in the kernel backlog.
    pub max_connections: usize,
    /// Largest request header block (Kerberos tokens reach ~64 KB in base64).
    pub max_header_bytes: usize,
    /// Largest request body. License requests of tens of KB are normal.
    pub max_body_bytes: usize,
    /// Bytes of request bodies held in memory at once over all connections; beyond it
    /// requests get 503 with Retry-After instead of exhausting memory.
    pub body_memory_budget: usize,
    /// Time to receive the request headers; also how long a new connection may stay silent.
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may stay idle between requests (IIS: 120 s).
    pub keep_alive_idle_timeout: Duration,
    /// Quiet time after which an idle connection gives up its HTTP buffers (see
    /// `connection.rs`); it parks between one and two such periods after its last request.
    pub idle_park_after: Duration,
    /// Longest silence while a request body is received.
    pub body_idle_timeout: Duration,
    /// Time for a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Retry-After (seconds) sent with 503 answers.
    pub retry_after_secs: u32,
    /// Largest decompressed size accepted when validating a compressed request body.
    pub max_decompressed_bytes: usize,
}

impl Default for RelayLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_header_bytes: 96 * 1024,
            max_body_bytes: 1024 * 1024,
            body_memory_budget: 64 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            keep_alive_idle_timeout: Duration::from_secs(120),
            idle_park_after: Duration::from_millis(250),
            body_idle_timeout: Duration::from_secs(30),
            tls_handshake_timeout: Duration::from_secs(10),
            retry_after_secs: 5,
            max_decompressed_bytes: 8 * 1024 * 1024,
        }
    }
}
