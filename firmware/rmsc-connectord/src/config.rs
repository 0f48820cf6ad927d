//! The daemon's configuration: one TOML file, parsed into typed values and validated before
//! any port is bound. Every field has a default that suits the appliance.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid setting {field}: {why}")]
    Invalid { field: &'static str, why: String },
}

fn invalid(field: &'static str, why: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        why: why.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the store, the machine key and the recovery copy live (the data partition).
    pub data_dir: PathBuf,
    /// Base URL of the cloud service's control plane.
    pub cloud_url: url::Url,
    /// Extra CA certificate (PEM file) the cloud's certificate may chain to.
    #[serde(default)]
    pub cloud_ca_file: Option<PathBuf>,
    /// Local socket of the administration API (root-only).
    #[serde(default = "default_admin_socket")]
    pub admin_socket: PathBuf,
    /// Name reported to the cloud; defaults to the host name.
    #[serde(default)]
    pub appliance_name: Option<String>,
    /// Caller authentication: `kerberos` (HTTP Negotiate; the default), `none` (refuse all)
    /// or, in test builds only, `test-header`.
    #[serde(default = "default_identity")]
    pub identity: String,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[serde(default = "default_grace")]
    pub shutdown_grace_secs: u64,
    /// Milliseconds between reporting not-ready and closing the listeners, so load balancers
    /// notice before connections are refused.
    #[serde(default = "default_drain_delay")]
    pub drain_delay_ms: u64,
    #[serde(default)]
    pub callers: CallerConfig,
    #[serde(default)]
    pub cloud: CloudConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    #[serde(default)]
    pub ops: OpsConfig,
    #[serde(default)]
    pub kerberos: KerberosConfig,
    #[serde(default)]
    pub admin: AdminWebConfig,
    #[serde(default)]
    pub directory: DirectoryConfig,
    #[serde(default)]
    pub system: SystemConfig,
}

/// How system actions (network, reboot, shutdown, factory reset) reach the operating system.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SystemConfig {
    /// The privileged system helper's socket (`rmsconnector system-helper`); absent, the
    /// actions are only recorded (development hosts).
    pub helper_socket: Option<PathBuf>,
}

/// The directory (Active Directory over LDAP) the admin UI searches for accounts and groups.
/// The admin API can override the URLs (Settings, Directory).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// `ldap://dc1.contoso.com` URLs of domain controllers, tried in order; empty turns
    /// directory search off until an administrator sets them.
    pub ldap_urls: Vec<String>,
}

/// The admin web listener (HTTPS, the browser UI and its API). Never on the caller ports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminWebConfig {
    /// Listen addresses; empty turns the web UI off (the local socket remains).
    pub listen: Vec<SocketAddr>,
}

impl Default for AdminWebConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 8443))],
        }
    }
}

/// The Kerberos acceptor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KerberosConfig {
    /// Where the replay cache and the directory browser's keytab live while the daemon runs,
    /// and where the acceptor's keytab passes while its keys are copied into memory; a tmpfs
    /// on the appliance (`/run/...`). Default: `run/` under the data directory.
    pub runtime_dir: Option<PathBuf>,
    /// Workers allowed to accept Kerberos tokens at once.
    pub max_concurrent: usize,
}

impl Default for KerberosConfig {
    fn default() -> Self {
        Self {
            runtime_dir: None,
            max_concurrent: 16,
        }
    }
}

impl Config {
    /// The Kerberos runtime directory, defaulted.
    pub fn kerberos_runtime_dir(&self) -> PathBuf {
        self.kerberos
            .runtime_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("run"))
    }
}

/// The caller listeners and their limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallerConfig {
    /// Plain HTTP listen addresses (the original's port 80).
    pub http: Vec<SocketAddr>,
    /// HTTPS listen addresses (port 443).
    pub https: Vec<SocketAddr>,
    /// Certificate chain and key (PEM) for HTTPS; without them a self-signed certificate for
    /// the connector name is made and kept in the store.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub max_body_bytes: usize,
    pub body_memory_budget: usize,
    pub header_read_timeout_secs: u64,
    pub body_idle_timeout_secs: u64,
    /// Idle time after which a keep-alive caller connection is closed.
    pub keep_alive_idle_secs: u64,
}

impl Default for CallerConfig {
    fn default() -> Self {
        let limits = rmsc_relay::RelayLimits::default();
        Self {
            http: vec![SocketAddr::from(([0, 0, 0, 0], 80))],
            https: vec![SocketAddr::from(([0, 0, 0, 0], 443))],
            tls_cert_file: None,
            tls_key_file: None,
            max_connections: limits.max_connections,
            max_header_bytes: limits.max_header_bytes,
            max_body_bytes: limits.max_body_bytes,
            body_memory_budget: limits.body_memory_budget,
            header_read_timeout_secs: limits.header_read_timeout.as_secs(),
            body_idle_timeout_secs: limits.body_idle_timeout.as_secs(),
            keep_alive_idle_secs: limits.keep_alive_idle_timeout.as_secs(),
        }
    }
}

/// Timeouts of calls to the cloud.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudConfig {
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
    pub body_idle_timeout_ms: u64,
    pub retry_after_secs: u32,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
            response_timeout_ms: 30_000,
            body_idle_timeout_ms: 30_000,
            retry_after_secs: 5,
        }
    }
}

/// The authorized-list sync.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    pub long_poll_secs: u64,
    pub max_staleness_secs: u64,
    pub heartbeat_secs: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            long_poll_secs: 20,
            max_staleness_secs: 45,
            heartbeat_secs: 30,
        }
    }
}

/// The operations listener: `/metrics`, `/healthz`, `/readyz` (keep it on a management network).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    pub listen: Option<SocketAddr>,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

fn default_admin_socket() -> PathBuf {
    PathBuf::from("/run/rmsc/admin.sock")
}
fn default_identity() -> String {
    "kerberos".to_owned()
}
fn default_grace() -> u64 {
    20
}
fn default_drain_delay() -> u64 {
    2_000
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Parses and validates configuration text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: PathBuf::from("<config>"),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: ranges and combinations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.cloud_url.scheme(), "https") {
            return Err(invalid("cloud_url", "must be an https:// URL"));
        }
        if self.callers.http.is_empty() && self.callers.https.is_empty() {
            return Err(invalid(
                "callers",
                "at least one HTTP or HTTPS listen address is needed",
            ));
        }
        if self.callers.tls_cert_file.is_some() != self.callers.tls_key_file.is_some() {
            return Err(invalid(
                "callers.tls_cert_file",
                "give both tls_cert_file and tls_key_file, or neither",
            ));
        }
        let c = &self.callers;
        if c.max_connections == 0 || c.max_connections > 1_000_000 {
            return Err(invalid(
                "callers.max_connections",
                "must be between 1 and 1000000",
            ));
        }
        if !(8 * 1024..=1024 * 1024).contains(&c.max_header_bytes) {
            return Err(invalid(
                "callers.max_header_bytes",
                "must be between 8 KiB and 1 MiB",
            ));
        }
        if !(64 * 1024..=64 * 1024 * 1024).contains(&c.max_body_bytes) {
            return Err(invalid(
                "callers.max_body_bytes",
                "must be between 64 KiB and 64 MiB",
            ));
        }
        if c.body_memory_budget < c.max_body_bytes {
            return Err(invalid(
                "callers.body_memory_budget",
                "must be at least max_body_bytes",
            ));
        }
        if c.header_read_timeout_secs == 0
            || c.body_idle_timeout_secs == 0
            || c.keep_alive_idle_secs == 0
        {
            return Err(invalid("callers", "timeouts must be at least 1 second"));
        }
        if self.cloud.connect_timeout_ms == 0
            || self.cloud.response_timeout_ms == 0
            || self.cloud.body_idle_timeout_ms == 0
        {
            return Err(invalid("cloud", "timeouts must be positive"));
        }
        if self.sync.long_poll_secs == 0
            || self.sync.long_poll_secs > rmsc_contract::MAX_LONG_POLL_SECS
        {
            return Err(invalid(
                "sync.long_poll_secs",
                format!(
                    "must be between 1 and {}",
                    rmsc_contract::MAX_LONG_POLL_SECS
                ),
            ));
        }
        if self.sync.max_staleness_secs <= self.sync.long_poll_secs {
            return Err(invalid(
                "sync.max_staleness_secs",
                "must be longer than long_poll_secs",
            ));
        }
        match self.identity.as_str() {
            "none" | "kerberos" => {}
            "test-header" if rmsc_identity::test_header_source().is_some() => {}
            "test-header" => {
                return Err(invalid(
                    "identity",
                    "test-header exists only in test builds",
                ))
            }
            other => return Err(invalid("identity", format!("unknown mechanism {other:?}"))),
        }
        for admin in &self.admin.listen {
            let clash = self
                .callers
                .http
                .iter()
                .chain(&self.callers.https)
                .any(|c| c.port() == admin.port() && admin.port() != 0);
            if clash {
                return Err(invalid(
                    "admin.listen",
                    format!(
                        "port {} is a caller port; the admin UI needs its own",
                        admin.port()
                    ),
                ));
            }
        }
        if let Some(bad) = self
            .directory
            .ldap_urls
            .iter()
            .find(|u| u.strip_prefix("ldap://").is_none_or(str::is_empty))
        {
            return Err(invalid(
                "directory.ldap_urls",
                format!("{bad:?} is not an ldap://<domain controller> URL"),
            ));
        }
        if let Some(socket) = &self.system.helper_socket {
            // sun_path holds 108 bytes including the terminating NUL.
            if !socket.is_absolute() || socket.as_os_str().len() > 107 {
                return Err(invalid(
                    "system.helper_socket",
                    "must be an absolute path of at most 107 bytes",
                ));
            }
        }
        if !(1..=1024).contains(&self.kerberos.max_concurrent) {
            return Err(invalid(
                "kerberos.max_concurrent",
                "must be between 1 and 1024",
            ));
        }
        Ok(())
    }

    pub fn relay_limits(&self) -> rmsc_relay::RelayLimits {
        let c = &self.callers;
        rmsc_relay::RelayLimits {
            max_connections: c.max_connections,
            max_header_bytes: c.max_header_bytes,
            max_body_bytes: c.max_body_bytes,
            body_memory_budget: c.body_memory_budget,
            header_read_timeout: Duration::from_secs(c.header_read_timeout_secs),
            body_idle_timeout: Duration::from_secs(c.body_idle_timeout_secs),
            keep_alive_idle_timeout: Duration::from_secs(c.keep_alive_idle_secs),
            retry_after_secs: self.cloud.retry_after_secs,
            ..rmsc_relay::RelayLimits::default()
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

#[cfg(test)]
mod system_tests {
    use super::*;

    const MINIMAL: &str = "data_dir = \"/tmp/x\"\ncloud_url = \"https://127.0.0.1:1\"\n";

    #[test]
    fn the_system_helper_socket_is_optional_and_checked() {
        let none = Config::from_toml(MINIMAL).expect("valid");
        assert!(none.system.helper_socket.is_none());
        let set = Config::from_toml(&format!(
            "{MINIMAL}[system]\nhelper_socket = \"/run/rmsc-system/system.sock\"\n"
        ))
        .expect("valid");
        assert_eq!(
            set.system.helper_socket.as_deref(),
            Some(std::path::Path::new("/run/rmsc-system/system.sock"))
        );
        for bad in ["\"system.sock\"", &format!("\"/{}\"", "x".repeat(120))] {
            let error = Config::from_toml(&format!("{MINIMAL}[system]\nhelper_socket = {bad}\n"))
                .expect_err(bad)
                .to_string();
            assert!(error.contains("system.helper_socket"), "{error}");
        }
    }
}
